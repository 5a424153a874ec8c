"""SLA contracts, email business-hours clocks, backlog and month-to-date projection (reportlib.metrics.sla)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from test_metrics import frame, table

from reportlib.core.errors import UsageError
from reportlib.metrics.sla import (
    BusinessCalendar,
    add_seconds_local,
    business_calendar,
    compliance_history,
    email_backlog,
    email_first_response,
    evaluate_compliance,
    expected_remaining_volume,
    month_to_date,
    parse_profiles,
)

H = 3600.0


def ts(*values: str) -> np.ndarray:
    return pd.to_datetime(list(values)).to_numpy(dtype="datetime64[ns]")


# --- the business clock ----------------------------------------------------------------------------


def test_business_hours_across_a_weekend_and_a_holiday():
    cal = business_calendar({})  # default: 08:00-18:00 Mon-Fri, US public holidays
    # Fri 2025-01-17 17:00 -> Tue 2025-01-21 09:00: Fri 17-18 (1 h), weekend 0, Mon 20 Jan is
    # Martin Luther King Jr. Day (0), Tue 08-09 (1 h) = 2 h
    assert cal.elapsed_s(ts("2025-01-17 17:00"), ts("2025-01-21 09:00"))[0] == 2 * H
    # Sat 10:00 -> Sun 10:00: closed
    assert cal.elapsed_s(ts("2025-01-18 10:00"), ts("2025-01-19 10:00"))[0] == 0
    # before opening to after closing on one day: the full 10 h
    assert cal.elapsed_s(ts("2025-01-21 07:00"), ts("2025-01-21 19:00"))[0] == 10 * H
    # inside one day
    assert cal.elapsed_s(ts("2025-01-22 09:15"), ts("2025-01-22 11:45"))[0] == 2.5 * H
    # Sat 2025-01-18 10:00 -> Mon 2025-01-27 10:00: Tue 21..Fri 24 = 4 x 10 h, Mon 27 08-10 = 2 h
    assert cal.elapsed_s(ts("2025-01-18 10:00"), ts("2025-01-27 10:00"))[0] == 42 * H
    # Christmas and New Year: Wed 2024-12-24 17:00 -> Thu 2025-01-02 09:00
    # Dec 24 1 h, Dec 25 holiday, Dec 26 + 27 20 h, Dec 30 + 31 20 h, Jan 1 holiday, Jan 2 1 h = 42 h
    assert cal.elapsed_s(ts("2024-12-24 17:00"), ts("2025-01-02 09:00"))[0] == 42 * H
    # missing times give NaN, vectors work element-wise
    out = cal.elapsed_s(ts("2025-01-21 08:00", "NaT"), ts("2025-01-21 08:30", "2025-01-21 09:00"))
    assert out[0] == 0.5 * H and math.isnan(out[1])


def test_business_clock_matches_busday_count_and_a_minute_by_minute_count():
    cal = business_calendar({})
    hol = cal.holidays_for([2024, 2025, 2026])
    # whole days: numpy's own business-day count x 10 h
    starts = np.array(["2024-11-20", "2024-12-20", "2025-06-30", "2025-11-26"], dtype="datetime64[D]")
    ends = np.array(["2025-01-03", "2025-01-06", "2025-07-08", "2025-12-01"], dtype="datetime64[D]")
    expected = np.busday_count(starts, ends, holidays=hol) * 10 * H
    got = cal.elapsed_s(starts.astype("datetime64[ns]"), ends.astype("datetime64[ns]"))
    np.testing.assert_array_equal(got, expected)
    # random times: count the open minutes one by one (independent, slow, exact)
    rng = np.random.default_rng(7)
    base = np.datetime64("2025-06-25T00:00", "m")
    a = base + rng.integers(0, 20 * 1440, 40).astype("timedelta64[m]")
    b = a + rng.integers(0, 9 * 1440, 40).astype("timedelta64[m]")
    holset = set(hol.tolist())
    brute = []
    for x, y in zip(a, b):
        minutes = np.arange(x, y, dtype="datetime64[m]")
        day = minutes.astype("datetime64[D]")
        tod = (minutes - day).astype(int)
        wd = (day.astype(int) - 4) % 7
        open_ = (wd < 5) & (tod >= 8 * 60) & (tod < 18 * 60) & ~np.isin(day, list(holset))
        brute.append(open_.sum() * 60.0)
    got = cal.elapsed_s(a.astype("datetime64[ns]"), b.astype("datetime64[ns]"))
    np.testing.assert_array_equal(got, np.array(brute))


def test_calendar_from_parameters_shapes():
    cal = business_calendar(
        {
            "calendar": {
                "business_hours": {
                    "open": "09:00",
                    "close": "17:30",
                    "days": ["mon", "tue", "wed", "thu", "fri"],
                    "sat": "09:00-13:00",
                },
                "holidays": {"country": "US", "extra": ["2025-12-24"], "remove": ["2025-11-11"]},
            }
        }
    )
    # Fri 2025-12-19 17:00 -> Mon 2025-12-22 10:00: Fri 0.5 h, Sat 4 h, Mon 1 h
    assert cal.elapsed_s(ts("2025-12-19 17:00"), ts("2025-12-22 10:00"))[0] == 5.5 * H
    # Dec 24 is an extra holiday; Veterans Day (Nov 11) removed: open
    assert cal.elapsed_s(ts("2025-12-24 09:00"), ts("2025-12-24 12:00"))[0] == 0
    assert cal.elapsed_s(ts("2025-11-11 09:00"), ts("2025-11-11 12:00"))[0] == 3 * H
    none = business_calendar({"calendar": {"holidays": False}})
    assert none.elapsed_s(ts("2025-01-20 09:00"), ts("2025-01-20 10:00"))[0] == H  # MLK day is open
    with pytest.raises(UsageError, match="HH:MM"):
        business_calendar({"calendar": {"business_hours": {"open": "nine", "close": "17:00"}}})
    with pytest.raises(UsageError, match="before the closing"):
        BusinessCalendar(hours=((18 * 3600, 8 * 3600),) * 5 + (None, None))


def test_repository_calendar_closes_only_the_listed_holidays():
    """parameters/calendar.yaml: 08-18 Mon-Fri; closed on the listed holidays only (observed dates)."""
    from reportlib.core.params import load_params

    params = load_params()
    if "business_hours" not in (params.get("calendar") or {}):
        pytest.skip("parameters/calendar.yaml has no business_hours")
    cal = business_calendar(params)
    closed = params["calendar"]["holidays"].get("closed")
    assert closed and any(n.startswith("Thanksgiving") for n in closed)
    # Thanksgiving Thu 2025-11-27 closed; Friday after is a normal day
    assert cal.elapsed_s(ts("2025-11-26 17:00"), ts("2025-11-28 09:00"))[0] == 2 * H
    if not any(n.startswith("Martin Luther King") for n in closed):
        # a public holiday not in `closed` is worked: MLK day 2025-01-20 counts 10 h
        assert cal.elapsed_s(ts("2025-01-17 18:00"), ts("2025-01-21 08:00"))[0] == 10 * H
    # Independence Day 2026 is a Saturday, observed (closed) on Friday July 3
    assert cal.elapsed_s(ts("2026-07-02 17:00"), ts("2026-07-06 09:00"))[0] == 2 * H


def test_real_elapsed_time_across_dst_is_exact():
    # Fri 2025-03-07 17:00 EST + 63 h of real time = Mon 2025-03-10 09:00 EDT (clocks sprang forward)
    out = add_seconds_local(ts("2025-03-07 17:00"), np.array([63 * H]), "America/New_York")
    assert pd.Timestamp(out[0]) == pd.Timestamp("2025-03-10 09:00")
    naive = add_seconds_local(ts("2025-03-07 17:00"), np.array([63 * H]), None)
    assert pd.Timestamp(naive[0]) == pd.Timestamp("2025-03-10 08:00")


# --- email first response and backlog ---------------------------------------------------------------


def email(arrived: str, outcome: str, wait_s: float | None = None, client: str = "C1") -> dict:
    return dict(
        channel="email",
        queue="Benefits",
        client_id=client,
        arrived_at=arrived,
        outcome=outcome,
        wait_s=wait_s,
        handle_s=300 if outcome == "handled" else None,
        agent_id="a1" if outcome == "handled" else None,
    )


def seconds_between(a: str, b: str, tz: str = "America/New_York") -> float:
    return (pd.Timestamp(b).tz_localize(tz) - pd.Timestamp(a).tz_localize(tz)).total_seconds()


def january_emails() -> list[dict]:
    return [
        # Fri 16:00 -> Tue 09:00 (weekend + MLK day): 2 h + 1 h = 3 h business
        email("2025-01-17 16:00", "handled", seconds_between("2025-01-17 16:00", "2025-01-21 09:00")),
        # Thu 09:00 -> Thu 17:00: 8 h, exactly at the 8 h threshold = within
        email("2025-01-23 09:00", "handled", 8 * H),
        # Thu 09:00 -> Fri 08:01: 9 h + 1 min: late
        email("2025-01-23 09:00", "handled", seconds_between("2025-01-23 09:00", "2025-01-24 08:01")),
        # received Sat, answered Mon 08:30: 0.5 h
        email("2025-01-25 11:00", "handled", seconds_between("2025-01-25 11:00", "2025-01-27 08:30")),
        # open since Wed 15 Jan: long past 8 h at month end -> missed
        email("2025-01-15 09:00", "open"),
        # open since Fri 31 Jan 17:00: 1 h of business time by Sat 1 Feb 00:00 -> pending
        email("2025-01-31 17:00", "open"),
        # withdrawn by the sender: received, not answered -> missed
        email("2025-01-27 10:00", "abandoned", 600),
        # other client, and a February email (outside the period)
        email("2025-01-22 10:00", "handled", 60, client="C2"),
        email("2025-02-03 10:00", "open"),
    ]


def test_email_first_response_business_hours():
    t = table(frame(january_emails()))
    out = email_first_response(t, start="2025-01-01", end="2025-02-01", threshold_h=8, as_of="2025-02-01").set_index(
        "client_id"
    )
    c1 = out.loc["C1"]
    assert c1["received"] == 7
    assert c1["responded"] == 4
    assert c1["responded_within"] == 3
    assert c1["open_past_threshold"] == 1
    assert c1["pending"] == 1
    assert c1["measured"] == 6
    assert c1["missed"] == 3  # late, open past 8 h, withdrawn
    assert c1["service_level"] == pytest.approx(3 / 6)
    assert c1["mean_response_business_h"] == pytest.approx((3 + 8 + (9 + 1 / 60) + 0.5) / 4)
    assert out.loc["C2", "service_level"] == 1.0
    # by default judged at the data's latest arrival (Mon Feb 3 10:00): the Jan 31 17:00 email has
    # 1 + 2 = 3 business hours: still pending
    default = email_first_response(t, start="2025-01-01", end="2025-02-01", threshold_h=8)
    assert default.set_index("client_id").loc["C1", "pending"] == 1
    assert (
        email_first_response(t, start="2025-01-01", end="2025-02-01", threshold_h=2)
        .set_index("client_id")
        .loc["C1", "pending"]
        == 0
    )
    # judged later (Feb 4 12:00) the Jan 31 email has 1 + 2x10 + 4 = 25 business hours: missed
    later = (
        email_first_response(t, start="2025-01-01", end="2025-02-01", threshold_h=8, as_of="2025-02-04 12:00")
        .set_index("client_id")
        .loc["C1"]
    )
    assert later["pending"] == 0 and later["service_level"] == pytest.approx(3 / 7)
    # a 3 h threshold: the weekend + holiday email (3 h) is exactly at it
    tight = email_first_response(t, start="2025-01-01", end="2025-02-01", threshold_h=3, as_of="2025-02-01").set_index(
        "client_id"
    )
    assert tight.loc["C1", "responded_within"] == 2  # 3 h and 0.5 h


def test_email_first_response_across_dst_uses_real_time():
    rows = [email("2025-03-07 17:00", "handled", 63 * H)]  # answered Mon 10 March 09:00 EDT
    t = table(frame(rows))
    out = email_first_response(t, start="2025-03-01", end="2025-04-01", threshold_h=2, by=())
    assert out["mean_response_business_h"].iloc[0] == pytest.approx(2.0)  # Fri 1 h + Mon 1 h
    assert out["service_level"].iloc[0] == 1.0


def test_email_backlog_at_period_end():
    t = table(frame(january_emails()))
    b = email_backlog(t, at="2025-02-01 00:00", threshold_h=8).set_index("client_id")
    c1 = b.loc["C1"]
    # open at month end: the Jan 15 and Jan 31 emails (the Feb 3 one had not arrived)
    assert c1["backlog"] == 2
    assert c1["oldest_arrived_at"] == pd.Timestamp("2025-01-15 09:00")
    assert c1["oldest_age_h"] == pytest.approx(16 * 24 + 15)
    # Jan 15 09:00 -> Feb 1: Jan 15 9 h + 11 business days (16..31 less MLK day) x 10 h = 119 h
    assert c1["oldest_age_business_h"] == pytest.approx(119)
    assert c1["past_threshold"] == 1
    assert "C2" not in b.index
    # an email answered after the cut-off is in the backlog at the cut-off
    t2 = table(frame([email("2025-01-31 16:00", "handled", 20 * H)]))
    b2 = email_backlog(t2, at="2025-02-01", by=())
    assert b2["backlog"].iloc[0] == 1 and b2["oldest_age_business_h"].iloc[0] == pytest.approx(2)
    b3 = email_backlog(t2, at="2025-02-02", by=())
    assert b3["backlog"].iloc[0] == 0


# --- contracts -----------------------------------------------------------------------------------------

PROFILES = {
    "gold": {
        "description": "test",
        "terms": [
            {
                "channel": "phone",
                "metric": "service_level",
                "threshold_s": 30,
                "target": 0.8,
                "sl_definition": "offered",
                "short_abandon_s": 5,
                "period": "month",
                "penalty_share": 0.05,
            },
            {"channel": "phone", "metric": "abandon_rate", "max": 0.05, "period": "month", "penalty_share": 0.02},
            {
                "channel": "email",
                "metric": "service_level",
                "threshold_h": 8,
                "target": 0.5,
                "period": "month",
                "penalty_share": 0.03,
            },
            {"channel": "chat", "metric": "asa_s", "max": 60, "penalty_share": 0.01},
        ],
    },
    "silver": {
        "description": "test",
        "terms": [
            {
                "channel": "phone",
                "metric": "service_level",
                "threshold_s": 60,
                "target": 0.8,
                "sl_definition": "answered",
                "penalty_share": 0.04,
            },
        ],
    },
}


def phone(client: str, n: int, outcome: str, wait: float, day: str = "2025-01-10 10:00") -> list[dict]:
    return [
        dict(
            channel="phone",
            client_id=client,
            arrived_at=day,
            outcome=outcome,
            wait_s=wait,
            handle_s=200 if outcome == "handled" else None,
            agent_id="a1" if outcome == "handled" else None,
        )
        for _ in range(n)
    ]


def test_compliance_penalties_by_hand():
    rows = (
        phone("C1", 70, "handled", 10)
        + phone("C1", 24, "handled", 45)
        + phone("C1", 6, "abandoned", 50)
        + phone("C1", 3, "abandoned", 2)  # short abandons: not offered
        + phone("C2", 10, "handled", 50)
        + phone("C2", 10, "abandoned", 70)
        + january_emails()
    )
    clients = pd.DataFrame(
        {
            "client_id": ["C1", "C2", "C3"],
            "client_name": ["Acme", "Beta", "Gamma"],
            "tier": ["a", "b", "c"],
            "sla_profile": ["gold", "silver", "gold"],
            "monthly_fee": [10000.0, 5000.0, 2000.0],
        }
    )
    out = evaluate_compliance(table(frame(rows)), clients, PROFILES, "2025-01")
    c1 = out[out.client_id == "C1"]
    sl = c1[(c1.metric == "service_level") & (c1.channel == "phone")].iloc[0]
    assert sl["actual"] == pytest.approx(70 / 100) and sl["met"] == False  # noqa: E712
    assert sl["penalty_at_risk"] == pytest.approx(0.05 * 10000)
    ab = c1[c1.metric == "abandon_rate"].iloc[0]
    assert ab["actual"] == pytest.approx(6 / 100) and ab["met"] == False  # noqa: E712
    assert ab["penalty_at_risk"] == pytest.approx(200)
    em = c1[(c1.metric == "service_level") & (c1.channel == "email")].iloc[0]
    assert em["actual"] == pytest.approx(3 / 6) and em["met"] == True  # noqa: E712  (target 50%)
    assert em["penalty_at_risk"] == 0 and em["pending"] == 1
    chat = c1[c1.metric == "asa_s"].iloc[0]
    assert pd.isna(chat["met"]) and chat["penalty_at_risk"] == 0 and chat["volume"] == 0  # no chats
    c2 = out[out.client_id == "C2"].iloc[0]
    # silver: 'answered' definition at 60 s: all 10 answered within 60 s
    assert c2["actual"] == 1.0 and c2["met"] == True and c2["penalty_at_risk"] == 0  # noqa: E712
    c3 = out[out.client_id == "C3"]
    assert c3["met"].isna().all() and (c3["penalty_at_risk"] == 0).all()  # no contacts at all
    assert out.groupby("client_id")["penalty_at_risk"].sum().to_dict() == {"C1": 700.0, "C2": 0.0, "C3": 0.0}
    bad = clients.assign(sla_profile=["gold", "platinum", "gold"])
    with pytest.raises(UsageError, match="platinum"):
        evaluate_compliance(table(frame(rows)), bad, PROFILES, "2025-01")


def test_compliance_history_is_each_month_judged_on_its_own():
    rows = (
        phone("C1", 10, "handled", 10, day="2025-01-10 10:00")
        + phone("C1", 10, "handled", 10, day="2025-02-10 10:00")
        + phone("C1", 10, "handled", 45, day="2025-02-11 10:00")
        + phone("C2", 4, "handled", 50, day="2025-02-12 10:00")
        + phone("C2", 1, "abandoned", 70, day="2025-02-12 11:00")
        # open since Fri 31 Jan 17:00: judged at January's end (1 business hour): pending, not missed
        + [email("2025-01-31 17:00", "open")]
        # answered after one business hour in February
        + [email("2025-02-03 10:00", "handled", H)]
    )
    clients = pd.DataFrame(
        {
            "client_id": ["C1", "C2"],
            "client_name": ["Acme", "Beta"],
            "sla_profile": ["gold", "silver"],
            "monthly_fee": [10000.0, 5000.0],
        }
    )
    t = table(frame(rows))
    hist = compliance_history(t, clients, PROFILES, "2025-01", "2025-03")
    assert list(dict.fromkeys(hist["month"])) == ["2025-01", "2025-02", "2025-03"]
    key = hist.set_index(["month", "client_id", "term"])
    sl = "phone service level 80% in 30 s"
    assert key.loc[("2025-01", "C1", sl), "actual"] == 1.0 and key.loc[("2025-01", "C1", sl), "met"] == True  # noqa: E712
    assert key.loc[("2025-02", "C1", sl), "actual"] == pytest.approx(0.5)
    assert key.loc[("2025-02", "C1", sl), "penalty_at_risk"] == pytest.approx(500)
    em = "email service level 50% in 8 business h"
    assert key.loc[("2025-01", "C1", em), "pending"] == 1 and pd.isna(key.loc[("2025-01", "C1", em), "met"])
    assert key.loc[("2025-02", "C1", em), "actual"] == 1.0 and key.loc[("2025-02", "C1", em), "volume"] == 1
    # silver, 'answered' at 60 s: 4 of 4 answered within 60 s in February
    assert key.loc[("2025-02", "C2", "phone service level 80% in 60 s"), "actual"] == 1.0
    assert hist[hist["month"] == "2025-03"]["met"].isna().all()  # no contacts in March
    # the same rows as evaluate_compliance month by month (a second code path: one month, one period)
    for month in ("2025-01", "2025-02", "2025-03"):
        one = evaluate_compliance(t, clients, PROFILES, month)
        got = hist[hist["month"] == month].drop(columns="month").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, one, check_dtype=False)
    with pytest.raises(UsageError, match="after"):
        compliance_history(t, clients, PROFILES, "2025-03", "2025-01")


def test_profile_parsing_errors_name_the_term():
    with pytest.raises(UsageError, match="term 1.*unknown metric"):
        parse_profiles({"x": {"terms": [{"channel": "phone", "metric": "speed", "target": 0.8}]}})
    with pytest.raises(UsageError, match="target .*or a max"):
        parse_profiles({"x": {"terms": [{"channel": "phone", "metric": "service_level"}]}})
    with pytest.raises(UsageError, match="channel"):
        parse_profiles({"x": {"terms": [{"channel": "fax", "metric": "service_level", "target": 0.8}]}})
    terms = parse_profiles({"x": {"terms": [{"channel": "phone", "metric": "service_level", "target": 80}]}})
    assert terms["x"][0].goal == 0.8 and terms["x"][0].threshold_s == 30  # percent accepted; default T


def test_a_contract_term_with_a_key_or_number_it_cannot_mean_is_refused():
    """A probe's contracts passed validate as written: "treshold_s: 60" was ignored (the term judged at 30 s),
    "penalty_cap: 50" was ignored ($900 at risk where the cap meant $50 at most), and "penalty_share: 10" put
    1,000% of a $9,000 fee at risk ($90,000). Unknown keys and numbers that are none are refused naming the term;
    a penalty_share above 1 is a percentage, as goals are (10 -> 10%)."""
    phone = {"channel": "phone", "metric": "service_level", "target": 0.8}
    with pytest.raises(UsageError, match=r"'x', term 1: unknown key 'treshold_s' \(did you mean threshold_s\?\)"):
        parse_profiles({"x": {"terms": [{**phone, "treshold_s": 60}]}})
    with pytest.raises(UsageError, match=r"term 1: unknown key 'penalty_cap' \(did you mean penalty_share\?\)"):
        parse_profiles({"x": {"terms": [{**phone, "penalty_cap": 50}]}})
    with pytest.raises(UsageError, match=r"SLA profile 'x': unknown key 'term'"):
        parse_profiles({"x": {"terms": [phone], "term": []}})
    for key, value in (("penalty_share", "5%"), ("threshold_s", -30), ("target", "high"), ("penalty_share", True)):
        with pytest.raises(UsageError, match=f"term 1: {key} must be a number >= 0, got"):
            parse_profiles({"x": {"terms": [{**phone, key: value}]}})
    with pytest.raises(
        UsageError, match="term 1: penalty_share must be a share 0..1 or a percentage up to 100, got 150"
    ):
        parse_profiles({"x": {"terms": [{**phone, "penalty_share": 150}]}})
    term = parse_profiles({"x": {"terms": [{**phone, "penalty_share": 10}]}})["x"][0]
    assert term.penalty_share == pytest.approx(0.10)
    term = parse_profiles({"x": {"terms": [{**phone, "penalty_share": 0.05, "threshold_s": 45}]}})["x"][0]
    assert (term.penalty_share, term.threshold_s) == (0.05, 45.0)


def test_a_goal_and_a_result_read_as_the_contract_and_the_verdict_say():
    """A probe's ceiling of 5.5% abandoned read "at most 6%" in every term label, and 1,999 of 2,500 within 30 s
    read "80.0%" beside "missed" against 80%: labels keep the contract's decimals, a delivered figure shows the
    decimals that keep it apart from its goal, and a tile does the same."""
    from reportlib.reports import narrative, queries

    (term,) = parse_profiles({"x": {"terms": [{"channel": "phone", "metric": "abandon_rate", "max": 0.055}]}})["x"]
    assert term.label == "phone abandon rate at most 5.5%"
    (sl,) = parse_profiles({"x": {"terms": [{"channel": "phone", "metric": "service_level", "target": 0.8}]}})["x"]
    assert sl.label == "phone service level 80% in 30 s"
    rows = pd.DataFrame({"actual": [1999 / 2500, 0.8, 0.06, 41.0], "goal": [0.8, 0.8, 0.055, 40.0],
                         "metric": ["service_level", "service_level", "abandon_rate", "asa_s"]})  # fmt: skip
    assert queries.delivered_text(rows) == ["79.96%", "80.0%", "6.0%", "41 s"]
    tile = narrative.make_tile("Phone answered within 30 s", 1999 / 2500, "share", target=0.8)
    assert narrative.tile_sentence(tile).endswith("79.96%, below the 80.00% target.")


def test_the_projections_table_shows_each_term_in_its_unit_and_what_a_mean_term_needs():
    """A probe: the page's "So far" read 4003.8% for a 40 s speed of answer (every term as a share). A 30 s ASA
    ceiling with 10 calls answered after 40 s so far and 10 more expected: so far "40 s", the rest must average
    (30 x 20 - 400) / 10 = 20 s; with 10 answered after 70 s, no mean would do: (600 - 700) / 10 < 0, lost."""
    from reportlib.reports.queries import month_to_date_risks

    clients = pd.DataFrame({"client_id": ["C1"], "client_name": ["Acme"], "sla_profile": ["p"], "monthly_fee": [1e4]})
    asa = {"channel": "phone", "metric": "asa_s", "max": 30, "penalty_share": 0.01}
    profiles = {"p": {"terms": [PROFILES["gold"]["terms"][0], asa]}}
    for wait, rest, status in ((40, "at most 20 s", "at risk"), (70, None, "lost")):
        t = table(frame(phone("C1", 10, "handled", wait)))
        mtd = month_to_date(t, clients, profiles, "2025-01", "2025-01-16", expected_remaining=10)
        shown = month_to_date_risks(mtd).set_index("term")
        asa = shown.loc["phone speed of answer at most 30 s"]
        assert (asa["so_far"], asa.get("rest_mean"), asa["status"]) == (f"{wait} s", rest, status)
        sl = shown.loc["phone service level 80% in 30 s"]  # 0 of 10 in 30 s: 16 of the 10 to come cannot do
        assert (sl["so_far"], sl["status"], sl["rag"], sl.get("rest_mean")) == ("0.0%", "lost", "red", None)
    only_sl = month_to_date_risks(mtd[mtd["metric"] == "service_level"])
    assert "rest_mean" not in only_sl and len(only_sl) == 1  # no mean term: no column of dashes


def test_month_to_date_required_contacts_by_hand():
    clients = pd.DataFrame(
        {"client_id": ["C1"], "client_name": ["Acme"], "sla_profile": ["gold"], "monthly_fee": [10000.0]}
    )
    profiles = {"gold": {"terms": [PROFILES["gold"]["terms"][0], PROFILES["gold"]["terms"][1]]}}
    # to date (Jan 1-15): 100 offered, 70 answered within 30 s, 26 late, 4 abandoned
    rows = (
        phone("C1", 70, "handled", 10)
        + phone("C1", 26, "handled", 45)
        + phone("C1", 4, "abandoned", 50)
        + phone("C1", 50, "handled", 1, day="2025-01-20 10:00")
    )  # after as_of: not counted
    t = table(frame(rows))
    r = month_to_date(t, clients, profiles, "2025-01", "2025-01-16", expected_remaining=100).set_index("metric")
    sl = r.loc["service_level"]
    assert sl["actual"] == pytest.approx(0.70) and sl["denominator"] == 100
    # 0.8 x (100 + 100) - 70 = 90 of the remaining 100 must be answered within 30 s
    assert sl["required_within_threshold"] == 90 and sl["status"] == "at risk"
    assert sl["best_case"] == pytest.approx(170 / 200) and sl["worst_case"] == pytest.approx(70 / 200)
    ab = r.loc["abandon_rate"]
    # at most floor(0.05 x 200 - 4) = 6 more abandons: 94 of 100 must not abandon; on track (4%)
    assert ab["required_successes"] == 94 and ab["status"] == "on track"
    assert math.isnan(ab["required_within_threshold"])
    r = month_to_date(t, clients, profiles, "2025-01", "2025-01-16", expected_remaining=40).set_index("metric")
    # 0.8 x 140 - 70 = 42 > 40 remaining: cannot be recovered
    assert r.loc["service_level", "required_within_threshold"] == 42
    assert r.loc["service_level", "status"] == "lost"
    # a frame per client and channel works too
    exp = pd.DataFrame({"client_id": ["C1"], "channel": ["phone"], "expected_remaining": [10.0]})
    good = table(frame(phone("C1", 95, "handled", 10) + phone("C1", 5, "handled", 45)))
    r = month_to_date(good, clients, profiles, "2025-01", "2025-01-16", expected_remaining=exp).set_index("metric")
    # 0.8 x 110 - 95 < 0: met whatever happens
    assert r.loc["service_level", "required_within_threshold"] == 0
    assert r.loc["service_level", "status"] == "secured"
    with pytest.raises(UsageError, match="not inside"):
        month_to_date(good, clients, profiles, "2025-01", "2025-03-01", expected_remaining=1)


def test_month_to_date_a_fractional_expected_count_is_lost_only_when_the_best_case_misses():
    """The expected remaining count is an estimate (210.25, a same-weekday mean), not a whole number. A probe
    found a term "lost" whose best case met its goal: abandon rate at most 8%, 32 abandons of 202 so far,
    210.25 to come: at most 0.08 x 412.25 = 32.98 abandons in all, so the rest may bring 0.98 more; the
    integer rule (floor(0.98) = 0 allowed, 211 of 210.25 to keep) said lost, the best case 32 / 412.25 =
    7.76% meets 8%. By hand: 210.25 - 0.98 = 209.27 must not abandon, 210 contacts rounded up; at risk."""
    clients = pd.DataFrame(
        {"client_id": ["C1"], "client_name": ["Acme"], "sla_profile": ["gold"], "monthly_fee": [10000.0]}
    )
    profiles = {"gold": {"terms": [{"channel": "phone", "metric": "abandon_rate", "max": 0.08}]}}
    t = table(frame(phone("C1", 170, "handled", 10) + phone("C1", 32, "abandoned", 50)))
    r = month_to_date(t, clients, profiles, "2025-01", "2025-01-16", expected_remaining=210.25).iloc[0]
    assert r["denominator"] == 202 and r["best_case"] == pytest.approx(32 / 412.25)
    assert r["status"] == "at risk" and r["required_successes"] == 210
    assert r["required_share_of_remaining"] == pytest.approx(210 / 210.25)
    # 0.2 more allowed (0.08 x 402.5 = 32.2): 200.5 - 0.2 = 200.3 must not abandon, rounded up 201 of 200.5:
    # still recoverable (best case 32 / 402.5 = 7.95%), and the share of the remaining shown is all of them
    r = month_to_date(t, clients, profiles, "2025-01", "2025-01-16", expected_remaining=200.5).iloc[0]
    assert r["best_case"] == pytest.approx(32 / 402.5) and r["status"] == "at risk"
    assert r["required_successes"] == 201 and r["required_share_of_remaining"] == 1.0
    # a best case over the goal is lost: 32 / (202 + 190) = 8.16%
    r = month_to_date(t, clients, profiles, "2025-01", "2025-01-16", expected_remaining=190.0).iloc[0]
    assert r["best_case"] > 0.08 and r["status"] == "lost" and pd.isna(r["required_successes"])


def test_expected_remaining_volume_same_weekday_history():
    rows = []
    # the 8 weeks before Wed 2025-03-12 are Jan 15 .. Mar 11: every Monday (Jan 20 .. Mar 10) 10
    # contacts, every Wednesday (Jan 15 .. Mar 5) 4 of which one is a short abandon (not offered)
    for week in range(8):
        monday = pd.Timestamp("2025-01-20 10:00") + pd.Timedelta(weeks=week)
        rows += phone("C1", 10, "handled", 5, day=str(monday))
        wed = pd.Timestamp("2025-01-15 10:00") + pd.Timedelta(weeks=week)
        rows += phone("C1", 3, "handled", 5, day=str(wed)) + phone("C1", 1, "abandoned", 1, day=str(wed))
    rows += phone("C1", 50, "handled", 5, day="2025-01-13 10:00")  # before the window: ignored
    t = table(frame(rows))
    exp = expected_remaining_volume(t, "2025-03-12", by=["client_id"]).set_index("client_id")
    # remaining March days from Wed 12 to Mon 31: Mondays 17, 24, 31 (3 x 10) + Wednesdays 12, 19, 26 (3 x 3)
    assert exp.loc["C1", "expected_remaining"] == pytest.approx(39)
    half = expected_remaining_volume(t, "2025-03-12 12:00", by=["client_id"]).set_index("client_id")
    assert half.loc["C1", "expected_remaining"] == pytest.approx(39 - 1.5)
    # a client live since Monday 3 March (its first contact ever): 10 on Mondays 3 and 10, 3 on Wednesday 5; its
    # days before it existed are not zeros: 3 x 10 + 3 x 3 as C1 (the 8-week mean said 3 x 2.5 + 3 x 0.375)
    new = (
        rows
        + phone("C2", 10, "handled", 5, day="2025-03-03 10:00")
        + phone("C2", 10, "handled", 5, day="2025-03-10 10:00")
    )
    new += phone("C2", 3, "handled", 5, day="2025-03-05 10:00")
    exp = expected_remaining_volume(table(frame(new)), "2025-03-12", by=["client_id"]).set_index("client_id")
    assert exp.loc["C2", "expected_remaining"] == pytest.approx(39) and exp.loc["C1", "expected_remaining"] == 39


def test_repository_contracts_parse():
    """parameters/sla_contracts.yaml (when present) holds the four profiles and they all parse."""
    path = Path(__file__).resolve().parent.parent / "parameters" / "sla_contracts.yaml"
    if not path.exists():
        pytest.skip("parameters/sla_contracts.yaml not written yet")
    profiles = yaml.safe_load(path.read_text())["profiles"]
    assert {"gold", "silver", "bronze", "standard"} <= set(profiles)
    terms = parse_profiles(profiles)
    for name, ts_ in terms.items():
        assert ts_, name
        assert all(0 <= t.penalty_share <= 1 for t in ts_)


def test_email_business_times_once_judged_against_several_thresholds():
    """The business-hours step computed once gives, for each threshold, what email_first_response gives
    (hand figures for C1 as in test_email_first_response_business_hours: 3 of 6 measured within 8 h)."""
    from reportlib.metrics.sla import email_business_times, email_first_response_from_times

    t = table(frame(january_emails()))
    timed = email_business_times(t, start="2025-01-01", end="2025-02-01", as_of="2025-02-01")
    for hours in (2, 8, 24):
        once = email_first_response_from_times(timed, hours, ["client_id"])
        direct = email_first_response(t, start="2025-01-01", end="2025-02-01", threshold_h=hours, as_of="2025-02-01")
        pd.testing.assert_frame_equal(once, direct)
    assert email_first_response_from_times(timed, 8, ["client_id"]).set_index("client_id").loc[
        "C1", "service_level"
    ] == pytest.approx(3 / 6)


def test_email_figures_in_month_slices_equal_one_pass():
    """Emails fetched a slice of whole months at a time (sla.email_slices, here one month per slice) give
    the figures of one pass over every email: compliance history, contract counts and first response,
    with groups inside one month (exactly equal) and groups spanning months (counts equal, mean equal)."""
    from reportlib.metrics import sla

    rows = january_emails() + [
        email("2025-02-04 09:00", "handled", 2 * H),
        email("2025-02-05 09:00", "handled", 10 * H, client="C2"),
        email("2025-03-03 09:00", "abandoned", 60),
        email("2025-03-04 09:00", "open", client="C2"),
    ]
    t = table(frame(rows))
    clients = pd.DataFrame(
        {"client_id": ["C1", "C2"], "client_name": ["Acme", "Beta"], "sla_profile": ["gold", "silver"]}
    )
    every = dict(start="2025-01-01", end="2025-04-01")
    assert sla.email_slices(t, **every) == [(pd.Timestamp("2025-01-01"), pd.Timestamp("2025-04-01"))]
    # 8 January emails, 3 February, 2 March: one month per slice at 3 rows, Feb + Mar together at 5
    month_starts = [pd.Timestamp(m) for m in ("2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01")]
    assert sla.email_slices(t, max_rows=3, **every) == list(zip(month_starts[:-1], month_starts[1:]))
    assert sla.email_slices(t, max_rows=5, **every) == [
        (month_starts[0], month_starts[1]),
        (month_starts[1], month_starts[3]),
    ]
    assert sla.email_slices(t, max_rows=1)[0][0] is None and sla.email_slices(t, max_rows=1)[-1][1] is None

    def figures():
        with_month = t.mutate(period=t.arrived_at.truncate("M"))
        contract = dict(thresholds_h={"C2": 24.0}, default_threshold_h=8, **every)
        return [
            compliance_history(t, clients, PROFILES, "2025-01", "2025-03"),
            sla.email_contract_counts(with_month, keys=["period", "client_id"], **contract),
            sla.email_contract_counts(t, keys=["client_id"], **contract),  # groups span the slices
            email_first_response(t, threshold_h=8, as_of="2025-04-01", **every),
            email_first_response(t, threshold_h=8, as_of="2025-04-01", by=(), **every),
        ]

    one_pass = figures()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sla, "EMAIL_SLICE_ROWS", 1)
        sliced = figures()
    for a, b in zip(sliced[:2], one_pass[:2]):
        pd.testing.assert_frame_equal(a, b)
    for a, b in zip(sliced[2:], one_pass[2:]):
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)
    c1 = one_pass[3].set_index("client_id").loc["C1"]  # January's hand figures, Feb 3 (open), Feb 4 (2 h), Mar 3
    assert (c1["received"], c1["responded"], c1["responded_within"]) == (10, 5, 4)  # 7 + 2 + 1 received
    assert c1["mean_response_business_h"] == pytest.approx((3 + 8 + (9 + 1 / 60) + 0.5 + 2) / 5)


def test_a_calendar_that_gives_no_hours_is_named_before_a_run(tmp_path, capsys):
    """A probe: a night desk's "22:00-06:00" said "opening 79200 s must be before closing 21600 s" in every
    report's notebook (a run of 45 failed reports); an unknown country likewise. Named once, exit 2, nothing
    rendered; the message gives the day and the clock times as written."""
    import re

    from reportlib import cli
    from reportlib.metrics.sla import check_calendar

    for overlay, said in (
        (
            {"business_hours": {"open": "22:00", "close": "06:00"}},
            "parameter calendar.business_hours: mon opens at 22:00 and closes at 06:00; the opening must come "
            "before the closing (hours that cross midnight are not supported",
        ),
        (
            {"business_hours": {"sat": "09:00-24:30"}},
            "parameter calendar.business_hours: sat opens at 09:00 and closes at 24:30; a day's hours end at 24:00",
        ),
        ({"business_hours": {"open": "nine"}}, "parameter calendar.business_hours: expected a time as HH:MM"),
        ({"holidays": "XX"}, "parameter calendar: the holidays package does not know country 'XX'"),
        ({"holidays": ["2026-13-01"]}, "parameter calendar.holidays: expected dates as YYYY-MM-DD"),
    ):
        with pytest.raises(UsageError, match=re.escape(said)):
            check_calendar({"calendar": overlay}, [2026])
        f = tmp_path / "p.yaml"
        f.write_text(__import__("yaml").safe_dump({"calendar": overlay}))
        run = ["run", "--month", "2025-04", "--data", str(tmp_path / "none"), "--params", str(f)]
        assert cli.main([*run, "--reports", "attrition", "--out", str(tmp_path / "o")]) == 2
        assert said in capsys.readouterr().err
        assert not (tmp_path / "o" / "2025-04").exists()
    check_calendar(
        {"calendar": {"business_hours": {"open": "00:00", "close": "24:00", "days": list(range(7))}}}, [2026]
    )
    check_calendar({}, [2025, 2026, 2027])  # the defaults


def test_business_time_is_real_time_on_the_days_the_clocks_change():
    """A probe: with hours of 00:00-24:00, an email that arrived at 01:30 on 8 March 2026 (New York) and was
    answered an hour later counted 2 business hours (the wall clock read 03:30), and one answered 2.5 hours after
    00:30 on 1 November counted 1.5. With the data's zone the clock counts real seconds on those days.
    Oracle: on a round-the-clock calendar without holidays business time is real time, which pandas computes
    from zone-aware timestamps (2,000 random pairs over 2026, the skipped and the repeated hour included)."""
    from reportlib.metrics.sla import business_calendar

    tz = "America/New_York"
    always = business_calendar(
        {"calendar": {"business_hours": {"open": "00:00", "close": "24:00", "days": list(range(7))}, "holidays": None}}
    )
    start = np.array(["2026-03-08T01:30", "2026-11-01T00:30", "2026-03-08", "2026-11-01", "2026-03-01"], "M8[ns]")
    end = np.array(["2026-03-08T03:30", "2026-11-01T02:00", "2026-03-09", "2026-11-02", "2026-03-15"], "M8[ns]")
    assert list(always.elapsed_s(start, end, tz=tz) / 3600) == [1.0, 2.5, 23.0, 25.0, 14 * 24 - 1]
    assert list(always.elapsed_s(start, end) / 3600) == [2.0, 1.5, 24.0, 24.0, 14 * 24]  # the wall clock, no zone
    rng = np.random.default_rng(7)
    a = np.datetime64("2026-01-01", "ns") + (rng.integers(0, 365 * 86400, 2000) * 10**9).astype("m8[ns]")
    b = a + (rng.integers(0, 40 * 86400, 2000) * 10**9).astype("m8[ns]")

    def aware(t):
        return pd.DatetimeIndex(t).tz_localize(tz, ambiguous=np.ones(len(t), dtype=bool), nonexistent="shift_forward")

    real = (aware(b) - aware(a)).total_seconds().to_numpy()
    assert np.array_equal(always.elapsed_s(a, b, tz=tz), real)
    # Sunday hours over the change (01:00-03:00): 1 real hour on the spring day, 3 on the autumn one, 2 otherwise
    sundays = business_calendar({"calendar": {"business_hours": {"sun": "01:00-03:00"}, "holidays": None}})
    days = np.array(["2026-03-08", "2026-11-01", "2026-03-15"], "M8[ns]")
    assert list(sundays.elapsed_s(days, days + np.timedelta64(1, "D"), tz=tz) / 3600) == [1.0, 3.0, 2.0]
    # a reply in the second pass of the repeated autumn hour (arrival plus its wait): a second probe found it an
    # hour early (-0.5 h, 0 h, and a 9-hour reply judged at 8 h); the wait is real time, so the reply is placed
    from reportlib.metrics.sla import email_business_times

    emails = frame(
        [
            {"channel": "email", "client_id": "C1", "arrived_at": pd.Timestamp(a), "outcome": "handled", "wait_s": w}
            for a, w in (("2026-11-01 01:50", 1800), ("2026-11-01 00:10", 3600), ("2026-10-31 17:30", 32400))
        ]
    )
    timed = email_business_times(table(emails), start="2026-10-01", end="2026-12-01", calendar=always, tz=tz)
    assert sorted(timed["response_bh_s"] / 3600) == [0.5, 1.0, 9.0]
    # the shipped weekday 08:00-18:00 hours never hold a change (Sunday, 02:00): the zone changes nothing
    weekdays = business_calendar({})
    assert np.array_equal(weekdays.elapsed_s(a, b, tz=tz), weekdays.elapsed_s(a, b))


def test_missed_terms_are_the_judged_terms_not_met():
    """The SLA page's list of missed terms (queries.missed_terms, out of the notebook): a term not judged (met empty)
    is no miss."""
    from reportlib.reports import queries

    terms = pd.DataFrame({"term": ["a", "b", "c", "d"], "met": pd.array([True, False, None, False], dtype="boolean")})
    assert queries.missed_terms(terms)["term"].tolist() == ["b", "d"]
    as_objects = terms.assign(met=[True, False, None, False])
    assert queries.missed_terms(as_objects)["term"].tolist() == ["b", "d"]


def test_holiday_settings_written_loosely_are_read_as_meant_or_named(tmp_path):
    """A probe: `closed: Christmas` (a name alone, not a list) was read as its letters, closing every holiday that
    starts with C, h, r...; `observed: "no"` was read as true; an impossible date in the file stopped every command
    with "failed unexpectedly" (exit 1); `subdiv: ZZ` was said to be an unknown country; a weekday name that is
    none was reported as "no weekday is open"."""
    import re

    from reportlib.core.params import calendar_problem, load_params
    from reportlib.metrics.sla import business_calendar

    one = business_calendar({"calendar": {"holidays": {"country": "US", "closed": "Christmas"}}})
    listed = business_calendar({"calendar": {"holidays": {"country": "US", "closed": ["Christmas"]}}})
    assert one.closed == listed.closed == ("Christmas",)
    assert [str(d) for d in one.holidays_for([2026])] == ["2026-12-25"]
    assert business_calendar({"calendar": {"holidays": {"extra": "2026-05-13"}}}).extra_holidays == (
        pd.Timestamp("2026-05-13").date(),
    )
    assert business_calendar({"calendar": {"holidays": {"observed": "no"}}}).observed is False
    with pytest.raises(UsageError, match=re.escape("calendar.holidays.observed must be true or false, got 'maybe'")):
        business_calendar({"calendar": {"holidays": {"observed": "maybe"}}})
    with pytest.raises(UsageError, match=re.escape("the holidays package has no subdivision 'ZZ' of 'US'")):
        business_calendar({"calendar": {"holidays": {"country": "US", "subdiv": "ZZ"}}}).holidays_for([2026])
    days = {"calendar": {"business_hours": {"days": ["funday"]}}}
    assert calendar_problem(days) is None  # business_calendar names the day
    with pytest.raises(UsageError, match="expected a weekday name .* got 'funday'"):
        business_calendar(days)
    bad = tmp_path / "p.yaml"
    bad.write_text("calendar:\n  holidays:\n    extra: [2026-02-30]\n")
    with pytest.raises(UsageError, match=r"'2026-02-30' is not a date \(day is out of range for month\).*line 3"):
        load_params(str(bad))
