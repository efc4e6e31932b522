"""What the lab runs for one daemon, as data: a *scenario*, written by the spec's author in a
``NAME.lab.toml`` file beside ``NAME.sel`` (read by :mod:`.scenario_file`, documented in
dsl/REFERENCE.md "Lab scenarios"). The runner has no per-daemon code: everything that differs
between daemons is here, and :mod:`.scenario_script` turns it into the guest's shell functions.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

#: The placeholder in a command line for the switch option of the spec (``-z CONTEXT``).
SWITCH = "{switch}"

#: The guest's two network namespaces: the daemon's (``server``, 192.0.2.1, where init runs)
#: and the other end's (``client``, 192.0.2.2), joined by a veth pair.
SERVER_ADDRESS, CLIENT_ADDRESS = "192.0.2.1", "192.0.2.2"
SIDES = ("server", "client")


class BuildKind(enum.Enum):
    """Where the daemon's binaries come from."""

    PROJECT = "project"  # a project selkit knows (selkit.projects), with its committed series
    DEBIAN = "debian"    # a Debian source package's orig tarball + a series of patches
    TREE = "tree"        # a local source tree, built with the given steps
    PREBUILT = "prebuilt"  # binaries already built (absolute paths on this machine)


@dataclass(frozen=True)
class BuildSource:
    """How to obtain the binaries the scenario runs.

    ``binaries`` maps a program name to its path in the built tree (``debian``, ``tree``) or
    on this machine (``prebuilt``); ``series`` is the directory of patches applied in order
    (hand-written ones and the spec's generated one, regenerated from the spec the lab runs).
    """

    kind: BuildKind
    project: str = ""                     # project: its name; debian: the source package
    orig: str = ""                        # debian: the orig tarball's file name
    top_dir: str = ""                     # debian: the tarball's top directory
    tree: Path | None = None              # tree: the source tree
    series: Path | None = None            # debian, tree: the patch series directory
    steps: tuple[tuple[str, ...], ...] = ()
    build_depends: tuple[str, ...] = ()
    binaries: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Command:
    """A program of the build and its arguments (``{switch}`` stands for the switch option)."""

    program: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Peer:
    """The other end of the tunnel.

    ``start``: ``before`` the daemon (a server the confined client connects to), or with each
    ``traffic`` step (a client: killed and started again for the reconnect step).
    ``background``: the program stays in the foreground, so the lab runs it in the background.
    ``timeout``: seconds after which the lab stops waiting for it (0: none). ``wait``: seconds
    to wait after starting it; ``ready_line`` in ``ready_file``, or a TCP listener on
    ``ready_port`` on its side, to wait for instead (up to ``timeout``, default 20 s).
    ``spec``: the peer runs confined by this spec (linked into the lab policy) in its own
    steady domain, started by init like the daemon."""

    command: Command
    role: str
    side: str = "client"
    start: str = "traffic"
    background: bool = False
    timeout: int = 0
    wait: float = 1.0
    ready_file: str = ""
    ready_line: str = ""
    ready_port: int = 0
    spec: Path | None = None


class TrafficKind(enum.Enum):
    """How the lab judges that the tunnel carries traffic."""

    TCP_ECHO = "tcp-echo"  # a line sent to host:port comes back (an echo server behind)
    PING = "ping"          # ICMP echo replies from an address across the tunnel
    COMMAND = "command"    # a command's exit status is 0


@dataclass(frozen=True)
class Traffic:
    """The traffic step: ``target`` is ``host:port`` (tcp-echo) or an address (ping);
    ``side`` where it is sent from; ``command`` the argv of a ``command`` check; ``wait``
    how long a tcp-echo connection stays open for the answer."""

    kind: TrafficKind
    side: str = "client"
    target: str = ""
    command: tuple[str, ...] = ()
    wait: int = 3


@dataclass(frozen=True)
class GuestFile:
    """A file placed in the guest: from the build tree (``build``) or beside the scenario
    file (``local``), at ``path`` with ``mode``."""

    path: str
    source: str    # "build" | "local"
    name: str      # the path in the build tree, or the file (resolved) beside the scenario
    mode: int = 0o644


@dataclass(frozen=True)
class Scenario:
    """How the lab runs one daemon (see the module docstring)."""

    daemon: str
    spec: Path
    origin: Path                  # the scenario file
    build: BuildSource
    command: Command              # the confined daemon's command line
    peer: Peer
    traffic: Traffic
    pidfile: str = ""             # where the daemon writes its pid (else: found by name)
    process: str = ""             # its process name (default: the program's)
    settle_seconds: int = 2
    restart_signals: tuple[str, ...] = ("HUP",)
    longrun_seconds: int = 0      # steady life before traffic again (renegotiations, ...)
    echo_ports: tuple[int, ...] = ()   # TCP echo services on 127.0.0.1 in the server side
    sysctls: tuple[tuple[str, str], ...] = ()
    kernel_modules: tuple[str, ...] = ("tun", "veth")
    jail_dirs: tuple[str, ...] = ()
    files: tuple[GuestFile, ...] = ()
    skip_attacks: tuple[tuple[str, str], ...] = ()   # (attack, why it does not apply)
    battery_user: str = ""        # run the battery also as this user ("" = the spec's)

    @property
    def name(self) -> str:
        """The process name the guest looks for."""
        return self.process or self.command.program

    @property
    def bench(self) -> bool:
        """Whether bench/lab_filter_pps.py can measure this tunnel (ping traffic)."""
        return self.traffic.kind is TrafficKind.PING
