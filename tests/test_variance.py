"""Plan vs actual (reportlib.variance): Shapley split, exact sums, aggregation by contacts, the sample's story."""

import numpy as np
import pandas as pd
import pytest

from reportlib import variance as va
from reportlib.staffing import erlang_a_service_level


def _frame(rows):
    base = {"channel": "phone", "queue": "Q", "interval_start": pd.Timestamp("2026-01-05 09:00"),
            "interval_minutes": 30, "answer_s": 30.0, "patience_s": 300.0}
    out = pd.DataFrame([{**base, **r} for r in rows])
    if "answered_within" not in out:
        out["answered_within"] = np.nan
    return out


def _plan_actual(v0, h0, n0, v1, h1, n1, within=None, **extra):
    return {"forecast_offered": v0, "forecast_aht_s": h0, "planned_agents": n0, "offered": v1, "aht_s": h1,
            "staffed_agents": n1, "answered_within": within if within is not None else 0.7 * v1, **extra}


def test_shapley3_on_a_product_is_symmetric_by_hand():
    # f = x*y*z from (1,1,1) to (2,2,2): f goes 1 -> 8, each factor gets 7/3 by symmetry.
    f = lambda x, y, z: x * y * z  # noqa: E731
    one, two = np.array([1.0]), np.array([2.0])
    a, b, c, lo, hi = va.shapley3(f, (one, one, one), (two, two, two))
    assert (lo[0], hi[0]) == (1.0, 8.0)
    assert a[0] == pytest.approx(7 / 3) and b[0] == pytest.approx(7 / 3) and c[0] == pytest.approx(7 / 3)
    # f = x + 10 y: additive, so each factor gets exactly its own change and z gets exactly 0
    g = lambda x, y, z: x + 10 * y  # noqa: E731
    a, b, c, lo, hi = va.shapley3(g, (one, one, one), (two, two, two))
    assert (a[0], b[0], c[0]) == (1.0, 10.0, 0.0)


def test_a_factor_that_did_not_change_gets_exactly_zero():
    rows = [_plan_actual(120, 300, 24, 150, 300, 22), _plan_actual(80, 420, 20, 80, 380, 20.5),
            _plan_actual(60, 300, 12, 60, 300, 12)]
    eff = va.interval_effects(_frame(rows))
    assert eff.loc[0, "effect_aht"] == 0.0
    assert eff.loc[1, "effect_volume"] == 0.0
    assert (eff.loc[2, ["effect_volume", "effect_aht", "effect_staffing"]] == 0.0).all()


@pytest.mark.parametrize("change, factor", [((150, 300, 24), "effect_volume"), ((120, 360, 24), "effect_aht"),
                                            ((120, 300, 21.5), "effect_staffing")])
def test_a_single_change_is_attributed_wholly_to_its_factor(change, factor):
    v1, h1, n1 = change
    eff = va.interval_effects(_frame([_plan_actual(120, 300, 24, v1, h1, n1)]))
    planned = erlang_a_service_level(24, 120, 300, 1800, 30, 300)
    model = erlang_a_service_level(n1, v1, h1, 1800, 30, 300)
    assert eff.loc[0, "planned_sl"] == pytest.approx(planned, abs=1e-12)
    assert eff.loc[0, factor] == pytest.approx(model - planned, abs=1e-12)
    assert model - planned < -0.01  # the change mattered
    for other in ("effect_volume", "effect_aht", "effect_staffing"):
        if other != factor:
            assert eff.loc[0, other] == 0.0
    assert eff.loc[0, "effect_other"] == pytest.approx(0.7 - model, abs=1e-12)


def test_effects_sum_to_actual_minus_planned_in_every_record():
    rng = np.random.default_rng(3)
    rows = []
    for d in range(6):
        for s in range(20):
            v0 = float(rng.uniform(0, 200)) if s else 0.0  # the first interval of each day: nothing planned
            v1 = float(rng.poisson(max(v0 * rng.uniform(0.7, 1.4), 1)))
            n0 = v0 * 300 / 1800 + 3
            rows.append({**_plan_actual(v0, 300, n0, v1, float(rng.uniform(250, 380)), max(n0 + rng.normal(0, 2), 0),
                                        within=float(rng.binomial(int(v1), 0.75)), scheduled_agents=n0 - 0.5),
                         "interval_start": pd.Timestamp("2026-01-05 08:00") + pd.Timedelta(days=d, minutes=30 * s),
                         "queue": "AB"[s % 2]})
    frame = _frame(rows)
    eff = va.interval_effects(frame)
    total = eff[["effect_volume", "effect_aht", "effect_staffing", "effect_other"]].sum(axis=1)
    assert np.allclose(total, eff["measured_sl"] - eff["planned_sl"], atol=1e-9, rtol=0)
    parts = eff["effect_schedule"] + eff["effect_attendance"]
    assert np.allclose(parts, eff["effect_staffing"], atol=1e-9, rtol=0)
    for by in ("queue", "day", "week"):
        rec = va.decompose(frame, by=by, month="2026-01")
        assert len(rec) and rec["actual_sl"].notna().all()
        total = rec[["effect_volume", "effect_aht", "effect_staffing", "effect_other"]].sum(axis=1)
        assert np.abs(total - (rec["actual_sl"] - rec["planned_sl"])).max() < 1e-9
        assert np.abs(rec["effect_schedule"] + rec["effect_attendance"] - rec["effect_staffing"]).max() < 1e-9
    # the totals row of a channel is the contacts of its queues together
    rec = va.decompose(frame, by="queue", month="2026-01")
    allq = rec[rec["queue"] == "all"].iloc[0]
    assert allq["offered"] == pytest.approx(frame["offered"].sum())
    assert allq["actual_sl"] == pytest.approx(frame["answered_within"].sum() / frame["offered"].sum())


def test_an_interval_with_zero_planned_volume_is_handled():
    rows = [_plan_actual(0, np.nan, 0, 10, 300, 2, within=6)]
    eff = va.interval_effects(_frame(rows))
    assert eff.loc[0, "planned_sl"] == 1.0  # no contacts planned: nothing to miss
    assert eff.loc[0, "effect_aht"] == 0.0  # no planned handle time: the actual one is used, no AHT effect
    assert eff.loc[0, ["effect_volume", "effect_aht", "effect_staffing", "effect_other"]].sum() == pytest.approx(0.6 - 1.0)
    rec = va.decompose(_frame(rows), by="queue", month="2026-01", totals=False)
    assert rec.loc[0, "planned_sl"] == 1.0 and rec.loc[0, "actual_sl"] == pytest.approx(0.6)
    assert rec.loc[0, ["effect_volume", "effect_aht", "effect_staffing", "effect_other"]].sum() == pytest.approx(-0.4)


def test_aggregation_over_two_intervals_is_by_contacts_checked_by_hand():
    # Interval A: plan 100 contacts at 90%, 150 came, volume cost 20 points (model 70%), measured 70% (105).
    # Interval B: plan 100 at 70%, 50 came, volume gave 10 points (model 80%), measured 80% (40).
    # Period plan = (90 + 70) / 200 = 80%; actual = (105 + 40) / 200 = 72.5%; miss 7.5 points.
    # Volume, in contacts: mix (150-100)(0.9-0.8) + (50-100)(0.7-0.8) = 5 + 5 = 10, within intervals
    # 150(-0.2) + 50(0.1) = -25; together -15 contacts / 200 offered = -7.5 points; the rest 0.
    d = pd.DataFrame({
        "channel": "phone", "queue": "Q", "period": "2026-01", "interval_minutes": 30,
        "forecast_offered": [100.0, 100.0], "offered": [150.0, 50.0], "planned_sl": [0.9, 0.7],
        "model_sl": [0.7, 0.8], "answered_within": [105.0, 40.0], "effect_volume": [-0.2, 0.1],
        "effect_aht": 0.0, "effect_staffing": 0.0, "effect_schedule": np.nan, "effect_attendance": np.nan,
        "effect_other": 0.0, "planned_agents": 20.0, "_h0": 300.0, "_h1": 300.0, "_n1": 20.0})
    rec = va.aggregate_effects(d, ["channel", "queue", "period"]).iloc[0]
    assert rec["planned_sl"] == pytest.approx(0.80)
    assert rec["actual_sl"] == pytest.approx(0.725)
    assert rec["effect_volume"] == pytest.approx(-0.075)
    assert rec["effect_aht"] == 0.0 and rec["effect_other"] == 0.0
    assert rec["planned_agent_hours"] == pytest.approx(20.0)  # 2 half-hours x 20 agents
    # a plain average of the interval effects (-0.05) or of the SLs (75%) would be wrong
    assert rec["effect_volume"] != pytest.approx(-0.05)


def test_staffing_not_measured_is_null_and_the_rest_still_adds_up():
    rows = [_plan_actual(120, 300, 24, 130, 320, 18)]
    eff = va.interval_effects(_frame(rows), staffing_measured=False)
    assert np.isnan(eff.loc[0, "effect_staffing"])
    rec = va.decompose(_frame(rows), by="queue", month="2026-01", totals=False, staffing_measured=False)
    total = rec[["effect_volume", "effect_aht", "effect_other"]].sum(axis=1)
    assert np.isnan(rec.loc[0, "effect_staffing"])
    assert total.iloc[0] == pytest.approx(rec.loc[0, "actual_sl"] - rec.loc[0, "planned_sl"], abs=1e-12)
