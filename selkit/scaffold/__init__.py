"""``selkit new``: a starting ``.sel`` spec for a daemon's program, as ``sepolicy generate`` and
udica start an author off, but phase-aware.

:func:`scaffold` checks the program (SEL801-SEL804, SEL809), gathers what the machine says
about it (:mod:`selkit.scaffold.probe`: its Debian package and that package's files, its
imports and strings), decides (:mod:`selkit.scaffold.plan`: names, declarations,
suggestions), writes the text (:mod:`selkit.scaffold.render`) and checks it as ``selkit
check`` would (:func:`self_check`): a scaffold that does not check is a bug, never output.
Nothing here writes a file; the command line does, atomically.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from selkit.base.store import load_store_model
from selkit.compiler import front_end
from selkit.diagnostics import DiagnosticError, ToolchainError
from selkit.dsl import ast
from selkit.dsl.parser import parse
from selkit.ir.kb import KnowledgeBase
from selkit.scaffold import probe, render
from selkit.scaffold.binary import DAEMON_START, DROP_PRIVILEGES
from selkit.scaffold.package import PLAIN_PATH
from selkit.scaffold.plan import Blockers, Facts, Owner, Plan, check_name, plan, refusal


@dataclass(frozen=True)
class Scaffold:
    """A written scaffold: its text and the decisions behind it (for the command's report)."""

    text: str
    plan: Plan


def check_exec(path: str) -> tuple[str, str]:
    """The program as given (made absolute) and the file it resolves to; SEL801 if there is
    none, SEL802 if it is no regular file, SEL803 if it is not executable, SEL809 if a file
    context cannot name it."""
    given = os.path.abspath(path)
    if not os.path.lexists(given):
        raise refusal("SEL801", f"--exec {path}: no such file",
                      "give the path of the daemon's program, e.g. --exec /usr/sbin/openvpn")
    real = os.path.realpath(given)
    if not os.path.exists(real):
        raise refusal("SEL801", f"--exec {path}: a symbolic link to {real}, which does not "
                      "exist", "give the path of the program itself")
    if not os.path.isfile(real):
        what = "a directory" if os.path.isdir(real) else "not a regular file"
        raise refusal("SEL802", f"--exec {path}: {what}",
                      "give the daemon's program (the file init executes)")
    if not os.access(real, os.X_OK) or not os.stat(real).st_mode & 0o111:
        raise refusal("SEL803", f"--exec {path}: not executable",
                      f"a daemon's program has an execute bit; chmod +x {real} if it is one")
    if not PLAIN_PATH.match(real):
        raise refusal("SEL809", f"--exec {path}: the path {real} cannot be named by a file "
                      "context (blanks, quotes and non-ASCII characters cannot be labelled)",
                      "install or link the program under a plain path and give that")
    return given, real


def check_output(output: str, force: bool) -> None:
    """SEL804 when the output file exists and ``--force`` was not given."""
    if not force and os.path.lexists(output) and not os.path.isdir(output):
        raise refusal("SEL804", f"{output} exists",
                      "pass --force to replace it, or -o another file")


def gather(given: str, real: str, package: str | None, output: str | None) -> Facts:
    """What this machine says about the program; SEL808 when ``--package`` names no
    installed package."""
    if package is not None:
        listed = probe.files(package)
        if listed is None:
            raise refusal("SEL808", f"--package {package}: not an installed package "
                          "(dpkg-query -L found nothing)",
                          "name an installed package (dpkg -S PROGRAM finds its owner), or "
                          "omit --package")
        owner = Owner(package, "--package")
    else:
        owner = probe.owner(given, real)
        listed = (probe.files(owner.package) or []) if owner.package else []
    binary = probe.binary(real)
    return Facts(given, real, owner, tuple(listed), probe.top_entry_kinds(listed, binary),
                 probe.tmpfiles(listed), binary, uses_common(output))


def uses_common(output: str | None) -> bool:
    """True when the spec is written beside an ``include/common.sel`` defining the two
    fragments (as in selkit's policies/): the scaffold then uses it instead of a copy."""
    if output is None:
        return False
    path = Path(output).absolute().parent / render.COMMON
    try:
        module = parse(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError, DiagnosticError):
        return False
    return {DAEMON_START, DROP_PRIVILEGES} <= {f.name.text for f in module.of(ast.Fragment)}


def scaffold(exec_path: str, load_kb: Callable[[], KnowledgeBase], *, name: str | None = None,
             package: str | None = None, output: str | None = None,
             command: str = "selkit new") -> Scaffold:
    """The scaffold for ``exec_path``, checked. The program and ``--name``'s spelling are
    checked first, then the machine is asked, then the base loaded (``load_kb``): bad input
    costs no policy load. ``output`` is where it will be written (its ``use`` is resolved from
    there), None for stdout."""
    given, real = check_exec(exec_path)
    if name is not None:
        check_name(name)
    facts = gather(given, real, package, output)
    kb = load_kb()
    decided = plan(facts, kb, name, store_blockers(kb))
    text = render.render(decided, command)
    self_check(text, output or f"{decided.daemon}.sel", kb)
    return Scaffold(text, decided)


def store_blockers(kb: KnowledgeBase) -> Blockers:
    """For a module of ``kb``'s store, the other modules that need its types outside optional
    blocks: removing it leaves their names unresolved, and semodule cannot link."""
    if kb.store is None:
        return lambda _module: ()
    model = load_store_model(kb.store)

    def blockers(module: str) -> tuple[str, ...]:
        if module not in kb.enabled_modules:
            return ()
        return tuple(sorted({m for m, _ in model.without([module]).unresolved}))
    return blockers


def self_check(text: str, path: str, kb: KnowledgeBase) -> None:
    """The front end of ``selkit check`` on the text; a diagnostic about the text is
    selkit's bug (the scaffold promises a spec that checks), raised as one, never written. A
    tool's refusal stays a ToolchainError (exit 1)."""
    try:
        front_end(path, kb, text)
    except ToolchainError:
        raise  # a tool refused (semodule linking the store without a replaced module)
    except DiagnosticError as exc:
        found = "; ".join(f"{d.code} {d.message}" for d in exc.diagnostics)
        raise RuntimeError(f"the scaffold does not pass selkit check ({found}); nothing "
                           "was written") from None
