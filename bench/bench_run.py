"""Benchmark the monthly batch: every report and every client review of the sample operation, against the
papermill floor measured in the same run.

The floor is the same number of notebook executions, each a fresh papermill run (new kernel) of a
notebook that only imports reportlib, rendered to HTML with the same renderer and the same number of
parallel workers: what any papermill-per-notebook runner pays before a report computes anything.

    python bench/bench_run.py                      # data/sample (created if absent), 2 workers
    python bench/bench_run.py --data DIR --workers 2 --write-docs

Prints the batch seconds, the floor seconds and their ratio (goal: under 120 s and at most 1.5x the
floor on a 2-core machine). --write-docs replaces the "## Batch run (issue 8)" section of
docs/benchmarks.md with the figures.

    python bench/bench_run.py --pdf-compare [--repeat 2]

runs the same batch without and with the PDF copies (parameters `reports.pdf` false / true), alternating,
and prints both and their ratio (issue 18's goal: the batch with PDFs within 1.5x of the batch without).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Batch run (issue 8)"


def _floor_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("month = None\ndata = None\nparams_file = None\nclient_id = None\nteam = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("import reportlib")]
    nbformat.write(nb, path)


def _floor_one(args: tuple[str, str, dict]) -> float:
    """One fresh-kernel papermill execution (IPC kernel: no port races) plus rendering; seconds."""
    import papermill

    from reportlib.delivery.run import ipc_kernel_manager_class
    from reportlib.reports.render import render_html

    src, out, params = args
    t = time.perf_counter()
    papermill.execute_notebook(
        src,
        out,
        parameters=params,
        progress_bar=False,
        kernel_name="python3",
        kernel_manager_class=ipc_kernel_manager_class(),
    )
    Path(out).with_suffix(".html").write_text(render_html(Path(out), "floor"), encoding="utf-8")
    return time.perf_counter() - t


def papermill_floor(n: int, workers: int, data: str, month: str, tmp: Path) -> float:
    """Wall seconds for `n` fresh papermill runs of an import-only notebook, `workers` at a time."""
    import multiprocessing

    src = tmp / "floor.ipynb"
    _floor_notebook(src)
    jobs = [(str(src), str(tmp / f"floor-{i}.ipynb"), {"month": month, "data": data}) for i in range(n)]
    t = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_floor_one, jobs))
    return time.perf_counter() - t


def _write_docs(text: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    start = old.find(SECTION)
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        nxt = old.find("\n## ", start + len(SECTION))
        new = old[:start] + text + (old[nxt + 1 :] if nxt >= 0 else "")
    path.parent.mkdir(exist_ok=True)
    path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")


def pdf_compare(a: argparse.Namespace, params: dict, data: str, month: str) -> int:
    """The batch without PDF copies, then with them, `a.repeat` times; prints seconds and ratios."""
    import copy

    from reportlib.delivery import run

    times: dict[bool, list[float]] = {False: [], True: []}
    for i in range(a.repeat):
        for pdf in (False, True):
            p = copy.deepcopy(params)
            p.setdefault("reports", {})["pdf"] = pdf
            tmp = Path(tempfile.mkdtemp(prefix="rl-bench-pdf-"))
            try:
                load = os.getloadavg()[0]
                t = time.perf_counter()
                result = run.run_month(
                    month,
                    params=p,
                    data=data,
                    clients=a.clients,
                    reports=a.reports.split(",") if a.reports else None,
                    out=tmp / "outputs",
                    workers=a.workers,
                    progress=False,
                )
                secs = time.perf_counter() - t
                pdfs = len(list(result.month_dir.glob("*.pdf")))
                sizes = [f.stat().st_size for f in result.month_dir.glob("*.html")]
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            times[pdf].append(secs)
            print(
                f"run {i + 1} {'with' if pdf else 'without'} PDFs: {len(result.entries)} reports, "
                f"{len(result.failed)} failed, {pdfs} PDFs, largest page {max(sizes) / 1e6:.2f} MB, "
                f"{secs:.1f} s wall (load average {load:.1f})",
                flush=True,
            )
    for i, (off, on) in enumerate(zip(times[False], times[True])):
        print(f"pair {i + 1}: with / without PDFs = {on / off:.2f}")
    best_off, best_on = min(times[False]), min(times[True])
    print(f"best: without {best_off:.1f} s, with {best_on:.1f} s, ratio {best_on / best_off:.2f} (goal <= 1.5)")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=None, help="data folder (default: parameters' data, data/sample)")
    ap.add_argument("--month", default=None, help="YYYY-MM (default: the last complete month of the data)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clients", default="all", help="client reviews for: all or ID[,ID]")
    ap.add_argument("--reports", default=None, help="comma list (default: all reports)")
    ap.add_argument("--skip-floor", action="store_true")
    ap.add_argument(
        "--without-workbooks",
        action="store_true",
        help="also run the same batch without the Excel workbooks and print the ratio (issue 18)",
    )
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument("--pdf-compare", action="store_true", help="the batch without and with PDF copies")
    ap.add_argument("--repeat", type=int, default=1, help="pairs of runs for --pdf-compare")
    a = ap.parse_args()

    from reportlib.core.params import data_location, load_params
    from reportlib.delivery import run
    from reportlib.planning.sample import ensure_sample_at

    params = load_params()
    data = a.data or data_location(params)
    if a.data is None:
        ensure_sample_at(data)
    data = str(Path(data).resolve())
    if a.month:
        month = a.month
    else:
        from reportlib.data.load import open_source
        from reportlib.reports.views import last_complete_month

        month = str(last_complete_month(open_source(data, params["timezone"])))
    t = time.perf_counter()
    run.check_source(data, params["timezone"], month)  # fills the loader's cache: neither side pays parsing
    print(f"data {data}, month {month}; data checked and cached in {time.perf_counter() - t:.1f} s", flush=True)

    if a.pdf_compare:
        return pdf_compare(a, params, data, month)
    load_before = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="rl-bench-"))
    try:
        t = time.perf_counter()
        result = run.run_month(
            month,
            params=params,
            data=data,
            clients=a.clients,
            reports=a.reports.split(",") if a.reports else None,
            out=tmp / "outputs",
            workers=a.workers,
            progress=False,
        )
        batch = time.perf_counter() - t
        n = len(result.entries)
        n_clients = sum(e["report"] == "client_review" for e in result.entries)
        per = {}
        for e in result.entries:
            per.setdefault(e["report"], []).append(e["seconds"] or 0.0)
        print(
            f"batch: {n} notebooks ({n_clients} client reviews), {len(result.failed)} failed, "
            f"{batch:.1f} s wall with {a.workers} workers",
            flush=True,
        )
        for e in result.failed:
            print(f"  failed: {e['report']} {e.get('client_id') or ''}: {e['error']}")
        for name, secs in per.items():
            print(f"  {name:17s} n={len(secs):3d}  median {statistics.median(secs):5.1f} s  max {max(secs):5.1f} s")
        if result.workbooks:
            wb_secs = {e["workbook"]: [] for e in result.workbooks}
            for e in result.workbooks:
                wb_secs[e["workbook"]].append(e["seconds"] or 0.0)
            for name, secs in wb_secs.items():
                print(
                    f"  workbook {name:8s} n={len(secs):3d}  median {statistics.median(secs):5.1f} s  "
                    f"total {sum(secs):5.1f} s (in the workers, beside the notebooks)"
                )
        if a.without_workbooks:
            t = time.perf_counter()
            run.run_month(
                month,
                params=params,
                data=data,
                clients=a.clients,
                reports=a.reports.split(",") if a.reports else None,
                out=tmp / "outputs-no-workbooks",
                workers=a.workers,
                progress=False,
                workbooks=False,
            )
            bare = time.perf_counter() - t
            print(
                f"the same batch without workbooks: {bare:.1f} s; ratio with / without workbooks: {batch / bare:.2f} "
                "(goal for issue 18, with PDFs too: <= 1.5)",
                flush=True,
            )
        # the notebooks' own work: the sum of their cells' execution times (papermill records each)
        compute = {}
        for e in result.entries:
            if e.get("notebook"):
                nb = nbformat.read(str(result.month_dir / e["notebook"]), as_version=4)
                secs = sum(
                    float((c.get("metadata", {}).get("papermill", {}) or {}).get("duration") or 0)
                    for c in nb.cells
                    if c.cell_type == "code"
                )
                compute.setdefault(e["report"], []).append(secs)
        total_compute = sum(sum(v) for v in compute.values())
        print(
            f"notebook cells: {total_compute:.1f} s of execution in total "
            f"({total_compute / a.workers:.1f} s per worker)",
            flush=True,
        )
        floor = runner_floor = None
        if not a.skip_floor:
            # the same batch through `reportlib run`, every notebook replaced by the import-only one
            nbs = tmp / "import-only"
            nbs.mkdir()
            for name in {e["report"] for e in result.entries}:
                _floor_notebook(nbs / f"{name}.ipynb")
            t = time.perf_counter()
            run.run_month(
                month,
                params=params,
                data=data,
                clients=a.clients,
                reports=a.reports.split(",") if a.reports else None,
                out=tmp / "outputs-floor",
                workers=a.workers,
                notebooks_dir=nbs,
                progress=False,
            )
            runner_floor = time.perf_counter() - t
            print(
                f"runner floor: the same {n} jobs through reportlib run with import-only notebooks: "
                f"{runner_floor:.1f} s",
                flush=True,
            )
            floor_dir = tmp / "floor"
            floor_dir.mkdir()
            floor = papermill_floor(n, a.workers, data, month, floor_dir)
            print(
                f"papermill floor: {n} fresh-kernel runs of an import-only notebook + HTML, "
                f"{a.workers} workers: {floor:.1f} s",
                flush=True,
            )
            print(f"ratio batch / papermill floor: {batch / floor:.2f}  (goal <= 1.5; batch goal < 120 s)")
            print(f"ratio runner floor / papermill floor: {runner_floor / floor:.2f}  (the runner's own overhead)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    if a.write_docs:
        cpu = os.cpu_count()
        lines = [
            SECTION,
            "",
            f"`python bench/bench_run.py --workers {a.workers}` on this {cpu}-core machine "
            f"(Python {platform.python_version()}), sample operation month {month}: "
            f"{n} notebooks ({n - n_clients} reports and {n_clients} client reviews). The machine is shared: "
            f"load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after the run, so every figure "
            f"here is slower than on an idle machine.",
            "",
            "| measure | seconds |",
            "|---|---|",
            f"| full batch (`reportlib run`, warm kernel per worker) | {batch:.1f} |",
        ]
        lines += [
            f"| the notebooks' cells alone (sum of cell execution times / {a.workers} workers) | "
            f"{total_compute / a.workers:.1f} |"
        ]
        if floor:
            lines += [
                f"| papermill floor: {n} fresh-kernel runs of an import-only notebook, rendered to HTML | {floor:.1f} |",
                f"| runner floor: the same {n} jobs through `reportlib run`, import-only notebooks | {runner_floor:.1f} |",
                f"| ratio batch / papermill floor | {batch / floor:.2f} |",
                f"| ratio runner floor / papermill floor | {runner_floor / floor:.2f} |",
            ]
        lines += [
            "",
            "Per report (seconds per notebook: wall time with rendering, and the cells' own execution):",
            "",
            "| report | notebooks | median wall | max wall | median cells |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {k} | {len(v)} | {statistics.median(v):.1f} | {max(v):.1f} | "
            f"{statistics.median(compute.get(k) or [0]):.1f} |"
            for k, v in per.items()
        ]
        lines += [
            "",
            "Goal: under 120 s, and at most 1.5x the papermill floor. The floor pays a kernel start "
            "and the imports for every notebook; `reportlib run` pays them once per worker (a warm kernel "
            "per worker, its namespace reset between notebooks; parameters `schedule.reuse_kernels`), "
            "so the runner floor shows the runner's own cost and the cells row what the notebooks "
            "themselves compute.",
            "",
            f"Where the time goes: the notebooks' cells need {total_compute / a.workers:.0f} s per worker; "
            f"the runner adds {batch - total_compute / a.workers:.0f} s on top (rendering each page with "
            f"plotly.js inlined, the namespace reset, writing files, and the two workers not finishing "
            f"together), against {floor or 0:.0f} s for the papermill floor alone. "
            + (
                "The 120 s goal therefore depends on the notebooks' own work (the largest rows above)."
                if total_compute / a.workers > 120
                else ""
            ),
            "",
            "What keeps the batch near the floor: (1) the figures every client review needs (monthly counts, "
            "email first response, contract terms for 13 months, contact reasons) are aggregated once for "
            "all clients per worker and remembered on the open data source (`Source.memo`, keyed by the "
            "parameters; the source itself is reused while its files are unchanged), so a client review "
            "only filters its client's rows; the SLA report's 13 months of contract terms are one pass, "
            "not 13; (2) each worker keeps its kernel client between notebooks, saving jupyter_client's "
            "kernel_info round trip and its 0.2 s wait for a quiet IOPub channel per notebook; (3) after "
            "the imports, `gc.freeze()` in kernel and worker keeps the libraries' objects out of every "
            "later garbage collection; (4) the HTML exporter and its templates are built once per worker.",
            "",
        ]
        _write_docs("\n".join(lines))
        print("wrote docs/benchmarks.md")
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
