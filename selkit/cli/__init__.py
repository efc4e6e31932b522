"""``selkit``: the command line. One module per command, each parsing its options, calling the
library and rendering the result through :mod:`selkit.report`; a command imports what it
needs only when it runs."""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from typing import Any, NoReturn

import click

from selkit import __version__
from selkit.cli.app import EXIT_TOOLCHAIN, EXIT_USAGE, Application
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
from selkit.diagnostics import DiagnosticError, ToolchainError

#: The exit status of a command whose reader went away (128 + SIGPIPE, as a shell reports a
#: program killed by SIGPIPE).
EXIT_BROKEN_PIPE = 141


def _quiet_after_broken_pipe() -> NoReturn:
    """The reader of our output is gone (``selkit ... | head -1``): stop quietly, like other
    Unix tools. Python ignores SIGPIPE and raises BrokenPipeError instead; the standard streams
    are pointed at /dev/null so that flushing them at exit raises nothing more."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            os.dup2(devnull, stream.fileno())
    os.close(devnull)
    os._exit(EXIT_BROKEN_PIPE)  # no more flushing of buffers that can only fail


class _Group(click.Group):
    """Turns library errors into diagnostics and exit codes; never shows a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            try:
                return self._invoke(ctx)
            finally:
                # Buffered output reaches the pipe here, inside the handler, not at exit.
                sys.stdout.flush()
                sys.stderr.flush()
        except BrokenPipeError:
            _quiet_after_broken_pipe()

    def _invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ToolchainError as exc:
            _app(ctx).diagnostics(exc.diagnostics)
            sys.exit(EXIT_TOOLCHAIN)
        except DiagnosticError as exc:
            _app(ctx).diagnostics(exc.diagnostics)
            sys.exit(EXIT_USAGE)
        except KeyboardInterrupt:
            sys.stderr.write("interrupted\n")
            sys.exit(130)
        except (click.exceptions.Exit, click.exceptions.ClickException, SystemExit,
                BrokenPipeError):
            raise
        except Exception as exc:  # noqa: BLE001 - last resort: a bug, reported without a trace
            if os.environ.get("SELKIT_DEBUG"):
                traceback.print_exc()
            sys.stderr.write(f"internal error: {type(exc).__name__}: {exc}\n"
                             "this is a bug in selkit; rerun with SELKIT_DEBUG=1 for details\n")
            sys.exit(3)


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
