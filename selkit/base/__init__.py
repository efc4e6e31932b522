"""Reading the base policy: a binary policy (with SETools) and, if present, its module store.

This is the only place the compiler imports SETools. The result is a plain
:class:`~selkit.ir.kb.KnowledgeBase`.
"""

from __future__ import annotations

import bz2
import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

from selkit.diagnostics import Diagnostic, DiagnosticError
from selkit.ir.kb import KnowledgeBase, PortRange

#: Debian's refpolicy, the default target (selinux-policy-default).
DEFAULT_POLICY = "/etc/selinux/default/policy/policy.33"
DEFAULT_STORE = "/var/lib/selinux/default"

_CIL_TYPEATTRIBUTE = re.compile(rb"^\(typeattribute ([A-Za-z0-9_]+)\)$", re.M)


@dataclass(frozen=True)
class BaseSpec:
    """Where the base policy lives: the binary policy and, optionally, its module store."""

    policy: str = DEFAULT_POLICY
    store: str | None = DEFAULT_STORE


def load_kb(spec: BaseSpec = BaseSpec()) -> KnowledgeBase:
    """Load names, classes, ports and attribute members of the base policy."""
    try:
        mtime = os.stat(spec.policy).st_mtime_ns
    except OSError as exc:
        raise DiagnosticError([Diagnostic(
            "SEL906", f"cannot read the base policy '{spec.policy}': {exc.strerror}",
            hint="install selinux-policy-default (make setup) or pass --base")]) from None
    return _load_kb_cached(spec.policy, spec.store, mtime)


@functools.lru_cache(maxsize=4)
def _load_kb_cached(policy_path: str, store: str | None, _mtime: int) -> KnowledgeBase:
    import setools  # noqa: PLC0415  (heavy; only needed here)

    try:
        policy = setools.SELinuxPolicy(policy_path)
    except Exception as exc:  # setools raises several unrelated types for a bad file
        raise DiagnosticError([Diagnostic(
            "SEL906", f"'{policy_path}' is not a binary SELinux policy setools can read: {exc}")]
        ) from None
    types = {str(t) for t in policy.types()}
    for t in policy.types():
        types.update(str(a) for a in t.aliases())
    attributes = {str(a) for a in policy.typeattributes()}
    members = {str(a): frozenset(str(t) for t in a.expand()) for a in policy.typeattributes()}
    if store:
        attributes |= _store_attributes(store)
    classes = {}
    for cls in policy.classes():
        perms = set(cls.perms)
        try:
            perms |= set(cls.common.perms)
        except setools.exception.NoCommon:
            pass
        classes[str(cls)] = frozenset(perms)
    portcons = tuple(sorted(
        PortRange(str(pc.protocol), pc.ports.low, pc.ports.high, str(pc.context.type_))
        for pc in policy.portcons()) if hasattr(policy, "portcons") else ())
    return KnowledgeBase(
        types=frozenset(types), attributes=frozenset(attributes), classes=classes,
        portcons=portcons, attribute_members=members,
        roles=frozenset(str(r) for r in policy.roles()), mls=bool(policy.mls),
        source=policy_path)


def _store_attributes(store: str) -> set[str]:
    """Attributes declared by the store's base module (the binary drops unused ones)."""
    base = Path(store) / "active" / "modules" / "100" / "base" / "cil"
    try:
        data = base.read_bytes()
    except OSError:
        return set()
    if data[:3] == b"BZh":
        data = bz2.decompress(data)
    return {m.decode() for m in _CIL_TYPEATTRIBUTE.findall(data)}


def load_policy(path: str):
    """Load a binary policy with SETools (a DiagnosticError if it cannot be read)."""
    import setools  # noqa: PLC0415

    try:
        return setools.SELinuxPolicy(path)
    except Exception as exc:  # noqa: BLE001 - setools raises several unrelated types
        raise DiagnosticError([Diagnostic("SEL506", f"setools cannot load '{path}': {exc}")]
                              ) from None
