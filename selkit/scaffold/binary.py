"""What the daemon's program suggests: the functions it imports (``nm -D``) and the paths it
names (its strings), mapped to the statements an author would likely write.

Suggestions only: the scaffold prints each as a comment (``# seen in the binary: chroot,
setuid -> chroot jail, in drop_privileges``) and grants none of them. An import says the
program can call a function, not that it does with these options, and the libraries it loads
call more than it imports.

Pure: the symbols and strings come in as values (:mod:`selkit.scaffold.probe` reads them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from selkit.facts.runtime import baseline

#: Where a suggestion goes in the scaffold.
STARTUP, STEADY, SWITCH = "startup", "steady", "switch"

#: The fragments of policies/include/common.sel a suggestion may already be part of.
DAEMON_START, DROP_PRIVILEGES = "daemon_start", "drop_privileges"


@dataclass(frozen=True)
class Binary:
    """What the exec file showed.

    ``form`` is ``elf`` (a dynamically linked program), ``static`` (an ELF file without
    dynamic symbols), ``script`` (``#!``; ``interpreter`` is its first line) or ``other``.
    ``symbols`` are the imported functions (version suffixes dropped), ``strings`` the
    absolute paths it names. ``note`` says why nothing was read (``nm`` missing, ...).
    """

    form: str
    symbols: frozenset[str] = frozenset()
    strings: frozenset[str] = frozenset()
    interpreter: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Hint:
    """A statement some imports or strings suggest, in a phase (or ``in_fragment``: a
    statement the scaffold already includes through that fragment)."""

    phase: str
    symbols: frozenset[str]
    statement: str
    why: str = ""
    in_fragment: str | None = None


@dataclass(frozen=True)
class Suggestion:
    """A hint that fired: what was seen, and what it suggests."""

    phase: str
    seen: tuple[str, ...]
    statement: str
    why: str = ""
    in_fragment: str | None = None

    def comment(self) -> str:
        """``seen in the binary: chroot -> chroot jail, in drop_privileges (why)``."""
        where = f", in {self.in_fragment}" if self.in_fragment else ""
        why = f" ({self.why})" if self.why else ""
        return f"seen in the binary: {', '.join(self.seen)} -> {self.statement}{where}{why}"


_SYSLOG = frozenset({"openlog", "syslog", "vsyslog", "__syslog_chk", "__vsyslog_chk"})
_SETID = frozenset({"setuid", "setgid", "setgroups", "setresuid", "setresgid", "setreuid",
                    "setregid", "initgroups"})
_EXEC = frozenset({"execv", "execve", "execvp", "execvpe", "execl", "execlp", "execle",
                   "fexecve", "system", "popen", "posix_spawn", "posix_spawnp"})
_OPENSSL = frozenset({"SSL_CTX_new", "OPENSSL_init_ssl", "OPENSSL_init_crypto", "RAND_bytes",
                      "getrandom", "getentropy"})
_DATAGRAMS = frozenset({"recvfrom", "recvmsg", "recv", "sendto", "sendmsg", "send"})
_TUN = frozenset({"/dev/net/tun"})

#: The hints, in the order the scaffold lists them.
HINTS = (
    Hint(STARTUP, frozenset({"daemon", "fork", "setsid"}), "daemonize",
         in_fragment=DAEMON_START),
    Hint(STARTUP, _SYSLOG, "syslog", in_fragment=DAEMON_START),
    Hint(STARTUP, frozenset({"getpwnam", "getpwnam_r", "getgrnam", "getgrnam_r", "getpwuid",
                             "getpwuid_r", "getgrgid", "getgrgid_r"}), "nss",
         in_fragment=DAEMON_START),
    Hint(STARTUP, frozenset({"chroot"}), "chroot jail", in_fragment=DROP_PRIVILEGES),
    Hint(STARTUP, _SETID, "setid", in_fragment=DROP_PRIVILEGES),
    Hint(STARTUP, _TUN, "tun", "opens the tun device"),
    Hint(STARTUP, frozenset({"bind"}), "udp bind port <port> | tcp listen port <port>",
         "a socket on a fixed port: a number or a port type"),
    Hint(STARTUP, frozenset({"listen", "accept", "accept4"}), "tcp listen port <port>"),
    Hint(STARTUP, frozenset({"connect"}), "tcp connect port <port> | udp connect"),
    Hint(STARTUP, frozenset({"if_nametoindex", "if_indextoname"}), "ifconfig",
         "interface lookups by ioctl"),
    Hint(STARTUP, frozenset({"getifaddrs"}), "netlink route read",
         "getifaddrs() asks rtnetlink"),
    Hint(STARTUP, frozenset({"mnl_socket_open", "nl_socket_alloc", "nl_connect", "rtnl_open"}),
         "netlink route", "links, addresses, routes over rtnetlink"),
    Hint(STARTUP, frozenset({"getaddrinfo", "gethostbyname", "gethostbyname2",
                             "gethostbyaddr", "getnameinfo", "res_query", "res_nquery",
                             "res_search"}),
         "dns resolve", "if it resolves names before the switch"),
    Hint(STARTUP, frozenset({"pcap_open_live", "pcap_create", "pcap_activate"}),
         "packet capture"),
    Hint(STARTUP, frozenset({"pthread_create"}), "threads"),
    Hint(STARTUP, frozenset({"initgroups"}), "sysctl kernel",
         "initgroups() reads /proc/sys/kernel/ngroups_max"),
    Hint(STARTUP, frozenset({"cap_set_proc", "capng_apply", "capng_change_id"}),
         "allow self:process { getcap setcap }",
         "libcap; add 'allow self:capability setpcap' if it keeps capabilities across the "
         "uid change"),
    Hint(STARTUP, frozenset({"setrlimit", "prlimit"}), "allow self:process setrlimit"),
    Hint(STARTUP, frozenset({"tcgetattr", "tcsetattr", "getpass"}), "tty",
         "if it prompts on its terminal"),
    Hint(STARTUP, frozenset({"/dev/urandom", "/dev/random"}), "random"),
    Hint(STARTUP, _EXEC, "run <exec> as <domain>",
         "it can start programs; never in steady, which forbids exec"),
    Hint(STARTUP, _OPENSSL, "syscalls allow getrandom", "OpenSSL and getrandom() seed"),
    Hint(STEADY, _SYSLOG, "syslog io", "the /dev/log connection made in startup"),
    Hint(STEADY, _TUN, "tun io", "packets on the tun fd startup opened"),
    Hint(STEADY, _DATAGRAMS, "udp io | icmp raw io | tcp io",
         "traffic on a socket startup opened"),
    Hint(STEADY, frozenset({"accept", "accept4"}), "tcp accept",
         "connections on the listener startup opened"),
    Hint(STEADY, frozenset({"connect"}), "tcp connect port <port>",
         "connections made after the switch; startup needs the line too, for typebounds"),
    Hint(STEADY, frozenset({"pcap_next", "pcap_next_ex", "pcap_loop", "pcap_dispatch"}),
         "packet capture io"),
    Hint(STEADY, _OPENSSL, "syscalls allow getrandom", "OpenSSL draws random bytes"),
    Hint(SWITCH, frozenset({"setcon", "setcon_raw"}), "option \"...{context}\"",
         "it can switch already: write the option that asks for it"),
)

#: The @wait baseline member each waiting function of the C library makes.
WAIT_CALLS = {"select": "pselect6", "pselect": "pselect6", "poll": "poll", "__poll_chk": "poll",
              "epoll_wait": "epoll_wait", "epoll_pwait": "epoll_wait",
              "epoll_ctl": "epoll_ctl"}

#: A path a program names: cut before a printf conversion, a path of plain characters.
_PATH = re.compile(r"/[A-Za-z0-9_.+@-]+(?:/[A-Za-z0-9_.+@-]+)*")
#: Where the paths worth a suggestion live.
PATH_ROOTS = ("/etc/", "/var/", "/run/", "/dev/")


def suggestions(binary: Binary) -> list[Suggestion]:
    """Every hint the binary's imports or strings fire, in the order of :data:`HINTS`, then
    the loop's ``syscalls deny`` (:func:`wait_suggestion`)."""
    seen = binary.symbols | binary.strings
    out = [Suggestion(h.phase, tuple(sorted(h.symbols & seen)), h.statement, h.why,
                      h.in_fragment)
           for h in HINTS if h.symbols & seen]
    wait = wait_suggestion(binary.symbols)
    return out + ([wait] if wait else [])


def wait_suggestion(symbols: frozenset[str]) -> Suggestion | None:
    """``syscalls deny`` of the @wait members the program never makes itself (the shipped
    specs deny ``poll epoll_wait epoll_ctl`` for a select() loop); None when it imports no
    waiting function or all of them."""
    used = {WAIT_CALLS[s] for s in symbols if s in WAIT_CALLS}
    unused = [c for c in baseline()["wait"].syscalls if c not in used]
    if not used or not unused:
        return None
    return Suggestion(STEADY, tuple(sorted(s for s in symbols if s in WAIT_CALLS)),
                      f"syscalls deny {' '.join(unused)}",
                      "if its libraries do not wait otherwise")


def missing(binary: Binary, symbols: Iterable[str]) -> bool:
    """True when the program's imports were read and hold none of ``symbols``."""
    return binary.form == "elf" and bool(binary.symbols) and not binary.symbols & set(symbols)


def named_paths(words: Iterable[str]) -> frozenset[str]:
    """The absolute paths under :data:`PATH_ROOTS` among a program's words (its strings split
    at blanks), each cut before its first printf conversion (``/etc/x/%s`` is ``/etc/x``);
    a word with any other character is no path."""
    out = set()
    for word in words:
        path = word.split("%", 1)[0].rstrip("/")
        if _PATH.fullmatch(path) and path.startswith(PATH_ROOTS) and path.count("/") >= 2:
            out.add(path)
    return frozenset(out)
