"""The lab's initramfs writer: deterministic newc archives that a real cpio reads back."""

from __future__ import annotations

import gzip
import stat
import subprocess
import sys

import pytest

from selkit.lab.image import ROOT_LINKS, GuestImage, resolve_links
from selkit.lab.initramfs import Initramfs, library_closure, parse_ldd
from selkit.toolchain import ToolchainError


def _sample(order: str = "forward") -> Initramfs:
    image = Initramfs()
    steps = [
        lambda: image.add_file("/etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
        lambda: image.add_file("/bin/tool", b"\x7fELF...", 0o755),
        lambda: image.add_symlink("/lib", "usr/lib"),
        lambda: image.add_dir("/var/empty", 0o711),
        lambda: image.add_file("/a/b/c/deep.txt", b"x" * 5),
    ]
    for step in (steps if order == "forward" else reversed(steps)):
        step()
    return image


def test_same_input_gives_identical_bytes_whatever_the_order():
    first, second = _sample("forward").gzip(), _sample("reverse").gzip()
    assert first == second
    assert _sample().cpio() == _sample("reverse").cpio()


def test_gzip_header_has_no_mtime_and_no_name():
    data = _sample().gzip()
    assert data[:3] == b"\x1f\x8b\x08"
    assert data[3] == 0  # FLG: no FNAME
    assert data[4:8] == b"\0\0\0\0"  # MTIME
    assert gzip.decompress(data) == _sample().cpio()


def test_newc_headers_are_padded_and_end_with_the_trailer():
    raw = _sample().cpio()
    assert raw.startswith(b"070701")
    assert len(raw) % 4 == 0
    assert b"TRAILER!!!\0" in raw[-124:]
    # every header field of the first member: ino 1, uid/gid/mtime 0
    fields = [int(raw[6 + 8 * i: 14 + 8 * i], 16) for i in range(13)]
    assert fields[0] == 1 and fields[2] == fields[3] == fields[5] == 0


def test_parents_come_first_and_are_created(busybox):
    image = _sample()
    names = image.names()
    assert names.index("a") < names.index("a/b") < names.index("a/b/c/deep.txt")
    assert stat.S_ISDIR(image.entries["a/b/c"].mode)


def test_busybox_cpio_lists_what_was_added(busybox, tmp_path):
    archive = tmp_path / "initrd.cpio"
    archive.write_bytes(_sample().cpio())
    listing = subprocess.run([str(busybox), "cpio", "-t", "-F", str(archive)],
                             capture_output=True, text=True, check=True).stdout.split()
    assert sorted(listing) == sorted(["a", "a/b", "a/b/c", "a/b/c/deep.txt", "bin", "bin/tool",
                                      "etc", "etc/passwd", "lib", "var", "var/empty"])


def test_busybox_cpio_extracts_contents_modes_and_links(busybox, tmp_path):
    archive = tmp_path / "initrd.cpio"
    archive.write_bytes(_sample().cpio())
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run([str(busybox), "cpio", "-i", "-d", "-F", str(archive)], cwd=out,
                   capture_output=True, check=True)
    assert (out / "etc/passwd").read_bytes() == b"root:x:0:0::/root:/bin/sh\n"
    assert stat.S_IMODE((out / "bin/tool").stat().st_mode) == 0o755
    assert (out / "lib").is_symlink() and (out / "lib").readlink().as_posix() == "usr/lib"
    assert stat.S_IMODE((out / "var/empty").stat().st_mode) == 0o711


def test_a_path_cannot_be_a_file_and_a_directory():
    image = Initramfs()
    image.add_file("/x", b"")
    with pytest.raises(ValueError):
        image.add_file("/x/y", b"")
    with pytest.raises(ValueError):
        image.add_file("/../etc", b"")


def test_parse_ldd_reads_arrows_and_the_loader():
    text = ("\tlinux-vdso.so.1 (0x00007ffd)\n"
            "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f00)\n"
            "\t/lib64/ld-linux-x86-64.so.2 (0x00007f01)\n")
    assert parse_ldd(text) == ["/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"]


def test_parse_ldd_refuses_a_missing_library():
    with pytest.raises(ToolchainError) as err:
        parse_ldd("\tlibgone.so.1 => not found\n")
    assert "libgone.so.1" in err.value.diagnostics[0].message


def test_library_closure_of_the_python_interpreter_includes_libc():
    libs = library_closure(sys.executable)
    assert any(lib.endswith("/libc.so.6") for lib in libs)
    assert any("ld-linux" in lib for lib in libs)


def test_put_binary_copies_the_closure_with_its_symlinks():
    image = GuestImage()
    image.put_binary("/bin/py", sys.executable)
    assert "/bin/py" in image.files
    for lib in library_closure(sys.executable):
        real, links = resolve_links(lib)
        assert real in image.files, lib
        for link in links:
            assert link in image.links or link in dict(ROOT_LINKS), link
