"""Lighter pages: every report page inlines the vendored partial plotly.js bundle (templates/plotly) and stays
under 2 MB, and every chart the reports draw renders with that bundle in Chromium.

The pages are the ones tests/_reports.py renders once per session (every report notebook on the small sample,
the bank data and the interval-only data). A chart of a trace type the bundle lacks fails loudly: the page's
script marks it failed with a console error (report.js), and the trace-type check below names the type.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import _reports
import pytest
from _chromium import FIGURE_PROBE, Chromium, require_chromium

from reportlib.reports import render

MAX_PAGE_BYTES = 2_000_000
TEMPLATE_JS = Path(render.TEMPLATES) / render.TEMPLATE_NAME / "report.js"


@pytest.fixture(scope="module")
def pages():
    return {k: r for k, r in _reports.rendered().items() if r["status"] == "ok"}


@pytest.fixture(scope="module")
def browser():
    exe = require_chromium()
    with Chromium(exe) as b:
        yield b


def test_partial_bundle_is_the_plotly_js_the_installed_plotly_writes_for():
    from plotly.offline import get_plotlyjs_version

    head = render.PARTIAL_BUNDLE.read_text(encoding="utf-8")[:300]
    assert f"* plotly.js v{get_plotlyjs_version()} (reportlib partial bundle" in head
    assert render.partial_bundle_usable()
    assert len(render.plotly_js(partial=True)) < 0.3 * len(render.plotly_js())  # 1.2 MB of 4.8 MB
    assert (render.PLOTLY_DIR / "LICENSE.plotly.txt").read_text().startswith("MIT License")


def test_bundle_choice_follows_the_page_trace_types():
    assert render.page_plotly_js({"scatter", "bar", "heatmap", "box", "waterfall"}) == render.plotly_js(partial=True)
    assert render.page_plotly_js(set()) == render.plotly_js(partial=True)
    assert render.page_plotly_js({"bar", "pie"}) == render.plotly_js()  # not in the bundle: the full one
    assert render.page_plotly_js({"?"}) == render.plotly_js()
    markup = (
        '<script data-target="a" type="application/vnd.reportlib.plotly+json">{"data":[{"type":"bar"},{}]}</script>'
        '<script type="application/vnd.reportlib.plotly+json" data-target="b">{"data":[{"type":"waterfall"}]}</script>'
    )
    assert render.figure_trace_types(markup) == {"bar", "scatter", "waterfall"}


def test_every_report_page_is_under_2_mb_with_the_partial_bundle(pages):
    if not pages:
        pytest.skip("no report was rendered (see test_notebooks)")
    for key, r in pages.items():
        page = Path(r["html"]).read_text(encoding="utf-8")
        size = len(page.encode("utf-8"))
        assert size < MAX_PAGE_BYTES, f"{key}: {size / 1e6:.2f} MB"
        assert page.count("* plotly.js v") == 1, key
        assert "(reportlib partial bundle" in page, f"{key} did not get the partial bundle"


def _figure_blocks(pages) -> list[str]:
    blocks = []
    for r in pages.values():
        page = Path(r["html"]).read_text(encoding="utf-8")
        blocks += re.findall(r"<script\b[^>]*application/vnd\.reportlib\.plotly\+json[^>]*>(.*?)</script>", page, re.S)
    return blocks


def _gallery(path: Path, blocks: list[str], bundle: str) -> Path:
    """One page holding the given figure blocks, the given plotly.js and the reports' page script."""
    figs = "".join(
        f'<div class="rl-plot" id="f{i}" style="height:380px"></div>'
        f'<script type="application/vnd.reportlib.plotly+json" data-target="f{i}">{b}</script>'
        for i, b in enumerate(blocks)
    )
    path.write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{figs}"
        f"<script>{bundle}</script><script>{TEMPLATE_JS.read_text()}</script></body></html>",
        encoding="utf-8",
    )
    return path


def test_every_chart_the_reports_draw_renders_with_the_partial_bundle(pages, browser, tmp_path):
    blocks = _figure_blocks(pages)
    if not blocks:
        pytest.skip("no report was rendered (see test_notebooks)")
    types = set()
    for b in blocks:
        types |= {t.get("type") or "scatter" for t in json.loads(b).get("data") or []}
    assert types <= render.BUNDLE_TRACES, f"trace types missing from the partial bundle: {types - render.BUNDLE_TRACES}"
    assert {"scatter", "bar", "heatmap", "box", "waterfall"} <= types  # the test data exercises every one
    page = browser.open(_gallery(tmp_path / "all.html", blocks, render.plotly_js(partial=True)).as_uri(), timeout=120)
    try:
        page.wait_for("document.querySelectorAll('.rl-plot:not([data-rl-drawn])').length === 0", timeout=120)
        probe = page.eval(FIGURE_PROBE)
        assert probe["plotly"] == "4.1.1" or probe["plotly"]
        assert probe["failed"] == [] and probe["pending"] == [], probe
        assert probe["declared"] == probe["plots"] == probe["drawn"] == len(blocks), probe
        assert page.console_errors() == []
        # every figure with points to show has its traces in the SVG (bars, lines, heatmap images, boxes)
        empty = page.eval(
            """Array.from(document.querySelectorAll('.rl-plot')).filter(el => {
                 const shown = (el._fullData || []).filter(t => t.visible === true && ['x', 'y', 'z']
                   .some(k => Array.isArray(t[k]) && t[k].some(v => v !== null && v !== undefined)));
                 return shown.length > 0 && el.querySelectorAll('.trace, .hm, image').length === 0;
               }).map(el => el.id + ': ' + el._fullData.map(t => t.type).join(','))"""
        )
        assert empty == []
    finally:
        page.close()


def test_a_trace_type_missing_from_the_bundle_fails_loudly(browser, tmp_path):
    pie = json.dumps({"data": [{"type": "pie", "values": [1, 2]}], "layout": {}})
    bar = json.dumps({"data": [{"type": "bar", "x": [1], "y": [2]}], "layout": {}})
    page = browser.open(_gallery(tmp_path / "pie.html", [bar, pie], render.plotly_js(partial=True)).as_uri())
    try:
        page.wait_for("document.querySelectorAll('.rl-plot:not([data-rl-drawn])').length === 0")
        probe = page.eval(FIGURE_PROBE)
        assert probe["failed"] == ["f1"] and probe["drawn"] == 1, probe
        errors = page.console_errors()
        assert any("trace type pie is not in this page's plotly.js" in e for e in errors), errors
    finally:
        page.close()
