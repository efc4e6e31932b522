"""Reproduce one upstream's own CI here for its vendor-patches/<project>/upstream-*/ series.

    .venv/bin/python scripts/upstream_ci.py PROJECT [SERIES_DIR] [--check NAME]... [--baseline]

(or ``sh scripts/upstream-ci ...``, which picks the venv). PROJECT is iodine, openvpn, ptunnel,
httptunnel or all; SERIES_DIR defaults to the project's series under vendor-patches/. The
snapshots come from $SELKIT_UPSTREAM (default: shared/upstream beside the repository); builds
are cached under $SELKIT_CACHE/upstream. Each check runs on the patched tree; the unpatched
snapshot runs too where it is needed to judge (a failure or a warning), or always with
--baseline. One line per check, then the evidence of each problem. Exit status 1 if the series
brings a new problem, 2 on bad usage or a missing snapshot or tool.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from selkit.diagnostics import ToolchainError
from selkit.projects import upstream as up_ci


def _progress(line: str) -> None:
    print(f"  .. {line}", file=sys.stderr, flush=True)


def _one(up: up_ci.Upstream, name: str, args: argparse.Namespace
         ) -> tuple[str, str, list[str]]:
    """Run check ``name``; returns its status, its table row and the evidence lines."""
    kw = {"folder": args.folder, "series_dir": args.series_dir,
          "progress": None if args.quiet else _progress}
    started = time.monotonic()
    evidence: list[str] = []
    if name.startswith("fail-closed-"):
        run = up_ci.run_daemon(up, name, patched=True, **kw)
        verdict = up_ci.judge_daemon(run)
        base = "-"
        if args.baseline or verdict.status != "pass":
            old = up_ci.run_daemon(up, name, patched=False, timeout=3.0, **kw)
            base = up_ci.judge_daemon(old).status + f" (exit {old.returncode})"
        if verdict.status != "pass":
            evidence = [" ".join(run.command), run.output[-1500:]]
        seconds = time.monotonic() - started
        row = (f"{name:<24} {verdict.status:<9} unpatched: {base:<22} {seconds:6.1f} s  "
               f"{verdict.message}")
        return verdict.status, row, evidence
    patched = up_ci.run(up, name, patched=True, **kw)
    unpatched = None
    if args.baseline or up_ci.needs_baseline(patched):
        unpatched = up_ci.run(up, name, patched=False, **kw)
    verdict = up_ci.judge(patched, unpatched)
    seconds = time.monotonic() - started
    base = "-" if unpatched is None else (
        ("passes" if unpatched.ok else f"fails step {(unpatched.failed or 0) + 1}")
        + (f", {len(unpatched.warnings)} warn" if unpatched.warnings else ""))
    if verdict.status != "pass":
        evidence = [f"log: {patched.log}", patched.log_tail(60)]
        if unpatched is not None:
            evidence.append(f"unpatched log: {unpatched.log}")
    times = f"{patched.seconds:.0f}+{unpatched.seconds:.0f}" if unpatched else \
        f"{patched.seconds:.0f}"
    row = (f"{name:<24} {verdict.status:<9} unpatched: {base:<22} {seconds:6.1f} s "
           f"(run {times} s)  {verdict.message.splitlines()[0]}")
    return verdict.status, row, verdict.message.splitlines()[1:] + evidence


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", choices=sorted(up_ci.UPSTREAMS) + ["all"])
    parser.add_argument("series_dir", nargs="?", type=Path,
                        help="the series (default: vendor-patches/<project>/upstream-*)")
    parser.add_argument("--check", action="append", default=[],
                        help="run only this check (repeatable)")
    parser.add_argument("--baseline", action="store_true",
                        help="also run every check on the unpatched snapshot")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    args.folder = up_ci.snapshots_dir()
    if args.project == "all" and args.series_dir:
        parser.error("SERIES_DIR goes with one project")
    projects = sorted(up_ci.UPSTREAMS) if args.project == "all" else [args.project]
    status = 0
    for project in projects:
        up = up_ci.UPSTREAMS[project]
        reason = up_ci.missing_snapshot(up, args.folder)
        if reason:
            print(f"{project}: cannot run: {reason}")
            status = max(status, 2)
            continue
        print(f"== {project}: {args.series_dir or up_ci.default_series(up)}")
        names = args.check or list(up.check_names)
        for name in names:
            if name not in up.check_names:
                parser.error(f"{project} has no check {name!r} ({', '.join(up.check_names)})")
            try:
                verdict, row, evidence = _one(up, name, args)
            except ToolchainError as exc:
                d = exc.diagnostics[0]
                print(f"{name:<24} error     {d.code}: {d.message}"
                      + (f" ({d.hint})" if d.hint else ""))
                status = max(status, 2)
                continue
            print(row, flush=True)
            if verdict != "pass":
                if verdict == "fail":
                    status = max(status, 1)
                for line in evidence:
                    print("    " + line.replace("\n", "\n    "))
    return status


if __name__ == "__main__":
    sys.exit(main())
