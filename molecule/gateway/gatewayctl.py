"""Gateway cases of the gateway scenario: the role's restart handler on a real systemd user session.

keys HOSTS    write each host's first secret to OpenBao and print the public keys for the stand-in
cases HOSTS   check the gateway after converge and idempotence, then rotate the key (the gateway must
              restart onto it) and rotate it into a gateway that cannot start (the run must fail)

Hosts, keys and playbook runs come from the fleet scenario's helpers (../fleet/fleetctl.py); every
playbook output is scanned for the hosts' private keys. Only digests of secrets are compared.
"""
import hashlib
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fleet"))
import fleetctl  # noqa: E402  pylint: disable=wrong-import-position

UNIT = "openclaw-gateway.service"
DROPIN_DIR = "/home/openclaw/.config/systemd/user/openclaw-gateway.service.d"
BROKEN_DROPIN = DROPIN_DIR + "/zz-test-broken.conf"
# The main PID converge.yml recorded after the first converge (idempotence must not change it).
CONVERGE_RECORD = "/var/lib/mcpops-test/gateway-after-converge"

# Runs on the host as the service user (who alone may read its processes' environment): the gateway
# unit's state from the user manager, and whether the gateway's process environment holds exactly
# the env file's values (digests only, never values).
PROBE = r"""
import hashlib, json, os, subprocess, sys
envfile = sys.argv[1]
out = subprocess.run(["systemctl", "--user", "show", "openclaw-gateway.service",
                      "-p", "MainPID", "-p", "ActiveState", "-p", "EnvironmentFiles", "-p", "DropInPaths",
                      "-p", "NRestarts"],
                     capture_output=True, text=True, check=True).stdout
show = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
pid = int(show.get("MainPID") or 0)
environ = {}
started = None
try:
    with open("/proc/%d/environ" % pid, "rb") as handle:
        for item in handle.read().split(b"\0"):
            if b"=" in item:
                key, value = item.decode().split("=", 1)
                environ[key] = value
    ticks = int(open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[19])
    boot = next(int(l.split()[1]) for l in open("/proc/stat") if l.startswith("btime "))
    started = boot + ticks / os.sysconf("SC_CLK_TCK")
except (OSError, ValueError):  # no main process, or it just exited
    pid = 0
wanted = {}
if os.path.exists(envfile):
    for line in open(envfile):
        if "=" in line and not line.startswith("#"):
            key, value = line.rstrip("\n").split("=", 1)
            wanted[key] = value.strip("'")
digest = lambda v: hashlib.sha256(v.encode()).hexdigest() if v is not None else None
print(json.dumps({
    "pid": pid, "restarts": int(show.get("NRestarts") or 0), "active": show.get("ActiveState"),
    "environment_files": show.get("EnvironmentFiles", ""),
    "dropins": show.get("DropInPaths", ""), "started": started,
    "envfile_mtime": os.stat(envfile).st_mtime if os.path.exists(envfile) else None,
    "names": sorted(wanted), "matches": bool(wanted) and all(environ.get(k) == v for k, v in wanted.items()),
    "app_key_sha256": digest(environ.get("MCPOPS_ALIPAY_AP_APP_KEY")),
    "bare_ap_vars": sorted(k for k in environ if k.startswith("AP_")),
}))
"""


class Gateway(fleetctl.Fleet):
    def probe(self, host):
        proc = subprocess.run(["podman", "exec", "-i", "-u", "openclaw", "-e", "XDG_RUNTIME_DIR=/run/user/1001",
                               "mcpops-" + host, "python3", "-", fleetctl.ENVFILE],
                              input=PROBE, capture_output=True, text=True, check=True)
        return json.loads(proc.stdout)

    def user_systemctl(self, host, *args):
        return self.sh(host, "systemctl --user -M openclaw@ " + " ".join(args), check=False)

    def wait_active(self, host, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            state = self.probe(host)
            if state["active"] == "active" and state["pid"]:
                return state
            time.sleep(2)
        return self.probe(host)

    def rotate(self, host):
        """Writes a new app key for the host to OpenBao and registers its public half with the
        stand-in; returns the new key's digest."""
        private, public = fleetctl.new_pair()
        fleetctl.write_secret(host, private)
        self.put_state(host, {"behaviour": "normal", "apps": {fleetctl.app_id_of(host): {"appPublicKey": public, "env": "prod"}}})
        return hashlib.sha256(private.encode()).hexdigest()

    def case_converged(self):
        """Converge restarted the gateway onto the env file; the idempotent rerun did not restart it."""
        for host in self.hosts:
            state = self.wait_active(host)
            self.expect(state["active"] == "active", "%s: the gateway runs (%s)" % (host, state["active"]))
            self.expect(fleetctl.ENVFILE in state["environment_files"],
                        "%s: the unit loads the env file through the role's drop-in" % host)
            self.expect(state["matches"] and state["names"] == ["MCPOPS_ALIPAY_AP_APP_ID", "MCPOPS_ALIPAY_AP_APP_KEY",
                                                                  "MCPOPS_ALIPAY_AP_PUB_KEY"],
                        "%s: the gateway's process holds every namespaced variable of the env file (%s)"
                        % (host, state["names"]))
            self.expect(state["bare_ap_vars"] == [], "%s: no bare AP_* variable in the gateway (%s)"
                        % (host, state["bare_ap_vars"]))
            self.expect(state["started"] is not None and state["started"] >= state["envfile_mtime"] - 1,
                        "%s: the gateway's process started after the env file was written" % host)
            # A new process is the rerun's doing only when systemd did not restart the gateway itself.
            recorded = (self.sh(host, "cat %s" % CONVERGE_RECORD, check=False).split() + ["?", "?"])[:2]
            self.expect(recorded[0] == str(state["pid"]) or str(state["restarts"]) != recorded[1],
                        "%s: the idempotent rerun kept the gateway's process (%s, after converge %s; systemd restarts %s, then %s)"
                        % (host, state["pid"], recorded[0], recorded[1], state["restarts"]))

    def case_rotation(self):
        """A new key in OpenBao: the run restarts the gateway onto it."""
        before = {h: self.probe(h) for h in self.hosts}
        digests = {h: self.rotate(h) for h in self.hosts}
        rc, out = self.play("rotate", "configure")
        self.expect(rc == 0, "the run with the new key succeeds")
        for host in self.hosts:
            state = self.wait_active(host)
            self.expect(state["active"] == "active" and state["pid"] != before[host]["pid"],
                        "%s: the gateway runs a new process (%s -> %s)" % (host, before[host]["pid"], state["pid"]))
            self.expect(state["app_key_sha256"] == digests[host] and state["matches"],
                        "%s: the gateway's new process holds the new key" % host)
            self.expect("The openclaw gateway of openclaw restarted (main PID %s" % before[host]["pid"] in out,
                        "%s: the run reports the restart" % host)

    def case_broken_gateway(self):
        """A gateway that cannot start again: the run fails, naming the unit's state."""
        host = self.hosts[0]
        self.sh(host, "printf '[Service]\\nExecStartPre=/bin/false\\n' > %s" % BROKEN_DROPIN)
        try:
            self.rotate(host)
            rc, out = self.play("broken-gateway", "configure", "-e", "alipay_mcp_gateway_restart_wait=20")
            self.expect(rc != 0, "the run fails")
            self.expect("did not restart onto the new Alipay settings" in out, "the failure says the gateway did not restart")
            self.expect("journalctl --user -u openclaw-gateway.service" in out, "the failure says where to look")
            state = self.probe(host)
            self.expect(state["active"] != "active", "%s: the gateway is indeed down (%s)" % (host, state["active"]))
        finally:
            self.sh(host, "rm -f %s" % BROKEN_DROPIN)
            self.user_systemctl(host, "daemon-reload")
            self.user_systemctl(host, "reset-failed", UNIT)
            self.user_systemctl(host, "start", UNIT)
        state = self.wait_active(host)
        self.expect(state["active"] == "active" and state["matches"],
                    "%s: once mended, the gateway starts with the new key" % host)


if __name__ == "__main__":
    HOSTS = sorted(sys.argv[2].split(","))
    if sys.argv[1] == "keys":
        fleetctl.cmd_keys(HOSTS)
    else:
        GATEWAY = Gateway(HOSTS)
        sys.exit(GATEWAY.run_cases(GATEWAY.case_converged, GATEWAY.case_rotation, GATEWAY.case_broken_gateway))
