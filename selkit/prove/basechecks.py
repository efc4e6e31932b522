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
from dataclasses import dataclass

from selkit.base import BaseSpec
from selkit.diagnostics import Diagnostic
from selkit.ir import nodes as ir
from selkit.prove.baseview import base_view
from selkit.prove.effective import allow_text, memberships
from selkit.prove.engine import profiles_for
from selkit.prove.profile import SELF, ProfileSet


@dataclass(frozen=True)
class Access:
    """One permission between two types, with what gives it (a module rule or a base rule)."""

    source: str
    target: str
    tclass: str
    perm: str
    origin: ir.Origin | None   # the module rule's spec line; None for a base rule
    statement: str             # the rule, as policy text
    through: str | None = None  # for a base rule: the new type it reaches


def check_against_store(modules, kb) -> list[Diagnostic]:
    """SEL218 and SEL330 for modules linked together into ``kb``'s store (nothing to check
    when the knowledge base has no store, e.g. a hand-made one in unit tests)."""
    if kb.store is None or not modules:
        return []
    view = base_view(kb, modules)
    triggered = check_triggers(modules, view.model)
    if triggered:
        return triggered  # the profiles do not hold what the link would switch on
    profiles = profiles_for(modules, BaseSpec(kb.source, kb.store))
    return check_neverallows(modules, profiles, view)


def check_triggers(modules, model) -> list[Diagnostic]:
    """SEL218: declared types that switch on optional blocks the store keeps disabled.

    Judged for all the modules' names together (a block may need two of them), and only when
    one of them is a name some disabled block lacks (the common case costs nothing).
    """
    declared = {d.name: d for m in modules for d in m.types}
    if not model.lacking_names() & set(declared):
        return []
    still = {(b.module, b.label) for b in model.with_declared(types=declared).disabled_blocks}
    switched = [b for b in model.disabled_blocks if (b.module, b.label) not in still]
    out = []
    for name, decl in sorted(declared.items()):
        owners = sorted({b.module for b in switched if name in b.missing})
        if not owners:
            continue
        out.append(Diagnostic(
            "SEL218",
            f"type '{name}' is a name that disabled optional blocks of the base store wait for "
            f"(in {', '.join(owners[:5])}{', ...' if len(owners) > 5 else ''}): declaring it "
            "switches them on at link and gives rules the spec never wrote",
            decl.origin.span,
            hint="rename it (the daemon, the phase or the file), so that no base rule can "
                 "name it"))
    return out


def check_neverallows(modules, profiles: ProfileSet, view) -> list[Diagnostic]:
    """SEL330: every neverallow of the base over every access involving a new type."""
    model = view.model
    attributes_of = memberships(modules, profiles, view)
    decl_of = {d.name: d for m in modules for d in m.types}
    sides: dict[str, frozenset[str]] = {}

    def side(name: str) -> frozenset[str]:
        if name not in sides:
            joined = {t for t, attrs in attributes_of.items() if name in attrs or name == t}
            sides[name] = model.members(name) | joined
        return sides[name]

    # Which (class, permission) pairs can matter for each new type, as source and as target.
    out_pairs: dict[str, set] = {t: set() for t in decl_of}
    in_pairs: dict[str, set] = {t: set() for t in decl_of}
    for rule in model.neverallows:
        pairs = {(rule.tclass, p) for p in rule.perms}
        for t in decl_of:
            if t in side(rule.source):
                out_pairs[t] |= pairs
            if rule.target != "self" and t in side(rule.target):
                in_pairs[t] |= pairs
    by_pair = defaultdict(list)
    for rule in model.neverallows:
        for perm in rule.perms:
            by_pair[(rule.tclass, perm)].append(rule)

    found: dict[tuple, tuple[Access, object]] = {}
    for access in accesses(modules, profiles, view, out_pairs, in_pairs):
        for rule in by_pair[(access.tclass, access.perm)]:
            if access.source not in side(rule.source):
                continue
            if rule.target == "self":
                if access.target != access.source:
                    continue
            elif access.target not in side(rule.target):
                continue
            where = access.origin.span.short() if access.origin else access.through
            found.setdefault((rule.text, where, access.statement), (access, rule))
    return [_neverallow_diagnostic(access, rule, decl_of, model)
            for _, (access, rule) in sorted(found.items())]


def accesses(modules, profiles: ProfileSet, view, out_pairs=None, in_pairs=None
             ) -> list[Access]:
    """Every permission that involves a type of ``modules`` once they are linked.

    ``out_pairs``/``in_pairs`` (new type -> {(class, permission)}) keep only the accesses of a
    new type as source / as target that can matter; None keeps everything.
    """
    decl_of = {d.name: d for m in modules for d in m.types}
    new = memberships(modules, profiles, view)

    def expand(name: str, self_type: str | None = None) -> frozenset[str]:
        if name == SELF:
            return frozenset({self_type}) if self_type else frozenset()
        if name in new:
            return frozenset({name})
        base = profiles.members.get(name)
        if base is None:
            base = view.expand(name)
        return frozenset(base) | {t for t, attrs in new.items() if name in attrs}

    def chosen(pairs, tclass: str, perms) -> list[str]:
        return list(perms) if pairs is None else [p for p in perms if (tclass, p) in pairs]

    def pairs_of(source: str, target: str):
        if out_pairs is None:
            return None
        return out_pairs.get(source, set()) | in_pairs.get(target, set())

    out: list[Access] = []
    for module in modules:
        for rule in module.allows():
            for source in expand(rule.source):
                targets = {source} if rule.target == rule.source else expand(rule.target)
                for target in targets:
                    if source in new or target in new:
                        out += [Access(source, target, rule.tclass, p, rule.origin,
                                       allow_text(rule))
                                for p in chosen(pairs_of(source, target), rule.tclass,
                                                rule.perms)]
    for name, decl in decl_of.items():
        profile = profiles.profiles[tuple(sorted(decl.attributes))]
        outward = None if out_pairs is None else out_pairs[name] | in_pairs[name]
        for prule in profile.rules:
            perms = chosen(outward, prule.tclass, prule.perms)
            out += [Access(name, target, prule.tclass, p, None, prule.statement, name)
                    for target in (expand(prule.target, name) if perms else ())
                    for p in perms]
        inward = None if in_pairs is None else in_pairs[name]
        for prule in profile.inbound:
            perms = chosen(inward, prule.tclass, prule.perms)
            out += [Access(source, name, prule.tclass, p, None, prule.statement, name)
                    for source in (expand(prule.source) if perms else ())
                    for p in perms]
    return out


def _neverallow_diagnostic(access: Access, rule, decl_of, model) -> Diagnostic:
    grant = f"{access.source} {access.target}:{access.tclass} {access.perm}"
    meaning = "; ".join(f"{name} = {model.expression_of(name)}"
                        for name in (rule.source, rule.target)
                        if name != "self" and model.expression_of(name))
    neverallow = f"{rule.text} (base module '{rule.module}'" + (
        f"; {meaning})" if meaning else ")")
    if access.origin is not None:
        return Diagnostic(
            "SEL330", f"the base policy forbids {grant}, which this statement grants "
            f"({access.statement}): {neverallow}", access.origin.span,
            hint="remove that permission: semodule with expand-check=1 refuses the module, and "
                 "Debian's default (expand-check=0) would install it silently")
    decl = decl_of[access.through]
    return Diagnostic(
        "SEL330", f"the base policy forbids {grant}, which the base rule "
        f"'{access.statement}' gives {access.through} through the attributes it is declared "
        f"with: {neverallow}", decl.origin.span,
        hint="this type cannot carry those attributes on this base")
