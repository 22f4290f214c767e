#!/usr/bin/env bash
# Installs the Debian packages the harness needs, only those missing, and the podman
# settings this kind of machine needs (runc, rlimits), only when they are not set yet.
source "$(dirname "$0")/lib.sh"

packages=(podman runc debootstrap xz-utils gnupg openssh-client uidmap curl git)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages for the container harness: ${missing[*]}"
  [[ $(id -u) == 0 ]] || die "root is needed to install ${missing[*]} (or install them yourself)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# crun fails on this machine's cgroup setup and podman's default rlimits exceed the hard
# limits of the shell; write the two settings that work, once, and say so.
conf=/etc/containers/containers.conf
if ! grep -qs '^runtime *= *"runc"' "$conf"; then
  log "writing $conf: runtime=runc and rlimits within the shell's hard limits"
  mkdir -p /etc/containers
  if [[ -s $conf ]]; then cp "$conf" "$conf.mcpops-backup"; fi
  cat >"$conf" <<'CONF'
# Written by the mcpops.alipay_mcp test harness (tests/harness/host_setup.sh).
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
runtime = "runc"
CONF
fi

# Harness SSH key: the containers trust it for the non-root connection user.
if [[ ! -f $SSH_KEY ]]; then
  mkdir -p "$(dirname "$SSH_KEY")"
  ssh-keygen -q -t ed25519 -N '' -C mcpops-harness -f "$SSH_KEY"
fi
log "host ready"
