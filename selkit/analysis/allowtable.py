"""A linked kernel policy's allow rules as written, read in one pass and kept.

SETools makes a Python object of each of a policy's rules (130,000 in Debian's): the pass is
most of the cost of any question about the policy. :func:`scan` makes that pass once and keeps
only what the linked engine and the audit diff read of a rule (its names, permissions and
condition), with what each attribute stands for; :func:`allow_table` keeps the table of a
policy file in the cache (keyed by the file's identity), so a second question about the same
file reads no rule with SETools.
"""

from __future__ import annotations

import gc
import hashlib
import sys
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selkit.analysis.conditions import rule_condition
from selkit.base import Policy
from selkit.cache import cache_root, file_identity, read_pickle, write_pickle

#: Bump when what :class:`AllowTable` holds changes (shape or meaning): old cache entries are
#: then ignored. allow-table-2: rows are plain tuples.
TABLE_FORMAT = "allow-table-2"


#: One allow rule as written: (source, target, class, permissions, condition, suffix).
#:
#: * source, target: a type or an attribute;
#: * the permissions in the order SETools' set of them iterates (the order the engine's grants
#:   are made in): compare two rows' permissions as sets;
#: * the condition: None, the boolean expression (true branch) or its negation (false branch),
#:   as :func:`selkit.analysis.conditions.rule_condition` gives it;
#: * the suffix: what SETools appends to the text of a conditional rule (" [ expr ]:True").
#:
#: A plain tuple of strings: the collector leaves it alone and pickle writes it without Python
#: code (a NamedTuple doubles the time to write and read a table).
Row = tuple[str, str, str, tuple[str, ...], str | None, str]


def statement(row: Row) -> str:
    """The rule as SETools writes it (``str(rule)``)."""
    source, target, tclass, perms, _, suffix = row
    written = f"{{ {' '.join(sorted(perms))} }}" if len(perms) > 1 else perms[0]
    return f"allow {source} {target}:{tclass} {written};{suffix}"


@dataclass(frozen=True, eq=False)
class AllowTable:
    """The allow rules of a linked policy in the policy's order, and its types and attributes."""

    rows: tuple[Row, ...]
    types: frozenset[str]
    #: attribute -> the types it stands for
    attributes: dict[str, frozenset[str]]

    def expand(self, name: str) -> frozenset[str]:
        """The types a type or attribute name stands for (a type: itself)."""
        found = self.attributes.get(name)
        return frozenset((name,)) if found is None else found


def row_of(rule: Any, perms: dict[tuple[str, frozenset[str]], tuple[str, ...]] | None = None
           ) -> Row:
    """The row of one SETools allow rule; names interned, and the permissions shared through
    ``perms`` (class and set -> the tuple) by the rows of one table."""
    intern = sys.intern
    source, target, tclass = (intern(str(rule.source)), intern(str(rule.target)),
                              intern(str(rule.tclass)))
    found = rule.perms
    if perms is None:
        written = tuple(found)
    else:  # a class's sets are made in the order of its permission bits: one order per set
        written = perms.get((tclass, found)) or perms.setdefault((tclass, found), tuple(found))
    try:
        expression = str(rule.conditional)
    except Exception:  # noqa: BLE001 - setools raises RuleNotConditional
        return (source, target, tclass, written, None, "")
    return (source, target, tclass, written, intern(rule_condition(rule) or ""),
            intern(f" [ {expression} ]:{bool(rule.conditional_block)}"))


def attributes_of(policy: Policy) -> dict[str, frozenset[str]]:
    """attribute -> the types it stands for, in SETools' order of expansion."""
    return {str(a): frozenset(str(t) for t in a.expand()) for a in policy.typeattributes()}


def scan(policy: Policy) -> AllowTable:
    """The table of a SETools policy: one pass over its rules (kept with the policy object)."""
    found = _TABLES.get(policy)
    if found is None:
        found = _TABLES[policy] = _scan(policy)
    return found


_TABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _scan(policy: Policy) -> AllowTable:
    import setools  # noqa: PLC0415

    allow = setools.TERuletype.allow
    perms: dict[tuple[str, frozenset[str]], tuple[str, ...]] = {}
    with no_gc():
        rows = tuple(row_of(rule, perms) for rule in policy.terules() if rule.ruletype == allow)
    return AllowTable(rows, frozenset(sys.intern(str(t)) for t in policy.types()),
                      attributes_of(policy))


@contextmanager
def no_gc() -> Iterator[None]:
    """The cyclic garbage collector off while many objects without cycles are made (a table's
    rows, a diff's grants): else each collection walks every one made so far (a third of the
    time of a pass, measured)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def allow_table(source: Policy | str) -> AllowTable:
    """The table of a SETools policy object, or of the binary policy file at ``source``: read
    from the cache when the file has not changed since it was kept there (else read with
    SETools and kept; a DiagnosticError SEL506 when SETools cannot read it)."""
    if not isinstance(source, str):
        return scan(source)
    from selkit.base import load_policy  # noqa: PLC0415

    entry = _entry(source)
    if entry is not None:
        with no_gc():
            found = read_pickle(entry[0], AllowTable)
        if found is not None:
            return found
    found = _scan(load_policy(source))
    if entry is not None and _entry(source) == entry:  # not rewritten while it was read
        write_pickle(entry[0], found)
    return found


def _entry(path: str) -> tuple[Path, list[str]] | None:
    """Where the table of the file at ``path`` is kept, and the file's identity (None when the
    file cannot be read: SETools says why)."""
    try:
        identity = file_identity(path)
    except OSError:
        return None
    key = hashlib.sha256("\0".join([TABLE_FORMAT, *identity]).encode()).hexdigest()[:32]
    return cache_root() / "allow-table" / f"{key}.pickle", identity
