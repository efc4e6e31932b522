"""``selkit lab`` results: plain text (the side-by-side attack table is the headline) and JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from selkit.lab.battery import KILLED, SELINUX, AttackResult
from selkit.lab.guest_output import Tunnel
from selkit.lab.verdict import LabResult, context_of
from selkit.report.format import Block, Report, Table, plain_table
from selkit.report.suggest import (
    render_suggestions,
    render_syscall_suggestions,
    suggestion_to_dict,
    syscall_suggestion_to_dict,
)
from selkit.suggest.avc import Avc
from selkit.suggest.syscalls import SeccompRecord

ATTACK_HEADERS = ("attack", "expected", "selkit", "AVC that denied it", "default")


def short_avc(avc: Avc) -> str:
    """``target:class perms`` of a denial (its source is the column's domain)."""
    return f"{avc.ttype}:{avc.tclass} {' '.join(avc.perms)}" if avc.perms else avc.rule


def _outcome(result: AttackResult) -> str:
    text = result.outcome
    if result.errno and result.outcome != "allowed":
        text += f" ({result.errno})"
    return text


def attack_rows(result: LabResult) -> list[tuple[str, ...]]:
    """One row per SELinux attack: title, expected, selkit outcome, the AVC, the outcome as
    the daemon's user (and which layer stopped it), default outcome."""
    default = {r.attack.name: r for r in result.default}
    as_user = {r.attack.name: r for r in result.as_user}
    rows: list[tuple[str, ...]] = []
    for steady in (r for r in result.steady if r.attack.layer == SELINUX):
        deciding = steady.deciding_denial(result.steady_domain)
        other = default.get(steady.attack.name)
        user = as_user.get(steady.attack.name)
        rows.append((steady.attack.title, steady.attack.expect, _outcome(steady),
                     short_avc(deciding) if deciding else "-",
                     _user_outcome(user, result.steady_domain) if user else "-",
                     _outcome(other) if other else "-"))
    return rows


def stopped_by(result: AttackResult, domain: str) -> str | None:
    """What refused a denied attempt made as an unprivileged user: ``SELinux`` when an AVC
    from ``domain`` is on the attack's own check or a gate on its way, ``DAC`` when the
    kernel refused it without any AVC from ``domain``, ``both`` when SELinux refused an
    earlier step (reading the module file) and the final call failed without an AVC (the
    missing capability); None if it was not denied."""
    if result.outcome != "denied":
        return None
    if not result.denials_by(domain):
        return "DAC"
    own = (result.attack.avc_hint, *result.attack.other_gates)
    wanted = {tuple(hint.split(":", 1)) for hint in own}
    if any((a.tclass, perm) in wanted for a in result.denials_by(domain) for perm in a.perms):
        return "SELinux"
    return "both"


def _user_outcome(result: AttackResult, domain: str) -> str:
    layer = stopped_by(result, domain)
    return f"{_outcome(result)} by {layer}" if layer else _outcome(result)


def filter_headers(result: LabResult) -> tuple[str, ...]:
    """Column headers of the table under the steady filter."""
    return ("attack", "calls", f"selkit + filter ({result.steady_domain})",
            "what stopped it", "SELinux alone", _default_header(result))


def filter_rows(result: LabResult) -> list[tuple[str, ...]]:
    """One row per attack under the steady filter: what stopped it (the seccomp record's call,
    or the AVC), and the same attack without the filter and in the default domain."""
    alone = {r.attack.name: r for r in result.steady}
    default = {r.attack.name: r for r in result.default}
    rows: list[tuple[str, ...]] = []
    for run in result.filtered:
        if run.outcome == KILLED:
            stopper = (f"seccomp kill at {run.seccomp[0].call}" if run.seccomp
                       else "SIGSYS, no seccomp record")
        else:
            deciding = run.deciding_denial(result.steady_domain)
            stopper = f"AVC {short_avc(deciding)}" if deciding else "-"
        rows.append((run.attack.title, " ".join(run.attack.syscalls), _outcome(run), stopper,
                     _outcome(alone[run.attack.name]) if run.attack.name in alone else "-",
                     _outcome(default[run.attack.name]) if run.attack.name in default else "-"))
    return rows


def headers(result: LabResult) -> tuple[str, ...]:
    """Column headers naming the two domains and the daemon's user."""
    return ("attack", "expected", f"selkit ({result.steady_domain})", "AVC that denied it",
            f"as {result.battery_user or 'the daemon user'} (DAC+MAC)",
            _default_header(result))


def _default_header(result: LabResult) -> str:
    return f"default ({_domain(result.default_context) or 'not run'})"


def _domain(context: str | None) -> str | None:
    parts = (context or "").split(":")
    return parts[2] if len(parts) > 2 else None


def tunnel_line(result: LabResult) -> str:
    """The legitimate-traffic result in one line."""
    tunnel = result.tunnel
    if tunnel is None:
        return f"tunnel: no result (peer: {result.peer})"
    passed = "yes" if tunnel.traffic else "no"
    if tunnel.kind == "icmp":
        detail = f"ping across the tunnel, {tunnel.packets_received or 0} replies " \
                 f"({tunnel.bytes_received} bytes)"
    else:
        detail = f"{tunnel.bytes_sent or 0} bytes sent, {tunnel.bytes_received} echoed back"
    return f"tunnel: traffic passed: {passed}; {detail}; peer: {result.peer}"


def longrun_lines(result: LabResult) -> list[str]:
    """After startup: syslogd restarted, the long run, a reconnect, each restart request."""
    run = result.longrun
    if run is None:
        return []

    def passed(tunnel: Tunnel | None) -> str:
        return "no result" if tunnel is None else ("yes" if tunnel.traffic else "no")

    lines = []
    if run.renegotiated is not None:
        lines.append(f"after the long run (renegotiations, keepalive): traffic "
                     f"{passed(run.renegotiated)}")
    if run.reconnected is not None:
        lines.append(f"after the client reconnected: traffic {passed(run.reconnected)}")
    for restart in run.restarts:
        rules = ", ".join(sorted({short_avc(a) for a in restart.exit_denials}))
        refused = f" (refused on its way out: {rules})" if rules else ""
        lines.append(f"SIG{restart.signal}: the daemon {'ended' if restart.gone else 'ran on'}"
                     f"{refused}; restarted by the supervisor in {restart.current or 'nothing'}, "
                     f"traffic {passed(restart.tunnel)}")
    lines.append(f"syslogd restarted: traffic {passed(run.after_syslogd)}, "
                 f"{_unread(run.syslog_lines)} daemon lines since, {run.syslog_refused} syslog() "
                 "reconnects refused (steady keeps its startup connection only)")
    return lines


def _longrun_dict(result: LabResult) -> dict | None:
    run = result.longrun
    if run is None:
        return None

    def tunnel(t: Tunnel | None) -> dict | None:
        return t.to_dict() if t else None

    return {"syslog_lines": run.syslog_lines, "syslog_refused": run.syslog_refused,
            "after_syslogd": tunnel(run.after_syslogd),
            "renegotiated": tunnel(run.renegotiated), "reconnected": tunnel(run.reconnected),
            "restarts": [{"signal": r.signal, "gone": r.gone, "old_pid": r.old_pid,
                          "new_pid": r.new_pid, "current": r.current, "tunnel": tunnel(r.tunnel),
                          "exit_denials": [_avc_dict(a) for a in r.exit_denials]}
                         for r in run.restarts]}


def context_lines(result: LabResult) -> list[str]:
    """The daemon's context before and after its switch."""
    state = result.state
    if state.pid is None:
        return ["context: the daemon was not running when the harness looked"]
    startup = context_of(result.startup_domain)
    lines = [f"context before the switch: {state.before(startup) or 'not observed'}"
             f" (exec'd by {state.exec_parent or 'unknown'})",
             f"context after the switch:  {state.after or 'not running'}"
             f" (expected {result.steady_context})"]
    if len(state.threads) > 1:
        lines.append("threads: " + ", ".join(state.threads))
    lines.append(f"seccomp: /proc/{state.pid}/status Seccomp: {_unread(state.seccomp)} "
                 f"(2: a filter), NoNewPrivs: {_unread(state.no_new_privs)}")
    return lines


def _unread(value: int | None) -> str:
    return "unread" if value is None else str(value)


def render_result(result: LabResult, *, with_table: bool = True) -> str:
    """One daemon's report as plain text."""
    lines = _head_lines(result)
    if with_table:
        for table in _tables(result):
            lines += ["", *plain_table(table)]
    return "\n".join(lines + _tail_lines(result))


def result_blocks(result: LabResult) -> list[Block]:
    """One daemon's report as blocks: its lines, the attack tables, the rest."""
    blocks: list[Block] = list(_head_lines(result))
    for table in _tables(result):
        blocks += ["", table]
    return blocks + _tail_lines(result)


def _tables(result: LabResult) -> list[Table]:
    tables = []
    if result.steady:
        tables.append(Table(headers(result), attack_rows(result), "  "))
    if result.filtered:
        tables.append(Table(filter_headers(result), filter_rows(result), "  "))
    return tables


def _head_lines(result: LabResult) -> list[str]:
    verdict = "PASS" if result.ok else "FAIL"
    lines = [f"{result.daemon} (module {result.module}, {result.spec}): {verdict}   "
             f"boot to verdict {result.seconds:.1f} s"]
    lines.append("  " + tunnel_line(result))
    lines.extend("  " + line for line in longrun_lines(result))
    lines.extend("  " + line for line in context_lines(result))
    if result.peer_domain is not None:
        state = result.peer_state
        lines.append(f"  peer confined: {(state.after if state else None) or 'not seen'} "
                     f"(expected {context_of(result.peer_domain)}), seccomp "
                     f"{state.seccomp if state and state.seccomp is not None else 'unread'}")
    for attack, why in result.skipped:
        lines.append(f"  attack not run (the scenario says): {attack}: {why}")
    if result.denials:
        lines.append(f"  denials outside the attack battery: {len(result.denials)}")
        lines.extend(f"    {avc.rule}   # comm {avc.comm}, pid {avc.pid}"
                     for avc in result.denials)
    else:
        lines.append("  denials outside the attack battery: none")
    lines.append(f"  seccomp records outside the attack battery: {len(result.seccomp) or 'none'}")
    lines.extend(f"    {_seccomp_text(r)}" for r in result.seccomp)
    if result.lost_records:
        lines.append(f"  warning: the kernel dropped {result.lost_records} audit records")
    return lines


def _tail_lines(result: LabResult) -> list[str]:
    lines: list[str] = []
    if result.problems:
        lines.append("")
        lines.append("  problems:")
        lines.extend(f"    - {p}" for p in result.problems)
    if result.state.after != result.steady_context:
        tail = _daemon_output(result)
        if tail:
            lines.append("  the daemon's last words:")
            lines.extend(f"    | {line}" for line in tail)
    if result.suggestions:
        lines.append("")
        lines.append("  suggested spec changes:")
        lines.extend("    " + line for line in render_suggestions(result.suggestions).splitlines())
    if result.syscall_suggestions:
        lines.append("")
        lines.append("  suggested spec changes for the seccomp records:")
        lines.extend("    " + line for line in
                     render_syscall_suggestions(result.syscall_suggestions).splitlines())
    if result.kept:
        lines.append(f"  kept: {result.kept}")
    return lines


def _daemon_output(result: LabResult, count: int = 6) -> list[str]:
    """The last lines the daemon wrote (its stdout/stderr, else syslog lines naming it)."""
    own = [ln for ln in result.logs.get("daemon-log", "").splitlines() if ln.strip()]
    if not own:
        own = [ln for ln in result.logs.get("syslog", "").splitlines()
               if f" {result.daemon}" in ln or f" {result.daemon}[" in ln]
    return own[-count:]


def summary_lines(results: Sequence[LabResult]) -> list[str]:
    """One ``daemon: PASS|FAIL (seconds)`` line per daemon when there are several."""
    if len(results) < 2:
        return []
    return [f"{r.daemon}: {'PASS' if r.ok else 'FAIL'} ({r.seconds:.1f} s)" for r in results]


def render_plain(results: Sequence[LabResult]) -> str:
    """Every daemon's report, then a one-line summary per daemon."""
    parts = [render_result(r) for r in results]
    if summary_lines(results):
        parts.append("\n".join(summary_lines(results)))
    return "\n\n".join(parts) + "\n"


def _avc_dict(avc: Avc) -> dict:
    return {"denied": avc.denied, "scontext": avc.scontext, "tcontext": avc.tcontext,
            "tclass": avc.tclass, "perms": list(avc.perms), "pid": avc.pid, "comm": avc.comm,
            "permissive": avc.permissive, "rule": avc.rule, "raw": avc.raw}


def _seccomp_text(record: SeccompRecord) -> str:
    return (f"{record.action or 'unknown action'}: {record.call} in "
            f"{record.domain or 'no domain'}"
            f"   # comm {record.comm}, pid {record.pid}")


def seccomp_dict(record: SeccompRecord) -> dict:
    """A JSON-ready seccomp record (docs/json.md)."""
    return {"domain": record.domain, "arch": f"0x{record.arch:08x}", "nr": record.nr,
            "syscall": record.syscall, "action": str(record.action) if record.action else None,
            "pid": record.pid, "comm": record.comm, "raw": record.raw}


def _attack_dict(result: AttackResult) -> dict:
    return {"attack": result.attack.name, "title": result.attack.title,
            "layer": result.attack.layer, "calls": list(result.attack.syscalls),
            "expected": result.attack.expect, "outcome": result.outcome, "errno": result.errno,
            "syscall": result.syscall, "pid": result.pid, "detail": result.detail,
            "avcs": [_avc_dict(a) for a in result.avcs],
            "seccomp": [seccomp_dict(r) for r in result.seccomp]}


def to_dict(result: LabResult) -> dict:
    """JSON form of one daemon's result."""
    return {
        "daemon": result.daemon, "module": result.module, "spec": result.spec, "ok": result.ok,
        "seconds": round(result.seconds, 1),
        "domains": {"startup": result.startup_domain, "steady": result.steady_domain},
        "tunnel": result.tunnel.to_dict() if result.tunnel else None, "peer": result.peer,
        "context": {"pid": result.state.pid,
                    "before": result.state.before(context_of(result.startup_domain)),
                    "after": result.state.after, "threads": list(result.state.threads),
                    "seen": list(result.state.seen), "exec_parent": result.state.exec_parent,
                    "expected": result.steady_context, "seccomp": result.state.seccomp,
                    "no_new_privs": result.state.no_new_privs},
        "denials": [_avc_dict(a) for a in result.denials],
        "switch": None if result.switch is None else {
            "ok": result.switch.ok, "before": result.switch.before,
            "after": result.switch.after, "detail": result.switch.detail},
        "attacks": {"steady": [_attack_dict(r) for r in result.steady],
                    "filtered": [_attack_dict(r) for r in result.filtered],
                    "default": [_attack_dict(r) for r in result.default],
                    "default_context": result.default_context,
                    "as_user": [{**_attack_dict(r), "stopped_by": stopped_by(
                        r, result.steady_domain)} for r in result.as_user],
                    "user": result.battery_user,
                    "skipped": [{"attack": a, "why": w} for a, w in result.skipped]},
        "peer_confined": None if result.peer_domain is None else {
            "domain": result.peer_domain,
            "current": result.peer_state.after if result.peer_state else None,
            "pid": result.peer_state.pid if result.peer_state else None,
            "seccomp": result.peer_state.seccomp if result.peer_state else None},
        "problems": list(result.problems),
        "suggestions": [suggestion_to_dict(s) for s in result.suggestions],
        "seccomp": [seccomp_dict(r) for r in result.seccomp],
        "longrun": _longrun_dict(result),
        "syscall_suggestions": [syscall_suggestion_to_dict(s)
                                for s in result.syscall_suggestions],
        "lost_records": result.lost_records, "kept": result.kept,
    }


@dataclass(frozen=True)
class LabReport(Report):
    """Every daemon's lab result."""

    results: Sequence[LabResult]
    schema = "lab"

    @property
    def ok(self) -> bool:
        """Every daemon passed."""
        return all(r.ok for r in self.results)

    def data(self) -> dict:
        return {"ok": self.ok, "results": [to_dict(r) for r in self.results]}

    def blocks(self) -> list[Block]:
        out: list[Block] = []
        for i, result in enumerate(self.results):
            out += ([""] if i else []) + result_blocks(result)
        if summary_lines(self.results):
            out += [""] + summary_lines(self.results)
        return out
