"""``selkit fmt``: rewrite .sel files in canonical form."""

from __future__ import annotations

from pathlib import Path

import click

from selkit.cli.app import Application
from selkit.diagnostics import Diagnostic, DiagnosticError


@click.command("fmt")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--check", "check_only", is_flag=True,
              help="exit 1 if a file is not canonically formatted; change nothing")
@click.option("--stdout", "to_stdout", is_flag=True, help="print instead of rewriting files")
@click.pass_obj
def fmt_command(app: Application, files: tuple[str, ...], check_only: bool, to_stdout: bool
                ) -> None:
    """Rewrite .sel files in canonical form (comments are kept)."""
    from selkit.compiler import write_atomically  # noqa: PLC0415
    from selkit.dsl.loader import read_source  # noqa: PLC0415
    from selkit.dsl.parser import parse  # noqa: PLC0415
    from selkit.dsl.pretty import format_module  # noqa: PLC0415

    diagnostics: list[Diagnostic] = []
    changed: list[str] = []
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
    for path, (before, after) in results.items():
        if to_stdout:
            app.write(after)
        elif before != after:
            changed.append(path)
            if not check_only:
                write_atomically(str(Path(path).parent), {Path(path).name: after.encode()})
    for path in changed:
        app.print(f"{'would reformat' if check_only else 'reformatted'} {path}")
    if check_only and changed:
        app.exit(1)
