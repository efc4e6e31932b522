"""What a seccomp program does to every system call: its *surface*, found by running it.

:func:`surface` runs the program (bytes or instructions, checked as the kernel checks them)
on every number of the x86_64 and x32 tables under ``AUDIT_ARCH_X86_64``, every i386 number
under ``AUDIT_ARCH_I386``, and on representatives of every other number and architecture.

The representatives are the program's own comparison constants (``k`` and ``k + 1`` of each
``JEQ``/``JGT``/``JGE``), per ``seccomp_data`` field, found by following which field the
accumulator may hold at each compare. A program made only of word loads, immediate loads,
``JA``, those compares with a constant and ``RET k`` gives the same result on every number
between two consecutive representatives, so for such programs reading only ``nr`` and
``arch`` the result is the program's action on all 2**32 x 2**32 inputs: ``exhaustive``.
Any other program is evaluated on the tables, the representatives and the numbers below
4096 (and their x32 twins) only, and ``exhaustive`` is False.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from selkit.facts.numbers import AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT, numbers
from selkit.facts.seccomp_actions import Action
from selkit.seccomp.bpf import (
    ABS,
    IMM,
    JA,
    JEQ,
    JGE,
    JGT,
    JMP,
    LD,
    OFF_ARCH,
    OFF_NR,
    RET,
    Insn,
    K,
    W,
    decode,
)
from selkit.seccomp.evaluate import check, run, seccomp_data

_THRESHOLD_CODES = frozenset({LD | W | ABS, LD | IMM, JMP | JA, JMP | JEQ | K, JMP | JGT | K,
                              JMP | JGE | K, RET | K})
#: Numbers evaluated besides the tables and representatives when the program is not exhaustive.
SAMPLE = 4096
_TOP = 1 << 32
T = TypeVar("T")


@dataclass(frozen=True)
class Surface:
    """A program's action on each system call.

    ``x86_64``, ``x32``, ``i386``: name -> action for each table's numbers (x32 numbers with
    their bit, under ``AUDIT_ARCH_X86_64``; i386 under ``AUDIT_ARCH_I386``). ``native``:
    ``(first, last, action)`` runs covering ``nr`` 0 to 2**32 - 1 under
    ``AUDIT_ARCH_X86_64`` (table numbers included). ``archs``: ``(first, last, actions)``
    runs covering every other ``arch`` value, with the actions any ``nr`` gets there.
    ``reads``: the ``seccomp_data`` offsets the program loads. ``exhaustive``: the runs are
    exact (see the module docstring); when False each run only extends a sampled point's
    action to the next sampled point, and a proof must not rely on it.
    """

    x86_64: Mapping[str, Action]
    x32: Mapping[str, Action]
    i386: Mapping[str, Action]
    native: tuple[tuple[int, int, Action], ...]
    archs: tuple[tuple[int, int, frozenset[Action]], ...]
    reads: frozenset[int]
    exhaustive: bool

    @property
    def allowed(self) -> frozenset[str]:
        """The x86_64 calls the program allows (``SECCOMP_RET_ALLOW``)."""
        return frozenset(n for n, a in self.x86_64.items() if a.kind == "allow")

    @property
    def blocked(self) -> frozenset[str]:
        """The x86_64 calls it does not allow (killed, failed, trapped or only logged)."""
        return frozenset(self.x86_64) - self.allowed

    @property
    def unlisted(self) -> frozenset[Action]:
        """The actions on x86_64 numbers (below the x32 bit) that no table names."""
        table = numbers("x86_64").by_number
        out = set()
        for first, last, act in self.native:
            last = min(last, X32_SYSCALL_BIT - 1)
            # Among len(table) + 1 consecutive numbers one is outside the table.
            span = range(first, min(last, first + len(table)) + 1)
            if any(n not in table for n in span):
                out.add(act)
        return frozenset(out)

    @property
    def default(self) -> Action | None:
        """The one action of every blocked and unlisted x86_64 number, or None."""
        acts = {self.x86_64[n] for n in self.blocked} | self.unlisted
        return acts.pop() if len(acts) == 1 else None

    @property
    def foreign(self) -> frozenset[Action]:
        """Every action another ABI can get: each x32 and i386 call, each number at or
        above the x32 bit (and negative ones) under x86_64, each other architecture."""
        out = set(self.x32.values()) | set(self.i386.values())
        out |= {act for first, last, act in self.native if last >= X32_SYSCALL_BIT}
        for _first, _last, acts in self.archs:
            out |= acts
        return frozenset(out)


def surface(program: bytes | Sequence[Insn]) -> Surface:
    """The surface of a program the kernel would load (FilterError otherwise)."""
    insns = decode(program) if isinstance(program, bytes) else tuple(program)
    check(insns)
    points, reads, threshold = _representatives(insns)
    exhaustive = threshold and reads <= {OFF_NR, OFF_ARCH}
    tables = {abi: numbers(abi) for abi in ("x86_64", "x32", "i386")}
    nr_points = set(points.get(OFF_NR, ())) | {0, _TOP - 1}
    if not exhaustive:
        nr_points |= set(range(SAMPLE)) | {X32_SYSCALL_BIT + n for n in range(SAMPLE)}

    def act(nr: int, arch: int) -> Action:
        return Action.from_ret(run(insns, seccomp_data(_signed(nr), arch)))

    native_points = sorted(nr_points | set(tables["x86_64"].by_number)
                           | set(tables["x32"].by_number))
    native = {nr: act(nr, AUDIT_ARCH_X86_64) for nr in native_points}
    i386 = {name: act(nr, AUDIT_ARCH_I386) for name, nr in tables["i386"].by_name.items()}
    arch_points = sorted((set(points.get(OFF_ARCH, ())) | {0, AUDIT_ARCH_I386, _TOP - 1,
                                                           AUDIT_ARCH_X86_64 + 1})
                         - {AUDIT_ARCH_X86_64})
    other = {arch: frozenset(act(nr, arch) for nr in sorted(nr_points)) for arch in arch_points}
    other[AUDIT_ARCH_X86_64] = frozenset()      # a boundary only: `native` is this arch
    return Surface(
        x86_64={name: native[nr] for name, nr in tables["x86_64"].by_name.items()},
        x32={name: native[nr] for name, nr in tables["x32"].by_name.items()},
        i386=i386,
        native=_runs(native),
        archs=tuple(r for r in _runs(other) if r[2]),
        reads=frozenset(reads),
        exhaustive=exhaustive,
    )


def _signed(nr: int) -> int:
    return nr - _TOP if nr >= 1 << 31 else nr


def _runs(values: Mapping[int, T]) -> tuple[tuple[int, int, T], ...]:
    """Sorted points -> ``(first, last, value)`` runs to the next point (the last to 2**32)."""
    points = sorted(values)
    out: list[tuple[int, int, T]] = []
    for i, point in enumerate(points):
        end = points[i + 1] - 1 if i + 1 < len(points) else _TOP - 1
        if out and out[-1][2] == values[point]:
            out[-1] = (out[-1][0], end, values[point])
        else:
            out.append((point, end, values[point]))
    if out and out[0][0] != 0:
        raise ValueError("the points must include 0")
    return tuple(out)


def _representatives(program: Sequence[Insn]) -> tuple[dict[int, set[int]], set[int], bool]:
    """Per field offset, the values where a compare's outcome can change; the offsets the
    program loads; whether it is made of threshold instructions only (see the docstring).
    Jumps go forward only, so one pass in order sees every predecessor first."""
    holds: list[set[object]] = [set() for _ in program]
    holds[0].add("zero")
    points: dict[int, set[int]] = {}
    reads: set[int] = set()
    threshold = True
    for pc, insn in enumerate(program):
        code, k, now = insn.code, insn.k, holds[pc]
        threshold &= code in _THRESHOLD_CODES
        if code == LD | W | ABS:
            reads.add(k)
        if not now:
            continue                        # unreachable
        if code == LD | W | ABS:
            after: set[object] = {k}
        elif code & 0x07 == LD:
            after = {"other"}
        else:
            after = now
        if code & 0x07 == JMP and code & 0xF0 != JA:
            for field in now:
                if isinstance(field, int):
                    points.setdefault(field, set()).update(
                        p for p in (k, k + 1) if p < _TOP)
            for target in (pc + 1 + insn.jt, pc + 1 + insn.jf):
                holds[target] |= now
        elif code == JMP | JA:
            holds[pc + 1 + k] |= now
        elif code & 0x07 != RET:
            holds[pc + 1] |= after
    return points, reads, threshold
