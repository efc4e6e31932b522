"""What the base policy grants a *new* type for the attributes it carries.

A type the base policy has never seen cannot be named by any base rule or attribute expression,
so everything the base gives it is a function of the attributes its module assigns. A
:class:`Profile` records that function for one attribute set: every attribute the type ends up
in (the linker's derived ``base_typeattr_N`` included) and every allow rule that reaches it.
Profiles are measured by linking a probe module (one type per attribute set) into a copy of
the store once, and cached per store commit; the compositional engine then needs no link.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from selkit.analysis.conditions import rule_condition
from selkit.cache import cache_root, replace_file

if TYPE_CHECKING:
    from selkit.toolchain import Linker, Progress

#: How a profile writes the probe domain itself (a rule on its own type), apart from any
#: attribute; not the policy language's ``self`` (:data:`selkit.ir.nodes.SELF`).
PROBE_SELF = "<self>"
PROBE_PREFIX = "selkit_probe_"
PROFILE_FORMAT = "profile-3"


@dataclass(frozen=True)
class ProfileRule:
    """One allow rule of the base that reaches a type with the profiled attributes."""

    source: str                 # the attribute (or <self>) the rule is written for
    target: str                 # a type, an attribute, or <self>
    tclass: str
    perms: tuple[str, ...]
    conditional: str | None
    statement: str


@dataclass(frozen=True)
class Profile:
    """The base policy's grants to a new type with ``attributes``: ``rules`` whose source
    covers it (outbound) and ``inbound`` rules whose target covers it (their ``source`` is the
    rule's source as written, ``target`` the attribute or <self> through which it is reached)."""

    attributes: tuple[str, ...]
    memberships: frozenset[str]
    rules: tuple[ProfileRule, ...]
    inbound: tuple[ProfileRule, ...] = ()


@dataclass
class ProfileSet:
    """Profiles of one store, plus base members of every attribute a profile rule names.

    ``replaced`` are the store modules the profiled modules replace (same module name): they are
    left out when the profiles are measured, as they are when the real modules are linked.
    """

    store_key: str
    profiles: dict[tuple[str, ...], Profile]
    members: dict[str, frozenset[str]]
    replaced: tuple[str, ...] = ()

    def expand(self, name: str) -> frozenset[str]:
        """Base members of an attribute (a type stands for itself)."""
        return self.members.get(name, frozenset({name}))


def store_key(store_root: str, store: str = "default", replaced: tuple[str, ...] = ()) -> str:
    """Identity of a store's current state (its commit number and policy file) with the
    modules that are replaced left out."""
    active = Path(store_root, "var/lib/selinux", store, "active")
    parts = [PROFILE_FORMAT, os.path.abspath(str(active)), "replaced", *sorted(replaced)]
    for name in ("commit_num", "policy.kern"):
        try:
            st = (active / name).stat()
            parts += [name, str(st.st_mtime_ns), str(st.st_size)]
        except OSError:
            parts.append(f"no-{name}")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def _cache_path(key: str) -> Path:
    return cache_root() / "profiles" / f"{key}.json"


def load_profiles(attribute_sets: set[tuple[str, ...]], store_root: str = "/",
                  store: str = "default", progress: Progress | None = None,
                  replaced: tuple[str, ...] = (), linker: Linker | None = None) -> ProfileSet:
    """Profiles for every attribute set, from the cache or by linking one probe module with
    ``linker`` (default: :func:`selkit.toolchain.link_files`)."""
    replaced = tuple(sorted(set(replaced)))
    key = store_key(store_root, store, replaced)
    cached = _LOADED.get(key) or _read_cache(key)
    cached.replaced = replaced
    missing = {s for s in attribute_sets if s not in cached.profiles}
    if missing:
        measured = measure(missing | set(cached.profiles), store_root, store, progress,
                           replaced, linker)
        measured.store_key = key
        _write_cache(measured)
        cached = measured
    _LOADED[key] = cached
    return cached


#: Profile sets read or measured in this process, by store key (the key changes with the store).
_LOADED: dict[str, ProfileSet] = {}


def measure(attribute_sets: set[tuple[str, ...]], store_root: str = "/",
            store: str = "default", progress: Progress | None = None,
            replaced: tuple[str, ...] = (), linker: Linker | None = None) -> ProfileSet:
    """Link a probe type per attribute set into a store copy (with ``linker``, default
    :func:`selkit.toolchain.link_files`) and read what reaches each.

    Each module in ``replaced`` is overridden by an empty module of the same name, as the real
    module of that name overrides it at link.
    """
    import setools  # noqa: PLC0415

    from selkit.base import load_policy  # noqa: PLC0415

    if linker is None:
        from selkit.toolchain import link_files  # noqa: PLC0415

        linker = link_files
    ordered = sorted(attribute_sets)
    probes = {f"{PROBE_PREFIX}{i}_t": attrs for i, attrs in enumerate(ordered)}
    lines = []
    for probe, attrs in probes.items():
        lines.append(f"(type {probe})")
        lines += [f"(typeattributeset {a} ({probe}))" for a in attrs]
    if progress:
        progress("measuring what the base policy gives new domains (once per store)")
    with tempfile.TemporaryDirectory(prefix="selkit-probe-") as tmp:
        probe_cil = {"selkit_probe.cil": ("\n".join(lines) + "\n").encode()}
        probe_cil.update({f"{name}.cil": b"; replaced by the module of that name\n"
                          for name in replaced})
        policy = load_policy(linker(probe_cil, (), str(Path(tmp, "policy")),
                                    source_root=store_root, store=store))
        profiles: dict[tuple[str, ...], Profile] = {}
        members: dict[str, frozenset[str]] = {}
        for probe, attrs in probes.items():
            ptype = policy.lookup_type(probe)
            memberships = frozenset(str(a) for a in ptype.attributes())
            rules = _probe_rules(setools.TERuleQuery(policy, source=probe, ruletype=["allow"]),
                                 probe, members, outbound=True)
            inbound = _probe_rules(setools.TERuleQuery(policy, target=probe, ruletype=["allow"]),
                                   probe, members, outbound=False)
            profiles[attrs] = Profile(attrs, memberships, rules, inbound)
    return ProfileSet("", profiles, members, tuple(replaced))


def _probe_rules(query: Any, probe: str, members: dict[str, frozenset[str]], *,
                 outbound: bool) -> tuple[ProfileRule, ...]:
    """The rules of ``query`` as profile rules, ``probe`` written <self>; records in
    ``members`` the base members of every other name they use (other probes are not base)."""
    rules = []
    for rule in query.results():
        source, target = str(rule.source), str(rule.target)
        if source.startswith(PROBE_PREFIX) and source != probe:
            continue
        if target.startswith(PROBE_PREFIX) and target != probe:
            continue
        if not outbound and source == probe:
            continue  # a rule of the probe's own: an outbound rule already
        source = PROBE_SELF if source == probe else source
        target = PROBE_SELF if target == probe else target
        rules.append(ProfileRule(source, target, str(rule.tclass), tuple(sorted(rule.perms)),
                                 rule_condition(rule), _statement(rule)))
        for name, side in ((source, rule.source), (target, rule.target)):
            if name != PROBE_SELF and name not in members:
                members[name] = frozenset(str(t) for t in side.expand()
                                          if not str(t).startswith(PROBE_PREFIX))
    return tuple(sorted(rules, key=lambda r: (r.source, r.target, r.tclass, r.perms,
                                               r.conditional or "")))


def _statement(rule: Any) -> str:
    text = str(rule.statement()) if callable(getattr(rule, "statement", None)) else str(rule)
    return text.split("\n")[0]


def _read_cache(key: str) -> ProfileSet:
    try:
        data = json.loads(_cache_path(key).read_text())
    except (OSError, ValueError):
        return ProfileSet(key, {}, {})
    profiles = {}
    for item in data.get("profiles", []):
        attrs = tuple(item["attributes"])
        rules = tuple(ProfileRule(r[0], r[1], r[2], tuple(r[3]), r[4], r[5])
                      for r in item["rules"])
        inbound = tuple(ProfileRule(r[0], r[1], r[2], tuple(r[3]), r[4], r[5])
                        for r in item.get("inbound", []))
        profiles[attrs] = Profile(attrs, frozenset(item["memberships"]), rules, inbound)
    members = {k: frozenset(v) for k, v in data.get("members", {}).items()}
    return ProfileSet(key, profiles, members)


def _write_cache(profiles: ProfileSet) -> None:
    data = {
        "format": PROFILE_FORMAT,
        "profiles": [
            {"attributes": list(p.attributes), "memberships": sorted(p.memberships),
             "rules": [[r.source, r.target, r.tclass, list(r.perms), r.conditional, r.statement]
                       for r in p.rules],
             "inbound": [[r.source, r.target, r.tclass, list(r.perms), r.conditional,
                          r.statement] for r in p.inbound]}
            for p in profiles.profiles.values()],
        "members": {k: sorted(v) for k, v in sorted(profiles.members.items())},
    }
    path = _cache_path(profiles.store_key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, json.dumps(data))
    except OSError:
        pass
