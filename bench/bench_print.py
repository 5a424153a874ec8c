"""Chromium's CPU per printed page, with the paper margin floor against without it, in the same run.

    python bench/bench_print.py --month-dir outputs/2026-11 [--pages 20] [--rounds 3] [--glob 'client_review_*.html']

The PDF printer (delivery/pdf.py) starts every chart's margins on paper at `PRINT_MARGIN_FLOOR_PX`, so that
plotly.js does not draw a chart, measure its labels and draw it all again (automargin). This prints the same
pages of a rendered month folder with the floor and with an empty floor (the template's margins, as before),
alternating variants round after round, each round in a fresh browser warmed on the first page; it reports
the CPU seconds (user + system) of Chromium's process tree and playwright's driver per page, and the wall
seconds per page. The machine may be shared: compare the ratio, measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import psutil

from reportlib.delivery import pdf


def _tree_cpu() -> float:
    total = 0.0
    for proc in psutil.Process().children(recursive=True):
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def one_round(pages: list[Path], floor: dict[str, int]) -> tuple[float, float]:
    """(CPU s, wall s) per page for printing `pages[1:]` after a warm-up print of `pages[0]`."""
    saved = pdf.PRINT_MARGIN_FLOOR_PX
    pdf.PRINT_MARGIN_FLOOR_PX = floor
    try:
        with pdf.PdfPrinter() as printer:
            printer.print_pdf(pages[0], "bench")
            cpu0, t0 = _tree_cpu(), time.perf_counter()
            for page in pages[1:]:
                printer.print_pdf(page, "bench")
            n = len(pages) - 1
            return (_tree_cpu() - cpu0) / n, (time.perf_counter() - t0) / n
    finally:
        pdf.PRINT_MARGIN_FLOOR_PX = saved


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--month-dir", required=True, type=Path, help="a run's month folder (its HTML reports)")
    ap.add_argument("--glob", default="client_review_*.html", help="which pages to print")
    ap.add_argument("--pages", type=int, default=20, help="pages printed per round, after the warm-up page")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    pages = sorted(args.month_dir.glob(args.glob))[: args.pages + 1]
    if len(pages) < 2:
        print(f"bench_print: fewer than 2 pages match {args.glob} in {args.month_dir}", file=sys.stderr)
        return 2
    variants = {"floor": dict(pdf.PRINT_MARGIN_FLOOR_PX), "no floor": {}}
    got: dict[str, list[tuple[float, float]]] = {k: [] for k in variants}
    for r in range(args.rounds):
        for name, floor in variants.items():
            cpu, wall = one_round(pages, floor)
            got[name].append((cpu, wall))
            print(f"round {r + 1} {name:>8}: {cpu:.3f} s CPU, {wall:.3f} s wall per page", flush=True)
    med = {k: (statistics.median(c for c, _ in v), statistics.median(w for _, w in v)) for k, v in got.items()}
    for name, (cpu, wall) in med.items():
        print(f"median {name:>8}: {cpu:.3f} s CPU, {wall:.3f} s wall per page ({len(pages) - 1} pages)")
    print(
        f"floor / no floor: {med['floor'][0] / med['no floor'][0]:.2f}x CPU, "
        f"{med['floor'][1] / med['no floor'][1]:.2f}x wall"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
