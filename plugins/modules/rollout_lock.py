#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: rollout_lock
short_description: Take or release a host's rollout lock, so two rollouts never change one host at once
version_added: 0.3.0
author:
  - mcpops maintainers (@mcpops)
description:
  - The operator playbooks take this lock on each host before they change anything there and release it
    when the host is done (also after a failure), so a second rollout against the same host waits for the
    first one or fails with a message naming the run that holds the host.
  - The lock is a file created atomically (C(O_EXCL)) on the host, holding who took it (controller, process,
    play, user, time).
  - A lock left by a run that died is taken over by the next run when the run that left it was started from
    the same controller and its process is gone (checked on the controller), or when it is older than
    O(stale_after) seconds. The take-over is reported as a warning.
  - Never reports a change. The lock lives only while a run changes the host, and a rerun that changes
    nothing else must say C(changed=0).
  - The action part runs on the controller and polls the host every O(poll) seconds while another run holds
    the lock, up to O(wait) seconds.
options:
  state:
    description: V(present) takes the lock (waiting for it), V(absent) releases it if this run holds it.
    type: str
    choices: [present, absent]
    default: present
  path:
    description: The lock file on the host. C(/run) is emptied at boot, which ends every rollout too.
    type: path
    default: /run/mcpops-alipay-mcp.lock
  wait:
    description: Seconds to wait for a lock another live run holds before failing. V(0) fails at once.
    type: int
    default: 600
  poll:
    description: Seconds between two looks at a held lock.
    type: int
    default: 5
  stale_after:
    description: A lock older than this many seconds is taken over whoever holds it.
    type: int
    default: 3600
  holder:
    description:
      - Set by the action plugin (who this run is); not for playbooks.
    type: dict
  break_run:
    description:
      - Set by the action plugin; the run id of a dead holder whose lock may be removed.
    type: str
attributes:
  action:
    support: full
    description: The waiting and the check of dead holders run on the controller, in the action plugin.
  async:
    support: none
    description: The lock must be held by the run itself.
  check_mode:
    support: full
    details: The lock is taken in check mode too, so a check run never reads a host another run is changing.
  diff_mode:
    support: none
  platform:
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
'''

EXAMPLES = r'''
- name: Take the rollout lock of the host
  mcpops.alipay_mcp.rollout_lock:
    wait: 900

- name: Release it
  mcpops.alipay_mcp.rollout_lock:
    state: absent
'''

RETURN = r'''
acquired:
  description: Whether this run holds the lock now (V(state=present)).
  returned: always
  type: bool
held_by:
  description: The holder found in the lock file (controller, pid, run_id, playbook, user, started), if any.
  returned: when another run holds the lock
  type: dict
broken:
  description: The holder of a dead or stale lock that was taken over.
  returned: when a lock was taken over
  type: dict
waited:
  description: Seconds this run waited for the lock.
  returned: always
  type: float
'''

import json
import os
import time

from ansible.module_utils.basic import AnsibleModule


def read_holder(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError):
        return None
    except ValueError:
        # A lock file cut short by a crash between create and write: it has no holder to wait for.
        return {'run_id': 'unreadable', 'started': 0}


def try_create(path, holder):
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError as exc:
        if exc.errno == 17:  # EEXIST
            return False
        raise
    with os.fdopen(fd, 'w') as handle:
        json.dump(holder, handle)
    return True


def remove_if_held_by(path, run_id):
    current = read_holder(path)
    if current is not None and current.get('run_id') == run_id:
        os.unlink(path)
        return True
    return False


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            path=dict(type='path', default='/run/mcpops-alipay-mcp.lock'),
            wait=dict(type='int', default=600),
            poll=dict(type='int', default=5),
            stale_after=dict(type='int', default=3600),
            holder=dict(type='dict'),
            break_run=dict(type='str'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    path = params['path']
    holder = params['holder'] or {}
    run_id = holder.get('run_id')
    if not run_id:
        module.fail_json(msg='rollout_lock needs its action plugin (call it as mcpops.alipay_mcp.rollout_lock)')
    result = dict(changed=False, acquired=False, waited=0.0)

    if params['state'] == 'absent':
        remove_if_held_by(path, run_id)
        module.exit_json(**result)

    # One look (the controller side does the waiting): take a free lock, keep our own, break a dead or
    # stale one, or report who holds it.
    current = read_holder(path)
    if current is not None and current.get('run_id') == run_id:
        result['acquired'] = True
        module.exit_json(**result)
    if current is not None:
        age = time.time() - float(current.get('started') or 0)
        if current.get('run_id') == params['break_run'] or age > params['stale_after']:
            if remove_if_held_by(path, current.get('run_id')):
                result['broken'] = current
    holder = dict(holder, started=time.time())
    if try_create(path, holder):
        result['acquired'] = True
    else:
        result['held_by'] = read_holder(path)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
