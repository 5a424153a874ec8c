"""Per-series method selection (issue 12): weekday-only operations, level shifts, closed holidays and
their catch-up day, export gaps, the nested backtest's honesty and the command-line path from an
intervals table."""

from __future__ import annotations

import io
import json
import math
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pandas as pd
import pytest

from reportlib.core.errors import ReportlibError
from reportlib.planning import forecast as fc
from reportlib.planning import forecast_select as fs

US = fc.Calendar(
    country="US",
    closed=("New Year's Day", "Memorial Day", "Independence Day", "Labor Day", "Thanksgiving", "Christmas Day"),
    eves=False,
)
SHAPE = np.array([1.25, 1.05, 1.0, 0.95, 0.8])  # Monday..Friday, relative to the mean weekday


def _weekday_series(
    start: str,
    end: str,
    base: float,
    seed: int,
    shift_at: str | None = None,
    shift: float = 1.0,
    holidays: fc.Calendar = US,
) -> tuple[pd.DataFrame, pd.Series]:
    """Weekday-only rows (no weekend rows, none on closed holidays) with Poisson volume of mean
    base x SHAPE[weekday] (x shift from shift_at on); returns (daily frame, the true mean per day)."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range(start, end)
    closed = fc.calendar_features(dates, holidays)["holiday_closed"].to_numpy(bool)
    dates = dates[~closed]
    mu = base * SHAPE[dates.dayofweek]
    if shift_at is not None:
        mu = np.where(dates >= pd.Timestamp(shift_at), mu * shift, mu)
    daily = pd.DataFrame(
        {"date": dates, "channel": "phone", "queue": "Benefits", "volume": rng.poisson(mu).astype(float)}
    )
    return daily, pd.Series(mu, index=dates)


def test_weekday_only_series_with_a_level_shift_is_forecast_within_tolerance():
    """26 weeks of Monday-Friday rows (no weekend rows), a 30% step up 6 weeks before the end: the next
    20 business days are within 10% (WAPE against the true mean) of the true shifted weekly shape;
    weekends and closed holidays are forecast 0. Poisson noise alone on 500 a day is ~3.6% per day."""
    daily, _ = _weekday_series("2025-03-03", "2025-08-29", 500.0, 1, shift_at="2025-07-21", shift=1.3)
    f, sel, notes = fs.forecast_selected(daily, US, 28)
    assert not notes  # nothing missing, enough history
    f = f.set_index("date")
    open_days = f.index[f.index.dayofweek < 5]
    open_days = open_days[~fc.calendar_features(open_days, US)["holiday_closed"].to_numpy(bool)]
    truth = 1.3 * 500.0 * SHAPE[open_days.dayofweek]
    wape = np.abs(f.loc[open_days, "forecast"].to_numpy() - truth).sum() / truth.sum()
    assert wape < 0.10, (wape, sel["method"].iloc[0])
    weekend = f.index.dayofweek >= 5
    assert (f.loc[weekend, "forecast"] == 0).all() and (f.loc[weekend, "upper"] == 0).all()
    labor_day = pd.Timestamp("2025-09-01")  # closed
    assert f.loc[labor_day, "forecast"] == 0
    # the weekly shape comes back: Monday over Friday within 10% of 1.25 / 0.8
    mon = f.loc[f.index.dayofweek == 0, "forecast"].drop(labor_day, errors="ignore").mean()
    fri = f.loc[f.index.dayofweek == 4, "forecast"].mean()
    assert abs(mon / fri / (1.25 / 0.8) - 1) < 0.10
    assert sel["history_days"].iloc[0] > 100 and sel["method"].iloc[0]


def test_catch_up_spike_after_a_closed_holiday_moves_next_month_by_at_most_two_percent():
    """A one-day spike (3x) on the Friday after Thanksgiving (closed) changes December's forecast total by
    no more than 2%: the catch-up day is a special day the same-weekday averages skip."""
    daily, _ = _weekday_series("2025-05-05", "2025-11-28", 400.0, 2)
    spiked = daily.copy()
    friday = spiked["date"] == pd.Timestamp("2025-11-28")
    assert friday.any()
    spiked.loc[friday, "volume"] *= 3
    base = fs.forecast_selected(daily, US, 31)[0]
    moved = fs.forecast_selected(spiked, US, 31)[0]
    dec = base["date"].dt.month == 12
    change = abs(moved.loc[dec, "forecast"].sum() / base.loc[dec, "forecast"].sum() - 1)
    assert change <= 0.02, change
    feats = fc.calendar_features(pd.date_range("2025-11-26", "2025-12-02"), US)
    assert feats.loc["2025-11-28", "holiday_after_closed"] == 1 and feats["holiday_after_closed"].sum() == 1


def test_missing_export_days_are_reported_and_not_read_as_zero(tmp_path, monkeypatch):
    """Ten business days without rows in the middle of the history are named as missing (not zero
    contacts) and the forecast does not drop: within 3% of the forecast from the complete export, while
    reading them as zeros would pull a 4-week average down by a half."""
    daily, _ = _weekday_series("2025-03-03", "2025-08-29", 500.0, 3)
    gap = pd.bdate_range("2025-08-11", "2025-08-22")
    cut = daily[~daily["date"].isin(gap)]
    gaps = fs.export_gaps(cut, US)
    assert list(gaps["date"]) == list(gap)
    assert (gaps["reason"] == "no rows in the export").all()
    # weekends (no rows on any weekend) and closed holidays are closed days, not gaps
    assert not gaps["date"].dt.dayofweek.ge(5).any() and pd.Timestamp("2025-07-04") not in set(gaps["date"])
    full = fs.forecast_selected(daily, US, 28)[0]
    f, _, notes = fs.forecast_selected(cut, US, 28)
    assert any("missing from the export" in n and "2025-08-11..2025-08-22" in n for n in notes)
    assert abs(f["forecast"].sum() / full["forecast"].sum() - 1) < 0.03
    # through the command line from an intervals table: the note on stderr, records on stdout
    folder = _intervals_folder(tmp_path, cut)
    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    code, out, err = _run(["forecast", "--data", str(folder), "--horizon-days", "28"])
    assert code == 0 and "missing from the export" in err and "2025-08-11..2025-08-22" in err
    records = pd.DataFrame(json.loads(out))
    assert abs(records["forecast"].sum() / full["forecast"].sum() - 1) < 0.03


def test_a_choice_is_remembered_per_candidate_list():
    """Asked again at the same origin with fewer candidates, the selector chooses among those (as a new
    selector does), not the choice it remembered for the whole list."""
    daily, _ = _weekday_series("2024-09-02", "2025-08-29", 300.0, 4)
    s = fc.daily_series(daily)[0][2]
    origin = len(s) - 30
    m = fs.SeriesSelector(s.index, s.to_numpy(), US, 28)
    whole = m.choose(origin)
    few = ("seasonal_naive", "holiday_median")
    again = m.choose(origin, few)
    fresh = fs.SeriesSelector(s.index, s.to_numpy(), US, 28).choose(origin, few)

    def named(choice):  # the candidates a choice scored (an average is named "mean:a+b+c")
        return {part for key in choice.wape_inner for part in key.split(":")[-1].split("+")}

    assert named(again) <= set(few) < named(whole)
    assert again.method == fresh.method and again.wape_inner == fresh.wape_inner


@pytest.mark.parametrize("margin", ["tie", "nested", "nested_avg"])
def test_the_choice_never_uses_data_after_its_origin(margin):
    """Poison everything after an origin (x5 and noise): the methods' inner scores, the choice, its interval
    quantiles, the nested track record (baseline_margin="nested"/"nested_avg": the choices made at the inner
    origins) and the forecast made at that origin are unchanged."""
    daily, _ = _weekday_series("2024-09-02", "2025-08-29", 300.0, 4, shift_at="2025-06-02", shift=0.8)
    s = fc.daily_series(daily)[0][2]
    origin = len(s) - 60
    poisoned = s.copy()
    rng = np.random.default_rng(9)
    poisoned.iloc[origin + 1 :] = poisoned.iloc[origin + 1 :] * 5 + rng.integers(0, 500, len(s) - origin - 1)
    sel = fs.SelectionConfig(baseline_margin=margin)
    a = fs.SeriesSelector(s.index, s.to_numpy(), US, 28, sel=sel)
    b = fs.SeriesSelector(poisoned.index, poisoned.to_numpy(), US, 28, sel=sel)
    ca, cb = a.choose(origin), b.choose(origin)
    assert ca.method == cb.method and ca.wape_inner == cb.wape_inner and ca.nested == cb.nested
    assert all(i < origin for i, _ in a._choices if i != origin)  # only earlier origins were chosen on the way
    assert np.array_equal(ca.quantiles, cb.quantiles)
    for x, y in zip(a.bounds(origin, 28, ca), b.bounds(origin, 28, cb)):
        assert np.array_equal(x, y)
    # and the poison is visible later: the choice at the last origin differs in its scores
    assert a.choose(len(s) - 1).wape_inner != b.choose(len(s) - 1).wape_inner


def test_short_history_falls_back_to_the_holiday_aware_median_and_says_so():
    daily, _ = _weekday_series("2025-07-07", "2025-08-29", 200.0, 5)  # 8 weeks
    f, sel, notes = fs.forecast_selected(daily, US, 14)
    assert sel["method"].iloc[0] == fs.FALLBACK
    assert any("too short to compare methods" in n for n in notes)
    # the fallback is the median of the last 4 same weekdays, holidays skipped (by hand for a Tuesday)
    s = daily.set_index("date")["volume"]
    tue = s[s.index.dayofweek == 1].iloc[-4:]
    first_tue = f[f["date"].dt.dayofweek == 1].iloc[0]
    assert first_tue["forecast"] == pytest.approx(float(np.median(tue)))
    # the days counted as the too-short messages count them, the missing ones said (a probe read "32 days" here
    # and "33 days" from the backtest of one folder)
    span = (daily["date"].max() - daily["date"].min()).days + 1
    gapped = daily[daily["date"] != pd.Timestamp("2025-08-13")]  # a Wednesday the export lost
    _, _, notes = fs.forecast_selected(gapped, US, 14)
    assert any(f"{span} days of history (1 of them missing from the export): too short" in n for n in notes), notes
    assert (f["lower"] <= f["forecast"]).all() and (f["forecast"] <= f["upper"]).all()


def test_interval_quantiles_use_conformal_ranks():
    e = np.arange(1, 20, dtype=float) - 10  # -9..9, n = 19: ranks floor(0.1 * 20) = 2 and ceil(0.9 * 20) = 18
    lo, hi = fs.conformal_quantiles(e, 0.8)
    assert (lo, hi) == (-8.0, 8.0)


def test_winkler_score_by_hand():
    # interval [10, 20], alpha 0.2: inside -> width 10; actual 5 -> 10 + 2/0.2 * 5 = 60; 26 -> 10 + 10 * 6 = 70
    w = fs.winkler_scores(np.array([15.0, 5.0, 26.0]), np.full(3, 10.0), np.full(3, 20.0), 0.8)
    assert np.allclose(w, [10.0, 60.0, 70.0])


def _intervals_folder(tmp_path, daily: pd.DataFrame):
    """An intervals table (30-minute rows 08:00-17:30) whose days add up to the daily volumes."""
    rows = []
    rng = np.random.default_rng(0)
    for d, q, v in zip(daily["date"], daily["queue"], daily["volume"]):
        split = rng.multinomial(int(v), np.full(20, 1 / 20))
        for k in range(20):
            start = pd.Timestamp(d) + pd.Timedelta(hours=8, minutes=30 * k)
            rows.append((f"{start:%Y-%m-%d %H:%M}", 30, "phone", q, float(split[k])))
    folder = tmp_path / "data"
    folder.mkdir()
    pd.DataFrame(rows, columns=["interval_start", "interval_minutes", "channel", "queue", "offered"]).to_csv(
        folder / "intervals.csv", index=False
    )
    return folder


def _run(argv) -> tuple[int, str, str]:
    from reportlib.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_cli_from_an_intervals_table_weekday_only_short_history(tmp_path, monkeypatch):
    """The held-out path: an intervals table of a Monday-Friday desk (no weekend rows, US holidays closed
    per a calendar overlay), six months of history -> `reportlib forecast --backtest` gives per series the
    chosen method, every baseline, coverage, width and Winkler score, and the selection is at or below the
    best simple baseline here."""
    daily, _ = _weekday_series("2025-03-03", "2025-08-29", 450.0, 6)
    folder = _intervals_folder(tmp_path, daily)
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(
        'calendar:\n  holidays:\n    country: US\n    closed: ["New Year\'s Day", "Memorial Day", '
        '"Independence Day", "Labor Day", "Thanksgiving", "Christmas Day"]\n'
    )
    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    code, out, err = _run(["forecast", "--data", str(folder), "--backtest", "--params", str(overlay)])
    assert code == 0, err
    row = json.loads(out)[0]
    for key in (
        "model",
        "wape",
        "wape_seasonal_naive",
        "wape_seasonal_mean",
        "mase",
        "origins",
        "horizon_days",
        "wape_holiday_mean",
        "wape_holiday_median",
        "wape_seasonal_median",
        "best_baseline",
        "coverage",
        "width",
        "winkler",
        "method",
        "methods",
        "history_days",
        "missing_days",
    ):
        assert key in row, key
    assert row["horizon_days"] == 28 and row["origins"] >= 8 and row["missing_days"] == 0
    assert row["wape"] <= row["wape_best_baseline"] + 0.005
    assert 0.6 <= row["coverage"] <= 0.98
    code, out, err = _run(["forecast", "--data", str(folder), "--params", str(overlay)])
    assert code == 0
    rec = pd.DataFrame(json.loads(out))
    assert (rec.loc[pd.to_datetime(rec["date"]).dt.dayofweek >= 5, "forecast"] == 0).all()


def test_a_new_queue_with_three_weeks_of_history_does_not_stop_the_others():
    """A queue that started 3 weeks ago gets the holiday-aware median (said so) while an established one is
    forecast by selection; a queue of 4 days is named and left out."""
    old, _ = _weekday_series("2025-03-03", "2025-08-29", 300.0, 7)
    new, _ = _weekday_series("2025-08-11", "2025-08-29", 80.0, 8)
    tiny, _ = _weekday_series("2025-08-26", "2025-08-29", 10.0, 9)
    daily = pd.concat([old, new.assign(queue="New client"), tiny.assign(queue="Pilot")], ignore_index=True)
    f, sel, notes = fs.forecast_selected(daily, US, 14)
    by = sel.set_index("queue")
    assert by.loc["New client", "method"] == fs.FALLBACK and by.loc["Benefits", "method"] != fs.FALLBACK
    assert set(f["queue"]) == {"Benefits", "New client"}
    assert any("New client" in n and "too short" in n for n in notes)
    assert any("Pilot" in n and "not forecast" in n for n in notes)


def test_a_level_shift_is_detected_the_level_restarted_and_the_choice_beats_every_baseline():
    """Monday-Friday Poisson series (mean 400 x weekday shape), a 40% step up 7 weeks before the end: in the
    nested backtest (weekly origins over the last 3 months, 28 days ahead) the chosen forecast's WAPE is at or
    below the best simple baseline's; the step is detected at the first origin a business week after it
    (restart named in the note, the level taken from the days since the step); a series without a step never
    raises the alarm."""
    daily, _ = _weekday_series("2024-09-02", "2025-10-31", 400.0, 11, shift_at="2025-09-15", shift=1.4)
    bt = fs.nested_backtest(daily, US, 28, 3)
    row = bt.summary.iloc[0]
    assert row["wape"] <= row["wape_best_baseline"], row[["wape", "wape_best_baseline"]].to_dict()
    restarts = bt.errors.loc[bt.errors["method"] == "recent_level_restart", "origin"].unique()
    assert len(restarts) >= 1 and pd.Timestamp(restarts.min()) >= pd.Timestamp("2025-09-19")
    s = fc.daily_series(daily)[0][2]
    m = fs.SeriesSelector(s.index, s.to_numpy(), US, 28)
    o = int((pd.Timestamp(restarts.min()) - s.index[0]).days)
    c = m.choose(o)
    assert c.method == "recent_level_restart" and "level shift detected from 2025-09-1" in c.note
    f = m.forecast("recent_level_restart", o, 28)
    fut = m.dates[o + 1 : o + 29]
    open_ = (fut.dayofweek < 5) & (f > 0)
    truth = 1.4 * 400.0 * SHAPE[fut.dayofweek[open_]]
    assert np.abs(f[open_] - truth).sum() / truth.sum() < 0.08  # the old level would be 29% off
    flat, _ = _weekday_series("2024-09-02", "2025-10-31", 400.0, 12)
    s = fc.daily_series(flat)[0][2]
    m = fs.SeriesSelector(s.index, s.to_numpy(), US, 28)
    assert all(m.level_shift(o) is None for o in range(len(s) - 120, len(s)))


def test_the_choice_is_a_simple_baseline_unless_it_beats_them_on_the_inner_origins():
    """At every origin, a chosen method that is not a simple baseline beats the best baseline's inner WAPE by
    more than the near-tie margin; switched off, the same series keeps the combinations."""
    daily, _ = _weekday_series("2025-01-06", "2025-10-31", 250.0, 13)
    s = fc.daily_series(daily)[0][2]
    m = fs.SeriesSelector(s.index, s.to_numpy(), US, 28)
    off = fs.SeriesSelector(s.index, s.to_numpy(), US, 28, sel=fs.SelectionConfig(baseline_rule=False))
    for o in range(len(s) - 91, len(s), 7):
        c = m.choose(o)
        best = min(c.wape_inner[b] for b in fs.SIMPLE)
        if c.method in fs.SIMPLE:  # the first simple rule within the near tie of the best one
            assert c.method == _first_within_tie(c, m.sel.tie)
            assert off.choose(o).wape_inner[off.choose(o).method] * (1 + m.sel.tie) >= best
        else:
            assert c.wape_inner[c.method] * (1 + m.sel.tie) < best


def _first_within_tie(choice, tie: float) -> str:
    """The simple rule the baseline rule falls back on: the first (in fs.SIMPLE) within the near tie of the best."""
    best = min(choice.wape_inner[b] for b in fs.SIMPLE)
    return next(b for b in fs.SIMPLE if choice.wape_inner[b] <= best * (1 + tie) + 1e-12)


@pytest.mark.parametrize("margin", ["nested", "nested_avg"])
def test_nested_margin_keeps_the_choice_only_when_its_own_track_record_beats_the_baseline(margin):
    """baseline_margin="nested": the procedure's record before an origin is recomputed by hand (at each inner
    origin the method chosen there, or with "nested_avg" the average proposed there before its baseline check,
    forecasting 1..28 days ahead up to the origin, summed day by day against the actual volume), the baseline's
    on the same days equals its inner WAPE, a choice made at an inner origin is the one a selector holding the
    data up to that origin only makes, and the choice is kept exactly when its record beats the best
    baseline's by the near-tie margin (both outcomes occur on this series)."""
    daily, _ = _weekday_series("2025-01-06", "2025-10-31", 250.0, 13, shift_at="2025-06-02", shift=1.15)
    s = fc.daily_series(daily)[0][2]
    sel = fs.SelectionConfig(baseline_margin=margin)
    m = fs.SeriesSelector(s.index, s.to_numpy(), US, 28, sel=sel)
    actual = s.to_numpy(float)
    kept = demoted = 0
    for o in range(len(s) - 91, len(s), 7):
        c = m.choose(o)
        if c.nested is None:  # a fallback, a level-shift restart, or an average that was a baseline already
            continue
        best = min(fs.SIMPLE, key=lambda b: (c.wape_inner[b], fs.SIMPLE.index(b)))  # what the record is set against
        bb = _first_within_tie(c, sel.tie)  # what the rule falls back on
        err_p = err_b = tot = 0.0
        for j in range(1, 13):
            i = o - 7 * j
            if i + 1 < sel.min_history_days:
                continue
            ci = m.choose(i)
            name = ci.proposed if margin == "nested_avg" else ci.method
            fp, fb = m.forecast(name, i, 28), m.forecast(best, i, 28)
            for k in range(min(28, o - i)):
                err_p += abs(actual[i + 1 + k] - fp[k])
                err_b += abs(actual[i + 1 + k] - fb[k])
                tot += actual[i + 1 + k]
        rec, base, n = c.nested
        assert (rec, base) == (pytest.approx(err_p / tot, rel=1e-12), pytest.approx(err_b / tot, rel=1e-12))
        assert base == pytest.approx(c.wape_inner[best], rel=1e-12)
        if c.method in fs.SIMPLE:
            assert c.method == bb and rec * (1 + sel.tie) >= base
            demoted += 1
        else:
            assert c.method == c.proposed and rec * (1 + sel.tie) < base
            kept += 1
    assert kept > 0 and demoted > 0
    # a choice made on the way, against a selector that holds the data up to that inner origin only
    i = len(s) - 91 - 7 * 5
    short = fs.SeriesSelector(s.index[: i + 1], actual[: i + 1], US, 28, sel=sel)
    assert short.choose(i).method == m.choose(i).method and short.choose(i).nested == m.choose(i).nested


def test_shrinkage_weight_by_hand():
    """Per-origin WAPE gains 0.1, 0.2, 0.3 of the chosen forecast over the baseline (each origin: one day,
    actual 10): t = 0.2 / (0.1 / sqrt 3) = 3.46, weight 1 - 1/t^2 = 11/12; gains that are noise around 0
    (|t| <= 1) or negative give the baseline (0); identical gains give the chosen forecast (1)."""
    a = np.full(3, 10.0)
    base = np.full(3, 5.0)
    blocks = np.array([7, 14, 21])
    chosen = base + np.array([1.0, 2.0, 3.0])  # |a - base| - |a - chosen| = 1, 2, 3 -> gains 0.1, 0.2, 0.3
    assert fs.shrinkage_weight(a, base, chosen, blocks) == pytest.approx(11 / 12)
    noise = base + np.array([1.0, -1.0, 0.5])  # gains 0.1, -0.1, -0.05: mean <= 0
    assert fs.shrinkage_weight(a, base, noise, blocks) == 0.0
    small = base + np.array([2.0, -1.5, 0.2])  # gains 0.2, -0.15, 0.02: t = 0.2
    assert fs.shrinkage_weight(a, base, small, blocks) == 0.0
    assert fs.shrinkage_weight(a, base, base + 1.0, blocks) == 1.0
    assert fs.shrinkage_weight(a[:1], base[:1], chosen[:1], blocks[:1]) == 0.0  # one origin: no evidence


def test_paired_gain_by_hand():
    """Per-origin WAPE gains 0.1, 0.2, 0.3 (each origin: one day, actual 10): mean 0.2, sd 0.1, standard error
    0.1 / sqrt 3; an origin without volume is left out; one origin: no standard error."""
    a = np.full(3, 10.0)
    base = np.full(3, 5.0)
    blocks = np.array([7, 14, 21])
    mean, se, n = fs.paired_gain(a, base, base + np.array([1.0, 2.0, 3.0]), blocks)
    assert (mean, se, n) == (pytest.approx(0.2), pytest.approx(0.1 / math.sqrt(3)), 3)
    a0 = np.array([10.0, 10.0, 10.0, 0.0])
    mean, se, n = fs.paired_gain(a0, np.full(4, 5.0), np.array([6.0, 7.0, 8.0, 3.0]), np.array([7, 14, 21, 28]))
    assert n == 3 and mean == pytest.approx(0.2)
    mean, se, n = fs.paired_gain(a[:1], base[:1], base[:1] + 1.0, blocks[:1])
    assert n == 1 and mean == pytest.approx(0.1) and math.isnan(se)


def test_unknown_baseline_margin_is_refused():
    """A misspelt baseline_margin is an error naming the known ones, not silently the default rule."""
    with pytest.raises(ValueError, match="unknown baseline_margin 'nested-avg'.*nested_avg"):
        fs.SelectionConfig(baseline_margin="nested-avg")
    assert all(fs.SelectionConfig(baseline_margin=m).baseline_margin == m for m in fs.BASELINE_MARGINS)


def test_one_standard_error_rule_keeps_a_method_only_when_its_gain_exceeds_its_noise():
    """With baseline_margin="se", a chosen method that is not a simple baseline beats the best inner baseline
    by more than one standard error of its paired per-origin gain (and by the near-tie margin)."""
    daily, _ = _weekday_series("2025-01-06", "2025-10-31", 250.0, 13, shift_at="2025-06-02", shift=1.15)
    s = fc.daily_series(daily)[0][2]
    m = fs.SeriesSelector(s.index, s.to_numpy(), US, 28, sel=fs.SelectionConfig(baseline_margin="se"))
    kept = 0
    for o in range(len(s) - 91, len(s), 7):
        c = m.choose(o)
        if c.method in fs.SIMPLE or not c.method.startswith("mean:"):
            continue
        kept += 1
        best = min(fs.SIMPLE, key=lambda b: (c.wape_inner[b], fs.SIMPLE.index(b)))
        a, fb, h, age = m._inner_errors_aged(best, o)
        fmix = np.concatenate([m.forecast(c.method, oo, min(28, o - oo)) for oo in m.inner_origins(o)])
        keep = np.concatenate([~m.missing[np.arange(oo + 1, oo + 1 + min(28, o - oo))] for oo in m.inner_origins(o)])
        gain, se, n = fs.paired_gain(a, fb, fmix[keep], age + h)
        best = min(c.wape_inner[b] for b in fs.SIMPLE)
        assert gain > se and c.wape_inner[c.method] * (1 + m.sel.tie) < best
    assert kept > 0


def test_shrunk_choice_is_the_baseline_moved_by_the_weight():
    """With shrink on, a non-baseline choice is 'shrink:w:baseline:average' and its forecast is exactly
    baseline + w (average - baseline), w in [0, 1]; its interval contains the forecast."""
    daily, _ = _weekday_series("2025-01-06", "2025-10-31", 250.0, 13, shift_at="2025-06-02", shift=1.15)
    s = fc.daily_series(daily)[0][2]
    m = fs.SeriesSelector(s.index, s.to_numpy(), US, 28, sel=fs.SelectionConfig(shrink=True))
    seen = 0
    for o in range(len(s) - 91, len(s), 7):
        c = m.choose(o)
        if not c.method.startswith("shrink:"):
            continue
        seen += 1
        _, w, base, chosen = c.method.split(":", 3)
        assert 0.0 <= float(w) <= 1.0 and base in fs.SIMPLE and chosen.startswith("mean:")
        fb, fm = m.forecast(base, o, 28), m.forecast(chosen, o, 28)
        np.testing.assert_allclose(m.forecast(c.method, o, 28), fb + float(w) * (fm - fb))
        f, lo, hi = m.bounds(o, 28, c)
        assert (lo <= f).all() and (f <= hi).all()
    assert seen > 0


def test_on_a_stationary_series_the_choice_is_at_or_below_every_baseline_and_calibrated():
    """Poisson volume around a fixed Monday-Friday shape, no holidays, no trend (inner evidence is only noise
    and the weekday means): over three seeds the nested backtest's WAPE is at or below the best simple
    baseline's and the 80% interval covers 70-90% of days."""
    flat = fc.Calendar(country=None)
    for seed in (3, 4, 5):
        daily, _ = _weekday_series("2025-01-06", "2025-12-19", 300.0, seed, holidays=flat)
        r = fs.nested_backtest(daily, flat, 28, 3).summary.iloc[0]
        assert r["wape"] <= r["wape_best_baseline"], (seed, r["wape"], r["wape_best_baseline"])
        assert 0.70 <= r["coverage"] <= 0.90, (seed, r["coverage"])


def test_kept_ets_parameters_give_the_same_forecast_without_estimating_again(tmp_path, monkeypatch):
    """A store filled by one run (ETS parameters by the content of the series) serves the next: the same
    forecast and choice with statsmodels' estimator unavailable; through the report's JSON file too, and a
    malformed file is an empty store."""
    from reportlib.planning import forecast_report as fr

    daily, _ = _weekday_series("2025-01-06", "2025-10-31", 250.0, 21)
    store: dict = {}
    f1, s1, _ = fs.forecast_selected(daily, US, 28, ets_store=store)
    assert store and all(len(v) == 3 for v in store.values())
    fr.save_ets_store(tmp_path, store)
    kept = fr.load_ets_store(tmp_path)
    assert kept == store

    def no_estimation(*args, **kwargs):
        raise AssertionError("ETS parameters estimated again")

    import statsmodels.tsa.holtwinters as hw  # forecast_select imports Holt from there when it estimates

    monkeypatch.setattr(hw, "Holt", no_estimation)
    f2, s2, _ = fs.forecast_selected(daily, US, 28, ets_store=kept)
    pd.testing.assert_frame_equal(f1, f2)
    pd.testing.assert_frame_equal(s1, s2)
    with pytest.raises(AssertionError, match="estimated again"):
        fs.forecast_selected(daily, US, 28, ets_store={})  # the estimate is really needed without the store
    (tmp_path / fr.ETS_STORE_FILE).write_text("{not json", encoding="utf-8")
    assert fr.load_ets_store(tmp_path) == {}


def test_a_week_missing_at_the_end_still_gives_a_forecast_on_every_day():
    """The export's last week missing (the recent-level method has no clean day to take a level from, so it has
    no forecast at the origin): the chosen forecast never averages it in; every day has a finite forecast and
    interval, and the missing days are named."""
    daily, _ = _weekday_series("2025-03-03", "2025-09-05", 300.0, 11)
    cut = daily[daily["date"] < pd.Timestamp("2025-08-29")]  # 29 August - 5 September missing (Labor Day closed)
    # the export ends on a Saturday with a few contacts (the desk is closed on Saturdays: 2 calls to the IVR)
    extra = cut.iloc[[-1]].assign(date=pd.Timestamp("2025-09-06"), volume=2.0)
    cut = pd.concat([cut, extra], ignore_index=True)
    m = fs.SeriesSelector(*_series_of(cut), US, 28, missing=None)
    origin = m.n - 1
    assert not np.isfinite(m.forecast("recent_level", origin)).all()  # the situation this test is about
    f, sel, notes = fs.forecast_selected(cut, US, 28)
    assert np.isfinite(f[["forecast", "lower", "upper"]].to_numpy(float)).all()
    assert (f["lower"] <= f["forecast"]).all() and (f["forecast"] <= f["upper"]).all()
    assert "recent_level" not in sel["method"].iloc[0]
    assert any("missing from the export" in n for n in notes)
    bt = fs.nested_backtest(cut, US, horizon_days=28, months=3)
    assert np.isfinite(bt.errors[["forecast", "lower", "upper"]].to_numpy(float)).all()


def _series_of(daily: pd.DataFrame) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """(dates, volume with NaN on days absent from the export) of a one-series daily frame, every calendar day."""
    s = daily.set_index("date")["volume"].astype(float)
    s = s.reindex(pd.date_range(s.index.min(), s.index.max(), freq="D"))
    weekend = s.index.dayofweek >= 5
    s[weekend] = s[weekend].fillna(0.0)  # a weekday-only operation: no weekend rows are closed days, not gaps
    closed = fc.calendar_features(s.index, US)["holiday_closed"].to_numpy(bool)
    s[closed] = s[closed].fillna(0.0)
    return s.index, s.to_numpy()


def test_one_spike_on_the_last_day_does_not_move_the_recent_level():
    """The recent level is the median of the last 7 clean days' volume / weekday shape: a 10x spike on the last
    day moves it by less than 5%, where their mean would move by more than 100%."""
    daily, _ = _weekday_series("2025-03-03", "2025-08-29", 300.0, 12)
    spiked = daily.copy()
    spiked.loc[spiked.index[-1], "volume"] *= 10
    a = fs.SeriesSelector(*_series_of(daily), US, 28)
    b = fs.SeriesSelector(*_series_of(spiked), US, 28)
    o = a.n - 1
    fa, fb = a.forecast("recent_level", o), b.forecast("recent_level", o)
    assert abs(fb.sum() / fa.sum() - 1) < 0.05
    last = spiked["volume"].iloc[-5:]  # the last business week: its mean level is what a mean would follow
    assert last.mean() / daily["volume"].iloc[-5:].mean() - 1 > 1.0


def test_a_queue_gone_quiet_is_forecast_zero_and_said_so_a_sparse_one_is_not():
    """A queue of ~40 contacts a day with none in its last 3 weeks (rows of zero volume while the other queues
    carry on: not an export gap) is forecast 0 with a note naming the first quiet day; a queue of ~2 contacts a
    week with a quiet business week (expected 2 contacts, P(none) = 13%) is forecast as usual."""
    busy, _ = _weekday_series("2025-03-03", "2025-08-29", 300.0, 13)
    quiet, _ = _weekday_series("2025-03-03", "2025-08-29", 40.0, 14)
    quiet.loc[quiet["date"] >= pd.Timestamp("2025-08-11"), "volume"] = 0.0
    sparse, _ = _weekday_series("2025-03-03", "2025-08-29", 0.4, 15)
    sparse.loc[sparse["date"] >= pd.Timestamp("2025-08-25"), "volume"] = 0.0
    sparse.loc[sparse["date"] == pd.Timestamp("2025-08-22"), "volume"] = 1.0
    daily = pd.concat([busy, quiet.assign(queue="Closed"), sparse.assign(queue="Sparse")], ignore_index=True)
    f, sel, notes = fs.forecast_selected(daily, US, 28)
    by = sel.set_index("queue")
    assert by.loc["Closed", "method"] == "quiet"
    assert (f.loc[f["queue"] == "Closed", ["forecast", "lower", "upper"]] == 0).all().all()
    # its last contact on Friday 8 August, the quiet run from Monday 11th
    assert any(
        "Closed" in n and "no contacts since 2025-08-08, its last contact (none on the open days from 2025-08-11" in n
        for n in notes
    )
    assert by.loc["Sparse", "method"] != "quiet" and by.loc["Benefits", "method"] != "quiet"
    assert f.loc[f["queue"] == "Benefits", "forecast"].sum() > 0


def test_a_queue_of_few_contacts_is_told_its_forecast_is_the_typical_day_not_the_average():
    """A queue with a contact on about one day in five (Poisson, 0.2 a day, every day open): the WAPE-best forecast
    of a day is its median, 0, so the next 28 days hold almost nothing; the note says so with the 8-week average,
    recounted here. Queues of 1 and 300 a day (median above 0) get no such note, and the forecast is unchanged."""
    dates = pd.date_range("2025-01-06", periods=52 * 7, freq="D")
    rng = np.random.default_rng(0)
    cal = fc.Calendar(country=None, eves=False)
    frames = [
        pd.DataFrame({"date": dates, "channel": "email", "queue": q, "volume": rng.poisson(rate, len(dates)) * 1.0})
        for q, rate in (("Few", 0.2), ("One", 1.0), ("Busy", 300.0))
    ]
    daily = pd.concat(frames, ignore_index=True)
    f, sel, notes = fs.forecast_selected(daily, cal, 28)
    few = frames[0]["volume"].to_numpy()[-56:]
    held = f.loc[f["queue"] == "Few", "forecast"].sum()
    (note,) = [n for n in notes if "no contact on most days" in n]
    assert note.startswith("email/Few: ")
    assert f"({int((few == 0).sum())} of 56 in the last 8 weeks)" in note
    assert f"{round(held)} contact" in note and f"against {round(few.mean() * 28)} at its 8-week average" in note
    assert held < few.mean() * 28 / 2  # what the note is for: the typical day is 0
    alone = fs.forecast_selected(daily[daily["queue"] != "Few"], cal, 28)
    pd.testing.assert_frame_equal(f[f["queue"] != "Few"].reset_index(drop=True), alone[0])


def test_forecast_of_one_queue_sees_the_operation_not_the_queue_alone(tmp_path, monkeypatch):
    """`reportlib forecast --queue Q` forecasts from the data's last day, with the operation's missing days: a
    queue quiet for its last 3 weeks is forecast from the day after the export ends (at 0, said so), and days
    on which only that queue had no contacts are not called missing."""
    busy, _ = _weekday_series("2025-03-03", "2025-08-29", 300.0, 16)
    quiet, _ = _weekday_series("2025-03-03", "2025-08-29", 60.0, 17)
    quiet = quiet[quiet["date"] < pd.Timestamp("2025-08-11")]  # its rows stop: no contacts since
    quiet = quiet[quiet["date"] != pd.Timestamp("2025-06-10")]  # and one day the others had contacts
    folder = _intervals_folder(tmp_path, pd.concat([busy, quiet.assign(queue="Escalations")], ignore_index=True))
    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    code, out, err = _run(["forecast", "--data", str(folder), "--queue", "Escalations", "--horizon-days", "14"])
    assert code == 0, err
    records = pd.DataFrame(json.loads(out))
    assert records["date"].min() == "2025-08-30" and set(records["queue"]) == {"Escalations"}
    assert (records["forecast"] == 0).all() and "no contacts since 2025-08-08, its last contact" in err
    assert "missing from the export" not in err
    code, out, err = _run(["forecast", "--data", str(folder), "--queue", "Nope"])
    assert code == 1 and "queues with contacts: Benefits, Escalations" in err and "Traceback" not in err


def test_an_open_holiday_without_contacts_is_named_not_silently_zero():
    """Columbus Day (a holiday the calendar keeps open) lost from the export is named in the notes as read as
    zero; Thanksgiving (closed) without rows is a closed day, named nowhere; neither is an export gap."""
    daily, _ = _weekday_series("2025-06-02", "2025-11-28", 300.0, 18)
    cut = daily[daily["date"] != pd.Timestamp("2025-10-13")]  # Columbus Day; Thanksgiving has no row anyway
    assert list(fs.silent_open_holidays(cut, US)) == [pd.Timestamp("2025-10-13")]
    assert fs.export_gaps(cut, US).empty
    _, _, notes = fs.forecast_selected(cut, US, 14)
    (note,) = [n for n in notes if "calendar keeps open" in n]
    assert "2025-10-13" in note and "2025-11-27" not in note
    assert not fs.silent_open_holidays(daily, US).size
    # lost with the days after it (14-17 October missing too): a gap like them, not a zero
    lost = daily[(daily["date"] < pd.Timestamp("2025-10-13")) | (daily["date"] > pd.Timestamp("2025-10-17"))]
    assert not fs.silent_open_holidays(lost, US).size
    assert list(fs.export_gaps(lost, US)["date"]) == list(pd.bdate_range("2025-10-13", "2025-10-17"))


def test_days_of_short_abandons_alone_belong_to_the_export():
    """The export's last three days hold only short abandons (rows, no offered contact): the daily volume runs
    to the last row with zeros, so those days are named as missing (no volume anywhere), and the forecast
    starts the day after the export, not three days inside it."""
    import ibis

    days = pd.bdate_range("2025-06-02", "2025-08-29")
    rows = []
    for i, d in enumerate(days):
        short = d >= pd.Timestamp("2025-08-27")
        for k in range(20):
            rows.append(
                (
                    f"c{i}-{k}",
                    d + pd.Timedelta(hours=9, minutes=k),
                    "abandoned" if short else "handled",
                    2.0 if short else 30.0,
                )
            )
    t = ibis.memtable(
        pd.DataFrame(rows, columns=["contact_id", "arrived_at", "outcome", "wait_s"]).assign(
            channel="phone", queue="Benefits"
        )
    )
    daily = fc.daily_volume(t, "contacts", short_abandon_s=5.0)
    assert daily["date"].max() == pd.Timestamp("2025-08-29") and daily.set_index("date")["volume"].iloc[-3:].eq(0).all()
    assert list(fs.export_gaps(daily, US)["date"])[-3:] == list(pd.bdate_range("2025-08-27", "2025-08-29"))
    f = fs.forecast_selected(daily, US, 7)[0]
    assert f["date"].min() == pd.Timestamp("2025-08-30")


def test_a_quiet_spell_no_longer_than_one_the_queue_had_before_is_not_a_closure():
    """A queue of ~5 a day without contacts for its last 6 business days: far more than a Poisson level explains
    (30 expected), but the same queue went 10 business days without one in the spring (a paused client), so by
    its own record the spell is not news: not quiet. Without that spring pause it is."""
    paused, _ = _weekday_series("2025-03-03", "2025-08-29", 5.0, 19)
    paused.loc[paused["date"] >= pd.Timestamp("2025-08-22"), "volume"] = 0.0
    before = paused.copy()
    spring = (paused["date"] >= pd.Timestamp("2025-04-07")) & (paused["date"] <= pd.Timestamp("2025-04-18"))
    paused.loc[spring, "volume"] = 0.0
    busy, _ = _weekday_series("2025-03-03", "2025-08-29", 300.0, 20)
    for frame, quiet in ((paused, False), (before, True)):
        daily = pd.concat([busy, frame.assign(queue="Small")], ignore_index=True)
        sel = fs.forecast_selected(daily, US, 14)[1].set_index("queue")
        assert (sel.loc["Small", "method"] == "quiet") is quiet


def test_one_contact_dated_long_before_or_after_the_rest_does_not_steer_the_forecast():
    """A fuzz probe typed one contact's year wrong (six months early): every weekday then read as closed over the
    whole span, the months between as zeros, and the phone forecast's 80% interval reached 750,000 a day. The
    history now starts after a silence of every series longer than 8 weeks, and says so; a contact dated long
    after the rest leaves too little history, and the error names why."""
    daily, _ = _weekday_series("2025-03-03", "2025-09-05", 300.0, 11)
    stray = daily.iloc[[0]].assign(date=pd.Timestamp("2024-09-04"), volume=1.0)
    early = pd.concat([stray, daily], ignore_index=True)
    f0, s0, _ = fs.forecast_selected(daily, US, 28)
    f1, s1, notes = fs.forecast_selected(early, US, 28)
    pd.testing.assert_frame_equal(f1, f0)
    assert list(s1["method"]) == list(s0["method"])
    assert notes[0] == (
        "the history starts on 2025-03-03: no series had a contact for 179 days before it, so the 1 day with "
        "contacts before that silence (2024-09-04) is left out: another history, or dates typed wrong"
    )
    bt = fs.nested_backtest(early, US, horizon_days=28, months=3)
    assert bt.notes[0] == notes[0] and bt.summary.equals(
        fs.nested_backtest(daily, US, horizon_days=28, months=3).summary
    )
    # 56 silent days (8 weeks) are not a restart: a shut-down of two months is still one history
    gap = daily[(daily["date"] < pd.Timestamp("2025-05-01")) | (daily["date"] > pd.Timestamp("2025-06-25"))]
    assert fs.after_long_silence(gap)[1] is None
    late = pd.concat([daily, daily.iloc[[0]].assign(date=pd.Timestamp("2026-03-02"))], ignore_index=True)
    with pytest.raises(ReportlibError, match=r"too short to forecast.*no series had a contact for 177 days before it"):
        fs.forecast_selected(late, US, 28)


def test_calendar_days_ahead_that_the_history_never_had_are_named():
    """Five months of history (June to November) and a calendar with a January surge: the regression drops a
    column it has never seen and the same-weekday rules know no events, so January was forecast as an ordinary
    month without a word (a probe's six-day desk: +4% into January against +32% the year before). The note
    names each such event with its days; a history that holds them (two years) gives none; days the forecast
    expects nothing on are not counted (an event on Christmas, closed; one on a weekend of a weekday-only desk)."""
    events = (
        {"name": "plan_year_start", "kind": "window", "start": "01-02", "end": "01-29", "split_days": 7},
        {"name": "summer", "kind": "window", "start": "07-01", "end": "07-31"},
        {"name": "renewals", "kind": "window", "start": "01-05", "end": "01-09", "queues": ["Other"]},
        {"name": "xmas_day", "kind": "window", "start": "12-25", "end": "12-25"},
        {"name": "a_weekend", "kind": "dates", "dates": ["2026-01-10"], "days": 2},  # Saturday and Sunday
    )
    cal = fc.Calendar(country="US", closed=US.closed, eves=False, events=events)
    short, _ = _weekday_series("2025-06-02", "2025-11-28", 300.0, 21, holidays=cal)
    forecast, _, notes = fs.forecast_selected(short, cal, 91)
    (note,) = fs.unseen_calendar_note(short, cal, forecast)
    assert note in notes and note.startswith("calendar days in the next 91 days that the history has never had")
    assert "plan_year_start, 02 Jan 2026 to 29 Jan 2026 (every series)" in note
    for absent in ("summer", "renewals", "xmas_day", "a_weekend", "open public holidays"):
        assert absent not in note, absent  # July and Columbus/Veterans Day are in the history
    long, _ = _weekday_series("2023-11-01", "2025-11-28", 300.0, 21, holidays=cal)
    assert fs.unseen_calendar_note(long, cal, fs.forecast_selected(long, cal, 91)[0]) == []
    # one queue's own event, for that queue alone
    two = pd.concat([short, short.assign(queue="Other")])
    (note,) = fs.unseen_calendar_note(two, cal, fs.forecast_selected(two, cal, 91)[0])
    assert "plan_year_start, 02 Jan 2026 to 29 Jan 2026 (every series)" in note
    assert "renewals, 05 Jan 2026 to 09 Jan 2026 (phone/Other)" in note


def test_a_simple_rule_chosen_after_a_holiday_week_does_not_copy_the_holiday():
    """A probe's airline series: a weekly schedule made "same weekday last week" the best simple rule (earlier
    holidays of its history, Columbus and Veterans Day, were ordinary flying days), and at the origin after
    Thanksgiving it copied that week's dip onto the next four Thursdays. Its calendar-aware twin
    (`holiday_naive`, the latest ordinary same weekday) scored within the near-tie margin, and a near tie goes to
    the twin, for the baseline rule's fallback as for the candidates. Generated: a weekday level growing 1% a week
    (so last week is the best guide), no noise; Thanksgiving at half volume."""
    cal = fc.Calendar(country="US", closed=(), eves=False)
    dates = pd.bdate_range("2025-03-03", "2025-11-28")
    weeks = ((dates - dates[0]).days // 7).to_numpy()
    y = 1000.0 * 1.01**weeks * SHAPE[dates.dayofweek]
    thanksgiving = pd.Timestamp("2025-11-27")
    y[dates == thanksgiving] *= 0.5
    s = pd.Series(y, index=dates).asfreq("D", fill_value=0.0)  # weekends: closed weekdays to the selector
    m = fs.SeriesSelector(s.index, s.to_numpy(), cal, 28)
    origin = len(s) - 1  # Friday 28 November
    choice = m.choose(origin, fs.SIMPLE)  # the simple rules alone: their average loses, the rule falls back
    assert choice.proposed.startswith("mean:") and choice.method == "holiday_naive", choice
    inner = choice.wape_inner
    assert inner["seasonal_naive"] < inner["holiday_naive"] <= inner["seasonal_naive"] * 1.02  # a near tie
    f = pd.Series(m.forecast(choice.method, origin, 28), index=m.dates[origin + 1 : origin + 29])
    thursdays = f[f.index.dayofweek == 3]
    assert np.allclose(thursdays, s[pd.Timestamp("2025-11-20")])  # the last ordinary Thursday, not the dip


def test_a_day_the_calendar_leaves_out_is_read_as_missing_for_its_series_alone():
    """calendar exclude_from_history: a 10x spike on the last Monday of one queue (an outage's callbacks), left out,
    gives that queue the forecast of its history with the day missing (the same numbers, to the decimal, as a
    selector given the day as missing: a second way to the same history), within 2% of the forecast without the
    spike; every candidate that averages the spike (the 4-weekday mean, the ensemble) is back where it was; the
    queue not listed keeps its forecast to the decimal; the notes name the day and an item that leaves out nothing."""
    from dataclasses import replace

    end = pd.Timestamp("2025-08-25")
    assert end.dayofweek == 0
    a, _ = _weekday_series("2025-03-03", f"{end:%Y-%m-%d}", 300.0, 21)
    b, _ = _weekday_series("2025-03-03", f"{end:%Y-%m-%d}", 200.0, 22)
    b["queue"] = "Accounts"
    spiked = a.copy()
    spiked.loc[spiked["date"] == end, "volume"] *= 10
    items = [
        {"dates": [f"{end:%Y-%m-%d}"], "queues": ["Benefits"]},
        "2024-01-02",
        {"dates": "2025-08-20", "queues": ["Benfits"]},
    ]
    cal = replace(US, excluded=fc.exclusions(items))
    daily = pd.concat([spiked, b], ignore_index=True)
    f, sel, notes = fs.forecast_selected(daily, cal, 28)
    f_spiked = fs.forecast_selected(daily, US, 28)[0]
    f_clean = fs.forecast_selected(pd.concat([a, b], ignore_index=True), US, 28)[0]

    def one(frame, q):
        return frame[frame["queue"] == q].set_index("date")

    # the listed queue: as if the day were missing
    dates, y = _series_of(spiked)
    y_missing = np.where(dates == end, np.nan, y)
    m = fs.SeriesSelector(dates, y_missing, US, 28)
    o = m.n - 1
    expected = m.bounds(o, 28, m.choose(o))[0]
    np.testing.assert_allclose(one(f, "Benefits")["forecast"].to_numpy(), expected, rtol=1e-12)
    assert abs(one(f, "Benefits")["forecast"].sum() / one(f_clean, "Benefits")["forecast"].sum() - 1) < 0.02
    left_out = fs.SeriesSelector(dates, y, US, 28, excluded=np.asarray(dates == end))
    kept = fs.SeriesSelector(dates, y, US, 28)
    clean = fs.SeriesSelector(*_series_of(a), US, 28)
    mondays = dates[o] + pd.to_timedelta(np.arange(1, 29), "D")
    mondays = np.asarray(mondays.dayofweek == 0)
    for name in ("holiday_mean", "seasonal_mean", "ensemble"):
        np.testing.assert_allclose(left_out.forecast(name, o), m.forecast(name, o), rtol=1e-12)
        spiked_mon, clean_mon = kept.forecast(name, o)[mondays].sum(), clean.forecast(name, o)[mondays].sum()
        assert spiked_mon / clean_mon - 1 > 0.3, name  # the spike, kept, raises the next Mondays
        assert abs(left_out.forecast(name, o)[mondays].sum() / clean_mon - 1) < 0.05, name
    # the other queue is untouched
    pd.testing.assert_frame_equal(one(f, "Accounts"), one(f_spiked, "Accounts"))
    # the export-missing count is not the calendar's
    assert sel.set_index("queue").loc["Benefits", "missing_days"] == 0
    assert any("phone/Benefits: 1 day left out of the history" in n and "2025-08-25" in n for n in notes), notes
    # an item naming days of the history that leaves out none (a misspelt queue) is named; one dated outside the
    # history (another period's) is not judged, nor are other queues' items in one queue's forecast
    assert any("item 3 (2025-08-20; queues Benfits) names days of the history but leaves out none" in n for n in notes)
    assert not any("item 2" in n for n in notes), notes
    assert not any("item" in n for n in fs.forecast_selected(daily, cal, 28, queue="Accounts")[2])
    assert not any("phone/Accounts" in n for n in notes)
    # the backtest says the same
    assert any("phone/Benefits: 1 day left out" in n for n in fs.nested_backtest(daily, cal, months=1).notes)


@pytest.mark.parametrize(
    "item, words",
    [
        ("30/11/2026", "'30/11/2026' is not a date; write dates as YYYY-MM-DD"),
        ({"dates": ["2026-11-30"], "day": 2}, "unknown key day; known: dates, days"),
        ({"dates": []}, "no dates"),
        ({"dates": "2026-11-30", "days": 0}, "days must be a whole number of days, 1 or more, got 0"),
        ({"dates": "2026-11-30", "queues": 5}, "queues must be a list of names, got 5"),
        ({"dates": "2026-11-30", "channels": []}, "channels: [] names no channel; leave channels out for every"),
        (True, "True is not a date"),
    ],
)
def test_a_bad_exclusion_is_refused_naming_its_item(item, words):
    from reportlib.core.errors import UsageError

    with pytest.raises(UsageError) as err:
        fc.calendar_from_params({"exclude_from_history": ["2026-11-02", item]})
    assert str(err.value).startswith("calendar: exclude_from_history item 2: ") and words in str(err.value)
    one = fc.exclusions({"dates": "2026-11-30", "days": 2, "queues": "Escalations", "why": "outage"})
    assert one == ({"dates": (pd.Timestamp("2026-11-30"),), "days": 2, "queues": ("Escalations",), "channels": None},)
    days = pd.date_range("2026-11-28", "2026-12-03")
    cal = fc.Calendar(excluded=one)
    assert list(fc.excluded_days(cal, days, "phone", "Escalations")) == [False, False, True, True, False, False]
    assert not fc.excluded_days(cal, days, "phone", "Accounts").any()


def test_an_empty_list_of_queues_on_an_event_is_refused_not_read_as_every_queue():
    """`queues: []` said nothing and meant every queue (the key left out): on an event and an exclusion alike it is
    refused; the key left out still means every queue."""
    from reportlib.core.errors import UsageError

    event = {"name": "golive", "kind": "dates", "dates": ["2025-09-15"], "queues": []}
    with pytest.raises(UsageError, match=r"^calendar: event 'golive': queues: \[\] names no queue; leave queues out"):
        fc.calendar_from_params({"events": [event]})
    del event["queues"]
    assert fc.calendar_from_params({"events": [event]}).events[0]["name"] == "golive"


def test_a_misspelt_calendar_key_is_refused_with_the_right_one(tmp_path, monkeypatch):
    """A calendar key nothing reads (a misspelt exclude_from_history) is a usage error naming the key and the one
    meant, on the command line too (exit 2, one line), not a setting silently ignored."""
    from reportlib.core.errors import UsageError
    from reportlib.core.params import validate_params

    with pytest.raises(UsageError, match=r"unknown parameter calendar.exclude_from_histroy \(did you mean exclude_"):
        validate_params({"calendar": {"exclude_from_histroy": ["2026-11-30"]}})
    validate_params({"calendar": {"exclude_from_history": ["2026-11-30"]}})  # the right one passes
    daily, _ = _weekday_series("2025-03-03", "2025-08-29", 450.0, 6)
    folder = _intervals_folder(tmp_path, daily)
    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("calendar:\n  exclude_from_histroy: [2025-08-25]\n")
    code, out, err = _run(["forecast", "--data", str(folder), "--params", str(overlay)])
    assert code == 2 and "exclude_from_histroy" in err and "Traceback" not in err and not out
    overlay.write_text("calendar:\n  exclude_from_history: [2025-08-25, 31/12/2025]\n")
    code, out, err = _run(["forecast", "--data", str(folder), "--params", str(overlay)])
    assert code == 2 and "exclude_from_history item 2: '31/12/2025' is not a date" in err and len(err.splitlines()) == 1
    overlay.write_text("calendar:\n  exclude_from_history: [{dates: [2025-08-25], why: outage}]\n")
    code, out, err = _run(["forecast", "--data", str(folder), "--params", str(overlay), "--horizon-days", "7"])
    assert code == 0 and "phone/Benefits: 1 day left out of the history" in err and "2025-08-25" in err


def test_the_intraday_profile_leaves_out_the_days_the_calendar_does():
    """A day whose contacts all came in its last half hour, left out by exclude_from_history, does not move the
    Monday profile; kept, it does."""
    days = pd.bdate_range("2025-07-07", "2025-08-25")
    rows = [(d + pd.Timedelta(hours=9 + k), "phone", "Benefits", 10.0) for d in days for k in range(8)]
    iv = pd.DataFrame(rows, columns=["interval_start", "channel", "queue", "volume"])
    end = pd.Timestamp("2025-08-25")
    iv.loc[iv["interval_start"] == end + pd.Timedelta(hours=16), "volume"] = 1000.0
    cal = fc.Calendar(country=None, excluded=fc.exclusions([f"{end:%Y-%m-%d}"]))
    kept = fc.intraday_profile(iv, fc.Calendar(country=None), weeks=8, interval_minutes=60)
    left = fc.intraday_profile(iv, cal, weeks=8, interval_minutes=60)

    def monday(p):
        return p[(p["weekday"] == 0) & (p["minute"] >= 9 * 60) & (p["minute"] < 17 * 60)]["share"].to_numpy()

    np.testing.assert_allclose(monday(left), np.full(8, 1 / 8))
    assert monday(kept)[-1] > 0.2
    # every day of the window left out: their own shape, not a flat profile over 24 hours (staffing the night)
    every = fc.Calendar(country=None, excluded=fc.exclusions([{"dates": [f"{days[0]:%Y-%m-%d}"], "days": 70}]))
    pd.testing.assert_frame_equal(fc.intraday_profile(iv, every, weeks=8, interval_minutes=60), kept)


def test_a_series_whose_recent_history_is_all_left_out_falls_back_or_is_skipped_alone():
    """Twelve weeks of one queue left out by the calendar: no method can be scored, so its forecast is the
    holiday-aware median of the last 4 same weekdays before them, said so (the whole forecast failed for every
    queue); its whole history left out: that queue alone is not forecast, and the others are."""
    from dataclasses import replace

    a, _ = _weekday_series("2025-03-03", "2025-08-29", 300.0, 31)
    b, _ = _weekday_series("2025-03-03", "2025-08-29", 200.0, 32)
    b["queue"] = "Accounts"
    daily = pd.concat([a, b], ignore_index=True)
    span = {"dates": ["2025-06-06"], "days": 85, "queues": ["Benefits"]}  # 2025-06-06 .. 2025-08-29
    f, sel, notes = fs.forecast_selected(daily, replace(US, excluded=fc.exclusions([span])), 28)
    row = sel.set_index("queue").loc["Benefits"]
    assert row["method"] == "holiday_median" and "no method could be compared" in row["note"], row["note"]
    mondays = a[(a["date"].dt.dayofweek == 0) & (a["date"] < pd.Timestamp("2025-06-06"))]["volume"]
    first_monday = f[(f["queue"] == "Benefits") & (f["date"] == pd.Timestamp("2025-09-08"))]["forecast"].iloc[0]
    assert first_monday == pytest.approx(float(np.median(mondays.iloc[-4:])))
    every = {"dates": ["2025-01-01"], "days": 400, "queues": ["Benefits"]}
    f, sel, notes = fs.forecast_selected(daily, replace(US, excluded=fc.exclusions([every])), 28)
    assert set(f["queue"]) == {"Accounts"} and any(n.startswith("phone/Benefits: not forecast") for n in notes)
