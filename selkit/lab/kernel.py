"""The guest's kernel and userland, from Debian packages: ``apt-get download`` + ``dpkg-deb -x``
into the cache (nothing is installed on the host).

The kernel is the one Debian's ``linux-image-amd64`` metapackage depends on (a
``linux-image-6.1.0-N-amd64``), unless ``SELKIT_LAB_KERNEL`` names another package.
"""

from __future__ import annotations

import lzma
import os
import re
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from selkit.cache import cache_root
from selkit.diagnostics import Diagnostic
from selkit.progress import Progress
from selkit.toolchain import ToolchainError

KERNEL_METAPACKAGE = "linux-image-amd64"
BUSYBOX_PACKAGE = "busybox-static"


def lab_cache() -> Path:
    """Where the lab keeps downloaded packages, unpacked trees and builds."""
    return cache_root() / "lab"


def _run(argv: list[str], cwd: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False,
                          env={**os.environ, "LC_ALL": "C"})


def _fail(code: str, message: str, hint: str | None = None) -> ToolchainError:
    return ToolchainError([Diagnostic(code, message, hint=hint)])


def kernel_package() -> str:
    """The versioned kernel package to boot (``linux-image-6.1.0-N-amd64``)."""
    chosen = os.environ.get("SELKIT_LAB_KERNEL")
    if chosen:
        return chosen
    result = _run(["apt-cache", "depends", KERNEL_METAPACKAGE])
    found = re.findall(r"Depends: (linux-image-\d[\w.+-]*-amd64)\b", result.stdout)
    if result.returncode != 0 or not found:
        raise _fail("SEL762", f"cannot tell which kernel '{KERNEL_METAPACKAGE}' depends on",
                    hint=(result.stderr or result.stdout).strip() or "run 'apt-get update'")
    return found[0]


def download(package: str, progress: Progress | None = None) -> Path:
    """The ``.deb`` of ``package`` (candidate version) in the cache, downloaded once."""
    debs = lab_cache() / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    existing = sorted(debs.glob(f"{package}_*.deb"))
    if existing:
        return existing[-1]
    if progress:
        progress(f"downloading {package}")
    with tempfile.TemporaryDirectory(prefix=".dl-", dir=debs) as tmp:
        os.chmod(tmp, 0o777)  # apt's _apt user may then write there (no sandbox warning)
        result = _run(["apt-get", "download", package], cwd=tmp)
        got = sorted(Path(tmp).glob("*.deb"))
        if result.returncode != 0 or not got:
            raise _fail("SEL763", f"apt-get download {package} failed",
                        hint=(result.stderr or result.stdout).strip())
        final = debs / got[0].name
        os.replace(got[0], final)
    return final


def unpack(deb: Path, progress: Progress | None = None) -> Path:
    """``dpkg-deb -x`` of ``deb`` into the cache (once); returns the tree."""
    tree = lab_cache() / "unpacked" / deb.stem
    if tree.is_dir():
        return tree
    if progress:
        progress(f"unpacking {deb.name}")
    tree.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{deb.stem}.", dir=tree.parent))
    try:
        result = _run(["dpkg-deb", "-x", str(deb), str(tmp)])
        if result.returncode != 0:
            raise _fail("SEL764", f"dpkg-deb -x {deb.name} failed", hint=result.stderr.strip())
        os.replace(tmp, tree)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return tree


@dataclass(frozen=True)
class Kernel:
    """An unpacked kernel package: its image and its module tree."""

    package: str
    release: str
    vmlinuz: Path
    modules_dir: Path

    def module_path(self, name: str) -> Path:
        """The ``.ko`` (or ``.ko.xz``/``.ko.zst``) file of module ``name``."""
        wanted = name.replace("-", "_")
        for path in sorted(self.modules_dir.rglob("*.ko*")):
            if _module_name(path) == wanted:
                return path
        raise _fail("SEL765", f"kernel module '{name}' is not in {self.package}")

    def modules_in_load_order(self, names: list[str]) -> list[tuple[str, bytes]]:
        """``(name, uncompressed .ko bytes)`` for ``names`` and what they depend on
        (the ``depends=`` field of each module's .modinfo), dependencies first."""
        ordered: list[tuple[str, bytes]] = []
        seen: set[str] = set()

        def visit(name: str) -> None:
            name = name.replace("-", "_")
            if name in seen:
                return
            seen.add(name)
            data = module_bytes(self.module_path(name))
            for dep in modinfo(data).get("depends", "").split(","):
                if dep:
                    visit(dep)
            ordered.append((name, data))

        for name in names:
            visit(name)
        return ordered


def _module_name(path: Path) -> str:
    return path.name.split(".ko")[0].replace("-", "_")


def module_bytes(path: Path) -> bytes:
    """A module file, decompressed if it is ``.ko.xz`` (busybox insmod wants plain ELF)."""
    data = path.read_bytes()
    if path.name.endswith(".xz"):
        return lzma.decompress(data)
    if path.name.endswith(".zst"):
        result = subprocess.run(["zstd", "-dc", str(path)], capture_output=True, check=False)
        if result.returncode != 0:
            raise _fail("SEL765", f"cannot decompress {path.name} (zstd missing?)")
        return result.stdout
    return data


def modinfo(ko: bytes) -> dict[str, str]:
    """The ``key=value`` strings of a module's ``.modinfo`` section."""
    section = _elf_section(ko, b".modinfo")
    out: dict[str, str] = {}
    for item in section.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep:
            out.setdefault(key.decode(errors="replace"), value.decode(errors="replace"))
    return out


def _elf_section(elf: bytes, wanted: bytes) -> bytes:
    """One section of a 64-bit little-endian ELF file (empty if absent)."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        return b""
    shoff = struct.unpack_from("<Q", elf, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    headers = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
    names_at = headers[shstrndx][4]
    for header in headers:
        name_end = elf.index(b"\0", names_at + header[0])
        if elf[names_at + header[0]:name_end] == wanted:
            return elf[header[4]:header[4] + header[5]]
    return b""


def fetch_kernel(progress: Progress | None = None) -> Kernel:
    """Download and unpack the kernel package; its vmlinuz and module tree."""
    package = kernel_package()
    tree = unpack(download(package, progress), progress)
    images = sorted((tree / "boot").glob("vmlinuz-*"))
    if not images:
        raise _fail("SEL764", f"{package} has no /boot/vmlinuz-*")
    release = images[-1].name[len("vmlinuz-"):]
    modules = tree / "lib" / "modules" / release
    if not modules.is_dir():
        modules = tree / "usr" / "lib" / "modules" / release
    return Kernel(package, release, images[-1], modules)


def fetch_busybox(progress: Progress | None = None) -> Path:
    """The static busybox binary of Debian's busybox-static."""
    tree = unpack(download(BUSYBOX_PACKAGE, progress), progress)
    binary = tree / "bin" / "busybox"
    if not binary.is_file():
        raise _fail("SEL764", f"{BUSYBOX_PACKAGE} has no /bin/busybox")
    return binary
