"""Identical answers become one suggestion, and the suggestions come in spec order."""

from __future__ import annotations

from selkit.suggest.avc import Avc
from selkit.suggest.explain import statement_why
from selkit.suggest.suggestion import DeniedRule, Item, Suggestion


def group(items: list[Item]) -> list[Suggestion]:
    """One suggestion per distinct answer, covering every denial of its items; statements
    first, then forbids, grants and what has no answer, each by place in the spec."""
    groups: dict[tuple, list[Item]] = {}
    for item in items:
        groups.setdefault(item.key(), []).append(item)
    out = [_suggestion(members) for members in groups.values()]
    return sorted(out, key=lambda s: (s.kind.rank, s.path or "", s.line or 0,
                                      s.phase or "", s.statement or "", s.why))


def _suggestion(members: list[Item]) -> Suggestion:
    first = members[0]
    covered: dict[int, Avc] = {}
    rules: dict[tuple[str, str, str], set[str]] = {}
    notes: list[str] = []
    extra: set[str] = set()
    for item in members:
        for index, avc, perms in item.covered:
            covered.setdefault(index, avc)
            rules.setdefault((avc.stype, avc.ttype, avc.tclass), set()).update(perms)
        notes.extend(n for n in item.notes if n not in notes)
        extra.update(item.extra)
    why = first.why if len(members) == 1 else _merged_why(first, members)
    return Suggestion(
        kind=first.kind, avcs=tuple(covered[i] for i in sorted(covered)), why=why,
        denied=tuple(DeniedRule(s, t, c, tuple(sorted(ps)))
                     for (s, t, c), ps in sorted(rules.items())),
        module=first.module, path=first.path, line=first.line, phase=first.phase,
        statement=first.statement, also=first.also, extra=tuple(sorted(extra)),
        notes=tuple(notes))


def _merged_why(first: Item, members: list[Item]) -> str:
    if not first.kind.adds_statement:
        return first.why
    whats = list(dict.fromkeys(item.what for item in members))
    assert first.statement is not None, "a kind that adds a statement has one"
    return statement_why(first.kind, first.statement, whats, first.tail)
