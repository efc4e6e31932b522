"""Name resolution while lowering: types, attributes, classes, permissions and ports.

A name the author writes resolves to the daemon's own types (its files, phases and exec type)
first, then to the base policy's; an unknown name is reported with the closest known ones.
"""

from __future__ import annotations

from selkit.diagnostics import closest, did_you_mean
from selkit.dsl import ast
from selkit.ir.daemon_state import DaemonState, PhaseState
from selkit.ir.nodes import SELF, own_type_name


def _own_names(ctx: DaemonState) -> dict[str, str]:
    """The daemon's own names (files, declared types) and the types they stand for."""
    names = {n: own_type_name(ctx.name, n) for n in ctx.files}
    names.update({t.name: t.name for t in ctx.types})
    return names


def resolve_type(ctx: DaemonState, word: ast.Word, *, allow_attribute: bool = True) -> str | None:
    """The type or attribute a name stands for (SEL201, SEL209 and None otherwise)."""
    own = _own_names(ctx)
    if word.text in own:
        return own[word.text]
    if word.text in ctx.phases:
        return ctx.phases[word.text].domain
    if word.text in {s.domain for s in ctx.phases.values()}:
        return word.text
    if word.text in ctx.kb.types:
        return word.text
    if word.text in ctx.kb.attributes:
        if allow_attribute:
            return word.text
        ctx.sink.error("SEL209", f"'{word.text}' is an attribute; a type is needed here",
                       word.span, hint=f"'{word.text}' stands for every type that has it: "
                                       "name one type")
        return None
    candidates = set(own) | set(ctx.phases) | set(ctx.kb.types) | set(ctx.kb.attributes)
    ctx.sink.error("SEL201", f"unknown type '{word.text}'", word.span,
                   hint=did_you_mean(word.text, candidates))
    return None


def resolve_target(ctx: DaemonState, word: ast.Word, state: PhaseState) -> str | None:
    """A rule target: ``self`` is the phase's domain, anything else a type."""
    if word.text == SELF:
        return state.domain
    return resolve_type(ctx, word)


def resolve_class(ctx: DaemonState, word: ast.Word) -> str | None:
    """A class of the base policy (SEL202 and None otherwise)."""
    if word.text in ctx.kb.classes:
        return word.text
    ctx.sink.error("SEL202", f"unknown class '{word.text}'", word.span,
                   hint=did_you_mean(word.text, ctx.kb.classes))
    return None


def resolve_perms(ctx: DaemonState, tclass: str, perms: ast.PermSet) -> tuple[str, ...] | None:
    """The sorted permissions of a set on ``tclass`` (SEL203 and None if one is unknown)."""
    valid = ctx.kb.classes[tclass]
    if perms.kind is ast.PermKind.ALL:
        return tuple(sorted(valid))
    out, ok = set(), True
    for word in perms.perms:
        if word.text not in valid:
            ok = False
            ctx.sink.error("SEL203", f"unknown permission '{word.text}' for class "
                           f"'{tclass}'", word.span, hint=did_you_mean(word.text, valid))
        out.add(word.text)
    return tuple(sorted(out)) if ok else None


def resolve_port(ctx: DaemonState, arg: ast.Arg,
                 protocol: str) -> tuple[tuple[str, ...], bool] | None:
    """The port types a port argument stands for, and whether any port is below 1024."""
    if arg.kind is ast.ArgKind.INT:
        port = int(arg.text)
        if not 1 <= port <= 65535:
            ctx.sink.error("SEL205", f"port {arg.text} is out of range", arg.span,
                           hint="ports are 1-65535")
            return None
        return (ctx.kb.port_type_for(protocol, port),), port < 1024
    if arg.kind is ast.ArgKind.RANGE:
        low_text, high_text = arg.text.split("-", 1)
        low, high = int(low_text), int(high_text)
        if not (1 <= low <= 65535 and 1 <= high <= 65535) or low > high:
            ctx.sink.error("SEL205", f"port range {arg.text} is invalid", arg.span,
                           hint="a range is LOW-HIGH with 1 <= LOW <= HIGH <= 65535")
            return None
        return _types_in_range(ctx, protocol, low, high), low < 1024
    if arg.kind is ast.ArgKind.WORD:
        if arg.text in ctx.kb.port_types:
            ranges = [r for r in ctx.kb.port_ranges_of(arg.text) if r.protocol == protocol]
            return (arg.text,), any(r.low < 1024 for r in ranges)
        ctx.sink.error("SEL204", f"unknown port type '{arg.text}'", arg.span,
                       hint=_port_hint(ctx, arg.text, protocol))
        return None
    ctx.sink.error("SEL205", f"expected a port, found {arg.kind} '{arg.text}'", arg.span,
                   hint="give a port number (53), a range (6000-6010) or a port type")
    return None


def _port_hint(ctx: DaemonState, word: str, protocol: str) -> str:
    """SEL204's hint: the port type ``word`` names by its service ('ssh' is ssh_port_t, the
    way the base names its port types), else the closest port type, with its ports."""
    suffix = "_port_t"
    services = {t[:-len(suffix)]: t for t in ctx.kb.port_types if t.endswith(suffix)}
    found = services.get(word)
    if found is None:
        near = closest(word, ctx.kb.port_types) or [services[s] for s in closest(word, services)]
        found = near[0] if near else None
    if found is None:
        return "give a port number (53), a range (6000-6010) or a port type"
    ports = ", ".join(f"{r.low}" if r.low == r.high else f"{r.low}-{r.high}"
                      for r in ctx.kb.port_ranges_of(found) if r.protocol == protocol)
    where = f" ({protocol} {ports})" if ports else f" (no {protocol} port in the base)"
    return f"did you mean '{found}'{where}? a port type is written in full"


def _types_in_range(ctx: DaemonState, protocol: str, low: int, high: int) -> tuple[str, ...]:
    """The port types covering ports ``low``..``high`` of ``protocol``."""
    cuts = {low}
    for pc in ctx.kb.portcons:
        if pc.protocol == protocol:
            for edge in (pc.low, pc.high + 1):
                if low < edge <= high:
                    cuts.add(edge)
    return tuple(sorted({ctx.kb.port_type_for(protocol, p) for p in cuts}))
