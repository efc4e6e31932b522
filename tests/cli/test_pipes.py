"""Output into a pipe whose reader is gone: the command stops quietly (status 141, as one
killed by SIGPIPE, or 0 when everything was already written) and never prints a traceback,
'internal error', BrokenPipeError or 'Exception ignored' on stderr.

Each command runs with a real pipe on stdout: either closed before the command writes
anything, or read for one line (``| head -1``) and then closed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import ROOT, needs_tools

COMMANDS = {
    "prove": ["prove", "policies/hts.sel", "policies/openvpn.sel", "policies/ptunnel.sel"],
    "audit": ["audit", "policies/openvpn.sel", "--against", "openvpn_t"],
    "audit-all": ["audit", "--all"],
    "doc-verbs": ["doc", "verbs"],
    "compile-json": ["compile", "--json", "--target", "te,cil", "-o", "{tmp}",
                     "policies/hts.sel"],
    "check-dump-ir": ["check", "--dump", "ir", "policies/hts.sel"],
    "check": ["check", "policies/hts.sel", "policies/openvpn.sel"],
    "check-json-diagnostics": ["check", "--json", "dsl/errors/unknown-verb.sel"],
    "fmt-stdout": ["fmt", "--stdout", "policies/hts.sel", "policies/openvpn.sel"],
}

BAD = (b"Traceback", b"BrokenPipeError", b"Exception ignored", b"internal error")

pytestmark = needs_tools("semodule")


def _spawn(args: list[str], tmp_path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("SELKIT_FORCE_TERMINAL",
                                                              "SELKIT_DEBUG")}
    return subprocess.Popen([sys.executable, "-m", "selkit",
                             *(a.replace("{tmp}", str(tmp_path)) for a in args)],
                            cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(proc: subprocess.Popen) -> tuple[int, bytes]:
    err = proc.stderr.read()
    return proc.wait(timeout=300), err


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_reader_closed_before_any_output(name, tmp_path):
    proc = _spawn(COMMANDS[name], tmp_path)
    proc.stdout.close()
    code, err = _finish(proc)
    assert not any(b in err for b in BAD), err.decode(errors="replace")[-2000:]
    # Nothing can reach a closed pipe, so the first write fails: the SIGPIPE status.
    assert code == 141, (code, err.decode(errors="replace")[-2000:])
    assert err == b""


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_reader_takes_one_line_then_closes(name, tmp_path):
    proc = _spawn(COMMANDS[name], tmp_path)
    first = proc.stdout.readline()
    proc.stdout.close()
    code, err = _finish(proc)
    assert first, "the command printed nothing"
    assert not any(b in err for b in BAD), err.decode(errors="replace")[-2000:]
    normal = 2 if name == "check-json-diagnostics" else 0  # its exit status in a whole pipe
    assert code in (normal, 141), (code, err.decode(errors="replace")[-2000:])
