"""Text → :mod:`selkit.dsl.ast`: the front end's entry point.

The work is split along its seams: :mod:`.grammar` builds the Lark parser, :mod:`.to_ast`
converts its tree, :mod:`.syntax_errors` turns Lark's exceptions into coded
:class:`~selkit.diagnostics.Diagnostic` values (SEL1xx). Nothing Lark-typed escapes.
"""

from __future__ import annotations

from lark.exceptions import UnexpectedInput

from selkit.diagnostics import Diagnostic, DiagnosticError, Span
from selkit.dsl import ast
from selkit.dsl.grammar import grammar_text, parse_keeping_comments
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
        tree, comments = parse_keeping_comments(text)
    except UnexpectedInput as exc:
        raise DiagnosticError([syntax_diagnostic(exc, text, path)]) from None
    module = to_ast(tree, path)
    # COMMENT is '#[^\n]*': drop the '\r' of a CRLF line ending it swallowed.
    return ast.Module(module.path, module.items, tuple(
        ast.Comment(str(tok).rstrip("\r"), tok_span(path, tok)) for tok in comments))
