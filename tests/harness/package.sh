#!/usr/bin/env bash
# Builds the collection tarball and installs it the way a user would, so that the `install`
# Molecule scenario runs the packaged artefact instead of the checkout.
#   package.sh        build into $HARNESS_STATE/build, check what the tarball holds, install it
#                     (offline, no dependencies: the venv's `ansible` package bundles them) into a
#                     fresh $HARNESS_STATE/packaged; prints the tarball's path
#   package.sh check  exit 1, saying why, unless $HARNESS_STATE/packaged holds an install of the
#                     tarball whose files match the checkout (a stale or missing copy would test
#                     other code than the one under review) and MCPOPS_SITE_PACKAGES is set
#                     (tests/harness/services.sh sets it)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
build=$HARNESS_STATE/build
packaged=$HARNESS_STATE/packaged
installed=$packaged/ansible_collections/mcpops/alipay_mcp

if [[ ${1:-} == check ]]; then
  [[ -f $installed/MANIFEST.json ]] \
    || die "no collection installed from the built tarball at $installed: run tests/harness/package.sh (the suite's build step) first"
  # The scenario names the bundled collections' directory instead of scanning the Python path.
  [[ -d ${MCPOPS_SITE_PACKAGES:-}/ansible_collections/community ]] \
    || die "MCPOPS_SITE_PACKAGES does not name the venv's site-packages: run molecule through tests/harness/services.sh"
  exec "$VENV/bin/python" - "$installed" "$ROOT" <<'PY'
import hashlib, json, pathlib, sys
installed, root = (pathlib.Path(p) for p in sys.argv[1:3])
stale = []
for entry in json.loads((installed / "FILES.json").read_text())["files"]:
    if entry["ftype"] != "file":
        continue
    source = root / entry["name"]
    if not source.is_file() or hashlib.sha256(source.read_bytes()).hexdigest() != entry["chksum_sha256"]:
        stale.append(entry["name"])
if stale:
    sys.exit(f"[harness] ERROR: {installed} is older than the checkout ({', '.join(stale[:5])}"
             f"{' ...' if len(stale) > 5 else ''} differ): run tests/harness/package.sh again")
print(f"[harness] {installed} matches the checkout")
PY
fi

version=$("$VENV/bin/python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' galaxy.yml)
tarball=$build/mcpops-alipay_mcp-$version.tar.gz
mkdir -p "$build"
rm -f "$build"/mcpops-alipay_mcp-*.tar.gz
"$VENV/bin/ansible-galaxy" collection build --force --output-path "$build" >/dev/null

# What ships: everything the roles, playbooks and modules need and their documentation; none of
# the test harness or local state (galaxy.yml build_ignore decides).
listing=$(tar -tzf "$tarball")
for want in MANIFEST.json FILES.json README.md CHANGELOG.rst meta/runtime.yml meta/execution-environment.yml \
    playbooks/install.yml roles/nodejs/tasks/main.yml roles/mcporter/tasks/main.yml plugins/modules/mcporter_health.py \
    docs/modules/mcporter_health.md; do
  grep -qxF "$want" <<<"$listing" || die "$tarball lacks $want"
done
if unwanted=$(grep -E '^(tests/(harness|fixtures|integration|repo)|molecule|\.cache|\.venv|\.demo|\.ansible|\.pytest_cache|benchmarks|requirements)(/|$)' <<<"$listing"); then
  die "$tarball holds files that must not ship: $(head -3 <<<"$unwanted" | tr '\n' ' ')"
fi

rm -rf "$packaged"
# --force: ansible-galaxy counts a copy it finds elsewhere (the checkout) as installed and would skip this one.
ANSIBLE_COLLECTIONS_PATH=$packaged "$VENV/bin/ansible-galaxy" collection install --offline --no-deps --force \
  -p "$packaged" "$tarball" >/dev/null
[[ -f $installed/MANIFEST.json ]] || die "installing $tarball did not create $installed"
echo "$tarball"
