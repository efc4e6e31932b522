"""``selkit audit --domain/--all`` reports: the domains of a binary policy ranked by exposure
score, each asked-for domain's items one by one, and why PRIVILEGE-setcurrent flags phased
daemons (docs/exposure.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from selkit.audit.exposure import (
    LEVELS,
    SETCURRENT,
    SETCURRENT_NOTE,
    Assessment,
    Item,
    Ranked,
    ceil_div,
    items,
)
from selkit.report.format import Block, Figure, Listing, Report, Table

#: Items named per domain in the ranked table.
TOP_ITEMS = 3
#: Domains named in text as holding setcurrent (JSON has all of them).
MAX_NAMED = 12


def _tenths(value: int) -> str:
    return f"{value // 10}.{value % 10}"


def _item_dict(item: Item) -> dict:
    return {"item": item.name, "weight": item.weight, "range": item.range,
            "description": item.description, "grounding": item.grounding}


def _assessment_dict(a: Assessment, weight_sum: int) -> dict:
    return {"item": a.item.name, "badness": a.badness, "contribution": a.contribution,
            "exposure": _share(a, weight_sum) / 10, "found": a.found,
            "conditional": a.conditional}


def _share(a: Assessment, weight_sum: int) -> int:
    """The item's share of the exposure in tenths, rounded up as systemd's details table
    rounds it."""
    return ceil_div(ceil_div(a.badness * a.item.weight * 100, a.item.range), weight_sum)


@dataclass(frozen=True)
class PhaseRow:
    """A spec's phase scored with the base policy's domains (``--score``)."""

    daemon: str
    phase: str
    domain: str
    source: str


@dataclass(frozen=True)
class ExposureReport(Report):
    """Ranked exposure scores of a policy's domains; ``detailed`` get their item table."""

    policy: str
    ranked: Sequence[Ranked]
    #: The domains listed in detail: --score's phases, then --domain's (in the order given);
    #: empty for --all, which lists every domain in the ranked table.
    detailed: Sequence[str]
    #: --threshold (0.0-10.0), or None.
    threshold: float | None
    #: The spec's phases among ``ranked`` (``--score``), computed by the compositional engine.
    phases: Sequence[PhaseRow] = ()
    schema = "exposure"

    @property
    def shown(self) -> list[Ranked]:
        """The ranked rows the report lists: the asked-for domains, or every domain."""
        if not self.detailed:
            return list(self.ranked)
        by_name = {r.score.domain: r for r in self.ranked}
        return [by_name[d] for d in self.detailed]

    @property
    def above(self) -> list[str]:
        """The listed domains above the threshold (none without one)."""
        if self.threshold is None:
            return []
        return [r.score.domain for r in self.shown if r.score.above(self.threshold)]

    @property
    def setcurrent_holders(self) -> list[str]:
        """The listed domains breaking PRIVILEGE-setcurrent (holding process setcurrent)."""
        return sorted(r.score.domain for r in self.shown
                      if any(a.item.name == SETCURRENT and a.badness
                             for a in r.score.assessments))

    def data(self) -> dict:
        weight_sum = sum(i.weight for i in items())
        return {
            "mode": "domains" if self.detailed else "all",
            "policy": self.policy, "domain_count": len(self.ranked),
            "items": [_item_dict(i) for i in items()], "weight_sum": weight_sum,
            "threshold": self.threshold,
            "above_threshold": self.above,
            "domains": [{
                "rank": r.rank, "domain": r.score.domain, "exposure": r.score.exposure / 10,
                "exposure_tenths": r.score.exposure, "level": r.score.level,
                "badness_sum": r.score.badness_sum,
                "items": [_assessment_dict(a, weight_sum) for a in r.score.assessments
                          if a.badness],
            } for r in self.shown],
            "setcurrent": {"holders": self.setcurrent_holders, "note": SETCURRENT_NOTE},
            "phases": [{"daemon": p.daemon, "phase": p.phase, "domain": p.domain,
                        "source": p.source} for p in self.phases],
        }

    def title(self) -> str:
        return f"selkit audit: exposure of the domains of {self.policy}"

    def figures(self) -> Sequence[Figure]:
        """Each listed domain's exposure; for --all, how many domains have each level."""
        if self.detailed:
            shown = self.shown
            return (Figure("exposure", "Exposure per domain (0.0-10.0)",
                           "the exposure score of each domain listed, as in the table",
                           ("exposure",), tuple(r.score.domain for r in shown),
                           tuple((r.score.exposure / 10,) for r in shown), "exposure"),)
        levels = [name for _, name in reversed(LEVELS)]
        counts = [sum(r.score.level == name for r in self.ranked) for name in levels]
        return (Figure("levels", f"Domains per level, of {len(self.ranked)}",
                       "how many of the policy's domains have each level word",
                       ("domains",), tuple(levels), tuple((n,) for n in counts), "domains"),)

    def listings(self) -> Sequence[Listing]:
        """The ranked domains, filterable by level."""
        return (Listing("ranked", "Domains by exposure", ("rank", "domain", "exposure", "level",
                                                            "top items"),
                        [(str(r.rank), r.score.domain, r.score.text, r.score.level,
                          ", ".join(a.item.name for a in r.score.top(TOP_ITEMS)))
                         for r in self.shown], facets=("level",)),)

    def blocks(self) -> list[Block]:
        out: list[Block] = [
            f"Exposure of the domains of {self.policy} (0.0-10.0, computed as systemd-analyze "
            "security computes a service's; items and formula: docs/exposure.md).",
            "Conditional rules count as held (under every boolean setting); a breadth item's "
            "badness is ceil(log2(1 + pairs x target types)), capped at its range.",
            "A score says how much of these items the policy grants a domain, not whether its "
            "program can be exploited (0.0: none of them)."]
        if self.phases:
            out.append("The spec's phases (" + ", ".join(p.domain for p in self.phases)
                       + ") are computed from the spec with the compositional engine and ranked "
                       "among the policy's domains.")
        out.append("")
        if self.detailed:
            for r in self.shown:
                out += self._detail(r)
        else:
            out.append(Table(("rank", "domain", "exposure", "level", "top items"), [
                (str(r.rank), r.score.domain, r.score.text, r.score.level,
                 ", ".join(a.item.name for a in r.score.top(TOP_ITEMS)))
                for r in self.ranked]))
            out.append("")
        out += self._setcurrent()
        if self.threshold is not None:
            above = self.above
            out += ["", f"Above the threshold {self.threshold:g}: "
                    + (f"{len(above)} domain{'s' * (len(above) != 1)}" if above else "none")
                    + (f" ({', '.join(above[:MAX_NAMED])}"
                       f"{' ...' if len(above) > MAX_NAMED else ''})" if above else "")]
        return out

    def _detail(self, r: Ranked) -> list[Block]:
        weight_sum = sum(i.weight for i in items())
        s = r.score
        rows: list[tuple[str, ...]] = [
            (a.item.name, str(a.item.weight), f"{a.badness}/{a.item.range}",
             _tenths(_share(a, weight_sum)) if a.badness else "", a.found)
            for a in sorted(s.assessments, key=lambda a: -a.contribution)]
        phase = next((p for p in self.phases if p.domain == s.domain), None)
        what = f" (phase {phase.phase} of {phase.daemon}, {phase.source})" if phase else ""
        return [f"{s.domain}{what}: exposure {s.text} {s.level}, rank {r.rank} of "
                f"{len(self.ranked)} domains (1: the most exposed)",
                Table(("item", "weight", "badness", "exposure", "found"), rows, indent="  "),
                ""]

    def _setcurrent(self) -> list[str]:
        holders = self.setcurrent_holders
        named = ", ".join(holders[:MAX_NAMED]) + (" ..." if len(holders) > MAX_NAMED else "")
        head = (f"{SETCURRENT}: {len(holders)} of the {len(self.shown)} domains listed "
                f"hold{'s' * (len(holders) == 1)} process setcurrent"
                + (f" ({named})." if holders else "."))
        return [head, SETCURRENT_NOTE]
