"""``selkit audit OLD NEW``: what changed for each phase (or domain) between two sides, with
the category, the rule and, where a spec is on that side, the spec line of every change.

Phases are matched by name (daemon and phase) when both sides are specs, otherwise by domain
name; a phase whose domain was renamed is compared under its new name (a grant on the old
name of the domain itself counts as the same grant on the new one). When neither side says
which domains it is about (two kernel policies), the domains are the ones whose rules changed.

Also compared, for the whole policy: typebounds of the audited domains, booleans (added,
removed, default changed, and those that guard a change), port contexts, and, where both
sides are modules or specs, the file contexts they declare.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from selkit.analysis.allowtable import AllowTable, allow_table
from selkit.analysis.effective import Grant, Reach
from selkit.analysis.linked import linked
from selkit.analysis.profile import PROBE_SELF
from selkit.audit.against import holdings
from selkit.audit.categories import Category, CategoryMap, Severity, category_map, ordered
from selkit.audit.diff import GrantChange, changed_domains, domain_diffs, proc_changes
from selkit.audit.sides import Side, SideKind, Subject
from selkit.base import Policy
from selkit.base.policy import PortRange, policy_classes, policy_portcons
from selkit.ir import nodes as ir

Perm = tuple[str, str]
#: A linked policy's allow rules: its table, or the SETools policy to read them from.
Rules = Policy | AllowTable


@dataclass(frozen=True)
class Change:
    """One grant a phase gained (``added``) or lost, or, ``inbound``, a process permission
    another domain (``grant.target``) gained or lost on it."""

    subject: str
    domain: str                        # the phase's domain on the side that holds the grant
    grant: Grant
    added: bool
    inbound: bool
    categories: tuple[Category, ...]
    rule: str                          # the rule that gives it, on the side that holds it
    at: str | None = None              # FILE:LINE of the spec statement, for a spec side
    statement: str | None = None       # that statement
    #: The modules of a store that write the rule (drift audits).
    modules: tuple[str, ...] = ()

    @property
    def severity(self) -> Severity | None:
        """The highest severity of its categories (None: in no category)."""
        ranks = [c.severity for c in self.categories]
        return min(ranks, key=list(Severity).index) if ranks else None


@dataclass(frozen=True)
class SubjectChanges:
    """Every change of one phase (or domain), and how many pairs each side holds."""

    subject: str
    old_domain: str | None             # None: not on the old side
    new_domain: str | None
    changes: tuple[Change, ...]
    #: Category -> (class:permission pairs held on the old side, on the new side); empty when
    #: the sides do not say which domains they are about (held counts of a whole policy's
    #: changed domains cost more than their changes).
    held: dict[Category, tuple[int, int]]


@dataclass(frozen=True)
class Toggle:
    """A boolean: its default on each side (None: absent), and whether it guards a change."""

    name: str
    old: bool | None
    new: bool | None
    guards: bool


@dataclass(frozen=True)
class PolicyChanges:
    """The audit of two sides."""

    old: Side
    new: Side
    subjects: tuple[SubjectChanges, ...]
    #: (parent, child, added) of the typebounds that touch an audited domain.
    bounds: tuple[tuple[str, str, bool], ...]
    booleans: tuple[Toggle, ...]
    #: (port range, added).
    ports: tuple[tuple[PortRange, bool], ...]
    #: (regex, kind, type, added); None when a side is a kernel policy (no file contexts).
    file_contexts: tuple[tuple[str, str, str, bool], ...] | None

    def crossing(self, categories: Iterable[Category]) -> list[Change]:
        """The added changes in any of ``categories`` (what ``--fail-on`` fails on)."""
        wanted = set(categories)
        return [c for s in self.subjects for c in s.changes
                if c.added and wanted.intersection(c.categories)]


def pairs(old: Side, new: Side, old_policy: Rules, new_policy: Rules
          ) -> list[tuple[str, str | None, str | None]]:
    """(label, old domain, new domain) of every subject, matched by phase name when both
    sides are specs, else by domain name."""
    old_types, new_types = _types(old_policy), _types(new_policy)
    if not old.subjects and not new.subjects:
        return [(d, d if d in old_types else None, d if d in new_types else None)
                for d in changed_domains(old_policy, new_policy)]
    if old.kind is SideKind.SPEC and new.kind is SideKind.SPEC:
        olds = {(s.daemon, s.phase): s for s in old.subjects}
        news = {(s.daemon, s.phase): s for s in new.subjects}
        keys = list(dict.fromkeys([*olds, *news]))
        return [((news.get(k) or olds[k]).label,
                 olds[k].domain if k in olds else None, news[k].domain if k in news else None)
                for k in keys]
    named: dict[str, Subject] = {}
    for s in (*old.subjects, *new.subjects):  # a phase's name before a module's domain name
        if s.domain not in named or (s.phase and not named[s.domain].phase):
            named[s.domain] = s
    return [(named[d].label, d if d in old_types else None, d if d in new_types else None)
            for d in named]


def _types(rules: Rules) -> frozenset[str]:
    return rules.types if isinstance(rules, AllowTable) else frozenset(
        str(t) for t in rules.types())


def audit_changes(old: Side, new: Side, old_policy: Policy, new_policy: Policy) -> PolicyChanges:
    """Compare the two sides' policies for every subject (and the whole-policy facts). The
    allow rules are read through the cache of each policy file's table (selkit.analysis.
    allowtable), the rest (classes, bounds, booleans, ports) from the policies."""
    cmap = category_map(policy_classes(new_policy) | policy_classes(old_policy))
    old_rules, new_rules = allow_table(old.policy_path), allow_table(new.policy_path)
    subjects = []
    audited: set[str] = set()
    with_held = bool(old.subjects or new.subjects)
    for label, od, nd in pairs(old, new, old_rules, new_rules):
        audited |= {d for d in (od, nd) if d}
        raw = _raw_changes(old_rules, new_rules, od, nd)
        if with_held and (od == nd or None in (od, nd)):  # who may read its /proc files
            raw = sorted(raw + proc_changes(old_rules, new_rules, od or nd or ""),
                         key=GrantChange.key)
        changes = tuple(_change(label, g, old if not g.added else new, cmap) for g in raw)
        held = _held(old_rules, od, new_rules, nd, cmap) if with_held else {}
        subjects.append(SubjectChanges(label, od, nd, changes, held))
    guards = {name for s in subjects for c in s.changes if c.grant.conditional
              for name in _names(c.grant.conditional)}
    return PolicyChanges(
        old, new, tuple(subjects), _bounds(old_policy, new_policy, audited),
        _booleans(old_policy, new_policy, guards), _ports(old_policy, new_policy),
        _file_contexts(old, new))


def _raw_changes(old: Rules, new: Rules, od: str | None, nd: str | None) -> list[GrantChange]:
    """The grant changes of a subject; for a renamed domain, the changes left after the old
    name's grants are matched to the new name's (self-grants follow the rename)."""
    if od == nd or od is None or nd is None:
        domain = od or nd
        assert domain is not None
        return list(domain_diffs(old, new, [domain])[0].changes)
    removed = [c for c in domain_diffs(old, new, [od])[0].changes if not c.added]
    added = [c for c in domain_diffs(old, new, [nd])[0].changes if c.added]

    def renamed(c: GrantChange) -> tuple[Grant, bool]:
        g = c.grant
        return (replace(g, target=nd) if g.target == od else g), c.inbound

    new_keys = {renamed(c) for c in added}
    old_keys = {renamed(c) for c in removed}
    return ([c for c in removed if renamed(c) not in new_keys]
            + [c for c in added if renamed(c) not in old_keys])


def _change(label: str, raw: GrantChange, side: Side, cmap: CategoryMap) -> Change:
    g = raw.grant
    if raw.inbound:  # another domain (g.target) acting on this one
        categories = cmap.of(g.tclass, g.perm, raw.domain, g.target)
    else:
        categories = cmap.of(g.tclass, g.perm, g.target, raw.domain)
    rule = raw.reaches[0].statement if raw.reaches else ""
    origin = spec_origin(side, raw.domain, g, raw.reaches, raw.inbound)
    return Change(label, raw.domain, g, raw.added, raw.inbound,
                  tuple(c for c in ordered() if c in categories), rule,
                  _where(side, origin) if origin else None,
                  origin.statement if origin else None)


def spec_origin(side: Side, domain: str, grant: Grant, reaches: Iterable[Reach],
                inbound: bool) -> ir.Origin | None:
    """The spec statement that gives ``domain`` the grant on a spec side: the ``allow``/verb
    behind a rule written for the domain, or the phase declaration for a grant through an
    attribute the compiler gave the phase (its baseline)."""
    if side.kind is not SideKind.SPEC or inbound:
        return None
    for module in side.modules:
        decl = next((t for t in module.types if t.name == domain), None)
        if decl is None:
            continue
        written = any(r.source == PROBE_SELF for r in reaches)
        rule = _rule_for(module, domain, grant) if written else None
        return (rule or decl).origin
    return None


def _rule_for(module: ir.PolicyModule, domain: str, grant: Grant) -> ir.Allow | None:
    for rule in module.allows(domain):
        target = domain if rule.target in (ir.SELF, domain) else rule.target
        if target == grant.target and rule.tclass == grant.tclass and grant.perm in rule.perms:
            return rule
    return None


def _where(side: Side, origin: ir.Origin) -> str:
    return f"{side.where(origin.span.path)}:{origin.span.line}"


def _held(old: Rules, od: str | None, new: Rules, nd: str | None, cmap: CategoryMap
          ) -> dict[Category, tuple[int, int]]:
    def count(policy: Rules, domain: str | None) -> dict[Category, int]:
        held = holdings(linked(policy, domain), domain, cmap) if domain else {}
        return {c: len(held[c].perms) if held else 0 for c in Category}

    before, after = count(old, od), count(new, nd)
    return {c: (before[c], after[c]) for c in ordered()}


def _bounds(old: Policy, new: Policy, domains: set[str]) -> tuple[tuple[str, str, bool], ...]:
    def of(policy: Policy) -> set[tuple[str, str]]:
        return {(str(b.parent), str(b.child)) for b in policy.bounds()
                if str(b.parent) in domains or str(b.child) in domains}

    before, after = of(old), of(new)
    return tuple(sorted([(p, c, False) for p, c in before - after]
                        + [(p, c, True) for p, c in after - before]))


_OPERATORS = {"&&", "||", "!", "==", "!=", "^", "(", ")"}


def _names(condition: str) -> set[str]:
    """The boolean names in a condition's text."""
    return {w for w in re.findall(r"[A-Za-z_][\w.]*", condition) if w not in _OPERATORS}


def _booleans(old: Policy, new: Policy, guards: set[str]) -> tuple[Toggle, ...]:
    before = {str(b): bool(b.state) for b in old.bools()}
    after = {str(b): bool(b.state) for b in new.bools()}
    names = {n for n in before.keys() | after.keys() if before.get(n) != after.get(n)} | guards
    return tuple(Toggle(n, before.get(n), after.get(n), n in guards) for n in sorted(names))


def _ports(old: Policy, new: Policy) -> tuple[tuple[PortRange, bool], ...]:
    before, after = set(policy_portcons(old)), set(policy_portcons(new))
    return tuple(sorted([(p, False) for p in before - after] + [(p, True) for p in after - before]))


def _file_contexts(old: Side, new: Side) -> tuple[tuple[str, str, str, bool], ...] | None:
    before, after = old.file_contexts(), new.file_contexts()
    if before is None or after is None:
        return None
    return tuple(sorted([(*fc, False) for fc in before - after]
                        + [(*fc, True) for fc in after - before]))
