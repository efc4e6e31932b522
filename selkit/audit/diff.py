"""What changed for some domains between two linked policies.

A change is one grant (target type, class, permission, boolean condition; attributes expanded
on both sides, as :mod:`selkit.analysis.linked` reads them) that one policy gives a domain and
the other does not, with the rules that give it on the side that has it. The outbound grants
are what the domain may do; the inbound ones (process permissions only) who may act on it.

This is what ``sediff`` (SETools' ``PolicyDifference``) reports for the allow rules, restricted
to the domains asked about, without expanding every rule of both policies.

Each policy is read once, into its :class:`~selkit.analysis.allowtable.AllowTable`: pass the
tables of ``allow_table(PATH)`` (kept in the cache per policy file, so a second audit against
the same stock policy reads no rule with SETools) or SETools policy objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from selkit.analysis.allowtable import AllowTable, Row, allow_table, no_gc
from selkit.analysis.effective import INBOUND_CLASSES, Grant, Reach
from selkit.analysis.linked import Cells, GrantKey, linked_keys, proc_keys, rows_covering
from selkit.base import Policy


@dataclass(frozen=True, slots=True)
class GrantChange:
    """One grant a domain gained (``added``) or lost between the old and the new policy."""

    domain: str
    grant: Grant
    added: bool
    #: The rules that give the grant, on the side that holds it.
    reaches: tuple[Reach, ...]
    #: Outbound (what the domain may do) or inbound (another domain's process permission on
    #: it; ``grant.target`` is that other domain).
    inbound: bool = False

    def key(self) -> tuple[str, bool, tuple[str, str, str, str], bool]:
        """Sort key: domain, outbound first, grant, removals before additions."""
        return (self.domain, self.inbound, self.grant.key(), self.added)


@dataclass(frozen=True)
class DomainDiff:
    """Every change of one domain, and whether the domain exists on each side."""

    domain: str
    in_old: bool
    in_new: bool
    changes: tuple[GrantChange, ...]

    @property
    def added(self) -> tuple[GrantChange, ...]:
        """The grants the new policy gives and the old one did not."""
        return tuple(c for c in self.changes if c.added)

    @property
    def removed(self) -> tuple[GrantChange, ...]:
        """The grants the old policy gave and the new one does not."""
        return tuple(c for c in self.changes if not c.added)


#: Two policies to compare: SETools policy objects, or their tables (:func:`allow_table`
#: reads one from a policy file, through the cache).
Side = Policy | AllowTable


def _table(policy: Side) -> AllowTable:
    return policy if isinstance(policy, AllowTable) else allow_table(policy)


def _held(table: AllowTable, domain: str, inbound: bool, cells: Cells | None = None
          ) -> dict[GrantKey, list[Reach]]:
    """The domain's grants (in ``cells`` only, when given), without the grants under a boolean
    that are also given unconditionally: as sediff leaves them out, since they change nothing
    whatever the boolean."""
    return _unconditional_first(linked_keys(table, domain, inbound=inbound, cells=cells))


def _unconditional_first(grants: dict[GrantKey, list[Reach]]) -> dict[GrantKey, list[Reach]]:
    """``grants`` without those under a boolean that are also given unconditionally."""
    return {key: reaches for key, reaches in grants.items()
            if key[3] is None or (*key[:3], None) not in grants}


def proc_changes(old: Side, new: Side, domain: str) -> list[GrantChange]:
    """Who gained or lost access to ``domain``'s /proc/PID files (inbound changes on
    :data:`selkit.analysis.linked.PROC_CLASSES`; every such grant of the side that has the
    domain when only one has it)."""
    tables = [_table(p) for p in (old, new)]
    before, after = (_unconditional_first(proc_keys(t, domain)) if domain in t.types else {}
                     for t in tables)
    return sorted(_changes(domain, before, after, inbound=True), key=GrantChange.key)


def _changes(domain: str, old: dict[GrantKey, list[Reach]], new: dict[GrantKey, list[Reach]],
             inbound: bool) -> list[GrantChange]:
    out = [GrantChange(domain, Grant(*key), True, tuple(reaches), inbound)
           for key, reaches in new.items() if key not in old]
    out += [GrantChange(domain, Grant(*key), False, tuple(reaches), inbound)
            for key, reaches in old.items() if key not in new]
    return out


class _Side:
    """One policy's allow rules that cover a domain (as source, or for the inbound classes as
    target), as written: (other end, class, permissions, condition)."""

    def __init__(self, table: AllowTable, domain: str, inbound: bool) -> None:
        self.table = table
        self.domain = domain
        self.inbound = inbound
        self.rows = rows_covering(table, domain, "target" if inbound else "source")
        self.written = [(source if inbound else target, tclass, frozenset(perms), condition)
                        for source, target, tclass, perms, condition, _ in self.rows]

    def ends(self, index: int) -> frozenset[str]:
        """The types the other end of rule ``index`` stands for (the domain itself excluded
        inbound, as :func:`inbound_linked` excludes it)."""
        source, target, *_ = self.rows[index]
        found = self.table.expand(source if self.inbound else target)
        return found - {self.domain} if self.inbound else found


def _changed_cells(old: _Side, new: _Side) -> dict[str, set[str]]:
    """Class -> the other-end types whose grants may differ between the two sides: the ends of
    every rule written on one side only, and the types that joined or left an end that both
    sides' rules name. Any grant outside these cells comes from the same rules on both
    sides."""
    cells: dict[str, set[str]] = {}
    old_keys, new_keys = set(old.written), set(new.written)
    for side, others in ((old, new_keys), (new, old_keys)):
        for index, key in enumerate(side.written):
            if key not in others:
                cells.setdefault(key[1], set()).update(side.ends(index))
    old_ends = {key[0]: i for i, key in enumerate(old.written)}
    new_ends = {key[0]: i for i, key in enumerate(new.written)}
    classes: dict[str, set[str]] = {}
    for end, tclass, *_ in old.written + new.written:
        classes.setdefault(end, set()).add(tclass)
    for name in old_ends.keys() & new_ends.keys():
        moved = old.ends(old_ends[name]) ^ new.ends(new_ends[name])
        for tclass in classes[name] if moved else ():
            cells.setdefault(tclass, set()).update(moved)
    return cells


def _domain_changes(old: AllowTable, new: AllowTable, domain: str, inbound: bool
                    ) -> list[GrantChange]:
    """The changes of a domain both policies have, computed only in the cells that can
    differ (a domain such as init_t holds over a million grants; a change touches a few)."""
    cells = _changed_cells(_Side(old, domain, inbound), _Side(new, domain, inbound))
    if not cells:
        return []
    return _changes(domain, _held(old, domain, inbound, cells), _held(new, domain, inbound, cells),
                    inbound)


def domain_diffs(old: Side, new: Side, domains: list[str]) -> list[DomainDiff]:
    """Per domain (in the order given, each once): the grants added and removed between
    ``old`` and ``new``, outbound and inbound, sorted."""
    old, new = _table(old), _table(new)
    with no_gc():  # tens of thousands of grants, no cycle among them
        return [_domain_diff(old, new, domain) for domain in dict.fromkeys(domains)]


def _domain_diff(old: AllowTable, new: AllowTable, domain: str) -> DomainDiff:
    in_old, in_new = domain in old.types, domain in new.types
    changes: list[GrantChange] = []
    for inbound in (False, True):
        if in_old and in_new:
            changes += _domain_changes(old, new, domain, inbound)
        else:  # added or removed: every grant of the side that has it is a change
            changes += _changes(domain, _held(old, domain, inbound) if in_old else {},
                                _held(new, domain, inbound) if in_new else {}, inbound)
    return DomainDiff(domain, in_old, in_new, tuple(sorted(changes, key=GrantChange.key)))


def changed_domains(old: Side, new: Side) -> list[str]:
    """The domains (types with the ``domain`` attribute on either side) whose grants may
    differ, outbound or inbound: every type named, directly or through an attribute, as the
    source of an allow rule that is in one policy and not the other (or as its target, for the
    inbound classes), and every type that joined or left an attribute. A superset of the
    domains :func:`domain_diffs` finds changes for, cheap to compute (rules compared as
    written, not expanded)."""
    old, new = _table(old), _table(new)
    with no_gc():  # a hundred thousand rules a side
        old_rows = set(old.rows)
        differ = old_rows ^ set(new.rows)
        # A row's permissions are in the order of their bits, which two policies may number
        # apart: the rows that differ are compared again as written, permissions as sets.
        changed = (_as_written(row for row in differ if row in old_rows)
                   ^ _as_written(row for row in differ if row not in old_rows))
    ends = {s for s, *_ in changed} | {t for _, t, c, *_ in changed if c in INBOUND_CLASSES}
    old_members, new_members = old.attributes, new.attributes
    empty: frozenset[str] = frozenset()
    names: set[str] = set()
    for end in ends:
        names |= old_members.get(end, {end}) | new_members.get(end, {end})
    for attribute in old_members.keys() | new_members.keys():
        names |= old_members.get(attribute, empty) ^ new_members.get(attribute, empty)
    domains = old_members.get("domain", empty) | new_members.get("domain", empty)
    return sorted(names & domains)


def _as_written(rows: Iterable[Row]) -> set[tuple[str, str, str, frozenset[str], str | None]]:
    """Rules as written: (source, target, class, permissions, condition)."""
    return {(source, target, tclass, frozenset(perms), condition)
            for source, target, tclass, perms, condition, _ in rows}
