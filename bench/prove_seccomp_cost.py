#!/usr/bin/env python3
"""Benchmark: what the steady-syscalls obligation (the steady seccomp filter generated and
proved from its program) adds to `selkit prove`, per shipped spec. Both sides in one process
and one run, interleaved: every obligation against every obligation but that one, on the
same modules and base profiles (the compositional engine). Prints medians of --runs runs and
the difference per spec; the issue's budget is 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    from selkit.analysis.views import profiles_for
    from selkit.base import BaseSpec
    from selkit.compiler import check_files
    from selkit.prove import engine
    from selkit.prove.filter import SteadySyscalls

    specs = sorted(str(p) for p in (ROOT / "policies").glob("*.sel"))
    kb, _, modules = check_files(specs, BaseSpec())
    profiles = profiles_for(modules, BaseSpec(), kb=kb)
    full = list(engine.REGISTRY)
    without = [cls for cls in full if cls is not SteadySyscalls]

    def run(registry: list) -> None:
        engine.REGISTRY[:] = registry
        for module in modules:
            engine.prove(module, kb, profiles, colinked=modules)

    run(full)  # warm: the syscall table, the number tables
    times: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(args.runs):
        for name, registry in (("with", full), ("without", without)):
            start = time.perf_counter()
            run(registry)
            times[name].append((time.perf_counter() - start) * 1000)
    engine.REGISTRY[:] = full
    with_ms, without_ms = (statistics.median(times[k]) for k in ("with", "without"))
    per_spec = (with_ms - without_ms) / len(modules)
    print(f"selkit prove, {len(modules)} modules of {len(specs)} specs, compositional, "
          f"median of {args.runs}:")
    print(f"  every obligation            {with_ms:8.1f} ms")
    print(f"  without steady-syscalls     {without_ms:8.1f} ms")
    print(f"  steady-syscalls per module  {per_spec:8.1f} ms  (budget 50 ms; "
          f"ratio {with_ms / without_ms:.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
