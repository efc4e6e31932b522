"""The evaluated surface of a program (selkit/seccomp/surface.py), and the mutants a proof
over it must refute: one more call allowed, the arch check gone, the default flipped."""

from __future__ import annotations

import dataclasses

import pytest

from selkit.facts.numbers import AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT, numbers
from selkit.facts.seccomp_actions import ALLOW, KILL_PROCESS, Action
from selkit.seccomp.bpf import (
    A_SRC,
    ABS,
    JEQ,
    JGE,
    JMP,
    JSET,
    LD,
    RET,
    K,
    W,
    decode,
    encode,
    generate,
    jump,
    stmt,
)
from selkit.seccomp.evaluate import FilterError
from selkit.seccomp.surface import surface

X86_64 = numbers("x86_64")
STEADY = ["read", "write", "close", "epoll_wait", "recvfrom", "sendto", "futex",
          "clock_gettime", "exit_group", "rt_sigreturn", "getrandom", "openat", "fstat", "mmap"]


def test_the_surface_of_a_generated_filter():
    seen = surface(generate(STEADY, "errno 1").bytes)
    assert seen.exhaustive and seen.reads == {0, 4}
    assert seen.allowed == set(STEADY)
    assert seen.blocked == set(X86_64.by_name) - set(STEADY)
    assert seen.default == Action("errno", 1)
    assert seen.unlisted == {Action("errno", 1)}
    assert seen.foreign == {KILL_PROCESS}
    assert set(seen.x32.values()) == set(seen.i386.values()) == {KILL_PROCESS}
    assert seen.native[-1] == (X32_SYSCALL_BIT, 2**32 - 1, KILL_PROCESS)
    assert [r[:2] for r in seen.archs] == [(0, AUDIT_ARCH_X86_64 - 1),
                                          (AUDIT_ARCH_X86_64 + 1, 2**32 - 1)]


def test_bytes_and_instructions_give_the_same_surface():
    flt = generate(STEADY)
    assert surface(flt.bytes) == surface(flt.program)


def test_a_program_the_kernel_refuses_has_no_surface():
    with pytest.raises(FilterError):
        surface(encode([stmt(LD | W | ABS, 2), stmt(RET | K)]))


# --- mutants: each edit of the program bytes shows in the surface -----------------------

def _mutant(program, at, *insns, drop=0):
    """``program`` with ``insns`` inserted at ``at`` (replacing ``drop`` instructions), the
    jumps over the edit fixed up."""
    delta = len(insns) - drop
    moved = at + max(drop, 1)            # the first old instruction that moves
    out = []
    for pc, insn in enumerate(program[:at]):
        if insn.code & 7 == JMP and insn.code != JMP:
            insn = dataclasses.replace(
                insn, jt=insn.jt + delta if pc + 1 + insn.jt >= moved else insn.jt,
                jf=insn.jf + delta if pc + 1 + insn.jf >= moved else insn.jf)
        out.append(insn)
    return [*out, *insns, *program[at + drop:]]


def test_one_more_allowed_call_is_seen():
    flt = generate(STEADY)
    ptrace = X86_64.number("ptrace")
    # right after ``A = nr`` (pc 3) and the x32 check: nr == ptrace -> allow
    mutant = _mutant(flt.program, 6, jump(JMP | JEQ | K, ptrace, 0, 1), stmt(RET | K, ALLOW.ret))
    seen = surface(encode(mutant))
    assert seen.allowed - surface(flt.bytes).allowed == {"ptrace"}


def test_an_allowed_number_outside_every_table_is_seen():
    """nr 1000 names no call yet: an exhaustive surface still shows it allowed."""
    flt = generate(STEADY)
    mutant = _mutant(flt.program, 6, jump(JMP | JEQ | K, 1000, 0, 1), stmt(RET | K, ALLOW.ret))
    seen = surface(encode(mutant))
    assert seen.exhaustive and seen.allowed == set(STEADY)
    assert (1000, 1000, ALLOW) in seen.native
    assert seen.unlisted == {KILL_PROCESS, ALLOW} and seen.default is None


def test_a_removed_arch_check_is_seen():
    flt = generate(STEADY, "errno 1")
    mutant = _mutant(flt.program, 0, drop=3)
    seen = surface(encode(mutant))
    assert seen.allowed == set(STEADY)
    assert "read" in {n for n, a in seen.i386.items() if a == ALLOW}     # i386 nr 3 is read
    assert Action("errno", 1) in seen.foreign and ALLOW in seen.foreign


def test_a_removed_x32_check_is_seen():
    flt = generate(STEADY, "log")
    seen = surface(encode(_mutant(flt.program, 4, drop=2)))
    # the tree's last leaf covers everything from its bound up: x32 calls get the default
    assert set(seen.x32.values()) == {Action("log")}
    assert Action("log") in seen.foreign


@pytest.mark.parametrize("flip", ["allow", "log"])
def test_a_flipped_default_is_seen(flip):
    flt = generate(STEADY)
    kill = KILL_PROCESS.ret
    leaves = [pc for pc, insn in enumerate(flt.program) if pc > 5 and insn.k == kill
              and insn.code == RET | K]
    mutant = list(flt.program)
    for pc in leaves:
        mutant[pc] = stmt(RET | K, Action(flip).ret)
    seen = surface(encode(mutant))
    assert seen.default == Action(flip) != surface(flt.bytes).default
    assert seen.foreign == {KILL_PROCESS}


def test_a_program_outside_the_threshold_form_is_sampled_not_exhaustive():
    """A JSET (or any ALU, X or scratch use) makes the surface a sample: the tables, every
    number below 4096 and its x32 twin, the constants, not all 2**32."""
    program = [stmt(LD | W | ABS, 0), jump(JMP | JSET | K, 0x100000, 0, 1),
               stmt(RET | K, ALLOW.ret), stmt(RET | K, KILL_PROCESS.ret)]
    seen = surface(encode(program))
    assert not seen.exhaustive and seen.allowed == frozenset()
    assert any(run[0] == 0x100000 and run[2] == ALLOW for run in seen.native)  # a constant


def test_an_argument_reading_program_is_not_exhaustive():
    program = [stmt(LD | W | ABS, 16), jump(JMP | JGE | K, 5, 0, 1), stmt(RET | K, ALLOW.ret),
               stmt(RET | K, KILL_PROCESS.ret)]
    seen = surface(program)
    assert seen.reads == {16} and not seen.exhaustive


def test_a_ret_a_program_is_evaluated_not_trusted():
    """``RET A`` after loading nr returns nr itself as the action value."""
    program = [stmt(LD | W | ABS, 0), stmt(RET | A_SRC)]
    seen = surface(program)
    assert not seen.exhaustive
    assert seen.x86_64["read"] == Action("kill_thread")       # nr 0 is SECCOMP_RET_KILL_THREAD


def test_the_i386_entry_is_checked_by_arch_not_by_number():
    """A filter that checks arch against i386 only (a classic mistake) lets x86_64 run."""
    program = [stmt(LD | W | ABS, 4), jump(JMP | JEQ | K, AUDIT_ARCH_I386, 0, 1),
               stmt(RET | K, KILL_PROCESS.ret), stmt(RET | K, ALLOW.ret)]
    seen = surface(decode(encode(program)))
    assert seen.allowed == set(X86_64.by_name)
    assert set(seen.i386.values()) == {KILL_PROCESS}
    assert seen.foreign == {KILL_PROCESS, ALLOW}
