#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: alipay_mcp_host_info
short_description: What the alipay_mcp role needs to know about a host before it changes it, in one round trip
version_added: 0.3.0
author:
  - mcpops maintainers (@mcpops)
description:
  - Answers in one call what would otherwise take a stat, a slurp or a command per file - the metadata of the
    files and directories the role manages, whether managed blocks are present, which packages are installed,
    where the service user's C(openclaw) is, the installed server's C(package.json), and which of the user's
    global mcporter configs hold Alipay entries - so tasks with nothing to do are skipped instead of sent to the host.
  - Reads only. Returns no content of a file that can hold a secret; of the global mcporter configs only
    whether (and which) Alipay entries they hold.
options:
  stat:
    description: Paths to report metadata of (not following links).
    type: list
    elements: path
    default: []
  contains:
    description: Files mapped to a text; reports whether each file holds its text.
    type: dict
    default: {}
  read:
    description: Files without secrets whose content is returned (null when unreadable).
    type: list
    elements: path
    default: []
  dpkg:
    description: Debian packages to report as installed or not.
    type: list
    elements: str
    default: []
  user:
    description: The service user; its primary group is reported.
    type: str
  which:
    description: A command to look up on O(path) as O(user).
    type: str
  path:
    description: The E(PATH) for O(which).
    type: str
    default: /usr/local/bin:/usr/bin:/bin
  read_json:
    description: A JSON file without secrets (the installed server's C(package.json)) to return parsed.
    type: path
  names:
    description: Names of the Alipay entries, looked for in O(global_configs).
    type: list
    elements: str
    default: []
  global_configs:
    description: The service user's global mcporter configs, which every agent sees.
    type: list
    elements: path
    default: []
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: debian
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
requirements:
  - C(runuser) (util-linux) and C(dpkg-query) on the host.
'''

EXAMPLES = r'''
- name: Look at the host
  mcpops.alipay_mcp.alipay_mcp_host_info:
    user: openclaw
    which: openclaw
    path: /home/openclaw/.npm-global/bin:/usr/local/bin:/usr/bin:/bin
    stat: [/home/openclaw/.config/systemd/user/openclaw-gateway.service]
    dpkg: [acl, logrotate]
    names: [alipay]
    global_configs: [/home/openclaw/.mcporter/mcporter.json]
  register: host_info
'''

RETURN = r'''
stat:
  description: Per path of O(stat), C(exists), C(isdir), C(islnk), C(uid), C(gid) and C(mode) (four octal digits).
  returned: always
  type: dict
contains:
  description: Per file of O(contains), whether it holds the text.
  returned: always
  type: dict
read:
  description: Per file of O(read), its content or null.
  returned: always
  type: dict
dpkg:
  description: Per package of O(dpkg), whether it is installed.
  returned: always
  type: dict
which:
  description: Where O(which) was found for O(user), empty when not found.
  returned: always
  type: str
group:
  description: Name of the primary group of O(user), empty without O(user) or when the user does not exist.
  returned: always
  type: str
json:
  description: O(read_json) parsed, or null.
  returned: always
  type: raw
global_hits:
  description: The global configs that hold an Alipay entry, each with C(path) and the entry C(names) found.
  returned: always
  type: list
  elements: dict
'''

import grp
import json
import os
import pwd
import re

from ansible.module_utils.basic import AnsibleModule

ALIPAY_MARKERS = re.compile('mcp-server-alipay|AP_APP_KEY|AP_PUB_KEY|AP_APP_ID')


def stat_of(path):
    try:
        st = os.lstat(path)
    except OSError:
        return dict(exists=False, isdir=False, islnk=False, uid=-1, gid=-1, mode='')
    return dict(exists=True, isdir=os.path.isdir(path), islnk=os.path.islink(path), uid=st.st_uid, gid=st.st_gid,
                mode='%04o' % (st.st_mode & 0o7777))


def read_text(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read().decode('utf-8')
    except (IOError, OSError, UnicodeDecodeError):
        return None


def installed_packages(module, names):
    if not names:
        return {}
    _rc, stdout, _stderr = module.run_command(['dpkg-query', '-W', '-f', '${db:Status-Abbrev} ${Package}\\n'] + names)
    installed = set(line.split()[-1] for line in stdout.splitlines() if line.startswith('ii '))
    return dict((name, name in installed) for name in names)


def global_hits(paths, names):
    hits = []
    for path in paths:
        text = read_text(path)
        if text is None:
            continue
        keys = set(re.findall(r'"([^"]+)"\s*:', text))
        found = [n for n in names if n in keys]
        if found or ALIPAY_MARKERS.search(text):
            hits.append(dict(path=path, names=found))
    return hits


def survey(module, p):
    contains = {}
    for path, text in p['contains'].items():
        content = read_text(path)
        contains[path] = content is not None and text in content
    out = dict(stat=dict((path, stat_of(path)) for path in p['stat']), contains=contains,
               read=dict((path, read_text(path)) for path in p['read']),
               dpkg=installed_packages(module, p['dpkg']), which='', group='', json=None,
               global_hits=global_hits(p['global_configs'], p['names']))
    if p['user']:
        try:
            entry = pwd.getpwnam(p['user'])
        except KeyError:
            entry = None
        if entry is not None:
            try:
                out['group'] = grp.getgrgid(entry.pw_gid).gr_name
            except KeyError:
                out['group'] = str(entry.pw_gid)
            if p['which']:
                _rc, stdout, _stderr = module.run_command(
                    ['runuser', '-u', p['user'], '--', 'env', 'HOME=' + entry.pw_dir, 'PATH=' + p['path'],
                     'sh', '-c', 'command -v "$1" || true', 'sh', p['which']], cwd='/')
                out['which'] = stdout.strip()
    if p['read_json']:
        text = read_text(p['read_json'])
        try:
            out['json'] = json.loads(text) if text is not None else None
        except ValueError:
            out['json'] = None
    return out


def main():
    module = AnsibleModule(
        argument_spec=dict(
            stat=dict(type='list', elements='path', default=[]),
            contains=dict(type='dict', default={}),
            read=dict(type='list', elements='path', default=[]),
            dpkg=dict(type='list', elements='str', default=[]),
            user=dict(type='str'),
            which=dict(type='str'),
            path=dict(type='str', default='/usr/local/bin:/usr/bin:/bin'),
            read_json=dict(type='path'),
            names=dict(type='list', elements='str', default=[]),
            global_configs=dict(type='list', elements='path', default=[]),
        ),
        supports_check_mode=True,
    )
    module.exit_json(changed=False, **survey(module, module.params))


if __name__ == '__main__':
    main()
