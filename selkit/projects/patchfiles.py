"""What a patch series directory holds and which files its patches touch.

Plain rules over file names and diff text, shared by the builds of ``selkit.projects`` and the
generator of ``selkit.patch``: a series is its ``NNNN-*.patch`` files in file-name order, less
the cover letter ``0000-*`` (``git am`` refuses it as an empty patch).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

#: A series file name; ``number`` 0 is the cover letter.
NUMBERED = re.compile(r"^(?P<number>\d{4})-.+\.patch$")
_DIFF_GIT = re.compile(r"^diff --git a/(\S+) b/(\S+)$")


def series_files(directory: Path) -> tuple[Path, ...]:
    """The patches of a series directory, in file-name order, without its cover letter
    (none when the directory does not exist)."""
    directory = Path(directory)
    if not directory.is_dir():
        return ()
    return tuple(p for p in sorted(directory.iterdir())
                 if (m := NUMBERED.match(p.name)) and int(m.group("number")) > 0
                 and p.is_file())


def diff_paths(text: str) -> list[tuple[str, bool]]:
    """(path, deleted) of each file a patch's ``diff --git`` sections name, in order."""
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        match = _DIFF_GIT.match(line)
        if match:
            deleted = any(lines[j].startswith("deleted file mode")
                          for j in range(i + 1, min(i + 4, len(lines))))
            out.append((match.group(2), deleted))
    return out


def touched_files(patch_texts: Iterable[str]) -> tuple[str, ...]:
    """Every file the patches create or change (not delete), sorted, each once."""
    return tuple(sorted({path for text in patch_texts for path, deleted in diff_paths(text)
                         if not deleted}))
