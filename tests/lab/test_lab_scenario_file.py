"""Reading lab scenario files: what each key becomes, and a coded diagnostic at the key's line
for every mistake (the CLI's exit code 2 and caret come from these)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT
from selkit.diagnostics import DiagnosticError
from selkit.lab.scenario import BuildKind, TrafficKind
from selkit.lab.scenario_file import load_scenario, scenario_path

MINIMAL = """\
[build]
project = "httptunnel"

[daemon]
command = ["hts", "{switch}", "80"]

[peer]
role = "htc"
command = ["htc", "-F", "2222", "192.0.2.1:80"]

[traffic]
tcp_echo = "127.0.0.1:2222"
"""


def write(tmp_path: Path, text: str, name: str = "x.lab.toml") -> Path:
    (tmp_path / "x.sel").write_text("")
    path = tmp_path / name
    path.write_text(text)
    return path


def error(tmp_path: Path, text: str):
    with pytest.raises(DiagnosticError) as err:
        load_scenario(write(tmp_path, text))
    (diagnostic,) = err.value.diagnostics
    return diagnostic


def test_a_minimal_scenario_and_its_defaults(tmp_path):
    scenario = load_scenario(write(tmp_path, MINIMAL))
    assert scenario.daemon == "x" and scenario.spec == tmp_path / "x.sel"
    assert scenario.build.kind is BuildKind.PROJECT and scenario.build.project == "httptunnel"
    assert scenario.command.program == "hts" and scenario.command.args == ("{switch}", "80")
    assert scenario.peer.start == "traffic" and scenario.peer.side == "client"
    assert scenario.traffic.kind is TrafficKind.TCP_ECHO
    assert scenario.restart_signals == ("HUP",) and scenario.settle_seconds == 2
    assert scenario.kernel_modules == ("tun", "veth")


def test_the_scenario_is_found_beside_its_spec():
    assert scenario_path(Path("a/b/dns2tcpd.sel")) == Path("a/b/dns2tcpd.lab.toml")


@pytest.mark.parametrize("edit, code, line, words", [
    # not TOML: the parser's position
    (lambda t: t.replace('project = "httptunnel"', 'project = httptunnel'), "SEL771", 2,
     "not a TOML file"),
    # an unknown key, with a suggestion
    (lambda t: t.replace("[traffic]\n", "[traffic]\nfrmo = \"client\"\n"), "SEL772", 12,
     "unknown key 'frmo' in [traffic]"),
    (lambda t: t + "\n[attaks]\n", "SEL772", 14, "unknown key 'attaks'"),
    # wrong types
    (lambda t: t.replace('command = ["hts", "{switch}", "80"]', 'command = "hts"'), "SEL772",
     5, "'command' must be a array"),
    # a missing table, a missing key
    (lambda t: t.replace("[traffic]\ntcp_echo = \"127.0.0.1:2222\"\n", ""), "SEL772", 1,
     "the scenario needs 'traffic'"),
    (lambda t: t.replace('role = "htc"\n', ""), "SEL772", 7, "[peer] needs 'role'"),
    # values the lab cannot run
    (lambda t: t.replace('tcp_echo = "127.0.0.1:2222"', 'tcp_echo = "127.0.0.1"'), "SEL772",
     12, "expected HOST:PORT"),
    (lambda t: t.replace("[traffic]\n", "[traffic]\nping = \"10.0.0.1\"\n"), "SEL772", 12,
     "exactly one of"),
    (lambda t: t.replace('[peer]\n', '[peer]\nstart = "after"\n'), "SEL772", 8,
     "'start' is 'after'"),
    (lambda t: t.replace('[build]\nproject = "httptunnel"',
                         '[build]\nproject = "httptunnel"\ntree = "src"'), "SEL772", 3,
     "both 'project' and 'tree'"),
    # files it names
    (lambda t: t + '\n[[guest.files]]\npath = "/etc/x.conf"\nlocal = "nowhere.conf"\n',
     "SEL774", 16, "no file nowhere.conf beside x.lab.toml"),
    (lambda t: t.replace('[peer]\n', '[peer]\nspec = "peer.sel"\n'), "SEL774", 8,
     "no file peer.sel"),
    (lambda t: t.replace('project = "httptunnel"',
                         'binaries = { hts = "/nonexistent/hts" }'), "SEL774", 2,
     "prebuilt binary 'hts': no file /nonexistent/hts"),
])
def test_each_mistake_is_a_coded_diagnostic_at_its_line(tmp_path, edit, code, line, words):
    diagnostic = error(tmp_path, edit(MINIMAL))
    assert diagnostic.code == code
    assert words in diagnostic.message
    assert diagnostic.span is not None and diagnostic.span.line == line, diagnostic
    assert diagnostic.span.path.endswith("x.lab.toml")


def test_an_unknown_key_suggests_the_known_one(tmp_path):
    diagnostic = error(tmp_path, MINIMAL.replace("[traffic]\n", "[traffic]\nfrmo = \"x\"\n"))
    assert diagnostic.hint == "did you mean 'from'?"
    assert diagnostic.span.column == 1 and diagnostic.span.end_column == 5


def test_a_program_that_is_not_a_binary_of_the_build(tmp_path):
    text = MINIMAL.replace('project = "httptunnel"',
                           'tree = "."\nsteps = [["make"]]\nbinaries = { hts = "hts" }')
    text = text.replace('command = ["htc"', 'command = ["hts2"')
    diagnostic = error(tmp_path, text)
    assert diagnostic.message == "'hts2' is not a binary of the build"
    assert diagnostic.hint == "did you mean 'hts'?"


def test_no_scenario_beside_a_spec(tmp_path):
    with pytest.raises(DiagnosticError) as err:
        load_scenario(tmp_path / "none.lab.toml")
    (diagnostic,) = err.value.diagnostics
    assert diagnostic.code == "SEL773"
    assert "none.lab.toml beside the spec" in diagnostic.hint


def test_the_shipped_scenarios_load():
    names = sorted(load_scenario(p).daemon for p in (ROOT / "policies").glob("*.lab.toml"))
    assert names == ["hts", "iodine", "iodined", "openvpn", "ptunnel"]


def test_a_command_traffic_step_and_a_server_side_peer(tmp_path):
    from selkit.lab.scenario_script import guest_script

    text = MINIMAL.replace('tcp_echo = "127.0.0.1:2222"',
                           'command = ["sh", "-c", "echo it works"]\nfrom = "server"')
    text = text.replace('[peer]\n', '[peer]\nside = "server"\nstart = "before"\n'
                        'ready_line = "listening"\n')
    scenario = load_scenario(write(tmp_path, text))
    script = guest_script(scenario)
    assert "lab_command local sh -c 'echo it works'" in script
    # A server-side peer started before the daemon, waited for by its log line.
    prepare = script.split("scenario_prepare() {")[1].split("}")[0]
    assert "/lab/peer/htc -F 2222 192.0.2.1:80 < /dev/null 3>&- > /tmp/peer.log 2>&1" in prepare
    assert "in_client" not in prepare
    assert "lab_wait_for /tmp/peer.log listening 20" in prepare
    assert "scenario_reconnect" not in script


def test_the_spec_given_wins_over_the_one_the_scenario_names(tmp_path):
    (tmp_path / "other.sel").write_text("")
    path = write(tmp_path, 'spec = "other.sel"\n' + MINIMAL)
    assert load_scenario(path).spec == (tmp_path / "other.sel").resolve()
    given = tmp_path / "elsewhere" / "x.sel"
    assert load_scenario(path, given).spec == given


def test_a_peer_ready_when_it_listens_and_a_longer_echo(tmp_path):
    from selkit.lab.scenario_script import guest_script

    text = MINIMAL.replace('[peer]\n', '[peer]\nready_port = 2222\ntimeout = 30\n')
    text = text.replace('tcp_echo = "127.0.0.1:2222"', 'tcp_echo = "127.0.0.1:2222"\nwait = 8')
    script = guest_script(load_scenario(write(tmp_path, text)))
    assert "lab_wait_listen 2222 30 in_client" in script
    assert "lab_tcp_echo 127.0.0.1 2222 in_client 8" in script
