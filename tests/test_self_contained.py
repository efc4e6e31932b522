"""The repository stands on its own: no file cites the project's background notes, which
users of selkit do not have (a fact a file needs is written into the repository instead)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The background notes of the project's first days, and the folder they live in.
CITATION = re.compile(r"\b(daemons|design|lab-recipe|style|landscape)\.md\b|\.\./shared")


def test_no_tracked_file_cites_the_background_notes():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    hits = []
    for name in files:
        if name == "tests/test_self_contained.py":
            continue
        try:
            text = (ROOT / name).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        hits += [f"{name}:{i}: {line.strip()}" for i, line in enumerate(text.splitlines(), 1)
                 if CITATION.search(line)]
    assert not hits, "\n".join(hits)
