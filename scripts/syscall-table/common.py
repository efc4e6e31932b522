"""Shared vocabulary for the syscall table generator (kept out of the repo)."""

OPEN = ["open", "openat", "openat2", "creat", "open_by_handle_at"]
READ_IO = ["read", "readv", "pread64", "preadv", "preadv2"]
WRITE_IO = ["write", "writev", "pwrite64", "pwritev", "pwritev2"]
XFER = ["sendfile", "splice", "copy_file_range"]
STAT = ["stat", "lstat", "fstat", "newfstatat", "statx"]
XATTR_GET = ["getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr"]
XATTR_SET = ["setxattr", "lsetxattr", "fsetxattr"]
XATTR_RM = ["removexattr", "lremovexattr", "fremovexattr"]
CHMOD = ["chmod", "fchmod", "fchmodat"]
CHOWN = ["chown", "fchown", "lchown", "fchownat"]
UTIME = ["utime", "utimes", "utimensat", "futimesat"]
CREATE_PATH = ["mknod", "mknodat"]
UNLINK = ["unlink", "unlinkat"]
RENAME = ["rename", "renameat", "renameat2"]
LINK = ["link", "linkat"]
MMAP = ["mmap", "remap_file_pages"]
MPROTECT = ["mprotect", "pkey_mprotect"]
WATCH = ["inotify_add_watch", "fanotify_mark", "fcntl"]
SEND = ["sendto", "sendmsg", "sendmmsg", "write", "writev"]
RECV = ["recvfrom", "recvmsg", "recvmmsg", "read", "readv"]
KILL = ["kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal"]
SETID_UID = ["setuid", "setreuid", "setresuid", "setfsuid"]
SETID_GID = ["setgid", "setregid", "setresgid", "setfsgid", "setgroups"]
SCHED_SET = ["sched_setscheduler", "sched_setparam", "sched_setattr", "sched_setaffinity",
             "setpriority", "ioprio_set"]
SCHED_GET = ["sched_getscheduler", "sched_getparam", "sched_getattr", "sched_getaffinity",
             "sched_rr_get_interval", "ioprio_get"]
PATH_LOOKUP = ["open", "openat", "openat2", "creat", "execve", "execveat", "stat", "lstat",
               "newfstatat", "statx", "access", "faccessat", "faccessat2", "chdir", "chroot",
               "mkdir", "mkdirat", "unlink", "unlinkat", "rename", "renameat", "renameat2",
               "readlink", "readlinkat", "connect", "bind"]

REVALIDATE = (
    "At open() the inode is checked (selinux_inode_permission, then selinux_file_open). A later "
    "read/write on the fd goes through selinux_file_permission, which reuses the open-time "
    "decision when the caller is the domain that opened the fd and neither the file's label nor "
    "the policy changed since; otherwise (fd inherited across a domain transition, received over "
    "a unix socket, or used after setcon()) fd:use and this permission are re-checked on every "
    "call. Files that were never open()ed (pipes, sockets, memfds) are re-checked on every "
    "read/write.")

SOCK_LABEL = (
    "The object is the socket, labelled with the domain that created it (or its "
    "type_transition / setsockcreatecon label), not the peer and not the port. A socket "
    "created by an earlier phase keeps that phase's label, so a later phase needs this "
    "permission on the opener's type.")


# Shared notes are stored once in the JSON ("notes") and referenced by key ("see").
SHARED = {"fd_revalidation": REVALIDATE, "socket_label": SOCK_LABEL}
