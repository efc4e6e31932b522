#!/bin/sh
# Fetch (and unpack) a Debian source package without changing the system's apt setup.
#
#   scripts/apt-source.sh PACKAGE DESTDIR          download, then unpack into DESTDIR
#   scripts/apt-source.sh --download-only PACKAGE  download only; print the download directory
#   scripts/apt-source.sh --deb PACKAGE            download the binary .deb (never installed);
#                                                  print its path
#
# The deb-src entry is derived at run time from the machine's own
# /etc/apt/sources.list.d/debian.sources (same URIs, suites and keys, Types: deb-src) and kept
# in a private apt state directory under the cache, so no registry host is written anywhere
# in this repository. Downloads are cached: a second call is instant.
#
# Some mirrors lack part of a source package (e.g. the .debian.tar.xz answers 404), which makes
# `apt-get source --download-only` fail as a whole. The fallback fetches the .dsc and the
# upstream tarball(s) separately (--dsc-only, --tar-only; apt verifies each against the
# signed Sources index) and checks them against the .dsc's Checksums-Sha256. The unpack mode
# then unpacks the orig tarball alone (without Debian's patches) and says so on stderr.
set -eu

download_only=no
if [ "${1:-}" = "--download-only" ]; then
    download_only=yes
    shift
fi

# --deb: the binary package of this machine's release, fetched with a private apt state (the
# system's own deb entries, lists kept under the cache), for comparing Debian's build.
if [ "${1:-}" = "--deb" ] && [ $# -eq 2 ]; then
    pkg=$2
    cache=${SELKIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/selkit}/apt-deb
    sources=/etc/apt/sources.list.d/debian.sources
    mkdir -p "$cache/etc/sources.list.d" "$cache/lists/partial" "$cache/debs/$pkg"
    exec 9>"$cache/.lock"  # one call at a time: apt's private state is shared (see below)
    flock 9
    found=$(ls "$cache/debs/$pkg"/*.deb 2>/dev/null | head -n1)
    if [ -n "$found" ]; then
        echo "$found"
        exit 0
    fi
    if [ ! -r "$sources" ]; then
        echo "apt-source: $sources not found; cannot derive a deb entry" >&2
        exit 2
    fi
    cp "$sources" "$cache/etc/sources.list.d/selkit-deb.sources"
    APT_OPTS="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$cache/etc/sources.list.d
    -o Dir::State::Lists=$cache/lists -o APT::Sandbox::User=root -q"
    # shellcheck disable=SC2086
    apt-get $APT_OPTS update >&2
    # shellcheck disable=SC2086
    (cd "$cache/debs/$pkg" && apt-get $APT_OPTS download "$pkg" >&2)
    ls "$cache/debs/$pkg"/*.deb | head -n1
    exit 0
fi
if [ $# -lt 1 ] || { [ "$download_only" = no ] && [ $# -lt 2 ]; }; then
    echo "usage: apt-source.sh PACKAGE DESTDIR | --download-only PACKAGE | --deb PACKAGE" >&2
    exit 2
fi

pkg=$1
dest=${2:-}
cache=${SELKIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/selkit}/apt-src
sources=/etc/apt/sources.list.d/debian.sources
work="$cache/debs/$pkg"

# One call at a time per cache: apt's private state (lists, archives) and the unpack's
# "$dest.tmp" are shared, and apt-get fails instead of waiting for its lock. Concurrent
# callers (parallel test workers, two selkit commands) wait here instead.
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

if [ "$download_only" = no ] && [ -d "$dest" ] && [ -f "$dest/.selkit-unpacked" ]; then
    exit 0
fi

# Files the .dsc lists with their sha256 ("SUM NAME" lines), from Checksums-Sha256.
dsc_files() {
    awk '/^Checksums-Sha256:/ {on=1; next} /^[^ ]/ {on=0} on && NF == 3 {print $1 "  " $3}' "$1"
}

# Upstream tarballs named by the .dsc: *.orig.tar.*, *.orig-COMPONENT.tar.*, or a native
# package's single tarball.
upstream_files() {
    dsc_files "$1" | awk '{print $2}' | grep -E '\.orig(-[A-Za-z0-9-]+)?\.tar\.|^[^_]+_[^-]+\.tar\.' \
        | grep -v '\.asc$' || true
}

# True when a .dsc is present and every upstream tarball it names is present and intact.
have_upstream() {
    dsc=$(ls "$work"/*.dsc 2>/dev/null | head -n1)
    [ -n "$dsc" ] || return 1
    files=$(upstream_files "$dsc")
    [ -n "$files" ] || return 1
    for f in $files; do
        [ -f "$work/$f" ] || return 1
    done
    (cd "$work" && dsc_files "$dsc" | grep -F "$(echo "$files")" | sha256sum -c --quiet - >&2)
}

if ! have_upstream; then
    if [ ! -r "$sources" ]; then
        echo "apt-source: $sources not found; cannot derive a deb-src entry" >&2
        exit 2
    fi
    mkdir -p "$cache/etc/sources.list.d" "$cache/lists/partial" "$cache/archives/partial" "$work"
    sed 's/^Types:.*/Types: deb-src/' "$sources" > "$cache/etc/sources.list.d/selkit-src.sources"

    APT_OPTS="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$cache/etc/sources.list.d
    -o Dir::State::Lists=$cache/lists -o Dir::Cache::Archives=$cache/archives
    -o APT::Sandbox::User=root -q"

    if [ -z "$(ls "$cache/lists" 2>/dev/null | grep -v partial)" ] || \
       [ -n "$(find "$cache/lists" -maxdepth 0 -mtime +7)" ]; then
        # shellcheck disable=SC2086
        apt-get $APT_OPTS update >&2
    fi
    # shellcheck disable=SC2086
    if ! (cd "$work" && apt-get $APT_OPTS source --download-only "$pkg" >&2); then
        echo "apt-source: the full source package of $pkg is not available;" \
             "fetching the .dsc and the upstream tarball alone" >&2
        # shellcheck disable=SC2086
        (cd "$work" && apt-get $APT_OPTS source --download-only --dsc-only "$pkg" >&2 \
                    && apt-get $APT_OPTS source --download-only --tar-only "$pkg" >&2)
    fi
    if ! have_upstream; then
        echo "apt-source: no intact upstream tarball of $pkg in $work" >&2
        exit 1
    fi
fi

if [ "$download_only" = yes ]; then
    echo "$work"
    exit 0
fi

dsc=$(ls "$work"/*.dsc | head -n1)
rm -rf "$dest.tmp"
mkdir -p "$(dirname "$dest")"
complete=yes
for f in $(dsc_files "$dsc" | awk '{print $2}'); do
    [ -f "$work/$f" ] || complete=no
done
if [ "$complete" = yes ]; then
    dpkg-source --no-check -x "$dsc" "$dest.tmp" >&2
else
    echo "apt-source: $pkg: Debian's packaging is missing; unpacking the upstream tarball only" >&2
    mkdir -p "$dest.tmp"
    tar -xf "$work/$(upstream_files "$dsc" | head -n1)" -C "$dest.tmp" --strip-components=1
fi
rm -rf "$dest"
mv "$dest.tmp" "$dest"
touch "$dest/.selkit-unpacked"
