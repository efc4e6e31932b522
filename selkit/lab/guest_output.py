"""What the guest reports: JSON events and named text blocks on the results port, and dmesg
split at the harness's marks; read into the tunnel's result and the daemon's contexts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from selkit.lab import vm
from selkit.suggest.avc import Avc

RESULT_PREFIX = "SELKIT-LAB "
BLOCK, BLOCK_END = "SELKIT-LAB-BLOCK ", "SELKIT-LAB-BLOCK-END"
MARK = "SELKIT-LAB-MARK "


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
    that exec'd it: setcon does not change it), ``seccomp`` and ``no_new_privs`` the
    ``Seccomp:`` and ``NoNewPrivs:`` lines of /proc/PID/status (2: a filter is loaded)."""

    pid: int | None
    after: str | None
    threads: tuple[str, ...] = ()
    seen: tuple[str, ...] = ()
    exec_parent: str | None = None
    seccomp: int | None = None
    no_new_privs: int | None = None

    def before(self, startup_context: str) -> str | None:
        """The context observed before the switch: the startup one if it was seen, else the
        first one seen that differs from the final one."""
        if startup_context in self.seen:
            return startup_context
        return next((c for c in self.seen if c != self.after), None)


@dataclass(frozen=True)
class Restart:
    """A restart request (``signal``) to the steady daemon, and the supervisor's restart: was
    the process gone, what the new one runs in, whether traffic passed again."""

    signal: str
    gone: bool
    new_pid: int | None
    current: str | None
    tunnel: Tunnel | None
    old_pid: int | None = None
    #: What SELinux refused the ending daemon on its way out (undoing what startup did).
    exit_denials: tuple[Avc, ...] = ()


@dataclass(frozen=True)
class LongRun:
    """What happened after startup (stage2's longrun steps): the daemon's syslog lines after
    syslogd restarted, traffic after the scenario's long run (OpenVPN: renegotiations) and
    after a client reconnected (``None``: the scenario has no such step), the restarts."""

    syslog_lines: int | None
    renegotiated: Tunnel | None
    reconnected: Tunnel | None
    restarts: tuple[Restart, ...]
    after_syslogd: Tunnel | None = None
    #: The steady domain's syslog() reconnects SELinux refused after syslogd restarted.
    syslog_refused: int = 0


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
    events: list[dict] = []
    blocks: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []
    done = False
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


def _int(value: Any) -> int | None:  # value: any JSON value
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def tunnel_of(output: GuestOutput, step: str = "tunnel") -> Tunnel | None:
    """The ``tunnel`` event (or another traffic step's) as a :class:`Tunnel`."""
    event = output.step(step)
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
                       event.get("exec_parent") or None, _int(event.get("seccomp")),
                       _int(event.get("no_new_privs")))


def peer_state_of(output: GuestOutput) -> DaemonState | None:
    """The ``peer`` event (a confined peer) as a :class:`DaemonState`, or None."""
    event = output.step("peer")
    if event is None:
        return None
    return DaemonState(_int(event.get("pid")), event.get("current") or None,
                       exec_parent=event.get("exec_parent") or None,
                       seccomp=_int(event.get("seccomp")))


def longrun_of(output: GuestOutput) -> LongRun:
    """The longrun steps' events as a :class:`LongRun`."""
    syslog = output.step("syslog-restarted") or {}
    restarts = tuple(
        Restart(str(e.get("signal", "")), bool(e.get("gone")), _int(e.get("new_pid")),
                e.get("current") or None, tunnel_of(output, f"tunnel-after-{e.get('signal')}"),
                _int(e.get("old_pid")))
        for e in output.events if e.get("step") == "restart")
    return LongRun(_int(syslog.get("daemon_lines")), tunnel_of(output, "tunnel-renegotiated"),
                   tunnel_of(output, "tunnel-reconnected"), restarts,
                   tunnel_of(output, "tunnel-after-syslogd"))


def probe_process_ids(lines: str) -> set[int]:
    """The probe's own processes (the battery runner and the startup-domain parent of a
    switch), whose AVCs belong to the battery, not to the daemon."""
    pids: set[int] = set()
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
