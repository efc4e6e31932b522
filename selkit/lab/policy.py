"""The guest's kernel policy: Debian's refpolicy store + the shipped modules exactly as
``selkit compile`` builds them + the lab-only module ``selkit_lab`` (selkit/lab/data), linked
by semodule in a copy of the store.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from selkit.base import BaseSpec, load_kb
from selkit.compiler import Artifact, compile_modules, front_end_files, write_atomically
from selkit.diagnostics import Diagnostic, DiagnosticError
from selkit.ir import nodes as ir
from selkit.lab.kernel import lab_cache
from selkit.progress import Progress
from selkit.toolchain import link_files

LAB_MODULE = "selkit_lab"


@dataclass(frozen=True)
class LabPolicy:
    """A linked kernel policy and what it was made of."""

    path: Path
    modules: tuple[ir.PolicyModule, ...]
    lab_module: str
    digest: str
    programs: dict = field(default_factory=dict)

    def module(self, name: str) -> ir.PolicyModule:
        """The module of daemon (or module) ``name``."""
        for module in self.modules:
            if name in (module.name, module.daemon):
                return module
        raise KeyError(name)

    def module_of(self, spec: Path, daemon: str | None = None) -> ir.PolicyModule:
        """The module compiled from the spec file ``spec``: its daemon ``daemon``, or its only
        one; SEL776 when the spec has no such daemon (a scenario's ``name``)."""
        ours = [m for m in self.modules
                if Path(m.source_path).resolve() == Path(spec).resolve()]
        for module in ours:
            if module.daemon == daemon:
                return module
        if len(ours) == 1:
            return ours[0]
        names = ", ".join(m.daemon for m in ours) or "none"
        raise DiagnosticError([Diagnostic(
            "SEL776", f"{spec} has no daemon '{daemon}' (its daemons: {names})",
            hint="name the daemon in the scenario: name = \"DAEMON\"")])


def lab_module_text() -> str:
    """The CIL of the lab-only module (selkit/lab/data/selkit_lab.cil). It grants nothing to
    the daemons' domains."""
    return resources.files("selkit.lab").joinpath("data", "selkit_lab.cil").read_text()


def build_policy(spec_paths: list[str], progress: Progress | None = None,
                 base: BaseSpec = BaseSpec()) -> LabPolicy:
    """Compile every spec like ``selkit compile``, add the lab module, link, and return the
    kernel policy (cached by the digest of every linked module and the base policy)."""
    kb = load_kb(base)
    programs, modules = front_end_files(spec_paths, kb)
    if progress:
        progress("compiling the shipped modules")
    compiled = compile_modules(modules, kb, (Artifact.PP,))
    files = {f"{c.name}.pp": c.files[f"{c.name}.pp"] for c in compiled}
    lab_text = lab_module_text()
    files[f"{LAB_MODULE}.cil"] = lab_text.encode()
    digest = hashlib.sha256()
    base_policy = Path(base.policy)
    digest.update(base_policy.read_bytes() if base_policy.exists() else b"")
    for name, data in sorted(files.items()):
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    key = digest.hexdigest()[:20]
    folder = lab_cache() / "policy" / key
    path = folder / "policy.33"
    if not path.exists():
        if progress:
            progress("linking the lab policy in a copy of the store")
        with tempfile.TemporaryDirectory(prefix="selkit-lab-policy-") as tmp:
            link_files(files, modules, str(Path(tmp, "policy.33")), source_root=base.root,
                       store=base.name, progress=progress)
            write_atomically(str(folder), {"policy.33": Path(tmp, "policy.33").read_bytes(),
                                           f"{LAB_MODULE}.cil": lab_text.encode()})
    return LabPolicy(path, modules, lab_text, key, programs)

