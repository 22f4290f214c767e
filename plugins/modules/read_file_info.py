#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: read_file_info
short_description: A file's content and metadata in one round trip
version_added: 0.3.0
author:
  - mcpops maintainers (@mcpops)
description:
  - Returns whether a file exists, its owner, group and mode, and its content in base64, or the error that
    kept it from being read, which M(ansible.builtin.stat) and M(ansible.builtin.slurp) return in two calls.
  - The content may hold secrets (an C(openclaw.json) holds provider keys); use C(no_log) on the task.
  - Reads only.
options:
  path:
    description: The file to read.
    type: path
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
seealso:
  - module: ansible.builtin.slurp
  - module: ansible.builtin.stat
'''

EXAMPLES = r'''
- name: Read openclaw.json
  mcpops.alipay_mcp.read_file_info:
    path: /home/openclaw/.openclaw/openclaw.json
  register: openclaw_json
  no_log: true
'''

RETURN = r'''
exists:
  description: Whether the file exists.
  returned: always
  type: bool
pw_name:
  description: Owner name (or uid when it has no name).
  returned: always
  type: str
gr_name:
  description: Group name (or gid when it has no name).
  returned: always
  type: str
mode:
  description: Mode as four octal digits, empty when the file does not exist.
  returned: always
  type: str
  sample: '0600'
content:
  description: The content in base64, or null when the file does not exist or cannot be read.
  returned: always
  type: str
error:
  description: Why an existing file could not be read, else empty.
  returned: always
  type: str
'''

import base64
import grp
import os
import pwd

from ansible.module_utils.basic import AnsibleModule


def read(path):
    out = dict(exists=False, pw_name='', gr_name='', mode='', content=None, error='')
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno != 2:  # ENOENT: simply absent
            out['error'] = exc.strerror or str(exc)
        return out
    out['exists'] = True
    out['mode'] = '%04o' % (st.st_mode & 0o7777)
    try:
        out['pw_name'] = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        out['pw_name'] = str(st.st_uid)
    try:
        out['gr_name'] = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        out['gr_name'] = str(st.st_gid)
    try:
        with open(path, 'rb') as handle:
            out['content'] = base64.b64encode(handle.read()).decode('ascii')
    except (IOError, OSError) as exc:
        out['error'] = exc.strerror or str(exc)
    return out


def main():
    module = AnsibleModule(argument_spec=dict(path=dict(type='path', required=True)), supports_check_mode=True)
    module.exit_json(changed=False, **read(module.params['path']))


if __name__ == '__main__':
    main()
