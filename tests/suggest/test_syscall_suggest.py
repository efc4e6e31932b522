"""From seccomp records back to the spec (selkit.suggest.syscalls), on the shipped specs.

Each suggested ``syscalls allow`` is checked independently of the suggester: added after the
suggested line of a copy of the spec, shipped_specs with selkit.compiler.front_end, and the phase's
list must then hold the call (which the shipped spec's must not).
"""

from __future__ import annotations

import json

import pytest

from conftest import ROOT
from selkit.compiler import front_end
from selkit.facts.numbers import AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT, numbers
from selkit.report.suggest import render_syscall_suggestions, syscall_suggestion_to_dict
from selkit.suggest import Kind
from selkit.suggest.syscalls import SeccompRecord, suggest_syscalls
from tests.suggest.test_lab_suggest import insert_after_lines, last_statement_line

NR = numbers("x86_64").number


def logged(domain: str, name: str, pid: int = 400) -> SeccompRecord:
    return SeccompRecord(domain, AUDIT_ARCH_X86_64, NR(name), pid)


def run(kb, shipped_specs, *calls: SeccompRecord):
    programs, modules = shipped_specs
    return suggest_syscalls(calls, modules, kb, programs)


def steady_names(kb, path: str, text: str | None = None) -> frozenset[str]:
    _, modules = front_end(path, kb, text=text)
    return modules[0].syscalls_of("steady").names


def test_a_call_no_statement_gives_is_an_allow_at_the_end_of_its_phase(kb, shipped_specs):
    (s,) = run(kb, shipped_specs, logged("openvpn_steady_t", "uname"))
    assert (s.kind, s.module, s.phase, s.syscall) == (Kind.ALLOW, "openvpn", "steady", "uname")
    assert s.statement == "syscalls allow uname"
    path = str(ROOT / "policies" / "openvpn.sel")
    text = (ROOT / "policies" / "openvpn.sel").read_text()
    assert s.path == path and s.line == last_statement_line(text, "steady")
    assert "uname" not in steady_names(kb, path)
    edited = insert_after_lines(text, [(s.line, s.statement)])
    assert "uname" in steady_names(kb, path, edited)
    assert s.notes == ("uname reaches no SELinux check: the filter is all that stops it",)


def test_the_notes_say_what_selinux_still_checks(kb, shipped_specs):
    fchown, sendfile, vmsplice = run(kb, shipped_specs, logged("openvpn_steady_t", "fchown"),
                                     logged("openvpn_steady_t", "sendfile"),
                                     logged("openvpn_steady_t", "vmsplice"))
    assert fchown.kind is sendfile.kind is vmsplice.kind is Kind.ALLOW
    assert "capability chown" in fchown.notes[0]
    assert "the spec grants the phase none of them" in fchown.notes[0]
    assert vmsplice.notes == ("vmsplice reaches no SELinux check: the filter is all that "
                              "stops it",)
    assert sendfile.notes[0].endswith("which the spec grants the phase")
    assert "udp_socket write" in sendfile.notes[0]
    # 'udp io' grants udp_socket write (which gates sendfile) but lists its own calls.
    assert any("'udp io' lists the calls it makes, without sendfile" in n
               for n in sendfile.notes)


def test_a_deny_of_the_phase_is_the_answer_not_an_allow(kb, shipped_specs):
    (s,) = run(kb, shipped_specs, logged("openvpn_steady_t", "execve"))
    assert s.kind is Kind.FORBIDDEN and s.statement is None
    text = (ROOT / "policies" / "openvpn.sel").read_text().split("\n")
    assert "syscalls deny" in text[s.line - 1] and "execve" in text[s.line - 1]


def test_a_call_the_list_has_means_the_filter_was_not_this_specs(kb, shipped_specs):
    (s,) = run(kb, shipped_specs, logged("openvpn_steady_t", "getrandom"))
    assert s.kind is Kind.GRANTED and "rebuild the patch" in s.why
    line = (ROOT / "policies" / "openvpn.sel").read_text().split("\n")[s.line - 1]
    assert "getrandom" in line


def test_startup_gets_its_own_answer(kb, shipped_specs):
    (s,) = run(kb, shipped_specs, logged("iodined_startup_t", "uname"))
    assert (s.kind, s.phase) == (Kind.ALLOW, "startup")


@pytest.mark.parametrize("arch, nr, words", [
    (AUDIT_ARCH_I386, 11, "an i386 call (execve, 11)"),
    (AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | 1, "an x32 call (write, 0x40000001)"),
    (AUDIT_ARCH_X86_64, 4000, "x86_64 has no system call 4000"),
    (0xC00000B7, 63, "architecture 0xc00000b7 is not x86_64"),
])
def test_foreign_calls_have_no_statement(kb, shipped_specs, arch, nr, words):
    (s,) = run(kb, shipped_specs, SeccompRecord("openvpn_steady_t", arch, nr))
    assert s.kind is Kind.NONE and s.syscall is None and words in s.why


def test_a_domain_of_no_spec(kb, shipped_specs):
    (s,) = run(kb, shipped_specs, logged("sshd_t", "uname"))
    assert s.kind is Kind.NONE and "sshd_t is not a phase domain" in s.why


def test_records_of_one_call_are_one_suggestion_in_first_seen_order(kb, shipped_specs):
    found = run(kb, shipped_specs, logged("hts_steady_t", "uname", 1),
                logged("hts_steady_t", "kill", 2), logged("hts_steady_t", "uname", 3))
    assert [(s.syscall, s.count) for s in found] == [("uname", 2), ("kill", 1)]
    assert [c.pid for c in found[0].calls] == [1, 3]


def test_text_and_json(kb, shipped_specs):
    found = run(kb, shipped_specs, logged("openvpn_steady_t", "uname"),
                SeccompRecord("openvpn_steady_t", AUDIT_ARCH_I386, 11, 9, "type=1326 ..."))
    text = render_syscall_suggestions(found)
    first, why, note, foreign = text.splitlines()
    assert first.endswith("in phase steady add: syscalls allow uname   # covers 1 seccomp record:"
                          " uname")
    assert first.startswith(str(ROOT / "policies" / "openvpn.sel") + ":")
    assert why.startswith("    no statement") and note.startswith("    note: ")
    assert foreign.startswith("no suggestion: an i386 call")
    data = json.loads(json.dumps([syscall_suggestion_to_dict(s) for s in found]))
    assert data[0]["kind"] == "allow" and data[0]["syscall"] == "uname"
    assert data[1]["records"] == [{"domain": "openvpn_steady_t", "arch": "0x40000003", "nr": 11,
                                   "pid": 9, "raw": "type=1326 ..."}]
    assert render_syscall_suggestions([]) == ""
