"""Why a denied permission needs no new statement: a forbid excludes it, the spec grants it
already, or the phase model keeps it for the compiler."""

from __future__ import annotations

import dataclasses

from selkit.diagnostics import Span
from selkit.ir import nodes as ir
from selkit.ir import passes
from selkit.suggest.spec import SpecModel


def forbidding(spec: SpecModel, phase: str, ttype: str, tclass: str,
               perm: str) -> ir.ForbidPattern | None:
    """The first forbid of ``phase`` that a rule granting the permission would break, checked
    by the compiler's own forbid check on a module holding just that rule."""
    return next((pattern for pattern in spec.module.forbids if pattern.phase == phase
                 and breaks(spec, phase, ttype, tclass, perm, pattern)), None)


def breaks(spec: SpecModel, phase: str, ttype: str, tclass: str, perm: str,
           pattern: ir.ForbidPattern) -> bool:
    """Whether :func:`selkit.ir.passes.check_forbids` rejects a rule granting ``perm``."""
    rule = ir.Allow(spec.domain(phase), ttype, tclass, (perm,),
                    ir.Origin(Span.point(spec.path), "denial"))
    probe = dataclasses.replace(spec.module, rules=(rule,), forbids=(pattern,))
    return bool(passes.check_forbids(probe, spec.kb))


def granting(spec: SpecModel, domain: str, ttype: str, tclass: str,
             perm: str) -> ir.Origin | None:
    """Where the spec grants the permission already, if it does."""
    for rule in spec.module.allows(domain):
        if (rule.tclass == tclass and perm in rule.perms
                and ttype in spec.kb.expand(rule.target)):
            return rule.origin
    return None


def phase_model(spec: SpecModel, phase: str, ttype: str, tclass: str, perm: str) -> str | None:
    """Why a statement cannot grant this because the compiler owns it (REFERENCE 6), or None:
    ``setcurrent`` and ``dyntransition`` come from ``switch`` alone, forward only."""
    if tclass != "process":
        return None
    if perm == "setcurrent":
        return (f"phase '{phase}' switches nowhere: only the FROM phase of a 'switch' gets "
                "setcurrent (REFERENCE 6.2), and the base policy forbids it to every other "
                "domain (REFERENCE 6.1); the daemon must not call setcon() here")
    target = spec.phase_of_domain(ttype)
    if perm not in ("dyntransition", "transition") or target is None:
        return None
    if target == phase or target in spec.ancestors(phase):
        return (f"a switch from phase '{phase}' back to '{target}' is what the phase model "
                "excludes (REFERENCE 6.2); the daemon must not do this")
    return (f"a switch from phase '{phase}' to '{target}' is declared with "
            f"'switch {phase} -> {target}' in daemon '{spec.daemon}' (REFERENCE 5.8), not "
            "with a phase statement")
