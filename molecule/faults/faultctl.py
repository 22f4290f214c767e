"""Fault cases of the faults scenario: deploy.yml meets the faults of a real rollout.

cases HOSTS   run deploy.yml through ansible-playbook against this scenario's inventory while a test
              callback (plugins/callback/fault_injection.py) injects one fault at a known task, then
              check the hosts, the controller and a rerun

Hosts, keys and checks come from the fleet scenario's helpers (../fleet/fleetctl.py). Every playbook
output is scanned for the hosts' private keys.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fleet"))
import fleetctl  # noqa: E402  pylint: disable=wrong-import-position

EPHEMERAL = fleetctl.EPHEMERAL
CONFIG, ENVFILE = fleetctl.CONFIG, fleetctl.ENVFILE
LOCK = "/run/mcpops-alipay-mcp.lock"
NEW_TOOLS = ["queryPay", "refundQuery"]
OLD_TOOLS = ["queryPay"]
FULL = {"queryPay": "query-alipay-payment", "refundQuery": "query-alipay-refund"}

# A TCP forwarder on loopback standing in for the network path to OpenBao, so one case can cut it.
PROXY = r"""
import socket, sys, threading
listen, target = int(sys.argv[1]), (sys.argv[2], int(sys.argv[3]))
server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", listen)); server.listen(64)
def pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data: break
            b.sendall(data)
    except OSError: pass
    finally:
        for s in (a, b):
            try: s.shutdown(socket.SHUT_RDWR)
            except OSError: pass
while True:
    client, _ = server.accept()
    upstream = socket.create_connection(target)
    threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
    threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
"""


def norm(tools):
    return sorted(FULL.get(t, t) for t in tools)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Faults(fleetctl.Fleet):
    def __init__(self, hosts):
        super().__init__(hosts)
        self.local_temp = os.path.join(EPHEMERAL, "controller-tmp")

    # Runs -------------------------------------------------------------------------------------
    def start(self, name, *args, fault=None, env=None):
        """Starts deploy.yml like an operator (its own session, output to a log); returns (proc, log)."""
        self.step += 1
        log = os.path.join(EPHEMERAL, "faults-%02d-%s.log" % (self.step, name))
        run_env = dict(os.environ, ANSIBLE_LOCAL_TEMP=self.local_temp,
                       ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, "plugins", "callback"),
                       ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks,fault_injection",
                       MCPOPS_FAULT_RUN=name)
        if fault:
            run_env.update(MCPOPS_FAULT_TASK=fault[0], MCPOPS_FAULT_WHEN=fault[1], MCPOPS_FAULT_ACTION=fault[2],
                           MCPOPS_FAULT_MODULE=fault[3] if len(fault) > 3 else "")
        run_env.update(env or {})
        cmd = ["ansible-playbook", "-i", self.inventory, "mcpops.alipay_mcp.deploy", "-e", "target_hosts=all"] + list(args)
        handle = open(log, "w", encoding="utf-8")  # pylint: disable=consider-using-with
        handle.write(" ".join(cmd) + "\n")
        handle.flush()
        proc = subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT, env=run_env, start_new_session=True)
        proc.log_handle = handle
        return proc, log

    def finish(self, name, proc, log, timeout=900):
        rc = proc.wait(timeout=timeout)
        proc.log_handle.close()
        self.wait_for_orphans(name)
        with open(log, encoding="utf-8") as handle:
            output = handle.read()
        leaked = [w for w in self.key_windows(fleetctl.all_private_keys(self.hosts)) if w in output]
        self.expect(not leaked, "%s: no window of a private key in the output (%d found, %s)" % (name, len(leaked), log))
        print("%s: rc=%d (%s)" % (name, rc, log))
        # Messages come folded over several lines; compare them as single-spaced text.
        return rc, " ".join(output.split())

    def run(self, name, *args, **kwargs):
        proc, log = self.start(name, *args, **kwargs)
        return self.finish(name, proc, log)

    @staticmethod
    def wait_for_orphans(name, timeout=120):
        """A killed controller leaves its forked workers running their last task; wait until they are gone."""
        deadline = time.time() + timeout
        marker = ("MCPOPS_FAULT_RUN=%s" % name).encode()
        while time.time() < deadline:
            alive = []
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    # SSH connection masters (ControlPersist) outlive every run by design.
                    with open("/proc/%s/comm" % pid, encoding="utf-8") as handle:
                        if handle.read().strip() == "ssh":
                            continue
                    with open("/proc/%s/environ" % pid, "rb") as handle:
                        if marker in handle.read().split(b"\0"):
                            alive.append(pid)
                except OSError:
                    pass
            if not alive:
                return
            time.sleep(1)

    @staticmethod
    def tools_arg(tools):
        return json.dumps({"fleet_tools": tools})

    def deployed_tools(self, host):
        """The host's allowedTools as full tool names, sorted (None without a config)."""
        tools = self.tools(host)
        return None if tools is None else norm(tools)

    def wait_for_lock(self, host, timeout=300):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.sh(host, "test -e %s && echo held || true" % LOCK).strip() == "held":
                return True
            time.sleep(1)
        return False

    # Checks -----------------------------------------------------------------------------------
    def check_host_files(self, host, allowed_tools):
        """The config is whole (valid JSON, one of the allowed tool sets), 0600, owned by the service user,
        and no other file holds a key (temporary files of an interrupted write included)."""
        mode = self.sh(host, "stat -c '%%a %%U' %s 2>/dev/null || echo absent" % CONFIG).strip()
        self.expect(mode == "600 openclaw", "%s: the config is 0600 and owned by openclaw (%s)" % (host, mode))
        try:
            tools = self.deployed_tools(host)
        except ValueError as exc:
            tools = "invalid JSON (%s)" % exc
        self.expect(tools in [norm(t) for t in allowed_tools],
                    "%s: the config is valid JSON with the old or the new tools (%s)" % (host, tools))
        listing = self.sh(host, "ls -A %s" % os.path.dirname(CONFIG)).split()
        stray = [f for f in listing if f not in ("mcporter.json", "mcporter.json.previous", "mcpops-alipay.env",
                                                  "mcpops-alipay.env.previous")]
        self.expect(not stray, "%s: no temporary file beside the config (%s)" % (host, stray))
        allowed = [CONFIG, CONFIG + ".previous", ENVFILE, ENVFILE + ".previous"]
        self.expect(not self.scan_host(host, allowed=allowed), "%s: no other file on the host holds a key" % host)

    def check_controller_temp(self):
        """Files left in the controller's local temp dir (a killed run cannot clean it) hold no key."""
        files = []
        for root, _dirs, names in os.walk(self.local_temp):
            files += [os.path.join(root, n) for n in names]
        hits = []
        for host in self.hosts:
            windows = subprocess.run([sys.executable, fleetctl.LEAKSCAN, "windows"], capture_output=True, text=True,
                                     check=True, env=dict(os.environ, LEAKS_VAULT_PATH="alipay/" + host)).stdout
            if files:
                proc = subprocess.run([sys.executable, fleetctl.LEAKSCAN, "scan"] + files, input=windows,
                                      capture_output=True, text=True, check=True)
                hits += [h["path"] for h in json.loads(proc.stdout)["hits"]]
        self.expect(not hits, "the controller's temp dir (%d files left) holds no key (%s)" % (len(files), hits))

    # Cases ------------------------------------------------------------------------------------
    def case_sigkill_mid_write(self):
        """The controller is SIGKILLed right after the first host wrote its config: every host holds a
        whole old or new file, no temporary file holds a key, and a rerun converges."""
        shutil.rmtree(self.local_temp, ignore_errors=True)
        rc, out = self.run("sigkill", "-e", self.tools_arg(NEW_TOOLS),
                           fault=("Write the mcporter config", "first-result", "sigkill", "secret_file"))
        self.expect(rc == -signal.SIGKILL, "the controller was killed (rc=%s)" % rc)
        written = [h for h in self.hosts if self.deployed_tools(h) == norm(NEW_TOOLS)]
        self.expect(written, "the kill came while configs were written: %s already had the new one" % written)
        for h in self.hosts:
            self.check_host_files(h, [NEW_TOOLS, OLD_TOOLS])
        self.check_controller_temp()
        rc, out = self.run("sigkill-rerun", "-e", self.tools_arg(NEW_TOOLS))
        self.expect(rc == 0, "the rerun converges")
        self.expect("took over the rollout lock" in out, "the rerun took over the locks the killed run left")
        for h in self.hosts:
            self.expect(self.deployed_tools(h) == norm(NEW_TOOLS), "%s has the rerun's tools" % h)
            self.expect(self.sh(h, "test -e %s && echo held || true" % LOCK).strip() == "", "%s: the lock is released" % h)
        self.vault_gone_after_read()

    def vault_gone_after_read(self):
        """OpenBao becomes unreachable once the preflight has read the secrets: a further rerun completes
        (the batches template the config from what the preflight read) and changes nothing."""
        addr = os.environ["VAULT_ADDR"].split("://", 1)[1]
        host, port = addr.rsplit(":", 1)
        listen = free_port()
        proxy = subprocess.Popen([sys.executable, "-c", PROXY, str(listen), host, port])  # pylint: disable=consider-using-with
        try:
            time.sleep(0.5)
            rc, out = self.run("vault-gone-idempotent", "-e", self.tools_arg(NEW_TOOLS),
                               fault=("Note that this host's batch started", "start", "exec:kill %d" % proxy.pid),
                               env={"VAULT_ADDR": "http://127.0.0.1:%d" % listen})
        finally:
            proxy.kill()
            proxy.wait()
        self.expect("FAULT INJECTED" in out, "the path to OpenBao was cut after the preflight")
        self.expect(rc == 0, "the rerun completes without OpenBao after the single read")
        self.expect(not re.search(r"changed=[1-9]", out), "the rerun changes nothing")

    def case_concurrent_rollouts(self):
        """Two more rollouts start while one holds a host: with no wait one fails naming the holder; with
        the default wait the other runs once the holder is done, so the writes never interleave."""
        host = self.hosts[0]
        handle, flag = tempfile.mkstemp(prefix="fault-hold-", dir=EPHEMERAL)
        os.close(handle)
        first, first_log = self.start("concurrent-first", "--limit", host, "-e", self.tools_arg(OLD_TOOLS),
                                      fault=("Write the mcporter config", "start", "hold:" + flag, "secret_file"))
        try:
            self.expect(self.wait_for_lock(host), "the first rollout holds %s" % host)
            rc, out = self.run("concurrent-no-wait", "--limit", host, "-e", self.tools_arg(NEW_TOOLS),
                               "-e", "alipay_mcp_lock_wait=0")
            self.expect(rc != 0, "a rollout with alipay_mcp_lock_wait=0 fails")
            self.expect("is being changed by another rollout" in out and ":%d:" % first.pid in out,
                        "its message names the run holding the host (pid %d)" % first.pid)
            waiting, waiting_log = self.start("concurrent-waiting", "--limit", host, "-e", self.tools_arg(NEW_TOOLS))
            deadline = time.time() + 300
            while time.time() < deadline and waiting.poll() is None:
                with open(waiting_log, encoding="utf-8") as handle:
                    if "TASK [Take the host's rollout lock]" in handle.read():
                        break
                time.sleep(1)
            time.sleep(3)
            self.expect(waiting.poll() is None, "a rollout with the default wait is waiting for the lock")
        finally:
            os.unlink(flag)
        rc1, _ = self.finish("concurrent-first", first, first_log)
        rc2, _ = self.finish("concurrent-waiting", waiting, waiting_log)
        self.expect(rc1 == 0 and rc2 == 0, "the holder and the waiting rollout complete (rc %d and %d)" % (rc1, rc2))
        self.expect(self.deployed_tools(host) == norm(NEW_TOOLS), "the waiting rollout wrote last: %s has its tools" % host)
        self.check_host_files(host, [NEW_TOOLS])

    def case_host_disappears(self):
        """A host's container stops when its batch reaches the Alipay role: the rest of the batch
        completes, the summary names the host, and a rerun once it is back converges."""
        gone = self.hosts[-1]
        rc, out = self.run("host-gone", "-e", self.tools_arg(OLD_TOOLS),
                           fault=("Deploy the Alipay MCP server and check it", "start",
                                  "exec:podman stop -t 0 mcpops-%s >/dev/null" % gone))
        self.expect(rc != 0, "the rollout exits non-zero")
        for h in self.hosts[:-1]:
            self.expect(self.deployed_tools(h) == norm(OLD_TOOLS), "%s completed with the rollout's tools" % h)
        self.expect("Unreachable during its batch, state unknown (run deploy.yml for it when it is back): " + gone in out,
                    "the summary names %s as unreachable" % gone)
        subprocess.run(["podman", "start", "mcpops-" + gone], check=True, capture_output=True)
        address = "127.0.0.%d" % (70 + int(gone.rsplit("-", 1)[1]))
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection((address, 2222), timeout=2).close()
                break
            except OSError:
                time.sleep(1)
        rc, out = self.run("host-back", "-e", self.tools_arg(OLD_TOOLS))
        self.expect(rc == 0, "the rerun converges once %s is back" % gone)
        self.expect(self.deployed_tools(gone) == norm(OLD_TOOLS), "%s has the rollout's tools" % gone)


def cmd_cases(hosts):
    faults = Faults(hosts)
    return faults.run_cases(faults.case_sigkill_mid_write, faults.case_concurrent_rollouts, faults.case_host_disappears)


if __name__ == "__main__":
    sys.exit(cmd_cases(sorted(sys.argv[2].split(","))))
