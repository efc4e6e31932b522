"""Run the obligations for a module with either engine (or both) and collect a report."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from selkit.base import BaseSpec
from selkit.ir import nodes as ir
from selkit.ir.kb import KnowledgeBase
from selkit.prove import effective as eff
from selkit.prove.obligations import REGISTRY, Context, Result, Verdict
from selkit.prove.profile import ProfileSet, load_profiles

ENGINES = ("compositional", "linked")


@dataclass
class ProofReport:
    """Every obligation's result for one module, by one engine."""

    module: ir.PolicyModule
    engine: str
    results: list[Result]
    phases: dict[str, eff.Classified] = field(default_factory=dict)

    @property
    def verdict(self) -> Verdict:
        """REFUTED if any obligation is refuted, else HOLDS (UNKNOWN if any is unknown)."""
        verdicts = {r.verdict for r in self.results}
        if Verdict.REFUTED in verdicts:
            return Verdict.REFUTED
        return Verdict.UNKNOWN if Verdict.UNKNOWN in verdicts else Verdict.HOLDS



def profiles_for(modules, base: BaseSpec = BaseSpec(), progress=None) -> ProfileSet:
    """Base-policy profiles for every attribute set the modules use (cached per store)."""
    sets: set[tuple[str, ...]] = set()
    for module in modules:
        sets |= eff.attribute_sets(module)
    return load_profiles(sets, base.root, base.name, progress=progress)


def prove(spec: ir.PolicyModule, kb: KnowledgeBase, profiles: ProfileSet, *,
          engine: str = "compositional", candidate: ir.PolicyModule | None = None,
          policy=None) -> ProofReport:
    """Prove ``spec``'s obligations about ``candidate`` (default: the spec's own module).

    ``engine="linked"`` reads ``policy`` (a SETools policy in which the candidate is linked);
    ``"compositional"`` computes from the candidate's IR and the base profiles.
    """
    candidate = candidate or spec
    phases = {}
    for phase in spec.phases:
        domain = phase.domain
        declared = eff.declared(spec, domain, profiles, kb.expand)
        baseline = eff.accepted_baseline(spec, phase.name, profiles, kb.expand)
        if engine == "linked":
            granted = eff.linked(policy, domain)
        else:
            granted = eff.compositional(candidate, domain, profiles, kb.expand)
        phases[phase.name] = eff.classify(granted, declared, baseline)
    if engine == "linked":
        bounds = {(str(b.parent), str(b.child)) for b in policy.bounds()}
    else:
        bounds = {(r.parent, r.child) for r in candidate.rules if isinstance(r, ir.TypeBounds)}
    exec_types = frozenset(kb.attribute_members.get("exec_type", frozenset())) | {
        t.name for t in candidate.types if "exec_type" in t.attributes}
    ctx = Context(spec, phases, exec_types, bounds, kb.expand)
    return ProofReport(spec, engine, [cls().run(ctx) for cls in REGISTRY], phases)


def link_candidates(cil_texts: dict[str, str], modules, base: BaseSpec = BaseSpec(),
                    progress=None, expand_check: bool = True, save_to: str | None = None):
    """Link CIL modules into a fresh store copy; return the SETools policy (kept in memory).

    ``expand_check=False`` links the way Debian's semodule does by default, letting a bounds or
    neverallow violation through, so the prover can be shown catching it on its own.
    ``save_to`` keeps a copy of the linked kernel policy (for sechecker).
    """
    from selkit.base import load_policy  # noqa: PLC0415
    from selkit.toolchain import link_files  # noqa: PLC0415

    files = {f"{name}.cil": text.encode() for name, text in cil_texts.items()}
    with tempfile.TemporaryDirectory(prefix="selkit-prove-") as tmp:
        dest = save_to or str(Path(tmp, "policy"))
        return load_policy(link_files(files, modules, dest, source_root=base.root, store=base.name,
                                      expand_check=expand_check, progress=progress))
