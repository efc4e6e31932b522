"""Categories of dangerous permissions: derived from the forbid groups over the classes at hand,
plus the explicit network_config and policy_change lists; exemptions of the groups hold."""

from __future__ import annotations

from selkit.audit.categories import (
    NETWORK_CONFIG,
    Category,
    Severity,
    category_map,
    ordered,
)

CLASSES = {
    "capability": frozenset({"net_admin", "setuid", "sys_ptrace"}),
    "cap_userns": frozenset({"net_admin"}),
    "file": frozenset({"read", "write", "execute", "execute_no_trans", "entrypoint"}),
    "chr_file": frozenset({"read", "write"}),
    "process": frozenset({"ptrace", "transition", "dyntransition", "setcurrent", "signal"}),
    "security": frozenset({"setenforce", "check_context", "load_policy"}),
    "netlink_route_socket": frozenset({"create", "nlmsg_read", "nlmsg_write"}),
    "tun_socket": frozenset({"create", "attach_queue"}),
    "rawip_socket": frozenset({"create", "name_bind"}),
    "tcp_socket": frozenset({"name_bind", "name_connect", "read"}),
    "system": frozenset({"module_load"}),
}


def _of(tclass: str, perm: str, target: str = "etc_t", domain: str = "d_t") -> set[str]:
    return {c.value for c in category_map(CLASSES).of(tclass, perm, target, domain)}


def test_every_category_has_a_severity_and_a_meaning_and_the_worst_come_first():
    assert {c.severity for c in Category} == set(Severity)
    assert all(c.meaning and "\n" not in c.meaning for c in Category)
    severities = [c.severity for c in ordered()]
    assert severities == sorted(severities, key=list(Severity).index)


def test_a_permission_may_be_in_several_categories():
    assert _of("capability", "net_admin") == {"capabilities", "network_config"}
    assert _of("rawip_socket", "name_bind") == {"name_bind"}
    assert _of("rawip_socket", "create") == {"raw_sockets"}
    assert _of("netlink_route_socket", "nlmsg_write") == {"netlink", "network_config"}
    assert _of("netlink_route_socket", "nlmsg_read") == {"netlink"}


def test_explicit_lists_are_exactly_what_they_say():
    assert _of("tun_socket", "attach_queue") == {"network_config"}
    assert _of("security", "setenforce") == _of("security", "load_policy") == {"policy_change"}
    assert _of("security", "check_context") == set()
    assert ("capability", "net_admin") in NETWORK_CONFIG
    assert _of("process", "setcurrent") == _of("process", "dyntransition") == {"transition"}
    assert _of("process", "transition") == {"exec", "transition"}
    assert _of("process", "ptrace") == {"ptrace"}
    assert _of("system", "module_load") == {"module_load"}


def test_a_permission_in_no_category_is_other():
    assert _of("process", "signal") == _of("tcp_socket", "read") == set()
    assert _of("file", "read") == set()
    assert _of("no_such_class", "write") == set()


def test_the_groups_exemptions_hold_per_target():
    assert _of("chr_file", "write", "tty_device_t") == {"file_write"}
    assert _of("chr_file", "write", "null_device_t") == set()       # data-sinks
    assert _of("chr_file", "write", "tun_tap_device_t") == set()    # tun-packets
    assert _of("file", "write", "d_t", "d_t") == set()              # own-proc
    assert _of("file", "write", "d_t", "other_t") == {"file_write"}
    assert _of("file", "execute") == set()                         # library-mapping
    assert _of("file", "execute_no_trans") == {"exec"}


def test_perms_lists_what_a_category_claims():
    cmap = category_map(CLASSES)
    assert cmap.perms(Category.NAME_CONNECT) == {("tcp_socket", "name_connect")}
    assert ("cap_userns", "net_admin") in cmap.perms(Category.CAPABILITIES)


def test_every_category_is_populated_on_the_real_policy(kb):
    cmap = category_map(kb.classes)
    for category in Category:
        assert cmap.perms(category), category
    assert ("capability", "net_admin") in cmap.perms(Category.NETWORK_CONFIG)
