"""``selkit prove`` reports: rows per obligation, then what steady keeps and which syscalls that
allows, which syscall families stay denied, and what SELinux does not mediate at all."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from selkit.analysis.effective import Classified, Grant, Reach
from selkit.analysis.profile import PROBE_SELF
from selkit.ir.nodes import STEADY_PHASE, PolicyModule
from selkit.prove.engine import ProofReport
from selkit.prove.obligations import Evidence, Verdict
from selkit.prove.syscalls import SyscallTable, blocked_families, denied_families
from selkit.report.format import Block, Report

HEADERS = ("obligation", "verdict", "evidence")


def obligation_rows(report: ProofReport) -> list[tuple[str, str, str]]:
    """One row per obligation (the same cells for plain and rich tables)."""
    return [(r.title, r.verdict.value.upper(), r.summary) for r in report.results]


def _grouped(grants: Iterable[Grant], classified: Classified
             ) -> list[tuple[str, str, list[str], str]]:
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


#: Rules and fixes listed under one finding in text (JSON has all of them).
MAX_RULES_SHOWN = 12
MAX_FIXES_SHOWN = 3

_SOURCE = re.compile(r"^allow (\S+) ")


@dataclass
class Finding:
    """Counterexamples of one obligation that come in one way (one spec statement, one
    attribute of the base, the module's own rules): one finding, its rules, the grants they
    bring and the fixes, each once."""

    kind: str | None             # spec | module | base; None for a plain note
    way: str                     # the statement's label, the attribute, or the note
    at: str | None               # FILE:LINE of the spec statement concerned, when there is one
    claim: str | None = None     # what the grants break (a forbid), when the evidence says
    rules: list[str] = field(default_factory=list)
    grants: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)

    def headline(self) -> str:
        """What the grants come through, for a finding of several."""
        assert self.kind is not None, "only a finding with a way in has a headline"
        n, k = len(self.grants), len(self.rules)
        rules = f"{k} rule{'s' if k != 1 else ''}"
        through = {"spec": f"by the statement at {self.way}, {rules}",
                   "module": f"by {rules} in the module",
                   "base": (f"through attribute {self.way}, by {k} base "
                            f"rule{'s' if k != 1 else ''}" if self.way else
                            f"by {k} base rule{'s' if k != 1 else ''}")}[self.kind]
        head = f"{self.claim} is broken by " if self.claim else ""
        return f"{head}{n} grants {through}:"

    def to_dict(self) -> dict:
        """JSON-ready form (``at`` absent when no spec line is concerned)."""
        out: dict = {"origin": self.kind, "way": self.way, "rules": list(self.rules),
                     "grants": list(self.grants), "count": len(self.grants),
                     "fixes": list(self.fixes)}
        if self.claim:
            out["claim"] = self.claim
        if self.at:
            out["at"] = self.at
        return out


def own_types(module: PolicyModule) -> frozenset[str]:
    """The types a module declares (its phase domains among them)."""
    return frozenset({t.name for t in module.types} | {p.domain for p in module.phases})


def _way(reach: Reach, own: frozenset[str]) -> tuple[str, str, str]:
    """(kind, way, rule) of the rule a grant comes through: a spec statement, the module's own
    rule, or a base rule (through one of the base's attributes, or written for the type)."""
    if reach.origin is not None:
        return "spec", f"{reach.origin.label()} ({reach.origin.statement})", reach.statement
    source = _SOURCE.match(reach.statement)
    if source and source.group(1) in own:
        return "module", "", reach.statement
    return "base", "" if reach.source == PROBE_SELF else reach.source, reach.statement


def _text(ev: Evidence, kind: str | None) -> str:
    """The evidence's text, saying "rule in the module" for a rule the module holds."""
    if kind != "module" or ev.reach is None or ev.grant is None:
        return ev.text
    head = f"{ev.claim} is broken by " if ev.claim else ""
    desc = ev.reach.describe().removeprefix("base rule ")
    return f"{head}{ev.grant} <- rule in the module {desc}"


def findings(evidence: Iterable[Evidence], own: frozenset[str]) -> list[Finding]:
    """Evidence grouped by the way it comes in, in order of first appearance."""
    groups: dict[tuple, Finding] = {}
    for ev in evidence:
        at = f"{ev.span.path}:{ev.span.line}" if ev.span else None
        kind: str | None
        if ev.reach is not None and ev.grant is not None:
            kind, way, rule = _way(ev.reach, own)
            key: tuple = (kind, way, at, ev.claim)
            grant: str | None = ev.grant
        else:  # a plain note: a finding of its own
            kind, way, rule, grant = None, ev.text, "", ev.text
            key = (ev.text, at, id(ev))
        found = groups.setdefault(key, Finding(kind, way, at, ev.claim))
        for items, item in ((found.rules, rule), (found.grants, grant),
                            (found.texts, _text(ev, kind)), (found.fixes, ev.fix)):
            if item and item not in items:
                items.append(item)
    return list(groups.values())


def finding_lines(finding: Finding) -> list[str]:
    """A finding as text: the evidence as it is when it is one grant, else the way in once
    and the rules under it; then each fix once."""
    if len(finding.texts) == 1 or finding.kind is None:
        lines = [f"      counterexample: {text}" for text in finding.texts]
    else:
        lines = [f"      counterexample: {finding.headline()}"]
        lines += [f"          {rule}" for rule in finding.rules[:MAX_RULES_SHOWN]]
        if len(finding.rules) > MAX_RULES_SHOWN:
            lines.append(f"          ... and {len(finding.rules) - MAX_RULES_SHOWN} more rules "
                         "(all of them, with each grant, with --json)")
    lines += [f"      fix: {fix}" for fix in finding.fixes[:MAX_FIXES_SHOWN]]
    if len(finding.fixes) > MAX_FIXES_SHOWN:
        lines.append(f"      ... and {len(finding.fixes) - MAX_FIXES_SHOWN} more fixes, one per "
                     "grant (all of them with --json)")
    return lines


#: System calls named per grant in text (JSON has all of them).
MAX_SYSCALLS_SHOWN = 8


def gated_text(calls: Sequence[str]) -> str:
    """The system calls a permission gates, the first few of them, for text reports."""
    return ", ".join(calls[:MAX_SYSCALLS_SHOWN]) + (
        ", ..." if len(calls) > MAX_SYSCALLS_SHOWN else "") or \
        "no system call (checked on objects only)"


def render_plain(report: ProofReport, table: SyscallTable, *, baseline: bool = False) -> str:
    """The whole report for one module as plain text."""
    m = report.module
    lines = [f"{m.daemon or m.name} ({m.source_path}), {report.engine} engine: "
             f"{report.verdict.value.upper()}", ""]
    rows = obligation_rows(report)
    width = max(len(r[0]) for r in rows)
    own = own_types(m)
    for (title, verdict, summary), result in zip(rows, report.results, strict=True):
        lines.append(f"  {title.ljust(width)}  {verdict:8}  {summary}")
        for finding in findings(result.evidence, own):
            lines += finding_lines(finding)
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
            calls += [c for c in table.gated(tclass, perm.split(" ")[0]) if c not in calls]
        lines.append(f"  {kind:8} {obj} {{ {' '.join(perms)} }}  [{where}]")
        lines.append(f"           -> {gated_text(calls)}")
    if not baseline:
        count = len(classified.baseline)
        lines.append(f"  baseline {count} grants through the domain attribute "
                     "(shown with --baseline)")
    lines += ["", *family_lines(table, {(g.tclass, g.perm) for g in classified.all})]
    lines += ["", f"Not mediated by SELinux at all ({len(table.unmediated)} system calls, "
              "e.g. " + ", ".join(sorted(table.unmediated)[:12]) + ", ...): the policy says "
              "nothing about them. " + _unmediated_under_filter(report, table)]
    return "\n".join(lines)


def family_lines(table: SyscallTable, granted: Iterable[tuple[str, str]]) -> list[str]:
    """The system call families (selkit/facts/data/syscalls.json) that ``granted`` leaves
    denied, then those it leaves unable to succeed, each by its title (``syslog(2) (the kernel
    log buffer; ...)``, not a bare ``syslog``); JSON keeps the names."""
    granted = set(granted)
    denied = denied_families(table, granted)
    blocked = [f for f in blocked_families(table, granted) if f not in denied]

    def titles(names: list[str]) -> str:
        return ", ".join(table.families[name].title for name in names)

    lines = ["System call families denied completely (no permission for any of them, in any "
             "user namespace): " + titles(denied)]
    if blocked:
        lines.append("System call families that cannot succeed (a necessary permission is "
                     "missing): " + titles(blocked))
    return lines


def _unmediated_under_filter(report: ProofReport, table: SyscallTable) -> str:
    """What the steady seccomp filter does with the calls SELinux does not mediate, as proved
    by the steady-syscalls obligation (nothing claimed unless it holds)."""
    result = next((r for r in report.results if r.id == "steady-syscalls"), None)
    lists = result.extra.get("syscalls") if result else None
    if result is None or result.verdict is not Verdict.HOLDS or not isinstance(lists, dict):
        verdict = result.verdict.value if result else "not run"
        return (f"Only a seccomp filter can stop them, and the steady filter's proof is "
                f"{verdict}: nothing is claimed about them.")
    unmediated = set(table.unmediated)
    allowed = sorted(e["name"] for key in ("possible", "impossible") for e in lists[key]
                     if e["name"] in unmediated)
    blocked = len(unmediated & set(lists["blocked"]))
    return (f"The steady seccomp filter blocks {blocked} of them and allows {len(allowed)}, "
            f"each declared (steady-syscalls): {', '.join(allowed) or 'none'}.")


def _at(reaches: Iterable[Reach]) -> str | None:
    """FILE:LINE of the spec statement a grant comes from (None for a base-policy rule)."""
    origin = next((r.origin for r in reaches if r.origin is not None), None)
    return f"{origin.span.path}:{origin.span.line}" if origin and origin.span else None


def to_dict(report: ProofReport, table: SyscallTable) -> dict:
    """JSON-ready form of a report."""
    steady_name = STEADY_PHASE
    classified = report.phases[steady_name]
    granted = {(g.tclass, g.perm) for g in classified.all}
    own = own_types(report.module)

    def grants(items: dict) -> list[dict]:
        out = []
        for grant in sorted(items, key=Grant.key):
            entry = {"target": grant.target, "class": grant.tclass, "perm": grant.perm,
                     "conditional": grant.conditional,
                     "syscalls": list(table.gated(grant.tclass, grant.perm))}
            at = _at(items[grant])
            if at:
                entry["at"] = at
            out.append(entry)
        return out

    return {
        "daemon": report.module.daemon or report.module.name,
        "module": report.module.name,
        "source": report.module.source_path,
        "engine": report.engine,
        "verdict": report.verdict.value,
        "obligations": [{**r.to_dict(),
                         "findings": [f.to_dict() for f in findings(r.evidence, own)]}
                        for r in report.results],
        "steady": {
            "domain": report.module.domain_of(steady_name),
            "declared": grants(classified.declared),
            "baseline": grants(classified.baseline),
            "leaks": grants(classified.leaks),
            "denied_families": denied_families(table, granted),
            "blocked_families": blocked_families(table, granted),
        },
    }


@dataclass(frozen=True)
class ProveReport(Report):
    """Every module's proof by every engine run, and where the engines disagree."""

    reports: Sequence[ProofReport]
    table: SyscallTable
    disagreements: Sequence[str] = ()
    baseline: bool = False
    schema = "prove"

    @property
    def ok(self) -> bool:
        """Every obligation holds and the engines agree."""
        return not self.disagreements and all(r.verdict.value == "holds" for r in self.reports)

    def data(self) -> dict:
        return {"reports": [to_dict(r, self.table) for r in self.reports],
                "engines_agree": not self.disagreements,
                "disagreements": list(self.disagreements)}

    def blocks(self) -> list[Block]:
        out: list[Block] = []
        for report in self.reports:
            out += [render_plain(report, self.table, baseline=self.baseline), ""]
        out += [f"ENGINES DISAGREE: {line}" for line in self.disagreements]
        return out
