"""docs/daemons.md, the facts the shipped specs rely on, cannot drift from the specs: each
daemon's section names its spec and module, its phases' counts are what the compiler gives, and
each spec's header points at the section about it."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import POLICIES, ROOT

DOC = ROOT / "docs" / "daemons.md"


def _sections() -> dict[str, str]:
    """The text of each numbered daemon section, by the spec it names."""
    parts = re.split(r"^(## \d+\. .*)$", DOC.read_text(encoding="utf-8"), flags=re.M)
    out = {}
    for head, body in zip(parts[1::2], parts[2::2], strict=True):
        spec = re.search(r"\(\.\./(policies/\w+\.sel)\)", body)
        if spec is not None and head.split(".")[0] != "## 1":
            out[spec.group(1)] = head + body
    return out


def test_every_shipped_spec_has_its_section_and_points_at_it():
    sections = _sections()
    assert sorted(sections) == [f"policies/{p.name}" for p in POLICIES]
    for spec, text in sections.items():
        number = re.match(r"## (\d+)\.", text).group(1)
        header = (ROOT / spec).read_text(encoding="utf-8").split("\ndaemon ", 1)[0]
        assert f"docs/daemons.md section {number})" in header, spec


def test_the_documented_counts_are_the_compilers(shipped_specs):
    """'Startup (35 rules, 141 calls)': allow rules of the phase's domain (as `selkit check`
    counts them) and the calls its seccomp filter allows."""
    _, modules = shipped_specs
    sections = _sections()
    for module in modules:
        text = sections[Path(module.source_path).relative_to(ROOT).as_posix()]
        assert f"module `{module.name}`" in text
        for phase in module.phases:
            rules = len(module.allows(phase.domain))
            calls = len(module.syscalls_of(phase.name).allowed)
            assert f"{phase.name.capitalize()} ({rules} rules, {calls} calls)" in text, \
                (module.daemon, phase.name, rules, calls)
