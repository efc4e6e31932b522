"""A deterministic initramfs: a newc cpio archive written in pure Python, gzipped with mtime 0.

Entries are sorted by path, every entry has the same owner (root) and mtime (0), inode numbers
are assigned in path order, so the same input gives the same bytes. Parent directories are
created implicitly. ``library_closure`` lists the shared libraries a binary needs (the closure
``ldd`` reports); selkit.lab.image copies them in.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from selkit.diagnostics import Diagnostic
from selkit.toolchain import ToolchainError

_TRAILER = "TRAILER!!!"


@dataclass(frozen=True)
class Entry:
    """One archive member: a directory, a regular file or a symlink."""

    mode: int
    data: bytes = b""

    @property
    def is_dir(self) -> bool:
        """True for a directory."""
        return stat.S_ISDIR(self.mode)


def _norm(path: str) -> str:
    """The archive name of ``path``: relative, no ``.`` or empty components."""
    parts = [p for p in PurePosixPath("/" + str(path)).parts[1:] if p not in ("", ".")]
    if not parts or ".." in parts:
        raise ValueError(f"bad archive path: {path!r}")
    return "/".join(parts)


class Initramfs:
    """An in-memory file tree that serialises to a byte-identical newc archive."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}

    # -- building the tree --------------------------------------------------------------------

    def add_dir(self, path: str, mode: int = 0o755) -> None:
        """A directory (and its parents)."""
        name = _norm(path)
        self._parents(name)
        existing = self.entries.get(name)
        if existing is not None and not existing.is_dir:
            raise ValueError(f"{path} is already a file in the archive")
        self.entries[name] = Entry(stat.S_IFDIR | (mode & 0o7777))

    def add_file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        """A regular file with ``data``."""
        name = _norm(path)
        self._parents(name)
        self.entries[name] = Entry(stat.S_IFREG | (mode & 0o7777), bytes(data))

    def add_host_file(self, path: str, source: str | os.PathLike, mode: int | None = None) -> None:
        """A copy of a host file (symlinks followed); its permission bits unless ``mode``."""
        source = Path(source)
        self.add_file(path, source.read_bytes(),
                      stat.S_IMODE(source.stat().st_mode) if mode is None else mode)

    def add_symlink(self, path: str, target: str) -> None:
        """A symbolic link to ``target`` (stored verbatim)."""
        name = _norm(path)
        self._parents(name)
        self.entries[name] = Entry(stat.S_IFLNK | 0o777, target.encode())

    def _parents(self, name: str) -> None:
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            parent = "/".join(parts[:i])
            existing = self.entries.get(parent)
            if existing is None:
                self.entries[parent] = Entry(stat.S_IFDIR | 0o755)
            elif not existing.is_dir:
                raise ValueError(f"{parent} is a file, not a directory")

    # -- output ----------------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Archive member names in archive order."""
        return sorted(self.entries, key=lambda n: n.split("/"))

    def cpio(self) -> bytes:
        """The uncompressed newc archive."""
        out = io.BytesIO()
        for ino, name in enumerate(self.names(), start=1):
            entry = self.entries[name]
            _write_member(out, name, entry.mode, entry.data, ino, 2 if entry.is_dir else 1)
        _write_member(out, _TRAILER, 0, b"", 0, 1)
        return out.getvalue()

    def gzip(self) -> bytes:
        """The gzipped archive (mtime 0, no file name), as the kernel unpacks it."""
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=6, mtime=0, filename="") as gz:
            gz.write(self.cpio())
        return buf.getvalue()


def _pad(length: int) -> bytes:
    return b"\0" * (-length % 4)


def _write_member(out: io.BytesIO, name: str, mode: int, data: bytes, ino: int,
                  nlink: int) -> None:
    encoded = name.encode() + b"\0"
    fields = (ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(encoded), 0)
    header = b"070701" + b"".join(b"%08X" % value for value in fields)
    out.write(header + encoded + _pad(len(header) + len(encoded)))
    out.write(data + _pad(len(data)))


# ---------------------------------------------------------------------------------------------
# Shared libraries

_LDD_ARROW = re.compile(r"^\s*(\S+)\s+=>\s+(\S+)\s+\(0x[0-9a-f]+\)\s*$")
_LDD_PLAIN = re.compile(r"^\s*(/\S+)\s+\(0x[0-9a-f]+\)\s*$")


def parse_ldd(text: str) -> list[str]:
    """Absolute library paths from ``ldd`` output (vdso and static binaries give none)."""
    paths = []
    for line in text.splitlines():
        if "not found" in line:
            soname = line.split()[0]
            raise ToolchainError([Diagnostic("SEL761", f"ldd: shared library {soname} not found")])
        match = _LDD_ARROW.match(line)
        if match and match.group(2).startswith("/"):
            paths.append(match.group(2))
            continue
        match = _LDD_PLAIN.match(line)
        if match:
            paths.append(match.group(1))
    return sorted(set(paths))


def library_closure(binary: str | os.PathLike) -> list[str]:
    """The shared libraries ``binary`` loads, as ``ldd`` resolves them on this host."""
    result = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False,
                            env={**os.environ, "LC_ALL": "C"})
    text = result.stdout + result.stderr
    if "not a dynamic executable" in text or "statically linked" in text:
        return []
    if result.returncode != 0:
        raise ToolchainError([Diagnostic("SEL761", f"ldd {binary} failed: {text.strip()}")])
    return parse_ldd(text)
