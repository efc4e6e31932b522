"""README.md says what the repository does: what `make demo` and `make test` install, how to
run selkit after them, every option of every command, and what the exit codes mean."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from selkit.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

DEPS_SCRIPTS = ("scripts/vendor-deps.sh", "scripts/lab-deps.sh", "scripts/browser-deps.sh")


def _section(start: str, end: str) -> str:
    return README[README.index(start):README.index(end, README.index(start))]


def _dry_run(target: str) -> str:
    """What ``make TARGET`` runs (``make -n``: nothing is run)."""
    return subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


def _packages(script: str) -> list[str]:
    """The Debian packages a setup script installs (its quoted package list)."""
    text = (ROOT / script).read_text()
    listed = re.findall(r'^[A-Z_]+="([^"]*)"', text, re.MULTILINE)  # PACKAGES="..."
    if not listed:  # the names on the apt-install.sh line itself
        listed = re.findall(r'apt-install\.sh"? [\w-]+ ([^$\n]+)$', text, re.MULTILINE)
    (names,) = listed
    return names.split()


needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@needs_make
def test_make_demo_installs_only_what_selkit_needs():
    demo = _dry_run("demo")
    assert "scripts/setup.sh" in demo
    for script in DEPS_SCRIPTS:
        assert script not in demo, f"make demo runs {script}"


@needs_make
def test_make_test_installs_what_the_suite_needs():
    test = _dry_run("test")
    for script in ("scripts/setup.sh", *DEPS_SCRIPTS):
        assert script in test, f"make test does not run {script}"


def test_the_readme_names_what_each_target_installs():
    demo = _section("- `make demo` runs", "- `make test`")
    assert "scripts/setup.sh" in demo
    for package in _packages("scripts/setup.sh"):
        assert re.search(rf"(?<![\w-]){re.escape(package)}(?![\w-])", demo), package
    assert not any(script in demo for script in DEPS_SCRIPTS)
    test = _section("- `make test`", "`.ci/run` runs")
    for script in DEPS_SCRIPTS:
        assert f"`{script}`" in test, script
    for package in _packages("scripts/lab-deps.sh") + _packages("scripts/browser-deps.sh"):
        assert package in test, package


@needs_make
def test_make_demo_ends_by_saying_how_to_run_selkit():
    demo = _dry_run("demo")
    last = demo[demo.rindex("prove"):]
    assert ".venv/bin/selkit" in last and ". .venv/bin/activate" in last
    assert "`.venv/bin/selkit`" in README and "`. .venv/bin/activate`" in README


# --- the command table ---------------------------------------------------------------------

#: What the README's ``BASE`` stands for ("`BASE` is `[--base POLICY] [--base-store DIR]`").
BASE = ("--base", "--base-store")


def _leaf_commands():
    """(words after ``selkit``, command) of every command that runs."""
    def walk(group, words):
        for name, command in sorted(group.commands.items()):
            if isinstance(command, click.Group):
                yield from walk(command, (*words, name))
            else:
                yield (*words, name), command
    return list(walk(main, ()))


#: A test per command that runs: ``words`` after ``selkit``, and the click command.
EACH_COMMAND = pytest.mark.parametrize("words,command", _leaf_commands(),
                                       ids=[" ".join(w) for w, _ in _leaf_commands()])


def _synopses(words: tuple[str, ...]) -> str:
    """The synopses of ``selkit WORDS`` in the first cells of README's command table (a cell
    may hold two, each in backquotes)."""
    table = _section("## Commands", "\n\n`BASE` is")
    prefix = "selkit " + " ".join(words)
    found = []
    for row in table.splitlines():
        if row.startswith("| `selkit"):
            first = re.split(r"(?<!\\)\|", row)[1]
            found += [s for s in re.findall(r"`(selkit [^`]*)`", first)
                      if s == prefix or s.startswith(prefix + " ")]
    return "\n".join(found)


def _documented(synopsis: str) -> set[str]:
    options = set(re.findall(r"(?<![\w-])(--?[a-z][a-z0-9-]*)", synopsis))
    return options | set(BASE) if re.search(r"\bBASE\b", synopsis) else options


@EACH_COMMAND
def test_the_command_table_lists_every_option_help_shows(words, command):
    synopsis = _synopses(words)
    assert synopsis, f"README's command table has no row for selkit {' '.join(words)}"
    documented = _documented(synopsis)
    missing = [p.opts[-1] for p in command.params if isinstance(p, click.Option)
               and not documented & set(p.opts + p.secondary_opts)]
    assert not missing, f"selkit {' '.join(words)}: {missing} missing from README's table"


@EACH_COMMAND
def test_the_command_table_lists_no_option_the_command_lacks(words, command):
    names = {n for p in command.params if isinstance(p, click.Option)
             for n in p.opts + p.secondary_opts}
    extra = _documented(_synopses(words)) - names
    assert not extra, f"selkit {' '.join(words)} has no {sorted(extra)} (README's table)"


# --- exit codes ----------------------------------------------------------------------------

@EACH_COMMAND
def test_help_ends_with_the_exit_codes_and_the_readme_agrees(words, command):
    result = CliRunner().invoke(main, [*words, "--help"], terminal_width=100)
    assert result.exit_code == 0
    codes = result.output[result.output.index("Exit codes:"):]
    for line in ("0  success", "2  bad input or usage", "3  a bug in selkit"):
        assert line in codes, (words, codes)
    ones = re.findall(r"^ +1  ", codes, re.MULTILINE)
    table = _section("Exit codes (each command's", "Errors are")
    (one,) = re.findall(r"^\| 1 \|([^\n]*)", table, re.MULTILINE)
    (never,) = re.findall(r"([^.;]*) never exit 1", one)
    named = set(re.findall(r"`([a-z]+)[` ]", one.replace(never, "")))
    if ones:
        assert words[0] in named, f"README's exit status 1 does not name {words[0]}"
    else:
        assert f"`{words[0]}`" in never, f"README does not say {words[0]} never exits 1"
