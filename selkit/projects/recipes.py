"""What selkit knows about each upstream project: its Debian source, how to build it, what it
installs where, and how a patched daemon must refuse a context on a kernel without SELinux
(each daemon, its patches and its phases: docs/daemons.md)."""

from __future__ import annotations

from dataclasses import dataclass

from selkit.diagnostics import Diagnostic, DiagnosticError

#: Compiler flags every recipe that takes CFLAGS from the environment builds with.
CFLAGS = "-O2 -g -Wall"

#: The context the fail-closed checks ask for; any well-formed context does, the kernel here
#: has no SELinux at all.
CHECK_CONTEXT = "system_u:system_r:selkit_check_t:s0"


@dataclass(frozen=True)
class FailClosedCheck:
    """A command line that asks the patched daemon for a context on a kernel without SELinux.

    ``argv`` is the daemon's arguments after its path, with ``{context}``, ``{port}``,
    ``{jail}`` (an empty directory), ``{dev}`` (a tun device name) to fill in. The daemon must
    exit with a non-zero status within ``timeout`` seconds and print ``message`` and the context
    it refused (the wording is the project's hand-written patch's)."""

    binary: str
    argv: tuple[str, ...]
    message: str
    timeout: float = 10.0

    def command(self, binary_path: str, *, port: int, jail: str, dev: str,
                context: str = CHECK_CONTEXT) -> list[str]:
        """The full command line, placeholders filled in."""
        values = {"context": context, "port": str(port), "jail": jail, "dev": dev}
        return [binary_path] + [arg.format(**values) for arg in self.argv]


@dataclass(frozen=True)
class Project:
    """An upstream project: Debian source package, orig tarball, build recipe and products.

    ``steps`` run in order in the unpacked tree, each an argv; ``CFLAGS`` is set in their
    environment to :data:`CFLAGS` when ``env_cflags`` (recipes whose Makefile appends to or
    replaces it keep their own). ``binaries`` maps a program name to its path in the built
    tree."""

    name: str
    source_package: str
    orig: str
    top_dir: str
    steps: tuple[tuple[str, ...], ...]
    env_cflags: bool
    build_depends: tuple[str, ...]
    binaries: tuple[tuple[str, str], ...]
    checks: tuple[FailClosedCheck, ...]

    def recipe(self) -> str:
        """A stable text of everything that decides the build, for the cache key."""
        env = f"CFLAGS={CFLAGS}" if self.env_cflags else "CFLAGS=<makefile>"
        return "\n".join([env] + [" ".join(step) for step in self.steps]
                         + [f"{name}={path}" for name, path in self.binaries])


_COMMON_DEPENDS = ("gcc", "make", "patch", "libselinux1-dev")

PROJECTS: dict[str, Project] = {p.name: p for p in (
    Project(
        name="iodine",
        source_package="iodine",
        orig="iodine_0.7.0.orig.tar.gz",
        top_dir="iodine-0.7.0",
        # src/Makefile appends its own flags (-std=c99 -c -Wall -pedantic, -DHAVE_SETCON when
        # selinux.h exists) to CFLAGS from the environment. When systemd's sd-daemon.h exists
        # (libsystemd-dev) src/osflags also links -lsystemd-daemon, a library systemd merged
        # into libsystemd in 2014: a linker script of that name in src/ (LDFLAGS has -L.)
        # points it at libsystemd, as Debian's package does by patching the flag.
        steps=(("sh", "-c", "[ ! -e /usr/include/systemd/sd-daemon.h ] || "
                "echo 'INPUT(-lsystemd)' > src/libsystemd-daemon.so"),
               ("make", "-j2")),
        env_cflags=True,
        build_depends=_COMMON_DEPENDS + ("zlib1g-dev",),
        binaries=(("iodined", "bin/iodined"), ("iodine", "bin/iodine")),
        checks=(
            FailClosedCheck("iodined", (
                "-f", "-s", "-P", "selkit", "-p", "{port}", "-l", "127.0.0.1", "-d", "{dev}",
                "-u", "nobody", "-t", "{jail}", "-z", "{context}", "10.53.0.1", "t.example"),
                "given but SELinux is disabled"),
            FailClosedCheck("iodine", (
                "-f", "-P", "selkit", "-u", "nobody", "-t", "{jail}", "-d", "{dev}",
                "-z", "{context}", "127.0.0.1", "t.example"),
                "given but SELinux is disabled"),
        ),
    ),
    Project(
        name="ptunnel",
        source_package="ptunnel",
        orig="ptunnel_0.72.orig.tar.gz",
        top_dir="PingTunnel",
        # The Makefile links -lselinux when selinux.h exists but never defines HAVE_SELINUX,
        # which guards ptunnel.c's -setcon code; Debian's binary has it (imports setcon), so
        # define it here as Debian's build does. CFLAGS on the command line replaces the
        # Makefile's own "-Wall -g".
        steps=(("make", "-j2", f"CFLAGS={CFLAGS} -DHAVE_SELINUX"),),
        env_cflags=False,
        build_depends=_COMMON_DEPENDS + ("libpcap-dev",),
        binaries=(("ptunnel", "ptunnel"),),
        checks=(
            FailClosedCheck("ptunnel", (
                "-x", "selkit", "-setuid", "nobody", "-chroot", "{jail}",
                "-setcon", "{context}"),
                "SELinux is not enabled on this system"),
        ),
    ),
    Project(
        name="openvpn",
        source_package="openvpn",
        orig="openvpn_2.6.14.orig.tar.gz",
        top_dir="openvpn-2.6.14",
        # Lean: no compression libraries, no DCO (libnl), no plugins (PAM); libcap-ng is
        # required on Linux and is what Debian builds with.
        steps=(("./configure", "--enable-selinux", "--disable-lzo", "--disable-lz4",
                "--disable-dco", "--disable-plugins", "--disable-plugin-auth-pam",
                "--disable-plugin-down-root"),
               ("make", "-j2")),
        env_cflags=True,
        build_depends=_COMMON_DEPENDS + ("libssl-dev", "libcap-ng-dev", "pkg-config"),
        binaries=(("openvpn", "src/openvpn/openvpn"),),
        checks=(
            FailClosedCheck("openvpn", (
                "--dev", "{dev}", "--dev-type", "tun", "--ifconfig", "10.9.0.1", "10.9.0.2",
                "--proto", "udp4", "--local", "127.0.0.1", "--lport", "{port}",
                "--disable-dco", "--user", "nobody", "--group", "nogroup",
                "--chroot", "{jail}", "--setcon", "{context}", "--verb", "3"),
                "SELinux is disabled on this system"),
        ),
    ),
    Project(
        name="httptunnel",
        source_package="httptunnel",
        orig="httptunnel_3.3+dfsg.orig.tar.gz",
        top_dir="httptunnel-3.3",
        steps=(("./configure",), ("make", "-j2")),
        env_cflags=True,
        build_depends=_COMMON_DEPENDS,
        binaries=(("hts", "hts"), ("htc", "htc")),
        checks=(
            FailClosedCheck("hts", (
                "-w", "-F", "127.0.0.1:9", "-u", "nobody", "-r", "{jail}",
                "-Z", "{context}", "127.0.0.1:{port}"),
                "SELinux is not enabled on this system"),
        ),
    ),
)}


def project(name: str) -> Project:
    """The project called ``name``; SEL520 (bad input) names the known ones."""
    if name not in PROJECTS:
        raise DiagnosticError([Diagnostic(
            "SEL520", f"unknown vendored project {name!r}",
            hint=f"known projects: {', '.join(sorted(PROJECTS))}")])
    return PROJECTS[name]
