"""The demo's OpenBao and the keys in it.

Unlike openbao.py (a throwaway dev server per test run), this server keeps its file storage, unseal key and
root token under STATE_DIR, so the demo's secrets survive from one `make demo` to the next. It listens on
127.0.0.1 only, on DEMO_OPENBAO_PORT (default 18200).

    python demo_openbao.py start STATE_DIR   start it (the first time: initialise it with one unseal key and
                                             enable KV v2 at secret/), unseal it, print VAULT_ADDR=...
    python demo_openbao.py stop STATE_DIR    stop it; the storage stays
    python demo_openbao.py exists PATH       exit 0 when secret/PATH exists in the demo OpenBao, else 1
    python demo_openbao.py platform-key      a throwaway "Alipay platform" key pair; prints only the public half
    python demo_openbao.py standin-state PATH  the stand-in's state file registering the app key of secret/PATH

The last three read VAULT_ADDR and VAULT_TOKEN from the environment. Nothing here prints a private key or
the root token.
"""

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from openbao import _bao_binary  # noqa: E402 - the same binary as the tests' dev servers

PORT = int(os.environ.get("DEMO_OPENBAO_PORT", "18200"))
ADDR = f"http://127.0.0.1:{PORT}"
MOUNT = "secret"


def _paths(state_dir):
    return {
        "config": os.path.join(state_dir, "config.hcl"),
        "data": os.path.join(state_dir, "data"),
        "log": os.path.join(state_dir, "openbao.log"),
        "pid": os.path.join(state_dir, "server.pid"),
        "unseal": os.path.join(state_dir, "unseal.key"),
        "token": os.path.join(state_dir, "root.token"),
    }


def _write_private(path, text):
    """Writes a credential readable by its owner only, also while it is being written."""
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(path + ".tmp", path)


def _api(method, path, token=None, body=None):
    req = urllib.request.Request(f"{ADDR}/v1/{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode())
    if token:
        req.add_header("X-Vault-Token", token)
    with urllib.request.urlopen(req, timeout=5) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else {}


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline", "rb") as src:
        return b"bao" in src.read()
    return True


def _wait(what, check, proc, log, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            with open(log, encoding="utf-8", errors="replace") as src:
                tail = "".join(src.readlines()[-3:]).strip()
            sys.exit(f"OpenBao exited with {proc.returncode} before it was {what} (if 127.0.0.1:{PORT} or {PORT + 1} "
                     f"is taken, set DEMO_OPENBAO_PORT to another port); the end of {log}:\n{tail}")
        with contextlib.suppress(OSError, ValueError):
            if check():
                return
        time.sleep(0.1)
    sys.exit(f"OpenBao at {ADDR} did not get {what} within {timeout} s")


def start(state_dir):
    p = _paths(state_dir)
    os.makedirs(p["data"], mode=0o700, exist_ok=True)
    os.chmod(state_dir, 0o700)
    # A server left over from an interrupted run is stopped first: it may hold the port or the storage.
    stop(state_dir)
    # OpenBao 2 has no "file" storage and never locks memory (no disable_mlock): its integrated storage
    # (raft, one node) keeps the data in files under data/. The cluster port (PORT + 1) is loopback too.
    config = (
        f'storage "raft" {{\n  path = {json.dumps(p["data"])}\n  node_id = "demo"\n}}\n'
        f'listener "tcp" {{\n  address = "127.0.0.1:{PORT}"\n  cluster_address = "127.0.0.1:{PORT + 1}"\n'
        "  tls_disable = true\n}\n"
        f'api_addr = "{ADDR}"\n'
        f'cluster_addr = "http://127.0.0.1:{PORT + 1}"\n'
        "ui = false\n"
    )
    with contextlib.suppress(FileNotFoundError), open(p["config"], encoding="utf-8") as src:
        if src.read() == config:
            config = None
    if config is not None:
        with open(p["config"], "w", encoding="utf-8") as out:
            out.write(config)
    # HOME in the state directory: nothing of the server or its CLI lands in the user's home.
    env = {**os.environ, "HOME": state_dir, "BAO_ADDR": ADDR, "VAULT_ADDR": ADDR}
    env.pop("VAULT_TOKEN", None)
    env.pop("BAO_TOKEN", None)
    with open(p["log"], "ab") as log:
        proc = subprocess.Popen([_bao_binary(), "server", f"-config={p['config']}"],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=env)
    with open(p["pid"], "w", encoding="utf-8") as out:
        out.write(str(proc.pid))
    _wait("listening", lambda: "sealed" in _api("GET", "sys/seal-status"), proc, p["log"])

    if not _api("GET", "sys/seal-status")["initialized"]:
        answer = subprocess.run(
            [_bao_binary(), "operator", "init", "-key-shares=1", "-key-threshold=1", "-format=json"],
            env=env, check=True, capture_output=True, text=True)
        init = json.loads(answer.stdout)
        _write_private(p["unseal"], init["unseal_keys_b64"][0] + "\n")
        _write_private(p["token"], init["root_token"] + "\n")
        print(f"[harness] initialised OpenBao: unseal key and root token in {state_dir} (0600)", file=sys.stderr)
    try:
        with open(p["unseal"], encoding="utf-8") as src:
            key = src.read().strip()
        with open(p["token"], encoding="utf-8") as src:
            token = src.read().strip()
    except FileNotFoundError as exc:
        stop(state_dir)
        sys.exit(f"OpenBao in {state_dir} is initialised but {exc.filename} is missing, so it cannot be unsealed: "
                 "start over with tests/harness/demo.sh down --purge")
    # Through the API, so the unseal key never shows on a command line.
    if _api("PUT", "sys/unseal", body={"key": key})["sealed"]:
        sys.exit(f"OpenBao at {ADDR} stayed sealed with the key in {p['unseal']}")

    # sys/health answers 200 only once this node is unsealed and active (503 sealed, 429 standby).
    def active():
        return _api("GET", "sys/health")["initialized"]

    _wait("active", active, proc, p["log"])
    if f"{MOUNT}/" not in _api("GET", "sys/mounts", token=token)["data"]:
        _api("POST", f"sys/mounts/{MOUNT}", token=token, body={"type": "kv", "options": {"version": "2"}})
        print(f"[harness] enabled KV v2 at {MOUNT}/", file=sys.stderr)
    _wait("serving KV v2", lambda: _api("GET", f"{MOUNT}/config", token=token) is not None, proc, p["log"])
    print(f"VAULT_ADDR={ADDR}")


def stop(state_dir):
    p = _paths(state_dir)
    with contextlib.suppress(FileNotFoundError, ValueError):
        with open(p["pid"], encoding="utf-8") as src:
            pid = int(src.read())
        if _pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
                for dummy in range(100):
                    # Our own child stays a zombie (still signalable) until reaped.
                    with contextlib.suppress(ChildProcessError):
                        os.waitpid(pid, os.WNOHANG)
                    os.killpg(pid, 0)
                    time.sleep(0.1)
                os.killpg(pid, signal.SIGKILL)
        os.remove(p["pid"])


def _client():
    import hvac  # noqa: PLC0415 - only the secret commands need it

    return hvac.Client(url=os.environ["VAULT_ADDR"], token=os.environ["VAULT_TOKEN"])


def _read(path):
    import hvac  # noqa: PLC0415
    import requests  # noqa: PLC0415 - hvac's transport

    try:
        return _client().secrets.kv.v2.read_secret_version(
            path=path, mount_point=MOUNT, raise_on_deleted_version=True)["data"]["data"]
    except hvac.exceptions.InvalidPath:
        return None
    except (hvac.exceptions.VaultError, requests.RequestException) as exc:
        sys.exit(f"reading {MOUNT}/{path} at {os.environ['VAULT_ADDR']} failed: {type(exc).__name__}")


def _spki_b64(public_key):
    from cryptography.hazmat.primitives import serialization as s  # noqa: PLC0415

    return base64.b64encode(public_key.public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo)).decode()


def platform_key():
    from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: PLC0415

    # The private half would sign Alipay's answers; the simulated Alipay side does not sign, so it is dropped.
    print(_spki_b64(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()))


def standin_state(path):
    from cryptography.hazmat.primitives import serialization as s  # noqa: PLC0415

    secret = _read(path)
    if secret is None:
        sys.exit(f"no secret at {MOUNT}/{path}")
    app_key = s.load_der_private_key(base64.b64decode(secret["AP_APP_KEY"]), password=None)
    state = {"behaviour": "normal",
             "apps": {secret["AP_APP_ID"]: {"appPublicKey": _spki_b64(app_key.public_key()), "env": "prod"}}}
    print(json.dumps(state, indent=2))


if __name__ == "__main__":
    commands = {"start": 1, "stop": 1, "exists": 1, "platform-key": 0, "standin-state": 1}
    if len(sys.argv) < 2 or commands.get(sys.argv[1]) != len(sys.argv) - 2:
        sys.exit("usage: demo_openbao.py start|stop STATE_DIR | exists PATH | platform-key | standin-state PATH")
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "start":
        start(*args)
    elif cmd == "stop":
        stop(*args)
    elif cmd == "exists":
        sys.exit(0 if _read(*args) is not None else 1)
    elif cmd == "platform-key":
        platform_key()
    else:
        standin_state(*args)
