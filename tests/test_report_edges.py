"""Edge cases of the reports' figures found by a probe: a month whose data fall only on closed days, a month where
no contract term could be judged, contracts without terms, a calendar with no open weekday, and a figure that
rounds to its target. Every expectation below is worked by hand.

Open days are the business calendar's (parameters/calendar.yaml: Monday-Friday, the listed US holidays closed).
January 2025: 23 weekdays less New Year's Day (closed) = 22 open days.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from test_validate import GOOD, build

from reportlib.cli import main
from reportlib.core import safety
from reportlib.core.errors import UsageError
from reportlib.core.params import calendar_problem, load_params, validate_params
from reportlib.reports import agent_review as ar
from reportlib.reports import narrative, queries, views
from reportlib.reports.narrative import TotalsBasis

P = load_params(None)
NOV = pd.Period("2026-11", "M")


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))


# --- 1. data on closed days only: no open day covered ------------------------------------------------


def _saturday_only(tmp_path):
    """GOOD's contacts and activity moved from Monday 6 to Saturday 4 January 2025: Thursday 2 and Friday 3 are
    open days before the data, Monday 6 to Friday 31 (20) after it: 22 - 2 - 20 = 0 open days covered."""
    contacts = GOOD["contacts.csv"].replace("2025-01-06T", "2025-01-04T")
    activity = GOOD["agent_activity.csv"].replace("2025-01-06,", "2025-01-04,")
    qa = GOOD["qa_evaluations.csv"].replace("2025-01-07T", "2025-01-04T")
    folder = build(
        tmp_path / "sat", {"contacts.csv": contacts, "agent_activity.csv": activity, "qa_evaluations.csv": qa}
    )
    return views.start_report("monthly_pack", month="2025-01", data=str(folder)).source


def test_a_month_with_data_on_closed_days_only_has_no_budget_to_compare(tmp_path):
    """The labor tile showed the whole month's budget ($750,000) as its target with the note "budget pro-rated to
    the 0 of 22 open days with data"."""
    src = _saturday_only(tmp_path)
    assert queries.coverage(src, P, "2025-01") == (0, 22)
    summary = queries.monthly_summary(src, P, "2025-01")
    labor = {t["key"]: t for t in summary["tiles"]}["labor_cost"]
    assert labor["value"] == pytest.approx(8 * 30.0)  # 28,800 s scheduled = 8 h at $30 an hour
    assert labor["target"] is None and labor["status"] == "none"
    assert labor["note"] == "the data cover none of the month's 22 open days: no budget to compare with"
    assert pd.isna(summary["history"].set_index("month").loc["2025-01", "budget"])
    assert not any("budget" in line for line in summary["commentary"])  # no "over/under budget" driver


def test_the_so_far_wordings_read_for_no_open_day_covered():
    by_client = pd.DataFrame({"status": ["green", "red"], "missed": [0, 1], "penalty_at_risk": [0.0, 450.0]})
    assert queries.compliance_sentence(by_client, (0, 22)) == (
        "1 of 2 clients with contacts so far this month (the data cover none of the month's 22 open days) met every "
        "term of their contract; $450 of fees is at risk from missed terms."
    )
    assert (
        narrative.uncompared_note(0, 22)
        == "the data cover none of the month's 22 open days: not compared with whole months"
    )
    assert narrative.uncompared_note(12, 21) == "12 of 21 open days with data: not compared with whole months"
    assert narrative.partial_label(0, 22) == "partial: none of 22 open days"
    assert narrative.uncompared_note(0, 0) is None  # a month with no open day at all reads as a whole month
    trend = pd.DataFrame(
        {"clients_met": [0.5], "terms_met": [0.75], "terms_missed": [2.0], "penalty_at_risk": [450.0]},
        index=pd.Index(["2026-11"], name="month"),
    )
    tiles = {t.key: t for t in queries.compliance_tiles(trend, NOV, TotalsBasis(0, 20))}
    assert tiles["terms_missed"].name == "Terms missed so far"
    assert (
        tiles["terms_missed"].note == "the data cover none of the month's 20 open days: not compared with whole months"
    )


# --- 2. no term could be judged ------------------------------------------------------------------------


def _history() -> pd.DataFrame:
    """compliance_history rows by hand: October, C1's term met and C2's missed ($500 at risk); November, no
    contact on either client's term channel (met missing)."""
    base = {
        "client_id": ["C1", "C2"],
        "client_name": ["Acme", "Beta"],
        "sla_profile": ["bronze", "bronze"],
        "term": ["chat service level 80% in 60 s"] * 2,
        "metric": ["service_level"] * 2,
        "goal": [0.8, 0.8],
    }
    oct_ = pd.DataFrame(
        {**base, "month": "2026-10", "actual": [0.9, 0.7], "met": [True, False], "penalty_at_risk": [0.0, 500.0]}
    )
    nov = pd.DataFrame(
        {
            **base,
            "month": "2026-11",
            "actual": [float("nan")] * 2,
            "met": pd.array([None, None], dtype="boolean"),
            "penalty_at_risk": [0.0, 0.0],
        }
    )
    oct_["met"] = oct_["met"].astype("boolean")
    return pd.concat([oct_, nov], ignore_index=True)


def test_a_month_where_nothing_was_judged_has_no_missed_terms_or_fees_and_says_so():
    """November read "Terms missed 0 · On target", "Fees ... $0.00 · On target" and "0 of 0 clients with contacts
    this month met every term of their contract; $0.00 of fees is at risk"."""
    trend = queries.compliance_trend(_history())
    assert trend.loc["2026-10", "terms_missed"] == 1.0 and trend.loc["2026-10", "penalty_at_risk"] == 500.0
    assert trend.loc["2026-11"].isna().all()  # clients_met, terms_met, terms_missed, penalty_at_risk
    tiles = {t.key: t for t in queries.compliance_tiles(trend, NOV, TotalsBasis(20, 20))}
    for key in ("terms_missed", "penalty_at_risk"):
        assert tiles[key].value is None and tiles[key].status == "none"
    markup = narrative.tiles_html([tiles["terms_missed"], tiles["penalty_at_risk"]])
    assert "On target" not in markup and "No data" in markup
    nov = queries.compliance_by_client(_history().query("month == '2026-11'"))
    assert nov["status"].isna().all() and nov["penalty_at_risk"].isna().all()  # not judged: no $0 at risk
    assert (
        queries.compliance_sentence(nov, (20, 20)) == "No client had a contract term that could be judged this month."
    )
    assert queries.compliance_sentence(nov, (10, 20)) == (
        "No client had a contract term that could be judged so far this month (10 of 20 open days with data)."
    )


# --- 3. contracts without terms --------------------------------------------------------------------------


def test_contracts_without_terms_have_nothing_to_judge(tmp_path):
    """Every profile with `terms: []` crashed the SLA report and the pack with KeyError: 'month'."""
    folder = build(tmp_path / "d", {})
    src = views.start_report("sla", month="2025-01", data=str(folder)).source
    none = {"description": "none", "terms": []}
    params = {**P, "sla_contracts": {"profiles": {"gold": none, "silver": none}}}
    history = queries.compliance_history(src, params, "2024-01", "2025-01")
    assert len(history) == 0 and history.columns[0] == "month" and "met" in history.columns
    month = queries.compliance(src, params, "2025-01")
    assert len(month) == 0 and "month" not in month.columns
    by_client = queries.compliance_by_client(month)
    assert len(by_client) == 0
    assert queries.compliance_sentence(by_client, (1, 22)) == (
        "No client had a contract term that could be judged so far this month (1 of 22 open days with data)."
    )
    trend = queries.compliance_trend(history)
    assert len(trend) == 0
    assert all(
        t.value is None and t.status == "none" for t in queries.compliance_tiles(trend, "2025-01", TotalsBasis(1, 22))
    )


# --- 4. a calendar with no open weekday ----------------------------------------------------------------------


def _with_week(business_hours: dict) -> dict:
    return {**P, "calendar": {**P["calendar"], "business_hours": business_hours}}


def test_a_calendar_with_no_open_weekday_is_refused_naming_the_parameter():
    message = "parameters calendar.business_hours: no weekday is open; list at least one (weekdays: [0, 1, 2, 3, 4])"
    with pytest.raises(UsageError) as info:
        validate_params(_with_week({"start": "08:00", "end": "18:00", "weekdays": []}))
    assert str(info.value) == message  # one problem: one line
    # every day closed one by one is the same week
    closed = {d: None for d in ("mon", "tue", "wed", "thu", "fri")}
    assert calendar_problem(_with_week(closed)) == message
    # a week with one open day, or the default Monday-Friday, is fine
    assert calendar_problem(_with_week({"weekdays": []} | {"sat": "09:00-13:00"})) is None
    assert calendar_problem(_with_week({"weekdays": ["sat"]})) is None
    assert calendar_problem(P) is None and calendar_problem(_with_week({})) is None


@pytest.mark.parametrize("command", ["run", "validate"])
def test_run_and_validate_refuse_a_week_with_no_open_day_in_one_line(tmp_path, capsys, command):
    """`reportlib validate` passed it and `run` stopped on numpy's "the business day weekmask must have at least
    one valid business day"."""
    folder = build(tmp_path / "d", {})
    overlay = tmp_path / "noweek.yaml"
    overlay.write_text('calendar:\n  business_hours:\n    start: "08:00"\n    end: "18:00"\n    weekdays: []\n')
    extra = ["--month", "2025-01", "--out", str(tmp_path / "out"), "--reports", "sla"] if command == "run" else []
    assert main([command, *extra, "--data", str(folder), "--params", str(overlay)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        f"reportlib {command}: parameters calendar.business_hours: no weekday is open; list at least one "
        "(weekdays: [0, 1, 2, 3, 4])"
    )
    assert not any("Traceback" in line or "weekmask" in line for line in err)


# --- 5. a figure that rounds to its target -------------------------------------------------------------------


def test_distinct_digits_adds_decimals_only_when_a_value_would_read_as_its_target():
    assert narrative.distinct_digits(84.95, 85, 1) == 2  # "85.0" = "85.0"; "84.95" and "85.00"
    assert narrative.distinct_digits(84.999, 85, 1) == 3  # "85.00" = "85.00"; "84.999" and "85.000"
    assert narrative.distinct_digits(84.9999, 85, 1) == 4  # "84.9999" and "85.0000"
    assert narrative.distinct_digits(84.99999999999, 85, 1) == 1 + narrative.MORE_DIGITS  # six more at most
    # a probe's missed term: 3,458 of 4,692 first-contact resolutions against a 73.7% goal read "73.700%" twice
    fcr = 3458 / 4692
    d = narrative.distinct_digits(fcr, 0.737, None, "share")
    assert narrative.format_value(fcr, "share", digits=d) == "73.6999%" and d == 4
    # a goal of 62.45% read "62.5%" in the workbook's Goal column, a goal the contract does not state (a probe)
    assert narrative.distinct_digits(0.70, 0.6245, None, "share") == 2  # "70.00%" against "62.45%"
    assert narrative.distinct_digits(0.6245, 0.6245, None, "share") == 2
    assert narrative.distinct_digits(0.62449, 0.6245, None, "share") == 3  # "62.449%" against "62.450%"
    assert narrative.distinct_digits(84.9, 85, 1) == 1  # already reads apart
    assert narrative.distinct_digits(85.0, 85, 1) == 1  # equal: met, and shown so
    assert narrative.distinct_digits(None, 85, 1) == 1 and narrative.distinct_digits(84.95, None, 1) == 1
    assert narrative.distinct_digits(0.8996, 0.9, None, "share") == 2  # "90.0%" = "90.0%"; "89.96%" and "90.00%"
    assert narrative.distinct_digits(0.85, 0.9, None, "share") is None  # the unit's default, untouched
    assert narrative.distinct_digits(900.4, 900, None, "seconds") == 1  # "900 s" = "900 s"; "900.4 s"


def _qa_review(qa_mean: float = 84.95):
    """November 2026: a QA mean of `qa_mean` against a goal of 85 (84.95: missed by 0.05), 87.37 in October and
    over the three months before."""
    from test_agent_review import _review

    return _review(qa_mean=qa_mean, qa_goal=85.0, qa_met=qa_mean >= 85.0, qa_mean_prev3=87.37)


def test_a_qa_score_just_under_its_goal_does_not_read_as_the_goal():
    """The tile read "QA score 85.0 · Near target · Target ≥ 85.0" and the goals table "85.0 85.0 missed"."""
    from reportlib.delivery.mail import _display_tile

    review = _qa_review()
    qa = next(t for t in ar.summary_tiles(review) if t.key == "qa")
    assert qa.value == 84.95 and qa.status == "amber"  # judged on the true value: 0.05 under, within 5%
    assert qa.digits == 2
    markup = narrative.tiles_html([qa])
    assert ">84.95<" in markup and "Target ≥ 85.00" in markup and "85.0<" not in markup
    assert "▼ 2.42 vs last month" in markup  # 84.95 - 87.37
    shown = _display_tile(qa.as_dict())  # the e-mail body reads as the page
    assert shown["value_text"] == "84.95" and shown["target_text"] == "≥ 85.00"
    # a score well under its goal keeps one decimal
    other = next(t for t in ar.summary_tiles(_qa_review(82.96)) if t.key == "qa")
    assert other.digits == ar.QA_DIGITS


def test_the_goals_table_row_of_a_qa_score_just_under_its_goal_reads_apart(monkeypatch):
    from reportlib.reports import views as v

    tables: list[pd.DataFrame] = []
    monkeypatch.setattr(v, "table", lambda frame, **kw: tables.append(frame))
    monkeypatch.setattr(v, "caption", lambda *a, **kw: None)
    ar.show_goals(_qa_review())
    row = tables[0].set_index("measure").loc["QA score"]
    assert (row["value"], row["goal"], row["result"]) == ("84.95", "85.00", "missed")
    assert row["prev3"] == "87.4"  # the other columns keep QA_DIGITS


def test_a_roster_without_hr_history_is_told_what_it_lacks():
    """An HR roster with hire dates, no leaver yet and no fte column was said to be "derived from call records"."""
    from reportlib.reports import queries

    roster = pd.DataFrame({"agent_id": ["a"], "hire_date": [pd.Timestamp("2025-01-06")], "fte": [None]})
    assert not queries.roster_has_history(roster)
    said = queries.roster_history_note(roster)
    assert "hire dates but no termination date and no FTE" in said and "fte column" in said
    assert queries.roster_has_history(roster.assign(fte=[1.0]))  # filled in: shown
    assert "no hire dates" in queries.roster_history_note(roster.assign(hire_date=[pd.NaT]))


def test_warnings_that_compare_tables_reach_every_pages_data_quality_note(tmp_path, monkeypatch):
    """Contacts after an agent's termination date and a team spelled two ways were warned by `validate` alone:
    every page said "No data-quality warnings were raised" (a probe: a leaver's 281 contacts after the date, a team
    split in two). They are in each page's note now, named as `validate` names them, nobody named beyond the
    team's own page."""
    from test_validate import GOOD, build

    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    agents = GOOD["agents.csv"].replace("A1,Ann Lee,Team 1,Sue,North,agent,2024-01-01,,,,,1,30",
                                        "A1,Ann Lee,team 1,Sue,North,agent,2024-01-01,2025-01-05,voluntary,Moved,false,1,30")  # fmt: skip
    folder = build(tmp_path / "d", {"agents.csv": agents})
    from reportlib.data.load import open_source

    errors, warned = open_source(str(folder)).validate()
    across = [w for w in warned if "termination_date" in w or "one spelling per team" in w]
    assert not errors and len(across) == 2, warned
    for report in ("team_performance", "attrition", "monthly_pack", "sla"):
        facts = views.start_report(report, month="2025-01", data=str(folder)).facts()
        text = " ".join(facts["warnings"])
        assert "expected a date on or after the agent's last contact" in text, report
        assert '"Team 1" in agents.csv and "team 1" in agents.csv differ only in letter case' in text, report
        assert "Ann Lee" not in text, report


def test_pages_beyond_the_team_name_nobody_in_their_data_quality_warnings(tmp_path, monkeypatch):
    """A roster row whose agent_id is a work e-mail address and whose termination type has no date: the pack (sent
    to the executives' list) printed the warning with the id beside "involuntary". Names and ids are redacted on
    every page but the team's own; the warning itself is still there."""
    from test_validate import GOOD, build

    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    row = "kim.nguyen@corp.example,Kim Nguyen,Team 1,Sue,North,agent,2024-03-01,,involuntary,Conduct,,1,30\n"
    folder = build(tmp_path / "d", {"agents.csv": GOOD["agents.csv"] + row})
    for report in ("monthly_pack", "sla", "attrition", "forecast"):
        facts = views.start_report(report, month="2025-01", data=str(folder)).facts()
        text = " ".join(facts["warnings"] + facts["notes"])
        assert "involuntary" in text and "[redacted]" in text, report
        assert "kim.nguyen" not in text and "Kim Nguyen" not in text, report
    team = views.start_report("team_performance", month="2025-01", data=str(folder)).facts()
    assert any("kim.nguyen@corp.example" in w for w in team["warnings"])  # the manager's own page names the row
    # a client's and an agent's pages say that there are warnings, not how many (the count is the whole source's)
    for report, extra in (("client_review", {"client_id": "C1"}), ("agent_review", {"agent_id": "A1"})):
        said = views.start_report(report, month="2025-01", data=str(folder), **extra).facts()["warnings"]
        assert len(said) == 1 and "service team's own reports" in said[0] and not any(c.isdigit() for c in said[0])
    # a review probe: ids "ted" and "tim" turned "expected" into "expec[redacted]" and the placeholder into
    # "[redac[redacted]]"; numeric ids (import-hr's EmpID) blanked row numbers. Whole words, one pass, ids with
    # a letter only
    ctx = views.start_report("monthly_pack", month="2025-01", data=str(folder))
    ctx.redact_terms = ["ted", "Ann Lee", "kim.nguyen@corp.example"]
    text = 'expected a wait in rows 101 ("ted"), 205; Ann Lee and ted; kim.nguyen@corp.example; ted.'
    assert (
        ctx.redact(text)
        == 'expected a wait in rows 101 ("[redacted]"), 205; [redacted] and [redacted]; [redacted]; [redacted].'
    )
    # the one whole-word rule both redactors use (views.ReportContext.redact and agent_review.Redactor)
    assert re.findall(safety.whole_word("ted"), "ted expected (ted) tedious ted.") == ["ted", "ted", "ted"]
    assert re.findall(safety.whole_word("A.B."), "A.B. and A.B.C and xA.B.") == ["A.B.", "A.B."]
    numeric = GOOD["agents.csv"].replace("A2,Bo Chan", "205,Bo Chan")
    ctx = views.start_report("monthly_pack", month="2025-01", data=str(build(tmp_path / "n", {"agents.csv": numeric})))
    assert "205" not in ctx.redact_terms and "Bo Chan" in ctx.redact_terms


def test_the_email_shows_money_in_the_currency_the_page_showed_it_in():
    """A pack set to "€" (parameters reports.currency) was e-mailed with "$14.27 ≤ $14.00" in its key figures: the
    mail read a top-level `currency` no parameter file sets. The tiles now carry their currency."""
    from reportlib.delivery.mail import _display_tile

    tile = narrative.make_tile("Cost per contact", 14.27, "currency", target=14.0, prev=13.9, higher_is_better=False)
    with views.collect() as shown:
        views.tiles([tile], currency="€")
    data = shown[0][views.TILES_MIME][0]
    assert data["currency"] == "€"
    row = _display_tile(data)  # no currency passed: the tile's own
    assert (row["value_text"], row["target_text"]) == ("€14.27", "≤ €14.00") and "€0.37" in row["deltas"][0][0]


def test_tile_names_say_the_thresholds_and_channels_set_not_the_defaults():
    """A pack with email_threshold_h: 4 showed its 4-hour figure under "Email answered within 8 business hours"
    (the shipped tile's name); a phone-only desk's tile read "Service level (phone and chat)"."""
    names = {t["key"]: t["name"] for t in queries.report_settings({})["tiles"]}
    assert names["email_sl"] == "Email answered within 8 business hours"
    assert names["service_level"] == "Service level (phone and chat)"
    rep = queries.report_settings({"reports": {"email_threshold_h": 4.5, "queue_channels": ["phone"]}})
    names = {t["key"]: t["name"] for t in rep["tiles"]}
    assert names["email_sl"] == "Email answered within 4.5 business hours"
    assert names["service_level"] == "Service level (phone)"
    three = queries.report_settings({"reports": {"queue_channels": ["phone", "chat", "video"]}})["tiles"][0]["name"]
    assert three == "Service level (phone, chat and video)"
    one = queries.report_settings({"reports": {"queue_channels": "phone"}})["tiles"][0]["name"]
    assert one == "Service level (phone)"  # one channel written as text, not "p, h, o, n and e"
    own = {"reports": {"tiles": [{"key": "email_sl", "name": "Mail {in time}", "target": 0.9}]}}
    assert queries.report_settings(own)["tiles"][0]["name"] == "Mail {in time}"  # other braces kept as written


def test_the_team_pages_staffing_points_show_one_decimal_as_computed():
    """The team page's "Staffing against plan" showed -24.40 / -20.00 / -4.30: points rounded to one decimal
    (plan_vs_actual._pts) printed with two, a precision they do not have. Every points column of a page's
    table is formatted as points (one decimal), as the SLA page's are."""
    import nbformat

    from reportlib.reports.registry import notebook_path

    for report, columns in (
        ("team_performance", ("effect_staffing", "effect_schedule", "effect_attendance")),
        ("sla", ("volume", "aht", "staffing", "other")),
    ):
        nb = nbformat.read(str(notebook_path(report)), as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        for column in columns:
            assert f'"{column}": "points"' in code, (report, column)
    assert narrative.format_value(-24.4, "points") == "-24.4" and narrative.format_value(-0.04, "points") == "0.0"


def test_a_change_that_rounds_to_nothing_has_no_arrow_on_the_tile_or_in_the_mail():
    """A client's CSAT tile read "▼ 0.0 pts vs Oct 2026" (82.2679% against 82.2706%) beside the sentence "held
    steady at 82.3%": the arrow took only an exact 0 as flat. One rule (narrative.unchanged) for the sentence,
    the tile's arrow and colour, and the e-mail's."""
    from reportlib.delivery.mail import _display_tile

    tile = narrative.make_tile("CSAT", 0.822679, "share", prev=0.822706, target=0.8)
    markup = narrative.tiles_html([tile])
    assert "● 0.0 pts vs last month" in markup and "▼" not in markup and "rl-delta-flat" in markup
    assert narrative.movement(tile.delta_prev, "share", "82.3%") == "held steady at 82.3%"
    assert _display_tile(tile.as_dict())["deltas"][0] == ["0.0 pts vs last month", "flat"]  # not "-0.0 pts"
    moved = narrative.make_tile("CSAT", 0.8232, "share", prev=0.8226, target=0.8)  # +0.06 pts shows as +0.1
    assert "▲ 0.1 pts" in narrative.tiles_html([moved]) and narrative.unchanged(moved.delta_prev, "share") is False
    assert narrative.unchanged(0.004, "seconds") and not narrative.unchanged(0.6, "seconds")  # '0 s', '1 s'


def test_every_clients_chart_says_it_is_at_the_operations_threshold():
    """The SLA page's heatmap showed a bronze client's phone service level at the operation's 30 s (62.3%) under
    its contract's 60 s term (66.7%) with nothing saying which; its email table said "within 8 business hours"
    beside a 4-hour contract judged missed. Their captions name the operation's own threshold and its setting."""
    params = {"sl_threshold_s": 20, "reports": {"email_threshold_h": 6}}
    assert queries.own_threshold_caption(params, "phone").startswith("Answered within 20 s (sl_threshold_s), the ")
    assert queries.own_threshold_caption(params, "email").startswith(
        "Emails answered within 6 business hours (reports.email_threshold_h), the operation's own target"
    )


def test_the_capacity_sentence_reads_a_surplus_as_a_surplus():
    """A large roster's page read "0 of 13 weeks are short (largest gap -229.0 FTE)" and "0 hire(s)"."""
    from reportlib.reports.forecast_view import capacity_sentence

    base = {"weeks": 13, "recommended_hires": 0, "weeks_short_with_hires": 0, "cost": 1000.0, "budget": None}
    text = capacity_sentence({**base, "weeks_short": 0, "largest_gap_fte": -229.04}, "€")
    assert text.startswith(
        "Without the recommended hires, 0 of 13 weeks are short (every week has at least 229.0 FTE to spare)."
    )
    assert "No hires are recommended. Cost over the plan: €1,000." in text
    odd = capacity_sentence({**base, "weeks_short": 0, "largest_gap_fte": float("nan"), "budget": float("nan")})
    assert (
        odd
        == "The FTE needed is not known for any of the plan's 13 weeks, so no week is judged. Cost over the plan: $1,000."
    )
    assert "at least 0.0 FTE" in capacity_sentence({**base, "weeks_short": 0, "largest_gap_fte": 0.0})
    short = capacity_sentence({**base, "weeks_short": 1, "largest_gap_fte": 3.26, "recommended_hires": 1,
                               "weeks_short_with_hires": 1, "budget": 900.0})  # fmt: skip
    assert "1 of 13 weeks is short (largest gap 3.3 FTE)" in short and "is 1 hire; with it 1 week stays short." in short
    assert short.endswith("against a budget of $900.")
    after = capacity_sentence({**base, "weeks_short": 3, "largest_gap_fte": 66.94, "recommended_hires": 5,
                               "weeks_short_with_hires": 2, "largest_gap_fte_with_hires": 64.61})  # fmt: skip
    assert "is 5 hires; with them 2 weeks stay short (largest gap 64.6 FTE)." in after  # a planner: say how short


def test_a_chart_without_names_labels_its_series_for_a_reader():
    """The SLA page's "Fee at risk by client" hover read "penalty_at_risk: $1,234"."""
    from reportlib.reports import charts

    df = pd.DataFrame({"month": ["2026-10", "2026-11"], "penalty_at_risk": [10.0, 20.0]})
    bar = charts.bar_chart(df, "month", "penalty_at_risk", unit="currency")
    assert bar.data[0].name == "Penalty at risk" and "Penalty at risk: $%{y:,.2f}" in bar.data[0].hovertemplate
    assert charts.line_chart(df, "month", "penalty_at_risk", names={"penalty_at_risk": "Fees"}).data[0].name == "Fees"


def test_a_note_with_nothing_to_say_shows_nothing():
    """Queries that may have nothing to say (`fees_unknown`) return None; the notebook passes that on once."""
    with views.collect() as shown:
        views.note(None, "warning")
        views.note("", "warning")
        views.note("Acme has missed terms and no monthly_fee.", "warning")
    assert len(shown) == 1 and "Acme" in shown[0]["text/html"]


def test_the_attrition_page_narrowed_to_a_team_of_a_few_people_is_refused_at_its_start(tmp_path):
    """`team` (papermill, JupyterLab) narrows every figure of the attrition page to one team: for a 2-person team it
    said its leaver was a regretted loss and gave their tenure to the day (a probe). The page now stops at its start,
    as for a team not on the roster; the other reports narrowed to it are not concerned."""
    folder = build(tmp_path / "d", {})  # Team 1: Ann Lee and Bo Chan
    with pytest.raises(UsageError, match=r"team 'Team 1' averaged fewer than 5 people over the 13 months to 2025-01"):
        views.start_report("attrition", month="2025-01", data=str(folder), team="Team 1")
    assert views.start_report("team_performance", month="2025-01", data=str(folder), team="Team 1").team == "Team 1"
