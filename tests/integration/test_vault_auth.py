"""The preflight entry point against a real OpenBao: AppRole and environment-token auth work, a refusal
is reported as such, no key material reaches the output even with -vvv, and each distinct KV v2 path
is read once per play (counted in OpenBao's audit log).

Every run is a real ansible-playbook on localhost aliases (connection local): preflight only reads
Vault and validates on the controller, so it changes nothing.
"""

import base64
import hashlib
import json
import subprocess
import sys

import hvac
import pytest
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import rsa

APP_ID = "2021000000000001"
REFUSED = "Vault refused the credentials"
PLAYBOOK = """---
- name: Preflight the Alipay settings
  hosts: all
  gather_facts: false
  tasks:
    - name: Read and validate the Alipay settings
      ansible.builtin.include_role:
        name: mcpops.alipay_mcp.alipay_mcp
        tasks_from: preflight
"""


def _b64(der):
    return base64.b64encode(der).decode()


def _fingerprint(public_key):
    # The validator's fingerprint: first 16 hex characters of the SHA-256 of the SPKI DER.
    der = public_key.public_bytes(ser.Encoding.DER, ser.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


class AlipaySecret:
    """Fresh app key pair and Alipay key pair, written as a new KV v2 secret at secret/<path>."""

    def __init__(self, client, path):
        self.path = path
        app = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        alipay = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        nopass = ser.NoEncryption()
        self.app_key = _b64(app.private_bytes(ser.Encoding.DER, ser.PrivateFormat.PKCS8, nopass))
        # The PKCS#1 body differs from the PKCS#8 one; a leak in either form counts.
        self.app_key_pkcs1 = _b64(app.private_bytes(ser.Encoding.DER, ser.PrivateFormat.TraditionalOpenSSL, nopass))
        self.summary = (f"tools query-alipay-payment, app key {_fingerprint(app.public_key())} (2048 bits), "
                        f"Alipay key {_fingerprint(alipay.public_key())}")
        client.secrets.kv.v2.create_or_update_secret(
            path=path, mount_point="secret",
            secret={"AP_APP_ID": APP_ID, "AP_APP_KEY": self.app_key,
                    "AP_PUB_KEY": _b64(alipay.public_key().public_bytes(
                        ser.Encoding.DER, ser.PublicFormat.SubjectPublicKeyInfo))})


def _entry(path, name="alipay"):
    return {"name": name, "env": "sandbox", "select_tools": ["queryPay"], "vault_path": path}


def _windows_found(output, secret, width=16):
    """How many width-character windows of secret occur in output (a count, so a failing assert
    never prints the windows themselves)."""
    windows = {secret[i:i + width] for i in range(len(secret) - width + 1)}
    return sum(1 for w in windows if w in output)


def _assert_no_key_material(output, secret):
    assert _windows_found(output, secret.app_key) == 0, "a 16-character window of the PKCS#8 private key leaked"
    assert _windows_found(output, secret.app_key_pkcs1) == 0, "a 16-character window of the PKCS#1 private key leaked"


def _run_preflight(workdir, env, hosts, extra_vars=None, verbosity=0, extra_env=None):
    """Write an inventory (hosts: name -> alipay_mcp_servers) and the playbook under workdir, run
    ansible-playbook, and return (returncode, stdout + stderr)."""
    inventory = {"all": {
        "hosts": {name: {"alipay_mcp_servers": servers} for name, servers in hosts.items()},
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
    }}
    (workdir / "inventory.yml").write_text(json.dumps(inventory, indent=2), encoding="utf-8")
    (workdir / "preflight.yml").write_text(PLAYBOOK, encoding="utf-8")
    # Secrets go in a vars file, not on the command line.
    (workdir / "vars.json").write_text(json.dumps(extra_vars or {}), encoding="utf-8")
    argv = ["ansible-playbook", "-i", str(workdir / "inventory.yml"), "-e", f"@{workdir / 'vars.json'}",
            str(workdir / "preflight.yml")]
    if verbosity:
        argv.append("-" + "v" * verbosity)
    result = subprocess.run(argv, cwd=workdir, env={**env, **(extra_env or {})}, capture_output=True,
                            text=True, timeout=180, check=False)
    return result.returncode, result.stdout + result.stderr


def _audit_requests(audit_log, path, operation="read"):
    """Audit log request entries for secret/data/<path> with the given operation."""
    out = []
    with open(audit_log, encoding="utf-8") as src:
        for line in src:
            record = json.loads(line)
            request = record.get("request", {})
            if (record.get("type") == "request" and request.get("operation") == operation
                    and request.get("path") == f"secret/data/{path}"):
                out.append(record)
    return out


@pytest.fixture(scope="module")
def bao(openbao_audited):
    """Root client on the module's OpenBao, with the approle auth method enabled."""
    client = hvac.Client(url=openbao_audited["addr"], token=openbao_audited["token"])
    client.sys.enable_auth_method("approle")
    return client


def _approle(client, name, readable):
    """An AppRole whose token may only read secret/data/<readable>; returns (role_id, secret_id)."""
    client.sys.create_or_update_policy(name, f'path "secret/data/{readable}" {{ capabilities = ["read"] }}')
    client.auth.approle.create_or_update_approle(name, token_policies=[name], token_ttl="5m")
    role_id = client.auth.approle.read_role_id(name)["data"]["role_id"]
    secret_id = client.auth.approle.generate_secret_id(name)["data"]["secret_id"]
    return role_id, secret_id


def _approle_vars(addr, role_id, secret_id):
    return {"alipay_mcp_vault_url": addr, "alipay_mcp_vault_auth_method": "approle",
            "alipay_mcp_vault_role_id": role_id, "alipay_mcp_vault_secret_id": secret_id}


def test_approle_reads_and_validates_without_any_token(bao, openbao_audited, ansible_env, tmp_path):
    secret = AlipaySecret(bao, "alipay/approle-ok")
    role_id, secret_id = _approle(bao, "preflight-ok", "alipay/*")

    # ansible_env carries no VAULT_* and the vars no token: AppRole is the only way in.
    rc, out = _run_preflight(tmp_path, ansible_env, {"host1": [_entry(secret.path)]},
                             _approle_vars(openbao_audited["addr"], role_id, secret_id), verbosity=3)

    assert rc == 0, out[-3000:]
    assert f"alipay: {secret.summary}" in out
    _assert_no_key_material(out, secret)
    assert _windows_found(out, secret_id) == 0, "the AppRole secret_id leaked"
    # The read was made with the AppRole's token, not some other credential.
    reads = _audit_requests(openbao_audited["audit_log"], secret.path)
    assert [r["auth"]["display_name"] for r in reads] == ["approle"]
    assert reads[0]["auth"]["policies"] == ["default", "preflight-ok"]


@pytest.fixture(scope="module")
def wrong_secret_id_run(bao, openbao_audited, ansible_env, tmp_path_factory):
    """One -vvv run with a secret_id the AppRole never issued, shared by the tests below."""
    secret = AlipaySecret(bao, "alipay/approle-wrong")
    role_id, dummy = _approle(bao, "preflight-wrong", "alipay/*")
    wrong = "0badc0de-1111-2222-3333-444455556666"
    rc, out = _run_preflight(tmp_path_factory.mktemp("wrong-secret-id"), ansible_env,
                             {"host1": [_entry(secret.path)]},
                             _approle_vars(openbao_audited["addr"], role_id, wrong), verbosity=3)
    return {"rc": rc, "out": out, "secret": secret, "secret_id": wrong}


def test_wrong_secret_id_fails_without_leaking(wrong_secret_id_run, openbao_audited):
    run = wrong_secret_id_run
    assert run["rc"] != 0
    assert "PLAY RECAP" in run["out"]
    assert _windows_found(run["out"], run["secret_id"]) == 0, "the AppRole secret_id leaked"
    _assert_no_key_material(run["out"], run["secret"])
    assert _audit_requests(openbao_audited["audit_log"], run["secret"].path) == []


def test_wrong_secret_id_is_reported_as_refused_credentials(wrong_secret_id_run):
    out = wrong_secret_id_run["out"]
    assert REFUSED in out, out[-3000:]
    assert f"mount secret, path {wrong_secret_id_run['secret'].path}" in out


def test_policy_without_the_path_is_refused_naming_mount_and_path(bao, openbao_audited, ansible_env, tmp_path):
    secret = AlipaySecret(bao, "alipay/approle-denied")
    role_id, secret_id = _approle(bao, "preflight-elsewhere", "other/*")

    rc, out = _run_preflight(tmp_path, ansible_env, {"host1": [_entry(secret.path)]},
                             _approle_vars(openbao_audited["addr"], role_id, secret_id))

    assert rc != 0
    assert REFUSED in out, out[-3000:]
    assert f"mount secret, path {secret.path}: {REFUSED}" in out
    assert f"a policy without read on secret/data/{secret.path}" in out
    assert _windows_found(out, secret_id) == 0, "the AppRole secret_id leaked"
    _assert_no_key_material(out, secret)


def test_token_from_the_environment_only(bao, openbao_audited, ansible_env, tmp_path):
    secret = AlipaySecret(bao, "alipay/env-token")
    bao.sys.create_or_update_policy("preflight-env", f'path "secret/data/{secret.path}" {{ capabilities = ["read"] }}')
    token = bao.auth.token.create(policies=["preflight-env"], ttl="5m")["auth"]["client_token"]

    # No alipay_mcp_vault_* at all: address and token come from VAULT_ADDR / VAULT_TOKEN.
    rc, out = _run_preflight(tmp_path, ansible_env, {"host1": [_entry(secret.path)]},
                             extra_env={"VAULT_ADDR": openbao_audited["addr"], "VAULT_TOKEN": token})

    assert rc == 0, out[-3000:]
    assert f"alipay: {secret.summary}" in out
    _assert_no_key_material(out, secret)
    assert _windows_found(out, token) == 0, "the Vault token leaked"
    reads = _audit_requests(openbao_audited["audit_log"], secret.path)
    assert [r["auth"]["policies"] for r in reads] == [["default", "preflight-env"]]


def test_each_distinct_path_is_read_once_per_play(bao, openbao_audited, ansible_env, tmp_path):
    shared = AlipaySecret(bao, "alipay/once-shared")
    own = AlipaySecret(bao, "alipay/once-own")
    role_id, secret_id = _approle(bao, "preflight-once", "alipay/*")
    hosts = {"host1": [_entry(shared.path)], "host2": [_entry(shared.path)],
             "host3": [_entry(shared.path), _entry(own.path, name="alipay_own")]}

    rc, out = _run_preflight(tmp_path, ansible_env, hosts, _approle_vars(openbao_audited["addr"], role_id, secret_id))

    assert rc == 0, out[-3000:]
    for host in hosts:
        assert f"ok: [{host}]" in out
    assert out.count(f"alipay: {shared.summary}") == 3
    assert out.count(f"alipay_own: {own.summary}") == 1
    # Three hosts share one path and one host adds another: OpenBao saw one read of each.
    assert len(_audit_requests(openbao_audited["audit_log"], shared.path)) == 1
    assert len(_audit_requests(openbao_audited["audit_log"], own.path)) == 1
