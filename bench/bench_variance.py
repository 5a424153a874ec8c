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
import shutil
import subprocess
import sys
import tempfile
import time

import pandas as pd


def _run(cmd: list[str], cache: str) -> float:
    env = dict(os.environ, REPORTLIB_CACHE=cache)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}: {done.stderr.strip()}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--month", default=None, help="default: the last month of the data")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    from reportlib.load import open_source
    from reportlib.params import load_params
    from reportlib.variance import variance_for_source

    month = args.month
    if month is None:
        plan = pd.read_csv(os.path.join(args.data, "interval_plan.csv"), usecols=["interval_start"])
        month = plan["interval_start"].str[:7].max()
    exe = [sys.executable, "-m", "reportlib"]
    variance = exe + ["variance", "--data", args.data, "--month", month, "--by", "day"]
    kpis = exe + ["kpis", "--data", args.data, "--month", month]
    cold, warm, base = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            cache = os.path.join(tmp, f"cold{i}")
            cold.append(_run(variance, cache))
            warm.append(_run(variance, cache))
            base.append(_run(kpis, cache))
            shutil.rmtree(cache, ignore_errors=True)
        cache = os.path.join(tmp, "inproc")
        os.environ["REPORTLIB_CACHE"] = cache
        params = load_params(None)
        variance_for_source(open_source(args.data, params["timezone"]), params, month, by="day")  # fill the cache
        src = open_source(args.data, params["timezone"])
        t0 = time.perf_counter()
        res = variance_for_source(src, params, month, by="day")
        inproc = time.perf_counter() - t0
    rows = [("reportlib variance --by day, warm cache", min(warm)), ("reportlib variance --by day, cold cache", min(cold)),
            ("baseline: reportlib kpis, warm cache", min(base)),
            (f"in process: variance_for_source ({len(res.intervals):,} intervals, {len(res.records)} records)", inproc)]
    if args.markdown:
        print(f"| {month}, best of {args.repeat} | seconds |\n|---|---|")
        for name, sec in rows:
            print(f"| {name} | {sec:.2f} |")
        print(f"\nwarm variance / kpis baseline: {min(warm) / min(base):.2f}x")
    else:
        for name, sec in rows:
            print(f"{name:<80} {sec:6.2f} s")
        print(f"warm variance / kpis baseline: {min(warm) / min(base):.2f}x; goal: warm under 10 s "
              f"({'met' if min(warm) < 10 else 'NOT met'}), cold {'under' if min(cold) < 10 else 'over'} 10 s")


if __name__ == "__main__":
    main()
