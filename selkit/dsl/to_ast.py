"""Lark's parse tree → :mod:`selkit.dsl.ast` nodes; no Lark type survives the conversion."""

from __future__ import annotations

from lark import Token, Transformer, Tree, v_args

from selkit.diagnostics import Span
from selkit.dsl import ast

#: Terminal type of a verb argument → its kind (every other terminal is a word).
_ARG_KINDS = {"INT": ast.ArgKind.INT, "RANGE": ast.ArgKind.RANGE,
              "STRING": ast.ArgKind.STRING, "STAR": ast.ArgKind.STAR}


def to_ast(tree: Tree, path: str) -> ast.Module:
    """The module that ``tree`` (parsed from the file ``path``) denotes, without comments."""
    return _ToAst(path).transform(tree)


def tok_span(path: str, tok: Token) -> Span:
    """Where ``tok`` is in the file ``path``."""
    # Lark types a token's position Optional; every token its lexer makes has one.
    assert (tok.line is not None and tok.column is not None and tok.end_line is not None
            and tok.end_column is not None), "this is a bug."
    return Span(path, tok.line, tok.column, tok.end_line, tok.end_column)


def unescape(raw: str) -> str:
    """The value of the quoted string ``raw``: quotes dropped, ``\\n``/``\\t``/``\\x`` resolved."""
    body = raw[1:-1]
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


@v_args(meta=True, inline=True)
class _ToAst(Transformer):
    """Bottom-up conversion: one method per grammar rule, called with the rule's parts.

    Keyword tokens that the grammar keeps (``EXEC``, ``USER``, ``FILE``, ``FROM``, ``PREPARE``,
    ``CONTEXT``, ``BUILD``, ``FATAL``: they double as words elsewhere) arrive as parts named
    ``_keyword``; ``REPLACES`` after a module name is kept as a word of the node."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path

    def _span(self, meta) -> Span:
        return Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def _word(self, tok: Token) -> ast.Word:
        return ast.Word(str(tok), tok_span(self.path, tok))

    def _str(self, tok: Token) -> ast.Str:
        return ast.Str(unescape(str(tok)), str(tok), tok_span(self.path, tok))

    def _arg(self, tok: Token) -> ast.Arg:
        kind = _ARG_KINDS.get(tok.type, ast.ArgKind.WORD)
        text = unescape(str(tok)) if kind is ast.ArgKind.STRING else str(tok)
        return ast.Arg(kind, text, tok_span(self.path, tok))

    def start(self, meta, *items):
        return ast.Module(self.path, items)

    def use_stmt(self, meta, path):
        return ast.Use(self._str(path), self._span(meta))

    def fragment_def(self, meta, name, *body):
        return ast.Fragment(self._word(name), body, self._span(meta))

    def daemon_def(self, meta, name, *items):
        return ast.Daemon(self._word(name), items, self._span(meta))

    def exec_stmt(self, meta, _keyword, path, _from=None, source=None):
        source = self._word(source) if source is not None else None
        return ast.Exec(self._str(path), source, self._span(meta))

    def user_stmt(self, meta, _keyword, name):
        return ast.User(self._word(name), self._span(meta))

    def module_stmt(self, meta, name, replaces=None):
        return ast.ModuleName(self._word(name), self._span(meta),
                              self._word(replaces) if replaces is not None else None)

    def file_stmt(self, meta, _keyword, name, regex, kind=None):
        kind = self._word(kind) if kind is not None else None
        return ast.FileDecl(self._word(name), self._str(regex), kind, self._span(meta))

    def phase_def(self, meta, name, *body):
        return ast.Phase(self._word(name), body, self._span(meta))

    def allow_stmt(self, meta, target, tclass, perms):
        return ast.Allow(self._word(target), self._word(tclass), perms, self._span(meta))

    def include_stmt(self, meta, name):
        return ast.Include(self._word(name), self._span(meta))

    def syscalls_stmt(self, meta, action, *items):
        return ast.Syscalls(self._word(action), tuple(self._word(i) for i in items),
                            self._span(meta))

    def verb_stmt(self, meta, name, *args):
        return ast.Verb(self._word(name), tuple(self._arg(a) for a in args), self._span(meta))

    def perm_one(self, meta, perm):
        return ast.PermSet(ast.PermKind.ONE, (self._word(perm),), self._span(meta))

    def perm_all(self, meta, _star):
        return ast.PermSet(ast.PermKind.ALL, (), self._span(meta))

    def perm_list(self, meta, *perms):
        return ast.PermSet(ast.PermKind.LIST, tuple(self._word(p) for p in perms),
                           self._span(meta))

    def switch_def(self, meta, source, target, *items):
        return ast.Switch(self._word(source), self._word(target), items, self._span(meta))

    def option_stmt(self, meta, template):
        return ast.Option(self._str(template), self._span(meta))

    def patch_stmt(self, meta, file, position, anchor):
        return ast.PatchAnchor(self._str(file), self._word(position), self._str(anchor),
                               self._span(meta))

    def prepare_stmt(self, meta, _keyword, file, position, anchor):
        return ast.PrepareAnchor(self._str(file), self._word(position), self._str(anchor),
                                 self._span(meta))

    def context_stmt(self, meta, _keyword, expr):
        return ast.ContextExpr(self._str(expr), self._span(meta))

    def build_stmt(self, meta, _keyword, macro):
        return ast.BuildMacro(self._str(macro), self._span(meta))

    def fatal_stmt(self, meta, _keyword, report):
        return ast.FatalReport(self._str(report), self._span(meta))

    def forbid_def(self, meta, phase, *items):
        return ast.Forbid(self._word(phase), items, self._span(meta))

    def forbid_item(self, meta, *parts):
        # '[TARGET:] NAME [PERMS]': the words come first, the permission set (a node) last.
        perms = parts[-1] if isinstance(parts[-1], ast.PermSet) else None
        *target, name = (self._word(p) for p in parts if isinstance(p, Token))
        return ast.ForbidItem(target[0] if target else None, name, perms, self._span(meta))
