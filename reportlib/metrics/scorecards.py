"""Agent scorecards: each agent's month against goals, rank in team, trend and coaching flags.

Goals come from parameters/goals.yaml (`defaults`, overridden per `roles.ROLE`, then per
`teams.TEAM`): aht_s (ceiling, seconds), qa (floor, 0..100), fcr, adherence, csat (floors, shares
0..1; csat is the top-2-box share), contacts_handled (floor per month for a full-time agent employed
the whole month). A volume goal (`VOLUME_GOALS`: a count per month) is scaled by fte and pro-rated to
the month's open days (business calendar) on which the agent was employed and the data exists
(`goal_days`): a month the data covers in part (an export ending mid-month) is judged on the days it
covers; rates are not scaled. An agent who handled no contact in the month is not rated on it.

Every figure is pooled from counts (contacts through the engine by agent_id, adherence from
agent_activity, QA from qa_evaluations), so "previous 3 months" is the value over those three
months together (volume-weighted), and `<metric>_change` = this month - previous 3 months.

Rank in team: agents ordered by the share of their judged goals met (higher first; none judged last), then
goals met (more first), then QA mean (higher first), then AHT (lower first), then agent_id; rank 1 is best.

Coaching flags (thresholds in goals.yaml `coaching`): a month misses a goal for coaching when it
is worse than the goal by more than `tolerance` (relative for AHT and contacts handled, points for
the others: QA score points, share points for FCR, adherence, CSAT). A metric is flagged when this
month misses and either the misses run `consecutive_months` (3) months in a row up to this one, or
this month misses by at least `large_miss`. A month counts for a metric only with enough volume
(min_handled contacts for AHT/FCR, min_csat_responses for CSAT, one evaluation for QA, scheduled
time for adherence, one handled contact for contacts handled). Any QA critical error this month is flagged too. The reason says why, e.g.
"AHT 18% above goal for 3 months" (the % is over the months of the streak, pooled).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from reportlib.core.errors import UsageError
from reportlib.core.months import month_bounds
from reportlib.core.params import did_you_mean
from reportlib.core.words import counted, in_words
from reportlib.metrics.contacts import contact_counts, ratio
from reportlib.metrics.sla import BusinessCalendar, business_calendar
from reportlib.metrics.workforce import workforce_sums

GOAL_KEYS = ("aht_s", "qa", "fcr", "adherence", "csat", "contacts_handled")
# goals that are a count per month: scaled by fte and pro-rated to the open days employed with data (goal_days)
VOLUME_GOALS = ("contacts_handled",)
# goal key -> (column in the scorecard, direction, label, deviation unit)
_GOAL_INFO = {
    "aht_s": ("aht_s", "max", "AHT", "relative"),
    "qa": ("qa_mean", "min", "QA", "points"),
    "fcr": ("fcr", "min", "FCR", "share_points"),
    "adherence": ("adherence", "min", "Adherence", "share_points"),
    "csat": ("csat_top2", "min", "CSAT", "share_points"),
    "contacts_handled": ("handled", "min", "Contacts handled", "relative"),
}
# goal key -> the label coaching reasons start with ("AHT 18% above goal for 3 months")
GOAL_LABELS: dict[str, str] = {k: v[2] for k, v in _GOAL_INFO.items()}
# goal key -> the scorecard column it judges ("qa" -> "qa_mean"); "<key>_met" says whether that column met it
GOAL_COLUMNS: dict[str, str] = {k: v[0] for k, v in _GOAL_INFO.items()}
DEFAULT_COACHING: dict[str, Any] = {
    "consecutive_months": 3,
    "tolerance": {"aht_s": 0.05, "qa": 2, "fcr": 0.02, "adherence": 0.02, "csat": 0.02, "contacts_handled": 0.10},
    "large_miss": {"aht_s": 0.15, "qa": 8, "fcr": 0.08, "adherence": 0.08, "csat": 0.08, "contacts_handled": 0.25},
    "min_handled": 20,
    "min_csat_responses": 10,
    "critical_errors": 1,
}


def _goal_problem(key: str, value: Any) -> str | None:
    """What is wrong with one goal's value (None: fine). Shares are written 0..1 and refused as percentages (92
    for 92% read as a goal of 9,200%: every agent missed it); a QA goal is a score out of 100 (0.84 read as a
    share let every score meet it); a handle-time ceiling of 0 s is always missed ("inf% above goal"), a contacts
    floor of 0 never (as before)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        return f"must be a number (or null: not judged), got {value!r}"
    unit = _GOAL_INFO[key][3]
    if unit == "share_points" and not 0 <= value <= 1:
        return (
            f"must be a share 0..1 ({value:g}% is {value / 100:g}), got {value!r}"
            if 1 < value <= 100
            else (f"must be a share 0..1, got {value!r}")
        )
    if key == "qa" and not (value == 0 or 1 < value <= 100):
        return f"must be a QA score out of 100 (84, not 0.84), got {value!r}"
    if unit == "relative" and _GOAL_INFO[key][1] == "max" and not value > 0:  # a ceiling of 0 s: always missed
        return f"must be > 0 (null: not judged), got {value!r}"
    if unit == "relative" and value < 0:
        return f"must be >= 0 (null: not judged), got {value!r}"
    return None


def check_goals(goals: Mapping[str, Any] | None) -> None:
    """Raise UsageError naming the first goal of parameters/goals.yaml that is unknown or out of its unit
    (`goals.defaults.adherence must be a share 0..1 (92% is 0.92), got 92`); checked before a run renders."""
    goals = goals or {}
    sections: list[tuple[str, Any]] = [("goals.defaults", goals.get("defaults"))]
    for group in ("roles", "teams"):
        named = goals.get(group) or {}
        if not isinstance(named, Mapping):
            raise UsageError(f"parameter goals.{group} must map each {group[:-1]} to its goals, got {named!r}")
        sections += [(f"goals.{group}.{name}", body) for name, body in named.items()]
    for where, body in sections:
        if body is None:
            continue
        if not isinstance(body, Mapping):
            raise UsageError(f"parameter {where} must be a mapping of goals, got {body!r}")
        for key, value in body.items():
            if key not in GOAL_KEYS:
                raise UsageError(
                    f"parameter {where}.{key}: unknown goal{did_you_mean(str(key), list(GOAL_KEYS))}; "
                    f"use {', '.join(GOAL_KEYS)}"
                )
            problem = _goal_problem(str(key), value)
            if problem:
                raise UsageError(f"parameter {where}.{key} {problem}")


def unknown_goal_groups(goals: Mapping[str, Any] | None, agents: pd.DataFrame) -> str | None:
    """A sentence naming the teams goals.yaml sets goals for that no one on the roster is in, and the roles that
    are none of the contract's (a typo such as "Louisvile 3" or "leads" left those agents on the defaults without
    a word), or None. A role of the contract no one holds (the shipped lead and supervisor goals on a roster of
    agents alone) is no mistake."""
    from reportlib.data.contract import TABLES

    roles = next(c.allowed for c in TABLES["agents"].columns if c.name == "role") or ()
    said = []
    for group, col in (("teams", "team"), ("roles", "role")):
        named = set(map(str, ((goals or {}).get(group) or {})))
        have = set(agents[col].dropna().astype(str)) if col in agents.columns else set()
        missing = sorted(named - have - (set(roles) if group == "roles" else set()))
        if missing and col in agents.columns:
            hints = "".join(did_you_mean(m, sorted(have)) for m in missing[:1])
            said.append(f"{group} {in_words(repr(m) for m in missing)}{hints}")
    if not said:
        return None
    return (
        f"parameters/goals.yaml sets goals for {' and '.join(said)}, which no one on the roster has: those goals "
        "are not used (the agents there are judged on the defaults)."
    )


def goals_for(agents: pd.DataFrame, goals: Mapping[str, Any]) -> pd.DataFrame:
    """One row per agent with a <key>_goal column for each goal key (defaults < role < team); UsageError for
    goals `check_goals` refuses."""
    check_goals(goals)
    base = dict(goals.get("defaults") or {})
    roles = goals.get("roles") or {}
    teams = goals.get("teams") or {}
    rows = []
    for _, a in agents.iterrows():
        g = dict(base)
        g.update(roles.get(a.get("role"), {}) or {})
        g.update(teams.get(a.get("team"), {}) or {})
        rows.append(
            {
                "agent_id": a["agent_id"],
                **{f"{k}_goal": float(g[k]) if g.get(k) is not None else np.nan for k in GOAL_KEYS},
            }
        )
    return pd.DataFrame(rows, columns=["agent_id", *[f"{k}_goal" for k in GOAL_KEYS]])


def goal_days(
    agents: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    calendar: BusinessCalendar | None = None,
    data_range: tuple[pd.Timestamp | None, pd.Timestamp | None] | None = None,
) -> pd.DataFrame:
    """Per agent (the index of `agents`), the days a volume goal for [start, end) counts.

    Columns: `days`, the open days of [start, end) on which the agent was employed (hire_date ..
    termination_date inclusive; missing: the whole month) AND the data exists (its first day .. last day
    inclusive, `data_range` = the first and last arrival of the source's contacts; None or a missing
    end: no limit); `data_days`, the open days with data; `open_days`, the month's open days; `share` =
    days / open_days. Open days are the business calendar's (`metrics.sla.business_calendar`: weekdays with
    business hours that are no closed holiday; default Monday-Friday, US holidays); a calendar with no open
    day in the month counts calendar days instead.
    """
    cal = calendar if calendar is not None else business_calendar()
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    month_open = cal.open_days(start, end)
    counted: dict[tuple[pd.Timestamp, pd.Timestamp], int] = {}

    def count(a: pd.Timestamp, b: pd.Timestamp) -> int:
        if b <= a:
            return 0
        if (a, b) not in counted:  # most agents share the same span: one busday_count each
            counted[(a, b)] = cal.open_days(a, b) if month_open else (b - a).days
        return counted[(a, b)]

    first, last = (local_day(t) for t in (data_range if data_range is not None else (None, None)))
    lo = max(start, first) if first is not None else start
    hi = min(end, last + pd.Timedelta(days=1)) if last is not None else end
    hire = pd.to_datetime(agents["hire_date"]) if "hire_date" in agents else pd.Series(pd.NaT, index=agents.index)
    term = (
        pd.to_datetime(agents["termination_date"])
        if "termination_date" in agents
        else pd.Series(pd.NaT, index=agents.index)
    )
    after = (term.dt.normalize() + pd.Timedelta(days=1)).fillna(end)
    days = [
        count(max(lo, h.normalize()) if not pd.isna(h) else lo, min(hi, t)) for h, t in zip(hire, after, strict=True)
    ]
    total = month_open if month_open else (end - start).days
    out = pd.DataFrame(
        {"days": days, "data_days": count(lo, hi), "open_days": total}, index=agents.index, dtype="float64"
    )
    out["share"] = out["days"] / total if total else 0.0
    return out


def local_day(t: Any) -> pd.Timestamp | None:
    """The day of a timestamp (its wall-clock date when it carries a time zone), None when missing."""
    if t is None or pd.isna(t):
        return None
    t = pd.Timestamp(t)
    return (t.tz_localize(None) if t.tzinfo is not None else t).normalize()


def goal_note(days: float, data_days: float, open_days: float) -> str:
    """How a volume goal was pro-rated, e.g. "goal pro-rated to the 12 of 21 open days with data"; "" when it
    covers the whole month."""
    if days >= open_days:
        return ""
    if data_days < open_days:
        which = "with data" if days >= data_days else "employed and with data"
    else:
        which = "employed"
    return f"goal pro-rated to the {int(days)} of {int(open_days)} open days {which}"


def monthly_agent_figures(
    contacts: ir.Table | pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    activity: pd.DataFrame | None = None,
    qa: pd.DataFrame | None = None,
    short_abandon_s: float = 5,
) -> pd.DataFrame:
    """Per agent and month, the sums behind the scorecard (contacts, handle and adherence seconds, QA)."""
    c = contact_counts(
        contacts,
        grain="month",
        by=["agent_id"],
        start=start,
        end=end,
        short_abandon_s=short_abandon_s,
        with_repeat=False,
    )
    c = c[c["agent_id"].notna()]
    cols = [
        "period",
        "agent_id",
        "handled",
        "handle_s_sum",
        "handle_n",
        "fcr_yes",
        "fcr_known",
        "csat_top2_n",
        "csat_sum",
        "csat_responses",
    ]
    frame = c[cols]
    if activity is not None and len(activity):
        w = workforce_sums(activity, grain="month", by=["agent_id"], start=start, end=end)
        frame = frame.merge(
            w[["period", "agent_id", "scheduled_s", "in_adherence_s", "adherence_scheduled_s"]],
            on=["period", "agent_id"],
            how="outer",
        )
    else:
        frame = frame.assign(scheduled_s=np.nan, in_adherence_s=np.nan, adherence_scheduled_s=np.nan)
    if qa is not None and len(qa):
        q = qa.copy()
        q["evaluated_at"] = pd.to_datetime(q["evaluated_at"])
        q = q[(q["evaluated_at"] >= start) & (q["evaluated_at"] < end)]
        q["period"] = q["evaluated_at"].dt.to_period("M").dt.start_time
        q["critical"] = q["critical_error"].astype("boolean").fillna(False).astype(int)
        q = (
            q.groupby(["period", "agent_id"])
            .agg(qa_sum=("score", "sum"), qa_n=("score", "count"), qa_critical_errors=("critical", "sum"))
            .reset_index()
        )
        frame = frame.merge(q, on=["period", "agent_id"], how="outer")
    else:
        frame = frame.assign(qa_sum=np.nan, qa_n=0, qa_critical_errors=0)
    num = [c for c in frame.columns if c not in ("period", "agent_id")]
    frame[num] = frame[num].astype("float64")
    fill0 = [c for c in num if c not in ("scheduled_s", "in_adherence_s", "adherence_scheduled_s")]
    frame[fill0] = frame[fill0].fillna(0.0)
    return frame


def active_agent_ids(
    contacts: ir.Table | pd.DataFrame,
    month: str,
    *,
    activity: pd.DataFrame | None = None,
    qa: pd.DataFrame | None = None,
    short_abandon_s: float = 5,
) -> list[str]:
    """The agent ids active in `month` as the scorecard counts them (handled a contact, had scheduled time
    or had a QA evaluation), sorted; the roster is not consulted."""
    start, end = month_bounds(month)
    figs = monthly_agent_figures(
        contacts, start=start, end=end, activity=activity, qa=qa, short_abandon_s=short_abandon_s
    )
    active = figs[(figs["handled"] > 0) | (figs["scheduled_s"].fillna(0) > 0) | (figs["qa_n"] > 0)]
    return sorted(set(active["agent_id"].astype(str)))


def _values(sums: pd.DataFrame) -> pd.DataFrame:
    """Scorecard metrics from summed figures."""
    out = pd.DataFrame(index=sums.index)
    out["handled"] = sums["handled"]
    out["aht_s"] = ratio(sums["handle_s_sum"], sums["handle_n"])
    out["fcr"] = ratio(sums["fcr_yes"], sums["fcr_known"])
    out["csat_top2"] = ratio(sums["csat_top2_n"], sums["csat_responses"])
    out["csat_mean"] = ratio(sums["csat_sum"], sums["csat_responses"])
    out["csat_responses"] = sums["csat_responses"]
    # the days that give in_adherence_s alone (workforce.PAIRED): a blank day is not 0 s in adherence
    out["adherence"] = ratio(sums["in_adherence_s"], sums["adherence_scheduled_s"])
    out["qa_mean"] = ratio(sums["qa_sum"], sums["qa_n"])
    out["qa_evaluations"] = sums["qa_n"]
    out["qa_critical_errors"] = sums["qa_critical_errors"]
    return out


def values_from_sums(sums: pd.DataFrame) -> pd.DataFrame:
    """Scorecard metrics from summed figures (the columns of `monthly_agent_figures`, any rows): handled,
    aht_s (seconds), fcr, csat_top2, adherence (shares 0..1), csat_mean (1..5), csat_responses, qa_mean
    (0..100), qa_evaluations, qa_critical_errors. Each is a ratio of sums, so pooled rows give pooled values."""
    return _values(sums)


def _deviation_text(key: str, value: float, goal: float) -> tuple[str, float]:
    """('18% above goal', size) — size in the unit large_miss uses for this key."""
    _, direction, _, unit = _GOAL_INFO[key]
    word = "above" if direction == "max" else "below"
    if unit == "relative":
        size = abs(value - goal) / goal if goal else np.inf
        return f"{size:.0%} {word} goal", size
    if unit == "points":
        size = abs(value - goal)
        return f"{size:.1f} points {word} goal", size
    size = abs(value - goal)
    return f"{size * 100:.1f} points {word} goal ({value:.0%} vs {goal:.0%})", size


def agent_scorecards(
    contacts: ir.Table | pd.DataFrame,
    agents: pd.DataFrame,
    month: str,
    *,
    activity: pd.DataFrame | None = None,
    qa: pd.DataFrame | None = None,
    goals: Mapping[str, Any] | None = None,
    short_abandon_s: float = 5,
    lookback_months: int = 3,
    data_range: tuple[pd.Timestamp | None, pd.Timestamp | None] | None = None,
    calendar: BusinessCalendar | None = None,
) -> pd.DataFrame:
    """One row per agent active in `month` (handled contacts, scheduled time or QA evaluations).

    Columns: agent attributes; handled, aht_s, qa_mean, qa_evaluations, qa_critical_errors, fcr,
    adherence, csat_top2, csat_mean, csat_responses; <goal>_goal and <goal>_met per goal key;
    goals_met, goals_total; rank_in_team (empty for an agent who handled no contact: not ranked), team_size (the
    team's ranked agents); <metric>_prev3 and <metric>_change; coaching
    (bool) and coaching_reasons ("; "-separated sentences); for the volume goals (VOLUME_GOALS)
    <goal>_goal_month (the goal for the whole month: fte-scaled, not pro-rated), goal_days and
    month_open_days (the open days the goal counts and the month's: `goal_days`) and goal_note ("goal
    pro-rated to the 12 of 21 open days with data", "" for a whole month).

    `data_range` is the (first, last) arrival of the whole source's contacts (data.span.data_range):
    a month it covers in part has its volume goals pro-rated to the open days with data; None: the
    data is taken to cover every month. `calendar`: the business calendar counting open days
    (metrics.sla.business_calendar(params); default Monday-Friday with US holidays). An agent with no
    handled contact in the month, or of fte 0, is not rated on contacts handled (<goal>_met empty, never a
    coaching flag).
    """
    goals = dict(goals or {})
    given = dict(goals.get("coaching") or {})
    coaching: dict[str, Any] = {**DEFAULT_COACHING, **given}
    for part in ("tolerance", "large_miss"):
        coaching[part] = {**DEFAULT_COACHING[part], **(given.get(part) or {})}
    start, end = month_bounds(month)
    first = (pd.Period(month, freq="M") - lookback_months).start_time
    figs = monthly_agent_figures(
        contacts, start=first, end=end, activity=activity, qa=qa, short_abandon_s=short_abandon_s
    )
    cur = figs[figs["period"] == start].set_index("agent_id")
    active = cur[(cur["handled"] > 0) | (cur["scheduled_s"].fillna(0) > 0) | (cur["qa_n"] > 0)]
    roster = agents.drop_duplicates("agent_id").set_index("agent_id")
    ids = [a for a in active.index if a in roster.index]
    if not ids:
        return pd.DataFrame()
    sums_cols = [c for c in figs.columns if c not in ("period", "agent_id")]
    prev = figs[(figs["period"] < start)].groupby("agent_id")[sums_cols].sum(min_count=1)

    attrs = [c for c in ("name", "team", "supervisor", "site", "role", "fte") if c in roster.columns]
    out = roster.loc[ids, attrs].copy()
    out.insert(0, "month", month)
    cur_vals = _values(active.loc[ids])
    out = out.join(cur_vals)
    g = goals_for(roster.loc[ids].reset_index(), goals).set_index("agent_id")
    cal = calendar if calendar is not None else business_calendar()
    days = goal_days(roster.loc[ids], start, end, calendar=cal, data_range=data_range)
    # fte 0 (a casual or unscheduled agent): no volume goal, not judged on it (a goal of 0 contacts was always met)
    fte = roster.loc[ids, "fte"].astype("float64").fillna(1.0).where(lambda f: f > 0) if "fte" in roster else 1.0
    base_goals = {}
    for key in VOLUME_GOALS:
        base_goals[key] = g[f"{key}_goal"] * fte  # a whole month's goal for this agent
        g[f"{key}_goal"] = base_goals[key] * days["share"]
        g[f"{key}_goal_month"] = base_goals[key]
    out = out.join(g)
    out["goal_days"] = days["days"]
    out["month_open_days"] = days["open_days"]
    out["goal_note"] = [goal_note(*r) for r in days[["days", "data_days", "open_days"]].itertuples(index=False)]

    met_cols = []
    for key in GOAL_KEYS:
        col, direction, _, _ = _GOAL_INFO[key]
        goal = out[f"{key}_goal"]
        v = out[col]
        met = pd.Series(pd.NA, index=out.index, dtype="boolean")
        known = v.notna() & goal.notna()
        if key in VOLUME_GOALS:
            known &= out["handled"] > 0  # no contact handled (training, leave): not rated on volume
        met[known] = (v[known] <= goal[known] + 1e-12) if direction == "max" else (v[known] >= goal[known] - 1e-12)
        out[f"{key}_met"] = met
        met_cols.append(f"{key}_met")
    out["goals_met"] = out[met_cols].fillna(False).sum(axis=1).astype(int)
    out["goals_total"] = out[met_cols].notna().sum(axis=1).astype(int)

    prev_vals = _values(prev.reindex(ids)) if len(prev) else _values(pd.DataFrame(np.nan, index=ids, columns=sums_cols))
    for c in ("handled", "aht_s", "qa_mean", "fcr", "adherence", "csat_top2", "csat_mean"):
        prev_c = prev_vals[c]
        if c == "handled":
            # a monthly figure: the mean over the previous months the agent was employed in (on an open day the
            # data covers): a new hire's one month of 270 read "90" when divided by 3
            months = sum(
                (
                    goal_days(
                        roster.loc[ids],
                        p.start_time,
                        p.end_time.normalize() + pd.Timedelta(days=1),
                        calendar=cal,
                        data_range=data_range,
                    )["days"]
                    > 0
                ).astype(float)
                for p in (pd.Period(month, freq="M") - k for k in range(1, lookback_months + 1))
            )
            prev_c = prev_c / months.where(months > 0)
        out[f"{c}_prev3"] = prev_c
        out[f"{c}_change"] = out[c] - prev_c

    out = out.reset_index().rename(columns={"index": "agent_id"})
    team = (out["team"] if "team" in out else pd.Series("", index=out.index)).fillna("")
    # the share of the goals judged that were met first: a new hire judged on two goals and meeting both ranked
    # below a colleague meeting 4 of 6 when counted alone ("bottom quartile" on the review); none judged: last
    share = (out["goals_met"] / out["goals_total"].where(out["goals_total"] > 0)).fillna(-1.0)
    order = out.assign(_team=team, _share=share, _qa=out["qa_mean"].fillna(-np.inf), _aht=out["aht_s"].fillna(np.inf))
    # only agents who handled contacts are ranked: a trainee or a leaver of two days, with no contact, was ranked
    # on adherence alone ("top quartile", a probe) and counted in the team's size
    order = order[out["handled"].fillna(0) > 0].sort_values(
        ["_team", "_share", "goals_met", "_qa", "_aht", "agent_id"],
        ascending=[True, False, False, False, True, True],
        kind="stable",
    )
    order["rank_in_team"] = order.groupby("_team").cumcount() + 1
    out = out.join(order[["rank_in_team"]])
    out["rank_in_team"] = out["rank_in_team"].astype("Int64")  # empty: not ranked
    out["team_size"] = team.map(order.groupby("_team").size()).fillna(0).astype(int)

    reasons = _coaching_reasons(out, figs, start, coaching, lookback_months, base_goals, roster, cal, data_range)
    out["coaching_reasons"] = out["agent_id"].map(lambda a: "; ".join(reasons.get(a, [])))
    out["coaching"] = out["coaching_reasons"] != ""
    return out.sort_values(["team", "rank_in_team"] if "team" in out else ["rank_in_team"], kind="stable").reset_index(
        drop=True
    )


def _miss_size(key: str, value: float, goal: float) -> float:
    """How far value is on the wrong side of goal, in the unit of tolerance/large_miss (<= 0: met)."""
    if not (np.isfinite(value) and np.isfinite(goal)):
        return -np.inf
    _, direction, _, unit = _GOAL_INFO[key]
    worse = value - goal if direction == "max" else goal - value
    if unit == "relative":
        return worse / goal if goal else (np.inf if worse > 0 else -np.inf)
    return worse


def _coaching_reasons(
    cards: pd.DataFrame,
    figs: pd.DataFrame,
    start: pd.Timestamp,
    coaching: Mapping[str, Any],
    lookback_months: int,
    base_goals: Mapping[str, pd.Series],
    roster: pd.DataFrame,
    calendar: BusinessCalendar,
    data_range: tuple[pd.Timestamp | None, pd.Timestamp | None] | None,
) -> dict[str, list[str]]:
    """Per agent, the sentences explaining each coaching flag."""
    months = [(pd.Period(start, freq="M") - i).start_time for i in range(lookback_months + 1)]  # newest first
    ids = list(cards["agent_id"])
    # a volume goal per month and agent: each month pro-rated to its own open days employed with data
    volume_goal: dict[str, dict[pd.Timestamp, dict[Any, float]]] = {key: {} for key in base_goals}
    for m in months:
        m_end = (pd.Period(m, freq="M") + 1).start_time
        share = goal_days(roster.loc[ids], m, m_end, calendar=calendar, data_range=data_range)["share"]
        for key, base in base_goals.items():
            volume_goal[key][m] = (base.reindex(ids) * share).to_dict()
    notes = dict(zip(cards["agent_id"], cards["goal_note"], strict=True))
    sums_cols = [c for c in figs.columns if c not in ("period", "agent_id")]
    keyed = figs.set_index(["agent_id", "period"])
    sums = keyed[sums_cols].to_dict("index")
    values = _values(keyed[sums_cols]).to_dict("index")
    tolerance = coaching["tolerance"]
    large = coaching["large_miss"]
    need_streak = int(coaching["consecutive_months"])
    out: dict[str, list[str]] = {}
    # a streak long enough is judged on its months pooled (ratios of sums); the pooled sums of every such
    # streak are put in one frame and valued by one _values call after the loop (one per streak was 90%
    # of this function's time on a roster of a thousand agents)
    pooled_rows: list[dict[str, float]] = []
    pending: list[tuple[list[str], int, str, float, int]] = []  # (reasons, index, key, goal, months)
    pending_agent: list[Any] = []
    for card in cards.to_dict("records"):
        a = card["agent_id"]
        reasons: list[str] = []
        for key in GOAL_KEYS:
            col, _, label, _ = _GOAL_INFO[key]
            goal = card[f"{key}_goal"]
            if not np.isfinite(goal):
                continue
            streak: list[pd.Timestamp] = []
            for m in months:
                row = sums.get((a, m))
                if row is None or not _enough(key, row, coaching):
                    break
                g = volume_goal[key][m].get(a, np.nan) if key in volume_goal else goal
                if _miss_size(key, values[(a, m)][col], g) <= float(tolerance.get(key, 0.0)) + 1e-12:
                    break
                streak.append(m)
            if not streak or streak[0] != start:
                continue
            if len(streak) >= need_streak:
                pooled_rows.append({c: np.nansum([sums[(a, m)][c] for m in streak]) for c in sums_cols})
                pooled_goal = sum(volume_goal[key][m].get(a, np.nan) for m in streak) if key in volume_goal else goal
                pending.append((reasons, len(reasons), key, pooled_goal, len(streak)))
                pending_agent.append(a)
                reasons.append("")  # filled in below
            else:
                text, size = _deviation_text(key, card[col], goal)
                if size >= float(large.get(key, np.inf)) - 1e-12:
                    note = f" ({notes[a]})" if key in VOLUME_GOALS and notes.get(a) else ""
                    reasons.append(f"{label} {text} this month{note}")
        crit = card.get("qa_critical_errors", 0) or 0
        if crit >= float(coaching.get("critical_errors", 1)):
            reasons.append(f"{counted(crit, 'QA critical error')} this month")
        if reasons:
            out[a] = reasons
    if pending:
        pooled = _values(pd.DataFrame(pooled_rows, columns=sums_cols))
        for k, (texts, at, key, pooled_goal, streak_months) in enumerate(pending):
            col, _, label, _ = _GOAL_INFO[key]
            text, _ = _deviation_text(key, pooled[col].iloc[k], pooled_goal)
            a = pending_agent[k]
            note = f" (this month's {notes[a]})" if key in VOLUME_GOALS and notes.get(a) else ""
            # a streak that runs back to the first month looked at may be longer: said as at least (a probe: 8
            # months of misses read "for 4 months")
            least = "at least " if streak_months == len(months) else ""
            texts[at] = f"{label} {text} for {least}{streak_months} months{note}"
    return out


def _enough(key: str, row: Mapping[str, float], coaching: Mapping[str, Any]) -> bool:
    """Whether a month has enough volume to judge the metric."""
    if key in ("aht_s", "fcr"):
        return row["handled"] >= float(coaching["min_handled"])
    if key == "csat":
        return row["csat_responses"] >= float(coaching["min_csat_responses"])
    if key == "qa":
        return row["qa_n"] >= 1
    if key == "adherence":
        return bool(np.isfinite(row["scheduled_s"]) and row["scheduled_s"] > 0)
    if key in VOLUME_GOALS:
        return row["handled"] > 0  # no contact handled (training, leave): not judged on volume
    return True
