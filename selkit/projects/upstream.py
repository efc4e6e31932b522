"""Each upstream's own CI, reproduced here for the ``vendor-patches/<project>/upstream-*/`` series.

The snapshots of the four development branches (``git archive`` tarballs, one per project) are
found through one setting, ``$SELKIT_UPSTREAM``, by default the folder ``shared/upstream`` beside
the repository. For one upstream the snapshot is unpacked, ``git init``-ed and committed, and the
series is applied with ``git am`` one patch at a time (each must apply cleanly); the same snapshot
without the series is the baseline. Both trees get the project's prepare steps (``autoreconf``),
then each :class:`CICheck` (the commands of one of the upstream's CI jobs, as far as this machine
allows; ``reproduces`` says which job and what is approximated) runs in a copy of the prepared
tree, or of the tree another check left (``after``). Checks that need a built daemon ask it, as a
:class:`DaemonCheck`, for an SELinux context on this kernel (which has no SELinux).

Everything is cached under ``$SELKIT_CACHE/upstream/``: a prepared tree by the snapshot's bytes,
the name and bytes of every patch and the prepare recipe; a check's result (and the tree it left)
by its tree's key and its own recipe. A check that fails is a result too and is kept; a missing
tool is an error (SEL521) and keeps nothing.

:func:`judge` decides: the series passes a check when its run succeeds with no compiler or
formatter warning the baseline lacks; when it fails at a step the baseline also fails at (or
before), the problem is upstream's, not the series'. Nothing here prints.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from selkit.cache import cache_root, rename_into_place
from selkit.diagnostics import Diagnostic, ToolchainError
from selkit.progress import Progress
from selkit.projects import clang_format
from selkit.projects.build import (
    REPO_ROOT,
    last_lines,
    settle_timestamps,
    tool_error,
    unpack_tarball,
)
from selkit.projects.checks import CheckRun, run_check
from selkit.projects.compile_warnings import new_warnings, parse_warnings
from selkit.projects.patchfiles import series_files, touched_files
from selkit.projects.recipes import CHECK_CONTEXT, PROJECTS, FailClosedCheck

#: The environment variable naming the snapshot folder.
SNAPSHOTS_ENV = "SELKIT_UPSTREAM"

#: Bump when the layout of a cached tree or result changes.
_CACHE_FORMAT = "2"

#: Identity git uses for the snapshot commit and ``git am``.
_GIT = ("git", "-c", "user.name=selkit", "-c", "user.email=selkit@invalid",
        "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false", "-c", "init.defaultBranch=main")

#: The exit status a fail-closed daemon must end with (the patches all exit(1)).
FAIL_CLOSED_STATUS = 1

#: What every fail-closed message names, whatever its wording (the patches change).
FAIL_CLOSED_WORD = "SELinux"


# --- the recipes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One command, run in the check's tree. ``argv`` may hold placeholders, replaced by
    :func:`expand`: ``@tree@`` (the tree's absolute path), ``@touched_c@`` (the ``.c`` files the
    series touches, space-separated, relative to the tree), ``@format_files@`` (the touched
    files the upstream's formatter hook covers), ``@clang_format@`` (the pinned clang-format).
    ``patched_only``: a step that asserts what the series adds (SELinux detected), skipped on
    the baseline. ``env``: variables added to the environment."""

    argv: tuple[str, ...]
    patched_only: bool = False
    env: tuple[tuple[str, str], ...] = ()
    timeout: float = 1200.0

    def text(self) -> str:
        """The step as one line, for logs, messages and cache keys."""
        env = " ".join(f"{k}={v}" for k, v in self.env)
        return (f"{env} " if env else "") + " ".join(self.argv)


def sh(script: str, **kwargs: object) -> Step:
    """A step run by ``sh -c``."""
    return Step(("sh", "-c", script), **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class CICheck:
    """One of an upstream's CI jobs, reproduced. ``steps`` run in order in a copy of the
    prepared tree, or of the tree check ``after`` left; the first that fails ends the check.
    ``tools``: programs it needs (a missing one is SEL521, not a failure). ``reproduces``: the
    upstream job it stands for and exactly what differs here."""

    name: str
    reproduces: str
    steps: tuple[Step, ...]
    after: str | None = None
    tools: tuple[str, ...] = ()

    def recipe(self) -> str:
        """A stable text of the steps, for the cache key."""
        return "\n".join(("P " if s.patched_only else "  ") + s.text() for s in self.steps)

    def uses(self, placeholder: str) -> bool:
        """Whether a step's command holds ``@placeholder@``."""
        return any(f"@{placeholder}@" in arg for s in self.steps for arg in s.argv)


@dataclass(frozen=True)
class DaemonCheck:
    """A built daemon (``path`` in the tree check ``build`` left) asked for a context."""

    build: str
    path: str
    check: FailClosedCheck

    @property
    def name(self) -> str:
        """The check's name: ``fail-closed-<binary>``."""
        return f"fail-closed-{self.check.binary}"


@dataclass(frozen=True)
class Upstream:
    """An upstream development branch: its snapshot tarball (``<snapshot>-<commit>.tar.xz``),
    the series directory under vendor-patches/, the steps that prepare both trees once, its CI
    checks and the daemons to ask for a context."""

    project: str
    snapshot: str
    series: str
    prepare: tuple[Step, ...]
    checks: tuple[CICheck, ...]
    daemons: tuple[DaemonCheck, ...] = ()
    tools: tuple[str, ...] = field(default=("git", "tar", "xz"))

    def check(self, name: str) -> CICheck:
        """The check called ``name``."""
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(f"{self.project} has no check {name!r}")

    def daemon(self, name: str) -> DaemonCheck:
        """The daemon check called ``name`` (``fail-closed-<binary>``)."""
        for daemon in self.daemons:
            if daemon.name == name:
                return daemon
        raise KeyError(f"{self.project} has no check {name!r}")

    @property
    def check_names(self) -> tuple[str, ...]:
        """Every check, CI checks first, then the fail-closed ones."""
        return tuple(c.name for c in self.checks) + tuple(d.name for d in self.daemons)

    def prepare_recipe(self) -> str:
        """A stable text of the prepare steps, for the cache key."""
        return "\n".join(s.text() for s in self.prepare)


def _loose(check: FailClosedCheck) -> FailClosedCheck:
    """The check with the loose expectation used for the reworked series: the message need
    only name SELinux (the context and exit status 1 are checked by :func:`judge_daemon`)."""
    return replace(check, message=FAIL_CLOSED_WORD)


#: The Debian packages the checks below need besides the build_depends of the Debian-orig
#: recipes (scripts/vendor-deps.sh installs them; a test holds it to this list): autotools,
#: libcheck (iodine's make test), cmocka (OpenVPN's unit tests), the libraries OpenVPN's CI
#: configures with (lzo, lz4, pam, pkcs11-helper; softhsm2 and gnutls-bin for its pkcs11 test;
#: docutils for its man page), mingw (gcc, g++ for CMake's project(), zlib), musl, ninja for
#: the CMake builds, valgrind and netcat for ptunnel-ng's integration test.
DEBIAN_PACKAGES = (
    "autoconf", "automake", "libtool", "pkg-config", "git", "xz-utils", "make", "gcc",
    "check", "libcmocka-dev", "liblzo2-dev", "liblz4-dev", "libpam0g-dev",
    "libpkcs11-helper1-dev", "softhsm2", "gnutls-bin", "python3-docutils", "libcap-ng-dev",
    "libnl-genl-3-dev", "libssl-dev", "libselinux1-dev", "libpcap-dev", "zlib1g-dev",
    "cmake", "ninja-build", "gcc-mingw-w64-x86-64", "g++-mingw-w64-x86-64",
    "libz-mingw-w64-dev", "musl-tools", "valgrind", "netcat-openbsd", "iproute2",
)

_MAKE = ("make", "-j2")

#: OpenVPN's ubuntu job (build.yaml): autoreconf -fvi; ./configure
#: --with-crypto-library=openssl --enable-pkcs11 --enable-werror; make -j3; make check.
_OPENVPN_CONFIGURE = ("./configure", "--with-crypto-library=openssl", "--enable-pkcs11",
                      "--enable-werror", "--enable-selinux")

#: OpenVPN's Windows build is its CMake mingw preset (vcpkg's OpenSSL, lz4, lzo, pkcs11-helper,
#: cmocka for mingw): none exist for mingw in Debian. The same CMake configure runs with the
#: host's OpenSSL 3 headers copied into an overlay (so no glibc header leaks in), empty
#: archives standing in for the libraries and an empty tap-windows.h for vcpkg's tap-windows6
#: (only tun.c uses its TAP_WIN_* macros; tun.h includes it), then each touched .c file of the
#: openvpn target is compiled (-c) with the exact flags CMake generated for it (-Werror);
#: nothing is linked.
_OPENVPN_MINGW_SSL = (
    "rm -rf .mingw-ssl && mkdir -p .mingw-ssl/include .mingw-ssl/lib"
    " && cp -r /usr/include/openssl .mingw-ssl/include/"
    " && cp /usr/include/x86_64-linux-gnu/openssl/*.h .mingw-ssl/include/openssl/"
    " && x86_64-w64-mingw32-ar rcs .mingw-ssl/lib/libcrypto.a"
    " && x86_64-w64-mingw32-ar rcs .mingw-ssl/lib/libssl.a"
    " && echo '/* selkit: empty stand-in for vcpkg tap-windows6 */' "
    "> .mingw-ssl/include/tap-windows.h")
_OPENVPN_MINGW_COMPILE = (
    "targets=; for f in @touched_c@; do case $f in src/openvpn/*.c) [ -f \"$f\" ] && "
    "targets=\"$targets CMakeFiles/openvpn.dir/$f.obj\";; esac; done; "
    "if [ -z \"$targets\" ]; then echo 'no touched .c file of src/openvpn'; exit 0; fi; "
    "echo \"compiling:$targets\"; ninja -C out/mingw -k 0 $targets")

#: pre-commit's mirrors-clang-format hook (the pinned wheel), run on the touched files it
#: covers; the diff each file would get is printed and the check fails on any.
_CLANG_FORMAT = (
    "st=0; for f in @format_files@; do [ -f \"$f\" ] || continue; "
    "@clang_format@ --style=file --dry-run \"$f\" 2>&1; "
    "@clang_format@ --style=file \"$f\" | diff -u --label \"a/$f\" --label \"b/$f\" \"$f\" - "
    "|| st=1; done; exit $st")

#: iodine's Makefile has no configure: its flags come from src/Makefile and src/osflags.
#: musl: Debian has no musl build of zlib or libselinux, so with musl-gcc (and pkg-config
#: hidden, so osflags adds no -DHAVE_SETCON) every object of src/Makefile is compiled with the
#: Makefile's own flags; zlib.h and the kernel's uapi headers (linux/, asm/, asm-generic/: what
#: a musl distribution's linux-headers package holds) come from the host, their declarations do
#: not depend on the libc; nothing is linked.
_IODINE_MUSL = (
    "mkdir -p .musl-inc && ln -sfn /usr/include/zlib.h /usr/include/zconf.h /usr/include/linux "
    "/usr/include/asm-generic .musl-inc/ && ln -sfn /usr/include/x86_64-linux-gnu/asm "
    ".musl-inc/asm && "
    "objs=$(sed -n 's/^[A-Z]*OBJS = //p' src/Makefile) && "
    "make -k -C src TARGETOS=Linux CC=musl-gcc $objs")

#: Every file git tracks that the newest tarball ``make dist`` made lacks, one
#: ``FILE:1: warning: ...`` line each (compared like compiler warnings: a file the series adds
#: that the tarball lacks is new; upstream's own omissions, .github/ and the like, are not).
#: distcheck alone can miss one: a compile stops at the first missing header.
_DIST_MISSING = sh(
    "tarball=$(ls -t *.tar.gz | head -n 1) && top=${tarball%.tar.gz} && "
    "tar -tzf \"$tarball\" | sed -n \"s|^$top/||p\" | sort -u > .selkit-dist && "
    "git ls-files | sort > .selkit-git && comm -23 .selkit-git .selkit-dist "
    "| sed 's/$/:1: warning: tracked by git, missing from the make dist tarball/'")

UPSTREAMS: dict[str, Upstream] = {u.project: u for u in (
    Upstream(
        project="iodine",
        snapshot="iodine",
        series="iodine/upstream-master",
        prepare=(),
        checks=(
            CICheck("make", "ubuntu.yml 'make' (the Makefile's own -Wall -pedantic flags; "
                    "libselinux found by pkg-config, so -DHAVE_SETCON)",
                    (Step(("make",)),
                     sh("test -x bin/iodined && test -x bin/iodine"),
                     sh("ldd bin/iodined | grep -q libselinux")),
                    tools=("make", "gcc", "pkg-config")),
            CICheck("make-test", "ubuntu.yml 'make test' (libcheck unit tests)",
                    (Step(("make", "test")),), after="make", tools=("make", "gcc")),
            CICheck("mingw", "windows.yml 'make TARGETOS=windows32' under MSYS2 MINGW64, as the "
                    "Makefile's cross-mingw64 target (x86_64-w64-mingw32-gcc, Debian's mingw "
                    "zlib): a full build and link of iodine.exe and iodined.exe",
                    (Step(("make", "-k", "cross-mingw64")),
                     sh("test -f bin/iodine.exe && test -f bin/iodined.exe")),
                    tools=("make", "x86_64-w64-mingw32-gcc")),
            CICheck("musl", "no upstream job: a non-glibc libc. Every object of src/Makefile "
                    "compiled by musl-gcc with the Makefile's flags, without libselinux and "
                    "without linking (Debian has no musl zlib or libselinux)",
                    (Step(("sh", "-c", _IODINE_MUSL),
                          env=(("PKG_CONFIG", "false"), ("CFLAGS", "-I@tree@/.musl-inc"))),),
                    tools=("make", "musl-gcc")),
        ),
        # iodined only: the upstream series has no option-time check in the client (the
        # Debian series' check_setcon() is not in it), so the client refuses a context at
        # setcon_fd_prepare(), which it reaches only after logging in to a server.
        daemons=tuple(DaemonCheck("make", f"bin/{c.binary}", _loose(c))
                      for c in PROJECTS["iodine"].checks if c.binary == "iodined"),
    ),
    Upstream(
        project="openvpn",
        snapshot="openvpn",
        series="openvpn/upstream-master",
        prepare=(Step(("autoreconf", "-fvi")),),
        checks=(
            CICheck("autotools", "build.yaml 'ubuntu' job: configure --with-crypto-library="
                    "openssl --enable-pkcs11 --enable-werror, plus --enable-selinux; make",
                    (Step(_OPENVPN_CONFIGURE), Step(_MAKE),
                     sh("grep -q '^#define ENABLE_SELINUX 1' config.h")),
                    tools=("make", "gcc", "pkg-config")),
            CICheck("unit-tests", "build.yaml 'ubuntu' job's 'make check VERBOSE=1', unit tests "
                    "(cmocka) only: of the system tests t_net.sh needs the dummy netdev "
                    "module this kernel lacks and t_client.sh a remote server, t_server_null.sh "
                    "skips without its rc file; t_lpback.sh and t_cltsrv.sh are "
                    "the system-tests check",
                    (Step(("make", "-j2", "-C", "tests/unit_tests", "check", "VERBOSE=1")),),
                    after="autotools", tools=("make", "gcc")),
            CICheck("system-tests", "build.yaml 'ubuntu' job's 'make check': the loopback "
                    "system tests that run here (t_lpback.sh, t_cltsrv.sh: two minutes by design; "
                    "check-am: tests/ alone, the unit tests are their own check), in a private "
                    "network namespace (t_cltsrv.sh binds fixed ports)",
                    (Step(("unshare", "--net", "sh", "-c", "ip link set lo up && "
                           "make -C tests check-am VERBOSE=1 'TESTS=t_lpback.sh t_cltsrv.sh'")),),
                    after="autotools", tools=("make", "unshare", "ip")),
            CICheck("dist", "no upstream job (releases are made with make dist): make "
                    "dist, and every file git tracks that the tarball lacks",
                    (Step(("make", "dist")), _DIST_MISSING), after="autotools",
                    tools=("make",)),
            CICheck("cmake", "no Linux CMake job upstream (CMake builds Android and Windows): "
                    "the CMake build on Linux with ENABLE_SELINUX=ON and its default -Werror, "
                    "unit tests built and run by ctest",
                    (Step(("cmake", "-S", ".", "-B", "out/cmake", "-G", "Ninja",
                           "-DUNSUPPORTED_BUILDS=ON", "-DENABLE_SELINUX=ON",
                           "-DBUILD_TESTING=ON")),
                     sh("grep -q '^#define ENABLE_SELINUX' out/cmake/config.h"),
                     Step(("cmake", "--build", "out/cmake", "-j2")),
                     Step(("ctest", "--test-dir", "out/cmake", "--output-on-failure", "-j2"))),
                    tools=("cmake", "ninja", "gcc", "pkg-config")),
            CICheck("clang-format", ".pre-commit-config.yaml's mirrors-clang-format hook (the "
                    "pinned clang-format wheel, their .clang-format and exclude list) on the "
                    "files the series touches",
                    (sh(_CLANG_FORMAT),)),
            CICheck("mingw", "build.yaml 'mingw' job (CMake preset mingw-x64, vcpkg's OpenSSL "
                    "for mingw): same CMake configure, host OpenSSL 3 headers in an overlay and "
                    "empty libraries instead; the touched .c files of the openvpn target "
                    "compiled with CMake's flags (-Werror), not linked",
                    (sh(_OPENVPN_MINGW_SSL),
                     Step(("cmake", "-S", ".", "-B", "out/mingw", "-G", "Ninja",
                           "-DCMAKE_SYSTEM_NAME=Windows",
                           "-DCMAKE_C_COMPILER=x86_64-w64-mingw32-gcc",
                           "-DCMAKE_CXX_COMPILER=x86_64-w64-mingw32-g++",
                           "-DCMAKE_BUILD_TYPE=Release", "-DOPENSSL_ROOT_DIR=@tree@/.mingw-ssl",
                           "-DOPENSSL_USE_STATIC_LIBS=ON", "-DENABLE_LZ4=OFF", "-DENABLE_LZO=OFF",
                           "-DENABLE_PKCS11=OFF", "-DBUILD_TESTING=OFF")),
                     sh(_OPENVPN_MINGW_COMPILE)),
                    tools=("cmake", "ninja", "x86_64-w64-mingw32-gcc",
                           "x86_64-w64-mingw32-g++")),
        ),
        # The 2.6 command line of the Debian recipe; master refuses a configuration without
        # TLS unless told it is deprecated.
        daemons=(DaemonCheck("autotools", "src/openvpn/openvpn", replace(
            _loose(PROJECTS["openvpn"].checks[0]),
            argv=PROJECTS["openvpn"].checks[0].argv
            + ("--allow-deprecated-insecure-static-crypto",))),),
    ),
    Upstream(
        project="ptunnel",
        snapshot="ptunnel-ng",
        series="ptunnel/upstream-ptunnel-ng",
        prepare=(Step(("autoreconf", "-fi")),),
        checks=(
            CICheck("build", ".gitlab-ci.yml 'build': configure --enable-option-checking=fatal "
                    "--prefix=/, make install CFLAGS=-Werror V=s (with -k, so that every file "
                    "is compiled past upstream's own errors). SELinux is on by default when "
                    "libselinux is found; --enable-selinux would turn it off (configure.ac's "
                    "AC_ARG_ENABLE never sets selinux_enabled when the option is given)",
                    (Step(("./configure", "--enable-option-checking=fatal", "--prefix=/")),
                     Step(("make", "-k", "-j2", "install", "CFLAGS=-Werror",
                           "DESTDIR=@tree@/deploy", "V=s")),
                     sh("grep -q '^[^#]*-DHAVE_SELINUX=1' src/Makefile")),
                    tools=("make", "gcc")),
            CICheck("make", "README/autogen.sh's build: configure; make (configure's -g -O2, "
                    "Makefile.am's -Wall -Wextra, no -Werror): the build the daemon, distcheck "
                    "and integration checks use",
                    (Step(("./configure",)), Step(_MAKE),
                     sh("grep -q '^[^#]*-DHAVE_SELINUX=1' src/Makefile")),
                    tools=("make", "gcc")),
            CICheck("distcheck", ".gitlab-ci.yml 'build' runs 'make dist'; distcheck also "
                    "builds the tarball (AM_MAKEFLAGS=-k: every file it lacks is named)",
                    (Step(("make", "dist")), _DIST_MISSING,
                     Step(("make", "distcheck", "AM_MAKEFLAGS=-k"))), after="make",
                    tools=("make",)),
            CICheck("integration", ".gitlab-ci.yml 'test-valgrind': test/integration_test.sh "
                    "under valgrind, in a private network namespace, on the make check's binary; "
                    "a second try when the first fails (the script compares the two sides' "
                    "ack-series counts, which under valgrind differ by one now and then, "
                    "patched or not)",
                    (Step(("unshare", "--net", "sh", "-c",
                           "ip link set lo up && { bash test/integration_test.sh || "
                           "bash test/integration_test.sh; }"),
                          env=(("PTUNNEL_BIN", "@tree@/src/ptunnel-ng"),)),),
                    after="make", tools=("unshare", "ip", "valgrind", "nc", "bash")),
            CICheck("mingw", ".gitlab-ci.yml 'build-mingw', x86_64 winpcap variant "
                    "(configure --host=x86_64-w64-mingw32; make install CFLAGS=-Werror, with "
                    "-k); the i686 and npcap variants are left out (no i686 mingw here)",
                    (Step(("./configure", "--enable-option-checking=fatal", "--prefix=/",
                           "--host=x86_64-w64-mingw32")),
                     Step(("make", "-k", "-j2", "install", "CFLAGS=-Werror",
                           "DESTDIR=@tree@/deploy-mingw", "V=s"))),
                    tools=("make", "x86_64-w64-mingw32-gcc")),
        ),
        daemons=(DaemonCheck("make", "src/ptunnel-ng", FailClosedCheck(
            "ptunnel-ng", ("--user=nobody", "--chroot={jail}", "--setcon={context}"),
            FAIL_CLOSED_WORD)),),
    ),
    Upstream(
        project="httptunnel",
        snapshot="httptunnel",
        series="httptunnel/upstream-master",
        prepare=(Step(("./autogen.sh",)),),
        checks=(
            CICheck("build", ".travis.yml: ./autogen.sh; ./configure; make (configure's own "
                    "-g -Wall -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith)",
                    (Step(("./configure",)), Step(_MAKE),
                     sh("grep -q '^#define HAVE_SELINUX 1' config.h", patched_only=True)),
                    tools=("make", "gcc")),
            CICheck("distcheck", "no upstream job: make distcheck (a file missing from the "
                    "tarball, e.g. a new header not in Makefile.am, fails)",
                    (Step(("make", "dist")), _DIST_MISSING,
                     Step(("make", "distcheck", "AM_MAKEFLAGS=-k"))), after="build",
                    tools=("make",)),
        ),
        daemons=tuple(DaemonCheck("build", c.binary, _loose(c))
                      for c in PROJECTS["httptunnel"].checks),
    ),
)}


def upstream(project: str) -> Upstream:
    """The upstream recipe of ``project``; SEL520 names the known ones."""
    if project not in UPSTREAMS:
        raise ToolchainError([Diagnostic(
            "SEL520", f"no upstream recipe for {project!r}",
            hint=f"known: {', '.join(sorted(UPSTREAMS))}")])
    return UPSTREAMS[project]


# --- pure helpers -----------------------------------------------------------------------------


def snapshots_dir(environ: Mapping[str, str] | None = None, repo: Path = REPO_ROOT) -> Path:
    """``$SELKIT_UPSTREAM``, else the folder ``shared/upstream`` beside the repository."""
    environ = os.environ if environ is None else environ
    if environ.get(SNAPSHOTS_ENV):
        return Path(environ[SNAPSHOTS_ENV])
    return repo.parent / "shared" / "upstream"


def snapshot_candidates(names: Iterable[str], snapshot: str) -> tuple[str, ...]:
    """The tarball names of ``snapshot`` among ``names``: ``<snapshot>-<hex commit>.tar.xz``."""
    pattern = re.compile(rf"^{re.escape(snapshot)}-[0-9a-f]{{7,40}}\.tar\.xz$")
    return tuple(sorted(n for n in names if pattern.match(n)))


def missing_snapshot(up: Upstream, folder: Path) -> str | None:
    """Why ``up``'s snapshot cannot be used from ``folder`` (a skip reason), or None."""
    if not folder.is_dir():
        return (f"upstream snapshots folder {folder} is missing (set {SNAPSHOTS_ENV} to the "
                f"folder holding the {up.snapshot}-<commit>.tar.xz snapshot)")
    found = snapshot_candidates((p.name for p in folder.iterdir()), up.snapshot)
    if len(found) != 1:
        what = "no" if not found else f"{len(found)} ({', '.join(found)}), not one,"
        return f"{folder} has {what} {up.snapshot}-<commit>.tar.xz snapshot"
    return None


def snapshot_tarball(up: Upstream, folder: Path) -> Path:
    """The one snapshot tarball of ``up`` in ``folder``; SEL527 when there is none."""
    reason = missing_snapshot(up, folder)
    if reason:
        raise tool_error("SEL527", reason)
    (name,) = snapshot_candidates((p.name for p in folder.iterdir()), up.snapshot)
    return folder / name


def unpack_snapshot(tarball: Path, dest: Path) -> Path:
    """The snapshot ``tarball`` unpacked into ``dest`` (without its top directory); SEL527 when
    it cannot be."""
    return unpack_tarball(tarball, tarball.name.removesuffix(".tar.xz"), dest, "SEL527")


def upstream_of_series(series_dir: Path) -> Upstream | None:
    """The upstream whose series directory is ``series_dir`` (vendor-patches/...), or None."""
    return next((up for up in UPSTREAMS.values()
                 if default_series(up).resolve() == Path(series_dir).resolve()), None)


def default_series(up: Upstream) -> Path:
    """``vendor-patches/<series>``."""
    return REPO_ROOT / "vendor-patches" / up.series


def format_targets(touched: Iterable[str], files: str, exclude: str) -> tuple[str, ...]:
    """The touched files the hook covers: matching ``files`` (re.search, as pre-commit) and
    not ``exclude``."""
    return tuple(f for f in touched
                 if re.search(files or "", f) and not (exclude and re.search(exclude, f)))


def expand(argv: Sequence[str], values: Mapping[str, str]) -> list[str]:
    """``argv`` with each ``@name@`` replaced by ``values[name]``; an unknown one is an error."""
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"no value for @{name}@")
        return values[name]
    return [re.sub(r"@([a-z_]+)@", one, arg) for arg in argv]


@dataclass(frozen=True)
class StepResult:
    """One step's command (expanded), exit status (None: skipped on the baseline) and time."""

    command: str
    returncode: int | None
    seconds: float = 0.0


@dataclass(frozen=True)
class CheckResult:
    """One check on one tree. ``failed`` is the index (into the check's steps) of the step
    that failed, or None; ``warnings`` are the compiler's and the formatter's, ``errors`` the
    compiler's, normalised (:func:`~selkit.projects.compile_warnings.parse_warnings`)."""

    project: str
    check: str
    patched: bool
    steps: tuple[StepResult, ...]
    failed: int | None
    warnings: tuple[str, ...]
    log: Path
    tree: Path
    seconds: float
    key: str = ""
    errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Every step succeeded."""
        return self.failed is None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the log."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.rstrip().splitlines()[-lines:])


@dataclass(frozen=True)
class Verdict:
    """``status`` is ``pass``, ``fail`` (a problem the series brings) or ``upstream`` (the
    check fails on the unpatched snapshot too, at the same step or before); ``message`` says
    which step, which warnings, and what the baseline did."""

    status: str
    message: str
    new_warnings: tuple[str, ...] = ()


def needs_baseline(patched: CheckResult) -> bool:
    """Whether the unpatched run is needed to judge ``patched``: it failed or warned."""
    return not patched.ok or bool(patched.warnings)


def judge(patched: CheckResult, unpatched: CheckResult | None) -> Verdict:
    """The series' verdict on one check (see the module docstring). Without a baseline
    (``unpatched`` None) only a clean run without warnings can pass. A failure the baseline
    shares is still the series' when it adds a compiler error or warning (``make -k`` goes on
    past the upstream's own errors)."""
    baseline = unpatched.warnings if unpatched is not None else ()
    extra = new_warnings(baseline, patched.warnings)
    if patched.ok:
        if extra:
            return Verdict("fail", f"{len(extra)} new warning(s) the unpatched snapshot lacks:\n"
                           + "\n".join(extra), extra)
        return Verdict("pass", "passes" + (" (its warnings are all upstream's)"
                                           if patched.warnings else ""))
    step = patched.steps[patched.failed or 0]
    where = f"step {(patched.failed or 0) + 1} '{step.command}' exits {step.returncode}"
    if unpatched is None:
        return Verdict("fail", f"{where} (no baseline run)", extra)
    if unpatched.failed is not None and unpatched.failed <= (patched.failed or 0):
        base = unpatched.steps[unpatched.failed]
        shared = (f"the unpatched snapshot fails too, at step {unpatched.failed + 1} "
                  f"'{base.command}' (exit {base.returncode})")
        errors = new_warnings(unpatched.errors, patched.errors)
        if errors or extra:
            added = ([f"{len(errors)} compiler error(s):", *errors] if errors else []) + \
                ([f"{len(extra)} warning(s):", *extra] if extra else [])
            return Verdict("fail", f"{where}; {shared}, but the series adds "
                           + "\n".join(added), extra)
        return Verdict("upstream", f"{where}; {shared}", extra)
    return Verdict("fail", f"{where}; the unpatched snapshot passes it", extra)


def judge_daemon(run: CheckRun) -> Verdict:
    """Pass when the daemon exited with status 1 by itself, naming SELinux and the context."""
    if run.returncode is None:
        return Verdict("fail", "still running at the timeout: it carried on (fail-open)")
    said = FAIL_CLOSED_WORD in run.output and run.context in run.output
    if run.returncode == FAIL_CLOSED_STATUS and said:
        return Verdict("pass", f"exits {run.returncode}: {_first_line_with(run.output)}")
    return Verdict("fail", f"exits {run.returncode}, expected {FAIL_CLOSED_STATUS} with a message "
                   f"naming {FAIL_CLOSED_WORD} and {run.context!r}")


def _first_line_with(output: str) -> str:
    for line in output.splitlines():
        if FAIL_CLOSED_WORD in line:
            return line.strip()
    return ""


# --- running ----------------------------------------------------------------------------------


def _digest(*parts: bytes | str) -> str:
    digest = hashlib.sha256(f"selkit-upstream {_CACHE_FORMAT}\n".encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()[:20]


def _env() -> dict[str, str]:
    env = dict(os.environ, LC_ALL="C", LANG="C")
    for name in ("MAKEFLAGS", "MFLAGS", "CFLAGS", "CPPFLAGS", "LDFLAGS", "CC"):
        env.pop(name, None)
    return env


def missing_tools(names: Iterable[str]) -> tuple[str, ...]:
    """The programs among ``names`` that are not on PATH."""
    return tuple(n for n in names if shutil.which(n) is None)


def _require(tools: Iterable[str], what: str) -> None:
    missing = missing_tools(tools)
    if missing:
        raise tool_error("SEL521", f"{what}: not installed: {' '.join(missing)}",
                    hint="run 'sh scripts/vendor-deps.sh' as root (and 'sh scripts/setup.sh' "
                    "for the venv's clang-format)")


@dataclass(frozen=True)
class Prepared:
    """A snapshot unpacked into a git repository, the series applied (when ``patched``) and
    the prepare steps run; ``touched`` are the files the series touches."""

    project: str
    patched: bool
    tree: Path
    key: str
    patches: tuple[str, ...]
    touched: tuple[str, ...]


def _git(tree: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_GIT, *argv], cwd=tree, capture_output=True, text=True)


def apply_with_git_am(tree: Path, patches: Sequence[Path]) -> None:
    """Make ``tree`` a git repository with one commit, then ``git am`` each patch in order;
    SEL528 names the first that does not apply cleanly, with git's account."""
    for argv in (("init", "-q"), ("add", "-A", "-f"), ("commit", "-q", "-m", "snapshot")):
        result = _git(tree, *argv)
        if result.returncode != 0:
            raise tool_error("SEL527", f"git {argv[0]} in the snapshot failed: "
                        f"{last_lines(result.stdout + result.stderr, 5)}")
    for patch in patches:
        result = _git(tree, "am", "-q", "--keep-cr", str(Path(patch).resolve()))
        if result.returncode != 0:
            _git(tree, "am", "--abort")
            raise tool_error("SEL528", f"{Path(patch).name} does not apply with git am: "
                        f"{last_lines(result.stdout + result.stderr, 8)}")


def _run_steps(steps: Sequence[Step], tree: Path, values: Mapping[str, str], log: Path,
               *, patched: bool, label: str, progress: Progress | None
               ) -> tuple[tuple[StepResult, ...], int | None, str]:
    """Run ``steps`` in ``tree``; stop at the first failure. Returns the results, the index
    of the failed step (or None) and the whole log text (also written to ``log``)."""
    text: list[str] = []
    results: list[StepResult] = []
    failed = None
    for index, step in enumerate(steps):
        argv = expand(step.argv, values)
        command = " ".join(argv)
        if step.patched_only and not patched:
            results.append(StepResult(command, None))
            continue
        if progress:
            progress(f"{label}: {command[:70]}")
        env = _env()
        env.update({k: expand([v], values)[0] for k, v in step.env})
        started = time.monotonic()
        try:
            result = subprocess.run(argv, cwd=tree, env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True, errors="replace", timeout=step.timeout)
            returncode, output = result.returncode, result.stdout
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout
            output = (out.decode(errors="replace") if isinstance(out, bytes) else out or "")
            returncode, output = -9, output + f"\n(timed out after {step.timeout:.0f} s)\n"
        seconds = time.monotonic() - started
        text.append(f"$ {step.text() if not step.env else command}\n{output}"
                    f"[exit {returncode}, {seconds:.1f} s]\n")
        log.write_text("".join(text))
        results.append(StepResult(command, returncode, round(seconds, 1)))
        if returncode != 0:
            failed = index
            break
    return tuple(results), failed, "".join(text)


def _copy_tree(source: Path, dest: Path) -> None:
    result = subprocess.run(["cp", "-a", str(source), str(dest)], capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise tool_error("SEL524", f"cannot copy {source}: {last_lines(result.stderr, 3)}")


def prepare(up: Upstream, *, patched: bool, folder: Path | None = None,
            series_dir: Path | None = None, progress: Progress | None = None) -> Prepared:
    """The prepared tree of ``up`` (cached): snapshot, ``git am`` of the series when
    ``patched``, prepare steps. SEL527/SEL528/SEL524 on failure (nothing kept)."""
    tarball = snapshot_tarball(up, folder or snapshots_dir())
    patches = series_files(series_dir or default_series(up))
    if not patches:
        raise tool_error("SEL528", f"no NNNN-*.patch in {series_dir or default_series(up)}")
    touched = touched_files(p.read_text(errors="replace") for p in patches)
    applied = patches if patched else ()
    key = _digest(tarball.read_bytes(), up.prepare_recipe(),
                  *(p.name.encode() + b"\0" + p.read_bytes() for p in applied))
    root = cache_root() / "upstream"
    final = root / f"{up.project}-{'patched' if patched else 'snapshot'}-{key}"
    done = Prepared(up.project, patched, final / "tree", key, tuple(p.name for p in applied),
                    touched)
    if (final / "prepared.json").is_file():
        return done
    _require(up.tools + ("autoreconf",) * bool(up.prepare), f"{up.project}: preparing")
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=root))
    try:
        tree = work / "tree"
        if progress:
            progress(f"{up.project}: unpacking {tarball.name}")
        unpack_snapshot(tarball, tree)
        if progress and applied:
            progress(f"{up.project}: git am of {len(applied)} patch(es)")
        apply_with_git_am(tree, applied)
        settle_timestamps(tree)
        log = work / "prepare.log"
        _, failed, text = _run_steps(up.prepare, tree, {"tree": str(tree)}, log,
                                     patched=patched, label=up.project, progress=progress)
        if failed is not None:
            raise tool_error("SEL524", f"{up.project}: '{up.prepare[failed].text()}' failed:\n"
                        f"{last_lines(text)}")
        (work / "prepared.json").write_text(json.dumps(
            {"project": up.project, "patched": patched, "tarball": tarball.name,
             "patches": list(done.patches)}, indent=1) + "\n")
        rename_into_place(work, final, "prepared.json")
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return done


def pinned_clang_format(tree: Path) -> tuple[str, str]:
    """``(path, version)`` of the clang-format the tree's pre-commit config pins, found by
    :func:`selkit.projects.clang_format.find` (never Debian's of another version); SEL521
    otherwise."""
    want = clang_format.pinned_version(tree)
    if want is None:
        raise tool_error("SEL521", f"{tree.name}: no mirrors-clang-format hook in "
                         ".pre-commit-config.yaml")
    path = clang_format.find(want)
    if path is None:
        raise tool_error("SEL521", f"clang-format {want} (the version .pre-commit-config.yaml "
                         "pins) is not installed", hint=f"pip install clang-format=={want} "
                         "(make setup installs pyproject's dev extra)")
    return path, want


def _values(up: Upstream, check: CICheck, prepared: Prepared, tree: Path) -> dict[str, str]:
    values = {"tree": str(tree),
              "touched_c": " ".join(f for f in prepared.touched if f.endswith(".c"))}
    if check.uses("format_files") or check.uses("clang_format"):
        path, _ = pinned_clang_format(tree)
        config = (tree / ".pre-commit-config.yaml").read_text()
        hook = clang_format.precommit_hook(config)
        assert hook is not None
        values["clang_format"] = path
        values["format_files"] = " ".join(format_targets(prepared.touched, hook[1], hook[2]))
    return values


def _load_result(directory: Path) -> CheckResult:
    data = json.loads((directory / "result.json").read_text())
    return CheckResult(project=data["project"], check=data["check"], patched=data["patched"],
                       steps=tuple(StepResult(*s) for s in data["steps"]),
                       failed=data["failed"], warnings=tuple(data["warnings"]),
                       log=directory / "check.log", tree=Path(data["tree"]),
                       seconds=data["seconds"], key=data["key"],
                       errors=tuple(data["errors"]))


def check_key(up: Upstream, check: CICheck, prepared: Prepared) -> str:
    """The cache key of ``check`` on ``prepared``: its tree's key, its recipe, the touched
    files when a step uses them, and the keys of the checks it runs after."""
    parts = [prepared.key, check.name, check.recipe()]
    if check.uses("touched_c") or check.uses("format_files"):
        parts.append("\n".join(prepared.touched))
    if check.after:
        parts.append(check_key(up, up.check(check.after), prepared))
    return _digest(*parts)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created) for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run(up: Upstream, name: str, *, patched: bool, folder: Path | None = None,
        series_dir: Path | None = None, progress: Progress | None = None) -> CheckResult:
    """Check ``name`` of ``up`` on the patched or the unpatched tree (cached).

    A check without ``after`` copies the prepared tree into its own folder and runs there, at
    the path it keeps (the build systems write absolute paths into what they generate); a
    check with ``after`` runs in the tree that check left, under its lock."""
    check = up.check(name)
    prepared = prepare(up, patched=patched, folder=folder, series_dir=series_dir,
                       progress=progress)
    key = check_key(up, check, prepared)
    root = cache_root() / "upstream"
    final = root / f"{up.project}-{'patched' if patched else 'snapshot'}-{check.name}-{key}"
    if (final / "result.json").is_file():
        return _load_result(final)
    parent = None
    if check.after:
        parent = run(up, check.after, patched=patched, folder=folder, series_dir=series_dir,
                     progress=progress)
    _require(check.tools, f"{up.project} {check.name}")
    tree_lock = (parent.tree.parent if parent else final).with_suffix(".lock")
    with _locked(tree_lock), _locked(final.with_name(final.name + ".run")):
        if (final / "result.json").is_file():
            return _load_result(final)
        shutil.rmtree(final, ignore_errors=True)  # what a run that was stopped left
        final.mkdir(parents=True)
        if parent:
            tree = parent.tree
        else:
            tree = final / "tree"
            _copy_tree(prepared.tree, tree)
        values = _values(up, check, prepared, tree)
        label = f"{up.project} {check.name} ({'patched' if patched else 'unpatched'})"
        started = time.monotonic()
        steps, failed, text = _run_steps(check.steps, tree, values, final / "check.log",
                                         patched=patched, label=label, progress=progress)
        result = {"project": up.project, "check": check.name, "patched": patched,
                  "tree": str(tree), "steps": [[s.command, s.returncode, s.seconds]
                                               for s in steps],
                  "failed": failed, "warnings": list(parse_warnings(text, [str(tree)])),
                  "errors": list(parse_warnings(text, [str(tree)], errors=True)),
                  "seconds": round(time.monotonic() - started, 1), "key": key}
        (final / "result.tmp").write_text(json.dumps(result, indent=1) + "\n")
        (final / "result.tmp").rename(final / "result.json")
    return _load_result(final)


def run_daemon(up: Upstream, name: str, *, patched: bool, folder: Path | None = None,
               series_dir: Path | None = None, progress: Progress | None = None,
               timeout: float | None = None) -> CheckRun:
    """The daemon of check ``name`` (``fail-closed-<binary>``), built by its build check on
    the patched or unpatched tree, asked for :data:`CHECK_CONTEXT`. Not cached (a second)."""
    daemon = up.daemon(name)
    built = run(up, daemon.build, patched=patched, folder=folder, series_dir=series_dir,
                progress=progress)
    binary = built.tree / daemon.path
    if not built.ok or not binary.is_file():
        raise tool_error("SEL525", f"{up.project} {daemon.build} made no {daemon.path}",
                    hint=f"log: {built.log}")
    check = daemon.check if timeout is None else replace(daemon.check, timeout=timeout)
    return run_check(binary, check, context=CHECK_CONTEXT)
