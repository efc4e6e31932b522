"""The report layer: one report, every format; the prove report's grouping of counterexamples."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from selkit.analysis.effective import Reach
from selkit.analysis.profile import PROBE_SELF
from selkit.diagnostics import Span
from selkit.facts.syscalls import load_table
from selkit.ir import nodes as ir
from selkit.prove.obligations import Evidence
from selkit.report.format import (
    Format,
    JsonRenderer,
    Report,
    RichRenderer,
    Table,
    TextRenderer,
)
from selkit.report.html import HtmlRenderer
from selkit.report.markdown import MarkdownRenderer
from selkit.report.prove import family_lines, finding_lines, findings
from selkit.report.renderers import renderer

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class _Demo(Report):
    schema = "demo"

    def data(self) -> dict:
        return {"b": 1, "a": [2]}

    def blocks(self):
        return ["head", Table(("name", "value"), [("x", "1"), ("longer", "22")], "  "), "tail"]


def test_text_lays_tables_out_in_fixed_columns():
    assert TextRenderer().render(_Demo()) == (
        "head\n"
        "  name    value\n"
        "  ------  -----\n"
        "  x       1\n"
        "  longer  22\n"
        "tail\n")


def test_json_names_its_schema_and_sorts_keys():
    text = JsonRenderer().render(_Demo())
    assert json.loads(text) == {"schema": "selkit/demo/1", "b": 1, "a": [2]}
    assert text.index('"a"') < text.index('"b"') < text.index('"schema"')


def test_rich_draws_a_table_with_escape_codes():
    text = RichRenderer(width=60).render(_Demo())
    assert "\x1b[" in text and "longer" in text and "─" in text


def test_each_format_has_its_renderer():
    assert {type(renderer(f)) for f in Format} == {TextRenderer, RichRenderer, JsonRenderer,
                                                   MarkdownRenderer, HtmlRenderer}


SPAN = Span("d.sel", 7, 3, 7, 20)
FIX = "do not put the domain in attribute nsswitch_domain"


def _base(target: str) -> Reach:
    return Reach("nsswitch_domain",
                 f"allow nsswitch_domain {target}:file {{ getattr open read }};")


def test_counterexamples_through_one_attribute_are_one_finding_with_one_fix():
    evidence = [Evidence.through(f"{t}:file {p}", _base(t), fix=FIX)
                for t in ("etc_t", "cert_t") for p in ("getattr", "open", "read")]
    assert evidence[0].text == ("etc_t:file getattr <- base rule allow nsswitch_domain "
                                "etc_t:file { getattr open read }; through attribute "
                                "nsswitch_domain")
    (finding,) = findings(evidence, frozenset({"d_steady_t"}))
    assert finding.kind == "base" and finding.way == "nsswitch_domain"
    assert len(finding.grants) == 6 and len(finding.rules) == 2 and finding.fixes == [FIX]
    lines = finding_lines(finding)
    assert lines[0] == ("      counterexample: 6 grants through attribute nsswitch_domain, "
                        "by 2 base rules:")
    assert lines.count(f"      fix: {FIX}") == 1 and len(lines) == 4


def test_a_single_counterexample_keeps_its_line():
    text = "null_device_t:chr_file write <- base rule allow domain null_device_t:chr_file " \
           "{ write }; through attribute domain"
    reach = Reach("domain", "allow domain null_device_t:chr_file { write };")
    (finding,) = findings([Evidence.through("null_device_t:chr_file write", reach, span=SPAN)],
                          frozenset())
    assert finding_lines(finding) == [f"      counterexample: {text}"]
    assert finding.to_dict()["at"] == "d.sel:7"


def test_the_modules_own_rule_is_not_called_a_base_rule():
    reach = Reach(PROBE_SELF, "allow d_steady_t d_startup_t:process dyntransition;")
    evidence = Evidence.through("d_startup_t:process dyntransition", reach)
    assert evidence.text == ("d_startup_t:process dyntransition <- base rule allow d_steady_t "
                             "d_startup_t:process dyntransition;")
    (finding,) = findings([evidence], frozenset({"d_steady_t", "d_startup_t"}))
    assert finding.kind == "module"
    (line,) = finding_lines(finding)
    assert "<- rule in the module allow d_steady_t" in line and "base rule" not in line
    assert "at" not in finding.to_dict()


def test_a_statement_of_the_spec_and_a_forbid_it_breaks_group_by_the_statement():
    origin = ir.Origin(SPAN, "raw write")
    reaches = [Reach("d_steady_t", f"allow d_steady_t {t}:file {{ write }};", origin)
               for t in ("etc_t", "cert_t")]
    claim = "write (at d.sel:9)"
    evidence = [Evidence.through(f"{r.statement.split()[2]} write", r, claim=claim, span=SPAN)
                for r in reaches]
    assert evidence[0].text.startswith("write (at d.sel:9) is broken by etc_t:file write <- "
                                       "d.sel:7 (raw write): allow d_steady_t")
    (finding,) = findings(evidence, frozenset({"d_steady_t"}))
    assert (finding.kind, finding.way, finding.claim) == ("spec", "d.sel:7 (raw write)", claim)
    assert finding.to_dict()["count"] == 2


def test_a_plain_note_is_a_finding_of_its_own():
    notes = [Evidence("typebounds a b is missing"), Evidence("typebounds a b is missing")]
    found = findings(notes, frozenset())
    assert len(found) == 2 and all(f.kind is None for f in found)


def test_denied_families_are_named_so_that_syslog_is_not_read_as_logging():
    """A daemon that logs through syslog(3) (a unix socket) keeps the syslog(2) family denied:
    the text names the system call and the kernel log buffer, never a bare "syslog"."""
    lines = family_lines(load_table(), {("unix_dgram_socket", "write"),
                                        ("file", "execute")})
    denied, blocked = lines
    assert denied.startswith("System call families denied completely (")
    assert "syslog(2) (the kernel log buffer; syslog(3) logging goes through a socket)" in denied
    assert "syslog" not in denied.split(": ", 1)[1].split(", ")
    assert "ptrace" in denied.split(": ", 1)[1].split(", ")
    assert blocked == ("System call families that cannot succeed (a necessary permission is "
                       "missing): execve")


def test_compile_says_where_each_install_went_and_that_it_is_gone():
    """--install links into a store copy made in a temporary directory: the text names the
    store and the directory and says it was removed; JSON has the same (compile schema)."""
    from selkit.compiler import StoreInstall
    from selkit.report.compile import CompileReport

    stores = [StoreInstall("pp", "/var/lib/selinux/default", "/tmp/selkit-install-a"),
              StoreInstall("cil", "/var/lib/selinux/default", "/tmp/selkit-install-b")]
    report = CompileReport([], ["out/d.pp"], stores)
    text = TextRenderer().render(report)
    assert ("--install: every .pp linked into a copy of the store /var/lib/selinux/default "
            "made in /tmp/selkit-install-a (removed when the install was verified; the store "
            "itself is never changed)") in text
    assert "every .cil linked into a copy of the store" in text
    data = json.loads(JsonRenderer().render(report))
    assert data["store_copies"] == [
        {"form": "pp", "store": "/var/lib/selinux/default", "path": "/tmp/selkit-install-a",
         "kept": False},
        {"form": "cil", "store": "/var/lib/selinux/default", "path": "/tmp/selkit-install-b",
         "kept": False}]
    assert "store_copies" not in json.loads(JsonRenderer().render(CompileReport([], [])))
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "schemas" / "compile.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(data)
