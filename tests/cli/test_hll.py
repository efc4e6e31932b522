"""``semodule -i NAME.sel`` through the sel HLL compiler (selkit/cli/hll.py), for real: Debian's
semodule (libsemanage 3.4) against a copy of the Debian store in a temporary root, whose
semanage.conf points ``compiler-directory`` at a folder holding this checkout's compiler as
``sel``: how libsemanage finds /usr/libexec/selinux/hll/sel, without touching that folder.
The quick tests of the compiler's standard streams are in test_hll_stdin.py."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from selkit_cli import ROOT, pipe_env, run

from selkit.base import load_policy
from selkit.toolchain import StoreCopy

SPEC = ROOT / "policies" / "openvpn.sel"
#: The types the openvpn spec declares (its phases, exec file and files).
OPENVPN_TYPES = {"openvpn_startup_t", "openvpn_steady_t", "openvpn_startup_exec_t",
                 "openvpn_conf_t", "openvpn_jail_t"}
SYSTEM_COMPILERS = Path("/usr/libexec/selinux/hll")


@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> Path:
    """``selkit compile --bundle policies/openvpn.sel``: the folder holding openvpn.sel."""
    out = tmp_path_factory.mktemp("bundle")
    ran = run("compile", "--bundle", "--target", "cil", SPEC, "-o", out)
    assert ran.returncode == 0, ran.stderr
    assert sorted(p.name for p in out.iterdir()) == ["openvpn.cil", "openvpn.sel"]
    return out


@pytest.fixture
def store(tmp_path):
    """A store copy whose libsemanage runs this checkout's sel compiler; ``store.ran`` is the
    file the compiler's wrapper touches each time libsemanage runs it."""
    compilers = tmp_path / "hll"
    compilers.mkdir()
    ran = tmp_path / "compiler-ran"
    script = compilers / "sel"
    script.write_text(f"#!/bin/sh\necho >> {ran}\nPYTHONPATH={ROOT} exec {sys.executable} "
                      "-m selkit.cli.hll\n")
    script.chmod(0o755)
    # The folder replaces the system's: Debian's pp compiler stays reachable for the store's
    # own modules should libsemanage need to recompile one.
    (compilers / "pp").symlink_to(SYSTEM_COMPILERS / "pp")
    with StoreCopy() as copy:
        conf = Path(copy.root, "etc/selinux/semanage.conf")
        conf.write_text(conf.read_text() + f"compiler-directory = {compilers}\n")
        copy.ran = ran  # type: ignore[attr-defined]
        yield copy


def semodule(store: StoreCopy, *args: str, cwd: Path | None = None, timeout: float = 600
             ) -> subprocess.CompletedProcess:
    return subprocess.run(["semodule", "-p", store.root, "-s", store.store, *args],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env=pipe_env({"LC_ALL": "C"}))


def listed(store: StoreCopy, *names: str) -> list[str]:
    """``PRIORITY NAME KIND`` of the named modules (``semodule --list-modules=full``)."""
    lines = semodule(store, "--list-modules=full").stdout.splitlines()
    return sorted(" ".join(line.split()[:3]) for line in lines
                  if line.split() and line.split()[1] in names)


def digest(store: StoreCopy) -> str:
    """Every file of the store's active modules and of its policy folder."""
    sha = hashlib.sha256()
    for top in (Path(store.root, "var/lib/selinux", store.store, "active"),
                Path(store.root, "etc/selinux", store.store)):
        for folder, dirs, files in sorted(os.walk(top)):
            dirs.sort()
            for name in sorted(files):
                path = Path(folder, name)
                sha.update(str(path.relative_to(store.root)).encode() + b"\0")
                if not path.is_symlink():
                    sha.update(path.read_bytes())
    return sha.hexdigest()


def test_semodule_installs_a_bundle_through_the_sel_compiler(store, bundled, tmp_path):
    assert not store.ran.exists()
    ran = semodule(store, "-n", "-i", str(bundled / "openvpn.sel"))
    assert ran.returncode == 0, ran.stderr
    assert store.ran.read_text() == "\n"     # our compiler, found through compiler-directory
    assert "openvpn" in semodule(store, "-l").stdout.split()
    # Named after the file, kind "sel", at the default priority over Debian's own at 100.
    assert listed(store, "openvpn") == ["100 openvpn pp", "400 openvpn sel"]
    policy = load_policy(store.policy_path)   # the linked kernel policy, read with SETools
    assert {str(t) for t in policy.types()} >= OPENVPN_TYPES
    store.verify(["openvpn"])
    # The store keeps the bundle as the module's source and the compiler's CIL as its CIL:
    # what `selkit compile --target cil` writes for the bundle, the file named <stdin>.
    semodule(store, "-E", "openvpn", cwd=tmp_path)
    semodule(store, "--cil", "-E", "openvpn", cwd=tmp_path)
    assert (tmp_path / "openvpn.sel").read_bytes() == (bundled / "openvpn.sel").read_bytes()
    assert (tmp_path / "openvpn.cil").read_text().replace("<stdin>", "openvpn.sel") == \
        _compiled_where_it_lies(bundled / "openvpn.sel", tmp_path / "again")


def _compiled_where_it_lies(spec: Path, out: Path) -> str:
    """``selkit compile --target cil NAME.sel`` run in the spec's folder (so the CIL names
    the spec by its file name, as provenance comments do)."""
    ran = subprocess.run([sys.executable, "-m", "selkit", "compile", "--target", "cil", "-o",
                          str(out), spec.name], cwd=spec.parent, env=pipe_env(),
                         capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stderr
    return (out / f"{spec.stem}.cil").read_text()


def test_a_broken_spec_is_refused_with_its_diagnostic_and_the_store_is_unchanged(
        store, tmp_path):
    before = digest(store)
    path = tmp_path / "broken.sel"
    path.write_text('daemon broken {\n    exec "/usr/sbin/broken"\n    phase startup { tcp bnd }'
                    '\n    phase steady { }\n}\n')
    ran = semodule(store, "-n", "-i", str(path))
    assert ran.returncode != 0
    # libsemanage prefixes each line of the compiler's standard error with the module name.
    assert ("broken: error[SEL207]: 'tcp' does not take these arguments\n"
            "broken:   --> <stdin>:3:25\n") in ran.stderr
    assert "broken: 3 |     phase startup { tcp bnd }\n" in ran.stderr
    assert "failed with code: 2" in ran.stderr and "Traceback" not in ran.stderr
    assert digest(store) == before
    assert listed(store, "broken") == []


def test_a_spec_that_uses_other_files_is_refused_with_the_bundle_as_the_way(store, tmp_path):
    before = digest(store)
    path = tmp_path / "openvpn.sel"
    shutil.copy(SPEC, path)
    (tmp_path / "include").mkdir()   # the library beside it is not read either
    shutil.copy(SPEC.parent / "include" / "common.sel", tmp_path / "include")
    ran = semodule(store, "-n", "-i", str(path), cwd=tmp_path)
    assert ran.returncode != 0
    assert "openvpn: error[SEL916]: 'use \"include/common.sel\"': a module read from standard " \
           "input cannot read the files next to it" in ran.stderr
    assert "selkit compile --bundle SPEC -o DIR" in ran.stderr
    assert digest(store) == before


def test_the_module_is_named_after_the_file_not_the_spec(store, bundled, tmp_path):
    # A renamed bundle installs under the file's name and replaces nothing: Debian's openvpn
    # stays beside it (the compiler is not told the file's name; docs/hll.md).
    shutil.copy(bundled / "openvpn.sel", tmp_path / "other.sel")
    ran = semodule(store, "-n", "-i", str(tmp_path / "other.sel"))
    assert ran.returncode == 0, ran.stderr
    assert listed(store, "openvpn", "other") == ["100 openvpn pp", "400 other sel"]
    # The same spec under its own name as well declares its types twice: libsepol refuses.
    ran = semodule(store, "-n", "-i", str(bundled / "openvpn.sel"))
    assert ran.returncode != 0
    assert "Re-declaration of type openvpn_startup_t" in ran.stderr


def test_a_spec_with_thousands_of_errors_does_not_hang_semodule(store, bundled, tmp_path):
    # libsemanage reads the compiler's standard error only after its standard output ends.
    text = (bundled / "openvpn.sel").read_text()
    path = tmp_path / "many.sel"
    path.write_text(text.replace("    phase startup {\n",
                                 "    phase startup {\n" + "        sylog\n" * 3000, 1))
    ran = semodule(store, "-n", "-i", str(path), timeout=120)
    assert ran.returncode != 0
    assert "many: error[SEL206]: unknown verb 'sylog'" in ran.stderr
    assert "many: ... and 2950 more (all of them with --json)\nmany: 3000 errors\n" in \
        ran.stderr


def test_compile_bundle_names_the_file_after_the_module(tmp_path):
    ran = run("compile", ROOT / "policies" / "iodined.sel", "-o", tmp_path / "out",
              "--bundle", "--target", "cil")
    assert ran.returncode == 0, ran.stderr
    # semodule names the module after the file: the spec says 'module iodine'.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["iodine.cil", "iodine.sel"]
    assert (tmp_path / "out" / "iodine.sel").read_text().startswith(
        "# selkit bundle of iodined.sel (module iodine)")
    checked = run("check", tmp_path / "out" / "iodine.sel")
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("path", sorted((ROOT / "policies").glob("*.sel")),
                         ids=lambda p: p.name)
def test_every_shipped_spec_bundles(path, tmp_path, cli):
    # compile --bundle compiles each bundle as the sel compiler will, and refuses one that
    # does not give the spec's rules (SEL917).
    ran = cli("compile", path, "-o", tmp_path, "--bundle", "--target", "cil")
    assert ran.returncode == 0, ran.stderr


def test_a_bundle_is_not_written_over_its_spec(tmp_path, cli):
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    spec = tmp_path / "policies" / "openvpn.sel"
    before = spec.read_bytes()
    ran = cli("compile", spec, "-o", spec.parent, "--bundle")
    assert ran.returncode == 2
    assert ran.stderr.startswith(f"error[SEL918]: the bundle {spec} would overwrite {spec}, "
                                 "which it is made from\n")
    assert spec.read_bytes() == before
    assert sorted(p.name for p in spec.parent.iterdir() if p.is_file()) == \
        sorted(p.name for p in (ROOT / "policies").iterdir() if p.is_file())


def test_a_file_with_two_daemons_is_no_bundle_and_nothing_is_written(cli, tmp_path):
    two = tmp_path / "two.sel"
    minimal = (ROOT / "dsl" / "examples" / "minimal.sel").read_text()
    two.write_text(minimal + "\n" + minimal.replace("daemon ", "daemon other", 1)
                   .replace('"/usr/', '"/usr/other-'))
    out = tmp_path / "out"
    ran = cli("compile", two, "-o", out, "--bundle", "--target", "cil")
    assert ran.returncode == 2 and "error[SEL917]" in ran.stderr, ran.stderr
    assert not out.exists() or not any(out.iterdir())
