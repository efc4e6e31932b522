"""Which system calls each SELinux permission gates: the table behind ``selkit prove``.

The data lives in ``data/syscalls.json`` (see ``data/README.md`` for sources and method). It
maps every ``class:permission`` of the Debian 12 policy to the Linux 6.1 hook functions that
check it, the x86-64 system calls that reach those hooks and the object the check is on; it
groups system calls into *families* (execve, open, ptrace, ...) with the permissions they need;
and it lists the system calls SELinux does not mediate at all.

This module is the data and its reader only (pure Python, no SETools: the table is read with
:mod:`importlib.resources`); what a set of granted permissions lets a domain do (the families it
leaves denied, the system calls it gates) is the prover's analysis, in
:mod:`selkit.prove.syscalls`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

#: Values of ``mediation`` in the data, in the order a report should present them.
MEDIATION = ("checked", "conditional", "modifier", "audit_only", "inert", "never", "userspace")

Perm = tuple[str, str]


def perm_pair(item: str | Perm) -> Perm:
    """``"class:perm"`` or ``(class, perm)`` as a tuple."""
    if isinstance(item, str):
        tclass, sep, perm = item.partition(":")
        if not sep or not tclass or not perm:
            raise ValueError(f"not a class:permission pair: {item!r}")
        return tclass, perm
    tclass, perm = item
    return tclass, perm


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


@dataclass(frozen=True)
class Family:
    """A group of system calls and the permissions they need.

    ``needs``: every successful call of the family is checked against at least one of these
    permissions (with the calling domain as source), so if none is granted the family is
    completely denied. ``requires``: necessary conditions, each a clause of alternatives; a
    family with an unsatisfied clause cannot succeed even if some of its ``needs`` are granted
    (e.g. ``file:execute`` without ``execute_no_trans`` or ``transition``). Whether granted
    permissions leave a family denied or blocked is :mod:`selkit.prove.syscalls`' question.
    """

    name: str
    syscalls: tuple[str, ...]
    needs: tuple[Perm, ...]
    requires: tuple[tuple[Perm, ...], ...]
    note: str
    #: Alternatives to every clause that the policy does not define: the kernel's check of
    #: them always passes, so the family is never denied nor blocked.
    free: tuple[Perm, ...] = ()
    #: How reports name the family when its name alone misleads (``syslog`` is the system
    #: call, not the syslog(3) every daemon logs with); empty when the name says it.
    label: str = ""

    @property
    def title(self) -> str:
        """The family's name as reports print it: its label, else its name."""
        return self.label or self.name


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

    def gated(self, tclass: str, perm: str) -> tuple[str, ...]:
        """The system calls ``tclass:perm`` gates (none when the table has no entry)."""
        info = self.permissions.get((tclass, perm))
        return info.syscalls if info else ()

    def for_syscall(self, name: str) -> list[PermissionInfo]:
        """Every entry that names system call ``name`` (any mediation), sorted by key."""
        return sorted((p for p in self.permissions.values() if name in p.syscalls),
                      key=lambda p: p.key)

    def note_text(self, info: PermissionInfo) -> str:
        """The entry's note with the shared notes it refers to appended."""
        return " ".join([info.note] + [self.notes[k] for k in info.see]).strip()


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
        twin = USERNS_TWIN.get(tclass)
        for item in ((tclass, perm),) + (((twin, perm),) if twin is not None else ()):
            if item not in out:
                out.append(item)
    return tuple(out)


def _family(name: str, f: dict, defined: frozenset[Perm]) -> Family:
    """A family from the data, widened so that a denial it reports is a true one: capability
    needs gain their user-namespace twin, and a need the policy does not define is taken as
    granted (always allowed under handle_unknown=allow)."""
    needs = tuple(n for n in _with_userns(perm_pair(n) for n in f["needs"]) if n in defined)
    requires = tuple(tuple(p for p in _with_userns(perm_pair(p) for p in clause) if p in defined)
                     for clause in f.get("requires", ()))
    free = tuple(p for p in UNDEFINED_ALTERNATIVES.get(name, ()) if p not in defined)
    return Family(name, tuple(f["syscalls"]), needs, requires, f["note"], free,
                  f.get("label", ""))


def _from_json(data: dict) -> SyscallTable:
    perms: dict[Perm, PermissionInfo] = {}
    for key, ent in data["permissions"].items():
        tclass, perm = perm_pair(key)
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
