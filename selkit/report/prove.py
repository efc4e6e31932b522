"""``selkit prove`` reports: rows per obligation, then what steady keeps and which syscalls that
allows, which syscall families stay denied, and what SELinux does not mediate at all."""

from __future__ import annotations

from collections import defaultdict

from selkit.analysis.effective import Grant
from selkit.ir.nodes import STEADY_PHASE
from selkit.prove.engine import ProofReport
from selkit.prove.syscalls import SyscallTable, blocked_families, denied_families

HEADERS = ("obligation", "verdict", "evidence")


def obligation_rows(report: ProofReport) -> list[tuple[str, str, str]]:
    """One row per obligation (the same cells for plain and rich tables)."""
    return [(r.title, r.verdict.value.upper(), r.summary) for r in report.results]


def _grouped(grants, classified) -> list[tuple[str, str, list[str], str]]:
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    where: dict[tuple[str, str, str], str] = {}
    for grant in sorted(grants, key=Grant.key):
        kind = ("declared" if grant in classified.declared else
                "baseline" if grant in classified.baseline else "LEAK")
        key = (grant.target, grant.tclass, kind)
        groups[key].append(grant.perm + (f" [if {grant.conditional}]" if grant.conditional
                                         else ""))
        reaches = classified.reaches(grant)
        if key not in where and reaches:
            r = reaches[0]
            where[key] = (f"{r.origin.label()} {r.origin.statement}" if r.origin
                          else f"via {r.source}")
    return [(f"{t}:{c}", kind, perms, where.get((t, c, kind), ""))
            for (t, c, kind), perms in groups.items()]


def render_plain(report: ProofReport, table: SyscallTable, *, baseline: bool = False) -> str:
    """The whole report for one module as plain text."""
    m = report.module
    lines = [f"{m.daemon or m.name} ({m.source_path}), {report.engine} engine: "
             f"{report.verdict.value.upper()}", ""]
    rows = obligation_rows(report)
    width = max(len(r[0]) for r in rows)
    for (title, verdict, summary), result in zip(rows, report.results):
        lines.append(f"  {title.ljust(width)}  {verdict:8}  {summary}")
        for ev in result.evidence:
            lines.append(f"      counterexample: {ev.text}")
            if ev.fix:
                lines.append(f"      fix: {ev.fix}")
    steady_name = STEADY_PHASE
    classified = report.phases[steady_name]
    domain = m.domain_of(steady_name)
    lines += ["", f"What {domain} keeps after setcon(), and the system calls it gates:"]
    for obj, kind, perms, where in _grouped(classified.all, classified):
        if kind == "baseline" and not baseline:
            continue
        tclass = obj.split(":", 1)[1]
        calls: list[str] = []
        for perm in perms:
            info = table.for_permission(tclass, perm.split(" ")[0])
            if info is not None:
                calls += [c for c in info.syscalls if c not in calls]
        calls_text = ", ".join(calls[:8]) + (", ..." if len(calls) > 8 else "") or \
            "no system call (checked on objects only)"
        lines.append(f"  {kind:8} {obj} {{ {' '.join(perms)} }}  [{where}]")
        lines.append(f"           -> {calls_text}")
    if not baseline:
        count = len(classified.baseline)
        lines.append(f"  baseline {count} grants through the domain attribute "
                     "(shown with --baseline)")
    granted = {(g.tclass, g.perm) for g in classified.all}
    denied = denied_families(table, granted)
    blocked = [f for f in blocked_families(table, granted) if f not in denied]
    lines += ["", "Denied completely (no permission for any of them, in any user namespace): " + ", ".join(denied)]
    if blocked:
        lines += ["Cannot succeed (a necessary permission is missing): " + ", ".join(blocked)]
    lines += ["", f"Not mediated by SELinux at all ({len(table.unmediated)} system calls, "
              "e.g. " + ", ".join(sorted(table.unmediated)[:12]) + ", ...): the policy says "
              "nothing about them; seccomp would."]
    return "\n".join(lines)


def to_dict(report: ProofReport, table: SyscallTable) -> dict:
    """JSON-ready form of a report."""
    steady_name = STEADY_PHASE
    classified = report.phases[steady_name]
    granted = {(g.tclass, g.perm) for g in classified.all}

    def grants(items) -> list[dict]:
        out = []
        for grant in sorted(items, key=Grant.key):
            info = table.for_permission(grant.tclass, grant.perm)
            out.append({"target": grant.target, "class": grant.tclass, "perm": grant.perm,
                        "conditional": grant.conditional,
                        "syscalls": list(info.syscalls) if info else []})
        return out

    return {
        "daemon": report.module.daemon or report.module.name,
        "module": report.module.name,
        "engine": report.engine,
        "verdict": report.verdict.value,
        "obligations": [r.to_dict() for r in report.results],
        "steady": {
            "domain": report.module.domain_of(steady_name),
            "declared": grants(classified.declared),
            "baseline": grants(classified.baseline),
            "leaks": grants(classified.leaks),
            "denied_families": denied_families(table, granted),
            "blocked_families": blocked_families(table, granted),
        },
    }
