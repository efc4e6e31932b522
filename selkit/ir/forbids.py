"""``forbid`` blocks while lowering: each item becomes permission patterns a phase must never
hold (a forbid group expands through :mod:`selkit.ir.forbid_groups`)."""

from __future__ import annotations

from collections.abc import Mapping

from selkit.diagnostics import did_you_mean
from selkit.dsl import ast
from selkit.dsl.pretty import item_text
from selkit.ir import forbid_groups, vocab
from selkit.ir import nodes as ir
from selkit.ir.daemon_state import DaemonState
from selkit.ir.names import resolve_perms, resolve_type


def forbid_group_patterns(phase: str, group: str, origin: ir.Origin,
                          classes: Mapping[str, frozenset[str]]) -> list[ir.ForbidPattern]:
    """What ``forbid PHASE { GROUP }`` lowers to, derived for ``classes`` (class -> perms) by
    :func:`selkit.ir.forbid_groups.group_items`, exemptions included."""
    return [ir.ForbidPattern(phase, None, item.tclass, item.perms, origin, item.except_self,
                             item.exempt_targets)
            for item in forbid_groups.group_items(group, classes)]


def forbids(ctx: DaemonState) -> tuple[ir.ForbidPattern, ...]:
    """The patterns of every 'forbid' block (SEL212 for an unknown phase)."""
    out = []
    for node in ctx.daemon.of(ast.Forbid):
        phase = node.phase.text
        if phase not in ctx.phases:
            ctx.sink.error("SEL212", f"forbid names an unknown phase '{phase}'",
                           node.phase.span, hint=did_you_mean(phase, ctx.phases))
            continue
        for item in node.items:
            out.extend(_forbid_item(ctx, phase, item))
    return tuple(out)


def _forbid_item(ctx: DaemonState, phase: str, item: ast.ForbidItem) -> list[ir.ForbidPattern]:
    """The patterns one forbid item stands for: a group's, or one class pattern."""
    origin = ctx.origin(item.span, f"forbid {phase}: {item_text(item)}")
    target = resolve_type(ctx, item.target) if item.target else None
    if item.target is not None and target is None:
        return []
    name = item.name.text
    if item.target is None and item.perms is None and name in vocab.FORBID_GROUPS:
        return forbid_group_patterns(phase, name, origin, ctx.kb.classes)
    if name not in ctx.kb.classes:
        hint = did_you_mean(name, set(ctx.kb.classes) | set(vocab.FORBID_GROUPS))
        ctx.sink.error("SEL202", f"unknown class or forbid group '{name}'", item.name.span,
                       hint=hint or "groups: " + ", ".join(sorted(vocab.FORBID_GROUPS)))
        return []
    perms = None
    if item.perms is not None and item.perms.kind is not ast.PermKind.ALL:
        perms = resolve_perms(ctx, name, item.perms)
        if perms is None:
            return []
    return [ir.ForbidPattern(phase, target, name, perms, origin)]
