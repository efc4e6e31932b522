"""CIL modules as blocks (a module's top level, each optional) and their resolution.

A block lists what it declares and every name its statements need, namespaced (``t:`` types,
attributes and aliases, ``r:`` roles, ``b:`` booleans, ``u:`` users, ``c:`` classes). An
optional block is kept only if every name it needs is declared by a kept block; dropping one
drops what is nested in it and its declarations. :func:`resolve` finds the greatest set of
blocks closed under that rule, as libsepol's resolver does by disabling and restarting.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from selkit.base.cil import CilSyntaxError, SExpr, atoms, parse, render
from selkit.base.modules import active_module_cils, read_cil

REQUIRE = "cil_gen_require"
TYPE_OPS = frozenset({"and", "or", "not", "xor", "all"})
_BOOL_OPS = frozenset({"and", "or", "not", "xor", "eq", "neq"})
_AV_RULES = frozenset({"allow", "dontaudit", "auditallow", "neverallow"})
_TYPE_RULES = frozenset({"typetransition", "typechange", "typemember"})
_CONTEXT_LAST = frozenset({"filecon", "portcon", "genfscon", "fsuse", "sidcontext",
                           "netifcon", "nodecon"})
#: A statement: a non-empty list whose head is its keyword, e.g. ``(type a_t)``.
Statement = tuple[SExpr, ...]

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
    neverallows: tuple[Statement, ...]

    def declarations(self) -> tuple[str, ...]:
        """Every name the block declares, namespaced like ``refs``."""
        return tuple("t:" + n for n in self.types + self.aliases + self.attributes) + self.others


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
        self.neverallows: list[Statement] = []

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

    def scan(self, stmt: Statement) -> None:
        kind, args = stmt[0], stmt[1:]
        if kind == "type":
            self.types.append(_name(args[0]))
        elif kind == "typealias":
            self.aliases.append(_name(args[0]))
        elif kind == "typeattribute":
            if args[0] != REQUIRE:
                self.attributes.append(_name(args[0]))
        elif kind in _DECL_NS:
            self.others.append(_DECL_NS[kind] + ":" + _name(args[0]))
        elif kind == "typealiasactual":
            self.alias_actuals.append((_name(args[0]), _name(args[1])))
            self.ref("t", args[:2])
        elif kind == "typeattributeset":
            self.ref("t", args, TYPE_OPS | {REQUIRE})
            if args[0] != REQUIRE:
                self.attribute_sets.append((_name(args[0]), args[1]))
        elif kind == "roleattributeset":
            self.ref("r", args if args[0] != REQUIRE else args[1:], TYPE_OPS)
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
                    if isinstance(inner, tuple) and inner:
                        self.scan(inner)


def _name(expr: SExpr) -> str:
    """The name a declaration gives: an atom (a list there is not CIL)."""
    if isinstance(expr, str):
        return expr
    raise CilSyntaxError(f"expected a name, found {render(expr)}")


def module_blocks(module: str, statements: Iterable[SExpr], blocks: list[Block],
                   parent: int = -1, label: str | None = None) -> None:
    """Append the block of ``statements`` and then, depth first, its optional blocks."""
    builder = _Builder()
    nested: list[Statement] = []
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
        module_blocks(module, stmt[2:], blocks, index, _name(stmt[1]))


def read_blocks(store_dir: str) -> tuple[Block, ...]:
    """Every block of every enabled module of the store, modules in name order."""
    blocks: list[Block] = []
    for module, path in active_module_cils(store_dir):
        text = read_cil(path).decode("utf-8", "replace")
        module_blocks(module, parse(text), blocks)
    return tuple(blocks)


# ---------------------------------------------------------------------------------------------
# Resolving optional blocks


@dataclass(frozen=True)
class BlockIndex:
    """Who references each name, and each block's children."""

    users: dict[str, tuple[int, ...]]
    children: tuple[tuple[int, ...], ...]

    @classmethod
    def of(cls, blocks: tuple[Block, ...]) -> BlockIndex:
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


def prune(blocks: tuple[Block, ...], index: BlockIndex, enabled: set[int], count: Counter[str],
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


def declared(blocks: tuple[Block, ...], enabled: Iterable[int]) -> Counter[str]:
    """How many of the ``enabled`` blocks declare each namespaced name."""
    count: Counter[str] = Counter()
    for i in enabled:
        count.update(blocks[i].declarations())
    return count


def resolve(blocks: tuple[Block, ...], index: BlockIndex, removed: frozenset[str],
            extra: frozenset[str] = frozenset()) -> set[int]:
    """The blocks the linker keeps when the modules ``removed`` are left out and new modules
    declare the namespaced names ``extra`` (``t:name`` for a type or attribute)."""
    enabled = {i for i, b in enumerate(blocks) if b.module not in removed}
    count = declared(blocks, enabled)
    count.update(extra)
    prune(blocks, index, enabled, count, sorted(enabled, reverse=True))
    return enabled
