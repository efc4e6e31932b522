"""The module store on disk: which modules are enabled, at which priority, and their CIL."""

from __future__ import annotations

import bz2
import re
from pathlib import Path

#: An ``allow`` statement of CIL with a plain permission list: source, target, class, the
#: permissions (space-separated).
CIL_ALLOW = re.compile(r"\(allow (\S+) (\S+) \((\S+) \(([^)]*)\)\)\)")
#: A statement only a base module makes: the kernel's classes, initial SIDs, MLS sensitivities.
_BASE_STATEMENT = re.compile(rb"^\((?:class|sid|sensitivity) ", re.M)
_CIL_FILECON = re.compile(r'^\(filecon "((?:[^"\\]|\\.)*)" (\w+) (?:\(\w+ \w+ (\w+)|\(\)|(\w+))',
                          re.M)


def cil_file_contexts(text: str) -> list[tuple[str, str, str]]:
    """(regex, kind, type) of every ``filecon`` of a CIL module; the type of a ``<<none>>``
    context is ``<<none>>``, of a named context its name."""
    return [(regex, kind, type_name or named or "<<none>>")
            for regex, kind, type_name, named in _CIL_FILECON.findall(text)]


def read_cil(path: Path) -> bytes:
    """A module's CIL (bzip2 as the store keeps it, or plain; empty if unreadable)."""
    try:
        data = path.read_bytes()
    except OSError:
        return b""
    return bz2.decompress(data) if data[:3] == b"BZh" else data


def disabled_modules(store: str) -> frozenset[str]:
    """Modules the store lists as disabled (installing one of that name leaves it disabled)."""
    return frozenset(p.name for p in (Path(store) / "active" / "modules" / "disabled").glob("*"))


def active_module_cils(store: str) -> list[tuple[str, Path]]:
    """(module name, cil path) of every enabled module at its highest priority."""
    modules = Path(store) / "active" / "modules"
    disabled = disabled_modules(store)
    chosen: dict[str, Path] = {}
    for cil in sorted(modules.glob("[0-9]*/*/cil")):
        chosen[cil.parent.name] = cil  # sorted: a higher priority directory wins
    return [(name, path) for name, path in sorted(chosen.items()) if name not in disabled]


def base_modules(store: str) -> frozenset[str]:
    """The enabled modules that are the base policy itself (Debian: ``base``): they declare
    what every other module is written against, so replacing one unlinks the whole policy."""
    return frozenset(name for name, cil in active_module_cils(store)
                     if _BASE_STATEMENT.search(read_cil(cil)))


def store_file_contexts(store: str) -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
    """(regex, kind) → (type, declaring modules) over the store's enabled modules."""
    out: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
    for name, cil in active_module_cils(store):
        for regex, kind, type_name in cil_file_contexts(read_cil(cil).decode(errors="replace")):
            if type_name == "<<none>>":
                continue
            key = (regex, kind)
            previous = out.get(key)
            owners = (previous[1] if previous else ()) + (name,)
            out[key] = (type_name, owners)
    return out
