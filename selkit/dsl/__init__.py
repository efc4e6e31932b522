"""The front end: ``.sel`` text → typed AST (:mod:`selkit.dsl.ast`), and back (:mod:`.pretty`)."""

from selkit.dsl.parser import parse

__all__ = ["parse"]
