# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only callback: injects one fault into a running ansible-playbook at a known task.

MCPOPS_FAULT_TASK    exact name of the task that triggers the fault
MCPOPS_FAULT_MODULE  optional: the task's module must end with this (an include may share a task's name)
MCPOPS_FAULT_WHEN    "start" (when the task starts) or "first-result" (after the first host's result of it)
MCPOPS_FAULT_ACTION  "sigkill" (this controller process dies at once, as under kill -9 or the OOM killer),
                     "hold:PATH" (the controller stops while PATH exists, at most 10 minutes),
                     "exec:COMMAND" (runs a shell command, for example stopping a host's container)
The fault fires once and says so on stderr.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
name: fault_injection
type: aggregate
short_description: Injects one fault at a named task (tests only)
description: See the module docstring.
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'fault_injection'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.task = os.environ.get('MCPOPS_FAULT_TASK')
        self.module = os.environ.get('MCPOPS_FAULT_MODULE', '')
        self.when = os.environ.get('MCPOPS_FAULT_WHEN', 'start')
        self.action = os.environ.get('MCPOPS_FAULT_ACTION', '')
        self.fired = False

    def _fire(self, task, moment):
        # Role tasks are named "ROLE : NAME".
        if self.fired or not self.task or moment != self.when or task.get_name().strip().split(' : ')[-1] != self.task:
            return
        if not task.action.endswith(self.module):
            return
        self.fired = True
        sys.stderr.write('FAULT INJECTED: %s at %s of "%s" (%s)\n' % (self.action, moment, task.get_name(), task.action))
        sys.stderr.flush()
        if self.action == 'sigkill':
            os.kill(os.getpid(), signal.SIGKILL)
        elif self.action.startswith('hold:'):
            flag, deadline = self.action[5:], time.time() + 600
            while os.path.exists(flag) and time.time() < deadline:
                time.sleep(0.2)
        elif self.action.startswith('exec:'):
            subprocess.run(self.action[5:], shell=True, check=False)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._fire(task, 'start')

    def _result(self, result):
        self._fire(result._task, 'first-result')

    v2_runner_on_ok = _result
    v2_runner_on_failed = _result
