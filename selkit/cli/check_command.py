"""``selkit check``: parse and resolve .sel specs without writing anything."""

from __future__ import annotations

import click

from selkit.cli.app import Application, exit_codes
from selkit.cli.options import base_options, base_spec, front, json_option


@click.command("check", epilog=exit_codes())
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@base_options
@click.option("--dump", type=click.Choice(["ast", "ir", "syscalls"]), default=None,
              help="print the syntax tree, the checked IR (stable text, for debugging) or "
                   "each phase's seccomp allow list with the reason for every call")
@json_option
@click.pass_obj
def check_command(app: Application, files: tuple[str, ...], base: str | None,
                  base_store: str | None, dump: str | None, json_mode: bool) -> None:
    """Parse and resolve .sel specs without writing anything."""
    app.json_mode = json_mode
    _, modules = front(app, files, base_spec(base, base_store))
    if dump == "syscalls":
        from selkit.emit.seccomp import listing  # noqa: PLC0415

        app.write("".join(listing(m) for m in modules))
        return
    if dump:
        from selkit.dsl.parser import parse  # noqa: PLC0415
        from selkit.dump import dump as dump_text  # noqa: PLC0415

        for path in files:
            value = parse(app.sources[path], path) if dump == "ast" else \
                [m for m in modules if m.source_path == path]
            app.write(dump_text(value))
        return
    from selkit.report.compile import CheckReport  # noqa: PLC0415

    app.render(CheckReport(modules))
