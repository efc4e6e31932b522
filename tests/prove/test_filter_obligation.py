"""The steady filter's obligation (selkit.prove.filter) reads the program, not the generator:
mutants of the program's BYTES (one more call allowed, the architecture or x32 check gone, the
default flipped, a program the kernel refuses, one that reads arguments) are each refuted or
left undecided, never HOLDS; the unmutated program holds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selkit.facts.numbers import numbers
from selkit.facts.seccomp_actions import RET_ALLOW, RET_LOG, Action
from selkit.facts.syscalls import load_table
from selkit.prove.filter import check_filter, may_succeed
from selkit.prove.obligations import Verdict
from selkit.seccomp.bpf import decode, encode, generate, stmt

DECLARED = ("read", "write", "close", "epoll_wait", "recvfrom", "sendto", "futex",
            "clock_gettime", "rt_sigreturn", "exit_group", "brk", "mmap", "munmap")
KILL = Action("kill_process")
#: Grants of a tiny steady phase: a udp socket and a tun device.
GRANTED = frozenset({("udp_socket", "read"), ("udp_socket", "write"), ("chr_file", "read"),
                     ("chr_file", "write"), ("fd", "use")})


def _program(names=DECLARED, default="kill_process") -> bytes:
    return generate(names, default).bytes


def _ret_of(action: str) -> int:
    return Action.parse(action).ret


def test_the_generated_program_holds_and_lists_the_three_kinds():
    proof = check_filter(_program(), DECLARED, KILL, GRANTED)
    assert proof.verdict is Verdict.HOLDS, proof.problems
    assert set(proof.possible) | set(proof.impossible) == set(DECLARED)
    table = numbers("x86_64").by_name
    assert len(proof.blocked) + len(DECLARED) == len(table)
    assert "ptrace" in proof.blocked and "vmsplice" in proof.blocked


def test_a_call_added_to_the_program_is_refuted():
    mutant = _program(DECLARED + ("ptrace",))
    proof = check_filter(mutant, DECLARED, KILL, GRANTED)
    assert proof.verdict is Verdict.REFUTED
    assert "allows ptrace, which the spec does not declare" in proof.problems


def test_a_declared_call_the_program_blocks_is_refuted():
    proof = check_filter(_program(DECLARED[1:]), DECLARED, KILL, GRANTED)
    assert proof.verdict is Verdict.REFUTED
    assert "blocks read, which the spec declares" in proof.problems


def test_the_architecture_check_removed_is_refuted():
    insns = decode(_program())
    assert insns[0].k == 4 and insns[2].k == _ret_of("kill_process")  # load arch, kill
    mutant = encode(insns[3:])  # the rest is relative jumps: still a valid program
    proof = check_filter(mutant, DECLARED, KILL, GRANTED)
    assert proof.verdict is Verdict.REFUTED
    assert any("foreign ABI" in p for p in proof.problems)


def test_the_x32_check_removed_is_refuted_where_it_changes_what_the_kernel_does():
    """Without the x32 check, x32 numbers fall to the default: with errno they would pass
    into the kernel's x32 table (refuted); with kill_process the program still kills them,
    so the mutant means the same and the evaluator, reading meaning, holds it."""
    errno = Action.parse("errno 1")
    insns = decode(_program(default="errno 1"))
    assert insns[3].k == 0 and insns[5].k == _ret_of("kill_process")  # load nr; jge; kill
    mutant = encode(insns[:4] + insns[6:])
    proof = check_filter(mutant, DECLARED, errno, GRANTED)
    assert proof.verdict is Verdict.REFUTED
    assert any("foreign ABI" in p for p in proof.problems)
    same = encode(decode(_program())[:4] + decode(_program())[6:])
    assert check_filter(same, DECLARED, KILL, GRANTED).verdict is Verdict.HOLDS


@pytest.mark.parametrize("flipped", [RET_ALLOW, RET_LOG])
def test_the_default_flipped_is_refuted(flipped):
    insns = decode(_program())
    kill = _ret_of("kill_process")
    # every RET of the default after the prologue (the foreign-ABI kills are the first two)
    rets = [i for i, insn in enumerate(insns) if insn.code == 0x06 and insn.k == kill][2:]
    assert rets
    mutant = list(insns)
    for i in rets:
        mutant[i] = stmt(0x06, flipped)
    proof = check_filter(encode(mutant), DECLARED, KILL, GRANTED)
    assert proof.verdict is Verdict.REFUTED
    assert any("the blocked calls get" in p or "allows" in p for p in proof.problems)


def test_a_default_other_than_declared_is_refuted():
    proof = check_filter(_program(default="errno 1"), DECLARED, KILL, GRANTED)
    assert proof.verdict is Verdict.REFUTED
    assert any("the spec says kill_process" in p for p in proof.problems)


def test_a_program_the_kernel_refuses_is_refuted():
    truncated = _program()[:-8]  # no final RET
    proof = check_filter(truncated, DECLARED, KILL, GRANTED)
    assert proof.verdict is Verdict.REFUTED
    assert "kernel would refuse" in proof.problems[0]


def test_a_program_that_reads_arguments_is_never_held():
    insns = decode(_program())
    # load args[0] (offset 16) before the allow/deny tree: the surface can only sample
    mutant = encode(insns[:3] + (stmt(0x20, 16), stmt(0x20, 0)) + insns[4:])
    proof = check_filter(mutant, DECLARED, KILL, GRANTED)
    assert proof.verdict is not Verdict.HOLDS


def test_impossible_means_fully_mediated_and_ungranted():
    table = load_table()
    assert not may_succeed("ptrace", frozenset(), table)              # process ptrace only
    assert may_succeed("ptrace", frozenset({("process", "ptrace")}), table)
    assert may_succeed("futex", frozenset(), table)                    # unmediated
    assert may_succeed("read", frozenset(), table)                     # partly mediated
    proof = check_filter(_program(DECLARED + ("ptrace",)), DECLARED + ("ptrace",), KILL,
                         GRANTED)
    assert proof.verdict is Verdict.HOLDS and "ptrace" in proof.impossible
    assert proof.dead == ("ptrace",)


@settings(max_examples=25, deadline=None)
@given(st.sets(st.sampled_from(sorted(numbers("x86_64").by_name)), min_size=1, max_size=80))
def test_any_declared_set_holds_and_is_exactly_what_is_allowed(names):
    proof = check_filter(_program(tuple(names)), names, KILL, GRANTED)
    assert proof.verdict is Verdict.HOLDS, proof.problems
    assert set(proof.possible) | set(proof.impossible) == names
