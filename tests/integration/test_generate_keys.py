"""playbooks/generate_keys.yml against a real OpenBao: the stored key passes the role's checks, the printed
public key and fingerprint belong to it, and no part of the private key reaches the output or a file."""

import base64
import importlib.util
import json
import os
import pathlib
import re
import subprocess
import tempfile
import time

import hvac
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / "playbooks" / "generate_keys.yml"
APP_ID = "2021000000000001"
WINDOW = 16


def _alipay_config():
    spec = importlib.util.spec_from_file_location(
        "_alipay_config", ROOT / "plugins" / "module_utils" / "_alipay_config.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ALIPAY_CONFIG = _alipay_config()


def _spki_b64(public_key):
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


@pytest.fixture(scope="module")
def alipay_public_key():
    """Stands in for Alipay's own public key (AP_PUB_KEY): any RSA key that is not the app's."""
    return _spki_b64(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key())


@pytest.fixture
def run(tmp_path):
    """Runs the playbook from an empty working directory with its own Ansible temp dirs."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    ansible_tmp = tmp_path / "ansible-tmp"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
    env.update(ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
               ANSIBLE_FORCE_COLOR="false", ANSIBLE_NOCOLOR="true",
               ANSIBLE_LOCAL_TEMP=str(ansible_tmp / "local"), ANSIBLE_REMOTE_TEMP=str(ansible_tmp / "remote"))
    if "ANSIBLE_COLLECTIONS_PATH" not in env:
        collections = tmp_path / "collections"
        (collections / "ansible_collections" / "mcpops").mkdir(parents=True)
        (collections / "ansible_collections" / "mcpops" / "alipay_mcp").symlink_to(ROOT)
        env["ANSIBLE_COLLECTIONS_PATH"] = str(collections)

    def _run(*extra, vault=None, extra_env=None):
        run_env = dict(env)
        if vault:
            run_env.update(VAULT_ADDR=vault["addr"], VAULT_TOKEN=vault["token"])
        run_env.update(extra_env or {})
        started = time.time()
        result = subprocess.run(["ansible-playbook", str(PLAYBOOK), *extra], cwd=workdir, env=run_env,
                                capture_output=True, text=True, check=False, timeout=300)
        result.started = started
        result.output = result.stdout + result.stderr
        return result

    _run.workdir = workdir
    _run.ansible_tmp = ansible_tmp
    return _run


def _encodings(private):
    """The private key's encodings (base64 lines, PEM bodies, DER hex) and its public key's."""
    pem_body = lambda pem: "".join(line for line in pem.decode().splitlines() if not line.startswith("-----"))
    public = private.public_key()
    secret, shared = [], []
    for fmt in (serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL):
        der = private.private_bytes(serialization.Encoding.DER, fmt, serialization.NoEncryption())
        secret += [base64.b64encode(der).decode(), der.hex(),
                   pem_body(private.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()))]
    for fmt in (serialization.PublicFormat.SubjectPublicKeyInfo, serialization.PublicFormat.PKCS1):
        der = public.public_bytes(serialization.Encoding.DER, fmt)
        shared += [base64.b64encode(der).decode(), der.hex()]
    return secret, shared


def _ngrams(text, size):
    return {text[i:i + size] for i in range(len(text) - size + 1)}


@pytest.fixture(scope="module")
def structural_ngrams():
    """8-grams every 2048-bit RSA key has in some encoding (ASN.1 headers, OIDs, lengths, the exponent)."""
    grams = set()
    for _ in range(2):
        secret, shared = _encodings(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        for text in secret + shared:
            grams |= _ngrams(text, 8)
    return grams


def _leak_windows(app_key_b64, structural):
    """16-character windows of the private key with at least 12 characters specific to this key and not
    shared with its public half (which the playbook prints on purpose)."""
    secret, shared = _encodings(serialization.load_der_private_key(base64.b64decode(app_key_b64), password=None))
    windows = set()
    for text in secret:
        specific = [True] * len(text)
        for i in range(len(text) - 7):
            if text[i:i + 8] in structural:
                specific[i:i + 8] = [False] * 8
        windows |= {text[i:i + WINDOW] for i in range(len(text) - WINDOW + 1) if sum(specific[i:i + WINDOW]) >= 12}
    return {w for w in windows if not any(w in text for text in shared)}


def _leaks(text, windows):
    lowered = text.lower()
    return any(text[i:i + WINDOW] in windows or lowered[i:i + WINDOW] in windows
               for i in range(len(text) - WINDOW + 1))


def _files_touched_since(roots, since):
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root, onerror=lambda err: None):
            for name in filenames:
                path = os.path.join(dirpath, name)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if max(st.st_mtime, st.st_ctime) >= since - 1 and os.path.isfile(path) and st.st_size < 5_000_000:
                    yield path


def _windows_checked(app_key, structural):
    windows = _leak_windows(app_key, structural)
    # The scan must see the key when it is there: a short piece of its line and of its PEM form.
    pem = serialization.load_der_private_key(base64.b64decode(app_key), password=None).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    assert _leaks(app_key[600:630], windows) and _leaks(pem.splitlines()[10], windows)
    return windows


def _assert_not_in_output(result, app_key, structural):
    assert not _leaks(result.output, _windows_checked(app_key, structural)), \
        "a piece of the private key is in the playbook output"


def _assert_not_in_files(run, since, app_keys, structural):
    """No file written or changed since `since` under the temp dirs or the working dir holds a key."""
    windows = set().union(*(_windows_checked(key, structural) for key in app_keys))
    roots = {tempfile.gettempdir(), "/tmp", str(run.workdir), str(run.ansible_tmp)}
    for path in _files_touched_since(roots, since):
        try:
            with open(path, "rb") as src:
                data = src.read().decode("latin-1")
        except OSError:
            continue
        assert not _leaks(data, windows), f"a piece of a private key is in {path}"
    assert list(run.workdir.iterdir()) == [], "the run left files in the working directory"


def _secret(vault, path):
    client = hvac.Client(url=vault["addr"], token=vault["token"])
    read = client.secrets.kv.v2.read_secret_version(path=path, mount_point="secret", raise_on_deleted_version=True)
    return read["data"]["data"], read["data"]["metadata"]["version"]


def _printed_public_key(output):
    """The single-line public key and the PEM block the final debug task prints."""
    lines = re.findall(r'^\s+"(.*)",?$', output, re.MULTILINE)
    marker = lines.index("Public key for the Alipay Open Platform (restricted key, one line):")
    single = lines[marker + 1]
    begin = lines.index("-----BEGIN PUBLIC KEY-----")
    end = lines.index("-----END PUBLIC KEY-----")
    return single, "\n".join(lines[begin:end + 1]) + "\n"


def _check_stored_key(app_key, alipay_public_key, output):
    """The stored key passes the role's validator unchanged, and the output describes this very key."""
    outcome = ALIPAY_CONFIG.validate_entry(APP_ID, app_key, alipay_public_key, ["queryPay"])
    assert outcome["valid"], outcome["errors"]
    assert outcome["warnings"] == [], "the stored key needed normalising"
    assert outcome["env"]["AP_APP_KEY"] == app_key
    assert outcome["app_key_bits"] == 2048
    assert "\n" not in app_key and "BEGIN" not in app_key and app_key.startswith("MIIE")

    private = serialization.load_der_private_key(base64.b64decode(app_key), password=None)
    single, pem = _printed_public_key(output)
    assert single == _spki_b64(private.public_key())
    assert serialization.load_pem_public_key(pem.encode()).public_numbers() == private.public_key().public_numbers()
    assert f"fingerprint (as the alipay_mcp preflight prints it): {outcome['app_key_fingerprint']} " in output


def test_generate_refuse_then_force(openbao_server, run, alipay_public_key, structural_ngrams):
    path = "alipay/prod"
    first = run("-vvv", "-e", f"alipay_key_vault_path={path}", "-e", f"alipay_app_id={APP_ID}",
                "-e", f"alipay_public_key={alipay_public_key}", vault=openbao_server)
    assert first.returncode == 0, first.output[-3000:]
    data, version = _secret(openbao_server, path)
    assert version == 1
    assert set(data) == {"AP_APP_ID", "AP_APP_KEY", "AP_PUB_KEY"}
    assert data["AP_APP_ID"] == APP_ID and data["AP_PUB_KEY"] == alipay_public_key
    _check_stored_key(data["AP_APP_KEY"], alipay_public_key, first.stdout)
    assert "Wrote version 1 of secret/alipay/prod" in first.stdout
    _assert_not_in_output(first, data["AP_APP_KEY"], structural_ngrams)

    again = run("-vvv", "-e", f"alipay_key_vault_path={path}", vault=openbao_server)
    assert again.returncode != 0
    assert "A secret already exists at secret/alipay/prod" in again.stdout
    assert "-e alipay_key_force=true" in again.stdout
    assert _secret(openbao_server, path) == (data, 1)
    _assert_not_in_output(again, data["AP_APP_KEY"], structural_ngrams)

    forced = run("-vvv", "-e", f"alipay_key_vault_path={path}", "-e", "alipay_key_force=true", vault=openbao_server)
    assert forced.returncode == 0, forced.output[-3000:]
    new_data, new_version = _secret(openbao_server, path)
    assert new_version == 2
    assert new_data["AP_APP_ID"] == APP_ID and new_data["AP_PUB_KEY"] == alipay_public_key
    assert new_data["AP_APP_KEY"] != data["AP_APP_KEY"]
    _check_stored_key(new_data["AP_APP_KEY"], alipay_public_key, forced.stdout)
    assert "Wrote version 2 of secret/alipay/prod" in forced.stdout
    assert "kept AP_APP_ID, AP_PUB_KEY" in forced.stdout
    assert "Upload the new public key to the Alipay Open Platform before rolling the hosts out" in forced.stdout
    _assert_not_in_output(forced, new_data["AP_APP_KEY"], structural_ngrams)
    _assert_not_in_output(forced, data["AP_APP_KEY"], structural_ngrams)
    _assert_not_in_files(run, first.started, [data["AP_APP_KEY"], new_data["AP_APP_KEY"]], structural_ngrams)


def test_approle_custom_field_check_mode_keeps_other_fields(openbao_server, run, alipay_public_key,
                                                           structural_ngrams):
    client = hvac.Client(url=openbao_server["addr"], token=openbao_server["token"])
    client.sys.enable_auth_method("approle")
    client.sys.create_or_update_policy(
        name="alipay-keys", policy='path "secret/data/alipay/*" { capabilities = ["create", "read", "update"] }')
    client.auth.approle.create_or_update_approle(role_name="alipay-keys", token_policies=["alipay-keys"])
    role_id = client.auth.approle.read_role_id("alipay-keys")["data"]["role_id"]
    secret_id = client.auth.approle.generate_secret_id("alipay-keys")["data"]["secret_id"]
    original = {"AP_APP_ID": "9021000000000001", "AP_APP_KEY_SANDBOX": "old-key", "AP_PUB_KEY": alipay_public_key,
                "AP_INVOKE_AUTH_TOKEN": "token-kept"}
    client.secrets.kv.v2.create_or_update_secret(path="alipay/sandbox", secret=original)

    args = ["-e", json.dumps({"alipay_key_vault_path": "alipay/sandbox", "alipay_key_force": True,
                              "alipay_mcp_vault_url": openbao_server["addr"], "alipay_mcp_vault_auth_method": "approle",
                              "alipay_mcp_vault_role_id": role_id, "alipay_mcp_vault_secret_id": secret_id,
                              "alipay_mcp_vault_fields": {"app_key": "AP_APP_KEY_SANDBOX"}})]
    checked = run("--check", *args)
    assert checked.returncode == 0, checked.output[-3000:]
    assert "Check mode" in checked.stdout and "Nothing was written" in checked.stdout
    assert _secret(openbao_server, "alipay/sandbox") == (original, 1)

    forced = run(*args)
    assert forced.returncode == 0, forced.output[-3000:]
    data, version = _secret(openbao_server, "alipay/sandbox")
    assert version == 2
    assert {k: v for k, v in data.items() if k != "AP_APP_KEY_SANDBOX"} == {
        k: v for k, v in original.items() if k != "AP_APP_KEY_SANDBOX"}
    assert "AP_APP_KEY" not in data
    _check_stored_key(data["AP_APP_KEY_SANDBOX"], alipay_public_key, forced.stdout)
    assert "kept AP_APP_ID, AP_INVOKE_AUTH_TOKEN, AP_PUB_KEY" in forced.stdout
    _assert_not_in_output(forced, data["AP_APP_KEY_SANDBOX"], structural_ngrams)
    _assert_not_in_files(run, forced.started, [data["AP_APP_KEY_SANDBOX"]], structural_ngrams)


def test_inputs_checked_before_anything(run, alipay_public_key):
    missing = run()
    assert missing.returncode != 0
    for text in ("alipay_key_vault_path is required", "alipay_mcp_vault_url (or VAULT_ADDR",
                 "alipay_mcp_vault_token (or VAULT_TOKEN"):
        assert text in missing.stdout

    # Nothing listens on port 9: the bad inputs stop the run before Vault is contacted.
    bad = run("-e", "alipay_key_vault_path=alipay/prod", "-e", "alipay_app_id=12345",
              "-e", f"alipay_public_key={alipay_public_key[:200]}",
              extra_env={"VAULT_ADDR": "http://127.0.0.1:9", "VAULT_TOKEN": "unused"})
    assert bad.returncode != 0
    assert "alipay_app_id (AP_APP_ID) must be the 16-digit Alipay app id" in bad.stdout
    assert "alipay_public_key (AP_PUB_KEY) is truncated" in bad.stdout
    assert "Vault could not be reached" not in bad.stdout
