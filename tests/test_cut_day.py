"""Data that stop part-way through a day, and a month still running (a probe of reports run during a month).

An export taken at 10:00 on a Wednesday was read as covering that whole day: 94 of 166 agents flagged for coaching
on the morning of the 2nd, a cost per contact of $143 (a whole day's labor over a morning's contacts), a month whose
data end at 10:00 on its last day read as whole. The fixture is a generated operation of three months (to 31 March
2025); open days are the default calendar's (Monday-Friday, US holidays), counted by hand from a wall calendar.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from reportlib.cli import main
from reportlib.core.errors import ReportlibError
from reportlib.core.params import load_params
from reportlib.data import span
from reportlib.data.load import open_source
from reportlib.metrics import sla
from reportlib.reports import client_review, queries, views
from reportlib.reports.views import FACTS_MIME, TILES_MIME

P = load_params(None)
MARCH = pd.Period("2025-03", "M")


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> Path:
    from reportlib.planning.sample import sample_data

    folder = tmp_path_factory.mktemp("whole") / "data"
    sample_data(folder, seed=11, start="2025-01", months=3, agents=30, clients=6)
    return folder


def cut_copy(whole: Path, folder: Path, at: str) -> Path:
    """The operation with every contact from `at` (local wall time) on left out: an export taken then."""
    shutil.copytree(whole, folder)
    c = pd.read_csv(folder / "contacts.csv", dtype=str, keep_default_na=False)
    c[pd.to_datetime(c["arrived_at"].str[:19]) < pd.Timestamp(at)].to_csv(folder / "contacts.csv", index=False)
    return folder


def empty_rest_chance(folder: Path) -> float:
    """The second method: pandas over the CSV. On each of the 8 same weekdays before the last day with contacts
    before the last arrival's time of day (a_k of them, n_k after it), the chance exp(-n_k min(1, a / a_k)) that
    the rest of the day is empty, a being the last day's contacts; their mean."""
    t = pd.to_datetime(pd.read_csv(folder / "contacts.csv", dtype=str)["arrived_at"].str[:19])
    last = t.max()
    day, since = last.normalize(), last - last.normalize()
    a = int((t >= day).sum())
    chances = []
    for k in range(1, 9):
        d = day - pd.Timedelta(days=7 * k)
        a_k = int(((t >= d) & (t <= d + since)).sum())
        n_k = int(((t > d + since) & (t < d + pd.Timedelta(days=1))).sum())
        if a_k:
            chances.append(np.exp(-n_k * min(1.0, a / a_k)))
    return float(np.mean(chances))


def test_an_export_cut_at_ten_is_read_as_cut_and_a_quiet_evening_is_not(whole, tmp_path):
    cases = {"whole": whole}
    for name, at in (("ten", "2025-03-19 10:00"), ("nine_pm", "2025-03-19 21:00")):
        cases[name] = cut_copy(whole, tmp_path / name, at)
    got = {}
    for name, folder in cases.items():
        source = open_source(folder)
        chance = empty_rest_chance(folder)
        cut = span.last_day_cut(source)
        assert (cut is not None) == (chance < span.CUT_P), (name, chance)  # the rule, by the second method
        got[name] = (chance, cut)
    assert got["ten"][1] == open_source(cases["ten"]).frame("contacts")["arrived_at"].max()
    assert got["ten"][0] < 1e-30  # a Wednesday's rest after 10:00 holds hundreds: cut
    assert got["whole"][1] is None and got["nine_pm"][1] is None  # an evening of a few contacts: whole
    # the whole days' range stops at the end of the day before a cut day, else at the data's end
    assert span.whole_days_range(open_source(cases["ten"]))[1] == pd.Timestamp("2025-03-18 23:59:59.999999")
    assert span.whole_days_range(open_source(whole)) == span.data_range(open_source(whole))


def test_a_closed_holiday_is_never_read_as_cut_and_an_eve_is_judged_like_any_day(whole, tmp_path):
    """A closed holiday of the calendar is neither read as cut nor compared with (its trickle of e-mails is no
    export cut short). An open holiday or an eve is judged like any day: exempted, an export taken at 10:00 on
    31 December read as the whole month. Here the parameters' calendar closes Wednesday 19 March 2025: the 10:00
    export is then read as whole."""
    from reportlib.core.params import deep_merge
    from reportlib.metrics.sla import closed_days

    source = open_source(cut_copy(whole, tmp_path / "ten", "2025-03-19 10:00"))
    assert queries.cut_day(source, P) is not None
    holiday = deep_merge(P, {"calendar": {"holidays": {"extra": ["2025-03-19"]}}})
    assert pd.Timestamp("2025-03-19") in closed_days(holiday, "2025-03-19")
    assert queries.cut_day(source, holiday) is None
    # the US calendar closes Thanksgiving; its eve and Veterans Day (open) are ordinary days for the rule
    days = closed_days(P, "2025-11-30")
    assert pd.Timestamp("2025-11-27") in days
    assert pd.Timestamp("2025-11-26") not in days and pd.Timestamp("2025-11-11") not in days


def test_a_day_cut_short_is_not_a_covered_day_and_the_month_is_partial(whole, tmp_path):
    folder = cut_copy(whole, tmp_path / "ten", "2025-03-19 10:00")
    source = open_source(folder)
    # Wednesday 19 March to Monday 31: 19, 20, 21, 24-28, 31 = 9 open days from the cut day on; 21 in March
    assert queries.coverage(source, P, MARCH) == (12, 21)
    note = queries.source_partial_note(source, P, MARCH)
    assert note is not None and "the data end part-way through 2025-03-19, at 09:59 (that day and the rest" in note
    assert "9 open days" in note and "the days with data and that day's part" in note
    assert str(views.last_complete_month(source, P)) == "2025-02"
    assert queries.month_running(source, P, MARCH)
    # the same export on the last day at 10:00: the month still runs (before, a day's end counted as whole)
    last_day = open_source(cut_copy(whole, tmp_path / "last", "2025-03-31 10:00"))
    assert queries.coverage(last_day, P, MARCH) == (20, 21)
    assert str(views.last_complete_month(last_day, P)) == "2025-02"
    as_of, back = queries.month_to_date_as_of(last_day, P, MARCH)
    assert as_of == span.data_range(last_day)[1] and not back
    # the whole month: a look back at the 15th
    assert queries.month_to_date_as_of(open_source(whole), P, MARCH) == (pd.Timestamp("2025-03-15"), True)
    assert not queries.month_running(open_source(whole), P, MARCH)


def test_labor_and_cost_per_contact_stop_where_the_last_whole_day_does(whole, tmp_path):
    """A second method: the same export cut at midnight before the 19th gives the figures a 10:00 cut must give
    (labor over the days before it, over the contacts handled before it)."""
    ten = open_source(cut_copy(whole, tmp_path / "ten", "2025-03-19 10:00"))
    midnight = open_source(cut_copy(whole, tmp_path / "midnight", "2025-03-19 00:00"))
    a = queries.kpi_history(ten, P, "2025-02", "2025-03").set_index("month")
    b = queries.kpi_history(midnight, P, "2025-02", "2025-03").set_index("month")
    for col in ("labor_cost", "cost_per_contact", "budget", "occupancy"):
        assert a.loc["2025-03", col] == pytest.approx(b.loc["2025-03", col], rel=1e-12), col
    assert a.loc["2025-03", "handled"] > b.loc["2025-03", "handled"]  # the morning's contacts are still counted
    assert a.loc["2025-02", "cost_per_contact"] == pytest.approx(b.loc["2025-02", "cost_per_contact"], rel=1e-12)


def test_a_term_with_nothing_measured_yet_is_not_started_not_at_risk(whole):
    source = open_source(whole)
    profiles = sla.profiles_from_params(P)
    # 00:30 on Saturday 1 March: nothing measured yet, the month's contacts all to come
    mtd = sla.month_to_date(
        source.table("contacts"), source.frame("clients"), profiles, "2025-03", pd.Timestamp("2025-03-01 00:30")
    )
    measured = mtd["denominator"] > 0
    assert len(mtd) and (~measured).any()
    assert set(mtd.loc[~measured & (mtd["expected_remaining"] > 0), "status"]) <= {"not started", "lost", "secured"}
    assert "at risk" not in set(mtd.loc[~measured, "status"])


def test_a_client_review_of_a_running_month_says_so_far_not_missed():
    terms = pd.DataFrame(
        {
            "term": ["Phone service level", "Email within 8 h"],
            "metric": ["service_level", "email_sl"],
            "volume": [424, 80],
            "actual": [0.6486, 0.95],
            "met": [False, True],
        }
    )
    table, sentence = client_review.terms_table(terms, running=True)
    assert table["result"].tolist() == ["below goal so far", "on goal so far"]
    assert "missed" not in sentence and sentence.startswith("The month is not over: so far 1 of 2 terms")
    table, sentence = client_review.terms_table(terms)
    assert table["result"].tolist() == ["missed", "met"] and sentence.startswith("1 of 2 terms was missed")


def test_attrition_of_a_month_after_the_data_stops_and_a_running_one_is_said(whole, tmp_path, capsys):
    assert main(["attrition", "--data", str(whole), "--month", "2030-01"]) == 1
    err = capsys.readouterr().err
    assert "2030-01 begins after the data (the data end on 2025-03-31)" in err and "Traceback" not in err
    folder = cut_copy(whole, tmp_path / "ten", "2025-03-19 10:00")
    assert main(["attrition", "--data", str(folder), "--month", "2025-03"]) == 0
    assert "March 2025 runs past the data (they end on 2025-03-19): its figures are so far" in capsys.readouterr().err
    ctx = views.start_report("attrition", month="2025-03", data=str(folder))  # the page says it as the command does
    assert ctx.partial_note is not None and ctx.partial_note.startswith("March 2025 runs past the data")
    assert main(["attrition", "--data", str(whole), "--month", "2025-03"]) == 0
    assert "runs past" not in capsys.readouterr().err


def test_the_e_mail_of_a_partial_month_says_so_and_carries_each_tile_note(tmp_path):
    from reportlib.delivery import mail

    partial = "March 2025 is a partial month: the data end part-way through 2025-03-19, at 09:59."
    tile = {"name": "Labor cost", "value": 1000.0, "unit": "currency", "target": 1200.0, "higher_is_better": False}
    tile["note"] = "budget pro-rated to 12 of 21 open days"
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={TILES_MIME: [tile], "text/plain": "tiles"}),
        nbformat.v4.new_output("display_data", data={FACTS_MIME: {"partial": partial}, "text/plain": "run facts"}),
    ]
    nb.cells = [cell]
    path = tmp_path / "pack.ipynb"
    nbformat.write(nb, str(path))
    hl = mail.highlights(path)
    assert hl.partial == partial
    args = dict(title="Monthly pack", subtitle="", tiles=hl.tiles, commentary=[], notes=[], attachment_name="a.html")
    text = mail.body_text(**args, partial=hl.partial)
    assert partial in text.split("Key figures")[0]  # before the figures
    assert "- Labor cost (budget pro-rated to 12 of 21 open days): $1,000" in text
    assert partial in mail.body_html(**args, charts=[], partial=hl.partial)
    # a whole month: no such line
    whole_nb = tmp_path / "whole.ipynb"
    cell.outputs = cell.outputs[:1]
    nbformat.write(nb, str(whole_nb))
    assert mail.highlights(whole_nb).partial is None


def test_a_section_note_names_no_folder(whole):
    ctx = views.start_report("sla", month="2025-03", data=str(whole))
    with ctx.section("Plan vs actual"):
        raise ReportlibError(f"no interval_plan table in {whole} and no forecast vintages given")
    assert ctx.notes[-1] == (
        "Plan vs actual is not available: no interval_plan table in the data source and no forecast vintages given"
    )


def test_a_forecast_leaves_a_day_cut_short_out_of_its_history(whole, tmp_path, capsys):
    """The morning of a day read as its whole volume pulled every forecast 3-4% low (an export of 15:00): the cut
    day is left out, so the forecast starts on it, and stderr says why."""
    folder = cut_copy(whole, tmp_path / "ten", "2025-03-19 10:00")
    assert main(["forecast", "--data", str(folder), "--horizon-days", "7", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert "the data end part-way through 2025-03-19, at 09:59: that day is left out of the history" in err
    first = min(line.split(",")[0] for line in out.splitlines()[1:])
    assert first == "2025-03-19"
    assert main(["forecast", "--data", str(whole), "--horizon-days", "7", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert "part-way" not in err and min(line.split(",")[0] for line in out.splitlines()[1:]) == "2025-04-01"


def test_volume_goals_are_pro_rated_to_the_whole_days_before_a_cut(whole, tmp_path):
    """94 of 166 agents were flagged for coaching on "contacts handled" at 10:00 on the 2nd: the goal counted the
    2nd as a whole day with data. Now the day cut short is not one of the goal's days (12 of March's 21 open days,
    Monday 3 to Tuesday 18: 12), as for an export ending at midnight before it."""
    ten = queries.month_scorecards(open_source(cut_copy(whole, tmp_path / "ten", "2025-03-19 10:00")), P, MARCH)
    midnight = queries.month_scorecards(open_source(cut_copy(whole, tmp_path / "mid", "2025-03-19 00:00")), P, MARCH)
    assert ten["month_open_days"].max() == 21
    employed = ten["goal_days"] > 0
    assert employed.any() and ten.loc[employed, "goal_days"].max() == 12
    assert ten["goal_days"].tolist() == midnight["goal_days"].tolist()


def test_a_bare_folder_name_is_not_replaced_in_a_note(whole, monkeypatch):
    """Replaced as plain text, a folder given as `data` garbled every note holding that word."""
    monkeypatch.chdir(whole.parent)
    ctx = views.start_report("sla", month="2025-03", data=whole.name)  # "data"
    with ctx.section("Staffing"):
        raise ReportlibError("too little data to plan")
    assert ctx.notes[-1] == "Staffing is not available: too little data to plan"


def test_term_results_read_so_far_in_a_running_month():
    met = pd.Series([True, False, None], dtype=object)
    assert queries.term_results(met).tolist() == ["met", "missed", "no contacts"]
    assert queries.term_results(met, running=True).tolist() == ["on goal so far", "below goal so far", "no contacts"]


def test_an_interval_export_cut_short_is_read_from_its_offered_contacts(whole, tmp_path):
    """An operation exporting 30-minute intervals only (no contacts table): the contacts offered in its intervals
    tell a cut day as arrivals do."""
    c = pd.read_csv(whole / "contacts.csv", dtype=str, keep_default_na=False)
    at = pd.to_datetime(c["arrived_at"].str[:19])
    c["interval_start"] = at.dt.floor("30min").dt.strftime("%Y-%m-%dT%H:%M:%S")
    iv = c.groupby(["interval_start", "channel", "queue"], as_index=False).size().rename(columns={"size": "offered"})
    iv.insert(1, "interval_minutes", 30)
    for name, until in (("iv_whole", None), ("iv_ten", "2025-03-19T10:00:00")):
        folder = tmp_path / name
        folder.mkdir()
        (iv if until is None else iv[iv["interval_start"] < until]).to_csv(folder / "intervals.csv", index=False)
        source = open_source(folder)
        cut = queries.cut_day(source, P)
        if until is None:
            assert cut is None and queries.coverage(source, P, MARCH) == (21, 21)
        else:
            assert cut == pd.Timestamp("2025-03-19 09:30") and queries.coverage(source, P, MARCH) == (12, 21)


def test_the_cost_table_names_the_days_it_covers(whole, tmp_path):
    ten = open_source(cut_copy(whole, tmp_path / "ten", "2025-03-19 10:00"))
    assert queries.cost_window_label(ten, P, MARCH) == "1–18 March 2025 (the days with data)"
    assert queries.cost_window_label(open_source(whole), P, MARCH) == "March 2025"
    per = queries.month_cost_per_contact(ten, P, MARCH)
    hist = queries.kpi_history(ten, P, "2025-03", "2025-03").iloc[0]
    assert per["labor_cost"].sum() == pytest.approx(hist["labor_cost"], rel=1e-9)  # the tile's window
    assert per["labor_cost"].sum() / per["handled"].sum() == pytest.approx(hist["cost_per_contact"], rel=1e-9)


def test_an_export_of_one_morning_defaults_to_its_own_month(whole, tmp_path):
    """A new operation's first export, taken at 10:00 on its first day: its month is the default (there is no
    month before it with data), though the morning is not a whole day."""
    folder = tmp_path / "first"
    shutil.copytree(whole, folder)
    c = pd.read_csv(folder / "contacts.csv", dtype=str, keep_default_na=False)
    at = pd.to_datetime(c["arrived_at"].str[:19])
    c[(at >= pd.Timestamp("2025-03-19")) & (at < pd.Timestamp("2025-03-19 10:00"))].to_csv(
        folder / "contacts.csv", index=False
    )
    assert str(views.last_complete_month(open_source(folder), P)) == "2025-03"
