#!/bin/sh
# Build (once, cached under ${SELKIT_CACHE:-~/.cache/selkit}/bases/) a private root holding
# Debian's MLS refpolicy (selinux-policy-mls, the version of the installed
# selinux-policy-default) with its module store built as the package's postinst does, and
# print its kernel policy, for --base:
#
#   selkit prove --base "$(scripts/mls-root.sh)" --engine both policies/*.sel
#
# Nothing is installed system-wide (selkit/base/debian.py says how it is made).
set -eu
cd "$(dirname "$0")/.."
flavour=${1:-mls}
exec .venv/bin/python - "$flavour" <<'PY'
import sys

from selkit.base.debian import policy_path
from selkit.diagnostics import DiagnosticError, render_plain

try:
    print(policy_path(sys.argv[1], progress=lambda m: print(f"mls-root: {m}", file=sys.stderr)))
except DiagnosticError as exc:
    for diagnostic in exc.diagnostics:
        print(render_plain(diagnostic), file=sys.stderr)
    sys.exit(2)
PY
