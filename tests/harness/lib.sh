# Shared settings of the test harness. Sourced, not run.
# Everything the harness builds lives under $HARNESS_STATE (git-ignored) so reruns reuse it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HARNESS_STATE=${HARNESS_STATE:-$ROOT/.cache/harness}
VENV=${VENV:-$ROOT/.venv}
mkdir -p "$HARNESS_STATE"

# Versions served by the local mirror and registry; the roles' defaults pin the same ones.
NODE_VERSION=${NODE_VERSION:-24.21.0}
NPM_VERSION=${NPM_VERSION:-11.6.2}
MCPORTER_VERSION=${MCPORTER_VERSION:-0.12.3}

# Loopback-only services.
MIRROR_ADDR=${MIRROR_ADDR:-127.0.0.1}
MIRROR_PORT=${MIRROR_PORT:-18080}
REGISTRY_ADDR=${REGISTRY_ADDR:-127.0.0.1}
REGISTRY_PORT=${REGISTRY_PORT:-14873}

IMAGE_PREFIX=${IMAGE_PREFIX:-localhost/mcpops-host}
SSH_KEY=$HARNESS_STATE/ssh/id_ed25519

log() { printf '[harness] %s\n' "$*" >&2; }
die() { printf '[harness] ERROR: %s\n' "$*" >&2; exit 1; }
