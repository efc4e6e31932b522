"""Entries for the socket classes."""

from common import *  # noqa: F401,F403
from filelike import e, never

INET = {"tcp_socket", "udp_socket", "rawip_socket", "icmp_socket", "sctp_socket", "dccp_socket"}
NAME_CONNECT = {"tcp_socket", "sctp_socket", "dccp_socket"}
#: Classes whose protocol has no listen()/accept() (the hook runs, then the call fails).
CONNECTIONLESS = {"udp_socket", "rawip_socket", "icmp_socket", "packet_socket",
                  "unix_dgram_socket", "key_socket"}
#: Classes whose protocol implements mmap() on the socket fd in 6.1.
MMAPPABLE = {"tcp_socket", "packet_socket", "xdp_socket"}

WHAT = {
    "tcp_socket": "TCP socket (AF_INET/AF_INET6 SOCK_STREAM; also MPTCP)",
    "udp_socket": "UDP socket (AF_INET/AF_INET6 SOCK_DGRAM); also the socket used for "
                  "interface ioctls (SIOCSIF*)",
    "rawip_socket": "raw IP socket (SOCK_RAW, or an inet socket of another protocol)",
    "icmp_socket": "ICMP datagram ('ping') socket (SOCK_DGRAM, IPPROTO_ICMP/ICMPV6; needs the "
                   "extended_socket_class policy capability, which Debian 12 sets)",
    "sctp_socket": "SCTP socket", "dccp_socket": "DCCP socket",
    "unix_stream_socket": "AF_UNIX SOCK_STREAM/SOCK_SEQPACKET socket",
    "unix_dgram_socket": "AF_UNIX SOCK_DGRAM socket",
    "packet_socket": "AF_PACKET socket (packet capture, libpcap)",
    "netlink_route_socket": "NETLINK_ROUTE socket (rtnetlink: links, addresses, routes)",
    "tun_socket": "tun/tap queue (the private socket behind a /dev/net/tun fd)",
    "socket": "socket of a family SELinux has no specific class for",
}


def what(cls):
    if cls in WHAT:
        return WHAT[cls]
    if cls.startswith("netlink_"):
        return f"netlink socket of class {cls}"
    return f"{cls.removesuffix('_socket')} socket"


SOCKET_NEVER = {
    "recvfrom": "Not checked in this configuration. For tcp/udp/rawip sockets it is checked "
                "(selinux_netlbl_sock_rcv_skb) only in the compat network mode, i.e. when the "
                "policy lacks the network_peer_controls capability AND NetLabel is configured; "
                "the Debian 12 policy sets network_peer_controls, so incoming packets are "
                "checked as peer:recv instead (when labelled networking is on).",
    "relabelfrom": "Ordinary sockets cannot be relabelled: sockfs refuses writes of "
                   "security.* extended attributes (sockfs_security_xattr_set).",
    "relabelto": "Ordinary sockets cannot be relabelled: sockfs refuses writes of "
                 "security.* extended attributes (sockfs_security_xattr_set).",
}


def socket_entry(cls: str, perm: str):
    o = SOCK_OVERRIDES.get((cls, perm))
    if o is not None:
        return o
    obj = f"the {what(cls)}"
    L = SOCK_LABEL
    if perm == "create":
        sc = ["socket", "socketpair"] if cls.startswith("unix_") else ["socket"]
        return e(sc, ["selinux_socket_create"],
                 f"the new socket's label (the creating domain, or a type_transition / "
                 f"setsockcreatecon label); class: {what(cls)}",
                 "socket() (socketpair() for unix sockets, checked for both ends). Sockets the kernel creates for "
                 "itself are not checked; sockets returned by accept() inherit the listener's "
                 "label without a create check.")
    if perm == "read":
        return e(RECV + ["splice"], ["selinux_socket_recvmsg", "selinux_file_permission"], obj,
                 "Receiving: recv/recvfrom/recvmsg/recvmmsg and read()/readv() on the socket fd "
                 "(read() additionally goes through selinux_file_permission, which also checks "
                 "fd:use when another domain created the socket). " + L)
    if perm == "write":
        return e(SEND + ["splice", "sendfile"], ["selinux_socket_sendmsg", "selinux_file_permission"],
                 obj,
                 "Sending: send/sendto/sendmsg/sendmmsg and write()/writev() on the socket fd "
                 "(write() additionally goes through selinux_file_permission, including fd:use "
                 "when another domain created the socket; sendto/sendmsg check only the socket). "
                 + L)
    if perm == "ioctl":
        return e(["ioctl"], ["selinux_file_ioctl", "ioctl_has_perm"], obj,
                 "Any ioctl on the socket fd (e.g. SIOCGIFINDEX, SIOCSIFADDR/SIOCSIFFLAGS/"
                 "SIOCSIFMTU for interface configuration, which additionally need capability "
                 "net_admin), except FIONREAD (getattr) and FIONBIO/FIOASYNC (fd:use only). "
                 "allowxperm rules can restrict the command numbers. " + L)
    if perm == "getattr":
        return e(["getsockname", "getpeername", "fstat", "ioctl"],
                 ["selinux_socket_getsockname", "selinux_socket_getpeername",
                  "selinux_inode_getattr", "selinux_file_ioctl"], obj,
                 "getsockname, getpeername, fstat on the socket fd and ioctl(FIONREAD). " + L)
    if perm == "setattr":
        return e(["fchmod", "fchown"], ["selinux_inode_setattr"], obj,
                 "fchmod/fchown on the socket fd (the sockfs inode). Rare. " + L)
    if perm == "lock":
        return e(["flock", "fcntl"], ["selinux_file_lock", "selinux_file_fcntl"], obj,
                 "flock/fcntl record locks on the socket fd. Rare. " + L)
    if perm == "append":
        return e(["write", "writev"], ["selinux_file_permission"], obj,
                 "write() on a socket fd that has O_APPEND set (fcntl F_SETFL): "
                 "selinux_file_permission maps it to the append bit. Rare. " + L)
    if perm in ("listen", "accept") and (cls in CONNECTIONLESS or cls.startswith("netlink_")):
        return e(["listen"] if perm == "listen" else ["accept", "accept4"],
                 ["selinux_socket_listen" if perm == "listen" else "selinux_socket_accept"], obj,
                 f"The hook runs before the protocol's {perm}(), which this connectionless "
                 "protocol does not implement (EOPNOTSUPP), so granting it enables nothing.",
                 "inert")
    if perm == "connect" and cls == "packet_socket":
        return e(["connect"], ["selinux_socket_connect"], obj,
                 "AF_PACKET sockets do not implement connect() (EOPNOTSUPP after the check).",
                 "inert")
    if perm == "map" and cls not in MMAPPABLE:
        return e(["mmap"], ["selinux_mmap_file"], obj,
                 "mmap() of the socket fd is checked, then fails (this protocol has no mmap; "
                 "only AF_PACKET rings, TCP zero-copy receive and AF_XDP map socket memory).",
                 "inert")
    if perm == "map":
        return e(["mmap"], ["selinux_mmap_file", "file_map_prot_check"], obj,
                 "mmap() of the socket fd (AF_PACKET rings after PACKET_RX_RING/TX_RING, TCP "
                 "zero-copy receive, AF_XDP umem rings); also checks read/write on the socket. "
                 + L)
    if perm == "bind":
        return e(["bind"], ["selinux_socket_bind"], obj,
                 "Explicit bind(). An implicit bind (autobind on connect/sendto) is not checked. "
                 + L)
    if perm == "connect":
        return e(["connect"], ["selinux_socket_connect", "selinux_socket_connect_helper"], obj,
                 "connect() (connect(AF_UNSPEC) to disconnect included). " + L)
    if perm == "listen":
        return e(["listen"], ["selinux_socket_listen"], obj, "listen(). " + L)
    if perm == "accept":
        return e(["accept", "accept4"], ["selinux_socket_accept"], obj,
                 "accept/accept4 on the listening socket; the accepted socket gets the "
                 "listener's label and class. " + L)
    if perm == "getopt":
        return e(["getsockopt"], ["selinux_socket_getsockopt"], obj,
                 "getsockopt() at any level (SO_PEERCRED, SO_PEERSEC, SO_ERROR, ...). " + L)
    if perm == "setopt":
        return e(["setsockopt"], ["selinux_socket_setsockopt"], obj,
                 "setsockopt() at any level (SO_REUSEADDR, SO_RCVBUF, IP_* options, "
                 "PACKET_ADD_MEMBERSHIP, ...; some options also need a capability). " + L)
    if perm == "shutdown":
        return e(["shutdown"], ["selinux_socket_shutdown"], obj,
                 "shutdown(). close() is not checked. " + L)
    if perm in SOCKET_NEVER:
        return never(SOCKET_NEVER[perm])
    if perm == "sendto":
        return never("Only unix_dgram_socket:sendto is checked (selinux_socket_unix_may_send, "
                     "on the receiving socket); this class never is.")
    if perm == "name_bind":
        if cls in INET:
            return e(["bind"], ["selinux_socket_bind"],
                     "the port type of the bound port (portcon, e.g. dns_port_t; "
                     "unreserved_port_t / reserved_port_t otherwise)",
                     "bind() to a port below ip_unprivileged_port_start (1024) or outside "
                     "net.ipv4.ip_local_port_range; binding port 0 or an ephemeral port is not "
                     "checked. The source is the socket's label, not the process's. Ports below "
                     "1024 also need capability net_bind_service.")
        return never("name_bind is only checked for AF_INET/AF_INET6 sockets "
                     "(selinux_socket_bind); this class never binds to a port.")
    if perm == "node_bind":
        return e(["bind"], ["selinux_socket_bind"],
                 "the node type of the bound address (nodecon; node_t / inaddr_any_node_t / "
                 "lo_node_t on Debian)",
                 "Every explicit bind() of an inet socket, to any address including "
                 "INADDR_ANY. The source is the socket's label.")
    if perm == "name_connect":
        return e(["connect", "sendto", "sendmsg"], ["selinux_socket_connect_helper"],
                 "the port type of the destination port (portcon)",
                 "connect() of a TCP/SCTP/DCCP socket (sendto/sendmsg with MSG_FASTOPEN for "
                 "TCP). UDP connect needs no name_connect. The source is the socket's label.")
    if perm in ("nlmsg_read", "nlmsg_write", "nlmsg_relay", "nlmsg_readpriv", "nlmsg_tty_audit"):
        return netlink_msg(cls, perm)
    raise KeyError((cls, perm))


def netlink_msg(cls, perm):
    hooks = ["selinux_netlink_send", "selinux_nlmsg_lookup"]
    sc = ["sendto", "sendmsg", "write", "writev"]
    obj = f"the {what(cls)} (its label = creating domain)"
    if cls == "netlink_route_socket":
        if perm == "nlmsg_read":
            return e(sc, hooks, obj,
                     "Sending an RTM_GET* request (dump links, addresses, routes, neighbours, "
                     "rules, qdiscs, ...), e.g. getifaddrs() and if_nametoindex() in glibc. " + SOCK_LABEL)
        return e(sc, hooks, obj,
                 "Sending RTM_NEW*/RTM_DEL*/RTM_SET* messages (add addresses/routes, set links "
                 "up, ...). rtnetlink additionally requires CAP_NET_ADMIN (netlink_net_capable) "
                 "for every non-GET message, checked BOTH against the credentials that opened the "
                 "socket and against the sending task, so a later phase that keeps changing "
                 "routes through an inherited socket still needs capability net_admin itself. "
                 + SOCK_LABEL)
    if cls == "netlink_audit_socket":
        d = {"nlmsg_read": "AUDIT_GET, AUDIT_GET_FEATURE, AUDIT_TTY_GET, AUDIT_SIGNAL_INFO ...",
             "nlmsg_write": "AUDIT_SET, AUDIT_ADD_RULE, AUDIT_DEL_RULE, AUDIT_SET_FEATURE ...",
             "nlmsg_relay": "user-space audit records (AUDIT_USER*, AUDIT_FIRST_USER_MSG.."
                            "AUDIT_LAST_USER_MSG2), e.g. PAM and login programs",
             "nlmsg_readpriv": "AUDIT_LIST and AUDIT_LIST_RULES",
             "nlmsg_tty_audit": "AUDIT_TTY_SET"}[perm]
        return e(sc, hooks, obj, f"Sending {d} on an audit netlink socket. " + SOCK_LABEL)
    if cls in ("netlink_xfrm_socket", "netlink_tcpdiag_socket"):
        d = ("query (GET/dump) messages" if perm == "nlmsg_read"
             else "modifying messages (new/delete/update SAs and policies)"
             if cls == "netlink_xfrm_socket" else "SOCK_DESTROY requests")
        if cls == "netlink_tcpdiag_socket" and perm == "nlmsg_read":
            d = "sock_diag dump requests (ss, netstat)"
        return e(sc, hooks, obj, f"Sending {d}. " + SOCK_LABEL)
    return never("The kernel maps netlink messages to permissions only for route, sock_diag "
                 "(tcpdiag), xfrm and audit sockets (selinux_nlmsg_lookup); for this class "
                 "the permission is never checked.")


SOCK_OVERRIDES = {
    ("unix_stream_socket", "connectto"): e(
        ["connect"], ["selinux_socket_unix_stream_connect"],
        "the listening unix stream socket (labelled with the server's domain)",
        "connect() of an AF_UNIX stream/seqpacket socket to a listening socket (e.g. a "
        "daemon's control socket, systemd-journald's stdout socket, nscd). Checked with the "
        "connecting socket's label as source. The path, if any, also needs sock_file:write."),
    ("unix_dgram_socket", "sendto"): e(
        ["sendto", "sendmsg", "sendmmsg", "write", "writev", "connect"],
        ["selinux_socket_unix_may_send"],
        "the receiving unix datagram socket (e.g. syslogd_t / kernel_t for /dev/log)",
        "Every datagram sent to another AF_UNIX datagram socket, and connect() of a datagram "
        "socket; checked with the sending socket's label as source. This is how syslog() "
        "reaches journald/rsyslog (devlog_t sock_file:write plus this)."),
    ("unix_dgram_socket", "name_bind"): never("name_bind is only checked for inet sockets."),
    ("tun_socket", "create"): e(
        ["ioctl"], ["selinux_tun_dev_create"], "the calling domain itself (self:tun_socket)",
        "ioctl(TUNSETIFF) that creates a NEW tun/tap interface on a /dev/net/tun fd (also "
        "needs capability net_admin). Not socket(): the object is the device's private queue "
        "socket, labelled with the creating domain."),
    ("tun_socket", "attach_queue"): e(
        ["ioctl"], ["selinux_tun_dev_attach_queue"], "the tun device's label",
        "ioctl(TUNSETQUEUE, IFF_ATTACH_QUEUE) re-attaching a multi-queue tun queue."),
    ("tun_socket", "relabelfrom"): e(
        ["ioctl"], ["selinux_tun_dev_open"], "the existing tun device's current label",
        "ioctl(TUNSETIFF) that attaches to an EXISTING (persistent) tun/tap interface: the "
        "device is relabelled to the caller (relabelfrom on its old label, relabelto on self)."),
    ("tun_socket", "relabelto"): e(
        ["ioctl"], ["selinux_tun_dev_open"], "the calling domain (self)",
        "ioctl(TUNSETIFF) attaching to an existing persistent tun/tap interface (see "
        "relabelfrom)."),
    ("sctp_socket", "association"): e(
        ["connect", "accept", "accept4", "sendmsg", "recvmsg"],
        ["selinux_sctp_process_new_assoc", "selinux_sctp_assoc_request"],
        "the peer's label (from labelled networking, else unlabeled_t)",
        "A new SCTP association (incoming INIT or the first outgoing association); checked "
        "with the socket's label as source."),
}
# tun_socket: the queue socket is private to the kernel; ordinary socket calls never reach it.
for _p in ("read", "write", "ioctl", "getattr", "setattr", "lock", "append", "map", "bind",
           "connect", "listen", "accept", "getopt", "setopt", "shutdown", "recvfrom", "sendto",
           "name_bind"):
    SOCK_OVERRIDES[("tun_socket", _p)] = never(
        "The tun queue socket is private to the kernel (no user fd refers to it); reads and "
        "writes of packets are checked on the /dev/net/tun fd as chr_file read/write, the "
        "TUNSETIFF ioctl as chr_file ioctl. Only tun_socket create, attach_queue, relabelfrom "
        "and relabelto are checked.")
