"""The output format of one invocation: --json and --format together, text drawn with rich on a
terminal and plain in a pipe whatever --format text says, markdown and HTML as asked."""

from __future__ import annotations

import click
import pytest

from selkit.cli.app import Application
from selkit.report.format import Format


@pytest.mark.parametrize(("json_mode", "chosen", "terminal", "expected"), [
    (False, None, False, Format.TEXT),
    (False, None, True, Format.RICH),
    (False, "text", True, Format.RICH),
    (False, "text", False, Format.TEXT),
    (False, "markdown", True, Format.MARKDOWN),
    (False, "html", False, Format.HTML),
    (False, "json", True, Format.JSON),
    (True, None, True, Format.JSON),
    (True, "json", False, Format.JSON),
])
def test_the_chosen_format(json_mode, chosen, terminal, expected, monkeypatch):
    monkeypatch.delenv("SELKIT_FORCE_TERMINAL", raising=False)
    if terminal:
        monkeypatch.setenv("SELKIT_FORCE_TERMINAL", "1")
    app = Application()
    app.choose_format(json_mode, chosen)
    assert app.format is expected
    assert app.json_mode is (expected is Format.JSON)   # diagnostics as JSON too


@pytest.mark.parametrize("chosen", ["text", "markdown", "html"])
def test_json_with_another_format_is_a_usage_error(chosen):
    with pytest.raises(click.UsageError, match=f"--json and --format {chosen} contradict"):
        Application().choose_format(True, chosen)
