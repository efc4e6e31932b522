"""What linking would find late, found before it: names that switch on the store's optional
blocks (SEL218) and the base's neverallow rules (SEL330).

Both are judged over every module linked together, with the store modules they replace left
out, exactly as ``semodule`` links them: a neverallow is checked on every permission that
involves one of the new types, whether the module's own rule gives it or a base rule reaches
the type through its attributes (the profiles' outbound and inbound rules).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from selkit.diagnostics import Diagnostic, Related
from selkit.ir import nodes as ir
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
    through: str | None = None  # the new type the base rule reaches, and its declaration


def replaced_modules(modules, enabled: frozenset[str]) -> tuple[str, ...]:
    """Store modules that the given modules replace (same name)."""
    return tuple(sorted({m.name for m in modules} & enabled))


def check_triggers(modules, triggers: dict[str, tuple[str, ...]]) -> list[Diagnostic]:
    """SEL218: a declared type whose name a disabled optional block of the store waits for."""
    out = []
    for module in modules:
        for decl in module.types:
            owners = triggers.get(decl.name)
            if not owners:
                continue
            out.append(Diagnostic(
                "SEL218",
                f"type '{decl.name}' is a name the base store's disabled optional blocks wait "
                f"for (in {', '.join(owners[:5])}{', ...' if len(owners) > 5 else ''}): "
                "declaring it would switch them on at link and give this module rules the "
                "spec never wrote",
                decl.origin.span,
                hint="rename it (the daemon, the phase or the file), so that no base rule "
                     "can name it"))
    return out


def accesses(modules, profiles: ProfileSet, expand_base) -> list[Access]:
    """Every permission that involves a type of ``modules`` once they are linked."""
    new = {d.name: frozenset(d.attributes) | profiles.profiles[
        tuple(sorted(d.attributes))].memberships for m in modules for d in m.types}
    decl_of = {d.name: d for m in modules for d in m.types}

    def expand(name: str, self_type: str | None = None) -> frozenset[str]:
        if name == SELF:
            return frozenset({self_type}) if self_type else frozenset()
        if name in new:
            return frozenset({name})
        base = profiles.members.get(name)
        if base is None:
            base = expand_base(name)
        return frozenset(base) | {t for t, attrs in new.items() if name in attrs}

    out: list[Access] = []
    for module in modules:
        for rule in module.allows():
            for source in expand(rule.source):
                targets = {source} if rule.target == rule.source else expand(rule.target)
                for target in targets:
                    if source in new or target in new:
                        out += [Access(source, target, rule.tclass, p, rule.origin,
                                       _allow_text(rule)) for p in rule.perms]
    for name, decl in decl_of.items():
        profile = profiles.profiles[tuple(sorted(decl.attributes))]
        for prule in profile.rules:
            for target in expand(prule.target, name):
                out += [Access(name, target, prule.tclass, p, None,
                               prule.statement, name) for p in prule.perms]
        for prule in profile.inbound:
            for source in expand(prule.source):
                out += [Access(source, name, prule.tclass, p, None,
                               prule.statement, name) for p in prule.perms]
    return out


def check_neverallows(modules, profiles: ProfileSet, model, expand_base
                      ) -> list[Diagnostic]:
    """SEL330: every neverallow of the base over every access involving a new type."""
    new_types = {d.name: frozenset(d.attributes) for m in modules for d in m.types}
    decl_of = {d.name: d for m in modules for d in m.types}
    wanted = defaultdict(list)
    for rule in model.neverallows:
        for perm in rule.perms:
            wanted[(rule.tclass, perm)].append(rule)
    sides: dict[str, frozenset[str]] = {}

    def side(name: str) -> frozenset[str]:
        if name not in sides:
            sides[name] = frozenset(model.expand_with(name, new_types))
        return sides[name]

    found: dict[tuple, tuple[Access, object]] = {}
    for access in accesses(modules, profiles, expand_base):
        for rule in wanted.get((access.tclass, access.perm), ()):
            if access.source not in side(rule.source):
                continue
            if rule.target == "self":
                if access.target != access.source:
                    continue
            elif access.target not in side(rule.target):
                continue
            key = (rule.text, access.origin.span if access.origin else access.through,
                   access.statement)
            found.setdefault(key, (access, rule))
    out = []
    for (_, _, _), (access, rule) in sorted(found.items(), key=lambda kv: str(kv[0])):
        out.append(_neverallow_diagnostic(access, rule, decl_of, model))
    return out


def _neverallow_diagnostic(access: Access, rule, decl_of, model) -> Diagnostic:
    grant = f"{access.source} {access.target}:{access.tclass} {access.perm}"
    meaning = "; ".join(f"{name} = {model.describe(name)}" for name in (rule.source, rule.target)
                        if name != "self" and model.describe(name) != name)
    hint = f"{rule.text} (base module '{rule.module}')" + (f", where {meaning}" if meaning else "")
    if access.origin is not None:
        return Diagnostic(
            "SEL330", f"the base policy forbids {grant}, which '{access.origin.statement}' "
            f"grants ({access.statement})", access.origin.span, hint=hint)
    decl = decl_of[access.through]
    return Diagnostic(
        "SEL330", f"the base policy forbids {grant}, which the base rule {access.statement} "
        f"gives {access.through} through the attributes it is declared with",
        decl.origin.span, hint=hint + "; the declaration's attributes bring that rule",
        related=(Related(decl.origin.span, f"{access.through} is declared here"),))


def _allow_text(rule: ir.Allow) -> str:
    perms = rule.perms[0] if len(rule.perms) == 1 else "{ " + " ".join(rule.perms) + " }"
    target = "self" if rule.target == rule.source else rule.target
    return f"allow {rule.source} {target}:{rule.tclass} {perms};"


def check_against_store(modules, kb) -> list[Diagnostic]:
    """SEL218 and SEL330 for modules linked together into ``kb``'s store (nothing to check
    when the knowledge base has no store, e.g. a hand-made one in unit tests)."""
    if kb.store is None or not modules:
        return []
    try:
        from selkit.base.store import load_store_model  # noqa: PLC0415
    except ImportError:  # TODO(lead): the store model lands with the soundness work
        return []
    from selkit.base import BaseSpec  # noqa: PLC0415
    from selkit.prove.engine import profiles_for  # noqa: PLC0415

    model = load_store_model(kb.store).without(replaced_modules(modules, kb.enabled_modules))
    triggered = check_triggers(modules, model.trigger_names())
    if triggered:
        return triggered
    profiles = profiles_for(modules, BaseSpec(kb.source, kb.store))
    return check_neverallows(modules, profiles, model, model.members)
