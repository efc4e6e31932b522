"""The lab's guest without a VM: scripts, scenario rendering, image staging, output parsing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import POLICIES, ROOT
from selkit.compiler import front_end
from selkit.lab import assemble, guest_output, runner, verdict
from selkit.lab.image import GuestImage, guest_script, render_config
from selkit.lab.scenario_file import find_scenarios, load_scenario
from selkit.lab.scenario_script import guest_script as scenario_script

SCENARIOS = [load_scenario(path) for path in find_scenarios(ROOT / "policies")]

SCENARIO_FUNCTIONS = ("scenario_prepare", "scenario_start", "scenario_pid", "scenario_traffic")


def _shells():
    found = [s for s in ("dash", "bash") if shutil.which(s)]
    assert found, "neither dash nor bash to check the guest scripts with"
    return found


@pytest.mark.parametrize("name", ["init.sh", "stage2.sh"])
def test_guest_scripts_parse(name):
    for shell in _shells():
        result = subprocess.run([shell, "-n"], input=guest_script(name), capture_output=True)
        assert result.returncode == 0, result.stderr.decode()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.daemon)
def test_every_scenario_script_defines_the_four_steps_and_parses(scenario):
    text = scenario_script(scenario)
    for function in SCENARIO_FUNCTIONS:
        assert f"\n{function}() {{" in "\n" + text, function
    assert "$LAB_SWITCH_OPTION" in text and "$LAB_DAEMON" in text
    for shell in _shells():
        result = subprocess.run([shell, "-n"], input=text.encode(), capture_output=True)
        assert result.returncode == 0, result.stderr.decode()


def test_every_shipped_spec_has_a_scenario_beside_it():
    assert {s.spec.name for s in SCENARIOS} == {p.name for p in POLICIES}
    assert all(s.spec.parent == ROOT / "policies" for s in SCENARIOS)


def test_the_iodine_client_runs_against_a_confined_iodined():
    (iodine,) = [s for s in SCENARIOS if s.daemon == "iodine"]
    assert iodine.peer.spec == ROOT / "policies" / "iodined.sel"
    assert iodine.peer.start == "before"
    text = scenario_script(iodine)
    # Started from init_t through the init_exec_t nsenter, with its own switch option.
    assert "lab_nsenter_client /lab/confined-peer/iodined" in text
    assert "$LAB_PEER_SWITCH_OPTION" in text
    assert "scenario_reconnect" not in text   # the server is not a client that reconnects


@pytest.fixture(scope="module")
def modules(kb):
    out = {}
    for path in POLICIES:
        _, mods = front_end(str(path), kb)
        for module in mods:
            out[module.daemon] = module
    return out


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.daemon)
def test_scenario_reads_entry_type_dirs_and_switch_option_from_the_spec(scenario, modules):
    module = modules[scenario.daemon]
    steady = module.steady.domain
    assert module.exec_type == f"{scenario.daemon}_startup_exec_t"
    option = assemble.switch_option(module, verdict.context_of(steady))
    assert option.endswith(f"system_u:system_r:{steady}:s0")
    assert "{context}" not in option
    jails = [path for path, type_ in assemble.spec_directories(module) if type_.endswith("_jail_t")]
    assert len(jails) == 1 and jails[0].startswith("/var/")


def test_scenario_script_uses_the_spec_jail(modules):
    for scenario in SCENARIOS:
        jail = next(p for p, t in assemble.spec_directories(modules[scenario.daemon])
                    if t.endswith("_jail_t"))
        assert jail in scenario_script(scenario), scenario.daemon


def test_files_under_labelled_dirs_are_staged_and_mounts_listed(busybox):
    image = GuestImage()
    image.label("/lab/daemon", "ptunnel_startup_exec_t")
    image.label("/var/lib/ptunnel", "ptunnel_jail_t", writable=True)
    image.put("/lab/daemon/ptunnel", b"ELF", 0o755)
    image.put("/plain/file", b"x")
    image.config = {"LAB_DAEMON": "/lab/daemon/ptunnel"}
    archive = image.initramfs(busybox, b"policy bytes")
    names = set(archive.names())
    assert ".lab/stage/lab/daemon/ptunnel" in names and "lab/daemon/ptunnel" not in names
    assert "plain/file" in names
    assert "lab/daemon" in names and "var/lib/ptunnel" in names  # mount points exist
    mounts = archive.entries[".lab/mounts"].data.decode().splitlines()
    assert "/lab/daemon ptunnel_startup_exec_t context" in mounts
    assert "/var/lib/ptunnel ptunnel_jail_t rootcontext" in mounts
    assert "/bin bin_t context" in mounts and "/run var_run_t rootcontext" in mounts
    depths = [line.split()[0].count("/") for line in mounts]
    assert depths == sorted(depths)  # parents are mounted before children
    assert ".lab/stage/bin/sh" in names and archive.entries[".lab/stage/bin/sh"].data == b"busybox"
    assert archive.entries[".lab/config.sh"].data == b"LAB_DAEMON=/lab/daemon/ptunnel\n"
    assert archive.entries[".lab/policy.33"].data == b"policy bytes"
    devices = archive.entries[".lab/devices"].data.decode()
    assert "/dev/net/tun tun_tap_device_t 10 200" in devices
    assert image.initramfs(busybox, b"policy bytes").gzip() == archive.gzip()


def test_render_config_quotes_and_sorts():
    text = render_config({"B": "two words", "A": "it's"})
    assert text == "A='it'\"'\"'s'\nB='two words'\n"


def test_shell_command_leaves_the_victim_pid_to_the_guest():
    command = assemble._shell_command(["/lab/p", "battery", "--victim", "$VICTIM_PID",
                                     "--data", "/home/a b"])
    assert command == "/lab/p battery --victim \"$VICTIM_PID\" --data '/home/a b'"


RESULTS = """\
garbage before
SELKIT-LAB {"step": "stage2", "context": "system_u:system_r:init_t:s0"}
SELKIT-LAB {"step": "daemon", "pid": "42", "exec_parent": "system_u:system_r:init_t:s0", \
"current": "system_u:system_r:x_steady_t:s0", "threads": ["system_u:system_r:x_steady_t:s0"], \
"seen": ["system_u:system_r:x_startup_t:s0", "system_u:system_r:x_steady_t:s0"]}
SELKIT-LAB {"step": "tunnel", "kind": "tcp", "traffic": true, "bytes_sent": 49, \
"bytes_received": 49}
SELKIT-LAB-BLOCK daemon-log
line one
SELKIT-LAB {"step": "not an event inside a block"}
SELKIT-LAB-BLOCK-END
SELKIT-LAB-BLOCK dmesg
[    1.0] boot line
[    2.0] SELKIT-LAB-MARK traffic
[    2.5] audit: type=1400 audit(1.2:3): avc:  denied  { read } for  pid=42 comm="x"
[    3.0] SELKIT-LAB-MARK probe-steady
[    3.5] after
SELKIT-LAB-BLOCK-END
SELKIT-LAB-DONE
"""


def test_parse_output_events_blocks_and_done():
    output = guest_output.parse_output(RESULTS)
    assert output.done
    assert [e["step"] for e in output.events] == ["stage2", "daemon", "tunnel"]
    assert output.blocks["daemon-log"].splitlines()[1].startswith("SELKIT-LAB {")
    tunnel = guest_output.tunnel_of(output)
    assert tunnel.traffic and tunnel.bytes_received == 49
    state = guest_output.state_of(output)
    assert state.pid == 42 and state.after.endswith("x_steady_t:s0")
    assert state.before("system_u:system_r:x_startup_t:s0").endswith("x_startup_t:s0")
    assert state.exec_parent.endswith("init_t:s0")


def test_dmesg_segments_split_at_marks():
    output = guest_output.parse_output(RESULTS)
    segments = guest_output.dmesg_segments(output.blocks["dmesg"])
    assert list(segments) == ["boot", "traffic", "probe-steady"]
    assert "avc:" in segments["traffic"] and "avc:" not in segments["probe-steady"]


def test_unfinished_guest_is_not_done():
    assert not guest_output.parse_output(RESULTS.replace("SELKIT-LAB-DONE\n", "")).done


def test_unknown_daemon_is_a_diagnostic():
    from selkit.diagnostics import DiagnosticError

    with pytest.raises(DiagnosticError) as err:
        runner.scenarios("iodin", ROOT / "policies")
    assert err.value.diagnostics[0].code == "SEL770"
    assert err.value.diagnostics[0].hint == "did you mean 'iodine'?"
    assert [s.daemon for s in runner.scenarios("all", ROOT / "policies")] == \
        [s.daemon for s in SCENARIOS]


def test_the_probes_own_processes_are_known():
    lines = ('{"event": "switch", "pid": 12, "parent": 11, "ok": true}\n'
             'noise {"event": "battery", "pid": 12, "uid": 0}\n'
             '{"attack": "read-file", "pid": 13, "outcome": "denied"}\n')
    assert guest_output.probe_process_ids(lines) == {11, 12}


def test_a_missing_spec_is_refused_before_any_download(tmp_path):
    from selkit.diagnostics import DiagnosticError

    scenario = (ROOT / "policies" / "hts.lab.toml").read_text()
    (tmp_path / "hts.lab.toml").write_text(scenario)
    with pytest.raises(DiagnosticError) as err:
        runner.spec_paths(runner.scenarios("hts", tmp_path))
    assert err.value.diagnostics[0].code == "SEL768"
    assert "hts.sel" in err.value.diagnostics[0].message


def test_the_lab_links_only_the_chosen_specs_and_their_confined_peers():
    """--specs DIR needs no other daemon's spec: a spec alone, or with the peer it names."""
    policies = ROOT / "policies"
    assert runner.spec_paths(runner.scenarios(str(policies / "hts.sel"), policies)) == \
        [str(policies / "hts.sel")]
    linked = runner.spec_paths(runner.scenarios("iodine", policies))
    assert sorted(Path(p).name for p in linked) == ["iodine.sel", "iodined.sel"]
    # The same file named two ways (a daemon, and another's peer) is linked once.
    every = runner.spec_paths(runner.scenarios("all", policies))
    assert sorted(Path(p).name for p in every) == sorted(p.name for p in POLICIES)


def test_scenario_files_come_from_the_build_tree_or_beside_the_scenario(tmp_path):
    from selkit.diagnostics import DiagnosticError

    (openvpn,) = [s for s in SCENARIOS if s.daemon == "openvpn"]
    by_path = {f.path: f for f in openvpn.files}
    conf = by_path["/etc/openvpn/server.conf"]
    assert conf.source == "local"
    assert b"proto udp4" in assemble.file_data(openvpn, conf, None)
    key = by_path["/etc/openvpn/server.key"]
    assert (key.source, key.mode) == ("build", 0o600)
    (tmp_path / key.name).parent.mkdir(parents=True)
    (tmp_path / key.name).write_bytes(b"KEY")
    assert assemble.file_data(openvpn, key, tmp_path) == b"KEY"
    with pytest.raises(DiagnosticError) as err:
        assemble.file_data(openvpn, key, None)
    assert err.value.diagnostics[0].code == "SEL769"
    assert err.value.diagnostics[0].message == \
        "openvpn: the build has no sample/sample-keys/server.key (named in openvpn.lab.toml)"


def test_the_lab_driver_names_no_daemon():
    """What differs between daemons is data in its scenario file, not a branch in the lab."""
    from selkit.lab import scenario, scenario_file, scenario_script

    for module in (runner, assemble, verdict, guest_output, scenario, scenario_file,
                   scenario_script):
        text = Path(module.__file__).read_text()
        for one in SCENARIOS:
            assert f'"{one.daemon}"' not in text, (module.__name__, one.daemon)


def test_the_bench_reads_the_guests_ping_summary():
    """bench/lab_filter_pps.py's reading of the bench block (busybox ping's summary)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("lab_filter_pps",
                                                  ROOT / "bench" / "lab_filter_pps.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    block = ("start=100.25 end=104.25\nPING 10.8.0.1 (10.8.0.1): 56 data bytes\n\n"
             "--- 10.8.0.1 ping statistics ---\n"
             "2000 packets transmitted, 1800 packets received, 10% packet loss\n"
             "round-trip min/avg/max = 0.512/1.234/9.876 ms\n")
    assert bench.measure(block) == (450.0, 1.234)
    with pytest.raises(ValueError, match="no measurement"):
        bench.measure("ping: sendto: Network unreachable\n")


def _avc(source: str, target: str, tclass: str, perm: str):
    from selkit.suggest.avc import Avc

    return Avc(True, (perm,), 7, "probe", f"system_u:system_r:{source}:s0",
               f"system_u:object_r:{target}:s0", source, target, tclass, False, "")


@pytest.mark.parametrize("name, avcs, expected", [
    ("read-file", (), "DAC"),                                          # no AVC at all
    ("connect", (("tcp_socket", "name_connect"),), "SELinux"),         # the attack's own check
    ("read-file", (("dir", "search"),), "SELinux"),                    # a gate on its way
    ("module-init", (("dir", "search"),), "both"),                     # an earlier step only
])
def test_which_layer_stopped_an_attempt_as_the_daemons_user(name, avcs, expected):
    from selkit.lab.battery import ATTACKS_BY_NAME, AttackResult
    from selkit.report.lab import stopped_by

    records = tuple(_avc("x_steady_t", "t", tclass, perm) for tclass, perm in avcs)
    result = AttackResult(ATTACKS_BY_NAME[name], "denied", 7, "EPERM", "call", "", records)
    assert stopped_by(result, "x_steady_t") == expected
    # Another domain's AVC is not this domain's refusal; an attempt that succeeded has none.
    other = AttackResult(ATTACKS_BY_NAME[name], "denied", 7, "EPERM", "call", "",
                         tuple(_avc("y_t", "t", c, p) for c, p in avcs))
    assert stopped_by(other, "x_steady_t") == "DAC"
    allowed = AttackResult(ATTACKS_BY_NAME[name], "allowed", 7, None, "call", "", records)
    assert stopped_by(allowed, "x_steady_t") is None


def test_the_lab_finds_the_module_of_a_scenarios_spec(tmp_path):
    from types import SimpleNamespace

    from selkit.diagnostics import DiagnosticError
    from selkit.lab.policy import LabPolicy

    one, two = tmp_path / "one.sel", tmp_path / "two.sel"
    modules = (SimpleNamespace(source_path=str(one), daemon="solo"),
               SimpleNamespace(source_path=str(two), daemon="a"),
               SimpleNamespace(source_path=str(two), daemon="b"))
    policy = LabPolicy(tmp_path / "policy.33", modules, "", "")  # type: ignore[arg-type]
    # A spec's only daemon whatever the scenario's file name says; by name among several.
    assert policy.module_of(one, "one").daemon == "solo"
    assert policy.module_of(Path(str(two)), "b").daemon == "b"
    with pytest.raises(DiagnosticError) as err:
        policy.module_of(two, "two")
    assert err.value.diagnostics[0].code == "SEL776"
    assert "its daemons: a, b" in err.value.diagnostics[0].message
