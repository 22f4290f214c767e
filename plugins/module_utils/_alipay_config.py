# -*- coding: utf-8 -*-
# Copyright (c) mcpops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_util is PRIVATE to the mcpops.alipay_mcp collection.
# It may change or be removed at any time without notice; do not use it from other collections.

"""Validation and normalisation of one Alipay MCP server entry (the AP_* variables).

Pure Python plus ``cryptography``; it does not import Ansible so it can be unit tested and
reused by other plugins of this collection.

Messages produced here never contain any part of a key, token or other option value (except
the entry name and the unknown AP_SELECT_TOOLS item the operator has to fix): an operator who
pasted a key into the wrong option must not see it echoed into a log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import traceback
from urllib.parse import urlsplit

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None


# The server's five tools in the order it lists them, with the alias AP_SELECT_TOOLS accepts.
TOOLS = (
    ('create-mobile-alipay-payment', 'mobilePay'),
    ('create-web-page-alipay-payment', 'webPagePay'),
    ('query-alipay-payment', 'queryPay'),
    ('refund-alipay-payment', 'refundPay'),
    ('query-alipay-refund', 'refundQuery'),
)
TOOL_NAMES = tuple(full for full, _alias in TOOLS)
TOOL_ALIASES = dict((alias, full) for full, alias in TOOLS)

ENV_CHOICES = ('prod', 'sandbox')
ALGO_CHOICES = ('RSA2', 'RSA')
MIN_KEY_BITS = 2048

NAME_RE = re.compile(r'^[a-z0-9][a-z0-9_-]{0,63}$')
APP_ID_RE = re.compile(r'^20[0-9]{14}$')
# Apps of Alipay's current sandbox have 16-digit ids starting with 9021.
SANDBOX_APP_ID_RE = re.compile(r'^9021[0-9]{12}$')

# Single-line base64 lengths of 2048-bit keys, quoted when a key looks cut.
TYPICAL_PRIVATE_LEN = 1624  # PKCS#8
TYPICAL_PUBLIC_LEN = 392  # SubjectPublicKeyInfo

_PEM_BLOCK_RE = re.compile(
    r'-----BEGIN ([A-Z0-9 ]+)-----(.*?)(?:-----END ([A-Z0-9 ]+)-----|\Z)', re.DOTALL)
_BASE64_RE = re.compile(r'^[A-Za-z0-9+/]*={0,2}$')
_WHITESPACE_RE = re.compile(r'\s+')

_WHERE_APP_KEY = "the private key of the app's restricted key pair (one line of base64, PKCS#8)"
_WHERE_PUB_KEY = ("Alipay's public key, copied from the restricted key's 'view' (查看) page "
                  "on the Alipay Open Platform")


class _Report:
    """Collects problems and notes for one entry, prefixing each with the entry name."""

    def __init__(self, name):
        self.name = name
        self.errors = []
        self.warnings = []

    def error(self, var, text):
        self.errors.append('%s: %s %s' % (self.name, var, text))

    def warn(self, var, text):
        self.warnings.append('%s: %s %s' % (self.name, var, text))


class ParsedKey:
    """What one key option turned out to hold.

    ``kind`` is one of ``private``, ``public``, ``encrypted``, ``certificate`` or None (unusable,
    see ``problem``). ``form`` names the encoding found (``PKCS#8``, ``PKCS#1``, ``SPKI``).
    ``notes`` lists the cosmetic issues that normalisation removes.
    """

    def __init__(self):
        self.kind = None
        self.key = None
        self.form = None
        self.notes = []
        self.problem = None
        self.length = 0  # base64 characters seen
        self.declared_length = None  # base64 length the DER header announces, when cut


def _der_element(der, pos):
    """Return (tag, header_length, content_length) of the DER element at pos, or None if cut."""
    if pos + 2 > len(der):
        return None
    tag = der[pos]
    first = der[pos + 1]
    if first < 0x80:
        return tag, 2, first
    count = first & 0x7f
    if count == 0 or count > 4 or pos + 2 + count > len(der):
        return None
    length = int.from_bytes(der[pos + 2:pos + 2 + count], 'big')
    return tag, 2 + count, length


def _inner_tags(der):
    """Tags of the first two elements inside the outer SEQUENCE, used to tell encodings apart."""
    tags = []
    outer = _der_element(der, 0)
    if outer is None:
        return tags
    pos = outer[1]
    for _dummy in range(2):
        element = _der_element(der, pos)
        if element is None:
            break
        tags.append(element[0])
        pos += element[1] + element[2]
    return tags


def _b64len(byte_count):
    return 4 * ((byte_count + 2) // 3)


def _key_type_name(key):
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return 'an EC (elliptic curve) key'
    if isinstance(key, (dsa.DSAPrivateKey, dsa.DSAPublicKey)):
        return 'a DSA key'
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return 'an Ed25519 key'
    if isinstance(key, (ed448.Ed448PrivateKey, ed448.Ed448PublicKey)):
        return 'an Ed448 key'
    return 'not an RSA key'


def _split_pem(text, parsed):
    """Return the base64 body of a PEM text (or the text itself), recording what was found."""
    blocks = _PEM_BLOCK_RE.findall(text)
    if not blocks:
        return text
    if len(blocks) > 1:
        parsed.problem = ('holds %d PEM blocks; give exactly one key' % len(blocks))
        return None
    label, body, end_label = blocks[0]
    parsed.notes.append('PEM with headers')
    if not end_label:
        parsed.problem = 'truncated'
    elif end_label != label:
        parsed.problem = 'has mismatched PEM BEGIN/END lines; it is damaged'
        return None
    if label == 'ENCRYPTED PRIVATE KEY' or 'Proc-Type: 4,ENCRYPTED' in body:
        parsed.kind = 'encrypted'
        return None
    if label == 'OPENSSH PRIVATE KEY':
        parsed.problem = ('is in OpenSSH format; Alipay needs an RSA key in PKCS#8 form '
                          '(convert it with: ssh-keygen -p -m PKCS8 -f FILE)')
        return None
    # Legacy PEM headers such as "Comment: ..." carry no key material.
    lines = [line for line in body.splitlines() if ':' not in line]
    return ''.join(lines)


def parse_key_text(text):
    """Decode one key option (single-line base64, base64 with whitespace or PEM) and classify it."""
    parsed = ParsedKey()
    text = '' if text is None else str(text)
    stripped = text.strip()
    if not stripped:
        parsed.problem = 'empty'
        return parsed

    body = _split_pem(stripped, parsed)
    if body is None:
        return parsed
    if _WHITESPACE_RE.search(body):
        parsed.notes.append('split by whitespace or line breaks')
        body = _WHITESPACE_RE.sub('', body)
    elif text != stripped and not parsed.notes:
        parsed.notes.append('surrounded by whitespace')
    parsed.length = len(body)

    if not _BASE64_RE.match(body):
        hint = ''
        if '\\n' in body:
            hint = ' (it contains literal \\n escapes: paste the key itself, not a JSON-escaped copy)'
        elif '"' in body or "'" in body:
            hint = ' (it contains quote characters)'
        parsed.problem = 'is not base64%s' % hint
        return parsed
    if parsed.problem == 'truncated' or len(body) % 4:
        # Keep what decodes so the DER header can still tell how long the key should be.
        body = body[:len(body) - len(body) % 4]
        parsed.problem = 'truncated'
    try:
        der = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        parsed.problem = 'truncated'
        return parsed

    outer = _der_element(der, 0)
    if outer is None or outer[0] != 0x30:
        parsed.problem = 'not a key'
        return parsed
    declared = outer[1] + outer[2]
    if declared > len(der):
        parsed.problem = 'truncated'
        parsed.declared_length = _b64len(declared)
        return parsed
    if parsed.problem == 'truncated':
        return parsed
    if declared < len(der):
        parsed.problem = 'damaged'
        return parsed

    _classify_der(der, parsed)
    return parsed


def _classify_der(der, parsed):
    tags = _inner_tags(der)
    try:
        parsed.key = serialization.load_der_private_key(der, password=None)
        parsed.kind = 'private'
        # PKCS#8 puts an AlgorithmIdentifier SEQUENCE after the version, PKCS#1 the modulus.
        parsed.form = 'PKCS#8' if tags[1:2] == [0x30] else 'PKCS#1'
        return
    except TypeError:
        # cryptography raises TypeError when the key needs a password.
        parsed.kind = 'encrypted'
        return
    except (ValueError, UnsupportedAlgorithm):
        pass
    try:
        parsed.key = serialization.load_der_public_key(der)
        parsed.kind = 'public'
        # SubjectPublicKeyInfo starts with an AlgorithmIdentifier, PKCS#1 with the modulus.
        parsed.form = 'SPKI' if tags[:1] == [0x30] else 'PKCS#1'
        return
    except (ValueError, UnsupportedAlgorithm):
        pass
    try:
        x509.load_der_x509_certificate(der)
        parsed.kind = 'certificate'
        return
    except ValueError:
        pass
    parsed.problem = 'damaged'


def _spki_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(public_key):
    """First 16 hex characters of the SHA-256 of the public key's SubjectPublicKeyInfo DER."""
    return hashlib.sha256(_spki_der(public_key)).hexdigest()[:16]


def _describe_unusable(parsed, typical, form_name):
    """Message text for a key that could not be decoded at all."""
    seen = '%d base64 characters seen' % parsed.length
    usual = 'a 2048-bit %s is typically about %d' % (form_name, typical)
    if parsed.problem == 'empty':
        return 'is empty'
    if parsed.problem == 'truncated':
        detail = seen
        if parsed.declared_length:
            detail += ', its own header announces %d' % parsed.declared_length
        return ('is truncated or damaged (%s; %s): copy the whole key again, on one line'
                % (detail, usual))
    if parsed.problem == 'not a key':
        return ('does not decode to a key (%s; %s): it is damaged, cut at the start or not a key'
                % (seen, usual))
    if parsed.problem == 'damaged':
        return ('is truncated or damaged: it decodes but is not a readable key (%s; %s): '
                'copy the whole key again' % (seen, usual))
    if parsed.problem.startswith('is not base64'):
        return ('%s: give the key as one line of base64 or as PEM with its BEGIN/END lines'
                % parsed.problem)
    return parsed.problem


def _check_rsa(report, var, key):
    """Errors for a key that is not RSA or too small; True when usable."""
    if not isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        report.error(var, 'is %s; Alipay RSA2/RSA signing needs an RSA key of at least %d bits'
                     % (_key_type_name(key), MIN_KEY_BITS))
        return False
    if key.key_size < MIN_KEY_BITS:
        report.error(var, 'is a %d-bit RSA key; at least %d bits are required: generate a new '
                     'restricted key pair on the Alipay Open Platform' % (key.key_size, MIN_KEY_BITS))
        return False
    return True


def check_keys(report, app_key_text, pub_key_text):
    """Validate AP_APP_KEY and AP_PUB_KEY together (swaps are only visible side by side).

    Returns a dict with the normalised base64 strings, fingerprints and sizes (None where unusable).
    """
    out = dict(app_key=None, pub_key=None, app_fingerprint=None, pub_fingerprint=None,
               app_bits=None, pub_bits=None)
    app = parse_key_text(app_key_text)
    pub = parse_key_text(pub_key_text)
    swapped = app.kind == 'public' and pub.kind in ('private', 'encrypted')

    # AP_APP_KEY
    var = 'AP_APP_KEY'
    if app.kind == 'private':
        out['app_bits'] = getattr(app.key, 'key_size', None)
        out['app_fingerprint'] = fingerprint(app.key.public_key())
        if _check_rsa(report, var, app.key):
            pkcs8 = app.key.private_bytes(serialization.Encoding.DER,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())
            out['app_key'] = base64.b64encode(pkcs8).decode('ascii')
            notes = (['PKCS#1'] if app.form == 'PKCS#1' else []) + app.notes
            if notes:
                report.warn(var, 'was %s; normalised to single-line PKCS#8 base64' % ', '.join(notes))
    elif app.kind == 'encrypted':
        report.error(var, 'is an encrypted (password-protected) private key; the server needs it '
                     'unencrypted: decrypt it, e.g. openssl pkcs8 -topk8 -nocrypt -in KEY.pem '
                     '-outform DER | base64 -w0, and store the result in the vault')
    elif swapped:
        report.error(var, 'holds a public key and AP_PUB_KEY holds a private key: the two keys '
                     'look swapped; AP_APP_KEY must be %s' % _WHERE_APP_KEY)
    elif app.kind == 'public':
        report.error(var, 'holds a public key; it must be %s' % _WHERE_APP_KEY)
    elif app.kind == 'certificate':
        report.error(var, 'holds a certificate; it must be %s' % _WHERE_APP_KEY)
    else:
        report.error(var, _describe_unusable(app, TYPICAL_PRIVATE_LEN, 'PKCS#8 private key'))

    # AP_PUB_KEY
    var = 'AP_PUB_KEY'
    if pub.kind == 'public':
        out['pub_bits'] = getattr(pub.key, 'key_size', None)
        out['pub_fingerprint'] = fingerprint(pub.key)
        if out['app_fingerprint'] == out['pub_fingerprint']:
            report.error(var, "is the public half of AP_APP_KEY (the app's own public key, "
                         "fingerprint %s), not Alipay's public key: AP_PUB_KEY must be %s"
                         % (out['pub_fingerprint'], _WHERE_PUB_KEY))
        elif _check_rsa(report, var, pub.key):
            out['pub_key'] = base64.b64encode(_spki_der(pub.key)).decode('ascii')
            notes = (['PKCS#1'] if pub.form == 'PKCS#1' else []) + pub.notes
            if notes:
                report.warn(var, 'was %s; normalised to single-line SubjectPublicKeyInfo base64'
                            % ', '.join(notes))
    elif swapped:
        report.error(var, 'holds a private key and AP_APP_KEY holds a public key: the two keys '
                     'look swapped; AP_PUB_KEY must be %s' % _WHERE_PUB_KEY)
    elif pub.kind in ('private', 'encrypted'):
        report.error(var, 'holds a private key; it must be %s (never put a private key here)'
                     % _WHERE_PUB_KEY)
    elif pub.kind == 'certificate':
        report.error(var, 'holds an X.509 certificate (certificate mode); the server uses '
                     'public-key mode: AP_PUB_KEY must be %s' % _WHERE_PUB_KEY)
    else:
        report.error(var, _describe_unusable(pub, TYPICAL_PUBLIC_LEN,
                                             'SubjectPublicKeyInfo public key'))
    return out


def _flatten_items(value):
    """Split a list and/or comma-separated string into raw (untrimmed) items."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        items = []
        for element in value:
            items.extend(_flatten_items(element))
        return items
    return str(value).split(',')


def _shown_item(item):
    # Name the offending item so it can be fixed, but never echo anything long enough to be a key.
    if len(item) <= 64 and item.isprintable():
        return "'%s'" % item
    return 'an item of %d characters' % len(item)


def normalise_select_tools(report, value):
    """Map AP_SELECT_TOOLS to full tool names in the server's order; None when invalid."""
    var = 'AP_SELECT_TOOLS'
    raw = _flatten_items(value)
    items = [item.strip() for item in raw]
    if any(item != original for item, original in zip(items, raw)):
        report.warn(var, "had spaces around items; normalised (the server does not trim them, "
                    "so a spaced list silently disables tools)")
    if any(not item for item in items) and any(items):
        report.warn(var, 'had empty items; removed')
    items = [item for item in items if item]
    if not items:
        report.error(var, "must be set explicitly (least privilege): list only the tools this "
                     "entry needs, e.g. query-alipay-payment,query-alipay-refund, or 'all' on "
                     "purpose; left empty the server enables all five tools")
        return None

    known = dict((name, name) for name in TOOL_NAMES)
    known.update(TOOL_ALIASES)
    accepted = ', '.join(TOOL_NAMES + tuple(TOOL_ALIASES) + ('all',))
    by_lower = dict((word.lower(), word) for word in tuple(known) + ('all',))

    selected = []
    unknown = False
    for item in items:
        if item == 'all':
            continue
        if item not in known:
            unknown = True
            hint = ''
            if item.lower() in by_lower:
                hint = " (names are case-sensitive: did you mean '%s'?)" % by_lower[item.lower()]
            report.error(var, 'has an unknown item %s%s; accepted: %s'
                         % (_shown_item(item), hint, accepted))
        elif known[item] in selected:
            report.warn(var, "lists '%s' more than once (an alias and its full name are the same "
                        "tool); duplicates removed" % known[item])
        else:
            selected.append(known[item])

    if 'all' in items:
        if any(item != 'all' for item in items):
            report.error(var, "uses 'all' together with other items; give either 'all' alone "
                         "or a list of tools")
            return None
        selected = list(TOOL_NAMES)
    if unknown:
        return None
    return [name for name in TOOL_NAMES if name in selected]


def check_url(report, var, value, sandbox):
    """Validate AP_RETURN_URL / AP_NOTIFY_URL; returns the URL or None when unset or invalid."""
    if value is None or value == '':
        return None
    value = str(value)
    rule = 'must be an absolute https:// URL (http:// only with AP_CURRENT_ENV=sandbox)'
    if any(char.isspace() for char in value):
        report.error(var, '%s without whitespace or line breaks; remove them' % rule)
        return None
    if not value.isprintable():
        report.error(var, '%s; it contains control characters' % rule)
        return None
    try:
        parts = urlsplit(value)
        _port = parts.port  # raises ValueError on a malformed port
    except ValueError:
        report.error(var, '%s; it could not be parsed (check the host and port)' % rule)
        return None
    if parts.scheme == 'http':
        if not sandbox:
            report.error(var, 'uses http://, which is only allowed with AP_CURRENT_ENV=sandbox; '
                         'use an https:// URL in prod')
            return None
    elif parts.scheme != 'https':
        report.error(var, '%s; give scheme and host, e.g. https://shop.example.com/alipay/notify'
                     % rule)
        return None
    if not parts.hostname:
        report.error(var, '%s; the host is missing' % rule)
        return None
    if parts.username is not None or parts.password is not None:
        report.error(var, '%s without user:password@ credentials; remove them' % rule)
        return None
    return value


def check_app_id(report, value, sandbox):
    var = 'AP_APP_ID'
    text = '' if value is None else str(value)
    stripped = text.strip()
    if stripped != text and stripped:
        report.warn(var, 'had surrounding whitespace; removed')
    if APP_ID_RE.match(stripped) or (sandbox and SANDBOX_APP_ID_RE.match(stripped)):
        return stripped
    # Length only: a key pasted into the wrong option must not be echoed.
    report.error(var, 'must be the 16-digit Alipay app id starting with 20 (sandbox apps: 9021), '
                 'as shown on the app page of the Alipay Open Platform (%d characters given)'
                 % len(stripped))
    return None


def check_token(report, value):
    var = 'AP_INVOKE_AUTH_TOKEN'
    if value is None or value == '':
        return None
    value = str(value)
    if all(0x21 <= ord(char) <= 0x7e for char in value):
        return value
    report.error(var, 'must be printable ASCII without whitespace or line breaks (%d characters '
                 'given); copy the app_auth_token again' % len(value))
    return None


def _entry_label(name):
    if NAME_RE.match(name):
        return name
    if len(name) <= 64 and name.isprintable():
        return name
    return '(entry)'


def validate_entry(app_id, app_private_key, alipay_public_key, select_tools,
                   current_env='prod', encryption_algo='RSA2', return_url=None, notify_url=None,
                   invoke_auth_token=None, log_enabled=True, name='alipay'):
    """Check one entry; collect every problem and return the normalised AP_* environment.

    Returns a dict with ``valid``, ``errors``, ``warnings``, ``env`` (empty unless valid),
    ``select_tools``, ``select_tools_string``, fingerprints and key sizes.
    """
    if not HAS_CRYPTOGRAPHY:
        raise RuntimeError('the cryptography Python library is required')

    name = 'alipay' if name is None else str(name)
    report = _Report(_entry_label(name))
    if not NAME_RE.match(name):
        report.error('name', 'must be a valid mcporter server name: 1 to 64 characters, '
                     'lower-case letters, digits, - and _, starting with a letter or digit')

    env_name = 'prod' if current_env is None else str(current_env)
    if env_name not in ENV_CHOICES:
        report.error('AP_CURRENT_ENV', "must be exactly 'prod' or 'sandbox' (lower case; set it "
                     "with the current_env option): the server treats anything but 'sandbox' as prod")
    sandbox = env_name == 'sandbox'

    algo = 'RSA2' if encryption_algo is None else str(encryption_algo)
    if algo not in ALGO_CHOICES:
        report.error('AP_ENCRYPTION_ALGO', "must be exactly 'RSA2' or 'RSA' (set it with the "
                     "encryption_algo option): the server treats anything but 'RSA' as RSA2")
    elif algo == 'RSA':
        report.warn('AP_ENCRYPTION_ALGO', 'is RSA (SHA1 signatures); Alipay recommends RSA2')

    app_id_value = check_app_id(report, app_id, sandbox)
    keys = check_keys(report, app_private_key, alipay_public_key)
    tools = normalise_select_tools(report, select_tools)
    return_value = check_url(report, 'AP_RETURN_URL', return_url, sandbox)
    notify_value = check_url(report, 'AP_NOTIFY_URL', notify_url, sandbox)
    token = check_token(report, invoke_auth_token)

    tools_string = ','.join(tools) if tools else ''
    valid = not report.errors
    env = {}
    if valid:
        env = {
            'AP_APP_ID': app_id_value,
            'AP_APP_KEY': keys['app_key'],
            'AP_PUB_KEY': keys['pub_key'],
            'AP_CURRENT_ENV': env_name,
            'AP_ENCRYPTION_ALGO': algo,
            'AP_SELECT_TOOLS': tools_string,
            'AP_LOG_ENABLED': 'true' if log_enabled else 'false',
        }
        if return_value:
            env['AP_RETURN_URL'] = return_value
        if notify_value:
            env['AP_NOTIFY_URL'] = notify_value
        if token:
            env['AP_INVOKE_AUTH_TOKEN'] = token

    return {
        'valid': valid,
        'errors': report.errors,
        'warnings': report.warnings,
        'env': env,
        'select_tools': tools or [],
        'select_tools_string': tools_string,
        'app_key_fingerprint': keys['app_fingerprint'],
        'app_key_bits': keys['app_bits'],
        'alipay_public_key_fingerprint': keys['pub_fingerprint'],
        'alipay_public_key_bits': keys['pub_bits'],
    }
