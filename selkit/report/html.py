"""Any report as one self-contained HTML page: its figures as inline SVG bar charts
(:mod:`selkit.report.svg`; figures of the same unit on the same scale), its blocks (headings,
tables, ``<details>``), then its listings as tables with filters.

Nothing on the page refers to anything outside it: the CSS and the few lines of script are
inline, and the page's Content-Security-Policy allows exactly those two (by their SHA-256) and
no connection of any kind. The script only adds the filters (one choice per facet, a text box;
the URL's fragment, e.g. ``#phase=startup&category=exec``, sets them); without it the page
reads the same, every row shown. Every text is escaped, so a name holding ``<script>`` shows as
written. The output is deterministic: no date, no random id."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from html import escape

from selkit.report.format import (
    Block,
    Heading,
    Listing,
    Renderer,
    Report,
    Table,
    paragraphs,
    schema_id,
)
from selkit.report.svg import bar_chart, peak

CSS = """
body { font: 14px/1.45 system-ui, sans-serif; color: #1b1f24; background: #fff; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5em 2em 3em; }
h1 { font-size: 1.5em; margin: 0 0 .8em; }
h2 { font-size: 1.2em; margin: 1.6em 0 .5em; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin: .6em 0 1em; }
th, td { border: 1px solid #d0d7de; padding: .25em .6em; text-align: left;
         vertical-align: top; }
th { background: #f6f8fa; }
.text { margin: .4em 0 .8em; }
.line { white-space: pre-wrap; overflow-wrap: anywhere; }
.i1 { margin-left: 2ch; } .i2 { margin-left: 4ch; } .i3 { margin-left: 6ch; }
.i4 { margin-left: 8ch; }
details { margin: .5em 0; } summary { cursor: pointer; font-weight: 600; }
figure { margin: 1em 0 2em; } figcaption { font-weight: 600; margin-bottom: .4em; }
svg.figure { max-width: 100%; height: auto; font: 12px sans-serif; }
svg .value { fill: #1b1f24; } svg .category { fill: #1b1f24; }
.filters { display: flex; flex-wrap: wrap; gap: .4em 1.2em; align-items: center;
           margin: .5em 0; }
.filters output { color: #57606a; }
.listing table { width: 100%; } .listing td { overflow-wrap: anywhere; min-width: 8ch; }
tr[hidden] { display: none; }
""".strip()

SCRIPT = """
for (const list of document.querySelectorAll("section.listing")) {
  const form = list.querySelector("form.filters");
  const rows = Array.from(list.querySelectorAll("tbody tr"));
  const choices = Array.from(form.querySelectorAll("select"));
  const words = form.querySelector("input");
  const shown = form.querySelector("output");
  const apply = () => {
    const needle = words.value.trim().toLowerCase();
    let n = 0;
    for (const row of rows) {
      const keep = choices.every((c) => !c.value ||
          row.cells[Number(c.dataset.column)].textContent.split(", ").includes(c.value)) &&
        (!needle || row.textContent.toLowerCase().includes(needle));
      row.hidden = !keep;
      n += keep ? 1 : 0;
    }
    shown.textContent = n + " of " + rows.length + " shown";
    shown.dataset.shown = String(n);
  };
  const wanted = new URLSearchParams(location.hash.slice(1));
  for (const c of choices) { if (wanted.has(c.name)) c.value = wanted.get(c.name); }
  if (wanted.has("text")) words.value = wanted.get("text");
  form.addEventListener("input", apply);
  form.hidden = false;
  apply();
}
""".strip()


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


#: Only this page's own style and script; no fetch, image, font, frame or form target.
CSP = (f"default-src 'none'; style-src {_sha256(CSS)}; script-src {_sha256(SCRIPT)}; "
       "base-uri 'none'; form-action 'none'")


def _lines(run: list[str]) -> str:
    out = []
    for line in run:
        indent = len(line) - len(line.lstrip(" "))
        level = min((indent + 1) // 2, 4)
        out.append(f'<div class="line{f" i{level}" if level else ""}">'
                   f"{escape(line.lstrip(' '))}</div>")
    return '<div class="text">' + "".join(out) + "</div>"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table with its column headers."""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def blocks(items: Sequence[Block]) -> list[str]:
    """Blocks as HTML elements; consecutive text lines make one paragraph."""
    out: list[str] = []
    for part in paragraphs(items):
        if isinstance(part, list):
            out.append(_lines(part))
        elif isinstance(part, Heading):
            out.append(f"<h2>{escape(part.text)}</h2>")
        elif isinstance(part, Table):
            out.append(table(part.headers, part.rows))
        else:
            out += [f"<details{' open' if part.open else ''}>"
                    f"<summary>{escape(part.summary)}</summary>", *blocks(part.blocks),
                    "</details>"]
    return out


def listing(item: Listing) -> str:
    """A listing: its filters (hidden until the script shows them) above its table."""
    choices = []
    for facet in item.facets:
        options = "".join(f'<option value="{escape(v)}">{escape(v)}</option>'
                          for v in item.values(facet))
        choices.append(f'<label>{escape(facet)} <select name="{escape(facet)}" '
                       f'data-column="{item.headers.index(facet)}">'
                       f'<option value="">all</option>{options}</select></label>')
    form = (f'<form class="filters" hidden>{"".join(choices)}'
            '<label>text <input type="search" name="text"></label>'
            f'<output data-shown="{len(item.rows)}">{len(item.rows)} shown</output></form>')
    body = table(item.headers, item.rows) if item.rows else "<p>nothing</p>"
    return (f'<section class="listing" data-listing="{escape(item.key)}" '
            f'data-count="{len(item.rows)}"><h2>{escape(item.title)}</h2>{form}{body}'
            "</section>")


def page(report: Report) -> str:
    """The whole page."""
    title = escape(report.title())
    drawn = report.figures()
    scale = {fig.unit: max(peak(f) for f in drawn if f.unit == fig.unit) for fig in drawn}
    figures = [f'<figure><figcaption>{escape(fig.title)}</figcaption>'
               f'{bar_chart(fig, f"figure-{i}", scale[fig.unit])}</figure>'
               for i, fig in enumerate(drawn)]
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="selkit ({escape(schema_id(report))})">',
        f"<title>{title}</title>", f"<style>{CSS}</style>", "</head>",
        f'<body data-schema="{escape(schema_id(report))}">', "<main>", f"<h1>{title}</h1>",
        *figures, *blocks(report.blocks()), *(listing(item) for item in report.listings()),
        "</main>", f"<script>{SCRIPT}</script>", "</body>", "</html>", ""])


class HtmlRenderer(Renderer):
    """One self-contained page."""

    def render(self, report: Report) -> str:
        return page(report)
