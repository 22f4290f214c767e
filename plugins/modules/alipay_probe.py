#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: alipay_probe
short_description: Prove Alipay credentials end to end with a query for an order that cannot exist
version_added: 0.1.0
author:
  - mcpops maintainers (@mcpops)
description:
  - Calls the read-only tool C(query-alipay-payment) of an Alipay MCP server through mcporter
    (C(mcporter call SERVER.query-alipay-payment --args JSON --output json --config FILE)) with an order
    number that cannot exist, and classifies the answer.
  - Alipay answering C(ACQ.TRADE_NOT_EXIST) proves that the app id, the private key, the signature and
    the restricted key's permissions are right; the query moves no money.
  - Other answers are classified with a remediation, for example C(invalid_signature) (the private key
    does not match the uploaded public key), C(missing_signature_key), C(cloud_app_permission) (the
    Payment MCP Server switch is off), C(scene_api_permission) (the tool is not ticked on the restricted key),
    C(server_exception) (see the server log), C(query_tool_disabled) (C(AP_SELECT_TOOLS) leaves the query tool out).
  - Refuses, before running anything, every tool other than C(query-alipay-payment), so it never calls a tool
    that creates a payment or a refund.
  - The server name is matched exactly against the servers the config file declares before the call, so an
    unknown name fails with C(server_not_in_config) instead of probing another server.
  - Read only. Environment values, the server's answer text and its stderr are never returned or logged;
    only the classification and the Alipay sub code are.
requirements:
  - mcporter (0.12.x) and Node.js on the target host.
  - C(runuser) (util-linux) or C(sudo) when O(run_as) names another user.
notes:
  - The call goes to the real Alipay gateway of the server's C(AP_CURRENT_ENV) (production unless C(sandbox)).
    The server logs the request arguments (the probe order number) to C(~/mcp-server-alipay.log) of O(run_as)
    unless C(AP_LOG_ENABLED=false).
  - The call honours the deployed entry's C(allowedTools)/C(blockedTools); when they hide the query tool the
    result is C(query_tool_blocked).
  - The task fails unless the credentials are proven good; the result still holds the classification.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - mcpops.alipay_mcp.mcporter
  - mcpops.alipay_mcp.mcporter.attributes
options:
  server:
    description:
      - Name of the Alipay server entry in O(config), matched exactly.
      - It may not contain dots, whitespace or parentheses (mcporter would read them as part of the call).
    type: str
    default: alipay
  tool:
    description:
      - Tool to call. Only C(query-alipay-payment) (or its alias C(queryPay)) is accepted; any other value
        is refused before anything runs.
    type: str
    default: query-alipay-payment
  out_trade_no:
    description:
      - Merchant order number to query; it must not exist so that Alipay answers C(ACQ.TRADE_NOT_EXIST).
      - 1 to 64 characters among letters, digits, C(_) and C(-).
    type: str
    default: MCPOPS-PROBE-0000000000000000
seealso:
  - module: mcpops.alipay_mcp.mcporter_health
'''

EXAMPLES = r'''
- name: Prove the sandbox credentials of the gateway's Alipay server
  mcpops.alipay_mcp.alipay_probe:
    config: /home/openclaw/.openclaw/workspace/config/mcporter.json
    server: alipay
    run_as: openclaw
    env_file: /home/openclaw/.config/openclaw/alipay.env
  become: true
  register: probe

- name: Probe a second entry, retrying once on a network hiccup
  mcpops.alipay_mcp.alipay_probe:
    config: /home/openclaw/.openclaw/workspace/config/mcporter.json
    server: alipay-sandbox
    run_as: openclaw
    retries: 1
    retry_delay: 5
    out_trade_no: MCPOPS-PROBE-{{ inventory_hostname | hash('md5') | truncate(16, true, '') }}
  become: true

- name: Explain a failure without stopping the play
  mcpops.alipay_mcp.alipay_probe:
    config: /home/openclaw/.openclaw/workspace/config/mcporter.json
    run_as: openclaw
  become: true
  register: probe
  failed_when: false

- name: Show the remediation
  ansible.builtin.debug:
    msg: "{{ probe.classification }}: {{ probe.remediation }}"
  when: not probe.credentials_ok
'''

RETURN = r'''
credentials_ok:
  description: Whether Alipay answered C(ACQ.TRADE_NOT_EXIST), which proves credentials, signature and permissions.
  returned: always
  type: bool
  sample: true
status:
  description: C(ok) or C(failed).
  returned: always
  type: str
  sample: ok
msg:
  description: Summary of the outcome.
  returned: always
  type: str
  sample: "alipay: credentials, signature and permissions work (ACQ.TRADE_NOT_EXIST)"
server:
  description: The server probed.
  returned: always
  type: str
  sample: alipay
tool:
  description: The tool called (always the full name C(query-alipay-payment)).
  returned: always
  type: str
  sample: query-alipay-payment
out_trade_no:
  description: The order number queried.
  returned: always
  type: str
  sample: MCPOPS-PROBE-0000000000000000
classification:
  description:
    - Class of failure, null when the credentials work.
    - One of C(invalid_signature), C(missing_signature_key), C(cloud_app_permission), C(scene_api_permission),
      C(server_exception), C(query_tool_disabled), C(query_tool_blocked), C(tool_refused), C(mcporter_not_found),
      C(node_not_found), C(run_as_failed), C(env_file_invalid), C(config_invalid), C(server_not_in_config),
      C(server_binary_missing), C(missing_env), C(invalid_tool_selection), C(timeout), C(offline), C(unknown).
  returned: always
  type: str
  sample: invalid_signature
remediation:
  description: What to do about RV(classification), null when the credentials work.
  returned: always
  type: str
detail:
  description: "Safe detail of RV(classification), for example C(missing_variable: AP_PUB_KEY); never a value."
  returned: always
  type: str
sub_code:
  description: Alipay sub code found in the answer, if any.
  returned: always
  type: str
  sample: ACQ.TRADE_NOT_EXIST
duration_ms:
  description: Duration of the last mcporter call.
  returned: always
  type: int
  sample: 712
attempts:
  description: How many calls were made (see O(retries)); 0 when the probe was refused or the server is unknown.
  returned: always
  type: int
  sample: 1
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mcpops.alipay_mcp.plugins.module_utils._mcporter import (
    OUT_TRADE_NO_PATTERN,
    PROBE_OK_SUB_CODE,
    PROBE_TOOL,
    SERVER_NAME_PATTERN,
    DEFAULT_PROBE_ORDER,
    McporterError,
    McporterRunner,
    canonical_tool,
    classify_call_result,
    common_argument_spec,
    remediation,
    with_retries,
    workspace_for,
)


def main():
    argument_spec = common_argument_spec()
    argument_spec.update(
        server=dict(type='str', default='alipay'),
        tool=dict(type='str', default=PROBE_TOOL),
        out_trade_no=dict(type='str', default=DEFAULT_PROBE_ORDER),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    server = params['server']
    result = {
        'changed': False,
        'credentials_ok': False,
        'status': 'failed',
        'server': server,
        'tool': PROBE_TOOL,
        'out_trade_no': params['out_trade_no'],
        'classification': None,
        'remediation': None,
        'detail': None,
        'sub_code': None,
        'duration_ms': None,
        'attempts': 0,
    }

    def fail(msg, classification, detail=None, log_remediation=None):
        result.update(classification=classification, detail=detail,
                      remediation=log_remediation or remediation(classification))
        module.fail_json(msg=msg, **result)

    # Everything that could move money is refused before anything runs.
    if canonical_tool(params['tool']) != PROBE_TOOL:
        result['tool'] = params['tool']
        fail('Refusing to call %s: only the read-only %s may be probed' % (params['tool'], PROBE_TOOL), 'tool_refused')
    if not OUT_TRADE_NO_PATTERN.match(params['out_trade_no'] or ''):
        module.fail_json(msg='out_trade_no must be 1 to 64 letters, digits, _ or -', **result)
    if not SERVER_NAME_PATTERN.match(server or ''):
        module.fail_json(msg='server may not contain dots, whitespace or parentheses', **result)

    try:
        runner = McporterRunner.from_params(params)
    except McporterError as exc:
        fail(exc.message, exc.classification, exc.detail)
    module.no_log_values.update(runner.secret_values())

    config = params['config']
    cwd = workspace_for(config)
    try:
        declared = runner.config_servers(config, cwd)
    except McporterError as exc:
        fail('Cannot read %s: %s' % (config, exc.message), exc.classification, exc.detail,
             runner.remediation(exc.classification))
    if server not in declared:
        fail('%s declares no server named exactly %s' % (config, server), 'server_not_in_config',
             log_remediation=runner.remediation('server_not_in_config'))

    def attempt():
        run = runner.call(config, server, PROBE_TOOL, {'outTradeNo': params['out_trade_no']}, cwd)
        classification, detail, code = classify_call_result(run)
        return {'classification': classification, 'detail': detail, 'sub_code': code,
                'duration_ms': int(run.elapsed * 1000)}

    outcome = with_retries(attempt, params['retries'], params['retry_delay'])
    result.update(sub_code=outcome['sub_code'], duration_ms=outcome['duration_ms'], attempts=outcome['attempts'])
    if outcome['classification'] is None:
        result.update(credentials_ok=True, status='ok')
        module.exit_json(msg='%s: credentials, signature and permissions work (%s)' % (server, PROBE_OK_SUB_CODE),
                         **result)
    fail('%s: probe failed (%s)' % (server, outcome['classification']), outcome['classification'],
         outcome['detail'], runner.remediation(outcome['classification']))


if __name__ == '__main__':
    main()
