"""Classic BPF for seccomp: the instruction encoding and the generator of a phase's filter.

A program is a tuple of :class:`Insn` (``struct sock_filter``: u16 code, u8 jt, u8 jf, u32 k,
8 little-endian bytes each); :func:`encode` gives the bytes the daemon loads and the prover
evaluates. :func:`generate` builds the filter of an allow list:

1. ``A = arch``; anything but ``AUDIT_ARCH_X86_64`` kills the process (an i386 ``int 0x80``
   call is an attack, never a rollout case);
2. ``A = nr``; ``nr >= __X32_SYSCALL_BIT`` (x32 calls, and negative numbers) kills the
   process;
3. a binary search over the ranges of allowed numbers (``layout="tree"``) or a compare per
   range (``layout="linear"``) returns ``SECCOMP_RET_ALLOW`` or the default action.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from selkit.facts.numbers import AUDIT_ARCH_X86_64, X32_SYSCALL_BIT, numbers
from selkit.facts.seccomp_actions import ALLOW, KILL_PROCESS, Action, default_action

# Instruction classes, sizes, modes, operations and sources (linux/bpf_common.h, filter.h).
LD, LDX, ST, STX, ALU, JMP, RET, MISC = range(8)
W, H, B = 0x00, 0x08, 0x10
IMM, ABS, IND, MEM, LEN, MSH = 0x00, 0x20, 0x40, 0x60, 0x80, 0xA0
ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, NEG, MOD, XOR = (
    0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xA0)
JA, JEQ, JGT, JGE, JSET = 0x00, 0x10, 0x20, 0x30, 0x40
K, X = 0x00, 0x08
A_SRC = 0x10      # BPF_A: RET A
TAX, TXA = 0x00, 0x80

BPF_MAXINSNS = 4096
#: Offsets in ``struct seccomp_data`` (64 bytes: int nr; u32 arch; u64 ip; u64 args[6]).
OFF_NR, OFF_ARCH, OFF_IP, OFF_ARGS = 0, 4, 8, 16
SECCOMP_DATA_SIZE = 64
_SOCK_FILTER = struct.Struct("<HBBI")


@dataclass(frozen=True)
class Insn:
    """One ``struct sock_filter``; ``comment`` (what it implements) is not part of it."""

    code: int
    jt: int = 0
    jf: int = 0
    k: int = 0
    comment: str = field(default="", compare=False)


def stmt(code: int, k: int = 0, comment: str = "") -> Insn:
    """``BPF_STMT(code, k)``."""
    return Insn(code, 0, 0, k, comment)


def jump(code: int, k: int, jt: int, jf: int, comment: str = "") -> Insn:
    """``BPF_JUMP(code, k, jt, jf)``."""
    return Insn(code, jt, jf, k, comment)


def encode(program: Sequence[Insn]) -> bytes:
    """The program as the kernel reads it (``struct sock_filter[]``, little endian)."""
    return b"".join(_SOCK_FILTER.pack(i.code, i.jt, i.jf, i.k) for i in program)


def decode(data: bytes) -> tuple[Insn, ...]:
    """Bytes back into instructions (without comments)."""
    if len(data) % _SOCK_FILTER.size:
        raise ValueError(f"{len(data)} bytes is not a whole number of sock_filter")
    return tuple(Insn(*fields) for fields in _SOCK_FILTER.iter_unpack(data))


@dataclass(frozen=True)
class Filter:
    """A generated filter: the allow list it was made from (names, by number), its default
    action and its program."""

    allowed: tuple[str, ...]
    default: Action
    program: tuple[Insn, ...]

    @property
    def numbers(self) -> tuple[int, ...]:
        """The x86_64 numbers of ``allowed``."""
        table = numbers("x86_64")
        return tuple(table.number(name) for name in self.allowed)

    @property
    def bytes(self) -> bytes:
        """The program's bytes: what the daemon loads and the prover evaluates."""
        return encode(self.program)

    @property
    def sha256(self) -> str:
        """The sha256 of :attr:`bytes`, hex."""
        return hashlib.sha256(self.bytes).hexdigest()


def generate(allowed: Iterable[str], default: str | Action = "kill_process", *,
             layout: str = "tree") -> Filter:
    """The filter allowing exactly the named x86_64 system calls, ``default`` for every
    other x86_64 number and kill_process for every other ABI."""
    table = numbers("x86_64")
    names = set(allowed)
    unknown = sorted(names - set(table.by_name))
    if unknown:
        raise ValueError(f"not x86_64 system calls: {', '.join(unknown)}")
    action = default_action(default)
    nrs = sorted(table.by_name[n] for n in names)
    ranges = _ranges(nrs)
    body = _tree(_segments(ranges), action) if layout == "tree" else \
        _linear(ranges, action) if layout == "linear" else None
    if body is None:
        raise ValueError(f"unknown layout {layout!r}")
    program = (*_prologue(), *body)
    if len(program) > BPF_MAXINSNS:
        raise ValueError(f"the filter has {len(program)} instructions, over {BPF_MAXINSNS}")
    return Filter(tuple(table.by_number[n] for n in nrs), action, program)


def _prologue() -> tuple[Insn, ...]:
    kill = KILL_PROCESS.ret
    return (
        stmt(LD | W | ABS, OFF_ARCH, "A = seccomp_data.arch"),
        jump(JMP | JEQ | K, AUDIT_ARCH_X86_64, 1, 0, "arch == AUDIT_ARCH_X86_64?"),
        stmt(RET | K, kill, "another ABI (i386): kill the process"),
        stmt(LD | W | ABS, OFF_NR, "A = seccomp_data.nr"),
        jump(JMP | JGE | K, X32_SYSCALL_BIT, 0, 1, "nr >= __X32_SYSCALL_BIT?"),
        stmt(RET | K, kill, "x32 ABI (or a negative nr): kill the process"),
    )


def _ranges(nrs: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted numbers as maximal runs ``(first, last)``."""
    out: list[tuple[int, int]] = []
    for nr in nrs:
        if out and out[-1][1] == nr - 1:
            out[-1] = (out[-1][0], nr)
        else:
            out.append((nr, nr))
    return out


def _segments(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int, bool]]:
    """``[0, __X32_SYSCALL_BIT)`` cut into ``(first, last, allowed)`` pieces."""
    out: list[tuple[int, int, bool]] = []
    start = 0
    for first, last in ranges:
        if first > start:
            out.append((start, first - 1, False))
        out.append((first, last, True))
        start = last + 1
    if start < X32_SYSCALL_BIT:
        out.append((start, X32_SYSCALL_BIT - 1, False))
    return out


def _describe(first: int, last: int) -> str:
    table = numbers("x86_64")
    names = [table.by_number[n] for n in range(first, min(last, first + 3) + 1)
             if n in table.by_number]
    more = " ..." if last > first + 3 else ""
    span = f"nr {first}" if first == last else f"nr {first}-{last}"
    return f"{span}{': ' + ' '.join(names) if names else ''}{more}"


def _leaf(segment: tuple[int, int, bool], default: Action) -> Insn:
    first, last, allowed = segment
    action = ALLOW if allowed else default
    return stmt(RET | K, action.ret, f"{_describe(first, last)} -> {action}")


def _tree(segments: Sequence[tuple[int, int, bool]], default: Action) -> list[Insn]:
    """A binary search on the segments' first numbers, a RET at each leaf. A left subtree
    longer than a jump offset (255) is skipped with ``JA``."""
    if len(segments) == 1:
        return [_leaf(segments[0], default)]
    mid = len(segments) // 2
    left, right = _tree(segments[:mid], default), _tree(segments[mid:], default)
    bound = segments[mid][0]
    test = f"nr >= {bound}?"
    if len(left) <= 255:
        return [jump(JMP | JGE | K, bound, len(left), 0, test), *left, *right]
    return [jump(JMP | JGE | K, bound, 0, 1, test),
            stmt(JMP | JA, len(left), f"to nr >= {bound}"), *left, *right]


def _linear(ranges: Sequence[tuple[int, int]], default: Action) -> list[Insn]:
    """One compare (a single number) or two (a run) per range, each followed by its RET."""
    out: list[Insn] = []
    for first, last in ranges:
        allow = stmt(RET | K, ALLOW.ret, f"{_describe(first, last)} -> allow")
        if first == last:
            out += [jump(JMP | JEQ | K, first, 0, 1, f"nr == {first}?"), allow]
        else:
            out += [jump(JMP | JGE | K, first, 0, 2, f"nr >= {first}?"),
                    jump(JMP | JGT | K, last, 1, 0, f"nr > {last}?"), allow]
    return [*out, stmt(RET | K, default.ret, f"any other nr -> {default}")]
