"""Contact KPIs against hand-computed oracles (reportlib.metrics.contacts), plus the `kpis` command."""

from __future__ import annotations

import json
import math

import ibis
import pandas as pd
import pytest

from reportlib.core.errors import MissingTableError, UsageError
from reportlib.metrics.contacts import (
    KPI_COLUMNS,
    change_by_part,
    contact_counts,
    contact_kpis,
    interval_kpis,
    kpis_from_counts,
    rollup_counts,
)

COLUMNS = {
    "contact_id": "string",
    "channel": "string",
    "queue": "string",
    "client_id": "string",
    "arrived_at": "datetime64[ns]",
    "outcome": "string",
    "wait_s": "float64",
    "handle_s": "float64",
    "agent_id": "string",
    "resolved_first_contact": "boolean",
    "escalated": "boolean",
    "transferred": "boolean",
    "csat": "Int64",
    "reason": "string",
    "caller_id": "string",
}


def frame(rows: list[dict]) -> pd.DataFrame:
    """A typed contacts frame; unspecified columns are null. ids are numbered when absent."""
    df = pd.DataFrame(rows)
    if "contact_id" not in df:
        df["contact_id"] = [f"k{i}" for i in range(len(df))]
    for col, dtype in COLUMNS.items():
        if col not in df:
            df[col] = pd.Series([None] * len(df), dtype="object")
        if dtype == "datetime64[ns]":
            df[col] = pd.to_datetime(df[col], format="ISO8601")
        else:
            df[col] = df[col].astype(dtype)
    for col, default in (("channel", "phone"), ("queue", "Benefits"), ("client_id", "C1")):
        df[col] = df[col].fillna(default)
    return df[list(COLUMNS)]


def table(df: pd.DataFrame) -> ibis.Table:
    """The frame as a table in a fresh DuckDB (as the loader would hand it over)."""
    con = ibis.duckdb.connect()
    return con.create_table("contacts", df)


def base_rows() -> list[dict]:
    """Eight phone contacts in January with every boundary case of the definitions (T=30, SA=5)."""
    t = "2025-01-15 10:00"
    return [
        dict(
            arrived_at=t,
            outcome="handled",
            wait_s=0,
            handle_s=100,
            agent_id="a1",
            resolved_first_contact=True,
            escalated=True,
            transferred=False,
            csat=5,
        ),
        dict(
            arrived_at=t,
            outcome="handled",
            wait_s=30,
            handle_s=200,
            agent_id="a1",  # exactly T: within
            resolved_first_contact=False,
            transferred=False,
            csat=4,
        ),
        dict(
            arrived_at=t,
            outcome="handled",
            wait_s=30.001,
            handle_s=300,
            agent_id="a2",  # just over T
            resolved_first_contact=None,
            escalated=False,
            transferred=False,
            csat=3,
        ),
        dict(
            arrived_at=t,
            outcome="handled",
            wait_s=45,
            handle_s=400,
            agent_id="a2",
            resolved_first_contact=True,
            escalated=False,
            transferred=False,
        ),
        dict(arrived_at=t, outcome="abandoned", wait_s=4.99),  # short abandon
        dict(arrived_at=t, outcome="abandoned", wait_s=5),  # exactly the limit: not short
        dict(arrived_at=t, outcome="abandoned", wait_s=20),  # abandoned within T
        dict(arrived_at=t, outcome="abandoned", wait_s=60),  # abandoned after T
    ]


def one(df: pd.DataFrame) -> pd.Series:
    assert len(df) == 1
    return df.iloc[0]


def test_counts_and_every_metric_by_hand():
    k = one(contact_kpis(table(frame(base_rows())), grain=None))
    assert list(contact_kpis(table(frame(base_rows())), grain=None).columns) == KPI_COLUMNS
    assert k["short_abandoned"] == 1
    assert k["offered"] == 7  # 8 contacts minus the short abandon
    assert k["handled"] == 4
    assert k["abandoned"] == 3  # wait 5, 20, 60 (4.99 is short)
    assert k["answered_within_threshold"] == 2  # waits 0 and exactly 30
    assert k["service_level"] == pytest.approx(2 / 7)
    assert k["abandon_rate"] == pytest.approx(3 / 7)
    assert k["asa_s"] == pytest.approx((0 + 30 + 30.001 + 45) / 4)
    assert k["aht_s"] == pytest.approx((100 + 200 + 300 + 400) / 4)
    assert k["fcr"] == pytest.approx(2 / 3)  # one handled contact has no value
    assert k["csat_top2"] == pytest.approx(2 / 3)
    assert k["csat_mean"] == pytest.approx(4.0)
    assert k["csat_responses"] == 3
    assert k["escalation_rate"] == pytest.approx(1 / 3)  # one unknown
    assert k["transfer_rate"] == 0.0
    assert math.isnan(k["fcr_repeat"])  # no caller ids at all


@pytest.mark.parametrize(
    "definition, expected",
    [
        ("offered", 2 / 7),  # answered within T / offered
        ("answered", 2 / 4),  # answered within T / answered
        ("abandons_excluded", 2 / (4 + 1)),  # / (answered + abandoned after T)
        ("abandons_within_t_met", (2 + 2) / 7),  # (answered within T + abandoned within T) / offered
    ],
)
def test_service_level_definitions(definition, expected):
    k = one(contact_kpis(table(frame(base_rows())), grain=None, sl_definition=definition))
    assert k["service_level"] == pytest.approx(expected)


def test_threshold_and_short_abandon_are_parameters():
    t = table(frame(base_rows()))
    k = one(contact_kpis(t, grain=None, sl_threshold_s=45, short_abandon_s=0))
    # no short abandons at all; within 45 s: handled waits 0, 30, 30.001, 45
    assert k["short_abandoned"] == 0 and k["offered"] == 8 and k["abandoned"] == 4
    assert k["answered_within_threshold"] == 4
    assert k["service_level"] == pytest.approx(4 / 8)
    k = one(contact_kpis(t, grain=None, short_abandon_s=21, sl_definition="abandons_within_t_met"))
    # waits 4.99, 5 and 20 are short now; only the 60 s abandon remains
    assert k["short_abandoned"] == 3 and k["offered"] == 5 and k["abandoned"] == 1
    assert k["service_level"] == pytest.approx((2 + 0) / 5)


def test_invalid_parameters_are_usage_errors():
    t = table(frame(base_rows()))
    with pytest.raises(UsageError, match="sl_definition"):
        contact_kpis(t, sl_definition="within")
    with pytest.raises(UsageError, match="grain"):
        contact_kpis(t, grain="hour")
    with pytest.raises(UsageError, match="cannot group by"):
        contact_kpis(t, by=["colour"])
    with pytest.raises(MissingTableError, match="agents"):
        contact_kpis(t, by=["team"])
    # a negative threshold counted nothing as answered in time (SL 0.0), NaN or inf everything (SL 1.0)
    for bad in (-5, float("nan"), float("inf")):
        with pytest.raises(UsageError, match="sl_threshold_s must be a number of seconds >= 0"):
            contact_kpis(t, sl_threshold_s=bad)
        with pytest.raises(UsageError, match="short_abandon_s must be a number of seconds >= 0"):
            contact_kpis(t, short_abandon_s=bad)


def test_open_email_is_offered_and_missed():
    rows = [
        dict(channel="email", arrived_at="2025-01-06 09:00", outcome="handled", wait_s=20, handle_s=300, agent_id="a1"),
        dict(channel="email", arrived_at="2025-01-06 09:00", outcome="open"),
        dict(channel="email", arrived_at="2025-01-06 09:00", outcome="open"),
    ]
    k = one(contact_kpis(table(frame(rows)), grain=None, sl_threshold_s=30))
    assert (k["offered"], k["handled"], k["abandoned"]) == (3, 1, 0)
    assert k["service_level"] == pytest.approx(1 / 3)
    k = one(contact_kpis(table(frame(rows)), grain=None, sl_definition="answered"))
    assert k["service_level"] == 1.0


def test_empty_groups_give_missing_not_errors():
    rows = [
        dict(queue="Only short", arrived_at="2025-01-02 10:00", outcome="abandoned", wait_s=1),
        dict(queue="Only abandons", arrived_at="2025-01-02 10:00", outcome="abandoned", wait_s=50),
    ]
    k = contact_kpis(table(frame(rows)), grain="month", by=["queue"]).set_index("queue")
    short = k.loc["Only short"]
    assert short["offered"] == 0 and short["short_abandoned"] == 1
    for col in (
        "service_level",
        "abandon_rate",
        "asa_s",
        "aht_s",
        "fcr",
        "csat_top2",
        "csat_mean",
        "escalation_rate",
        "transfer_rate",
        "fcr_repeat",
    ):
        assert math.isnan(short[col]), col
    ab = k.loc["Only abandons"]
    assert ab["service_level"] == 0.0 and ab["abandon_rate"] == 1.0
    assert math.isnan(ab["asa_s"]) and math.isnan(ab["aht_s"])
    # a table with nothing in the window: one row of zeros and missing shares, no error
    k = one(contact_kpis(table(frame(rows)), grain=None, start="2030-01-01", end="2030-02-01"))
    assert k["offered"] == 0 and math.isnan(k["service_level"])


def test_grains_local_month_week_and_interval_edges():
    rows = [
        dict(arrived_at="2025-01-31 23:59:59", outcome="handled", wait_s=1, handle_s=10, agent_id="a"),
        dict(arrived_at="2025-02-01 00:00:00", outcome="handled", wait_s=1, handle_s=10, agent_id="a"),
        dict(arrived_at="2025-02-02 23:59:59", outcome="handled", wait_s=1, handle_s=10, agent_id="a"),  # Sunday
        dict(arrived_at="2025-02-03 00:00:00", outcome="handled", wait_s=1, handle_s=10, agent_id="a"),  # Monday
        dict(arrived_at="2025-02-03 10:14:59", outcome="handled", wait_s=1, handle_s=10, agent_id="a"),
        dict(arrived_at="2025-02-03 10:15:00", outcome="handled", wait_s=1, handle_s=10, agent_id="a"),
        dict(arrived_at="2025-02-03 10:29:59", outcome="handled", wait_s=1, handle_s=10, agent_id="a"),
        dict(arrived_at="2025-02-03 10:30:00", outcome="handled", wait_s=1, handle_s=10, agent_id="a"),
    ]
    t = table(frame(rows))
    m = contact_kpis(t, grain="month").set_index("period")["offered"]
    assert m.to_dict() == {pd.Timestamp("2025-01-01"): 1, pd.Timestamp("2025-02-01"): 7}
    w = contact_kpis(t, grain="week").set_index("period")["offered"]
    assert w.to_dict() == {pd.Timestamp("2025-01-27"): 3, pd.Timestamp("2025-02-03"): 5}
    d = contact_kpis(t, grain="day").set_index("period")["offered"]
    assert d[pd.Timestamp("2025-02-03")] == 5 and d[pd.Timestamp("2025-02-02")] == 1
    q = contact_kpis(t, grain="15min").set_index("period")["offered"]
    assert q[pd.Timestamp("2025-02-03 10:00")] == 1
    assert q[pd.Timestamp("2025-02-03 10:15")] == 2
    assert q[pd.Timestamp("2025-02-03 10:30")] == 1
    h = contact_kpis(t, grain="30min").set_index("period")["offered"]
    assert h[pd.Timestamp("2025-02-03 10:00")] == 3 and h[pd.Timestamp("2025-02-03 10:30")] == 1
    # start/end filter by local time, end exclusive
    k = one(contact_kpis(t, grain=None, start="2025-02-01", end="2025-02-03"))
    assert k["offered"] == 2


def test_dst_days_in_local_wall_time():
    """Spring forward (23-hour day) and fall back (25-hour day) in America/New_York."""
    rows = [
        # 2025-03-09: 01:59 EST is followed by 03:00 EDT
        dict(arrived_at="2025-03-09 01:59", outcome="handled", wait_s=10, handle_s=60, agent_id="a"),
        dict(arrived_at="2025-03-09 03:00", outcome="handled", wait_s=40, handle_s=60, agent_id="a"),
        dict(arrived_at="2025-03-09 23:59", outcome="handled", wait_s=10, handle_s=60, agent_id="a"),
        # 2025-11-02: 01:00-01:59 happens twice (EDT then EST); both read 01:30 local
        dict(arrived_at="2025-11-02 01:30", outcome="handled", wait_s=10, handle_s=60, agent_id="a"),
        dict(arrived_at="2025-11-02 01:30", outcome="abandoned", wait_s=50),
        dict(arrived_at="2025-11-02 23:59", outcome="handled", wait_s=10, handle_s=60, agent_id="a"),
    ]
    t = table(frame(rows))
    d = contact_kpis(t, grain="day").set_index("period")
    assert d.loc[pd.Timestamp("2025-03-09"), "offered"] == 3
    assert d.loc[pd.Timestamp("2025-03-09"), "service_level"] == pytest.approx(2 / 3)
    assert d.loc[pd.Timestamp("2025-11-02"), "offered"] == 3
    q = contact_kpis(t, grain="15min").set_index("period")
    assert pd.Timestamp("2025-03-09 02:00") not in q.index  # no such local time
    assert q.loc[pd.Timestamp("2025-03-09 03:00"), "offered"] == 1
    assert q.loc[pd.Timestamp("2025-11-02 01:30"), "offered"] == 2
    assert q.loc[pd.Timestamp("2025-11-02 01:30"), "abandon_rate"] == 0.5


def test_change_by_part_by_hand():
    """Before: A and B half the volume each at 90% and 80% (total 85%); now A a quarter at 90% (unchanged), B three
    quarters at 70% (total 75%). A's share of the total fell most (0.225 - 0.45), yet its own service level did not
    move: B's contribution is 0.625 x -0.10 + 0.25 x (0.75 - 0.80) = -0.075, A's -0.25 x (0.90 - 0.80) = -0.025,
    and the two add up to the total's -0.10 exactly."""
    c = change_by_part(
        pd.Series({"A": 20, "B": 20}),
        pd.Series({"A": 0.9, "B": 0.8}),
        pd.Series({"A": 10, "B": 30}),
        pd.Series({"A": 0.9, "B": 0.7}),
    )
    assert c["A"] == pytest.approx(-0.025) and c["B"] == pytest.approx(-0.075)
    assert c.sum() == pytest.approx(0.75 - 0.85)
    # a part new this month (C), one without a value before (D): the parts still add up to the totals' change
    wb, vb = pd.Series({"A": 5, "B": 3, "D": 2}), pd.Series({"A": 0.5, "B": 0.9, "D": float("nan")})
    wn, vn = pd.Series({"A": 4, "B": 4, "C": 2, "D": 1}), pd.Series({"A": 0.6, "B": 0.8, "C": 0.3, "D": 0.4})
    c = change_by_part(wb, vb, wn, vn)
    before = (5 * 0.5 + 3 * 0.9) / 8
    now = (4 * 0.6 + 4 * 0.8 + 2 * 0.3 + 1 * 0.4) / 11
    assert c.sum() == pytest.approx(now - before) and set(c.index) == {"A", "B", "C", "D"}


def test_volume_weighted_not_average_of_percentages():
    rows = [
        dict(queue="Big", arrived_at="2025-01-02 10:00", outcome="handled", wait_s=10, handle_s=100, agent_id="a")
        for _ in range(9)
    ]
    rows += [dict(queue="Big", arrived_at="2025-01-02 10:00", outcome="handled", wait_s=90, handle_s=100, agent_id="a")]
    rows += [
        dict(queue="Small", arrived_at="2025-01-02 10:00", outcome="handled", wait_s=90, handle_s=500, agent_id="a")
    ]
    t = table(frame(rows))
    by_q = contact_kpis(t, grain=None, by=["queue"]).set_index("queue")
    assert by_q.loc["Big", "service_level"] == pytest.approx(0.9)
    assert by_q.loc["Small", "service_level"] == 0.0
    total = one(contact_kpis(t, grain=None))
    assert total["service_level"] == pytest.approx(9 / 11)  # not (0.9 + 0) / 2
    assert total["aht_s"] == pytest.approx((10 * 100 + 500) / 11)
    # re-adding the counts of the groups gives the same exact total
    rolled = kpis_from_counts(rollup_counts(contact_counts(t, grain=None, by=["queue"])))
    assert one(rolled)["service_level"] == pytest.approx(9 / 11)


def test_fcr_repeat_by_hand():
    rows = [
        # caller c1, reason A: Jan 1 -> Jan 5 (repeat) -> Jan 12 10:00 (exactly 7 days: repeat) -> none
        dict(
            caller_id="c1",
            reason="A",
            arrived_at="2025-01-01 10:00",
            outcome="handled",
            wait_s=1,
            handle_s=1,
            agent_id="a",
        ),
        dict(
            caller_id="c1",
            reason="A",
            arrived_at="2025-01-05 10:00",
            outcome="handled",
            wait_s=1,
            handle_s=1,
            agent_id="a",
        ),
        dict(
            caller_id="c1",
            reason="A",
            arrived_at="2025-01-12 10:00",
            outcome="handled",
            wait_s=1,
            handle_s=1,
            agent_id="a",
        ),
        # caller c2: different reasons are different issues
        dict(
            caller_id="c2",
            reason="A",
            arrived_at="2025-01-01 10:00",
            outcome="handled",
            wait_s=1,
            handle_s=1,
            agent_id="a",
        ),
        dict(
            caller_id="c2",
            reason="B",
            arrived_at="2025-01-03 10:00",
            outcome="handled",
            wait_s=1,
            handle_s=1,
            agent_id="a",
        ),
        # caller c3: the repeat is next month (the look-ahead crosses the month end)
        dict(
            caller_id="c3",
            reason="A",
            arrived_at="2025-01-30 10:00",
            outcome="handled",
            wait_s=1,
            handle_s=1,
            agent_id="a",
        ),
        dict(caller_id="c3", reason="A", arrived_at="2025-02-02 10:00", outcome="abandoned", wait_s=40),
        # caller c4: a later abandoned attempt the same day is a repeat contact too
        dict(
            caller_id="c4",
            reason="A",
            arrived_at="2025-01-10 09:00",
            outcome="handled",
            wait_s=1,
            handle_s=1,
            agent_id="a",
        ),
        dict(caller_id="c4", reason="A", arrived_at="2025-01-10 11:00", outcome="abandoned", wait_s=40),
        # caller c5: 7 days and one second later is not within 7 days
        dict(
            caller_id="c5",
            reason="A",
            arrived_at="2025-01-20 10:00:00",
            outcome="handled",
            wait_s=1,
            handle_s=1,
            agent_id="a",
        ),
        dict(
            caller_id="c5",
            reason="A",
            arrived_at="2025-01-27 10:00:01",
            outcome="handled",
            wait_s=1,
            handle_s=1,
            agent_id="a",
        ),
        # no caller id: not in the denominator
        dict(arrived_at="2025-01-10 09:00", outcome="handled", wait_s=1, handle_s=1, agent_id="a"),
        # caller c6: two contacts at the very same time are repeats of each other
        dict(
            caller_id="c6",
            reason="A",
            arrived_at="2025-01-15 10:00",
            outcome="handled",
            wait_s=1,
            handle_s=1,
            agent_id="a",
        ),
        dict(
            caller_id="c6",
            reason="A",
            arrived_at="2025-01-15 10:00",
            outcome="handled",
            wait_s=1,
            handle_s=1,
            agent_id="b",
        ),
    ]
    t = table(frame(rows))
    k = one(contact_kpis(t, grain=None, start="2025-01-01", end="2025-02-01"))
    # handled with a caller in January: c1 x3 (2 repeats), c2 x2 (0), c3 x1 (1), c4 x1 (1), c5 x2 (0),
    # c6 x2 (2) = 11 contacts, 6 repeats -> 5 resolved
    assert k["fcr_repeat"] == pytest.approx(5 / 11)
    by_agent = contact_kpis(t, grain=None, by=["agent_id"], start="2025-01-15", end="2025-01-16")
    assert by_agent.set_index("agent_id")["fcr_repeat"].to_dict() == {"a": 0.0, "b": 0.0}
    # without the look-ahead past the month (data cut at Feb 1), c3 looks resolved
    cut = frame(rows)
    cut = cut[cut["arrived_at"] < "2025-02-01"]
    k2 = one(contact_kpis(table(cut), grain=None))
    assert k2["fcr_repeat"] == pytest.approx(6 / 11)


def test_fcr_repeat_per_client_looks_within_the_client():
    rows = [
        # caller c1 calls about client C1, then two days later about client C2, same reason
        dict(
            caller_id="c1",
            reason="A",
            client_id="C1",
            arrived_at="2025-01-06 10:00",
            outcome="handled",
            wait_s=1,
            handle_s=1,
            agent_id="a",
        ),
        dict(
            caller_id="c1",
            reason="A",
            client_id="C2",
            arrived_at="2025-01-08 10:00",
            outcome="handled",
            wait_s=1,
            handle_s=1,
            agent_id="a",
        ),
        # and again about C1 within the week: C1's first contact is repeated after all
        dict(
            caller_id="c2",
            reason="A",
            client_id="C1",
            arrived_at="2025-01-06 10:00",
            outcome="handled",
            wait_s=1,
            handle_s=1,
            agent_id="a",
        ),
        dict(
            caller_id="c2",
            reason="A",
            client_id="C2",
            arrived_at="2025-01-07 10:00",
            outcome="handled",
            wait_s=1,
            handle_s=1,
            agent_id="a",
        ),
        dict(
            caller_id="c2",
            reason="A",
            client_id="C1",
            arrived_at="2025-01-09 10:00",
            outcome="handled",
            wait_s=1,
            handle_s=1,
            agent_id="a",
        ),
    ]
    t = table(frame(rows))
    # over everything: c1's first contact and c2's first two are repeats: 2 of 5 resolved
    assert one(contact_kpis(t, grain=None))["fcr_repeat"] == pytest.approx(2 / 5)
    # per client, only the client's own contacts count: C1 has c1 (resolved), c2 x2 (first repeated)
    per = contact_kpis(t, grain=None, by=["client_id"]).set_index("client_id")["fcr_repeat"]
    assert per.to_dict() == pytest.approx({"C1": 2 / 3, "C2": 1.0})
    # the same as over each client's contacts alone
    for cid, value in per.items():
        alone = frame(rows)
        assert one(contact_kpis(table(alone[alone["client_id"] == cid]), grain=None))["fcr_repeat"] == value


def test_group_by_agent_attributes_joins_agents():
    rows = [
        dict(arrived_at="2025-01-02 10:00", outcome="handled", wait_s=5, handle_s=100, agent_id="a1"),
        dict(arrived_at="2025-01-02 10:00", outcome="handled", wait_s=50, handle_s=300, agent_id="a2"),
        dict(arrived_at="2025-01-02 10:00", outcome="handled", wait_s=5, handle_s=200, agent_id="a3"),
        dict(arrived_at="2025-01-02 10:00", outcome="abandoned", wait_s=50),
    ]
    agents = pd.DataFrame(
        {
            "agent_id": ["a1", "a2", "a3"],
            "team": ["North", "North", "South"],
            "site": ["X", "Y", "Y"],
            "supervisor": ["s1", "s1", "s2"],
        }
    )
    con = ibis.duckdb.connect()
    t = con.create_table("contacts", frame(rows))
    a = con.create_table("agents", agents)
    k = contact_kpis(t, grain=None, by=["team"], agents=a).set_index("team")
    assert k.loc["North", "handled"] == 2 and k.loc["North", "aht_s"] == 200
    assert k.loc["South", "aht_s"] == 200 and k.loc["South", "service_level"] == 1.0
    assert k["offered"].sum() == 4  # the abandon has no agent: its own (missing-team) group
    s = contact_kpis(t, grain=None, by=["site", "channel"], agents=agents).set_index("site")
    assert s.loc["Y", "handled"] == 2


def test_interval_kpis_missing_not_zero():
    iv = pd.DataFrame(
        {
            "interval_start": pd.to_datetime(["2025-01-02 10:00", "2025-01-02 10:30", "2025-01-02 10:00"]),
            "interval_minutes": [30, 30, 30],
            "channel": ["phone"] * 3,
            "queue": ["A", "A", "B"],
            "client_id": [None] * 3,
            "offered": [10.0, 30.0, 5.0],
            "handled": [8.0, 27.0, None],
            "abandoned": [2.0, 3.0, None],
            "answered_within_threshold": [6.0, 21.0, 4.0],
            "threshold_s": [30.0, 30.0, 20.0],
            "wait_s_total": [80.0, 270.0, None],
            "handle_s_total": [1600.0, 5400.0, None],
        }
    )
    k = interval_kpis(iv, grain="day", by=["queue"]).set_index("queue")
    a = k.loc["A"]
    assert a["offered"] == 40 and a["handled"] == 35 and a["abandoned"] == 5
    assert a["service_level"] == pytest.approx(27 / 40)  # from the counts, not mean(0.6, 0.7)
    assert a["asa_s"] == pytest.approx(350 / 35)
    assert a["aht_s"] == pytest.approx(7000 / 35)
    assert a["abandon_rate"] == pytest.approx(5 / 40)
    for col in (
        "short_abandoned",
        "fcr",
        "fcr_repeat",
        "csat_top2",
        "csat_mean",
        "csat_responses",
        "escalation_rate",
        "transfer_rate",
    ):
        assert math.isnan(a[col]), col
    b = k.loc["B"]
    assert b["offered"] == 5
    # exported at 20 s, asked for 30 s: service level cannot be given; nor handled/ASA/AHT
    for col in ("handled", "answered_within_threshold", "service_level", "asa_s", "aht_s"):
        assert math.isnan(b[col]), col
    b20 = interval_kpis(iv, grain=None, by=["queue"], sl_threshold_s=20).set_index("queue").loc["B"]
    assert b20["service_level"] == pytest.approx(4 / 5)
    # all of A and B together: the incomplete queue makes the total handled unknown, not 35
    tot = one(interval_kpis(iv, grain=None))
    assert tot["offered"] == 45 and math.isnan(tot["handled"])
    # abandons split at T are not in interval exports
    assert math.isnan(
        one(interval_kpis(iv[iv.queue == "A"], grain=None, sl_definition="abandons_excluded"))["service_level"]
    )
    assert one(interval_kpis(iv[iv.queue == "A"], grain=None, sl_definition="answered"))[
        "service_level"
    ] == pytest.approx(27 / 35)
    with pytest.raises(UsageError, match="15min"):
        interval_kpis(iv, grain="15min")
    with pytest.raises(UsageError, match="team"):
        interval_kpis(iv, by=["team"])


# --- end to end through the loader and the command line ---------------------------------------------

CONTACTS_CSV = """contact_id,channel,queue,client_id,arrived_at,outcome,wait_s,handle_s,agent_id
e1,phone,Benefits,C1,2025-02-01T04:30:00Z,handled,10,100,A1
e2,phone,Benefits,C1,2025-02-01T00:30:00-05:00,handled,40,300,A1
e3,phone,Benefits,C1,2025-03-31T23:30:00-04:00,handled,10,100,A1
e4,phone,Benefits,C1,2025-04-01T03:30:00Z,abandoned,50,,
e5,phone,Benefits,C1,2025-04-01T04:00:00Z,handled,10,100,A1
e6,phone,Benefits,C1,2025-03-09T01:30:00-05:00,handled,10,100,A1
e7,phone,Benefits,C1,2025-03-09T03:30:00-04:00,handled,10,100,A1
e8,phone,Benefits,C1,2025-11-02T01:30:00-04:00,handled,10,100,A1
e9,phone,Benefits,C1,2025-11-02T01:30:00-05:00,abandoned,3,,
e10,phone,Debit Card,C1,2025-11-02T06:30:00Z,handled,45,200,A1
"""
AGENTS_CSV = """agent_id,name,team,supervisor,site,role,hire_date,fte,hourly_cost
A1,Alex Doe,North,Sam Lee,Main,agent,2024-01-01,1,30
"""
CLIENTS_CSV = """client_id,client_name,tier,sla_profile,monthly_fee
C1,Acme,gold,gold,10000
"""


@pytest.fixture()
def offset_folder(tmp_path, monkeypatch):
    """A tiny data folder whose timestamps carry -05:00, -04:00 and Z offsets."""
    pytest.importorskip("reportlib.data.load")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "contacts.csv").write_text(CONTACTS_CSV)
    (folder / "agents.csv").write_text(AGENTS_CSV)
    (folder / "clients.csv").write_text(CLIENTS_CSV)
    return folder


def test_month_edges_with_offsets_end_to_end(offset_folder):
    from reportlib.data.load import open_source

    t = open_source(str(offset_folder), "America/New_York").table("contacts")
    m = contact_kpis(t, grain="month").set_index("period")["offered"].to_dict()
    # e1 04:30Z = Jan 31 23:30 EST; e2 Feb 1 00:30 EST; e3 and e4 (03:30Z = 23:30 EDT) are March;
    # e5 04:00Z = April 1 00:00 EDT; e9 is a short abandon (not offered)
    assert m == {
        pd.Timestamp("2025-01-01"): 1,
        pd.Timestamp("2025-02-01"): 1,
        pd.Timestamp("2025-03-01"): 4,
        pd.Timestamp("2025-04-01"): 1,
        pd.Timestamp("2025-11-01"): 2,
    }
    d = contact_kpis(t, grain="day").set_index("period")
    assert d.loc[pd.Timestamp("2025-03-09"), "offered"] == 2  # 01:30 EST and 03:30 EDT, one local day
    q = contact_kpis(t, grain="15min").set_index("period")
    # e8 01:30 EDT, e9 01:30 EST and e10 06:30Z (= 01:30 EST) all read 01:30 local on the 25-hour day
    assert q.loc[pd.Timestamp("2025-11-02 01:30"), "offered"] == 2
    assert q.loc[pd.Timestamp("2025-11-02 01:30"), "short_abandoned"] == 1
    assert q.loc[pd.Timestamp("2025-11-02 01:30"), "handled"] == 2
    mar = one(contact_kpis(t, grain=None, start="2025-03-01", end="2025-04-01"))
    assert mar["abandoned"] == 1 and mar["service_level"] == pytest.approx(3 / 4)


def test_kpis_command(offset_folder, capsys):
    from reportlib.cli import main

    rc = main(["kpis", "--data", str(offset_folder), "--month", "2025-11", "--by", "queue", "--format", "json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    records = json.loads(out.out)
    by_q = {r["queue"]: r for r in records}
    assert set(by_q) == {"Benefits", "Debit Card"}
    assert by_q["Benefits"]["offered"] == 1 and by_q["Benefits"]["short_abandoned"] == 1
    assert by_q["Debit Card"]["service_level"] == 0.0  # waited 45 s > 30 s
    assert by_q["Debit Card"]["fcr"] is None  # missing, not zero
    for name in KPI_COLUMNS:
        assert name in by_q["Benefits"]
    rc = main(
        [
            "kpis",
            "--data",
            str(offset_folder),
            "--month",
            "2025-11",
            "--by",
            "queue",
            "--sl-threshold",
            "45",
            "--format",
            "csv",
        ]
    )
    out = capsys.readouterr()
    assert rc == 0
    frame_ = pd.read_csv(pd.io.common.StringIO(out.out)).set_index("queue")
    assert frame_.loc["Debit Card", "service_level"] == 1.0
    # counts as whole numbers in CSV (a probe read "8999.0" in the row "(no agent)"); shares keep their decimals
    assert main(["kpis", "--data", str(offset_folder), "--month", "2025-11", "--by", "team", "--format", "csv"]) == 0
    head, *rows = capsys.readouterr().out.splitlines()
    cells = [dict(zip(head.split(","), row.split(","))) for row in rows]
    assert [c["short_abandoned"] for c in cells if c["team"] == "(no agent)"] == ["1"]
    assert all("." not in c[k] for c in cells for k in ("offered", "handled", "answered_within_threshold")), cells
    rc = main(["kpis", "--data", str(offset_folder), "--month", "2025-11", "--by", "team", "--format", "json"])
    out = capsys.readouterr()
    assert rc == 0
    teams = {r["team"]: r for r in json.loads(out.out)}
    assert teams["North"]["handled"] == 2
    # a team's row counts what its agents handled: a probe read every team's abandon rate as 0 and its service
    # level as answered contacts' alone, all abandons in a row with an empty team. The queue's measures are
    # empty in a team's row; e9, a 3 s abandon (a short one), is in the row "(no agent)", with no rates
    assert all(teams["North"][c] is None for c in ("abandoned", "service_level", "abandon_rate"))
    assert teams["North"]["aht_s"] == pytest.approx(150) and teams["North"]["answered_within_threshold"] == 1
    assert teams["(no agent)"]["short_abandoned"] == 1 and teams["(no agent)"]["service_level"] is None
    assert 'the contacts no agent handled (abandoned or unanswered) are the row "(no agent)"' in out.err


@pytest.mark.parametrize("threshold", ["-5", "nan", "inf"])
def test_kpis_command_refuses_a_threshold_that_is_not_seconds(offset_folder, capsys, threshold):
    from reportlib.cli import main

    rc = main(["kpis", "--data", str(offset_folder), "--month", "2025-11", "--sl-threshold", threshold])
    out = capsys.readouterr()
    assert rc == 2 and out.out == "", out.out
    (line,) = [ln for ln in out.err.splitlines() if not ln.startswith("reportlib: parsed and checked")]
    assert line.startswith("reportlib kpis: sl_threshold_s must be a number of seconds >= 0, got "), line


@pytest.mark.parametrize("command", ["kpis", "attrition"])
@pytest.mark.parametrize("month", ["9999-01", "1600-01"])
def test_a_month_outside_the_years_data_may_hold_is_a_usage_error(offset_folder, capsys, command, month):
    """--month 9999-01 stopped kpis and attrition with pandas' OutOfBoundsDatetime traceback."""
    from reportlib.cli import main
    from reportlib.core.months import parse_month

    with pytest.raises(UsageError, match="from 1700-01 to 2199-12"):
        parse_month(month)
    assert str(parse_month("2199-12")) == "2199-12" and str(parse_month("1700-01")) == "1700-01"
    with pytest.raises(SystemExit) as exit_:  # argparse's usage error
        main([command, "--data", str(offset_folder), "--month", month])
    err = capsys.readouterr().err
    assert exit_.value.code == 2, err
    assert err.splitlines()[-1] == (
        f"reportlib: error: argument --month: month must be a month from 1700-01 to 2199-12, got '{month}'"
    )
    assert "Traceback" not in err


def test_kpis_command_month_without_data(offset_folder, capsys):
    from reportlib.cli import main

    rc = main(["kpis", "--data", str(offset_folder), "--month", "2024-06"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "no contacts in 2024-06" in err and "2025-01-31" in err
    assert "Traceback" not in err


INTERVALS_CSV = """interval_start,interval_minutes,channel,queue,offered,handled,abandoned,answered_within_threshold,threshold_s,wait_s_total,handle_s_total
2025-03-31T23:30:00-04:00,30,phone,Benefits,10,9,1,8,30,90,1800
2025-04-01T04:00:00Z,30,phone,Benefits,20,18,2,12,30,360,3600
2025-04-01T08:00:00-04:00,30,phone,Accounts,5,5,0,5,30,0,1000
"""


def test_kpis_command_from_intervals(tmp_path, monkeypatch, capsys):
    """Without a contacts table the command works from intervals and says what it cannot give."""
    pytest.importorskip("reportlib.data.load")
    from reportlib.cli import main

    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "iv"
    folder.mkdir()
    (folder / "intervals.csv").write_text(INTERVALS_CSV)
    rc = main(["kpis", "--data", str(folder), "--month", "2025-04", "--by", "queue", "--format", "json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    rows = {r["queue"]: r for r in json.loads(out.out)}
    # the 23:30 EDT interval on March 31 is not April; 04:00Z is April 1 00:00 EDT
    assert rows["Benefits"]["offered"] == 20 and rows["Benefits"]["service_level"] == pytest.approx(12 / 20)
    assert rows["Benefits"]["aht_s"] == pytest.approx(200) and rows["Benefits"]["asa_s"] == pytest.approx(20)
    assert rows["Benefits"]["fcr"] is None and rows["Benefits"]["csat_responses"] is None
    assert "intervals table" in out.err and "fcr" in out.err
    rc = main(["kpis", "--data", str(folder), "--month", "2025-04", "--by", "team"])
    err = capsys.readouterr().err
    assert rc == 2 and "interval data cannot be grouped by team" in err


def test_kpis_rows_spanning_channels_take_service_from_phone_and_chat(tmp_path, monkeypatch, capsys):
    """Without channel in --by, an email's hours of waiting are not held to a threshold in seconds nor averaged
    into the speed of answer. By hand (threshold 30 s, March 2025): phone waits 10 and 40 s handled, 50 s
    abandoned; chat 5 s handled; email 7,200 s handled. Service level over phone and chat: 2 within 30 s of 4
    offered = 0.5 (with the email as missed it read 2 / 5 = 0.4, under the phone's own 1 / 3); ASA (10 + 40 + 5)
    / 3 = 18.33 s (with the email: 1,813.75 s); abandon rate 1 / 4; offered 5, every channel's."""
    from reportlib.cli import main

    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "contacts.csv").write_text(
        "contact_id,channel,queue,client_id,arrived_at,outcome,wait_s,handle_s,agent_id\n"
        "p1,phone,Benefits,C1,2025-03-03T10:00:00-05:00,handled,10,100,A1\n"
        "p2,phone,Benefits,C1,2025-03-03T11:00:00-05:00,handled,40,100,A1\n"
        "p3,phone,Benefits,C1,2025-03-03T12:00:00-05:00,abandoned,50,,\n"
        "c1,chat,Benefits,C1,2025-03-03T13:00:00-05:00,handled,5,200,A1\n"
        "m1,email,Benefits,C1,2025-03-03T09:00:00-05:00,handled,7200,300,A1\n"
    )
    (folder / "agents.csv").write_text(AGENTS_CSV)
    (folder / "clients.csv").write_text(CLIENTS_CSV)
    base = ["kpis", "--data", str(folder), "--month", "2025-03", "--sl-threshold", "30", "--format", "json"]
    for by in ([], ["--by", "queue"]):
        assert main(base + by) == 0
        out = capsys.readouterr()
        row = json.loads(out.out)[0]
        assert row["offered"] == 5 and row["handled"] == 4
        assert row["answered_within_threshold"] == 2 and row["service_level"] == pytest.approx(0.5)
        assert row["asa_s"] == pytest.approx(55 / 3) and row["abandon_rate"] == pytest.approx(0.25)
        assert row["aht_s"] == pytest.approx(175.0)  # every channel's handle time
        assert "phone and chat" in out.err
    assert main(base + ["--by", "channel"]) == 0
    rows = {r["channel"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["phone"]["service_level"] == pytest.approx(1 / 3) and rows["email"]["asa_s"] is None


def _interval_folder(tmp_path, rows: str):
    """A data folder holding intervals.csv with the columns the interval tests use and `rows` (CSV lines)."""
    folder = tmp_path / "iv"
    folder.mkdir()
    (folder / "intervals.csv").write_text(
        "interval_start,interval_minutes,channel,queue,offered,handled,abandoned,answered_within_threshold,"
        "threshold_s,wait_s_total,handle_s_total\n" + rows
    )
    return folder


def test_channels_counted_at_another_threshold_give_no_total_service_level(tmp_path, monkeypatch):
    """An interval export with phone counted at 30 s and chat at 60 s (the reports ask 30 s): chat's
    answered-in-time is unknown, so phone and chat together have no service level. The monthly pack's tile read
    6 / 14 = 42.9% (phone's 6 within over both channels' 14 offered; phone alone is 6 / 10). The caption names the
    channels counted at another threshold."""
    from reportlib.core.params import load_params
    from reportlib.data.load import open_source
    from reportlib.metrics.contacts import COUNT_COLUMNS, rollup_counts
    from reportlib.reports import queries

    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    folder = _interval_folder(
        tmp_path,
        "2026-10-05T09:00:00,30,phone,Q1,10,8,2,6,30,120,1600\n"
        "2026-10-05T09:00:00,30,chat,Q1,4,4,0,4,60,20,800\n"
        "2026-10-05T09:00:00,30,email,Q1,6,6,0,1,28800,36000,1200\n"
        "2026-11-02T09:00:00,30,phone,Q1,10,8,2,6,30,120,1600\n"
        "2026-11-02T09:00:00,30,chat,Q1,4,4,0,4,30,20,800\n",
    )
    source, params = open_source(str(folder), "America/New_York"), load_params(None)
    hist = queries.kpi_history(source, params, "2026-10", "2026-10").iloc[0]
    assert math.isnan(hist["service_level"]) and hist["offered"] == 20
    by = queries.channel_history(source, params, "2026-10", "2026-10").set_index("channel")
    assert by.loc["phone", "service_level"] == pytest.approx(6 / 10) and math.isnan(by.loc["chat", "service_level"])
    assert queries.service_level_basis(params, source, "2026-10") == (
        "Service level: answered within 30 s, from the interval export's counts at that threshold; none for chat "
        "(counted at 60 s) or email (counted at 8 h), nor for a total that includes them."
    )
    # November's chat was counted at 30 s: that month's caption names none of it (the whole table's named chat)
    assert queries.service_level_basis(params, source, "2026-11") == (
        "Service level: answered within 30 s, from the interval export's counts at that threshold."
    )
    assert "chat (counted at 30 s and 60 s)" in queries.service_level_basis(params, source)
    # the pack's first tile says why there is no service-level tile (it vanished without a word)
    first = queries.monthly_summary(source, params, "2026-10")["tiles"][0]
    assert first["key"] == "offered" and first["note"].startswith(
        "no service level: not every live channel was counted"
    )
    # the rule itself: a part with offered contacts and no count makes the sum unknown; one with none does not
    parts = pd.DataFrame({c: [0.0, 0.0, 0.0] for c in COUNT_COLUMNS})
    parts["m"] = ["a", "a", "b"]
    parts["offered"] = [10.0, 4.0, 0.0]
    parts["answered_within_threshold"] = [6.0, float("nan"), float("nan")]
    rolled = rollup_counts(parts, ["m"]).set_index("m")
    assert math.isnan(rolled.loc["a", "answered_within_threshold"]) and rolled.loc["a", "offered"] == 14
    assert math.isnan(rolled.loc["b", "answered_within_threshold"])  # all unknown stays unknown (min_count)
    assert math.isnan(rollup_counts(parts)["answered_within_threshold"].iloc[0])
    parts.loc[1, "offered"] = 0.0
    assert rollup_counts(parts, ["m"]).set_index("m").loc["a", "answered_within_threshold"] == 6
    cat = rollup_counts(parts.astype({"m": "category"}), ["m"])  # categorical keys (a review probe: a TypeError)
    assert list(cat["answered_within_threshold"].isna()) == [False, True]


def test_kpis_from_an_interval_export_group_channels_the_same_way(tmp_path, monkeypatch, capsys):
    """The same rule from an intervals table. By hand: phone offered 10, 6 within the threshold, 8 handled
    waiting 120 s in all, 2 abandoned; chat 4, 4 within, 4 handled, 20 s; email 6, 1 within, 6 handled, 36,000
    s. Grouped: 10 / 14 = 0.714 within, ASA 140 / 12 = 11.67 s, abandon 2 / 14; by channel the email row keeps
    its own 1 / 6 and has no ASA or abandon rate."""
    from reportlib.cli import main

    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    folder = _interval_folder(
        tmp_path,
        "2026-10-05T09:00:00,30,phone,Q1,10,8,2,6,30,120,1600\n"
        "2026-10-05T09:00:00,30,chat,Q1,4,4,0,4,30,20,800\n"
        "2026-10-05T09:00:00,30,email,Q1,6,6,0,1,30,36000,1200\n",
    )
    base = ["kpis", "--data", str(folder), "--month", "2026-10", "--format", "json"]
    assert main(base) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["offered"] == 20 and row["answered_within_threshold"] == 10
    assert row["service_level"] == pytest.approx(10 / 14) and row["asa_s"] == pytest.approx(140 / 12)
    assert row["abandon_rate"] == pytest.approx(2 / 14)
    assert main(base + ["--by", "channel"]) == 0
    rows = {r["channel"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["email"]["service_level"] == pytest.approx(1 / 6)
    assert rows["email"]["asa_s"] is None and rows["email"]["abandon_rate"] is None
    assert rows["phone"]["asa_s"] == pytest.approx(15.0)
    # the reports' monthly history by channel (the monthly pack's "By channel" table) says the same
    from reportlib.core.params import load_params
    from reportlib.data.load import open_source
    from reportlib.reports.queries import channel_history

    hist = channel_history(open_source(str(folder), "America/New_York"), load_params(None), "2026-10", "2026-10")
    by = hist.set_index("channel")
    assert math.isnan(by.loc["email", "asa_s"]) and math.isnan(by.loc["email", "abandon_rate"])  # it showed 6,000 s
    assert by.loc["email", "service_level"] == pytest.approx(1 / 6) and by.loc["phone", "asa_s"] == pytest.approx(15.0)
    assert main(base + ["--by", "queue,queue"]) == 2
