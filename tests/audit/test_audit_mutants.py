"""The audit of the prove mutation suite: each mutant (tests/prove/test_prove_mutations.py, one
renamed copy of hts per kind of mutation, all linked together) against the same copies
unmutated. The changes of every phase equal SETools' PolicyDifference restricted to the phase
domains, and each mutation shows up where it was made."""

from __future__ import annotations

import pytest
import setools

from selkit.analysis.conditions import rule_condition
from selkit.audit.changes import audit_changes
from selkit.audit.sides import Side, SideKind, spec_subjects


@pytest.fixture(scope="module")
def audited(mutants, linked):
    specs = [spec for spec, *_ in mutants.values()]
    built = [mutant for _, mutant, *_ in mutants.values()]
    old_policy, old_path = linked(*specs)
    _, _, new_policy, new_path = next(iter(mutants.values()))
    old = Side("originals", SideKind.SPEC, str(old_path), tuple(specs),
               subjects=spec_subjects(specs))
    new = Side("mutants", SideKind.SPEC, str(new_path), tuple(built),
               subjects=spec_subjects(built))
    return old_policy, new_policy, audit_changes(old, new, old_policy, new_policy)


def _policydifference(old, new, domains: set[str]) -> set[tuple]:
    diff = setools.PolicyDifference(old, new)
    out = set()

    def add(change, rule, perms):
        for source in (str(t) for t in rule.source.expand()):
            if source in domains:
                out.update((source, change, str(t), str(rule.tclass), p, rule_condition(rule))
                           for t in rule.target.expand() for p in perms)

    for rule in diff.added_allows:
        add("added", rule, rule.perms)
    for rule in diff.removed_allows:
        add("removed", rule, rule.perms)
    for mod in diff.modified_allows:
        add("added", mod.rule, mod.added_perms)
        add("removed", mod.rule, mod.removed_perms)
    return out


def test_the_changes_equal_policydifference_for_every_mutant(audited):
    old, new, changes = audited
    domains = {d for s in changes.subjects for d in (s.old_domain, s.new_domain) if d}
    ours = {(c.domain, "added" if c.added else "removed", c.grant.target, c.grant.tclass,
             c.grant.perm, c.grant.conditional) for s in changes.subjects for c in s.changes
            if not c.inbound}
    assert any(fact[5] for fact in ours)   # the attribute mutants drag conditional rules in
    assert ours == _policydifference(old, new, domains)


@pytest.mark.parametrize("mutation, category", [
    ("capability-in-steady", "capabilities"),
    ("file-write", "file_write"),
    ("raw-socket", "raw_sockets"),
    ("packet-socket", "raw_sockets"),
    ("setcurrent-in-steady", "transition"),
    ("dyntransition-back-to-startup", "transition"),
    ("exec-and-entrypoint", "exec"),
    ("name-connect-to-any-port", "name_connect"),
])
def test_each_mutation_is_an_added_change_in_its_category(audited, mutants, mutation, category):
    _, _, changes = audited
    spec = mutants[mutation][0]
    steady = f"{spec.daemon or spec.name}/steady"
    (subject,) = [s for s in changes.subjects if s.subject == steady]
    found = [c for c in subject.changes if c.added and category in c.categories]
    assert found, [(c.grant.text(), c.categories) for c in subject.changes]
    assert all(c.at for c in found if not c.inbound and c.rule.startswith(
        f"allow {subject.new_domain} ")), "a rule the spec wrote names its line"


def test_the_removed_typebounds_is_a_bounds_change(audited, mutants):
    _, _, changes = audited
    spec = mutants["typebounds-removed"][0]
    startup, steady = (p.domain for p in spec.phases)
    assert (startup, steady, False) in changes.bounds
