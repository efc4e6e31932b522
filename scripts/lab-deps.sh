#!/bin/sh
# Install what `selkit lab` needs on the host, idempotently: qemu (the guest runs under TCG,
# never KVM), gcc and the static C library for the attack probe, iproute2 (its `ip` is copied
# into the guest for veth pairs). The guest's kernel and busybox are not installed: selkit.lab
# downloads them with `apt-get download` into ${SELKIT_CACHE:-~/.cache/selkit}/lab.
# A second run only checks.
set -eu

PACKAGES="qemu-system-x86 gcc libc6-dev iproute2"

# shellcheck disable=SC2086
sh "$(dirname "$0")/apt-install.sh" lab-deps $PACKAGES
