"""The condition a grant carries says when the rule applies, for either branch of an if."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from selkit.analysis.conditions import rule_condition


@dataclass
class _Rule:
    expression: str | None
    conditional_block: bool = True

    @property
    def conditional(self) -> str:
        if self.expression is None:
            raise ValueError("not conditional")  # setools raises RuleNotConditional
        return self.expression


@pytest.mark.parametrize(("rule", "expected"), [
    (_Rule(None), None),
    (_Rule("xdm_sysadm_login"), "xdm_sysadm_login"),
    (_Rule("xdm_sysadm_login", False), "!xdm_sysadm_login"),
    (_Rule("a && b", False), "!(a && b)"),
    (_Rule("a || b"), "a || b"),
])
def test_the_false_branch_is_the_negation(rule, expected):
    assert rule_condition(rule) == expected


def test_a_rule_of_debians_false_branch_reads_negated(kb):
    import setools

    from selkit.base import load_policy

    policy = load_policy(kb.source)
    rule = next(r for r in setools.TERuleQuery(policy, source="xdm_t", ruletype=["allow"],
                                               boolean=["xdm_sysadm_login"]).results()
                if not r.conditional_block)
    assert rule_condition(rule) == "!xdm_sysadm_login"
