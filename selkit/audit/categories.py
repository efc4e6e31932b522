"""Categories of dangerous permissions, derived from the classes of the targeted policy.

Most categories are a ``forbid`` group of :mod:`selkit.ir.forbid_groups` (the same rules over
the permission map and the syscall table, the same exemptions: a write to ``/dev/null`` is not a
file write); three are explicit lists (:data:`NETWORK_CONFIG`, :data:`POLICY_CHANGE`, the two
process groups under ``transition``). A permission may be in several categories; one in none
is *other* and is not reported. Pure: everything here works on a class map (class ->
permissions) built by hand as well as on ``kb.classes``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from selkit.diagnostics import Diagnostic, DiagnosticError, did_you_mean
from selkit.ir.forbid_groups import group_items
from selkit.prove.obligations import SECURITY_PERMS


class Severity(enum.StrEnum):
    """How much a category gives an attacker who runs code in the domain."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Category(enum.StrEnum):
    """A kind of dangerous permission (the order is the report's: the worst first)."""

    CAPABILITIES = "capabilities"
    EXEC = "exec"
    FILE_WRITE = "file_write"
    PTRACE = "ptrace"
    MODULE_LOAD = "module_load"
    POLICY_CHANGE = "policy_change"
    TRANSITION = "transition"
    RAW_SOCKETS = "raw_sockets"
    NETWORK_CONFIG = "network_config"
    NETLINK = "netlink"
    NAME_BIND = "name_bind"
    NAME_CONNECT = "name_connect"

    @property
    def severity(self) -> Severity:
        """The category's severity."""
        return _SEVERITY[self]

    @property
    def meaning(self) -> str:
        """What holding a permission of the category lets the domain do, in one line."""
        return _MEANING[self]


_SEVERITY = {
    Category.CAPABILITIES: Severity.HIGH, Category.EXEC: Severity.HIGH,
    Category.FILE_WRITE: Severity.HIGH, Category.PTRACE: Severity.HIGH,
    Category.MODULE_LOAD: Severity.HIGH, Category.POLICY_CHANGE: Severity.HIGH,
    Category.TRANSITION: Severity.HIGH, Category.RAW_SOCKETS: Severity.HIGH,
    Category.NETWORK_CONFIG: Severity.HIGH, Category.NETLINK: Severity.MEDIUM,
    Category.NAME_BIND: Severity.MEDIUM, Category.NAME_CONNECT: Severity.LOW,
}

_MEANING = {
    Category.CAPABILITIES: "Linux capabilities (root's powers), in any user namespace",
    Category.EXEC: "run a program, or make memory executable (execmem, execstack, ...)",
    Category.FILE_WRITE: "change stored data: files, devices, IPC objects, keys, labels",
    Category.PTRACE: "read and change other processes' memory (ptrace, process_vm_*)",
    Category.MODULE_LOAD: "load code into the kernel",
    Category.POLICY_CHANGE: "change SELinux itself: load a policy, set enforcing or a boolean",
    Category.TRANSITION: "become another domain (transition, dyntransition, setcurrent)",
    Category.RAW_SOCKETS: "read and forge raw packets (packet, raw IP and XDP sockets)",
    Category.NETWORK_CONFIG: "change interfaces, addresses, routes, IPsec state, tun devices",
    Category.NETLINK: "talk to kernel subsystems over netlink (any family, read or write)",
    Category.NAME_BIND: "listen on a port",
    Category.NAME_CONNECT: "connect out to a port",
}

#: The categories that are one ``forbid`` group each (``transition`` takes two).
GROUPS: dict[Category, tuple[str, ...]] = {
    Category.CAPABILITIES: ("capabilities",),
    Category.EXEC: ("exec",),
    Category.FILE_WRITE: ("write",),
    Category.PTRACE: ("ptrace",),
    Category.MODULE_LOAD: ("module_load",),
    Category.TRANSITION: ("transition", "setcurrent"),
    Category.RAW_SOCKETS: ("raw_sockets",),
    Category.NETLINK: ("netlink",),
    Category.NAME_BIND: ("name_bind",),
    Category.NAME_CONNECT: ("name_connect",),
}

#: network_config: the netlink messages that change routing and IPsec state, CAP_NET_ADMIN
#: (every interface ioctl, netfilter, ...) and every permission of the tun socket class.
NETWORK_CONFIG: tuple[tuple[str, str | None], ...] = (
    ("netlink_route_socket", "nlmsg_write"), ("netlink_xfrm_socket", "nlmsg_write"),
    ("capability", "net_admin"), ("cap_userns", "net_admin"), ("tun_socket", None))

#: policy_change: the class security permissions that change the loaded policy's behaviour
#: (the prover's SECURITY_PERMS, and the two that tune checking: setsecparam, setcheckreqprot).
POLICY_CHANGE: tuple[tuple[str, str | None], ...] = tuple(
    ("security", p) for p in sorted(SECURITY_PERMS | {"setsecparam", "setcheckreqprot"}))

EXPLICIT: dict[Category, tuple[tuple[str, str | None], ...]] = {
    Category.NETWORK_CONFIG: NETWORK_CONFIG, Category.POLICY_CHANGE: POLICY_CHANGE}


@dataclass(frozen=True)
class Member:
    """One category's claim on a class:permission: on every target except ``exempt_targets``
    (and the domain itself when ``except_self``)."""

    category: Category
    except_self: bool = False
    exempt_targets: tuple[str, ...] = ()

    def covers(self, target: str, domain: str) -> bool:
        """Whether a grant on ``target`` held by ``domain`` is in the category."""
        if self.except_self and target == domain:
            return False
        return target not in self.exempt_targets


@dataclass(frozen=True)
class CategoryMap:
    """(class, permission) -> the categories it is in (a permission in none is *other*)."""

    members: Mapping[tuple[str, str], tuple[Member, ...]]

    def of(self, tclass: str, perm: str, target: str, domain: str) -> frozenset[Category]:
        """The categories of ``domain``'s grant of ``tclass`` ``perm`` on ``target``."""
        return frozenset(m.category for m in self.members.get((tclass, perm), ())
                         if m.covers(target, domain))

    def perms(self, category: Category) -> frozenset[tuple[str, str]]:
        """Every class:permission the category claims (on some target)."""
        return frozenset(key for key, ms in self.members.items()
                         if any(m.category is category for m in ms))


def category_map(classes: Mapping[str, frozenset[str]]) -> CategoryMap:
    """The categories of every class:permission of a policy with these classes."""
    return _cached(tuple(sorted((c, tuple(sorted(ps))) for c, ps in classes.items())))


@lru_cache(maxsize=4)
def _cached(frozen: tuple) -> CategoryMap:
    classes = {c: frozenset(ps) for c, ps in frozen}
    out: dict[tuple[str, str], list[Member]] = {}

    def add(tclass: str, perm: str, member: Member) -> None:
        claims = out.setdefault((tclass, perm), [])
        if member not in claims:
            claims.append(member)

    for category in Category:
        for group in GROUPS.get(category, ()):
            for item in group_items(group, classes):
                member = Member(category, item.except_self, item.exempt_targets)
                for perm in item.perms or sorted(classes[item.tclass]):
                    add(item.tclass, perm, member)
        for tclass, perm in EXPLICIT.get(category, ()):
            for p in sorted(classes.get(tclass, ())) if perm is None else (perm,):
                if p in classes.get(tclass, ()):
                    add(tclass, p, Member(category))
    return CategoryMap({k: tuple(v) for k, v in out.items()})


def named(value: str) -> tuple[Category, ...]:
    """The categories a comma-separated list names (``--fail-on``): category names, or a
    severity for all of its categories, each once; SEL613 for a word that is neither."""
    out: list[Category] = []
    for word in (w.strip() for w in value.split(",") if w.strip()):
        if word in {c.value for c in Category}:
            out.append(Category(word))
        elif word in {s.value for s in Severity}:
            out += [c for c in Category if c.severity.value == word]
        else:
            names = [c.value for c in Category] + [s.value for s in Severity]
            raise DiagnosticError([Diagnostic(
                "SEL613", f"--fail-on: '{word}' is no category or severity",
                hint=did_you_mean(word, names) or f"one of: {', '.join(names)}")])
    return tuple(dict.fromkeys(out))


def ordered() -> list[Category]:
    """Every category, the most severe first (declaration order within a severity)."""
    rank = {s: i for i, s in enumerate(Severity)}
    return sorted(Category, key=lambda c: rank[c.severity])

