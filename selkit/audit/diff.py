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

from selkit.analysis.effective import Effective, Grant, Reach
from selkit.analysis.linked import inbound_linked, linked
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


def _grants(policy: Policy, types: frozenset[str], domain: str, inbound: bool) -> Effective:
    """The domain's grants; none when the policy has no such type (the domain was added or
    removed: every grant of the other side is a change). A grant under a boolean that the
    policy also gives unconditionally is left out, as sediff leaves it out: it changes nothing
    whatever the boolean."""
    if domain not in types:
        return {}
    grants = inbound_linked(policy, domain) if inbound else linked(policy, domain)
    return {g: reaches for g, reaches in grants.items()
            if g.conditional is None or Grant(g.target, g.tclass, g.perm) not in grants}


def _changes(domain: str, old: Effective, new: Effective, inbound: bool) -> list[GrantChange]:
    out = [GrantChange(domain, g, True, tuple(new[g]), inbound) for g in new.keys() - old.keys()]
    out += [GrantChange(domain, g, False, tuple(old[g]), inbound) for g in old.keys() - new.keys()]
    return out


def domain_diffs(old: Policy, new: Policy, domains: list[str]) -> list[DomainDiff]:
    """Per domain (in the order given, each once): the grants added and removed between
    ``old`` and ``new``, outbound and inbound, sorted."""
    old_types, new_types = _types(old), _types(new)
    out = []
    for domain in dict.fromkeys(domains):
        changes: list[GrantChange] = []
        for inbound in (False, True):
            changes += _changes(domain, _grants(old, old_types, domain, inbound),
                                _grants(new, new_types, domain, inbound), inbound)
        out.append(DomainDiff(domain, domain in old_types, domain in new_types,
                              tuple(sorted(changes, key=GrantChange.key))))
    return out


def changed_domains(old: Policy, new: Policy) -> list[str]:
    """The domains (types with the ``domain`` attribute on either side) whose allow rules may
    differ: every type named, directly or through an attribute, as the source of an allow rule
    that is in one policy and not the other, or whose attributes differ. A superset of the
    domains :func:`domain_diffs` finds changes for, cheap to compute (rules compared as
    written, not expanded)."""
    old_rules, new_rules = _written_allows(old), _written_allows(new)
    sources = {s for s, *_ in old_rules ^ new_rules}
    old_members, new_members = _attribute_members(old), _attribute_members(new)
    names: set[str] = set()
    for source in sources:
        names |= old_members.get(source, {source}) | new_members.get(source, {source})
    for attribute in old_members.keys() | new_members.keys():
        names |= old_members.get(attribute, set()) ^ new_members.get(attribute, set())
    domains = old_members.get("domain", set()) | new_members.get("domain", set())
    return sorted(names & domains)


def _written_allows(policy: Policy) -> set[tuple[str, str, str, frozenset[str], str]]:
    import setools  # noqa: PLC0415

    out = set()
    for rule in policy.terules():
        if rule.ruletype != setools.TERuletype.allow:
            continue
        try:
            cond = f"{rule.conditional} {rule.conditional_block}"
        except Exception:  # noqa: BLE001 - setools raises RuleNotConditional
            cond = ""
        out.add((str(rule.source), str(rule.target), str(rule.tclass),
                 frozenset(str(p) for p in rule.perms), cond))
    return out


def _attribute_members(policy: Policy) -> dict[str, set[str]]:
    return {str(a): {str(t) for t in a.expand()} for a in policy.typeattributes()}
