"""Reading ``.sel`` files: decoding, size limits, and following ``use`` to other files.

Every problem with the input file itself (missing, a directory, unreadable, not UTF-8, too
large, empty) becomes a coded diagnostic (SEL9xx); nothing here prints or exits.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from selkit.diagnostics import (
    Diagnostic,
    DiagnosticError,
    DiagnosticSink,
    Related,
    Span,
    closest,
)
from selkit.dsl import ast
from selkit.dsl.limits import MAX_SOURCE_BYTES
from selkit.dsl.parser import parse

_SPLIT_HINT = "split it into several files and join them with 'use'"


@dataclass
class Program:
    """A main file, every file it ``use``s, and the fragments they define."""

    main: ast.Module
    modules: dict[str, ast.Module]
    texts: dict[str, str]
    fragments: dict[str, ast.Fragment] = field(default_factory=dict)
    #: Read as one text with no file around it (semodule's HLL compiler reads the module from
    #: standard input): no ``use`` is followed and no neighbouring file is opened, not even
    #: for a hint.
    standalone: bool = False


#: What to do with a spec that needs other files where none can be read.
BUNDLE_HINT = ("install a bundle instead: selkit compile --bundle SPEC -o DIR writes "
               "DIR/MODULE.sel with every file the spec uses inlined; then semodule -i "
               "DIR/MODULE.sel")


def read_source(path: str) -> str:
    """The text of ``path``, or a :class:`DiagnosticError` saying precisely why not."""
    p = Path(path)
    if p.is_dir():
        raise DiagnosticError([Diagnostic("SEL903", f"'{path}' is a directory, not a .sel file",
                                          None, hint="pass the .sel files inside it")])
    try:
        if p.stat().st_size > MAX_SOURCE_BYTES:
            raise _too_large(path)
        # Bounded, so a device or pipe that never ends (/dev/zero) cannot exhaust memory.
        with p.open("rb") as handle:
            data = handle.read(MAX_SOURCE_BYTES + 1)
    except FileNotFoundError:
        raise DiagnosticError([Diagnostic("SEL901", f"no such file: '{path}'")]) from None
    except PermissionError:
        raise DiagnosticError([Diagnostic("SEL904", f"cannot read '{path}': permission denied")]
                              ) from None
    except OSError as exc:
        raise DiagnosticError([Diagnostic("SEL904", f"cannot read '{path}': {exc.strerror}")]
                              ) from None
    return decode_source(data, path)


def _too_large(path: str) -> DiagnosticError:
    return DiagnosticError([Diagnostic(
        "SEL905", f"input is larger than {MAX_SOURCE_BYTES} bytes; refusing to parse it",
        Span.point(path), hint=_SPLIT_HINT)])


def decode_source(data: bytes, path: str) -> str:
    """``data`` read from ``path`` (a file, or standard input under a name such as
    ``<stdin>``) as text: SEL905 when it is larger than a spec may be, SEL902 when it is not
    UTF-8 (with the line and column of the first bad byte)."""
    if len(data) > MAX_SOURCE_BYTES:
        raise _too_large(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        # Columns count characters, as everywhere else; the bytes before the bad one decode.
        column = len(data[line_start:exc.start].decode("utf-8")) + 1
        byte = data[exc.start]
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            hint = "the file is UTF-16: save it as UTF-8"
        elif byte >= 0xa0:
            hint = f"save the file as UTF-8 (0x{byte:02x} is '{bytes([byte]).decode('latin-1')}' " \
                   "in Latin-1, the encoding it was probably saved in)"
        else:
            hint = "save the file as UTF-8"
        raise DiagnosticError([Diagnostic(
            "SEL902", f"'{path}' is not UTF-8 text (byte 0x{byte:02x})",
            Span.point(path, line, column), hint=hint)]) from None


def load(path: str, text: str | None = None, *, standalone: bool = False) -> Program:
    """Parse ``path`` (or ``text`` as if it were ``path``) and every file it ``use``s.

    ``standalone``: ``text`` is all there is (``path`` only names it in diagnostics, e.g.
    ``<stdin>``); each ``use`` is SEL916, since the files it names cannot be read."""
    if text is None:
        text = read_source(path)
    if not text.strip() or not _has_code(text):
        raise DiagnosticError([Diagnostic(
            "SEL907", f"'{path}' is empty: it declares no daemon", Span.point(path),
            hint="a policy file holds at least one 'daemon NAME { ... }'")])
    main = parse(text, path)
    program = Program(main, {path: main}, {path: text}, standalone=standalone)
    sink = DiagnosticSink()
    if standalone:
        for use in main.of(ast.Use):
            sink.error("SEL916", f"'use {use.path.raw}': a module read from standard input "
                       "cannot read the files next to it", use.span, hint=BUNDLE_HINT)
    else:
        _follow_uses(program, main, sink, stack=[os.path.abspath(path)])
    _collect_fragments(program, sink)
    sink.check()
    return program


def _has_code(text: str) -> bool:
    return any(line.split("#", 1)[0].strip() for line in text.splitlines())


def _follow_uses(program: Program, module: ast.Module, sink: DiagnosticSink,
                 stack: list[str]) -> None:
    base = os.path.dirname(module.path)
    for use in module.of(ast.Use):
        target = os.path.normpath(os.path.join(base, use.path.value))
        absolute = os.path.abspath(target)
        if absolute in stack:
            sink.error("SEL322", f"'use' cycle: {use.path.value} is already being read",
                       use.path.span)
            continue
        if target in program.modules:
            continue
        try:
            text = read_source(target)
            used = parse(text, target)
        except DiagnosticError as exc:
            for d in exc.diagnostics:
                if d.span is None or d.code in ("SEL901", "SEL903", "SEL904"):
                    sink.error("SEL214", f"cannot use '{use.path.value}': {d.message}",
                               use.path.span, hint=_missing_use_hint(base, use.path.value)
                               if d.code == "SEL901" else None)
                else:
                    sink.items.append(d)
            continue
        program.modules[target] = used
        program.texts[target] = text
        if used.of(ast.Daemon):
            sink.error("SEL323", f"'{use.path.value}' declares a daemon; 'use' only brings "
                       "fragments", use.path.span, hint="move the shared statements into a "
                       "'fragment' in a file of their own")
        _follow_uses(program, used, sink, stack + [absolute])


def _collect_fragments(program: Program, sink: DiagnosticSink) -> None:
    for module in program.modules.values():
        for frag in module.of(ast.Fragment):
            first = program.fragments.get(frag.name.text)
            if first is not None:
                sink.error("SEL321", f"fragment '{frag.name.text}' is defined twice",
                           frag.name.span, related=[Related(first.name.span, "first defined here")])
                continue
            program.fragments[frag.name.text] = frag


# ---------------------------------------------------------------------------------------------
# Files a 'use' could mean: hints for a misspelt path and for a fragment no file read defines

#: How deep below the folder of the file being read the hints look for libraries, and how many
#: .sel files they open at most (a spec in a large folder must not make an error slow).
_LIBRARY_DEPTH = 2
_LIBRARY_FILES = 200
_DECLARES = re.compile(r"^[ \t]*(daemon|fragment)[ \t]", re.M)


def _library_text(path: str) -> str | None:
    """The text of ``path`` if it is a library 'use' can read: fragments and no daemon."""
    try:
        text = read_source(path)
    except DiagnosticError:
        return None
    return text if {m.group(1) for m in _DECLARES.finditer(text)} == {"fragment"} else None


def _missing_use_hint(base: str, written: str) -> str:
    """SEL214's hint for a 'use' path that names no file: the closest existing path, corrected
    one part at a time (folders by folder names, the file among the libraries of its folder)."""
    where = Path(base or ".")
    parts = Path(written).parts
    fixed: list[str] = []
    for i, part in enumerate(parts):
        here = where / part
        last = i == len(parts) - 1
        if (here.is_file() if last else here.is_dir()) or part in ("/", "..", "."):
            fixed.append(part)
            where = here
            continue
        try:
            entries = sorted(os.listdir(where))
        except OSError:
            break
        if last:  # the closest names first: only a few files are read
            near = [e for e in closest(part, [e for e in entries if e.endswith(".sel")], n=5)
                    if _library_text(str(where / e)) is not None][:1]
        else:
            near = closest(part, [e for e in entries if (where / e).is_dir()])
        if not near:
            break
        fixed.append(near[0])
        where = where / near[0]
    else:
        return f"did you mean \"{os.path.join(*fixed)}\"?"
    return "a 'use' path is relative to the directory of the file that uses it"


def fragment_homes(name: str, near: str) -> list[str]:
    """The 'use' paths (relative to the folder of the file ``near``) of the .sel files in that
    folder or up to two folders below it that define fragment ``name``, nearest first."""
    root = Path(os.path.dirname(near) or ".")
    defines = re.compile(rf"^[ \t]*fragment[ \t]+{re.escape(name)}\b", re.M)
    found: list[str] = []
    opened = 0
    for depth in range(_LIBRARY_DEPTH + 1):
        pattern = "/".join(["*"] * depth + ["*.sel"])
        for path in sorted(root.glob(pattern)):
            if opened >= _LIBRARY_FILES:
                return found
            if any(p.startswith(".") for p in path.relative_to(root).parts) or \
                    os.path.abspath(path) == os.path.abspath(near):
                continue
            opened += 1
            text = _library_text(str(path))
            if text is None or not defines.search(text):
                continue
            try:
                module = parse(text, str(path))
            except DiagnosticError:
                continue
            if any(f.name.text == name for f in module.of(ast.Fragment)):
                found.append(path.relative_to(root).as_posix())
    return found
