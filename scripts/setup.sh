#!/bin/sh
# Install what selkit needs on Debian 12, idempotently: the SELinux userspace and the Debian
# refpolicy from apt, then a venv that sees the distribution's setools and sepolgen (and
# python3-seccomp, libseccomp's binding, which tests/seccomp compares the filters with;
# linux-libc-dev's headers are the source of selkit/facts/data/syscall_numbers.json).
# A second run only checks and takes seconds.
set -eu

cd "$(dirname "$0")/.."

APT_PACKAGES="python3-setools python3-sepolgen python3-venv setools selint checkpolicy secilc
semodule-utils policycoreutils selinux-policy-default selinux-policy-dev m4 make
python3-jsonschema python3-seccomp linux-libc-dev"

# shellcheck disable=SC2086
sh scripts/apt-install.sh setup $APT_PACKAGES

# The venv must be made by Debian's python3 with the system site packages, so that
# python3-setools (built for /usr/bin/python3 only) imports. Never pip install "setools":
# that PyPI name belongs to an unrelated project.
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import setools, sepolgen' 2>/dev/null; then
    echo "setup: creating .venv"
    rm -rf .venv
    /usr/bin/python3 -m venv --system-site-packages .venv
fi

stamp=.venv/.selkit-installed
want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "setup: installing selkit and its Python dependencies into .venv"
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,dev]'
    echo "$want" > "$stamp"
fi
