#!/usr/bin/env bash
# `make demo`: the main job on a local default. Brings up one local container host (kept for the
# next run), serves the Node mirror and npm registry on loopback, installs Node.js and mcporter
# with the collection's playbook, and prints what got installed.
# `demo.sh down` removes the demo container; state lives under .demo/ in the checkout.
source "$(dirname "$0")/lib.sh"
export PATH=$VENV/bin:$PATH
DEMO=$ROOT/.demo
HOST=demo-bookworm ADDR=127.0.0.41

if [[ ${1:-} == down ]]; then
  podman rm -f "mcpops-$HOST" >/dev/null 2>&1 || true
  exit 0
fi

mkdir -p "$DEMO"
if ! podman container exists "mcpops-$HOST"; then
  log "starting the demo host $HOST (podman container, sshd on $ADDR:2222)"
  podman run -d --name "mcpops-$HOST" --network host --hostname "$HOST" --add-host "$HOST:127.0.0.1" \
    -v "$SSH_KEY.pub:/home/deploy/.ssh/authorized_keys:ro" \
    "$IMAGE_PREFIX:bookworm" /usr/sbin/sshd -D -e -o "ListenAddress=$ADDR" -o Port=2222 >/dev/null
elif [[ $(podman inspect -f '{{.State.Running}}' "mcpops-$HOST") != true ]]; then
  podman start "mcpops-$HOST" >/dev/null
fi
for _ in $(seq 50); do (exec 3<>"/dev/tcp/$ADDR/2222") 2>/dev/null && break; sleep 0.2; done

cat >"$DEMO/inventory.yml" <<INV
openclaw_gateways:
  hosts:
    $HOST:
      ansible_host: $ADDR
      ansible_port: 2222
      ansible_user: deploy
      ansible_ssh_private_key_file: $SSH_KEY
      ansible_ssh_common_args: -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR
  vars:
    nodejs_mirror: http://$MIRROR_ADDR:$MIRROR_PORT/dist
    nodejs_gpg_keyring: $HARNESS_STATE/node-mirror/keyring.gpg
    nodejs_local_cache_path: $DEMO/cache/nodejs
    mcporter_npm_registry: http://$REGISTRY_ADDR:$REGISTRY_PORT/
INV

export ANSIBLE_COLLECTIONS_PATH=$(dirname "$HARNESS_STATE")/collections
export ANSIBLE_PIPELINING=true ANSIBLE_PYTHON_INTERPRETER=auto_silent
"$ROOT/tests/harness/services.sh" bash -c "
  ansible-playbook -i '$DEMO/inventory.yml' mcpops.alipay_mcp.install &&
  echo && echo 'Installed on $HOST:' &&
  ANSIBLE_STDOUT_CALLBACK=ansible.builtin.minimal ansible -i '$DEMO/inventory.yml' openclaw_gateways -b --become-user openclaw \
    -m ansible.builtin.shell -a 'echo node \$(/opt/mcpops/node/current/bin/node --version), mcporter \$(mcporter --version)'
"
