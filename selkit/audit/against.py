"""``selkit audit SPEC --against DOMAIN``: the spec's phase domains beside the distribution's
domain for the daemon, per category of dangerous permission.

The distribution's domain holds its permissions for the daemon's whole life; the spec splits
them into phases and drops what only startup needs at the switch. Two comparisons:

* *grants*: (target, class, permission) a domain holds, attributes expanded (the distribution's
  from the linked base policy, the phases' from the compositional engine);
* *permissions*: the (class, permission) pairs of those grants, whatever the target. The spec's
  types are not the distribution's (``openvpn_etc_t`` against the spec's own file types), so
  what the split removes and what the spec adds beyond the distribution are counted in
  permissions.

Conditional rules count as held under every boolean setting, as everywhere in selkit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from selkit.analysis.effective import Classified, Effective, Grant, Reach
from selkit.analysis.engines import Engine
from selkit.analysis.linked import linked, linked_once
from selkit.analysis.profile import ProfileSet
from selkit.analysis.views import module_view
from selkit.audit.categories import Category, CategoryMap, category_map, ordered
from selkit.base import Policy, load_policy
from selkit.cache import cache_root, file_identity, read_pickle, write_pickle
from selkit.diagnostics import Diagnostic, DiagnosticError, did_you_mean
from selkit.ir import nodes as ir
from selkit.ir.kb import KnowledgeBase

Perm = tuple[str, str]


@dataclass(frozen=True)
class Holding:
    """What one domain holds in one category."""

    grants: frozenset[Grant]          # unconditional form: (target, class, perm)
    perms: frozenset[Perm]
    #: The permissions held only through conditional rules (a boolean must be on).
    conditional: frozenset[Perm] = frozenset()


@dataclass(frozen=True)
class Row:
    """One category: the distribution's domain, each phase, and the two differences."""

    category: Category
    distribution: Holding
    phases: dict[str, Holding]
    #: Held by the distribution's domain, not by the steady phase: gone after the switch.
    removed: frozenset[Perm]
    #: Held by a phase, not by the distribution's domain (phase -> permissions).
    beyond: dict[str, frozenset[Perm]]


@dataclass(frozen=True)
class PhaseGrant:
    """A phase's grant in some category, and how it reaches the phase."""

    grant: Grant
    categories: tuple[Category, ...]
    kind: str                  # declared | baseline | leak
    at: str | None             # FILE:LINE of the spec statement (declared grants)
    way: str                   # the spec statement, or the base rule it comes through


@dataclass(frozen=True)
class Against:
    """The audit of one module against one distribution domain."""

    module: ir.PolicyModule
    domain: str
    policy: str
    rows: tuple[Row, ...]
    #: phase -> its grants in some category, sorted.
    grants: dict[str, tuple[PhaseGrant, ...]]

    @property
    def phases(self) -> list[tuple[str, str]]:
        """(phase, domain) in the spec's order."""
        return [(p.name, p.domain) for p in self.module.phases]

    def beyond_in(self, categories: Iterable[Category]) -> bool:
        """Whether some phase holds a permission of ``categories`` the distribution's domain
        does not (what ``--fail-on`` fails on)."""
        wanted = set(categories)
        return any(any(row.beyond.values()) for row in self.rows if row.category in wanted)

    @property
    def steady(self) -> str:
        """The phase the daemon serves in (the IR's :attr:`PolicyModule.steady`)."""
        return self.module.steady.name


def check_domain(kb: KnowledgeBase, domain: str) -> str:
    """``domain`` (an alias resolved), or SEL602/SEL603 when it is no type of the policy ``kb``
    reads or no domain (a type that is not in the attribute ``domain``)."""
    domains = kb.attribute_members.get("domain", frozenset())
    name = kb.canonical(domain)
    if name not in kb.types:
        what = "an attribute" if name in kb.attributes else "no type"
        raise DiagnosticError([Diagnostic(
            "SEL602", f"'{domain}' is {what} of the policy '{kb.source}'",
            hint=did_you_mean(domain, domains) or
            "name the distribution's domain for the daemon, e.g. openvpn_t "
            "(seinfo -adomain -x lists them)")])
    if name not in domains:
        raise DiagnosticError([Diagnostic(
            "SEL603", f"'{domain}' is a type of '{kb.source}' but not a domain",
            hint=did_you_mean(domain, domains) or
            "name a process type (a member of the attribute domain)")])
    return name


def holdings(effective: Iterable[Grant], domain: str, cmap: CategoryMap
             ) -> dict[Category, Holding]:
    """What ``domain`` holds in each category, given its effective grants."""
    grants: dict[Category, set[Grant]] = {c: set() for c in Category}
    plain: dict[Category, set[Perm]] = {c: set() for c in Category}
    for g in effective:
        for category in cmap.of(g.tclass, g.perm, g.target, domain):
            grants[category].add(Grant(g.target, g.tclass, g.perm))
            if g.conditional is None:
                plain[category].add((g.tclass, g.perm))
    out = {}
    for c in Category:
        perms = frozenset((g.tclass, g.perm) for g in grants[c])
        out[c] = Holding(frozenset(grants[c]), perms, perms - plain[c])
    return out


def _at(reaches: list[Reach]) -> tuple[str | None, str]:
    origin = next((r.origin for r in reaches if r.origin is not None), None)
    if origin is not None:
        return f"{origin.span.path}:{origin.span.line}", origin.statement
    first = reaches[0] if reaches else None
    return None, first.statement if first else ""


def _phase_grants(classified: Classified, domain: str, cmap: CategoryMap
                  ) -> tuple[PhaseGrant, ...]:
    out = []
    for grant in sorted(classified.all, key=Grant.key):
        categories = cmap.of(grant.tclass, grant.perm, grant.target, domain)
        if not categories:
            continue
        kind = ("declared" if grant in classified.declared else
                "baseline" if grant in classified.baseline else "leak")
        at, way = _at(classified.reaches(grant))
        out.append(PhaseGrant(grant, tuple(c for c in Category if c in categories), kind, at,
                              way))
    return tuple(out)


def compare(module: ir.PolicyModule, domain: str, policy_path: str, distribution: Effective,
            phases: dict[str, Classified], cmap: CategoryMap) -> Against:
    """The audit from what each side holds (pure: the engines' answers are its inputs)."""
    dist = holdings(distribution, domain, cmap)
    held = {p.name: holdings(phases[p.name].all, p.domain, cmap) for p in module.phases}
    steady = module.steady.name
    rows = []
    for c in ordered():
        rows.append(Row(
            c, dist[c], {name: h[c] for name, h in held.items()},
            removed=dist[c].perms - held[steady][c].perms,
            beyond={name: h[c].perms - dist[c].perms for name, h in held.items()}))
    grants = {p.name: _phase_grants(phases[p.name], p.domain, cmap) for p in module.phases}
    return Against(module, domain, policy_path, tuple(rows), grants)


def audit_against(module: ir.PolicyModule, kb: KnowledgeBase, profiles: ProfileSet,
                  policy: Policy, domain: str, colinked: tuple[ir.PolicyModule, ...] = ()
                  ) -> Against:
    """``module``'s phases (compositional engine) beside ``domain`` of ``policy``, the binary
    policy ``kb`` was read from; SEL602/SEL603 when ``domain`` is no domain of it."""
    name = check_domain(kb, domain)
    return audit_held(module, kb, profiles, name, linked(policy, name), colinked)


def audit_held(module: ir.PolicyModule, kb: KnowledgeBase, profiles: ProfileSet, domain: str,
               held: Effective, colinked: tuple[ir.PolicyModule, ...] = ()) -> Against:
    """:func:`audit_against` with the distribution domain's grants given (``held``, e.g. from
    :func:`held_by`); ``domain`` is checked already."""
    view = module_view(module, kb, profiles, engine=Engine.COMPOSITIONAL, colinked=colinked)
    return compare(module, domain, kb.source, held, view.phases, category_map(kb.classes))


#: Bump when what :func:`held_by` keeps changes (shape or meaning), so old cache entries are
#: ignored. held-2: a grant of a rule in a boolean's false branch carries the negated condition.
HELD_FORMAT = "held-2"


def held_by(policy_path: str, domain: str) -> Effective:
    """The grants of ``domain`` in the binary policy at ``policy_path``, kept in the cache
    (keyed by the policy file's identity): reading the policy and its 130,000 rules is most of
    an audit's time, and the distribution's policy rarely changes."""
    key = hashlib.sha256("\0".join([HELD_FORMAT, domain, *file_identity(policy_path)])
                         .encode()).hexdigest()[:32]
    path = cache_root() / "audit" / f"{key}.pickle"
    found = read_pickle(path, dict)
    if found is None:
        found = linked_once(load_policy(policy_path), domain)
        write_pickle(path, found)
    return found
