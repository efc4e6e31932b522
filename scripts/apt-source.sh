#!/bin/sh
# Fetch and unpack a Debian source package without changing the system's apt setup.
#
#   scripts/apt-source.sh PACKAGE DESTDIR
#
# The deb-src entry is derived at run time from the machine's own
# /etc/apt/sources.list.d/debian.sources (same URIs, suites and keys, Types: deb-src) and kept
# in a private apt state directory under the cache, so no registry host is written anywhere
# in this repository. Downloads are cached: a second call is instant.
set -eu

pkg=$1
dest=$2
cache=${SELKIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/selkit}/apt-src
sources=/etc/apt/sources.list.d/debian.sources

if [ -d "$dest" ] && [ -f "$dest/.selkit-unpacked" ]; then
    exit 0
fi
if [ ! -r "$sources" ]; then
    echo "apt-source: $sources not found; cannot derive a deb-src entry" >&2
    exit 2
fi

mkdir -p "$cache/etc/sources.list.d" "$cache/lists/partial" "$cache/archives/partial" \
         "$cache/debs"
sed 's/^Types:.*/Types: deb-src/' "$sources" > "$cache/etc/sources.list.d/selkit-src.sources"

APT_OPTS="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$cache/etc/sources.list.d
-o Dir::State::Lists=$cache/lists -o Dir::Cache::Archives=$cache/archives
-o APT::Sandbox::User=root -q"

if [ -z "$(ls "$cache/lists" 2>/dev/null | grep -v partial)" ] || \
   [ -n "$(find "$cache/lists" -maxdepth 0 -mtime +7)" ]; then
    # shellcheck disable=SC2086
    apt-get $APT_OPTS update >&2
fi

work="$cache/debs/$pkg"
mkdir -p "$work"
if ! ls "$work"/*.dsc >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    (cd "$work" && apt-get $APT_OPTS source --download-only "$pkg" >&2)
fi
dsc=$(ls "$work"/*.dsc | head -n1)
rm -rf "$dest.tmp"
mkdir -p "$(dirname "$dest")"
dpkg-source --no-check -x "$dsc" "$dest.tmp" >&2
rm -rf "$dest"
mv "$dest.tmp" "$dest"
touch "$dest/.selkit-unpacked"
