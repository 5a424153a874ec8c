"""Value-axis labels, the partial-month shade and the Pareto chart, as a reader sees them.

The first tests read the figures plotly is handed; the browser tests draw them with the report pages' plotly.js
bundle in Chromium and read the tick labels and axis ranges plotly chose.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from _chromium import Chromium, require_chromium

from reportlib.reports import charts, render

UNITS = ["share", "percent", "seconds", "count", "currency", "number", "fte"]
MONTHS = [f"2026-{m:02d}" for m in range(1, 12)]  # Jan..Nov 2026: Feb (28 days) is the shortest spacing


def _stop_format(stops: list[dict], dtick: float) -> str:
    """The format plotly picks for a tick step: the first stop whose dtickrange (bounds inclusive) holds it."""
    for s in stops:
        lo, hi = s["dtickrange"]
        if (lo is None or lo <= dtick) and (hi is None or dtick <= hi):
            return s["value"]
    raise AssertionError(f"no stop for {dtick}")


def _d3(fmt: str, v: float) -> str:
    """d3-format for the formats tick_format writes (',.1f', ',.0f', '.1%'): Python's spec reads the same."""
    return format(v, fmt)


def _labels(unit: str, start: float, step: float, n: int, currency: str = "$") -> list[str]:
    """The labels of ticks start, start + step, ... on a chart's value axis in `unit`: its format for that step,
    with its prefix and suffix (' FTE' and ' s' apart, to keep the lists short)."""
    axis = charts.line_chart(_frame(), "month", "v", unit=unit, currency=currency).layout.yaxis
    stops = [s.to_plotly_json() for s in axis.tickformatstops]
    return [(axis.tickprefix or "") + _d3(_stop_format(stops, step), start + i * step) for i in range(n)]


def test_currency_ticks_on_a_narrow_range_read_apart():
    # the monthly pack's cost per contact, $13.2..$14.4: plotly ticks it every $0.2; the old '$,.0f' read
    # $13 $13 $14 $14 $14 $14 $14 (13.4 and 13.6 alike, 13.6..14.4 alike)
    assert _labels("currency", 13.2, 0.2, 7) == ["$13.2", "$13.4", "$13.6", "$13.8", "$14.0", "$14.2", "$14.4"]
    assert _labels("currency", 0, 2000, 3) == ["$0", "$2,000", "$4,000"]  # no needless cents on a wide range
    assert _labels("currency", 12.05, 0.05, 3) == ["$12.05", "$12.10", "$12.15"]
    # the report's currency, not d3's '$' (which printed "$780,000" on a pack set to "€")
    assert _labels("currency", 0, 2000, 2, currency="€") == ["€0", "€2,000"]
    hover = charts.bar_chart(_frame(), "month", "v", unit="currency", currency="£").data[0].hovertemplate
    assert "£%{y:,.2f}" in hover and "$" not in hover


def test_fte_and_share_ticks_have_the_decimals_their_step_needs():
    assert _labels("fte", 200, 20, 2) == ["200", "220"]  # the old ',.1f' read '220.0' (suffix ' FTE' apart)
    assert _labels("fte", 10, 0.5, 3) == ["10.0", "10.5", "11.0"]
    assert _labels("share", 0.8, 0.05, 3) == ["80%", "85%", "90%"]
    assert _labels("share", 0.8, 0.002, 3) == ["80.0%", "80.2%", "80.4%"]  # '.0%' read 80% 80% 80%
    assert _labels("seconds", 20, 0.1, 2) == ["20.0", "20.1"]


@pytest.mark.parametrize("unit", UNITS)
def test_no_plotly_step_gives_two_adjacent_ticks_one_label(unit):
    # plotly's automatic steps are 1, 2 or 5 x 10^n; from 10^-4 (as read) to 10^5, three ticks from an odd start
    scale = 100.0 if unit in ("share", "percent") else 1.0
    for exp in range(-4, 6):
        for base in (1, 2, 5):
            step = base * 10.0**exp / scale
            labels = _labels(unit, 7 * step + 3 * step, step, 3)
            assert len(set(labels)) == 3, (unit, step, labels)
    fig = charts.line_chart(pd.DataFrame({"month": MONTHS, "v": range(11)}), "month", "v", unit=unit)
    assert fig.layout.yaxis.tickformatstops  # the chart carries them


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"month": MONTHS, "v": [13.2, 13.5, 13.9, 14.1, 13.6, 13.3, 13.8, 14.4, 13.1, 13.7, 14.2]})


def test_partial_shade_on_a_line_chart_stops_at_the_last_point():
    fig = charts.mark_partial(charts.line_chart(_frame(), "month", "v", unit="currency"), "2026-11", "partial")
    rect = fig.layout.shapes[-1]
    nov = pd.Timestamp("2026-11-01")
    # half a month (14 days) before the last point, nothing after it: the old shade reached Nov 15
    assert (pd.Timestamp(rect.x0), pd.Timestamp(rect.x1)) == (nov - pd.Timedelta(days=14), nov)
    assert fig.layout.annotations[-1].xanchor == "right"  # the label reads inward from the last month
    mid = charts.mark_partial(charts.line_chart(_frame(), "month", "v"), "2026-06", "partial")
    assert mid.layout.annotations[-1].xanchor == "center"
    assert pd.Timestamp(mid.layout.shapes[-1].x1) == pd.Timestamp("2026-06-15")


def test_partial_shade_on_a_bar_chart_covers_the_whole_last_bar():
    fig = charts.mark_partial(charts.bar_chart(_frame(), "month", "v"), "2026-11", "partial")
    rect = fig.layout.shapes[-1]
    # bars are 28 days (the February spacing) x (1 - 0.2 bargap) = 22.4 days wide: 11.2 days each side of Nov 1
    assert pd.Timestamp(rect.x1) == pd.Timestamp("2026-11-01") + pd.Timedelta(days=11, hours=4, minutes=48)
    assert pd.Timestamp(rect.x0) == pd.Timestamp("2026-10-18")


def test_pareto_keeps_other_last_labelled_as_a_group_with_quarter_ticks():
    counts = pd.Series({"a": 50, "b": 30, "c": 20, "d": 19, "e": 18, "f": 17})
    fig = charts.pareto_chart(counts, top=2)
    bars, cum = fig.data
    assert list(bars.x) == ["a", "b", "Other (4 reasons)"] and list(bars.y) == [50, 30, 74]  # biggest, yet last
    assert list(bars.marker.color) == [charts.PALETTE[0], charts.PALETTE[0], charts.MUTED]
    y2 = fig.layout.yaxis2
    assert (y2.tickmode, y2.tick0, y2.dtick) == ("linear", 0, 0.25) and y2.range[1] > cum.y[-1] == 1.0
    assert cum.cliponaxis is False
    assert list(charts.pareto_chart(counts, top=5).data[0].x)[-1] == "Other (1 reason)"


# --- drawn by plotly.js ------------------------------------------------------------------------------------

DRAW = """(() => {
  const out = {};
  for (const el of document.querySelectorAll('.fig')) {
    const L = el._fullLayout, o = {};
    for (const k of Object.keys(L)) if (/^[xy]axis\\d*$/.test(k))
      o[k] = {range: L[k].range, ticks: (L[k]._vals || []).map(v => v.text)};
    out[el.id] = o;
  }
  return out;
})()"""


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    exe = require_chromium()
    df = _frame()
    wide = pd.DataFrame({"month": MONTHS, "v": [150.0 + 7 * i for i in range(11)]})
    figs = {
        "cost": charts.line_chart(df, "month", "v", unit="currency"),
        "cost_eur": charts.line_chart(df, "month", "v", unit="currency", currency="€"),
        "fte": charts.line_chart(wide, "month", "v", unit="fte"),
        "line": charts.line_chart(df, "month", "v"),
        "line_partial": charts.mark_partial(charts.line_chart(df, "month", "v"), "2026-11", "partial: 12 of 21 days"),
        "bar": charts.bar_chart(df, "month", "v"),
        "bar_partial": charts.mark_partial(charts.bar_chart(df, "month", "v"), "2026-11", "partial: 12 of 21 days"),
        "pareto": charts.pareto_chart(pd.Series({f"r{i}": 1000 // (i + 1) for i in range(14)}), top=10),
    }
    body = "".join(f'<div class="fig" id="{k}" style="width:900px;height:380px"></div>' for k in figs)
    draw = ",".join(f"((s) => Plotly.newPlot('{k}', s.data, s.layout))({f.to_json()})" for k, f in figs.items())
    page = tmp_path_factory.mktemp("ticks") / "ticks.html"
    js = Path(render.PARTIAL_BUNDLE).read_text(encoding="utf-8")
    done = "then(() => { window.done = 1; })"
    page.write_text(
        f"<html><body>{body}<script>{js}</script><script>Promise.all([{draw}]).{done};</script></body></html>"
    )
    with Chromium(exe) as b:
        p = b.open(page.as_uri())
        assert p.wait_for("window.done === 1"), p.console_errors()
        return p.eval(DRAW)


@pytest.mark.browser
@pytest.mark.slow
def test_drawn_value_axes_never_repeat_a_label(drawn):
    cost = drawn["cost"]["yaxis"]["ticks"]
    assert len(cost) >= 3 and all(a != b for a, b in zip(cost, cost[1:])), cost
    assert all(t.startswith("$") for t in cost)
    assert drawn["cost_eur"]["yaxis"]["ticks"] and all(t.startswith("€") for t in drawn["cost_eur"]["yaxis"]["ticks"])
    fte = drawn["fte"]["yaxis"]["ticks"]
    assert fte and all(t.endswith(" FTE") and ".0 " not in t for t in fte), fte


@pytest.mark.browser
@pytest.mark.slow
def test_drawn_partial_shade_leaves_the_month_axis_as_the_data_make_it(drawn):
    assert drawn["line_partial"]["xaxis"]["range"] == drawn["line"]["xaxis"]["range"]
    assert drawn["bar_partial"]["xaxis"]["range"] == drawn["bar"]["xaxis"]["range"]


@pytest.mark.browser
@pytest.mark.slow
def test_drawn_pareto_cumulative_axis(drawn):
    y2 = drawn["pareto"]["yaxis2"]
    assert y2["ticks"] == ["0%", "25%", "50%", "75%", "100%"] and y2["range"][1] > 1.0
