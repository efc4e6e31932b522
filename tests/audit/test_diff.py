"""selkit.audit.diff: the grants two linked policies give some domains differ exactly where
SETools' PolicyDifference (the library behind sediff) says their allow rules differ."""

from __future__ import annotations

import setools

from selkit.analysis.conditions import rule_condition
from selkit.audit.diff import changed_domains, domain_diffs
from selkit.base import load_policy
from tiny import compile_cil

#: Changes to the tiny base, one of each shape: a new domain that gets rules through the
#: attribute domain and directly, a permission added to an existing domain, a rule under a
#: boolean (both branches), a domain that joins an attribute, a rule that goes away (the
#: base's kernel_t unlabeled_t read is not in the new policy: see REMOVED).
CHANGE = """
(type d_t)
(roletype system_r d_t)
(typeattributeset domain (d_t))
(allow d_t shadow_t (file (read)))
(allow init_t etc_t (file (write)))
(boolean d_can_write false)
(booleanif d_can_write
    (true (allow d_t etc_t (file (write))))
    (false (allow d_t etc_t (file (lock)))))
(typeattributeset nsswitch_domain (kernel_t))
(allow d_t init_t (process (signal)))
"""

REMOVED = "(allow kernel_t unlabeled_t (file (read)))"


def _pair(tmp_path):
    from tiny import BASE_CIL

    old = load_policy(str(compile_cil(tmp_path / "old.33")))
    changed = tmp_path / "base-changed.cil"
    changed.write_text(BASE_CIL.read_text().replace(REMOVED, "") + CHANGE)
    new = _compile_alone(changed, tmp_path / "new.33")
    return old, new


def _compile_alone(cil, dest):
    import subprocess

    from tiny import SECILC

    result = subprocess.run([SECILC, "-M", "true", "-N", "-f", "/dev/null", "-o", str(dest),
                             str(cil)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return load_policy(str(dest))


def _sediff(old, new, domains) -> tuple[set, set]:
    """(added, removed) (source, target, class, perm, condition) of the expanded allow rules
    PolicyDifference reports, for sources in ``domains``."""
    diff = setools.PolicyDifference(old, new)
    added, removed = set(), set()

    cond = rule_condition
    for rule in diff.added_allows:
        if str(rule.source) in domains:
            added |= {(str(rule.source), str(rule.target), str(rule.tclass), p, cond(rule))
                      for p in rule.perms}
    for rule in diff.removed_allows:
        if str(rule.source) in domains:
            removed |= {(str(rule.source), str(rule.target), str(rule.tclass), p, cond(rule))
                        for p in rule.perms}
    for mod in diff.modified_allows:
        rule = mod.rule
        if str(rule.source) in domains:
            key = (str(rule.source), str(rule.target), str(rule.tclass))
            added |= {(*key, p, cond(rule)) for p in mod.added_perms}
            removed |= {(*key, p, cond(rule)) for p in mod.removed_perms}
    return added, removed


def _ours(diffs) -> tuple[set, set]:
    added, removed = set(), set()
    for diff in diffs:
        for change in diff.changes:
            if change.inbound:
                continue
            g = change.grant
            (added if change.added else removed).add(
                (diff.domain, g.target, g.tclass, g.perm, g.conditional))
    return added, removed


def test_the_changes_equal_policydifference_for_every_domain(tmp_path):
    old, new = _pair(tmp_path)
    domains = sorted({str(t) for p in (old, new) for a in p.typeattributes()
                      if str(a) == "domain" for t in a.expand()})
    assert domains == ["d_t", "init_t", "kernel_t"]
    ours = _ours(domain_diffs(old, new, domains))
    assert ours == _sediff(old, new, set(domains))
    added, removed = ours
    assert ("d_t", "etc_t", "file", "read", None) in added          # through attribute domain
    assert ("d_t", "etc_t", "file", "write", "d_can_write") in added
    assert ("d_t", "etc_t", "file", "lock", "!d_can_write") in added  # the false branch
    assert ("init_t", "etc_t", "file", "write", None) in added
    assert ("kernel_t", "shadow_t", "file", "read", None) in added  # joined nsswitch_domain
    assert removed == {("kernel_t", "unlabeled_t", "file", "read", None)}


def test_a_new_domain_is_new_on_one_side_and_its_inbound_changes_are_listed(tmp_path):
    old, new = _pair(tmp_path)
    (d,) = domain_diffs(old, new, ["d_t"])
    assert (d.in_old, d.in_new) == (False, True)
    assert d.removed == ()
    inbound = {(c.grant.target, c.grant.tclass, c.grant.perm) for c in d.changes if c.inbound}
    assert ("init_t", "process", "sigchld") in inbound   # init_t domain:process sigchld
    (init,) = domain_diffs(old, new, ["init_t"])
    assert ("d_t", "process", "signal") in {
        (c.grant.target, c.grant.tclass, c.grant.perm) for c in init.changes if c.inbound}


def test_each_change_names_the_rules_that_give_it(tmp_path):
    old, new = _pair(tmp_path)
    (d,) = domain_diffs(old, new, ["d_t"])
    read = next(c for c in d.changes if (c.grant.target, c.grant.perm) == ("etc_t", "read"))
    assert [r.source for r in read.reaches] == ["domain"]
    assert "allow domain etc_t:file" in read.reaches[0].statement


def test_changed_domains_covers_every_domain_with_a_change(tmp_path):
    old, new = _pair(tmp_path)
    everything = ["d_t", "init_t", "kernel_t"]
    with_changes = [d.domain for d in domain_diffs(old, new, everything) if d.changes]
    assert set(with_changes) <= set(changed_domains(old, new))
    same = domain_diffs(old, old, everything)
    assert all(not d.changes for d in same)
    assert changed_domains(old, old) == []


def test_a_domain_whose_only_change_is_inbound_is_a_changed_domain(tmp_path):
    """init_t may now signal kernel_t: kernel_t's own rules are the same, who may act on it
    is not."""
    from tiny import BASE_CIL

    old = load_policy(str(compile_cil(tmp_path / "old.33")))
    changed = tmp_path / "signal.cil"
    changed.write_text(BASE_CIL.read_text() + "(allow init_t kernel_t (process (signal)))\n")
    new = _compile_alone(changed, tmp_path / "new.33")
    assert changed_domains(old, new) == ["init_t", "kernel_t"]
    (kernel,) = domain_diffs(old, new, ["kernel_t"])
    assert [(c.inbound, c.added, c.grant.text()) for c in kernel.changes] == [
        (True, True, "init_t:process signal")]
