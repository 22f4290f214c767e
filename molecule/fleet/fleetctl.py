"""Cases of the fleet scenario, run the way an operator runs the playbooks.

keys HOSTS    write one throwaway key pair per host to secret/alipay/<host> in OpenBao and print
              only the app public keys (JSON for the stand-in's state file)
cases HOSTS   run deploy.yml, rotate_keys.yml, health.yml and remove.yml through ansible-playbook
              against this scenario's inventory and check each outcome on the hosts

Hosts are the scenario's containers (podman name mcpops-<host>), reached for checks with podman
exec. Keys live only in this process and in OpenBao; every playbook output is scanned for them.
"""
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import hvac
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric import rsa

HERE = os.path.dirname(os.path.abspath(__file__))
EPHEMERAL = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp")
CONFIG = "/home/openclaw/.openclaw/workspace/config/mcporter.json"
ENVFILE = "/home/openclaw/.openclaw/workspace/config/mcpops-alipay.env"
STANDIN_STATE = "/etc/mcp-server-alipay-standin.json"
WINDOW = 16
LEAKSCAN = os.path.join(HERE, "..", "alipay_mcp_leaks", "leakscan.py")


def b64(der):
    return base64.b64encode(der).decode()


def app_id_of(host):
    return "20210000000000%02d" % int(host.rsplit("-", 1)[1])


def new_pair():
    app = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = b64(app.private_bytes(s.Encoding.DER, s.PrivateFormat.PKCS8, s.NoEncryption()))
    public = b64(app.public_key().public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo))
    return private, public


def vault():
    return hvac.Client(url=os.environ["VAULT_ADDR"], token=os.environ["VAULT_TOKEN"])


def write_secret(host, app_key, alipay_pub=None):
    """Writes a new version of the host's secret; returns that version."""
    client = vault()
    if alipay_pub is None:
        alipay_pub = client.secrets.kv.v2.read_secret_version(
            path="alipay/" + host, mount_point="secret", raise_on_deleted_version=True)["data"]["data"]["AP_PUB_KEY"]
    answer = client.secrets.kv.v2.create_or_update_secret(
        path="alipay/" + host, mount_point="secret",
        secret={"AP_APP_ID": app_id_of(host), "AP_APP_KEY": app_key, "AP_PUB_KEY": alipay_pub})
    return answer["data"]["version"]


def all_private_keys(hosts):
    """Every AP_APP_KEY any version of the hosts' secrets ever held."""
    client = vault()
    keys = []
    for host in hosts:
        meta = client.secrets.kv.v2.read_secret_metadata(path="alipay/" + host, mount_point="secret")
        for version in meta["data"]["versions"]:
            data = client.secrets.kv.v2.read_secret_version(
                path="alipay/" + host, mount_point="secret", version=int(version), raise_on_deleted_version=True)
            keys.append(data["data"]["data"]["AP_APP_KEY"])
    return keys


def cmd_keys(hosts):
    apps = {}
    for host in hosts:
        private, public = new_pair()
        alipay_private, alipay_public = new_pair()
        del alipay_private
        write_secret(host, private, alipay_public)
        apps[app_id_of(host)] = {"appPublicKey": public, "env": "prod"}
    print(json.dumps(apps))


class Fleet:
    def __init__(self, hosts):
        self.hosts = hosts
        self.inventory = os.path.join(EPHEMERAL, "inventory")
        self.step = 0
        self.failures = []
        reference = [new_pair()[0] for _ in range(2)]
        # Windows every PKCS#8 RSA key shares (the ASN.1 header) say nothing about a key.
        self.structural = set().union(*(self._windows(k) for k in reference))

    @staticmethod
    def _windows(text):
        return {text[i:i + WINDOW] for i in range(len(text) - WINDOW + 1)}

    def key_windows(self, keys):
        out = set()
        for k in keys:
            out |= self._windows(k) - self.structural
        return out

    # Hosts ------------------------------------------------------------------------------------
    def sh(self, host, script, check=True):
        proc = subprocess.run(["podman", "exec", "mcpops-" + host, "sh", "-c", script],
                              capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            raise RuntimeError("%s: %s failed: %s" % (host, script, proc.stderr.strip()))
        return proc.stdout

    def digest(self, host, live_only=False):
        """Checksums and modes of the files a deploy may change (missing files included); live_only
        leaves out the .previous copies, which a rollback legitimately leaves behind."""
        files = [CONFIG, ENVFILE, "/home/openclaw/.openclaw/openclaw.json"]
        if not live_only:
            files += [CONFIG + ".previous", ENVFILE + ".previous", "/home/openclaw/.openclaw/openclaw.json.previous",
                      "/home/openclaw/.config/systemd/user/openclaw-gateway.service.d/mcpops-alipay.conf"]
        return self.sh(host, "for f in %s; do if [ -e $f ]; then sha256sum $f; stat -c '%%a %%U' $f; "
                             "else echo absent $f; fi; done" % " ".join(files))

    def config(self, host):
        text = self.sh(host, "cat %s 2>/dev/null || true" % CONFIG)
        return json.loads(text) if text.strip() else None

    def deployed_key(self, host):
        """The AP_APP_KEY the host's config uses (resolving env_file references)."""
        cfg = self.config(host)
        if not cfg or "alipay" not in cfg.get("mcpServers", {}):
            return None
        value = cfg["mcpServers"]["alipay"]["env"]["AP_APP_KEY"]
        if value.startswith("${"):
            name = value[2:-1]
            for line in self.sh(host, "cat %s" % ENVFILE).splitlines():
                if line.startswith(name + "="):
                    return line.split("=", 1)[1].strip("'")
        return value

    def tools(self, host):
        cfg = self.config(host)
        return cfg["mcpServers"]["alipay"]["allowedTools"] if cfg and "alipay" in cfg.get("mcpServers", {}) else None

    def set_behaviour(self, host, behaviour):
        state = json.loads(self.sh(host, "cat " + STANDIN_STATE))
        state["behaviour"] = behaviour
        self.put_state(host, state)

    def register_key(self, public_by_app):
        """Uploads app public keys to the simulated Alipay Open Platform on every host."""
        for host in self.hosts:
            state = json.loads(self.sh(host, "cat " + STANDIN_STATE))
            for app_id, public in public_by_app.items():
                state["apps"][app_id]["appPublicKey"] = public
            self.put_state(host, state)

    def put_state(self, host, state):
        subprocess.run(["podman", "exec", "-i", "mcpops-" + host, "sh", "-c", "cat > %s" % STANDIN_STATE],
                       input=json.dumps(state), text=True, check=True)

    # Playbooks --------------------------------------------------------------------------------
    def play(self, name, playbook, *args):
        self.step += 1
        log = os.path.join(EPHEMERAL, "fleet-%02d-%s.log" % (self.step, name))
        cmd = ["ansible-playbook", "-i", self.inventory, "mcpops.alipay_mcp." + playbook,
               "-e", "target_hosts=all"] + list(args)
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        output = proc.stdout + proc.stderr
        with open(log, "w", encoding="utf-8") as handle:
            handle.write(" ".join(cmd) + "\n" + output)
        leaked = [w for w in self.key_windows(all_private_keys(self.hosts)) if w in output]
        self.expect(not leaked, "%s: %d windows of a private key in the output (%s)" % (name, len(leaked), log))
        print("%s: rc=%d (%s)" % (name, proc.returncode, log))
        return proc.returncode, output

    def run_cases(self, *cases):
        """Runs each case (a method whose docstring's first line names it), keeps going after a
        failed one, and returns the exit code: 1 when any check failed."""
        for case in cases:
            print("== " + case.__doc__.split("\n", maxsplit=1)[0])
            try:
                case()
            except Exception as exc:  # pylint: disable=broad-except
                self.expect(False, "%s raised %r" % (case.__name__, exc))
        print("%d failed checks" % len(self.failures))
        return 1 if self.failures else 0

    def expect(self, condition, message):
        print(("  ok    " if condition else "  FAIL  ") + message)
        if not condition:
            self.failures.append(message)

    # Cases ------------------------------------------------------------------------------------
    def case_rollback(self):
        """fleet-3 deploys for the first time and fleet-4 breaks: both roll back, 1 and 2 update."""
        f3, f4 = self.hosts[2], self.hosts[3]
        self.sh(f3, "rm -f %s %s" % (CONFIG, ENVFILE))
        self.set_behaviour(f3, "fail-start")
        self.set_behaviour(f4, "fail-start")
        before = self.digest(f4, live_only=True)
        rc, out = self.play("rollback", "deploy", "-e", '{"fleet_tools": ["queryPay", "refundQuery"]}',
                            "-e", '{"alipay_mcp_batches": ["100%"], "alipay_mcp_max_fail_percentage": 50}')
        self.expect(rc != 0, "a rollout with rolled-back hosts exits non-zero")
        for host in self.hosts[:2]:
            self.expect(self.tools(host) == ["query-alipay-payment", "query-alipay-refund"]
                        or self.tools(host) == ["queryPay", "refundQuery"], "%s took the new tool list" % host)
        self.expect(self.digest(f4, live_only=True) == before, "%s (broken) has its previous files back, byte for byte" % f4)
        self.expect(self.sh(f3, "ls %s %s 2>&1 || true" % (CONFIG, ENVFILE)).count("No such file") == 2,
                    "%s (first deploy, broken) has no Alipay config or env file left" % f3)
        self.expect("ROLLED BACK" in out and f4 in out and f3 in out, "the output names the rolled-back hosts")
        self.expect("Rolled back and failed: " + f3 in out or "Rolled back and failed: " + f4 in out,
                    "the summary lists the rolled-back hosts")
        self.set_behaviour(f3, "normal")
        self.set_behaviour(f4, "normal")

    def case_max_fail(self):
        """The canary (batch 1) fails with max_fail_percentage 0: no later batch starts."""
        f1 = self.hosts[0]
        self.set_behaviour(f1, "fail-start")
        before = {h: self.digest(h) for h in self.hosts}
        before_live = self.digest(f1, live_only=True)
        rc, out = self.play("max-fail", "deploy", "-e", '{"alipay_mcp_batches": [1, "100%"], "alipay_mcp_max_fail_percentage": 0}')
        self.expect(rc != 0, "the rollout stops with a non-zero exit")
        self.expect(self.digest(f1, live_only=True) == before_live, "the failed canary %s is rolled back" % f1)
        for host in self.hosts[1:]:
            self.expect(self.digest(host) == before[host], "%s (later batch) is untouched" % host)
        self.set_behaviour(f1, "normal")

    def case_bad_input_last_batch(self):
        """A bad input on a host of the last batch stops the run before the first batch changes."""
        last = self.hosts[-1]
        before = {h: self.digest(h) for h in self.hosts}
        rc, out = self.play("bad-input", "deploy", "-e", "fleet_bad_host=" + last,
                            "-e", '{"alipay_mcp_batches": [1, 1, "100%"]}')
        self.expect(rc != 0, "the run fails")
        self.expect("notify_url" in out.lower() and last in out, "the message names the host and notify_url")
        for host in self.hosts:
            self.expect(self.digest(host) == before[host], "%s is byte-for-byte unchanged" % host)

    def case_planned_rotation(self):
        """New versions for every host; fleet-2's new key is not registered with Alipay: it is pinned back."""
        new, registered = {}, {}
        for host in self.hosts:
            private, public = new_pair()
            new[host] = private
            write_secret(host, private)
            if host != self.hosts[1]:
                registered[app_id_of(host)] = public
        old_f2 = self.deployed_key(self.hosts[1])
        self.register_key(registered)
        rc, out = self.play("rotate-planned", "rotate_keys", "-e", "rotation_mode=planned",
                            "-e", '{"alipay_mcp_batches": ["100%"], "alipay_mcp_max_fail_percentage": 50}')
        self.expect(rc != 0, "a rotation with a pinned-back host exits non-zero")
        for host in self.hosts:
            if host == self.hosts[1]:
                self.expect(self.deployed_key(host) == old_f2, "%s runs the previous key again" % host)
            else:
                self.expect(self.deployed_key(host) == new[host], "%s runs its new key" % host)
        self.expect("PINNED BACK" in out and self.hosts[1] in out, "the output says %s was pinned back" % self.hosts[1])
        self.expect(self.sh(self.hosts[0], "test -e %s.previous && echo yes || true" % CONFIG).strip() == "yes",
                    "a planned rotation keeps the previous version for rollback")
        return new

    def case_emergency_rotation(self):
        """fleet-4 takes a good new key, fleet-3 a key Alipay rejects: fleet-3 fails closed."""
        f3, f4 = self.hosts[2], self.hosts[3]
        bad, _ = new_pair()
        good, good_public = new_pair()
        write_secret(f3, bad)
        write_secret(f4, good)
        self.register_key({app_id_of(f4): good_public})
        rc, out = self.play("rotate-emergency", "rotate_keys", "-e", "rotation_mode=emergency", "--limit", f3 + "," + f4,
                            "-e", '{"alipay_mcp_batches": ["100%"], "alipay_mcp_max_fail_percentage": 100}')
        self.expect(rc != 0, "an emergency rotation with a disabled host exits non-zero")
        self.expect("DISABLED" in out and f3 in out, "the output says %s was disabled" % f3)
        self.expect(self.deployed_key(f4) == good, "%s runs its new key" % f4)
        self.expect(self.config(f3) is None, "%s has no Alipay entry left" % f3)
        for host in (f3, f4):
            left = self.sh(host, "ls /home/openclaw/.openclaw/workspace/config/ 2>/dev/null || true").split()
            self.expect(not [f for f in left if f.endswith(".previous")], "%s keeps no backup (%s)" % (host, left))
        self.expect(not self.scan_host(f3), "%s holds no key of any version, the rejected one included" % f3)
        self.expect(not self.scan_host(f4, allowed=[CONFIG, ENVFILE]),
                    "%s holds its new key only in the config and env file: no copy of an old one" % f4)

    def case_health_report(self):
        """fleet-3 is disabled, so the fleet report shows one failure out of four."""
        report = os.path.join(EPHEMERAL, "health-report")
        rc, out = self.play("health", "health", "-e", "health_report_dir=" + report)
        self.expect(rc != 0, "health.yml exits non-zero with an unhealthy host")
        for name in ("health.md", "health.json", "health-junit.xml"):
            self.expect(os.path.exists(os.path.join(report, name)), "the report has %s" % name)
        try:
            suite = ET.parse(os.path.join(report, "health-junit.xml")).getroot()
            if suite.tag == "testsuites":
                suite = suite.find("testsuite")
            cases = suite.findall("testcase")
            failed = [c.get("name") for c in cases if c.find("failure") is not None]
            self.expect(len(cases) == 4 and len(failed) == 1 and failed[0].startswith(self.hosts[2]),
                        "the JUnit file has 4 cases, 1 failure (%s)" % failed)
        except (OSError, ET.ParseError) as exc:
            self.expect(False, "the JUnit file parses (%s)" % exc)

    def case_remove(self):
        """remove.yml leaves no file holding key material on any host; Node.js and mcporter stay."""
        rc, out = self.play("remove", "remove")
        self.expect(rc == 0, "remove.yml succeeds")
        for host in self.hosts:
            self.expect(not self.scan_host(host), "%s holds no key of any version" % host)
            self.expect(self.sh(host, "test -x /usr/local/bin/mcporter && test -x /opt/mcpops/node/current/bin/node "
                                      "&& echo yes || true").strip() == "yes", "%s keeps Node.js and mcporter" % host)
            oc = json.loads(self.sh(host, "cat /home/openclaw/.openclaw/openclaw.json"))
            granted = [a for a, v in oc["agents"]["entries"].items() if "mcporter" in (v.get("skills") or [])]
            self.expect(not granted, "%s: no agent keeps the mcporter skill (%s)" % (host, granted))
        rc, out = self.play("remove-again", "remove")
        self.expect(rc == 0 and not re.search(r"changed=[1-9]", out), "a second remove.yml changes nothing")

    def scan_host(self, host, allowed=()):
        """Files on the host holding a window of any version of the host's keys, found with the leak
        scenario's scanner (which knows the windows every RSA key shares). The stand-in's state holds
        the app public key, whose modulus the private key contains: it is allowed, like `allowed`."""
        windows = subprocess.run([sys.executable, LEAKSCAN, "windows"], capture_output=True, text=True, check=True,
                                 env=dict(os.environ, LEAKS_VAULT_PATH="alipay/" + host)).stdout
        spec = dict(json.loads(windows), allowed=[STANDIN_STATE] + list(allowed),
                    exclude_prefixes=["/opt/mcpops/node/", "/opt/mcpops/mcporter/", "/proc/", "/sys/", "/dev/"],
                    exclude_dir_names=["node_modules", "_cacache"])
        with open(LEAKSCAN, encoding="utf-8") as handle:
            scanner = handle.read()
        proc = subprocess.run(["podman", "exec", "-i", "mcpops-" + host, "python3", "-c", scanner, "scan", "--fs"],
                              input=json.dumps(spec), capture_output=True, text=True, check=True)
        hits = [h["path"] + " (" + h["key"] + ")" for h in json.loads(proc.stdout)["hits"]]
        if hits:
            print("  hits on %s: %s" % (host, hits))
        return hits


def cmd_cases(hosts):
    fleet = Fleet(hosts)
    return fleet.run_cases(fleet.case_rollback, fleet.case_max_fail, fleet.case_bad_input_last_batch,
                           fleet.case_planned_rotation, fleet.case_emergency_rotation, fleet.case_health_report,
                           fleet.case_remove)


if __name__ == "__main__":
    hosts = sys.argv[2].split(",")
    if sys.argv[1] == "keys":
        cmd_keys(hosts)
    else:
        sys.exit(cmd_cases(sorted(hosts)))
