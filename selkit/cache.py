"""Where selkit keeps what it downloads, builds and measures: never in the repository."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``$SELKIT_CACHE``, else ``$XDG_CACHE_HOME/selkit``, else ``~/.cache/selkit``."""
    if os.environ.get("SELKIT_CACHE"):
        return Path(os.environ["SELKIT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "selkit"
