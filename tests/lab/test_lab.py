"""`selkit lab all` for real: Debian's kernel under qemu (TCG), enforcing, every shipped daemon
with real traffic and the attack battery in its steady domain and in initrc_t.

Needs qemu-system-x86 (scripts/lab-deps.sh), the vendor build dependencies and the network to
the Debian archive (kernel and busybox-static are downloaded once into the cache). The
boot-to-verdict time of every daemon is printed and recorded as a test property.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from conftest import ROOT
from selkit.lab.battery import ATTACKS
from selkit.lab.scenario_file import find_scenarios, load_scenario

SELKIT = [sys.executable, "-m", "selkit"]
DAEMONS = [load_scenario(p).daemon for p in find_scenarios(ROOT / "policies")]

# Skipped only off CI: in CI (CI=true) a missing qemu is a failure, never a silent skip.
pytestmark = pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None
                                and os.environ.get("CI") != "true",
                                reason="qemu-system-x86 is not installed "
                                       "(sh scripts/lab-deps.sh)")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """One `selkit lab all --json --keep DIR` run: exit code, results by daemon, wall time."""
    keep = tmp_path_factory.mktemp("lab")
    start = time.monotonic()
    proc = subprocess.run([*SELKIT, "lab", "all", "--json", "--keep", str(keep)], cwd=ROOT,
                          capture_output=True, text=True, timeout=40 * 60,
                          env={**os.environ, "LC_ALL": "C"})
    wall = time.monotonic() - start
    assert proc.returncode in (0, 1), proc.stderr
    data = json.loads(proc.stdout)
    results = {r["daemon"]: r for r in data["results"]}
    timing = ", ".join(f"{d} {results[d]['seconds']:.1f} s" for d in DAEMONS if d in results)
    sys.stderr.write(f"\nselkit lab all: {wall:.0f} s wall; boot to verdict: {timing}\n")
    return proc.returncode, data, results, keep, wall


def test_every_daemon_has_a_result_and_the_exit_status_agrees(lab, record_property):
    code, data, results, _, wall = lab
    # Timings are recorded, never asserted (they are noisy here; see bench/).
    for daemon, result in results.items():
        record_property(f"boot_to_verdict_{daemon}", result["seconds"])
    record_property("lab_all_wall_seconds", round(wall))
    assert sorted(results) == sorted(DAEMONS)
    assert data["ok"] == all(r["ok"] for r in results.values())
    assert code == (0 if data["ok"] else 1)


@pytest.mark.parametrize("daemon", DAEMONS)
def test_guest_ran_to_the_end_with_an_enforcing_policy(lab, daemon):
    _, _, results, keep, _ = lab
    result = results[daemon]
    assert not any("did not finish" in p for p in result["problems"]), result["problems"]
    dmesg = (keep / daemon / "dmesg.txt").read_text()
    assert "SELKIT-LAB-MARK done" in dmesg
    results_log = (keep / daemon / "results.log").read_text(errors="replace")
    assert '"step": "stage2"' in results_log and '"enforce": 1' in results_log
    assert result["lost_records"] == 0


@pytest.mark.parametrize("daemon", DAEMONS)
def test_probe_enters_the_steady_domain_the_way_the_daemon_does(lab, daemon):
    result = lab[2][daemon]
    steady = result["domains"]["steady"]
    switch = result["switch"]
    assert switch is not None and switch["ok"], switch
    assert switch["before"] == f"system_u:system_r:{result['domains']['startup']}:s0"
    assert switch["after"] == f"system_u:system_r:{steady}:s0"


@pytest.mark.parametrize("daemon", DAEMONS)
def test_every_attack_is_denied_in_the_steady_domain_with_its_avc(lab, daemon):
    result = lab[2][daemon]
    steady = result["domains"]["steady"]
    rows = {row["attack"]: row for row in result["attacks"]["steady"]}
    assert sorted(rows) == sorted(a.name for a in ATTACKS)
    for name, row in rows.items():
        if row["layer"] != "selinux":
            continue
        assert row["outcome"] == "denied", (name, row["detail"])
        assert row["errno"] in ("EACCES", "EPERM"), (name, row)
        sources = {avc["scontext"].split(":")[2] for avc in row["avcs"] if avc["denied"]}
        assert steady in sources, (name, row["avcs"])


@pytest.mark.parametrize("daemon", DAEMONS)
def test_under_the_steady_filter_every_system_call_attack_is_killed_with_its_record(lab,
                                                                                   daemon):
    """The filter the daemon loads (Seccomp: 2 in its /proc status) kills each system call
    attack, and the kernel's seccomp record names the attempt's pid and the call; the other
    attacks are killed too, or denied by SELinux at a call the filter lets through."""
    result = lab[2][daemon]
    assert (result["context"]["seccomp"], result["context"]["no_new_privs"]) == (2, 1)
    assert result["seccomp"] == [], result["seccomp"]
    rows = {row["attack"]: row for row in result["attacks"]["filtered"]}
    assert sorted(rows) == sorted(a.name for a in ATTACKS)
    for name, row in rows.items():
        assert row["outcome"] in ("killed", "denied"), (name, row)
        if row["layer"] == "seccomp":
            assert row["outcome"] == "killed", (name, row)
        if row["outcome"] == "killed":
            (record,) = row["seccomp"]
            assert record["pid"] == row["pid"] and record["action"] == "kill_process"
            call = record["syscall"] or {"0x40000003": "i386:getpid",
                                         "0xc000003e": "x32:getpid"}[record["arch"]]
            assert call in row["calls"], (name, record)


@pytest.mark.parametrize("daemon", DAEMONS)
def test_steady_survives_what_a_deployment_does_and_restarts_through_its_supervisor(lab,
                                                                                   daemon):
    """After startup: a client reconnects (not for the iodine client, which is the client),
    syslogd restarts, each restart request ends the daemon (no seccomp kill: the run's
    records are none) and the supervisor's restart reaches steady again and passes traffic."""
    result = lab[2][daemon]
    run = result["longrun"]
    steady = f"system_u:system_r:{result['domains']['steady']}:s0"
    if daemon != "iodine":
        assert run["reconnected"]["traffic"], run
    assert run["after_syslogd"]["traffic"], run
    signals = [r["signal"] for r in run["restarts"]]
    assert signals == (["HUP", "USR1"] if daemon == "openvpn" else ["HUP"])
    for restart in run["restarts"]:
        assert restart["gone"] and restart["current"] == steady, restart
        assert restart["tunnel"]["traffic"], restart
        assert restart["new_pid"] != restart["old_pid"]
    assert result["seccomp"] == [] and result["denials"] == []


def test_openvpn_renegotiates_in_steady_and_says_why_it_ends_on_a_restart_request(lab):
    result = lab[2]["openvpn"]
    # the guest's results port: its syslog block holds the daemon's lines
    syslog = (lab[3] / "openvpn" / "results.log").read_text(errors="replace")
    assert result["longrun"]["renegotiated"]["traffic"]
    assert syslog.count("TLS: soft reset") >= 2, "reneg-sec 10 over 25 s"
    for sig in ("SIGHUP", "SIGUSR1"):
        assert (f"{sig} restart is not possible in SELinux context "
                f"'system_u:system_r:openvpn_steady_t:s0': exiting so that the supervisor "
                "restarts OpenVPN") in syslog
    assert syslog.count("Exiting due to fatal error") >= 2


def test_selinux_alone_lets_vmsplice_fill_a_pipe_it_may_not_write(lab):
    """The evidence behind the syscall table's 'vmsplice and pipe-to-pipe splice are not
    mediated': without the filter both succeed in every steady domain, and ptunnel's, which
    holds no fifo_file write, is refused write() on the very pipe vmsplice just filled."""
    for daemon, result in lab[2].items():
        rows = {row["attack"]: row for row in result["attacks"]["steady"]}
        assert rows["vmsplice"]["outcome"] == "allowed", (daemon, rows["vmsplice"])
        assert rows["splice"]["outcome"] == "allowed", (daemon, rows["splice"])
    ptunnel = {row["attack"]: row for row in lab[2]["ptunnel"]["attacks"]["steady"]}
    assert ptunnel["vmsplice"]["detail"].endswith(
        "write() on the same pipe: Permission denied"), ptunnel["vmsplice"]


@pytest.mark.parametrize("daemon", DAEMONS)
def test_the_default_column_runs_unconfined_and_is_not_stopped(lab, daemon):
    result = lab[2][daemon]
    assert result["attacks"]["default_context"] == "system_u:system_r:initrc_t:s0"
    rows = {row["attack"]: row["outcome"] for row in result["attacks"]["default"]}
    # Without the selkit policy nothing stops a root daemon from these.
    for name in ("read-file", "write-file", "exec-shell", "ptrace", "packet-sock", "raw-sock",
                 "connect", "bind", "setuid", "signal", "mem-read", "proc-mem"):
        assert rows[name] == "allowed", (name, rows[name])


@pytest.mark.parametrize("daemon", DAEMONS)
def test_keep_leaves_the_evidence(lab, daemon):
    keep = lab[3] / daemon
    for name in ("initrd.gz", "console.log", "results.log", "dmesg.txt", "policy.33",
                 "selkit_lab.cil"):
        assert (keep / name).stat().st_size > 0, name


def test_every_shipped_daemon_passes(lab):
    """The shipped specs work under the enforcing kernel: traffic passes, the daemon lands in
    its steady domain, and nothing outside the battery is denied."""
    code, _, results, _, _ = lab
    for daemon, result in results.items():
        assert result["problems"] == [] and result["ok"], (daemon, result["problems"])
        assert result["tunnel"]["traffic"], daemon
        steady = result["domains"]["steady"]
        assert result["context"]["after"] == f"system_u:system_r:{steady}:s0", daemon
        assert result["denials"] == [], daemon
    assert code == 0


@pytest.fixture(scope="module")
def mutated_ptunnel(tmp_path_factory):
    """One lab run of a ptunnel spec with two things taken out: the pid file (an AVC in
    startup) and the 'newfstatat' its steady phase needs, with steady's filter in learning
    mode ('syscalls default log': the call runs and the kernel logs it). The lab builds
    ptunnel with the patch regenerated from this spec, so the filter it loads is this one."""
    specs = tmp_path_factory.mktemp("mutated") / "policies"
    shutil.copytree(ROOT / "policies", specs)
    spec = specs / "ptunnel.sel"
    text = spec.read_text()
    line = next(ln for ln in text.splitlines(keepends=True) if ln.strip().startswith("pidfile pid"))
    assert "        syscalls allow newfstatat ioctl\n" in text
    text = text.replace(line, "", 1).replace("        syscalls allow newfstatat ioctl\n",
                                             "        syscalls allow ioctl\n"
                                             "        syscalls default log\n")
    spec.write_text(text)
    proc = subprocess.run([*SELKIT, "lab", "ptunnel", "--json", "--suggest", "--specs",
                           str(specs)], cwd=ROOT, capture_output=True, text=True,
                          timeout=20 * 60)
    assert proc.returncode == 1, proc.stderr
    return str(spec), json.loads(proc.stdout)["results"][0]


def test_a_spec_missing_a_permission_fails_and_is_pointed_back_to(mutated_ptunnel):
    """The lab sees the pid file's denial, fails, and suggests the statement back at the
    spec's startup phase."""
    _, result = mutated_ptunnel
    assert not result["ok"]
    denied = {(d["tcontext"].split(":")[2], d["tclass"]) for d in result["denials"]}
    assert ("var_run_t", "dir") in denied, result["denials"]
    statements = {(s["phase"], s["statement"]) for s in result["suggestions"]}
    assert ("startup", "pidfile pid") in statements, result["suggestions"]


def test_a_call_the_filter_logs_is_pointed_back_to_a_syscalls_line(mutated_ptunnel):
    """Learning mode: the call runs (the tunnel still works), the kernel logs it with the
    steady domain, the run fails, and --suggest names the line that lets it through."""
    path, result = mutated_ptunnel
    assert result["tunnel"]["traffic"]
    logged = {(r["syscall"], r["domain"], r["action"]) for r in result["seccomp"]}
    assert ("newfstatat", "ptunnel_steady_t", "log") in logged, result["seccomp"]
    assert any("seccomp outside the battery: log on newfstatat" in p for p in result["problems"])
    (suggestion,) = [s for s in result["syscall_suggestions"] if s["syscall"] == "newfstatat"]
    assert (suggestion["kind"], suggestion["phase"], suggestion["statement"], suggestion["path"]
            ) == ("allow", "steady", "syscalls allow newfstatat", path)


def test_kernel_modules_come_with_their_dependencies_first():
    from selkit.lab.kernel import fetch_kernel, modinfo

    kernel = fetch_kernel()
    loaded = kernel.modules_in_load_order(["tun", "veth", "vxlan"])
    names = [name for name, _ in loaded]
    assert names[:2] == ["tun", "veth"] and names[-1] == "vxlan"
    for name, data in loaded:
        assert data[:4] == b"\x7fELF"
        info = modinfo(data)
        assert info["vermagic"].split()[0] == kernel.release
        for dep in filter(None, info.get("depends", "").split(",")):
            assert names.index(dep) < names.index(name), (dep, name)
    assert len(names) > 3  # vxlan needs the UDP tunnel helpers


@pytest.mark.parametrize("daemon", DAEMONS)
def test_the_data_file_attacks_reach_the_file_itself(lab, daemon):
    """/etc is searchable by every domain: SELinux refuses the file (shadow_t), not the path."""
    result = lab[2][daemon]
    steady = result["domains"]["steady"]
    for name, perm in (("read-file", "read"), ("write-file", "append")):
        (attack,) = [a for a in result["attacks"]["steady"] if a["attack"] == name]
        assert attack["outcome"] == "denied", attack
        rules = {(a["tclass"], a["tcontext"].split(":")[2], tuple(a["perms"]))
                 for a in attack["avcs"] if a["scontext"].split(":")[2] == steady}
        assert ("file", "shadow_t", (perm,)) in rules, attack["avcs"]
        assert not any(tclass == "dir" for tclass, _, _ in rules), rules


@pytest.mark.parametrize("daemon", DAEMONS)
def test_the_battery_as_the_daemons_user_shows_dac_and_selinux(lab, daemon):
    """As nobody in the steady domain every attack fails, each marked with the layer that
    refused it: DAC for the root-owned file, SELinux for what DAC would let nobody do."""
    result = lab[2][daemon]
    assert result["attacks"]["user"] == "nobody"
    by_name = {a["attack"]: a for a in result["attacks"]["as_user"]
               if a["layer"] == "selinux"}
    assert by_name and all(a["outcome"] == "denied" for a in by_name.values()), by_name
    assert by_name["read-file"]["stopped_by"] == "DAC"      # /etc/shadow is 0600 root
    assert by_name["connect"]["stopped_by"] == "SELinux"    # nobody may connect; SELinux not
    assert by_name["bind"]["stopped_by"] == "SELinux"       # port 4444 is nobody's to bind
    # Regaining root: nobody has no CAP_SETUID, so the kernel refuses before SELinux asks.
    assert by_name["setuid"]["stopped_by"] == "DAC"


def test_the_iodine_client_ran_against_a_confined_iodined(lab):
    peer = lab[2]["iodine"]["peer_confined"]
    assert peer == {**peer, "domain": "iodined_steady_t",
                    "current": "system_u:system_r:iodined_steady_t:s0", "seccomp": 2}
    assert lab[2]["iodine"]["tunnel"]["traffic"]
