"""The explore notebook's library side, and the chart layout fixes seen in JupyterLab (issue 17)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from reportlib.reports import charts, explore, narrative, queries, views


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    from reportlib.planning.sample import sample_data

    folder = tmp_path_factory.mktemp("explore") / "sample"
    sample_data(folder, seed=3, start="2025-01", months=2, agents=24, clients=5)
    return views.start_report("explore", month="2025-02", data=str(folder))


def _html(box) -> str:
    return "".join(o["data"].get("text/html", "") for o in box.output.outputs)


def test_selectors_start_at_all_and_controls_update_the_output(ctx):
    box = explore.contacts_explorer(ctx)
    s = box.selectors
    assert s["client"].label == explore.ALL and s["client"].value == explore.ALL
    assert s["channel"].value == explore.ALL and s["period"].value == "2025-02"
    before = _html(box)
    assert "Speed of answer" in before and ">asa_s<" not in before and ">aht_s<" not in before
    s["channel"].value = "email"
    after = _html(box)
    assert after != before
    s["period"].value = "2025-01"
    assert _html(box) != after


def test_the_service_level_chart_names_the_email_measure_only_when_email_is_in_it(ctx, monkeypatch):
    """A probe: a phone selection's service-level chart kept the title that explains email's measure."""
    titles: list[str] = []
    monkeypatch.setattr(explore.views, "show", lambda fig: titles.append(fig.layout.title.text))
    for channel in ("phone", explore.ALL):
        explore.show_selection(ctx.source, ctx.params, period="2025-02", channel=channel)
    assert [t for t in titles if t.startswith("Service level")] == [
        "Service level",
        "Service level (email: first response within contract business hours)",
    ]


def test_what_if_sliders_update_and_labels_are_not_cut():
    box = explore.what_if_explorer()
    for w in box.sliders.values():
        assert w.style.description_width == "initial"
    assert box.sliders["calls"].description == "Calls per 30 min"
    # shares read in percent, as the table under them (a probe: "Service level target 0.80" above "84.0%")
    assert box.sliders["target_sl"].readout_format == ".0%" and box.sliders["shrinkage"].readout_format == ".0%"
    assert box.sliders["calls"].readout_format != ".0%"
    before = _html(box)
    box.sliders["calls"].value = 400
    assert _html(box) != before
    t = explore.what_if_table(calls=400)
    assert (t["agents"] > explore.what_if_table(calls=120)["agents"]).all()
    # two chats at a time: the one-at-a-time servers halved and rounded up, and the slider drives it
    two = explore.what_if_table(calls=400, concurrency=2)
    assert two["agents"].tolist() == [-(-n // 2) for n in t["agents"]] and (two["service_level"] >= 0.8).all()
    before = _html(box)
    box.sliders["concurrency"].value = 2
    assert _html(box) != before and box.sliders["concurrency"].description == "Contacts at once"


def test_team_selection_says_abandons_have_no_team(ctx):
    team = explore.selector_options(ctx)["team"][0][1]
    sel = explore.selection_kpis(ctx.source, ctx.params, period="2025-02", team=team)
    assert sel.notes and "Abandoned contacts never reach an agent" in sel.notes[0]
    assert sel.total["abandon_rate"].isna().all()
    everyone = explore.selection_kpis(ctx.source, ctx.params, period="2025-02")
    assert not everyone.notes and everyone.total["abandon_rate"].notna().any()


def test_half_hours_do_not_join_across_nights(ctx):
    sel = explore.selection_kpis(ctx.source, ctx.params, period="2025-02", channel="phone", grain="30min")
    k = sel.by_period
    night = k[pd.to_datetime(k["period"]).dt.hour == 3]
    assert len(night) and night["service_level"].isna().all()  # a gap, so the line breaks
    fig = charts.line_chart(k, "period", "service_level", color="channel", unit="share")
    ys = fig.data[0].y
    assert any(v is None for v in ys) and any(v is not None for v in ys)


def test_email_in_explore_is_the_contract_measure(ctx):
    sel = explore.selection_kpis(ctx.source, ctx.params, period="2025-02")
    k = queries.contact_kpis(ctx.source, ctx.params, grain=None, by=["channel"], start="2025-02-01", end="2025-03-01")
    e = sel.total.set_index("channel").loc["email"]
    assert e["service_level"] == pytest.approx(k.set_index("channel").loc["email", "service_level"])
    assert math.isnan(e["asa_s"])


def test_small_counts_get_whole_number_ticks():
    df = pd.DataFrame({"day": ["a", "b", "c"], "n": [0, 1, 1]})
    fig = charts.bar_chart(df, "day", "n", unit="count")
    assert fig.layout.yaxis.dtick == 1 and fig.layout.yaxis.rangemode == "tozero"
    big = charts.bar_chart(pd.DataFrame({"day": ["a", "b"], "n": [0, 400]}), "day", "n", unit="count")
    assert big.layout.yaxis.dtick is None
    stacked = pd.DataFrame({"d": ["a", "a"], "c": ["x", "y"], "n": [6, 6]})
    assert charts.bar_chart(stacked, "d", "n", color="c", barmode="stack", unit="count").layout.yaxis.dtick is None


def test_service_level_axis_is_sane_on_small_selections():
    df = pd.DataFrame({"p": pd.to_datetime(["2025-01-01", "2025-01-02"]), "sl": [0.0, 0.0]})
    fig = charts.line_chart(df, "p", "sl", unit="share")
    assert list(fig.layout.yaxis.range) == [0, 1]
    fixed = charts.line_chart(df.assign(sl=[0.5, 1.0]), "p", "sl", unit="share", y_range=(0, 1.05))
    assert list(fixed.layout.yaxis.range) == [0, 1.05]
    assert charts.line_chart(df.assign(sl=[0.2, 0.3]), "p", "sl", unit="share").layout.yaxis.rangemode == "tozero"


def test_two_row_legend_gets_room_above_the_plot():
    teams = [f"Louisville / {i}" for i in range(1, 13)]
    df = pd.DataFrame({"month": ["2025-01"] * 12, "team": teams, "aht_s": range(300, 312)})
    fig = charts.line_chart(df, "month", "aht_s", color="team", unit="seconds", title="Handle time")
    rows = charts.legend_rows(teams)
    assert rows >= 2
    assert fig.layout.margin.t == 64 + charts.LEGEND_ROW_PX * (rows - 1)
    assert fig.layout.title.yref == "container" and fig.layout.title.yanchor == "top"
    two = charts.line_chart(df.head(2), "month", "aht_s", color="team", title="Handle time")
    assert two.layout.margin.t is None or two.layout.margin.t == 64
    assert charts.legend_rows(["a", "b"]) == 1


def test_team_names_do_not_wrap_in_tables():
    markup = narrative.table_html(pd.DataFrame({"team": ["Louisville / 1"], "n": [3]}))
    assert '<td style="white-space:nowrap;text-align:left">Louisville / 1</td>' in markup


def test_a_month_the_data_cover_in_part_is_said(tmp_path):
    """A probe: data cut on 15 November offered November in the selector and showed half its totals as a month."""
    from reportlib.planning.sample import sample_data

    folder = tmp_path / "partial"
    sample_data(folder, seed=3, start="2025-01", months=2, agents=12, clients=3)
    contacts = pd.read_csv(folder / "contacts.csv", dtype=str, keep_default_na=False)
    contacts[contacts["arrived_at"] < "2025-02-15"].to_csv(folder / "contacts.csv", index=False)
    ctx = views.start_report("explore", month="2025-01", data=str(folder))
    half = explore.selection_kpis(ctx.source, ctx.params, period="2025-02")
    assert any(n.startswith("February 2025 is a partial month: the data end on 2025-02-14") for n in half.notes)
    assert not explore.selection_kpis(ctx.source, ctx.params, period="2025-01").notes


def test_a_fault_in_a_view_replaces_the_last_choice_with_a_note():
    """A probe (code reading): only ReportlibError was caught, so another fault left the previous selection's
    charts under the new selector values."""
    import ipywidgets as widgets

    out = widgets.Output()
    views.fill_output(out, lambda: views.paragraph("first choice"))
    assert "first choice" in out.outputs[0]["data"]["text/html"]

    def broken():
        views.paragraph("half drawn")
        raise ValueError("no such column")

    views.fill_output(out, broken)
    (only,) = out.outputs
    assert "could not be drawn (ValueError: no such column)" in only["data"]["text/html"]
