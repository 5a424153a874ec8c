"""Benchmark the folder path at scale: `reportlib validate` and a first `reportlib run` of a month on a large
generated operation, with the wall time and the peak memory of the WHOLE process tree.

    reportlib sample-data --out /work/scale-data/op4x --agents 600 --clients 160 --months 24
    python bench/bench_scale.py --data /work/scale-data/op4x [--baseline GIT_REF] [--what validate,run]

Each measured command is a fresh `python -m reportlib ...` process with an empty cache folder (the
first parse of a new data folder). The process tree (the command, its pool workers, their Jupyter
kernels, the PDF printers' Chromium processes) is sampled through psutil: the peak of the
summed proportional set sizes (PSS, every 2 s: a page shared by n processes counts 1/n in each, so the sum
is the memory the tree really holds) and the peak of the summed resident set sizes (RSS: a shared page counts
once per process — Chromium's zygote-forked processes and the forkserver's workers share a lot — so this
sum over-states; every 0.2 s). With --baseline REF the same commands run in the same invocation for
the package as it was at commit REF (extracted with `git archive`), and the ratios are printed.

Goals (issue 15, 4x operation): validate under 40 s and 2 GB; first run under 120 s and 4 GB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(
    cmd: list[str], env: dict[str, str], cwd: Path | None = None
) -> tuple[float, float, float, float, int, str]:
    """Run `cmd`; (wall seconds, CPU seconds of the tree (user + system: the largest figure sampled of every
    process seen, or the kernel's count of the waited-for ones if larger; a process living under 0.2 s may be
    missed), peak MB of the process tree's summed PSS, peak MB of its summed RSS, exit status, last stderr lines)."""
    import resource

    import psutil

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = peak_pss = 0
    cpu_seen: dict[int, float] = {}
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak, peak_pss
        root = psutil.Process(proc.pid)
        tick = 0
        while not stop.is_set():
            total = pss = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                break
            # PSS every 2 s only: /proc/PID/smaps_rollup walks the page tables under the process's memory lock,
            # which for Chromium's processes costs enough to slow the measured run (sampled every 0.2 s, a
            # first run of the 4x operation took 217 s instead of 170 s)
            with_pss = tick % 10 == 0
            tick += 1
            for p in procs:
                try:
                    if with_pss:
                        full = p.memory_full_info()
                        total += full.rss
                        pss += full.pss
                    else:
                        total += p.memory_info().rss
                    times = p.cpu_times()
                    cpu_seen[p.pid] = max(cpu_seen.get(p.pid, 0.0), times.user + times.system)
                except psutil.Error:
                    pass
            peak = max(peak, total)
            peak_pss = max(peak_pss, pss)
            stop.wait(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    _, err = proc.communicate()
    stop.set()
    th.join()
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = max((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), sum(cpu_seen.values()))
    return wall, cpu, peak_pss / 1e6, peak / 1e6, proc.returncode, "\n".join(err.strip().splitlines()[-4:])


def package_at(ref: str, into: Path) -> Path:
    """The repository at git `ref`, extracted into `into` (a folder usable as PYTHONPATH and project root)."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def commands(what: str, data: str, month: str, out: Path) -> list[str]:
    """The reportlib command line for `what` (validate or run)."""
    if what == "validate":
        return ["validate", "--data", data]
    return ["run", "--month", month, "--data", data, "--out", str(out), "--workers", "2"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--month", default=None, help="month for run (default: the data's last full month)")
    ap.add_argument("--baseline", default=None, help="git ref to compare with, in the same run")
    ap.add_argument("--what", default="validate,run")
    args = ap.parse_args()
    month = args.month
    if month is None:
        import pyarrow.csv as pacsv

        # the sample's last month: read the activity file's dates (small) rather than the contacts
        act = pacsv.read_csv(Path(args.data) / "agent_activity.csv").column("date")
        month = str(max(act.to_pylist()))[:7]
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    trees = [("current", ROOT)]
    if args.baseline:
        trees.insert(0, (f"baseline {args.baseline}", package_at(args.baseline, work / "baseline")))
    results: dict[tuple[str, str], tuple[float, float, float, float, int]] = {}
    try:
        for what in args.what.split(","):
            for label, tree in trees:
                cache = work / f"cache-{label.split()[0]}-{what}"
                out = work / f"out-{label.split()[0]}"
                env = dict(os.environ, PYTHONPATH=str(tree), REPORTLIB_CACHE=str(cache))
                cmd = [sys.executable, "-m", "reportlib", *commands(what, args.data, month, out)]
                print(f"{label}: {' '.join(cmd[2:])} ...", file=sys.stderr, flush=True)
                secs, cpu, pss, rss, rc, tail = measure(cmd, env, cwd=tree)
                results[(what, label)] = (secs, cpu, pss, rss, rc)
                print(
                    f"  {secs:.1f} s ({cpu:.1f} s CPU), peak {pss:,.0f} MB PSS ({rss:,.0f} MB RSS), exit {rc}\n  {tail}",
                    file=sys.stderr,
                )
                shutil.rmtree(cache, ignore_errors=True)
                shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()[0]
    print(f"\n| command ({month}) | package | wall s | CPU s | peak MB, tree PSS | peak MB, tree RSS sum | exit |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for (what, label), (secs, cpu, pss, rss, rc) in results.items():
        print(f"| {what} | {label} | {secs:.1f} | {cpu:.1f} | {pss:,.0f} | {rss:,.0f} | {rc} |")
    if args.baseline:
        for what in args.what.split(","):
            base = results.get((what, trees[0][0]))
            cur = results.get((what, "current"))
            if base and cur:
                print(
                    f"{what}: wall ratio {cur[0] / base[0]:.2f}x, CPU ratio {cur[1] / base[1]:.2f}x, "
                    f"memory (PSS) ratio {cur[2] / base[2]:.2f}x"
                )
    print(f"load average at the end: {load:.1f}")


if __name__ == "__main__":
    main()
