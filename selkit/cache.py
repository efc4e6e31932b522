"""Where selkit keeps what it downloads, builds and measures: never in the repository."""

from __future__ import annotations

import os
import pickle
from pathlib import Path


def cache_root() -> Path:
    """``$SELKIT_CACHE``, else ``$XDG_CACHE_HOME/selkit``, else ``~/.cache/selkit``."""
    if os.environ.get("SELKIT_CACHE"):
        return Path(os.environ["SELKIT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "selkit"


def read_pickle(path: Path, kind: type):
    """The ``kind`` object pickled at ``path``, or None (missing, unreadable, or stale)."""
    try:
        with open(path, "rb") as handle:
            value = pickle.load(handle)
        return value if isinstance(value, kind) else None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
        return None


def write_pickle(path: Path, value) -> None:
    """Pickle ``value`` to ``path`` atomically; a read-only cache only costs speed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass
