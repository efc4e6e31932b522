"""Each phase's seccomp allow list, computed from the IR (dsl/REFERENCE.md section 5.10).

A phase's list is, in this order:

1. the system calls gated by the permissions its own rules grant (the phase domain's allow
   rules written by verbs and raw allows, its entry and its switch, never compiler plumbing),
   read from the permission table (mediation ``checked`` or ``conditional``), except for
   verb forms that list their own calls (facts/data/verb_syscalls.json), which give those;
2. the runtime baseline groups that apply to the phase (facts/data/runtime_syscalls.json);
3. ``syscalls allow``;
4. minus ``syscalls deny``.

A permission gating a call does not mean the daemon makes it (``file write`` gates
``truncate``): the list over-approximates, and ``syscalls deny`` cuts what the daemon never
calls. Every entry keeps each reason it is there: the statement's origin, or the baseline group.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable

from selkit.diagnostics import Diagnostic, Related, Severity, Span
from selkit.facts.numbers import numbers
from selkit.facts.runtime import baseline
from selkit.facts.syscalls import load_table
from selkit.ir import nodes as ir

#: Permission-table mediations that put a call in the list (the others: never checked).
GATING = ("checked", "conditional")
#: The baseline group a phase that switches needs for the switch itself.
SWITCH_GROUP = "switch"

Src = ir.SyscallSource


def add_syscalls(module: ir.PolicyModule) -> ir.PolicyModule:
    """The ``syscalls`` of every phase (a pure pass: statements and rules in, lists out)."""
    return dataclasses.replace(module, syscalls=tuple(
        _phase(module, p) for p in module.phases))


Reasons = dict[str, list[ir.SyscallReason]]


def _add(reasons: Reasons, names: Iterable[str], reason: ir.SyscallReason) -> None:
    # Every name of the data is an x86_64 call (tests/facts/test_runtime_syscalls.py).
    for name in names:
        if reason not in reasons[name]:
            reasons[name].append(reason)


def _phase(module: ir.PolicyModule, phase: ir.Phase) -> ir.PhaseSyscalls:
    stmts = [s for s in module.syscall_statements if s.phase == phase.name]
    said = [s for s in stmts if isinstance(s, ir.SyscallStatement)]
    switches = [sw for sw in module.switches if sw.source == phase.name]
    reasons: Reasons = defaultdict(list)
    _from_rules(reasons, module, phase, {s.origin.span for s in said if s.source is Src.VERB},
                {sw.origin.span for sw in switches})
    for stmt in (s for s in said if s.source is Src.VERB):
        _add(reasons, stmt.names, ir.SyscallReason(Src.VERB, stmt.detail, stmt.origin))
    _from_baseline(reasons, phase, switches)
    for stmt in (s for s in said if s.source is Src.ALLOW):
        _add(reasons, stmt.names, ir.SyscallReason(Src.ALLOW, stmt.detail, stmt.origin))
    denied: dict[str, list[ir.SyscallReason]] = {}
    for stmt in (s for s in said if s.source is Src.DENY):
        for name in stmt.names:
            denied.setdefault(name, []).extend(reasons.pop(name, []))
            denied[name].append(ir.SyscallReason(Src.DENY, stmt.detail, stmt.origin))
    default = next((s for s in stmts if isinstance(s, ir.SyscallDefault)), None)
    return ir.PhaseSyscalls(
        phase.name, _entries(reasons), _entries(denied),
        default.action if default else "kill_process", default.origin if default else None)


def _from_rules(reasons: Reasons, module: ir.PolicyModule, phase: ir.Phase,
                listed: set[Span], switch_spans: set[Span]) -> None:
    """What the permissions of the phase's own rules gate: its statements', its entry's and
    its switch's, not compiler plumbing nor a verb form that lists its calls."""
    table = load_table()
    for rule in module.allows(phase.domain):
        own = rule.origin.cause is not ir.Cause.PHASE or rule.origin.span in switch_spans
        if not own or rule.origin.span in listed:
            continue
        for perm in rule.perms:
            info = table.for_permission(rule.tclass, perm)
            if info is not None and info.mediation in GATING:
                _add(reasons, info.syscalls,
                     ir.SyscallReason(Src.PERMISSION, f"{rule.tclass} {perm}", rule.origin))


def _from_baseline(reasons: Reasons, phase: ir.Phase, switches: list[ir.Switch]) -> None:
    """The baseline groups of every phase, of the entry phase, and of each switch out of it
    (traced to the switch statement)."""
    for group in baseline().values():
        origins: list[ir.Origin | None] = (
            [None] if group.phases == "every" or (group.phases == "entry" and
                                                  phase.parent is None)
            else [sw.origin for sw in switches] if group.phases == "switches" else [])
        for origin in origins:
            for name, why in group.syscalls.items():
                _add(reasons, [name],
                     ir.SyscallReason(Src.BASELINE, f"@{group.name}: {why}", origin))


def _entries(reasons: dict[str, list[ir.SyscallReason]]) -> tuple[ir.SyscallEntry, ...]:
    table = numbers("x86_64").by_name
    return tuple(sorted((ir.SyscallEntry(n, table[n], tuple(r)) for n, r in reasons.items()),
                        key=lambda e: e.nr))


def check_syscalls(module: ir.PolicyModule) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """Errors (SEL329: a phase denies what its own switch needs) and notes that do not stop
    compilation (SEL331: a deny of a call the phase does not have; SEL332: a later phase
    allows calls the phase switching into it does not)."""
    errors: list[Diagnostic] = []
    notes: list[Diagnostic] = []
    sets = {s.phase: s for s in module.syscalls}
    needed = tuple(baseline()[SWITCH_GROUP].syscalls)
    written = {(s.phase, s.origin.span, n): span for s in module.syscall_statements
               if isinstance(s, ir.SyscallStatement)
               for n, span in zip(s.written, s.written_spans, strict=True)}
    for phase in module.syscalls:
        for entry in phase.denied:
            deny = entry.reasons[-1]
            assert deny.origin is not None, "a deny has a statement"
            at = written.get((phase.phase, deny.origin.span, entry.name))
            if all(r.source is Src.DENY for r in entry.reasons) and at is not None:
                notes.append(Diagnostic(
                    "SEL331", f"phase '{phase.phase}' denies '{entry.name}', which it does not "
                    "allow anyway", at, Severity.WARNING,
                    hint="nothing of the phase puts it in the filter; remove it from the deny"))
    for sw in module.switches:
        src, dst = sets[sw.source], sets[sw.target]
        for entry in src.denied:
            if entry.name in needed:
                deny = entry.reasons[-1]
                assert deny.origin is not None, "a deny has a statement"
                errors.append(Diagnostic(
                    "SEL329", f"phase '{sw.source}' denies '{entry.name}', which its switch to "
                    f"'{sw.target}' needs", deny.origin.span,
                    hint=f"the switch runs under the filter of '{sw.source}': "
                         f"{baseline()[SWITCH_GROUP].syscalls[entry.name]}",
                    related=(Related(sw.origin.span, "the switch"),)))
        extra = [e for e in dst.allowed if e.name not in src.names]
        if extra:
            where = next((r.origin for e in extra for r in e.reasons if r.origin), sw.origin)
            names = " ".join(e.name for e in extra)
            notes.append(Diagnostic(
                "SEL332", f"phase '{sw.target}' allows system calls phase '{sw.source}' does "
                f"not: {names}", where.span, Severity.NOTE,
                hint=f"seccomp filters stack: if a filter of '{sw.source}' were loaded (by the "
                     f"daemon, or by the starter, e.g. systemd's SystemCallFilter=), "
                     f"the filter of '{sw.target}' could not re-allow these; with selkit's "
                     f"filters alone (the daemon loads the one of '{sw.target}' after setcon()) "
                     "this is fine",
                related=(Related(sw.origin.span, "the switch"),)))
    return errors, notes
