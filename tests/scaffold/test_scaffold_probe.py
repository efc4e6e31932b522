"""selkit.scaffold.probe: reading dpkg's and nm's output, and a program's bytes (files made
here; dpkg is asked only about paths no package owns)."""

from __future__ import annotations

import os
import stat
import sys

from selkit.scaffold import probe
from selkit.scaffold.package import Kind


def test_dpkg_search_lines_give_the_packages_and_skip_diversions():
    out = ("diversion by dash from: /bin/sh\n"
           "diversion by dash to: /bin/sh.distrib\n"
           "libc6:amd64, libc6-dev:amd64: /usr/lib/x\n"
           "iproute2: /sbin/arpd\n")
    assert probe.parse_search(out) == ["libc6:amd64", "libc6-dev:amd64", "iproute2"]


def test_merged_usr_aliases_are_asked_too():
    assert probe.aliases("/usr/sbin/getty", "/usr/sbin/agetty") == [
        "/usr/sbin/getty", "/sbin/getty", "/usr/sbin/agetty", "/sbin/agetty"]
    assert probe.aliases("/sbin/arpd", "/usr/sbin/arpd") == [
        "/sbin/arpd", "/usr/sbin/arpd"]


def test_nm_lines_give_the_names_without_versions():
    out = ("                 w __gmon_start__\n"
           "                 U bind@GLIBC_2.2.5\n"
           "                 U mnl_attr_get_str@LIBMNL_1.0\n"
           "                 U cap_clear\n")
    assert probe.parse_nm(out) == {"__gmon_start__", "bind", "mnl_attr_get_str", "cap_clear"}


def _executable(path, data: bytes):
    path.write_bytes(data)
    path.chmod(0o755)
    return str(path)


def test_a_script_is_read_for_its_interpreter_and_paths(tmp_path):
    found = probe.binary(_executable(tmp_path / "d", b"#!/bin/sh -e\nexec /usr/sbin/x "
                                     b"--pid /run/d.pid --tun /dev/net/tun\n"))
    assert (found.form, found.interpreter, found.symbols) == ("script", "/bin/sh -e",
                                                               frozenset())
    assert found.strings == {"/run/d.pid", "/dev/net/tun"}


def test_a_file_neither_elf_nor_script_is_other(tmp_path):
    assert probe.binary(_executable(tmp_path / "d", b"\x00\x01data")).form == "other"


def test_an_elf_program_gets_its_imports():
    found = probe.binary(sys.executable)
    if found.note:  # nm is not installed here
        assert found.form == "elf" and found.symbols == frozenset()
        return
    assert found.form == "elf" and "malloc" in found.symbols


def test_kinds_on_disk(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "f").write_text("x")
    os.symlink("f", tmp_path / "l")
    got = probe.kinds([str(tmp_path / n) for n in ("d", "f", "l", "none")])
    assert list(got.values()) == [Kind.DIR, Kind.FILE, Kind.SYMLINK, Kind.MISSING]


def test_tmpfiles_of_the_package_are_read(tmp_path):
    conf = tmp_path / "usr/lib/tmpfiles.d/vpnd.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("d /run/vpnd 0755 root root -\n")
    assert probe.tmpfiles([str(conf), str(tmp_path / "usr/lib/tmpfiles.d/gone.conf"),
                           "/etc/vpnd.conf"]) == {"/run/vpnd": Kind.DIR}


def test_a_path_no_package_owns_says_so(tmp_path):
    path = _executable(tmp_path / "prog", b"#!/bin/sh\n")
    owner = probe.owner(path, path)
    assert owner.package is None
    assert "dpkg-query" in owner.reason
    assert stat.S_ISREG(os.stat(path).st_mode)
