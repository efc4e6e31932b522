"""The front end: ``.sel`` text → typed AST (:mod:`selkit.dsl.ast`), and back (:mod:`.pretty`).

:mod:`.parser` is the entry point, built from :mod:`.grammar` (the Lark parser), :mod:`.to_ast`
(tree → AST) and :mod:`.syntax_errors` (SEL1xx); :mod:`.loader` reads files and follows ``use``.
"""

from selkit.dsl.parser import parse

__all__ = ["parse"]
