"""`selkit suggest --audit-log FILE SPEC`: a host's audit.log mixes the daemon's records with
every other domain's (AVC with their SYSCALL records, USER_AVC from systemd, SECCOMP from
another service). The daemon's become suggestions at spec lines; the others are set aside, each
named, never turned into a grant for the spec."""

from __future__ import annotations

import json

from conftest import ROOT

LOG = ROOT / "tests" / "data" / "audit" / "host-mixed.log"
SPEC = ROOT / "policies" / "ptunnel.sel"


def test_the_daemons_records_are_mapped_and_the_others_set_aside(cli, kb):
    ran = cli("suggest", "--audit-log", LOG, SPEC)
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0] == f"{LOG}: 3 denials (AVC, USER_AVC and SELINUX_ERR), 2 seccomp records"
    # The daemon's: at the spec line that grants it (or the phase's syscall line).
    assert any(line.startswith(f"{SPEC}:23: phase startup") for line in lines)
    assert any("newfstatat" in line and "phase steady" in line for line in lines)
    # Everyone else's: counted per domain and set aside, never a suggestion.
    assert lines[1] == ("set aside, no phase of the specs involved: 2 denials and 1 seccomp "
                        "record of 3 other domains: chronyd_t 1, sshd_t 1, sysadm_t 1")
    assert not any(d in line for line in lines[2:] for d in ("sshd_t", "sysadm_t", "chronyd"))


def test_log_is_the_same_option(cli, kb):
    by_audit_log = cli("suggest", "--audit-log", LOG, SPEC, "--json")
    by_log = cli("suggest", "--log", LOG, SPEC, "--json")
    assert by_audit_log.returncode == by_log.returncode == 0
    assert json.loads(by_audit_log.stdout) == json.loads(by_log.stdout)
