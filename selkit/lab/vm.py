"""Boot the guest: ``qemu-system-x86_64 -accel tcg`` (never KVM, which hangs on these hosts),
the console on the first serial port into a log file, results on the second into another.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from selkit.diagnostics import Diagnostic
from selkit.toolchain import ToolchainError

QEMU = "qemu-system-x86_64"

#: The kernel command line: SELinux on but permissive until /init has loaded the policy and
#: switched to enforcing; audit on, with room for every AVC (no auditd runs in the guest).
KERNEL_ARGS = ("console=ttyS0 lsm=selinux selinux=1 enforcing=0 audit=1 "
               "audit_backlog_limit=65536 quiet panic=-1")

#: The guest prints this on the results port when it is about to power off.
DONE_MARKER = b"SELKIT-LAB-DONE"


@dataclass(frozen=True)
class Boot:
    """What a boot left behind."""

    console: Path
    results: Path
    seconds: float
    timed_out: bool
    returncode: int | None


def qemu_argv(kernel: Path, initrd: Path, console: Path, results: Path) -> list[str]:
    """The qemu command line (TCG, 1 GiB, one CPU, no display, no reboot, two serial ports to
    files)."""
    return [QEMU, "-accel", "tcg", "-m", "1024", "-smp", "1",
            "-nographic", "-no-reboot", "-nodefaults", "-display", "none",
            "-kernel", str(kernel), "-initrd", str(initrd), "-append", KERNEL_ARGS,
            "-serial", f"file:{console}", "-serial", f"file:{results}",
            "-monitor", "none"]


def boot(kernel: Path, initrd: Path, workdir: Path, *, timeout: float = 600.0,
         progress: Callable[[str], None] | None = None) -> Boot:
    """Run the guest until it powers off (or ``timeout`` seconds); return its logs."""
    qemu = shutil.which(QEMU)
    if qemu is None:
        raise ToolchainError([Diagnostic("SEL766", f"'{QEMU}' is not installed",
                                         hint="run 'sh scripts/lab-deps.sh' "
                                              "(apt-get install qemu-system-x86)")])
    workdir.mkdir(parents=True, exist_ok=True)
    console, results = workdir / "console.log", workdir / "results.log"
    for path in (console, results):
        path.write_bytes(b"")
    argv = qemu_argv(kernel, initrd, console, results)
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    timed_out, last = False, ""
    try:
        while proc.poll() is None:
            elapsed = time.monotonic() - start
            if elapsed > timeout:
                timed_out = True
                proc.kill()
                break
            if progress:
                line = _last_line(results)
                if line and line != last:
                    last = line
                progress(f"VM running {elapsed:.0f}s" + (f": {last}" if last else ""))
            time.sleep(0.5)
        _, stderr = proc.communicate(timeout=30)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    if proc.returncode not in (0, None) and not timed_out and not console.stat().st_size:
        raise ToolchainError([Diagnostic("SEL767", f"qemu failed (exit {proc.returncode})",
                                         hint=stderr.decode(errors="replace").strip())])
    return Boot(console, results, time.monotonic() - start, timed_out, proc.returncode)


def _last_line(path: Path) -> str:
    """The last ``SELKIT-LAB`` progress word the guest wrote (a phase name), if any."""
    try:
        data = path.read_bytes()[-4096:]
    except OSError:
        return ""
    for line in reversed(data.decode(errors="replace").splitlines()):
        if line.startswith("SELKIT-LAB ") and '"step"' in line:
            try:
                return str(json.loads(line[len("SELKIT-LAB "):]).get("step", ""))
            except ValueError:
                return ""
    return ""
