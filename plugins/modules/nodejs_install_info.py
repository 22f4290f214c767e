#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: nodejs_install_info
short_description: What the nodejs role needs to know about a host's Node.js, in one round trip
version_added: 0.3.0
author:
  - mcpops maintainers (@mcpops)
description:
  - Reports the host's architecture and its Node.js distribution name, whether the pinned version is
    completely installed (its C(.mcpops-installed) marker), where the C(current) link points, and, when the
    link points at the pinned version, what its C(node --version) says.
  - On a host that already runs the pinned version, this one call is all the role does before it is done.
  - Reads only.
options:
  install_dir:
    description: Directory holding the versioned Node.js directories and the C(current) link.
    type: path
    required: true
  version:
    description: The pinned Node.js version, without the leading C(v).
    type: str
    required: true
  arch_map:
    description: Machine names (C(uname -m)) mapped to Node.js distribution names.
    type: dict
    default: {x86_64: x64, amd64: x64, aarch64: arm64, arm64: arm64}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
'''

EXAMPLES = r'''
- name: Look at the installed Node.js
  mcpops.alipay_mcp.nodejs_install_info:
    install_dir: /opt/mcpops/node
    version: 24.21.0
  register: node_info
'''

RETURN = r'''
machine:
  description: The machine name (C(uname -m)).
  returned: always
  type: str
  sample: x86_64
arch:
  description: The Node.js distribution name for it, empty when Node.js ships none.
  returned: always
  type: str
  sample: x64
version_dir:
  description: Directory of the pinned version.
  returned: always
  type: str
  sample: /opt/mcpops/node/node-v24.21.0-linux-x64
marker:
  description: Whether the pinned version is completely installed.
  returned: always
  type: bool
link:
  description: Target of the C(current) link, or null.
  returned: always
  type: str
node_version:
  description: What C(current/bin/node --version) says when the link points at the pinned version, else null.
  returned: always
  type: str
  sample: v24.21.0
'''

import os

from ansible.module_utils.basic import AnsibleModule


def survey(module, install_dir, version, arch_map):
    machine = os.uname()[4]
    arch = arch_map.get(machine, '')
    version_dir = '%s/node-v%s-linux-%s' % (install_dir, version, arch)
    current = install_dir + '/current'
    out = dict(machine=machine, arch=arch, version_dir=version_dir,
               marker=os.path.exists(version_dir + '/.mcpops-installed') if arch else False,
               link=os.readlink(current) if os.path.islink(current) else None, node_version=None)
    if out['marker'] and out['link'] == version_dir:
        node = current + '/bin/node'
        if not os.access(node, os.X_OK):
            out['node_version'] = 'not runnable (%s is missing or not executable)' % node
            return out
        rc, stdout, stderr = module.run_command([node, '--version'])
        out['node_version'] = stdout.strip() if rc == 0 else 'not runnable (%s)' % (stderr.strip() or 'exit %d' % rc)
    return out


def main():
    module = AnsibleModule(
        argument_spec=dict(
            install_dir=dict(type='path', required=True),
            version=dict(type='str', required=True),
            arch_map=dict(type='dict', default=dict(x86_64='x64', amd64='x64', aarch64='arm64', arm64='arm64')),
        ),
        supports_check_mode=True,
    )
    params = module.params
    module.exit_json(changed=False, **survey(module, params['install_dir'].rstrip('/'), params['version'],
                                             params['arch_map']))


if __name__ == '__main__':
    main()
