"""Syscalls SELinux (Linux 6.1) does not mediate."""

UNMEDIATED = [
    # identity and time
    "getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid", "getresuid",
    "getresgid", "getgroups", "getpgrp", "getpriority", "getrlimit", "getrusage", "times",
    "sysinfo", "uname", "getcpu", "gettimeofday", "time", "clock_gettime", "clock_getres",
    "clock_nanosleep", "nanosleep", "timer_gettime", "timer_settime", "timer_getoverrun",
    "timer_delete", "getitimer", "setitimer", "alarm", "timerfd_settime", "timerfd_gettime",
    # scheduling, memory, synchronisation
    "sched_yield", "sched_get_priority_max", "sched_get_priority_min", "futex", "futex_waitv",
    "set_robust_list", "set_tid_address", "rseq", "membarrier", "munmap", 
    "msync", "munlock", "munlockall", "arch_prctl", "personality",
    "getrandom",
    # fds and waiting
    "close", "close_range", "dup", "dup2", "dup3", "lseek", "fsync", "fdatasync", "sync",
    "syncfs", "sync_file_range", "fadvise64", "select", "pselect6", "poll", "ppoll",
    "epoll_create", "epoll_create1", "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd",
    "eventfd2", "signalfd", "signalfd4", "inotify_init", "inotify_init1",
    "inotify_rm_watch", "pidfd_open", "getcwd", "umask",
    # signals and process lifetime
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigtimedwait",
    "rt_sigsuspend", "sigaltstack", "pause", "exit", "exit_group", "wait4", "waitid",
    "setsid", "restart_syscall",
    # pipe buffers moved without selinux_file_permission (fs/splice.c): vmsplice_to_pipe and
    # vmsplice_to_user check only that the fd is a pipe open in the right mode, link_pipe (tee)
    # the same; the lab saw vmsplice fill a pipe of ptunnel_steady_t where write() on that
    # pipe was denied (fifo_file write)
    "vmsplice", "tee",
]

PARTLY = {
    "splice": "Checked through rw_verify_area (CLASS:read on the input, CLASS:write on the "
              "output, fd:use for another domain's fd) when an end is a file, device or "
              "socket; pipe to pipe (splice_pipe_to_pipe) is not checked at all.",
    "brk": "Not checked in practice: selinux_vm_enough_memory runs a no-audit capability "
           "sys_admin query that never fails the call; the only possible denials are "
           "memprotect:mmap_zero for a break below mmap_min_addr and capability ipc_lock when "
           "mlockall(MCL_FUTURE) is in force beyond RLIMIT_MEMLOCK.",
    "mremap": "Not checked except memprotect:mmap_zero when moving below mmap_min_addr "
              "(MREMAP_FIXED) and capability ipc_lock for locked mappings beyond "
              "RLIMIT_MEMLOCK; the vm_enough_memory query never fails.",
    "madvise": "Not checked except capability sys_admin for MADV_HWPOISON/MADV_SOFT_OFFLINE.",
    "mincore": "Anonymous mappings are not checked; for a file mapping the kernel asks "
               "whether the caller owns or may write the file (inode_owner_or_capable, "
               "file_permission), which reaches capability fowner / file:write checks.",
    "read": "Not re-checked when the caller is the domain that opened the fd and neither the "
            "file's label nor the policy changed since open() (the open-time decision is "
            "reused); re-checked as fd:use + CLASS:read otherwise (after setcon(), across a "
            "domain-changing exec, on received fds), and on every call for fds that were never "
            "open()ed (pipes, sockets). Reads of eventfd/timerfd/signalfd/epoll/inotify fds "
            "are never checked (private inode), except fd:use for another domain's fd.",
    "write": "As read: reuses the open-time decision for the opener's own fds; re-checked as "
             "fd:use + CLASS:write/append otherwise; always checked on pipes and sockets.",
    "mmap": "Anonymous mappings without PROT_EXEC at or above mmap_min_addr are not checked "
            "(only a no-audit capability sys_admin query in selinux_vm_enough_memory that "
            "never fails the call). File mappings are checked (CLASS:map, read, write for "
            "MAP_SHARED|PROT_WRITE, execute for PROT_EXEC); PROT_EXEC anonymous or private "
            "writable mappings need process:execmem; low addresses memprotect:mmap_zero.",
    "mprotect": "Not checked for anonymous memory without PROT_EXEC. Checked: PROT_EXEC on "
                "the heap (process:execheap), the stack (process:execstack), COWed file pages "
                "(file:execmod), anonymous or private writable memory (process:execmem); and "
                "any mprotect of a file-backed mapping re-checks read/write/execute on the "
                "file (file_map_prot_check).",
    "pkey_mprotect": "Same as mprotect.",
    "fstat": "Checked as CLASS:getattr on the inode (no fd:use); private anonymous inodes "
             "(eventfd, epoll, ...) are not checked.",
    "fcntl": "F_DUPFD/F_DUPFD_CLOEXEC/F_GETFD/F_SETFD and F_SETPIPE_SZ/F_GETPIPE_SZ are not "
             "checked; F_GETFL/F_SETFL/F_GETOWN/F_SETOWN/F_*SIG check only fd:use (another "
             "domain's fd); locks need CLASS:lock; clearing O_APPEND needs CLASS:write; "
             "F_NOTIFY needs CLASS:watch.",
    "ioctl": "Always checked (CLASS:ioctl or getattr/setattr for a few generic commands), "
             "except FIONBIO/FIOASYNC which only check fd:use on another domain's fd, and ioctls "
             "on private anonymous inodes (eventfd, epoll, ...).",
    "epoll_ctl": "Not checked, except capable(CAP_BLOCK_SUSPEND) (capability2:block_suspend) "
                 "for EPOLLWAKEUP, whose refusal only clears the flag.",
    "pipe": "Creation is not checked (apart from capability sys_resource/sys_admin when the "
            "per-user pipe buffer limit is exceeded); every read/write on the pipe is then "
            "checked as fifo_file read/write on the pipe, labelled with the creating domain.",
    "pipe2": "Same as pipe.",
    "memfd_create": "Creation is not checked; later read/write/mmap of the memfd are checked "
                    "against its tmpfs label like any file.",
    "timer_create": "Not checked except capability2:wake_alarm for CLOCK_*_ALARM clocks.",
    "timerfd_create": "Not checked except capability2:wake_alarm for CLOCK_*_ALARM clocks.",
    "mlock": "Not checked while within RLIMIT_MEMLOCK; capability ipc_lock beyond it.",
    "mlock2": "Same as mlock.",
    "mlockall": "Same as mlock.",
    "getpgid": "getpgid(0) is not checked; getpgid(pid) is process:getpgid.",
    "getsid": "getsid(0) is not checked; getsid(pid) is process:getsession.",
    "prlimit64": "Reading one's own limits and changing only soft limits of oneself are not "
                 "checked; changing a hard limit is process:setrlimit, another process "
                 "process:getrlimit/setrlimit.",
    "setrlimit": "Changing only the soft limit is not checked; changing the hard limit is "
                 "process:setrlimit.",
    "get_robust_list": "Not checked for oneself; another process needs file:read on its "
                       "label (PTRACE_MODE_READ).",
    "prctl": "Mostly not checked (PR_SET_NAME, PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE, "
             "PR_SET_PDEATHSIG, PR_SET_KEEPCAPS ...); PR_CAPBSET_DROP and PR_SET_SECUREBITS "
             "need capability setpcap, PR_SET_MM capability sys_resource.",
    "seccomp": "Not checked with no_new_privs set; otherwise capability sys_admin.",
    "setuid": "No SELinux hook: switching among one's own ids is unmediated, anything else "
              "is capability:setuid. Same for setgid/setre*id/setres*id/setfs*id "
              "(capability:setgid), and setgroups always needs capability:setgid.",
    "unshare": "CLONE_NEWUSER is checked as user_namespace:create, which the Debian 12 "
               "policy does not define (handle_unknown=allow), so creating a user namespace "
               "is not mediated under this policy; other namespaces need capability "
               "sys_admin; CLONE_FILES/CLONE_FS unsharing is not checked.",
    "socket": "Checked as CLASS:create, except sockets created by the kernel itself.",
    "sendto": "Checked on the socket (CLASS:write), without fd:use.",
}

NOTE = (
    "Syscalls in 'syscalls' reach no SELinux hook in Linux 6.1 (x86-64 names), whatever "
    "the arguments; 'partly' lists syscalls whose mediation depends on the arguments or on "
    "who opened the fd. Two facts of the Debian 12 policy widen what is unmediated: it is "
    "built with handle_unknown=allow, so checks of classes/permissions the kernel knows but "
    "the policy does not define always pass (user_namespace:create for unshare/clone "
    "CLONE_NEWUSER, io_uring:cmd); and it does not set always_check_network, so the "
    "per-packet node/netif/peer checks only happen when NetLabel or labelled IPsec is "
    "configured and packet:* only with SECMARK rules. Signals the kernel generates (SIGCHLD "
    "on child exit, SIGPIPE, SIGSEGV, timer signals) and waiting for children are never "
    "checked. getrandom and /dev/urandom differ: the syscall is unmediated, opening the "
    "device needs chr_file permissions.")
