"""Permissions, rules and grants as the suggestions word them."""

from __future__ import annotations

from collections.abc import Iterable

from selkit.ir.nodes import SELF

#: (source, target, class, permission): one permission an allow rule gives.
Grant = tuple[str, str, str, str]


def perm_text(perms: Iterable[str]) -> str:
    """One permission bare, several as ``{ a b }`` (sorted)."""
    names = sorted(perms)
    return names[0] if len(names) == 1 else "{ " + " ".join(names) + " }"


def rule_text(source: str, target: str, tclass: str, perms: Iterable[str]) -> str:
    """An allow rule in policy syntax, ``self`` for a rule on the source itself."""
    shown = SELF if target == source else target
    return f"allow {source} {shown}:{tclass} {perm_text(perms)};"


def grant_text(grant: Grant, domain: str) -> str:
    """``target:class perm``, prefixed ``source ->`` for a source other than ``domain``."""
    source, target, tclass, perm = grant
    head = "" if source == domain else f"{source} -> "
    return f"{head}{target}:{tclass} {perm}"


def describe(grants: Iterable[Grant], domain: str) -> str:
    """``class { perms } on target`` per (source, target, class), sources other than the
    phase named."""
    by_key: dict[tuple[str, str, str], set[str]] = {}
    for source, target, tclass, perm in grants:
        by_key.setdefault((source, target, tclass), set()).add(perm)
    parts = []
    for (source, target, tclass), perms in sorted(by_key.items()):
        who = "" if source == domain else f"{source}: "
        shown = SELF if target == source else target
        parts.append(f"{who}{tclass} {perm_text(perms)} on {shown}")
    return ", ".join(parts)
