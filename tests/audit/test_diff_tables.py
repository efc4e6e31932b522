"""selkit.audit.diff on the tables of two policies (read from the cache) answers what it answers
on the SETools policies, and reads a rule's permissions as a set whatever their order."""

from __future__ import annotations

from selkit.analysis.allowtable import AllowTable, allow_table, scan
from selkit.audit.diff import changed_domains, domain_diffs
from test_diff import _pair

DOMAINS = ["d_t", "init_t", "kernel_t"]


def test_the_cached_tables_give_the_same_diff_as_the_policies(tmp_path, monkeypatch):
    monkeypatch.setenv("SELKIT_CACHE", str(tmp_path / "cache"))
    old, new = _pair(tmp_path)
    expected = domain_diffs(old, new, DOMAINS)
    assert any(d.changes for d in expected)
    for _ in range(2):  # read with SETools and kept, then read from the cache
        old_table, new_table = allow_table(str(old.path)), allow_table(str(new.path))
        assert changed_domains(old_table, new_table) == changed_domains(old, new)
        assert domain_diffs(old_table, new_table, DOMAINS) == expected
    # A table and a policy mix.
    assert domain_diffs(old_table, new, DOMAINS) == expected


def test_permissions_in_another_order_are_the_same_rule(tmp_path):
    """Two policies may number a class's permissions apart: a row's permissions come in the
    order of their bits, and the same rule must not read as changed."""
    old, _ = _pair(tmp_path)
    table = scan(old)
    turned = AllowTable(tuple((*row[:3], row[3][::-1], *row[4:]) for row in table.rows),
                        table.types, table.attributes)
    assert any(row[3] != row[3][::-1] for row in table.rows)
    assert changed_domains(table, turned) == []
    assert all(not d.changes for d in domain_diffs(table, turned, DOMAINS))
