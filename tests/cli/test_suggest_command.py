"""``selkit suggest SPEC... --audit-log FILE`` on records a real lab run printed
(tests/data/lab-ptunnel-learning.dmesg): the spec the run used (steady without newfstatat, in
learning mode) gets the ``syscalls allow`` back; the shipped spec already has it; bad input is a
coded diagnostic with exit 2 and nothing on stdout. On a host's audit.log
(tests/data/audit-host.log) the records of other domains are counted and set aside."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import jsonschema

from conftest import ROOT

LOG = ROOT / "tests" / "data" / "lab-ptunnel-learning.dmesg"
HOST_LOG = ROOT / "tests" / "data" / "audit-host.log"
SHIPPED = "policies/ptunnel.sel"
OPENVPN = "policies/openvpn.sel"


def learning_spec(tmp_path):
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    text = (ROOT / SHIPPED).read_text().replace("syscalls allow newfstatat ioctl\n",
                                                "syscalls allow ioctl\n"
                                                "        syscalls default log\n")
    assert "syscalls default log" in text
    spec = tmp_path / SHIPPED
    spec.write_text(text)
    return spec


def test_the_runs_spec_gets_the_call_back_and_the_denial_its_verb(cli, tmp_path):
    spec = learning_spec(tmp_path)
    ran = cli("suggest", spec, "--audit-log", LOG)
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0] == f"{LOG}: 1 denial (AVC, USER_AVC and SELINUX_ERR), 1 seccomp record"
    assert not lines[1]  # nothing set aside: the lab's log has the daemon's records only
    assert any(line.startswith(f"{spec}:") and "in phase steady add: syscalls allow newfstatat"
               in line for line in lines), ran.stdout
    assert any("in phase steady add: tcp connect port 25" in line for line in lines), ran.stdout


def test_the_shipped_spec_already_allows_it(cli):
    ran = cli("suggest", SHIPPED, "--log", LOG, "--json")  # --log: the old name
    assert ran.returncode == 0, ran.stderr
    data = json.loads(ran.stdout)
    schema = json.loads((ROOT / "schemas" / "suggest.schema.json").read_text())
    jsonschema.validate(data, schema)
    assert data["schema"] == "selkit/suggest/1" and (data["denials"], data["seccomp"]) == (1, 1)
    assert data["set_aside"] == {"denials": 0, "seccomp": 0, "domains": []}
    (call,) = data["syscall_suggestions"]
    assert (call["kind"], call["syscall"], call["phase"]) == ("granted", "newfstatat", "steady")
    assert "syscalls allow newfstatat ioctl" in call["why"]


def test_a_log_without_records(cli, tmp_path):
    empty = tmp_path / "quiet.log"
    empty.write_text("nothing of interest\n")
    ran = cli("suggest", SHIPPED, "--audit-log", empty)
    assert ran.returncode == 0
    assert ran.stdout == f"{empty}: 0 denials (AVC, USER_AVC and SELINUX_ERR), 0 seccomp " \
                         "records: nothing to suggest\n"


def test_standard_input(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "selkit", "suggest", SHIPPED, "--audit-log", "-",
                           "--json"], cwd=ROOT, input=LOG.read_text(), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["log"] == "-"


def test_bad_input_is_a_coded_diagnostic(cli, tmp_path):
    for args, code in (((SHIPPED, "--audit-log", tmp_path / "missing.log"), "SEL901"),
                       ((SHIPPED, "--audit-log", tmp_path), "SEL903"),
                       ((tmp_path / "nope.sel", "--audit-log", LOG), "SEL901")):
        ran = cli("suggest", *args)
        assert ran.returncode == 2 and ran.stdout == "", (args, ran)
        assert f"[{code}]" in ran.stderr and "Traceback" not in ran.stderr


#: The records of tests/data/audit-host.log that name no phase of policies/openvpn.sel, per
#: source domain: (domain, denials, seccomp records). The auditallow record is no denial.
OTHER_DOMAINS = [("httpd_t", 2, 0),       # one event, two AVC records
                 ("ntpd_t", 2, 0),        # a permissive denial and a dbus USER_AVC
                 ("staff_t", 1, 1),       # a systemd USER_AVC and a browser's seccomp kill
                 ("sshd_t", 1, 0),        # SELINUX_ERR
                 ("systemd_logind_t", 0, 1)]


def test_a_hosts_audit_log_answers_the_specs_phases_only(cli):
    """Of 8 denials and 4 seccomp records, the ones that name no openvpn phase are counted per
    domain and get no suggestion; the daemon's own get theirs, and init's refused switch into
    the steady phase (the daemon never entered its startup domain) is kept and explained."""
    ran = cli("suggest", OPENVPN, "--audit-log", HOST_LOG, "--json")
    assert ran.returncode == 0, ran.stderr
    data = json.loads(ran.stdout)
    jsonschema.validate(data, json.loads((ROOT / "schemas" / "suggest.schema.json").read_text()))
    assert (data["denials"], data["seccomp"]) == (8, 4)
    aside = data["set_aside"]
    assert [(d["domain"], d["denials"], d["seccomp"]) for d in aside["domains"]] == OTHER_DOMAINS
    assert (aside["denials"], aside["seccomp"]) == (6, 2)
    ours = {"openvpn_startup_t", "openvpn_steady_t"}
    answered = [r for s in data["suggestions"] for r in s["denied"]]
    assert sum(s["count"] for s in data["suggestions"]) == 8 - 6
    assert all(r["source"] in ours or r["target"] in ours for r in answered), answered
    by_source = {r["source"]: s for s in data["suggestions"] for r in s["denied"]}
    syslog = by_source["openvpn_steady_t"]
    assert (syslog["kind"], syslog["phase"], syslog["statement"]) == ("verb", "steady", "syslog")
    entry = by_source["init_t"]
    assert entry["kind"] == "none" and "did not enter its startup domain" in entry["why"]
    calls = {c["syscall"]: c for c in data["syscall_suggestions"]}
    assert sorted(calls) == ["newfstatat", "sched_yield"]
    assert calls["newfstatat"]["kind"] == "forbidden"  # steady's 'syscalls deny'
    assert (calls["sched_yield"]["kind"], calls["sched_yield"]["statement"]) == (
        "allow", "syscalls allow sched_yield")


def test_the_set_aside_records_in_the_text(cli):
    ran = cli("suggest", OPENVPN, "--audit-log", HOST_LOG)
    assert ran.returncode == 0, ran.stderr
    head, aside, blank, *rest = ran.stdout.splitlines()
    assert head == f"{HOST_LOG}: 8 denials (AVC, USER_AVC and SELINUX_ERR), 4 seccomp records"
    assert aside == ("set aside, no phase of the specs involved: 6 denials and 2 seccomp records "
                     "of 5 other domains: httpd_t 2, ntpd_t 2, staff_t 2, sshd_t 1, "
                     "systemd_logind_t 1")
    assert not blank and not any(d in line for line in rest for d, _, _ in OTHER_DOMAINS)


def test_ausearch_interpreted_output_gets_the_same_answers(cli):
    interpreted = ROOT / "tests" / "data" / "audit-host-interpreted.log"
    raw, shown = (json.loads(cli("suggest", OPENVPN, "--audit-log", log, "--json").stdout)
                  for log in (HOST_LOG, interpreted))
    for key in ("denials", "seccomp", "set_aside"):
        assert raw[key] == shown[key], key
    assert [(s["kind"], s["statement"]) for s in raw["suggestions"]] == [
        (s["kind"], s["statement"]) for s in shown["suggestions"]]
    assert [(c["kind"], c["syscall"]) for c in raw["syscall_suggestions"]] == [
        (c["kind"], c["syscall"]) for c in shown["syscall_suggestions"]]


def test_a_log_of_other_domains_only(cli, tmp_path):
    others = tmp_path / "others.log"
    others.write_text("".join(line + "\n" for line in HOST_LOG.read_text().splitlines()
                              if "openvpn_st" not in line))  # no line naming a phase
    ran = cli("suggest", OPENVPN, "--audit-log", others)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[1:] == [
        "set aside, no phase of the specs involved: 6 denials and 2 seccomp records of 5 other "
        "domains: httpd_t 2, ntpd_t 2, staff_t 2, sshd_t 1, systemd_logind_t 1",
        "no record names a phase of the specs given: nothing to suggest"]
