"""Download, unpack, patch and build an upstream project, cached by the hash of its inputs.

A build lives in ``$SELKIT_CACHE/vendor/<project>-<key>/`` where ``key`` hashes the orig
tarball, the name and bytes of every patch applied, and the recipe. It is made in a temporary
directory beside it and renamed into place, so a reader never sees half a build and a second
call with the same inputs returns at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from selkit.cache import cache_root, rename_into_place
from selkit.diagnostics import Diagnostic, ToolchainError
from selkit.progress import Progress
from selkit.projects.compile_warnings import parse_warnings
from selkit.projects.patchfiles import series_files
from selkit.projects.recipes import CFLAGS, Project
from selkit.projects.recipes import project as _project

#: Bump when the layout of a cached build changes, so old entries are not read.
_CACHE_FORMAT = "2"

REPO_ROOT = Path(__file__).resolve().parents[2]
PATCHES_ROOT = REPO_ROOT / "vendor-patches"
APT_SOURCE = REPO_ROOT / "scripts" / "apt-source.sh"


@dataclass(frozen=True)
class Build:
    """A finished build. ``binaries`` maps program name to its path in the cached tree;
    ``warnings`` are the compiler's, normalised (see :mod:`selkit.projects.compile_warnings`);
    ``patches`` the file names applied, in order; ``tree`` the built source tree."""

    project: str
    binaries: dict[str, Path]
    warnings: tuple[str, ...]
    log: Path
    patches: tuple[str, ...] = ()
    tree: Path | None = None
    key: str = ""

    @property
    def patched(self) -> bool:
        """Whether any patch was applied."""
        return bool(self.patches)


def recipe_of(project: str | Project) -> Project:
    """``project`` itself, or the known project of that name (SEL520 when unknown)."""
    return project if isinstance(project, Project) else _project(project)


def series(project: str) -> tuple[Path, ...]:
    """The committed patch series of ``project``, in file-name order (may be empty)."""
    return series_files(PATCHES_ROOT / _project(project).name)


def tool_error(code: str, message: str, hint: str | None = None) -> ToolchainError:
    """A toolchain error (exit 1) with one diagnostic."""
    return ToolchainError([Diagnostic(code, message, hint=hint)])


def last_lines(text: str, lines: int = 15) -> str:
    """The last ``lines`` lines of ``text``, for a message."""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def fetch_orig(project: str | Project) -> Path:
    """The orig tarball of ``project`` from its Debian bookworm source package (cached).

    Uses scripts/apt-source.sh --download-only, which derives the deb-src entry from the
    machine's own apt sources at run time."""
    spec = recipe_of(project)
    env = dict(os.environ, SELKIT_CACHE=str(cache_root()))
    result = subprocess.run(["sh", str(APT_SOURCE), "--download-only", spec.source_package],
                            capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise tool_error("SEL522", f"cannot download the source package {spec.source_package}: "
                    f"{last_lines(result.stderr, 3)}", hint="needs network access to the Debian "
                    "archive named in /etc/apt/sources.list.d/debian.sources")
    tarball = Path(result.stdout.strip().splitlines()[-1]) / spec.orig
    if not tarball.is_file():
        raise tool_error("SEL522", f"{spec.source_package}: the download has no {spec.orig}")
    return tarball


def unpack(project: str | Project, dest: Path, tarball: Path | None = None) -> Path:
    """Unpack the orig tarball into ``dest`` (which must not exist) without its top directory;
    returns ``dest``."""
    spec = recipe_of(project)
    return unpack_tarball(tarball or fetch_orig(project), spec.top_dir, Path(dest), "SEL522")


def unpack_tarball(tarball: Path, top_dir: str, dest: Path, code: str) -> Path:
    """Unpack ``tarball`` and move its directory ``top_dir`` to ``dest`` (which must not
    exist); ``code`` is the diagnostic when it cannot (a broken tarball, no such directory)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=dest.parent))
    try:
        result = subprocess.run(["tar", "-xf", str(tarball), "-C", str(staging),
                                 "--no-same-owner"], capture_output=True, text=True)
        if result.returncode != 0:
            raise tool_error(code, f"cannot unpack {tarball.name}: {last_lines(result.stderr, 3)}")
        top = staging / top_dir
        if not top.is_dir():
            raise tool_error(code, f"{tarball.name} has no top directory {top_dir}")
        top.rename(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest


def apply_series(tree: Path, patches: Iterable[Path]) -> None:
    """Apply each patch with ``patch -p1`` in order; SEL523 names the first that fails."""
    for patch in patches:
        result = subprocess.run(
            ["patch", "-p1", "--forward", "--batch", "--no-backup-if-mismatch", "-i",
             str(Path(patch).resolve())],
            cwd=tree, capture_output=True, text=True)
        if result.returncode != 0:
            raise tool_error("SEL523", f"{Path(patch).name} does not apply with patch -p1: "
                        f"{last_lines(result.stdout + result.stderr, 4)}")


#: The modification time every file of a patched tree gets (2000-01-01 UTC).
_SOURCE_EPOCH = 946684800


def settle_timestamps(tree: Path) -> None:
    """Give every file and directory of ``tree`` the same modification time.

    ``patch`` stamps the files it touches with the current time, so a series that changes
    configure.in and configure (or Makefile.am and Makefile.in) leaves the sources newer or
    older than their generated files depending on the order of the diffs, and make then reruns
    autoconf or autoheader, or not, depending on whether they are installed. With one time
    for all, make regenerates nothing and the build is the same on every machine."""
    for root, dirs, files in os.walk(tree):
        for name in dirs + files:
            os.utime(os.path.join(root, name), (_SOURCE_EPOCH, _SOURCE_EPOCH),
                     follow_symlinks=False)
    os.utime(tree, (_SOURCE_EPOCH, _SOURCE_EPOCH))


def cache_key(spec: Project, source: Path, patches: Sequence[Path]) -> str:
    """Hash of the source (the orig tarball, or every file of a source tree), every patch's
    name and bytes, and the recipe."""
    digest = hashlib.sha256()
    digest.update(f"selkit-vendor {_CACHE_FORMAT}\n".encode())
    if source.is_dir():
        for path in sorted(p for p in source.rglob("*")
                           if ".git" not in p.relative_to(source).parts):
            if path.is_file() and not path.is_symlink():
                digest.update(str(path.relative_to(source)).encode() + b"\0")
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    else:
        digest.update(hashlib.sha256(source.read_bytes()).digest())
    for patch in patches:
        digest.update(Path(patch).name.encode() + b"\0")
        digest.update(hashlib.sha256(Path(patch).read_bytes()).digest())
    digest.update(spec.recipe().encode())
    return digest.hexdigest()[:20]


def missing_build_depends(project: str | Project) -> tuple[str, ...]:
    """The Debian packages the build of ``project`` needs that are not installed."""
    missing = []
    for package in recipe_of(project).build_depends:
        result = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package],
                                capture_output=True, text=True)
        if "install ok installed" not in result.stdout:
            missing.append(package)
    return tuple(missing)


def _run_recipe(spec: Project, tree: Path, log: Path, progress: Progress | None) -> str:
    env = dict(os.environ, LC_ALL="C", LANG="C")
    env.pop("MAKEFLAGS", None)
    if spec.env_cflags:
        env["CFLAGS"] = CFLAGS
    else:
        env.pop("CFLAGS", None)
    text = []
    for step in spec.steps:
        if progress:
            progress(f"{spec.name}: {' '.join(step[:2])}")
        result = subprocess.run(list(step), cwd=tree, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace")
        text.append(f"$ {' '.join(step)}\n{result.stdout}")
        log.write_text("".join(text))
        if result.returncode != 0:
            raise tool_error("SEL524", f"{spec.name}: '{' '.join(step)}' failed "
                        f"(exit {result.returncode}):\n{last_lines(result.stdout)}",
                        hint=f"full log: {log}")
    return "".join(text)


def _load(directory: Path) -> Build:
    manifest = json.loads((directory / "build.json").read_text())
    tree = directory / "tree"
    return Build(project=manifest["project"],
                 binaries={name: tree / rel for name, rel in manifest["binaries"].items()},
                 warnings=tuple(manifest["warnings"]), log=directory / "build.log",
                 patches=tuple(manifest["patches"]), tree=tree, key=manifest["key"])


def build(project: str | Project, *, patched: bool = True,
          patches: Sequence[Path] | None = None, progress: Progress | None = None,
          source_tree: Path | None = None) -> Build:
    """Build ``project`` (a known project's name, or a recipe) from its orig tarball, or from
    a copy of ``source_tree``, with its committed series when ``patched`` (or exactly
    ``patches`` when given, e.g. a prefix of the series), with libselinux and -Wall. Cached by
    input hash; raises ToolchainError (SEL52x) on any failure."""
    spec = recipe_of(project)
    chosen = tuple(Path(p) for p in patches) if patches is not None else \
        (series(spec.name) if patched else ())
    source = Path(source_tree) if source_tree is not None else fetch_orig(spec)
    key = cache_key(spec, source, chosen)
    vendor = cache_root() / "vendor"
    final = vendor / f"{spec.name}-{key}"
    if (final / "build.json").is_file():
        return _load(final)

    missing = missing_build_depends(spec)
    if missing:
        raise tool_error("SEL521", f"{spec.name}: build dependencies not installed: "
                    f"{' '.join(missing)}", hint="run 'sh scripts/vendor-deps.sh' as root")
    vendor.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{spec.name}-{key}-", dir=vendor))
    try:
        if progress:
            progress(f"{spec.name}: unpacking {source.name}")
        if source.is_dir():
            tree = work / "tree"
            shutil.copytree(source, tree, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        else:
            tree = unpack(spec, work / "tree", source)
        if chosen and progress:
            progress(f"{spec.name}: applying {len(chosen)} patch(es)")
        apply_series(tree, chosen)
        settle_timestamps(tree)
        # The log is written beside the work directory, so that it survives a failed build
        # (the hint names it); a finished build moves it inside.
        log = vendor / f"{spec.name}-{key}.log"
        text = _run_recipe(spec, tree, log, progress)
        binaries = {}
        for name, rel in spec.binaries:
            if not (tree / rel).is_file():
                raise tool_error("SEL525", f"{spec.name}: the build made no {rel}",
                            hint=f"full log: {log}")
            binaries[name] = rel
        log.rename(work / "build.log")
        manifest = {"project": spec.name, "key": key,
                    "patches": [p.name for p in chosen], "binaries": binaries,
                    "warnings": list(parse_warnings(text, [str(tree), str(tree.resolve())]))}
        (work / "build.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        rename_into_place(work, final, "build.json")
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return _load(final)


def debian_binary(package: str, path: str) -> Path:
    """``path`` (e.g. /usr/sbin/iodined) from Debian's own binary package ``package`` of this
    release, downloaded with ``apt-get download`` and unpacked with ``dpkg-deb -x`` into the
    cache; never installed. Used to show how Debian's build behaves next to the patched one."""
    env = dict(os.environ, SELKIT_CACHE=str(cache_root()))
    result = subprocess.run(["sh", str(APT_SOURCE), "--deb", package], capture_output=True,
                            text=True, env=env)
    if result.returncode != 0 or not result.stdout.strip():
        raise tool_error("SEL522", f"cannot download the binary package {package}: "
                    f"{last_lines(result.stderr, 3)}")
    deb = Path(result.stdout.strip().splitlines()[-1])
    root = cache_root() / "debian" / deb.stem
    if not root.is_dir():
        root.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{deb.stem}-", dir=root.parent))
        try:
            unpacked = subprocess.run(["dpkg-deb", "-x", str(deb), str(staging)],
                                      capture_output=True, text=True)
            if unpacked.returncode != 0:
                raise tool_error("SEL522",
                                 f"dpkg-deb -x {deb.name}: {last_lines(unpacked.stderr, 3)}")
            rename_into_place(staging, root)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    binary = root / path.lstrip("/")
    if not binary.is_file():
        raise tool_error("SEL522", f"{deb.name} has no {path}")
    return binary
