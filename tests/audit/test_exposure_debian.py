"""Exposure scores on Debian's policy: ordering facts that must hold whatever the weights
(not exact numbers), the aggregated reader against expanding every grant for a few domains,
and --all's entry for a domain equal to --domain's."""

from __future__ import annotations

import json

import pytest

from selkit.analysis.linked import linked
from selkit.audit.categories import Category
from selkit.audit.domains import PolicyHoldings, held_from_grants
from selkit.audit.exposure import Breadth, rank, score
from selkit.base import BaseSpec, load_kb, load_policy


@pytest.fixture(scope="module")
def debian(kb):
    policy = load_policy(kb.source)
    holdings = PolicyHoldings(policy, load_kb(BaseSpec(kb.source, None)))
    ranked = rank([score(holdings.held(d)) for d in holdings.domains])
    return policy, holdings, {r.score.domain: r for r in ranked}


def test_unconfined_is_near_the_top_and_above_openvpn(debian):
    _, _, by_name = debian
    unconfined, openvpn = by_name["unconfined_t"], by_name["openvpn_t"]
    assert unconfined.rank <= len(by_name) // 20  # the top 5 %
    assert unconfined.score.level in ("EXPOSED", "UNSAFE", "DANGEROUS")
    assert unconfined.score.exposure > openvpn.score.exposure


def test_openvpn_is_above_the_median_and_a_small_helper(debian):
    # openvpn_t configures the network (CAP_NET_ADMIN, tun, routes): above the median domain
    # and above qmail's log helper, which only appends to its pipe and logs.
    _, _, by_name = debian
    openvpn = by_name["openvpn_t"]
    assert openvpn.rank < len(by_name) // 2
    assert openvpn.score.exposure > by_name["qmail_splogger_t"].score.exposure
    held = {a.item.name for a in openvpn.score.assessments if a.badness}
    assert {"PRIVILEGE-CAP_NET_ADMIN", "network_config", "file_write"} <= held
    assert "PRIVILEGE-load_policy" not in held


def test_every_phase_of_the_base_holding_setcurrent_is_reported(debian):
    _, holdings, by_name = debian
    holders = {d for d in by_name if ("process", "setcurrent") in holdings.held(d).perms}
    flagged = {d for d, r in by_name.items()
               if any(a.item.name == "PRIVILEGE-setcurrent" and a.badness
                      for a in r.score.assessments)}
    assert holders == flagged and "init_t" in holders


@pytest.mark.parametrize("domain", ["openvpn_t", "sshd_t", "dhcpc_t"])
def test_the_summary_counts_what_expanding_every_grant_counts(debian, domain):
    policy, holdings, _ = debian
    grants = linked(policy, domain)
    held = holdings.held(domain)
    for category in Category:
        hits = [g for g in grants
                if category in holdings.cmap.of(g.tclass, g.perm, g.target, domain)]
        pairs = {(g.tclass, g.perm) for g in hits}
        plain = {(g.tclass, g.perm) for g in hits if g.conditional is None}
        assert held.categories[category] == Breadth(
            frozenset(pairs), len({g.target for g in hits}), frozenset(pairs - plain)), category
    assert held == held_from_grants(domain, grants, holdings.cmap, holdings.exec_types)


def test_all_and_domain_agree(kb, cli):
    every = json.loads(cli("audit", "--all", "--json").stdout)
    one = json.loads(cli("audit", "--domain", "openvpn_t", "--json").stdout)
    (entry,) = [d for d in every["domains"] if d["domain"] == "openvpn_t"]
    assert one["domains"] == [entry] and one["domain_count"] == every["domain_count"]
    assert every["domain_count"] == len(every["domains"]) == len(kb.attribute_members["domain"])


def test_a_spec_s_phases_are_ranked_among_the_base_s_domains(kb, cli):
    # openvpn_steady_t keeps no permission of any item (docs/audit.md: the switch removes
    # them all); the startup phase holds CAP_NET_ADMIN and setcurrent; openvpn_t holds
    # everything both phases need, for the daemon's whole life.
    jsonschema = pytest.importorskip("jsonschema")
    from conftest import ROOT

    # --domain may name a phase (listed once) as well as a domain of the base.
    ran = cli("audit", str(ROOT / "policies" / "openvpn.sel"), "--score", "--domain",
              "openvpn_t", "--domain", "openvpn_steady_t", "--json")
    assert ran.returncode == 0, ran.stderr
    data = json.loads(ran.stdout)
    schema = json.loads((ROOT / "schemas" / "exposure.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(data)
    assert [p["domain"] for p in data["phases"]] == ["openvpn_startup_t", "openvpn_steady_t"]
    by_name = {d["domain"]: d for d in data["domains"]}
    assert list(by_name) == ["openvpn_startup_t", "openvpn_steady_t", "openvpn_t"]
    steady, startup, dist = (by_name[d] for d in ("openvpn_steady_t", "openvpn_startup_t",
                                                  "openvpn_t"))
    assert steady["exposure_tenths"] < startup["exposure_tenths"] < dist["exposure_tenths"]
    assert steady["items"] == [] and steady["level"] == "PERFECT"
    assert data["setcurrent"]["holders"] == ["openvpn_startup_t"]
    assert data["domain_count"] == len(kb.attribute_members["domain"]) + 2


def test_the_phases_score_alike_compositional_and_linked(kb, linked):
    # --score computes the phases with the compositional engine; linking the five shipped
    # specs into the store and reading their domains from the linked policy gives the same
    # holdings, hence the same scores.
    from conftest import POLICIES
    from selkit.analysis.engines import Engine
    from selkit.analysis.views import module_view, profiles_for
    from selkit.audit.categories import category_map
    from selkit.compiler import front_end_files

    _, modules = front_end_files([str(p) for p in POLICIES], kb)
    policy, path = linked(*modules)
    holdings = PolicyHoldings(policy, load_kb(BaseSpec(str(path), None)))
    profiles = profiles_for(modules, BaseSpec(), kb=kb)
    cmap = category_map(kb.classes)
    for module in modules:
        view = module_view(module, kb, profiles, engine=Engine.COMPOSITIONAL, colinked=modules)
        for phase in module.phases:
            ours = held_from_grants(phase.domain, view.phases[phase.name].all, cmap,
                                    view.exec_types)
            assert ours == holdings.held(phase.domain), phase.domain
