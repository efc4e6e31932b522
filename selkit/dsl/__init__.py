"""The front end: ``.sel`` text → typed AST (:mod:`selkit.dsl.ast`), and back (:mod:`.pretty`).

:mod:`.parser` is the entry point, built from :mod:`.grammar` (the Lark parser), :mod:`.to_ast`
(tree → AST) and :mod:`.syntax_errors` (SEL1xx); :mod:`.loader` reads files and follows ``use``.

``parse`` is imported on first use, so that importing :mod:`selkit.dsl.ast` (as the IR does)
or :mod:`.limits` (as the command line does) does not import Lark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from selkit.dsl.parser import parse

__all__ = ["parse"]


def __getattr__(name: str) -> Any:
    if name == "parse":
        from selkit.dsl.parser import parse  # noqa: PLC0415

        return parse
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
