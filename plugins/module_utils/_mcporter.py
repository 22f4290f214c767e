# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

'''Running mcporter, reading its output and explaining its failures.'''

# FOR INTERNAL COLLECTION USE ONLY
# This file is private to the mcpops.alipay_mcp collection (hence the leading underscore).
# Its interfaces are not a public API and may change or disappear in ANY release, even a
# bugfix release, without notice. Modules of this collection are its only supported users.
#
# Behaviour of mcporter 0.12.3 that shapes this code (all observed with the real program):
# - `--config=FILE` is taken as a server name, so the path is always passed as two words;
# - server names given to `list` are auto-corrected to the closest configured name, so no name
#   is ever passed: a whole config is listed and servers are picked by exact name here;
# - `allowedTools`/`blockedTools` filter what `list` shows, so real tool sets are read from a
#   filter-free temporary copy of the entry;
# - servers listed in one run start concurrently and see each other's `env` entries, so each
#   server gets a run (and a temporary config) of its own;
# - a server's stderr only reaches us with MCPORTER_STDIO_LOGS=1, printed on stdout before or
#   after the JSON document; it is scanned for known messages and never returned;
# - a call to a server that never answers `initialize` ignores MCPORTER_CALL_TIMEOUT, waits
#   about 60 s and then exits 0 with no output, so an outer timeout is always applied.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import contextlib
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time

ALIPAY_TOOLS = (
    'create-mobile-alipay-payment',
    'create-web-page-alipay-payment',
    'query-alipay-payment',
    'refund-alipay-payment',
    'query-alipay-refund',
)
TOOL_ALIASES = {
    'mobilePay': 'create-mobile-alipay-payment',
    'webPagePay': 'create-web-page-alipay-payment',
    'queryPay': 'query-alipay-payment',
    'refundPay': 'refund-alipay-payment',
    'refundQuery': 'query-alipay-refund',
}
PROBE_TOOL = 'query-alipay-payment'
DEFAULT_PROBE_ORDER = 'MCPOPS-PROBE-0000000000000000'
OUT_TRADE_NO_PATTERN = re.compile(r'^[A-Za-z0-9_-]{1,64}$')
SERVER_NAME_PATTERN = re.compile(r'^[^.\s()=][^.\s()]{0,127}$')
SERVER_LOG_NAME = 'mcp-server-alipay.log'

# Seconds granted beyond mcporter's own timeout before the process group is killed.
OUTER_GRACE = 10
# Seconds between SIGTERM and SIGKILL when the process group is killed.
KILL_GRACE = 2

# A tools/list error may echo the item only when it cannot be anything but a tool name.
_SAFE_TOOL_ITEM = re.compile(r'^[A-Za-z -]{1,64}$')
_VARIABLE_NAME = re.compile(r'^[A-Za-z_][A-Za-z0-9_]{0,127}$')
_SUB_CODE = re.compile(r'"sub_?[cC]ode"\s*:\s*"([A-Za-z0-9._-]{1,64})"')

# The Alipay server's start-up message when a required variable is missing or empty.
_MISSING_SERVER_VAR = re.compile(u'\u73af\u5883\u53d8\u91cf\u4e2d\u7f3a\u5c11\\s*(AP_[A-Z0-9_]{1,40})')
# Plain-text answer of the Alipay server for a tool that AP_SELECT_TOOLS disables.
_TOOL_DISABLED = re.compile(u'\u8be5\u5de5\u5177.{0,80}\u88ab\u914d\u7f6e\u4e3a\u4e0d\u53ef\u8c03\u7528')
# Generic exception answer of the Alipay server ("mcp-server-alipay 异常").
_SERVER_EXCEPTION = u'mcp-server-alipay \u5f02\u5e38'

# Classes of failure that may pass on their own and are worth a retry.
RETRYABLE = frozenset(('timeout', 'offline', 'server_exception'))

# Alipay sub codes of a query answer, in the order they are checked.
PROBE_SUB_CODES = (
    ('isv.invalid-signature', 'invalid_signature'),
    ('isv.missing-signature-key', 'missing_signature_key'),
    ('isv.invalid-cloud-app-permission', 'cloud_app_permission'),
    ('isv.invalid-open-scene-api-permission', 'scene_api_permission'),
)
PROBE_OK_SUB_CODE = 'ACQ.TRADE_NOT_EXIST'

# What to do about each class of failure. {log} is the server log of the run-as user.
CATALOGUE = {
    'mcporter_not_found': (
        'mcporter could not be executed: install it for the run-as user (npm install -g mcporter, '
        'pinned version) or set mcporter_path to its absolute path.'),
    'node_not_found': (
        "mcporter starts with '#!/usr/bin/env node' and no node is on PATH: install Node.js "
        '(>= 24 for mcporter) and put its bin directory on PATH, for example with the environment option.'),
    'run_as_failed': (
        'The check could not switch to the run-as user: run the task as root (become: true) so runuser '
        'is used, or allow passwordless sudo (with SETENV) to that user.'),
    'env_file_invalid': (
        'The env_file could not be read: it must hold KEY=VALUE lines (blank lines and # comments allowed).'),
    'config_invalid': (
        'mcporter rejects the config file: check that it exists and is valid JSON(C), that args and env '
        'values are strings, and that every ${VAR} used in command, args or cwd is set (or has a :-default).'),
    'server_not_in_config': (
        'No server with exactly this name is in the config file (mcporter silently auto-corrects close '
        'names to another server): fix the name or deploy the entry.'),
    'server_binary_missing': (
        'The server could not be spawned (ENOENT): install @alipay/mcp-server-alipay and test it by hand '
        '(npx -y @alipay/mcp-server-alipay), make sure the entry command is on PATH for the run-as user, '
        "and that the entry's cwd exists."),
    'missing_env': (
        'The server exits at start because a required variable is missing or empty: set AP_APP_ID, '
        "AP_APP_KEY and AP_PUB_KEY in the entry's env, and make sure every ${VAR} there resolves "
        '(an unset ${VAR} is dropped silently; load the gateway env file with env_file).'),
    'invalid_tool_selection': (
        'AP_SELECT_TOOLS holds an item the server does not know: write full tool names or aliases '
        "(mobilePay, webPagePay, queryPay, refundPay, refundQuery) separated by commas without spaces, or 'all'."),
    'timeout': (
        'The server did not answer in time: run it by hand (npx -y @alipay/mcp-server-alipay) to see whether '
        'it starts, check that npx can reach the npm registry, read {log}, then raise timeout if it is only slow.'),
    'offline': (
        'The server started but closed the connection or failed to answer: run it by hand '
        '(npx -y @alipay/mcp-server-alipay) and read {log}.'),
    'tool_mismatch': (
        'The server exposes a different tool set than expected: set AP_SELECT_TOOLS to exactly the expected '
        "tools, comma-separated WITHOUT spaces ('mobilePay, queryPay' silently enables only the first)."),
    'allowed_tools_mismatch': (
        "The entry's allowedTools differs from the expected tools: set allowedTools to exactly the expected "
        'full tool names (least privilege; blockedTools is not a substitute).'),
    'agent_view_mismatch': (
        'An agent running mcporter in this workspace sees a different set of servers: deploy '
        '<workspace>/config/mcporter.json for it, and remove stray entries from ~/.mcporter/mcporter.json '
        'or $XDG_CONFIG_HOME/mcporter/mcporter.json of the run-as user.'),
    'invalid_signature': (
        'Alipay answered isv.invalid-signature: the private key (AP_APP_KEY) does not match the public key '
        'uploaded for the restricted key. Regenerate the key pair and upload its public key; check that '
        'AP_APP_KEY and AP_PUB_KEY are not swapped, truncated or padded with whitespace.'),
    'missing_signature_key': (
        'Alipay answered isv.missing-signature-key: no signing method is set on the restricted key. Finish '
        "the 'interface signing method' setup on the restricted key's page of the Alipay Open Platform."),
    'cloud_app_permission': (
        "Alipay answered isv.invalid-cloud-app-permission: the 'Payment MCP Server' switch is off. Open the "
        "restricted key on the Alipay Open Platform and switch on 'Payment MCP Server'."),
    'scene_api_permission': (
        'Alipay answered isv.invalid-open-scene-api-permission: the tool is not ticked on the restricted key. '
        "Tick query-alipay-payment (and every tool the agent uses) on the restricted key's page."),
    'server_exception': (
        'The server hit an exception (key format, network or arguments): read {log}. A PKCS#8 PEM key that '
        'keeps its BEGIN/END lines fails; AP_APP_KEY must be one base64 line.'),
    'query_tool_disabled': (
        'query-alipay-payment is not enabled by AP_SELECT_TOOLS on this host: add queryPay to AP_SELECT_TOOLS '
        'to probe, or skip the probe where the query tool is deliberately off.'),
    'query_tool_blocked': (
        "mcporter's allowedTools/blockedTools for this entry hide query-alipay-payment: allow it to probe, "
        'or skip the probe for this server.'),
    'tool_refused': (
        'alipay_probe only calls the read-only query-alipay-payment; tools that create payments or refunds '
        'are never probed.'),
    'unknown': (
        'Unrecognised answer: read {log} and compare the sub code with the Alipay error code table.'),
}


class McporterError(Exception):
    '''A failure with a class from CATALOGUE and an optional detail that is safe to return.'''

    def __init__(self, classification, message, detail=None):
        super(McporterError, self).__init__(message)
        self.classification = classification
        self.message = message
        self.detail = detail


class RunResult(object):
    '''What one mcporter run gave back.'''

    def __init__(self, rc=0, stdout='', stderr='', timed_out=False, elapsed=0.0, exec_error=None, cwd_error=False):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.timed_out = timed_out
        self.elapsed = elapsed
        self.exec_error = exec_error  # the program could not be started at all
        self.cwd_error = cwd_error  # ... because the working directory is missing


def common_argument_spec():
    '''Options shared by the modules; documented in the mcpops.alipay_mcp.mcporter doc fragment.'''
    return dict(
        config=dict(type='path', required=True),
        mcporter_path=dict(type='str', default='mcporter'),
        timeout=dict(type='int', default=30),
        retries=dict(type='int', default=0),
        retry_delay=dict(type='int', default=2),
        environment=dict(type='dict', default={}, no_log=True),
        env_file=dict(type='path', no_log=False),
        run_as=dict(type='str'),
    )


def remediation(classification, log_path='~/' + SERVER_LOG_NAME):
    '''English remediation for a class of failure.'''
    # str.replace, not format: the texts quote ${VAR} placeholders literally.
    return CATALOGUE.get(classification, CATALOGUE['unknown']).replace('{log}', log_path)


def canonical_tool(name):
    '''Full tool name for an AP_SELECT_TOOLS alias; any other name is returned unchanged.'''
    return TOOL_ALIASES.get(name, name)


def workspace_for(config):
    '''The directory mcporter runs from for a config: <ws> for <ws>/config/mcporter.json.'''
    config_dir = os.path.dirname(os.path.abspath(config))
    if os.path.basename(config_dir) == 'config':
        return os.path.dirname(config_dir)
    return config_dir


# ---------------------------------------------------------------------------------------------
# Environment
# ---------------------------------------------------------------------------------------------

def parse_env_file(text):
    '''KEY=VALUE lines (systemd EnvironmentFile style) to a dict. Errors name lines, never values.'''
    values = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in '#;':
            continue
        if line.startswith('export '):
            line = line[len('export '):].lstrip()
        key, sep, value = line.partition('=')
        key = key.strip()
        if not sep or not _VARIABLE_NAME.match(key):
            raise McporterError('env_file_invalid', 'env_file line %d is not KEY=VALUE' % number)
        value = value.strip()
        quote = value[:1]
        if len(value) >= 2 and quote in ('"', "'") and value[-1] == quote:
            value = value[1:-1]
            if quote == '"':
                value = value.replace('\\"', '"').replace('\\\\', '\\')
        values[key] = value
    return values


def load_env_file(path):
    try:
        with open(path, 'rb') as handle:
            text = handle.read().decode('utf-8')
    except (IOError, OSError) as exc:
        raise McporterError('env_file_invalid', 'cannot read env_file %s: %s' % (path, exc.strerror or exc))
    except UnicodeDecodeError:
        raise McporterError('env_file_invalid', 'env_file %s is not UTF-8' % path)
    return parse_env_file(text)


def _env_string(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return '%s' % (value,)


def resolve_run_as(run_as):
    '''pwd entry of the user to switch to, or None when the check runs as the current user.'''
    if not run_as:
        return None
    try:
        entry = pwd.getpwnam(run_as)
    except KeyError:
        raise McporterError('run_as_failed', 'run_as user %s does not exist' % run_as)
    if entry.pw_uid == os.geteuid():
        return None
    return entry


def build_env(base, file_env=None, environment=None, user=None, timeout=30):
    '''Environment for mcporter: inherited, then env_file, then the environment option, then ours.

    The settings this collection relies on come last so that neither source can undo them.
    '''
    env = dict(base)
    # The checks always name the config; an inherited MCPORTER_CONFIG would only mislead the
    # agent view, which must read what an agent reads.
    env.pop('MCPORTER_CONFIG', None)
    if user is not None:
        env['HOME'] = user.pw_dir
        env['USER'] = user.pw_name
        env['LOGNAME'] = user.pw_name
        for key in ('XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'XDG_STATE_HOME', 'XDG_RUNTIME_DIR'):
            env.pop(key, None)
    for source in (file_env or {}, environment or {}):
        for key, value in source.items():
            env['%s' % key] = _env_string(value)
    timeout_ms = '%d' % (int(timeout) * 1000)
    env.update({
        'MCPORTER_DISABLE_KEEPALIVE': '*',  # a warm keep-alive daemon would hide restarts and changes
        'NO_COLOR': '1',
        'CI': '1',  # no spinner on the output
        'MCPORTER_STDIO_LOGS': '1',  # the server's stderr tells a missing AP_* variable
        'MCPORTER_LIST_TIMEOUT': timeout_ms,
        'MCPORTER_CALL_TIMEOUT': timeout_ms,
    })
    env.setdefault('PATH', os.defpath)
    return env


def wrap_run_as(argv, user, env):
    '''argv that runs as `user`: runuser when root, otherwise sudo -n keeping the environment.'''
    if user is None:
        return list(argv)
    if os.geteuid() == 0:
        runuser = shutil.which('runuser', path=env.get('PATH', '') + os.pathsep + '/usr/sbin:/sbin')
        if runuser:
            # runuser keeps the environment it is given (HOME, USER, LOGNAME are already the user's).
            return [runuser, '-u', user.pw_name, '--'] + list(argv)
    sudo = shutil.which('sudo', path=env.get('PATH', '') + os.pathsep + '/usr/bin:/bin')
    if not sudo:
        raise McporterError('run_as_failed', 'neither runuser (as root) nor sudo is available to switch to %s'
                            % user.pw_name)
    # sudo's secure_path would replace PATH, and mcporter needs ours to find node: env restores it.
    return [sudo, '-n', '-E', '-u', user.pw_name, '--', '/usr/bin/env', 'PATH=' + env['PATH']] + list(argv)


# ---------------------------------------------------------------------------------------------
# Process execution
# ---------------------------------------------------------------------------------------------

def _kill_group(proc):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except OSError:
            return
        if sig == signal.SIGTERM:
            try:
                proc.wait(timeout=KILL_GRACE)
            except subprocess.TimeoutExpired:
                continue
            # The leader is gone; its children (the servers) may still hold the group.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            return


def execute(argv, env, cwd, timeout):
    '''Run argv in a new process group; on expiry kill the whole group and keep partial output.'''
    started = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, cwd=cwd, close_fds=True, start_new_session=True)
    except (IOError, OSError) as exc:
        # subprocess names the directory when the chdir, not the exec, failed.
        return RunResult(rc=127, exec_error=exc.strerror or '%s' % exc, cwd_error=exc.filename == cwd,
                         elapsed=time.monotonic() - started)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
        out, err = proc.communicate()
    return RunResult(
        rc=None if timed_out else proc.returncode,
        stdout=out.decode('utf-8', 'replace'),
        stderr=err.decode('utf-8', 'replace'),
        timed_out=timed_out,
        elapsed=time.monotonic() - started,
    )


# ---------------------------------------------------------------------------------------------
# Output parsing
# ---------------------------------------------------------------------------------------------

def extract_json(text, predicate):
    '''First JSON object in noisy text for which predicate holds, and the text around it.

    mcporter prints its document from column 0; echoed server stderr and log lines may stand
    before or after it and may contain braces of their own, so line starts are tried first.
    '''
    decoder = json.JSONDecoder()
    line_starts = [m.start() for m in re.finditer(r'(?m)^[ \t]*\{', text)]
    others = [m.start() for m in re.finditer(r'\{', text)]
    seen = set()
    for pos in line_starts + others:
        pos = text.index('{', pos)
        if pos in seen:
            continue
        seen.add(pos)
        try:
            obj, end = decoder.raw_decode(text, pos)
        except ValueError:
            continue
        if isinstance(obj, dict) and predicate(obj):
            return obj, text[:pos] + text[end:]
    return None, text


def is_list_document(obj):
    return obj.get('mode') == 'list' and isinstance(obj.get('servers'), list)


def is_config_list_document(obj):
    return 'mode' not in obj and isinstance(obj.get('servers'), list)


def is_call_document(obj):
    return isinstance(obj.get('content'), list) or ('error' in obj and ('server' in obj or 'issue' in obj))


def missing_server_variable(text):
    '''Name of the AP_* variable the Alipay server reported missing at start, if any.'''
    match = _MISSING_SERVER_VAR.search(text or '')
    return match.group(1) if match else None


def _safe_variable(name):
    return name if name and _VARIABLE_NAME.match(name) else None


def classify_issue(raw_message, noise=''):
    '''Class and safe detail for a server failure reported by `list` or `call`.'''
    message = raw_message or ''
    variable = missing_server_variable(noise)
    if variable:
        return 'missing_env', 'missing_variable: %s' % variable
    match = re.search(r"Environment variable '([^']+)' is required", message)
    if match:
        variable = _safe_variable(match.group(1))
        return 'missing_env', 'missing_variable: %s' % variable if variable else None
    if 'ENOENT' in message:
        return 'server_binary_missing', None
    match = re.search(r'Invalid tool: (.*?)\. Accepted tools are', message)
    if match or 'Invalid tool:' in message:
        item = match.group(1) if match else ''
        if _SAFE_TOOL_ITEM.match(item):
            return 'invalid_tool_selection', 'invalid_item: %s' % item
        return 'invalid_tool_selection', 'invalid_item: (not shown)'
    if message == 'Timeout' or 'timed out' in message:
        return 'timeout', None
    if 'blocked by configuration' in message or 'is not accessible on server' in message:
        return 'query_tool_blocked', None
    if message.startswith('Unknown MCP server'):
        return 'server_not_in_config', None
    return 'offline', None


def classify_run_failure(result):
    '''McporterError for a run that produced no usable JSON document.'''
    if result.cwd_error:
        return McporterError('config_invalid', 'the working directory is missing or not reachable',
                             detail='cwd_missing')
    if result.exec_error:
        return McporterError('mcporter_not_found', 'mcporter could not be executed: %s' % result.exec_error)
    if result.timed_out:
        return McporterError('timeout', 'mcporter did not finish within %.0f s and was killed' % result.elapsed)
    stderr = result.stderr or ''
    match = re.search(u"env: ['\u2018\u2019\"]?([^'\u2018\u2019\":\\n]+)['\u2018\u2019\"]?: No such file or directory",
                      stderr)
    if match:
        if os.path.basename(match.group(1)) == 'node':
            return McporterError('node_not_found', 'node was not found on PATH')
        return McporterError('mcporter_not_found', 'mcporter was not found on PATH')
    if re.search(r'(runuser|sudo): failed to execute|sudo: .*command not found', stderr):
        return McporterError('mcporter_not_found', 'mcporter could not be executed as the run-as user')
    if re.search(r'sudo: (a password is required|a terminal is required|unknown user)|'
                 r'is not in the sudoers file|runuser: (user .* does not exist|cannot)', stderr):
        return McporterError('run_as_failed', 'could not switch to the run-as user')
    match = re.search(r'Environment variable\(s\) ([A-Za-z0-9_, ]+) must be set', stderr)
    if match:
        names = [n for n in (x.strip() for x in match.group(1).split(',')) if _safe_variable(n)]
        return McporterError('config_invalid', 'the config uses unset variables',
                             detail='missing_variable: %s' % ', '.join(names))
    if 'ENOENT: no such file or directory, open' in stderr:
        return McporterError('config_invalid', 'the config file does not exist', detail='file_not_found')
    if 'Failed to parse JSON' in stderr or 'SyntaxError' in stderr:
        return McporterError('config_invalid', 'the config file is not valid JSON(C)', detail='syntax_error')
    if 'ZodError' in stderr or '"code": "invalid_type"' in stderr:
        return McporterError('config_invalid', 'the config file does not match the mcporter schema',
                             detail=_schema_error_detail(stderr))
    if result.rc == 0 and not (result.stdout or '').strip():
        # Observed: a server that never answers `initialize` makes `call` exit 0 silently after ~60 s.
        return McporterError('timeout', 'mcporter gave no output (the server never answered)')
    if 'EACCES' in stderr or 'Permission denied' in stderr:
        return McporterError('config_invalid', 'permission denied reading the config or its directory',
                             detail='permission_denied')
    return McporterError('unknown', 'mcporter exited %s without a JSON document' % result.rc)


def _schema_error_detail(stderr):
    '''"schema_error: mcpServers.NAME.args.1" from mcporter's zod report (paths hold no values).'''
    decoder = json.JSONDecoder()
    for match in re.finditer(r'\[\s*\{', stderr):
        try:
            issues, _end = decoder.raw_decode(stderr, match.start())
        except ValueError:
            continue
        if isinstance(issues, list) and issues and isinstance(issues[0], dict):
            path = issues[0].get('path') or []
            parts = ['%s' % p for p in path if isinstance(p, (int, str)) and re.match(r'^[\w.@-]{1,64}$', '%s' % p)]
            if parts:
                return 'schema_error: %s' % '.'.join(parts)
    return 'schema_error'


def parse_list_result(result):
    '''(servers by exact name, text around the JSON) from a `list --json` run.'''
    document, noise = extract_json(result.stdout or '', is_list_document)
    if document is None:
        raise classify_run_failure(result)
    servers = {}
    for record in document['servers']:
        if isinstance(record, dict) and isinstance(record.get('name'), str):
            servers[record['name']] = record
    return servers, noise + '\n' + (result.stderr or '')


def parse_config_list_result(result):
    '''Records of `config list --json` (these hold env values: never return them whole).'''
    document, _noise = extract_json(result.stdout or '', is_config_list_document)
    if document is None:
        raise classify_run_failure(result)
    return [r for r in document['servers'] if isinstance(r, dict) and isinstance(r.get('name'), str)]


def local_servers(records, config):
    '''Servers declared by the config file itself, by exact name (editor imports left out).'''
    real = os.path.realpath(config)
    found = {}
    for record in records:
        source = record.get('source') or {}
        if source.get('kind') != 'local':
            continue
        path = source.get('path')
        if path and os.path.realpath(path) != real:
            continue
        found[record['name']] = record
    return found


def tool_names(record):
    return [t['name'] for t in record.get('tools') or [] if isinstance(t, dict) and isinstance(t.get('name'), str)]


# Keys of a `config list` record that rebuild the entry, without allowedTools/blockedTools.
_ENTRY_KEYS = ('command', 'args', 'cwd', 'env', 'baseUrl', 'headers', 'description')


def filter_free_entry(record, config_dir):
    '''The server entry without its tool filters, runnable from a config in another directory.

    `config list` already resolved command, args and cwd (the same environment resolves them
    again for the copy); env stays raw so ${VAR} references resolve exactly as for the real file.
    '''
    entry = dict((k, record[k]) for k in _ENTRY_KEYS if k in record)
    if 'command' in entry and not entry.get('cwd'):
        # mcporter's default cwd is the folder of the config file, not of the temporary copy.
        entry['cwd'] = config_dir
    return entry


def call_text(document):
    '''Joined text parts of a tool result.'''
    parts = []
    for item in document.get('content') or []:
        if isinstance(item, dict) and isinstance(item.get('text'), str):
            parts.append(item['text'])
    return '\n'.join(parts)


def sub_code(text):
    match = _SUB_CODE.search(text or '')
    return match.group(1) if match else None


def classify_probe_text(text):
    '''None when the text proves the credentials work, otherwise the class of failure.'''
    text = text or ''
    if PROBE_OK_SUB_CODE in text:
        return None
    for code, classification in PROBE_SUB_CODES:
        if code in text:
            return classification
    if _SERVER_EXCEPTION in text:
        return 'server_exception'
    if _TOOL_DISABLED.search(text):
        return 'query_tool_disabled'
    return 'unknown'


def classify_call_result(result):
    '''(classification or None, detail, sub code) of a `call --output json` run.'''
    document, noise = extract_json(result.stdout or '', is_call_document)
    noise = noise + '\n' + (result.stderr or '')
    if document is None:
        variable = missing_server_variable(noise)
        if variable:
            return 'missing_env', 'missing_variable: %s' % variable, None
        error = classify_run_failure(result)
        return error.classification, error.detail, None
    if isinstance(document.get('content'), list):
        text = call_text(document)
        return classify_probe_text(text), None, sub_code(text)
    issue = document.get('issue') or {}
    classification, detail = classify_issue(issue.get('rawMessage') or document.get('error'), noise)
    return classification, detail, None


# ---------------------------------------------------------------------------------------------
# Runner
# ---------------------------------------------------------------------------------------------

class McporterRunner(object):
    '''Runs mcporter with the collection's environment, user switch and timeouts.'''

    @classmethod
    def from_params(cls, params):
        '''A runner from the options the doc fragment gives every mcporter module.'''
        return cls(mcporter_path=params['mcporter_path'], timeout=params['timeout'],
                   environment=params['environment'], env_file=params['env_file'], run_as=params['run_as'])

    def __init__(self, mcporter_path='mcporter', timeout=30, environment=None, env_file=None, run_as=None,
                 base_env=None):
        if int(timeout) < 1:
            raise McporterError('config_invalid', 'timeout must be at least 1 second')
        self.mcporter_path = mcporter_path
        self.timeout = int(timeout)
        self.user = resolve_run_as(run_as)
        self.file_env = load_env_file(env_file) if env_file else {}
        self.environment = dict(environment or {})
        self.env = build_env(os.environ if base_env is None else base_env, self.file_env, self.environment,
                             self.user, self.timeout)

    def secret_values(self):
        '''Values loaded from env_file, to be masked in any output (short ones would mask too much).'''
        return [v for v in self.file_env.values() if len(v) >= 8]

    @property
    def log_path(self):
        home = self.user.pw_dir if self.user is not None else self.env.get('HOME', '~')
        return os.path.join(home, SERVER_LOG_NAME)

    def remediation(self, classification):
        return remediation(classification, self.log_path)

    def run(self, args, cwd):
        argv = wrap_run_as([self.mcporter_path] + list(args), self.user, self.env)
        return execute(argv, self.env, cwd, self.timeout + OUTER_GRACE)

    def config_servers(self, config, cwd):
        '''Servers the config file declares, validated by mcporter itself (starts nothing).'''
        try:
            result = self.run(['config', 'list', '--json', '--config', config], cwd)
            return local_servers(parse_config_list_result(result), config)
        except McporterError as error:
            # mcporter runs from the config's folder, so a missing file can surface as a missing
            # working directory: name the real cause.
            if error.detail == 'cwd_missing' and not os.path.exists(config):
                raise McporterError('config_invalid', 'the config file %s does not exist' % config,
                                    detail='file_not_found')
            raise

    def list_config(self, config, cwd):
        return parse_list_result(self.run(['list', '--json', '--exit-code', '--config', config], cwd))

    def list_workspace(self, cwd):
        '''What an agent running mcporter in cwd sees: no --config, default files merged.'''
        return parse_list_result(self.run(['list', '--json'], cwd))

    def call(self, config, server, tool, arguments, cwd):
        payload = json.dumps(arguments, separators=(',', ':'), sort_keys=True)
        return self.run(['call', '%s.%s' % (server, tool), '--args', payload, '--output', 'json',
                         '--config', config], cwd)

    @contextlib.contextmanager
    def temp_config(self, document):
        '''A 0600 config file readable by the run-as user only, removed whatever happens.'''
        # /tmp rather than TMPDIR: Ansible's remote tmp under root's home is not reachable by run_as.
        tmpdir = tempfile.mkdtemp(prefix='mcpops-mcporter-', dir='/tmp' if self.user is not None else None)
        try:
            path = os.path.join(tmpdir, 'mcporter.json')
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, 'w') as handle:
                json.dump(document, handle)
            if self.user is not None:
                try:
                    os.chown(path, self.user.pw_uid, self.user.pw_gid)
                    os.chown(tmpdir, self.user.pw_uid, self.user.pw_gid)
                except OSError:
                    raise McporterError('run_as_failed', 'cannot hand the temporary config to %s (needs root)'
                                        % self.user.pw_name)
            yield path
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)


def with_retries(attempt, retries, delay, retryable=RETRYABLE, sleep=time.sleep):
    '''Call attempt() until it returns a result whose 'classification' is not retryable.'''
    count = 0
    while True:
        count += 1
        outcome = attempt()
        outcome['attempts'] = count
        if outcome.get('classification') not in retryable or count > retries:
            return outcome
        sleep(delay)
