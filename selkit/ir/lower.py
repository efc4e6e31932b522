"""AST → IR: check the daemon's structure, resolve names, expand verbs into rules.

This is where an author's statement becomes rules with a source span. Phase semantics the
compiler owns (typebounds, setcurrent, fd plumbing, entry) are added afterwards by the passes
in :mod:`selkit.ir.passes`, so this module only records what the author asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from selkit.diagnostics import Diagnostic, DiagnosticSink, Related, Span, did_you_mean
from selkit.dsl import ast
from selkit.dsl.loader import Program
from selkit.dsl.pretty import item_text
from selkit.ir import forbid_groups
from selkit.ir import nodes as ir
from selkit.ir import vocab
from selkit.ir.kb import KnowledgeBase

from selkit.ir.nodes import DEFAULT_STARTER, ENTRY_PHASE, REQUIRED_PHASES, STEADY_PHASE

MODULE_VERSION = "1.0.0"

FILE_KINDS = {
    "any": "any", "regular": "file", "file": "file", "dir": "dir", "symlink": "symlink",
    "socket": "socket", "pipe": "pipe", "char": "char", "block": "block",
}

#: Attributes the refpolicy base requires on each kind of type: its neverallows and rules are
#: written over them, so a type outside them is unusable (a domain outside `domain` cannot run).
DOMAIN_ATTRIBUTES = ("domain",)
SWITCHING_ATTRIBUTES = ("set_curr_context",)
EXEC_ATTRIBUTES = ("entry_type", "exec_type", "file_type", "non_auth_file_type",
                   "non_security_file_type")
FILE_ATTRIBUTES = ("file_type", "non_auth_file_type", "non_security_file_type")

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_C_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def balanced_brackets(expr: str) -> bool:
    """True when the brackets of a C expression pair up (strings are not looked into)."""
    stack, pairs = [], {")": "(", "]": "[", "}": "{"}
    for ch in expr:
        if ch in "([{":
            stack.append(ch)
        elif ch in pairs and (not stack or stack.pop() != pairs[ch]):
            return False
    return not stack

#: The object behind each resource a verb form opens or uses, for messages.
_RESOURCES = {
    "tun": "tun device", "udp": "UDP socket", "tcp": "TCP socket", "icmp": "raw ICMP socket",
    "ping": "ping socket", "packet": "packet socket", "netlink": "rtnetlink socket",
    "syslog": "/dev/log connection",
}


def _raw_offset(body: str, index: int) -> int:
    """The offset in a string's source text of character ``index`` of its value."""
    i = 0
    while index > 0 and i < len(body):
        i += 2 if body[i] == "\\" and i + 1 < len(body) else 1
        index -= 1
    return i


def _or_list(items: list[str]) -> str:
    """'a', 'a or b', 'a, b or c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
_FC_SPECIAL = re.compile(r"([.^$*+?()\[\]{}|\\])")


def fc_escape(path: str) -> str:
    """A file-context regex matching exactly ``path``."""
    return _FC_SPECIAL.sub(r"\\\1", path)


def forbid_group_patterns(phase: str, group: str, origin: ir.Origin,
                          classes) -> list[ir.ForbidPattern]:
    """What ``forbid PHASE { GROUP }`` lowers to, derived for ``classes`` (class -> perms) by
    :func:`selkit.ir.forbid_groups.group_items`, exemptions included."""
    return [ir.ForbidPattern(phase, None, item.tclass, item.perms, origin, item.except_self,
                             item.exempt_targets)
            for item in forbid_groups.group_items(group, classes)]


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
        module = _DaemonLowering(program, daemon, kb, sink).run()
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
            what = f"the type of its file '{decl.name[len(module.daemon) + 1:-2]}'"
        out[decl.name] = (decl.origin.span, what)
    return out


def type_collisions(modules) -> list[Diagnostic]:
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


@dataclass
class _PhaseState:
    """What lowering learns about one phase."""

    node: ast.Phase
    domain: str
    parent: str | None = None
    opens: dict[str, ast.Verb] = field(default_factory=dict)


class _DaemonLowering:
    """Lowers one ``daemon`` block."""

    def __init__(self, program: Program, daemon: ast.Daemon, kb: KnowledgeBase,
                 sink: DiagnosticSink):
        self.program, self.daemon, self.kb, self.sink = program, daemon, kb, sink
        self.name = daemon.name.text
        self.phases: dict[str, _PhaseState] = {}
        self.files: dict[str, ast.FileDecl] = {}
        self.types: list[ir.TypeDecl] = []
        self.rules: list[ir.Rule] = []
        self.fcs: list[ir.FileContext] = []
        self.starter = DEFAULT_STARTER
        self.declared: dict[str, Span] = {}

    # -- driver -----------------------------------------------------------------------------

    def run(self) -> ir.PolicyModule | None:
        errors_before = len(self.sink.items)
        if not _NAME_RE.match(self.name):
            self.sink.error("SEL215", f"daemon name '{self.name}' is not a valid module name",
                            self.daemon.name.span,
                            hint="use lower-case letters, digits and '_', starting with a letter")
            return None
        module_name = self._module_name()
        self._declare_phases()
        self._declare_files()
        execs = self._declare_execs()
        user = self._user()
        switches = self._switches()
        for name in self._phase_order():
            self._lower_phase(self.phases[name])
        forbids = self._forbids()
        if len(self.sink.items) > errors_before and self.sink.has_errors:
            return None
        phases = tuple(
            ir.Phase(n, s.domain, s.parent, self._origin(s.node.name.span, f"phase {n}",
                                                         ir.Cause.DECL))
            for n, s in ((n, self.phases[n]) for n in self._phase_order()))
        for fc in self.fcs:
            self._check_fc_conflict(fc, module_name)
        if self.sink.has_errors and len(self.sink.items) > errors_before:
            return None
        return ir.PolicyModule(
            name=module_name, daemon=self.name, version=MODULE_VERSION, source_path=self.program.main.path,
            phases=phases, types=tuple(self.types), rules=tuple(self.rules),
            file_contexts=tuple(self.fcs), switches=switches, forbids=forbids, user=user,
            mls=self.kb.mls, starter=self.starter,
        ) if execs else None

    def _module_name(self) -> str:
        nodes = self.daemon.of(ast.ModuleName)
        for extra in nodes[1:]:
            self.sink.error("SEL326", "a daemon has at most one 'module'", extra.span,
                            related=[Related(nodes[0].span, "first given here")])
        if not nodes:
            self._check_not_disabled(self.name, self.daemon.name.span, implicit=True)
            return self.name
        name = nodes[0].name.text
        if not _NAME_RE.match(name):
            self.sink.error("SEL215", f"module name '{name}' is not valid", nodes[0].name.span,
                            hint="use lower-case letters, digits and '_', starting with a letter")
        else:
            self._check_not_disabled(name, nodes[0].name.span, implicit=False)
        return name

    def _check_not_disabled(self, name: str, span: Span, *, implicit: bool) -> None:
        """SEL219: semodule installs a module whose name the store lists as disabled, but
        leaves it disabled: none of its types would exist in the linked policy."""
        if name not in self.kb.disabled_modules:
            return
        how = (f"add 'module {name}_local' (or another name) to the daemon" if implicit
               else "name another module with 'module NAME'")
        self.sink.error(
            "SEL219", f"module '{name}' is disabled in the base store; semodule would install "
            "it disabled", span,
            hint=f"{how}; or, if you mean to replace the store's '{name}', enable it first "
                 f"with 'semodule -e {name}'")

    def _check_fc_conflict(self, fc: ir.FileContext, module_name: str) -> None:
        """semodule keeps one label per (regex, kind): a clash with the base is silently lost."""
        existing = self.kb.file_contexts.get((fc.regex, fc.kind))
        if existing is None or existing[0] == fc.type:
            return
        base_type, owners = existing
        if module_name in owners:
            return  # this module replaces the one that declared it
        who = ", ".join(f"'{o}'" for o in owners) or "the base"
        self.sink.error(
            "SEL217", f"'{fc.regex}' is already labelled {base_type} by module {who} of the "
            "base policy; semodule keeps one label per path and would silently drop this one",
            fc.origin.span,
            hint=(f"replace that module: add 'module {owners[0]}' to the daemon, "
                  "or label another path") if owners else "label another path")

    def _origin(self, span: Span, statement: str, cause: ir.Cause = ir.Cause.SPEC) -> ir.Origin:
        return ir.Origin(span, statement, cause)

    # -- declarations -----------------------------------------------------------------------

    def _new_type(self, name: str, span: Span) -> bool:
        first = self.declared.get(name)
        if first is not None:
            # A file named like a phase ('file steady ...') or like the exec type
            # ('file startup_exec ...') would declare the same type twice (checkmodule refuses).
            self.sink.error("SEL208", f"type '{name}' is already declared by this daemon", span,
                            hint="rename the phase or file so its type is new",
                            related=[Related(first, f"'{name}' is also declared here")])
            return False
        self.declared[name] = span
        if self.kb.is_type_or_attribute(name):
            self.sink.error("SEL208", f"type '{name}' already exists in the base policy", span,
                            hint="rename the daemon, phase or file so its type is new")
            return False
        return True

    def _declare_phases(self) -> None:
        for node in self.daemon.of(ast.Phase):
            name = node.name.text
            if name in self.phases:
                self.sink.error("SEL304", f"phase '{name}' is declared twice", node.name.span,
                                related=[Related(self.phases[name].node.name.span,
                                                 "first declared here")])
                continue
            if not _NAME_RE.match(name):
                self.sink.error("SEL215", f"phase name '{name}' is not a valid type name part",
                                node.name.span, hint="use lower-case letters, digits and '_'")
                continue
            domain = f"{self.name}_{name}_t"
            self._new_type(domain, node.name.span)
            self.phases[name] = _PhaseState(node, domain)
        targets = {s.target.text for s in self.daemon.of(ast.Switch)}
        for required, code in zip(REQUIRED_PHASES, ("SEL305", "SEL306")):
            if required not in self.phases:
                what = ("the phase the daemon starts in" if required == ENTRY_PHASE
                        else "the phase after the daemon's switch")
                # A phase in its place under another name (the only root, or the only other
                # phase) is most likely a rename.
                other = [n for n in self.phases if n not in REQUIRED_PHASES and
                         (required != ENTRY_PHASE or n not in targets)]
                hint = (f"rename phase '{other[0]}' to '{required}' (the name is fixed)"
                        if len(other) == 1 else f"add 'phase {required} {{ ... }}'")
                self.sink.error(code, f"daemon '{self.name}' has no '{required}' phase "
                                f"({what})", self.daemon.name.span, hint=hint)

    def _declare_files(self) -> None:
        for node in self.daemon.of(ast.FileDecl):
            name = node.name.text
            if name in self.files:
                self.sink.error("SEL311", f"file '{name}' is declared twice", node.name.span,
                                related=[Related(self.files[name].name.span,
                                                 "first declared here")])
                continue
            self.files[name] = node
            type_name = f"{self.name}_{name}_t"
            self._new_type(type_name, node.name.span)
            kind = self._file_kind(node.kind)
            self._check_regex(node.regex)
            origin = self._origin(node.span, item_text(node), ir.Cause.DECL)
            self.types.append(ir.TypeDecl(type_name, ir.TypeRole.FILE,
                                          self._attrs(FILE_ATTRIBUTES, node.span), origin))
            if kind is not None:
                self.fcs.append(ir.FileContext(node.regex.value, kind, type_name, origin))

    def _file_kind(self, word: ast.Word | None) -> str | None:
        if word is None:
            return "any"
        kind = FILE_KINDS.get(word.text)
        if kind is None:
            prefix = [k for k in FILE_KINDS if word.text.startswith(k) or k.startswith(word.text)]
            self.sink.error("SEL211", f"unknown file kind '{word.text}'", word.span,
                            hint=did_you_mean(word.text, FILE_KINDS) or
                            (f"did you mean '{prefix[0]}'?" if len(prefix) == 1 else
                             "kinds: " + ", ".join(sorted(FILE_KINDS))))
        return kind

    def _expressible(self, text: ast.Str, *, regex: bool = False) -> bool:
        """A path or regex the .fc and CIL formats can carry (SEL403 otherwise) and setfiles
        accepts (SEL404 otherwise)."""
        index = next((i for i, c in enumerate(text.value) if ord(c) > 0x7F), None)
        if index is not None:
            char = text.value[index]
            column = text.span.column + 1 + _raw_offset(text.raw[1:-1], index)
            utf8 = " ".join(f"{b:02x}" for b in char.encode("utf-8", "surrogatepass"))
            self.sink.error(
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
        self.sink.error("SEL403", f"a file context cannot contain {bad!r}: .fc separates fields "
                        "by whitespace and CIL strings cannot hold '\"'", text.span,
                        hint="match the character with '.' or a class such as [[:space:]]")
        return False

    def _check_regex(self, regex: ast.Str) -> None:
        if not regex.value.startswith("/"):
            self.sink.error("SEL312", "a file context must be an absolute path regex",
                            regex.span, hint="start it with '/'")
            return
        if not self._expressible(regex, regex=True):
            return
        try:
            re.compile(regex.value)
        except re.error as exc:
            pos = exc.pos or 0
            column = regex.span.column + 1 + _raw_offset(regex.raw[1:-1], pos)
            char = regex.value[pos:pos + 1]
            self.sink.error("SEL312", f"file context regex does not compile: {exc.msg}",
                            Span.point(regex.span.path, regex.span.line, column),
                            hint=f"to match a literal '{char}', write \\\\{char} (a backslash "
                                 "is doubled inside a string)" if char in "()[]{}*+?|" and char
                            else None)

    def _attrs(self, names: tuple[str, ...], span: Span) -> tuple[str, ...]:
        for name in names:
            if name not in self.kb.attributes:
                self.sink.error("SEL401", f"the base policy has no attribute '{name}', which "
                                "the refpolicy target needs", span,
                                hint="compile against a refpolicy-based policy (--base)")
        return tuple(sorted(names))

    def _declare_execs(self) -> bool:
        execs = self.daemon.of(ast.Exec)
        if not execs:
            self.sink.error("SEL310", f"daemon '{self.name}' has no 'exec' statement",
                            self.daemon.name.span,
                            hint='add exec "/usr/sbin/NAME" (the program init starts)')
            return False
        exec_type = f"{self.name}_{ENTRY_PHASE}_exec_t"
        self._new_type(exec_type, execs[0].span)
        # An exec without 'from' is started by init_t: that counts as naming it.
        starters = [e.source.text if e.source else DEFAULT_STARTER for e in execs]
        odd = next((e for e, s in zip(execs, starters) if s != starters[0]), None)
        if odd is not None:
            self.sink.error("SEL324", "all exec statements of a daemon must name the same "
                            "starting domain", odd.source.span if odd.source else odd.span,
                            hint=f"the first exec is started by {starters[0]}",
                            related=[Related(execs[0].span, "first exec here")])
        first = execs[0]
        if first.source is not None:
            self.starter = self._resolve_type(first.source, allow_attribute=False) or "init_t"
        origin = self._origin(first.span, item_text(first), ir.Cause.DECL)
        self.types.append(ir.TypeDecl(exec_type, ir.TypeRole.EXEC,
                                      self._attrs(EXEC_ATTRIBUTES, first.span), origin))
        for node in execs:
            if not node.path.value.startswith("/"):
                self.sink.error("SEL312", "an exec path must be absolute", node.path.span,
                                hint="start it with '/'")
                continue
            if not self._expressible(node.path):
                continue
            self.fcs.append(ir.FileContext(fc_escape(node.path.value),
                                           "file", exec_type,
                                           self._origin(node.span, item_text(node),
                                                        ir.Cause.ENTRY)))
        return True

    def _user(self) -> str | None:
        users = self.daemon.of(ast.User)
        for extra in users[1:]:
            self.sink.error("SEL315", "a daemon has at most one 'user'", extra.span,
                            related=[Related(users[0].span, "first given here")])
        return users[0].name.text if users else None

    # -- phases and switches ----------------------------------------------------------------

    def _switches(self) -> tuple[ir.Switch, ...]:
        out = []
        incoming: dict[str, ast.Switch] = {}
        unknown = False
        for node in self.daemon.of(ast.Switch):
            ok = True
            for word in (node.source, node.target):
                if word.text not in self.phases:
                    ok, unknown = False, True
                    self.sink.error("SEL210", f"switch names an unknown phase '{word.text}'",
                                    word.span, hint=did_you_mean(word.text, self.phases))
            if not ok:
                continue
            src, dst = node.source.text, node.target.text
            if src == dst:
                self.sink.error("SEL316", "a switch must go to another phase", node.target.span)
                continue
            if dst == ENTRY_PHASE:
                self.sink.error("SEL307", f"nothing may switch back into '{ENTRY_PHASE}'",
                                node.target.span,
                                hint="phases only lose privileges; the entry phase is left once")
                continue
            if src == STEADY_PHASE:
                # Recorded anyway, so the phase it enters is not also "never switched into".
                self.sink.error("SEL327", f"a switch out of '{STEADY_PHASE}': '{STEADY_PHASE}' is "
                                "the last phase, the one the daemon lives in, and holds no "
                                "setcurrent or dyntransition", node.source.span,
                                hint=f"switch into '{dst}' from an earlier phase, or make "
                                     f"'{dst}' the last phase: rename it '{STEADY_PHASE}' and "
                                     f"'{STEADY_PHASE}' to another name")
            if dst in incoming:
                self.sink.error("SEL308", f"phase '{dst}' is entered by two switches; each "
                                "phase has one parent (its typebounds)", node.target.span,
                                related=[Related(incoming[dst].span, "first switch here")])
                continue
            incoming[dst] = node
            self.phases[dst].parent = src
            out.append(self._switch(node))
        for name, state in self.phases.items():
            # Without an entry phase, or with a switch naming an unknown phase, "never switched
            # into" only repeats the error already reported.
            if unknown or ENTRY_PHASE not in self.phases:
                break
            if name != ENTRY_PHASE and state.parent is None:
                self.sink.error("SEL309", f"phase '{name}' is never switched into",
                                state.node.name.span,
                                hint=f"add 'switch {ENTRY_PHASE} -> {name} {{ option \"...\" }}'")
        self._check_reachable()
        return tuple(out)

    def _check_reachable(self) -> None:
        for name, state in self.phases.items():
            seen, cur = {name}, state.parent
            while cur is not None:
                if cur in seen:
                    self.sink.error("SEL309", f"phase '{name}' is not reachable from "
                                    f"'{ENTRY_PHASE}' (the switches form a cycle)",
                                    state.node.name.span)
                    state.parent = None
                    break
                seen.add(cur)
                cur = self.phases[cur].parent if cur in self.phases else None

    def _switch(self, node: ast.Switch) -> ir.Switch:
        options = [i for i in node.items if isinstance(i, ast.Option)]
        patches = [i for i in node.items if isinstance(i, ast.PatchAnchor)]
        if not options and not patches:
            self.sink.error("SEL317", "a switch must say how the daemon switches", node.span,
                            hint='add option "-z {context}" (an existing option) or '
                                 'patch "FILE" replace "TEXT" (where the setcon() call is)')
        for extra in (options[1:] + patches[1:]):
            self.sink.error("SEL325", "a switch has at most one option and one patch", extra.span)
        for opt in options:
            if "{context}" not in opt.template.value:
                self.sink.error("SEL318", "the option template must contain {context}",
                                opt.template.span, hint='for example "--setcon {context}"')
        patch = self._anchor(patches[0]) if patches else None
        prepare = self._one(node, ast.PrepareAnchor, "prepare")
        context = self._one(node, ast.ContextExpr, "context")
        build = self._one(node, ast.BuildMacro, "build")
        self._check_hook(node, patches[0] if patches else None, prepare, context, build)
        return ir.Switch(
            node.source.text, node.target.text,
            options[0].template.value if options else None,
            self._origin(node.span, f"switch {node.source.text} -> {node.target.text}",
                         ir.Cause.PHASE),
            patch=patch,
            prepare=self._anchor(prepare) if prepare else None,
            context=self._value(context, context.expr) if context else None,
            build=self._value(build, build.macro) if build else None)

    def _one(self, node: ast.Switch, kind: type, keyword: str):
        """The first item of ``kind`` in the switch; SEL232 for each further one."""
        items = [i for i in node.items if isinstance(i, kind)]
        for extra in items[1:]:
            self.sink.error("SEL232", f"a switch has at most one '{keyword}'", extra.span,
                            related=[Related(items[0].span, "first given here")])
        return items[0] if items else None

    def _anchor(self, item: ast.PatchAnchor | ast.PrepareAnchor) -> ir.Anchor:
        return ir.Anchor(item.file.value, item.position.text, item.anchor.value,
                         self._origin(item.span, item_text(item)), item.anchor.span)

    def _value(self, item, text: ast.Str) -> ir.SpecValue:
        return ir.SpecValue(text.value, self._origin(item.span, item_text(item)))

    def _check_hook(self, node: ast.Switch, patch: ast.PatchAnchor | None,
                    prepare: ast.PrepareAnchor | None, context: ast.ContextExpr | None,
                    build: ast.BuildMacro | None) -> None:
        """SEL230-SEL239: the statements ``selkit patch`` generates the setcon() hook from."""
        if prepare is not None and patch is None:
            self.sink.error("SEL230", "'prepare' without 'patch': the attr fd it opens is "
                            "written by the setcon() call that 'patch' places", prepare.span,
                            hint='add patch "FILE" replace "TEXT" (the existing setcon() call)')
        for item, what in ((context, "context"), (build, "build")):
            if item is not None and patch is None:
                self.sink.error("SEL234", f"'{what}' without 'patch': nothing uses it",
                                item.span, hint='add patch "FILE" replace "TEXT", or remove it')
        # The new forms need the whole hook; the older 'patch after|before' alone stays valid
        # (it only records where startup ends) and 'selkit patch' reports what it lacks.
        generated = patch is not None and (prepare is not None or
                                           patch.position.text == "replace")
        if generated and context is None:
            self.sink.error("SEL231", "the setcon() hook needs 'context': the C expression "
                            "that holds the requested context", patch.span,
                            hint='add for example context "context" (the -z argument)')
        if generated and build is None:
            self.sink.error("SEL239", "the setcon() hook needs 'build': the macro the project "
                            "defines when built with libselinux", patch.span,
                            hint='add for example build "HAVE_SELINUX"')
        if prepare is not None and prepare.position.text != "before":
            self.sink.error("SEL238", f"'prepare' goes before its anchor, not "
                            f"'{prepare.position.text}'", prepare.position.span,
                            hint='write prepare "FILE" before "TEXT" (the chroot() call)')
        if prepare is not None and patch is not None:
            if prepare.file.value != patch.file.value:
                self.sink.error("SEL233", "'prepare' and 'patch' name different files; the "
                                "attr fd is kept in one translation unit", prepare.file.span,
                                related=[Related(patch.file.span, "the setcon() call's file")],
                                hint=f"move the prepare anchor into {patch.file.raw}")
            elif prepare.anchor.value == patch.anchor.value:
                self.sink.error("SEL233", "'prepare' and 'patch' use the same anchor",
                                prepare.anchor.span,
                                related=[Related(patch.anchor.span, "the setcon() call's anchor")],
                                hint="prepare goes before the chroot(), patch at the setcon()")
        strings = (patch and patch.anchor, prepare and prepare.anchor,
                   context and context.expr, build and build.macro)
        for text in strings:
            if text is not None and not text.value.strip():
                self.sink.error("SEL235", "an empty string here means nothing", text.span)
        for item in (patch, prepare):
            if item is not None:
                self._check_source_path(item.file)
        if context is not None and (";" in context.expr.value or "\n" in context.expr.value
                                    or not balanced_brackets(context.expr.value)):
            self.sink.error("SEL235", "'context' is one C expression: no ';', no line break, "
                            "balanced brackets", context.expr.span)
        if build is not None and build.macro.value.strip() and \
                not _C_IDENTIFIER.fullmatch(build.macro.value):
            self.sink.error("SEL236", f"'{build.macro.value}' is not a C macro name",
                            build.macro.span, hint='the macro tested with #ifdef, for example '
                                                   '"HAVE_SELINUX"')

    def _check_source_path(self, path: ast.Str) -> None:
        value = path.value
        parts = value.split("/")
        if not value or value.startswith("/") or ".." in parts or "" in parts or \
                any(ch in value for ch in "\n\t\\"):
            self.sink.error("SEL237", f"'{value}' is not a path inside the source tree",
                            path.span, hint='a relative path such as "src/main.c"')

    def _phase_order(self) -> list[str]:
        """Phases ordered parents first (entry first), then by source position."""
        order, placed = [], set()
        pending = sorted(self.phases, key=lambda n: self.phases[n].node.span)
        while pending:
            progressed = False
            for name in list(pending):
                parent = self.phases[name].parent
                if parent is None or parent in placed:
                    order.append(name)
                    placed.add(name)
                    pending.remove(name)
                    progressed = True
            if not progressed:
                order.extend(pending)
                break
        return order

    def _ancestors(self, phase: str) -> list[str]:
        out, cur = [], self.phases[phase].parent
        while cur is not None and cur not in out:
            out.append(cur)
            cur = self.phases[cur].parent
        return out

    # -- phase bodies -----------------------------------------------------------------------

    def _lower_phase(self, state: _PhaseState) -> None:
        for item in self._expand_includes(state.node.body, []):
            if isinstance(item, ast.Allow):
                self._lower_allow(state, item)
            elif isinstance(item, ast.Verb):
                self._lower_verb(state, item)

    def _expand_includes(self, items, stack: list[str]):
        for item in items:
            if not isinstance(item, ast.Include):
                yield item
                continue
            name = item.name.text
            frag = self.program.fragments.get(name)
            if frag is None:
                self.sink.error("SEL213", f"unknown fragment '{name}'", item.name.span,
                                hint=did_you_mean(name, self.program.fragments))
                continue
            if name in stack:
                self.sink.error("SEL320", f"fragment '{name}' includes itself",
                                item.name.span)
                continue
            yield from self._expand_includes(frag.body, stack + [name])

    def _lower_allow(self, state: _PhaseState, node: ast.Allow) -> None:
        target = self._resolve_target(node.target, state)
        tclass = self._resolve_class(node.tclass)
        perms = self._resolve_perms(tclass, node.perms) if tclass else None
        if target and tclass and perms:
            self.rules.append(ir.Allow(state.domain, target, tclass, perms,
                                       self._origin(node.span, item_text(node))))

    def _lower_verb(self, state: _PhaseState, node: ast.Verb) -> None:
        verb = node.name.text
        if verb not in vocab.VERBS:
            self.sink.error("SEL206", f"unknown verb '{verb}'", node.name.span,
                            hint=did_you_mean(verb, vocab.VERBS) or
                            "see dsl/REFERENCE.md for the vocabulary")
            return
        words = [("word", verb)] + [(a.kind, a.text) for a in node.args]
        found = vocab.match(words)
        if found is None:
            self._wrong_arguments(node)
            return
        form, params = found
        is_entry = state.node.name.text == ENTRY_PHASE
        if form.entry_only and not is_entry and ENTRY_PHASE in self.phases:
            self.sink.error("SEL319", f"'{form.text()}' only makes sense in the "
                            f"'{ENTRY_PHASE}' phase", node.span,
                            hint=f"move it to phase '{ENTRY_PHASE}', the phase exec enters")
            return
        opener = None
        if form.uses:
            opener = self._opener(state, form, node)
            if opener is None:
                return
        if form.opens:
            state.opens.setdefault(form.opens, node)
        bindings = self._bind_params(form, params, node)
        if bindings is None:
            return
        origin = self._origin(node.span, item_text(node))
        for tpl in form.rules:
            if tpl.when == "privileged_port" and not bindings.get("$privileged"):
                continue
            sources = self._symbol(tpl.source, state, opener, bindings)
            targets = self._symbol(tpl.target, state, opener, bindings)
            for source in sources:
                for target in targets:
                    self.rules.append(ir.Allow(source, target, tpl.tclass, tpl.perms, origin))
        for tt in form.transitions:
            for source in self._symbol(tt.source, state, opener, bindings):
                for target in self._symbol(tt.target, state, opener, bindings):
                    for default in self._symbol(tt.default, state, opener, bindings):
                        self.rules.append(ir.TypeTransition(source, target, tt.tclass, default,
                                                            origin))
        if opener is not None:
            # The resource was opened by an earlier phase, so its fd carries that phase's label:
            # using it needs 'fd use' on the opener even when no rule of the form names the
            # opener ('tun io' acts on tun_tap_device_t through the fd startup opened).
            self.rules.append(ir.Allow(state.domain, opener, "fd", ("use",),
                                       self._origin(node.span, item_text(node), ir.Cause.PHASE)))

    def _wrong_arguments(self, node: ast.Verb) -> None:
        """SEL207 at the first word no form of the verb accepts, with the closest forms."""
        verb, args = node.name.text, node.args
        words = [("word", verb)] + [(a.kind, a.text) for a in args]

        def fits(form: vocab.VerbForm) -> int:
            n = 0
            for pat, (kind, text) in zip(form.pattern, words):
                if not (pat.startswith("<") or (kind == "word" and text == pat)):
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
            if arg.kind == "word" and arg.text in vocab.VERBS and vocab.match(words[:i]):
                span = arg.span
                hint = (f"'{arg.text}' starts another statement: put it on a line of its own, "
                        "or separate the two with ';'")
                break
        # One word left out? Suggest it only when a single insertion makes a valid statement.
        guesses = {" ".join(f'"{t}"' if k == "string" else t for k, t in guess)
                   for guess in (words[:best] + [("word", f.pattern[best])] + words[best:]
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
        self.sink.error("SEL207", message, span, hint=hint)

    def _opener(self, state: _PhaseState, form: vocab.VerbForm, node: ast.Verb) -> str | None:
        openers = _or_list([f"'{f.text()}'" for f in vocab.FORMS if f.opens == form.uses])
        what = _RESOURCES.get(form.uses or "", f"{form.uses} object")
        if state.node.name.text == ENTRY_PHASE:
            self.sink.error("SEL314", f"'{form.text()}' uses a {what} opened by an earlier "
                            f"phase, but '{ENTRY_PHASE}' is the first phase", node.span,
                            hint=f"open it here instead with {openers}")
            return None
        for ancestor in self._ancestors(state.node.name.text):
            if form.uses in self.phases[ancestor].opens:
                return self.phases[ancestor].domain
        self.sink.error("SEL314", f"phase '{state.node.name.text}' asks for more than its "
                        f"earlier phases have: '{form.text()}' uses a {what} that no earlier "
                        "phase opens", node.span,
                        hint=f"open it in phase '{state.parent or ENTRY_PHASE}' with {openers} "
                             "(an fd keeps the label of the phase that opened it)")
        return None

    def _symbol(self, symbol: str, state: _PhaseState, opener: str | None,
                bindings: dict) -> list[str]:
        if symbol == "self":
            return [state.domain]
        if symbol == "$opener":
            return [opener] if opener else []
        if symbol == "$starter":
            return [self.starter]
        if symbol.startswith("$"):
            value = bindings.get(symbol)
            return list(value) if isinstance(value, tuple) else ([value] if value else [])
        return [symbol]

    def _bind_params(self, form: vocab.VerbForm, params: list[str],
                     node: ast.Verb) -> dict | None:
        bindings: dict = {}
        slots = form.params
        args = [a for a, pat in zip(node.args, form.pattern[1:]) if pat.startswith("<")]
        ok = True
        for slot, arg in zip(slots, args):
            if slot == "<port>":
                resolved = self._resolve_port(arg, form.protocol or "tcp")
                if resolved is None:
                    ok = False
                    continue
                types, privileged = resolved
                bindings["$port"] = types
                bindings["$privileged"] = privileged
            elif slot in ("<file>", "<dir>", "<exec>"):
                if arg.kind != "word":
                    self._not_a_name(arg)
                    ok = False
                    continue
                name = self._resolve_type(ast.Word(arg.text, arg.span))
                ok = ok and name is not None
                bindings["$arg"] = name
            elif slot == "<domain>":
                if arg.kind != "word":
                    self._not_a_name(arg)
                    ok = False
                    continue
                name = self._resolve_type(ast.Word(arg.text, arg.span), allow_attribute=False)
                ok = ok and name is not None
                bindings["$domain"] = name
        return bindings if ok else None

    def _not_a_name(self, arg: ast.Arg) -> None:
        hint = (f"names are not quoted: {arg.text}" if arg.kind == "string" and
                re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", arg.text) else None)
        self.sink.error("SEL207", f"expected a type name here, found {arg.kind} '{arg.text}'",
                        arg.span, hint=hint)

    # -- name resolution --------------------------------------------------------------------

    def _own_names(self) -> dict[str, str]:
        names = {n: f"{self.name}_{n}_t" for n in self.files}
        names.update({t.name: t.name for t in self.types})
        return names

    def _resolve_type(self, word: ast.Word, *, allow_attribute: bool = True) -> str | None:
        own = self._own_names()
        if word.text in own:
            return own[word.text]
        if word.text in self.phases:
            return self.phases[word.text].domain
        if word.text in {s.domain for s in self.phases.values()}:
            return word.text
        if word.text in self.kb.types:
            return word.text
        if word.text in self.kb.attributes:
            if allow_attribute:
                return word.text
            self.sink.error("SEL209", f"'{word.text}' is an attribute; a type is needed here",
                            word.span, hint=f"'{word.text}' stands for every type that has it: "
                                            "name one type")
            return None
        candidates = set(own) | set(self.phases) | set(self.kb.types) | set(self.kb.attributes)
        self.sink.error("SEL201", f"unknown type '{word.text}'", word.span,
                        hint=did_you_mean(word.text, candidates))
        return None

    def _resolve_target(self, word: ast.Word, state: _PhaseState) -> str | None:
        if word.text == "self":
            return state.domain
        return self._resolve_type(word)

    def _resolve_class(self, word: ast.Word) -> str | None:
        if word.text in self.kb.classes:
            return word.text
        self.sink.error("SEL202", f"unknown class '{word.text}'", word.span,
                        hint=did_you_mean(word.text, self.kb.classes))
        return None

    def _resolve_perms(self, tclass: str, perms: ast.PermSet) -> tuple[str, ...] | None:
        valid = self.kb.classes[tclass]
        if perms.kind == "all":
            return tuple(sorted(valid))
        out, ok = set(), True
        for word in perms.perms:
            if word.text not in valid:
                ok = False
                self.sink.error("SEL203", f"unknown permission '{word.text}' for class "
                                f"'{tclass}'", word.span, hint=did_you_mean(word.text, valid))
            out.add(word.text)
        return tuple(sorted(out)) if ok else None

    def _resolve_port(self, arg: ast.Arg, protocol: str) -> tuple[tuple[str, ...], bool] | None:
        if arg.kind == "int":
            port = int(arg.text)
            if not 1 <= port <= 65535:
                self.sink.error("SEL205", f"port {arg.text} is out of range", arg.span,
                                hint="ports are 1-65535")
                return None
            return (self.kb.port_type_for(protocol, port),), port < 1024
        if arg.kind == "range":
            low_text, high_text = arg.text.split("-", 1)
            low, high = int(low_text), int(high_text)
            if not (1 <= low <= 65535 and 1 <= high <= 65535) or low > high:
                self.sink.error("SEL205", f"port range {arg.text} is invalid", arg.span,
                                hint="a range is LOW-HIGH with 1 <= LOW <= HIGH <= 65535")
                return None
            return self._types_in_range(protocol, low, high), low < 1024
        if arg.kind == "word":
            if arg.text in self.kb.port_types:
                ranges = [r for r in self.kb.port_ranges_of(arg.text) if r.protocol == protocol]
                return (arg.text,), any(r.low < 1024 for r in ranges)
            self.sink.error("SEL204", f"unknown port type '{arg.text}'", arg.span,
                            hint=did_you_mean(arg.text, self.kb.port_types) or
                            "give a port number (53), a range (6000-6010) or a port type")
            return None
        self.sink.error("SEL205", f"expected a port, found {arg.kind} '{arg.text}'", arg.span,
                        hint="give a port number (53), a range (6000-6010) or a port type")
        return None

    def _types_in_range(self, protocol: str, low: int, high: int) -> tuple[str, ...]:
        cuts = {low}
        for pc in self.kb.portcons:
            if pc.protocol == protocol:
                for edge in (pc.low, pc.high + 1):
                    if low < edge <= high:
                        cuts.add(edge)
        return tuple(sorted({self.kb.port_type_for(protocol, p) for p in cuts}))

    # -- forbid -----------------------------------------------------------------------------

    def _forbids(self) -> tuple[ir.ForbidPattern, ...]:
        out = []
        for node in self.daemon.of(ast.Forbid):
            phase = node.phase.text
            if phase not in self.phases:
                self.sink.error("SEL212", f"forbid names an unknown phase '{phase}'",
                                node.phase.span, hint=did_you_mean(phase, self.phases))
                continue
            for item in node.items:
                out.extend(self._forbid_item(phase, item))
        return tuple(out)

    def _forbid_item(self, phase: str, item: ast.ForbidItem) -> list[ir.ForbidPattern]:
        origin = self._origin(item.span, f"forbid {phase}: {item_text(item)}")
        target = self._resolve_type(item.target) if item.target else None
        if item.target is not None and target is None:
            return []
        name = item.name.text
        if item.target is None and item.perms is None and name in vocab.FORBID_GROUPS:
            return forbid_group_patterns(phase, name, origin, self.kb.classes)
        if name not in self.kb.classes:
            hint = did_you_mean(name, set(self.kb.classes) | set(vocab.FORBID_GROUPS))
            self.sink.error("SEL202", f"unknown class or forbid group '{name}'", item.name.span,
                            hint=hint or "groups: " + ", ".join(sorted(vocab.FORBID_GROUPS)))
            return []
        perms = None
        if item.perms is not None and item.perms.kind != "all":
            perms = self._resolve_perms(name, item.perms)
            if perms is None:
                return []
        return [ir.ForbidPattern(phase, target, name, perms, origin)]
