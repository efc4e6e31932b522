"""SETools' permission map, read from its file (without importing SETools).

The map gives each class:permission the direction information flows when a domain uses it:
``r`` (to the domain), ``w`` (from it), ``b`` (both) or ``n`` (none). The file is the one the
installed SETools ships, so the forbid groups derived from it follow the installed SETools.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path


class PermissionMapMissing(LookupError):
    """SETools (python3-setools) is not installed, so its permission map cannot be read."""


def permission_map_path() -> Path:
    """Where the installed SETools keeps ``perm_map`` (SETools itself is not imported)."""
    spec = importlib.util.find_spec("setools")
    locations = list(spec.submodule_search_locations or ()) if spec else []
    for folder in locations:
        path = Path(folder, "perm_map")
        if path.is_file():
            return path
    raise PermissionMapMissing("SETools' perm_map not found: install python3-setools (make setup)")


def parse_permission_map(text: str) -> dict[str, dict[str, str]]:
    """class -> permission -> direction, from the text of a SETools permission map file."""
    out: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words or (len(words) == 1 and words[0].isdigit()):
            continue
        if words[0] == "class":
            current = out.setdefault(words[1], {})
        elif current is not None and len(words) >= 2:
            current[words[0]] = words[1]
    return out


@lru_cache(maxsize=1)
def permission_map() -> dict[str, dict[str, str]]:
    """The installed SETools permission map: class -> permission -> direction (r, w, b, n)."""
    return parse_permission_map(permission_map_path().read_text(encoding="utf-8"))
