#!/usr/bin/env bash
# Everything the tests and the demo need on this machine, each step skipped when already done:
# Debian packages and podman settings, the host images, the Node mirror, the npm registry,
# and the collection laid out under ansible_collections/ for Ansible and ansible-test.
source "$(dirname "$0")/lib.sh"
here=$(dirname "$0")
"$here/host_setup.sh"
"$here/build_image.sh" bookworm
"$here/build_image.sh" trixie
"$here/build_image.sh" bookworm-systemd
"$here/node_mirror.sh" build
"$here/verdaccio.sh" install
"$here/layout.sh"
"$here/standin.sh" install
