"""From seccomp records back to the spec: the statement that lets a logged system call through
its phase's filter.

A filter rolled out with ``syscalls default log`` lets every call run and the kernel audits
each one the filter does not allow (a ``type=SECCOMP`` record: the process's context, the
architecture, the call's number). For each (phase, call) the answer is, in this order: the
call is of another ABI (no statement allows it: the filter kills i386 and x32 calls always);
a ``syscalls deny`` of the phase removes it (the line, like a forbid); the phase's list has it
already (the filter that ran is not this spec's); else ``syscalls allow NAME``, placed at the
end of the phase and kept only if the spec compiled with it has the call in that phase's list.
The notes say what SELinux will still check (the permissions the permission table says gate
the call, and whether the spec grants the phase one) and which verb of the phase lists its
calls without this one. Pure, like :func:`selkit.suggest.suggest`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from selkit.facts.numbers import (
    abi_of,
    call_name,
    numbers,
)
from selkit.facts.seccomp_actions import Action
from selkit.facts.syscalls import load_table
from selkit.ir import nodes as ir
from selkit.ir.kb import KnowledgeBase
from selkit.ir.syscall_sets import GATING
from selkit.suggest.spec import Sources, SpecModel, spec_models
from selkit.suggest.suggestion import Kind


@dataclass(frozen=True)
class SeccompRecord:
    """What one seccomp audit record (``type=SECCOMP``, 1326) says: the process's domain (the
    type of its ``subj`` context), ``arch`` (AUDIT_ARCH_*) and the call's number as the filter
    saw it (``seccomp_data.nr``); ``code`` the filter's return value (its action), ``sig`` the
    signal a kill sent (31, SIGSYS), ``raw`` the record. Read by :func:`selkit.lab.avc.
    parse_seccomp`."""

    domain: str
    arch: int
    nr: int
    pid: int | None = None
    raw: str = ""
    comm: str | None = None
    code: int | None = None
    sig: int | None = None
    serial: int | None = None

    @property
    def syscall(self) -> str | None:
        """The call's x86_64 name (None for another ABI or an unknown number)."""
        return numbers("x86_64").name(self.nr) if abi_of(self.arch, self.nr) == "x86_64" \
            else None

    @property
    def call(self) -> str:
        """The call as the lab names it (:func:`selkit.facts.numbers.call_name`)."""
        return call_name(self.arch, self.nr)

    @property
    def action(self) -> Action | None:
        """What the kernel did (kernel/seccomp.c's reading of ``code``)."""
        return None if self.code is None else Action.from_ret(self.code)


@dataclass(frozen=True)
class SyscallSuggestion:
    """What to do about the records of one call in one phase (``calls``).

    :attr:`Kind.ALLOW`: add ``statement`` after line ``line`` of ``path`` (the end of phase
    ``phase``). :attr:`Kind.FORBIDDEN`/:attr:`Kind.GRANTED`: ``path``/``line`` are the deny
    statement, or where the list has the call from. :attr:`Kind.NONE`: nothing in a spec can
    allow it (``why``). ``syscall`` is the call's x86_64 name when it has one.
    """

    kind: Kind
    calls: tuple[SeccompRecord, ...]
    syscall: str | None
    why: str
    module: str | None = None
    path: str | None = None
    line: int | None = None
    phase: str | None = None
    statement: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        """How many records it covers."""
        return len(self.calls)


def suggest_syscalls(calls: Iterable[SeccompRecord], modules: Iterable[ir.PolicyModule],
                     kb: KnowledgeBase, sources: Sources) -> list[SyscallSuggestion]:
    """A suggestion per (domain, ABI, call) of ``calls``, in the order first seen; statements
    are checked by compiling the spec with them (:meth:`SpecModel.compile`)."""
    specs = spec_models(tuple(modules), sources, kb)
    by_domain = {p.domain: (spec, p.name) for spec in specs for p in spec.module.phases}
    groups: dict[tuple[str, int, int], list[SeccompRecord]] = {}
    for call in calls:
        groups.setdefault((call.domain, call.arch, call.nr), []).append(call)
    out = []
    for (domain, arch, nr), same in groups.items():
        name = same[0].syscall
        where = by_domain.get(domain)
        if name is None:
            out.append(SyscallSuggestion(Kind.NONE, tuple(same), None, _foreign(arch, nr)))
        elif where is None:
            out.append(SyscallSuggestion(
                Kind.NONE, tuple(same), name,
                f"{domain} is not a phase domain of the specs given"))
        else:
            out.append(_answer(where[0], where[1], name, tuple(same)))
    return out


def _foreign(arch: int, nr: int) -> str:
    abi = abi_of(arch, nr)
    if abi is None:
        return f"architecture 0x{arch:08x} is not x86_64"
    if abi == "x86_64":
        return f"x86_64 has no system call {nr}"
    number = f"0x{nr:x}" if abi == "x32" else str(nr)
    return (f"an {abi} call ({numbers(abi).name(nr) or 'unknown'}, {number}): a filter allows "
            "x86_64 calls only and kills every other ABI's; a daemon built for x86_64 never "
            "makes one")


def _answer(spec: SpecModel, phase: str, name: str,
            calls: tuple[SeccompRecord, ...]) -> SyscallSuggestion:
    lists = spec.module.syscalls_of(phase)
    base = SyscallSuggestion(Kind.NONE, calls, name, "", module=spec.module.name, phase=phase)
    denied = next((e for e in lists.denied if e.name == name), None)
    if denied is not None:
        deny = denied.reasons[-1].origin
        assert deny is not None, "a deny has a statement"
        return replace(
            base, kind=Kind.FORBIDDEN,
            why=f"'syscalls deny' removes {name} from the phase: the daemon was written not to "
            "make it", path=deny.span.path, line=deny.span.line,
            notes=_notes(spec, phase, name))
    allowed = next((e for e in lists.allowed if e.name == name), None)
    if allowed is not None:
        origin = next((r.origin for r in allowed.reasons if r.origin), None)
        return replace(
            base, kind=Kind.GRANTED,
            why=f"the phase's list has {name} already ({_reason(allowed.reasons[0])}): the "
            "filter that ran is not this spec's; rebuild the patch",
            path=origin.span.path if origin else spec.path,
            line=origin.span.line if origin else None)
    statement = f"syscalls allow {name}"
    compiled = spec.compile(((phase, statement),))
    if isinstance(compiled, ir.PolicyModule) and name in compiled.syscalls_of(phase).names:
        edit = spec.edit(phase, statement)
        return replace(
            base, kind=Kind.ALLOW,
            why=f"no statement of phase '{phase}' puts {name} in its filter",
            path=edit.path, line=edit.line, statement=statement,
            notes=_notes(spec, phase, name))
    reason = (compiled.diagnostics[0].message if not isinstance(compiled, ir.PolicyModule)
              else f"the spec compiled with '{statement}' still has no {name} in the phase")
    return replace(base, why=reason)


def _reason(reason: ir.SyscallReason) -> str:
    if reason.origin is None:
        return reason.detail
    return f"line {reason.origin.span.line}: '{reason.origin.statement}'"


def _notes(spec: SpecModel, phase: str, name: str) -> tuple[str, ...]:
    """What SELinux checks for the call, and the phase's verbs whose permissions gate it but
    whose own list of calls leaves it out."""
    gates = {(i.tclass, i.perm) for i in load_table().for_syscall(name) if i.mediation in GATING}
    gating_rules = [r for r in spec.module.allows(spec.domain(phase))
                    if any((r.tclass, p) in gates for p in r.perms)]
    held = sorted({f"{r.tclass} {p}" for r in gating_rules for p in r.perms
                   if (r.tclass, p) in gates})
    notes = []
    if not gates:
        notes.append(f"{name} reaches no SELinux check: the filter is all that stops it")
    elif held:
        notes.append(f"SELinux checks {name} against {', '.join(held)}, which the spec grants "
                     "the phase")
    else:
        wanted = ", ".join(sorted(f"{c} {p}" for c, p in gates))
        notes.append(f"SELinux checks {name} against {wanted}; the spec grants the phase none "
                     "of them (the base policy may: where it does not, the call is denied too "
                     "and the denial has its own suggestion)")
    spans = {r.origin.span for r in gating_rules}
    for stmt in spec.module.syscall_statements:
        if (isinstance(stmt, ir.SyscallStatement) and stmt.phase == phase
                and stmt.source is ir.SyscallSource.VERB and stmt.origin.span in spans):
            notes.append(f"line {stmt.origin.span.line}: '{stmt.origin.statement}' lists the "
                         f"calls it makes, without {name}")
    return tuple(notes)
