"""The real SELinux userspace: checkmodule, semodule_package, secilc and semodule.

Failures come back as SEL5xx diagnostics mapped to the spec line of the offending rule where
the tool names one. Nothing here prints; long steps report through a ``progress`` callback.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from selkit.base.modules import CIL_ALLOW
from selkit.diagnostics import Diagnostic, Span, ToolchainError
from selkit.emit import Output
from selkit.ir import nodes as ir
from selkit.progress import Progress

DEFAULT_ROOT = "/"
DEFAULT_STORE_NAME = "default"

#: Lines libsemanage prints on every Debian transaction that say nothing about our module.
_NOISE = (re.compile(r"^libsemanage\.add_user: user \S+ not in password file$"),)


def _tool(name: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}")
                                  else None)
    if path is None:
        raise ToolchainError([Diagnostic(
            "SEL510", f"'{name}' is not installed",
            hint="run 'make setup' (installs checkpolicy, secilc, semodule-utils, "
                 "policycoreutils)")])
    return path


def _run(argv: list[str], cwd: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False,
                          env={**os.environ, "LC_ALL": "C"})


def _clean(text: str) -> str:
    lines = [ln for ln in text.splitlines() if not any(p.match(ln) for p in _NOISE)]
    return "\n".join(lines).strip()


# ---------------------------------------------------------------------------------------------
# Building a .pp


_CHECKMODULE_LINE = re.compile(r"on line (\d+)")


def build_pp(te: Output, fc: Output, name: str, mls: bool = True) -> bytes:
    """Compile a raw-flavour ``.te`` and ``.fc`` into a module package; return its bytes."""
    checkmodule, package = _tool("checkmodule"), _tool("semodule_package")
    with tempfile.TemporaryDirectory(prefix="selkit-pp-") as tmp:
        Path(tmp, f"{name}.te").write_text(te.text())
        Path(tmp, f"{name}.fc").write_text(fc.text())
        argv = [checkmodule, *(["-M"] if mls else []), "-m", "-o", f"{name}.mod", f"{name}.te"]
        result = _run(argv, cwd=tmp)
        if result.returncode != 0:
            output = _clean(result.stderr + result.stdout)
            match = _CHECKMODULE_LINE.search(output)
            span = te.span_at(int(match.group(1))) if match else None
            first = output.splitlines()[0] if output else "no message"
            raise ToolchainError([Diagnostic(
                "SEL501", f"checkmodule refused module '{name}': {first}", span, hint=output)])
        result = _run([package, "-o", f"{name}.pp", "-m", f"{name}.mod", "-f", f"{name}.fc"],
                      cwd=tmp)
        if result.returncode != 0:
            raise ToolchainError([Diagnostic(
                "SEL502", f"semodule_package failed for module '{name}': "
                + _clean(result.stderr + result.stdout))])
        return Path(tmp, f"{name}.pp").read_bytes()


# ---------------------------------------------------------------------------------------------
# A private copy of the module store


@dataclass
class StoreCopy:
    """A copy of a policy store under a temporary root, for ``semodule -p ROOT``.

    The copy's semanage.conf sets ``expand-check=1``: Debian ships 0, which lets a module that
    breaks a base neverallow or a typebounds install silently.
    """

    source_root: str = DEFAULT_ROOT
    store: str = DEFAULT_STORE_NAME
    root: str = ""
    #: False mirrors Debian's default, where bounds and neverallows are not checked at link.
    expand_check: bool = True
    #: The directory the copy is made in (default: the system's temporary directory).
    parent: str | None = None
    _tmp: tempfile.TemporaryDirectory | None = field(default=None, repr=False)

    def __enter__(self) -> StoreCopy:
        self._tmp = tempfile.TemporaryDirectory(prefix="selkit-store-", dir=self.parent)
        self.root = self._tmp.name
        src_etc = Path(self.source_root, "etc/selinux")
        src_var = Path(self.source_root, "var/lib/selinux", self.store)
        # Everything the copy is made of comes from source_root: the store, its etc/selinux
        # part and the semanage.conf that says how libsemanage links it (never this machine's
        # when another root is copied).
        missing = [str(p) for p in (src_etc / self.store, src_var / "active",
                                    src_etc / "semanage.conf") if not p.exists()]
        if missing:
            self.__exit__(None, None, None)
            raise ToolchainError([Diagnostic(
                "SEL511", f"no complete policy store '{self.store}' under {self.source_root}: "
                          f"no {', '.join(missing)}",
                hint="install selinux-policy-default (make setup), or pass a --base whose "
                     "root holds its store")])
        Path(self.root, "etc/selinux").mkdir(parents=True)
        Path(self.root, "var/lib/selinux").mkdir(parents=True)
        shutil.copytree(src_etc / self.store, Path(self.root, "etc/selinux", self.store),
                        symlinks=True)
        shutil.copytree(src_var, Path(self.root, "var/lib/selinux", self.store), symlinks=True,
                        ignore=shutil.ignore_patterns("tmp", "*.LOCK"))
        conf = (src_etc / "semanage.conf").read_text()
        conf = re.sub(r"(?m)^\s*expand-check\s*=.*$", "", conf).rstrip() + \
            f"\nexpand-check={1 if self.expand_check else 0}\n"
        Path(self.root, "etc/selinux/semanage.conf").write_text(conf)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def semodule(self) -> list[str]:
        """``semodule`` on this copy, to which a caller appends its modes: the private root
        (``-p``) and store (``-s``), and never a reload of the running kernel's policy
        (``-n``)."""
        return [_tool("semodule"), "-p", self.root, "-s", self.store, "-n"]

    @property
    def file_contexts(self) -> str:
        """The copy's file_contexts, as the last transaction wrote it (what ``matchpathcon
        -f`` and ``restorecon`` would read on a host with this store)."""
        return str(Path(self.root, "etc/selinux", self.store, "contexts/files/file_contexts"))

    @property
    def policy_path(self) -> str:
        """The kernel policy the last successful install produced."""
        folder = Path(self.root, "etc/selinux", self.store, "policy")
        files = sorted(folder.glob("policy.*"))
        return str(files[-1]) if files else str(folder / "policy.33")

    def install(self, paths: Iterable[str], modules: Iterable[ir.PolicyModule] = (),
                progress: Progress | None = None) -> None:
        """``semodule -p ROOT -s STORE -n -i`` each path in one transaction."""
        paths = list(paths)
        argv = self.semodule()
        if progress:
            progress(f"linking {', '.join(Path(p).name for p in paths)} into a copy of the "
                     f"'{self.store}' store")
        for path in paths:
            argv += ["-i", path]
        result = _run(argv)
        if result.returncode != 0:
            # A failed transaction leaves tmp/ behind, which breaks the next one.
            shutil.rmtree(Path(self.root, "var/lib/selinux", self.store, "tmp"),
                          ignore_errors=True)
            raise ToolchainError(_semodule_diagnostics(_clean(result.stderr + result.stdout),
                                                       list(modules)))

    def module_states(self) -> dict[str, bool]:
        """Every module of the copy, by name: True if enabled (``semodule --list-modules=full``:
        ``PRIORITY NAME KIND [disabled]``; the disabled flag holds for the name at any
        priority)."""
        result = _run([*self.semodule(), "--list-modules=full"])
        if result.returncode != 0:
            raise ToolchainError([Diagnostic(
                "SEL512", "cannot list the modules of the store copy: "
                + (_clean(result.stderr + result.stdout) or "semodule failed"))])
        states: dict[str, bool] = {}
        for line in result.stdout.splitlines():
            words = line.split()
            if len(words) >= 3 and words[0].isdigit():
                states[words[1]] = states.get(words[1], True) and "disabled" not in words[3:]
        return states

    def verify(self, names: Iterable[str], modules: Iterable[ir.PolicyModule] = ()) -> None:
        """After :meth:`install`: every module in ``names`` is listed enabled, and every type
        ``modules`` declare is in the linked kernel policy. semodule exits 0 for a module it
        installs disabled (its name is in the store's disabled list), so its success alone is
        no proof; SEL512 otherwise."""
        from selkit.base import load_policy  # noqa: PLC0415

        states = self.module_states()
        diagnostics = []
        for name in names:
            if states.get(name) is None:
                diagnostics.append(Diagnostic(
                    "SEL512", f"module '{name}' is not in the store copy after semodule -i",
                    hint="semodule reported success; inspect the store with "
                         "semodule --list-modules=full"))
            elif not states[name]:
                diagnostics.append(Diagnostic(
                    "SEL512", f"module '{name}' was installed disabled: the '{self.store}' store "
                    "lists that name as disabled, so none of its rules or types are in the "
                    "linked policy", hint=f"rename the module with 'module NAME', or enable "
                    f"the store's '{name}' with 'semodule -e {name}' if you mean to replace it"))
        modules = list(modules)
        if modules and not diagnostics:
            policy = load_policy(self.policy_path)
            present = {str(t) for t in policy.types()}
            for module in modules:
                missing = [t.name for t in module.types if t.name not in present]
                if missing:
                    diagnostics.append(Diagnostic(
                        "SEL512", f"the linked policy lacks type{'s' if len(missing) > 1 else ''}"
                        f" {', '.join(missing)} of module '{module.name}'",
                        module.phases[0].origin.span if module.phases else None,
                        hint="semodule reported success, but the module's types did not reach "
                             "the kernel policy"))
        if diagnostics:
            raise ToolchainError(diagnostics)


class Linker(Protocol):
    """What links module files into a base and writes the kernel policy to ``dest``:
    :func:`link_files`, or in tests one that compiles a tiny base with secilc."""

    def __call__(self, files: dict[str, bytes], modules: Iterable[ir.PolicyModule], dest: str,
                 *, source_root: str = ..., store: str = ..., expand_check: bool = ...,
                 progress: Progress | None = ...) -> str: ...


def link_files(files: dict[str, bytes], modules: Iterable[ir.PolicyModule], dest: str, *,
               source_root: str = DEFAULT_ROOT, store: str = DEFAULT_STORE_NAME,
               expand_check: bool = True, progress: Progress | None = None,
               work_dir: str | None = None) -> str:
    """Install module files (``NAME.pp``/``NAME.cil`` → bytes) into a fresh copy of the store
    in one transaction and copy the resulting kernel policy to ``dest``; return ``dest``. The
    copy is made in ``work_dir`` (default: the system's temporary directory) and removed."""
    with tempfile.TemporaryDirectory(prefix="selkit-link-", dir=work_dir) as tmp, \
            StoreCopy(source_root, store, expand_check=expand_check, parent=work_dir) as copy:
        paths = []
        for name, data in files.items():
            Path(tmp, name).write_bytes(data)
            paths.append(str(Path(tmp, name)))
        modules = list(modules)
        copy.install(paths, modules, progress)
        copy.verify([Path(p).stem for p in paths], modules)
        shutil.copyfile(copy.policy_path, dest)
    return dest


_BOUNDS = re.compile(r"Child type (\S+) exceeds bounds of parent (\S+)\n\s+(\(allow [^\n]+\))")
_NEVERALLOW = re.compile(r"neverallow check failed at (\S+)\n\s+(\(neverallow [^\n]+\))"
                         r"(?:\n.*?\n\s+allow at \S+\n\s+(\(allow [^\n]+\)))?")


def _semodule_diagnostics(output: str, modules: list[ir.PolicyModule]) -> list[Diagnostic]:
    out = []
    for match in _BOUNDS.finditer(output):
        child, parent, rule = match.groups()
        out.append(Diagnostic("SEL503", f"libsepol: {child} exceeds the bounds of {parent}: "
                              f"{rule}", _find_rule(rule, modules),
                              hint="a later phase may not hold what the phase before lacks; "
                                   "this often comes from an attribute of the base policy"))
    for match in _NEVERALLOW.finditer(output):
        _, neverallow, rule = match.groups()
        out.append(Diagnostic("SEL504", f"the base policy forbids {rule or 'a rule'}: "
                              f"{neverallow}", _find_rule(rule or "", modules), hint=output))
    if not out:
        first = output.splitlines()[0] if output else "semodule failed"
        out.append(Diagnostic("SEL505", f"semodule refused the module: {first}", hint=output))
    return out


def _find_rule(cil_rule: str, modules: list[ir.PolicyModule]) -> Span | None:
    match = CIL_ALLOW.search(cil_rule)
    if not match:
        return None
    source, target, tclass, perms = match.groups()
    perm_set = set(perms.split())
    for module in modules:
        for rule in module.allows(source):
            rule_target = ir.SELF if rule.target == rule.source else rule.target
            if (target in (rule.target, rule_target) and rule.tclass == tclass
                    and perm_set & set(rule.perms)):
                return rule.origin.span
    return None
