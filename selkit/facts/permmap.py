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


#: Directions a permission map may give: read, write, both, none, unmapped.
DIRECTIONS = frozenset("rwbnu")


class PermissionMapError(ValueError):
    """A permission map file that does not follow SETools' format."""


def parse_permission_map(text: str, name: str = "perm_map") -> dict[str, dict[str, str]]:
    """class -> permission -> direction, from the text of a SETools permission map file.

    The format: ``#`` starts a comment; the first line is the number of classes; each class is
    ``class NAME COUNT`` followed by its permissions, ``PERM DIRECTION [WEIGHT]``. Malformed
    lines are :class:`PermissionMapError` (``name:line: ...``)."""
    out: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split("#", 1)[0].split()
        if not words or (len(words) == 1 and words[0].isdigit() and not out):
            continue
        if words[0] == "class":
            if len(words) != 3 or not words[2].isdigit():
                raise PermissionMapError(f"{name}:{number}: not 'class NAME COUNT': {line!r}")
            current = out.setdefault(words[1], {})
        elif current is None or len(words) not in (2, 3) or words[1] not in DIRECTIONS:
            raise PermissionMapError(f"{name}:{number}: not 'PERM r|w|b|n [WEIGHT]' after a "
                                     f"class line: {line!r}")
        else:
            current[words[0]] = words[1]
    return out


@lru_cache(maxsize=1)
def permission_map() -> dict[str, dict[str, str]]:
    """The installed SETools permission map: class -> permission -> direction (r, w, b, n)."""
    path = permission_map_path()
    return parse_permission_map(path.read_text(encoding="utf-8"), str(path))
