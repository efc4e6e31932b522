"""Integration with the real toolchain: checkmodule, semodule_package, secilc, semodule into a
copy of the Debian refpolicy store, the refpolicy devel Makefile, and setools on the result."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import POLICIES, needs_tools
from selkit.analysis.linked import facts_about
from selkit.base import load_policy
from selkit.compiler import Artifact, checked_ir, compile_modules, front_end
from selkit.diagnostics import DiagnosticError
from selkit.emit import Target
from selkit.toolchain import StoreCopy, ToolchainError

pytestmark = needs_tools("checkmodule", "semodule_package", "semodule", "secilc")

ALL = (Artifact.TE, Artifact.CIL, Artifact.PP)


def _compile(path: Path, kb):
    _, modules = front_end(str(path), kb)
    return compile_modules(modules, kb, ALL)


@pytest.fixture(scope="module")
def compiled(kb):
    """Every shipped policy compiled once for this module."""
    return {p.stem: _compile(p, kb)[0] for p in POLICIES}


def _link_together(paths: list[Path], modules) -> tuple[object, str]:
    """The files linked into one store copy (one transaction): the kernel policy and the
    file_contexts it produced."""
    with StoreCopy() as store:
        store.install([str(p) for p in paths], list(modules))
        policy = load_policy(store.policy_path)
        fcs = Path(store.file_contexts).read_text()
        return policy, fcs


def _write_all(compiled, folder: Path, ext: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for item in compiled.values():
        path = folder / f"{item.name}.{ext}"
        path.write_bytes(item.files[path.name])
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def linked_forms(compiled, tmp_path_factory):
    """form -> (kernel policy, file_contexts): every shipped module linked in one transaction
    per form, selkit's ``.pp`` (from the .te) and its ``.cil``. A link takes seconds; one per
    form instead of one per module and form."""
    folder = tmp_path_factory.mktemp("forms")
    modules = [c.module for c in compiled.values()]
    return {form: _link_together(_write_all(compiled, folder / form, form), modules)
            for form in ("pp", "cil")}


@pytest.fixture(scope="module")
def devel_built(compiled, tmp_path_factory):
    """The refpolicy devel Makefile run once over every shipped .te/.if/.fc (make -k, so one
    module's failure does not hide another's): module name -> (make's output, the linked
    policy of every package it made, or None when it made none)."""
    makefile = Path("/usr/share/selinux/devel/Makefile")
    if not makefile.exists():
        pytest.skip("selinux-policy-dev is not installed")
    folder = tmp_path_factory.mktemp("devel")
    for ext in ("te", "if", "fc"):
        _write_all(compiled, folder, ext)
    names = [c.name for c in compiled.values()]
    result = subprocess.run(["make", "-k", "-f", str(makefile), *(f"{n}.pp" for n in names)],
                            cwd=folder, capture_output=True, text=True)
    output = result.stdout + result.stderr
    made = [c for c in compiled.values() if (folder / f"{c.name}.pp").is_file()]
    policy = _link_together([folder / f"{c.name}.pp" for c in made],
                            [c.module for c in made])[0] if made else None
    return {c.name: (output, policy if c in made else None) for c in compiled.values()}


@pytest.mark.parametrize("name", [p.stem for p in POLICIES])
def test_te_and_cil_link_to_the_same_rules(compiled, linked_forms, name):
    """.te ≡ .cil: the shipped modules linked once as .pp and once as .cil; each module's
    types' facts match."""
    item = compiled[name]
    (pp_policy, pp_fcs), (cil_policy, cil_fcs) = linked_forms["pp"], linked_forms["cil"]
    own = item.module.own_types
    pp_facts, cil_facts = facts_about(pp_policy, own), facts_about(cil_policy, own)
    assert pp_facts.difference(cil_facts) == {k: [] for k in
                                              ("allows", "conditional", "transitions", "bounds",
                                               "attributes")}
    # The module's own rules really are in the linked policy, and so is the phase structure.
    startup, steady = (p.domain for p in item.module.phases[:2])
    assert (startup, steady) in pp_facts.bounds
    assert (startup, startup, "process", "setcurrent") in pp_facts.allows
    assert (startup, steady, "process", "dyntransition") in pp_facts.allows
    assert (steady, startup, "process", "dyntransition") not in pp_facts.allows
    assert ("init_t", f"{item.module.daemon}_startup_exec_t", "process", startup) \
        in pp_facts.transitions
    for fc in item.module.file_contexts:
        line = next(ln for ln in pp_fcs.splitlines() if ln.startswith(fc.regex + "\t")
                    and fc.type in ln)
        assert line in cil_fcs.splitlines()


def test_all_modules_link_together_and_load(compiled, linked_forms):
    """The demo's path: every .pp in one transaction; setools loads the kernel policy."""
    policy, _ = linked_forms["pp"]
    types = {str(t) for t in policy.types()}
    for item in compiled.values():
        assert item.module.own_types <= types


@needs_tools("make", "m4")
@pytest.mark.parametrize("name", [p.stem for p in POLICIES])
def test_refpolicy_devel_makefile_builds_the_te(compiled, linked_forms, devel_built, name):
    """The shipped .te/.if/.fc build with /usr/share/selinux/devel/Makefile, and the packages
    it makes declare the same rules as selkit's own .pp (compared after linking all of each)."""
    item = compiled[name]
    output, devel_policy = devel_built[item.name]  # the module name (iodined.sel's is 'iodine')
    assert devel_policy is not None, output
    own = item.module.own_types
    assert facts_about(devel_policy, own) == facts_about(linked_forms["pp"][0], own)


def test_compiling_twice_gives_identical_bytes(kb):
    for path in POLICIES:
        first = {k: v for c in _compile(path, kb) for k, v in c.files.items()}
        second = {k: v for c in _compile(path, kb) for k, v in c.files.items()}
        assert first == second, path


def test_secilc_accepts_the_cil_with_the_base_policy(compiled, tmp_path):
    """secilc alone (no libsemanage): the store's CIL modules plus every selkit module."""
    store_modules = Path("/var/lib/selinux/default/active/modules")
    disabled = {p.name for p in (store_modules / "disabled").glob("*")}
    inputs = []
    for cil in sorted(store_modules.glob("*/*/cil")):
        name = cil.parent.name
        if cil.parent.parent.name == "disabled" or name in disabled:
            continue
        if name in {c.name for c in compiled.values()}:
            continue  # selkit's module of the same name replaces the distro one
        data = cil.read_bytes()
        if data[:3] == b"BZh":
            import bz2
            data = bz2.decompress(data)
        out = tmp_path / f"base-{cil.parent.parent.name}-{name}.cil"
        out.write_bytes(data)
        inputs.append(str(out))
    for item in compiled.values():
        path = tmp_path / f"{item.name}.cil"
        path.write_bytes(item.files[f"{item.name}.cil"])
        inputs.append(str(path))
    result = subprocess.run(["secilc", "-o", str(tmp_path / "policy"), "-f", "/dev/null",
                             *inputs], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    policy = load_policy(str(tmp_path / "policy"))
    assert "openvpn_steady_t" in {str(t) for t in policy.types()}


def test_a_bounds_violation_is_reported_against_the_spec_line(kb, tmp_path):
    """libsepol's own typebounds check (expand-check=1) maps back to the .sel line.

    selkit's SEL301 catches this before linking; the rule here is added after the passes to
    show the store copy really enforces bounds (Debian's default expand-check=0 would not)."""
    import dataclasses

    from selkit.ir import nodes as ir

    path = tmp_path / "leak.sel"
    path.write_text('daemon leak {\n    exec "/usr/sbin/leak"\n    phase startup {\n'
                    '        udp bind port 53\n    }\n    phase steady {\n        udp io\n    }\n'
                    '    switch startup -> steady { option "-z {context}" }\n}\n')
    _, (module,) = front_end(str(path), kb)
    steady_rule = module.allows("leak_steady_t")[0]
    leak = ir.Allow("leak_steady_t", "etc_t", "file", ("read",), steady_rule.origin)
    module = dataclasses.replace(module, rules=module.rules + (leak,))
    (item,) = compile_modules((module,), kb, (Target.CIL,))
    cil = tmp_path / "leak.cil"
    cil.write_bytes(item.files["leak.cil"])
    with StoreCopy() as store, pytest.raises(ToolchainError) as err:
        store.install([str(cil)], [module])
    diag = err.value.diagnostics[0]
    assert diag.code == "SEL503"
    assert "exceeds the bounds" in diag.message
    assert diag.span == steady_rule.origin.span


def test_store_copy_never_touches_the_live_store(kb, tmp_path):
    live = Path("/var/lib/selinux/default/active/commit_num").read_bytes()
    with StoreCopy() as store:
        assert store.root != "/"
        assert "expand-check=1" in Path(store.root, "etc/selinux/semanage.conf").read_text()
    assert Path("/var/lib/selinux/default/active/commit_num").read_bytes() == live
    assert shutil.which("semodule")


def test_a_base_neverallow_is_found_before_the_link_with_libsepols_verdict(kb, tmp_path):
    """A spec that asks to read shadow_t breaks a neverallow of the base: the front end says so
    (SEL330) at the spec line, and libsepol, given the same module with expand-check=1, refuses
    it for the same neverallow (SEL504, mapped to the same line)."""
    path = tmp_path / "peek.sel"
    path.write_text('daemon peek {\n    exec "/usr/sbin/peek"\n    phase startup {\n'
                    '        read shadow_t\n    }\n    phase steady {\n    }\n'
                    '    switch startup -> steady { option "-z {context}" }\n}\n')
    with pytest.raises(DiagnosticError) as early:
        front_end(str(path), kb)
    ours = [d for d in early.value.diagnostics if d.code == "SEL330"]
    assert ours and {d.span.line for d in ours} == {4}
    assert all("neverallow base_typeattr_1 shadow_t (file (read))" in d.message for d in ours)
    _, (module,) = checked_ir(str(path), kb)  # the same module, without the store checks
    (item,) = compile_modules((module,), kb, (Target.CIL,))
    cil = tmp_path / "peek.cil"
    cil.write_bytes(item.files["peek.cil"])
    with StoreCopy() as store, pytest.raises(ToolchainError) as err:
        store.install([str(cil)], [module])
    codes = {d.code for d in err.value.diagnostics}
    assert codes == {"SEL504"}
    diag = next(d for d in err.value.diagnostics if "shadow_t (file" in d.message)
    assert "neverallow" in diag.message and diag.span.line == 4
