"""The CLI's terminal: the only object that prints, shows progress or exits.

rich is imported only when a terminal is there to see it (tables, colour, spinners); in a pipe
everything is plain text written directly.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import textwrap
import traceback
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, NoReturn

import click

from selkit.diagnostics import Diagnostic, DiagnosticError, Severity, ToolchainError, render_plain
from selkit.dsl.limits import MAX_SOURCE_BYTES
from selkit.report.format import Format, Report

if TYPE_CHECKING:  # rich is imported when a console is first needed
    from rich.console import Console
    from rich.text import Text

EXIT_OK, EXIT_TOOLCHAIN, EXIT_USAGE = 0, 1, 2

#: A bug in selkit, an interrupt, and a reader of the output that went away (128 + SIGPIPE, as
#: a shell reports a program killed by SIGPIPE).
EXIT_BUG, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 3, 130, 141

#: A command's negative verdict (a refuted proof, a failed lab run, a file fmt --check would
#: change, a stale patch, an audit over --fail-on or --threshold): the same 1 as a refusal.
EXIT_FAILED = 1

#: What exit status 1 means for a command that links or builds with the SELinux toolchain.
TOOLCHAIN_REFUSED = "the SELinux toolchain refused a module or a link (SEL5xx)"


def exit_codes(*failed: str) -> str:
    """The end of a command's ``--help``: one line per exit status and reason, ``failed`` the
    reasons for 1 (none: the command never exits 1). Click keeps the lines of a paragraph that
    starts with ``\\b``; long reasons are wrapped here."""
    rows = [("0", "success"), *(("1", reason) for reason in failed),
            ("2", "bad input or usage (a coded diagnostic, or a command-line error)"),
            ("3", "a bug in selkit")]
    lines = ["\b", "Exit codes:"]
    for code, reason in rows:
        lines += textwrap.wrap(reason, 74, initial_indent=f"  {code}  ",
                               subsequent_indent=" " * 5)
    return "\n".join(lines)


#: Diagnostics shown in text form; --json always has all of them.
MAX_SHOWN = 50

STYLES = {
    Severity.ERROR: "bold red",
    Severity.WARNING: "bold yellow",
    Severity.NOTE: "bold cyan",
    "gutter": "bold blue",
}


def _is_terminal(stream: IO[str]) -> bool:
    if os.environ.get("SELKIT_FORCE_TERMINAL"):
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Application:
    """Output format, sources for diagnostics and exit handling for one CLI invocation."""

    def __init__(self, json_mode: bool = False):
        self.json_mode = json_mode
        #: --format markdown or html (text and json are the defaults and --json).
        self.document: Format | None = None
        self.sources: dict[str, str] = {}
        self._err_console: Console | None = None

    @property
    def out_is_terminal(self) -> bool:
        """True when stdout is a terminal (rich tables)."""
        return _is_terminal(sys.stdout)

    @property
    def interactive(self) -> bool:
        """True when stderr is a terminal (progress and colour are shown)."""
        return _is_terminal(sys.stderr)

    @property
    def format(self) -> Format:
        """JSON with --json, markdown or HTML when asked, else rich on a terminal and plain
        text in a pipe."""
        if self.json_mode:
            return Format.JSON
        if self.document is not None:
            return self.document
        return Format.RICH if self.out_is_terminal else Format.TEXT

    def choose_format(self, json_mode: bool, output_format: str | None) -> None:
        """The output of ``--json`` and ``--format`` (``--format json`` is ``--json``; the two
        naming different formats is a usage error, exit 2)."""
        if json_mode and output_format not in (None, "json"):
            raise click.UsageError(f"--json and --format {output_format} contradict each "
                                   "other: give one of them")
        self.json_mode = json_mode or output_format == "json"
        self.document = (Format(output_format) if output_format in ("markdown", "html")
                         else None)

    # -- output -----------------------------------------------------------------------------

    def render(self, report: Report) -> None:
        """Show a command's result in the chosen format."""
        from selkit.report.renderers import renderer  # noqa: PLC0415 (markdown, HTML: on use)

        width = shutil.get_terminal_size().columns
        self.write(renderer(self.format, width).render(report))

    def write(self, text: str) -> None:
        """Text on stdout as it is; a source line that was not UTF-8 rides in it as surrogates
        and leaves as its original bytes (a strict UTF-8 stdout would refuse it)."""
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))
        sys.stdout.buffer.flush()

    def print(self, text: str = "") -> None:
        """A line on stdout."""
        self.write(text + "\n")

    def note(self, text: str) -> None:
        """A line on stderr, for a command whose stdout carries data (``fmt --stdout``)."""
        self._err(text)

    def diagnostics(self, diags: tuple[Diagnostic, ...] | list[Diagnostic]) -> None:
        """Show diagnostics: all of them as JSON on stdout, else the first ones on stderr."""
        if self.json_mode:
            from selkit.report.diagnostics import DiagnosticsReport  # noqa: PLC0415
            from selkit.report.format import JsonRenderer  # noqa: PLC0415

            self.write(JsonRenderer().render(DiagnosticsReport(list(diags))))
            return
        shown = list(diags)[:MAX_SHOWN]
        for diag in shown:
            self._load_source(diag)
            self._err(render_plain(diag, self.sources), diag.severity)
        if len(diags) > MAX_SHOWN:
            self._err(f"... and {len(diags) - MAX_SHOWN} more (all of them with --json)")
        errors = sum(1 for d in diags if d.severity is Severity.ERROR)
        if errors:
            self._err(f"{errors} error{'s' if errors != 1 else ''}", Severity.ERROR,
                      whole_line=True)

    def _err(self, text: str, severity: Severity | None = None,
             whole_line: bool = False) -> None:
        if not self.interactive:
            sys.stderr.write(text + "\n")
            return
        from rich.text import Text  # noqa: PLC0415

        if severity is None:
            self._console().print(Text(text))
        elif whole_line:
            self._console().print(Text(text, style=STYLES[severity]))
        else:
            self._console().print(_styled(text, severity))

    def _console(self) -> Console:
        if self._err_console is None:
            from rich.console import Console  # noqa: PLC0415

            self._err_console = Console(stderr=True, markup=False, emoji=False,
                                        highlight=False, force_terminal=True)
        return self._err_console

    def _load_source(self, diag: Diagnostic) -> None:
        """Read a file a diagnostic points into (a used file, a non-UTF-8 file) to quote it."""
        path = diag.span.path if diag.span else None
        if not path or path in self.sources:
            return
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_SOURCE_BYTES + 1)
        except OSError:
            return
        if len(data) <= MAX_SOURCE_BYTES:
            self.sources[path] = data.decode("utf-8", errors="replace")

    @contextlib.contextmanager
    def progress(self, what: str) -> Iterator:
        """A spinner on a terminal; silent in a pipe. Yields a function to update the text."""
        if not self.interactive or self.json_mode:
            yield lambda _msg: None
            return
        from rich.text import Text  # noqa: PLC0415

        with self._console().status(Text(what)) as status:
            yield lambda msg: status.update(Text(msg))

    def exit(self, code: int) -> NoReturn:
        """Leave with ``code``."""
        raise SystemExit(code)


def _styled(text: str, severity: Severity) -> Text:
    """A rendered diagnostic with its header, gutter and carets coloured."""
    from rich.text import Text  # noqa: PLC0415

    out = Text()
    for i, line in enumerate(text.splitlines()):
        if i:
            out.append("\n")
        if i == 0:
            head, _, rest = line.partition(":")
            out.append(head, style=STYLES[severity])
            out.append(":" + rest, style="bold")
        elif line.lstrip().startswith(("-->", "|", "=")) or line[:1].isdigit():
            gutter, sep, rest = line.partition("|")
            if sep:
                out.append(gutter + sep, style=STYLES["gutter"])
                style = STYLES[severity] if set(rest.strip()[:1]) <= {"^"} and \
                    "^" in rest else None
                out.append(rest, style=style)
            else:
                out.append(line, style=STYLES["gutter"])
        else:
            out.append(line)
    return out


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


@contextlib.contextmanager
def reported(app: Callable[[], Application],
             before_report: Callable[[], None] = lambda: None) -> Iterator[None]:
    """Run the body as a command: a library error becomes diagnostics on ``app()`` and an exit
    status (ToolchainError 1, DiagnosticError 2, a bug 3 without a traceback unless
    SELKIT_DEBUG is set, an interrupt 130, a reader gone away 141). ``before_report`` runs
    before anything is reported (the HLL compiler closes its standard output there)."""
    try:
        try:
            try:
                yield
            except ToolchainError as exc:
                before_report()
                app().diagnostics(exc.diagnostics)
                sys.exit(EXIT_TOOLCHAIN)
            except DiagnosticError as exc:
                before_report()
                app().diagnostics(exc.diagnostics)
                sys.exit(EXIT_USAGE)
            except KeyboardInterrupt:
                before_report()
                sys.stderr.write("interrupted\n")
                sys.exit(EXIT_INTERRUPTED)
            except (click.exceptions.Exit, click.exceptions.ClickException, SystemExit,
                    BrokenPipeError):
                raise
            except Exception as exc:  # noqa: BLE001 - last resort: a bug, reported without a trace
                before_report()
                if os.environ.get("SELKIT_DEBUG"):
                    traceback.print_exc()
                sys.stderr.write(f"internal error: {type(exc).__name__}: {exc}\n"
                                 "this is a bug in selkit; rerun with SELKIT_DEBUG=1 for "
                                 "details\n")
                sys.exit(EXIT_BUG)
        finally:
            # Buffered output reaches the pipe here, inside the handler, not at exit.
            sys.stdout.flush()
            sys.stderr.flush()
    except BrokenPipeError:
        _quiet_after_broken_pipe()
