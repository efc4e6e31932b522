"""One scenario per shipped daemon: which build runs confined, which runs as its peer, the
guest script (``<daemon>.sh``) that starts both and passes real traffic, and the files the
guest needs besides (configurations, keys). What each daemon does in each phase, with the
options its scenario starts it with, is in docs/daemons.md.

A scenario script defines ``scenario_prepare`` (echo services, the peer if it must come
first), ``scenario_start`` (the confined daemon, exec'd by init_t with the options its spec was
written for), ``scenario_pid`` and ``scenario_traffic`` (reports the tunnel result).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from importlib import resources


class Source(enum.Enum):
    """Where a guest file comes from."""

    BUILD = "build"      # the daemon's built source tree (selkit.projects)
    PACKAGE = "package"  # shipped beside the scenario scripts (:func:`data_file`)


@dataclass(frozen=True)
class GuestFile:
    """A file the scenario places in the guest: ``name`` (a path in the build tree, or a data
    file's name) at ``path`` with ``mode``; ``what`` names it when the build lacks it."""

    path: str
    source: Source
    name: str
    mode: int = 0o644
    what: str = ""


@dataclass(frozen=True)
class Scenario:
    """How the lab runs one daemon."""

    daemon: str
    spec: str                     # file name in the specs directory
    project: str                  # selkit.projects project of both ends
    binary: str                   # the confined program (a key of Build.binaries)
    peer: str                     # the program at the other end, run in initrc_t
    peer_role: str                # what the peer is, for the report
    kernel_modules: tuple[str, ...] = ("tun", "veth")
    settle_seconds: int = 2       # how long the harness watches the daemon start
    jail_dirs: tuple[str, ...] = ()  # directories the daemon expects inside its jail
    files: tuple[GuestFile, ...] = ()  # configurations and keys, in the order they are placed

    def script(self) -> bytes:
        """The guest script."""
        return resources.files("selkit.lab.scenarios").joinpath(f"{self.daemon}.sh").read_bytes()


def _openvpn_keys(directory: str, names: tuple[str, ...]) -> tuple[GuestFile, ...]:
    """OpenVPN's sample keys (from its source tree) in ``directory`` of the guest."""
    return tuple(GuestFile(f"{directory}/{name}", Source.BUILD, f"sample/sample-keys/{name}",
                           0o600, "sample keys") for name in names)


#: In the order the lab runs them with ``all``.
SCENARIOS: tuple[Scenario, ...] = (
    Scenario("ptunnel", "ptunnel.sel", "ptunnel", "ptunnel", "ptunnel",
             "ptunnel forwarder (-p) in the client namespace"),
    Scenario("hts", "hts.sel", "httptunnel", "hts", "htc", "htc in the client namespace"),
    Scenario("iodined", "iodined.sel", "iodine", "iodined", "iodine",
             "iodine client in the client namespace"),
    Scenario("iodine", "iodine.sel", "iodine", "iodine", "iodined",
             "iodined server in the other namespace", settle_seconds=6),
    Scenario("openvpn", "openvpn.sel", "openvpn", "openvpn", "openvpn",
             "OpenVPN TLS client in the client namespace", settle_seconds=3,
             # OpenVPN checks that its --tmp-dir (/tmp) exists inside the --chroot jail.
             jail_dirs=("/var/lib/openvpn/jail/tmp",),
             files=(GuestFile("/etc/openvpn/server.conf", Source.PACKAGE, "openvpn-server.conf"),
                    *_openvpn_keys("/etc/openvpn", ("ca.crt", "server.crt", "server.key")),
                    *_openvpn_keys("/lab/peer/keys", ("ca.crt", "client.crt", "client.key")))),
)

BY_DAEMON = {s.daemon: s for s in SCENARIOS}


def data_file(name: str) -> bytes:
    """A file shipped beside the scenario scripts (e.g. openvpn-server.conf)."""
    return resources.files("selkit.lab.scenarios").joinpath(name).read_bytes()
