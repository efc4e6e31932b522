"""A reader for CIL text: s-expressions as nested tuples of interned strings.

Atoms are ``str`` (quoted strings keep their quotes, so ``"HTTP_48"`` is never taken for a
name), lists are ``tuple``. Comments (``;`` to the end of the line) are skipped.
"""

from __future__ import annotations

import re
import sys
from typing import TypeAlias

SExpr: TypeAlias = "str | tuple[SExpr, ...]"

_TOKEN = re.compile(r'[()]|"[^"]*"|;[^\n]*|[^\s()";]+')


class CilSyntaxError(ValueError):
    """Unbalanced parentheses in CIL text."""


def parse(text: str) -> tuple[SExpr, ...]:
    """Every top-level statement of ``text`` (a ValueError if the parentheses do not balance)."""
    intern = sys.intern
    stack: list[list[SExpr]] = [[]]
    for token in _TOKEN.findall(text):
        if token == "(":
            stack.append([])
        elif token == ")":
            if len(stack) == 1:
                raise CilSyntaxError("unexpected ')'")
            done = tuple(stack.pop())
            stack[-1].append(done)
        elif token[0] != ";":
            stack[-1].append(intern(token))
    if len(stack) != 1:
        raise CilSyntaxError(f"{len(stack) - 1} unclosed '('")
    return tuple(stack[0])


def render(expr: SExpr) -> str:
    """CIL text of an s-expression, single-spaced: ``(allow a_t b_t (file (read)))``."""
    if isinstance(expr, str):
        return expr
    return "(" + " ".join(render(item) for item in expr) + ")"


def atoms(expr: SExpr) -> list[str]:
    """Every atom of ``expr``, depth first."""
    if isinstance(expr, str):
        return [expr]
    out: list[str] = []
    for item in expr:
        out.extend(atoms(item))
    return out
