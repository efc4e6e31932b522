"""``selkit audit --against`` reports: per category of dangerous permission, the distribution's
domain beside each phase; then what the switch removes, what the spec adds beyond the
distribution, and the dangerous grants the steady phase keeps (spec line, system calls).

For markdown and HTML the report also declares, from the same data as its JSON, one figure per
module (the pairs per category of the distribution's domain and of each phase) and one listing
(every categorised grant of every phase, filtered by phase, category, severity and kind)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from selkit.audit.against import Against, Holding, Perm, PhaseGrant
from selkit.audit.categories import Severity
from selkit.facts.syscalls import SyscallTable
from selkit.report.format import Block, Details, Figure, Heading, Listing, Report, Table
from selkit.report.prove import gated_text

#: Permissions listed per category in text (JSON has all of them).
MAX_PERMS_SHOWN = 10


def _perm_texts(perms: Iterable[Perm]) -> list[str]:
    return [f"{c}:{p}" for c, p in sorted(perms)]


def _holding(h: Holding) -> dict:
    return {"perms": _perm_texts(h.perms), "grants": len(h.grants),
            "conditional": _perm_texts(h.conditional)}


def _cell(h: Holding) -> str:
    return f"{len(h.perms)} ({len(h.grants)})" if h.perms else "0"


def _listed(perms: Iterable[Perm]) -> str:
    texts = _perm_texts(perms)
    more = f" ... and {len(texts) - MAX_PERMS_SHOWN} more" if len(texts) > MAX_PERMS_SHOWN else ""
    return " ".join(texts[:MAX_PERMS_SHOWN]) + more


def _grant_dict(table: SyscallTable, g: PhaseGrant) -> dict:
    out = {"target": g.grant.target, "class": g.grant.tclass, "perm": g.grant.perm,
           "conditional": g.grant.conditional, "categories": [c.value for c in g.categories],
           "kind": g.kind, "way": g.way,
           "syscalls": list(table.gated(g.grant.tclass, g.grant.perm))}
    if g.at:
        out["at"] = g.at
    return out


def _grant_lines(table: SyscallTable, g: PhaseGrant) -> list[str]:
    where = f"{g.at} {g.way}" if g.at else f"{g.kind}: {g.way}"
    return [f"  {g.grant.text()}  ({', '.join(c.value for c in g.categories)})  [{where}]",
            f"      -> {gated_text(table.gated(g.grant.tclass, g.grant.perm))}"]


def to_dict(audit: Against, table: SyscallTable) -> dict:
    """JSON-ready form of one module's audit."""
    m = audit.module
    return {
        "daemon": m.daemon or m.name, "module": m.name, "source": m.source_path,
        "phases": [{"phase": name, "domain": domain} for name, domain in audit.phases],
        "steady_phase": audit.steady,
        "categories": [{
            "category": row.category.value, "severity": row.category.severity.value,
            "meaning": row.category.meaning,
            "distribution": _holding(row.distribution),
            "phases": {name: _holding(h) for name, h in row.phases.items()},
            "removed_after_switch": _perm_texts(row.removed),
            "beyond_distribution": {name: _perm_texts(ps) for name, ps in row.beyond.items()},
        } for row in audit.rows],
        "grants": {name: [_grant_dict(table, g) for g in grants]
                   for name, grants in audit.grants.items()},
    }


def blocks_of(audit: Against, table: SyscallTable) -> list[Block]:
    """One module's audit for people: the table, then the details, the dangerous first."""
    m = audit.module
    names = [name for name, _ in audit.phases]
    steady_domain = m.domain_of(audit.steady)
    out: list[Block] = [
        Heading(f"{m.daemon or m.name} ({m.source_path}) against {audit.domain} of "
                f"{audit.policy}"),
        "Counts: class:permission pairs whatever the target, (grants: target, class, "
        "permission) beside them.",
        f"removed (after the switch): pairs {audit.domain} holds and {steady_domain} does not; "
        f"beyond (the distribution): pairs a phase holds and {audit.domain} does not.",
        "Conditional rules count as held (under every boolean setting).", ""]
    rows = []
    for row in audit.rows:
        beyond = [f"{name} {len(ps)}" for name, ps in row.beyond.items() if ps]
        rows.append((row.category.value, row.category.severity.value, _cell(row.distribution),
                     *(_cell(row.phases[name]) for name in names), str(len(row.removed)),
                     ", ".join(beyond) or "0"))
    out.append(Table(("category", "severity", audit.domain, *names, "removed", "beyond"), rows))
    beyond_rows = [row for row in audit.rows if any(row.beyond.values())]
    added: list[Block] = []
    for row in beyond_rows:
        for name, perms in row.beyond.items():
            for g in audit.grants[name]:
                if (g.grant.tclass, g.grant.perm) in perms and row.category in g.categories:
                    head, calls = _grant_lines(table, g)
                    added += [f"  {name}: {head.lstrip()}", calls]
    out += ["", Details(f"Beyond the distribution (granted by the spec, not held by "
                        f"{audit.domain}):", added or ["  nothing"], open=bool(added))]
    removed = [row for row in audit.rows if row.removed and row.category.severity is Severity.HIGH]
    out += ["", Details(f"Removed for good after the switch (held by {audit.domain}, not by "
                        f"{steady_domain}), high severity:",
                        [f"  {row.category.value}: {_listed(row.removed)}" for row in removed]
                        or ["  nothing"])]
    kept = [line for g in audit.grants[audit.steady]
            if any(c.severity is Severity.HIGH for c in g.categories)
            for line in _grant_lines(table, g)]
    out += ["", Details(f"What {steady_domain} keeps in a high-severity category, and the "
                        "system calls it gates:", kept or ["  nothing"], open=bool(kept))]
    return out


def figure_of(audit: Against) -> Figure:
    """The pairs per category of the distribution's domain and of each phase."""
    m = audit.module
    names = [name for name, _ in audit.phases]
    return Figure(
        key=m.name, unit="pairs",
        title=f"{m.daemon or m.name}: class:permission pairs per category, {audit.domain} "
              f"beside each phase",
        description=f"For each category of dangerous permission, the class:permission pairs "
                    f"(whatever the target) held by the distribution's domain {audit.domain} "
                    f"for the daemon's whole life and by the domain of each phase of "
                    f"{m.source_path}: " + ", ".join(f"{n} ({d})" for n, d in audit.phases) +
                    ". Conditional rules count as held.",
        series=(audit.domain, *names),
        categories=tuple(row.category.value for row in audit.rows),
        values=tuple((len(row.distribution.perms), *(len(row.phases[n].perms) for n in names))
                     for row in audit.rows))


def listing_of(audit: Against, table: SyscallTable) -> Listing:
    """Every categorised grant of every phase: how it comes, its spec line, its system calls."""
    m = audit.module
    rows: list[tuple[str, ...]] = []
    for name, grants in audit.grants.items():
        for g in grants:
            severities = dict.fromkeys(c.severity.value for c in g.categories)
            rows.append((name, g.grant.text(), ", ".join(c.value for c in g.categories),
                         ", ".join(severities), g.kind, g.at or "", g.way,
                         " ".join(table.gated(g.grant.tclass, g.grant.perm))))
    return Listing(
        key=m.name, title=f"{m.daemon or m.name}: each phase's grants in a category",
        headers=("phase", "grant", "category", "severity", "kind", "spec line", "rule",
                 "system calls"),
        rows=rows, facets=("phase", "category", "severity", "kind"))


@dataclass(frozen=True)
class AuditReport(Report):
    """Every module of the spec audited against one distribution domain."""

    domain: str
    policy: str
    audits: Sequence[Against]
    table: SyscallTable
    schema = "audit"

    def data(self) -> dict:
        return {"mode": "against", "domain": self.domain, "policy": self.policy,
                "modules": [to_dict(a, self.table) for a in self.audits]}

    def blocks(self) -> list[Block]:
        out: list[Block] = []
        for audit in self.audits:
            out += [*blocks_of(audit, self.table), ""]
        return out

    def title(self) -> str:
        names = ", ".join(a.module.daemon or a.module.name for a in self.audits)
        return f"selkit audit: {names} against {self.domain}"

    def figures(self) -> list[Figure]:
        return [figure_of(a) for a in self.audits]

    def listings(self) -> list[Listing]:
        return [listing_of(a, self.table) for a in self.audits]
