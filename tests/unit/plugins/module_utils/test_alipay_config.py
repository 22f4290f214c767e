# -*- coding: utf-8 -*-
# Copyright (c) mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for the private _alipay_config helpers.

All key material is generated at run time; nothing secret is stored in the repository.
"""

from __future__ import annotations

import base64
import datetime
import hashlib

import pytest

cryptography = pytest.importorskip('cryptography')

# pylint: disable=wrong-import-position
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

from ansible_collections.mcpops.alipay_mcp.plugins.module_utils._alipay_config import (  # noqa: E402
    TOOL_NAMES,
    parse_key_text,
    validate_entry,
)

APP_ID = '2021000000000001'
SANDBOX_APP_ID = '9021000122000001'


def _b64(data):
    return base64.b64encode(data).decode('ascii')


def _armour(edge, label):
    """A PEM armour line, built here so the file holds no PEM text of its own."""
    return '-' * 5 + edge + ' ' + label + '-' * 5


def _wrap(text, width=64):
    return '\n'.join(text[i:i + width] for i in range(0, len(text), width))


class KeyForms:
    """Every encoding of one generated key that the tests feed in."""

    def __init__(self, key):
        self.key = key
        enc = serialization.Encoding
        fmt = serialization.PrivateFormat
        none = serialization.NoEncryption()
        self.pkcs8 = _b64(key.private_bytes(enc.DER, fmt.PKCS8, none))
        self.pkcs8_pem = key.private_bytes(enc.PEM, fmt.PKCS8, none).decode('ascii')
        self.spki = _b64(key.public_key().public_bytes(enc.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
        self.spki_pem = key.public_key().public_bytes(
            enc.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode('ascii')
        if isinstance(key, rsa.RSAPrivateKey):
            self.pkcs1 = _b64(key.private_bytes(enc.DER, fmt.TraditionalOpenSSL, none))
            self.pkcs1_pem = key.private_bytes(enc.PEM, fmt.TraditionalOpenSSL, none).decode('ascii')
            self.pub_pkcs1 = _b64(key.public_key().public_bytes(enc.DER, serialization.PublicFormat.PKCS1))
            self.pub_pkcs1_pem = key.public_key().public_bytes(
                enc.PEM, serialization.PublicFormat.PKCS1).decode('ascii')
        self.fingerprint = hashlib.sha256(base64.b64decode(self.spki)).hexdigest()[:16]

    def secrets(self):
        """Base64 strings whose fragments must never appear in a message."""
        texts = [value for value in vars(self).values() if isinstance(value, str) and value != self.fingerprint]
        return [''.join(line for line in text.splitlines() if not line.startswith('-----')) for text in texts]


@pytest.fixture(scope='module')
def app():
    return KeyForms(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope='module')
def alipay():
    return KeyForms(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope='module')
def small():
    return KeyForms(rsa.generate_private_key(public_exponent=65537, key_size=1024))


@pytest.fixture(scope='module')
def eckey():
    return KeyForms(ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture(scope='module')
def encrypted(app):
    enc = serialization.BestAvailableEncryption(b'correct horse')
    return {
        'pkcs8_pem': app.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           enc).decode('ascii'),
        'pkcs1_pem': app.key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.TraditionalOpenSSL, enc).decode('ascii'),
        'pkcs8_b64': _b64(app.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                enc)),
    }


@pytest.fixture(scope='module')
def certificate(alipay):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'test')])
    now = datetime.datetime(2024, 1, 1)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(alipay.key.public_key()).serial_number(1)
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(alipay.key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode('ascii')


def run(app, alipay, **overrides):
    args = dict(app_id=APP_ID, app_private_key=app.pkcs8, alipay_public_key=alipay.spki,
                select_tools='queryPay,refundQuery')
    args.update(overrides)
    return validate_entry(**args)


def messages(result):
    return result['errors'] + result['warnings']


def assert_error(result, *fragments):
    assert not result['valid']
    assert result['env'] == {}
    matching = [msg for msg in result['errors'] if all(fragment in msg for fragment in fragments)]
    assert matching, 'no error with %r in %r' % (fragments, result['errors'])


def windows(secret, size=16):
    return {secret[i:i + size] for i in range(0, max(len(secret) - size, 0) + 1)}


def assert_no_secret(texts, *secrets):
    joined = '\n'.join(texts)
    for secret in secrets:
        for window in windows(secret):
            assert window not in joined, 'a 16-character piece of a key or token leaked into a message'


# --------------------------------------------------------------------------- private key forms

@pytest.mark.parametrize('form, warned', [
    ('pkcs8', None),
    ('pkcs1', 'PKCS#1'),
    ('pkcs8_pem', 'PEM with headers'),
    ('pkcs1_pem', 'PKCS#1, PEM with headers'),
])
def test_private_key_forms_normalise_to_pkcs8(app, alipay, form, warned):
    result = run(app, alipay, app_private_key=getattr(app, form))
    assert result['valid'], result['errors']
    assert result['env']['AP_APP_KEY'] == app.pkcs8
    assert result['app_key_bits'] == 2048
    assert result['app_key_fingerprint'] == app.fingerprint
    key_warnings = [msg for msg in result['warnings'] if 'AP_APP_KEY' in msg]
    if warned:
        assert len(key_warnings) == 1
        assert warned in key_warnings[0]
        assert 'normalised to single-line PKCS#8' in key_warnings[0]
    else:
        assert key_warnings == []


@pytest.mark.parametrize('mangle', [
    _wrap,
    lambda text: '  ' + _wrap(text, 76).replace('\n', '\r\n ') + '\n',
    lambda text: text[:300] + ' \t ' + text[300:],
    lambda text: text + '\n',
])
def test_private_key_whitespace_removed(app, alipay, mangle):
    result = run(app, alipay, app_private_key=mangle(app.pkcs8))
    assert result['valid'], result['errors']
    assert result['env']['AP_APP_KEY'] == app.pkcs8
    assert any('AP_APP_KEY' in msg and 'whitespace' in msg for msg in result['warnings'])


def test_pem_with_crlf_and_indentation(app, alipay):
    pem = '\r\n'.join('    ' + line for line in app.pkcs1_pem.splitlines())
    result = run(app, alipay, app_private_key=pem)
    assert result['valid'], result['errors']
    assert result['env']['AP_APP_KEY'] == app.pkcs8


# --------------------------------------------------------------------------- public key forms

@pytest.mark.parametrize('form, warned', [
    ('spki', None),
    ('spki_pem', 'PEM with headers'),
    ('pub_pkcs1', 'PKCS#1'),
    ('pub_pkcs1_pem', 'PKCS#1, PEM with headers'),
])
def test_public_key_forms_normalise_to_spki(app, alipay, form, warned):
    result = run(app, alipay, alipay_public_key=getattr(alipay, form))
    assert result['valid'], result['errors']
    assert result['env']['AP_PUB_KEY'] == alipay.spki
    assert result['alipay_public_key_fingerprint'] == alipay.fingerprint
    assert result['alipay_public_key_bits'] == 2048
    key_warnings = [msg for msg in result['warnings'] if 'AP_PUB_KEY' in msg]
    if warned:
        assert len(key_warnings) == 1 and warned in key_warnings[0]
    else:
        assert key_warnings == []


def test_public_key_whitespace_removed(app, alipay):
    result = run(app, alipay, alipay_public_key=_wrap(alipay.spki, 40) + '\n')
    assert result['valid'], result['errors']
    assert result['env']['AP_PUB_KEY'] == alipay.spki


# --------------------------------------------------------------------------- operator mistakes

def test_swapped_keys(app, alipay):
    result = run(app, alipay, app_private_key=alipay.spki, alipay_public_key=app.pkcs8)
    assert_error(result, 'AP_APP_KEY', 'swapped')
    assert_error(result, 'AP_PUB_KEY', 'swapped')
    assert result['app_key_fingerprint'] is None


def test_private_key_in_public_slot(app, alipay):
    result = run(app, alipay, alipay_public_key=alipay.pkcs8)
    assert_error(result, 'alipay: AP_PUB_KEY', 'holds a private key')
    assert not any('AP_APP_KEY' in msg for msg in result['errors'])


def test_public_key_in_private_slot(app, alipay):
    result = run(app, alipay, app_private_key=app.spki)
    assert_error(result, 'AP_APP_KEY', 'holds a public key')


def test_own_public_key_instead_of_alipay_key(app, alipay):
    result = run(app, alipay, alipay_public_key=app.spki_pem)
    assert_error(result, 'AP_PUB_KEY', 'public half of AP_APP_KEY', "Alipay's public key", 'view')
    assert len(result['errors']) == 1
    assert app.fingerprint in result['errors'][0]


@pytest.mark.parametrize('form', ['pkcs8', 'pkcs8_pem', 'pkcs1'])
def test_truncated_private_key(app, alipay, form):
    text = getattr(app, form)
    if form.endswith('_pem'):
        body = ''.join(line for line in text.splitlines() if not line.startswith('-----'))
        text = _armour('BEGIN', 'PRIVATE KEY') + '\n' + _wrap(body[:-100]) + '\n'
    else:
        text = text[:-100]
    result = run(app, alipay, app_private_key=text)
    assert_error(result, 'AP_APP_KEY', 'truncated or damaged', '1624')
    assert result['app_key_fingerprint'] is None


def test_truncated_message_gives_lengths(app, alipay):
    result = run(app, alipay, app_private_key=app.pkcs8[:-100])
    assert_error(result, 'AP_APP_KEY', '%d base64 characters seen' % (len(app.pkcs8) - 100),
                 'announces %d' % len(app.pkcs8))


@pytest.mark.parametrize('cut', [100, 3, 1])
def test_truncated_public_key(app, alipay, cut):
    result = run(app, alipay, alipay_public_key=alipay.spki[:-cut])
    assert_error(result, 'AP_PUB_KEY', 'truncated or damaged', '392')


def test_key_cut_at_the_start(app, alipay):
    result = run(app, alipay, app_private_key=app.pkcs8[100:])
    assert_error(result, 'AP_APP_KEY', 'does not decode to a key')


@pytest.mark.parametrize('garbage, fragment', [
    ('this is not a key!', 'is not base64'),
    ('this is not a key', 'does not decode to a key'),
    ('"%s"', 'quote characters'),
    ('QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=', 'does not decode to a key'),
    ('\n'.join([_armour('BEGIN', 'PRIVATE KEY'), 'QUJD', _armour('END', 'PRIVATE KEY')]), 'does not decode to a key'),
    ('\n'.join([_armour('BEGIN', 'PRIVATE KEY'), 'MIIB', _armour('END', 'PUBLIC KEY')]), 'mismatched'),
    ('', 'is empty'),
    ('   \n', 'is empty'),
])
def test_garbage_private_key(app, alipay, garbage, fragment):
    if '%s' in garbage:
        garbage = garbage % app.pkcs8
    result = run(app, alipay, app_private_key=garbage)
    assert_error(result, 'AP_APP_KEY', fragment)


def test_json_escaped_key(app, alipay):
    result = run(app, alipay, app_private_key=_wrap(app.pkcs8).replace('\n', '\\n'))
    assert_error(result, 'AP_APP_KEY', 'literal \\n escapes')


def test_damaged_key_body(app, alipay):
    # Same length and a valid DER header, but the inside is broken.
    damaged = app.pkcs8[:60] + 'A' * 40 + app.pkcs8[100:]
    result = run(app, alipay, app_private_key=damaged)
    assert_error(result, 'AP_APP_KEY', 'truncated or damaged')


@pytest.mark.parametrize('form', ['pkcs8_pem', 'pkcs1_pem', 'pkcs8_b64'])
def test_encrypted_private_key_refused(app, alipay, encrypted, form):
    result = run(app, alipay, app_private_key=encrypted[form])
    assert_error(result, 'AP_APP_KEY', 'encrypted', 'unencrypted')


def test_small_key(small, alipay):
    result = run(small, alipay)
    assert_error(result, 'AP_APP_KEY', '1024-bit', '2048')
    assert result['app_key_bits'] == 1024


def test_small_alipay_key(app, small):
    result = run(app, small)
    assert_error(result, 'AP_PUB_KEY', '1024-bit')


def test_ec_private_key(eckey, alipay):
    for form in ('pkcs8', 'pkcs8_pem'):
        result = run(eckey, alipay, app_private_key=getattr(eckey, form))
        assert_error(result, 'AP_APP_KEY', 'EC (elliptic curve)', 'RSA')


def test_ec_public_key(app, eckey):
    result = run(app, eckey)
    assert_error(result, 'AP_PUB_KEY', 'EC (elliptic curve)')


def test_certificate_in_public_slot(app, alipay, certificate):
    result = run(app, alipay, alipay_public_key=certificate)
    assert_error(result, 'AP_PUB_KEY', 'certificate')


def test_two_pem_blocks(app, alipay):
    result = run(app, alipay, app_private_key=app.pkcs8_pem + alipay.pkcs8_pem)
    assert_error(result, 'AP_APP_KEY', '2 PEM blocks')


def test_parse_key_text_kinds(app, encrypted):
    assert parse_key_text(app.pkcs8).kind == 'private'
    assert parse_key_text(app.pkcs8).form == 'PKCS#8'
    assert parse_key_text(app.pkcs1).form == 'PKCS#1'
    assert parse_key_text(app.spki).form == 'SPKI'
    assert parse_key_text(app.pub_pkcs1).form == 'PKCS#1'
    assert parse_key_text(app.pub_pkcs1).kind == 'public'
    assert parse_key_text(encrypted['pkcs8_b64']).kind == 'encrypted'
    assert parse_key_text(app.pkcs8[:-100]).problem == 'truncated'


# --------------------------------------------------------------------------- AP_SELECT_TOOLS

def test_tool_list_with_spaces_normalised(app, alipay):
    result = run(app, alipay, select_tools='mobilePay, queryPay ,  refundQuery')
    assert result['valid'], result['errors']
    assert result['select_tools'] == ['create-mobile-alipay-payment', 'query-alipay-payment', 'query-alipay-refund']
    assert result['select_tools_string'] == 'create-mobile-alipay-payment,query-alipay-payment,query-alipay-refund'
    assert result['env']['AP_SELECT_TOOLS'] == result['select_tools_string']
    assert any('AP_SELECT_TOOLS had spaces' in msg for msg in result['warnings'])


@pytest.mark.parametrize('alias, full', [
    ('mobilePay', 'create-mobile-alipay-payment'),
    ('webPagePay', 'create-web-page-alipay-payment'),
    ('queryPay', 'query-alipay-payment'),
    ('refundPay', 'refund-alipay-payment'),
    ('refundQuery', 'query-alipay-refund'),
])
def test_alias_mapping(app, alipay, alias, full):
    result = run(app, alipay, select_tools=[alias])
    assert result['select_tools'] == [full]
    assert result['env']['AP_SELECT_TOOLS'] == full


def test_canonical_order_and_duplicates(app, alipay):
    result = run(app, alipay, select_tools=['query-alipay-refund', 'refundQuery', 'mobilePay',
                                            'queryPay,queryPay'])
    assert result['valid'], result['errors']
    assert result['select_tools'] == ['create-mobile-alipay-payment', 'query-alipay-payment', 'query-alipay-refund']
    assert sum('more than once' in msg for msg in result['warnings']) == 2


def test_all(app, alipay):
    for value in ('all', ['all'], ' all ', 'all,all'):
        result = run(app, alipay, select_tools=value)
        assert result['valid'], result['errors']
        assert result['select_tools'] == list(TOOL_NAMES)
        assert result['env']['AP_SELECT_TOOLS'] == ','.join(TOOL_NAMES)


def test_all_with_bogus(app, alipay):
    result = run(app, alipay, select_tools='all,bogus')
    assert_error(result, 'AP_SELECT_TOOLS', "'all' alone")
    assert_error(result, 'AP_SELECT_TOOLS', "unknown item 'bogus'")
    assert result['select_tools'] == []


def test_all_with_known_tool(app, alipay):
    result = run(app, alipay, select_tools=['all', 'queryPay'])
    assert_error(result, 'AP_SELECT_TOOLS', "'all' alone")


def test_unknown_tool(app, alipay):
    result = run(app, alipay, select_tools='queryPay,payAnything')
    assert_error(result, 'AP_SELECT_TOOLS', "'payAnything'", ', '.join(TOOL_NAMES), 'refundQuery')


def test_unknown_tool_case_hint(app, alipay):
    result = run(app, alipay, select_tools='QueryPay')
    assert_error(result, 'AP_SELECT_TOOLS', "did you mean 'queryPay'")


def test_long_unknown_item_not_echoed(app, alipay):
    result = run(app, alipay, select_tools=[app.pkcs8])
    assert_error(result, 'AP_SELECT_TOOLS', 'an item of %d characters' % len(app.pkcs8))
    assert_no_secret(messages(result), *app.secrets())


@pytest.mark.parametrize('empty', [None, '', [], [''], ' , ', ['  ']])
def test_empty_selection(app, alipay, empty):
    result = run(app, alipay, select_tools=empty)
    assert_error(result, 'AP_SELECT_TOOLS must be set explicitly (least privilege)')


def test_empty_items_dropped(app, alipay):
    result = run(app, alipay, select_tools='queryPay,,refundQuery,')
    assert result['valid']
    assert any('empty items' in msg for msg in result['warnings'])


# --------------------------------------------------------------------------- env, algo, URLs, id, token

def test_defaults(app, alipay):
    result = run(app, alipay)
    assert result['valid'], result['errors']
    assert result['errors'] == [] and result['warnings'] == []
    assert result['env'] == {
        'AP_APP_ID': APP_ID,
        'AP_APP_KEY': app.pkcs8,
        'AP_PUB_KEY': alipay.spki,
        'AP_CURRENT_ENV': 'prod',
        'AP_ENCRYPTION_ALGO': 'RSA2',
        'AP_SELECT_TOOLS': 'query-alipay-payment,query-alipay-refund',
        'AP_LOG_ENABLED': 'true',
    }


def test_optional_values_in_env(app, alipay):
    result = run(app, alipay, current_env='sandbox', encryption_algo='RSA', log_enabled=False,
                 return_url='https://shop.example.com/ok', notify_url='http://127.0.0.1:8080/notify',
                 invoke_auth_token='202406BBxyzTOKEN0123')
    assert result['valid'], result['errors']
    env = result['env']
    assert env['AP_CURRENT_ENV'] == 'sandbox'
    assert env['AP_ENCRYPTION_ALGO'] == 'RSA'
    assert env['AP_LOG_ENABLED'] == 'false'
    assert env['AP_RETURN_URL'] == 'https://shop.example.com/ok'
    assert env['AP_NOTIFY_URL'] == 'http://127.0.0.1:8080/notify'
    assert env['AP_INVOKE_AUTH_TOKEN'] == '202406BBxyzTOKEN0123'
    assert any('AP_ENCRYPTION_ALGO is RSA' in msg for msg in result['warnings'])


def test_empty_optional_values_are_unset(app, alipay):
    result = run(app, alipay, return_url='', notify_url=None, invoke_auth_token='')
    assert result['valid']
    for var in ('AP_RETURN_URL', 'AP_NOTIFY_URL', 'AP_INVOKE_AUTH_TOKEN'):
        assert var not in result['env']


@pytest.mark.parametrize('value', ['Prod', 'SANDBOX', 'production', 'dev', ''])
def test_bad_current_env(app, alipay, value):
    result = run(app, alipay, current_env=value)
    assert_error(result, 'AP_CURRENT_ENV', "'prod' or 'sandbox'", 'current_env')


@pytest.mark.parametrize('value', ['rsa2', 'SHA256', 'RSA256', ''])
def test_bad_encryption_algo(app, alipay, value):
    result = run(app, alipay, encryption_algo=value)
    assert_error(result, 'AP_ENCRYPTION_ALGO', "'RSA2' or 'RSA'")


def test_http_notify_url_rejected_in_prod(app, alipay):
    result = run(app, alipay, notify_url='http://shop.example.com/notify')
    assert_error(result, 'AP_NOTIFY_URL', 'http://', 'sandbox', 'https://')


def test_http_notify_url_allowed_in_sandbox(app, alipay):
    result = run(app, alipay, current_env='sandbox', notify_url='http://shop.example.com/notify')
    assert result['valid'], result['errors']
    assert result['env']['AP_NOTIFY_URL'] == 'http://shop.example.com/notify'


@pytest.mark.parametrize('url, fragment', [
    ('https://shop.example.com/ notify', 'whitespace'),
    ('https://shop.example.com/notify\n', 'whitespace'),
    ('/alipay/notify', 'absolute https://'),
    ('shop.example.com/notify', 'absolute https://'),
    ('ftp://shop.example.com/notify', 'absolute https://'),
    ('https:///notify', 'host is missing'),
    ('https://user:pw@shop.example.com/notify', 'credentials'),
    ('https://shop.example.com:99999/notify', 'could not be parsed'),
])
def test_bad_urls(app, alipay, url, fragment):
    for option, var in (('return_url', 'AP_RETURN_URL'), ('notify_url', 'AP_NOTIFY_URL')):
        result = run(app, alipay, **{option: url})
        assert_error(result, var, fragment)


@pytest.mark.parametrize('app_id', ['202100000000001', '20210000000000011', '1021000000000001',
                                    '2021OOOOOOOOOOO1', '', '2021-0000-0000-01'])
def test_bad_app_id(app, alipay, app_id):
    result = run(app, alipay, app_id=app_id)
    assert_error(result, 'AP_APP_ID', '16-digit')


def test_app_id_whitespace_stripped(app, alipay):
    result = run(app, alipay, app_id=' %s\n' % APP_ID)
    assert result['valid']
    assert result['env']['AP_APP_ID'] == APP_ID
    assert any('AP_APP_ID' in msg for msg in result['warnings'])


def test_sandbox_app_id_only_in_sandbox(app, alipay):
    assert not run(app, alipay, app_id=SANDBOX_APP_ID)['valid']
    result = run(app, alipay, app_id=SANDBOX_APP_ID, current_env='sandbox')
    assert result['valid'], result['errors']


def test_app_id_not_echoed(app, alipay):
    result = run(app, alipay, app_id=app.pkcs8)
    assert_error(result, 'AP_APP_ID', '%d characters given' % len(app.pkcs8))
    assert_no_secret(messages(result), *app.secrets())


@pytest.mark.parametrize('token', ['abc def', 'abc\n', 'tok\u00e9n', '\tabc'])
def test_bad_token(app, alipay, token):
    result = run(app, alipay, invoke_auth_token=token)
    assert_error(result, 'AP_INVOKE_AUTH_TOKEN', 'printable ASCII')
    assert_no_secret(messages(result), token.strip())


@pytest.mark.parametrize('name', ['Alipay', '-alipay', 'alipay sandbox', 'a' * 65, ''])
def test_bad_name(app, alipay, name):
    result = run(app, alipay, name=name)
    assert_error(result, 'name must be a valid mcporter server name')


def test_entry_name_prefixes_messages(app, alipay):
    result = run(app, alipay, name='alipay-sandbox', app_private_key=app.pkcs1,
                 alipay_public_key=alipay.spki[:-100], select_tools='bogus')
    assert result['errors'] and result['warnings']
    for msg in messages(result):
        assert msg.startswith('alipay-sandbox: ')


# --------------------------------------------------------------------------- many errors, no leaks

def test_many_errors_collected(app, alipay):
    result = run(app, alipay, name='alipay-sandbox', app_id='12345', app_private_key=alipay.spki,
                 alipay_public_key=app.pkcs8, select_tools='all,bogus', current_env='Prod',
                 encryption_algo='sha256', notify_url='http://shop.example.com/n',
                 return_url='https://shop.example.com/a b', invoke_auth_token='bad token')
    assert not result['valid']
    variables = ['AP_APP_ID', 'AP_APP_KEY', 'AP_PUB_KEY', 'AP_SELECT_TOOLS', 'AP_CURRENT_ENV',
                 'AP_ENCRYPTION_ALGO', 'AP_NOTIFY_URL', 'AP_RETURN_URL', 'AP_INVOKE_AUTH_TOKEN']
    for var in variables:
        assert any(var in msg for msg in result['errors']), var
    assert len(result['errors']) >= len(variables)
    assert all(msg.startswith('alipay-sandbox: ') for msg in result['errors'])


def test_fingerprint(app, alipay):
    result = run(app, alipay)
    expected = hashlib.sha256(app.key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()[:16]
    assert result['app_key_fingerprint'] == expected
    assert len(result['alipay_public_key_fingerprint']) == 16


def test_no_message_contains_key_material(app, alipay, small, eckey, encrypted, certificate):
    """Run every failure and normalisation path and check that no message holds a piece of a key."""
    token = 'Zq8VtY2mLp0sXw7Rk4NbHc1DfGj6UaEo'
    cases = [
        dict(app_private_key=app.pkcs1_pem, alipay_public_key=alipay.pub_pkcs1_pem),
        dict(app_private_key=_wrap(app.pkcs8) + '\n', alipay_public_key=' ' + alipay.spki),
        dict(app_private_key=alipay.spki, alipay_public_key=app.pkcs8),
        dict(alipay_public_key=alipay.pkcs8),
        dict(alipay_public_key=alipay.pkcs1_pem),
        dict(app_private_key=app.spki),
        dict(alipay_public_key=app.spki),
        dict(app_private_key=app.pkcs8[:-100], alipay_public_key=alipay.spki[:-100]),
        dict(app_private_key=app.pkcs8[100:], alipay_public_key=alipay.spki[50:]),
        dict(app_private_key=app.pkcs8[:800] + '!' + app.pkcs8[800:]),
        dict(app_private_key=app.pkcs8[:60] + 'A' * 40 + app.pkcs8[100:]),
        dict(app_private_key=encrypted['pkcs8_pem']),
        dict(app_private_key=encrypted['pkcs1_pem']),
        dict(app_private_key=encrypted['pkcs8_b64']),
        dict(app_private_key=small.pkcs8, alipay_public_key=small.spki),
        dict(app_private_key=eckey.pkcs8_pem, alipay_public_key=eckey.spki),
        dict(alipay_public_key=certificate),
        dict(app_id=app.pkcs8, select_tools=[alipay.spki, 'queryPay ']),
        dict(name=app.pkcs8),
        dict(invoke_auth_token=token + ' '),
        dict(invoke_auth_token=token, notify_url='http://x/' + token),
        dict(invoke_auth_token=token, current_env='sandbox'),
    ]
    secrets = app.secrets() + alipay.secrets() + small.secrets() + eckey.secrets() + [token]
    secrets += [''.join(line for line in text.splitlines() if line and ':' not in line and '-----' not in line)
                for text in encrypted.values()]
    seen = []
    for case in cases:
        result = run(app, alipay, **case)
        seen.extend(messages(result))
        assert_no_secret(messages(result), *secrets)
    assert len(seen) >= len(cases)
