"""The two sides of ``selkit audit OLD NEW`` (and the spec side of a drift audit): what each
argument is, and the linked kernel policy that stands for it.

A side is a spec (``.sel``), a compiled module (``.cil`` or ``.pp``), or a kernel policy
(``policy.N``, recognised by its magic number), given as a file or as ``REV:PATH`` (the file at
a git revision, read with ``git show``). Specs and modules are linked into a copy of the base
store, as the linked engine of ``selkit prove`` does, so every side is a kernel policy and one
reader (:mod:`selkit.audit.diff`) compares them. Links are kept in the cache, keyed by the
store's last commit and the module files' bytes: an unchanged spec is linked once.
"""

from __future__ import annotations

import enum
import hashlib
import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from selkit.base import BaseSpec
from selkit.base.modules import cil_file_contexts
from selkit.base.store import store_key
from selkit.cache import cache_root, replace_file
from selkit.diagnostics import Diagnostic, DiagnosticError, ToolchainError, did_you_mean
from selkit.ir import nodes as ir
from selkit.toolchain import Progress, link_files

#: First four bytes of a kernel policy and of a policy package (.pp), little-endian magics.
POLICY_MAGIC = bytes.fromhex("8cff7cf9")
PACKAGE_MAGIC = bytes.fromhex("8fff7cf9")
#: Bump when what a cached link holds changes.
LINK_FORMAT = "link-1"
PP_TO_CIL = "/usr/libexec/selinux/hll/pp"
#: semodule refusing a side's module (bounds, neverallow, anything else): the side is bad input,
#: exit 2 as any other, so that a CI job tells it from a --fail-on verdict (exit 1).
REFUSALS = frozenset({"SEL503", "SEL504", "SEL505"})


class SideKind(enum.StrEnum):
    """What an audit argument holds."""

    SPEC = "spec"
    MODULE = "module"
    POLICY = "policy"


@dataclass(frozen=True)
class Subject:
    """A domain a side says something about: a phase of a spec (``phase`` set) or a type a
    module declares that is a domain of the linked policy."""

    domain: str
    daemon: str | None = None
    phase: str | None = None

    @property
    def label(self) -> str:
        """``daemon/phase`` for a phase, else the domain."""
        return f"{self.daemon}/{self.phase}" if self.phase else self.domain


@dataclass(frozen=True)
class Side:
    """One resolved side: its kernel policy and what its modules say."""

    label: str                        # as the user wrote it
    kind: SideKind
    policy_path: str
    modules: tuple[ir.PolicyModule, ...] = ()
    #: Module name -> CIL text (spec and module sides).
    cil: dict[str, str] = field(default_factory=dict)
    subjects: tuple[Subject, ...] = ()
    #: For a spec read at a git revision: (the folder it was extracted to, ``REV:``), so spec
    #: lines are shown as ``REV:path:line``.
    shown_as: tuple[str, str] | None = None

    def where(self, path: str) -> str:
        """A spec path as the user knows it."""
        if self.shown_as and path.startswith(self.shown_as[0]):
            return self.shown_as[1] + path[len(self.shown_as[0]):].lstrip("/")
        return path

    def file_contexts(self) -> frozenset[tuple[str, str, str]] | None:
        """(regex, kind, type) of every file context its modules declare; None for a kernel
        policy, which does not hold them."""
        if self.kind is SideKind.POLICY:
            return None
        return frozenset(fc for text in self.cil.values() for fc in cil_file_contexts(text))


def _fail(code: str, message: str, hint: str | None = None) -> DiagnosticError:
    return DiagnosticError([Diagnostic(code, message, hint=hint)])


def kind_of(path: str) -> SideKind:
    """The kind of the file at ``path`` (SEL611 when it is none selkit audits)."""
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head == POLICY_MAGIC:
        return SideKind.POLICY
    if head == PACKAGE_MAGIC:
        return SideKind.MODULE
    if path.endswith(".sel"):
        return SideKind.SPEC
    if path.endswith(".cil"):
        return SideKind.MODULE
    raise _fail("SEL611", f"'{path}' is no spec (.sel), module (.cil, .pp) or kernel policy",
                hint="a kernel policy starts with the SELinux magic number (policy.33); "
                     "a spec ends in .sel")


def host_kernel_policy(path: str) -> str:
    """``path``, checked to be a kernel policy file (``--policy``): SEL610 when there is no
    such file, SEL611 when it is another kind."""
    if not os.path.isfile(path):
        raise _fail("SEL610", f"no such file: '{path}'", hint="give the host's binary policy")
    kind = kind_of(path)
    if kind is not SideKind.POLICY:
        raise _fail("SEL611", f"--policy '{path}' is a {kind.value}, not a kernel policy",
                    hint="give the host's binary policy, e.g. /sys/fs/selinux/policy")
    return path


@contextmanager
def materialised(argument: str) -> Iterator[tuple[str, tuple[str, str] | None]]:
    """The path of ``argument``'s file, extracted from git for ``REV:PATH`` (the whole tree
    of the revision, so a spec's ``use`` finds its neighbours), and how to show its paths.
    SEL610 when it is neither a file nor a revision of a file."""
    if os.path.isfile(argument):
        yield argument, None
        return
    rev, sep, path = argument.partition(":")
    if not sep or not rev or not path:
        raise _missing(argument)
    if rev.startswith("-"):  # never an option of git's
        raise _fail("SEL610", f"'{argument}' is no file, and '{rev}' is no git revision",
                    hint="a revision does not start with '-'")
    top = _git(["rev-parse", "--show-toplevel"], os.getcwd())
    commit = top and _git(["rev-parse", "--verify", "--quiet", "--end-of-options",
                           f"{rev}^{{commit}}"], os.getcwd())
    if top is None or not commit:
        raise _fail("SEL610", f"'{argument}' is no file, and '{rev}' is no git revision here",
                    hint="write REV:PATH with REV a commit git knows (HEAD~1, origin/main) "
                         "and PATH relative to this directory")
    inside = os.path.relpath(os.path.join(os.path.realpath(os.getcwd()), path), top)
    if inside == ".." or inside.startswith("../"):
        raise _fail("SEL610", f"'{path}' is outside the git repository {top}",
                    hint="REV:PATH reads a file of this repository at revision REV")
    with tempfile.TemporaryDirectory(prefix="selkit-rev-") as tmp:
        archive = subprocess.run(["git", "-C", top, "archive", "--format=tar", commit],
                                 capture_output=True)
        if archive.returncode == 0:
            subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        extracted = os.path.join(tmp, inside)
        within = os.path.realpath(extracted).startswith(os.path.realpath(tmp) + os.sep)
        if archive.returncode != 0 or not within or not os.path.isfile(extracted):
            raise _fail("SEL610", f"'{rev}' has no file '{inside}'",
                        hint=f"git ls-tree -r --name-only {rev} lists its files")
        yield extracted, (tmp, f"{rev}:")


def _git(args: list[str], cwd: str) -> str | None:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else None


def _missing(argument: str) -> DiagnosticError:
    folder = os.path.dirname(argument) or "."
    names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    near = did_you_mean(os.path.basename(argument), names)
    return _fail("SEL610", f"no such file: '{argument}'",
                 hint=near or "give a spec, a module, a kernel policy, or REV:PATH")


def module_cil(path: str) -> dict[str, str]:
    """A compiled module's CIL by module name (a .pp converted as semodule converts it)."""
    data = Path(path).read_bytes()
    name = Path(path).stem
    if data[:4] != PACKAGE_MAGIC:
        return {name: data.decode(errors="replace")}
    result = subprocess.run([PP_TO_CIL], input=data, capture_output=True)
    if result.returncode != 0:
        raise _fail("SEL612", f"'{path}' is no policy package semodule can read: "
                    f"{result.stderr.decode(errors='replace').strip()}")
    return {name: result.stdout.decode(errors="replace")}


def link(files: dict[str, bytes], modules: Sequence[ir.PolicyModule], base: BaseSpec,
         progress: Progress | None = None) -> str:
    """The kernel policy of ``base``'s store with ``files`` installed, linked once per store
    commit and file contents and then read from the cache."""
    assert base.store is not None
    digest = hashlib.sha256()
    for part in (LINK_FORMAT, store_key(base.store), *sorted(files)):
        digest.update(part.encode() + b"\0")
    for name in sorted(files):
        digest.update(hashlib.sha256(files[name]).digest())
    path = cache_root() / "links" / f"{digest.hexdigest()[:32]}.policy"
    if not path.exists():
        with tempfile.TemporaryDirectory(prefix="selkit-audit-") as tmp:
            try:
                dest = link_files(files, modules, str(Path(tmp, "policy")),
                                  source_root=base.root, store=base.name, expand_check=False,
                                  progress=progress)
            except ToolchainError as exc:
                if {d.code for d in exc.diagnostics} <= REFUSALS:
                    raise DiagnosticError(exc.diagnostics) from None  # bad input: exit 2
                raise
            path.parent.mkdir(parents=True, exist_ok=True)
            replace_file(path, Path(dest).read_bytes())
    return str(path)


def domains_of(policy_path: str, types: Sequence[str]) -> list[str]:
    """The names of ``types`` that are domains of the kernel policy (in the given order)."""
    from selkit.base import load_policy  # noqa: PLC0415

    domains = {str(t) for t in load_policy(policy_path).lookup_typeattr("domain").expand()}
    return [t for t in types if t in domains]


def declared_types(cil: dict[str, str]) -> list[str]:
    """The types the CIL modules declare, in order (SEL612 for CIL selkit cannot read)."""
    from selkit.base.cil import CilSyntaxError, parse  # noqa: PLC0415

    out = []
    for name, text in cil.items():
        try:
            statements = parse(text)
        except CilSyntaxError as exc:
            raise _fail("SEL612", f"module '{name}': selkit cannot read its CIL: {exc}") from None
        for stmt in statements:
            if isinstance(stmt, tuple) and len(stmt) == 2 and stmt[0] == "type":
                out.append(str(stmt[1]))
    return out


def spec_subjects(modules: Sequence[ir.PolicyModule]) -> tuple[Subject, ...]:
    """Every phase of every module, in the spec's order."""
    return tuple(Subject(p.domain, m.daemon or m.name, p.name) for m in modules for p in m.phases)


def spec_side(label: str, modules: tuple[ir.PolicyModule, ...], base: BaseSpec,
              shown_as: tuple[str, str] | None = None, progress: Progress | None = None) -> Side:
    """A checked spec's side: its modules' CIL linked into the base's store."""
    from selkit.emit.cil import CilEmitter  # noqa: PLC0415

    cil = {m.name: CilEmitter().emit(m).text() for m in modules}
    files = {f"{name}.cil": text.encode() for name, text in cil.items()}
    return Side(label, SideKind.SPEC, link(files, modules, base, progress), modules, cil,
                spec_subjects(modules), shown_as)


def module_side(label: str, path: str, base: BaseSpec, progress: Progress | None = None) -> Side:
    """A compiled module's side (.cil or .pp): linked into the base's store; its subjects are
    the domains it declares."""
    cil = module_cil(path)
    data = Path(path).read_bytes()
    name = Path(path).name if data[:4] == PACKAGE_MAGIC else f"{Path(path).stem}.cil"
    policy = link({name: data}, (), base, progress)
    domains = domains_of(policy, declared_types(cil))
    return Side(label, SideKind.MODULE, policy, (), cil, tuple(Subject(d) for d in domains))


def policy_side(label: str, path: str) -> Side:
    """A kernel policy's side; its subjects are chosen by the other side (or by what changed)."""
    return Side(label, SideKind.POLICY, path)
