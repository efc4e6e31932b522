"""What linking would find late, found before it: names that switch on the store's optional
blocks (SEL218) and the base's neverallow rules (SEL330).

Both are judged over every module linked together, with the store modules they replace left
out, exactly as ``semodule`` links them. A neverallow is checked, as libsepol's
``expand-check=1`` checks it, on every permission that involves one of the new types: the
modules' own rules, and the base rules that reach a new type through its attributes (the
profiles' outbound and inbound rules).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from selkit.analysis.baseview import BaseView, base_view
from selkit.analysis.effective import allow_text, expander, memberships
from selkit.analysis.profile import PROBE_SELF, ProfileSet
from selkit.analysis.views import profiles_for
from selkit.base import BaseSpec
from selkit.base.store import Neverallow, StoreModel
from selkit.diagnostics import Diagnostic
from selkit.ir import nodes as ir
from selkit.ir.kb import KnowledgeBase


def check_against_store(modules: Sequence[ir.PolicyModule], kb: KnowledgeBase
                        ) -> list[Diagnostic]:
    """SEL218 and SEL330 for modules linked together into ``kb``'s store (nothing to check
    when the knowledge base has no store, e.g. a hand-made one in unit tests)."""
    view = base_view(kb, modules) if modules else None
    if view is None or view.model is None:
        return []
    triggered = check_triggers(modules, view.model)
    if triggered:
        return triggered  # the profiles do not hold what the link would switch on
    profiles = profiles_for(modules, BaseSpec(kb.source, kb.store), kb=kb)
    return check_neverallows(modules, profiles, view)


def check_triggers(modules: Sequence[ir.PolicyModule], model: StoreModel) -> list[Diagnostic]:
    """SEL218: declared types that switch on optional blocks the store keeps disabled (all the
    modules' names judged together)."""
    declared = {d.name: d for m in modules for d in m.types}
    out = []
    for name, owners in model.switched_on(types=declared).items():
        out.append(Diagnostic(
            "SEL218",
            f"type '{name}' is a name that disabled optional blocks of the base store wait for "
            f"(in {', '.join(owners[:5])}{', ...' if len(owners) > 5 else ''}): declaring it "
            "switches them on at link and gives rules the spec never wrote",
            declared[name].origin.span,
            hint="rename it (the daemon, the phase or the file), so that no base rule can "
                 "name it"))
    return out


@dataclass(frozen=True)
class RuleReach:
    """One rule as the link expands it around the new types: every source it gives, every
    target (``self`` rules: each source on itself), what it is and which new type it reaches."""

    sources: frozenset[str]
    targets: frozenset[str] | None  # None: self
    tclass: str
    perms: frozenset[str]
    origin: ir.Origin | None   # the module rule's spec line; None for a base rule
    statement: str             # the rule, as policy text
    through: str | None = None  # for a base rule: the new type it reaches


def check_neverallows(modules: Sequence[ir.PolicyModule], profiles: ProfileSet, view: BaseView
                      ) -> list[Diagnostic]:
    """SEL330: every neverallow of the base over every rule that involves a new type, judged
    on sets (a rule breaks a neverallow when their classes, permissions, sources and targets
    meet)."""
    model = view.model
    if model is None:  # no store, no neverallows of it
        return []
    attributes_of = memberships(modules, profiles, view)
    decl_of = {d.name: d for m in modules for d in m.types}
    sides: dict[str, _Side] = {}

    def side(name: str) -> _Side:
        if name not in sides:
            joined = {t for t, attrs in attributes_of.items() if name in attrs or name == t}
            sides[name] = _Side(model.members(name), frozenset(joined))
        return sides[name]

    by_class = defaultdict(list)
    for rule in model.neverallows:
        by_class[rule.tclass].append(rule)
    found: dict[tuple, tuple[RuleReach, tuple[str, str, str], Neverallow]] = {}
    perms_of = {c: frozenset(p for r in rules for p in r.perms) for c, rules in by_class.items()}
    for reach in rule_reaches(modules, profiles, view, perms_of):
        for rule in by_class[reach.tclass]:
            perms = reach.perms & set(rule.perms)
            if not perms:
                continue
            witness = _witness(reach, rule, side)
            if witness is None:
                continue
            where = reach.origin.span.short() if reach.origin else reach.through
            found.setdefault((rule.text, where, reach.statement),
                             (reach, (*witness, min(perms)), rule))
    return [_neverallow_diagnostic(reach, access, rule, decl_of, model)
            for reach, access, rule in (found[key] for key in sorted(found))]


@dataclass(frozen=True)
class _Side:
    """A neverallow's source or target: the base's members plus the new types that join."""

    base: frozenset[str]
    joined: frozenset[str]

    def meet(self, types: frozenset[str]) -> frozenset[str]:
        """The types of ``types`` on this side."""
        return frozenset(t for t in types if t in self.joined or t in self.base)


def _witness(reach: RuleReach, rule: Neverallow, side: Callable[[str], _Side]
             ) -> tuple[str, str] | None:
    """A (source, target) the rule gives that the neverallow forbids, or None."""
    sources = side(rule.source).meet(reach.sources)
    if not sources:
        return None
    if reach.targets is None:  # a self rule gives (s, s)
        hit = sources if rule.target == ir.SELF else side(rule.target).meet(sources)
        return (min(hit), min(hit)) if hit else None
    if rule.target == ir.SELF:
        hit = sources & reach.targets
        return (min(hit), min(hit)) if hit else None
    targets = side(rule.target).meet(reach.targets)
    return (min(sources), min(targets)) if targets else None


def rule_reaches(modules: Sequence[ir.PolicyModule], profiles: ProfileSet, view: BaseView,
                 only: Mapping[str, frozenset[str]] | None = None) -> list[RuleReach]:
    """Every rule that gives a permission involving a type of ``modules`` once linked: the
    modules' own rules and the base rules that reach a new type through its attributes
    (``only``: class -> permissions, the rules giving none of them are left out)."""
    decl_of = {d.name: d for m in modules for d in m.types}
    linked = expander(modules, profiles, view)

    def expand(name: str) -> frozenset[str]:
        return linked(name, "")

    def wanted(tclass: str, perms: Iterable[str]) -> bool:
        return only is None or not only.get(tclass, frozenset()).isdisjoint(perms)

    out: list[RuleReach] = []
    for module in modules:
        for rule in module.allows():
            if wanted(rule.tclass, rule.perms):
                out.append(RuleReach(
                    expand(rule.source),
                    None if rule.target == rule.source else expand(rule.target),
                    rule.tclass, frozenset(rule.perms), rule.origin, allow_text(rule)))
    for name, decl in decl_of.items():
        profile = profiles.profiles[tuple(sorted(decl.attributes))]
        for prule in profile.rules:
            if wanted(prule.tclass, prule.perms):
                targets = None if prule.target == PROBE_SELF else expand(prule.target)
                out.append(RuleReach(frozenset({name}), targets, prule.tclass,
                                     frozenset(prule.perms), None, prule.statement, name))
        for prule in profile.inbound:
            if wanted(prule.tclass, prule.perms):
                out.append(RuleReach(expand(prule.source), frozenset({name}), prule.tclass,
                                     frozenset(prule.perms), None, prule.statement, name))
    return out


def _neverallow_diagnostic(reach: RuleReach, access: tuple[str, str, str], rule: Neverallow,
                           decl_of: Mapping[str, ir.TypeDecl], model: StoreModel) -> Diagnostic:
    source, target, perm = access
    grant = f"{source} {target}:{reach.tclass} {perm}"
    meaning = "; ".join(f"{name} = {model.expression_of(name)}"
                        for name in (rule.source, rule.target)
                        if name != ir.SELF and model.expression_of(name))
    neverallow = f"{rule.text} (base module '{rule.module}'" + (
        f"; {meaning})" if meaning else ")")
    if reach.origin is not None:
        return Diagnostic(
            "SEL330", f"the base policy forbids {grant}, which this statement grants "
            f"({reach.statement}): {neverallow}", reach.origin.span,
            hint="remove that permission: semodule with expand-check=1 refuses the module, and "
                 "Debian's default (expand-check=0) would install it silently")
    assert reach.through is not None  # a base rule's reach names the new type it reaches
    decl = decl_of[reach.through]
    return Diagnostic(
        "SEL330", f"the base policy forbids {grant}, which the base rule "
        f"'{reach.statement}' gives {reach.through} through the attributes it is declared "
        f"with: {neverallow}", decl.origin.span,
        hint="this type cannot carry those attributes on this base")
