"""C-source helpers shared by the spec checks (SEL235) and the patcher."""

from __future__ import annotations

import pytest

from selkit.csyntax import C_IDENTIFIER, balanced_brackets


@pytest.mark.parametrize("expr", ["", "a", "f(a[1], {b})", "((x))", "a[(b)]"])
def test_balanced(expr):
    assert balanced_brackets(expr)


@pytest.mark.parametrize("expr", ["(", ")", "f(a]", "a[(b])", "{", "(()"])
def test_unbalanced(expr):
    assert not balanced_brackets(expr)


def test_c_identifier():
    assert C_IDENTIFIER.fullmatch("HAVE_SELINUX")
    assert C_IDENTIFIER.fullmatch("_x1")
    assert not C_IDENTIFIER.fullmatch("1x")
    assert not C_IDENTIFIER.fullmatch("A-B")
