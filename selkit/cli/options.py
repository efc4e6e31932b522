"""Options and steps every command shares: the base policy, --json and --format, the front
end."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from selkit.base import BaseSpec
from selkit.cli.app import Application

if TYPE_CHECKING:
    from selkit.dsl.loader import Program
    from selkit.ir import nodes as ir
    from selkit.ir.kb import KnowledgeBase

_Command = TypeVar("_Command", bound=Callable[..., Any])


def base_options(func: _Command) -> _Command:
    """``--base`` and ``--base-store``."""
    func = click.option(
        "--base-store", "base_store", default=None, metavar="DIR",
        help="the module store of the base, ROOT/var/lib/selinux/NAME (default: found next "
             "to --base; alone, the base is that store's ROOT/etc/selinux/NAME/policy/policy.N)"
    )(func)
    return click.option(
        "--base", "base", default=None, metavar="POLICY",
        help="the base policy, ROOT/etc/selinux/NAME/policy/policy.N (default: Debian's "
             "refpolicy, /etc/selinux/default/policy/policy.33): names resolve against it, and "
             "profiles, --install and the linked engine use copies of its store "
             "ROOT/var/lib/selinux/NAME (e.g. the MLS policy of scripts/mls-root.sh)")(func)


json_option = click.option("--json", "json_mode", is_flag=True,
                           help="machine-readable output and diagnostics")

#: ``--format``: pass its value with --json's to :meth:`Application.choose_format`.
format_option = click.option(
    "--format", "output_format", default=None,
    type=click.Choice(["text", "markdown", "html", "json"]),
    help="text (the default: tables on a terminal, plain in a pipe), markdown (a pull request "
         "comment), html (one self-contained page with charts and filters) or json (--json)")


def base_spec(base: str | None, store: str | None, *, need_store: bool = False) -> BaseSpec:
    """The one base of the --base/--base-store options, for name resolution, profiles, links
    and --install alike; SEL908 up front when the command links into a store it lacks."""
    spec = BaseSpec.from_options(base, store)
    return spec.require_store() if need_store else spec


def front(app: Application, files: tuple[str, ...], spec: BaseSpec
          ) -> tuple[KnowledgeBase, tuple[ir.PolicyModule, ...]]:
    """Parse and check every file against the base: the knowledge base and the modules (or
    all diagnostics of all files); the sources are kept to quote in later diagnostics."""
    kb, _, modules = front_programs(app, files, spec)
    return kb, modules


def front_programs(app: Application, files: tuple[str, ...], spec: BaseSpec
                   ) -> tuple[KnowledgeBase, dict[str, Program], tuple[ir.PolicyModule, ...]]:
    """:func:`front`, with the programs the modules were compiled from (by path)."""
    from selkit.compiler import check_files  # noqa: PLC0415

    kb, programs, modules = check_files(files, spec)
    for program in programs.values():
        app.sources.update(program.texts)
    notes = [note for module in modules for note in module.notes]
    if notes and not app.json_mode:  # warnings and notes that do not stop the command
        app.diagnostics(notes)
    return kb, programs, modules
