"""Syscall families: which permissions they need."""

from common import *  # noqa: F401,F403

FILE_CLASSES = ["file", "dir", "lnk_file", "chr_file", "blk_file", "sock_file", "fifo_file"]
OPENABLE = ["file", "dir", "chr_file", "blk_file", "fifo_file"]
CONTENT = ["file", "chr_file", "blk_file", "fifo_file"]
SIGNALS = ["process:signal", "process:sigkill", "process:sigstop", "process:sigchld",
           "process:signull"]


def fam(syscalls, needs, note, requires=None, label=None):
    """A family; ``label`` is how reports name it when the name alone misleads."""
    d = {"syscalls": list(dict.fromkeys(syscalls)), "needs": list(dict.fromkeys(needs)),
         "note": note}
    if requires is not None:
        d["requires"] = [list(dict.fromkeys(c)) for c in requires]
    if label is not None:
        d["label"] = label
    return d


def families(socket_classes, netlink_classes, inet_bind_classes):
    cp = lambda classes, perm: [f"{c}:{perm}" for c in classes]  # noqa: E731
    F = {}
    F["execve"] = fam(["execve", "execveat"],
                      ["file:execute", "file:execute_no_trans", "file:entrypoint",
                       "process:transition"],
                      "Running another program. Needs file:execute (+read, open, map) on the "
                      "binary, and either file:execute_no_trans (stay in the domain) or "
                      "process:transition to a domain that has file:entrypoint on it "
                      "(entrypoint is checked with the NEW domain as source, so it is not a "
                      "permission of the calling phase).",
                      [["file:execute"], ["file:execute_no_trans", "process:transition"]])
    F["open"] = fam(OPEN + ["truncate", "uselib"], cp(OPENABLE, "open") + ["sock_file:open"],
                    "Opening any filesystem object for reading or writing (every such open "
                    "checks CLASS:open because the policy sets open_perms). open(O_PATH) is "
                    "not mediated beyond dir:search of the path.",
                    [cp(OPENABLE, "open") + ["sock_file:open"]])
    F["read_files"] = fam(OPEN + READ_IO + XFER + ["getdents64", "mmap"],
                          cp(CONTENT, "read") + ["dir:read"],
                          "Reading file, device or fifo contents, or listing a directory. "
                          "(Pipes inherited from the starting domain are fifo_file.)",
                          [cp(CONTENT, "read") + ["dir:read"]])
    F["write_files"] = fam(OPEN + WRITE_IO + XFER + ["truncate", "ftruncate", "fallocate", "mmap"],
                           cp(CONTENT, "write") + cp(CONTENT, "append"),
                           "Modifying the contents of files, devices or fifos (write or append).",
                           [cp(CONTENT, "write") + cp(CONTENT, "append")])
    F["create_files"] = fam(OPEN + ["mkdir", "mkdirat", "mknod", "mknodat", "symlink",
                                    "symlinkat", "link", "linkat", "rename", "renameat",
                                    "renameat2", "bind"],
                            ["dir:add_name"] + cp(FILE_CLASSES, "create"),
                            "Making a new name in any directory: creating files, directories, "
                            "symlinks, device nodes, fifos, AF_UNIX socket files, hard links "
                            "and rename targets all need dir:add_name on the parent.",
                            [["dir:add_name"], ["dir:write"]])
    F["delete_files"] = fam(UNLINK + ["rmdir"] + RENAME,
                            ["dir:remove_name", "dir:rmdir"] + cp(FILE_CLASSES, "unlink"),
                            "Removing or replacing a name (unlink, rmdir, rename): always needs "
                            "dir:remove_name (and dir:write) on the parent.",
                            [["dir:remove_name"], ["dir:write"]])
    F["rename_link"] = fam(RENAME + LINK, cp(FILE_CLASSES, "rename") + cp(FILE_CLASSES, "link"),
                           "Moving files or making hard links to existing ones.",
                           [cp(FILE_CLASSES, "rename") + cp(FILE_CLASSES, "link"),
                            ["dir:add_name"]])
    F["setattr_files"] = fam(CHMOD + CHOWN + UTIME + XATTR_SET + XATTR_RM,
                             cp(FILE_CLASSES, "setattr"),
                             "chmod/chown/explicit timestamps/extended attributes of files.",
                             [cp(FILE_CLASSES, "setattr")])
    F["relabel"] = fam(XATTR_SET, cp(FILE_CLASSES, "relabelfrom") + cp(FILE_CLASSES, "relabelto"),
                       "Changing SELinux labels of files (setfilecon, chcon, restorecon).",
                       [cp(FILE_CLASSES, "relabelfrom"), cp(FILE_CLASSES, "relabelto")])
    F["mount"] = fam(["mount", "umount2", "move_mount", "fsconfig"],
                     ["filesystem:mount", "filesystem:remount", "filesystem:unmount",
                      "dir:mounton", "file:mounton"],
                     "Mounting, remounting, moving and unmounting filesystems. All of them "
                     "also need capability sys_admin. pivot_root, open_tree, fsopen, fsmount "
                     "and mount_setattr have no SELinux hook in 6.1 (capability sys_admin "
                     "only).",
                     [["filesystem:mount", "filesystem:remount", "filesystem:unmount",
                       "dir:mounton", "file:mounton"], ["capability:sys_admin"]])
    F["ptrace"] = fam(["ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd"],
                      ["process:ptrace"],
                      "Attaching to, reading/writing the memory of, or stealing fds from "
                      "another process. PTRACE_TRACEME is checked as parent -> child. "
                      "Processes of another uid also need capability sys_ptrace.",
                      [["process:ptrace"]])
    F["module_load"] = fam(["init_module", "finit_module"],
                           ["system:module_load", "capability:sys_module"],
                           "Loading kernel modules: needs BOTH capability sys_module and "
                           "system:module_load. delete_module needs only capability sys_module.",
                           [["system:module_load"], ["capability:sys_module"]])
    F["module_request"] = fam([], ["system:module_request"],
                              "Making the kernel auto-load a module on the caller's behalf "
                              "(socket of an unloaded family, unknown netdev name).",
                              [["system:module_request"]])
    F["socket_create"] = fam(["socket", "socketpair"], cp(socket_classes, "create"),
                             "Creating any socket.", [cp(socket_classes, "create")])
    F["raw_socket"] = fam(["socket"], ["rawip_socket:create", "packet_socket:create"],
                          "Raw IP and packet sockets (sniffing, crafting packets); the kernel "
                          "also requires capability net_raw.",
                          [["rawip_socket:create", "packet_socket:create"],
                           ["capability:net_raw"]])
    F["netlink_socket"] = fam(["socket"], cp(netlink_classes, "create"),
                              "Creating netlink sockets of any protocol.",
                              [cp(netlink_classes, "create")])
    F["netlink_route_write"] = fam(["sendto", "sendmsg", "write"],
                                   ["netlink_route_socket:nlmsg_write"],
                                   "Changing links, addresses, routes over rtnetlink; also "
                                   "needs capability net_admin for the sending domain.",
                                   [["netlink_route_socket:nlmsg_write"],
                                    ["capability:net_admin"]])
    F["bind"] = fam(["bind"], cp(socket_classes, "bind"),
                    "Explicitly binding any socket (implicit autobind is not checked).",
                    [cp(socket_classes, "bind")])
    F["name_bind"] = fam(["bind"], cp(inet_bind_classes, "name_bind"),
                         "Binding an inet socket to a reserved port (< 1024, also needs "
                         "capability net_bind_service) or to a port outside "
                         "ip_local_port_range.",
                         [cp(inet_bind_classes, "name_bind")])
    F["connect"] = fam(["connect"], cp(socket_classes, "connect"),
                       "connect() on any socket.", [cp(socket_classes, "connect")])
    F["name_connect"] = fam(["connect", "sendto", "sendmsg"],
                            ["tcp_socket:name_connect", "sctp_socket:name_connect",
                             "dccp_socket:name_connect"],
                            "Opening TCP (SCTP, DCCP) connections to any port type.",
                            [["tcp_socket:name_connect", "sctp_socket:name_connect",
                              "dccp_socket:name_connect"]])
    F["listen_accept"] = fam(["listen", "accept", "accept4"],
                             cp(socket_classes, "listen") + cp(socket_classes, "accept"),
                             "Serving connections.",
                             [cp(socket_classes, "listen") + cp(socket_classes, "accept")])
    F["unix_connect"] = fam(["connect", "sendto", "sendmsg"],
                            ["unix_stream_socket:connectto", "unix_dgram_socket:sendto"],
                            "Talking to another domain's AF_UNIX socket (daemon control "
                            "sockets, /dev/log, D-Bus).",
                            [["unix_stream_socket:connectto", "unix_dgram_socket:sendto"]])
    F["kill"] = fam(KILL, SIGNALS,
                    "Sending signals with kill/tkill/tgkill/sigqueue/pidfd_send_signal, "
                    "including to oneself (abort() and raise() use tgkill on oneself). "
                    "Kernel-generated signals (SIGCHLD on child exit, SIGPIPE, SIGSEGV, timer "
                    "expiry) are never checked.",
                    [SIGNALS])
    F["setuid"] = fam(SETID_UID + SETID_GID, ["capability:setuid", "capability:setgid"],
                      "Changing to another uid/gid. SELinux has no hook of its own here; it "
                      "only controls the setuid/setgid capabilities. Switching among one's "
                      "own real/effective/saved ids is not mediated at all.",
                      [["capability:setuid", "capability:setgid"]])
    F["chroot"] = fam(["chroot"], ["capability:sys_chroot"],
                      "chroot(): capability sys_chroot plus dir:search on the new root.",
                      [["capability:sys_chroot"]])
    F["setcon"] = fam(["write"], ["process:setcurrent", "process:dyntransition"],
                      "Switching the running process to another domain (setcon, writing "
                      "/proc/self/attr/current): needs setcurrent on itself and dyntransition "
                      "to the new domain.",
                      [["process:setcurrent"], ["process:dyntransition"]])
    F["set_create_contexts"] = fam(["write"], ["process:setexec", "process:setfscreate",
                                               "process:setkeycreate", "process:setsockcreate"],
                                   "setexeccon/setfscreatecon/setkeycreatecon/setsockcreatecon.",
                                   [["process:setexec", "process:setfscreate",
                                     "process:setkeycreate", "process:setsockcreate"]])
    F["fork"] = fam(["fork", "vfork", "clone", "clone3"], ["process:fork"],
                    "Creating processes or threads.", [["process:fork"]])
    F["exec_memory"] = fam(["mmap", "mprotect", "pkey_mprotect"],
                           ["process:execmem", "process:execstack", "process:execheap",
                            "file:execmod", "chr_file:execmod"],
                           "Making writable or anonymous memory executable (JIT, code "
                           "injection). Mapping executable files read-only is file:execute.",
                           [["process:execmem", "process:execstack", "process:execheap",
                             "file:execmod", "chr_file:execmod"]])
    F["setrlimit"] = fam(["setrlimit", "prlimit64"], ["process:setrlimit"],
                         "Changing hard resource limits (soft-only changes of oneself are "
                         "not checked).", [["process:setrlimit"]])
    F["setpgid"] = fam(["setpgid"], ["process:setpgid"], "Changing process groups "
                       "(setsid is not checked).", [["process:setpgid"]])
    F["setsched"] = fam(SCHED_SET + ["migrate_pages", "move_pages"], ["process:setsched"],
                        "Changing scheduling, nice value, affinity or I/O priority, of oneself "
                        "or others.", [["process:setsched"]])
    F["capset"] = fam(["capset"], ["process:setcap"], "Changing one's capability sets "
                      "(also to drop them).", [["process:setcap"]])
    F["load_policy"] = fam(["write"], ["security:load_policy"],
                           "Loading a new SELinux policy.", [["security:load_policy"]])
    F["setenforce"] = fam(["write"], ["security:setenforce"],
                          "Switching SELinux to permissive or enforcing.",
                          [["security:setenforce"]])
    F["setbool"] = fam(["write"], ["security:setbool"], "Changing SELinux booleans.",
                       [["security:setbool"]])
    F["syslog"] = fam(["syslog"], ["system:syslog_read", "system:syslog_mod",
                                   "system:syslog_console"],
                      "Reading or controlling the kernel log buffer.",
                      [["system:syslog_read", "system:syslog_mod", "system:syslog_console"]],
                      label="syslog(2) (the kernel log buffer; syslog(3) logging goes through "
                            "a socket)")
    F["sysv_ipc"] = fam(["msgget", "msgsnd", "msgrcv", "msgctl", "shmget", "shmat", "shmctl",
                         "semget", "semop", "semtimedop", "semctl"],
                        ["msgq:create", "msgq:associate", "shm:create", "shm:associate",
                         "sem:create", "sem:associate"],
                        "System V message queues, shared memory and semaphores (create or "
                        "associate is needed before any use).",
                        [["msgq:create", "msgq:associate", "shm:create", "shm:associate",
                          "sem:create", "sem:associate"]])
    F["bpf"] = fam(["bpf"], ["bpf:map_create", "bpf:prog_load", "bpf:map_read",
                             "bpf:map_write", "bpf:prog_run"],
                   "Creating or using eBPF maps and programs.",
                   [["bpf:map_create", "bpf:prog_load", "bpf:map_read", "bpf:map_write",
                     "bpf:prog_run"]])
    F["perf_event"] = fam(["perf_event_open"], ["perf_event:open"],
                          "Performance monitoring and tracing.", [["perf_event:open"]])
    F["keyring"] = fam(["add_key", "request_key", "keyctl"],
                       ["key:view", "key:read", "key:write", "key:search", "key:link",
                        "key:setattr"],
                       "Kernel keyrings.",
                       [["key:view", "key:read", "key:write", "key:search", "key:link",
                         "key:setattr"]])
    F["quota"] = fam(["quotactl"], ["filesystem:quotamod", "filesystem:quotaget",
                                    "file:quotaon"],
                     "Disk quota management.",
                     [["filesystem:quotamod", "filesystem:quotaget", "file:quotaon"]])
    F["watch_files"] = fam(["inotify_add_watch", "fanotify_mark"],
                           [f"{c}:{p}" for c in FILE_CLASSES for p in
                            ("watch", "watch_mount", "watch_sb")],
                           "inotify/fanotify/dnotify watches.",
                           [[f"{c}:{p}" for c in FILE_CLASSES for p in
                             ("watch", "watch_mount", "watch_sb")]])
    F["capabilities"] = fam([], [f"capability:{p}" for p in CAPABILITY_PERMS] +
                            [f"capability2:{p}" for p in CAPABILITY2_PERMS],
                            "Any use of a Linux capability in the initial user namespace.",
                            [[f"capability:{p}" for p in CAPABILITY_PERMS] +
                             [f"capability2:{p}" for p in CAPABILITY2_PERMS]])
    F["reboot_kexec"] = fam(["reboot", "kexec_load", "kexec_file_load"],
                            ["capability:sys_boot"],
                            "Rebooting or replacing the kernel: no SELinux hook beyond "
                            "capability sys_boot.", [["capability:sys_boot"]])
    F["set_time"] = fam(["settimeofday", "clock_settime", "adjtimex", "clock_adjtime"],
                        ["capability:sys_time"],
                        "Setting the clock (adjtimex in read-only mode needs nothing).",
                        [["capability:sys_time"]])
    F["namespaces"] = fam(["unshare", "setns", "clone", "clone3"], ["capability:sys_admin"],
                          "Creating or joining mount/net/uts/ipc/pid/cgroup namespaces: only "
                          "capability sys_admin. A NEW USER namespace (unshare/clone "
                          "CLONE_NEWUSER) is checked as user_namespace:create, a class the "
                          "Debian 12 policy does not define, so with handle_unknown=allow it "
                          "is NOT mediated there.",
                          [["capability:sys_admin"]])
    return F


CAPABILITY_PERMS = ["chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill",
                    "setgid", "setuid", "setpcap", "linux_immutable", "net_bind_service",
                    "net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
                    "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
                    "sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time",
                    "sys_tty_config", "mknod", "lease", "audit_write", "audit_control",
                    "setfcap"]
CAPABILITY2_PERMS = ["mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend",
                     "audit_read", "perfmon", "bpf", "checkpoint_restore"]
