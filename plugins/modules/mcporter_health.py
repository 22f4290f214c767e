#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: mcporter_health
short_description: Check the MCP servers of an mcporter config, their real tool sets and what agents see
version_added: 0.1.0
author:
  - mcpops maintainers (@mcpops)
description:
  - Starts each server of an C(mcporter.json) file with C(mcporter list --json --exit-code) and reports, per
    server, whether it answers and which tools it really exposes, with a classification and a remediation
    for each failure (missing C(AP_*) variable, missing server binary, invalid C(AP_SELECT_TOOLS), timeout...).
  - Each server is listed from a filter-free temporary copy of its entry (same command, args, env and cwd,
    without C(allowedTools)/C(blockedTools), with an empty C(imports) list), because mcporter's tool filters hide
    tools from C(list), and because servers listed in the same mcporter run see each other's C(env).
    The copy is mode C(0600), owned by O(run_as), and removed afterwards even on failure.
  - Server names are matched exactly by this module; no name is ever given to mcporter, which silently
    auto-corrects a name to the closest configured server.
  - With O(expected_tools), the real tool set must equal the expected one (a missing or an extra tool fails,
    least privilege), and the deployed entry's C(allowedTools) must equal it too.
  - With O(agent_workspace), also lists from that directory without C(--config), as an openclaw agent's
    mcporter does (it merges C(<workspace>/config/mcporter.json) with C(~/.mcporter/mcporter.json)), and
    reports which servers an agent working there sees.
  - Read only. Environment values and the servers' stderr are never returned or logged.
requirements:
  - mcporter (0.12.x) and Node.js on the target host.
  - C(runuser) (util-linux) or C(sudo) when O(run_as) names another user.
notes:
  - The task fails when any checked server is unhealthy, or when the agent view differs from
    O(agent_expect_servers); the result still holds every server's details.
  - Servers are checked one after the other, each within O(timeout) seconds (plus retries).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mcpops.alipay_mcp.mcporter
  - mcpops.alipay_mcp.mcporter.attributes
options:
  servers:
    description:
      - Names of the servers to check, matched exactly. A name the config file does not declare gives the
        classification C(server_not_in_config).
      - Default is every server the config file declares.
    type: list
    elements: str
  expected_tools:
    description:
      - Exact tool set expected per server, as a mapping of server name to a list of tool names.
      - The aliases of C(AP_SELECT_TOOLS) (C(mobilePay), C(webPagePay), C(queryPay), C(refundPay),
        C(refundQuery)) are accepted and mapped to the full tool names.
      - For a server listed here, a tool it exposes beyond the list gives C(tool_mismatch) just as a missing
        one does, and its C(allowedTools) must be exactly this set (C(allowed_tools_mismatch) otherwise).
    type: dict
  agent_workspace:
    description:
      - Workspace directory of an openclaw agent (for example C(~openclaw/.openclaw/workspace)). mcporter is run
        there as O(run_as) without C(--config), so it reads what that agent's mcporter reads.
      - Servers of that view are started too (their status is reported), so stray entries show with their source file.
    type: path
  agent_expect_servers:
    description:
      - Exact set of server names an agent in O(agent_workspace) must see; any difference makes the task fail
        with C(agent_view_mismatch). Without it, the agent view is reported only.
    type: list
    elements: str
seealso:
  - module: mcpops.alipay_mcp.alipay_probe
'''

EXAMPLES = r'''
- name: Check the Alipay server of the gateway's workspace
  mcpops.alipay_mcp.mcporter_health:
    config: /home/openclaw/.openclaw/workspace/config/mcporter.json
    run_as: openclaw
    env_file: /home/openclaw/.config/openclaw/alipay.env
    environment:
      PATH: /opt/node-24/bin:/usr/local/bin:/usr/bin:/bin
    expected_tools:
      alipay:
        - queryPay
        - query-alipay-refund
  become: true
  register: health

- name: Check every server, and what the customer-service agent sees
  mcpops.alipay_mcp.mcporter_health:
    config: /home/openclaw/.openclaw/workspace-customer-service/config/mcporter.json
    run_as: openclaw
    timeout: 20
    retries: 1
    agent_workspace: /home/openclaw/.openclaw/workspace-customer-service
    agent_expect_servers:
      - alipay
  become: true

- name: Report without failing the play
  mcpops.alipay_mcp.mcporter_health:
    config: /home/openclaw/.openclaw/workspace/config/mcporter.json
    run_as: openclaw
  become: true
  register: health
  failed_when: false

- name: Show what to fix
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.classification }} - {{ item.remediation }}"
  loop: "{{ health.servers | rejectattr('status', 'eq', 'ok') }}"
'''

RETURN = r'''
healthy:
  description: Whether every checked server is healthy and, with O(agent_expect_servers), the agent view matches.
  returned: always
  type: bool
  sample: true
msg:
  description: Summary naming the unhealthy servers and their classifications.
  returned: always
  type: str
  sample: "Unhealthy: alipay (missing_env)"
config:
  description: The config file checked.
  returned: always
  type: str
  sample: /home/openclaw/.openclaw/workspace/config/mcporter.json
classification:
  description: Class of a failure that stopped the check before any server was listed (for example C(config_invalid)).
  returned: when the config could not be read
  type: str
  sample: config_invalid
remediation:
  description: What to do about RV(classification).
  returned: when RV(classification) is returned
  type: str
detail:
  description: "Safe detail of RV(classification), such as C(missing_variable: AP_APP_KEY_SANDBOX) or C(file_not_found)."
  returned: when the config could not be read
  type: str
servers:
  description: One entry per checked server, in the order of the config file (or of O(servers)).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Server name, as in the config file.
      type: str
      sample: alipay
    status:
      description: C(ok) or C(failed).
      type: str
      sample: ok
    tools:
      description: Tool names the server really exposes (without the entry's tool filters); null when it could not be listed.
      type: list
      elements: str
      sample: [query-alipay-payment, query-alipay-refund]
    duration_ms:
      description: Time mcporter took to list the server.
      type: int
      sample: 231
    allowed_tools:
      description: The deployed entry's C(allowedTools); null when it has none.
      type: list
      elements: str
      sample: [query-alipay-payment, query-alipay-refund]
    blocked_tools:
      description: The deployed entry's C(blockedTools); null when it has none.
      type: list
      elements: str
    expected_tools:
      description: Expected tool set from O(expected_tools) with aliases mapped to full names; null when not given.
      type: list
      elements: str
    missing_tools:
      description: Expected tools the server does not expose.
      type: list
      elements: str
      sample: []
    extra_tools:
      description: Tools the server exposes beyond the expected set.
      type: list
      elements: str
      sample: [refund-alipay-payment]
    classification:
      description:
        - First class of failure, null when the server is healthy.
        - One of C(mcporter_not_found), C(node_not_found), C(run_as_failed), C(config_invalid), C(server_not_in_config),
          C(server_binary_missing), C(missing_env), C(invalid_tool_selection), C(timeout), C(offline),
          C(tool_mismatch), C(allowed_tools_mismatch), C(unknown).
      type: str
      sample: missing_env
    remediation:
      description: What to do about RV(servers[].classification), null when healthy.
      type: str
    detail:
      description:
        - "Safe detail of RV(servers[].classification), for example C(missing_variable: AP_APP_KEY),
          C(invalid_item: bogus) or C(cwd_missing). Never a value, never raw server output."
      type: str
      sample: "missing_variable: AP_APP_KEY"
    issues:
      description: Every failure found for the server (a server can fail both tool checks), first one first.
      type: list
      elements: dict
      contains:
        classification:
          description: Class of failure.
          type: str
        remediation:
          description: What to do about it.
          type: str
        detail:
          description: Safe detail, or null.
          type: str
    attempts:
      description: How many times the server was listed (see O(retries)); 0 when it was not listed at all.
      type: int
      sample: 1
agent_view:
  description: What an agent running mcporter in O(agent_workspace) sees.
  returned: when O(agent_workspace) is set
  type: dict
  contains:
    workspace:
      description: The workspace listed from.
      type: str
    status:
      description: C(ok), or C(failed) when the listing failed or differs from O(agent_expect_servers).
      type: str
    server_names:
      description: Names of the servers the agent sees.
      type: list
      elements: str
      sample: [alipay]
    servers:
      description:
        - Each server the agent sees with its mcporter status and the file (or import) that declares it.
        - These servers start together in one mcporter run, where each one also receives the other entries' C(env)
          values, so their status can differ from the isolated checks in RV(servers); trust RV(servers) for health.
      type: list
      elements: dict
      sample:
        - name: alipay
          status: ok
          source: /home/openclaw/.openclaw/workspace/config/mcporter.json
    expected_servers:
      description: O(agent_expect_servers), or null.
      type: list
      elements: str
    missing_servers:
      description: Expected servers the agent does not see.
      type: list
      elements: str
    unexpected_servers:
      description: Servers the agent sees that were not expected.
      type: list
      elements: str
    classification:
      description: C(agent_view_mismatch), the class of a failed listing, or null.
      type: str
    remediation:
      description: What to do about RV(agent_view.classification), or null.
      type: str
    detail:
      description: Safe detail, or null.
      type: str
'''

import json
import os
import threading

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mcpops.alipay_mcp.plugins.module_utils._mcporter import (
    McporterError,
    McporterRunner,
    canonical_tool,
    classify_issue,
    common_argument_spec,
    filter_free_entry,
    remediation,
    tool_names,
    with_retries,
    workspace_for,
)


def normalize_expected(raw):
    '''expected_tools with aliases mapped; raises ValueError on a malformed value.'''
    expected = {}
    for server, tools in (raw or {}).items():
        if isinstance(tools, str):
            tools = [t.strip() for t in tools.split(',') if t.strip()]
        if not isinstance(tools, list) or not all(isinstance(t, str) for t in tools):
            raise ValueError('expected_tools.%s must be a list of tool names' % server)
        names = []
        for tool in tools:
            name = canonical_tool(tool.strip())
            if name not in names:
                names.append(name)
        expected[server] = names
    return expected


def _issue(runner, classification, detail=None):
    return {'classification': classification, 'remediation': runner.remediation(classification), 'detail': detail}


def _server_result(name, issues, **fields):
    result = {
        'name': name,
        'status': 'failed' if issues else 'ok',
        'tools': None,
        'duration_ms': None,
        'allowed_tools': None,
        'blocked_tools': None,
        'expected_tools': None,
        'missing_tools': [],
        'extra_tools': [],
        'classification': issues[0]['classification'] if issues else None,
        'remediation': issues[0]['remediation'] if issues else None,
        'detail': issues[0]['detail'] if issues else None,
        'issues': issues,
        'attempts': 0,
    }
    result.update(fields)
    return result


def list_one(runner, name, record, config_dir, cwd):
    '''One try at listing the server from a filter-free temporary config.'''
    entry = filter_free_entry(record, config_dir)
    document = {'mcpServers': {name: entry}, 'imports': []}
    try:
        with runner.temp_config(document) as path:
            servers, noise = runner.list_config(path, cwd)
    except McporterError as exc:
        return {'classification': exc.classification, 'detail': exc.detail}
    listed = servers.get(name)
    if listed is None:
        return {'classification': 'unknown', 'detail': 'server absent from the listing'}
    if listed.get('status') == 'ok':
        return {'classification': None, 'detail': None, 'tools': tool_names(listed),
                'duration_ms': listed.get('durationMs')}
    issue = listed.get('issue') or {}
    classification, detail = classify_issue(issue.get('rawMessage') or listed.get('error'), noise)
    if classification == 'server_binary_missing' and entry.get('cwd') and not os.path.isdir(entry['cwd']):
        # Node reports a missing working directory as "spawn <command> ENOENT" too.
        detail = 'cwd_missing'
    return {'classification': classification, 'detail': detail, 'duration_ms': listed.get('durationMs')}


def check_server(runner, name, record, config_dir, cwd, expected, retries, retry_delay):
    outcome = with_retries(lambda: list_one(runner, name, record, config_dir, cwd), retries, retry_delay)
    issues = []
    if outcome['classification']:
        issues.append(_issue(runner, outcome['classification'], outcome['detail']))
    tools = outcome.get('tools')
    fields = {
        'tools': tools,
        'duration_ms': outcome.get('duration_ms'),
        'allowed_tools': record.get('allowedTools'),
        'blocked_tools': record.get('blockedTools'),
        'expected_tools': expected,
        'attempts': outcome['attempts'],
    }
    if expected is not None and tools is not None:
        missing = [t for t in expected if t not in tools]
        extra = [t for t in tools if t not in expected]
        fields.update(missing_tools=missing, extra_tools=extra)
        if missing or extra:
            parts = []
            if missing:
                parts.append('missing: ' + ', '.join(missing))
            if extra:
                parts.append('extra: ' + ', '.join(extra))
            issues.append(_issue(runner, 'tool_mismatch', '; '.join(parts)))
    if expected is not None:
        allowed = record.get('allowedTools')
        if allowed is None:
            detail = 'blockedTools used instead of allowedTools' if record.get('blockedTools') else 'allowedTools not set'
            issues.append(_issue(runner, 'allowed_tools_mismatch', detail))
        elif sorted(set(allowed)) != sorted(set(expected)) or len(allowed) != len(set(allowed)):
            issues.append(_issue(runner, 'allowed_tools_mismatch', 'allowedTools: ' + ', '.join(allowed)))
    return _server_result(name, issues, **fields)


def plain_entries(config):
    '''The config's own server entries when it is plain JSON, else None (mcporter's reading decides).'''
    try:
        with open(config, encoding='utf-8') as handle:
            document = json.load(handle)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    servers = document.get('mcpServers') if isinstance(document, dict) else None
    if not isinstance(servers, dict):
        return None
    return dict((name, record) for name, record in servers.items() if isinstance(record, dict))


def same_entry(local, declared, config_dir):
    '''Whether a plain-JSON entry lists exactly as the entry mcporter read from the same file.'''
    return (filter_free_entry(local, config_dir) == filter_free_entry(declared, config_dir)
            and local.get('allowedTools') == declared.get('allowedTools')
            and local.get('blockedTools') == declared.get('blockedTools'))


class DeclaredServers(threading.Thread):
    '''`mcporter config list` in the background: mcporter's own reading and validation of the config.'''

    def __init__(self, runner, config, cwd):
        threading.Thread.__init__(self)
        self.daemon = True
        self.runner, self.config, self.cwd = runner, config, cwd
        self.servers, self.error = None, None

    def run(self):
        try:
            self.servers = self.runner.config_servers(self.config, self.cwd)
        except McporterError as exc:
            self.error = exc


def agent_view(runner, workspace, expect):
    view = {
        'workspace': workspace,
        'status': 'ok',
        'server_names': [],
        'servers': [],
        'expected_servers': expect,
        'missing_servers': [],
        'unexpected_servers': [],
        'classification': None,
        'remediation': None,
        'detail': None,
    }

    def fail(classification, detail=None):
        view.update(status='failed', classification=classification,
                    remediation=runner.remediation(classification), detail=detail)
        return view

    if not os.path.isdir(workspace):
        return fail('agent_view_mismatch', 'workspace_missing')
    try:
        servers, _noise = runner.list_workspace(workspace)
    except McporterError as exc:
        return fail(exc.classification, exc.detail)
    for name, record in servers.items():
        source = record.get('source') or {}
        view['servers'].append({'name': name, 'status': record.get('status'),
                                'source': source.get('path') or source.get('kind')})
    view['server_names'] = list(servers)
    if expect is not None:
        view['missing_servers'] = [n for n in expect if n not in servers]
        view['unexpected_servers'] = [n for n in servers if n not in expect]
        if view['missing_servers'] or view['unexpected_servers']:
            return fail('agent_view_mismatch')
    return view


def summary(servers, view):
    bad = ['%s (%s)' % (s['name'], ', '.join(i['classification'] for i in s['issues']))
           for s in servers if s['status'] != 'ok']
    if view is not None and view['status'] != 'ok' and view['expected_servers'] is not None:
        bad.append('agent view of %s (%s)' % (view['workspace'], view['classification']))
    if bad:
        return 'Unhealthy: ' + '; '.join(bad)
    return '%d server(s) healthy: %s' % (len(servers), ', '.join(s['name'] for s in servers))


def main():
    argument_spec = common_argument_spec()
    argument_spec.update(
        servers=dict(type='list', elements='str'),
        expected_tools=dict(type='dict'),
        agent_workspace=dict(type='path'),
        agent_expect_servers=dict(type='list', elements='str'),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_by={'agent_expect_servers': 'agent_workspace'},
    )
    params = module.params
    config = params['config']
    result = {'changed': False, 'healthy': False, 'config': config, 'servers': []}

    try:
        expected = normalize_expected(params['expected_tools'])
    except ValueError as exc:
        module.fail_json(msg='%s' % exc, **result)

    try:
        runner = McporterRunner.from_params(params)
    except McporterError as exc:
        module.fail_json(msg=exc.message, classification=exc.classification, detail=exc.detail,
                         remediation=remediation(exc.classification), **result)
    module.no_log_values.update(runner.secret_values())

    cwd = workspace_for(config)
    config_dir = os.path.dirname(os.path.abspath(config))
    # mcporter reads and validates the config (`config list`) while the servers a plain-JSON reading of
    # the same file declares are already being listed: each listing is kept only when mcporter read
    # that entry the same way, otherwise it is listed again from mcporter's reading. Same results as
    # one after the other, without waiting for the extra mcporter start first.
    reader = DeclaredServers(runner, config, cwd)
    reader.start()
    local = plain_entries(config)
    early = {}
    if local is not None:
        for name in (params['servers'] if params['servers'] is not None else list(local)):
            if name in local and name not in early:
                early[name] = check_server(runner, name, local[name], config_dir, cwd, expected.get(name),
                                           params['retries'], params['retry_delay'])
    reader.join()
    if reader.error is not None:
        exc = reader.error
        module.fail_json(msg='Cannot read %s: %s' % (config, exc.message), classification=exc.classification,
                         remediation=runner.remediation(exc.classification), detail=exc.detail, **result)
    declared = reader.servers

    names = params['servers'] if params['servers'] is not None else list(declared)
    if not names:
        module.fail_json(msg='%s declares no server' % config, classification='server_not_in_config',
                         remediation=runner.remediation('server_not_in_config'), detail='no servers', **result)
    for name in expected:
        if name not in names:
            module.warn('expected_tools names %s, which is not checked' % name)

    servers = []
    for name in names:
        if name not in declared:
            servers.append(_server_result(name, [_issue(runner, 'server_not_in_config')],
                                          expected_tools=expected.get(name)))
            continue
        if name in early and same_entry(local[name], declared[name], config_dir):
            servers.append(early[name])
            continue
        servers.append(check_server(runner, name, declared[name], config_dir, cwd, expected.get(name),
                                    params['retries'], params['retry_delay']))
    result['servers'] = servers

    view = None
    if params['agent_workspace']:
        view = agent_view(runner, params['agent_workspace'], params['agent_expect_servers'])
        result['agent_view'] = view

    healthy = all(s['status'] == 'ok' for s in servers)
    if view is not None and params['agent_expect_servers'] is not None and view['status'] != 'ok':
        healthy = False
    result['healthy'] = healthy
    result['msg'] = summary(servers, view)
    if not healthy:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
