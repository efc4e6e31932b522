"""A Debian package's file list (``dpkg -L``) turned into the daemon's ``file`` declarations.

The rule (dsl/REFERENCE.md, "Starting a spec"): a declaration is made for what the daemon may
touch at run time, one per top entry (``/etc/X``, ``/var/lib/X``, ...):

* under ``/etc``, the entries named after the package or the daemon (``/etc/PKG``,
  ``/etc/PKG.conf``, ``/etc/DAEMON.d``: the part of the name before its first ``.``); an
  entry of another name (``/etc/default/PKG``, ``/etc/init.d/PKG``, ``/etc/network/...``) is
  read by init scripts, systemd or other programs, not by the daemon, and is listed as left
  out;
* every entry under ``/var/lib``, ``/var/log``, ``/var/cache``, ``/var/spool`` and ``/run``
  (``/var/run`` is ``/run``), shipped by the package or created by its ``tmpfiles.d`` files.

A directory becomes ``"DIR(/.*)?"`` (itself and everything below it, any kind), a file its
exact path with the kind ``file`` (``symlink`` for a link). Nothing else of the package is
declared: its programs (the exec has its own type), libraries and plugins (the base labels
them ``lib_t``, which every domain may map), data under ``/usr/share``, manual pages and
documentation, init and service files.

Pure: the file list, the kinds found on disk and the base's types come in as values.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from selkit.ir.declare import VALID_NAME, fc_escape

#: Where a run-time file of the daemon lives: the root, the name its declaration gets and the
#: statement that would use it (a suggestion in a comment, never a grant).
RUNTIME_ROOTS = (
    ("/etc", "conf", "read"),
    ("/var/lib", "state", "manage"),
    ("/var/log", "log", "append"),
    ("/var/cache", "cache", "manage"),
    ("/var/spool", "spool", "manage"),
    ("/run", "runtime", "manage"),
)

#: Why a path of the package is not declared, by prefix (the first that matches).
LEFT_OUT_REASONS = (
    ("documentation", ("/usr/share/doc/", "/usr/share/man/", "/usr/share/info/",
                       "/usr/share/lintian/", "/usr/share/bug/")),
    ("init and service files", ("/lib/systemd/", "/usr/lib/systemd/", "/lib/tmpfiles.d/",
                                "/usr/lib/tmpfiles.d/", "/usr/lib/sysusers.d/")),
    ("programs", ("/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/libexec/",
                  "/usr/games/")),
    ("libraries and plugins", ("/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/")),
    ("data under /usr", ("/usr/",)),
)

#: The reason an /etc file of the package named after neither it nor the daemon is left out,
#: and of a file no other reason names.
ETC_LEFT_OUT, OTHER_LEFT_OUT = "configuration of other programs", "other files"

#: A path a file context can carry and a declaration can name (no blanks, quotes or
#: non-ASCII bytes: SEL403, SEL404).
PLAIN_PATH = re.compile(r"^/[A-Za-z0-9_.+@:,=~-]+(/[A-Za-z0-9_.+@:,=~-]+)*$")


class Kind:
    """What a path is on disk (``lstat``), or ``MISSING`` when it is not there."""

    DIR, FILE, SYMLINK, MISSING = "dir", "file", "symlink", "missing"


@dataclass(frozen=True)
class FileDecl:
    """One ``file NAME "REGEX" [KIND]`` of the scaffold, and where it came from."""

    name: str
    regex: str
    kind: str | None      # None: every kind (a directory and what is below it)
    path: str             # the top entry it labels
    verb: str             # the statement that would use it: read, manage, append, pidfile
    origin: str           # "iproute2: 14 paths", "seen in the binary: ..."

    def statement(self) -> str:
        """The declaration as .sel text (the regex's backslashes escaped for the string)."""
        regex = self.regex.replace("\\", "\\\\")
        return f'file {self.name} "{regex}"' + (f" {self.kind}" if self.kind else "")

    def use(self) -> str:
        """The statement that would use the file (``read conf``, ``pidfile pid``)."""
        return f"{self.verb} {self.name}"


@dataclass(frozen=True)
class Labelled:
    """A path the base store labels with a type of its own already: declaring it would take
    the path from that type (and from the programs the store lets use it), or, when the
    store's regex and kind are the declaration's, make semodule drop one label (SEL217). The
    scaffold names the store's type instead."""

    path: str
    regex: str           # the store's regex
    base_type: str
    owners: tuple[str, ...]
    verb: str
    exact: bool          # the declaration's own regex and kind


#: Types refpolicy gives whole trees (a run-time root, /usr, /dev): a path under one is not
#: anybody's yet, so the daemon may declare it.
GENERIC_TYPES = frozenset({"etc_t", "var_t", "var_lib_t", "var_log_t", "var_cache_t",
                           "var_spool_t", "var_run_t", "root_t", "usr_t", "device_t",
                           "default_t"})


class BaseLabels:
    """The base store's file contexts ((regex, kind) -> (type, modules)), asked which type it
    gives a path (regexes compiled on first use)."""

    def __init__(self, contexts: Mapping[tuple[str, str], tuple[str, tuple[str, ...]]]):
        self.contexts = contexts
        self._compiled: list[tuple[re.Pattern[str], str, str, str, tuple[str, ...]]] | None = \
            None

    def _patterns(self) -> list[tuple[re.Pattern[str], str, str, str, tuple[str, ...]]]:
        if self._compiled is None:
            self._compiled = []
            for (regex, kind), (type_name, owners) in sorted(self.contexts.items()):
                try:
                    self._compiled.append((re.compile(regex), regex, kind, type_name, owners))
                except re.error:
                    continue  # a POSIX form Python does not read: never the best label here
        return self._compiled

    def of(self, path: str, regex: str, kind: str, module: str) -> Labelled | None:
        """The store's label for a declaration of ``path`` (``regex``, ``kind``) by
        ``module``: the same regex and kind (any type), else the longest regex of a
        non-generic type that matches the path; None when the store has neither, or only
        ``module`` labels it (the module the spec replaces)."""
        exact = self.contexts.get((regex, kind))
        if exact is not None:
            return None if module in exact[1] else Labelled(path, regex, *exact, "", True)
        kinds = ("any", kind) if kind != "any" else ("any", "dir")
        found = [(len(r), r, t, o) for p, r, k, t, o in self._patterns()
                 if k in kinds and t not in GENERIC_TYPES and p.fullmatch(path)]
        if not found:
            return None
        _, best, type_name, owners = max(found)
        return None if module in owners else Labelled(path, best, type_name, owners, "", False)


@dataclass
class PackageFiles:
    """What a package's files gave the scaffold."""

    package: str | None
    declared: list[FileDecl] = field(default_factory=list)
    labelled: list[Labelled] = field(default_factory=list)
    #: reason -> how many files of the package were left out for it
    left_out: dict[str, int] = field(default_factory=dict)
    #: /etc files of the package not named after it or the daemon (read by others)
    etc_left_out: list[str] = field(default_factory=list)
    #: paths a file context cannot carry (blanks, quotes, non-ASCII)
    unlabelable: list[str] = field(default_factory=list)


def normalise(path: str) -> str:
    """A listed path without a trailing ``/``, ``/var/run`` as ``/run``."""
    path = path.rstrip("/") or "/"
    if path == "/var/run" or path.startswith("/var/run/"):
        path = "/run" + path[len("/var/run"):]
    return path


def top_entry(path: str) -> tuple[str, str, str, str] | None:
    """(root, top entry, declaration name, verb) of a path under a run-time root, else None."""
    for root, name, verb in RUNTIME_ROOTS:
        if path.startswith(root + "/"):
            first = path[len(root) + 1:].split("/", 1)[0]
            return root, f"{root}/{first}", name, verb
    return None


def named_for(entry: str, names: Iterable[str]) -> bool:
    """True when an ``/etc`` entry is named after one of ``names`` (before its first ``.``)."""
    stem = entry.rsplit("/", 1)[-1].split(".", 1)[0]
    return stem in set(names)


def entry_kind(path: str, entry: str, on_disk: str | None, before: str | None) -> str:
    """What the declaration of ``entry`` labels, seen ``path`` below or at it: a directory
    when something is below it (or it is one on disk, or was found to be one before), else
    a symlink or a file as on disk (a file when missing)."""
    if path != entry or Kind.DIR in (on_disk, before):
        return Kind.DIR
    return Kind.SYMLINK if on_disk == Kind.SYMLINK else Kind.FILE


def left_out_reason(path: str) -> str:
    """Why a path of the package is not a declaration."""
    if path.startswith("/etc/"):
        return ETC_LEFT_OUT
    for reason, prefixes in LEFT_OUT_REASONS:
        if path.startswith(prefixes):
            return reason
    return OTHER_LEFT_OUT


def leaves(paths: Iterable[str]) -> list[str]:
    """The listed paths that no other listed path is below (files, empty directories)."""
    ordered = sorted({normalise(p) for p in paths if p.startswith("/")} - {"/", "/."})
    return [p for i, p in enumerate(ordered)
            if not (i + 1 < len(ordered) and ordered[i + 1].startswith(p + "/"))]


class Names:
    """File names of one daemon: unique, valid, and with a type the base does not have."""

    def __init__(self, daemon: str, taken_type: Callable[[str], bool],
                 reserved: Iterable[str] = ()):
        self.daemon = daemon
        self.taken_type = taken_type
        self.used: set[str] = {"startup", "steady", "startup_exec", *reserved}

    def allocate(self, base: str, entry: str) -> str:
        """``base`` (``conf``), else ``base_ENTRY`` (``conf_iproute2``), else numbered."""
        slug = re.sub(r"[^a-z0-9]+", "_", entry.rsplit("/", 1)[-1].lower()).strip("_")
        candidates = [base] + ([f"{base}_{slug}"] if slug else [])
        candidates += [f"{base}_{n}" for n in range(2, 100)]
        for name in candidates:
            if (VALID_NAME.match(name) and name not in self.used
                    and not self.taken_type(f"{self.daemon}_{name}_t")):
                self.used.add(name)
                return name
        raise ValueError(f"no free file name for {entry}")  # 98 types taken: not a real base


def declare(entries: Mapping[str, str], names: Names, origin: Callable[[str], str],
            labels: BaseLabels, module: str) -> tuple[list[FileDecl], list[Labelled]]:
    """A declaration per top entry (``entries``: top entry -> its kind), in path order; an
    entry the base store labels already (:meth:`BaseLabels.of`) is a :class:`Labelled`
    instead."""
    declared: list[FileDecl] = []
    labelled: list[Labelled] = []
    for entry in sorted(entries):
        kind = entries[entry]
        found = top_entry(entry)
        assert found is not None  # callers pass top entries of run-time roots only
        _, _, base_name, verb = found
        if kind == Kind.DIR:
            regex, fc_kind, decl_kind = f"{fc_escape(entry)}(/.*)?", "any", None
        else:
            regex = fc_escape(entry)
            fc_kind = decl_kind = Kind.SYMLINK if kind == Kind.SYMLINK else Kind.FILE
        if base_name == "runtime" and kind != Kind.DIR and entry.endswith(".pid"):
            base_name, verb = "pid", "pidfile"
        existing = labels.of(entry, regex, fc_kind, module)
        if existing is not None:
            labelled.append(dataclasses.replace(existing, verb=verb))
            continue
        declared.append(FileDecl(names.allocate(base_name, entry), regex, decl_kind, entry,
                                 verb, origin(entry)))
    return declared, labelled


def package_files(package: str | None, paths: Iterable[str], kinds: Mapping[str, str],
                  daemon_names: Iterable[str], names: Names, labels: BaseLabels,
                  module: str, runtime_extra: Mapping[str, str] | None = None) -> PackageFiles:
    """The declarations the package's files give (the rule of the module docstring).

    ``paths`` is ``dpkg -L``'s list, ``kinds`` what each top entry is on disk (absent: not
    asked), ``daemon_names`` the names an ``/etc`` entry may have (package, daemon),
    ``labels`` the base store's file contexts, ``module`` the module the spec installs as,
    ``runtime_extra`` the paths the package's ``tmpfiles.d`` files create, with their kinds.
    """
    result = PackageFiles(package)
    listed = sorted({normalise(p) for p in paths if p.startswith("/")} - {"/", "/."})
    extra = {normalise(p): k for p, k in (runtime_extra or {}).items()}
    wanted = set(daemon_names)
    entries: dict[str, str] = {}
    for path in sorted(set(listed) | set(extra)):
        found = top_entry(path)
        if found is None or (found[0] == "/etc" and not named_for(found[1], wanted)):
            continue
        entry = found[1]
        if not PLAIN_PATH.match(entry):
            if entry not in result.unlabelable:
                result.unlabelable.append(entry)
        else:
            on_disk = Kind.DIR if extra.get(path) == Kind.DIR else kinds.get(entry)
            entries[entry] = entry_kind(path, entry, on_disk, entries.get(entry))
    for path in leaves(listed):
        found = top_entry(path)
        if found is not None and (found[1] in entries or found[1] in result.unlabelable):
            continue
        reason = left_out_reason(path)
        result.left_out[reason] = result.left_out.get(reason, 0) + 1
        if reason == ETC_LEFT_OUT:
            result.etc_left_out.append(path)
    result.left_out = dict(sorted(result.left_out.items()))

    def origin(entry: str) -> str:
        shipped = sum(1 for p in listed if p == entry or p.startswith(entry + "/"))
        if not shipped:
            return f"{package}: tmpfiles.d"
        return f"{package}: {shipped} path{'s' if shipped != 1 else ''}"

    result.declared, result.labelled = declare(entries, names, origin, labels, module)
    return result


def parse_tmpfiles(text: str) -> dict[str, str]:
    """The paths a ``tmpfiles.d`` file creates under a run-time root, with their kinds
    (``d``/``D``/``v``/``q``/``Q`` a directory, ``f``/``F``/``w`` a file); specifiers
    (``%t``) and globs are skipped."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 2 or fields[0].startswith("#"):
            continue
        kind = fields[0].rstrip("!-+=~^")[:1]
        path = fields[1]
        if "%" in path or any(c in path for c in "*?["):
            continue
        if kind and kind in "dDvqQ":
            out[normalise(path)] = Kind.DIR
        elif kind and kind in "fFw":
            out[normalise(path)] = Kind.FILE
    return {p: k for p, k in out.items() if top_entry(p) is not None}
