"""The runtime baseline and the verb forms' own lists (selkit/facts/runtime.py): every name is
an x86_64 system call, every entry says why, every listed form exists, families are unambiguous."""

from __future__ import annotations

from selkit.facts.numbers import numbers
from selkit.facts.runtime import APPLIES, baseline, verb_syscalls
from selkit.facts.syscalls import load_table
from selkit.ir import vocab
from selkit.ir.syscall_stmts import families


def test_every_baseline_call_is_x86_64_and_says_why():
    table = numbers("x86_64").by_name
    for group in baseline().values():
        assert group.phases in APPLIES and group.reason
        assert group.syscalls and all(n in table and why for n, why in group.syscalls.items())


def test_every_listed_form_is_a_verb_form_with_x86_64_calls():
    table = numbers("x86_64").by_name
    forms = {f.text() for f in vocab.FORMS}
    for form, listed in verb_syscalls().items():
        assert form in forms and listed.reason
        assert listed.syscalls and len(set(listed.syscalls)) == len(listed.syscalls)
        assert all(n in table for n in listed.syscalls)


def test_families_are_the_tables_and_the_baselines_and_do_not_clash():
    table = numbers("x86_64").by_name
    assert not set(baseline()) & set(load_table().families)  # '@name' is unambiguous
    assert set(families()) == set(baseline()) | set(load_table().families)
    assert all(n in table for names in families().values() for n in names)


def test_the_switch_group_holds_what_a_switch_calls():
    switch = baseline()["switch"]
    assert switch.phases == "switches" and set(switch.syscalls) == {"write", "prctl", "seccomp"}
