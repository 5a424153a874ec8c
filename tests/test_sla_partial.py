"""A month the data covers only in part: emails still open are judged when the data ends (its latest arrival in
the whole source), not at a month end the data does not reach (reportlib.metrics.sla.email_judged_at).

Business hours are the default calendar's (08:00-18:00 Monday-Friday, no holiday in March 2025). The counts
below are by hand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_metrics import frame, table
from test_sla import H, email, phone, ts

from reportlib.core.params import load_params
from reportlib.data import load
from reportlib.metrics import sla
from reportlib.reports import queries

# one email term (8 business hours, goal 50%, 3% of the fee at risk) and a client with phone alone
PROFILES = {
    "mail": {
        "terms": [
            {"channel": "email", "metric": "service_level", "threshold_h": 8, "target": 0.5, "penalty_share": 0.03}
        ]
    },
    "voice": {"terms": [{"channel": "phone", "metric": "service_level", "threshold_s": 30, "target": 0.8}]},
}
CLIENTS = pd.DataFrame(
    {
        "client_id": ["C1", "C2"],
        "client_name": ["Acme", "Beta"],
        "sla_profile": ["mail", "voice"],
        "monthly_fee": [10000.0, 5000.0],
    }
)
DATA_END = pd.Timestamp("2025-03-18 16:00")  # Tuesday; the export ends mid-month
EMAIL_TERM = "email service level 50% in 8 business h"


def march_rows() -> list[dict]:
    return [
        # Mon 09:00, answered after 2 h: within 8 business hours
        email("2025-03-03 09:00", "handled", 2 * H),
        # Wed 09:00, answered after 1 h: within
        email("2025-03-05 09:00", "handled", H),
        # Thu 09:00, answered 20 wall-clock hours later (Fri 05:00): Thu 09-18 = 9 business hours: late, missed
        email("2025-03-06 09:00", "handled", 20 * H),
        # open since Mon 17th 13:00: Mon 13-18 (5 h) + Tue 08-16 (8 h) = 13 h when the data ends: missed
        email("2025-03-17 13:00", "open"),
        # open since Tue 18th 10:00: 10-16 = 6 h when the data ends: pending, not judged yet
        email("2025-03-18 10:00", "open"),
        # the data's end is another client's call: the whole source's latest arrival, not C1's last email
        # (judged at C1's last email, 10:00, the Monday email would have 7 h and be pending too)
        *phone("C2", 1, "handled", 10, day="2025-03-18 16:00"),
    ]


def email_row(out: pd.DataFrame, client: str = "C1") -> pd.Series:
    rows = out[(out["client_id"] == client) & (out["channel"] == "email")]
    assert len(rows) == 1
    return rows.iloc[0]


def test_the_rule_judges_at_the_data_end_inside_the_period_and_at_the_period_end_past_it():
    month_end = pd.Timestamp("2025-04-01")
    cal = sla.business_calendar({})
    assert sla.email_judged_at(month_end, DATA_END) == DATA_END  # the data stops inside the month
    assert sla.email_judged_at(month_end, pd.Timestamp("2025-04-03 10:00")) == month_end  # it runs past
    assert sla.email_judged_at(month_end, None) == month_end  # no data end known
    # first-response figures (close=False) are judged at the data's end either way
    assert sla.email_judged_at(month_end, DATA_END, close=False) == DATA_END
    assert sla.email_judged_at(month_end, "2025-04-03 10:00", close=False) == pd.Timestamp("2025-04-03 10:00")
    # one per email: February's emails at February's end, March's at the data's end
    got = sla.email_judged_at(ts("2025-03-01 00:00", "2025-04-01 00:00"), DATA_END)
    assert list(got) == list(ts("2025-03-01 00:00", "2025-03-18 16:00"))
    # on the business calendar an export ending on the month's last evening (Mon 31 March 20:00, after
    # closing) reaches the month end: no business time is left; one ending at 15:00 that day does not
    assert sla.email_judged_at(month_end, "2025-03-31 20:00", calendar=cal) == month_end
    assert sla.email_judged_at(month_end, "2025-03-31 15:00", calendar=cal) == pd.Timestamp("2025-03-31 15:00")
    assert sla.email_judged_at(month_end, "2025-03-31 20:00") == pd.Timestamp("2025-03-31 20:00")  # no calendar


def test_open_emails_of_a_partial_month_are_judged_when_the_data_ends():
    t = table(frame(march_rows()))
    assert sla.latest_arrival(t) == DATA_END
    row = email_row(sla.evaluate_compliance(t, CLIENTS, PROFILES, "2025-03"))
    # 5 received, 1 pending, 2 within of 4 measured: 50%, the goal met, nothing at risk (judged at the month
    # end both open emails would be missed: 2 of 5 = 40%, missed, 3% of 10,000 at risk)
    assert (row["volume"], row["pending"], row["numerator"], row["denominator"]) == (5, 1, 2, 4)
    assert row["actual"] == pytest.approx(0.5) and row["met"] == True  # noqa: E712
    assert row["penalty_at_risk"] == 0
    # the month-end judgement, asked for explicitly, is the old figure
    at_end = email_row(sla.evaluate_compliance(t, CLIENTS, PROFILES, "2025-03", as_of="2025-04-01"))
    assert (at_end["pending"], at_end["denominator"], at_end["met"]) == (0, 5, False)
    assert at_end["actual"] == pytest.approx(0.4) and at_end["penalty_at_risk"] == pytest.approx(300)
    # compliance_history's March: the same row
    hist = sla.compliance_history(t, CLIENTS, PROFILES, "2025-01", "2025-03")
    march = email_row(hist[hist["month"] == "2025-03"])
    assert (march["pending"], march["numerator"], march["denominator"]) == (1, 2, 4)
    assert march["met"] == True  # noqa: E712
    # email first response: 1 pending, 2 missed (the late answer and the email open 13 h), 2 of 4 in time
    fr = sla.email_first_response(t, start="2025-03-01", end="2025-04-01", threshold_h=8).set_index("client_id")
    c1 = fr.loc["C1"]
    assert (c1["received"], c1["pending"], c1["open_past_threshold"], c1["missed"]) == (5, 1, 1, 2)
    assert c1["service_level"] == pytest.approx(0.5)
    # the contract counts of the KPI views, given the data's end: the contract term's figures
    counts = sla.email_contract_counts(
        t,
        keys=["client_id"],
        thresholds_h={"C1": 8.0},
        default_threshold_h=8,
        start="2025-03-01",
        end="2025-04-01",
        data_end=DATA_END,
    ).set_index("client_id")
    assert (counts.loc["C1", "responded_within"], counts.loc["C1", "pending"], counts.loc["C1", "measured"]) == (
        2,
        1,
        4,
    )


def test_month_to_date_past_the_data_end_judges_at_the_data_end():
    t = table(frame(march_rows()))
    r = sla.month_to_date(t, CLIENTS, PROFILES, "2025-03", DATA_END, expected_remaining=0)
    row = email_row(r)
    assert (row["pending"], row["numerator"], row["denominator"]) == (1, 2, 4)
    # a later instant of the month than the data reaches: still judged when the data ends (at 25 March
    # the Tuesday email would have 6 + 4 x 10 + 10 = 56 business hours and count as missed)
    later = email_row(sla.month_to_date(t, CLIENTS, PROFILES, "2025-03", "2025-03-25", expected_remaining=0))
    assert (later["pending"], later["numerator"], later["denominator"]) == (1, 2, 4)


def test_a_whole_past_month_is_still_judged_at_its_end():
    # the data runs into April: March is whole, its open emails are judged at 1 April 00:00 as before
    t = table(frame([*march_rows(), *phone("C2", 1, "handled", 10, day="2025-04-02 10:00")]))
    row = email_row(sla.evaluate_compliance(t, CLIENTS, PROFILES, "2025-03"))
    assert (row["pending"], row["numerator"], row["denominator"]) == (0, 2, 5)
    assert row["actual"] == pytest.approx(0.4) and row["met"] == False  # noqa: E712
    assert row["penalty_at_risk"] == pytest.approx(300)
    explicit = sla.evaluate_compliance(t, CLIENTS, PROFILES, "2025-03", as_of="2025-04-01")
    pd.testing.assert_frame_equal(sla.evaluate_compliance(t, CLIENTS, PROFILES, "2025-03"), explicit)
    hist = sla.compliance_history(t, CLIENTS, PROFILES, "2025-03", "2025-04")
    march = hist[hist["month"] == "2025-03"].drop(columns="month").reset_index(drop=True)
    pd.testing.assert_frame_equal(march, explicit, check_dtype=False)


def test_backlog_when_the_data_ends():
    t = table(frame(march_rows()))
    cal = sla.business_calendar({})
    at = sla.email_judged_at(pd.Timestamp("2025-04-01"), sla.latest_arrival(t), calendar=cal)
    assert at == DATA_END
    b = sla.email_backlog(t, at=at, calendar=cal, threshold_h=8).set_index("client_id").loc["C1"]
    # the two open emails: 13 h and 6 h old in business hours, one past the 8 h target
    assert b["backlog"] == 2 and b["past_threshold"] == 1
    assert b["oldest_age_business_h"] == pytest.approx(13)
    # counted at the month end instead (what the report did): both past target, the oldest 5 h + 10 working
    # days (18-21, 24-28, 31 March) x 10 h = 105 h
    old = sla.email_backlog(t, at="2025-04-01", calendar=cal, threshold_h=8).set_index("client_id").loc["C1"]
    assert old["past_threshold"] == 2 and old["oldest_age_business_h"] == pytest.approx(105)


def _write(folder: Path, rows: list[dict], clients: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    c = frame(rows)
    c["contact_id"] = [f"k{i}" for i in range(len(c))]
    local = pd.to_datetime(c["arrived_at"]).dt.tz_localize("America/New_York")
    c["arrived_at"] = local.map(lambda v: v.isoformat())
    c.to_csv(folder / "contacts.csv", index=False)
    clients.to_csv(folder / "clients.csv", index=False)
    return folder


@pytest.fixture()
def params() -> dict:
    return {**load_params(None), "sla_contracts": {"profiles": PROFILES}}


def test_the_reports_judge_a_clients_emails_at_the_whole_sources_end(tmp_path, monkeypatch, params):
    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    src = load.open_source(str(_write(tmp_path / "data", march_rows(), CLIENTS)), tz="America/New_York")
    mine = src.for_client("C1")
    assert queries.data_end(src) == DATA_END and queries.data_end(mine) == DATA_END  # not C1's last email
    row = email_row(queries.compliance(src, params, "2025-03"))
    assert (row["pending"], row["numerator"], row["denominator"]) == (1, 2, 4) and row["met"] == True  # noqa: E712
    own = queries.compliance(mine, params, "2025-03")
    assert (own["pending"].iloc[0], own["numerator"].iloc[0], own["denominator"].iloc[0]) == (1, 2, 4)
    # the KPI views' email figure is the contract term's
    k = queries.channel_history(src, params, "2025-03", "2025-03", by=("client_id", "channel"))
    e = k[(k["client_id"] == "C1") & (k["channel"] == "email")].iloc[0]
    assert e["answered_within_threshold"] == 2 and e["service_level"] == pytest.approx(0.5)
    # the SLA report's backlog: counted when the data ends, and said so
    just_after = DATA_END + pd.Timedelta(microseconds=1)  # the email of the data's very last instant waits too
    assert queries.email_waiting_at(src, params, "2025-03") == (just_after, "when the data ends (2025-03-18)")
    assert queries.email_waiting_at(src, params, "2025-02") == (pd.Timestamp("2025-03-01"), "at month end")


def test_the_backlog_when_the_data_ends_counts_the_email_of_its_last_instant(tmp_path, monkeypatch, params):
    # an email arriving at 16:00, the data's last arrival: compliance counts it received and pending, so the
    # backlog counted "when the data ends" must hold it (it held 2 of the 3 open emails)
    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    rows = [*march_rows(), email("2025-03-18 16:00", "open")]
    src = load.open_source(str(_write(tmp_path / "data", rows, CLIENTS)), tz="America/New_York")
    at, _ = queries.email_waiting_at(src, params, "2025-03")
    cal = sla.business_calendar(params)
    b = sla.email_backlog(src.table("contacts"), at=at, calendar=cal, threshold_h=8).set_index("client_id").loc["C1"]
    assert b["backlog"] == 3 and b["past_threshold"] == 1
    assert email_row(queries.compliance(src, params, "2025-03"))["pending"] == 2


def test_a_client_judged_on_its_own_still_uses_the_whole_sources_end(tmp_path, monkeypatch, params):
    # another client's contract is unknown: the whole source cannot be judged, C1 is judged on its own rows,
    # but its open emails still at the whole source's end (C2's call at 16:00), not at C1's last email
    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    clients = pd.concat(
        [CLIENTS, pd.DataFrame({"client_id": ["C3"], "client_name": ["Gamma"], "sla_profile": ["platinum"]})]
    )
    src = load.open_source(str(_write(tmp_path / "data", march_rows(), clients)), tz="America/New_York")
    own = queries.compliance(src.for_client("C1"), params, "2025-03")
    assert (own["pending"].iloc[0], own["numerator"].iloc[0], own["denominator"].iloc[0]) == (1, 2, 4)
    assert np.isclose(own["actual"].iloc[0], 0.5)
