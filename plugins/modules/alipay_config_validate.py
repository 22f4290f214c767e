#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: alipay_config_validate
short_description: Validate and normalise the settings of one Alipay MCP server entry
version_added: 0.1.0
description:
  - Checks the C(AP_*) settings of one Alipay payment MCP server entry before any host is changed,
    and returns them normalised, ready to be written to an mcporter configuration or env file.
  - Meant to run on the controller (C(delegate_to=localhost)); it reads nothing and changes nothing.
  - Every problem is collected, not only the first. Each message names the entry, the C(AP_*) variable
    and the fix, and never contains any part of a key or token (key lengths and fingerprints only).
  - Keys are accepted as single-line base64, base64 broken by whitespace or line breaks, or PEM with
    headers, in PKCS#8 or PKCS#1 form. The private key is always returned as one line of PKCS#8 base64
    without headers (the server fails on a PKCS#8 PEM that keeps its BEGIN/END lines), the Alipay
    public key as one line of SubjectPublicKeyInfo base64.
  - When problems are found the module does not fail by default; it returns RV(valid=false) and the
    messages in RV(errors), so that the validating task can run with C(no_log) and a following task can
    print RV(errors). See O(fail_on_error).
  - B(The result holds the normalised private key) in RV(env). Always run this module with task-level
    C(no_log=true) and print only RV(errors), RV(validation_warnings), RV(select_tools) and the
    fingerprints.
author:
  - mcpops maintainers (@mcpops)
requirements:
  - cryptography (Python library, on the host that runs the module, normally the controller)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Read only; check mode returns the same result.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  name:
    description:
      - Name of the entry (the mcporter server name), used as prefix of every message.
      - Must match C(^[a-z0-9][a-z0-9_-]{0,63}$).
    type: str
    default: alipay
  app_id:
    description:
      - E(AP_APP_ID), the Alipay app id, 16 digits starting with V(20), for example V(2021000000000001).
      - With O(current_env=sandbox), ids of Alipay sandbox apps (16 digits starting with V(9021)) are
        accepted too.
    type: str
    required: true
  app_private_key:
    description:
      - E(AP_APP_KEY), the private key of the app's restricted key pair.
      - Must be an unencrypted RSA private key of at least 2048 bits. Encrypted keys are refused.
      - Detects a public key or certificate given here (for example the two keys swapped) and
        truncated or damaged keys.
    type: str
    required: true
  alipay_public_key:
    description:
      - E(AP_PUB_KEY), Alipay's public key (X.509 SubjectPublicKeyInfo), copied from the restricted key's
        view page on the Alipay Open Platform. PKCS#1 RSA public keys and PEM are accepted and converted.
      - Must not be the public half of O(app_private_key); that is the app's own public key, not Alipay's.
    type: str
    required: true
  select_tools:
    description:
      - E(AP_SELECT_TOOLS), the tools this entry may use, as a list or a comma-separated string.
      - Items are full tool names (V(create-mobile-alipay-payment), V(create-web-page-alipay-payment),
        V(query-alipay-payment), V(refund-alipay-payment), V(query-alipay-refund)) or their aliases
        (V(mobilePay), V(webPagePay), V(queryPay), V(refundPay), V(refundQuery)).
      - V(all) selects the five tools; it must be given alone. An empty selection is an error, because
        the server would silently enable every tool.
      - Items are trimmed, aliases mapped to full names, duplicates removed, and the result returned in
        the server's order without spaces (the server does not trim items when it maps them, so a spaced
        list silently disables tools).
    type: list
    elements: str
    required: true
  current_env:
    description:
      - E(AP_CURRENT_ENV), V(prod) or V(sandbox), exactly (the server treats anything other than
        V(sandbox) as production).
    type: str
    default: prod
  encryption_algo:
    description:
      - E(AP_ENCRYPTION_ALGO), V(RSA2) (SHA256 signatures) or V(RSA) (SHA1, warned about).
    type: str
    default: RSA2
  return_url:
    description:
      - E(AP_RETURN_URL), where the web payment page returns to. Absolute V(https://) URL without whitespace;
        V(http://) only with O(current_env=sandbox). Empty means unset.
    type: str
  notify_url:
    description:
      - E(AP_NOTIFY_URL), where Alipay posts payment notifications. Same rules as O(return_url).
    type: str
  invoke_auth_token:
    description:
      - E(AP_INVOKE_AUTH_TOKEN), the app_auth_token for calls made by a service provider on behalf of a
        merchant. Printable ASCII without whitespace. Empty means unset.
    type: str
  log_enabled:
    description:
      - E(AP_LOG_ENABLED). The server then appends every request, and the app id, to
        C(~/mcp-server-alipay.log), which it never rotates.
    type: bool
    default: true
  fail_on_error:
    description:
      - Fail the task when problems are found, with RV(errors) joined into C(msg).
      - C(msg) holds no secrets, but the task still needs C(no_log=true) because a successful result holds
        the normalised keys, and its result must never be displayed (for example with a C(debug) of the
        registered variable or by lifting C(no_log)). ansible-core 2.19 still shows C(msg) in the task's
        error line under C(no_log).
    type: bool
    default: false
notes:
  - Ansible cannot mask the normalised keys in the result (they differ from the values given), and
    masking the raw values would garble RV(env) whenever a key was already in its final form. The module
    therefore leaves RV(env) unmasked and hides the secret options in the echoed invocation itself;
    task-level C(no_log) is what protects the result.
seealso:
  - name: Alipay Open Platform
    description: Where the restricted key pair and Alipay's public key are managed.
    link: https://open.alipay.com/
"""

EXAMPLES = r"""
- name: Validate the Alipay entry (result holds keys, hence no_log)
  mcpops.alipay_mcp.alipay_config_validate:
    name: alipay-sandbox
    app_id: "{{ alipay_app_id }}"
    app_private_key: "{{ alipay_app_private_key }}"
    alipay_public_key: "{{ alipay_public_key }}"
    select_tools: queryPay,refundQuery
    current_env: sandbox
    notify_url: https://shop.example.com/alipay/notify
  delegate_to: localhost
  run_once: true
  no_log: true
  register: alipay_check

- name: Show what is wrong with the Alipay entry
  ansible.builtin.assert:
    that: alipay_check.valid
    fail_msg: "{{ alipay_check.errors }}"
    success_msg: >-
      tools {{ alipay_check.select_tools_string }},
      app key {{ alipay_check.app_key_fingerprint }} ({{ alipay_check.app_key_bits }} bits),
      Alipay key {{ alipay_check.alipay_public_key_fingerprint }}
  delegate_to: localhost
  run_once: true

- name: Or stop right here when the entry is broken (the error line shows the messages)
  mcpops.alipay_mcp.alipay_config_validate:
    name: alipay
    app_id: "{{ alipay_app_id }}"
    app_private_key: "{{ alipay_app_private_key }}"
    alipay_public_key: "{{ alipay_public_key }}"
    select_tools: [queryPay, refundQuery]
    fail_on_error: true
  delegate_to: localhost
  no_log: true
  register: alipay_check

- name: Write the normalised variables
  ansible.builtin.template:
    src: alipay.env.j2
    dest: /etc/openclaw/alipay.env
    mode: "0600"
  vars:
    alipay_env: "{{ alipay_check.env }}"
  no_log: true
"""

RETURN = r"""
valid:
  description: Whether the entry has no problems.
  returned: always
  type: bool
  sample: false
errors:
  description:
    - One message per problem, naming the entry, the variable and the fix. Never holds key or token material.
  returned: always
  type: list
  elements: str
  sample:
    - "alipay-sandbox: AP_PUB_KEY holds a private key and AP_APP_KEY holds a public key: the two keys look swapped; ..."
validation_warnings:
  description:
    - Things that were normalised or are discouraged, for example a PKCS#1 key converted to PKCS#8 or spaces
      removed from AP_SELECT_TOOLS. Never holds key or token material.
    - The same messages are also emitted as Ansible warnings, which stay visible under C(no_log).
  returned: always
  type: list
  elements: str
  sample:
    - "alipay: AP_APP_KEY was PKCS#1, PEM with headers; normalised to single-line PKCS#8 base64"
env:
  description:
    - The normalised C(AP_*) variables, all strings, ready to write. Empty when RV(valid=false), so a broken
      entry cannot be written by mistake.
    - B(Holds the private key and token); never display it.
  returned: always
  type: dict
  contains:
    AP_APP_ID:
      description: The app id.
      type: str
    AP_APP_KEY:
      description: The app private key, one line of PKCS#8 base64 without headers.
      type: str
    AP_PUB_KEY:
      description: Alipay's public key, one line of SubjectPublicKeyInfo base64 without headers.
      type: str
    AP_CURRENT_ENV:
      description: V(prod) or V(sandbox).
      type: str
    AP_ENCRYPTION_ALGO:
      description: V(RSA2) or V(RSA).
      type: str
    AP_SELECT_TOOLS:
      description: Full tool names in the server's order, comma-separated without spaces.
      type: str
    AP_LOG_ENABLED:
      description: V(true) or V(false), as a string.
      type: str
    AP_RETURN_URL:
      description: Only present when O(return_url) is set.
      type: str
    AP_NOTIFY_URL:
      description: Only present when O(notify_url) is set.
      type: str
    AP_INVOKE_AUTH_TOKEN:
      description: Only present when O(invoke_auth_token) is set.
      type: str
  sample:
    AP_APP_ID: "2021000000000001"
    AP_APP_KEY: "(PKCS#8 base64)"
    AP_PUB_KEY: "(SubjectPublicKeyInfo base64)"
    AP_CURRENT_ENV: sandbox
    AP_ENCRYPTION_ALGO: RSA2
    AP_SELECT_TOOLS: query-alipay-payment,query-alipay-refund
    AP_LOG_ENABLED: "true"
    AP_NOTIFY_URL: https://shop.example.com/alipay/notify
select_tools:
  description: The selected tools as full names, in the server's order. Empty when the selection is invalid.
  returned: always
  type: list
  elements: str
  sample: [query-alipay-payment, query-alipay-refund]
select_tools_string:
  description: RV(select_tools) joined with commas and no spaces, the value for AP_SELECT_TOOLS.
  returned: always
  type: str
  sample: query-alipay-payment,query-alipay-refund
app_key_fingerprint:
  description:
    - First 16 hex characters of the SHA-256 of the app key's public half (SubjectPublicKeyInfo DER).
      Safe to print; compare it with the key uploaded to Alipay. V(null) when the key could not be read.
  returned: always
  type: str
  sample: 3f1c9a0b7d2e4c58
app_key_bits:
  description: Size of the app private key in bits, V(null) when it could not be read.
  returned: always
  type: int
  sample: 2048
alipay_public_key_fingerprint:
  description: Same fingerprint for Alipay's public key, V(null) when it could not be read.
  returned: always
  type: str
  sample: 8a41d07c9e35b2f6
alipay_public_key_bits:
  description: Size of Alipay's public key in bits, V(null) when it could not be read.
  returned: always
  type: int
  sample: 2048
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.parameters import remove_values

from ansible_collections.mcpops.alipay_mcp.plugins.module_utils._alipay_config import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    HAS_CRYPTOGRAPHY,
    validate_entry,
)

# Options whose values are secret: they are replaced in the returned invocation.
SECRET_OPTIONS = ('app_private_key', 'alipay_public_key', 'invoke_auth_token')
NO_LOG_MARKER = 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', default='alipay'),
            app_id=dict(type='str', required=True),
            app_private_key=dict(type='str', required=True, no_log=True),
            alipay_public_key=dict(type='str', required=True, no_log=True),
            select_tools=dict(type='list', elements='str', required=True),
            current_env=dict(type='str', default='prod'),
            encryption_algo=dict(type='str', default='RSA2'),
            return_url=dict(type='str'),
            notify_url=dict(type='str'),
            invoke_auth_token=dict(type='str', no_log=True),
            log_enabled=dict(type='bool', default=True),
            fail_on_error=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )

    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=CRYPTOGRAPHY_IMPORT_ERROR)

    params = module.params
    outcome = validate_entry(
        app_id=params['app_id'],
        app_private_key=params['app_private_key'],
        alipay_public_key=params['alipay_public_key'],
        select_tools=params['select_tools'],
        current_env=params['current_env'],
        encryption_algo=params['encryption_algo'],
        return_url=params['return_url'],
        notify_url=params['notify_url'],
        invoke_auth_token=params['invoke_auth_token'],
        log_enabled=params['log_enabled'],
        name=params['name'],
    )

    # Ansible masks the raw no_log values wherever they occur in the result. The normalised keys
    # are returned on purpose (the task runs under no_log), and masking would replace a key that
    # was already normalised by '********' while letting a converted one through, or mangle
    # unrelated values that happen to contain a short token. So the raw values are dropped from
    # masking and the invocation echo is sanitised here instead.
    secrets = set(params[option] for option in SECRET_OPTIONS if params[option])
    module.no_log_values.difference_update(secrets)
    # A secret pasted into another option stays hidden in the echo of the arguments.
    invocation = remove_values(params, secrets)
    for option in SECRET_OPTIONS:
        if params[option] is not None:
            invocation[option] = NO_LOG_MARKER

    for warning in outcome['warnings']:
        module.warn(warning)

    result = dict(
        changed=False,
        valid=outcome['valid'],
        errors=outcome['errors'],
        validation_warnings=outcome['warnings'],
        env=outcome['env'],
        select_tools=outcome['select_tools'],
        select_tools_string=outcome['select_tools_string'],
        app_key_fingerprint=outcome['app_key_fingerprint'],
        app_key_bits=outcome['app_key_bits'],
        alipay_public_key_fingerprint=outcome['alipay_public_key_fingerprint'],
        alipay_public_key_bits=outcome['alipay_public_key_bits'],
        invocation=dict(module_args=invocation),
    )

    if params['fail_on_error'] and not outcome['valid']:
        module.fail_json(msg='; '.join(outcome['errors']), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
