# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The read-only *_info modules the roles start with, on real temporary files."""

from __future__ import annotations

import base64
import json
import os
from unittest import mock

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.mcpops.alipay_mcp.plugins.modules import (
    alipay_mcp_host_info, mcporter_install_info, nodejs_install_info, read_file_info)


def run(capsys, module, params, commands=None):
    """Runs a module's main(); commands maps the first word of a run_command argv to (rc, out, err)."""
    calls = []

    def fake_run(self, args, **kwargs):
        calls.append(args)
        return (commands or {}).get(os.path.basename(args[0]), (127, '', 'not found'))

    with patch_module_args(params), mock.patch.object(AnsibleModule, 'run_command', fake_run), \
            pytest.raises(SystemExit):
        module.main()
    result = json.loads(capsys.readouterr().out)
    assert not result['changed']
    return result, calls


def test_nodejs_info_on_a_fresh_host(tmp_path, capsys):
    result, calls = run(capsys, nodejs_install_info, {'install_dir': str(tmp_path), 'version': '24.21.0'})
    assert result['machine'] == os.uname()[4]
    assert not result['marker'] and result['link'] is None and result['node_version'] is None and not calls


def test_nodejs_info_asks_the_current_node_only_when_it_is_the_pin(tmp_path, capsys):
    arch_map = {os.uname()[4]: 'x64'}
    version_dir = tmp_path / 'node-v24.21.0-linux-x64'
    (version_dir / 'bin').mkdir(parents=True)
    (version_dir / '.mcpops-installed').write_text('v24.21.0\n')
    node = version_dir / 'bin' / 'node'
    node.write_text('#!/bin/sh\n')
    node.chmod(0o755)
    (tmp_path / 'current').symlink_to(version_dir)
    result, calls = run(capsys, nodejs_install_info, {'install_dir': str(tmp_path), 'version': '24.21.0',
                                                      'arch_map': arch_map}, {'node': (0, 'v24.21.0\n', '')})
    assert result['marker'] and result['link'] == str(version_dir) and result['node_version'] == 'v24.21.0'
    assert calls == [[str(tmp_path / 'current' / 'bin' / 'node'), '--version']]
    result, calls = run(capsys, nodejs_install_info, {'install_dir': str(tmp_path), 'version': '24.22.0',
                                                      'arch_map': arch_map})
    assert not result['marker'] and result['node_version'] is None and not calls


def mcporter_params(tmp_path, content='#!/bin/sh\nexec node mcporter "$@"\n'):
    node = tmp_path / 'node'
    node.write_text('')
    node.chmod(0o755)
    package = tmp_path / 'package.json'
    package.write_text(json.dumps({'name': 'mcporter', 'version': '0.12.3'}))
    wrapper = tmp_path / 'mcporter'
    wrapper.write_text(content)
    wrapper.chmod(0o755)
    return {'node': str(node), 'package_json': str(package), 'wrapper': str(wrapper),
            'wrapper_content': '#!/bin/sh\nexec node mcporter "$@"\n', 'version': '0.12.3', 'user': 'root'}


@pytest.mark.skipif(os.geteuid() != 0, reason='the wrapper must be owned by root')
def test_mcporter_info_runs_the_version_check_when_all_is_current(tmp_path, capsys):
    commands = {'dpkg-query': (0, 'ii ', ''), 'runuser': (0, '0.12.3\n', '')}
    result, calls = run(capsys, mcporter_install_info, mcporter_params(tmp_path), commands)
    assert result == dict(result, node=True, installed_version='0.12.3', wrapper_ok=True, acl=True,
                          version_out='0.12.3', version_err='')
    assert calls[-1][:3] == ['runuser', '-u', 'root']


def test_mcporter_info_skips_the_version_check_when_the_wrapper_differs(tmp_path, capsys):
    commands = {'dpkg-query': (1, '', 'no packages found matching acl')}
    result, calls = run(capsys, mcporter_install_info, mcporter_params(tmp_path, content='old\n'), commands)
    assert not result['wrapper_ok'] and not result['acl'] and result['version_out'] is None
    assert [c[0] for c in calls] == ['dpkg-query']


def test_mcporter_info_on_a_fresh_host(tmp_path, capsys):
    params = dict(mcporter_params(tmp_path), node=str(tmp_path / 'none'), package_json=str(tmp_path / 'none.json'),
                  wrapper=str(tmp_path / 'no-wrapper'))
    result, _calls = run(capsys, mcporter_install_info, params, {'dpkg-query': (0, 'ii ', '')})
    assert not result['node'] and result['installed_version'] == '' and not result['wrapper_ok']


def test_host_info_reports_without_returning_secrets(tmp_path, capsys):
    secret = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-not-a-real-key'
    (tmp_path / '.gitignore').write_text('# BEGIN mcpops\nconfig/\n# END mcpops\n')
    global_config = tmp_path / 'mcporter.json'
    global_config.write_text(json.dumps({'mcpServers': {'alipay': {'env': {'AP_APP_KEY': secret}}}}))
    other = tmp_path / 'other.json'
    other.write_text(json.dumps({'mcpServers': {'github': {}}}))
    package = tmp_path / 'package.json'
    package.write_text(json.dumps({'name': '@alipay/mcp-server-alipay', 'version': '1.4.0'}))
    params = {'stat': [str(tmp_path / '.gitignore'), str(tmp_path / 'absent')],
              'contains': {str(tmp_path / '.gitignore'): '# BEGIN mcpops\nconfig/\n# END mcpops\n',
                           str(tmp_path / 'absent'): 'x'},
              'read': [str(tmp_path / '.gitignore')], 'dpkg': ['acl', 'git'], 'user': 'root', 'which': 'sh',
              'read_json': str(package), 'names': ['alipay'], 'global_configs': [str(global_config), str(other)]}
    commands = {'dpkg-query': (0, 'ii  acl\nun  git\n', ''), 'runuser': (0, '/usr/bin/sh\n', '')}
    with mock.patch.object(alipay_mcp_host_info.grp, 'getgrgid', return_value=mock.Mock(gr_name='root')):
        result, _calls = run(capsys, alipay_mcp_host_info, params, commands)
    assert result['stat'][str(tmp_path / '.gitignore')]['exists'] and not result['stat'][str(tmp_path / 'absent')]['exists']
    assert result['contains'] == {str(tmp_path / '.gitignore'): True, str(tmp_path / 'absent'): False}
    assert result['dpkg'] == {'acl': True, 'git': False}
    assert result['which'] == '/usr/bin/sh' and result['group'] == 'root'
    assert result['json']['version'] == '1.4.0'
    assert result['global_hits'] == [{'path': str(global_config), 'names': ['alipay']}]
    assert secret not in json.dumps(result)


def test_read_file_info(tmp_path, capsys):
    path = tmp_path / 'openclaw.json'
    path.write_bytes(b'{"a": 1}')
    path.chmod(0o640)
    result, _calls = run(capsys, read_file_info, {'path': str(path)})
    assert result['exists'] and result['mode'] == '0640' and base64.b64decode(result['content']) == b'{"a": 1}'
    assert result['error'] == ''
    result, _calls = run(capsys, read_file_info, {'path': str(tmp_path / 'absent')})
    assert not result['exists'] and result['content'] is None and result['error'] == ''
