"""Exposure scores: one number from 0.0 to 10.0 per domain, computed as ``systemd-analyze
security`` computes a service's, so its readers read it the same way.

Each :class:`Item` has a weight and a range; a domain gets a badness from 0 to the range per
item. With ``sum_b`` the sum over the items of ``ceil(badness * weight / range)`` and ``sum_w``
the sum of the weights, the exposure is ``ceil(sum_b * 100 / sum_w)`` tenths (0-100, shown as
0.0-10.0) and its level word is systemd's (:data:`LEVELS`).

The items (``docs/exposure.md`` grounds each):

* one per category of :mod:`selkit.audit.categories` (weight from its severity, range 20): the
  badness grows with the log of the category's breadth, ``ceil(log2(1 + pairs * targets))``
  capped at 20, so that a domain writing its own log file and one writing every file differ;
* one per security goal of refpolicy's ``testing/sechecker.ini`` a domain can break (range 1:
  held or not), and W^X memory (systemd's ``MemoryDenyWriteExecute=``); the readonly-executables
  goal is measured like a category, over the executable types (``exec_type``) it may write.

Pure: :func:`score` works on :class:`Held`, which a test builds by hand and
:mod:`selkit.audit.domains` reads from a binary policy. Conditional rules count as held.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from selkit.audit.categories import Category, Severity, ordered

Perm = tuple[str, str]

#: systemd's level words, the lowest exposure (tenths) each starts at, the worst first.
LEVELS: tuple[tuple[int, str], ...] = (
    (100, "DANGEROUS"), (90, "UNSAFE"), (75, "EXPOSED"), (50, "MEDIUM"), (10, "OK"),
    (1, "SAFE"), (0, "PERFECT"))

#: A category item's weight, from its severity (systemd's weights run 25-2000; 1000 is the
#: weight of most of its sandboxing options).
SEVERITY_WEIGHT = {Severity.HIGH: 1000, Severity.MEDIUM: 500, Severity.LOW: 250}

#: The badness range of a breadth item; 2 ** 20 (about a million grants) saturates it.
BREADTH_RANGE = 20

#: The sechecker goal every phased daemon's startup breaks (see :data:`SETCURRENT_NOTE`).
SETCURRENT = "PRIVILEGE-setcurrent"

SETCURRENT_NOTE = (
    "refpolicy's PRIVILEGE-setcurrent goal flags every domain holding process setcurrent. A "
    "selkit daemon's startup phase holds it by design: it calls setcon() into its steady "
    "phase, which is the point of phasing. setcurrent alone lets a process change its label "
    "only where a dyntransition rule allows (counted in the transition item), so the goal "
    "weighs little here; to keep the goal for everything else, exempt the startup domain "
    "(exempt_source in sechecker's INI, as refpolicy exempts kernel_t).")


@dataclass(frozen=True)
class Item:
    """One assessed property: ``weight`` and ``range`` as systemd's assessors have them."""

    name: str
    weight: int
    range: int
    description: str
    grounding: str
    #: The class:permission pairs a goal looks for (empty for a breadth item).
    perms: tuple[Perm, ...] = ()
    category: Category | None = None


@dataclass(frozen=True)
class Breadth:
    """What a domain holds in one category: pairs whatever the target, and how many target
    types (the category's exemptions applied) carry at least one of them."""

    pairs: frozenset[Perm] = frozenset()
    targets: int = 0
    #: Of ``pairs``, those held only through conditional rules.
    conditional: frozenset[Perm] = frozenset()


@dataclass(frozen=True)
class Held:
    """What one domain holds, summarised for scoring."""

    domain: str
    categories: Mapping[Category, Breadth]
    #: Every class:permission it holds on some target (the goals look here).
    perms: frozenset[Perm] = frozenset()
    #: Of ``perms``, those held only through conditional rules.
    conditional: frozenset[Perm] = frozenset()
    #: Executable types (members of ``exec_type``) it may write as files, and the pairs.
    exec_writes: Breadth = field(default_factory=Breadth)


def _goal(name: str, weight: int, perms: tuple[Perm, ...], description: str,
          grounding: str = "refpolicy testing/sechecker.ini") -> Item:
    return Item(name, weight, 1, description, grounding, perms)


#: The goals: refpolicy's, then selkit's W^X (held or not; conditional rules count).
GOALS: tuple[Item, ...] = (
    _goal("PRIVILEGE-load_policy", 2000, (("security", "load_policy"),),
          "load a new SELinux policy"),
    _goal("PRIVILEGE-setenforce", 2000, (("security", "setenforce"),),
          "switch SELinux to permissive mode"),
    _goal("PRIVILEGE-setbool", 1500, (("security", "setbool"),),
          "change SELinux booleans (turn conditional rules on)"),
    _goal("PRIVILEGE-CAP_SYS_MODULE", 1500, (("capability", "sys_module"),),
          "CAP_SYS_MODULE: load kernel modules"),
    _goal("PRIVILEGE-module_load", 1500, (("system", "module_load"),),
          "load a kernel module from a file"),
    _goal("PRIVILEGE-CAP_SYS_ADMIN", 1500, (("capability", "sys_admin"),),
          "CAP_SYS_ADMIN: mount, namespaces and the rest of the kitchen sink"),
    _goal("PRIVILEGE-CAP_SYS_RAWIO", 1000, (("capability", "sys_rawio"),),
          "CAP_SYS_RAWIO: raw I/O on devices and memory"),
    _goal("PRIVILEGE-CAP_NET_ADMIN", 1000, (("capability", "net_admin"),),
          "CAP_NET_ADMIN: configure interfaces, routes, firewall"),
    _goal(SETCURRENT, 250, (("process", "setcurrent"),),
          "change its own label with setcon() (where a dyntransition rule allows)"),
    _goal("W^X-memory", 1000, (("process", "execmem"), ("process", "execstack"),
                              ("process", "execheap")),
          "make writable memory executable (execmem, execstack, execheap)",
          "systemd MemoryDenyWriteExecute=; the syscall table's exec_memory family"),
)

#: refpolicy's ro_execs goal, measured by breadth over the ``exec_type`` members written.
READONLY_EXECUTABLES = Item(
    "INTEGRITY-readonly-executables", 1500, BREADTH_RANGE,
    "write executable files (members of exec_type)",
    "refpolicy testing/sechecker.ini (ro_execs), over exec_type instead of every executed type")


def category_item(category: Category) -> Item:
    """The breadth item of ``category``."""
    return Item(category.value, SEVERITY_WEIGHT[category.severity], BREADTH_RANGE,
                category.meaning, "selkit.audit.categories (docs/audit.md)", category=category)


def items() -> tuple[Item, ...]:
    """Every item, in the report's order: the categories (the worst first), then the goals."""
    return (*(category_item(c) for c in ordered()), *GOALS, READONLY_EXECUTABLES)


def breadth_badness(pairs: int, targets: int) -> int:
    """``ceil(log2(1 + pairs * targets))``, capped at :data:`BREADTH_RANGE` (exact integers):
    0 for nothing, 1 for one grant, 20 from about a million."""
    size, badness = 1 + pairs * targets, 0
    while 2 ** badness < size and badness < BREADTH_RANGE:
        badness += 1
    return badness


@dataclass(frozen=True)
class Assessment:
    """One item for one domain: its badness and what was found."""

    item: Item
    badness: int
    found: str
    #: True when everything found is held only through conditional rules.
    conditional: bool = False

    @property
    def contribution(self) -> int:
        """``ceil(badness * weight / range)``: what the item adds to the sum."""
        return ceil_div(self.badness * self.item.weight, self.item.range)


@dataclass(frozen=True)
class Score:
    """A domain's exposure: every item assessed, and the total in tenths."""

    domain: str
    assessments: tuple[Assessment, ...]
    exposure: int
    #: The unrounded sum (of the contributions): breaks ties between equal exposures.
    badness_sum: int = 0

    @property
    def level(self) -> str:
        """systemd's word for the exposure."""
        return level_of(self.exposure)

    @property
    def text(self) -> str:
        """The exposure as systemd prints it, e.g. ``4.2``."""
        return f"{self.exposure // 10}.{self.exposure % 10}"

    def above(self, threshold: float) -> bool:
        """Whether the exposure is above ``threshold`` (0.0-10.0), exactly: 1.5 is above
        1.45, not above 1.5 (systemd fails a threshold when the exposure exceeds it)."""
        return Decimal(self.exposure) / 10 > Decimal(repr(threshold))

    def top(self, count: int = 3) -> list[Assessment]:
        """The items adding most, the largest first (ties in the items' order)."""
        found = [a for a in self.assessments if a.badness]
        return sorted(found, key=lambda a: -a.contribution)[:count]


def ceil_div(a: int, b: int) -> int:
    """``a / b`` rounded up (systemd's DIV_ROUND_UP), for non-negative integers."""
    return -(-a // b)


def level_of(exposure: int) -> str:
    """The level word of an exposure in tenths."""
    return next(name for low, name in LEVELS if exposure >= low)


def _perm_list(perms: frozenset[Perm] | set[Perm], most: int = 4) -> str:
    texts = [f"{c}:{p}" for c, p in sorted(perms)]
    more = f" +{len(texts) - most}" if len(texts) > most else ""
    return " ".join(texts[:most]) + more


def _breadth(item: Item, b: Breadth, what: str) -> Assessment:
    if not b.pairs:
        return Assessment(item, 0, "none")
    found = (f"{len(b.pairs)} pair{'s' * (len(b.pairs) != 1)} on {b.targets} {what}"
             f"{'s' * (b.targets != 1)}: {_perm_list(b.pairs)}")
    return Assessment(item, breadth_badness(len(b.pairs), b.targets), found,
                      conditional=b.conditional == b.pairs)


def assess(item: Item, held: Held) -> Assessment:
    """``item`` for the domain of ``held``."""
    if item.category is not None:
        return _breadth(item, held.categories.get(item.category, Breadth()), "type")
    if item is READONLY_EXECUTABLES:
        return _breadth(item, held.exec_writes, "executable type")
    hits = {p for p in item.perms if p in held.perms}
    if not hits:
        return Assessment(item, 0, "not held")
    only_if = hits <= held.conditional
    return Assessment(item, 1, "holds " + _perm_list(hits) + (" (conditional)" if only_if else ""),
                      conditional=only_if)


def score(held: Held) -> Score:
    """The exposure of one domain."""
    assessments = tuple(assess(item, held) for item in items())
    badness_sum = sum(a.contribution for a in assessments)
    weight_sum = sum(a.item.weight for a in assessments)
    return Score(held.domain, assessments, ceil_div(badness_sum * 100, weight_sum), badness_sum)


@dataclass(frozen=True)
class Ranked:
    """A score and its competition rank (equal scores share the better rank)."""

    rank: int
    score: Score


def rank(scores: Mapping[str, Score] | list[Score]) -> list[Ranked]:
    """Scores by exposure, the highest first; an equal exposure by the unrounded sum; equal
    both, by domain name, sharing a rank."""
    values = list(scores.values()) if isinstance(scores, Mapping) else list(scores)
    ordered_scores = sorted(values, key=lambda s: (-s.exposure, -s.badness_sum, s.domain))
    out: list[Ranked] = []
    for position, s in enumerate(ordered_scores, 1):
        last = out[-1].score if out else None
        same = last is not None and (last.exposure, last.badness_sum) == (s.exposure,
                                                                          s.badness_sum)
        out.append(Ranked(out[-1].rank if same else position, s))
    return out
