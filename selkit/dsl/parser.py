"""Text → :mod:`selkit.dsl.ast`. The only module that touches Lark.

Lark's exceptions are converted here into coded :class:`~selkit.diagnostics.Diagnostic` values
(SEL1xx); nothing Lark-typed escapes.
"""

from __future__ import annotations

import functools
from importlib import resources

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from selkit.diagnostics import Diagnostic, DiagnosticError, Related, Span
from selkit.dsl import ast

#: Inputs above this size are refused before parsing (SEL905), which bounds time and memory.
MAX_SOURCE_BYTES = 1 << 20

_TOKEN_NAMES = {
    "NAME": "a name",
    "EXEC": "'exec'",
    "FILE": "'file'",
    "USER": "'user'",
    "FROM": "'from'",
    "ANCHOR": "'after' or 'before'",
    "STRING": "a quoted string",
    "INT": "a number",
    "RANGE": "a port range",
    "STAR": "'*'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "COLON": "':'",
    "SEMICOLON": "';'",
    "_NL": "end of line",
    "$END": "end of file",
    "__ANON_0": "'->'",
}


@functools.lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = resources.files("selkit.dsl").joinpath("selkit.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def grammar_text() -> str:
    """The grammar source (used by the property tests and the reference)."""
    return resources.files("selkit.dsl").joinpath("selkit.lark").read_text(encoding="utf-8")


def parse(text: str, path: str = "<input>") -> ast.Module:
    """Parse ``text`` into an AST; raise :class:`DiagnosticError` on a syntax error."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
        raise DiagnosticError([Diagnostic(
            "SEL905", f"input is larger than {MAX_SOURCE_BYTES} bytes; refusing to parse it",
            Span.point(path))])
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as exc:
        raise DiagnosticError([_syntax_diagnostic(exc, text, path)]) from None
    module = _ToAst(path).transform(tree)
    return ast.Module(module.path, module.items, _comments(text, path))


def _comments(text: str, path: str) -> tuple[ast.Comment, ...]:
    """Every comment, found with the grammar's own lexer so strings are skipped correctly."""
    out = []
    for tok in _lark().lex(text, dont_ignore=True):
        if tok.type == "COMMENT":
            out.append(ast.Comment(str(tok), _tok_span(path, tok)))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Tree → AST


def _tok_span(path: str, tok: Token) -> Span:
    return Span(path, tok.line, tok.column, tok.end_line, tok.end_column)


def _unescape(raw: str) -> str:
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


class _ToAst(Transformer):
    """Bottom-up conversion of Lark's tree into :mod:`ast` nodes."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path

    def _span(self, meta) -> Span:
        return Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def _word(self, tok: Token) -> ast.Word:
        return ast.Word(str(tok), _tok_span(self.path, tok))

    def _str(self, tok: Token) -> ast.Str:
        return ast.Str(_unescape(str(tok)), str(tok), _tok_span(self.path, tok))

    @v_args(meta=True)
    def start(self, meta, items):
        return ast.Module(self.path, tuple(items))

    @v_args(meta=True)
    def use_stmt(self, meta, items):
        return ast.Use(self._str(items[0]), self._span(meta))

    @v_args(meta=True)
    def fragment_def(self, meta, items):
        return ast.Fragment(self._word(items[0]), tuple(items[1:]), self._span(meta))

    @v_args(meta=True)
    def daemon_def(self, meta, items):
        return ast.Daemon(self._word(items[0]), tuple(items[1:]), self._span(meta))

    @v_args(meta=True)
    def exec_stmt(self, meta, items):
        source = self._word(items[3]) if len(items) > 2 else None
        return ast.Exec(self._str(items[1]), source, self._span(meta))

    @v_args(meta=True)
    def user_stmt(self, meta, items):
        return ast.User(self._word(items[1]), self._span(meta))

    @v_args(meta=True)
    def file_stmt(self, meta, items):
        kind = self._word(items[3]) if len(items) > 3 else None
        return ast.FileDecl(self._word(items[1]), self._str(items[2]), kind, self._span(meta))

    @v_args(meta=True)
    def phase_def(self, meta, items):
        return ast.Phase(self._word(items[0]), tuple(items[1:]), self._span(meta))

    @v_args(meta=True)
    def allow_stmt(self, meta, items):
        return ast.Allow(self._word(items[0]), self._word(items[1]), items[2], self._span(meta))

    @v_args(meta=True)
    def include_stmt(self, meta, items):
        return ast.Include(self._word(items[0]), self._span(meta))

    @v_args(meta=True)
    def verb_stmt(self, meta, items):
        args = tuple(self._arg(t) for t in items[1:])
        return ast.Verb(self._word(items[0]), args, self._span(meta))

    def _arg(self, tok: Token) -> ast.Arg:
        kind = {"INT": "int", "RANGE": "range", "STRING": "string", "STAR": "star"}.get(
            tok.type, "word")
        text = _unescape(str(tok)) if kind == "string" else str(tok)
        return ast.Arg(kind, text, _tok_span(self.path, tok))

    @v_args(meta=True)
    def perm_one(self, meta, items):
        return ast.PermSet("one", (self._word(items[0]),), self._span(meta))

    @v_args(meta=True)
    def perm_all(self, meta, items):
        return ast.PermSet("all", (), self._span(meta))

    @v_args(meta=True)
    def perm_list(self, meta, items):
        return ast.PermSet("list", tuple(self._word(t) for t in items), self._span(meta))

    @v_args(meta=True)
    def switch_def(self, meta, items):
        return ast.Switch(self._word(items[0]), self._word(items[1]), tuple(items[2:]),
                          self._span(meta))

    @v_args(meta=True)
    def option_stmt(self, meta, items):
        return ast.Option(self._str(items[0]), self._span(meta))

    @v_args(meta=True)
    def patch_stmt(self, meta, items):
        return ast.PatchAnchor(self._str(items[0]), self._word(items[1]), self._str(items[2]),
                               self._span(meta))

    @v_args(meta=True)
    def forbid_def(self, meta, items):
        return ast.Forbid(self._word(items[0]), tuple(items[1:]), self._span(meta))

    @v_args(meta=True)
    def forbid_item(self, meta, items):
        perms = items[-1] if isinstance(items[-1], ast.PermSet) else None
        words = [i for i in items if isinstance(i, Token)]
        target = self._word(words[0]) if len(words) == 2 else None
        return ast.ForbidItem(target, self._word(words[-1]), perms, self._span(meta))


# ---------------------------------------------------------------------------------------------
# Syntax errors


def _describe(tok_type: str) -> str:
    return _TOKEN_NAMES.get(tok_type, f"'{tok_type.lower()}'")


def _expected(exc: UnexpectedToken | UnexpectedEOF) -> str:
    names = sorted({_describe(t) for t in exc.expected if not t.startswith("_") or t == "_NL"})
    if not names:
        return ""
    if len(names) > 6:
        names = names[:6] + ["..."]
    return "expected " + ", ".join(names)


def _unclosed_brace(text: str, path: str) -> Span | None:
    """The last '{' that has no matching '}', ignoring strings and comments."""
    stack: list[tuple[int, int]] = []
    line, col, i = 1, 1, 0
    in_str = in_comment = False
    while i < len(text):
        ch = text[i]
        if in_comment:
            if ch == "\n":
                in_comment = False
        elif in_str:
            if ch == "\\":
                i += 1
                col += 1
            elif ch == '"' or ch == "\n":
                in_str = False
        elif ch == "#":
            in_comment = True
        elif ch == '"':
            in_str = True
        elif ch == "{":
            stack.append((line, col))
        elif ch == "}" and stack:
            stack.pop()
        if ch == "\n":
            line, col = line + 1, 1
        else:
            col += 1
        i += 1
    if not stack:
        return None
    ln, cl = stack[-1]
    return Span.point(path, ln, cl)


def _syntax_diagnostic(exc: UnexpectedInput, text: str, path: str) -> Diagnostic:
    lines = text.splitlines() or [""]
    if isinstance(exc, UnexpectedCharacters):
        span = Span.point(path, exc.line, exc.column)
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        if char == '"':
            rest = lines[exc.line - 1][exc.column - 1:] if exc.line <= len(lines) else ""
            return Diagnostic("SEL104", "unterminated string",
                              Span(path, exc.line, exc.column, exc.line,
                                   exc.column + max(1, len(rest))),
                              hint="close the string with '\"' on the same line")
        if char == "-" and text[exc.pos_in_stream:exc.pos_in_stream + 2] != "->":
            return Diagnostic("SEL102", "unexpected character '-'", span,
                              hint="names use '_' rather than '-'; a port range is written 6000-6010")
        shown = repr(char)[1:-1] if char else "end of input"
        return Diagnostic("SEL102", f"unexpected character '{shown}'", span,
                          hint="names are letters, digits and '_'; strings are double-quoted")
    if isinstance(exc, UnexpectedEOF) or (
            isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        last = len(lines)
        span = Span.point(path, last, len(lines[-1]) + 1 if lines else 1)
        opened = _unclosed_brace(text, path)
        related = (Related(opened, "this '{' is never closed"),) if opened else ()
        return Diagnostic("SEL103", "unexpected end of file", opened or span,
                          hint="add the missing '}'" if opened else _expected(exc) or None,
                          related=related if opened else ())
    assert isinstance(exc, UnexpectedToken), "this is a bug."
    tok = exc.token
    span = _tok_span(path, tok) if tok.line is not None else Span.point(path, exc.line, exc.column)
    if tok.type == "RBRACE" and _unbalanced_close(text, tok.start_pos):
        return Diagnostic("SEL106", "'}' without a matching '{'", span,
                          hint="remove it, or open the block it closes")
    if tok.type == "_NL" or tok.type == "SEMICOLON":
        what = "end of statement"
    else:
        what = f"{_describe(tok.type)} '{tok}'" if tok.type not in ("RBRACE", "LBRACE",
                                                                     "COLON", "STAR") else _describe(tok.type)
    hint = _expected(exc)
    message = f"unexpected {what}"
    code = "SEL101"
    if tok.type == "NAME" and "'{'" in hint and "a name" not in hint:
        message += " (a block must start with '{')"
    return Diagnostic(code, message, span, hint=hint or None)


def _unbalanced_close(text: str, pos: int) -> bool:
    return _depth(text[:pos]) == 0


def _depth(text: str) -> int:
    depth, in_str, in_comment, i = 0, False, False, 0
    while i < len(text):
        ch = text[i]
        if in_comment:
            in_comment = ch != "\n"
        elif in_str:
            if ch == "\\":
                i += 1
            elif ch in '"\n':
                in_str = False
        elif ch == "#":
            in_comment = True
        elif ch == '"':
            in_str = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        i += 1
    return depth
