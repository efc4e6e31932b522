"""Declarations while lowering: the module name, phases, files, execs, the user and file
contexts, each new type checked against the daemon's other types and the base policy."""

from __future__ import annotations

import re

from selkit.diagnostics import Related, Span, did_you_mean
from selkit.dsl import ast
from selkit.dsl.pretty import item_text
from selkit.ir import nodes as ir
from selkit.ir.daemon_state import DaemonState, PhaseState
from selkit.ir.names import resolve_type
from selkit.ir.nodes import DEFAULT_STARTER, ENTRY_PHASE, REQUIRED_PHASES, own_type_name

#: The file kind each word after a file's regex names (``regular`` is ``file``).
FILE_KINDS = {
    "any": ir.FileKind.ANY, "regular": ir.FileKind.FILE, "file": ir.FileKind.FILE,
    "dir": ir.FileKind.DIR, "symlink": ir.FileKind.SYMLINK, "socket": ir.FileKind.SOCKET,
    "pipe": ir.FileKind.PIPE, "char": ir.FileKind.CHAR, "block": ir.FileKind.BLOCK,
}

#: Attributes the refpolicy base requires on each kind of type: its neverallows and rules are
#: written over them, so a type outside them is unusable (a domain outside `domain` cannot run).
DOMAIN_ATTRIBUTES = ("domain",)
SWITCHING_ATTRIBUTES = ("set_curr_context",)
EXEC_ATTRIBUTES = ("entry_type", "exec_type", "file_type", "non_auth_file_type",
                   "non_security_file_type")
FILE_ATTRIBUTES = ("file_type", "non_auth_file_type", "non_security_file_type")

#: A valid module, daemon, phase or file name (a part of a type name).
VALID_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_FC_SPECIAL = re.compile(r"([.^$*+?()\[\]{}|\\])")


def fc_escape(path: str) -> str:
    """A file-context regex matching exactly ``path``."""
    return _FC_SPECIAL.sub(r"\\\1", path)


def _raw_offset(body: str, index: int) -> int:
    """The offset in a string's source text of character ``index`` of its value."""
    i = 0
    while index > 0 and i < len(body):
        i += 2 if body[i] == "\\" and i + 1 < len(body) else 1
        index -= 1
    return i


def module_name(ctx: DaemonState) -> str:
    """The module's name: the daemon's, or the one 'module' gives (SEL215, SEL219, SEL221,
    SEL326)."""
    nodes = ctx.daemon.of(ast.ModuleName)
    for extra in nodes[1:]:
        ctx.sink.error("SEL326", "a daemon has at most one 'module'", extra.span,
                       related=[Related(nodes[0].span, "first given here")])
    if not nodes:
        _check_module_name(ctx, ctx.name, ctx.daemon.name.span, implicit=True)
        return ctx.name
    name = nodes[0].name.text
    if not VALID_NAME.match(name):
        ctx.sink.error("SEL215", f"module name '{name}' is not valid", nodes[0].name.span,
                       hint="use lower-case letters, digits and '_', starting with a letter")
    else:
        _check_module_name(ctx, name, nodes[0].name.span, implicit=False,
                           replaces=nodes[0].replaces is not None)
    return name


def _check_module_name(ctx: DaemonState, name: str, span: Span, *, implicit: bool,
                       replaces: bool = False) -> None:
    """SEL221 for the base policy's own module, SEL219 for one the store keeps disabled,
    the warning SEL223 for a store module replaced without 'replaces'."""
    if ctx.kb.is_base_module(name):
        # semodule would install it over the base at a higher priority: the link then lacks
        # every class, type and rule of the base, and fails on names the spec never wrote.
        how = (f"add 'module {name}_local' (or another name) to the daemon" if implicit
               else f"drop this 'module' (the module is then named '{ctx.name}', after the "
                    "daemon) or name another module")
        ctx.sink.error(
            "SEL221", f"module '{name}' is the base policy's own module: installing this one "
            "would replace the whole base policy, which every other module is linked against",
            span, hint=f"{how}; a path the base already labels keeps the base's type, which "
                       "statements name directly")
        return
    _check_not_disabled(ctx, name, span, implicit=implicit)
    if name in ctx.kb.enabled_modules and not replaces:
        _warn_replaced(ctx, name, span, implicit=implicit)


def _warn_replaced(ctx: DaemonState, name: str, span: Span, *, implicit: bool) -> None:
    """SEL223: installing the module removes the store's module of the same name (semodule
    installs ours at a higher priority), which a spec says on purpose with 'replaces'."""
    confined = [n.path.value for n in ctx.daemon.of(ast.Exec)
                if name in ctx.kb.file_contexts.get((fc_escape(n.path.value), ir.FileKind.FILE),
                                                    ("", ()))[1]]
    taken = ctx.kb.enabled_modules | ctx.kb.disabled_modules
    other = next((n for n in (ctx.name, f"{ctx.name}_local", f"{name}_local")
                  if n != name and n not in taken and not ctx.kb.is_base_module(n)), "NAME")
    rename = f"add 'module {other}'" if implicit else f"name it 'module {other}'"
    opt_in = f"'module {name} replaces'"
    # A module that confines the daemon's own program must be replaced (another name would
    # label its exec path twice, SEL217): only the opt-in is worth suggesting.
    hint = (f"the store's '{name}' confines {confined[0]}, this daemon's program, so this "
            f"module replaces it: say so with {opt_in}" if confined else
            f"{rename} (a name the store lacks); or, if replacing the store's '{name}' is the "
            f"point, say so with {opt_in}")
    ctx.sink.warning(
        "SEL223", f"module '{name}' is also a module of the base store: installing this one "
        f"replaces the distribution's '{name}' (its types, rules and file contexts) while it "
        "is installed", span, hint=hint)


def _check_not_disabled(ctx: DaemonState, name: str, span: Span, *, implicit: bool) -> None:
    """SEL219: semodule installs a module whose name the store lists as disabled, but
    leaves it disabled: none of its types would exist in the linked policy."""
    if name not in ctx.kb.disabled_modules:
        return
    how = (f"add 'module {name}_local' (or another name) to the daemon" if implicit
           else "name another module with 'module NAME'")
    ctx.sink.error(
        "SEL219", f"module '{name}' is disabled in the base store; semodule would install "
        "it disabled", span,
        hint=f"{how}; or, if you mean to replace the store's '{name}', enable it first "
             f"with 'semodule -e {name}'")


def check_fc_conflict(ctx: DaemonState, fc: ir.FileContext, module_name: str) -> None:
    """semodule keeps one label per (regex, kind): a clash with the base is silently lost."""
    existing = ctx.kb.file_contexts.get((fc.regex, fc.kind))
    if existing is None or existing[0] == fc.type:
        return
    base_type, owners = existing
    if module_name in owners:
        return  # this module replaces the one that declared it
    who = ", ".join(f"'{o}'" for o in owners) or "the base"
    ctx.sink.error(
        "SEL217", f"'{fc.regex}' is already labelled {base_type} by module {who} of the "
        "base policy; semodule keeps one label per path and would silently drop this one",
        fc.origin.span, hint=_clash_hint(ctx, fc, base_type, owners))


def _clash_hint(ctx: DaemonState, fc: ir.FileContext, base_type: str,
                owners: tuple[str, ...]) -> str:
    """What to do about a path another module labels: a 'file' uses the type the path has
    (a statement takes a type wherever it takes a file name); an exec path can only replace
    the module that labels it, and never the base policy's own module."""
    replaceable = [o for o in owners if not ctx.kb.is_base_module(o)]
    replace = (f"replace module '{replaceable[0]}': add 'module {replaceable[0]} replaces' to "
               "the daemon, if this daemon is the one it confines") if replaceable else None
    name = ir.own_name_of(ctx.name, fc.type)
    if fc.origin.cause is ir.Cause.DECL and name is not None:
        example = _use_with_type(ctx, name, base_type)
        hint = (f"the path already has the type {base_type}: drop this 'file' and write "
                f"{base_type} where the spec names '{name}'" +
                (f" ('{example}')" if example else " (a statement takes a type wherever it "
                                                   "takes a file name)"))
        return f"{hint}; or {replace}" if replace else hint
    if replace:
        return f"{replace}; or install the program under another path"
    return ("the base policy's own module cannot be replaced: install the program under "
            "another path")


def _use_with_type(ctx: DaemonState, name: str, type_name: str) -> str | None:
    """The first statement of the daemon's phases (fragments included) that names its own
    file ``name``, with ``type_name`` written in its place."""
    pending = [item for phase in ctx.daemon.of(ast.Phase) for item in phase.body]
    seen: set[str] = set()
    while pending:
        item = pending.pop(0)
        if isinstance(item, ast.Include):
            frag = ctx.program.fragments.get(item.name.text)
            if frag is not None and item.name.text not in seen:
                seen.add(item.name.text)
                pending[:0] = frag.body
        elif isinstance(item, ast.Verb) and any(a.is_word and a.text == name for a in item.args):
            return " ".join([item.name.text, *(type_name if a.is_word and a.text == name
                                               else a.text for a in item.args)])
        elif isinstance(item, ast.Allow) and item.target.text == name:
            return item_text(item).replace(f"allow {name}:", f"allow {type_name}:", 1)
    return None


def _new_type(ctx: DaemonState, name: str, span: Span) -> bool:
    """Record a type the daemon declares; False when the name is taken (SEL208)."""
    first = ctx.declared.get(name)
    if first is not None:
        # A file named like a phase ('file steady ...') or like the exec type
        # ('file startup_exec ...') would declare the same type twice (checkmodule refuses).
        ctx.sink.error("SEL208", f"type '{name}' is already declared by this daemon", span,
                       hint="rename the phase or file so its type is new",
                       related=[Related(first, f"'{name}' is also declared here")])
        return False
    ctx.declared[name] = span
    if ctx.kb.is_type_or_attribute(name):
        ctx.sink.error("SEL208", f"type '{name}' already exists in the base policy", span,
                       hint="rename the daemon, phase or file so its type is new")
        return False
    return True


def declare_phases(ctx: DaemonState) -> None:
    """A domain per phase; SEL305/SEL306 when a required phase is missing."""
    for node in ctx.daemon.of(ast.Phase):
        name = node.name.text
        if name in ctx.phases:
            ctx.sink.error("SEL304", f"phase '{name}' is declared twice", node.name.span,
                           related=[Related(ctx.phases[name].node.name.span,
                                            "first declared here")])
            continue
        if not VALID_NAME.match(name):
            ctx.sink.error("SEL215", f"phase name '{name}' is not a valid type name part",
                           node.name.span, hint="use lower-case letters, digits and '_'")
            continue
        domain = own_type_name(ctx.name, name)
        _new_type(ctx, domain, node.name.span)
        ctx.phases[name] = PhaseState(node, domain)
    targets = {s.target.text for s in ctx.daemon.of(ast.Switch)}
    for required, code in zip(REQUIRED_PHASES, ("SEL305", "SEL306"), strict=True):
        if required not in ctx.phases:
            what = ("the phase the daemon starts in" if required == ENTRY_PHASE
                    else "the phase after the daemon's switch")
            # A phase in its place under another name (the only root, or the only other
            # phase) is most likely a rename.
            other = [n for n in ctx.phases if n not in REQUIRED_PHASES and
                     (required != ENTRY_PHASE or n not in targets)]
            hint = (f"rename phase '{other[0]}' to '{required}' (the name is fixed)"
                    if len(other) == 1 else f"add 'phase {required} {{ ... }}'")
            ctx.sink.error(code, f"daemon '{ctx.name}' has no '{required}' phase "
                           f"({what})", ctx.daemon.name.span, hint=hint)


def declare_files(ctx: DaemonState) -> None:
    """A type and, unless its kind is unknown, a file context per 'file'."""
    for node in ctx.daemon.of(ast.FileDecl):
        name = node.name.text
        if name in ctx.files:
            ctx.sink.error("SEL311", f"file '{name}' is declared twice", node.name.span,
                           related=[Related(ctx.files[name].name.span,
                                            "first declared here")])
            continue
        ctx.files[name] = node
        type_name = own_type_name(ctx.name, name)
        _new_type(ctx, type_name, node.name.span)
        kind = _file_kind(ctx, node.kind)
        _check_regex(ctx, node.regex)
        origin = ctx.origin(node.span, item_text(node), ir.Cause.DECL)
        ctx.types.append(ir.TypeDecl(type_name, ir.TypeRole.FILE,
                                     _attrs(ctx, FILE_ATTRIBUTES, node.span), origin))
        if kind is not None:
            ctx.fcs.append(ir.FileContext(node.regex.value, kind, type_name, origin))


def _file_kind(ctx: DaemonState, word: ast.Word | None) -> ir.FileKind | None:
    """The file kind a word names (SEL211 and None for an unknown one)."""
    if word is None:
        return ir.FileKind.ANY
    kind = FILE_KINDS.get(word.text)
    if kind is None:
        prefix = [k for k in FILE_KINDS if word.text.startswith(k) or k.startswith(word.text)]
        ctx.sink.error("SEL211", f"unknown file kind '{word.text}'", word.span,
                       hint=did_you_mean(word.text, FILE_KINDS) or
                       (f"did you mean '{prefix[0]}'?" if len(prefix) == 1 else
                        "kinds: " + ", ".join(sorted(FILE_KINDS))))
    return kind


def _expressible(ctx: DaemonState, text: ast.Str, *, regex: bool = False) -> bool:
    """A path or regex the .fc and CIL formats can carry (SEL403 otherwise) and setfiles
    accepts (SEL404 otherwise)."""
    index = next((i for i, c in enumerate(text.value) if ord(c) > 0x7F), None)
    if index is not None:
        char = text.value[index]
        column = text.span.column + 1 + _raw_offset(text.raw[1:-1], index)
        utf8 = " ".join(f"{b:02x}" for b in char.encode("utf-8", "surrogatepass"))
        ctx.sink.error(
            "SEL404", f"non-ASCII character {char!r} (U+{ord(char):04X}, UTF-8 bytes "
            f"{utf8}) in a file context: setfiles, which semodule runs on every install, "
            "refuses any byte above 0x7f ('Non-ASCII characters found')",
            Span.point(text.span.path, text.span.line, column),
            hint="match the character with a wildcard such as '.+' (or rename the path)"
            if regex else "install the program under an ASCII path")
        return False
    bad = next((c for c in text.value if c == '"' or c.isspace()), None)
    if bad is None:
        return True
    ctx.sink.error("SEL403", f"a file context cannot contain {bad!r}: .fc separates fields "
                   "by whitespace and CIL strings cannot hold '\"'", text.span,
                   hint="match the character with '.' or a class such as [[:space:]]")
    return False


def _check_regex(ctx: DaemonState, regex: ast.Str) -> None:
    """SEL312/SEL403/SEL404: a file context regex that is absolute, expressible and compiles."""
    if not regex.value.startswith("/"):
        ctx.sink.error("SEL312", "a file context must be an absolute path regex",
                       regex.span, hint="start it with '/'")
        return
    if not _expressible(ctx, regex, regex=True):
        return
    try:
        re.compile(regex.value)
    except re.error as exc:
        pos = exc.pos or 0
        column = regex.span.column + 1 + _raw_offset(regex.raw[1:-1], pos)
        char = regex.value[pos:pos + 1]
        ctx.sink.error("SEL312", f"file context regex does not compile: {exc.msg}",
                       Span.point(regex.span.path, regex.span.line, column),
                       hint=f"to match a literal '{char}', write \\\\{char} (a backslash "
                            "is doubled inside a string)" if char in "()[]{}*+?|" and char
                       else None)


def _attrs(ctx: DaemonState, names: tuple[str, ...], span: Span) -> tuple[str, ...]:
    """``names`` sorted; SEL401 for each one the base policy lacks."""
    for name in names:
        if name not in ctx.kb.attributes:
            ctx.sink.error("SEL401", f"the base policy has no attribute '{name}', which "
                           "the refpolicy target needs", span,
                           hint="compile against a refpolicy-based policy (--base)")
    return tuple(sorted(names))


def declare_execs(ctx: DaemonState) -> bool:
    """The exec type, its file contexts and the starter; False without any 'exec'."""
    execs = ctx.daemon.of(ast.Exec)
    if not execs:
        ctx.sink.error("SEL310", f"daemon '{ctx.name}' has no 'exec' statement",
                       ctx.daemon.name.span,
                       hint='add exec "/usr/sbin/NAME" (the program init starts)')
        return False
    exec_type = own_type_name(ctx.name, f"{ENTRY_PHASE}_exec")
    _new_type(ctx, exec_type, execs[0].span)
    # An exec without 'from' is started by init_t: that counts as naming it.
    starters = [e.source.text if e.source else DEFAULT_STARTER for e in execs]
    odd = next((e for e, s in zip(execs, starters, strict=True) if s != starters[0]), None)
    if odd is not None:
        ctx.sink.error("SEL324", "all exec statements of a daemon must name the same "
                       "starting domain", odd.source.span if odd.source else odd.span,
                       hint=f"the first exec is started by {starters[0]}",
                       related=[Related(execs[0].span, "first exec here")])
    first = execs[0]
    if first.source is not None:
        ctx.starter = resolve_type(ctx, first.source, allow_attribute=False) or DEFAULT_STARTER
    origin = ctx.origin(first.span, item_text(first), ir.Cause.DECL)
    ctx.types.append(ir.TypeDecl(exec_type, ir.TypeRole.EXEC,
                                 _attrs(ctx, EXEC_ATTRIBUTES, first.span), origin))
    for node in execs:
        if not node.path.value.startswith("/"):
            ctx.sink.error("SEL312", "an exec path must be absolute", node.path.span,
                           hint="start it with '/'")
            continue
        if not _expressible(ctx, node.path):
            continue
        ctx.fcs.append(ir.FileContext(fc_escape(node.path.value),
                                      ir.FileKind.FILE, exec_type,
                                      ctx.origin(node.span, item_text(node),
                                                 ir.Cause.ENTRY)))
    return True


def user(ctx: DaemonState) -> str | None:
    """The daemon's 'user', if the spec gives one (SEL315 for a second one)."""
    users = ctx.daemon.of(ast.User)
    for extra in users[1:]:
        ctx.sink.error("SEL315", "a daemon has at most one 'user'", extra.span,
                       related=[Related(users[0].span, "first given here")])
    return users[0].name.text if users else None
