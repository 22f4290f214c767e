#!/usr/bin/env bash
# Starts the harness services (Node mirror, npm registry), runs a command, stops them again.
# Usage: services.sh COMMAND [ARGS...]
source "$(dirname "$0")/lib.sh"
here=$(dirname "$0")
stop_all() { "$here/node_mirror.sh" stop; "$here/verdaccio.sh" stop; }
trap stop_all EXIT
"$here/node_mirror.sh" serve
"$here/verdaccio.sh" serve
export MIRROR_PORT REGISTRY_PORT HARNESS_STATE
"$@"
