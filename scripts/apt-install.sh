#!/bin/sh
# Install the Debian packages that are not installed yet, idempotently; a second run only
# checks (dpkg-query) and takes no time.
#
#   scripts/apt-install.sh LABEL PACKAGE...
#
# LABEL prefixes the one line printed when something is installed (setup, vendor-deps, ...).
set -eu

label=$1
shift
missing=""
for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done
[ -n "$missing" ] || exit 0

SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO="sudo"
fi
echo "$label: installing$missing"
$SUDO apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
