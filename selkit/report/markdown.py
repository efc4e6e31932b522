"""Any report as GitHub-flavoured markdown, for a pull request comment: the report's title as a
heading, its blocks in order (tables as tables, details in ``<details>``), then its listings,
each collapsed under its count.

Every text is escaped: a name holding ``<script>`` or ``|`` shows as written and breaks
neither the HTML GitHub allows in a comment nor a table."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from selkit.report.format import (
    Block,
    Heading,
    Listing,
    Renderer,
    Report,
    Table,
    paragraphs,
)

#: Rows of a listing shown in a comment (GitHub takes at most 65,536 characters); the rest are
#: counted, never dropped silently.
MAX_ROWS = 100

_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
#: What makes a line's start a heading, quote, list item or rule.
_LINE_START = re.compile(r"^([#>+=-])")
_NUMBERED = re.compile(r"^(\d+)([.)])")


def _inline(s: str) -> str:
    return _SPECIAL.sub(r"\\\1", html.escape(s, quote=False))


def text(s: str) -> str:
    """``s`` as literal markdown text: HTML escaped, markdown punctuation backslashed."""
    return _NUMBERED.sub(r"\1\\\2", _LINE_START.sub(r"\\\1", _inline(s)))


def cell(s: str) -> str:
    """``s`` in a table cell (where a line break would end the row; no cell starts a line, so
    ``1.`` or ``-`` there is no list)."""
    return _inline(s).replace("\n", "<br>") or " "


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A GitHub table."""
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |",
             "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def _lines(run: list[str]) -> list[str]:
    """Consecutive text lines: unindented ones as the lines of a paragraph (a backslash breaks
    the line), indented ones as list items (nested one level under a less indented item)."""
    out: list[str] = []
    paragraph: list[bool] = []       # whether each line of out is a paragraph's line
    item_indent: list[int] = []      # the indents of the open list items, outermost first
    for line in run:
        indent = len(line) - len(line.lstrip(" "))
        if out and bool(indent) == paragraph[-1]:     # from a paragraph to a list or back
            out.append("")
            paragraph.append(False)
        if not indent:
            item_indent = []
            out.append(text(line))
            paragraph.append(True)
            continue
        while item_indent and item_indent[-1] >= indent:
            item_indent.pop()
        out.append("  " * len(item_indent) + "- " + text(line.lstrip(" ")))
        paragraph.append(False)
        item_indent.append(indent)
    return [line + "\\" if paragraph[i] and i + 1 < len(out) and paragraph[i + 1] else line
            for i, line in enumerate(out)]


def blocks(items: Sequence[Block]) -> list[str]:
    """Blocks as markdown lines, each table, heading or details apart from the text around."""
    out: list[str] = []
    for part in paragraphs(items):
        if isinstance(part, list):
            out += [*_lines(part), ""]
        elif isinstance(part, Heading):
            out += ["## " + text(part.text), ""]
        elif isinstance(part, Table):
            out += [*table(part.headers, part.rows), ""]
        else:
            out += [f"<details{' open' if part.open else ''}>",
                    f"<summary>{html.escape(part.summary, quote=False)}</summary>", "",
                    *blocks(part.blocks), "</details>", ""]
    return out


def listing(item: Listing) -> list[str]:
    """A listing collapsed under its title and count, its first :data:`MAX_ROWS` rows."""
    summary = f"{item.title} ({len(item.rows)})"
    body = table(item.headers, item.rows[:MAX_ROWS]) if item.rows else ["nothing"]
    if len(item.rows) > MAX_ROWS:
        body += ["", f"... and {len(item.rows) - MAX_ROWS} more (all of them in the JSON and "
                 "HTML forms)"]
    return ["<details>", f"<summary>{html.escape(summary, quote=False)}</summary>", "", *body, "",
            "</details>", ""]


class MarkdownRenderer(Renderer):
    """A pull request comment: title, blocks, listings."""

    def render(self, report: Report) -> str:
        lines = ["# " + text(report.title()), "", *blocks(report.blocks())]
        for item in report.listings():
            lines += listing(item)
        while lines and not lines[-1]:
            lines.pop()
        return "".join(line + "\n" for line in lines)
