"""``selkit fmt``: rewrite .sel files in canonical form."""

from __future__ import annotations

from pathlib import Path

import click

from selkit.cli.app import EXIT_FAILED, Application, exit_codes
from selkit.diagnostics import Diagnostic, DiagnosticError


@click.command("fmt", epilog=exit_codes("with --check, a file is not canonical"))
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--check", "check_only", is_flag=True,
              help="change nothing; list each file whose canonical form differs and exit 1 if "
                   "there is one (with --stdout the list goes to stderr)")
@click.option("--stdout", "to_stdout", is_flag=True,
              help="print the canonical text instead of rewriting files")
@click.pass_obj
def fmt_command(app: Application, files: tuple[str, ...], check_only: bool, to_stdout: bool
                ) -> None:
    """Rewrite .sel files in canonical form (comments are kept, each after what it followed on
    its line)."""
    from selkit.compiler import write_atomically  # noqa: PLC0415
    from selkit.dsl.loader import read_source  # noqa: PLC0415
    from selkit.dsl.parser import parse  # noqa: PLC0415
    from selkit.dsl.pretty import format_module  # noqa: PLC0415

    diagnostics: list[Diagnostic] = []
    results: dict[str, tuple[str, str]] = {}
    for path in files:
        try:
            text = read_source(path)
            app.sources[path] = text
            results[path] = (text, format_module(parse(text, path)))
        except DiagnosticError as exc:
            diagnostics.extend(exc.diagnostics)
    if diagnostics:
        raise DiagnosticError(diagnostics)
    changed = [path for path, (before, after) in results.items() if before != after]
    if to_stdout:
        app.write("".join(after for _, after in results.values()))
    elif not check_only:
        for path in changed:
            write_atomically(str(Path(path).parent), {Path(path).name: results[path][1].encode()})
    report = app.note if to_stdout else app.print  # stdout is the formatted text
    for path in changed:
        if check_only:
            report(f"would reformat {path}")
        elif not to_stdout:
            report(f"reformatted {path}")
    if check_only and changed:
        app.exit(EXIT_FAILED)
