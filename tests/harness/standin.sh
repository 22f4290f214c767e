#!/usr/bin/env bash
# The Alipay MCP server stand-in (tests/fixtures/mcp-server-alipay): `install` gets its
# dependencies for the unit tests; `publish` puts it on the local registry as
# @alipay/mcp-server-alipay, so hosts install it by name exactly as production does.
source "$(dirname "$0")/lib.sh"
SRC=$ROOT/tests/fixtures/mcp-server-alipay

install() {
  if ! cmp -s "$SRC/package-lock.json" "$SRC/node_modules/.package-lock.json.mcpops" 2>/dev/null; then
    log "installing the stand-in's dependencies"
    (cd "$SRC" && npm ci --silent --no-audit --no-fund >/dev/null)
    cp "$SRC/package-lock.json" "$SRC/node_modules/.package-lock.json.mcpops"
  fi
}

publish() {
  local registry; registry=$("$(dirname "$0")/verdaccio.sh" url)
  local version; version=$(node -p "require('$SRC/package.json').version")
  if npm view --registry "$registry" "@alipay/mcp-server-alipay@$version" version >/dev/null 2>&1; then
    log "stand-in $version is on the local registry"; return
  fi
  # Verdaccio accepts anonymous publishing for @alipay/* only; npm still wants a token to send.
  local npmrc; npmrc=$(mktemp)
  printf '//%s/:_authToken=harness\n' "${registry#http://}" | sed 's#//\(.*\)//#//\1/#' >"$npmrc"
  (cd "$SRC" && npm publish --silent --registry "$registry" --userconfig "$npmrc" >/dev/null)
  rm -f "$npmrc"
  log "published the stand-in @alipay/mcp-server-alipay@$version to $registry"
}

case ${1:-} in
  install) install ;;
  publish) publish ;;
  *) die "usage: standin.sh install|publish" ;;
esac
