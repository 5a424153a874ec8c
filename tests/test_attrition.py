"""Attrition analytics: every figure checked against a hand calculation or an independent method.

The hand-made roster below is built to hit the edge cases: a person hired and terminated in the same month
(A3), terminations on the first (A2) and the last (A4) day of a month and on the last day of the month
before (A11), a future-dated hire (A6), a rehire under a new agent_id (Gus Ivy: A7 then A8), a team with no
leavers (Delta), a team with nobody left in the month (Epsilon: zero average headcount) and a month before
anyone was hired (zero headcount everywhere).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path
from scipy.stats import chi2

from reportlib.core.errors import DataError, UsageError
from reportlib.metrics import attrition as at

COLS = [
    "agent_id",
    "name",
    "team",
    "supervisor",
    "site",
    "role",
    "hire_date",
    "termination_date",
    "termination_type",
    "termination_reason",
    "regretted",
    "fte",
    "hourly_cost",
]
ROWS = [
    ("A1", "Ann Lee", "Alpha", "S1", "North", "agent", "2024-01-15", None, None, None, None, 1.0, 30.0),
    (
        "A2",
        "Bob Ray",
        "Alpha",
        "S1",
        "North",
        "agent",
        "2025-06-01",
        "2026-03-01",
        "voluntary",
        "more money",
        True,
        1.0,
        28.0,
    ),
    (
        "A3",
        "Cy Dee",
        "Alpha",
        "S1",
        "North",
        "agent",
        "2026-03-05",
        "2026-03-20",
        "involuntary",
        "attendance",
        False,
        0.5,
        25.0,
    ),
    (
        "A4",
        "Di Fox",
        "Beta",
        "S2",
        "South",
        "agent",
        "2025-12-01",
        "2026-03-31",
        "voluntary",
        "more money",
        False,
        1.0,
        26.0,
    ),
    ("A5", "Ed Gum", "Beta", "S2", "South", "lead", "2023-05-10", None, None, None, None, 1.0, 35.0),
    ("A6", "Flo Hay", "Beta", "S2", "South", "agent", "2026-04-06", None, None, None, None, 1.0, 25.0),
    (
        "A7",
        "Gus Ivy",
        "Gamma",
        "S3",
        "North",
        "agent",
        "2024-02-01",
        "2025-02-28",
        "voluntary",
        "return to school",
        True,
        0.5,
        27.0,
    ),
    ("A8", "Gus Ivy", "Gamma", "S3", "North", "agent", "2025-09-01", None, None, None, None, 1.0, 29.0),
    ("A9", "Hal Jo", "Delta", "S4", "South", "agent", "2025-01-10", None, None, None, None, 0.8, 30.0),
    ("A10", "Ida Kay", "Delta", "S4", "South", "agent", "2025-11-15", None, None, None, None, 1.0, 30.0),
    (
        "A11",
        "Jo Lim",
        "Alpha",
        "S1",
        "North",
        "agent",
        "2025-08-18",
        "2026-02-28",
        "voluntary",
        "more money",
        False,
        1.0,
        27.0,
    ),
    (
        "A12",
        "Kit Moe",
        "Epsilon",
        "S6",
        "North",
        "agent",
        "2025-04-01",
        "2025-10-31",
        "involuntary",
        "attendance",
        False,
        0.6,
        24.0,
    ),
    (
        "A13",
        "Lu Ng",
        "Omega",
        "S5",
        "South",
        "agent",
        "2020-01-06",
        "2021-06-30",
        "involuntary",
        None,
        False,
        1.0,
        22.0,
    ),
    (
        "A14",
        "Mo Oz",
        "Alpha",
        "S1",
        "North",
        "agent",
        "2025-07-07",
        "2025-08-15",
        "voluntary",
        "schedule",
        False,
        1.0,
        26.0,
    ),
]


def roster() -> pd.DataFrame:
    d = pd.DataFrame(ROWS, columns=COLS)
    d["hire_date"] = pd.to_datetime(d["hire_date"])
    d["termination_date"] = pd.to_datetime(d["termination_date"])
    d["regretted"] = d["regretted"].astype("boolean")
    return d


def one(frame: pd.DataFrame, **where) -> pd.Series:
    sel = frame
    for k, v in where.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, (where, sel)
    return sel.iloc[0]


# --- headcount -------------------------------------------------------------------------------------


def test_headcount_on_dates_counts_the_termination_day_and_not_future_hires():
    hc = at.headcount(roster(), ["2026-03-01", "2026-03-31", "2026-04-01", "2026-04-05", "2026-04-06"])
    # 03-01: A1, A2 (leaves that day), A4, A5, A8, A9, A10            -> 7 (A11 left 02-28, A3 not hired)
    # 03-31: A1, A4 (leaves that day), A5, A8, A9, A10                -> 6
    # 04-01: A1, A5, A8, A9, A10                                      -> 5 (A6 is hired 04-06)
    # 04-06: + A6                                                     -> 6
    assert hc["headcount"].tolist() == [7, 6, 5, 5, 6]
    # FTE on 03-01: 1 + 1 + 1 + 1 + 1 + 0.8 + 1
    assert hc["fte"].iloc[0] == pytest.approx(6.8)


# --- monthly and annualized rates --------------------------------------------------------------------


def test_month_with_same_month_hire_and_leave_and_first_and_last_day_terminations():
    r = at.monthly_attrition(roster(), "2026-03").iloc[0]
    assert r["headcount_start"] == 7 and r["headcount_end"] == 6
    assert r["hires"] == 1  # A3
    assert r["terminations"] == 3  # A2 (03-01), A3 (03-20), A4 (03-31)
    assert (r["voluntary"], r["involuntary"], r["regretted"]) == (2, 1, 1)
    assert r["monthly_rate"] == pytest.approx(3 / 6.5)
    assert r["voluntary_rate"] == pytest.approx(2 / 6.5)
    assert r["involuntary_rate"] == pytest.approx(1 / 6.5)
    assert r["regretted_rate"] == pytest.approx(1 / 6.5)
    # trailing 12 months (2025-04 .. 2026-03): A14 (08-15), A12 (10-31), A11 (02-28), A2, A3, A4 -> 6
    # (A7 left 2025-02-28: outside). Month-start headcounts 2025-04-01 .. 2026-04-01, per agent:
    # A1 13, A2 10 (Jun..Mar), A4 4 (Dec..Mar), A5 13, A8 8 (Sep..Apr), A9 13, A10 5 (Dec..Apr),
    # A11 6 (Sep..Feb), A12 7 (Apr..Oct), A14 1 (Aug) -> 80, mean 80/13
    assert r["terminations_12m"] == 6
    assert r["avg_headcount_13"] == pytest.approx(80 / 13)
    assert r["annualized_rate"] == pytest.approx(6 / (80 / 13))
    assert r["annualized_voluntary_rate"] == pytest.approx(4 / (80 / 13))  # A14, A11, A2, A4
    assert r["annualized_involuntary_rate"] == pytest.approx(2 / (80 / 13))  # A12, A3
    assert r["annualized_regretted_rate"] == pytest.approx(1 / (80 / 13))  # A2


def test_fte_weighted_variants():
    r = at.monthly_attrition(roster(), "2026-03").iloc[0]
    assert r["fte_start"] == pytest.approx(6.8)  # A9 is 0.8
    assert r["fte_end"] == pytest.approx(5.8)  # without A2
    assert r["fte_terminations"] == pytest.approx(2.5)  # A2 1 + A3 0.5 + A4 1
    assert r["fte_monthly_rate"] == pytest.approx(2.5 / 6.3)
    assert r["fte_voluntary_rate"] == pytest.approx(2.0 / 6.3)
    # 13 month starts in FTE: 13 + 10 + 4 + 13 + 8 + 0.8*13 + 5 + 6 + 0.6*7 + 1 = 74.6
    # 12-month terminations in FTE: A14 1 + A12 0.6 + A11 1 + A2 1 + A3 0.5 + A4 1 = 5.1
    assert r["fte_avg_13"] == pytest.approx(74.6 / 13)
    assert r["fte_annualized_rate"] == pytest.approx(5.1 / (74.6 / 13))


def test_by_team_with_no_leavers_and_zero_headcount_team():
    t = at.monthly_attrition(roster(), "2026-03", by="team")
    assert set(t["team"]) == {"Alpha", "Beta", "Delta", "Epsilon", "Gamma"}  # Omega: nobody in the window
    alpha = one(t, team="Alpha")
    assert (alpha["headcount_start"], alpha["headcount_end"], alpha["hires"], alpha["terminations"]) == (2, 1, 1, 2)
    assert alpha["monthly_rate"] == pytest.approx(2 / 1.5)
    # Alpha 12 months: A14, A11, A2, A3 = 4; month starts A1 13 + A2 10 + A11 6 + A14 1 = 30
    assert alpha["annualized_rate"] == pytest.approx(4 / (30 / 13))
    beta = one(t, team="Beta")
    assert beta["monthly_rate"] == pytest.approx(1 / 2)
    assert beta["annualized_rate"] == pytest.approx(1 / (17 / 13))  # A4 4 + A5 13 month starts
    delta = one(t, team="Delta")  # no leavers: 0, not missing
    assert delta["terminations"] == 0 and delta["monthly_rate"] == 0.0 and delta["annualized_rate"] == 0.0
    eps = one(t, team="Epsilon")  # nobody in March: missing monthly rate
    assert eps["headcount_start"] == 0 and eps["headcount_end"] == 0
    assert math.isnan(eps["monthly_rate"])
    assert eps["annualized_rate"] == pytest.approx(1 / (7 / 13))  # A12 on 7 of the 13 month starts
    gamma = one(t, team="Gamma")  # A7 left before the window
    assert gamma["terminations_12m"] == 0 and gamma["annualized_rate"] == 0.0
    overall = at.monthly_attrition(roster(), "2026-03").iloc[0]
    for col in ("headcount_start", "headcount_end", "hires", "terminations", "terminations_12m"):
        assert t[col].sum() == overall[col]


def test_by_tenure_band():
    t = at.monthly_attrition(roster(), "2026-03", by="tenure_band")
    assert t["tenure_band"].tolist() == [b[0] for b in at.DEFAULT_TENURE_BANDS]
    # tenure on 03-01: A4 90 d (0-90), A8 181 & A10 106 (3-6 m), A2 273 (6-12 m), A9 415 (1-2 y), A1, A5 (2+ y)
    # on 03-31: A4 120 & A10 136 (3-6 m), A8 211 (6-12 m), A9 (1-2 y), A1, A5 (2+ y)
    # leavers: A3 at 15 d, A4 at 120 d, A2 at 273 d
    expect = {
        "0-90 days": (1, 0, 1, 1),
        "3-6 months": (2, 2, 0, 1),
        "6-12 months": (1, 1, 0, 1),
        "1-2 years": (1, 1, 0, 0),
        "2+ years": (2, 2, 0, 0),
    }
    for band, (s, e, h, n) in expect.items():
        r = one(t, tenure_band=band)
        assert (r["headcount_start"], r["headcount_end"], r["hires"], r["terminations"]) == (s, e, h, n), band
    assert one(t, tenure_band="0-90 days")["monthly_rate"] == pytest.approx(1 / 0.5)
    # 0-90 days on the 13 month starts: Apr A12, A9 (80 d); May A12; Jun A12, A2; Jul A2; Aug A2, A14;
    # Sep A8, A11; Oct A8, A11; Nov A8, A11; Dec A4, A10; Jan A4, A10; Feb A4, A10; Mar A4; Apr 2026 none = 21
    # leavers within the band in 12 months: A14 (39 d), A3 (15 d)
    assert one(t, tenure_band="0-90 days")["annualized_rate"] == pytest.approx(2 / (21 / 13))


def test_rehire_is_two_people():
    feb = at.monthly_attrition(roster(), "2025-02").iloc[0]
    # 02-01 and 02-28: A1, A5, A7 (leaves 02-28, still counted that day), A9
    assert (feb["headcount_start"], feb["headcount_end"], feb["terminations"], feb["regretted"]) == (4, 4, 1, 1)
    assert feb["monthly_rate"] == pytest.approx(0.25)
    sep = at.monthly_attrition(roster(), "2025-09").iloc[0]
    # 09-01: A1, A2, A5, A8 (rehired that day), A9, A11, A12 -> 7; same on 09-30
    assert (sep["headcount_start"], sep["headcount_end"], sep["hires"], sep["terminations"]) == (7, 7, 1, 0)
    d = at.tenure_durations(roster(), "2026-03-31")
    gus = d[d["name"] == "Gus Ivy"].sort_values("hire_date")
    assert gus["agent_id"].tolist() == ["A7", "A8"] and gus["left"].tolist() == [True, False]


def test_future_hire_month_and_zero_headcount_month():
    apr = at.monthly_attrition(roster(), "2026-04").iloc[0]
    assert (apr["headcount_start"], apr["headcount_end"], apr["hires"], apr["terminations"]) == (5, 6, 1, 0)
    empty = at.monthly_attrition(roster(), "2019-06")  # before anyone was hired
    assert len(empty) == 1
    r = empty.iloc[0]
    assert r["headcount_start"] == 0 and r["terminations"] == 0
    assert all(math.isnan(r[c]) for c in empty.columns if "rate" in c)
    assert at.monthly_attrition(roster(), "2019-06", by="team").empty


def test_month_range_equals_single_months():
    many = at.monthly_attrition(roster(), "2025-10", "2026-04", by="site")
    for m in ("2025-10", "2026-02", "2026-04"):
        single = at.monthly_attrition(roster(), m, by="site")
        pd.testing.assert_frame_equal(many[many["month"] == m].reset_index(drop=True), single)


def test_cli_record_columns():
    rec = at.attrition_for_month(roster(), "2026-03", by="supervisor")
    assert list(rec.columns) == [
        "supervisor",
        "headcount_start",
        "headcount_end",
        "hires",
        "terminations",
        "voluntary",
        "involuntary",
        "regretted",
        "monthly_rate",
        "annualized_rate",
    ]


def test_bad_input_is_a_clear_error():
    bad = roster()
    bad.loc[0, "termination_date"] = pd.Timestamp("2020-01-01")
    with pytest.raises(DataError, match="termination_date before hire_date for agent_id A1"):
        at.monthly_attrition(bad, "2026-03")
    with pytest.raises(UsageError):
        at.monthly_attrition(roster(), "March")
    with pytest.raises(UsageError, match="cannot group"):
        at.monthly_attrition(roster(), "2026-03", by="shoe_size")


def test_tenure_bands_from_parameters():
    from reportlib.core.params import load_params

    assert at.tenure_bands(load_params()) == at.DEFAULT_TENURE_BANDS
    custom = at.tenure_bands({"tenure_bands": [{"label": "new", "max_days": 30}, {"label": "old", "max_days": None}]})
    assert at.band_of([0, 30, 31], custom).tolist() == ["new", "new", "old"]
    with pytest.raises(UsageError):
        at.tenure_bands(
            {
                "tenure_bands": [
                    {"label": "a", "max_days": 30},
                    {"label": "b", "max_days": 10},
                    {"label": "c", "max_days": None},
                ]
            }
        )


# --- early tenure, survival, reasons ---------------------------------------------------------------


def test_early_tenure_attrition_by_cohort():
    e = at.early_tenure_attrition(roster(), "2026-03-31").set_index("cohort")
    # 2025Q3 hires: A11 (08-18), A14 (07-07, left after 39 days), A8 (09-01) -> 1 of 3
    assert (e.loc["2025Q3", "hires"], e.loc["2025Q3", "early_leavers"]) == (3, 1)
    assert e.loc["2025Q3", "rate"] == pytest.approx(1 / 3) and e.loc["2025Q3", "complete"]
    # 2025Q4: A10, A4 (left at 120 days: not early) -> 0 of 2
    assert (e.loc["2025Q4", "hires"], e.loc["2025Q4", "early_leavers"]) == (2, 0)
    # 2026Q1: A3 (15 days) -> 1 of 1, cohort not yet 90 days old; A6 (hired after as_of) not counted
    assert (e.loc["2026Q1", "hires"], e.loc["2026Q1", "early_leavers"]) == (1, 1)
    assert not e.loc["2026Q1", "complete"]
    assert e["hires"].sum() == 13


def test_kaplan_meier_by_hand():
    s = at.tenure_survival(roster(), "2026-03-31", by="team")
    alpha = one(s.summary, team="Alpha")
    # Alpha: A3 left at 15 d, A14 at 39, A11 at 194, A2 at 273; A1 censored at 806
    # S(15) = 4/5, S(39) = 3/5, S(194) = 2/5, S(273) = 1/5
    assert (alpha["agents"], alpha["leavers"]) == (5, 4)
    assert alpha["median_tenure_days"] == 194
    assert alpha["p_reach_90d"] == pytest.approx(3 / 5)
    assert alpha["p_reach_365d"] == pytest.approx(1 / 5)
    curve = s.curves[s.curves["team"] == "Alpha"].set_index("tenure_days")["survival"]
    assert curve.loc[[15.0, 39.0, 194.0, 273.0, 806.0]].tolist() == pytest.approx([0.8, 0.6, 0.4, 0.2, 0.2])
    delta = one(s.summary, team="Delta")  # nobody left: median not reached
    assert math.isnan(delta["median_tenure_days"]) and delta["p_reach_90d"] == 1.0
    eps = one(s.summary, team="Epsilon")  # longest tenure 213 d: P(1 year) unknown
    assert math.isnan(eps["p_reach_365d"])
    cohorts = at.tenure_survival(roster(), "2026-03-31", by="hire_cohort").summary
    assert one(cohorts, hire_cohort="2025Q3")["p_reach_90d"] == pytest.approx(2 / 3)


def test_reasons_pareto_and_by_tenure_band():
    p = at.reasons_pareto(roster())
    assert p["reason"].tolist() == ["more money", "attendance", "(not given)", "return to school", "schedule"]
    assert p["terminations"].tolist() == [3, 2, 1, 1, 1]
    assert p["cumulative_share"].tolist() == pytest.approx([3 / 8, 5 / 8, 6 / 8, 7 / 8, 1.0])
    in_window = at.reasons_pareto(roster(), "2026-03-01", "2026-03-31")
    assert dict(zip(in_window["reason"], in_window["terminations"])) == {"more money": 2, "attendance": 1}
    b = at.reasons_by_tenure_band(roster())
    got = {(r.tenure_band, r.reason): r.terminations for r in b.itertuples()}
    # tenure at exit: A3 15, A14 39, A4 120, A11 194, A12 213, A2 273, A7 393, A13 541 days
    assert got == {
        ("0-90 days", "attendance"): 1,
        ("0-90 days", "schedule"): 1,
        ("3-6 months", "more money"): 1,
        ("6-12 months", "more money"): 2,
        ("6-12 months", "attendance"): 1,
        ("1-2 years", "return to school"): 1,
        ("1-2 years", "(not given)"): 1,
    }
    assert one(b, tenure_band="6-12 months", reason="more money")["share_of_band"] == pytest.approx(2 / 3)


# --- comparing supervisors -------------------------------------------------------------------------


def garwood(k: int, exposure: float) -> tuple[float, float]:
    """Exact Poisson 95% interval for a rate, from the chi-square quantiles (Garwood 1936)."""
    lo = 0.0 if k == 0 else chi2.ppf(0.025, 2 * k) / 2
    return lo / exposure, chi2.ppf(0.975, 2 * k + 2) / 2 / exposure


def test_compare_groups_counts_intervals_and_small_group_flag():
    c = at.compare_groups(roster(), "2026-03", by="supervisor", min_headcount=1.35)
    s1 = one(c, supervisor="S1")  # the Alpha agents
    assert s1["terminations_12m"] == 4 and s1["avg_headcount_13"] == pytest.approx(30 / 13)
    assert (s1["ci_lower"], s1["ci_upper"]) == pytest.approx(garwood(4, 30 / 13))
    assert s1["overall_rate"] == pytest.approx(6 / (80 / 13))
    assert not s1["small_group"] and s1["assessment"] == "in line"
    s2 = one(c, supervisor="S2")  # 17/13 = 1.31 < 1.35
    assert s2["small_group"] and s2["assessment"] == "too small to compare"
    default = at.compare_groups(roster(), "2026-03", by="supervisor")
    assert (default["assessment"] == "too small to compare").all()  # min headcount 10: nobody is judged


def test_compare_groups_above_and_below():
    rows = [(f"H{i}", "Hot", "2020-01-01", "2025-10-15" if i < 8 else None) for i in range(10)]
    rows += [(f"C{i}", "Cold", "2020-01-01", None) for i in range(30)]
    a = pd.DataFrame(rows, columns=["agent_id", "team", "hire_date", "termination_date"])
    c = at.compare_groups(a, "2026-03", by="team", min_headcount=5)
    hot, cold = one(c, team="Hot"), one(c, team="Cold")
    # Hot: 10 on 2025-04-01..10-01 (7 starts), 2 on 11-01..2026-04-01 (6 starts) -> 82/13; 8 leavers
    assert hot["annualized_rate"] == pytest.approx(8 / (82 / 13))
    assert hot["overall_rate"] == pytest.approx(8 / ((82 + 390) / 13))
    assert hot["ci_lower"] == pytest.approx(garwood(8, 82 / 13)[0])
    assert hot["assessment"] == "above overall" and cold["assessment"] == "below overall"


# --- hazard, projection, backtest, cost ------------------------------------------------------------


def test_tenure_hazard_by_hand():
    a = pd.DataFrame(
        {
            "agent_id": ["P", "Q", "R"],
            "hire_date": pd.to_datetime(["2024-11-02", "2025-03-01", "2025-06-01"]),
            "termination_date": pd.to_datetime([None, "2025-05-10", None]),
        }
    )
    bands = (("new", 60), ("old", None))
    h = at.tenure_hazard(a, "2025-01-01", "2025-07-01", bands=bands).set_index("tenure_band")
    # P: tenure 60 on 2025-01-01 (window start) -> 181 days of window, all "old"
    # Q: 0..70 days (left 05-10): 60 days "new", 10 "old", leaves in "old" (tenure 70)
    # R: 0..30 days (window ends 07-01): 30 "new"
    assert h.loc["new", "exposure_months"] * at.DAYS_PER_MONTH == pytest.approx(90)
    assert h.loc["old", "exposure_months"] * at.DAYS_PER_MONTH == pytest.approx(191)
    assert h["leavers"].tolist() == [0, 1]
    assert h.loc["new", "monthly_hazard"] == 0.0
    assert h.loc["old", "monthly_hazard"] == pytest.approx(1 - math.exp(-1 / 191 * at.DAYS_PER_MONTH))


def test_tenure_hazard_matches_lifelines_piecewise_exponential():
    from lifelines import PiecewiseExponentialFitter

    rng = np.random.default_rng(3)
    n = 600
    hire = pd.Series(pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 1200, n), unit="D"))
    term = hire + pd.to_timedelta(np.floor(rng.exponential(300, n)), unit="D")
    term = term.where(term < pd.Timestamp("2026-01-01"))
    a = pd.DataFrame({"agent_id": [f"X{i}" for i in range(n)], "hire_date": hire, "termination_date": term})
    # half-day edges so no integer tenure falls on an edge (lifelines puts an edge event in the next band)
    bands = (("a", 90.5), ("b", 182.5), ("c", 365.5), ("d", None))
    start, end = pd.Timestamp("2024-01-01"), pd.Timestamp("2025-01-01")
    mine = at.tenure_hazard(a, start, end, bands=bands)
    enter = (hire.where(hire > start, start) - hire).dt.days.to_numpy(float)
    stop_date = term.where(term < end, end).where(~(term < start), start)
    keep = (hire < end) & ~(term < start)
    stop = (stop_date - hire).dt.days.to_numpy(float)
    event = ((term >= start) & (term < end)).to_numpy()
    pef = PiecewiseExponentialFitter(breakpoints=[90.5, 182.5, 365.5])
    pef.fit(stop[keep] + 1e-9, event[keep], entry=enter[keep])  # lifelines wants duration > entry
    lam = 1 / pef.summary["coef"].to_numpy()  # lifelines' lambda_i is the scale (1 / rate per day)
    assert mine["monthly_hazard"].to_numpy() == pytest.approx(1 - np.exp(-lam * at.DAYS_PER_MONTH), rel=1e-4)


def test_projection_by_hand():
    a = pd.DataFrame(
        {
            "agent_id": ["P", "Q"],
            "hire_date": pd.to_datetime(["2025-01-21", "2020-01-01"]),
            "termination_date": pd.NaT,
            "hourly_cost": [20.0, 30.0],
        }
    )
    hz = pd.DataFrame({"tenure_band": ["new", "old"], "max_days": [90, np.inf], "monthly_hazard": [0.10, 0.02]})
    p = at.project_leavers(a, hz, "2025-04-01", months=2, cost_per_hire=1000, training_weeks=2)
    r_new, r_old = -math.log(0.9) / at.DAYS_PER_MONTH, -math.log(0.98) / at.DAYS_PER_MONTH
    # P: tenure 70 on 04-01 -> April (30 d): 20 days at the "new" rate, then 10 at "old"; May: 31 days "old"
    p_apr = 1 - math.exp(-(20 * r_new + 10 * r_old))
    p_may = math.exp(-(20 * r_new + 10 * r_old)) * (1 - math.exp(-31 * r_old))
    q_apr = 1 - math.exp(-30 * r_old)
    q_may = math.exp(-30 * r_old) * (1 - math.exp(-31 * r_old))
    assert p["month"].tolist() == ["2025-04", "2025-05"]
    assert p["expected_leavers"].tolist() == pytest.approx([p_apr + q_apr, p_may + q_may])
    assert p["expected_headcount_end"].iloc[-1] == pytest.approx(2 - (p_apr + q_apr + p_may + q_may))
    unit_p, unit_q = 1000 + 2 * 40 * 20, 1000 + 2 * 40 * 30
    assert p["expected_cost"].iloc[0] == pytest.approx(p_apr * unit_p + q_apr * unit_q)


def test_projection_uses_only_the_roster_on_the_start_date():
    hz = at.tenure_hazard(roster(), "2025-04-01", "2026-04-01")
    p = at.project_leavers(roster(), hz, "2026-04-01", months=3)
    assert (p["roster_start"] == 5).all()  # A1, A5, A8, A9, A10 (A4 left 03-31, A6 starts 04-06)
    by_team = at.project_leavers(roster(), hz, "2026-04-01", months=3, by="team")
    assert by_team.groupby("month")["expected_leavers"].sum().to_numpy() == pytest.approx(
        p["expected_leavers"].to_numpy()
    )


def simulated(n: int = 800, seed: int = 11) -> pd.DataFrame:
    """Agents hired evenly over 4 years whose monthly chance of leaving is 8% in the first 90 days, 2% after."""
    rng = np.random.default_rng(seed)
    hire = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 4 * 365, n), unit="D")
    r1, r2 = -math.log(0.92) / at.DAYS_PER_MONTH, -math.log(0.98) / at.DAYS_PER_MONTH
    first = rng.exponential(1 / r1, n)
    stay = np.where(first <= 90, first, 90 + rng.exponential(1 / r2, n))
    term = hire + pd.to_timedelta(np.floor(stay), unit="D")
    return pd.DataFrame(
        {
            "agent_id": [f"S{i}" for i in range(n)],
            "hire_date": hire,
            "termination_date": term.where(term < pd.Timestamp("2026-01-01")),
            "termination_type": "voluntary",
            "fte": 1.0,
            "hourly_cost": 25.0,
        }
    )


def test_backtest_on_a_known_process():
    a = simulated()
    hz = at.tenure_hazard(a, "2024-07-01", "2025-07-01", bands=(("0-90", 90), ("later", None)))
    assert hz["monthly_hazard"].tolist() == pytest.approx([0.08, 0.02], rel=0.3)
    bt = at.backtest_projection(a, "2025-07-01", months=6)
    expected, actual = bt["expected_leavers"].sum(), bt["actual_leavers"].sum()
    # the actual count is a sum of independent chances, variance <= expected: 3 SD is a generous band
    assert abs(actual - expected) <= 3 * math.sqrt(expected)
    assert (bt["actual_leavers_all"] >= bt["actual_leavers"]).all()


def test_attrition_cost_by_hand():
    c = at.attrition_cost(roster(), "2025-04-01", "2026-03-31", cost_per_hire=4000, training_weeks=4, by="team")
    alpha = one(c, team="Alpha")  # A14 26, A11 27, A2 28, A3 25 an hour
    assert alpha["leavers"] == 4 and alpha["hiring_cost"] == 16000
    assert alpha["training_cost"] == pytest.approx(4 * 40 * (26 + 27 + 28 + 25))
    total = at.attrition_cost(roster(), "2025-04-01", "2026-03-31", cost_per_hire=4000, training_weeks=4)
    assert total["leavers"].iloc[0] == 6
    assert total["total_cost"].iloc[0] == pytest.approx(6 * 4000 + 160 * (26 + 27 + 28 + 25 + 26 + 24))


# --- drivers ---------------------------------------------------------------------------------------


def test_drivers_recover_a_known_hazard_ratio():
    rng = np.random.default_rng(5)
    n = 500
    team = np.where(rng.random(n) < 0.5, "A", "B")
    occupancy = rng.normal(0.8, 0.05, n)
    rate = 0.002 * np.where(team == "B", 3.0, 1.0)
    stay = np.floor(rng.exponential(1 / rate))
    hire = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    term = hire + pd.to_timedelta(stay, unit="D")
    a = pd.DataFrame(
        {
            "agent_id": [f"D{i}" for i in range(n)],
            "team": team,
            "site": "One",
            "fte": 1.0,
            "hire_date": hire,
            "termination_date": term.where(term <= pd.Timestamp("2025-12-31")),
        }
    )
    factors = pd.DataFrame({"agent_id": a["agent_id"], "occupancy": occupancy})
    m = at.attrition_drivers(a, "2025-12-31", factors=factors)
    team_row = one(m.table, factor="team")
    assert team_row["ci_lower"] > 1 and team_row["ci_lower"] <= 3 <= team_row["ci_upper"]
    assert "B vs A" in team_row["comparison"]
    occ = one(m.table, factor="occupancy")  # no real effect: interval spans 1
    assert occ["ci_lower"] < 1 < occ["ci_upper"]
    assert any("site: only one level" in n for n in m.notes) and any("fte: constant" in n for n in m.notes)
    assert "association, not cause" in m.caveat


def test_drivers_on_small_data_do_not_fail():
    m = at.attrition_drivers(roster(), "2026-03-31")
    assert m.agents == 13 and m.leavers == 8
    assert np.isfinite(m.table["hazard_ratio"]).all()
    tiny = at.attrition_drivers(roster().iloc[:3], "2026-03-31")
    assert tiny.table.empty and "too little to model" in tiny.notes[-1]
    f = pd.DataFrame({"agent_id": ["A1", "A2"], "qa_score": [90.0, 70.0]})
    partial = at.attrition_drivers(roster(), "2026-03-31", factors=f)
    assert any("left out for want of qa_score" in n for n in partial.notes), partial.notes


def test_attrition_report_gathers_the_figures_with_parameters():
    from reportlib.core.params import load_params

    params = load_params()
    rep = at.attrition_report(roster(), "2026-03", params)
    pd.testing.assert_frame_equal(rep["by_team"], at.monthly_attrition(roster(), "2026-03", by="team"))
    assert rep["trend"]["month"].iloc[-1] == "2026-03" and len(rep["trend"]) == 24
    assert rep["projection"]["month"].iloc[0] == "2026-04" and "expected_cost" in rep["projection"]
    cfg = params["attrition"]
    hourly = 26 + 27 + 28 + 25 + 26 + 24  # the 6 leavers of 2025-04..2026-03
    assert rep["cost_12m"]["total_cost"].iloc[0] == pytest.approx(
        6 * cfg["cost_per_hire"] + cfg["training_weeks"] * cfg["training_hours_per_week"] * hourly
    )
    assert rep["supervisors"]["small_group"].all()  # min_group_headcount 10 in parameters
    assert "association, not cause" in rep["drivers"].caveat


def test_attrition_report_groups_team_filter_and_settings_from_parameters():
    from reportlib.core.errors import UsageError
    from reportlib.core.params import load_params

    params = load_params()
    everything = dict(params, attrition=dict(params["attrition"], min_group_size=1))  # nothing withheld
    rep = at.attrition_report(roster(), "2026-03", everything, trend_months=13)
    assert len(rep["trend"]) == 13 and rep["withheld"] == {}
    for col in ("team", "site"):
        pd.testing.assert_frame_equal(rep["groups"][col], at.compare_groups(roster(), "2026-03", by=col))
    team = roster()["team"].iloc[0]
    only = at.attrition_report(roster(), "2026-03", everything, team=team)
    want = at.monthly_attrition(roster()[roster()["team"] == team], "2026-03")
    pd.testing.assert_frame_equal(only["trend"].tail(1).reset_index(drop=True), want.reset_index(drop=True))
    # narrowed, survival is observed from the whole roster's first leaver, as in the whole report's team rows
    mine = rep["survival_team"].summary.set_index("team").loc[team]
    narrowed = only["survival_overall"].summary.iloc[0]
    assert (narrowed["agents"], narrowed["leavers"]) == (mine["agents"], mine["leavers"])
    assert narrowed["median_tenure_days"] == pytest.approx(mine["median_tenure_days"], nan_ok=True)
    # every team of this roster averages fewer than 5 people: a page narrowed to one would be about single people
    size = at.compare_groups(roster(), "2026-03", by="team").set_index("team").loc[team, "avg_headcount_13"]
    assert size < 5
    with pytest.raises(UsageError, match=rf"team '{team}' averaged fewer than 5 people over the 13 months to 2026-03"):
        at.attrition_report(roster(), "2026-03", params, team=team)
    with pytest.raises(UsageError, match="no agent on the roster is in team 'Nobody'"):
        at.attrition_report(roster(), "2026-03", params, team="Nobody")
    # a value of the wrong kind in parameters/attrition.yaml is a usage error naming it
    bad = dict(params, attrition=dict(params["attrition"], cost_per_hire="lots"))
    with pytest.raises(UsageError, match="attrition.cost_per_hire must be a number"):
        at.attrition_report(roster(), "2026-03", bad)


def test_attrition_notebook_builds_through_the_report_builder():
    """The notebook calls attrition_report (and activity_factors for its input) through queries.month_attrition
    (which shares the result with the month's workbook), not the pieces itself."""
    import inspect
    import re

    import nbformat

    from reportlib.reports import queries
    from reportlib.reports.registry import notebook_path

    nb = nbformat.read(str(notebook_path("attrition")), as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert not re.findall(r"\battrition\.(\w+)\(", code)
    assert code.count("queries.month_attrition(") == 1
    src = inspect.getsource(queries.month_attrition)
    assert "attrition.attrition_report(" in src and "attrition.activity_factors(" in src


# --- the command line ------------------------------------------------------------------------------


def test_cli_attrition_json(tmp_path, monkeypatch, capsys):
    from reportlib.cli import main

    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    data = tmp_path / "data"
    data.mkdir()
    r = roster()
    r["termination_type"] = r["termination_type"].where(r["termination_date"].notna())
    r.to_csv(data / "agents.csv", index=False, date_format="%Y-%m-%d")
    assert main(["attrition", "--data", str(data), "--month", "2026-03", "--by", "team", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    alpha = next(x for x in records if x["team"] == "Alpha")
    assert alpha == {
        "team": "Alpha",
        "headcount_start": 2,
        "headcount_end": 1,
        "hires": 1,
        "terminations": 2,
        "voluntary": 1,
        "involuntary": 1,
        "regretted": 1,
        "monthly_rate": pytest.approx(2 / 1.5),
        "annualized_rate": pytest.approx(4 / (30 / 13)),
    }
    eps = next(x for x in records if x["team"] == "Epsilon")
    assert eps["monthly_rate"] is None
    assert main(["attrition", "--data", str(data), "--month", "2026-03", "--format", "json"]) == 0
    (overall,) = json.loads(capsys.readouterr().out)
    assert overall["terminations"] == 3 and overall["annualized_rate"] == pytest.approx(6 / (80 / 13))
    assert main(["attrition", "--data", str(data), "--month", "2026-03", "--by", "shoe_size"]) == 2
    assert "--by shoe_size" in capsys.readouterr().err
    # a roster column that is also a figure of the table (regretted): refused, not a table with two such columns
    assert main(["attrition", "--data", str(data), "--month", "2026-03", "--by", "regretted"]) == 2
    assert "one of the figures" in capsys.readouterr().err
    # a column that names a person, their pay or why they left: a row per person with their leaving flags
    for col in ("name", "agent_id", "hourly_cost", "termination_reason", "hire_date"):
        assert main(["attrition", "--data", str(data), "--month", "2026-03", "--by", col]) == 2
        err = capsys.readouterr().err
        assert f"--by {col}: choose tenure_band or a group of the roster (team, supervisor, site, role)" in err
        assert "is not a group of people (it would give a row per person, pay rate, FTE, date or reason)" in err
    assert main(["attrition", "--data", str(tmp_path / "nowhere"), "--month", "2026-03"]) == 1
    # a roster alone, with no contacts to date its export: a month after its last hire or leaver (2026-04-06) is
    # said on stderr, not given as 0% attrition in silence (a probe: a 2019 roster's June 2025)
    capsys.readouterr()
    assert main(["attrition", "--data", str(data), "--month", "2026-05"]) == 0
    assert (
        "reportlib attrition: No contacts date the roster's export, and its last hire or leaver is on 2026-04-06: "
        "May 2026's figures assume nobody joined or left since."
    ) in capsys.readouterr().err
    assert main(["attrition", "--data", str(data), "--month", "2026-03"]) == 0
    assert "No contacts date" not in capsys.readouterr().err


# --- the HR data set (../shared/data/hr-dataset-v14) -----------------------------------------------


@pytest.fixture(scope="module")
def hr_agents() -> pd.DataFrame:
    from reportlib.data.import_hr import load_hr

    return load_hr(shared_path("hr-dataset-v14", "HRDataset_v14.csv"))


@pytest.fixture(scope="module")
def hr_plain() -> pd.DataFrame:
    """The same file read with nothing but pandas (its hire/termination dates are all 4-digit M/D/YYYY)."""
    raw = pd.read_csv(shared_path("hr-dataset-v14", "HRDataset_v14.csv"), encoding="utf-8-sig")
    return pd.DataFrame(
        {
            "hire": pd.to_datetime(raw["DateofHire"], format="%m/%d/%Y"),
            "term": pd.to_datetime(raw["DateofTermination"], format="%m/%d/%Y"),
            "status": raw["EmploymentStatus"],
            "dept": raw["Department"].str.strip(),
        }
    )


def plain_rates(p: pd.DataFrame, month: str) -> tuple[int, float, float, int]:
    """Monthly and annualized attrition (docs/definitions.md#monthly-attrition), written out longhand in plain pandas."""
    m = pd.Period(month, "M")
    first, last = m.start_time, m.end_time.normalize()

    def hc(day):
        return int(((p["hire"] <= day) & ~(p["term"] < day)).sum())

    terms = int(p["term"].between(first, last).sum())
    monthly = terms / ((hc(first) + hc(last)) / 2) if hc(first) + hc(last) else float("nan")
    starts = [(m - k).start_time for k in range(11, -2, -1)]  # M-11 .. M+1
    assert len(starts) == 13 and starts[-1] == (m + 1).start_time
    t12 = int(p["term"].between((m - 11).start_time, last).sum())
    annual = t12 / np.mean([hc(d) for d in starts])
    vol = int((p["term"].between(first, last) & (p["status"] == "Voluntarily Terminated")).sum())
    return terms, monthly, annual, vol


@pytest.mark.shared_data
def test_hr_rates_match_plain_pandas(hr_agents, hr_plain):
    table = at.monthly_attrition(hr_agents, "2010-01", "2018-12")
    assert len(table) == 108
    for row in table.itertuples():
        terms, monthly, annual, vol = plain_rates(hr_plain, row.month)
        assert row.terminations == terms and row.voluntary == vol, row.month
        assert row.monthly_rate == pytest.approx(monthly, nan_ok=True), row.month
        assert row.annualized_rate == pytest.approx(annual), row.month
    assert table["terminations"].sum() == 104
    by_year = table.groupby(table["month"].str[:4])["terminations"].sum().to_dict()
    # SOURCE.txt parse check: terminations per year
    assert by_year == {
        "2010": 1,
        "2011": 3,
        "2012": 8,
        "2013": 13,
        "2014": 13,
        "2015": 23,
        "2016": 22,
        "2017": 8,
        "2018": 13,
    }
    prod = at.monthly_attrition(hr_agents, "2015-06", by="team")
    r = one(prod, team="Production")
    _, monthly, annual, _ = plain_rates(hr_plain[hr_plain["dept"] == "Production"], "2015-06")
    assert r["monthly_rate"] == pytest.approx(monthly) and r["annualized_rate"] == pytest.approx(annual)


def _stayers_and_recent_leavers() -> pd.DataFrame:
    """An HR export of today's staff and recent leavers alone: four people hired in 2015 still employed, and since
    the first leaver (2025-01-01): N1 (hired 2024-10-01, left that day, 92 days), N2 and N3 (hired 2025-01-01,
    left after 100 and 200 days) and N4 (hired 2025-01-01, still employed)."""
    rows = [(f"O{i}", "2015-01-01", None) for i in range(1, 5)]
    rows += [("N1", "2024-10-01", "2025-01-01"), ("N2", "2025-01-01", "2025-04-11"), ("N3", "2025-01-01", "2025-07-20")]
    rows += [("N4", "2025-01-01", None)]
    d = pd.DataFrame(rows, columns=["agent_id", "hire_date", "termination_date"])
    d["hire_date"], d["termination_date"] = pd.to_datetime(d["hire_date"]), pd.to_datetime(d["termination_date"])
    return d.assign(name=d["agent_id"], team="T", site="S", termination_type=d["termination_date"].notna().map(
        {True: "voluntary", False: None}), regretted=False, fte=1.0)  # fmt: skip


def test_survival_observes_tenure_from_the_rosters_first_leaver():
    """A probe's sample roster held people hired since 2002 but leavers since December 2023 only: counted from their
    hire, the survivors made the median tenure 3,119 days (lifelines with their entry: 632). By hand, entering the
    2015 hires at the tenure they had the day before 2025-01-01 (3,652 days): at 92 days 4 at risk (N1 among them), 1
    leaves: S = 3/4; at 100, 3 at risk: S = 1/2; at 200, 2 at risk: S = 1/4; the 2015 hires add no event. Median
    100 days, reach 90 days 100%, reach 1 year 25%. Counted from hire it read 7/8 * 6/7 * 5/6 = 62.5% at a year and
    no median."""
    d = _stayers_and_recent_leavers()
    assert at.roster_observed_from(d) == pd.Timestamp("2025-01-01")
    row = at.tenure_survival(d, "2026-01-01").summary.iloc[0]
    # nobody is observed between 365 days (N4, still employed) and 3,652 (the 2015 hires): the curve stops at 365
    assert (row["agents"], row["leavers"], row["median_tenure_days"]) == (4, 3, 100.0)
    assert row["p_reach_90d"] == 1.0 and row["p_reach_365d"] == pytest.approx(0.25)
    naive = at.tenure_survival(d, "2026-01-01", observed_from="2015-01-01").summary.iloc[0]
    assert np.isnan(naive["median_tenure_days"]) and naive["p_reach_365d"] == pytest.approx(0.625)
    durations = at.tenure_durations(d, "2026-01-01", "2025-01-01").set_index("agent_id")
    assert durations.loc["O1", "entry_days"] == 3652 and durations.loc["N1", "entry_days"] == 91
    assert durations.loc["N2", "entry_days"] == 0
    assert "A7" not in set(at.tenure_durations(roster(), "2026-03-31", "2025-03-01")["agent_id"])  # left before


def test_a_group_observed_only_from_a_later_tenure_has_no_figure_before_it():
    """The 2015 hires enter the observation at 3,652 days (left truncation): their curve starts there, and S(90 days)
    and S(1 year) are unknown. Read as the curve's last value they showed "Reach 90 days 0%" for a cohort that
    stayed ten years (a probe); lifelines' own reading of the same fit gives NaN, and so does the summary now."""
    from lifelines import KaplanMeierFitter

    d = _stayers_and_recent_leavers()
    d.loc[d["agent_id"] == "O4", "termination_date"] = pd.Timestamp("2025-06-01")  # one of them left: an event
    d.loc[d["agent_id"] == "O4", "termination_type"] = "voluntary"
    cohort = at.tenure_survival(d, "2026-01-01", by="hire_cohort").summary.set_index("hire_cohort").loc["2015Q1"]
    part = at.tenure_durations(d, "2026-01-01", at.roster_observed_from(d))
    part = part[part["hire_cohort"] == "2015Q1"]
    kmf = KaplanMeierFitter().fit(part["tenure_days"], part["left"], entry=part["entry_days"])
    assert np.isnan(kmf.predict(90.0)) and np.isnan(kmf.predict(365.0))
    assert np.isnan(cohort["p_reach_90d"]) and np.isnan(cohort["p_reach_365d"])
    assert np.isnan(cohort["p_reach_90d_lower"]) and np.isnan(cohort["p_reach_365d_upper"])


def test_a_month_before_the_first_hire_and_a_team_gone_by_the_next_month_say_so():
    """attrition_report for a month before anyone was hired said "tenure hazard must be a share 0..1"; narrowed to a
    team nobody is on the next month's first day, its projection raised KeyError 'group' (a probe). The first is a
    one-line error naming the first hire; the second projects nobody to lose."""
    from reportlib.core.errors import ReportlibError

    with pytest.raises(ReportlibError, match=r"nobody on the roster was hired by 2001-11-30 \(the first hire_date is"):
        at.attrition_report(roster(), "2001-11")
    a = roster()
    a = a[a["hire_date"] < "2026-03-20"].assign(
        termination_date=pd.Timestamp("2026-03-20"), termination_type="voluntary"
    )
    hz = at.tenure_hazard(a, "2024-04-01", "2026-04-01")
    p = at.project_leavers(a, hz, "2026-04-01", months=2, cost_per_hire=1000, training_weeks=2)
    assert p["roster_start"].tolist() == [0, 0] and p["expected_leavers"].tolist() == [0.0, 0.0]
    assert p["month"].tolist() == ["2026-04", "2026-05"] and p["expected_cost"].tolist() == [0.0, 0.0]
    assert at.project_leavers(a, hz, "2026-04-01", months=2, by="team").empty


def test_a_group_whose_risk_set_runs_out_gets_a_curve_up_to_the_gap_not_a_crash():
    """With tenure observed from the first leaver, a small group can run out of people under observation: its three
    hires since then all left by day 150 while two people hired in 2015 enter at 3,652 days. lifelines' KM raised
    StatError on it (a probe's small sample stopped the attrition workbook). The curve is estimated up to the gap:
    by hand 2/3 at 40 days, 1/3 at 90, 0 at 150; no figure past it (reach 1 year empty, not 0 or 100%)."""
    rows = [("O1", "2015-01-01", None), ("O2", "2015-01-01", None), ("N1", "2025-01-01", "2025-02-10")]
    rows += [("N2", "2025-01-01", "2025-04-01"), ("N3", "2025-01-01", "2025-05-31")]
    d = pd.DataFrame(rows, columns=["agent_id", "hire_date", "termination_date"])
    d["hire_date"], d["termination_date"] = pd.to_datetime(d["hire_date"]), pd.to_datetime(d["termination_date"])
    d = d.assign(
        name="x", team="T", site="S", termination_type=np.where(d["termination_date"].notna(), "voluntary", None)
    )
    assert at._risk_set_gap(np.array([0.0, 0, 0, 3652, 3652]), np.array([40.0, 90, 150, 4018, 4018])) == 150.0
    assert at._risk_set_gap(np.array([0.0, 0, 30]), np.array([40.0, 90, 150])) is None  # no one enters later
    s = at.tenure_survival(d, "2026-01-01", observed_from="2025-01-01")
    curve = s.curves.set_index("tenure_days")["survival"]
    assert curve.loc[40.0] == pytest.approx(2 / 3) and curve.loc[90.0] == pytest.approx(1 / 3)
    assert curve.index.max() == 150.0 and curve.loc[150.0] == 0.0
    row = s.summary.iloc[0]
    assert (
        row["median_tenure_days"] == 90.0
        and np.isnan(row["p_reach_365d"])
        and row["p_reach_90d"] == pytest.approx(1 / 3)
    )


def test_a_factor_the_others_determine_is_left_out_of_the_drivers_with_a_note():
    """Every team in one site: a probe's "site Tampa vs Louisville" read 0.84x [0.18, 3.91] at penalizer 0.01 and
    [0.01, 95.5] at 0.001, a split the ridge penalty made. The site is left out with a note, and the teams' ratios
    are those of a model of the teams alone."""
    rng = np.random.default_rng(7)
    n = 120
    team = rng.choice(["N1", "N2", "S1", "S2"], n)
    hire = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    stay = pd.to_timedelta(rng.integers(30, 700, n), unit="D")
    term = (hire + stay).where(hire + stay < pd.Timestamp("2026-01-01"))
    d = pd.DataFrame({"agent_id": [f"A{i}" for i in range(n)], "name": "x", "team": team, "site": np.where(
        pd.Series(team).str.startswith("N"), "North", "South"), "hire_date": hire, "termination_date": term})  # fmt: skip
    d = d.assign(termination_type=np.where(d["termination_date"].notna(), "voluntary", None), fte=1.0)
    both = at.attrition_drivers(d, "2026-01-01")
    alone = at.attrition_drivers(d, "2026-01-01", categorical=("team",))
    assert list(both.table["factor"]) == ["team"] * 3
    assert "site left out: the other factors determine it" in " ".join(both.notes), both.notes
    assert both.table["hazard_ratio"].to_numpy() == pytest.approx(alone.table["hazard_ratio"].to_numpy(), rel=1e-6)
    assert at._aliased(pd.DataFrame({"a": [1.0, 0, 0, 1], "b": [0.0, 1, 0, 0], "c": [1.0, 1, 0, 1]})) == ["c"]


def test_a_termination_date_already_in_the_roster_is_a_certain_leaver_in_the_projection():
    """A probe gave three agents leaving dates in the next months (notice given): the six-month projection moved
    from 18.51 to 18.33 expected leavers, as if nobody had said so. With known_leavers (for a caller who knows the
    dates are notices; the report cannot tell them from hindsight), an agent whose termination_date falls in the
    window leaves in its month for certain: up to that month by the hazard, the rest of their chance then,
    nothing after; by default the dates are ignored."""
    hazard = pd.DataFrame({"tenure_band": ["all"], "min_days": [0.0], "max_days": [np.inf], "monthly_hazard": [0.05]})
    staying = _stayers_and_recent_leavers().query("agent_id == 'N4'")  # hired 2025-01-01, no end date
    going = staying.assign(termination_date=pd.Timestamp("2026-03-15"))  # notice: last day 15 March
    base = at.project_leavers(staying, hazard, "2026-01-01", months=6, known_leavers=True)
    known = at.project_leavers(going, hazard, "2026-01-01", months=6, known_leavers=True)
    ignored = at.project_leavers(going, hazard, "2026-01-01", months=6)
    pd.testing.assert_frame_equal(ignored, base)
    e = known["expected_leavers"].to_numpy()
    assert e[:2] == pytest.approx(base["expected_leavers"].to_numpy()[:2])  # January, February: the hazard
    assert e[2] == pytest.approx(1 - e[:2].sum()) and (e[3:] == 0).all()  # March: certain; then nobody is left
    assert known["cumulative_expected_leavers"].iloc[-1] == pytest.approx(1.0)


def test_a_withheld_group_is_never_the_only_one_beside_a_total():
    """A review added a 3-person team to Tampa: its leavers were blank, but Tampa's 12 less its other teams' 11 gave
    its 1 leaver, and the roster's total less every team shown did too. Where one withheld group would stand alone
    in its site or in the table, the smallest other is withheld too (secondary suppression); a site's teams are
    one block, the table another."""
    small = np.array([False, False, True, False, False])
    size = np.array([14.0, 12.0, 3.0, 13.0, 20.0])
    site = np.array(["T", "T", "T", "L", "L"], dtype=object)
    assert at._secondary(small, size, site).tolist() == [False, True, True, False, False]  # T's smallest other
    assert at._secondary(small, size, np.array([""] * 5, dtype=object)).tolist() == [False, True, True, False, False]
    assert at._secondary(np.zeros(5, dtype=bool), size, site).tolist() == [False] * 5
    groups = pd.DataFrame({"team": ["T1", "T2", "T9", "L1", "L2"], "avg_headcount_13": size,
                           "terminations_12m": [2, 3, 1, 2, 4], "annualized_rate": 0.1, "ci_lower": 0.0,
                           "ci_upper": 0.2, "assessment": "in line"})  # fmt: skip
    report = {"groups": {"team": groups}}
    notes = at.withhold_small(report, 5, {"T1": "T", "T2": "T", "T9": "T", "L1": "L", "L2": "L"})
    g = report["groups"]["team"].set_index("team")
    assert g["terminations_12m"].isna().tolist() == [False, True, True, False, False]
    assert g.loc["T2", "assessment"] == "not shown: it would give away a smaller group's"
    assert notes["groups"] == (
        "Leavers and attrition are not shown for 1 team of fewer than 5 people on average (and 1 more, which would "
        "give theirs away beside the totals)."
    )


def test_a_yes_no_factor_is_modelled_as_yes_against_no():
    """IBM's OverTime given as a yes/no column was dropped from the drivers without a note (as 0/1 numbers it read
    1.60x). It is modelled as 1 and 0 and read "with overtime vs without"; unpenalized, its ratio is the
    per-standard-deviation ratio of the same column given as numbers, to the power 1/sd. A text factor is named
    as left out."""
    rng = np.random.default_rng(3)
    n = 150
    overtime = rng.random(n) < 0.4
    hire = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 200, n), unit="D")
    stay = pd.to_timedelta(rng.exponential(np.where(overtime, 250, 500)).astype(int) + 1, unit="D")
    term = (hire + stay).where(hire + stay < pd.Timestamp("2026-01-01"))
    d = pd.DataFrame({"agent_id": [f"A{i}" for i in range(n)], "name": "x", "team": "T", "site": "S",
                      "hire_date": hire, "termination_date": term, "fte": 1.0})  # fmt: skip
    d["termination_type"] = np.where(d["termination_date"].notna(), "voluntary", None)
    f = pd.DataFrame({"agent_id": d["agent_id"], "overtime": overtime, "band": "B"})
    yes_no = at.attrition_drivers(d, "2026-01-01", factors=f, penalizer=0.0)
    row = one(yes_no.table, factor="overtime")
    assert row["comparison"] == "with overtime vs without" and row["hazard_ratio"] > 1.3
    assert "band left out: only numbers and yes/no factors are modelled" in yes_no.notes
    numbers = at.attrition_drivers(d, "2026-01-01", factors=f.assign(overtime=overtime.astype(float)), penalizer=0.0)
    per_sd = one(numbers.table, factor="overtime")["hazard_ratio"]
    assert row["hazard_ratio"] == pytest.approx(per_sd ** (1 / overtime.astype(float).std(ddof=1)), rel=1e-4)


def test_figures_about_fewer_than_five_people_are_withheld():
    """A one-person team's "1 leaver, 144%" says that person left; a one-person site's survival curve gives their
    tenure to the day; a reason one leaver gave is theirs (a probe of the HR data set v14). With the default
    min_group_size 5: the small groups' leavers, rate and range are blank, their survival curves are gone, and
    the reasons of fewer than 5 leavers are counted together; each section gets a sentence saying so."""
    from reportlib.core.params import load_params

    rep = at.attrition_report(roster(), "2026-03", load_params())
    teams = rep["groups"]["team"].set_index("team")
    assert teams["assessment"].eq("fewer than 5 people: not shown").all()  # no team averages 5 people
    assert teams[["terminations_12m", "annualized_rate", "ci_lower", "ci_upper"]].isna().all().all()
    # nor their average headcount: 0.2 for a one-person site said its person had left (a probe)
    assert teams["avg_headcount_13"].isna().all()
    assert rep["withheld"]["groups"] == (
        "Leavers and attrition are not shown for 5 teams of fewer than 5 people on average; nor for 2 sites of "
        "fewer than 5 people on average."
    )
    assert rep["survival_team"].summary.empty and rep["survival_team"].curves.empty  # Alpha's 5: leavers hidden above
    assert len(rep["survival_overall"].summary) == 1  # the whole roster's figures stay
    assert set(rep["reasons"]["reason"]) == {at.few_reasons(5)}
    assert rep["reasons"]["terminations"].sum() == at.reasons_pareto(roster(), "2025-04-01", "2026-03-31")[
        "terminations"].sum()  # fmt: skip
    assert rep["reasons"]["share"].tolist() == [1.0]
    assert rep["withheld"]["reasons"] == (
        'Reasons given by fewer than 5 leavers are counted together as "other reasons (each fewer than 5 leavers)".'
    )
    three = dict(load_params(), attrition=dict(load_params()["attrition"], min_group_size=3))
    kept = at.attrition_report(roster(), "2026-03", three)["reasons"].set_index("reason")["terminations"]
    assert kept.to_dict() == {"more money": 3, at.few_reasons(3): 3}  # attendance 2, schedule 1


def test_the_pages_early_leavers_list_every_hire_quarter_and_withhold_quarters_of_few_hires():
    """The report's early leavers: the hire quarters of the trend's 24 months, each listed (none hired: 0 hires and
    no rate), the fixture's by hand (2025Q3: 1 of 3 left within 90 days); with min_group_size 5 each quarter of
    under 5 hires keeps its hires and loses its leavers and share, and a note says how many quarters."""
    from reportlib.core.params import load_params
    from reportlib.reports.queries import early_leavers

    everything = dict(load_params(), attrition=dict(load_params()["attrition"], min_group_size=1))
    shown = early_leavers(at.attrition_report(roster(), "2026-03", everything)).set_index("cohort")
    assert shown.index.tolist() == [str(q) for q in pd.period_range("2024Q2", "2026Q1", freq="Q")]
    assert shown.loc["2025Q3"].tolist() == [3, 1, pytest.approx(1 / 3), "final"]
    assert shown.loc["2025Q4"].tolist() == [2, 0, 0.0, "final"]  # A4 left at 120 days: not early
    assert shown.loc["2026Q1"].tolist() == [1, 1, 1.0, "can still rise"]  # A3 left at 15 days; A6 hired after
    cohorts = at.early_tenure_attrition(roster(), "2026-03-31").set_index("cohort")  # every quarter with a hire
    assert shown["hires"].sum() == cohorts.loc["2024Q2":, "hires"].sum()
    none = shown[shown["hires"] == 0]
    assert len(none) and none["rate"].isna().all() and none["status"].eq("no hires").all()

    rep = at.attrition_report(roster(), "2026-03", load_params())
    kept = early_leavers(rep).set_index("cohort")
    assert kept["hires"].tolist() == shown["hires"].tolist()
    hired = kept["hires"] > 0
    assert kept.loc[hired, ["early_leavers", "rate"]].isna().all().all()  # every quarter hired fewer than 5
    assert rep["withheld"]["early_tenure"] == (
        f"Early leavers are not shown for {int(hired.sum())} hire quarters of fewer than 5 hires."
    )


@pytest.mark.shared_data
def test_hr_kaplan_meier_median_matches_lifelines(hr_agents, hr_plain):
    """Against lifelines fitted directly on the file as read by pandas, tenure observed from the first leaver
    (entry: the tenure people hired before had that day)."""
    from lifelines import KaplanMeierFitter

    as_of = pd.Timestamp("2019-01-01")
    s = at.tenure_survival(hr_agents, as_of)
    left = hr_plain["term"].notna()
    days = (hr_plain["term"].where(left, as_of) - hr_plain["hire"]).dt.days
    entry = (hr_plain["term"].min() - hr_plain["hire"]).dt.days.clip(lower=0)
    kmf = KaplanMeierFitter().fit(days, left, entry=entry)
    row = s.summary.iloc[0]
    assert row["agents"] == 311 and row["leavers"] == 104
    assert row["median_tenure_days"] == kmf.median_survival_time_
    assert row["p_reach_365d"] == pytest.approx(float(kmf.survival_function_at_times(365).iloc[0]))
    by_dept = at.tenure_survival(hr_agents, as_of, by="team").summary
    prod = hr_plain["dept"] == "Production"
    kp = KaplanMeierFitter().fit(days[prod], left[prod], entry=entry[prod])
    assert one(by_dept, team="Production")["median_tenure_days"] == kp.median_survival_time_


# --- the sample operation --------------------------------------------------------------------------


def sample_roster(agents: int) -> pd.DataFrame:
    """The agents table of `reportlib sample-data --seed 42 --start 2024-01 --months 24 --agents N`.

    reportlib.planning.sample.generate_roster builds the same roster as the full generator (same seed streams; checked
    equal to generate_sample(...).tables["agents"]) in under a second, without the contacts.
    """
    sample = pytest.importorskip(
        "reportlib.planning.sample", reason="the sample generator (reportlib/planning/sample.py) is not there"
    )
    return sample.generate_roster(sample.SampleConfig(start="2024-01", seed=42, months=24, agents=agents))


@pytest.fixture(scope="module")
def sample_agents() -> pd.DataFrame:
    return sample_roster(150)


def test_sample_early_tenure_attrition_is_above_later_tenure(sample_agents):
    hz = at.tenure_hazard(sample_agents, "2024-01-01", "2026-01-01")
    first, later = hz["monthly_hazard"].iloc[0], hz["monthly_hazard"].iloc[1:]
    assert (first > later).all(), hz
    # leavers within 90 days of hire / hires (complete cohorts of the window) against the chance of leaving
    # in a 90-day stretch of the second year (Kaplan-Meier: 1 - S(455) / S(365))
    et = at.early_tenure_attrition(sample_agents, "2025-12-31", freq="Q")
    et = et[et["complete"] & (et["cohort"] >= "2024Q1")]
    early = et["early_leavers"].sum() / et["hires"].sum()
    s = at.tenure_survival(sample_agents, "2025-12-31", milestones=(365, 455)).summary.iloc[0]
    second_year = 1 - s["p_reach_455d"] / s["p_reach_365d"]
    assert early > 1.5 * second_year, (early, second_year)


def test_sample_projection_backtest(sample_agents):
    """The last 6 months of the sample (2025-07..12) projected from the 24 months before them."""
    bt = at.backtest_projection(sample_agents, "2025-07-01", months=6)
    expected, actual = bt["expected_leavers"].sum(), bt["actual_leavers"].sum()
    # tolerance: 2 Poisson standard deviations of the expected count (the leavers are a sum of independent
    # chances, so their variance is at most the expected count). Across seeds 1-20 (150 agents) and 40-45
    # (1,500 agents) the standardized error (actual - expected) / sqrt(expected) had a standard deviation
    # of 1.0: the projection is calibrated, so a miss beyond 2 SD here is a ~5% event, not noise to tune.
    assert abs(actual - expected) <= 2 * math.sqrt(expected), bt


def test_the_pages_survival_curves_and_ranges_come_from_tested_functions(sample_agents):
    """Moved out of the notebook: the curves drawn per group (queries.survival_curves: every site; of the hire
    quarters the latest 6, in order) are the survival fits' own rows renamed, and a 95% range reads "lo – hi"."""
    from reportlib.reports import narrative, queries

    report = {by: at.tenure_survival(sample_agents, "2025-12-31", by=by) for by in ("hire_cohort", "site")}
    report = {f"survival_{by}": fit for by, fit in report.items()}
    cohorts = queries.survival_curves(report, "hire_cohort")
    every = sorted(report["survival_hire_cohort"].curves["hire_cohort"].astype(str).unique())
    assert len(every) > queries.SHOWN_COHORTS and list(cohorts) == every[-queries.SHOWN_COHORTS :]
    sites = queries.survival_curves(report, "site")
    assert set(sites) == set(report["survival_site"].curves["site"].astype(str))
    fit = report["survival_site"].curves
    first = next(iter(sites))
    mine = fit[fit["site"].astype(str) == first]
    assert sites[first]["days"].tolist() == mine["tenure_days"].tolist()
    assert sites[first]["lower"].tolist() == mine["ci_lower"].tolist()
    assert narrative.range_texts([0.12, None], [0.18, 0.2]) == ["12.0% – 18.0%", "–"]
