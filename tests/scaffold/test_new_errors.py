"""``selkit new`` refusing bad input: a coded diagnostic with a hint, exit 2, no traceback, no
file written. Every case here is refused before the base policy is read (quick tier); the
refusals that need the base are in test_new_command.py."""

from __future__ import annotations

import os

import pytest


def _program(tmp_path, name="vpnd", mode=0o755):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(mode)
    return path


def _refused(result, code, tmp_path, *, before=None):
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error[{code}]: "), result.stderr
    assert "= help: " in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(before or [])


def test_a_missing_program(cli, tmp_path):
    result = cli("new", "--exec", tmp_path / "none", "-o", tmp_path / "x.sel")
    _refused(result, "SEL801", tmp_path)
    assert f"--exec {tmp_path / 'none'}: no such file" in result.stderr


def test_a_dangling_link(cli, tmp_path):
    os.symlink(tmp_path / "gone", tmp_path / "link")
    result = cli("new", "--exec", tmp_path / "link", "-o", tmp_path / "x.sel")
    _refused(result, "SEL801", tmp_path, before=["link"])
    assert "which does not exist" in result.stderr


@pytest.mark.parametrize("path,what", [("{tmp}", "a directory"), ("/dev/null",
                                                                    "not a regular file")])
def test_not_a_regular_file(cli, tmp_path, path, what):
    result = cli("new", "--exec", path.format(tmp=tmp_path), "-o", tmp_path / "x.sel")
    _refused(result, "SEL802", tmp_path)
    assert what in result.stderr


def test_not_executable(cli, tmp_path):
    _program(tmp_path, mode=0o644)
    result = cli("new", "--exec", tmp_path / "vpnd", "-o", tmp_path / "x.sel")
    _refused(result, "SEL803", tmp_path, before=["vpnd"])


def test_a_path_no_file_context_can_name(cli, tmp_path):
    _program(tmp_path, "my dir/vpnd")
    result = cli("new", "--exec", tmp_path / "my dir/vpnd", "-o", tmp_path / "x.sel")
    _refused(result, "SEL809", tmp_path, before=["my dir"])


def test_the_output_exists(cli, tmp_path):
    _program(tmp_path)
    (tmp_path / "vpnd.sel").write_text("mine\n")
    result = cli("new", "--exec", tmp_path / "vpnd", cwd=tmp_path)
    _refused(result, "SEL804", tmp_path, before=["vpnd", "vpnd.sel"])
    assert "pass --force" in result.stderr
    assert (tmp_path / "vpnd.sel").read_text() == "mine\n"


@pytest.mark.parametrize("output,problem", [("{tmp}", "it is a directory"),
                                            ("{tmp}/no/x.sel", "no such directory")])
def test_an_output_that_cannot_be_written(cli, tmp_path, output, problem):
    _program(tmp_path)
    result = cli("new", "--exec", tmp_path / "vpnd", "-o", output.format(tmp=tmp_path))
    _refused(result, "SEL909", tmp_path, before=["vpnd"])
    assert problem in result.stderr


def test_a_name_that_is_no_module_name(cli, tmp_path):
    _program(tmp_path)
    result = cli("new", "--exec", tmp_path / "vpnd", "--name", "My-VPN", "-o",
                 tmp_path / "x.sel")
    _refused(result, "SEL805", tmp_path, before=["vpnd"])


def test_a_package_that_is_not_installed(cli, tmp_path):
    _program(tmp_path)
    result = cli("new", "--exec", tmp_path / "vpnd", "--package", "no-such-package-here",
                 "-o", tmp_path / "x.sel")
    _refused(result, "SEL808", tmp_path, before=["vpnd"])


def test_refused_as_a_real_process_too(cli, tmp_path):
    result = cli.process("new", "--exec", tmp_path / "none")
    assert result.returncode == 2
    assert result.stderr == (f"error[SEL801]: --exec {tmp_path / 'none'}: no such file\n"
                             "  = help: give the path of the daemon's program, e.g. --exec "
                             "/usr/sbin/openvpn\n1 error\n")


def test_exec_is_required(cli):
    result = cli("new")
    assert result.returncode == 2
    assert "Missing option '--exec'" in result.stderr


@pytest.fixture
def fake_base(monkeypatch):
    """The hand-made base of tests/fakes.py in place of the Debian policy (quick tier)."""
    from fakes import small_kb

    monkeypatch.setattr("selkit.base.load_kb", lambda spec=None: small_kb())


def test_on_the_fake_base_the_spec_is_written_and_summarised(cli, tmp_path, fake_base):
    _program(tmp_path)
    result = cli("new", "--exec", tmp_path / "vpnd", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        f"wrote vpnd.sel: daemon vpnd, module vpnd, exec {tmp_path / 'vpnd'}")
    assert "  package: none (no installed package owns" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vpnd", "vpnd.sel"]
    header = " ".join((tmp_path / "vpnd.sel").read_text().split("\n#\n")[0].split("\n# "))
    assert header == f"# vpnd: a starting spec, written by `selkit new --exec {tmp_path}/vpnd`."


def test_a_scaffold_that_does_not_check_is_a_bug_and_writes_nothing(cli, tmp_path, fake_base,
                                                                     monkeypatch):
    from selkit.scaffold import render as render_module

    real = render_module.render
    monkeypatch.setattr(render_module, "render", lambda decided, command: real(
        decided, command).replace("phase steady {", "phase calm {"))
    _program(tmp_path)
    result = cli("new", "--exec", tmp_path / "vpnd", "-o", tmp_path / "vpnd.sel")
    assert result.returncode == 3
    assert result.stderr.startswith("internal error: RuntimeError: the scaffold does not pass "
                                    "selkit check (SEL306")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vpnd"]
