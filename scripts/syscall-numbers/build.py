"""Build selkit/facts/data/syscall_numbers.json from the kernel's x86 uapi headers.

    python3 scripts/syscall-numbers/build.py [OUT]

Reads Debian's linux-libc-dev headers (asm/unistd_64.h, unistd_32.h, unistd_x32.h) and writes
the system call numbers of the three x86 ABIs with the headers' package version. Standard
library only; the output is sorted and deterministic.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ASM = Path("/usr/include/x86_64-linux-gnu/asm")
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "selkit" / "facts" / "data" / "syscall_numbers.json"

#: ABI -> (header, the AUDIT_ARCH_* value seccomp_data.arch holds for its calls).
ABIS = {
    "x86_64": ("unistd_64.h", 0xC000003E),
    "i386": ("unistd_32.h", 0x40000003),
    "x32": ("unistd_x32.h", 0xC000003E),
}
X32_SYSCALL_BIT = 0x40000000
DEFINE = re.compile(r"^#define __NR_(\w+)\s+(?:(\d+)|\(__X32_SYSCALL_BIT \+ (\d+)\))\s*$")


def parse_header(text: str, abi: str) -> dict[str, int]:
    """``name -> number`` of every ``#define __NR_name`` line; refuses any other define."""
    numbers: dict[str, int] = {}
    for line in text.splitlines():
        if not line.startswith("#define __NR_"):
            continue
        match = DEFINE.match(line)
        if match is None:
            raise SystemExit(f"{abi}: unexpected line {line!r}")
        name, plain, x32 = match.groups()
        if (x32 is not None) != (abi == "x32"):
            raise SystemExit(f"{abi}: unexpected form {line!r}")
        number = X32_SYSCALL_BIT + int(x32) if x32 is not None else int(plain)
        if name in numbers or number in numbers.values():
            raise SystemExit(f"{abi}: duplicate {line!r}")
        numbers[name] = number
    return numbers


def package_version() -> str:
    """The installed linux-libc-dev version (dpkg-query)."""
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "linux-libc-dev"],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def build(version: str) -> str:
    """The JSON text."""
    abis = {}
    for abi, (header, arch) in ABIS.items():
        numbers = parse_header((ASM / header).read_text(), abi)
        abis[abi] = {
            "header": f"asm/{header}",
            "audit_arch": f"0x{arch:08x}",
            "numbers": dict(sorted(numbers.items(), key=lambda item: item[1])),
        }
    data = {
        "source": {
            "package": "linux-libc-dev",
            "version": version,
            "headers": str(ASM),
            "generator": "scripts/syscall-numbers/build.py",
        },
        "x32_syscall_bit": f"0x{X32_SYSCALL_BIT:08x}",
        "abis": abis,
    }
    return json.dumps(data, indent=1) + "\n"


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    out.write_text(build(package_version()))


if __name__ == "__main__":
    main()
