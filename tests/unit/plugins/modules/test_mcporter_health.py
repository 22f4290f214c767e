# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""mcporter_health through AnsibleModule, with mcporter replaced by recorded outputs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from unittest import mock

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.mcpops.alipay_mcp.plugins.module_utils import _mcporter
from ansible_collections.mcpops.alipay_mcp.plugins.modules import mcporter_health

FIXTURES = Path(__file__).resolve().parents[2] / 'fixtures' / 'mcporter'
CONFIG = '/home/openclaw/.openclaw/workspace/config/mcporter.json'
WORKSPACE = '/home/openclaw/.openclaw/workspace'
SECRET = 'fake-secret-value-never-returned'


def recorded(name, rename=None):
    data = json.loads((FIXTURES / (name + '.json')).read_text(encoding='utf-8'))
    stdout = data['stdout']
    if rename:
        stdout = stdout.replace('"name": "alipay"', '"name": "%s"' % rename)
    return _mcporter.RunResult(rc=data['rc'], stdout=stdout, stderr=data['stderr'], timed_out=data['timed_out'],
                               elapsed=data['elapsed_s'])


def config_list(entries, config=CONFIG):
    '''`mcporter config list --json` output for the given entries, as mcporter 0.12.3 prints it.'''
    servers = []
    for name, entry in entries.items():
        record = {'name': name, 'source': {'kind': 'local', 'path': config}}
        record.update(entry)
        record.setdefault('transport', 'stdio')
        record.setdefault('cwd', os.path.dirname(config))
        servers.append(record)
    return _mcporter.RunResult(rc=0, stdout=json.dumps({'servers': servers}, indent=2) + '\n')


def alipay_entry(**extra):
    entry = {
        'command': 'npx',
        'args': ['-y', '@alipay/mcp-server-alipay'],
        'env': {'AP_APP_ID': '2021000000000000', 'AP_APP_KEY': '${AP_APP_KEY_SANDBOX}', 'AP_PUB_KEY': SECRET},
        'allowedTools': ['query-alipay-payment', 'query-alipay-refund'],
    }
    entry.update(extra)
    return entry


class FakeMcporter:
    '''Stands in for `execute`: answers by subcommand and, for `list --config`, by the server listed.'''

    def __init__(self, declared, lists=None, workspace=None):
        self.declared = declared
        self.lists = {k: (v if isinstance(v, list) else [v]) for k, v in (lists or {}).items()}
        self.workspace = workspace
        self.calls = []
        self.temp_configs = []

    def __call__(self, argv, env, cwd, timeout):
        args = argv[argv.index('mcporter') + 1:]
        self.calls.append({'args': args, 'env': env, 'cwd': cwd, 'timeout': timeout})
        if args[:2] == ['config', 'list']:
            return self.declared
        if args[0] == 'list' and '--config' in args:
            path = args[args.index('--config') + 1]
            document = json.loads(Path(path).read_text())
            self.temp_configs.append({'path': path, 'document': document, 'mode': os.stat(path).st_mode & 0o777})
            (name,) = document['mcpServers']
            answers = self.lists[name]
            return answers.pop(0) if len(answers) > 1 else answers[0]
        if args == ['list', '--json']:
            return self.workspace
        raise AssertionError('unexpected mcporter call %r' % args)


def run(args, fake, check_mode=False, capsys=None):
    params = dict({'config': CONFIG, 'mcporter_path': 'mcporter', 'retry_delay': 0}, **args)
    if check_mode:
        params['_ansible_check_mode'] = True
    with patch_module_args(params), mock.patch.object(_mcporter, 'execute', side_effect=fake), \
            mock.patch.object(_mcporter.time, 'sleep'), mock.patch.object(os.path, 'isdir', return_value=True):
        with pytest.raises(SystemExit) as exc:
            mcporter_health.main()
    out = capsys.readouterr().out
    result = json.loads(out)
    assert (exc.value.code != 0) == bool(result.get('failed'))
    return result, out


def test_healthy_server_with_exact_tools(capsys):
    fake = FakeMcporter(config_list({'alipay': alipay_entry()}), {'alipay': recorded('list_ok')})
    result, _out = run({'expected_tools': {'alipay': ['queryPay', 'query-alipay-refund']}}, fake, capsys=capsys)
    assert result['changed'] is False and result['healthy'] is True and not result.get('failed')
    (server,) = result['servers']
    assert server == {
        'name': 'alipay',
        'status': 'ok',
        'tools': ['query-alipay-payment', 'query-alipay-refund'],
        'duration_ms': server['duration_ms'],
        'allowed_tools': ['query-alipay-payment', 'query-alipay-refund'],
        'blocked_tools': None,
        'expected_tools': ['query-alipay-payment', 'query-alipay-refund'],
        'missing_tools': [],
        'extra_tools': [],
        'classification': None,
        'remediation': None,
        'detail': None,
        'issues': [],
        'attempts': 1,
    }
    assert result['msg'] == '1 server(s) healthy: alipay'


def test_check_mode_runs_the_same_read_only_check(capsys):
    def fresh():
        return FakeMcporter(config_list({'alipay': alipay_entry()}), {'alipay': recorded('list_ok')})

    normal, _out = run({'expected_tools': {'alipay': ['queryPay', 'refundQuery']}}, fresh(), capsys=capsys)
    checked, _out = run({'expected_tools': {'alipay': ['queryPay', 'refundQuery']}}, fresh(), check_mode=True,
                        capsys=capsys)
    assert checked == normal
    assert checked['changed'] is False and checked['healthy'] is True


def test_lists_a_filter_free_private_copy_and_never_a_server_name(capsys):
    fake = FakeMcporter(config_list({'alipay': alipay_entry(blockedTools=None)}), {'alipay': recorded('list_ok')})
    run({}, fake, capsys=capsys)
    (temp,) = fake.temp_configs
    assert temp['mode'] == 0o600
    assert not os.path.exists(temp['path'])
    assert temp['document'] == {
        'mcpServers': {'alipay': {
            'command': 'npx',
            'args': ['-y', '@alipay/mcp-server-alipay'],
            'cwd': os.path.dirname(CONFIG),
            'env': alipay_entry()['env'],
        }},
        'imports': [],
    }
    config_call, list_call = fake.calls
    assert config_call['args'] == ['config', 'list', '--json', '--config', CONFIG]
    assert list_call['args'] == ['list', '--json', '--exit-code', '--config', temp['path']]
    for call in fake.calls:
        assert call['cwd'] == WORKSPACE
        assert 'alipay' not in call['args']
        assert not any(a.startswith('--config=') for a in call['args'])
        assert call['env']['MCPORTER_DISABLE_KEEPALIVE'] == '*'
        assert call['env']['MCPORTER_STDIO_LOGS'] == '1'
        assert call['env']['MCPORTER_LIST_TIMEOUT'] == '30000'
        assert call['timeout'] == 30 + _mcporter.OUTER_GRACE


def test_extra_and_missing_tools_fail_and_allowed_tools_are_checked(capsys):
    fake = FakeMcporter(config_list({'alipay': alipay_entry(allowedTools=['query-alipay-payment', 'refund-alipay-payment'])}),
                        {'alipay': recorded('list_ok_all_tools')})
    result, _out = run({'expected_tools': {'alipay': ['queryPay', 'refundQuery', 'custom-tool']}}, fake, capsys=capsys)
    assert result['failed'] is True and result['healthy'] is False
    (server,) = result['servers']
    assert server['status'] == 'failed'
    assert server['missing_tools'] == ['custom-tool']
    assert server['extra_tools'] == ['create-mobile-alipay-payment', 'create-web-page-alipay-payment',
                                     'refund-alipay-payment']
    assert [i['classification'] for i in server['issues']] == ['tool_mismatch', 'allowed_tools_mismatch']
    assert server['classification'] == 'tool_mismatch'
    assert 'AP_SELECT_TOOLS' in server['remediation']
    assert result['msg'] == 'Unhealthy: alipay (tool_mismatch, allowed_tools_mismatch)'


def test_blocked_tools_is_not_least_privilege(capsys):
    entry = alipay_entry(blockedTools=['refund-alipay-payment'])
    del entry['allowedTools']
    fake = FakeMcporter(config_list({'alipay': entry}), {'alipay': recorded('list_ok')})
    result, _out = run({'expected_tools': {'alipay': ['queryPay', 'refundQuery']}}, fake, capsys=capsys)
    (server,) = result['servers']
    assert server['classification'] == 'allowed_tools_mismatch'
    assert server['detail'] == 'blockedTools used instead of allowedTools'
    assert server['blocked_tools'] == ['refund-alipay-payment']


@pytest.mark.parametrize('fixture_name,classification,detail', [
    ('list_missing_app_key', 'missing_env', 'missing_variable: AP_APP_KEY'),
    ('list_missing_app_id', 'missing_env', 'missing_variable: AP_APP_ID'),
    ('list_env_placeholder_missing', 'missing_env', 'missing_variable: AP_APP_KEY_SANDBOX'),
    ('list_enoent', 'server_binary_missing', None),
    ('list_timeout', 'timeout', None),
    ('list_outer_timeout', 'timeout', None),
    ('list_invalid_tool', 'invalid_tool_selection', 'invalid_item: bogus'),
    ('list_missing_app_key_nologs', 'offline', None),
    ('list_no_node', 'node_not_found', None),
])
def test_failure_classes(fixture_name, classification, detail, capsys):
    fake = FakeMcporter(config_list({'alipay': alipay_entry()}), {'alipay': recorded(fixture_name)})
    result, out = run({'environment': {'AP_APP_KEY_SANDBOX': SECRET}}, fake, capsys=capsys)
    assert result['failed'] is True and result['changed'] is False
    (server,) = result['servers']
    assert (server['status'], server['classification'], server['detail']) == ('failed', classification, detail)
    log = os.path.join(os.environ.get('HOME', '~'), 'mcp-server-alipay.log')
    assert server['remediation'] == _mcporter.remediation(classification, log)
    assert result['msg'] == 'Unhealthy: alipay (%s)' % classification
    # Neither the server's stderr nor any environment value comes back.
    assert '\u73af\u5883\u53d8\u91cf' not in out and 'stderr from node' not in out
    assert SECRET not in out


def test_missing_cwd_is_told_apart_from_a_missing_binary(capsys):
    fake = FakeMcporter(config_list({'alipay': alipay_entry(cwd='/srv/absent')}), {'alipay': recorded('list_cwd_missing')})
    params = dict({'config': CONFIG, 'mcporter_path': 'mcporter'})
    with patch_module_args(params), mock.patch.object(_mcporter, 'execute', side_effect=fake):
        with pytest.raises(SystemExit):
            mcporter_health.main()
    result = json.loads(capsys.readouterr().out)
    assert (result['servers'][0]['classification'], result['servers'][0]['detail']) == \
        ('server_binary_missing', 'cwd_missing')


def test_retries_a_timeout(capsys):
    fake = FakeMcporter(config_list({'alipay': alipay_entry()}),
                        {'alipay': [recorded('list_timeout'), recorded('list_ok')]})
    result, _out = run({'retries': 2}, fake, capsys=capsys)
    assert result['healthy'] is True and result['servers'][0]['attempts'] == 2


def test_does_not_retry_a_missing_variable(capsys):
    fake = FakeMcporter(config_list({'alipay': alipay_entry()}), {'alipay': recorded('list_missing_app_key')})
    result, _out = run({'retries': 3}, fake, capsys=capsys)
    assert result['servers'][0]['attempts'] == 1
    assert len([c for c in fake.calls if c['args'][0] == 'list']) == 1


def test_names_are_matched_exactly(capsys):
    fake = FakeMcporter(config_list({'alipay': alipay_entry()}), {'alipay': recorded('list_ok')})
    result, _out = run({'servers': ['Alipay', 'alipy']}, fake, capsys=capsys)
    assert result['failed'] is True
    assert [(s['name'], s['classification'], s['attempts']) for s in result['servers']] == \
        [('Alipay', 'server_not_in_config', 0), ('alipy', 'server_not_in_config', 0)]
    assert [c['args'][:2] for c in fake.calls] == [['config', 'list']]


def test_each_server_is_listed_alone_in_config_order(capsys):
    fake = FakeMcporter(config_list({'alipay': alipay_entry(), 'nokey': alipay_entry()}),
                        {'alipay': recorded('list_ok'), 'nokey': recorded('list_missing_app_key', rename='nokey')})
    result, _out = run({}, fake, capsys=capsys)
    assert [(s['name'], s['status']) for s in result['servers']] == [('alipay', 'ok'), ('nokey', 'failed')]
    assert [list(t['document']['mcpServers']) for t in fake.temp_configs] == [['alipay'], ['nokey']]
    assert result['msg'] == 'Unhealthy: nokey (missing_env)'


def test_imported_servers_are_not_checked(capsys):
    declared = config_list({'alipay': alipay_entry()})
    document = json.loads(declared.stdout)
    document['servers'].append({'name': 'cursor-thing', 'source': {'kind': 'import', 'path': '/root/.cursor/mcp.json'},
                                'command': 'x'})
    declared.stdout = json.dumps(document)
    fake = FakeMcporter(declared, {'alipay': recorded('list_ok')})
    result, _out = run({}, fake, capsys=capsys)
    assert [s['name'] for s in result['servers']] == ['alipay']


@pytest.mark.parametrize('fixture_name,detail', [
    ('config_list_invalid', 'schema_error: mcpServers.alipay.args.1'),
    ('config_list_missing', 'file_not_found'),
    ('config_list_unresolved', 'missing_variable: MISSING_VAR'),
])
def test_config_rejected_by_mcporter(fixture_name, detail, capsys):
    fake = FakeMcporter(recorded(fixture_name))
    result, _out = run({}, fake, capsys=capsys)
    assert result['failed'] is True and result['healthy'] is False and result['servers'] == []
    assert (result['classification'], result['detail']) == ('config_invalid', detail)
    assert result['remediation']


def test_mcporter_not_found(capsys):
    fake = FakeMcporter(_mcporter.RunResult(rc=127, exec_error='No such file or directory'))
    result, _out = run({}, fake, capsys=capsys)
    assert result['classification'] == 'mcporter_not_found'
    assert 'npm install -g mcporter' in result['remediation']


def test_recorded_config_list_drives_the_checks(capsys):
    config = '/tmp/mcpops-check/config_list_ok.json'
    fake = FakeMcporter(recorded('config_list_ok'), {'alipay': recorded('list_ok'),
                                                     'alipay-refunds': recorded('list_ok_all_tools', 'alipay-refunds'),
                                                     'web': recorded('list_enoent', 'web')})
    result, _out = run({'config': config, 'servers': ['alipay', 'alipay-refunds']}, fake, capsys=capsys)
    assert [s['status'] for s in result['servers']] == ['ok', 'ok']
    alipay_doc = fake.temp_configs[0]['document']['mcpServers']['alipay']
    assert 'allowedTools' not in alipay_doc and alipay_doc['cwd'] == '/tmp/mcpops-check/sub'
    assert fake.calls[0]['cwd'] == '/tmp/mcpops-check'
    refunds = result['servers'][1]
    assert refunds['blocked_tools'] == ['refund-alipay-payment'] and refunds['allowed_tools'] is None


def test_agent_view_reports_and_fails_on_difference(capsys):
    fake = FakeMcporter(config_list({'alipay': alipay_entry()}), {'alipay': recorded('list_ok')},
                        workspace=recorded('list_agent_view'))
    result, _out = run({'agent_workspace': WORKSPACE, 'agent_expect_servers': ['alipay']}, fake, capsys=capsys)
    view = result['agent_view']
    assert view['server_names'] == ['stray', 'alipay']
    assert view['servers'][0] == {'name': 'stray', 'status': 'ok', 'source': '/home/openclaw/.mcporter/mcporter.json'}
    assert view['unexpected_servers'] == ['stray'] and view['missing_servers'] == []
    assert view['classification'] == 'agent_view_mismatch' and view['status'] == 'failed'
    assert result['failed'] is True and result['healthy'] is False
    assert result['servers'][0]['status'] == 'ok'
    workspace_call = fake.calls[-1]
    assert workspace_call['args'] == ['list', '--json'] and workspace_call['cwd'] == WORKSPACE
    assert 'MCPORTER_CONFIG' not in workspace_call['env']


def test_agent_view_without_expectation_is_informational(capsys):
    fake = FakeMcporter(config_list({'alipay': alipay_entry()}), {'alipay': recorded('list_ok')},
                        workspace=recorded('list_agent_view'))
    result, _out = run({'agent_workspace': WORKSPACE}, fake, capsys=capsys)
    assert result['healthy'] is True and result['agent_view']['status'] == 'ok'
    assert result['agent_view']['expected_servers'] is None


def test_agent_view_of_an_empty_workspace(capsys):
    fake = FakeMcporter(config_list({'alipay': alipay_entry()}), {'alipay': recorded('list_ok')},
                        workspace=recorded('list_empty'))
    result, _out = run({'agent_workspace': WORKSPACE, 'agent_expect_servers': ['alipay']}, fake, capsys=capsys)
    assert result['agent_view']['missing_servers'] == ['alipay']
    assert result['msg'] == 'Unhealthy: agent view of %s (agent_view_mismatch)' % WORKSPACE


def test_env_file_values_are_used_and_masked(tmp_path, capsys):
    env_file = tmp_path / 'gateway.env'
    env_file.write_text('AP_APP_KEY_SANDBOX=%s\n' % SECRET)
    fake = FakeMcporter(config_list({'alipay': alipay_entry()}), {'alipay': recorded('list_ok')})
    result, out = run({'env_file': str(env_file)}, fake, capsys=capsys)
    assert fake.calls[1]['env']['AP_APP_KEY_SANDBOX'] == SECRET
    assert SECRET not in out and result['healthy'] is True


def test_invalid_env_file(tmp_path, capsys):
    env_file = tmp_path / 'gateway.env'
    env_file.write_text('not a pair %s\n' % SECRET)
    fake = FakeMcporter(config_list({}))
    result, out = run({'env_file': str(env_file)}, fake, capsys=capsys)
    assert result['classification'] == 'env_file_invalid' and fake.calls == []
    assert SECRET not in out


def test_config_without_servers(capsys):
    result, _out = run({}, FakeMcporter(config_list({})), capsys=capsys)
    assert result['failed'] is True and result['classification'] == 'server_not_in_config'


def test_malformed_expected_tools(capsys):
    result, _out = run({'expected_tools': {'alipay': {'a': 1}}}, FakeMcporter(config_list({})), capsys=capsys)
    assert result['failed'] is True and 'expected_tools.alipay' in result['msg']
