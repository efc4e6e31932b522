"""Running a daemon with a context on this machine, to see whether it fails closed.

The kernel here has no SELinux, so a daemon asked for a context must exit non-zero before it
serves anything. :func:`run_check` runs one :class:`FailClosedCheck` command line in a fresh
empty jail directory with a free port and a private tun device name, and reports what happened;
with ``wait_for`` it also shows a daemon that carries on (fail-open): still running ``linger``
seconds after it printed that text.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from selkit.projects.recipes import CHECK_CONTEXT, FailClosedCheck


@dataclass(frozen=True)
class CheckRun:
    """What one run did. ``returncode`` is None if it was still running and had to be killed."""

    command: tuple[str, ...]
    returncode: int | None
    output: str
    context: str = CHECK_CONTEXT

    def failed_closed(self, message: str) -> bool:
        """Exited non-zero on its own, said ``message`` and named the context it refused."""
        return (self.returncode not in (None, 0) and message in self.output
                and self.context in self.output)


def free_port() -> int:
    """A UDP and TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        tcp.bind(("127.0.0.1", port))
    return port


def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def run_check(binary: Path, check: FailClosedCheck, *, context: str = CHECK_CONTEXT,
              wait_for: str | None = None, linger: float = 2.0) -> CheckRun:
    """Run ``binary`` with ``check``'s arguments; wait until it exits or ``check.timeout``.

    With ``wait_for``: once the output contains it, wait ``linger`` more seconds; a process
    still alive then is killed and reported with ``returncode`` None (it carried on)."""
    jail = Path(tempfile.mkdtemp(prefix="selkit-jail-"))
    (jail / "tmp").mkdir()
    os.chmod(jail, 0o755)
    dev = f"sk{os.getpid() % 100000}{binary.name[:3]}"[:15]
    command = check.command(str(binary), port=free_port(), jail=str(jail), dev=dev,
                            context=context)
    log = tempfile.TemporaryFile()  # noqa: SIM115  (closed in the finally below)
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + check.timeout
        seen_at = None
        returncode = None
        while True:
            returncode = process.poll()
            if returncode is not None:
                break
            now = time.monotonic()
            if wait_for is not None and seen_at is None:
                log.seek(0)
                if wait_for in log.read().decode(errors="replace"):
                    seen_at = now
            if now >= deadline or (seen_at is not None and now - seen_at >= linger):
                _stop(process)
                returncode = None
                break
            time.sleep(0.05)
        log.seek(0)
        output = log.read().decode(errors="replace")
    finally:
        log.close()
        shutil.rmtree(jail, ignore_errors=True)
    return CheckRun(tuple(command), returncode, output, context)
