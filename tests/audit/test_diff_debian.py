"""selkit.audit.diff on Debian's policy: stock against the same with the five shipped modules
linked in, for every domain whose rules changed, equals what PolicyDifference (sediff's
library) reports for those domains."""

from __future__ import annotations

from conftest import POLICIES
from selkit.audit.diff import changed_domains, domain_diffs
from selkit.base import load_policy
from selkit.compiler import front_end_files
from test_diff import _ours, _sediff


def test_stock_against_the_shipped_modules_equals_policydifference(kb, linked):
    _, modules = front_end_files([str(p) for p in POLICIES], kb)
    new, _ = linked(*modules)
    old = load_policy(kb.source)
    domains = changed_domains(old, new)
    ours = set().union(*(m.own_types for m in modules))
    phase_domains = {p.domain for m in modules for p in m.phases}
    assert phase_domains <= set(domains)
    # The shipped modules replace Debian's openvpn and iodine modules: their domains change.
    assert {"openvpn_t", "iodined_t"} <= set(domains)
    diffs = domain_diffs(old, new, domains)
    assert _ours(diffs) == _sediff(old, new, set(domains))
    new_domains = {d.domain for d in diffs if d.in_new and not d.in_old}
    assert new_domains <= ours
