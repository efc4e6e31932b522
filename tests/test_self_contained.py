"""The repository stands on its own: every document a file cites is in the repository, and a
section it cites by number exists there. Users of selkit have nothing else: the project's early
background notes (a folder beside the repository, and pages such as design.md or a daemons.md
with numbered sections) are not theirs, so a fact a spec or the code needs is written into the
repository (the daemons' facts: docs/daemons.md) and cited by its path."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
THIS = "tests/test_self_contained.py"
#: A cited document: a name or path ending in .md (the project's documents are Markdown).
DOCUMENT = re.compile(r"(?<![\w./-])((?:\.{1,2}/)*(?:[\w.-]+/)*[\w-][\w.-]*\.md)\b")
#: A citation of a numbered section: "DOC section 5.10", "DOC, section 6", "DOC sections 2".
SECTION = re.compile(r"((?:[\w.-]+/)*[\w-][\w.-]*\.md)\)?,? sections? (\d+(?:\.\d+)*)")
#: Citations the repository never makes: a section sign (it writes "section N" with the
#: document's path) and the folder of the background notes.
NEVER = re.compile(r"§|\.\./shared")


def _tracked() -> list[str]:
    return subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.split()


def _resolve(citing: str, cited: str, tracked: frozenset[str]) -> str | None:
    """The tracked file ``cited`` names from the file ``citing``: relative to its folder or to
    the repository's root, or (for a name written without its folders) the one file whose path
    ends so."""
    for candidate in (os.path.join(os.path.dirname(citing), cited), cited):
        path = os.path.normpath(candidate)
        if path in tracked:
            return path
    tail = re.sub(r"^(\.\.?/)+", "", cited)
    ends = sorted(t for t in tracked if t == tail or t.endswith("/" + tail))
    return ends[0] if ends else None


def _has_section(path: str, number: str) -> bool:
    """True if the document has a heading numbered ``number`` ("## 6. ...", "### 5.10 ...")."""
    text = (ROOT / path).read_text(encoding="utf-8")
    return re.search(rf"^#+ {re.escape(number)}[. ]", text, re.M) is not None


def problems(citing: str, text: str, tracked: frozenset[str]) -> list[str]:
    """What in ``text`` (the file ``citing``) cites something the repository lacks."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        where = f"{citing}:{number}: {line.strip()}"
        if NEVER.search(line):
            out.append(f"{where}  (not a citation this repository makes)")
        for match in DOCUMENT.finditer(line):
            if _resolve(citing, match.group(1), tracked) is None:
                out.append(f"{where}  ({match.group(1)} is not in the repository)")
        for match in SECTION.finditer(line):
            doc = _resolve(citing, match.group(1), tracked)
            if doc is not None and not _has_section(doc, match.group(2)):
                out.append(f"{where}  ({doc} has no section {match.group(2)})")
    return out


@pytest.mark.parametrize("line, found", [
    ("# the attr fd opened before chroot (daemons.md §7).", 1),       # the old form
    ("# the attr fd opened before chroot (daemons.md section 7).", 1),  # no such section
    ("#: Attributes the base requires (design.md section 4).", 1),
    ("see " + "/".join(("..", "shared", "lab-recipe.md")), 2),  # (never the literal here)
    ("the jail root (docs/daemons.md section 1)", 0),
    ("the jail root (docs/daemons.md section 99)", 1),
    ("(dsl/REFERENCE.md section 5.10)", 0),
    ("[`docs/forbid-groups.md`](../docs/forbid-groups.md)", 0),
    ('REFERENCE = ROOT / "dsl" / "REFERENCE.md"', 0),                  # a name found by its end
    ("a file called notes.md", 1),
])
def test_the_check_finds_what_is_not_in_the_repository(line, found):
    assert len(problems("selkit/x.py", line, frozenset(_tracked()))) == found


def test_every_cited_document_is_in_the_repository():
    tracked = frozenset(_tracked())
    hits = []
    for name in sorted(tracked):
        # A vendor patch is the upstream project's text: it cites the upstream tree's files.
        if name == THIS or name.endswith(".patch"):
            continue
        try:
            text = (ROOT / name).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        hits += problems(name, text, tracked)
    assert not hits, "\n".join(hits)
