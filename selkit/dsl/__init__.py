"""The front end: ``.sel`` text → typed AST (:mod:`selkit.dsl.ast`), and back (:mod:`.pretty`).

:mod:`.parser` is the entry point, built from :mod:`.grammar` (the Lark parser), :mod:`.to_ast`
(tree → AST) and :mod:`.syntax_errors` (SEL1xx); :mod:`.loader` reads files and follows ``use``.

The package imports nothing itself, so that importing :mod:`selkit.dsl.ast` (as the IR does) or
:mod:`.limits` (as the command line does) does not import Lark; ``parse`` is
``selkit.dsl.parser.parse``.
"""
