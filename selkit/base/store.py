"""A model of a module store's CIL: what the linked policy holds, including what the binary drops.

The binary policy loses attributes libsepol compiled away, alias targets, the optional blocks
that were switched off and the neverallow rules. This module reads every enabled module's CIL
(at its highest priority) and resolves optional blocks to a fixed point as libsepol does: a
block with a name no enabled block declares is disabled with everything nested in it, which
removes its declarations, which can disable more blocks.

:func:`load_store_model` gives a :class:`StoreModel` (plain, picklable data, cached on disk);
:meth:`StoreModel.without` re-resolves with modules removed (replaced by new ones).
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from selkit.base.cil import SExpr, atoms, render
from selkit.base.cil_blocks import TYPE_OPS, Block, BlockIndex, declared, read_blocks, resolve
from selkit.base.modules import disabled_modules
from selkit.cache import cache_root, read_pickle, write_pickle

#: Bump when the cached shapes change.
STORE_FORMAT = "store-6"

@dataclass(frozen=True)
class Neverallow:
    """A neverallow rule of the store; ``target`` may be ``self``."""

    source: str
    target: str
    tclass: str
    perms: tuple[str, ...]
    module: str
    #: The CIL statement as written, e.g. ``(neverallow base_typeattr_4 memory_device_t ...)``.
    text: str


@dataclass(frozen=True)
class DisabledBlock:
    """An optional block the link switches off, and the names it lacks."""

    module: str
    label: str
    missing: tuple[str, ...]


# ---------------------------------------------------------------------------------------------
# Attribute expressions


def _evaluate(name: str, exprs: dict[str, tuple[SExpr, ...]], aliases: dict[str, str],
              types: frozenset[str], memo: dict[str, frozenset[str]]) -> frozenset[str]:
    """The real types ``name`` stands for (attributes expanded, expressions evaluated)."""
    if name in memo:
        return memo[name]
    if name not in exprs:
        actual = aliases.get(name, name)
        return frozenset({actual}) if actual in types else frozenset()
    memo[name] = frozenset()  # CIL forbids cycles; this only stops a malformed store
    result: set[str] = set()
    for expr in exprs[name]:
        result |= _evaluate_expr(expr, exprs, aliases, types, memo)
    memo[name] = frozenset(result)
    return memo[name]


def _evaluate_expr(expr: SExpr, exprs: dict[str, tuple[SExpr, ...]], aliases: dict[str, str],
                   types: frozenset[str], memo: dict[str, frozenset[str]]) -> frozenset[str]:
    if isinstance(expr, str):
        return _evaluate(expr, exprs, aliases, types, memo)
    parts = [_evaluate_expr(e, exprs, aliases, types, memo) for e in expr[1:]] \
        if expr and expr[0] in TYPE_OPS else None
    if parts is None:
        out: frozenset[str] = frozenset()
        for item in expr:
            out |= _evaluate_expr(item, exprs, aliases, types, memo)
        return out
    op = expr[0]
    if op == "all":
        return types
    if op == "not":
        return types - parts[0]
    if op == "and":
        return parts[0] & parts[1]
    if op == "or":
        return parts[0] | parts[1]
    return parts[0] ^ parts[1]


def _holds(expr: SExpr, contains: Callable[[str], bool]) -> bool:
    """Whether a new type is in ``expr``, given ``contains(attribute)`` for named ones."""
    if isinstance(expr, str):
        return contains(expr)
    if expr and expr[0] in TYPE_OPS:
        parts = [_holds(e, contains) for e in expr[1:]]
        return {"all": lambda: True, "not": lambda: not parts[0],
                "and": lambda: parts[0] and parts[1], "or": lambda: parts[0] or parts[1],
                "xor": lambda: parts[0] != parts[1]}[expr[0]]()
    return any(_holds(item, contains) for item in expr)


# ---------------------------------------------------------------------------------------------
# The model


@dataclass(frozen=True)
class StoreModel:
    """What linking the store's enabled modules gives, read from their CIL."""

    store: str
    key: str
    enabled_modules: frozenset[str]
    disabled_modules: frozenset[str]
    #: Modules left out by :meth:`without` (replaced by new modules of the same name).
    removed_modules: frozenset[str]
    types: frozenset[str]
    aliases: dict[str, str]
    attributes: frozenset[str]
    attribute_exprs: dict[str, tuple[SExpr, ...]]
    declared_by: dict[str, str]
    disabled_blocks: tuple[DisabledBlock, ...]
    neverallows: tuple[Neverallow, ...]
    #: (module, name) of top-level statements whose name nothing declares: the link fails.
    unresolved: tuple[tuple[str, str], ...]
    #: Namespaced names new modules declare (:meth:`with_declared`), e.g. ``t:oddjob_t``.
    new_names: frozenset[str] = frozenset()
    #: Attributes whose expression names another attribute, ``not`` or ``all``: only these can
    #: hold a new type without listing it (computed with the model, so cached with it).
    open_attributes: frozenset[str] = frozenset()
    #: The members of the attributes asked for so far (:meth:`members` fills it on demand: a
    #: query needs a few of the 333, and the cached model loads faster without the rest).
    _members: dict[str, frozenset[str]] = field(default_factory=dict, compare=False,
                                                repr=False)

    def canonical(self, name: str) -> str:
        """The type an alias stands for (any other name is itself)."""
        return self.aliases.get(name, name)

    def members(self, name: str) -> frozenset[str]:
        """The real types a name stands for (empty for a name the store does not declare)."""
        if name in self.attribute_exprs:
            return _evaluate(name, self.attribute_exprs, self.aliases, self.types,
                             self._members)
        actual = self.canonical(name)
        return frozenset({actual}) if actual in self.types else frozenset()

    def lacking_names(self) -> frozenset[str]:
        """Every name some disabled block lacks (only declaring one can switch a block on)."""
        key = (self.key, self.removed_modules, self.new_names)
        if key not in _LACKING:
            _LACKING[key] = frozenset(n for b in self.disabled_blocks for n in b.missing)
        return _LACKING[key]

    def switched_on(self, types: Iterable[str] = (), booleans: Iterable[str] = ()
                    ) -> dict[str, tuple[str, ...]]:
        """Which of these names, declared together by new modules, switch disabled optional
        blocks on at link → the modules of those blocks (empty: the link adds nothing).

        Judged for all names at once (a block may lack two of them); free when none of them is
        a name a disabled block lacks.
        """
        names = set(types) | set(booleans)
        if not names & self.lacking_names():
            return {}
        after = self.with_declared(types=types, booleans=booleans)
        still = {(b.module, b.label) for b in after.disabled_blocks}
        switched = [b for b in self.disabled_blocks if (b.module, b.label) not in still]
        found = {name: tuple(sorted({b.module for b in switched if name in b.missing}))
                 for name in sorted(names)}
        return {name: modules for name, modules in found.items() if modules}

    def attributes_of(self, direct: Iterable[str]) -> frozenset[str]:
        """Every attribute a new type with the ``direct`` attributes belongs to (expression
        attributes such as ``(not ...)`` and ``(all)`` included). Cached per attribute set."""
        direct = frozenset(direct)
        cache_key = (self.key, self.removed_modules, self.new_names, direct)
        found = _ATTRIBUTES_OF.get(cache_key)
        if found is None:
            found = _ATTRIBUTES_OF[cache_key] = self._attributes_of(direct)
        return found

    def _attributes_of(self, direct: frozenset[str]) -> frozenset[str]:
        memo: dict[str, bool] = {}

        def contains(name: str) -> bool:
            if name not in memo:
                memo[name] = False
                memo[name] = name in direct or any(
                    _holds(e, contains) for e in self.attribute_exprs.get(name, ()))
            return memo[name]

        # Only an attribute whose expression names an attribute, 'not' or 'all' can hold a
        # type it does not list; the others hold a new type only when it is given directly.
        candidates = self.open_attributes | (direct & self.attributes)
        return frozenset(a for a in candidates if contains(a))

    def expression_of(self, attribute: str) -> str | None:
        """The CIL expression an attribute stands for, e.g. ``(not (memory_raw_read ...))``."""
        exprs = self.attribute_exprs.get(attribute)
        if not exprs:
            return None
        return render(exprs[0]) if len(exprs) == 1 else render(("or",) + exprs)

    def without(self, modules: Iterable[str]) -> StoreModel:
        """The store with ``modules`` removed, optional blocks resolved again."""
        removed = frozenset(modules) | self.removed_modules
        return _model_for(self.store, self.key, removed, self.new_names)

    def with_declared(self, types: Iterable[str] = (), roles: Iterable[str] = (),
                      booleans: Iterable[str] = ()) -> StoreModel:
        """The store's part of the link when new modules declare these names: disabled blocks
        that lacked only them switch on (the new names themselves are not in ``types``)."""
        extra = frozenset([f"t:{n}" for n in types] + [f"r:{n}" for n in roles]
                          + [f"b:{n}" for n in booleans]) | self.new_names
        return _model_for(self.store, self.key, self.removed_modules, extra)


_ATTRIBUTES_OF: dict[tuple, frozenset[str]] = {}
_LACKING: dict[tuple, frozenset[str]] = {}


def _open_attributes(attributes: frozenset[str], exprs: dict[str, tuple[SExpr, ...]]
                     ) -> frozenset[str]:
    """Attributes whose expression names another attribute, ``not`` or ``all``."""
    names = attributes | frozenset(TYPE_OPS)
    return frozenset(a for a, found in exprs.items()
                     if any(n in names for e in found for n in atoms(e)))


def _model(store: str, key: str, blocks: tuple[Block, ...], index: BlockIndex,
           removed: frozenset[str], extra: frozenset[str] = frozenset()) -> StoreModel:
    enabled = resolve(blocks, index, removed, extra)
    kept = [blocks[i] for i in sorted(enabled)]
    types = frozenset(t for b in kept for t in b.types)
    actuals = {alias: actual for b in kept for alias, actual in b.alias_actuals}
    aliases = {a: actuals[a] for b in kept for a in b.aliases if a in actuals}
    attributes = frozenset(a for b in kept for a in b.attributes)
    grouped: dict[str, list[SExpr]] = {}
    for b in kept:
        for attr, expr in b.attribute_sets:
            grouped.setdefault(attr, []).append(expr)
    exprs = {a: tuple(grouped.get(a, ())) for a in sorted(attributes)}
    declared_by: dict[str, str] = {}
    for b in kept:
        for name in b.types + b.aliases + b.attributes + tuple(o[2:] for o in b.others):
            declared_by.setdefault(name, b.module)
    count = declared(blocks, enabled)
    count.update(extra)
    disabled = tuple(
        DisabledBlock(b.module, b.label, tuple(r[2:] for r in b.refs if not count[r]))
        for i, b in enumerate(blocks)
        if i not in enabled and b.module not in removed)
    unresolved = tuple(sorted((b.module, r[2:]) for b in kept if b.parent < 0
                              for r in b.refs if not count[r]))
    return StoreModel(
        store=store, key=key, enabled_modules=frozenset(b.module for b in kept),
        disabled_modules=disabled_modules(store), removed_modules=removed, types=types,
        aliases=aliases, attributes=attributes, attribute_exprs=exprs,
        declared_by=declared_by, disabled_blocks=disabled,
        neverallows=tuple(_neverallow(stmt, b.module) for b in kept for stmt in b.neverallows),
        unresolved=unresolved, new_names=extra,
        open_attributes=_open_attributes(attributes, exprs))


def _neverallow(stmt: tuple[SExpr, ...], module: str) -> Neverallow:
    classperms = stmt[3]
    tclass = classperms[0] if isinstance(classperms, tuple) else classperms
    perms = tuple(atoms(classperms[1:])) if isinstance(classperms, tuple) else ()
    return Neverallow(str(stmt[1]), str(stmt[2]), str(tclass), perms, module, render(stmt))


# ---------------------------------------------------------------------------------------------
# Loading and caching


def store_key(store_dir: str) -> str:
    """The identity of the store's last commit (any transaction makes a new key)."""
    commit = Path(store_dir, "active", "commit_num")
    parts = [STORE_FORMAT, os.path.abspath(store_dir)]
    try:
        parts += [str(commit.stat().st_mtime_ns), commit.read_bytes().hex()]
    except OSError:
        parts.append("no-commit")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def load_store_model(store_dir: str) -> StoreModel:
    """The model of the store (parsed once per store commit, then read from the cache)."""
    return _load_model(os.path.abspath(store_dir), store_key(store_dir))


def _cache_path(key: str, what: str) -> Path:
    return cache_root() / "store" / f"{key}.{what}.pickle"


@functools.lru_cache(maxsize=4)
def _load_model(store: str, key: str) -> StoreModel:
    cached = read_pickle(_cache_path(key, "model"), StoreModel)
    if cached is not None:
        return cached
    blocks, index = _load_blocks(store, key)
    model = _model(store, key, blocks, index, frozenset())
    write_pickle(_cache_path(key, "model"), model)
    return model


@functools.lru_cache(maxsize=2)
def _load_blocks(store: str, key: str) -> tuple[tuple[Block, ...], BlockIndex]:
    blocks = read_pickle(_cache_path(key, "blocks"), tuple)
    if blocks is None:
        blocks = read_blocks(store)
        write_pickle(_cache_path(key, "blocks"), blocks)
    return blocks, BlockIndex.of(blocks)


@functools.lru_cache(maxsize=16)
def _model_for(store: str, key: str, removed: frozenset[str], extra: frozenset[str]
               ) -> StoreModel:
    if not removed and not extra:
        return _load_model(store, key)
    names = sorted(f"-{m}" for m in removed) + sorted(f"+{n}" for n in extra)
    variant = hashlib.sha256("\0".join(names).encode()).hexdigest()[:16]
    path = _cache_path(key, f"model-{variant}")
    cached = read_pickle(path, StoreModel)
    if cached is not None and (cached.removed_modules, cached.new_names) == (removed, extra):
        return cached
    blocks, index = _load_blocks(store, key)
    model = _model(store, key, blocks, index, removed, extra)
    write_pickle(path, model)
    return model
