"""AST → canonical ``.sel`` text (``selkit fmt``, and the print → parse round-trip tests).

Comments are kept on the module (:class:`~selkit.dsl.ast.Comment`) and put back next to the
statements they preceded, or after the statement, ``{`` or ``}`` they trailed.
"""

from __future__ import annotations

from typing import assert_never

from selkit.dsl import ast

INDENT = "    "


def format_module(module: ast.Module) -> str:
    """The canonical text of a whole file, comments kept in place.

    Canonical means: one statement per line, four-space indentation, ``{ ... }`` permission
    sets with single spaces, at most one blank line between statements (kept where the source
    had one), comments on their own line or after a statement as in the source.
    """
    printer = _Printer(module)
    printer.items(module.items, 0)
    printer.flush_before(10**9, 0)
    text = "\n".join(_align(printer.lines)).strip("\n")
    return text + "\n" if text else ""


def _align(lines: list[tuple[str, str]]) -> list[str]:
    """Join code and trailing comments; comments of neighbouring lines share one column.

    A run is a stretch of consecutive non-blank lines at one indentation; within it every
    trailing comment starts two spaces after the longest commented line's code.
    """
    out: list[str] = []
    i = 0
    while i < len(lines):
        j = i
        indent = _indent(lines[i][0])
        while j < len(lines) and lines[j][0] and _indent(lines[j][0]) == indent:
            j += 1
        run = lines[i:max(j, i + 1)]
        width = max((len(code) for code, comment in run if comment), default=0)
        for code, comment in run:
            out.append(f"{code.ljust(width)}  {comment}" if comment else code)
        i = max(j, i + 1)
    return out


def _indent(code: str) -> int:
    return len(code) - len(code.lstrip(" "))


#: The field of each block node that holds its statements.
_BODIES = {ast.Fragment: "body", ast.Daemon: "items", ast.Phase: "body", ast.Switch: "items",
           ast.Forbid: "items"}

#: Where a comment that ends a line of code goes: after a block's head ``{`` (``HEAD``), or
#: after a statement or a block's ``}`` (``END``).
HEAD, END = "head", "end"


def _children(item) -> tuple:
    field = _BODIES.get(type(item))
    return getattr(item, field) if field else ()


def _anchors(items, found: dict[int, list[tuple[int, tuple[int, str]]]]) -> None:
    """Every place on a line that a trailing comment can follow, by line: a block's head (at
    the block's start, before anything inside it), a statement's end, a block's ``}``."""
    for item in items:
        span = item.span
        if type(item) in _BODIES:
            found.setdefault(span.line, []).append((span.column, (id(item), HEAD)))
            _anchors(_children(item), found)
        found.setdefault(span.end_line, []).append((span.end_column, (id(item), END)))


class _Printer:
    """Emits statements and interleaves the comments that precede or trail them.

    A comment after code belongs to the last thing before it on its line, so it stays after
    that thing however the line is split: ``phase p { tun }  # c`` prints ``}  # c``, and
    ``phase p { tun  # c`` prints ``tun  # c``. Every other comment has a line of its own and
    is printed before the first statement that follows it.
    """

    def __init__(self, module: ast.Module):
        anchors: dict[int, list[tuple[int, tuple[int, str]]]] = {}
        _anchors(module.items, anchors)
        self.trailing: dict[tuple[int, str], str] = {}
        self.pending = []  # comments on lines of their own, in source order
        for comment in sorted(module.comments, key=lambda c: (c.span.line, c.span.column)):
            before = [a for a in anchors.get(comment.span.line, ())
                      if a[0] <= comment.span.column]
            if before:
                self.trailing[max(before)[1]] = comment.text
            else:
                self.pending.append(comment)
        self.lines: list[tuple[str, str]] = []  # (code, trailing comment)
        self.last_line = 0  # source line of the last thing printed

    def flush_before(self, line: int, depth: int) -> None:
        while self.pending and self.pending[0].span.line < line:
            comment = self.pending.pop(0)
            self._gap(comment.span.line)
            self.lines.append((INDENT * depth + comment.text, ""))
            self.last_line = comment.span.line

    def _gap(self, line: int) -> None:
        if (self.lines and self.last_line and line > self.last_line + 1
                and self.lines[-1][0] != "" and not self.lines[-1][0].endswith("{")):
            self.lines.append(("", ""))

    def _trailing(self, item, where: str) -> str:
        return self.trailing.pop((id(item), where), "")

    def simple(self, item, depth: int) -> None:
        self.flush_before(item.span.line, depth)
        self._gap(item.span.line)
        self.lines.append((INDENT * depth + item_text(item), self._trailing(item, END)))
        self.last_line = item.span.end_line

    def block(self, head: str, item, depth: int) -> None:
        self.flush_before(item.span.line, depth)
        self._gap(item.span.line)
        self.lines.append((INDENT * depth + head + " {", self._trailing(item, HEAD)))
        self.last_line = item.span.line
        self.items(_children(item), depth + 1)
        self.flush_before(item.span.end_line, depth + 1)
        self.lines.append((INDENT * depth + "}", self._trailing(item, END)))
        self.last_line = item.span.end_line

    def items(self, items, depth: int) -> None:
        for item in items:
            if isinstance(item, ast.Fragment):
                self.block(f"fragment {item.name.text}", item, depth)
            elif isinstance(item, ast.Daemon):
                self.block(f"daemon {item.name.text}", item, depth)
            elif isinstance(item, ast.Phase):
                self.block(f"phase {item.name.text}", item, depth)
            elif isinstance(item, ast.Switch):
                self.block(f"switch {item.source.text} -> {item.target.text}", item, depth)
            elif isinstance(item, ast.Forbid):
                self.block(f"forbid {item.phase.text}", item, depth)
            else:
                self.simple(item, depth)


def item_text(item) -> str:
    """One statement on one line, as used in provenance comments."""
    if isinstance(item, ast.Verb):
        return " ".join([item.name.text, *(_arg(a) for a in item.args)])
    if isinstance(item, ast.Allow):
        return f"allow {item.target.text}:{item.tclass.text} {_perms(item.perms)}"
    if isinstance(item, ast.Include):
        return f"include {item.name.text}"
    if isinstance(item, ast.Syscalls):
        return " ".join(["syscalls", item.action.text, *(i.text for i in item.items)])
    if isinstance(item, ast.Exec):
        text = f"exec {item.path.raw}"
        return text + (f" from {item.source.text}" if item.source else "")
    if isinstance(item, ast.User):
        return f"user {item.name.text}"
    if isinstance(item, ast.ModuleName):
        return f"module {item.name.text}" + (" replaces" if item.replaces else "")
    if isinstance(item, ast.FileDecl):
        text = f"file {item.name.text} {item.regex.raw}"
        return text + (f" {item.kind.text}" if item.kind else "")
    if isinstance(item, ast.Option):
        return f"option {item.template.raw}"
    if isinstance(item, ast.PatchAnchor):
        return f"patch {item.file.raw} {item.position.text} {item.anchor.raw}"
    if isinstance(item, ast.PrepareAnchor):
        return f"prepare {item.file.raw} {item.position.text} {item.anchor.raw}"
    if isinstance(item, ast.ContextExpr):
        return f"context {item.expr.raw}"
    if isinstance(item, ast.BuildMacro):
        return f"build {item.macro.raw}"
    if isinstance(item, ast.FatalReport):
        return f"fatal {item.report.raw}"
    if isinstance(item, ast.ForbidItem):
        head = f"{item.target.text}:{item.name.text}" if item.target else item.name.text
        return head + (f" {_perms(item.perms)}" if item.perms else "")
    if isinstance(item, ast.Use):
        return f"use {item.path.raw}"
    raise TypeError(f"not a statement: {type(item).__name__}")


def _arg(arg: ast.Arg) -> str:
    match arg.kind:
        case ast.ArgKind.STRING:
            # Re-escape what the parser unescaped; a raw newline would end the string.
            return '"' + (arg.text.replace("\\", "\\\\").replace('"', '\\"')
                          .replace("\n", "\\n")) + '"'
        case ast.ArgKind.WORD | ast.ArgKind.INT | ast.ArgKind.RANGE | ast.ArgKind.STAR:
            return arg.text
        case _:
            assert_never(arg.kind)


def _perms(perms: ast.PermSet) -> str:
    match perms.kind:
        case ast.PermKind.ALL:
            return "*"
        case ast.PermKind.ONE:
            return perms.perms[0].text
        case ast.PermKind.LIST:
            return "{ " + " ".join(p.text for p in perms.perms) + " }"
        case _:
            assert_never(perms.kind)
