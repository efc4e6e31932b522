"""dsl/REFERENCE.md and dsl/examples/ cannot drift from the compiler.

* the generated sections of the reference (verb vocabulary, grammar) equal what the compiler's
  sources produce now (``scripts/update_reference.py`` rewrites them);
* every complete program in the reference (a fenced block tagged ``sel``) parses;
* the keyword table of the reference lists every keyword of the grammar, and the parser treats
  each as the table says;
* every example passes ``selkit check`` and is in canonical form (``selkit fmt --check``).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from selkit_cli import run

from selkit.diagnostics import DiagnosticError
from selkit.dsl.parser import grammar_text, parse
from selkit.emit.reference import BEGIN, END, splice

ROOT = Path(__file__).resolve().parents[2]
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


def _keyword_row(kind: str) -> list[str]:
    text = REFERENCE.read_text(encoding="utf-8")
    row = re.search(rf"^\| {kind} \| (.*?) \|", text, flags=re.M)
    assert row, f"the keyword table has no '{kind}' row"
    return re.findall(r"`(\w+)`", row.group(1))


def test_keyword_table_is_complete():
    keywords = set(re.findall(r'"([a-z]+)"', grammar_text()))
    assert set(_keyword_row("reserved")) | set(_keyword_row("words")) == keywords


def test_keywords_behave_as_the_table_says():
    reserved, words = _keyword_row("reserved"), _keyword_row("words")
    for word in reserved + words:
        # not the first word of a statement: an ordinary name, a permission, a class
        parse(f"daemon {word} {{\n    phase {word} {{\n        read {word}\n"
              f"        allow {word}:{word} {{ read {word} }}\n    }}\n"
              f"    forbid steady {{ fd {word}; x:{word} {{ {word} }} }}\n}}\n", "kw.sel")
    for word in reserved:
        for text in (f"daemon d {{\n    phase p {{\n        {word}\n    }}\n}}\n",
                     f"daemon d {{ phase p {{ {word} }} }}\n",
                     f"daemon d {{\n    forbid steady {{ tun; {word} }}\n}}\n"):
            with pytest.raises(DiagnosticError):
                parse(text, "kw.sel")
    for word in words:
        parse(f"daemon d {{\n    phase p {{\n        {word}\n    }}\n"
              f"    forbid steady {{ {word}; {word} read }}\n}}\n", "kw.sel")


def test_examples_exist():
    assert len(PROGRAMS) >= 4
    assert (EXAMPLES / "include").is_dir()


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_example_passes_check(path, kb):  # kb: skips without the Debian base policy
    result = run("check", str(path.relative_to(ROOT)))
    assert result.returncode == 0, result.stderr
    assert ": ok (" in result.stdout


@pytest.mark.parametrize("path", ALL_SEL, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_example_is_canonical(path):
    result = run("fmt", "--check", str(path.relative_to(ROOT)))
    assert result.returncode == 0, (result.stdout + result.stderr
                                    + f"\nrun: selkit fmt {path.relative_to(ROOT)}")
