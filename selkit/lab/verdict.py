"""Judging one run: the verdict for a daemon is positive when the tunnel passed traffic, the
daemon reached its steady domain with its seccomp filter loaded, no denial and no seccomp
record was seen outside the attack battery, every SELinux attack was denied in the steady domain
with an AVC naming it, and under the steady filter every attack met what the filter says
(killed with its seccomp record, or denied by SELinux)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from selkit.emit.seccomp import steady_filter
from selkit.ir import nodes as ir
from selkit.lab import battery
from selkit.lab.avc import lost_records, parse_avcs, parse_seccomp
from selkit.lab.filter_verdict import filter_verdict
from selkit.lab.guest_output import (
    DaemonState,
    GuestOutput,
    LongRun,
    Tunnel,
    dmesg_segments,
    longrun_of,
    peer_state_of,
    probe_process_ids,
    state_of,
    tunnel_of,
)
from selkit.lab.scenario import Scenario
from selkit.suggest import Suggestion
from selkit.suggest.avc import Avc
from selkit.suggest.syscalls import SeccompRecord, SyscallSuggestion


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
    suggestions: tuple[Suggestion, ...] = ()
    #: Seccomp records outside the battery (a call the daemon's filter kills or logs).
    seccomp: tuple[SeccompRecord, ...] = ()
    #: The battery again, each attempt under the steady filter (:mod:`.filter_verdict`).
    filtered: tuple[battery.AttackResult, ...] = ()
    longrun: LongRun | None = None
    #: The battery as the daemon's unprivileged user (``battery_user``) in the steady domain.
    as_user: tuple[battery.AttackResult, ...] = ()
    battery_user: str | None = None
    #: Attacks the scenario leaves out, each with the reason it gives.
    skipped: tuple[tuple[str, str], ...] = ()
    #: A confined peer: its steady domain and what the guest saw of it.
    peer_domain: str | None = None
    peer_state: DaemonState | None = None
    syscall_suggestions: tuple[SyscallSuggestion, ...] = ()
    logs: dict[str, str] = field(default_factory=dict)
    kept: str | None = None

    @property
    def ok(self) -> bool:
        """Tunnel works, no unexpected denial, every attack denied."""
        return not self.problems


#: /proc/PID/status ``Seccomp:`` of a process with a filter (SECCOMP_MODE_FILTER).
SECCOMP_MODE_FILTER = 2


def context_of(domain: str) -> str:
    """The process context of ``domain`` in the refpolicy (MLS, s0)."""
    return f"system_u:system_r:{domain}:s0"


def judge(scenario: Scenario, module: ir.PolicyModule, output: GuestOutput, seconds: float,
          *, probe_ran: bool, peer_module: ir.PolicyModule | None = None,
          battery_user: str | None = None) -> LabResult:
    """Everything the report shows, and what falls short. ``peer_module``: the peer runs
    confined by it; ``battery_user``: the user the battery's second run was made as."""
    startup, steady = module.entry.domain, module.steady.domain
    steady_context = context_of(steady)
    dmesg = output.blocks.get("dmesg", "")
    segments = dmesg_segments(dmesg)
    avcs_by_segment = {name: parse_avcs(text) for name, text in segments.items()}
    runs = {name: (output.blocks.get(name, ""),
                   battery.score(output.blocks.get(name, ""), avcs_by_segment.get(name, []),
                                 records=parse_seccomp(segments.get(name, ""))))
            for name in ("probe-steady", "probe-filtered", "probe-user", "probe-default")}
    (steady_lines, steady_results), (_, filtered_results), (default_lines, default_results) = (
        runs["probe-steady"], runs["probe-filtered"], runs["probe-default"])
    user_results = runs["probe-user"][1]
    probe_pids = {r.pid for _, results in runs.values() for r in results if r.pid is not None}
    for lines, _ in runs.values():
        probe_pids.update(probe_process_ids(lines))
    longrun, expected = _expected_denials(longrun_of(output), avcs_by_segment, steady)
    denials = tuple(a for avcs in avcs_by_segment.values() for a in avcs
                    if a.denied and a.pid not in probe_pids and a not in expected)
    seccomp = tuple(r for r in parse_seccomp(dmesg) if r.pid not in probe_pids)
    tunnel, state = tunnel_of(output), state_of(output)
    switch = battery.switch_report(steady_lines)
    default_header = battery.battery_header(default_lines)
    problems = _problems(output, tunnel, state, steady, denials, switch, steady_results,
                         probe_ran=probe_ran)
    problems += [_seccomp_problem(r) for r in seccomp]
    problems += _longrun_problems(longrun, steady_context)
    if state.pid is not None and state.seccomp != SECCOMP_MODE_FILTER:
        problems.append(f"the daemon runs without its steady seccomp filter (/proc/PID/status "
                        f"Seccomp: {state.seccomp if state.seccomp is not None else 'unread'})")
    if probe_ran:
        program = steady_filter(module).bytes
        problems += filter_verdict(filtered_results, steady, program).problems
        problems += user_battery_problems(user_results, battery_user)
    peer_state = peer_state_of(output) if peer_module is not None else None
    if peer_module is not None:
        problems += _peer_problems(peer_state, peer_module)
    return LabResult(
        daemon=module.daemon, module=module.name, spec=module.source_path,
        startup_domain=startup, steady_domain=steady, steady_context=steady_context,
        peer=scenario.peer.role, tunnel=tunnel, state=state, denials=denials,
        steady=tuple(steady_results), default=tuple(default_results), switch=switch,
        default_context=default_header.context if default_header else None,
        problems=tuple(problems), seconds=seconds, lost_records=lost_records(dmesg),
        seccomp=seccomp, filtered=tuple(filtered_results), longrun=longrun,
        logs={k: v for k, v in output.blocks.items() if k != "dmesg"},
        as_user=tuple(user_results), battery_user=battery_user,
        skipped=scenario.skip_attacks,
        peer_domain=peer_module.steady.domain if peer_module is not None else None,
        peer_state=peer_state)


def user_battery_problems(results: list[battery.AttackResult], user: str | None
                          ) -> list[str]:
    """The battery as the daemon's user: every SELinux attack must fail, by DAC or by SELinux
    (a denial without an AVC is DAC's and counts here: this run shows both together)."""
    if not results:
        return [f"the attack battery as {user or 'the daemon user'} did not run"]
    return [f"as {user}: {r.attack.name}: {r.outcome}, expected {r.attack.expect} ({r.detail})"
            for r in results if r.attack.layer == battery.SELINUX and not r.as_expected]


def _peer_problems(state: DaemonState | None, peer_module: ir.PolicyModule) -> list[str]:
    """A confined peer must run in its steady domain with its steady filter, like the daemon."""
    expected = context_of(peer_module.steady.domain)
    if state is None or state.after != expected:
        return [f"the confined peer is not in its steady domain "
                f"({(state.after if state else None) or 'not running'}, expected {expected})"]
    if state.seccomp != SECCOMP_MODE_FILTER:
        return ["the confined peer runs without its steady seccomp filter"]
    return []


def _expected_denials(longrun: LongRun, avcs_by_segment: dict[str, list[Avc]], steady: str
                      ) -> tuple[LongRun, list[Avc]]:
    """The denials the after-startup steps expect, which are reported, not failed: each
    syslog() reconnect refused from syslogd's restart on, and what a daemon that ended on a
    restart request is refused on its way out (undoing what its startup did: deconfiguring the
    tun device, reopening syslog). ``longrun`` comes back with them attached."""
    names = list(avcs_by_segment)
    after_syslogd = names[names.index("syslog-restart"):] if "syslog-restart" in names else []
    refused = [a for name in after_syslogd for a in avcs_by_segment[name]
               if a.denied and _syslog_reconnect(a, steady)]
    during = [a for a in avcs_by_segment.get("longrun", []) if a.denied]
    restarts = tuple(dataclasses.replace(r, exit_denials=tuple(
        a for a in during if r.gone and a.pid == r.old_pid)) for r in longrun.restarts)
    leaving = [a for r in restarts for a in r.exit_denials]
    return (dataclasses.replace(longrun, restarts=restarts, syslog_refused=len(refused)),
            refused + leaving)


def _syslog_reconnect(avc: Avc, steady: str) -> bool:
    """A denial of glibc's syslog() reconnecting after syslogd restarted (a new unix datagram
    socket): the steady phase keeps the connection made at startup only (the 'syslog io'
    verb), so this is refused by design; the daemon goes on, its log lines are lost until the
    supervisor restarts it."""
    return (avc.stype == steady and avc.ttype == steady and avc.tclass == "unix_dgram_socket"
            and set(avc.perms) <= {"create"})


def _longrun_problems(longrun: LongRun, steady_context: str) -> list[str]:
    """What went wrong after startup: traffic that stopped, a restart request the daemon
    survived, a restarted daemon that did not reach its steady domain."""
    problems = []
    for what, tunnel in (("after the renegotiations", longrun.renegotiated),
                         ("after the client reconnected", longrun.reconnected),
                         ("after syslogd restarted", longrun.after_syslogd)):
        if tunnel is not None and not tunnel.traffic:
            problems.append(f"no traffic passed {what}")
    for restart in longrun.restarts:
        if not restart.gone:
            problems.append(f"the daemon did not end on SIG{restart.signal}, a restart request "
                            "its steady domain cannot carry out")
        if restart.current != steady_context:
            problems.append(f"restarted after SIG{restart.signal}, the daemon is not in its "
                            f"steady domain ({restart.current or 'not running'})")
        if restart.tunnel is None or not restart.tunnel.traffic:
            problems.append(f"no traffic passed after the restart that followed "
                            f"SIG{restart.signal}")
    return problems


def _seccomp_problem(record: SeccompRecord) -> str:
    action = record.action or "an unknown action"
    return (f"seccomp outside the battery: {action} on {record.call} in "
            f"{record.domain or 'no domain'} (comm {record.comm}, pid {record.pid})")


def _problems(output: GuestOutput, tunnel: Tunnel | None, state: DaemonState, steady: str,
              denials: tuple[Avc, ...], switch: battery.SwitchReport | None,
              steady_results: list[battery.AttackResult], *, probe_ran: bool) -> list[str]:
    """What falls short, in the order the report lists it."""
    steady_context = context_of(steady)
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
    return problems
