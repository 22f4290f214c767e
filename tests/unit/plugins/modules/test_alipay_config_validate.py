# -*- coding: utf-8 -*-
# Copyright (c) mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of the alipay_config_validate module through AnsibleModule.

Keys are generated at run time; nothing secret is stored in the repository.
"""

from __future__ import annotations

import base64
import json

import pytest

pytest.importorskip('cryptography')

# pylint: disable=wrong-import-position
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from ansible.module_utils.common import warnings as ansible_warnings  # noqa: E402
from ansible.module_utils.testing import patch_module_args  # noqa: E402

from ansible_collections.mcpops.alipay_mcp.plugins.modules import alipay_config_validate  # noqa: E402

APP_ID = '2021000000000001'
TOOLS = 'create-mobile-alipay-payment,query-alipay-payment'


def _b64(data):
    return base64.b64encode(data).decode('ascii')


@pytest.fixture(scope='module')
def keys():
    app = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    alipay = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    none = serialization.NoEncryption()
    return {
        'app_pkcs8': _b64(app.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, none)),
        'app_pkcs1_pem': app.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                           none).decode('ascii'),
        'app_spki': _b64(app.public_key().public_bytes(serialization.Encoding.DER,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo)),
        'alipay_spki': _b64(alipay.public_key().public_bytes(serialization.Encoding.DER,
                                                             serialization.PublicFormat.SubjectPublicKeyInfo)),
    }


@pytest.fixture(autouse=True)
def _fresh_warnings():
    # AnsibleModule keeps warnings in a process-wide registry; isolate each test.
    ansible_warnings._global_warnings.clear()  # pylint: disable=protected-access
    yield
    ansible_warnings._global_warnings.clear()  # pylint: disable=protected-access


def run_module(capsys, args):
    """Run main() with args; return (exit code, parsed result, raw stdout)."""
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            alipay_config_validate.main()
    out = capsys.readouterr().out
    return exc.value.code, json.loads(out), out


def base_args(keys, **overrides):
    args = dict(app_id=APP_ID, app_private_key=keys['app_pkcs8'], alipay_public_key=keys['alipay_spki'],
                select_tools=TOOLS)
    args.update(overrides)
    return args


def test_valid_entry(capsys, keys):
    code, result, _out = run_module(capsys, base_args(keys, name='alipay-prod',
                                                      notify_url='https://shop.example.com/n'))
    assert code == 0
    assert result['changed'] is False
    assert not result.get('failed')
    assert result['valid'] is True
    assert result['errors'] == []
    assert result['validation_warnings'] == []
    assert result['select_tools'] == TOOLS.split(',')
    assert result['select_tools_string'] == TOOLS
    assert result['app_key_bits'] == 2048
    assert result['alipay_public_key_bits'] == 2048
    assert len(result['app_key_fingerprint']) == 16
    assert result['env'] == {
        'AP_APP_ID': APP_ID,
        'AP_APP_KEY': keys['app_pkcs8'],
        'AP_PUB_KEY': keys['alipay_spki'],
        'AP_CURRENT_ENV': 'prod',
        'AP_ENCRYPTION_ALGO': 'RSA2',
        'AP_SELECT_TOOLS': TOOLS,
        'AP_LOG_ENABLED': 'true',
        'AP_NOTIFY_URL': 'https://shop.example.com/n',
    }


def test_already_normalised_key_is_not_masked(capsys, keys):
    """A key given in its final form must come back intact in env, not as '********'."""
    code, result, _out = run_module(capsys, base_args(keys, invoke_auth_token='true'))
    assert code == 0
    assert result['env']['AP_APP_KEY'] == keys['app_pkcs8']
    assert result['env']['AP_PUB_KEY'] == keys['alipay_spki']
    # A short token must not mangle other values either.
    assert result['env']['AP_LOG_ENABLED'] == 'true'
    assert result['env']['AP_INVOKE_AUTH_TOKEN'] == 'true'


def test_invocation_hides_secrets(capsys, keys):
    args = base_args(keys, app_private_key=keys['app_pkcs1_pem'], invoke_auth_token='tok-0123456789abcdef')
    code, result, out = run_module(capsys, args)
    assert code == 0
    module_args = result['invocation']['module_args']
    for option in ('app_private_key', 'alipay_public_key', 'invoke_auth_token'):
        assert module_args[option] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
    assert module_args['app_id'] == APP_ID
    # The PEM input appears nowhere; only its normalised form, in env.
    pem_body = ''.join(line for line in keys['app_pkcs1_pem'].splitlines() if not line.startswith('-----'))
    assert pem_body[:64] not in out
    assert result['env']['AP_APP_KEY'] == keys['app_pkcs8']


def test_normalisation_warnings(capsys, keys):
    args = base_args(keys, app_private_key=keys['app_pkcs1_pem'], select_tools='mobilePay, queryPay')
    code, result, _out = run_module(capsys, args)
    assert code == 0
    assert result['valid'] is True
    assert result['select_tools_string'] == TOOLS
    notes = result['validation_warnings']
    assert any('AP_APP_KEY was PKCS#1' in msg for msg in notes)
    assert any('AP_SELECT_TOOLS had spaces' in msg for msg in notes)
    # The same messages are emitted as Ansible warnings, which stay visible under no_log.
    assert len(result['warnings']) == len(notes)


def test_list_and_string_selection(capsys, keys):
    for value in (['mobilePay', 'queryPay'], 'queryPay,mobilePay', ['mobilePay,queryPay']):
        code, result, _out = run_module(capsys, base_args(keys, select_tools=value))
        assert code == 0
        assert result['select_tools_string'] == TOOLS


def test_problems_do_not_fail_by_default(capsys, keys):
    args = base_args(keys, app_private_key=keys['alipay_spki'], alipay_public_key=keys['app_pkcs8'],
                     select_tools='all,bogus', current_env='Sandbox', name='alipay-sandbox')
    code, result, out = run_module(capsys, args)
    assert code == 0
    assert not result.get('failed')
    assert result['changed'] is False
    assert result['valid'] is False
    assert result['env'] == {}
    assert len(result['errors']) >= 4
    assert all(msg.startswith('alipay-sandbox: ') for msg in result['errors'])
    for secret in (keys['app_pkcs8'], keys['alipay_spki']):
        assert secret[40:56] not in out


def test_fail_on_error(capsys, keys):
    args = base_args(keys, alipay_public_key=keys['app_spki'], fail_on_error=True)
    code, result, out = run_module(capsys, args)
    assert code == 1
    assert result['failed'] is True
    assert result['valid'] is False
    assert 'AP_PUB_KEY is the public half of AP_APP_KEY' in result['msg']
    assert result['msg'] == '; '.join(result['errors'])
    for secret in (keys['app_pkcs8'], keys['app_spki'], keys['alipay_spki']):
        for start in range(0, len(secret) - 16, 16):
            assert secret[start:start + 16] not in out


def test_fail_on_error_passes_when_valid(capsys, keys):
    code, result, _out = run_module(capsys, base_args(keys, fail_on_error=True))
    assert code == 0
    assert result['valid'] is True


def test_check_mode_same_result(capsys, keys):
    args = base_args(keys, app_private_key=keys['app_pkcs1_pem'], select_tools='queryPay , all')
    _code, normal, _out = run_module(capsys, args)
    code, checked, _out = run_module(capsys, dict(args, _ansible_check_mode=True))
    assert code == 0
    assert checked['changed'] is False
    for key in ('valid', 'errors', 'validation_warnings', 'env', 'select_tools', 'app_key_fingerprint',
                'alipay_public_key_fingerprint', 'app_key_bits'):
        assert checked[key] == normal[key]

    _code, normal, _out = run_module(capsys, base_args(keys))
    code, checked, _out = run_module(capsys, dict(base_args(keys), _ansible_check_mode=True))
    assert code == 0
    assert checked['valid'] is True
    assert checked['env'] == normal['env']


def test_required_options(capsys):
    code, result, _out = run_module(capsys, dict(app_id=APP_ID))
    assert code == 1
    assert result['failed'] is True
    for option in ('app_private_key', 'alipay_public_key', 'select_tools'):
        assert option in result['msg']


def test_missing_cryptography(capsys, keys, monkeypatch):
    monkeypatch.setattr(alipay_config_validate, 'HAS_CRYPTOGRAPHY', False)
    code, result, _out = run_module(capsys, base_args(keys))
    assert code == 1
    assert result['failed'] is True
    assert 'cryptography' in result['msg']


def test_secret_in_wrong_option_hidden_in_invocation(capsys, keys):
    code, result, out = run_module(capsys, base_args(keys, app_id=keys['app_pkcs8']))
    assert code == 0
    assert result['valid'] is False
    assert result['invocation']['module_args']['app_id'] != keys['app_pkcs8']
    assert keys['app_pkcs8'][100:116] not in out
