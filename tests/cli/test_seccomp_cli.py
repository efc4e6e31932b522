"""``syscalls`` through the command line on the tiny base: the seccomp target's files, the
listing of ``check --dump syscalls``, warnings that keep exit 0, errors that write nothing."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from selkit.cli import main
from test_tiny_cli import GOOD


@pytest.fixture
def selkit(tiny_policy, tmp_path, monkeypatch):
    monkeypatch.setenv("SELKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("SELKIT_FORCE_TERMINAL", raising=False)
    monkeypatch.chdir(tmp_path)
    return lambda *args: CliRunner().invoke(main, [args[0], "--base", str(tiny_policy),
                                                   *args[1:]])


def _spec(tmp_path, steady: str = "") -> None:
    (tmp_path / "d.sel").write_text(GOOD.replace("        udp io\n", "        udp io\n" + steady))


def test_compile_seccomp_writes_json_and_header_byte_identical_twice(selkit, tmp_path):
    _spec(tmp_path, "        syscalls default errno 1\n")
    for out in ("a", "b"):
        result = selkit("compile", "--target", "seccomp", "d.sel", "-o", out)
        assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["d.seccomp.json",
                                                                  "d_seccomp.h"]
    for name in ("d.seccomp.json", "d_seccomp.h"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    data = json.loads((tmp_path / "a/d.seccomp.json").read_text())
    steady = data["phases"][1]
    assert steady["default"] == "errno 1"
    assert steady["default_from"] == {"at": "d.sel:8", "statement": "syscalls default errno 1"}
    recv = next(e for e in steady["allowed"] if e["name"] == "recvfrom")
    assert recv["why"] == [{"source": "verb", "at": "d.sel:7", "statement": "udp io",
                            "detail": recv["why"][0]["detail"]}]
    header = (tmp_path / "a/d_seccomp.h").read_text()
    assert "selkit_startup_filter[]" in header and "selkit_steady_filter_fprog" in header


def test_bad_syscalls_exit_2_and_write_nothing(selkit, tmp_path):
    _spec(tmp_path, "        syscalls allow sendfile64\n")
    result = selkit("compile", "--target", "seccomp,cil", "d.sel", "-o", "out")
    assert result.exit_code == 2
    assert "error[SEL240]" in result.stderr and "d.sel:8:24" in result.stderr
    assert "did you mean 'sendfile'?" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_a_warning_is_shown_and_keeps_exit_0(selkit, tmp_path):
    _spec(tmp_path, "        syscalls deny vmsplice\n")
    result = selkit("check", "d.sel")
    assert result.exit_code == 0
    assert "warning[SEL331]" in result.stderr and "d.sel:8:23" in result.stderr
    assert result.stdout.startswith("d.sel: d: ok")
    quiet = selkit("check", "--json", "d.sel")  # JSON on stdout stays one document
    assert quiet.exit_code == 0 and json.loads(quiet.stdout)["ok"] is True


def test_check_dump_syscalls_lists_every_call_with_its_reason(selkit, tmp_path):
    _spec(tmp_path, "        syscalls deny epoll_wait\n")
    result = selkit("check", "--dump", "syscalls", "d.sel")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("d phase startup (d_startup_t): ")
    assert "  + recvfrom         45  d.sel:7 udp io [the form's list]" in lines
    assert any(line.startswith("  + brk ") and "@memory" in line for line in lines)
    assert any(line.startswith("  - epoll_wait") and "d.sel:8 syscalls deny" in line
               for line in lines)
