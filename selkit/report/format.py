"""The one report layer: every command's result is a :class:`Report`, and one renderer per
:class:`Format` turns any report into the text the CLI writes.

A report is data (:meth:`Report.data`, the JSON contract of ``schemas/NAME.schema.json``) and
a sequence of blocks for people (lines of text, tables, headings, collapsible details). The
text renderer lays tables out in fixed-width columns, the rich renderer draws them for a
terminal, the JSON renderer prints the data with the schema it follows; the markdown and HTML
renderers (:mod:`selkit.report.markdown`, :mod:`selkit.report.html`) add what a report declares
beside its blocks: its :class:`Figure` values (bar charts in HTML) and its :class:`Listing`
(a table people filter). Nothing else in selkit builds JSON output.
"""

from __future__ import annotations

import enum
import io
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar


class Format(str, enum.Enum):
    """How a report is shown."""

    TEXT = "text"            # plain text, for pipes and logs
    RICH = "rich"            # tables and colour, for a terminal
    JSON = "json"            # the documented contract (schemas/)
    MARKDOWN = "markdown"    # a pull request comment
    HTML = "html"            # one self-contained page with the report's figures


@dataclass(frozen=True)
class Table:
    """Rows under headers; ``indent`` prefixes every line of the plain-text form."""

    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]
    indent: str = ""


@dataclass(frozen=True)
class Heading:
    """A title line (a heading in markdown and HTML, the line itself in text)."""

    text: str


@dataclass(frozen=True)
class Details:
    """Blocks under a summary line: collapsed in markdown and HTML unless ``open``, the summary
    and then the blocks in text."""

    summary: str
    blocks: Sequence[Block]
    open: bool = False


Block = str | Table | Heading | Details


@dataclass(frozen=True)
class Figure:
    """Numbers to draw as grouped bars: ``values[i][j]`` is category ``i`` of series ``j``.

    ``key`` names the figure in the HTML (``data-figure``), ``unit`` what a value counts.
    The values come from the same data as the report's JSON, so the picture cannot say
    something else."""

    key: str
    title: str
    description: str
    series: tuple[str, ...]
    categories: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]
    unit: str = ""

    def __post_init__(self) -> None:
        if len(self.values) != len(self.categories) or \
                any(len(v) != len(self.series) for v in self.values):
            raise ValueError(f"figure {self.key}: values are not categories x series")


@dataclass(frozen=True)
class Listing:
    """Items people filter (a change or grant list): a table whose ``facets`` (some of its
    headers) each get a filter by value; a cell of a facet column may hold several values,
    separated by ``", "``."""

    key: str
    title: str
    headers: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    facets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if any(len(row) != len(self.headers) for row in self.rows) or \
                not set(self.facets) <= set(self.headers):
            raise ValueError(f"listing {self.key}: a row or a facet does not fit the headers")

    def values(self, facet: str) -> list[str]:
        """The distinct values of a facet column, in order of first appearance."""
        i = self.headers.index(facet)
        return list(dict.fromkeys(v for row in self.rows for v in row[i].split(", ") if v))


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

    def title(self) -> str:
        """The page's or comment's title."""
        return f"selkit {self.schema}"

    def figures(self) -> Sequence[Figure]:
        """The pictures of the HTML page (none unless a report declares some)."""
        return ()

    def listings(self) -> Sequence[Listing]:
        """The filterable lists of markdown and HTML (none unless a report declares some)."""
        return ()


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


def flat(blocks: Sequence[Block]) -> Iterator[str | Table]:
    """The blocks as text shows them: a heading is its line, details their summary line and
    then their blocks."""
    for block in blocks:
        if isinstance(block, Heading):
            yield block.text
        elif isinstance(block, Details):
            yield block.summary
            yield from flat(block.blocks)
        else:
            yield block


def paragraphs(blocks: Sequence[Block]) -> Iterator[list[str] | Table | Heading | Details]:
    """The blocks with each run of non-blank text lines joined into one paragraph (a list of
    lines, right-stripped); a blank line ends a paragraph and is dropped."""
    run: list[str] = []
    for block in blocks:
        if isinstance(block, str) and block.strip():
            run.append(block.rstrip())
            continue
        if run:
            yield run
            run = []
        if not isinstance(block, str):
            yield block
    if run:
        yield run


class TextRenderer(Renderer):
    """Plain text: every block on its own lines."""

    def render(self, report: Report) -> str:
        lines: list[str] = []
        for block in flat(report.blocks()):
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
        for block in flat(report.blocks()):
            if isinstance(block, Table):
                table = RichTable(*block.headers, header_style="bold")
                for row in block.rows:
                    table.add_row(*(Text(c) for c in row))
                console.print(table)
            else:
                console.print(Text(block))
        return buffer.getvalue()
