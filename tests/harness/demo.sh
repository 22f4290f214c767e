#!/usr/bin/env bash
# `make demo`: the collection's main job on local containers, the way an operator runs it.
#   1. a local OpenBao whose storage, unseal key and root token live under .demo/openbao (kept between runs);
#   2. two gateway hosts (podman containers demo-bookworm and demo-trixie, kept between runs), each with a
#      fake openclaw for the user openclaw;
#   3. the first time only: generate_keys.yml stores an app key pair in secret/alipay/demo, and the app's
#      public key is registered with the Alipay side the server stand-in simulates on each host;
#   4. deploy.yml (a canary host, then the rest; one host in inline, one in env_file secret mode), then
#      health.yml with the credential probe, and the report.
# A second run changes nothing (it says so from deploy's PLAY RECAP).
# The Node mirror and npm registry are started when not already running, and only those are stopped again;
# OpenBao is stopped at the end (its data stays).
# `demo.sh down` removes the demo containers; `demo.sh down --purge` also removes .demo/.
source "$(dirname "$0")/lib.sh"
export PATH=$VENV/bin:$PATH
here=$ROOT/tests/harness
DEMO=$ROOT/.demo
BAO_STATE=$DEMO/openbao
INVENTORY=$DEMO/inventory.yml
REPORT_DIR=$DEMO/health-report
STANDIN_STATE=/etc/mcp-server-alipay-standin.json
APP_ID=2021000000000042
VAULT_PATH=alipay/demo
# name:image tag:sshd address:secret mode
HOSTS=(demo-bookworm:bookworm:127.0.0.41:inline demo-trixie:trixie:127.0.0.42:env_file)

demo_bao() { "$VENV/bin/python" "$here/demo_openbao.py" "$@"; }

if [[ ${1:-} == down ]]; then
  for spec in "${HOSTS[@]}"; do podman rm -f "mcpops-${spec%%:*}" >/dev/null 2>&1 || true; done
  if [[ -f $BAO_STATE/server.pid ]]; then demo_bao stop "$BAO_STATE"; fi
  if [[ ${2:-} == --purge ]]; then rm -rf "$DEMO"; log "removed the demo containers and $DEMO"
  else log "removed the demo containers; $DEMO (OpenBao data, keys, Node cache) is kept (--purge removes it)"; fi
  exit 0
fi

began=$SECONDS
mkdir -p "$DEMO"
# npm's cache and logs (the stand-in's publish check) in .demo/ rather than the user's home.
export npm_config_cache=$DEMO/npm-cache
started=()
cleanup() {
  demo_bao stop "$BAO_STATE"
  for s in "${started[@]}"; do "$here/$s" stop; done
}
trap cleanup EXIT

# The Node mirror and npm registry, unless a test run already serves them; the stand-in server on the registry.
for s in node_mirror.sh verdaccio.sh; do
  if ! "$here/$s" running; then "$here/$s" serve; started+=("$s"); fi
done
"$here/standin.sh" publish

# OpenBao: the root token is read from its 0600 file, never from a command line.
bao_env=$(demo_bao start "$BAO_STATE")
export "${bao_env?}"
VAULT_TOKEN=$(<"$BAO_STATE/root.token")
export VAULT_TOKEN
unset BAO_TOKEN BAO_ADDR
log "OpenBao at $VAULT_ADDR (data in $BAO_STATE/data)"

# The hosts: created when missing, started when stopped. Podman may still list a container as running
# whose processes are gone (after a reboot or a killed conmon); one it cannot stop is created again.
sshd_up() { (exec 3<>"/dev/tcp/$1/2222") 2>/dev/null; }
for spec in "${HOSTS[@]}"; do
  IFS=: read -r host suite addr _ <<<"$spec"
  name=mcpops-$host
  if podman container exists "$name"; then
    read -r status pid < <(podman inspect -f '{{.State.Status}} {{.State.Pid}}' "$name")
    if [[ $status == running ]] && ! kill -0 "$pid" 2>/dev/null; then
      log "$host: podman lists it as running but its processes are gone; stopping it"
      podman stop -t 1 "$name" >/dev/null 2>&1 || true
      status=$(podman inspect -f '{{.State.Status}}' "$name")
    fi
    case $status in
      running) ;;
      created | exited | stopped) podman start "$name" >/dev/null ;;
      *) log "$host: container state $status, creating it again"; podman rm -f "$name" >/dev/null ;;
    esac
  fi
  if ! podman container exists "$name"; then
    log "starting the demo host $host (podman container $name from $IMAGE_PREFIX:$suite, sshd on $addr:2222)"
    podman run -d --name "$name" --network host --hostname "$host" --add-host "$host:127.0.0.1" \
      -v "$SSH_KEY.pub:/home/deploy/.ssh/authorized_keys:ro" \
      "$IMAGE_PREFIX:$suite" /usr/sbin/sshd -D -e -o "ListenAddress=$addr" -o Port=2222 >/dev/null
  fi
done
for spec in "${HOSTS[@]}"; do
  IFS=: read -r host _ addr _ <<<"$spec"
  for _ in $(seq 100); do sshd_up "$addr" && break; sleep 0.2; done
  sshd_up "$addr" || die "sshd of $host does not answer on $addr:2222; see: podman logs mcpops-$host"
done

# A fake openclaw for the service user: the gateway's roster of agents, keyed entries with explicit skills.
# Written only when missing, because deploy.yml then grants the mcporter skill in this file.
OPENCLAW_JSON='{
  "agents": {
    "ownership": "explicit",
    "entries": {
      "main": {"skills": ["weather"]},
      "hrbp": {"skills": []},
      "it-engineer": {"skills": ["github"]},
      "customer-service": {"skills": ["faq"]}
    }
  },
  "skills": {"entries": {"weather": {"enabled": true}}}
}'
for spec in "${HOSTS[@]}"; do
  host=${spec%%:*}
  if ! podman exec "mcpops-$host" test -e /home/openclaw/.openclaw/openclaw.json; then
    printf '%s\n' "$OPENCLAW_JSON" | podman exec -i "mcpops-$host" sh -c '
      install -d -m 0700 -o openclaw -g openclaw /home/openclaw/.openclaw /home/openclaw/.openclaw/workspace
      install -m 0600 -o openclaw -g openclaw /dev/stdin /home/openclaw/.openclaw/openclaw.json'
    log "wrote a fake openclaw.json for openclaw on $host (agents main, hrbp, it-engineer, customer-service)"
  fi
done

# The inventory. Vault address and token come from VAULT_ADDR / VAULT_TOKEN, as on an operator's machine.
# alipay_mcp_batches goes on the command line: deploy.yml's serial is templated before any host is
# chosen, where inventory variables are not visible.
inventory=$(
  cat <<INV
# Written by tests/harness/demo.sh on each run.
openclaw_gateways:
  hosts:
$(for spec in "${HOSTS[@]}"; do
    IFS=: read -r host _ addr mode <<<"$spec"
    printf '    %s:\n      ansible_host: %s\n      alipay_mcp_secret_mode: %s\n' "$host" "$addr" "$mode"
  done)
  vars:
    ansible_port: 2222
    ansible_user: deploy
    ansible_ssh_private_key_file: $SSH_KEY
    ansible_ssh_common_args: -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR
    ansible_python_interpreter: /usr/bin/python3
    nodejs_mirror: http://$MIRROR_ADDR:$MIRROR_PORT/dist
    nodejs_gpg_keyring: $HARNESS_STATE/node-mirror/keyring.gpg
    nodejs_local_cache_path: $DEMO/cache/nodejs
    mcporter_npm_registry: http://$REGISTRY_ADDR:$REGISTRY_PORT/
    alipay_mcp_npm_registry: http://$REGISTRY_ADDR:$REGISTRY_PORT/
    alipay_mcp_servers:
      - name: alipay
        env: prod
        select_tools: [queryPay, refundQuery]
        vault_path: $VAULT_PATH
        notify_url: https://shop.example.com/alipay/notify
INV
)
[[ -f $INVENTORY && $(<"$INVENTORY") == "$inventory" ]] || printf '%s\n' "$inventory" >"$INVENTORY"

# Ansible's own state (temporary files, SSH control sockets) stays in .demo/ too.
export ANSIBLE_HOME=$DEMO/ansible ANSIBLE_SSH_CONTROL_PATH_DIR=$DEMO/ansible/cp
export ANSIBLE_COLLECTIONS_PATH=$(dirname "$HARNESS_STATE")/collections
export ANSIBLE_PIPELINING=true

# First run only: the app key pair, straight into OpenBao. Alipay's public key (AP_PUB_KEY) is that of a
# throwaway "platform" key pair made here; its private half is never kept.
if ! demo_bao exists "$VAULT_PATH"; then
  log "first run: generating the app key pair into secret/$VAULT_PATH"
  platform_public_key=$(demo_bao platform-key)
  ansible-playbook -i "$INVENTORY" mcpops.alipay_mcp.generate_keys -e "alipay_key_vault_path=$VAULT_PATH" \
    -e "alipay_app_id=$APP_ID" -e "alipay_public_key=$platform_public_key"
fi

# "Upload" the app public key: the stand-in's simulated Alipay knows an app by the state file on each host.
state=$(demo_bao standin-state "$VAULT_PATH")
for spec in "${HOSTS[@]}"; do
  host=${spec%%:*}
  if [[ $(podman exec "mcpops-$host" cat "$STANDIN_STATE" 2>/dev/null || true) != "$state" ]]; then
    printf '%s\n' "$state" | podman exec -i "mcpops-$host" install -m 0644 /dev/stdin "$STANDIN_STATE"
    log "registered the app public key of secret/$VAULT_PATH with the simulated Alipay on $host"
  fi
done

log "deploying (deploy.yml: $(cut -d: -f1 <<<"${HOSTS[0]}") first, then the rest)"
deploy_began=$SECONDS
set +e
ansible-playbook -i "$INVENTORY" mcpops.alipay_mcp.deploy -e '{"alipay_mcp_batches": [1, "100%"]}' |
  tee "$DEMO/deploy.log"
rc=${PIPESTATUS[0]}
set -e
((rc == 0)) || die "deploy.yml failed (exit $rc); its output is in $DEMO/deploy.log"
changed=$(sed -n '/^PLAY RECAP/,/^$/p' "$DEMO/deploy.log" | awk '/ changed=/ && !/ changed=0 / {print $1}' | xargs)
if [[ -z $changed ]]; then
  log "deploy.yml changed nothing: changed=0 on every host ($((SECONDS - deploy_began)) s)"
else
  log "deploy.yml changed $changed ($((SECONDS - deploy_began)) s); run make demo again: it changes nothing"
fi

log "checking the fleet (health.yml with the credential probe)"
rm -rf "$REPORT_DIR"
set +e
ansible-playbook -i "$INVENTORY" mcpops.alipay_mcp.health -e health_probe=true -e "health_report_dir=$REPORT_DIR" \
  >"$DEMO/health.log"
rc=$?
set -e
[[ -f $REPORT_DIR/health.md ]] || die "health.yml wrote no report (exit $rc); its output is in $DEMO/health.log"
echo
cat "$REPORT_DIR/health.md"
echo
((rc == 0)) || die "health.yml found unhealthy hosts (exit $rc); its output is in $DEMO/health.log"
log "demo done in $((SECONDS - began)) s; the report is also in $REPORT_DIR (health.md, health.json, health-junit.xml)"
