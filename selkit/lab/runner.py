"""``selkit lab``: build what the guest needs, boot it once per daemon, and judge the run.

The guest's output is read by :mod:`.guest_output`, judged by :mod:`.verdict`; the guest itself is
built by :mod:`.assemble`. The specs directory is the caller's (the CLI's ``--specs``).
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from selkit import projects
from selkit.base import BaseSpec, load_kb
from selkit.diagnostics import Diagnostic, DiagnosticError
from selkit.ir import nodes as ir
from selkit.lab import battery, kernel, vm
from selkit.lab.assemble import build_image
from selkit.lab.guest_output import parse_output
from selkit.lab.policy import LabPolicy, build_policy
from selkit.lab.scenarios import BY_DAEMON, SCENARIOS, Scenario
from selkit.lab.series import lab_series
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


def daemons(name: str) -> list[Scenario]:
    """The scenarios ``name`` selects (a daemon or ``all``); SEL770 for anything else."""
    if name == "all":
        return list(SCENARIOS)
    if name not in BY_DAEMON:
        raise DiagnosticError([Diagnostic(
            "SEL770", f"no lab scenario for '{name}'",
            hint=f"choose one of: {', '.join(BY_DAEMON)}, all")])
    return [BY_DAEMON[name]]


def spec_paths(spec_dir: Path, chosen: Sequence[Scenario]) -> list[str]:
    """Every ``.sel`` in ``spec_dir``; SEL768 if there is none or a chosen daemon's is missing
    (checked before anything is downloaded or built)."""
    specs = sorted(str(p) for p in Path(spec_dir).glob("*.sel"))
    missing = [s.spec for s in chosen if not (Path(spec_dir) / s.spec).is_file()]
    if not specs or missing:
        raise DiagnosticError([Diagnostic(
            "SEL768", f"no {', '.join(missing) or '.sel specs'} in {spec_dir}",
            hint="the lab links every .sel of the directory and runs the chosen daemons")])
    return specs


def prepare(spec_dir: Path, progress: Progress | None = None, with_probe: bool = True,
            chosen: Sequence[Scenario] = SCENARIOS) -> Prepared:
    """Download the kernel and busybox, build the policy from the specs of ``spec_dir`` and
    the probe."""
    specs = spec_paths(spec_dir, chosen)
    the_kernel = kernel.fetch_kernel(progress)
    busybox = kernel.fetch_busybox(progress)
    policy = build_policy(specs, progress)
    probe = battery.build_probe(progress) if with_probe else None
    return Prepared(the_kernel, busybox, policy, probe)


def run_one(scenario: Scenario, prepared: Prepared, *, keep: Path | None = None,
            progress: Progress | None = None, timeout: float = 300.0,
            with_suggestions: bool = False, build: projects.Build | None = None,
            bench: bool = False) -> LabResult:
    """Build, boot and judge one daemon. The build applies the project's series with its
    generated patches regenerated from the lab's specs (:mod:`selkit.lab.series`); ``build``
    replaces it (e.g. a build with an extra patch under test). ``bench``: the guest measures
    the tunnel after the traffic and stops (bench/lab_filter_pps.py reads ``logs["bench"]``)."""
    say = progress or (lambda _msg: None)
    module = prepared.policy.module(scenario.daemon)
    workdir = Path(keep) / scenario.daemon if keep else \
        Path(tempfile.mkdtemp(prefix=f"selkit-lab-{scenario.daemon}-"))
    try:
        if build is None:
            patches = lab_series(scenario.project, prepared.policy.modules, workdir / "patches",
                                 say)
            build = projects.build(scenario.project, patches=patches, progress=say)
        return _boot_and_judge(scenario, prepared, module, build, workdir, keep=keep, say=say,
                               timeout=timeout, with_suggestions=with_suggestions, bench=bench)
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def _boot_and_judge(scenario: Scenario, prepared: Prepared, module: ir.PolicyModule,
                    build: projects.Build, workdir: Path, *, keep: Path | None, say: Progress,
                    timeout: float, with_suggestions: bool, bench: bool) -> LabResult:
    image = build_image(scenario, module, build.binaries, None if bench else prepared.probe,
                        prepared.kernel, build.tree, bench=bench)
    say(f"{scenario.daemon}: assembling the initramfs")
    archive = image.initramfs(prepared.busybox, prepared.policy.path.read_bytes()).gzip()
    workdir.mkdir(parents=True, exist_ok=True)
    initrd = workdir / "initrd.gz"
    initrd.write_bytes(archive)
    start = time.monotonic()
    boot = vm.boot(prepared.kernel.vmlinuz, initrd, workdir, timeout=timeout,
                   progress=lambda msg: say(f"{scenario.daemon}: {msg}"))
    output = parse_output(boot.results.read_text(errors="replace"))
    result = judge(scenario, module, output, time.monotonic() - start,
                   probe_ran=prepared.probe is not None)
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


__all__ = ["Prepared", "daemons", "prepare", "run_one", "spec_paths"]
