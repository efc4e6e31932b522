"""A self-contained spec: a ``.sel`` program with every file it ``use``s inlined, for a reader
that sees one text and no neighbouring files (semodule's HLL compiler reads the module from
standard input; see docs/hll.md).

The main file keeps its text (each ``use`` line becomes a comment, so lines keep their
numbers after the two header lines); each used file follows under a comment naming it, its own
``use`` lines commented out the same way. A fragment is found by name wherever it is defined,
so the order does not matter.
"""

from __future__ import annotations

import os

from selkit.dsl import ast
from selkit.dsl.loader import Program

#: How the first line of a bundle starts (the HLL compiler names the source it came from).
HEADER = "# selkit bundle of "


def bundle(program: Program, module_name: str) -> str:
    """The text of ``program`` with every used file inlined."""
    main = program.main.path
    lines = [f"{HEADER}{os.path.basename(main)} (module {module_name}): every file it uses is "
             "inlined,", "# so semodule -i can compile it from standard input alone."]
    lines += _without_uses(program.texts[main], program.main).rstrip("\n").split("\n")
    for path, module in program.modules.items():
        if path == main:
            continue
        shown = os.path.relpath(path, os.path.dirname(main) or ".")
        lines += ["", f"# ---- inlined from {shown} ----"]
        lines += _without_uses(program.texts[path], module).rstrip("\n").split("\n")
    return "\n".join(lines) + "\n"


def _without_uses(text: str, module: ast.Module) -> str:
    """``text`` with each ``use`` statement turned into a comment (a ``use`` sharing its line
    with other code is blanked instead, which keeps every column)."""
    lines = text.split("\n")
    for use in module.of(ast.Use):
        span = use.span
        index = span.line - 1
        line = lines[index]
        before, statement = line[:span.column - 1], line[span.column - 1:span.end_column - 1]
        after = line[span.end_column - 1:]
        if span.end_line == span.line and not before.strip() and \
                (not after.strip() or after.strip().startswith("#")):
            lines[index] = f"{before}# (inlined below) {statement}{after}"
        else:
            for i in range(span.line - 1, span.end_line):
                start = span.column - 1 if i == span.line - 1 else 0
                end = span.end_column - 1 if i == span.end_line - 1 else len(lines[i])
                lines[i] = lines[i][:start] + " " * (end - start) + lines[i][end:]
    return "\n".join(lines)
