"""``selkit audit``: a spec's phases beside the distribution's domain (``--against``), two
versions of a policy (``OLD NEW``), a host's policy against its specs (``--policy``), or the
domains of a policy ranked by exposure (``--domain``/``--all``/``--score``:
:mod:`selkit.cli.audit_score`)."""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import click

from selkit.cli.app import EXIT_FAILED, TOOLCHAIN_REFUSED, Application, exit_codes
from selkit.cli.audit_score import run_score, score_options, wants_score
from selkit.cli.options import base_options, base_spec, format_option, front, json_option
from selkit.diagnostics import Diagnostic, DiagnosticError

if TYPE_CHECKING:
    from selkit.audit.categories import Category
    from selkit.audit.changes import PolicyChanges
    from selkit.audit.sides import Side
    from selkit.base import BaseSpec
    from selkit.progress import Progress


def _usage(message: str, hint: str) -> DiagnosticError:
    return DiagnosticError([Diagnostic("SEL614", message, hint=hint)])


@click.command("audit", epilog=exit_codes(
    "a change adds a grant in a --fail-on category", "a scored domain is above --threshold",
    TOOLCHAIN_REFUSED))
@click.argument("sources", nargs=-1, metavar="[SPEC | OLD NEW | SPEC...]")
@click.option("--against", "domain", default=None, metavar="DOMAIN",
              help="compare the spec's phases with the distribution's domain for the daemon "
                   "in the base policy (e.g. openvpn_t), which holds its permissions for the "
                   "daemon's whole life")
@click.option("--policy", "policy", default=None, metavar="POLICY",
              help="a kernel policy: with SPECs, drift (what it grants each phase beyond the "
                   "spec, e.g. /sys/fs/selinux/policy); with --domain/--all, the policy to "
                   "score (default: the base)")
@click.option("--store", "host_store", default=None, metavar="DIR",
              help="with --policy: the store that policy was linked from, to name the module "
                   "of each rule (default: found next to the policy, or the system's store "
                   "for /sys/fs/selinux/policy)")
@click.option("--fail-on", "fail_on", default=None, metavar="CATEGORY,...",
              help="exit 1 when a change adds a grant in one of these categories (or "
                   "severities: high, medium, low)")
@click.option("--details", is_flag=True,
              help="OLD NEW and drift: list every change in text (by default the first of "
                   "each severity group, then counts; --json always has all)")
@score_options
@base_options
@json_option
@format_option
@click.pass_obj
def audit_command(app: Application, sources: tuple[str, ...], domain: str | None,
                  policy: str | None, host_store: str | None, fail_on: str | None,
                  details: bool, base: str | None, base_store: str | None, json_mode: bool,
                  output_format: str | None, **scoring: Any) -> None:
    """Audit a spec against the distribution's domain (SPEC --against DOMAIN), two versions of
    a policy (OLD NEW: each a spec, a .cil/.pp module, a kernel policy, or REV:PATH at a git
    revision), a host's kernel policy against its specs (--policy POLICY SPEC...), or rank the
    domains of a policy by exposure score (--domain, --all; a spec's phases: SPEC... --score)."""
    app.choose_format(json_mode, output_format)
    if wants_score(scoring):
        if fail_on or host_store:
            raise _usage("--fail-on and --store do not go with the exposure options",
                         "--threshold N fails on a score above N")
        run_score(app, sources, domain, base, base_store, {**scoring, "score_policy": policy})
        return
    from selkit.audit.categories import named  # noqa: PLC0415

    host_policy = policy
    categories = named(fail_on) if fail_on else ()
    if domain is not None:
        if len(sources) != 1 or host_policy:
            raise _usage("--against takes exactly one spec and no --policy",
                         "selkit audit policies/openvpn.sel --against openvpn_t")
        crossed = _against(app, sources[0], domain, base, base_store, categories)
    elif host_policy is not None:
        if not sources:
            raise _usage("--policy needs the specs to hold the host's policy against",
                         "selkit audit --policy /sys/fs/selinux/policy policies/*.sel")
        changes, store = _drift(app, sources, host_policy, host_store, base, base_store)
        crossed = _render_changes(app, changes, "drift", details, categories, store)
    elif len(sources) == 2:
        changes = _versions(app, sources, base, base_store)
        crossed = _render_changes(app, changes, "versions", details, categories)
    else:
        raise _usage(f"selkit audit takes a spec with --against, two sides (OLD NEW), or "
                     f"--policy with specs; got {len(sources)} argument(s)",
                     "selkit audit HEAD~1:policies/x.sel policies/x.sel")
    if crossed:
        app.exit(EXIT_FAILED)


def _against(app: Application, file: str, domain: str, base: str | None,
             base_store: str | None, categories: tuple[Category, ...]) -> bool:
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
    return any(audit.beyond_in(categories) for audit in audits)


def _versions(app: Application, sources: tuple[str, ...], base: str | None,
              base_store: str | None) -> PolicyChanges:
    from selkit.audit.changes import audit_changes  # noqa: PLC0415
    from selkit.base import load_policy  # noqa: PLC0415

    spec = base_spec(base, base_store)
    with ExitStack() as stack, app.progress("auditing") as progress:
        old, new = (_side(app, stack, s, spec, progress) for s in sources)
        return audit_changes(old, new, load_policy(old.policy_path),
                             load_policy(new.policy_path))


def _drift(app: Application, sources: tuple[str, ...], host_policy: str,
           host_store: str | None, base: str | None, base_store: str | None
           ) -> tuple[PolicyChanges, str | None]:
    from selkit.audit.changes import audit_changes  # noqa: PLC0415
    from selkit.audit.drift import attribute, host_store_of  # noqa: PLC0415
    from selkit.audit.sides import host_kernel_policy, policy_side, spec_side  # noqa: PLC0415
    from selkit.base import load_policy  # noqa: PLC0415

    spec = base_spec(base, base_store)
    store = host_store_of(host_policy, host_store)
    host_kernel_policy(host_policy)
    _, modules = front(app, sources, spec.require_store())
    with app.progress("auditing") as progress:
        expected = spec_side(" ".join(sources), modules, spec, progress=progress)
        host = policy_side(host_policy, host_policy)
        changes = audit_changes(expected, host, load_policy(expected.policy_path),
                                load_policy(host_policy))
    return (attribute(changes, store) if store else changes), store


def _side(app: Application, stack: ExitStack, argument: str, spec: BaseSpec,
          progress: Progress) -> Side:
    from selkit.audit.sides import (  # noqa: PLC0415
        SideKind,
        kind_of,
        materialised,
        module_side,
        policy_side,
        spec_side,
    )

    path, shown_as = stack.enter_context(materialised(argument))
    kind = kind_of(path)
    if kind is SideKind.POLICY:
        return policy_side(argument, path)
    if kind is SideKind.MODULE:
        return module_side(argument, path, spec.require_store(), progress)
    _, modules = front(app, (path,), spec.require_store())
    return spec_side(argument, modules, spec, shown_as, progress)


def _render_changes(app: Application, changes: PolicyChanges, mode: str, details: bool,
                    categories: tuple[Category, ...], store: str | None = None) -> bool:
    """Show the changes; whether one crosses ``--fail-on``."""
    from selkit.facts.syscalls import load_table  # noqa: PLC0415
    from selkit.report.audit_diff import ChangesReport  # noqa: PLC0415

    app.render(ChangesReport(changes, load_table(), mode, store, details))
    return bool(changes.crossing(categories))
