#!/bin/sh
# Install the build dependencies of the vendored daemons (selkit.projects), idempotently.
# The list is the union of the build_depends in selkit/projects/recipes.py (tests/projects/test_vendor.py
# checks that it covers them) plus what tests/projects/test_vendor.py runs: git (git am), and cmake and
# libnl-genl-3-dev for the test of OpenVPN's CMake build, which always needs libnl. The Debian-orig
# builds are lean on purpose: OpenVPN is configured without LZO, LZ4, DCO (libnl) and plugins.
# The second group is DEBIAN_PACKAGES of selkit/projects/upstream.py (tests/projects/
# test_upstream_series.py checks it is covered): what each upstream's own CI needs, reproduced
# for the upstream-*/ series (autotools, libcheck, cmocka, OpenVPN's CI libraries, mingw, musl,
# ninja, valgrind, netcat; libcheck also for tests/projects/test_iodine_advisory.py). A second
# run only checks.
set -eu

PACKAGES="gcc make patch git pkg-config libselinux1-dev zlib1g-dev libpcap-dev libssl-dev
libcap-ng-dev cmake libnl-genl-3-dev
autoconf automake libtool xz-utils check libcmocka-dev liblzo2-dev liblz4-dev libpam0g-dev
libpkcs11-helper1-dev softhsm2 gnutls-bin python3-docutils ninja-build gcc-mingw-w64-x86-64
g++-mingw-w64-x86-64 libz-mingw-w64-dev musl-tools valgrind netcat-openbsd iproute2"

# shellcheck disable=SC2086
sh "$(dirname "$0")/apt-install.sh" vendor-deps $PACKAGES
