"""The CLI's terminal: the only object that prints, shows progress or exits."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import Iterator, NoReturn

from rich.console import Console
from rich.table import Table
from rich.text import Text

from selkit.diagnostics import Diagnostic, Severity, render_plain
from selkit.dsl.parser import MAX_SOURCE_BYTES

EXIT_OK, EXIT_TOOLCHAIN, EXIT_USAGE = 0, 1, 2

#: Diagnostics shown in text form; --json always has all of them.
MAX_SHOWN = 50

STYLES = {
    Severity.ERROR: "bold red",
    Severity.WARNING: "bold yellow",
    Severity.NOTE: "bold cyan",
    "gutter": "bold blue",
    "ok": "green",
    "bad": "red",
}


class Application:
    """Console, output mode and exit handling for one CLI invocation."""

    def __init__(self, json_mode: bool = False):
        self.json_mode = json_mode
        force = os.environ.get("SELKIT_FORCE_TERMINAL")
        self.out = Console(markup=False, emoji=False, highlight=False,
                           force_terminal=True if force else None)
        self.err = Console(stderr=True, markup=False, emoji=False, highlight=False,
                           force_terminal=True if force else None)
        self.sources: dict[str, str] = {}

    @property
    def interactive(self) -> bool:
        """True when stderr is a terminal (progress and colour are shown)."""
        return self.err.is_terminal

    # -- output -----------------------------------------------------------------------------

    def print(self, text: str = "") -> None:
        """A line on stdout."""
        if self.out.is_terminal:
            self.out.print(Text(text))
        else:
            sys.stdout.write(text + "\n")

    def emit_json(self, data) -> None:
        """Machine-readable output on stdout."""
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")

    def table(self, headers: tuple[str, ...], rows: list[tuple[str, ...]], plain: str) -> None:
        """A rich table on a terminal, ``plain`` otherwise."""
        if not self.out.is_terminal:
            sys.stdout.write(plain + "\n")
            return
        table = Table(*headers, header_style="bold")
        for row in rows:
            table.add_row(*(Text(c) for c in row))
        self.out.print(table)

    def diagnostics(self, diags: tuple[Diagnostic, ...] | list[Diagnostic]) -> None:
        """Show diagnostics (JSON, rich or plain, by mode)."""
        if self.json_mode:
            self.emit_json({"diagnostics": [d.to_dict() for d in diags]})
            return
        shown = list(diags)[:MAX_SHOWN]
        for diag in shown:
            self._load_source(diag)
            text = render_plain(diag, self.sources)
            if self.err.is_terminal:
                self.err.print(self._styled(text, diag.severity))
            else:
                sys.stderr.write(text + "\n")
        if len(diags) > MAX_SHOWN:
            more = f"... and {len(diags) - MAX_SHOWN} more (all of them with --json)"
            if self.err.is_terminal:
                self.err.print(Text(more))
            else:
                sys.stderr.write(more + "\n")
        errors = sum(1 for d in diags if d.severity is Severity.ERROR)
        if errors and not self.err.is_terminal:
            sys.stderr.write(f"{errors} error{'s' if errors != 1 else ''}\n")
        elif errors:
            self.err.print(Text(f"{errors} error{'s' if errors != 1 else ''}",
                                style=STYLES[Severity.ERROR]))

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

    @staticmethod
    def _styled(text: str, severity: Severity) -> Text:
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

    @contextlib.contextmanager
    def progress(self, what: str) -> Iterator:
        """A spinner on a terminal; silent in a pipe. Yields a function to update the text."""
        if not self.interactive or self.json_mode:
            yield lambda _msg: None
            return
        with self.err.status(Text(what)) as status:
            yield lambda msg: status.update(Text(msg))

    def exit(self, code: int) -> NoReturn:
        """Leave with ``code``."""
        raise SystemExit(code)
