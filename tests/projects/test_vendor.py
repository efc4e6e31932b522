"""The vendor-patches series, verified for real: Debian's orig tarballs, ``patch -p1`` and
``git am``, builds of every prefix of each series with libselinux and -Wall (no new warnings),
and each patched daemon asked for a context on this kernel, which has no SELinux: it must exit
non-zero with a clear message, where Debian's iodined warns and carries on.

Builds are cached under $SELKIT_CACHE/vendor (keyed by input hashes), so a second run takes
seconds. Skips only without root (the daemons need it to reach their privilege drop) or without
network to the Debian archive (when nothing is cached yet).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from selkit.diagnostics import ToolchainError
from selkit.projects import (
    PROJECTS,
    apply_series,
    build,
    cache_key,
    debian_binary,
    fetch_orig,
    new_warnings,
    parse_warnings,
    project,
    run_check,
    series,
    unpack,
)

# --- pure parts: no network, no builds --------------------------------------------------------


def test_warnings_drop_line_numbers_and_the_build_directory():
    log = ("/tmp/b1/tree/src/tun.c:120:5: warning: unused variable 'x' [-Wunused-variable]\n"
           "  120 |     int x;\n"
           "iodined.c:2400:3: warning: 'strncpy' output truncated [-Wstringop-truncation]\n"
           "/usr/bin/ld: warning: foo.o: missing .note.GNU-stack section\n"
           "autoheader: warning: autoconf input should be named 'configure.ac'\n"
           "make: warning: jobserver unavailable\n"
           "CC tun.c\n")
    assert parse_warnings(log, ["/tmp/b1/tree"]) == (
        "/usr/bin/ld: foo.o: missing .note.GNU-stack section",
        "iodined.c: 'strncpy' output truncated [-Wstringop-truncation]",
        "src/tun.c: unused variable 'x' [-Wunused-variable]",
    )


def test_a_moved_warning_is_not_new_but_a_second_copy_is():
    before = parse_warnings("a.c:10:1: warning: w [-Wx]\n")
    moved = parse_warnings("a.c:25:1: warning: w [-Wx]\n")
    doubled = parse_warnings("a.c:25:1: warning: w [-Wx]\na.c:40:1: warning: w [-Wx]\n")
    assert new_warnings(before, moved) == ()
    assert new_warnings(before, doubled) == ("a.c: w [-Wx]",)
    assert new_warnings(doubled, before) == ()


def test_the_cache_key_follows_every_input(tmp_path):
    tarball = tmp_path / "x.orig.tar.gz"
    tarball.write_bytes(b"tarball")
    first = tmp_path / "0001-a.patch"
    first.write_text("one\n")
    spec = project("iodine")
    key = cache_key(spec, tarball, [first])
    assert cache_key(spec, tarball, [first]) == key
    assert cache_key(spec, tarball, []) != key
    assert cache_key(project("ptunnel"), tarball, [first]) != key
    first.write_text("one, changed\n")
    assert cache_key(spec, tarball, [first]) != key
    renamed = tmp_path / "0002-a.patch"
    renamed.write_text("one\n")
    first.write_text("one\n")
    assert cache_key(spec, tarball, [renamed]) != key


def test_every_check_runs_a_binary_the_project_builds():
    for spec in PROJECTS.values():
        built = {name for name, _ in spec.binaries}
        assert {check.binary for check in spec.checks} <= built, spec.name


def test_vendor_deps_installs_every_build_dependency():
    """scripts/vendor-deps.sh keeps its own package list; it must cover each recipe's."""
    script = (Path(__file__).resolve().parents[2] / "scripts" / "vendor-deps.sh").read_text()
    listed = set(script.split('PACKAGES="', 1)[1].split('"', 1)[0].split())
    needed = {package for spec in PROJECTS.values() for package in spec.build_depends}
    assert needed - listed == set()


# --- integration: Debian's tarballs, real patch/git/gcc, real daemons -------------------------

_needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                 reason="needs root: the daemons open tun devices and chroot")


def _orig(name: str) -> Path:
    try:
        return fetch_orig(name)
    except ToolchainError as exc:
        pytest.skip(f"no network to the Debian archive and nothing cached: {exc}")


def _build(name: str, **kwargs):
    _orig(name)
    return build(name, **kwargs)


PREFIXES = [(name, k) for name in sorted(PROJECTS) for k in range(1, len(series(name)) + 1)]


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_each_project_has_a_series(name):
    assert series(name), f"vendor-patches/{name}/ has no patches"


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_the_series_applies_with_patch_and_with_git_am_alike(name, tmp_path):
    patches = series(name)
    if not patches:
        pytest.fail(f"vendor-patches/{name}/ has no patches")
    tarball = _orig(name)
    with_patch = unpack(name, tmp_path / "patch", tarball)
    apply_series(with_patch, patches)

    with_git = unpack(name, tmp_path / "git", tarball)
    git = ["git", "-c", "user.name=selkit", "-c", "user.email=selkit@invalid",
           "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false"]
    for argv in (["init", "-q"], ["add", "-A", "-f"], ["commit", "-q", "-m", "orig"],
                 ["am", "-q", "--keep-cr", *map(str, patches)]):
        result = subprocess.run(git + argv, cwd=with_git, capture_output=True, text=True)
        assert result.returncode == 0, f"git {argv[0]}: {result.stdout}{result.stderr}"
    log = subprocess.run(git + ["log", "--format=%s", "HEAD"],
                         cwd=with_git, capture_output=True, text=True).stdout.splitlines()
    assert len(log) == len(patches) + 1
    shutil.rmtree(with_git / ".git")
    diff = subprocess.run(["diff", "-r", "--no-dereference", str(with_patch), str(with_git)],
                          capture_output=True, text=True)
    assert diff.returncode == 0, diff.stdout[-2000:]


def test_a_patch_that_does_not_apply_is_named(tmp_path):
    tree = unpack("ptunnel", tmp_path / "tree", _orig("ptunnel"))
    broken = tmp_path / "0001-broken.patch"
    broken.write_text("--- a/ptunnel.c\n+++ b/ptunnel.c\n@@ -1,1 +1,1 @@\n-no such line\n"
                      "+x\n")
    with pytest.raises(ToolchainError) as info:
        apply_series(tree, [broken])
    assert info.value.diagnostics[0].code == "SEL523"
    assert "0001-broken.patch" in info.value.diagnostics[0].message


@pytest.mark.parametrize("name,count", PREFIXES,
                         ids=[f"{n}-{k}-of-{len(series(n))}" for n, k in PREFIXES])
def test_each_prefix_of_the_series_builds_without_new_warnings(name, count):
    unpatched = _build(name, patched=False)
    patched = _build(name, patches=series(name)[:count])
    assert patched.patches == tuple(p.name for p in series(name)[:count])
    for program, path in patched.binaries.items():
        assert path.is_file() and os.access(path, os.X_OK), program
    assert new_warnings(unpatched.warnings, patched.warnings) == (), \
        f"new warnings after {patched.patches[-1]} (log: {patched.log})"


def test_a_second_build_comes_from_the_cache():
    first = _build("ptunnel", patched=False)
    stamp = first.log.stat().st_mtime_ns
    again = build("ptunnel", patched=False)
    assert again == first and again.log.stat().st_mtime_ns == stamp


CHECKS = [(name, index) for name in sorted(PROJECTS)
          for index in range(len(PROJECTS[name].checks))]


@_needs_root
@pytest.mark.parametrize("name,index", CHECKS,
                         ids=[f"{n}-{PROJECTS[n].checks[i].binary}" for n, i in CHECKS])
def test_the_patched_daemon_refuses_a_context_without_selinux(name, index):
    if not series(name):
        pytest.fail(f"vendor-patches/{name}/ has no patches")
    check = PROJECTS[name].checks[index]
    run = run_check(_build(name).binaries[check.binary], check)
    assert run.returncode is not None, \
        f"still running after {check.timeout}s (fail-open):\n{run.output[-1500:]}"
    assert run.failed_closed(check.message), \
        f"exit {run.returncode}, expected non-zero and {check.message!r}:\n{run.output[-1500:]}"


@_needs_root
@pytest.mark.parametrize("name,index", CHECKS,
                         ids=[f"{n}-{PROJECTS[n].checks[i].binary}" for n, i in CHECKS])
def test_the_check_fails_on_the_unpatched_daemon(name, index):
    """Each check can fail: the unpatched build (same libselinux, same flags) carries on, exits
    without the message, or rejects the option, but never passes it."""
    check = dataclasses.replace(PROJECTS[name].checks[index], timeout=3.0)
    run = run_check(_build(name, patched=False).binaries[check.binary], check)
    assert not run.failed_closed(check.message), run.output[-1500:]


@_needs_root
def test_debian_iodined_fails_open_where_the_patched_one_exits():
    """Debian's iodined has no SELinux support: given -z it warns and serves on."""
    check = PROJECTS["iodine"].checks[0]
    try:
        debian = debian_binary("iodine", "/usr/sbin/iodined")
    except ToolchainError as exc:
        pytest.skip(f"no network to the Debian archive: {exc}")
    carried_on = run_check(debian, check, wait_for="No SELinux support built in", linger=2.0)
    assert "No SELinux support built in" in carried_on.output, carried_on.output
    assert carried_on.returncode is None, \
        f"Debian's iodined exited ({carried_on.returncode}) instead of carrying on"

    patched = run_check(_build("iodine").binaries["iodined"], check)
    assert patched.failed_closed(check.message), patched.output


def test_openvpn_cmake_build_enables_selinux(tmp_path):
    """The CMake build offers ENABLE_SELINUX and links libselinux (unpatched 2.6.14 defines
    the macro from config.h.cmake.in but never links the library: undefined setcon)."""
    if shutil.which("cmake") is None:
        pytest.fail("cmake is not installed (run sh scripts/vendor-deps.sh)")
    tree = unpack("openvpn", tmp_path / "src", _orig("openvpn"))
    apply_series(tree, series("openvpn"))  # the whole series, built with CMake's -Werror
    out = tmp_path / "build"
    configure = subprocess.run(
        ["cmake", "-S", str(tree), "-B", str(out), "-DUNSUPPORTED_BUILDS=ON",
         "-DENABLE_LZ4=OFF", "-DENABLE_LZO=OFF", "-DENABLE_PKCS11=OFF", "-DBUILD_TESTING=OFF",
         "-DENABLE_SELINUX=ON"], capture_output=True, text=True)
    assert configure.returncode == 0, configure.stdout[-2000:] + configure.stderr[-2000:]
    assert "#define ENABLE_SELINUX" in (out / "config.h").read_text()
    made = subprocess.run(["cmake", "--build", str(out), "-j2"], capture_output=True, text=True)
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-2000:]
    linked = subprocess.run(["ldd", str(out / "openvpn")], capture_output=True, text=True)
    assert "libselinux.so" in linked.stdout


def test_a_build_that_fails_is_reported_with_its_log_and_not_cached(tmp_path):
    _orig("ptunnel")
    breaking = tmp_path / "0001-break-the-build.patch"
    breaking.write_text("--- a/md5.h\n+++ b/md5.h\n@@ -1,1 +1,2 @@\n"
                        f"+#error selkit test {tmp_path.name}\n"
                        + " " + (_unpacked_first_line("ptunnel", "md5.h", tmp_path)) + "\n")
    with pytest.raises(ToolchainError) as info:
        build("ptunnel", patches=[breaking])
    diagnostic = info.value.diagnostics[0]
    assert diagnostic.code == "SEL524"
    log = Path(diagnostic.hint.removeprefix("full log: "))
    assert f"#error selkit test {tmp_path.name}" in log.read_text()
    with pytest.raises(ToolchainError):  # not cached: the second call builds and fails again
        build("ptunnel", patches=[breaking])
    log.unlink()


def _unpacked_first_line(name: str, path: str, tmp_path: Path) -> str:
    tree = unpack(name, tmp_path / "first-line", _orig(name))
    return (tree / path).read_text(errors="replace").splitlines()[0]
