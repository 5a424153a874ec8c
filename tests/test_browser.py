"""Every rendered report in headless Chromium with the network cut off.

Each page: every plotly figure draws, the console shows no error, nothing is fetched but the file
itself, the file is under 6 MB, and a screenshot of the first screen goes to tests/screenshots/
(git-ignored) for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import _reports
import pytest
from _chromium import FIGURE_PROBE, Chromium, require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
MAX_BYTES = 6 * 1024 * 1024
# reports whose page must hold at least one chart on each data source
CHARTED = {"monthly_pack", "sla", "team_performance", "attrition", "forecast", "client_review"}
NO_CHARTS = {"bank_attrition", "intervals_team_performance"}  # nothing to chart: the page says so instead


@pytest.fixture(scope="module")
def browser():
    exe = require_chromium()
    with Chromium(exe) as b:
        yield b


@pytest.fixture(scope="module")
def pages():
    return {k: r for k, r in _reports.rendered().items() if r["status"] == "ok"}


def _all_keys():
    keys = [f"sample_{n}" for n in _reports.NOTEBOOKS]
    keys += [f"sample_client_review_{c}" for c in (_reports.MARKUP_CLIENT, _reports.PLAIN_CLIENT)]
    keys += [f"bank_{n}" for n in _reports.NOTEBOOKS] + ["bank_client_review_ANONBANK"]
    keys += [f"intervals_{n}" for n in _reports.INTERVAL_NOTEBOOKS]
    return keys


def open_page(browser, path: str):
    page = browser.open(Path(path).resolve().as_uri(), timeout=60)
    page.wait_for("document.querySelectorAll('.rl-plot:not([data-rl-drawn])').length === 0", timeout=60)
    return page


@pytest.mark.parametrize("key", _all_keys())
def test_page_in_browser(browser, pages, key):
    if key not in pages:
        pytest.skip(f"{key} was not rendered (see test_notebooks)")
    path = pages[key]["html"]
    size = os.path.getsize(path)
    assert size < MAX_BYTES, f"{key}: {size / 1e6:.2f} MB"
    page = open_page(browser, path)
    try:
        probe = page.eval(FIGURE_PROBE)
        assert probe["plotly"], "plotly.js did not load"
        assert probe["failed"] == [] and probe["pending"] == [], probe
        assert probe["declared"] == probe["plots"] == probe["drawn"], probe
        report = key.split("_", 1)[1]
        report = "client_review" if report.startswith("client_review") else report
        if report in CHARTED and key not in NO_CHARTS:
            assert probe["drawn"] > 0, f"{key} drew no chart"
        # every trace's SVG is really there: count plotted trace groups
        traces = page.eval("document.querySelectorAll('.rl-plot .trace, .rl-plot .hm, .rl-plot image').length")
        assert probe["drawn"] == 0 or traces > 0
        errors = page.console_errors()
        assert errors == [], errors
        fetched = [u for u in page.requests() if not u.startswith(("file:", "data:", "blob:", "about:"))]
        assert fetched == [], fetched
        assert page.eval("document.querySelector('nav.rl-toc') !== null")
        assert page.eval("document.querySelector('footer.rl-footer #run-facts') !== null")
        page.screenshot(SCREENSHOTS / f"{key}.png")
    finally:
        page.close()


def test_scenario_selector_switches_in_the_page(browser, pages):
    """The forecast's plotly dropdown works with no kernel: choosing a scenario changes the visible trace."""
    if "sample_forecast" not in pages:
        pytest.skip("forecast not rendered")
    page = open_page(browser, pages["sample_forecast"]["html"])
    try:
        js = """(async () => {
          const el = Array.from(document.querySelectorAll('.rl-plot')).find(e => e.layout && e.layout.updatemenus);
          if (!el) return null;
          const before = el.data.map(t => t.visible);
          const step = el.layout.updatemenus[0].buttons[1];
          await Plotly.update(el, step.args[0]);
          const after = el.data.map(t => t.visible);
          return {before, after, buttons: el.layout.updatemenus[0].buttons.length};
        })()"""
        res = page.eval(js)
        assert res is not None, "no scenario selector found"
        assert res["buttons"] >= 3
        assert res["before"] != res["after"]
        assert page.console_errors() == []
    finally:
        page.close()
