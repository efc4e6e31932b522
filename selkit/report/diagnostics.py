"""Diagnostics as a report: what ``--json`` prints when a command fails."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from selkit.diagnostics import Diagnostic, render_plain
from selkit.report.format import Block, Report


@dataclass(frozen=True)
class DiagnosticsReport(Report):
    """Every diagnostic, each with its ``span`` (absent when it points at no source)."""

    diagnostics: Sequence[Diagnostic]
    sources: dict[str, str] = field(default_factory=dict)
    schema = "diagnostics"

    def data(self) -> dict:
        return {"diagnostics": [d.to_dict() for d in self.diagnostics]}

    def blocks(self) -> list[Block]:
        return [render_plain(d, self.sources) for d in self.diagnostics]
