#!/bin/sh
# Try a vendor-patches series against a project's upstream development branch.
#
#   scripts/check-upstream.sh GIT_DIR PATCH_DIR [REV]
#
# GIT_DIR is a (bare) clone of the upstream repository, e.g. a mirror made by the fetch tool;
# REV (default HEAD, the default branch; or e.g. release/2.6, v2.6.22) is exported with
# `git archive` to a temporary directory, never into this repository. Each NNNN-*.patch of PATCH_DIR is tried in order with
# `patch -p1 --dry-run`; a patch that applies is then applied for real, so the next one sees
# the tree it was written against. One line per patch:
#
#   applies   0001-....patch                 (clean)
#   offset    0002-....patch                 (applies, hunks moved; the offsets are listed)
#   fuzz      0003-....patch                 (applies only with fuzz)
#   fails     0004-....patch                 (patch's messages follow: rejected hunks, files
#                                            missing, changes already present upstream)
#
# The first line names the upstream commit and its date. Exit status: 0 if every patch
# applies (possibly with offsets), 1 if any needs fuzz or fails, 2 on bad usage.
set -eu

if [ $# -lt 2 ] || [ $# -gt 3 ] || [ ! -d "$1" ] || [ ! -d "$2" ]; then
    echo "usage: check-upstream.sh GIT_DIR PATCH_DIR [REV]" >&2
    exit 2
fi
git_dir=$1
patch_dir=$(cd "$2" && pwd)
rev=${3:-HEAD}

if ! git --git-dir="$git_dir" rev-parse --git-dir >/dev/null 2>&1; then
    echo "check-upstream: $git_dir is not a git directory (a bare clone, or a clone's .git)" >&2
    exit 2
fi

if ! commit=$(git --git-dir="$git_dir" rev-parse --verify -q "$rev^{commit}"); then
    echo "check-upstream: $rev is not a commit in $git_dir" >&2
    exit 2
fi
if [ "$rev" = HEAD ]; then
    branch=$(git --git-dir="$git_dir" symbolic-ref --short HEAD 2>/dev/null || echo HEAD)
else
    branch=$rev
fi
date=$(git --git-dir="$git_dir" log -1 --format=%cs "$commit")
subject=$(git --git-dir="$git_dir" log -1 --format=%s "$commit")

tree=$(mktemp -d "${TMPDIR:-/tmp}/selkit-upstream.XXXXXX")
trap 'rm -rf "$tree"' EXIT INT TERM
git --git-dir="$git_dir" archive --format=tar "$commit" | tar -xf - -C "$tree"

echo "upstream $branch $commit $date \"$subject\""
status=0
found=no
for patch in "$patch_dir"/*.patch; do
    [ -f "$patch" ] || continue
    found=yes
    name=$(basename "$patch")
    if out=$(cd "$tree" && patch -p1 --dry-run --batch --forward -i "$patch" 2>&1); then
        if echo "$out" | grep -q "with fuzz"; then
            verdict=fuzz
            status=1
        elif echo "$out" | grep -q "(offset "; then
            verdict=offset
        else
            verdict=applies
        fi
        (cd "$tree" && patch -p1 --batch --forward --no-backup-if-mismatch -s -i "$patch" \
            >/dev/null 2>&1) || true
    else
        verdict=fails
        status=1
    fi
    printf '%-8s %s\n' "$verdict" "$name"
    if [ "$verdict" != applies ]; then
        # patch's own account, minus the diff headers it echoes for a missing file
        echo "$out" | awk '
            /^\|--- / { sub(/^\|--- (a\/)?/, ""); print "missing file " $0; next }
            /^(\||-----|Perhaps you used|The text leading)/ || /^[[:space:]]*$/ { next }
            { print }' | sed 's/^/         /' || true
    fi
done
if [ "$found" = no ]; then
    echo "(no patches in $patch_dir)"
fi
exit $status
