"""JSON is a documented contract: every command's ``--json`` output on the shipped specs
validates against its schema in ``schemas/`` (docs/json.md), names that schema in its
``schema`` key, and a schema refuses an output that lacks a required key."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from selkit_cli import run

from conftest import POLICIES, ROOT, needs_tools

jsonschema = pytest.importorskip("jsonschema")

SCHEMAS = ROOT / "schemas"
REL = [str(p.relative_to(ROOT)) for p in POLICIES]


def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text())


def _validate(data: dict, name: str) -> None:
    schema = _schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert data["schema"] == schema["properties"]["schema"]["const"] == f"selkit/{name}/1"
    jsonschema.Draft202012Validator(schema).validate(data)


def _json(*args: str, status: int = 0, cwd: Path = ROOT) -> dict:
    proc = run(*args, cwd=cwd)
    assert proc.returncode == status, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_every_schema_is_valid_and_documented():
    docs = (ROOT / "docs" / "json.md").read_text()
    names = sorted(p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json"))
    assert names == ["audit", "audit-changes", "check", "compile", "diagnostics", "exposure", "lab",
                     "patch", "patch-check", "prove", "seccomp", "suggest"]
    for name in names:
        jsonschema.Draft202012Validator.check_schema(_schema(name))
        assert f"schemas/{name}.schema.json" in docs, name


@needs_tools("checkmodule", "semodule_package")
def test_compile(tmp_path):
    data = _json("compile", "--json", *REL, "-o", str(tmp_path))
    _validate(data, "compile")
    by_module = {m["module"]: m for m in data["modules"]}
    assert by_module["iodine_client"]["daemon"] == "iodine"  # names, never a display string


@needs_tools("checkmodule", "semodule_package", "semodule")
def test_compile_install(tmp_path):
    data = _json("compile", "--json", "--install", REL[0], "-o", str(tmp_path))
    _validate(data, "compile")
    assert [c["form"] for c in data["store_copies"]] == ["pp", "cil"]


def test_seccomp_files(tmp_path):
    """``compile --target seccomp`` writes NAME.seccomp.json, a contract like --json output."""
    _json("compile", "--json", "--target", "seccomp", *REL, "-o", str(tmp_path))
    files = sorted(tmp_path.glob("*.seccomp.json"))
    assert len(files) == len(REL)
    for path in files:
        data = json.loads(path.read_text())
        _validate(data, "seccomp")
        assert path.name == f"{data['module']}.seccomp.json"


def test_check():
    data = _json("check", "--json", *REL)
    _validate(data, "check")
    assert {m["daemon"] for m in data["modules"]} >= {"iodined", "openvpn"}


def test_diagnostics_with_and_without_a_span(tmp_path):
    data = _json("check", "--json", "dsl/errors/unknown-verb.sel", status=2)
    _validate(data, "diagnostics")
    assert all("span" in d for d in data["diagnostics"])
    data = _json("compile", "--json", "-o", str(tmp_path / "x"), "--base", "/etc/passwd",
                 *REL[:1], status=2)
    _validate(data, "diagnostics")
    assert any("span" not in d for d in data["diagnostics"])


@needs_tools("semodule")
def test_prove_shipped_and_refuted():
    data = _json("prove", "--json", *REL)
    _validate(data, "prove")
    for report in data["reports"]:
        assert all("at" in g for g in report["steady"]["declared"]), report["module"]
    refuted = _json("prove", "--json", "tests/corpus/steady-dyntransition-back.sel", status=1)
    _validate(refuted, "prove")
    (report,) = refuted["reports"]
    (obligation,) = [o for o in report["obligations"] if o["verdict"] == "refuted"]
    (finding,) = obligation["findings"]  # four counterexamples, one rule: one finding
    assert finding["origin"] == "spec" and finding["at"].endswith(":11")
    assert len(finding["fixes"]) == 4 and finding["count"] == 2


@needs_tools("semodule")
def test_audit_against():
    data = _json("audit", "--json", "policies/openvpn.sel", "--against", "openvpn_t")
    _validate(data, "audit")
    (module,) = data["modules"]
    assert module["steady_phase"] == "steady" and module["grants"]["steady"] == []
    assert all("at" in g for g in module["grants"]["startup"] if g["kind"] == "declared")
    bad = _json("audit", "--json", "policies/openvpn.sel", "--against", "openvpn_tt", status=2)
    _validate(bad, "diagnostics")
    assert bad["diagnostics"][0]["hint"] == "did you mean 'openvpn_t'?"


@needs_tools("patch")
def test_patch(tmp_path):
    from patch_demo import SPEC
    from patch_demo import demo_tree as _tree

    tree = _tree(tmp_path)
    (tmp_path / "demo.sel").write_text(SPEC)
    printed = _json("patch", "--json", "demo.sel", "--source", str(tree), cwd=tmp_path)
    _validate(printed, "patch")
    (patch,) = printed["patches"]
    assert patch["text"].startswith("From ") and patch["path"] is None
    written = _json("patch", "--json", "demo.sel", "--source", str(tree), "-o", "series",
                    cwd=tmp_path)
    _validate(written, "patch")
    assert written["patches"][0]["path"] == written["written"][0]
    checked = _json("patch", "--json", "--check", "demo.sel", "--source", str(tree), "-o",
                    "series", cwd=tmp_path)
    _validate(checked, "patch-check")
    assert checked["up_to_date"] is True


def _lab_report():
    """A synthetic lab result (no VM), rendered like ``selkit lab --json``."""
    from selkit.lab.avc import parse_avcs, parse_seccomp
    from selkit.lab.battery import ATTACKS, AttackResult, SwitchReport
    from selkit.lab.guest_output import DaemonState, Tunnel
    from selkit.lab.verdict import LabResult
    from selkit.report.format import Format
    from selkit.report.lab import LabReport
    from selkit.report.renderers import renderer
    from selkit.suggest import Kind
    from selkit.suggest.syscalls import SyscallSuggestion

    (avc,) = parse_avcs(
        "audit: type=1400 audit(1764260000.123:301): avc:  denied  { write } for  pid=301 "
        'comm="ptunnel" scontext=system_u:system_r:ptunnel_steady_t:s0 '
        "tcontext=system_u:object_r:etc_t:s0 tclass=file permissive=0")
    attack = AttackResult(ATTACKS[0], "denied", 302, "EACCES", "openat", "", (avc,))
    (record,) = parse_seccomp(
        "audit: type=1326 audit(1764260000.200:305): auid=4294967295 uid=0 gid=0 "
        "ses=4294967295 subj=system_u:system_r:ptunnel_steady_t:s0 pid=301 comm=\"ptunnel\" "
        "exe=\"/usr/sbin/ptunnel\" sig=31 arch=40000003 syscall=11 compat=1 ip=0x1 "
        "code=0x80000000")
    result = LabResult(
        "ptunnel", "ptunnel", "policies/ptunnel.sel", "ptunnel_startup_t", "ptunnel_steady_t",
        "system_u:system_r:ptunnel_steady_t:s0", "10.0.2.2",
        Tunnel("icmp", True, None, 840, 10),
        DaemonState(301, "system_u:system_r:ptunnel_steady_t:s0",
                    ("system_u:system_r:ptunnel_steady_t:s0",),
                    ("system_u:system_r:ptunnel_startup_t:s0",), "system_u:system_r:init_t:s0"),
        (avc,), (attack,), (attack,),
        SwitchReport(301, "system_u:system_r:ptunnel_steady_t:s0",
                     "system_u:system_r:ptunnel_startup_t:s0",
                     "system_u:system_r:ptunnel_steady_t:s0", True, None, ""),
        "system_u:system_r:unconfined_service_t:s0", ("a denial outside the battery",), 12.3,
        seccomp=(record,), syscall_suggestions=(
            SyscallSuggestion(Kind.NONE, (record,), None, "an i386 call"),))
    return json.loads(renderer(Format.JSON).render(LabReport([result])))


def test_lab_through_the_same_renderer():
    _validate(_lab_report(), "lab")


def test_a_schema_refuses_an_output_without_a_required_key():
    data = _lab_report()
    broken = copy.deepcopy(data)
    del broken["results"][0]["daemon"]
    with pytest.raises(jsonschema.ValidationError, match="'daemon' is a required property"):
        _validate(broken, "lab")
    unnamed = copy.deepcopy(data)
    del unnamed["schema"]
    with pytest.raises((jsonschema.ValidationError, KeyError)):
        _validate(unnamed, "lab")
