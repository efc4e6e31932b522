"""``selkit compile`` and ``selkit check`` results: one row per module."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from selkit.ir import nodes as ir
from selkit.report.format import Block, Report, Table

if TYPE_CHECKING:
    from selkit.compiler import StoreInstall

HEADERS = ("daemon", "domains", "allow rules per phase", "outputs", "installed")


def display_name(module: ir.PolicyModule) -> str:
    """``daemon`` or ``daemon (module NAME)`` when the module is named otherwise (text only;
    JSON has both names under their own keys)."""
    if module.daemon == module.name:
        return module.daemon
    return f"{module.daemon} (module {module.name})"


def rules_per_phase(module: ir.PolicyModule) -> dict[str, int]:
    """How many allow rules each phase has (:meth:`~selkit.ir.nodes.PolicyModule.allow_rules_of`:
    the module's rules whose source is the phase's domain, compiler plumbing included)."""
    return {p.name: len(module.allow_rules_of(p.name)) for p in module.phases}


@dataclass(frozen=True)
class CompiledRow:
    """What ``selkit compile`` tells about one module."""

    module: ir.PolicyModule
    outputs: tuple[str, ...]
    installed: dict[str, bool]  # form ("pp", "cil") -> installed; absent: not tried

    def cells(self) -> tuple[str, ...]:
        """The row as table cells."""
        installed = ", ".join(f"{form}: {'yes' if ok else 'no'}"
                              for form, ok in self.installed.items()) or "not tried"
        return (display_name(self.module), " ".join(p.domain for p in self.module.phases),
                " ".join(f"{phase}={n}" for phase, n in rules_per_phase(self.module).items()),
                " ".join(self.outputs), installed)

    def data(self) -> dict:
        """JSON-ready form."""
        return {"daemon": self.module.daemon, "module": self.module.name,
                "source": self.module.source_path,
                "domains": [p.domain for p in self.module.phases],
                "rules_per_phase": rules_per_phase(self.module), "outputs": list(self.outputs),
                "installed": dict(self.installed)}


def store_line(install: StoreInstall) -> str:
    """Where ``--install`` put one form, and that nothing of it is left."""
    fate = "kept" if install.kept else "removed when the install was verified"
    return (f"--install: every .{install.form} linked into a copy of the store {install.store} "
            f"made in {install.path} ({fate}; the store itself is never changed)")


@dataclass(frozen=True)
class CompileReport(Report):
    """Every compiled module, the files written, and the store copies of ``--install``."""

    rows: Sequence[CompiledRow]
    written: Sequence[str]
    stores: Sequence[StoreInstall] = ()
    schema = "compile"

    def data(self) -> dict:
        out = {"modules": [r.data() for r in self.rows], "written": list(self.written)}
        if self.stores:
            out["store_copies"] = [{"form": s.form, "store": s.store, "path": s.path,
                                    "kept": s.kept} for s in self.stores]
        return out

    def blocks(self) -> list[Block]:
        return [Table(HEADERS, [r.cells() for r in self.rows]),
                *(store_line(s) for s in self.stores)]


@dataclass(frozen=True)
class CheckReport(Report):
    """Every checked module: ``FILE: daemon: ok (rules per phase)``."""

    modules: Sequence[ir.PolicyModule]
    schema = "check"

    def data(self) -> dict:
        return {"ok": True, "modules": [
            {"daemon": m.daemon, "module": m.name, "source": m.source_path,
             "domains": [p.domain for p in m.phases], "rules_per_phase": rules_per_phase(m)}
            for m in self.modules]}

    def blocks(self) -> list[Block]:
        out: list[Block] = []
        for m in self.modules:
            phases = ", ".join(f"{name}={n}" for name, n in rules_per_phase(m).items())
            out.append(f"{m.source_path}: {display_name(m)}: ok ({phases} allow rules)")
        return out
