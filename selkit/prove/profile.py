"""What the base policy grants a *new* type for the attributes it carries.

A type the base policy has never seen cannot be named by any base rule or attribute expression,
so everything the base gives it is a function of the attributes its module assigns. A
:class:`Profile` records that function for one attribute set: every attribute the type ends up
in (the linker's derived ``base_typeattr_N`` included) and every allow rule that reaches it.
Profiles are measured by linking a probe module (one type per attribute set) into a copy of
the store once, and cached per store commit; the compositional prover then needs no link.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from selkit.cache import cache_root

SELF = "<self>"
PROBE_PREFIX = "selkit_probe_"
PROFILE_FORMAT = "profile-1"


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
    """The base policy's grants to a new type with ``attributes``."""

    attributes: tuple[str, ...]
    memberships: frozenset[str]
    rules: tuple[ProfileRule, ...]


@dataclass
class ProfileSet:
    """Profiles of one store, plus base members of every attribute a profile rule targets."""

    store_key: str
    profiles: dict[tuple[str, ...], Profile]
    members: dict[str, frozenset[str]]

    def expand(self, name: str) -> frozenset[str]:
        """Base members of an attribute (a type stands for itself)."""
        return self.members.get(name, frozenset({name}))


def store_key(store_root: str, store: str = "default") -> str:
    """Identity of a store's current state (its commit number and policy file)."""
    active = Path(store_root, "var/lib/selinux", store, "active")
    parts = [PROFILE_FORMAT, os.path.abspath(str(active))]
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
                  store: str = "default", progress=None) -> ProfileSet:
    """Profiles for every attribute set, from the cache or by linking one probe module."""
    key = store_key(store_root, store)
    cached = _read_cache(key)
    missing = {s for s in attribute_sets if s not in cached.profiles}
    if missing:
        measured = measure(missing | set(cached.profiles), store_root, store, progress)
        measured.store_key = key
        _write_cache(measured)
        return measured
    return cached


def measure(attribute_sets: set[tuple[str, ...]], store_root: str = "/",
            store: str = "default", progress=None) -> ProfileSet:
    """Link a probe type per attribute set into a store copy and read what reaches each."""
    import setools  # noqa: PLC0415

    from selkit.base import load_policy  # noqa: PLC0415
    from selkit.toolchain import link_files  # noqa: PLC0415

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
        policy = load_policy(link_files(probe_cil, (), str(Path(tmp, "policy")),
                                        source_root=store_root, store=store))
        profiles, members = {}, {}
        for probe, attrs in probes.items():
            ptype = policy.lookup_type(probe)
            memberships = frozenset(str(a) for a in ptype.attributes())
            rules = []
            query = setools.TERuleQuery(policy, source=probe, ruletype=["allow"])
            for rule in query.results():
                source, target = str(rule.source), str(rule.target)
                if source == probe:
                    source = SELF
                if target == probe:
                    target = SELF
                elif target.startswith(PROBE_PREFIX):
                    continue  # another probe: not part of the base
                try:
                    cond = str(rule.conditional)
                except Exception:  # noqa: BLE001 - setools raises RuleNotConditional
                    cond = None
                rules.append(ProfileRule(source, target, str(rule.tclass),
                                         tuple(sorted(rule.perms)), cond, _statement(rule)))
                if target != SELF and target not in members:
                    members[target] = frozenset(
                        str(t) for t in rule.target.expand() if not str(t).startswith(
                            PROBE_PREFIX))
            profiles[attrs] = Profile(attrs, memberships, tuple(sorted(
                rules, key=lambda r: (r.source, r.target, r.tclass, r.perms, r.conditional or ""))))
    return ProfileSet("", profiles, members)


def _statement(rule) -> str:
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
        profiles[attrs] = Profile(attrs, frozenset(item["memberships"]), rules)
    members = {k: frozenset(v) for k, v in data.get("members", {}).items()}
    return ProfileSet(key, profiles, members)


def _write_cache(profiles: ProfileSet) -> None:
    data = {
        "format": PROFILE_FORMAT,
        "profiles": [
            {"attributes": list(p.attributes), "memberships": sorted(p.memberships),
             "rules": [[r.source, r.target, r.tclass, list(r.perms), r.conditional, r.statement]
                       for r in p.rules]}
            for p in profiles.profiles.values()],
        "members": {k: sorted(v) for k, v in sorted(profiles.members.items())},
    }
    path = _cache_path(profiles.store_key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)
    except OSError:
        pass
