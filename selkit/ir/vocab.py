"""The verb vocabulary: what each ``.sel`` statement expands to, as data.

A :class:`VerbForm` is a pattern of words and parameters plus rule templates. Templates name
their targets symbolically so the same table drives expansion, the language reference
(``selkit doc verbs``) and the tests that check every class and permission against the real
base policy.

Symbolic targets:

``self``
    the phase's own domain;
``$opener``
    the domain of the earlier phase that opened the resource this form uses (an fd carries the
    label of the domain that opened it: every later use is checked as ``fd use`` on it);
``$starter``
    the domain that starts the daemon (``exec ... from``, init_t by default);
``$port``
    each port type the ``<port>`` argument resolves to;
``$arg``
    the type of the ``<file>``/``<dir>``/``<exec>`` argument;
``$domain``
    the ``<domain>`` argument.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from selkit.dsl.ast import ArgKind
from selkit.ir import forbid_groups
from selkit.ir.nodes import SELF


@dataclass(frozen=True)
class RuleTemplate:
    """``allow SOURCE TARGET:CLASS { PERMS }`` with symbolic source and target."""

    target: str
    tclass: str
    perms: tuple[str, ...]
    source: str = SELF
    when: str | None = None  # "privileged_port": only if a resolved port is below 1024


@dataclass(frozen=True)
class TransitionTemplate:
    """``type_transition SOURCE TARGET:CLASS DEFAULT`` with symbolic names."""

    target: str
    tclass: str
    default: str
    source: str = SELF


@dataclass(frozen=True)
class VerbForm:
    """One statement shape, e.g. ``udp bind port <port>``, and what it expands to."""

    pattern: tuple[str, ...]
    summary: str
    rules: tuple[RuleTemplate, ...]
    transitions: tuple[TransitionTemplate, ...] = ()
    opens: str | None = None      # resource created in this phase (tun, udp, ...)
    uses: str | None = None       # resource created by an earlier phase
    entry_only: bool = False      # only meaningful in the phase entered by exec
    protocol: str | None = None   # for <port>: tcp or udp

    @property
    def verb(self) -> str:
        """The first word."""
        return self.pattern[0]

    @property
    def params(self) -> tuple[str, ...]:
        """The ``<param>`` slots, in order."""
        return tuple(p for p in self.pattern if p.startswith("<"))

    def text(self) -> str:
        """The pattern as written in the reference."""
        return " ".join(self.pattern)


def _r(target: str, tclass: str, perms: str, *, source: str = SELF,
       when: str | None = None) -> RuleTemplate:
    return RuleTemplate(target, tclass, tuple(sorted(perms.split())), source, when)


_NET_BIND = _r(SELF, "capability", "net_bind_service", when="privileged_port")
_READ_FILES = (
    _r("$arg", "dir", "getattr search open read lock ioctl"),
    _r("$arg", "file", "getattr open read lock ioctl"),
    _r("$arg", "lnk_file", "getattr read"),
)

FORMS: tuple[VerbForm, ...] = (
    # --- tun ---------------------------------------------------------------------------------
    VerbForm(("tun",), "open /dev/net/tun and create the interface (TUNSETIFF)", (
        _r(SELF, "capability", "net_admin"),
        _r("tun_tap_device_t", "chr_file", "getattr open read write ioctl"),
        _r(SELF, "tun_socket", "create"),
    ), opens="tun"),
    VerbForm(("tun", "io"), "read and write packets on the tun fd opened earlier", (
        _r("tun_tap_device_t", "chr_file", "read write"),
    ), uses="tun"),
    VerbForm(("ifconfig",), "set interface addresses, MTU and flags by ioctl (SIOCSIF*)", (
        _r(SELF, "capability", "net_admin"),
        _r(SELF, "udp_socket", "create ioctl"),
    )),
    # --- udp ---------------------------------------------------------------------------------
    VerbForm(("udp", "bind", "port", "<port>"), "create a UDP socket and bind it to a port", (
        _r(SELF, "udp_socket", "create bind getattr getopt setopt read write"),
        _r("$port", "udp_socket", "name_bind"),
        _r("node_t", "udp_socket", "node_bind"),
        _NET_BIND,
    ), opens="udp", protocol="udp"),
    VerbForm(("udp", "bind"), "create a UDP socket bound to an ephemeral port (bind to port 0)", (
        _r(SELF, "udp_socket", "create bind getattr getopt setopt read write"),
        _r("node_t", "udp_socket", "node_bind"),
    ), opens="udp"),
    VerbForm(("udp", "connect"), "create a UDP socket and connect it (client side)", (
        _r(SELF, "udp_socket", "create connect getattr getopt setopt read write"),
    ), opens="udp"),
    VerbForm(("udp", "io"), "send and receive on the UDP socket opened earlier", (
        _r("$opener", "udp_socket", "getattr read write"),
    ), uses="udp"),
    # --- tcp ---------------------------------------------------------------------------------
    VerbForm(("tcp", "listen", "port", "<port>"), "create a listening TCP socket on a port", (
        _r(SELF, "tcp_socket",
           "create bind listen accept getattr getopt setopt read write shutdown"),
        _r("$port", "tcp_socket", "name_bind"),
        _r("node_t", "tcp_socket", "node_bind"),
        _NET_BIND,
    ), opens="tcp", protocol="tcp"),
    VerbForm(("tcp", "accept"),
             "accept connections on the listener opened earlier (accepted sockets keep its label)",
             (_r("$opener", "tcp_socket", "accept getattr getopt setopt read write shutdown"),),
             uses="tcp"),
    VerbForm(("tcp", "connect", "port", "<port>"), "open new TCP connections to a port type", (
        _r(SELF, "tcp_socket", "create connect getattr getopt setopt read write shutdown"),
        _r("$port", "tcp_socket", "name_connect"),
    ), opens="tcp", protocol="tcp"),
    VerbForm(("tcp", "io"), "read and write TCP sockets opened earlier", (
        _r("$opener", "tcp_socket", "getattr getopt setopt read write shutdown"),
    ), uses="tcp"),
    # --- icmp, packet capture ----------------------------------------------------------------
    VerbForm(("icmp", "raw"), "create a raw ICMP socket (SOCK_RAW, IPPROTO_ICMP)", (
        _r(SELF, "capability", "net_raw"),
        _r(SELF, "rawip_socket", "create bind getattr getopt setopt read write"),
        _r("node_t", "rawip_socket", "node_bind"),
    ), opens="icmp"),
    VerbForm(("icmp", "raw", "io"), "send and receive on the raw ICMP socket opened earlier", (
        _r("$opener", "rawip_socket", "getattr read write"),
    ), uses="icmp"),
    VerbForm(("icmp", "ping"), "create an unprivileged ICMP datagram socket (ping socket)", (
        _r(SELF, "icmp_socket", "create getattr getopt setopt read write"),
    ), opens="ping"),
    VerbForm(("icmp", "ping", "io"), "use the ping socket opened earlier", (
        _r("$opener", "icmp_socket", "getattr read write"),
    ), uses="ping"),
    VerbForm(("packet", "capture"), "open a packet socket for capture (libpcap)", (
        _r(SELF, "capability", "net_raw"),
        _r(SELF, "packet_socket", "create bind getattr getopt setopt ioctl map read"),
        _r(SELF, "udp_socket", "create ioctl"),
    ), opens="packet"),
    VerbForm(("packet", "capture", "io"), "read captured packets from the socket opened earlier", (
        _r("$opener", "packet_socket", "getattr read"),
    ), uses="packet"),
    # --- netlink -----------------------------------------------------------------------------
    VerbForm(("netlink", "route"), "configure links, addresses and routes over rtnetlink", (
        _r(SELF, "capability", "net_admin"),
        _r(SELF, "netlink_route_socket",
           "create bind getattr getopt setopt read write nlmsg_read nlmsg_write"),
    ), opens="netlink"),
    VerbForm(("netlink", "route", "read"), "dump links, addresses and routes over rtnetlink", (
        _r(SELF, "netlink_route_socket", "create bind getattr getopt setopt read write nlmsg_read"),
    ), opens="netlink"),
    VerbForm(("netlink", "route", "io"), "keep using the rtnetlink socket opened earlier", (
        _r("$opener", "netlink_route_socket", "getattr read write nlmsg_read nlmsg_write"),
        # the kernel checks CAP_NET_ADMIN of the sender on every route-changing message
        _r(SELF, "capability", "net_admin"),
    ), uses="netlink"),
    # --- process and identity ----------------------------------------------------------------
    VerbForm(("chroot",), "chroot() into a jail", (
        _r(SELF, "capability", "sys_chroot"),
    )),
    VerbForm(("chroot", "<dir>"), "chroot() into a jail directory of the given type", (
        _r(SELF, "capability", "sys_chroot"),
        _r("$arg", "dir", "getattr search"),
    )),
    VerbForm(("setid",), "drop to an unprivileged user (setgroups, setgid, setuid)", (
        _r(SELF, "capability", "setuid setgid"),
    )),
    VerbForm(("daemonize",), "fork into the background (daemon())", (
        _r(SELF, "process", "fork"),
    )),
    VerbForm(("threads",), "start threads (clone is checked as process fork)", (
        _r(SELF, "process", "fork"),
    )),
    VerbForm(("run", "<exec>"), "execute a program in the phase's own domain", (
        _r("$arg", "file", "getattr open read execute execute_no_trans map"),
        _r(SELF, "process", "fork"),
    )),
    VerbForm(("run", "<exec>", "as", "<domain>"), "execute a program with a domain transition", (
        _r("$arg", "file", "getattr open read execute map"),
        _r("$domain", "process", "transition"),
        _r(SELF, "process", "fork"),
        _r(SELF, "fd", "use", source="$domain"),
        _r(SELF, "process", "sigchld", source="$domain"),
    ), transitions=(TransitionTemplate("$arg", "process", "$domain"),)),
    # --- logging, terminals, devices ---------------------------------------------------------
    VerbForm(("syslog",), "connect to /dev/log and send messages (systemd-journald or syslogd)", (
        _r(SELF, "unix_dgram_socket", "create connect getattr write"),
        _r("devlog_t", "sock_file", "getattr write"),
        _r("syslogd_runtime_t", "dir", "getattr search"),
        _r("init_runtime_t", "dir", "getattr search"),
        _r("syslogd_t", "unix_dgram_socket", "sendto"),
        _r("kernel_t", "unix_dgram_socket", "sendto"),
    ), opens="syslog"),
    VerbForm(("syslog", "io"), "keep logging over the /dev/log connection made earlier", (
        _r("$opener", "unix_dgram_socket", "write"),
    ), uses="syslog"),
    VerbForm(("stdio",), "use stdin/stdout/stderr inherited from the starting domain", (
        _r("$starter", "fd", "use"),
        _r("$starter", "unix_stream_socket", "getattr ioctl read write append"),
        _r("$starter", "fifo_file", "getattr ioctl read write append"),
    ), entry_only=True),
    VerbForm(("tty",), "prompt on the controlling terminal (password prompts)", (
        _r("user_devpts_t", "chr_file", "getattr ioctl read write"),
        _r("user_tty_device_t", "chr_file", "getattr ioctl read write"),
    )),
    VerbForm(("sysctl", "kernel"),
             "read kernel limits under /proc/sys/kernel (glibc initgroups() reads ngroups_max, "
             "libcap-ng cap_last_cap)", (
        _r("sysctl_kernel_t", "dir", "search"),
        _r("sysctl_kernel_t", "file", "getattr open read"),
    )),
    VerbForm(("random",), "read /dev/random and /dev/urandom", (
        _r("random_device_t", "chr_file", "getattr ioctl open read"),
        _r("urandom_device_t", "chr_file", "getattr ioctl open read"),
    )),
    # --- name service ------------------------------------------------------------------------
    VerbForm(("nss",), "look up users, groups and hosts in local files (getpwnam, /etc/hosts)", (
        _r("etc_t", "file", "getattr ioctl lock open read"),
        _r("net_conf_t", "file", "getattr ioctl lock open read"),
    )),
    VerbForm(("dns", "resolve"), "resolve host names through the configured DNS servers", (
        _r("etc_t", "file", "getattr ioctl lock open read"),
        _r("net_conf_t", "file", "getattr ioctl lock open read"),
        _r(SELF, "udp_socket", "create connect getattr getopt setopt read write"),
        _r(SELF, "tcp_socket", "create connect getattr getopt setopt read write shutdown"),
        _r("dns_port_t", "tcp_socket", "name_connect"),
        _r(SELF, "netlink_route_socket", "create bind getattr getopt setopt read write nlmsg_read"),
    )),
    # --- files of the daemon's own or of the base policy -------------------------------------
    VerbForm(("read", "<file>"), "read files (and list directories) of a type", _READ_FILES),
    VerbForm(("append", "<file>"), "append to existing files of a type (logs)", (
        _r("$arg", "file", "getattr open append"),
    )),
    VerbForm(("manage", "<file>"), "create, write and remove files in directories of a type", (
        _r("$arg", "dir", "getattr search open read lock ioctl write add_name remove_name"),
        _r("$arg", "file",
           "create getattr open read write append unlink rename setattr lock ioctl"),
    )),
    VerbForm(("pidfile", "<file>"), "create a pid file directly in /run with its own type", (
        _r("var_run_t", "dir", "getattr search write add_name remove_name"),
        _r("$arg", "file", "create getattr open write unlink setattr"),
    ), transitions=(TransitionTemplate("var_run_t", "file", "$arg"),)),
)

#: Named permission groups usable in ``forbid`` blocks: name -> ((class, perms|None), ...),
#: derived by :mod:`selkit.ir.forbid_groups` from SETools' permission map and the syscall table
#: (here for the syscall table's policy; lowering derives them for the targeted policy).
FORBID_GROUPS: Mapping[str, tuple[tuple[str, tuple[str, ...] | None], ...]] = \
    forbid_groups.DerivedGroups()

#: Groups with exemptions on some targets (the phase's own /proc/PID files, selinuxfs, ...:
#: forbid_groups.EXEMPTIONS names each).
SELF_EXEMPT_GROUPS = frozenset(ex.group for ex in forbid_groups.EXEMPTIONS if ex.targets)

VERBS: frozenset[str] = frozenset(f.verb for f in FORMS)


def forms_of(verb: str) -> tuple[VerbForm, ...]:
    """Every form whose first word is ``verb``."""
    return tuple(f for f in FORMS if f.verb == verb)


def match(words: list[tuple[ArgKind, str]]) -> tuple[VerbForm, list[str]] | None:
    """The form matching a statement's ``(kind, text)`` words, with its parameter values.

    Literal pattern words must match bare words exactly; a ``<param>`` takes any one argument.
    """
    for form in FORMS:
        if len(form.pattern) != len(words):
            continue
        params: list[str] = []
        for pat, (kind, text) in zip(form.pattern, words, strict=True):
            if pat.startswith("<"):
                params.append(text)
            elif kind is not ArgKind.WORD or text != pat:
                break
        else:
            return form, params
    return None
