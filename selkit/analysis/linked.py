"""Reading a linked kernel policy with SETools.

* :func:`linked` and :func:`inbound_linked` — the linked engine: a domain's grants (and who may
  act on it as a process) as :mod:`selkit.analysis.effective` counts them, answered from one
  index of the policy's allow rules (built on the first question, kept with the policy);
  :func:`linked_once` answers one question in one pass, without the index.
* :func:`facts_about` — every fact the policy holds about some types, flattened for exact
  comparison of two policies (:meth:`RuleFacts.difference`).
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from selkit.analysis.conditions import rule_condition
from selkit.analysis.effective import INBOUND_CLASSES, Effective, Grant, Reach
from selkit.analysis.profile import PROBE_SELF
from selkit.base import Policy

#: Class -> the types at a rule's other end to keep (the target outbound, the source inbound).
Cells = Mapping[str, AbstractSet[str]]


def linked(policy: Policy, domain: str, cells: Cells | None = None) -> Effective:
    """Grants of ``domain`` in a linked kernel policy (every allow rule whose source covers
    it); with ``cells``, only the grants on those classes and target types."""
    index = _index(policy)
    return _grants(index.rules(domain, by="source"), domain, index.members, cells=cells)


def inbound_linked(policy: Policy, domain: str, cells: Cells | None = None) -> Effective:
    """Who may act on ``domain`` as a process in a linked policy (``Grant.target`` is the
    source domain); with ``cells``, only those classes and source types."""
    index = _index(policy)
    return _grants(index.rules(domain, by="target"), domain, index.members, inbound=True,
                   cells=cells)


def linked_once(policy: Policy, domain: str) -> Effective:
    """What :func:`linked` answers, in one pass over the policy's rules without building the
    index: for a single question (``selkit audit --against``) the index costs three times the
    pass. LookupError when the policy has no such type."""
    import setools  # noqa: PLC0415

    try:
        names = {domain} | {str(a) for a in policy.lookup_type(domain).attributes()}
    except setools.exception.InvalidType:
        raise LookupError(f"'{domain}' is not a type of the linked policy") from None
    allow = setools.TERuletype.allow
    return _grants((rule for rule in policy.terules()
                    if rule.ruletype == allow and str(rule.source) in names), domain, _expand)


def _expand(name_obj: Any) -> frozenset[str]:
    return frozenset(str(t) for t in name_obj.expand())


def _grants(rules: Iterable[Any], domain: str, expand: Callable[[Any], frozenset[str]], *,
            inbound: bool = False, cells: Cells | None = None) -> Effective:
    """The grants the allow rules covering ``domain`` give: on each type of the rule's target
    (outbound), or to each type of its source but the domain (inbound)."""
    out: Effective = defaultdict(list)
    for rule in rules:
        tclass = str(rule.tclass)
        if cells is not None and tclass not in cells:
            continue
        source = str(rule.source)
        ends = expand(rule.source) - {domain} if inbound else expand(rule.target)
        if cells is not None:
            ends = ends & cells[tclass]
        if not ends:
            continue
        cond = rule_condition(rule)
        reach = Reach(PROBE_SELF if not inbound and source == domain else source,
                      str(rule).split("\n")[0])
        for end in ends:
            for perm in rule.perms:
                out[Grant(end, tclass, perm, cond)].append(reach)
    return dict(out)


class _AllowIndex:
    """The allow rules of a linked policy, grouped by the name written as their source (and,
    for the classes of :data:`INBOUND_CLASSES`, as their target), in one pass over the policy.

    It answers what ``setools.TERuleQuery(policy, source=domain, ruletype=["allow"])`` (and the
    ``target=domain, tclass=INBOUND_CLASSES`` query) answers: the rules whose source (target)
    expands to include the domain, in the policy's order. A query scans every rule of the
    policy (130,000 in Debian's); a prover asks two per phase domain.
    """

    def __init__(self, policy: Policy) -> None:
        import setools  # noqa: PLC0415

        allow = setools.TERuletype.allow
        self._by: dict[str, dict[str, list[tuple[int, Any]]]] = {
            "source": defaultdict(list), "target": defaultdict(list)}
        self._named: dict[str, dict[str, Any]] = {"source": {}, "target": {}}
        for position, rule in enumerate(policy.terules()):
            if rule.ruletype != allow:
                continue
            self._add("source", rule.source, position, rule)
            if str(rule.tclass) in INBOUND_CLASSES:
                self._add("target", rule.target, position, rule)
        self._covering: dict[str, dict[str, list[str]]] = {}
        self._types = frozenset(str(t) for t in policy.types())
        self._members: dict[str, frozenset[str]] = {}

    def members(self, name_obj: Any) -> frozenset[str]:
        """The types a type or attribute of the policy stands for (cached by name)."""
        name = str(name_obj)
        found = self._members.get(name)
        if found is None:
            found = self._members[name] = _expand(name_obj)
        return found

    def _add(self, side: str, name_obj: Any, position: int, rule: Any) -> None:
        name = str(name_obj)
        self._named[side].setdefault(name, name_obj)
        self._by[side][name].append((position, rule))

    def rules(self, domain: str, by: str) -> list[Any]:
        """The allow rules whose ``by`` side (``source`` or ``target``) covers ``domain``;
        LookupError when the policy has no such type (an empty answer would read as "holds")."""
        if domain not in self._types:
            raise LookupError(f"'{domain}' is not a type of the linked policy")
        found = [item for name in self._names_covering(by).get(domain, ())
                 for item in self._by[by][name]]
        return [rule for _, rule in sorted(found, key=lambda item: item[0])]

    def _names_covering(self, side: str) -> dict[str, list[str]]:
        """type -> the names written on ``side`` whose expansion holds it (built once)."""
        if side not in self._covering:
            covering: dict[str, list[str]] = defaultdict(list)
            for name, obj in self._named[side].items():
                for member in self.members(obj):
                    covering[member].append(name)
            self._covering[side] = covering
        return self._covering[side]


_INDEXES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def rules_covering(policy: Policy, domain: str, by: str = "source") -> list[Any]:
    """The allow rules whose source (``by="source"``) or, for :data:`INBOUND_CLASSES`, target
    (``by="target"``) covers ``domain``, in the policy's order."""
    return _index(policy).rules(domain, by)


def source_groups(policy: Policy) -> dict[str, list[Any]]:
    """The allow rules grouped by the name written as their source (a type or attribute), each
    group in the policy's order: a caller that asks about every domain (``selkit audit --all``)
    summarises each group once and merges the groups covering a domain
    (:func:`names_covering`), instead of expanding every rule per domain."""
    index = _index(policy)
    return {name: [rule for _, rule in items] for name, items in index._by["source"].items()}


def names_covering(policy: Policy, domain: str) -> list[str]:
    """The names written as a source (the domain, its attributes) whose rules cover ``domain``;
    LookupError when the policy has no such type."""
    index = _index(policy)
    if domain not in index._types:
        raise LookupError(f"'{domain}' is not a type of the linked policy")
    return list(index._names_covering("source").get(domain, ()))


def members(policy: Policy, name_obj: Any) -> frozenset[str]:
    """The types a type or attribute of ``policy`` stands for."""
    return _index(policy).members(name_obj)


def _index(policy: Policy) -> _AllowIndex:
    """The policy's allow-rule index, built on first use and kept as long as the policy."""
    found = _INDEXES.get(policy)
    if found is None:
        found = _INDEXES[policy] = _AllowIndex(policy)
    return found


@dataclass(frozen=True)
class RuleFacts:
    """Every fact a linked policy holds about some types, with attributes expanded."""

    allows: frozenset[tuple[str, str, str, str]]          # (source, target, class, perm)
    conditional: frozenset[tuple[str, str, str, str, str]]  # + the boolean expression
    transitions: frozenset[tuple[str, str, str, str]]     # (source, target, class, default)
    bounds: frozenset[tuple[str, str]]                    # (parent, child)
    attributes: frozenset[tuple[str, str]]                # (type, attribute)

    def difference(self, other: RuleFacts) -> dict[str, list]:
        """Facts only in self and only in other, per kind (empty lists when equal)."""
        out = {}
        for name in ("allows", "conditional", "transitions", "bounds", "attributes"):
            mine, theirs = getattr(self, name), getattr(other, name)
            out[name] = sorted(mine - theirs) + [("<missing>",) + t for t in sorted(theirs - mine)]
        return out


def facts_about(policy: Policy, types: frozenset[str]) -> RuleFacts:
    """Every allow/type_transition/typebounds touching ``types``, attributes expanded."""
    allows, conditional, transitions = set(), set(), set()
    for rule in policy.terules():
        ruletype = str(rule.ruletype)
        if ruletype not in ("allow", "type_transition"):
            continue
        sources = {str(t) for t in rule.source.expand()}
        targets = {str(t) for t in rule.target.expand()}
        if not (sources & types or targets & types):
            continue
        for s in sources:
            for t in targets:
                if s not in types and t not in types:
                    continue
                if ruletype == "type_transition":
                    transitions.add((s, t, str(rule.tclass), str(rule.default)))
                    continue
                cond = rule_condition(rule)
                for perm in rule.perms:
                    if cond:
                        conditional.add((s, t, str(rule.tclass), perm, cond))
                    else:
                        allows.add((s, t, str(rule.tclass), perm))
    bounds = {(str(b.parent), str(b.child)) for b in policy.bounds()
              if str(b.parent) in types or str(b.child) in types}
    attributes = set()
    for attr in policy.typeattributes():
        for t in attr.expand():
            if str(t) in types:
                attributes.add((str(t), str(attr)))
    return RuleFacts(frozenset(allows), frozenset(conditional), frozenset(transitions),
                     frozenset(bounds), frozenset(attributes))
