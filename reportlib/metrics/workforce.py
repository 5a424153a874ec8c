"""Workforce KPIs from agent_activity: occupancy, utilization, shrinkage, adherence.

Definitions (docs/definitions.md#workforce), each a ratio of summed seconds over the group and period (volume-weighted,
never an average of daily percentages; a zero denominator gives NaN):

- occupancy   = handle_s / (handle_s + available_s)
- utilization = handle_s / scheduled_s
- shrinkage   = 1 - (handle_s + available_s) / scheduled_s, split so that the parts add up exactly:
    planned_shrinkage   = (aux_break_s + aux_meeting_s + aux_training_s + aux_coaching_s) / scheduled_s
    unplanned_shrinkage = shrinkage - planned_shrinkage, itself split into
        absence_shrinkage = scheduled time not logged in on days flagged absent_unplanned
                            (max(scheduled_s - logged_in_s, 0)) / scheduled_s
        other_shrinkage   = aux_other_s / scheduled_s
        unexplained_shrinkage = the rest (late log-ins, time logged in in no state, overtime
                            shows as a negative value here)
- adherence   = in_adherence_s / scheduled_s

agent_activity is small (one row per agent per day) and comes as a pandas frame (Source.frame).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from reportlib.core.errors import MissingTableError, UsageError
from reportlib.metrics.contacts import ratio

SECONDS = [
    "scheduled_s",
    "logged_in_s",
    "handle_s",
    "available_s",
    "aux_break_s",
    "aux_meeting_s",
    "aux_training_s",
    "aux_coaching_s",
    "aux_other_s",
    "in_adherence_s",
]
PLANNED = ["aux_break_s", "aux_meeting_s", "aux_training_s", "aux_coaching_s"]
WORKFORCE_COLUMNS = [
    "agent_days",
    "scheduled_s",
    "logged_in_s",
    "handle_s",
    "available_s",
    "occupancy",
    "utilization",
    "shrinkage",
    "planned_shrinkage",
    "unplanned_shrinkage",
    "absence_shrinkage",
    "other_shrinkage",
    "unexplained_shrinkage",
    "adherence",
    "absent_days",
]
_AGENT_ATTRS = ("team", "site", "supervisor", "role")
_PERIODS = {"day": "D", "week": "W-SUN", "month": "M"}


def date_period(dates: pd.Series, grain: str) -> pd.Series:
    """Start date of the day / week (Monday) / month holding each date."""
    if grain not in _PERIODS:
        raise UsageError(f"grain must be one of day, week, month; got {grain!r}")
    d = pd.to_datetime(dates).dt.normalize()
    if grain == "day":
        return d
    return d.dt.to_period(_PERIODS[grain]).dt.start_time


def _with_agents(activity: pd.DataFrame, agents: pd.DataFrame | None, by: Sequence[str]) -> pd.DataFrame:
    need = [c for c in by if c in _AGENT_ATTRS and c not in activity.columns]
    if not need:
        return activity
    if agents is None:
        raise MissingTableError(f"grouping by {', '.join(need)} needs the agents table")
    roster = agents.drop_duplicates("agent_id")[["agent_id", *need]]
    return activity.merge(roster, on="agent_id", how="left")


def workforce_sums(
    activity: pd.DataFrame,
    agents: pd.DataFrame | None = None,
    *,
    grain: str | None = "month",
    by: Sequence[str] = ("agent_id",),
    start: object = None,
    end: object = None,
) -> pd.DataFrame:
    """Summed seconds (and absence seconds, absent days, agent-days) per period and group."""
    by = list(by)
    a = activity.copy()
    a["date"] = pd.to_datetime(a["date"])
    if start is not None:
        a = a[a["date"] >= pd.Timestamp(start)]
    if end is not None:
        a = a[a["date"] < pd.Timestamp(end)]
    a = _with_agents(a, agents, by)
    unknown = [c for c in by if c not in a.columns]
    if unknown:
        raise UsageError(f"cannot group agent activity by {', '.join(unknown)}")
    for c in SECONDS:
        a[c] = pd.to_numeric(a[c], errors="coerce").astype("float64") if c in a else 0.0
    absent = (
        a["absent_unplanned"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        if "absent_unplanned" in a
        else np.zeros(len(a), dtype=bool)
    )
    a["absence_s"] = np.where(absent, (a["scheduled_s"].fillna(0) - a["logged_in_s"].fillna(0)).clip(lower=0), 0.0)
    a["absent_days"] = absent.astype(int)
    a["agent_days"] = 1
    keys = list(by)
    if grain is not None:
        a["period"] = date_period(a["date"], grain)
        keys = ["period", *by]
    cols = [*SECONDS, "absence_s", "absent_days", "agent_days"]
    if keys:
        out = a.groupby(keys, dropna=False, sort=True)[cols].sum(min_count=0).reset_index()
    else:
        out = a[cols].sum().to_frame().T
    return out


def workforce_kpis(
    activity: pd.DataFrame,
    agents: pd.DataFrame | None = None,
    *,
    grain: str | None = "month",
    by: Sequence[str] = ("agent_id",),
    start: object = None,
    end: object = None,
) -> pd.DataFrame:
    """Occupancy, utilization, shrinkage (planned/unplanned parts) and adherence, shares 0..1.

    Groups by agent_id or agent attributes (team, site, supervisor, role; agents joined on
    agent_id) x day/week (Monday)/month. Seconds columns are sums over the group.
    """
    s = workforce_sums(activity, agents, grain=grain, by=by, start=start, end=end)
    keys = [c for c in s.columns if c not in [*SECONDS, "absence_s", "absent_days", "agent_days"]]
    sched = s["scheduled_s"]
    out = s[keys].copy()
    out["agent_days"] = s["agent_days"].astype("int64")
    for c in ("scheduled_s", "logged_in_s", "handle_s", "available_s"):
        out[c] = s[c]
    out["occupancy"] = ratio(s["handle_s"], s["handle_s"] + s["available_s"])
    out["utilization"] = ratio(s["handle_s"], sched)
    productive = ratio(s["handle_s"] + s["available_s"], sched)
    out["shrinkage"] = 1.0 - productive
    out["planned_shrinkage"] = ratio(s[PLANNED].sum(axis=1), sched)
    out["unplanned_shrinkage"] = out["shrinkage"] - out["planned_shrinkage"]
    out["absence_shrinkage"] = ratio(s["absence_s"], sched)
    out["other_shrinkage"] = ratio(s["aux_other_s"], sched)
    out["unexplained_shrinkage"] = out["unplanned_shrinkage"] - out["absence_shrinkage"] - out["other_shrinkage"]
    out["adherence"] = ratio(s["in_adherence_s"], sched)
    out["absent_days"] = s["absent_days"].astype("int64")
    return out[keys + WORKFORCE_COLUMNS].reset_index(drop=True)
