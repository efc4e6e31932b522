"""docs/deploy.md, held to what it says.

Every ``console`` block of the guide is preceded by ``<!-- tested: store -->`` or ``<!-- tested:
repository -->`` and run here as written: a ``$ `` line is a command, the lines after it up to
the next command are its standard output (compared line by line, runs of blank space as one).
A *store* block runs on a fresh copy of Debian's module store in a temporary root, in a folder
holding the shipped specs' ``.pp`` and ``.cil``: ``semodule`` gets the copy's root and store and
no reload (``StoreCopy.semodule``), ``matchpathcon`` the copy's file_contexts (``-f``); any
other command is refused, so a block cannot claim a test it does not get. A *repository* block
runs ``selkit`` from the repository root. The relabel and ExecStart tables are compared with
the specs, and what the guide says of the linked policy about no_new_privs and typebounds with
the policy itself.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from selkit_cli import run

from conftest import POLICIES, ROOT, needs_tools
from selkit.analysis.linked import facts_about
from selkit.compiler import Artifact, compile_modules, front_end
from selkit.lab.assemble import switch_option
from selkit.toolchain import StoreCopy

pytestmark = needs_tools("semodule", "matchpathcon", "checkmodule", "semodule_package",
                         "secilc")

DOC = ROOT / "docs" / "deploy.md"
MARKER = re.compile(r"^<!-- tested: (store|repository) -->$")


@dataclass(frozen=True)
class Step:
    command: str
    output: tuple[str, ...]


@dataclass(frozen=True)
class Block:
    kind: str
    line: int
    steps: tuple[Step, ...]

    @property
    def id(self) -> str:
        return f"{self.kind}-line{self.line}"


def doc_blocks(text: str) -> list[Block]:
    """Every ``console`` block of the guide with its marker; one without is an error."""
    lines = text.splitlines()
    blocks = []
    for i, line in enumerate(lines):
        if line.strip() != "```console":
            continue
        marker = MARKER.match(lines[i - 1].strip()) if i else None
        assert marker, f"docs/deploy.md:{i + 1}: a console block without '<!-- tested: ... -->'"
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
        steps: list[Step] = []
        for body in lines[i + 1:end]:
            body = body.strip()
            if body.startswith("$ "):
                steps.append(Step(body[2:], ()))
            else:
                assert steps, f"docs/deploy.md:{i + 1}: output before the first command"
                steps[-1] = Step(steps[-1].command, (*steps[-1].output, body))
        blocks.append(Block(marker.group(1), i + 1, tuple(steps)))
    return blocks


BLOCKS = doc_blocks(DOC.read_text())


def _normal(lines) -> list[str]:
    return [" ".join(line.split()) for line in lines if line.strip()]


def test_the_guide_has_its_tested_blocks():
    """Sections 2, 3 and 9 of the module and label steps, section 7's selkit suggest: removing
    a block's marker, or the block, fails here rather than silently testing less."""
    kinds = [b.kind for b in BLOCKS]
    assert kinds.count("store") >= 6 and kinds.count("repository") >= 1, kinds
    commands = [s.command.split()[0] for b in BLOCKS for s in b.steps]
    assert {"semodule", "matchpathcon", "selkit"} == set(commands)
    tested = " ".join(s.command for b in BLOCKS for s in b.steps)
    for form in ("semodule -i iodine.pp", "semodule -X 450 -i openvpn.pp",
                 "semodule -X 450 -r openvpn", "semodule --list-modules=full",
                 "semodule -i ptunnel.cil", "semodule -r openvpn"):
        assert form in tested, form


@pytest.fixture(scope="module")
def module_files(kb, tmp_path_factory) -> Path:
    """Every shipped spec compiled to its ``.pp`` and ``.cil``, in one folder."""
    folder = tmp_path_factory.mktemp("deploy-modules")
    for path in POLICIES:
        _, modules = front_end(str(path), kb)
        for item in compile_modules(modules, kb, (Artifact.PP, Artifact.CIL)):
            for name, data in item.files.items():
                (folder / name).write_bytes(data)
    return folder


def _on_store_copy(command: str, store: StoreCopy) -> str:
    """The guide's command as it runs on the copy: the same arguments, the copy's paths."""
    tool, _, rest = command.partition(" ")
    if tool == "semodule":
        return f"{shlex.join(store.semodule())} {rest}"
    if tool == "matchpathcon":
        return f"matchpathcon -f {shlex.quote(store.file_contexts)} {rest}"
    raise AssertionError(f"'{command}' cannot run on a store copy: mark its block otherwise")


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.kind == "store"],
                         ids=lambda b: b.id)
def test_a_store_block_runs_as_written(block, module_files):
    with StoreCopy() as store:
        for step in block.steps:
            ran = subprocess.run(_on_store_copy(step.command, store), shell=True,
                                 cwd=module_files, capture_output=True, text=True,
                                 env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"})
            assert ran.returncode == 0, (step.command, ran.stdout, ran.stderr)
            assert _normal(ran.stdout.splitlines()) == _normal(step.output), step.command


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.kind == "repository"],
                         ids=lambda b: b.id)
def test_a_repository_block_runs_as_written(block):
    for step in block.steps:
        tool, *args = shlex.split(step.command)
        assert tool == "selkit", step.command
        ran = run(*args)
        assert ran.returncode == 0, ran.stderr
        assert _normal(ran.stdout.splitlines()) == _normal(step.output), step.command


def _table(heading: str) -> dict[str, list[str]]:
    """The rows of the first table after ``heading``: first cell's first word -> its cells."""
    text = DOC.read_text()
    start = text.index(heading)
    rows: dict[str, list[str]] = {}
    for line in text[start:].splitlines()[1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if set(cells[0]) <= set("-") or cells[0].startswith("daemon"):
            continue
        rows[cells[0].split()[0]] = cells
    return rows


def _code(cell: str) -> str:
    return cell.split("`")[1]


def test_the_relabel_table_names_every_path_of_each_module(shipped_specs):
    """Section 3: the daemon's row relabels exactly the paths of its module's file contexts
    (the exec and each ``file``), in the .fc's order."""
    _, modules = shipped_specs
    rows = _table("## 3. Label the files")
    assert sorted(rows) == sorted(m.daemon for m in modules)
    for module in modules:
        cells = rows[module.daemon]
        assert f"(`{module.name}`)" in cells[0], cells[0]
        command = _code(cells[1]).split()
        assert command[:2] == ["restorecon", "-Rv"]
        paths = [fc.path for fc in module.file_contexts]
        assert None not in paths, module.name
        assert command[2:] == paths, module.name


def _written_for(spec: Path) -> list[str]:
    """The command line a spec's header says it was written for (``Options this policy is
    written for:``, continuation lines joined)."""
    lines = spec.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "Options this policy is written for" in line)
    words: list[str] = []
    for line in lines[start + 1:]:
        body = line.removeprefix("#").strip()
        if not body or not line.startswith("#   "):
            break
        words.extend(body.rstrip("\\").split())
        if not body.endswith("\\"):
            break
    return words


def test_each_execstart_is_the_specs_command_line_with_its_switch(shipped_specs):
    """Section 5: the ExecStart of each daemon starts with its exec path, has its switch option
    with the steady context, and every word of the command line its spec was written for."""
    _, modules = shipped_specs
    rows = _table("### The switch option")
    assert sorted(rows) == sorted(m.daemon for m in modules)
    for module in modules:
        words = _code(rows[module.daemon][1]).split()
        written = _written_for(Path(module.source_path))
        execs = [fc.path for fc in module.file_contexts if fc.type == module.exec_type]
        assert words[0] in execs and words[0].endswith("/" + written[0]), module.daemon
        option = switch_option(module, f"system_u:system_r:{module.steady.domain}:s0")
        assert option and option in " ".join(words), (module.daemon, option)
        missing = [w for w in written[1:] if w not in words[1:]]
        assert not missing, (module.daemon, missing)


def test_what_the_guide_says_of_the_linked_policy(kb, shipped_specs, linked):
    """Section 5: init_t gets no nnp_transition into a startup domain and no dyntransition
    into a steady one, each switch is a typebounds, and Debian's own module does grant the
    nnp_transition (the contrast the guide draws)."""
    _, modules = shipped_specs
    policy, _ = linked(*modules)
    own = frozenset(t for m in modules for t in m.own_types)
    facts = facts_about(policy, own)
    for module in modules:
        startup, steady = module.entry.domain, module.steady.domain
        assert ("init_t", startup, "process", "transition") in facts.allows
        assert ("init_t", startup, "process2", "nnp_transition") not in facts.allows
        assert ("init_t", steady, "process", "dyntransition") not in facts.allows
        assert (startup, steady) in facts.bounds
    from selkit.base import DEFAULT_POLICY, load_policy

    debian = facts_about(load_policy(DEFAULT_POLICY), frozenset({"openvpn_t"}))
    assert ("init_t", "openvpn_t", "process2", "nnp_transition") in debian.allows
