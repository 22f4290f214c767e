# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""alipay_probe through AnsibleModule, with mcporter replaced by recorded outputs."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.mcpops.alipay_mcp.plugins.module_utils import _mcporter
from ansible_collections.mcpops.alipay_mcp.plugins.modules import alipay_probe

FIXTURES = Path(__file__).resolve().parents[2] / 'fixtures' / 'mcporter'
CONFIG = '/home/openclaw/.openclaw/workspace/config/mcporter.json'
WORKSPACE = '/home/openclaw/.openclaw/workspace'
PROBE_ARGS = '{"outTradeNo":"MCPOPS-PROBE-0000000000000000"}'


def recorded(name):
    data = json.loads((FIXTURES / (name + '.json')).read_text(encoding='utf-8'))
    return _mcporter.RunResult(rc=data['rc'], stdout=data['stdout'], stderr=data['stderr'],
                               timed_out=data['timed_out'], elapsed=data['elapsed_s'])


def declared(*names):
    servers = [{'name': n, 'source': {'kind': 'local', 'path': CONFIG}, 'transport': 'stdio', 'command': 'npx',
                'args': ['-y', '@alipay/mcp-server-alipay'], 'env': {'AP_APP_KEY': '${AP_APP_KEY}'}}
               for n in names]
    return _mcporter.RunResult(rc=0, stdout=json.dumps({'servers': servers}))


class FakeMcporter:
    def __init__(self, config_list, calls=()):
        self.config_list = config_list
        self.call_results = list(calls)
        self.calls = []

    def __call__(self, argv, env, cwd, timeout):
        args = argv[argv.index('mcporter') + 1:]
        self.calls.append({'args': args, 'env': env, 'cwd': cwd, 'timeout': timeout})
        if args[:2] == ['config', 'list']:
            return self.config_list
        if args[0] == 'call':
            return self.call_results.pop(0) if len(self.call_results) > 1 else self.call_results[0]
        raise AssertionError('unexpected mcporter call %r' % args)


def run(args, fake, capsys, check_mode=False):
    params = dict({'config': CONFIG, 'retry_delay': 0}, **args)
    if check_mode:
        params['_ansible_check_mode'] = True
    with patch_module_args(params), mock.patch.object(_mcporter, 'execute', side_effect=fake), \
            mock.patch.object(_mcporter.time, 'sleep'):
        with pytest.raises(SystemExit) as exc:
            alipay_probe.main()
    out = capsys.readouterr().out
    result = json.loads(out)
    assert (exc.value.code != 0) == bool(result.get('failed'))
    return result, out


def test_trade_not_exist_proves_the_credentials(capsys):
    fake = FakeMcporter(declared('alipay'), [recorded('call_trade_not_exist')])
    result, _out = run({}, fake, capsys)
    assert not result.get('failed')
    assert result['changed'] is False
    assert result['credentials_ok'] is True and result['status'] == 'ok'
    assert result['classification'] is None and result['remediation'] is None
    assert result['sub_code'] == 'ACQ.TRADE_NOT_EXIST'
    assert (result['server'], result['tool'], result['out_trade_no']) == \
        ('alipay', 'query-alipay-payment', 'MCPOPS-PROBE-0000000000000000')
    config_call, call = fake.calls
    assert config_call['args'] == ['config', 'list', '--json', '--config', CONFIG]
    assert call['args'] == ['call', 'alipay.query-alipay-payment', '--args', PROBE_ARGS, '--output', 'json',
                            '--config', CONFIG]
    assert call['cwd'] == WORKSPACE
    assert call['env']['MCPORTER_CALL_TIMEOUT'] == '30000' and call['env']['MCPORTER_DISABLE_KEEPALIVE'] == '*'


def test_check_mode_probes_the_same(capsys):
    normal, _out = run({}, FakeMcporter(declared('alipay'), [recorded('call_trade_not_exist')]), capsys)
    checked, _out = run({}, FakeMcporter(declared('alipay'), [recorded('call_trade_not_exist')]), capsys,
                        check_mode=True)
    assert checked == normal and checked['changed'] is False


def test_check_mode_failure_is_the_same_too(capsys):
    normal, _out = run({}, FakeMcporter(declared('alipay'), [recorded('call_invalid_signature')]), capsys)
    checked, _out = run({}, FakeMcporter(declared('alipay'), [recorded('call_invalid_signature')]), capsys,
                        check_mode=True)
    assert checked == normal and checked['changed'] is False and checked['failed'] is True


@pytest.mark.parametrize('fixture_name,classification,detail,words', [
    ('call_invalid_signature', 'invalid_signature', None, 'does not match the public key'),
    ('call_missing_signature_key', 'missing_signature_key', None, 'signing method'),
    ('call_cloud_app_permission', 'cloud_app_permission', None, "'Payment MCP Server'"),
    ('call_scene_api_permission', 'scene_api_permission', None, 'not ticked'),
    ('call_exception', 'server_exception', None, 'mcp-server-alipay.log'),
    ('call_tool_disabled', 'query_tool_disabled', None, 'AP_SELECT_TOOLS'),
    ('call_blocked_by_allowed_tools', 'query_tool_blocked', None, 'allowedTools'),
    ('call_unknown_subcode', 'unknown', None, 'mcp-server-alipay.log'),
    ('call_invalid_tool_selection', 'invalid_tool_selection', 'invalid_item: bogus', 'without spaces'),
    ('call_missing_env', 'missing_env', 'missing_variable: AP_PUB_KEY', 'AP_PUB_KEY'),
    ('call_enoent', 'server_binary_missing', None, 'ENOENT'),
    ('call_timeout', 'timeout', None, 'timeout'),
    ('call_hang_init', 'timeout', None, 'timeout'),
])
def test_classifications(fixture_name, classification, detail, words, capsys):
    fake = FakeMcporter(declared('alipay'), [recorded(fixture_name)])
    result, out = run({}, fake, capsys)
    assert result['failed'] is True and result['changed'] is False
    assert result['credentials_ok'] is False and result['status'] == 'failed'
    assert (result['classification'], result['detail']) == (classification, detail)
    assert words in result['remediation']
    assert result['msg'] == 'alipay: probe failed (%s)' % classification
    # The answer text and the server's stderr stay out of the result.
    assert '\u4ea4\u6613\u67e5\u8be2\u5931\u8d25' not in out and '\u73af\u5883\u53d8\u91cf' not in out
    assert 'traceId' not in out


def test_run_as_users_log_is_named(capsys):
    fake = FakeMcporter(declared('alipay'), [recorded('call_exception')])
    with mock.patch.object(_mcporter.pwd, 'getpwnam', return_value=_mcporter.pwd.struct_passwd(
            ('openclaw', 'x', 54321, 54321, '', '/home/openclaw', '/bin/bash'))), \
            mock.patch.object(_mcporter, 'wrap_run_as', side_effect=lambda argv, user, env: list(argv)):
        result, _out = run({'run_as': 'openclaw'}, fake, capsys)
    assert '/home/openclaw/mcp-server-alipay.log' in result['remediation']
    assert fake.calls[1]['env']['HOME'] == '/home/openclaw'


@pytest.mark.parametrize('tool', ['refund-alipay-payment', 'refundPay', 'create-mobile-alipay-payment', 'mobilePay',
                                  'create-web-page-alipay-payment', 'webPagePay', 'query-alipay-refund',
                                  'Query-Alipay-Payment', 'query-alipay-payment(outTradeNo: "x")'])
def test_money_moving_and_other_tools_are_refused_before_anything_runs(tool, capsys):
    fake = FakeMcporter(declared('alipay'), [recorded('call_trade_not_exist')])
    result, _out = run({'tool': tool}, fake, capsys)
    assert result['failed'] is True and result['changed'] is False
    assert result['classification'] == 'tool_refused'
    assert result['msg'].startswith('Refusing to call')
    assert fake.calls == []


def test_alias_of_the_query_tool_is_accepted(capsys):
    fake = FakeMcporter(declared('alipay'), [recorded('call_trade_not_exist')])
    result, _out = run({'tool': 'queryPay'}, fake, capsys)
    assert result['credentials_ok'] is True and result['tool'] == 'query-alipay-payment'
    assert fake.calls[1]['args'][1] == 'alipay.query-alipay-payment'


@pytest.mark.parametrize('server', ['alipy', 'Alipay', 'alipay-sandbox'])
def test_unknown_server_is_never_called(server, capsys):
    fake = FakeMcporter(declared('alipay'), [recorded('call_trade_not_exist')])
    result, _out = run({'server': server}, fake, capsys)
    assert result['failed'] is True and result['classification'] == 'server_not_in_config'
    assert [c['args'][:2] for c in fake.calls] == [['config', 'list']]


def test_imported_server_of_the_same_name_does_not_count(capsys):
    config_list = declared()
    imported = {'name': 'alipay', 'source': {'kind': 'import', 'path': '/root/.cursor/mcp.json'}}
    config_list.stdout = json.dumps({'servers': [imported]})
    fake = FakeMcporter(config_list, [recorded('call_trade_not_exist')])
    result, _out = run({}, fake, capsys)
    assert result['classification'] == 'server_not_in_config' and len(fake.calls) == 1


@pytest.mark.parametrize('value', ['', 'has space', 'x' * 65, 'a.b', '../../etc', 'MCPOPS;rm'])
def test_out_trade_no_is_validated_before_anything_runs(value, capsys):
    fake = FakeMcporter(declared('alipay'), [recorded('call_trade_not_exist')])
    result, _out = run({'out_trade_no': value}, fake, capsys)
    assert result['failed'] is True and fake.calls == []


@pytest.mark.parametrize('server', ['ali.pay', 'ali pay', 'alipay()', ''])
def test_server_names_mcporter_would_misread_are_refused(server, capsys):
    fake = FakeMcporter(declared('alipay'), [recorded('call_trade_not_exist')])
    result, _out = run({'server': server}, fake, capsys)
    assert result['failed'] is True and fake.calls == []


def test_custom_order_number(capsys):
    fake = FakeMcporter(declared('alipay-sandbox'), [recorded('call_trade_not_exist')])
    result, _out = run({'server': 'alipay-sandbox', 'out_trade_no': 'PROBE_host-01'}, fake, capsys)
    assert result['credentials_ok'] is True
    assert fake.calls[1]['args'][:4] == ['call', 'alipay-sandbox.query-alipay-payment', '--args',
                                         '{"outTradeNo":"PROBE_host-01"}']


def test_retries_a_server_exception_then_succeeds(capsys):
    fake = FakeMcporter(declared('alipay'), [recorded('call_exception'), recorded('call_trade_not_exist')])
    result, _out = run({'retries': 2}, fake, capsys)
    assert result['credentials_ok'] is True and result['attempts'] == 2


def test_no_retry_for_a_bad_signature(capsys):
    fake = FakeMcporter(declared('alipay'), [recorded('call_invalid_signature')])
    result, _out = run({'retries': 3}, fake, capsys)
    assert result['attempts'] == 1 and len(fake.calls) == 2


def test_config_rejected(capsys):
    fake = FakeMcporter(recorded('config_list_unresolved'))
    result, _out = run({}, fake, capsys)
    assert (result['classification'], result['detail']) == ('config_invalid', 'missing_variable: MISSING_VAR')
    assert len(fake.calls) == 1


def test_environment_values_are_not_returned(capsys):
    secret = 'fake-environment-secret-0123456789'
    fake = FakeMcporter(declared('alipay'), [recorded('call_invalid_signature')])
    _result, out = run({'environment': {'AP_APP_KEY': secret}}, fake, capsys)
    assert fake.calls[1]['env']['AP_APP_KEY'] == secret
    assert secret not in out
