"""selkit.audit.exposure and ``selkit audit --domain/--all`` on tiny purpose-written policies,
where every score is worked out by hand in the comments.

The items' weights sum to 25000: the categories 9 x 1000 (high) + 2 x 500 (medium) + 250
(low) = 10250; the goals 2000 + 2000 + 1500 + 1500 + 1500 + 1500 + 1000 + 1000 + 250 + 1000 =
13250; readonly-executables 1500. exposure = ceil(sum of ceil(badness * weight / range) *
100 / 25000) tenths.
"""

from __future__ import annotations

import json

import pytest

from selkit.analysis.linked import linked
from selkit.audit.categories import Category
from selkit.audit.domains import PolicyHoldings, held_from_grants
from selkit.audit.exposure import (
    Breadth,
    Held,
    breadth_badness,
    items,
    level_of,
    rank,
    score,
)
from selkit.base import BaseSpec, load_kb, load_policy
from tiny import compile_cil

#: Two domains beside the tiny base's kernel_t and init_t. quiet_t appends to its log; loud_t
#: writes files (one of them an executable), holds two capabilities, may set SELinux
#: permissive and, under a boolean, change its own label.
DOMAINS = """
(type quiet_t)
(type loud_t)
(type log_t)
(roletype system_r quiet_t)
(roletype system_r loud_t)
(roletype object_r log_t)
(typeattributeset domain (quiet_t loud_t))
(typeattributeset file_type (log_t))
(allow quiet_t log_t (file (append)))
(allow loud_t etc_t (file (write create)))
(allow loud_t log_t (file (write)))
(allow loud_t init_exec_t (file (write)))
(allow loud_t self (capability (net_admin sys_chroot)))
(allow loud_t security_t (security (setenforce)))
(boolean loud_relabels false)
(booleanif loud_relabels (true (allow loud_t self (process (setcurrent)))))
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exposure")
    extra = folder / "domains.cil"
    extra.write_text(DOMAINS)
    path = compile_cil(folder / "policy.33", extra)
    policy = load_policy(str(path))
    return str(path), policy, PolicyHoldings(policy, load_kb(BaseSpec(str(path), None)))


def _by_item(s):
    return {a.item.name: a for a in s.assessments}


def test_the_weights_sum_as_the_module_docstring_says():
    assert sum(i.weight for i in items()) == 25000
    assert len({i.name for i in items()}) == len(items())


@pytest.mark.parametrize("pairs,targets,badness", [
    (0, 0, 0), (1, 0, 0), (1, 1, 1), (2, 1, 2), (3, 1, 2), (2, 3, 3), (1, 7, 3), (1, 8, 4),
    (1000, 1000, 20), (10**6, 10**6, 20)])
def test_breadth_is_the_log2_of_pairs_times_targets(pairs, targets, badness):
    # ceil(log2(1 + pairs * targets)): 1 + 2 * 3 = 7 -> 3; 1 + 8 = 9 -> 4; capped at 20.
    assert breadth_badness(pairs, targets) == badness


@pytest.mark.parametrize("tenths,level", [
    (0, "PERFECT"), (1, "SAFE"), (9, "SAFE"), (10, "OK"), (49, "OK"), (50, "MEDIUM"),
    (74, "MEDIUM"), (75, "EXPOSED"), (89, "EXPOSED"), (90, "UNSAFE"), (99, "UNSAFE"),
    (100, "DANGEROUS")])
def test_levels_are_systemds(tenths, level):
    assert level_of(tenths) == level


def test_a_hand_built_holding():
    # capabilities: 2 pairs on 1 type -> ceil(log2 3) = 2 -> ceil(2 * 1000 / 20) = 100;
    # PRIVILEGE-load_policy held (conditionally) -> 2000. (2100 * 100) / 25000 = 8.4 -> 9.
    held = Held("d_t", {Category.CAPABILITIES: Breadth(
        frozenset({("capability", "chown"), ("capability", "kill")}), 1)},
        perms=frozenset({("capability", "chown"), ("capability", "kill"),
                         ("security", "load_policy")}),
        conditional=frozenset({("security", "load_policy")}))
    s = score(held)
    assert (s.exposure, s.text, s.level, s.badness_sum) == (9, "0.9", "SAFE", 2100)
    found = _by_item(s)
    assert found["PRIVILEGE-load_policy"].conditional
    assert [a.item.name for a in s.top(2)] == ["PRIVILEGE-load_policy", "capabilities"]
    assert score(Held("e_t", {})).exposure == 0


def test_quiet_t_by_hand(tiny):
    # file_write: file append on log_t, 1 pair on 1 type -> badness 1 -> ceil(1000 / 20) = 50;
    # the base's etc_t read is in no category. 50 * 100 / 25000 = 0.2 -> 1 tenth.
    _, _, holdings = tiny
    s = score(holdings.held("quiet_t"))
    assert {a.item.name: a.badness for a in s.assessments if a.badness} == {"file_write": 1}
    assert (s.exposure, s.level) == (1, "SAFE")


def test_loud_t_by_hand(tiny):
    # file_write: write, create on etc_t, log_t, init_exec_t: 2 pairs x 3 types, ceil(log2 7)
    #   = 3 -> 150; capabilities: 2 pairs on itself -> 2 -> 100; network_config (net_admin):
    #   1 -> 50; policy_change (setenforce): 1 -> 50; transition (setcurrent, conditional):
    #   1 -> 50; goals setenforce 2000, CAP_NET_ADMIN 1000, setcurrent 250; readonly
    #   executables: file write on init_exec_t (exec_type), 1 x 1 -> 1 -> ceil(1500 / 20) = 75.
    #   Sum 3725; 3725 * 100 / 25000 = 14.9 -> 15 tenths: 1.5 OK.
    _, _, holdings = tiny
    s = score(holdings.held("loud_t"))
    assert {a.item.name: a.badness for a in s.assessments if a.badness} == {
        "file_write": 3, "capabilities": 2, "network_config": 1, "policy_change": 1,
        "transition": 1, "PRIVILEGE-setenforce": 1, "PRIVILEGE-CAP_NET_ADMIN": 1,
        "PRIVILEGE-setcurrent": 1, "INTEGRITY-readonly-executables": 1}
    assert (s.badness_sum, s.exposure, s.text, s.level) == (3725, 15, "1.5", "OK")
    found = _by_item(s)
    assert found["PRIVILEGE-setcurrent"].conditional
    assert found["transition"].conditional and not found["file_write"].conditional


def test_the_ranking_of_the_tiny_policy(tiny):
    # init_t: setcurrent on itself (transition 1 -> 50, the goal 250) = 300 -> 1.2 -> 2
    # tenths; its execute on exec_type maps libraries (in no category); kernel_t reads
    # unlabeled_t only: 0.0.
    _, _, holdings = tiny
    ranked = rank([score(holdings.held(d)) for d in holdings.domains])
    assert [(r.rank, r.score.domain, r.score.exposure) for r in ranked] == [
        (1, "loud_t", 15), (2, "init_t", 2), (3, "quiet_t", 1), (4, "kernel_t", 0)]


def test_equal_scores_share_a_rank():
    same = [score(Held(d, {Category.EXEC: Breadth(frozenset({("file", "execute_no_trans")}),
                                                  1)})) for d in ("b_t", "a_t")]
    ranked = rank([*same, score(Held("c_t", {}))])
    assert [(r.rank, r.score.domain) for r in ranked] == [(1, "a_t"), (1, "b_t"), (3, "c_t")]


def test_the_summary_counts_what_expanding_every_grant_counts(tiny):
    _, policy, holdings = tiny
    for domain in holdings.domains:
        grants = linked(policy, domain)
        held = holdings.held(domain)
        for category in Category:
            hits = [g for g in grants
                    if category in holdings.cmap.of(g.tclass, g.perm, g.target, domain)]
            pairs = {(g.tclass, g.perm) for g in hits}
            plain = {(g.tclass, g.perm) for g in hits if g.conditional is None}
            expected = Breadth(frozenset(pairs), len({g.target for g in hits}),
                               frozenset(pairs - plain))
            assert held.categories[category] == expected, (domain, category)
        # The goals' permissions and the executables written, too: the whole holding.
        assert held == held_from_grants(domain, grants, holdings.cmap, holdings.exec_types)


def _json(ran):
    assert ran.stderr == "" or ran.returncode in (0, 1), ran.stderr
    return json.loads(ran.stdout)


def test_the_command_ranks_and_details(tiny, cli):
    path, _, _ = tiny
    every = _json(cli("audit", "--all", "--policy", path, "--json"))
    assert every["schema"] == "selkit/exposure/1" and every["mode"] == "all"
    assert [d["domain"] for d in every["domains"]] == ["loud_t", "init_t", "quiet_t", "kernel_t"]
    one = _json(cli("audit", "--domain", "loud_t", "--policy", path, "--json"))
    assert one["mode"] == "domains" and one["domain_count"] == 4
    assert one["domains"] == every["domains"][:1]  # --all's entry for it, rank included
    assert one["setcurrent"]["holders"] == ["loud_t"]
    text = cli("audit", "--domain", "loud_t", "--policy", path)
    assert text.returncode == 0
    assert "loud_t: exposure 1.5 OK, rank 1 of 4 domains" in text.stdout
    assert "exempt the startup domain" in text.stdout


def test_the_json_follows_its_schema(tiny, cli):
    jsonschema = pytest.importorskip("jsonschema")
    from conftest import ROOT

    schema = json.loads((ROOT / "schemas" / "exposure.schema.json").read_text())
    path, _, _ = tiny
    for args in (("--all",), ("--domain", "quiet_t", "--domain", "loud_t", "--threshold", "1")):
        data = _json(cli("audit", *args, "--policy", path, "--json"))
        jsonschema.Draft202012Validator(schema).validate(data)


@pytest.mark.parametrize("threshold,status", [
    ("1.5", 0), ("1.4", 1), ("10", 0), ("0", 1), ("1.45", 1), ("1.55", 0), ("1.49999", 1)])
def test_the_threshold_decides_the_exit_status(tiny, cli, threshold, status):
    # loud_t is at 1.5: above 1.4, 1.45 and 0, not above 1.5 or 1.55 (systemd: exposure >
    # threshold).
    path, _, _ = tiny
    ran = cli("audit", "--domain", "loud_t", "--policy", path, "--threshold", threshold)
    assert ran.returncode == status, ran.stderr
    verdict = ran.stdout.split("Above the threshold")[1]
    assert ("(loud_t)" in verdict) == bool(status)


def test_a_quiet_domain_passes_a_threshold_the_ranking_fails(tiny, cli):
    path, _, _ = tiny
    assert cli("audit", "--domain", "quiet_t", "--policy", path, "--threshold", "1").returncode == 0
    assert cli("audit", "--all", "--policy", path, "--threshold", "1").returncode == 1


@pytest.mark.parametrize("args,code,says", [
    (("--domain", "lod_t"), "SEL602", "did you mean 'loud_t'?"),
    (("--domain", "log_t"), "SEL603", "not a domain"),
    (("--all", "--domain", "loud_t"), "SEL614", "--all and --domain"),
    (("--all", "--against", "loud_t"), "SEL614", "--against"),
    (("spec.sel", "--all"), "SEL614", "not a spec"),
    (("--score",), "SEL614", "none given"),
    (("spec.sel", "--score"), "SEL614", "--policy does not go with it"),
    (("--threshold", "3"), "SEL614", "need --domain, --all or --score"),
    (("--all", "--threshold", "11"), "SEL616", "outside 0.0-10.0"),
    (("--all", "--threshold", "-1"), "SEL616", "outside 0.0-10.0"),
])
def test_bad_input_is_a_coded_error(tiny, cli, args, code, says):
    path, _, _ = tiny
    ran = cli("audit", *args, "--policy", path)
    assert ran.returncode == 2 and ran.stdout == ""
    assert code in ran.stderr and says in ran.stderr and "Traceback" not in ran.stderr


def test_no_mode_at_all_is_a_coded_error(cli):
    ran = cli("audit")
    assert ran.returncode == 2 and "SEL614" in ran.stderr


def test_an_unreadable_policy_is_a_coded_error(cli, tmp_path):
    bad = tmp_path / "policy.33"
    bad.write_text("not a policy")
    ran = cli("audit", "--all", "--policy", str(bad))
    assert ran.returncode == 2 and "SEL506" in ran.stderr and ran.stdout == ""


def test_the_page_and_the_comment_carry_the_json_numbers(tiny, cli):
    """--format html draws each listed domain's exposure (--domain) or the domains per level
    (--all) from the JSON's numbers; markdown lists the ranking."""
    path, _, _ = tiny
    every = _json(cli("audit", "--all", "--policy", path, "--json"))
    page = cli("audit", "--all", "--policy", path, "--format", "html").stdout
    for level in {d["level"] for d in every["domains"]}:
        count = sum(d["level"] == level for d in every["domains"])
        assert f'data-category="{level}" data-series="domains" data-value="{count}"' in page
    some = _json(cli("audit", "--domain", "loud_t", "--domain", "quiet_t", "--policy", path,
                     "--json"))
    page = cli("audit", "--domain", "loud_t", "--domain", "quiet_t", "--policy", path,
               "--format", "html").stdout
    for d in some["domains"]:
        value = f'{d["exposure"]:g}'
        assert f'data-category="{d["domain"]}" data-series="exposure" data-value="{value}"' \
            in page
    comment = cli("audit", "--all", "--policy", path, "--format", "markdown").stdout
    assert "| 1 | loud\\_t | 1.5 | OK |" in comment
