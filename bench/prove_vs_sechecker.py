#!/usr/bin/env python3
"""Benchmark: `selkit prove` (compositional, the default) against the linked engine and against
the plain-tools baseline (`semodule -p ROOT -n -i` of the module + `sechecker` with the exported
INI), for every shipped policy, all measured in this run. Prints medians and ratios.

The compositional numbers exclude the one-time measurement of base profiles (cached per store;
the first run after a policy update pays one link, reported separately).
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

    from selkit.base import load_kb
    from selkit.compiler import front_end
    from selkit.emit import CilEmitter
    from selkit.prove.engine import link_candidates, profiles_for, prove
    from selkit.prove.sechecker import ini_text
    from selkit.toolchain import StoreCopy

    kb = load_kb()
    policies = sorted((ROOT / "policies").glob("*.sel"))
    modules = [front_end(str(p), kb)[1][0] for p in policies]
    start = time.perf_counter()
    profiles = profiles_for(modules)
    print(f"base profiles: {time.perf_counter() - start:.2f} s (cached after the first run)")

    rows = []
    with tempfile.TemporaryDirectory(prefix="selkit-bench-") as tmp:
        for module in modules:
            cil = Path(tmp, f"{module.name}.cil")
            cil.write_text(CilEmitter().emit(module).text())
            ini = Path(tmp, f"{module.name}.ini")
            ini.write_text(ini_text([module], kb))
            times = {"compositional": [], "linked": [], "semodule+sechecker": []}
            verdicts = {}
            for _ in range(args.runs):
                t = time.perf_counter()
                verdicts["compositional"] = prove(module, kb, profiles).verdict.value
                times["compositional"].append(time.perf_counter() - t)

                t = time.perf_counter()
                policy = link_candidates({module.name: cil.read_text()}, [module])
                verdicts["linked"] = prove(module, kb, profiles, engine="linked",
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
    print(f"{'daemon':10} {'compositional':>14} {'linked':>9} {'semodule+sechecker':>19} "
          f"{'baseline/default':>17}  verdicts")
    for name, med, verdicts in rows:
        ratio = med["semodule+sechecker"] / med["compositional"]
        print(f"{name:10} {med['compositional']:13.3f}s {med['linked']:8.2f}s "
              f"{med['semodule+sechecker']:18.2f}s {ratio:16.0f}x  "
              + " ".join(f"{k}={v}" for k, v in verdicts.items()))
    print(f"({args.runs} runs each; {os.cpu_count()} cores; ratio = how many times faster the "
          "default compositional prove is than the plain-tools baseline)")
    shutil.rmtree(Path(tmp), ignore_errors=True)


if __name__ == "__main__":
    main()
