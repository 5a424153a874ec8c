"""JupyterLab theme switch and window resize keep the charts of a report notebook drawn.

Charts reach JupyterLab as plotly's mime type (views.figure_bundle), drawn by plotly's own renderer into an
output node of no set height. With plotly's "responsive" config such a chart took 100% of that node's height
after a redraw, which a switch to JupyterLab Dark triggers: every chart went to 0 px high and stayed gone.
This runs monthly_pack in Lab (the server and browser of test_lab_browser, with its skips), switches the
theme to Dark, narrows the window, and checks every chart keeps its height and fits the new width.
"""

from __future__ import annotations

import re

import pytest
import test_lab_browser as lab_browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# the JupyterLab server (a temporary copy of the notebooks and a small sample) and Chromium of
# test_lab_browser; skips the same way when Chromium, playwright or JupyterLab is missing
lab = lab_browser.lab
browser = lab_browser.browser

PLOTS = """() => Array.from(document.querySelectorAll('.jp-OutputArea .js-plotly-plot')).map(p => {
    const svg = p.querySelector('.main-svg');
    const box = p.getBoundingClientRect();
    return {title: ((p.querySelector('.gtitle') || {}).textContent || '').slice(0, 40),
            height: Math.round(box.height), width: Math.round(box.width),
            svg_height: svg ? Math.round(svg.getBoundingClientRect().height) : 0,
            svg_width: svg ? Math.round(svg.getBoundingClientRect().width) : 0};
})"""


def _theme(page, name: str) -> None:
    """Settings > Theme > `name`, as a person does, then until Lab says the theme is applied."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Settings$")).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Theme$")).first.hover()
    page.wait_for_timeout(500)
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{name}$")).first.click()
    page.wait_for_function("n => document.body.dataset.jpThemeName === n", arg=name, timeout=30_000)
    page.wait_for_timeout(4000)  # Lab redraws the outputs after the theme's CSS has loaded


def _assert_drawn(plots: list[dict], when: str) -> None:
    assert len(plots) >= 3, (when, plots)
    for p in plots:
        # drawn (an svg of the figure's height) and not collapsed: the output shows the whole chart
        assert p["svg_height"] >= 200, (when, p)
        assert p["height"] >= p["svg_height"] - 2, (when, p)
        assert p["svg_width"] <= p["width"] + 2, (when, p)  # fits the output area, no overflow


def test_charts_survive_dark_theme_and_resize(lab, browser):
    lab_browser.SHOTS.mkdir(parents=True, exist_ok=True)
    page = lab_browser._open(browser, lab, "monthly_pack")
    try:
        lab_browser._run_all(page)
        page.wait_for_function(
            """() => document.body.innerText.includes('Run facts') || document.querySelector(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')""",
            timeout=150_000,
        )
        lab_browser._wait_done(page, 60_000)
        page.wait_for_timeout(1500)
        assert not lab_browser._errors(page), lab_browser._errors(page)
        light = page.evaluate(PLOTS)
        _assert_drawn(light, "light")

        _theme(page, "JupyterLab Dark")
        dark = page.evaluate(PLOTS)
        _assert_drawn(dark, "after switching to JupyterLab Dark")
        page.screenshot(path=str(lab_browser.SHOTS / "monthly_pack-dark.png"), full_page=False)

        page.set_viewport_size({"width": 1000, "height": 1000})
        page.wait_for_timeout(3000)
        narrow = page.evaluate(PLOTS)
        _assert_drawn(narrow, "dark, window narrowed")
        assert all(n["width"] < d["width"] - 100 for n, d in zip(narrow, dark)), (dark, narrow)

        _theme(page, "JupyterLab Light")
        _assert_drawn(page.evaluate(PLOTS), "back to JupyterLab Light")
    finally:
        page.close()
        lab_browser._shutdown_kernels(lab)
