"""``selkit audit --policy P SPEC...``: what a host's kernel policy grants each phase beyond
its spec (drift), and which module of the host's store writes each such rule.

The spec side is the specs linked into the base store, as ``selkit audit OLD NEW`` links them;
the host side is the policy given. An *added* change is a grant the host gives and the spec
does not: a local module, an older or edited copy of the module, a boolean's branch. A
*removed* change is a grant of the spec the host lacks (the module is not installed, or not
this version).

A kernel policy does not record which module a rule came from; the host's store does. A rule
is attributed to the store's enabled modules whose CIL writes an ``allow`` with the same
source, target and class and the permission (as the rule reads in the kernel policy); a rule
the compiler rewrote (an attribute expression, a ``self`` in a macro) may match no module, and
the report says so rather than guess.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from selkit.audit.changes import PolicyChanges, SubjectChanges
from selkit.base.modules import CIL_ALLOW, active_module_cils, read_cil
from selkit.base.policy import BaseSpec
from selkit.diagnostics import Diagnostic, DiagnosticError

#: The kernel's view of the loaded policy, and where the system's store is named.
LOADED_POLICY = "/sys/fs/selinux/policy"
SELINUX_CONFIG = "/etc/selinux/config"

_KERNEL_ALLOW = re.compile(r"allow (\S+) (\S+):(\S+) (?:\{ ([^}]*) \}|(\S+));")

#: (source, target, class) -> {permission: modules}
Written = dict[tuple[str, str, str], dict[str, tuple[str, ...]]]


@lru_cache(maxsize=2)
def store_allows(store: str) -> Written:
    """Every allow the enabled modules of ``store`` write, by (source, target, class)."""
    out: Written = {}
    for name, path in active_module_cils(store):
        for source, target, tclass, perms in CIL_ALLOW.findall(read_cil(path).decode(
                errors="replace")):
            cell = out.setdefault((source, target, tclass), {})
            for perm in perms.split():
                if name not in cell.get(perm, ()):
                    cell[perm] = (*cell.get(perm, ()), name)
    return out


def writers(rule: str, perm: str, written: Written) -> tuple[str, ...]:
    """The modules that write ``rule`` (kernel policy text, ``allow S T:C { p ... };``) for
    ``perm``; empty when none writes it as it reads."""
    match = _KERNEL_ALLOW.match(rule.strip())
    if not match:
        return ()
    source, target, tclass = match.group(1), match.group(2), match.group(3)
    return written.get((source, target, tclass), {}).get(perm, ())


def attribute(changes: PolicyChanges, store: str) -> PolicyChanges:
    """``changes`` with every added change naming the store's modules that write its rule."""
    written = store_allows(store)
    subjects = []
    for s in changes.subjects:
        subjects.append(SubjectChanges(
            s.subject, s.old_domain, s.new_domain,
            tuple(replace(c, modules=writers(c.rule, c.grant.perm, written)) if c.added else c
                  for c in s.changes), s.held))
    return replace(changes, subjects=tuple(subjects))


def host_store_of(policy: str, store: str | None) -> str | None:
    """The store the host's ``policy`` was linked from: ``store`` when given (SEL615 when it is
    no store), the system's for the loaded policy, the one beside ``ROOT/etc/selinux/NAME/
    policy/policy.N``, or None (rules are then not attributed to modules)."""
    if store is not None:
        if not Path(store, "active").is_dir():
            raise DiagnosticError([Diagnostic(
                "SEL615", f"--store '{store}' is no module store (no {store}/active)",
                hint="the store is ROOT/var/lib/selinux/NAME, e.g. /var/lib/selinux/default")])
        return store
    if os.path.realpath(policy) == LOADED_POLICY:
        name = _configured_type()
        candidate = Path("/var/lib/selinux", name) if name else None
        return str(candidate) if candidate and (candidate / "active").is_dir() else None
    return BaseSpec.for_policy(policy).store


def _configured_type() -> str | None:
    try:
        text = Path(SELINUX_CONFIG).read_text()
    except OSError:
        return None
    found = re.search(r"(?m)^\s*SELINUXTYPE\s*=\s*(\S+)", text)
    return found.group(1) if found else None
