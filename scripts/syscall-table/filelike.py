"""Entries for the file-like classes (common file permissions)."""

from common import *  # noqa: F401,F403

FILE_LIKE = ["file", "dir", "lnk_file", "chr_file", "blk_file", "sock_file", "fifo_file",
             "anon_inode"]

INODE_OBJ = "the inode's label (the file, directory, device node, ... named or referred to by the fd)"


def e(syscalls, hooks, objects, note, mediation="checked"):
    see = []
    for key, text in list(SHARED.items()):
        if text in note:
            note = note.replace(text, "").replace("  ", " ").strip()
            see.append(key)
    d = {"syscalls": list(dict.fromkeys(syscalls)), "hooks": list(dict.fromkeys(hooks)),
         "objects": objects, "mediation": mediation, "note": note}
    if see:
        d["see"] = see
    return d


def never(reason, hooks=()):
    return e([], list(hooks), "-", reason, "never")


def common_file(cls: str, perm: str):
    """Default entry for a common-file permission on a file-like class."""
    what = {
        "file": "regular file", "dir": "directory", "lnk_file": "symbolic link",
        "chr_file": "character device node", "blk_file": "block device node",
        "sock_file": "unix-domain socket file (the name in the filesystem, not the socket)",
        "fifo_file": "named pipe (mkfifo) or anonymous pipe (pipe/pipe2, labelled with the creating domain)",
        "anon_inode": "'secure' anonymous inode (in 6.1 only userfaultfd and io_uring fds)",
    }[cls]
    obj = f"the {what}"
    if perm == "ioctl":
        return e(["ioctl"], ["selinux_file_ioctl", "ioctl_has_perm"], obj,
                 "Every ioctl command on the fd except FIONREAD/FIBMAP/FIGETBSZ/FS_IOC_GETFLAGS/"
                 "FS_IOC_GETVERSION (checked as getattr), FS_IOC_SETFLAGS/FS_IOC_SETVERSION "
                 "(setattr), FIONBIO/FIOASYNC (fd:use only) and KDSKBENT/KDSKBSENT (capability "
                 "sys_tty_config); FIOCLEX/FIONCLEX are checked too because the Debian 12 policy "
                 "does not set the ioctl_skip_cloexec policy capability. With allowxperm rules "
                 "the command number is checked as well (avc_has_extended_perms). fd:use is "
                 "checked first when another domain opened the fd.")
    if perm == "read":
        sc = OPEN + READ_IO + XFER + ["mmap"]
        return e(sc, ["selinux_inode_permission", "selinux_file_open", "selinux_file_permission",
                      "selinux_mmap_file", "file_map_prot_check"], obj,
                 "open() for reading, read-family calls on the fd, and any mmap() of it (a "
                 "mapping always implies read). " + REVALIDATE)
    if perm == "write":
        sc = OPEN + WRITE_IO + XFER + ["truncate", "ftruncate", "fallocate", "mmap", "fcntl",
                                       "utimensat", "utimes", "utime", "futimesat"]
        return e(sc, ["selinux_inode_permission", "selinux_file_open", "selinux_file_permission",
                      "selinux_inode_setattr", "selinux_mmap_file", "file_map_prot_check",
                      "selinux_file_fcntl"], obj,
                 "open() for writing (without O_APPEND), write-family calls, truncate/ftruncate "
                 "(ATTR_SIZE), fallocate, setting timestamps to 'now' (utimensat/utimes with "
                 "NULL times), mmap(MAP_SHARED, PROT_WRITE), and fcntl(F_SETFL) that clears "
                 "O_APPEND. " + REVALIDATE)
    if perm == "append":
        return e(OPEN + WRITE_IO + XFER, ["selinux_inode_permission", "selinux_file_open",
                                          "selinux_file_permission"], obj,
                 "open() with O_APPEND for writing, and writes through an O_APPEND fd, need "
                 "append instead of write (file_mask_to_av/file_to_av); clearing O_APPEND with "
                 "fcntl needs write. " + REVALIDATE)
    if perm == "create":
        return e(OPEN + CREATE_PATH, ["selinux_inode_create", "selinux_inode_mknod", "may_create"],
                 f"the new {what}'s label (type_transition or the parent directory's type)",
                 "Creating the object; the parent directory also needs dir { search add_name "
                 "write } and the new label filesystem:associate on the filesystem.")
    if perm == "getattr":
        return e(STAT + XATTR_GET + ["ioctl"], ["selinux_inode_getattr", "selinux_inode_getxattr",
                                                "selinux_inode_listxattr", "selinux_file_ioctl"], obj,
                 "stat family (path or fd; fstat is checked as getattr only, not fd:use), "
                 "getxattr/listxattr, and the FIONREAD/FIBMAP/FIGETBSZ/FS_IOC_GETFLAGS/"
                 "FS_IOC_GETVERSION ioctls.")
    if perm == "setattr":
        return e(CHMOD + CHOWN + UTIME + XATTR_SET + XATTR_RM + ["ioctl"],
                 ["selinux_inode_setattr", "selinux_inode_setxattr", "selinux_inode_removexattr",
                  "selinux_file_ioctl"], obj,
                 "chmod/chown/explicit timestamps (ATTR_MODE/UID/GID/*TIME_SET), setting or "
                 "removing extended attributes other than security.selinux, and the "
                 "FS_IOC_SETFLAGS/FS_IOC_SETVERSION ioctls. Setting timestamps to 'now' and "
                 "truncation are checked as write instead.")
    if perm == "lock":
        return e(["flock", "fcntl"], ["selinux_file_lock", "selinux_file_fcntl"], obj,
                 "flock(), fcntl F_GETLK/F_SETLK/F_SETLKW and the F_OFD_* variants, and "
                 "fcntl(F_SETLEASE) (generic_setlease calls security_file_lock).")
    if perm in ("relabelfrom", "relabelto"):
        side = "current" if perm == "relabelfrom" else "new"
        return e(XATTR_SET, ["selinux_inode_setxattr"], f"the {side} label of the {what}",
                 "Writing the security.selinux extended attribute (setfilecon, chcon, "
                 "restorecon); relabelfrom is checked on the old label, relabelto on the new "
                 "one, and the new label also needs filesystem:associate.")
    if perm == "map":
        return e(MMAP, ["selinux_mmap_file"], obj,
                 "Any mmap() of the fd (the dynamic loader mapping shared libraries, execve "
                 "mapping the ELF binary). Checked on mmap only, not on mprotect; the mapping "
                 "also needs read (+write for MAP_SHARED|PROT_WRITE, +execute for PROT_EXEC).")
    if perm == "unlink":
        return e(UNLINK + RENAME, ["selinux_inode_unlink", "may_link", "selinux_inode_rename",
                                   "may_rename"], obj,
                 "unlink/unlinkat of the name, and rename*() that replaces an existing object; "
                 "the directory needs dir { search remove_name write }.")
    if perm == "link":
        return e(LINK, ["selinux_inode_link", "may_link"], obj,
                 "Making a new hard link to an existing object (the directory needs dir "
                 "{ search add_name write }).")
    if perm == "rename":
        return e(RENAME, ["selinux_inode_rename", "may_rename"], obj,
                 "Moving or renaming the object; source directory needs remove_name, target "
                 "directory add_name (and remove_name plus unlink/rmdir on a replaced target).")
    if perm == "execute":
        return e(["access", "faccessat", "faccessat2", "execve", "execveat"],
                 ["selinux_inode_permission"], obj,
                 "Only an X_OK access() probe or an attempted execve of such a node reaches "
                 "this (MAY_EXEC on a non-directory); it enables nothing useful for this class.",
                 "inert")
    if perm == "quotaon":
        return never("Checked only on the quota file passed to quotactl(Q_QUOTAON), which is "
                     "a regular file; no operation checks it on this class.", ["selinux_quota_on"])
    if perm == "mounton":
        return e(["mount", "move_mount"], ["selinux_mount", "selinux_move_mount", "path_has_perm"],
                 f"the {what} used as mount point",
                 "mount(2) (not MS_REMOUNT) and move_mount(2) check mounton on the target path "
                 "(bind mounts onto a non-directory included); also needs capability sys_admin.")
    if perm == "audit_access":
        return e(["access", "faccessat", "faccessat2"], ["selinux_inode_permission"], obj,
                 "Never denies anything: when access()/faccessat() probes a permission that "
                 "policy denies, the denial is only audited if audit_access is allowed, so "
                 "'dontaudit ... audit_access' silences probes (avc_audit_required).",
                 "audit_only")
    if perm == "open":
        return e(OPEN, ["selinux_file_open", "open_file_to_av"], obj,
                 "Checked on every successful open of a non-socket inode because the Debian 12 "
                 "policy sets the open_perms policy capability. open(O_PATH) is not checked "
                 "at all (do_dentry_open returns before security_file_open).")
    if perm == "execmod":
        return e(MPROTECT, ["selinux_file_mprotect"], obj,
                 "mprotect(PROT_EXEC) of a private file mapping that already has copy-on-write "
                 "pages (text relocations; MAP_PRIVATE mappings of /dev/zero are the classic "
                 "chr_file case).")
    if perm in ("watch", "watch_mount", "watch_sb", "watch_with_perm", "watch_reads"):
        detail = {
            "watch": "inotify_add_watch, fanotify_mark on an inode, and dnotify (fcntl F_NOTIFY)",
            "watch_mount": "fanotify_mark(FAN_MARK_MOUNT) on this path",
            "watch_sb": "fanotify_mark(FAN_MARK_FILESYSTEM) on this path (also filesystem:watch)",
            "watch_with_perm": "a mark that asks for permission events (FAN_OPEN_PERM, "
                               "FAN_ACCESS_PERM, FAN_OPEN_EXEC_PERM)",
            "watch_reads": "a mark for read-like events (IN_ACCESS, IN_CLOSE_NOWRITE, FAN_ACCESS, "
                           "FAN_ACCESS_PERM, FAN_CLOSE_NOWRITE)",
        }[perm]
        sc = {"watch": WATCH, "watch_mount": ["fanotify_mark"], "watch_sb": ["fanotify_mark"],
              "watch_with_perm": ["fanotify_mark"],
              "watch_reads": ["inotify_add_watch", "fanotify_mark", "fcntl"]}[perm]
        return e(sc, ["selinux_path_notify"], obj, detail + ".")
    raise KeyError((cls, perm))


def file_entry(cls: str, perm: str):
    """A file-like class entry: class-specific overrides, else the common default."""
    o = OVERRIDES.get((cls, perm))
    if o is not None:
        return o
    return common_file(cls, perm)


_EXEC_OBJ = "the executable file's label"

OVERRIDES = {
    # ---- file ---------------------------------------------------------------------------
    ("file", "read"): e(OPEN + READ_IO + XFER + ["mmap", "execve", "execveat", "uselib", "kcmp",
                                                 "get_robust_list", "process_madvise",
                                                 "migrate_pages", "move_pages",
                                                 "perf_event_open", "setns"],
                        ["selinux_inode_permission", "selinux_file_open",
                         "selinux_file_permission", "selinux_mmap_file", "file_map_prot_check",
                         "selinux_ptrace_access_check"],
                        "the file's label; for the ptrace 'read' mode, the target process's label",
                        "open() for reading (execve opens the binary and the ELF interpreter "
                        "read-only, so exec needs it too), read-family calls and any mmap(). "
                        + REVALIDATE + " Separately, selinux_ptrace_access_check checks "
                        "file:read against another process's label for PTRACE_MODE_READ "
                        "(kcmp, get_robust_list, process_madvise, migrate_pages, move_pages, "
                        "perf_event_open on a task, setns via pidfd, and reading "
                        "/proc/PID/{environ,maps,fd,...} of another process); never for the "
                        "caller's own thread group."),
    ("file", "create"): e(OPEN + CREATE_PATH, ["selinux_inode_create", "selinux_inode_mknod",
                                               "may_create"],
                          "the new file's label (type_transition or the parent directory's type)",
                          "open/openat/creat with O_CREAT making a new file (O_TMPFILE too) "
                          "and mknod(S_IFREG); the parent directory needs dir { search add_name "
                          "write }, and the new label filesystem:associate."),
    ("file", "execute"): e(["execve", "execveat", "uselib", "mmap", "mprotect", "pkey_mprotect",
                            "access", "faccessat", "faccessat2"],
                           ["selinux_inode_permission", "selinux_mmap_file", "file_map_prot_check",
                            "selinux_file_mprotect"], _EXEC_OBJ,
                           "execve/execveat of the binary (and of a script's interpreter and "
                           "the ELF interpreter ld.so, opened with MAY_EXEC by open_exec), "
                           "mmap/mprotect with PROT_EXEC of the file (shared libraries), and "
                           "access(X_OK). execve also needs execute_no_trans or a transition."),
    ("file", "execute_no_trans"): e(["execve", "execveat"], ["selinux_bprm_creds_for_exec"],
                                    _EXEC_OBJ,
                                    "execve/execveat that keeps the caller's domain (no "
                                    "type_transition for this file, or the transition was "
                                    "suppressed under no_new_privs/nosuid)."),
    ("file", "entrypoint"): e(["execve", "execveat"], ["selinux_bprm_creds_for_exec"], _EXEC_OBJ,
                              "execve/execveat into a NEW domain: checked with the new domain as "
                              "the source (new_domain -> file:entrypoint), together with "
                              "process:transition from the old domain. A script's label, not "
                              "its interpreter's, decides the transition."),
    ("file", "quotaon"): e(["quotactl"], ["selinux_quota_on", "dentry_has_perm"],
                           "the quota file's label",
                           "quotactl(Q_QUOTAON) with a quota file path (dquot_quota_on)."),
    ("file", "open"): e(OPEN + ["truncate", "execve", "execveat", "uselib", "swapon"],
                        ["selinux_file_open", "open_file_to_av", "selinux_inode_setattr"],
                        "the file's label",
                        "Checked on every successful open because the Debian 12 policy sets the "
                        "open_perms policy capability (execve opens the binary; truncate() by "
                        "path counts as an open). open(O_PATH) is not checked at all "
                        "(do_dentry_open returns before security_file_open)."),
    # ---- dir ----------------------------------------------------------------------------
    ("dir", "read"): e(["open", "openat", "openat2", "getdents", "getdents64"],
                       ["selinux_inode_permission", "selinux_file_open", "selinux_file_permission"],
                       "the directory",
                       "Listing a directory: open(O_RDONLY|O_DIRECTORY) and getdents/getdents64 "
                       "(iterate_dir calls security_file_permission(MAY_READ)). Lookups of a "
                       "known name need search, not read."),
    ("dir", "write"): e(["open", "openat", "openat2", "creat", "mkdir", "mkdirat", "mknod",
                         "mknodat", "symlink", "symlinkat", "link", "linkat", "unlink",
                         "unlinkat", "rmdir", "rename", "renameat", "renameat2", "bind"],
                        ["selinux_inode_permission"], "the parent directory",
                        "Adding or removing any entry: the VFS checks MAY_WRITE|MAY_EXEC on the "
                        "parent directory (may_create/may_delete) besides SELinux's own "
                        "add_name/remove_name checks; bind() of an AF_UNIX socket to a path "
                        "creates an entry too."),
    ("dir", "create"): e(["mkdir", "mkdirat"], ["selinux_inode_mkdir", "may_create"],
                         "the new directory's label",
                         "mkdir; the parent needs dir { search add_name write }."),
    ("dir", "search"): e(PATH_LOOKUP + ["fchdir", "mount", "inotify_add_watch"],
                         ["selinux_inode_permission"], "every directory on the path",
                         "Every path-name lookup walks each directory with MAY_EXEC, i.e. "
                         "dir:search (practically every syscall that takes a path), plus "
                         "chdir/fchdir/chroot on the target. Also checked with add_name/"
                         "remove_name on the parent when entries are created or removed."),
    ("dir", "add_name"): e(OPEN + ["mkdir", "mkdirat", "mknod", "mknodat", "symlink",
                                   "symlinkat", "link", "linkat", "rename", "renameat",
                                   "renameat2", "bind"],
                           ["may_create", "may_link", "may_rename"], "the parent directory",
                           "Any new name in the directory: creating files (open O_CREAT), "
                           "directories, device nodes, fifos, symlinks, hard links, rename "
                           "targets and AF_UNIX socket files (bind)."),
    ("dir", "remove_name"): e(UNLINK + ["rmdir"] + RENAME, ["may_link", "may_rename"],
                              "the parent directory",
                              "Removing a name: unlink, rmdir, the source of a rename, and the "
                              "target of a rename that replaces an entry."),
    ("dir", "reparent"): e(RENAME, ["may_rename"], "the directory being moved",
                           "rename*() of a directory into a different parent directory."),
    ("dir", "rmdir"): e(["rmdir", "unlinkat"] + RENAME, ["selinux_inode_rmdir", "may_link",
                                                         "may_rename"],
                        "the directory being removed",
                        "rmdir, unlinkat(AT_REMOVEDIR), and rename*() over an empty directory."),
    ("dir", "rename"): e(RENAME, ["selinux_inode_rename", "may_rename"], "the directory",
                         "rename*() of a directory (plus reparent if its parent changes)."),
    ("dir", "open"): e(["open", "openat", "openat2", "chdir", "fchdir"][:3],
                       ["selinux_file_open", "open_file_to_av"], "the directory",
                       "open() of a directory (opendir, O_DIRECTORY fds for *at() calls); "
                       "checked because the policy sets open_perms. O_PATH opens are not "
                       "checked."),
    ("dir", "execute"): never("Directories never get execute: MAY_EXEC on a directory is "
                              "checked as dir:search (file_mask_to_av)."),
    ("dir", "append"): never("A directory cannot be opened for writing, so file_mask_to_av "
                             "never yields append for a directory."),
    ("dir", "unlink"): never("Directories are removed with rmdir (dir:rmdir); vfs_unlink is "
                             "never used on a directory."),
    ("dir", "link"): never("Hard links to directories are refused by the VFS (EPERM) before "
                           "any SELinux check."),
    ("dir", "execmod"): never("A directory cannot be mapped executable."),
    ("dir", "map"): e(["mmap"], ["selinux_mmap_file"], "the directory",
                      "selinux_mmap_file runs before the filesystem's mmap, but directories "
                      "have none, so the mmap fails with ENODEV anyway.", "inert"),
    ("dir", "ioctl"): None,  # filled by common_file
    # ---- lnk_file -----------------------------------------------------------------------
    ("lnk_file", "read"): e(["readlink", "readlinkat"] + PATH_LOOKUP,
                            ["selinux_inode_readlink", "selinux_inode_follow_link"],
                            "the symbolic link",
                            "readlink/readlinkat (e.g. /proc/self/exe) and following the link "
                            "during any path lookup (selinux_inode_follow_link): a path through "
                            "a symlink fails without it."),
    ("lnk_file", "create"): e(["symlink", "symlinkat"], ["selinux_inode_symlink", "may_create"],
                              "the new symlink's label", "symlink/symlinkat."),
    ("lnk_file", "getattr"): e(["lstat", "newfstatat", "statx", "lgetxattr", "llistxattr"],
                               ["selinux_inode_getattr", "selinux_inode_getxattr",
                                "selinux_inode_listxattr"], "the symbolic link",
                               "lstat / fstatat(AT_SYMLINK_NOFOLLOW) / statx on the link itself, "
                               "and l*xattr reads."),
    ("lnk_file", "setattr"): e(["lchown", "fchownat", "utimensat", "lsetxattr", "lremovexattr"],
                               ["selinux_inode_setattr", "selinux_inode_setxattr",
                                "selinux_inode_removexattr"], "the symbolic link",
                               "Changing the link's own owner/timestamps/xattrs "
                               "(AT_SYMLINK_NOFOLLOW)."),
    ("lnk_file", "relabelfrom"): e(["lsetxattr"], ["selinux_inode_setxattr"],
                                   "the link's current label",
                                   "lsetxattr security.selinux on the link (chcon -h, restorecon)."),
    ("lnk_file", "relabelto"): e(["lsetxattr"], ["selinux_inode_setxattr"],
                                 "the link's new label",
                                 "lsetxattr security.selinux on the link (chcon -h, restorecon)."),
    ("lnk_file", "write"): never("A symlink's target cannot be written through an fd (symlinks "
                                 "cannot be opened for I/O; O_PATH fds are refused by write)."),
    ("lnk_file", "append"): never("Symlinks cannot be opened for writing."),
    ("lnk_file", "open"): never("open() of a symlink either follows it (target checked) or "
                                "fails with ELOOP (O_NOFOLLOW); O_PATH|O_NOFOLLOW opens are not "
                                "checked."),
    ("lnk_file", "ioctl"): never("Only O_PATH fds refer to symlinks, and ioctl() refuses them "
                                 "(EBADF)."),
    ("lnk_file", "lock"): never("Only O_PATH fds refer to symlinks; flock/fcntl locks refuse them."),
    ("lnk_file", "map"): never("Only O_PATH fds refer to symlinks; mmap refuses them (EBADF)."),
    ("lnk_file", "execute"): never("execve follows the link; MAY_EXEC is checked on the target."),
    ("lnk_file", "execmod"): never("Symlinks cannot be mapped."),
    ("lnk_file", "mounton"): never("mount(2) resolves the target path through the link, so the "
                                   "check is on the final directory/file."),
    ("lnk_file", "quotaon"): never("Quota files are regular files."),
    # ---- chr_file / blk_file ------------------------------------------------------------
    ("chr_file", "read"): e(OPEN + READ_IO + XFER + ["mmap"],
                            ["selinux_inode_permission", "selinux_file_open",
                             "selinux_file_permission", "selinux_mmap_file"],
                            "the device node (e.g. tun_tap_device_t for /dev/net/tun, "
                            "urandom_device_t, ttys, null_device_t)",
                            "open() for reading, read-family calls and mmap of a device. "
                            + REVALIDATE),
    ("chr_file", "write"): e(OPEN + WRITE_IO + XFER + ["mmap", "truncate", "ftruncate",
                                                       "fcntl", "utimensat"],
                             ["selinux_inode_permission", "selinux_file_open",
                              "selinux_file_permission", "selinux_mmap_file",
                              "selinux_inode_setattr"],
                             "the device node (e.g. tun_tap_device_t for /dev/net/tun)",
                             "open() for writing and write-family calls on a device: writing "
                             "packets into a tun device is write on the tun fd. " + REVALIDATE),
    ("chr_file", "create"): e(["mknod", "mknodat"], ["selinux_inode_mknod", "may_create"],
                              "the new device node's label",
                              "mknod(S_IFCHR); also needs capability mknod."),
    ("blk_file", "create"): e(["mknod", "mknodat"], ["selinux_inode_mknod", "may_create"],
                              "the new device node's label",
                              "mknod(S_IFBLK); also needs capability mknod."),
    ("blk_file", "read"): e(OPEN + READ_IO + XFER + ["mmap", "swapon"],
                            ["selinux_inode_permission", "selinux_file_open",
                             "selinux_file_permission", "selinux_mmap_file"],
                            "the block device node",
                            "Raw access to a block device; mount() of it opens it too. "
                            + REVALIDATE),
    ("blk_file", "write"): e(OPEN + WRITE_IO + XFER + ["mmap", "swapon"],
                             ["selinux_inode_permission", "selinux_file_open",
                              "selinux_file_permission", "selinux_mmap_file"],
                             "the block device node",
                             "Raw writes to a block device (swapon opens it read-write). "
                             + REVALIDATE),
    # ---- sock_file ----------------------------------------------------------------------
    ("sock_file", "write"): e(["connect", "sendto", "sendmsg"], ["selinux_inode_permission"],
                              "the socket file in the filesystem (e.g. devlog_t for /dev/log)",
                              "connect() or sendto()/sendmsg() to an AF_UNIX *path* checks "
                              "MAY_WRITE on the socket file (unix_find_bsd -> path_permission); "
                              "the peer socket itself is then checked as unix_stream_socket:"
                              "connectto or unix_dgram_socket:sendto. Abstract-namespace "
                              "addresses have no file and skip this check."),
    ("sock_file", "create"): e(["bind", "mknod", "mknodat"], ["selinux_inode_mknod", "may_create"],
                               "the new socket file's label",
                               "bind() of an AF_UNIX socket to a filesystem path creates the "
                               "socket file (vfs_mknod S_IFSOCK); mknod(S_IFSOCK) too."),
    ("sock_file", "unlink"): e(UNLINK + RENAME, ["selinux_inode_unlink", "may_link",
                                                 "selinux_inode_rename", "may_rename"],
                               "the socket file",
                               "Removing a stale socket file before bind(), or replacing it by "
                               "rename."),
    ("sock_file", "read"): e(OPEN, ["selinux_inode_permission", "selinux_file_open"],
                             "the socket file",
                             "open() of a socket file is checked and then fails with ENXIO; "
                             "reading from unix sockets is checked on the socket classes.",
                             "inert"),
    ("sock_file", "append"): e(OPEN, ["selinux_inode_permission", "selinux_file_open"],
                               "the socket file",
                               "Only an open(O_APPEND) of a socket file, which then fails with "
                               "ENXIO.", "inert"),
    ("sock_file", "open"): e(OPEN, ["selinux_file_open"], "the socket file",
                             "open() of a socket file is checked, then fails with ENXIO; "
                             "connect() needs no open.", "inert"),
    ("sock_file", "ioctl"): never("A socket file cannot be opened, so there is no fd to "
                                  "ioctl (the socket's own fd is checked as *_socket:ioctl)."),
    ("sock_file", "lock"): never("A socket file cannot be opened (ENXIO), so it cannot be locked."),
    ("sock_file", "map"): never("A socket file cannot be opened (ENXIO), so it cannot be mapped."),
    ("sock_file", "execmod"): never("A socket file cannot be mapped."),
    ("sock_file", "quotaon"): never("Quota files are regular files."),
    # ---- fifo_file ----------------------------------------------------------------------
    ("fifo_file", "read"): e(OPEN + READ_IO + ["splice", "sendfile"],
                             ["selinux_inode_permission", "selinux_file_open",
                              "selinux_file_permission"],
                             "the pipe: a named fifo's label, or for pipe()/pipe2() the "
                             "creating domain (pipefs is labelled per task)",
                             "Reading a named fifo or an anonymous pipe (including stdin "
                             "inherited from the starting domain). Anonymous pipe fds are never "
                             "open()ed, so every read() re-checks this permission (and fd:use "
                             "if another domain created the pipe)."),
    ("fifo_file", "write"): e(OPEN + WRITE_IO + ["splice", "sendfile"],
                              ["selinux_inode_permission", "selinux_file_open",
                               "selinux_file_permission"],
                              "the pipe: a named fifo's label, or for pipe()/pipe2() the "
                              "creating domain",
                              "Writing a named fifo or an anonymous pipe (stdout/stderr "
                              "inherited from the starting domain, shell pipelines). Anonymous "
                              "pipe fds are never open()ed, so every write() re-checks this "
                              "permission (and fd:use if another domain created the pipe)."),
    ("fifo_file", "create"): e(["mknod", "mknodat"], ["selinux_inode_mknod", "may_create"],
                               "the new fifo's label",
                               "mkfifo (mknod S_IFIFO). pipe()/pipe2() create an anonymous "
                               "pipe without any check."),
    ("fifo_file", "map"): e(["mmap"], ["selinux_mmap_file"], "the pipe",
                            "Checked before the pipe's (absent) mmap method, which then fails "
                            "with ENODEV.", "inert"),
    ("fifo_file", "execmod"): never("Pipes cannot be mapped."),
    ("fifo_file", "quotaon"): never("Quota files are regular files."),
    # ---- anon_inode ---------------------------------------------------------------------
    ("anon_inode", "create"): e(["userfaultfd", "io_uring_setup"],
                                ["selinux_inode_init_security_anon"],
                                "the new anonymous inode's label (type_transition on the "
                                "creating domain with the name [userfaultfd] or [io_uring])",
                                "Only 'secure' anonymous inodes are labelled and checked in 6.1: "
                                "userfaultfd() and io_uring_setup(). eventfd, epoll, timerfd, "
                                "signalfd, inotify, pidfd, bpf and perf fds share one private "
                                "(S_PRIVATE) inode that SELinux never checks (only fd:use)."),
    ("anon_inode", "read"): e(["read", "readv", "mmap"], ["selinux_file_permission",
                                                          "selinux_mmap_file"],
                              "the userfaultfd or io_uring anonymous inode",
                              "read() of userfaultfd events; mmap of the io_uring rings."),
    ("anon_inode", "write"): e(["mmap"], ["selinux_mmap_file", "file_map_prot_check"],
                               "the io_uring anonymous inode",
                               "mmap(MAP_SHARED, PROT_WRITE) of the io_uring submission/"
                               "completion rings."),
    ("anon_inode", "ioctl"): e(["ioctl"], ["selinux_file_ioctl", "ioctl_has_perm"],
                               "the userfaultfd anonymous inode",
                               "UFFDIO_* ioctls on a userfaultfd."),
    ("anon_inode", "map"): e(["mmap"], ["selinux_mmap_file"], "the io_uring anonymous inode",
                             "mmap of the io_uring rings (IORING_OFF_SQ_RING etc.)."),
    ("anon_inode", "getattr"): e(["fstat", "statx"], ["selinux_inode_getattr"],
                                 "the anonymous inode", "fstat on a userfaultfd/io_uring fd."),
}
OVERRIDES = {k: v for k, v in OVERRIDES.items() if v is not None}

# anon_inode: the remaining common permissions are reached only through a userfaultfd /
# io_uring fd or its /proc/self/fd/N magic link (flock, fchmod, re-open, watch ...).
for _p in ("append", "open", "link", "unlink", "rename", "mounton", "lock", "relabelfrom",
           "relabelto", "setattr", "watch", "watch_mount", "watch_sb", "watch_with_perm",
           "watch_reads", "execmod"):
    _base = common_file("file", _p) if _p not in ("quotaon",) else None
    OVERRIDES.setdefault(("anon_inode", _p), e(
        _base["syscalls"], _base["hooks"], "the userfaultfd or io_uring anonymous inode",
        "Same hooks as for files, but the object is only reachable through a userfaultfd/"
        "io_uring fd or its /proc/self/fd/N magic link; no daemon operation needs this. "
        "Ordinary anonymous fds (eventfd, epoll, timerfd, signalfd, pidfd, ...) are never "
        "checked at all.", "inert"))
