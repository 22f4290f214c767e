#!/usr/bin/env bash
# Starts the harness services on loopback, runs a command, and stops them again:
# the Node mirror, the npm registry (with the Alipay server stand-in published to it) and a
# real OpenBao dev server (VAULT_ADDR and VAULT_TOKEN are exported to the command).
# Usage: services.sh COMMAND [ARGS...]
source "$(dirname "$0")/lib.sh"
here=$(dirname "$0")
bao_state=$HARNESS_STATE/openbao-$$
stop_all() {
  "$here/node_mirror.sh" stop
  "$here/verdaccio.sh" stop
  "$VENV/bin/python" "$here/openbao.py" stop "$bao_state"
  rm -rf "$bao_state"
}
trap stop_all EXIT
"$here/node_mirror.sh" serve
"$here/verdaccio.sh" serve
"$here/standin.sh" publish
eval "$("$VENV/bin/python" "$here/openbao.py" start "$bao_state" | sed 's/^/export /')"
log "OpenBao dev server at $VAULT_ADDR"
export MIRROR_PORT REGISTRY_PORT HARNESS_STATE
"$@"
