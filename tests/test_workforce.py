"""Workforce KPIs from agent_activity against hand-computed oracles (reportlib.metrics.workforce)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from reportlib.core.errors import MissingTableError, UsageError
from reportlib.metrics.workforce import workforce_kpis


def day(date: str, agent: str, **secs) -> dict:
    row = dict(
        date=date,
        agent_id=agent,
        scheduled_s=0.0,
        logged_in_s=0.0,
        handle_s=0.0,
        available_s=0.0,
        aux_break_s=0.0,
        aux_meeting_s=0.0,
        aux_training_s=0.0,
        aux_coaching_s=0.0,
        aux_other_s=0.0,
        in_adherence_s=0.0,
        absent_unplanned=False,
    )
    row.update(secs)
    return row


AGENTS = pd.DataFrame(
    {
        "agent_id": ["a1", "a2", "a3"],
        "team": ["North", "North", "South"],
        "site": ["Tampa", "Tampa", "Louisville"],
        "supervisor": ["s", "s", "t"],
        "role": ["agent"] * 3,
    }
)


def activity() -> pd.DataFrame:
    rows = [
        # a1, Fri 2025-01-31: 8 h scheduled; 5 h handling, 1.5 h available, 0.5 h break, 0.25 h meeting,
        # 0.25 h training, 0.25 h other, 7.75 h logged in; 7 h in adherence
        day(
            "2025-01-31",
            "a1",
            scheduled_s=28800,
            logged_in_s=27900,
            handle_s=18000,
            available_s=5400,
            aux_break_s=1800,
            aux_meeting_s=900,
            aux_training_s=900,
            aux_other_s=900,
            in_adherence_s=25200,
        ),
        # a1, Mon 2025-02-03: absent (unplanned) all day
        day("2025-02-03", "a1", scheduled_s=28800, absent_unplanned=True),
        # a2, Mon 2025-02-03: 4 h scheduled, 3 h handle, 0.5 h available, 0.5 h coaching, all adherent
        day(
            "2025-02-03",
            "a2",
            scheduled_s=14400,
            logged_in_s=14400,
            handle_s=10800,
            available_s=1800,
            aux_coaching_s=1800,
            in_adherence_s=14400,
        ),
        # a3, Sun 2025-02-02: nothing scheduled (an unscheduled day must not divide by zero)
        day("2025-02-02", "a3"),
    ]
    df = pd.DataFrame(rows)
    df["date"] = pd.to_datetime(df["date"])
    df["absent_unplanned"] = df["absent_unplanned"].astype("boolean")
    return df


def test_one_agent_day_by_hand():
    k = workforce_kpis(activity(), grain="day", by=["agent_id"]).set_index(["period", "agent_id"])
    r = k.loc[(pd.Timestamp("2025-01-31"), "a1")]
    assert r["occupancy"] == pytest.approx(18000 / (18000 + 5400))
    assert r["utilization"] == pytest.approx(18000 / 28800)
    assert r["shrinkage"] == pytest.approx(1 - (18000 + 5400) / 28800)  # 0.1875
    assert r["planned_shrinkage"] == pytest.approx((1800 + 900 + 900) / 28800)  # 0.125
    assert r["unplanned_shrinkage"] == pytest.approx(0.1875 - 0.125)
    assert r["other_shrinkage"] == pytest.approx(900 / 28800)
    assert r["absence_shrinkage"] == 0
    # 28800 - 27900 = 900 s scheduled but not logged in on a normal day: unexplained
    assert r["unexplained_shrinkage"] == pytest.approx(900 / 28800)
    assert r["adherence"] == pytest.approx(25200 / 28800)
    absent = k.loc[(pd.Timestamp("2025-02-03"), "a1")]
    assert absent["shrinkage"] == 1 and absent["absence_shrinkage"] == 1 and absent["planned_shrinkage"] == 0
    assert math.isnan(absent["occupancy"])  # no handle nor available time: no denominator
    empty = k.loc[(pd.Timestamp("2025-02-02"), "a3")]
    for col in ("utilization", "shrinkage", "adherence", "occupancy"):
        assert math.isnan(empty[col]), col


def test_week_month_and_team_are_volume_weighted():
    w = workforce_kpis(activity(), AGENTS, grain="week", by=["team"]).set_index(["period", "team"])
    # Fri 31 Jan is in the week of Mon 27 Jan; Sun 2 Feb too; Mon 3 Feb starts a new week
    assert set(w.index) == {
        (pd.Timestamp("2025-01-27"), "North"),
        (pd.Timestamp("2025-01-27"), "South"),
        (pd.Timestamp("2025-02-03"), "North"),
    }
    north = w.loc[(pd.Timestamp("2025-02-03"), "North")]
    # a1 absent 28800 + a2 14400 scheduled: pooled, not the mean of 100% and 12.5%
    assert north["shrinkage"] == pytest.approx(1 - (10800 + 1800) / (28800 + 14400))
    assert north["absence_shrinkage"] == pytest.approx(28800 / 43200)
    assert north["planned_shrinkage"] == pytest.approx(1800 / 43200)
    assert north["adherence"] == pytest.approx(14400 / 43200)
    assert north["absent_days"] == 1 and north["agent_days"] == 2
    parts = north[["planned_shrinkage", "absence_shrinkage", "other_shrinkage", "unexplained_shrinkage"]].sum()
    assert parts == pytest.approx(north["shrinkage"])
    m = workforce_kpis(activity(), AGENTS, grain="month", by=["site"]).set_index(["period", "site"])
    assert m.loc[(pd.Timestamp("2025-02-01"), "Tampa"), "scheduled_s"] == 43200
    assert m.loc[(pd.Timestamp("2025-01-01"), "Tampa"), "occupancy"] == pytest.approx(18000 / 23400)
    total = workforce_kpis(activity(), grain=None, by=[])
    assert total["utilization"].iloc[0] == pytest.approx((18000 + 10800) / (28800 * 2 + 14400))


def test_errors():
    with pytest.raises(MissingTableError, match="agents"):
        workforce_kpis(activity(), grain="month", by=["team"])
    with pytest.raises(UsageError, match="grain"):
        workforce_kpis(activity(), grain="quarter")


def test_a_figure_the_export_lacks_is_empty_and_a_blank_day_is_left_out():
    """A probe: an export without in_adherence_s put every agent at 0% adherence (and on the coaching list);
    without available_s occupancy read 100% and shrinkage doubled; blank in_adherence_s on 10 of 19 days gave
    41% where the days that have it give 86.6%. Each ratio pools the days that give its figures."""
    rows = pd.DataFrame(
        [
            day("2025-02-03", "a1", scheduled_s=28800, handle_s=18000, available_s=5400, in_adherence_s=25200),
            day("2025-02-04", "a1", scheduled_s=28800, handle_s=16000, available_s=6000, in_adherence_s=None),
            day("2025-02-05", "a1", scheduled_s=14400, handle_s=9000, available_s=None, in_adherence_s=14400),
        ]
    )
    k = workforce_kpis(rows, grain=None, by=()).iloc[0]
    assert k["adherence"] == pytest.approx((25200 + 14400) / (28800 + 14400))  # 91.7%, not 61.1%
    assert k["occupancy"] == pytest.approx((18000 + 16000) / (18000 + 5400 + 16000 + 6000))
    assert k["shrinkage"] == pytest.approx(1 - (18000 + 5400 + 16000 + 6000) / (2 * 28800))
    assert k["utilization"] == pytest.approx((18000 + 16000 + 9000) / (2 * 28800 + 14400))
    parts = ("planned_shrinkage", "absence_shrinkage", "other_shrinkage", "unexplained_shrinkage")
    assert sum(k[p] for p in parts) == pytest.approx(k["shrinkage"])
    lacking = workforce_kpis(rows.drop(columns=["in_adherence_s", "available_s"]), grain=None, by=()).iloc[0]
    assert math.isnan(lacking["adherence"]) and math.isnan(lacking["occupancy"]) and math.isnan(lacking["shrinkage"])
    assert lacking["utilization"] == pytest.approx(k["utilization"])
    # the scorecards read the same pooled adherence
    from reportlib.metrics.scorecards import monthly_agent_figures, values_from_sums

    empty = pd.DataFrame(
        columns=["contact_id", "channel", "queue", "arrived_at", "outcome", "wait_s", "handle_s", "agent_id"]
    ).astype({"arrived_at": "datetime64[ns]", "wait_s": float, "handle_s": float})
    figs = monthly_agent_figures(empty, start=pd.Timestamp("2025-02-01"), end=pd.Timestamp("2025-03-01"), activity=rows)
    assert values_from_sums(figs)["adherence"].iloc[0] == pytest.approx(k["adherence"])
