"""The boolean condition under which a rule of a linked policy applies, as grants carry it."""

from __future__ import annotations

from typing import Any


def rule_condition(rule: Any) -> str | None:
    """None for an unconditional rule; the boolean expression for a rule in the true branch of
    a conditional block, and its negation for one in the false branch (``!name`` or
    ``!(expression)``): the rule applies exactly when that expression holds."""
    try:
        expression = str(rule.conditional)
    except Exception:  # noqa: BLE001 - setools raises RuleNotConditional
        return None
    if rule.conditional_block:
        return expression
    return f"!{expression}" if expression.isidentifier() else f"!({expression})"
