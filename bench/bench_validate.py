"""Benchmark: `reportlib validate` on a 2-million-row contacts.csv (~250 MB) with one repeated contact_id.

    python bench/bench_validate.py [--rows 2000000] [--out bench/out] [--baseline GIT_REF] [--runs 1]

Generates (once, seeded) a data folder bench/out/validate-<rows>/ holding contacts.csv (the
contract's 15 columns, ~125 bytes a row, the last row repeating the first row's contact_id),
agents.csv and clients.csv. Then runs `python -m reportlib validate --data FOLDER` in a fresh
process with an empty cache (the cold path: parse, type, check, cache) and reports wall-clock
seconds and peak memory (max RSS of the child, MB). With --baseline REF the same is done in the
same run for the package as it was at git commit REF (extracted with `git archive` to a temporary
folder), and the ratios current / baseline are printed. The exit status of validate must be 1 and
the duplicate must be named with both rows, else the benchmark fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HEADER = (
    "contact_id,channel,queue,client_id,arrived_at,outcome,wait_s,handle_s,agent_id,"
    "resolved_first_contact,escalated,transferred,csat,reason,caller_id"
)


def generate(folder: Path, rows: int, seed: int = 7, chunk: int = 250_000) -> None:
    """Write the data folder: `rows` contacts in 2025 (with -05:00 offsets), 400 agents, 40 clients."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    folder.mkdir(parents=True, exist_ok=True)
    agents = [f"A{i:04d}" for i in range(400)]
    clients = [f"CL{i:03d}" for i in range(40)]
    with open(folder / "agents.csv", "w") as fh:
        fh.write(
            "agent_id,name,team,supervisor,site,role,hire_date,termination_date,termination_type,"
            "termination_reason,regretted,fte,hourly_cost\n"
        )
        fh.writelines(
            f"{a},Agent {i},Team {i % 20},Sup {i % 20},North,agent,2023-01-01,,,,,1,30\n" for i, a in enumerate(agents)
        )
    with open(folder / "clients.csv", "w") as fh:
        fh.write("client_id,client_name,tier,sla_profile,monthly_fee\n")
        fh.writelines(f"{c},Client {c},gold,gold,10000\n" for c in clients)
    rng = np.random.default_rng(seed)
    queues = np.array(["Benefits Enrollment", "Import Files", "Debit Card", "Accounts", "Escalations"])
    reasons = np.array(
        ["Eligibility question", "Claim status", "Card replacement", "File upload", "HSA contribution", "COBRA notice"]
    )
    tmp = folder / "contacts.csv.tmp"
    with open(tmp, "wb") as out:
        out.write((HEADER + "\n").encode())
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            ids = np.char.add("c", np.char.zfill(np.arange(start, start + n).astype(str), 9))
            if start + n == rows:
                ids[-1] = "c000000000"  # the one repeated contact_id
            secs = rng.integers(0, 364 * 86400, n)
            arrived = (np.datetime64("2025-01-01T00:00:00") + secs.astype("timedelta64[s]")).astype(str)
            arrived = np.char.add(arrived, "-05:00")
            handled = rng.random(n) < 0.9
            wait = np.round(rng.exponential(40, n), 1).astype(str)
            handle = np.where(handled, np.round(rng.gamma(3, 100, n), 1).astype(str), "")
            agent = np.where(handled, np.array(agents)[rng.integers(0, 400, n)], "")
            table = pa.table(
                {
                    "contact_id": ids,
                    "channel": np.array(["phone", "email", "chat"])[rng.integers(0, 3, n)],
                    "queue": queues[rng.integers(0, len(queues), n)],
                    "client_id": np.array(clients)[rng.integers(0, 40, n)],
                    "arrived_at": arrived,
                    "outcome": np.where(handled, "handled", "abandoned"),
                    "wait_s": wait,
                    "handle_s": handle,
                    "agent_id": agent,
                    "resolved_first_contact": np.where(handled, np.where(rng.random(n) < 0.7, "true", "false"), ""),
                    "escalated": np.where(rng.random(n) < 0.1, "true", "false"),
                    "transferred": np.where(rng.random(n) < 0.05, "true", "false"),
                    "csat": np.where(handled & (rng.random(n) < 0.3), rng.integers(1, 6, n).astype(str), ""),
                    "reason": reasons[rng.integers(0, len(reasons), n)],
                    "caller_id": np.char.add("p", np.char.zfill(rng.integers(0, 300_000, n).astype(str), 7)),
                }
            )
            buf = pa.BufferOutputStream()
            pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="none"))
            out.write(buf.getvalue().to_pybytes())
    os.replace(tmp, folder / "contacts.csv")


def run_validate(folder: Path, package_root: Path) -> tuple[float, float, int, str]:
    """(seconds, peak MB of the child, exit status, output) of one cold `validate` with `package_root` first on the path."""
    cache = Path(tempfile.mkdtemp(prefix="bench-validate-cache-"))
    env = dict(os.environ, PYTHONPATH=str(package_root), REPORTLIB_CACHE=str(cache))
    code = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run([sys.executable, '-m', 'reportlib', 'validate', '--data', sys.argv[1]],"
        " capture_output=True, text=True)\n"
        "s = time.perf_counter() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "sys.stdout.write(f'{s} {rss} {p.returncode}\\n' + p.stdout + p.stderr)\n"
    )
    try:
        # cwd = the package root: `python -m` puts the cwd first on the path, ahead of PYTHONPATH
        proc = subprocess.run(
            [sys.executable, "-c", code, str(folder.resolve())],
            env=env,
            capture_output=True,
            text=True,
            cwd=package_root,
        )
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    first, _, rest = proc.stdout.partition("\n")
    seconds, rss, status = first.split()
    return float(seconds), float(rss), int(status), rest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out"))
    ap.add_argument("--baseline", default=None, help="git ref of the package to compare with")
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    folder = Path(args.out) / f"validate-{args.rows}"
    if not (folder / "contacts.csv").exists():
        t = time.perf_counter()
        generate(folder, args.rows)
        print(f"generated {folder} in {time.perf_counter() - t:.1f} s")
    size = (folder / "contacts.csv").stat().st_size
    print(f"contacts.csv: {args.rows:,} rows, {size / 1e6:.0f} MB; one repeated contact_id")
    sides = {"current": ROOT}
    tmp = None
    if args.baseline:
        tmp = Path(tempfile.mkdtemp(prefix="bench-validate-base-"))
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.baseline, "reportlib", "parameters"],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
        sides = {f"baseline {args.baseline}": tmp, "current": ROOT}
    results = {}
    try:
        for name, root in sides.items():
            best = None
            for _ in range(args.runs):
                s, rss, status, out = run_validate(folder, root)
                ok = status == 1 and "contact_id" in out and f"{args.rows + 1}" in out
                if not ok:
                    print(f"{name}: unexpected result (exit {status}):\n{out[:2000]}")
                    return 1
                best = (s, rss) if best is None or s < best[0] else best
            results[name] = best
            line = [ln for ln in out.splitlines() if "contact_id" in ln][0]
            print(f"{name}: {best[0]:.1f} s, peak {best[1]:,.0f} MB  [{line.strip()[:110]}]")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    if len(results) == 2:
        (bs, bm), (cs, cm) = results.values()
        print(f"current / baseline: time {cs / bs:.2f}x, peak memory {cm / bm:.2f}x")
    print(f"load average {os.getloadavg()[0]:.1f}; {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
