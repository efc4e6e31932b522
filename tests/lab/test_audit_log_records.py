"""A host's audit.log (tests/data/audit-host.log, auditd's ENRICHED format) and ausearch -i's
reading of it (tests/data/audit-host-interpreted.log) through selkit.lab.avc: every AVC,
USER_AVC, SELINUX_ERR and SECCOMP record once, the records of one event joined by their
``msg=audit(TIME:SERIAL)`` id, nothing of the 0x1d-separated interpretations in a field."""

from __future__ import annotations

from conftest import ROOT
from selkit.facts.numbers import AUDIT_ARCH_X86_64
from selkit.facts.seccomp_actions import Action
from selkit.lab.avc import parse_avcs, parse_seccomp
from selkit.suggest.avc import SELINUX_ERR

RAW = (ROOT / "tests" / "data" / "audit-host.log").read_text()
INTERPRETED = (ROOT / "tests" / "data" / "audit-host-interpreted.log").read_text()

#: (serial, source, target, class, perms, denied) of every decision in the log, in its order.
DECISIONS = [
    (1010, "init_t", "openvpn_steady_t", "process", ("dyntransition",), True),
    (1020, "httpd_t", "user_home_dir_t", "dir", ("search",), True),
    (1020, "httpd_t", "user_home_t", "dir", ("read",), True),
    (1030, "staff_t", "init_t", "system", ("status",), True),           # USER_AVC, systemd
    (1031, "ntpd_t", "systemd_logind_t", "dbus", ("send_msg",), True),  # USER_AVC, dbus
    (1040, "openvpn_steady_t", "openvpn_steady_t", "unix_dgram_socket", ("create",), True),
    (1041, "ntpd_t", "etc_t", "file", ("read",), True),                 # permissive=1
    (1042, "sysadm_t", "security_t", "security", ("setenforce",), False),  # auditallow
    (1060, "sshd_t", "shell_exec_t", "process", (), True),              # SELINUX_ERR
]


def _decisions(text: str) -> list[tuple]:
    return sorted((a.serial, a.stype, a.ttype, a.tclass, a.perms, a.denied)
                  for a in parse_avcs(text))


def test_every_decision_once_with_its_events_syscall():
    avcs = parse_avcs(RAW)
    assert _decisions(RAW) == sorted(DECISIONS)
    by_serial = {(a.serial, a.ttype): a for a in avcs}
    # One event, two AVC records: both carry the SYSCALL record's call (openat) and pid.
    assert {(a.syscall, a.pid, a.comm) for a in avcs if a.serial == 1020} == {
        (257, 881, "apache2")}
    steady = by_serial[(1040, "openvpn_steady_t")]
    assert (steady.syscall, steady.pid, steady.permissive) == (41, 2301, False)
    assert by_serial[(1041, "etc_t")].permissive
    err = by_serial[(1060, "shell_exec_t")]
    assert (err.kind, err.op, err.syscall, err.comm) == (
        SELINUX_ERR, "security_compute_sid", 59, "sshd")
    # A USER_AVC's outer pid is the object manager's (systemd's 1), not the subject's.
    assert by_serial[(1030, "init_t")].pid is None


def test_every_seccomp_record_once_without_the_enriched_fields():
    records = parse_seccomp(RAW)
    assert [(r.serial, r.domain, r.syscall) for r in records] == [
        (1050, "openvpn_steady_t", "newfstatat"), (1051, "openvpn_steady_t", "sched_yield"),
        (1052, "systemd_logind_t", "mount"), (1053, "staff_t", "ptrace")]
    log, _, _, kill = records
    assert (log.arch, log.action, log.sig, log.comm) == (
        AUDIT_ARCH_X86_64, Action("log"), 0, "openvpn")
    assert (kill.action, kill.sig) == (Action("kill_process"), 31)  # the node= prefixed line
    # The interpretations after 0x1d are no part of the record (str.splitlines splits there).
    assert "\x1d" in RAW and log.raw.endswith(" code=0x7ffc0000")


def test_ausearch_interpreted_output_gives_the_same_records():
    """``ausearch -i`` prints local times, names for arch and syscall, no quotes: the same
    decisions and seccomp records (its SYSCALL records' call names resolved too)."""
    assert _decisions(INTERPRETED) == _decisions(RAW)
    assert [(r.serial, r.domain, r.arch, r.nr) for r in parse_seccomp(INTERPRETED)] == [
        (r.serial, r.domain, r.arch, r.nr) for r in parse_seccomp(RAW)]
    steady = next(a for a in parse_avcs(INTERPRETED) if a.serial == 1040)
    assert steady.syscall == 41
