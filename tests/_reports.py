"""Render every report notebook once per test session, for test_notebooks, test_browser and test_privacy.

Two data sources: a small sample operation (4 months, 30 agents, 6 clients) with HTML and
`</script>` planted in agent names, a client name, contact reasons and termination reasons; and the
real bank data (imported from january.txt; skipped when ../shared/data is absent). Notebooks run
in two worker processes with papermill (IPC kernels) and are rendered with render.render_html.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

SAMPLE_MONTH = "2025-04"
BANK_MONTH = "1999-01"
INTERVALS_MONTH = "1999-03"
INTERVAL_NOTEBOOKS = ("monthly_pack", "sla", "team_performance", "forecast")
NOTEBOOKS = ("monthly_pack", "sla", "team_performance", "attrition", "forecast", "explore")
MARKUP_CLIENT = "C001"
PLAIN_CLIENT = "C002"

# Markup that must stay inert text wherever it is shown.
EVIL_NAMES = [
    'Zed <img src=x onerror="window.__pwned=1">Quill',
    "Yan </script><script>window.__pwned=2</script>Vole",
    'Xia <b onmouseover="window.__pwned=3">Bold</b> Wren',
]
EVIL_CLIENT = (
    'Acme <img src=x onerror="window.__pwned=4"> & </script> Benefits\u202egnp.exe\u2028Bcc: x'  # bidi, a new line
)
EVIL_REASONS = ['Card <img src=x onerror="window.__pwned=5">', "Import </script><script>window.__pwned=6</script>"]
EVIL_TERMINATION = '<img src=x onerror="window.__pwned=7">Relocation'

_STATE: dict = {}


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def make_sample(folder: Path) -> Path:
    """The small sample operation with markup planted in names and reasons."""
    from reportlib.planning.sample import sample_data

    sample_data(folder, seed=11, start="2025-01", months=4, agents=30, clients=6)
    agents = _csv(folder / "agents.csv")
    plain = agents.index[agents["role"] == "agent"][:3]
    agents.loc[plain, "name"] = EVIL_NAMES
    leavers = agents.index[agents["termination_date"] != ""]
    if len(leavers):
        agents.loc[leavers[0], "termination_reason"] = EVIL_TERMINATION
    agents.to_csv(folder / "agents.csv", index=False)
    clients = _csv(folder / "clients.csv")
    clients.loc[clients["client_id"] == MARKUP_CLIENT, "client_name"] = EVIL_CLIENT
    clients.to_csv(folder / "clients.csv", index=False)
    contacts = _csv(folder / "contacts.csv")
    for i, reason in enumerate(EVIL_REASONS):
        contacts.loc[contacts.index[i::40], "reason"] = reason
    contacts.to_csv(folder / "contacts.csv", index=False)
    return folder


def make_bank(folder: Path) -> Path | None:
    """The bank's January 1999 calls in the contract, or None when the shared data is absent."""
    from conftest import SHARED

    src = SHARED / "anonbank-1999-calls" / "january.txt"
    if not src.exists():
        return None
    from reportlib.data.import_bank import import_bank

    import_bank([src], folder)
    return folder


def make_intervals_only(folder: Path) -> Path | None:
    """The bank's 6-minute arrivals alone (an intervals-only source: no contacts, no roster), or None."""
    from conftest import SHARED

    src = SHARED / "anonbank-1999-6min" / "Callcenter_6min_1999.csv.gz"
    if not src.exists():
        return None
    from reportlib.data.import_bank import import_bank

    import_bank([src], folder)
    return folder


def _run(job: dict) -> dict:
    """Execute and render one notebook (in a worker process)."""
    from reportlib.delivery import run
    from reportlib.reports import render

    t0 = time.perf_counter()
    out = dict(job, status="failed", error=None)
    try:
        run.execute(job["notebook"], job["ipynb"], job["parameters"], timeout=300)
        html = render.render_html(Path(job["ipynb"]), job["title"])
        Path(job["html"]).write_text(html, encoding="utf-8")
        out["status"] = "ok"
    except Exception as exc:  # noqa: BLE001 - the test reports it
        out["error"] = f"{type(exc).__name__}: {exc}"[-4000:] + "\n" + traceback.format_exc()[-2000:]
    out["seconds"] = time.perf_counter() - t0
    return out


def rendered() -> dict:
    """{key: job result} for every rendered report; computed once per session."""
    if "results" in _STATE:
        return _STATE["results"]
    root = Path(tempfile.mkdtemp(prefix="rl-reports-"))
    _STATE["root"] = root
    sample = make_sample(root / "sample")
    bank = make_bank(root / "bank")
    intervals = make_intervals_only(root / "intervals")
    jobs = []

    def add(key, notebook, data, month, client_id=None, params_file=None):
        jobs.append(
            {
                "key": key,
                "notebook": notebook,
                "title": key.replace("_", " "),
                "ipynb": str(root / "out" / f"{key}.ipynb"),
                "html": str(root / "out" / f"{key}.html"),
                "parameters": {
                    "month": month,
                    "data": str(data),
                    "client_id": client_id,
                    "params_file": params_file,
                    "team": None,
                },
                "source": {sample: "sample", bank: "bank", intervals: "intervals"}[data],
                "client_id": client_id,
            }
        )

    for name in NOTEBOOKS:
        add(f"sample_{name}", name, sample, SAMPLE_MONTH)
    for cid in (MARKUP_CLIENT, PLAIN_CLIENT):
        add(f"sample_client_review_{cid}", "client_review", sample, SAMPLE_MONTH, client_id=cid)
    if bank is not None:
        bank_params = str(bank / "params.yaml") if (bank / "params.yaml").exists() else None
        for name in NOTEBOOKS:
            add(f"bank_{name}", name, bank, BANK_MONTH, params_file=bank_params)
        add(
            "bank_client_review_ANONBANK",
            "client_review",
            bank,
            BANK_MONTH,
            client_id="ANONBANK",
            params_file=bank_params,
        )
    if intervals is not None:
        iv_params = str(intervals / "params.yaml") if (intervals / "params.yaml").exists() else None
        for name in INTERVAL_NOTEBOOKS:
            add(f"intervals_{name}", name, intervals, INTERVALS_MONTH, params_file=iv_params)
    (root / "out").mkdir(parents=True, exist_ok=True)
    # the slow ones first so the two workers finish together
    order = {"forecast": 0, "monthly_pack": 1, "sla": 2}
    jobs.sort(key=lambda j: order.get(j["notebook"], 9))
    workers = max(1, min(2, os.cpu_count() or 1))
    with ProcessPoolExecutor(workers) as pool:
        results = list(pool.map(_run, jobs))
    _STATE["results"] = {r["key"]: r for r in results}
    _STATE["sample"], _STATE["bank"], _STATE["intervals"] = sample, bank, intervals
    return _STATE["results"]


def cleanup() -> None:
    """Remove the session's folder (called at interpreter exit)."""
    root = _STATE.get("root")
    if root and os.environ.get("REPORTLIB_KEEP_TEST_REPORTS") != "1":
        shutil.rmtree(root, ignore_errors=True)


import atexit  # noqa: E402

atexit.register(cleanup)


def without_plotly_js(page: str) -> str:
    """The page with the inlined plotly.js bundle cut out (its code holds URLs and arbitrary strings)."""
    start = page.find("* plotly.js v")
    if start < 0:
        return page
    open_tag = page.rindex("<script", 0, start)
    return page[:open_tag] + page[page.index("</script>", start) + len("</script>") :]
