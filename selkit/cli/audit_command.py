"""``selkit audit``: a spec's phases beside the distribution's domain for the daemon; or, with
``--domain``/``--all``, the domains of a binary policy ranked by exposure
(:mod:`selkit.cli.audit_score`)."""

from __future__ import annotations

from typing import Any

import click

from selkit.cli.app import Application
from selkit.cli.audit_score import run_score, score_options, wants_score
from selkit.cli.options import base_options, base_spec, front, json_option
from selkit.diagnostics import Diagnostic, DiagnosticError


@click.command("audit")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--against", "domain", default=None, metavar="DOMAIN",
              help="the distribution's domain for the daemon in the base policy (e.g. "
                   "openvpn_t), which holds its permissions for the daemon's whole life")
@score_options
@base_options
@json_option
@click.pass_obj
def audit_command(app: Application, files: tuple[str, ...], domain: str | None,
                  base: str | None, base_store: str | None, json_mode: bool,
                  **scoring: Any) -> None:
    """Compare each phase's domain with the distribution's DOMAIN, per category of dangerous
    permission: what each holds, what the switch removes, what the spec adds (FILE --against
    DOMAIN). Or rank the domains of a binary policy by exposure score (--domain, --all), a
    spec's phases among them (FILE --score)."""
    app.json_mode = json_mode
    if wants_score(scoring):
        run_score(app, files, domain, base, base_store, scoring)
        return
    if len(files) != 1 or domain is None:
        raise DiagnosticError([Diagnostic(
            "SEL610", "selkit audit needs one spec FILE with --against DOMAIN, or --domain/--all",
            hint="selkit audit FILE --against DOMAIN | selkit audit --domain DOMAIN | "
                 "selkit audit --all")])
    _against(app, files[0], domain, base, base_store)


def _against(app: Application, file: str, domain: str, base: str | None,
             base_store: str | None) -> None:
    from selkit.analysis.views import profiles_for  # noqa: PLC0415
    from selkit.audit.against import audit_held, check_domain, held_by  # noqa: PLC0415
    from selkit.facts.syscalls import load_table  # noqa: PLC0415
    from selkit.report.audit import AuditReport  # noqa: PLC0415

    spec = base_spec(base, base_store, need_store=True)  # profiles are measured in it
    kb, modules = front(app, (file,), spec)
    domain = check_domain(kb, domain)  # before reading the policy: a bad name costs nothing
    with app.progress("auditing") as progress:
        profiles = profiles_for(modules, spec, progress, kb=kb)
        held = held_by(kb.source, domain)
        audits = [audit_held(m, kb, profiles, domain, held, modules) for m in modules]
    app.render(AuditReport(domain, kb.source, audits, load_table()))
