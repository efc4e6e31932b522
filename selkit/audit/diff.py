"""What changed for some domains between two linked policies.

A change is one grant (target type, class, permission, boolean condition; attributes expanded
on both sides, as :mod:`selkit.analysis.linked` reads them) that one policy gives a domain and
the other does not, with the rules that give it on the side that has it. The outbound grants
are what the domain may do; the inbound ones (process permissions only) who may act on it.

This is what ``sediff`` (SETools' ``PolicyDifference``) reports for the allow rules, restricted
to the domains asked about, without expanding every rule of both policies.
"""

from __future__ import annotations

from dataclasses import dataclass

from selkit.analysis.conditions import rule_condition
from selkit.analysis.effective import INBOUND_CLASSES, Effective, Grant, Reach
from selkit.analysis.linked import Cells, inbound_linked, linked, members, rules_covering
from selkit.base import Policy


@dataclass(frozen=True)
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


def _types(policy: Policy) -> frozenset[str]:
    return frozenset(str(t) for t in policy.types())


def _held(policy: Policy, domain: str, inbound: bool, cells: Cells | None = None) -> Effective:
    """The domain's grants (in ``cells`` only, when given), without the grants under a boolean
    that are also given unconditionally: as sediff leaves them out, since they change nothing
    whatever the boolean."""
    grants = (inbound_linked if inbound else linked)(policy, domain, cells)
    return {g: reaches for g, reaches in grants.items()
            if g.conditional is None or Grant(g.target, g.tclass, g.perm) not in grants}


def _changes(domain: str, old: Effective, new: Effective, inbound: bool) -> list[GrantChange]:
    out = [GrantChange(domain, g, True, tuple(new[g]), inbound) for g in new.keys() - old.keys()]
    out += [GrantChange(domain, g, False, tuple(old[g]), inbound) for g in old.keys() - new.keys()]
    return out


class _Side:
    """One policy's allow rules that cover a domain (as source, or for the inbound classes as
    target), as written: (other end, class, permissions, condition)."""

    def __init__(self, policy: Policy, domain: str, inbound: bool) -> None:
        self.policy = policy
        self.domain = domain
        self.inbound = inbound
        self.rules = rules_covering(policy, domain, "target" if inbound else "source")
        self.written = [(str(r.source if inbound else r.target), str(r.tclass),
                         frozenset(r.perms), rule_condition(r)) for r in self.rules]

    def ends(self, index: int) -> frozenset[str]:
        """The types the other end of rule ``index`` stands for (the domain itself excluded
        inbound, as :func:`inbound_linked` excludes it)."""
        rule = self.rules[index]
        found = members(self.policy, rule.source if self.inbound else rule.target)
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


def _domain_changes(old: Policy, new: Policy, domain: str, inbound: bool
                    ) -> list[GrantChange]:
    """The changes of a domain both policies have, computed only in the cells that can
    differ (a domain such as init_t holds over a million grants; a change touches a few)."""
    cells = _changed_cells(_Side(old, domain, inbound), _Side(new, domain, inbound))
    return _changes(domain, _held(old, domain, inbound, cells), _held(new, domain, inbound, cells),
                    inbound)


def domain_diffs(old: Policy, new: Policy, domains: list[str]) -> list[DomainDiff]:
    """Per domain (in the order given, each once): the grants added and removed between
    ``old`` and ``new``, outbound and inbound, sorted."""
    old_types, new_types = _types(old), _types(new)
    out = []
    for domain in dict.fromkeys(domains):
        changes: list[GrantChange] = []
        both = domain in old_types and domain in new_types
        for inbound in (False, True):
            if both:
                changes += _domain_changes(old, new, domain, inbound)
            else:  # added or removed: every grant of the side that has it is a change
                changes += _changes(
                    domain, _held(old, domain, inbound) if domain in old_types else {},
                    _held(new, domain, inbound) if domain in new_types else {}, inbound)
        out.append(DomainDiff(domain, domain in old_types, domain in new_types,
                              tuple(sorted(changes, key=GrantChange.key))))
    return out


def changed_domains(old: Policy, new: Policy) -> list[str]:
    """The domains (types with the ``domain`` attribute on either side) whose grants may
    differ, outbound or inbound: every type named, directly or through an attribute, as the
    source of an allow rule that is in one policy and not the other (or as its target, for the
    inbound classes), and every type that joined or left an attribute. A superset of the
    domains :func:`domain_diffs` finds changes for, cheap to compute (rules compared as
    written, not expanded)."""
    changed = _written_allows(old) ^ _written_allows(new)
    ends = {s for s, *_ in changed} | {t for _, t, c, *_ in changed if c in INBOUND_CLASSES}
    old_members, new_members = _attribute_members(old), _attribute_members(new)
    names: set[str] = set()
    for end in ends:
        names |= old_members.get(end, {end}) | new_members.get(end, {end})
    for attribute in old_members.keys() | new_members.keys():
        names |= old_members.get(attribute, set()) ^ new_members.get(attribute, set())
    domains = old_members.get("domain", set()) | new_members.get("domain", set())
    return sorted(names & domains)


def _written_allows(policy: Policy) -> set[tuple[str, str, str, frozenset[str], str | None]]:
    import setools  # noqa: PLC0415

    allow = setools.TERuletype.allow
    return {(str(rule.source), str(rule.target), str(rule.tclass), frozenset(rule.perms),
             rule_condition(rule)) for rule in policy.terules() if rule.ruletype == allow}


def _attribute_members(policy: Policy) -> dict[str, set[str]]:
    return {str(a): {str(t) for t in a.expand()} for a in policy.typeattributes()}
