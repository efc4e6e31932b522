"""``selkit lab``: build what the guest needs, boot it once per daemon, and judge the run.

The verdict for one daemon is positive when the tunnel passed traffic, the daemon reached its
steady domain, no denial was seen outside the attack battery, and every attack of the battery
was denied in the steady domain with an AVC naming it.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from selkit import projects
from selkit.base import BaseSpec, load_kb
from selkit.diagnostics import Diagnostic, DiagnosticError
from selkit.ir import nodes as ir
from selkit.lab import battery, kernel, vm
from selkit.lab.avc import Avc, lost_records, parse_avcs
from selkit.lab.image import GuestImage, guest_script
from selkit.lab.policy import LabPolicy, build_policy
from selkit.lab.scenarios import BY_DAEMON, SCENARIOS, Scenario, data_file

Progress = Callable[[str], None]

REPO_POLICIES = Path(__file__).resolve().parents[2] / "policies"
RESULT_PREFIX = "SELKIT-LAB "
BLOCK, BLOCK_END = "SELKIT-LAB-BLOCK ", "SELKIT-LAB-BLOCK-END"
MARK = "SELKIT-LAB-MARK "

#: Guest paths the battery attacks (see stage2.sh for the services behind them).
DATA_FILE = "/home/alice/secret.txt"
DROP_DIR = "/tmp"
CONNECT_TARGET = "127.0.0.1:25"   # smtp_port_t: relaying mail, which no spec allows
BIND_PORT = 4444
MODULE_FILE = "/usr/lib/modules/dummy.ko"


@dataclass(frozen=True)
class Tunnel:
    """What the legitimate traffic did."""

    kind: str                    # "tcp" (bytes echoed through the tunnel) or "icmp" (ping)
    traffic: bool
    bytes_sent: int | None
    bytes_received: int
    packets_received: int | None = None

    def to_dict(self) -> dict:
        """JSON form."""
        return {"kind": self.kind, "traffic": self.traffic, "bytes_sent": self.bytes_sent,
                "bytes_received": self.bytes_received,
                "packets_received": self.packets_received}


@dataclass(frozen=True)
class DaemonState:
    """The daemon's contexts: ``seen`` every context its processes showed while it started
    (sampled every 0.1 s), ``after`` /proc/PID/attr/current once the tunnel carried traffic,
    ``threads`` the current one per thread, ``exec_parent`` /proc/PID/attr/prev (the domain
    that exec'd it: setcon does not change it)."""

    pid: int | None
    after: str | None
    threads: tuple[str, ...] = ()
    seen: tuple[str, ...] = ()
    exec_parent: str | None = None

    def before(self, startup_context: str) -> str | None:
        """The context observed before the switch: the startup one if it was seen, else the
        first one seen that differs from the final one."""
        if startup_context in self.seen:
            return startup_context
        return next((c for c in self.seen if c != self.after), None)


@dataclass(frozen=True)
class LabResult:
    """One daemon's lab run."""

    daemon: str
    module: str
    spec: str
    startup_domain: str
    steady_domain: str
    steady_context: str
    peer: str
    tunnel: Tunnel | None
    state: DaemonState
    denials: tuple[Avc, ...]            # outside the battery: legitimate use and the harness
    steady: tuple[battery.AttackResult, ...]
    default: tuple[battery.AttackResult, ...]
    switch: battery.SwitchReport | None
    default_context: str | None
    problems: tuple[str, ...]
    seconds: float                      # boot to verdict
    lost_records: int = 0
    suggestions: tuple = ()
    logs: dict[str, str] = field(default_factory=dict)
    kept: str | None = None

    @property
    def ok(self) -> bool:
        """Tunnel works, no unexpected denial, every attack denied."""
        return not self.problems


# ---------------------------------------------------------------------------------------------
# Reading the guest's output


@dataclass(frozen=True)
class GuestOutput:
    """The results port, split into JSON events and named text blocks."""

    events: tuple[dict, ...]
    blocks: dict[str, str]
    done: bool

    def step(self, name: str) -> dict | None:
        """The last event of step ``name``."""
        found = [e for e in self.events if e.get("step") == name]
        return found[-1] if found else None


def parse_output(text: str) -> GuestOutput:
    """Events (``SELKIT-LAB {json}``), blocks and whether the guest said it was done."""
    events, blocks, current, lines, done = [], {}, None, [], False
    for line in text.replace("\r", "").splitlines():
        if current is not None:
            if line == BLOCK_END:
                blocks[current] = "\n".join(lines) + ("\n" if lines else "")
                current, lines = None, []
            else:
                lines.append(line)
            continue
        if line.startswith(BLOCK):
            current, lines = line[len(BLOCK):].strip(), []
        elif line.startswith(RESULT_PREFIX):
            try:
                event = json.loads(line[len(RESULT_PREFIX):])
            except ValueError:
                continue
            if isinstance(event, dict):
                events.append(event)
        elif line.strip() == vm.DONE_MARKER.decode():
            done = True
    if current is not None:
        blocks[current] = "\n".join(lines) + "\n"
    return GuestOutput(tuple(events), blocks, done)


def dmesg_segments(dmesg: str) -> dict[str, str]:
    """dmesg split at the harness's marks: ``boot`` (before the first) and one per mark."""
    segments: dict[str, list[str]] = {"boot": []}
    current = "boot"
    for line in dmesg.splitlines():
        at = line.find(MARK)
        if at >= 0:
            current = line[at + len(MARK):].strip()
            segments.setdefault(current, [])
            continue
        segments[current].append(line)
    return {name: "\n".join(lines) + "\n" for name, lines in segments.items()}


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def tunnel_of(output: GuestOutput) -> Tunnel | None:
    """The ``tunnel`` event as a :class:`Tunnel`."""
    event = output.step("tunnel")
    if event is None:
        return None
    return Tunnel(str(event.get("kind", "")), bool(event.get("traffic")),
                  _int(event.get("bytes_sent")), _int(event.get("bytes_received")) or 0,
                  _int(event.get("packets_received")))


def state_of(output: GuestOutput) -> DaemonState:
    """The ``daemon`` event as a :class:`DaemonState`."""
    event = output.step("daemon") or {}
    return DaemonState(_int(event.get("pid")), event.get("current") or None,
                       tuple(t for t in event.get("threads", ()) if t),
                       tuple(t for t in event.get("seen", ()) if t),
                       event.get("exec_parent") or None)


# ---------------------------------------------------------------------------------------------
# Judging one run


def judge(scenario: Scenario, module: ir.PolicyModule, output: GuestOutput, seconds: float,
          *, probe_ran: bool) -> LabResult:
    """Everything the report shows, and what falls short."""
    startup, steady = module.entry.domain, module.steady.domain
    steady_context = context_of(steady)
    dmesg = output.blocks.get("dmesg", "")
    segments = dmesg_segments(dmesg)
    avcs_by_segment = {name: parse_avcs(text) for name, text in segments.items()}
    steady_lines = output.blocks.get("probe-steady", "")
    default_lines = output.blocks.get("probe-default", "")
    steady_results = battery.score(steady_lines, avcs_by_segment.get("probe-steady", []))
    default_results = battery.score(default_lines, avcs_by_segment.get("probe-default", []))
    probe_pids = {r.pid for r in (*steady_results, *default_results) if r.pid is not None}
    for lines in (steady_lines, default_lines):
        probe_pids.update(_probe_process_ids(lines))
    denials = tuple(a for avcs in avcs_by_segment.values() for a in avcs
                    if a.denied and a.pid not in probe_pids)
    tunnel, state = tunnel_of(output), state_of(output)
    switch = battery.switch_report(steady_lines)
    default_header = battery.battery_header(default_lines)

    problems = []
    if not output.done:
        problems.append("the guest did not finish (timeout or crash); see the console log")
    if output.step("policy") is not None:
        problems.append(f"the guest could not load the policy: {output.step('policy')}")
    if tunnel is None or not tunnel.traffic:
        problems.append("no traffic passed through the tunnel")
    if state.after != steady_context:
        problems.append(f"the daemon is not in its steady domain ({state.after or 'not running'}"
                        f", expected {steady_context})")
    for avc in denials:
        problems.append(f"denied outside the battery: {avc.rule} (comm {avc.comm}, pid {avc.pid})")
    if probe_ran:
        if switch is None or not switch.ok:
            problems.append("the probe could not enter the steady domain: "
                            + (switch.detail if switch else "no switch report"))
        problems.extend(battery.verdict(steady_results, steady).problems)
    else:
        problems.append("the attack battery did not run")
    return LabResult(
        daemon=scenario.daemon, module=module.name, spec=module.source_path,
        startup_domain=startup, steady_domain=steady, steady_context=steady_context,
        peer=scenario.peer_role, tunnel=tunnel, state=state, denials=denials,
        steady=tuple(steady_results), default=tuple(default_results), switch=switch,
        default_context=default_header.context if default_header else None,
        problems=tuple(problems), seconds=seconds, lost_records=lost_records(dmesg),
        logs={k: v for k, v in output.blocks.items() if k != "dmesg"})


def _probe_process_ids(lines: str) -> set[int]:
    """The probe's own processes (the battery runner and the startup-domain parent of a
    switch), whose AVCs belong to the battery, not to the daemon."""
    pids = set()
    for line in lines.splitlines():
        start = line.find("{")
        try:
            event = json.loads(line[start:]) if start >= 0 else None
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("event") in ("switch", "battery"):
            pids.update(v for k, v in event.items() if k in ("pid", "parent")
                        and isinstance(v, int))
    return pids


def context_of(domain: str) -> str:
    """The process context of ``domain`` in the refpolicy (MLS, s0)."""
    return f"system_u:system_r:{domain}:s0"


# ---------------------------------------------------------------------------------------------
# Building the guest


def spec_directories(module: ir.PolicyModule) -> list[tuple[str, str]]:
    """``(path, type)`` for every directory the spec labels (jails, configuration trees)."""
    out = []
    for fc in module.file_contexts:
        regex = fc.regex
        if regex.endswith("(/.*)?"):
            out.append((regex[: -len("(/.*)?")], fc.type))
        elif fc.kind == "dir":
            out.append((regex, fc.type))
    return [(path.replace("\\.", "."), type_) for path, type_ in out
            if not any(ch in path.replace("\\.", "") for ch in "[]()*+?|^$")]


def switch_option(module: ir.PolicyModule, context: str) -> str:
    """The daemon's switch option with the steady context filled in."""
    for switch in module.switches:
        if switch.option:
            return switch.option.replace("{context}", context)
    return ""


def build_image(scenario: Scenario, module: ir.PolicyModule, binaries: dict[str, Path],
                probe: Path | None, the_kernel: kernel.Kernel, keys: Path | None = None
                ) -> GuestImage:
    """The guest for one scenario."""
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
    if scenario.daemon == "openvpn":
        if keys is None:
            raise DiagnosticError([Diagnostic("SEL769", "openvpn: no sample keys in the build")])
        image.put("/etc/openvpn/server.conf", data_file("openvpn-server.conf"))
        for name in ("ca.crt", "server.crt", "server.key"):
            image.put(f"/etc/openvpn/{name}", (keys / name).read_bytes(), 0o600)
        for name in ("ca.crt", "client.crt", "client.key"):
            image.put(f"/lab/peer/keys/{name}", (keys / name).read_bytes(), 0o600)
    startup_ctx = context_of(module.entry.domain)
    steady_ctx = context_of(module.steady.domain)
    config = {
        "LAB_ENFORCE": "1",
        "LAB_DAEMON": f"/lab/daemon/{scenario.binary}",
        "LAB_SWITCH_OPTION": switch_option(module, steady_ctx),
        "LAB_NAME": scenario.binary,
        "LAB_SETTLE": str(scenario.settle_seconds),
        "LAB_PROBE_STEADY": "",
        "LAB_PROBE_DEFAULT": "",
    }
    if probe is not None:
        image.put("/lab/daemon/selkit-probe", probe.read_bytes(), 0o755)
        image.put("/lab/peer/selkit-probe", probe.read_bytes(), 0o755)
        targets = battery.Targets(victim="$VICTIM_PID", data=DATA_FILE, drop_dir=DROP_DIR,
                                  connect=CONNECT_TARGET, bind=BIND_PORT, module=MODULE_FILE,
                                  startup=startup_ctx)
        config["LAB_PROBE_STEADY"] = _shell_command(battery.probe_argv(
            "/lab/daemon/selkit-probe", targets, steady=steady_ctx))
        config["LAB_PROBE_DEFAULT"] = _shell_command(battery.probe_argv(
            "/lab/peer/selkit-probe", targets))
    image.config = config
    return image


def _shell_command(argv: list[str]) -> str:
    """``argv`` as a shell command for ``eval``; ``$VICTIM_PID`` is left to the guest."""
    return " ".join('"$VICTIM_PID"' if arg == "$VICTIM_PID" else shlex.quote(arg)
                    for arg in argv)


# ---------------------------------------------------------------------------------------------
# Running


@dataclass
class Prepared:
    """What every scenario shares: kernel, busybox, policy, probe."""

    kernel: kernel.Kernel
    busybox: Path
    policy: LabPolicy
    probe: Path | None


def daemons(name: str) -> list[Scenario]:
    """The scenarios ``name`` selects (a daemon or ``all``); SEL770 for anything else."""
    if name == "all":
        return list(SCENARIOS)
    if name not in BY_DAEMON:
        raise DiagnosticError([Diagnostic(
            "SEL770", f"no lab scenario for '{name}'",
            hint=f"choose one of: {', '.join(BY_DAEMON)}, all")])
    return [BY_DAEMON[name]]


def spec_paths(spec_dir: Path, chosen: Sequence[Scenario]) -> list[str]:
    """Every ``.sel`` in ``spec_dir``; SEL768 if there is none or a chosen daemon's is missing
    (checked before anything is downloaded or built)."""
    specs = sorted(str(p) for p in Path(spec_dir).glob("*.sel"))
    missing = [s.spec for s in chosen if not (Path(spec_dir) / s.spec).is_file()]
    if not specs or missing:
        raise DiagnosticError([Diagnostic(
            "SEL768", f"no {', '.join(missing) or '.sel specs'} in {spec_dir}",
            hint="the lab links every .sel of the directory and runs the chosen daemons")])
    return specs


def prepare(spec_dir: Path = REPO_POLICIES, progress: Progress | None = None,
            with_probe: bool = True, chosen: Sequence[Scenario] = SCENARIOS) -> Prepared:
    """Download the kernel and busybox, build the policy and the probe."""
    specs = spec_paths(spec_dir, chosen)
    the_kernel = kernel.fetch_kernel(progress)
    busybox = kernel.fetch_busybox(progress)
    policy = build_policy(specs, progress)
    probe = battery.build_probe(progress) if with_probe else None
    return Prepared(the_kernel, busybox, policy, probe)


def run_one(scenario: Scenario, prepared: Prepared, *, keep: Path | None = None,
            progress: Progress | None = None, timeout: float = 300.0,
            with_suggestions: bool = False, build=None) -> LabResult:
    """Build, boot and judge one daemon; ``build`` replaces ``selkit.projects.build(project)``
    (e.g. a build with an extra patch under test)."""
    say = progress or (lambda _msg: None)
    module = prepared.policy.module(scenario.daemon)
    if build is None:
        build = projects.build(scenario.project, progress=say)
    keys = build.tree / "sample" / "sample-keys" if build.tree else None
    image = build_image(scenario, module, build.binaries, prepared.probe, prepared.kernel, keys)
    say(f"{scenario.daemon}: assembling the initramfs")
    archive = image.initramfs(prepared.busybox, prepared.policy.path.read_bytes()).gzip()
    workdir = Path(keep) / scenario.daemon if keep else \
        Path(tempfile.mkdtemp(prefix=f"selkit-lab-{scenario.daemon}-"))
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        initrd = workdir / "initrd.gz"
        initrd.write_bytes(archive)
        start = time.monotonic()
        boot = vm.boot(prepared.kernel.vmlinuz, initrd, workdir, timeout=timeout,
                       progress=lambda msg: say(f"{scenario.daemon}: {msg}"))
        output = parse_output(boot.results.read_text(errors="replace"))
        result = judge(scenario, module, output, time.monotonic() - start,
                       probe_ran=prepared.probe is not None)
        if with_suggestions and result.denials:
            result = _with_suggestions(result, prepared)
        if keep:
            (workdir / "dmesg.txt").write_text(output.blocks.get("dmesg", ""))
            (workdir / "selkit_lab.cil").write_text(prepared.policy.lab_module)
            shutil.copyfile(prepared.policy.path, workdir / "policy.33")
            result = dataclasses.replace(result, kept=str(workdir))
        return result
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def _with_suggestions(result: LabResult, prepared: Prepared) -> LabResult:
    from selkit.lab.suggest import suggest  # noqa: PLC0415

    kb = load_kb(BaseSpec())
    found = suggest(list(result.denials), prepared.policy.modules, kb,
                    prepared.policy.programs)
    return dataclasses.replace(result, suggestions=tuple(found))


__all__ = ["LabResult", "Tunnel", "DaemonState", "run_one", "prepare", "daemons",
           "judge", "parse_output", "dmesg_segments", "build_image"]
