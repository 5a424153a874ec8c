"""Benchmark the month's reports from PostgreSQL and Spark local against DuckDB (issue 15).

The same tables (the default sample unless --data) are stored three ways: a DuckDB file (naive
local time, as the folder loader caches them), a PostgreSQL schema on a throwaway local server
(or --pg-url; loaded by `reportlib load --into`: timestamptz, COPY, its indexes) and Parquet folders read by Spark local[2] (UTC
TIMESTAMP). Then `reportlib run` renders the month from each, one after the other, while the
process tree is sampled every 0.2 s: wall time, peak RSS of the reporting process (the `run`
command itself) and of the whole tree (its report kernels and, for Spark, their JVMs). The
PostgreSQL server's own memory is not counted (it is another machine in production).

    python bench/bench_engines.py                       # default sample, last complete month, all clients
    python bench/bench_engines.py --clients C001,C002 --engines duckdb,postgres
    python bench/bench_engines.py --write-docs          # replaces "## Engines (issue 15)" in docs/benchmarks.md

Prints one line per engine and the ratios against DuckDB in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Engines (issue 15)"
sys.path.insert(0, str(ROOT / "tests"))  # the throwaway PostgreSQL server and the contract-table helpers


def _tree_rss(pid: int) -> tuple[int, int]:
    """(RSS of pid, RSS of pid and all its descendants), bytes."""
    import psutil

    try:
        p = psutil.Process(pid)
        own = p.memory_info().rss
        total = own
        for c in p.children(recursive=True):
            try:
                total += c.memory_info().rss
            except psutil.Error:
                pass
        return own, total
    except psutil.Error:
        return 0, 0


def measure(cmd: list[str], env: dict) -> dict:
    """Run `cmd`; wall seconds and peak RSS (own and tree) sampled every 0.2 s."""
    peak = {"own": 0, "tree": 0}
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            own, tree = _tree_rss(proc.pid)
            peak["own"], peak["tree"] = max(peak["own"], own), max(peak["tree"], tree)
            done.wait(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    done.set()
    th.join()
    return {
        "seconds": time.perf_counter() - t,
        "own_mb": peak["own"] / 2**20,
        "tree_mb": peak["tree"] / 2**20,
        "rc": proc.returncode,
        "stderr": err[-3000:],
        "stdout": out[-2000:],
    }


def _write_docs(text: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    start = old.find(SECTION)
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        nxt = old.find("\n## ", start + len(SECTION))
        new = old[:start] + text + (old[nxt + 1 :] if nxt >= 0 else "")
    path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=None, help="data folder (default: the default sample, data/sample)")
    ap.add_argument("--month", default=None, help="YYYY-MM (default: the last complete month)")
    ap.add_argument("--clients", default="all")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--engines", default="duckdb,postgres,spark")
    ap.add_argument("--pg-url", default=None, help="an existing server (default: a throwaway local one)")
    ap.add_argument("--write-docs", action="store_true")
    a = ap.parse_args()

    import duckdb
    import pyarrow.parquet as pq
    from _engines import PgServer, contract_tables, find_pg_bin, folder_frames

    from reportlib.core.params import data_location, load_params
    from reportlib.data.load import open_source
    from reportlib.data.load_into import load_into
    from reportlib.planning.sample import ensure_sample_at
    from reportlib.reports.views import last_complete_month

    params = load_params()
    tz = params["timezone"]
    data = a.data or data_location(params)
    if a.data is None:
        ensure_sample_at(data)
    data = str(Path(data).resolve())
    month = a.month or str(last_complete_month(open_source(data, tz)))
    engines = a.engines.split(",")
    tmp = Path(tempfile.mkdtemp(prefix="rl-bench-engines-"))
    t = time.perf_counter()
    frames = folder_frames(data, tz)
    contacts = len(frames.get("contacts", []))
    urls = {}
    if "duckdb" in engines:
        con = duckdb.connect(str(tmp / "store.duckdb"))
        for name, tbl in contract_tables(frames, tz, instants=False).items():
            con.register("_src", tbl)
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _src')
            con.unregister("_src")
        con.close()
        urls["duckdb"] = f"duckdb:///{tmp / 'store.duckdb'}"
    instants = contract_tables(frames, tz, instants=True)
    del frames
    server = None
    if "postgres" in engines:
        pg_url = a.pg_url
        if pg_url is None:
            server = PgServer(bin=find_pg_bin(), root=Path(tempfile.mkdtemp(prefix="rl-pg-bench-")))
            server.start()
            pg_url = server.url
        # as a user would: `reportlib load --into` (the contract's types, the indexes the reports' filters use)
        load_into(data, f"{pg_url}?schema=bench", tz)
        urls["postgres"] = f"{pg_url}?schema=bench"
    if "spark" in engines:
        for name, tbl in instants.items():
            (tmp / "lake" / name).mkdir(parents=True)
            pq.write_table(tbl, tmp / "lake" / name / "part-0.parquet")
        urls["spark"] = f"spark://local[2]?path={tmp / 'lake'}&format=parquet"
    print(f"data {data} ({contacts:,} contacts), month {month}; stored in {time.perf_counter() - t:.0f} s", flush=True)

    env = dict(os.environ, PYTHONPATH=os.environ.get("PYTHONPATH", str(ROOT)))
    results = {}
    try:
        for kind, url in urls.items():
            out = tmp / f"out-{kind}"
            cmd = [sys.executable, "-m", "reportlib", "run", "--month", month, "--data", url]
            cmd += ["--clients", a.clients, "--out", str(out), "--workers", str(a.workers)]
            r = measure(cmd, env)
            pages = len(list((out / month).glob("*.html")))
            results[kind] = dict(r, pages=pages)
            status = "ok" if r["rc"] == 0 else f"FAILED ({r['stderr'][-400:]})"
            print(
                f"{kind:9s} {r['seconds']:7.1f} s  reporting process {r['own_mb']:6.0f} MB  "
                f"with kernels {r['tree_mb']:6.0f} MB  {pages} pages  {status}",
                flush=True,
            )
    finally:
        if server is not None:
            server.stop()
    base = results.get("duckdb")
    lines = []
    for kind, r in results.items():
        ratio = f"{r['seconds'] / base['seconds']:.2f}x" if base else "-"
        mem = f"{r['tree_mb'] / base['tree_mb']:.2f}x" if base else "-"
        lines.append(
            f"| {kind} | {r['seconds']:.1f} | {ratio} | {r['own_mb']:.0f} | {r['tree_mb']:.0f} | {mem} | {r['pages']} |"
        )
        print(f"{kind}: time {ratio} of DuckDB, memory (tree) {mem}")
    if a.write_docs:
        load = os.getloadavg()[0]
        text = (
            f"{SECTION}\n\n"
            f"`python bench/bench_engines.py` on {platform.node() or 'this machine'} ({os.cpu_count()} cores, load "
            f"average {load:.1f} at the end: the machine was shared), {time.strftime('%Y-%m-%d')}. The month "
            f"{month} of {Path(data).name} ({contacts:,} contacts), every report and {a.clients} client reviews, "
            f"{a.workers} workers, from the same tables in DuckDB (file), PostgreSQL 15 (local server, timestamptz, "
            "loaded by `reportlib load --into`; the server's own memory not counted) and Spark 4 local[2] (Parquet folders).\n\n"
            "| source | wall s | vs DuckDB | reporting process peak MB | with kernels (and JVMs) peak MB | vs DuckDB | pages |\n"
            "|---|---|---|---|---|---|---|\n" + "\n".join(lines) + "\n\n"
            "Every figure on every page is the same from each source (tests/test_engine_reports.py). "
            "Spark pays a JVM per report kernel and a scheduling round trip per query: on this small a "
            "data set it is the slowest; it is for data that does not fit one machine (docs/databases.md).\n"
        )
        _write_docs(text)
    return 0 if all(r["rc"] == 0 for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
