"""Compiler warnings from a build log, in a form that survives patches moving lines.

A warning is compared as ``(file, text, flag)``: the line and column are dropped, because a patch
that adds ten lines above an old warning moves it without making it new. Builds are compared as
multisets, so a second identical warning in the same file counts as new.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

#: ``path:line[:col]: warning: text [-Wflag]`` as the compiler prints it, or the linker's
#: ``.../ld: warning: text``. Other tools' warnings (autoheader's, make's) are not counted.
_WARNING = re.compile(
    r"^(?P<file>[^\s:][^:]*?:\d+(?::\d+)?|(?:\S*/)?ld(?:\.\w+)?):\s*warning:\s*"
    r"(?P<text>.*?)(?:\s+\[(?P<flag>-W[^\]]+)\])?\s*$")
#: The compiler's ``path:line[:col]: error: text`` and ``fatal error: text``.
_ERROR = re.compile(
    r"^(?P<file>[^\s:][^:]*?:\d+(?::\d+)?):\s*(?:fatal )?error:\s*"
    r"(?P<text>.*?)(?:\s+\[(?P<flag>-W[^\]]+)\])?\s*$")
_POSITION = re.compile(r":\d+(?::\d+)?$")


def _normalise_path(path: str, roots: Iterable[str]) -> str:
    for root in roots:
        root = root.rstrip("/") + "/"
        if path.startswith(root):
            return path[len(root):]
    while path.startswith("./") or path.startswith("../"):
        path = path.split("/", 1)[1]
    return path


def parse_warnings(log: str, roots: Iterable[str] = (), *, errors: bool = False
                   ) -> tuple[str, ...]:
    """Every warning line of ``log`` as ``file: text [flag]``, sorted, line numbers removed
    (with ``errors``: every compiler error line instead).

    Paths under one of ``roots`` (the build tree) are made relative to it, so builds in
    different directories compare equal."""
    roots = tuple(roots)
    found = []
    pattern = _ERROR if errors else _WARNING
    for line in log.splitlines():
        match = pattern.match(line.strip())
        if not match:
            continue
        flag = match.group("flag")
        text = match.group("text")
        where = _POSITION.sub("", match.group("file"))
        found.append(f"{_normalise_path(where, roots)}: {text}"
                     + (f" [{flag}]" if flag else ""))
    return tuple(sorted(found))


def new_warnings(unpatched: Iterable[str], patched: Iterable[str]) -> tuple[str, ...]:
    """Warnings of ``patched`` that ``unpatched`` does not have (as multisets), sorted."""
    extra = Counter(patched) - Counter(unpatched)
    return tuple(sorted(extra.elements()))
