#!/usr/bin/env python3
"""Fleet benchmark (run on demand, never part of `make test`): how the playbooks scale with hosts.

    benchmarks/fleet.py [--sizes 1,5,20] [--runs 3] [--forks F] [--out docs/benchmarks]

For each size N it starts N fresh container hosts (podman containers mcpops-bench-<i> of the harness's
bookworm and trixie images, alternating, sshd on 127.0.0.(100+i):2222, user deploy), gives each a fake
openclaw.json, a throwaway key pair in an OpenBao dev server and the Alipay stand-in's state file, and
measures side by side, over the same inventory and connection settings:
  (a) the first deploy.yml on the fresh hosts (once per N),
  (b) deploy.yml again (K runs; it must change nothing),
  (c) health.yml (K runs),
  (d) the floor: a play with one ping task (K runs),
  (e) `ansible -m mcpops.alipay_mcp.mcporter_health` against the same `mcporter list --json` through
      `ansible -m ansible.builtin.command` as the service user (K runs each).
It counts Node tarball downloads (mirror access log) and npm registry requests (registry log) per
rollout, remote tasks per host on a rerun, and the controller CPU of each command; prints medians,
ratios and a PASS/GAP verdict per target, and writes results.md and time_vs_hosts.png into --out.
Containers, OpenBao and services it started are removed at the end, also on failure or Ctrl-C.
Exit status: 0 every target met, 1 a target missed (GAP), 2 the benchmark could not run, 130 Ctrl-C.
Needs `make prepare` (images, mirror, registry, venv); see benchmarks/README.md.
"""

import argparse
import base64
import datetime
import json
import math
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv")
HARNESS = os.environ.get("HARNESS_STATE") or os.path.join(ROOT, ".cache", "harness")
HARNESS_SCRIPTS = os.path.join(ROOT, "tests", "harness")
COLLECTIONS = os.path.join(os.path.dirname(HARNESS), "collections")
SSH_KEY = os.path.join(HARNESS, "ssh", "id_ed25519")
MIRROR_LOG = os.path.join(HARNESS, "node-mirror", "access.log")
MIRROR_KEYRING = os.path.join(HARNESS, "node-mirror", "keyring.gpg")
REGISTRY_LOG = os.path.join(HARNESS, "verdaccio", "registry.log")
MIRROR_PORT = int(os.environ.get("MIRROR_PORT", "18080"))
REGISTRY_PORT = int(os.environ.get("REGISTRY_PORT", "14873"))
IMAGES = ("localhost/mcpops-host:bookworm", "localhost/mcpops-host:trixie")
SERVICE_USER = "openclaw"
CONFIG = "/home/openclaw/.openclaw/workspace/config/mcporter.json"
MCPORTER = "/usr/local/bin/mcporter"
STANDIN_STATE = "/etc/mcp-server-alipay-standin.json"
DEFAULT_OUT = os.path.join(ROOT, "docs", "benchmarks")
DEFAULT_NOTES = os.path.join(DEFAULT_OUT, "notes.md")

TARGET_RERUN_FLOOR = 15.0
TARGET_MODULE_COMMAND = 1.15

# The fake gateway the role deploys into: keyed agents with explicit skills, as in the fleet scenario.
OPENCLAW_JSON = json.dumps({
    "agents": {"ownership": "explicit", "entries": {
        "main": {"skills": ["weather"]}, "hrbp": {"skills": []},
        "it-engineer": {"skills": ["github"]}, "customer-service": {"skills": ["faq"]}}},
    "skills": {"entries": {"weather": {"enabled": True}}}}, indent=2) + "\n"


class BenchError(Exception):
    """The benchmark cannot go on (setup or a measured command failed)."""


def log(msg):
    print("[bench] " + msg, file=sys.stderr, flush=True)


def reexec_in_venv():
    # The keys need `cryptography`, the playbooks the venv's ansible: run under the project's venv.
    python = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) != os.path.realpath(VENV) and os.path.exists(python):
        os.execv(python, [python, os.path.abspath(__file__)] + sys.argv[1:])


# ------------------------------------------------------------------------------------------------
# Hosts, keys and services


def host_name(i):
    return "bench-%d" % i


def host_address(i):
    return "127.0.0.%d" % (100 + i)


def app_id(i):
    return "2021000000100%03d" % i


def new_pair():
    from cryptography.hazmat.primitives import serialization as s
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = base64.b64encode(key.private_bytes(s.Encoding.DER, s.PrivateFormat.PKCS8, s.NoEncryption())).decode()
    public = base64.b64encode(key.public_key().public_bytes(
        s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo)).decode()
    return private, public


def run(argv, check=True, **kwargs):
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    if check and proc.returncode != 0:
        raise BenchError("%s failed (exit %d): %s" % (shlex.join(argv), proc.returncode,
                                                      (proc.stderr or proc.stdout).strip()[-2000:]))
    return proc


def port_open(address, port, timeout=0.3):
    with socket.socket() as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((address, port)) == 0


def file_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


class LogWindow:
    """The lines a log gained since the window opened (both logs are shared with other runs)."""

    def __init__(self, path):
        self.path = path
        self.start = file_size(path)

    def lines(self):
        start = self.start if file_size(self.path) >= self.start else 0  # a restarted service truncates
        try:
            with open(self.path, "rb") as handle:
                handle.seek(start)
                return handle.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return []


def count_mirror(lines, tag):
    """(Node tarball requests, all requests) under the mirror tag /_/<tag>/."""
    prefix = "/_/%s/" % tag
    tarball = re.compile(r"^\S+ /_/%s/dist/v[^/ ]+/node-v[^/ ]+\.tar\.xz " % re.escape(tag))
    ours = [line for line in lines if (line.split(" ") + ["", ""])[1].startswith(prefix)]
    return sum(1 for line in ours if tarball.match(line)), len(ours)


def count_registry(lines, hosts):
    """(requests from the bench hosts, requests from any other client) in Verdaccio's JSON log.

    Each incoming request has one level-30 line with its headers; the bench hosts reach the registry
    under their own host name, so the Host header tells their requests from those of other runs."""
    ours = others = 0
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("level") != 30 or entry.get("sub") != "in" or "req" not in entry:
            continue
        host = str(entry["req"].get("headers", {}).get("host", "")).rsplit(":", 1)[0]
        if host in hosts:
            ours += 1
        else:
            others += 1
    return ours, others


RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)"
                   r"\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)")


def parse_recap(output):
    """{host: {"ok", "changed", ...}} from the last PLAY RECAP of ansible-playbook's output."""
    recap = {}
    in_recap = False
    for line in output.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap, recap = True, {}
            continue
        match = RECAP.match(line) if in_recap else None
        if match:
            keys = ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")
            recap[match.group(1)] = dict(zip(keys, map(int, match.groups()[1:])))
    return recap


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="mcpops-bench-")
        self.logs = os.path.join(self.work, "logs")
        os.makedirs(self.logs)
        self.bao_state = os.path.join(self.work, "openbao")
        self.bao = None
        self.containers = []
        self.started_services = []
        self.keys = {}
        self.step = 0
        self.env = None

    # Setup -------------------------------------------------------------------------------------
    def preflight(self):
        missing = [p for p in (SSH_KEY, SSH_KEY + ".pub", MIRROR_KEYRING,
                               os.path.join(COLLECTIONS, "ansible_collections", "mcpops", "alipay_mcp"))
                   if not os.path.exists(p)]
        for image in IMAGES:
            if run(["podman", "image", "exists", image], check=False).returncode != 0:
                missing.append("podman image " + image)
        if missing:
            raise BenchError("missing %s: run `make prepare` first" % ", ".join(missing))
        biggest = max(self.args.sizes)
        for i in range(1, biggest + 1):
            if run(["podman", "container", "exists", "mcpops-" + host_name(i)], check=False).returncode == 0:
                raise BenchError("a container mcpops-%s exists already (another benchmark, or one left over: "
                                 "podman rm -f mcpops-%s)" % (host_name(i), host_name(i)))
            if port_open(host_address(i), 2222):
                raise BenchError("something already listens on %s:2222" % host_address(i))

    def start_services(self):
        for script in ("node_mirror.sh", "verdaccio.sh"):
            path = os.path.join(HARNESS_SCRIPTS, script)
            if run([path, "running"], check=False, env=self.harness_env()).returncode != 0:
                log("starting %s (stopped again at the end)" % script)
                self.started_services.append(script)
                run([path, "serve"], env=self.harness_env())
        # The hosts install the Alipay server stand-in by name from the registry.
        run([os.path.join(HARNESS_SCRIPTS, "standin.sh"), "publish"], env=self.harness_env())
        sys.path.insert(0, HARNESS_SCRIPTS)
        import openbao  # pylint: disable=import-outside-toplevel
        self.bao = openbao
        info = openbao.start(self.bao_state)
        log("OpenBao dev server at %s" % info["addr"])
        self.env = self.ansible_env(info)

    def harness_env(self):
        return dict(os.environ, HARNESS_STATE=HARNESS, PATH=os.path.join(VENV, "bin") + ":" + os.environ["PATH"],
                    MIRROR_PORT=str(MIRROR_PORT), REGISTRY_PORT=str(REGISTRY_PORT))

    def ansible_env(self, bao):
        # Inherited ANSIBLE_* settings (callbacks, forks, ...) would change what is measured: only ours count.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "VAULT_", "BAO_"))}
        cfg = os.path.join(self.work, "ansible.cfg")
        with open(cfg, "w", encoding="utf-8") as handle:
            handle.write("[defaults]\nforks = %d\nhost_key_checking = False\nretry_files_enabled = False\n"
                         "stdout_callback = ansible.builtin.default\n"
                         "local_tmp = %s\n[ssh_connection]\npipelining = True\n"
                         % (self.args.forks, os.path.join(self.work, "ansible-tmp")))
        env.update(ANSIBLE_CONFIG=cfg, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
                   ANSIBLE_FORCE_COLOR="false", NO_COLOR="1", VAULT_ADDR=bao["addr"], VAULT_TOKEN=bao["token"],
                   PATH=os.path.join(VENV, "bin") + ":" + os.environ["PATH"])
        return env

    def write_secrets(self):
        """One throwaway app key pair per host in OpenBao; Alipay's public key is that of another
        throwaway pair whose private half is dropped at once."""
        biggest = max(self.args.sizes)
        log("generating %d throwaway key pairs into OpenBao" % biggest)
        for i in range(1, biggest + 1):
            private, public = new_pair()
            alipay_public = new_pair()[1]
            body = json.dumps({"data": {"AP_APP_ID": app_id(i), "AP_APP_KEY": private,
                                        "AP_PUB_KEY": alipay_public}}).encode()
            request = urllib.request.Request(
                "%s/v1/secret/data/alipay/%s" % (self.env["VAULT_ADDR"], host_name(i)), data=body, method="POST",
                headers={"X-Vault-Token": self.env["VAULT_TOKEN"], "Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=10) as answer:
                answer.read()
            self.keys[i] = public

    def create_hosts(self, n):
        for i in range(1, n + 1):
            name, address = host_name(i), host_address(i)
            self.containers.append("mcpops-" + name)
            run(["podman", "run", "-d", "--name", "mcpops-" + name, "--network", "host", "--hostname", name,
                 # The host's own name resolves to loopback: npm reaches the registry under it (see count_registry).
                 "--add-host", name + ":127.0.0.1",
                 "-v", SSH_KEY + ".pub:/home/deploy/.ssh/authorized_keys:ro", IMAGES[(i - 1) % 2],
                 "/usr/sbin/sshd", "-D", "-e", "-o", "ListenAddress=" + address, "-o", "Port=2222"])
        deadline = time.monotonic() + 60
        for i in range(1, n + 1):
            while not port_open(host_address(i), 2222):
                if time.monotonic() > deadline:
                    raise BenchError("sshd of %s does not answer on %s:2222" % (host_name(i), host_address(i)))
                time.sleep(0.2)
        for i in range(1, n + 1):
            container = "mcpops-" + host_name(i)
            run(["podman", "exec", "-i", container, "sh", "-c",
                 "install -d -m 0700 -o openclaw -g openclaw /home/openclaw/.openclaw /home/openclaw/.openclaw/workspace"
                 " && install -m 0600 -o openclaw -g openclaw /dev/stdin /home/openclaw/.openclaw/openclaw.json"],
                input=OPENCLAW_JSON)
            state = {"behaviour": "normal", "apps": {app_id(i): {"appPublicKey": self.keys[i], "env": "prod"}}}
            run(["podman", "exec", "-i", container, "install", "-m", "0644", "/dev/stdin", STANDIN_STATE],
                input=json.dumps(state, indent=2) + "\n")

    def remove_hosts(self):
        if not self.containers:
            return
        # Close the SSH master connections first, so none lingers on a removed host's address.
        for cp_dir in (d for d in os.listdir(self.work) if d.startswith("cp-")):
            for sock in os.listdir(os.path.join(self.work, cp_dir)):
                subprocess.run(["ssh", "-o", "ControlPath=" + os.path.join(self.work, cp_dir, sock), "-O", "exit",
                                "bench"], capture_output=True, check=False)
        subprocess.run(["podman", "rm", "-f", "-t", "0"] + self.containers, capture_output=True, check=False)
        self.containers = []

    def write_inventory(self, n):
        tag = "bench-%d" % n
        lines = ["# Written by benchmarks/fleet.py for N=%d." % n, "openclaw_gateways:", "  hosts:"]
        for i in range(1, n + 1):
            lines += ["    %s:" % host_name(i), "      ansible_host: %s" % host_address(i)]
        settings = {
            "ansible_port": 2222,
            "ansible_user": "deploy",
            "ansible_ssh_private_key_file": SSH_KEY,
            "ansible_ssh_common_args": "-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR",
            "ansible_python_interpreter": "/usr/bin/python3",
            # Tagged so that only this size's requests are counted in the shared mirror log.
            "nodejs_mirror": "http://127.0.0.1:%d/_/%s/dist" % (MIRROR_PORT, tag),
            "nodejs_gpg_keyring": MIRROR_KEYRING,
            # Empty for each size, so the first deploy really downloads.
            "nodejs_local_cache_path": os.path.join(self.work, "controller-cache-%d" % n),
            "mcporter_npm_registry": "http://{{ inventory_hostname }}:%d/" % REGISTRY_PORT,
            "alipay_mcp_npm_registry": "http://{{ inventory_hostname }}:%d/" % REGISTRY_PORT,
            # inline on every host, so the plain `mcporter list` of (e) sees the same entry as the module.
            "alipay_mcp_secret_mode": "inline",
            "alipay_mcp_servers": [{"name": "alipay", "env": "prod", "select_tools": ["queryPay", "refundQuery"],
                                    "vault_path": "alipay/{{ inventory_hostname }}",
                                    "notify_url": "https://shop.example.com/alipay/notify"}],
        }
        lines.append("  vars:")
        lines += ["    %s: %s" % (k, json.dumps(v)) for k, v in settings.items()]
        path = os.path.join(self.work, "inventory-%d.yml" % n)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        return path

    # Measuring ---------------------------------------------------------------------------------
    def timed(self, name, argv, env):
        """Runs one command; returns wall seconds, controller CPU seconds of its process tree and output."""
        self.step += 1
        logfile = os.path.join(self.logs, "%03d-%s.log" % (self.step, name))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        proc = subprocess.run(argv, env=env, cwd=self.work, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, check=False)
        wall = time.perf_counter() - began
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        with open(logfile, "w", encoding="utf-8") as handle:
            handle.write(shlex.join(argv) + "\n" + proc.stdout)
        if proc.returncode != 0:
            tail = "\n".join(proc.stdout.splitlines()[-25:])
            raise BenchError("%s failed (exit %d); its output is in %s:\n%s" % (name, proc.returncode, logfile, tail))
        return {"wall": wall, "cpu": cpu, "output": proc.stdout, "log": logfile}

    def playbook(self, name, inventory, playbook, env, *extra):
        return self.timed(name, ["ansible-playbook", "-i", inventory, playbook] + list(extra), env)

    def adhoc(self, name, inventory, env, module, module_args=None):
        argv = ["ansible", "openclaw_gateways", "-i", inventory, "-b", "-m", module]
        return self.timed(name, argv + (["-a", module_args] if module_args else []), env)

    def measure_size(self, n):
        runs = self.args.runs_by_size[n]
        hosts = {host_name(i) for i in range(1, n + 1)}
        tag = "bench-%d" % n
        log("N=%d: starting %d fresh host(s)" % (n, n))
        self.create_hosts(n)
        inventory = self.write_inventory(n)
        cp_dir = os.path.join(self.work, "cp-%d" % n)
        os.makedirs(cp_dir)
        env = dict(self.env, ANSIBLE_SSH_CONTROL_PATH_DIR=cp_dir)
        floor_play = os.path.join(self.work, "floor.yml")
        with open(floor_play, "w", encoding="utf-8") as handle:
            handle.write("- name: Floor\n  hosts: openclaw_gateways\n  become: true\n  gather_facts: false\n"
                         "  tasks:\n    - name: Ping\n      ansible.builtin.ping:\n")
        report_dir = os.path.join(self.work, "health-report")
        module_args = json.dumps({"config": CONFIG, "run_as": SERVICE_USER, "mcporter_path": MCPORTER})
        # The same listing the module starts, as an operator would write it by hand.
        command_args = ("runuser -u %s -- env MCPORTER_DISABLE_KEEPALIVE=* NO_COLOR=1 CI=1 %s list --json "
                        "--exit-code --config %s" % (SERVICE_USER, MCPORTER, CONFIG))

        result = {"n": n, "rerun": [], "health": [], "floor": [], "module": [], "command": []}
        mirror, registry = LogWindow(MIRROR_LOG), LogWindow(REGISTRY_LOG)
        log("N=%d: first deploy" % n)
        first = self.playbook("deploy-first-n%d" % n, inventory, "mcpops.alipay_mcp.deploy", env)
        tarballs, mirror_all = count_mirror(mirror.lines(), tag)
        npm_ours, npm_others = count_registry(registry.lines(), hosts)
        recap = parse_recap(first["output"])
        result["first"] = {"wall": first["wall"], "cpu": first["cpu"], "node_tarballs": tarballs,
                           "mirror_requests": mirror_all, "npm_requests": npm_ours, "npm_other_clients": npm_others,
                           "changed": sum(h["changed"] for h in recap.values()), "recap": recap}
        log("N=%d: first deploy %.1f s, %d Node tarball download(s), %d npm request(s)"
            % (n, first["wall"], tarballs, npm_ours))

        for k in range(1, runs + 1):
            mirror, registry = LogWindow(MIRROR_LOG), LogWindow(REGISTRY_LOG)
            rerun = self.playbook("deploy-rerun-n%d-%d" % (n, k), inventory, "mcpops.alipay_mcp.deploy", env)
            tarballs, mirror_all = count_mirror(mirror.lines(), tag)
            npm_ours, npm_others = count_registry(registry.lines(), hosts)
            recap = parse_recap(rerun["output"])
            if set(recap) != hosts:
                raise BenchError("the rerun's PLAY RECAP lists %s, expected %s (%s)"
                                 % (sorted(recap), sorted(hosts), rerun["log"]))
            result["rerun"].append({
                "wall": rerun["wall"], "cpu": rerun["cpu"], "node_tarballs": tarballs, "mirror_requests": mirror_all,
                "npm_requests": npm_ours, "npm_other_clients": npm_others,
                "changed": sum(h["changed"] for h in recap.values()),
                "tasks_per_host": sorted(h["ok"] + h["changed"] for h in recap.values())})
            health = self.playbook("health-n%d-%d" % (n, k), inventory, "mcpops.alipay_mcp.health", env,
                                   "-e", "health_report_dir=" + report_dir)
            floor = self.playbook("floor-n%d-%d" % (n, k), inventory, floor_play, env)
            module = self.adhoc("module-n%d-%d" % (n, k), inventory, env, "mcpops.alipay_mcp.mcporter_health",
                                module_args)
            command = self.adhoc("command-n%d-%d" % (n, k), inventory, env, "ansible.builtin.command", command_args)
            for key, sample in (("health", health), ("floor", floor), ("module", module), ("command", command)):
                result[key].append({"wall": sample["wall"], "cpu": sample["cpu"]})
            log("N=%d run %d/%d: rerun %.1f s (changed=%d), health %.1f s, floor %.1f s, module %.2f s, "
                "command %.2f s" % (n, k, runs, rerun["wall"], result["rerun"][-1]["changed"], health["wall"],
                                    floor["wall"], module["wall"], command["wall"]))
        self.remove_hosts()
        return result

    def cleanup(self, keep_logs):
        self.remove_hosts()
        if self.bao is not None:
            self.bao.stop(self.bao_state)
        for script in self.started_services:
            subprocess.run([os.path.join(HARNESS_SCRIPTS, script), "stop"], env=self.harness_env(),
                           capture_output=True, check=False)
        if keep_logs and os.listdir(self.logs):
            for name in os.listdir(self.work):
                path = os.path.join(self.work, name)
                if name == "logs":
                    continue
                if os.path.isdir(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.remove(path)
            log("the commands' output is kept in %s" % self.logs)
        else:
            shutil.rmtree(self.work, ignore_errors=True)


# ------------------------------------------------------------------------------------------------
# Summary


def median(samples, key="wall"):
    return statistics.median(s[key] for s in samples)


def summarise(result):
    """Medians, ratios and verdicts of one size."""
    n = result["n"]
    floor = median(result["floor"])
    command = median(result["command"])
    s = {"n": n, "runs": len(result["floor"])}
    s["first"] = {"median": result["first"]["wall"], "cpu": result["first"]["cpu"], "ratio": result["first"]["wall"] / floor}
    for key in ("rerun", "health", "floor", "module", "command"):
        s[key] = {"median": median(result[key]), "cpu": median(result[key], "cpu")}
        s[key]["ratio"] = s[key]["median"] / (command if key == "module" else floor)
    s["command"]["ratio"] = None
    reruns = result["rerun"]
    s["node_first"] = result["first"]["node_tarballs"]
    s["node_rerun"] = max(r["node_tarballs"] for r in reruns)
    s["npm_first"] = result["first"]["npm_requests"]
    s["npm_rerun"] = max(r["npm_requests"] for r in reruns)
    s["npm_other_clients"] = sum(r["npm_other_clients"] for r in reruns)
    s["changed_first"] = result["first"]["changed"]
    s["changed_rerun"] = max(r["changed"] for r in reruns)
    tasks = [t for r in reruns for t in r["tasks_per_host"]]
    s["tasks_per_host"] = (min(tasks), max(tasks))
    verdict = lambda ok: "PASS" if ok else "GAP"  # noqa: E731
    s["targets"] = [
        ("Node tarball downloads, first deploy", "= 1", str(s["node_first"]), verdict(s["node_first"] == 1)),
        ("Node tarball downloads per rerun", "= 0", str(s["node_rerun"]), verdict(s["node_rerun"] == 0)),
        ("npm registry requests per rerun", "= 0", str(s["npm_rerun"]), verdict(s["npm_rerun"] == 0)),
        ("changed on rerun", "= 0", str(s["changed_rerun"]), verdict(s["changed_rerun"] == 0)),
        ("rerun / floor", "<= %gx" % TARGET_RERUN_FLOOR, "%.2fx" % s["rerun"]["ratio"],
         verdict(s["rerun"]["ratio"] <= TARGET_RERUN_FLOOR)),
        ("module / command", "<= %gx" % TARGET_MODULE_COMMAND, "%.2fx" % s["module"]["ratio"],
         verdict(s["module"]["ratio"] <= TARGET_MODULE_COMMAND)),
    ]
    s["rerun"]["target"], s["rerun"]["verdict"] = s["targets"][4][1] + " floor", s["targets"][4][3]
    s["module"]["target"], s["module"]["verdict"] = s["targets"][5][1] + " command", s["targets"][5][3]
    return s


def machine_facts():
    facts = {"nproc": os.cpu_count(), "load": "%.2f %.2f %.2f" % os.getloadavg(), "kernel": platform.release()}
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            kib = int(re.search(r"MemTotal:\s+(\d+)", handle.read()).group(1))
        facts["memory"] = "%.1f GiB" % (kib / 1024 / 1024)
    except (OSError, AttributeError):
        facts["memory"] = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            facts["cpu"] = re.search(r"model name\s*:\s*(.+)", handle.read()).group(1).strip()
    except (OSError, AttributeError):
        facts["cpu"] = "unknown"
    for tool, argv in (("ansible_core", [os.path.join(VENV, "bin", "ansible"), "--version"]),
                       ("podman", ["podman", "--version"])):
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        facts[tool] = (proc.stdout.splitlines() or ["unknown"])[0]
    return facts


def fmt_ratio(value):
    return "-" if value is None else "%.2fx" % value


TIMING_SECTIONS = (
    ("first", "(a) First deploy on fresh hosts",
     "`ansible-playbook mcpops.alipay_mcp.deploy` on hosts just created (Node.js, mcporter, the server, the "
     "config, the allowlist, the health check); once per N.", "deploy / floor"),
    ("rerun", "(b) Deploy again (idempotent rerun)",
     "The same `deploy.yml` on the deployed hosts; it must report `changed=0`.", "rerun / floor"),
    ("health", "(c) Fleet health report", "`ansible-playbook mcpops.alipay_mcp.health`.", "health / floor"),
    ("floor", "(d) Ansible floor",
     "A play with one `ansible.builtin.ping` task, `become: true`, on the same hosts and connection settings.",
     "floor / floor"),
    ("module", "(e) mcporter_health module",
     "`ansible -b -m mcpops.alipay_mcp.mcporter_health -a '{\"config\": ..., \"run_as\": \"openclaw\"}'`.",
     "module / command"),
    ("command", "(e) The same listing through ansible.builtin.command",
     "`ansible -b -m ansible.builtin.command -a 'runuser -u openclaw -- env ... mcporter list --json "
     "--exit-code --config ...'`.", None),
)


def write_markdown(path, summaries, results, facts, command, started, notes=None):
    out = ["# Fleet benchmark results", "",
           "Written by `benchmarks/fleet.py`; what it measures and how to read it: "
           "[benchmarks/README.md](../../benchmarks/README.md).", "",
           "Reproduce with (from the repository root, after `make prepare`):", "", "```sh", command, "```", "",
           "| Machine | |", "|---|---|",
           "| Date (UTC) | %s |" % started,
           "| nproc | %s |" % facts["nproc"],
           "| Memory | %s |" % facts["memory"],
           "| CPU | %s |" % facts["cpu"],
           "| Load average (1, 5, 15 min) at start / at end | %s / %s |" % (facts["load"], facts["load_end"]),
           "| Kernel | %s |" % facts["kernel"],
           "| Ansible | %s |" % facts["ansible_core"],
           "| Podman | %s |" % facts["podman"], "",
           "Times are wall seconds of the whole command as an operator runs it, medians of %s run(s) per "
           "measurement (the first deploy runs once per N, on fresh hosts); CPU is user+sys seconds of the "
           "command's process tree on the controller." % ", ".join(
               sorted({"%d (N=%s)" % (k, ",".join(str(x["n"]) for x in summaries if x["runs"] == k))
                       for k in {x["runs"] for x in summaries}}) if len({x["runs"] for x in summaries}) > 1
               else str(summaries[0]["runs"])), ""]
    if float(facts["load"].split()[0]) > (facts["nproc"] or 1):
        out += ["The load average at the start was above nproc: other work shared the CPUs, so absolute times "
                "are inflated and ratios are noisier than on a quiet machine.", ""]
    out += ["The controller and every host share the same %s CPU(s): the containers' sshd, Python and Node "
            "processes compete with ansible-playbook itself, so the times grow with N faster than on a real fleet, and "
            "the time ratios move with the load of the machine (compare them only between runs on the same machine "
            "under similar load)." % facts["nproc"], ""]
    out += ["## Targets", "", "| N | Target | Wanted | Measured | Verdict |", "|---|---|---|---|---|"]
    for s in summaries:
        out += ["| %d | %s | %s | %s | %s |" % ((s["n"],) + t) for t in s["targets"]]
    for key, title, what, ratio_name in TIMING_SECTIONS:
        out += ["", "## " + title, "", what, "",
                "| N | Median s | CPU s | %s | Target | Verdict |" % (ratio_name or "Ratio"), "|---|---|---|---|---|---|"]
        for s in summaries:
            m = s[key]
            out.append("| %d | %.2f | %.2f | %s | %s | %s |" % (
                s["n"], m["median"], m["cpu"], fmt_ratio(m["ratio"]) if ratio_name else "-",
                m.get("target", "-"), m.get("verdict", "-")))
    out += ["", "## Node tarball downloads per rollout", "",
            "Requests for `node-v*.tar.xz` in the Node mirror's access log under this size's mirror tag.", "",
            "| N | First deploy | Target | Verdict | Per rerun (most) | Target | Verdict |",
            "|---|---|---|---|---|---|---|"]
    for s in summaries:
        out.append("| %d | %d | = 1 | %s | %d | = 0 | %s |" % (
            s["n"], s["node_first"], s["targets"][0][3], s["node_rerun"], s["targets"][1][3]))
    out += ["", "## npm registry requests per rollout", "",
            "Requests from the benchmark hosts in the registry's log (one line per request).", "",
            "| N | First deploy | Per rerun (most) | Target | Verdict | Other clients during the reruns |",
            "|---|---|---|---|---|---|"]
    for s in summaries:
        out.append("| %d | %d | %d | = 0 | %s | %d |" % (
            s["n"], s["npm_first"], s["npm_rerun"], s["targets"][2][3], s["npm_other_clients"]))
    out += ["", "## Changes and remote tasks on a rerun", "",
            "From `deploy.yml`'s PLAY RECAP: `changed` summed over the hosts, and `ok` + `changed` per host, the "
            "tasks executed for each host (controller-side ones such as `set_fact` and `assert` included).", "",
            "| N | Changed, first deploy | Changed per rerun (most) | Target | Verdict | Tasks per host on a rerun |",
            "|---|---|---|---|---|---|"]
    for s in summaries:
        low, high = s["tasks_per_host"]
        out.append("| %d | %d | %d | = 0 | %s | %s |" % (
            s["n"], s["changed_first"], s["changed_rerun"], s["targets"][3][3],
            str(low) if low == high else "%d-%d" % (low, high)))
    out += ["", "## Time against hosts", "", "![Median seconds against N, log scale](time_vs_hosts.png)", "",
            "## Every run", "", "Wall seconds in the order they ran.", "",
            "| N | First deploy | Rerun | Health | Floor | Module | Command |", "|---|---|---|---|---|---|---|"]
    for r in results:
        cols = ["%.2f" % r["first"]["wall"]] + [
            " ".join("%.2f" % x["wall"] for x in r[key]) for key in ("rerun", "health", "floor", "module", "command")]
        out.append("| %d | %s |" % (r["n"], " | ".join(cols)))
    if notes:
        out += ["", notes.strip()]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(out) + "\n")


def print_summary(summaries):
    print("medians in seconds (CPU = user+sys of the command's process tree)")
    print("%4s  %-14s %8s %8s %10s" % ("N", "measurement", "wall", "CPU", "ratio"))
    for s in summaries:
        for key, label, base in (("first", "first deploy", "floor"), ("rerun", "rerun", "floor"),
                                 ("health", "health", "floor"), ("floor", "floor", "floor"),
                                 ("module", "module", "command"), ("command", "command", None)):
            m = s[key]
            ratio = "" if base is None else "%.2fx %s" % (m["ratio"], base)
            print("%4d  %-14s %8.2f %8.2f %s" % (s["n"], label, m["median"], m["cpu"], ratio))
        low, high = s["tasks_per_host"]
        print("%4d  node tarballs: first deploy %d, per rerun %d; npm requests: first deploy %d, per rerun %d; "
              "remote tasks per host on a rerun: %s" % (s["n"], s["node_first"], s["node_rerun"], s["npm_first"],
                                                      s["npm_rerun"], low if low == high else "%d-%d" % (low, high)))
    print()
    print("%4s  %-38s %-8s %-9s %s" % ("N", "target", "wanted", "measured", "verdict"))
    for s in summaries:
        for name, wanted, measured, verdict in s["targets"]:
            print("%4d  %-38s %-8s %-9s %s" % (s["n"], name, wanted, measured, verdict))


# ------------------------------------------------------------------------------------------------
# A line chart as PNG with the standard library only (zlib + struct), text in a 5x7 bitmap font
# (seven rows of five pixels per glyph; upper case is enough for the labels).

FONT = {
    'A': ".###. #...# #...# ##### #...# #...# #...#", 'B': "####. #...# #...# ####. #...# #...# ####.",
    'C': ".###. #...# #.... #.... #.... #...# .###.", 'D': "####. #...# #...# #...# #...# #...# ####.",
    'E': "##### #.... #.... ####. #.... #.... #####", 'F': "##### #.... #.... ####. #.... #.... #....",
    'G': ".###. #...# #.... #.### #...# #...# .####", 'H': "#...# #...# #...# ##### #...# #...# #...#",
    'I': ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.", 'J': "..### ...#. ...#. ...#. ...#. #..#. .##..",
    'K': "#...# #..#. #.#.. ##... #.#.. #..#. #...#", 'L': "#.... #.... #.... #.... #.... #.... #####",
    'M': "#...# ##.## #.#.# #.#.# #...# #...# #...#", 'N': "#...# #...# ##..# #.#.# #..## #...# #...#",
    'O': ".###. #...# #...# #...# #...# #...# .###.", 'P': "####. #...# #...# ####. #.... #.... #....",
    'Q': ".###. #...# #...# #...# #.#.# #..#. .##.#", 'R': "####. #...# #...# ####. #.#.. #..#. #...#",
    'S': ".#### #.... #.... .###. ....# ....# ####.", 'T': "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
    'U': "#...# #...# #...# #...# #...# #...# .###.", 'V': "#...# #...# #...# #...# #...# .#.#. ..#..",
    'W': "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.", 'X': "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
    'Y': "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..", 'Z': "##### ....# ...#. ..#.. .#... #.... #####",
    '0': ".###. #...# #..## #.#.# ##..# #...# .###.", '1': "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
    '2': ".###. #...# ....# ...#. ..#.. .#... #####", '3': "##### ...#. ..#.. ...#. ....# #...# .###.",
    '4': "...#. ..##. .#.#. #..#. ##### ...#. ...#.", '5': "##### #.... ####. ....# ....# #...# .###.",
    '6': "..##. .#... #.... ####. #...# #...# .###.", '7': "##### ....# ...#. ..#.. .#... .#... .#...",
    '8': ".###. #...# #...# .###. #...# #...# .###.", '9': ".###. #...# #...# .#### ....# ...#. .##..",
    '.': "..... ..... ..... ..... ..... .##.. .##..", ',': "..... ..... ..... ..... .##.. ..#.. .#...",
    '(': "...#. ..#.. .#... .#... .#... ..#.. ...#.", ')': ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
    '-': "..... ..... ..... ##### ..... ..... .....", '/': "..... ....# ...#. ..#.. .#... #.... .....",
    ':': "..... .##.. .##.. ..... .##.. .##.. .....", '_': "..... ..... ..... ..... ..... ..... #####",
    '=': "..... ..... ##### ..... ##### ..... .....", ' ': "..... ..... ..... ..... ..... ..... .....",
}


class Canvas:
    def __init__(self, width, height):
        self.w, self.h = width, height
        self.px = bytearray(b"\xff" * (width * height * 3))

    def dot(self, x, y, color):
        if 0 <= x < self.w and 0 <= y < self.h:
            i = (y * self.w + x) * 3
            self.px[i:i + 3] = bytes(color)

    def rect(self, x0, y0, x1, y1, color):
        for y in range(max(0, y0), min(self.h, y1 + 1)):
            i = (y * self.w + max(0, x0)) * 3
            width = min(self.w - 1, x1) - max(0, x0) + 1
            if width > 0:
                self.px[i:i + width * 3] = bytes(color) * width

    def line(self, x0, y0, x1, y1, color, width=1, dash=0):
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err, step, half = dx + dy, 0, width // 2
        while True:
            if not dash or (step // dash) % 2 == 0:
                self.rect(x0 - half, y0 - half, x0 - half + width - 1, y0 - half + width - 1, color)
            if x0 == x1 and y0 == y1:
                return
            step += 1
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def marker(self, cx, cy, shape, color, r=6):
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                inside = {"square": max(abs(dx), abs(dy)) <= r - 1, "diamond": abs(dx) + abs(dy) <= r,
                          "circle": dx * dx + dy * dy <= r * r,
                          "triangle": dy >= -r and 2 * abs(dx) <= dy + r}[shape]
                if inside:
                    self.dot(cx + dx, cy + dy, color)

    @staticmethod
    def text_width(text, scale=2):
        return max(0, len(text) * 6 * scale - scale)

    def text(self, x, y, text, color, scale=2):
        for ch in text.upper():
            rows = FONT.get(ch, FONT["-"]).replace(" ", "")
            for k, bit in enumerate(rows):
                if bit == "#":
                    gx, gy = x + (k % 5) * scale, y + (k // 5) * scale
                    self.rect(gx, gy, gx + scale - 1, gy + scale - 1, color)
            x += 6 * scale

    def png(self):
        stride = self.w * 3
        raw = b"".join(b"\x00" + bytes(self.px[y * stride:(y + 1) * stride]) for y in range(self.h))

        def chunk(kind, data):
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def nice_ticks(low, high):
    """1-2-5 ticks covering [low, high] on a log scale."""
    ticks = [m * 10.0 ** d for d in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
             for m in (1, 2, 5)]
    lo = max([t for t in ticks if t <= low] or ticks[:1])
    hi = min([t for t in ticks if t >= high] or ticks[-1:])
    return [t for t in ticks if lo <= t <= hi]


def draw_chart(path, summaries):
    series = (("first deploy", "first", (0, 114, 178), "square"), ("rerun", "rerun", (213, 94, 0), "diamond"),
              ("health", "health", (0, 158, 115), "triangle"), ("floor", "floor", (0, 0, 0), "circle"))
    width, height = 1080, 620
    left, right, top, bottom = 110, 790, 80, 540
    c = Canvas(width, height)
    ink, grid = (0, 0, 0), (215, 215, 215)
    values = [s[key]["median"] for s in summaries for _, key, _, _ in series]
    ticks = nice_ticks(min(values) / 1.15, max(values) * 1.15)
    y_lo, y_hi = math.log10(ticks[0]), math.log10(ticks[-1])
    sizes = [s["n"] for s in summaries]
    x_hi = max(sizes) * (2 if len(sizes) == 1 else 1.05)

    def xp(n):
        return int(round(left + (right - left) * n / x_hi))

    def yp(v):
        return int(round(bottom - (bottom - top) * (math.log10(v) - y_lo) / (y_hi - y_lo)))

    c.text(left, 20, "mcpops.alipay_mcp: time against hosts", ink, 3)
    c.text(left, top - 24, "seconds, median (log scale)", ink)
    for t in ticks:
        y = yp(t)
        c.line(left, y, right, y, grid, dash=4)
        label = "%g" % t
        c.text(left - 12 - c.text_width(label), y - 7, label, ink)
    for n in sizes:
        x = xp(n)
        c.line(x, top, x, bottom, grid, dash=4)
        c.line(x, bottom, x, bottom + 6, ink)
        c.text(x - c.text_width(str(n)) // 2, bottom + 14, str(n), ink)
    c.text((left + right) // 2 - c.text_width("hosts (N)") // 2, bottom + 44, "hosts (N)", ink)
    c.line(left, top, left, bottom, ink, 2)
    c.line(left, bottom, right, bottom, ink, 2)
    for _, key, color, shape in series:
        points = [(xp(s["n"]), yp(s[key]["median"])) for s in summaries]
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            c.line(x0, y0, x1, y1, color, 3)
        for x, y in points:
            c.marker(x, y, shape, color)
    for k, (label, _, color, shape) in enumerate(series):
        y = top + 10 + k * 34
        c.line(right + 30, y, right + 70, y, color, 3)
        c.marker(right + 50, y, shape, color)
        c.text(right + 82, y - 7, label, ink)
    with open(path, "wb") as handle:
        handle.write(c.png())


# ------------------------------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,5,20", help="host counts N, comma-separated (default 1,5,20)")
    parser.add_argument("--runs", default="3",
                        help="runs K of every repeated measurement (default 3); or one K per size, comma-separated "
                             "like the sizes (3,3,1: fewer runs of the largest size when time is short)")
    parser.add_argument("--forks", type=int, default=0,
                        help="Ansible forks (default: the largest size, so every host of a run works at once)")
    parser.add_argument("--notes", default=DEFAULT_NOTES,
                        help="Markdown appended to results.md, for what the figures cannot say themselves (default "
                             "docs/benchmarks/notes.md when it exists; '' for none)")
    parser.add_argument("--out", default=DEFAULT_OUT, help="where results.md and time_vs_hosts.png go "
                                                          "(default docs/benchmarks)")
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    except ValueError:
        parser.error("--sizes takes whole numbers separated by commas, like 1,5,20")
    if not args.sizes or min(args.sizes) < 1 or max(args.sizes) > 99:
        parser.error("--sizes must be between 1 and 99 (addresses 127.0.0.101-199)")
    try:
        runs = [int(x) for x in args.runs.split(",") if x.strip()]
    except ValueError:
        parser.error("--runs takes a whole number, or one per size separated by commas")
    if len(runs) == 1:
        runs = runs * len(args.sizes)
    if len(runs) != len(args.sizes) or min(runs) < 1:
        parser.error("--runs must be at least 1, given once or once per size")
    args.runs_by_size = dict(zip(args.sizes, runs))
    args.forks = args.forks or max(args.sizes)
    return args


def reproduce_command(args):
    argv = [".venv/bin/python", "benchmarks/fleet.py", "--sizes", ",".join(map(str, args.sizes)),
            "--runs", args.runs.replace(" ", ""), "--forks", str(args.forks)]
    if os.path.abspath(args.out) != DEFAULT_OUT:
        argv += ["--out", args.out]
    return shlex.join(argv)


def write_outputs(args, results, facts, started, partial=None):
    """results.md and time_vs_hosts.png for the sizes measured so far; returns their summaries."""
    facts["load_end"] = "%.2f %.2f %.2f" % os.getloadavg()
    summaries = [summarise(r) for r in results]
    os.makedirs(args.out, exist_ok=True)
    notes = None
    if args.notes and os.path.exists(args.notes):
        with open(args.notes, encoding="utf-8") as handle:
            notes = handle.read()
    if partial:
        notes = ("**Partial results** (%s): written when a size completed; the run went on with the next size, and "
                 "these are the last complete results if it was stopped.\n\n" % partial) + (notes or "")
    write_markdown(os.path.join(args.out, "results.md"), summaries, results, facts, reproduce_command(args), started,
                   notes)
    draw_chart(os.path.join(args.out, "time_vs_hosts.png"), summaries)
    return summaries


def main(argv):
    args = parse_args(argv)
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    facts = machine_facts()

    def terminate(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)

    bench = Bench(args)
    results, failed, interrupted = [], True, False
    try:
        bench.preflight()
        bench.start_services()
        bench.write_secrets()
        for n in args.sizes:
            results.append(bench.measure_size(n))
            if n != args.sizes[-1]:
                # Every completed size is written at once, so a run stopped during a later (longer) size
                # still leaves the complete results of the sizes before it.
                write_outputs(args, results, dict(facts), started,
                              partial="sizes %s of %s" % (",".join(str(r["n"]) for r in results),
                                                          ",".join(map(str, args.sizes))))
        failed = False
    except BenchError as exc:
        log("ERROR: %s" % exc)
    except KeyboardInterrupt:
        log("interrupted")
        interrupted = True
    finally:
        # A second Ctrl-C must not leave containers or OpenBao behind; the cleanup commands inherit the ignore.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        log("removing the benchmark hosts and OpenBao")
        bench.cleanup(keep_logs=failed)
    if failed:
        if results:
            log("the results of the completed sizes (%s) are in %s" % (
                ",".join(str(r["n"]) for r in results), os.path.join(args.out, "results.md")))
        return 130 if interrupted else 2

    summaries = write_outputs(args, results, facts, started)
    print_summary(summaries)
    print("\nwrote %s and %s" % (os.path.join(args.out, "results.md"), os.path.join(args.out, "time_vs_hosts.png")))
    gaps = sum(1 for s in summaries for t in s["targets"] if t[3] != "PASS")
    print("%d target(s) missed" % gaps if gaps else "every target met")
    return 1 if gaps else 0


if __name__ == "__main__":
    reexec_in_venv()
    sys.exit(main(sys.argv[1:]))
