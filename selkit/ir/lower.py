"""AST → IR: check the daemon's structure, resolve names, expand verbs into rules.

This is where an author's statement becomes rules with a source span. Phase semantics the
compiler owns (typebounds, setcurrent, fd plumbing, entry) are added afterwards by the passes
in :mod:`selkit.ir.passes`, so lowering only records what the author asked for.

This module drives the steps, each a module of its own over one
:class:`~selkit.ir.daemon_state.DaemonState`: :mod:`~selkit.ir.declare` (module name, phases,
files, execs, user, file contexts), :mod:`~selkit.ir.switches` (the phase graph and the setcon()
hook), :mod:`~selkit.ir.verbs` (phase bodies, with :mod:`~selkit.ir.names` resolving names) and
:mod:`~selkit.ir.forbids`.
"""

from __future__ import annotations

from collections.abc import Iterable

from selkit.diagnostics import Diagnostic, DiagnosticSink, Related, Severity, Span
from selkit.dsl import ast
from selkit.dsl.loader import Program
from selkit.ir import declare
from selkit.ir import nodes as ir
from selkit.ir.daemon_state import DaemonState
from selkit.ir.declare import DOMAIN_ATTRIBUTES, SWITCHING_ATTRIBUTES, fc_escape
from selkit.ir.forbids import forbid_group_patterns, forbids
from selkit.ir.kb import KnowledgeBase
from selkit.ir.switches import switches
from selkit.ir.verbs import lower_phase

__all__ = ["DOMAIN_ATTRIBUTES", "MODULE_VERSION", "SWITCHING_ATTRIBUTES", "fc_escape",
           "forbid_group_patterns", "lower", "type_collisions"]

MODULE_VERSION = "1.0.0"


def lower(program: Program, kb: KnowledgeBase) -> tuple[ir.PolicyModule, ...]:
    """Lower every daemon of ``program``; raise DiagnosticError listing all problems found."""
    sink = DiagnosticSink()
    seen: dict[str, ast.Daemon] = {}
    modules = []
    for daemon in program.main.of(ast.Daemon):
        first = seen.get(daemon.name.text)
        if first is not None:
            sink.error("SEL303", f"daemon '{daemon.name.text}' is declared twice",
                       daemon.name.span, related=[Related(first.name.span, "first declared here")])
            continue
        seen[daemon.name.text] = daemon
        module = _lower_daemon(DaemonState(program, daemon, kb, sink))
        if module is not None:
            modules.append(module)
    sink.items.extend(type_collisions(modules))
    if not seen and not sink.has_errors:
        sink.error("SEL907", f"'{program.main.path}' declares no daemon",
                   Span.point(program.main.path),
                   hint="a policy file holds at least one 'daemon NAME { ... }'")
    sink.check()
    return tuple(modules)


def _declarations(module: ir.PolicyModule) -> dict[str, tuple[Span, str]]:
    """Each type ``module`` declares, with the statement that declares it and what it is."""
    out: dict[str, tuple[Span, str]] = {}
    for phase in module.phases:
        out[phase.domain] = (phase.origin.span, f"the domain of its phase '{phase.name}'")
    for decl in module.types:
        if decl.name in out:
            continue
        if decl.role is ir.TypeRole.EXEC:
            what = "its exec type"
        else:
            what = f"the type of its file '{ir.own_name_of(module.daemon, decl.name)}'"
        out[decl.name] = (decl.origin.span, what)
    return out


def type_collisions(modules: Iterable[ir.PolicyModule]) -> list[Diagnostic]:
    """SEL220: two daemons compiled together that declare the same type name (``a_b`` with
    phase ``c`` and ``a`` with file ``b_c`` both make ``a_b_c_t``); checkmodule and semodule
    would refuse the second declaration only at link time."""
    first: dict[str, tuple[ir.PolicyModule, Span, str]] = {}
    out = []
    for module in sorted(modules, key=lambda m: m.phases[0].origin.span if m.phases else
                         Span.point(m.source_path)):
        for name, (span, what) in sorted(_declarations(module).items(),
                                         key=lambda kv: kv[1][0]):
            seen = first.get(name)
            if seen is None:
                first[name] = (module, span, what)
                continue
            other, other_span, other_what = seen
            if other.daemon == module.daemon:
                continue  # one daemon declaring a name twice is SEL208, found while lowering
            out.append(Diagnostic(
                "SEL220", f"type '{name}' is declared by two daemons: '{module.daemon}' "
                f"({what}) and '{other.daemon}' ({other_what})", span,
                hint="types are named <daemon>_<phase>_t, <daemon>_<file>_t and "
                     "<daemon>_startup_exec_t; rename a daemon, phase or file so the names differ",
                related=(Related(other_span, f"'{other.daemon}' declares '{name}' here"),)))
    return out


def _errors_since(sink: DiagnosticSink, start: int) -> bool:
    """True if an error (not a warning) was reported after the first ``start`` items."""
    return any(d.severity is Severity.ERROR for d in sink.items[start:])


def _lower_daemon(ctx: DaemonState) -> ir.PolicyModule | None:
    """One daemon's module; None when it has errors (reported to ``ctx.sink``)."""
    sink = ctx.sink
    start = len(sink.items)
    if not declare.VALID_NAME.match(ctx.name):
        sink.error("SEL215", f"daemon name '{ctx.name}' is not a valid module name",
                   ctx.daemon.name.span,
                   hint="use lower-case letters, digits and '_', starting with a letter")
        return None
    module_name = declare.module_name(ctx)
    declare.declare_phases(ctx)
    declare.declare_files(ctx)
    execs = declare.declare_execs(ctx)
    user = declare.user(ctx)
    switch_nodes = switches(ctx)
    for name in ctx.phase_order():
        lower_phase(ctx, ctx.phases[name])
    forbid_patterns = forbids(ctx)
    if _errors_since(sink, start):
        return None
    phases = tuple(
        ir.Phase(n, s.domain, s.parent, ctx.origin(s.node.name.span, f"phase {n}",
                                                   ir.Cause.DECL))
        for n, s in ((n, ctx.phases[n]) for n in ctx.phase_order()))
    for fc in ctx.fcs:
        declare.check_fc_conflict(ctx, fc, module_name)
    if _errors_since(sink, start):
        return None
    warnings = tuple(d for d in sink.items[start:] if d.severity is not Severity.ERROR)
    return ir.PolicyModule(
        name=module_name, daemon=ctx.name, version=MODULE_VERSION, notes=warnings,
        source_path=ctx.program.main.path, phases=phases, types=tuple(ctx.types),
        rules=tuple(ctx.rules), file_contexts=tuple(ctx.fcs), switches=switch_nodes,
        forbids=forbid_patterns, user=user, mls=ctx.kb.mls, starter=ctx.starter,
        syscall_statements=tuple(ctx.syscall_statements),
    ) if execs else None
