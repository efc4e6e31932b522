"""A :class:`Figure` as an inline SVG of horizontal grouped bars: one group per category, one bar
per series, each with its value written beside it, a legend on top.

Drawn here, in Python, from the figure's numbers: nothing is fetched and no script runs. Every
bar carries its numbers as ``data-`` attributes (``data-figure``, ``data-category``,
``data-series``, ``data-value``) so that a test reading the page finds what it shows. The
SVG has a ``<title>`` and a ``<desc>``, and each bar a ``<title>`` (a tooltip), for screen
readers."""

from __future__ import annotations

from html import escape

from selkit.report.format import Figure

#: Okabe and Ito's palette: told apart with every common colour vision deficiency.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442",
           "#000000")

WIDTH = 760
BAR, BAR_GAP, GROUP_GAP = 13, 2, 10
CHAR = 7.2        # the advance of one character of the 12px sans-serif labels, roughly
LEGEND_ROW = 22
VALUE_ROOM = 56   # room right of the longest bar for its value


def number(value: float) -> str:
    """A value as written in the picture and its ``data-value``: integers without a point."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _legend(fig: Figure) -> tuple[list[str], float]:
    """The legend's swatches and names, wrapped into rows; and its height."""
    out, x, y = [], 0.0, 14.0
    for j, name in enumerate(fig.series):
        width = 20 + CHAR * len(name) + 18
        if x and x + width > WIDTH:
            x, y = 0.0, y + LEGEND_ROW
        out.append(f'<rect x="{x:g}" y="{y - 10:g}" width="12" height="12" '
                   f'fill="{PALETTE[j % len(PALETTE)]}"/>'
                   f'<text x="{x + 17:g}" y="{y:g}">{escape(name)}</text>')
        x += width
    return out, y + LEGEND_ROW - 6


def peak(fig: Figure) -> float:
    """The figure's largest value (0 for none)."""
    return max((v for row in fig.values for v in row), default=0.0)


def bar_chart(fig: Figure, ident: str, top_value: float | None = None) -> str:
    """The figure as one ``<svg>`` element; ``ident`` makes its element ids unique. A bar of
    ``top_value`` (default: the figure's largest) spans the width, so that figures drawn
    with the same one compare bar for bar."""
    legend, top = _legend(fig)
    label_w = 10 + CHAR * max((len(c) for c in fig.categories), default=0)
    room = WIDTH - label_w - VALUE_ROOM
    top_value = peak(fig) if top_value is None else top_value
    scale = room / top_value if top_value > 0 else 0.0
    group_h = len(fig.series) * (BAR + BAR_GAP) - BAR_GAP
    height = top + len(fig.categories) * (group_h + GROUP_GAP) + 4
    parts = [f'<svg class="figure" role="img" '
             f'viewBox="0 0 {WIDTH} {height:g}" width="{WIDTH}" height="{height:g}" '
             f'aria-labelledby="{ident}-title {ident}-desc" data-figure="{escape(fig.key)}">',
             f'<title id="{ident}-title">{escape(fig.title)}</title>',
             f'<desc id="{ident}-desc">{escape(fig.description)}</desc>',
             f'<g class="legend">{"".join(legend)}</g>']
    y = top
    for i, category in enumerate(fig.categories):
        parts.append(f'<text class="category" x="{label_w - 8:g}" '
                     f'y="{y + group_h / 2 + 4:g}" text-anchor="end">{escape(category)}</text>')
        for j, series in enumerate(fig.series):
            value = fig.values[i][j]
            shown, length = number(value), max(value, 0) * scale
            tip = f"{series}, {category}: {shown}{' ' + fig.unit if fig.unit else ''}"
            parts.append(
                f'<rect class="bar" x="{label_w:g}" y="{y:g}" width="{length:.1f}" '
                f'height="{BAR}" fill="{PALETTE[j % len(PALETTE)]}" '
                f'data-category="{escape(category)}" data-series="{escape(series)}" '
                f'data-value="{shown}"><title>{escape(tip)}</title></rect>'
                f'<text class="value" x="{label_w + length + 4:.1f}" '
                f'y="{y + BAR - 2:g}">{shown}</text>')
            y += BAR + BAR_GAP
        y += GROUP_GAP - BAR_GAP
    parts.append("</svg>")
    return "\n".join(parts)
