"""Lowering and the phase passes on a hand-made knowledge base (pure logic, no toolchain)."""

from __future__ import annotations

import dataclasses

import pytest

from fakes import small_kb
from selkit.diagnostics import DiagnosticError
from selkit.dsl.loader import load
from selkit.ir import nodes as ir
from selkit.ir import passes
from selkit.ir.lower import lower

TWO_PHASES = '''daemon d {
    exec "/usr/sbin/d"
    file jail "/var/empty/d" dir
    phase startup {
        tun
        udp bind port 53
        chroot jail
        setid
    }
    phase steady {
        tun io
        udp io
    }
    switch startup -> steady { option "-z {context}" }
}
'''


def compile_text(text: str, tmp_path, name="d.sel") -> ir.PolicyModule:
    path = tmp_path / name
    path.write_text(text)
    (module,) = lower(load(str(path)), small_kb())
    return passes.run(module, small_kb())


def codes(text: str, tmp_path) -> list[str]:
    with pytest.raises(DiagnosticError) as err:
        compile_text(text, tmp_path)
    return [d.code for d in err.value.diagnostics]


def triples(module: ir.PolicyModule, source: str) -> set[tuple[str, str, str]]:
    return {(r.target, r.tclass, p) for r in module.allows(source) for p in r.perms}


def test_two_domains_with_refpolicy_attributes(tmp_path):
    m = compile_text(TWO_PHASES, tmp_path)
    decls = {t.name: t for t in m.types}
    assert decls["d_startup_t"].attributes == ("domain", "set_curr_context")
    assert decls["d_steady_t"].attributes == ("domain",)
    assert decls["d_startup_exec_t"].role is ir.TypeRole.EXEC
    assert "entry_type" in decls["d_startup_exec_t"].attributes
    assert decls["d_jail_t"].role is ir.TypeRole.FILE


def test_switch_is_forward_only_and_bounded(tmp_path):
    m = compile_text(TWO_PHASES, tmp_path)
    bounds = [r for r in m.rules if isinstance(r, ir.TypeBounds)]
    assert [(b.parent, b.child) for b in bounds] == [("d_startup_t", "d_steady_t")]
    assert ("d_startup_t", "process", "setcurrent") in triples(m, "d_startup_t")
    assert ("d_steady_t", "process", "dyntransition") in triples(m, "d_startup_t")
    steady = triples(m, "d_steady_t")
    assert not any(c == "process" and p in ("setcurrent", "dyntransition", "transition")
                   for _, c, p in steady)


def test_the_switching_phase_may_check_its_context_with_libselinux(tmp_path):
    m = compile_text(TWO_PHASES, tmp_path)
    startup = triples(m, "d_startup_t")
    for target, tclass, perms in passes.SWITCH_CHECKS:
        assert {(target, tclass, p) for p in perms} <= startup
    switch_line = m.switches[0].origin.span.line
    checks = [r for r in m.allows("d_startup_t") if r.target in ("security_t", "selinux_config_t")]
    assert checks and all(r.origin.span.line == switch_line for r in checks)
    # a write to selinuxfs is a request, not a data write: 'forbid startup { write }' holds
    forbidding = TWO_PHASES.replace(
        "    phase steady {", "    forbid startup {\n        write\n    }\n    phase steady {", 1)
    assert "forbid startup" in forbidding
    compile_text(forbidding, tmp_path, name="f.sel")


def test_steady_gets_exactly_its_io_plus_fd_use(tmp_path):
    m = compile_text(TWO_PHASES, tmp_path)
    assert triples(m, "d_steady_t") == {
        ("tun_tap_device_t", "chr_file", "read"), ("tun_tap_device_t", "chr_file", "write"),
        ("d_startup_t", "udp_socket", "getattr"), ("d_startup_t", "udp_socket", "read"),
        ("d_startup_t", "udp_socket", "write"), ("d_startup_t", "fd", "use"),
    }
    # the parent mirrors the compiler's fd plumbing so typebounds holds
    assert ("d_startup_t", "fd", "use") in triples(m, "d_startup_t")


def test_entry_from_init(tmp_path):
    m = compile_text(TWO_PHASES, tmp_path)
    tts = [r for r in m.rules if isinstance(r, ir.TypeTransition)]
    assert [(t.source, t.target, t.tclass, t.default) for t in tts] == [
        ("init_t", "d_startup_exec_t", "process", "d_startup_t")]
    assert ("d_startup_t", "process", "transition") in triples(m, "init_t")
    assert ("d_startup_exec_t", "file", "entrypoint") in triples(m, "d_startup_t")
    assert all(r.origin.cause is ir.Cause.ENTRY for r in m.allows("init_t"))


def test_privileged_port_brings_net_bind_service(tmp_path):
    m = compile_text(TWO_PHASES, tmp_path)
    start = triples(m, "d_startup_t")
    assert ("dns_port_t", "udp_socket", "name_bind") in start
    assert ("d_startup_t", "capability", "net_bind_service") in start
    high = TWO_PHASES.replace("udp bind port 53", "udp bind port 5353")
    start = triples(compile_text(high, tmp_path), "d_startup_t")
    assert ("unreserved_port_t", "udp_socket", "name_bind") in start
    assert ("d_startup_t", "capability", "net_bind_service") not in start


def test_port_range_resolves_to_every_type_it_covers(tmp_path):
    text = TWO_PHASES.replace("udp bind port 53", "udp bind port 50-1100")
    start = triples(compile_text(text, tmp_path), "d_startup_t")
    bound = {t for t, c, p in start if p == "name_bind"}
    assert bound == {"dns_port_t", "reserved_port_t", "port_t", "unreserved_port_t"}


def test_every_rule_traces_to_a_spec_line(tmp_path):
    m = compile_text(TWO_PHASES, tmp_path)
    for rule in m.rules:
        assert rule.origin.span.path.endswith("d.sel")
        assert 1 <= rule.origin.span.line <= TWO_PHASES.count("\n")
    io = [r for r in m.allows("d_steady_t") if r.tclass == "udp_socket"][0]
    assert io.origin.span.line == 12 and io.origin.statement == "udp io"


def test_steady_asking_more_than_startup_is_an_error(tmp_path):
    text = TWO_PHASES.replace("        udp io\n", "        udp io\n        tcp connect port 22\n")
    with pytest.raises(DiagnosticError) as err:
        compile_text(text, tmp_path)
    (diag,) = err.value.diagnostics
    assert diag.code == "SEL301" and diag.span.line == 13
    assert "add 'tcp connect port 22' to phase 'startup'" in diag.hint


def test_io_without_an_opener(tmp_path):
    text = TWO_PHASES.replace("        udp io\n", "        udp io\n        icmp raw io\n")
    assert codes(text, tmp_path) == ["SEL314"]
    text = TWO_PHASES.replace("        tun\n", "        tun io\n")
    assert "SEL314" in codes(text, tmp_path)


def test_forbid_checked_against_the_phase(tmp_path):
    text = TWO_PHASES.replace("    switch", "    forbid steady { udp_socket write }\n    switch")
    with pytest.raises(DiagnosticError) as err:
        compile_text(text, tmp_path)
    (diag,) = err.value.diagnostics
    assert diag.code == "SEL302" and diag.span.line == 12
    assert diag.related and diag.related[0].span.line == 14
    ok = TWO_PHASES.replace("    switch", "    forbid steady { exec; capabilities; ptrace }\n"
                            "    switch")
    m = compile_text(ok, tmp_path)
    assert {f.tclass for f in m.forbids} >= {"file", "capability", "capability2", "process"}


def test_three_phases_chain_bounds_and_openers(tmp_path):
    from test_phase_semantics import THREE

    text = THREE
    m = compile_text(text, tmp_path)
    bounds = {(r.parent, r.child) for r in m.rules if isinstance(r, ir.TypeBounds)}
    assert bounds == {("d_startup_t", "d_loading_t"), ("d_loading_t", "d_steady_t")}
    # steady uses the socket startup opened, two phases up
    assert ("d_startup_t", "udp_socket", "read") in triples(m, "d_steady_t")
    assert ("d_steady_t", "process", "dyntransition") in triples(m, "d_loading_t")
    decls = {t.name: t.attributes for t in m.types}
    assert "set_curr_context" in decls["d_loading_t"]
    assert "set_curr_context" not in decls["d_steady_t"]


def test_structure_errors(tmp_path):
    assert codes('daemon d {\n exec "/x"\n phase startup { tun }\n}\n', tmp_path) == ["SEL306"]
    text = TWO_PHASES.replace("switch startup -> steady", "switch startup -> stedy")
    assert "SEL210" in codes(text, tmp_path)
    text = TWO_PHASES.replace("switch startup -> steady", "switch steady -> startup")
    assert "SEL307" in codes(text, tmp_path)
    text = TWO_PHASES.replace('{ option "-z {context}" }', '{ option "-z" }')
    assert codes(text, tmp_path) == ["SEL318"]


def test_name_errors_suggest(tmp_path):
    text = TWO_PHASES.replace("udp bind port 53", "udp bind port dns_prot_t")
    with pytest.raises(DiagnosticError) as err:
        compile_text(text, tmp_path)
    (diag,) = err.value.diagnostics
    assert diag.code == "SEL204" and "dns_port_t" in diag.hint
    text = TWO_PHASES.replace("        setid\n", "        allow self:capabilty net_admin\n")
    with pytest.raises(DiagnosticError) as err:
        compile_text(text, tmp_path)
    assert err.value.diagnostics[0].code == "SEL202"
    assert "capability" in err.value.diagnostics[0].hint


@pytest.mark.parametrize("port, hint", [
    ("ssh", "did you mean 'ssh_port_t' (tcp 22)? a port type is written in full"),
    ("shh", "did you mean 'ssh_port_t' (tcp 22)? a port type is written in full"),
    ("http_prot_t", "did you mean 'http_port_t' (tcp 80, 8080)? a port type is written in full"),
    ("nothing", "give a port number (53), a range (6000-6010) or a port type"),
])
def test_a_port_named_by_its_service_suggests_the_port_type(tmp_path, port, hint):
    text = TWO_PHASES.replace("        setid\n",
                              f"        setid\n        tcp connect port {port}\n")
    with pytest.raises(DiagnosticError) as err:
        compile_text(text, tmp_path)
    (diag,) = err.value.diagnostics
    assert (diag.code, diag.hint) == ("SEL204", hint)


def test_file_context_clash_with_the_base(tmp_path):
    text = TWO_PHASES.replace('exec "/usr/sbin/d"', 'exec "/usr/sbin/taken"')
    assert codes(text, tmp_path) == ["SEL217"]
    replaced = text.replace('    exec', '    module other\n    exec')
    assert compile_text(replaced, tmp_path).name == "other"


def _lower_errors(text: str, tmp_path, kb) -> list:
    path = tmp_path / "d.sel"
    path.write_text(text)
    with pytest.raises(DiagnosticError) as err:
        lower(load(str(path)), kb)
    return err.value.diagnostics


def test_a_file_the_base_module_labels_names_the_type_it_has(tmp_path):
    """A jail the base policy's own module labels (/tmp is tmp_t) cannot be replaced away:
    the hint says to use the type the path has, in the statement that names the file."""
    kb = dataclasses.replace(small_kb(), file_contexts={
        ("/tmp", "dir"): ("tmp_t", ("base",)), ("/srv/other", "dir"): ("etc_t", ("other",))})
    (diag,) = _lower_errors(TWO_PHASES.replace('"/var/empty/d"', '"/tmp"'), tmp_path, kb)
    assert diag.code == "SEL217"
    assert "write tmp_t where the spec names 'jail' ('chroot tmp_t')" in diag.hint
    assert "module base" not in diag.hint
    # A path of another module: the type it has, or replacing that module.
    (diag,) = _lower_errors(TWO_PHASES.replace('"/var/empty/d"', '"/srv/other"'), tmp_path, kb)
    assert "write etc_t where" in diag.hint and "'module other replaces'" in diag.hint


def test_an_exec_path_the_base_module_labels_is_never_fixed_by_replacing_it(tmp_path):
    kb = dataclasses.replace(small_kb(), file_contexts={
        ("/usr/sbin/d", "file"): ("bin_t", ("base",))})
    (diag,) = _lower_errors(TWO_PHASES, tmp_path, kb)
    assert diag.code == "SEL217" and "module base" not in diag.hint
    assert "another path" in diag.hint


@pytest.mark.parametrize("module, base_modules", [
    ("base", frozenset()),               # semodule's name for the base module, in any store
    ("refpolicy", frozenset({"refpolicy"})),  # a store whose base module has another name
])
def test_the_base_policy_module_cannot_be_replaced(tmp_path, module, base_modules):
    kb = dataclasses.replace(small_kb(), base_modules=base_modules)
    text = TWO_PHASES.replace("    exec", f"    module {module}\n    exec", 1)
    (diag,) = _lower_errors(text, tmp_path, kb)
    assert diag.code == "SEL221" and f"module '{module}' is the base policy's own" in diag.message
    assert diag.span.line == 2 and "drop this 'module'" in diag.hint
    (diag,) = _lower_errors(TWO_PHASES.replace("daemon d {", f"daemon {module} {{"),
                            tmp_path, kb)
    assert diag.code == "SEL221" and f"'module {module}_local'" in diag.hint


@pytest.mark.parametrize("items, message, column", [
    # Two items on one line without ';': the grammar reads the second as the first's
    # permission, which once gave "unknown class or forbid group 'exec'; did you mean 'exec'?".
    ("exec capabilities", "expected ';' between the forbid items 'exec' and 'capabilities'", 26),
    ("capabilities tcp_socket", "expected ';' between the forbid items 'capabilities' and "
     "'tcp_socket'", 34),
    ("exec { execute }", "forbid group 'exec' takes no permissions", 26),
    ("steady:exec", "forbid group 'exec' takes no target", 21),
])
def test_a_forbid_group_stands_alone(tmp_path, items, message, column):
    text = TWO_PHASES.replace("switch startup", f"forbid steady {{ {items} }}\n    switch startup")
    (diag,) = _lower_errors(text, tmp_path, small_kb())
    assert (diag.code, diag.message) == ("SEL222", message)
    assert (diag.span.line, diag.span.column) == (14, column)
    assert "did you mean" not in (diag.hint or "")


def _notes(text: str, tmp_path, kb) -> list:
    path = tmp_path / "d.sel"
    path.write_text(text)
    (module,) = lower(load(str(path)), kb)
    return [(d.code, d.severity.value, d.span.line, d.hint)
            for d in passes.run(module, kb).notes]


def test_a_module_that_borrows_a_store_module_name_is_a_warning(tmp_path):
    """'module openvpn' for another daemon replaces Debian's openvpn module silently; the
    warning says so, and 'module openvpn replaces' says it is meant."""
    kb = dataclasses.replace(small_kb(), enabled_modules=frozenset({"openvpn", "d"}))
    text = TWO_PHASES.replace("    exec", "    module openvpn\n    exec", 1)
    ((code, severity, line, hint),) = _notes(text, tmp_path, kb)
    assert (code, severity, line) == ("SEL223", "warning", 2)
    assert hint.startswith("name it 'module d_local' (a name the store lacks)")
    assert "'module openvpn replaces'" in hint
    assert _notes(text.replace("module openvpn", "module openvpn replaces"), tmp_path, kb) == []
    # The daemon's own name, when it is a store module's: the same warning at the name.
    ((code, _, line, hint),) = _notes(TWO_PHASES, tmp_path, kb)
    assert (code, line) == ("SEL223", 1) and hint.startswith("add 'module d_local'")
    assert _notes(TWO_PHASES.replace("    exec", "    module d replaces\n    exec", 1),
                  tmp_path, kb) == []


def test_replacing_the_module_that_confines_the_program_only_asks_to_say_so(tmp_path):
    """Another name would label the exec path twice (SEL217): the hint is 'replaces' only."""
    kb = dataclasses.replace(small_kb(), enabled_modules=frozenset({"dist"}), file_contexts={
        ("/usr/sbin/d", "file"): ("dist_exec_t", ("dist",))})
    text = TWO_PHASES.replace("    exec", "    module dist\n    exec", 1)
    ((code, _, _, hint),) = _notes(text, tmp_path, kb)
    assert code == "SEL223" and hint == (
        "the store's 'dist' confines /usr/sbin/d, this daemon's program, so this module "
        "replaces it: say so with 'module dist replaces'")
    (diag,) = _lower_errors(TWO_PHASES, tmp_path, kb)
    assert diag.code == "SEL217" and "add 'module dist replaces'" in diag.hint


def test_new_types_must_not_exist_in_the_base(tmp_path):
    """A type the module would declare that the base already has is SEL208 (the small kb
    has syslogd_runtime_t, which daemon 'syslogd' with file 'runtime' would declare)."""
    text = TWO_PHASES.replace("daemon d {", "daemon syslogd {").replace(
        "file jail", 'file runtime "/run/s"\n    file jail')
    assert codes(text, tmp_path) == ["SEL208"]
    compile_text(text.replace("file runtime", "file rundir"), tmp_path)


def test_fragments_expand_in_the_including_daemon(tmp_path):
    (tmp_path / "lib.sel").write_text("fragment drop {\n    chroot jail\n    setid\n}\n")
    text = 'use "lib.sel"\n' + TWO_PHASES.replace("        chroot jail\n        setid\n",
                                                   "        include drop\n")
    m = compile_text(text, tmp_path)
    rule = next(r for r in m.allows("d_startup_t") if r.target == "d_jail_t")
    assert rule.origin.span.path.endswith("lib.sel") and rule.origin.span.line == 2


def test_passes_are_pure(tmp_path):
    path = tmp_path / "d.sel"
    path.write_text(TWO_PHASES)
    (raw,) = lower(load(str(path)), small_kb())
    first = passes.run(raw, small_kb())
    second = passes.run(raw, small_kb())
    assert first == second
    assert raw.types == tuple(t for t in raw.types)  # input untouched (frozen dataclasses)
    assert passes.normalize(first) == first  # normalize is idempotent
