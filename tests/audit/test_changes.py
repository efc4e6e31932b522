"""selkit.audit.changes on tiny policies compiled with secilc: each change with its categories,
subjects matched by domain (renamed domains followed), whole-policy facts (typebounds,
booleans, ports, file contexts) and what --fail-on crosses."""

from __future__ import annotations

import subprocess

import pytest

from selkit.audit.categories import Category, Severity
from selkit.audit.changes import audit_changes, pairs
from selkit.audit.sides import Side, SideKind, Subject
from selkit.base import load_policy
from tiny import BASE_CIL, SECILC

#: A daemon domain of the tiny base, as OLD has it.
OLD = """
(type d_t)
(roletype system_r d_t)
(typeattributeset domain (d_t))
(allow d_t etc_t (file (read write)))
(allow d_t self (capability (net_bind_service)))
(type child_t)
(roletype system_r child_t)
(typeattributeset domain (child_t))
(typebounds d_t child_t)
(boolean d_relax false)
(booleanif d_relax (true (allow d_t shadow_t (file (read)))))
"""

#: NEW: d_t may no longer write etc_t, gains net_raw and a boolean-guarded write, init_t may
#: ptrace it, the typebounds is gone, a port is labelled, a boolean flips.
NEW = """
(type d_t)
(roletype system_r d_t)
(typeattributeset domain (d_t))
(allow d_t etc_t (file (read)))
(allow d_t self (capability (net_bind_service net_raw)))
(type child_t)
(roletype system_r child_t)
(typeattributeset domain (child_t))
(boolean d_relax true)
(booleanif d_relax (true (allow d_t shadow_t (file (read)))))
(boolean d_more false)
(booleanif d_more (true (allow d_t shadow_t (file (write)))))
(allow init_t d_t (process (ptrace)))
(allow init_t d_t (file (read open)))
(portcon tcp 4444 (system_u object_r port_t low_high))
"""


def _policy(tmp_path, name: str, extra: str):
    cil = tmp_path / f"{name}.cil"
    cil.write_text(extra)
    dest = tmp_path / f"{name}.33"
    result = subprocess.run([SECILC, "-M", "true", "-N", "-f", "/dev/null", "-o", str(dest),
                             str(BASE_CIL), str(cil)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return str(dest)


D_T = (Subject("d_t"),)


def _sides(tmp_path, old_extra=OLD, new_extra=NEW, subjects=D_T):
    old_path, new_path = _policy(tmp_path, "old", old_extra), _policy(tmp_path, "new", new_extra)
    old = Side("old", SideKind.MODULE, old_path, cil={"d": old_extra}, subjects=subjects)
    new = Side("new", SideKind.MODULE, new_path, cil={"d": new_extra}, subjects=subjects)
    return old, new, load_policy(old_path), load_policy(new_path)


def _audit(tmp_path, **kwargs):
    old, new, old_policy, new_policy = _sides(tmp_path, **kwargs)
    return audit_changes(old, new, old_policy, new_policy)


def _facts(changes) -> set[tuple]:
    return {(c.added, c.inbound, c.grant.target, c.grant.tclass, c.grant.perm,
             c.grant.conditional) for s in changes.subjects for c in s.changes}


def test_each_change_of_the_domain_with_its_direction_and_condition(tmp_path):
    changes = _audit(tmp_path)
    assert [s.subject for s in changes.subjects] == ["d_t"]
    facts = _facts(changes)
    assert (False, False, "etc_t", "file", "write", None) in facts
    assert (True, False, "d_t", "capability", "net_raw", None) in facts
    assert (True, False, "shadow_t", "file", "write", "d_more") in facts
    assert (True, True, "init_t", "process", "ptrace", None) in facts   # who may act on d_t
    assert (True, True, "init_t", "file", "read", None) in facts    # read its /proc files
    # shadow_t read is under d_relax on both sides: no change, whatever the default says
    assert not any(f[2:5] == ("shadow_t", "file", "read") for f in facts)


def test_categories_and_severity_of_each_change(tmp_path):
    changes = _audit(tmp_path)
    by_perm = {(c.grant.tclass, c.grant.perm): c for s in changes.subjects for c in s.changes}
    raw = by_perm["capability", "net_raw"]
    assert Category.CAPABILITIES in raw.categories and raw.severity is Severity.HIGH
    assert by_perm["file", "write"].categories == (Category.FILE_WRITE,)
    assert by_perm["process", "ptrace"].categories == (Category.PTRACE,)
    assert [c.grant.perm for c in changes.crossing([Category.PTRACE])] == ["ptrace"]
    # a removal never crosses: --fail-on is about what a change adds
    assert all(c.added for c in changes.crossing(list(Category)))
    assert changes.crossing([Category.MODULE_LOAD]) == []


def test_held_pairs_per_category_on_each_side(tmp_path):
    (subject,) = _audit(tmp_path).subjects
    assert subject.held[Category.CAPABILITIES] == (1, 2)     # net_bind_service (+ net_raw)
    assert subject.held[Category.FILE_WRITE] == (1, 1)       # file:write on etc_t, on shadow_t


def test_typebounds_booleans_and_ports(tmp_path):
    changes = _audit(tmp_path)
    assert changes.bounds == (("d_t", "child_t", False),)
    toggles = {b.name: b for b in changes.booleans}
    assert (toggles["d_relax"].old, toggles["d_relax"].new) == (False, True)
    assert (toggles["d_more"].old, toggles["d_more"].new, toggles["d_more"].guards) == \
        (None, False, True)
    assert [(p.protocol, p.low, p.type, added) for p, added in changes.ports] == \
        [("tcp", 4444, "port_t", True)]


def test_file_contexts_of_module_sides_and_none_for_a_kernel_policy(tmp_path):
    fc_old = OLD + '(filecon "/usr/sbin/d" file (system_u object_r etc_t low_high))\n'
    fc_new = NEW + '(filecon "/usr/sbin/d" file (system_u object_r shadow_t low_high))\n'
    changes = _audit(tmp_path, old_extra=fc_old, new_extra=fc_new)
    assert changes.file_contexts == (("/usr/sbin/d", "file", "etc_t", False),
                                     ("/usr/sbin/d", "file", "shadow_t", True))
    old, new, old_policy, new_policy = _sides(tmp_path)
    as_policy = Side("new", SideKind.POLICY, new.policy_path)
    assert audit_changes(old, as_policy, old_policy, new_policy).file_contexts is None


def test_identical_sides_have_no_change(tmp_path):
    changes = _audit(tmp_path, new_extra=OLD)
    assert _facts(changes) == set()
    assert changes.bounds == () and changes.ports == ()
    assert [b.name for b in changes.booleans] == []


def test_a_renamed_domain_is_compared_under_its_new_name(tmp_path):
    renamed = NEW.replace("d_t", "e_t")
    old, new, old_policy, new_policy = _sides(tmp_path, new_extra=renamed)
    old = Side("old", SideKind.SPEC, old.policy_path, subjects=(Subject("d_t", "d", "steady"),))
    new = Side("new", SideKind.SPEC, new.policy_path, subjects=(Subject("e_t", "d", "steady"),))
    assert pairs(old, new, old_policy, new_policy) == [("d/steady", "d_t", "e_t")]
    facts = _facts(audit_changes(old, new, old_policy, new_policy))
    # self-grants follow the rename: net_bind_service on itself is no change, net_raw is
    assert (True, False, "e_t", "capability", "net_raw", None) in facts
    assert not any(f[4] == "net_bind_service" for f in facts)
    assert (False, False, "etc_t", "file", "write", None) in facts
    assert not any(f[2:5] == ("etc_t", "file", "read") for f in facts)


def test_two_kernel_policies_audit_the_domains_whose_rules_changed(tmp_path):
    old, new, old_policy, new_policy = _sides(tmp_path, subjects=())
    old, new = (Side(s.label, SideKind.POLICY, s.policy_path) for s in (old, new))
    labels = [p[0] for p in pairs(old, new, old_policy, new_policy)]
    assert "d_t" in labels and "init_t" in labels     # init_t gained ptrace on d_t
    changes = audit_changes(old, new, old_policy, new_policy)
    assert all(s.held == {} for s in changes.subjects)  # counts only when sides name domains


@pytest.mark.parametrize("subjects_old, subjects_new", [
    ((Subject("d_t", "d", "steady"),), (Subject("d_t"),)),
    ((Subject("d_t"),), (Subject("d_t", "d", "steady"),)),
])
def test_a_phase_keeps_its_name_against_a_module_side(tmp_path, subjects_old, subjects_new):
    old, new, old_policy, new_policy = _sides(tmp_path)
    old = Side("old", SideKind.SPEC, old.policy_path, subjects=subjects_old)
    new = Side("new", SideKind.MODULE, new.policy_path, subjects=subjects_new)
    assert pairs(old, new, old_policy, new_policy) == [("d/steady", "d_t", "d_t")]
