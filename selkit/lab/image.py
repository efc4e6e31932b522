"""The guest's initramfs: busybox, the policy, the kernel modules, the harness scripts, the
binaries with their libraries, and the list of directories that get an SELinux label.

Files in an initramfs have no labels (the rootfs is ``root_t``), so every directory whose
label matters (``/bin`` as ``bin_t``, ``/usr/lib`` as ``lib_t``, a daemon's binary as
``<daemon>_startup_exec_t``, its jail, ...) is staged under ``/.lab/stage`` and copied by the
guest's /init onto a tmpfs mounted with ``context=`` at its real place.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath

from selkit.lab.initramfs import Initramfs, library_closure

#: The label of each standard directory of the guest.
BASE_LABELS = (
    ("/bin", "bin_t"),
    ("/etc", "etc_t"),
    ("/usr/lib", "lib_t"),
    ("/usr/lib64", "lib_t"),
    ("/etc/selinux", "selinux_config_t"),
    ("/run", "var_run_t"),
    ("/tmp", "tmp_t"),
    ("/var/log", "var_log_t"),
    ("/lab/harness", "init_exec_t"),
    ("/lab/syslogd", "syslogd_exec_t"),
    ("/lab/peer", "initrc_exec_t"),
)

#: Directories where processes create files: only the directory is labelled (rootcontext=),
#: so type transitions label what is created in them.
WRITABLE = frozenset({"/run", "/tmp", "/var/log"})

#: Root-level symlinks of Debian's merged /usr.
ROOT_LINKS = (("/lib", "usr/lib"), ("/lib64", "usr/lib64"), ("/sbin", "bin"),
              ("/usr/bin", "../bin"), ("/usr/sbin", "../bin"))

#: Device nodes given their refpolicy label in the guest: (path, type, major, minor).
DEVICES = (
    ("/dev/null", "null_device_t", 1, 3),
    ("/dev/zero", "zero_device_t", 1, 5),
    ("/dev/random", "random_device_t", 1, 8),
    ("/dev/urandom", "urandom_device_t", 1, 9),
    ("/dev/kmsg", "kmsg_device_t", 1, 11),
    ("/dev/net/tun", "tun_tap_device_t", 10, 200),
    ("/dev/ttyS1", "tty_device_t", 4, 65),
)

ETC_FILES = {
    "/etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:"
                   "/usr/sbin/nologin\n",
    "/etc/group": "root:x:0:\nnogroup:x:65534:\n",
    "/etc/nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\nservices: files\n",
    # libselinux's is_selinux_enabled() also wants the configuration file to exist.
    "/etc/selinux/config": "SELINUX=enforcing\nSELINUXTYPE=default\n",
    "/etc/hosts": "127.0.0.1 localhost\n192.0.2.1 server\n192.0.2.2 client\n",
    "/etc/services": "ssh 22/tcp\nhttp 80/tcp\ndomain 53/udp\nopenvpn 1194/udp\n",
}


def guest_script(name: str) -> bytes:
    """A file of selkit/lab/guest/."""
    return resources.files("selkit.lab").joinpath("guest", name).read_bytes()


@dataclass
class GuestImage:
    """The guest's files before they become an initramfs."""

    labels: dict[str, str] = field(default_factory=lambda: dict(BASE_LABELS))
    writable: set[str] = field(default_factory=lambda: set(WRITABLE))
    files: dict[str, tuple[bytes, int]] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)
    modules: list[tuple[str, bytes]] = field(default_factory=list)
    config: dict[str, str] = field(default_factory=dict)
    bound: dict[str, tuple[str, bytes, int]] = field(default_factory=dict)

    def label(self, path: str, type_: str, writable: bool = False) -> None:
        """Mount a tmpfs labelled ``type_`` at ``path`` in the guest; ``writable``: only the
        directory has the label, what is created in it is labelled by the policy."""
        self.labels[str(PurePosixPath(path))] = type_
        if writable:
            self.writable.add(str(PurePosixPath(path)))

    def put(self, path: str, data: bytes, mode: int = 0o644) -> None:
        """A file at ``path`` in the guest."""
        self.files[path] = (bytes(data), mode)

    def put_labelled(self, path: str, type_: str, data: bytes, mode: int = 0o600) -> None:
        """A file at ``path`` labelled ``type_`` whatever its directory's label (bind-mounted
        from a tmpfs of that label by the guest's /init)."""
        self.bound[path] = (type_, bytes(data), mode)

    def put_host(self, path: str, source: str | os.PathLike, mode: int = 0o755) -> None:
        """A host file at ``path`` in the guest."""
        self.put(path, Path(source).read_bytes(), mode)

    def put_binary(self, path: str, source: str | os.PathLike) -> None:
        """A binary at ``path`` and every library it loads, at the host's paths."""
        self.put_host(path, source)
        for lib in library_closure(source):
            self.put_host_path(lib)

    def put_host_path(self, path: str) -> None:
        """A host file at the same path, with every symlink on the way reproduced."""
        real, links = resolve_links(path)
        for link, target in links.items():
            if link not in dict(ROOT_LINKS):
                self.links[link] = target
        self.put_host(real, real, 0o755)

    def initramfs(self, busybox: Path, policy: bytes) -> Initramfs:
        """Everything as an archive."""
        image = Initramfs()
        image.add_host_file("/.lab/busybox", busybox, 0o755)
        image.add_file("/.lab/policy.33", policy, 0o600)
        image.add_file("/init", guest_script("init.sh"), 0o755)
        image.add_file("/.lab/config.sh", render_config(self.config).encode())
        mounts = sorted(self.labels.items(), key=lambda kv: (kv[0].count("/"), kv[0]))
        image.add_file("/.lab/devices", "".join(
            f"{path} {type_} {major} {minor}\n" for path, type_, major, minor in DEVICES).encode())
        image.add_file("/.lab/mounts", "".join(
            f"{p} {t} {'rootcontext' if p in self.writable else 'context'}\n"
            for p, t in mounts).encode())
        image.add_file("/.lab/bound-files", "".join(
            f"{path} {type_}\n" for path, (type_, _, _) in sorted(self.bound.items())).encode())
        for path, (_, data, mode) in sorted(self.bound.items()):
            image.add_file(f"/.lab/bound{path}", data, mode)
        image.add_dir("/.lab/modules")
        for index, (name, data) in enumerate(self.modules):
            image.add_file(f"/.lab/modules/{index:02d}-{name}.ko", data)
        for path, _ in mounts:
            image.add_dir(path)
            image.add_dir(self._staged(path))
        for path, target in ROOT_LINKS:
            image.add_symlink(path, target)
        image.add_file(self._staged("/bin/busybox"), busybox.read_bytes(), 0o755)
        # busybox's syslogd, from a syslogd_exec_t file so init_t starts it in syslogd_t.
        image.add_file(self._staged("/lab/syslogd/syslogd"), busybox.read_bytes(), 0o755)
        for applet in busybox_applets(busybox):
            if applet != "busybox" and f"/bin/{applet}" not in self.files:
                image.add_symlink(self._staged(f"/bin/{applet}"), "busybox")
        for path in ("/proc", "/sys", "/dev", "/tmp", "/root", "/var/empty", *sorted(self.dirs)):
            image.add_dir(self._staged(path))
        files = {**{p: (v.encode(), 0o644) for p, v in ETC_FILES.items()}, **self.files}
        for path, (data, mode) in sorted(files.items()):
            image.add_file(self._staged(path), data, mode)
        for path, target in sorted(self.links.items()):
            image.add_symlink(self._staged(path), target)
        return image

    def _staged(self, path: str) -> str:
        """Where ``path`` is kept in the archive: under /.lab/stage if a labelled tmpfs will
        be mounted over it."""
        pure = PurePosixPath(path)
        for mount in self.labels:
            if pure == PurePosixPath(mount) or PurePosixPath(mount) in pure.parents:
                return f"/.lab/stage{path}"
        return path


def busybox_applets(busybox: Path) -> list[str]:
    """The applet names of a busybox binary (``busybox --list``; it is static, so it runs on
    the host)."""
    result = subprocess.run([str(busybox), "--list"], capture_output=True, text=True,
                            check=True)
    return sorted(name for name in result.stdout.split() if name and "/" not in name)


def render_config(config: dict[str, str]) -> str:
    """``/.lab/config.sh``: shell assignments, quoted, in a stable order."""
    return "".join(f"{key}={shlex.quote(str(value))}\n" for key, value in sorted(config.items()))


def resolve_links(path: str) -> tuple[str, dict[str, str]]:
    """The real file behind ``path`` on this host and every symlink met on the way there."""
    links: dict[str, str] = {}
    todo = list(PurePosixPath(os.path.abspath(path)).parts[1:])
    current = "/"
    while todo:
        step = os.path.join(current, todo.pop(0))
        if os.path.islink(step):
            if len(links) > 40:
                raise ValueError(f"too many symlinks resolving {path}")
            target = os.readlink(step)
            links[step] = target
            resolved = PurePosixPath(os.path.normpath(os.path.join(current, target)))
            todo = list(resolved.parts[1:]) + todo
            current = "/"
        else:
            current = step
    return current, links
