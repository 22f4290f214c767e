# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Parsing and classification of recorded mcporter 0.12.3 outputs, and the runner's plumbing."""

from __future__ import annotations

import json
import os
import pwd
import signal
import stat
import time
from pathlib import Path
from unittest import mock

import pytest

from ansible_collections.mcpops.alipay_mcp.plugins.module_utils import _mcporter as m

FIXTURES = Path(__file__).resolve().parents[2] / 'fixtures' / 'mcporter'


def fixture(name):
    return json.loads((FIXTURES / (name + '.json')).read_text(encoding='utf-8'))


def result(name):
    data = fixture(name)
    return m.RunResult(rc=data['rc'], stdout=data['stdout'], stderr=data['stderr'],
                       timed_out=data['timed_out'], elapsed=data['elapsed_s'])


def only_server(name):
    servers, noise = m.parse_list_result(result(name))
    assert list(servers) == ['alipay']
    return servers['alipay'], noise


def classify_list(name):
    record, noise = only_server(name)
    assert record['status'] != 'ok'
    return m.classify_issue(record['issue']['rawMessage'], noise)


# --- recorded fixtures are what they claim to be --------------------------------------------

def test_fixtures_are_recorded_with_the_pinned_version_and_hold_no_local_paths():
    names = sorted(p.stem for p in FIXTURES.glob('*.json'))
    assert len(names) >= 30
    for name in names:
        data = fixture(name)
        assert data['mcporter_version'] == '0.12.3'
        text = json.dumps(data)
        assert '/tmp/mcp-rec' not in text
        assert 'MIIEv' not in text and 'MIIBIjAN' not in text  # no key material


# --- list: JSON extraction ------------------------------------------------------------------

def test_healthy_list_gives_the_tools():
    record, _noise = only_server('list_ok')
    assert record['status'] == 'ok'
    assert m.tool_names(record) == ['query-alipay-payment', 'query-alipay-refund']
    assert isinstance(record['durationMs'], int)


def test_all_five_tools_in_server_order():
    record, _noise = only_server('list_ok_all_tools')
    assert tuple(m.tool_names(record)) == m.ALIPAY_TOOLS


def test_noise_with_braces_before_the_json_is_skipped():
    data = fixture('list_noise')
    assert not data['stdout'].startswith('{')
    record, noise = only_server('list_noise')
    assert m.tool_names(record) == ['query-alipay-payment']
    assert '[mcp-server-alipay] starting' in noise


def test_log_lines_and_brace_objects_around_the_document():
    doc = fixture('list_ok')['stdout']
    text = '[mcporter] stderr from node\n{"level":"info","mode":"x"}\n' + doc + '\n{"trailing": true}\n'
    servers, _noise = m.parse_list_result(m.RunResult(stdout=text))
    assert list(servers) == ['alipay']


def test_allowed_tools_filter_hides_tools_from_list():
    # Why the health check lists a filter-free copy: the deployed entry shows one tool of five.
    record, _noise = only_server('list_allowed_filter')
    assert m.tool_names(record) == ['query-alipay-payment']


def test_auto_corrected_single_server_document_is_not_accepted():
    data = fixture('list_autocorrect')
    assert data['stdout'].startswith('[mcporter] Auto-corrected server name to alipay (input: alipy).')
    # A server name passed to list yields another document shape for another server: refused.
    with pytest.raises(m.McporterError):
        m.parse_list_result(result('list_autocorrect'))


def test_config_equals_form_is_taken_as_a_server_name():
    data = fixture('list_config_equals')
    assert data['rc'] == 1 and "Unknown MCP server '--config=" in data['stderr']


def test_runner_passes_config_as_two_words_and_never_a_server_name():
    runner = m.McporterRunner(base_env={'PATH': '/usr/bin'})
    with mock.patch.object(m, 'execute', return_value=result('list_ok')) as execute:
        runner.list_config('/srv/ws/config/mcporter.json', '/srv/ws')
    argv = execute.call_args[0][0]
    assert argv == ['mcporter', 'list', '--json', '--exit-code', '--config', '/srv/ws/config/mcporter.json']
    assert not any(a.startswith('--config=') for a in argv)


def test_empty_config_lists_no_server():
    servers, _noise = m.parse_list_result(result('list_empty'))
    assert servers == {}


def test_servers_listed_together_leak_env_into_each_other():
    # b2 has neither AP_APP_KEY nor AP_SELECT_TOOLS, yet it is "ok" with a1's single tool.
    servers, _noise = m.parse_list_result(result('list_multi_env_leak'))
    assert servers['b2']['status'] == 'ok'
    assert m.tool_names(servers['b2']) == ['query-alipay-payment']


def test_agent_view_merges_workspace_and_home_configs():
    servers, _noise = m.parse_list_result(result('list_agent_view'))
    assert list(servers) == ['stray', 'alipay']
    assert servers['stray']['source']['path'] == '/home/openclaw/.mcporter/mcporter.json'
    assert servers['alipay']['source']['path'] == '/home/openclaw/.openclaw/workspace/config/mcporter.json'


# --- list: classification --------------------------------------------------------------------

def test_missing_app_key_is_named_from_the_echoed_stderr_only():
    record, _noise = only_server('list_missing_app_key')
    assert record['issue']['rawMessage'] == 'MCP error -32000: Connection closed'
    classification, detail = classify_list('list_missing_app_key')
    assert (classification, detail) == ('missing_env', 'missing_variable: AP_APP_KEY')


def test_missing_app_id():
    assert classify_list('list_missing_app_id') == ('missing_env', 'missing_variable: AP_APP_ID')


def test_without_stdio_logs_the_cause_is_lost():
    assert classify_list('list_missing_app_key_nologs') == ('offline', None)


def test_missing_binary():
    assert classify_list('list_enoent') == ('server_binary_missing', None)


def test_missing_cwd_looks_like_a_missing_binary():
    assert classify_list('list_cwd_missing') == ('server_binary_missing', None)


def test_hang_is_a_timeout():
    record, _noise = only_server('list_timeout')
    assert record['issue']['rawMessage'] == 'Timeout'
    assert classify_list('list_timeout') == ('timeout', None)


def test_invalid_tool_selection_echoes_a_tool_like_item():
    assert classify_list('list_invalid_tool') == ('invalid_tool_selection', 'invalid_item: bogus')


@pytest.mark.parametrize('item', ['MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', 'a/b', 'x' * 65, 'AP_APP_KEY=1', ''])
def test_invalid_tool_selection_hides_anything_else(item):
    message = 'MCP error -32603: Invalid tool: %s. Accepted tools are: all, query-alipay-payment' % item
    assert m.classify_issue(message) == ('invalid_tool_selection', 'invalid_item: (not shown)')


def test_unset_env_placeholder_fails_the_server_with_the_variable_name():
    assert classify_list('list_env_placeholder_missing') == ('missing_env', 'missing_variable: AP_APP_KEY_SANDBOX')


def test_outer_timeout_with_no_output():
    data = fixture('list_outer_timeout')
    assert data['timed_out'] and data['stdout'] == ''
    with pytest.raises(m.McporterError) as exc:
        m.parse_list_result(result('list_outer_timeout'))
    assert exc.value.classification == 'timeout'


def test_partial_output_after_outer_timeout_is_a_timeout():
    partial = m.RunResult(rc=None, timed_out=True, stdout='[mcporter] stderr from node\n{\n  "mode": "list",\n')
    with pytest.raises(m.McporterError) as exc:
        m.parse_list_result(partial)
    assert exc.value.classification == 'timeout'


@pytest.mark.parametrize('name,classification,detail', [
    ('list_config_invalid', 'config_invalid', 'schema_error: mcpServers.alipay.args.1'),
    ('list_config_missing', 'config_invalid', 'file_not_found'),
    ('list_config_syntax', 'config_invalid', 'syntax_error'),
    ('list_unresolved', 'config_invalid', 'missing_variable: MISSING_VAR'),
    ('config_list_invalid', 'config_invalid', 'schema_error: mcpServers.alipay.args.1'),
    ('config_list_missing', 'config_invalid', 'file_not_found'),
    ('config_list_unresolved', 'config_invalid', 'missing_variable: MISSING_VAR'),
    ('list_no_node', 'node_not_found', None),
])
def test_runs_without_a_document(name, classification, detail):
    with pytest.raises(m.McporterError) as exc:
        m.parse_list_result(result(name))
    assert (exc.value.classification, exc.value.detail) == (classification, detail)


@pytest.mark.parametrize('run,classification', [
    (m.RunResult(rc=127, exec_error='No such file or directory'), 'mcporter_not_found'),
    (m.RunResult(rc=127, stderr="/usr/bin/env: 'mcporter': No such file or directory\n"), 'mcporter_not_found'),
    (m.RunResult(rc=127, stderr="/usr/bin/env: \u2018node\u2019: No such file or directory\n"), 'node_not_found'),
    (m.RunResult(rc=1, stderr='runuser: failed to execute mcporter: No such file or directory\n'), 'mcporter_not_found'),
    (m.RunResult(rc=1, stderr='sudo: a password is required\n'), 'run_as_failed'),
    (m.RunResult(rc=127, exec_error='No such file or directory', cwd_error=True), 'config_invalid'),
    (m.RunResult(rc=0, stdout=''), 'timeout'),
    (m.RunResult(rc=3, stdout='garbage', stderr='boom'), 'unknown'),
])
def test_process_level_failures(run, classification):
    assert m.classify_run_failure(run).classification == classification


# --- config list --------------------------------------------------------------------------

def test_config_list_gives_exact_local_names_and_normalised_entries():
    records = m.parse_config_list_result(result('config_list_ok'))
    declared = m.local_servers(records, '/tmp/mcpops-check/config_list_ok.json')
    assert list(declared) == ['alipay', 'alipay-refunds', 'web']
    alipay = declared['alipay']
    assert alipay['allowedTools'] == ['query-alipay-payment']  # from the snake_case spelling
    assert alipay['cwd'] == '/tmp/mcpops-check/sub'  # relative cwd resolved against the file
    assert alipay['command'] == 'node' and alipay['args'] == ['/opt/fake/mcp-server-alipay.js']
    assert alipay['env']['AP_APP_KEY'] == '${AP_APP_KEY_SANDBOX}'  # env kept raw
    assert declared['alipay-refunds']['blockedTools'] == ['refund-alipay-payment']


def test_config_list_of_another_file_or_imports_is_not_local():
    records = m.parse_config_list_result(result('config_list_ok'))
    assert m.local_servers(records, '/srv/other/mcporter.json') == {}
    records.append({'name': 'cursor-server', 'source': {'kind': 'import', 'path': '/root/.cursor/mcp.json'}})
    assert 'cursor-server' not in m.local_servers(records, '/tmp/mcpops-check/config_list_ok.json')


def test_filter_free_entry_drops_filters_and_keeps_how_the_server_starts():
    records = m.parse_config_list_result(result('config_list_ok'))
    declared = m.local_servers(records, '/tmp/mcpops-check/config_list_ok.json')
    entry = m.filter_free_entry(declared['alipay'], '/tmp/mcpops-check')
    assert entry == {
        'command': 'node',
        'args': ['/opt/fake/mcp-server-alipay.js'],
        'cwd': '/tmp/mcpops-check/sub',
        'env': declared['alipay']['env'],
    }
    refunds = m.filter_free_entry(declared['alipay-refunds'], '/tmp/mcpops-check')
    assert 'blockedTools' not in refunds and refunds['cwd'] == '/tmp/mcpops-check'


def test_filter_free_entry_defaults_cwd_to_the_original_config_folder():
    entry = m.filter_free_entry({'name': 'a', 'command': 'npx', 'args': ['-y', '@alipay/mcp-server-alipay'],
                                 'allowedTools': ['query-alipay-payment']}, '/home/openclaw/ws/config')
    assert entry == {'command': 'npx', 'args': ['-y', '@alipay/mcp-server-alipay'], 'cwd': '/home/openclaw/ws/config'}


# --- call ---------------------------------------------------------------------------------

@pytest.mark.parametrize('name,classification,detail,code', [
    ('call_trade_not_exist', None, None, 'ACQ.TRADE_NOT_EXIST'),
    ('call_noise', None, None, 'ACQ.TRADE_NOT_EXIST'),
    ('call_invalid_signature', 'invalid_signature', None, 'isv.invalid-signature'),
    ('call_missing_signature_key', 'missing_signature_key', None, 'isv.missing-signature-key'),
    ('call_cloud_app_permission', 'cloud_app_permission', None, 'isv.invalid-cloud-app-permission'),
    ('call_scene_api_permission', 'scene_api_permission', None, 'isv.invalid-open-scene-api-permission'),
    ('call_exception', 'server_exception', None, None),
    ('call_tool_disabled', 'query_tool_disabled', None, None),
    ('call_unknown_subcode', 'unknown', None, 'aop.unknow-error'),
    ('call_invalid_tool_selection', 'invalid_tool_selection', 'invalid_item: bogus', None),
    ('call_unknown_server', 'server_not_in_config', None, None),
    ('call_blocked_by_allowed_tools', 'query_tool_blocked', None, None),
    ('call_missing_env', 'missing_env', 'missing_variable: AP_PUB_KEY', None),
    ('call_enoent', 'server_binary_missing', None, None),
    ('call_timeout', 'timeout', None, None),
    ('call_hang_init', 'timeout', None, None),
])
def test_call_classification(name, classification, detail, code):
    assert m.classify_call_result(result(name)) == (classification, detail, code)


def test_call_exception_is_flagged_is_error_and_exits_1():
    data = fixture('call_exception')
    assert data['rc'] == 1 and '"isError": true' in data['stdout']


def test_call_noise_comes_after_the_result():
    stdout = fixture('call_noise')['stdout']
    assert stdout.startswith('{') and stdout.rstrip().endswith('}\n'.rstrip()) and 'stderr from node' in stdout


def test_call_to_a_server_that_never_initialises_exits_0_silently_without_outer_timeout():
    assert m.classify_call_result(m.RunResult(rc=0, stdout='', stderr='')) == ('timeout', None, None)


def test_business_failure_texts_are_classified_without_a_document():
    assert m.classify_probe_text('\u4ea4\u6613\u67e5\u8be2\u5931\u8d25. \u67e5\u8be2\u7ed3\u679c: '
                                 '{"code":"40004","subCode":"ACQ.TRADE_NOT_EXIST"}') is None
    assert m.classify_probe_text('\u8be5\u5de5\u5177query-alipay-payment\u88ab\u914d\u7f6e\u4e3a\u4e0d\u53ef'
                                 '\u8c03\u7528') == 'query_tool_disabled'
    assert m.classify_probe_text('something else') == 'unknown'


# --- catalogue --------------------------------------------------------------------------------

ALL_CLASSES = [
    'mcporter_not_found', 'node_not_found', 'run_as_failed', 'env_file_invalid', 'config_invalid',
    'server_not_in_config', 'server_binary_missing', 'missing_env', 'invalid_tool_selection', 'timeout',
    'offline', 'tool_mismatch', 'allowed_tools_mismatch', 'agent_view_mismatch', 'invalid_signature',
    'missing_signature_key', 'cloud_app_permission', 'scene_api_permission', 'server_exception',
    'query_tool_disabled', 'query_tool_blocked', 'tool_refused', 'unknown',
]


@pytest.mark.parametrize('classification', ALL_CLASSES)
def test_every_class_has_an_english_remediation(classification):
    text = m.remediation(classification, '/home/openclaw/mcp-server-alipay.log')
    assert classification in m.CATALOGUE
    assert text and '{log}' not in text
    assert all(ord(c) < 128 for c in text)


def test_remediations_point_at_the_run_as_users_log():
    assert '/home/openclaw/mcp-server-alipay.log' in m.remediation('offline', '/home/openclaw/mcp-server-alipay.log')
    assert '${VAR}' in m.remediation('missing_env')


def test_aliases_map_to_full_names():
    assert [m.canonical_tool(a) for a in m.TOOL_ALIASES] == list(m.ALIPAY_TOOLS)
    assert m.canonical_tool('custom-tool') == 'custom-tool'


def test_workspace_for():
    assert m.workspace_for('/home/openclaw/.openclaw/workspace/config/mcporter.json') == \
        '/home/openclaw/.openclaw/workspace'
    assert m.workspace_for('/etc/mcporter/mcporter.json') == '/etc/mcporter'


# --- environment --------------------------------------------------------------------------

def test_env_file_parsing():
    text = '\n'.join([
        '# gateway secrets',
        '',
        'export AP_APP_KEY_SANDBOX="abc\\"def"',
        "AP_PUB_KEY_SANDBOX='MIIB=='",
        'PLAIN = value with spaces ',
        'EMPTY=',
        '; also a comment',
    ])
    assert m.parse_env_file(text) == {
        'AP_APP_KEY_SANDBOX': 'abc"def',
        'AP_PUB_KEY_SANDBOX': 'MIIB==',
        'PLAIN': 'value with spaces',
        'EMPTY': '',
    }


def test_env_file_errors_never_quote_the_line():
    with pytest.raises(m.McporterError) as exc:
        m.parse_env_file('GOOD=1\nsecret-looking-line-without-equals\n')
    assert exc.value.classification == 'env_file_invalid'
    assert 'line 2' in exc.value.message and 'secret' not in exc.value.message


def test_missing_env_file(tmp_path):
    with pytest.raises(m.McporterError) as exc:
        m.load_env_file(str(tmp_path / 'absent.env'))
    assert exc.value.classification == 'env_file_invalid'


def test_build_env_order_and_fixed_settings():
    base = {'PATH': '/usr/bin', 'MCPORTER_CONFIG': '/elsewhere.json', 'A': 'base', 'NO_COLOR': '0'}
    env = m.build_env(base, {'A': 'file', 'B': 'file'}, {'B': 'option', 'CI': '0', 'N': 3, 'T': True}, None, 7)
    assert env['A'] == 'file' and env['B'] == 'option'
    assert env['N'] == '3' and env['T'] == 'true'
    assert 'MCPORTER_CONFIG' not in env
    assert env['MCPORTER_DISABLE_KEEPALIVE'] == '*'
    assert env['NO_COLOR'] == '1' and env['CI'] == '1' and env['MCPORTER_STDIO_LOGS'] == '1'
    assert env['MCPORTER_LIST_TIMEOUT'] == '7000' and env['MCPORTER_CALL_TIMEOUT'] == '7000'


def test_build_env_for_another_user():
    user = pwd.struct_passwd(('openclaw', 'x', 1500, 1500, '', '/home/openclaw', '/bin/bash'))
    env = m.build_env({'PATH': '/usr/bin', 'HOME': '/root', 'XDG_CONFIG_HOME': '/root/.config'}, user=user)
    assert env['HOME'] == '/home/openclaw' and env['USER'] == 'openclaw' and env['LOGNAME'] == 'openclaw'
    assert 'XDG_CONFIG_HOME' not in env


def test_wrap_run_as():
    user = pwd.struct_passwd(('openclaw', 'x', 1500, 1500, '', '/home/openclaw', '/bin/bash'))
    env = {'PATH': '/opt/node/bin:/usr/bin'}
    assert m.wrap_run_as(['mcporter', 'list'], None, env) == ['mcporter', 'list']
    with mock.patch.object(m.os, 'geteuid', return_value=0), \
            mock.patch.object(m.shutil, 'which', side_effect=lambda name, path=None: '/usr/sbin/' + name):
        assert m.wrap_run_as(['mcporter', 'list'], user, env) == \
            ['/usr/sbin/runuser', '-u', 'openclaw', '--', 'mcporter', 'list']
    with mock.patch.object(m.os, 'geteuid', return_value=1000), \
            mock.patch.object(m.shutil, 'which', side_effect=lambda name, path=None: '/usr/bin/' + name):
        assert m.wrap_run_as(['mcporter', 'list'], user, env) == \
            ['/usr/bin/sudo', '-n', '-E', '-u', 'openclaw', '--', '/usr/bin/env', 'PATH=/opt/node/bin:/usr/bin',
             'mcporter', 'list']


def test_run_as_unknown_user():
    with pytest.raises(m.McporterError) as exc:
        m.resolve_run_as('no-such-user-mcpops')
    assert exc.value.classification == 'run_as_failed'


def test_run_as_current_user_needs_no_switch():
    assert m.resolve_run_as(pwd.getpwuid(os.geteuid()).pw_name) is None


def test_runner_masks_env_file_values(tmp_path):
    env_file = tmp_path / 'gw.env'
    env_file.write_text('AP_APP_KEY_SANDBOX=fake-private-key-material\nAP_LOG_ENABLED=true\n')
    runner = m.McporterRunner(env_file=str(env_file), base_env={'PATH': '/usr/bin'})
    assert runner.secret_values() == ['fake-private-key-material']
    assert runner.env['AP_APP_KEY_SANDBOX'] == 'fake-private-key-material'


# --- process execution ------------------------------------------------------------------------

def _group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_execute_kills_the_whole_group_and_keeps_partial_output(tmp_path):
    pidfile = tmp_path / 'child.pid'
    script = 'echo partial; sleep 60 & echo $! > %s; wait' % pidfile
    started = time.monotonic()
    run = m.execute(['/bin/sh', '-c', script], {'PATH': '/usr/bin:/bin'}, str(tmp_path), 1)
    assert time.monotonic() - started < 10
    assert run.timed_out and run.rc is None
    assert run.stdout == 'partial\n'
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail('the background child survived the timeout')


def test_execute_normal_run(tmp_path):
    run = m.execute(['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'], {'PATH': '/usr/bin:/bin'}, str(tmp_path), 10)
    assert (run.rc, run.stdout, run.stderr, run.timed_out) == (3, 'out\n', 'err\n', False)


def test_execute_missing_program_and_missing_cwd(tmp_path):
    run = m.execute(['/nonexistent/mcporter'], {'PATH': '/usr/bin'}, str(tmp_path), 5)
    assert run.exec_error and not run.cwd_error
    assert m.classify_run_failure(run).classification == 'mcporter_not_found'
    run = m.execute(['/bin/true'], {'PATH': '/usr/bin'}, str(tmp_path / 'absent'), 5)
    assert run.cwd_error
    assert m.classify_run_failure(run).detail == 'cwd_missing'


def test_runner_outer_timeout_is_mcporter_timeout_plus_grace():
    runner = m.McporterRunner(timeout=5, base_env={'PATH': '/usr/bin'})
    with mock.patch.object(m, 'execute', return_value=m.RunResult()) as execute:
        runner.run(['--version'], '/')
    assert execute.call_args[0][3] == 5 + m.OUTER_GRACE


# --- temporary config -------------------------------------------------------------------------

def test_temp_config_is_private_and_removed():
    runner = m.McporterRunner(base_env={'PATH': '/usr/bin'})
    with runner.temp_config({'mcpServers': {}, 'imports': []}) as path:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
        assert json.loads(Path(path).read_text()) == {'mcpServers': {}, 'imports': []}
    assert not os.path.exists(os.path.dirname(path))


def test_temp_config_removed_on_failure():
    runner = m.McporterRunner(base_env={'PATH': '/usr/bin'})
    with pytest.raises(RuntimeError):
        with runner.temp_config({'mcpServers': {}}) as path:
            raise RuntimeError('boom')
    assert not os.path.exists(os.path.dirname(path))


def test_temp_config_owned_by_the_run_as_user():
    runner = m.McporterRunner(base_env={'PATH': '/usr/bin'})
    runner.user = pwd.struct_passwd(('openclaw', 'x', 1500, 1600, '', '/home/openclaw', '/bin/bash'))
    with mock.patch.object(m.os, 'chown') as chown:
        with runner.temp_config({'mcpServers': {}}) as path:
            assert path.startswith('/tmp/mcpops-mcporter-')
    assert sorted(c[0] for c in chown.call_args_list) == sorted([(path, 1500, 1600), (os.path.dirname(path), 1500, 1600)])
    assert not os.path.exists(path)


def test_temp_config_without_permission_to_chown():
    runner = m.McporterRunner(base_env={'PATH': '/usr/bin'})
    runner.user = pwd.struct_passwd(('openclaw', 'x', 1500, 1600, '', '/home/openclaw', '/bin/bash'))
    with mock.patch.object(m.os, 'chown', side_effect=PermissionError(1, 'Operation not permitted')):
        with pytest.raises(m.McporterError) as exc:
            with runner.temp_config({'mcpServers': {}}):
                pass
    assert exc.value.classification == 'run_as_failed'


# --- retries ----------------------------------------------------------------------------------

def test_retries_only_transient_classes():
    outcomes = iter([{'classification': 'timeout'}, {'classification': 'offline'}, {'classification': None}])
    sleeps = []
    final = m.with_retries(lambda: dict(next(outcomes)), 5, 3, sleep=sleeps.append)
    assert final == {'classification': None, 'attempts': 3} and sleeps == [3, 3]

    calls = []
    final = m.with_retries(lambda: calls.append(1) or {'classification': 'missing_env'}, 5, 0, sleep=lambda s: None)
    assert final['attempts'] == 1 and len(calls) == 1

    final = m.with_retries(lambda: {'classification': 'timeout'}, 2, 0, sleep=lambda s: None)
    assert final['attempts'] == 3


def test_missing_config_file_is_named_not_its_folder(tmp_path):
    missing = str(tmp_path / 'nothere' / 'config' / 'mcporter.json')
    runner = m.McporterRunner.__new__(m.McporterRunner)

    def run(args, cwd):
        raise m.McporterError('config_invalid', 'working directory missing', detail='cwd_missing')

    runner.run = run
    with pytest.raises(m.McporterError) as caught:
        runner.config_servers(missing, str(tmp_path / 'nothere' / 'config'))
    assert (caught.value.classification, caught.value.detail) == ('config_invalid', 'file_not_found')
