#!/usr/bin/env python3
"""Benchmark: what the steady seccomp filter costs the tunnel's traffic in the lab.

For each daemon whose tunnel carries pings (openvpn, iodined, the iodine client), boots the
lab guest with the daemon built from its series twice, interleaved, in one run: with the
generated hooks loading the steady filter (what ships) and with hooks that load none (a
series generated for this comparison only). Each boot sends 2000 pings through the tunnel at
a 1 ms interval (1000 per second offered, more than the emulated guest carries) and reports
packets per second (replies over the time the series took) and the mean round trip; the
table gives the medians of --rounds rounds and the ratios. The guest is emulated (qemu TCG):
absolute numbers say little, the ratio in one run is the result.
ptunnel and hts carry TCP, not pings: not measured here.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DAEMONS = ("openvpn", "iodined", "iodine")
_SUMMARY = re.compile(r"(\d+) packets transmitted, (\d+) packets received")
_RTT = re.compile(r"min/avg/max = [\d.]+/([\d.]+)/[\d.]+ ms")
_TIMES = re.compile(r"start=([\d.]+) end=([\d.]+)")


def measure(text: str) -> tuple[float, float]:
    """(packets per second, mean round trip in ms) from the guest's bench block."""
    times, summary, rtt = _TIMES.search(text), _SUMMARY.search(text), _RTT.search(text)
    if not (times and summary and rtt):
        raise ValueError(f"no measurement in the guest's output: {text[-400:]!r}")
    seconds = float(times.group(2)) - float(times.group(1))
    return int(summary.group(2)) / seconds, float(rtt.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("daemons", nargs="*", default=list(DAEMONS))
    args = parser.parse_args()

    from selkit.lab.runner import build_for, prepare, run_one, scenarios

    results: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for name in args.daemons:
        (scenario,) = scenarios(name, ROOT / "policies")
        prepared = prepare([scenario], with_probe=False)
        builds = {}
        with tempfile.TemporaryDirectory(prefix="pps-") as tmp:
            for variant, filters in (("filter", True), ("none", False)):
                builds[variant] = build_for(scenario, prepared.policy.modules,
                                            Path(tmp, variant), lambda _msg: None,
                                            filters=filters)
        runs: dict[str, list[tuple[float, float]]] = {"filter": [], "none": []}
        for round_ in range(args.rounds):
            order = ("filter", "none") if round_ % 2 == 0 else ("none", "filter")
            for variant in order:
                result = run_one(scenario, prepared, build=builds[variant], bench=True)
                runs[variant].append(measure(result.logs.get("bench", "")))
                print(f"{name} round {round_ + 1} {variant}: {runs[variant][-1][0]:.0f} pps, "
                      f"{runs[variant][-1][1]:.2f} ms", file=sys.stderr)
        results[name] = runs

    print(f"{'daemon':8}  {'pps filter':>10}  {'pps none':>9}  {'ratio':>6}  "
          f"{'rtt filter':>10}  {'rtt none':>9}  {'ratio':>6}")
    for name, runs in results.items():
        pps = {v: statistics.median(p for p, _ in runs[v]) for v in runs}
        rtt = {v: statistics.median(r for _, r in runs[v]) for v in runs}
        print(f"{name:8}  {pps['filter']:10.0f}  {pps['none']:9.0f}  "
              f"{pps['filter'] / pps['none']:6.3f}  {rtt['filter']:8.2f}ms  "
              f"{rtt['none']:7.2f}ms  {rtt['filter'] / rtt['none']:6.3f}")
    print(f"(medians of {args.rounds} rounds, interleaved; ratio = with the filter / without)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
