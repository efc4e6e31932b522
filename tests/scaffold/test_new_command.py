"""``selkit new`` on real Debian programs of this machine, against the Debian store: the
scaffold checks, is canonical, compiles and links into a store copy (toolchain tier).

The programs: arpd (iproute2, the ARP daemon; scripts/lab-deps.sh installs iproute2 in make
setup) with its package's /etc/iproute2; su and agetty (util-linux, which Debian always
has), whose names are modules of the store: 'su' is replaced with a warning, 'getty' cannot
be (xserver needs its types)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, needs_tools

ARPD = "/usr/sbin/arpd"

needs_arpd = pytest.mark.skipif(not os.path.exists(ARPD),
                                reason="iproute2 is not installed (scripts/lab-deps.sh)")


def _new(cli, tmp_path, *args):
    result = cli("new", *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return result


@needs_arpd
@needs_tools("checkmodule", "semodule_package", "semodule", "secilc")
def test_arpd_scaffold_checks_formats_compiles_and_links(cli, tmp_path):
    result = _new(cli, tmp_path, "--exec", ARPD)
    lines = result.stdout.splitlines()
    assert lines[0] == "wrote arpd.sel: daemon arpd, module arpd, exec /usr/sbin/arpd"
    assert re.fullmatch(r"  package iproute2: 1 file declaration, \d+ files left out", lines[1])
    assert lines[-1] == "  next: decide each TODO, then selkit check arpd.sel"
    assert result.stderr == ""
    spec = tmp_path / "arpd.sel"
    text = spec.read_text()
    assert text.startswith("# arpd: a starting spec, written by `selkit new --exec "
                           "/usr/sbin/arpd`.\n")
    assert '    file conf "/etc/iproute2(/.*)?"  # iproute2: ' in text
    assert '    # file state "/var/lib/arpd(/.*)?"  # "/var/lib/arpd/arpd.db"' in text
    assert "        # seen in the binary: __syslog_chk, openlog -> syslog io" in text

    check = cli("check", spec)
    assert (check.returncode, check.stdout) == (0, f"{spec}: arpd: ok (startup=24, steady=0 "
                                                   "allow rules)\n"), check.stderr
    assert cli("fmt", "--check", spec).returncode == 0
    built = cli("compile", spec, "-o", tmp_path / "out", "--install")
    assert built.returncode == 0, built.stderr
    assert "pp: yes, cil: yes" in built.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "arpd.cil", "arpd.fc", "arpd.if", "arpd.pp", "arpd.te"]


@needs_arpd
def test_selkit_patch_points_at_the_switchs_todo(cli, tmp_path):
    _new(cli, tmp_path, "--exec", ARPD)
    result = cli("patch", tmp_path / "arpd.sel", "--source", tmp_path, "-o", tmp_path / "p")
    assert result.returncode == 2
    assert "error[SEL707]" in result.stderr
    assert "switch startup -> steady {  # TODO: the items for selkit patch, below" in \
        result.stderr
    assert not (tmp_path / "p").exists()


@needs_arpd
def test_the_scaffold_is_the_same_every_time_and_force_replaces_it(cli, tmp_path):
    _new(cli, tmp_path, "--exec", ARPD)
    first = (tmp_path / "arpd.sel").read_bytes()
    (tmp_path / "arpd.sel").write_text("mine\n")
    _new(cli, tmp_path, "--exec", ARPD, "--force")
    assert (tmp_path / "arpd.sel").read_bytes() == first
    printed = cli("new", "--exec", ARPD, "-o", "-", cwd=tmp_path)
    assert printed.returncode == 0 and printed.stdout.encode() == first


@needs_arpd
def test_beside_the_shipped_library_the_scaffold_uses_it(cli, tmp_path):
    (tmp_path / "include").mkdir()
    shutil.copy(ROOT / "policies/include/common.sel", tmp_path / "include")
    _new(cli, tmp_path, "--exec", ARPD, "-o", "relay.sel")
    text = (tmp_path / "relay.sel").read_text()
    assert 'use "include/common.sel"  # daemon_start, drop_privileges' in text
    assert "\nfragment " not in text
    assert cli("check", tmp_path / "relay.sel").returncode == 0


@needs_tools("checkmodule", "semodule_package", "semodule", "secilc")
def test_a_store_module_of_the_programs_name_is_replaced_with_a_warning(cli, tmp_path):
    result = _new(cli, tmp_path, "--exec", "/usr/bin/su")
    assert result.stdout.splitlines()[0] == (
        "wrote su.sel: daemon su, module su (replaces the base store's module of that name: "
        "see the WARNING), exec /usr/bin/su")
    text = (tmp_path / "su.sel").read_text()
    assert "    module su\n" in text
    assert "    # WARNING: the base store has a module 'su'" in text
    built = cli("compile", tmp_path / "su.sel", "-o", tmp_path / "out", "--install")
    assert built.returncode == 0, built.stderr
    assert "pp: yes, cil: yes" in built.stdout


def test_a_store_module_others_need_gets_local_and_a_link_is_followed(cli, tmp_path):
    _new(cli, tmp_path, "--exec", "/usr/sbin/getty")
    text = (tmp_path / "getty.sel").read_text()
    assert "    module getty_local\n" in text
    assert '    exec "/usr/sbin/agetty"\n' in text
    assert "# Given as /usr/sbin/getty, which resolves to this file" in text
    check = cli("check", tmp_path / "getty.sel")
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize("args,code", [
    (["--exec", ARPD, "--name", "git"], "SEL806"),
    (["--exec", "/usr/bin/su", "--name", "sudo_like"], "SEL807"),
    (["--exec", ARPD, "--name", "getty"], "SEL810"),
    (["--exec", "/usr/sbin/ldconfig"], "SEL811"),
])
def test_names_the_store_refuses(cli, tmp_path, args, code):
    if ARPD in args and not os.path.exists(ARPD):
        pytest.skip("iproute2 is not installed (scripts/lab-deps.sh)")
    result = cli("new", *args, "-o", tmp_path / "x.sel")
    assert result.returncode == 2
    assert result.stderr.startswith(f"error[{code}]: ") and "= help: " in result.stderr
    assert list(Path(tmp_path).iterdir()) == []
