"""``selkit new``: a starting .sel spec for a daemon's program."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import click

from selkit.cli.app import TOOLCHAIN_REFUSED, Application, exit_codes
from selkit.cli.options import base_options, base_spec

if TYPE_CHECKING:
    from selkit.scaffold import Scaffold


@click.command("new", epilog=exit_codes(TOOLCHAIN_REFUSED))
@click.option("--exec", "exec_path", required=True, metavar="PATH",
              help="the daemon's program, e.g. /usr/sbin/openvpn")
@click.option("-o", "--output", default=None, metavar="FILE",
              help="where to write the spec (default: NAME.sel here, NAME made from the "
                   "program's file name; '-' prints it)")
@click.option("--name", default=None, metavar="NAME",
              help="the module's name (default: the daemon's, or the base store module that "
                   "labels the program)")
@click.option("--package", default=None, metavar="PKG",
              help="the Debian package whose files to declare (default: the one dpkg -S "
                   "names for the program)")
@click.option("--force", is_flag=True, help="replace the output file if it exists")
@base_options
@click.pass_obj
def new_command(app: Application, exec_path: str, output: str | None, name: str | None,
                package: str | None, force: bool, base: str | None,
                base_store: str | None) -> None:
    """Write a starting spec for a daemon's program: its package's run-time files, the phases
    every tunnel daemon shares, a switch and a forbid, with a TODO at every decision and what
    the program imports as suggestions. It passes selkit check as written."""
    from selkit.base import load_kb  # noqa: PLC0415
    from selkit.compiler import check_output_file, write_atomically  # noqa: PLC0415
    from selkit.scaffold import check_exec, check_output, scaffold  # noqa: PLC0415
    from selkit.scaffold.plan import daemon_name  # noqa: PLC0415

    given, _ = check_exec(exec_path)
    to_stdout = output == "-"
    target = None if to_stdout else output or f"{daemon_name(given)}.sel"
    if target is not None:
        check_output_file(target, "-o")
        check_output(target, force)
    words = ["selkit", "new", "--exec", exec_path]
    words += [w for option, value in (("--name", name), ("--package", package)) if value
              for w in (option, value)]
    spec = base_spec(base, base_store)
    with app.progress("reading the program, its package and the base"):
        made = scaffold(exec_path, lambda: load_kb(spec), name=name, package=package,
                        output=target, command=shlex.join(words))
    if target is None:
        app.write(made.text)
        return
    path = Path(target)
    write_atomically(str(path.parent), {path.name: made.text.encode()})
    for line in summary(made, target):
        app.print(line)


def summary(made: Scaffold, target: str) -> list[str]:
    """What ``selkit new`` says after writing: the names, the package, the suggestions."""
    plan = made.plan
    module = f"module {plan.module}" + (" (replaces the base store's module of that name: "
                                        "see the WARNING)" if plan.replaces else "")
    lines = [f"wrote {target}: daemon {plan.daemon}, {module}, exec {plan.facts.real}"]
    package = plan.package
    if package.package is None:
        lines.append(f"  package: none ({plan.facts.owner.reason})")
    else:
        left = sum(package.left_out.values())
        lines.append(f"  package {package.package}: {len(package.declared)} file "
                     f"declaration{'s' if len(package.declared) != 1 else ''}, {left} "
                     f"file{'s' if left != 1 else ''} left out")
    hints = len(plan.suggestions) + len(plan.seen_files) + len(plan.seen_labelled)
    lines.append(f"  seen in the binary: {hints} suggestion{'s' if hints != 1 else ''}, in "
                 "comments")
    lines.append(f"  next: decide each TODO, then selkit check {target}")
    return lines
