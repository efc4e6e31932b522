"""The command line in-process (click's CliRunner) on the tiny base: the commands that need no
module store, with exact output, exit codes and JSON. The subprocess tests of pipes, signals
and the default Debian base are in test_cli.py and test_pipes.py."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from selkit import __version__
from selkit.cli import main

GOOD = '''daemon d {
    exec "/usr/sbin/d"
    phase startup {
        udp bind port 53
    }
    phase steady {
        udp io
    }
    switch startup -> steady {
        option "-z {context}"
    }
}
'''


@pytest.fixture
def selkit(tiny_policy, tmp_path, monkeypatch):
    """Run ``selkit ARGS --base TINY`` in this process from ``tmp_path``; the cache is its own."""
    monkeypatch.setenv("SELKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("SELKIT_FORCE_TERMINAL", raising=False)
    monkeypatch.chdir(tmp_path)

    def run(command: str, *args: str, base: bool = True):
        extra = ["--base", str(tiny_policy)] if base else []
        return CliRunner().invoke(main, [command, *extra, *args])
    return run


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "d.sel"
    path.write_text(GOOD)
    return path


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"selkit, version {__version__}\n"


def test_check_prints_one_line_per_daemon(selkit, spec):
    result = selkit("check", "d.sel")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "d.sel: d: ok (startup=14, steady=2 allow rules)\n"
    assert result.stderr == ""


def test_bad_input_exits_2_with_a_diagnostic(selkit, spec):
    spec.write_text(GOOD.replace("udp io", "udp oi"))
    result = selkit("check", "d.sel")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "error[SEL207]" in result.stderr and "d.sel:7:13" in result.stderr
    assert "Traceback" not in result.stderr and "\x1b[" not in result.stderr


def test_json_diagnostics(selkit, spec):
    spec.write_text(GOOD.replace(" 53\n", " 70000\n"))
    result = selkit("check", "--json", "d.sel")
    assert result.exit_code == 2
    (diag,) = json.loads(result.stdout)["diagnostics"]
    assert diag["code"] == "SEL205"
    assert diag["span"] == {"path": "d.sel", "line": 4, "column": 23, "end_line": 4,
                            "end_column": 28}


def test_compile_cil_and_te_needs_no_tool(selkit, spec, tmp_path):
    result = selkit("compile", "--json", "--target", "cil,te", "d.sel", "-o", "out")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["modules"][0]["rules_per_phase"] == {"startup": 14, "steady": 2}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "d.cil", "d.fc", "d.if", "d.te"]
    assert "(typebounds d_startup_t d_steady_t)" in (tmp_path / "out/d.cil").read_text()


def test_compile_writes_nothing_when_one_input_is_bad(selkit, spec, tmp_path):
    (tmp_path / "e.sel").write_text(GOOD.replace("daemon d", "daemon e").replace("udp io",
                                                                                  "tcp io"))
    result = selkit("compile", "--target", "cil", "d.sel", "e.sel", "-o", "out")
    assert result.exit_code == 2
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_usage_errors_exit_2(selkit, spec):
    result = selkit("compile", "--target", "te,xml", "d.sel")
    assert result.exit_code == 2 and "unknown target 'xml'" in result.stderr
    assert CliRunner().invoke(main, ["frobnicate"]).exit_code == 2


def test_check_dump_ir(selkit, spec):
    result = selkit("check", "--dump", "ir", "d.sel")
    assert result.exit_code == 0, result.stderr
    assert "TypeBounds parent='d_startup_t' child='d_steady_t'" in result.stdout


def test_prove_needs_the_store_of_its_base(selkit, spec):
    result = selkit("prove", "d.sel")
    assert result.exit_code == 2
    assert result.stderr.startswith("error[SEL908]: the base policy ")
    assert "has no module store" in result.stderr


@pytest.mark.parametrize("engine", [(), ("--engine", "compositional")])
def test_prove_policy_without_the_linked_engine_is_bad_input(selkit, spec, engine):
    """--policy is read by the linked engine only: the compositional engine (the default)
    would prove without it, so asking for both is refused before anything runs."""
    result = selkit("prove", *engine, "--policy", "/sys/fs/selinux/policy", "d.sel")
    assert result.exit_code == 2
    assert result.stderr.startswith("error[SEL604]: --policy names a linked policy")
    assert "--engine linked" in result.stderr
    data = json.loads(selkit("prove", *engine, "--policy", "p", "--json", "d.sel").stdout)
    assert [d["code"] for d in data["diagnostics"]] == ["SEL604"]


def test_fmt_check_and_rewrite(selkit, spec):
    spec.write_text(GOOD.replace("    phase steady {\n        udp io\n    }",
                                 "  phase steady {udp io}"))
    assert selkit("fmt", "--check", "d.sel", base=False).exit_code == 1
    result = selkit("fmt", "d.sel", base=False)
    assert result.exit_code == 0 and result.stdout == "reformatted d.sel\n"
    assert spec.read_text() == GOOD
    assert selkit("fmt", "--check", "d.sel", base=False).exit_code == 0


@pytest.mark.parametrize("old,new,line", [
    # canonical already: after a phase's '}', after the daemon's '}'
    ("    }\n    phase steady {", "    }  # end of startup\n    phase steady {",
     "    }  # end of startup"),
    ("    }\n}\n", "    }\n}  # end of d\n", "}  # end of d"),
    # not canonical: a one-line phase, a switch whose '}' shares the option's line
    ("    phase steady {\n        udp io\n    }", "    phase steady { udp io }  # steady",
     "    }  # steady"),
    ('        option "-z {context}"\n    }', '        option "-z {context}" }  # switch',
     "    }  # switch"),
])
def test_fmt_keeps_a_comment_after_its_closing_brace(selkit, spec, old, new, line):
    source = GOOD.replace(old, new, 1)
    spec.write_text(source)
    canonical = line in source.splitlines()
    assert selkit("fmt", "--check", "d.sel", base=False).exit_code == (0 if canonical else 1)
    assert selkit("fmt", "d.sel", base=False).exit_code == 0
    assert line in spec.read_text().splitlines(), spec.read_text()
    assert selkit("fmt", "--check", "d.sel", base=False).exit_code == 0


def test_fmt_check_with_stdout_still_reports_and_fails(selkit, spec):
    messy = GOOD.replace("    phase steady {\n        udp io\n    }", "  phase steady {udp io}")
    spec.write_text(messy)
    result = selkit("fmt", "--check", "--stdout", "d.sel", base=False)
    assert result.exit_code == 1
    assert result.stdout == GOOD
    assert result.stderr == "would reformat d.sel\n"
    assert spec.read_text() == messy
    spec.write_text(GOOD)
    result = selkit("fmt", "--check", "--stdout", "d.sel", base=False)
    assert (result.exit_code, result.stdout, result.stderr) == (0, GOOD, "")


def test_doc_verbs_lists_every_form(selkit):
    from selkit.ir import vocab

    result = selkit("doc", "verbs", base=False)
    assert result.exit_code == 0
    for form in vocab.FORMS:
        assert f"`{form.text()}`" in result.stdout
