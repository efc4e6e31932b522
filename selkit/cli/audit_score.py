"""``selkit audit --domain DOMAIN... | --all`` and ``selkit audit SPEC... --score``: the
domains of a binary policy (and a spec's phases) ranked by exposure score (docs/exposure.md).
The options and their mode live here, apart from ``audit_command``'s other modes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from selkit.cli.app import EXIT_FAILED, Application
from selkit.cli.options import base_spec, front
from selkit.diagnostics import Diagnostic, DiagnosticError

if TYPE_CHECKING:
    from selkit.audit.exposure import Score
    from selkit.base import BaseSpec
    from selkit.ir import nodes as ir
    from selkit.ir.kb import KnowledgeBase
    from selkit.report.exposure import PhaseRow

_Command = TypeVar("_Command", bound=Callable[..., Any])

#: The exit status when a scored domain is above --threshold (as systemd-analyze security
#: --threshold fails; 2 stays bad input).
EXIT_ABOVE = EXIT_FAILED


def score_options(func: _Command) -> _Command:
    """``--domain``, ``--all``, ``--threshold`` and ``--score`` (``--policy``, which names the
    policy to score, is the command's: with specs alone it is the drift audit's host policy)."""
    for option in reversed((
        click.option("--domain", "score_domains", multiple=True, metavar="DOMAIN",
                     help="score DOMAIN of the policy item by item, with its rank among all "
                          "the policy's domains (repeatable)"),
        click.option("--all", "score_all", is_flag=True,
                     help="rank every domain of the policy (members of the attribute domain) "
                          "by exposure score"),
        click.option("--threshold", "threshold", type=float, default=None, metavar="N",
                     help="exit 1 when a scored domain's exposure is above N (0.0-10.0)"),
        click.option("--score", "score_spec", is_flag=True,
                     help="score each phase domain of the spec FILEs (compositional engine) "
                          "and rank it among the base policy's domains"),
    )):
        func = option(func)
    return func


def wants_score(options: dict[str, Any]) -> bool:
    """Whether any option of this mode was given."""
    return bool(options.get("score_domains") or options.get("score_all")
                or options.get("threshold") is not None or options.get("score_spec"))


def _bad(message: str, hint: str) -> DiagnosticError:
    return DiagnosticError([Diagnostic("SEL614", message, hint=hint)])


def _check(files: tuple[str, ...], against: str | None, options: dict[str, Any],
           base: str | None, base_store: str | None) -> None:
    usage = ("selkit audit --domain DOMAIN [--domain ...] | --all [--policy POLICY] "
             "[--threshold N], or selkit audit SPEC... --score")
    domains, every = options["score_domains"], options["score_all"]
    spec, policy = options["score_spec"], options["score_policy"]
    if files and not spec:
        raise _bad(f"'{files[0]}': a spec is scored with --score (or compared with --against); "
                   "--domain and --all read a binary policy, not a spec", usage)
    if spec and not files:
        raise _bad("--score scores the phases of spec FILEs: none given", usage)
    if against:
        raise _bad("--against compares a spec with a domain; it does not go with the "
                   "exposure options", f"use either FILE --against DOMAIN or {usage}")
    if every and domains:
        raise _bad("--all and --domain both given",
                   "--all ranks every domain; --domain details some (with their rank)")
    if not (every or domains or spec):
        raise _bad("--policy and --threshold need --domain, --all or --score", usage)
    if spec and policy:
        raise _bad("--score ranks the phases among the domains of the spec's base: --policy "
                   "does not go with it", "name the base with --base/--base-store")
    if policy and (base or base_store):
        raise _bad("--policy and --base/--base-store both name the policy to score",
                   "give one of them")


def check_threshold(threshold: float | None) -> float | None:
    """--threshold as given, or SEL616 outside 0.0-10.0 (or not a number)."""
    if threshold is None:
        return None
    if not 0 <= threshold <= 10:
        raise DiagnosticError([Diagnostic(
            "SEL616", f"--threshold {threshold:g} is outside 0.0-10.0",
            hint="exposures run from 0.0 to 10.0, e.g. --threshold 5.0 (MEDIUM starts there)")])
    return threshold


def run_score(app: Application, files: tuple[str, ...], against: str | None,
              base: str | None, base_store: str | None, options: dict[str, Any]) -> None:
    """Score the domains (and with --score the spec's phases), render the report; exit 1 when
    one listed is above --threshold."""
    from selkit.analysis.allowtable import allow_table  # noqa: PLC0415
    from selkit.audit.against import check_domain  # noqa: PLC0415
    from selkit.audit.domains import PolicyHoldings  # noqa: PLC0415
    from selkit.audit.exposure import rank, score  # noqa: PLC0415
    from selkit.base import BaseSpec, load_kb  # noqa: PLC0415
    from selkit.report.exposure import ExposureReport  # noqa: PLC0415

    _check(files, against, options, base, base_store)
    threshold = check_threshold(options["threshold"])
    base_of = base_spec(base, base_store, need_store=bool(files))  # profiles are measured in it
    path = options["score_policy"] or base_of.policy
    phase_scores: list[Score] = []
    phases: list[PhaseRow] = []
    ours: set[str] = set()  # the spec's phase domains (a --domain may name one)
    if files:
        kb, modules = front(app, files, base_of)
        path = kb.source
        ours = {p.domain for m in modules for p in m.phases}
    with app.progress("scoring domains") as progress:
        rules = allow_table(path)  # first: SEL506 for a file SETools cannot read
        binary = load_kb(BaseSpec(path, None))  # its names and classes, without a store
        names = list(dict.fromkeys(d if d in ours else check_domain(binary, d)
                                   for d in options["score_domains"]))
        if files:
            phases, phase_scores = _score_phases(modules, kb, base_of, progress)
        holdings = PolicyHoldings(rules, binary)
        ranked = rank([score(holdings.held(d)) for d in holdings.domains if d not in ours]
                      + phase_scores)
    listed = [] if options["score_all"] else [p.domain for p in phases] + names
    report = ExposureReport(path, ranked, list(dict.fromkeys(listed)), threshold, phases)
    app.render(report)
    if report.above:
        app.exit(EXIT_ABOVE)


def _score_phases(modules: tuple[ir.PolicyModule, ...], kb: KnowledgeBase, base: BaseSpec,
                  progress: Callable[[str], None]) -> tuple[list[PhaseRow], list[Score]]:
    """Each phase's score from what the compositional engine says it holds (as ``--against``
    computes the phases)."""
    from selkit.analysis.engines import Engine  # noqa: PLC0415
    from selkit.analysis.views import module_view, profiles_for  # noqa: PLC0415
    from selkit.audit.categories import category_map  # noqa: PLC0415
    from selkit.audit.domains import held_from_grants  # noqa: PLC0415
    from selkit.audit.exposure import score  # noqa: PLC0415
    from selkit.report.exposure import PhaseRow  # noqa: PLC0415

    profiles = profiles_for(modules, base, progress, kb=kb)
    cmap = category_map(kb.classes)
    rows, scores = [], []
    for module in modules:
        view = module_view(module, kb, profiles, engine=Engine.COMPOSITIONAL, colinked=modules)
        for phase in module.phases:
            held = held_from_grants(phase.domain, view.phases[phase.name].all, cmap,
                                    view.exec_types)
            rows.append(PhaseRow(module.daemon or module.name, phase.name, phase.domain,
                                 module.source_path))
            scores.append(score(held))
    return rows, scores
