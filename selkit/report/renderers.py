"""The renderer of each :class:`~selkit.report.format.Format`: text, rich and JSON from
:mod:`selkit.report.format`, markdown and HTML from their own modules (which build on it)."""

from __future__ import annotations

from selkit.report.format import Format, JsonRenderer, Renderer, RichRenderer, TextRenderer
from selkit.report.html import HtmlRenderer
from selkit.report.markdown import MarkdownRenderer


def renderer(fmt: Format, width: int = 80) -> Renderer:
    """The renderer of ``fmt`` (``width``: a terminal's columns, for rich)."""
    if fmt is Format.JSON:
        return JsonRenderer()
    if fmt is Format.MARKDOWN:
        return MarkdownRenderer()
    if fmt is Format.HTML:
        return HtmlRenderer()
    if fmt is Format.RICH:
        return RichRenderer(width)
    return TextRenderer()
