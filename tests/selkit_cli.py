"""Running ``selkit`` in tests: in this process (click's CliRunner, fast) or as a real process
(what only a process shows: plain text in a pipe, exit codes, signals, a stand-in tool on PATH).

The ``cli`` fixture of tests/conftest.py hands out both; modules that need them at import time
(parametrised cases) import them from here.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent

#: A small valid spec (two phases, a switch) that every command accepts.
GOOD = '''daemon d {
    exec "/usr/sbin/d"
    phase startup {
        udp bind port 5353
    }
    phase steady {
        udp io
    }
    switch startup -> steady {
        option "-z {context}"
    }
}
'''

#: Variables that would make selkit draw for a terminal, colour its output or print debug
#: details; a pipe has none of them.
_TERMINAL_VARIABLES = ("SELKIT_FORCE_TERMINAL", "SELKIT_DEBUG", "FORCE_COLOR",
                       "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CLICOLOR_FORCE")


def pipe_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a ``selkit`` whose output goes into a pipe, this checkout first on
    the import path."""
    env = {k: v for k, v in os.environ.items() if k not in _TERMINAL_VARIABLES}
    env.update(PYTHONIOENCODING="utf-8", NO_COLOR="1", PYTHONPATH=str(ROOT))
    env.update(extra or {})
    return env


def run(*args: object, cwd: Path | str = ROOT, env_extra: dict[str, str] | None = None,
        timeout: float = 300, text: bool = True) -> subprocess.CompletedProcess:
    """``python -m selkit ARGS`` as a process: stdin empty, stdout and stderr pipes."""
    return subprocess.run([sys.executable, "-m", "selkit", *map(str, args)], cwd=cwd,
                          env=pipe_env(env_extra), stdin=subprocess.DEVNULL,
                          capture_output=True, text=text, timeout=timeout, check=False)


class Ran(NamedTuple):
    """What :func:`invoke` returns: the fields of a CompletedProcess that tests read."""

    returncode: int
    stdout: str
    stderr: str


def invoke(*args: object, cwd: Path | str = ROOT,
           env_extra: dict[str, str | None] | None = None) -> Ran:
    """``selkit ARGS`` in this process (click's CliRunner), stdout and stderr apart, neither a
    terminal, from ``cwd``."""
    from click.testing import CliRunner

    from selkit.cli import main

    env: dict[str, str | None] = {"SELKIT_FORCE_TERMINAL": None, **(env_extra or {})}
    with contextlib.chdir(cwd):
        result = CliRunner().invoke(main, [str(a) for a in args], env=env)
    return Ran(result.exit_code, result.stdout, result.stderr)


class Cli:
    """The ``cli`` fixture: ``cli(*args)`` runs selkit in this process, ``cli.process(*args)``
    as a real process; both give returncode, stdout and stderr."""

    def __call__(self, *args: object, cwd: Path | str = ROOT,
                 env_extra: dict[str, str | None] | None = None) -> Ran:
        return invoke(*args, cwd=cwd, env_extra=env_extra)

    def process(self, *args: object, cwd: Path | str = ROOT,
                env_extra: dict[str, str] | None = None,
                timeout: float = 300) -> subprocess.CompletedProcess:
        return run(*args, cwd=cwd, env_extra=env_extra, timeout=timeout)
