#!/usr/bin/env bash
# Runs every check of `make test` in order, keeps going after a failure so one run shows
# everything that is wrong, and ends with one line: "summary: N passed, N failed".
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
export PATH=$VENV/bin:$PATH
export MCPOPS_ROOT=$ROOT MCPOPS_COLLECTIONS_PATH=$(dirname "$HARNESS_STATE")/collections
export ANSIBLE_COLLECTIONS_PATH=$MCPOPS_COLLECTIONS_PATH
export PYTHONPATH=$MCPOPS_COLLECTIONS_PATH
export ANSIBLE_FORCE_COLOR=false PY_COLORS=0 NO_COLOR=1
tree=$(dirname "$HARNESS_STATE")/tree/ansible_collections/mcpops/alipay_mcp
logs=$HARNESS_STATE/logs; mkdir -p "$logs"
passed=0; failed=0; failures=()

step() {
  local name=$1; shift
  local start=$SECONDS
  log "== $name"
  if "$@" 2>&1 | tee "$logs/$name.log"; then
    passed=$((passed + 1)); log "== $name: passed ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1)); failures+=("$name"); log "== $name: FAILED ($((SECONDS - start)) s), log: $logs/$name.log"
  fi
}

scenarios=${SCENARIOS:-$(cd molecule && for d in */molecule.yml; do echo "${d%/molecule.yml}"; done)}

# Builds the tarball, checks what it ships and installs it into $HARNESS_STATE/packaged, where the
# `install` scenario runs it from: first, so the scenarios can start.
step build "$ROOT/tests/harness/package.sh"

# Molecule scenarios run in MOLECULE_LANES lanes at once (default 3) while the static checks run in
# the foreground: each scenario has its own loopback addresses, container names and OpenBao, and
# spends much of its time waiting on SSH, on the servers it starts and on timeouts it provokes.
# The mirror and registry are started once here for every lane, so no lane stops them under
# another. Longest scenarios first, each to the lane with the least work (expected seconds, as
# measured on a 2-core machine running the whole suite).
lanes=${MOLECULE_LANES:-3}
declare -A expected=([fleet]=2200 [faults]=1600 [gateway]=1100 [alipay_mcp]=700 [alipay_mcp_bad_input]=620
                     [alipay_mcp_leaks]=610 [health]=480 [install]=430 [install_failures]=400)
started_services=()
stop_services() { for svc in "${started_services[@]}"; do "$ROOT/tests/harness/$svc" stop; done; }
trap stop_services EXIT
if [[ -n ${scenarios// /} && $scenarios != none ]]; then
  for svc in node_mirror.sh verdaccio.sh; do
    if ! "$ROOT/tests/harness/$svc" running; then "$ROOT/tests/harness/$svc" serve; started_services+=("$svc"); fi
  done
  "$ROOT/tests/harness/standin.sh" publish
fi
ordered=$(for s in $scenarios; do [[ $s == none ]] || echo "${expected[$s]:-120} $s"; done | sort -rn | cut -d' ' -f2)
declare -a lane_load lane_list
for ((i = 0; i < lanes; i++)); do lane_load[i]=0; lane_list[i]=""; done
for s in $ordered; do
  best=0
  for ((i = 1; i < lanes; i++)); do ((lane_load[i] < lane_load[best])) && best=$i; done
  lane_load[best]=$((lane_load[best] + ${expected[$s]:-120}))
  lane_list[best]+=" $s"
done
run_scenario() {
  local s=$1 start=$SECONDS rc=0
  rm -f "$logs/molecule-$s.rc"
  "$ROOT/tests/harness/services.sh" molecule test -s "$s" >"$logs/molecule-$s.log" 2>&1 || rc=$?
  echo "$rc $((SECONDS - start))" >"$logs/molecule-$s.rc"
  log "== molecule-$s: $( ((rc == 0)) && echo passed || echo FAILED) ($((SECONDS - start)) s)"
}
pids=()
for ((i = 0; i < lanes; i++)); do
  [[ -n ${lane_list[i]} ]] || continue
  log "== lane $i:${lane_list[i]}"
  (for s in ${lane_list[i]}; do run_scenario "$s"; done) &
  pids+=($!)
done

step lint ansible-lint --profile production
# ansible-test keeps its sanity venvs under ~/.ansible/test; a HOME inside .cache keeps them (and the
# offline get-pip bootstrap it would otherwise download) with the checkout.
sanity_home=$(dirname "$HARNESS_STATE")/ansible-test-home
mkdir -p "$sanity_home/.ansible/test/cache"
cp tests/harness/ansible_test_get_pip.py "$sanity_home/.ansible/test/cache/get_pip_24_2.py"
step sanity bash -c "cd '$tree' && HOME='$sanity_home' ansible-test sanity --python 3.11 --venv --requirements --color no"
step units bash -c "cd '$tree' && HOME='$sanity_home' ansible-test units --python 3.11 --venv --requirements --color no"
# Repository checks (role docs and specs) and tests on real services (OpenBao, the server stand-in).
step pytest python -m pytest tests/repo tests/integration -q -p no:cacheprovider

for pid in "${pids[@]}"; do wait "$pid" || true; done
for s in $ordered; do
  cat "$logs/molecule-$s.log"
  read -r rc secs <"$logs/molecule-$s.rc" || { rc=1; secs=0; }
  if ((rc == 0)); then
    passed=$((passed + 1)); log "== molecule-$s: passed ($secs s)"
  else
    failed=$((failed + 1)); failures+=("molecule-$s"); log "== molecule-$s: FAILED ($secs s), log: $logs/molecule-$s.log"
  fi
done

((failed)) && log "failed: ${failures[*]}"
echo "summary: $passed passed, $failed failed"
((failed == 0))
