"""A self-contained spec: a ``.sel`` program with every file it ``use``s inlined, for a reader
that sees one text and no neighbouring files (semodule's HLL compiler reads the module from
standard input; see docs/hll.md).

The main file keeps its text after two header lines (each ``use`` line becomes a comment, so
its other lines keep their order and shift by the header alone); each used file follows,
nearest first as the loader read them, under a comment naming it, its own ``use`` lines
commented out the same way. A fragment is found by name wherever it is defined, so the order
does not matter to the compiler. The result depends only on the texts and the relative paths
between them: the same spec gives the same bundle wherever it is bundled.
"""

from __future__ import annotations

import os

from selkit.dsl import ast
from selkit.dsl.loader import Program

#: How the first line of a bundle starts.
HEADER = "# selkit bundle of "

#: What a ``use`` line becomes.
INLINED = "# (inlined below) "


def bundle(program: Program, module_name: str) -> str:
    """The text of ``program`` with every used file inlined; ``module_name`` is the module the
    spec compiles to, which names the file semodule must be given."""
    main = program.main.path
    lines = [f"{HEADER}{os.path.basename(main)} (module {module_name}): the spec with every "
             "file it uses inlined,",
             f"# for semodule -i {module_name}.sel (semodule names the module after the file). "
             "Edit the spec, not this."]
    lines += _without_uses(program.texts[main], program.main).rstrip("\n").split("\n")
    for path, module in program.modules.items():
        if path == main:
            continue
        shown = os.path.relpath(path, os.path.dirname(main) or ".")
        lines += ["", f"# ---- inlined from {shown} ----"]
        lines += _without_uses(program.texts[path], module).rstrip("\n").split("\n")
    return "\n".join(lines) + "\n"


def _without_uses(text: str, module: ast.Module) -> str:
    """``text`` with each ``use`` statement turned into a comment. A ``use`` that shares its
    line with other code is blanked instead, with the ``;`` that separated it from what
    follows, which keeps every other statement at its line and column."""
    lines = text.split("\n")
    for use in module.of(ast.Use):
        span = use.span
        index = span.line - 1
        line = lines[index]
        before, statement = line[:span.column - 1], line[span.column - 1:span.end_column - 1]
        after = line[span.end_column - 1:]
        if span.end_line == span.line and not before.strip() and \
                (not after.strip() or after.strip().startswith("#")):
            lines[index] = f"{before}{INLINED}{statement}{after}"
            continue
        for i in range(span.line - 1, span.end_line):
            start = span.column - 1 if i == span.line - 1 else 0
            end = span.end_column - 1 if i == span.end_line - 1 else len(lines[i])
            rest = lines[i][end:]
            if i == span.end_line - 1 and rest.lstrip().startswith(";"):
                end += len(rest) - len(rest.lstrip()) + 1
            lines[i] = lines[i][:start] + " " * (end - start) + lines[i][end:]
    return "\n".join(lines)
