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
step build bash -c "ansible-galaxy collection build --force --output-path '$HARNESS_STATE/build' >/dev/null && ls '$HARNESS_STATE'/build/mcpops-alipay_mcp-*.tar.gz"
for s in $scenarios; do
  step "molecule-$s" "$ROOT/tests/harness/services.sh" molecule test -s "$s"
done

((failed)) && log "failed: ${failures[*]}"
echo "summary: $passed passed, $failed failed"
((failed == 0))
