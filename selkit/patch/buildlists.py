"""List a new header in the build files that list its neighbour, so release tarballs carry it.

``make dist`` packs what ``Makefile.am`` lists and CMake projects list headers in their source
lists: a header added to a tree but listed nowhere builds from git and fails from a release.
Pure functions over text: which list to extend is chosen from what the file already lists.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

#: The build files looked at, by base name.
BUILD_FILES = ("Makefile.am", "CMakeLists.txt")

_ASSIGNMENT = re.compile(r"^(?P<name>[A-Za-z0-9_@]+)[ \t]*\+?=")


@dataclass(frozen=True)
class _Assignment:
    """A Makefile.am variable assignment: its name, its lines (first, last inclusive) and
    the words after the '='."""

    name: str
    first: int
    last: int
    words: tuple[str, ...]


def relative(path: str, build_file: str) -> str:
    """``path`` (from the tree's top) as written in ``build_file``: Makefile.am names files
    relative to its own directory, CMakeLists.txt files below it too."""
    return posixpath.relpath(path, posixpath.dirname(build_file) or ".")


def add_header(build_file: str, text: str, source: str, header: str) -> str | None:
    """``text`` with ``header`` listed beside ``source`` (both paths from the tree's top), or
    None when the file does not list ``source`` or already lists ``header``."""
    name = posixpath.basename(build_file)
    src, hdr = relative(source, build_file), relative(header, build_file)
    if src.startswith("../"):
        return None
    if name == "Makefile.am":
        return _makefile_am(text, src, hdr)
    if name == "CMakeLists.txt":
        return _cmake(text, src, hdr)
    return None


def _makefile_am(text: str, src: str, hdr: str) -> str | None:
    """Into a ``*_HEADERS`` list of the same directory if the file has one, else the list
    that names ``src``."""
    lines = text.splitlines(keepends=True)
    assignments = _assignments(lines)
    if any(hdr in a.words for a in assignments):
        return None
    holding = [a for a in assignments if src in a.words]
    if not holding:
        return None
    headers = [a for a in assignments if a.name.endswith("_HEADERS") and a.words
               and all(w.endswith(".h") and "/" not in w for w in a.words)]
    target = headers[0] if headers and "/" not in hdr else holding[0]
    return "".join(_insert_word(lines, target, hdr))


def _assignments(lines: list[str]) -> list[_Assignment]:
    out, i = [], 0
    while i < len(lines):
        match = _ASSIGNMENT.match(lines[i])
        first = i
        while lines[i].rstrip("\n").endswith("\\") and i + 1 < len(lines):
            i += 1
        if match:
            joined = " ".join(line.rstrip("\n").rstrip("\\") for line in lines[first:i + 1])
            words = tuple(joined.split("=", 1)[1].split())
            out.append(_Assignment(match.group("name"), first, i, words))
        i += 1
    return out


def _insert_word(lines: list[str], target: _Assignment, word: str) -> list[str]:
    """A one-line list gets the word at its end; a list with one line per entry (or pair)
    gets a line of its own, before the first line whose first word sorts after it."""
    out = list(lines)
    if target.first == target.last:
        line = out[target.first]
        body = line.rstrip("\n")
        out[target.first] = body.rstrip() + " " + word + line[len(body):]
        return out
    entries = range(target.first + 1, target.last + 1)
    indent = re.match(r"[ \t]*", out[target.first + 1]).group(0)  # type: ignore[union-attr]
    for i in entries:
        first_word = (out[i].split() or [""])[0]
        if first_word > word:
            out.insert(i, f"{indent}{word} \\\n")
            return out
    last = out[target.last]
    body = last.rstrip("\n")
    out[target.last] = body.rstrip() + " \\" + last[len(body):]
    out.insert(target.last + 1, f"{indent}{word}\n" if last.endswith("\n") else f"\n{indent}{word}")
    return out


def _cmake(text: str, src: str, hdr: str) -> str | None:
    """A line of its own in the block of one-path lines that holds ``src``, before the first
    of them that sorts after the header."""
    lines = text.splitlines(keepends=True)
    stripped = [line.strip() for line in lines]
    if hdr in stripped or src not in stripped:
        return None
    at = stripped.index(src)
    indent = re.match(r"[ \t]*", lines[at]).group(0)  # type: ignore[union-attr]

    def is_path(i: int) -> bool:
        return (0 <= i < len(lines) and lines[i].startswith(indent)
                and re.fullmatch(r"[\w./${}-]+", stripped[i]) is not None
                and "." in stripped[i])

    start = at
    while is_path(start - 1):
        start -= 1
    end = at
    while is_path(end + 1):
        end += 1
    position = next((i for i in range(start, end + 1) if stripped[i] > hdr), end + 1)
    lines.insert(position, f"{indent}{hdr}\n")
    return "".join(lines)
