"""Bundles (selkit.dsl.bundle) and standalone reading (selkit.dsl.loader): a spec with every
file it uses inlined reads alone, as semodule's HLL compiler reads it from standard input, and
a standalone text never opens a file. Pure: no base policy, no tool."""

from __future__ import annotations

import shutil

import pytest
from selkit_cli import GOOD

from conftest import POLICIES, ROOT
from selkit.diagnostics import DiagnosticError
from selkit.dsl import ast, loader
from selkit.dsl.bundle import INLINED, bundle
from selkit.dsl.loader import BUNDLE_HINT, load, read_source
from selkit.dsl.parser import parse
from selkit.dsl.pretty import format_module

SPEC = '# A daemon that uses a library.\nuse "lib/start.sel"\n\n' + GOOD.replace(
    "        udp bind port", "        include start\n        udp bind port")
# The library uses another one, one folder further down.
START = 'use "more/log.sel"\n\nfragment start {\n    stdio\n    include log\n}\n'
LOG = "# Logging.\nfragment log {\n    syslog\n}\n"


@pytest.fixture
def spec(tmp_path):
    (tmp_path / "lib" / "more").mkdir(parents=True)
    (tmp_path / "d.sel").write_text(SPEC)
    (tmp_path / "lib" / "start.sel").write_text(START)
    (tmp_path / "lib" / "more" / "log.sel").write_text(LOG)
    return tmp_path / "d.sel"


def _statements(module: ast.Module) -> list[str]:
    """Every statement's text, blocks included, in order (spans left out)."""
    return [line.strip() for line in format_module(ast.Module(module.path, module.items))
            .splitlines() if line.strip()]


def test_a_bundle_holds_every_used_file_and_reads_alone(spec):
    text = bundle(load(str(spec)), "d")
    program = load("<stdin>", text, standalone=True)
    assert program.main.of(ast.Use) == ()
    assert sorted(program.fragments) == ["log", "start"]
    assert text.splitlines()[:2] == [
        "# selkit bundle of d.sel (module d): the spec with every file it uses inlined,",
        "# for semodule -i d.sel (semodule names the module after the file). Edit the spec, "
        "not this."]
    # Each used file under its path from the spec's folder, nearest first, its uses commented.
    assert "\n# ---- inlined from lib/start.sel ----\n" + INLINED + 'use "more/log.sel"\n' in text
    assert text.index("inlined from lib/start.sel") < text.index("inlined from lib/more/log.sel")
    # The spec's own statements, then the libraries' fragments, as written.
    daemon, *fragments = (i for i in program.main.items)
    assert _statements(ast.Module("", (daemon,))) == _statements(
        ast.Module("", parse(SPEC, "d.sel").of(ast.Daemon)))
    assert [f.name.text for f in fragments] == ["start", "log"]


def test_the_spec_keeps_its_lines_shifted_by_the_header(spec):
    text = bundle(load(str(spec)), "d").splitlines()
    for number, line in enumerate(SPEC.splitlines(), start=1):
        expected = INLINED + line if line.startswith("use ") else line
        assert text[number + 1] == expected


def test_a_bundle_depends_only_on_the_texts_not_on_where_they_are(spec, tmp_path,
                                                                  monkeypatch):
    first = bundle(load(str(spec)), "d")
    elsewhere = tmp_path / "elsewhere" / "deeper"
    shutil.copytree(spec.parent / "lib", elsewhere / "lib")
    shutil.copy(spec, elsewhere / "d.sel")
    monkeypatch.chdir(elsewhere)
    assert bundle(load("d.sel"), "d") == first
    assert bundle(load(str(elsewhere / "d.sel")), "d") == first


def test_a_use_that_shares_its_line_is_blanked_with_its_separator(tmp_path):
    (tmp_path / "lib.sel").write_text("fragment f {\n    syslog\n}\n")
    spec = tmp_path / "d.sel"
    spec.write_text(SPEC.replace('use "lib/start.sel"\n\ndaemon d {',
                                 'use "lib.sel"; daemon d {').replace("include start",
                                                                      "include f"))
    text = bundle(load(str(spec)), "d")
    line = text.splitlines()[3]
    assert line == " " * len('use "lib.sel"; ') + "daemon d {"   # the daemon keeps its column
    program = load("<stdin>", text, standalone=True)
    assert program.main.of(ast.Daemon)[0].name.span.column == len('use "lib.sel"; daemon ') + 1


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.name)
def test_the_shipped_specs_bundle_to_canonical_text(path):
    text = bundle(load(str(path.relative_to(ROOT))), path.stem)
    module = parse(text, "<stdin>")
    assert module.of(ast.Use) == ()
    assert format_module(module) == text      # selkit fmt --check accepts it
    # The libraries' fragments come along: the bundle defines every fragment the spec reads.
    assert {f.name.text for f in module.of(ast.Fragment)} == set(load(str(path)).fragments)


def test_standalone_text_refuses_use_without_opening_the_file(spec, monkeypatch):
    monkeypatch.chdir(spec.parent)   # lib/start.sel is right there, and must not be read

    def no_reading(path: str) -> str:
        raise AssertionError(f"a standalone text opened {path}")

    monkeypatch.setattr(loader, "read_source", no_reading)
    with pytest.raises(DiagnosticError) as err:
        load("<stdin>", SPEC, standalone=True)
    (diag,) = err.value.diagnostics
    assert diag.code == "SEL916"
    assert diag.message == ("'use \"lib/start.sel\"': a module read from standard input cannot "
                            "read the files next to it")
    assert (diag.span.path, diag.span.line, diag.span.column) == ("<stdin>", 2, 1)
    assert diag.hint == BUNDLE_HINT and "selkit compile --bundle" in diag.hint
    # The same text as a file follows its use (the check above can fail).
    monkeypatch.setattr(loader, "read_source", read_source)
    assert sorted(load("d.sel", SPEC).fragments) == ["log", "start"]
