"""Benchmark: required agents for a year of 15-minute intervals for 10 queues (350,400 intervals).

Times reportlib.planning.staffing.required_agents for Erlang C and Erlang A over every interval, and
pyworkforce's ErlangC (the best-known Python package) on a random sample of the same intervals in
the same run, scaled by per-interval time x interval count; checks that both give the same agents on
every sampled interval. Timings are the best of --repeat runs (the machine may be shared).
Run:  python bench/bench_staffing.py [--sample 2000] [--seed 1] [--repeat 5] [--markdown]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np
import pandas as pd

from reportlib.planning.staffing import required_agents

INTERVAL_S = 900.0
TARGET_SL = 0.80
ANSWER_S = 20.0


def year_of_intervals(seed: int = 1) -> pd.DataFrame:
    """10 queues x 365 days x 96 quarter-hours of forecast-like volumes (floats, as a forecast gives them).

    Two-peak business day (mid-morning, early afternoon), lighter Saturdays, an open-enrollment surge
    in November, day-to-day noise; 7 queues open 07:00-21:00 Monday-Saturday (zero volume when closed),
    3 (card and account lines) open around the clock with a small night load.
    """
    rng = np.random.default_rng(seed)
    starts = pd.date_range("2025-01-01", periods=365 * 96, freq="15min")
    hour = starts.hour.to_numpy() + starts.minute.to_numpy() / 60.0
    weekday = starts.weekday.to_numpy()
    doy = starts.dayofyear.to_numpy()
    diurnal = np.exp(-0.5 * ((hour - 10.5) / 1.8) ** 2) + 0.8 * np.exp(-0.5 * ((hour - 14.5) / 2.0) ** 2) + 0.05
    week = np.select([weekday == 0, weekday < 5, weekday == 5], [1.15, 1.0, 0.35], 0.2)
    season = 1.0 + 0.35 * np.exp(-0.5 * ((doy - 320) / 15.0) ** 2)
    day_noise = np.repeat(rng.lognormal(0.0, 0.08, size=365), 96)
    business = (hour >= 7) & (hour < 21) & (weekday < 6)
    frames = []
    for q in range(10):
        daily = [4000, 2500, 1800, 1200, 900, 600, 400, 250, 150, 80][q]  # Monday-Friday calls per day
        aht = [240, 300, 360, 420, 480, 300, 540, 600, 360, 720][q]  # seconds
        patience = [60, 90, 120, 180, 240, 120, 300, 300, 180, 600][q]  # seconds
        open_ = np.ones_like(business) if q in (0, 5, 8) else business
        shape = diurnal * week * season * day_noise * rng.lognormal(0.0, 0.05, size=hour.size) * open_
        calls = daily * shape / (diurnal * (hour >= 7) * (hour < 21)).reshape(365, 96).sum(axis=1).mean()
        frames.append(
            pd.DataFrame(
                {
                    "queue": f"Q{q + 1}",
                    "interval_start": starts,
                    "calls": calls,
                    "aht_s": float(aht),
                    "patience_s": float(patience),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def timed(fn, repeat: int) -> tuple[object, float, float]:
    """fn's result, and its best wall-clock and best CPU time (s) over `repeat` runs.

    CPU time (time.process_time) is what the process itself used: on a shared machine it is the
    fairer clock, wall-clock time also counts waiting for a core.
    """
    walls, cpus, res = [], [], None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        res = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return res, min(walls), min(cpus)


def pyworkforce_agents(calls: np.ndarray, aht: np.ndarray) -> np.ndarray:
    """pyworkforce ErlangC raw positions per interval.

    Its API takes minutes, and its `asa` argument is the answer-time threshold of the service level.
    """
    from pyworkforce.queuing import ErlangC

    out = np.empty(calls.size, dtype=np.int64)
    for i, (c, h) in enumerate(zip(calls, aht)):
        erlang = ErlangC(transactions=float(c), aht=h / 60.0, asa=ANSWER_S / 60.0, interval=INTERVAL_S / 60.0)
        out[i] = erlang.required_positions(service_level=TARGET_SL, max_occupancy=1.0)["raw_positions"]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sample", type=int, default=2000, help="intervals sampled for pyworkforce")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--repeat", type=int, default=5, help="timed runs of each call, ours and pyworkforce's (the best is kept)"
    )
    p.add_argument("--markdown", action="store_true", help="also print a markdown table for docs/benchmarks.md")
    args = p.parse_args(argv)

    df = year_of_intervals(args.seed)
    calls, aht, pat = (df[c].to_numpy() for c in ("calls", "aht_s", "patience_s"))
    # The same plan with an AHT of its own in every interval (as from an interval-level AHT forecast):
    # no two intervals share parameters, so every interval is searched on its own.
    aht_var = np.round(aht * np.random.default_rng(args.seed + 7).lognormal(0.0, 0.08, aht.size), 3)
    n = len(df)
    busy = np.flatnonzero(calls > 0)  # pyworkforce rejects zero transactions; ours gives 0 agents there
    load = calls * aht / INTERVAL_S
    print(
        f"intervals: {n:,} ({df['queue'].nunique()} queues x 365 days x 96); with calls: {busy.size:,}; "
        f"load up to {load.max():.1f} Erlangs; target {TARGET_SL:.0%} answered in {ANSWER_S:.0f} s"
    )

    def best(fn):
        return timed(fn, args.repeat)

    runs = {}
    for label, a in (("AHT per queue", aht), ("AHT per interval", aht_var)):
        c_agents, c_wall, c_cpu = best(lambda: required_agents(calls, a, INTERVAL_S, TARGET_SL, ANSWER_S))
        a_agents, a_wall, a_cpu = best(
            lambda: required_agents(calls, a, INTERVAL_S, TARGET_SL, ANSWER_S, model="erlang_a", patience_s=pat)
        )
        runs[label] = (a, c_agents, c_wall, c_cpu, a_agents, a_wall, a_cpu)
        print(
            f"reportlib, {label}: Erlang C {c_wall:.3f} s wall / {c_cpu:.3f} s CPU, "
            f"Erlang A {a_wall:.3f} s wall / {a_cpu:.3f} s CPU; agent-intervals C {int(c_agents.sum()):,}, "
            f"A {int(a_agents.sum()):,} ({a_agents.sum() / c_agents.sum() - 1:+.1%})"
        )

    rng = np.random.default_rng(args.seed + 1)
    sample = rng.choice(busy, size=min(args.sample, busy.size), replace=False)
    pw_wall, pw_cpu, checked, agree_all = 0.0, 0.0, 0, True
    for label, (a, c_agents, *_) in runs.items():
        pw, wall, cpu = best(lambda: pyworkforce_agents(calls[sample], a[sample]))
        pw_wall, pw_cpu, checked = pw_wall + wall, pw_cpu + cpu, checked + sample.size
        agree = pw == c_agents[sample]
        agree_all &= bool(agree.all())
        print(
            f"pyworkforce ErlangC, {label}: {wall:.3f} s wall / {cpu:.3f} s CPU for {sample.size:,} sampled "
            f"intervals; same agents on {int(agree.sum()):,}/{sample.size:,}"
        )
        if not agree.all():
            bad = np.flatnonzero(~agree)[:10]
            print(
                pd.DataFrame(
                    {
                        "calls": calls[sample][bad],
                        "aht_s": a[sample][bad],
                        "reportlib": c_agents[sample][bad],
                        "pyworkforce": pw[bad],
                    }
                ).to_string()
            )
    # pyworkforce cannot take zero-call intervals (a caller would skip them): scale to those with calls.
    scaled_wall, scaled_cpu = pw_wall / checked * busy.size, pw_cpu / checked * busy.size
    print(
        f"pyworkforce per interval: {pw_wall / checked * 1e6:.0f} us wall / {pw_cpu / checked * 1e6:.0f} us CPU "
        f"-> {scaled_wall:.1f} s wall / {scaled_cpu:.1f} s CPU scaled to the {busy.size:,} intervals with calls"
    )
    rows = []
    for label, (a, c_agents, c_wall, c_cpu, a_agents, a_wall, a_cpu) in runs.items():
        r_wall, r_cpu = scaled_wall / c_wall, scaled_cpu / c_cpu
        print(f"{label}: pyworkforce (scaled) / reportlib Erlang C = {r_wall:,.0f}x wall-clock, {r_cpu:,.0f}x CPU")
        verdict = {
            "Erlang C < 1 s": c_wall < 1.0,
            ">= 100x pyworkforce (CPU)": r_cpu >= 100,
            "Erlang A < 5 s": a_wall < 5.0,
        }
        print(f"goals ({label}): " + ", ".join(f"{k}: {'met' if v else 'NOT met'}" for k, v in verdict.items()))
        rows.append(
            f"| {label} | {c_wall:.3f} s ({c_cpu:.3f} s) | {a_wall:.3f} s ({a_cpu:.3f} s) | "
            f"{r_wall:,.0f}x ({r_cpu:,.0f}x) |"
        )
    print(f"agents agree on every sampled interval: {agree_all} ({checked:,} checked)")
    if args.markdown:
        import pyworkforce
        import scipy

        print()
        print(
            "| plan | reportlib Erlang C, wall (CPU) | reportlib Erlang A, wall (CPU) | Erlang C vs pyworkforce, wall (CPU) |"
        )
        print("|---|---|---|---|")
        print("\n".join(rows))
        print()
        print(
            f"pyworkforce {getattr(pyworkforce, '__version__', '0.5.1')} `ErlangC.required_positions`: "
            f"{pw_wall / checked * 1e6:.0f} us wall ({pw_cpu / checked * 1e6:.0f} us CPU) per interval on "
            f"{checked:,} sampled intervals, scaled to the {busy.size:,} intervals with calls: {scaled_wall:.1f} s "
            f"({scaled_cpu:.1f} s CPU). Same agents on every sampled interval: {'yes' if agree_all else 'NO'}. "
            f"Best of {args.repeat} runs; {platform.machine()}, Python {platform.python_version()}, "
            f"numpy {np.__version__}, scipy {scipy.__version__}; load average at the start "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
