"""A classic BPF interpreter for seccomp filters, with the kernel's checks.

:func:`check` refuses what the kernel refuses when a filter is loaded (``bpf_check_classic``
in net/core/filter.c, then ``seccomp_check_filter`` in kernel/seccomp.c): an empty or too
long program, an instruction outside seccomp's subset, a load outside ``struct seccomp_data``
or not 4-aligned, a jump past the end, a division by constant zero, a shift by 32 or more, a
scratch cell read before every path stored it, a last instruction that is not a RET.
:func:`run` executes a checked program on one ``seccomp_data`` as the kernel's translation
does (32-bit unsigned arithmetic, ``A`` and ``X`` start at 0, a division by ``X == 0``
returns 0, a shift by ``X`` uses its low 5 bits) and gives the raw return value;
:func:`action` gives the :class:`~selkit.facts.seccomp_actions.Action` the kernel applies.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from selkit.facts.seccomp_actions import Action
from selkit.seccomp.bpf import (
    A_SRC,
    ABS,
    ADD,
    ALU,
    AND,
    BPF_MAXINSNS,
    DIV,
    IMM,
    JA,
    JEQ,
    JGE,
    JGT,
    JMP,
    JSET,
    LD,
    LDX,
    LEN,
    LSH,
    MEM,
    MISC,
    MUL,
    NEG,
    OR,
    RET,
    RSH,
    SECCOMP_DATA_SIZE,
    ST,
    STX,
    SUB,
    TAX,
    TXA,
    XOR,
    Insn,
    K,
    W,
    X,
)

MEMWORDS = 16
MASK = 0xFFFFFFFF
_ALU_OPS = (ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, XOR)
_CONDS = (JEQ, JGT, JGE, JSET)
#: The instruction codes seccomp_check_filter lets through (BPF_MOD is not among them).
ALLOWED_CODES = frozenset({
    LD | W | ABS, LD | W | LEN, LDX | W | LEN, RET | K, RET | A_SRC,
    *(ALU | op | src for op in _ALU_OPS for src in (K, X)), ALU | NEG,
    LD | IMM, LDX | IMM, MISC | TAX, MISC | TXA, LD | MEM, LDX | MEM, ST, STX,
    JMP | JA, *(JMP | op | src for op in _CONDS for src in (K, X)),
})


class FilterError(ValueError):
    """The kernel would refuse this program (EINVAL); ``pc`` is the instruction, or None."""

    def __init__(self, message: str, pc: int | None = None) -> None:
        super().__init__(message if pc is None else f"instruction {pc}: {message}")
        self.pc = pc


def check(program: Sequence[Insn]) -> None:
    """Raise :class:`FilterError` if the kernel would refuse to load ``program``."""
    flen = len(program)
    if not 0 < flen <= BPF_MAXINSNS:
        raise FilterError(f"{flen} instructions (1 to {BPF_MAXINSNS})")
    for pc, insn in enumerate(program):
        code, k = insn.code, insn.k
        if code not in ALLOWED_CODES:
            raise FilterError(f"code 0x{code:02x} is not allowed in a seccomp filter", pc)
        if code == ALU | DIV | K and k == 0:
            raise FilterError("division by zero", pc)
        if code in (ALU | LSH | K, ALU | RSH | K) and k >= 32:
            raise FilterError(f"shift by {k}", pc)
        if code in (LD | MEM, LDX | MEM, ST, STX) and k >= MEMWORDS:
            raise FilterError(f"scratch cell {k}", pc)
        if code == JMP | JA and k >= flen - pc - 1:
            raise FilterError(f"jump by {k} past the end", pc)
        if code & 0x07 == JMP and code != JMP | JA and \
                (pc + insn.jt + 1 >= flen or pc + insn.jf + 1 >= flen):
            raise FilterError("conditional jump past the end", pc)
        if code == LD | W | ABS and (k >= SECCOMP_DATA_SIZE or k & 3):
            raise FilterError(f"load at offset {k} of seccomp_data", pc)
    if program[-1].code not in (RET | K, RET | A_SRC):
        raise FilterError("the last instruction is not a RET", flen - 1)
    _check_loads_after_stores(program)


def _check_loads_after_stores(program: Sequence[Insn]) -> None:
    """The kernel's ``check_load_and_stores``: a scratch cell is read only after a store on
    every path to the read (tracked forward; a jump resets the running mask)."""
    masks = [0xFFFF] * len(program)
    valid = 0
    for pc, insn in enumerate(program):
        valid &= masks[pc]
        code = insn.code
        if code in (ST, STX):
            valid |= 1 << insn.k
        elif code in (LD | MEM, LDX | MEM):
            if not valid & (1 << insn.k):
                raise FilterError(f"scratch cell {insn.k} read before it is stored", pc)
        elif code == JMP | JA:
            masks[pc + 1 + insn.k] &= valid
            valid = 0xFFFF
        elif code & 0x07 == JMP:
            masks[pc + 1 + insn.jt] &= valid
            masks[pc + 1 + insn.jf] &= valid
            valid = 0xFFFF


def seccomp_data(nr: int, arch: int, ip: int = 0, args: Sequence[int] = ()) -> bytes:
    """``struct seccomp_data`` as the kernel fills it on x86 (little endian)."""
    full = [*args, *([0] * (6 - len(args)))]
    return struct.pack("<iIQ6Q", nr, arch, ip, *full)


def run(program: Sequence[Insn], data: bytes) -> int:
    """The raw 32-bit return value of a checked ``program`` on ``data`` (64 bytes)."""
    return execute(program, data)[0]


def execute(program: Sequence[Insn], data: bytes) -> tuple[int, int]:
    """``(return value, instructions executed)`` of a checked ``program`` on ``data``."""
    words = struct.unpack("<16I", data)
    a = x = 0
    mem = [0] * MEMWORDS
    pc = steps = 0
    while True:
        steps += 1
        insn = program[pc]
        code, k = insn.code, insn.k
        pc += 1
        cls = code & 0x07
        if cls == LD:
            mode = code & 0xE0
            a = words[k >> 2] if mode == ABS else k if mode == IMM else \
                mem[k] if mode == MEM else SECCOMP_DATA_SIZE
        elif cls == JMP:
            op = code & 0xF0
            if op == JA:
                pc += k
                continue
            operand = x if code & X else k
            taken = a == operand if op == JEQ else a > operand if op == JGT else \
                a >= operand if op == JGE else bool(a & operand)
            pc += insn.jt if taken else insn.jf
        elif cls == RET:
            return (a if code & A_SRC else k), steps
        elif cls == ALU:
            op = code & 0xF0
            operand = x if code & X else k
            if op == DIV and operand == 0:
                return 0, steps
            a = _alu(op, a, operand)
        elif cls == LDX:
            mode = code & 0xE0
            x = k if mode == IMM else mem[k] if mode == MEM else SECCOMP_DATA_SIZE
        elif cls == ST:
            mem[k] = a
        elif cls == STX:
            mem[k] = x
        else:
            if code & 0xF8 == TXA:
                a = x
            else:
                x = a


def _alu(op: int, a: int, operand: int) -> int:
    if op == ADD:
        return (a + operand) & MASK
    if op == SUB:
        return (a - operand) & MASK
    if op == MUL:
        return (a * operand) & MASK
    if op == DIV:
        return a // operand
    if op == OR:
        return a | operand
    if op == AND:
        return a & operand
    if op == LSH:
        return (a << (operand & 31)) & MASK
    if op == RSH:
        return a >> (operand & 31)
    if op == XOR:
        return a ^ operand
    return -a & MASK      # NEG


def action(program: Sequence[Insn], nr: int, arch: int, ip: int = 0,
           args: Sequence[int] = ()) -> Action:
    """What the kernel does with a call: ``program`` (checked) run on its seccomp_data."""
    return Action.from_ret(run(program, seccomp_data(nr, arch, ip, args)))
