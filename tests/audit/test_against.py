"""``selkit audit --against`` on the Debian refpolicy: policies/openvpn.sel against openvpn_t,
checked against what SETools says of openvpn_t; a spec that grants more than the distribution;
an unknown domain; the CLI in-process."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT
from selkit.analysis.linked import linked
from selkit.analysis.views import profiles_for
from selkit.audit.against import Against, audit_against, check_domain, held_by
from selkit.audit.categories import Category
from selkit.base import load_policy
from selkit.compiler import front_end_files
from selkit.diagnostics import DiagnosticError
from selkit.ir.forbid_groups import CAPABILITY_CLASSES

OPENVPN = "policies/openvpn.sel"

#: A daemon whose steady phase keeps a capability openvpn_t never holds.
GREEDY = '''daemon greedy {
    exec "/usr/sbin/greedy"
    phase startup {
        udp bind port 5353
        allow self:capability sys_ptrace
    }
    phase steady {
        udp io
        allow self:capability sys_ptrace
    }
    switch startup -> steady {
        option "-z {context}"
    }
}
'''


@pytest.fixture(scope="module")
def policy(kb):
    return load_policy(kb.source)


def _audit(kb, policy, path: str, domain: str = "openvpn_t") -> Against:
    _, modules = front_end_files([path], kb)
    profiles = profiles_for(modules, kb=kb)
    (module,) = modules
    return audit_against(module, kb, profiles, policy, domain, modules)


@pytest.fixture(scope="module")
def openvpn(kb, policy) -> Against:
    import contextlib

    with contextlib.chdir(ROOT):
        return _audit(kb, policy, OPENVPN)


def _row(audit: Against, category: Category):
    (row,) = [r for r in audit.rows if r.category is category]
    return row


def test_distribution_capabilities_are_what_setools_says(openvpn, policy):
    import setools

    query = setools.TERuleQuery(policy, source="openvpn_t", ruletype=["allow"],
                                tclass=list(CAPABILITY_CLASSES))
    expected = {(str(r.tclass), p) for r in query.results() for p in r.perms}
    row = _row(openvpn, Category.CAPABILITIES)
    assert row.distribution.perms == expected
    assert ("capability", "net_admin") in expected


def test_the_cached_grants_are_the_linked_engines(policy, kb, tmp_path, monkeypatch):
    monkeypatch.setenv("SELKIT_CACHE", str(tmp_path))
    expected = list(linked(policy, "openvpn_t").items())
    assert list(held_by(kb.source, "openvpn_t").items()) == expected   # read, then kept
    assert list((tmp_path / "audit").iterdir())
    assert list(held_by(kb.source, "openvpn_t").items()) == expected   # from the cache


def test_net_admin_and_route_writes_are_removed_after_the_switch(openvpn):
    row = _row(openvpn, Category.NETWORK_CONFIG)
    for perm in (("capability", "net_admin"), ("netlink_route_socket", "nlmsg_write")):
        assert perm in row.distribution.perms
        assert perm in row.phases["startup"].perms
        assert perm not in row.phases["steady"].perms
        assert perm in row.removed


def test_steady_keeps_no_dangerous_category(openvpn):
    assert all(not row.phases["steady"].perms for row in openvpn.rows)
    assert openvpn.grants["steady"] == ()


def test_startup_grants_carry_their_spec_line(openvpn):
    grants = {(g.grant.tclass, g.grant.perm): g for g in openvpn.grants["startup"]}
    setpcap = grants[("capability", "setpcap")]
    assert setpcap.kind == "declared"
    assert setpcap.at is not None and setpcap.at.startswith(OPENVPN + ":")
    assert ("capability", "setpcap") in _row(openvpn, Category.CAPABILITIES).beyond["startup"]


def test_a_grant_beyond_the_distribution_is_shown(kb, policy, tmp_path):
    spec = tmp_path / "greedy.sel"
    spec.write_text(GREEDY)
    audit = _audit(kb, policy, str(spec))
    row = _row(audit, Category.CAPABILITIES)
    assert row.beyond["steady"] == row.beyond["startup"] == {("capability", "sys_ptrace")}
    (kept,) = [g for g in audit.grants["steady"] if g.grant.perm == "sys_ptrace"]
    assert kept.at == f"{spec}:9"


@pytest.mark.parametrize("name,code,hint", [
    ("openvpn_tt", "SEL602", "did you mean 'openvpn_t'?"),
    ("domain", "SEL602", None),
    ("openvpn_etc_t", "SEL603", None),
])
def test_a_name_that_is_no_domain_is_a_coded_error(kb, name, code, hint):
    with pytest.raises(DiagnosticError) as caught:
        check_domain(kb, name)
    (diag,) = caught.value.diagnostics
    assert diag.code == code and diag.hint
    if hint:
        assert diag.hint == hint


def test_the_command_in_process(kb, cli):
    ran = cli("audit", OPENVPN, "--against", "openvpn_t", "--json")
    assert ran.returncode == 0, ran.stderr
    data = json.loads(ran.stdout)
    assert data["schema"] == "selkit/audit/1" and data["domain"] == "openvpn_t"
    (module,) = data["modules"]
    caps = next(c for c in module["categories"] if c["category"] == "capabilities")
    assert "capability:net_admin" in caps["removed_after_switch"]
    text = cli("audit", OPENVPN, "--against", "openvpn_t")
    assert text.returncode == 0 and "removed (after the switch)" in text.stdout
    bad = cli("audit", OPENVPN, "--against", "openvpn_tt")
    assert bad.returncode == 2 and "SEL602" in bad.stderr and "openvpn_t" in bad.stderr


def test_fail_on_what_a_phase_holds_beyond_the_distribution(kb, cli):
    """openvpn's startup holds capability setpcap and the switch's setcurrent/dyntransition,
    which openvpn_t does not; nothing of ptrace or raw sockets."""
    for fail_on, status in (("capabilities", 1), ("transition", 1), ("high", 1),
                            ("ptrace,raw_sockets", 0), ("name_connect", 0)):
        ran = cli("audit", OPENVPN, "--against", "openvpn_t", "--fail-on", fail_on)
        assert ran.returncode == status, (fail_on, ran.stderr)
