#!/bin/sh
# Install the build dependencies of the vendored daemons (selkit.projects), idempotently.
# The list is the union of the build_depends in selkit/projects/recipes.py (tests/projects/test_vendor.py
# checks that it covers them) plus what tests/projects/test_vendor.py runs: git (git am), and cmake and
# libnl-genl-3-dev for the test of OpenVPN's CMake build, which always needs libnl; plus check, the
# unit test library of iodine's `make test`, for tests/projects/test_iodine_advisory.py. A second run
# only checks. Lean on purpose: OpenVPN is configured without LZO, LZ4, DCO (libnl) and plugins.
set -eu

PACKAGES="gcc make patch git pkg-config libselinux1-dev zlib1g-dev libpcap-dev libssl-dev
libcap-ng-dev cmake libnl-genl-3-dev check"

# shellcheck disable=SC2086
sh "$(dirname "$0")/apt-install.sh" vendor-deps $PACKAGES
