"""``selkit lab``: build what the guest needs, boot it once per daemon, and judge the run.

What runs is a scenario (:mod:`.scenario`, read from the ``NAME.lab.toml`` beside a spec by
:mod:`.scenario_file`); the guest's output is read by :mod:`.guest_output`, judged by
:mod:`.verdict`; the guest itself is built by :mod:`.assemble`.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from selkit import projects
from selkit.base import BaseSpec, load_kb
from selkit.diagnostics import Diagnostic, DiagnosticError, did_you_mean
from selkit.ir import nodes as ir
from selkit.lab import battery, kernel, vm
from selkit.lab.assemble import battery_identity, build_image
from selkit.lab.guest_output import parse_output
from selkit.lab.policy import LabPolicy, build_policy
from selkit.lab.scenario import BuildKind, Scenario
from selkit.lab.scenario_file import SUFFIX, find_scenarios, load_scenario, scenario_path
from selkit.lab.series import lab_series, regenerated_series
from selkit.lab.verdict import LabResult, judge
from selkit.progress import Progress
from selkit.suggest import suggest
from selkit.suggest.syscalls import suggest_syscalls


@dataclass
class Prepared:
    """What every scenario shares: kernel, busybox, policy, probe."""

    kernel: kernel.Kernel
    busybox: Path
    policy: LabPolicy
    probe: Path | None


def scenarios(target: str, spec_dir: Path, scenario_file: Path | None = None
              ) -> list[Scenario]:
    """The scenarios ``target`` selects: a spec file (its scenario beside it, or
    ``scenario_file``), a daemon whose scenario is in ``spec_dir``, or ``all`` of them.
    SEL770 for a name with no scenario, SEL768 for a spec that does not exist."""
    if target.endswith(".sel") or "/" in target:
        spec = Path(target)
        if not spec.is_file():
            raise DiagnosticError([Diagnostic("SEL768", f"no spec {target}")])
        return [load_scenario(scenario_file or scenario_path(spec), spec)]
    if scenario_file is not None:
        raise DiagnosticError([Diagnostic(
            "SEL770", "--scenario goes with a spec file, not a daemon name",
            hint=f"selkit lab path/to/SPEC.sel --scenario {scenario_file}")])
    files = find_scenarios(Path(spec_dir))
    if target != "all" and (Path(spec_dir) / f"{target}{SUFFIX}").is_file():
        files = [Path(spec_dir) / f"{target}{SUFFIX}"]
    loaded = [load_scenario(f) for f in files]
    chosen = loaded if target == "all" else [s for s in loaded if s.daemon == target]
    if not chosen:
        names = [s.daemon for s in loaded]
        raise DiagnosticError([Diagnostic(
            "SEL770", f"no lab scenario for '{target}' in {spec_dir}",
            hint=did_you_mean(target, names) or (
                f"choose one of: {', '.join(names)}, all; or give a spec file whose "
                f"NAME{SUFFIX} is beside it" if names else
                f"give a spec file whose NAME{SUFFIX} is beside it (dsl/REFERENCE.md, "
                "'Lab scenarios')"))])
    return chosen


def spec_paths(chosen: Sequence[Scenario]) -> list[str]:
    """The specs the lab policy links: each chosen daemon's and each confined peer's; SEL768
    when one is missing (checked before anything is downloaded or built)."""
    specs = [s.spec for s in chosen] + [s.peer.spec for s in chosen if s.peer.spec is not None]
    missing = [str(p) for p in specs if not p.is_file()]
    if missing:
        raise DiagnosticError([Diagnostic(
            "SEL768", f"no spec {', '.join(missing)}",
            hint="a scenario runs the spec beside it (or the one its 'spec' key names)")])
    # One file named two ways (a daemon's spec, and the same file as another's peer) once.
    unique = {p.resolve(): str(p) for p in reversed(specs)}
    return sorted(unique.values(), key=lambda p: Path(p).name)


def prepare(chosen: Sequence[Scenario], progress: Progress | None = None,
            with_probe: bool = True) -> Prepared:
    """Download the kernel and busybox, build the policy from the chosen scenarios' specs and
    the probe."""
    specs = spec_paths(chosen)
    the_kernel = kernel.fetch_kernel(progress)
    busybox = kernel.fetch_busybox(progress)
    policy = build_policy(specs, progress)
    probe = battery.build_probe(progress) if with_probe else None
    return Prepared(the_kernel, busybox, policy, probe)


def build_for(scenario: Scenario, modules: Sequence[ir.PolicyModule], workdir: Path,
              say: Progress, *, filters: bool = True) -> projects.Build:
    """The build the scenario runs, its generated patches regenerated from the lab's specs
    (:mod:`selkit.lab.series`). ``filters=False``: the hooks load no seccomp filter
    (bench/lab_filter_pps.py's baseline)."""
    source = scenario.build
    if source.kind is BuildKind.PROJECT:
        patches = lab_series(source.project, modules, workdir / "patches", say, filters=filters)
        return projects.build(source.project, patches=patches, progress=say)
    if source.kind is BuildKind.PREBUILT:
        return projects.Build(project=scenario.daemon, log=Path(os.devnull), warnings=(), binaries={
            name: Path(path) for name, path in source.binaries})
    recipe = projects.Project(
        name=re.sub(r"[^A-Za-z0-9._+-]", "_", source.project or scenario.daemon),
        source_package=source.project, orig=source.orig, top_dir=source.top_dir,
        steps=source.steps, env_cflags=True, build_depends=source.build_depends,
        binaries=source.binaries, checks=())
    own = [m for m in modules if m.source_path == str(scenario.spec)]

    def unpack_orig(dest: Path) -> Path:
        if source.tree is not None:
            shutil.copytree(source.tree, dest, symlinks=True,
                            ignore=shutil.ignore_patterns(".git"))
            return dest
        return projects.unpack(recipe, dest)

    patches = (regenerated_series(source.series, modules, workdir / "patches", unpack_orig,
                                  say, filters=filters, label=scenario.daemon, required=own)
               if source.series is not None else [])
    return projects.build(recipe, patches=patches, progress=say, source_tree=source.tree)


def run_one(scenario: Scenario, prepared: Prepared, *, keep: Path | None = None,
            progress: Progress | None = None, timeout: float = 300.0,
            with_suggestions: bool = False, build: projects.Build | None = None,
            bench: bool = False) -> LabResult:
    """Build, boot and judge one daemon (:func:`build_for`; ``build`` replaces it, e.g. a
    build with an extra patch under test). ``bench``: the guest measures the tunnel after the
    traffic and stops (bench/lab_filter_pps.py reads ``logs["bench"]``)."""
    say = progress or (lambda _msg: None)
    module = prepared.policy.module_of(scenario.spec, scenario.daemon)
    peer_module = (prepared.policy.module_of(scenario.peer.spec)
                   if scenario.peer.spec is not None else None)
    workdir = Path(keep) / scenario.daemon if keep else \
        Path(tempfile.mkdtemp(prefix=f"selkit-lab-{scenario.daemon}-"))
    try:
        if build is None:
            build = build_for(scenario, prepared.policy.modules, workdir, say)
        return _boot_and_judge(scenario, prepared, module, peer_module, build, workdir,
                               keep=keep, say=say, timeout=timeout,
                               with_suggestions=with_suggestions, bench=bench)
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def _boot_and_judge(scenario: Scenario, prepared: Prepared, module: ir.PolicyModule,
                    peer_module: ir.PolicyModule | None, build: projects.Build, workdir: Path,
                    *, keep: Path | None, say: Progress, timeout: float,
                    with_suggestions: bool, bench: bool) -> LabResult:
    image = build_image(scenario, module, build.binaries, None if bench else prepared.probe,
                        prepared.kernel, build.tree, bench=bench, peer_module=peer_module,
                        busybox=prepared.busybox)
    say(f"{scenario.daemon}: assembling the initramfs")
    archive = image.initramfs(prepared.busybox, prepared.policy.path.read_bytes()).gzip()
    workdir.mkdir(parents=True, exist_ok=True)
    initrd = workdir / "initrd.gz"
    initrd.write_bytes(archive)
    start = time.monotonic()
    boot = vm.boot(prepared.kernel.vmlinuz, initrd, workdir, timeout=timeout,
                   progress=lambda msg: say(f"{scenario.daemon}: {msg}"))
    output = parse_output(boot.results.read_text(errors="replace"))
    probe_ran = prepared.probe is not None and not bench
    result = judge(scenario, module, output, time.monotonic() - start, probe_ran=probe_ran,
                   peer_module=peer_module,
                   battery_user=battery_identity(scenario, module)[0] if probe_ran else None)
    if with_suggestions and (result.denials or result.seccomp):
        result = _with_suggestions(result, prepared)
    if keep:
        (workdir / "dmesg.txt").write_text(output.blocks.get("dmesg", ""))
        (workdir / "selkit_lab.cil").write_text(prepared.policy.lab_module)
        shutil.copyfile(prepared.policy.path, workdir / "policy.33")
        result = dataclasses.replace(result, kept=str(workdir))
    return result


def _with_suggestions(result: LabResult, prepared: Prepared) -> LabResult:
    kb = load_kb(BaseSpec())
    modules, programs = prepared.policy.modules, prepared.policy.programs
    found = suggest(list(result.denials), modules, kb, programs)
    calls = suggest_syscalls(result.seccomp, modules, kb, programs)
    return dataclasses.replace(result, suggestions=tuple(found),
                               syscall_suggestions=tuple(calls))


__all__ = ["Prepared", "build_for", "prepare", "run_one", "scenarios", "spec_paths"]
