"""Entries for process, fd, filesystem, system, security, network, IPC and the rest."""

from common import *  # noqa: F401,F403
from filelike import e, never

SELF = "the calling domain itself (source = target)"
TARGET = "the target process's domain"

PROCESS = {
    "fork": e(["fork", "vfork", "clone", "clone3"], ["selinux_task_alloc"], SELF,
              "Every new task, threads included (pthread_create is clone with CLONE_THREAD)."),
    "transition": e(["execve", "execveat"], ["selinux_bprm_creds_for_exec"],
                    "the new domain (old_domain -> new_domain:process transition)",
                    "execve into another domain, by type_transition or setexeccon(); the new "
                    "domain also needs file:entrypoint on the executable. Under no_new_privs "
                    "or on a nosuid mount the transition also needs process2 nnp_transition / "
                    "nosuid_transition (or a typebounds relation)."),
    "sigchld": e(KILL, ["selinux_task_kill", "selinux_file_send_sigiotask"], TARGET,
                 "Sending SIGCHLD explicitly (kill/tgkill/sigqueue, or SIGIO-style delivery "
                 "via F_SETOWN/F_SETSIG). The SIGCHLD the kernel sends a parent when its child "
                 "exits is NOT checked in 6.1 (do_notify_parent has no LSM hook, and the old "
                 "task_wait hook is gone, so wait4/waitid are unmediated)."),
    "sigkill": e(KILL, ["selinux_task_kill", "selinux_file_send_sigiotask"], TARGET,
                 "Sending SIGKILL with kill/tkill/tgkill/rt_(tg)sigqueueinfo/pidfd_send_signal, "
                 "to another process or to oneself. Signals the kernel generates (SIGSEGV, "
                 "SIGPIPE, timer signals, SIGCHLD on exit) are not checked."),
    "sigstop": e(KILL, ["selinux_task_kill", "selinux_file_send_sigiotask"], TARGET,
                 "Sending SIGSTOP (user-originated signals only, to others or oneself)."),
    "signull": e(KILL, ["selinux_task_kill"], TARGET,
                 "kill(pid, 0) existence probes (signal 0)."),
    "signal": e(KILL + ["fcntl"], ["selinux_task_kill", "selinux_file_send_sigiotask"], TARGET,
                "Sending any other signal (SIGTERM, SIGHUP, SIGUSR1, SIGABRT from abort() via "
                "tgkill on oneself, ...), including to oneself and to one's own threads: "
                "check_kill_permission calls the hook for every user-originated signal. Also "
                "SIGIO/SIGURG delivery to an F_SETOWN owner, checked from the domain that set "
                "the owner."),
    "ptrace": e(["ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "execve",
                 "write"],
                ["selinux_ptrace_access_check", "selinux_ptrace_traceme",
                 "selinux_bprm_creds_for_exec", "selinux_setprocattr"], TARGET,
                "PTRACE_ATTACH/PTRACE_SEIZE (PTRACE_MODE_ATTACH), PTRACE_TRACEME (checked as "
                "parent -> child), process_vm_readv/writev, pidfd_getfd, writing "
                "/proc/PID/mem; also re-checked for the tracer when a traced process execs into "
                "a new domain or calls setcon(). Never checked for the caller's own thread "
                "group. Read-only introspection (PTRACE_MODE_READ) is checked as file:read on "
                "the process instead."),
    "getsched": e(SCHED_GET, ["selinux_task_getscheduler", "selinux_task_getioprio"], TARGET,
                  "sched_getscheduler/getparam/getattr/getaffinity/rr_get_interval and "
                  "ioprio_get, on any task including oneself (pid 0): glibc's "
                  "sched_getaffinity-based CPU counting hits this. getpriority() is not "
                  "checked."),
    "setsched": e(SCHED_SET + ["migrate_pages", "move_pages"],
                  ["selinux_task_setscheduler", "selinux_task_setnice",
                   "selinux_task_setioprio", "selinux_task_movememory"], TARGET,
                  "sched_setscheduler/setparam/setattr/setaffinity, setpriority (nice), "
                  "ioprio_set and migrate_pages/move_pages, on any task including oneself."),
    "getsession": e(["getsid"], ["selinux_task_getsid"], TARGET,
                    "getsid(pid) with pid != 0; getsid(0) is not checked."),
    "getpgid": e(["getpgid"], ["selinux_task_getpgid"], TARGET,
                 "getpgid(pid) with pid != 0; getpgid(0) and getpgrp() are not checked."),
    "setpgid": e(["setpgid"], ["selinux_task_setpgid"], TARGET,
                 "setpgid() on oneself or a child (shells, daemon()-style code). setsid() is "
                 "not checked."),
    "getcap": e(["capget"], ["selinux_capget"], TARGET,
                "capget() on any task, oneself included (libcap's cap_get_proc)."),
    "setcap": e(["capset"], ["selinux_capset"], SELF,
                "capset() (dropping capabilities too, e.g. libcap-ng capng_apply, "
                "cap_set_proc)."),
    "share": e(["execve", "execveat"], ["selinux_bprm_creds_for_exec"],
               "the new domain",
               "A domain-changing execve by a task that shares state with others "
               "(LSM_UNSAFE_SHARE: its fs_struct is shared through clone(CLONE_FS)); refused "
               "with EPERM if not allowed."),
    "getattr": e(["open", "openat", "read"], ["selinux_getprocattr"], TARGET,
                 "Reading another process's /proc/PID/attr/{current,exec,fscreate,...} "
                 "(getpidcon); reading one's own attributes is not checked."),
    "setexec": e(["write"], ["selinux_setprocattr"], SELF,
                 "Writing /proc/self/attr/exec (setexeccon) to choose the domain of the next "
                 "execve; the exec itself is then checked as transition + entrypoint."),
    "setfscreate": e(["write"], ["selinux_setprocattr"], SELF,
                     "Writing /proc/self/attr/fscreate (setfscreatecon) to choose labels of "
                     "files created next; creation is then checked against that label."),
    "noatsecure": e(["execve", "execveat"], ["selinux_bprm_creds_for_exec"], "the new domain",
                    "Never makes a call fail: on a domain-changing exec, if NOT allowed the "
                    "kernel sets AT_SECURE so glibc ignores LD_PRELOAD/LD_LIBRARY_PATH etc.",
                    "modifier"),
    "siginh": e(["execve", "execveat"], ["selinux_bprm_committed_creds"], "the new domain",
                "Never makes a call fail: on a domain-changing exec, if NOT allowed, pending "
                "signals are flushed and itimers cleared.", "modifier"),
    "setrlimit": e(["setrlimit", "prlimit64"], ["selinux_task_setrlimit", "selinux_task_prlimit"],
                   TARGET,
                   "Changing a HARD limit (lowering included) with setrlimit/prlimit64 on "
                   "oneself, and prlimit64 setting limits of another process. Changing only a "
                   "soft limit of oneself is not checked."),
    "rlimitinh": e(["execve", "execveat"], ["selinux_bprm_committing_creds"], "the new domain",
                   "Never makes a call fail: on a domain-changing exec, if NOT allowed, soft "
                   "limits are reset to min(hard limit, init's soft limit). Inherited fds the "
                   "new domain may not use are replaced by /dev/null at the same point "
                   "(flush_unauthorized_files, checked as fd:use + file permissions).",
                   "modifier"),
    "dyntransition": e(["write"], ["selinux_setprocattr"], "the new domain",
                       "setcon(): writing /proc/self/attr/current, checked old -> new domain "
                       "together with process:setcurrent. A multi-threaded process may only "
                       "switch to a domain bounded by the old one (typebounds); a ptracer "
                       "needs process:ptrace on the new domain."),
    "setcurrent": e(["write"], ["selinux_setprocattr"], SELF,
                    "Permission to write /proc/self/attr/current at all (setcon); the switch "
                    "itself is process:dyntransition."),
    "execmem": e(["mmap", "mprotect", "pkey_mprotect", "shmat"],
                 ["file_map_prot_check", "selinux_mmap_file", "selinux_file_mprotect"], SELF,
                 "PROT_EXEC on anonymous memory (JITs, libffi trampolines) or on a private "
                 "file mapping that is also writable, at mmap or mprotect time (x86-64 has "
                 "default_noexec, so this is active)."),
    "execstack": e(["mprotect", "pkey_mprotect"], ["selinux_file_mprotect"], SELF,
                   "mprotect(PROT_EXEC) of the main stack (or a thread stack), e.g. for "
                   "binaries marked with an executable stack (PT_GNU_STACK RWE)."),
    "execheap": e(["mprotect", "pkey_mprotect"], ["selinux_file_mprotect"], SELF,
                  "mprotect(PROT_EXEC) of the brk heap."),
    "setkeycreate": e(["write"], ["selinux_setprocattr"], SELF,
                      "Writing /proc/self/attr/keycreate (setkeycreatecon)."),
    "setsockcreate": e(["write"], ["selinux_setprocattr"], SELF,
                       "Writing /proc/self/attr/sockcreate (setsockcreatecon); sockets created "
                       "next get that label."),
    "getrlimit": e(["prlimit64"], ["selinux_task_prlimit"], TARGET,
                   "Reading the limits of ANOTHER process with prlimit64; getrlimit() and "
                   "prlimit64 on oneself are not checked."),
}

PROCESS2 = {
    "nnp_transition": e(["execve", "execveat"], ["check_nnp_nosuid"], "the new domain",
                        "A domain transition on exec while no_new_privs is set (systemd "
                        "NoNewPrivileges=, container runtimes) needs this (the Debian policy "
                        "sets the nnp_nosuid_transition capability) or a typebounds relation; "
                        "otherwise an automatic transition silently stays in the old domain "
                        "and an explicit setexeccon() exec fails with EPERM."),
    "nosuid_transition": e(["execve", "execveat"], ["check_nnp_nosuid"], "the new domain",
                           "A domain transition on exec of a file on a nosuid mount; as for "
                           "nnp_transition (explicit setexeccon() exec fails with EACCES)."),
}

FD = {
    "use": e(["read", "readv", "write", "writev", "pread64", "pwrite64", "ioctl", "fcntl",
              "flock", "mmap", "mprotect", "execve", "recvmsg", "finit_module", "ftruncate",
              "fallocate", "getdents64", "copy_file_range", "sendfile", "splice"],
             ["file_has_perm", "ioctl_has_perm", "selinux_file_receive",
              "flush_unauthorized_files", "selinux_binder_transfer_file",
              "selinux_kernel_module_from_file"],
             "the domain that opened (created) the fd",
             "Using an fd that another domain opened: read/write revalidation, ioctl, fcntl "
             "(F_SETFL, F_GETFL, F_SETOWN, locks), flock, mmap/mprotect of its mapping, "
             "receiving it over a unix socket (SCM_RIGHTS, recvmsg), keeping it across a "
             "domain-changing execve (else it is replaced by /dev/null), finit_module. Not "
             "checked: close, dup*, lseek, fstat, fchmod/fchown (inode checks only), "
             "sendto/sendmsg/recvfrom on a socket (socket checks only), poll/select/epoll."),
}

FILESYSTEM = {
    "mount": e(["mount", "fsconfig"], ["selinux_sb_kern_mount", "superblock_has_perm"],
               "the new superblock's label (fs_use/genfscon, or context= mount options)",
               "Mounting a new superblock (mount(2), fsconfig(FSCONFIG_CMD_CREATE)); the mount "
               "point needs dir:mounton and the caller capability sys_admin."),
    "remount": e(["mount", "fsconfig"], ["selinux_mount", "superblock_has_perm"],
                 "the mounted filesystem's superblock", "mount(MS_REMOUNT)."),
    "unmount": e(["umount2"], ["selinux_umount", "superblock_has_perm"],
                 "the mounted filesystem's superblock", "umount/umount2."),
    "getattr": e(["statfs", "fstatfs"], ["selinux_sb_statfs", "superblock_has_perm"],
                 "the filesystem's superblock label",
                 "statfs/fstatfs (df, glibc's statvfs, some libraries probe /proc or /sys "
                 "with it)."),
    "relabelfrom": e(["mount", "fsconfig"], ["may_context_mount_sb_relabel",
                                              "may_context_mount_inode_relabel",
                                              "selinux_set_mnt_opts"],
                     "the filesystem's default superblock label",
                     "Mounting with context=/fscontext=/defcontext=/rootcontext= options."),
    "relabelto": e(["mount", "fsconfig"], ["may_context_mount_sb_relabel",
                                            "selinux_set_mnt_opts"],
                   "the label given by context=/fscontext=",
                   "Mounting with context=/fscontext= options."),
    "associate": e(OPEN + ["mkdir", "mkdirat", "mknod", "mknodat", "symlink", "symlinkat",
                           "bind", "setxattr", "lsetxattr", "fsetxattr"],
                   ["may_create", "selinux_inode_setxattr", "may_context_mount_inode_relabel"],
                   "the filesystem's superblock label; the SOURCE is the new file's type",
                   "Checked as new_file_type -> filesystem:associate whenever a file is created "
                   "or relabelled (so it is granted to file types, not to domains)."),
    "quotamod": e(["quotactl"], ["selinux_quotactl", "superblock_has_perm"],
                  "the filesystem's superblock",
                  "quotactl Q_QUOTAON/OFF, Q_SETINFO, Q_SETQUOTA, Q_SYNC and XFS equivalents."),
    "quotaget": e(["quotactl"], ["selinux_quotactl", "superblock_has_perm"],
                  "the filesystem's superblock", "quotactl Q_GETQUOTA, Q_GETINFO, Q_GETFMT ..."),
    "watch": e(["fanotify_mark"], ["selinux_path_notify", "superblock_has_perm"],
               "the filesystem's superblock", "fanotify_mark(FAN_MARK_FILESYSTEM)."),
}

SYSTEM = {
    "ipc_info": e(["msgctl", "shmctl", "semctl"], ["selinux_msg_queue_msgctl",
                                                   "selinux_shm_shmctl", "selinux_sem_semctl"],
                  "the kernel (kernel_t)", "IPC_INFO/MSG_INFO/SHM_INFO/SEM_INFO (ipcs)."),
    "syslog_read": e(["syslog", "open", "read"], ["selinux_syslog"], "the kernel (kernel_t)",
                     "syslog(SYSLOG_ACTION_READ_ALL/SIZE_BUFFER) and opening /dev/kmsg for "
                     "reading (dmesg)."),
    "syslog_mod": e(["syslog", "open", "read"], ["selinux_syslog"], "the kernel (kernel_t)",
                    "Other syslog(2) actions: READ, READ_CLEAR, CLEAR, OPEN, CLOSE, SIZE_UNREAD, "
                    "i.e. reading /proc/kmsg (klogd, rsyslog imklog)."),
    "syslog_console": e(["syslog"], ["selinux_syslog"], "the kernel (kernel_t)",
                        "syslog(SYSLOG_ACTION_CONSOLE_ON/OFF/LEVEL) (dmesg -n)."),
    "module_request": e(["socket", "ioctl", "mount", "open", "setsockopt"],
                        ["selinux_kernel_module_request"], "the kernel (kernel_t)",
                        "The kernel auto-loading a module on the caller's behalf "
                        "(request_module): socket() of an unloaded protocol family, an "
                        "interface ioctl naming an unknown device ('netdev-%s'), mount of an "
                        "unknown filesystem type, opening a device whose driver is not "
                        "loaded."),
    "module_load": e(["init_module", "finit_module"], ["selinux_kernel_module_from_file",
                                                       "selinux_kernel_read_file",
                                                       "selinux_kernel_load_data"],
                     "finit_module: the module file's label; init_module: the caller itself",
                     "Loading a kernel module (also needs capability sys_module; "
                     "finit_module also checks fd:use). delete_module has no SELinux hook "
                     "(capability sys_module only)."),
}
for _p in ("halt", "reboot", "status", "start", "stop", "enable", "disable", "reload"):
    SYSTEM[_p] = e([], [], "the systemd manager (init_t / the unit file)",
                   "Userspace permission: checked by systemd (selinux_check_access) for "
                   "system-wide manager requests, not by the kernel; gates no syscall.",
                   "userspace")

SEC = "the SELinux security server (security_t, /sys/fs/selinux)"
SECURITY = {
    "load_policy": e(["write"], ["sel_write_load"], SEC, "Writing /sys/fs/selinux/load "
                                                         "(load_policy, semodule -i/-r)."),
    "setenforce": e(["write"], ["sel_write_enforce"], SEC, "Writing /sys/fs/selinux/enforce "
                                                           "(setenforce 0/1)."),
    "setbool": e(["write"], ["sel_write_bool", "sel_commit_bools_write"], SEC,
                 "Writing /sys/fs/selinux/booleans/* or commit_pending_bools (setsebool)."),
    "setcheckreqprot": e(["write"], ["sel_write_checkreqprot"], SEC,
                         "Writing /sys/fs/selinux/checkreqprot."),
    "setsecparam": e(["write"], ["sel_write_avc_cache_threshold"], SEC,
                     "Writing /sys/fs/selinux/avc/cache_threshold."),
    "read_policy": e(["open", "openat", "read", "mmap"], ["sel_open_policy", "sel_read_policy"],
                     SEC, "Reading the loaded policy from /sys/fs/selinux/policy (seinfo, "
                          "sesearch on the running policy)."),
    "compute_av": e(["write", "read"], ["sel_write_access"], SEC,
                    "Asking the kernel for an access decision through /sys/fs/selinux/access "
                    "(security_compute_av, selinux_check_access in userspace object managers "
                    "such as systemd or dbus-daemon)."),
    "compute_create": e(["write", "read"], ["sel_write_create"], SEC,
                        "/sys/fs/selinux/create (security_compute_create, e.g. in login "
                        "programs and systemd)."),
    "compute_member": e(["write", "read"], ["sel_write_member"], SEC,
                        "/sys/fs/selinux/member (security_compute_member)."),
    "compute_relabel": e(["write", "read"], ["sel_write_relabel"], SEC,
                         "/sys/fs/selinux/relabel (security_compute_relabel, e.g. for tty "
                         "relabelling by login)."),
    "compute_user": e(["write", "read"], ["sel_write_user"], SEC,
                      "/sys/fs/selinux/user (security_compute_user, deprecated)."),
    "check_context": e(["write", "read"], ["sel_write_context"], SEC,
                       "/sys/fs/selinux/context (security_check_context, validating a "
                       "context string)."),
    "validate_trans": e(["write"], ["sel_write_validatetrans"], SEC,
                        "/sys/fs/selinux/validatetrans."),
}

NET_PEER = ("Per-packet check, not tied to one syscall: only performed when labelled "
            "networking is active (NetLabel/CIPSO/CALIPSO configured, or labelled IPsec), "
            "because the Debian policy sets network_peer_controls but not "
            "always_check_network. A refusal drops the packet (sendmsg may fail with "
            "ECONNREFUSED; on receive the packet silently disappears).")
SECMARK = ("Per-packet check performed only when SECMARK rules are loaded (iptables -j "
           "SECMARK / nftables secmark objects); the object is the packet's secmark type.")

NETWORK = {
    ("node", "recvfrom"): e(["recvfrom", "recvmsg", "read", "accept"],
                            ["selinux_inet_sys_rcv_skb", "selinux_socket_sock_rcv_skb",
                             "selinux_ip_forward"],
                            "the node type of the packet's source address; the SOURCE is the "
                            "packet's peer label, not the process", NET_PEER, "conditional"),
    ("node", "sendto"): e(["sendto", "sendmsg", "write", "connect"], ["selinux_ip_postroute"],
                          "the node type of the destination address; the SOURCE is the sending "
                          "socket's label", NET_PEER, "conditional"),
    ("netif", "ingress"): e(["recvfrom", "recvmsg", "read"], ["selinux_inet_sys_rcv_skb"],
                            "the network interface's type (netifcon); SOURCE = peer label",
                            NET_PEER, "conditional"),
    ("netif", "egress"): e(["sendto", "sendmsg", "write", "connect"], ["selinux_ip_postroute"],
                           "the network interface's type; SOURCE = socket label",
                           NET_PEER, "conditional"),
    ("peer", "recv"): e(["recvfrom", "recvmsg", "read", "accept"],
                        ["selinux_socket_sock_rcv_skb", "selinux_sctp_process_new_assoc"],
                        "the peer's label (from NetLabel/labelled IPsec; unlabeled_t "
                        "otherwise); SOURCE = receiving socket's label", NET_PEER,
                        "conditional"),
    ("packet", "send"): e(["sendto", "sendmsg", "write", "connect"], ["selinux_ip_postroute",
                                                                      "selinux_ip_postroute_compat"],
                          "the packet's SECMARK type; SOURCE = sending socket's label", SECMARK,
                          "conditional"),
    ("packet", "recv"): e(["recvfrom", "recvmsg", "read", "accept"],
                          ["selinux_socket_sock_rcv_skb", "selinux_sock_rcv_skb_compat"],
                          "the packet's SECMARK type; SOURCE = receiving socket's label",
                          SECMARK, "conditional"),
    ("packet", "forward_in"): e([], ["selinux_ip_forward"],
                                "the forwarded packet's SECMARK type; SOURCE = its peer label",
                                SECMARK + " Forwarded traffic only; no local syscall.",
                                "conditional"),
    ("packet", "forward_out"): e([], ["selinux_ip_postroute"],
                                 "the forwarded packet's SECMARK type; SOURCE = its peer label",
                                 SECMARK + " Forwarded traffic only; no local syscall.",
                                 "conditional"),
    ("packet", "relabelto"): e(["setsockopt", "sendmsg"], ["selinux_secmark_relabel_packet"],
                               "the SECMARK type named in the rule",
                               "Loading an iptables SECMARK target (setsockopt "
                               "IPT_SO_SET_REPLACE) or an nftables secmark object (nfnetlink "
                               "sendmsg); also needs capability net_admin."),
    ("association", "setcontext"): e(["sendmsg", "sendto", "write", "setsockopt"],
                                     ["selinux_xfrm_alloc_user", "selinux_xfrm_delete"],
                                     "the IPsec SA/SPD entry's security context",
                                     "Adding or deleting labelled IPsec policies/SAs (xfrm "
                                     "netlink, PF_KEY, IP_XFRM_POLICY) that carry a security "
                                     "context. Only with labelled IPsec."),
    ("association", "polmatch"): e([], ["selinux_xfrm_policy_lookup"],
                                   "the labelled IPsec policy's context",
                                   "Per-flow match of a flow label against a labelled IPsec "
                                   "policy; only with labelled IPsec.", "conditional"),
    ("association", "sendto"): e(["connect", "sendto", "sendmsg", "write"],
                                 ["selinux_xfrm_state_pol_flow_match",
                                  "selinux_xfrm_postroute_last"],
                                 "the IPsec SA's context; SOURCE = the flow (socket) label",
                                 "Sending through a labelled IPsec SA; only with labelled "
                                 "IPsec.", "conditional"),
    ("association", "recvfrom"): e(["recvfrom", "recvmsg", "read"], ["selinux_xfrm_sock_rcv_skb"],
                                   "the IPsec SA's context; SOURCE = receiving socket's label",
                                   "Receiving through an IPsec SA; only with labelled IPsec "
                                   "(in the compat network mode; with network_peer_controls "
                                   "it is checked as peer:recv).", "conditional"),
}

IPC_OBJ = {"msgq": "the System V message queue's label (its creator's domain)",
           "shm": "the System V shared memory segment's label (its creator's domain)",
           "sem": "the System V semaphore set's label (its creator's domain)"}
_IPC_SC = {"msgq": ["msgget", "msgsnd", "msgrcv", "msgctl"],
           "shm": ["shmget", "shmat", "shmdt", "shmctl"],
           "sem": ["semget", "semop", "semtimedop", "semctl"]}


ALLOC_HOOK = {"msgq": "selinux_msg_queue_alloc_security", "shm": "selinux_shm_alloc_security",
              "sem": "selinux_sem_alloc_security"}


def ipc_entry(cls, perm):
    obj = IPC_OBJ.get(cls, "-")
    if cls == "ipc":
        return never("Legacy class: Linux 6.1 labels every System V object as msgq, shm or "
                     "sem (ipc_init_security), never as ipc.")
    sc = _IPC_SC[cls]
    table = {
        "create": ([sc[0]], [ALLOC_HOOK[cls]],
                   f"{sc[0]}(IPC_CREAT) creating a new object."),
        "destroy": ([sc[-1]], None, f"{sc[-1]}(IPC_RMID)."),
        "getattr": ([sc[-1]], None, f"{sc[-1]}(IPC_STAT and *_STAT{'' if cls != 'sem' else ', GETPID/GETNCNT/GETZCNT'})."),
        "setattr": ([sc[-1]], None, f"{sc[-1]}(IPC_SET)."),
        "associate": ([sc[0], sc[-1]], None, f"{sc[0]}() of an existing key, and *_STAT."),
        "unix_read": (sc, ["selinux_ipc_permission", "ipc_has_perm"],
                      "The kernel's Unix permission check (ipcperms) for read access."),
        "unix_write": (sc, ["selinux_ipc_permission", "ipc_has_perm"],
                       "The kernel's Unix permission check (ipcperms) for write access."),
    }
    hook_ctl = {"msgq": "selinux_msg_queue_msgctl", "shm": "selinux_shm_shmctl",
                "sem": "selinux_sem_semctl"}[cls]
    hook_assoc = {"msgq": "selinux_msg_queue_associate", "shm": "selinux_shm_associate",
                  "sem": "selinux_sem_associate"}[cls]
    if perm in table:
        s, h, n = table[perm]
        if h is None:
            h = [hook_assoc, hook_ctl] if perm == "associate" else [hook_ctl]
        return e(s, h, obj, n)
    if cls == "msgq":
        if perm == "read":
            return e(["msgrcv"], ["selinux_msg_queue_msgrcv"], obj,
                     "msgrcv() (also msg:receive on the message).")
        if perm == "write":
            return e(["msgsnd"], ["selinux_msg_queue_msgsnd"], obj,
                     "msgsnd() (also msgq:enqueue and msg:send).")
        if perm == "enqueue":
            return e(["msgsnd"], ["selinux_msg_queue_msgsnd"],
                     "the queue; SOURCE = the message's label", "msgsnd(): message -> queue.")
    if cls == "shm":
        if perm == "read":
            return e(["shmat"], ["selinux_shm_shmat"], obj, "shmat() (read-only or read-write).")
        if perm == "write":
            return e(["shmat"], ["selinux_shm_shmat"], obj, "shmat() without SHM_RDONLY.")
        if perm == "lock":
            return e(["shmctl"], ["selinux_shm_shmctl"], obj, "shmctl(SHM_LOCK/SHM_UNLOCK).")
    if cls == "sem":
        if perm == "read":
            return e(["semop", "semtimedop", "semctl"], ["selinux_sem_semop",
                                                         "selinux_sem_semctl"], obj,
                     "semop() and semctl(GETVAL/GETALL).")
        if perm == "write":
            return e(["semop", "semtimedop", "semctl"], ["selinux_sem_semop",
                                                         "selinux_sem_semctl"], obj,
                     "semop() that alters values and semctl(SETVAL/SETALL).")
    raise KeyError((cls, perm))


MISC = {
    ("msg", "send"): e(["msgsnd"], ["selinux_msg_queue_msgsnd"],
                       "the new message's label (type_transition on the queue)",
                       "msgsnd(): sender -> message."),
    ("msg", "receive"): e(["msgrcv"], ["selinux_msg_queue_msgrcv"],
                          "the message's label", "msgrcv(): receiver -> message."),
    ("memprotect", "mmap_zero"): e(["mmap", "mremap"], ["selinux_mmap_addr"], SELF,
                                   "Mapping below CONFIG_LSM_MMAP_MIN_ADDR (65536 on Debian) "
                                   "with MAP_FIXED or a low hint (wine, dosemu); also needs "
                                   "capability sys_rawio below vm.mmap_min_addr."),
    ("kernel_service", "use_as_override"): e([], ["selinux_kernel_act_as"],
                                             "the security context a kernel service acts as",
                                             "A kernel service (cachefiles, nfsd) borrowing "
                                             "another context; reached only through such "
                                             "services (e.g. the cachefilesd daemon's 'bind' "
                                             "command), not a general syscall."),
    ("kernel_service", "create_files_as"): e([], ["selinux_kernel_create_files_as"],
                                             "the label files will be created with",
                                             "A kernel service creating files as another "
                                             "label (cachefiles); not a general syscall."),
    ("key", "view"): e(["keyctl", "add_key", "request_key"], ["selinux_key_permission",
                                                              "selinux_watch_key"],
                       "the key or keyring (labelled with its creator's domain)",
                       "keyctl(KEYCTL_DESCRIBE, KEYCTL_GET_SECURITY), /proc/keys, key "
                       "watches."),
    ("key", "read"): e(["keyctl"], ["selinux_key_permission"], "the key or keyring",
                       "keyctl(KEYCTL_READ) (kernel keyring secrets, e.g. Kerberos, "
                       "fscrypt)."),
    ("key", "write"): e(["keyctl", "add_key"], ["selinux_key_permission"], "the key or keyring",
                        "Updating a key or adding to a keyring (KEYCTL_UPDATE, "
                        "KEYCTL_INSTANTIATE, add_key to an existing keyring)."),
    ("key", "search"): e(["keyctl", "request_key"], ["selinux_key_permission"],
                         "the keyring searched",
                         "request_key, KEYCTL_SEARCH, and looking up keyrings such as the "
                         "session keyring."),
    ("key", "link"): e(["keyctl", "add_key", "request_key"], ["selinux_key_permission"],
                       "the key being linked", "KEYCTL_LINK, adding a key into a keyring."),
    ("key", "setattr"): e(["keyctl"], ["selinux_key_permission"], "the key or keyring",
                          "KEYCTL_CHOWN, KEYCTL_SETPERM, KEYCTL_SET_TIMEOUT, KEYCTL_RESTRICT."),
    ("key", "create"): e(["write"], ["selinux_setprocattr"],
                         "the label given to /proc/self/attr/keycreate",
                         "Only checked when setkeycreatecon() names a key label; key creation "
                         "with add_key itself has no SELinux create check in 6.1."),
    ("bpf", "map_create"): e(["bpf"], ["selinux_bpf"], SELF, "bpf(BPF_MAP_CREATE)."),
    ("bpf", "prog_load"): e(["bpf"], ["selinux_bpf"], SELF, "bpf(BPF_PROG_LOAD)."),
    ("bpf", "map_read"): e(["bpf", "recvmsg"], ["selinux_bpf_map", "bpf_fd_pass"],
                           "the map's label (creating domain)",
                           "Getting a read fd to a bpf map (BPF_MAP_GET_FD_BY_ID, "
                           "BPF_OBJ_GET) or receiving one over a unix socket."),
    ("bpf", "map_write"): e(["bpf", "recvmsg"], ["selinux_bpf_map", "bpf_fd_pass"],
                            "the map's label", "As map_read, for write access."),
    ("bpf", "prog_run"): e(["bpf", "recvmsg", "setsockopt"], ["selinux_bpf_prog", "bpf_fd_pass"],
                           "the program's label",
                           "Getting an fd to a bpf program (BPF_PROG_GET_FD_BY_ID, "
                           "BPF_OBJ_GET) or receiving one."),
    ("perf_event", "open"): e(["perf_event_open"], ["selinux_perf_event_open"], SELF,
                              "Every perf_event_open()."),
    ("perf_event", "cpu"): e(["perf_event_open"], ["selinux_perf_event_open"], SELF,
                             "perf_event_open() on a CPU rather than a task."),
    ("perf_event", "kernel"): e(["perf_event_open"], ["selinux_perf_event_open"], SELF,
                                "perf events that observe the kernel."),
    ("perf_event", "tracepoint"): e(["perf_event_open"], ["selinux_perf_event_open"], SELF,
                                    "Tracepoint events with raw sample data."),
    ("perf_event", "read"): e(["read"], ["selinux_perf_event_read"],
                              "the perf event (its creator's domain)", "read() of a perf fd."),
    ("perf_event", "write"): e(["ioctl"], ["selinux_perf_event_write"], "the perf event",
                               "Modifying an event (PERF_EVENT_IOC_* ioctls)."),
    ("io_uring", "override_creds"): e(["io_uring_enter"], ["selinux_uring_override_creds"],
                                      "the credentials registered with "
                                      "IORING_REGISTER_PERSONALITY",
                                      "Submitting io_uring requests with another registered "
                                      "personality."),
    ("io_uring", "sqpoll"): e(["io_uring_setup"], ["selinux_uring_sqpoll"], SELF,
                              "io_uring_setup with IORING_SETUP_SQPOLL (kernel polling "
                              "thread). Note that ordinary io_uring reads/writes/sends run "
                              "through the same file and socket hooks as the plain syscalls."),
    ("io_uring", "cmd"): e(["io_uring_enter"], ["selinux_uring_cmd"], "the target file",
                           "IORING_OP_URING_CMD passthrough commands. The io_uring class in "
                           "the Debian 12 policy lacks 'cmd', so with handle_unknown=allow "
                           "this check always passes there.", "unknown_to_policy"),
    ("binder", "impersonate"): e(["ioctl"], ["selinux_binder_transaction"], TARGET,
                                 "Android binder (not used on Debian servers)."),
    ("binder", "call"): e(["ioctl"], ["selinux_binder_transaction"], TARGET,
                          "Android binder transactions (BINDER_WRITE_READ)."),
    ("binder", "set_context_mgr"): e(["ioctl"], ["selinux_binder_set_context_mgr"], SELF,
                                     "Android binder BINDER_SET_CONTEXT_MGR."),
    ("binder", "transfer"): e(["ioctl"], ["selinux_binder_transfer_binder"], TARGET,
                              "Android binder object transfer."),
    ("infiniband_pkey", "access"): e(["ioctl", "write"], ["selinux_ib_pkey_access"],
                                     "the InfiniBand partition key's type (ibpkeycon)",
                                     "Using an InfiniBand partition key (RDMA QP setup)."),
    ("infiniband_endport", "manage_subnet"): e(["open", "write"],
                                               ["selinux_ib_endport_manage_subnet"],
                                               "the InfiniBand end port's type (ibendportcon)",
                                               "Opening the SMI QP for subnet management."),
    ("lockdown", "integrity"): never("Linux 6.1 has no SELinux lockdown hook (the checks were "
                                     "removed in 5.16) and its class map has no lockdown "
                                     "class; the permission exists only in the policy."),
    ("lockdown", "confidentiality"): never("Linux 6.1 has no SELinux lockdown hook (removed in "
                                           "5.16); the permission exists only in the policy."),
    ("context", "translate"): e([], [], "an MLS/MCS range", "Userspace (mcstrans) permission; "
                                "gates no syscall.", "userspace"),
    ("context", "contains"): e([], [], "an MLS/MCS range", "Userspace permission checked with "
                               "selinux_check_access (e.g. by PAM/sshd for MCS ranges); gates "
                               "no syscall.", "userspace"),
    ("context", "unused_perm"): e([], [], "-", "Placeholder permission; never checked.",
                                  "userspace"),
}

USERSPACE_MANAGER = {
    "x_": "the X server (XSELinux extension)",
    "db_": "SE-PostgreSQL (sepgsql)",
    "dbus": "dbus-daemon / dbus-broker",
    "nscd": "nscd",
    "passwd": "the passwd/chfn/chsh/crontab programs",
    "service": "systemd (unit start/stop/status/...)",
    "obsolete_netlink": "nobody: the kernel maps these netlink protocols to no class any more",
}


def userspace_entry(cls, perm):
    for prefix, who in USERSPACE_MANAGER.items():
        if cls.startswith(prefix):
            if prefix == "obsolete_netlink":
                return never("Obsolete class kept in refpolicy for old kernels; Linux 6.1 never "
                             "labels a socket with it.")
            return e([], [], f"objects managed by {who}",
                     f"Userspace permission: checked by {who} through libselinux "
                     "(avc_has_perm / selinux_check_access, which asks the kernel via "
                     "security:compute_av), never by the kernel itself; gates no syscall.",
                     "userspace")
    raise KeyError((cls, perm))
