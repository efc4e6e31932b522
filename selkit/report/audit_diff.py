"""``selkit audit OLD NEW`` and ``selkit audit --policy P SPEC...`` reports: the dangerous
changes first (each with its category, rule, spec line and the system calls it opens or
closes), then the counts per phase and category, then the whole-policy changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from selkit.audit.categories import Severity, ordered
from selkit.audit.changes import Change, PolicyChanges, SubjectChanges
from selkit.facts.syscalls import SyscallTable
from selkit.report.format import Block, Figure, Listing, Report, Table
from selkit.report.prove import gated_text

#: Without --details, text lists this many changes of each severity group (high; medium and
#: low) and of the changes in no category; the counts table and JSON have all of them.
MAX_SHOWN = {"high": 40, "rest": 20, "other": 8}

_WORDS = {
    "versions": ("added", "removed", "OLD", "NEW"),
    "drift": ("beyond the spec", "missing on the host", "spec", "host"),
}


def _change_dict(table: SyscallTable, c: Change) -> dict:
    out = {"change": "added" if c.added else "removed", "direction":
           "inbound" if c.inbound else "outbound", "domain": c.domain,
           "target": c.grant.target, "class": c.grant.tclass, "perm": c.grant.perm,
           "conditional": c.grant.conditional, "categories": [k.value for k in c.categories],
           "severity": c.severity.value if c.severity else None, "rule": c.rule,
           "syscalls": list(table.gated(c.grant.tclass, c.grant.perm))}
    if c.at:
        out["at"] = c.at
        out["statement"] = c.statement
    if c.added and c.modules:
        out["modules"] = list(c.modules)
    return out


def _subject_dict(table: SyscallTable, s: SubjectChanges) -> dict:
    return {"subject": s.subject, "old_domain": s.old_domain, "new_domain": s.new_domain,
            "held": {k.value: {"old": o, "new": n} for k, (o, n) in s.held.items()},
            "changes": [_change_dict(table, c) for c in s.changes]}


def _grant_text(c: Change) -> str:
    if c.inbound:
        return f"{c.grant.target} -> {c.domain}:{c.grant.tclass} {c.grant.perm}" + (
            f" [if {c.grant.conditional}]" if c.grant.conditional else "")
    return f"{c.domain} {c.grant.text()}"


def _change_lines(table: SyscallTable, c: Change, mode: str) -> list[str]:
    sign = "+" if c.added else "-"
    kinds = ", ".join(k.value for k in c.categories) or "other"
    where = f"{c.at} {c.statement}" if c.at else c.rule
    lines = [f"  {sign} {c.subject}: {_grant_text(c)}  ({kinds})  [{where}]"]
    if c.at:
        lines.append(f"      rule: {c.rule}")
    if mode == "drift" and c.added:
        lines.append("      module: " + (", ".join(c.modules) if c.modules else
                                         "no module of the store writes this rule as it reads"))
    if not c.inbound:
        verb = "opens" if c.added else "closes"
        lines.append(f"      {verb}: {gated_text(table.gated(c.grant.tclass, c.grant.perm))}")
    return lines


@dataclass(frozen=True)
class ChangesReport(Report):
    """Two sides compared (``mode`` versions), or a host's policy against specs (drift)."""

    changes: PolicyChanges
    table: SyscallTable
    mode: str = "versions"
    store: str | None = None
    #: List every change in text (``--details``), not the first of each group.
    details: bool = False
    schema = "audit-changes"

    def data(self) -> dict:
        c = self.changes
        out = {
            "mode": self.mode,
            "old": {"label": c.old.label, "kind": c.old.kind.value, "policy": c.old.policy_path},
            "new": {"label": c.new.label, "kind": c.new.kind.value, "policy": c.new.policy_path},
            "subjects": [_subject_dict(self.table, s) for s in c.subjects],
            "typebounds": [{"parent": p, "child": ch, "change": "added" if a else "removed"}
                           for p, ch, a in c.bounds],
            "booleans": [{"name": b.name, "old": b.old, "new": b.new, "guards_change": b.guards}
                         for b in c.booleans],
            "ports": [{"protocol": p.protocol, "low": p.low, "high": p.high, "type": p.type,
                       "change": "added" if a else "removed"} for p, a in c.ports],
            "file_contexts": None if c.file_contexts is None else [
                {"regex": r, "kind": k, "type": t, "change": "added" if a else "removed"}
                for r, k, t, a in c.file_contexts],
        }
        if self.mode == "drift":
            out["store"] = self.store
        return out

    def blocks(self) -> Sequence[Block]:
        c = self.changes
        plus, minus, old_name, new_name = _WORDS[self.mode]
        out: list[Block] = [
            f"{old_name}: {c.old.label} ({c.old.kind.value})",
            f"{new_name}: {c.new.label} ({c.new.kind.value})",
            f"+ {plus}, - {minus}; conditional rules count under every boolean setting.", ""]
        every = [ch for s in c.subjects for ch in s.changes]
        high = [ch for ch in every if ch.severity is Severity.HIGH]
        out.append(f"High-severity changes ({len(high)}):")
        out += self._listed(high, "high", full=True) or ["  none"]
        out += ["", "Per phase and category (class:permission pairs held, grants changed):"]
        out.append(self._counts())
        rest = [ch for ch in every if ch.severity is not None and ch.severity is not Severity.HIGH]
        if rest:
            out += ["", f"Medium and low severity changes ({len(rest)}):"]
            out += self._listed(rest, "rest", full=True)
        other = [ch for ch in every if not ch.categories]
        if other:
            out += ["", f"Changes in no category ({len(other)}):"]
            out += self._listed(other, "other", full=False)
        out += self._policy_wide()
        return out

    def _listed(self, changes: list[Change], group: str, full: bool) -> list[str]:
        """The changes of a group (all with --details, else the first few and a count)."""
        shown = changes if self.details else changes[:MAX_SHOWN[group]]
        out: list[str] = []
        for ch in shown:
            out += (_change_lines(self.table, ch, self.mode) if full else
                    [f"  {'+' if ch.added else '-'} {ch.subject}: {_grant_text(ch)}"])
        if len(shown) < len(changes):
            out.append(f"  ... and {len(changes) - len(shown)} more (all of them with "
                       "--details, or --json)")
        return out

    def _counts(self) -> Table:
        _, _, old_name, new_name = _WORDS[self.mode]
        rows: list[tuple[str, ...]] = []
        for s in self.changes.subjects:
            for k in [*ordered(), None]:
                mine = [ch for ch in s.changes if (k in ch.categories if k else not ch.categories)]
                held = s.held.get(k) if k else None
                if not mine and not (held and held[0] != held[1]):
                    continue
                rows.append((s.subject, k.value if k else "other",
                             str(held[0]) if held else "-", str(held[1]) if held else "-",
                             str(sum(ch.added for ch in mine)),
                             str(sum(not ch.added for ch in mine))))
        if not rows:
            rows.append(("no change", "", "", "", "", ""))
        return Table(("phase", "category", f"{old_name} pairs", f"{new_name} pairs", "+", "-"),
                     rows)

    def _policy_wide(self) -> list[Block]:
        c = self.changes
        out: list[Block] = ["", "Typebounds of the audited domains:"]
        out += [f"  {'+' if a else '-'} typebounds {p} {ch}" for p, ch, a in c.bounds] or \
            ["  no change"]
        out += ["", "Booleans (changed, or guarding a change):"]
        out += [f"  {b.name}: {_state(b.old)} -> {_state(b.new)}"
                + ("  (guards a change above)" if b.guards else "") for b in c.booleans] or \
            ["  no change"]
        out += ["", "Port contexts:"]
        out += [f"  {'+' if a else '-'} {p.protocol} {p.low}" + (f"-{p.high}" if p.high != p.low
                                                                    else "") + f" {p.type}"
                for p, a in c.ports] or ["  no change"]
        out += ["", "File contexts:"]
        if c.file_contexts is None:
            out.append("  not compared: a kernel policy holds no file contexts")
        else:
            out += [f"  {'+' if a else '-'} {r} ({k}) {t}" for r, k, t, a in c.file_contexts] \
                or ["  no change"]
        return out


    def title(self) -> str:
        _, _, old_name, new_name = _WORDS[self.mode]
        return (f"selkit audit: {old_name} {self.changes.old.label}, "
                f"{new_name} {self.changes.new.label}")

    def figures(self) -> list[Figure]:
        """Per phase whose held pairs are counted: each category's pairs on each side."""
        _, _, old_name, new_name = _WORDS[self.mode]
        out = []
        for s in self.changes.subjects:
            kinds = [k for k in ordered() if k in s.held]
            if kinds:
                out.append(Figure(
                    key=s.subject, unit="pairs", series=(old_name, new_name),
                    title=f"{s.subject}: class:permission pairs per category, {old_name} "
                          f"beside {new_name}",
                    description=f"For each category of dangerous permission, the "
                                f"class:permission pairs (whatever the target) the phase "
                                f"{s.subject} holds on the {old_name} side "
                                f"({s.old_domain or 'absent'}) and on the {new_name} side "
                                f"({s.new_domain or 'absent'}).",
                    categories=tuple(k.value for k in kinds),
                    values=tuple(s.held[k] for k in kinds)))
        return out

    def listings(self) -> list[Listing]:
        """Every change: its phase, direction, grant, categories, spec line, rule, calls."""
        plus, minus, _, _ = _WORDS[self.mode]
        rows = [(ch.subject, plus if ch.added else minus, _grant_text(ch),
                 ", ".join(k.value for k in ch.categories) or "other",
                 ch.severity.value if ch.severity else "", ch.at or "", ch.rule,
                 " ".join(self.table.gated(ch.grant.tclass, ch.grant.perm)))
                for s in self.changes.subjects for ch in s.changes]
        return [Listing("changes", "Every change of a phase",
                        ("phase", "change", "grant", "category", "severity", "spec line",
                         "rule", "system calls"), rows,
                        ("phase", "change", "category", "severity"))]


def _state(value: bool | None) -> str:
    return "absent" if value is None else ("on" if value else "off")
