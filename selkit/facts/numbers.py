"""System call numbers of the three x86 ABIs a 64-bit x86 kernel runs: x86_64, i386, x32.

The data is ``data/syscall_numbers.json``, generated from Debian's linux-libc-dev headers by
``scripts/syscall-numbers/build.py`` (``data/README.md``). x32 numbers carry
``X32_SYSCALL_BIT``; ``audit_arch`` is the ``seccomp_data.arch`` the kernel reports for a call
of that ABI (x32 calls arrive as ``AUDIT_ARCH_X86_64`` with the bit set in ``nr``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

X32_SYSCALL_BIT = 0x40000000
AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_I386 = 0x40000003
#: The ABIs in the order of the data.
ABIS = ("x86_64", "i386", "x32")


@dataclass(frozen=True)
class SyscallNumbers:
    """One ABI's table: ``by_name`` (name -> number) and ``by_number`` (number -> name)."""

    abi: str
    audit_arch: int
    by_name: Mapping[str, int]
    by_number: Mapping[int, str]

    def number(self, name: str) -> int:
        """The number of ``name``; KeyError names the ABI if it has no such call."""
        try:
            return self.by_name[name]
        except KeyError:
            raise KeyError(f"no system call {name!r} in the {self.abi} ABI") from None

    def name(self, number: int) -> str | None:
        """The name of ``number``, or None outside the table."""
        return self.by_number.get(number)


@lru_cache(maxsize=1)
def load_numbers() -> Mapping[str, SyscallNumbers]:
    """ABI name -> its table, read once from the packaged JSON."""
    text = resources.files("selkit.facts").joinpath("data/syscall_numbers.json").read_text("utf-8")
    data = json.loads(text)
    out = {}
    for abi in ABIS:
        entry = data["abis"][abi]
        by_name = dict(entry["numbers"])
        out[abi] = SyscallNumbers(abi, int(entry["audit_arch"], 16), MappingProxyType(by_name),
                                  MappingProxyType({n: name for name, n in by_name.items()}))
    return MappingProxyType(out)


def numbers(abi: str = "x86_64") -> SyscallNumbers:
    """The table of one ABI (``x86_64``, ``i386`` or ``x32``)."""
    return load_numbers()[abi]


def abi_of(arch: int, nr: int) -> str | None:
    """The ABI of a call as seccomp sees it (``seccomp_data.arch`` and ``nr``), or None for an
    architecture a 64-bit x86 kernel does not run."""
    if arch == AUDIT_ARCH_I386:
        return "i386"
    if arch == AUDIT_ARCH_X86_64:
        return "x32" if nr & X32_SYSCALL_BIT else "x86_64"
    return None


def call_name(arch: int, nr: int) -> str:
    """A call as the lab names it: its x86_64 name, ``i386:NAME`` or ``x32:NAME``, or
    ``number N (arch 0xA)`` when no table has it. The inverse of :func:`call_of`."""
    abi = abi_of(arch, nr)
    name = numbers(abi).name(nr) if abi else None
    if name is None:
        return f"number {nr} (arch 0x{arch:08x})"
    return name if abi == "x86_64" else f"{abi}:{name}"


def call_of(name: str) -> tuple[int, int]:
    """(``seccomp_data.arch``, ``nr``) of an x86_64 name, ``i386:NAME`` or ``x32:NAME`` (the x32
    number carries X32_SYSCALL_BIT); KeyError for a name the ABI lacks."""
    abi, _, call = name.rpartition(":")
    table = numbers(abi or "x86_64")
    return table.audit_arch, table.number(call)


def source() -> Mapping[str, str]:
    """Where the numbers come from: the package, its version, the header folder."""
    text = resources.files("selkit.facts").joinpath("data/syscall_numbers.json").read_text("utf-8")
    return MappingProxyType(json.loads(text)["source"])
