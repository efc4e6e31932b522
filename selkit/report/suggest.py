"""Plain-text and JSON forms of :func:`selkit.suggest.suggest`'s answers.

One line per suggestion, ``FILE:LINE: in phase P add: STATEMENT   # covers N denials: ...``,
the place first so editors and terminals make it clickable; then, indented, the further edits
typebounds needs, why, and notes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import assert_never

from selkit.report.format import Block, Report
from selkit.suggest import DeniedRule, Kind, Suggestion
from selkit.suggest.scope import SetAside
from selkit.suggest.syscalls import SyscallSuggestion


def render_suggestions(suggestions: Sequence[Suggestion]) -> str:
    """The suggestions as plain text (empty when there are none)."""
    lines: list[str] = []
    for s in suggestions:
        lines.append(_headline(s))
        for edit in s.also:
            lines.append(f"    {edit.path}:{edit.line}: in phase {edit.phase} add: "
                         f"{edit.statement}   # typebounds: '{edit.phase}' holds what "
                         f"'{s.phase}' holds")
        if s.kind in (Kind.VERB, Kind.ALLOW):
            lines.append(f"    {s.why}")
        lines.extend(f"    note: {note}" for note in s.notes)
    return "\n".join(lines) + ("\n" if lines else "")


def suggestion_to_dict(s: Suggestion) -> dict:
    """A JSON-ready form of one suggestion."""
    return {
        "kind": s.kind.value, "module": s.module, "path": s.path, "line": s.line, "phase": s.phase,
        "statement": s.statement, "why": s.why, "count": s.count,
        "denied": [{"source": r.source, "target": r.target, "class": r.tclass,
                    "perms": list(r.perms)} for r in s.denied],
        "also": [{"path": e.path, "line": e.line, "phase": e.phase, "statement": e.statement}
                 for e in s.also],
        "extra": list(s.extra), "notes": list(s.notes),
        "avcs": [a.raw for a in s.avcs],
    }


def render_syscall_suggestions(suggestions: Sequence[SyscallSuggestion]) -> str:
    """The answers for seccomp records as plain text, in the same shape: the place first."""
    lines: list[str] = []
    for s in suggestions:
        covers = f"{_records(s.count)}: {s.syscall or 'a foreign call'}"
        match s.kind:
            case Kind.ALLOW | Kind.VERB:
                lines.append(f"{s.path}:{s.line}: in phase {s.phase} add: {s.statement}   "
                             f"# covers {covers}")
                lines.append(f"    {s.why}")
            case Kind.FORBIDDEN | Kind.GRANTED:
                lines.append(f"{s.path}:{s.line}: phase {s.phase}: {s.why}   # {covers}")
            case Kind.NONE:
                lines.append(f"no suggestion: {s.why}   # {covers}")
            case _:
                assert_never(s.kind)
        lines.extend(f"    note: {note}" for note in s.notes)
    return "\n".join(lines) + ("\n" if lines else "")


def syscall_suggestion_to_dict(s: SyscallSuggestion) -> dict:
    """A JSON-ready form of one answer for seccomp records (docs/json.md)."""
    return {
        "kind": s.kind.value, "module": s.module, "path": s.path, "line": s.line,
        "phase": s.phase, "statement": s.statement, "why": s.why, "count": s.count,
        "syscall": s.syscall, "notes": list(s.notes),
        "records": [{"domain": c.domain, "arch": f"0x{c.arch:08x}", "nr": c.nr, "pid": c.pid,
                     "raw": c.raw} for c in s.calls],
    }


def _records(n: int) -> str:
    return f"{n} seccomp record" if n == 1 else f"{n} seccomp records"


def _headline(s: Suggestion) -> str:
    covers = f"{_count(s.count)}: {_summary(s.denied, with_source=s.kind is Kind.NONE)}"
    match s.kind:
        case Kind.VERB:
            return f"{s.path}:{s.line}: in phase {s.phase} add: {s.statement}   # covers {covers}"
        case Kind.ALLOW:
            return (f"{s.path}:{s.line}: in phase {s.phase} add: {s.statement}   "
                    f"# no verb grants this; covers {covers}")
        case Kind.FORBIDDEN | Kind.GRANTED:
            return f"{s.path}:{s.line}: phase {s.phase}: {s.why}   # {covers}"
        case Kind.NONE:
            return f"no suggestion: {s.why}   # {covers}"
        case _:
            assert_never(s.kind)


def _count(n: int) -> str:
    return f"{n} denial" if n == 1 else f"{n} denials"


def _summary(denied: Iterable[DeniedRule], *, with_source: bool) -> str:
    """``class perms on target`` per denied rule (``from source`` where it is not obvious)."""
    parts = []
    for rule in denied:
        if not rule.perms:
            parts.append(f"{rule.source} -> {rule.target} (no permission named)")
            continue
        perms = rule.perms[0] if len(rule.perms) == 1 else "{ " + " ".join(rule.perms) + " }"
        parts.append(f"{rule.tclass} {perms} on {rule.target}"
                     + (f" from {rule.source}" if with_source else ""))
    return ", ".join(parts)



#: How many domains of the set-aside records the text names; --json lists every one.
SET_ASIDE_SHOWN = 8


@dataclass(frozen=True)
class SuggestReport(Report):
    """``selkit suggest``: what a log's records ask of the specs (docs/json.md). ``denials``
    and ``seccomp`` count every record read, ``set_aside`` those of other domains, which get
    no suggestion."""

    log: str
    denials: int
    seccomp: int
    suggestions: Sequence[Suggestion]
    syscall_suggestions: Sequence[SyscallSuggestion]
    set_aside: SetAside = SetAside()
    schema = "suggest"

    def data(self) -> dict:
        return {"log": self.log, "denials": self.denials, "seccomp": self.seccomp,
                "set_aside": {"denials": self.set_aside.denials,
                              "seccomp": self.set_aside.seccomp,
                              "domains": [{"domain": d.domain, "denials": d.denials,
                                           "seccomp": d.seccomp}
                                          for d in self.set_aside.domains]},
                "suggestions": [suggestion_to_dict(s) for s in self.suggestions],
                "syscall_suggestions": [syscall_suggestion_to_dict(s)
                                        for s in self.syscall_suggestions]}

    def blocks(self) -> list[Block]:
        head = (f"{self.log}: {_count(self.denials)} (AVC, USER_AVC and SELINUX_ERR), "
                f"{_records(self.seccomp)}")
        if not self.denials and not self.seccomp:
            return [head + ": nothing to suggest"]
        lines = [head]
        if self.set_aside.domains:
            lines.append(_set_aside_line(self.set_aside))
        if not self.suggestions and not self.syscall_suggestions:
            return [*lines, "no record names a phase of the specs given: nothing to suggest"]
        return [*lines, "", *render_suggestions(self.suggestions).splitlines(),
                *render_syscall_suggestions(self.syscall_suggestions).splitlines()]


def _set_aside_line(aside: SetAside) -> str:
    """``set aside, no phase of the specs involved: N denials, M seccomp records of K other
    domains: a_t 3, b_t 1, ...``: the domains with the most records first."""
    amounts = [text for n, text in ((aside.denials, _count(aside.denials)),
                                    (aside.seccomp, _records(aside.seccomp))) if n]
    domains = aside.domains
    names = ", ".join(f"{d.domain or '(no SELinux context)'} {d.total}"
                      for d in domains[:SET_ASIDE_SHOWN])
    more = len(domains) - SET_ASIDE_SHOWN
    if more > 0:
        names += f" and {more} more (--json lists them)"
    other = "1 other domain" if len(domains) == 1 else f"{len(domains)} other domains"
    return f"set aside, no phase of the specs involved: {' and '.join(amounts)} of {other}: " \
           f"{names}"
