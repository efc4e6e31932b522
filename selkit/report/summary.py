"""The compile summary: one row per daemon, rendered as plain text or JSON."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SummaryRow:
    """What ``selkit compile`` tells about one module."""

    daemon: str
    source: str
    domains: tuple[str, ...]
    rules_per_phase: tuple[tuple[str, int], ...]
    outputs: tuple[str, ...]
    installed: dict[str, bool | None]  # form ("pp", "cil") -> yes / no / not tried

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "daemon": self.daemon, "source": self.source, "domains": list(self.domains),
            "rules_per_phase": dict(self.rules_per_phase), "outputs": list(self.outputs),
            "installed": self.installed,
        }


HEADERS = ("daemon", "domains", "rules per phase", "outputs", "installed")


def cells(row: SummaryRow) -> tuple[str, ...]:
    """The row as table cells (shared by the plain and rich renderers)."""
    installed = ", ".join(f"{form}: {'yes' if ok else 'no'}"
                          for form, ok in row.installed.items() if ok is not None) or "not tried"
    return (
        row.daemon,
        " ".join(row.domains),
        " ".join(f"{phase}={count}" for phase, count in row.rules_per_phase),
        " ".join(row.outputs),
        installed,
    )


def render_plain(rows: list[SummaryRow]) -> str:
    """A fixed-width text table for pipes and logs."""
    table = [HEADERS] + [cells(r) for r in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADERS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
