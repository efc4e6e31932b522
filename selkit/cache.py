"""Where selkit keeps what it downloads, builds and measures (never in the repository), and
how it puts a file or a directory there: made under a temporary name, then renamed."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any


def cache_root() -> Path:
    """``$SELKIT_CACHE``, else ``$XDG_CACHE_HOME/selkit``, else ``~/.cache/selkit``."""
    if os.environ.get("SELKIT_CACHE"):
        return Path(os.environ["SELKIT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "selkit"


def file_identity(path: str) -> list[str]:
    """What a cache key of something read from the file at ``path`` holds: its absolute path,
    modification time, size and inode (any change to the file makes a new key); OSError when
    it cannot be read."""
    st = os.stat(path)
    return [os.path.abspath(path), str(st.st_mtime_ns), str(st.st_size), str(st.st_ino)]


def read_pickle(path: Path, kind: type) -> Any:
    """The ``kind`` object pickled at ``path``, or None (missing, unreadable, or stale)."""
    try:
        with open(path, "rb") as handle:
            value = pickle.load(handle)
        return value if isinstance(value, kind) else None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
        return None


def write_pickle(path: Path, value: object) -> None:
    """Pickle ``value`` to ``path`` atomically; a read-only cache only costs speed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass


def replace_file(path: str | Path, data: bytes | str) -> None:
    """Write ``data`` to a temporary name beside ``path``, then rename it over ``path``.

    The temporary name is hidden and carries the process id, so concurrent writers do not
    share it; it is removed if the write fails (the error propagates).
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if isinstance(data, str):
            tmp.write_text(data)
        else:
            tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def rename_into_place(built: Path, final: Path, marker: str | None = None) -> None:
    """Rename the finished directory ``built`` to ``final``. A process that finished the same
    directory first wins the race: then ``final`` (or ``final/marker``, the file written last)
    exists, and ``built`` is left for the caller to remove."""
    try:
        built.rename(final)
    except OSError:
        if not (final / marker if marker else final).exists():
            raise
