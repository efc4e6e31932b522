"""The base policy read into a :class:`~selkit.ir.kb.KnowledgeBase`: the binary policy (with
SETools) and, if present, the module store it was linked from (:class:`BaseSpec`)."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from selkit.base.modules import (
    active_module_cils,
    base_modules,
    disabled_modules,
    store_file_contexts,
)
from selkit.cache import cache_root, read_pickle, write_pickle
from selkit.diagnostics import Diagnostic, DiagnosticError
from selkit.ir.kb import KnowledgeBase, PortRange

#: A binary policy as SETools reads it (``setools.SELinuxPolicy``). SETools ships no type
#: information, so to mypy it is Any; the alias names what is meant.
Policy: TypeAlias = Any

#: Debian's refpolicy, the default target (selinux-policy-default).
DEFAULT_POLICY = "/etc/selinux/default/policy/policy.33"
DEFAULT_STORE = "/var/lib/selinux/default"

#: Bump when KnowledgeBase changes shape, so old cache entries are ignored.
KB_FORMAT = "kb-4"


@dataclass(frozen=True)
class BaseSpec:
    """Where the base policy lives: the binary policy and, optionally, its module store.

    One value is the whole choice of base: names resolve against ``policy`` (and ``store``),
    profiles are measured and modules linked (``--install``, the linked engine) in copies of
    ``store``, which must sit at ``ROOT/var/lib/selinux/NAME`` next to
    ``ROOT/etc/selinux/NAME`` and ``ROOT/etc/selinux/semanage.conf``.
    """

    policy: str = DEFAULT_POLICY
    store: str | None = DEFAULT_STORE

    @property
    def root(self) -> str:
        """The root whose etc/selinux and var/lib/selinux hold the store (``/`` by default).

        A DiagnosticError (SEL908) when there is no store or it is not laid out as
        ``ROOT/var/lib/selinux/NAME``: never a silent fall back to the default store."""
        return str(self._layout()[0])

    @property
    def name(self) -> str:
        """The store's name (``default``, ``mls``, ...): the last part of its directory."""
        return self._layout()[1]

    def _layout(self) -> tuple[Path, str]:
        if not self.store:
            raise DiagnosticError([Diagnostic(
                "SEL908", f"the base policy '{self.policy}' has no module store",
                hint="this needs the store the policy was linked from: pass --base "
                     "ROOT/etc/selinux/NAME/policy/policy.N with ROOT/var/lib/selinux/NAME "
                     "beside it, or --base-store ROOT/var/lib/selinux/NAME")])
        parts = Path(os.path.abspath(self.store)).parts
        if len(parts) < 5 or parts[-4:-1] != ("var", "lib", "selinux"):
            raise DiagnosticError([Diagnostic(
                "SEL908", f"the module store '{self.store}' is not ROOT/var/lib/selinux/NAME, "
                          "so its root (etc/selinux/NAME, semanage.conf) cannot be found",
                hint="pass the store inside its root, e.g. /var/lib/selinux/default")])
        return Path(*parts[:-4]), parts[-1]

    def require_store(self) -> BaseSpec:
        """This spec, or SEL908 saying what a command that links into the store lacks."""
        root, name = self._layout()
        assert self.store is not None  # _layout raised SEL908 otherwise
        needed = (Path(self.store, "active"), root / "etc/selinux" / name,
                  root / "etc/selinux/semanage.conf")
        missing = [str(p) for p in needed if not p.exists()]
        if missing:
            raise DiagnosticError([Diagnostic(
                "SEL908", f"the module store of the base '{self.policy}' is incomplete: no "
                          f"{', '.join(missing)}",
                hint="a store copy needs ROOT/var/lib/selinux/NAME/active, "
                     "ROOT/etc/selinux/NAME and ROOT/etc/selinux/semanage.conf")])
        return self

    @classmethod
    def for_policy(cls, policy: str, store: str | None = None) -> BaseSpec:
        """A binary policy, with the store it was linked from when that can be found.

        ``ROOT/etc/selinux/NAME/policy/policy.N`` goes with ``ROOT/var/lib/selinux/NAME``.
        The store adds what a binary policy drops (attributes only used in neverallows, such
        as ``set_curr_context``) and the file contexts modules declare.
        """
        if store is None:
            parts = Path(os.path.abspath(policy)).parts
            if len(parts) >= 6 and parts[-2] == "policy" and parts[-5:-3] == ("etc", "selinux"):
                candidate = Path(*parts[:-5], "var", "lib", "selinux", parts[-3])
                if (candidate / "active").is_dir():
                    store = str(candidate)
        return cls(policy, store)

    @classmethod
    def for_store(cls, store: str) -> BaseSpec:
        """A store ``ROOT/var/lib/selinux/NAME`` with the kernel policy linked from it,
        ``ROOT/etc/selinux/NAME/policy/policy.N`` (the highest N; SEL906 when there is none)."""
        root, name = cls(DEFAULT_POLICY, store)._layout()
        folder = root / "etc/selinux" / name / "policy"
        found = sorted(folder.glob("policy.[0-9]*"),
                       key=lambda p: int(p.suffix[1:]) if p.suffix[1:].isdigit() else -1)
        if not found:
            raise DiagnosticError([Diagnostic(
                "SEL906", f"the store '{store}' has no kernel policy in {folder}",
                hint="pass the binary policy with --base")])
        return cls(str(found[-1]), store)

    @classmethod
    def from_options(cls, policy: str | None, store: str | None) -> BaseSpec:
        """The one base of the ``--base POLICY`` / ``--base-store DIR`` options (neither: the
        Debian refpolicy of this machine)."""
        if policy:
            return cls.for_policy(policy, store)
        if store:
            return cls.for_store(store)
        return cls()


def load_kb(spec: BaseSpec = BaseSpec()) -> KnowledgeBase:
    """Load names, classes, ports and attribute members of the base policy.

    The result is cached on disk (``selkit.cache.cache_root()``), keyed by the identity of the
    policy file and of the store's last commit, so a compile does not re-read the policy with
    SETools every time; any change to either makes a new entry.
    """
    try:
        st = os.stat(spec.policy)
    except OSError as exc:
        raise DiagnosticError([Diagnostic(
            "SEL906", f"cannot read the base policy '{spec.policy}': {exc.strerror}",
            hint="install selinux-policy-default (make setup) or pass --base")]) from None
    key = _cache_key(spec, st)
    return _load_kb_cached(spec.policy, spec.store, key)


def _cache_key(spec: BaseSpec, st: os.stat_result) -> str:
    shape = ",".join(f.name for f in dataclasses.fields(KnowledgeBase))
    parts = [KB_FORMAT, shape, os.path.abspath(spec.policy), str(st.st_mtime_ns),
             str(st.st_size), str(st.st_ino)]
    if spec.store:
        commit = Path(spec.store, "active", "commit_num")
        try:
            cst = commit.stat()
            parts += [os.path.abspath(spec.store), str(cst.st_mtime_ns), commit.read_bytes().hex()]
        except OSError:
            parts.append("no-store")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def _cache_dir() -> Path:
    return cache_root() / "kb"


@functools.lru_cache(maxsize=4)
def _load_kb_cached(policy_path: str, store: str | None, key: str) -> KnowledgeBase:
    path = _cache_dir() / f"{key}.pickle"
    kb = read_pickle(path, KnowledgeBase)
    if kb is None:
        kb = _read_kb(policy_path, store)
        write_pickle(path, kb)
    return kb


def _read_kb(policy_path: str, store: str | None) -> KnowledgeBase:
    import setools  # noqa: PLC0415  (heavy; only needed here)

    try:
        policy = setools.SELinuxPolicy(policy_path)
    except Exception as exc:  # noqa: BLE001  (setools raises several unrelated types for a bad file)
        raise DiagnosticError([Diagnostic(
            "SEL906", f"'{policy_path}' is not a binary SELinux policy setools can read: {exc}")]
        ) from None
    types = {str(t) for t in policy.types()}
    aliases = {str(a): str(t) for t in policy.types() for a in t.aliases()}
    types.update(aliases)
    attributes = {str(a) for a in policy.typeattributes()}
    members = {str(a): frozenset(str(t) for t in a.expand()) for a in policy.typeattributes()}
    file_contexts = {}
    enabled: frozenset[str] = frozenset()
    disabled: frozenset[str] = frozenset()
    base: frozenset[str] = frozenset()
    if store:
        from selkit.base.store import load_store_model  # noqa: PLC0415 (imports this module)

        model = load_store_model(store)
        # The binary drops attributes no runtime rule needs (tls_privkey_type, the
        # base_typeattr_N of neverallows, ...); the store's CIL keeps them, with their members.
        attributes |= model.attributes
        members.update({a: model.members(a) for a in model.attributes if a not in members})
        aliases.update(model.aliases)
        types.update(model.aliases)
        file_contexts = store_file_contexts(store)
        enabled = frozenset(name for name, _ in active_module_cils(store))
        disabled = disabled_modules(store)
        base = base_modules(store)
    return KnowledgeBase(
        types=frozenset(types), attributes=frozenset(attributes), classes=policy_classes(policy),
        portcons=policy_portcons(policy), attribute_members=members,
        roles=frozenset(str(r) for r in policy.roles()), mls=bool(policy.mls),
        source=policy_path, file_contexts=file_contexts, enabled_modules=enabled,
        disabled_modules=disabled, base_modules=base, aliases=aliases, store=store)


def policy_classes(policy: Policy) -> dict[str, frozenset[str]]:
    """Class -> every permission of a binary policy's class (its common's included)."""
    import setools  # noqa: PLC0415

    classes = {}
    for cls in policy.classes():
        perms = set(cls.perms)
        with contextlib.suppress(setools.exception.NoCommon):
            perms |= set(cls.common.perms)
        classes[str(cls)] = frozenset(perms)
    return classes


def policy_portcons(policy: Policy) -> tuple[PortRange, ...]:
    """Every port context of a binary policy, sorted."""
    return tuple(sorted(
        PortRange(str(pc.protocol), pc.ports.low, pc.ports.high, str(pc.context.type_))
        for pc in policy.portcons()) if hasattr(policy, "portcons") else ())


def load_policy(path: str) -> Policy:
    """Load a binary policy with SETools (a DiagnosticError if it cannot be read)."""
    import setools  # noqa: PLC0415

    try:
        return setools.SELinuxPolicy(path)
    except Exception as exc:  # noqa: BLE001 - setools raises several unrelated types
        raise DiagnosticError([Diagnostic("SEL506", f"setools cannot load '{path}': {exc}")]
                              ) from None
