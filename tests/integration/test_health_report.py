"""playbooks/health.yml and its report tasks: the three report files, their counts and escaping, the exit code.

The alipay_mcp role's health entry point is replaced by a stand-in that publishes rows given in the inventory,
so the playbook's own logic (unreachable and failing hosts, --limit, check mode, the report) runs for real.
"""

import json
import os
import pathlib
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]

STANDIN_HEALTH = """---
- name: Fail like a host whose check breaks
  ansible.builtin.fail:
    msg: "{{ fake_health_error }}"
  when: fake_health_error is defined

- name: Publish the rows, noting the variables the playbook passed
  ansible.builtin.set_fact:
    alipay_mcp_health_rows: >-
      {{ fake_health_rows | map('combine', {'message': 'probe=' ~ alipay_mcp_health_probe
                                                        ~ ' fail=' ~ alipay_mcp_health_fail}) | list
         if fake_health_rows | length > 0 and fake_health_rows[0].message is not defined else fake_health_rows }}
"""


def row(server, status, **extra):
    base = {"host": None, "workspace": "/home/openclaw/.openclaw/workspace",
            "config": "/home/openclaw/.openclaw/workspace/config/mcporter.json", "server": server,
            "env": "prod", "status": status, "tools": [], "latency_ms": None, "classification": None,
            "remediation": "", "probe": "not run", "probe_message": ""}
    base.update(extra)
    return base


OK_ROWS = [
    row("alipay", "ok", tools=["query-alipay-payment", "query-alipay-refund"], latency_ms=231),
    row("alipay-sandbox", "ok", env="sandbox", tools=["query-alipay-payment"], latency_ms=240),
]
BAD_ROWS = [row("alipay", "failed", classification="missing_env", latency_ms=180,
                message="missing_variable: AP_APP_KEY <env> & \"quotes\" | pipe",
                remediation="Set AP_APP_KEY in the entry's env (or the env file) & rerun configure.yml")]
SKIPPED_ROWS = [row("alipay", "skipped", message="check mode: the server is not installed yet")]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _local(**hostvars):
    # Local connection as the current user: the stand-in needs no sudo.
    return {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "ansible_become": False,
            **hostvars}


@pytest.fixture
def env(tmp_path):
    """A collection tree whose alipay_mcp role has only the stand-in health entry point."""
    coll = tmp_path / "collections" / "ansible_collections" / "mcpops" / "alipay_mcp"
    (coll / "roles" / "alipay_mcp" / "tasks").mkdir(parents=True)
    (coll / "playbooks").symlink_to(ROOT / "playbooks")
    (coll / "meta").symlink_to(ROOT / "meta")
    (coll / "roles" / "alipay_mcp" / "tasks" / "health.yml").write_text(STANDIN_HEALTH)
    return {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "collections"),
            "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
            "ANSIBLE_FORCE_COLOR": "false", "ANSIBLE_NOCOLOR": "true", "ANSIBLE_HOST_KEY_CHECKING": "false"}


def _inventory(tmp_path, hosts):
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump({"all": {"children": {"openclaw_gateways": {"hosts": hosts}}}}))
    return path


def _run(env, tmp_path, *args):
    return subprocess.run(["ansible-playbook", *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          check=False, timeout=300)


def _report(report_dir):
    md = (report_dir / "health.md").read_text()
    data = json.loads((report_dir / "health.json").read_text())
    junit = ET.parse(report_dir / "health-junit.xml").getroot()
    return md, data, junit


def _suite(junit):
    suites = junit.findall("testsuite")
    assert len(suites) == 1
    return suites[0]


def test_full_playbook_with_failing_unreachable_and_skipped_hosts(env, tmp_path):
    hosts = {
        "gw-ok": _local(fake_health_rows=OK_ROWS),
        "gw-bad": _local(fake_health_rows=BAD_ROWS),
        "gw-skip": _local(fake_health_rows=SKIPPED_ROWS),
        "gw-broken": _local(fake_health_error="Vault read failed for MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"),
        "gw-down": {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": _free_port(),
                    "ansible_user": "nobody", "ansible_become": False,
                    "ansible_ssh_common_args": "-o ConnectTimeout=5 -o UserKnownHostsFile=/dev/null"},
    }
    inventory = _inventory(tmp_path, hosts)
    report_dir = tmp_path / "report"
    result = _run(env, tmp_path, "-i", str(inventory), "mcpops.alipay_mcp.health",
                  "-e", "health_probe=true", "-e", f"health_report_dir={report_dir}")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Unhealthy: gw-bad/alipay failed (missing_env); gw-broken/* failed (host_failed); gw-down/* unreachable" \
        in output

    md, data, junit = _report(report_dir)
    summary = data["summary"]
    assert (summary["hosts"], summary["rows"], summary["ok"], summary["failed"], summary["skipped"],
            summary["unreachable"]) == (5, 6, 2, 2, 1, 1)
    assert summary["healthy"] is False
    assert sorted(summary["unhealthy_hosts"]) == ["gw-bad", "gw-broken", "gw-down"]
    assert data["check_mode"] is False and data["generated"].endswith("Z")

    rows = {(r["host"], r["server"]): r for r in data["rows"]}
    # The playbook passed health_probe through and told the role not to fail.
    assert rows[("gw-ok", "alipay")]["message"] == "probe=True fail=False"
    assert rows[("gw-down", "*")]["status"] == "unreachable" and rows[("gw-down", "*")]["message"]
    broken = rows[("gw-broken", "*")]
    assert broken["status"] == "failed" and "Vault read failed" in broken["message"]
    # The role's own task output is its business; the report masks long base64-like runs.
    assert "MIIBIjANBgkqhkiG9w0BAQEFAAOC" not in (report_dir / "health.json").read_text() + md
    assert "MIIBIjANBgkqhkiG9w0BAQEFAAOC" not in (report_dir / "health-junit.xml").read_text()

    assert "| gw-ok | alipay | prod | ok | query-alipay-payment, query-alipay-refund | 231 ms |  |" in md
    assert "| gw-bad | alipay | prod | failed (missing_env) | - | 180 ms | Set AP_APP_KEY" in md
    assert "| gw-down | * | - | unreachable | - | - | Check that the host is up" in md
    assert "\\| pipe" in md

    suite = _suite(junit)
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("6", "3", "1")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"gw-ok/alipay", "gw-ok/alipay-sandbox", "gw-bad/alipay", "gw-skip/alipay",
                          "gw-broken/*", "gw-down/*"}
    assert all(c.get("classname") == "alipay_mcp.health" for c in cases.values())
    failure = cases["gw-bad/alipay"].find("failure")
    assert failure.get("type") == "missing_env"
    assert 'missing_variable: AP_APP_KEY <env> & "quotes" | pipe' in failure.get("message")
    assert "& rerun configure.yml" in failure.text
    assert cases["gw-skip/alipay"].find("skipped") is not None
    assert cases["gw-down/*"].find("failure") is not None
    assert cases["gw-ok/alipay"].find("failure") is None and cases["gw-ok/alipay"].get("time") == "0.231"


def test_all_healthy_exits_zero_also_in_check_mode_and_with_limit(env, tmp_path):
    inventory = _inventory(tmp_path, {"gw-ok": _local(fake_health_rows=OK_ROWS),
                                      "gw-bad": _local(fake_health_rows=BAD_ROWS)})
    report_dir = tmp_path / "report"
    # --limit would skip a report play on localhost; the report must still be written.
    result = _run(env, tmp_path, "-i", str(inventory), "mcpops.alipay_mcp.health", "--check", "--limit", "gw-ok",
                  "-e", f"health_report_dir={report_dir}")
    assert result.returncode == 0, result.stdout + result.stderr
    md, data, junit = _report(report_dir)
    assert data["check_mode"] is True
    assert (data["summary"]["hosts"], data["summary"]["ok"], data["summary"]["healthy"]) == (1, 2, True)
    assert "**Healthy**" in md
    assert (_suite(junit).get("tests"), _suite(junit).get("failures")) == ("2", "0")
    assert "gw-ok                    alipay               prod     ok" in result.stdout


REPORT_ONLY = """---
- name: Fake the health rows of the check play
  hosts: openclaw_gateways
  gather_facts: false
  tasks:
    - name: Remember every host this run targets
      ansible.builtin.set_fact:
        _health_targets: "{{ ansible_play_hosts_all }}"
      run_once: true

    - name: Publish the synthetic rows
      ansible.builtin.set_fact:
        alipay_mcp_health_rows: "{{ fake_health_rows }}"
      when: fake_health_rows is defined

- name: Write the report
  hosts: openclaw_gateways
  gather_facts: false
  tasks:
    - name: Run the report tasks of health.yml
      ansible.builtin.include_tasks: ROOT/playbooks/tasks/health_report.yml
      vars:
        health_report_hosts: "{{ _health_targets }}"
        health_report_templates: ROOT/playbooks/templates
"""


@pytest.mark.parametrize("healthy", [False, True], ids=["unhealthy", "healthy"])
def test_report_tasks_alone(env, tmp_path, healthy):
    if healthy:
        hosts = {"gw1": _local(fake_health_rows=OK_ROWS[:1]), "gw2": _local(fake_health_rows=SKIPPED_ROWS)}
    else:
        hosts = {"gw1": _local(fake_health_rows=OK_ROWS[:1]), "gw2": _local(fake_health_rows=BAD_ROWS),
                 "gw3": _local(fake_health_rows=SKIPPED_ROWS), "gw4": _local()}
    inventory = _inventory(tmp_path, hosts)
    playbook = tmp_path / "report.yml"
    playbook.write_text(REPORT_ONLY.replace("ROOT", str(ROOT)))
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    # No health_report_dir: the default is alipay-health-report/ under $PWD.
    result = subprocess.run(["ansible-playbook", "-i", str(inventory), str(playbook)], cwd=workdir,
                            env={**env, "PWD": str(workdir)}, capture_output=True, text=True, check=False,
                            timeout=300)
    assert (workdir / "alipay-health-report" / "health.md").exists(), result.stdout + result.stderr
    md, data, junit = _report(workdir / "alipay-health-report")
    suite = _suite(junit)
    if healthy:
        assert result.returncode == 0, result.stdout + result.stderr
        assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("2", "0", "1")
        return
    assert result.returncode != 0
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "2", "1")
    assert (data["summary"]["ok"], data["summary"]["failed"], data["summary"]["skipped"]) == (1, 2, 1)
    gw4 = [r for r in data["rows"] if r["host"] == "gw4"]
    assert len(gw4) == 1 and gw4[0]["status"] == "failed" and gw4[0]["classification"] == "no_result"
    assert md.count("\n| gw") == 4
    assert "| gw3 | alipay | prod | skipped | - | - |  |" in md
