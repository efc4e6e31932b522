#!/usr/bin/env python3
"""Benchmark: `selkit audit --all` (every domain of Debian's policy scored and ranked) as a
whole cold process, and the cost per domain against SETools' `TERuleQuery` with attributes
expanded (what a tool asking SETools about each domain pays), both measured in this run.
Prints medians and ratios; asserts nothing about time.

* **--all, whole process**: `python -m selkit audit --all --json` in a fresh process with an
  empty cache (it keeps none, but the run says so), output thrown away.
* **per domain, in process** (the policy already read, in a fresh process each round):
  `TERuleQuery(policy, source=openvpn_t, ruletype=[allow])` with each rule expanded into its
  (target, class, permission) grants, against the exposure reader's time for every domain
  (index, summaries, scores) divided by the number of domains.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICY = "/etc/selinux/default/policy/policy.33"

PER_DOMAIN = """
import sys, time
import setools
from selkit.audit.domains import PolicyHoldings, policy_kb
from selkit.audit.exposure import rank, score
from selkit.base import load_policy
policy = load_policy(sys.argv[1])
start = time.perf_counter()
grants = set()
query = setools.TERuleQuery(policy, source=sys.argv[2], ruletype=["allow"])
for rule in query.results():
    for target in rule.target.expand():
        for perm in rule.perms:
            grants.add((str(target), str(rule.tclass), perm))
query_time = time.perf_counter() - start
start = time.perf_counter()
holdings = PolicyHoldings(policy, policy_kb(policy, sys.argv[1]))
ranked = rank([score(holdings.held(d)) for d in holdings.domains])
all_time = time.perf_counter() - start
print(query_time, all_time, len(ranked), len(grants))
"""


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=env)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(argv[:4])} failed:\n{result.stderr[-2000:]}")
    return elapsed, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--domain", default="openvpn_t")
    args = parser.parse_args()

    whole: list[float] = []
    query: list[float] = []
    per_domain: list[float] = []
    domains = grants = ""
    with tempfile.TemporaryDirectory(prefix="selkit-bench-") as cache:
        env = {**os.environ, "SELKIT_CACHE": cache, "PYTHONPATH": str(ROOT)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for _ in range(args.runs):  # interleaved, so drift hits both alike
            whole.append(timed([sys.executable, "-m", "selkit", "audit", "--all", "--json",
                                "--policy", POLICY], env)[0])
            _, out = timed([sys.executable, "-c", PER_DOMAIN, POLICY, args.domain], env)
            q, a, domains, grants = out.split()
            query.append(float(q))
            per_domain.append(float(a) / int(domains))
    q_med, d_med = statistics.median(query), statistics.median(per_domain)
    print(f"{'what':44} {'median s':>9} {'min s':>8}")
    print(f"{'selkit audit --all, whole process (cold)':44} {statistics.median(whole):9.2f} "
          f"{min(whole):8.2f}")
    print(f"{'TERuleQuery + expand, ' + args.domain:44} {q_med:9.3f} {min(query):8.3f}")
    print(f"{'selkit exposure reader, per domain':44} {d_med:9.4f} {min(per_domain):8.4f}")
    print(f"per domain: selkit / TERuleQuery = {d_med / q_med:.4f}x ({domains} domains, "
          f"{args.domain} holds {grants} grants expanded; {args.runs} runs, interleaved)")
    print(f"(TERuleQuery for every domain would take about {q_med * int(domains):.0f} s if "
          f"each cost what {args.domain} costs: an extrapolation, not a measurement)")


if __name__ == "__main__":
    main()
