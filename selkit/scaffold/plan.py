"""The scaffold's decisions, from what the machine said (:class:`Facts`) and the base policy: the
daemon's and the module's names, the exec, the file declarations, the suggestions.

Pure: :mod:`selkit.scaffold.probe` gathers the facts, :mod:`selkit.scaffold.render` writes
the text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from selkit.diagnostics import Diagnostic, DiagnosticError
from selkit.ir.declare import VALID_NAME, fc_escape
from selkit.ir.kb import KnowledgeBase
from selkit.scaffold.binary import Binary, Suggestion, suggestions
from selkit.scaffold.package import (
    BaseLabels,
    FileDecl,
    Kind,
    Labelled,
    Names,
    PackageFiles,
    declare,
    entry_kind,
    named_for,
    normalise,
    package_files,
    top_entry,
)

#: Where the scaffold puts the daemon's jail, and its name (drop_privileges says 'chroot
#: jail'): an empty directory of its own, as the shipped specs have (/var/empty/iodined).
JAIL_ROOT, JAIL = "/var/empty", "jail"


@dataclass(frozen=True)
class Owner:
    """The package the program belongs to, or why there is none (``package`` None)."""

    package: str | None
    queried: str = ""      # the path dpkg knew it by, or "--package"
    reason: str = ""


@dataclass(frozen=True)
class Facts:
    """What the machine said about the program (:mod:`selkit.scaffold.probe`)."""

    given: str                         # the exec path as given, made absolute
    real: str                          # the file it resolves to
    owner: Owner
    files: tuple[str, ...] = ()        # dpkg -L of the package
    kinds: dict[str, str] = field(default_factory=dict)     # top entries on disk
    tmpfiles: dict[str, str] = field(default_factory=dict)  # paths its tmpfiles.d create
    binary: Binary = Binary("other")
    use_common: bool = False           # the output sits beside include/common.sel


@dataclass(frozen=True)
class Plan:
    """Everything the text of the scaffold says."""

    daemon: str
    module: str
    module_note: str          # why the module has this name ("" when it is the daemon's)
    replaces: bool            # the base store has a module of this name
    facts: Facts
    jail: FileDecl
    package: PackageFiles
    seen_files: list[FileDecl]
    seen_labelled: list[Labelled]
    suggestions: list[Suggestion]


def refusal(code: str, message: str, hint: str) -> DiagnosticError:
    """A refusal of ``selkit new``'s input (SEL8xx): about an option, so without a span."""
    return DiagnosticError([Diagnostic(code, message, hint=hint)])


def daemon_name(path: str) -> str:
    """A daemon name from a program's file name: lower case, every other character ``_``, a
    letter first (``ptunnel-ng`` is ``ptunnel_ng``, ``6tunnel`` is ``d6tunnel``)."""
    name = re.sub(r"[^a-z0-9]+", "_", os.path.basename(path).lower()).strip("_")
    if not name:
        return "daemon"
    return name if name[0].isalpha() else f"d{name}"


def free_daemon_name(name: str, kb: KnowledgeBase) -> str:
    """``name``, or ``name2``, ... when a type the daemon always declares (its phases, its exec,
    its jail) exists in the base (SEL208 otherwise)."""
    for candidate in [name] + [f"{name}{n}" for n in range(2, 100)]:
        types = (f"{candidate}_startup_t", f"{candidate}_steady_t",
                 f"{candidate}_startup_exec_t", f"{candidate}_{JAIL}_t")
        if not any(kb.is_type_or_attribute(t) for t in types):
            return candidate
    raise ValueError(f"no free daemon name for {name}")  # not a real base


#: The store modules that need a module's types outside optional blocks (empty: it can be
#: replaced, or the store has no such module).
Blockers = Callable[[str], tuple[str, ...]]


def choose_module(daemon: str, asked: str | None, exec_path: str, kb: KnowledgeBase,
                  blockers: Blockers) -> tuple[str, str]:
    """The module's name and why, or SEL805-SEL807, SEL810, SEL811 for a name that cannot
    work.

    A module of another name than the one that labels the exec with the same regex and kind
    (as Debian's 'iodine' labels /usr/sbin/iodined) would have its label dropped by semodule
    (SEL217): the default is then that module's name, so that ours replaces it. A store module
    that others need cannot be replaced (semodule cannot link without it), and a default the
    store lists as disabled would be installed disabled (SEL219): either gets ``_local``."""
    labelled = kb.file_contexts.get((fc_escape(exec_path), "file"))
    owners = labelled[1] if labelled else ()
    if asked is not None:
        _check_asked(asked, exec_path, labelled, kb, blockers)
        return asked, ""
    if owners:
        needed = blockers(owners[0])
        if needed:
            raise refusal("SEL811", f"module '{owners[0]}' of the base store labels {exec_path} "
                          f"(as {labelled[0] if labelled else ''}), and it cannot be replaced: "
                          f"{_needed_by(needed)}",
                          "confine a copy of the program under a path of its own (e.g. "
                          f"/usr/local/sbin/{os.path.basename(exec_path)}) and give that")
        return owners[0], (f"module '{owners[0]}' of the base store labels {exec_path}; a "
                           "module of another name would have its label dropped (SEL217)")
    if daemon in kb.disabled_modules:
        return f"{daemon}_local", (f"the base store lists a module '{daemon}' as disabled; "
                                   "one of that name would be installed disabled (SEL219)")
    needed = blockers(daemon)
    if needed:
        return f"{daemon}_local", (f"the base store's module '{daemon}' cannot be replaced: "
                                   f"{_needed_by(needed)}")
    return daemon, ""


def _needed_by(modules: tuple[str, ...]) -> str:
    shown = ", ".join(modules[:5]) + (", ..." if len(modules) > 5 else "")
    return (f"modules {shown} need its types" if len(modules) > 1 else
            f"module {shown} needs its types")


def check_name(asked: str) -> None:
    """SEL805 for a ``--name`` that cannot be a module name at all."""
    if not VALID_NAME.match(asked):
        raise refusal("SEL805", f"--name '{asked}' cannot be a module name",
                      "use lower-case letters, digits and '_', starting with a letter")


def _check_asked(asked: str, exec_path: str, labelled: tuple[str, tuple[str, ...]] | None,
                 kb: KnowledgeBase, blockers: Blockers) -> None:
    """SEL805, SEL806, SEL807, SEL810 for a ``--name`` that cannot work."""
    check_name(asked)
    if asked in kb.disabled_modules:
        raise refusal("SEL806", f"--name '{asked}' names a module the base store lists as "
                      "disabled; semodule would install it disabled",
                      f"choose another name, e.g. --name {asked}_local")
    if labelled and asked not in labelled[1]:
        owner = labelled[1][0]
        raise refusal("SEL807", f"--name '{asked}': module '{owner}' of the base store labels "
                      f"{exec_path} (as {labelled[0]}); semodule keeps one label per path and "
                      "would drop this module's",
                      f"omit --name (the module is then '{owner}', which replaces the "
                      f"store's), or pass --name {owner}")
    needed = blockers(asked)
    if needed:
        raise refusal("SEL810", f"--name '{asked}': the base store's module '{asked}' cannot "
                      f"be replaced: {_needed_by(needed)}",
                      f"choose another name, e.g. --name {asked}_local")


def plan(facts: Facts, kb: KnowledgeBase, asked_name: str | None = None,
         blockers: Blockers = lambda _module: ()) -> Plan:
    """The decisions for one program (see dsl/REFERENCE.md, "Starting a spec");
    ``blockers`` says which store modules need a module that the spec would replace."""
    daemon = free_daemon_name(daemon_name(facts.given), kb)
    module, module_note = choose_module(daemon, asked_name, facts.real, kb, blockers)
    names = Names(daemon, kb.is_type_or_attribute, reserved=(JAIL,))
    jail_path = f"{JAIL_ROOT}/{daemon}"
    jail = FileDecl(JAIL, fc_escape(jail_path), Kind.DIR, jail_path, "chroot", "")
    package = facts.owner.package
    own_names = {daemon, daemon_name(facts.real), os.path.basename(facts.given),
                 os.path.basename(facts.real)}
    labels = BaseLabels(kb.file_contexts)
    if package:
        own_names.add(package.split(":", 1)[0])
        found = package_files(package, facts.files, facts.kinds, own_names, names, labels,
                              module, facts.tmpfiles)
    else:
        found = PackageFiles(None)
    seen_files, seen_labelled = _seen_files(facts, found.declared, own_names, names, labels,
                                            module)
    return Plan(daemon, module, module_note, module in kb.enabled_modules, facts, jail, found,
                seen_files, seen_labelled, suggestions(facts.binary))


def _seen_files(facts: Facts, declared: list[FileDecl], own_names: set[str], names: Names,
                labels: BaseLabels, module: str) -> tuple[list[FileDecl], list[Labelled]]:
    """Declarations the program's strings suggest for run-time paths no declaration of the
    package covers (written as comments)."""
    covered = [re.compile(d.regex) for d in declared]
    entries: dict[str, str] = {}
    quoted: dict[str, list[str]] = {}
    for path in sorted(normalise(p) for p in facts.binary.strings):
        found = top_entry(path)
        if found is None or any(r.fullmatch(path) for r in covered):
            continue
        if found[0] == "/etc" and not named_for(found[1], own_names):
            continue
        entry = found[1]
        entries[entry] = entry_kind(path, entry, facts.kinds.get(entry), entries.get(entry))
        quoted.setdefault(entry, []).append(path)

    def origin(entry: str) -> str:
        shown = ", ".join(f'"{p}"' for p in quoted[entry][:2])
        more = len(quoted[entry]) - 2
        return shown + (f" and {more} more" if more > 0 else "")

    return declare(entries, names, origin, labels, module)
