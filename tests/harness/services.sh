#!/usr/bin/env bash
# Starts the harness services on loopback, runs a command, and stops them again:
# the Node mirror, the npm registry (with the Alipay server stand-in published to it) and a
# real OpenBao dev server (VAULT_ADDR and VAULT_TOKEN are exported to the command).
# Usage: services.sh COMMAND [ARGS...]
source "$(dirname "$0")/lib.sh"
here=$(dirname "$0")
bao_state=$HARNESS_STATE/openbao-$$
# Only what this run started is stopped, so a demo and a test run can share the services.
started=()
stop_all() {
  for s in "${started[@]}"; do "$here/$s" stop; done
  "$VENV/bin/python" "$here/openbao.py" stop "$bao_state"
  rm -rf "$bao_state"
}
trap stop_all EXIT
for s in node_mirror.sh verdaccio.sh; do
  if ! "$here/$s" running; then "$here/$s" serve; started+=("$s"); fi
done
"$here/standin.sh" publish
eval "$("$VENV/bin/python" "$here/openbao.py" start "$bao_state" | sed 's/^/export /')"
log "OpenBao dev server at $VAULT_ADDR"
# Where the venv's `ansible` package keeps the collections it bundles (community.*, containers.podman,
# ansible.posix), for scenarios that name their collection paths explicitly.
MCPOPS_SITE_PACKAGES=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
export MIRROR_PORT REGISTRY_PORT HARNESS_STATE MCPOPS_SITE_PACKAGES
"$@"
