"""The attack battery under the steady seccomp filter: what each attempt must meet, and whether
it did.

Under ``probe ... battery --seccomp PROGRAM`` each attempt loads the steady filter (the bytes
the daemon's patch loads) before it runs. Which of its calls the filter kills is read from the
program itself, evaluated on each call the attack makes (:func:`selkit.seccomp.evaluate.
action`), never assumed. The attempt must die of SIGSYS with a seccomp record (pid,
architecture and number) of one of those calls, or be denied by SELinux, with an AVC from the
steady domain, at a call the filter lets through.
"""

from __future__ import annotations

from selkit.facts.numbers import call_of
from selkit.lab.battery import DENIED, KILLED, Attack, AttackResult, Verdict
from selkit.seccomp.bpf import decode
from selkit.seccomp.evaluate import action


def killing(attack: Attack, program: bytes) -> tuple[str, ...]:
    """The calls of ``attack`` that ``program`` (sock_filter bytes) kills, in its order."""
    insns = decode(program)

    def kills(name: str) -> bool:
        arch, nr = call_of(name)
        return action(insns, nr, arch).kills

    return tuple(dict.fromkeys(name for name in attack.syscalls if kills(name)))


def filter_verdict(results: list[AttackResult], steady_type: str, program: bytes) -> Verdict:
    """Passed when every attempt was stopped as the filter says it must be: killed at one of
    the calls the program kills (with the seccomp record), or denied by SELinux, with an AVC
    from ``steady_type``, at a call the program lets through (an earlier call than the one it
    would kill: SELinux refused the ``openat`` before the filter met the ``execve``)."""
    problems = []
    for result in results:
        kills = killing(result.attack, program)
        name = result.attack.name
        if result.outcome == KILLED:
            if not kills:
                problems.append(f"{name} under the filter: killed, but the filter kills none of "
                                f"its calls ({', '.join(result.attack.syscalls)})")
            elif not _recorded(result, kills):
                problems.append(f"{name} under the filter: killed, but no seccomp record of pid "
                                f"{result.pid} for {', '.join(kills)}")
        elif result.outcome == DENIED:
            if result.syscall in kills:
                problems.append(f"{name} under the filter: denied at {result.syscall}, which the "
                                "filter kills: the filter did not act")
            elif not result.denials_by(steady_type):
                problems.append(f"{name} under the filter: denied ({result.errno}) but no AVC "
                                f"from {steady_type} for pid {result.pid}")
        else:
            problems.append(f"{name} under the filter: {result.outcome}, not stopped "
                            f"({result.detail})")
    return Verdict(not problems, tuple(problems))


def _recorded(result: AttackResult, kills: tuple[str, ...]) -> bool:
    calls = {call_of(name) for name in kills}
    return any((r.arch, r.nr) in calls and r.action is not None and r.action.kills
               for r in result.seccomp)
