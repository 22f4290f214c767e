# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Controller side of rollout_lock: says who this run is, waits, and recognises holders that died here."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import getpass
import os
import socket
import time

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

ARGUMENT_SPEC = dict(
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    path=dict(type='path', default='/run/mcpops-alipay-mcp.lock'),
    wait=dict(type='int', default=600),
    poll=dict(type='int', default=5),
    stale_after=dict(type='int', default=3600),
)


def process_start(pid):
    """Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or None if gone."""
    try:
        with open('/proc/%d/stat' % pid) as handle:
            stat = handle.read()
    except (IOError, OSError):
        return None
    # The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    return stat.rsplit(')', 1)[1].split()[19]


def this_run():
    """The ansible-playbook process (the parent of this forked worker) identifies the run."""
    pid = os.getppid()
    controller = socket.gethostname()
    return dict(controller=controller, pid=pid, user=getpass.getuser(),
                run_id='%s:%d:%s' % (controller, pid, process_start(pid)))


def died_here(holder):
    """Whether the holder ran on this controller and its process is gone."""
    if holder.get('controller') != socket.gethostname():
        return False
    try:
        pid = int(holder.get('pid'))
    except (TypeError, ValueError):
        return False
    return process_start(pid) is None or holder.get('run_id', '').rsplit(':', 1)[-1] != process_start(pid)


def describe(holder):
    started = holder.get('started')
    when = time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(float(started))) if started else 'at an unknown time'
    return 'run %s (play "%s") started %s by %s@%s' % (
        holder.get('run_id', '?'), holder.get('play', '?'), when, holder.get('user', '?'), holder.get('controller', '?'))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        validation = ArgumentSpecValidator(ARGUMENT_SPEC).validate(self._task.args)
        if validation.error_messages:
            raise AnsibleActionFail('rollout_lock: %s' % '; '.join(validation.error_messages))
        args = validation.validated_parameters
        args['holder'] = dict(this_run(), play=task_vars.get('ansible_play_name', ''))
        host = task_vars.get('inventory_hostname', '?')
        start = time.time()
        broken = []
        while True:
            answer = self._execute_module(module_name='mcpops.alipay_mcp.rollout_lock', module_args=args,
                                          task_vars=task_vars)
            if answer.get('broken'):
                broken.append(answer['broken'])
            held_by = answer.get('held_by')
            if answer.get('failed') or args['state'] == 'absent' or answer.get('acquired') or held_by is None:
                break
            if died_here(held_by) and args.get('break_run') != held_by.get('run_id'):
                args['break_run'] = held_by.get('run_id')
                continue
            if time.time() - start >= args['wait']:
                answer.update(failed=True, msg=(
                    '%s is being changed by another rollout: %s. Waited %d s for it. Let that run finish, then run '
                    'again. If it is dead (killed on another controller), remove %s on %s; a lock older than %d s is '
                    'taken over by the next run.' % (host, describe(held_by), args['wait'], args['path'], host,
                                                     args['stale_after'])))
                break
            time.sleep(max(1, args['poll']))
        self._remove_tmp_path(self._connection._shell.tmpdir)
        result.update(answer)
        result['waited'] = round(time.time() - start, 1)
        if broken:
            result['broken'] = broken[-1]
            self._display.warning('%s: took over the rollout lock left by %s, which is dead or stale.'
                                  % (host, describe(broken[-1])))
        return result
