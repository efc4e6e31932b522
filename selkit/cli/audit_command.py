"""``selkit audit``: a spec's phases beside the distribution's domain for the daemon."""

from __future__ import annotations

import click

from selkit.cli.app import Application
from selkit.cli.options import base_options, base_spec, front, json_option


@click.command("audit")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--against", "domain", required=True, metavar="DOMAIN",
              help="the distribution's domain for the daemon in the base policy (e.g. "
                   "openvpn_t), which holds its permissions for the daemon's whole life")
@base_options
@json_option
@click.pass_obj
def audit_command(app: Application, file: str, domain: str, base: str | None,
                  base_store: str | None, json_mode: bool) -> None:
    """Compare each phase's domain with the distribution's DOMAIN, per category of dangerous
    permission: what each holds, what the switch removes, what the spec adds."""
    from selkit.analysis.views import profiles_for  # noqa: PLC0415
    from selkit.audit.against import audit_held, check_domain, held_by  # noqa: PLC0415
    from selkit.facts.syscalls import load_table  # noqa: PLC0415
    from selkit.report.audit import AuditReport  # noqa: PLC0415

    app.json_mode = json_mode
    spec = base_spec(base, base_store, need_store=True)  # profiles are measured in it
    kb, modules = front(app, (file,), spec)
    domain = check_domain(kb, domain)  # before reading the policy: a bad name costs nothing
    with app.progress("auditing") as progress:
        profiles = profiles_for(modules, spec, progress, kb=kb)
        held = held_by(kb.source, domain)
        audits = [audit_held(m, kb, profiles, domain, held, modules) for m in modules]
    app.render(AuditReport(domain, kb.source, audits, load_table()))
