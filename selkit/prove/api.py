"""``selkit prove`` as a library call: one or both engines over checked modules."""

from __future__ import annotations

from dataclasses import dataclass, field

from selkit.analysis.engines import Engine
from selkit.analysis.views import link_candidates, profiles_for
from selkit.base import BaseSpec, Policy
from selkit.emit import CilEmitter
from selkit.ir import nodes as ir
from selkit.ir.kb import KnowledgeBase
from selkit.prove.engine import ProofReport, prove
from selkit.toolchain import Linker, Progress, link_files


@dataclass
class Outcome:
    """Reports of every module (per engine) and where the engines disagree."""

    reports: list[ProofReport] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)

    @property
    def agree(self) -> bool:
        """True unless both engines ran and differ."""
        return not self.disagreements


def compare(a: ProofReport, b: ProofReport) -> list[str]:
    """Differences in verdicts and in every phase's grants between two reports."""
    out = []
    for ra, rb in zip(a.results, b.results, strict=True):
        if ra.verdict != rb.verdict:
            out.append(f"{a.module.name}: {ra.id} is {ra.verdict.value} ({a.engine}) but "
                       f"{rb.verdict.value} ({b.engine})")
    for phase in a.phases:
        ia, ib = set(a.phases[phase].inbound), set(b.phases[phase].inbound)
        for grant in sorted(ia - ib, key=lambda g: g.key())[:20]:
            out.append(f"{a.module.name}: {grant.target} may {grant.tclass} {grant.perm} on "
                       f"{phase} only by {a.engine}")
        for grant in sorted(ib - ia, key=lambda g: g.key())[:20]:
            out.append(f"{a.module.name}: {grant.target} may {grant.tclass} {grant.perm} on "
                       f"{phase} only by {b.engine}")
        ga, gb = a.phases[phase].all, b.phases[phase].all
        for grant in sorted(ga - gb, key=lambda g: g.key())[:20]:
            out.append(f"{a.module.name}: {phase} has {grant.text()} only by {a.engine}")
        for grant in sorted(gb - ga, key=lambda g: g.key())[:20]:
            out.append(f"{a.module.name}: {phase} has {grant.text()} only by {b.engine}")
    return out


def _require_types(policy: Policy, modules: tuple[ir.PolicyModule, ...], path: str) -> None:
    from selkit.diagnostics import Diagnostic, DiagnosticError  # noqa: PLC0415

    present = {str(t) for t in policy.types()}
    missing = sorted(p.domain for m in modules for p in m.phases if p.domain not in present)
    if missing:
        raise DiagnosticError([Diagnostic(
            "SEL601", f"the policy '{path}' has no type {', '.join(missing)}",
            hint="install the compiled module into that policy first, or leave out --policy "
                 "to link a store copy")])


def check_engine_options(engine: Engine, linked_policy: str | None) -> None:
    """SEL604 when ``linked_policy`` is given to an engine choice that never reads it (the
    compositional engine alone): a proof without the policy the caller named, reported as if
    about it, is worse than none."""
    if linked_policy and engine == Engine.COMPOSITIONAL:
        from selkit.diagnostics import Diagnostic, DiagnosticError  # noqa: PLC0415

        raise DiagnosticError([Diagnostic(
            "SEL604", f"--policy names a linked policy ('{linked_policy}'), which only the "
                      "linked engine reads; the compositional engine would prove without it",
            hint="add --engine linked to prove against that policy, or --engine both to "
                 "compare it with the compositional engine's proof; or leave out --policy")])


def prove_files(modules: tuple[ir.PolicyModule, ...], kb: KnowledgeBase, *,
                engine: Engine = Engine.COMPOSITIONAL, base: BaseSpec = BaseSpec(),
                linked_policy: str | None = None, progress: Progress | None = None,
                linker: Linker = link_files) -> Outcome:
    """Prove every module with the chosen engine(s); ``linker`` does the links (the probe
    module that measures the base's profiles, and the linked engine's unless
    ``linked_policy`` names a policy already linked: SEL604 with the compositional engine,
    which would not read it)."""
    check_engine_options(engine, linked_policy)
    profiles = profiles_for(modules, base, progress, kb=kb, linker=linker)
    outcome = Outcome()
    policy = None
    if engine in (Engine.LINKED, Engine.BOTH):
        if linked_policy:
            from selkit.base import load_policy  # noqa: PLC0415

            policy = load_policy(linked_policy)
            _require_types(policy, modules, linked_policy)
        else:
            cils = {m.name: CilEmitter().emit(m).text() for m in modules}
            policy = link_candidates(cils, modules, base, progress, linker=linker)
    for module in modules:
        if engine in (Engine.COMPOSITIONAL, Engine.BOTH):
            outcome.reports.append(prove(module, kb, profiles, colinked=modules))
        if engine in (Engine.LINKED, Engine.BOTH):
            outcome.reports.append(prove(module, kb, profiles, engine=Engine.LINKED, policy=policy,
                                         colinked=modules))
        if engine == Engine.BOTH:
            outcome.disagreements += compare(outcome.reports[-2], outcome.reports[-1])
    return outcome
