"""What each domain of a binary policy holds, summarised for exposure scores
(:class:`selkit.audit.exposure.Held`) without expanding a single grant.

``init_t`` or ``unconfined_t`` hold over a million (target, class, permission) grants; the
scores only need, per category, the pairs held and how many target types carry them. So the
allow rules are taken grouped by the name written as their source
(:func:`selkit.analysis.linked.source_groups`) and each group is summarised once: per
category, the pairs under each (target name, exemption, conditional) key. A domain's holding
merges the groups covering it (the domain and its attributes) and expands each target name
once. It counts what :func:`held_from_grants` counts from every grant expanded
(``tests/audit/test_exposure.py`` checks it against :func:`selkit.analysis.linked.linked`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from selkit.analysis.allowtable import AllowTable, Row
from selkit.analysis.effective import Grant
from selkit.analysis.linked import members, names_covering, source_groups
from selkit.audit.categories import Category, CategoryMap, category_map
from selkit.audit.exposure import Breadth, Held
from selkit.base import Policy
from selkit.ir.kb import KnowledgeBase

Perm = tuple[str, str]
#: (target name, except the domain itself, exempt targets, conditional)
Key = tuple[str, bool, tuple[str, ...], bool]

#: The attribute refpolicy gives every program's entrypoint type.
EXEC_ATTRIBUTE = "exec_type"


@dataclass
class _Group:
    """The rules written with one source name, summarised."""

    perms: set[Perm] = field(default_factory=set)
    unconditional: set[Perm] = field(default_factory=set)
    categories: dict[Category, dict[Key, set[Perm]]] = field(default_factory=dict)
    file_writes: dict[Key, set[Perm]] = field(default_factory=dict)


def _summarise(rows: Iterable[Row], cmap: CategoryMap) -> _Group:
    group = _Group()
    for _, target, tclass, perms, condition, _ in rows:
        cond = condition is not None
        for perm in perms:
            pair = (tclass, perm)
            group.perms.add(pair)
            if not cond:
                group.unconditional.add(pair)
            for m in cmap.members.get(pair, ()):
                key = (target, m.except_self, m.exempt_targets, cond)
                group.categories.setdefault(m.category, {}).setdefault(key, set()).add(pair)
                if m.category is Category.FILE_WRITE and tclass == "file":
                    group.file_writes.setdefault(key, set()).add(pair)
    return group


class PolicyHoldings:
    """Every domain's :class:`Held` in one binary policy, the groups summarised on demand."""

    def __init__(self, policy: Policy | AllowTable, kb: KnowledgeBase):
        """``policy``: the policy's allow rules (its table, read through the cache by
        :func:`selkit.analysis.allowtable.allow_table`, or the SETools policy); ``kb``: its
        names and classes (:func:`selkit.base.load_kb`)."""
        self.policy = policy
        self.kb = kb
        self.cmap = category_map(kb.classes)
        self.exec_types = kb.attribute_members.get(EXEC_ATTRIBUTE, frozenset())
        self._rules = source_groups(policy)
        self._groups: dict[str, _Group] = {}

    @property
    def domains(self) -> list[str]:
        """The members of the attribute ``domain``, sorted."""
        return sorted(self.kb.attribute_members.get("domain", ()))

    def _group(self, name: str) -> _Group:
        found = self._groups.get(name)
        if found is None:
            found = self._groups[name] = _summarise(self._rules.get(name, ()), self.cmap)
        return found

    def _expand(self, name: str) -> frozenset[str]:
        return members(self.policy, name)

    def held(self, domain: str) -> Held:
        """What ``domain`` holds (a type of the policy; LookupError otherwise)."""
        groups = [self._group(n) for n in names_covering(self.policy, domain)]
        perms = set().union(*(g.perms for g in groups))
        unconditional = set().union(*(g.unconditional for g in groups))
        cats = {}
        for c in Category:
            merged: dict[Key, set[Perm]] = {}
            for g in groups:
                for key, ps in g.categories.get(c, {}).items():
                    merged.setdefault(key, set()).update(ps)
            cats[c] = self._breadth(domain, merged)
        writes: dict[Key, set[Perm]] = {}
        for g in groups:
            for key, ps in g.file_writes.items():
                writes.setdefault(key, set()).update(ps)
        return Held(domain, cats, frozenset(perms), frozenset(perms - unconditional),
                    self._breadth(domain, writes, self.exec_types))

    def _breadth(self, domain: str, keyed: dict[Key, set[Perm]],
                 within: frozenset[str] | None = None) -> Breadth:
        pairs: set[Perm] = set()
        plain: set[Perm] = set()
        reached: list[frozenset[str]] = []
        for (target, except_self, exempt, cond), ps in keyed.items():
            types = self._expand(target)
            if within is not None:
                types = types & within
            excluded = {*exempt, domain} if except_self else set(exempt)
            if excluded:
                types = types - excluded
            if not types:
                continue
            reached.append(types)
            pairs |= ps
            if not cond:
                plain |= ps
        targets = len(frozenset().union(*reached)) if reached else 0
        return Breadth(frozenset(pairs), targets, frozenset(pairs - plain))


def held_from_grants(domain: str, grants: Iterable[Grant], cmap: CategoryMap,
                     exec_types: frozenset[str]) -> Held:
    """What ``domain`` holds, from its grants one by one (a spec's phase, as the compositional
    engine computes it; or a reference for :class:`PolicyHoldings`)."""
    pairs: dict[Category, set[Perm]] = {c: set() for c in Category}
    plain: dict[Category, set[Perm]] = {c: set() for c in Category}
    targets: dict[Category, set[str]] = {c: set() for c in Category}
    perms: set[Perm] = set()
    unconditional: set[Perm] = set()
    writes: set[Perm] = set()
    writes_plain: set[Perm] = set()
    written: set[str] = set()
    for g in grants:
        pair = (g.tclass, g.perm)
        perms.add(pair)
        if g.conditional is None:
            unconditional.add(pair)
        for c in cmap.of(g.tclass, g.perm, g.target, domain):
            pairs[c].add(pair)
            targets[c].add(g.target)
            if g.conditional is None:
                plain[c].add(pair)
            if c is Category.FILE_WRITE and g.tclass == "file" and g.target in exec_types:
                writes.add(pair)
                written.add(g.target)
                if g.conditional is None:
                    writes_plain.add(pair)
    cats = {c: Breadth(frozenset(pairs[c]), len(targets[c]), frozenset(pairs[c] - plain[c]))
            for c in Category}
    return Held(domain, cats, frozenset(perms), frozenset(perms - unconditional),
                Breadth(frozenset(writes), len(written), frozenset(writes - writes_plain)))
