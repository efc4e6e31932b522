"""A module's phases as either engine sees them: what each phase domain holds, classified.

:func:`module_view` is what ``prove`` judges and what ``audit`` compares; :func:`profiles_for`
and :func:`link_candidates` give it the base profiles (compositional engine) and a linked
policy (linked engine).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from selkit.analysis import effective as eff
from selkit.analysis.baseview import base_view, replaced_modules
from selkit.analysis.engines import Engine
from selkit.analysis.linked import inbound_linked, linked
from selkit.analysis.profile import ProfileSet, load_profiles
from selkit.base import BaseSpec, Policy, load_kb, load_policy
from selkit.ir import nodes as ir
from selkit.ir.kb import KnowledgeBase
from selkit.toolchain import Linker, Progress, link_files


@dataclass
class ModuleView:
    """Every phase's classified grants, with what judging them needs of the link."""

    phases: dict[str, eff.Classified]
    #: Every exec_type once the modules are linked (the base's and the modules' own).
    exec_types: frozenset[str]
    #: (parent, child) of every typebounds the candidate (or the linked policy) holds.
    bounds: set[tuple[str, str]]
    #: The types a base-policy name stands for once the modules are linked.
    expand: Callable[[str], frozenset[str]]
    #: Every attribute each type of the linked modules is in (derived ones included).
    linked_attributes: dict[str, frozenset[str]] = field(default_factory=dict)


def module_view(spec: ir.PolicyModule, kb: KnowledgeBase, profiles: ProfileSet, *,
                engine: Engine = Engine.COMPOSITIONAL, candidate: ir.PolicyModule | None = None,
                policy: Policy | None = None, colinked: tuple[ir.PolicyModule, ...] = ()
                ) -> ModuleView:
    """The grants of each of ``spec``'s phases in ``candidate`` (default: the spec's own module),
    sorted into declared, accepted baseline and leaks.

    ``engine="linked"`` reads ``policy`` (a SETools policy in which the candidate is linked);
    ``"compositional"`` computes from the candidate's IR and the base profiles. ``colinked``
    are the other modules linked together with it (their types and rules count too).
    """
    candidate = candidate or spec
    if engine == Engine.LINKED:
        if policy is None:
            raise ValueError("the linked engine reads a linked policy: pass policy=")
        bounds = {(str(b.parent), str(b.child)) for b in policy.bounds()}
    else:
        bounds = {(r.parent, r.child) for r in candidate.rules if isinstance(r, ir.TypeBounds)}
    view = base_view(kb, (candidate, *colinked))
    phases = {}
    for phase in spec.phases:
        domain = phase.domain
        declared = eff.declared(spec, domain, profiles, view, colinked)
        baseline = eff.accepted_baseline(spec, phase.name, profiles, view, colinked)
        if engine == Engine.LINKED:
            granted = linked(policy, domain)
            inbound = inbound_linked(policy, domain)
        else:
            granted = eff.compositional(candidate, domain, profiles, view, colinked)
            inbound = eff.inbound_compositional(candidate, domain, profiles, view, colinked)
        phases[phase.name] = eff.classify(granted, declared, baseline)
        phases[phase.name].inbound = inbound
    exec_types = view.expand("exec_type") | {
        t.name for m in (candidate, *colinked) for t in m.types if "exec_type" in t.attributes}
    return ModuleView(phases, exec_types, bounds, view.expand,
                      eff.memberships((candidate, *colinked), profiles, view))


def profiles_for(modules: Sequence[ir.PolicyModule], base: BaseSpec = BaseSpec(),
                 progress: Progress | None = None, *,
                 kb: KnowledgeBase | None = None, linker: Linker = link_files) -> ProfileSet:
    """Base-policy profiles for every attribute set the modules use, measured with the store
    modules they replace left out (cached per store and replaced set). ``kb`` is ``base``'s
    knowledge base when the caller holds it already; ``linker`` links the probe module."""
    sets: set[tuple[str, ...]] = set()
    for module in modules:
        sets |= eff.attribute_sets(module)
    replaced = replaced_modules(modules, kb or load_kb(base))
    return load_profiles(sets, base.root, base.name, progress=progress, replaced=replaced,
                         linker=linker)


def link_candidates(cil_texts: dict[str, str], modules: Sequence[ir.PolicyModule],
                    base: BaseSpec = BaseSpec(), progress: Progress | None = None,
                    expand_check: bool = False, save_to: str | None = None,
                    linker: Linker = link_files) -> Policy:
    """Link CIL modules into a fresh store copy; return the SETools policy (kept in memory).

    By default (``expand_check=False``) it links the way Debian's semodule does, letting a bounds
    or neverallow violation through: the linked engine is the ground truth of what a stock
    Debian would load, and the obligations judge bounds themselves.
    ``save_to`` keeps a copy of the linked kernel policy (for sechecker). ``linker`` does the
    link (the tiny-policy tests pass one that compiles a tiny base with secilc).
    """
    files = {f"{name}.cil": text.encode() for name, text in cil_texts.items()}
    with tempfile.TemporaryDirectory(prefix="selkit-prove-") as tmp:
        dest = save_to or str(Path(tmp, "policy"))
        return load_policy(linker(files, modules, dest, source_root=base.root, store=base.name,
                                  expand_check=expand_check, progress=progress))
