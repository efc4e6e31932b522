"""The steady phase's seccomp filter, proved from its program (issue 12's syscall obligation).

The program is evaluated (:func:`selkit.seccomp.surface.surface`) over every x86_64 number, the
x32 and i386 tables, every other number and every other architecture; nothing is taken from
the generator. Each x86_64 system call of the table is then one of:

* **blocked**: the program does not allow it;
* **allowed, impossible**: the program allows it, but SELinux lets no call of it succeed: it
  is fully mediated (not unmediated, nor partly mediated, in the syscall table) and the phase
  holds none of the permissions the table says gate it (a capability's user-namespace twin
  counts, as the kernel checks it inside a user namespace);
* **allowed, possible**: the program allows it and it may succeed: it must be declared.

The obligation is refuted when the program allows a call the spec does not declare, lets a
foreign ABI (i386, x32, another architecture) do anything but kill, or acts on the blocked and
unlisted calls otherwise than the declared default; it is unknown when the program reads more
than the number and architecture (its surface is then sampled, not exhaustive). Declared calls
SELinux makes impossible are noted, not refuted: the filter is then wider than the policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from selkit.emit.seccomp import steady_filter
from selkit.facts.numbers import numbers
from selkit.facts.seccomp_actions import Action
from selkit.facts.syscalls import USERNS_TWIN, SyscallTable, load_table
from selkit.ir import nodes as ir
from selkit.prove.obligations import Context, Evidence, Obligation, Result, Verdict
from selkit.seccomp.evaluate import FilterError
from selkit.seccomp.surface import surface

Perm = tuple[str, str]
KILL = Action("kill_process")


@dataclass(frozen=True)
class FilterProof:
    """The three lists, and what is wrong (``problems``) or undecidable (``undecided``)."""

    blocked: tuple[str, ...]
    impossible: tuple[str, ...]
    possible: tuple[str, ...]
    problems: tuple[str, ...]
    undecided: str | None
    #: Declared calls SELinux lets none succeed (the filter is wider than the policy).
    dead: tuple[str, ...]

    @property
    def verdict(self) -> Verdict:
        """REFUTED on a problem, UNKNOWN when undecidable, else HOLDS."""
        if self.problems:
            return Verdict.REFUTED
        return Verdict.UNKNOWN if self.undecided else Verdict.HOLDS


def may_succeed(name: str, granted: frozenset[Perm], table: SyscallTable) -> bool:
    """Whether SELinux may let a call of ``name`` succeed for a domain holding ``granted``
    (True unless the table says every call of it is checked against permissions none of
    which, nor their user-namespace twins, is granted)."""
    if name in table.unmediated or name in table.partly_mediated:
        return True
    gates = table.for_syscall(name)
    if not gates:
        return True  # the table says nothing: never claim impossible
    for info in gates:
        twin = USERNS_TWIN.get(info.tclass)
        if (info.tclass, info.perm) in granted or (twin, info.perm) in granted:
            return True
    return False


def check_filter(program: bytes, declared: Iterable[str], default: Action,
                 granted: Iterable[Perm], table: SyscallTable | None = None) -> FilterProof:
    """Evaluate ``program`` against the declared allow list and default action."""
    table = table or load_table()
    names = frozenset(declared)
    try:
        seen = surface(program)
    except FilterError as exc:
        return FilterProof((), (), (), (f"the kernel would refuse the program: {exc}",), None,
                           ())
    perms = frozenset(granted)
    allowed = seen.allowed
    possible = tuple(sorted(n for n in allowed if may_succeed(n, perms, table)))
    impossible = tuple(sorted(allowed - set(possible)))
    problems = [f"allows {n}, which the spec does not declare" for n in sorted(allowed - names)]
    problems += [f"blocks {n}, which the spec declares" for n in sorted(names - allowed)]
    foreign = sorted(str(a) for a in seen.foreign - {KILL})
    if foreign:
        problems.append(f"a foreign ABI or architecture gets {', '.join(foreign)}, not "
                        "kill_process")
    if seen.default != default:
        problems.append(f"the blocked calls get {seen.default or 'several actions'}, "
                        f"the spec says {default}")
    undecided = None if seen.exhaustive else (
        "the program reads more than the call number and architecture: its surface is "
        "sampled, not exhaustive")
    dead = tuple(sorted(names & set(impossible)))
    return FilterProof(tuple(sorted(seen.blocked)), impossible, possible, tuple(problems),
                       undecided, dead)


def _granted(ctx: Context, phase: str) -> frozenset[Perm]:
    return frozenset((g.tclass, g.perm) for g in ctx.phases[phase].all)


class SteadySyscalls(Obligation):
    """The steady filter allows exactly the declared calls, kills foreign ABIs and applies
    the declared default to everything else."""

    id = "steady-syscalls"
    title = "steady's seccomp filter: exactly the declared calls, foreign ABIs killed"

    def run(self, ctx: Context) -> Result:
        steady = ctx.module.steady.name
        sets = {s.phase: s for s in ctx.module.syscalls}
        if steady not in sets:
            return Result(self.id, self.title, Verdict.UNKNOWN, "the IR has no syscall list "
                          "for the steady phase")
        phase = sets[steady]
        flt = steady_filter(ctx.module)
        proof = check_filter(flt.bytes, (e.name for e in phase.allowed),
                             Action.parse(phase.default), _granted(ctx, steady))
        return Result(self.id, self.title, proof.verdict, summary(proof),
                      evidence=_evidence(proof, phase.allowed),
                      extra={"syscalls": lists(proof, phase)})


def lists(proof: FilterProof, phase: ir.PhaseSyscalls) -> dict[str, object]:
    """The three lists as JSON-ready data: names blocked; allowed calls (impossible, possible)
    with their numbers and every reason the spec gives for them."""
    entries = {e.name: e for e in phase.allowed}
    table = numbers("x86_64").by_name

    def allowed(names: Iterable[str]) -> list[dict[str, object]]:
        return [{"name": n, "nr": table[n],
                 "declared_by": [_reason(r) for r in entries[n].reasons] if n in entries
                 else []} for n in names]

    return {"table": len(proof.blocked) + len(proof.impossible) + len(proof.possible),
            "default": phase.default, "blocked": list(proof.blocked),
            "impossible": allowed(proof.impossible), "possible": allowed(proof.possible)}


def _reason(reason: ir.SyscallReason) -> dict[str, object]:
    out: dict[str, object] = {"source": reason.source.value, "detail": reason.detail}
    if reason.origin is not None:
        out["at"] = f"{reason.origin.span.path}:{reason.origin.span.line}"
    return out


def summary(proof: FilterProof) -> str:
    """The counts in one line."""
    table = len(proof.blocked) + len(proof.impossible) + len(proof.possible)
    head = (f"{len(proof.blocked)} of {table} blocked, {len(proof.impossible)} allowed but "
            f"impossible under SELinux, {len(proof.possible)} allowed and possible")
    if proof.undecided:
        head += f"; undecided: {proof.undecided}"
    return head


def _evidence(proof: FilterProof, entries: Sequence[ir.SyscallEntry]) -> list[Evidence]:
    out = [Evidence(p) for p in proof.problems]
    origins: Mapping[str, ir.Origin | None] = {
        e.name: next((r.origin for r in e.reasons if r.origin), None) for e in entries}
    for name in proof.dead:
        origin = origins.get(name)
        out.append(Evidence(f"note: {name} is declared but SELinux lets no call of it succeed",
                            origin.span if origin else None))
    return out
