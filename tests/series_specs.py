"""Which spec regenerates each generated patch of a committed series under vendor-patches/.

A generated patch names only its daemon (its subject); the spec is the ``.sel`` of the series'
own directory that declares that daemon, else the one under policies/.
"""

from __future__ import annotations

import re
from pathlib import Path

from selkit.patch.series import read_series

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "vendor-patches"
_DAEMON = re.compile(r"^daemon\s+(\S+)\s*\{", re.M)


def spec_for(daemon: str, directory: Path) -> Path:
    """The spec declaring ``daemon``: in ``directory`` first, else in policies/."""
    for folder in (directory, ROOT / "policies"):
        for spec in sorted(folder.glob("*.sel")):
            if daemon in _DAEMON.findall(spec.read_text()):
                return spec
    raise LookupError(f"no spec declares daemon {daemon!r} for {directory}")


def generated_specs(directory: Path) -> list[str]:
    """The specs of the series' generated patches, in file order, relative to the root."""
    return [spec_for(p.daemon, directory).relative_to(ROOT).as_posix()
            for p in read_series(directory) if p.daemon]


def series_dirs() -> list[Path]:
    """Every series directory with a generated patch: vendor-patches/PROJECT[/upstream-*]."""
    found = [d for d in sorted(VENDOR.glob("*")) + sorted(VENDOR.glob("*/upstream-*"))
             if d.is_dir() and any(p.daemon for p in read_series(d))]
    return sorted(found)


def upstream_root() -> Path:
    """Where the upstream snapshots are: $SELKIT_UPSTREAM, else shared/upstream beside the
    repository."""
    import os

    return Path(os.environ.get("SELKIT_UPSTREAM") or ROOT.parent / "shared" / "upstream")


def snapshot_name(series: Path) -> str:
    """The upstream project a ``PROJECT/upstream-BRANCH`` series is for: BRANCH when it names
    another project (upstream-ptunnel-ng), else PROJECT (upstream-master)."""
    branch = series.name.removeprefix("upstream-")
    return series.parent.name if branch == "master" else branch


def unpack_snapshot(series: Path, dest: Path) -> Path:
    """The snapshot of ``series``' upstream unpacked into ``dest``; pytest.skip, naming the
    folder, when the snapshots are absent."""
    import subprocess

    import pytest

    root = upstream_root()
    found = sorted(root.glob(f"{snapshot_name(series)}-*.tar.xz"))
    if not found:
        pytest.skip(f"no upstream snapshot of {snapshot_name(series)} in {root} (set "
                    "SELKIT_UPSTREAM to the folder of git-archive tarballs)")
    dest.mkdir(parents=True)
    subprocess.run(["tar", "-xf", str(found[-1]), "-C", str(dest), "--strip-components=1"],
                   check=True)
    return dest
