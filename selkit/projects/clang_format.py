"""The clang-format a source tree pins, and where to find that version.

A project that checks its format in CI pins the formatter in ``.pre-commit-config.yaml``
(pre-commit's ``mirrors-clang-format`` hook; OpenVPN does), and another version formats
differently. Used by ``selkit patch`` (to format generated code as the project does) and by
the upstream checks (to run the project's own format check).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

#: Set to the clang-format to use instead of looking for one.
ENV = "SELKIT_CLANG_FORMAT"
_VERSION = re.compile(r"clang-format version (?P<version>[\d.]+)")


def precommit_hook(config: str) -> tuple[str, str, str] | None:
    """``(rev, files, exclude)`` of the mirrors-clang-format hook in a .pre-commit-config.yaml
    text (regexes as written; ``files`` defaults to everything, ``exclude`` to nothing), or
    None without such a hook. A line reader for the one layout pre-commit documents."""
    lines = config.splitlines()
    rev = files = exclude = None
    in_repo = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("- repo:"):
            in_repo = "mirrors-clang-format" in stripped
            continue
        if not in_repo:
            continue
        key, _, value = stripped.partition(":")
        value = value.strip().strip("'\"")
        if key == "rev":
            rev = value
        elif key == "files":
            files = value
        elif key == "exclude":
            exclude = value
    if rev is None:
        return None
    return rev.removeprefix("v"), files or "", exclude or ""


def pinned_version(tree: Path) -> str | None:
    """The clang-format version ``tree``'s .pre-commit-config.yaml pins, or None."""
    config = tree / ".pre-commit-config.yaml"
    hook = precommit_hook(config.read_text("utf-8", "replace")) if config.is_file() else None
    return hook[0] if hook else None


def version_of(executable: str) -> str | None:
    """What ``executable --version`` says it is, or None."""
    try:
        out = subprocess.run([executable, "--version"], capture_output=True, text=True,
                             check=False).stdout
    except OSError:
        return None
    match = _VERSION.search(out)
    return match.group("version") if match else None


def candidates() -> list[str]:
    """Where to look, in order: $SELKIT_CLANG_FORMAT, the one beside this Python (the venv's,
    from PyPI), the one on PATH."""
    found = [os.environ.get(ENV) or "", str(Path(sys.executable).parent / "clang-format"),
             shutil.which("clang-format") or ""]
    return [c for c in dict.fromkeys(found) if c and os.access(c, os.X_OK)]


def find(version: str | None = None) -> str | None:
    """The first candidate of ``version`` (any version when None), or None. $SELKIT_CLANG_FORMAT
    is taken as it is, whatever its version: the caller checks it."""
    explicit = os.environ.get(ENV)
    if explicit:
        return explicit
    for path in candidates():
        if version is None or version_of(path) == version:
            return path
    return None
