"""``selkit audit --domain DOMAIN... | --all``: the domains of a binary policy ranked by
exposure score (docs/exposure.md). The options and their mode live here, apart from
``audit_command``'s other modes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from selkit.cli.app import Application
from selkit.cli.options import base_spec
from selkit.diagnostics import Diagnostic, DiagnosticError

_Command = TypeVar("_Command", bound=Callable[..., Any])

#: The exit status when a scored domain is above --threshold (as systemd-analyze security
#: --threshold fails; 2 stays bad input).
EXIT_ABOVE = 1


def score_options(func: _Command) -> _Command:
    """``--domain``, ``--all``, ``--policy`` and ``--threshold``."""
    for option in reversed((
        click.option("--domain", "score_domains", multiple=True, metavar="DOMAIN",
                     help="score DOMAIN of the policy item by item, with its rank among all "
                          "the policy's domains (repeatable)"),
        click.option("--all", "score_all", is_flag=True,
                     help="rank every domain of the policy (members of the attribute domain) "
                          "by exposure score"),
        click.option("--policy", "score_policy", default=None, metavar="POLICY",
                     help="the binary policy to score (default: the base, "
                          "/etc/selinux/default/policy/policy.33)"),
        click.option("--threshold", "threshold", type=float, default=None, metavar="N",
                     help="exit 1 when a scored domain's exposure is above N (0.0-10.0)"),
    )):
        func = option(func)
    return func


def wants_score(options: dict[str, Any]) -> bool:
    """Whether any option of this mode was given."""
    return bool(options.get("score_domains") or options.get("score_all")
                or options.get("score_policy") or options.get("threshold") is not None)


def _bad(message: str, hint: str) -> DiagnosticError:
    return DiagnosticError([Diagnostic("SEL610", message, hint=hint)])


def _check(files: tuple[str, ...], against: str | None, domains: tuple[str, ...],
           every: bool, policy: str | None, base: str | None, base_store: str | None) -> None:
    usage = "selkit audit --domain DOMAIN [--domain ...] | --all [--policy POLICY] [--threshold N]"
    if files:
        raise _bad(f"'{files[0]}': exposure scores read a binary policy, not a spec",
                   f"score with {usage}; compare a spec with FILE --against DOMAIN")
    if against:
        raise _bad("--against compares a spec with a domain; it does not go with the "
                   "exposure options", f"use either FILE --against DOMAIN or {usage}")
    if every and domains:
        raise _bad("--all and --domain both given",
                   "--all ranks every domain; --domain details some (with their rank)")
    if not every and not domains:
        raise _bad("--policy and --threshold need --domain or --all", usage)
    if policy and (base or base_store):
        raise _bad("--policy and --base/--base-store both name the policy to score",
                   "give one of them")


def threshold_tenths(threshold: float | None) -> int | None:
    """--threshold in tenths (the exposure's unit), or SEL611 outside 0.0-10.0."""
    if threshold is None:
        return None
    if not 0 <= threshold <= 10:
        raise DiagnosticError([Diagnostic(
            "SEL611", f"--threshold {threshold:g} is outside 0.0-10.0",
            hint="exposures run from 0.0 to 10.0, e.g. --threshold 5.0 (MEDIUM starts there)")])
    return round(threshold * 10)


def run_score(app: Application, files: tuple[str, ...], against: str | None,
              base: str | None, base_store: str | None, options: dict[str, Any]) -> None:
    """Score the domains, render the report; exit 1 when one is above --threshold."""
    from selkit.audit.against import check_domain  # noqa: PLC0415
    from selkit.audit.domains import PolicyHoldings, policy_kb  # noqa: PLC0415
    from selkit.audit.exposure import rank, score  # noqa: PLC0415
    from selkit.base import load_policy  # noqa: PLC0415
    from selkit.report.exposure import ExposureReport  # noqa: PLC0415

    domains, every = tuple(options["score_domains"]), bool(options["score_all"])
    policy_path = options["score_policy"]
    _check(files, against, domains, every, policy_path, base, base_store)
    tenths = threshold_tenths(options["threshold"])
    path = policy_path or base_spec(base, base_store).policy
    with app.progress("scoring domains"):
        policy = load_policy(path)
        kb = policy_kb(policy, path)
        names = list(dict.fromkeys(check_domain(kb, d) for d in domains))
        holdings = PolicyHoldings(policy, kb)
        ranked = rank([score(holdings.held(d)) for d in holdings.domains])
    report = ExposureReport(path, ranked, names, tenths)
    app.render(report)
    if report.above:
        app.exit(EXIT_ABOVE)
