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

Each ratio pools the days that give every figure it needs (`workforce_sums`' paired sums): a day without
in_adherence_s is left out of adherence, numerator and denominator alike, and an export without available_s has
no occupancy or shrinkage (empty), rather than reading as 0 seconds (a probe: every agent at 0% adherence and
flagged for coaching; occupancy 100% and shrinkage doubled). The aux_* columns are breakdowns of shrinkage: a
missing one counts as 0 (its part shows as unexplained).

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
AUX = [*PLANNED, "aux_other_s"]
# the paired sums (workforce_sums): each ratio's numerator and denominator over the days that give both
PAIRED = [
    "utilization_scheduled_s",  # scheduled_s on days with handle_s
    "occupancy_handle_s",  # handle_s on days with handle_s and available_s
    "productive_s",  # handle_s + available_s on those days
    "productive_scheduled_s",  # scheduled_s on those days (shrinkage's denominator)
    "productive_planned_s",  # the planned aux_* on those days
    "productive_absence_s",  # absence_s on those days
    "productive_aux_other_s",  # aux_other_s on those days
    "adherence_scheduled_s",  # scheduled_s on days with in_adherence_s
]
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
    """Summed seconds (and absence seconds, absent days, agent-days) per period and group, and the paired sums
    (`PAIRED`) each ratio of `workforce_kpis` is taken from. A seconds column the export does not have is empty
    (NaN), not 0, but for the aux_* breakdowns."""
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
        a[c] = pd.to_numeric(a[c], errors="coerce").astype("float64") if c in a else (0.0 if c in AUX else np.nan)
    absent = (
        a["absent_unplanned"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        if "absent_unplanned" in a
        else np.zeros(len(a), dtype=bool)
    )
    a["absence_s"] = np.where(absent, (a["scheduled_s"].fillna(0) - a["logged_in_s"].fillna(0)).clip(lower=0), 0.0)
    a["absent_days"] = absent.astype(int)
    a["agent_days"] = 1
    sched = a["scheduled_s"].fillna(0.0)
    known = a["handle_s"].notna() & a["available_s"].notna()
    a["utilization_scheduled_s"] = sched.where(a["handle_s"].notna(), 0.0)
    a["occupancy_handle_s"] = a["handle_s"].where(known, 0.0)
    a["productive_s"] = (a["handle_s"] + a["available_s"]).where(known, 0.0)
    a["productive_scheduled_s"] = sched.where(known, 0.0)
    a["productive_planned_s"] = a[PLANNED].fillna(0.0).sum(axis=1).where(known, 0.0)
    a["productive_absence_s"] = a["absence_s"].where(known, 0.0)
    a["productive_aux_other_s"] = a["aux_other_s"].fillna(0.0).where(known, 0.0)
    a["adherence_scheduled_s"] = sched.where(a["in_adherence_s"].notna(), 0.0)
    keys = list(by)
    if grain is not None:
        a["period"] = date_period(a["date"], grain)
        keys = ["period", *by]
    cols = [*SECONDS, "absence_s", "absent_days", "agent_days", *PAIRED]
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
    keys = [c for c in s.columns if c not in [*SECONDS, "absence_s", "absent_days", "agent_days", *PAIRED]]
    out = s[keys].copy()
    out["agent_days"] = s["agent_days"].astype("int64")
    for c in ("scheduled_s", "logged_in_s", "handle_s", "available_s"):
        out[c] = s[c]
    out["occupancy"] = ratio(s["occupancy_handle_s"], s["productive_s"])
    out["utilization"] = ratio(s["handle_s"], s["utilization_scheduled_s"])
    sched = s["productive_scheduled_s"]  # shrinkage and its parts: the same days, so that they add up
    out["shrinkage"] = 1.0 - ratio(s["productive_s"], sched)
    out["planned_shrinkage"] = ratio(s["productive_planned_s"], sched)
    out["unplanned_shrinkage"] = out["shrinkage"] - out["planned_shrinkage"]
    out["absence_shrinkage"] = ratio(s["productive_absence_s"], sched)
    out["other_shrinkage"] = ratio(s["productive_aux_other_s"], sched)
    out["unexplained_shrinkage"] = out["unplanned_shrinkage"] - out["absence_shrinkage"] - out["other_shrinkage"]
    out["adherence"] = ratio(s["in_adherence_s"], s["adherence_scheduled_s"])
    out["absent_days"] = s["absent_days"].astype("int64")
    return out[keys + WORKFORCE_COLUMNS].reset_index(drop=True)
