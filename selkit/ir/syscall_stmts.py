"""``syscalls`` statements while lowering: names and ``@families`` resolved to x86_64 system
calls, the default action checked, and a verb form's own list recorded (dsl/REFERENCE.md
section 5.10). What a phase's list becomes is the pass :mod:`selkit.ir.syscall_sets`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

from selkit.diagnostics import Related, did_you_mean
from selkit.dsl import ast
from selkit.dsl.pretty import item_text
from selkit.facts.numbers import numbers
from selkit.facts.runtime import baseline, verb_syscalls
from selkit.facts.seccomp_actions import DEFAULTS, default_action
from selkit.facts.syscalls import load_table
from selkit.ir import nodes as ir
from selkit.ir.daemon_state import DaemonState, PhaseState

ACTIONS = ("allow", "deny", "default")
#: ``syscalls default kill``: the short spelling of kill_process.
ALIASES = {"kill": "kill_process"}


@lru_cache(maxsize=1)
def families() -> Mapping[str, tuple[str, ...]]:
    """``@name`` -> its system calls: the permission table's families, then the baseline's
    groups (the names differ; a test checks it)."""
    out = {name: f.syscalls for name, f in load_table().families.items()}
    out.update({name: tuple(g.syscalls) for name, g in baseline().items()})
    return MappingProxyType(out)


def lower_syscalls(ctx: DaemonState, state: PhaseState, node: ast.Syscalls) -> None:
    """One ``syscalls`` statement of a phase (SEL240-SEL243, SEL328)."""
    action = node.action.text
    phase = state.node.name.text
    origin = ctx.origin(node.span, item_text(node))
    if action not in ACTIONS:
        ctx.sink.error("SEL243", f"'syscalls {action}': the action is allow, deny or default",
                       node.action.span, hint=did_you_mean(action, ACTIONS))
        return
    if action == "default":
        _default(ctx, state, node, origin)
        return
    if not node.items:
        ctx.sink.error("SEL243", f"'syscalls {action}' names no system call",
                       node.action.span, hint=f"syscalls {action} NAME|@FAMILY ...")
        return
    names: list[str] = []
    for item in node.items:
        names.extend(_resolve(ctx, item))
    source = ir.SyscallSource.ALLOW if action == "allow" else ir.SyscallSource.DENY
    fams = " ".join(i.text for i in node.items if i.text.startswith("@"))
    named = [i for i in node.items if not i.text.startswith("@")]
    ctx.syscall_statements.append(ir.SyscallStatement(
        phase, source, tuple(dict.fromkeys(names)), origin, fams,
        tuple(i.text for i in named), tuple(i.span for i in named)))


def _resolve(ctx: DaemonState, item: ast.Word) -> tuple[str, ...]:
    """A name or ``@family`` as system calls; SEL240/SEL241 (and nothing) if unknown."""
    table = numbers("x86_64").by_name
    if item.text.startswith("@"):
        fams = families()
        found = fams.get(item.text[1:])
        if found is None:
            ctx.sink.error("SEL241", f"unknown system call family '{item.text}'", item.span,
                           hint=did_you_mean(item.text, (f"@{f}" for f in fams)) or
                           "families: " + " ".join(f"@{f}" for f in sorted(fams)))
            return ()
        return found
    if item.text not in table:
        hint = did_you_mean(item.text, table, cutoff=0.6)
        if item.text.isdigit():
            hint = "name the system call, not its number"
        ctx.sink.error("SEL240", f"unknown system call '{item.text}' (not in the x86_64 table)",
                       item.span, hint=hint)
        return ()
    return (item.text,)


def _default(ctx: DaemonState, state: PhaseState, node: ast.Syscalls,
             origin: ir.Origin) -> None:
    phase = state.node.name.text
    words = [ALIASES.get(i.text, i.text) for i in node.items]
    text = " ".join(words)
    span = node.items[0].span if node.items else node.action.span
    try:
        if words == ["errno"]:
            raise ValueError("errno needs the error number the call returns")
        action = default_action(text)
    except ValueError as exc:
        hint = did_you_mean(words[0], (*DEFAULTS, *ALIASES)) if words else None
        ctx.sink.error("SEL242", f"'syscalls default {text}': {exc}".rstrip(": "), span,
                       hint=hint or "kill (the default), kill_thread, trap, errno N (errno 1 "
                                    "is EPERM) or log")
        return
    first = next((d for d in ctx.syscall_statements
                  if isinstance(d, ir.SyscallDefault) and d.phase == phase), None)
    if first is not None:
        ctx.sink.error("SEL328", f"phase '{phase}' gives its seccomp default twice", node.span,
                       related=[Related(first.origin.span, "first given here")])
        return
    ctx.syscall_statements.append(ir.SyscallDefault(phase, str(action), origin))


def verb_list(ctx: DaemonState, state: PhaseState, form_text: str, node: ast.Verb) -> None:
    """Record the system calls of a verb form the data lists (facts/data/verb_syscalls.json)."""
    entry = verb_syscalls().get(form_text)
    if entry is not None:
        ctx.syscall_statements.append(ir.SyscallStatement(
            state.node.name.text, ir.SyscallSource.VERB, entry.syscalls,
            ctx.origin(node.span, item_text(node)), entry.reason))
