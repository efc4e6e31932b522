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
    if name in vocab.FORBID_GROUPS and name not in ctx.kb.classes:
        if item.target is None and item.perms is None:
            return forbid_group_patterns(phase, name, origin, ctx.kb.classes)
        _group_with_more(ctx, item)
        return []
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


def _group_with_more(ctx: DaemonState, item: ast.ForbidItem) -> None:
    """SEL222: a group stands alone. ``exec capabilities`` is two items without a ';' (the
    grammar reads the second as the first's permission), ``exec { execute }`` or ``T:exec``
    a group given what only a class takes."""
    name = item.name.text
    perms = item.perms
    if item.target is None and perms is not None and perms.kind is ast.PermKind.ONE:
        second = perms.perms[0]
        if second.text in vocab.FORBID_GROUPS or second.text in ctx.kb.classes:
            ctx.sink.error(
                "SEL222", f"expected ';' between the forbid items '{name}' and "
                f"'{second.text}'", second.span,
                hint=f"a forbid group takes no permissions, so '{second.text}' was read as "
                     f"one of '{name}': write '{name}; {second.text}', or put each item on a "
                     "line of its own")
            return
    if item.target is not None:
        ctx.sink.error(
            "SEL222", f"forbid group '{name}' takes no target", item.target.span,
            hint=f"a group covers every target: drop '{item.target.text}:', or forbid a class "
                 f"on that target ('{item.target.text}:CLASS PERMS')")
        return
    assert perms is not None, "this is a bug."
    written = item_text(item)[len(name) + 1:]  # the permissions as written
    ctx.sink.error(
        "SEL222", f"forbid group '{name}' takes no permissions", perms.span,
        hint="a group is all of its classes and permissions (the table at the end of "
             "dsl/REFERENCE.md): drop the permissions, or forbid them on the class they "
             f"belong to ('CLASS {written}'); separate several items with ';'")
