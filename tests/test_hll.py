"""`semodule -i NAME.sel` through the sel HLL compiler (selkit/cli/hll.py), for real: the real
semodule against a copy of the Debian store whose semanage.conf points `compiler-directory` at
a directory holding the compiler, exactly how libsemanage finds /usr/libexec/selinux/hll/sel."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from selkit.compiler import bundles, checked_ir, front_end_files
from selkit.toolchain import StoreCopy

SPEC = ROOT / "policies" / "openvpn.sel"


@pytest.fixture
def store(tmp_path):
    """A store copy whose libsemanage runs the sel compiler of this checkout."""
    compilers = tmp_path / "hll"
    compilers.mkdir()
    script = compilers / "sel"
    script.write_text(f"#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -m selkit.cli.hll\n")
    script.chmod(0o755)
    with StoreCopy() as copy:
        conf = Path(copy.root, "etc/selinux/semanage.conf")
        conf.write_text(conf.read_text() + f"compiler-directory = {compilers}\n")
        yield copy


def semodule(store: StoreCopy, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["semodule", "-p", store.root, "-s", store.store, *args],
                          capture_output=True, text=True, timeout=600)


def listed(store: StoreCopy) -> list[str]:
    return sorted(line.split()[0] + " " + line.split()[1] + " " + line.split()[2]
                  for line in semodule(store, "--list-modules=full").stdout.splitlines()
                  if line.split() and line.split()[1] in ("openvpn", "broken"))


@pytest.fixture(scope="module")
def openvpn_bundle(kb):
    programs, modules = front_end_files([str(SPEC)], kb)
    return bundles(programs, modules, kb, str(SPEC.parent.parent / "out"))["openvpn.sel"], modules


def test_semodule_installs_a_bundle_through_the_sel_compiler(store, openvpn_bundle, tmp_path):
    text, modules = openvpn_bundle
    path = tmp_path / "openvpn.sel"
    path.write_bytes(text)
    ran = semodule(store, "-n", "-i", str(path))
    assert ran.returncode == 0, ran.stderr
    # Named after the file, kind "sel", at the default priority over Debian's own at 100.
    assert listed(store) == ["100 openvpn pp", "400 openvpn sel"]
    store.verify(["openvpn"], modules)   # the spec's types are in the linked kernel policy


def test_a_broken_spec_is_refused_with_its_diagnostic_and_the_store_is_unchanged(
        store, tmp_path, kb):
    before = listed(store)
    path = tmp_path / "broken.sel"
    path.write_text('daemon broken {\n    exec "/usr/sbin/broken"\n    phase startup { tcp bnd }'
                    '\n    phase steady { }\n}\n')
    ran = semodule(store, "-n", "-i", str(path))
    assert ran.returncode != 0
    assert "error[SEL207]: 'tcp' does not take these arguments" in ran.stderr
    assert "--> <stdin>:3:25" in ran.stderr and "^^^" in ran.stderr
    assert listed(store) == before


def test_a_spec_that_uses_other_files_is_refused_with_the_bundle_as_the_way(store, tmp_path,
                                                                            kb):
    path = tmp_path / "openvpn.sel"
    path.write_text(SPEC.read_text())
    ran = semodule(store, "-n", "-i", str(path))
    assert ran.returncode != 0
    assert "error[SEL916]" in ran.stderr and "selkit compile --bundle" in ran.stderr
    assert listed(store) == ["100 openvpn pp"]


def test_the_bundle_compiles_alone_to_the_same_rules(openvpn_bundle, kb):
    from selkit.cli.hll import compile_stdin
    from selkit.compiler import Artifact, compile_modules

    text, modules = openvpn_bundle
    assert text.decode().startswith("# selkit bundle of openvpn.sel (module openvpn)")
    assert "\nuse " not in text.decode()   # no line still reads a neighbouring file
    (original,) = compile_modules(modules, kb, (Artifact.CIL,))

    def rules(cil: str) -> list[str]:
        return sorted(r for r in (re.sub(r";.*", "", line).strip() for line in cil.splitlines())
                      if r)

    assert rules(compile_stdin(text.decode())) == rules(original.files["openvpn.cil"].decode())
    _, again = checked_ir("openvpn.sel", kb, text.decode())
    assert [m.name for m in again] == ["openvpn"]


def test_the_console_script_is_declared():
    assert 'selkit-hll-sel = "selkit.cli.hll:main"' in (ROOT / "pyproject.toml").read_text()


def test_compile_bundle_writes_one_module_file_per_spec(cli, tmp_path, kb):
    ran = cli("compile", ROOT / "policies" / "iodined.sel", "-o", tmp_path / "out",
              "--bundle", "--target", "cil")
    assert ran.returncode == 0, ran.stderr
    # Named after the module (semodule names the module after the file).
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["iodine.cil", "iodine.sel"]


def test_a_file_with_two_daemons_is_no_bundle_and_nothing_is_written(cli, tmp_path, kb):
    two = tmp_path / "two.sel"
    two.write_text((ROOT / "dsl" / "examples" / "minimal.sel").read_text() + "\n" +
                   (ROOT / "dsl" / "examples" / "minimal.sel").read_text()
                   .replace("daemon ", "daemon other", 1).replace('"/usr/', '"/usr/other-'))
    out = tmp_path / "out"
    ran = cli("compile", two, "-o", out, "--bundle", "--target", "cil")
    assert ran.returncode == 2 and "error[SEL917]" in ran.stderr, ran.stderr
    assert not out.exists() or not any(out.iterdir())
