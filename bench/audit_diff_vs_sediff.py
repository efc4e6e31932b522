#!/usr/bin/env python3
"""Benchmark: what the five shipped modules change in Debian's policy, as `sediff` finds it
(the whole process, `sediff --allow OLD NEW`) and as `selkit.audit.diff` finds it (the changed
domains, then their grants added and removed, outbound and inbound), both on the same two
kernel policies, measured in this run. Prints medians and the ratios; asserts nothing about
time.

Every run is a fresh process, the runs interleaved. The new policy is Debian's with the
modules linked into a copy of its store, made once before timing. selkit reads each policy's
allow rules through its cache (selkit.analysis.allowtable: per policy file, keyed by the file's
identity, the rules as written and the attributes' members), three ways:

* cold: an empty cache; both policies are read with SETools and kept in the cache;
* stock cached: Debian's policy in the cache, the new one a file it has not seen (a copy made
  for each run), as when an audit follows a new link;
* warm: both in the cache; SETools is not loaded.

Python may keep the bytecode of selkit's modules (PYTHONDONTWRITEBYTECODE is dropped for the
runs), as in any installed use.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SELKIT_DIFF = """
import sys
from selkit.analysis.allowtable import allow_table
from selkit.audit.diff import changed_domains, domain_diffs
old, new = allow_table(sys.argv[1]), allow_table(sys.argv[2])
diffs = domain_diffs(old, new, changed_domains(old, new))
print(len(diffs), sum(len(d.changes) for d in diffs), "setools" in sys.modules)
"""


def timed(argv: list[str], cache: str | None = None) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update({"SELKIT_CACHE": cache} if cache else {})
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=env)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(argv[:3])} failed:\n{result.stderr[-2000:]}")
    return elapsed, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from selkit.analysis.views import link_candidates
    from selkit.base import load_kb
    from selkit.compiler import front_end_files
    from selkit.emit import CilEmitter

    kb = load_kb()
    policies = sorted(str(p) for p in (ROOT / "policies").glob("*.sel"))
    _, modules = front_end_files(policies, kb)
    with tempfile.TemporaryDirectory(prefix="selkit-bench-") as tmp:
        new = str(Path(tmp, "policy.33"))
        link_candidates({m.name: CilEmitter().emit(m).text() for m in modules}, list(modules),
                        save_to=new)
        selkit = [sys.executable, "-c", SELKIT_DIFF]
        warm, stock = str(Path(tmp, "warm")), str(Path(tmp, "stock"))
        timed([*selkit, kb.source, new], warm)              # fills the caches, untimed
        timed([*selkit, kb.source, kb.source], stock)
        rounds: dict[str, list[float]] = {
            "sediff --allow": [], "selkit cold": [], "selkit stock cached": [],
            "selkit warm": []}
        found: dict[str, str] = {}
        for run in range(args.runs):  # interleaved, so drift hits all alike
            rounds["sediff --allow"].append(timed(["sediff", "--allow", kb.source, new])[0])
            fresh = str(Path(tmp, f"new-{run}.33"))
            shutil.copy(new, fresh)
            for name, argv, cache in (
                    ("selkit cold", [*selkit, kb.source, new], str(Path(tmp, f"cold-{run}"))),
                    ("selkit stock cached", [*selkit, kb.source, fresh], stock),
                    ("selkit warm", [*selkit, kb.source, new], warm)):
                elapsed, found[name] = timed(argv, cache)
                rounds[name].append(elapsed)
    if len({out.split()[1] for out in found.values()}) != 1:
        sys.exit(f"the runs disagree: {found}")
    domains, changes, _ = found["selkit warm"].split()
    baseline = statistics.median(rounds["sediff --allow"])
    print(f"{'what':24} {'median s':>9} {'min s':>7}  {'share of sediff':>15}  sediff / it")
    for name, samples in rounds.items():
        med = statistics.median(samples)
        print(f"{name:24} {med:9.2f} {min(samples):7.2f}  {med / baseline:14.3f}x  "
              f"{baseline / med:9.1f}x")
    print(f"({args.runs} runs each, interleaved; selkit found {domains} changed domains, "
          f"{changes} grants added or removed; SETools loaded in the warm run: "
          f"{found['selkit warm'].split()[2]})")


if __name__ == "__main__":
    main()
