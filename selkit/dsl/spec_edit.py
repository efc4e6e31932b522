"""Editing a spec's text: statements added at the end of a phase block, the rest untouched.

Unlike the printer (:mod:`selkit.dsl.pretty`), which gives a whole file its canonical form,
an edit keeps the author's layout, comments and line endings and changes only where a
statement goes, so a suggestion's line number stays true and a diff shows just the addition.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from selkit.dsl import ast
from selkit.dsl.loader import Program
from selkit.dsl.parser import parse


def insert_statements(text: str, placements: Iterable[tuple[ast.Phase, str]]) -> str:
    """``text`` with each statement added at the end of its phase block.

    A statement goes on a line of its own after the phase's last statement (or after the
    ``phase NAME {`` line of an empty phase), indented like it; where the block closes on
    that same line it is added there, separated by ``;``.
    """
    starts = _line_starts(text)
    inserts = []
    for phase, statement in placements:
        inserts.append(_placement(text, starts, phase, statement))
    for pos, piece in sorted(inserts, key=lambda x: x[0], reverse=True):
        text = text[:pos] + piece + text[pos:]
    return text


def anchor_line(phase: ast.Phase) -> int:
    """The line a new statement of ``phase`` goes after: its last statement's, or its own."""
    return phase.body[-1].span.end_line if phase.body else phase.span.line


def with_main_text(program: Program, text: str) -> Program:
    """``program`` with its main file replaced by ``text`` (its used files unchanged)."""
    path = program.main.path
    main = parse(text, path)
    fragments = {n: f for n, f in program.fragments.items() if f.span.path != path}
    fragments.update({f.name.text: f for f in main.of(ast.Fragment)})
    return Program(main, {**program.modules, path: main}, {**program.texts, path: text},
                   fragments)


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(m.end() for m in re.finditer(r"\n", text))
    return starts


def _line_text(text: str, starts: list[int], line: int) -> str:
    begin = starts[line - 1]
    end = starts[line] if line < len(starts) else len(text)
    return text[begin:end].rstrip("\r\n")


def _placement(text: str, starts: list[int], phase: ast.Phase, statement: str) -> tuple[int, str]:
    """Where ``statement`` goes in ``text`` and the piece to insert there."""
    line = anchor_line(phase)
    content = _line_text(text, starts, line)
    newline = "\r\n" if text[starts[line - 1]:].split("\n", 1)[0].endswith("\r") else "\n"
    lead = content[:len(content) - len(content.lstrip(" \t"))]
    if phase.body:
        last = phase.body[-1].span
        rest = content[last.end_column - 1:]
        indent = lead if not content[:last.column - 1].strip() else lead + "    "
        inline_at = starts[line - 1] + last.end_column - 1
        own_line = not rest.strip() or rest.lstrip().startswith("#")
    else:
        indent = lead + "    "
        brace = content.index("{", phase.name.span.end_column - 1) + 1
        inline_at = starts[line - 1] + brace
        own_line = phase.span.end_line > line
    if not own_line:
        return inline_at, (f"; {statement}" if phase.body else f" {statement}")
    if line < len(starts):
        return starts[line], f"{indent}{statement}{newline}"
    return len(text), f"{newline}{indent}{statement}"
