"""The battery under a steady seccomp filter (selkit.lab.filter_verdict), for real on this host:
its kernel has no SELinux but enforces seccomp, so each attempt that loads a shipped daemon's
steady filter must die of SIGSYS exactly where the program (evaluated by selkit, not assumed)
kills, and live elsewhere; without the filter none dies. Then the verdict's own logic, on
scored lines and records, with mutants it must refuse."""

from __future__ import annotations

import json
import subprocess

import pytest

from selkit.compiler import front_end
from selkit.emit.seccomp import steady_filter
from selkit.facts.numbers import AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, call_name, call_of, numbers
from selkit.lab import battery
from selkit.lab.avc import parse_avcs, parse_seccomp
from selkit.lab.battery import ATTACKS_BY_NAME, KILLED, Targets, probe_argv, score
from selkit.lab.filter_verdict import filter_verdict, killing
from selkit.seccomp.bpf import generate

SYSCALL_NAMES = tuple(a.name for a in battery.SYSCALL_ATTACKS)


@pytest.fixture(scope="module")
def steady_programs(kb):
    out = {}
    for daemon in ("ptunnel", "openvpn", "iodined"):
        _, modules = front_end(f"policies/{daemon}.sel", kb)
        out[daemon] = steady_filter(modules[0]).bytes
    return out


def _run(probe, victim_pid: int, seccomp: bytes | None) -> dict[str, dict]:
    only = (*SYSCALL_NAMES, "ptrace", "setuid", "signal")
    argv = probe_argv(probe, Targets(victim=victim_pid, only=only, timeout=10), seccomp=seccomp)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return {line["attack"]: line for line in map(json.loads, proc.stdout.splitlines())
            if "attack" in line}


@pytest.fixture(scope="module")
def victim(lab_probe):
    process = subprocess.Popen([lab_probe, "victim"], stdout=subprocess.PIPE, text=True)
    try:
        yield json.loads(process.stdout.readline())["pid"]
    finally:
        process.kill()
        process.wait()


@pytest.mark.parametrize("daemon", ["ptunnel", "openvpn", "iodined"])
def test_each_attempt_dies_exactly_where_the_filter_kills(lab_probe, victim, steady_programs,
                                                         daemon):
    program = steady_programs[daemon]
    lines = _run(lab_probe, victim, program)
    for name, line in lines.items():
        # No SELinux here: nothing is denied before the filter meets a call it kills.
        if killing(ATTACKS_BY_NAME[name], program):
            assert line["outcome"] == KILLED, (name, line)
        else:
            assert line["outcome"] != KILLED, (name, line)


def test_without_the_filter_nothing_is_killed_and_the_attacks_are_real(lab_probe, victim):
    lines = _run(lab_probe, victim, None)
    assert not [n for n, line in lines.items() if line["outcome"] == "killed"]
    # Root on this host: these reach the kernel and succeed (x32 and kexec may be off here).
    for name in ("vmsplice", "splice", "userfaultfd", "userns", "vm-write", "memfd-exec",
                 "i386-call"):
        assert lines[name]["outcome"] == "allowed", lines[name]
    assert "exited with 73" in lines["memfd-exec"]["detail"]


def test_the_i386_and_x32_calls_are_the_numbers_the_filter_sees():
    assert call_of("i386:getpid") == (AUDIT_ARCH_I386, 20)
    assert call_of("x32:getpid") == (AUDIT_ARCH_X86_64, 0x40000000 | 39)
    assert call_of("vmsplice") == (AUDIT_ARCH_X86_64, numbers().number("vmsplice"))
    for name in ("i386:getpid", "x32:getpid", "vmsplice"):
        assert call_name(*call_of(name)) == name
    assert call_name(0xC00000B7, 63) == "number 63 (arch 0xc00000b7)"


# ---------------------------------------------------------------------------------------------
# The verdict on scored results

STEADY = "ptunnel_steady_t"
SUBJ = "subj=system_u:system_r:ptunnel_steady_t:s0"


def _line(name: str, pid: int, outcome: str, errno: str | None = None) -> str:
    return json.dumps({"attack": name, "pid": pid, "outcome": outcome, "errno": errno,
                       "syscall": "none", "detail": "x"})


def _kill(pid: int, nr: int, arch: str = "c000003e") -> str:
    return (f"audit: type=1326 audit(1.0:{pid}): auid=0 uid=0 gid=0 ses=1 {SUBJ} pid={pid} "
            f'comm="selkit-probe" exe="/p" sig=31 arch={arch} syscall={nr} compat=0 ip=0x1 '
            "code=0x80000000")


def _avc(pid: int) -> str:
    return (f"audit: type=1400 audit(1.0:{pid + 1000}): avc:  denied  {{ create }} for  "
            f'pid={pid} comm="p" scontext=system_u:system_r:{STEADY}:s0 '
            f"tcontext=system_u:system_r:{STEADY}:s0 tclass=packet_socket permissive=0")


def _judge(program: bytes, lines: list[str], records: list[str], names: tuple[str, ...]):
    attacks = tuple(ATTACKS_BY_NAME[n] for n in names)
    text = "\n".join(records)
    results = score("\n".join(lines), parse_avcs(text), attacks, parse_seccomp(text))
    return results, filter_verdict(results, STEADY, program)


def test_killed_with_its_record_and_denied_with_its_avc_pass(steady_programs):
    program = steady_programs["ptunnel"]
    nr = numbers().number
    results, verdict = _judge(
        program,
        [_line("vmsplice", 1, "killed"), _line("i386-call", 2, "killed"),
         _line("packet-sock", 3, "denied", "EACCES")],
        [_kill(1, nr("vmsplice")), _kill(2, 20, "40000003"), _avc(3)],
        ("vmsplice", "i386-call", "packet-sock"))
    assert verdict.passed, verdict.problems
    assert [r.seccomp[0].call for r in results[:2]] == ["vmsplice", "i386:getpid"]


def test_a_kill_without_its_record_or_at_another_call_fails(steady_programs):
    program = steady_programs["ptunnel"]
    _, no_record = _judge(program, [_line("vmsplice", 1, "killed")], [], ("vmsplice",))
    assert no_record.problems == ("vmsplice under the filter: killed, but no seccomp record of "
                                  "pid 1 for vmsplice",)
    _, elsewhere = _judge(program, [_line("vmsplice", 1, "killed")],
                          [_kill(1, numbers().number("splice"))], ("vmsplice",))
    assert not elsewhere.passed


def test_an_attempt_the_filter_should_kill_that_lived_fails(steady_programs):
    _, verdict = _judge(steady_programs["ptunnel"], [_line("bpf", 1, "error", "EINVAL")], [],
                        ("bpf",))
    assert verdict.problems[0].startswith("bpf under the filter: error, not stopped")


def test_a_filter_that_allows_the_call_expects_selinux_instead():
    """A mutant program that allows vmsplice: the attempt must then be denied with an AVC;
    being killed, or denied without an AVC, fails."""
    wider = generate(["vmsplice", "write", "exit_group"], "kill_process").bytes
    assert killing(ATTACKS_BY_NAME["vmsplice"], wider) == ()
    _, killed = _judge(wider, [_line("vmsplice", 1, "killed")],
                       [_kill(1, numbers().number("vmsplice"))], ("vmsplice",))
    assert killed.problems[0].startswith("vmsplice under the filter: killed, but the filter "
                                         "kills none of its calls")
    _, silent = _judge(wider, [_line("vmsplice", 1, "denied", "EPERM")], [], ("vmsplice",))
    assert "no AVC from ptunnel_steady_t" in silent.problems[0]


def test_selinux_may_stop_an_attempt_before_the_filter_meets_the_call_it_kills(
        steady_programs):
    """openvpn's filter lets openat through (the time zone file) and kills execve: a drop-exec
    denied at openat passes; denied at execve would mean the filter did not act."""
    program = steady_programs["openvpn"]
    assert killing(ATTACKS_BY_NAME["drop-exec"], program) == ("execve",)
    early = _line("drop-exec", 1, "denied", "EACCES").replace('"none"', '"openat"')
    _, verdict = _judge(program, [early], [_avc(1)], ("drop-exec",))
    assert verdict.passed, verdict.problems
    late = _line("drop-exec", 1, "denied", "EACCES").replace('"none"', '"execve"')
    _, verdict = _judge(program, [late], [_avc(1)], ("drop-exec",))
    assert verdict.problems == ("drop-exec under the filter: denied at execve, which the "
                                "filter kills: the filter did not act",)
