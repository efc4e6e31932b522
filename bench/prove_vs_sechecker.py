#!/usr/bin/env python3
"""Benchmark: `selkit prove` (compositional, the default) against the linked engine and against
the plain-tools baseline (`semodule -p ROOT -n -i` of the module + `sechecker` with the exported
INI), for every shipped policy, all measured in this run. Prints medians and ratios.

The compositional numbers include the checks against the whole store that the front end runs
before any proof (optional blocks a name would switch on, the base's neverallows: shown on their
own as "store checks") and exclude the one-time measurement of base profiles and the one-time
parse of the store's CIL (cached per store; the first run after a policy update pays one link and
one parse, reported separately).
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from selkit.analysis.views import link_candidates, profiles_for
    from selkit.base import load_kb
    from selkit.compiler import front_end
    from selkit.emit import CilEmitter
    from selkit.prove.basechecks import check_against_store
    from selkit.prove.engine import prove
    from selkit.prove.sechecker import ini_text
    from selkit.toolchain import StoreCopy

    kb = load_kb()
    policies = sorted((ROOT / "policies").glob("*.sel"))
    modules = [front_end(str(p), kb)[1][0] for p in policies]
    start = time.perf_counter()
    profiles = {m.name: profiles_for([m]) for m in modules}
    check_against_store(tuple(modules), kb)
    print(f"base profiles and store model: {time.perf_counter() - start:.2f} s "
          "(cached after the first run)")

    rows = []
    with tempfile.TemporaryDirectory(prefix="selkit-bench-") as tmp:
        for module in modules:
            cil = Path(tmp, f"{module.name}.cil")
            cil.write_text(CilEmitter().emit(module).text())
            ini = Path(tmp, f"{module.name}.ini")
            ini.write_text(ini_text([module], kb))
            times = {"store checks": [], "compositional": [], "linked": [],
                     "semodule+sechecker": []}
            verdicts = {}
            mine = profiles[module.name]
            for _ in range(args.runs):
                t = time.perf_counter()
                problems = check_against_store((module,), kb)
                checked = time.perf_counter()
                verdicts["compositional"] = "refused" if problems else prove(
                    module, kb, mine).verdict.value
                times["store checks"].append(checked - t)
                times["compositional"].append(time.perf_counter() - t)

                t = time.perf_counter()
                policy = link_candidates({module.name: cil.read_text()}, [module])
                verdicts["linked"] = prove(module, kb, mine, engine="linked",
                                           policy=policy).verdict.value
                times["linked"].append(time.perf_counter() - t)

                t = time.perf_counter()
                with StoreCopy() as store:
                    subprocess.run(["semodule", "-p", store.root, "-s", "default", "-n", "-i",
                                    str(cil)], check=True, capture_output=True)
                    result = subprocess.run(["sechecker", str(ini), store.policy_path],
                                            capture_output=True, text=True)
                verdicts["semodule+sechecker"] = "holds" if result.returncode == 0 else "refuted"
                times["semodule+sechecker"].append(time.perf_counter() - t)
            rows.append((module.name, {k: statistics.median(v) for k, v in times.items()},
                         verdicts))
    print(f"{'daemon':10} {'store checks':>13} {'compositional':>14} {'linked':>9} "
          f"{'semodule+sechecker':>19} {'baseline/default':>17}  verdicts")
    for name, med, verdicts in rows:
        ratio = med["semodule+sechecker"] / med["compositional"]
        print(f"{name:10} {med['store checks']:12.4f}s {med['compositional']:13.3f}s "
              f"{med['linked']:8.2f}s "
              f"{med['semodule+sechecker']:18.2f}s {ratio:16.0f}x  "
              + " ".join(f"{k}={v}" for k, v in verdicts.items()))
    print(f"({args.runs} runs each; {os.cpu_count()} cores; compositional includes the store "
          "checks; ratio = how many times faster the default compositional prove is than the "
          "plain-tools baseline)")
    shutil.rmtree(Path(tmp), ignore_errors=True)


if __name__ == "__main__":
    main()
