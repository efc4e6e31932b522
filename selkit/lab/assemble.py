"""Building the guest for one scenario: the daemon and its peer, the specs' labels, the
scenario's files and guest script, the harness and the probe, and the configuration the guest
scripts read."""

from __future__ import annotations

import dataclasses
import re
import shlex
from pathlib import Path

from selkit.diagnostics import Diagnostic, DiagnosticError
from selkit.emit.seccomp import steady_filter
from selkit.ir import nodes as ir
from selkit.lab import battery, kernel
from selkit.lab.image import GuestImage
from selkit.lab.image import guest_script as harness_script
from selkit.lab.scenario import GuestFile, Scenario
from selkit.lab.scenario_script import CONFINED_PEER_DIR, DAEMON_DIR, PEER_DIR, guest_script
from selkit.lab.verdict import context_of

#: Guest paths the battery attacks (see stage2.sh for the services behind them).
#: The data file is /etc/shadow, labelled shadow_t in /etc (etc_t): every domain may search
#: /etc, so a read or an append reaches the file itself and SELinux decides on the file.
DATA_FILE = "/etc/shadow"
DATA_TYPE = "shadow_t"
DATA = b"root:$y$j9T$selkitlab$customerrecordsonthesteppingstone:20000:0:99999:7:::\n"
DROP_DIR = "/tmp"
CONNECT_TARGET = "127.0.0.1:25"   # smtp_port_t: relaying mail, which no spec allows
BIND_PORT = 4444
MODULE_FILE = "/usr/lib/modules/dummy.ko"
#: The battery's unprivileged run: as this user of the guest's /etc/passwd unless the spec
#: or the scenario names another.
USERS = {"nobody": (65534, 65534), "root": (0, 0)}


def spec_directories(module: ir.PolicyModule) -> list[tuple[str, str]]:
    """``(path, type)`` for every directory the spec labels (jails, configuration trees)."""
    return [(fc.path, fc.type) for fc in module.file_contexts
            if fc.path is not None and (fc.regex.endswith(ir.TREE_SUFFIX) or fc.kind == "dir")]


def file_type(modules: list[ir.PolicyModule], path: str) -> str | None:
    """The type a spec's single-file context gives ``path`` (``file conf "/etc/x\\.conf"
    file``), or None; paths under a labelled directory tree get theirs from its mount."""
    for module in modules:
        for fc in module.file_contexts:
            if fc.kind in ("file", "any") and not fc.regex.endswith("(/.*)?") and \
                    re.fullmatch(fc.regex, path):
                return fc.type
    return None


def switch_option(module: ir.PolicyModule, context: str) -> str:
    """The daemon's switch option with the steady context filled in."""
    for switch in module.switches:
        if switch.option:
            return switch.option.replace("{context}", context)
    return ""


def file_data(scenario: Scenario, file: GuestFile, tree: Path | None) -> bytes:
    """The content of one of the scenario's files; SEL769 when the build lacks it."""
    if file.source == "local":
        return Path(file.name).read_bytes()
    if tree is None or not (tree / file.name).is_file():
        raise DiagnosticError([Diagnostic(
            "SEL769", f"{scenario.daemon}: the build has no {file.name} "
            f"(named in {scenario.origin.name})")])
    return (tree / file.name).read_bytes()


def build_image(scenario: Scenario, module: ir.PolicyModule, binaries: dict[str, Path],
                probe: Path | None, the_kernel: kernel.Kernel, tree: Path | None = None,
                *, bench: bool = False, peer_module: ir.PolicyModule | None = None,
                busybox: Path | None = None) -> GuestImage:
    """The guest for one scenario; ``tree`` is the daemon's built source tree, ``peer_module``
    the peer's when it runs confined (then ``busybox`` provides the nsenter it is started
    through). ``bench``: after the traffic the guest measures the tunnel
    (``scenario_bench``) and stops there."""
    image = GuestImage()
    image.modules = the_kernel.modules_in_load_order(list(scenario.kernel_modules))
    image.label(DAEMON_DIR, module.exec_type)
    image.label("/usr/lib/modules", "modules_object_t")
    confined = [module] + ([peer_module] if peer_module is not None else [])
    for path, type_ in (d for m in confined for d in spec_directories(m)):
        image.label(path, type_, writable=True)
    image.dirs.update(scenario.jail_dirs)
    image.put_binary(f"{DAEMON_DIR}/{scenario.command.program}",
                     binaries[scenario.command.program])
    peer = scenario.peer.command.program
    if peer_module is not None:
        if busybox is None:
            raise ValueError("a confined peer needs busybox for its nsenter")
        image.label(CONFINED_PEER_DIR, peer_module.exec_type)
        image.put_binary(f"{CONFINED_PEER_DIR}/{peer}", binaries[peer])
        image.put_host("/lab/harness/nsenter", busybox)
    else:
        image.put_binary(f"{PEER_DIR}/{peer}", binaries[peer])
    image.put_binary("/bin/ip", "/bin/ip")
    image.put("/lab/harness/stage2.sh", harness_script("stage2.sh"), 0o755)
    image.put("/lab/harness/scenario.sh", guest_script(scenario).encode())
    image.put_labelled(DATA_FILE, DATA_TYPE, DATA, 0o600)
    image.put(MODULE_FILE, dict(the_kernel.modules_in_load_order(["dummy"]))["dummy"])
    for file in scenario.files:
        data = file_data(scenario, file, tree)
        labelled = file_type(confined, file.path)
        if labelled is None:
            image.put(file.path, data, file.mode)
        else:   # a file the spec gives a type of its own (dns2tcpd's configuration)
            image.put_labelled(file.path, labelled, data, file.mode)
    image.config = _config(scenario, module, probe is not None, peer_module)
    image.config["LAB_BENCH"] = "1" if bench else ""
    if probe is not None:
        image.put(f"{DAEMON_DIR}/selkit-probe", probe.read_bytes(), 0o755)
        image.put(f"{PEER_DIR}/selkit-probe", probe.read_bytes(), 0o755)
    return image


def battery_identity(scenario: Scenario, module: ir.PolicyModule) -> tuple[str, int, int]:
    """The user the battery also runs as (the daemon's own: the scenario's, else the spec's
    ``user``, else nobody) with its uid and gid in the guest."""
    name = scenario.battery_user or module.user or "nobody"
    if name not in USERS:
        raise DiagnosticError([Diagnostic(
            "SEL775", f"{scenario.daemon}: the lab guest has no user '{name}'",
            hint=f"the guest's users are {', '.join(sorted(USERS))}; set [attacks] user in "
                 f"{scenario.origin.name}")])
    uid, gid = USERS[name]
    return name, uid, gid


def _config(scenario: Scenario, module: ir.PolicyModule, with_probe: bool,
            peer_module: ir.PolicyModule | None) -> dict[str, str]:
    """The variables the guest scripts read (``.lab/config.sh``)."""
    startup_ctx = context_of(module.entry.domain)
    steady_ctx = context_of(module.steady.domain)
    config = {
        "LAB_ENFORCE": "1",
        "LAB_DAEMON": f"{DAEMON_DIR}/{scenario.command.program}",
        "LAB_SWITCH_OPTION": switch_option(module, steady_ctx),
        "LAB_NAME": scenario.name,
        "LAB_SETTLE": str(scenario.settle_seconds),
        "LAB_PEER_NAME": scenario.peer.command.program,
        "LAB_PEER_CONFINED": "1" if peer_module is not None else "",
        "LAB_PEER_SWITCH_OPTION": (switch_option(peer_module, context_of(
            peer_module.steady.domain)) if peer_module is not None else ""),
        "LAB_PROBE_STEADY": "",
        "LAB_PROBE_FILTERED": "",
        "LAB_PROBE_USER": "",
        "LAB_PROBE_DEFAULT": "",
    }
    if with_probe:
        skipped = {name for name, _ in scenario.skip_attacks}
        targets = battery.Targets(victim="$VICTIM_PID", data=DATA_FILE, drop_dir=DROP_DIR,
                                  connect=CONNECT_TARGET, bind=BIND_PORT, module=MODULE_FILE,
                                  startup=startup_ctx, only=tuple(
                                      a.name for a in battery.ATTACKS if a.name not in skipped))
        probe = f"{DAEMON_DIR}/selkit-probe"
        config["LAB_PROBE_STEADY"] = _shell_command(battery.probe_argv(
            probe, targets, steady=steady_ctx))
        # The same switch, each attempt under the steady filter the daemon's patch loads.
        config["LAB_PROBE_FILTERED"] = _shell_command(battery.probe_argv(
            probe, targets, steady=steady_ctx, seccomp=steady_filter(module).bytes))
        # Again as the daemon's unprivileged user (its drop before the switch): DAC and MAC.
        _, uid, gid = battery_identity(scenario, module)
        # Its setuid attack tries to regain root (uid 0), the uid it does not have.
        config["LAB_PROBE_USER"] = _shell_command(battery.probe_argv(
            probe, dataclasses.replace(targets, uid_target=0), steady=steady_ctx, uid=uid,
            gid=gid))
        config["LAB_PROBE_DEFAULT"] = _shell_command(battery.probe_argv(
            f"{PEER_DIR}/selkit-probe", targets))
    return config
def _shell_command(argv: list[str]) -> str:
    """``argv`` as a shell command for ``eval``; ``$VICTIM_PID`` is left to the guest."""
    return " ".join('"$VICTIM_PID"' if arg == "$VICTIM_PID" else shlex.quote(arg)
                    for arg in argv)

