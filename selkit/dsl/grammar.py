"""The compiled grammar (``selkit.lark``) and the post-lexer that makes statement keywords.

The only module that builds a Lark parser; :mod:`selkit.dsl.parser` runs it.
"""

from __future__ import annotations

import contextlib
import functools
from contextvars import ContextVar
from importlib import resources

from lark import Lark, Token, Tree
from lark.lark import PostLex

from selkit.cache import cache_root

#: The keywords that open a block of statements.
BLOCK_KINDS = ("daemon", "phase", "fragment", "switch", "forbid")

#: Keyword text → terminal type, for keywords that are not words (see ``_word`` in the grammar).
_RESERVED: dict[str, str] = {}


class _StatementKeywords(PostLex):
    """A reserved keyword that starts a statement is the keyword, wherever the statement is.

    The contextual lexer decides keyword-or-name from the LALR state: right after ``{`` a word
    such as ``option`` lexed as a name, after a newline or ``;`` (a state shared by every kind
    of block) as the keyword, so ``phase p { option "x" }`` parsed and the same text on two
    lines did not, and ``selkit fmt`` turned the one into the other. Elsewhere (``fd use``)
    such words stay names.
    """

    always_accept = ()

    def process(self, stream):
        blocks = {_RESERVED[k] for k in BLOCK_KINDS if k in _RESERVED}
        start, first = True, None  # at a statement's start; the type of its first token
        for tok in stream:
            if start and tok.type == "NAME" and tok.value in _RESERVED:
                tok = Token.new_borrow_pos(_RESERVED[tok.value], tok.value, tok)
            kind = tok.type
            if kind in ("_NL", "SEMICOLON"):
                start, first = True, None
            elif kind == "LBRACE":  # a block's body starts statements; '{ perm ... }' does not
                start = first in blocks
            elif start:
                start, first = False, kind
            yield tok


def grammar_text() -> str:
    """The grammar source (used by the property tests and the reference)."""
    return resources.files("selkit.dsl").joinpath("selkit.lark").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The LALR parser for ``.sel`` text, built once per process and cached across them.

    Lark keeps the analysed grammar in the cache file, checked against a hash of the grammar,
    the options and Lark's version; a missing or read-only cache only costs the build. A parser
    loaded from the cache parses and lexes like a built one but lacks the grammar object
    (``grammar``, ``ignore_tokens``): tools that read the grammar use :func:`full_parser`.
    """
    cache = cache_root() / "grammar.lark-cache"
    with contextlib.suppress(OSError):
        cache.parent.mkdir(parents=True, exist_ok=True)
    return _with_keywords(_build(cache=str(cache)))


@functools.lru_cache(maxsize=1)
def full_parser() -> Lark:
    """The same parser built from the grammar, with every attribute Lark gives."""
    return _with_keywords(_build())


def _build(**options) -> Lark:
    return Lark(grammar_text(), parser="lalr", propagate_positions=True,
                maybe_placeholders=False, postlex=_StatementKeywords(),
                lexer_callbacks={"COMMENT": _keep_comment}, **options)


#: Where the lexer puts the comments of the text being parsed (see :func:`parse_keeping_comments`).
_COMMENTS: ContextVar[list[Token] | None] = ContextVar("selkit_dsl_comments", default=None)


def _keep_comment(token: Token) -> Token:
    sink = _COMMENTS.get()
    if sink is not None:
        sink.append(token)
    return token


def parse_keeping_comments(text: str) -> tuple[Tree, list[Token]]:
    """The parse tree of ``text`` and its comment tokens, in one pass of the lexer (comments
    are ignored by the grammar; the lexer hands each to a callback on its way)."""
    found: list[Token] = []
    reset = _COMMENTS.set(found)
    try:
        return lark_parser().parse(text), found
    finally:
        _COMMENTS.reset(reset)


def _with_keywords(lark: Lark) -> Lark:
    """``lark``, once the post-lexer knows the grammar's reserved keywords."""
    words = {s.name for r in lark.rules if r.origin.name == "_word" for s in r.expansion}
    _RESERVED.update({t.pattern.value: t.name for t in lark.terminals
                      if t.pattern.type == "str" and t.pattern.value.isidentifier()
                      and t.name not in words})
    return lark
