"""Per-series choice of the daily forecast method by a nested rolling-origin backtest.

For each channel/queue series, candidate methods (the simple baselines a manager uses, the regression
of `reportlib.forecast` with and without each optional term group, its ensemble, a damped-trend
exponential smoothing model from statsmodels, a recent-level model and equal-weight combinations) are
scored at weekly "inner" origins before the forecast origin, on the days up to that origin only. The
method with the lowest pooled WAPE is chosen, the simpler one on a near tie (within `tie` of the
best, candidates listed simplest first). The 80% interval comes from the chosen method's own inner
errors, by horizon band. With too little history for inner origins the holiday-aware median of the
last 4 same weekdays is used, and the selection says so.

`nested_backtest` runs the whole procedure at each outer origin (the choice at each origin uses only
data before it), so the accuracy it reports is the accuracy a user gets. Definitions and the measured
results: docs/forecasting.md ("Choosing a method per series").

Days are classified, not guessed: a day missing from the export (no rows for any series on a day the
operation is open and that is no holiday) is `missing` (left out of fits and scores, reported by
`export_gaps`), a weekday with no volume on most of its days is `closed` (forecast 0), a closed
holiday from the calendar is forecast 0, and the catch-up day after it is a special day that the
same-weekday averages skip.
"""

from __future__ import annotations

import functools
import hashlib
import math
import warnings
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import numpy as np
import pandas as pd

# at module level (not in _ets): every user of this module scores ets_damped, and a report kernel's warm-up
# imports this module (through forecast_view) before the notebook runs, so the ~3 s import is paid there
from threadpoolctl import threadpool_limits

from reportlib.core.errors import ReportlibError, UsageError
from reportlib.core.names import ALL_QUEUES
from reportlib.core.words import counted
from reportlib.planning.forecast import (
    EXCLUDE_KEY,
    HOLIDAY_PREFIX,
    SELECTION_COLUMNS,
    SERIES,
    Backtest,
    Calendar,
    ForecastConfig,
    SeriesModel,
    backtest_origins,
    calendar_features,
    daily_series,
    excluded_days,
)

# simple baselines: what a manager computes in Excel (reported against the chosen method)
BASELINES = ("seasonal_naive", "seasonal_mean", "seasonal_median", "holiday_mean", "holiday_median")
FALLBACK = "holiday_median"
# what the baseline rule may fall back on: the baselines and the naive rule's calendar-aware twin, in the
# candidates' order, so that a near tie goes to the twin that skips holidays ("same weekday last week" copied
# Thanksgiving week's dip onto the next four weeks of a probe's airline series, whose weekly schedule made the
# naive the best baseline by 0.5% of its inner score: 11% WAPE at that origin against 4% for the 4-weekday rules)
SIMPLE = ("holiday_median", "holiday_mean", "seasonal_median", "seasonal_mean", "holiday_naive", "seasonal_naive")
# every candidate, simplest first (a near tie goes to the earlier one)
CANDIDATES = (
    "holiday_median",
    "holiday_mean",
    "seasonal_median",
    "seasonal_mean",
    "holiday_naive",
    "seasonal_naive",
    "holiday_median_8",
    "holiday_mean_8",
    "recent_level",
    "combo_median_level",
    "combo_median_ets",
    "combo_median_ensemble",
    "regression_plain",
    "regression_no_trend",
    "regression_no_month",
    "regression_no_annual",
    "regression_no_events",
    "regression",
    "regression_level",
    "ensemble",
    "ets_damped",
)
METHOD_LABELS = {
    "holiday_median": "median of the last 4 same weekdays, holidays skipped",
    "holiday_mean": "mean of the last 4 same weekdays, holidays skipped",
    "seasonal_median": "median of the last 4 same weekdays",
    "seasonal_mean": "mean of the last 4 same weekdays",
    "seasonal_naive": "same weekday last week",
    "holiday_naive": "same weekday last week, holidays skipped (the latest ordinary one)",
    "holiday_median_8": "median of the last 8 same weekdays, holidays skipped",
    "holiday_mean_8": "mean of the last 8 same weekdays, holidays skipped",
    "recent_level": "last week's median level x 8-week weekday shape",
    "recent_level_restart": "level since a detected level shift x 8-week weekday shape",
    "quiet": "no contacts lately: 0 (a queue closed or paused)",
    "combo_median_level": "average of the 4-weekday median and the recent level",
    "combo_median_ets": "average of the 4-weekday median and damped-trend smoothing",
    "combo_median_ensemble": "average of the 4-weekday median and the regression ensemble",
    "regression_plain": "regression: weekdays and holidays only",
    "regression_no_trend": "regression without trend",
    "regression_no_month": "regression without month position",
    "regression_no_annual": "regression without annual season",
    "regression_no_events": "regression without events",
    "regression": "regression, all terms",
    "regression_level": "regression without trend, level from its last 2 weeks",
    "ensemble": "regression + seasonal average ensemble",
    "ets_damped": "damped-trend exponential smoothing (statsmodels)",
}
BANDS = ((1, 7), (8, 14), (15, 28))
# regression variants: the optional term groups each leaves out (forecast.TERM_GROUPS)
REGRESSION_VARIANTS = {
    "regression": (),
    "regression_no_trend": ("trend",),
    "regression_no_month": ("month",),
    "regression_no_annual": ("annual",),
    "regression_no_events": ("events",),
    "regression_plain": ("trend", "month", "annual", "events"),
}  # horizon bands (days ahead) of the interval calibration


@dataclass(frozen=True)
class SelectionConfig:
    """Settings of the selection (calendar days; shares 0..1). Chosen before looking at results, see docs."""

    inner_origins: int = 12  # weekly inner origins before each origin whose errors choose and calibrate
    min_inner_origins: int = 4  # fewer than this: the holiday-aware median, said so
    horizon_days: int = 28  # inner forecasts are scored 1..28 days ahead (up to the origin)
    tie: float = 0.02  # a simpler method within 2% (relative WAPE) of the best is preferred
    min_history_days: int = 35  # an inner origin needs 5 weeks of history (4 same weekdays + 1 week)
    closed_share: float = 0.8  # a weekday with zero volume on this share of its recent days is closed
    ets_refit_days: int = 182  # ETS parameters are re-estimated every this many days (states at every origin)
    ets_window_days: int = 182
    min_band_errors: int = 20  # a horizon band with fewer errors uses all bands pooled
    recency_half_life_days: float = 0.0  # weight of an inner error halves every this many days back (0: equal)
    combine: int = 3  # 1: the chosen method alone; k > 1: the equal-weight mean of it and the next k - 1 best
    # unless the choice beats the best simple rule (SIMPLE; inner WAPE) by the margin below, the first simple rule
    # within `tie` of that best one is the forecast:
    baseline_rule: bool = True
    # "tie": by `tie` alone (the default since the second round); tried in the fourth round and not adopted
    # (docs/forecasting.md, "Fourth round"): "se", also by more than one standard error of its paired
    # per-origin gain over the baseline (paired_gain); "se_level", the best baseline unless the choice's inner
    # WAPE plus one standard error of its own per-origin WAPE is below the baseline's (Breiman's 1-SE rule).
    # Tried in the fifth round and not adopted (docs/forecasting.md, "Fifth round"): "nested", the choice is kept
    # only if the whole procedure's own track record (SeriesSelector.nested_record: at each inner origin the
    # choice it made there from the data up to there, scored on the same days) beats the best baseline's by
    # `tie` (absorbing: once its choices are baselines its record is too); "nested_avg", the same record made of
    # the average proposed at each inner origin before its baseline check (Choice.proposed)
    baseline_margin: str = "tie"
    # a level shift: this many clean days in a row outside the reference's 80% interval, on one side (a business
    # week; 3 was tried first and fired on a 3-day blip of the bank: see docs/forecasting.md); 0: no detection
    shift_run: int = 5
    # shrink the chosen average toward the best simple baseline by the evidence of its inner gain over it
    # (shrinkage_weight: positive-part James-Stein on the per-origin gains); tried and not adopted, off by
    # default: see docs/forecasting.md ("Third round")
    shrink: bool = False

    def __post_init__(self) -> None:
        if self.baseline_margin not in BASELINE_MARGINS:
            raise ValueError(f"unknown baseline_margin {self.baseline_margin!r} (one of {', '.join(BASELINE_MARGINS)})")


# the readings of SelectionConfig.baseline_margin (an unknown one is refused, not read as "tie")
BASELINE_MARGINS = ("tie", "se", "se_level", "nested", "nested_avg")


def conformal_quantiles(e: np.ndarray, level: float) -> tuple[float, float]:
    """Lower and upper quantiles of log errors for a central `level` interval (finite-sample: the
    (n + 1)-adjusted ranks of split conformal prediction), clamped to include 0."""
    n = len(e)
    a = round((1 - level) / 2, 12)  # 0.09999999999999998 would move a rank
    s = np.sort(e)
    lo = s[max(0, int(math.floor(a * (n + 1))) - 1)]
    hi = s[min(n - 1, int(math.ceil((1 - a) * (n + 1))) - 1)]
    return min(float(lo), 0.0), max(float(hi), 0.0)


def paired_gain(
    actual: np.ndarray, base: np.ndarray, chosen: np.ndarray, blocks: np.ndarray
) -> tuple[float, float, int]:
    """(mean, standard error, n) of the per-origin WAPE gain of `chosen` over `base` (shares 0..1 of volume).

    Per inner origin (`blocks` labels each error's origin) d = (sum |actual - base| - sum |actual - chosen|) /
    sum actual; the mean of d over the n origins with volume and its standard error sd(d) / sqrt(n)
    (nan with fewer than 2 origins). Positive: `chosen` had the smaller error.
    """
    ids, inv = np.unique(blocks, return_inverse=True)
    gain = np.bincount(inv, np.abs(actual - base) - np.abs(actual - chosen), len(ids))
    total = np.bincount(inv, actual, len(ids))
    d = gain[total > 0] / total[total > 0]
    if len(d) < 2:
        return float(d.mean()) if len(d) else math.nan, math.nan, len(d)
    return float(np.mean(d)), float(np.std(d, ddof=1)) / math.sqrt(len(d)), len(d)


def shrinkage_weight(actual: np.ndarray, base: np.ndarray, chosen: np.ndarray, blocks: np.ndarray) -> float:
    """Weight 0..1 of the chosen forecast against the best simple baseline, from the evidence that it is better.

    Per inner origin the WAPE gain d (paired_gain); t = mean(d) / (sd(d) / sqrt(n)) over the n origins; the
    weight is the positive-part James-Stein factor max(0, 1 - 1 / t^2) (0 when t <= 1). A gain that is large
    against its own spread keeps the chosen forecast (t = 3: weight 0.89), one that is noise (|t| <= 1) gives
    the baseline. No tuned constant: the only scale is the gain's own standard error.
    """
    mean, se, n = paired_gain(actual, base, chosen, blocks)
    if n < 2 or mean <= 0:
        return 0.0
    if se <= 0:
        return 1.0
    t = mean / se
    return float(max(0.0, 1.0 - 1.0 / t**2))


_F = TypeVar("_F", bound=Callable[..., Any])


def one_blas_thread(func: _F) -> _F:
    """Run `func` with the BLAS libraries limited to one thread: the selection makes thousands of tiny solves,
    on which a multi-threaded OpenBLAS spends more CPU waking threads than computing (measured: the forecast
    report's selection took 5.1 s of CPU with 2 BLAS threads, 3.5 s with 1; same results)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with threadpool_limits(limits=1, user_api="blas"):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def ets_params_key(z: np.ndarray) -> str:
    """The key of the ETS parameters estimated on the series `z` (weekday-adjusted log volume at a refit
    anchor): a hash of its values and of the estimator (statsmodels version, damped Holt, heuristic start).
    Same key, same data, same estimate: the parameters can be kept between runs."""
    import statsmodels

    h = hashlib.sha256(np.ascontiguousarray(z, dtype=np.float64).tobytes())
    h.update(f"holt-damped-heuristic|{statsmodels.__version__}".encode())
    return h.hexdigest()[:32]


def _damped_holt_path(z: np.ndarray, alpha: float, beta: float, phi: float, k: int) -> np.ndarray:
    """The next k values of additive damped-trend exponential smoothing (Hyndman's form, the parameters of
    statsmodels' Holt): l = a z + (1 - a)(l + phi b), b = beta (l - l_prev) + (1 - beta) phi b, forecast
    l + (phi + ... + phi^h) b. States start at the mean of the first week, trend 0."""
    level, trend = float(np.mean(z[:5])), 0.0
    for v in z:
        prev = level
        level = alpha * v + (1 - alpha) * (level + phi * trend)
        trend = beta * (level - prev) + (1 - beta) * phi * trend
    steps = np.cumsum(phi ** np.arange(1, k + 1))
    return level + steps * trend


@dataclass
class Choice:
    """The method chosen at one origin, with the inner evidence behind it."""

    method: str
    wape_inner: dict[str, float]
    inner_origins: int
    history_days: int
    quantiles: np.ndarray  # (len(BANDS), 2) log-error quantiles by horizon band
    note: str = ""
    # baseline_margin="nested"/"nested_avg" only: (WAPE of the procedure's own choices at the inner origins, WAPE of the best
    # baseline on the same days, inner origins counted), shares 0..1 of volume (SeriesSelector.nested_record)
    nested: tuple[float, float, int] | None = None
    # the method before the baseline check (the top-3 average; `method` when no check was made)
    proposed: str = ""

    def __post_init__(self) -> None:
        if not self.proposed:
            self.proposed = self.method


class SeriesSelector:
    """One series: every candidate's forecast at any origin (cached), the choice at an origin, bounds.

    `y` is the daily history (NaN or `missing` = day missing from the export); index 0 = dates[0]. `excluded`: days
    the calendar leaves out of the history (exclude_from_history), treated as missing.
    """

    def __init__(
        self,
        dates: pd.DatetimeIndex,
        y: np.ndarray,
        calendar: Calendar,
        horizon: int,
        config: ForecastConfig | None = None,
        sel: SelectionConfig | None = None,
        channel: str | None = None,
        queue: str | None = None,
        missing: np.ndarray | None = None,
        ets_store: MutableMapping[str, Any] | None = None,
        excluded: np.ndarray | None = None,
    ):
        self.config = config or ForecastConfig()
        self.sel = sel or SelectionConfig()
        # ETS parameters by the content of the series they were estimated on (ets_params_key): a caller may
        # keep them between runs (the report does), the estimate being a function of that content alone
        self.ets_store = ets_store
        y = np.asarray(y, dtype=float)
        self.n = len(y)
        self.excluded = np.zeros(self.n, bool) if excluded is None else np.asarray(excluded, bool)[: self.n]
        self.missing = (
            np.isnan(y) | (np.zeros(self.n, bool) if missing is None else np.asarray(missing, bool)) | self.excluded
        )
        self.y = np.where(self.missing, 0.0, y)
        self.H = max(int(horizon), self.sel.horizon_days)
        self.dates = pd.date_range(dates[0], periods=self.n + self.H + 7, freq="D")
        cal = calendar_features(self.dates, calendar, channel, queue)
        hol_cols = [c for c in cal.columns if c.startswith(HOLIDAY_PREFIX)]
        self.special = cal[hol_cols].to_numpy(bool).any(axis=1) if hol_cols else np.zeros(len(self.dates), bool)
        ev_cols = [c for c in cal.columns if c.startswith("event_")]
        self.event_day = cal[ev_cols].to_numpy(bool).any(axis=1) if ev_cols else np.zeros(len(self.dates), bool)
        self.closed_holiday = (
            cal["holiday_closed"].to_numpy(bool) if "holiday_closed" in cal else np.zeros(len(self.dates), bool)
        )
        self.weekday = self.dates.dayofweek.to_numpy()
        hist = np.arange(self.n)
        self._by_wd = {d: hist[self.weekday[: self.n] == d] for d in range(7)}
        ok = ~self.missing
        clean = ok & ~self.special[: self.n]
        self._ok = {d: idx[ok[idx]] for d, idx in self._by_wd.items()}
        self._clean = {d: idx[clean[idx]] for d, idx in self._by_wd.items()}
        self.model = SeriesModel(dates[: self.n], self.y, calendar, self.H, self.config, channel, queue, self.missing)
        self._cache: dict[tuple[str, int], np.ndarray] = {}
        self._ets_params: dict[int, tuple[float, float, float] | None] = {}
        self._choices: dict[tuple[int, tuple[str, ...]], Choice] = {}  # by origin and candidate list
        self._shift: dict[int, int | None] = {}
        self._closed: dict[int, np.ndarray] = {}
        self._reg: dict[int, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
        self._sw: dict[tuple, np.ndarray] = {}
        self._inner_plan: dict[int, tuple[list[tuple[int, int, np.ndarray]], np.ndarray, np.ndarray, np.ndarray]] = {}

    # --- day classes ------------------------------------------------------------------------------

    def closed_weekdays(self, origin: int) -> np.ndarray:
        """Bool per weekday (Monday = 0): no volume on at least `closed_share` of its non-holiday, non-missing
        days over the 26 weeks up to `origin` (a weekday-only operation has Saturday and Sunday closed)."""
        if origin in self._closed:
            return self._closed[origin]
        lo = max(0, origin - 181)
        out = np.zeros(7, bool)
        for d in range(7):
            idx = self._clean[d]
            idx = idx[(idx >= lo) & (idx <= origin)]
            out[d] = len(idx) > 0 and float(np.mean(self.y[idx] <= 0)) >= self.sel.closed_share
        self._closed[origin] = out
        return out

    def _closed_future(self, origin: int, h: int) -> np.ndarray:
        fut = np.arange(origin + 1, origin + 1 + h)
        return self.closed_weekdays(origin)[self.weekday[fut]] | self.closed_holiday[fut]

    # --- candidates ---------------------------------------------------------------------------------

    def _same_weekday(self, origin: int, pool: dict[int, np.ndarray], n: int, how: str) -> np.ndarray:
        key = (origin, id(pool), n, how)
        if key not in self._sw:
            self._sw[key] = self._same_weekday_values(origin, pool, n, how)
        return self._sw[key]

    def _same_weekday_values(self, origin: int, pool: dict[int, np.ndarray], n: int, how: str) -> np.ndarray:
        vals = np.full(7, np.nan)
        for d in range(7):
            idx = pool[d]
            idx = idx[: np.searchsorted(idx, origin, side="right")][-n:]
            k = len(idx)
            if k:
                v = self.y[idx]
                if how == "last":
                    vals[d] = v[-1]
                elif how == "median":  # np.median's overhead is ~50x the sort of a few values
                    v = np.sort(v)
                    vals[d] = v[k // 2] if k % 2 else 0.5 * (v[k // 2 - 1] + v[k // 2])
                else:
                    vals[d] = v.sum() / k
        return vals

    def _weekday_values(self, name: str, origin: int) -> np.ndarray | None:
        spec = {
            "seasonal_naive": (self._ok, 1, "last"),
            "holiday_naive": (self._clean, 1, "last"),
            "seasonal_mean": (self._ok, 4, "mean"),
            "seasonal_median": (self._ok, 4, "median"),
            "holiday_mean": (self._clean, 4, "mean"),
            "holiday_median": (self._clean, 4, "median"),
            "holiday_mean_8": (self._clean, 8, "mean"),
            "holiday_median_8": (self._clean, 8, "median"),
        }.get(name)
        if spec is None:
            return None
        vals = self._same_weekday(origin, *spec)
        if name.startswith("holiday"):  # a weekday with no clean day falls back on all its recorded days
            plain = self._same_weekday(origin, self._ok, spec[1], spec[2])
            vals = np.where(np.isnan(vals), plain, vals)
        return vals

    def _recent_level(self, origin: int, since: int | None = None) -> np.ndarray:
        """Weekday shape (8-week holiday-aware medians) times the level of the last 7 clean days (of the clean
        days from `since` on, a detected level shift, when given): the median of their volume / shape, so one
        odd day (a spike on the last day) moves it by nothing, a shift moves it once most of the days have it."""
        shape = self._same_weekday(origin, self._clean, 8, "median")
        open_days = ~self.closed_weekdays(origin) & (np.nan_to_num(shape) > 0)
        if not open_days.any():
            return np.zeros(7)
        shape = shape / np.nanmean(shape[open_days])
        days = np.arange(max(0, origin - 6) if since is None else since, origin + 1)
        days = days[~self.missing[days] & ~self.special[days] & open_days[self.weekday[days]]]
        if not len(days):
            return np.nan_to_num(shape) * np.nan
        level = float(np.median(self.y[days] / shape[self.weekday[days]]))
        return np.where(open_days, shape * level, 0.0)

    def _ets(self, origin: int, h: int) -> np.ndarray:
        """Damped additive trend (statsmodels Holt) on log(1 + volume) of the open days, weekday effects
        removed; parameters estimated at the latest refit anchor on or before the origin, states filtered
        up to the origin. Holidays and missing days take their weekday's recent clean median."""
        s = self.sel
        anchor_abs = (self.dates[origin] - pd.Timestamp("1970-01-05")).days // s.ets_refit_days * s.ets_refit_days
        anchor = origin - ((self.dates[origin] - pd.Timestamp("1970-01-05")).days - anchor_abs)
        first = 8 * 7 - 1  # parameters need 8 weeks of history: before that the method has no forecast
        if origin < first:
            return np.full(h, np.nan)
        anchor = max(anchor, first)  # a short history: estimated once, at 8 weeks

        def prepared(o: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
            lo = max(0, o + 1 - s.ets_window_days)
            closed = self.closed_weekdays(o)
            days = np.arange(lo, o + 1)
            days = days[~closed[self.weekday[days]]]
            if len(days) < 21:
                return None
            ly = np.log1p(self.y[days])
            med = self._same_weekday(o, self._clean, 8, "median")
            bad = self.missing[days] | self.special[days]
            ly[bad] = np.log1p(np.nan_to_num(med[self.weekday[days[bad]]]))
            wd = self.weekday[days]
            recent = days > o - 56
            eff = np.zeros(7)
            for d in np.unique(wd):
                m = recent & (wd == d)
                eff[d] = ly[m].mean() if m.any() else ly[wd == d].mean()
            eff = eff - eff[np.unique(wd)].mean()
            return ly - eff[wd], eff, closed

        if anchor not in self._ets_params:
            prep = prepared(anchor)
            if prep is None:
                self._ets_params[anchor] = None
            else:
                key = ets_params_key(prep[0])
                stored = self.ets_store.get(key) if self.ets_store is not None else None
                if (
                    isinstance(stored, (list, tuple))
                    and len(stored) == 3
                    and all(isinstance(v, float) and math.isfinite(v) for v in stored)
                ):
                    self._ets_params[anchor] = (stored[0], stored[1], stored[2])
                else:
                    from statsmodels.tsa.holtwinters import Holt  # only when estimating: ~1 s of CPU to import

                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        r = Holt(prep[0], damped_trend=True, initialization_method="heuristic").fit(use_brute=False)
                    est = (
                        float(r.params["smoothing_level"]),
                        float(r.params["smoothing_trend"]),
                        float(r.params["damping_trend"]),
                    )
                    self._ets_params[anchor] = est
                    if self.ets_store is not None:
                        self.ets_store[key] = list(est)
        params = self._ets_params[anchor]
        prep = prepared(origin)
        if params is None or prep is None:
            return np.full(h, np.nan)
        z, eff, closed = prep
        fut = np.arange(origin + 1, origin + 1 + h)
        open_fut = ~closed[self.weekday[fut]]
        k = int(open_fut.sum())
        path = _damped_holt_path(z, *params, k)
        out = np.zeros(h)
        out[open_fut] = np.expm1(path + eff[self.weekday[fut[open_fut]]])
        return np.clip(out, 0, None)

    def forecast(self, name: str, origin: int, h: int | None = None) -> np.ndarray:
        """The candidate's forecast for days origin+1..origin+h (contacts per day; NaN where it has none),
        from the history up to `origin` only. Closed weekdays and closed holidays are 0."""
        h = self.H if h is None else h
        key = (name, origin)
        if key not in self._cache:
            self._cache[key] = self._compute(name, origin, self.H)
        return self._cache[key][:h]

    def _compute(self, name: str, origin: int, h: int) -> np.ndarray:
        fut = np.arange(origin + 1, origin + 1 + h)
        vals = self._weekday_values(name, origin)
        if vals is not None:
            out = vals[self.weekday[fut]]
        elif name == "recent_level":
            out = self._recent_level(origin)[self.weekday[fut]]
        elif name == "recent_level_restart":
            since = self.level_shift(origin)
            out = self._recent_level(origin, since)[self.weekday[fut]]
        elif name == "ets_damped":
            out = self._ets(origin, h)
        elif name == "quiet":
            out = np.zeros(h)
        elif name.startswith("shrink:"):
            _, lam, base, chosen = name.split(":", 3)
            fb = self.forecast(base, origin, h)
            out = fb + float(lam) * (self.forecast(chosen, origin, h) - fb)
        elif name.startswith("mean:"):
            out = np.mean([self.forecast(p, origin, h) for p in name[5:].split("+")], axis=0)
        elif name.startswith("combo_"):
            parts = {
                "combo_median_level": ("holiday_median", "recent_level"),
                "combo_median_ets": ("holiday_median", "ets_damped"),
                "combo_median_ensemble": ("holiday_median", "ensemble"),
            }[name]
            out = np.mean([self.forecast(p, origin, h) for p in parts], axis=0)
        elif name in ("ensemble", "regression") or name.startswith("regression_"):
            if origin + 1 < self.config.min_history_days:
                return np.full(h, np.nan)
            if origin not in self._reg:
                self._reg[origin] = self.model.predict_variants(origin, self.H, REGRESSION_VARIANTS, 14)
            fits = self._reg[origin]
            if name == "regression_level":
                # intercept correction: the no-trend regression moved by the median log residual of its last
                # 14 days (clean open days only): a level shift is followed within two weeks, one odd day is not
                reg = fits["regression_no_trend"][1]
                res, days = fits["regression_no_trend:residuals"]
                keep = ~self.missing[days] & ~self.special[days] & (self.y[days] > 0)
                shift = float(np.median(res[keep])) if keep.sum() >= 3 else 0.0
                out = (np.clip((reg + 1) * np.exp(shift) - 1, 0, None))[:h]
            else:
                ens, reg = fits["regression" if name == "ensemble" else name]
                out = (ens if name == "ensemble" else reg)[:h]
        else:
            raise UsageError(f"unknown forecast method {name!r}; known: {', '.join(CANDIDATES)}")
        out = np.clip(np.asarray(out, dtype=float), 0, None)
        out[self._closed_future(origin, h)] = 0.0
        return out

    def _left_out(self, origin: int) -> str:
        """How the days up to `origin` that the history does not use came to be left out, for a note."""
        excluded = bool(self.excluded[: origin + 1].any())
        gaps = bool((self.missing & ~self.excluded)[: origin + 1].any())
        return " or ".join(
            w for w, on in (("missing from the export", gaps), ("left out by the calendar", excluded)) if on
        )

    def export_missing(self) -> int:
        """The days of the history missing from the export (not those the calendar leaves out)."""
        return int((self.missing & ~self.excluded).sum())

    # --- the choice -------------------------------------------------------------------------------

    def inner_origins(self, origin: int) -> list[int]:
        s = self.sel
        return [o for o in (origin - 7 * j for j in range(1, s.inner_origins + 1)) if o + 1 >= s.min_history_days]

    def _inner_errors(self, name: str, origin: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(actual, forecast, horizon) of the candidate at the inner origins, days up to `origin` only,
        missing days left out."""
        return self._inner_errors_aged(name, origin)[:3]

    def _inner_errors_aged(self, name: str, origin: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """_inner_errors plus each day's age (days before the origin) for recency weights."""
        plan = self._inner_plan.get(origin)
        if plan is None:  # the scored days of every inner origin: the same for every candidate
            steps, hs, ts = [], [], []
            for o in self.inner_origins(origin):
                m = min(self.sel.horizon_days, origin - o)
                t = np.arange(o + 1, o + 1 + m)
                keep = ~self.missing[t]
                steps.append((o, m, keep))
                hs.append((t - o)[keep])
                ts.append(t[keep])
            if not steps:
                plan = (steps, np.zeros(0), np.zeros(0, int), np.zeros(0))
            else:
                t_all = np.concatenate(ts)
                plan = (steps, self.y[t_all], np.concatenate(hs), origin - t_all)
            self._inner_plan[origin] = plan
        steps, a, h, ages = plan
        if not steps:
            return a, np.zeros(0), h, ages
        f = np.concatenate([self.forecast(name, o, m)[keep] for o, m, keep in steps])
        return a, f, h, ages

    def level_shift(self, origin: int) -> int | None:
        """The first day (index) of a level shift seen in the last week up to `origin`, or None.

        Reference: the holiday-aware median of the last 4 same weekdays made a week before (origin - 7), with
        its own 80% interval for 1-7 days ahead (conformal quantiles of its inner log errors). A shift is
        `shift_run` or more clean open days in a row (missing days, holidays, eves, catch-up days and calendar
        event days skipped),
        ending at the last clean day, all above the interval or all below it: under the reference's own
        calibration each day is outside on one side with probability 0.1, so 5 in a row is ~1e-5 if
        independent (a control-chart rule; daily errors are correlated, hence a whole week)."""
        if origin in self._shift:
            return self._shift[origin]
        self._shift[origin] = None
        ref = origin - 7
        if ref + 1 < self.sel.min_history_days or len(self.inner_origins(ref)) < self.sel.min_inner_origins:
            return None
        a, f, h = self._inner_errors(FALLBACK, ref)
        live = (h <= 7) & ((a > 0) | (f >= 0.5))
        if live.sum() < self.sel.min_band_errors:
            return None
        lo, hi = conformal_quantiles(np.log1p(a[live]) - np.log1p(f[live]), self.config.level)
        days = np.arange(ref + 1, origin + 1)
        fc = self.forecast(FALLBACK, ref, 7)
        clean = ~self.missing[days] & ~self.special[days] & ~self.event_day[days] & (fc > 0)
        days, fc = days[clean], fc[clean]
        e = np.log1p(self.y[days]) - np.log1p(fc)
        side = np.where(e > hi, 1, np.where(e < lo, -1, 0))
        if not len(side) or side[-1] == 0:
            return None
        run = 0
        while run < len(side) and side[-1 - run] == side[-1]:
            run += 1
        if run >= self.sel.shift_run:
            self._shift[origin] = int(days[-run])
        return self._shift[origin]

    def quiet_since(self, origin: int) -> int | None:
        """The first day (index) of a run of days without a contact that the series' own level cannot explain:
        a queue closed or paused. None when there is none.

        The run: the open days up to `origin` with no contact (days missing from the export, closed holidays and
        closed weekdays skipped: they are not evidence), at least `shift_run` of them (a business week). Two
        tests: the series' mean over the 8 weeks of such days before the run makes the run's
        expected count mu, and with Poisson counts the chance of none at all is exp(-mu) <= 1% (mu >= ln 100 =
        4.6 contacts: 5 days of a 1-a-day queue, 16 of a 2-a-week one); and the run is longer than every quiet
        spell of the series' own 26 weeks before it (no stretch of as many such days there without a contact:
        counts that come in bursts have longer quiet spells than a Poisson level says)."""
        closed = self.closed_weekdays(origin)
        days = np.arange(origin + 1)
        days = days[~self.missing[: origin + 1] & ~self.closed_holiday[: origin + 1] & ~closed[self.weekday[days]]]
        if not len(days) or self.y[days[-1]] > 0:
            return None
        nonzero = np.flatnonzero(self.y[days] > 0)
        start = int(nonzero[-1]) + 1 if len(nonzero) else 0
        run = days[start:]
        past = days[:start]
        past = past[past > run[0] - 183]  # the 26 weeks before the run
        before = past[past > run[0] - 57]  # the 8 weeks before it
        if len(run) < self.sel.shift_run or not len(before):
            return None
        mu = float(self.y[before].mean()) * len(run)
        if mu < math.log(100):
            return None
        # and by the series' own record, for counts that come in bursts (a Poisson level understates their
        # quiet spells): in the 26 weeks before, no stretch of as many such days went without a contact (with
        # fewer such days than the run, there is no stretch to compare: the slices below are empty)
        k = len(run)
        seen = np.concatenate([[0], np.cumsum(self.y[past] > 0)])
        if (seen[k:] - seen[:-k] == 0).any():
            return None
        return int(run[0])

    def sparse_note(self, origin: int, forecast: np.ndarray) -> str | None:
        """A sentence when the series has no contact on most of its days and `forecast` (from `origin` on) holds
        fewer contacts than its recent average would: the forecast of a day that minimises the absolute error
        (WAPE, the selection's score) is the day's median, 0 for such a queue, while a staffing plan wants the
        expected count. None otherwise.

        Its days: the 8 weeks up to `origin`, days missing from the export and closed holidays left out, and the
        weekdays without a contact in those 8 weeks (closed); the same days of the next 28 forecast ones. The
        average: contacts per such day over the 8 weeks. No constant beyond "most" (the median is 0)."""
        days = np.arange(max(0, origin - 55), origin + 1)
        days = days[~self.missing[days] & ~self.closed_holiday[days]]
        had = np.zeros(7, bool)
        had[np.unique(self.weekday[days[self.y[days] > 0]])] = True
        days = days[had[self.weekday[days]]]
        if not len(days) or float(np.median(self.y[days])) > 0:
            return None
        ahead = np.arange(origin + 1, origin + 1 + min(28, len(forecast)))
        use = had[self.weekday[ahead]] & ~self.closed_holiday[ahead]
        average = float(self.y[days].mean()) * int(use.sum())
        held = float(np.asarray(forecast, float)[: len(ahead)][use].sum())
        if round(held) >= round(average):
            return None
        zero = int((self.y[days] <= 0).sum())
        return (
            f"no contact on most days ({zero} of {len(days)} in the last 8 weeks), so the forecast is the typical day, "
            f"0 on most days: {counted(round(held), 'contact')} over the next {counted(len(ahead), 'day')} against "
            f"{round(average):,} at its 8-week average, which a staffing plan wants (docs/forecasting.md)"
        )

    def choose(self, origin: int, candidates: Sequence[str] = CANDIDATES) -> Choice:
        """The method for forecasts made at `origin`, from the data up to `origin` only."""
        key = (origin, tuple(candidates))
        if key in self._choices:
            return self._choices[key]
        history = int((~self.missing[: origin + 1]).sum())
        inner = self.inner_origins(origin)
        level = self.config.level
        quiet = self.quiet_since(origin)
        if quiet is not None:
            had = np.flatnonzero(self.y[:quiet] > 0)  # its last contact (the run starts on the next open day)
            since = f"{self.dates[had[-1]]:%Y-%m-%d}, its last contact" if len(had) else "the start of its history"
            choice = Choice(
                "quiet",
                {},
                len(inner),
                history,
                np.zeros((len(BANDS), 2)),
                f"no contacts since {since} (none on the open days from {self.dates[quiet]:%Y-%m-%d}, more than "
                f"its level explains: a queue closed or paused): forecast 0 until it has contacts again",
            )
            self._choices[key] = choice
            return choice
        if len(inner) < self.sel.min_inner_origins:
            a, f, h = self._inner_errors(FALLBACK, origin) if inner else (np.zeros(0), np.zeros(0), np.zeros(0))
            q = self._band_quantiles(a, f, h, level)
            choice = Choice(
                FALLBACK,
                {},
                len(inner),
                history,
                q,
                # the days the history spans, as the too-short messages count them, and of them the missing ones
                # (a probe read "32 days" here and "33 days" from the backtest on one folder)
                f"{origin + 1} days of history"
                + (f" ({origin + 1 - history} of them {self._left_out(origin)})" if history < origin + 1 else "")
                + f": too short to compare methods (needs {self.sel.min_history_days + 7 * self.sel.min_inner_origins}"
                "); the holiday-aware median of the last 4 same weekdays is used",
            )
            self._choices[key] = choice
            return choice
        shift = self.level_shift(origin) if self.sel.shift_run > 0 else None
        if shift is not None:
            # the history before the shift no longer tells which method is right: restart the level from the
            # days since the shift; the interval from the recent-level method's own inner errors
            q = self._band_quantiles(*self._inner_errors("recent_level", origin), level)
            choice = Choice(
                "recent_level_restart",
                {},
                len(inner),
                history,
                q,
                f"level shift detected from {self.dates[shift]:%Y-%m-%d} ({self.sel.shift_run}+ days in a "
                f"row outside the weekday median's 80% interval): level restarted from the days since",
            )
            self._choices[key] = choice
            return choice
        scores: dict[str, float] = {}
        errors: dict[str, tuple] = {}
        hl = self.sel.recency_half_life_days
        weights: dict[str, np.ndarray] = {}
        blocks = np.zeros(0, int)
        for name in candidates:
            a, f, h, age = self._inner_errors_aged(name, origin)
            if not len(a) or np.isnan(f).any() or a.sum() <= 0:
                continue
            if not np.isfinite(self.forecast(name, origin)).all():
                continue  # no forecast from this origin (recent_level: no clean day in the last week)
            w = 0.5 ** (age / hl) if hl else np.ones(len(a))
            scores[name] = float((w * np.abs(a - f)).sum() / (w * a).sum())
            errors[name] = (a, f, h)
            weights[name] = w
            blocks = age + h  # days from each error's inner origin to `origin`: one id per inner origin
        if not scores:
            # every scored day of the inner origins is missing or left out (a long exclusion at the end): nothing to
            # compare methods on; the fallback median of the clean weekdays before them, when it has one
            if not np.isfinite(self.forecast(FALLBACK, origin)).all():
                raise ReportlibError("no forecast method could be scored on this history")
            choice = Choice(
                FALLBACK,
                {},
                len(inner),
                history,
                self._band_quantiles(np.zeros(0), np.zeros(0), np.zeros(0), level),
                f"no method could be compared: the days its last {len(inner)} weeks were scored on are "
                f"{self._left_out(origin) or 'missing'}; the holiday-aware median of the last 4 same weekdays "
                "before them is used, with a ±50% interval",
            )
            self._choices[key] = choice
            return choice
        best = min(scores.values())
        method = next(n for n in candidates if n in scores and scores[n] <= best * (1 + self.sel.tie) + 1e-12)
        if self.sel.combine > 1:
            ranked = sorted(scores, key=lambda n: (scores[n], candidates.index(n)))
            top = [method] + [n for n in ranked if n != method][: self.sel.combine - 1]
            method = "mean:" + "+".join(top)
            a, f, h = errors[top[0]]
            errors[method] = (a, np.mean([errors[n][1] for n in top], axis=0), h)
            w = weights[top[0]]  # the combination, scored like the candidates (same days, same weights)
            scores[method] = float((w * np.abs(a - errors[method][1])).sum() / (w * a).sum())
        nested, proposed = None, method
        if self.sel.baseline_rule:
            # the simple baselines on the same footing: unless the choice beats the best of them by the
            # near-tie margin on the same inner days, that baseline is the forecast (the simpler one wins)
            base = [b for b in SIMPLE if b in scores]
            if base:
                best_rule = min(base, key=lambda b: (scores[b], SIMPLE.index(b)))  # what the choice must beat
                best_simple = scores[best_rule]
                # the forecast if the rule falls back: the first within the near tie of the best (the simpler or
                # calendar-aware one, as for the candidates)
                bb = next(b for b in base if scores[b] <= best_simple * (1 + self.sel.tie) + 1e-12)
                noise = False
                if method not in SIMPLE and self.sel.baseline_margin == "se":
                    # the gain over the baseline is noise unless it exceeds its own standard error over the
                    # inner origins (one-standard-error rule; unweighted per-origin gains)
                    gain, se, n = paired_gain(errors[best_rule][0], errors[best_rule][1], errors[method][1], blocks)
                    noise = n < 2 or not gain > se
                elif method not in SIMPLE and self.sel.baseline_margin == "se_level":
                    a_m, f_m = errors[method][0], errors[method][1]
                    ids, inv = np.unique(blocks, return_inverse=True)
                    tot = np.bincount(inv, a_m, len(ids))
                    w_o = np.bincount(inv, np.abs(a_m - f_m), len(ids))[tot > 0] / tot[tot > 0]
                    se1 = float(np.std(w_o, ddof=1)) / math.sqrt(len(w_o)) if len(w_o) > 1 else math.inf
                    noise = best_simple <= scores[method] + se1
                elif method not in SIMPLE and self.sel.baseline_margin in ("nested", "nested_avg"):
                    # the procedure's own track record replaces the winner's inner score (which picked it and is
                    # optimistically biased): kept only if it beats the baseline by the near-tie margin
                    nested = self.nested_record(origin, best_rule, candidates)
                    rec, base_rec, _ = nested
                    noise = not (math.isfinite(rec) and rec * (1 + self.sel.tie) < base_rec - 1e-12)
                by_inner = nested is None  # the inner-score comparison, unless the track record replaced it
                if method not in SIMPLE and (
                    noise or (by_inner and best_simple <= scores[method] * (1 + self.sel.tie) + 1e-12)
                ):
                    method = bb
                elif method not in SIMPLE and self.sel.shrink:
                    lam = shrinkage_weight(errors[best_rule][0], errors[best_rule][1], errors[method][1], blocks)
                    a, fb, h = errors[best_rule]
                    blended = f"shrink:{lam:.3f}:{best_rule}:{method}"
                    fm = errors[method][1]
                    errors[blended] = (a, fb + float(f"{lam:.3f}") * (fm - fb), h)
                    scores[blended] = float(np.abs(a - errors[blended][1]).sum() / a.sum())
                    method = blended
        a_err, f_err, h_err = errors[method]
        q = self._band_quantiles(a_err, f_err, h_err, level)
        choice = Choice(method, scores, len(inner), history, q, nested=nested, proposed=proposed)
        self._choices[key] = choice
        return choice

    def nested_record(
        self, origin: int, baseline: str, candidates: Sequence[str] = CANDIDATES
    ) -> tuple[float, float, int]:
        """(procedure WAPE, baseline WAPE, inner origins): the selection procedure's own out-of-sample record
        before `origin`, against `baseline` on exactly the same days (shares 0..1 of volume).

        At each inner origin i of `origin` the procedure's choice there (`choose(i)`, from the data up to i only;
        with too little history that is the fallback median, as it would really have been) forecasts from i,
        scored on the days i+1..min(i + horizon_days, origin) that the inner scores use (missing days left out;
        days where either forecast is undefined left out of both). Every choice needed is made first, in
        increasing order of origin (origin - 7, origin - 14, ... back to the first with enough history), so the
        recursion is one level deep and each origin's choice is made once (cached); only origins before
        `origin` are chosen. NaN WAPEs when no day with volume is scored.
        """
        lattice = [o for o in range(origin - 7, -1, -7) if o + 1 >= self.sel.min_history_days]
        for i in reversed(lattice):
            self.choose(i, candidates)
        err_p = err_b = total = 0.0
        inner = self.inner_origins(origin)
        for i in inner:
            m = min(self.sel.horizon_days, origin - i)
            t = np.arange(i + 1, i + 1 + m)
            c = self.choose(i, candidates)
            fp = self.forecast(c.proposed if self.sel.baseline_margin == "nested_avg" else c.method, i, m)
            fb = self.forecast(baseline, i, m)
            keep = ~self.missing[t] & np.isfinite(fp) & np.isfinite(fb)
            a = self.y[t][keep]
            err_p += float(np.abs(a - fp[keep]).sum())
            err_b += float(np.abs(a - fb[keep]).sum())
            total += float(a.sum())
        if total <= 0:
            return math.nan, math.nan, len(inner)
        return err_p / total, err_b / total, len(inner)

    def _band_quantiles(self, a: np.ndarray, f: np.ndarray, h: np.ndarray, level: float) -> np.ndarray:
        """Per horizon band: the log-error quantiles of the central `level` interval (open days only)."""
        q = np.tile([math.log(0.5), math.log(1.5)], (len(BANDS), 1))  # no errors at all: +-50%
        live = ((a > 0) | (f >= 0.5)) & np.isfinite(f)  # a method without a forecast at an origin: not scored
        e = np.log1p(a[live]) - np.log1p(f[live])
        hh = h[live]
        if len(e) < 10:
            return q
        pooled = conformal_quantiles(e, level)
        for i, (lo, hi) in enumerate(BANDS):
            m = (hh >= lo) & (hh <= hi)
            q[i] = conformal_quantiles(e[m], level) if m.sum() >= self.sel.min_band_errors else pooled
        return q

    def bounds(self, origin: int, h: int, choice: Choice | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(forecast, lower, upper) of the chosen method for days origin+1..origin+h (beyond 28 days the
        last band's quantiles)."""
        choice = choice or self.choose(origin)
        f = self.forecast(choice.method, origin, h)
        hz = np.arange(1, h + 1)
        band = np.searchsorted([b[1] for b in BANDS], hz, side="left").clip(0, len(BANDS) - 1)
        lower = np.clip((f + 1) * np.exp(choice.quantiles[band, 0]) - 1, 0, None)
        upper = (f + 1) * np.exp(choice.quantiles[band, 1]) - 1
        closed = self._closed_future(origin, h)
        lower[closed] = upper[closed] = 0.0
        return f, np.minimum(lower, f), np.maximum(upper, f)


# --- the data as it is: missing export days ---------------------------------------------------------


def export_gaps(daily: pd.DataFrame, calendar: Calendar, open_share: float = 0.5) -> pd.DataFrame:
    """Days missing from the export (not zero contacts): date, weekday, reason.

    A day between the first and last day of `daily` (date, channel, queue, volume) is missing when no
    series has any volume on it (or it has no row at all), its weekday is open (volume on at least
    `open_share` of that weekday's days) and it is no holiday of the calendar (a holiday without volume
    is a closed day, not a gap; one the calendar keeps open is named by `silent_open_holidays`) — unless it
    is a holiday the calendar keeps open within 3 days of a missing day: the export was down around it.
    """
    idx, gap, _, present = _silent_days(daily, calendar, open_share)
    reason = np.where(present, "zero volume in every series on an open weekday", "no rows in the export")
    return pd.DataFrame({"date": idx[gap], "weekday": idx[gap].day_name(), "reason": reason[gap]})


def silent_open_holidays(daily: pd.DataFrame, calendar: Calendar, open_share: float = 0.5) -> pd.DatetimeIndex:
    """Holidays and eves the calendar keeps open (not under its closed list) on which no series had a contact,
    on open weekdays, away from missing days: read as zero contacts (holiday effects learn from them), which
    is right for a closure the calendar does not list and wrong for a day the export lost, so the forecast
    names them."""
    idx, _, quiet_holiday, _ = _silent_days(daily, calendar, open_share)
    return idx[quiet_holiday]


def _silent_days(
    daily: pd.DataFrame, calendar: Calendar, open_share: float
) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray, np.ndarray]:
    """(every day from the first to the last, missing from the export, a silent open holiday, the day has
    rows): see export_gaps."""
    if daily.empty:
        none = np.zeros(0, bool)
        return pd.DatetimeIndex([]), none, none, none
    tot = daily.groupby(pd.to_datetime(daily["date"]).dt.normalize())["volume"].sum()
    idx = pd.date_range(tot.index.min(), tot.index.max(), freq="D")
    present = idx.isin(tot.index)
    zero = tot.reindex(idx, fill_value=0.0).to_numpy() <= 0
    wd = idx.dayofweek.to_numpy()
    open_wd = np.array([(~zero[wd == d]).mean() >= open_share if (wd == d).any() else False for d in range(7)])
    cal = calendar_features(idx, calendar)
    hol = (
        cal[[c for c in cal.columns if c.startswith(HOLIDAY_PREFIX) and c != "holiday_after_closed"]]
        .to_numpy(bool)
        .any(axis=1)
        if len(cal.columns)
        else np.zeros(len(idx), bool)
    )
    closed = cal["holiday_closed"].to_numpy(bool) if "holiday_closed" in cal else np.zeros(len(idx), bool)
    silent = zero & open_wd[wd]
    gap = silent & ~hol
    quiet_holiday = silent & hol & ~closed
    # a silent open holiday next to missing days (within 3 days, chains of holidays followed both ways) was
    # lost with them
    for order in (np.flatnonzero(quiet_holiday), np.flatnonzero(quiet_holiday)[::-1]):
        for i in order:
            if gap[max(0, i - 3) : i + 4].any():
                gap[i], quiet_holiday[i] = True, False
    return idx, gap, quiet_holiday, present


def exclusion_notes(
    calendar: Calendar, series: Sequence[tuple[str, str, pd.Series]], queue: str | None = None
) -> list[str]:
    """The forecast's notes on the calendar's exclude_from_history: per series, the days of its history left out;
    and each item whose days lie in the history but leave out no series' day (a misspelt queue or channel). Items
    dated outside the history (a later month's, on an earlier month's page) and, with `queue`, items for other
    queues are not judged."""
    if not calendar.excluded:
        return []
    notes, used = [], [False] * len(calendar.excluded)
    for ch, q, s in series:
        masks = [excluded_days(replace(calendar, excluded=(ex,)), s.index, ch, q) for ex in calendar.excluded]
        used = [u or bool(m.any()) for u, m in zip(used, masks, strict=True)]
        days = s.index[np.logical_or.reduce(masks)]
        if len(days):
            notes.append(
                f"{ch}/{q}: {counted(len(days), 'day')} left out of the history as the calendar asks "
                f"({EXCLUDE_KEY}), like days missing from the export: {gap_runs(pd.DataFrame({'date': days}))}"
            )
    if queue is not None or not series:
        return notes
    span = pd.date_range(min(s.index[0] for _, _, s in series), max(s.index[-1] for _, _, s in series))
    for i, ex in enumerate(calendar.excluded):
        if (
            not used[i]
            and excluded_days(replace(calendar, excluded=({**ex, "queues": None, "channels": None},)), span).any()
        ):
            scope = "".join(f"; {k} {', '.join(ex[k])}" for k in ("channels", "queues") if ex[k])
            notes.append(
                f"calendar {EXCLUDE_KEY} item {i + 1} ({', '.join(f'{d:%Y-%m-%d}' for d in ex['dates'])}{scope}) "
                "names days of the history but leaves out none of any series: check its channels and queues"
            )
    return notes


def silent_holidays_note(daily: pd.DataFrame, calendar: Calendar) -> list[str]:
    """The forecast's note on silent_open_holidays (none when there are none)."""
    days = silent_open_holidays(daily, calendar)
    if not len(days):
        return []
    return [
        f"{counted(len(days), 'holiday or eve', 'holidays or eves')} the calendar keeps open had no contacts in any series, read as zero: "
        f"{', '.join(f'{d:%Y-%m-%d}' for d in days)} (closed then: list them under calendar closed; lost from "
        f"the export: they are not zero)"
    ]


def _calendar_label(column: str, calendar: Calendar) -> str:
    """What a calendar column (forecast.calendar_features) stands for, in words: an event's name (its split parts
    as one), "open public holidays", "holiday eves", "days after a closed holiday", "<category> holidays"."""
    if column.startswith("event_"):
        names = [str(ev["name"]) for ev in calendar.events if column.startswith(f"event_{ev['name']}")]
        return max(names, key=len) if names else column[len("event_") :]
    return {
        HOLIDAY_PREFIX: "open public holidays",
        f"{HOLIDAY_PREFIX}_eve": "holiday eves",
        f"{HOLIDAY_PREFIX}_after_closed": "days after a closed holiday",
    }.get(column, column[len(HOLIDAY_PREFIX) + 1 :] + " holidays")


def unseen_calendar_note(
    daily: pd.DataFrame,
    calendar: Calendar,
    forecast: pd.DataFrame,
    config: ForecastConfig | None = None,
    series: Sequence[tuple[str, str, pd.Series]] | None = None,
) -> list[str]:
    """The forecast's note on calendar days ahead that the history has never had (none when there are none).

    For each series of `forecast` (date, channel, queue, forecast: forecast_selected's), a calendar column (an
    event of calendar.yaml, an open public holiday, a holiday eve, the day after a closed holiday;
    forecast.calendar_features) that falls on a day it forecasts contacts on but on no day of the history a model
    learns from (the series' last config.max_history_days days of `daily`). The regression drops such a column (it
    carries no information) and the same-weekday rules know no events, so no candidate carries that day's effect:
    with five months of history, January's plan-year surge is forecast as an ordinary January. Days forecast at
    zero (closed holidays, weekdays the operation is closed on) are not counted: nothing is expected then.
    `series`: `daily` split into its series (daily_series), when the caller has done so already."""
    config = config or ForecastConfig()
    where: dict[str, list[str]] = {}
    when: dict[str, set[pd.Timestamp]] = {}
    history = {(ch, q): s for ch, q, s in (_series_frames(daily) if series is None else series)}
    ahead_all = forecast.assign(date=pd.to_datetime(forecast["date"]))
    n_series = 0
    for (ch, q), ahead in ahead_all.groupby(["channel", "queue"], sort=True):
        s = history.get((ch, q))
        if s is None:
            continue
        n_series += 1
        hist = s.index[-config.max_history_days :]
        days = pd.DatetimeIndex(ahead["date"]).sort_values()
        feats = calendar_features(hist.append(days), calendar, ch, q)
        seen = feats.iloc[: len(hist)].abs().sum() > 0
        expected = ahead.set_index("date")["forecast"].reindex(days).to_numpy(float) > 0
        coming = feats.iloc[len(hist) :][expected]  # open days: nothing is expected on a closed one
        unseen = (coming.abs().sum() > 0) & ~seen
        for column in feats.columns[unseen.to_numpy()]:
            if column != f"{HOLIDAY_PREFIX}_closed":
                label = _calendar_label(str(column), calendar)
                where.setdefault(label, []).append(f"{ch}/{q}")
                when.setdefault(label, set()).update(coming.index[coming[column].to_numpy() != 0])
    if not where:
        return []
    parts = []
    for label, names in sorted(where.items()):
        names = list(dict.fromkeys(names))
        first, last = min(when[label]), max(when[label])
        span = f"{first:%d %b %Y}" + (f" to {last:%d %b %Y}" if last > first else "")
        if len(names) == n_series:
            parts.append(f"{label}, {span} (every series)")
        else:
            more = f" and {len(names) - 3} more" if len(names) > 3 else ""
            parts.append(f"{label}, {span} ({', '.join(names[:3])}{more})")
    horizon = int(ahead_all.groupby(["channel", "queue"]).size().max())
    return [
        f"calendar days in the next {counted(horizon, 'day')} that the history has never had, so no forecast here "
        f"carries their effect (plan for them by hand; the forecast learns them once they have happened): "
        + "; ".join(parts)
    ]


def _series_frames(daily: pd.DataFrame, queue: str | None = None) -> list[tuple[str, str, pd.Series]]:
    return daily_series(daily, queue)


# A silence of every series longer than this many days restarts the history (after_long_silence): 8 weeks, the
# longest look-back of the same-weekday rules (holiday_mean_8), so no candidate reaches over it. Chosen before
# looking at any result; the evaluation set has no such silence and does not move (docs/forecasting.md).
RESTART_SILENCE_DAYS = 56


def after_long_silence(daily: pd.DataFrame, days: int = RESTART_SILENCE_DAYS) -> tuple[pd.DataFrame, str | None]:
    """(the rows of `daily` after its last silence of more than `days` days, a note saying so) — the whole frame
    and None when there is none.

    A silence: consecutive days on which no series of `daily` (date, channel, queue, volume) has any volume. Days
    before a long one are another history: an old system, a season long past, or a stray contact whose date was
    typed wrong (one contact dated 2016 or six months early made every weekday read as closed, the months between
    as zeros, and a phone forecast's 80% interval reach 750,000 a day). Neither a missing export day nor a closed
    day can be told from such a stretch, so the history restarts after it."""
    if daily.empty:
        return daily, None
    dates = pd.to_datetime(daily["date"]).dt.normalize()
    tot = daily.groupby(dates)["volume"].sum()
    busy = tot.index[tot.to_numpy() > 0].sort_values()
    if len(busy) < 2:
        return daily, None
    step = np.diff(busy.to_numpy()).astype("timedelta64[D]").astype(int) - 1  # silent days between busy days
    long = np.flatnonzero(step > days)
    if not len(long):
        return daily, None
    i = long[-1]
    before, start = busy[i], busy[i + 1]  # `daily` holds every series: the operation was silent, not one queue
    dropped = busy[: i + 1]
    span = f"{before:%Y-%m-%d}" if len(dropped) == 1 else f"{dropped[0]:%Y-%m-%d} to {before:%Y-%m-%d}"
    note = (
        f"the history starts on {start:%Y-%m-%d}: no series had a contact for {int(step[i])} days before it, so "
        f"the {counted(len(dropped), 'day')} with contacts before that silence ({span}) "
        f"{'is' if len(dropped) == 1 else 'are'} left out: another history, or dates typed wrong"
    )
    return daily[dates.to_numpy() >= start.to_datetime64()].reset_index(drop=True), note


def gap_runs(gaps: pd.DataFrame) -> str:
    """'2025-03-03..2025-03-07, 2025-04-14' from export_gaps' dates (consecutive days as a range; weekends
    inside a run do not break it)."""
    if gaps.empty:
        return ""
    d = pd.DatetimeIndex(gaps["date"]).sort_values()
    runs, start, prev = [], d[0], d[0]
    for x in d[1:]:
        if (x - prev).days <= 3:
            prev = x
            continue
        runs.append((start, prev))
        start = prev = x
    runs.append((start, prev))
    return ", ".join(f"{a:%Y-%m-%d}" if a == b else f"{a:%Y-%m-%d}..{b:%Y-%m-%d}" for a, b in runs)


# --- forecasts and the nested backtest ---------------------------------------------------------------


def _selector(
    ch: str,
    q: str,
    s: pd.Series,
    calendar: Calendar,
    horizon: int,
    config: ForecastConfig,
    sel: SelectionConfig,
    gaps: pd.DatetimeIndex,
    ets_store: MutableMapping[str, Any] | None = None,
) -> SeriesSelector:
    return SeriesSelector(
        s.index,
        s.to_numpy(),
        calendar,
        horizon,
        config,
        sel,
        ch,
        q,
        missing=np.asarray(s.index.isin(gaps)),
        ets_store=ets_store,
        excluded=excluded_days(calendar, s.index, ch, q),
    )


@one_blas_thread
def forecast_selected(
    daily: pd.DataFrame,
    calendar: Calendar,
    horizon_days: int = 91,
    config: ForecastConfig | None = None,
    origin: Any | None = None,
    queue: str | None = None,
    sel: SelectionConfig | None = None,
    shared: dict[tuple[str, str], SeriesSelector] | None = None,
    ets_store: MutableMapping[str, Any] | None = None,
    restart: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(forecast, selection, notes): the daily forecast of each series by its chosen method.

    forecast: date, channel, queue, forecast, lower, upper (contacts per day; 80% interval by default).
    selection: channel, queue, method, method_label, history_days, inner_origins, wape_inner (the chosen
    method's inner WAPE), wape_inner_<baseline> for each simple baseline, missing_days, note.
    notes: sentences for the report (missing export days, fallbacks).
    `shared` (a dict, filled here) keeps each series' SeriesSelector so that nested_backtest on the same
    daily frame reuses its cached candidate forecasts. `ets_store` (a dict, read and filled here): ETS
    parameters by ets_params_key, kept by the caller between runs (same results, fewer estimations).
    `restart`: the history restarts after a long silence of `daily` (after_long_silence); False when the caller
    has done so over the whole operation and `daily` holds one queue (whose own pause is not a restart).
    """
    config = config or ForecastConfig()
    sel = sel or SelectionConfig()
    if horizon_days < 1:
        raise UsageError(f"the horizon must be at least 1 day, got {horizon_days}")
    d = daily if origin is None else daily[pd.to_datetime(daily["date"]) <= pd.Timestamp(origin)]
    d, restarted = after_long_silence(d) if restart else (d, None)
    notes = [restarted] if restarted else []
    gaps = export_gaps(d, calendar)
    if len(gaps):
        notes.append(
            f"{counted(len(gaps), 'day')} missing from the export (no rows or no volume in any series on an open "
            f"weekday; left out of the model, not read as zero): {gap_runs(gaps)}"
        )
    notes += silent_holidays_note(d, calendar)
    gap_dates = pd.DatetimeIndex(gaps["date"])
    parts, rows = [], []
    series = _series_frames(d, queue)
    notes += exclusion_notes(calendar, series, queue)
    if all(len(s) < config.min_history_days for _, _, s in series):
        ch, q, s = max(series, key=lambda x: len(x[2]))
        raise ReportlibError(
            f"every series is too short to forecast: the longest, {ch}/{q}, has {counted(len(s), 'day')} of history; a "
            f"forecast needs at least {counted(config.min_history_days, 'day')}"
            + (f" ({restarted})" if restarted else "")
        )
    skipped: list[str] = []  # the series not forecast, and why (also in the notes)
    for ch, q, s in series:
        if len(s) < 7:  # a queue that started days ago: no weekday has a value yet
            skipped.append(f"{ch}/{q}: {counted(len(s), 'day')} of history, not forecast (a week is the least)")
            notes.append(skipped[-1])
            continue
        m = _selector(ch, q, s, calendar, max(horizon_days, sel.horizon_days), config, sel, gap_dates, ets_store)
        if shared is not None:
            shared[(ch, q)] = m
        o = len(s) - 1
        try:
            choice = m.choose(o)
        except ReportlibError as exc:  # this series alone (its whole history left out by the calendar)
            skipped.append(f"{ch}/{q}: not forecast: {exc}")
            notes.append(skipped[-1])
            continue
        f, lo, hi = m.bounds(o, horizon_days, choice)
        parts.append(
            pd.DataFrame(
                {
                    "date": m.dates[o + 1 : o + 1 + horizon_days],
                    "channel": ch,
                    "queue": q,
                    "forecast": f,
                    "lower": lo,
                    "upper": hi,
                }
            )
        )
        row = {
            "channel": ch,
            "queue": q,
            "method": choice.method,
            "method_label": method_label(choice.method),
            "history_days": choice.history_days,
            "inner_origins": choice.inner_origins,
            "wape_inner": choice.wape_inner.get(choice.method, np.nan),
        }
        row.update({f"wape_inner_{b}": choice.wape_inner.get(b, np.nan) for b in BASELINES})
        row.update({"missing_days": m.export_missing(), "note": choice.note})
        rows.append(row)
        if choice.note:
            notes.append(f"{ch}/{q}: {choice.note}")
        sparse = m.sparse_note(o, f) if choice.method != "quiet" else None
        if sparse:
            notes.append(f"{ch}/{q}: {sparse}")
    if not parts:
        raise ReportlibError("no series could be forecast: " + "; ".join(skipped))
    forecast = pd.concat(parts, ignore_index=True)
    return forecast, pd.DataFrame(rows), notes + unseen_calendar_note(d, calendar, forecast, config, series)


def winkler_scores(a: np.ndarray, lo: np.ndarray, hi: np.ndarray, level: float) -> np.ndarray:
    """Winkler interval score per day: width, plus 2/alpha times the distance outside the interval."""
    alpha = 1 - level
    return (hi - lo) + 2 / alpha * np.clip(lo - a, 0, None) + 2 / alpha * np.clip(a - hi, 0, None)


def _score(g: pd.DataFrame, level: float) -> dict[str, Any]:
    a = g["actual"].to_numpy(float)
    den = a.sum()

    def wape(col: str) -> float:
        return float(np.abs(a - g[col].to_numpy(float)).sum() / den) if den > 0 else float("nan")

    out: dict[str, Any] = {"wape": wape("forecast")}
    for b in BASELINES:
        out[f"wape_{b}"] = wape(b)
    best = min(BASELINES, key=lambda b: out[f"wape_{b}"] if np.isfinite(out[f"wape_{b}"]) else np.inf)
    out["best_baseline"], out["wape_best_baseline"] = best, out[f"wape_{best}"]
    sc = g["scale"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.abs(a - g["forecast"].to_numpy(float)) / sc
    r = r[np.isfinite(r)]
    out["mase"] = float(r.mean()) if len(r) else float("nan")
    open_days = a > 0
    lo, hi = g["lower"].to_numpy(float), g["upper"].to_numpy(float)
    out["coverage"] = float(((a >= lo) & (a <= hi))[open_days].mean()) if open_days.any() else float("nan")
    out["width"] = float((hi - lo)[open_days].sum() / a[open_days].sum()) if open_days.any() else float("nan")
    out["winkler"] = (
        float(winkler_scores(a, lo, hi, level)[open_days].sum() / a[open_days].sum())
        if open_days.any()
        else float("nan")
    )
    out["days"] = int(len(g))
    return out


@one_blas_thread
def nested_backtest(
    daily: pd.DataFrame,
    calendar: Calendar,
    horizon_days: int = 28,
    months: int = 3,
    config: ForecastConfig | None = None,
    step_days: int = 7,
    queue: str | None = None,
    origins: Sequence[Any] | None = None,
    sel: SelectionConfig | None = None,
    candidates: Sequence[str] = CANDIDATES,
    shared: Mapping[tuple[str, str], SeriesSelector] | None = None,
    restart: bool = True,
) -> Backtest:
    """Nested rolling-origin backtest of the per-series selection, against each simple baseline.

    Outer origins: every `step_days` (weekly) from `months` months before each series' last day to the last
    origin whose whole horizon is in the data (or `origins`). At each, the method is chosen from inner
    origins before it (SeriesSelector.choose) and its forecast and 80% interval scored on the next
    `horizon_days` days; days missing from the export are not scored. Summary per series (and 'all'):
    model ('selected'), wape, wape_<baseline> for each of BASELINES, best_baseline, wape_best_baseline,
    mase, coverage (days with contacts inside the interval), width (sum of interval widths / sum of
    actuals), winkler (sum of Winkler scores / sum of actuals), method (chosen at the last origin),
    methods (how often each was chosen), history_days (at the last origin), missing_days, origins,
    horizon_days, days; plus wape_holiday_mean as before. `shared`: the selectors forecast_selected made
    from the same daily frame (their cached forecasts are reused; same results). `restart`: as forecast_selected's.
    """
    config = config or ForecastConfig()
    sel = sel or SelectionConfig()
    daily, restarted = after_long_silence(daily) if restart else (daily, None)
    notes = [restarted] if restarted else []
    gaps = export_gaps(daily, calendar)
    gap_dates = pd.DatetimeIndex(gaps["date"])
    if len(gaps):
        notes.append(
            f"{counted(len(gaps), 'day')} missing from the export, not scored and not read as zero: {gap_runs(gaps)}"
        )
    notes += silent_holidays_note(daily, calendar)
    notes += exclusion_notes(calendar, _series_frames(daily, queue), queue)
    rows: list[Any] = []
    meta: dict[tuple[str, str], dict[str, Any]] = {}
    H = horizon_days
    for ch, q, s in _series_frames(daily, queue):
        o_dates = (
            pd.DatetimeIndex(origins) if origins is not None else backtest_origins(s.index[-1], H, months, step_days)
        )
        o_dates = o_dates[(o_dates >= s.index[0]) & (o_dates <= s.index[-1] - pd.Timedelta(days=H))]
        if len(s) < config.min_history_days:
            notes.append(f"{ch}/{q}: too short for a backtest")
            continue
        m = (shared or {}).get((ch, q))
        if m is None or m.n != len(s) or m.dates[0] != s.index[0] or m.H < H or m.sel != sel or m.config != config:
            m = _selector(ch, q, s, calendar, H, config, sel, gap_dates)
        y = m.y
        ok = ~m.missing
        diffs = np.where(ok[7:] & ok[:-7], np.abs(y[7:] - y[:-7]), 0.0)
        cnt = np.concatenate([[0], np.cumsum(ok[7:] & ok[:-7])])
        cum = np.concatenate([[0.0], np.cumsum(diffs)])
        parts: dict[str, list] = {
            k: []
            for k in (
                "origin",
                "horizon",
                "date",
                "actual",
                "forecast",
                "lower",
                "upper",
                "method",
                "scale",
                *BASELINES,
            )
        }
        last_choice, failed = None, False
        for od in o_dates:
            o = int((od - s.index[0]).days)
            if o + 1 < sel.min_history_days:
                continue
            try:
                choice = m.choose(o, candidates)
            except ReportlibError as exc:  # this series alone: not scored from here
                notes.append(f"{ch}/{q}: not backtested from {od:%Y-%m-%d}: {exc}")
                failed = True
                break
            f, lo, hi = m.bounds(o, H, choice)
            t = np.arange(o + 1, o + 1 + H)
            keep = ok[t]
            k = max(0, o - 6)
            scale = cum[k] / cnt[k] if cnt[k] > 0 else np.nan
            values = {
                "origin": np.repeat(np.datetime64(od, "ns"), H),
                "horizon": np.arange(1, H + 1),
                "date": m.dates[t].to_numpy(),
                "actual": y[t],
                "forecast": f,
                "lower": lo,
                "upper": hi,
                "method": np.repeat(choice.method, H),
                "scale": np.full(H, scale if scale > 0 else np.nan),
            }
            for b in BASELINES:
                values[b] = m.forecast(b, o, H)
            for key, v in values.items():
                parts[key].append(np.asarray(v)[keep])
            last_choice = choice
        if last_choice is None:
            if not failed:
                notes.append(f"{ch}/{q}: too short for a {months}-month backtest at {H} days")
            continue
        frame = pd.DataFrame({k: np.concatenate(v) for k, v in parts.items()})
        frame.insert(0, "queue", q)
        frame.insert(0, "channel", ch)
        rows.append(frame)
        meta[(ch, q)] = {
            "method": last_choice.method,
            "history_days": last_choice.history_days,
            "missing_days": m.export_missing(),
            "note": last_choice.note,
        }
        if last_choice.note:
            notes.append(f"{ch}/{q}: {last_choice.note}")
    if not rows:
        ch, q, s = max(_series_frames(daily, queue), key=lambda x: len(x[2]))
        raise ReportlibError(
            f"no series has enough history for a backtest over {months} months at a {H}-day horizon: the longest, "
            f"{ch}/{q}, has {counted(len(s), 'day')} (the origins lie in the last {months} months, each with the whole "
            f"{H}-day horizon after it and history before it)"
        )
    errors = pd.concat(rows, ignore_index=True)
    level = config.level
    by_h = pd.DataFrame([{"horizon": h, **_score(g, level)} for h, g in errors.groupby("horizon")])
    summary = []
    for (ch, q), g in errors.groupby(SERIES, sort=True):
        counts = g.drop_duplicates("origin")["method"].value_counts()
        summary.append(
            {
                "channel": ch,
                "queue": q,
                "model": "selected",
                **_score(g, level),
                "origins": int(g["origin"].nunique()),
                "horizon_days": H,
                **meta[(ch, q)],
                "methods": ", ".join(f"{k} x{v}" for k, v in counts.items()),
            }
        )
    if len(summary) > 1:
        counts = errors.drop_duplicates(SERIES + ["origin"])["method"].value_counts()
        summary.append(
            {
                "channel": ALL_QUEUES,
                "queue": ALL_QUEUES,
                "model": "selected",
                **_score(errors, level),
                "origins": int(errors["origin"].nunique()),
                "horizon_days": H,
                "method": "",
                "history_days": max(int(v["history_days"]) for v in meta.values()),
                "missing_days": max(int(v["missing_days"]) for v in meta.values()),
                "note": "",
                "methods": ", ".join(f"{k} x{v}" for k, v in counts.items()),
            }
        )
    return Backtest(errors, by_h, pd.DataFrame(summary), notes)


def forecast_daily(
    daily: pd.DataFrame,
    calendar: Calendar,
    horizon_days: int = 91,
    config: ForecastConfig | None = None,
    origin: Any | None = None,
    queue: str | None = None,
    components: bool = False,
) -> pd.DataFrame:
    """Daily forecast per channel and queue: date, channel, queue, forecast, lower, upper (contacts per day).

    Uses the history up to `origin` (default: each series' last day) and forecasts `horizon_days` days
    after it with the method chosen for each series by its own nested backtest
    (`forecast_selected`, which also returns the choice and notes); lower/upper
    bound the `config.level` (80%) prediction interval from that method's out-of-sample errors. With
    components=True the regression and seasonal-average parts of the ensemble are added as columns.
    """
    config = config or ForecastConfig()
    out, _, _ = forecast_selected(daily, calendar, horizon_days, config, origin, queue)
    if components:
        reg_parts = []
        for ch, q, s in daily_series(daily, queue):
            if origin is not None:
                s = s[s.index <= pd.Timestamp(origin)]
            model = SeriesModel(s.index, s.to_numpy(), calendar, horizon_days, config, ch, q)
            _, reg, sma = model.predict(len(s) - 1)
            reg_parts.append(pd.DataFrame({"regression": reg, "seasonal_average": sma}))
        out = pd.concat([out, pd.concat(reg_parts, ignore_index=True)], axis=1)
    return out


def evidence_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Per series, the evidence a report shows: channel, queue, method (label), history_days, wape,
    each baseline's WAPE, best_baseline, coverage, width, winkler (from nested_backtest's summary)."""
    cols = [
        "channel",
        "queue",
        "method",
        "history_days",
        "wape",
        *[f"wape_{b}" for b in BASELINES],
        "best_baseline",
        "coverage",
        "width",
        "winkler",
        "missing_days",
    ]
    out = summary[[c for c in cols if c in summary.columns]].copy()
    out["method_label"] = out["method"].map(method_label)
    return out.reset_index(drop=True)


def method_label(method: str) -> str:
    """A method's plain-language description ('mean:a+b' is the average of a and b)."""
    if method.startswith("shrink:"):
        _, lam, base, chosen = method.split(":", 3)
        return (
            f"{METHOD_LABELS.get(base, base)}, moved {float(lam):.0%} of the way to the "
            f"{method_label(chosen)} (weight by its evidence)"
        )
    if method.startswith("mean:"):
        return "average of " + "; ".join(METHOD_LABELS.get(p, p) for p in method[5:].split("+"))
    return METHOD_LABELS.get(method, method)


def candidate_settings() -> Mapping[str, str]:
    """Every candidate method's name and a one-line description (for docs and the report)."""
    return dict(METHOD_LABELS)


__all__ = [
    "BASELINES",
    "CANDIDATES",
    "FALLBACK",
    "METHOD_LABELS",
    "SelectionConfig",
    "SeriesSelector",
    "Choice",
    "ets_params_key",
    "paired_gain",
    "shrinkage_weight",
    "export_gaps",
    "gap_runs",
    "forecast_selected",
    "forecast_daily",
    "nested_backtest",
    "evidence_table",
    "SELECTION_COLUMNS",
    "candidate_settings",
]
