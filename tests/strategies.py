"""Hypothesis strategies for ``.sel`` text: grammar-driven (any syntax) and semantic (valid
daemons).

Used by ``tests/acceptance/test_properties.py``.
"""

from __future__ import annotations

import dataclasses
import functools
import re

from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

from selkit.dsl import ast
from selkit.dsl.grammar import full_parser as _lark
from selkit.ir import passes, vocab

# ---------------------------------------------------------------------------------------------
# Grammar-driven strings
#
# from_lark never emits the %ignore'd whitespace between tokens that need it (Hypothesis issue
# #1804), so every terminal gets an explicit strategy that carries its own trailing separator.
# Comments (also %ignore'd) can only end at a newline, so they ride on _NL instead of being
# sprinkled between arbitrary tokens.

_NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: Words the lexer turns into keywords wherever the keyword is also acceptable (every quoted
#: keyword of the grammar, and ANCHOR's words); a NAME drawn from this set would make a string
#: the grammar "accepts" but the lexer does not.
KEYWORDS = frozenset(
    {t.pattern.value for t in _lark().terminals
     if t.pattern.type == "str" and _NAME_PATTERN.fullmatch(t.pattern.value)}
    | {"after", "before", "replace"})

_SPACE = st.sampled_from([" ", "  ", "\t", " \t"])
_MAYBE_SPACE = st.sampled_from(["", "", " ", "  ", "\t"])


def _then(token: st.SearchStrategy[str], sep: st.SearchStrategy[str] = _SPACE):
    return st.tuples(token, sep).map("".join)


def _lit(text: str, sep: st.SearchStrategy[str] = _SPACE):
    return _then(st.just(text), sep)


_NAME_RE = r"[A-Za-z_][A-Za-z0-9_]{0,11}"
NAMES = st.from_regex(_NAME_RE, fullmatch=True).filter(lambda s: s not in KEYWORDS)

#: Comment bodies: anything but a line break (a bare '\r' in a comment is legal but odd).
COMMENT_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\n\r"), max_size=20)
COMMENTS = COMMENT_TEXT.map(lambda t: "#" + t)

#: String bodies: any character but '"', '\\' and newline, or a backslash escape.
_STRING_CHAR = st.one_of(
    st.characters(codec="utf-8", exclude_characters='"\\\n'),
    st.sampled_from(["\\n", "\\t", '\\"', "\\\\", "\\x", "\\{", "\\ "]),
)
STRINGS = st.lists(_STRING_CHAR, max_size=12).map(lambda cs: '"' + "".join(cs) + '"')

_PORT = st.integers(0, 70000).map(str)
INTS = st.one_of(_PORT, st.from_regex(r"[0-9]{1,6}", fullmatch=True))
RANGES = st.tuples(INTS, INTS).map(lambda t: f"{t[0]}-{t[1]}")

_NEWLINES = st.tuples(
    st.one_of(st.just(""), st.tuples(_MAYBE_SPACE, COMMENTS).map("".join)),
    st.sampled_from(["\n", "\n", "\r\n"]),
    _MAYBE_SPACE,
).map("".join)


def grammar_explicit(keyword_names: bool = False) -> dict[str, st.SearchStrategy[str]]:
    """Strategies for every terminal of the real grammar (names from the compiled Lark).

    With ``keyword_names``, NAME is often a keyword: such text is in the language only where
    the contextual lexer does not expect that keyword.
    """
    names = st.one_of(NAMES, st.sampled_from(sorted(KEYWORDS))) if keyword_names else NAMES
    explicit: dict[str, st.SearchStrategy[str]] = {
        "NAME": _then(names),
        "STRING": _then(STRINGS),
        "INT": _then(INTS),
        "RANGE": _then(RANGES),
        "STAR": _lit("*", _MAYBE_SPACE),
        "ANCHOR": _then(st.sampled_from(["after", "before", "replace"])),
        "_NL": _NEWLINES,
        "COMMENT": st.just(""),  # only via _NL and at end of file, see above
        "SEMICOLON": _lit(";", _MAYBE_SPACE),
        "LBRACE": _lit("{", _MAYBE_SPACE),
        "RBRACE": _lit("}", _MAYBE_SPACE),
        "COLON": _lit(":", _MAYBE_SPACE),
    }
    for term in _lark().terminals:
        if term.name in explicit:
            continue
        if term.name in _lark().ignore_tokens:  # the %ignore'd whitespace
            explicit[term.name] = st.sampled_from([" ", "\t", "\f", "  "])
            continue
        if term.pattern.type == "str":  # keywords and '->'
            explicit[term.name] = _lit(term.pattern.value)
    return explicit


@functools.cache
def _grammar_strings(keyword_names: bool) -> st.SearchStrategy[str]:
    # Built once: from_lark compiles the grammar on every call it cannot cache (a dict argument).
    return from_lark(_lark(), explicit=grammar_explicit(keyword_names))


@st.composite
def sel_sources(draw, keyword_names: bool = False) -> str:
    """Text the grammar accepts: leading space, tokens, optional comment at end of file."""
    body = draw(_grammar_strings(keyword_names))
    head = draw(_MAYBE_SPACE)
    tail = draw(st.one_of(st.just(""), COMMENTS))
    return head + body + tail


# ---------------------------------------------------------------------------------------------
# Structural comparison of ASTs (spans dropped)


def strip_spans(node):
    """A nested tuple/primitive form of an AST node with every ``span`` field removed."""
    if isinstance(node, (list, tuple)):
        return tuple(strip_spans(n) for n in node)
    if dataclasses.is_dataclass(node):
        fields = tuple((f.name, strip_spans(getattr(node, f.name)))
                       for f in dataclasses.fields(node) if f.name != "span")
        return (type(node).__name__, fields)
    return node


def comment_texts(module: ast.Module) -> tuple[str, ...]:
    """The comments of a module, in source order."""
    return tuple(c.text for c in module.comments)


_BLOCK_BODIES = {ast.Fragment: "body", ast.Daemon: "items", ast.Phase: "body",
                 ast.Switch: "items", ast.Forbid: "items"}


def _nodes(items, path=()):
    """Every statement and block with its index path in the tree (the same in a module and
    in its printed form, whose items are equal but for the spans)."""
    for i, item in enumerate(items):
        yield path + (i,), item
        if type(item) in _BLOCK_BODIES:
            yield from _nodes(getattr(item, _BLOCK_BODIES[type(item)]), path + (i,))


def comment_places(module: ast.Module, text: str) -> tuple[tuple[str, str, tuple], ...]:
    """Each comment of ``module`` (parsed from ``text``) with what it follows on its line,
    read from the characters before it: ``own`` (nothing), ``close`` (a block's '}'), ``open``
    (a block's '{') or ``after`` (a statement), and the index path of that block or statement.
    """
    nodes = list(_nodes(module.items))
    lines = text.split("\n")
    places = []
    for comment in module.comments:
        line, column = comment.span.line, comment.span.column
        before = lines[line - 1][:column - 1].rstrip(" \t\f;")
        if not before:
            places.append((comment.text, "own", ()))
            continue
        ending = [(path, node) for path, node in nodes
                  if (node.span.end_line, node.span.end_column) == (line, len(before) + 1)]
        if ending:  # the innermost node ending there is the statement, else the block
            path, node = ending[-1]
            kind = "close" if type(node) in _BLOCK_BODIES else "after"
            places.append((comment.text, kind, path))
            continue
        assert before.endswith("{"), (comment, before)
        path, node = max(((p, n) for p, n in nodes if type(n) in _BLOCK_BODIES
                          and n.span.line == line and n.span.column < column),
                         key=lambda pn: pn[1].span.column)
        places.append((comment.text, "open", path))
    return tuple(places)


# ---------------------------------------------------------------------------------------------
# Semantic generator: valid daemons built from the vocabulary


#: Port types of the Debian refpolicy that specs may name.
PORT_TYPES = ("dns_port_t", "http_port_t", "ssh_port_t", "openvpn_port_t", "ntp_port_t",
              "smtp_port_t", "unreserved_port_t")
#: Base-policy file types used as <file>/<dir> arguments.
BASE_FILE_TYPES = ("etc_t", "var_log_t", "var_lib_t", "tmp_t", "usr_t")
#: Base-policy executables used as <exec> arguments.
BASE_EXEC_TYPES = ("bin_t",)
#: Domains used as <domain> for ``run <exec> as <domain>``.
RUN_DOMAINS = ("ifconfig_t",)
#: Types no vocabulary template, port or argument above ever names: a target-qualified forbid
#: on them is violated only by the compiler's own rules on them (the switch's libselinux checks
#: name security_t: :data:`SWITCHED_TARGETS`).
UNUSED_TYPES = ("shadow_t", "sshd_key_t", "boot_t", "user_home_t", "security_t")

FILE_KIND_WORDS = ("any", "regular", "file", "dir", "symlink", "socket", "pipe", "char",
                   "block")
OWN_FILE_NAMES = ("jail", "conf", "logs", "data", "pid", "cache")

_OPENERS = {f.text(): f for f in vocab.FORMS if f.opens}
_USERS = {f.text(): f for f in vocab.FORMS if f.uses}


@dataclasses.dataclass(frozen=True)
class Stmt:
    """One generated phase statement and the vocabulary form it instantiates (None: allow)."""

    text: str
    form: vocab.VerbForm | None
    perms: tuple[tuple[str, str], ...] = ()  # for raw allows: (class, perm) pairs


@dataclasses.dataclass(frozen=True)
class GeneratedDaemon:
    """A generated valid program and facts the tests check against."""

    name: str
    text: str
    startup: tuple[Stmt, ...]
    steady: tuple[Stmt, ...]
    forbids: dict
    #: phase → (class, perm) pairs the phase certainly holds (for negative tests).
    definite: dict


def _form(pattern: str) -> vocab.VerbForm:
    for f in vocab.FORMS:
        if f.text() == pattern:
            return f
    raise KeyError(pattern)


def _ports(kb, protocol: str):
    types = [t for t in PORT_TYPES if t in kb.port_types]
    number = st.integers(1, 65535).map(str)
    rng = st.tuples(st.integers(1, 65535), st.integers(0, 40)).map(
        lambda t: f"{t[0]}-{min(65535, t[0] + t[1])}")
    return st.one_of(number, rng, st.sampled_from(types))


@st.composite
def _instance(draw, kb, files: tuple[str, ...], form: vocab.VerbForm) -> Stmt:
    """``form`` with valid arguments for its parameters."""
    words = []
    for word in form.pattern:
        if word == "<port>":
            words.append(draw(_ports(kb, form.protocol or "tcp")))
        elif word in ("<file>", "<dir>"):
            words.append(draw(st.sampled_from(files + BASE_FILE_TYPES)))
        elif word == "<exec>":
            words.append(draw(st.sampled_from(BASE_EXEC_TYPES)))
        elif word == "<domain>":
            words.append(draw(st.sampled_from(RUN_DOMAINS)))
        else:
            words.append(word)
    return Stmt(" ".join(words), form)


def _startup_stmt(kb, files: tuple[str, ...]):
    """One statement that is valid in the entry phase (no 'io' forms)."""
    candidates = [f for f in vocab.FORMS if not f.uses]
    return st.sampled_from(candidates).flatmap(lambda f: _instance(kb, files, f))


_ALLOW_CLASSES = ("capability", "process", "file", "dir", "udp_socket", "unix_stream_socket")


@st.composite
def _raw_allow(draw, kb, files: tuple[str, ...]) -> Stmt:
    tclass = draw(st.sampled_from([c for c in _ALLOW_CLASSES if c in kb.classes]))
    valid = sorted(kb.classes[tclass])
    if tclass in ("capability", "process"):
        target = "self"
        # Keep raw allows away from what forbid groups and the compiler care about most.
        valid = [p for p in valid if p not in ("setcurrent", "dyntransition", "transition",
                                               "ptrace", "sys_module")]
    else:
        target = draw(st.sampled_from(("self",) + files + BASE_FILE_TYPES))
    kind = draw(st.sampled_from(["one", "list", "all"]))
    if kind == "all" and tclass not in ("capability", "process"):
        perms_text, perms = "*", valid
    elif kind == "list":
        perms = draw(st.lists(st.sampled_from(valid), min_size=1, max_size=4, unique=True))
        perms_text = "{ " + " ".join(perms) + " }"
    else:
        perms = [draw(st.sampled_from(valid))]
        perms_text = perms[0]
    return Stmt(f"allow {target}:{tclass} {perms_text}", None,
                tuple((tclass, p) for p in perms))


def _held(stmts, extra=(), *, conditional=True) -> set[tuple[str, str]]:
    """(class, perm) pairs a phase holds from the vocabulary alone (conservative): the rules
    its statements give the phase itself, without the conditional ones when not
    ``conditional`` (what the phase then certainly holds)."""
    out = set(extra)
    for s in stmts:
        if s.form is None:
            out.update(s.perms)
            continue
        for tpl in s.form.rules:
            # rules of other domains ($domain fd use ...) are not the phase's
            if tpl.source == "self" and (conditional or tpl.when is None):
                out.update((tpl.tclass, p) for p in tpl.perms)
    return out


def _definite(stmts, extra=()) -> tuple[tuple[str, str], ...]:
    """(class, perm) pairs a phase certainly holds: unconditional rules of its statements."""
    return tuple(sorted(_held(stmts, extra, conditional=False)))


def _violates(item: tuple, held: set[tuple[str, str]], kb, targeted=frozenset()) -> bool:
    """Whether forbid ``item`` matches a held (class, perm) pair; ``targeted`` holds the
    (target, class, perm) triples the compiler adds on an otherwise unused type."""
    kind = item[0]
    if kind == "group":
        pats = [(c, p) for c, p in vocab.FORBID_GROUPS[item[1]] if c in kb.classes]
    elif kind == "class":
        pats = [(item[1], item[2])]
    else:  # target-qualified on a type nothing but the compiler names
        _, target, cls, perms = item
        return any(t == target and c == cls and (perms is None or p in perms)
                   for t, c, p in targeted)
    for cls, perms in pats:
        for hc, hp in held:
            if hc == cls and (perms is None or hp in perms):
                return True
    return False


def _forbid_text(item: tuple) -> str:
    kind = item[0]
    if kind == "group":
        return item[1]
    if kind == "class":
        _, cls, perms = item
        if perms is None:
            return cls
        return f"{cls} {perms[0]}" if len(perms) == 1 else f"{cls} {{ {' '.join(perms)} }}"
    _, target, cls, perms = item
    head = f"{target}:{cls}"
    if perms is None:
        return head + " *"
    return f"{head} {{ {' '.join(perms)} }}"


@st.composite
def _forbid_candidates(draw, kb, n: int):
    out = []
    classes = sorted(c for c in kb.classes)
    for _ in range(n):
        kind = draw(st.sampled_from(["group", "class", "class", "target"]))
        if kind == "group":
            out.append(("group", draw(st.sampled_from(sorted(vocab.FORBID_GROUPS)))))
            continue
        cls = draw(st.sampled_from(classes))
        perms = sorted(kb.classes[cls])
        chosen = None
        if perms and draw(st.booleans()):
            chosen = tuple(sorted(draw(st.lists(st.sampled_from(perms), min_size=1,
                                                max_size=3, unique=True))))
        if kind == "class":
            out.append(("class", cls, chosen))
        else:
            target = draw(st.sampled_from([t for t in UNUSED_TYPES if t in kb.types]))
            out.append(("target", target, cls, chosen))
    return out


def _fresh_daemon_name(kb):
    def ok(name: str) -> bool:
        suffixes = ["startup", "steady", "startup_exec"] + list(OWN_FILE_NAMES)
        return not any(kb.is_type_or_attribute(f"{name}_{s}_t") for s in suffixes)

    return st.from_regex(r"zq[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(ok)


#: Compiler-added (class, perm) pairs of the entry phase: exec entry, setcon, fd plumbing.
ENTRY_EXTRAS = {("file", p) for p in ("entrypoint", "execute", "getattr", "map", "open",
                                      "read")} | {("process", "sigchld"),
                                                  ("process", "setcurrent"),
                                                  ("process", "dyntransition"),
                                                  ("fd", "use")} | {
    # the switch's libselinux checks (passes.SWITCH_CHECKS) are the switching phase's too
    (tclass, p) for _, tclass, perms in passes.SWITCH_CHECKS for p in perms}
STEADY_EXTRAS = {("fd", "use")}
#: (target, class, perm) the switching phase holds on types of :data:`UNUSED_TYPES`.
SWITCHED_TARGETS = frozenset((target, tclass, p) for target, tclass, perms in passes.SWITCH_CHECKS
                             for p in perms)


@st.composite
def valid_daemons(draw, kb) -> GeneratedDaemon:
    """A daemon that must compile against ``kb``: exec, files, startup/steady, switch, forbids."""
    name = draw(_fresh_daemon_name(kb))
    files = tuple(draw(st.lists(st.sampled_from(OWN_FILE_NAMES), max_size=3, unique=True)))

    startup = list(draw(st.lists(_startup_stmt(kb, files), max_size=8)))
    # A random subset of the openers, so 'io' forms have something to use.
    openers = draw(st.lists(st.sampled_from(sorted(_OPENERS)), max_size=4, unique=True))
    for text in openers:
        form = _OPENERS[text]
        startup.append(draw(_instance(kb, files, form)))
    startup += draw(st.lists(_raw_allow(kb, files), max_size=2))
    startup = draw(st.permutations(startup))

    opened_forms = {s.form.text() for s in startup if s.form and s.form.opens}
    opened = {s.form.opens for s in startup if s.form and s.form.opens}
    usable = []
    for text, form in sorted(_USERS.items()):
        if form.uses not in opened:
            continue
        # Typebounds: the io form's permissions on the opener's object must be held by the
        # entry phase; 'tcp accept' needs a listener, 'netlink route io' needs nlmsg_write.
        if text == "tcp accept" and "tcp listen port <port>" not in opened_forms:
            continue
        if text == "netlink route io" and "netlink route" not in opened_forms:
            continue
        usable.append(Stmt(text, form))
    copyable = [s for s in startup if s.form is None or not s.form.entry_only]
    steady = draw(st.lists(st.sampled_from(usable), unique=True)) if usable else []
    if copyable:
        steady += draw(st.lists(st.sampled_from(copyable), max_size=4))
    steady = draw(st.permutations(steady))

    # Optionally move some startup statements into a fragment included by both phases.
    fragment: list[Stmt] = []
    shared = [s for s in copyable if s.form is None or not s.form.uses]
    if shared and draw(st.booleans()):
        fragment = draw(st.lists(st.sampled_from(shared), min_size=1, max_size=3, unique=True))

    held = {"startup": _held(startup + fragment, ENTRY_EXTRAS),
            "steady": _held(steady + fragment, STEADY_EXTRAS)}
    forbids: dict[str, list[tuple]] = {}
    for phase in ("startup", "steady"):
        cands = draw(_forbid_candidates(kb, draw(st.integers(0, 6))))
        targeted = SWITCHED_TARGETS if phase == "startup" else frozenset()
        ok = [c for c in cands if not _violates(c, held[phase], kb, targeted)]
        if ok:
            forbids[phase] = ok

    # -- render -------------------------------------------------------------------------
    items: list[list[str]] = []
    exec_line = f'exec "/usr/sbin/{name}"'
    if draw(st.booleans()):
        exec_line += " from init_t"
    items.append([exec_line])
    if draw(st.booleans()):
        items.append([f'exec "/usr/lib/{name}/{name}-helper"'
                      + (" from init_t" if "from" in exec_line else "")])
    if draw(st.booleans()):
        items.append(["user nobody"])
    for f in files:
        kind = draw(st.one_of(st.none(), st.sampled_from(FILE_KIND_WORDS)))
        items.append([f'file {f} "/var/lib/{name}/{f}(/.*)?"' + (f" {kind}" if kind else "")])

    def phase(pname: str, stmts) -> list[str]:
        body = ["    " + s.text for s in stmts]
        if fragment:
            body.insert(draw(st.integers(0, len(body))), f"    include {name}_shared")
        return [f"phase {pname} {{", *body, "}"]

    items.append(phase("startup", startup))
    items.append(phase("steady", steady))
    option = draw(st.sampled_from(["-z {context}", "--setcon={context}", "-S {context}"]))
    switch = ["switch startup -> steady {", f'    option "{option}"']
    if draw(st.booleans()):
        switch.append(f'    patch "src/{name}.c" {draw(st.sampled_from(["after", "before"]))}'
                      ' "drop_privileges();"')
    items.append(switch + ["}"])
    for pname, fitems in forbids.items():
        items.append([f"forbid {pname} {{", *("    " + _forbid_text(i) for i in fitems), "}"])
    items = draw(st.permutations(items))

    lines = [f"# generated by tests/strategies.py: {name}"]
    if fragment:
        lines += [f"fragment {name}_shared {{", *("    " + s.text for s in fragment), "}", ""]
    lines.append(f"daemon {name} {{")
    for item in items:
        lines += ["    " + line for line in item]
    lines.append("}")
    definite = {
        "startup": _definite(startup + fragment, {("file", "entrypoint"), ("process", "sigchld"),
                                                  ("process", "setcurrent"),
                                                  ("process", "dyntransition")}),
        "steady": _definite(steady + fragment),
    }
    return GeneratedDaemon(name, "\n".join(lines) + "\n", tuple(startup), tuple(steady),
                           forbids, definite)


_PROVENANCE = re.compile(r"^allow .*;\t# (?P<file>[^:\s]+):(?P<line>\d+) (?P<stmt>.*)$")


def provenance_problems(te_text: str, sel_name: str, sel_text: str) -> list[str]:
    """Every ``allow`` line of a .te file that lacks a correct ``# FILE.sel:LINE STMT`` comment."""
    src = sel_text.splitlines()
    bad = []
    for line in te_text.splitlines():
        if not line.startswith("allow "):
            continue
        m = _PROVENANCE.match(line)
        if m is None:
            bad.append(f"no provenance: {line!r}")
            continue
        n = int(m["line"])
        if m["file"] != sel_name or not 1 <= n <= len(src):
            bad.append(f"bad location: {line!r}")
            continue
        stmt = " ".join(m["stmt"].split())
        source_line = " ".join(src[n - 1].split())
        if stmt not in source_line:
            bad.append(f"statement {stmt!r} is not on {sel_name}:{n} ({source_line!r})")
    return bad


#: Characters that matter to the lexer and parser, for mutating valid text.
_EDIT_CHARS = st.sampled_from(list('{}":;*#\\-> \n\r\tx1_') + ["->", "\r\n", "é", "\x00"])


@st.composite
def mutated_sources(draw) -> str:
    """Grammar-generated text with a few random edits: mostly not in the language."""
    text = draw(sel_sources())
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        if op == "insert":
            text = text[:i] + draw(_EDIT_CHARS) + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 8)):]
        else:
            text = text[:i] + draw(_EDIT_CHARS) + text[i + 1:]
    return text
