"""The lab's attack probe, AVC parsing and scoring.

The probe is compiled for real and run on this host (root, no SELinux) against real targets:
what DAC lets root do must come back "allowed", which shows each attack is really performed
(the "default" column's behaviour). The AVC parser reads record formats taken from the kernel
(security/selinux/avc.c, ss/services.c, kernel/audit.c) and from sepolgen's own docstrings.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from selkit.lab import battery
from selkit.lab.avc import lost_records, parse_avcs
from selkit.lab.battery import (
    ATTACKS,
    NO_RESULT,
    Targets,
    battery_header,
    build_probe,
    probe_argv,
    score,
    switch_report,
    verdict,
)
from selkit.suggest.avc import SELINUX_ERR, Avc
from selkit.toolchain import ToolchainError

#: Only what compiles or runs the probe needs gcc; the AVC parser and scoring tests always run.
needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")

STEADY = "system_u:system_r:ptunnel_steady_t:s0"
STARTUP = "system_u:system_r:ptunnel_startup_t:s0"
KEYS = {"attack", "pid", "outcome", "errno", "syscall", "detail"}


# ---------------------------------------------------------------------------------------------
# Building


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("selkit-cache")


@pytest.fixture(scope="module")
def probe(cache) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SELKIT_CACHE", str(cache))
        return build_probe()


@needs_gcc
def test_probe_compiles_without_a_single_warning(tmp_path):
    result = subprocess.run(["gcc", *battery.CFLAGS, "-o", str(tmp_path / "p"),
                             *map(str, battery.probe_sources())], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    file_type = subprocess.run(["file", str(tmp_path / "p")], capture_output=True, text=True)
    if file_type.returncode == 0:
        assert "statically linked" in file_type.stdout


def test_build_probe_caches_by_source_digest(probe, cache, monkeypatch):
    monkeypatch.setenv("SELKIT_CACHE", str(cache))
    assert probe == cache / "lab" / f"probe-{battery.probe_digest()}"
    stamp = probe.stat().st_mtime_ns
    messages = []
    assert build_probe(messages.append) == probe
    assert probe.stat().st_mtime_ns == stamp and messages == []


@needs_gcc
def test_build_probe_reports_a_compile_error(tmp_path, monkeypatch):
    (tmp_path / "probe.c").write_text("int main(void) { return undeclared; }\n")
    monkeypatch.setattr(battery, "PROBE_DIR", tmp_path)
    monkeypatch.setenv("SELKIT_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ToolchainError) as caught:
        build_probe()
    diagnostic = caught.value.diagnostics[0]
    assert diagnostic.code == "SEL782" and "undeclared" in diagnostic.hint
    assert not list((tmp_path / "cache" / "lab").glob("probe-*"))


def test_the_table_is_the_probes_own(probe):
    listed = [json.loads(line) for line in
              subprocess.run([probe, "list"], capture_output=True, text=True,
                             check=True).stdout.splitlines()]
    assert [entry["attack"] for entry in listed] == [attack.name for attack in ATTACKS]
    for entry, attack in zip(listed, ATTACKS, strict=True):
        assert tuple(entry["syscalls"].split(",")) == attack.syscalls, attack.name
        assert entry["needs"] == attack.needs, attack.name


# ---------------------------------------------------------------------------------------------
# The command line


def test_probe_argv_confined_and_default():
    targets = Targets(victim=42, data="/srv/data", connect="10.0.0.2:25", bind=8081,
                      startup=STARTUP, only=("read-file", "bind"))
    assert probe_argv("/probe", targets, steady=STEADY, chroot="/var/empty") == [
        "/probe", "switch", STEADY, "--chroot", "/var/empty", "--", "battery",
        "--victim", "42", "--data", "/srv/data", "--shell", "/bin/sh",
        "--connect", "10.0.0.2:25", "--bind", "8081", "--startup", STARTUP,
        "--uid-target", "65534", "--timeout", "5", "--only", "read-file,bind"]
    assert probe_argv("/probe", Targets())[:2] == ["/probe", "battery"]
    with pytest.raises(ValueError, match="unknown attacks: sudo"):
        probe_argv("/probe", Targets(only=("sudo",)))


# ---------------------------------------------------------------------------------------------
# The battery on this host (root, no SELinux): the default column


def _capabilities() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16)
    return 0


def _has_cap(number: int) -> bool:
    return bool(_capabilities() >> number & 1)


CAP_SETUID, CAP_NET_RAW, CAP_SYS_MODULE, CAP_SYS_PTRACE = 7, 13, 16, 19


def _module_target(tmp: Path) -> tuple[str, str]:
    """tun.ko when the running kernel already has tun loaded (finit_module then answers EEXIST
    and changes nothing); otherwise a stand-in that is no ELF file (rejected after the checks)."""
    release = platform.release()
    candidates = list(Path("/lib/modules", release).glob("kernel/drivers/net/tun.ko*"))
    if candidates and Path("/sys/module/tun").exists():
        return str(candidates[0]), "tun.ko (already loaded)"
    stand_in = tmp / "stand-in.ko"
    stand_in.write_bytes(b"not a kernel module\n" * 4)
    reason = "no tun.ko" if not candidates else "tun is not loaded (not loading it on the host)"
    return str(stand_in), f"stand-in file: {reason}"


@pytest.fixture(scope="module")
def host_run(probe, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("battery")
    data = tmp / "data"
    data.write_text("secret\n")
    drop = tmp / "drop"
    drop.mkdir()
    victim = subprocess.Popen([probe, "victim"], stdout=subprocess.PIPE, text=True)
    listener = socket.socket()
    try:
        victim_pid = json.loads(victim.stdout.readline())["pid"]
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        with socket.socket() as free:
            free.bind(("0.0.0.0", 0))
            free_port = free.getsockname()[1]
        module, module_note = _module_target(tmp)
        targets = Targets(victim=victim_pid, data=str(data), drop_dir=str(drop),
                          connect=f"127.0.0.1:{listener.getsockname()[1]}", bind=free_port,
                          module=module, startup=STARTUP, timeout=10)
        argv = probe_argv(probe, targets)
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        stdout, stderr = process.communicate(timeout=120)
        result = subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)
        status = Path(f"/proc/{victim_pid}/status").read_text()
        yield {"result": result, "probe_pid": process.pid, "data": data, "drop": drop,
               "victim_status": status, "module_note": module_note}
    finally:
        listener.close()
        victim.kill()
        victim.wait()


def _lines(host_run) -> dict[str, dict]:
    return {line["attack"]: line for line in map(json.loads,
                                                 host_run["result"].stdout.splitlines())
            if "attack" in line}


def test_battery_prints_one_well_formed_line_per_attack(host_run):
    result = host_run["result"]
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    header, attacks = events[0], events[1:]
    assert header["event"] == "battery" and header["uid"] == os.geteuid()
    assert header["pid"] == host_run["probe_pid"]
    assert [line["attack"] for line in attacks] == [attack.name for attack in ATTACKS]
    pids = set()
    for line in attacks:
        assert set(line) == KEYS, line
        assert line["outcome"] in battery.OUTCOMES
        assert isinstance(line["pid"], int) and line["pid"] not in (header["pid"], os.getpid())
        pids.add(line["pid"])
        assert line["detail"]
        assert line["errno"] is None or line["errno"].startswith("E")
    assert len(pids) == len(ATTACKS), "each attempt runs in its own child"


def test_what_dac_allows_root_is_reported_allowed(host_run):
    lines = _lines(host_run)
    expected_allowed = ["read-file", "write-file", "drop-exec", "exec-shell", "connect", "bind",
                        "signal"]
    if _has_cap(CAP_SYS_PTRACE):
        expected_allowed += ["ptrace", "mem-read", "proc-mem"]
    if _has_cap(CAP_NET_RAW):
        expected_allowed += ["packet-sock", "raw-sock"]
    if _has_cap(CAP_SETUID):
        expected_allowed.append("setuid")
    for name in expected_allowed:
        assert lines[name]["outcome"] == "allowed", lines[name]
    assert "read 7 bytes" in lines["read-file"]["detail"]
    assert host_run["data"].read_text() == "secret\nselkit-probe was here\n"
    assert "exited with 73" in lines["exec-shell"]["detail"]
    assert "exited with 73" in lines["drop-exec"]["detail"]
    assert list(host_run["drop"].iterdir()) == [], "the dropped script is removed"
    if "mem-read" in expected_allowed:
        assert "victim's secret" in lines["mem-read"]["detail"]
        assert "victim's secret" in lines["proc-mem"]["detail"]
    # ptrace detached and SIGCONT is harmless: the victim still sleeps, untraced.
    assert "\nState:\tS" in host_run["victim_status"]
    assert "\nTracerPid:\t0\n" in host_run["victim_status"]


def test_module_attacks_reach_the_kernel(host_run):
    lines = _lines(host_run)
    for name in ("module-load", "module-init"):
        line = lines[name]
        if line["errno"] == "ENOSYS":
            # This kernel is built without module support: the syscall exists but does nothing.
            assert line["outcome"] == "error", line
            continue
        if _has_cap(CAP_SYS_MODULE):
            assert line["outcome"] == "allowed", (host_run["module_note"], line)
        else:
            assert line["outcome"] == "denied", line


def test_setcon_back_cannot_succeed_without_selinux(host_run):
    if Path("/sys/fs/selinux/enforce").exists():
        pytest.skip("this host runs SELinux")
    line = _lines(host_run)["setcon-back"]
    assert line["outcome"] == "error" and line["syscall"] in ("openat", "pwrite64"), line


def test_scoring_the_host_run_fails_the_verdict(host_run):
    results = score(host_run["result"].stdout, [])
    assert [r.attack.name for r in results] == [a.name for a in ATTACKS]
    assert all(r.detail != NO_RESULT for r in results)
    outcome = verdict(results, "ptunnel_steady_t")
    assert not outcome.passed
    assert any(p.startswith("read-file: allowed, expected denied") for p in outcome.problems)
    header = battery_header(host_run["result"].stdout)
    assert header is not None and header.uid == os.geteuid()


def test_relay_runs_the_battery_in_a_child_and_prints_its_lines(probe, tmp_path):
    # The mechanism switch mode uses: the battery process writes to shared memory only.
    data = tmp_path / "data"
    data.write_text("x")
    process = subprocess.Popen([probe, "battery", "--relay", "--only", "read-file,exec-shell",
                                "--data", str(data)], stdout=subprocess.PIPE, text=True)
    stdout, _ = process.communicate(timeout=30)
    header, *lines = [json.loads(line) for line in stdout.splitlines()]
    assert header["event"] == "battery" and header["pid"] != process.pid
    assert [(line["attack"], line["outcome"]) for line in lines] == [
        ("read-file", "allowed"), ("exec-shell", "allowed")]
    assert process.returncode == 0


def test_attack_without_target_is_not_run(probe):
    result = subprocess.run([probe, "battery", "--only", "ptrace,module-load,setcon-back"],
                            capture_output=True, text=True, timeout=30)
    lines = [json.loads(line) for line in result.stdout.splitlines()][1:]
    assert [(line["attack"], line["outcome"], line["pid"]) for line in lines] == [
        ("ptrace", "error", None), ("module-load", "error", None), ("setcon-back", "error", None)]
    assert lines[0]["detail"] == "not run: no --victim given"


def test_a_hanging_attempt_times_out(probe):
    # A listener whose accept queue is full drops further SYNs: connect() blocks until the
    # child's own alarm ends it.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        fillers = []
        for _ in range(2):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(listener.getsockname())
            fillers.append(filler)
        try:
            result = subprocess.run(
                [probe, "battery", "--only", "connect", "--timeout", "1",
                 "--connect", f"127.0.0.1:{listener.getsockname()[1]}"],
                capture_output=True, text=True, timeout=30)
        finally:
            for filler in fillers:
                filler.close()
    line = json.loads(result.stdout.splitlines()[1])
    assert (line["outcome"], line["errno"], line["detail"]) == (
        "error", "ETIMEDOUT", "timed out after 1 s")


def test_switch_fails_clearly_without_selinux(probe):
    if Path("/sys/fs/selinux/enforce").exists():
        pytest.skip("this host runs SELinux")
    result = subprocess.run(probe_argv(probe, Targets(only=("signal",)), steady=STEADY),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 3
    assert f"cannot switch to {STEADY}" in result.stderr
    report = switch_report(result.stdout)
    assert report is not None and not report.ok and report.requested == STEADY
    assert isinstance(report.pid, int) and report.detail.startswith("pwrite ")
    assert report.parent_pid not in (None, report.pid)
    assert report.errno in ("EINVAL", "ENOENT", "EOPNOTSUPP")
    assert "attack" not in result.stdout, "no battery after a failed switch"


@pytest.mark.parametrize("argv", [[], ["fly"], ["battery", "--victim"],
                                  ["battery", "--victim", "x"], ["switch", STEADY, "battery"],
                                  ["battery", "--bogus", "1"]])
def test_bad_usage_exits_2(probe, argv):
    result = subprocess.run([probe, *argv], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and result.stderr.startswith("probe: ")
    assert result.stdout == ""


# ---------------------------------------------------------------------------------------------
# AVC parsing

# Kernel console/dmesg form: pr_notice("type=%d %s\n") in kernel/audit.c, pr_fmt "audit: ",
# the AVC body from avc_audit_pre/post_callback in security/selinux/avc.c.
CONSOLE_DENIAL = (
    '[   12.345678] audit: type=1400 audit(1700000000.123:45): avc:  denied  { read } for  '
    'pid=123 comm="probe" name="data" dev="tmpfs" ino=5 '
    'scontext=system_u:system_r:ptunnel_steady_t:s0 tcontext=system_u:object_r:tmp_t:s0 '
    'tclass=file permissive=0')
CONSOLE_SYSCALL = (
    '[   12.345690] audit: type=1300 audit(1700000000.123:45): arch=c000003e syscall=257 '
    'success=no exit=-13 a0=ffffff9c a1=7ffc2 a2=0 a3=0 items=0 ppid=1 pid=123 auid=4294967295 '
    'uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=ttyS0 ses=4294967295 '
    'comm="probe" exe="/probe" subj=system_u:system_r:ptunnel_steady_t:s0 key=(null)')
# security_bounded_transition() in security/selinux/ss/services.c.
BOUNDS_ERROR = (
    '[   13.000001] audit: type=1401 audit(1700000001.000:46): op=security_bounded_transition '
    'seresult=denied oldcontext=system_u:system_r:ptunnel_startup_t:s0 '
    'newcontext=system_u:system_r:ptunnel_steady_t:s0')
BOUNDS_SYSCALL = (
    '[   13.000010] audit: type=1300 audit(1700000001.000:46): arch=c000003e syscall=18 '
    'success=no exit=-1 ppid=1 pid=77 auid=4294967295 uid=0 comm=70726F6265206A6F62 '
    'exe="/probe" subj=system_u:system_r:ptunnel_startup_t:s0 key=(null)')
# The examples in sepolgen.audit.AVCMessage's docstring (auditd and syslog forms).
AUDITD_DENIAL = (
    'type=AVC msg=audit(1155568085.407:10877): avc:  denied  { search } for  pid=677 '
    'comm="python" name="modules" dev=dm-0 ino=13716388 '
    'scontext=user_u:system_r:setroubleshootd_t:s0 '
    'tcontext=system_u:object_r:modules_object_t:s0 tclass=dir')
SYSLOG_DENIAL = (
    'Sep 12 08:26:43 dhcp83-5 kernel: audit(1158064002.046:4): avc:  denied  { read } for  '
    'pid=2496 comm="bluez-pin" name=".gdm1K3IFT" dev=dm-0 ino=3601333 '
    'scontext=user_u:system_r:bluetooth_helper_t:s0-s0:c0 '
    'tcontext=system_u:object_r:xdm_tmp_t:s0 tclass=file')
GRANTED = (
    '[    2.100000] audit: type=1400 audit(1700000000.001:3): avc:  granted  { setsecparam } for'
    '  pid=1 comm="init" scontext=system_u:system_r:kernel_t:s0 '
    'tcontext=system_u:object_r:security_t:s0 tclass=security')
APPARMOR = (
    '[ 9667.359156] audit: type=1400 audit(1744203801.442:365): apparmor="DENIED" '
    'operation="open" class="file" profile="/usr/bin/ls" name="/" pid=108836 comm="ls" '
    'requested_mask="r" denied_mask="r" fsuid=1000 ouid=0')


def test_console_denial_with_its_syscall_record():
    (avc,) = parse_avcs(f"{CONSOLE_DENIAL}\n{CONSOLE_SYSCALL}\n")
    assert avc == Avc(denied=True, perms=("read",), pid=123, comm="probe",
                      scontext="system_u:system_r:ptunnel_steady_t:s0",
                      tcontext="system_u:object_r:tmp_t:s0", stype="ptunnel_steady_t",
                      ttype="tmp_t", tclass="file", permissive=False,
                      raw=CONSOLE_DENIAL.split("] audit: ", 1)[1], serial=45, syscall=257,
                      name="data")
    assert avc.rule == "allow ptunnel_steady_t tmp_t:file { read };"


def test_bounded_transition_error_is_kept_with_the_pid_of_its_event():
    (err,) = parse_avcs(f"{BOUNDS_ERROR}\n{BOUNDS_SYSCALL}")
    assert err.kind == SELINUX_ERR and err.op == "security_bounded_transition"
    assert (err.stype, err.ttype, err.tclass, err.perms) == (
        "ptunnel_startup_t", "ptunnel_steady_t", "process", ())
    assert err.denied and err.pid == 77 and err.comm == "probe job" and err.syscall == 18


def test_selinux_err_without_header_and_compute_sid():
    journal = ('Dec 05 07:19:39 fedora audit: SELINUX_ERR op=security_bounded_transition '
               'seresult=denied oldcontext=system_u:system_r:install_t:s0:c42,c355 '
               'newcontext=system_u:system_r:mount_t:s0:c42,c355')
    compute = ('audit: type=1401 audit(1700000002.000:50): op=security_compute_sid '
               'invalid_context="system_u:system_r:foo_t:s0" '
               'scontext=system_u:system_r:init_t:s0 tcontext=system_u:object_r:foo_exec_t:s0 '
               'tclass=process')
    first, second = parse_avcs(f"{journal}\n{compute}")
    assert (first.stype, first.ttype, first.pid, first.serial) == ("install_t", "mount_t",
                                                                   None, None)
    assert (second.op, second.stype, second.ttype, second.tclass) == (
        "security_compute_sid", "init_t", "foo_exec_t", "process")


def test_sepolgen_docstring_forms_and_mls_ranges():
    auditd, syslog = parse_avcs(f"{AUDITD_DENIAL}\n{SYSLOG_DENIAL}")
    assert (auditd.stype, auditd.ttype, auditd.tclass, auditd.perms, auditd.pid,
            auditd.serial) == ("setroubleshootd_t", "modules_object_t", "dir", ("search",),
                               677, 10877)
    assert syslog.scontext == "user_u:system_r:bluetooth_helper_t:s0-s0:c0"
    assert not syslog.permissive and syslog.comm == "bluez-pin"


def test_granted_permissive_and_several_permissions():
    permissive = CONSOLE_DENIAL.replace("{ read }", "{ read write open }").replace(
        "permissive=0", "permissive=1").replace(":45)", ":47)")
    granted, denial = parse_avcs(f"{GRANTED}\n{permissive}")
    assert not granted.denied and granted.perms == ("setsecparam",) and granted.pid == 1
    assert denial.denied and denial.permissive and denial.perms == ("read", "write", "open")


def test_console_noise_is_survived():
    text = "\n".join([
        "Booting selkit lab...",
        APPARMOR,                                            # type=1400 but not SELinux
        "SELKIT-LAB {\"attack\": \"x\"}" + CONSOLE_DENIAL,   # output glued to the front
        CONSOLE_DENIAL + "\r",                               # the same record again (dmesg dump)
        GRANTED + " " + BOUNDS_ERROR.split("] ", 1)[1],      # two records on one line
        CONSOLE_DENIAL[:120],                                # truncated: no tcontext
        "[   14.000000] kauditd_printk_skb: 12 callbacks suppressed",
        "[   15.000000] audit: audit_lost=3 audit_rate_limit=0 audit_backlog_limit=64",
    ])
    records = parse_avcs(text)
    assert [(r.kind, r.stype, r.serial) for r in records] == [
        ("avc", "ptunnel_steady_t", 45), ("avc", "kernel_t", 3),
        ("selinux_err", "ptunnel_startup_t", 46)]
    assert lost_records(text) == 15
    assert parse_avcs("") == [] and lost_records("") == 0


# ---------------------------------------------------------------------------------------------
# Scoring


def _avc(pid: int, stype: str = "ptunnel_steady_t", perm: str = "ptrace",
         tclass: str = "process", denied: bool = True) -> Avc:
    return Avc(denied, (perm,), pid, "probe", f"system_u:system_r:{stype}:s0",
               "system_u:system_r:init_t:s0", stype, "init_t", tclass, False, "raw")


def _line(attack: str, pid: int | None, outcome: str = "denied", errno: str | None = "EACCES"):
    return json.dumps({"attack": attack, "pid": pid, "outcome": outcome, "errno": errno,
                       "syscall": "x", "detail": "d"})


def test_score_matches_avcs_by_pid_and_marks_missing_results():
    stdout = "\n".join([
        '{"event": "battery", "pid": 10, "uid": 0, "context": "' + STEADY + '"}',
        "SELKIT-LAB " + _line("ptrace", 11),
        "garbage {not json",
        _line("signal", 12, "allowed", None),
        _line("ptrace", 99, "allowed", None),  # a second line for an attack: the first counts
        _line("not-an-attack", 13),
    ])
    avcs = [_avc(11), _avc(11, perm="read", tclass="file"), _avc(12, stype="init_t"), _avc(14)]
    results = {r.attack.name: r for r in score(stdout, avcs)}
    assert len(results) == len(ATTACKS)
    ptrace = results["ptrace"]
    assert (ptrace.outcome, ptrace.pid, ptrace.errno) == ("denied", 11, "EACCES")
    assert ptrace.avcs == (avcs[0], avcs[1]) and ptrace.hint_seen
    assert results["signal"].avcs == (avcs[2],) and results["signal"].outcome == "allowed"
    assert (results["bind"].outcome, results["bind"].detail, results["bind"].avcs) == (
        "error", NO_RESULT, ())
    assert battery_header(stdout).context == STEADY


def test_verdict_needs_every_attack_denied_by_the_steady_domain():
    attacks = battery.ATTACKS_BY_NAME
    subset = (attacks["ptrace"], attacks["signal"])
    good = score("\n".join([_line("ptrace", 1), _line("signal", 2, errno="EPERM")]),
                 [_avc(1), _avc(2, perm="signal")], subset)
    assert verdict(good, "ptunnel_steady_t").passed
    # A denial whose only AVC names another domain (or none) is not proof of confinement.
    other = score("\n".join([_line("ptrace", 1), _line("signal", 2)]),
                  [_avc(1), _avc(2, stype="ptunnel_startup_t"), _avc(2, denied=False)], subset)
    outcome = verdict(other, "ptunnel_steady_t")
    assert not outcome.passed and len(outcome.problems) == 1
    assert outcome.problems[0].startswith("signal: denied (EACCES) but no AVC from "
                                          "ptunnel_steady_t for pid 2")
    missing = verdict(score(_line("ptrace", 1), [_avc(1)], subset), "ptunnel_steady_t")
    assert missing.problems == (f"signal: error, expected denied ({NO_RESULT})",)
    as_user = battery.BatteryHeader(pid=5, uid=1000, context=STEADY)
    assert verdict(good, "ptunnel_steady_t", as_user).problems == (
        "the battery ran as uid 1000, not root: a denial may be DAC's",)
    unknown = score(_line("ptrace", 1, outcome="maybe"), [], subset)[0]
    assert unknown.outcome == "error" and unknown.detail.startswith("unknown outcome 'maybe'")


# ---------------------------------------------------------------------------------------------
# A real capture: the probe in ptunnel_steady_t under the lab's enforcing Debian 6.1 kernel

CAPTURE = Path(__file__).resolve().parents[1] / "data" / "lab-ptunnel-battery.txt"


def _capture() -> tuple[str, str]:
    text = CAPTURE.read_text()
    stdout = text.split("--- stdout\n", 1)[1].split("--- dmesg\n", 1)[0]
    return stdout, text.split("--- dmesg\n", 1)[1]


def test_real_capture_every_attack_denied_by_the_steady_domain():
    stdout, dmesg = _capture()
    avcs = parse_avcs(dmesg)
    assert lost_records(dmesg) == 0 and all(avc.syscall is not None for avc in avcs)
    report = switch_report(stdout)
    assert (report.ok, report.before, report.after) == (True, STARTUP, STEADY)
    # captured before the system call attacks existed
    results = score(stdout, avcs, battery.SELINUX_ATTACKS)
    assert verdict(results, "ptunnel_steady_t", battery_header(stdout)).passed
    for result in results:
        assert result.gate_seen, result
    first = {r.attack.name: (r.avcs[0].tclass, r.avcs[0].perms[0], r.avcs[0].ttype)
             for r in results}
    assert first["setuid"] == ("capability", "setuid", "ptunnel_steady_t")
    assert first["connect"] == ("tcp_socket", "name_connect", "unreserved_port_t")
    assert first["ptrace"] == ("process", "ptrace", "kernel_t")
    assert first["setcon-back"] == ("process", "setcurrent", "ptunnel_steady_t")
    # The same records scored against the startup domain do not pass.
    assert not verdict(results, "ptunnel_startup_t").passed
