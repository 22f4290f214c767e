#!/usr/bin/env bash
# Lays the collection out where Ansible and ansible-test look for it:
# - $HARNESS_STATE/../collections/ansible_collections/mcpops/alipay_mcp: a link to the checkout (playbooks, Molecule);
# - $HARNESS_STATE/../tree/ansible_collections/mcpops/alipay_mcp: a copy of the tracked and new files
#   that make up the collection, without the test harness and Molecule (ansible-test refuses a
#   path reached through a link, and sanity is about what ships plus its unit tests).
source "$(dirname "$0")/lib.sh"
cache=$(dirname "$HARNESS_STATE")
mkdir -p "$cache/collections/ansible_collections/mcpops"
ln -sfn "$ROOT" "$cache/collections/ansible_collections/mcpops/alipay_mcp"
tree=$cache/tree/ansible_collections/mcpops/alipay_mcp
rm -rf "$tree"; mkdir -p "$tree"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  case $f in molecule/*|tests/harness/*|tests/fixtures/*|tests/integration/*|tests/repo/*|.config/*|.ci/*|benchmarks/*|docs/benchmarks/*|requirements/*|Makefile) continue ;; esac
  [[ -e $f ]] && printf '%s\0' "$f"; done | xargs -0 cp --parents -t "$tree")
# ansible-test reads the tree's git state when it has one; a fresh repository keeps it self-contained.
(cd "$tree" && git init -q && git add -A >/dev/null)
