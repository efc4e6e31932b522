"""Every file in dsl/examples/ compiles (every target, through the real toolchain) and
``selkit prove`` holds for it: with the compositional engine one by one, and with
``--engine both`` for all of them in one link."""

from __future__ import annotations

import json

import pytest
from selkit_cli import run

from conftest import ROOT, needs_tools

EXAMPLES = sorted((ROOT / "dsl" / "examples").glob("*.sel"))
REL = [p.relative_to(ROOT).as_posix() for p in EXAMPLES]

pytestmark = needs_tools("checkmodule", "semodule_package", "semodule")


def test_there_are_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("path", REL, ids=[p.stem for p in EXAMPLES])
def test_example_compiles(path, tmp_path):
    result = run("compile", "--json", path, "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    (module,) = json.loads(result.stdout)["modules"]
    assert {f.rsplit(".", 1)[1] for f in module["outputs"]} == {"te", "if", "fc", "cil", "pp"}


@pytest.mark.parametrize("path", REL, ids=[p.stem for p in EXAMPLES])
def test_example_holds_compositionally(path):
    result = run("prove", "--json", path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    (report,) = json.loads(result.stdout)["reports"]
    assert report["engine"] == "compositional"
    assert report["verdict"] == "holds", [o for o in report["obligations"]
                                          if o["verdict"] != "holds"]


def test_examples_hold_in_both_engines_in_one_link():
    result = run("prove", "--engine", "both", "--json", *REL)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    data = json.loads(result.stdout)
    assert data["engines_agree"] and not data["disagreements"]
    got = sorted((r["daemon"], r["engine"], r["verdict"]) for r in data["reports"])
    assert len(got) == 2 * len(EXAMPLES)
    assert {v for *_, v in got} == {"holds"}
    assert {e for _, e, _ in got} == {"compositional", "linked"}
