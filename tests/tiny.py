"""A tiny base policy for the prover's logic: ``tests/data/tiny/base.cil``, compiled with secilc.

secilc builds it (and it with a module linked in) in milliseconds, so the prover's probe link and
the linked engine run for real without the Debian store: :class:`TinyLinker` stands in for
:func:`selkit.toolchain.link_files` (pass it as ``linker=`` to ``prove_files``, ``profiles_for``,
``link_candidates`` or ``load_profiles``) and compiles the base CIL together with the given
modules.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "tiny"
BASE_CIL = DATA / "base.cil"
SECILC = shutil.which("secilc") or "/usr/bin/secilc"




def compile_cil(dest: Path, *extra: Path) -> Path:
    """The tiny base with ``extra`` CIL files linked in, as a binary policy at ``dest``."""
    # -N: no neverallow or bounds check, as semodule links with expand-check=0 (the prover
    # judges bounds itself).
    result = subprocess.run([SECILC, "-M", "true", "-N", "-f", "/dev/null", "-o", str(dest),
                             str(BASE_CIL), *map(str, extra)], capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"secilc refused the tiny policy:\n{result.stdout}{result.stderr}")
    return dest


class TinyLinker:
    """A ``link_files`` that links into the tiny base with secilc instead of a store copy."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.links = 0

    def __call__(self, files: dict[str, bytes], modules, dest: str, **_options) -> str:
        self.links += 1
        folder = self.workdir / f"link-{self.links}"
        folder.mkdir(parents=True)
        paths = []
        for name, data in files.items():
            path = folder / name
            path.write_bytes(data)
            paths.append(path)
        compile_cil(Path(dest), *paths)
        return dest
