"""Run the obligations for a module with either engine and collect a report."""

from __future__ import annotations

from dataclasses import dataclass, field

from selkit.analysis.effective import Classified
from selkit.analysis.engines import Engine
from selkit.analysis.profile import ProfileSet
from selkit.analysis.views import module_view
from selkit.base import Policy
from selkit.ir import nodes as ir
from selkit.ir.kb import KnowledgeBase
from selkit.prove import filter as _filter  # noqa: F401 (registers its obligation)
from selkit.prove.obligations import REGISTRY, Context, Result, Verdict


@dataclass
class ProofReport:
    """Every obligation's result for one module, by one engine."""

    module: ir.PolicyModule
    engine: Engine
    results: list[Result]
    phases: dict[str, Classified] = field(default_factory=dict)

    @property
    def verdict(self) -> Verdict:
        """REFUTED if any obligation is refuted, else HOLDS (UNKNOWN if any is unknown)."""
        verdicts = {r.verdict for r in self.results}
        if Verdict.REFUTED in verdicts:
            return Verdict.REFUTED
        return Verdict.UNKNOWN if Verdict.UNKNOWN in verdicts else Verdict.HOLDS


def prove(spec: ir.PolicyModule, kb: KnowledgeBase, profiles: ProfileSet, *,
          engine: Engine = Engine.COMPOSITIONAL, candidate: ir.PolicyModule | None = None,
          policy: Policy | None = None, colinked: tuple[ir.PolicyModule, ...] = ()
          ) -> ProofReport:
    """Prove ``spec``'s obligations about ``candidate`` (default: the spec's own module).

    ``engine="linked"`` reads ``policy`` (a SETools policy in which the candidate is linked);
    ``"compositional"`` computes from the candidate's IR and the base profiles. ``colinked``
    are the other modules linked together with it (their types and rules count too).
    """
    view = module_view(spec, kb, profiles, engine=engine, candidate=candidate, policy=policy,
                       colinked=colinked)
    ctx = Context(spec, view.phases, view.exec_types, view.bounds, view.expand,
                  view.linked_attributes)
    return ProofReport(spec, engine, [cls().run(ctx) for cls in REGISTRY], view.phases)
