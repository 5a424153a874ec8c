"""Page weight and first paint of the rendered reports in headless Chromium, before against after.

    python bench/bench_pages.py --after outputs/2026-10 [--before OLD/2026-10] [--repeat 5]

For every HTML report of the month folder (and the same file in --before, when given): its size in bytes,
and in Debian's Chromium (playwright with executable_path, headless, 1280x900, a fresh tab per load, the
file opened from disk): first contentful paint, the load event, and the time until the last chart is drawn
(report.js marks each plot with data-rl-drawn; a MutationObserver records when), all in milliseconds from
navigation start, median of --repeat loads. Prints one line per page and the medians over all pages, with
the after / before ratios measured in the same run (the machine is shared: ratios, not seconds, compare).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

OBSERVER = """
window.__rlDrawn = [];
new MutationObserver(records => {
  for (const r of records) {
    if (r.attributeName === 'data-rl-drawn') { window.__rlDrawn.push(performance.now()); }
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-rl-drawn']});
"""
ALL_DRAWN = "() => Array.from(document.querySelectorAll('.rl-plot')).every(el => el.getAttribute('data-rl-drawn'))"
TIMES = """() => ({
  fcp: (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null,
  load: performance.getEntriesByType('navigation')[0].loadEventEnd,
  charts: window.__rlDrawn.length ? Math.max(...window.__rlDrawn) : null,
  n: document.querySelectorAll('.rl-plot').length })"""


def measure(browser, path: Path, repeat: int) -> dict:
    """Median first contentful paint, load and last-chart times (ms) of `repeat` fresh loads of one page."""
    runs = []
    for _ in range(repeat):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.add_init_script(OBSERVER)
        page.goto(path.resolve().as_uri(), wait_until="load", timeout=120_000)
        page.wait_for_function(ALL_DRAWN, timeout=120_000)
        runs.append(page.evaluate(TIMES))
        page.close()

    def med(key: str) -> float | None:
        vals = [r[key] for r in runs if r[key] is not None]
        return statistics.median(vals) if vals else None

    return {"fcp": med("fcp"), "load": med("load"), "charts": med("charts"), "n": runs[0]["n"]}


def _ms(v: float | None) -> str:
    return "–" if v is None else f"{v:,.0f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--after", required=True, help="a month folder of rendered reports (outputs/YYYY-MM)")
    ap.add_argument("--before", default=None, help="the same month rendered by the older version")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()

    from playwright.sync_api import sync_playwright

    from reportlib.delivery.pdf import find_chromium

    exe = find_chromium()
    if exe is None:
        print("no Chromium found (apt-get install chromium)", file=sys.stderr)
        return 1
    after = Path(a.after)
    before = Path(a.before) if a.before else None
    names = sorted(p.name for p in after.glob("*.html") if p.name != "index.html")
    rows = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=exe, args=["--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND"]
        )
        try:
            for name in names:
                row = {"name": name, "after_bytes": (after / name).stat().st_size}
                row["after"] = measure(browser, after / name, a.repeat)
                if before is not None and (before / name).exists():
                    row["before_bytes"] = (before / name).stat().st_size
                    row["before"] = measure(browser, before / name, a.repeat)
                rows.append(row)
                b = row.get("before") or {}
                print(
                    f"{name:45s} {row.get('before_bytes', 0) / 1e6:5.2f} -> {row['after_bytes'] / 1e6:5.2f} MB  "
                    f"first paint {_ms(b.get('fcp'))} -> {_ms(row['after']['fcp'])} ms  "
                    f"charts drawn {_ms(b.get('charts'))} -> {_ms(row['after']['charts'])} ms "
                    f"({row['after']['n']} charts)",
                    flush=True,
                )
        finally:
            browser.close()
    print(f"\n{len(rows)} pages, load average {os.getloadavg()[0]:.1f}; median over pages:")
    for key, label in (("fcp", "first contentful paint"), ("load", "load event"), ("charts", "last chart drawn")):
        aft = [r["after"][key] for r in rows if r["after"][key] is not None]
        line = f"  {label:24s} after {statistics.median(aft):7,.0f} ms" if aft else f"  {label}: –"
        pairs = [(r["before"][key], r["after"][key]) for r in rows if r.get("before") and r["before"][key]]
        if pairs:
            bef = statistics.median(p[0] for p in pairs)
            ratio = statistics.median(p[1] / p[0] for p in pairs if p[1] is not None)
            line += f"   before {bef:7,.0f} ms   after / before {ratio:.2f}"
        print(line)
    sizes = [r["after_bytes"] for r in rows]
    print(f"  page size: largest {max(sizes) / 1e6:.2f} MB, smallest {min(sizes) / 1e6:.2f} MB (goal < 2 MB each)")
    if any("before_bytes" in r for r in rows):
        print(f"  before: largest {max(r.get('before_bytes', 0) for r in rows) / 1e6:.2f} MB")
    return 0 if max(sizes) < 2_000_000 else 1


if __name__ == "__main__":
    sys.exit(main())
