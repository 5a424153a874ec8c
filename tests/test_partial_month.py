"""A month the data covers only in part is said to be partial: in every report and on `kpis` / `variance`'s stderr
(variance: tests/test_variance.py).

Open days are the business calendar's (parameters/calendar.yaml: Monday-Friday, US holidays with the listed ones
closed). The counts below are by hand from a wall calendar.
"""

from __future__ import annotations

import pandas as pd
import pytest
from test_validate import GOOD, build

from reportlib.cli import main
from reportlib.core.params import load_params
from reportlib.reports import queries, views
from reportlib.reports.narrative import TotalsBasis

P = load_params(None)
NOV = pd.Period("2026-11", "M")


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))


def test_open_days_before_and_after_the_data_are_counted_by_the_business_calendar():
    # data on 4 November 2026 only: Monday 2 and Tuesday 3 before it; after it the weekdays 5-30 November
    # (18) less Thanksgiving (26th, closed): 17
    day = pd.Timestamp("2026-11-04 09:00")
    assert queries.month_gaps(NOV, day, day + pd.Timedelta(hours=9), P) == (2, 17)
    # ending on Wednesday 25th: Friday 27th and Monday 30th are open, Thanksgiving is not
    assert queries.month_gaps(NOV, pd.Timestamp("2026-10-01"), pd.Timestamp("2026-11-25 17:00"), P) == (0, 2)
    # a Monday-Friday export ending on Friday 29 January 2027 covers the month (30th and 31st a weekend)
    jan = pd.Period("2027-01", "M")
    assert queries.month_gaps(jan, pd.Timestamp("2026-12-01"), pd.Timestamp("2027-01-29 17:00"), P) == (0, 0)
    assert queries.partial_month_note(jan, pd.Timestamp("2026-12-01"), pd.Timestamp("2027-01-29 17:00"), P) is None
    # the same export under a calendar open on Saturdays misses Saturday 30th
    six = {**P, "calendar": {**P["calendar"], "business_hours": {"weekdays": [0, 1, 2, 3, 4, 5]}}}
    assert queries.month_gaps(jan, pd.Timestamp("2026-12-01"), pd.Timestamp("2027-01-29 17:00"), six) == (0, 1)
    # a new client's first contact on Thursday 12 November: 8 open days of the month before it
    note = queries.partial_month_note(
        NOV, pd.Timestamp("2026-11-12 10:00"), pd.Timestamp("2026-11-30 18:00"), P, whose="this client's contacts"
    )
    assert note is not None
    assert note.startswith("November 2026 is a partial month: this client's contacts start on 2026-11-12 (8 of the ")
    assert "end on" not in note


def test_the_default_month_of_a_weekday_export_ending_before_a_weekend_is_that_month(tmp_path):
    contacts = GOOD["contacts.csv"].replace("2025-01-06T09:03:00-05:00", "2025-01-31T17:00:00-05:00")
    folder = build(tmp_path / "d", {"contacts.csv": contacts})
    ctx = views.start_report("sla", month=None, data=str(folder))
    assert str(ctx.month) == "2025-01"
    # Friday 31 January is the month's last open day: the month is whole at its end, partial at its start
    # (Wednesday 1 January is closed; Thursday 2 and Friday 3 come before the first contact on Monday 6th)
    assert [n for n in ctx.notes if "partial month" in n] == [
        "January 2025 is a partial month: the data start on 2025-01-06 (2 of the month's open days are before it). "
        "Counts and totals cover only the days with data and are not comparable with a whole month's; rates and "
        "averages are over those days."
    ]
    # data ending on Thursday 30th leave Friday 31st out: the default month is the one before... which has no
    # data here, so it stays January (a source of one month) and the note names both ends
    folder2 = build(tmp_path / "e", {"contacts.csv": contacts.replace("2025-01-31T17", "2025-01-30T17")})
    ctx2 = views.start_report("sla", month=None, data=str(folder2))
    assert str(ctx2.month) == "2025-01"
    assert "and the data end on 2025-01-30 (1 of the month's open days is after it)" in ctx2.notes[-1]


def test_a_whole_month_has_no_note(tmp_path):
    lines = GOOD["contacts.csv"].splitlines()
    lines[1] = lines[1].replace("2025-01-06T09:00:00", "2025-01-02T08:00:00")
    lines[-1] = lines[-1].replace("2025-01-06T09:03:00", "2025-01-31T17:00:00")
    folder = build(tmp_path / "d", {"contacts.csv": "\n".join(lines) + "\n"})
    ctx = views.start_report("sla", month="2025-01", data=str(folder))
    assert not [n for n in ctx.notes if "partial" in n]


def test_kpis_says_so_on_stderr_and_keeps_stdout_a_table(tmp_path, capsys):
    folder = build(tmp_path / "d", {})  # contacts on Monday 6 January 2025 only
    assert main(["kpis", "--data", str(folder), "--month", "2025-01", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("month,") and "partial" not in out
    assert (
        "reportlib kpis: January 2025 is a partial month: the data start on 2025-01-06 (2 of the month's open days "
        "are before it) and the data end on 2025-01-06 (19 of the month's open days are after it)." in err
    )


def test_run_says_so_before_its_pages_replace_any(tmp_path, capsys):
    """A probe: a truncated export re-run over a whole month's reports replaced them with exit 0 and no line on the
    command line (only the pages' banner said "partial month")."""
    folder = build(tmp_path / "d", {})  # contacts on Monday 6 January 2025 only
    code = main(["run", "--data", str(folder), "--month", "2025-01", "--reports", "sla", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "reportlib run: January 2025 is a partial month: the data start on 2025-01-06" in err


def test_the_packs_totals_are_not_compared_and_its_budget_is_pro_rated(tmp_path):
    """March 2025 cut after Tuesday 18th: 12 of its 21 open days (weekdays, no closed holiday). Labor cost is
    held to 12/21 of the month's budget, contacts and money are not compared with whole months, rates are;
    no sentence compares a queue's volume with last month's."""
    from reportlib.metrics.cost import monthly_budget
    from reportlib.planning.sample import sample_data

    folder = tmp_path / "s"
    sample_data(folder, start="2025-01", months=3, agents=30, clients=5)
    for name, col in (("contacts.csv", 4), ("agent_activity.csv", 0)):
        lines = (folder / name).read_text().splitlines(keepends=True)
        kept = [ln for ln in lines[1:] if ln.split(",")[col][:10] <= "2025-03-18"]
        (folder / name).write_text("".join([lines[0], *kept]))
    src = views.start_report("monthly_pack", month="2025-03", data=str(folder)).source
    assert queries.coverage(src, P, "2025-03") == (12, 21)
    summary = queries.monthly_summary(src, P, "2025-03")
    tiles = {t["key"]: t for t in summary["tiles"]}
    hist = summary["history"].set_index("month")
    labor = tiles["labor_cost"]
    budget = monthly_budget(P["budget"], "2025-03") * 12 / 21
    assert labor["target"] == pytest.approx(budget) and hist.loc["2025-03", "budget"] == pytest.approx(budget)  # chart
    assert labor["delta_prev"] is None and labor["note"] == "budget pro-rated to the 12 of 21 open days with data"
    assert tiles["service_level"]["delta_prev"] is not None  # a rate is compared
    assert not any("volume was" in line or "labor cost rose" in line or "labor cost fell" in line
                   for line in summary["commentary"])  # fmt: skip
    # the whole month before is as it was: compared, budget whole
    feb = {t["key"]: t for t in queries.monthly_summary(src, P, "2025-02")["tiles"]}
    assert feb["labor_cost"]["target"] == pytest.approx(monthly_budget(P["budget"], "2025-02"))
    # an activity export running to the month's end: cost and cost per contact over the contacts' 12 days
    whole = tmp_path / "w"
    sample_data(whole, start="2025-01", months=3, agents=30, clients=5)
    (whole / "contacts.csv").write_text((folder / "contacts.csv").read_text())
    src2 = views.start_report("monthly_pack", month="2025-03", data=str(whole)).source
    hist2 = queries.kpi_history(src2, P, "2025-03", "2025-03").set_index("month")
    assert hist2.loc["2025-03", "labor_cost"] == pytest.approx(hist.loc["2025-03", "labor_cost"])
    assert hist2.loc["2025-03", "cost_per_contact"] == pytest.approx(hist.loc["2025-03", "cost_per_contact"])


def test_a_whole_month_is_not_compared_with_a_first_month_the_data_cover_in_part(tmp_path):
    """An export that starts on Monday 17 February 2025 (10 of February's 20 open days): March's pack said labor
    cost and each queue's volume had roughly doubled since February. March's totals are now not set against
    February (the note says why), its rates are; April's totals are set against March (a whole month)."""
    from reportlib.planning.sample import sample_data

    folder = tmp_path / "s"
    sample_data(folder, start="2025-01", months=4, agents=30, clients=5)
    for name, col in (("contacts.csv", 4), ("agent_activity.csv", 0)):
        lines = (folder / name).read_text().splitlines(keepends=True)
        kept = [ln for ln in lines[1:] if ln.split(",")[col][:10] >= "2025-02-17"]
        (folder / name).write_text("".join([lines[0], *kept]))
    src = views.start_report("monthly_pack", month="2025-03", data=str(folder)).source
    assert queries.coverage(src, P, "2025-02") == (10, 20)  # weekdays 17-21 and 24-28 of February's 20
    basis = queries.totals_basis(src, P, "2025-03")
    assert (basis.partial, basis.compare) == (False, ("yoy",))  # March 2024: no data, "no data for Mar 2024"
    summary = queries.monthly_summary(src, P, "2025-03")
    tiles = {t["key"]: t for t in summary["tiles"]}
    note = "not compared with Feb 2025, which has data on 10 of its 20 open days"
    assert tiles["labor_cost"]["delta_prev"] is None and tiles["labor_cost"]["note"] == note
    assert tiles["service_level"]["delta_prev"] is not None  # a rate is compared
    assert not any("volume was" in line or "labor cost rose" in line or "labor cost fell" in line
                   for line in summary["commentary"])  # fmt: skip
    april = {t["key"]: t for t in queries.monthly_summary(src, P, "2025-04")["tiles"]}
    hist = queries.kpi_history(src, P, "2025-03", "2025-04").set_index("month")["labor_cost"]
    assert april["labor_cost"]["delta_prev"] == pytest.approx(hist["2025-04"] - hist["2025-03"])
    assert april["labor_cost"]["note"] is None


def test_a_month_whose_data_fall_on_its_closed_days_alone_is_not_a_whole_month(tmp_path):
    """An export that starts on Saturday 31 May 2025, a closed day: May has data on none of its open days. A probe
    found June's totals set against May's one Saturday ("Contacts rose by 9 to 11"): they are now not compared,
    as with any month the data cover in part; a month the data do not reach at all is still "no data for"."""
    from reportlib.planning.sample import sample_data

    folder = tmp_path / "s"
    sample_data(folder, start="2025-04", months=3, agents=30, clients=5)
    for name, col in (("contacts.csv", 4), ("agent_activity.csv", 0)):
        lines = (folder / name).read_text().splitlines(keepends=True)
        kept = [ln for ln in lines[1:] if ln.split(",")[col][:10] >= "2025-06-01"]
        if name == "contacts.csv":  # one contact on the Saturday before
            cells = kept[0].split(",")
            cells[col] = "2025-05-31T10:00:00" + cells[col][19:]
            kept[0] = ",".join(cells)
        (folder / name).write_text("".join([lines[0], *kept]))
    src = views.start_report("monthly_pack", month="2025-06", data=str(folder)).source
    covered, open_days = queries.coverage(src, P, "2025-05")
    assert covered == 0 and open_days >= 20
    basis = queries.totals_basis(src, P, "2025-06")
    assert (basis.partial, basis.compare, basis.unreached) == (False, ("yoy",), ("yoy",))  # June 2024: no data
    note = f"not compared with May 2025, which has data on 0 of its {open_days} open days"
    assert basis.note == note
    tiles = {t["key"]: t for t in queries.monthly_summary(src, P, "2025-06")["tiles"]}
    assert tiles["labor_cost"]["delta_prev"] is None and tiles["labor_cost"]["note"] == note
    # the same export from Monday 2 June: May is not reached, its figure missing, as before
    lines = (folder / "contacts.csv").read_text().splitlines(keepends=True)
    (folder / "contacts.csv").write_text("".join([lines[0], *lines[2:]]))
    src = views.start_report("monthly_pack", month="2025-06", data=str(folder)).source
    assert queries.totals_basis(src, P, "2025-06").unreached == ("prev", "yoy")


def test_the_workbooks_say_so_first(tmp_path):
    """The month's workbook and a client's say the month is partial first in their README notes."""
    from reportlib.reports import workbook

    folder = tmp_path / "w"
    lines = GOOD["contacts.csv"].splitlines()
    lines[-1] = lines[-1].replace("2025-01-06T09:03:00", "2025-01-31T17:00:00")  # C2's last contact: 31st
    build(folder, {"contacts.csv": "\n".join(lines) + "\n"})
    src = views.start_report("sla", month="2025-01", data=str(folder)).source
    month = workbook.month_workbook(src, P, "2025-01")
    assert month.notes[0].startswith("January 2025 is a partial month: the data start on 2025-01-06 (2 of")
    # C1's contacts start on Monday 6th too; C2's as well, but the data end on the 31st for both
    client = workbook.client_workbook(src, P, "2025-01", "C1")
    assert client.notes[0].startswith("January 2025 is a partial month: this client's contacts start on 2025-01-06")
    assert "end on" not in client.notes[0]


def test_the_attrition_report_drawn_from_the_roster_is_not_called_partial(tmp_path):
    folder = build(tmp_path / "d", {})  # contacts on 6 January 2025 only: January is partial for the contacts
    assert any("partial month" in n for n in views.start_report("sla", month="2025-01", data=str(folder)).notes)
    assert not any("partial" in n for n in views.start_report("attrition", month="2025-01", data=str(folder)).notes)


def test_a_chart_over_months_shades_the_partial_month_and_leaves_other_charts_alone(tmp_path):
    from reportlib.reports import charts

    folder = build(tmp_path / "d", {})  # contacts on Monday 6 January 2025 only: 1 of January's 22 open days
    ctx = views.start_report("sla", month="2025-01", data=str(folder))
    assert ctx.partial == "partial: 1 of 22 open days"
    months = pd.DataFrame({"month": ["2024-12", "2025-01"], "offered": [900, 120]})
    fig = charts.mark_partial(charts.bar_chart(months, "month", "offered", unit="count"), ctx.month, ctx.partial)
    (shade,) = fig.layout.shapes
    assert pd.Timestamp(shade.x0) < pd.Timestamp("2025-01-01") < pd.Timestamp(shade.x1)
    assert fig.layout.annotations[-1].text == "partial: 1 of 22 open days"
    by_queue = charts.bar_chart(pd.DataFrame({"queue": ["A", "B"], "offered": [1, 2]}), "queue", "offered")
    assert not charts.mark_partial(by_queue, ctx.month, ctx.partial).layout.shapes


# compliance_trend rows for two months (shares 0..1, a count, a currency), by hand
TREND = pd.DataFrame(
    {
        "clients_met": [0.5, 0.75],
        "terms_met": [0.8, 0.9],
        "terms_missed": [4.0, 1.0],
        "penalty_at_risk": [1200.0, 300.0],
    },
    index=pd.Index(["2026-10", "2026-11"], name="month"),
)


def test_the_sla_tiles_of_a_partial_month_say_so_far_and_do_not_compare_its_misses():
    tiles = {t.key: t for t in queries.compliance_tiles(TREND, NOV, TotalsBasis(12, 20))}
    fees, missed = tiles["penalty_at_risk"], tiles["terms_missed"]
    assert (fees.name, missed.name) == ("Fees at risk from missed terms so far", "Terms missed so far")
    assert (fees.value, missed.value) == (300.0, 1.0)
    # not set against October's whole month: a term can still be missed before November ends
    assert fees.delta_prev is None and missed.delta_prev is None
    assert fees.note == "12 of 20 open days with data: not compared with whole months"
    # the shares are compared, as the pack compares its rates: 0.9 - 0.8
    assert tiles["terms_met"].delta_prev == pytest.approx(0.1)
    assert tiles["terms_met"].name == "Contract terms met" and tiles["terms_met"].note is None


def test_the_sla_tiles_of_a_whole_month_compare_every_figure():
    tiles = {t.key: t for t in queries.compliance_tiles(TREND, NOV, TotalsBasis(20, 20))}
    assert tiles["terms_missed"].name == "Terms missed" and tiles["terms_missed"].delta_prev == -3.0
    assert tiles["penalty_at_risk"].delta_prev == -900.0 and tiles["penalty_at_risk"].note is None
    assert tiles["clients_met"].delta_prev == pytest.approx(0.25)


def test_the_compliance_sentence_says_so_far_in_a_partial_month():
    by_client = pd.DataFrame(
        {
            "client_id": ["A", "B", "C", "D"],
            "client_name": ["Alpha", "Beta", "Gamma", "Delta"],
            "missed": [0, 1, 0, 0],
            "status": ["green", "red", None, "green"],
            "penalty_at_risk": [0.0, 450.0, None, 0.0],
        }
    )  # a client without a judged term (None) is not counted
    assert queries.compliance_sentence(by_client, (20, 20)) == (
        "2 of 3 clients with contacts this month met every term of their contract; "
        "$450 of fees is at risk from missed terms."
    )
    assert queries.compliance_sentence(by_client, (12, 20), "€").startswith(
        "2 of 3 clients with contacts so far this month (12 of 20 open days with data) met every term"
    )
    none = by_client.assign(penalty_at_risk=None)  # no client has a fee: the missed one's is unknown, and said so
    assert queries.compliance_sentence(none, (20, 20)).endswith(
        "met every term of their contract. The fees at risk leave out 1 client with a missed term and no "
        "monthly_fee in the clients table: Beta (B)."
    )


def test_a_reports_context_carries_the_months_coverage_for_its_tiles(tmp_path):
    folder = build(tmp_path / "d", {})  # contacts on Monday 6 January 2025 only: 1 of January's 22 open days
    assert views.start_report("sla", month="2025-01", data=str(folder)).totals.coverage == (1, 22)
    assert views.start_report("monthly_pack", month="2025-01", data=str(folder)).totals.coverage == (1, 22)
    assert views.start_report("attrition", month="2025-01", data=str(folder)).totals.coverage == (0, 0)  # roster: whole
