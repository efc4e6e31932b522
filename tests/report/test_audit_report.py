"""The audit's comparison and its report on hand-made grants (no policy, no SETools): the two
differences in pairs whatever the target, the spec line of a declared grant, text and JSON."""

from __future__ import annotations

import json

import pytest
from selkit_cli import GOOD

from conftest import ROOT
from fakes import small_kb
from selkit.analysis.effective import Classified, Grant, Reach
from selkit.audit.against import compare
from selkit.audit.categories import Category, category_map
from selkit.diagnostics import Span
from selkit.dsl.loader import load
from selkit.facts.syscalls import load_table
from selkit.ir import nodes as ir
from selkit.ir import passes
from selkit.ir.lower import lower
from selkit.report.audit import AuditReport
from selkit.report.format import Format
from selkit.report.renderers import renderer

ORIGIN = ir.Origin(Span.point("d.sel", 9), "allow self:capability sys_module")


def _audit(tmp_path):
    (tmp_path / "d.sel").write_text(GOOD)
    (module,) = lower(load(str(tmp_path / "d.sel")), small_kb())
    module = passes.run(module, small_kb())
    base = [Reach("<self>", "allow dist_t self:capability net_admin;")]
    distribution = {
        Grant("dist_t", "capability", "net_admin"): base,
        Grant("dist_t", "capability", "setuid", "some_bool"): base,
        Grant("null_device_t", "chr_file", "write"): base,    # exempt: not a file write
        Grant("etc_t", "file", "read"): base,                  # in no category
    }
    steady = Classified(declared={
        Grant("d_steady_t", "capability", "sys_module"): [
            Reach("d_steady_t", "allow d_steady_t self:capability sys_module;", ORIGIN)]})
    startup = Classified(declared={
        Grant("d_startup_t", "capability", "net_admin"): [
            Reach("d_startup_t", "allow d_startup_t self:capability net_admin;", ORIGIN)]})
    return compare(module, "dist_t", "policy.33", distribution,
                   {"startup": startup, "steady": steady}, category_map(small_kb().classes))


def _row(audit, category):
    (row,) = [r for r in audit.rows if r.category is category]
    return row


def test_compare_counts_pairs_whatever_the_target(tmp_path):
    audit = _audit(tmp_path)
    caps = _row(audit, Category.CAPABILITIES)
    assert caps.distribution.perms == {("capability", "net_admin"), ("capability", "setuid")}
    assert caps.distribution.conditional == {("capability", "setuid")}
    assert caps.phases["startup"].perms == {("capability", "net_admin")}  # target differs
    assert caps.removed == {("capability", "net_admin"), ("capability", "setuid")}
    assert caps.beyond == {"startup": frozenset(), "steady": {("capability", "sys_module")}}
    assert not _row(audit, Category.FILE_WRITE).distribution.perms
    (kept,) = audit.grants["steady"]
    assert kept.at == "d.sel:9" and kept.kind == "declared"
    assert kept.categories == (Category.CAPABILITIES, Category.MODULE_LOAD)


def test_the_report_in_text_and_json(tmp_path):
    report = AuditReport("dist_t", "policy.33", [_audit(tmp_path)], load_table())
    text = renderer(Format.TEXT).render(report)
    assert text.index("capabilities") < text.index("name_connect")   # the worst first
    assert "steady: d_steady_t:capability sys_module  (capabilities, module_load)  " \
           "[d.sel:9 allow self:capability sys_module]" in text
    data = json.loads(renderer(Format.JSON).render(report))
    assert data["schema"] == "selkit/audit/1"
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "schemas" / "audit.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(data)
