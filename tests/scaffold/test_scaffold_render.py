"""selkit.scaffold.plan and .render: the scaffold's decisions and text from hand-made facts and
the hand-made base of tests/fakes.py. The text checks (the front end of selkit check), is
canonical, and grants nothing beyond the two shared fragments."""

from __future__ import annotations

import dataclasses
import re

import pytest

from conftest import ROOT
from fakes import small_kb
from selkit.compiler import front_end
from selkit.diagnostics import DiagnosticError
from selkit.dsl import ast
from selkit.dsl.parser import parse
from selkit.dsl.pretty import format_module
from selkit.scaffold import render as render_module
from selkit.scaffold import scaffold, self_check
from selkit.scaffold.binary import Binary
from selkit.scaffold.package import Kind
from selkit.scaffold.plan import Facts, Owner, daemon_name, plan
from selkit.scaffold.render import FORBID, FRAGMENTS, render

VPND = Facts(
    given="/usr/sbin/vpnd", real="/usr/sbin/vpnd", owner=Owner("vpnd", "/usr/sbin/vpnd"),
    files=("/.", "/etc", "/etc/vpnd", "/etc/vpnd/vpnd.conf", "/etc/default/vpnd",
           "/usr/sbin/vpnd", "/usr/share/doc/vpnd/copyright"),
    kinds={"/etc/vpnd": Kind.DIR, "/var/lib/vpnd": Kind.MISSING},
    binary=Binary("elf", frozenset({"chroot", "setuid", "socket", "bind", "recvfrom",
                                    "sendto", "select", "openlog"}),
                  frozenset({"/dev/net/tun", "/var/lib/vpnd/leases"})))


def _text(facts=VPND, kb=None, **kwargs):
    return render(plan(facts, kb or small_kb(), **kwargs), "selkit new --exec /usr/sbin/vpnd")


def _prose(text):
    """The comments' words as one line (a comment wraps at 100 columns)."""
    return re.sub(r"\n\s*#\s*", " ", text)


def _daemon(text):
    (daemon,) = parse(text, "vpnd.sel").of(ast.Daemon)
    return daemon


def test_the_scaffold_checks_against_the_base():
    front_end("vpnd.sel", small_kb(), _text())


def test_the_scaffold_is_canonical_and_deterministic():
    text = _text()
    assert format_module(parse(text, "vpnd.sel")) == text
    assert _text() == text


def test_the_phases_grant_only_the_shared_fragments_suggestions_are_comments():
    daemon = _daemon(_text())
    phases = {p.name.text: p.body for p in daemon.of(ast.Phase)}
    assert [(type(i).__name__, i.name.text) for i in phases["startup"]] == [
        ("Include", "daemon_start"), ("Include", "drop_privileges")]
    assert phases["steady"] == ()
    text = _text()
    for line in ("        # seen in the binary: chroot -> chroot jail, in drop_privileges",
                 "        # seen in the binary: /dev/net/tun -> tun (opens the tun device)",
                 "        # seen in the binary: /dev/net/tun -> tun io (packets on the tun fd "
                 "startup opened)",
                 "        # seen in the binary: select -> syscalls deny poll epoll_wait "
                 "epoll_ctl (if its libraries"):
        assert line in text


def test_the_switch_holds_a_placeholder_option_and_the_hook_as_comments():
    daemon = _daemon(_text())
    (switch,) = daemon.of(ast.Switch)
    assert [type(i).__name__ for i in switch.items] == ["Option"]
    assert switch.items[0].template.value == "--setcon {context}"
    text = _text()
    assert '        # patch "FILE" replace "TEXT"' in text
    assert "switch startup -> steady {  # TODO: the items for selkit patch, below" in text
    assert "not seen in the binary: setcon" in _prose(text)


def test_the_forbid_is_the_shared_one():
    (forbid,) = _daemon(_text()).of(ast.Forbid)
    assert forbid.phase.text == "steady"
    assert tuple(i.name.text for i in forbid.items) == FORBID


def test_package_files_and_binary_paths_become_declarations_and_commented_ones():
    text = _text()
    files = [(f.name.text, f.regex.value, f.kind.text if f.kind else None)
             for f in _daemon(text).of(ast.FileDecl)]
    assert files == [("jail", "/var/empty/vpnd", "dir"), ("conf", "/etc/vpnd(/.*)?", None)]
    assert '    # file state "/var/lib/vpnd(/.*)?"  # "/var/lib/vpnd/leases"' in text
    assert "        # read conf  # TODO: if it uses /etc/vpnd" in text
    assert "configuration of other programs 1 (/etc/default/vpnd)" in _prose(text)


def test_the_fragments_are_those_of_the_shipped_library_word_for_word():
    common = (ROOT / "policies/include/common.sel").read_text()
    assert common.endswith(FRAGMENTS)
    assert FRAGMENTS in _text()


def test_beside_the_shipped_library_the_scaffold_uses_it(tmp_path):
    (tmp_path / "include").mkdir()
    (tmp_path / "include/common.sel").write_text(
        (ROOT / "policies/include/common.sel").read_text())
    text = _text(dataclasses.replace(VPND, use_common=True))
    assert 'use "include/common.sel"  # daemon_start, drop_privileges' in text
    assert "fragment daemon_start" not in text
    front_end(str(tmp_path / "vpnd.sel"), small_kb(), text)


def test_without_a_package_no_file_but_the_jail_is_declared():
    facts = dataclasses.replace(VPND, owner=Owner(None, reason="no installed package owns "
                                                                "/usr/sbin/vpnd (dpkg-query -S)"),
                                files=(), binary=Binary("static"))
    text = _text(facts)
    assert [f.name.text for f in _daemon(text).of(ast.FileDecl)] == ["jail"]
    assert ("# Package: none (no installed package owns /usr/sbin/vpnd (dpkg-query -S))"
            in _prose(text))
    assert "no dynamic symbols" in _prose(text)
    front_end("vpnd.sel", small_kb(), text)


def test_a_store_module_of_the_daemons_name_is_replaced_with_a_warning():
    kb = dataclasses.replace(small_kb(), enabled_modules=frozenset({"vpnd"}))
    text = _text(kb=kb)
    assert _daemon(text).of(ast.ModuleName)[0].name.text == "vpnd"
    assert "# WARNING: the base store has a module 'vpnd'" in text
    assert "(--name chooses another)" in _prose(text)


def test_a_store_module_others_need_is_not_replaced():
    kb = dataclasses.replace(small_kb(), enabled_modules=frozenset({"vpnd"}))
    text = _text(kb=kb, blockers=lambda m: ("xserver",) if m == "vpnd" else ())
    assert _daemon(text).of(ast.ModuleName)[0].name.text == "vpnd_local"
    assert "module xserver needs its types" in _prose(text)
    assert "WARNING" not in text


def test_the_module_that_labels_the_exec_is_the_one_replaced():
    kb = dataclasses.replace(small_kb(), enabled_modules=frozenset({"vpn"}), file_contexts={
        ("/usr/sbin/vpnd", "file"): ("vpnd_exec_t", ("vpn",))})
    text = _text(kb=kb)
    assert _daemon(text).of(ast.ModuleName)[0].name.text == "vpn"
    assert "module 'vpn' of the base store labels /usr/sbin/vpnd" in _prose(text)
    front_end("vpnd.sel", kb, text)


def test_a_disabled_store_module_name_gets_local():
    kb = dataclasses.replace(small_kb(), disabled_modules=frozenset({"vpnd"}))
    assert _daemon(_text(kb=kb)).of(ast.ModuleName)[0].name.text == "vpnd_local"


@pytest.mark.parametrize("asked,code", [("Vpn", "SEL805"), ("off", "SEL806"),
                                        ("other", "SEL807"), ("needed", "SEL810")])
def test_a_name_that_cannot_work_is_refused(asked, code):
    kb = dataclasses.replace(
        small_kb(), disabled_modules=frozenset({"off"}),
        enabled_modules=frozenset({"vpn", "needed"}),
        file_contexts={} if code != "SEL807" else {
            ("/usr/sbin/vpnd", "file"): ("vpnd_exec_t", ("vpn",))})
    with pytest.raises(DiagnosticError) as caught:
        plan(VPND, kb, asked, blockers=lambda m: ("x",) if m == "needed" else ())
    assert [d.code for d in caught.value.diagnostics] == [code]


def test_an_exec_labelled_by_a_module_that_cannot_be_replaced_is_refused():
    kb = dataclasses.replace(small_kb(), enabled_modules=frozenset({"base"}), file_contexts={
        ("/usr/sbin/vpnd", "file"): ("vpnd_exec_t", ("base",))})
    with pytest.raises(DiagnosticError) as caught:
        plan(VPND, kb, blockers=lambda m: ("acct", "apache"))
    (diag,) = caught.value.diagnostics
    assert diag.code == "SEL811" and "/usr/local/sbin/vpnd" in (diag.hint or "")


def test_a_daemon_whose_types_exist_gets_another_name():
    kb = dataclasses.replace(small_kb(), types=small_kb().types | {"vpnd_steady_t"})
    assert _daemon(_text(kb=kb)).name.text == "vpnd2"


@pytest.mark.parametrize("path,name", [("/usr/sbin/ptunnel-ng", "ptunnel_ng"),
                                       ("/usr/sbin/NetworkManager", "networkmanager"),
                                       ("/usr/bin/6tunnel", "d6tunnel"), ("/x/--", "daemon")])
def test_daemon_names_from_file_names(path, name):
    assert daemon_name(path) == name


def test_a_scaffold_that_does_not_check_is_a_bug_and_is_not_returned(monkeypatch, tmp_path):
    program = tmp_path / "vpnd"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    def render_without_steady(decided, command):
        return render(decided, command).replace("phase steady {", "phase calm {")

    monkeypatch.setattr(render_module, "render", render_without_steady)
    with pytest.raises(RuntimeError, match=r"does not pass selkit check \(SEL306"):
        scaffold(str(program), small_kb, output=str(tmp_path / "vpnd.sel"))


def test_self_check_passes_a_good_scaffold():
    self_check(_text(), "vpnd.sel", small_kb())


def test_a_tool_that_refuses_during_the_self_check_stays_a_toolchain_error(monkeypatch):
    from selkit.diagnostics import Diagnostic, ToolchainError

    def refuse(path, kb, text):
        raise ToolchainError([Diagnostic("SEL510", "'semodule' is not installed")])

    monkeypatch.setattr("selkit.scaffold.front_end", refuse)
    with pytest.raises(ToolchainError):
        self_check(_text(), "vpnd.sel", small_kb())


def test_a_scaffold_that_does_not_parse_is_a_bug_not_bad_input(monkeypatch):
    monkeypatch.setattr(render_module, "FORBID", ("exec", "{"))
    with pytest.raises(RuntimeError, match=r"the scaffold does not parse \(SEL1"):
        _text()
