"""The vendor-patches/<project>/upstream-*/ series under each upstream's own CI, reproduced here
(selkit.projects.upstream): the snapshot of the development branch, ``git am`` of the series,
then each CI check on the patched tree, judged against the same check on the unpatched snapshot
(run when the patched one fails or warns): only a problem the snapshot does not have fails; one
it has too skips, saying so. Each patched daemon, asked for a context on this kernel (no
SELinux), must exit 1 naming SELinux and the context.

The snapshots are found through $SELKIT_UPSTREAM (default: shared/upstream beside the
repository); without them every such test skips, naming the folder. The pure parts at the top
run without builds (``make check``); the rest are vendor tests (``make test``), cached under
$SELKIT_CACHE/upstream, so a second run takes seconds. scripts/upstream-ci runs the same checks
from the command line.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from selkit.diagnostics import ToolchainError
from selkit.projects import PROJECTS
from selkit.projects.checks import CheckRun
from selkit.projects.clang_format import precommit_hook
from selkit.projects.upstream import (
    DEBIAN_PACKAGES,
    UPSTREAMS,
    CheckResult,
    StepResult,
    default_series,
    expand,
    format_targets,
    judge,
    judge_daemon,
    missing_snapshot,
    needs_baseline,
    prepare,
    run,
    run_daemon,
    series_files,
    snapshot_candidates,
    snapshots_dir,
    touched_files,
)

ROOT = Path(__file__).resolve().parents[2]

# --- pure parts: the matrix, the snapshot lookup, the parsers and the judge -----------------


@pytest.mark.parametrize("name", sorted(UPSTREAMS))
def test_the_matrix_of_each_upstream_is_well_formed(name):
    up = UPSTREAMS[name]
    assert up.project in PROJECTS
    names = [c.name for c in up.checks]
    assert len(set(names)) == len(names)
    for index, check in enumerate(up.checks):
        assert check.steps and check.reproduces
        if check.after:
            assert check.after in names[:index], f"{check.name} runs after a later check"
    for daemon in up.daemons:
        assert daemon.build in names and up.check(daemon.build).after is None
        assert "{context}" in " ".join(daemon.check.argv)
    assert len(set(up.check_names)) == len(up.check_names)


@pytest.mark.parametrize("name", sorted(UPSTREAMS))
def test_each_upstream_series_directory_has_patches(name):
    assert series_files(default_series(UPSTREAMS[name])), \
        f"no NNNN-*.patch in {default_series(UPSTREAMS[name])}"


def test_the_series_is_read_from_its_directory_not_a_list(tmp_path):
    for file in ("0002-b.patch", "0001-a.patch", "notes.patch", "0003-c.txt", "x.sel",
                 "0000-cover-letter.patch"):
        (tmp_path / file).write_text("")
    assert [p.name for p in series_files(tmp_path)] == ["0001-a.patch", "0002-b.patch"]


def test_the_snapshot_folder_is_one_setting(tmp_path):
    assert snapshots_dir({"SELKIT_UPSTREAM": str(tmp_path)}) == tmp_path
    assert snapshots_dir({}, repo=tmp_path / "repo") == tmp_path / "shared" / "upstream"
    assert snapshots_dir({"SELKIT_UPSTREAM": ""}, repo=tmp_path / "r") == \
        tmp_path / "shared" / "upstream"


def test_a_missing_snapshot_names_the_folder(tmp_path):
    up = UPSTREAMS["ptunnel"]
    gone = tmp_path / "nowhere"
    reason = missing_snapshot(up, gone)
    assert reason and str(gone) in reason and "SELKIT_UPSTREAM" in reason
    tmp_path.joinpath("ptunnel-0.72.tar.gz").write_text("")
    reason = missing_snapshot(up, tmp_path)
    assert reason and str(tmp_path) in reason and "ptunnel-ng-<commit>.tar.xz" in reason
    tmp_path.joinpath("ptunnel-ng-b1baa742c0e6.tar.xz").write_text("")
    assert missing_snapshot(up, tmp_path) is None
    tmp_path.joinpath("ptunnel-ng-0123456789ab.tar.xz").write_text("")
    assert "not one" in (missing_snapshot(up, tmp_path) or "")


def test_snapshot_names_are_matched_exactly():
    names = ["ptunnel-ng-b1baa742c0e6.tar.xz", "iodine-517d7298b084.tar.xz",
             "openvpn-3de926089fde.tar.xz", "openvpn-extra-3de926089fde.tar.xz", "README.md"]
    assert snapshot_candidates(names, "openvpn") == ("openvpn-3de926089fde.tar.xz",)
    assert snapshot_candidates(names, "ptunnel") == ()


PATCH = """\
From 0000 Mon Sep 17 00:00:00 2001
Subject: [PATCH] x

diff --git a/src/init.c b/src/init.c
index 1..2 100644
--- a/src/init.c
+++ b/src/init.c
@@ -1 +1 @@
-a
+b
diff --git a/src/setcon_fd.h b/src/setcon_fd.h
new file mode 100644
--- /dev/null
+++ b/src/setcon_fd.h
@@ -0,0 +1 @@
+x
diff --git a/old.c b/old.c
deleted file mode 100644
--- a/old.c
+++ /dev/null
@@ -1 +0,0 @@
-x
"""


def test_touched_files_are_read_from_the_patches():
    second = "diff --git a/doc/x.rst b/doc/x.rst\n--- a/doc/x.rst\n+++ b/doc/x.rst\n" \
             "diff --git a/src/init.c b/src/init.c\n"
    assert touched_files([PATCH, second]) == ("doc/x.rst", "src/init.c", "src/setcon_fd.h")


PRECOMMIT = """\
repos:
  - repo: https://example.invalid/pre-commit/pre-commit-hooks
    rev: v4.0.0
    hooks:
      - id: trailing-whitespace
  - repo: https://example.invalid/pre-commit/mirrors-clang-format
    rev: 'v21.1.8'
    hooks:
      - id: clang-format
        files: \\.[ch]$
        # preserve upstream formatting
        exclude: ^(src/compat/compat-lz4\\.[ch]|src/openvpn/ovpn_dco_(linux|win)\\.h)$
"""


def test_the_clang_format_hook_is_read_from_pre_commit_config():
    rev, files, exclude = precommit_hook(PRECOMMIT) or ("", "", "")
    assert rev == "21.1.8"
    touched = ("src/openvpn/init.c", "src/openvpn/setcon_fd.h", "src/compat/compat-lz4.c",
               "src/openvpn/ovpn_dco_linux.h", "doc/man-sections/generic-options.rst",
               "CMakeLists.txt")
    assert format_targets(touched, files, exclude) == ("src/openvpn/init.c",
                                                       "src/openvpn/setcon_fd.h")
    assert precommit_hook("repos: []\n") is None


def test_the_pinned_clang_format_is_the_dev_dependency():
    """pyproject's dev extra installs the clang-format wheel the OpenVPN snapshot pins."""
    text = (ROOT / "pyproject.toml").read_text()
    assert '"clang-format==21.1.8"' in text


def test_placeholders_are_expanded_and_an_unknown_one_is_an_error():
    assert expand(["make", "DESTDIR=@tree@/d", "@touched_c@"], {"tree": "/t", "touched_c": "a.c"}) \
        == ["make", "DESTDIR=/t/d", "a.c"]
    with pytest.raises(KeyError):
        expand(["@nope@"], {})


def _result(failed=None, warnings=(), errors=(), steps=3):
    return CheckResult("p", "c", True,
                       tuple(StepResult(f"step{i}", 0 if failed is None or i < failed else 2)
                             for i in range(steps)),
                       failed, tuple(warnings), Path("/nonexistent.log"), Path("/t"), 1.0,
                       errors=tuple(errors))


def test_a_clean_run_passes_without_a_baseline():
    clean = _result()
    assert not needs_baseline(clean)
    assert judge(clean, None).status == "pass"


def test_only_new_warnings_fail():
    patched = _result(warnings=["a.c: w [-Wx]", "b.c: v [-Wy]"])
    assert needs_baseline(patched)
    assert judge(patched, _result(warnings=["a.c: w [-Wx]", "b.c: v [-Wy]"])).status == "pass"
    verdict = judge(patched, _result(warnings=["a.c: w [-Wx]"]))
    assert verdict.status == "fail" and verdict.new_warnings == ("b.c: v [-Wy]",)
    assert "b.c: v [-Wy]" in verdict.message


def test_a_failure_the_snapshot_shares_is_upstream_unless_the_series_adds_errors():
    patched = _result(failed=1, errors=["common.c: static declaration of 'daemon'"])
    same = _result(failed=1, errors=["common.c: static declaration of 'daemon'"])
    verdict = judge(patched, same)
    assert verdict.status == "upstream" and "step 2 'step1'" in verdict.message
    assert judge(_result(failed=1), _result(failed=0)).status == "upstream"
    worse = _result(failed=1, errors=["common.c: static declaration of 'daemon'",
                                      "iodine.c: syslog.h: No such file or directory"])
    verdict = judge(worse, same)
    assert verdict.status == "fail" and "iodine.c: syslog.h" in verdict.message


def test_a_failure_the_snapshot_does_not_have_fails():
    verdict = judge(_result(failed=1), _result())
    assert verdict.status == "fail" and "unpatched snapshot passes" in verdict.message
    assert judge(_result(failed=1), _result(failed=2)).status == "fail"
    assert judge(_result(failed=1), None).status == "fail"


def test_the_daemon_must_exit_1_naming_selinux_and_the_context():
    ctx = "system_u:system_r:selkit_check_t:s0"
    said = f"prog: --setcon {ctx}: SELinux is disabled on this system\n"
    assert judge_daemon(CheckRun(("prog",), 1, said, ctx)).status == "pass"
    assert judge_daemon(CheckRun(("prog",), None, said, ctx)).status == "fail"
    assert judge_daemon(CheckRun(("prog",), 2, said, ctx)).status == "fail"
    assert judge_daemon(CheckRun(("prog",), -11, said, ctx)).status == "fail"
    assert judge_daemon(CheckRun(("prog",), 1, "usage: prog ...\n", ctx)).status == "fail"
    assert judge_daemon(CheckRun(("prog",), 1, "SELinux is disabled\n", ctx)).status == "fail"


def test_vendor_deps_installs_what_the_upstream_checks_need():
    script = (ROOT / "scripts" / "vendor-deps.sh").read_text()
    listed = set(script.split('PACKAGES="', 1)[1].split('"', 1)[0].split())
    assert set(DEBIAN_PACKAGES) - listed == set()


# --- integration: the snapshots, git am, the upstream CI, the daemons -------------------------

CHECKS = [(name, check) for name in sorted(UPSTREAMS)
          for check in (c.name for c in UPSTREAMS[name].checks)]
DAEMONS = [(name, daemon.name) for name in sorted(UPSTREAMS)
           for daemon in UPSTREAMS[name].daemons]


def _need_snapshot(project: str) -> None:
    reason = missing_snapshot(UPSTREAMS[project], snapshots_dir())
    if reason:
        pytest.skip(reason)


def _toolchain(call):
    """``call()``, turning SEL521 (a tool or the pinned clang-format missing) and the others
    into a failure that says which."""
    try:
        return call()
    except ToolchainError as exc:
        d = exc.diagnostics[0]
        pytest.fail(f"{d.code}: {d.message}" + (f"\n{d.hint}" if d.hint else ""))


@pytest.mark.parametrize("project", sorted(UPSTREAMS))
def test_the_series_applies_to_the_snapshot_with_git_am(project):
    _need_snapshot(project)
    up = UPSTREAMS[project]
    prepared = _toolchain(lambda: prepare(up, patched=True))
    assert prepared.patches == tuple(p.name for p in series_files(default_series(up)))
    assert prepared.tree.is_dir()


@pytest.mark.parametrize("project,check", CHECKS, ids=[f"{p}-{c}" for p, c in CHECKS])
def test_the_series_passes_the_upstream_ci_check(project, check):
    _need_snapshot(project)
    up = UPSTREAMS[project]
    patched = _toolchain(lambda: run(up, check, patched=True))
    unpatched = _toolchain(lambda: run(up, check, patched=False)) \
        if needs_baseline(patched) else None
    verdict = judge(patched, unpatched)
    what = f"{project} {check} ({up.check(check).reproduces})"
    if verdict.status == "upstream":
        pytest.skip(f"{what}: upstream's own failure, not the series': {verdict.message}")
    assert verdict.status == "pass", (
        f"{what}: {verdict.message}\n--- log {patched.log} (last lines) ---\n"
        f"{patched.log_tail(60)}")


_needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                 reason="needs root: the daemons open tun devices and chroot")


@_needs_root
@pytest.mark.parametrize("project,check", DAEMONS, ids=[f"{p}-{c}" for p, c in DAEMONS])
def test_the_patched_upstream_daemon_fails_closed(project, check):
    _need_snapshot(project)
    up = UPSTREAMS[project]
    result = _toolchain(lambda: run_daemon(up, check, patched=True))
    verdict = judge_daemon(result)
    assert verdict.status == "pass", \
        f"{project} {check}: {verdict.message}\n$ {' '.join(result.command)}\n" \
        f"{result.output[-1500:]}"
