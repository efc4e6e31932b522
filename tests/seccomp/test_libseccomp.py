"""libseccomp (Debian's python3-seccomp) as a second generator: for the same allow list and
default, the program it exports and ours have the same surface, evaluated by our interpreter
over every input (both programs are of the exhaustive form). Byte equality is not expected."""

from __future__ import annotations

import tempfile

import pytest

from selkit.facts.numbers import X32_SYSCALL_BIT, numbers
from selkit.facts.seccomp_actions import Action
from selkit.seccomp.bpf import generate
from selkit.seccomp.surface import surface

seccomp = pytest.importorskip("seccomp", reason="python3-seccomp is not installed")

X86_64 = numbers("x86_64")
LISTS = {
    "nothing": [],
    "a daemon": ["read", "write", "close", "openat", "fstat", "mmap", "munmap", "brk",
                 "exit_group", "rt_sigreturn", "epoll_wait", "sendto", "recvfrom", "futex"],
    "every third": sorted(X86_64.by_name)[::3],
    "everything": sorted(X86_64.by_name),
}
NR_MINUS_ONE = 2**32 - 1


def libseccomp_bpf(allowed, default: Action) -> bytes:
    actions = {"kill_process": seccomp.KILL_PROCESS, "kill_thread": seccomp.KILL,
               "trap": seccomp.TRAP, "log": seccomp.LOG}
    flt = seccomp.SyscallFilter(defaction=seccomp.ERRNO(default.data)
                                if default.kind == "errno" else actions[default.kind])
    flt.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)
    for name in allowed:
        flt.add_rule(seccomp.ALLOW, name)
    with tempfile.TemporaryFile() as out:
        flt.export_bpf(out)
        out.seek(0)
        return out.read()


@pytest.mark.parametrize("default", ["kill_process", "kill_thread", "errno 1", "trap", "log"])
@pytest.mark.parametrize("name", sorted(LISTS))
def test_libseccomp_and_ours_do_the_same(name, default):
    action = Action.parse(default)
    ours = surface(generate(LISTS[name], action).bytes)
    theirs = surface(libseccomp_bpf(LISTS[name], action))
    assert ours.exhaustive and theirs.exhaustive
    assert (ours.x86_64, ours.x32, ours.i386, ours.archs) == \
        (theirs.x86_64, theirs.x32, theirs.i386, theirs.archs)
    assert ours.allowed == set(LISTS[name]) and ours.default == action
    if action.kind == "kill_process":                 # see the next test for the others
        assert ours.native == theirs.native


@pytest.mark.parametrize("default", ["kill_process", "errno 1", "log"])
def test_the_one_difference_is_nr_minus_one(default):
    """libseccomp sends nr -1 (no system call: what a tracer writes to skip one) to the
    default action; ours kills it with the rest of the x32 range. Everywhere else on the
    2**32 numbers the two agree."""
    action = Action.parse(default)
    ours = dict(_points(surface(generate(LISTS["a daemon"], action).bytes).native))
    theirs = dict(_points(surface(libseccomp_bpf(LISTS["a daemon"], action)).native))
    differ = {nr for nr in ours.keys() | theirs.keys() if _at(ours, nr) != _at(theirs, nr)}
    assert differ == (set() if action.kind == "kill_process" else {NR_MINUS_ONE})
    assert _at(ours, NR_MINUS_ONE).kind == "kill_process"
    assert _at(theirs, X32_SYSCALL_BIT).kind == "kill_process"


def _points(runs):
    return [(first, act) for first, _last, act in runs]


def _at(starts, nr):
    return starts[max(p for p in starts if p <= nr)]
