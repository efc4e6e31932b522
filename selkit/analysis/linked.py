"""Reading a linked kernel policy with SETools.

* :func:`linked` and :func:`inbound_linked` — the linked engine: a domain's grants (and who may
  act on it as a process) as :mod:`selkit.analysis.effective` counts them, answered from one
  index of the policy's allow rules (its :class:`~selkit.analysis.allowtable.AllowTable`,
  read on the first question and kept with the policy);
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

from selkit.analysis.allowtable import AllowTable, Row, attributes_of, row_of, scan, statement
from selkit.analysis.conditions import rule_condition
from selkit.analysis.effective import INBOUND_CLASSES, Effective, Grant, Reach
from selkit.analysis.profile import PROBE_SELF
from selkit.base import Policy

#: Class -> the types at a rule's other end to keep (the target outbound, the source inbound).
Cells = Mapping[str, AbstractSet[str]]


def linked(policy: Policy | AllowTable, domain: str, cells: Cells | None = None) -> Effective:
    """Grants of ``domain`` in a linked kernel policy (every allow rule whose source covers
    it); with ``cells``, only the grants on those classes and target types."""
    return _as_grants(linked_keys(policy, domain, cells=cells))


def inbound_linked(policy: Policy | AllowTable, domain: str, cells: Cells | None = None
                   ) -> Effective:
    """Who may act on ``domain`` as a process in a linked policy (``Grant.target`` is the
    source domain); with ``cells``, only those classes and source types."""
    return _as_grants(linked_keys(policy, domain, inbound=True, cells=cells))


#: A grant's fields as a plain tuple: (target, class, permission, condition).
GrantKey = tuple[str, str, str, str | None]


def linked_keys(policy: Policy | AllowTable, domain: str, *, inbound: bool = False,
                cells: Cells | None = None) -> dict[GrantKey, list[Reach]]:
    """What :func:`linked` (``inbound``: :func:`inbound_linked`) answers, keyed by the grants'
    fields: cheaper for a caller that compares many grants and keeps few (the audit diff)."""
    index = _index(policy)
    return _grant_keys(index.rows(domain, by="target" if inbound else "source"), domain,
                       index.members, inbound=inbound, cells=cells)


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
    attributes = attributes_of(policy)

    def expand(name: str) -> frozenset[str]:
        found = attributes.get(name)
        return frozenset((name,)) if found is None else found

    return _as_grants(_grant_keys([row_of(rule) for rule in policy.terules()
                                   if rule.ruletype == allow and str(rule.source) in names],
                                  domain, expand))


#: The classes of a process's /proc/PID files (labelled with its domain): reading them tells
#: another domain what the process is doing (its memory maps, environment, fds).
PROC_CLASSES = ("dir", "file", "lnk_file")


def proc_keys(policy: Policy | AllowTable, domain: str) -> dict[GrantKey, list[Reach]]:
    """Who may open ``domain``'s /proc/PID files (:data:`PROC_CLASSES` on the domain's type, by
    another domain): the inbound grants, keyed as :func:`linked_keys` keys them. One pass over
    the policy's rows (the index holds targets for the process classes only)."""
    table = _index(policy).table
    if domain not in table.types:
        raise LookupError(f"'{domain}' is not a type of the linked policy")
    rows = [row for row in table.rows
            if row[2] in PROC_CLASSES and domain in table.expand(row[1])]
    return _grant_keys(rows, domain, table.expand, inbound=True)


def _as_grants(keys: dict[GrantKey, list[Reach]]) -> Effective:
    return {Grant(*key): reaches for key, reaches in keys.items()}


def _grant_keys(rows: Iterable[Row], domain: str, expand: Callable[[str], frozenset[str]], *,
                inbound: bool = False, cells: Cells | None = None
                ) -> dict[GrantKey, list[Reach]]:
    """The grants the allow rules covering ``domain`` give: on each type of the rule's target
    (outbound), or to each type of its source but the domain (inbound)."""
    out: dict[GrantKey, list[Reach]] = defaultdict(list)
    for row in rows:
        source, target, tclass, perms, cond, _ = row
        if cells is not None and tclass not in cells:
            continue
        ends = expand(source) - {domain} if inbound else expand(target)
        if cells is not None:
            ends = ends & cells[tclass]
        if not ends:
            continue
        reach = Reach(PROBE_SELF if not inbound and source == domain else source,
                      statement(row))
        for end in ends:
            for perm in perms:
                out[(end, tclass, perm, cond)].append(reach)
    return dict(out)


class _AllowIndex:
    """The allow rules of a linked policy (its :class:`AllowTable`), grouped by the name
    written as their source (and, for the classes of :data:`INBOUND_CLASSES`, as their
    target).

    It answers what ``setools.TERuleQuery(policy, source=domain, ruletype=["allow"])`` (and the
    ``target=domain, tclass=INBOUND_CLASSES`` query) answers: the rules whose source (target)
    expands to include the domain, in the policy's order. A query scans every rule of the
    policy (130,000 in Debian's); a prover asks two per phase domain.
    """

    def __init__(self, table: AllowTable) -> None:
        self.table = table
        by_source: dict[str, list[int]] = defaultdict(list)
        by_target: dict[str, list[int]] = defaultdict(list)
        for position, row in enumerate(table.rows):  # (indexing a row beats unpacking it)
            by_source[row[0]].append(position)
            if row[2] in INBOUND_CLASSES:
                by_target[row[1]].append(position)
        self._by = {"source": by_source, "target": by_target}
        self._covering: dict[str, dict[str, list[str]]] = {}

    def members(self, name: str) -> frozenset[str]:
        """The types a type or attribute name of the policy stands for."""
        return self.table.expand(name)

    def positions(self, domain: str, by: str) -> list[int]:
        """The positions (in the table) of the allow rules whose ``by`` side (``source`` or
        ``target``) covers ``domain``; LookupError when the policy has no such type (an empty
        answer would read as "holds")."""
        if domain not in self.table.types:
            raise LookupError(f"'{domain}' is not a type of the linked policy")
        return sorted(position for name in self._names_covering(by).get(domain, ())
                      for position in self._by[by][name])

    def rows(self, domain: str, by: str) -> list[Row]:
        """The rows of :meth:`positions`."""
        rows = self.table.rows
        return [rows[position] for position in self.positions(domain, by)]

    def _names_covering(self, side: str) -> dict[str, list[str]]:
        """type -> the names written on ``side`` whose expansion holds it (built once)."""
        if side not in self._covering:
            covering: dict[str, list[str]] = defaultdict(list)
            for name in self._by[side]:
                for member in self.members(name):
                    covering[member].append(name)
            self._covering[side] = covering
        return self._covering[side]


_INDEXES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_RULES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def rules_covering(policy: Policy, domain: str, by: str = "source") -> list[Any]:
    """The allow rules whose source (``by="source"``) or, for :data:`INBOUND_CLASSES`, target
    (``by="target"``) covers ``domain``, in the policy's order (SETools' rule objects)."""
    positions = _index(policy).positions(domain, by)
    rules = _RULES.get(policy)
    if rules is None:
        import setools  # noqa: PLC0415

        allow = setools.TERuletype.allow
        rules = _RULES[policy] = [rule for rule in policy.terules() if rule.ruletype == allow]
    return [rules[position] for position in positions]


def rows_covering(policy: Policy | AllowTable, domain: str, by: str = "source") -> list[Row]:
    """:func:`rules_covering` as the rows of the policy's :class:`AllowTable`."""
    return _index(policy).rows(domain, by)


def source_groups(policy: Policy | AllowTable) -> dict[str, list[Row]]:
    """The allow rules (rows) grouped by the name written as their source (a type or
    attribute), each group in the policy's order: a caller that asks about every domain
    (``selkit audit --all``) summarises each group once and merges the groups covering a
    domain (:func:`names_covering`), instead of expanding every rule per domain."""
    index = _index(policy)
    rows = index.table.rows
    return {name: [rows[p] for p in positions] for name, positions in index._by["source"].items()}


def names_covering(policy: Policy | AllowTable, domain: str) -> list[str]:
    """The names written as a source (the domain, its attributes) whose rules cover ``domain``;
    LookupError when the policy has no such type."""
    index = _index(policy)
    if domain not in index.table.types:
        raise LookupError(f"'{domain}' is not a type of the linked policy")
    return list(index._names_covering("source").get(domain, ()))


def members(policy: Policy | AllowTable, name_obj: Any) -> frozenset[str]:
    """The types a type or attribute of ``policy`` (an object of it, or its name) stands for."""
    return _index(policy).members(str(name_obj))


def _index(policy: Policy | AllowTable) -> _AllowIndex:
    """The policy's allow-rule index, built on first use and kept as long as its table (which
    is kept as long as the policy)."""
    table = policy if isinstance(policy, AllowTable) else scan(policy)
    found = _INDEXES.get(table)
    if found is None:
        found = _INDEXES[table] = _AllowIndex(table)
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
