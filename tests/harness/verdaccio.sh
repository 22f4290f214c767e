#!/usr/bin/env bash
# Local npm registry (Verdaccio) for the hosts under test. Usage: verdaccio.sh install|serve|stop|url
# Its log (one JSON line per request) lets tests prove which packages came from it.
source "$(dirname "$0")/lib.sh"
STATE=$HARNESS_STATE/verdaccio
APP=$STATE/app
URL=http://$REGISTRY_ADDR:$REGISTRY_PORT/

install() {
  local src; src=$(dirname "$0")/verdaccio
  mkdir -p "$APP"
  if ! cmp -s "$src/package-lock.json" "$APP/package-lock.json" || [[ ! -x $APP/node_modules/.bin/verdaccio ]]; then
    log "installing Verdaccio (about 20 s)"
    cp "$src/package.json" "$src/package-lock.json" "$APP/"
    (cd "$APP" && npm ci --silent --no-audit --no-fund >/dev/null)
  fi
  sed "s#@STATE@#$STATE#g" "$src/config.yaml.in" >"$STATE/config.yaml"
}

serve() {
  install
  local pidfile=$STATE/server.pid
  if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then log "registry already running at $URL"; return; fi
  nohup "$APP/node_modules/.bin/verdaccio" --config "$STATE/config.yaml" \
    --listen "$REGISTRY_ADDR:$REGISTRY_PORT" >"$STATE/server.out" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 100); do
    kill -0 "$(cat "$pidfile")" 2>/dev/null || die "Verdaccio exited (port $REGISTRY_PORT taken?): $(tail -n 3 "$STATE/server.out")"
    curl -fsS -o /dev/null "$URL-/ping" 2>/dev/null && { log "npm registry at $URL (log: $STATE/registry.log)"; return; }
    sleep 0.2
  done
  die "Verdaccio did not start; see $STATE/server.out"
}

stop() {
  local pidfile=$STATE/server.pid
  [[ -f $pidfile ]] && kill "$(cat "$pidfile")" 2>/dev/null || true
  rm -f "$pidfile"
}

running() { [[ -f $STATE/server.pid ]] && kill -0 "$(cat $STATE/server.pid)" 2>/dev/null; }

case ${1:-} in
  running) running ;;
  install) install ;;
  serve) serve ;;
  stop) stop ;;
  url) echo "$URL" ;;
  *) die "usage: verdaccio.sh install|serve|stop|url" ;;
esac
