"""Lark's syntax errors → coded diagnostics (SEL101-SEL106) whose messages name the block.

Lark reports the token it did not expect and the token types it would have taken; on their own
those make poor messages ("expected 'after' or 'before', 'allow', ..."). A light scan of the
text up to the error finds the enclosing blocks and the words of the statement being read,
and the message and hint are chosen from them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from selkit.diagnostics import Diagnostic, Related, Span
from selkit.dsl.grammar import BLOCK_KINDS
from selkit.dsl.to_ast import tok_span

#: How an expected token type is named in a message.
_TOKEN_NAMES = {
    "NAME": "a name",
    "EXEC": "'exec'",
    "FILE": "'file'",
    "USER": "'user'",
    "FROM": "'from'",
    "ANCHOR": "'after', 'before' or 'replace'",
    "PREPARE": "'prepare'",
    "CONTEXT": "'context'",
    "BUILD": "'build'",
    "FATAL": "'fatal'",
    "REPLACES": "'replaces'",
    "STRING": "a quoted string",
    "INT": "a number",
    "FAMILY": "a system call family ('@memory')",
    "RANGE": "a port range",
    "STAR": "'*'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "COLON": "':'",
    "SEMICOLON": "';'",
    "_NL": "end of line",
    "$END": "end of file",
    "_ARROW": "'->'",
}

_WORD_TYPES = frozenset({"NAME", "EXEC", "FILE", "USER", "FROM", "ANCHOR", "PREPARE",
                         "CONTEXT", "BUILD", "FATAL", "REPLACES"})
_KEYWORD_TYPES = frozenset({"USE", "FRAGMENT", "DAEMON", "PHASE", "ALLOW", "INCLUDE", "SWITCH",
                            "OPTION", "PATCH", "FORBID", "MODULE", "SYSCALLS", "EXEC", "FILE",
                            "USER", "FROM", "ANCHOR", "PREPARE", "CONTEXT", "BUILD",
                            "FATAL", "REPLACES"})
_PHASE_HOLDS = ("statements such as 'stdio' or 'tcp connect port ssh_port_t', "
                "'allow TYPE:CLASS PERMS', 'syscalls allow|deny|default ...' and "
                "'include FRAGMENT'")

#: What each kind of block holds (None: the top level of a file).
_BLOCK_HOLDS = {
    None: "a file holds 'daemon NAME { ... }', 'fragment NAME { ... }' and 'use \"FILE\"'",
    "daemon": "a daemon holds exec, module, user, file, phase, switch and forbid",
    "phase": "a phase holds " + _PHASE_HOLDS,
    "fragment": "a fragment holds " + _PHASE_HOLDS,
    "switch": "a switch holds 'option \"... {context} ...\"', 'context \"EXPR\"', "
              "'build \"MACRO\"', 'prepare \"FILE\" before \"TEXT\"' and "
              "'patch \"FILE\" replace \"TEXT\"' and 'fatal \"C CODE\"'",
    "forbid": "a forbid holds groups such as 'exec' or 'write', 'CLASS PERMS' and "
              "'TYPE: CLASS PERMS'",
}

#: Token types that may begin a statement in each kind of block.
_STARTS = {
    None: frozenset({"DAEMON", "FRAGMENT", "USE"}),
    "daemon": frozenset({"EXEC", "MODULE", "USER", "FILE", "PHASE", "SWITCH", "FORBID"}),
    "phase": _WORD_TYPES | {"ALLOW", "INCLUDE", "SYSCALLS"},
    "fragment": _WORD_TYPES | {"ALLOW", "INCLUDE", "SYSCALLS"},
    "switch": frozenset({"OPTION", "PATCH", "PREPARE", "CONTEXT", "BUILD"}),
    "forbid": _WORD_TYPES,
}

#: The kind of block a keyword that starts a statement belongs in (None: the top level).
_PARENT = {
    "DAEMON": (None,), "FRAGMENT": (None,), "USE": (None,),
    "EXEC": ("daemon",), "USER": ("daemon",), "FILE": ("daemon",), "PHASE": ("daemon",),
    "SWITCH": ("daemon",), "FORBID": ("daemon",), "MODULE": ("daemon",),
    "ALLOW": ("phase", "fragment"), "INCLUDE": ("phase", "fragment"),
    "SYSCALLS": ("phase", "fragment"),
    "OPTION": ("switch",), "PATCH": ("switch",), "PREPARE": ("switch",),
    "CONTEXT": ("switch",), "BUILD": ("switch",),
}

#: Where a keyword that starts a statement belongs, in words.
_BELONGS = {
    "DAEMON": "at the top level of the file",
    "FRAGMENT": "at the top level of the file",
    "USE": "at the top level of the file, outside every block",
    "EXEC": "inside 'daemon NAME { ... }'",
    "USER": "inside 'daemon NAME { ... }'",
    "FILE": "inside 'daemon NAME { ... }'",
    "PHASE": "inside 'daemon NAME { ... }'",
    "SWITCH": "inside 'daemon NAME { ... }'",
    "FORBID": "inside 'daemon NAME { ... }'",
    "MODULE": "inside 'daemon NAME { ... }'",
    "ALLOW": "inside 'phase NAME { ... }' or 'fragment NAME { ... }'",
    "INCLUDE": "inside 'phase NAME { ... }' or 'fragment NAME { ... }'",
    "SYSCALLS": "inside 'phase NAME { ... }' or 'fragment NAME { ... }'",
    "OPTION": "inside 'switch FROM -> TO { ... }'",
    "PATCH": "inside 'switch FROM -> TO { ... }'",
    "PREPARE": "inside 'switch FROM -> TO { ... }'",
    "CONTEXT": "inside 'switch FROM -> TO { ... }'",
    "BUILD": "inside 'switch FROM -> TO { ... }'",
}

# Possessive '*+': a long unterminated string must not grow the regex backtracking stack.
_SCAN = re.compile(r'"(?:[^"\\\n]|\\.)*+"?|#[^\n]*|[A-Za-z_][A-Za-z0-9_]*|\n|\S')
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FREE_TEXT = re.compile(r'[^\s;{}#"]*')


@dataclass
class _Block:
    """A '{' that is still open at the point of an error."""

    kind: str      # daemon, phase, fragment, switch, forbid, or "list" ('{ perm ... }')
    name: str      # the word after the keyword, '' if none
    line: int
    column: int
    indent: int    # indentation of the line the block starts on

    def label(self) -> str:
        if self.kind == "list":
            return "the permission list"
        return f"{self.kind} '{self.name}'" if self.name else f"the {self.kind} block"


@dataclass
class _Scan:
    """The blocks open at a point (outermost first) and the words of its statement so far."""

    blocks: list[_Block]
    statement: list[str]
    #: The first '}' whose indentation does not match the line that opened its block, as
    #: (block it closed, its line, block it lines up with or None).
    misindented: tuple[_Block, int, _Block | None] | None = None


def _scan(text: str, end: int) -> _Scan:
    """Scan ``text[:end]`` the way the lexer would (strings and comments skipped)."""
    blocks: list[_Block] = []
    stmt: list[str] = []
    misindented = None
    line, line_start = 1, 0
    for m in _SCAN.finditer(text, 0, end):
        tok = m.group()
        first = tok[0]
        if first == "\n":
            line, line_start = line + 1, m.end()
            stmt = []
        elif first == "#":
            continue
        elif first == ";":
            stmt = []
        elif first == "{":
            kind = stmt[0] if stmt and stmt[0] in BLOCK_KINDS else "list"
            name = stmt[1] if kind != "list" and len(stmt) > 1 and _NAME.fullmatch(stmt[1]) else ""
            indent = len(text[line_start:m.start()]) - len(text[line_start:m.start()].lstrip())
            blocks.append(_Block(kind, name, line, m.start() - line_start + 1, indent))
            stmt = []
        elif first == "}":
            before = text[line_start:m.start()]
            if blocks:
                closed = blocks.pop()
                if (misindented is None and closed.kind != "list" and not before.strip()
                        and len(before) != closed.indent):
                    match = next((b for b in reversed(blocks) if b.indent == len(before)), None)
                    misindented = (closed, line, match)
            # A block ends its statement, but a separator must still follow the '}'.
            stmt = ["}"]
        else:
            stmt.append(tok)
    return _Scan(blocks, stmt, misindented)


def _token_text(tok: Token) -> str:
    kind = tok.type
    if kind == "_NL":
        return "end of line"
    if kind == "SEMICOLON":
        return "';'"
    if kind in _KEYWORD_TYPES - _WORD_TYPES:
        return f"keyword '{tok}'"
    if kind == "NAME":
        return f"name '{tok}'"
    if kind == "STRING":
        return f"string {tok}"
    if kind == "INT":
        return f"number {tok}"
    if kind == "FAMILY":
        return f"family {tok}"
    if kind == "RANGE":
        return f"port range {tok}"
    return f"'{tok}'"


def _expected_text(expected: Iterable[str]) -> str:
    """``expected`` token types as 'x, y or z', words collapsed into 'a name'."""
    types = set(expected)
    if "NAME" in types:
        types -= _WORD_TYPES - {"NAME"}
    keywords = sorted(f"'{t.lower()}'" for t in types if t in _KEYWORD_TYPES and t != "ANCHOR")
    if "ANCHOR" in types:
        keywords.append("'after', 'before' or 'replace'")
    order = ("NAME", "STRING", "INT", "FAMILY", "RANGE", "STAR", "COLON", "_ARROW", "LBRACE",
             "RBRACE", "SEMICOLON", "_NL", "$END")
    rest = [_TOKEN_NAMES[t] for t in order if t in types]
    names = keywords + rest
    if not names:
        return ""
    return "expected " + (names[0] if len(names) == 1 else
                          ", ".join(names[:-1]) + " or " + names[-1])


def _eof_span(text: str, path: str) -> Span:
    """Just after the last character of the file that is not blank."""
    body = text.rstrip()
    line = body.count("\n") + 1
    return Span.point(path, line, len(body) - (body.rfind("\n") + 1) + 1)


def syntax_diagnostic(exc: UnexpectedInput, text: str, path: str) -> Diagnostic:
    """The diagnostic for Lark's ``exc``, raised while parsing ``text`` (the file ``path``)."""
    if isinstance(exc, UnexpectedCharacters):
        return _bad_character(exc, text, path)
    if isinstance(exc, UnexpectedEOF) or (
            isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        return _unexpected_end(exc, text, path)
    assert isinstance(exc, UnexpectedToken), "this is a bug."
    return _unexpected_token(exc, text, path)


def _whole_match(match: re.Match[str] | None) -> str:
    """The text of a match of a pattern that matches the empty string (so never ``None``)."""
    assert match is not None, "this is a bug."
    return match.group()


def _bad_character(exc: UnexpectedCharacters, text: str, path: str) -> Diagnostic:
    # Lark declares pos_in_stream None on the base class; UnexpectedCharacters sets the lexer's
    # position, an int.
    pos = cast(int, exc.pos_in_stream)
    char = text[pos] if pos < len(text) else ""
    span = Span.point(path, exc.line, exc.column)
    if char == '"':
        end = text.find("\n", pos)
        rest = text[pos:len(text) if end < 0 else end].rstrip("\r")
        return Diagnostic("SEL104", "unterminated string",
                          Span(path, exc.line, exc.column, exc.line,
                               exc.column + max(1, len(rest))),
                          hint="close the string with '\"' on the same line")
    run = _whole_match(_FREE_TEXT.match(text, pos))
    prev = text[pos - 1] if pos else ""
    shown = char if char.isprintable() else repr(char)[1:-1]
    if char == "\ufeff":
        shown, hint = "\\ufeff", "remove the byte order mark: save the file as UTF-8 without BOM"
    elif char in "\u201c\u201d\u201e\u2018\u2019\u00ab\u00bb":
        hint = "use straight double quotes '\"' around strings"
    elif char == "'":
        hint = f"strings use double quotes: \"{run.strip(chr(39))}\""
    elif char == "-" and (prev.isalnum() or prev == "_") and not prev.isdigit():
        start = pos
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
            start -= 1
        word = _whole_match(re.match(r"[A-Za-z0-9_-]*", text[start:start + 200]))
        hint = f"names use '_' rather than '-': {word.replace('-', '_')}"
    elif char == "-" and len(run) > 1:
        hint = f"options and other free text are written as strings: \"{run}\""
    elif char == "-":
        hint = "a port range is written without spaces: 6000-6010"
    elif char == ",":
        hint = ("',' separates nothing: statements and forbid items are separated by ';' or "
                "a line break, the permissions of '{ ... }' by blanks")
    elif char in "/.~" and len(run) > 1:
        hint = f"paths are written as strings: \"{run}\""
    else:
        hint = "names are letters, digits and '_'; strings are double-quoted"
    return Diagnostic("SEL102", f"unexpected character '{shown}'", span, hint=hint)


def _unexpected_end(exc: UnexpectedInput, text: str, path: str) -> Diagnostic:
    end = _eof_span(text, path)
    scan = _scan(text, len(text))
    if not scan.blocks:
        expected = _expected_text(getattr(exc, "expected", ()) or ())
        return Diagnostic("SEL103", "unexpected end of file", end, hint=expected or None)
    block = scan.blocks[-1]
    hint = f"add the '}}' that closes {block.label()}"
    if scan.misindented is not None:
        closed, line, lines_up = scan.misindented
        if lines_up is not None:
            hint = (f"the '}}' on line {line} closes {closed.label()} but is indented like "
                    f"{lines_up.label()}: is the '}}' of {closed.label()} missing?")
    return Diagnostic("SEL103", f"unclosed '{{': the file ends inside {block.label()}",
                      Span.point(path, block.line, block.column), hint=hint,
                      related=(Related(end, "the file ends here"),))


def _unexpected_token(exc: UnexpectedToken, text: str, path: str) -> Diagnostic:
    tok = exc.token
    span = Span.point(path, tok.line, tok.column) if tok.type == "_NL" else tok_span(path, tok)
    scan = _scan(text, tok.start_pos)
    block = scan.blocks[-1] if scan.blocks else None
    if tok.type == "RBRACE" and block is None:
        return Diagnostic("SEL106", "'}' without a matching '{'", span,
                          hint="remove it, or open the block it closes")
    kind = block.kind if block else None
    where = f"in {block.label()}" if block else "at the top level"
    what = _token_text(tok)
    expected = set(exc.expected)
    stmt = scan.statement
    message = f"unexpected {what} {where}"
    if kind == "list":
        hint = ("a permission list is written on one line: { read open }" if tok.type == "_NL"
                else "permissions are separated by spaces: { read open }"
                if tok.type == "SEMICOLON" else _expected_text(expected))
    elif stmt and tok.type in _STARTS.get(kind, ()) and expected & {"_NL", "SEMICOLON"}:
        message = f"expected the end of the statement before {what}"
        hint = "put each statement on a line of its own, or separate them with ';'"
    elif expected == {"LBRACE"}:
        opener = stmt[0] if stmt and stmt[0] in BLOCK_KINDS else None
        message = f"expected '{{' to open the {opener} block" if opener else "expected '{'"
        hint = "put '{' at the end of this line: " + " ".join(stmt) + " {"
    elif expected == {"_ARROW"}:
        hint = "a switch is written: switch FROM -> TO { ... }"
    elif expected == {"COLON"} and stmt[:1] == ["allow"]:
        hint = "an allow is written: allow TYPE:CLASS PERMS (for example allow etc_t:file read)"
    elif stmt == ["syscalls"]:
        hint = ("expected allow, deny or default: syscalls allow|deny NAME|@FAMILY ..., "
                "syscalls default ACTION")
    elif not stmt:
        hint = _misplaced(tok, block, scan) or _BLOCK_HOLDS[kind]
    else:
        hint = _expected_text(expected)
    return Diagnostic("SEL101", message, span, hint=hint or None)


def _misplaced(tok: Token, block: _Block | None, scan: _Scan) -> str | None:
    """A hint for a statement that starts with a token its block does not hold."""
    kind = block.kind if block else None
    if tok.type == "PHASE" and kind == "fragment":
        return "a fragment holds the statements of a phase, not phases"
    if tok.type == "STRING" and _NAME.fullmatch(str(tok)[1:-1]) and kind in (
            "phase", "fragment", "forbid"):
        return f"names are not quoted: {str(tok)[1:-1]}"
    if tok.type in _BELONGS:
        parents = _PARENT[tok.type]
        outer = [b.kind for b in scan.blocks[:-1]]
        if block is not None and tok.type != "USE" and (
                None in parents or any(p in outer for p in parents)):
            # It fits an enclosing block: the '}' of the innermost one is probably missing.
            return (f"{block.label()} (line {block.line}) is still open here: is its '}}' "
                    "missing?")
        return f"'{tok}' belongs {_BELONGS[tok.type]}"
    if tok.type == "NAME" and kind is None:
        return (f"a statement such as '{tok}' belongs inside 'phase NAME {{ ... }}', which "
                "belongs inside 'daemon NAME { ... }'")
    if tok.type == "NAME" and kind == "daemon":
        return f"a statement such as '{tok}' belongs inside 'phase NAME {{ ... }}'"
    return None
