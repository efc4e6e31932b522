"""Emitters: every IR rule kind is handled by every target; exact text for small cases."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from selkit.diagnostics import Span
from selkit.emit import CilEmitter, FcEmitter, IfEmitter, TeEmitter, cil, te
from selkit.emit.te import RAW, REFPOLICY
from selkit.ir import nodes as ir
from selkit.ir.passes import starter_rules

ORIGIN = ir.Origin(Span("m.sel", 3, 5, 3, 8), "tun")
ATTRS = frozenset({"domain", "set_curr_context", "file_type"})


def module(**changes) -> ir.PolicyModule:
    base = ir.PolicyModule(
        name="m", version="1.0.0", source_path="m.sel",
        phases=(ir.Phase("startup", "m_startup_t", None, ORIGIN),
                ir.Phase("steady", "m_steady_t", "startup", ORIGIN)),
        types=(ir.TypeDecl("m_startup_t", ir.TypeRole.DOMAIN, ("domain", "set_curr_context"),
                           ORIGIN),
               ir.TypeDecl("m_steady_t", ir.TypeRole.DOMAIN, ("domain",), ORIGIN),
               ir.TypeDecl("m_conf_t", ir.TypeRole.FILE, ("file_type",), ORIGIN)),
        rules=(ir.TypeBounds("m_startup_t", "m_steady_t", ORIGIN),
               ir.Allow("m_startup_t", "m_startup_t", "capability", ("net_admin",), ORIGIN),
               ir.Allow("m_steady_t", "tun_tap_device_t", "chr_file", ("read", "write"), ORIGIN),
               ir.TypeTransition("init_t", "m_conf_t", "process", "m_startup_t", ORIGIN)),
        file_contexts=(ir.FileContext("/etc/m(/.*)?", ir.FileKind.ANY, "m_conf_t", ORIGIN),
                       ir.FileContext("/usr/sbin/m", ir.FileKind.FILE, "m_conf_t", ORIGIN)),
        switches=(), forbids=(), user=None, mls=True, daemon="m")
    return dataclasses.replace(base, **changes)


#: Every kind of IR rule, as the IR defines them: a new kind is tested without editing this file.
RULE_KINDS = typing.get_args(ir.Rule)

#: One rule of each kind, with its refpolicy and CIL text.
EXAMPLES = {
    ir.Allow: (ir.Allow("a_t", "b_t", "file", ("open", "read"), ORIGIN),
               "allow a_t b_t:file { open read };", "(allow a_t b_t (file (open read)))"),
    ir.TypeTransition: (ir.TypeTransition("a_t", "b_t", "process", "c_t", ORIGIN),
                        "type_transition a_t b_t:process c_t;",
                        "(typetransition a_t b_t process c_t)"),
    ir.TypeBounds: (ir.TypeBounds("a_t", "b_t", ORIGIN), "typebounds a_t b_t;",
                    "(typebounds a_t b_t)"),
}


def test_rule_kinds_come_from_the_ir():
    assert set(RULE_KINDS) == {ir.Allow, ir.TypeTransition, ir.TypeBounds}
    assert set(EXAMPLES) == set(RULE_KINDS), "give every IR rule kind an example here"


@pytest.mark.parametrize("kind", RULE_KINDS, ids=lambda k: k.__name__)
def test_every_emitter_renders_every_rule_kind(kind):
    rule, te_text, cil_text = EXAMPLES[kind]
    assert te.rule_statement(rule) == te_text
    assert cil.rule_statement(rule) == cil_text
    for emitter in (TeEmitter(ATTRS, REFPOLICY), TeEmitter(ATTRS, RAW), CilEmitter()):
        text = emitter.emit(module(rules=(rule,))).text()
        assert (cil_text if isinstance(emitter, CilEmitter) else te_text) + "\t" in text


@pytest.mark.parametrize("statement", [te.rule_statement, cil.rule_statement],
                         ids=["te", "cil"])
def test_an_unknown_rule_kind_fails_loudly(statement):
    with pytest.raises(AssertionError):
        statement(ir.Phase("startup", "m_startup_t", None, ORIGIN))


def test_every_file_kind_has_a_column_in_each_target():
    fc_columns = [te.fc_kind_column(kind) for kind in ir.FileKind]
    cil_keywords = [cil.filecon_kind(kind) for kind in ir.FileKind]
    assert len(set(fc_columns)) == len(set(cil_keywords)) == len(ir.FileKind)
    assert te.fc_kind_column(ir.FileKind.ANY) == ""
    assert all(cil.filecon_kind(kind) == kind.value for kind in ir.FileKind)


@pytest.mark.parametrize("emitter", [TeEmitter(ATTRS, REFPOLICY), TeEmitter(ATTRS, RAW),
                                     CilEmitter()], ids=["te", "te-raw", "cil"])
def test_every_rule_kind_is_emitted_with_provenance(emitter):
    out = emitter.emit(module())
    rule_lines = [line for number, line in enumerate(out.lines, 1) if number in out.origins
                  and not line.startswith(("type ", "(type ", "typeattribute", "(typeattributeset",
                                           "role ", "(roletype", "(filecon"))]
    assert len(rule_lines) == len(RULE_KINDS) + 1
    for line in rule_lines:
        assert "m.sel:3 tun" in line


def test_te_lines():
    text = TeEmitter(ATTRS, REFPOLICY).emit(module()).text()
    assert text.startswith("policy_module(m, 1.0.0)\n")
    assert "typebounds m_startup_t m_steady_t;\t# m.sel:3 tun\n" in text
    assert "allow m_startup_t self:capability net_admin;\t# m.sel:3 tun\n" in text
    assert "allow m_steady_t tun_tap_device_t:chr_file { read write };\t# m.sel:3 tun\n" in text
    assert "type_transition init_t m_conf_t:process m_startup_t;" in text
    assert "gen_require(`\n\ttype init_t, tun_tap_device_t;\n\tattribute domain, file_type, " \
           "set_curr_context;\n')" in text


def test_raw_te_declares_its_requirements():
    text = TeEmitter(ATTRS, RAW).emit(module()).text()
    assert text.startswith("module m 1.0.0;\n")
    assert "require {\n\ttype init_t, tun_tap_device_t;" in text
    assert "\tclass capability { net_admin };\n" in text
    assert "\tclass process;\n" in text and "\trole system_r;\n" in text


def test_cil_lines():
    text = CilEmitter().emit(module()).text()
    assert "(typebounds m_startup_t m_steady_t)\t; m.sel:3 tun\n" in text
    assert "(allow m_startup_t self (capability (net_admin)))" in text
    assert "(typetransition init_t m_conf_t process m_startup_t)" in text
    assert '(filecon "/etc/m(/.*)?" any (system_u object_r m_conf_t ((s0) (s0))))\t; m.sel:3 tun' \
        in text
    assert "(roletype system_r m_steady_t)" in text and "(roletype object_r m_conf_t)" in text


def test_fc_flavours_and_mls():
    ref = FcEmitter(REFPOLICY).emit(module()).text()
    assert "/etc/m(/.*)?\tgen_context(system_u:object_r:m_conf_t,s0)\n" in ref
    assert "/usr/sbin/m\t--\tgen_context(system_u:object_r:m_conf_t,s0)\n" in ref
    raw = FcEmitter(RAW).emit(module(mls=False)).text()
    assert "/usr/sbin/m\t--\tsystem_u:object_r:m_conf_t\n" in raw


def test_interfaces_for_other_modules():
    mod = module(types=module().types + (ir.TypeDecl("m_startup_exec_t", ir.TypeRole.EXEC,
                                                     ("file_type",), ORIGIN),))
    text = IfEmitter().emit(mod).text()
    assert "interface(`m_domtrans',`" in text and "interface(`m_read_conf',`" in text
    assert "type_transition $1 m_startup_exec_t:process m_startup_t;" in text


def test_domtrans_interface_grants_the_starter_rules_of_the_te():
    mod = module(types=module().types + (ir.TypeDecl("m_startup_exec_t", ir.TypeRole.EXEC,
                                                     ("file_type",), ORIGIN),))
    text = IfEmitter().emit(mod).text()
    rules = starter_rules(mod, "m_startup_exec_t", "$1", ORIGIN)
    assert "".join(f"\t{te.rule_statement(r)}\n" for r in rules) in text
    assert "\tallow $1 m_startup_exec_t:file { execute getattr map open read };\n" \
           "\tallow $1 m_startup_t:process transition;\n" \
           "\ttype_transition $1 m_startup_exec_t:process m_startup_t;\n" \
           "\tallow m_startup_t $1:process sigchld;\n" in text


def test_cil_refuses_a_quote_in_a_regex():
    with pytest.raises(ValueError):
        quoted = ir.FileContext('/a"b', ir.FileKind.ANY, "m_conf_t", ORIGIN)
        CilEmitter().emit(module(file_contexts=(quoted,)))
