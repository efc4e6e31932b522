"""The seccomp target: JSON and C header per phase, traceable, deterministic; the shipped
specs' steady filters block at least 300 of the x86_64 table."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from conftest import ROOT
from selkit.compiler import front_end
from selkit.emit import Target, emit
from selkit.facts.numbers import AUDIT_ARCH_X86_64, numbers
from selkit.seccomp.bpf import decode
from selkit.seccomp.evaluate import action

SHIPPED = sorted((ROOT / "policies").glob("*.sel"))
#: What each shipped daemon's steady filter allows, a fact the specs must keep (the lab runs
#: each daemon with its filter loaded by the patch: traffic passes, nothing is killed); each
#: must block at least 300 calls.
STEADY_ALLOWED = {"hts": 39, "iodine_client": 29, "iodine": 32, "openvpn": 36, "ptunnel": 37}


@pytest.fixture(scope="module")
def shipped(kb):
    return [m for path in SHIPPED for m in front_end(str(path), kb)[1]]


def _files(module):
    return {o.name: o.text() for o in emit(module, Target.SECCOMP, frozenset())}


def test_steady_blocks_at_least_300_calls(shipped):
    size = len(numbers("x86_64").by_name)
    counts = {m.name: len(m.syscalls_of("steady").allowed) for m in shipped}
    assert counts == STEADY_ALLOWED
    assert all(size - n >= 300 for n in counts.values())


def test_json_traces_every_call_and_matches_its_program(shipped):
    for module in shipped:
        data = json.loads(_files(module)[f"{module.name}.seccomp.json"])
        for phase in data["phases"]:
            assert phase["counts"]["allowed"] + phase["counts"]["blocked"] == 362
            program = decode(bytes.fromhex(phase["filter"]["bpf"]))
            for entry in phase["allowed"]:
                assert entry["why"], entry
                assert all("at" in w or w["source"] == "baseline" for w in entry["why"])
                assert str(action(program, entry["nr"], AUDIT_ARCH_X86_64)) == "allow"
            for entry in phase["denied"]:
                assert str(action(program, entry["nr"], AUDIT_ARCH_X86_64)) == phase["default"]


def test_output_is_deterministic(shipped, kb):
    again = [m for path in SHIPPED for m in front_end(str(path), kb)[1]]
    assert [_files(m) for m in shipped] == [_files(m) for m in again]


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")
def test_the_header_compiles_warning_free(shipped, tmp_path):
    for module in shipped:
        header = _files(module)[f"{module.name}_seccomp.h"]
        (tmp_path / "f.h").write_text(header)
        (tmp_path / "m.c").write_text(
            '#include "f.h"\n#include "f.h"\nint main(void) {\n'
            "\treturn selkit_steady_filter_fprog()->len == 0 ||"
            " selkit_startup_filter_fprog()->len == 0;\n}\n")
        subprocess.run(["gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o",
                        str(tmp_path / "m"), str(tmp_path / "m.c")],
                       check=True, capture_output=True, text=True)


def test_the_documented_counts_are_the_compilers(shipped_specs):
    """docs/seccomp.md's table of allowed and blocked calls is what the shipped specs give."""
    import re

    from conftest import ROOT
    from selkit.facts.numbers import numbers

    rows = re.findall(r"^\| (\w+)(?: \(client\))? \| (\d+) \| (\d+) \| (\d+) \|$",
                      (ROOT / "docs" / "seccomp.md").read_text(), re.M)
    documented = {daemon: tuple(map(int, counts)) for daemon, *counts in rows}
    table = len(numbers("x86_64").by_name)
    _, modules = shipped_specs
    actual = {}
    for module in modules:
        startup, steady = (len(module.syscalls_of(p.name).allowed) for p in module.phases)
        actual[module.daemon] = (startup, steady, table - steady)
    assert documented == actual
