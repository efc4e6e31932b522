"""dsl/REFERENCE.md and dsl/examples/ cannot drift from the compiler.

* the generated sections of the reference (verb vocabulary, grammar) equal what the compiler's
  sources produce now (``scripts/update_reference.py`` rewrites them);
* every complete program in the reference (a fenced block tagged ``sel``) parses;
* every example passes ``selkit check`` and is in canonical form (``selkit fmt --check``).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from selkit.dsl import parse
from selkit.ir.reference import BEGIN, END, splice

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "dsl" / "REFERENCE.md"
EXAMPLES = ROOT / "dsl" / "examples"
PROGRAMS = sorted(EXAMPLES.glob("*.sel"))
ALL_SEL = sorted(EXAMPLES.rglob("*.sel"))


def _update_script():
    spec = importlib.util.spec_from_file_location(
        "update_reference", ROOT / "scripts" / "update_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _selkit(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "selkit", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)


def test_verb_section_is_current():
    text = REFERENCE.read_text(encoding="utf-8")
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    assert text == splice(text), \
        "dsl/REFERENCE.md: the verb vocabulary is stale; run scripts/update_reference.py"


def test_grammar_section_is_current():
    update = _update_script()
    text = REFERENCE.read_text(encoding="utf-8")
    assert text == update.splice_grammar(text), \
        "dsl/REFERENCE.md: the grammar is stale; run scripts/update_reference.py"
    assert update.render(text) == text


def test_complete_programs_in_the_reference_parse():
    text = REFERENCE.read_text(encoding="utf-8")
    blocks = re.findall(r"^```sel\n(.*?)^```", text, flags=re.S | re.M)
    assert blocks, "the reference shows no complete program"
    for block in blocks:
        parse(block, "REFERENCE.md")


def test_examples_exist():
    assert len(PROGRAMS) >= 4
    assert (EXAMPLES / "include").is_dir()


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_example_passes_check(path, kb):  # kb: skips without the Debian base policy
    result = _selkit("check", str(path.relative_to(ROOT)))
    assert result.returncode == 0, result.stderr
    assert ": ok (" in result.stdout


@pytest.mark.parametrize("path", ALL_SEL, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_example_is_canonical(path):
    result = _selkit("fmt", "--check", str(path.relative_to(ROOT)))
    assert result.returncode == 0, (result.stdout + result.stderr
                                    + f"\nrun: selkit fmt {path.relative_to(ROOT)}")
