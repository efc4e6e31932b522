"""The cBPF interpreter (selkit/seccomp/evaluate.py): the kernel's load checks and the
semantics of each instruction of seccomp's subset, on hand-written programs."""

from __future__ import annotations

import pytest

from selkit.seccomp.bpf import (
    A_SRC,
    ABS,
    ADD,
    ALU,
    AND,
    DIV,
    IMM,
    IND,
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
    MOD,
    MUL,
    NEG,
    OR,
    RET,
    RSH,
    ST,
    STX,
    SUB,
    TAX,
    TXA,
    XOR,
    B,
    H,
    Insn,
    K,
    W,
    X,
    jump,
    stmt,
)
from selkit.seccomp.evaluate import FilterError, check, run, seccomp_data

RET_A = stmt(RET | A_SRC)


def ok(*insns):
    return list(insns) + [stmt(RET | K, 0x7FFF0000)]


#: Programs the kernel refuses (tests/seccomp/test_kernel.py loads each into the kernel).
REFUSED = {
    "empty": [],
    "too long": [stmt(LD | IMM, 1)] * 4096 + [stmt(RET | K)],
    "no final ret": [stmt(LD | W | ABS, 0)],
    "unaligned load": ok(stmt(LD | W | ABS, 2)),
    "load past seccomp_data": ok(stmt(LD | W | ABS, 64)),
    "half-word load": ok(stmt(LD | H | ABS, 0)),
    "byte load": ok(stmt(LD | B | ABS, 0)),
    "indirect load": ok(stmt(LD | W | IND, 0)),
    "modulo": ok(stmt(ALU | MOD | K, 3)),
    "division by constant zero": ok(stmt(ALU | DIV | K, 0)),
    "shift by 32": ok(stmt(ALU | LSH | K, 32)),
    "scratch cell 16": ok(stmt(ST, 16)),
    "load before store": ok(stmt(LD | MEM, 3)),
    "load after a store on one path only": [
        stmt(LD | W | ABS, 0), jump(JMP | JEQ | K, 1, 0, 1), stmt(ST, 2),
        stmt(LD | MEM, 2), RET_A],
    "conditional jump past the end": [jump(JMP | JEQ | K, 0, 0, 1), stmt(RET | K)],
    "ja past the end": [stmt(JMP | JA, 1), stmt(RET | K)],
    "unknown code": ok(Insn(0xFF)),
    "ret x": ok(stmt(RET | X)),
}

#: Programs the kernel loads.
ACCEPTED = {
    "one ret": [stmt(RET | K, 0x7FFF0000)],
    "ret a": ok(stmt(LD | W | ABS, 60), RET_A),
    "length loads": ok(stmt(LD | W | LEN), stmt(LDX | W | LEN)),
    "scratch memory": ok(stmt(ST, 15), stmt(LD | MEM, 15), stmt(STX, 0), stmt(LDX | MEM, 0)),
    "store on both paths": [
        stmt(LD | W | ABS, 0), jump(JMP | JEQ | K, 1, 0, 1), stmt(ST, 2), stmt(ST, 2),
        stmt(LD | MEM, 2), RET_A],
    "every alu op": ok(*(stmt(ALU | op | src, 3) for op in (ADD, SUB, MUL, DIV, OR, AND, LSH,
                                                             RSH, XOR) for src in (K, X)),
                       stmt(ALU | NEG), stmt(MISC | TAX), stmt(MISC | TXA)),
    "every jump": ok(*(jump(JMP | op | src, 1, 0, 0) for op in (JEQ, JGT, JGE, JSET)
                       for src in (K, X)), stmt(JMP | JA, 0)),
    "longest": [stmt(LD | IMM, 1)] * 4095 + [stmt(RET | K)],
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_the_kernel_checks_refuse(name):
    with pytest.raises(FilterError):
        check(REFUSED[name])


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_the_kernel_checks_accept(name):
    check(ACCEPTED[name])


def test_a_refusal_names_the_instruction():
    with pytest.raises(FilterError, match="^instruction 0: load at offset 2") as info:
        check(REFUSED["unaligned load"])
    assert info.value.pc == 0


def compute(*insns, nr=0, arch=0, args=()):
    """Run ``insns`` + RET A on a seccomp_data (checked first)."""
    program = [*insns, RET_A]
    check(program)
    return run(program, seccomp_data(nr, arch, 0x1122334455667788, args))


def test_loads_read_the_seccomp_data_words_little_endian():
    assert compute(stmt(LD | W | ABS, 0), nr=-1) == 0xFFFFFFFF
    assert compute(stmt(LD | W | ABS, 4), arch=0xC000003E) == 0xC000003E
    assert compute(stmt(LD | W | ABS, 8)) == 0x55667788
    assert compute(stmt(LD | W | ABS, 12)) == 0x11223344
    assert compute(stmt(LD | W | ABS, 16 + 8 * 5 + 4), args=[0] * 5 + [7 << 32]) == 7
    assert compute(stmt(LD | W | LEN)) == 64
    assert compute() == 0                                   # A starts at 0


@pytest.mark.parametrize("op,a,operand,result", [
    (ADD, 0xFFFFFFFF, 2, 1), (SUB, 1, 2, 0xFFFFFFFF), (MUL, 0x10000, 0x10000, 0),
    (DIV, 7, 2, 3), (OR, 0xF0, 0x0F, 0xFF), (AND, 0xF0, 0x3C, 0x30), (XOR, 0xFF, 0x0F, 0xF0),
    (LSH, 1, 31, 0x80000000), (RSH, 0x80000000, 31, 1),
])
def test_alu_is_32_bit_unsigned(op, a, operand, result):
    assert compute(stmt(LD | IMM, a), stmt(ALU | op | K, operand)) == result
    assert compute(stmt(LDX | IMM, operand), stmt(LD | IMM, a), stmt(ALU | op | X)) == result


def test_register_edge_cases_follow_the_kernel():
    assert compute(stmt(LD | IMM, 5), stmt(ALU | NEG)) == 0xFFFFFFFB
    # a division by X == 0 ends the program with 0 (SECCOMP_RET_KILL_THREAD)
    assert compute(stmt(LD | IMM, 5), stmt(ALU | DIV | X), stmt(LD | IMM, 9)) == 0
    # a shift by X uses X's low five bits
    assert compute(stmt(LDX | IMM, 33), stmt(LD | IMM, 1), stmt(ALU | LSH | X)) == 2
    assert compute(stmt(LDX | IMM, 32), stmt(LD | IMM, 6), stmt(ALU | RSH | X)) == 6
    assert compute(stmt(LD | IMM, 9), stmt(MISC | TAX), stmt(LD | IMM, 1),
                   stmt(MISC | TXA)) == 9
    assert compute(stmt(LD | IMM, 4), stmt(ST, 1), stmt(LDX | MEM, 1), stmt(LD | IMM, 0),
                   stmt(STX, 2), stmt(LD | MEM, 2)) == 4


@pytest.mark.parametrize("op,operand,a,taken", [
    (JEQ, 5, 5, True), (JEQ, 5, 6, False), (JGT, 5, 6, True), (JGT, 5, 5, False),
    (JGE, 5, 5, True), (JGE, 5, 4, False), (JSET, 6, 4, True), (JSET, 6, 9, False),
    (JGT, 1, 0xFFFFFFFF, True),                            # unsigned compares
])
def test_conditional_jumps(op, operand, a, taken):
    for src in (K, X):
        program = [stmt(LDX | IMM, operand), stmt(LD | IMM, a),
                   jump(JMP | op | src, operand if src == K else 0, 1, 0),
                   stmt(RET | K, 2), stmt(RET | K, 1)]
        check(program)
        assert run(program, seccomp_data(0, 0)) == (1 if taken else 2)


def test_ja_skips_forward():
    program = [stmt(JMP | JA, 1), stmt(RET | K, 1), stmt(RET | K, 2)]
    check(program)
    assert run(program, seccomp_data(0, 0)) == 2
