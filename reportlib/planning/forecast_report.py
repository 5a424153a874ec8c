"""The forecast report: forecast with selection, evidence, intraday split, staffing, capacity and what-if.

`forecast_report(source, params)` gathers every figure the forecast notebook shows, from the volume
model (`planning.forecast`), the per-series method choice (`planning.forecast_select`), staffing
(`planning.staffing`) and the capacity plan (`planning.capacity`); the what-if helpers re-plan from its
result as sliders move. The notebook displays it section by section (`reports.forecast_view`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reportlib.core.errors import ReportlibError, UsageError
from reportlib.core.names import ALL_QUEUES
from reportlib.core.safety import printable, write_atomic
from reportlib.core.settings import AttritionSettings, MetricSettings, setting_number
from reportlib.core.words import in_words
from reportlib.planning.capacity import roles_of
from reportlib.planning.forecast import (
    FORECAST_COLUMNS,
    ForecastConfig,
    archive_vintage,
    backtest_intraday,
    backtest_records,
    calendar_from_params,
    compare_vintages,
    contact_stats,
    forecast_records,
    intraday_profile,
    split_intraday,
    staffing_plan,
    table_kind,
    volume_from_source,
    weekly_fte,
    without_cut_day,
)
from reportlib.planning.staffing import service_targets  # the report's targets (public here too)


def _service_stats(source: Any, params: Mapping[str, Any], last_day: pd.Timestamp, queue: str | None) -> pd.DataFrame:
    """AHT and patience per channel/queue over the aht_weeks weeks up to `last_day` (a past month's plan reads
    the weeks before its end, not the months since), with the configured default AHT where missing: no handled
    contact, or no handle time on any (handle_s 0 on every one: an export without handle times; staffed at 0 s,
    the whole report failed, a probe), flagged in `aht_default`."""
    cap = dict(params.get("capacity") or {})
    weeks = _whole_weeks(cap, "aht_weeks")
    stats = contact_stats(
        source,
        MetricSettings.from_params(params).short_abandon_s,
        queue,
        since=last_day - pd.Timedelta(weeks=weeks) + pd.Timedelta(days=1),
        until=last_day + pd.Timedelta(days=1),
    )
    defaults = dict(cap.get("default_aht_s") or {})
    stats["aht_s"] = stats["aht_s"].astype(float)
    miss = ~(stats["aht_s"] > 0)
    stats.loc[miss, "aht_s"] = stats.loc[miss, "channel"].map(lambda c: float(defaults.get(c, np.nan))).astype(float)
    stats["aht_default"] = miss.to_numpy()
    return stats


def _usable_minutes(source: Any, wanted: int, notes: list[str]) -> int:
    """`wanted` minutes, or the nearest longer length that an intervals table's intervals add up to."""
    table, kind = table_kind(source)
    if kind != "intervals":
        return wanted
    sizes = [int(v) for v in table.interval_minutes.value_counts().to_pandas().iloc[:, 0].dropna() if v > 0]
    step = math.lcm(*sizes) if sizes else wanted
    minutes = next((m for m in range(step, 1441, step) if m >= wanted and 1440 % m == 0), 1440)
    if minutes != wanted:
        notes.append(
            f"the intervals table has {', '.join(map(str, sorted(set(sizes))))}-minute intervals: "
            f"the intraday forecast and staffing use {minutes}-minute intervals"
        )
    return minutes


def _whole_weeks(cap: Mapping[str, Any], key: str) -> int:
    """capacity.`key` (aht_weeks, horizon_weeks): a whole number of weeks >= 1 (the shipped 13 when not given)."""
    value = setting_number({key: cap.get(key, 13)}, key, "capacity.", minimum=1)
    if not value.is_integer():
        raise UsageError(f"parameter capacity.{key} must be a whole number of weeks, got {cap[key]!r}")
    return int(value)


def _shrinkage_setting(cap: Mapping[str, Any]) -> tuple[float | None, float]:
    """(capacity.shrinkage as a share, or None for 'measured'; capacity.default_shrinkage), each in [0, 1)."""
    default = setting_number({"default_shrinkage": 0.3, **cap}, "default_shrinkage", "capacity.", minimum=0)
    if not default < 1:
        raise UsageError(
            f"parameter capacity.default_shrinkage must be a share below 1, got {cap['default_shrinkage']!r}"
        )
    value = cap.get("shrinkage", "measured")
    if isinstance(value, str) and value.strip().lower() == "measured":
        return None, default
    if isinstance(value, str):  # "0.35" in quotes read as before
        try:
            value = float(value)
        except ValueError:
            raise UsageError(
                f"parameter capacity.shrinkage must be a share below 1 or 'measured', got {value!r}"
            ) from None
    share = setting_number({"shrinkage": value}, "shrinkage", "capacity.", minimum=0)
    if not share < 1:  # 35 for 35%: refused, as 1 (nobody available) is
        raise UsageError(
            f"parameter capacity.shrinkage must be a share below 1 (35% is 0.35) or 'measured', got {value!r}"
        )
    return share, default


def _shrinkage(
    source: Any, cap: Mapping[str, Any], last_day: pd.Timestamp, roles: Sequence[str] = ()
) -> tuple[float, str]:
    """Shrinkage share: the number in parameters, or 'measured' from agent_activity's last aht_weeks weeks, of
    the roster's `roles` that take contacts (the capacity plan's supply: team leads' meetings are not the
    agents' shrinkage) where the agents table gives roles."""
    share, default = _shrinkage_setting(cap)
    if share is not None:
        return share, "parameters"
    if not source.has("agent_activity"):
        return default, "default (no agent_activity table)"
    from reportlib.metrics.workforce import workforce_kpis

    weeks = _whole_weeks(cap, "aht_weeks")
    start = last_day - pd.Timedelta(weeks=weeks) + pd.Timedelta(days=1)
    activity, whose = source.frame("agent_activity"), ""
    if roles and source.has("agents"):
        agents = source.frame("agents")
        if "role" in agents.columns:
            mine = activity[activity["agent_id"].isin(roles_of(agents, roles)["agent_id"])]
            if len(mine):
                activity, whose = mine, f" of the roles {', '.join(roles)}"
    k = workforce_kpis(activity, grain=None, by=(), start=start, end=last_day + pd.Timedelta(days=1))
    measured = float(k["shrinkage"].iloc[0]) if len(k) else float("nan")
    if not np.isfinite(measured):
        return default, "default (no scheduled time in agent_activity)"
    if not 0 <= measured < 1:  # docs/definitions.md: shrinkage can be negative; no plan can staff with it
        why = (
            "more time handling and available than scheduled: overtime off the schedule, or schedules missing "
            "from the export"
            if measured < 0
            else "no time handling or available against the schedule"
        )
        return default, f"default: agent_activity{whose} over the last {weeks} weeks measures {measured:.1%} ({why})"
    return measured, f"measured from agent_activity{whose} over the last {weeks} weeks"


def check_capacity_roles(params: Mapping[str, Any], agents: pd.DataFrame) -> None:
    """UsageError when capacity.roles names no role anyone on the roster has (a misspelt "Agent" for "agent" left
    the plan without a roster, and the page said only that a tenure hazard must be a share: a probe)."""
    from reportlib.planning.capacity import HiringSettings

    roles = HiringSettings.from_params(params.get("capacity") or {}).roles
    if agents.empty or not roles_of(agents, roles).empty:  # roles_of's own reading: no role given, everyone counts
        return
    found = sorted({str(r) for r in agents["role"].dropna()})
    raise UsageError(
        f"parameter capacity.roles lists {in_words(map(printable, roles))}, a role nobody on the roster has (the "
        f"agents table's roles: {in_words(map(printable, found))}; names are compared exactly)"
    )


def check_capacity_params(params: Mapping[str, Any]) -> None:
    """Raise UsageError naming the first capacity parameter (parameters/capacity.yaml) that is not valid: what
    `forecast_report` reads, checked before a run renders anything (a wrong target blanked the forecast page of
    a run that said "ok")."""
    from reportlib.planning.capacity import HiringSettings, planned_classes

    cap = params.get("capacity") or {}
    if not isinstance(cap, Mapping):
        raise UsageError(f"parameter capacity must be a mapping of keys to values, got {cap!r}")
    service_targets(cap)
    staffing_model(cap)
    _shrinkage_setting(cap)
    _whole_weeks(cap, "aht_weeks")
    _whole_weeks(cap, "horizon_weeks")
    HiringSettings.from_params(cap)
    planned_classes(cap, pd.Timestamp("2000-01-03"), 1)
    _budget_per_week(cap)


def _budget_per_week(cap: Mapping[str, Any]) -> float | None:
    """capacity.budget.per_week (currency units, >= 0), or None without a budget."""
    budget = cap.get("budget") or {}
    if not isinstance(budget, Mapping):
        raise UsageError(f"parameter capacity.budget must be a mapping (per_week), got {budget!r}")
    if budget.get("per_week") is None:
        return None
    return setting_number(budget, "per_week", "capacity.budget.", minimum=0)


def channel_totals(forecast: pd.DataFrame) -> pd.DataFrame:
    """All queues of a channel: date, channel, queue ('All queues'), forecast (the sum of the series'
    forecasts), lower and upper: the sum -/+ the root of the summed squared half-widths on each side (the
    series' 80% bands combined as if their errors were independent; contacts per day)."""
    f = forecast.assign(
        lo2=(forecast["forecast"] - forecast["lower"]) ** 2, hi2=(forecast["upper"] - forecast["forecast"]) ** 2
    )
    g = f.groupby(["date", "channel"], as_index=False)[["forecast", "lo2", "hi2"]].sum()
    g["lower"] = np.clip(g["forecast"] - np.sqrt(g["lo2"]), 0, None)
    g["upper"] = g["forecast"] + np.sqrt(g["hi2"])
    g["queue"] = "All queues"
    return g[FORECAST_COLUMNS]


ETS_STORE_FILE = "forecast_ets_params.json"
ETS_STORE_MAX = 5000  # entries kept (13 series x 2 anchors a year is ~26 new ones a year)


def report_cache_dir() -> Path:
    """Where the report keeps the ETS parameters between runs: the parsed-table cache folder
    ($REPORTLIB_CACHE or ~/.cache/reportlib), subfolder forecast."""
    from reportlib.data.load import cache_dir

    return cache_dir() / "forecast"


def load_ets_store(folder: str | os.PathLike) -> dict[str, Any]:
    """The ETS parameters kept between runs (forecast_select.ets_params_key -> [alpha, beta, phi]) from
    `folder`/forecast_ets_params.json; an unreadable or malformed file is an empty store (estimated again)."""
    try:
        data = json.loads((Path(folder) / ETS_STORE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_ets_store(folder: str | os.PathLike, store: Mapping[str, Any]) -> None:
    """Write the store atomically (a temporary file renamed over the old one), the newest ETS_STORE_MAX
    entries; a folder that cannot be written is skipped (the parameters are estimated again next time)."""
    items = list(store.items())[-ETS_STORE_MAX:]
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        write_atomic(Path(folder) / ETS_STORE_FILE, json.dumps(dict(items)))
    except OSError:
        pass


STAFFING_MODELS = ("erlang_c", "erlang_a")


def staffing_model(cap: Mapping[str, Any] | None) -> str:
    """The queueing model the plan staffs with: capacity.yaml `staffing_model` (erlang_c or erlang_a, default
    erlang_a)."""
    model = str((cap or {}).get("staffing_model", "erlang_a"))
    if model not in STAFFING_MODELS:
        raise UsageError(f"capacity.staffing_model must be one of {', '.join(STAFFING_MODELS)}, got {model!r}")
    return model


def forecast_report(
    source: Any,
    params: Mapping[str, Any],
    horizon_days: int | None = None,
    queue: str | None = None,
    vintage_dir: str | os.PathLike | None = None,
    backtest_months: int = 3,
    interval_minutes: int = 30,
    hazard: pd.DataFrame | None = None,
    end: Any | None = None,
    intraday_backtest: bool = True,
    backtest_step_days: int = 7,
    ets_cache_dir: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Everything the forecast report shows, from a Source and the parameters (a dict of frames and notes).

    Keys: history (daily volume), forecast (daily, with the 80% interval), records (SPEC's records),
    backtest (summary), backtest_by_horizon, intraday_backtest, intervals (interval forecast),
    staffing (required FTE by week and channel/queue for Erlang C, Erlang A and workload), capacity
    (CapacityPlan or None without an agents table), capacity_summary, vintages (past forecasts vs
    actuals by lead time, when vintage_dir is given; this run's forecast is archived there), notes.
    Issue 12 adds: selection (the method chosen per series, forecast_select.forecast_selected), evidence
    (per series: method, history, WAPE against each simple baseline, coverage, width, Winkler; from the
    nested backtest), export_gaps (days missing from the export), history_by_channel and
    forecast_by_channel (all queues of a channel as one series), origin, first_monday, targets
    (service_targets), staffing_model, staffing_plans (interval plans by model), plan_intervals,
    forecast_by_channel (channel_totals of the series forecasts),
    hours_per_fte_week. `end` keeps the history before it (a report month's end); intraday_backtest=False
    skips the interval-level backtest (None); backtest_step_days spaces the nested backtest's origins.
    ets_cache_dir: a folder where the damped-trend smoothing's estimated parameters are kept between runs
    (by the content of the series they were estimated on: same results; load_ets_store).
    """
    from reportlib.planning.capacity import (
        HiringSettings,
        capacity_plan,
        flat_hazard,
        plan_summary,
        planned_classes,
        roster_as_known,
    )

    cal = calendar_from_params(params.get("calendar") or {})
    config = ForecastConfig.from_params(params.get("calendar") or {})
    cap = dict(params.get("capacity") or {})
    short_s = MetricSettings.from_params(params).short_abandon_s
    from reportlib.planning.forecast_select import (
        after_long_silence,
        evidence_table,
        export_gaps,
        forecast_selected,
        nested_backtest,
    )

    notes: list[str] = []
    # the operation's daily volume, read once: the history restarts after a silence of the whole operation (not of
    # one queue: a paused queue keeps its past), for the charts and the gaps table too (the history the models saw);
    # one queue's report takes that queue's rows, so its last day is the operation's (a queue quiet for weeks is
    # forecast from today, as `reportlib forecast --queue` does)
    whole, cut = without_cut_day(volume_from_source(source, short_s), source, params)
    if cut and (end is None or pd.Timestamp(end) > whole["date"].max()):
        notes.append(cut)
    data_last = whole["date"].max()
    if end is not None:
        whole = whole[whole["date"] < pd.Timestamp(end)]
    whole, restart = after_long_silence(whole)
    if restart:
        notes.append(restart)
    daily = whole if queue is None else whole[whole["queue"] == queue].reset_index(drop=True)
    if daily.empty:
        raise ReportlibError("no contacts to forecast" + (f" in queue {queue!r}" if queue else ""))
    last = daily["date"].max()
    weeks = _whole_weeks(cap, "horizon_weeks")
    first_monday = last + pd.Timedelta(days=7 - last.dayofweek)
    horizon = max(int(horizon_days or 0), int((first_monday - last).days) + 7 * weeks - 1)
    shared: dict = {}
    store = load_ets_store(ets_cache_dir) if ets_cache_dir is not None else None
    known = len(store) if store is not None else 0
    fc, selection, sel_notes = forecast_selected(
        daily, cal, horizon, config, shared=shared, ets_store=store, restart=False
    )
    notes += sel_notes
    per_channel = daily.groupby(["date", "channel"], as_index=False)["volume"].sum().assign(queue="All queues")
    per_channel = per_channel[["date", "channel", "queue", "volume"]]
    out: dict[str, Any] = {
        "history": daily,
        "forecast": fc,
        "records": forecast_records(fc),
        "notes": notes,
        "calendar": cal,
        "config": config,
        "selection": selection,
        "export_gaps": export_gaps(daily, cal),
        "history_by_channel": per_channel,
        "forecast_by_channel": channel_totals(fc),
        "origin": last,
        "first_monday": first_monday,
    }
    try:
        # outer origins counted back from the last one (last day - 28) in steps of backtest_step_days: on the
        # forecast origin's weekday, so their inner origins are the forecast's own (cached: about half the work)
        final = last - pd.Timedelta(days=28)
        first = last - pd.DateOffset(months=backtest_months)
        n_back = max(-1, (final - first).days // backtest_step_days)
        origins = [final - pd.Timedelta(days=backtest_step_days * k) for k in range(n_back, -1, -1)]
        bt = nested_backtest(daily, cal, 28, backtest_months, config, shared=shared, origins=origins, restart=False)
        out["backtest"], out["backtest_by_horizon"] = backtest_records(bt), bt.by_horizon
        out["evidence"] = evidence_table(bt.summary[bt.summary["channel"] != ALL_QUEUES])
        # the backtest's notes the forecast's have not said: the same sentence, or another on a series whose choice
        # the forecast's notes explain (its choice note, or why it was not forecast); other notes on a series (the
        # days the calendar leaves out, a queue of few contacts) hide none of the backtest's
        explained = {f"{c}/{q}" for c, q, n in selection[["channel", "queue", "note"]].itertuples(index=False) if n}
        made = {f"{c}/{q}" for c, q in selection[["channel", "queue"]].itertuples(index=False)}
        every = {f"{c}/{q}" for c, q in daily[["channel", "queue"]].drop_duplicates().itertuples(index=False)}
        said = explained | (every - made)
        notes += [n for n in bt.notes if n not in notes and n.split(":")[0] not in said]
    except ReportlibError as exc:
        out["backtest"] = out["backtest_by_horizon"] = out["evidence"] = None
        notes.append(f"accuracy check skipped: {exc}")
    interval_minutes = _usable_minutes(source, interval_minutes, notes)
    iv = volume_from_source(source, short_s, queue, interval_minutes)
    if end is not None:
        iv = iv[iv["interval_start"] < pd.Timestamp(end)]
    out["intraday_backtest"] = None
    try:
        if intraday_backtest:
            # the history the daily models saw: from its restart after a long silence, export gaps not read as zero
            out["intraday_backtest"] = backtest_intraday(
                iv[iv["interval_start"] >= daily["date"].min()],
                cal,
                interval_minutes=interval_minutes,
                months=backtest_months,
                config=config,
                missing=out["export_gaps"]["date"],
            )["summary"]
    except ReportlibError as exc:
        notes.append(f"interval-level backtest skipped: {exc}")
    profile = intraday_profile(iv, cal, 8, last, interval_minutes)
    intervals = split_intraday(fc, profile, interval_minutes, columns=("forecast", "lower", "upper"))
    out["intervals"] = intervals
    stats = _service_stats(source, params, last, queue)
    out["service_stats"] = stats
    defaulted = stats.loc[stats["aht_default"]]
    out["aht_defaulted"] = [f"{c}/{q}" for c, q in zip(defaulted["channel"], defaulted["queue"])]
    targets = service_targets(cap)
    out["targets"] = targets
    several = {ch: t["concurrency"] for ch, t in targets.items() if t["concurrency"] != 1 and ch in set(fc["channel"])}
    if several:
        notes.append(
            "staffed with agents handling several contacts at once (capacity service_targets concurrency): "
            + ", ".join(f"{ch} {c:g} at a time" for ch, c in sorted(several.items()))
        )
    settings = HiringSettings.from_params(cap)
    if source.has("agents"):
        check_capacity_roles(params, source.frame("agents"))
    shrink, how = _shrinkage(source, cap, last, settings.roles)
    out["shrinkage"] = {"value": shrink, "source": how}
    hours = settings.hours_per_fte_week
    out["hours_per_fte_week"] = hours
    in_plan = intervals[intervals["date"] >= first_monday]
    out["plan_intervals"] = in_plan
    staffing, plans = [], {}
    for model in ("erlang_c", "erlang_a"):
        plan = staffing_plan(in_plan, stats, targets, model=model)
        plans[model] = plan
        w = weekly_fte(plan, fc[fc["date"] >= first_monday], stats, shrink, hours)
        w["model"] = model
        staffing.append(w)
    out["staffing_plans"] = plans
    staffing_frame = pd.concat(staffing, ignore_index=True)
    out["staffing"] = staffing_frame
    chosen = staffing_model(cap)
    out["staffing_model"] = chosen
    required = staffing_frame[staffing_frame["model"] == chosen].groupby("week_start", as_index=False)["fte"].sum()
    required = required.rename(columns={"fte": "required_fte"}).head(weeks)
    out["required_fte"] = required
    out["capacity"] = out["capacity_summary"] = None
    if source.has("agents"):
        agents = source.frame("agents")
        if end is not None and last < data_last:  # a past month: the roster as it stood at the month's end
            agents = roster_as_known(agents, last, hired_by=first_monday + pd.Timedelta(days=6))
        if hazard is None:
            try:
                from reportlib.metrics.attrition import tenure_bands, tenure_hazard

                months = AttritionSettings.from_params(params).hazard_window_months  # the attrition report's
                after = last + pd.Timedelta(days=1)
                hazard = tenure_hazard(
                    roles_of(agents, settings.roles),
                    after - pd.DateOffset(months=months),
                    after,
                    bands=tenure_bands(params.get("attrition")),
                )
            except ReportlibError as exc:
                notes.append(f"attrition hazard unavailable ({exc}); using a flat 3% a month")
                hazard = flat_hazard(0.03)
        budget = _budget_per_week(cap)
        plan = capacity_plan(
            agents,
            hazard,
            required,
            first_monday,
            weeks,
            settings,
            planned_classes(cap, first_monday, weeks),
            budget,
            True,
        )
        out["capacity"], out["capacity_summary"] = plan, plan_summary(plan)
        out["hazard"] = hazard
    else:
        notes.append("no agents table: the capacity plan needs the roster")
    if store is not None and ets_cache_dir is not None and len(store) != known:
        save_ets_store(ets_cache_dir, store)
    if vintage_dir is not None:
        try:
            out["vintages"] = compare_vintages(vintage_dir, daily)
            archive_vintage(fc, vintage_dir, last)
        except OSError as exc:  # the forecast stands; only its archive (next month's plan) is lost, and said
            notes.append(
                f"this forecast was not archived in {vintage_dir} ({exc.strerror or exc}): plan vs actual next "
                "month cannot use it"
            )
    return out


# --- what-if on the report's staffing ----------------------------------------------------------------


def scenario_fte(
    report: Mapping[str, Any],
    aht_factor: float = 1.0,
    sl_target: float | None = None,
    shrinkage: float | None = None,
    patience_factor: float = 1.0,
) -> pd.Series:
    """Weekly required FTE (the report's staffing model; phone and chat by it, email by workload) under
    changed assumptions, indexed by week_start: handle times x aht_factor, every live channel's service
    target set to sl_target (share; None keeps each channel's own), shrinkage (share; None keeps the
    report's), patience x patience_factor. With the defaults it is exactly report['required_fte'].
    """
    stats = report["service_stats"].copy()
    stats["aht_s"] = stats["aht_s"] * aht_factor
    stats["patience_s"] = stats["patience_s"] * patience_factor
    targets = {
        ch: dict(t, target_sl=float(sl_target) if sl_target is not None else t["target_sl"])
        for ch, t in report["targets"].items()
    }
    model = report["staffing_model"]
    plan = staffing_plan(report["plan_intervals"], stats, targets, model=model)
    fc = report["forecast"]
    share = report["shrinkage"]["value"] if shrinkage is None else float(shrinkage)
    w = weekly_fte(plan, fc[fc["date"] >= report["first_monday"]], stats, share, report["hours_per_fte_week"])
    out = w.groupby("week_start")["fte"].sum().head(len(report["required_fte"]))
    return out.rename("fte")


@dataclass(frozen=True)
class WhatIfControl:
    """One what-if slider: its starting value (the plan's own), range and step; `keyword` of scenario_fte."""

    keyword: str
    label: str
    value: float
    min: float
    max: float
    step: float
    plan_value: float | None  # the exact planned value (None: a factor whose plan value is 1)


def what_if_controls(report: Mapping[str, Any]) -> list[WhatIfControl]:
    """Sliders for the what-if: AHT x, service-level target, shrinkage, patience x, each starting at the plan.

    A slider shows a rounded start (shrinkage 0.2734 shows 0.27); what_if_scenario maps a slider still at its
    start back to the exact planned value, so the scenario equals the plan until a slider moves.
    """
    targets = report["targets"]
    sl = float(targets.get("phone", next(iter(targets.values())))["target_sl"])
    shrink = float(report["shrinkage"]["value"])
    sl0, shrink0 = round(sl, 2), round(shrink, 2)
    # each range holds the plan's own value (a slider clamps a value outside its range: a plan at 65% shrinkage
    # and a 97% target started at 60% and 95%, "This scenario" 17% below "As planned" untouched, a probe)
    return [
        WhatIfControl("aht_factor", "AHT ×", 1.0, 0.7, 1.3, 0.05, None),
        WhatIfControl("sl_target", "SL target", sl0, min(0.5, sl0), max(0.95, sl0), 0.01, None),
        WhatIfControl("shrinkage", "Shrinkage", shrink0, 0.0, max(0.6, shrink0), 0.01, None),
        WhatIfControl("patience_factor", "Patience ×", 1.0, 0.5, 2.0, 0.05, None),
    ]


def what_if_scenario(controls: Sequence[WhatIfControl], values: Mapping[str, float]) -> dict[str, Any]:
    """scenario_fte keywords from slider values: a slider at its start (within half a step) keeps the plan
    (None for the target and shrinkage, 1 for the factors); a moved one gives its value."""
    out: dict[str, Any] = {}
    for c in controls:
        v = float(values.get(c.keyword, c.value))
        unmoved = abs(v - c.value) < c.step / 2
        if c.keyword in ("sl_target", "shrinkage"):
            out[c.keyword] = None if unmoved else v
        else:
            out[c.keyword] = 1.0 if unmoved else v
    return out
