"""selkit.analysis.allowtable: the table of a policy's allow rules holds what SETools reads of
each rule (names, permissions, condition, the rule's text), in the policy's order, and the
cache gives back the same table until the policy file changes."""

from __future__ import annotations

import os

import setools

from selkit.analysis import allowtable
from selkit.analysis.allowtable import AllowTable, allow_table, scan, statement
from selkit.analysis.conditions import rule_condition
from selkit.base import load_policy
from tiny import BASE_CIL, compile_cil

#: Conditional rules in each branch of a boolean and of an expression.
CONDITIONAL = """
(boolean b_one false)
(boolean b_two true)
(booleanif b_one
    (true (allow kernel_t etc_t (file (write append))))
    (false (allow kernel_t etc_t (file (lock)))))
(booleanif (and b_one b_two)
    (true (allow kernel_t shadow_t (file (write))))
    (false (allow kernel_t shadow_t (file (lock)))))
"""


def _assert_like_setools(policy) -> None:
    table = scan(policy)
    allow = setools.TERuletype.allow
    rules = [r for r in policy.terules() if r.ruletype == allow]
    assert len(table.rows) == len(rules)
    for row, rule in zip(table.rows, rules, strict=True):
        source, target, tclass, perms, condition, _ = row
        assert (source, target, tclass) == (str(rule.source), str(rule.target), str(rule.tclass))
        assert list(perms) == list(rule.perms)   # the same set, in SETools' order
        assert condition == rule_condition(rule)
        assert statement(row) == str(rule).split("\n")[0]
    assert table.types == frozenset(str(t) for t in policy.types())
    for attribute in policy.typeattributes():
        assert table.expand(str(attribute)) == {str(t) for t in attribute.expand()}
    assert table.expand("kernel_t") == {"kernel_t"}


def _compile(cil, tmp_path):
    """The CIL alone (not on top of the tiny base) as a binary policy."""
    import subprocess

    from tiny import SECILC

    dest = tmp_path / "policy.33"
    result = subprocess.run([SECILC, "-M", "true", "-N", "-f", "/dev/null", "-o", str(dest),
                             str(cil)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return dest


def test_each_row_is_what_setools_reads_of_the_rule_on_the_tiny_base(tmp_path):
    cil = tmp_path / "base.cil"
    cil.write_text(BASE_CIL.read_text() + CONDITIONAL)
    policy = load_policy(str(_compile(cil, tmp_path)))
    conditions = {row[4] for row in scan(policy).rows}
    assert conditions == {None, "b_one", "!b_one", "b_two && b_one", "!(b_two && b_one)"}
    _assert_like_setools(policy)


def test_each_row_is_what_setools_reads_of_the_rule_on_debians_policy(kb):
    _assert_like_setools(load_policy(kb.source))


def test_a_policy_object_is_scanned_once(tmp_path):
    policy = load_policy(str(compile_cil(tmp_path / "policy.33")))
    assert scan(policy) is scan(policy)
    assert allow_table(policy) is scan(policy)


def _same(a: AllowTable, b: AllowTable) -> bool:
    return (a.rows, a.types, a.attributes) == (b.rows, b.types, b.attributes)


def test_the_cache_gives_the_table_back_until_the_file_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("SELKIT_CACHE", str(tmp_path / "cache"))
    path = str(compile_cil(tmp_path / "policy.33"))
    first = allow_table(path)
    assert _same(first, scan(load_policy(path)))
    assert len(list((tmp_path / "cache" / "allow-table").iterdir())) == 1

    def refuse(_path):
        raise AssertionError("read with SETools although the table is in the cache")

    monkeypatch.setattr("selkit.base.load_policy", refuse)
    assert _same(allow_table(path), first)

    # Another policy written over the same file: a new identity, the table is read again.
    monkeypatch.undo()
    monkeypatch.setenv("SELKIT_CACHE", str(tmp_path / "cache"))
    changed = tmp_path / "changed.cil"
    changed.write_text(BASE_CIL.read_text() + "(allow kernel_t etc_t (file (write)))\n")
    _compile(changed, tmp_path)
    os.utime(path, ns=(1, 1))
    again = allow_table(path)
    assert not _same(again, first)
    assert "allow kernel_t etc_t:file write;" in {statement(row) for row in again.rows}


def test_an_unreadable_cache_entry_is_read_again(tmp_path, monkeypatch):
    monkeypatch.setenv("SELKIT_CACHE", str(tmp_path / "cache"))
    path = str(compile_cil(tmp_path / "policy.33"))
    first = allow_table(path)
    (entry,) = (tmp_path / "cache" / "allow-table").iterdir()
    entry.write_bytes(b"not a pickle")
    assert _same(allow_table(path), first)
    assert allowtable.read_pickle(entry, AllowTable) is not None   # and kept again


def test_a_file_setools_cannot_read_is_a_diagnostic(tmp_path, monkeypatch):
    import pytest

    from selkit.diagnostics import DiagnosticError

    monkeypatch.setenv("SELKIT_CACHE", str(tmp_path / "cache"))
    bad = tmp_path / "bad.33"
    bad.write_bytes(b"not a policy")
    for path in (bad, tmp_path / "missing.33"):
        with pytest.raises(DiagnosticError) as raised:
            allow_table(str(path))
        assert raised.value.diagnostics[0].code == "SEL506"
