"""Run the obligations for a module with either engine (or both) and collect a report."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from selkit.base import BaseSpec, load_kb
from selkit.ir import nodes as ir
from selkit.ir.kb import KnowledgeBase
from selkit.prove import effective as eff
from selkit.prove.baseview import base_view, replaced_modules
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
    """Base-policy profiles for every attribute set the modules use, measured with the store
    modules they replace left out (cached per store and replaced set)."""
    sets: set[tuple[str, ...]] = set()
    for module in modules:
        sets |= eff.attribute_sets(module)
    replaced = replaced_modules(modules, load_kb(base))
    return load_profiles(sets, base.root, base.name, progress=progress, replaced=replaced)


def prove(spec: ir.PolicyModule, kb: KnowledgeBase, profiles: ProfileSet, *,
          engine: str = "compositional", candidate: ir.PolicyModule | None = None,
          policy=None, colinked: tuple[ir.PolicyModule, ...] = ()) -> ProofReport:
    """Prove ``spec``'s obligations about ``candidate`` (default: the spec's own module).

    ``engine="linked"`` reads ``policy`` (a SETools policy in which the candidate is linked);
    ``"compositional"`` computes from the candidate's IR and the base profiles. ``colinked``
    are the other modules linked together with it (their types and rules count too).
    """
    candidate = candidate or spec
    view = base_view(kb, (candidate, *colinked))
    expand = view.expand
    phases = {}
    for phase in spec.phases:
        domain = phase.domain
        declared = eff.declared(spec, domain, profiles, view, colinked)
        baseline = eff.accepted_baseline(spec, phase.name, profiles, view, colinked)
        if engine == "linked":
            granted = eff.linked(policy, domain)
            inbound = eff.inbound_linked(policy, domain)
        else:
            granted = eff.compositional(candidate, domain, profiles, view, colinked)
            inbound = eff.inbound_compositional(candidate, domain, profiles, view, colinked)
        phases[phase.name] = eff.classify(granted, declared, baseline)
        phases[phase.name].inbound = inbound
    if engine == "linked":
        bounds = {(str(b.parent), str(b.child)) for b in policy.bounds()}
    else:
        bounds = {(r.parent, r.child) for r in candidate.rules if isinstance(r, ir.TypeBounds)}
    exec_types = expand("exec_type") | {
        t.name for m in (candidate, *colinked) for t in m.types if "exec_type" in t.attributes}
    ctx = Context(spec, phases, exec_types, bounds, expand,
                  eff.memberships((candidate, *colinked), profiles, view))
    return ProofReport(spec, engine, [cls().run(ctx) for cls in REGISTRY], phases)


def link_candidates(cil_texts: dict[str, str], modules, base: BaseSpec = BaseSpec(),
                    progress=None, expand_check: bool = False, save_to: str | None = None):
    """Link CIL modules into a fresh store copy; return the SETools policy (kept in memory).

    By default (``expand_check=False``) it links the way Debian's semodule does, letting a bounds
    or neverallow violation through: the linked engine is the ground truth of what a stock
    Debian would load, and the obligations judge bounds themselves.
    ``save_to`` keeps a copy of the linked kernel policy (for sechecker).
    """
    from selkit.base import load_policy  # noqa: PLC0415
    from selkit.toolchain import link_files  # noqa: PLC0415

    files = {f"{name}.cil": text.encode() for name, text in cil_texts.items()}
    with tempfile.TemporaryDirectory(prefix="selkit-prove-") as tmp:
        dest = save_to or str(Path(tmp, "policy"))
        return load_policy(link_files(files, modules, dest, source_root=base.root, store=base.name,
                                      expand_check=expand_check, progress=progress))
