"""Every report notebook runs under papermill on the sample operation and on the bank data, and renders.

Runs the notebooks once per session (tests/_reports.py); the browser and privacy tests reuse the pages.
"""

from __future__ import annotations

import re

import _reports
import nbformat
import pytest

from reportlib.delivery import run
from reportlib.reports import registry

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results():
    return _reports.rendered()


def _keys(source):
    names = list(_reports.NOTEBOOKS)
    keys = [f"{source}_{n}" for n in names]
    if source == "sample":
        keys += [f"sample_client_review_{c}" for c in (_reports.MARKUP_CLIENT, _reports.PLAIN_CLIENT)]
    else:
        keys += ["bank_client_review_ANONBANK"]
    return keys


@pytest.mark.parametrize("key", _keys("sample"))
def test_runs_on_the_sample(results, key):
    r = results[key]
    assert r["status"] == "ok", r["error"]


@pytest.mark.shared_data
@pytest.mark.parametrize("key", _keys("bank"))
def test_runs_on_the_bank_data(results, key):
    if key not in results:
        from conftest import shared_path

        shared_path("anonbank-1999-calls", "january.txt")  # skips (or fails under REPORTLIB_REQUIRE_SHARED=1)
    r = results[key]
    assert r["status"] == "ok", r["error"]


@pytest.mark.shared_data
@pytest.mark.parametrize("name", _reports.INTERVAL_NOTEBOOKS)
def test_runs_on_an_intervals_only_source(results, name):
    key = f"intervals_{name}"
    if key not in results:
        from conftest import shared_path

        shared_path("anonbank-1999-6min", "Callcenter_6min_1999.csv.gz")
    r = results[key]
    assert r["status"] == "ok", r["error"]


def _page(results, key):
    r = results.get(key)
    if r is None or r["status"] != "ok":
        pytest.skip(f"{key} did not render")
    with open(r["html"], encoding="utf-8") as fh:
        return fh.read()


def test_bank_reports_say_what_the_data_lacks(results):
    """The bank data has no roster history, no activity and no QA: the reports say so instead of failing."""
    page = _page(results, "bank_attrition")
    assert "has hire dates but no termination date and no FTE in any row" in page  # queries.roster_history_note
    team = _page(results, "bank_team_performance")
    assert "Not available from this data" in team or "rl-missing" in team
    pack = _page(results, "bank_monthly_pack")
    assert "agent activity (agent_activity table)" in pack
    team = _page(results, "intervals_team_performance")
    assert "cannot be shown without the contact records (contacts table)" in team
    assert "Agent scorecards" not in team  # sections with nothing to show are left out
    fc = _page(results, "intervals_forecast")
    assert "no handle times" in fc


def test_monthly_pack_first_screen(results):
    page = _page(results, "sample_monthly_pack")
    main = page.split('<main class="rl-main">', 1)[1]
    first = main.split('<h2 id="Service"', 1)[0]
    tiles = re.findall(r'class="rl-tile rl-(green|amber|red|none)"', first)
    assert 6 <= len(tiles) <= 8
    assert first.count("vs Mar 2025") >= 6  # change vs last month on the tiles
    assert "rl-commentary" in first and "<li>" in first
    for section in ("Service", "Clients and contracts", "Quality", "Workforce", "People", "Cost"):
        assert f">{section}<" in page or f">{section}<a" in page, section
    assert "Labor cost per handled contact" in page and "Labor cost vs budget" in page


def test_forecast_has_a_scenario_selector(results):
    page = _page(results, "sample_forecast")
    assert '"updatemenus"' in page
    assert "Erlang A" in page and "Erlang C" in page and "simulation" in page
    assert "widget-view" not in page


def test_stored_notebooks_have_no_outputs_and_a_parameters_cell():
    for name in registry.TITLES:
        nb = nbformat.read(str(registry.notebook_path(name)), as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), name
        tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, name
        following = next(c for c in nb.cells[tagged[0] + 1 :] if c.cell_type == "code")
        assert "views.start_report(" in following.source, f"{name}: parameters are validated right after"


def test_bad_parameters_fail_clearly(tmp_path):
    import papermill as pm

    sample = _reports._STATE.get("sample")
    if sample is None:
        _reports.rendered()
        sample = _reports._STATE["sample"]
    with pytest.raises(pm.PapermillExecutionError, match="YYYY-MM"):
        run.execute("sla", tmp_path / "bad.ipynb", {"month": "March", "data": str(sample)}, timeout=120)
    with pytest.raises(pm.PapermillExecutionError, match="not in the clients table"):
        run.execute(
            "client_review",
            tmp_path / "bad2.ipynb",
            {"month": _reports.SAMPLE_MONTH, "data": str(sample), "client_id": "NOPE"},
            timeout=120,
        )
