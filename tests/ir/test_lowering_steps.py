"""The steps lowering is split into, seen from outside: their shared names and state."""

from __future__ import annotations

from fakes import small_kb
from selkit.diagnostics import DiagnosticSink
from selkit.dsl import ast
from selkit.dsl.loader import load
from selkit.ir import declare, lower
from selkit.ir import nodes as ir
from selkit.ir.daemon_state import DaemonState
from selkit.ir.switches import switches

CHAIN = '''daemon d {
    exec "/usr/sbin/d"
    phase steady { }
    phase loading { }
    phase startup { }
    switch loading -> steady { option "-z {context}" }
    switch startup -> loading { option "-z {context}" }
}
'''


def test_every_file_kind_has_a_word():
    assert set(declare.FILE_KINDS.values()) == set(ir.FileKind)
    assert declare.FILE_KINDS["regular"] is ir.FileKind.FILE


def test_lower_still_offers_what_its_callers_import():
    assert lower.DOMAIN_ATTRIBUTES == declare.DOMAIN_ATTRIBUTES
    assert lower.SWITCHING_ATTRIBUTES == declare.SWITCHING_ATTRIBUTES
    assert lower.fc_escape("/a.b") == r"/a\.b"
    assert callable(lower.forbid_group_patterns) and callable(lower.type_collisions)


def test_state_orders_phases_parents_first_and_knows_ancestors(tmp_path):
    path = tmp_path / "d.sel"
    path.write_text(CHAIN)
    program = load(str(path))
    (daemon,) = program.main.of(ast.Daemon)
    ctx = DaemonState(program, daemon, small_kb(), DiagnosticSink())
    declare.declare_phases(ctx)
    assert [s.domain for s in ctx.phases.values()] == [
        ir.own_type_name("d", n) for n in ("steady", "loading", "startup")]
    switches(ctx)
    assert not ctx.sink.items
    assert ctx.phase_order() == ["startup", "loading", "steady"]
    assert ctx.ancestors("steady") == ["loading", "startup"]


def test_exec_type_and_file_context_kind(tmp_path):
    path = tmp_path / "d.sel"
    path.write_text(CHAIN)
    (module,) = lower.lower(load(str(path)), small_kb())
    assert module.types_of(ir.TypeRole.EXEC) == (ir.own_type_name("d", "startup_exec"),)
    assert [fc.kind for fc in module.file_contexts] == [ir.FileKind.FILE]
    assert module.starter == ir.DEFAULT_STARTER
