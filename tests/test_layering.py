"""The package's layering, read from the import statements of every module.

Each layer imports only from layers below it; Lark stays in the front end, rich and click in
the CLI and report layers, SETools where a base or linked policy is read or analysed; nothing
below the CLI prints or exits.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import pytest

from conftest import ROOT

PACKAGE = ROOT / "selkit"

#: Layer of each top-level part of the package; a module may import only lower layers
#: (or its own part).
LAYERS = {
    "selkit": 0, "selkit.diagnostics": 0, "selkit.cache": 0, "selkit.csyntax": 0,
    "selkit.progress": 0,
    "selkit.dsl": 1, "selkit.facts": 1,
    "selkit.ir": 2, "selkit.dump": 2, "selkit.seccomp": 2,
    "selkit.emit": 3, "selkit.base": 3, "selkit.suggest": 3,
    "selkit.toolchain": 4, "selkit.projects": 4,
    "selkit.analysis": 5,
    "selkit.prove": 6, "selkit.patch": 6,
    "selkit.compiler": 7, "selkit.audit": 7,
    "selkit.lab": 8, "selkit.scaffold": 8,
    "selkit.report": 9,
    "selkit.cli": 10, "selkit.__main__": 11,
}

#: Third-party libraries confined to some parts of the package.
CONFINED = {
    "lark": {"selkit.dsl"},
    "rich": {"selkit.cli", "selkit.report"},
    "click": {"selkit.cli"},
    "setools": {"selkit.base", "selkit.analysis", "selkit.audit"},
    "sepolgen": {"selkit.lab", "selkit.audit"},
}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        name = ".".join(rel.parts)
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        yield name, ast.parse(path.read_text(), str(path))


def _part(name: str) -> str:
    parts = name.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else parts[0]


def _imports(tree: ast.AST, module: str):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: -node.level] if not module.endswith("__init__") \
                    else module.split(".")
                yield ".".join(base + ([node.module] if node.module else [])), node.lineno
            else:
                yield node.module or "", node.lineno


MODULES = list(_modules())


def _upward_imports(name: str, tree: ast.AST) -> list[str]:
    mine = LAYERS[_part(name)]
    out = []
    for imported, line in _imports(tree, name):
        if not imported.startswith("selkit"):
            continue
        theirs = LAYERS[_part(imported)]
        if not (theirs < mine or _part(imported) == _part(name)):
            out.append(f"{name}:{line} imports {imported} (layer {theirs} >= {mine})")
    return out


@pytest.mark.parametrize("name,tree", MODULES, ids=[m[0] for m in MODULES])
def test_imports_point_down(name, tree):
    assert _upward_imports(name, tree) == []


def test_the_import_check_sees_an_upward_import():
    tree = ast.parse("def f():\n    from selkit.cli import main\n")
    assert _upward_imports("selkit.ir.lower", tree) == [
        "selkit.ir.lower:2 imports selkit.cli (layer 10 >= 2)"]


@pytest.mark.parametrize("name,tree", MODULES, ids=[m[0] for m in MODULES])
def test_third_party_libraries_stay_in_their_layer(name, tree):
    for imported, line in _imports(tree, name):
        top = imported.split(".")[0]
        if top in CONFINED:
            assert _part(name) in CONFINED[top], f"{name}:{line} imports {top}"


@pytest.mark.parametrize("name,tree", MODULES, ids=[m[0] for m in MODULES])
def test_nothing_below_the_cli_prints_or_exits(name, tree):
    if _part(name) in ("selkit.cli", "selkit.__main__"):
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else (
                f"{getattr(func.value, 'id', '')}.{func.attr}" if isinstance(func, ast.Attribute)
                else "")
            assert called not in ("print", "exit", "quit", "sys.exit", "os._exit"), \
                f"{name}:{node.lineno} calls {called}"
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            assert getattr(target, "id", None) != "SystemExit", f"{name}:{node.lineno}"
        if isinstance(node, ast.Attribute) and node.attr in ("stdout", "stderr"):
            assert getattr(node.value, "id", None) != "sys", \
                f"{name}:{node.lineno} writes to sys.{node.attr}"


def test_lark_types_do_not_leak_from_the_front_end(tmp_path):
    """Every value in a parsed AST is one of ours (no lark Token or Tree)."""
    import dataclasses

    from selkit.dsl.parser import parse

    module = parse((ROOT / "policies" / "openvpn.sel").read_text(), "openvpn.sel")
    stack = [module]
    while stack:
        value = stack.pop()
        assert type(value).__module__.split(".")[0] != "lark", type(value)
        if dataclasses.is_dataclass(value):
            stack.extend(getattr(value, f.name) for f in dataclasses.fields(value))
        elif isinstance(value, (tuple, list)):
            stack.extend(value)
        elif isinstance(value, str):
            # lark's Token subclasses str; so do the AST's own kinds (ast.ArgKind, ...).
            assert type(value) is str or type(value).__module__ == "selkit.dsl.ast", type(value)


def test_the_command_line_imports_lark_only_to_parse():
    """``selkit --help`` and the commands that read no ``.sel`` file do not pay for Lark."""
    code = ("import sys; import selkit.cli; import selkit.emit.reference; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'lark'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout == "[]\n"
