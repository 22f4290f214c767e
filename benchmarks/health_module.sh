#!/usr/bin/env bash
# Benchmark (run on demand, not part of `make test`): the mcporter_health module against the same
# `mcporter list --json` run through ansible.builtin.command, on the same host over the same SSH
# and become. Prints the median of each and their ratio (target: module <= 1.15x).
#   benchmarks/health_module.sh [RUNS]     (default 7; needs `make prepare` first)
# It brings the `health` Molecule scenario's host up (create + prepare), measures, and destroys it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-7}
export HARNESS_STATE=$ROOT/.cache/harness MCPOPS_ROOT=$ROOT NO_COLOR=1
export MCPOPS_COLLECTIONS_PATH=$ROOT/.cache/collections ANSIBLE_COLLECTIONS_PATH=$ROOT/.cache/collections
export PATH=$ROOT/.venv/bin:$PATH
cd "$ROOT"

measure() {
  local inv=$1
  local config=/home/openclaw/health/healthy/config/mcporter.json
  local module_args command_args
  module_args=$(printf '{"config": "%s", "run_as": "openclaw", "mcporter_path": "/usr/local/bin/mcporter"}' "$config")
  # The same listing the module starts, as an operator would write it by hand.
  command_args="runuser -u openclaw -- env MCPORTER_DISABLE_KEEPALIVE=* NO_COLOR=1 CI=1 /usr/local/bin/mcporter list --json --exit-code --config $config"
  export ANSIBLE_PIPELINING=true ANSIBLE_HOST_KEY_CHECKING=false
  run() {
    local s=$EPOCHREALTIME out
    out=$(ansible all -i "$inv" -b "$@" 2>&1) || { echo "benchmark command failed: ansible $*" >&2; echo "$out" | tail -n 20 >&2; exit 1; }
    awk -v s="$s" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.3f", e - s }'
  }
  run -m ansible.builtin.ping >/dev/null   # warm the SSH control socket
  local mod=() cmd=() floor=()
  for _ in $(seq "$RUNS"); do
    mod+=("$(run -m mcpops.alipay_mcp.mcporter_health -a "$module_args")")
    cmd+=("$(run -m ansible.builtin.command -a "$command_args")")
    floor+=("$(run -m ansible.builtin.ping)")
  done
  python3 - "${mod[*]}" "${cmd[*]}" "${floor[*]}" <<'PY'
import statistics, sys
mod, cmd, floor = (statistics.median(map(float, a.split())) for a in sys.argv[1:4])
print(f"runs: {len(sys.argv[1].split())} each, medians in seconds")
print(f"| ansible -m ping (floor) | {floor:.2f} |")
print(f"| ansible -m ansible.builtin.command 'mcporter list --json' | {cmd:.2f} |")
print(f"| ansible -m mcpops.alipay_mcp.mcporter_health | {mod:.2f} |")
print(f"module / command = {mod / cmd:.2f}x (target <= 1.15x)")
PY
}

inv=$(mktemp)
trap 'rm -f "$inv"; molecule destroy -s health >/dev/null 2>&1 || true' EXIT
tests/harness/services.sh bash -c '
  molecule create -s health >/dev/null && molecule prepare -s health >/dev/null' || { echo "setup failed" >&2; exit 1; }
cat >"$inv" <<INV
all:
  hosts:
    health-bookworm:
      ansible_host: 127.0.0.51
      ansible_port: 2222
      ansible_user: deploy
      ansible_ssh_private_key_file: $HARNESS_STATE/ssh/id_ed25519
      ansible_ssh_common_args: -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o ControlMaster=auto -o ControlPersist=60s -o LogLevel=ERROR
      ansible_python_interpreter: auto_silent
INV
measure "$inv"
