"""The forecast report's sections, each one call from notebooks/forecast.ipynb over `planning.forecast_report.forecast_report`.

Every figure shown comes from the report dict (built and tested in reportlib.forecast and
reportlib.forecast_select); these functions only choose, label and display. Units: contacts per day,
FTE, shares 0..1 shown as percentages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from reportlib.core.names import ALL_QUEUES
from reportlib.core.words import counted, in_words, noun_for
from reportlib.planning import forecast as F
from reportlib.planning import forecast_report as FR
from reportlib.planning.forecast_select import BANDS, BASELINES, method_label
from reportlib.reports import charts, narrative, views

MODEL_LABELS = {"erlang_c": "Erlang C", "erlang_a": "Erlang A"}
BASELINE_LABELS = {
    "seasonal_naive": "Same weekday last week",
    "seasonal_mean": "Mean of last 4 same weekdays",
    "seasonal_median": "Median of last 4 same weekdays",
    "holiday_mean": "Mean of last 4, holidays skipped",
    "holiday_median": "Median of last 4, holidays skipped",
}


def full_weeks(report: Mapping[str, Any]) -> list[pd.Timestamp]:
    """Mondays of the weeks wholly inside the forecast horizon."""
    dates = pd.DatetimeIndex(report["forecast"]["date"].drop_duplicates())
    weeks = pd.Series(dates).dt.to_period("W-SUN").value_counts()
    return sorted(weeks[weeks == 7].index.start_time)


def weekly_forecast(report: Mapping[str, Any]) -> pd.DataFrame:
    """Forecast contacts per full week (rows) and channel (columns): week, <channel>..."""
    fc = report["forecast"]
    w = (
        fc.assign(week=fc["date"].dt.to_period("W-SUN").dt.start_time)
        .groupby(["week", "channel"], as_index=False)["forecast"]
        .sum()
    )
    w = w[w["week"].isin(full_weeks(report))]
    return w.pivot(index="week", columns="channel", values="forecast").reset_index()


def show_outlook(report: Mapping[str, Any]) -> None:
    """Next 13 weeks: per channel, the last 120 days and the forecast with its 80% band and the calendar's
    events; then contacts per full week and channel."""
    hist, fc = report["history_by_channel"], report["forecast_by_channel"]
    origin = report["origin"]
    future = pd.DatetimeIndex(fc["date"].drop_duplicates().sort_values())
    spans = narrative.calendar_spans(F.calendar_features(future, report["calendar"]), future)
    for channel in sorted(fc["channel"].unique()):
        h = hist[(hist["channel"] == channel) & (hist["date"] > origin - pd.Timedelta(days=120))]
        views.show(
            charts.forecast_chart(
                h.rename(columns={"volume": "actual"}),
                fc[fc["channel"] == channel],
                events=spans,
                title=f"{channel.capitalize()}: contacts per day",
            )
        )
    table = weekly_forecast(report)
    table["week"] = table["week"].dt.strftime("%d %b %Y")
    views.table(
        table,
        formats={c: "count" for c in table.columns if c != "week"},
        labels={"week": "Week of"},
        caption="Forecast contacts per week",
    )
    gaps = report.get("export_gaps")
    if gaps is not None and len(gaps):
        from reportlib.planning.forecast_select import gap_runs

        views.note(
            f"{counted(len(gaps), 'day')} {noun_for(len(gaps), 'is', 'are')} missing from the data (no contacts recorded in any queue on an open "
            f"weekday): {gap_runs(gaps)}. They are left out of the forecast, not counted as zero.",
            "warning",
        )


def method_rows(report: Mapping[str, Any]) -> pd.DataFrame:
    """Per series: series and the method chosen in plain words (`method_label`), shown as a table of its own:
    an average of three regressions is a 100-character label, and as one column of the evidence table (twelve
    columns) it was squeezed to a few words a line, each row ten lines tall."""
    return evidence_rows(report)[["series", "method"]]


def evidence_rows(report: Mapping[str, Any]) -> pd.DataFrame:
    """Per series: method chosen (plain words), history days, WAPE of the forecast and of each simple baseline,
    coverage and mean relative width of the 80% interval, Winkler score (relative to volume)."""
    ev = report["evidence"].copy()
    ev["series"] = ev["queue"].astype(str) + " " + ev["channel"].astype(str)
    ev["method"] = ev["method"].map(method_label)
    cols = [
        "series",
        "method",
        "history_days",
        "wape",
        *[f"wape_{b}" for b in BASELINES],
        "coverage",
        "width",
        "winkler",
    ]
    return ev[cols]


# days ahead of the forecasts archived by earlier runs, in the bands the intervals are calibrated on (forecast_select's
# BANDS: 1-7, 8-14, 15-28 days), and the rest of the horizon
VINTAGE_BANDS: tuple[tuple[int, int | None], ...] = (*BANDS, (BANDS[-1][1] + 1, None))


def vintage_rows(report: Mapping[str, Any]) -> pd.DataFrame:
    """How the forecasts archived by earlier runs did (report["vintages"], forecast.compare_vintages: per day ahead),
    per band of days ahead (VINTAGE_BANDS): days_ahead ("1-7", ..., "29+"), vintages (runs scored), days, wape,
    bias (share of volume; + over-forecast), coverage (share of days in the 80% interval). Exact: each band's sums
    are rebuilt from its days' (|error| = wape x actual, error = bias x actual, days in band = coverage x days).
    Empty when no earlier run's forecast has actuals yet (no vintages folder, or the first month)."""
    cols = ["days_ahead", "vintages", "days", "wape", "bias", "coverage"]
    v = report.get("vintages")
    if v is None or not len(v):
        return pd.DataFrame(columns=cols)
    rows = []
    for lo, hi in VINTAGE_BANDS:
        g = v[(v["lead_days"] >= lo) & ((v["lead_days"] <= hi) if hi is not None else True)]
        act = float(g["actual"].sum())
        if not len(g) or act <= 0:
            continue
        rows.append(
            {
                "days_ahead": f"{lo}-{hi}" if hi is not None else f"{lo}+",
                "vintages": int(g["vintages"].max()),
                "days": int(g["days"].sum()),
                "wape": float((g["wape"] * g["actual"]).sum() / act),
                "bias": float((g["bias"] * g["actual"]).sum() / act),
                "coverage": float((g["coverage"] * g["days"]).sum() / g["days"].sum()),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def show_accuracy(report: Mapping[str, Any]) -> None:
    """Forecast accuracy: WAPE by days ahead against the baselines, a sentence, and the evidence per series."""
    by_h = report["backtest_by_horizon"]
    ys = ["wape", "wape_seasonal_naive", "wape_holiday_median"]
    views.show(
        charts.line_chart(
            by_h,
            "horizon",
            ys,
            unit="share",
            title="Error by days ahead (WAPE)",
            x_title="Days ahead",
            names={
                "wape": "Our forecast",
                "wape_seasonal_naive": BASELINE_LABELS["seasonal_naive"],
                "wape_holiday_median": BASELINE_LABELS["holiday_median"],
            },
        )
    )
    bt = report["backtest"]
    total = bt[bt["channel"] == ALL_QUEUES]
    r = (total if len(total) else bt).iloc[0]
    fmt = narrative.format_value
    views.paragraph(
        f"Over the last 3 months, 1 to 28 days ahead, with the method for each series chosen only from "
        f"the data before each forecast, the forecast's WAPE was {fmt(r['wape'], 'share')} against "
        f"{fmt(r['wape_best_baseline'], 'share')} for the best simple rule "
        f"({BASELINE_LABELS.get(r['best_baseline'], r['best_baseline']).lower()}); the 80% band held "
        f"{fmt(r['coverage'], 'share')} of days."
    )
    views.table(
        method_rows(report),
        labels={"series": "Series", "method": "Method chosen"},
        caption="The method chosen per series",
    )
    ev = evidence_rows(report).drop(columns=["method"])  # the methods' long names are in the table above
    formats = {c: "share" for c in ev.columns if c.startswith("wape") or c == "coverage"}
    formats.update({"history_days": "count", "width": "number", "winkler": "number"})
    labels = {
        "series": "Series",
        "method": "Method chosen",
        "history_days": "History (days)",
        "wape": "WAPE",
        **{f"wape_{b}": BASELINE_LABELS[b] for b in BASELINES},
        "coverage": "80% band held",
        "width": "Band width / volume",
        "winkler": "Winkler score / volume",
    }
    views.table(
        ev,
        formats=formats,
        labels=labels,
        caption="Evidence per series: the chosen method's backtest against each simple rule",
    )
    past = vintage_rows(report)
    if len(past):
        views.table(
            past,
            formats={"vintages": "count", "days": "count", "wape": "share", "bias": "share", "coverage": "share"},
            labels={
                "days_ahead": "Days ahead",
                "vintages": "Forecasts",
                "days": "Days scored",
                "wape": "WAPE",
                "bias": "Bias (+ over)",
                "coverage": "80% band held",
            },
            caption="The forecasts earlier runs published, against what came (each day by the run in force on it)",
        )


def first_week_hours(report: Mapping[str, Any]) -> pd.DataFrame:
    """Agent-hours needed per day and channel in the plan's first week by Erlang C and Erlang A: date, channel,
    model, hours, day."""
    rows = []
    for m, plan in report["staffing_plans"].items():
        p = plan[plan["date"] < report["first_monday"] + pd.Timedelta(days=7)]
        h = (
            p.assign(hours=p["agents"] * p["interval_minutes"] / 60)
            .groupby(["date", "channel"], as_index=False)["hours"]
            .sum()
        )
        rows.append(h.assign(model=MODEL_LABELS[m]))
    out = pd.concat(rows, ignore_index=True)
    out["day"] = out["date"].dt.strftime("%a %d %b")
    return out


def interval_name(minutes: Any) -> str:
    """A staffing interval as the page names it: "half hour" (30 minutes, the default), "hour", "15 minutes"
    (a probe: an hourly intervals table's 133 calls read as a half hour's, twice the rate)."""
    m = int(minutes)
    return {30: "half hour", 60: "hour"}.get(m, f"{m} minutes")


def peak_check(report: Mapping[str, Any], replications: int = 20) -> tuple[pd.DataFrame, pd.Series] | None:
    """The busiest phone interval (half hour by default) of the plan's first week, by Erlang C, Erlang A and a simulation with
    lognormal handle times (service level as a share), for Erlang C's and Erlang A's staffing."""
    from reportlib.planning import simulate, staffing

    plans = report["staffing_plans"]
    pc = plans["erlang_c"]
    pa = plans["erlang_a"].set_index(["interval_start", "queue", "channel"])
    phone = pc[(pc["channel"] == "phone") & (pc["date"] < report["first_monday"] + pd.Timedelta(days=7))]
    if not len(phone) or phone["forecast"].max() <= 0:
        return None
    peak = phone.loc[phone["forecast"].idxmax()]
    key = (peak["interval_start"], peak["queue"], "phone")
    answer = float(report["targets"]["phone"]["answer_s"])
    per_agent = float(report["targets"]["phone"].get("concurrency", 1.0))  # contacts at once: servers per agent
    length = float(peak["interval_minutes"]) * 60
    patience = float(pa.loc[key, "patience_s"]) if "patience_s" in pa.columns else float("inf")
    rows = []
    for label, n in (("Erlang C staffing", int(peak["agents"])), ("Erlang A staffing", int(pa.loc[key, "agents"]))):
        servers = n * per_agent
        c = staffing.erlang_c_metrics(servers, peak["forecast"], peak["aht_s"], length, answer)
        a = staffing.erlang_a_metrics(servers, peak["forecast"], peak["aht_s"], length, answer, patience)
        s = simulate.simulate_queue(
            peak["forecast"],
            peak["aht_s"],
            length,
            int(round(servers)),
            answer,
            patience,
            handle="lognormal",
            handle_cv=0.8,
            replications=replications,
            callers=2000,
            warmup=300,
        )
        rows.append(
            {
                "staffing": label,
                "agents": n,
                "erlang_c": c["service_level"],
                "erlang_a": a["service_level"],
                "simulation": s.loc["service_level", "estimate"],
                "range": f"{s.loc['service_level', 'ci_low']:.1%} – {s.loc['service_level', 'ci_high']:.1%}",
            }
        )
    return pd.DataFrame(rows), peak


def show_next_week(report: Mapping[str, Any]) -> None:
    """Staff needed in the plan's first week: phone agent-hours per day by model, and the busiest interval
    checked by simulation."""
    if report.get("aht_defaulted"):
        views.note(
            "This data has no handle times for "
            + in_words(report["aht_defaulted"])
            + " (no handled contact, or none with a handle time above 0 s, in the weeks the handle time is "
            "averaged over: capacity.aht_weeks); staffing uses the default handle time in parameters/capacity.yaml "
            "(capacity.default_aht_s).",
            "warning",
        )
    hours = first_week_hours(report)
    phone = hours[hours["channel"] == "phone"]
    if len(phone):
        views.show(
            charts.bar_chart(
                phone,
                "day",
                "hours",
                color="model",
                unit="number",
                title="Phone agent-hours needed per day",
                y_title="Agent-hours",
            )
        )
    checked = peak_check(report)
    if checked is None:
        return
    table, peak = checked
    views.table(
        table,
        formats={"agents": "count", "erlang_c": "share", "erlang_a": "share", "simulation": "share"},
        labels={
            "staffing": "Staffed as",
            "agents": "Agents",
            "erlang_c": "Service level by Erlang C",
            "erlang_a": "by Erlang A",
            "simulation": "by simulation",
            "range": "Simulation 95% range",
        },
        caption=f"Busiest {interval_name(peak['interval_minutes'])}: {peak['queue']} phone, "
        f"{peak['interval_start']:%a %d %b %H:%M}, "
        f"{peak['forecast']:.0f} calls expected",
    )


def weekly_fte_by_model(report: Mapping[str, Any]) -> pd.DataFrame:
    """FTE needed per week by Erlang C and Erlang A (email by workload in both): week_start, fte, method."""
    st = report["staffing"]
    weeks = set(report["required_fte"]["week_start"])
    out = st[st["week_start"].isin(weeks)].groupby(["model", "week_start"], as_index=False)["fte"].sum()
    out["method"] = out["model"].map(MODEL_LABELS)
    return out[["week_start", "fte", "method"]]


def show_fte(report: Mapping[str, Any]) -> None:
    """FTE needed by week for both queueing models, with the shrinkage used and where it came from."""
    sh = report["shrinkage"]
    views.show(
        charts.line_chart(
            weekly_fte_by_model(report),
            "week_start",
            "fte",
            color="method",
            unit="fte",
            title=f"FTE needed per week (shrinkage {sh['value']:.1%})",  # as the sentence under it
        )
    )
    views.paragraph(
        f"Shrinkage {sh['value']:.1%}: {sh['source']}. The plan staffs with "
        f"{MODEL_LABELS[report['staffing_model']]} (parameters/capacity.yaml staffing_model)."
    )


def capacity_notes(plan: Any, currency: str = "$") -> list[str]:
    """The capacity plan's notes as sentences (capital first, full stop last), then what the plan with the
    recommended hires costs above the budget (CapacityPlan.over_budget) in `currency`: "The plan with the
    recommended hires costs $229,073 more than the budget over 13 weeks." """
    out = []
    for note in plan.notes:
        text = str(note).strip()
        text = text[:1].upper() + text[1:]
        out.append(text if text.endswith((".", "!", "?")) else text + ".")
    if plan.over_budget is not None:
        out.append(
            f"The plan with the recommended hires costs {narrative.format_value(plan.over_budget, 'currency', currency)}"
            f" more than the budget over {len(plan.weekly)} weeks."
        )
    return out


def capacity_sentence(summary: Mapping[str, Any], currency: str = "$") -> str:
    """The capacity plan in one paragraph (plan_summary's figures): weeks short without hires and the largest gap
    in FTE, or the least FTE to spare when no week is short (a gap of -229 FTE read as a gap), the hires
    recommended, the weeks still short with them, the plan's cost against its budget."""
    s, fmt = summary, narrative.format_value
    gap = s["largest_gap_fte"]
    short = f"{s['weeks_short']} of {counted(s['weeks'], 'week')} {'is' if int(s['weeks_short']) == 1 else 'are'} short"
    if narrative.is_missing(gap):
        spare = ""
    elif float(gap) > 0:
        spare = f" (largest gap {float(gap):,.1f} FTE)"
    else:
        spare = f" (every week has at least {abs(float(gap)):,.1f} FTE to spare)"
    still, hires = int(s["weeks_short_with_hires"]), int(s["recommended_hires"])
    after = s.get("largest_gap_fte_with_hires", float("nan"))
    worst = f" (largest gap {float(after):,.1f} FTE)" if still and not narrative.is_missing(after) else ""
    recommended = (
        f"The recommendation is {counted(hires, 'hire')}; with {noun_for(hires, 'it', 'them')} {counted(still, 'week')} "
        f"{noun_for(still, 'stays', 'stay')} short{worst}."
        if hires
        else "No hires are recommended."
    )
    budget = s.get("budget")
    opening = (
        f"Without the recommended hires, {short}{spare}. {recommended}"
        if not narrative.is_missing(gap)
        # no week's need is known: "0 of 13 weeks are short" read as a judgement
        else f"The FTE needed is not known for any of the plan's {counted(s['weeks'], 'week')}, so no week is judged."
    )
    return f"{opening} Cost over the plan: {fmt(s['cost'], 'currency', currency)}" + (
        f" against a budget of {fmt(budget, 'currency', currency)}." if not narrative.is_missing(budget) else "."
    )


def show_capacity(report: Mapping[str, Any], currency: str = "$") -> None:
    """Capacity plan: FTE needed (the configured model) and available with and without the recommended hires."""
    cap = report["capacity"]
    if cap is None:
        views.note("The capacity plan needs the roster (agents table) with hire and termination dates.", "missing")
        return
    model = MODEL_LABELS[report["staffing_model"]]
    views.show(
        charts.line_chart(
            cap.weekly,
            "week_start",
            ["required_fte", "productive_fte", "productive_fte_with_hires"],
            unit="fte",
            title="FTE needed and available",
            names={
                "required_fte": f"Needed ({model})",
                "productive_fte": "Roster and planned classes",  # planned hire classes count here (a probe)
                "productive_fte_with_hires": "With recommended hires",
            },
        )
    )
    views.paragraph(capacity_sentence(report["capacity_summary"], currency))
    if len(cap.recommended):
        rec = cap.recommended.copy()
        for col in ("week_start", "first_week_covered"):
            rec[col] = pd.to_datetime(rec[col]).dt.strftime("%d %b %Y")
        views.table(
            rec[["week_start", "hires", "first_week_covered"]],
            formats={"hires": "count"},
            labels={"week_start": "Class starts", "hires": "Hires", "first_week_covered": "Covers the shortfall from"},
            caption="Recommended hire classes",
        )
    for n in capacity_notes(cap, currency):
        views.note(n, "info")


def scenarios(report: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Weekly FTE (the plan's model) for the preset what-if scenarios; 'As planned' first."""
    sh = float(report["shrinkage"]["value"])
    more = min(sh + 0.05, 0.95)  # capped: 100% shrinkage leaves nobody to staff with
    cases: dict[str, dict[str, float]] = {
        "As planned": {},
        "Handle time +10%": {"aht_factor": 1.1},
        "Handle time -10%": {"aht_factor": 0.9},
        "Service level target 90%": {"sl_target": 0.9},
        "Service level target 70%": {"sl_target": 0.7},
    }
    if more > sh:  # at 95% or more there is no "more" (a probe: 99% read "95.0% (5 points more)", 4 points less)
        cases[f"Shrinkage {more:.1%} ({(more - sh) * 100:.1f} points more)"] = {"shrinkage": more}
    cases["Callers 25% less patient"] = {"patience_factor": 0.75}
    return {name: FR.scenario_fte(report, **kw).to_numpy() for name, kw in cases.items()}


def show_what_if(report: Mapping[str, Any]) -> None:
    """The preset scenarios in one chart with plotly's own selector (works without a kernel)."""
    base = FR.scenario_fte(report)
    sc = scenarios(report)
    views.show(
        charts.scenario_chart(
            list(base.index),
            {k: {"FTE needed": list(v)} for k, v in sc.items()},
            baseline={"As planned": list(sc["As planned"])},
            unit="fte",
            title=f"FTE needed per week by scenario ({MODEL_LABELS[report['staffing_model']]})",
            control_label="Scenario",
        )
    )


def what_if_widget(report: Mapping[str, Any]) -> Any:
    """The live what-if for JupyterLab: sliders starting at the plan and a chart of 'This scenario' against
    'As planned' (equal until a slider moves)."""
    import ipywidgets as widgets

    controls = FR.what_if_controls(report)
    base = FR.scenario_fte(report)
    out = widgets.Output()
    sliders = {
        c.keyword: widgets.FloatSlider(
            value=c.value,
            min=c.min,
            max=c.max,
            step=c.step,
            description=c.label,
            readout_format=".0%" if c.keyword in ("sl_target", "shrinkage") else ".2f",  # shares read in percent
            continuous_update=False,  # one scenario per release, not per step of a drag (0.2-0.5 s each)
        )
        for c in controls
    }

    def chart(values: Mapping[str, float]) -> None:
        w = FR.scenario_fte(report, **FR.what_if_scenario(controls, values))
        frame = pd.DataFrame({"week": w.index, "fte": w.to_numpy(), "base": base.to_numpy()})
        views.show(
            charts.line_chart(
                frame,
                "week",
                ["fte", "base"],
                unit="fte",
                title="FTE needed per week",
                names={"fte": "This scenario", "base": "As planned"},
            )
        )

    def update(change: Any = None) -> None:
        views.fill_output(out, chart, {k: s.value for k, s in sliders.items()})

    for s in sliders.values():
        s.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox(list(sliders.values())), out])
