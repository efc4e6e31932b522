"""What `selkit prove` says about the steady filter: the three lists in JSON (docs/json.md) and,
in text, what the filter does with the calls SELinux does not mediate, claimed only when the
steady-syscalls obligation holds."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import selkit.prove.filter as prove_filter
from conftest import ROOT
from selkit.cli import main
from selkit.compiler import front_end
from selkit.emit.seccomp import steady_filter
from selkit.facts.numbers import numbers
from selkit.facts.syscalls import load_table
from selkit.seccomp.bpf import generate

SPEC = str(ROOT / "policies" / "ptunnel.sel")


def _prove(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["prove", SPEC, *args], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def steady(kb):
    _, (module,) = front_end(SPEC, kb)
    return module.syscalls_of("steady")


def test_json_carries_the_three_lists_and_the_declared_set(steady):
    code, out = _prove("--json")
    assert code == 0
    (obligation,) = [o for r in json.loads(out)["reports"] for o in r["obligations"]
                     if o["id"] == "steady-syscalls"]
    lists = obligation["syscalls"]
    table = numbers("x86_64").by_name
    allowed = {e["name"] for key in ("possible", "impossible") for e in lists[key]}
    assert allowed == steady.names
    assert set(lists["blocked"]) == set(table) - steady.names
    assert lists["table"] == len(table) == len(lists["blocked"]) + len(allowed)
    assert lists["default"] == "kill_process"
    for entry in lists["possible"] + lists["impossible"]:
        assert entry["nr"] == table[entry["name"]] and entry["declared_by"]
    # ptunnel.sel:35 says 'syscalls allow newfstatat ioctl'.
    (newfstatat,) = [e for e in lists["possible"] if e["name"] == "newfstatat"]
    assert {"source": "allow", "detail": "", "at": f"{SPEC}:35"} in newfstatat["declared_by"]


def test_text_says_what_the_filter_does_with_unmediated_calls(steady):
    code, out = _prove()
    assert code == 0
    unmediated = set(load_table().unmediated)
    allowed = sorted(unmediated & steady.names)
    blocked = len(unmediated - steady.names)
    assert (f"The steady seccomp filter blocks {blocked} of them and allows {len(allowed)}, "
            f"each declared (steady-syscalls): {', '.join(allowed)}.") in out
    assert "seccomp would" not in out


def test_a_filter_that_does_not_hold_claims_nothing(monkeypatch):
    def wider(module):
        flt = steady_filter(module)
        return generate([*flt.allowed, "vmsplice"], flt.default)

    monkeypatch.setattr(prove_filter, "steady_filter", wider)
    code, out = _prove()
    assert code == 1
    assert "allows vmsplice, which the spec does not declare" in out
    assert "the steady filter's proof is refuted: nothing is claimed about them" in out
    assert "The steady seccomp filter blocks" not in out
