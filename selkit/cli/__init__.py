"""``selkit``: the command line. One module per command, each parsing its options, calling the
library and rendering the result through :mod:`selkit.report`; a command imports what it
needs only when it runs."""

from __future__ import annotations

from typing import Any

import click

from selkit import __version__
from selkit.cli.app import Application, reported
from selkit.cli.audit_command import audit_command
from selkit.cli.check_command import check_command
from selkit.cli.compile_command import compile_command
from selkit.cli.doc_command import doc_group
from selkit.cli.fmt_command import fmt_command
from selkit.cli.lab_command import lab_command
from selkit.cli.new_command import new_command
from selkit.cli.patch_command import patch_command
from selkit.cli.prove_command import prove_command
from selkit.cli.suggest_command import suggest_command


class _Group(click.Group):
    """Turns library errors into diagnostics and exit codes; never shows a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        # The application is looked up when an error is reported: the group's callback makes
        # it, and the command sets its output format.
        with reported(lambda: _app(ctx)):
            return super().invoke(ctx)


def _app(ctx: click.Context) -> Application:
    root = ctx.find_root()
    if not isinstance(root.obj, Application):
        root.obj = Application()
    return root.obj


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="selkit")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Phase-aware SELinux policy for tunnel daemons."""
    ctx.obj = Application()


for _command in (compile_command, check_command, fmt_command, doc_group, prove_command,
                 audit_command, patch_command, lab_command, suggest_command, new_command):
    main.add_command(_command)
