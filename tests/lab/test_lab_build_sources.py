"""The build sources a scenario can name besides a known project: a local source tree (with a
series the lab completes with the spec's generated patch) and prebuilt binaries. The Debian
source package kind is run by tests/lab/test_lab_example.py (examples/dns2tcp)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from patch_demo import SPEC, demo_tree

from conftest import ROOT
from selkit.compiler import front_end
from selkit.lab.runner import build_for
from selkit.lab.scenario import BuildKind
from selkit.lab.scenario_file import load_scenario

SCENARIO = """\
[build]
tree = "demo-1.0"
patches = "patches"
steps = [["gcc", "-O2", "-Wall", "-DHAVE_SELINUX", "-o", "demo", "src/demo.c", "-lselinux"]]
binaries = { demo = "demo" }

[daemon]
command = ["demo", "{switch}"]

[peer]
role = "nothing"
command = ["demo"]

[traffic]
command = ["true"]
"""


def test_a_local_tree_is_built_with_the_specs_generated_patch(tmp_path, kb):
    demo_tree(tmp_path)
    (tmp_path / "patches").mkdir()
    (tmp_path / "demo.sel").write_text(SPEC)
    (tmp_path / "demo.lab.toml").write_text(SCENARIO)
    scenario = load_scenario(tmp_path / "demo.lab.toml")
    assert scenario.build.kind is BuildKind.TREE
    _, modules = front_end(str(tmp_path / "demo.sel"), kb)
    build = build_for(scenario, modules, tmp_path / "work", lambda _msg: None)
    # The series had no patch: the lab generated the spec's and applied it.
    assert build.patches == ("0001-demo-setcon-via-an-attr-fd-opened-before-chroot.patch",)
    assert "setcon_fd_switch_steady(context)" in (build.tree / "src" / "demo.c").read_text()
    # The patched daemon fails closed on this kernel (no SELinux), as the hook says.
    ran = subprocess.run([str(build.binaries["demo"]), "system_u:system_r:demo_steady_t:s0"],
                         capture_output=True, text=True, timeout=10)
    assert ran.returncode == 1 and "demo_steady_t" in ran.stderr, ran
    # The source tree itself is untouched: the build worked on a copy.
    assert "setcon_fd" not in (tmp_path / "demo-1.0" / "src" / "demo.c").read_text()
    # Same inputs, same build (cached by the tree's bytes, the patches and the recipe).
    again = build_for(scenario, modules, tmp_path / "work2", lambda _msg: None)
    assert again.key == build.key
    (tmp_path / "demo-1.0" / "src" / "demo.c").write_text(
        (tmp_path / "demo-1.0" / "src" / "demo.c").read_text() + "/* changed */\n")
    assert build_for(scenario, modules, tmp_path / "work3", lambda _msg: None).key != build.key


def test_prebuilt_binaries_are_used_as_they_are(tmp_path):
    (tmp_path / "x.sel").write_text("")
    (tmp_path / "x.lab.toml").write_text(SCENARIO.replace(
        '[build]\ntree = "demo-1.0"\npatches = "patches"\n', "[build]\n").replace(
        'binaries = { demo = "demo" }', 'binaries = { demo = "/bin/true" }').replace(
        "steps = [[", "# steps = [["))
    scenario = load_scenario(tmp_path / "x.lab.toml")
    assert scenario.build.kind is BuildKind.PREBUILT
    build = build_for(scenario, [], tmp_path / "work", lambda _msg: None)
    assert build.binaries == {"demo": Path("/bin/true")} and build.tree is None


def test_the_shipped_scenarios_name_known_projects():
    for path in sorted((ROOT / "policies").glob("*.lab.toml")):
        assert load_scenario(path).build.kind is BuildKind.PROJECT, path
