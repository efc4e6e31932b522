"""What this machine says about a program: the Debian package that owns it (``dpkg-query -S``),
that package's files (``dpkg-query -L``, what is on disk, its ``tmpfiles.d`` files), and the
program itself (``nm -D`` for its imports, its bytes for the paths it names).

Each reader returns plain values for :mod:`selkit.scaffold.package` and
:mod:`selkit.scaffold.binary`; none raises for a missing tool or an unknown path, it says so in
its result (the scaffold writes it in a comment).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from collections.abc import Iterable

from selkit.scaffold.binary import Binary, named_paths
from selkit.scaffold.package import Kind, normalise, parse_tmpfiles, top_entry
from selkit.scaffold.plan import Owner

#: How much of a program is read for its strings (a tunnel daemon is a few MiB at most).
MAX_READ = 64 * 1024 * 1024

_PRINTABLE = re.compile(rb"[\x20-\x7e]{5,}")
_GLOB = re.compile(r"[*?\[\\]")
#: What a path in a message is quoted or followed by ("'/etc/x': no such file").
_PUNCTUATION = "'\"`()[]{},;:"


def _run(argv: list[str]) -> subprocess.CompletedProcess | None:
    """The command's result in the C locale, or None when it is not installed."""
    if shutil.which(argv[0]) is None:
        return None
    return subprocess.run(argv, capture_output=True, text=True, check=False,
                          errors="surrogateescape", env={**os.environ, "LC_ALL": "C"})


def aliases(path: str, real: str) -> list[str]:
    """The names dpkg may know a file by: as given, resolved, and across the merged-/usr
    links (dpkg lists ``/sbin/ip`` for the file ``/usr/sbin/ip``)."""
    out: list[str] = []
    for name in (path, real):
        out.append(name)
        for short in ("/bin/", "/sbin/", "/lib/", "/lib64/"):
            if name.startswith("/usr" + short):
                out.append(name[len("/usr"):])
            elif name.startswith(short):
                out.append("/usr" + name)
    return list(dict.fromkeys(out))


def parse_search(output: str) -> list[str]:
    """The packages of ``dpkg-query -S PATH``'s lines (``pkg1, pkg2:amd64: /path``);
    diversion lines are skipped."""
    packages: list[str] = []
    for line in output.splitlines():
        if line.startswith("diversion by") or ": " not in line:
            continue
        names, _ = line.split(": ", 1)
        packages.extend(n.strip() for n in names.split(",") if n.strip())
    return list(dict.fromkeys(packages))


def owner(path: str, real: str) -> Owner:
    """The package ``dpkg-query -S`` names for the program (the first of its aliases it
    knows)."""
    names = [n for n in aliases(path, real) if not _GLOB.search(n)]
    for name in names:
        result = _run(["dpkg-query", "-S", name])
        if result is None:
            return Owner(None, reason="dpkg-query is not installed")
        if result.returncode == 0:
            found = parse_search(result.stdout)
            if found:
                return Owner(found[0], name)
    return Owner(None, reason=f"no installed package owns {', '.join(names)} "
                              "(dpkg-query -S)")


def files(package: str) -> list[str] | None:
    """``dpkg-query -L PACKAGE``'s paths, or None when the package is not installed (or dpkg
    is missing)."""
    result = _run(["dpkg-query", "-L", package])
    if result is None or result.returncode != 0:
        return None
    return [line for line in result.stdout.splitlines() if line.startswith("/")]


def kinds(paths: Iterable[str]) -> dict[str, str]:
    """What each path is on disk (``lstat``): dir, file, symlink, or missing."""
    out = {}
    for path in paths:
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            out[path] = Kind.MISSING
            continue
        out[path] = (Kind.DIR if stat.S_ISDIR(mode) else
                     Kind.SYMLINK if stat.S_ISLNK(mode) else Kind.FILE)
    return out


def top_entry_kinds(listed: Iterable[str], program: Binary) -> dict[str, str]:
    """What each top entry under a run-time root (of the package's files and of the paths
    the program names) is on disk."""
    entries = {found[1] for path in (*listed, *program.strings)
               if (found := top_entry(normalise(path))) is not None}
    return kinds(sorted(entries))


def tmpfiles(paths: Iterable[str]) -> dict[str, str]:
    """The run-time paths the package's ``tmpfiles.d`` files create (those on disk)."""
    out: dict[str, str] = {}
    for path in sorted(paths):
        if "/tmpfiles.d/" in path and path.endswith(".conf"):
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    out.update(parse_tmpfiles(handle.read()))
            except OSError:
                continue
    return out


def parse_nm(output: str) -> frozenset[str]:
    """The symbol names of ``nm -D --undefined-only``'s lines, without version suffixes."""
    names = set()
    for line in output.splitlines():
        fields = line.split()
        if fields:
            names.add(fields[-1].split("@", 1)[0])
    return frozenset(names)


def binary(path: str) -> Binary:
    """The program's form, imports and the paths it names."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_READ)
    except OSError as exc:
        return Binary("other", note=f"cannot be read: {exc.strerror}")
    strings = named_paths(word.strip(_PUNCTUATION) for m in _PRINTABLE.finditer(data)
                          for word in m.group(0).decode("ascii").split())
    if data.startswith(b"#!"):
        first = data[2:].split(b"\n", 1)[0].decode("ascii", "replace").strip()
        return Binary("script", strings=strings, interpreter=first)
    if not data.startswith(b"\x7fELF"):
        return Binary("other", strings=strings)
    result = _run(["nm", "-D", "--undefined-only", path])
    if result is None:
        return Binary("elf", strings=strings,
                      note="nm is not installed (binutils): its imports are unknown")
    symbols = parse_nm(result.stdout) if result.returncode == 0 else frozenset()
    return Binary("elf" if symbols else "static", symbols, strings)
