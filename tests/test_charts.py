"""Chart builders: one shared template, data labels escaped, gaps kept, scenario selectors wired right."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from reportlib.reports import charts, views


@pytest.fixture(autouse=True)
def no_show(monkeypatch):
    """Builders must never display anything themselves."""

    def boom(*a, **k):
        raise AssertionError("a chart builder called fig.show()")

    monkeypatch.setattr(go.Figure, "show", boom)


def _frame():
    return pd.DataFrame(
        {
            "month": ["2025-01", "2025-02", "2025-03", "2025-01", "2025-02", "2025-03"],
            "queue": ["Benefits"] * 3 + ["<b>Import</b> Files"] * 3,
            "sl": [0.81, np.nan, 0.77, 0.70, 0.72, 0.90],
        }
    )


def test_template_registered_and_used():
    assert charts.TEMPLATE_NAME in pio.templates
    fig = charts.line_chart(_frame(), "month", "sl", color="queue", unit="share")
    assert isinstance(fig, go.Figure)
    assert fig.layout.template.layout.font.family == charts.FONT
    assert list(fig.layout.template.layout.colorway) == charts.PALETTE


def test_a_figure_is_the_same_with_the_template_given_or_taken_as_the_default(monkeypatch):
    # _base leaves the template out when it is plotly's default (validated once, not per figure)
    monkeypatch.setattr(pio.templates, "default", "plotly")
    given = charts.line_chart(_frame(), "month", "sl", color="queue", unit="share", title="SL", target=0.8)
    monkeypatch.setattr(pio.templates, "default", charts.TEMPLATE_NAME)
    default = charts.line_chart(_frame(), "month", "sl", color="queue", unit="share", title="SL", target=0.8)
    assert given.to_plotly_json() == default.to_plotly_json()
    assert default.layout.template.layout.font.family == charts.FONT


@pytest.mark.parametrize("axis, helper, position", [("y", "add_hline", "top left"), ("x", "add_vline", "top right")])
def test_a_target_is_the_line_and_label_plotlys_own_helper_draws(axis, helper, position):
    ours = charts.add_target(go.Figure(), 0.8, "<b>Goal</b>", axis=axis)
    theirs = go.Figure()
    getattr(theirs, helper)(
        0.8,
        line=dict(color=charts.TARGET_COLOUR, dash="dash", width=1.5),
        annotation_text="&lt;b&gt;Goal&lt;/b&gt;",
        annotation_position=position,
        annotation_font=dict(color=charts.TARGET_COLOUR, size=11),
    )
    assert ours.to_plotly_json()["layout"] == theirs.to_plotly_json()["layout"]
    nothing = charts.add_target(go.Figure(), float("nan"), axis=axis)
    assert nothing.layout.shapes == () and nothing.layout.annotations == ()


def test_line_chart_groups_gaps_and_escaping():
    fig = charts.line_chart(_frame(), "month", "sl", color="queue", unit="share", target=0.8)
    names = [t.name for t in fig.data]
    assert names == ["&lt;b&gt;Import&lt;/b&gt; Files", "Benefits"] or names == [
        "Benefits",
        "&lt;b&gt;Import&lt;/b&gt; Files",
    ]
    bene = next(t for t in fig.data if t.name == "Benefits")
    assert bene.y[1] is None  # missing stays a gap, never a zero
    assert fig.layout.yaxis.tickformat == ".0%"
    assert any(s.y0 == 0.8 for s in fig.layout.shapes)  # the target line


def test_bar_chart_categories_escaped_and_horizontal_height():
    df = pd.DataFrame({"reason": ["<img src=x onerror=alert(1)>", "Card lost"], "n": [5, 3]})
    fig = charts.bar_chart(df, "reason", "n", horizontal=True, unit="count")
    assert "&lt;img src=x onerror=alert(1)&gt;" in fig.data[0].y
    assert not any("<img" in str(v) for v in fig.data[0].y)
    assert fig.data[0].orientation == "h"
    assert fig.layout.height >= 260


def test_a_placeholder_in_a_name_is_not_filled_in_by_plotly():
    """A probe's team "%{x} %{y} %{fullData.name}" showed the hovered point's values in its place in the hover label:
    a name from data has its "%{" written "%&#123;" (plotly shows "{"), as a line's and a bar's trace name."""
    df = pd.DataFrame({"month": ["2026-01", "2026-02"], "a": [1.0, 2.0]})
    fig = charts.line_chart(df, "month", ["a"], names={"a": "%{x} %{y}"})
    assert fig.data[0].name == "%&#123;x} %&#123;y}" and "%&#123;x} %&#123;y}:" in fig.data[0].hovertemplate
    assert fig.data[0].hovertemplate.count("%{") == 2  # the chart's own x and y
    assert charts.safe_text("50% {ok}") == "50% {ok}"
    # plotly writes its JSON in ASCII ("\\u202e"), which the browser turns back into the character: a bidirectional
    # control is a mark in a chart's labels too (a review's client name reversed an axis label)
    assert charts.safe_text("Evil\u202egnp.exe") == "Evil[U+202E]gnp.exe"


def test_bar_chart_rag_colours():
    df = pd.DataFrame({"client": ["A", "B"], "sl": [0.9, 0.5]})
    fig = charts.bar_chart(df, "client", "sl", colours=[charts.RAG_COLOURS["green"], charts.RAG_COLOURS["red"]])
    assert list(fig.data[0].marker.color) == [charts.RAG_COLOURS["green"], charts.RAG_COLOURS["red"]]


def test_heatmap_keeps_blank_cells():
    m = pd.DataFrame([[0.9, np.nan], [0.5, 0.7]], index=["Mon", "Tue"], columns=["08:00", "08:30"])
    fig = charts.heatmap(m, unit="share", zmin=0, zmax=1)
    z = fig.data[0].z
    assert z[0][1] is None and z[1][0] == 0.5
    assert list(fig.data[0].y) == ["Mon", "Tue"]


def test_heatmap_month_columns_read_like_the_month_axes():
    """The SLA client heatmap labels its months "Nov 2025", as every month axis does, in the matrix's order."""
    m = pd.DataFrame([[0.9, 0.8, 0.7]], index=["Acme"], columns=["2025-11", "2025-12", "2026-01"])
    assert list(charts.heatmap(m).data[0].x) == ["Nov 2025", "Dec 2025", "Jan 2026"]
    m.columns = pd.PeriodIndex(m.columns, freq="M")
    assert list(charts.heatmap(m).data[0].x) == ["Nov 2025", "Dec 2025", "Jan 2026"]
    other = pd.DataFrame([[0.9, 0.8]], index=["Mon"], columns=["08:00", "2025-13"])
    assert list(charts.heatmap(other).data[0].x) == ["08:00", "2025-13"]


def test_pareto_sorted_with_other_and_cumulative_to_one():
    counts = pd.Series({f"r{i}": i + 1 for i in range(15)})
    fig = charts.pareto_chart(counts, top=5)
    bars, cum = fig.data
    assert list(bars.y[:5]) == [15, 14, 13, 12, 11]
    assert bars.x[-1] == "Other (10 reasons)" and bars.y[-1] == sum(range(1, 11))
    assert cum.y[-1] == pytest.approx(1.0)
    assert all(a <= b + 1e-12 for a, b in zip(cum.y, cum.y[1:]))


def test_scenario_selector_shows_one_scenario_per_step():
    x = ["W1", "W2", "W3"]
    scen = {
        "Base": {"Erlang C": [10, 11, 12], "Erlang A": [9, 10, 11]},
        "AHT +10%": {"Erlang C": [11, 12, 13], "Erlang A": [10, 11, 12]},
        "SL 90%": {"Erlang C": [12, 13, 14], "Erlang A": [11, 12, 13]},
    }
    fig = charts.scenario_chart(x, scen, baseline={"Staffed FTE": [10, 10, 10]})
    menu = fig.layout.updatemenus[0]
    assert [b.label for b in menu.buttons] == list(scen)
    assert len(fig.data) == 1 + 3 * 2
    for i, b in enumerate(menu.buttons):
        vis = b.args[0]["visible"]
        assert len(vis) == len(fig.data)
        assert vis[0] is True  # the baseline stays
        shown = [j for j, v in enumerate(vis[1:]) if v]
        assert shown == [2 * i, 2 * i + 1]
    # the figure opens on the first scenario
    assert [t.visible for t in fig.data[1:3]] == [True, True]
    assert all(t.visible is False for t in fig.data[3:])
    slider = charts.scenario_chart(x, scen, control="slider")
    assert len(slider.layout.sliders[0].steps) == 3


def test_forecast_and_survival_build():
    days = pd.date_range("2025-01-01", periods=10, freq="D")
    hist = pd.DataFrame({"date": days[:5], "actual": [5, 6, 7, 6, 5]})
    fc = pd.DataFrame({"date": days[5:], "forecast": [6.0] * 5, "lower": [4.0] * 5, "upper": [8.0] * 5})
    fig = charts.forecast_chart(hist, fc, events=[(days[6], days[7], "Open enrollment")])
    assert [t.name for t in fig.data] == ["80% interval", "Actual", "Forecast"]
    assert not fig.layout.xaxis.rangebreaks  # every weekday has contacts
    curves = {
        "Team <A>": pd.DataFrame(
            {"days": [0, 30, 90], "survival": [1, 0.9, 0.8], "lower": [1, 0.8, 0.7], "upper": [1, 0.95, 0.9]}
        )
    }
    s = charts.survival_chart(curves)
    assert any(t.name == "Team &lt;A&gt;" for t in s.data)


def test_figure_json_cannot_close_its_script_element():
    df = pd.DataFrame({"q": ["</script><script>alert(1)</script>"], "v": [1]})
    fig = charts.bar_chart(df, "q", "v")
    fig.update_layout(title_text="</script>")
    markup = views.figure_html(fig)
    body = markup.split('type="application/vnd.reportlib.plotly+json"', 1)[1]
    assert body.count("</script>") == 1  # only the element's own end tag
    payload = body.split(">", 1)[1].rsplit("</script>", 1)[0]
    spec = json.loads(payload)
    assert spec["layout"]["title"]["text"] == "</script>"
    assert spec["config"]["displaylogo"] is False


def test_report_renderer_bundle_has_html_and_plotly_mime():
    fig = charts.bar_chart(pd.DataFrame({"a": ["x"], "b": [1]}), "a", "b")
    bundle = views.figure_bundle(fig)
    assert views.PLOTLY_MIME in bundle and "text/html" in bundle
    assert "rl-plot" in bundle["text/html"] and "plotly.js" not in bundle["text/html"]
    # JupyterLab's plotly renderer draws into a node of no set height, where a responsive chart (height 100% of
    # its container) collapses to 0 px on a redraw such as a theme switch; the HTML page's div has a height
    assert bundle[views.PLOTLY_MIME]["config"]["responsive"] is False
    assert bundle[views.PLOTLY_MIME]["config"]["displaylogo"] is False
    payload = bundle["text/html"].split('data-target="', 1)[1].split(">", 1)[1].rsplit("</script>", 1)[0]
    assert json.loads(payload)["config"]["responsive"] is True
    assert re.search(r'class="rl-plot"[^>]* style="height:\d+px"', bundle["text/html"])
    views.use_report_display()
    assert pio.renderers.default == "reportlib"
    assert pio.templates.default == charts.TEMPLATE_NAME


def test_short_history_starts_at_its_first_month():
    """Issue 18: a 13-month chart over a 2-month history shows those 2 months, not 11 empty ones; a gap
    after the first value still breaks the line; categories and per-bar colours keep every row."""
    months = [str(p) for p in pd.period_range("2025-11", "2026-11", freq="M")]
    hist = pd.DataFrame({"month": months, "csat": [np.nan] * 11 + [0.81, 0.80], "budget": [750.0] * 13})
    hist.loc[12, "csat"], hist.loc[11, "csat"] = 0.80, 0.81
    fig = charts.line_chart(hist, "month", "csat", unit="share")
    assert [pd.Timestamp(v).strftime("%Y-%m") for v in fig.data[0].x] == ["2026-10", "2026-11"]
    both = charts.line_chart(hist.assign(cost=hist["csat"] * 1000), "month", ["cost", "budget"], trim_by=["cost"])
    assert all(len(t.x) == 2 for t in both.data)
    untrimmed = charts.line_chart(hist.assign(cost=hist["csat"] * 1000), "month", ["cost", "budget"])
    assert all(len(t.x) == 13 for t in untrimmed.data)  # the budget has values every month
    gap = hist.assign(csat=[np.nan] * 9 + [0.8, np.nan, 0.81, 0.80])
    line = charts.line_chart(gap, "month", "csat", unit="share")
    assert len(line.data[0].x) == 4 and line.data[0].y[1] is None
    bars = charts.bar_chart(hist.assign(n=[np.nan] * 11 + [3, 4]), "month", "n", unit="count")
    assert len(bars.data[0].x) == 2
    cats = pd.DataFrame({"band": ["under 90d", "90d-1y", "1y+"], "n": [np.nan, 2, 5]})
    assert list(charts.bar_chart(cats, "band", "n").data[0].x) == ["under 90d", "90d-1y", "1y+"]
    rag = charts.bar_chart(hist.assign(n=[np.nan] * 11 + [3, 4]), "month", "n", colours=["red"] * 13)
    assert len(rag.data[0].x) == 13 and len(rag.data[0].marker.color) == 13
    assert charts.from_first_value(hist.assign(csat=np.nan), "month", ["csat"]).shape[0] == 13


def test_distribution_draws_each_teams_own_goals():
    """goals.yaml may set a team's or a role's goal apart: the default line alone read as every team's goal.
    queries.team_goals gives each team the distinct goals of its agents; the chart marks each on its team's
    box (hover "Goal: 600 s"), and draws one line when every team has the same single goal."""
    from reportlib.reports import queries

    cards = pd.DataFrame(
        {
            "team": ["North", "North", "South", "South", "East"],
            "role": ["agent", "lead", "agent", "agent", "agent"],
            "aht_s": [500.0, 650.0, 700.0, 720.0, 610.0],
            "aht_s_goal": [600.0, 660.0, 720.0, 720.0, np.nan],
        }
    )
    goals = queries.team_goals(cards, "aht_s")
    assert goals == {"North": [600.0, 660.0], "South": [720.0]}  # East has none
    fig = charts.distribution_chart(cards, "aht_s", "team", unit="seconds", target=goals)
    (marks,) = [t for t in fig.data if t.type == "scatter"]
    assert list(zip(marks.x, marks.y)) == [("North", 600.0), ("North", 660.0), ("South", 720.0)]
    assert {t.name for t in fig.data if t.type == "box"} >= {"North", "South"} and not fig.layout.shapes
    assert marks.hovertemplate.startswith("Goal: %{y:") and marks.marker.color == charts.TARGET_COLOUR
    assert [a.text for a in fig.layout.annotations] == ["▬ Goal"]
    same = cards.assign(aht_s_goal=600.0)
    fig = charts.distribution_chart(same, "aht_s", "team", target=queries.team_goals(same, "aht_s"))
    assert [t.type for t in fig.data] == ["box"] * 3 and [s.y0 for s in fig.layout.shapes] == [600.0]
    # over teams (the trend lines): the shared goal, else the default said to be one
    assert queries.trend_goal(same, "aht_s", {"defaults": {"aht_s": 540}}) == {"target": 600.0, "target_label": "Goal"}
    assert queries.trend_goal(cards, "aht_s", {"defaults": {"aht_s": 540}}) == {
        "target": 540.0,
        "target_label": "Default goal; some teams' or roles' differ",
    }
    assert queries.trend_goal(cards, "aht_s", {})["target"] is None


def test_a_weekday_only_desks_forecast_leaves_its_closed_days_out_of_the_axis():
    """A Monday-Friday desk's chart dropped to 0 every weekend: a weekday empty on every day shown (no actual,
    an interval of 0) is hidden with a range break; a Sunday-Thursday desk hides Friday and Saturday; a queue
    forecast 0 throughout keeps its axis; one Saturday with contacts keeps Saturdays."""
    days = pd.date_range("2026-11-02", periods=42, freq="D")  # from a Monday
    open_ = lambda weekdays: [10.0 if d.weekday() in weekdays else 0.0 for d in days]  # noqa: E731
    hist = pd.DataFrame({"date": days[:28], "actual": open_(range(5))[:28]})
    v = open_(range(5))[28:]
    fc = pd.DataFrame({"date": days[28:], "forecast": v, "lower": v, "upper": v})
    fig = charts.forecast_chart(hist, fc)
    assert [dict(b.to_plotly_json()) for b in fig.layout.xaxis.rangebreaks] == [
        {"pattern": "day of week", "bounds": [6, 1]}
    ]
    # no point inside the break (plotly cuts a line at one): the lines join Friday to Monday
    assert all(pd.Timestamp(d).weekday() < 5 for t in fig.data for d in t.x) and len(fig.data[1].x) == 20
    sun_thu = [6, 0, 1, 2, 3]
    h2, v2 = hist.assign(actual=open_(sun_thu)[:28]), open_(sun_thu)[28:]
    fig = charts.forecast_chart(h2, fc.assign(forecast=v2, lower=v2, upper=v2))
    assert [list(b.bounds) for b in fig.layout.xaxis.rangebreaks] == [[5, 0]]  # Friday 00:00 to Sunday 00:00
    zero = fc.assign(forecast=0.0, lower=0.0, upper=0.0)
    assert not charts.forecast_chart(hist.assign(actual=0.0), zero).layout.xaxis.rangebreaks
    busy = hist.copy()
    busy.loc[5, "actual"] = 3.0  # Saturday 7 November
    assert [list(b.bounds) for b in charts.forecast_chart(busy, fc).layout.xaxis.rangebreaks] == [[0, 1]]  # Sunday
    # Sunday and Monday join over the week's end (plotly: 0 = Sunday); Wednesday alone
    assert [b["bounds"] for b in charts.weekday_breaks([6, 0, 2])] == [[0, 2], [3, 4]]
