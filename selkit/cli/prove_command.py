"""``selkit prove``: what each phase's domain can and cannot do."""

from __future__ import annotations

from pathlib import Path

import click

from selkit.analysis.engines import Engine
from selkit.cli.app import EXIT_FAILED, TOOLCHAIN_REFUSED, Application, exit_codes
from selkit.cli.options import base_options, base_spec, front, json_option


@click.command("prove", epilog=exit_codes(
    "an obligation is refuted", "the engines disagree (--engine both)", TOOLCHAIN_REFUSED))
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--engine", type=click.Choice([e.value for e in Engine]),
              default=Engine.COMPOSITIONAL.value,
              show_default=True,
              help="compositional: base policy + module IR, no link; linked: link into a store "
                   "copy and analyse the kernel policy; both: run both and require agreement")
@click.option("--policy", "linked_policy", default=None, metavar="POLICY",
              help="the linked engine proves against this linked binary policy (e.g. the "
                   "live one) instead of linking a store copy; needs --engine linked or both "
                   "(error SEL604 with the compositional engine, which would not read it)")
@click.option("--sechecker-ini", "ini_path", default=None, metavar="FILE",
              help="also write the obligations as a SETools sechecker configuration")
@click.option("--baseline", "show_baseline", is_flag=True,
              help="list the grants the domain attribute brings, one by one")
@base_options
@json_option
@click.pass_obj
def prove_command(app: Application, files: tuple[str, ...], engine: str,
                  linked_policy: str | None, ini_path: str | None, show_baseline: bool,
                  base: str | None, base_store: str | None, json_mode: bool) -> None:
    """Prove what each phase's domain can and cannot do."""
    from selkit.compiler import check_output_file, write_atomically  # noqa: PLC0415
    from selkit.facts.syscalls import load_table  # noqa: PLC0415
    from selkit.prove.api import check_engine_options, prove_files  # noqa: PLC0415
    from selkit.report.prove import ProveReport  # noqa: PLC0415

    app.json_mode = json_mode
    check_engine_options(Engine(engine), linked_policy)  # before any work
    if ini_path:
        check_output_file(ini_path, "--sechecker-ini")
    spec = base_spec(base, base_store, need_store=True)  # profiles are measured in it
    kb, modules = front(app, files, spec)
    with app.progress("proving") as progress:
        outcome = prove_files(modules, kb, engine=Engine(engine), base=spec,
                              linked_policy=linked_policy, progress=progress)
    if ini_path:
        from selkit.prove.sechecker import ini_text  # noqa: PLC0415

        target = Path(ini_path)
        write_atomically(str(target.parent), {target.name: ini_text(modules, kb).encode()})
    report = ProveReport(outcome.reports, load_table(), outcome.disagreements, show_baseline)
    app.render(report)
    if not report.ok:
        app.exit(EXIT_FAILED)
