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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from reportlib.core.errors import ReportlibError, UsageError
from reportlib.core.names import ALL_QUEUES, LIVE_CHANNELS
from reportlib.core.settings import MetricSettings
from reportlib.core.words import counted
from reportlib.data.span import data_range
from reportlib.metrics.contacts import caller_wait_total, minute_bucket
from reportlib.planning.staffing import erlang_a_service_level, estimate_patience, service_targets

KEYS = ["channel", "queue"]
BY_CHOICES = ("queue", "day", "week")
# The interval frame that `interval_effects` takes (scheduled_agents optional).
INTERVAL_INPUTS = [
    "channel",
    "queue",
    "interval_start",
    "interval_minutes",
    "forecast_offered",
    "forecast_aht_s",
    "planned_agents",
    "offered",
    "aht_s",
    "staffed_agents",
    "answered_within",
    "answer_s",
    "patience_s",
]
RECORD_COLUMNS = [
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
    "model_sl",
    "forecast_offered",
    "offered",
    "volume_change",
    "forecast_aht_s",
    "aht_s",
    "planned_agent_hours",
    "scheduled_agent_hours",
    "staffed_agent_hours",
    "answered_within",
    "intervals",
]


# --- one interval ----------------------------------------------------------------------------------


def shapley3(f: Any, plan: Sequence[np.ndarray], actual: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Shapley values of three factors for f(x0, x1, x2) moving from `plan` to `actual` (arrays).

    Returns (phi0, phi1, phi2, f_plan, f_actual): phi_k is the average over the 6 orders of switching
    the factors of the change in f when factor k switches; phi0 + phi1 + phi2 = f_actual - f_plan
    (to rounding). f is evaluated once on the 8 corners stacked together (vectorized).
    """
    n = len(np.asarray(plan[0]))
    corners = [(a, b, c) for a in (0, 1) for b in (0, 1) for c in (0, 1)]
    args = [
        np.concatenate([np.asarray(actual[k] if corner[k] else plan[k], dtype=float) for corner in corners])
        for k in range(3)
    ]
    values = np.asarray(f(*args), dtype=float).reshape(8, n)
    v = {corner: values[i] for i, corner in enumerate(corners)}
    phis = []
    for k in range(3):
        phi = np.zeros(n)
        for corner in corners:
            if corner[k]:
                continue
            with_k = (1 if k == 0 else corner[0], 1 if k == 1 else corner[1], 1 if k == 2 else corner[2])
            size = sum(corner)  # how many other factors already switched
            weight = 1.0 / 3.0 if size in (0, 2) else 1.0 / 6.0
            phi = phi + weight * (v[with_k] - v[corner])
        phis.append(phi)
    return phis[0], phis[1], phis[2], v[(0, 0, 0)], v[(1, 1, 1)]


def _split_staffing(
    f: Any, plan: Sequence[np.ndarray], actual: Sequence[np.ndarray], middle: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
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


def day_shaped(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The actual volume and handle time the model sees per interval: (volume, aht_s).

    Volume: the day's actual contacts of the channel/queue spread over its intervals in the plan's
    proportions (r V0 with r = the day's sum V1 / sum V0; the interval's own V1 where the day had
    nothing planned). Handle time: the day's actual AHT, its handle time over its handled contacts (each
    interval's aht_s weighted by its `handled`; by its offered contacts when the frame has no `handled`: a
    probe found the offered weights 0.5 s off `reportlib kpis`' AHT). How the day's contacts
    and handle times fell across its intervals differently from the plan (intraday bursts and Poisson
    swings) is then part of other: a model fed each interval's own count would read the random
    swings of a few calls as a volume change and, SL being concave in volume, charge them to volume
    even on a day exactly on forecast.
    """
    day = pd.to_datetime(frame["interval_start"]).dt.normalize()
    keys = [frame["channel"].astype(str), frame["queue"].astype(str), day]
    v0 = _num(frame["forecast_offered"])
    v1 = _num(frame["offered"])
    h1 = _num(frame["aht_s"])
    weight = _num(frame["handled"]) if "handled" in frame else v1
    ok_h = np.isfinite(h1) & (h1 > 0) & (weight > 0)
    g = pd.DataFrame(
        {
            "v0": v0,
            "v1": v1,
            "hv": np.where(ok_h, h1 * weight, 0.0),
            "w": np.where(ok_h, weight, 0.0),
            "hmin": np.where(ok_h, h1, np.inf),
            "hmax": np.where(ok_h, h1, -np.inf),
        }
    )
    grouped = g.groupby(keys, sort=False)
    tot = grouped[["v0", "v1", "hv", "w"]].transform("sum")
    same = (grouped["hmin"].transform("min") == grouped["hmax"].transform("max")).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = tot["v1"].to_numpy() / tot["v0"].to_numpy()
        vol = np.where(tot["v0"].to_numpy() > 0, v0 * ratio, v1)
        vol = np.where(v0 == v1, v1, vol)  # unchanged stays bit-for-bit unchanged
        aht = np.where(tot["w"].to_numpy() > 0, tot["hv"].to_numpy() / tot["w"].to_numpy(), h1)
        # one handle time all day: that value exactly (a weighted mean could round it)
        aht = np.where(same & ok_h, h1, aht)
        aht = np.where(same & ~ok_h & (tot["w"].to_numpy() > 0), grouped["hmin"].transform("min").to_numpy(), aht)
    return vol, aht


def interval_effects(frame: pd.DataFrame, staffing_measured: bool = True, shape: str = "day") -> pd.DataFrame:
    """Per interval: planned_sl, model_sl, measured_sl and the effects (shares 0..1) of volume, AHT, staffing.

    `frame` has INTERVAL_INPUTS (scheduled_agents optional): forecast_offered and offered in
    contacts, forecast_aht_s and aht_s in seconds (a missing one takes the other's value: no handle
    time effect there), planned_agents and staffed_agents as average agents in the interval,
    answered_within in contacts, answer_s the service threshold (s), patience_s the mean patience (s;
    inf or missing: nobody abandons, Erlang C); an optional concurrency column (contacts an agent handles at
    once, 1 when absent) makes the model's servers agents x concurrency. `staffing_measured=False` models staffed = planned
    (the staffing effect is then NaN and what staffing did falls into other). `shape`: 'day' models
    each interval at the day's volume on the plan's intraday shape and the day's AHT (`day_shaped`),
    'interval' at the interval's own count and AHT.

    Returned: the input columns plus planned_sl (f at plan), model_sl (f at actual), measured_sl
    (answered_within / offered; the model's when nothing was offered), effect_volume, effect_aht,
    effect_staffing, effect_schedule, effect_attendance (NaN without scheduled_agents), effect_other.
    In every row the effects add up to measured_sl - planned_sl.
    """
    missing = [c for c in INTERVAL_INPUTS if c not in frame.columns]
    if missing:
        raise UsageError(f"interval_effects needs columns {', '.join(missing)}")
    out = frame.copy()
    if shape not in ("day", "interval"):
        raise UsageError(f"shape must be 'day' or 'interval', got {shape!r}")
    v0 = _num(out["forecast_offered"])
    v1_count = _num(out["offered"])
    h0 = _num(out["forecast_aht_s"])
    v1, h1 = day_shaped(out) if shape == "day" else (v1_count, _num(out["aht_s"]))
    h0 = np.where(np.isfinite(h0) & (h0 > 0), h0, h1)
    h1 = np.where(np.isfinite(h1) & (h1 > 0), h1, h0)
    bad = ~(np.isfinite(h0) & (h0 > 0)) & ((v0 > 0) | (v1_count > 0))
    if bad.any():
        row = out.loc[bad].iloc[0]
        raise ReportlibError(
            f"no handle time (planned or actual) for {row['channel']}/{row['queue']} at "
            f"{row['interval_start']}: give forecast_aht_s in interval_plan"
        )
    h0 = np.where(np.isfinite(h0) & (h0 > 0), h0, 1.0)  # no contacts either way: any value
    h1 = np.where(np.isfinite(h1) & (h1 > 0), h1, 1.0)
    n0 = _num(out["planned_agents"])
    n1 = _num(out["staffed_agents"]) if staffing_measured else np.full(len(out), np.nan)
    measured_n = np.isfinite(n1)  # staffing not measured in a row: modelled as planned, effect NaN
    n1 = np.where(measured_n, n1, n0)
    for name, arr in (("forecast_offered", v0), ("offered", v1_count), ("planned_agents", n0)):
        if not np.all(np.isfinite(arr) & (arr >= 0)):
            raise ReportlibError(f"{name} must be a number >= 0 in every interval")
    interval_s = _num(out["interval_minutes"]) * 60.0
    answer = _num(out["answer_s"])
    patience = _num(out["patience_s"])
    patience = np.where(np.isfinite(patience) & (patience > 0), patience, np.inf)
    # contacts an agent handles at once (capacity service_targets): the model's servers are agents x concurrency
    conc = _num(out["concurrency"]) if "concurrency" in out.columns else np.ones(len(out))
    conc = np.where(np.isfinite(conc) & (conc >= 1), conc, 1.0)

    def f(v: np.ndarray, h: np.ndarray, n: np.ndarray) -> np.ndarray:
        k = len(v) // len(interval_s)
        servers = n * np.tile(conc, k)
        return erlang_a_service_level(servers, v, h, np.tile(interval_s, k), np.tile(answer, k), np.tile(patience, k))

    e_v, e_h, e_n, planned, model = shapley3(f, (v0, h0, n0), (v1, h1, n1))
    within = _num(out["answered_within"])
    with np.errstate(divide="ignore", invalid="ignore"):
        measured = np.where(v1_count > 0, within / v1_count, model)
    out["planned_sl"] = planned
    out["model_sl"] = model
    out["measured_sl"] = measured
    out["effect_volume"] = e_v
    out["effect_aht"] = e_h
    out["effect_staffing"] = np.where(measured_n, e_n, np.nan)
    out["effect_other"] = measured - model
    out["effect_schedule"] = np.nan
    out["effect_attendance"] = np.nan
    if staffing_measured and "scheduled_agents" in out.columns:
        ns = _num(out["scheduled_agents"])
        has = np.isfinite(ns) & measured_n
        if has.any():

            def sub(a: np.ndarray) -> np.ndarray:
                return a[has]

            first, second = _split_staffing(
                lambda v, h, n: erlang_a_service_level(
                    n * np.tile(conc[has], len(v) // has.sum()),
                    v,
                    h,
                    np.tile(interval_s[has], len(v) // has.sum()),
                    np.tile(answer[has], len(v) // has.sum()),
                    np.tile(patience[has], len(v) // has.sum()),
                ),
                (sub(v0), sub(h0), sub(n0)),
                (sub(v1), sub(h1), sub(n1)),
                ns[has],
            )
            sched = np.full(len(out), np.nan)
            att = np.full(len(out), np.nan)
            sched[has], att[has] = first, second
            out["effect_schedule"] = sched
            out["effect_attendance"] = att
    out["model_offered"] = v1
    out["model_aht_s"] = h1
    out["_h0"] = h0
    out["_h1"] = h1
    out["_n1"] = np.where(measured_n, n1, np.nan)  # staffed as measured: the model's stand-in is not a measure
    return out


# Contacts a plan may expect of a queue after its last one before its silence is named: with Poisson arrivals at
# the plan's rate, no contact where it expected more than ln(100) = 4.6 has a chance under 1% (the 1% of the
# forecast's quiet-queue rule, not fitted to any data).
QUIET_EXPECTED = float(np.log(100.0))


def _gone_quiet(plan: pd.DataFrame, actual: pd.DataFrame) -> list[str]:
    """A note per planned queue that had contacts in the month and then none, where its plan expected more than
    QUIET_EXPECTED after its last one: a queue renamed or closed mid-month, whose plan for the rest of the month
    is still set against its contacts (a probe renamed Debit Card on the 15th: the new name was said to have no
    plan, the old one's half-empty month was not said). `plan`, `actual`: interval_start, channel, queue and
    forecast_offered / offered, over the data's span."""
    seen = actual[_num(actual["offered"]) > 0].groupby(KEYS, as_index=False)["interval_start"].max()
    p = plan[KEYS + ["interval_start", "forecast_offered"]].merge(seen.rename(columns={"interval_start": "last"}))
    after = p[p["interval_start"] > p["last"]]
    per = after.groupby(KEYS + ["last"], as_index=False)["forecast_offered"].sum()
    return [
        f"{c}/{q} had no contact after {last:%Y-%m-%d %H:%M} where its plan expected {n:,.0f} more: renamed or "
        "closed? Its plan after then is still set against its contacts"
        for c, q, last, n in per[per["forecast_offered"] > QUIET_EXPECTED].itertuples(index=False)
    ]


def _unstaffed_days(frame: pd.DataFrame, no_row: np.ndarray) -> list[str]:
    """The days on which a queue of interval_staffing has no row at all while it handled contacts, each as
    "2026-11-17 (1,605 handled in 3 queues)": `no_row` marks the frame's intervals (interval_start, channel, queue,
    handled) of a staffed queue without a staffing row. A day missing from the staffing export reads as nobody on;
    its handled contacts say somebody was (a probe: a day's rows deleted moved phone's staffing by 3.7 points and
    nothing said so)."""
    day = pd.to_datetime(frame["interval_start"]).dt.normalize()
    g = pd.DataFrame(
        {"day": day, "queue": frame["channel"].astype(str) + "/" + frame["queue"].astype(str), "missing": no_row}
    ).assign(handled=_num(frame["handled"]), rows=1)
    per = g.groupby(["day", "queue"]).agg(missing=("missing", "sum"), rows=("rows", "sum"), handled=("handled", "sum"))
    gone = per[(per["missing"] == per["rows"]) & (per["handled"] > 0)].reset_index()
    days = gone.groupby("day").agg(handled=("handled", "sum"), queues=("queue", "size"))
    return [
        f"{d:%Y-%m-%d} ({r.handled:,.0f} handled in {counted(int(r.queues), 'queue')})"
        for d, r in days.sort_index().iterrows()
    ]


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
    (contact-weighted, s) and aht_s (the period's handle time over its handled contacts, s; the model's
    contact-weighted handle time where the rows carry no handled contacts), planned/scheduled/staffed agent
    hours, answered_within, intervals.
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
        "v0": v0,
        "v1": v1,
        "p_c": v0 * d["planned_sl"].to_numpy(float),
        "a_c": d["answered_within"].to_numpy(float),
        "m_c": v1 * d["model_sl"].to_numpy(float),
        "h0_c": v0 * d["_h0"].to_numpy(float),
        "h1_c": v1 * d["_h1"].to_numpy(float),
        # the period's actual AHT, as `reportlib kpis` gives it: handle time over handled contacts
        "hs": d["handle_s_total"].to_numpy(float) if "handle_s_total" in d else np.zeros(len(d)),
        "hn": d["handled"].to_numpy(float) if "handled" in d else np.zeros(len(d)),
        "n0_h": d["planned_agents"].to_numpy(float) * hours,
        "n1_h": d["_n1"].to_numpy(float) * hours,
        "ns_h": (d["scheduled_agents"].to_numpy(float) * hours) if "scheduled_agents" in d else np.full(len(d), np.nan),
        "count": np.ones(len(d)),
        "p_i": d["planned_sl"].to_numpy(float),
    }
    for name in (
        "effect_aht",
        "effect_staffing",
        "effect_schedule",
        "effect_attendance",
        "effect_other",
        "effect_volume",
    ):
        cols["c_" + name] = v1 * d[name].to_numpy(float)
    for k, v in cols.items():
        work[k] = v
    g = work.groupby(keys, sort=True, observed=True, dropna=False)
    sums = g[[k for k in cols if k != "p_i"]].sum(min_count=1)
    # NaN effect columns stay NaN for the group when any of its intervals is NaN
    nan_any = g[["c_effect_staffing", "c_effect_schedule", "c_effect_attendance", "ns_h", "n1_h"]].agg(
        lambda s: s.isna().any()
    )
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
        hn = sums["hn"].to_numpy()
        out["aht_s"] = np.where(
            hn > 0, sums["hs"].to_numpy() / np.where(hn > 0, hn, 1.0), sums["h1_c"].to_numpy() / div
        )
    out["planned_agent_hours"] = sums["n0_h"].to_numpy()
    out["scheduled_agent_hours"] = sums["ns_h"].to_numpy()
    out["staffed_agent_hours"] = sums["n1_h"].to_numpy()
    out["answered_within"] = sums["a_c"].to_numpy()
    out["intervals"] = sums["count"].to_numpy().astype(int)
    return out.reset_index(drop=True)


def decompose(
    intervals: pd.DataFrame,
    by: str = "queue",
    month: str | None = None,
    totals: bool = True,
    staffing_measured: bool = True,
    shape: str = "day",
) -> pd.DataFrame:
    """Plan-vs-actual records per channel, queue and period from an interval frame (INTERVAL_INPUTS).

    `by`: 'queue' (one record per queue for the whole span, period = `month`), 'day' or 'week'.
    `totals` adds a queue 'all' record per channel and period (every queue's contacts together).
    Columns: RECORD_COLUMNS (shares 0..1, seconds, hours, contacts).
    """
    if by not in BY_CHOICES:
        raise UsageError(f"--by must be one of {', '.join(BY_CHOICES)}, got {by!r}")
    return records_from_effects(
        interval_effects(intervals, staffing_measured=staffing_measured, shape=shape), by, month, totals
    )


def records_from_effects(
    eff: pd.DataFrame, by: str = "queue", month: str | None = None, totals: bool = True
) -> pd.DataFrame:
    """`decompose` from rows `interval_effects` already returned."""
    eff = eff.copy()
    eff["period"] = period_labels(eff["interval_start"], by, month).to_numpy()
    eff["channel"] = eff["channel"].astype(str)
    eff["queue"] = eff["queue"].astype(str)
    parts = [aggregate_effects(eff, ["channel", "queue", "period"])]
    if totals and len(eff):
        all_q = eff.assign(queue=ALL_QUEUES)
        parts.append(aggregate_effects(all_q, ["channel", "queue", "period"]))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=RECORD_COLUMNS)
    order = {c: i for i, c in enumerate(LIVE_CHANNELS)}
    out["_c"] = out["channel"].map(lambda c: order.get(c, 9))
    out["_q"] = (out["queue"] == ALL_QUEUES).astype(int)
    out = out.sort_values(["_c", "channel", "_q", "queue", "period"]).drop(columns=["_c", "_q"])
    return out[RECORD_COLUMNS].reset_index(drop=True)


# --- from a data source ------------------------------------------------------------------------------


@dataclass
class Variance:
    """Plan vs actual for a month: the records, the interval effects behind them, where each input came from.

    unplanned: the queues with contacts in the month but no plan (channel, queue, offered), left out of
    every record, the all-queues ones too. span: the time the source's data covers (DataSpan); the plan is
    compared over the intervals inside it only.
    """

    month: str
    by: str
    records: pd.DataFrame
    intervals: pd.DataFrame
    plan_source: str
    staffing_source: str
    staffing_measured: bool
    notes: list[str] = field(default_factory=list)
    unplanned: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["channel", "queue", "offered"]))
    span: DataSpan | None = None


def service_thresholds(params: Mapping[str, Any]) -> dict[str, float]:
    """Seconds within which a contact counts as answered in time, per live channel (staffing.service_targets)."""
    targets = service_targets(params.get("capacity"))
    return {ch: targets[ch]["answer_s"] for ch in LIVE_CHANNELS}


def patience_table(intervals: pd.DataFrame) -> pd.DataFrame:
    """Per channel and queue: abandoned, wait_s_total (s, every caller's wait) and patience_s (s), the
    exponential estimate of staffing.estimate_patience over the rows of `intervals` (actual_intervals).
    NaN where the waiting was not measured (wait_s_total NaN in every row of the queue)."""
    pat = intervals.groupby(KEYS, as_index=False)[["abandoned", "wait_s_total"]].sum(min_count=1)
    pat["abandoned"] = pat["abandoned"].fillna(0.0)
    pat["patience_s"] = (
        np.asarray(
            estimate_patience(pat["abandoned"].to_numpy(float), pat["wait_s_total"].to_numpy(float)), dtype=float
        )
        if len(pat)
        else np.array([], dtype=float)
    )
    return pat


def actual_intervals(
    source: Any, start: Any, end: Any, minutes: int, answer_s: Mapping[str, float], short_abandon_s: float = 5.0
) -> pd.DataFrame:
    """Per live channel, queue and local interval of `minutes` in [start, end): offered, handled,
    handle_s_total (s), answered_within (contacts answered within the channel's answer_s), abandoned,
    wait_s_total (s; every caller's wait, answered and abandoned), counted in the engine from contacts
    (short abandons are not offered) or from the intervals table (its threshold_s must equal answer_s;
    wait_s_total NaN unless it has abandon_wait_s_total too: metrics.contacts.caller_wait_total)."""
    lo, hi = pd.Timestamp(start).to_pydatetime(), pd.Timestamp(end).to_pydatetime()
    if source.has("contacts"):
        t = source.table("contacts")
        t = t.filter((t.arrived_at >= lo) & (t.arrived_at < hi) & t.channel.isin(list(LIVE_CHANNELS)))
        short = ((t.outcome == "abandoned") & (t.wait_s < short_abandon_s)).fill_null(False)
        t = t.filter(~short)
        thr = (t.channel == "phone").ifelse(float(answer_s["phone"]), float(answer_s["chat"]))
        handled = t.outcome == "handled"
        agg = (
            t.group_by(interval_start=minute_bucket(t.arrived_at, minutes), channel=t.channel, queue=t.queue)
            .aggregate(
                offered=t.count(),
                handled=handled.sum(),
                handle_s_total=handled.ifelse(t.handle_s, 0).sum(),
                answered_within=(handled & (t.wait_s <= thr)).fill_null(False).sum(),
                abandoned=(t.outcome == "abandoned").sum(),
                wait_s_total=t.wait_s.fill_null(0).sum(),
            )
            .to_pandas()
        )
    elif source.has("intervals"):
        t = source.table("intervals")
        t = t.filter((t.interval_start >= lo) & (t.interval_start < hi) & t.channel.isin(list(LIVE_CHANNELS)))
        sizes = sorted(int(v) for v in t.interval_minutes.value_counts().to_pandas().iloc[:, 0].dropna())
        if any(minutes % s for s in sizes):
            raise ReportlibError(
                f"intervals of {', '.join(map(str, sizes))} minutes cannot be summed into the "
                f"plan's {minutes}-minute intervals"
            )
        busy = t.filter(t.offered > 0)
        thr_ok = (
            busy.aggregate(
                n=busy.count(),
                bad=(
                    (busy.channel == "phone").ifelse(float(answer_s["phone"]), float(answer_s["chat"]))
                    != busy.threshold_s
                )
                .fill_null(True)
                .sum(),
            )
            .to_pandas()
            .iloc[0]
        )
        if thr_ok["bad"]:
            raise ReportlibError(
                f"{source.file_name('intervals')}: answered_within_threshold must be counted at "
                f"{answer_s['phone']:g} s (phone) and {answer_s['chat']:g} s (chat), the service "
                f"targets in parameters; {int(thr_ok['bad'])} interval rows have another or no threshold_s"
            )
        agg = (
            t.group_by(interval_start=minute_bucket(t.interval_start, minutes), channel=t.channel, queue=t.queue)
            .aggregate(
                offered=t.offered.sum(),
                handled=t.handled.sum(),
                handle_s_total=t.handle_s_total.sum(),
                answered_within=t.answered_within_threshold.sum(),
                abandoned=t.abandoned.sum(),
                wait_s_total=caller_wait_total(t),
            )
            .to_pandas()
        )
    else:
        source.require("contacts")
        raise ReportlibError("no contacts or intervals table")  # pragma: no cover
    agg["interval_start"] = pd.to_datetime(agg["interval_start"]).astype("datetime64[ns]")
    for c in ("offered", "handled", "handle_s_total", "answered_within", "abandoned", "wait_s_total"):
        agg[c] = pd.to_numeric(agg[c], errors="coerce").astype(float)
    agg["channel"] = agg["channel"].astype(str)
    agg["queue"] = agg["queue"].astype(str)
    return agg.sort_values(["channel", "queue", "interval_start"]).reset_index(drop=True)


@dataclass(frozen=True)
class DataSpan:
    """The time the whole source's data covers (every channel and queue: one queue going quiet does not end it).

    first, last: the first and last moment with data, contact arrivals (else interval starts); end: when the
    data ends, the last arrival (else the last interval's end, interval_start + interval_minutes). Local
    times, as the tables hold them.
    """

    first: pd.Timestamp
    last: pd.Timestamp
    end: pd.Timestamp


def data_span(source: Any) -> DataSpan | None:
    """The source's DataSpan: first and last from data.span.data_range (contacts, else intervals); the end is
    the last arrival, or for an intervals table the last interval's end (counted in the engine). None
    without rows."""
    first, last = data_range(source)
    if first is None or last is None:
        return None
    if source.has("contacts") or not source.has("intervals"):
        return DataSpan(first, last, last)

    def interval_end() -> pd.Timestamp:
        t = source.table("intervals")
        stop = (t.interval_start + t.interval_minutes.cast("int32").as_interval("m")).max()
        return pd.Timestamp(stop.to_pyarrow().as_py())

    return DataSpan(first, last, source.memo(("intervals_end",), interval_end))


def _within_data(starts: pd.Series, minutes: int, span: DataSpan | None) -> np.ndarray:
    """Which intervals of `minutes` starting at `starts` hold a moment of the data's span: start <= last and
    start + minutes > first (an interval with no contacts inside the span is a zero-contact interval)."""
    t = pd.to_datetime(starts)
    if span is None:
        return np.ones(len(t), dtype=bool)
    return ((t <= span.last) & (t + pd.Timedelta(minutes=minutes) > span.first)).to_numpy()


def real_minutes(starts: pd.Series, minutes: int, tz: str) -> np.ndarray:
    """The real length (minutes) of each local interval of `minutes` starting at `starts` (local wall time): twice
    `minutes` for one inside the hour the clocks go back, whose two passes share one local wall time and come as
    one row (the data contract's merge: counts summed, agents averaged; contacts are bucketed by local time the
    same way), else `minutes`. Read as `minutes` long, such a row held twice the calls in the time: a probe's
    night queue with 10 calls every half hour read a planned service level of 0.85 (Erlang C: 0.98) and half
    the agent hours. A start in the hour the clocks go forward keeps `minutes` (validate warns of it)."""
    from reportlib.data.load import repeated_local_times

    repeated = repeated_local_times(pd.to_datetime(starts), tz)
    return np.where(repeated, 2 * minutes, minutes).astype(float)


def _plan_minutes(plan: pd.DataFrame, file: str) -> int:
    sizes = sorted(int(v) for v in plan["interval_minutes"].dropna().unique())
    if len(sizes) != 1:
        raise ReportlibError(
            f"{file}: the month's plan mixes {', '.join(map(str, sizes))}-minute intervals; use one interval length"
        )
    if 1440 % sizes[0]:
        raise ReportlibError(f"{file}: {sizes[0]}-minute intervals do not divide a day")
    return sizes[0]


def plan_from_vintage(
    vintages: pd.DataFrame,
    month: str,
    history: pd.DataFrame,
    aht: pd.DataFrame,
    targets: Mapping[str, Mapping[str, float]],
    patience: pd.DataFrame,
    minutes: int = 30,
    calendar: Any | None = None,
) -> tuple[pd.DataFrame, str]:
    """The plan from the forecast archived before the month: (interval plan, description).

    `vintages` as forecast.load_vintages gives them; the one of the latest origin before the month's first day
    that covers its days is used, and of that origin's re-runs the one in force on each day
    (forecast.vintages_in_force: a re-run made after the day does not change its plan). Its daily forecast is spread over intervals with the
    intraday profile of the 8 weeks of `history` (interval_start, channel, queue, volume) before the
    month, its holidays and eves left out by `calendar` (forecast.Calendar) as the forecast report leaves them
    out (a probe: Labor Day shaped the plan's Mondays); forecast_aht_s is `aht` (channel, queue, aht_s: the weeks before the month); planned_agents
    the agents the forecast required (Erlang A at the service targets, `patience` per queue).
    """
    from reportlib.planning import forecast as fc

    first = pd.Period(month, freq="M").start_time
    v = vintages.copy()
    if v.empty:
        raise ReportlibError("no forecast vintage archived")
    v["origin"] = pd.to_datetime(v["origin"])
    v["date"] = pd.to_datetime(v["date"]).dt.normalize()
    before = v[(v["origin"] < first) & (v["date"] >= first) & (v["date"] < first + pd.offsets.MonthBegin(1))]
    if before.empty:
        raise ReportlibError(f"no forecast vintage made before {month} covers it")
    origin = before["origin"].max()
    daily = fc.vintages_in_force(before[before["origin"] == origin])  # a re-run made after a day plans no earlier day
    daily = daily[daily["channel"].isin(LIVE_CHANNELS)]
    profile = fc.intraday_profile(
        history, calendar, weeks=8, end=first - pd.Timedelta(days=1), interval_minutes=minutes
    )
    iv = fc.split_intraday(daily[["date", "channel", "queue", "forecast"]], profile, minutes)
    stats = aht.merge(patience, on=["channel", "queue"], how="outer")
    plan = fc.staffing_plan(iv, stats, targets, model="erlang_a", interval_minutes=minutes)
    out = pd.DataFrame(
        {
            "interval_start": pd.to_datetime(plan["interval_start"]),
            "interval_minutes": minutes,
            "channel": plan["channel"].astype(str),
            "queue": plan["queue"].astype(str),
            "forecast_offered": plan["forecast"].astype(float),
            "forecast_aht_s": plan["aht_s"].astype(float),
            "planned_agents": plan["agents"].astype(float),
        }
    )
    created = pd.to_datetime(daily["created_at"]).dropna().drop_duplicates().sort_values()
    made = (
        ""
        if created.empty
        else f", archived {created.iloc[0]:%Y-%m-%d %H:%M}"
        if len(created) == 1
        else f", archived {created.iloc[0]:%Y-%m-%d %H:%M} and re-run {counted(len(created) - 1, 'time')} "
        f"up to {created.iloc[-1]:%Y-%m-%d %H:%M}: each day planned by the run in force on it"
    )
    return out, f"the forecast vintage made on {origin:%Y-%m-%d}{made} (no interval_plan table)"


def variance_for_source(
    source: Any,
    params: Mapping[str, Any],
    month: str,
    by: str = "queue",
    vintages: Any | None = None,
    totals: bool = True,
    shape: str = "day",
) -> Variance:
    """Plan vs actual for `month` (YYYY-MM) from a Source: records per channel, queue and period (see decompose).

    Plan: the interval_plan table, else the forecast vintage archived before the month (`vintages`: a
    folder or a frame, see plan_from_vintage). Staffed agents: interval_staffing, else not measurable
    (agent_activity holds daily totals per agent, which cannot be placed in a queue's intervals): the
    staffing effect is then null and what staffing did is part of other. Patience per queue is
    estimated from the month's abandons (staffing.estimate_patience). Phone and chat only. `shape`: see
    interval_effects.

    Only the intervals the source's data covers (data_span) are compared: in a month the export starts or
    ends inside, the plan and staffing of the intervals outside the data are left out (a note says where).
    Queues with contacts but no plan are left out of every record, the all-queues ones too (named in a
    note and in Variance.unplanned).
    """
    from reportlib.core.months import month_bounds

    if by not in BY_CHOICES:
        raise UsageError(f"--by must be one of {', '.join(BY_CHOICES)}, got {by!r}")
    start, end = month_bounds(month)
    answer = service_thresholds(params)
    concurrency = {ch: t["concurrency"] for ch, t in service_targets(params.get("capacity")).items()}
    short = MetricSettings.from_params(params).short_abandon_s
    notes: list[str] = []
    if source.has("interval_plan"):
        plan = source.frame("interval_plan")
        plan = plan[
            (plan["interval_start"] >= start) & (plan["interval_start"] < end) & plan["channel"].isin(LIVE_CHANNELS)
        ].copy()
        if plan.empty:
            raise ReportlibError(f"{source.file_name('interval_plan')} has no phone or chat intervals in {month}")
        minutes = _plan_minutes(plan, source.file_name("interval_plan"))
        plan_source = "interval_plan"
        actual = actual_intervals(source, start, end, minutes, answer, short)
    else:
        from reportlib.planning import forecast as fc

        minutes = 30
        if vintages is None:
            raise ReportlibError(
                f"no interval_plan table in {source.location} and no forecast vintages given: add "
                f"interval_plan (docs/data-contract.md), or set schedule.vintages in the parameters so that "
                f"each monthly run archives its forecast there (then plan vs actual reads it), or give "
                f"--vintages DIR"
            )
        skipped: list[str] = []
        vint = vintages if isinstance(vintages, pd.DataFrame) else fc.load_vintages(vintages, skipped)
        notes += [f"{line}: left out" for line in skipped]
        actual = actual_intervals(source, start, end, minutes, answer, short)
        hist = actual_intervals(source, start - pd.Timedelta(weeks=13), start, minutes, answer, short)
        aht = hist.groupby(["channel", "queue"], as_index=False)[["handled", "handle_s_total"]].sum()
        aht["aht_s"] = aht["handle_s_total"] / aht["handled"].where(aht["handled"] > 0)
        pat = patience_table(hist)
        try:
            plan, plan_source = plan_from_vintage(
                vint,
                month,
                hist.rename(columns={"offered": "volume"}),
                aht[["channel", "queue", "aht_s"]],
                service_targets(params.get("capacity")),
                pat[["channel", "queue", "patience_s"]],
                minutes,
                fc.calendar_from_params(params.get("calendar") or {}),
            )
        except ReportlibError as exc:
            raise ReportlibError(
                f"no interval_plan table in {source.location}, and the forecast vintages cannot stand in: {exc}"
            ) from None
    if actual.empty:
        raise ReportlibError(f"no phone or chat contacts in {month} in {source.location}")
    plan["channel"] = plan["channel"].astype(str)
    plan["queue"] = plan["queue"].astype(str)
    plan["interval_start"] = pd.to_datetime(plan["interval_start"]).astype("datetime64[ns]")
    # a month the data covers in part: the plan of the intervals the data covers only, else the whole
    # month's plan would be compared with the actuals of the days with data
    span = data_span(source)
    inside = _within_data(plan["interval_start"], minutes, span)
    if span is not None and not inside.all():
        before = plan["interval_start"].to_numpy() < np.datetime64(span.first)
        out_of = plan.loc[~inside, "forecast_offered"].astype(float).sum()
        if before[~inside].any():
            notes.append(f"plan compared from {span.first:%Y-%m-%d %H:%M}, where the data starts")
        if (~before[~inside]).any():
            notes.append(f"plan compared up to {span.end:%Y-%m-%d %H:%M}, where the data ends")
        notes[-1] += f" ({out_of:,.0f} planned contacts outside the data left out)"
        plan = plan[inside].copy()
        if plan.empty:
            raise ReportlibError(
                f"no phone or chat plan intervals in {month} while the data runs "
                f"({span.first:%Y-%m-%d %H:%M} to {span.end:%Y-%m-%d %H:%M})"
            )
    planned_q = set(map(tuple, plan[KEYS].drop_duplicates().to_numpy()))
    actual_q = set(map(tuple, actual[KEYS].drop_duplicates().to_numpy()))
    unplanned = sorted(actual_q - planned_q)
    left_out = (
        actual[actual.set_index(KEYS).index.isin(unplanned)]
        .groupby(KEYS, as_index=False)["offered"]
        .sum()
        .astype({"offered": float})
    )
    if unplanned:
        notes.append(
            "left out, contacts but no plan: "
            + ", ".join(f"{c}/{q} ({n:,.0f} contacts)" for c, q, n in left_out.itertuples(index=False))
            + "; the all-queues figures are over the planned queues"
        )
    notes += _gone_quiet(plan, actual)
    key = ["interval_start", "channel", "queue"]
    frame = plan.drop(columns=["interval_minutes"]).merge(actual, on=key, how="outer")
    frame = frame[frame.set_index(KEYS).index.isin(list(planned_q))].copy()
    frame["interval_minutes"] = real_minutes(frame["interval_start"], minutes, source.tz)
    for c in (
        "forecast_offered",
        "planned_agents",
        "offered",
        "handled",
        "handle_s_total",
        "answered_within",
        "abandoned",
    ):
        frame[c] = frame[c].astype(float).fillna(0.0)
    frame["wait_s_total"] = frame["wait_s_total"].astype(float)  # NaN: not measured (see patience_table)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["aht_s"] = np.where(frame["handled"] > 0, frame["handle_s_total"] / frame["handled"], np.nan)
    frame["answer_s"] = frame["channel"].map(answer).astype(float)
    frame["concurrency"] = frame["channel"].map(concurrency).astype(float)
    pat = patience_table(frame)
    unmeasured = pat.loc[pat["patience_s"].isna(), KEYS]
    if len(unmeasured):
        lacks_waits = not source.has("contacts") and "abandon_wait_s_total" not in source.table("intervals").columns
        why = "the intervals table has no abandon_wait_s_total" if lacks_waits else "no caller waited or abandoned"
        where = ", ".join(f"{c}/{q}" for c, q in unmeasured.itertuples(index=False))
        notes.append(
            f"caller patience not measured ({why}): service level modelled without abandonment (Erlang C) for {where}"
        )
    frame = frame.merge(pat[KEYS + ["patience_s"]], on=KEYS, how="left")
    staffing_measured = source.has("interval_staffing")
    if staffing_measured:
        st = source.frame("interval_staffing")
        st = st[
            (st["interval_start"] >= start) & (st["interval_start"] < end) & st["channel"].isin(LIVE_CHANNELS)
        ].copy()
        st = st[_within_data(st["interval_start"], minutes, span)].copy()  # the plan's span (see above)
        st_minutes = sorted(int(v) for v in st["interval_minutes"].dropna().unique())
        if st_minutes and st_minutes != [minutes]:
            raise ReportlibError(
                f"{source.file_name('interval_staffing')}: {', '.join(map(str, st_minutes))}-minute "
                f"intervals, the plan has {minutes}-minute ones; use the same length"
            )
        st["channel"] = st["channel"].astype(str)
        st["queue"] = st["queue"].astype(str)
        st["interval_start"] = pd.to_datetime(st["interval_start"]).astype("datetime64[ns]")
        cols = key + ["staffed_agents"] + (["scheduled_agents"] if "scheduled_agents" in st else [])
        frame = frame.merge(st[cols], on=key, how="left", indicator="_row")
        had_row = (frame.pop("_row") == "both").to_numpy()
        staffed_q = set(map(tuple, st[KEYS].drop_duplicates().to_numpy()))
        inq = frame.set_index(KEYS).index.isin(list(staffed_q))
        # a queue in interval_staffing without a row for an interval had nobody on it (nor scheduled) then
        frame.loc[inq, "staffed_agents"] = frame.loc[inq, "staffed_agents"].fillna(0.0)
        if "scheduled_agents" in st and st["scheduled_agents"].notna().any():  # the table gives schedules
            frame.loc[inq & ~had_row, "scheduled_agents"] = 0.0
            empty = frame["scheduled_agents"].isna().to_numpy() & had_row
            if empty.any():
                queues = sorted({f"{c}/{q}" for c, q in frame.loc[empty, KEYS].itertuples(index=False)})
                notes.append(
                    f"scheduled_agents is empty in {counted(empty.sum(), 'row')} of interval_staffing ({', '.join(queues)}): "
                    "staffing is not split into schedule and attendance for those queues and their channel's total"
                )
        unstaffed = _unstaffed_days(frame, inq & ~had_row)
        if unstaffed:
            notes.append(
                f"interval_staffing has no row on {counted(len(unstaffed), 'day')} when its queues handled contacts, "
                "read as nobody on (a staffing shortfall; if the export missed the day, add its rows): "
                + ", ".join(unstaffed[:5])
                + (f" and {len(unstaffed) - 5} more" if len(unstaffed) > 5 else "")
            )
        missing_q = sorted(planned_q - staffed_q)
        if missing_q:
            notes.append(
                "staffing not measurable (not in interval_staffing): " + ", ".join(f"{c}/{q}" for c, q in missing_q)
            )
        staffing_source = "interval_staffing"
        if "scheduled_agents" not in frame or frame["scheduled_agents"].isna().all():
            frame = frame.drop(columns=["scheduled_agents"], errors="ignore")
    else:
        frame["staffed_agents"] = np.nan
        if source.has("agent_activity"):
            staffing_source = (
                "not measurable: agent_activity holds daily totals per agent, with no queue and no "
                "time of day, so staffed agents cannot be placed in intervals; add interval_staffing"
            )
        else:
            staffing_source = "not measurable: no interval_staffing (or agent_activity) table"
        notes.append("staffing effect " + staffing_source + "; what staffing did is part of other")
    frame = frame.sort_values(["channel", "queue", "interval_start"]).reset_index(drop=True)
    eff = interval_effects(frame, staffing_measured=staffing_measured, shape=shape)
    records = records_from_effects(eff, by, month, totals)
    return Variance(
        month=month,
        by=by,
        records=records,
        intervals=eff.drop(columns=["_h0", "_h1", "_n1"]),
        plan_source=plan_source,
        staffing_source=staffing_source,
        staffing_measured=staffing_measured,
        notes=notes,
        unplanned=left_out.reset_index(drop=True),
        span=span,
    )


# --- for the reports ---------------------------------------------------------------------------------

CAUSES = {
    "effect_volume": "volume",
    "effect_aht": "handle time",
    "effect_staffing": "staffing",
    "effect_other": "other",
}


def dominant_cause(records: pd.DataFrame) -> pd.Series:
    """Per record, the cause that cost most: 'volume', 'handle time', 'staffing' or 'other' (the most
    negative effect; a record where every effect helped gets the largest one). Staffing that was not
    measured is skipped."""
    eff = records[list(CAUSES)].astype(float)
    worst = eff.fillna(np.inf).idxmin(axis=1)
    best = eff.fillna(-np.inf).idxmax(axis=1)
    lost = eff.fillna(np.inf).min(axis=1) < 0
    return pd.Series(np.where(lost, worst, best), index=records.index).map(CAUSES)


def worst_days(day_records: pd.DataFrame, n: int = 3, queue: str | None = None) -> pd.DataFrame:
    """The `n` days per channel and queue that cost the most against plan, each with its dominant cause and
    that cause's effect. Ranked by contacts_short = (actual_sl - planned_sl) x offered, the contacts answered
    in time short of what the plan's service level would have answered, so a quiet Saturday's few calls do
    not outrank a busy Monday. gap = actual_sl - planned_sl (share 0..1). `queue` keeps one queue ('all')."""
    d = day_records[day_records["offered"] > 0].copy()
    if queue is not None:
        d = d[d["queue"] == queue]
    d["gap"] = d["actual_sl"] - d["planned_sl"]
    d = d[d["gap"].notna()]
    d["cause"] = dominant_cause(d)
    d["cause_effect"] = [
        row[k] for k, row in zip(d["cause"].map({v: k for k, v in CAUSES.items()}), d.to_dict("records"))
    ]
    d["contacts_short"] = d["gap"] * d["offered"]
    d = d[d["contacts_short"] < 0]
    d = d.sort_values(["channel", "queue", "contacts_short"]).groupby(["channel", "queue"], sort=False).head(n)
    cols = [
        "channel",
        "queue",
        "period",
        "planned_sl",
        "actual_sl",
        "gap",
        "contacts_short",
        "cause",
        "cause_effect",
        "effect_volume",
        "effect_aht",
        "effect_staffing",
        "effect_other",
        "volume_change",
        "offered",
    ]
    return d[cols].reset_index(drop=True)


def staffing_beside_adherence(
    source: Any, params: Mapping[str, Any], month: str, weekly: Variance | None = None
) -> pd.DataFrame:
    """Per week (Monday) and live channel: the staffing effect on service level (points lost or won against
    plan; schedule and attendance parts) beside schedule adherence and absence shrinkage from
    agent_activity (shares 0..1). `weekly` may pass a by-week Variance already computed."""
    from reportlib.core.months import month_bounds
    from reportlib.metrics.workforce import workforce_kpis

    v = weekly or variance_for_source(source, params, month, by="week")
    rec = v.records[v.records["queue"] == ALL_QUEUES][
        [
            "period",
            "channel",
            "effect_staffing",
            "effect_schedule",
            "effect_attendance",
            "planned_agent_hours",
            "staffed_agent_hours",
        ]
    ].copy()
    if source.has("agent_activity"):
        start, end = month_bounds(month)
        k = workforce_kpis(source.frame("agent_activity"), grain="week", by=(), start=start, end=end)
        k["period"] = pd.to_datetime(k["period"]).dt.strftime("%Y-%m-%d")
        rec = rec.merge(k[["period", "adherence", "absence_shrinkage"]], on="period", how="left")
    else:
        rec["adherence"] = np.nan
        rec["absence_shrinkage"] = np.nan
    return rec.rename(columns={"period": "week"}).reset_index(drop=True)
