"""The private security series for iodine (vendor-patches/iodine/security/, reported in
docs/advisories/iodine-tun-setip-command-injection.md), checked on the snapshot of iodine's
master branch: the series applies with ``git am``, iodine's own ``make test`` passes with it,
and the regression test it adds fails on unpatched master, naming the injected command line,
while nothing is run (the test replaces system()).

The snapshot is found through $SELKIT_UPSTREAM (default: the folder shared/upstream next to
the repository); without it these tests skip and name the missing folder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from selkit.projects import upstream
from selkit.projects.patchfiles import touched_files

ROOT = Path(__file__).resolve().parents[2]
SERIES = ROOT / "vendor-patches" / "iodine" / "security"
#: The login reply's client address in the report; the first of the test's bad addresses.
PAYLOAD = "10.53.0.2 ;id>x;:"
#: src/Makefile's CFLAGS and src/osflags' for windows32, to compile src/tun.c with MinGW.
WINDOWS_CFLAGS = ["-std=c99", "-c", "-g", "-Wall", "-DWINDOWS32", "-pedantic", "-DWINVER=0x0501",
                  "-Wstrict-prototypes", "-Wtype-limits", "-Wmissing-declarations",
                  "-Wmissing-prototypes"]


@pytest.fixture(scope="module")
def snapshot() -> Path:
    """The snapshot tarball of iodine's master branch (skips, naming the folder, when absent)."""
    up, folder = upstream.UPSTREAMS["iodine"], upstream.snapshots_dir()
    reason = upstream.missing_snapshot(up, folder)
    if reason:
        pytest.skip(reason)
    return upstream.snapshot_tarball(up, folder)


def _patches() -> tuple[list[Path], list[Path]]:
    """(the fix, the tests): the series' patches that change src/, and those that change only
    tests/."""
    patches = sorted(SERIES.glob("*.patch"))
    tests = [p for p in patches
             if all(f.startswith("tests/") for f in touched_files([p.read_text()]))]
    return [p for p in patches if p not in tests], tests


def _run(argv: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, **kwargs)


def _tree(tarball: Path, dest: Path, patches: list[Path]) -> Path:
    """The snapshot unpacked into dest, a git repository with ``patches`` applied by git am."""
    tree = upstream.unpack_snapshot(tarball, dest / "iodine")
    upstream.apply_with_git_am(tree, patches)
    return tree


def _make_test(tree: Path) -> subprocess.CompletedProcess:
    """iodine's ``make test`` (builds src/ and tests/, runs the suite)."""
    if _run(["pkg-config", "--exists", "check"], tree).returncode != 0:
        pytest.fail("libcheck is not installed (run sh scripts/vendor-deps.sh)")
    return _run(["make", "test"], tree, env=dict(os.environ, LC_ALL="C"))


def _summary(output: str) -> tuple[int, int, int]:
    """(checks, failures, errors) from libcheck's summary line."""
    found = re.search(r"Checks: (\d+), Failures: (\d+), Errors: (\d+)", output)
    assert found, output[-3000:]
    checks, failures, errors = map(int, found.groups())
    return checks, failures, errors


def _tun_case(tree: Path) -> str:
    """The suite's output for its Tun test case alone (libcheck's CK_RUN_CASE)."""
    run = _run(["./test"], tree / "tests", env=dict(os.environ, CK_RUN_CASE="Tun"))
    return run.stdout + run.stderr


# --- the series itself: no build ------------------------------------------------------------


def test_the_series_is_a_fix_in_tun_c_and_a_test_in_tests():
    fix, tests = _patches()
    assert [p.name[:5] for p in fix + tests] == ["0001-", "0002-"], \
        "expected 0001 (the fix) and 0002 (its regression test)"
    assert set(touched_files(p.read_text() for p in fix)) == {"src/tun.c"}
    assert set(touched_files(p.read_text() for p in tests)) == {"tests/Makefile", "tests/test.c",
                                                  "tests/test.h", "tests/tun.c"}
    assert f'"{PAYLOAD}",' in tests[0].read_text()


# --- on the snapshot ------------------------------------------------------------------------


def test_the_series_applies_and_iodines_tests_pass(snapshot, tmp_path):
    fix, tests = _patches()
    tree = _tree(snapshot, tmp_path / "patched", fix + tests)
    made = _make_test(tree)
    output = made.stdout + made.stderr
    assert made.returncode == 0, output[-3000:]
    checks, failures, errors = _summary(output)
    assert (failures, errors) == (0, 0) and checks > 0, output[-3000:]
    tun = _tun_case(tree)
    assert _summary(tun) == (14, 0, 0), tun[-3000:]
    assert f"Invalid IP: {PAYLOAD}!" in tun
    assert not (tree / "tests" / "x").exists()


def test_the_regression_test_fails_on_unpatched_master(snapshot, tmp_path):
    """Only the test patch applied: the bad addresses are accepted and reach the ifconfig
    command line as they are (recorded by the test's system(), never run)."""
    _, tests = _patches()
    tree = _tree(snapshot, tmp_path / "unpatched", tests)
    made = _make_test(tree)
    output = made.stdout + made.stderr
    assert made.returncode != 0, output[-3000:]
    checks, failures, errors = _summary(output)
    assert (failures, errors) == (12, 0), output[-3000:]
    injected = (f':F:Tun:test_tun_setip_bad_ip:0: tun_setip() accepted "{PAYLOAD}" and ran: '
                f"PATH=/sbin:/bin ifconfig  {PAYLOAD} {PAYLOAD} netmask 255.255.255.224")
    assert injected in output, output[-3000:]
    assert output.count(":F:Tun:test_tun_setip_bad_ip:") == 6
    assert output.count(":F:Tun:test_tun_setip_bad_other_ip:") == 6
    assert ":F:" not in output.replace(":F:Tun:test_tun_setip_bad_", ""), \
        "only the bad-address tests may fail on master"
    assert not (tree / "tests" / "x").exists(), "the test's system() let a command run"


@pytest.mark.parametrize("compiler", ["x86_64-w64-mingw32-gcc", "i686-w64-mingw32-gcc"])
def test_the_fix_compiles_for_windows_without_warnings(snapshot, tmp_path, compiler):
    """src/tun.c, patched, with the flags of iodine's Windows build (no zlib needed)."""
    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} is not installed (Debian: gcc-mingw-w64)")
    fix, _ = _patches()
    tree = _tree(snapshot, tmp_path / "windows", fix)
    built = _run([compiler, *WINDOWS_CFLAGS, "tun.c", "-o", str(tmp_path / "tun.o")],
                 tree / "src")
    assert built.returncode == 0 and "warning" not in built.stderr, built.stderr
