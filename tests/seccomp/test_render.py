"""The JSON and C renderings of a filter (selkit/seccomp/render.py): the C array compiles
warning-free and holds exactly the program's bytes; the JSON holds them with their hash."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import pytest

from selkit.seccomp.bpf import (
    A_SRC,
    ALU,
    JMP,
    JSET,
    LD,
    LDX,
    MISC,
    RET,
    TXA,
    Insn,
    W,
    X,
    generate,
)
from selkit.seccomp.render import to_c, to_json

STEADY = ["read", "write", "close", "epoll_wait", "recvfrom", "sendto", "exit_group"]
DUMP = """#include <stdio.h>
#include "filter.h"
int main(void)
{
\tconst struct sock_fprog *prog = NAME_fprog();
\tfwrite(prog->filter, sizeof(prog->filter[0]), prog->len, stdout);
\treturn 0;
}
"""
needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")


def test_the_json_describes_the_program():
    flt = generate(STEADY, "errno 1")
    data = to_json(flt, phase="steady")
    assert data["phase"] == "steady" and data["abi"] == "x86_64"
    assert data["default"] == "errno 1" and data["foreign"] == ["kill_process"]
    assert [a["name"] for a in data["allowed"]] == list(flt.allowed)
    assert [a["nr"] for a in data["allowed"]] == sorted(a["nr"] for a in data["allowed"])
    assert bytes.fromhex(data["bpf"]) == flt.bytes and data["length"] == len(flt.program)
    assert data["sha256"] == hashlib.sha256(flt.bytes).hexdigest()
    assert json.dumps(data, sort_keys=True) == json.dumps(to_json(generate(STEADY, "errno 1"),
                                                                  "steady"), sort_keys=True)


def test_the_json_refuses_a_program_that_does_not_do_what_its_filter_says():
    import dataclasses

    flt = generate(STEADY)
    lying = dataclasses.replace(flt, allowed=(*flt.allowed, "ptrace"))
    with pytest.raises(ValueError, match="does not do"):
        to_json(lying)


def test_the_c_rendering_names_each_instruction():
    text = to_c(generate(STEADY), "steady_filter")
    assert "static const struct sock_filter steady_filter[] = {" in text
    assert "BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0)" in text
    assert "offsetof(struct seccomp_data, nr)" in text
    assert "SECCOMP_RET_KILL_PROCESS" in text
    assert "nr 231-232: exit_group epoll_wait -> allow" in text
    with pytest.raises(ValueError, match="identifier"):
        to_c(generate(STEADY), "1bad name")


@needs_gcc
@pytest.mark.parametrize("default", ["kill_process", "errno 13", "log", "trap", "kill_thread"])
@pytest.mark.parametrize("layout", ["tree", "linear"])
def test_the_c_array_compiles_to_the_program_bytes(tmp_path, default, layout):
    flt = generate(STEADY if layout == "tree" else STEADY[:3], default, layout=layout)
    assert _compiled_bytes(tmp_path, flt, "steady_filter") == flt.bytes


@needs_gcc
def test_a_long_program_and_any_instruction_compile_to_their_bytes(tmp_path):
    """Every other call allowed (JA over long subtrees), and hand instructions of every
    class, render as the same bytes."""
    from selkit.facts.numbers import numbers

    table = numbers("x86_64")
    flt = generate([table.by_number[n] for n in range(0, 335, 2)])
    assert _compiled_bytes(tmp_path, flt, "long_filter") == flt.bytes
    odd = [Insn(LD | W | 0x20, k=16), Insn(LDX | 0x80), Insn(ALU | 0x90 | X), Insn(MISC | TXA),
           Insn(JMP | JSET | X, 1, 0), Insn(0x02, k=3), Insn(RET | A_SRC), Insn(0xFF, 3, 4, 5)]
    import dataclasses

    hand = dataclasses.replace(flt, program=tuple(odd))
    assert _compiled_bytes(tmp_path, hand, "hand", check=False) == hand.bytes


def _compiled_bytes(tmp_path, flt, name, check=True):
    (tmp_path / "filter.h").write_text(to_c(flt, name))
    (tmp_path / "dump.c").write_text(DUMP.replace("NAME", name))
    # the header alone compiles warning-free as a translation unit
    (tmp_path / "alone.c").write_text('#include "filter.h"\n')
    flags = ["-O2", "-Wall", "-Wextra", "-Werror"]
    subprocess.run(["gcc", *flags, "-c", "-o", str(tmp_path / "alone.o"),
                    str(tmp_path / "alone.c")], check=True, capture_output=True, text=True)
    subprocess.run(["gcc", *flags, "-o", str(tmp_path / "dump"), str(tmp_path / "dump.c")],
                   check=True, capture_output=True, text=True)
    return subprocess.run([str(tmp_path / "dump")], check=True, capture_output=True).stdout
