"""The per-phase seccomp lists (selkit.ir.syscall_sets): derivation, reasons, diagnostics."""

from __future__ import annotations

from fakes import small_kb
from selkit.dsl.loader import load
from selkit.facts.runtime import baseline
from selkit.ir import nodes as ir
from selkit.ir import passes
from selkit.ir.lower import lower
from test_passes import TWO_PHASES as GOOD
from test_passes import codes


def compiled(text: str, tmp_path) -> ir.PolicyModule:
    path = tmp_path / "d.sel"
    path.write_text(text)
    (module,) = lower(load(str(path)), small_kb())
    return passes.run(module, small_kb())


def with_steady(extra: str, startup: str = "") -> str:
    text = GOOD.replace("        udp io\n", "        udp io\n" + extra)
    return text.replace("        setid\n", "        setid\n" + startup)


def test_a_listed_verb_gives_its_calls_and_not_those_its_permissions_gate(tmp_path):
    steady = compiled(GOOD, tmp_path).syscalls_of("steady")
    why = {e.name: e.reasons for e in steady.allowed}
    assert {"sendto", "recvfrom", "read", "write"} <= set(why)
    assert "sendfile" not in why and "splice" not in why  # gated by udp_socket write
    assert [r.origin.statement for r in why["recvfrom"] if r.origin] == ["udp io"]


def test_startup_holds_what_its_permissions_gate_the_baseline_and_the_switch(tmp_path):
    module = compiled(GOOD, tmp_path)
    startup = {e.name: e for e in module.syscalls_of("startup").allowed}
    assert {"socket", "bind", "ioctl", "chroot", "setuid", "execve"} <= set(startup)
    assert any(r.detail == "udp_socket bind" for r in startup["bind"].reasons)
    seccomp = startup["seccomp"].reasons[0]
    assert seccomp.source is ir.SyscallSource.BASELINE and seccomp.origin is not None
    assert seccomp.origin.statement.startswith("switch startup -> steady")
    steady = module.syscalls_of("steady").names
    assert "execve" not in steady and "seccomp" not in steady and "chroot" not in steady
    assert set(baseline()["memory"].syscalls) <= steady


def test_every_allowed_call_has_a_statement_or_a_baseline_group(tmp_path):
    module = compiled(with_steady("        syscalls allow getrandom\n",
                                  "        syscalls allow getrandom\n"), tmp_path)
    for phase in module.syscalls:
        for entry in phase.allowed:
            assert entry.reasons
            assert all(r.origin is not None or r.source is ir.SyscallSource.BASELINE
                       for r in entry.reasons), entry


def test_allow_deny_families_and_default(tmp_path):
    module = compiled(with_steady("        syscalls deny @wait write\n"
                                  "        syscalls allow getrandom\n"
                                  "        syscalls default errno 1\n",
                                  "        syscalls allow getrandom\n"), tmp_path)
    steady = module.syscalls_of("steady")
    assert "getrandom" in steady.names and "write" not in steady.names
    assert not set(baseline()["wait"].syscalls) & steady.names
    denied = {e.name: e for e in steady.denied}
    assert denied["write"].reasons[-1].source is ir.SyscallSource.DENY
    assert any(r.source is ir.SyscallSource.VERB for r in denied["write"].reasons)
    assert steady.default == "errno 1" and steady.default_origin is not None
    assert module.syscalls_of("startup").default == "kill_process"
    assert module.notes == ()


def test_a_deny_of_a_call_not_allowed_is_a_warning(tmp_path):
    module = compiled(with_steady("        syscalls deny vmsplice\n"), tmp_path)
    assert [(d.code, d.severity.value, d.span.line) for d in module.notes] == \
        [("SEL331", "warning", 13)]


def test_steady_beyond_startup_is_a_note_about_stacking(tmp_path):
    module = compiled(with_steady("        syscalls allow getrandom\n"), tmp_path)
    (note,) = module.notes
    assert note.code == "SEL332" and note.severity.value == "note"
    assert "getrandom" in note.message and "stack" in (note.hint or "")


def test_diagnostics(tmp_path):
    assert codes(with_steady("        syscalls allow recvfromm\n"), tmp_path) == ["SEL240"]
    assert codes(with_steady("        syscalls deny @memmory\n"), tmp_path) == ["SEL241"]
    assert codes(with_steady("        syscalls default errno\n"), tmp_path) == ["SEL242"]
    assert codes(with_steady("        syscalls default allow\n"), tmp_path) == ["SEL242"]
    assert codes(with_steady("        syscalls permit read\n"), tmp_path) == ["SEL243"]
    assert codes(with_steady("        syscalls deny\n"), tmp_path) == ["SEL243"]
    assert codes(with_steady("        syscalls default log\n        syscalls default kill\n"),
                 tmp_path) == ["SEL328"]
    assert codes(with_steady("", "        syscalls deny prctl\n"), tmp_path) == ["SEL329"]
