import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
import openbao  # noqa: E402


@pytest.fixture
def openbao_server(tmp_path):
    """A real OpenBao dev server on a free loopback port, stopped after the test."""
    with openbao.running(str(tmp_path / "openbao")) as info:
        yield info


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def openbao_audited(tmp_path_factory):
    """One OpenBao dev server per test module with a file audit device (info["audit_log"]), so
    tests can count the requests Vault really received. Tests share it: give each its own paths."""
    state = tmp_path_factory.mktemp("openbao-audited")
    with openbao.running(str(state / "bao"), audit_log=str(state / "audit.log")) as info:
        yield info


@pytest.fixture(scope="session")
def ansible_env():
    """Environment for ansible-playbook subprocesses: the collection from this checkout, the venv's
    tools, no colours, and no VAULT_* from the caller (each test sets exactly what it means to)."""
    venv_bin = os.path.join(ROOT, ".venv", "bin")
    if not os.path.isdir(venv_bin):
        venv_bin = os.path.dirname(sys.executable)
    collections = os.environ.get("MCPOPS_COLLECTIONS_PATH") or os.path.join(ROOT, ".cache", "collections")
    if not os.path.isdir(os.path.join(collections, "ansible_collections", "mcpops", "alipay_mcp")):
        pytest.fail(f"{collections} does not hold mcpops.alipay_mcp: run tests/harness/layout.sh first")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "ANSIBLE_HASHI_VAULT_"))}
    env.update({
        "PATH": venv_bin + os.pathsep + env.get("PATH", ""),
        "ANSIBLE_COLLECTIONS_PATH": collections,
        "ANSIBLE_FORCE_COLOR": "false", "ANSIBLE_NOCOLOR": "1", "NO_COLOR": "1",
        "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_RETRY_FILES_ENABLED": "false", "ANSIBLE_PIPELINING": "true",
    })
    return env
