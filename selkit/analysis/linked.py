"""Reading a linked kernel policy with SETools.

* :func:`linked` and :func:`inbound_linked` — the linked engine: a domain's grants (and who may
  act on it as a process) as :mod:`selkit.analysis.effective` counts them.
* :func:`facts_about` — every fact the policy holds about some types, flattened for exact
  comparison of two policies (:meth:`RuleFacts.difference`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from selkit.analysis.effective import INBOUND_CLASSES, Effective, Grant, Reach
from selkit.analysis.profile import PROBE_SELF
from selkit.base import Policy


def linked(policy: Policy, domain: str) -> Effective:
    """Grants of ``domain`` in a linked kernel policy (every allow rule whose source covers it)."""
    import setools  # noqa: PLC0415

    out: Effective = defaultdict(list)
    query = setools.TERuleQuery(policy, source=domain, ruletype=["allow"])
    for rule in query.results():
        cond = _condition(rule)
        targets = {str(t) for t in rule.target.expand()}
        source = str(rule.source)
        statement = str(rule).split("\n")[0]
        for target in targets:
            for perm in rule.perms:
                out[Grant(target, str(rule.tclass), perm, cond)].append(
                    Reach(PROBE_SELF if source == domain else source, statement))
    return dict(out)


def inbound_linked(policy: Policy, domain: str) -> Effective:
    """Who may act on ``domain`` as a process in a linked policy (``Grant.target`` is the
    source domain)."""
    import setools  # noqa: PLC0415

    out: Effective = defaultdict(list)
    query = setools.TERuleQuery(policy, target=domain, tclass=list(INBOUND_CLASSES),
                                ruletype=["allow"])
    for rule in query.results():
        cond = _condition(rule)
        statement = str(rule).split("\n")[0]
        for source in {str(t) for t in rule.source.expand()} - {domain}:
            for perm in rule.perms:
                out[Grant(source, str(rule.tclass), perm, cond)].append(
                    Reach(str(rule.source), statement))
    return dict(out)


def _condition(rule: Any) -> str | None:
    """The boolean expression of a conditional rule (None for an unconditional one)."""
    try:
        return str(rule.conditional)
    except Exception:  # noqa: BLE001 - setools raises RuleNotConditional
        return None


@dataclass(frozen=True)
class RuleFacts:
    """Every fact a linked policy holds about some types, with attributes expanded."""

    allows: frozenset[tuple[str, str, str, str]]          # (source, target, class, perm)
    conditional: frozenset[tuple[str, str, str, str, str]]  # + the boolean expression
    transitions: frozenset[tuple[str, str, str, str]]     # (source, target, class, default)
    bounds: frozenset[tuple[str, str]]                    # (parent, child)
    attributes: frozenset[tuple[str, str]]                # (type, attribute)

    def difference(self, other: RuleFacts) -> dict[str, list]:
        """Facts only in self and only in other, per kind (empty lists when equal)."""
        out = {}
        for name in ("allows", "conditional", "transitions", "bounds", "attributes"):
            mine, theirs = getattr(self, name), getattr(other, name)
            out[name] = sorted(mine - theirs) + [("<missing>",) + t for t in sorted(theirs - mine)]
        return out


def facts_about(policy: Policy, types: frozenset[str]) -> RuleFacts:
    """Every allow/type_transition/typebounds touching ``types``, attributes expanded."""
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
                cond = _condition(rule)
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
