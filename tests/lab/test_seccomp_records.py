"""Seccomp audit records (type=1326) out of console text (selkit.lab.avc.parse_seccomp).

HOST_* are records this machine's kernel printed when tests/seccomp loaded filters (no SELinux
here, so no ``subj``); the SELinux form inserts ``subj=CONTEXT`` after ``ses=``, as the
kernel's audit_log_task() does on an SELinux kernel (the lab's records, tests/lab/test_lab.py).
"""

from __future__ import annotations

from selkit.facts.numbers import AUDIT_ARCH_I386, AUDIT_ARCH_X86_64
from selkit.facts.seccomp_actions import Action
from selkit.lab.avc import parse_avcs, parse_seccomp

HOST_KILL = ('[45612.565623] audit: type=1326 audit(1796431490.196:683): auid=4294967295 uid=0 '
             'gid=0 ses=4294967295 pid=19997 comm="drv" exe="/tmp/drv" sig=31 arch=c000003e '
             'syscall=110 compat=0 ip=0x7f0f78fbf829 code=0x80000000')
HOST_LOG = ('[35467.861618] audit: type=1326 audit(1796421337.111:35): auid=4294967295 uid=0 '
            'gid=0 ses=4294967295 pid=3806 comm="harness" exe="/tmp/harness" sig=0 '
            'arch=c000003e syscall=39 compat=0 ip=0x7f2129c91829 code=0x7ffc0000')
HOST_I386 = ('[35467.877987] audit: type=1326 audit(1796421337.127:37): auid=4294967295 uid=0 '
             'gid=0 ses=4294967295 pid=3810 comm="harness" exe="/tmp/harness" sig=31 '
             'arch=40000003 syscall=20 compat=1 ip=0x56252497117b code=0x80000000')
SUBJ = "subj=system_u:system_r:openvpn_steady_t:s0 "


def with_subj(record: str) -> str:
    return record.replace("pid=", SUBJ + "pid=", 1)


def test_kill_log_and_i386_records():
    kill, log, i386 = parse_seccomp("\n".join((HOST_KILL, HOST_LOG, HOST_I386)))
    assert (kill.arch, kill.nr, kill.pid, kill.comm, kill.sig, kill.serial) == (
        AUDIT_ARCH_X86_64, 110, 19997, "drv", 31, 683)
    assert kill.action == Action("kill_process") and kill.domain == ""
    assert (log.nr, log.sig, log.action) == (39, 0, Action("log"))
    assert (i386.arch, i386.nr) == (AUDIT_ARCH_I386, 20)
    assert kill.raw.startswith("type=1326 audit(1796431490.196:683):")


def test_the_domain_is_the_type_of_subj():
    (record,) = parse_seccomp(with_subj(HOST_KILL))
    assert record.domain == "openvpn_steady_t" and record.pid == 19997


def test_auditd_spelling_noise_duplicates_and_truncation():
    auditd = with_subj(HOST_LOG).split("audit: ", 1)[1].replace("type=1326 audit(",
                                                                 "type=SECCOMP msg=audit(")
    noisy = "some output glued" + with_subj(HOST_KILL) + "\r"
    truncated = HOST_I386.split(" arch=")[0]
    found = parse_seccomp("\n".join((auditd, noisy, noisy, truncated)))
    assert [(r.serial, r.nr) for r in found] == [(35, 39), (683, 110)]
    assert found[0].domain == "openvpn_steady_t"


def test_seccomp_records_are_no_avcs_and_avcs_no_seccomp_records():
    avc = ('audit: type=1400 audit(1764260000.123:301): avc:  denied  { read } for  pid=301 '
           'comm="d" scontext=system_u:system_r:a_t:s0 tcontext=system_u:object_r:b_t:s0 '
           'tclass=file permissive=0')
    text = "\n".join((avc, with_subj(HOST_KILL)))
    assert len(parse_avcs(text)) == 1
    assert [r.nr for r in parse_seccomp(text)] == [110]
