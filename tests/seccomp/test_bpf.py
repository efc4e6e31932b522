"""The seccomp program generator and the sock_filter encoding (selkit/seccomp/bpf.py)."""

from __future__ import annotations

import pytest

from selkit.facts.numbers import AUDIT_ARCH_X86_64, X32_SYSCALL_BIT, numbers
from selkit.facts.seccomp_actions import Action, default_action
from selkit.seccomp.bpf import (
    BPF_MAXINSNS,
    JA,
    JMP,
    Insn,
    decode,
    encode,
    generate,
)
from selkit.seccomp.evaluate import action, check, execute, seccomp_data

X86_64 = numbers("x86_64")
DAEMON = ["read", "write", "close", "openat", "fstat", "mmap", "munmap", "brk", "exit_group",
          "rt_sigreturn", "epoll_wait", "sendto", "recvfrom", "futex", "clock_gettime"]


def test_an_instruction_is_eight_little_endian_bytes():
    insn = Insn(0x15, 1, 2, 0xC000003E)
    assert encode([insn]) == bytes([0x15, 0x00, 0x01, 0x02, 0x3E, 0x00, 0x00, 0xC0])
    assert decode(encode([insn, insn])) == (insn, insn)
    with pytest.raises(ValueError, match="whole number"):
        decode(b"\x00" * 12)


def test_comments_are_not_part_of_an_instruction():
    assert Insn(6, k=1, comment="a") == Insn(6, k=1, comment="b")
    flt = generate(DAEMON)
    assert decode(flt.bytes) == flt.program
    assert all(insn.comment for insn in flt.program)


def test_the_prologue_checks_the_architecture_then_x32():
    program = generate(DAEMON).program
    assert [(i.code, i.k) for i in program[:6]] == [
        (0x20, 4), (0x15, AUDIT_ARCH_X86_64), (0x06, 0x80000000),
        (0x20, 0), (0x35, X32_SYSCALL_BIT), (0x06, 0x80000000)]


@pytest.mark.parametrize("layout", ["tree", "linear"])
@pytest.mark.parametrize("default", ["kill_process", "kill_thread", "errno 1", "trap", "log"])
def test_every_number_gets_allow_or_the_default(layout, default):
    flt = generate(DAEMON, default, layout=layout)
    check(flt.program)
    allowed = {X86_64.number(n) for n in DAEMON}
    for nr in range(600):
        expected = Action("allow") if nr in allowed else Action.parse(default)
        assert action(flt.program, nr, AUDIT_ARCH_X86_64) == expected, nr
    for nr in (X32_SYSCALL_BIT, X32_SYSCALL_BIT + 1, -1, -2**31, 2**31 - 1):
        assert action(flt.program, nr, AUDIT_ARCH_X86_64).kind == "kill_process"
    assert action(flt.program, 0, 0x40000003).kind == "kill_process"


def test_the_output_is_deterministic_and_sorted_by_number():
    one = generate(DAEMON, "errno 13")
    two = generate(list(reversed(DAEMON)) + ["read"], Action("errno", 13))
    assert one.bytes == two.bytes and one.allowed == two.allowed
    assert list(one.numbers) == sorted(one.numbers)
    assert one.sha256 == two.sha256 and len(one.sha256) == 64


def test_the_tree_runs_fewer_instructions_than_the_linear_layout():
    """The binary search executes a handful of compares per call; the linear layout one or
    two per allowed range before the default."""
    tree, linear = generate(DAEMON).program, generate(DAEMON, layout="linear").program
    tree_steps = [_steps(tree, nr) for nr in range(460)]
    linear_steps = [_steps(linear, nr) for nr in range(460)]
    assert max(tree_steps) <= 4 + 5 + 1        # prologue, ceil(log2(22 segments)), leaf
    denied = [n for n in range(460) if X86_64.name(n) not in DAEMON]
    nrs = sorted(X86_64.number(n) for n in DAEMON)
    runs = 1 + sum(b != a + 1 for a, b in zip(nrs, nrs[1:], strict=False))
    assert min(linear_steps[n] for n in denied) >= 4 + runs + 1    # every range tested
    assert sum(tree_steps) < sum(linear_steps) / 2


def _steps(program, nr):
    return execute(program, seccomp_data(nr, AUDIT_ARCH_X86_64))[1]


def test_long_programs_jump_over_subtrees_with_ja():
    """Every other number allowed: the root's left subtree is longer than a jump offset can
    reach, so it is skipped with JA; the program still checks and decides every number."""
    every_other = [X86_64.by_number[n] for n in range(0, 335, 2)]
    flt = generate(every_other)
    assert any(i.code == JMP | JA for i in flt.program)
    assert all(i.jt <= 255 and i.jf <= 255 for i in flt.program)
    check(flt.program)
    for nr in range(0, 460):
        expected = "allow" if nr < 335 and nr % 2 == 0 else "kill_process"
        assert action(flt.program, nr, AUDIT_ARCH_X86_64).kind == expected, nr


def test_left_subtrees_around_the_jump_limit():
    """Alternating allow lists whose root's left subtree is 247 to 275 instructions long:
    both sides of the 255 offset limit, each number decided correctly."""
    from selkit.seccomp.surface import surface

    lefts = set()
    for count in range(62, 70):
        allowed = {X86_64.by_number[n] for n in range(0, 4 * count, 2)}
        flt = generate(allowed, "errno 1")
        root = flt.program[6]
        lefts.add(root.jt if root.jf == 0 else flt.program[7].k)
        assert surface(flt.bytes).allowed == allowed
    assert min(lefts) < 255 < max(lefts)


def test_all_calls_and_no_calls():
    everything = generate(X86_64.by_name)
    assert len(everything.program) < 20            # three runs of numbers
    nothing = generate([], "errno 1")
    assert [i.k for i in nothing.program[6:]] == [Action("errno", 1).ret]
    assert len(generate(X86_64.by_name, layout="linear").program) < BPF_MAXINSNS


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="not x86_64 system calls: nosuch, socketcall"):
        generate(["read", "socketcall", "nosuch"])    # socketcall is i386 only
    for bad in ("allow", "trace", "user_notif", "errno 0", "errno 4096", "kill", "errno x"):
        with pytest.raises(ValueError):
            default_action(bad)
    with pytest.raises(ValueError, match="layout"):
        generate(DAEMON, layout="hash")


def test_actions_read_a_return_value_as_the_kernel_does():
    assert Action.from_ret(0x80000000) == Action("kill_process")
    assert Action.from_ret(0x00000007) == Action("kill_thread")
    assert Action.from_ret(0x00050000 | 0xFFFF) == Action("errno", 4095)
    assert Action.from_ret(0x7FFF1234) == Action("allow")
    assert Action.from_ret(0x12340000) == Action("kill_process")    # an unknown action
    assert Action.from_ret(0x00030007) == Action("trap", 7)
    assert str(Action("errno", 13)) == "errno 13" and Action.parse("errno 13").ret == 0x5000D
