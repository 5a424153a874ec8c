"""Labor cost, cost per handled contact and actual vs budget (currency units of agents.hourly_cost).

- labor cost = scheduled_s / 3600 x hourly_cost, per agent-day of agent_activity (paid scheduled
  time at the loaded hourly cost of parameters' roster). Agents without an hourly_cost are counted
  in `unpriced_hours`, not silently as free.
- cost per handled contact by channel / queue / client_id (or any contact column): each agent's
  labor cost in the period is allocated to the contacts that agent handled in proportion to their
  handle time (an agent who spent 70% of handle time on phone puts 70% of their cost on phone).
  The cost of paid time of agents who handled nothing in the period (leads, trainees, people on
  leave) is overhead, allocated to the groups in proportion to each group's share of all handle
  time. direct_cost + overhead_cost = labor_cost, and the groups add up to the period's total.
- actual vs budget: parameters/budget.yaml, `labor: {monthly: AMOUNT, months: {YYYY-MM: AMOUNT}}`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from reportlib.core.errors import ReportlibError, UsageError
from reportlib.core.months import month_bounds
from reportlib.metrics.contacts import as_table, ratio, with_optional
from reportlib.metrics.workforce import date_period


def labor_cost(
    activity: pd.DataFrame,
    agents: pd.DataFrame,
    *,
    grain: str | None = "month",
    by: Sequence[str] = (),
    start: object = None,
    end: object = None,
) -> pd.DataFrame:
    """Paid scheduled hours and labor cost (scheduled_s/3600 x hourly_cost) per period and group."""
    by = list(by)
    a = activity[["date", "agent_id", "scheduled_s"]].copy()
    a["date"] = pd.to_datetime(a["date"])
    if start is not None:
        a = a[a["date"] >= pd.Timestamp(start)]
    if end is not None:
        a = a[a["date"] < pd.Timestamp(end)]
    roster_cols = ["agent_id", "hourly_cost", *[c for c in by if c not in ("agent_id",) and c in agents.columns]]
    a = a.merge(agents.drop_duplicates("agent_id")[roster_cols], on="agent_id", how="left")
    missing = [c for c in by if c not in a.columns]
    if missing:
        raise UsageError(f"cannot group labor cost by {', '.join(missing)}")
    hours = pd.to_numeric(a["scheduled_s"], errors="coerce").fillna(0.0) / 3600.0
    rate = pd.to_numeric(a["hourly_cost"], errors="coerce")
    a["scheduled_h"] = hours
    a["labor_cost"] = (hours * rate).fillna(0.0)
    a["unpriced_hours"] = hours.where(rate.isna(), 0.0)
    keys = list(by)
    if grain is not None:
        a["period"] = date_period(a["date"], grain)
        keys = ["period", *by]
    cols = ["scheduled_h", "labor_cost", "unpriced_hours"]
    if keys:
        return a.groupby(keys, dropna=False, sort=True)[cols].sum().reset_index()
    return a[cols].sum().to_frame().T


def cost_per_contact(
    contacts: ir.Table | pd.DataFrame,
    activity: pd.DataFrame,
    agents: pd.DataFrame,
    month: str,
    *,
    by: Sequence[str] = ("channel",),
    start: Any = None,
    end: Any = None,
) -> pd.DataFrame:
    """Labor cost per handled contact for a YYYY-MM month by contact columns (handle-time allocation).

    `start`/`end`: the part of the month both the contacts and the labor are taken over (local days; default the
    whole month): the days the data cover, so a month whose contacts stop on the 18th is not charged the rest of
    the month's labor (reports.queries.cost_window).
    Columns: by..., handled, handle_s, direct_cost, overhead_cost, labor_cost, cost_per_contact.
    """
    by = list(by)
    if not by:
        raise UsageError("cost_per_contact needs at least one grouping column, e.g. channel")
    m_start, m_end = month_bounds(month)
    start = max(m_start, pd.Timestamp(start)) if start is not None else m_start
    end = min(m_end, pd.Timestamp(end)) if end is not None else m_end
    t = with_optional(as_table(contacts), "contacts")
    unknown = [c for c in by if c not in t.columns]
    if unknown:
        raise UsageError(f"contacts have no column {', '.join(unknown)}")
    h = t.filter((t.arrived_at >= start) & (t.arrived_at < end) & (t.outcome == "handled"))
    per = (
        h.group_by(["agent_id", *by]).aggregate(handled=h.count(), handle_s=h.handle_s.fill_null(0.0).sum()).to_pandas()
    )
    per["handle_s"] = per["handle_s"].astype("float64")
    cost = labor_cost(activity, agents, grain=None, by=["agent_id"], start=start, end=end)
    agent_cost = cost.set_index("agent_id")["labor_cost"]
    agent_handle = per.groupby("agent_id", dropna=False)["handle_s"].sum()
    share = per["handle_s"] / per["agent_id"].map(agent_handle)
    per["direct_cost"] = per["agent_id"].map(agent_cost).fillna(0.0) * share.fillna(0.0)
    # agents with paid time and no handle time this month: overhead
    worked = set(agent_handle[agent_handle > 0].index)
    overhead = float(agent_cost[[a for a in agent_cost.index if a not in worked]].sum())
    g = per.groupby(by, dropna=False, sort=True)[["handled", "handle_s", "direct_cost"]].sum().reset_index()
    total_handle = float(g["handle_s"].sum())
    if total_handle > 0:
        g["overhead_cost"] = overhead * g["handle_s"] / total_handle
    else:
        g["overhead_cost"] = np.nan
    g["labor_cost"] = g["direct_cost"] + g["overhead_cost"]
    g["cost_per_contact"] = ratio(g["labor_cost"], g["handled"])
    g["month"] = month
    g["handled"] = g["handled"].astype("int64")
    return g[["month", *by, "handled", "handle_s", "direct_cost", "overhead_cost", "labor_cost", "cost_per_contact"]]


def monthly_budget(budget: Mapping[str, Any], month: str) -> float:
    """The labor budget for a YYYY-MM month from budget.yaml's `labor` (months override monthly)."""
    labor = (budget or {}).get("labor") or {}
    months = labor.get("months") or {}
    value = months.get(month, months.get(str(month)))
    if value is None:
        value = labor.get("monthly")
    if value is None:
        raise ReportlibError(
            f"no labor budget for {month}: set labor.monthly or labor.months['{month}'] in parameters/budget.yaml"
        )
    return float(value)


def budget_vs_actual(
    activity: pd.DataFrame,
    agents: pd.DataFrame,
    budget: Mapping[str, Any],
    months: Sequence[str],
) -> pd.DataFrame:
    """Per YYYY-MM month: actual labor cost, budget, variance (actual - budget) and its share of budget."""
    rows = []
    for m in months:
        start, end = month_bounds(m)
        actual = labor_cost(activity, agents, grain=None, start=start, end=end)
        b = monthly_budget(budget, m)
        value = float(actual["labor_cost"].iloc[0]) if len(actual) else 0.0
        rows.append(
            {
                "month": m,
                "scheduled_h": float(actual["scheduled_h"].iloc[0]) if len(actual) else 0.0,
                "actual": value,
                "budget": b,
                "variance": value - b,
                "variance_share": (value - b) / b if b else np.nan,
                "over_budget": value > b,
            }
        )
    return pd.DataFrame(rows)
