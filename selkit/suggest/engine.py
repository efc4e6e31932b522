"""The suggestion for every denial: each (phase, target, class) request asked of its spec."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from selkit.ir import nodes as ir
from selkit.ir.kb import KnowledgeBase
from selkit.suggest import checks, explain
from selkit.suggest.avc import Avc
from selkit.suggest.group import group
from selkit.suggest.search import cover
from selkit.suggest.spec import Sources, SpecModel, spec_models
from selkit.suggest.suggestion import Covered, Item, Kind, Suggestion

_PORT_FIELD = re.compile(r"\b(?:src|dest)=(\d+)\b")


def suggest(denials: Iterable[Avc], modules: Iterable[ir.PolicyModule], kb: KnowledgeBase,
            sources: Sources) -> list[Suggestion]:
    """A suggestion for every denial, identical ones grouped, sorted by place in the spec.

    ``modules`` are checked IR modules (:func:`selkit.compiler.front_end`); ``sources`` the
    programs they were compiled from: a :class:`~selkit.dsl.loader.Program`, several, or a
    mapping of path to program. Records that are not denials (``denied`` false) are ignored.
    """
    specs = spec_models(tuple(modules), sources, kb)
    by_domain = {p.domain: (spec, p.name) for spec in specs for p in spec.module.phases}
    requests: dict[tuple, list[int]] = {}
    items: list[Item] = []
    avcs = [a for a in denials if a.denied]
    for index, avc in enumerate(avcs):
        where = by_domain.get(avc.stype)
        if not avc.perms:  # a SELINUX_ERR record (bounded transition, invalid context)
            items.append(explain.not_an_access(index, avc, specs))
            continue
        if where is None:
            items.append(explain.not_ours(index, avc, specs))
            continue
        spec, phase = where
        key = (id(spec), phase, avc.ttype, avc.tclass)
        requests.setdefault(key, []).append(index)
    for (_, phase, ttype, tclass), indices in requests.items():
        spec = by_domain[avcs[indices[0]].stype][0]
        items.extend(_answer(spec, phase, ttype, tclass, [(i, avcs[i]) for i in indices]))
    return group(items)


def _answer(spec: SpecModel, phase: str, ttype: str, tclass: str,
            denied: list[tuple[int, Avc]]) -> list[Item]:
    """The answers for one request: what forbids, grants or the phase model decide, and
    statements for the rest."""
    domain = spec.domain(phase)
    perms = sorted({p for _, avc in denied for p in avc.perms})
    forbidden: dict[ir.ForbidPattern, list[str]] = {}
    granted: dict[ir.Origin, list[str]] = {}
    needed: list[str] = []
    excluded: dict[str, list[str]] = {}
    for perm in perms:
        pattern = checks.forbidding(spec, phase, ttype, tclass, perm)
        origin = checks.granting(spec, domain, ttype, tclass, perm)
        reason = checks.phase_model(spec, phase, ttype, tclass, perm)
        if pattern is not None:
            forbidden.setdefault(pattern, []).append(perm)
        elif origin is not None:
            granted.setdefault(origin, []).append(perm)
        elif reason is not None:
            excluded.setdefault(reason, []).append(perm)
        else:
            needed.append(perm)

    def covering(ps: Collection[str]) -> list[Covered]:
        return [(i, a, tuple(p for p in a.perms if p in ps)) for i, a in denied
                if any(p in ps for p in a.perms)]

    items = [explain.forbidden_item(spec, phase, pattern, covering(ps))
             for pattern, ps in forbidden.items()]
    items.extend(explain.granted_item(spec, phase, origin, covering(ps))
                 for origin, ps in granted.items())
    items.extend(Item(Kind.NONE, reason, covering(ps), spec.module.name, phase)
                 for reason, ps in excluded.items())
    if needed:
        ports = sorted({int(n) for _, a in denied for n in _PORT_FIELD.findall(a.raw)})
        for ps, outcome in cover(spec, phase, ttype, tclass, needed, ports):
            items.append(explain.statement_item(spec, phase, ttype, tclass, ps, outcome,
                                                covering(set(ps))))
    return items
