"""Small helpers about C source text, shared by the checks of the spec and the patcher."""

from __future__ import annotations

import re

#: A C identifier (a macro name, for instance).
C_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def balanced_brackets(expr: str) -> bool:
    """True when the brackets of a C expression pair up (strings are not looked into)."""
    stack, pairs = [], {")": "(", "]": "[", "}": "{"}
    for ch in expr:
        if ch in "([{":
            stack.append(ch)
        elif ch in pairs and (not stack or stack.pop() != pairs[ch]):
            return False
    return not stack
