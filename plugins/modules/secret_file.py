#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: secret_file
short_description: Write a file holding secrets atomically, owner-only, keeping one previous version
version_added: 0.3.0
author:
  - mcpops maintainers (@mcpops)
description:
  - Writes O(content) to O(path) the way a file holding payment keys must be written. The content travels
    only as a module argument (with pipelining, over the SSH channel; never through a temporary file on the
    controller or in a remote temporary directory, as M(ansible.builtin.copy) with C(content) does).
  - The new version is written to a temporary file in the destination directory, created with mode C(0600)
    before any byte is written, synced, given its owner and mode, and renamed over O(path). A reader, or a
    controller killed at any moment, sees the old file or the new one, never a mix.
  - With O(previous), the version being replaced is first kept as C(<path>.previous) (the same way, atomic),
    so a rollback can restore it. Exactly one previous version is kept.
  - Leftover temporary files of an earlier write that was killed (C(.<name>.*.tmp) next to O(path)) are removed.
  - Never returns or logs the content; C(--diff) shows no content either.
options:
  path:
    description: Absolute path of the file. Its directory must exist.
    type: path
    required: true
  content:
    description: The whole new content of the file.
    type: str
    required: true
  owner:
    description: Owner of the file (and of the previous version), a name or a uid.
    type: str
  group:
    description: Group of the file (and of the previous version), a name or a gid.
    type: str
  mode:
    description: Mode of the file and of the previous version. Anything readable by others is refused.
    type: str
    default: '0600'
  previous:
    description:
      - Keep the version being replaced as C(<path>.previous) when the content changes and O(path) existed.
      - With V(false), an existing C(<path>.previous) is left as it is.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
    details: A diff would show secrets; the result says whether the content changed, never what it is.
  platform:
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
notes:
  - The role C(mcpops.alipay_mcp.alipay_mcp) writes C(mcporter.json) and its env file with this module and
    protects each host with a rollout lock, so no two runs write the same file at once.
seealso:
  - module: ansible.builtin.copy
'''

EXAMPLES = r'''
- name: Write the mcporter config holding the Alipay keys
  mcpops.alipay_mcp.secret_file:
    path: /home/openclaw/.openclaw/workspace/config/mcporter.json
    content: "{{ mcporter_config_text }}"
    owner: openclaw
    group: openclaw
    mode: '0600'
    previous: true
  no_log: true
'''

RETURN = r'''
path:
  description: The file written.
  returned: always
  type: str
  sample: /home/openclaw/.openclaw/workspace/config/mcporter.json
created:
  description: Whether the file did not exist before.
  returned: always
  type: bool
content_changed:
  description: Whether the content differs from the file's (owner or mode changes alone leave it V(false)).
  returned: always
  type: bool
previous_written:
  description: Whether C(<path>.previous) was written (would be, in check mode).
  returned: always
  type: bool
stale_temporary_files_removed:
  description: Leftover temporary files of a killed earlier write that were removed (would be, in check mode).
  returned: always
  type: list
  elements: str
'''

import glob
import grp
import os
import pwd
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes


def resolve_id(value, kind):
    """uid/gid of a name or a number; None when value is None."""
    if value is None:
        return None
    if str(value).isdigit():
        return int(value)
    try:
        return pwd.getpwnam(value).pw_uid if kind == 'owner' else grp.getgrnam(value).gr_gid
    except KeyError:
        raise ValueError('%s %s does not exist on this host' % (kind, value))


def temp_prefix(path):
    return '.%s.' % os.path.basename(path)


def stale_temporaries(path):
    pattern = os.path.join(os.path.dirname(path), glob.escape(temp_prefix(path)) + '*.tmp')
    return sorted(glob.glob(pattern))


def write_atomically(path, data, uid, gid, mode):
    """Writes data to a 0600 temporary file beside path, then renames it over path."""
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=temp_prefix(path), suffix='.tmp')
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chown(tmp, -1 if uid is None else uid, -1 if gid is None else gid)
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def attributes_differ(path, uid, gid, mode):
    st = os.stat(path)
    return ((uid is not None and st.st_uid != uid) or (gid is not None and st.st_gid != gid)
            or stat.S_IMODE(st.st_mode) != mode)


def run(module):
    params = module.params
    path = params['path']
    result = dict(changed=False, path=path, created=False, content_changed=False, previous_written=False,
                  stale_temporary_files_removed=[])
    try:
        mode = int(params['mode'], 8)
    except ValueError:
        module.fail_json(msg='mode %s is not an octal mode such as 0600' % params['mode'], **result)
    if mode & 0o007:
        module.fail_json(msg='mode %s lets every user read or write %s; use 0600 or 0640' % (params['mode'], path),
                         **result)
    if not os.path.isabs(path):
        module.fail_json(msg='path %s is not absolute' % path, **result)
    if not os.path.isdir(os.path.dirname(path)):
        if module.check_mode:
            # An earlier task would create the directory; the file would be new.
            result.update(changed=True, created=True, content_changed=True)
            module.exit_json(**result)
        module.fail_json(msg='the directory of %s does not exist' % path, **result)
    try:
        uid = resolve_id(params['owner'], 'owner')
        gid = resolve_id(params['group'], 'group')
    except ValueError as exc:
        module.fail_json(msg=str(exc), **result)

    new = to_bytes(params['content'], errors='surrogate_or_strict')
    old = None
    if os.path.lexists(path):
        if not os.path.isfile(path) or os.path.islink(path):
            module.fail_json(msg='%s exists and is not a regular file; move it away first' % path, **result)
        with open(path, 'rb') as handle:
            old = handle.read()

    result['created'] = old is None
    result['content_changed'] = old != new
    result['previous_written'] = bool(params['previous'] and old is not None and old != new)
    stale = stale_temporaries(path)
    result['stale_temporary_files_removed'] = stale
    if old is None:
        changed = True
    else:
        changed = result['content_changed'] or bool(stale) or attributes_differ(path, uid, gid, mode)
    result['changed'] = changed
    if module.check_mode or not changed:
        module.exit_json(**result)

    for leftover in stale:
        os.unlink(leftover)
    if result['previous_written']:
        write_atomically(path + '.previous', old, uid, gid, mode)
    if result['content_changed']:
        write_atomically(path, new, uid, gid, mode)
    else:
        os.chown(path, -1 if uid is None else uid, -1 if gid is None else gid)
        os.chmod(path, mode)
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            content=dict(type='str', required=True, no_log=True),
            owner=dict(type='str'),
            group=dict(type='str'),
            mode=dict(type='str', default='0600'),
            previous=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    try:
        run(module)
    except OSError as exc:
        # The message names the file and the OS error only; the content is never part of it.
        module.fail_json(msg='could not write %s: %s' % (module.params['path'], exc.strerror or exc))


if __name__ == '__main__':
    main()
