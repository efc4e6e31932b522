"""The patch series the lab builds a daemon with: its project's committed series, with every
generated patch regenerated from the specs the lab runs.

So the daemon the lab boots switches where, and loads the steady seccomp filter that, *these*
specs say, not the shipped ones: a spec changed for a lab run (a missing call, ``syscalls
default log``) is what runs. For the shipped specs the regenerated patches are the committed
bytes (``selkit patch --check``, tests/patch), so the build comes from the cache. A generated
patch whose spec is not among the lab's is kept as committed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from selkit.emit.seccomp import steady_filter
from selkit.ir import nodes as ir
from selkit.patch.requests import regenerate
from selkit.patch.series import read_series
from selkit.patch.udiff import SOURCE_ENCODING
from selkit.progress import Progress
from selkit.projects.build import PATCHES_ROOT, unpack
from selkit.projects.recipes import project as project_of

#: The author of a patch the lab generates for a series that has none to follow.
LAB_AUTHOR = "selkit lab <lab@selkit.invalid>"


def lab_series(project: str, modules: Sequence[ir.PolicyModule], workdir: Path,
               progress: Progress | None = None, *, filters: bool = True) -> list[Path]:
    """The series of ``project`` for ``modules`` (the lab's, compiled from its spec files),
    written into ``workdir``; the paths in order. ``filters=False``: the hooks load no
    seccomp filter (bench/lab_filter_pps.py's baseline; never a series to ship)."""
    recipe = project_of(project)
    return regenerated_series(PATCHES_ROOT / recipe.name, modules, workdir,
                              lambda dest: unpack(recipe, dest), progress, filters=filters,
                              label=project)


def regenerated_series(directory: Path, modules: Sequence[ir.PolicyModule], workdir: Path,
                       unpack_orig: Callable[[Path], Path], progress: Progress | None = None,
                       *, filters: bool = True, label: str = "",
                       required: Sequence[ir.PolicyModule] = ()) -> list[Path]:
    """The series in ``directory`` with each generated patch of a daemon among ``modules``
    regenerated against the original tree (``unpack_orig(dest)`` makes it), and one generated
    for each of ``required`` that has none yet, written into ``workdir``; the paths in
    order."""
    committed = read_series(directory)
    by_daemon = {m.daemon: m for m in modules}
    ours = [by_daemon[p.daemon] for p in committed if p.daemon in by_daemon]
    ours += [m for m in required if m.daemon not in {o.daemon for o in ours}]
    files = {p.name: p.text.encode(*SOURCE_ENCODING) for p in committed}
    if ours:
        if progress:
            progress(f"{label or directory.name}: regenerating the setcon() patches from the "
                     "lab's specs")
        with tempfile.TemporaryDirectory(prefix="selkit-orig-") as tmp:
            tree = unpack_orig(Path(tmp, "orig"))
            run = regenerate(tuple(dict.fromkeys(m.source_path for m in ours)), tuple(ours),
                             source=str(tree), series_dir=str(directory),
                             # A series with no patch yet gives no author to follow.
                             author=None if committed else LAB_AUTHOR,
                             steady={m.daemon: steady_filter(m) for m in ours},
                             seccomp=filters)
        for name in run.obsolete():
            files.pop(name, None)
        files.update(run.files())
    workdir.mkdir(parents=True, exist_ok=True)
    for name in sorted(files):
        (workdir / name).write_bytes(files[name])
    return [workdir / name for name in sorted(files)]
