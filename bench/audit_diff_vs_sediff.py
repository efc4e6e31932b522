#!/usr/bin/env python3
"""Benchmark: what the five shipped modules change in Debian's policy, as `sediff` finds it
(the whole process, `sediff --allow OLD NEW`) and as `selkit.audit.diff` finds it (the changed
domains, then their grants added and removed, outbound and inbound), both on the same two
kernel policies, measured in this run. Prints medians and the ratio; asserts nothing about time.

Both sides start cold in a fresh process (the policies are read, no cache is used). The new
policy is Debian's with the modules linked into a copy of its store, made once before timing.
"""

from __future__ import annotations

import argparse
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
from selkit.audit.diff import changed_domains, domain_diffs
from selkit.base import load_policy
old, new = load_policy(sys.argv[1]), load_policy(sys.argv[2])
diffs = domain_diffs(old, new, changed_domains(old, new))
print(len(diffs), sum(len(d.changes) for d in diffs))
"""


def timed(argv: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
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
        rounds: dict[str, list[float]] = {"sediff --allow": [], "selkit.audit.diff": []}
        found = ""
        for _ in range(args.runs):  # interleaved, so drift hits both alike
            rounds["sediff --allow"].append(timed(["sediff", "--allow", kb.source, new])[0])
            elapsed, found = timed([sys.executable, "-c", SELKIT_DIFF, kb.source, new])
            rounds["selkit.audit.diff"].append(elapsed)
    domains, changes = found.split()
    baseline = statistics.median(rounds["sediff --allow"])
    print(f"{'what':24} {'median s':>9} {'min s':>7}  ratio to sediff")
    for name, samples in rounds.items():
        med = statistics.median(samples)
        print(f"{name:24} {med:9.2f} {min(samples):7.2f}  {med / baseline:6.3f}x")
    print(f"({args.runs} runs each, interleaved; selkit found {domains} changed domains, "
          f"{changes} grants added or removed; ratio < 1 means selkit is faster)")


if __name__ == "__main__":
    main()
