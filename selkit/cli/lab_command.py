"""``selkit lab SPEC.sel|DAEMON|all``: boot an enforcing VM per daemon, pass real traffic, run the
attack battery, and print the side-by-side table."""

from __future__ import annotations

from pathlib import Path

import click

from selkit.cli.app import EXIT_FAILED, Application, exit_codes


@click.command("lab", epilog=exit_codes(
    "a tunnel did not work, an unexpected denial was seen or an attack was not denied",
    "a build, the toolchain or the VM failed (SEL5xx, SEL761-SEL767, SEL781-SEL782)"))
@click.argument("target", metavar="SPEC.sel|DAEMON|all")
@click.option("--scenario", "scenario_file", default=None, metavar="FILE",
              type=click.Path(dir_okay=False),
              help="the lab scenario of SPEC.sel (default: NAME.lab.toml beside it)")
@click.option("--json", "json_mode", is_flag=True, help="machine-readable results")
@click.option("--keep", "keep", default=None, metavar="DIR", type=click.Path(file_okay=False),
              help="leave the initramfs, console and results logs, dmesg and policy in DIR")
@click.option("--suggest", "with_suggestions", is_flag=True,
              help="map each unexpected denial and seccomp record to the .sel statement that "
                   "would allow it")
@click.option("--specs", "spec_dir", default="policies", show_default=True,
              metavar="DIR", type=click.Path(file_okay=False, exists=True),
              help="where a DAEMON name or 'all' looks for NAME.lab.toml scenarios (each "
                   "beside its spec)")
@click.option("--timeout", default=300, show_default=True, metavar="SEC",
              help="per-VM time limit")
@click.pass_obj
def lab_command(app: Application, target: str, scenario_file: str | None, json_mode: bool,
                keep: str | None, with_suggestions: bool, spec_dir: str, timeout: int) -> None:
    """Run confined daemons under a real enforcing kernel with real traffic and an attack
    battery: a spec with its lab scenario (NAME.lab.toml beside NAME.sel), a daemon whose
    scenario is in --specs, or all of them."""
    from selkit.compiler import check_output_dir  # noqa: PLC0415
    from selkit.lab.runner import prepare, run_one, scenarios  # noqa: PLC0415
    from selkit.report.lab import LabReport  # noqa: PLC0415

    app.json_mode = json_mode
    if keep:
        check_output_dir(keep, "--keep")
    chosen = scenarios(target, Path(spec_dir), Path(scenario_file) if scenario_file else None)
    results = []
    with app.progress("preparing the lab") as progress:
        prepared = prepare(chosen, progress)
        for scenario in chosen:
            progress(f"{scenario.daemon}: building")
            results.append(run_one(scenario, prepared, keep=Path(keep) if keep else None,
                                   progress=progress, timeout=timeout,
                                   with_suggestions=with_suggestions))
    report = LabReport(results)
    app.render(report)
    if not report.ok:
        app.exit(EXIT_FAILED)
