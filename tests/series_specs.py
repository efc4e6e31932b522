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


def unpack_snapshot(series: Path, dest: Path) -> Path:
    """The snapshot of the upstream ``series`` is for, unpacked into ``dest``; pytest.skip,
    naming the folder, when the snapshots are absent (selkit.projects.upstream finds them)."""
    import pytest

    from selkit.projects import upstream

    up = upstream.upstream_of_series(series)
    assert up is not None, f"{series} is no upstream series of selkit.projects.upstream"
    folder = upstream.snapshots_dir()
    reason = upstream.missing_snapshot(up, folder)
    if reason:
        pytest.skip(reason)
    return upstream.unpack_snapshot(upstream.snapshot_tarball(up, folder), dest)
