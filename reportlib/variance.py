"""Plan vs actual: how many points of service level volume, handle time, staffing and the rest cost.

Units: service levels and effects are shares 0..1 (0.061 = 6.1 points), times in seconds, agents as
average agents on the queue in an interval, agent hours in hours, volumes in contacts.

The method (docs/plan-vs-actual.md has the maths and a worked example)
----------------------------------------------------------------------
Per interval i of a channel/queue, the service level is modelled with the project's Erlang A
(``staffing.erlang_a_service_level``; patience estimated from the month's abandons as
``staffing.estimate_patience`` does) as f(V, H, N): offered contacts V, handle time H (s) and
agents N. The plan is (V0, H0, N0) = (forecast_offered, forecast_aht_s, planned_agents), the actual
(V1, H1, N1) = (offered, measured AHT, staffed_agents).

* planned SL of the interval P_i = f(V0, H0, N0); model SL at actual inputs M_i = f(V1, H1, N1);
  measured SL S_i = answered within the threshold / offered.
* M_i - P_i is split among volume, handle time and staffing by Shapley values over the three
  factors (the average over all 6 orders of switching them from plan to actual; 8 evaluations of
  f). A factor whose input did not change gets exactly 0; the three add up to M_i - P_i.
* other_i = S_i - M_i: what the model does not explain (arrival bursts, routing, abandon
  behaviour, pooling across queues).
* With scheduled_agents Nsch, the staffing value splits along plan -> schedule -> staffed: each
  Shapley term f(., N1) - f(., N0) is the sum of f(., Nsch) - f(., N0) (schedule) and
  f(., N1) - f(., Nsch) (attendance), so the parts add up to the staffing effect exactly.

A period (the month per queue, a day or a week) aggregates intervals as answered-within-threshold
contacts: planned SL = sum V0 P_i / sum V0 (planned answered-within contacts over planned
contacts), actual SL = sum answered within / sum V1. With P the period's planned SL, interval i
contributes, in contacts,

    volume    (V1 - V0)(P_i - P) + V1 e_volume_i
    aht       V1 e_aht_i
    staffing  V1 e_staffing_i          (schedule, attendance: V1 times their parts)
    other     V1 other_i

and the period's effect is that sum over its intervals divided by sum V1. They add up to
actual SL - planned SL exactly (the proof is one line, in the docs). The first volume term is the
mix: contacts that came in intervals planned above (below) the period's plan raise (lower) it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import ReportlibError, UsageError
from .staffing import erlang_a_service_level, estimate_patience

KEYS = ["channel", "queue"]
BY_CHOICES = ("queue", "day", "week")
EFFECTS = ["effect_volume", "effect_aht", "effect_staffing", "effect_other"]
STAFFING_PARTS = ["effect_schedule", "effect_attendance"]
LIVE_CHANNELS = ("phone", "chat")
# The interval frame that `interval_effects` takes (scheduled_agents optional).
INTERVAL_INPUTS = ["channel", "queue", "interval_start", "interval_minutes", "forecast_offered", "forecast_aht_s",
                   "planned_agents", "offered", "aht_s", "staffed_agents", "answered_within", "answer_s",
                   "patience_s"]
RECORD_COLUMNS = ["channel", "queue", "period", "planned_sl", "actual_sl", "effect_volume", "effect_aht",
                  "effect_staffing", "effect_schedule", "effect_attendance", "effect_other", "model_sl",
                  "forecast_offered", "offered", "volume_change", "forecast_aht_s", "aht_s", "planned_agent_hours",
                  "scheduled_agent_hours", "staffed_agent_hours", "answered_within", "intervals"]


# --- one interval ----------------------------------------------------------------------------------


def shapley3(f: Any, plan: Sequence[np.ndarray], actual: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Shapley values of three factors for f(x0, x1, x2) moving from `plan` to `actual` (arrays).

    Returns (phi0, phi1, phi2, f_plan, f_actual): phi_k is the average over the 6 orders of switching
    the factors of the change in f when factor k switches; phi0 + phi1 + phi2 = f_actual - f_plan
    (to rounding). f is evaluated once on the 8 corners stacked together (vectorized).
    """
    n = len(np.asarray(plan[0]))
    corners = [(a, b, c) for a in (0, 1) for b in (0, 1) for c in (0, 1)]
    args = [np.concatenate([np.asarray(actual[k] if corner[k] else plan[k], dtype=float) for corner in corners])
            for k in range(3)]
    values = np.asarray(f(*args), dtype=float).reshape(8, n)
    v = {corner: values[i] for i, corner in enumerate(corners)}
    phis = []
    for k in range(3):
        phi = np.zeros(n)
        for corner in corners:
            if corner[k]:
                continue
            with_k = tuple(1 if j == k else corner[j] for j in range(3))
            size = sum(corner)  # how many other factors already switched
            weight = 1.0 / 3.0 if size in (0, 2) else 1.0 / 6.0
            phi = phi + weight * (v[with_k] - v[corner])
        phis.append(phi)
    return phis[0], phis[1], phis[2], v[(0, 0, 0)], v[(1, 1, 1)]


def _split_staffing(f: Any, plan: Sequence[np.ndarray], actual: Sequence[np.ndarray],
                    middle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The staffing Shapley value of `shapley3` split along plan -> `middle` -> actual (factor 2).

    Every term f(., n1) - f(., n0) of the staffing value is written f(., m) - f(., n0) plus
    f(., n1) - f(., m); the same weights give (first part, second part), which add up to it.
    """
    n = len(np.asarray(plan[0]))
    corners = [(a, b) for a in (0, 1) for b in (0, 1)]
    x0 = np.concatenate([np.asarray(actual[0] if a else plan[0], dtype=float) for a, _ in corners])
    x1 = np.concatenate([np.asarray(actual[1] if b else plan[1], dtype=float) for _, b in corners])
    vals = {}
    for label, x2 in (("0", plan[2]), ("m", middle), ("1", actual[2])):
        out = np.asarray(f(x0, x1, np.tile(np.asarray(x2, dtype=float), 4)), dtype=float).reshape(4, n)
        for i, corner in enumerate(corners):
            vals[(corner, label)] = out[i]
    first = np.zeros(n)
    second = np.zeros(n)
    for corner in corners:
        weight = 1.0 / 3.0 if sum(corner) in (0, 2) else 1.0 / 6.0
        first = first + weight * (vals[(corner, "m")] - vals[(corner, "0")])
        second = second + weight * (vals[(corner, "1")] - vals[(corner, "m")])
    return first, second


def interval_effects(frame: pd.DataFrame, staffing_measured: bool = True) -> pd.DataFrame:
    """Per interval: planned_sl, model_sl, measured_sl and the effects (shares 0..1) of volume, AHT, staffing.

    `frame` has INTERVAL_INPUTS (scheduled_agents optional): forecast_offered and offered in
    contacts, forecast_aht_s and aht_s in seconds (a missing one takes the other's value: no handle
    time effect there), planned_agents and staffed_agents as average agents in the interval,
    answered_within in contacts, answer_s the service threshold (s), patience_s the mean patience (s;
    inf or missing: nobody abandons, Erlang C). `staffing_measured=False` models staffed = planned
    (the staffing effect is then NaN and what staffing did falls into other).

    Returned: the input columns plus planned_sl (f at plan), model_sl (f at actual), measured_sl
    (answered_within / offered; the model's when nothing was offered), effect_volume, effect_aht,
    effect_staffing, effect_schedule, effect_attendance (NaN without scheduled_agents), effect_other.
    In every row the effects add up to measured_sl - planned_sl.
    """
    missing = [c for c in INTERVAL_INPUTS if c not in frame.columns]
    if missing:
        raise UsageError(f"interval_effects needs columns {', '.join(missing)}")
    out = frame.copy()
    v0 = _num(out["forecast_offered"])
    v1 = _num(out["offered"])
    h0 = _num(out["forecast_aht_s"])
    h1 = _num(out["aht_s"])
    h0 = np.where(np.isfinite(h0) & (h0 > 0), h0, h1)
    h1 = np.where(np.isfinite(h1) & (h1 > 0), h1, h0)
    bad = ~(np.isfinite(h0) & (h0 > 0)) & ((v0 > 0) | (v1 > 0))
    if bad.any():
        row = out.loc[bad].iloc[0]
        raise ReportlibError(f"no handle time (planned or actual) for {row['channel']}/{row['queue']} at "
                             f"{row['interval_start']}: give forecast_aht_s in interval_plan")
    h0 = np.where(np.isfinite(h0) & (h0 > 0), h0, 1.0)  # no contacts either way: any value
    h1 = np.where(np.isfinite(h1) & (h1 > 0), h1, 1.0)
    n0 = _num(out["planned_agents"])
    n1 = _num(out["staffed_agents"]) if staffing_measured else n0.copy()
    n1 = np.where(np.isfinite(n1), n1, n0)
    for name, arr in (("forecast_offered", v0), ("offered", v1), ("planned_agents", n0)):
        if not np.all(np.isfinite(arr) & (arr >= 0)):
            raise ReportlibError(f"{name} must be a number >= 0 in every interval")
    interval_s = _num(out["interval_minutes"]) * 60.0
    answer = _num(out["answer_s"])
    patience = _num(out["patience_s"])
    patience = np.where(np.isfinite(patience) & (patience > 0), patience, np.inf)

    def f(v: np.ndarray, h: np.ndarray, n: np.ndarray) -> np.ndarray:
        k = len(v) // len(interval_s)
        return erlang_a_service_level(n, v, h, np.tile(interval_s, k), np.tile(answer, k), np.tile(patience, k))

    e_v, e_h, e_n, planned, model = shapley3(f, (v0, h0, n0), (v1, h1, n1))
    within = _num(out["answered_within"])
    with np.errstate(divide="ignore", invalid="ignore"):
        measured = np.where(v1 > 0, within / v1, model)
    out["planned_sl"] = planned
    out["model_sl"] = model
    out["measured_sl"] = measured
    out["effect_volume"] = e_v
    out["effect_aht"] = e_h
    out["effect_staffing"] = e_n if staffing_measured else np.nan
    out["effect_other"] = measured - model
    out["effect_schedule"] = np.nan
    out["effect_attendance"] = np.nan
    if staffing_measured and "scheduled_agents" in out.columns:
        ns = _num(out["scheduled_agents"])
        has = np.isfinite(ns)
        if has.any():
            sub = lambda a: a[has]  # noqa: E731
            first, second = _split_staffing(
                lambda v, h, n: erlang_a_service_level(
                    n, v, h, np.tile(interval_s[has], len(v) // has.sum()), np.tile(answer[has], len(v) // has.sum()),
                    np.tile(patience[has], len(v) // has.sum())),
                (sub(v0), sub(h0), sub(n0)), (sub(v1), sub(h1), sub(n1)), ns[has])
            sched = np.full(len(out), np.nan)
            att = np.full(len(out), np.nan)
            sched[has], att[has] = first, second
            out["effect_schedule"] = sched
            out["effect_attendance"] = att
    out["_h0"] = h0
    out["_h1"] = h1
    out["_n1"] = n1
    return out


def _num(s: Any) -> np.ndarray:
    return pd.to_numeric(pd.Series(s), errors="coerce").astype("float64").to_numpy().copy()


# --- periods ----------------------------------------------------------------------------------------


def period_labels(starts: pd.Series, by: str, month: str | None = None) -> pd.Series:
    """The period of each interval start: the month (by queue), the day, or the week's Monday (YYYY-MM-DD)."""
    t = pd.to_datetime(starts)
    if by == "queue":
        return t.dt.strftime("%Y-%m") if month is None else pd.Series(month, index=t.index)
    if by == "day":
        return t.dt.strftime("%Y-%m-%d")
    if by == "week":
        day = t.dt.normalize()
        return (day - pd.to_timedelta(day.dt.dayofweek, unit="D")).dt.strftime("%Y-%m-%d")
    raise UsageError(f"--by must be one of {', '.join(BY_CHOICES)}, got {by!r}")


def aggregate_effects(intervals: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Aggregate `interval_effects` rows into periods by answered-within-threshold contacts (see module doc).

    `keys` are the grouping columns (e.g. channel, queue, period). Returns one row per group with
    planned_sl, actual_sl, the effects (shares 0..1; they add up to actual_sl - planned_sl), model_sl
    and the inputs: forecast_offered, offered, volume_change (offered / forecast - 1), forecast_aht_s
    and aht_s (contact-weighted, s), planned/scheduled/staffed agent hours, answered_within, intervals.
    Groups with no contacts planned or offered are left out; a group with planned but no offered
    contacts has no actual SL (NaN, and NaN effects).
    """
    keys = list(keys)
    d = intervals
    v0 = d["forecast_offered"].to_numpy(float)
    v1 = d["offered"].to_numpy(float)
    hours = d["interval_minutes"].to_numpy(float) / 60.0
    work = d[keys].copy()
    cols = {
        "v0": v0, "v1": v1, "p_c": v0 * d["planned_sl"].to_numpy(float),
        "a_c": d["answered_within"].to_numpy(float), "m_c": v1 * d["model_sl"].to_numpy(float),
        "h0_c": v0 * d["_h0"].to_numpy(float), "h1_c": v1 * d["_h1"].to_numpy(float),
        "n0_h": d["planned_agents"].to_numpy(float) * hours, "n1_h": d["_n1"].to_numpy(float) * hours,
        "ns_h": (d["scheduled_agents"].to_numpy(float) * hours) if "scheduled_agents" in d else np.full(len(d), np.nan),
        "count": np.ones(len(d)), "p_i": d["planned_sl"].to_numpy(float),
    }
    for name in ("effect_aht", "effect_staffing", "effect_schedule", "effect_attendance", "effect_other",
                 "effect_volume"):
        cols["c_" + name] = v1 * d[name].to_numpy(float)
    for k, v in cols.items():
        work[k] = v
    g = work.groupby(keys, sort=True, observed=True, dropna=False)
    sums = g[[k for k in cols if k != "p_i"]].sum(min_count=1)
    # NaN effect columns stay NaN for the group when any of its intervals is NaN
    nan_any = g[["c_effect_staffing", "c_effect_schedule", "c_effect_attendance", "ns_h"]].agg(lambda s: s.isna().any())
    for c in nan_any.columns:
        sums.loc[nan_any[c], c] = np.nan
    sums = sums[(sums["v0"] > 0) | (sums["v1"] > 0)]
    v0s, v1s = sums["v0"].to_numpy(), sums["v1"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        # no planned contacts: every interval's planned SL is f(0, .) = 1, so the plan is 1
        planned = np.where(v0s > 0, sums["p_c"].to_numpy() / v0s, 1.0)
        actual = np.where(v1s > 0, sums["a_c"].to_numpy() / v1s, np.nan)
    # the mix term needs each interval's P_i against its own group's planned SL
    pbar = pd.Series(planned, index=sums.index)
    idx = pd.MultiIndex.from_frame(work[keys]) if len(keys) > 1 else pd.Index(work[keys[0]])
    work["mix"] = (v1 - v0) * (work["p_i"].to_numpy() - pbar.reindex(idx).to_numpy())
    mix = work.groupby(keys, sort=True, observed=True, dropna=False)["mix"].sum().reindex(sums.index)
    out = sums.reset_index()[keys].copy()
    out["planned_sl"] = planned
    out["actual_sl"] = actual
    with np.errstate(divide="ignore", invalid="ignore"):
        div = np.where(v1s > 0, v1s, np.nan)
        out["effect_volume"] = (mix.to_numpy() + sums["c_effect_volume"].to_numpy()) / div
        for name in ("effect_aht", "effect_staffing", "effect_schedule", "effect_attendance", "effect_other"):
            out[name] = sums["c_" + name].to_numpy() / div
        out["model_sl"] = sums["m_c"].to_numpy() / div
        out["forecast_offered"] = v0s
        out["offered"] = v1s
        out["volume_change"] = np.where(v0s > 0, v1s / v0s - 1.0, np.nan)
        out["forecast_aht_s"] = np.where(v0s > 0, sums["h0_c"].to_numpy() / v0s, np.nan)
        out["aht_s"] = sums["h1_c"].to_numpy() / div
    out["planned_agent_hours"] = sums["n0_h"].to_numpy()
    out["scheduled_agent_hours"] = sums["ns_h"].to_numpy()
    out["staffed_agent_hours"] = sums["n1_h"].to_numpy()
    out["answered_within"] = sums["a_c"].to_numpy()
    out["intervals"] = sums["count"].to_numpy().astype(int)
    return out.reset_index(drop=True)


def decompose(intervals: pd.DataFrame, by: str = "queue", month: str | None = None, totals: bool = True,
              staffing_measured: bool = True) -> pd.DataFrame:
    """Plan-vs-actual records per channel, queue and period from an interval frame (INTERVAL_INPUTS).

    `by`: 'queue' (one record per queue for the whole span, period = `month`), 'day' or 'week'.
    `totals` adds a queue 'all' record per channel and period (every queue's contacts together).
    Columns: RECORD_COLUMNS (shares 0..1, seconds, hours, contacts).
    """
    if by not in BY_CHOICES:
        raise UsageError(f"--by must be one of {', '.join(BY_CHOICES)}, got {by!r}")
    eff = interval_effects(intervals, staffing_measured=staffing_measured)
    eff["period"] = period_labels(eff["interval_start"], by, month).to_numpy()
    eff["channel"] = eff["channel"].astype(str)
    eff["queue"] = eff["queue"].astype(str)
    parts = [aggregate_effects(eff, ["channel", "queue", "period"])]
    if totals and len(eff):
        all_q = eff.assign(queue="all")
        parts.append(aggregate_effects(all_q, ["channel", "queue", "period"]))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=RECORD_COLUMNS)
    order = {c: i for i, c in enumerate(LIVE_CHANNELS)}
    out["_c"] = out["channel"].map(lambda c: order.get(c, 9))
    out["_q"] = (out["queue"] == "all").astype(int)
    out = out.sort_values(["_c", "channel", "_q", "queue", "period"]).drop(columns=["_c", "_q"])
    return out[RECORD_COLUMNS].reset_index(drop=True)
