"""The ``forbid`` groups, derived for every class and permission of the targeted policy.

A hand list of permissions keeps having holes, so each group is a *rule* over two sources:

* SETools' permission map (``setools/perm_map``, read from the file by
  :mod:`selkit.facts.permmap`): each class:permission's information-flow direction, ``r``
  (to the subject), ``w`` (to the object), ``b`` (both) or ``n`` (none);
* selkit's syscall table (:mod:`selkit.facts.syscalls`): the system-call families and the
  permissions each needs.

The rules are applied to the classes of the policy being targeted (``kb.classes``), so a class
the map lacks is still placed: a storage class's unmapped permission counts as a write (the
safe side), any other unmapped permission falls in the category ``unmapped``.

Deliberate gaps are :data:`EXEMPTIONS`, each named, with the reason, in one table; nothing else
is left out. :func:`placements` says for every class:permission which groups contain it and,
for one in no group, which exemption or category places it (``docs/forbid-groups.md``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

from selkit.facts.permmap import permission_map
from selkit.facts.syscalls import load_table
from selkit.ir.nodes import SELF, SELF_EXEMPT_TARGETS

#: Every group, in the order the reference lists them.
GROUP_NAMES = ("capabilities", "exec", "module_load", "name_bind", "name_connect", "netlink",
               "ptrace", "raw_sockets", "setcurrent", "transition", "write")

#: Classes of filesystem objects (inodes a path names): the kernel's file classes.
INODE_CLASSES = ("file", "dir", "lnk_file", "chr_file", "blk_file", "fifo_file", "sock_file")

#: Classes whose objects hold data other subjects read later: files and devices, the mount
#: tree (``filesystem``), System V IPC, keyrings and eBPF maps/programs. Sockets, processes
#: and anonymous inodes (private to their descriptors) carry communication, not storage.
STORAGE_CLASSES = INODE_CLASSES + ("filesystem", "shm", "sem", "msgq", "msg", "key", "bpf")

#: Permissions the map calls ``r`` that still change a stored object: a relabel rewrites the
#: object's security label (relabelfrom is the half checked on the old label).
WRITES_DESPITE_MAP = frozenset({"relabelfrom"})

#: Classes every permission of which uses a Linux capability (in any user namespace: Debian 12
#: does not mediate creating one, so cap_userns/cap2_userns are as reachable as the others).
CAPABILITY_CLASSES = ("capability", "capability2", "cap_userns", "cap2_userns")


@dataclass(frozen=True)
class Exemption:
    """A deliberate gap in a group: ``perms`` of ``classes`` on ``targets`` (every target when
    empty: the permissions are left out of the group) do not break it."""

    name: str
    group: str
    classes: tuple[str, ...]
    perms: tuple[str, ...]
    targets: tuple[str, ...]
    reason: str

    def covers(self, tclass: str, perm: str) -> bool:
        """Whether this exemption concerns ``tclass`` ``perm``."""
        return tclass in self.classes and perm in self.perms


_WRITE = ("append", "write")

EXEMPTIONS: tuple[Exemption, ...] = (
    Exemption("library-mapping", "exec", ("file",), ("execute",), (),
              "mmap(PROT_EXEC) of shared libraries needs it; it runs no new program without "
              "execute_no_trans or transition, which the group contains"),
    Exemption("textrel-libraries", "exec", ("file",), ("execmod",), ("textrel_shlib_t",),
              "libraries with text relocations (textrel_shlib_t) need it when loaded; the "
              "base grants it to every domain; execmod on any other type stays in the group"),
    Exemption("unix-connect", "write", ("sock_file",), ("append", "write"), (),
              "sock_file write is connect(2) or sendto(2) to a unix socket path (syslog, "
              "D-Bus), append only an open(O_APPEND) that fails with ENXIO; no data is ever "
              "written to a socket file"),
    Exemption("own-proc", "write", ("file",), _WRITE, (SELF,),
              "the phase's own /proc/PID files (attr/current, comm, ...) carry its domain; "
              "only write and append are spared, never create, setattr or relabel"),
    Exemption("selinuxfs", "write", ("file",), _WRITE, tuple(sorted(SELF_EXEMPT_TARGETS)),
              "each write to selinuxfs is a request the kernel gates with its own security "
              "permission (check_context, load_policy, setenforce, ...)"),
    Exemption("data-sinks", "write", ("chr_file",), _WRITE, ("null_device_t", "zero_device_t"),
              "/dev/null and /dev/zero discard what is written (every domain may)"),
    Exemption("own-terminal", "write", ("chr_file",), _WRITE, ("devtty_t",),
              "/dev/tty is the caller's own controlling terminal (none after setsid()); other "
              "terminals (tty_device_t, user_devpts_t, ...) are not spared"),
    Exemption("tun-packets", "write", ("chr_file",), _WRITE, ("tun_tap_device_t",),
              "a write on a tun fd sends one packet into the network stack: communication, "
              "like a socket write, not stored data; forbid it with "
              "'tun_tap_device_t:chr_file write'"),
)

#: How each group is derived (the reference and docs/forbid-groups.md show this text).
GROUP_RULES = {
    "capabilities": "every permission of " + ", ".join(CAPABILITY_CLASSES),
    "exec": "what the syscall table's execve and exec_memory families need (execute_no_trans, "
            "entrypoint, transition; execmem, execstack, execheap, execmod)",
    "module_load": "what the syscall table's module_load family needs",
    "name_bind": "what the syscall table's name_bind family needs (every inet class)",
    "name_connect": "what the syscall table's name_connect family needs",
    "netlink": "every permission of every class named *netlink*_socket (an inherited netlink "
               "socket is used without create)",
    "ptrace": "what the syscall table's ptrace family needs",
    "raw_sockets": "what the syscall table's raw_socket family needs, and xdp_socket create "
                   "(AF_XDP reads and forges raw frames too)",
    "setcurrent": "process setcurrent",
    "transition": "process transition, dyntransition and every process2 permission "
                  "(nnp_transition, nosuid_transition)",
    "write": "every permission the map calls w or b, and relabelfrom, on the storage classes "
             + ", ".join(STORAGE_CLASSES) + " (a permission the map lacks counts as w)",
}

#: Why a permission in no group is there: category -> explanation (first match wins).
CATEGORIES = {
    "userspace": "checked by a userspace object manager (X, D-Bus, systemd, databases, nscd), "
                 "never by the kernel",
    "never-checked": "Linux 6.1 never checks it (the syscall table's mediation 'never')",
    "read": "information flows to the phase only (map: r)",
    "no-flow": "no information flow (map: n): locks, ioctl, open, map, search, "
               "process bookkeeping",
    "communication": "sends on a socket or to another process (a socket class the map lacks "
                     "included); see name_bind, name_connect, "
                     "raw_sockets and netlink",
    "anonymous-inode": "anonymous inodes (userfaultfd, io_uring, ...) have no path and hold no "
                       "data beyond the descriptors of the process that made them",
    "process-control": "signals processes or sets process attributes (scheduling, limits, "
                       "contexts of later objects); ptrace, transition, setcurrent and exec "
                       "hold the dangerous ones",
    "kernel-service": "changes kernel state that is neither stored data nor a group's concern "
                      "(io_uring, perf, memory protection, ...)",
    "unmapped": "neither the permission map nor a class rule knows it",
}

_SOCKETISH = ("association", "peer", "packet", "node", "netif", "fd", "ipc", "binder")


@dataclass(frozen=True)
class GroupItem:
    """``perms`` of ``tclass`` in a group; None: every permission of the class. Grants on the
    phase's own domain (``except_self``) or on ``exempt_targets`` do not break it."""

    tclass: str
    perms: tuple[str, ...] | None
    except_self: bool = False
    exempt_targets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Placement:
    """Where one class:permission stands: its groups, the exemptions touching it, and for one
    in no group the category that explains why."""

    tclass: str
    perm: str
    direction: str
    groups: tuple[str, ...]
    exemptions: tuple[str, ...]
    category: str | None


def _family_needs(*families: str) -> frozenset[tuple[str, str]]:
    table = load_table()
    return frozenset(n for f in families for n in table.families[f].needs)


def _is_write(tclass: str, perm: str, pmap: dict[str, dict[str, str]]) -> bool:
    direction = pmap.get(tclass, {}).get(perm)
    return direction in ("w", "b", None) or perm in WRITES_DESPITE_MAP


def _rule(group: str, classes: Mapping[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """The group's permissions per class, before exemptions."""
    out: dict[str, set[str]] = {}

    def add(pairs: Iterable[tuple[str, str]]) -> None:
        for tclass, perm in pairs:
            if perm in classes.get(tclass, ()):
                out.setdefault(tclass, set()).add(perm)

    every = [(c, p) for c, perms in classes.items() for p in perms]
    if group == "capabilities":
        add((c, p) for c, p in every if c in CAPABILITY_CLASSES)
    elif group == "netlink":
        add((c, p) for c, p in every if "netlink" in c and c.endswith("_socket"))
    elif group == "write":
        pmap = permission_map()
        add((c, p) for c, p in every if c in STORAGE_CLASSES and _is_write(c, p, pmap))
    elif group == "exec":  # running a new program, or code the phase did not map executable
        add(_family_needs("execve", "exec_memory"))
    elif group == "raw_sockets":  # AF_XDP also reads and forges raw frames (needs net_raw)
        add(_family_needs("raw_socket") | {("xdp_socket", "create")})
    elif group == "transition":
        add({("process", "transition"), ("process", "dyntransition"),
             ("process2", "nnp_transition"), ("process2", "nosuid_transition")})
    elif group == "setcurrent":
        add({("process", "setcurrent")})
    else:  # ptrace, module_load, name_bind, name_connect: the syscall family of that name
        add(_family_needs(group))
    return {c: frozenset(ps) for c, ps in out.items()}


def _exemption_key(group: str, tclass: str, perm: str) -> tuple[str, ...] | None:
    """The targets exempted for this permission; None if it is left out of the group."""
    targets: list[str] = []
    for ex in EXEMPTIONS:
        if ex.group == group and ex.covers(tclass, perm):
            if not ex.targets:
                return None
            targets += ex.targets
    return tuple(sorted(targets))


def _freeze(classes: Mapping[str, frozenset[str]]) -> tuple:
    return tuple(sorted((c, tuple(sorted(ps))) for c, ps in classes.items()))


@lru_cache(maxsize=4 * len(GROUP_NAMES))  # every group of a few class sets: no thrashing
def _items(group: str, frozen: tuple) -> tuple[GroupItem, ...]:
    classes = {c: frozenset(ps) for c, ps in frozen}
    out = []
    for tclass, perms in sorted(_rule(group, classes).items()):
        by_key: dict[tuple[str, ...], list[str]] = {}
        for perm in sorted(perms):
            key = _exemption_key(group, tclass, perm)
            if key is not None:
                by_key.setdefault(key, []).append(perm)
        for key, ps in sorted(by_key.items()):
            whole = not key and set(ps) == set(classes[tclass])
            out.append(GroupItem(tclass, None if whole else tuple(ps), SELF in key,
                                 tuple(t for t in key if t != SELF)))
    return tuple(out)


def group_items(group: str, classes: Mapping[str, frozenset[str]]) -> tuple[GroupItem, ...]:
    """What ``forbid PHASE { group }`` forbids in a policy with these classes (class ->
    permissions), one item per class and exemption set."""
    if group not in GROUP_NAMES:
        raise KeyError(group)
    return _items(group, _freeze(classes))


def _is_socket(tclass: str) -> bool:
    return tclass == "socket" or tclass.endswith("_socket") or tclass in _SOCKETISH


def _category(tclass: str, perm: str, direction: str, mediation: str | None) -> str:
    if mediation == "userspace":
        return "userspace"
    if mediation == "never":
        return "never-checked"
    if direction == "r":
        return "read"
    if direction == "n":
        return "no-flow"
    if tclass == "anon_inode":
        return "anonymous-inode"
    if _is_socket(tclass):
        return "communication"
    if tclass in ("process", "process2"):
        return "process-control"
    return "kernel-service" if direction in ("w", "b") else "unmapped"


def placements(classes: Mapping[str, frozenset[str]]) -> list[Placement]:
    """Every class:permission of ``classes``, placed (sorted by class, permission)."""
    table, pmap = load_table(), permission_map()
    members: dict[tuple[str, str], list[str]] = {}
    for group in GROUP_NAMES:
        for item in group_items(group, classes):
            for perm in item.perms or sorted(classes[item.tclass]):
                members.setdefault((item.tclass, perm), []).append(group)
    out = []
    for tclass in sorted(classes):
        for perm in sorted(classes[tclass]):
            groups = tuple(members.get((tclass, perm), ()))
            exempt = tuple(ex.name for ex in EXEMPTIONS if ex.covers(tclass, perm))
            direction = pmap.get(tclass, {}).get(perm, "-")
            info = table.for_permission(tclass, perm)
            category = None if groups or exempt else _category(
                tclass, perm, direction, info.mediation if info else None)
            out.append(Placement(tclass, perm, direction, groups, exempt, category))
    return out


def _table_classes() -> dict[str, frozenset[str]]:
    """The classes of the policy the syscall table describes (Debian 12's, every permission)."""
    out: dict[str, set[str]] = {}
    for tclass, perm in load_table().permissions:
        out.setdefault(tclass, set()).add(perm)
    return {c: frozenset(ps) for c, ps in out.items()}


class DerivedGroups(Mapping):
    """group -> ((class, perms | None), ...), derived for the classes of the syscall table's
    policy (Debian 12) on first use; lowering derives for the targeted policy instead."""

    def __getitem__(self, group: str) -> tuple[tuple[str, tuple[str, ...] | None], ...]:
        items = group_items(group, _table_classes())
        merged: dict[str, set[str] | None] = {}
        for item in items:
            if item.perms is None:
                merged[item.tclass] = None
            else:
                held = merged.setdefault(item.tclass, set())
                if held is not None:  # None: the whole class is already merged
                    held.update(item.perms)
        return tuple((c, None if ps is None else tuple(sorted(ps)))
                     for c, ps in sorted(merged.items()))

    def __iter__(self) -> Iterator[str]:
        return iter(GROUP_NAMES)

    def __len__(self) -> int:
        return len(GROUP_NAMES)

    def __contains__(self, group: object) -> bool:
        return group in GROUP_NAMES


def _cell(items: list[str]) -> str:
    return " ".join(items) if items else "-"


def coverage_markdown(classes: Mapping[str, frozenset[str]], source: str) -> str:
    """``docs/forbid-groups.md``: the rules, the exemptions, the categories, and where every
    class:permission of ``classes`` (the policy at ``source``) stands."""
    rows = placements(classes)
    out = [
        "# `forbid` groups: derivation and coverage",
        "",
        "Generated by `selkit.ir.forbid_groups.coverage_markdown` from the classes of "
        f"`{source}`, SETools' permission map and selkit's syscall table; "
        "`tests/ir/test_forbid_groups.py` keeps it current (`pytest --update-golden` rewrites it).",
        "",
        "## Rules", "", "| group | derived as |", "|---|---|",
        *(f"| `{g}` | {GROUP_RULES[g]} |" for g in GROUP_NAMES),
        "", "## Exemptions (the only deliberate gaps)", "",
        "| name | group | class: permissions | targets | why |", "|---|---|---|---|---|",
        *(f"| `{ex.name}` | `{ex.group}` | {', '.join(ex.classes)}: {' '.join(ex.perms)} | "
          f"{', '.join(ex.targets) or 'every target (left out of the group)'} | {ex.reason} |"
          for ex in EXEMPTIONS),
        "", "## Categories of permissions in no group", "", "| category | meaning |", "|---|---|",
        *(f"| `{name}` | {text} |" for name, text in CATEGORIES.items()),
        "", "## Every class and permission", "",
        "`perm(groups)` and `perm(exemptions)`: a permission both in a group and exempted is "
        "in the group except on the exemption's targets.", "",
        "| class | in groups | exempted | in no group, by category |", "|---|---|---|---|",
    ]
    for tclass in sorted(classes):
        mine = [p for p in rows if p.tclass == tclass]
        grouped = [f"{p.perm}({','.join(p.groups)})" for p in mine if p.groups]
        exempt = [f"{p.perm}({','.join(p.exemptions)})" for p in mine if p.exemptions]
        cats: dict[str, list[str]] = {}
        for p in mine:
            if p.category:
                cats.setdefault(p.category, []).append(p.perm)
        other = "; ".join(f"{c}: {' '.join(ps)}" for c, ps in sorted(cats.items()))
        out.append(f"| `{tclass}` | {_cell(grouped)} | {_cell(exempt)} | {other or '-'} |")
    return "\n".join(out) + "\n"
