"""Helpers to run the mcp-server-alipay stand-in over stdio and speak JSON-RPC to it."""

import base64
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

FIXTURE_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "mcp-server-alipay"
ENTRY = FIXTURE_DIR / "dist" / "index.js"
APP_ID = "2021000000000001"


def _b64_der(data):
    return base64.b64encode(data).decode()


class KeyPair:
    """A throwaway RSA key pair in the encodings operators paste into AP_APP_KEY / AP_PUB_KEY."""

    def __init__(self, bits=2048):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        pub = self.key.public_key()
        nopass = serialization.NoEncryption()
        self.pkcs8_b64 = _b64_der(
            self.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, nopass)
        )
        self.pkcs1_b64 = _b64_der(
            self.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, nopass)
        )
        self.pkcs8_pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, nopass
        ).decode()
        self.pkcs1_pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, nopass
        ).decode()
        self.spki_b64 = _b64_der(
            pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        self.public_key = pub


@pytest.fixture(scope="session")
def node():
    binary = shutil.which("node")
    if not binary:
        pytest.skip("node is not on PATH")
    if not (FIXTURE_DIR / "node_modules" / "@modelcontextprotocol" / "sdk").is_dir():
        pytest.skip(f"{FIXTURE_DIR}/node_modules is missing: run `npm ci` there first")
    return binary


@pytest.fixture(scope="session")
def keys():
    """app: the app's own key pair; other: an unrelated one; alipay: the 'Alipay' pair (AP_PUB_KEY)."""
    return {name: KeyPair() for name in ("app", "other", "alipay")}


class StandIn:
    """One stand-in process; every read has a timeout so a broken server fails a test, not the run."""

    def __init__(self, node, env):
        self.proc = subprocess.Popen(
            [node, str(ENTRY)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.lines = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def send(self, message):
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        self.proc.stdin.flush()

    def request(self, method, params=None, timeout=5.0):
        """Send a request and return its whole JSON-RPC response (result or error)."""
        self.next_id += 1
        message = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no answer to {method} within {timeout} s")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                raise TimeoutError(f"no answer to {method} within {timeout} s") from None
            if line is None:
                raise EOFError(f"stand-in closed stdout before answering {method}")
            reply = json.loads(line)
            if reply.get("id") == self.next_id:
                return reply

    def unread_stdout(self, timeout=5.0):
        """Everything on stdout not yet consumed, up to EOF (the process must be ending)."""
        lines = []
        while (line := self.lines.get(timeout=timeout)) is not None:
            lines.append(line)
        return b"".join(lines)

    def initialize(self, protocol="2024-11-05"):
        reply = self.request(
            "initialize",
            {"protocolVersion": protocol, "capabilities": {}, "clientInfo": {"name": "pytest", "version": "0"}},
        )
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return reply["result"]

    def list_tools(self):
        return self.request("tools/list")

    def call(self, name, arguments):
        reply = self.request("tools/call", {"name": name, "arguments": arguments})
        return reply["result"]

    def call_text(self, name, arguments):
        result = self.call(name, arguments)
        assert "structuredContent" not in result
        assert [c["type"] for c in result["content"]] == ["text"]
        return result["content"][0]["text"], result.get("isError", False)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def state_file(tmp_path):
    return tmp_path / "standin-state.json"


@pytest.fixture
def write_state(state_file):
    def write(state):
        state_file.write_text(json.dumps(state))
        return state_file

    return write


def clean_env(home, state_file, keys, **overrides):
    """A clean environment (nothing from the caller's AP_* variables leaks in) plus overrides;
    an override of None removes the variable."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "MCP_ALIPAY_STANDIN_STATE": str(state_file),
        "AP_APP_ID": APP_ID,
        "AP_APP_KEY": keys["app"].pkcs8_b64,
        "AP_PUB_KEY": keys["alipay"].spki_b64,
    }
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@pytest.fixture
def start(node, home, state_file, keys):
    """start(**env_overrides) -> a StandIn, killed at teardown."""
    started = []

    def _start(**overrides):
        server = StandIn(node, clean_env(home, state_file, keys, **overrides))
        started.append(server)
        return server

    yield _start
    for server in started:
        server.kill()


@pytest.fixture
def ready(start):
    """ready(**env) -> an initialized StandIn."""

    def _ready(**overrides):
        server = start(**overrides)
        server.initialize()
        return server

    return _ready
