"""The compile pipeline as a library: ``.sel`` → IR → emitted sources → ``.pp`` (packaged by
the toolchain) → files.

Nothing here prints or exits; callers get values or a DiagnosticError.
"""

from __future__ import annotations

import enum
import os
import tempfile
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from selkit import toolchain
from selkit.base import BaseSpec, load_kb
from selkit.diagnostics import Diagnostic, DiagnosticError, Related
from selkit.dsl import ast
from selkit.dsl.bundle import bundle
from selkit.dsl.loader import Program, load, read_source
from selkit.emit import Target, emit, package_sources
from selkit.ir import nodes as ir
from selkit.ir import passes
from selkit.ir.kb import KnowledgeBase
from selkit.ir.lower import lower, type_collisions
from selkit.prove.basechecks import check_against_store
from selkit.toolchain import Progress


class Artifact(str, enum.Enum):
    """What ``selkit compile --target`` produces: the emitted sources, or the ``.pp`` the
    toolchain packages from them."""

    TE = "te"     # refpolicy .te/.if/.fc (emitted)
    CIL = "cil"   # CIL (emitted)
    PP = "pp"     # binary module package (checkmodule + semodule_package)
    SECCOMP = "seccomp"  # each phase's seccomp filter, JSON and a C header (emitted)

    @classmethod
    def parse_list(cls, value: str) -> tuple[Artifact, ...]:
        """``te,cil,pp`` → artifacts, in order, once each; ValueError names an unknown one."""
        out = []
        for word in (w.strip() for w in value.split(",")):
            try:
                out.append(cls(word))
            except ValueError:
                raise ValueError(f"unknown target '{word}' (choose from "
                                 f"{', '.join(a.value for a in cls)})") from None
        return tuple(dict.fromkeys(out))


@dataclass
class CompiledModule:
    """One daemon's module: its IR and the bytes of every output file."""

    module: ir.PolicyModule
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The module name."""
        return self.module.name


def front_end(path: str, kb: KnowledgeBase, text: str | None = None
              ) -> tuple[Program, tuple[ir.PolicyModule, ...]]:
    """Parse, lower, run the passes and check against the base store; the result is checked
    IR."""
    program, modules = checked_ir(path, kb, text)
    _raise_if_any(check_against_store(modules, kb))
    return program, modules


def checked_ir(path: str, kb: KnowledgeBase, text: str | None = None
               ) -> tuple[Program, tuple[ir.PolicyModule, ...]]:
    """Parse, lower and run the passes, without the checks against the whole store (for
    tests that hand a module to libsepol to see what it says)."""
    program = load(path, text)
    return program, _lowered(program, kb)


def _lowered(program: Program, kb: KnowledgeBase) -> tuple[ir.PolicyModule, ...]:
    return tuple(passes.run(m, kb) for m in lower(program, kb))


#: The name a module read from standard input goes by (diagnostics, provenance comments).
STDIN = "<stdin>"


def load_standalone(text: str, path: str = STDIN) -> Program:
    """``text`` as one module with nothing around it, as semodule's HLL compiler receives it
    (``path`` only names it): a ``use`` is SEL916 (:func:`selkit.dsl.loader.load`), and so is
    a second daemon, since semodule installs one module per file. Needs no base policy."""
    program = load(path, text, standalone=True)
    daemons = program.main.of(ast.Daemon)
    if len(daemons) > 1:
        raise DiagnosticError([Diagnostic(
            "SEL916", f"a second daemon, '{daemons[1].name.text}': semodule installs one "
            "module per file", daemons[1].name.span,
            hint="give each daemon a file of its own (selkit compile --bundle writes one "
                 "MODULE.sel per daemon file)")])
    return program


def compile_standalone(program: Program, kb: KnowledgeBase) -> CompiledModule:
    """The CIL of a :func:`load_standalone` program, checked as ``selkit compile`` checks a
    spec (the store checks included): what ``selkit compile --target cil`` writes for the
    same text under the same name."""
    modules = _lowered(program, kb)
    _raise_if_any(check_against_store(modules, kb))
    (compiled,) = compile_modules(modules, kb, (Artifact.CIL,))
    return compiled


def _raise_if_any(diagnostics: list[Diagnostic]) -> None:
    if diagnostics:
        raise DiagnosticError(sorted(diagnostics, key=lambda d: (d.span, d.code)))


def front_end_files(paths: Iterable[str], kb: KnowledgeBase
                    ) -> tuple[dict[str, Program], tuple[ir.PolicyModule, ...]]:
    """:func:`front_end` over several files: the programs by path and every module, or one
    DiagnosticError with the diagnostics of all files (a daemon declared twice is SEL303). The
    store checks judge the modules together, as they are linked together."""
    diagnostics: list[Diagnostic] = []
    modules: list[ir.PolicyModule] = []
    programs: dict[str, Program] = {}
    seen: dict[str, ir.PolicyModule] = {}
    for path in paths:
        try:
            program, mods = checked_ir(path, kb, read_source(path))
        except DiagnosticError as exc:
            diagnostics.extend(exc.diagnostics)
            continue
        programs[path] = program
        for module in mods:
            if module.name in seen:
                diagnostics.append(Diagnostic(
                    "SEL303", f"daemon '{module.name}' is declared twice",
                    module.phases[0].origin.span,
                    related=(Related(seen[module.name].phases[0].origin.span,
                                     "first declared here"),)))
                continue
            seen[module.name] = module
            modules.append(module)
    diagnostics.extend(type_collisions(modules))  # within one file, lower() found them
    if diagnostics:
        raise DiagnosticError(diagnostics)
    _raise_if_any(check_against_store(tuple(modules), kb))
    return programs, tuple(modules)


def compile_modules(modules: tuple[ir.PolicyModule, ...], kb: KnowledgeBase,
                    targets: Collection[Artifact | Target | str],
                    progress: Progress | None = None) -> list[CompiledModule]:
    """Each artifact of each module: the emitters write ``te`` and ``cil``; ``pp`` is packaged
    by the toolchain from the raw-flavour sources. ``targets`` are :class:`Artifact` or
    :class:`selkit.emit.Target` members (or their names)."""
    artifacts = [Artifact(t) for t in targets]
    results = []
    for module in modules:
        compiled = CompiledModule(module)
        for artifact in artifacts:
            if artifact is Artifact.PP:
                if progress:
                    progress(f"checkmodule {module.name}")
                te, fc = package_sources(module, kb.attributes)
                compiled.files[f"{module.name}.pp"] = toolchain.build_pp(te, fc, module.name,
                                                                         kb.mls)
                continue
            for out in emit(module, Target(artifact.value), kb.attributes):
                compiled.files[out.name] = out.text().encode()
        results.append(compiled)
    return results


def check_files(paths: Iterable[str], base: BaseSpec) -> tuple[KnowledgeBase, dict[str, Program],
                                                 tuple[ir.PolicyModule, ...]]:
    """The front end over ``paths`` against ``base``: the knowledge base, the programs by path
    and every checked module (or one DiagnosticError for all files)."""
    kb = load_kb(base)
    programs, modules = front_end_files(paths, kb)
    return kb, programs, modules


@dataclass(frozen=True)
class StoreInstall:
    """One form of every module installed by ``--install``: the store that was copied (never
    changed itself), the directory the copy was made in, and whether it was kept (never: the
    copy and the policy linked in it are removed once the install is verified)."""

    form: str
    store: str
    path: str
    kept: bool = False


@dataclass
class Compiled:
    """What ``selkit compile`` did: each module's files, which forms were installed into a
    store copy (and where those copies were), and the paths written."""

    modules: list[CompiledModule]
    installed: dict[str, dict[str, bool]]
    written: list[str]
    stores: list[StoreInstall] = field(default_factory=list)


def bundles(programs: dict[str, Program], modules: tuple[ir.PolicyModule, ...],
            kb: KnowledgeBase, output: str) -> dict[str, bytes]:
    """``MODULE.sel`` for each spec file, to be written into ``output``: the spec with every
    file it uses inlined (:mod:`selkit.dsl.bundle`). Each is compiled as semodule's HLL
    compiler will compile it (:func:`compile_standalone`) and must give the CIL rules of the
    module it came from. SEL917: a file with several daemons (semodule installs one module
    per file, named after the file), or a bundle that would not compile to the same rules;
    SEL918: a bundle that would overwrite a file it is made from."""
    out: dict[str, bytes] = {}
    sources = [source for program in programs.values() for source in program.texts]
    for path, program in programs.items():
        daemons = program.main.of(ast.Daemon)
        if len(daemons) != 1:
            raise DiagnosticError([Diagnostic(
                "SEL917", f"{path} declares {len(daemons)} daemons; a bundle is one module",
                daemons[1].name.span if len(daemons) > 1 else None,
                hint="give each daemon a file of its own to bundle it")])
        (module,) = (m for m in modules if m.source_path == path)
        name = f"{module.name}.sel"
        _refuse_overwriting(Path(output, name), sources)
        text = bundle(program, module.name)
        (original,) = compile_modules((module,), kb, (Artifact.CIL,))
        try:
            alone = compile_standalone(load_standalone(text, name), kb)
        except DiagnosticError as exc:
            raise DiagnosticError([Diagnostic(
                "SEL917", f"the bundle of {path} does not compile alone",
                hint="; ".join(d.message for d in exc.diagnostics))]) from None
        if _cil_rules(alone.files[f"{module.name}.cil"]) != \
                _cil_rules(original.files[f"{module.name}.cil"]):
            raise DiagnosticError([Diagnostic(
                "SEL917", f"the bundle of {path} does not compile to the rules of module "
                f"{module.name}")])
        out[name] = text.encode()
    return out


def _refuse_overwriting(target: Path, sources: list[str]) -> None:
    for source in sources:
        if target.exists() and os.path.samefile(target, source):
            raise DiagnosticError([Diagnostic(
                "SEL918", f"the bundle {target} would overwrite {source}, which it is made from",
                hint="give -o another directory")])


def _cil_rules(cil: bytes) -> list[str]:
    """The statements of emitted CIL, sorted, without its comments: the provenance comments
    name the file and line a rule came from, and rules are emitted in the order of those
    (a fragment of a used file comes first in the spec, last in its bundle). CIL statements
    mean the same in any order."""
    lines = (line.split("\t;", 1)[0] for line in cil.decode().splitlines())
    return sorted(line for line in lines if line and not line.startswith(";"))


def build(modules: tuple[ir.PolicyModule, ...], kb: KnowledgeBase,
          artifacts: Collection[Artifact | Target | str], output: str, *,
          install: bool = False, base: BaseSpec = BaseSpec(),
          progress: Progress | None = None, extra: dict[str, bytes] | None = None) -> Compiled:
    """Compile every module, optionally install every form that was built for all of them
    (``.pp``, ``.cil``) into a copy of ``base``'s store, then write every file (and
    ``extra``, e.g. the bundles) into ``output`` (all or none)."""
    compiled = compile_modules(modules, kb, artifacts, progress)
    installed: dict[str, dict[str, bool]] = {c.name: {} for c in compiled}
    stores = []
    if install:
        for form in ("pp", "cil"):
            if not all(f"{c.name}.{form}" in c.files for c in compiled):
                continue
            stores.append(install_into_store_copy(compiled, form, base, progress))
            for c in compiled:
                installed[c.name][form] = True
    files = {name: data for item in compiled for name, data in item.files.items()}
    files.update(extra or {})
    return Compiled(compiled, installed, write_atomically(output, files), stores)


def _unwritable(path: str, problem: str, hint: str | None = None) -> DiagnosticError:
    return DiagnosticError([Diagnostic("SEL909", f"cannot write '{path}': {problem}",
                                       hint=hint)])


def _reason(exc: OSError) -> str:
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


def check_output_dir(directory: str, option: str = "-o") -> None:
    """SEL909 before any work: ``directory`` is a directory we may write into, or can be made
    one (its nearest existing ancestor is such a directory). Permissions the kernel enforces
    beyond the mode bits (root, immutable files) show up when writing, as SEL909 too."""
    path = Path(directory)
    if path.exists() and not path.is_dir():
        raise _unwritable(directory, "it is a file, not a directory",
                          f"give {option} a directory; the output files are written inside it")
    ancestor = path if path.exists() else next(
        (a for a in path.absolute().parents if a.exists()), Path("/"))
    if not ancestor.is_dir():
        raise _unwritable(directory, f"'{ancestor}' is a file, not a directory",
                          f"give {option} a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise _unwritable(directory, f"permission denied in '{ancestor}'")


def check_output_file(path: str, option: str) -> None:
    """SEL909 before any work: ``path`` names a file in an existing directory we may write
    into (no directory is created for it)."""
    target = Path(path)
    if target.is_dir():
        raise _unwritable(path, "it is a directory", f"give {option} a file name")
    parent = target.absolute().parent
    if not parent.exists():
        raise _unwritable(path, f"no such directory '{parent}'",
                          "create the directory first, or name a file in an existing one")
    if not parent.is_dir():
        raise _unwritable(path, f"'{parent}' is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise _unwritable(path, f"permission denied in '{parent}'")


def write_atomically(directory: str, files: dict[str, bytes]) -> list[str]:
    """Write every file or none: each goes to a temporary name first, then is renamed. A
    directory or file that cannot be written is SEL909 (a DiagnosticError), with nothing left
    behind."""
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise _unwritable(directory, _reason(exc)) from None
    staged: list[tuple[str, str]] = []
    try:
        for name, data in sorted(files.items()):
            final = os.path.join(directory, name)
            if os.path.isdir(final):
                raise _unwritable(final, "it is a directory")
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=directory)
            staged.append((tmp, final))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o644)
        for tmp, final in staged:
            os.replace(tmp, final)
    except OSError as exc:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise _unwritable(directory, _reason(exc)) from None
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise
    return [final for _, final in staged]


def install_into_store_copy(compiled: list[CompiledModule], form: str,
                            base: BaseSpec = BaseSpec(),
                            progress: Progress | None = None) -> StoreInstall:
    """Install every module's ``.pp`` or ``.cil`` into a fresh copy of ``base``'s store, made
    in a temporary directory that is removed afterwards; raises ToolchainError if semodule
    refuses or the linked policy lacks a module or its types
    (:meth:`selkit.toolchain.StoreCopy.verify` loads it), SEL908 if the base has no store."""
    files = {f"{c.name}.{form}": c.files[f"{c.name}.{form}"] for c in compiled}
    with tempfile.TemporaryDirectory(prefix="selkit-install-") as tmp:
        toolchain.link_files(files, [c.module for c in compiled], str(Path(tmp, "policy")),
                             source_root=base.root, store=base.name, progress=progress,
                             work_dir=tmp)
    return StoreInstall(form, str(Path(base.root, "var/lib/selinux", base.name)), tmp)
