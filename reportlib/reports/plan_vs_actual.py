"""Plan vs actual in the reports: the SLA report's waterfalls, the pack's commentary line and worst days,
the team report's staffing effect beside adherence.

The decomposition itself (Shapley effects of volume, handle time and staffing on service level) is
`reportlib.planning.variance`; docs/plan-vs-actual.md has the maths. Each `*_section` function is one
notebook section: the notebook displays what it returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from reportlib.core.names import ALL_QUEUES
from reportlib.core.params import vintage_folder
from reportlib.data.source import DataSource
from reportlib.planning.variance import (
    CAUSES,
    LIVE_CHANNELS,
    Variance,
    staffing_beside_adherence,
    variance_for_source,
    worst_days,
)
from reportlib.reports import queries
from reportlib.reports.charts import TEMPLATE_NAME, safe_text


def _points(share: float) -> str:
    return f"{abs(share) * 100:.1f}"


def _pct(share: float, whole: bool = True) -> str:
    """A share as a percentage with one decimal; a plan's whole number without it ("80%", a target as set), not a
    measured figure's (`whole` False: "84.0%" beside a plan of "88.5%", not "84%": a probe)."""
    text = f"{share * 100:.1f}"
    return (text.removesuffix(".0") if whole else text) + "%"


def commentary_line(record: Mapping[str, Any], label: str | None = None, aside: str | None = None) -> str:
    """One sentence for the pack, e.g. 'Phone service level missed the 80% plan by 6.1 points: volume 3.9%
    above forecast cost 4.2 points, handle time 1.1, staffing 0.4, other 0.4.' Effects in order of size;
    'cost' for a loss, 'added' for a gain. `aside` goes in parentheses before the full stop (what the
    figures leave out: left_out_aside)."""
    end = f" ({aside})." if aside else "."
    planned, actual = float(record["planned_sl"]), float(record["actual_sl"])
    gap = actual - planned
    who = label or f"{str(record['channel']).capitalize()} service level"
    if not np.isfinite(gap):
        return f"{who}: no contacts offered against a plan of {_pct(planned)}" + end
    verb = "missed" if gap < 0 else "beat"
    head = f"{who} {verb} the {_pct(planned)} plan by {_points(gap)} points ({_pct(actual, whole=False)})"
    if abs(gap) < 0.0005:
        head = f"{who} met the {_pct(planned)} plan ({_pct(actual, whole=False)})"
    items = [(k, float(record[k])) for k in CAUSES if record.get(k) is not None and np.isfinite(float(record[k]))]
    items.sort(key=lambda kv: -abs(kv[1]))
    parts = []
    for i, (k, v) in enumerate(items):
        name = CAUSES[k]
        if k == "effect_volume":
            change = record.get("volume_change")
            if change is not None and np.isfinite(float(change)) and abs(float(change)) < 0.0005:
                # the total as forecast, its queues not: "volume 0.0% above forecast cost 1.3" read as a contradiction
                name = "volume's mix of queues (total as forecast)"
            elif change is not None and np.isfinite(float(change)):
                name = f"volume {_points(float(change))}% {'above' if change >= 0 else 'below'} forecast"
        word = "cost" if v < 0 else "added"
        parts.append(f"{name} {word} {_points(v)}" + (" points" if i == 0 else ""))
    if record.get("effect_staffing") is None or not np.isfinite(float(record["effect_staffing"])):
        parts.append("staffing not measurable")
    return head + (": " + ", ".join(parts) if parts else "") + end


def waterfall_chart(record: Mapping[str, Any], title: str | None = None) -> Any:
    """A plotly waterfall in SL points: planned SL, each effect (staffing as schedule and attendance when
    measured), actual SL. Labels from data are escaped."""
    steps = [("Planned SL", float(record["planned_sl"]) * 100, "absolute")]
    steps.append(("Volume", float(record["effect_volume"]) * 100, "relative"))
    steps.append(("Handle time", float(record["effect_aht"]) * 100, "relative"))
    sched, att = record.get("effect_schedule"), record.get("effect_attendance")
    if sched is not None and att is not None and np.isfinite(float(sched)) and np.isfinite(float(att)):
        steps.append(("Schedule", float(sched) * 100, "relative"))
        steps.append(("Attendance", float(att) * 100, "relative"))
    elif record.get("effect_staffing") is not None and np.isfinite(float(record["effect_staffing"])):
        steps.append(("Staffing", float(record["effect_staffing"]) * 100, "relative"))
    steps.append(("Other", float(record["effect_other"]) * 100, "relative"))
    steps.append(("Actual SL", float(record["actual_sl"]) * 100, "total"))
    fig = go.Figure(
        go.Waterfall(
            x=[s[0] for s in steps],
            y=[s[1] for s in steps],
            measure=[s[2] for s in steps],
            text=[f"{s[1]:+.1f}" if s[2] == "relative" else f"{s[1]:.1f}%" for s in steps],
            textposition="outside",
            decreasing=dict(marker=dict(color="#c62828")),
            increasing=dict(marker=dict(color="#2e7d32")),
            totals=dict(marker=dict(color="#1f5aa6")),
            connector=dict(line=dict(color="#c3c8d1")),
            hovertemplate="%{x}: %{y:.1f}<extra></extra>",
        ),
        layout=dict(template=TEMPLATE_NAME),
    )
    lo = min(float(record["planned_sl"]), float(record["actual_sl"])) * 100
    fig.update_layout(
        title=dict(text=safe_text(title or f"{record['channel']} / {record['queue']}")),
        yaxis=dict(title_text="service level, % (effects in points)", range=[max(0.0, lo - 15), 100]),
        showlegend=False,
        height=340,
    )
    return fig


def _channels_with_unplanned(result: Variance) -> set[str]:
    return set(result.unplanned["channel"].astype(str))


def sla_waterfalls(result: Variance) -> list[Any]:
    """One waterfall per channel and queue of a by-queue Variance (the channel totals first)."""
    rec = result.records.copy()
    rec["_c"] = rec["channel"].map(lambda c: LIVE_CHANNELS.index(c) if c in LIVE_CHANNELS else 9)
    rec["_q"] = (rec["queue"] != ALL_QUEUES).astype(int)
    rec = rec.sort_values(["_c", "channel", "_q", "queue"], kind="stable")
    figs = []
    partial = _channels_with_unplanned(result)
    for r in rec.to_dict("records"):
        if not np.isfinite(r["actual_sl"]):
            continue
        name = r["queue"]
        if r["queue"] == ALL_QUEUES:
            name = "all planned queues" if r["channel"] in partial else "all queues"
        figs.append(waterfall_chart(r, title=f"{str(r['channel']).capitalize()} — {name}: plan vs actual"))
    return figs


def left_out_aside(result: Variance, channel: str) -> str | None:
    """What a channel's all-queues figures leave out, for the sentence that states them: the queues with
    contacts but no plan (their contacts are in no record, so 'volume 25% below forecast' is over the planned
    queues only) and, beside them, the planned queues without a contact (a renamed queue shows as both).
    None when every queue with contacts had a plan."""
    u = result.unplanned
    u = u[u["channel"].astype(str) == str(channel)]
    if u.empty:
        return None
    names = ", ".join(f"{q} with {n:,.0f} contacts" for q, n in zip(u["queue"], u["offered"].astype(float)))
    text = f"queues with contacts but no plan left out: {names}"
    iv = result.intervals
    per_q = iv[iv["channel"].astype(str) == str(channel)].groupby("queue")[["forecast_offered", "offered"]].sum()
    silent = per_q[(per_q["offered"] <= 0) & (per_q["forecast_offered"] > 0)].index.astype(str).tolist()
    if silent:
        text += f"; planned but without contacts: {', '.join(sorted(silent))}"
    return text


def pack_commentary(result: Variance) -> list[str]:
    """The pack's commentary: one line per live channel from the all-queues record, saying which queues with
    contacts it leaves out for want of a plan (left_out_aside)."""
    rec = result.records[result.records["queue"] == ALL_QUEUES]
    return [
        commentary_line(r, label=_label(result, r["channel"]), aside=left_out_aside(result, r["channel"]))
        for r in rec.to_dict("records")
    ]


def _label(result: Variance, channel: Any) -> str | None:
    """ "Chat service level in 60 s": the plan's threshold named, as the pack's service table measures at another
    (a probe read the plan's 91.1% beside the table's 90.4% for one month's chat); None without one."""
    iv = result.intervals
    th = iv.loc[iv["channel"].astype(str) == str(channel), "answer_s"] if "answer_s" in iv else pd.Series(dtype=float)
    th = th.dropna()
    if th.empty or th.nunique() != 1:
        return None
    return f"{str(channel).capitalize()} service level in {float(th.iloc[0]):g} s"


def month_variance(source: DataSource, params: Mapping[str, Any], month: str, by: str = "queue") -> Variance:
    """variance_for_source, remembered on the source (reports in one warm kernel share it) per parameter set: a
    kernel reuses the source while its files are unchanged, and a rerun with other capacity targets or another
    short-abandon limit showed the first run's figures (a review)."""
    vintages = vintage_folder(params)  # without interval_plan: the forecast archived before the month, if kept
    return source.memo(
        ("variance", str(month), by, queries.params_key(params), str(vintages)),
        lambda: variance_for_source(source, params, str(month), by=by, vintages=vintages),
    )


def _pts(values: pd.Series) -> pd.Series:
    """Shares as percentage points (x 100), unrounded: the pages show one decimal ("points"), and a workbook's cells
    keep adding up to actual - plan (rounded first, the sheet's four effects missed it by up to 0.13 point)."""
    return values.astype(float) * 100


def describe_sources(result: Variance) -> str:
    """One caption line: where the plan and the staffed agents came from, and the threshold each channel's
    service level is counted at here (the capacity plan's, which may differ from the operation's own)."""
    text = f"Plan: {result.plan_source}. Staffed agents: {result.staffing_source}."
    iv = result.intervals
    if len(iv) and {"channel", "answer_s"} <= set(iv.columns):
        per = iv.dropna(subset=["answer_s"]).groupby("channel")["answer_s"].first()
        order = sorted(per.items(), key=lambda cs: (cs[0] != "phone", cs[0]))  # phone first, as in the tables
        if order:
            text += " Service level here: answered within " + ", ".join(f"{s:g} s ({c})" for c, s in order)
            text += ", the capacity plan's targets."
    return text + (" " + " ".join(n[0].upper() + n[1:] + "." for n in result.notes) if result.notes else "")


def sla_section(source: DataSource, params: Mapping[str, Any], month: str) -> dict[str, Any]:
    """The SLA report's plan-vs-actual section: waterfalls (one per channel total and queue), the table of
    records in points, and the caption. Effects and plans in points (share x 100)."""
    result = month_variance(source, params, month)
    return {"figures": sla_waterfalls(result), "table": sla_table(result), "caption": describe_sources(result)}


def sla_table(result: Variance) -> pd.DataFrame:
    """The SLA report's plan-vs-actual table (and the month workbook's sheet): per channel and queue, planned_sl
    and actual_sl (shares 0..1), volume_change (share; + more than forecast) and the effects of volume, handle
    time, staffing and the rest in points (share x 100)."""
    rec = result.records
    # a channel whose queues with contacts were not all planned: its total row is the planned queues'
    partial = (rec["queue"] == ALL_QUEUES) & rec["channel"].astype(str).isin(_channels_with_unplanned(result))
    return pd.DataFrame(
        {
            "channel": rec["channel"],
            "queue": rec["queue"].where(~partial, "all planned queues"),
            "planned_sl": rec["planned_sl"],
            "actual_sl": rec["actual_sl"],
            "volume_change": rec["volume_change"],
            "volume": _pts(rec["effect_volume"]),
            "aht": _pts(rec["effect_aht"]),
            "staffing": _pts(rec["effect_staffing"]),
            "other": _pts(rec["effect_other"]),
        }
    )


def pack_section(source: DataSource, params: Mapping[str, Any], month: str, n_days: int = 3) -> dict[str, Any]:
    """The monthly pack's plan-vs-actual lines (one per live channel) and the month's worst days per channel
    with their dominant cause (points lost against plan; the cause's cost in points)."""
    result = month_variance(source, params, month)
    days = month_variance(source, params, month, by="day")
    worst = worst_days(days.records, n=n_days, queue=ALL_QUEUES)
    table = pd.DataFrame(
        {
            "day": pd.to_datetime(worst["period"]).dt.strftime("%a %d %b"),
            "channel": worst["channel"],
            "planned_sl": worst["planned_sl"],
            "actual_sl": worst["actual_sl"],
            "points": _pts(worst["gap"]),
            "cause": worst["cause"],
            "cause_points": _pts(worst["cause_effect"]),
            "volume_change": worst["volume_change"],
        }
    )
    return {"commentary": pack_commentary(result), "worst_days": table, "caption": describe_sources(result)}


def team_section(source: DataSource, params: Mapping[str, Any], month: str) -> pd.DataFrame:
    """The team report's view: per week and live channel, service level points won or lost to staffing
    (schedule and attendance parts) beside adherence and absence (shares)."""
    t = staffing_beside_adherence(source, params, month, weekly=month_variance(source, params, month, by="week"))
    for c in ("effect_staffing", "effect_schedule", "effect_attendance"):
        t[c] = _pts(t[c])
    return t[
        ["week", "channel", "effect_staffing", "effect_schedule", "effect_attendance", "adherence", "absence_shrinkage"]
    ]
