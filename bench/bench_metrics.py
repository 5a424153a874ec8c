"""Benchmark: contact KPIs on 10 million generated contacts, engine (DuckDB via ibis) vs plain pandas.

    python bench/bench_metrics.py [--rows 10000000] [--out bench/out] [--write-docs]

Generates a year of contacts (seeded, written once to bench/out/contacts-<rows>.parquet), then runs
two reports in separate processes so that each side's peak memory is its own:

  1. KPIs by 15-minute interval x queue   (contact_kpis(grain="15min", by=["queue"]))
  2. KPIs by month x client               (contact_kpis(grain="month", by=["client_id"]))

engine: reportlib.metrics.contacts.contact_kpis over a DuckDB database file (a `duckdb:///` source) and
over the Parquet file as a data folder's cache is served (DuckDB reads it in place); reading is part
of the timed query. pandas: the plain-pandas reference from
tests/test_metrics_property.py on a DataFrame already in memory (the load is timed separately and
not counted in the ratio, so the ratio flatters pandas). Both compute every KPI including the
repeat-contact FCR over caller_id. Prints seconds, peak memory (max RSS) and the ratio; with
--write-docs replaces the "## Metrics (issue 3)" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
QUERIES = {
    "15min x queue": dict(grain="15min", by=["queue"]),
    "month x client": dict(grain="month", by=["client_id"]),
}


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (ru_maxrss is KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def generate(path: Path, rows: int, seed: int = 3, chunk: int = 1_000_000) -> None:
    """Write `rows` synthetic contacts of 2025 (naive local times) to a Parquet file, chunk by chunk."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    queues = np.array(["Benefits", "Import Files", "Debit Card", "Accounts", "Escalations"])
    clients = np.array([f"CL{i:03d}" for i in range(40)])
    client_w = rng.pareto(1.2, 40) + 0.2
    client_w /= client_w.sum()
    agents = np.array([f"A{i:04d}" for i in range(400)])
    reasons = np.array(["enrollment", "claim", "card", "file", "hsa", "fsa", "cobra", "other"])
    day_w = 1.0 + 0.4 * np.cos(np.arange(365) / 365 * 2 * np.pi)  # January and December busier
    day_w[(np.arange(365) + 2) % 7 >= 5] *= 0.15  # 2025-01-01 was a Wednesday; weekends quiet
    day_w /= day_w.sum()
    schema = None
    writer = None
    tmp = path.with_suffix(".tmp")
    try:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            day = rng.choice(365, n, p=day_w)
            tod = np.clip(rng.normal(13 * 3600, 2.6 * 3600, n), 6 * 3600, 21 * 3600 - 1).astype(np.int64)
            arrived = np.datetime64("2025-01-01T00:00:00", "s") + (day * 86400 + tod).astype("timedelta64[s]")
            ch = rng.choice(3, n, p=[0.6, 0.25, 0.15])  # phone, email, chat
            channel = np.array(["phone", "email", "chat"])[ch]
            u = rng.random(n)
            outcome = np.where(
                ch == 1, np.where(u < 0.03, "open", "handled"), np.where(u < 0.11, "abandoned", "handled")
            )
            wait = np.where(ch == 1, rng.exponential(4 * 3600, n), rng.exponential(35, n))
            wait = np.where(outcome == "abandoned", rng.exponential(60, n), wait)
            handled = outcome == "handled"
            handle = np.where(handled, rng.lognormal(6.1, 0.5, n), np.nan)
            wait = np.where(outcome == "open", np.nan, np.round(wait, 1))
            tri = lambda p: pa.array(
                np.where(handled, rng.random(n) < p, False),  # noqa: E731
                mask=~handled | (rng.random(n) < 0.05),
            )
            csat_mask = ~handled | (rng.random(n) > 0.15)
            caller_mask = rng.random(n) > 0.6
            table = pa.table(
                {
                    "contact_id": pa.array([f"K{i:09d}" for i in range(start, start + n)]),
                    "channel": pa.array(channel),
                    "queue": pa.array(queues[rng.integers(0, len(queues), n)]),
                    "client_id": pa.array(clients[rng.choice(40, n, p=client_w)]),
                    "arrived_at": pa.array(arrived.astype("datetime64[us]")),
                    "outcome": pa.array(outcome),
                    "wait_s": pa.array(wait, mask=np.isnan(wait)),
                    "handle_s": pa.array(np.round(handle, 1), mask=~handled),
                    "agent_id": pa.array(agents[rng.integers(0, len(agents), n)], mask=~handled),
                    "resolved_first_contact": tri(0.74),
                    "escalated": tri(0.05),
                    "transferred": tri(0.04),
                    "csat": pa.array(rng.choice(5, n, p=[0.04, 0.04, 0.08, 0.3, 0.54]) + 1, mask=csat_mask),
                    "reason": pa.array(reasons[rng.integers(0, len(reasons), n)]),
                    "caller_id": pa.array(np.char.add("P", rng.integers(0, 250_000, n).astype(str)), mask=caller_mask),
                }
            )
            if writer is None:
                schema = table.schema
                writer = pq.ParquetWriter(tmp, schema)
            writer.write_table(table.cast(schema))
    finally:
        if writer is not None:
            writer.close()
    os.replace(tmp, path)


def cpu_seconds() -> float:
    """User + system CPU time of this process (all threads)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(fn, repeat: int) -> tuple[dict, object]:
    """Best (lowest wall-clock) of `repeat` runs: seconds and the CPU seconds of that run."""
    best, result = None, None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), cpu_seconds()
        result = fn()
        run = {"seconds": time.perf_counter() - w0, "cpu_seconds": cpu_seconds() - c0}
        if best is None or run["seconds"] < best["seconds"]:
            best = run
    return best, result


def worker_engine(path: str, repeat: int) -> dict:
    """Time contact_kpis for each query over a DuckDB database file or straight over a Parquet file."""
    import ibis

    from reportlib.metrics.contacts import contact_kpis

    if path.endswith(".duckdb"):  # a `duckdb:///` data source: native tables
        con = ibis.duckdb.connect(path, read_only=True)
        t = con.table("contacts")
    else:  # a data folder: the loader's Parquet cache, read in place
        con = ibis.duckdb.connect()
        t = con.read_parquet(path, table_name="contacts")
    out = {}
    for name, kw in QUERIES.items():
        best, df = timed(lambda: contact_kpis(t, **kw), repeat)
        out[name] = {**best, "groups": len(df), "offered": int(df["offered"].sum())}
    out["peak_mb"] = peak_rss_mb()
    return out


def worker_pandas(path: str, repeat: int) -> dict:
    """Load the file into pandas, then time the plain-pandas reference for each query."""
    import pandas as pd

    spec = importlib.util.spec_from_file_location("ref", ROOT / "tests" / "test_metrics_property.py")
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    t0 = time.perf_counter()
    # the columns the reference uses (the engine, too, reads only the columns a query needs)
    cols = [
        "channel",
        "queue",
        "client_id",
        "arrived_at",
        "outcome",
        "wait_s",
        "handle_s",
        "resolved_first_contact",
        "escalated",
        "transferred",
        "csat",
        "reason",
        "caller_id",
    ]
    df = pd.read_parquet(path, columns=cols)
    df["arrived_at"] = df["arrived_at"].astype("datetime64[ns]")
    load_s = time.perf_counter() - t0
    out = {"load_seconds": load_s}
    for name, kw in QUERIES.items():
        best, res = timed(lambda: ref.reference_kpis(df, **kw), repeat)
        out[name] = {**best, "groups": len(res), "offered": int(res["offered"].sum())}
    out["peak_mb"] = peak_rss_mb()
    return out


def run_worker(kind: str, path: Path, repeat: int) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", kind, "--path", str(path), "--repeat", str(repeat)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{kind} worker failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def render(rows: int, gen_s: float | None, engines: dict, pandas_: dict, rep_e: int, rep_p: int) -> str:
    """The docs section as markdown."""
    import duckdb
    import ibis
    import pandas as pd

    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    lines = [
        "## Metrics (issue 3)",
        "",
        f"`python bench/bench_metrics.py --write-docs` — {rows:,} generated contacts (one year, 40 clients, "
        "5 queues, 3 channels, 60% with a caller_id), every KPI including repeat-contact FCR. Engine: "
        "`reportlib.metrics.contacts.contact_kpis` on DuckDB through ibis, over a DuckDB database (a `duckdb:///` "
        "source) and over the Parquet file in place (how a data folder's cache is served). pandas: the "
        "plain-pandas reference of `tests/test_metrics_property.py` (the property test checks both give the "
        "same numbers) on a frame already in memory (its load time is not counted). Each side runs in its "
        "own process; peak memory is that process's max RSS. Wall-clock seconds are the best of "
        f"{rep_e} engine / {rep_p} pandas runs, with the CPU seconds (all threads) of that run: the machine "
        "is shared, so wall-clock times move with other people's load.",
        "",
        "| query | side | wall s | CPU s | pandas / side (wall) | (CPU) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name in QUERIES:
        p = pandas_[name]
        lines.append(
            f"| KPIs by {name} ({p['groups']:,} groups) | pandas | {p['seconds']:.1f} | {p['cpu_seconds']:.1f} | | |"
        )
        for label, engine in engines.items():
            e = engine[name]
            lines.append(
                f"| | {label} | {e['seconds']:.1f} | {e['cpu_seconds']:.1f} | "
                f"{p['seconds'] / e['seconds']:.1f}x | {p['cpu_seconds'] / e['cpu_seconds']:.1f}x |"
            )
    mem = ", ".join(f"{label} {engine['peak_mb'] / 1024:.2f} GB" for label, engine in engines.items())
    lines += [
        "",
        f"Peak memory: {mem}, pandas {pandas_['peak_mb'] / 1024:.2f} GB (pandas also spent "
        f"{pandas_['load_seconds']:.1f} s loading the file). Goal: >= 5x faster than pandas, < 4 GB peak.",
        "",
        f"Machine: {os.cpu_count()} cores shared with other work (load average {load:.1f} at the end of the run), "
        f"Python {platform.python_version()}, duckdb {duckdb.__version__}, ibis {ibis.__version__}, "
        f"pandas {pd.__version__}." + (f" Data generation: {gen_s:.0f} s." if gen_s is not None else ""),
        "",
    ]
    return "\n".join(lines)


def write_docs(section: str) -> Path:
    """Replace (or append) the '## Metrics (issue 3)' section of docs/benchmarks.md."""
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    head = "## Metrics (issue 3)"
    if head in text:
        before, rest = text.split(head, 1)
        nxt = rest.find("\n## ")
        after = rest[nxt + 1 :] if nxt >= 0 else ""
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out"))
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument("--repeat-engine", type=int, default=3, help="runs per engine query (best kept)")
    ap.add_argument("--repeat-pandas", type=int, default=2, help="runs per pandas query (best kept)")
    ap.add_argument("--repeat", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--worker", choices=["engine", "pandas"], help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        fn = worker_engine if args.worker == "engine" else worker_pandas
        print(json.dumps(fn(args.path, args.repeat)))
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"contacts-{args.rows}.parquet"
    gen_s = None
    if not path.exists():
        t0 = time.perf_counter()
        generate(path, args.rows)
        gen_s = time.perf_counter() - t0
        print(f"generated {args.rows:,} contacts in {gen_s:.0f} s -> {path}")
    db = path.with_suffix(".duckdb")
    if not db.exists():
        import duckdb

        tmp = db.with_suffix(".tmp.duckdb")
        tmp.unlink(missing_ok=True)
        with duckdb.connect(str(tmp)) as c:
            c.execute(f"CREATE TABLE contacts AS SELECT * FROM read_parquet('{path}')")
        os.replace(tmp, db)
    engines = {}
    for label, store in (("engine (DuckDB database)", db), ("engine (Parquet folder)", path)):
        engine = engines[label] = run_worker("engine", store, args.repeat_engine)
        for name in QUERIES:
            e = engine[name]
            print(
                f"{label:25s} {name:16s} {e['seconds']:7.2f} s  cpu {e['cpu_seconds']:7.2f} s  ({e['groups']:,} groups)"
            )
        print(f"{label:25s} peak memory {engine['peak_mb'] / 1024:.2f} GB")
    pandas_ = run_worker("pandas", path, args.repeat_pandas)
    for name in QUERIES:
        p = pandas_[name]
        print(f"pandas  {name:16s} {p['seconds']:7.2f} s  cpu {p['cpu_seconds']:7.2f} s  ({p['groups']:,} groups)")
    print(f"pandas  peak memory {pandas_['peak_mb'] / 1024:.2f} GB (load {pandas_['load_seconds']:.1f} s)")
    for label, engine in engines.items():
        for name in QUERIES:
            if engine[name]["offered"] != pandas_[name]["offered"] or engine[name]["groups"] != pandas_[name]["groups"]:
                raise SystemExit(f"{name}: {label} and pandas disagree on offered/groups")
            print(f"ratio   {name:16s} pandas / {label} = {pandas_[name]['seconds'] / engine[name]['seconds']:.1f}x")
    section = render(args.rows, gen_s, engines, pandas_, args.repeat_engine, args.repeat_pandas)
    if args.write_docs:
        print(f"wrote {write_docs(section)}")
    else:
        print("\n" + section)


if __name__ == "__main__":
    main()
