"""selkit.scaffold.package: a package's file list turned into the daemon's file declarations,
on hand-made lists (what ``dpkg -L`` prints) and a hand-made base."""

from __future__ import annotations

import pytest

from selkit.dsl import ast
from selkit.dsl.parser import parse
from selkit.scaffold.package import (
    ETC_LEFT_OUT,
    BaseLabels,
    Kind,
    Names,
    leaves,
    package_files,
    parse_tmpfiles,
)

#: What dpkg -L lists for an OpenVPN-like package (parents included, as dpkg prints them).
OPENVPN = """/.
/etc
/etc/default
/etc/default/openvpn
/etc/init.d
/etc/init.d/openvpn
/etc/network
/etc/network/if-up.d
/etc/network/if-up.d/openvpn
/etc/openvpn
/etc/openvpn/client
/etc/openvpn/server
/etc/openvpn/update-resolv-conf
/lib/systemd/system/openvpn@.service
/usr
/usr/lib/x86_64-linux-gnu/openvpn/plugins/openvpn-plugin-down-root.so
/usr/sbin/openvpn
/usr/share/doc/openvpn/README.Debian.gz
/usr/share/man/man8/openvpn.8.gz
/usr/share/openvpn/verify-cn
/var/log/openvpn
""".splitlines()


def _files(paths, *, names=("openvpn",), kinds=None, contexts=None, module="openvpn",
           taken=(), extra=None, package="openvpn"):
    kinds = {"/var/log/openvpn": Kind.DIR} if kinds is None else kinds
    return package_files(package, paths, kinds, names,
                         Names("openvpn", lambda t: t in taken), BaseLabels(contexts or {}),
                         module, extra)


def _statements(result):
    return [d.statement() for d in result.declared]


def test_the_config_dir_named_after_the_package_and_the_log_dir_are_declared():
    result = _files(OPENVPN)
    assert _statements(result) == ['file conf "/etc/openvpn(/.*)?"',
                                   'file log "/var/log/openvpn(/.*)?"']
    assert [(d.use(), d.origin) for d in result.declared] == [
        ("read conf", "openvpn: 4 paths"), ("append log", "openvpn: 1 path")]


def test_what_the_daemon_does_not_touch_at_run_time_is_counted_and_the_etc_files_named():
    result = _files(OPENVPN)
    assert result.left_out == {
        "configuration of other programs": 3, "data under /usr": 1, "documentation": 2,
        "init and service files": 1, "libraries and plugins": 1, "programs": 1}
    assert result.etc_left_out == ["/etc/default/openvpn", "/etc/init.d/openvpn",
                                   "/etc/network/if-up.d/openvpn"]


def test_an_etc_entry_named_after_the_daemon_counts_as_its_own_up_to_the_first_dot():
    paths = ["/etc/dnsmasq.d", "/etc/dnsmasq.d/README", "/etc/dnsmasq.conf",
             "/etc/dnsmasq-other.conf"]
    result = _files(paths, names=("dnsmasq-base", "dnsmasq"))
    assert _statements(result) == ['file conf "/etc/dnsmasq\\\\.conf" file',
                                   'file conf_dnsmasq_d "/etc/dnsmasq\\\\.d(/.*)?"']
    assert result.etc_left_out == ["/etc/dnsmasq-other.conf"]


def test_run_and_var_run_are_one_root_and_a_pid_file_gets_pidfile():
    result = _files(["/var/run/openvpn.pid", "/run/openvpn"], kinds={"/run/openvpn": Kind.DIR})
    assert [(d.statement(), d.use()) for d in result.declared] == [
        ('file runtime "/run/openvpn(/.*)?"', "manage runtime"),
        ('file pid "/run/openvpn\\\\.pid" file', "pidfile pid")]


def test_an_entry_is_a_directory_when_something_is_below_it_or_it_is_one_on_disk():
    assert _statements(_files(["/var/lib/openvpn"], kinds={"/var/lib/openvpn": Kind.DIR})) == [
        'file state "/var/lib/openvpn(/.*)?"']
    assert _statements(_files(["/var/lib/openvpn"], kinds={})) == [
        'file state "/var/lib/openvpn" file']
    assert _statements(_files(["/var/lib/openvpn", "/var/lib/openvpn/x"])) == [
        'file state "/var/lib/openvpn(/.*)?"']
    assert _statements(_files(["/etc/openvpn.conf"],
                              kinds={"/etc/openvpn.conf": Kind.SYMLINK})) == [
        'file conf "/etc/openvpn\\\\.conf" symlink']


def test_tmpfiles_d_paths_are_declared_though_dpkg_does_not_list_them():
    result = _files(["/usr/lib/tmpfiles.d/openvpn.conf"],
                    extra=parse_tmpfiles("d /run/openvpn 0755 root root -\n"))
    assert _statements(result) == ['file runtime "/run/openvpn(/.*)?"']
    assert result.declared[0].origin == "openvpn: tmpfiles.d"
    assert result.left_out == {"init and service files": 1}


def test_parse_tmpfiles_keeps_directories_and_files_under_run_time_roots():
    text = """# comment
d /run/vpnd 0755 root root -
D! /var/run/vpnd2 0700 - - -
f /var/lib/vpnd/state 0600 root root -
L /run/link - - - - /x
d /tmp/vpnd 0755 root root -
d %t/vpnd 0755 root root -
d /run/vpnd-* 0755 root root -
"""
    assert parse_tmpfiles(text) == {"/run/vpnd": Kind.DIR, "/run/vpnd2": Kind.DIR,
                                    "/var/lib/vpnd/state": Kind.FILE}


def test_a_file_name_whose_type_the_base_has_gets_the_entry_in_its_name():
    result = _files(OPENVPN, taken={"openvpn_conf_t", "openvpn_log_t", "openvpn_log_openvpn_t"})
    assert _statements(result) == ['file conf_openvpn "/etc/openvpn(/.*)?"',
                                   'file log_2 "/var/log/openvpn(/.*)?"']


def test_names_never_take_the_phases_the_exec_or_reserved_names():
    names = Names("d", lambda t: False, reserved=("jail",))
    assert [names.allocate(b, "/x/e") for b in ("steady", "jail", "startup_exec", "conf")] == [
        "steady_e", "jail_e", "startup_exec_e", "conf"]


def test_the_same_regex_labelled_by_another_module_is_not_declared():
    contexts = {("/etc/openvpn(/.*)?", "any"): ("openvpn_etc_t", ("openvpn",))}
    result = _files(OPENVPN, contexts=contexts, module="vpn_local")
    assert _statements(result) == ['file log "/var/log/openvpn(/.*)?"']
    (found,) = result.labelled
    assert (found.path, found.base_type, found.owners, found.exact, found.verb) == (
        "/etc/openvpn", "openvpn_etc_t", ("openvpn",), True, "read")


def test_the_module_that_replaces_the_labelling_one_declares_it():
    contexts = {("/etc/openvpn(/.*)?", "any"): ("openvpn_etc_t", ("openvpn",))}
    result = _files(OPENVPN, contexts=contexts, module="openvpn")
    assert _statements(result)[0] == 'file conf "/etc/openvpn(/.*)?"'
    assert result.labelled == []


def test_a_specific_type_of_another_regex_keeps_the_path_a_generic_one_does_not():
    contexts = {("/var/log/openvpn.*", "any"): ("openvpn_var_log_t", ("openvpn",)),
                ("/var/log(/.*)?", "any"): ("var_log_t", ("base",)),
                ("/etc/.*", "any"): ("etc_t", ("base",))}
    result = _files(OPENVPN, contexts=contexts, module="vpn_local")
    assert _statements(result) == ['file conf "/etc/openvpn(/.*)?"']
    (found,) = result.labelled
    assert (found.path, found.regex, found.base_type, found.exact, found.verb) == (
        "/var/log/openvpn", "/var/log/openvpn.*", "openvpn_var_log_t", False, "append")


def test_a_path_a_file_context_cannot_carry_is_named_not_declared():
    result = _files(["/var/lib/open vpn/x", "/var/lib/openvpn/y"])
    assert _statements(result) == ['file state "/var/lib/openvpn(/.*)?"']
    assert result.unlabelable == ["/var/lib/open vpn"]


def test_leaves_are_the_files_and_empty_directories():
    assert leaves(["/.", "/etc", "/etc/x", "/etc/x/y", "/var/lib/e", "/usr/"]) == [
        "/etc/x/y", "/usr", "/var/lib/e"]


@pytest.mark.parametrize("paths", [OPENVPN, ["/etc/openvpn.conf", "/var/run/openvpn.pid",
                                             "/var/lib/openvpn+x@y/z"]])
def test_every_declaration_is_a_file_statement_the_parser_reads_back(paths):
    result = _files(paths)
    body = "\n".join(f"    {s}" for s in _statements(result))
    daemon = parse(f"daemon openvpn {{\n{body}\n}}\n").items[0]
    files = [i for i in daemon.items if isinstance(i, ast.FileDecl)]
    assert [(f.name.text, f.regex.value) for f in files] == [
        (d.name, d.regex) for d in result.declared]


def test_no_package_files_no_declarations():
    result = _files([])
    assert (result.declared, result.left_out, result.etc_left_out) == ([], {}, [])
    assert ETC_LEFT_OUT == "configuration of other programs"
