"""``selkit compile``: .sel specs to refpolicy sources, CIL and .pp packages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from selkit.cli.app import TOOLCHAIN_REFUSED, Application, exit_codes
from selkit.cli.options import base_options, base_spec, front_programs, json_option

if TYPE_CHECKING:
    from selkit.compiler import Artifact


def _artifacts(_ctx: click.Context, _param: click.Parameter, value: str
               ) -> tuple[Artifact, ...]:
    from selkit.compiler import Artifact  # noqa: PLC0415

    try:
        return Artifact.parse_list(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("compile", epilog=exit_codes(TOOLCHAIN_REFUSED))
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("-o", "--output", "output", default=".", metavar="DIR", show_default=True,
              help="directory for the generated files")
@click.option("--target", "targets", default="te,cil,pp", show_default=True,
              callback=_artifacts,
              help="comma-separated: te (.te/.if/.fc), cil, pp, seccomp (NAME.seccomp.json "
                   "and NAME_seccomp.h: each phase's seccomp filter)")
@base_options
@click.option("--install", is_flag=True,
              help="also install the modules into a copy of the base's store and load the "
                   "result with setools; the copy is made in a temporary directory, named in "
                   "the output, and removed (the live store is never touched)")
@click.option("--bundle", "with_bundle", is_flag=True,
              help="also write MODULE.sel: the spec with every file it uses inlined, which "
                   "semodule -i compiles through the sel HLL compiler (docs/hll.md)")
@json_option
@click.pass_obj
def compile_command(app: Application, files: tuple[str, ...], output: str,
                    targets: tuple[Artifact, ...], base: str | None, base_store: str | None,
                    install: bool, with_bundle: bool, json_mode: bool) -> None:
    """Compile .sel specs into refpolicy modules, CIL and .pp packages."""
    from selkit.compiler import build, bundles, check_output_dir  # noqa: PLC0415
    from selkit.report.compile import CompiledRow, CompileReport  # noqa: PLC0415

    app.json_mode = json_mode
    check_output_dir(output, "-o")
    spec = base_spec(base, base_store, need_store=install)
    kb, programs, modules = front_programs(app, files, spec)
    extra = bundles(programs, modules, kb, output) if with_bundle else {}
    with app.progress("building module packages") as progress:
        done = build(modules, kb, targets, output, install=install, base=spec,
                     progress=progress, extra=extra)
    app.render(CompileReport([CompiledRow(c.module, tuple(sorted(
        [*c.files, *([f"{c.name}.sel"] if with_bundle else [])])), done.installed[c.name])
                              for c in done.modules], done.written, done.stores))
