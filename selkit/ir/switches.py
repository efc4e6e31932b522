"""Switches while lowering: the phase graph (parents, order, reachability) and the setcon()
hook a switch describes (its C anchors, context expression and build macro)."""

from __future__ import annotations

from typing import TypeVar

from selkit.csyntax import C_IDENTIFIER, balanced_brackets
from selkit.diagnostics import Related, did_you_mean
from selkit.dsl import ast
from selkit.dsl.pretty import item_text
from selkit.ir import nodes as ir
from selkit.ir.daemon_state import DaemonState
from selkit.ir.nodes import ENTRY_PHASE, STEADY_PHASE


def switches(ctx: DaemonState) -> tuple[ir.Switch, ...]:
    """The daemon's switches; sets each phase's parent and reports a broken phase graph."""
    out = []
    incoming: dict[str, ast.Switch] = {}
    unknown = False
    for node in ctx.daemon.of(ast.Switch):
        ok = True
        for word in (node.source, node.target):
            if word.text not in ctx.phases:
                ok, unknown = False, True
                ctx.sink.error("SEL210", f"switch names an unknown phase '{word.text}'",
                               word.span, hint=did_you_mean(word.text, ctx.phases))
        if not ok:
            continue
        src, dst = node.source.text, node.target.text
        if src == dst:
            ctx.sink.error("SEL316", "a switch must go to another phase", node.target.span)
            continue
        if dst == ENTRY_PHASE:
            ctx.sink.error("SEL307", f"nothing may switch back into '{ENTRY_PHASE}'",
                           node.target.span,
                           hint="phases only lose privileges; the entry phase is left once")
            continue
        if src == STEADY_PHASE:
            # Recorded anyway, so the phase it enters is not also "never switched into".
            ctx.sink.error("SEL327", f"a switch out of '{STEADY_PHASE}': '{STEADY_PHASE}' is "
                           "the last phase, the one the daemon lives in, and holds no "
                           "setcurrent or dyntransition", node.source.span,
                           hint=f"switch into '{dst}' from an earlier phase, or make "
                                f"'{dst}' the last phase: rename it '{STEADY_PHASE}' and "
                                f"'{STEADY_PHASE}' to another name")
        if dst in incoming:
            ctx.sink.error("SEL308", f"phase '{dst}' is entered by two switches; each "
                           "phase has one parent (its typebounds)", node.target.span,
                           related=[Related(incoming[dst].span, "first switch here")])
            continue
        incoming[dst] = node
        ctx.phases[dst].parent = src
        out.append(_switch(ctx, node))
    for name, state in ctx.phases.items():
        # Without an entry phase, or with a switch naming an unknown phase, "never switched
        # into" only repeats the error already reported.
        if unknown or ENTRY_PHASE not in ctx.phases:
            break
        if name != ENTRY_PHASE and state.parent is None:
            ctx.sink.error("SEL309", f"phase '{name}' is never switched into",
                           state.node.name.span,
                           hint=f"add 'switch {ENTRY_PHASE} -> {name} {{ option \"...\" }}'")
    _check_reachable(ctx)
    return tuple(out)


def _check_reachable(ctx: DaemonState) -> None:
    """SEL309 for a phase whose parents form a cycle (its parent is then dropped)."""
    for name, state in ctx.phases.items():
        seen, cur = {name}, state.parent
        while cur is not None:
            if cur in seen:
                ctx.sink.error("SEL309", f"phase '{name}' is not reachable from "
                               f"'{ENTRY_PHASE}' (the switches form a cycle)",
                               state.node.name.span)
                state.parent = None
                break
            seen.add(cur)
            cur = ctx.phases[cur].parent if cur in ctx.phases else None


def _switch(ctx: DaemonState, node: ast.Switch) -> ir.Switch:
    """One switch node, its option, patch and hook statements checked."""
    options = [i for i in node.items if isinstance(i, ast.Option)]
    patches = [i for i in node.items if isinstance(i, ast.PatchAnchor)]
    if not options and not patches:
        ctx.sink.error("SEL317", "a switch must say how the daemon switches", node.span,
                       hint='add option "-z {context}" (an existing option) or '
                            'patch "FILE" replace "TEXT" (where the setcon() call is)')
    for extra in (options[1:] + patches[1:]):
        ctx.sink.error("SEL325", "a switch has at most one option and one patch", extra.span)
    for opt in options:
        if "{context}" not in opt.template.value:
            ctx.sink.error("SEL318", "the option template must contain {context}",
                           opt.template.span, hint='for example "--setcon {context}"')
    patch = _anchor(ctx, patches[0]) if patches else None
    prepare = _one(ctx, node, ast.PrepareAnchor, "prepare")
    context = _one(ctx, node, ast.ContextExpr, "context")
    build = _one(ctx, node, ast.BuildMacro, "build")
    fatal = _one(ctx, node, ast.FatalReport, "fatal")
    _check_hook(ctx, node, patches[0] if patches else None, prepare, context, build)
    _check_fatal(ctx, fatal, patches[0] if patches else None)
    return ir.Switch(
        node.source.text, node.target.text,
        options[0].template.value if options else None,
        ctx.origin(node.span, f"switch {node.source.text} -> {node.target.text}",
                   ir.Cause.PHASE),
        patch=patch,
        prepare=_anchor(ctx, prepare) if prepare else None,
        context=_value(ctx, context, context.expr) if context else None,
        build=_value(ctx, build, build.macro) if build else None,
        fatal=_value(ctx, fatal, fatal.report) if fatal else None)


#: The switch statements given at most once.
_Single = TypeVar("_Single", ast.PrepareAnchor, ast.ContextExpr, ast.BuildMacro,
                  ast.FatalReport)


def _one(ctx: DaemonState, node: ast.Switch, kind: type[_Single], keyword: str
         ) -> _Single | None:
    """The first item of ``kind`` in the switch; SEL232 for each further one."""
    items = [i for i in node.items if isinstance(i, kind)]
    for extra in items[1:]:
        ctx.sink.error("SEL232", f"a switch has at most one '{keyword}'", extra.span,
                       related=[Related(items[0].span, "first given here")])
    return items[0] if items else None


def _anchor(ctx: DaemonState, item: ast.PatchAnchor | ast.PrepareAnchor) -> ir.Anchor:
    """The IR anchor of a 'patch' or 'prepare' statement."""
    return ir.Anchor(item.file.value, ir.AnchorPosition(item.position.text),
                     item.anchor.value, ctx.origin(item.span, item_text(item)),
                     item.anchor.span)


def _value(ctx: DaemonState, item: ast.ContextExpr | ast.BuildMacro | ast.FatalReport,
           text: ast.Str) -> ir.SpecValue:
    """The IR value of a 'context', 'build' or 'fatal' statement."""
    return ir.SpecValue(text.value, ctx.origin(item.span, item_text(item)))


def _check_hook(ctx: DaemonState, node: ast.Switch, patch: ast.PatchAnchor | None,
                prepare: ast.PrepareAnchor | None, context: ast.ContextExpr | None,
                build: ast.BuildMacro | None) -> None:
    """SEL230-SEL239: the statements ``selkit patch`` generates the setcon() hook from."""
    if prepare is not None and patch is None:
        ctx.sink.error("SEL230", "'prepare' without 'patch': the attr fd it opens is "
                       "written by the setcon() call that 'patch' places", prepare.span,
                       hint='add patch "FILE" replace "TEXT" (the existing setcon() call)')
    for item, what in ((context, "context"), (build, "build")):
        if item is not None and patch is None:
            ctx.sink.error("SEL234", f"'{what}' without 'patch': nothing uses it",
                           item.span, hint='add patch "FILE" replace "TEXT", or remove it')
    # The new forms need the whole hook; the older 'patch after|before' alone stays valid
    # (it only records where startup ends) and 'selkit patch' reports what it lacks.
    generated = patch is not None and (prepare is not None or
                                       patch.position.text == "replace")
    if generated and patch is not None and context is None:
        ctx.sink.error("SEL231", "the setcon() hook needs 'context': the C expression "
                       "that holds the requested context", patch.span,
                       hint='add for example context "context" (the -z argument)')
    if generated and patch is not None and build is None:
        ctx.sink.error("SEL239", "the setcon() hook needs 'build': the macro the project "
                       "defines when built with libselinux", patch.span,
                       hint='add for example build "HAVE_SELINUX"')
    if prepare is not None and prepare.position.text != "before":
        ctx.sink.error("SEL238", f"'prepare' goes before its anchor, not "
                       f"'{prepare.position.text}'", prepare.position.span,
                       hint='write prepare "FILE" before "TEXT" (the chroot() call)')
    if prepare is not None and patch is not None:
        if prepare.file.value != patch.file.value:
            ctx.sink.error("SEL233", "'prepare' and 'patch' name different files; the "
                           "attr fd is kept in one translation unit", prepare.file.span,
                           related=[Related(patch.file.span, "the setcon() call's file")],
                           hint=f"move the prepare anchor into {patch.file.raw}")
        elif prepare.anchor.value == patch.anchor.value:
            ctx.sink.error("SEL233", "'prepare' and 'patch' use the same anchor",
                           prepare.anchor.span,
                           related=[Related(patch.anchor.span, "the setcon() call's anchor")],
                           hint="prepare goes before the chroot(), patch at the setcon()")
    strings = (patch.anchor if patch else None, prepare.anchor if prepare else None,
               context.expr if context else None, build.macro if build else None)
    for text in strings:
        if text is not None and not text.value.strip():
            ctx.sink.error("SEL235", "an empty string here means nothing", text.span)
    for anchor in (patch, prepare):
        if anchor is not None:
            _check_source_path(ctx, anchor.file)
    if context is not None and (";" in context.expr.value or "\n" in context.expr.value
                                or not balanced_brackets(context.expr.value)):
        ctx.sink.error("SEL235", "'context' is one C expression: no ';', no line break, "
                       "balanced brackets", context.expr.span)
    if build is not None and build.macro.value.strip() and \
            not C_IDENTIFIER.fullmatch(build.macro.value):
        ctx.sink.error("SEL236", f"'{build.macro.value}' is not a C macro name",
                       build.macro.span, hint='the macro tested with #ifdef, for example '
                                              '"HAVE_SELINUX"')


def _check_fatal(ctx: DaemonState, fatal: ast.FatalReport | None,
                 patch: ast.PatchAnchor | None) -> None:
    """SEL234 without 'patch'; SEL244 unless it is one line of C with balanced brackets that
    uses ``{message}`` (it becomes the body of a one-line macro)."""
    if fatal is None:
        return
    if patch is None:
        ctx.sink.error("SEL234", "'fatal' without 'patch': nothing uses it", fatal.span,
                       hint='add patch "FILE" replace "TEXT", or remove it')
    code = fatal.report.value
    if "{message}" not in code or "\n" in code or code.rstrip().endswith((";", "\\")) \
            or not balanced_brackets(code):
        ctx.sink.error("SEL244", "'fatal' is one line of C that reports {message} (a const "
                       "char *): no line break, no trailing ';', balanced brackets",
                       fatal.report.span,
                       hint='for example fatal "msg(M_FATAL, \\"%s\\", {message})"')


def _check_source_path(ctx: DaemonState, path: ast.Str) -> None:
    """SEL237: a path relative to the source tree, staying inside it."""
    value = path.value
    parts = value.split("/")
    if not value or value.startswith("/") or ".." in parts or "" in parts or \
            any(ch in value for ch in "\n\t\\"):
        ctx.sink.error("SEL237", f"'{value}' is not a path inside the source tree",
                       path.span, hint='a relative path such as "src/main.c"')
