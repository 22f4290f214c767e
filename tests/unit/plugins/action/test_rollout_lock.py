# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""rollout_lock (controller side): who this run is, which holders died here, the wait and its message."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from unittest import mock

import pytest

from ansible.errors import AnsibleActionFail
from ansible.playbook.task import Task

from ansible_collections.mcpops.alipay_mcp.plugins.action import rollout_lock


def test_this_run_is_the_parent_process():
    run = rollout_lock.this_run()
    assert run['pid'] == os.getppid()
    assert run['run_id'] == '%s:%d:%s' % (socket.gethostname(), os.getppid(), rollout_lock.process_start(os.getppid()))


def test_a_holder_whose_process_ended_here_died():
    child = subprocess.Popen([sys.executable, '-c', 'pass'])
    start = rollout_lock.process_start(child.pid)
    child.wait()
    holder = {'controller': socket.gethostname(), 'pid': child.pid, 'run_id': 'x:%d:%s' % (child.pid, start)}
    assert rollout_lock.died_here(holder)


def test_a_live_holder_here_did_not_die():
    holder = {'controller': socket.gethostname(), 'pid': os.getpid(),
              'run_id': 'x:%d:%s' % (os.getpid(), rollout_lock.process_start(os.getpid()))}
    assert not rollout_lock.died_here(holder)


def test_a_reused_pid_is_a_dead_holder():
    holder = {'controller': socket.gethostname(), 'pid': os.getpid(), 'run_id': 'x:%d:1' % os.getpid()}
    assert rollout_lock.died_here(holder)


def test_a_holder_on_another_controller_is_never_judged_here():
    assert not rollout_lock.died_here({'controller': 'elsewhere.example', 'pid': 1, 'run_id': 'elsewhere:1:1'})


def make_action(args):
    task = Task()
    task.args = args
    action = rollout_lock.ActionModule(task, mock.MagicMock(), mock.MagicMock(), loader=None, templar=None,
                                       shared_loader_obj=None)
    return action


def test_waits_then_fails_naming_the_holder():
    holder = {'run_id': 'ctl:4242:9', 'controller': 'other-controller', 'pid': 4242, 'user': 'ops',
              'play': 'Roll out in batches', 'started': 1798000000}
    action = make_action({'wait': 2, 'poll': 1})
    answers = iter([{'acquired': False, 'held_by': holder}] * 10)
    with mock.patch.object(action, '_execute_module', side_effect=lambda **kw: dict(next(answers))), \
            mock.patch.object(rollout_lock.time, 'sleep'), \
            mock.patch.object(rollout_lock.time, 'time', side_effect=[0, 0, 1, 1, 2, 2, 3, 3]):
        result = action.run(task_vars={'inventory_hostname': 'gw-1', 'ansible_play_name': 'Roll out'})
    assert result['failed']
    for part in ('gw-1 is being changed by another rollout', 'ctl:4242:9', 'Roll out in batches', 'ops@other-controller',
                 'Waited 2 s', '/run/mcpops-alipay-mcp.lock'):
        assert part in result['msg']


def test_breaks_a_holder_that_died_here_at_once():
    dead = {'run_id': 'ctl:1:1', 'controller': socket.gethostname(), 'pid': 1, 'started': 1}
    action = make_action({'wait': 0})
    calls = []

    def answer(**kwargs):
        calls.append(dict(kwargs['module_args']))
        if kwargs['module_args'].get('break_run') == dead['run_id']:
            return {'acquired': True, 'broken': dead}
        return {'acquired': False, 'held_by': dead}

    with mock.patch.object(rollout_lock, 'died_here', return_value=True), \
            mock.patch.object(action, '_execute_module', side_effect=answer):
        result = action.run(task_vars={'inventory_hostname': 'gw-1'})
    assert result['acquired'] and result['broken'] == dead and len(calls) == 2


def test_refuses_a_wait_that_is_not_a_number():
    with pytest.raises(AnsibleActionFail):
        make_action({'wait': 'soon'}).run(task_vars={})
