"""Plan vs actual (reportlib.variance): Shapley split, exact sums, aggregation by contacts, the sample's story."""

import numpy as np
import pandas as pd
import pytest

from reportlib.cli import main
from reportlib.core.params import load_params
from reportlib.data.load import open_source
from reportlib.planning import variance as va
from reportlib.planning.sample import SURGE_QUEUE, surge_days
from reportlib.planning.staffing import erlang_a_service_level
from reportlib.reports import plan_vs_actual as pva


def _frame(rows):
    base = {
        "channel": "phone",
        "queue": "Q",
        "interval_start": pd.Timestamp("2026-01-05 09:00"),
        "interval_minutes": 30,
        "answer_s": 30.0,
        "patience_s": 300.0,
    }
    out = pd.DataFrame([{**base, **r} for r in rows])
    if "answered_within" not in out:
        out["answered_within"] = np.nan
    return out


def _plan_actual(v0, h0, n0, v1, h1, n1, within=None, **extra):
    return {
        "forecast_offered": v0,
        "forecast_aht_s": h0,
        "planned_agents": n0,
        "offered": v1,
        "aht_s": h1,
        "staffed_agents": n1,
        "answered_within": within if within is not None else 0.7 * v1,
        **extra,
    }


def test_shapley3_on_a_product_is_symmetric_by_hand():
    # f = x*y*z from (1,1,1) to (2,2,2): f goes 1 -> 8, each factor gets 7/3 by symmetry.
    f = lambda x, y, z: x * y * z
    one, two = np.array([1.0]), np.array([2.0])
    a, b, c, lo, hi = va.shapley3(f, (one, one, one), (two, two, two))
    assert (lo[0], hi[0]) == (1.0, 8.0)
    assert a[0] == pytest.approx(7 / 3) and b[0] == pytest.approx(7 / 3) and c[0] == pytest.approx(7 / 3)
    # f = x + 10 y: additive, so each factor gets exactly its own change and z gets exactly 0
    g = lambda x, y, z: x + 10 * y
    a, b, c, lo, hi = va.shapley3(g, (one, one, one), (two, two, two))
    assert (a[0], b[0], c[0]) == (1.0, 10.0, 0.0)


def test_agents_handling_two_chats_at_once_are_modelled_as_twice_the_servers():
    """With concurrency 2 (capacity service_targets), every figure of an interval equals the one-at-a-time model
    with the planned, staffed and scheduled agents doubled (a second reading of the same queue)."""
    rows = [
        _plan_actual(120, 300, 12, 150, 330, 11, scheduled_agents=12.5, queue="A"),
        _plan_actual(80, 420, 10, 70, 400, 10.5, scheduled_agents=10, queue="B"),
    ]
    two = va.interval_effects(_frame(rows).assign(channel="chat", concurrency=2.0))
    doubled = [
        {
            **r,
            "planned_agents": 2 * r["planned_agents"],
            "staffed_agents": 2 * r["staffed_agents"],
            "scheduled_agents": 2 * r["scheduled_agents"],
        }
        for r in rows
    ]
    one = va.interval_effects(_frame(doubled).assign(channel="chat"))
    cols = ["planned_sl", "model_sl", *(c for c in one.columns if c.startswith("effect_"))]
    assert len(cols) == 8 and np.allclose(two[cols].to_numpy(float), one[cols].to_numpy(float), atol=1e-12, rtol=0)
    plain = va.interval_effects(_frame(rows).assign(channel="chat"))  # one at a time: far worse on the same agents
    assert (plain["planned_sl"] < two["planned_sl"] - 0.2).all()
    assert erlang_a_service_level(24, 120, 300, 1800, 30, 300) == pytest.approx(two.loc[0, "planned_sl"], abs=1e-12)


def test_a_factor_that_did_not_change_gets_exactly_zero():
    rows = [
        _plan_actual(120, 300, 24, 150, 300, 22, queue="A"),
        _plan_actual(80, 420, 20, 80, 380, 20.5, queue="B"),
        _plan_actual(60, 300, 12, 60, 300, 12, queue="C"),
    ]
    eff = va.interval_effects(_frame(rows))
    assert eff.loc[0, "effect_aht"] == 0.0
    assert eff.loc[1, "effect_volume"] == 0.0
    assert (eff.loc[2, ["effect_volume", "effect_aht", "effect_staffing"]] == 0.0).all()


@pytest.mark.parametrize(
    "change, factor",
    [((150, 300, 24), "effect_volume"), ((120, 360, 24), "effect_aht"), ((120, 300, 21.5), "effect_staffing")],
)
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
            rows.append(
                {
                    **_plan_actual(
                        v0,
                        300,
                        n0,
                        v1,
                        float(rng.uniform(250, 380)),
                        max(n0 + rng.normal(0, 2), 0),
                        within=float(rng.binomial(int(v1), 0.75)),
                        scheduled_agents=n0 - 0.5,
                    ),
                    "interval_start": pd.Timestamp("2026-01-05 08:00") + pd.Timedelta(days=d, minutes=30 * s),
                    "queue": "AB"[s % 2],
                }
            )
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
    assert eff.loc[0, ["effect_volume", "effect_aht", "effect_staffing", "effect_other"]].sum() == pytest.approx(
        0.6 - 1.0
    )
    rec = va.decompose(_frame(rows), by="queue", month="2026-01", totals=False)
    assert rec.loc[0, "planned_sl"] == 1.0 and rec.loc[0, "actual_sl"] == pytest.approx(0.6)
    assert rec.loc[0, ["effect_volume", "effect_aht", "effect_staffing", "effect_other"]].sum() == pytest.approx(-0.4)


def test_aggregation_over_two_intervals_is_by_contacts_checked_by_hand():
    # Interval A: plan 100 contacts at 90%, 150 came, volume cost 20 points (model 70%), measured 70% (105).
    # Interval B: plan 100 at 70%, 50 came, volume gave 10 points (model 80%), measured 80% (40).
    # Period plan = (90 + 70) / 200 = 80%; actual = (105 + 40) / 200 = 72.5%; miss 7.5 points.
    # Volume, in contacts: mix (150-100)(0.9-0.8) + (50-100)(0.7-0.8) = 5 + 5 = 10, within intervals
    # 150(-0.2) + 50(0.1) = -25; together -15 contacts / 200 offered = -7.5 points; the rest 0.
    d = pd.DataFrame(
        {
            "channel": "phone",
            "queue": "Q",
            "period": "2026-01",
            "interval_minutes": 30,
            "forecast_offered": [100.0, 100.0],
            "offered": [150.0, 50.0],
            "planned_sl": [0.9, 0.7],
            "model_sl": [0.7, 0.8],
            "answered_within": [105.0, 40.0],
            "effect_volume": [-0.2, 0.1],
            "effect_aht": 0.0,
            "effect_staffing": 0.0,
            "effect_schedule": np.nan,
            "effect_attendance": np.nan,
            "effect_other": 0.0,
            "planned_agents": 20.0,
            "_h0": 300.0,
            "_h1": 300.0,
            "_n1": 20.0,
        }
    )
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


# --- the sample operation: a realistic plan and the story built into it -------------------------------


SMALL = ["--start", "2025-01", "--months", "3", "--agents", "40", "--clients", "10"]
MONTH = "2025-03"  # the sample's last month: the generated Debit Card surge is in it


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("variance") / "data"
    assert main(["sample-data", "--out", str(out), *SMALL]) == 0
    return out


@pytest.fixture(scope="module")
def source(sample_dir):
    return open_source(str(sample_dir), "America/New_York")


def test_sample_plan_forecast_errors_are_the_size_the_backtest_reports(source):
    plan = source.frame("interval_plan")
    c = source.frame("contacts")
    c = c[c["channel"].isin(["phone", "chat"]) & ~((c["outcome"] == "abandoned") & (c["wait_s"] < 5))]
    actual = c.groupby([c["arrived_at"].dt.normalize(), "channel", "queue"], observed=True).size()
    fc = plan.groupby([plan["interval_start"].dt.normalize(), "channel", "queue"], observed=True)[
        "forecast_offered"
    ].sum()
    both = pd.concat([actual.rename("a"), fc.rename("f")], axis=1).fillna(0.0)
    both = both[both["f"] > 0]
    wape = (both["a"] - both["f"]).abs().sum() / both["a"].sum()
    # docs/forecasting.md: the model's daily WAPE on the sample is 9.2% (6.5-13.5% by series); this small
    # sample's queues are a quarter of the default's, so Poisson noise adds a little
    assert 0.06 < wape < 0.16, wape
    bias = both["f"].sum() / both["a"].sum() - 1
    assert abs(bias) < 0.05, bias
    # handle times: the plan's AHT is last quarter's, within 15% of what the month brought
    handled = c[c["outcome"] == "handled"]
    aht = handled.groupby(["channel", "queue"], observed=True)["handle_s"].mean()
    f_aht = (
        plan[plan["interval_start"] >= "2025-03-01"]
        .groupby(["channel", "queue"], observed=True)["forecast_aht_s"]
        .mean()
    )
    ratio = (f_aht / aht).dropna()
    assert len(ratio) == 8 and ((ratio > 0.85) & (ratio < 1.15)).all(), ratio


def test_sample_staffing_falls_short_of_plan_on_days_with_unplanned_absence(source):
    st = source.frame("interval_staffing")
    plan = source.frame("interval_plan")
    act = source.frame("agent_activity")
    day = st["interval_start"].dt.normalize()
    d = st.groupby(day)[["staffed_agents", "scheduled_agents"]].sum()
    d["planned"] = plan.groupby(plan["interval_start"].dt.normalize())["planned_agents"].sum()
    absent = act.groupby("date")["absent_unplanned"].mean().rename("absent")
    d = d.join(absent, how="inner")
    d = d[d["planned"] > 50]  # ordinary weekdays
    # every day with unplanned absence has fewer agents staffed than scheduled; the others as scheduled
    some = d["absent"] > 0
    assert some.sum() > 20 and (d.loc[some, "staffed_agents"] < d.loc[some, "scheduled_agents"]).all()
    assert np.allclose(d.loc[~some, "staffed_agents"], d.loc[~some, "scheduled_agents"], rtol=1e-4)
    gap = 1 - d["staffed_agents"] / d["scheduled_agents"]
    assert gap.corr(d["absent"], method="spearman") > 0.8
    # and the decomposition charges it to attendance: the more absence, the more points it cost
    from reportlib.planning.variance import variance_for_source

    rec = variance_for_source(source, load_params(None), "2025-02", by="day").records
    rec = rec[(rec["queue"] == "all") & (rec["channel"] == "phone")].set_index("period")
    rec.index = pd.to_datetime(rec.index)
    both = rec.join(d["absent"], how="inner")
    assert len(both) > 15
    assert both["effect_attendance"].corr(both["absent"], method="spearman") < -0.5
    assert (both.loc[both["absent"] > 0, "effect_attendance"] < 0).all()


def test_sample_month_waterfall_tells_the_generated_surge(source):
    from reportlib.planning.variance import variance_for_source, worst_days

    params = load_params(None)
    res = variance_for_source(source, params, MONTH, by="queue")
    rec = res.records
    effects = ["effect_volume", "effect_aht", "effect_staffing", "effect_other"]
    total = rec[effects].sum(axis=1)
    assert np.abs(total - (rec["actual_sl"] - rec["planned_sl"])).max() < 1e-9
    # phone: the surge is the largest effect of the month on Debit Card, and it cost service level
    row = rec[(rec["channel"] == "phone") & (rec["queue"] == SURGE_QUEUE)].iloc[0]
    assert row["effect_volume"] < 0 and row["volume_change"] > 0.05
    assert abs(row["effect_volume"]) == max(abs(row[e]) for e in effects), row[effects]
    # chat: the surge is the largest cost; the generator staffs chat 1.5 times its workload
    # (sample.GROUP_BIAS), so staffing above plan is the largest gain, and it comes from the schedule
    row = rec[(rec["channel"] == "chat") & (rec["queue"] == SURGE_QUEUE)].iloc[0]
    assert row["effect_volume"] == min(row[e] for e in effects) < 0
    assert row["effect_staffing"] == max(row[e] for e in effects) > 0
    assert row["effect_schedule"] > 0 > row["effect_attendance"]
    # by day: Debit Card phone's worst day is a surge day, and volume is what cost it
    days = variance_for_source(source, params, MONTH, by="day").records
    worst = worst_days(days, n=3)
    dc = worst[(worst["channel"] == "phone") & (worst["queue"] == SURGE_QUEUE)].iloc[0]
    surge = {d.strftime("%Y-%m-%d") for d in surge_days(pd.date_range("2025-01-01", "2025-03-31"))}
    assert dc["period"] in surge and dc["cause"] == "volume", dc
    # other queues of the channel did not surge: the day's volume effect there is small
    other_q = days[
        (days["period"] == min(surge)) & (days["channel"] == "phone") & ~days["queue"].isin([SURGE_QUEUE, "all"])
    ]
    dcd = days[(days["period"] == min(surge)) & (days["channel"] == "phone") & (days["queue"] == SURGE_QUEUE)].iloc[0]
    assert (other_q["effect_volume"].abs() < abs(dcd["effect_volume"]) / 3).all()


def test_cli_variance_json_csv_and_clear_errors(sample_dir, tmp_path, capsys):
    import json
    import shutil

    assert main(["variance", "--data", str(sample_dir), "--month", MONTH, "--by", "week"]) == 0
    out, err = capsys.readouterr()
    rec = pd.DataFrame(json.loads(out))
    assert {
        "channel",
        "queue",
        "period",
        "planned_sl",
        "actual_sl",
        "effect_volume",
        "effect_aht",
        "effect_staffing",
        "effect_schedule",
        "effect_attendance",
        "effect_other",
        "forecast_offered",
        "offered",
    } <= set(rec.columns)
    assert "plan from interval_plan" in err and "partial month" not in err
    assert main(["variance", "--data", str(sample_dir), "--month", MONTH, "--format", "csv"]) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines()[0].startswith("channel,queue,period,planned_sl,actual_sl")
    # usage errors exit 2
    with pytest.raises(SystemExit) as exc:
        main(["variance", "--data", str(sample_dir), "--month", "2025-13"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["variance", "--data", str(sample_dir), "--month", MONTH, "--by", "hour"])
    assert exc.value.code == 2
    capsys.readouterr()
    # without interval_staffing: staffing not measurable, said why; effects still add up
    bare = tmp_path / "bare"
    shutil.copytree(sample_dir, bare)
    (bare / "interval_staffing.csv").unlink()
    assert main(["variance", "--data", str(bare), "--month", MONTH]) == 0
    out, err = capsys.readouterr()
    rec = pd.DataFrame(json.loads(out))
    assert rec["effect_staffing"].isna().all()
    # not measured is not the plan: the model stands in with planned agents, the hours are not shown as staffed
    assert rec["staffed_agent_hours"].isna().all() and rec["planned_agent_hours"].gt(0).all()
    assert "not measurable" in err and "agent_activity holds daily totals" in err
    total = rec[["effect_volume", "effect_aht", "effect_other"]].sum(axis=1)
    assert np.abs(total - (rec["actual_sl"] - rec["planned_sl"])).max() < 1e-9
    # contacts up to Friday 14 March 2025 only: the month is said to be partial (11 open days after)
    cut = tmp_path / "cut"
    shutil.copytree(sample_dir, cut)
    lines = (cut / "contacts.csv").read_text().splitlines(keepends=True)
    kept = [ln for ln in lines[1:] if ln.split(",")[4][:10] <= "2025-03-14"]
    (cut / "contacts.csv").write_text("".join([lines[0], *kept]))
    assert main(["variance", "--data", str(cut), "--month", MONTH]) == 0
    err = capsys.readouterr().err
    assert "reportlib variance: March 2025 is a partial month: the data end on 2025-03-14 (11 of the month's" in err
    # without interval_plan and no vintages: one line, exit 1
    (bare / "interval_plan.csv").unlink()
    assert main(["variance", "--data", str(bare), "--month", MONTH]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "no interval_plan table" in err and "--vintages" in err
    # a month without contacts: one line, exit 1
    assert main(["variance", "--data", str(sample_dir), "--month", "2024-06"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "2024-06" in err
    # a broken plan file names file, row and column
    broken = tmp_path / "broken"
    shutil.copytree(sample_dir, broken)
    lines = (broken / "interval_plan.csv").read_text().splitlines()
    cells = lines[5].split(",")
    cells[4] = "-3"
    lines[5] = ",".join(cells)
    (broken / "interval_plan.csv").write_text("\n".join(lines) + "\n")
    assert main(["variance", "--data", str(broken), "--month", MONTH]) == 1
    err = capsys.readouterr().err
    assert "interval_plan.csv row 6, column forecast_offered" in err


def test_a_planned_queue_without_contacts_is_named_as_without_patience_and_staffing_said_once(
    sample_dir, tmp_path, capsys
):
    import shutil

    gone = tmp_path / "gone"
    shutil.copytree(sample_dir, gone)
    lines = (gone / "contacts.csv").read_text().splitlines(keepends=True)
    queue = lines[1].split(",")[2]
    kept = [ln for ln in lines[1:] if not (ln.split(",")[1] == "phone" and ln.split(",")[2] == queue)]
    (gone / "contacts.csv").write_text("".join([lines[0], *kept]))
    (gone / "interval_staffing.csv").unlink()
    assert main(["variance", "--data", str(gone), "--month", MONTH]) == 0
    err = capsys.readouterr().err
    # the contacts table measures every caller's wait: the queue had none, not a table without waits
    assert (
        "caller patience not measured (no caller waited or abandoned): service level modelled without "
        f"abandonment (Erlang C) for phone/{queue}" in err
    )
    assert "abandon_wait_s_total" not in err
    # not measurable staffing is said once, in the note, not as where staffing came from
    assert "staffing from not measurable" not in err and err.count("not measurable: agent_activity holds") == 1


def test_without_interval_plan_the_forecast_vintage_before_the_month_is_the_plan(sample_dir, tmp_path, capsys):
    import json
    import shutil

    from reportlib.planning import forecast as fc

    bare = tmp_path / "noplan"
    shutil.copytree(sample_dir, bare)
    (bare / "interval_plan.csv").unlink()
    # a vintage made on 28 February for March: each day's actual volume + 10% (a forecast 10% too high),
    # and an older one made in January that must not be used
    src = open_source(str(sample_dir), "America/New_York")
    daily = fc.volume_from_source(src)
    march = daily[(daily["date"] >= "2025-03-01") & (daily["date"] < "2025-04-01")].copy()
    march["forecast"] = march["volume"] * 1.1
    march["lower"], march["upper"] = march["forecast"] * 0.9, march["forecast"] * 1.1
    vint = tmp_path / "vintages"
    fc.archive_vintage(march, vint, "2025-02-28", created_at="2025-02-28 06:00")
    old = march.assign(forecast=march["volume"] * 3.0)
    fc.archive_vintage(old, vint, "2025-01-31", created_at="2025-01-31 06:00")
    late = march.assign(forecast=march["volume"] * 0.2)  # made after the month started: not a plan
    fc.archive_vintage(late, vint, "2025-03-10", created_at="2025-03-10 06:00")
    assert main(["variance", "--data", str(bare), "--month", MONTH, "--vintages", str(vint)]) == 0
    out, err = capsys.readouterr()
    assert "the forecast vintage made on 2025-02-28" in err
    rec = pd.DataFrame(json.loads(out))
    allq = rec[rec["queue"] == "all"]
    # the plan's contacts are the vintage's: 10% above what came, so volume was 1/1.1 - 1 = -9.1% of forecast
    assert np.allclose(allq["volume_change"], 1 / 1.1 - 1, atol=0.01)
    total = rec[["effect_volume", "effect_aht", "effect_staffing", "effect_other"]].sum(axis=1)
    assert np.abs(total - (rec["actual_sl"] - rec["planned_sl"])).max() < 1e-9
    # the agents it required meet the target on the forecast: planned SL at least 80% on each channel
    assert (allq["planned_sl"] >= 0.8).all()
    # no vintage before the month: a one-line error naming the cause
    only_late = tmp_path / "late"
    fc.archive_vintage(late, only_late, "2025-03-10", created_at="2025-03-10 06:00")
    assert main(["variance", "--data", str(bare), "--month", MONTH, "--vintages", str(only_late)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "no forecast vintage made before 2025-03" in err


def test_a_vintages_plan_leaves_holidays_out_of_its_intraday_shape_as_the_forecast_does():
    """The plan built from a vintage spreads each day over the 8 weeks' intraday shape. Labor Day (Monday 1
    September 2025), whose calls came at 10:00 where every other Monday's came at 09:00, shaped the plan's Mondays
    (a probe: -5.5 agent-hours on a Monday against the forecast report's plan). With the calendar it is left out,
    as forecast.intraday_profile leaves it out for the forecast report."""
    from reportlib.planning import forecast as fc

    mondays = pd.date_range("2025-08-11", "2025-09-29", freq="W-MON")  # 8 Mondays, Labor Day among them
    history = pd.DataFrame(
        {
            "interval_start": [d + pd.Timedelta(hours=10 if d == pd.Timestamp("2025-09-01") else 9) for d in mondays],
            "channel": "phone",
            "queue": "Q",
            "volume": 40.0,
        }
    )
    vint = pd.DataFrame(
        {
            "origin": pd.Timestamp("2025-09-30"),
            "created_at": pd.Timestamp("2025-09-30 06:00"),
            "date": pd.Timestamp("2025-10-06"),
            "channel": "phone",
            "queue": "Q",
            "forecast": 40.0,
        },
        index=[0],
    )
    stats = pd.DataFrame({"channel": ["phone"], "queue": ["Q"]})
    args = (
        vint,
        "2025-10",
        history,
        stats.assign(aht_s=300.0),
        va.service_targets(None),
        stats.assign(patience_s=300.0),
    )
    cal = fc.calendar_from_params(load_params()["calendar"])
    plan = va.plan_from_vintage(*args, 30, cal)[0].set_index("interval_start")["forecast_offered"]
    assert plan[pd.Timestamp("2025-10-06 09:00")] == pytest.approx(40.0) and plan.sum() == pytest.approx(40.0)
    blind = va.plan_from_vintage(*args, 30)[0].set_index("interval_start")["forecast_offered"]
    assert blind[pd.Timestamp("2025-10-06 10:00")] == pytest.approx(5.0)  # 1 of the 8 Mondays without it


def test_shape_interval_models_each_interval_as_counted_and_day_moves_bursts_to_other():
    # one day, two intervals planned 100 + 100 at the same plan; 150 + 50 came (a burst, the day on forecast)
    rows = [_plan_actual(100, 300, 20, 150, 300, 20, within=90), _plan_actual(100, 300, 20, 50, 300, 20, within=45)]
    frame = _frame(rows)
    frame.loc[1, "interval_start"] = pd.Timestamp("2026-01-05 09:30")
    day = va.interval_effects(frame, shape="day")
    assert (day["effect_volume"] == 0.0).all()  # the day was on forecast: no volume effect
    rec = va.decompose(frame, by="queue", month="2026-01", totals=False, shape="day")
    assert rec.loc[0, "effect_volume"] == 0.0  # and no mix either: both intervals were planned alike
    assert rec.loc[0, "effect_other"] == pytest.approx(rec.loc[0, "actual_sl"] - rec.loc[0, "planned_sl"], abs=1e-12)
    per = va.interval_effects(frame, shape="interval")
    planned = erlang_a_service_level(20, 100, 300, 1800, 30, 300)
    assert per.loc[0, "effect_volume"] == pytest.approx(erlang_a_service_level(20, 150, 300, 1800, 30, 300) - planned)
    assert per.loc[1, "effect_volume"] == pytest.approx(erlang_a_service_level(20, 50, 300, 1800, 30, 300) - planned)
    with pytest.raises(va.UsageError):
        va.interval_effects(frame, shape="week")


def test_the_days_handle_time_is_its_handle_time_over_its_handled_contacts():
    """H1, by hand: 09:00 offered 100, handled 60 at 200 s (12,000 s); 09:30 offered 50, handled 40 at 500 s
    (20,000 s). The day's AHT is 32,000 / 100 = 320 s, as `reportlib kpis` counts it; weighting each interval's
    AHT by its offered contacts (abandons included) gave (100 x 200 + 50 x 500) / 150 = 300 s (a probe)."""
    rows = [
        _plan_actual(100, 300, 20, 100, 200.0, 20, handled=60.0, handle_s_total=12000.0),
        _plan_actual(50, 300, 20, 50, 500.0, 20, handled=40.0, handle_s_total=20000.0),
    ]
    frame = _frame(rows)
    frame.loc[1, "interval_start"] = pd.Timestamp("2026-01-05 09:30")
    _, aht = va.day_shaped(frame)
    assert list(aht) == [320.0, 320.0]
    assert list(va.day_shaped(frame.drop(columns=["handled"]))[1]) == [300.0, 300.0]  # no handled: by offered
    rec = va.decompose(frame, by="queue", month="2026-01", totals=False)
    assert rec.loc[0, "aht_s"] == 320.0  # the table's figure is the period's own AHT
    assert va.interval_effects(frame)["model_aht_s"].tolist() == [320.0, 320.0]


def test_report_pieces_commentary_waterfall_worst_days():
    rec = {
        "channel": "phone",
        "queue": "all",
        "planned_sl": 0.80,
        "actual_sl": 0.739,
        "effect_volume": -0.042,
        "effect_aht": -0.011,
        "effect_staffing": -0.004,
        "effect_schedule": 0.001,
        "effect_attendance": -0.005,
        "effect_other": -0.004,
        "volume_change": 0.039,
    }
    line = pva.commentary_line(rec)
    assert line == (
        "Phone service level missed the 80% plan by 6.1 points (73.9%): volume 3.9% above forecast cost "
        "4.2 points, handle time cost 1.1, staffing cost 0.4, other cost 0.4."
    )
    # a measured figure keeps its decimal beside a plan's; a total as forecast names its queues' mix (a probe:
    # "(84%)" beside "88.5%", and "volume 0.0% above forecast cost 1.3")
    mixed = pva.commentary_line({**rec, "planned_sl": 0.885, "actual_sl": 0.84, "volume_change": 0.0002})
    assert mixed.startswith(
        "Phone service level missed the 88.5% plan by 4.5 points (84.0%): volume's mix of queues (total as forecast) "
        "cost 4.2 points"
    )
    fig = pva.waterfall_chart({**rec, "queue": "<b>Cards</b>"})
    w = fig.data[0]
    assert list(w.measure) == ["absolute", "relative", "relative", "relative", "relative", "relative", "total"]
    assert sum(w.y[1:-1]) == pytest.approx(w.y[-1] - w.y[0])  # the steps land on the actual SL
    assert "<b>" not in fig.layout.title.text  # a queue name from data is shown literally
    days = pd.DataFrame(
        [
            {
                **rec,
                "period": "2026-01-05",
                "offered": 1000.0,
                "actual_sl": 0.70,
                "effect_volume": -0.08,
                "effect_other": -0.004,
            },
            {
                **rec,
                "period": "2026-01-10",
                "offered": 10.0,
                "actual_sl": 0.30,
                "effect_volume": 0.0,
                "effect_staffing": -0.49,
                "effect_other": -0.004,
            },
            {**rec, "period": "2026-01-06", "offered": 900.0, "actual_sl": 0.83, "effect_volume": 0.02},
        ]
    )
    worst = va.worst_days(days, n=2)
    # the busy Monday cost 100 contacts, the Saturday 5: the Monday comes first, and a day above plan never
    assert list(worst["period"]) == ["2026-01-05", "2026-01-10"]
    assert list(worst["cause"]) == ["volume", "staffing"]


def test_patience_from_an_intervals_table_needs_the_abandoners_wait(tmp_path, monkeypatch):
    """wait_s_total of an intervals table is the answered contacts' wait (the ASA numerator); patience
    needs every caller's wait, so it is measured only with abandon_wait_s_total, and by hand it is
    (answered wait + abandoners' wait) / abandons. Without it patience is NaN (not measured), never the
    answered wait alone over the abandons (too short), and the forecast's contact_stats agree."""
    from reportlib.planning import forecast as fc

    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    rows = (
        "interval_start,interval_minutes,channel,queue,offered,handled,abandoned,answered_within_threshold,"
        "threshold_s,wait_s_total,handle_s_total{extra}\n"
        "2026-01-05T09:00,30,phone,Q,10,8,2,6,30,160,2400{a}\n"
        "2026-01-05T09:30,30,phone,Q,12,9,3,7,30,270,2700{b}\n"
    )
    answer = {"phone": 30.0, "chat": 30.0}
    for name, fmt in (("without", ("", "", "")), ("with", (",abandon_wait_s_total", ",90", ",150"))):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "intervals.csv").write_text(rows.format(extra=fmt[0], a=fmt[1], b=fmt[2]))
        (folder / "agents.csv").write_text("agent_id,name,hire_date\nA1,Ann,2020-01-01\n")
        (folder / "clients.csv").write_text("client_id,client_name,sla_profile\nC1,Acme,gold\n")
        src = open_source(str(folder))
        iv = va.actual_intervals(src, "2026-01-05", "2026-01-06", 30, answer)
        pat = va.patience_table(iv).iloc[0]
        stats = fc.contact_stats(src).iloc[0]
        # the KPIs read wait_s_total as the answered contacts' wait: ASA = (160 + 270) / (8 + 9)
        from reportlib.metrics.contacts import kpis_for_source

        k = kpis_for_source(src, grain=None, by=["channel"], sl_threshold_s=30.0)
        assert k["asa_s"].iloc[0] == pytest.approx(430 / 17)
        if name == "without":
            assert np.isnan(pat["patience_s"]) and np.isnan(stats["patience_s"])
        else:
            # (160 + 270 + 90 + 150) s of waiting over 5 abandons
            assert pat["patience_s"] == pytest.approx(670 / 5)
            assert stats["patience_s"] == pytest.approx(670 / 5)
    # a table where only some rows carry the abandoners' wait is not measured either
    part = tmp_path / "part"
    part.mkdir()
    (part / "intervals.csv").write_text(rows.format(extra=",abandon_wait_s_total", a=",90", b=","))
    for f in ("agents.csv", "clients.csv"):
        (part / f).write_text((tmp_path / "with" / f).read_text())
    assert np.isnan(fc.contact_stats(open_source(str(part))).iloc[0]["patience_s"])


def _local(col):
    """Timestamps written with their UTC offset, as the sample writes them, in local time (naive)."""
    return pd.to_datetime(col, utc=True).dt.tz_convert("America/New_York").dt.tz_localize(None)


def _offered_by_hand(folder):
    """Per channel and queue, the phone and chat contacts of MONTH offered (an abandon under 5 s is not),
    counted from contacts.csv; and the source's last arrival (every channel)."""
    c = pd.read_csv(folder / "contacts.csv", usecols=["channel", "queue", "arrived_at", "outcome", "wait_s"])
    c["t"] = _local(c["arrived_at"])
    m = c[(c["t"] >= "2025-03-01") & (c["t"] < "2025-04-01") & c["channel"].isin(["phone", "chat"])]
    m = m[~((m["outcome"] == "abandoned") & (m["wait_s"] < 5))]
    return m.groupby(["channel", "queue"]).size().astype(float), c["t"].max()


def test_a_month_the_data_covers_in_part_is_compared_with_the_plan_of_the_intervals_with_data(sample_dir, tmp_path):
    """An export ending on 18 March: the plan of the intervals up to the last arrival against the contacts
    of those days (by hand from the CSVs), not the whole month's plan; the effects are those of the same data
    with plan and staffing cut to the data's end by hand; a note says where the plan stops."""
    import shutil

    cut = tmp_path / "cut"
    shutil.copytree(sample_dir, cut)
    lines = (cut / "contacts.csv").read_text().splitlines(keepends=True)
    (cut / "contacts.csv").write_text(
        "".join([lines[0], *[ln for ln in lines[1:] if ln.split(",")[4][:10] <= "2025-03-18"]])
    )
    offered, last = _offered_by_hand(cut)
    assert f"{last:%Y-%m-%d}" == "2025-03-18"
    plan = pd.read_csv(cut / "interval_plan.csv")
    plan["t"] = _local(plan["interval_start"])
    month = plan[(plan["t"] >= "2025-03-01") & (plan["t"] < "2025-04-01")]
    covered = month[month["t"] <= last]  # the intervals that start by the last arrival
    keys = [covered["channel"], covered["queue"]]
    fc = covered.groupby(keys)["forecast_offered"].sum()
    hours = (covered["planned_agents"] * covered["interval_minutes"] / 60).groupby(keys).sum()
    n = covered.groupby(keys).size()
    assert (n < month.groupby(["channel", "queue"]).size().reindex(n.index)).all()  # e.g. 312 of 544
    res = va.variance_for_source(open_source(str(cut), "America/New_York"), load_params(None), MONTH)
    rec = res.records.set_index(["channel", "queue"])
    q = rec.drop(index="all", level="queue")
    assert sorted(q.index) == sorted(fc.index)
    assert np.allclose(q["forecast_offered"], fc.reindex(q.index), rtol=1e-9, atol=0)
    assert np.allclose(q["offered"], offered.reindex(q.index), rtol=0, atol=0)
    assert np.allclose(q["volume_change"], offered.reindex(q.index) / fc.reindex(q.index) - 1, rtol=1e-9, atol=0)
    assert (q["intervals"] == n.reindex(q.index)).all()
    assert np.allclose(q["planned_agent_hours"], hours.reindex(q.index), rtol=1e-9, atol=0)
    for ch in ("phone", "chat"):
        assert rec.loc[(ch, "all"), "forecast_offered"] == pytest.approx(fc[ch].sum(), rel=1e-12)
        assert rec.loc[(ch, "all"), "volume_change"] == pytest.approx(offered[ch].sum() / fc[ch].sum() - 1, rel=1e-9)
        assert rec.loc[(ch, "all"), "intervals"] == n[ch].sum()
    out_of = month.loc[month["t"] > last, "forecast_offered"].sum()
    assert (
        f"plan compared up to {last:%Y-%m-%d %H:%M}, where the data ends "
        f"({out_of:,.0f} planned contacts outside the data left out)"
    ) in res.notes
    # the same as cutting interval_plan and interval_staffing to the data's end by hand
    trimmed = tmp_path / "trimmed"
    shutil.copytree(cut, trimmed)
    for name in ("interval_plan.csv", "interval_staffing.csv"):
        f = pd.read_csv(trimmed / name, dtype=str)
        f[_local(f["interval_start"]) <= last].to_csv(trimmed / name, index=False)
    ref = va.variance_for_source(open_source(str(trimmed), "America/New_York"), load_params(None), MONTH)
    pd.testing.assert_frame_equal(res.records, ref.records)
    assert not [note for note in ref.notes if "plan compared" in note]
    # and the pack's sentence states the volume of those days against their plan
    change = offered["phone"].sum() / fc["phone"].sum() - 1
    line = pva.pack_commentary(res)[0]
    assert f"volume {abs(change) * 100:.1f}% {'above' if change >= 0 else 'below'} forecast" in line, line


def test_an_intervals_table_that_starts_and_ends_inside_the_month_bounds_the_plan(tmp_path):
    """From an intervals table: the data run from the first interval's start to the last one's end; a planned
    interval inside that span with no row is a zero-contact interval. By hand: plan 10 contacts at 09:00,
    09:30 and 10:00 from Friday 2 to Wednesday 7 January; data 09:00-10:00 on the 5th and 6th."""
    rows = ["interval_start,interval_minutes,channel,queue,offered,handled,abandoned,answered_within_threshold,"]
    rows[0] += "threshold_s,wait_s_total,handle_s_total"
    for start, n in (
        ("2026-01-05T09:00", 10),
        ("2026-01-05T09:30", 12),
        ("2026-01-06T09:00", 8),
        ("2026-01-06T09:30", 9),
    ):
        rows.append(f"{start},30,phone,Q,{n},{n - 1},1,{n - 2},30,{20 * n},{300 * (n - 1)}")
    (tmp_path / "intervals.csv").write_text("\n".join(rows) + "\n")
    plan = ["interval_start,interval_minutes,channel,queue,forecast_offered,forecast_aht_s,planned_agents"]
    for day in pd.date_range("2026-01-02", "2026-01-07"):
        for hm in ("09:00", "09:30", "10:00"):
            plan.append(f"{day:%Y-%m-%d}T{hm},30,phone,Q,10,300,3")
    (tmp_path / "interval_plan.csv").write_text("\n".join(plan) + "\n")
    (tmp_path / "agents.csv").write_text("agent_id,name,hire_date\nA1,Ann,2020-01-01\n")
    (tmp_path / "clients.csv").write_text("client_id,client_name,sla_profile\nC1,Acme,gold\n")
    res = va.variance_for_source(open_source(str(tmp_path)), load_params(None), "2026-01")
    q = res.records[res.records["queue"] == "Q"].iloc[0]
    # 5 intervals: 09:00, 09:30, 10:00 on the 5th (10:00 planned, no row: no contacts), 09:00, 09:30 on the 6th
    assert q["intervals"] == 5 and q["forecast_offered"] == 50.0 and q["offered"] == 39.0
    assert q["volume_change"] == pytest.approx(39 / 50 - 1)
    assert q["planned_agent_hours"] == pytest.approx(5 * 3 * 0.5)
    assert "plan compared from 2026-01-05 09:00, where the data starts" in res.notes
    assert (
        "plan compared up to 2026-01-06 10:00, where the data ends (130 planned contacts outside the data left out)"
        in res.notes
    )
    assert res.span == va.DataSpan(
        pd.Timestamp("2026-01-05 09:00"), pd.Timestamp("2026-01-06 09:30"), pd.Timestamp("2026-01-06 10:00")
    )


def test_a_row_of_the_hour_the_clocks_go_back_is_an_hour_long(tmp_path):
    """The contract merges the two passes of the repeated hour into one row (counts summed, agents averaged):
    01:00 and 01:30 on Sunday 2 November 2025 in New York are each an hour of real time. Read as 30 minutes,
    a probe's night queue (10 calls every half hour, 5 agents) had a planned service level of 0.85 against
    Erlang's 0.98 and half its agent hours. By hand: rows 00:30, 01:00, 01:30, 02:00 of 10, 20, 20, 10 calls
    over 30, 60, 60, 30 minutes; 5 agents: 15 agent hours; the service level by Erlang per row, weighted by
    contacts."""
    slots = (("00:30", 10, 1800), ("01:00", 20, 3600), ("01:30", 20, 3600), ("02:00", 10, 1800))
    rows = ["interval_start,interval_minutes,channel,queue,offered,handled,abandoned,answered_within_threshold,"]
    rows[0] += "threshold_s,wait_s_total,handle_s_total"
    plan = ["interval_start,interval_minutes,channel,queue,forecast_offered,forecast_aht_s,planned_agents"]
    for hm, n, _ in slots:
        rows.append(f"2025-11-02T{hm},30,phone,Night,{n},{n},0,{n},30,{5 * n},{300 * n}")
        plan.append(f"2025-11-02T{hm},30,phone,Night,{n},300,5")
    (tmp_path / "intervals.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "interval_plan.csv").write_text("\n".join(plan) + "\n")
    (tmp_path / "agents.csv").write_text("agent_id,name,hire_date\nA1,Ann,2020-01-01\n")
    (tmp_path / "clients.csv").write_text("client_id,client_name,sla_profile\nC1,Acme,gold\n")
    params = load_params(None)
    res = va.variance_for_source(open_source(str(tmp_path), "America/New_York"), params, "2025-11")
    q = res.records[res.records["queue"] == "Night"].iloc[0]
    assert q["planned_agent_hours"] == pytest.approx(15.0) and q["forecast_offered"] == 60
    v = np.array([n for _, n, _ in slots], float)
    length = np.array([s for _, _, s in slots], float)
    answer = va.service_thresholds(params)["phone"]
    sl = erlang_a_service_level(np.full(4, 5.0), v, np.full(4, 300.0), length, np.full(4, answer), np.full(4, np.inf))
    assert q["planned_sl"] == pytest.approx(float((v * sl).sum() / v.sum()), abs=1e-9)
    assert q["planned_sl"] > 0.95  # as 30 minutes: 0.85
    starts = pd.Series(pd.to_datetime(["2025-11-02 00:30", "2025-11-02 01:00", "2025-11-02 01:59", "2025-03-09 02:30"]))
    assert va.real_minutes(starts, 30, "America/New_York").tolist() == [30, 60, 60, 30]


def test_a_renamed_queue_is_named_in_the_sentence_that_states_the_channels_volume(sample_dir, tmp_path):
    """The plan has Debit Card; from 15 February its contacts come on 'Debit Cards', which has no plan. The
    all-queues record holds the planned queues' plan and contacts only (by hand), and the pack's sentence, the
    SLA table and its waterfall say so, naming the queues left out and the planned one without contacts."""
    import shutil

    ren = tmp_path / "renamed"
    shutil.copytree(sample_dir, ren)
    lines = (ren / "contacts.csv").read_text().splitlines(keepends=True)
    out = [lines[0]]
    for ln in lines[1:]:
        cells = ln.split(",")
        if cells[2] == SURGE_QUEUE and cells[4][:10] >= "2025-02-15":
            cells[2] = SURGE_QUEUE + "s"
        out.append(",".join(cells))
    (ren / "contacts.csv").write_text("".join(out))
    offered, _ = _offered_by_hand(ren)
    params = load_params(None)
    src = open_source(str(ren), "America/New_York")
    res = va.variance_for_source(src, params, MONTH)
    phone_line, chat_line = pva.pack_commentary(res)
    # the plan's threshold named: the pack's service table measures chat at another (a probe: 91.1% beside 90.4%)
    answer = va.service_thresholds(params)
    assert phone_line.startswith(f"Phone service level in {answer['phone']:g} s "), phone_line
    assert chat_line.startswith(f"Chat service level in {answer['chat']:g} s "), chat_line
    for ch, line in (("phone", phone_line), ("chat", chat_line)):
        n = offered[(ch, "Debit Cards")]
        assert line.endswith(
            f" (queues with contacts but no plan left out: Debit Cards with {n:,.0f} contacts; "
            f"planned but without contacts: {SURGE_QUEUE})."
        ), line
        allr = res.records[(res.records["channel"] == ch) & (res.records["queue"] == "all")].iloc[0]
        assert allr["offered"] == offered[ch].drop("Debit Cards").sum()
    assert (
        f"left out, contacts but no plan: chat/Debit Cards ({offered[('chat', 'Debit Cards')]:,.0f} contacts), "
        f"phone/Debit Cards ({offered[('phone', 'Debit Cards')]:,.0f} contacts); the all-queues figures are over "
        "the planned queues"
    ) in res.notes
    assert list(res.unplanned["queue"]) == ["Debit Cards", "Debit Cards"]
    sla = pva.sla_section(src, params, MONTH)
    assert (sla["table"]["queue"] == "all planned queues").sum() == 2 and not (sla["table"]["queue"] == "all").any()
    assert sla["figures"][0].layout.title.text == "Phone — all planned queues: plan vs actual"
    assert "phone/Debit Cards (" in sla["caption"]
    # every queue with contacts planned: the sentence as before
    whole = va.variance_for_source(open_source(str(sample_dir), "America/New_York"), params, MONTH)
    assert not any("(" in line.split("%)")[-1] for line in pva.pack_commentary(whole))
    assert whole.unplanned.empty and not [note for note in whole.notes if "plan compared" in note]


def test_schedule_vintages_archives_each_forecast_and_plan_vs_actual_reads_it(sample_dir, tmp_path, capsys):
    """`--vintages DIR` named a folder nothing wrote: the forecast report archived only when Python code asked.
    With schedule.vintages set, the month's forecast (the forecast report's, in a run) is archived there and
    plan vs actual of the next month, without an interval_plan table, reads it with no flag."""
    import shutil

    from reportlib.reports import queries

    bare = tmp_path / "noplan"
    shutil.copytree(sample_dir, bare)
    (bare / "interval_plan.csv").unlink()
    vint = tmp_path / "vintages"
    pfile = tmp_path / "p.yaml"
    pfile.write_text(f"schedule:\n  vintages: {vint}\n")
    params = load_params(str(pfile))
    # outside `reportlib run` (a notebook explored in JupyterLab, perhaps on other data): nothing is archived
    queries.month_forecast(open_source(str(bare), "America/New_York"), params, "2025-02")
    assert not vint.exists()
    from reportlib.delivery.run import shared_results

    with shared_results():  # as inside `reportlib run` (a fresh source: the first one remembers its forecast)
        queries.month_forecast(open_source(str(bare), "America/New_York", afresh=True), params, "2025-02")
    made = sorted(p.name for p in vint.glob("*.parquet"))
    assert len(made) == 1 and made[0].startswith("forecast_2025-02-28_")  # origin: February's last day of data
    assert main(["variance", "--data", str(bare), "--month", MONTH, "--params", str(pfile)]) == 0
    assert "the forecast vintage made on 2025-02-28, archived " in capsys.readouterr().err
    # a file in the folder that is no vintage (cut short, empty) is left out and named, not a failed report
    (vint / "forecast_2025-02-15_junk.parquet").write_bytes(b"")
    assert main(["variance", "--data", str(bare), "--month", MONTH, "--params", str(pfile)]) == 0
    err = capsys.readouterr().err
    assert "the forecast vintage made on 2025-02-28" in err
    assert "forecast_2025-02-15_junk.parquet is not a readable forecast vintage" in err and "left out" in err
    # the reports' plan vs actual reads the same folder
    assert pva.month_variance(open_source(str(bare), "America/New_York"), params, MONTH).plan_source.startswith(
        "the forecast vintage made on 2025-02-28"
    )


def test_a_vintage_folder_that_cannot_be_written_leaves_the_forecast_and_says_so(sample_dir, tmp_path):
    from reportlib.reports import queries

    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    pfile = tmp_path / "p.yaml"
    pfile.write_text(f"schedule:\n  vintages: {blocked}\n")
    from reportlib.delivery.run import shared_results

    with shared_results():  # archived by a run alone
        report = queries.month_forecast(
            open_source(str(sample_dir), "America/New_York"), load_params(str(pfile)), "2025-02"
        )
    assert len(report["forecast"]) > 0  # the forecast report is not failed by its archive
    assert any(n.startswith(f"this forecast was not archived in {blocked}") for n in report["notes"])


def test_each_service_level_names_the_threshold_it_is_counted_at(source):
    """The pack showed chat's service level at the operation's 30 s beside plan vs actual's at the capacity
    plan's 60 s (90.3% and 91.1% for one month) with nothing to tell them apart: each caption now says."""
    from reportlib.core.params import deep_merge
    from reportlib.reports import queries

    params = deep_merge(load_params(None), {"sl_threshold_s": 20, "reports": {"email_threshold_h": 6}})
    params["capacity"]["service_targets"]["chat"]["answer_s"] = 45
    assert queries.service_level_basis(params) == (
        "Service level: phone and chat answered within 20 s; email within each client's contract business hours "
        "(6 where a contract sets none)."
    )
    caption = pva.pack_section(source, params, MONTH)["caption"]
    phone = params["capacity"]["service_targets"]["phone"]["answer_s"]
    assert f"Service level here: answered within {phone:g} s (phone), 45 s (chat), the capacity plan's targets." in (
        caption
    )


def test_an_empty_scheduled_agents_cell_is_named_not_a_silent_blank(sample_dir, tmp_path):
    """One interval_staffing row with scheduled_agents left empty: the schedule/attendance split of its queue and
    of the channel's total went empty with no word (a fuzz probe). The note names the rows and queues now; the
    other queues keep their split."""
    import shutil

    folder = tmp_path / "d"
    shutil.copytree(sample_dir, folder)
    st = pd.read_csv(folder / "interval_staffing.csv", dtype=str, keep_default_na=False)
    row = st.index[
        (st["channel"] == "phone") & (st["queue"] == SURGE_QUEUE) & st["interval_start"].str.startswith(MONTH)
    ][0]
    st.loc[row, "scheduled_agents"] = ""
    st.to_csv(folder / "interval_staffing.csv", index=False)
    params = load_params(None)
    res = va.variance_for_source(open_source(str(folder), "America/New_York"), params, MONTH)
    assert (
        f"scheduled_agents is empty in 1 row of interval_staffing (phone/{SURGE_QUEUE}): staffing is not split "
        "into schedule and attendance for those queues and their channel's total"
    ) in res.notes
    rec = res.records.set_index(["channel", "queue"])
    assert np.isnan(rec.loc[("phone", SURGE_QUEUE), "effect_schedule"])
    others = rec.drop(index=[("phone", SURGE_QUEUE), ("phone", "all")])
    assert others["effect_schedule"].notna().all()
    whole = va.variance_for_source(open_source(str(sample_dir), "America/New_York"), params, MONTH)
    assert not [n for n in whole.notes if "scheduled_agents" in n]


def test_a_day_missing_from_the_staffing_export_is_named_with_the_contacts_handled_on_it(sample_dir, tmp_path):
    """Every interval_staffing row of Tuesday 18 March 2025 deleted: the day read as nobody on, a staffing shortfall
    nothing explained (a probe). The note names the day and the contacts handled on it, counted by hand here."""
    import shutil

    folder = tmp_path / "d"
    shutil.copytree(sample_dir, folder)
    st = pd.read_csv(folder / "interval_staffing.csv", dtype=str, keep_default_na=False)
    st[~st["interval_start"].str.startswith("2025-03-18")].to_csv(folder / "interval_staffing.csv", index=False)
    src = open_source(str(folder), "America/New_York")
    res = va.variance_for_source(src, load_params(None), MONTH)
    c = src.frame("contacts")
    day = c[(c["arrived_at"].dt.strftime("%Y-%m-%d") == "2025-03-18") & c["channel"].isin(["phone", "chat"])]
    handled = int((day["outcome"] == "handled").sum())
    queues = day.loc[day["outcome"] == "handled", ["channel", "queue"]].drop_duplicates()
    planned = res.intervals[["channel", "queue"]].drop_duplicates()
    n = len(queues.merge(planned))
    assert (
        "interval_staffing has no row on 1 day when its queues handled contacts, read as nobody on (a staffing "
        f"shortfall; if the export missed the day, add its rows): 2025-03-18 ({handled:,} handled in {n} queues)"
    ) in res.notes, res.notes
    whole = va.variance_for_source(open_source(str(sample_dir), "America/New_York"), load_params(None), MONTH)
    assert not [x for x in whole.notes if "no row on" in x]


def test_a_planned_queue_that_falls_silent_mid_month_is_named(sample_dir, tmp_path):
    """Debit Card's contacts renamed "Debit Cards" from 15 March 2025: the new name was said to have no plan, and
    the old one's plan for the rest of the month was set against nothing, unsaid (a probe). The note names the old
    queue, its last contact and the contacts its plan expected after it, counted here from the plan; the sample
    as generated has no such note."""
    import shutil

    folder = tmp_path / "d"
    shutil.copytree(sample_dir, folder)
    c = pd.read_csv(folder / "contacts.csv", dtype=str, keep_default_na=False)
    moved = (c["queue"] == "Debit Card") & (c["arrived_at"] >= "2025-03-15")
    c.loc[moved, "queue"] = "Debit Cards"
    c.to_csv(folder / "contacts.csv", index=False)
    src = open_source(str(folder), "America/New_York")
    res = va.variance_for_source(src, load_params(None), MONTH)
    kept = src.frame("contacts")
    last = kept.loc[(kept["queue"] == "Debit Card") & (kept["channel"] == "phone"), "arrived_at"].max().floor("30min")
    plan = src.frame("interval_plan")
    after = plan[(plan["queue"] == "Debit Card") & (plan["channel"] == "phone") & (plan["interval_start"] > last)]
    after = after[after["interval_start"] < pd.Timestamp("2025-04-01")]
    assert (
        f"phone/Debit Card had no contact after {last:%Y-%m-%d %H:%M} where its plan expected "
        f"{after['forecast_offered'].sum():,.0f} more: renamed or closed? Its plan after then is still set against "
        "its contacts"
    ) in res.notes, res.notes
    whole = va.variance_for_source(open_source(str(sample_dir), "America/New_York"), load_params(None), MONTH)
    assert not [x for x in whole.notes if "had no contact after" in x]


def test_plan_vs_actual_is_remembered_per_parameter_set(sample_dir):
    """A warm kernel reuses a source while its files are unchanged; plan vs actual was remembered on it by month
    alone, so a rerun with another capacity target showed the first run's figures (a review)."""
    import copy

    src = open_source(str(sample_dir), "America/New_York", afresh=True)
    base = load_params(None)
    other = copy.deepcopy(base)
    other["capacity"]["service_targets"]["chat"]["answer_s"] = 45
    first = pva.month_variance(src, base, MONTH)
    second = pva.month_variance(src, other, MONTH)

    def chat_threshold(v):
        return set(v.intervals.loc[v.intervals["channel"] == "chat", "answer_s"])

    assert chat_threshold(second) == {45} != chat_threshold(first)
    assert chat_threshold(pva.month_variance(src, base, MONTH)) == chat_threshold(first)  # not the last set's


def test_the_run_facts_name_the_plan_tables_the_page_reads(sample_dir):
    """The pack's plan-vs-actual section reads interval_plan and interval_staffing: its run facts list them (a
    newcomer's probe found five tables named, not the plan's); a client's review still names its own tables only."""
    from reportlib.reports import views

    facts = views.start_report("monthly_pack", month=MONTH, data=str(sample_dir)).facts()
    assert {"interval_plan", "interval_staffing", "contacts", "agents"} <= set(facts["tables"])
    client = views.start_report("client_review", month=MONTH, data=str(sample_dir), client_id="C001").facts()
    assert "agents" not in client["tables"] and "interval_staffing" not in client["tables"]
