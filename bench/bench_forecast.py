"""Benchmark: forecast every queue x channel of the sample operation for 90 days (goal: < 10 s).

Times (best of --repeat) the engine aggregation of the contacts into daily volume and the 90-day
forecast of every series, each by the method its own nested backtest chooses (forecast_select: every
candidate at 12 weekly inner origins, then the chosen method's interval calibration), with wall-clock
and CPU seconds. With --backtest it also prints the nested backtest on the sample (last 3 months, weekly
origins, horizons 1-28)
and, when ../shared/data is present, on the real bank arrivals; --compare adds statsmodels
alternatives (SARIMAX with holiday regressors, ETS, STL+ETS) on the bank series for docs/forecasting.md.

Run:  python bench/bench_forecast.py [--data DIR] [--repeat 3] [--backtest] [--compare]
Without --data a sample operation is generated into a temporary folder first (not timed), or with
--synthetic a frame of the same shape (5 queues x 3 channels x 730 days) is used instead.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from reportlib.core.params import load_params
from reportlib.core.settings import MetricSettings
from reportlib.planning import forecast as fc
from reportlib.planning import forecast_select

ROOT = Path(__file__).resolve().parent.parent
BANK = (
    Path(os.environ.get("REPORTLIB_SHARED_DATA", ROOT.parent / "shared" / "data"))
    / "anonbank-1999-6min"
    / "Callcenter_6min_1999.csv.gz"
)


def best(fn, repeat: int):
    """fn's result and its best wall-clock time (s) over `repeat` runs."""
    out, times = None, []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, min(times)


def synthetic_daily(seed: int = 1) -> pd.DataFrame:
    """5 queues x 3 channels x 730 days of weekly/annual seasonal Poisson volume."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=730)
    doy = dates.dayofyear.to_numpy() / 365.25
    week = np.array([1.2, 1.05, 1.0, 0.97, 0.86, 0.12, 0.02])[dates.dayofweek]
    rows = []
    for qi, q in enumerate(["Benefits", "Import Files", "Debit Card", "Accounts", "Escalations"]):
        for ch, scale in (("phone", 600), ("chat", 200), ("email", 150)):
            mu = scale / (qi + 1) * week * (1 + 0.2 * np.cos(2 * np.pi * doy)) * 1.05 ** (np.arange(730) / 365)
            rows.append(
                pd.DataFrame({"date": dates, "channel": ch, "queue": q, "volume": rng.poisson(mu).astype(float)})
            )
    return pd.concat(rows, ignore_index=True)


def bank_daily() -> pd.DataFrame:
    raw = pd.read_csv(BANK)
    d = raw.groupby("Date")["calls"].sum()
    return pd.DataFrame(
        {"date": pd.to_datetime(d.index), "channel": "phone", "queue": "bank", "volume": d.to_numpy(float)}
    )


IL = fc.Calendar(country="IL", categories=("public", "optional"), business_weekdays=(6, 0, 1, 2, 3))


def compare_models(daily: pd.DataFrame, step_days: int = 7) -> pd.DataFrame:
    """WAPE of statsmodels alternatives and ours over the bank's last-3-month origins (every step_days)."""
    from statsmodels.tsa.forecasting.stl import STLForecast
    from statsmodels.tsa.holtwinters import ExponentialSmoothing
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    warnings.filterwarnings("ignore")
    y = daily.set_index("date")["volume"].asfreq("D")
    H = 28
    origins = fc.backtest_origins(y.index[-1], H, 3, step_days)
    all_dates = pd.date_range(y.index[0], y.index[-1] + pd.Timedelta(days=H))
    cal = fc.calendar_features(all_dates, IL)
    frac = np.asarray((all_dates.day - 1) / all_dates.days_in_month, dtype=float)
    month = np.column_stack([f(2 * np.pi * k * frac) for k in (1, 2, 3) for f in (np.sin, np.cos)])
    exog_h = cal[["holiday", "holiday_optional", "holiday_eve"]].to_numpy()
    exog_hm = np.hstack([exog_h, month])
    ly = np.log1p(y)

    def sarimax(order, exog):
        def run(o):
            m = SARIMAX(ly.iloc[: o + 1].to_numpy(), exog=exog[: o + 1], order=order, seasonal_order=(0, 1, 1, 7))
            r = m.fit(disp=False)
            return np.expm1(r.forecast(H, exog=exog[o + 1 : o + 1 + H]))

        return run

    def ets(o):
        m = ExponentialSmoothing(
            ly.iloc[: o + 1].to_numpy(), trend="add", damped_trend=True, seasonal="add", seasonal_periods=7
        ).fit()
        return np.expm1(m.forecast(H))

    def stl(o):
        from statsmodels.tsa.arima.model import ARIMA

        m = STLForecast(
            ly.iloc[: o + 1].reset_index(drop=True), ARIMA, model_kwargs={"order": (1, 1, 1)}, period=7
        ).fit()
        return np.expm1(np.asarray(m.forecast(H)))

    t0 = time.perf_counter()
    ours = fc.backtest(daily, IL, H, 3, step_days=step_days)
    ours_s = (time.perf_counter() - t0) / len(origins)  # includes the interval calibration fits
    models = {
        "ensemble (ours)": None,
        "SARIMAX(1,0,1)(0,1,1)7 + holidays": sarimax((1, 0, 1), exog_h),
        "SARIMAX(1,1,1)(0,1,1)7 + holidays + month Fourier": sarimax((1, 1, 1), exog_hm),
        "ETS (additive damped trend, weekly seasonal, log)": ets,
        "STL(7) + ARIMA(1,1,1), log": stl,
    }
    rows = []
    for name, run in models.items():
        t = time.perf_counter()
        if run is None:
            wape = ours.summary["wape"].iloc[0]
        else:
            num = den = 0.0
            for od in origins:
                o = int((od - y.index[0]).days)
                f = run(o)
                a = y.to_numpy()[o + 1 : o + 1 + H]
                num += np.abs(a - f).sum()
                den += a.sum()
            wape = num / den
        per = ours_s if run is None else (time.perf_counter() - t) / len(origins)
        rows.append({"model": name, "wape": wape, "seconds_per_origin": per})
    rows.append(
        {"model": "seasonal naive", "wape": ours.summary["wape_seasonal_naive"].iloc[0], "seconds_per_origin": 0}
    )
    rows.append(
        {
            "model": "holiday-aware 4-week mean",
            "wape": ours.summary["wape_holiday_mean"].iloc[0],
            "seconds_per_origin": 0,
        }
    )
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="a sample operation folder (reportlib sample-data --out DIR)")
    ap.add_argument("--synthetic", action="store_true", help="use a synthetic 5 x 3 x 730-day frame")
    ap.add_argument("--horizon-days", type=int, default=90)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--backtest", action="store_true")
    ap.add_argument("--compare", action="store_true")
    args = ap.parse_args(argv)
    params = load_params()
    cal = fc.calendar_from_params(params["calendar"])
    config = fc.ForecastConfig.from_params(params["calendar"])
    print(
        f"# forecast benchmark  ({platform.python_version()}, {platform.machine()}, {os.cpu_count()} cpus, "
        f"load {os.getloadavg()[0]:.1f})"
    )
    agg_s = None
    if args.synthetic:
        daily = synthetic_daily()
        print("data: synthetic 5 queues x 3 channels x 730 days")
    else:
        from reportlib.data.load import open_source

        data = args.data
        if not data:
            from reportlib.planning.sample import sample_data

            data = tempfile.mkdtemp(prefix="reportlib-bench-")
            print(f"generating the sample operation into {data} (not timed) ...", flush=True)
            sample_data(data)
        source = open_source(data, params["timezone"])
        source.table("contacts")  # parse and cache (not timed: the loader's job)
        daily, agg_s = best(
            lambda: fc.volume_from_source(source, MetricSettings.from_params(params).short_abandon_s), args.repeat
        )
        print(f"data: {data}; contacts aggregated to daily volume in the engine: {agg_s:.2f} s")
    n_series = daily.groupby(["channel", "queue"]).ngroups
    print(
        f"series: {n_series} (queue x channel), {daily['date'].nunique()} days, {daily['volume'].sum():,.0f} contacts"
    )
    from statsmodels.tsa.holtwinters import Holt  # noqa: F401 - imported once per process, not per forecast

    # SEL=key=value,... overrides SelectionConfig fields (as in bench/eval_forecast.py: the cost of an option)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from eval_forecast import selection_from_env

    default = forecast_select.SelectionConfig()
    sel = selection_from_env()
    if sel != default:
        print(f"selection settings: {os.environ['SEL']}")
    cpu = time.process_time()
    f, fc_s = best(
        lambda: (
            forecast_select.forecast_daily(daily, cal, args.horizon_days, config)
            if sel == default
            else forecast_select.forecast_selected(daily, cal, args.horizon_days, config, sel=sel)[0]
        ),
        args.repeat,
    )
    cpu_s = (time.process_time() - cpu) / args.repeat
    total = fc_s + (agg_s or 0.0)
    print(
        f"forecast {args.horizon_days} days x {n_series} series with selection ({len(f)} rows): {fc_s:.2f} s "
        f"wall (best of {args.repeat}), {cpu_s:.2f} s CPU (mean)"
        + (f"; with aggregation {total:.2f} s" if agg_s is not None else "")
        + f"  (goal < 10 s: "
        f"{'PASS' if total < 10 else 'FAIL'})"
    )
    if args.backtest:
        from reportlib.planning.forecast_select import nested_backtest

        t = time.perf_counter()
        bt = nested_backtest(daily, cal, 28, 3, config)  # the selection, nested, weekly origins
        cols = [
            "channel",
            "queue",
            "wape",
            "wape_seasonal_naive",
            "wape_seasonal_mean",
            "wape_holiday_mean",
            "wape_holiday_median",
            "mase",
            "coverage",
            "width",
            "winkler",
            "method",
            "origins",
        ]
        print(f"\nsample backtest (last 3 months, horizons 1-28; {time.perf_counter() - t:.1f} s):")
        print(bt.summary[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        if BANK.exists():
            bank = bank_daily()
            t = time.perf_counter()
            bb = nested_backtest(bank, IL, 28, 3, config)
            print(f"\nbank 1999 backtest ({time.perf_counter() - t:.1f} s):")
            print(bb.summary[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
            s = bb.summary.iloc[0]
            print(f"bank: WAPE {s['wape']:.1%} is {1 - s['wape'] / s['wape_seasonal_naive']:.0%} below seasonal naive")
    if args.compare and BANK.exists():
        print("\nbank 1999, weekly origins over the last 3 months, horizons 1-28:")
        print(compare_models(bank_daily()).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
