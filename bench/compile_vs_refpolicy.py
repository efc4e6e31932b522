#!/usr/bin/env python3
"""Benchmark: `selkit compile` of every shipped policy against the refpolicy devel Makefile
building refpolicy's own openvpn module, both measured in this run on this machine.

Prints medians and ratios, never asserts a time (timings here are noisy).

    bench/compile_vs_refpolicy.py [--refpolicy SRC] [--runs N]

SRC is an unpacked refpolicy source tree (policy/modules/services/openvpn.te). Without it the
script tries $SELKIT_REFPOLICY_SRC, then `scripts/apt-source.sh refpolicy` (Debian's source
package, matching selinux-policy-dev).
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
MAKEFILE = "/usr/share/selinux/devel/Makefile"


def refpolicy_source(arg: str | None) -> Path:
    for candidate in (arg, os.environ.get("SELKIT_REFPOLICY_SRC")):
        if candidate:
            return Path(candidate)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "selkit" / "src"
    dest = cache / "refpolicy"
    result = subprocess.run(["sh", str(ROOT / "scripts" / "apt-source.sh"), "refpolicy",
                             str(dest)], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("cannot get the refpolicy source (pass --refpolicy SRC):\n" + result.stderr)
    return dest


#: As an installed selkit runs: with its modules' bytecode cached (a shell that sets
#: PYTHONDONTWRITEBYTECODE would make every run compile selkit's sources again).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(argv: list[str], cwd: Path, before=None) -> float:
    if before:
        before()
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=ENV)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{result.stdout}{result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refpolicy", help="unpacked refpolicy source tree")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    services = refpolicy_source(args.refpolicy) / "policy" / "modules" / "services"
    policies = sorted(str(p) for p in (ROOT / "policies").glob("*.sel"))
    selkit = [sys.executable, "-m", "selkit"]
    with tempfile.TemporaryDirectory(prefix="selkit-bench-") as tmp:
        work = Path(tmp)
        ref = work / "ref"
        ref.mkdir()
        for ext in ("te", "if", "fc"):
            shutil.copy(services / f"openvpn.{ext}", ref)

        def clean_ref():
            shutil.rmtree(ref / "tmp", ignore_errors=True)
            (ref / "openvpn.pp").unlink(missing_ok=True)

        rounds = {"refpolicy make openvpn.pp": [], "selkit compile (5 specs, te+cil+pp)": [],
                  "selkit compile openvpn.sel (te+cil+pp)": []}
        timed([*selkit, "compile", *policies, "-o", str(work / "warm")], ROOT)  # not counted
        for _ in range(args.runs):  # interleaved, so drift hits every contender alike
            rounds["refpolicy make openvpn.pp"].append(
                timed(["make", "-f", MAKEFILE, "openvpn.pp"], ref, clean_ref))
            rounds["selkit compile (5 specs, te+cil+pp)"].append(
                timed([*selkit, "compile", *policies, "-o", str(work / "all")], ROOT))
            rounds["selkit compile openvpn.sel (te+cil+pp)"].append(
                timed([*selkit, "compile", "policies/openvpn.sel", "-o", str(work / "one")],
                      ROOT))
    baseline = statistics.median(rounds["refpolicy make openvpn.pp"])
    print(f"{'what':42} {'median s':>9} {'min s':>7}  ratio to refpolicy make")
    for name, samples in rounds.items():
        med = statistics.median(samples)
        print(f"{name:42} {med:9.3f} {min(samples):7.3f}  {med / baseline:6.2f}x")
    print(f"({args.runs} runs each after one warm-up, interleaved; {os.cpu_count()} cores; "
          "ratio < 1 means selkit is faster)")


if __name__ == "__main__":
    main()
