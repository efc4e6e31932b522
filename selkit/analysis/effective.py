"""Effective permissions of a phase domain, by two engines, classified against the spec.

A *grant* is one (target type, class, permission, condition) a domain holds after attribute
expansion on both sides; conditional rules count under every boolean setting (the condition is
kept as evidence). Each grant carries the rules that give it.

* :func:`compositional` — the module's IR plus the base policy's profile for the attribute set
  of each of the module's types (:mod:`selkit.analysis.profile`); no link.
* :func:`selkit.analysis.linked.linked` — a linked kernel policy read with SETools.

:func:`classify` then sorts every grant into *declared* (the spec's own rules, compiler plumbing
included), *baseline* (what the attributes the compiler assigns bring from the base, listed as
its own cost) and *leak* (anything else: a counterexample).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from selkit.analysis.baseview import BaseView
from selkit.analysis.profile import PROBE_SELF, Profile, ProfileSet
from selkit.ir import nodes as ir
from selkit.ir.lower import DOMAIN_ATTRIBUTES, SWITCHING_ATTRIBUTES


@dataclass(frozen=True)
class Grant:
    """One permission a domain holds on one target type."""

    target: str
    tclass: str
    perm: str
    conditional: str | None = None

    def key(self) -> tuple[str, str, str, str]:
        """Sort key (conditions after unconditional grants)."""
        return (self.target, self.tclass, self.perm, self.conditional or "")

    def text(self) -> str:
        """``target:class perm`` (plus the boolean condition)."""
        cond = f" [if {self.conditional}]" if self.conditional else ""
        return f"{self.target}:{self.tclass} {self.perm}{cond}"


@dataclass(frozen=True)
class Reach:
    """How a grant reaches the domain: a module rule (with its spec line) or a base rule."""

    source: str            # the rule's source as written: the domain, an attribute, or <self>
    statement: str         # the rule, as policy text
    origin: ir.Origin | None = None

    def describe(self) -> str:
        """Where the rule comes from, for reports."""
        if self.origin is not None:
            return f"{self.origin.label()} ({self.origin.statement}): {self.statement}"
        via = "" if self.source in (PROBE_SELF,) else f" through attribute {self.source}"
        return f"base rule {self.statement}{via}"


Effective = dict[Grant, list[Reach]]

#: ``expand(name, domain)``: the types a rule's source or target stands for once linked
#: (``<self>`` is ``domain``).
Expand = Callable[[str, str], frozenset[str]]


def accepted_attributes(module: ir.PolicyModule, phase: str) -> tuple[str, ...]:
    """The attributes the compiler itself assigns a phase's domain (its accepted baseline)."""
    switching = any(s.source == phase for s in module.switches)
    return tuple(sorted(DOMAIN_ATTRIBUTES + (SWITCHING_ATTRIBUTES if switching else ())))


def attribute_sets(module: ir.PolicyModule) -> set[tuple[str, ...]]:
    """Every attribute set a profile is needed for: each type's own, and each accepted one."""
    out = {tuple(sorted(t.attributes)) for t in module.types}
    out |= {accepted_attributes(module, p.name) for p in module.phases}
    return out


def memberships(modules: Iterable[ir.PolicyModule], profiles: ProfileSet, base: BaseView
                ) -> dict[str, frozenset[str]]:
    """Every attribute each type of ``modules`` is in once linked: what the probe link showed
    (the kernel policy's attributes) and what the store's CIL says of the attributes the kernel
    policy drops."""
    out = {}
    for module in modules:
        for decl in module.types:
            profile = profiles.profiles[tuple(sorted(decl.attributes))]
            out[decl.name] = profile.memberships | base.attributes_of(decl.attributes)
    return out


def expander(modules: Iterable[ir.PolicyModule], profiles: ProfileSet, base: BaseView
             ) -> Expand:
    """Expansion of a rule's target as the linker does it when ``modules`` are linked together:
    base members (the modules a module replaces left out) plus every linked module's types."""
    in_attributes = memberships(modules, profiles, base)
    memo: dict[str, frozenset[str]] = {}

    def expand(name: str, domain: str) -> frozenset[str]:
        if name == PROBE_SELF:
            return frozenset({domain})
        if name not in memo:
            if name in in_attributes:
                memo[name] = frozenset({name})
            else:
                members = profiles.members.get(name)
                if members is None:
                    members = base.expand(name)
                memo[name] = frozenset(members) | {
                    t for t, attrs in in_attributes.items() if name in attrs}
        return memo[name]
    return expand


def _linked_together(module: ir.PolicyModule, colinked: Iterable[ir.PolicyModule]
                     ) -> tuple[ir.PolicyModule, ...]:
    """``module`` and the other modules linked with it (a module of the same name is replaced)."""
    return (module,) + tuple(m for m in colinked if m.name != module.name)


def _module_grants(modules: Iterable[ir.PolicyModule], domain: str, expand: Expand
                   ) -> Effective:
    out: Effective = defaultdict(list)
    for module in modules:
        for rule in module.allows(domain):
            for target in expand(rule.target, domain):
                for perm in rule.perms:
                    out[Grant(target, rule.tclass, perm)].append(
                        Reach(domain, allow_text(rule), rule.origin))
    return out


def _profile_grants(profile: Profile, domain: str, expand: Expand, into: Effective
                    ) -> Effective:
    for prule in profile.rules:
        for target in expand(prule.target, domain):
            for perm in prule.perms:
                into[Grant(target, prule.tclass, perm, prule.conditional)].append(
                    Reach(prule.source, prule.statement.replace(PROBE_SELF, domain)))
    return into


def compositional(module: ir.PolicyModule, domain: str, profiles: ProfileSet,
                  base: BaseView, colinked: tuple[ir.PolicyModule, ...] = ()
                  ) -> Effective:
    """Grants of ``domain``: the rules of every module linked with it whose source is the
    domain, plus the base profile of its attributes."""
    modules = _linked_together(module, colinked)
    expand = expander(modules, profiles, base)
    decl = next(t for t in module.types if t.name == domain)
    profile = profiles.profiles[tuple(sorted(decl.attributes))]
    return dict(_profile_grants(profile, domain, expand,
                                _module_grants(modules, domain, expand)))


def accepted_baseline(module: ir.PolicyModule, phase: str, profiles: ProfileSet,
                      base: BaseView, colinked: tuple[ir.PolicyModule, ...] = ()
                      ) -> Effective:
    """What the base gives a phase's domain through the attributes the compiler assigns."""
    domain = module.domain_of(phase)
    profile = profiles.profiles[accepted_attributes(module, phase)]
    expand = expander(_linked_together(module, colinked), profiles, base)
    return dict(_profile_grants(profile, domain, expand, defaultdict(list)))


def declared(module: ir.PolicyModule, domain: str, profiles: ProfileSet,
             base: BaseView, colinked: tuple[ir.PolicyModule, ...] = ()
             ) -> Effective:
    """The grants the spec's module gives ``domain`` (its own rules, attributes expanded)."""
    expand = expander(_linked_together(module, colinked), profiles, base)
    return dict(_module_grants((module,), domain, expand))


#: The classes whose inbound grants (other domains acting on a phase domain) are computed.
INBOUND_CLASSES = ("process", "process2")


def inbound_compositional(module: ir.PolicyModule, domain: str, profiles: ProfileSet,
                          base: BaseView, colinked: tuple[ir.PolicyModule, ...] = ()
                          ) -> Effective:
    """Who may act on ``domain`` as a process: ``Grant.target`` names the *source* domain.

    The rules of every module linked together whose target covers the domain, and the base's
    inbound rules for its attribute set.
    """
    modules = _linked_together(module, colinked)
    expand = expander(modules, profiles, base)
    out: Effective = defaultdict(list)
    for other in modules:
        for rule in other.allows():
            if rule.tclass not in INBOUND_CLASSES or rule.target == rule.source:
                continue
            if domain in expand(rule.target, rule.source):
                for source in expand(rule.source, domain) - {domain}:
                    for perm in rule.perms:
                        out[Grant(source, rule.tclass, perm)].append(
                            Reach(rule.source, allow_text(rule), rule.origin))
    decl = next(t for t in module.types if t.name == domain)
    for prule in profiles.profiles[tuple(sorted(decl.attributes))].inbound:
        if prule.tclass not in INBOUND_CLASSES:
            continue
        for source in expand(prule.source, domain):
            if source == domain:
                continue
            for perm in prule.perms:
                out[Grant(source, prule.tclass, perm, prule.conditional)].append(
                    Reach(prule.source, prule.statement))
    return dict(out)


@dataclass
class Classified:
    """A domain's grants sorted by how they are justified."""

    declared: dict[Grant, list[Reach]] = field(default_factory=dict)
    baseline: dict[Grant, list[Reach]] = field(default_factory=dict)
    leaks: dict[Grant, list[Reach]] = field(default_factory=dict)
    missing: list[Grant] = field(default_factory=list)   # declared but not effective
    #: Other domains' process permissions on this one (``Grant.target`` is the other domain).
    inbound: dict[Grant, list[Reach]] = field(default_factory=dict)

    def reaches(self, grant: Grant) -> list[Reach]:
        """How a grant the domain holds reaches it, whatever its class."""
        return self.declared.get(grant) or self.baseline.get(grant) or self.leaks[grant]

    @property
    def all(self) -> set[Grant]:
        """Every grant the domain holds."""
        return set(self.declared) | set(self.baseline) | set(self.leaks)


def classify(effective: Effective, spec: Effective, baseline: Effective) -> Classified:
    """Sort ``effective`` grants into declared, accepted baseline and leaks."""
    out = Classified()
    unconditional_spec = {Grant(g.target, g.tclass, g.perm) for g in spec}
    for grant, reaches in sorted(effective.items(), key=lambda kv: kv[0].key()):
        plain = Grant(grant.target, grant.tclass, grant.perm)
        if grant.conditional is None and plain in unconditional_spec:
            out.declared[grant] = spec[plain]
        elif grant in baseline:
            out.baseline[grant] = reaches
        else:
            out.leaks[grant] = reaches
    have = {Grant(g.target, g.tclass, g.perm) for g in effective if g.conditional is None}
    out.missing = sorted((g for g in spec if g not in have), key=Grant.key)
    return out


def allow_text(rule: ir.Allow) -> str:
    """A module rule as policy text (``self`` for a rule on its own source)."""
    perms = rule.perms[0] if len(rule.perms) == 1 else "{ " + " ".join(rule.perms) + " }"
    target = ir.SELF if rule.target == rule.source else rule.target
    return f"allow {rule.source} {target}:{rule.tclass} {perms};"
