"""Phase bodies while lowering: raw allows, fragments and verbs expanded into rules.

A verb is matched against the forms of :mod:`selkit.ir.vocab`, its arguments bound to types,
and a form that uses a resource an earlier phase opened is tied to that phase (the opener).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator

from selkit.diagnostics import Span, did_you_mean
from selkit.dsl import ast
from selkit.dsl.loader import BUNDLE_HINT, fragment_homes
from selkit.dsl.pretty import item_text
from selkit.ir import nodes as ir
from selkit.ir import vocab
from selkit.ir.daemon_state import DaemonState, PhaseState
from selkit.ir.names import resolve_class, resolve_perms, resolve_port, resolve_target, resolve_type
from selkit.ir.nodes import ENTRY_PHASE, SELF
from selkit.ir.syscall_stmts import lower_syscalls, verb_list

#: The object behind each resource a verb form opens or uses, for messages.
_RESOURCES = {
    "tun": "tun device", "udp": "UDP socket", "tcp": "TCP socket", "icmp": "raw ICMP socket",
    "ping": "ping socket", "packet": "packet socket", "netlink": "rtnetlink socket",
    "syslog": "/dev/log connection",
}


def _or_list(items: list[str]) -> str:
    """'a', 'a or b', 'a, b or c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def lower_phase(ctx: DaemonState, state: PhaseState) -> None:
    """The rules of one phase's body, fragments included."""
    for item in _expand_includes(ctx, state.node.body, []):
        if isinstance(item, ast.Allow):
            _lower_allow(ctx, state, item)
        elif isinstance(item, ast.Verb):
            _lower_verb(ctx, state, item)
        elif isinstance(item, ast.Syscalls):
            lower_syscalls(ctx, state, item)


def _expand_includes(ctx: DaemonState, items: Iterable[ast.PhaseItem], stack: list[str]
                     ) -> Iterator[ast.Verb | ast.Allow | ast.Syscalls]:
    """The statements of ``items`` with each 'include' replaced by its fragment's."""
    for item in items:
        if not isinstance(item, ast.Include):
            yield item
            continue
        name = item.name.text
        frag = ctx.program.fragments.get(name)
        if frag is None:
            ctx.sink.error("SEL213", f"unknown fragment '{name}'", item.name.span,
                           hint=_fragment_hint(ctx, item))
            continue
        if name in stack:
            ctx.sink.error("SEL320", f"fragment '{name}' includes itself",
                           item.name.span)
            continue
        yield from _expand_includes(ctx, frag.body, stack + [name])


def _fragment_hint(ctx: DaemonState, item: ast.Include) -> str:
    """SEL213's hint: the 'use' line that brings the fragment in, when a library near the
    including file defines it; else the closest fragment of the files read. A standalone text
    (standard input) has no folder to look in: the closest fragment, or the bundle."""
    name = item.name.text
    if ctx.program.standalone:  # no file around it to look in: the fragment must come along
        return did_you_mean(name, ctx.program.fragments) or (
            "a module read from standard input has only the fragments it defines itself; "
            + BUNDLE_HINT)
    homes = fragment_homes(name, item.span.path)
    if homes:
        where = os.path.basename(item.span.path)
        return (f"add 'use \"{homes[0]}\"' at the top of {where}: that file defines "
                f"fragment '{name}'")
    return did_you_mean(name, ctx.program.fragments) or (
        "a fragment is defined in this file or in a file it reads with 'use \"PATH\"'")


def _lower_allow(ctx: DaemonState, state: PhaseState, node: ast.Allow) -> None:
    """A raw 'allow' as one rule, once its target, class and permissions resolve."""
    target = resolve_target(ctx, node.target, state)
    tclass = resolve_class(ctx, node.tclass)
    perms = resolve_perms(ctx, tclass, node.perms) if tclass else None
    if target and tclass and perms:
        ctx.rules.append(ir.Allow(state.domain, target, tclass, perms,
                                  ctx.origin(node.span, item_text(node))))


def _lower_verb(ctx: DaemonState, state: PhaseState, node: ast.Verb) -> None:
    """A verb statement expanded through its form's templates."""
    verb = node.name.text
    if verb not in vocab.VERBS:
        ctx.sink.error("SEL206", f"unknown verb '{verb}'", node.name.span,
                       hint=did_you_mean(verb, vocab.VERBS) or
                       "see dsl/REFERENCE.md for the vocabulary")
        return
    words = [(ast.ArgKind.WORD, verb)] + [(a.kind, a.text) for a in node.args]
    found = vocab.match(words)
    if found is None:
        _wrong_arguments(ctx, node)
        return
    form, params = found
    is_entry = state.node.name.text == ENTRY_PHASE
    if form.entry_only and not is_entry and ENTRY_PHASE in ctx.phases:
        ctx.sink.error("SEL319", f"'{form.text()}' only makes sense in the "
                       f"'{ENTRY_PHASE}' phase", node.span,
                       hint=f"move it to phase '{ENTRY_PHASE}', the phase exec enters")
        return
    opener = None
    if form.uses:
        opener = _opener(ctx, state, form, node)
        if opener is None:
            return
    if form.opens:
        state.opens.setdefault(form.opens, node)
    bindings = _bind_params(ctx, form, params, node)
    if bindings is None:
        return
    origin = ctx.origin(node.span, item_text(node))
    verb_list(ctx, state, form.text(), node)
    for tpl in form.rules:
        if tpl.when == "privileged_port" and not bindings.get("$privileged"):
            continue
        sources = _symbol(ctx, tpl.source, state, opener, bindings)
        targets = _symbol(ctx, tpl.target, state, opener, bindings)
        for source in sources:
            for target in targets:
                ctx.rules.append(ir.Allow(source, target, tpl.tclass, tpl.perms, origin))
    for tt in form.transitions:
        for source in _symbol(ctx, tt.source, state, opener, bindings):
            for target in _symbol(ctx, tt.target, state, opener, bindings):
                for default in _symbol(ctx, tt.default, state, opener, bindings):
                    ctx.rules.append(ir.TypeTransition(source, target, tt.tclass, default,
                                                       origin))
    if opener is not None:
        # The resource was opened by an earlier phase, so its fd carries that phase's label:
        # using it needs 'fd use' on the opener even when no rule of the form names the
        # opener ('tun io' acts on tun_tap_device_t through the fd startup opened).
        ctx.rules.append(ir.Allow(state.domain, opener, "fd", ("use",),
                                  ctx.origin(node.span, item_text(node), ir.Cause.PHASE)))


def _wrong_arguments(ctx: DaemonState, node: ast.Verb) -> None:
    """SEL207 at the first word no form of the verb accepts, with the closest forms."""
    verb, args = node.name.text, node.args
    words = [(ast.ArgKind.WORD, verb)] + [(a.kind, a.text) for a in args]

    def fits(form: vocab.VerbForm) -> int:
        n = 0
        for pat, (kind, text) in zip(form.pattern, words, strict=False):
            if not (pat.startswith("<") or (kind is ast.ArgKind.WORD and text == pat)):
                break
            n += 1
        return n

    forms = vocab.forms_of(verb)
    best = max(fits(f) for f in forms)
    closest = [f for f in forms if fits(f) == best]
    if best < len(words):
        span = args[best - 1].span
    else:  # every word fits, but something is missing after the last one
        last = args[-1].span if args else node.name.span
        span = Span.point(last.path, last.end_line, last.end_column)
    hint = None
    for i, arg in enumerate(args, start=1):
        if arg.kind is ast.ArgKind.WORD and arg.text in vocab.VERBS and vocab.match(words[:i]):
            span = arg.span
            hint = (f"'{arg.text}' starts another statement: put it on a line of its own, "
                    "or separate the two with ';'")
            break
    # One word left out? Suggest it only when a single insertion makes a valid statement.
    guesses = {" ".join(f'"{t}"' if k is ast.ArgKind.STRING else t for k, t in guess)
               for guess in (words[:best] + [(ast.ArgKind.WORD, f.pattern[best])] + words[best:]
                             for f in closest
                             if best < len(f.pattern) and not f.pattern[best].startswith("<"))
               if vocab.match(guess)}
    if hint is None and len(guesses) == 1:
        hint = f"did you mean '{guesses.pop()}'?"
    if hint is None and len(closest) == 1:
        form = closest[0]
        want = form.pattern[best] if best < len(form.pattern) else ""
        hint = (f"expected {want if want.startswith('<') else repr(want)} here: {form.text()}"
                if best < len(form.pattern) else
                f"nothing may follow '{form.text()}'")
    if hint is None:
        hint = "forms: " + " | ".join(f.text() for f in closest)
    message = (f"'{' '.join(t for _, t in words)}' is incomplete" if best == len(words)
               else f"'{verb}' does not take these arguments")
    ctx.sink.error("SEL207", message, span, hint=hint)


def _opener(ctx: DaemonState, state: PhaseState, form: vocab.VerbForm,
            node: ast.Verb) -> str | None:
    """The domain of the earlier phase that opened the resource ``form`` uses (SEL314 if none)."""
    openers = _or_list([f"'{f.text()}'" for f in vocab.FORMS if f.opens == form.uses])
    what = _RESOURCES.get(form.uses or "", f"{form.uses} object")
    if state.node.name.text == ENTRY_PHASE:
        ctx.sink.error("SEL314", f"'{form.text()}' uses a {what} opened by an earlier "
                       f"phase, but '{ENTRY_PHASE}' is the first phase", node.span,
                       hint=f"open it here instead with {openers}")
        return None
    for ancestor in ctx.ancestors(state.node.name.text):
        if form.uses in ctx.phases[ancestor].opens:
            return ctx.phases[ancestor].domain
    ctx.sink.error("SEL314", f"phase '{state.node.name.text}' asks for more than its "
                   f"earlier phases have: '{form.text()}' uses a {what} that no earlier "
                   "phase opens", node.span,
                   hint=f"open it in phase '{state.parent or ENTRY_PHASE}' with {openers} "
                        "(an fd keeps the label of the phase that opened it)")
    return None


def _symbol(ctx: DaemonState, symbol: str, state: PhaseState, opener: str | None,
            bindings: dict) -> list[str]:
    """The types a template symbol stands for in this phase."""
    if symbol == SELF:
        return [state.domain]
    if symbol == "$opener":
        return [opener] if opener else []
    if symbol == "$starter":
        return [ctx.starter]
    if symbol.startswith("$"):
        value = bindings.get(symbol)
        return list(value) if isinstance(value, tuple) else ([value] if value else [])
    return [symbol]


def _bind_params(ctx: DaemonState, form: vocab.VerbForm, params: list[str],
                 node: ast.Verb) -> dict | None:
    """The form's parameters bound to resolved types; None when one does not resolve."""
    bindings: dict = {}
    slots = form.params
    args = [a for a, pat in zip(node.args, form.pattern[1:], strict=False) if pat.startswith("<")]
    ok = True
    for slot, arg in zip(slots, args, strict=False):
        if slot == "<port>":
            resolved = resolve_port(ctx, arg, form.protocol or "tcp")
            if resolved is None:
                ok = False
                continue
            types, privileged = resolved
            bindings["$port"] = types
            bindings["$privileged"] = privileged
        elif slot in ("<file>", "<dir>", "<exec>"):
            if arg.kind is not ast.ArgKind.WORD:
                _not_a_name(ctx, arg)
                ok = False
                continue
            name = resolve_type(ctx, ast.Word(arg.text, arg.span))
            ok = ok and name is not None
            bindings["$arg"] = name
        elif slot == "<domain>":
            if arg.kind is not ast.ArgKind.WORD:
                _not_a_name(ctx, arg)
                ok = False
                continue
            name = resolve_type(ctx, ast.Word(arg.text, arg.span), allow_attribute=False)
            ok = ok and name is not None
            bindings["$domain"] = name
    return bindings if ok else None


def _not_a_name(ctx: DaemonState, arg: ast.Arg) -> None:
    """SEL207 for an argument that should be a type name."""
    hint = (f"names are not quoted: {arg.text}" if arg.kind is ast.ArgKind.STRING and
            re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", arg.text) else None)
    ctx.sink.error("SEL207", f"expected a type name here, found {arg.kind} '{arg.text}'",
                   arg.span, hint=hint)
