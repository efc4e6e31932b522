"""`selkit lab` refuses bad input before anything is downloaded, built or booted: a coded
diagnostic at the scenario's line with a caret, exit 2, no traceback, nothing left in --keep."""

from __future__ import annotations

import shutil

from conftest import ROOT


def spec_with_scenario(tmp_path, scenario: str):
    shutil.copy(ROOT / "policies" / "hts.sel", tmp_path / "hts.sel")
    shutil.copytree(ROOT / "policies" / "include", tmp_path / "include")
    (tmp_path / "hts.lab.toml").write_text(scenario)
    return tmp_path / "hts.sel"


def test_a_misspelt_key_is_shown_at_its_line_with_a_caret(cli, tmp_path):
    text = (ROOT / "policies" / "hts.lab.toml").read_text().replace("tcp_echo =", "tcp_ecoh =")
    spec = spec_with_scenario(tmp_path, text)
    keep = tmp_path / "keep"
    ran = cli.process("lab", spec, "--keep", keep)
    assert ran.returncode == 2, ran.stderr
    assert "error[SEL772]: unknown key 'tcp_ecoh' in [traffic]" in ran.stderr
    line = text.splitlines().index('tcp_ecoh = "127.0.0.1:2222"') + 1
    assert f"hts.lab.toml:{line}:1" in ran.stderr
    assert "^^^^^^^^" in ran.stderr and "did you mean 'tcp_echo'?" in ran.stderr
    assert "Traceback" not in ran.stderr and ran.stdout == ""
    assert not keep.exists() or not any(keep.iterdir())


def test_no_scenario_beside_the_spec(cli, tmp_path):
    shutil.copy(ROOT / "policies" / "hts.sel", tmp_path / "hts.sel")
    ran = cli("lab", tmp_path / "hts.sel")
    assert ran.returncode == 2
    assert "error[SEL773]: no lab scenario" in ran.stderr and "hts.lab.toml" in ran.stderr


def test_an_unknown_daemon_suggests_one(cli):
    ran = cli("lab", "ptunel")
    assert ran.returncode == 2
    assert "error[SEL770]: no lab scenario for 'ptunel' in policies" in ran.stderr
    assert "did you mean 'ptunnel'?" in ran.stderr


def test_a_spec_that_does_not_exist(cli, tmp_path):
    ran = cli("lab", tmp_path / "nowhere.sel")
    assert ran.returncode == 2 and "error[SEL768]: no spec" in ran.stderr


def test_json_mode_reports_the_diagnostic_as_json(cli, tmp_path):
    import json

    text = (ROOT / "policies" / "hts.lab.toml").read_text().replace('project = "httptunnel"',
                                                                    'project = httptunnel')
    spec = spec_with_scenario(tmp_path, text)
    ran = cli("lab", spec, "--json")
    assert ran.returncode == 2
    (diagnostic,) = json.loads(ran.stdout)["diagnostics"]
    assert diagnostic["code"] == "SEL771" and diagnostic["span"]["path"].endswith("hts.lab.toml")
