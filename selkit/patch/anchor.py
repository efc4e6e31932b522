"""Find a spec's anchor text in a C source: exactly once, or a diagnostic at the spec's string."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from selkit.diagnostics import Diagnostic, DiagnosticError, Related, Span
from selkit.ir import nodes as ir


@dataclass(frozen=True)
class Located:
    """Where an anchor's text is: character offsets ``[start, end)`` and 1-based lines."""

    start: int
    end: int
    line: int
    end_line: int


def line_of(text: str, offset: int) -> int:
    """The 1-based line number of character ``offset``."""
    return text.count("\n", 0, offset) + 1


def locate(text: str, anchor: ir.Anchor) -> Located:
    """The one occurrence of ``anchor.text`` in ``text`` (the file ``anchor.file``).

    SEL701 when it does not occur (the hint quotes the closest line of the file), SEL702 when
    it occurs more than once (each occurrence is a related note); both point at the spec's
    anchor string.
    """
    needle = anchor.text
    hits = []
    pos = text.find(needle)
    while pos >= 0:
        hits.append(pos)
        pos = text.find(needle, pos + 1)
    if not hits:
        raise DiagnosticError([Diagnostic(
            "SEL701", f"the anchor does not occur in {anchor.file}", anchor.text_span,
            hint=closest_hint(text, needle, anchor.file))])
    if len(hits) > 1:
        related = tuple(Related(Span.point(anchor.file, line_of(text, h),
                                           h - text.rfind("\n", 0, h)),
                                "it occurs here") for h in hits)
        raise DiagnosticError([Diagnostic(
            "SEL702", f"the anchor occurs {len(hits)} times in {anchor.file}; it must name "
            "one place", anchor.text_span, related=related,
            hint="quote more of the statement (escape line breaks as \\n) so it is unique")])
    start = hits[0]
    end = start + len(needle)
    return Located(start, end, line_of(text, start), line_of(text, max(start, end - 1)))


def closest_hint(text: str, needle: str, path: str) -> str:
    """``did you mean "LINE" (PATH:N)?`` for the stretch of lines closest to ``needle``."""
    lines = text.split("\n")
    want = needle.strip()
    width = needle.strip("\n").count("\n") + 1
    best, best_line, best_ratio = None, 0, -1.0
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(want)
    for i in range(len(lines)):
        candidate = "\n".join(lines[i:i + width]).strip()
        if not candidate:
            continue
        matcher.set_seq1(candidate)
        if matcher.real_quick_ratio() <= best_ratio or matcher.quick_ratio() <= best_ratio:
            continue
        ratio = matcher.ratio()
        if ratio > best_ratio:
            best, best_line, best_ratio = candidate, i + 1, ratio
    if best is None:
        return f"{path} is empty"
    shown = best.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    if best == want:  # the anchor's own text: only the blanks around it are not in the file
        return f'the file has "{shown}" ({path}:{best_line}) without the blanks around it'
    return f'did you mean "{shown}" ({path}:{best_line})?'
