"""Email's own measure everywhere: first response within each client's contract threshold in business
hours, the figure the SLA report computes; speed of answer and abandon rate empty for email."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportlib.core.params import load_params
from reportlib.data import load
from reportlib.metrics import sla
from reportlib.reports import queries

MONTH = "2025-03"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    from reportlib.planning.sample import sample_data

    folder = tmp_path_factory.mktemp("email") / "sample"
    sample_data(folder, seed=5, start="2025-01", months=3, agents=30, clients=8)
    return folder


@pytest.fixture(scope="module")
def opened(sample):
    params = load_params(None)
    return params, load.open_source(str(sample), tz=params.get("timezone", "America/New_York"))


def test_per_client_thresholds_equal_one_threshold_per_client():
    # two clients, one with an 8-hour contract and one with 24 hours; the same emails
    arrived = pd.to_datetime(["2025-03-03 09:00", "2025-03-03 09:00", "2025-03-04 10:00", "2025-03-05 11:00"])
    frame = pd.DataFrame(
        {
            "contact_id": ["1", "2", "3", "4"],
            "channel": "email",
            "queue": "q",
            "client_id": ["A", "B", "A", "B"],
            "arrived_at": arrived,
            "outcome": ["handled", "handled", "handled", "open"],
            "wait_s": [20 * 3600.0, 20 * 3600.0, 3600.0, np.nan],
            "handle_s": 300.0,
        }
    )
    cal = sla.BusinessCalendar()
    got = sla.email_contract_counts(
        frame,
        keys=["client_id"],
        thresholds_h={"A": 8.0, "B": 24.0},
        default_threshold_h=8.0,
        start="2025-03-01",
        end="2025-04-01",
        calendar=cal,
        tz=None,
    ).set_index("client_id")
    for cid, hours in (("A", 8.0), ("B", 24.0)):
        one = sla.email_first_response(
            frame[frame["client_id"] == cid],
            start="2025-03-01",
            end="2025-04-01",
            threshold_h=hours,
            calendar=cal,
            by=(),
            as_of="2025-04-01",
            tz=None,
        )
        assert got.loc[cid, "responded_within"] == one["responded_within"].iloc[0]
        assert got.loc[cid, "measured"] == one["measured"].iloc[0]
    # 20 wall-clock hours from Monday 09:00 is more than 8 business hours and less than 24
    assert got.loc["A", "responded_within"] == 1 and got.loc["A", "measured"] == 2
    assert got.loc["B", "responded_within"] == 1


def test_unknown_clients_get_the_default_threshold():
    frame = pd.DataFrame(
        {
            "contact_id": ["1"],
            "channel": "email",
            "queue": "q",
            "client_id": ["Z"],
            "arrived_at": pd.to_datetime(["2025-03-03 09:00"]),
            "outcome": ["handled"],
            "wait_s": [5 * 3600.0],
            "handle_s": 60.0,
        }
    )
    kw = dict(keys=["client_id"], thresholds_h={}, start="2025-03-01", end="2025-04-01", tz=None)
    assert sla.email_contract_counts(frame, default_threshold_h=8, **kw)["responded_within"].iloc[0] == 1
    assert sla.email_contract_counts(frame, default_threshold_h=1, **kw)["responded_within"].iloc[0] == 0


def test_email_row_equals_the_sla_reports_terms(opened):
    params, src = opened
    k = queries.contact_kpis(src, params, grain=None, by=["channel"], start=f"{MONTH}-01", end="2025-04-01")
    email = k[k["channel"] == "email"].iloc[0]
    comp = queries.compliance(src, params, MONTH)
    terms = comp[(comp["channel"] == "email") & comp["threshold_h"].notna()]
    assert len(terms) == len(src.frame("clients"))  # every sample client has an email term
    assert email["answered_within_threshold"] == terms["numerator"].sum()
    assert email["service_level"] == pytest.approx(terms["numerator"].sum() / terms["denominator"].sum(), abs=1e-12)
    assert np.isnan(email["asa_s"]) and np.isnan(email["abandon_rate"])
    phone = k[k["channel"] == "phone"].iloc[0]
    assert not np.isnan(phone["asa_s"]) and 0 < phone["service_level"] < 1


def test_every_view_shows_the_same_email_figure(opened, sample):
    params, src = opened
    k = queries.contact_kpis(src, params, grain=None, by=["channel"], start=f"{MONTH}-01", end="2025-04-01")
    want = float(k.loc[k["channel"] == "email", "service_level"].iloc[0])
    # the pack's "By channel" table and the explore month view
    hist = queries.channel_history(src, params, "2025-01", MONTH)
    assert float(
        hist[(hist["month"] == MONTH) & (hist["channel"] == "email")]["service_level"].iloc[0]
    ) == pytest.approx(want)
    assert hist.loc[hist["channel"] == "email", "asa_s"].isna().all()
    monthly = queries.contact_kpis(src, params, grain="month", by=["channel"], start=f"{MONTH}-01", end="2025-04-01")
    assert float(monthly.loc[monthly["channel"] == "email", "service_level"].iloc[0]) == pytest.approx(want)
    # the CLI
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "reportlib",
            "kpis",
            "--data",
            str(sample),
            "--month",
            MONTH,
            "--by",
            "channel",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = {r["channel"]: r for r in json.loads(out.stdout)}
    assert rows["email"]["service_level"] == pytest.approx(want)
    assert rows["email"]["asa_s"] is None and rows["email"]["abandon_rate"] is None
    # a client review: that client's email terms
    cid = str(src.frame("clients")["client_id"].iloc[0])
    mine = queries.channel_history(src.for_client(cid), params, "2025-01", MONTH)
    comp = queries.compliance(src, params, MONTH)
    term = comp[(comp["client_id"] == cid) & (comp["channel"] == "email")].iloc[0]
    row = mine[(mine["month"] == MONTH) & (mine["channel"] == "email")].iloc[0]
    assert row["answered_within_threshold"] == term["numerator"]
