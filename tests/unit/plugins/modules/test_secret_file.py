# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""secret_file through AnsibleModule on a real temporary directory."""

from __future__ import annotations

import json
import os
import stat
from unittest import mock

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.mcpops.alipay_mcp.plugins.modules import secret_file

SECRET = 'fake-secret-value-never-returned'


def run(capsys, check_mode=False, **params):
    if check_mode:
        params['_ansible_check_mode'] = True
    with patch_module_args(params), pytest.raises(SystemExit):
        secret_file.main()
    out = capsys.readouterr().out
    assert SECRET not in out
    return json.loads(out)


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_creates_the_file_owner_only(tmp_path, capsys):
    path = tmp_path / 'mcporter.json'
    result = run(capsys, path=str(path), content=SECRET + '1')
    assert result['changed'] and result['created'] and result['content_changed']
    assert not result['previous_written']
    assert path.read_text() == SECRET + '1'
    assert mode_of(path) == 0o600
    assert sorted(os.listdir(tmp_path)) == ['mcporter.json']


def test_same_content_changes_nothing(tmp_path, capsys):
    path = tmp_path / 'mcporter.json'
    run(capsys, path=str(path), content=SECRET)
    before = os.stat(path).st_ino
    result = run(capsys, path=str(path), content=SECRET, previous=True)
    assert not result['changed'] and not result['previous_written']
    assert os.stat(path).st_ino == before
    assert not (tmp_path / 'mcporter.json.previous').exists()


def test_new_content_keeps_one_previous_version(tmp_path, capsys):
    path = tmp_path / 'mcporter.json'
    for n in range(3):
        result = run(capsys, path=str(path), content=SECRET + str(n), previous=True)
    assert result['changed'] and result['content_changed'] and result['previous_written']
    assert path.read_text() == SECRET + '2'
    assert (tmp_path / 'mcporter.json.previous').read_text() == SECRET + '1'
    assert mode_of(tmp_path / 'mcporter.json.previous') == 0o600
    assert sorted(os.listdir(tmp_path)) == ['mcporter.json', 'mcporter.json.previous']


def test_mode_alone_is_fixed_without_a_previous_version(tmp_path, capsys):
    path = tmp_path / 'mcporter.json'
    run(capsys, path=str(path), content=SECRET)
    os.chmod(path, 0o640)
    result = run(capsys, path=str(path), content=SECRET, previous=True)
    assert result['changed'] and not result['content_changed'] and not result['previous_written']
    assert mode_of(path) == 0o600


def test_check_mode_writes_nothing(tmp_path, capsys):
    path = tmp_path / 'mcporter.json'
    path.write_text('old')
    result = run(capsys, check_mode=True, path=str(path), content=SECRET, previous=True)
    assert result['changed'] and result['content_changed'] and result['previous_written']
    assert path.read_text() == 'old'
    assert sorted(os.listdir(tmp_path)) == ['mcporter.json']


def test_leftovers_of_a_killed_write_are_removed(tmp_path, capsys):
    path = tmp_path / 'mcporter.json'
    run(capsys, path=str(path), content=SECRET)
    leftover = tmp_path / '.mcporter.json.abc123.tmp'
    leftover.write_text(SECRET)
    result = run(capsys, path=str(path), content=SECRET)
    assert result['changed'] and result['stale_temporary_files_removed'] == [str(leftover)]
    assert not leftover.exists()


def test_a_failed_rename_leaves_the_old_file_and_no_temporary(tmp_path, capsys):
    path = tmp_path / 'mcporter.json'
    path.write_text('old')
    with mock.patch.object(secret_file.os, 'rename', side_effect=OSError(28, 'No space left on device')):
        result = run(capsys, path=str(path), content=SECRET)
    assert result['failed'] and 'No space left on device' in result['msg'] and str(path) in result['msg']
    assert path.read_text() == 'old'
    assert sorted(os.listdir(tmp_path)) == ['mcporter.json']


@pytest.mark.parametrize('mode', ['0644', '0606', 'rw'])
def test_modes_others_can_read_or_bad_modes_are_refused(tmp_path, capsys, mode):
    path = tmp_path / 'mcporter.json'
    result = run(capsys, path=str(path), content=SECRET, mode=mode)
    assert result['failed'] and mode in result['msg']
    assert not path.exists()


def test_unknown_owner_is_named(tmp_path, capsys):
    result = run(capsys, path=str(tmp_path / 'f'), content=SECRET, owner='no-such-user-here')
    assert result['failed'] and 'owner no-such-user-here does not exist' in result['msg']


def test_a_symlink_is_not_followed(tmp_path, capsys):
    target = tmp_path / 'elsewhere'
    target.write_text('x')
    link = tmp_path / 'mcporter.json'
    link.symlink_to(target)
    result = run(capsys, path=str(link), content=SECRET)
    assert result['failed'] and 'not a regular file' in result['msg']
    assert target.read_text() == 'x'


def test_check_mode_before_the_directory_exists(tmp_path, capsys):
    path = tmp_path / 'config' / 'mcporter.json'
    result = run(capsys, check_mode=True, path=str(path), content=SECRET)
    assert result['changed'] and result['created'] and not (tmp_path / 'config').exists()
    result = run(capsys, path=str(path), content=SECRET)
    assert result['failed'] and 'does not exist' in result['msg']
