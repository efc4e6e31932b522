"""Every verb expansion names classes, permissions and types the real base policy has."""

from __future__ import annotations

import pytest

from selkit.ir import vocab

SYMBOLIC = {"self", "$opener", "$starter", "$port", "$arg", "$domain"}


@pytest.mark.parametrize("form", vocab.FORMS, ids=[f.text() for f in vocab.FORMS])
def test_form_is_valid_against_debian_refpolicy(form, kb):
    for tpl in form.rules:
        assert tpl.tclass in kb.classes, tpl
        unknown = set(tpl.perms) - kb.classes[tpl.tclass]
        assert not unknown, (tpl, unknown)
        for name in (tpl.source, tpl.target):
            assert name in SYMBOLIC or kb.is_type_or_attribute(name), name
    for tt in form.transitions:
        assert tt.tclass in kb.classes
    if form.uses:
        assert any(f.opens == form.uses for f in vocab.FORMS), form.uses
    if "<port>" in form.pattern:
        assert form.protocol in ("tcp", "udp")


def test_patterns_are_unambiguous():
    seen = {}
    for form in vocab.FORMS:
        key = tuple("<>" if p.startswith("<") else p for p in form.pattern)
        assert key not in seen, (form.text(), seen.get(key))
        seen[key] = form.text()


def test_forbid_groups_name_real_classes(kb):
    for name, items in vocab.FORBID_GROUPS.items():
        for cls, perms in items:
            assert cls in kb.classes, (name, cls)
            assert perms is None or set(perms) <= kb.classes[cls], (name, cls, perms)
