"""The real kernel loads and applies the filters: this machine's seccomp is the reference.

tests/seccomp/harness.c (compiled with gcc here) loads a program with
``prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER)`` after ``PR_SET_NO_NEW_PRIVS`` and makes one
system call; the kernel's verdict is compared with the evaluator's. Needs gcc and a kernel
with seccomp filters (both skip otherwise)."""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from selkit.facts.numbers import X32_SYSCALL_BIT, numbers
from selkit.facts.seccomp_actions import Action
from selkit.seccomp.bpf import (
    A_SRC,
    ABS,
    ADD,
    ALU,
    AND,
    DIV,
    IMM,
    JEQ,
    JMP,
    LD,
    LDX,
    LSH,
    MUL,
    NEG,
    OR,
    RET,
    RSH,
    SUB,
    XOR,
    K,
    W,
    X,
    encode,
    generate,
    jump,
    stmt,
)
from selkit.seccomp.evaluate import FilterError, action, check, run, seccomp_data
from test_evaluate import ACCEPTED, REFUSED

HERE = Path(__file__).parent
X86_64, I386 = numbers("x86_64"), numbers("i386")
NEEDED = ["write", "exit_group"]             # what the harness itself calls after loading
EINVAL = 22


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    """``harness(program or None, nr, arg0=0, mode="syscall") -> (returncode, stdout)``."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    folder = tmp_path_factory.mktemp("seccomp-harness")
    binary = folder / "harness"
    subprocess.run(["gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(binary),
                    str(HERE / "harness.c")], check=True, capture_output=True, text=True)
    counter = iter(range(10**6))

    def run(program, nr, arg0=0, mode="syscall"):
        path = ""
        if program is not None:
            path = folder / f"filter{next(counter)}.bpf"
            path.write_bytes(encode(program))
        out = subprocess.run([str(binary), str(path), mode, str(nr), str(arg0)],
                             capture_output=True, text=True, timeout=30)
        return out.returncode, out.stdout
    code, out = run([stmt(RET | K, 0x7FFF0000)], X86_64.number("getpid"))
    if code != 0:            # the filter that allows everything: refused only without seccomp
        pytest.skip(f"this kernel loads no seccomp filter (exit {code}, {out!r})")
    return run


def expected(act: Action) -> tuple[int, str | None]:
    """The harness's exit code and output (None: not checked) for an action on getpid."""
    if act.kind in ("kill_process", "kill_thread", "trap"):
        return -signal.SIGSYS, ""
    if act.kind == "errno":
        return 0, f"ret -1 errno {act.data}\n" if act.data else "ret 0 errno 0\n"
    return 0, None                                     # allow, log: the real pid


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_the_kernel_refuses_what_the_checks_refuse(harness, name):
    with pytest.raises(FilterError):
        check(REFUSED[name])
    code, out = harness(REFUSED[name], X86_64.number("getpid"))
    assert (code, out) == (4, f"refused {EINVAL}\n")


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_the_kernel_loads_what_the_checks_accept(harness, name):
    program = ACCEPTED[name]
    check(program)
    code, out = harness(program, X86_64.number("getpid"))
    assert code != 4, out


@pytest.mark.parametrize("default", ["kill_process", "kill_thread", "errno 13", "trap", "log"])
def test_a_generated_filter_allows_its_calls_and_applies_its_default(harness, default):
    flt = generate([*NEEDED, "getppid"], default)
    getpid, getppid = X86_64.number("getpid"), X86_64.number("getppid")
    code, out = harness(flt.program, getppid)
    assert code == 0 and out.startswith("ret ") and not out.startswith("ret -1")
    assert action(flt.program, getpid, X86_64.audit_arch) == Action.parse(default)
    want_code, want_out = expected(Action.parse(default))
    code, out = harness(flt.program, getpid)
    assert code == want_code
    if want_out is not None:
        assert out == want_out
    else:
        assert out.startswith("ret ") and not out.startswith("ret -1")


@pytest.mark.parametrize("default", ["errno 1", "log"])
def test_other_abis_are_killed_even_under_a_rollout_default(harness, default):
    """i386 getpid (20) is x86_64 writev: allowed here, it runs through the x86_64 entry and
    is killed through int 0x80; so is the x32 number of getpid."""
    twin = X86_64.name(I386.number("getpid"))
    flt = generate([*NEEDED, "getpid", twin], default)
    x32_getpid = X32_SYSCALL_BIT + X86_64.number("getpid")
    assert harness(None, x32_getpid)[0] == 0                       # unfiltered: ENOSYS or pid
    assert harness(flt.program, x32_getpid) == (-signal.SIGSYS, "")
    assert harness(flt.program, I386.number("getpid"), 1) == (0, "ret 0 errno 0\n")  # writev(1)
    code, out = harness(None, I386.number("getpid"), mode="int80")
    if code != 0 or not out.startswith("ret ") or out.startswith("ret -"):
        pytest.skip(f"no i386 entry on this kernel ({code} {out!r})")
    assert harness(flt.program, I386.number("getpid"), mode="int80") == (-signal.SIGSYS, "")


def _for_getpid(*body):
    """``body`` for every call but the harness's own write and exit_group (allowed)."""
    write, exit_group = X86_64.number("write"), X86_64.number("exit_group")
    return [stmt(LD | W | ABS, 0), jump(JMP | JEQ | K, write, 1, 0),
            jump(JMP | JEQ | K, exit_group, 0, 1), stmt(RET | K, 0x7FFF0000), *body]


def _alu_program(op, src, operand, arg0, result):
    """For getpid compute ``args[0] op operand`` and return errno 1 if it equals ``result``
    (the evaluator's value), errno 2 if not."""
    return _for_getpid(
        stmt(LDX | IMM, operand), stmt(LD | W | ABS, 16),
        stmt(ALU | op | src, operand if src == K else 0),
        jump(JMP | JEQ | K, result, 0, 1), stmt(RET | K, 0x50001), stmt(RET | K, 0x50002))


ALU_CASES = [(op, src, operand, arg0)
             for op in (ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, XOR)
             for src in (K, X)
             for operand in (1, 7, 31, 0x80000001)
             for arg0 in (0, 0xDEADBEEF)
             if not (src == K and op in (LSH, RSH) and operand >= 32)]


@pytest.mark.parametrize("op,src,operand,arg0", ALU_CASES)
def test_the_kernel_computes_as_the_evaluator(harness, op, src, operand, arg0):
    compute = [stmt(LDX | IMM, operand), stmt(LD | W | ABS, 16),
               stmt(ALU | op | src, operand if src == K else 0), stmt(RET | A_SRC)]
    result = run(compute, seccomp_data(39, 0, 0, [arg0]))
    program = _alu_program(op, src, operand, arg0, result)
    assert harness(program, X86_64.number("getpid"), arg0) == (0, "ret -1 errno 1\n")


def test_register_shifts_and_division_by_zero_as_the_evaluator(harness):
    getpid = X86_64.number("getpid")
    for x, op in ((33, LSH), (32, RSH), (0xFFFFFFFF, LSH)):
        compute = [stmt(LDX | IMM, x), stmt(LD | W | ABS, 16), stmt(ALU | op | X),
                   stmt(RET | A_SRC)]
        result = run(compute, seccomp_data(getpid, 0, 0, [0x12345]))
        program = _alu_program(op, X, x, 0x12345, result)
        assert harness(program, getpid, 0x12345) == (0, "ret -1 errno 1\n"), (x, op)
    divide = [stmt(LDX | IMM, 0), stmt(LD | IMM, 5), stmt(ALU | DIV | X), stmt(RET | K, 0x50001)]
    assert action(divide, getpid, 0) == Action("kill_thread")
    assert harness(divide, getpid)[0] == -signal.SIGSYS
    negate = _for_getpid(stmt(ALU | NEG), stmt(ALU | AND | K, 0xFFF),
                         stmt(ALU | OR | K, 0x50000), stmt(RET | A_SRC))
    assert action(negate, getpid, 0) == Action("errno", (-getpid) & 0xFFF)
    assert harness(negate, getpid) == (0, f"ret -1 errno {(-getpid) & 0xFFF}\n")


def test_an_unknown_action_kills_the_process(harness):
    program = [stmt(RET | K, 0x12340000)]
    assert action(program, 39, 0) == Action("kill_process")
    assert harness(program, 39)[0] == -signal.SIGSYS
    with pytest.raises(FilterError):
        check([stmt(RET | K, 0x7FFF0000), stmt(ALU | MUL | K, 2)])


def test_a_long_filter_with_ja_runs_in_the_kernel(harness):
    """Every even number below 335 allowed (plus the harness's write and exit_group): the
    tree jumps over its long left subtrees with JA; the kernel decides as the evaluator."""
    allowed = {X86_64.by_number[n] for n in range(0, 335, 2)} | set(NEEDED)
    flt = generate(allowed, "errno 7")
    assert any(i.code == JMP for i in flt.program)                  # BPF_JMP | BPF_JA
    for name in ("getpid", "getppid", "getuid", "getgid", "gettid", "geteuid"):
        nr = X86_64.number(name)
        want = Action("allow") if name in allowed else Action("errno", 7)
        assert action(flt.program, nr, X86_64.audit_arch) == want
        code, out = harness(flt.program, nr)
        assert code == 0 and (out == "ret -1 errno 7\n") == (want.kind == "errno"), name
