"""The command line: exact output in a pipe, exit codes, JSON, atomic writes.

Most tests run ``selkit`` in this process through the ``cli`` fixture (click's CliRunner);
a few as a real process (``cli.process``) for what only a real process shows: plain text in
a pipe, exit codes of a usage error, a stand-in tool found on PATH. test_pipes.py closes
the pipes."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from click.testing import CliRunner
from selkit_cli import GOOD

from conftest import POLICIES, ROOT, needs_tools
from selkit import __version__
from selkit.cli import main


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"selkit, version {__version__}\n"


def test_check_prints_one_line_per_daemon(cli):
    result = cli("check", "policies/openvpn.sel", "policies/iodined.sel")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "policies/openvpn.sel: openvpn: ok (startup=45, steady=5 allow rules)\n"
        "policies/iodined.sel: iodined (module iodine): ok (startup=35, steady=5 allow rules)\n")
    assert result.stderr == ""


def test_bad_input_exits_2_with_a_diagnostic_and_no_traceback(tmp_path, cli):
    bad = tmp_path / "bad.sel"
    bad.write_text(GOOD.replace("udp io", "udp oi"))
    result = cli.process("check", str(bad))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "error[SEL207]" in result.stderr and f"{bad}:7:13" in result.stderr
    assert "Traceback" not in result.stderr
    assert "\x1b[" not in result.stderr  # plain text in a pipe


def test_json_diagnostics(tmp_path, cli):
    bad = tmp_path / "bad.sel"
    bad.write_text(GOOD.replace("5353", "70000"))
    result = cli("check", "--json", str(bad))
    assert result.returncode == 2
    data = json.loads(result.stdout)
    (diag,) = data["diagnostics"]
    assert diag["code"] == "SEL205"
    assert diag["span"] == {"path": str(bad), "line": 4, "column": 23, "end_line": 4,
                            "end_column": 28}


def test_usage_errors_exit_2(cli):
    result = cli.process("compile", "--target", "te,xml", "policies/openvpn.sel")
    assert result.returncode == 2
    assert "unknown target 'xml'" in result.stderr
    assert cli.process("frobnicate").returncode == 2


@needs_tools("checkmodule", "semodule_package")
def test_compile_writes_every_output_and_a_summary(tmp_path, cli):
    spec = tmp_path / "d.sel"
    spec.write_text(GOOD)
    out = tmp_path / "out"
    result = cli("compile", str(spec), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["d.cil", "d.fc", "d.if", "d.pp", "d.te"]
    assert result.stdout.splitlines()[0].split() == ["daemon", "domains", "allow", "rules",
                                                     "per", "phase", "outputs", "installed"]
    assert "d_startup_t d_steady_t" in result.stdout and "not tried" in result.stdout
    assert result.stderr == ""


@needs_tools("checkmodule", "semodule_package")
def test_compile_json(tmp_path, cli):
    spec = tmp_path / "d.sel"
    spec.write_text(GOOD)
    result = cli("compile", "--json", "--target", "cil", str(spec), "-o", str(tmp_path))
    data = json.loads(result.stdout)
    assert data["modules"][0]["rules_per_phase"] == {"startup": 13, "steady": 2}
    assert data["written"] == [str(tmp_path / "d.cil")]


def test_bad_input_writes_nothing(tmp_path, cli):
    spec = tmp_path / "d.sel"
    spec.write_text(GOOD)
    broken = tmp_path / "e.sel"
    broken.write_text(GOOD.replace("daemon d", "daemon e").replace("udp io", "tcp io"))
    out = tmp_path / "out"
    result = cli("compile", str(spec), str(broken), "-o", str(out))
    assert result.returncode == 2
    assert not out.exists() or list(out.iterdir()) == []


def test_toolchain_failure_exits_1_and_writes_nothing(tmp_path, cli):
    """A checkmodule that refuses (a stand-in on PATH) must leave no partial output."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "checkmodule").write_text("#!/bin/sh\necho 'ERROR: simulated refusal on line 3' >&2\n"
                                      "exit 1\n")
    (fake / "checkmodule").chmod(0o755)
    spec = tmp_path / "d.sel"
    spec.write_text(GOOD)
    out = tmp_path / "out"
    result = cli.process("compile", str(spec), "-o", str(out),
                 env_extra={"PATH": f"{fake}:{os.environ['PATH']}"})
    assert result.returncode == 1, result.stderr
    assert "error[SEL501]" in result.stderr
    assert not out.exists() or list(out.iterdir()) == []


@needs_tools("checkmodule", "semodule_package")
def test_a_refusal_of_one_module_among_several_names_that_module(tmp_path, cli):
    """The refused module is named (SEL501 said "refused the module" without saying which),
    and nothing is written for any module."""
    fake = tmp_path / "bin"
    fake.mkdir()
    real = subprocess.run(["sh", "-c", "command -v checkmodule"], capture_output=True,
                          text=True, check=True).stdout.strip()
    (fake / "checkmodule").write_text(
        '#!/bin/sh\ncase "$*" in *openvpn.te*) echo "ERROR: simulated refusal on line 3" >&2; '
        f'exit 1;; esac\nexec {real} "$@"\n')
    (fake / "checkmodule").chmod(0o755)
    out = tmp_path / "out"
    specs = [str(p) for p in POLICIES]
    result = cli.process("compile", *specs, "-o", str(out),
                 env_extra={"PATH": f"{fake}:{os.environ['PATH']}"})
    assert result.returncode == 1, result.stderr
    assert "error[SEL501]" in result.stderr
    assert result.stderr.count("error[SEL501]") == 1
    assert "module 'openvpn'" in result.stderr
    assert not out.exists() or list(out.iterdir()) == []


def test_fmt_check_and_rewrite(tmp_path, cli):
    messy = tmp_path / "m.sel"
    messy.write_text(GOOD.replace("    phase steady {\n        udp io\n    }",
                                  "  phase steady {udp io}"))
    assert cli("fmt", "--check", str(messy)).returncode == 1
    result = cli("fmt", str(messy))
    assert result.returncode == 0 and result.stdout == f"reformatted {messy}\n"
    assert messy.read_text() == GOOD
    assert cli("fmt", "--check", str(messy)).returncode == 0


def test_shipped_policies_are_canonical(cli):
    files = [str(p.relative_to(ROOT)) for p in POLICIES]
    files += [str(p.relative_to(ROOT)) for p in (ROOT / "policies" / "include").glob("*.sel")]
    result = cli("fmt", "--check", *files)
    assert result.returncode == 0, result.stdout


def test_doc_verbs_lists_every_form(cli):
    from selkit.ir import vocab

    result = cli("doc", "verbs")
    assert result.returncode == 0
    for form in vocab.FORMS:
        assert f"`{form.text()}`" in result.stdout


def test_check_dump_ir(tmp_path, cli):
    spec = tmp_path / "d.sel"
    spec.write_text(GOOD)
    result = cli("check", "--dump", "ir", str(spec))
    assert result.returncode == 0
    assert "TypeBounds parent='d_startup_t' child='d_steady_t'" in result.stdout


@needs_tools("semodule", "checkmodule")
def test_compile_install_reports_yes_for_both_forms(tmp_path, cli):
    spec = tmp_path / "d.sel"
    spec.write_text(GOOD)
    result = cli("compile", "--json", str(spec), "-o", str(tmp_path / "o"), "--install")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["modules"][0]["installed"] == {"pp": True, "cil": True}
    copies = data["store_copies"]
    assert [(c["form"], c["store"], c["kept"]) for c in copies] == [
        ("pp", "/var/lib/selinux/default", False), ("cil", "/var/lib/selinux/default", False)]
    for copy in copies:  # named, and gone: the copy was made there and removed
        assert Path(copy["path"]).name.startswith("selkit-install-")
        assert not Path(copy["path"]).exists()
    text = cli("compile", str(spec), "-o", str(tmp_path / "o"), "--install").stdout
    assert "--install: every .pp linked into a copy of the store /var/lib/selinux/default " \
           "made in " in text
    assert text.count("(removed when the install was verified;") == 2


def test_base_policy_elsewhere_needs_its_store(tmp_path, cli):
    """--base next to its store works; a lone copy of the binary lacks set_curr_context."""
    import shutil

    spec = tmp_path / "d.sel"
    spec.write_text(GOOD)
    assert cli("check", "--base", "/etc/selinux/default/policy/policy.33", str(spec)
               ).returncode == 0
    lone = tmp_path / "policy.33"
    shutil.copy("/etc/selinux/default/policy/policy.33", lone)
    result = cli("check", "--base", str(lone), str(spec))
    assert result.returncode == 2 and "error[SEL401]" in result.stderr
    assert "--base-store" in result.stderr
    ok = cli("check", "--base", str(lone), "--base-store", "/var/lib/selinux/default", str(spec))
    assert ok.returncode == 0, ok.stderr
    bad = cli("check", "--base", "/etc/passwd", str(spec))
    assert bad.returncode == 2 and "error[SEL906]" in bad.stderr


@needs_tools("checkmodule", "semodule_package", "semodule")
def test_compile_and_prove_count_the_same_allow_rules(tmp_path, cli):
    """The shipped policies: compile's "allow rules per phase" is the number prove names
    beside each phase's declared grants, and check says the same."""
    files = [str(p.relative_to(ROOT)) for p in POLICIES]
    compiled = cli("compile", "--json", "--target", "cil", "-o", str(tmp_path), *files)
    assert compiled.returncode == 0, compiled.stderr
    counts = {m["source"]: m["rules_per_phase"] for m in json.loads(compiled.stdout)["modules"]}
    checked = cli("check", "--json", *files)
    assert {m["source"]: m["rules_per_phase"]
            for m in json.loads(checked.stdout)["modules"]} == counts
    proved = cli("prove", "--json", *files)
    assert proved.returncode == 0, proved.stderr
    said: dict[str, dict[str, int]] = {}
    for report in json.loads(proved.stdout)["reports"]:
        for obligation in report["obligations"]:
            if obligation["id"] in ("steady-exact", "startup-exact"):
                for phase, rules in re.findall(
                        r"(\w+): \d+ declared grants \(from the module's (\d+) allow rules?\)",
                        obligation["summary"]):
                    said.setdefault(report["source"], {})[phase] = int(rules)
    assert said == counts
    assert all(len(phases) >= 2 for phases in said.values())


@needs_tools("semodule")
def test_prove_exit_codes_and_json(tmp_path, cli):
    """0 when every obligation holds, 1 when one is refuted (here a forbid broken by the
    domain baseline, which compiling cannot see), 2 on bad input."""
    spec = tmp_path / "d.sel"
    spec.write_text(GOOD)
    ok = cli("prove", "--json", str(spec))
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
    assert "syslog" in steady["denied_families"]  # JSON keeps the name, text prints syslog(2)
    assert "execve" in steady["blocked_families"]  # file execute on libraries, no exec

    broken = tmp_path / "e.sel"
    broken.write_text(GOOD.replace("daemon d", "daemon e").replace(
        "    switch", "    forbid steady { null_device_t:chr_file write }\n    switch"))
    assert cli("check", str(broken)).returncode == 0
    text = cli("prove", str(spec)).stdout
    assert "syslog(2) (the kernel log buffer; syslog(3) logging goes through a socket)" in text
    refuted = cli("prove", str(broken))
    assert refuted.returncode == 1
    assert "every forbid holds over the effective policy" in refuted.stdout
    assert "null_device_t:chr_file write <- base rule allow domain null_device_t:chr_file" \
        in refuted.stdout

    bad = tmp_path / "bad.sel"
    bad.write_text("daemon {")
    assert cli("prove", str(bad)).returncode == 2


@needs_tools("semodule")
def test_prove_against_a_given_linked_policy(tmp_path, kb, cli):
    """--policy proves what is really installed; a policy without the module is bad input."""
    from selkit.analysis.views import link_candidates
    from selkit.compiler import front_end
    from selkit.emit import CilEmitter

    spec = tmp_path / "d.sel"
    spec.write_text(GOOD)
    _, (module,) = front_end(str(spec), kb)
    linked = tmp_path / "policy.33"
    link_candidates({"d": CilEmitter().emit(module).text()}, [module], save_to=str(linked))
    ok = cli("prove", "--engine", "linked", "--policy", str(linked), str(spec))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "linked engine: HOLDS" in ok.stdout
    missing = cli("prove", "--engine", "linked", "--policy",
                  "/etc/selinux/default/policy/policy.33", str(spec))
    assert missing.returncode == 2 and "error[SEL601]" in missing.stderr


# ---------------------------------------------------------------------------------------------
# Output paths: SEL909, exit 2, nothing written


def _immutable_dir(path):
    """A directory nobody may write into: mode 555 for a user, chattr +i for root (who ignores
    the mode); None when neither works here."""
    import shutil

    import pytest

    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
    elif shutil.which("chattr") is None or subprocess.run(
            ["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        return None
    try:
        (path / "probe").write_text("x")
    except OSError:
        return path
    pytest.skip("cannot make an unwritable directory here")


def _release(path):
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)
    else:
        path.chmod(0o755)


def test_sechecker_ini_into_a_missing_directory_is_bad_input(tmp_path, cli):
    spec = tmp_path / "d.sel"
    spec.write_text(GOOD)
    ini = tmp_path / "missing" / "x.ini"
    result = cli("prove", "--sechecker-ini", str(ini), str(spec))
    assert result.returncode == 2, result.stderr
    assert result.stderr == (f"error[SEL909]: cannot write '{ini}': no such directory "
                             f"'{ini.parent}'\n  = help: create the directory first, or name a "
                             "file in an existing one\n1 error\n")
    assert result.stdout == "" and not ini.parent.exists()
    onto_dir = cli("prove", "--sechecker-ini", str(tmp_path), str(spec))
    assert onto_dir.returncode == 2 and "error[SEL909]" in onto_dir.stderr
    assert "it is a directory" in onto_dir.stderr


@needs_tools("semodule")
def test_sechecker_ini_is_written_whole(tmp_path, cli):
    spec = tmp_path / "d.sel"
    spec.write_text(GOOD)
    ini = tmp_path / "x.ini"
    result = cli("prove", "--sechecker-ini", str(ini), str(spec))
    assert result.returncode == 0, result.stderr
    assert "d_steady_t" in ini.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.sel", "x.ini"]  # no temp file


def test_compile_output_onto_a_file_is_bad_input(tmp_path, cli):
    spec = tmp_path / "d.sel"
    spec.write_text(GOOD)
    blocker = tmp_path / "out"
    blocker.write_text("a file\n")
    for target in (blocker, blocker / "sub"):
        result = cli("compile", "--target", "cil", "-o", str(target), str(spec))
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith(f"error[SEL909]: cannot write '{target}': ")
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert blocker.read_text() == "a file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.sel", "out"]


def test_compile_writes_every_module_or_none(tmp_path, cli):
    """Two specs, the second module's output blocked: nothing of the first is left either."""
    out = tmp_path / "out"
    (out / "ptunnel.te").mkdir(parents=True)
    result = cli("compile", "--target", "te", "-o", str(out), ROOT / "policies" / "hts.sel",
                    ROOT / "policies" / "ptunnel.sel")
    assert result.returncode == 2, result.stderr
    assert "error[SEL909]" in result.stderr and "it is a directory" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["ptunnel.te"]


def test_unwritable_output_directories(tmp_path, cli):
    spec = tmp_path / "d.sel"
    spec.write_text(GOOD)
    locked = _immutable_dir(tmp_path / "locked")
    if locked is None:
        import pytest

        pytest.skip("chattr +i does not work here")
    try:
        checks = [("compile", "--target", "cil", "-o", str(locked), str(spec)),
                  ("compile", "--target", "cil", "-o", str(locked / "new"), str(spec)),
                  ("prove", "--sechecker-ini", str(locked / "x.ini"), str(spec))]
        for args in checks:
            result = cli(*args)
            assert result.returncode == 2, (args, result.stderr)
            assert "error[SEL909]" in result.stderr and "permission denied" in result.stderr
        assert list(locked.iterdir()) == []
    finally:
        _release(locked)


def test_fmt_into_an_unwritable_directory_is_bad_input(tmp_path, cli):
    folder = tmp_path / "specs"
    folder.mkdir()
    messy = folder / "m.sel"
    messy.write_text(GOOD.replace("    phase steady {\n        udp io\n    }",
                                  "  phase steady {udp io}"))
    before = messy.read_text()
    if os.geteuid() != 0:
        folder.chmod(0o555)
    elif subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        import pytest

        pytest.skip("chattr +i does not work here")
    try:
        result = cli("fmt", str(messy))
    finally:
        _release(folder)
    assert result.returncode == 2, result.stderr
    assert "error[SEL909]" in result.stderr and "Traceback" not in result.stderr
    assert messy.read_text() == before and [p.name for p in folder.iterdir()] == ["m.sel"]


# ---------------------------------------------------------------------------------------------
# What semodule would only show at link time


def test_module_named_like_a_disabled_store_module_is_refused_before_install(tmp_path, cli):
    spec = tmp_path / "d.sel"
    spec.write_text(GOOD.replace('    exec "/usr/sbin/d"',
                                 '    module oddjob\n    exec "/usr/sbin/d"'))
    out = tmp_path / "out"
    for args in (("compile", "--install", "-o", str(out), str(spec)),
                 ("prove", "--engine", "linked", str(spec))):
        result = cli(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "error[SEL219]: module 'oddjob' is disabled in the base store" in result.stderr
        assert "installed" not in result.stdout and "Traceback" not in result.stderr
    assert not out.exists()


def test_a_borrowed_store_module_name_warns_and_the_shipped_specs_opt_in(tmp_path, cli):
    """'module openvpn' for another program replaces Debian's openvpn module when installed:
    a warning (exit 0), gone with 'replaces'; the shipped specs that replace say so."""
    spec = tmp_path / "d.sel"
    spec.write_text(GOOD.replace('    exec "/usr/sbin/d"',
                                 '    module openvpn\n    exec "/usr/sbin/d"'))
    result = cli("check", str(spec))
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(
        "warning[SEL223]: module 'openvpn' is also a module of the base store: installing this "
        "one replaces the distribution's 'openvpn' (its types, rules and file contexts) while it "
        "is installed\n")
    assert "name it 'module d' (a name the store lacks)" in result.stderr
    spec.write_text(spec.read_text().replace("module openvpn", "module openvpn replaces"))
    assert cli("check", str(spec)).stderr == ""
    shipped = cli("check", *(str(p) for p in POLICIES))
    assert shipped.returncode == 0 and shipped.stderr == "", shipped.stderr


def test_colliding_type_names_across_files(tmp_path, cli):
    """a_b's phase c and a's file b_c, in two files compiled together: SEL220 at both."""
    first = tmp_path / "a_b.sel"
    first.write_text(GOOD.replace("daemon d", "daemon a_b")
                     .replace('"/usr/sbin/d"', '"/usr/sbin/a_b"')
                     .replace("    phase steady", "    phase c {\n    }\n    phase steady")
                     .replace("    switch startup -> steady",
                              '    switch startup -> c {\n        option "-c {context}"\n    }\n'
                              "    switch startup -> steady"))
    second = tmp_path / "a.sel"
    second.write_text(GOOD.replace("daemon d", "daemon a").replace(
        '    exec "/usr/sbin/d"', '    exec "/usr/sbin/a"\n    file b_c "/var/lib/a(/.*)?"'))
    assert cli("check", str(first)).returncode == 0
    assert cli("check", str(second)).returncode == 0
    result = cli("compile", "--target", "te,cil", "-o", str(tmp_path / "out"), str(first),
                 str(second))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(
        "error[SEL220]: type 'a_b_c_t' is declared by two daemons: 'a_b' (the domain of its "
        f"phase 'c') and 'a' (the type of its file 'b_c')\n  --> {first}:6:11\n")
    assert f"'a' declares 'a_b_c_t' here at {second}:3:5" in result.stderr
    assert not (tmp_path / "out").exists()


@needs_tools("semodule", "secilc")
def test_install_checks_the_module_is_enabled_and_its_types_linked(kb):
    """Past the front end (a KB that does not know the store's disabled list), semodule -i
    exits 0 for module 'oddjob' and leaves it disabled: the install says SEL512, not yes."""
    import dataclasses

    import pytest

    from selkit.compiler import compile_modules, front_end, install_into_store_copy
    from selkit.diagnostics import ToolchainError
    from selkit.emit import Target

    blind = dataclasses.replace(kb, disabled_modules=frozenset())
    _, modules = front_end(str(ROOT / "dsl/errors/module-disabled-in-store.sel"), blind)
    compiled = compile_modules(modules, blind, (Target.CIL,))
    with pytest.raises(ToolchainError) as info:
        install_into_store_copy(compiled, "cil")
    (diag,) = info.value.diagnostics
    assert diag.code == "SEL512"
    assert diag.message.startswith("module 'oddjob' was installed disabled")
