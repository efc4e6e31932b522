"""The x86 system call numbers (selkit/facts/data/syscall_numbers.json) and their reader."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from selkit.facts.numbers import (
    AUDIT_ARCH_I386,
    AUDIT_ARCH_X86_64,
    X32_SYSCALL_BIT,
    numbers,
    source,
)
from selkit.facts.syscalls import load_table

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "scripts" / "syscall-numbers" / "build.py"
HEADERS = Path("/usr/include/x86_64-linux-gnu/asm")


def test_well_known_numbers_of_each_abi():
    assert numbers("x86_64").number("read") == 0
    assert numbers("x86_64").number("openat") == 257
    assert numbers("x86_64").name(59) == "execve"
    assert numbers("i386").number("exit") == 1
    assert numbers("i386").number("getpid") == 20
    assert numbers("x32").number("getpid") == X32_SYSCALL_BIT + 39
    # x32's own entry points live at 512 and above.
    assert numbers("x32").number("rt_sigaction") == X32_SYSCALL_BIT + 512
    assert numbers("x86_64").name(100000) is None
    with pytest.raises(KeyError, match="i386"):
        numbers("i386").number("arch_prctl_not_a_call")


def test_the_tables_are_bijections_and_x32_carries_its_bit():
    for abi in ("x86_64", "i386", "x32"):
        table = numbers(abi)
        assert len(table.by_name) == len(table.by_number) > 300
        assert all(table.by_number[n] == name for name, n in table.by_name.items())
    assert all(n & X32_SYSCALL_BIT for n in numbers("x32").by_number)
    assert not any(n & X32_SYSCALL_BIT for n in numbers("x86_64").by_number)
    assert numbers("x86_64").audit_arch == numbers("x32").audit_arch == AUDIT_ARCH_X86_64
    assert numbers("i386").audit_arch == AUDIT_ARCH_I386


def test_the_permission_table_names_only_x86_64_calls():
    """syscalls.json uses syscall_64.tbl's names; every one has a number here."""
    table = load_table()
    named = {s for info in table.permissions.values() for s in info.syscalls}
    assert named and named <= set(numbers("x86_64").by_name)


def test_the_source_is_recorded():
    assert source()["package"] == "linux-libc-dev"
    assert source()["version"].startswith("6.1.")


def _installed_version() -> str | None:
    if shutil.which("dpkg-query") is None:
        return None
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "linux-libc-dev"],
                         capture_output=True, text=True)
    return out.stdout.strip() or None


@pytest.mark.skipif(not (HEADERS / "unistd_x32.h").exists() or _installed_version() is None,
                    reason="linux-libc-dev is not installed")
def test_the_generator_reproduces_the_numbers_byte_for_byte(tmp_path):
    """The generator rebuilds the shipped JSON from the installed headers. Another Debian 12
    release of linux-libc-dev (the same 6.1 numbers) differs only in the recorded version."""
    out = tmp_path / "syscall_numbers.json"
    subprocess.run([sys.executable, str(GENERATOR), str(out)], check=True, timeout=60)
    shipped = resources.files("selkit.facts").joinpath("data/syscall_numbers.json").read_text()
    built = out.read_text()
    recorded = json.loads(shipped)["source"]["version"]
    installed = _installed_version()
    if installed != recorded:
        built = built.replace(f'"version": "{installed}"', f'"version": "{recorded}"', 1)
    assert built == shipped
