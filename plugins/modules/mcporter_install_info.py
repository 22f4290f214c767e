#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: mcporter_install_info
short_description: What the mcporter role needs to know about a host's mcporter, in one round trip
version_added: 0.3.0
author:
  - mcpops maintainers (@mcpops)
description:
  - Reports whether the pinned Node.js is there, which mcporter version is installed, whether the C(mcporter)
    command is exactly the expected one (content, root ownership, mode C(0755), not a link), whether the
    C(acl) package is installed, and, when all of that is in place, what C(mcporter --version) says when run
    as the service user.
  - On a host where mcporter is current, this one call is all the role does before it is done.
  - Reads only.
options:
  node:
    description: Path of the pinned C(node).
    type: path
    required: true
  package_json:
    description: Path of the installed mcporter's C(package.json).
    type: path
    required: true
  wrapper:
    description: Path of the C(mcporter) command the role writes.
    type: path
    required: true
  wrapper_content:
    description: The content that command must have.
    type: str
    required: true
  version:
    description: The pinned mcporter version.
    type: str
    required: true
  user:
    description: The service user that runs mcporter.
    type: str
    required: true
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
requirements:
  - C(runuser) (util-linux) and C(dpkg-query) on the host.
'''

EXAMPLES = r'''
- name: Look at the installed mcporter
  mcpops.alipay_mcp.mcporter_install_info:
    node: /opt/mcpops/node/current/bin/node
    package_json: /opt/mcpops/mcporter/node_modules/mcporter/package.json
    wrapper: /usr/local/bin/mcporter
    wrapper_content: "{{ lookup('ansible.builtin.template', 'mcporter.sh.j2') }}"
    version: 0.12.3
    user: openclaw
  register: mcporter_info
'''

RETURN = r'''
node:
  description: Whether the pinned node is executable.
  returned: always
  type: bool
installed_version:
  description: Version of the installed mcporter package, empty when none.
  returned: always
  type: str
  sample: 0.12.3
wrapper_ok:
  description: Whether the mcporter command is exactly the expected one.
  returned: always
  type: bool
acl:
  description: Whether the acl package is installed.
  returned: always
  type: bool
version_out:
  description: What C(mcporter --version) printed as the service user, or null when it was not run.
  returned: always
  type: str
version_err:
  description: The end of its error output (or why it could not run) when it failed, else empty.
  returned: always
  type: str
'''

import json
import os
import pwd

from ansible.module_utils.basic import AnsibleModule


def wrapper_is(path, content):
    try:
        st = os.lstat(path)
        with open(path) as handle:
            text = handle.read()
    except (IOError, OSError, UnicodeDecodeError):
        return False
    return (not os.path.islink(path) and text == content and st.st_uid == 0 and st.st_gid == 0
            and (st.st_mode & 0o7777) == 0o755)


def installed_version(package_json):
    try:
        with open(package_json) as handle:
            return str(json.load(handle).get('version', ''))
    except (IOError, OSError, ValueError):
        return ''


def package_installed(module, name):
    rc, stdout, _stderr = module.run_command(['dpkg-query', '-W', '-f', '${db:Status-Abbrev}', name])
    return rc == 0 and stdout.startswith('ii')


def survey(module, p):
    out = dict(node=os.access(p['node'], os.X_OK), installed_version=installed_version(p['package_json']),
               wrapper_ok=wrapper_is(p['wrapper'], p['wrapper_content']), acl=package_installed(module, 'acl'),
               version_out=None, version_err='')
    if out['node'] and out['wrapper_ok'] and out['installed_version'] == p['version']:
        try:
            home = pwd.getpwnam(p['user']).pw_dir
        except KeyError:
            out['version_err'] = 'the user %s does not exist' % p['user']
            return out
        rc, stdout, stderr = module.run_command(['runuser', '-u', p['user'], '--', 'env', 'HOME=' + home,
                                                 p['wrapper'], '--version'], cwd='/')
        out['version_out'] = stdout.strip()
        out['version_err'] = stderr.strip()[-300:] if rc else ''
    return out


def main():
    module = AnsibleModule(
        argument_spec=dict(
            node=dict(type='path', required=True),
            package_json=dict(type='path', required=True),
            wrapper=dict(type='path', required=True),
            wrapper_content=dict(type='str', required=True),
            version=dict(type='str', required=True),
            user=dict(type='str', required=True),
        ),
        supports_check_mode=True,
    )
    module.exit_json(changed=False, **survey(module, module.params))


if __name__ == '__main__':
    main()
