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
import pickle
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, NamedTuple

from selkit.base import _active_module_cils, _disabled_modules, _read_cil
from selkit.base.cil import SExpr, atoms, parse, render
from selkit.cache import cache_root

#: Bump when the cached shapes change.
STORE_FORMAT = "store-2"

_REQUIRE = "cil_gen_require"
_TYPE_OPS = frozenset({"and", "or", "not", "xor", "all"})
_BOOL_OPS = frozenset({"and", "or", "not", "xor", "eq", "neq"})
_AV_RULES = frozenset({"allow", "dontaudit", "auditallow", "neverallow"})
_TYPE_RULES = frozenset({"typetransition", "typechange", "typemember"})
_CONTEXT_LAST = frozenset({"filecon", "portcon", "genfscon", "fsuse", "sidcontext",
                           "netifcon", "nodecon"})
_DECL_NS = {"role": "r", "roleattribute": "r", "boolean": "b", "tunable": "b", "user": "u",
            "userattribute": "u", "class": "c", "classmap": "c", "classpermission": "c",
            "common": "c"}


class Block(NamedTuple):
    """A module's top level (``parent`` -1) or one ``optional`` block, without its children."""

    module: str
    parent: int
    label: str
    types: tuple[str, ...]
    aliases: tuple[str, ...]
    attributes: tuple[str, ...]
    #: Other declarations, namespaced: ``r:role``, ``b:bool``, ``u:user``, ``c:class``.
    others: tuple[str, ...]
    #: Every name a statement of the block needs, namespaced (``t:`` types/attributes/aliases).
    refs: tuple[str, ...]
    alias_actuals: tuple[tuple[str, str], ...]
    attribute_sets: tuple[tuple[str, SExpr], ...]
    neverallows: tuple[tuple[SExpr, ...], ...]

    def declarations(self) -> tuple[str, ...]:
        """Every name the block declares, namespaced like ``refs``."""
        return tuple("t:" + n for n in self.types + self.aliases + self.attributes) + self.others


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
# Reading CIL into blocks


class _Builder:
    """Collects one block's declarations and references while its statements are scanned."""

    def __init__(self) -> None:
        self.types: list[str] = []
        self.aliases: list[str] = []
        self.attributes: list[str] = []
        self.others: list[str] = []
        self.refs: set[str] = set()
        self.alias_actuals: list[tuple[str, str]] = []
        self.attribute_sets: list[tuple[str, SExpr]] = []
        self.neverallows: list[tuple[SExpr, ...]] = []

    def block(self, module: str, parent: int, label: str) -> Block:
        return Block(module, parent, label, tuple(self.types), tuple(self.aliases),
                     tuple(self.attributes), tuple(self.others), tuple(sorted(self.refs)),
                     tuple(self.alias_actuals), tuple(self.attribute_sets),
                     tuple(self.neverallows))

    def ref(self, ns: str, expr: SExpr, skip: frozenset[str] = frozenset()) -> None:
        for name in atoms(expr):
            if name not in skip:
                self.refs.add(ns + ":" + name)

    def context(self, ctx: SExpr) -> None:
        if isinstance(ctx, tuple) and len(ctx) == 4:
            self.ref("u", ctx[0])
            self.ref("r", ctx[1])
            self.ref("t", ctx[2])

    def scan(self, stmt: tuple[SExpr, ...]) -> None:  # noqa: C901 - one case per keyword
        kind, args = stmt[0], stmt[1:]
        if kind == "type":
            self.types.append(args[0])
        elif kind == "typealias":
            self.aliases.append(args[0])
        elif kind == "typeattribute":
            if args[0] != _REQUIRE:
                self.attributes.append(args[0])
        elif kind in _DECL_NS:
            self.others.append(_DECL_NS[kind] + ":" + args[0])
        elif kind == "typealiasactual":
            self.alias_actuals.append((args[0], args[1]))
            self.ref("t", args[:2])
        elif kind == "typeattributeset":
            self.ref("t", args, _TYPE_OPS | {_REQUIRE})
            if args[0] != _REQUIRE:
                self.attribute_sets.append((args[0], args[1]))
        elif kind == "roleattributeset":
            self.ref("r", args if args[0] != _REQUIRE else args[1:], _TYPE_OPS)
        elif kind in _AV_RULES:
            self.ref("t", args[0])
            self.ref("t", args[1], frozenset({"self"}))
            self.ref("c", args[2][0] if isinstance(args[2], tuple) else args[2])
            if kind == "neverallow":
                self.neverallows.append(stmt)
        elif kind in _TYPE_RULES:
            self.ref("t", (args[0], args[1], args[-1]))
            self.ref("c", args[2])
        elif kind == "roletype":
            self.ref("r", args[0])
            self.ref("t", args[1])
        elif kind in ("roleallow", "roletransition"):
            self.ref("r", (args[0], args[-1]))
            if kind == "roletransition":
                self.ref("t", args[1])
        elif kind == "rangetransition":
            self.ref("t", args[:2])
        elif kind in ("userrole", "userlevel", "userrange", "userprefix"):
            self.ref("u", args[0])
            if kind == "userrole":
                self.ref("r", args[1])
        elif kind in _CONTEXT_LAST:
            self.context(args[-1])
        elif kind == "booleanif":
            self.ref("b", args[0], _BOOL_OPS)
            for branch in args[1:]:
                for inner in branch[1:]:
                    self.scan(inner)


def _module_blocks(module: str, statements: Iterable[SExpr], blocks: list[Block],
                   parent: int = -1, label: str | None = None) -> None:
    """Append the block of ``statements`` and then, depth first, its optional blocks."""
    builder = _Builder()
    nested = []
    for stmt in statements:
        if not isinstance(stmt, tuple) or not stmt:
            continue
        if stmt[0] == "optional":
            nested.append(stmt)
        else:
            builder.scan(stmt)
    index = len(blocks)
    blocks.append(builder.block(module, parent, label or module))
    for stmt in nested:
        _module_blocks(module, stmt[2:], blocks, index, stmt[1])


def read_blocks(store_dir: str) -> tuple[Block, ...]:
    """Every block of every enabled module of the store, modules in name order."""
    blocks: list[Block] = []
    for module, path in _active_module_cils(store_dir):
        text = _read_cil(path).decode("utf-8", "replace")
        _module_blocks(module, parse(text), blocks)
    return tuple(blocks)


# ---------------------------------------------------------------------------------------------
# Resolving optional blocks


@dataclass(frozen=True)
class _Index:
    """Who references each name, and each block's children."""

    users: dict[str, tuple[int, ...]]
    children: tuple[tuple[int, ...], ...]

    @classmethod
    def of(cls, blocks: tuple[Block, ...]) -> "_Index":
        users: dict[str, list[int]] = {}
        children: list[list[int]] = [[] for _ in blocks]
        for i, block in enumerate(blocks):
            for ref in block.refs:
                users.setdefault(ref, []).append(i)
            if block.parent >= 0:
                children[block.parent].append(i)
        return cls({k: tuple(v) for k, v in users.items()}, tuple(tuple(c) for c in children))

    def subtree(self, root: int) -> list[int]:
        out, todo = [], [root]
        while todo:
            node = todo.pop()
            out.append(node)
            todo.extend(self.children[node])
        return out


def _prune(blocks: tuple[Block, ...], index: _Index, enabled: set[int], count: Counter,
           queue: list[int]) -> None:
    """Disable, in place, every optional block (from ``queue`` on) with a name nothing
    declares, with what is nested in it, until nothing changes: a greatest fixed point."""
    while queue:
        i = queue.pop()
        if i not in enabled or blocks[i].parent < 0:
            continue
        if all(count[ref] for ref in blocks[i].refs):
            continue
        for j in index.subtree(i):
            if j in enabled:
                enabled.discard(j)
                for name in blocks[j].declarations():
                    count[name] -= 1
                    if count[name] == 0:
                        queue.extend(index.users.get(name, ()))


def _declared(blocks: tuple[Block, ...], enabled: Iterable[int]) -> Counter:
    count: Counter = Counter()
    for i in enabled:
        count.update(blocks[i].declarations())
    return count


def resolve(blocks: tuple[Block, ...], index: _Index, removed: frozenset[str],
            extra: frozenset[str] = frozenset()) -> set[int]:
    """The blocks the linker keeps when the modules ``removed`` are left out and new modules
    declare the namespaced names ``extra`` (``t:name`` for a type or attribute)."""
    enabled = {i for i, b in enumerate(blocks) if b.module not in removed}
    count = _declared(blocks, enabled)
    count.update(extra)
    _prune(blocks, index, enabled, count, sorted(enabled, reverse=True))
    return enabled


def _triggers(blocks: tuple[Block, ...], index: _Index, enabled: set[int],
              count: Counter) -> dict[str, tuple[str, ...]]:
    """Each undeclared name whose declaration alone would switch blocks on → their modules."""
    disabled = [i for i in range(len(blocks)) if i not in enabled
                and not _under_removed(blocks, i, enabled)]
    candidates = sorted({ref for i in disabled for ref in blocks[i].refs if not count[ref]})
    # Blocks that no set of new names can switch on are left out of every per-name run.
    pool = set(disabled)
    every = count.copy()
    every.update(candidates)
    every.update(_declared(blocks, pool))
    _prune(blocks, index, pool, every, sorted(pool))
    in_pool = _declared(blocks, pool)
    lacking = {i: {r for r in blocks[i].refs if not count[r] and not in_pool[r]} for i in pool}
    out: dict[str, set[str]] = {}
    for ref in candidates:
        trial = _switchable(blocks, enabled, pool, lacking, ref)
        if not trial:
            continue
        # count is borrowed: what is added for the trial is taken back after it.
        added = _declared(blocks, trial)
        count.update(added)
        count[ref] += 1
        _prune(blocks, index, trial, count, sorted(trial))
        count.subtract(_declared(blocks, trial))
        count[ref] -= 1
        if trial:
            out.setdefault(ref[2:], set()).update(blocks[i].module for i in trial)
    return {name: tuple(sorted(modules)) for name, modules in sorted(out.items())}


def _switchable(blocks: tuple[Block, ...], enabled: set[int], pool: set[int],
                lacking: dict[int, set[str]], ref: str) -> set[int]:
    """The pool's blocks that lack nothing but ``ref`` beyond the pool's own names, each under
    a parent that is enabled or itself switchable (parents come before children)."""
    out: set[int] = set()
    for i in sorted(pool):
        if lacking[i] <= {ref} and (blocks[i].parent in enabled or blocks[i].parent in out):
            out.add(i)
    return out if any(ref in blocks[i].refs for i in out) else set()


def _under_removed(blocks: tuple[Block, ...], i: int, enabled: set[int]) -> bool:
    """True if block ``i``'s module top level is not enabled (its module was removed)."""
    while blocks[i].parent >= 0:
        i = blocks[i].parent
    return i not in enabled


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


def _evaluate_expr(expr: SExpr, exprs, aliases, types, memo) -> frozenset[str]:
    if isinstance(expr, str):
        return _evaluate(expr, exprs, aliases, types, memo)
    parts = [_evaluate_expr(e, exprs, aliases, types, memo) for e in expr[1:]] \
        if expr and expr[0] in _TYPE_OPS else None
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


def _holds(expr: SExpr, contains) -> bool:
    """Whether a new type is in ``expr``, given ``contains(attribute)`` for named ones."""
    if isinstance(expr, str):
        return contains(expr)
    if expr and expr[0] in _TYPE_OPS:
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
    attribute_members: dict[str, frozenset[str]]
    declared_by: dict[str, str]
    disabled_blocks: tuple[DisabledBlock, ...]
    triggers: dict[str, tuple[str, ...]]
    neverallows: tuple[Neverallow, ...]
    #: (module, name) of top-level statements whose name nothing declares: the link fails.
    unresolved: tuple[tuple[str, str], ...]
    #: Namespaced names new modules declare (:meth:`with_declared`), e.g. ``t:oddjob_t``.
    new_names: frozenset[str] = frozenset()

    def canonical(self, name: str) -> str:
        """The type an alias stands for (any other name is itself)."""
        return self.aliases.get(name, name)

    def members(self, name: str) -> frozenset[str]:
        """The real types a name stands for (empty for a name the store does not declare)."""
        if name in self.attribute_members:
            return self.attribute_members[name]
        actual = self.canonical(name)
        return frozenset({actual}) if actual in self.types else frozenset()

    def module_of(self, name: str) -> str | None:
        """The module whose enabled block declares ``name`` (a type, alias, attribute, role,
        boolean, user or class), or None."""
        return self.declared_by.get(name)

    def trigger_names(self) -> dict[str, tuple[str, ...]]:
        """Each undeclared name that switches disabled optional blocks on when a new module
        declares it → the modules those blocks belong to."""
        return dict(self.triggers)

    def attributes_of(self, direct: Iterable[str]) -> frozenset[str]:
        """Every attribute a new type with the ``direct`` attributes belongs to (expression
        attributes such as ``(not ...)`` and ``(all)`` included)."""
        direct = frozenset(direct)
        memo: dict[str, bool] = {}

        def contains(name: str) -> bool:
            if name not in memo:
                memo[name] = False
                memo[name] = name in direct or any(
                    _holds(e, contains) for e in self.attribute_exprs.get(name, ()))
            return memo[name]

        return frozenset(a for a in self.attributes | (direct & self.attributes) if contains(a))

    def expand_with(self, name: str, new_types: dict[str, frozenset[str]]) -> frozenset[str]:
        """Members of ``name`` once the ``new_types`` (type → direct attributes) join."""
        if name in new_types:
            return frozenset({name})
        if name not in self.attributes:
            return self.members(name)
        joined = {t for t, direct in new_types.items() if name in self.attributes_of(direct)}
        return self.members(name) | joined

    def expression_of(self, attribute: str) -> str | None:
        """The CIL expression an attribute stands for, e.g. ``(not (memory_raw_read ...))``."""
        exprs = self.attribute_exprs.get(attribute)
        if not exprs:
            return None
        return render(exprs[0]) if len(exprs) == 1 else render(("or",) + exprs)

    def without(self, modules: Iterable[str]) -> "StoreModel":
        """The store with ``modules`` removed, optional blocks resolved again."""
        removed = frozenset(modules) | self.removed_modules
        return _model_for(self.store, self.key, removed, self.new_names)

    def with_declared(self, types: Iterable[str] = (), roles: Iterable[str] = (),
                      booleans: Iterable[str] = ()) -> "StoreModel":
        """The store's part of the link when new modules declare these names: disabled blocks
        that lacked only them switch on (the new names themselves are not in ``types``)."""
        extra = frozenset([f"t:{n}" for n in types] + [f"r:{n}" for n in roles]
                          + [f"b:{n}" for n in booleans]) | self.new_names
        return _model_for(self.store, self.key, self.removed_modules, extra)


def _model(store: str, key: str, blocks: tuple[Block, ...], index: _Index,
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
    memo: dict[str, frozenset[str]] = {}
    members = {a: _evaluate(a, exprs, aliases, types, memo) for a in sorted(attributes)}
    declared_by: dict[str, str] = {}
    for b in kept:
        for name in b.types + b.aliases + b.attributes + tuple(o[2:] for o in b.others):
            declared_by.setdefault(name, b.module)
    count = _declared(blocks, enabled)
    count.update(extra)
    disabled = tuple(
        DisabledBlock(b.module, b.label, tuple(r[2:] for r in b.refs if not count[r]))
        for i, b in enumerate(blocks)
        if i not in enabled and b.module not in removed)
    unresolved = tuple(sorted((b.module, r[2:]) for b in kept if b.parent < 0
                              for r in b.refs if not count[r]))
    return StoreModel(
        store=store, key=key, enabled_modules=frozenset(b.module for b in kept),
        disabled_modules=_disabled_modules(store), removed_modules=removed, types=types,
        aliases=aliases, attributes=attributes, attribute_exprs=exprs,
        attribute_members=members, declared_by=declared_by, disabled_blocks=disabled,
        triggers=_triggers(blocks, index, enabled, count),
        neverallows=tuple(_neverallow(stmt, b.module) for b in kept for stmt in b.neverallows),
        unresolved=unresolved, new_names=extra)


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


def _read_pickle(path: Path, kind: type):
    try:
        with open(path, "rb") as handle:
            value = pickle.load(handle)
        return value if isinstance(value, kind) else None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
        return None


def _write_pickle(path: Path, value) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only costs speed


@functools.lru_cache(maxsize=4)
def _load_model(store: str, key: str) -> StoreModel:
    cached = _read_pickle(_cache_path(key, "model"), StoreModel)
    if cached is not None:
        return cached
    blocks, index = _load_blocks(store, key)
    model = _model(store, key, blocks, index, frozenset())
    _write_pickle(_cache_path(key, "model"), model)
    return model


@functools.lru_cache(maxsize=2)
def _load_blocks(store: str, key: str) -> tuple[tuple[Block, ...], _Index]:
    blocks = _read_pickle(_cache_path(key, "blocks"), tuple)
    if blocks is None:
        blocks = read_blocks(store)
        _write_pickle(_cache_path(key, "blocks"), blocks)
    return blocks, _Index.of(blocks)


@functools.lru_cache(maxsize=16)
def _model_for(store: str, key: str, removed: frozenset[str], extra: frozenset[str]
               ) -> StoreModel:
    if not removed and not extra:
        return _load_model(store, key)
    blocks, index = _load_blocks(store, key)
    return _model(store, key, blocks, index, removed, extra)
