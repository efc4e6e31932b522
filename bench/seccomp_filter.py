#!/usr/bin/env python3
"""Benchmark: a phase's seccomp filter for a 60-call allow list (a tunnel daemon's steady
phase): generation, the full evaluated surface (what `selkit prove` will add per phase),
the program's length and the instructions the kernel runs per call, for the binary-search
layout (the default), the linear layout and libseccomp's program (if python3-seccomp is
installed). Prints medians of --runs runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STEADY = [
    "read", "write", "close", "fstat", "lseek", "mmap", "mprotect", "munmap", "brk",
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "ioctl", "pread64", "pwrite64", "readv",
    "writev", "poll", "select", "sched_yield", "madvise", "dup", "dup2", "nanosleep", "getpid",
    "socket", "connect", "sendto", "recvfrom", "sendmsg", "recvmsg", "shutdown", "bind",
    "getsockname", "getpeername", "setsockopt", "getsockopt", "fcntl", "getuid", "getgid",
    "geteuid", "getegid", "gettid", "futex", "epoll_wait", "clock_gettime", "clock_nanosleep",
    "exit_group", "epoll_ctl", "tgkill", "openat", "newfstatat", "pselect6", "ppoll",
    "set_robust_list", "epoll_pwait", "timerfd_settime", "eventfd2", "epoll_create1", "getrandom",
]


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def libseccomp_program() -> bytes | None:
    try:
        import seccomp
    except ImportError:
        return None
    flt = seccomp.SyscallFilter(defaction=seccomp.KILL_PROCESS)
    flt.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)
    for name in STEADY:
        flt.add_rule(seccomp.ALLOW, name)
    with tempfile.TemporaryFile() as out:
        flt.export_bpf(out)
        out.seek(0)
        return out.read()


def steps(program, numbers) -> tuple[float, int]:
    """Mean and most instructions executed over the x86_64 table."""
    from selkit.facts.numbers import AUDIT_ARCH_X86_64
    from selkit.seccomp.evaluate import execute, seccomp_data

    counts = [execute(program, seccomp_data(nr, AUDIT_ARCH_X86_64))[1] for nr in numbers]
    return statistics.mean(counts), max(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()

    from selkit.facts.numbers import numbers
    from selkit.seccomp.bpf import decode, generate
    from selkit.seccomp.surface import surface

    assert len(set(STEADY)) == 60
    start = time.perf_counter()
    surface(generate(STEADY).bytes)
    cold = (time.perf_counter() - start) * 1000
    table = sorted(numbers("x86_64").by_number)
    print(f"allow list: {len(STEADY)} x86_64 system calls; median of {args.runs} runs")
    print(f"the first filter of a process (reading the number tables too): {cold:.2f}ms")
    print(f"{'program':<10} {'insns':>6} {'generate':>10} {'surface':>10} {'both':>10} "
          f"{'mean/max insns run per call':>28}")
    rows = [(layout, lambda layout=layout: generate(STEADY, layout=layout))
            for layout in ("tree", "linear")]
    for name, make in rows:
        program = make().program
        gen = median_ms(make, args.runs)
        evaluate = median_ms(lambda program=program: surface(program), args.runs)
        both = median_ms(lambda make=make: surface(make().bytes), args.runs)
        mean, most = steps(program, table)
        print(f"{name:<10} {len(program):>6} {gen:>8.2f}ms {evaluate:>8.2f}ms {both:>8.2f}ms "
              f"{mean:>20.1f} / {most}")
    theirs = libseccomp_program()
    if theirs is not None:
        program = decode(theirs)
        evaluate = median_ms(lambda: surface(theirs), args.runs)
        mean, most = steps(program, table)
        print(f"{'libseccomp':<10} {len(program):>6} {'':>10} {evaluate:>8.2f}ms {'':>10} "
              f"{mean:>20.1f} / {most}")


if __name__ == "__main__":
    main()
