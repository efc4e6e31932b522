"""The one report layer: every command's result is a :class:`Report`, and one renderer per
:class:`Format` turns any report into the text the CLI writes.

A report is data (:meth:`Report.data`, the JSON contract of ``schemas/NAME.schema.json``) and
a sequence of blocks for people (lines of text and tables). The text renderer lays tables out
in fixed-width columns, the rich renderer draws them for a terminal, the JSON renderer prints
the data with the schema it follows. Nothing else in selkit builds JSON output.
"""

from __future__ import annotations

import enum
import io
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar


class Format(str, enum.Enum):
    """How a report is shown (markdown and html come with ``selkit audit``)."""

    TEXT = "text"   # plain text, for pipes and logs
    RICH = "rich"   # tables and colour, for a terminal
    JSON = "json"   # the documented contract (schemas/)


@dataclass(frozen=True)
class Table:
    """Rows under headers; ``indent`` prefixes every line of the plain-text form."""

    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]
    indent: str = ""


Block = str | Table


class Report(ABC):
    """A command's result, renderable in every :class:`Format`."""

    #: The schema's name: ``schemas/{schema}.schema.json``.
    schema: ClassVar[str]
    #: Bumped when a key is removed or changes meaning (adding a key is compatible).
    version: ClassVar[int] = 1

    @abstractmethod
    def data(self) -> dict:
        """The JSON-ready body (without the ``schema`` key)."""

    @abstractmethod
    def blocks(self) -> Sequence[Block]:
        """What people read, in order: lines of text and tables."""


def schema_id(report: Report) -> str:
    """The value of the output's ``schema`` key, e.g. ``selkit/prove/1``."""
    return f"selkit/{report.schema}/{report.version}"


def plain_table(table: Table) -> list[str]:
    """A fixed-width text table: headers, a rule of dashes, then the rows."""
    lines_of = [table.headers] + list(table.rows)
    widths = [max(len(r[i]) for r in lines_of) for i in range(len(table.headers))]
    lines = [table.indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip()
             for r in lines_of]
    lines.insert(1, table.indent + "  ".join("-" * w for w in widths))
    return lines


class Renderer(ABC):
    """Turns a report into the text written on stdout (ending in a newline, or empty)."""

    @abstractmethod
    def render(self, report: Report) -> str:
        """The whole output."""


class TextRenderer(Renderer):
    """Plain text: every block on its own lines."""

    def render(self, report: Report) -> str:
        lines: list[str] = []
        for block in report.blocks():
            lines.extend(plain_table(block) if isinstance(block, Table) else [block])
        return "".join(line + "\n" for line in lines)


class JsonRenderer(Renderer):
    """The report's data under its ``schema`` key, indented, keys sorted."""

    def render(self, report: Report) -> str:
        return json.dumps({"schema": schema_id(report), **report.data()}, indent=2,
                          sort_keys=True) + "\n"


class RichRenderer(Renderer):
    """Tables drawn with rich for a terminal of ``width`` columns (escape codes included)."""

    def __init__(self, width: int = 80):
        self.width = width

    def render(self, report: Report) -> str:
        from rich.console import Console  # noqa: PLC0415 - only a terminal pays for rich
        from rich.table import Table as RichTable  # noqa: PLC0415
        from rich.text import Text  # noqa: PLC0415

        buffer = io.StringIO()
        console = Console(file=buffer, force_terminal=True, width=self.width, markup=False,
                          emoji=False, highlight=False)
        for block in report.blocks():
            if isinstance(block, Table):
                table = RichTable(*block.headers, header_style="bold")
                for row in block.rows:
                    table.add_row(*(Text(c) for c in row))
                console.print(table)
            else:
                console.print(Text(block))
        return buffer.getvalue()


def renderer(fmt: Format, width: int = 80) -> Renderer:
    """The renderer of ``fmt``."""
    if fmt is Format.JSON:
        return JsonRenderer()
    if fmt is Format.RICH:
        return RichRenderer(width)
    return TextRenderer()
