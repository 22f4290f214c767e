# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""rollout_lock (host side) through AnsibleModule on a real temporary directory."""

from __future__ import annotations

import json
import os
import time

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.mcpops.alipay_mcp.plugins.modules import rollout_lock

ME = {'run_id': 'ctl:100:5', 'controller': 'ctl', 'pid': 100, 'user': 'ops', 'play': 'Roll out'}
OTHER = {'run_id': 'ctl:200:7', 'controller': 'ctl', 'pid': 200, 'user': 'ops', 'play': 'Roll out'}


def run(capsys, **params):
    with patch_module_args(params), pytest.raises(SystemExit):
        rollout_lock.main()
    return json.loads(capsys.readouterr().out)


def holder_of(path):
    with open(path) as handle:
        return json.load(handle)


def test_takes_a_free_lock_owner_only_and_reports_no_change(tmp_path, capsys):
    lock = str(tmp_path / 'lock')
    result = run(capsys, path=lock, holder=ME)
    assert result['acquired'] and not result['changed']
    assert holder_of(lock)['run_id'] == ME['run_id'] and holder_of(lock)['started'] > 0
    assert os.stat(lock).st_mode & 0o777 == 0o600


def test_keeps_its_own_lock(tmp_path, capsys):
    lock = str(tmp_path / 'lock')
    run(capsys, path=lock, holder=ME)
    assert run(capsys, path=lock, holder=ME)['acquired']


def test_reports_a_live_holder_without_touching_it(tmp_path, capsys):
    lock = str(tmp_path / 'lock')
    run(capsys, path=lock, holder=OTHER)
    result = run(capsys, path=lock, holder=ME)
    assert not result['acquired'] and result['held_by']['run_id'] == OTHER['run_id']
    assert holder_of(lock)['run_id'] == OTHER['run_id']


def test_breaks_the_lock_of_the_dead_run_it_is_told_about(tmp_path, capsys):
    lock = str(tmp_path / 'lock')
    run(capsys, path=lock, holder=OTHER)
    result = run(capsys, path=lock, holder=ME, break_run=OTHER['run_id'])
    assert result['acquired'] and result['broken']['run_id'] == OTHER['run_id']
    assert holder_of(lock)['run_id'] == ME['run_id']


def test_break_run_names_one_run_only(tmp_path, capsys):
    lock = str(tmp_path / 'lock')
    run(capsys, path=lock, holder=OTHER)
    result = run(capsys, path=lock, holder=ME, break_run='ctl:999:1')
    assert not result['acquired'] and holder_of(lock)['run_id'] == OTHER['run_id']


def test_takes_over_a_stale_lock(tmp_path, capsys):
    lock = tmp_path / 'lock'
    lock.write_text(json.dumps(dict(OTHER, started=time.time() - 7200)))
    result = run(capsys, path=str(lock), holder=ME, stale_after=3600)
    assert result['acquired'] and result['broken']['run_id'] == OTHER['run_id']


def test_takes_over_a_lock_file_cut_short(tmp_path, capsys):
    lock = tmp_path / 'lock'
    lock.write_text('{"run_id": "ctl:2')
    assert run(capsys, path=str(lock), holder=ME)['acquired']


def test_releases_only_its_own_lock(tmp_path, capsys):
    lock = str(tmp_path / 'lock')
    run(capsys, path=lock, holder=OTHER)
    run(capsys, path=lock, holder=ME, state='absent')
    assert os.path.exists(lock)
    run(capsys, path=lock, holder=OTHER, state='absent')
    assert not os.path.exists(lock)


def test_needs_its_action_plugin(tmp_path, capsys):
    result = run(capsys, path=str(tmp_path / 'lock'))
    assert result['failed'] and 'action plugin' in result['msg']
