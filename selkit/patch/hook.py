"""The setcon() hook as edits of one C file: the include, the prepare call, the setcon() call.

Pure functions over text; what each edit does is in vendor-patches/README.md and the switch
section of dsl/REFERENCE.md. Every edit keeps the spec statement it comes from.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from importlib import resources
from typing import assert_never

from selkit.csyntax import balanced_brackets
from selkit.diagnostics import Diagnostic, DiagnosticError
from selkit.ir import nodes as ir
from selkit.patch.anchor import Located, line_of, locate
from selkit.seccomp.bpf import Filter
from selkit.seccomp.render import to_c

HEADER_NAME = "setcon_fd.h"
INCLUDE_LINE = f'#include "{HEADER_NAME}"\n'
_INCLUDED = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"setcon_fd\.h"', re.M)


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` by ``new`` (an insertion when start == end)."""

    start: int
    end: int
    new: str
    origin: ir.Origin


@dataclass(frozen=True)
class Placement:
    """One change for the commit message: what went where, and the spec line behind it."""

    description: str
    line: int
    origin: ir.Origin


@dataclass(frozen=True)
class Hook:
    """The patched file's new text, the header to add (None: the tree has it) and why."""

    path: str
    old_text: str
    new_text: str
    header_path: str
    header_text: str | None
    placements: tuple[Placement, ...]
    steady_path: str | None = None
    steady_text: str | None = None

    def new_files(self) -> list[tuple[str, str]]:
        """(path, text) of each header the hook adds."""
        out = []
        if self.header_text is not None:
            out.append((self.header_path, self.header_text))
        if self.steady_path is not None and self.steady_text is not None:
            out.append((self.steady_path, self.steady_text))
        return out


def render_header(build_macro: str) -> str:
    """``setcon_fd.h`` for a project whose libselinux builds define ``build_macro``."""
    template = resources.files("selkit.patch").joinpath("setcon_fd.h.in").read_text("utf-8")
    return template.replace("@BUILD@", build_macro)


def steady_name(daemon: str) -> str:
    """The C prefix of ``daemon``'s filter: ``setcon_fd_<daemon>_steady`` (a C identifier)."""
    return "setcon_fd_" + re.sub(r"[^A-Za-z0-9_]", "_", daemon) + "_steady"


def render_steady_header(daemon: str, steady: Filter) -> str:
    """``setcon_fd_<daemon>_steady.h``: the filter as :func:`selkit.seccomp.render.to_c` writes
    it (a comment per instruction), its loader and the ``*_steady`` switch and commit."""
    name = steady_name(daemon)
    template = resources.files("selkit.patch").joinpath("setcon_fd_steady.h.in")
    return (template.read_text("utf-8").replace("@FILTER@", to_c(steady, name))
            .replace("@HEADER@", name + ".h").replace("@DAEMON@", daemon)
            .replace("@GUARD@", name.upper() + "_H").replace("@NAME@", name))


def fatal_define(fatal: ir.SpecValue | None) -> str:
    """The ``#define SETCON_FD_FATAL(message)`` line the spec's ``fatal`` asks for, or ""."""
    if fatal is None:
        return ""
    return f"#define SETCON_FD_FATAL(message) {fatal.text.replace('{message}', '(message)')}\n"


def header_path_for(path: str) -> str:
    """The header goes next to the patched file."""
    return posixpath.join(posixpath.dirname(path), HEADER_NAME)


def require_hook(switch: ir.Switch) -> tuple[ir.Anchor, ir.SpecValue, ir.SpecValue]:
    """SEL707 unless the switch names a patch anchor, a context and a build macro; else those
    three."""
    patch, context, build = switch.patch, switch.context, switch.build
    if patch is None:
        raise DiagnosticError([Diagnostic(
            "SEL707", f"{switch.origin.statement} has no 'patch': nothing to generate",
            switch.origin.span, hint='add patch "FILE" replace "TEXT" (the setcon() call), '
                                     'context "EXPR" and build "MACRO"')])
    if context is None or build is None:
        missing = [w for w, v in (("context", context), ("build", build)) if v is None]
        raise DiagnosticError([Diagnostic(
            "SEL707", f"the setcon() hook needs {' and '.join(repr(m) for m in missing)}",
            patch.origin.span,
            hint='add context "EXPR" (the C expression holding the context) and build '
                 '"MACRO" (defined when built with libselinux)')])
    return patch, context, build


def plan(text: str, switch: ir.Switch, header_exists: bool,
         steady: tuple[str, Filter] | None = None) -> Hook:
    """The hook for ``switch`` in ``text`` (the file ``switch.patch.file``).

    ``steady`` (daemon, filter): the switch also loads the steady phase's seccomp filter; the
    hook includes and adds ``setcon_fd_<daemon>_steady.h`` and calls its ``*_steady`` switch
    or commit. None: the hook without a filter.
    """
    patch, context, build = require_hook(switch)
    suffix = "" if steady is None else "_steady"
    steady_include = ("" if steady is None
                      else f'#include "{steady_name(steady[0])}.h"\n')
    prepare = switch.prepare
    ctx, macro = context.text, build.text
    code = code_only(text)
    edits: list[Edit] = []
    placements: list[Placement] = []
    includes = steady_include
    if not _INCLUDED.search(code_only(text, blank_strings=False)):
        includes = fatal_define(switch.fatal) + INCLUDE_LINE + includes
    if includes:
        at = _after_last_top_level_include(code)
        if at is None:
            raise DiagnosticError([Diagnostic(
                "SEL705", f"{patch.file} has no top-level #include to put "
                f"'{includes.splitlines()[0]}' after", patch.origin.span)])
        edits.append(Edit(at, at, includes, patch.origin))
        for line in includes.splitlines():
            origin = (switch.fatal.origin if switch.fatal and line.startswith("#define")
                      else patch.origin)
            placements.append(Placement(f"{line} after the last #include",
                                        line_of(text, at), origin))
    if prepare is not None:
        loc = locate(text, prepare)
        block = f"#ifdef {macro}\n{{indent}}setcon_fd_prepare({ctx});\n#endif\n"
        edits += _insert_before(text, code, loc, block, prepare)
        placements.append(Placement(f"setcon_fd_prepare({ctx}) (under #ifdef {macro}) before "
                                    f"{_quote(prepare.text)}", loc.line, prepare.origin))
    loc = locate(text, patch)
    statement = f"setcon_fd_switch{suffix}({ctx});"
    match patch.position:
        case ir.AnchorPosition.REPLACE:
            _check_replaceable(code, loc, patch)
            new = (statement if patch.text.rstrip().endswith(";")
                   else f"setcon_fd_commit{suffix}({ctx})")
            edits.append(Edit(loc.start, loc.end, new, patch.origin))
            placements.append(Placement(f"{_quote(patch.text)} becomes {new}", loc.line,
                                        patch.origin))
        case ir.AnchorPosition.BEFORE:
            edits += _insert_before(text, code, loc, f"{{indent}}{statement}\n", patch)
            placements.append(Placement(f"{statement} before {_quote(patch.text)}", loc.line,
                                        patch.origin))
        case ir.AnchorPosition.AFTER:
            edits.append(_insert_after(text, code, loc, statement, patch))
            placements.append(Placement(f"{statement} after {_quote(patch.text)}",
                                        loc.end_line, patch.origin))
        case unreachable:
            assert_never(unreachable)
    new_text = apply_edits(text, edits)
    header = None if header_exists else render_header(macro)
    steady_path = steady_text = None
    if steady is not None:
        steady_path = posixpath.join(posixpath.dirname(patch.file),
                                     steady_name(steady[0]) + ".h")
        steady_text = render_steady_header(*steady)
    return Hook(patch.file, text, new_text, header_path_for(patch.file), header,
                tuple(sorted(placements, key=lambda p: p.line)), steady_path, steady_text)


def apply_edits(text: str, edits: list[Edit]) -> str:
    """``text`` with every edit made; SEL704 if two edits overlap."""
    ordered = sorted(enumerate(edits), key=lambda ie: (ie[1].start, ie[1].end, ie[0]))
    out, pos = [], 0
    for _, edit in ordered:
        if edit.start < pos:
            raise DiagnosticError([Diagnostic(
                "SEL704", "two anchors of the switch overlap in the source",
                edit.origin.span, hint="choose anchors that name different statements")])
        out.append(text[pos:edit.start])
        out.append(edit.new)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Placement rules


_CONTROL = re.compile(r"(?:\}\s*)?(?:else\s+)?(?:if|while|for)\s*\((?P<cond>.*)\)")
_ELSE = re.compile(r"(?:\}\s*)?else")
_IDENT_CHAR = re.compile(r"[A-Za-z0-9_]")


def _quote(text: str) -> str:
    return '"' + text.replace("\n", "\\n") + '"'


def _leading_blanks(line: str) -> str:
    """The indentation a line starts with."""
    return line[:len(line) - len(line.lstrip())]


def _line_bounds(text: str, offset: int) -> tuple[int, int]:
    """Start and end (before its newline) of the line holding ``offset``."""
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return start, len(text) if end < 0 else end


def _unsafe(anchor: ir.Anchor, why: str,
            hint: str = "anchor a whole statement that starts its own line") -> DiagnosticError:
    return DiagnosticError([Diagnostic("SEL704", why, anchor.text_span, hint=hint)])


def _ends_its_line(code: str, loc: Located) -> bool:
    _, end = _line_bounds(code, max(loc.start, loc.end - 1))
    return not code[loc.end:end].strip()


def _insert_before(text: str, code: str, loc: Located, block: str,
                   anchor: ir.Anchor) -> list[Edit]:
    """Insert ``block`` (with ``{indent}``) before the anchor's line, bracing an unbraced body.

    An anchor that is the unbraced body of ``if``/``else``/``for``/``while`` gets braces around
    it and the inserted lines, so the control flow does not change; one whose preceding line
    ends in something else that is not a statement's end is refused (SEL704).
    """
    start, _ = _line_bounds(text, loc.start)
    indent = text[start:loc.start]
    if indent.strip():
        raise _unsafe(anchor, "the anchor does not start its line; a statement inserted "
                      "before it would split the line")
    new = block.replace("{indent}", indent)
    previous = _previous_code_line(code, start)
    if previous is None:
        return [Edit(start, start, new, anchor.origin)]
    p_start, p_end = previous
    prev = code[p_start:p_end].strip()
    if prev.startswith("#"):
        before = _previous_code_line(code, p_start, skip_directives=True)
        if before and (_CONTROL.fullmatch(code[before[0]:before[1]].strip())
                       or _ELSE.fullmatch(code[before[0]:before[1]].strip())):
            raise _unsafe(anchor, "the anchor is the body of an unbraced statement behind a "
                          "preprocessor line; inserting before it would change the control flow")
        return [Edit(start, start, new, anchor.origin)]
    if prev.endswith((";", "{", "}", ":")):
        return [Edit(start, start, new, anchor.origin)]
    control = _CONTROL.fullmatch(prev)
    if (control and balanced_brackets(control.group("cond"))) or _ELSE.fullmatch(prev):
        if not _ends_its_line(code, loc):
            raise _unsafe(anchor, "the anchor is the unbraced body of the statement above and "
                          "does not end its line; cannot brace it")
        _, anchor_end = _line_bounds(text, max(loc.start, loc.end - 1))
        ctrl_indent = _leading_blanks(text[p_start:p_end])
        brace_at = p_start + len(code[p_start:p_end].rstrip())
        return [Edit(brace_at, brace_at, " {", anchor.origin),
                Edit(start, start, new, anchor.origin),
                Edit(anchor_end, anchor_end, "\n" + ctrl_indent + "}", anchor.origin)]
    raise _unsafe(anchor, f"the line before the anchor ({prev[:60]!r}) does not end a "
                  "statement; a statement inserted here could change the control flow")


def _check_replaceable(code: str, loc: Located, anchor: ir.Anchor) -> None:
    """SEL704 unless the anchor is a whole statement or expression: brackets balanced, not
    glued to a name on either side, not the argument list of a call."""
    inner = code[loc.start:loc.end]
    before = code[:loc.start].rstrip()[-1:]
    after = code[loc.end:loc.end + 1]
    ident = _IDENT_CHAR
    glued = (ident.match(inner[:1] or " ") and ident.match(before or " ")) or \
        (ident.match(inner[-1:] or " ") and ident.match(after or " ")) or \
        (inner.startswith("(") and (ident.match(before or " ") or before in (")", "]")))
    if glued or not balanced_brackets(inner):
        raise _unsafe(anchor, "the text to replace is not a whole statement or expression "
                      "(it is part of a name, a call's argument list, or its brackets do not "
                      "pair up)", hint="quote the whole setcon() call: the statement with its "
                                       "';', or the call expression")


def _insert_after(text: str, code: str, loc: Located, statement: str,
                  anchor: ir.Anchor) -> Edit:
    """Insert ``statement`` on a line of its own after the anchor's last line."""
    if not _ends_its_line(code, loc):
        raise _unsafe(anchor, "the anchor does not end its line; a statement inserted after "
                      "it would split the line")
    start, _ = _line_bounds(text, loc.start)
    indent = _leading_blanks(text[start:loc.start])
    _, end = _line_bounds(text, max(loc.start, loc.end - 1))
    return Edit(end, end, f"\n{indent}{statement}", anchor.origin)


def _previous_code_line(code: str, line_start: int,
                        skip_directives: bool = False) -> tuple[int, int] | None:
    """Bounds of the nearest non-blank line of ``code`` before the line at ``line_start``."""
    end = line_start - 1
    while end >= 0:
        start = code.rfind("\n", 0, end) + 1
        line = code[start:end].strip()
        if line and not (skip_directives and line.startswith("#")):
            return start, end
        end = start - 1
    return None


def _after_last_top_level_include(code: str) -> int | None:
    """Offset just after the last ``#include`` line outside every ``#if``, or None."""
    depth, offset, last = 0, 0, None
    for line in code.splitlines(keepends=True):
        match = re.match(r"[ \t]*#[ \t]*(\w+)", line)
        if match:
            word = match.group(1)
            if word in ("if", "ifdef", "ifndef"):
                depth += 1
            elif word == "endif":
                depth = max(0, depth - 1)
            elif word == "include" and depth == 0:
                last = offset + len(line)
        offset += len(line)
    if last is not None and not code[:last].endswith("\n"):
        return None  # an #include on the last line without a newline: nothing to put after
    return last


def code_only(text: str, blank_strings: bool = True) -> str:
    """``text`` with comments (and string and character literals) blanked, same offsets.

    Newlines are kept, so lines and columns stay where they were; used to find statements,
    directives and braces without being fooled by a comment or a string.
    """
    out = list(text)
    i, n = 0, len(text)

    def blank(a: int, b: int) -> None:
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        ch = text[i]
        if ch == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            blank(i, j)
            i = j
        elif ch == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif ch in "\"'":
            j = i + 1
            while j < n and text[j] != ch and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            if blank_strings:
                blank(i + 1, j - 1)
            i = j
        else:
            i += 1
    return "".join(out)
