"""The linked engine's rule index answers exactly what SETools' own TERuleQuery answers.

:mod:`selkit.analysis.linked` reads a linked policy's allow rules once and groups them by the
name written as their source and target, instead of one TERuleQuery (a scan of every rule) per
question. These tests keep the index equal to the queries it replaces, order included, on the
tiny base (fast tier) and on Debian's policy (every shape of rule: attributes on either side,
self rules, conditional rules).
"""

from __future__ import annotations

from collections import defaultdict

import pytest
import setools

from selkit.analysis import linked as engine
from selkit.analysis.effective import INBOUND_CLASSES, Grant, Reach
from selkit.analysis.profile import PROBE_SELF
from selkit.base import load_policy
from tiny import compile_cil


def _by_query(policy, domain: str) -> tuple[dict, dict]:
    """What the engine answered before the index: one TERuleQuery per question."""
    out: dict = defaultdict(list)
    query = setools.TERuleQuery(policy, source=domain, ruletype=["allow"])
    for rule in query.results():
        cond, source = engine.rule_condition(rule), str(rule.source)
        statement = str(rule).split("\n")[0]
        for target in {str(t) for t in rule.target.expand()}:
            for perm in rule.perms:
                out[Grant(target, str(rule.tclass), perm, cond)].append(
                    Reach(PROBE_SELF if source == domain else source, statement))
    inbound: dict = defaultdict(list)
    query = setools.TERuleQuery(policy, target=domain, tclass=list(INBOUND_CLASSES),
                                ruletype=["allow"])
    for rule in query.results():
        cond, statement = engine.rule_condition(rule), str(rule).split("\n")[0]
        for source in {str(t) for t in rule.source.expand()} - {domain}:
            for perm in rule.perms:
                inbound[Grant(source, str(rule.tclass), perm, cond)].append(
                    Reach(str(rule.source), statement))
    return dict(out), dict(inbound)


def _assert_same(policy, domains) -> None:
    for domain in domains:
        granted, inbound = _by_query(policy, domain)
        assert list(engine.linked(policy, domain).items()) == list(granted.items()), domain
        assert list(engine.linked_once(policy, domain).items()) == list(granted.items()), \
            domain
        assert list(engine.inbound_linked(policy, domain).items()) == list(inbound.items()), \
            domain


def test_the_index_and_the_single_pass_answer_like_terulequery_on_the_tiny_base(tmp_path):
    policy = load_policy(str(compile_cil(tmp_path / "policy")))
    domains = sorted(str(t) for t in policy.types())
    assert len(domains) > 5
    _assert_same(policy, domains)


def test_the_index_answers_like_terulequery_on_debians_policy(kb):
    policy = load_policy(kb.source)
    attributes = {str(a) for a in policy.typeattributes()}
    assert {"domain", "file_type"} <= attributes
    # Rules through many attributes on either side, conditional rules (httpd_t), inbound
    # process rules (init_t starts sshd_t), a file type as the source of nothing. Each query
    # of the oracle scans the whole policy: a few domains keep this test at seconds.
    domains = ["openvpn_t", "sshd_t", "httpd_t", "shadow_t"]
    _assert_same(policy, domains)


def test_a_type_the_policy_lacks_is_an_error_not_an_empty_answer(kb):
    """No grants for a missing domain would prove anything about it."""
    policy = load_policy(kb.source)
    with pytest.raises(setools.exception.InvalidType):
        _by_query(policy, "no_such_type_t")
    with pytest.raises(LookupError, match="no_such_type_t"):
        engine.linked(policy, "no_such_type_t")
    with pytest.raises(LookupError, match="no_such_type_t"):
        engine.inbound_linked(policy, "no_such_type_t")
    with pytest.raises(LookupError, match="no_such_type_t"):
        engine.linked_once(policy, "no_such_type_t")


def test_a_policy_keeps_one_index(kb):
    policy = load_policy(kb.source)
    engine.linked(policy, "openvpn_t")
    first = engine._index(policy)
    engine.inbound_linked(policy, "sshd_t")
    assert engine._index(policy) is first
