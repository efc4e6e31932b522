"""The forbid groups are derived for every class and permission of the base, with no holes.

* every class:permission of the real base is placed (a group, a named exemption or a
  category), and the exemptions are exactly the named ones;
* regression tests for the holes a reviewer found in the old hand list (chr_file writes,
  cap_userns, netlink classes, relabel to the phase's own type);
* docs/forbid-groups.md is what :func:`coverage_markdown` writes now.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from selkit.diagnostics import DiagnosticError
from selkit.dsl.loader import load
from selkit.facts.syscalls import load_table
from selkit.ir import forbid_groups as fg
from selkit.ir import passes, vocab
from selkit.ir.kb import KnowledgeBase
from selkit.ir.lower import lower
from test_passes import TWO_PHASES

DOC = Path(__file__).resolve().parents[2] / "docs" / "forbid-groups.md"


def _members(group: str, classes) -> set[tuple[str, str]]:
    return {(item.tclass, perm) for item in fg.group_items(group, classes)
            for perm in (item.perms or classes[item.tclass])}


def test_every_class_and_permission_is_placed(kb):
    rows = fg.placements(kb.classes)
    assert {(p.tclass, p.perm) for p in rows} == {
        (c, p) for c, perms in kb.classes.items() for p in perms}
    for p in rows:
        assert p.groups or p.exemptions or p.category in fg.CATEGORIES, p


def test_exemptions_are_exactly_the_named_ones(kb):
    """A permission the group rule selects is left out only by a target-less exemption; one
    the rule does not select is in no group."""
    assert [ex.name for ex in fg.EXEMPTIONS] == [
        "library-mapping", "textrel-libraries", "unix-connect", "own-proc", "selinuxfs",
        "data-sinks", "own-terminal", "tun-packets"]
    for group in fg.GROUP_NAMES:
        rule = {(c, p) for c, ps in fg._rule(group, kb.classes).items() for p in ps}
        left_out = rule - _members(group, kb.classes)
        named = {(c, p) for ex in fg.EXEMPTIONS if ex.group == group and not ex.targets
                 for c in ex.classes for p in ex.perms if p in kb.classes.get(c, ())}
        assert left_out == named, group
        for item in fg.group_items(group, kb.classes):
            spared = set(item.exempt_targets) | ({fg.SELF} if item.except_self else set())
            expected = {t for ex in fg.EXEMPTIONS if ex.group == group and ex.targets
                        and all(ex.covers(item.tclass, p) for p in item.perms or ())
                        for t in ex.targets}
            assert spared == expected, (group, item)


def test_class_the_map_lacks_is_still_placed():
    classes = {"file": frozenset({"write", "frobnicate"}), "weird_socket": frozenset({"create"}),
               "netlink_new_socket": frozenset({"create", "send"})}
    places = {(p.tclass, p.perm): p for p in fg.placements(classes)}
    assert places[("file", "frobnicate")].groups == ("write",)  # storage: unmapped counts as w
    assert places[("weird_socket", "create")].category == "communication"
    assert _members("netlink", classes) == {("netlink_new_socket", "create"),
                                            ("netlink_new_socket", "send")}


def test_public_groups_are_the_derivation_for_the_syscall_tables_policy(kb):
    assert list(vocab.FORBID_GROUPS) == list(fg.GROUP_NAMES)
    table = load_table()
    for items in vocab.FORBID_GROUPS.values():
        for tclass, perms in items:
            for perm in perms or kb.classes[tclass]:
                assert (tclass, perm) in table.permissions


def test_capabilities_cover_user_namespaces(kb):
    members = _members("capabilities", kb.classes)
    assert ("cap_userns", "sys_admin") in members and ("cap2_userns", "mac_admin") in members
    assert ("capability2", "bpf") in members


def test_netlink_covers_every_netlink_class_and_use(kb):
    members = _members("netlink", kb.classes)
    for tclass in ("netlink_audit_socket", "netlink_xfrm_socket", "netlink_selinux_socket",
                   "netlink_tcpdiag_socket", "netlink_crypto_socket"):
        assert (tclass, "create") in members and (tclass, "write") in members
    assert len({c for c, _ in members}) == sum("netlink" in c for c in kb.classes) >= 17


def test_exec_covers_code_from_memory(kb):
    members = _members("exec", kb.classes)
    assert {("process", "execmem"), ("file", "execmod"), ("file", "execute_no_trans"),
            ("process", "transition")} <= members
    assert ("file", "execute") not in members


def compile_text(text: str, tmp_path, kb, name: str):
    """Lower and check ``text`` against the real base (SEL302 comes from passes)."""
    path = tmp_path / name
    path.write_text(text)
    (module,) = lower(load(str(path)), kb)
    return passes.run(module, kb)


def _forbidding(body: str, group: str = "write") -> str:
    text = TWO_PHASES.replace("    switch", f"    forbid steady {{ {group} }}\n    switch")
    text = text.replace("    phase startup {", "    phase startup {\n" + body, 1)
    return text.replace("    phase steady {", "    phase steady {\n" + body, 1)


@pytest.mark.parametrize(("body", "group"), [
    ("        allow tty_device_t:chr_file { write }\n", "write"),
    ("        allow kmsg_device_t:chr_file { append }\n", "write"),
    ("        allow fixed_disk_device_t:blk_file { write }\n", "write"),
    ("        allow etc_t:file { relabelfrom }\n", "write"),
    ("        allow self:cap_userns { sys_admin }\n", "capabilities"),
    ("        allow self:netlink_audit_socket { create }\n", "netlink"),
    ("        allow self:netlink_xfrm_socket { read write }\n", "netlink"),
    ("        allow self:process { execmem }\n", "exec"),
    ("        allow self:xdp_socket { create }\n", "raw_sockets"),
])
def test_former_holes_are_sel302(tmp_path, kb, body, group):
    with pytest.raises(DiagnosticError) as err:
        compile_text(_forbidding(body, group), tmp_path, kb, "h.sel")
    assert "SEL302" in {d.code for d in err.value.diagnostics}


def test_relabel_to_the_own_type_then_write_is_sel302(tmp_path, kb):
    """The own-domain exemption spares write, never the relabel that would make a file's
    type the phase's own (the hole: relabelfrom X, relabelto self, write self)."""
    body = ("        allow etc_t:file { relabelfrom }\n"
            "        allow steady:file { relabelto write }\n")
    with pytest.raises(DiagnosticError) as err:
        compile_text(_forbidding(body), tmp_path, kb, "r.sel")
    messages = [d.message for d in err.value.diagnostics if d.code == "SEL302"]
    assert any("relabelfrom" in m for m in messages)
    assert any("relabelto" in m for m in messages)
    assert not any("{ write }" in m for m in messages)  # writing /proc/self stays allowed


def test_exempt_targets_stay_allowed(tmp_path, kb):
    body = ("        allow null_device_t:chr_file { write }\n"
            "        allow devlog_t:sock_file { write }\n")
    compile_text(_forbidding(body), tmp_path, kb, "ok.sel")


def test_pattern_exemptions_are_per_target():
    kb = KnowledgeBase(types=frozenset(), attributes=frozenset(),
                       classes={"chr_file": frozenset({"write", "ioctl"})})
    items = fg.group_items("write", kb.classes)
    assert [(i.tclass, i.perms) for i in items] == [("chr_file", ("write",))]
    assert "null_device_t" in items[0].exempt_targets
    assert "tty_device_t" not in items[0].exempt_targets


def test_coverage_document_is_current(kb, update_golden):
    text = fg.coverage_markdown(kb.classes, kb.source)
    if update_golden:
        DOC.write_text(text, encoding="utf-8")
    assert DOC.read_text(encoding="utf-8") == text, \
        "docs/forbid-groups.md is stale; run pytest tests/ir/test_forbid_groups.py --update-golden"
