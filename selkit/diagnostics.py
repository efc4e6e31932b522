"""Diagnostics: source spans, coded messages, and a plain-text (rustc-style) renderer.

Every layer reports problems as :class:`Diagnostic` values. Only the CLI decides how to show
them (rich on a terminal, this module's plain renderer in a pipe, JSON with ``--json``).

Code ranges: SEL1xx syntax, SEL2xx names and resolution, SEL3xx semantic checks, SEL4xx the
target cannot express it, SEL5xx the toolchain refused output, SEL6xx prove/audit, SEL7xx
patch and lab, SEL8xx ``selkit new``, SEL9xx input files (unreadable, not UTF-8, ...).
"""

from __future__ import annotations

import difflib
import enum
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Span:
    """A region of a source file; lines and columns are 1-based, ``end_column`` exclusive."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def point(cls, path: str, line: int = 1, column: int = 1, width: int = 1) -> Span:
        """A span of ``width`` characters on one line."""
        return cls(path, line, column, line, column + max(width, 1))

    def label(self) -> str:
        """``path:line:col``, the form editors and terminals make clickable."""
        return f"{self.path}:{self.line}:{self.column}"

    def short(self) -> str:
        """``file.sel:line`` with the directory dropped, used in provenance comments."""
        return f"{self.path.rsplit('/', 1)[-1]}:{self.line}"


class Severity(str, enum.Enum):
    """How bad a diagnostic is; only errors stop compilation."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True)
class Related:
    """A secondary location that explains a diagnostic (for example the forbid it breaks)."""

    span: Span
    message: str


@dataclass(frozen=True)
class Diagnostic:
    """One coded message about the input, anchored to a span."""

    code: str
    message: str
    span: Span | None = None
    severity: Severity = Severity.ERROR
    hint: str | None = None
    related: tuple[Related, ...] = ()

    def to_dict(self) -> dict:
        """A JSON-ready form (``--json``)."""
        out: dict = {"code": self.code, "severity": self.severity.value, "message": self.message}
        if self.span is not None:
            out["span"] = {
                "path": self.span.path,
                "line": self.span.line,
                "column": self.span.column,
                "end_line": self.span.end_line,
                "end_column": self.span.end_column,
            }
        if self.hint:
            out["hint"] = self.hint
        if self.related:
            out["related"] = [
                {"message": r.message, "path": r.span.path, "line": r.span.line,
                 "column": r.span.column}
                for r in self.related
            ]
        return out


class SelkitError(Exception):
    """Root of selkit's exceptions."""


class DiagnosticError(SelkitError):
    """Raised by a layer that found errors; carries every diagnostic it collected."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else None
        super().__init__(f"{first.code}: {first.message}" if first else "error")


class ToolchainError(DiagnosticError):
    """A build or SELinux userspace tool refused our input or output (exit code 1 in the CLI).

    Defined here, below every layer, so that both selkit.toolchain and selkit.projects (the same
    layer) raise it; selkit.toolchain re-exports it."""


class DiagnosticSink:
    """Collects diagnostics during a pass; :meth:`check` raises if any error was seen."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def error(self, code: str, message: str, span: Span | None = None, *,
              hint: str | None = None, related: Iterable[Related] = ()) -> None:
        """Record an error."""
        self.items.append(Diagnostic(code, message, span, Severity.ERROR, hint, tuple(related)))

    def warning(self, code: str, message: str, span: Span | None = None, *,
                hint: str | None = None) -> None:
        """Record a warning (does not stop compilation)."""
        self.items.append(Diagnostic(code, message, span, Severity.WARNING, hint))

    @property
    def has_errors(self) -> bool:
        """True when at least one error was recorded."""
        return any(d.severity is Severity.ERROR for d in self.items)

    def check(self) -> None:
        """Raise :class:`DiagnosticError` if an error was recorded."""
        if self.has_errors:
            raise DiagnosticError(sorted(self.items, key=_sort_key))


def _sort_key(d: Diagnostic) -> tuple:
    return (d.span or Span("", 0, 0, 0, 0), d.code)


def closest(word: str, candidates: Iterable[str], *, n: int = 1,
            cutoff: float = 0.72) -> list[str]:
    """Up to ``n`` candidates close to ``word``, closest first; never ``word`` itself.

    difflib's ratio finds most slips, but in a short word one slip weighs too much: a swap
    ('upd' for 'udp' is 0.67) or a wrong letter ('tdp' for 'tcp'). So a candidate one edit
    away (a letter added, dropped, changed, or two neighbours swapped) is close too, for
    words of three letters or more.
    """
    names = sorted(set(candidates) - {word})
    found = difflib.get_close_matches(word, names, n=n, cutoff=cutoff)
    if len(found) < n and len(word) >= 3:
        found += [c for c in names if c not in found and _one_edit(word, c)][:n - len(found)]
    return found


def _one_edit(a: str, b: str) -> bool:
    """True if ``b`` is ``a`` with one letter added, dropped or changed, or two adjacent
    letters swapped."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long = sorted((a, b), key=len)
    i = next((k for k, (x, y) in enumerate(zip(short, long, strict=False)) if x != y),
             len(short))
    return short[i:] == long[i + 1:]


def did_you_mean(word: str, candidates: Iterable[str], *, n: int = 1,
                 cutoff: float = 0.72) -> str | None:
    """The closest candidate to ``word`` as a hint ("did you mean 'x'?"), or None.

    Never ``word`` itself: a name the candidates hold is known, so when it is reported the
    problem is elsewhere, and suggesting it back says nothing."""
    matches = closest(word, candidates, n=n, cutoff=cutoff)
    if not matches:
        return None
    if len(matches) == 1:
        return f"did you mean '{matches[0]}'?"
    return "did you mean one of " + ", ".join(f"'{m}'" for m in matches) + "?"


def render_plain(diag: Diagnostic, sources: dict[str, str] | None = None) -> str:
    """Render a diagnostic rustc-style, without colour.

    ``sources`` maps a path to its text so the offending line can be quoted with a caret.
    """
    lines = [f"{diag.severity.value}[{diag.code}]: {diag.message}"]
    if diag.span is not None:
        lines.extend(_snippet(diag.span, sources, diag.hint))
    elif diag.hint:
        lines.append(f"  = help: {diag.hint}")
    for rel in diag.related:
        lines.append(f"  = note: {rel.message} at {rel.span.label()}")
    return "\n".join(lines)


#: Longest stretch of a source line quoted under a diagnostic; longer lines are cut around
#: the caret so the message is not buried (or the terminal flooded by a megabyte line).
_MAX_QUOTED = 100


@functools.lru_cache(maxsize=16)
def _source_lines(text: str) -> tuple[str, ...]:
    # Split on '\n' only, as the lexer counts lines (splitlines() also breaks at '\f', '\v'
    # and other characters the grammar treats as blanks or rejects). Cached: a file with
    # thousands of diagnostics must not be split thousands of times.
    return tuple(ln.rstrip("\r") for ln in text.split("\n"))


def _snippet(span: Span, sources: dict[str, str] | None, hint: str | None) -> list[str]:
    text = (sources or {}).get(span.path)
    out = [f"  --> {span.label()}"]
    src_lines = _source_lines(text) if text is not None else ()
    if not 1 <= span.line <= len(src_lines):
        if hint:
            out.append(f"  = help: {hint}")
        return out
    source_line = src_lines[span.line - 1].expandtabs(1)
    gutter = len(str(span.line))
    pad = " " * gutter
    width = (span.end_column - span.column) if span.end_line == span.line else (
        len(source_line) - span.column + 1)
    start = span.column - 1
    if len(source_line) > _MAX_QUOTED:
        left = max(0, min(start - 30, len(source_line) - _MAX_QUOTED))
        prefix = "..." if left else ""
        suffix = "..." if left + _MAX_QUOTED < len(source_line) else ""
        source_line = prefix + source_line[left:left + _MAX_QUOTED] + suffix
        width = min(width, _MAX_QUOTED - (start - left))
        start = start - left + len(prefix)
    caret = " " * start + "^" * max(1, width)
    out.append(f"{pad} |")
    out.append(f"{span.line} | {source_line}")
    out.append(f"{pad} | {caret}" + (f" {hint}" if hint else ""))
    return out
