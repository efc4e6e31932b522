"""Entries for capability, capability2, cap_userns, cap2_userns."""

from common import *  # noqa: F401,F403
from filelike import e

CAP_NOTE = SHARED["capability"] = (
    "SELinux only restricts a capability the process already has in its Linux capability "
    "sets: the kernel's capable()/ns_capable() call runs the commoncap check first and asks "
    "SELinux (selinux_capable -> cred_has_capability, self:capability) only if that passed. "
    "The syscalls listed are the usual ones; capable() call sites are many and often depend "
    "on arguments (the check only happens when the operation would otherwise be refused).")

CAPS = {
    "chown": (CHOWN, "chown/fchown/lchown/fchownat to a uid other than one's own or a gid one "
                     "is not a member of."),
    "dac_override": (OPEN + ["access", "faccessat", "faccessat2", "execve", "truncate",
                             "unlink", "rename", "mkdir", "rmdir"],
                     "Any path operation where the Unix rwx permission bits would refuse "
                     "access (root opening another user's 0600 file, writing a read-only "
                     "directory)."),
    "dac_read_search": (OPEN + ["open_by_handle_at", "name_to_handle_at", "stat", "getdents64"],
                        "Reading/searching despite Unix permission bits; open_by_handle_at "
                        "always needs it."),
    "fowner": (CHMOD + UTIME + XATTR_SET + ["fcntl", "ioctl", "open"],
               "Operations reserved to a file's owner on a file one does not own: chmod, "
               "utimes with explicit times, setting xattrs, O_NOATIME, FS_IOC_SETFLAGS, "
               "deleting in sticky directories."),
    "fsetid": (CHMOD + CHOWN + WRITE_IO,
               "Keeping/setting the set-user/group-ID bits when the kernel would clear them "
               "(chmod setgid without group membership, writes/chown by non-owners)."),
    "kill": (KILL, "Sending a signal to a process of another user (kill_ok_by_cred)."),
    "setgid": (SETID_GID + ["sendmsg"],
               "setgid/setregid/setresgid/setfsgid to an arbitrary gid, and setgroups "
               "(always), and passing a foreign gid in SCM_CREDENTIALS."),
    "setuid": (SETID_UID + ["sendmsg"],
               "setuid/setreuid/setresuid/setfsuid to a uid that is not the current "
               "real/effective/saved uid, and passing a foreign uid in SCM_CREDENTIALS. "
               "Switching between one's own ids needs nothing."),
    "setpcap": (["capset", "prctl"],
                "capset() adding to the inheritable set beyond the permitted set; "
                "prctl(PR_CAPBSET_DROP) and prctl(PR_SET_SECUREBITS) (libcap-ng's "
                "capng_apply when dropping the bounding set)."),
    "linux_immutable": (["ioctl"], "FS_IOC_SETFLAGS setting/clearing immutable or append-only."),
    "net_bind_service": (["bind"], "bind() of an inet socket to a port below "
                                   "net.ipv4.ip_unprivileged_port_start (1024)."),
    "net_broadcast": ([], "Defined but not used by Linux 6.1 for any common operation "
                          "(SO_BROADCAST needs no capability)."),
    "net_admin": (["ioctl", "sendto", "sendmsg", "setsockopt", "socket"],
                  "Network configuration: TUNSETIFF creating a tun/tap device, SIOCSIF* "
                  "interface ioctls (addresses, flags, MTU), rtnetlink modifications (checked "
                  "on every RTM_NEW*/DEL*/SET* message, for the sender and the socket opener), "
                  "iptables/nftables, SO_MARK, SO_PRIORITY above 6, SO_RCVBUFFORCE."),
    "net_raw": (["socket", "setsockopt"],
                "socket(AF_INET/AF_INET6, SOCK_RAW, ...) and socket(AF_PACKET, ...); "
                "IP_TRANSPARENT, SO_MARK, re-binding SO_BINDTODEVICE."),
    "ipc_lock": (["mlock", "mlock2", "mlockall", "mmap", "shmctl"],
                 "Locking memory beyond RLIMIT_MEMLOCK (mlock*, MAP_LOCKED, SHM_LOCK)."),
    "ipc_owner": (["msgctl", "shmctl", "semctl", "msgsnd", "msgrcv", "shmat", "semop"],
                  "Bypassing System V IPC permission bits (ipcperms)."),
    "sys_module": (["init_module", "finit_module", "delete_module", "ioctl"],
                   "Loading/unloading kernel modules; also dev_load() for 'netdev-%s' "
                   "aliases from interface ioctls."),
    "sys_rawio": (["iopl", "ioperm", "open", "ioctl", "mmap"],
                  "I/O ports, /dev/mem, /dev/port, FIBMAP, mmap below mmap_min_addr, raw "
                  "SCSI commands."),
    "sys_chroot": (["chroot"], "chroot()."),
    "sys_ptrace": (["ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd"],
                   "ptrace-family access to processes of other users or non-dumpable ones."),
    "sys_pacct": (["acct"], "acct() process accounting."),
    "sys_admin": (["mount", "umount2", "pivot_root", "move_mount", "fsopen", "fsmount",
                   "open_tree", "setns", "unshare", "clone", "clone3", "sethostname",
                   "setdomainname", "swapon", "swapoff", "quotactl", "bpf", "perf_event_open",
                   "keyctl", "ioctl", "seccomp", "fanotify_init", "lookup_dcookie"],
                  "The catch-all administrative capability: mounting, namespaces (except "
                  "user namespaces), hostname, swap, many ioctls, seccomp without "
                  "no_new_privs, privileged bpf/perf, ..."),
    "sys_boot": (["reboot", "kexec_load", "kexec_file_load"], "reboot() and kexec."),
    "sys_nice": (SCHED_SET + ["mbind", "migrate_pages", "move_pages"],
                 "Raising priority (negative nice, real-time policies), affinity/priority of "
                 "other users' processes, moving pages of other processes."),
    "sys_resource": (["setrlimit", "prlimit64", "fcntl", "prctl", "msgctl", "mq_open"],
                     "Raising hard resource limits, F_SETPIPE_SZ beyond the limit, "
                     "PR_SET_MM, exceeding IPC/mqueue limits and quotas."),
    "sys_time": (["settimeofday", "clock_settime", "adjtimex", "clock_adjtime"],
                 "Setting the system clock."),
    "sys_tty_config": (["vhangup", "ioctl"], "vhangup() and keyboard/console ioctls "
                                             "(KDSKBENT, KDSKBSENT, ...)."),
    "mknod": (["mknod", "mknodat"], "Creating character/block device nodes."),
    "lease": (["fcntl"], "fcntl(F_SETLEASE) on a file one does not own."),
    "audit_write": (["sendto", "sendmsg"], "Sending user-space audit records over an audit "
                                           "netlink socket (PAM, login, sudo)."),
    "audit_control": (["sendto", "sendmsg"], "Configuring the audit subsystem over netlink "
                                             "(rules, enable, backlog)."),
    "setfcap": (XATTR_SET, "Setting file capabilities (security.capability xattr)."),
    # capability2
    "mac_override": ([], "Not used by SELinux (Smack only)."),
    "mac_admin": (XATTR_SET + ["write"],
                  "SELinux: setting a security context the loaded policy does not know "
                  "(setxattr security.selinux, writing /proc/self/attr/fscreate) and reading "
                  "the raw on-disk context."),
    "syslog": (["syslog", "open", "read"],
               "syslog(2) actions and /proc/kmsg when dmesg_restrict is set; kernel pointer "
               "display."),
    "wake_alarm": (["timer_create", "timerfd_create"],
                   "Timers on CLOCK_REALTIME_ALARM / CLOCK_BOOTTIME_ALARM."),
    "block_suspend": (["epoll_ctl", "write"],
                      "EPOLLWAKEUP in epoll_ctl (silently cleared when refused) and "
                      "/sys/power/wake_lock."),
    "audit_read": (["bind"], "Joining the audit multicast group on an audit netlink socket."),
    "perfmon": (["perf_event_open", "bpf"], "System-wide perf monitoring, some bpf helpers."),
    "bpf": (["bpf"], "Privileged bpf() commands (map/program creation beyond unprivileged bpf)."),
    "checkpoint_restore": (["clone3", "prctl", "open", "write"],
                           "clone3 with set_tid, PR_SET_MM_EXE_FILE, writing "
                           "/proc/sys/kernel/ns_last_pid, reading /proc/PID/map_files."),
}


def cap_entry(cls, perm):
    sc, desc = CAPS[perm]
    userns = cls in ("cap_userns", "cap2_userns")
    where = ("in a user namespace other than the initial one (ns_capable(ns, ...) with "
             "ns != init_user_ns)" if userns else "in the initial user namespace")
    obj = "the calling domain itself (self:" + cls + ")"
    if perm in ("net_broadcast", "mac_override"):
        return e([], ["selinux_capable", "cred_has_capability"], obj, desc, "never")
    note = f"{desc} Checked {where}. {CAP_NOTE}"
    if perm == "sys_admin" and not userns:
        note += (" Also evaluated with CAP_OPT_NOAUDIT by selinux_vm_enough_memory on every "
                 "mapping/brk, where a refusal only removes the admin memory reserve and never "
                 "fails the call.")
    hooks = ["selinux_capable", "cred_has_capability"]
    if perm == "sys_admin" and not userns:
        hooks.append("selinux_vm_enough_memory")
    return e(sc, hooks, obj, note)
