"""Another flavour of Debian's refpolicy (``selinux-policy-mls``, ...) as a private root.

``policy_root("mls")`` downloads the binary package of the same version as the installed
selinux-policy-default (``scripts/apt-source.sh --deb``: apt's own client with a private
state, never installed), unpacks it with ``dpkg-deb -x`` and builds its module store the way
the package's postinst does: ``semodule -X PRIORITY -n -s FLAVOUR`` with every module the
package lists in ``usr/share/selinux/FLAVOUR/.modules`` installed and the postinst's
``notdefault`` modules disabled, under ``semodule -p ROOT``. The result,

    ROOT/etc/selinux/FLAVOUR/policy/policy.33   the kernel policy
    ROOT/var/lib/selinux/FLAVOUR/active         the module store
    ROOT/etc/selinux/semanage.conf              this machine's (libsemanage-common's)

is what ``--base ROOT/etc/selinux/FLAVOUR/policy/policy.33`` reads. It is built in a
temporary directory beside its final place under ``selkit.cache.cache_root()/bases/`` and
renamed into place, so a second call returns at once and a reader never sees half a store.
Nothing outside the cache is touched.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from selkit.cache import cache_root, rename_into_place
from selkit.diagnostics import Diagnostic, ToolchainError
from selkit.progress import Progress

APT_SOURCE = Path(__file__).resolve().parents[2] / "scripts" / "apt-source.sh"
#: The package whose version the other flavours must match.
REFERENCE_PACKAGE = "selinux-policy-default"
#: Bump when the layout of a built root changes.
_FORMAT = "1"


def _fail(code: str, message: str, hint: str | None = None) -> ToolchainError:
    return ToolchainError([Diagnostic(code, message, hint=hint)])


def _tail(text: str, lines: int = 5) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, check=False,
                          env={**os.environ, "LC_ALL": "C", "SELKIT_CACHE": str(cache_root())},
                          **kwargs)


def reference_version() -> str:
    """The installed version of selinux-policy-default (the flavours are built to match)."""
    result = _run(["dpkg-query", "-W", "-f", "${Version}", REFERENCE_PACKAGE])
    if result.returncode != 0 or not result.stdout.strip():
        raise _fail("SEL522", f"{REFERENCE_PACKAGE} is not installed, so the version of the "
                    "other policy flavours is unknown", hint="run 'make setup'")
    return result.stdout.strip()


def download(flavour: str, version: str | None = None) -> Path:
    """The .deb of ``selinux-policy-FLAVOUR`` at ``version`` (default: the reference's)."""
    version = version or reference_version()
    package = f"selinux-policy-{flavour}"
    result = _run(["sh", str(APT_SOURCE), "--deb", f"{package}={version}"])
    if result.returncode != 0 or not result.stdout.strip():
        raise _fail("SEL522", f"cannot download {package} {version}: {_tail(result.stderr, 3)}",
                    hint="the Debian archive must be reachable (apt-get download)")
    return Path(result.stdout.strip().splitlines()[-1])


def _postinst_settings(deb: Path, work: Path) -> tuple[str, list[str]]:
    """The postinst's ``priority`` and ``notdefault`` modules (read from the control archive)."""
    control = work / "control"
    result = _run(["dpkg-deb", "-e", str(deb), str(control)])
    if result.returncode != 0:
        raise _fail("SEL522", f"dpkg-deb -e {deb.name}: {_tail(result.stderr, 3)}")
    text = (control / "postinst").read_text()
    priority = re.search(r"(?m)^priority=(\d+)\s*$", text)
    notdefault = re.search(r'(?m)^notdefault="([^"]*)"', text)
    if not priority or not notdefault or "semodule -X $priority" not in text:
        raise _fail("SEL526", f"the postinst of {deb.name} no longer installs its modules "
                    "the way selkit reproduces (semodule -X $priority ... -d notdefault)",
                    hint="read it with 'dpkg-deb -e' and update selkit/base/debian.py")
    return priority.group(1), notdefault.group(1).split()


def _build(deb: Path, flavour: str, root: Path, work: Path) -> None:
    result = _run(["dpkg-deb", "-x", str(deb), str(root)])
    if result.returncode != 0:
        raise _fail("SEL522", f"dpkg-deb -x {deb.name}: {_tail(result.stderr, 3)}")
    priority, notdefault = _postinst_settings(deb, work)
    shipped = root / "usr/share/selinux" / flavour
    modules = (shipped / ".modules").read_text().split()
    # What libsemanage-common puts in /etc of a Debian system with this package installed.
    conf = Path("/etc/selinux/semanage.conf")
    if not conf.is_file():
        raise _fail("SEL526", f"{conf} is missing (libsemanage-common)", hint="run 'make setup'")
    shutil.copyfile(conf, root / "etc/selinux/semanage.conf")
    semodule = shutil.which("semodule") or "/usr/sbin/semodule"
    argv = [semodule, "-p", str(root), "-X", priority, "-n", "-s", flavour]
    argv += [f"-i{shipped / (name + '.pp.bz2')}" for name in modules]
    argv += [f"-d{name}" for name in notdefault]
    result = _run(argv)
    policy = root / "etc/selinux" / flavour / "policy/policy.33"
    if result.returncode != 0 or not policy.is_file():
        raise _fail("SEL526", f"semodule could not build the '{flavour}' store from "
                    f"{deb.name}: {_tail(result.stderr + result.stdout, 3)}")
    for lock in (root / "var/lib/selinux" / flavour).glob("*.LOCK"):
        lock.unlink()


def policy_root(flavour: str = "mls", progress: Progress | None = None) -> Path:
    """The root holding ``selinux-policy-FLAVOUR``'s built store (cached; about 20 s once)."""
    if not re.fullmatch(r"[a-z]+", flavour):
        raise _fail("SEL526", f"'{flavour}' is not a Debian policy flavour (mls, src, ...)")
    version = reference_version()
    final = cache_root() / "bases" / f"{flavour}-{version.replace(':', '_')}-{_FORMAT}"
    if (final / "etc/selinux" / flavour / "policy/policy.33").is_file():
        return final
    if progress:
        progress(f"downloading selinux-policy-{flavour} {version}")
    deb = download(flavour, version)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
    try:
        if progress:
            progress(f"building the '{flavour}' store as its postinst does (once, ~20 s)")
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="selkit-deb-") as work:
            _build(deb, flavour, staging / "root", Path(work))
        (staging / "root" / ".selkit-built").write_text(
            f"{deb.name} in {time.monotonic() - started:.1f} s\n")
        rename_into_place(staging / "root", final, ".selkit-built")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def policy_path(flavour: str = "mls", progress: Progress | None = None) -> Path:
    """``ROOT/etc/selinux/FLAVOUR/policy/policy.33`` of :func:`policy_root` (for ``--base``)."""
    return policy_root(flavour, progress) / "etc/selinux" / flavour / "policy/policy.33"
