"""Unified diffs in git's form (``diff --git``, index line, 3 lines of context), and a diffstat.

Pure functions; the output applies with ``patch -p1`` and ``git apply``.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass

#: How C sources and patch files are decoded and encoded: UTF-8, with any other byte carried
#: through as a surrogate so a Latin-1 source round-trips byte for byte.
SOURCE_ENCODING = ("utf-8", "surrogateescape")

CONTEXT = 3
_FUNCNAME = re.compile(r"[A-Za-z_$]")


@dataclass(frozen=True)
class FileDiff:
    """One file's diff text and its counts (for the diffstat)."""

    path: str
    text: str
    added: int
    removed: int
    created: bool
    mode: str


def blob_id(data: bytes) -> str:
    """The git blob id of ``data`` (what ``git hash-object`` prints)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def diff_file(path: str, old: str | None, new: str, mode: str = "100644") -> FileDiff:
    """The git-style diff of ``path`` from ``old`` (None: a new file) to ``new``."""
    old_text = old or ""
    old_lines = old_text.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    old_id = "0" * 7 if old is None else blob_id(old_text.encode(*SOURCE_ENCODING))[:7]
    head = [f"diff --git a/{path} b/{path}\n"]
    if old is None:
        head += [f"new file mode {mode}\n",
                 f"index {old_id}..{blob_id(new.encode(*SOURCE_ENCODING))[:7]}\n",
                 "--- /dev/null\n"]
    else:
        head += [f"index {old_id}..{blob_id(new.encode(*SOURCE_ENCODING))[:7]} {mode}\n",
                 f"--- a/{path}\n"]
    head.append(f"+++ b/{path}\n")
    body, added, removed = _hunks(old_lines, new_lines)
    return FileDiff(path, "".join(head + body), added, removed, old is None, mode)


def _hunks(old: list[str], new: list[str]) -> tuple[list[str], int, int]:
    out: list[str] = []
    added = removed = 0
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for group in matcher.get_grouped_opcodes(CONTEXT):
        i1, i2 = group[0][1], group[-1][2]
        j1, j2 = group[0][3], group[-1][4]
        header = f"@@ -{_range(i1, i2 - i1)} +{_range(j1, j2 - j1)} @@"
        func = _function_context(old, i1)
        out.append(header + (f" {func}" if func else "") + "\n")
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                out += [_line(" ", ln) for ln in old[a1:a2]]
                continue
            if tag in ("replace", "delete"):
                out += [_line("-", ln) for ln in old[a1:a2]]
                removed += a2 - a1
            if tag in ("replace", "insert"):
                out += [_line("+", ln) for ln in new[b1:b2]]
                added += b2 - b1
    return out, added, removed


def _range(start: int, length: int) -> str:
    """``start,length`` as diff prints it (1-based; a 0-length range names the line before)."""
    if length == 1:
        return f"{start + 1}"
    return f"{start + 1 if length else start},{length}"


def _line(mark: str, line: str) -> str:
    if line.endswith("\n"):
        return mark + line
    return mark + line + "\n\\ No newline at end of file\n"


def _function_context(old: list[str], before: int) -> str:
    """git's default hunk header text: the last line before the hunk starting like a name."""
    for line in reversed(old[:before]):
        if _FUNCNAME.match(line):
            return line.rstrip()[:80].rstrip()
    return ""


def diffstat(files: list[FileDiff], width: int = 72) -> str:
    """``git format-patch``'s ``--stat``: one line each, a summary, and create-mode lines.

    The graph is scaled as git scales it (diff.c ``show_stats``) when the largest change does
    not fit the width left after the names and counts.
    """
    if not files:
        return ""
    name_width = max(len(f.path) for f in files)
    counts = [f.added + f.removed for f in files]
    count_width = len(str(max(counts)))
    graph_width = max(6, width - name_width - count_width - 6)
    biggest = max(counts)
    lines = []
    for f, total in zip(files, counts, strict=True):
        plus, minus = f.added, f.removed
        if biggest > graph_width:
            plus, minus = _scaled(plus, minus, graph_width, biggest)
        lines.append(f" {f.path.ljust(name_width)} | {str(total).rjust(count_width)} "
                     f"{'+' * plus}{'-' * minus}".rstrip() + "\n")
    added, removed = sum(f.added for f in files), sum(f.removed for f in files)
    summary = f" {len(files)} file{'s' if len(files) != 1 else ''} changed"
    if added or not removed:
        summary += f", {added} insertion{'s' if added != 1 else ''}(+)"
    if removed:
        summary += f", {removed} deletion{'s' if removed != 1 else ''}(-)"
    lines.append(summary + "\n")
    lines += [f" create mode {f.mode} {f.path}\n" for f in files if f.created]
    return "".join(lines)


def _linear(count: int, width: int, biggest: int) -> int:
    return 0 if count == 0 else 1 + (count * (width - 1)) // biggest


def _scaled(plus: int, minus: int, width: int, biggest: int) -> tuple[int, int]:
    total = _linear(plus + minus, width, biggest)
    if total < 2 and plus and minus:
        total = 2
    if plus < minus:
        plus = _linear(plus, width, biggest)
        return plus, total - plus
    minus = _linear(minus, width, biggest)
    return total - minus, minus
