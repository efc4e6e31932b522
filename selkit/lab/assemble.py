"""Building the guest for one scenario: the daemon and its peer, the spec's labels, the
scenario's files, the harness and the probe, and the configuration the guest scripts read."""

from __future__ import annotations

import shlex
from pathlib import Path

from selkit.diagnostics import Diagnostic, DiagnosticError
from selkit.emit.seccomp import steady_filter
from selkit.ir import nodes as ir
from selkit.lab import battery, kernel
from selkit.lab.image import GuestImage, guest_script
from selkit.lab.scenarios import GuestFile, Scenario, Source, data_file
from selkit.lab.verdict import context_of

#: Guest paths the battery attacks (see stage2.sh for the services behind them).
DATA_FILE = "/home/alice/secret.txt"
DROP_DIR = "/tmp"
CONNECT_TARGET = "127.0.0.1:25"   # smtp_port_t: relaying mail, which no spec allows
BIND_PORT = 4444
MODULE_FILE = "/usr/lib/modules/dummy.ko"


def spec_directories(module: ir.PolicyModule) -> list[tuple[str, str]]:
    """``(path, type)`` for every directory the spec labels (jails, configuration trees)."""
    return [(fc.path, fc.type) for fc in module.file_contexts
            if fc.path is not None and (fc.regex.endswith(ir.TREE_SUFFIX) or fc.kind == "dir")]


def switch_option(module: ir.PolicyModule, context: str) -> str:
    """The daemon's switch option with the steady context filled in."""
    for switch in module.switches:
        if switch.option:
            return switch.option.replace("{context}", context)
    return ""


def file_data(scenario: Scenario, file: GuestFile, tree: Path | None) -> bytes:
    """The content of one of the scenario's files; SEL769 when the build lacks it."""
    if file.source is Source.PACKAGE:
        return data_file(file.name)
    if tree is None or not (tree / file.name).is_file():
        raise DiagnosticError([Diagnostic(
            "SEL769", f"{scenario.daemon}: no {file.what or file.name} in the build")])
    return (tree / file.name).read_bytes()


def build_image(scenario: Scenario, module: ir.PolicyModule, binaries: dict[str, Path],
                probe: Path | None, the_kernel: kernel.Kernel, tree: Path | None = None,
                *, bench: bool = False) -> GuestImage:
    """The guest for one scenario; ``tree`` is the daemon's built source tree. ``bench``: after
    the traffic the guest measures the tunnel (``scenario_bench``) and stops there."""
    image = GuestImage()
    image.modules = the_kernel.modules_in_load_order(list(scenario.kernel_modules))
    image.label("/lab/daemon", module.exec_type)
    image.label("/home/alice", "user_home_t")
    image.label("/usr/lib/modules", "modules_object_t")
    for path, type_ in spec_directories(module):
        image.label(path, type_, writable=True)
    image.dirs.update(scenario.jail_dirs)
    image.put_binary(f"/lab/daemon/{scenario.binary}", binaries[scenario.binary])
    image.put_binary(f"/lab/peer/{scenario.peer}", binaries[scenario.peer])
    image.put_binary("/bin/ip", "/bin/ip")
    image.put("/lab/harness/stage2.sh", guest_script("stage2.sh"), 0o755)
    image.put("/lab/harness/scenario.sh", scenario.script())
    image.put(DATA_FILE, b"the data on the stepping stone: customer records\n", 0o600)
    image.put(MODULE_FILE, dict(the_kernel.modules_in_load_order(["dummy"]))["dummy"])
    for file in scenario.files:
        image.put(file.path, file_data(scenario, file, tree), file.mode)
    image.config = _config(scenario, module, probe is not None)
    image.config["LAB_BENCH"] = "1" if bench else ""
    if probe is not None:
        image.put("/lab/daemon/selkit-probe", probe.read_bytes(), 0o755)
        image.put("/lab/peer/selkit-probe", probe.read_bytes(), 0o755)
    return image


def _config(scenario: Scenario, module: ir.PolicyModule, with_probe: bool) -> dict[str, str]:
    """The variables the guest scripts read (``.lab/config.sh``)."""
    startup_ctx = context_of(module.entry.domain)
    steady_ctx = context_of(module.steady.domain)
    config = {
        "LAB_ENFORCE": "1",
        "LAB_DAEMON": f"/lab/daemon/{scenario.binary}",
        "LAB_SWITCH_OPTION": switch_option(module, steady_ctx),
        "LAB_NAME": scenario.binary,
        "LAB_SETTLE": str(scenario.settle_seconds),
        "LAB_PROBE_STEADY": "",
        "LAB_PROBE_FILTERED": "",
        "LAB_PROBE_DEFAULT": "",
    }
    if with_probe:
        targets = battery.Targets(victim="$VICTIM_PID", data=DATA_FILE, drop_dir=DROP_DIR,
                                  connect=CONNECT_TARGET, bind=BIND_PORT, module=MODULE_FILE,
                                  startup=startup_ctx)
        config["LAB_PROBE_STEADY"] = _shell_command(battery.probe_argv(
            "/lab/daemon/selkit-probe", targets, steady=steady_ctx))
        # The same switch, each attempt under the steady filter the daemon's patch loads.
        config["LAB_PROBE_FILTERED"] = _shell_command(battery.probe_argv(
            "/lab/daemon/selkit-probe", targets, steady=steady_ctx,
            seccomp=steady_filter(module).bytes))
        config["LAB_PROBE_DEFAULT"] = _shell_command(battery.probe_argv(
            "/lab/peer/selkit-probe", targets))
    return config


def _shell_command(argv: list[str]) -> str:
    """``argv`` as a shell command for ``eval``; ``$VICTIM_PID`` is left to the guest."""
    return " ".join('"$VICTIM_PID"' if arg == "$VICTIM_PID" else shlex.quote(arg)
                    for arg in argv)

