"""What a set of granted permissions lets a domain do, read off the syscall table.

The table itself (which permission gates which system call, the system-call families and what
they need, the calls SELinux does not mediate) is a fact several layers read, so it lives in
:mod:`selkit.facts.syscalls`; this module is the prover's analysis over it: which families a
phase's grants leave denied or blocked, which system calls they gate, which grants the table
does not know. The table's names are re-exported, so ``from selkit.prove.syscalls import
load_table`` keeps working.
"""

from __future__ import annotations

from collections.abc import Iterable

from selkit.facts.syscalls import (
    MEDIATION,
    Family,
    Perm,
    PermissionInfo,
    SyscallTable,
    load_table,
    perm_pair,
)

__all__ = [
    "GATING", "MEDIATION", "Family", "Perm", "PermissionInfo", "SyscallTable",
    "blocked_families", "denied_families", "family_blocked", "family_denied",
    "gated_syscalls", "gates_syscalls", "load_table", "perm_set", "unknown",
]

#: Mediation values under which a granted permission lets some system call do more.
GATING = frozenset({"checked", "conditional", "inert"})


def perm_set(granted: Iterable[str | Perm]) -> frozenset[Perm]:
    """``granted`` (``"class:perm"`` strings or ``(class, perm)`` pairs) as a set of pairs."""
    return frozenset(perm_pair(g) for g in granted)


def gates_syscalls(info: PermissionInfo) -> bool:
    """True if granting ``info``'s permission can let a system call succeed that would
    otherwise fail."""
    return info.mediation in GATING and bool(info.syscalls)


def family_denied(family: Family, granted: Iterable[str | Perm]) -> bool:
    """True if none of the permissions ``family`` needs is granted."""
    have = perm_set(granted)
    return not family.free and not any(n in have for n in family.needs)


def family_blocked(family: Family, granted: Iterable[str | Perm]) -> bool:
    """True if some necessary clause of ``family`` has none of its permissions granted."""
    have = perm_set(granted)
    return not family.free and any(not any(p in have for p in clause)
                                   for clause in family.requires)


def denied_families(table: SyscallTable, granted: Iterable[str | Perm]) -> list[str]:
    """Names of the families none of whose needed permissions is granted, sorted."""
    have = perm_set(granted)
    return sorted(name for name, fam in table.families.items() if family_denied(fam, have))


def blocked_families(table: SyscallTable, granted: Iterable[str | Perm]) -> list[str]:
    """Names of the families with a necessary clause left unsatisfied (a superset of
    :func:`denied_families` for families whose ``requires`` covers their ``needs``)."""
    have = perm_set(granted)
    return sorted(name for name, fam in table.families.items() if family_blocked(fam, have))


def gated_syscalls(table: SyscallTable, granted: Iterable[str | Perm]) -> dict[str, list[str]]:
    """System call -> the granted permissions (``class:perm``) that gate it."""
    out: dict[str, list[str]] = {}
    for key in sorted(perm_set(granted)):
        info = table.permissions.get(key)
        if info is None or not gates_syscalls(info):
            continue
        for name in info.syscalls:
            out.setdefault(name, []).append(info.key)
    return dict(sorted(out.items()))


def unknown(table: SyscallTable, granted: Iterable[str | Perm]) -> list[str]:
    """Granted ``class:perm`` pairs the table has no entry for."""
    return sorted(f"{c}:{p}" for c, p in perm_set(granted) if (c, p) not in table.permissions)
