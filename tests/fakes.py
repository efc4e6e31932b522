"""A tiny hand-made knowledge base for unit tests of pure logic (no SETools, no policy)."""

from __future__ import annotations

from selkit.ir.kb import KnowledgeBase, PortRange

_SOCKET = frozenset(["create", "bind", "connect", "listen", "accept", "getattr", "getopt",
                     "setopt", "read", "write", "shutdown", "ioctl", "append", "setattr",
                     "name_bind", "name_connect", "node_bind", "sendto", "map", "nlmsg_read",
                     "nlmsg_write"])
_FILE = frozenset(["getattr", "open", "read", "write", "append", "create", "unlink", "rename",
                   "setattr", "lock", "ioctl", "map", "execute", "execute_no_trans", "entrypoint",
                   "link", "search", "add_name", "remove_name"])


def small_kb() -> KnowledgeBase:
    """Names enough for the vocabulary and the tests, with refpolicy's attribute names."""
    classes = {c: _SOCKET for c in ("udp_socket", "tcp_socket", "rawip_socket", "packet_socket",
                                    "icmp_socket", "unix_dgram_socket", "unix_stream_socket",
                                    "netlink_route_socket", "tun_socket")}
    classes.update({c: _FILE for c in ("file", "dir", "lnk_file", "chr_file", "sock_file",
                                       "fifo_file", "blk_file")})
    classes["capability"] = frozenset(["net_admin", "net_raw", "net_bind_service", "setuid",
                                       "setgid", "sys_chroot", "setpcap", "sys_module"])
    classes["capability2"] = frozenset({"mac_admin"})
    classes["process"] = frozenset(["fork", "transition", "dyntransition", "setcurrent", "sigchld",
                                    "ptrace", "getcap", "setcap"])
    classes["fd"] = frozenset({"use"})
    classes["filesystem"] = frozenset({"getattr"})
    classes["security"] = frozenset({"check_context"})
    types = frozenset(["init_t", "kernel_t", "tun_tap_device_t", "node_t", "dns_port_t",
                       "ssh_port_t", "http_port_t", "unreserved_port_t", "reserved_port_t",
                       "port_t", "etc_t", "net_conf_t", "devlog_t", "syslogd_t",
                       "syslogd_runtime_t", "init_runtime_t", "var_run_t", "random_device_t",
                       "urandom_device_t", "user_devpts_t", "user_tty_device_t", "shell_exec_t",
                       "ifconfig_exec_t", "ifconfig_t", "shadow_t", "security_t",
                       "selinux_config_t", "sysctl_kernel_t"])
    attributes = frozenset(["domain", "set_curr_context", "file_type", "exec_type", "entry_type",
                            "non_auth_file_type", "non_security_file_type", "port_type"])
    portcons = (
        PortRange("udp", 53, 53, "dns_port_t"), PortRange("tcp", 53, 53, "dns_port_t"),
        PortRange("tcp", 22, 22, "ssh_port_t"), PortRange("tcp", 80, 80, "http_port_t"),
        PortRange("tcp", 8080, 8080, "http_port_t"),
        PortRange("udp", 1, 511, "reserved_port_t"), PortRange("tcp", 1, 511, "reserved_port_t"),
        PortRange("udp", 1024, 65535, "unreserved_port_t"),
        PortRange("tcp", 1024, 65535, "unreserved_port_t"),
    )
    members = {"port_type": frozenset({"dns_port_t", "ssh_port_t", "http_port_t",
                                       "unreserved_port_t", "reserved_port_t", "port_t"}),
               "domain": frozenset({"init_t", "kernel_t", "syslogd_t", "ifconfig_t"})}
    return KnowledgeBase(types=types, attributes=attributes, classes=classes,
                         portcons=portcons, attribute_members=members, source="<small kb>",
                         file_contexts={("/usr/sbin/taken", "file"): ("shadow_t", ("other",))})
