#!/bin/sh
# Install what `selkit lab` needs on the host, idempotently: qemu (the guest runs under TCG,
# never KVM), gcc and the static C library for the attack probe, iproute2 (its `ip` is copied
# into the guest for veth pairs). The guest's kernel and busybox are not installed: selkit.lab
# downloads them with `apt-get download` into ${SELKIT_CACHE:-~/.cache/selkit}/lab.
# A second run only checks.
set -eu

PACKAGES="qemu-system-x86 gcc libc6-dev iproute2"

missing=""
for pkg in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done
[ -n "$missing" ] || exit 0

SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO="sudo"
fi
echo "lab-deps: installing$missing"
$SUDO apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
