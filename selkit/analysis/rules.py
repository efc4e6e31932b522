"""Flatten what a linked policy grants to or about a set of types, for exact comparison."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleFacts:
    """Every fact a linked policy holds about some types, with attributes expanded."""

    allows: frozenset[tuple[str, str, str, str]]          # (source, target, class, perm)
    conditional: frozenset[tuple[str, str, str, str, str]]  # + the boolean expression
    transitions: frozenset[tuple[str, str, str, str]]     # (source, target, class, default)
    bounds: frozenset[tuple[str, str]]                    # (parent, child)
    attributes: frozenset[tuple[str, str]]                # (type, attribute)

    def difference(self, other: "RuleFacts") -> dict[str, list]:
        """Facts only in self and only in other, per kind (empty lists when equal)."""
        out = {}
        for name in ("allows", "conditional", "transitions", "bounds", "attributes"):
            mine, theirs = getattr(self, name), getattr(other, name)
            out[name] = sorted(mine - theirs) + [("<missing>",) + t for t in sorted(theirs - mine)]
        return out


def facts_about(policy, types: frozenset[str]) -> RuleFacts:
    """Every allow/type_transition/typebounds touching ``types``, attributes expanded."""
    import setools  # noqa: PLC0415

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
                try:
                    cond = str(rule.conditional)
                except (AttributeError, setools.exception.RuleNotConditional):
                    cond = None
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
