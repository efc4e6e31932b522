#!/usr/bin/env python3
"""Regenerate the generated sections of dsl/REFERENCE.md.

Two sections are generated, each between a pair of markers:

* the verb vocabulary, by :func:`selkit.emit.reference.splice` (markers in ``selkit.emit.reference``);
* the grammar, copied verbatim from ``selkit/dsl/selkit.lark``.

Run it after changing the vocabulary (``selkit/ir/vocab.py``) or the grammar:

    .venv/bin/python scripts/update_reference.py          # rewrite dsl/REFERENCE.md
    .venv/bin/python scripts/update_reference.py --check  # exit 1 if it is out of date

``tests/dsl/test_reference.py`` fails while the committed file differs from what this prints.
"""

from __future__ import annotations

import sys
from pathlib import Path

from selkit.dsl.parser import grammar_text
from selkit.emit.reference import splice

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "dsl" / "REFERENCE.md"

GRAMMAR_BEGIN = "<!-- BEGIN GENERATED GRAMMAR (selkit/dsl/selkit.lark) -->"
GRAMMAR_END = "<!-- END GENERATED GRAMMAR -->"


def splice_grammar(document: str) -> str:
    """``document`` with the grammar between its markers replaced by the current grammar."""
    head, found, rest = document.partition(GRAMMAR_BEGIN)
    if not found:
        raise ValueError(f"{GRAMMAR_BEGIN!r} is missing")
    _, found, tail = rest.partition(GRAMMAR_END)
    if not found:
        raise ValueError(f"{GRAMMAR_END!r} is missing")
    body = grammar_text().rstrip("\n")
    return f"{head}{GRAMMAR_BEGIN}\n```lark\n{body}\n```\n{GRAMMAR_END}{tail}"


def render(document: str) -> str:
    """Both generated sections brought up to date."""
    return splice_grammar(splice(document))


def main(argv: list[str]) -> int:
    current = REFERENCE.read_text(encoding="utf-8")
    fresh = render(current)
    if "--check" in argv:
        if fresh != current:
            sys.stderr.write(f"{REFERENCE.relative_to(ROOT)} is out of date: run "
                             "scripts/update_reference.py\n")
            return 1
        return 0
    if fresh != current:
        REFERENCE.write_text(fresh, encoding="utf-8")
        print(f"updated {REFERENCE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
