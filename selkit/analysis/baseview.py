"""The base store as modules see it once they are linked into it.

A module named like a store module replaces it: that module's types vanish, and optional blocks
elsewhere that needed them switch off. :class:`BaseView` expands names in that store (read from
its CIL by :mod:`selkit.base.store`), so the compositional engine, the forbids and the
neverallow check all see what ``semodule`` will link, not the store as it is today.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from selkit.base.store import StoreModel, load_store_model
from selkit.ir import nodes as ir
from selkit.ir.kb import KnowledgeBase


@dataclass(frozen=True)
class BaseView:
    """The knowledge base, with the store modules in ``replaced`` left out."""

    kb: KnowledgeBase
    replaced: tuple[str, ...]
    model: StoreModel | None

    def expand(self, name: str) -> frozenset[str]:
        """The base types ``name`` stands for after the link (a name the store lacks stands
        for itself, as in :meth:`KnowledgeBase.expand`)."""
        if self.model is None or not self.replaced:
            return self.kb.expand(name)
        if name in self.model.attribute_exprs or name in self.model.types or \
                name in self.model.aliases:
            return self.model.members(name)
        return frozenset({name})

    def attributes_of(self, direct: Iterable[str]) -> frozenset[str]:
        """Every attribute a new type with the ``direct`` attributes is in after the link,
        those the kernel policy drops and expression ones (``(not ...)``, ``(all)``) included."""
        if self.model is None:
            return frozenset(direct)
        return frozenset(direct) | self.model.attributes_of(direct)


def replaced_modules(modules: Iterable[ir.PolicyModule], kb: KnowledgeBase) -> tuple[str, ...]:
    """Store modules that the given modules replace (the same module name)."""
    return tuple(sorted({m.name for m in modules} & kb.enabled_modules))


def base_view(kb: KnowledgeBase, modules: Iterable[ir.PolicyModule]) -> BaseView:
    """The view of ``kb``'s store once ``modules`` are linked into it."""
    replaced = replaced_modules(modules, kb)
    return BaseView(kb, replaced, _model(kb.store, replaced) if kb.store else None)


@functools.lru_cache(maxsize=8)
def _model(store: str, replaced: tuple[str, ...]) -> StoreModel:
    model = load_store_model(store)
    return model.without(replaced) if replaced else model
