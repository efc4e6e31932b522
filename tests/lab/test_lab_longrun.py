"""Judging what happens after startup (selkit.lab.verdict over the guest's longrun events and
dmesg): traffic after each step, restart requests that end the daemon, the supervisor's
restart into steady, and which denials count. Synthetic guest output in the harness's
format (selkit/lab/guest/stage2.sh); the real runs are tests/lab/test_lab.py's."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT
from selkit.compiler import front_end
from selkit.lab import guest_output
from selkit.lab.scenario_file import load_scenario
from selkit.lab.verdict import judge

STEADY = "system_u:system_r:ptunnel_steady_t:s0"


def event(**fields) -> str:
    return "SELKIT-LAB " + json.dumps(fields)


def avc(pid: int, tclass: str, perm: str, serial: int) -> str:
    return (f"[ 9.{serial}] audit: type=1400 audit(1.{serial}:{serial}): avc:  denied  {{ {perm} }}"
            f' for  pid={pid} comm="ptunnel" scontext={STEADY} tcontext={STEADY} '
            f"tclass={tclass} permissive=0")


def guest(*, gone=True, current=STEADY, after_traffic=True, dmesg=()) -> str:
    tunnel = {"kind": "tcp", "traffic": True, "bytes_sent": 49, "bytes_received": 49}
    lines = [
        event(step="stage2", context="system_u:system_r:init_t:s0", enforce=1),
        event(step="daemon", pid="40", current=STEADY, threads=[STEADY], seen=[STEADY],
              exec_parent="system_u:system_r:init_t:s0", seccomp="2", no_new_privs="1"),
        event(step="tunnel", **tunnel),
        event(step="tunnel-reconnected", **tunnel),
        event(step="tunnel-after-HUP", **{**tunnel, "traffic": after_traffic}),
        event(step="restart", signal="HUP", old_pid="40", gone=gone, new_pid="50",
              current=current),
        event(step="tunnel-after-syslogd", **tunnel),
        event(step="syslog-restarted", daemon_lines=0),
        "SELKIT-LAB-BLOCK dmesg", *dmesg, "SELKIT-LAB-BLOCK-END", "SELKIT-LAB-DONE"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def module(kb):
    _, (ptunnel,) = front_end(str(ROOT / "policies" / "ptunnel.sel"), kb)
    return ptunnel


def judged(module, text: str):
    return judge(load_scenario(ROOT / "policies" / "ptunnel.lab.toml"), module,
                 guest_output.parse_output(text), 1.0, probe_ran=False)


def longrun_problems(result) -> list[str]:
    return [p for p in result.problems if "battery" not in p and "probe" not in p]


def test_a_clean_long_run(module):
    result = judged(module, guest())
    assert longrun_problems(result) == []
    (restart,) = result.longrun.restarts
    assert (restart.signal, restart.old_pid, restart.new_pid) == ("HUP", 40, 50)


@pytest.mark.parametrize("change, problem", [
    ({"gone": False}, "the daemon did not end on SIGHUP"),
    ({"current": ""}, "restarted after SIGHUP, the daemon is not in its steady domain"),
    ({"after_traffic": False}, "no traffic passed after the restart that followed SIGHUP"),
])
def test_what_fails_a_long_run(module, change, problem):
    assert any(p.startswith(problem) for p in longrun_problems(judged(module, guest(**change))))


def test_denials_by_the_ending_daemon_and_refused_syslog_reconnects_are_reported_not_failed(
        module):
    dmesg = ("[ 8.0] SELKIT-LAB-MARK longrun", avc(40, "udp_socket", "create", 1),
             "[ 9.5] SELKIT-LAB-MARK syslog-restart", avc(50, "unix_dgram_socket", "create", 2),
             "[ 9.8] SELKIT-LAB-MARK probe-steady", avc(50, "unix_dgram_socket", "create", 3))
    result = judged(module, guest(dmesg=dmesg))
    assert result.denials == () and longrun_problems(result) == []
    assert [a.pid for a in result.longrun.restarts[0].exit_denials] == [40]
    assert result.longrun.syslog_refused == 2


def test_the_same_denials_elsewhere_fail(module):
    """A syslog reconnect refused before syslogd restarted, or a denial of the running
    daemon (not one that was asked to end), is a problem like any other."""
    dmesg = ("[ 8.0] SELKIT-LAB-MARK longrun", avc(50, "unix_dgram_socket", "create", 1),
             avc(50, "udp_socket", "create", 2))
    result = judged(module, guest(dmesg=dmesg))
    assert len(result.denials) == 2 and result.longrun.syslog_refused == 0
