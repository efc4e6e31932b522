"""Text → :mod:`selkit.dsl.ast`: the front end's entry point.

The work is split along its seams: :mod:`.grammar` builds the Lark parser, :mod:`.to_ast`
converts its tree, :mod:`.syntax_errors` turns Lark's exceptions into coded
:class:`~selkit.diagnostics.Diagnostic` values (SEL1xx). Nothing Lark-typed escapes.
"""

from __future__ import annotations

from lark.exceptions import UnexpectedInput

from selkit.diagnostics import Diagnostic, DiagnosticError, Span
from selkit.dsl import ast
from selkit.dsl.grammar import grammar_text, lark_parser
from selkit.dsl.limits import MAX_SOURCE_BYTES
from selkit.dsl.syntax_errors import syntax_diagnostic
from selkit.dsl.to_ast import to_ast, tok_span

__all__ = ["MAX_SOURCE_BYTES", "grammar_text", "parse"]


def parse(text: str, path: str = "<input>") -> ast.Module:
    """Parse ``text`` into an AST; raise :class:`DiagnosticError` on a syntax error."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
        raise DiagnosticError([Diagnostic(
            "SEL905", f"input is larger than {MAX_SOURCE_BYTES} bytes; refusing to parse it",
            Span.point(path), hint="split it into several files and join them with 'use'")])
    try:
        tree = lark_parser().parse(text)
    except UnexpectedInput as exc:
        raise DiagnosticError([syntax_diagnostic(exc, text, path)]) from None
    module = to_ast(tree, path)
    return ast.Module(module.path, module.items, _comments(text, path))


def _comments(text: str, path: str) -> tuple[ast.Comment, ...]:
    """Every comment, found with the grammar's own lexer so strings are skipped correctly."""
    out = []
    for tok in lark_parser().lex(text, dont_ignore=True):
        if tok.type == "COMMENT":
            # COMMENT is '#[^\n]*': drop the '\r' of a CRLF line ending it swallowed.
            out.append(ast.Comment(str(tok).rstrip("\r"), tok_span(path, tok)))
    return tuple(out)
