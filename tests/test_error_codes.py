"""Every diagnostic code selkit can raise is listed in dsl/errors/README.md (a user who meets
one finds what it means), and the list names no code selkit no longer raises."""

from __future__ import annotations

import re

from conftest import ROOT

CODE = re.compile(r"\bSEL\d{3}\b")


def _raised() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "selkit").rglob("*.py"):
        found |= set(re.findall(r"[\"'](SEL\d{3})[\"']", path.read_text()))
    return found


def _listed() -> set[str]:
    table = (ROOT / "dsl" / "errors" / "README.md").read_text()
    return {m.group(1) for m in re.finditer(r"^\| (SEL\d{3}) \|", table, re.M)}


def test_every_raised_code_is_listed():
    assert _raised() - _listed() == set()


def test_every_listed_code_is_raised():
    assert _listed() - _raised() == set()
