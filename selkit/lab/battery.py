"""The attack battery: the static probe the guest runs, its command line, and its scoring.

The probe (``probe/probe.c``, documented in its header) tries, each in a forked child, what a
compromised daemon must not be able to do, and prints one JSON line per attempt. It runs as root
in the domain under test, so a denial it reports is SELinux's, not DAC's; :func:`score` pairs each
line with the AVCs whose ``pid`` is the attempt's, and :func:`verdict` asks that every attack was
denied with an AVC naming the steady domain.

In switch mode the steady-domain process writes its lines to shared memory and the probe's parent,
still in the startup domain, prints them: the steady domain needs no grant on the harness's
stdout. What the guest must provide: printk rate limiting off (``echo 0 >
/proc/sys/kernel/printk_ratelimit``) or most AVCs never reach dmesg (see :mod:`selkit.lab.avc`);
``lo`` up and a listener for ``connect``; a ``probe victim`` of the same binary; the probe on a
file labelled ``<daemon>_startup_exec_t`` so that exec from init_t enters the startup domain.
A dontaudit rule would hide a denial's AVC and fail the verdict; a policy built with dontaudit
off (``semodule -DB``) shows it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from selkit.diagnostics import Diagnostic
from selkit.lab.kernel import lab_cache
from selkit.progress import Progress
from selkit.suggest.avc import Avc
from selkit.suggest.syscalls import SeccompRecord
from selkit.toolchain import ToolchainError

#: The probe's sources: probe.c (modes, running, output), selinux_attacks.c,
#: syscall_attacks.c and their probe.h.
PROBE_DIR = Path(__file__).with_name("probe")
CFLAGS = ("-static", "-no-pie", "-O2", "-Wall", "-Wextra", "-Werror", "-std=gnu11")

DENIED, ALLOWED, ERROR, KILLED = "denied", "allowed", "error", "killed"
#: ``killed``: the attempt died of SIGSYS, a seccomp filter's kill (only under ``--seccomp``).
OUTCOMES = (DENIED, ALLOWED, ERROR, KILLED)
#: What stops an attack: SELinux alone (expected denied without a filter), or the steady
#: seccomp filter (SELinux mediates these partly or not at all; see :mod:`.filter_verdict`).
SELINUX, SECCOMP = "selinux", "seccomp"
NO_RESULT = "no result (probe crashed?)"


@dataclass(frozen=True)
class Attack:
    """One row of the attack table.

    ``avc_hint`` is the ``class:permission`` the attack is about; the kernel checks others on
    the way, listed in ``other_gates``, and a confined domain may be stopped at one of them
    first (a steady domain without any TCP socket is denied ``tcp_socket:create`` before
    ``name_bind``). ``needs`` is the probe
    option without which the attack is not run; ``syscalls`` what the probe calls, in order;
    ``proves`` what a denial shows. ``layer`` is what must stop it: SELinux alone, or the
    steady seccomp filter (then ``syscalls`` name the calls made after the filter is loaded;
    ``i386:NAME`` and ``x32:NAME`` are calls by another ABI's number).
    """

    name: str
    title: str
    avc_hint: str
    syscalls: tuple[str, ...]
    proves: str
    needs: str | None = None
    other_gates: tuple[str, ...] = ()
    expect: str = DENIED
    layer: str = SELINUX


SELINUX_ATTACKS: tuple[Attack, ...] = (
    Attack("read-file", "read a data file", "file:read", ("openat", "read"),
           "it cannot read data on the stepping stone", "--data",
           other_gates=("file:open", "dir:search")),
    Attack("write-file", "append to a data file", "file:append", ("openat", "write"),
           "it cannot tamper with that data", "--data",
           other_gates=("file:write", "file:open", "dir:search")),
    Attack("drop-exec", "create a script and exec it", "dir:write", ("openat", "write", "execve"),
           "it cannot drop a program and run it", "--drop-dir",
           other_gates=("dir:search", "dir:add_name", "file:create", "file:write",
                        "file:execute")),
    Attack("exec-shell", "exec a shell", "file:execute", ("execve",),
           "it cannot start a shell",
           other_gates=("dir:search", "file:read", "file:open", "file:execute_no_trans",
                        "file:map")),
    Attack("ptrace", "ptrace another process", "process:ptrace", ("ptrace", "wait4", "ptrace"),
           "it cannot take over another process", "--victim"),
    Attack("packet-sock", "open a packet socket (sniff)", "packet_socket:create", ("socket",),
           "it cannot sniff the link",
           other_gates=("capability:net_raw",)),
    Attack("raw-sock", "open a raw TCP socket", "rawip_socket:create", ("socket",),
           "it cannot forge packets on a raw socket its spec does not declare",
           other_gates=("capability:net_raw",)),
    Attack("connect", "connect to a port the spec does not allow", "tcp_socket:name_connect",
           ("socket", "connect"), "it cannot relay to or attack other machines' services",
           "--connect",
           other_gates=("tcp_socket:create", "tcp_socket:connect")),
    Attack("bind", "listen on a new port", "tcp_socket:name_bind", ("socket", "bind", "listen"),
           "it cannot open a new service (backdoor)", "--bind",
           other_gates=("tcp_socket:create", "tcp_socket:bind", "tcp_socket:listen",
                        "tcp_socket:node_bind")),
    Attack("setuid", "change uid (setresuid)", "capability:setuid", ("getresuid", "setresuid"),
           "no process of the domain can change uid, so none can regain root"),
    Attack("module-load", "load a kernel module (finit_module)", "capability:sys_module",
           ("openat", "finit_module"), "it cannot load kernel code from a file", "--module",
           other_gates=("file:read", "file:open", "dir:search", "system:module_load")),
    Attack("module-init", "load a kernel module (init_module)", "capability:sys_module",
           ("openat", "newfstatat", "read", "init_module"),
           "it cannot load kernel code from memory",
           other_gates=("file:read", "file:open")),
    Attack("setcon-back", "switch back to the startup domain", "process:setcurrent",
           ("openat", "pwrite64"), "it cannot regain the startup domain's rights", "--startup",
           other_gates=("file:write", "file:open", "process:dyntransition")),
    Attack("signal", "signal another process", "process:signal", ("kill",),
           "it cannot signal (or kill) other processes", "--victim"),
    Attack("mem-read", "read another process's memory (process_vm_readv)", "process:ptrace",
           ("process_vm_readv",), "it cannot read other processes' secrets", "--victim"),
    Attack("proc-mem", "read another process's memory (/proc/PID/mem)", "process:ptrace",
           ("openat", "pread64"), "nor through /proc", "--victim",
           other_gates=("dir:search", "file:read", "file:open")),
)


def _syscall_attack(name: str, title: str, calls: tuple[str, ...], proves: str,
                    needs: str | None = None) -> Attack:
    return Attack(name, title, "", calls, proves, needs, layer=SECCOMP)


#: Kernel attack surface a tunnel daemon never needs in steady: SELinux checks some of these
#: calls on objects (a pipe, a key, a namespace's capability), most not at all.
SYSCALL_ATTACKS: tuple[Attack, ...] = (
    _syscall_attack("vmsplice", "vmsplice a page into a pipe", ("vmsplice", "write"),
                    "no page-cache and pipe-buffer bugs (the Dirty Pipe family)"),
    _syscall_attack("splice", "splice between pipes", ("splice",),
                    "no splice paths into the page cache"),
    _syscall_attack("io-uring", "set up an io_uring", ("io_uring_setup",),
                    "no io_uring, the source of many kernel privilege escalations"),
    _syscall_attack("userfaultfd", "open a userfaultfd", ("userfaultfd",),
                    "no page-fault stalls that widen kernel race windows"),
    _syscall_attack("bpf", "create a BPF map", ("bpf",),
                    "no eBPF: no verifier bugs, no programs in the kernel"),
    _syscall_attack("perf-event", "open a perf event", ("perf_event_open",),
                    "no perf subsystem (a long list of kernel bugs)"),
    _syscall_attack("add-key", "add a key to a keyring", ("add_key",),
                    "no kernel keyring objects"),
    _syscall_attack("keyctl", "join a new session keyring", ("keyctl",),
                    "no keyring operations (keyctl refcount bugs)"),
    _syscall_attack("userns", "create a user namespace", ("unshare",),
                    "no user namespace, where root's capabilities open more of the kernel "
                    "(Debian 12's policy has no class to refuse it)"),
    _syscall_attack("vm-write", "write another process's memory (process_vm_writev)",
                    ("process_vm_writev",), "it cannot write other processes' memory",
                    "--victim"),
    _syscall_attack("kexec", "load a kernel to kexec", ("kexec_load",),
                    "it cannot stage a replacement kernel"),
    _syscall_attack("mount", "mount a file system", ("mount",),
                    "it cannot change the file system tree"),
    _syscall_attack("pivot-root", "pivot the root", ("chdir", "pivot_root"),
                    "it cannot change its root"),
    _syscall_attack("memfd-exec", "run a program from memory (memfd_create, execveat)",
                    ("memfd_create", "openat", "read", "write", "execveat"),
                    "it cannot run code that never touched the disk"),
    _syscall_attack("i386-call", "a call by its i386 number (int $0x80)", ("i386:getpid",),
                    "the 32-bit ABI, with its own compat code, is closed"),
    _syscall_attack("x32-call", "a call by its x32 number", ("x32:getpid",),
                    "the x32 ABI is closed (the kernel may have it off anyway)"),
)

#: Every attack, in the probe's order (``probe list``): the SELinux ones, then the calls.
ATTACKS = SELINUX_ATTACKS + SYSCALL_ATTACKS
ATTACKS_BY_NAME = {attack.name: attack for attack in ATTACKS}


# ---------------------------------------------------------------------------------------------
# Building the probe


def probe_sources() -> list[Path]:
    """The C files compiled into the probe."""
    return sorted(PROBE_DIR.glob("*.c"))


def probe_digest() -> str:
    """The build key: every source and header of the probe, and the compiler flags."""
    digest = hashlib.sha256()
    for path in sorted([*PROBE_DIR.glob("*.c"), *PROBE_DIR.glob("*.h")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update("\0".join(CFLAGS).encode())
    return digest.hexdigest()[:16]


def build_probe(progress: Progress | None = None) -> Path:
    """The static probe, compiled into the cache (``probe-<digest>``) unless it is there."""
    target = lab_cache() / f"probe-{probe_digest()}"
    if target.is_file():
        return target
    gcc = shutil.which("gcc")
    if gcc is None:
        raise ToolchainError([Diagnostic("SEL781", "'gcc' is not installed",
                                         hint="apt-get install gcc libc6-dev")])
    if progress:
        progress("building the attack probe")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="probe-", dir=target.parent) as tmp:
        built = Path(tmp, "probe")
        result = subprocess.run([gcc, *CFLAGS, "-o", str(built),
                                 *(str(p) for p in probe_sources())],
                                capture_output=True, text=True, check=False,
                                env={**os.environ, "LC_ALL": "C"})
        if result.returncode != 0 or not built.is_file():
            output = (result.stderr + result.stdout).strip()
            hint = output
            if "cannot find -lc" in output:
                hint = "the static C library is missing: apt-get install libc6-dev\n" + output
            raise ToolchainError([Diagnostic(
                "SEL782", f"the attack probe does not compile ({PROBE_DIR})", hint=hint)])
        os.replace(built, target)
    return target


# ---------------------------------------------------------------------------------------------
# The probe's command line


@dataclass(frozen=True)
class Targets:
    """What the battery attacks (see probe.c's header); ``None`` leaves an attack not run.

    ``victim`` must be a ``probe victim`` process of the same build (a pid, or a shell
    expression such as ``"$VICTIM_PID"`` that the guest's shell expands) (mem-read and proc-mem
    compare the bytes they read with its secret). ``connect`` is ``HOST:PORT`` of a listening
    service the spec does not allow; ``bind`` a free port it does not allow; ``startup`` the
    daemon's startup context.
    """

    victim: int | str | None = None
    data: str | None = None
    drop_dir: str | None = None
    shell: str = "/bin/sh"
    connect: str | None = None
    bind: int | str | None = None
    module: str | None = None
    startup: str | None = None
    uid_target: int = 65534
    timeout: int = 5
    only: tuple[str, ...] = ()


def probe_argv(probe: str | Path, targets: Targets, *, steady: str | None = None,
               chroot: str | None = None, uid: int | None = None, gid: int | None = None,
               seccomp: bytes | None = None) -> list[str]:
    """The probe's command line: ``switch STEADY ... -- battery ...`` when ``steady`` is given
    (the confined run, started by exec in the startup domain), else ``battery ...``.

    ``chroot``/``uid``/``gid`` mirror the daemon's own drop before its switch; the lab's main
    run leaves them unset so the battery runs as root and every denial is SELinux's, and a
    second run sets them to the daemon's user (DAC and SELinux together). With ``chroot`` the target
    paths are inside the jail, and attacks that need /proc or a shell there end in "error"
    (ENOENT), not "denied": the lab runs the battery without it. ``seccomp`` is a filter
    program (sock_filter bytes) each attempt loads before it runs, as the daemons' patches
    load theirs after the switch.
    """
    unknown = [name for name in targets.only if name not in ATTACKS_BY_NAME]
    if unknown:
        raise ValueError(f"unknown attacks: {', '.join(unknown)}")
    argv = [str(probe)]
    if steady is not None:
        argv += ["switch", steady]
        if chroot is not None:
            argv += ["--chroot", chroot]
        if uid is not None:
            argv += ["--uid", str(uid)]
        if gid is not None:
            argv += ["--gid", str(gid)]
        argv.append("--")
    argv.append("battery")
    options = (("--victim", targets.victim), ("--data", targets.data),
               ("--drop-dir", targets.drop_dir), ("--shell", targets.shell),
               ("--connect", targets.connect), ("--bind", targets.bind),
               ("--module", targets.module), ("--startup", targets.startup),
               ("--uid-target", targets.uid_target), ("--timeout", targets.timeout),
               ("--only", ",".join(targets.only) or None),
               ("--seccomp", seccomp.hex() if seccomp is not None else None))
    for option, value in options:
        if value is not None:
            argv += [option, str(value)]
    return argv


# ---------------------------------------------------------------------------------------------
# Reading the probe's output


@dataclass(frozen=True)
class AttackResult:
    """One attack's outcome and the AVCs and seccomp records its attempt (``pid``) caused."""

    attack: Attack
    outcome: str
    pid: int | None
    errno: str | None
    syscall: str | None
    detail: str
    avcs: tuple[Avc, ...] = ()
    seccomp: tuple[SeccompRecord, ...] = ()

    @property
    def as_expected(self) -> bool:
        """The outcome is the one a confined domain must see."""
        return self.outcome == self.attack.expect

    def denials_by(self, domain: str) -> tuple[Avc, ...]:
        """The denial records of this attempt whose source is ``domain``."""
        return tuple(avc for avc in self.avcs if avc.denied and avc.stype == domain)

    def deciding_denial(self, domain: str) -> Avc | None:
        """The denial by ``domain`` that stopped the attempt: the one on ``avc_hint`` if the
        kernel got that far, else the first on another gate, else the first of the attempt."""
        denials = self.denials_by(domain) or tuple(a for a in self.avcs if a.denied)
        for hints in ((self.attack.avc_hint,), self.attack.other_gates):
            for avc in denials:
                if _seen((avc,), hints):
                    return avc
        return denials[0] if denials else None

    @property
    def hint_seen(self) -> bool:
        """Some AVC of the attempt is on the class and permission ``avc_hint`` names."""
        return _seen(self.avcs, (self.attack.avc_hint,))

    @property
    def gate_seen(self) -> bool:
        """Some AVC of the attempt is on ``avc_hint`` or one of the attack's other gates."""
        return _seen(self.avcs, (self.attack.avc_hint, *self.attack.other_gates))


def _seen(avcs: tuple[Avc, ...], hints: tuple[str, ...]) -> bool:
    wanted = {tuple(hint.split(":", 1)) for hint in hints}
    return any((avc.tclass, perm) in wanted for avc in avcs for perm in avc.perms)


@dataclass(frozen=True)
class SwitchReport:
    """The probe's ``switch`` event: the contexts before and after the pwrite() by ``pid``;
    ``parent_pid`` is the probe process that stayed in the startup domain and printed."""

    pid: int | None
    requested: str
    before: str | None
    after: str | None
    ok: bool
    errno: str | None
    detail: str
    parent_pid: int | None = None


@dataclass(frozen=True)
class BatteryHeader:
    """Who ran the battery: the probe's pid, euid and context (when readable)."""

    pid: int
    uid: int
    context: str | None


def _events(lines: str) -> Iterable[dict]:
    """The JSON objects in the probe's output; other text (prefixes, noise) is skipped."""
    for line in lines.splitlines():
        start = line.find("{")
        if start < 0:
            continue
        try:
            event = json.loads(line[start:])
        except ValueError:
            continue
        if isinstance(event, dict):
            yield event


def switch_report(lines: str) -> SwitchReport | None:
    """The ``switch`` event of a confined run, or None (a ``battery``-only run)."""
    for event in _events(lines):
        if event.get("event") == "switch":
            pid, parent = (event.get(key) if isinstance(event.get(key), int) else None
                           for key in ("pid", "parent"))
            return SwitchReport(pid, str(event.get("requested", "")), event.get("before"),
                                event.get("after"), bool(event.get("ok")), event.get("errno"),
                                str(event.get("detail", "")), parent)
    return None


def battery_header(lines: str) -> BatteryHeader | None:
    """The ``battery`` event: which process, uid and context ran the attacks."""
    for event in _events(lines):
        if event.get("event") == "battery" and isinstance(event.get("pid"), int):
            return BatteryHeader(event["pid"], int(event.get("uid", -1)), event.get("context"))
    return None


def score(lines: str, avcs: list[Avc], attacks: tuple[Attack, ...] = ATTACKS,
          records: Sequence[SeccompRecord] = ()) -> list[AttackResult]:
    """One result per attack, in table order, with the AVCs and seccomp ``records`` whose pid is
    the attempt's.

    ``lines`` is the probe's stdout (lines may carry a prefix before the JSON). An attack with
    no line is an error with detail :data:`NO_RESULT`; a line with an unknown outcome is an
    error too. The first line for an attack counts.
    """
    lines_by_attack: dict[str, dict] = {}
    for event in _events(lines):
        name = event.get("attack")
        if isinstance(name, str) and "outcome" in event:
            lines_by_attack.setdefault(name, event)
    results = []
    for attack in attacks:
        reported = lines_by_attack.get(attack.name)
        if reported is None:
            results.append(AttackResult(attack, ERROR, None, None, None, NO_RESULT))
            continue
        pid = reported.get("pid") if isinstance(reported.get("pid"), int) else None
        outcome = reported.get("outcome")
        detail = str(reported.get("detail") or "")
        if outcome not in OUTCOMES:
            detail = f"unknown outcome {outcome!r}: {detail}"
            outcome = ERROR
        matched = tuple(avc for avc in avcs if pid is not None and avc.pid == pid)
        killed = tuple(r for r in records if pid is not None and r.pid == pid)
        results.append(AttackResult(attack, outcome, pid, reported.get("errno"),
                                    reported.get("syscall"), detail, matched, killed))
    return results


@dataclass(frozen=True)
class Verdict:
    """Whether the battery shows the domain confined, and what falls short."""

    passed: bool
    problems: tuple[str, ...] = field(default=())


def verdict(results: list[AttackResult], steady_type: str,
            header: BatteryHeader | None = None) -> Verdict:
    """Passed when every SELinux attack was denied and each denial has an AVC from
    ``steady_type`` (the system call attacks are the filter's: :mod:`.filter_verdict`).

    With the probe's ``header``, a battery that did not run as root fails too: its denials could
    be DAC's rather than SELinux's.
    """
    problems = []
    if header is not None and header.uid != 0:
        problems.append(f"the battery ran as uid {header.uid}, not root: a denial may be DAC's")
    for result in (r for r in results if r.attack.layer == SELINUX):
        name = result.attack.name
        if not result.as_expected:
            problems.append(f"{name}: {result.outcome}, expected {result.attack.expect}"
                            f" ({result.detail})")
        elif result.attack.expect == DENIED and not result.denials_by(steady_type):
            problems.append(f"{name}: denied ({result.errno}) but no AVC from {steady_type} "
                            f"for pid {result.pid} (a dontaudit rule, or a lost record?)")
    return Verdict(not problems, tuple(problems))
