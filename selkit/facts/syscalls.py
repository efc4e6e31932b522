"""Which system calls each SELinux permission gates: the table behind ``selkit prove``.

The data lives in ``data/syscalls.json`` (see ``data/README.md`` for sources and method). It
maps every ``class:permission`` of the Debian 12 policy to the Linux 6.1 hook functions that
check it, the x86-64 system calls that reach those hooks and the object the check is on; it
groups system calls into *families* (execve, open, ptrace, ...) with the permissions they need;
and it lists the system calls SELinux does not mediate at all.

Pure Python, no SETools: the table is read with :mod:`importlib.resources`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

#: Values of ``mediation`` in the data, in the order a report should present them.
MEDIATION = ("checked", "conditional", "modifier", "audit_only", "inert", "never", "userspace")

#: Mediation values under which a granted permission lets some system call do more.
GATING = frozenset({"checked", "conditional", "inert"})

Perm = tuple[str, str]


def _perm(item: str | Perm) -> Perm:
    """``"class:perm"`` or ``(class, perm)`` as a tuple."""
    if isinstance(item, str):
        tclass, sep, perm = item.partition(":")
        if not sep or not tclass or not perm:
            raise ValueError(f"not a class:permission pair: {item!r}")
        return tclass, perm
    tclass, perm = item
    return tclass, perm


def _perm_set(granted: Iterable[str | Perm]) -> frozenset[Perm]:
    return frozenset(_perm(g) for g in granted)


@dataclass(frozen=True)
class PermissionInfo:
    """What one ``class:permission`` gates."""

    tclass: str
    perm: str
    syscalls: tuple[str, ...]
    hooks: tuple[str, ...]
    objects: str
    mediation: str
    note: str
    see: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """``class:permission``."""
        return f"{self.tclass}:{self.perm}"

    @property
    def gates_syscalls(self) -> bool:
        """True if granting it can let a system call succeed that would otherwise fail."""
        return self.mediation in GATING and bool(self.syscalls)


@dataclass(frozen=True)
class Family:
    """A group of system calls and the permissions they need.

    ``needs``: every successful call of the family is checked against at least one of these
    permissions (with the calling domain as source), so if none is granted the family is
    completely denied. ``requires``: necessary conditions, each a clause of alternatives; a
    family with an unsatisfied clause cannot succeed even if some of its ``needs`` are granted
    (e.g. ``file:execute`` without ``execute_no_trans`` or ``transition``).
    """

    name: str
    syscalls: tuple[str, ...]
    needs: tuple[Perm, ...]
    requires: tuple[tuple[Perm, ...], ...]
    note: str
    #: Alternatives to every clause that the policy does not define: the kernel's check of
    #: them always passes, so the family is never denied nor blocked.
    free: tuple[Perm, ...] = ()

    def denied(self, granted: Iterable[str | Perm]) -> bool:
        """True if none of the permissions the family needs is granted."""
        have = _perm_set(granted)
        return not self.free and not any(n in have for n in self.needs)

    def blocked(self, granted: Iterable[str | Perm]) -> bool:
        """True if some necessary clause has none of its permissions granted."""
        have = _perm_set(granted)
        return not self.free and any(not any(p in have for p in clause)
                                     for clause in self.requires)


@dataclass(frozen=True)
class SyscallTable:
    """The whole table: permissions, families and unmediated system calls."""

    source: dict
    notes: dict[str, str]
    permissions: dict[Perm, PermissionInfo]
    families: dict[str, Family]
    unmediated: tuple[str, ...]
    partly_mediated: dict[str, str]
    unmediated_note: str

    def for_permission(self, tclass: str, perm: str) -> PermissionInfo | None:
        """The entry for ``tclass:perm``, or None if the table has none."""
        return self.permissions.get((tclass, perm))

    def for_syscall(self, name: str) -> list[PermissionInfo]:
        """Every entry that names system call ``name`` (any mediation), sorted by key."""
        return sorted((p for p in self.permissions.values() if name in p.syscalls),
                      key=lambda p: p.key)

    def note_text(self, info: PermissionInfo) -> str:
        """The entry's note with the shared notes it refers to appended."""
        return " ".join([info.note] + [self.notes[k] for k in info.see]).strip()

    def denied_families(self, granted: Iterable[str | Perm]) -> list[str]:
        """Names of the families none of whose needed permissions is granted, sorted."""
        have = _perm_set(granted)
        return sorted(name for name, fam in self.families.items() if fam.denied(have))

    def blocked_families(self, granted: Iterable[str | Perm]) -> list[str]:
        """Names of the families with a necessary clause left unsatisfied (a superset of
        :meth:`denied_families` for families whose ``requires`` covers their ``needs``)."""
        have = _perm_set(granted)
        return sorted(name for name, fam in self.families.items() if fam.blocked(have))

    def gated_syscalls(self, granted: Iterable[str | Perm]) -> dict[str, list[str]]:
        """System call -> the granted permissions (``class:perm``) that gate it."""
        out: dict[str, list[str]] = {}
        for key in sorted(_perm_set(granted)):
            info = self.permissions.get(key)
            if info is None or not info.gates_syscalls:
                continue
            for name in info.syscalls:
                out.setdefault(name, []).append(info.key)
        return dict(sorted(out.items()))

    def unknown(self, granted: Iterable[str | Perm]) -> list[str]:
        """Granted ``class:perm`` pairs the table has no entry for."""
        return sorted(f"{c}:{p}" for c, p in _perm_set(granted) if (c, p) not in self.permissions)


#: The class a capability is checked as inside a user namespace other than the initial one.
#: Debian 12's policy has no ``user_namespace`` class, so with handle_unknown=allow any domain
#: may create a user namespace (unshare/clone CLONE_NEWUSER) and use capabilities there: a
#: family that a capability permits is only denied if its user-namespace twin is denied too.
USERNS_TWIN = {"capability": "cap_userns", "capability2": "cap2_userns"}

#: Permissions a family also succeeds by, which the policy need not define: creating a user
#: namespace is a namespace operation the Debian 12 policy cannot refuse (see USERNS_TWIN).
UNDEFINED_ALTERNATIVES = {"namespaces": (("user_namespace", "create"),)}


def _with_userns(perms: Iterable[Perm]) -> tuple[Perm, ...]:
    """``perms`` with each capability permission followed by its user-namespace twin."""
    out: list[Perm] = []
    for tclass, perm in perms:
        for item in ((tclass, perm), (USERNS_TWIN.get(tclass), perm)):
            if item[0] is not None and item not in out:
                out.append(item)
    return tuple(out)


def _family(name: str, f: dict, defined: frozenset[Perm]) -> Family:
    """A family from the data, widened so that a denial it reports is a true one: capability
    needs gain their user-namespace twin, and a need the policy does not define is taken as
    granted (always allowed under handle_unknown=allow)."""
    needs = tuple(n for n in _with_userns(_perm(n) for n in f["needs"]) if n in defined)
    requires = tuple(tuple(p for p in _with_userns(_perm(p) for p in clause) if p in defined)
                     for clause in f.get("requires", ()))
    free = tuple(p for p in UNDEFINED_ALTERNATIVES.get(name, ()) if p not in defined)
    return Family(name, tuple(f["syscalls"]), needs, requires, f["note"], free)


def _from_json(data: dict) -> SyscallTable:
    perms: dict[Perm, PermissionInfo] = {}
    for key, ent in data["permissions"].items():
        tclass, perm = _perm(key)
        perms[(tclass, perm)] = PermissionInfo(
            tclass, perm, tuple(ent["syscalls"]), tuple(ent["hooks"]), ent["objects"],
            ent["mediation"], ent["note"], tuple(ent.get("see", ())))
    defined = frozenset(perms)
    families = {name: _family(name, f, defined) for name, f in data["families"].items()}
    um = data["unmediated"]
    return SyscallTable(
        source=data["source"], notes=dict(data.get("notes", {})), permissions=perms,
        families=families, unmediated=tuple(um["syscalls"]),
        partly_mediated=dict(um.get("partly", {})), unmediated_note=um["note"])


@lru_cache(maxsize=1)
def load_table() -> SyscallTable:
    """Read ``selkit/facts/data/syscalls.json`` (cached)."""
    text = resources.files("selkit.facts").joinpath("data/syscalls.json").read_text("utf-8")
    return _from_json(json.loads(text))
