#!/usr/bin/env bash
# Builds a minimal Debian host image with debootstrap and imports it into podman.
# Usage: build_image.sh bookworm|trixie|bookworm-systemd
# Kept minimal on purpose (python3, sudo, sshd, CA certificates): a package that a role
# forgets to install makes a test fail instead of being hidden by the image.
# The -systemd variant boots systemd as PID 1 with lingering for the service user, so the
# gateway can run as that user's systemd unit, as on a real openclaw host.
source "$(dirname "$0")/lib.sh"
variant=${1:?usage: build_image.sh SUITE[-systemd]}
suite=${variant%-systemd}
image=$IMAGE_PREFIX:$variant
include=python3,sudo,openssh-server,ca-certificates
[[ $variant == *-systemd ]] && include+=,systemd,systemd-sysv,dbus,dbus-user-session,libpam-systemd

# Rebuild when the recipe or the extra CA certificates change. The harness key is not baked in
# (containers get it mounted), so checkouts with different keys share the images.
stamp=$( { cat "$0"; cat /usr/local/share/ca-certificates/*.crt 2>/dev/null || true; } | sha256sum | cut -c1-16)
if [[ $(podman image inspect --format '{{ index .Labels "mcpops.recipe" }}' "$image" 2>/dev/null || true) == "$stamp" ]]; then
  log "image $image is current"
  exit 0
fi

rootfs=$(mktemp -d "$HARNESS_STATE/rootfs-$variant.XXXX")
trap 'rm -rf "$rootfs"' EXIT
log "debootstrap $variant (about a minute)"
debootstrap --variant=minbase --include="$include" \
  "$suite" "$rootfs" http://deb.debian.org/debian >"$HARNESS_STATE/debootstrap-$variant.log" 2>&1 \
  || die "debootstrap failed, see $HARNESS_STATE/debootstrap-$variant.log"

# The egress proxy's CA (if this machine has extra CAs) so hosts can reach the registries.
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
  chroot "$rootfs" update-ca-certificates >/dev/null
fi

# Non-root connection user with passwordless sudo, as on a real fleet; the gateway's
# service user, as openclaw's onboarding leaves it.
chroot "$rootfs" useradd -m -s /bin/bash deploy
chroot "$rootfs" useradd -m -s /bin/bash openclaw
echo 'deploy ALL=(ALL) NOPASSWD: ALL' >"$rootfs/etc/sudoers.d/deploy"
chmod 0440 "$rootfs/etc/sudoers.d/deploy"
install -d -m 0700 -o 1000 -g 1000 "$rootfs/home/deploy/.ssh"
mkdir -p "$rootfs/run/sshd"
chroot "$rootfs" ssh-keygen -A >/dev/null
if [[ $variant == *-systemd ]]; then
  # sshd listens only where the container's mounted sshd_config.d file says (loopback); units
  # that have nothing to do in a container stay off.
  echo 'Include /etc/ssh/mcpops-listen.conf' >"$rootfs/etc/ssh/sshd_config.d/00-mcpops.conf"
  for unit in getty@tty1.service console-getty.service systemd-timesyncd.service apt-daily.timer \
              apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer; do
    ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
  done
  mkdir -p "$rootfs/var/lib/systemd/linger"
  touch "$rootfs/var/lib/systemd/linger/openclaw"
fi
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

log "importing $image"
tar -C "$rootfs" -c . | podman import --change "LABEL mcpops.recipe=$stamp" - "$image" >/dev/null
log "image $image built"
