"""selkit.scaffold.binary: a program's imports and strings turned into suggested statements,
on hand-made symbol sets; every suggestion is a statement of the current language."""

from __future__ import annotations

import re

import pytest

from selkit.dsl.parser import parse
from selkit.facts.runtime import baseline
from selkit.ir.vocab import FORMS
from selkit.scaffold.binary import (
    HINTS,
    STARTUP,
    STEADY,
    SWITCH,
    Binary,
    missing,
    named_paths,
    suggestions,
    wait_suggestion,
)


def _comments(symbols=(), strings=(), phase=None):
    found = suggestions(Binary("elf", frozenset(symbols), frozenset(strings)))
    return [s.comment() for s in found if phase is None or s.phase == phase]


def test_chroot_and_setuid_suggest_the_privilege_drop_the_scaffold_includes():
    assert _comments({"chroot", "setuid", "setgroups", "malloc"}) == [
        "seen in the binary: chroot -> chroot jail, in drop_privileges",
        "seen in the binary: setgroups, setuid -> setid, in drop_privileges",
    ]


def test_the_tun_device_in_the_strings_suggests_tun_then_tun_io():
    found = suggestions(Binary("elf", frozenset({"open"}), frozenset({"/dev/net/tun"})))
    assert [(s.phase, s.statement) for s in found] == [(STARTUP, "tun"), (STEADY, "tun io")]


def test_a_udp_server_gets_its_socket_in_startup_and_its_traffic_in_steady():
    found = suggestions(Binary("elf", frozenset({"socket", "bind", "recvfrom", "sendto",
                                                 "openlog", "syslog"})))
    assert [(s.phase, s.seen, s.statement, s.in_fragment) for s in found] == [
        (STARTUP, ("openlog", "syslog"), "syslog", "daemon_start"),
        (STARTUP, ("bind",), "udp bind port <port> | tcp listen port <port>", None),
        (STEADY, ("openlog", "syslog"), "syslog io", None),
        (STEADY, ("recvfrom", "sendto"), "udp io | icmp raw io | tcp io", None),
    ]


def test_setcon_says_the_daemon_can_switch_already():
    assert _comments({"setcon"}, phase=SWITCH) == [
        'seen in the binary: setcon -> option "...{context}" (it can switch already: write '
        "the option that asks for it)"]


def test_a_select_loop_gets_the_deny_the_shipped_specs_write():
    # policies/iodined.sel and ptunnel.sel: "syscalls deny poll epoll_wait epoll_ctl"
    (wait,) = [s for s in suggestions(Binary("elf", frozenset({"select"})))]
    assert (wait.phase, wait.statement) == (STEADY, "syscalls deny poll epoll_wait epoll_ctl")


@pytest.mark.parametrize("symbols,expected", [
    ({"poll", "epoll_wait", "epoll_ctl"}, "syscalls deny pselect6"),
    ({"__poll_chk"}, "syscalls deny pselect6 epoll_wait epoll_ctl"),
    ({"select", "poll", "epoll_pwait", "epoll_ctl"}, None),
    ({"read"}, None),
])
def test_the_wait_suggestion_denies_the_baseline_waits_the_program_never_makes(symbols,
                                                                                expected):
    found = wait_suggestion(frozenset(symbols))
    assert (found.statement if found else None) == expected


def test_nothing_is_suggested_without_imports_or_strings():
    assert suggestions(Binary("static")) == []
    assert suggestions(Binary("script", interpreter="/bin/sh")) == []


def test_missing_is_said_only_of_a_program_whose_imports_were_read():
    assert missing(Binary("elf", frozenset({"malloc"})), ["chroot"])
    assert not missing(Binary("elf", frozenset({"chroot"})), ["chroot"])
    assert not missing(Binary("elf", note="nm is not installed"), ["chroot"])
    assert not missing(Binary("static"), ["chroot"])
    assert not missing(Binary("script"), ["chroot"])


def test_named_paths_cut_format_strings_and_keep_plain_paths_under_the_roots():
    words = ["/etc/iproute2/rt_protos.d/%s", "/var/lib/arpd/arpd.db", "/dev/net/tun",
             "/proc/sys/net/ipv4/neigh/%s/app_solicit", "/var", "/run/", "usage:",
             "/u\"I", "/lib64/ld-linux-x86-64.so.2", "/etc/a b", "/run/x/", "%s/run/y"]
    assert named_paths(words) == {"/etc/iproute2/rt_protos.d", "/var/lib/arpd/arpd.db",
                                  "/dev/net/tun", "/run/x"}


def _alternatives():
    for hint in HINTS:
        yield from hint.statement.split(" | ")


def _matches_a_form(statement: str) -> bool:
    words = statement.split()
    for form in FORMS:
        if len(form.pattern) == len(words) and all(
                p == w or (p.startswith("<") and (w.startswith("<") or re.match(r"\w+$", w)))
                for p, w in zip(form.pattern, words, strict=True)):
            return True
    return False


@pytest.mark.parametrize("statement", sorted(set(_alternatives())))
def test_every_suggestion_is_a_statement_of_the_current_language(statement):
    if statement.startswith(("allow ", "syscalls ")):
        parse(f"daemon d {{\n    phase startup {{\n        {statement}\n    }}\n}}\n")
    elif statement.startswith("option "):
        parse(f"daemon d {{\n    switch startup -> steady {{\n        {statement}\n    }}\n}}\n")
    else:
        assert _matches_a_form(statement), statement


def test_the_form_matcher_refuses_what_the_language_lacks():
    assert _matches_a_form("chroot jail")
    assert _matches_a_form("udp bind port <port>")
    assert not _matches_a_form("udp listen port <port>")
    assert not _matches_a_form("tun open")


def test_the_wait_calls_are_members_of_the_wait_baseline_group():
    from selkit.scaffold.binary import WAIT_CALLS

    assert set(WAIT_CALLS.values()) <= set(baseline()["wait"].syscalls)
