"""One sample month rendered from a folder, DuckDB, PostgreSQL and Spark: the same numbers in every report.

The sample (`reportlib sample-data --months 3 --agents 40 --clients 10`) is rendered with
`reportlib run` from the folder, then the same tables are stored in a DuckDB file, a PostgreSQL
schema and Parquet folders read by Spark local (UTC instants in the last two), and rendered again.
Every number on every page — the text a reader sees and the figures' data — must match the
folder's, except the lines that describe the run itself (when it ran, how long it took, where the
data came from, its fingerprint). The CLI's kpis, attrition, forecast and validate commands are
checked on every source too. Slow: one Spark session per rendering worker.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from _engines import contract_tables, folder_frames, store_duckdb

pytestmark = pytest.mark.slow

TZ = "America/New_York"
MONTH = "2025-03"
CLIENTS = "C001,C002"
SOURCES = ("duckdb", "postgres", "spark")
ROOT = Path(__file__).resolve().parent.parent

# Lines that describe the run, not the data: skipped when comparing (matched on the visible text).
RUN_FACTS = re.compile(
    r"(generated|rendered|fingerprint|data source|data = |seconds|took|elapsed|version|timing|run at|duckdb|postgres"
    r"|spark|/tmp|^[0-9a-f]{16}$|^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d|^\d+(\.\d+)? s$)",
    re.I,
)
RUN_INDEX = "index.html"  # the run's own page: which reports rendered and how long each took
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?", re.I)


class _Page(HTMLParser):
    """Visible text lines and the figures' JSON of one rendered page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.figures: list[str] = []
        self._skip = 0
        self._figure = False
        self._buf: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("type") == "application/vnd.reportlib.plotly+json":
            self._figure, self._buf = True, []
        elif tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == "script" and self._figure:
            self.figures.append("".join(self._buf))
            self._figure = False
        elif tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if self._figure:
            self._buf.append(data)
        elif not self._skip and data.strip():
            self.text.append(" ".join(data.split()))


def _json_numbers(value, path="") -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    if isinstance(value, bool) or value is None:
        return out
    if isinstance(value, int | float):
        return [(path, float(value))]
    if isinstance(value, str):
        return [(path, float(n.replace(",", ""))) for n in NUMBER.findall(value)] if not RUN_FACTS.search(value) else []
    if isinstance(value, dict):
        for k, v in value.items():
            if k in ("uid", "template"):
                continue
            out += _json_numbers(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _json_numbers(v, f"{path}[{i}]")
    return out


def page_numbers(html: str) -> tuple[list[tuple[str, str]], list[tuple[str, float]]]:
    """(numbers in the visible text with their line, numbers in the figures' data with their path)."""
    p = _Page()
    p.feed(html)
    text = [(line, n) for line in p.text if not RUN_FACTS.search(line) for n in NUMBER.findall(line)]
    figs: list[tuple[str, float]] = []
    for i, raw in enumerate(p.figures):
        figs += _json_numbers(json.loads(raw), f"fig{i}")
    return text, figs


def _env() -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore")
    env.pop("PGPASSWORD", None)
    return env


def _cli(*args: str, timeout: float = 1500) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reportlib", *args], capture_output=True, text=True, timeout=timeout, env=_env()
    )


@pytest.fixture(scope="module")
def sources(tmp_path_factory, request) -> dict[str, str]:
    """{kind: --data} for the sample in a folder, DuckDB, PostgreSQL and Spark (Parquet folders)."""
    import pyarrow.parquet as pq

    from reportlib.planning.sample import sample_data

    root = tmp_path_factory.mktemp("engine-reports")
    folder = root / "sample"
    sample_data(folder, seed=5, start="2025-01", months=3, agents=40, clients=10)
    frames = folder_frames(folder, TZ)
    out = {"folder": str(folder)}
    naive = contract_tables(frames, TZ, instants=False)
    out["duckdb"] = store_duckdb(root / "sample.duckdb", naive)
    instants = contract_tables(frames, TZ, instants=True)
    pg = request.getfixturevalue("pg_server")
    import ibis

    pcon = ibis.connect(pg.url.replace("postgres://", "postgresql://", 1))
    pcon.create_database("sample")
    for name, t in instants.items():
        pcon.create_table(name, t, database="sample")
    pcon.disconnect()
    out["postgres"] = f"{pg.url}?schema=sample"
    request.getfixturevalue("spark_session")  # skips (or fails in CI) when Spark cannot run here
    lake = root / "lake"
    for name, t in instants.items():
        (lake / name).mkdir(parents=True)
        pq.write_table(t, lake / name / "part-0.parquet")
    out["spark"] = f"spark://local[2]?path={lake}&format=parquet"
    return out


@pytest.fixture(scope="module")
def rendered(sources, tmp_path_factory) -> dict[str, Path]:
    """{kind: folder of the month's rendered pages}, rendered one source at a time (one worker each)."""
    out = {}
    for kind, data in sources.items():
        dest = tmp_path_factory.mktemp(f"out-{kind}")
        r = _cli("run", "--month", MONTH, "--data", data, "--clients", CLIENTS, "--out", str(dest), "--workers", "1")
        assert r.returncode == 0, f"{kind}: {r.stderr[-3000:]}"
        out[kind] = dest / MONTH
    return out


@pytest.mark.parametrize("kind", SOURCES)
def test_same_numbers_in_every_report(rendered, kind):
    base = sorted(p.name for p in rendered["folder"].glob("*.html"))
    assert len(base) >= 8, base  # five reports, two client reviews and the run's index
    assert sorted(p.name for p in rendered[kind].glob("*.html")) == base
    for name in base:
        if name == RUN_INDEX:
            continue
        want_text, want_figs = page_numbers((rendered["folder"] / name).read_text(encoding="utf-8"))
        got_text, got_figs = page_numbers((rendered[kind] / name).read_text(encoding="utf-8"))
        assert len(want_text) > 20, f"{name}: too few numbers to compare"
        assert [n for _, n in got_text] == [n for _, n in want_text], f"{name} ({kind}): first difference " + next(
            (f"{g} vs {w}" for g, w in zip(got_text, want_text) if g != w), "in length"
        )
        assert [p for p, _ in got_figs] == [p for p, _ in want_figs], f"{name} ({kind}): figures differ in shape"
        for (path, g), (_, w) in zip(got_figs, want_figs):
            assert math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-9), f"{name} ({kind}) {path}: {g} vs {w}"


_FOLDER_OUTPUT: dict[tuple, subprocess.CompletedProcess] = {}


@pytest.mark.parametrize("kind", SOURCES)
def test_commands_on_every_source(sources, kind):
    """kpis, attrition, forecast and validate print the folder's figures from every source."""
    for args in (["kpis", "--month", MONTH, "--by", "client_id"], ["attrition", "--month", MONTH], ["forecast"]):
        key = tuple(args)
        if key not in _FOLDER_OUTPUT:
            _FOLDER_OUTPUT[key] = _cli(*args, "--data", sources["folder"])
        want = _FOLDER_OUTPUT[key]
        got = _cli(*args, "--data", sources[kind])
        assert want.returncode == 0, want.stderr[-2000:]
        assert got.returncode == 0, f"{args[0]} on {kind}: {got.stderr[-2000:]}"
        assert got.stdout == want.stdout, f"{args[0]} on {kind} differs"
    v = _cli("validate", "--data", sources[kind])
    assert v.returncode == 0 and "valid" in (v.stdout + v.stderr), v.stderr[-2000:]
