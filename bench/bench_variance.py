"""Benchmark: `reportlib variance` on 24 months of the default sample, all queues, by day (goal: under 10 s).

Runs the command line as a user would (a new process each time, so imports and the data load count),
best of --repeat runs: warm (the parsed tables cached as Parquet, the usual case after the first run)
and cold (an empty cache: every CSV parsed and checked against the contract). In the same run, as a
baseline, `reportlib kpis` for the same month on the same data (one engine pass over the contacts).
Also the decomposition alone, in process, for the month's intervals.
Run:  python bench/bench_variance.py --data DIR [--month YYYY-MM] [--repeat 3] [--markdown]
      (DIR from `reportlib sample-data --out DIR`, defaults: 24 months, 150 agents, 40 clients)
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import pandas as pd


def _run(cmd: list[str], cache: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child process) of one run."""
    env = dict(os.environ, REPORTLIB_CACHE=cache)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, check=False, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}: {done.stderr.strip()}")
    return took, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--month", default=None, help="default: the last month of the data")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    from reportlib.core.params import load_params
    from reportlib.data.load import open_source
    from reportlib.planning.variance import variance_for_source

    month = args.month
    if month is None:
        plan = pd.read_csv(os.path.join(args.data, "interval_plan.csv"), usecols=["interval_start"])
        month = plan["interval_start"].str[:7].max()
    exe = [sys.executable, "-m", "reportlib"]
    variance = exe + ["variance", "--data", args.data, "--month", month, "--by", "day"]
    kpis = exe + ["kpis", "--data", args.data, "--month", month]
    warm, base = [], []
    with tempfile.TemporaryDirectory() as tmp:
        cache = os.path.join(tmp, "cache")
        cold = [_run(variance, cache)]  # once: it parses 24 months of CSV
        for i in range(args.repeat):
            warm.append(_run(variance, cache))
            base.append(_run(kpis, cache))
        os.environ["REPORTLIB_CACHE"] = cache  # warm: the same cache
        params = load_params(None)
        src = open_source(args.data, params["timezone"])
        t0 = time.perf_counter()
        res = variance_for_source(src, params, month, by="day")
        inproc = time.perf_counter() - t0
        shutil.rmtree(cache, ignore_errors=True)
    best = lambda runs: min(runs, key=lambda r: r[0])
    rows = [
        ("reportlib variance --by day, warm cache", best(warm)),
        ("reportlib variance --by day, cold cache (once)", best(cold)),
        ("baseline: reportlib kpis, warm cache", best(base)),
        (
            f"in process: variance_for_source ({len(res.intervals):,} intervals, {len(res.records)} records)",
            (inproc, float("nan")),
        ),
    ]
    load = os.getloadavg()[0]
    ratio = best(warm)[0] / best(base)[0]
    if args.markdown:
        print(f"| {month}, best of {args.repeat} (load average {load:.1f}) | wall s | CPU s |\n|---|---|---|")
        for name, (sec, cpu) in rows:
            print(f"| {name} | {sec:.2f} | {cpu:.2f} |")
        print(f"\nwarm variance / kpis baseline (wall): {ratio:.2f}x")
    else:
        for name, (sec, cpu) in rows:
            print(f"{name:<80} {sec:6.2f} s wall {cpu:6.2f} s CPU")
        print(
            f"load average {load:.1f}; warm variance / kpis baseline: {ratio:.2f}x; goal: warm under 10 s "
            f"({'met' if best(warm)[0] < 10 else 'NOT met'})"
        )


if __name__ == "__main__":
    main()
