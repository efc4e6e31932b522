"""The command line: exact output in a pipe, exit codes, JSON, atomic writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from click.testing import CliRunner

from conftest import POLICIES, ROOT, needs_tools
from selkit import __version__
from selkit.cli import main

GOOD = '''daemon d {
    exec "/usr/sbin/d"
    phase startup {
        udp bind port 5353
    }
    phase steady {
        udp io
    }
    switch startup -> steady {
        option "-z {context}"
    }
}
'''


def run(*args, cwd=ROOT, env_extra=None):
    """``python -m selkit`` in a subprocess, stdout and stderr as pipes."""
    env = {k: v for k, v in os.environ.items() if k != "SELKIT_FORCE_TERMINAL"}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "selkit", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"selkit, version {__version__}\n"


def test_check_prints_one_line_per_daemon():
    result = run("check", "policies/openvpn.sel", "policies/iodined.sel")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "policies/openvpn.sel: openvpn: ok (startup=45, steady=5 rules)\n"
        "policies/iodined.sel: iodined (module iodine): ok (startup=35, steady=5 rules)\n")
    assert result.stderr == ""


def test_bad_input_exits_2_with_a_diagnostic_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.sel"
    bad.write_text(GOOD.replace("udp io", "udp oi"))
    result = run("check", str(bad))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "error[SEL207]" in result.stderr and f"{bad}:7:13" in result.stderr
    assert "Traceback" not in result.stderr
    assert "\x1b[" not in result.stderr  # plain text in a pipe


def test_json_diagnostics(tmp_path):
    bad = tmp_path / "bad.sel"
    bad.write_text(GOOD.replace("5353", "70000"))
    result = run("check", "--json", str(bad))
    assert result.returncode == 2
    data = json.loads(result.stdout)
    (diag,) = data["diagnostics"]
    assert diag["code"] == "SEL205"
    assert diag["span"] == {"path": str(bad), "line": 4, "column": 23, "end_line": 4,
                            "end_column": 28}


def test_usage_errors_exit_2():
    result = run("compile", "--target", "te,xml", "policies/openvpn.sel")
    assert result.returncode == 2
    assert "unknown target 'xml'" in result.stderr
    assert run("frobnicate").returncode == 2


@needs_tools("checkmodule", "semodule_package")
def test_compile_writes_every_output_and_a_summary(tmp_path):
    spec = tmp_path / "d.sel"
    spec.write_text(GOOD)
    out = tmp_path / "out"
    result = run("compile", str(spec), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["d.cil", "d.fc", "d.if", "d.pp", "d.te"]
    assert result.stdout.splitlines()[0].split() == ["daemon", "domains", "rules", "per",
                                                     "phase", "outputs", "installed"]
    assert "d_startup_t d_steady_t" in result.stdout and "not tried" in result.stdout
    assert result.stderr == ""


@needs_tools("checkmodule", "semodule_package")
def test_compile_json(tmp_path):
    spec = tmp_path / "d.sel"
    spec.write_text(GOOD)
    result = run("compile", "--json", "--target", "cil", str(spec), "-o", str(tmp_path))
    data = json.loads(result.stdout)
    assert data["modules"][0]["rules_per_phase"] == {"startup": 13, "steady": 2}
    assert data["written"] == [str(tmp_path / "d.cil")]


def test_bad_input_writes_nothing(tmp_path):
    spec = tmp_path / "d.sel"
    spec.write_text(GOOD)
    broken = tmp_path / "e.sel"
    broken.write_text(GOOD.replace("daemon d", "daemon e").replace("udp io", "tcp io"))
    out = tmp_path / "out"
    result = run("compile", str(spec), str(broken), "-o", str(out))
    assert result.returncode == 2
    assert not out.exists() or list(out.iterdir()) == []


def test_toolchain_failure_exits_1_and_writes_nothing(tmp_path):
    """A checkmodule that refuses (a stand-in on PATH) must leave no partial output."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "checkmodule").write_text("#!/bin/sh\necho 'ERROR: simulated refusal on line 3' >&2\n"
                                      "exit 1\n")
    (fake / "checkmodule").chmod(0o755)
    spec = tmp_path / "d.sel"
    spec.write_text(GOOD)
    out = tmp_path / "out"
    result = run("compile", str(spec), "-o", str(out),
                 env_extra={"PATH": f"{fake}:{os.environ['PATH']}"})
    assert result.returncode == 1, result.stderr
    assert "error[SEL501]" in result.stderr
    assert not out.exists() or list(out.iterdir()) == []


def test_fmt_check_and_rewrite(tmp_path):
    messy = tmp_path / "m.sel"
    messy.write_text(GOOD.replace("    phase steady {\n        udp io\n    }",
                                  "  phase steady {udp io}"))
    assert run("fmt", "--check", str(messy)).returncode == 1
    result = run("fmt", str(messy))
    assert result.returncode == 0 and result.stdout == f"reformatted {messy}\n"
    assert messy.read_text() == GOOD
    assert run("fmt", "--check", str(messy)).returncode == 0


def test_shipped_policies_are_canonical():
    files = [str(p.relative_to(ROOT)) for p in POLICIES]
    files += [str(p.relative_to(ROOT)) for p in (ROOT / "policies" / "include").glob("*.sel")]
    result = run("fmt", "--check", *files)
    assert result.returncode == 0, result.stdout


def test_doc_verbs_lists_every_form():
    from selkit.ir import vocab

    result = run("doc", "verbs")
    assert result.returncode == 0
    for form in vocab.FORMS:
        assert f"`{form.text()}`" in result.stdout


def test_check_dump_ir(tmp_path):
    spec = tmp_path / "d.sel"
    spec.write_text(GOOD)
    result = run("check", "--dump", "ir", str(spec))
    assert result.returncode == 0
    assert "TypeBounds parent='d_startup_t' child='d_steady_t'" in result.stdout


@needs_tools("semodule", "checkmodule")
def test_compile_install_reports_yes_for_both_forms(tmp_path):
    spec = tmp_path / "d.sel"
    spec.write_text(GOOD)
    result = run("compile", "--json", str(spec), "-o", str(tmp_path / "o"), "--install")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["modules"][0]["installed"] == {"pp": True, "cil": True}


def test_base_policy_elsewhere_needs_its_store(tmp_path):
    """--base next to its store works; a lone copy of the binary lacks set_curr_context."""
    import shutil

    spec = tmp_path / "d.sel"
    spec.write_text(GOOD)
    assert run("check", "--base", "/etc/selinux/default/policy/policy.33", str(spec)
               ).returncode == 0
    lone = tmp_path / "policy.33"
    shutil.copy("/etc/selinux/default/policy/policy.33", lone)
    result = run("check", "--base", str(lone), str(spec))
    assert result.returncode == 2 and "error[SEL401]" in result.stderr
    assert "--base-store" in result.stderr
    ok = run("check", "--base", str(lone), "--base-store", "/var/lib/selinux/default", str(spec))
    assert ok.returncode == 0, ok.stderr
    bad = run("check", "--base", "/etc/passwd", str(spec))
    assert bad.returncode == 2 and "error[SEL906]" in bad.stderr


@needs_tools("semodule")
def test_prove_exit_codes_and_json(tmp_path):
    """0 when every obligation holds, 1 when one is refuted (here a forbid broken by the
    domain baseline, which compiling cannot see), 2 on bad input."""
    spec = tmp_path / "d.sel"
    spec.write_text(GOOD)
    ok = run("prove", "--json", str(spec))
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    (report,) = data["reports"]
    assert report["verdict"] == "holds" and report["engine"] == "compositional"
    assert {o["id"] for o in report["obligations"]} >= {
        "steady-exact", "transitions", "bounds", "no-dangerous", "forbids", "startup-exact"}
    steady = report["steady"]
    assert {(g["target"], g["class"], g["perm"]) for g in steady["declared"]} == {
        ("d_startup_t", "udp_socket", "read"), ("d_startup_t", "udp_socket", "write"),
        ("d_startup_t", "udp_socket", "getattr"), ("d_startup_t", "fd", "use")}
    assert "ptrace" in steady["denied_families"]
    assert "execve" in steady["blocked_families"]  # file execute on libraries, no exec

    broken = tmp_path / "e.sel"
    broken.write_text(GOOD.replace("daemon d", "daemon e").replace(
        "    switch", "    forbid steady { null_device_t:chr_file write }\n    switch"))
    assert run("check", str(broken)).returncode == 0
    refuted = run("prove", str(broken))
    assert refuted.returncode == 1
    assert "every forbid holds over the effective policy" in refuted.stdout
    assert "null_device_t:chr_file write <- base rule allow domain null_device_t:chr_file" \
        in refuted.stdout

    bad = tmp_path / "bad.sel"
    bad.write_text("daemon {")
    assert run("prove", str(bad)).returncode == 2


@needs_tools("semodule")
def test_prove_against_a_given_linked_policy(tmp_path, kb):
    """--policy proves what is really installed; a policy without the module is bad input."""
    from selkit.compiler import front_end
    from selkit.emit import CilEmitter
    from selkit.prove.engine import link_candidates

    spec = tmp_path / "d.sel"
    spec.write_text(GOOD)
    _, (module,) = front_end(str(spec), kb)
    linked = tmp_path / "policy.33"
    link_candidates({"d": CilEmitter().emit(module).text()}, [module], save_to=str(linked))
    ok = run("prove", "--engine", "linked", "--policy", str(linked), str(spec))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "linked engine: HOLDS" in ok.stdout
    missing = run("prove", "--engine", "linked", "--policy",
                  "/etc/selinux/default/policy/policy.33", str(spec))
    assert missing.returncode == 2 and "error[SEL601]" in missing.stderr
