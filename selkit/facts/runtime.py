"""The data behind a phase's seccomp allow list beyond the permission table: the runtime
baseline (``data/runtime_syscalls.json``: what glibc calls in any phase, what the loader calls
before main(), what a switch calls) and the verb forms whose system calls are listed by hand
(``data/verb_syscalls.json``: where the permission table is too coarse).

Both are read with :mod:`importlib.resources`; every name is an x86_64 system call
(``tests/facts/test_runtime_syscalls.py`` checks it against :mod:`selkit.facts.numbers`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

#: Where a baseline group applies: every phase, the entry phase, each phase that switches.
APPLIES = ("every", "entry", "switches")


@dataclass(frozen=True)
class BaselineGroup:
    """A named group of the runtime baseline (``@memory``, ``@loader``, ...)."""

    name: str
    phases: str
    reason: str
    syscalls: Mapping[str, str]  # name -> why it is there


@dataclass(frozen=True)
class VerbSyscalls:
    """The system calls a verb form makes, listed instead of those its permissions gate."""

    form: str
    reason: str
    syscalls: tuple[str, ...]


def _read(name: str) -> dict:
    return json.loads(resources.files("selkit.facts").joinpath(f"data/{name}")
                      .read_text("utf-8"))


@lru_cache(maxsize=1)
def baseline() -> Mapping[str, BaselineGroup]:
    """Group name -> group, in the order of the data."""
    out = {}
    for name, group in _read("runtime_syscalls.json")["groups"].items():
        if group["phases"] not in APPLIES:
            raise ValueError(f"baseline group {name}: phases {group['phases']!r}")
        out[name] = BaselineGroup(name, group["phases"], group["reason"],
                                  MappingProxyType(dict(group["syscalls"])))
    return MappingProxyType(out)


@lru_cache(maxsize=1)
def verb_syscalls() -> Mapping[str, VerbSyscalls]:
    """Verb form text (``udp io``) -> the system calls it makes."""
    return MappingProxyType({
        form: VerbSyscalls(form, entry["reason"], tuple(entry["syscalls"]))
        for form, entry in _read("verb_syscalls.json")["forms"].items()})
