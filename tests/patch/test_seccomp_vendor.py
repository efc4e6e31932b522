"""Every shipped daemon's generated patches, regenerated with a steady seccomp filter on top of
the committed hand-written ones: the series applies to the Debian orig tree, builds with
libselinux and -Wall without a warning the unpatched build lacks, and the daemon asked for a
context on this kernel (no SELinux) still exits non-zero with its message. Slow (real builds,
cached by input); the committed series are regenerated with filters once the specs carry a
syscall set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from series_specs import generated_specs

from selkit.compiler import front_end_files
from selkit.diagnostics import ToolchainError
from selkit.patch.requests import regenerate
from selkit.patch.series import read_series
from selkit.projects import PROJECTS, build, fetch_orig, new_warnings, run_check, unpack
from selkit.seccomp.bpf import generate

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "vendor-patches"
PROJECTS_WITH_SPECS = sorted(p for p in PROJECTS
                             if any(s.daemon for s in read_series(VENDOR / p)))


def _series_with_filters(kb, project: str, tmp_path: Path) -> tuple[list[Path], str]:
    """The committed series with its generated patches made with a filter, written to a
    directory; and the text of one steady header, to check it is in the tree."""
    try:
        tarball = fetch_orig(project)
    except ToolchainError as exc:
        pytest.skip(f"no network to the Debian archive and nothing cached: {exc}")
    existing = read_series(VENDOR / project)
    specs = tuple(str(ROOT / spec) for spec in generated_specs(VENDOR / project))
    _, modules = front_end_files(specs, kb)
    flt = generate(["read", "write", "exit_group"], "kill_process")
    tree = unpack(project, tmp_path / "orig", tarball)
    cwd = Path.cwd()
    os.chdir(ROOT)  # labels in the messages, as the committed patches write them
    try:
        run = regenerate(specs, modules, source=str(tree), series_dir=str(VENDOR / project),
                         steady={m.daemon: flt for m in modules}, seccomp=True)
    finally:
        os.chdir(cwd)
    out = tmp_path / "series"
    out.mkdir()
    files = {p.name: p.text.encode("utf-8", "surrogateescape") for p in existing
             if p.name not in {s.replaces.name for s in run.done if s.replaces}}
    files.update(run.files())
    for name, data in files.items():
        (out / name).write_bytes(data)
    assert all(s.hook is not None and s.hook.steady_text for s in run.done)
    return sorted(out.iterdir()), flt.sha256


@pytest.mark.parametrize("project", PROJECTS_WITH_SPECS)
def test_series_with_a_steady_filter_builds_and_fails_closed(kb, tmp_path, project):
    patches, sha = _series_with_filters(kb, project, tmp_path)
    assert any(sha in p.read_text("latin-1") for p in patches)
    try:
        unpatched = build(project, patched=False)
        patched = build(project, patches=patches)
    except ToolchainError as exc:
        if exc.diagnostics[0].code == "SEL521":
            pytest.skip(exc.diagnostics[0].message)
        raise
    assert new_warnings(unpatched.warnings, patched.warnings) == (), \
        f"new warnings with the filter (log: {patched.log})"
    if os.geteuid() != 0:
        return
    for check in PROJECTS[project].checks:
        result = run_check(patched.binaries[check.binary], check)
        assert result.returncode is not None and result.failed_closed(check.message), \
            result.output[-1500:]
