"""Benchmark the DuckDB path at 100 million contacts: KPIs by interval x queue and by month x client, and the
monthly SLA report, with the wall time and the peak memory of the reporting process (tree).

    # once: a DuckDB database of COPIES x the contacts of a generated operation, each copy of every client
    # under new ids (client C001 -> C001-r3; contact and caller ids likewise; agents shared)
    python bench/bench_big.py build --from /work/scale-data/op4x --db /work/scale-data/big.duckdb --copies 16
    # the measures, each a fresh process, DuckDB limited to --memory-limit and spilling to --temp
    python bench/bench_big.py measure --db /work/scale-data/big.duckdb --month 2026-10 --memory-limit 2GB

`build` reads the operation through reportlib (parsed once into its Parquet cache) and writes the copies
straight into the database with DuckDB (no CSV of 100 million rows). `measure` runs, each in a new
process: (1) contact KPIs for the month by 15-minute interval x queue, (2) contact KPIs by month x
client over every month, both through `reportlib.metrics.contacts` (counts in the engine, KPIs from
the counts in pandas), and (3) `reportlib run --reports sla` for the month (one worker: the parent, the
worker and its kernel are the process tree measured). Memory is the process tree's summed RSS, sampled
every 0.2 s (see bench_scale.measure). Goal (issue 15): under 4 GB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scale import measure  # noqa: E402

TABLES = ("agents", "clients", "agent_activity", "qa_evaluations")


def src_cache() -> str:
    """The parsed-table cache folder reportlib uses here."""
    from reportlib.data.load import cache_dir

    return str(cache_dir())


def build(source_dir: str, db: str, copies: int, views: bool) -> None:
    """Write `db`: contacts and clients copied `copies` times under new ids, the other tables as they are.

    With `views`, the contacts and clients are views in `db` that replicate the operation's Parquet
    files (copied next to `db`) on the fly at every query: created at once, and every query scans and
    renames copies x the rows (more CPU per query than a stored table, the same rows and figures)."""
    import shutil

    from reportlib.data.load import open_source

    if Path(db).exists():
        raise SystemExit(f"{db} exists; remove it first")
    src = open_source(source_dir)
    src.validate()
    con = src.con.con  # the source's DuckDB connection: its tables are views over the Parquet cache
    con.execute("SET preserve_insertion_order = false")
    t = time.perf_counter()
    suffix = "'-r' || r.k"
    kind = "TABLE"
    if views:  # the views read stable copies of the cached Parquet files
        home = Path(db).resolve().parent / (Path(db).stem + "-parquet")
        home.mkdir(exist_ok=True)
        for name in ("contacts", *TABLES):
            if src.has(name):
                newest = max(Path(src_cache()).glob(f"{name}-*.parquet"), key=lambda p: p.stat().st_mtime)
                shutil.copyfile(newest, home / f"{name}.parquet")
        con.execute(f"ATTACH '{db}' AS big")
        for name in ("contacts", *TABLES):
            if src.has(name):
                con.execute(f"CREATE VIEW big.src_{name} AS SELECT * FROM read_parquet('{home / (name + '.parquet')}')")
        kind = "VIEW"
        base_contacts, base_clients = "big.src_contacts", "big.src_clients"
    else:
        con.execute(f"ATTACH '{db}' AS big")
        base_contacts, base_clients = "contacts", "clients"
    con.execute(
        f"""CREATE {kind} big.contacts AS
        SELECT c.contact_id || {suffix} AS contact_id, c.channel, c.queue, c.client_id || {suffix} AS client_id,
               c.arrived_at, c.outcome, c.wait_s, c.handle_s, c.agent_id, c.resolved_first_contact, c.escalated,
               c.transferred, c.csat, c.reason,
               CASE WHEN c.caller_id IS NULL THEN NULL ELSE c.caller_id || {suffix} END AS caller_id
        FROM {base_contacts} c CROSS JOIN range({copies}) r(k)"""
    )
    con.execute(
        f"""CREATE {kind} big.clients AS
        SELECT * REPLACE (c.client_id || {suffix} AS client_id, c.client_name || ' ' || r.k AS client_name)
        FROM {base_clients} c CROSS JOIN range({copies}) r(k)"""
    )
    for name in TABLES:
        if name != "clients" and src.has(name):
            origin = f"big.src_{name}" if views else name
            con.execute(f"CREATE {kind} big.{name} AS SELECT * FROM {origin}")
    n = con.execute("SELECT count(*) FROM big.contacts").fetchone()[0]
    con.execute("DETACH big")
    print(f"{db}: {n:,} contacts in {time.perf_counter() - t:.0f} s, {Path(db).stat().st_size / 1e9:.1f} GB")


KPI_SCRIPT = """
import sys, time
import pandas as pd
from reportlib.data.load import open_source
from reportlib.metrics import contacts as m
src = open_source(sys.argv[1])
t = src.table("contacts")
month = pd.Period(sys.argv[3], freq="M")
t0 = time.perf_counter()
if sys.argv[2] == "interval_queue":
    counts = m.contact_counts(t, grain="15min", by=["queue"], start=month.start_time, end=(month + 1).start_time)
else:
    counts = m.contact_counts(t, grain="month", by=["client_id"])
k = m.kpis_from_counts(counts)
print(f"{len(k):,} rows, {k['offered'].sum():,.0f} contacts offered in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
"""


def role(proc, root_pid: int) -> str:
    """Which part of `reportlib run` a process of its tree is: parent, forkserver, worker or kernel."""
    cmdline = " ".join(proc.cmdline())
    if proc.pid == root_pid:
        return "parent"
    if "ipykernel" in cmdline:
        return "kernel"
    if "forkserver" in cmdline and proc.ppid() == root_pid:
        return "forkserver"
    return "worker"


def measure_by_process(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, float, int, str, str]:
    """bench_scale.measure's figures for `cmd` plus the peak RSS of each role (parent, forkserver, worker,
    kernel: each role's own peak, and the roles' RSS at the moment of the tree's peak), as text."""
    import threading

    import psutil

    peaks: dict[str, int] = {}
    at_peak: tuple[int, dict[str, int]] = (0, {})
    stop = threading.Event()
    started = threading.Event()
    holder: dict[str, subprocess.Popen] = {}

    def sample() -> None:
        nonlocal at_peak
        started.wait()
        root = psutil.Process(holder["proc"].pid)
        while not stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                break
            now: dict[str, int] = {}
            for p in procs:
                try:
                    r = role(p, root.pid)
                    now[r] = now.get(r, 0) + p.memory_info().rss
                except psutil.Error:
                    pass
            for r, rss in now.items():
                peaks[r] = max(peaks.get(r, 0), rss)
            if sum(now.values()) > at_peak[0]:
                at_peak = (sum(now.values()), now)
            stop.wait(0.2)

    real_popen = subprocess.Popen

    def popen(*args, **kwargs):  # bench_scale.measure starts the command; the sampler follows its tree
        holder["proc"] = real_popen(*args, **kwargs)
        started.set()
        return holder["proc"]

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    subprocess.Popen = popen  # type: ignore[misc]
    try:
        secs, cpu, peak, rc, tail = measure(cmd, env, cwd=cwd)
    finally:
        subprocess.Popen = real_popen  # type: ignore[misc]
        stop.set()
        started.set()
        th.join()
    order = ("parent", "forkserver", "worker", "kernel")
    own = ", ".join(f"{r} {peaks.get(r, 0) / 1e6:,.0f}" for r in order)
    then = ", ".join(f"{r} {at_peak[1].get(r, 0) / 1e6:,.0f}" for r in order)
    return secs, cpu, peak, rc, tail, f"own peaks MB: {own}; at the tree's peak: {then}"


def run_measures(db: str, month: str, memory_limit: str, temp: str, only: str = "all", timeout: int = 900) -> None:
    """Print one table row per measure: wall seconds, CPU seconds, peak MB of the process tree."""
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        REPORTLIB_DUCKDB_MEMORY_LIMIT=memory_limit,
        REPORTLIB_DUCKDB_TEMP_DIRECTORY=temp,
        REPORTLIB_CACHE=tempfile.mkdtemp(prefix="bench-big-cache-"),
    )
    data = f"duckdb://{Path(db).resolve()}"
    out = tempfile.mkdtemp(prefix="bench-big-out-")
    runs = [
        (
            "KPIs by 15-min interval x queue, one month",
            [sys.executable, "-c", KPI_SCRIPT, data, "interval_queue", month],
        ),
        ("KPIs by month x client, all months", [sys.executable, "-c", KPI_SCRIPT, data, "month_client", month]),
        (
            "monthly SLA report (reportlib run --reports sla, 1 worker)",
            [sys.executable, "-m", "reportlib", "run", "--reports", "sla", "--month", month, "--data", data]
            + ["--out", out, "--workers", "1", "--timeout", str(timeout)],
        ),
    ]
    if only != "all":
        runs = [runs[("interval_queue", "month_client", "sla").index(only)]]
    rows = []
    for what, cmd in runs:
        print(f"{what} ...", file=sys.stderr, flush=True)
        if "run" in cmd:  # the report: also the process-by-process split
            secs, cpu, peak, rc, tail, split = measure_by_process(cmd, env, ROOT)
            tail = f"{tail}\n  {split}"
        else:
            secs, cpu, peak, rc, tail = measure(cmd, env, cwd=ROOT)
        print(f"  {secs:.1f} s ({cpu:.1f} s CPU), peak {peak:,.0f} MB, exit {rc}\n  {tail}", file=sys.stderr)
        rows.append((what, secs, cpu, peak, rc))
    print(f"\nDuckDB memory_limit {memory_limit}, spilling to {temp}; load average {os.getloadavg()[0]:.1f}")
    print("| measure | wall s | CPU s | peak MB (process tree) | exit |")
    print("|---|---:|---:|---:|---:|")
    for what, secs, cpu, peak, rc in rows:
        print(f"| {what} | {secs:.1f} | {cpu:.1f} | {peak:,.0f} | {rc} |")
    subprocess.run(["rm", "-rf", out, env["REPORTLIB_CACHE"]], check=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--from", dest="source", required=True)
    b.add_argument("--db", required=True)
    b.add_argument("--copies", type=int, default=16)
    b.add_argument("--views", action="store_true", help="replicate on the fly in views (no stored copies)")
    m = sub.add_parser("measure")
    m.add_argument("--db", required=True)
    m.add_argument("--month", required=True)
    m.add_argument("--memory-limit", default="2GB")
    m.add_argument("--temp", default=str(Path(tempfile.gettempdir()) / "reportlib-duckdb-spill"))
    m.add_argument("--only", choices=("all", "interval_queue", "month_client", "sla"), default="all")
    m.add_argument("--timeout", type=int, default=900, help="seconds a report may take (reportlib run --timeout)")
    args = ap.parse_args()
    if args.cmd == "build":
        build(args.source, args.db, args.copies, args.views)
    else:
        run_measures(args.db, args.month, args.memory_limit, args.temp, args.only, args.timeout)


if __name__ == "__main__":
    main()
