"""From lab denials back to the spec (selkit.suggest), on the shipped specs and the real KB.

Denials are kernel AVC lines as the lab's dmesg shows them, parsed by selkit.lab.avc. Every
suggested statement is then checked independently of the suggester: inserted into a copy of
the spec after the suggested line, shipped_specs with selkit.compiler.front_end, and the IR must
grant the denied permission (which the shipped spec must not already grant).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import ROOT
from selkit.compiler import front_end
from selkit.diagnostics import DiagnosticError
from selkit.dsl.spec_edit import insert_statements
from selkit.lab.avc import parse_avcs
from selkit.report.suggest import render_suggestions, suggestion_to_dict
from selkit.suggest import Kind, suggest


def denial(stype: str, ttype: str, tclass: str, perms: str, extra: str = "", pid: int = 301,
           comm: str = "daemon") -> str:
    """One kernel AVC line, as dmesg prints it in the lab."""
    return (f'audit: type=1400 audit(1764260000.123:{pid}): avc:  denied  {{ {perms} }} for  '
            f'pid={pid} comm="{comm}" {extra}scontext=system_u:system_r:{stype}:s0 '
            f'tcontext=system_u:object_r:{ttype}:s0 tclass={tclass} permissive=0')


def run(kb, shipped_specs, *lines: str):
    programs, modules = shipped_specs
    avcs = parse_avcs("\n".join(lines))
    assert len(avcs) == len(lines)
    return suggest(avcs, modules, kb, programs)


def spec_path(name: str) -> str:
    return str(ROOT / "policies" / f"{name}.sel")


def last_statement_line(text: str, phase: str) -> int:
    """The line of the last statement in ``phase NAME { ... }`` (a plain text scan)."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if re.match(rf"\s*phase {phase} \{{", line))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].strip() == "}")
    code = [i for i in range(start + 1, end) if lines[i].split("#", 1)[0].strip()]
    return (code[-1] if code else start) + 1


def insert_after_lines(text: str, edits) -> str:
    """``text`` with each (line, statement) added on a new line after ``line``."""
    lines = text.split("\n")
    for line, statement in sorted(edits, reverse=True):
        indent = re.match(r"[ \t]*", lines[line - 1]).group(0)
        lines.insert(line, indent + statement)
    return "\n".join(lines)


def grants(module, kb, source: str, target: str, tclass: str, perm: str) -> bool:
    return any(r.source == source and r.tclass == tclass and perm in r.perms
               and target in kb.expand(r.target) for r in module.allows())


def assert_fixes(kb, suggestion) -> None:
    """The suggestion, applied at its lines, compiles and grants every denied permission
    that the shipped spec lacks."""
    path = suggestion.path
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    _, before = front_end(path, kb)
    edited = insert_after_lines(text, [(e.line, e.statement) for e in suggestion.edits])
    _, after = front_end(path, kb, text=edited)
    (old,) = [m for m in before if m.name == suggestion.module]
    (new,) = [m for m in after if m.name == suggestion.module]
    for rule in suggestion.denied:
        for perm in rule.perms:
            assert not grants(old, kb, rule.source, rule.target, rule.tclass, perm)
            assert grants(new, kb, rule.source, rule.target, rule.tclass, perm), (rule, perm)


def only(suggestions, kind=None):
    assert len(suggestions) == 1, [s.why for s in suggestions]
    if kind is not None:
        assert suggestions[0].kind == kind, suggestions[0].why
    return suggestions[0]


# ---------------------------------------------------------------------------------------------


def test_write_on_the_startup_log_socket_is_syslog_io(kb, shipped_specs):
    """iodine's steady phase has no 'syslog io': logging on the /dev/log socket startup
    opened is denied as write on a startup-labelled unix_dgram_socket."""
    lines = [denial("iodine_steady_t", "iodine_startup_t", "unix_dgram_socket", "write",
                    pid=400 + i, comm="iodine") for i in range(3)]
    s = only(run(kb, shipped_specs, *lines), Kind.VERB)
    path = spec_path("iodine")
    assert (s.statement, s.phase, s.path, s.module) == ("syslog io", "steady", path,
                                                        "iodine_client")
    assert s.line == last_statement_line(Path(path).read_text(), "steady")
    assert s.count == 3 and s.also == () and s.extra == ()
    assert s.rules == ("allow iodine_steady_t iodine_startup_t:unix_dgram_socket write;",)
    assert any("opened in phase 'startup'" in n and "fd use" in n for n in s.notes)
    assert_fixes(kb, s)


def test_sendto_syslogd_from_steady_is_a_new_connection(kb, shipped_specs):
    """sendto is checked with the sending socket's label: a steady-labelled sender opened its
    own /dev/log connection, which 'syslog io' (a write on startup's socket) cannot grant;
    'syslog' can, and the note says what 'syslog io' would have meant."""
    s = only(run(kb, shipped_specs, denial("iodine_steady_t", "syslogd_t", "unix_dgram_socket",
                                      "sendto", 'path="/dev/log" ')), Kind.VERB)
    assert (s.statement, s.phase) == ("syslog", "steady")
    assert any("'syslog io'" in n for n in s.notes)
    assert "unix_dgram_socket sendto on kernel_t" in s.why  # the rest of what it grants
    assert_fixes(kb, s)


def test_connect_to_http_from_hts_steady_is_forbidden(kb, shipped_specs):
    s = only(run(kb, shipped_specs, denial("hts_steady_t", "http_port_t", "tcp_socket",
                                      "name_connect", "dest=80 ", comm="hts")), Kind.FORBIDDEN)
    text = Path(spec_path("hts")).read_text()
    forbid_line = next(i for i, line in enumerate(text.split("\n"), 1)
                       if line.strip() == "http_port_t:tcp_socket name_connect")
    assert (s.path, s.line, s.phase, s.statement) == (spec_path("hts"), forbid_line, "steady",
                                                      None)
    assert s.why == (f"forbidden by forbid steady: http_port_t:tcp_socket name_connect at "
                     f"line {forbid_line}; the daemon must not do this")
    assert s.edits == ()


def test_dns_bind_in_startup_names_the_port(kb, shipped_specs):
    """The AVC's src= port gives 'udp bind port 53'; without it, the port type form."""
    with_port, without = (
        only(run(kb, shipped_specs, denial("openvpn_startup_t", "dns_port_t", "udp_socket",
                                      "name_bind", extra, comm="openvpn")), Kind.VERB)
        for extra in ("src=53 ", ""))
    assert with_port.statement == "udp bind port 53"
    assert without.statement == "udp bind port dns_port_t"
    for s in (with_port, without):
        assert s.phase == "startup"
        assert s.line == last_statement_line(Path(spec_path("openvpn")).read_text(), "startup")
        assert "capability net_bind_service" in s.why  # port 53 is privileged
        assert_fixes(kb, s)


def test_a_domain_of_no_module_gets_no_suggestion(kb, shipped_specs):
    s = only(run(kb, shipped_specs, denial("initrc_t", "etc_t", "file", "read")), Kind.NONE)
    assert s.statement is None and s.path is None and s.edits == ()
    assert s.why.startswith("initrc_t is not a phase domain of the modules given")


def test_another_domains_entry_into_a_phase_names_the_deployment_mistake(kb, shipped_specs):
    """init_t's refused setcon() into steady: the daemon never entered its startup domain (its
    executable unlabelled); a refused nnp_transition into startup: started under
    no_new_privs. Neither is a spec edit, each says what to check."""
    switch, nnp = (only(run(kb, shipped_specs, denial("init_t", target, tclass, perm)), Kind.NONE)
                   for target, tclass, perm in (("openvpn_steady_t", "process", "dyntransition"),
                                                ("openvpn_startup_t", "process2",
                                                 "nnp_transition")))
    assert "in init_t, not in phase 'startup' (openvpn_startup_t)" in switch.why
    assert "restorecon" in switch.why and "no_new_privs" not in switch.why
    assert "NoNewPrivileges=" in nnp.why and "restorecon" not in nnp.why
    assert switch.statement is None and nnp.statement is None


def test_no_verb_falls_back_to_a_raw_allow_in_both_phases(kb, shipped_specs):
    """No verb grants setrlimit; the raw allow in steady needs startup to hold it too."""
    s = only(run(kb, shipped_specs, denial("openvpn_steady_t", "openvpn_steady_t", "process",
                                      "setrlimit", comm="openvpn")), Kind.ALLOW)
    text = Path(spec_path("openvpn")).read_text()
    assert (s.statement, s.phase) == ("allow self:process setrlimit", "steady")
    assert s.line == last_statement_line(text, "steady")
    assert [(e.phase, e.statement, e.line) for e in s.also] == [
        ("startup", "allow self:process setrlimit", last_statement_line(text, "startup"))]
    assert s.why.startswith("no verb grants process setrlimit")
    assert_fixes(kb, s)
    # Without the startup edit the compiler refuses it (typebounds): the 'also' is needed.
    steady_only = insert_after_lines(text, [(s.line, s.statement)])
    with pytest.raises(DiagnosticError, match="SEL301"):
        front_end(spec_path("openvpn"), kb, text=steady_only)


def test_verbs_that_break_a_forbid_are_passed_over(kb, shipped_specs):
    """A UDP socket in iodined's steady phase: 'ifconfig' would grant the create too, but
    steady forbids capabilities; the smallest verb that compiles wins."""
    s = only(run(kb, shipped_specs, denial("iodined_steady_t", "iodined_steady_t", "udp_socket",
                                      "create", comm="iodined")), Kind.VERB)
    assert s.statement in ("udp bind", "udp connect")
    assert_fixes(kb, s)


def test_a_raw_allow_lists_the_verbs_it_could_not_use(kb, shipped_specs):
    """hts steady reading a raw socket: 'icmp raw' grants it but breaks 'raw_sockets'."""
    out = run(kb, shipped_specs, denial("hts_steady_t", "hts_steady_t", "rawip_socket",
                                   "create read", comm="hts"))
    kinds = {s.kind: s for s in out}
    assert set(kinds) == {Kind.ALLOW, Kind.FORBIDDEN}
    assert kinds[Kind.FORBIDDEN].denied[0].perms == ("create",)
    raw = kinds[Kind.ALLOW]
    assert raw.statement == "allow self:rawip_socket read"
    assert any(n.startswith("rejected 'icmp raw' would break a forbid (SEL302") for n in raw.notes)
    assert_fixes(kb, raw)


def test_what_the_spec_grants_is_not_suggested_again(kb, shipped_specs):
    s = only(run(kb, shipped_specs, denial("iodined_steady_t", "iodined_startup_t", "udp_socket",
                                      "read")), Kind.GRANTED)
    assert s.statement is None and "already granted by 'udp io'" in s.why


def test_identical_suggestions_are_grouped_with_their_count(kb, shipped_specs):
    out = run(kb, shipped_specs,
              denial("openvpn_steady_t", "proc_t", "file", "read", pid=11),
              denial("openvpn_steady_t", "proc_t", "file", "open", pid=12),
              denial("openvpn_steady_t", "proc_t", "file", "read open", pid=13),
              denial("hts_steady_t", "http_port_t", "tcp_socket", "name_connect", pid=14),
              denial("hts_steady_t", "http_port_t", "tcp_socket", "name_connect", pid=15))
    assert [(s.kind, s.statement, s.count) for s in out] == [
        (Kind.VERB, "read proc_t", 3), (Kind.FORBIDDEN, None, 2)]
    assert [a.pid for a in out[0].avcs] == [11, 12, 13]
    assert out[0].rules == ("allow openvpn_steady_t proc_t:file { open read };",)
    assert [e.phase for e in out[0].also] == ["startup"]
    assert_fixes(kb, out[0])


def test_plain_rendering(kb, shipped_specs):
    out = run(kb, shipped_specs,
              denial("iodine_steady_t", "iodine_startup_t", "unix_dgram_socket", "write", pid=1),
              denial("iodine_steady_t", "iodine_startup_t", "unix_dgram_socket", "write", pid=2),
              denial("initrc_t", "etc_t", "file", "read", pid=3))
    text = render_suggestions(out)
    line = last_statement_line(Path(spec_path("iodine")).read_text(), "steady")
    assert text.splitlines()[0] == (
        f"{spec_path('iodine')}:{line}: in phase steady add: syslog io   "
        "# covers 2 denials: unix_dgram_socket write on iodine_startup_t")
    assert text.splitlines()[-1].startswith("no suggestion: initrc_t is not a phase domain")
    assert text.splitlines()[-1].endswith("# 1 denial: file read on etc_t from initrc_t")
    assert render_suggestions(run(kb, shipped_specs,
                                  denial("iodine_steady_t", "iodine_startup_t",
                                         "unix_dgram_socket", "write", pid=1),
                                  denial("iodine_steady_t", "iodine_startup_t",
                                         "unix_dgram_socket", "write", pid=2),
                                  denial("initrc_t", "etc_t", "file", "read", pid=3))) == text
    assert suggestion_to_dict(out[0])["statement"] == "syslog io"
    assert render_suggestions([]) == ""


def test_granted_records_are_ignored(kb, shipped_specs):
    line = denial("iodine_steady_t", "iodine_startup_t", "unix_dgram_socket", "write")
    assert run(kb, shipped_specs, line.replace("avc:  denied", "avc:  granted")) == []


def test_insert_statements_into_one_line_and_empty_phases(kb):
    text = ('daemon relayd {\n    exec "/usr/sbin/relayd"\n'
            '    phase startup { udp bind port 53 }\n'
            '    phase steady {\n    }\n'
            '    switch startup -> steady {\n        option "--setcon {context}"\n    }\n}\n')
    program, (module,) = front_end("inline.sel", kb, text=text)
    daemon = program.main.items[0]
    startup, steady = daemon.items[1], daemon.items[2]
    edited = insert_statements(text, [(startup, "syslog"), (steady, "udp io")])
    assert "    phase startup { udp bind port 53; syslog }\n" in edited
    assert "    phase steady {\n        udp io\n    }\n" in edited
    _, (new,) = front_end("inline.sel", kb, text=edited)
    assert grants(new, kb, "relayd_steady_t", "relayd_startup_t", "udp_socket", "read")
    assert grants(new, kb, "relayd_startup_t", "syslogd_t", "unix_dgram_socket", "sendto")
    assert not grants(module, kb, "relayd_steady_t", "relayd_startup_t", "udp_socket", "read")


def test_switches_are_not_suggested_as_statements(kb, shipped_specs):
    """setcurrent and dyntransition come from 'switch' alone, forward only (REFERENCE 6)."""
    out = run(kb, shipped_specs,
              denial("ptunnel_steady_t", "ptunnel_steady_t", "process", "setcurrent", pid=1),
              denial("ptunnel_steady_t", "ptunnel_startup_t", "process", "dyntransition",
                     pid=2))
    assert [s.kind for s in out] == [Kind.NONE, Kind.NONE]
    back, setcurrent = out
    assert back.why.startswith("a switch from phase 'steady' back to 'startup'")
    assert setcurrent.why.startswith("phase 'steady' switches nowhere")
    assert all(s.edits == () and s.module == "ptunnel" for s in out)


def test_unforbidden_dangerous_permissions_are_flagged(kb, shipped_specs):
    """ptunnel's steady phase does not forbid netlink: the verb is suggested, with a warning."""
    s = only(run(kb, shipped_specs, denial("ptunnel_steady_t", "ptunnel_steady_t",
                                      "netlink_route_socket", "create")), Kind.VERB)
    assert s.statement == "netlink route read"
    assert any("forbid group 'netlink'" in n for n in s.notes)
    assert_fixes(kb, s)


def test_a_group_the_phase_forbids_is_not_called_unforbidden_where_it_spares_the_target(
        kb, shipped_specs):
    """ptunnel's steady phase forbids 'write', which spares selinuxfs (security_t): the
    suggestion may not claim that steady leaves 'write' out."""
    out = run(kb, shipped_specs, denial("ptunnel_steady_t", "security_t", "file", "write"))
    assert out and out[0].kind in (Kind.VERB, Kind.ALLOW)
    assert not any("forbid group 'write'" in n for s in out for n in s.notes)


def test_a_three_phase_chain_gets_the_statement_in_every_ancestor(kb):
    """dsl/examples/three-phases.sel: steady logging on startup's /dev/log socket needs
    'syslog io' (loading has it already); steady reading /proc needs 'read proc_t' in steady,
    loading and startup, because typebounds chains startup -> loading -> steady."""
    path = str(ROOT / "dsl" / "examples" / "three-phases.sel")
    program, modules = front_end(path, kb)
    avcs = parse_avcs("\n".join([
        denial("tunneld_steady_t", "tunneld_startup_t", "unix_dgram_socket", "write", pid=1),
        denial("tunneld_steady_t", "proc_t", "file", "read", pid=2),
        denial("tunneld_steady_t", "tunneld_keys_t", "file", "read", pid=3)]))
    out = suggest(avcs, modules, kb, program)
    text = Path(path).read_text()
    by_statement = {s.statement: s for s in out}
    assert set(by_statement) == {"syslog io", "read proc_t", None}
    assert by_statement["syslog io"].also == ()
    chained = by_statement["read proc_t"]
    assert [(e.phase, e.line) for e in chained.edits] == [
        ("steady", last_statement_line(text, "steady")),
        ("loading", last_statement_line(text, "loading")),
        ("startup", last_statement_line(text, "startup"))]
    assert by_statement[None].kind == Kind.FORBIDDEN and "keys:file read" in by_statement[None].why
    for s in out:
        if s.kind == Kind.VERB:
            assert_fixes(kb, s)


def test_a_bounded_transition_error_points_at_the_switch(kb, shipped_specs):
    """A SELINUX_ERR record names no permission: it is explained, never turned into a rule."""
    forward, backward = (
        f"audit: type=1401 audit(1764260000.5:{serial}): op=security_bounded_transition "
        f"seresult=denied oldcontext=system_u:system_r:{old}:s0 "
        f"newcontext=system_u:system_r:{new}:s0"
        for serial, old, new in ((90, "ptunnel_startup_t", "ptunnel_steady_t"),
                                 (91, "hts_steady_t", "hts_startup_t")))
    out = run(kb, shipped_specs, forward, backward)
    assert [s.kind for s in out] == [Kind.NONE, Kind.NONE]
    texts = sorted(s.why for s in out)
    assert texts[0].startswith("'switch startup -> steady' (ptunnel.sel:")
    assert texts[1].startswith("setcon() from 'steady' to 'startup' in a multithreaded "
                               "process needs 'startup' bounded by 'steady', and no "
                               "'switch steady -> startup' declares it in daemon 'hts'")
    assert all(s.edits == () and s.denied[0].perms == () for s in out)


def test_an_own_file_type_is_named_by_its_file_name(kb, shipped_specs):
    """openvpn re-reading its config after the switch: 'read conf', as the spec names it."""
    s = only(run(kb, shipped_specs, denial("openvpn_steady_t", "openvpn_conf_t", "file",
                                      "open read", 'name="server.conf" ', comm="openvpn")),
             Kind.VERB)
    assert (s.statement, s.phase, s.also) == ("read conf", "steady", ())
    assert_fixes(kb, s)


def test_a_pid_file_in_run_is_the_pidfile_verb_of_a_declared_file(kb, tmp_path):
    """ptunnel without its 'pidfile pid' line (what the lab caught): the denied write on
    var_run_t maps to 'pidfile pid', the verb of a file the spec declares, not to the far
    wider 'manage var_run_t'."""
    (tmp_path / "include").mkdir()
    (tmp_path / "include" / "common.sel").write_text(
        (ROOT / "policies" / "include" / "common.sel").read_text())
    text = (ROOT / "policies" / "ptunnel.sel").read_text()
    line = next(ln for ln in text.splitlines(keepends=True) if ln.strip().startswith("pidfile pid"))
    spec = tmp_path / "ptunnel.sel"
    spec.write_text(text.replace(line, "", 1))
    program, modules = front_end(str(spec), kb)
    avcs = parse_avcs(denial("ptunnel_startup_t", "var_run_t", "dir", "write", 'name="run" ',
                             comm="ptunnel"))
    s = only(suggest(avcs, modules, kb, [program]), Kind.VERB)
    assert (s.statement, s.phase) == ("pidfile pid", "startup")
    assert_fixes(kb, s)
