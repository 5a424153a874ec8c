"""Agent 1:1 reviews: one agent's month for the agent and their supervisor, and nobody else's data.

What a review holds (docs/definitions.md#agent-11-reviews):

* the agent's scorecard for the month (`metrics.scorecards.agent_scorecards`) against their goals
  (parameters/goals.yaml), with the previous three months;
* trends over the last `TREND_MONTHS` (6) months, from the agent's own contacts, activity and QA rows;
* the month's QA evaluations with the evaluator's comments (escaped; other agents' names and ids in a
  comment are replaced by "[another agent]");
* strengths and coaching points chosen by `choose_points` (the rule is in its docstring);
* the rank in the team as a band only (`rank_band`), and team medians only when the team has at least
  `MIN_OTHERS` other agents with a value (`team_medians`).

Privacy: everything that leaves this module is the agent's own figures, aggregates over at least
`MIN_OTHERS` other agents, or text from data passed through `Redactor` (the agent's own name and id
kept, every other roster name and id replaced). The team's full scorecard is computed (rank and medians
need it) but never returned.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from reportlib.core.errors import UsageError
from reportlib.core.months import month_bounds, month_label
from reportlib.core.settings import MetricSettings
from reportlib.metrics import scorecards
from reportlib.metrics.sla import business_calendar
from reportlib.reports import queries
from reportlib.reports.narrative import is_missing
from reportlib.reports.redaction import Redactor, roster_terms, roster_text

if TYPE_CHECKING:
    from reportlib.data.source import DataSource

# A team median (or a rank band) is shown only when the team has at least this many OTHER agents with a
# value. With one other agent a "median" is that person's figure; with two, the agent's own figure and the
# median give away both. Five is the smallest cell size common in statistical disclosure control (e.g. the
# "rule of five" for published tables); it is a policy choice, not fitted to any data.
MIN_OTHERS = 5
TREND_MONTHS = 6
MAX_POINTS = 3  # strengths and coaching points shown, each
# Decimals of a QA score (0..100, the mean of the month's evaluations) wherever the review shows one: tile,
# goals table, evaluations, reasons. One decimal, not two: evaluations are marked in whole points, the goal
# and its coaching tolerance are whole points (goals.yaml qa: 84, tolerance 2), so a second decimal of a mean
# of a handful of evaluations is noise, and the tile must read as the goals table does ("83.0", not "82.95").
QA_DIGITS = 1

# goal key -> (scorecard column, label, unit for display, higher is better)
MEASURES: dict[str, tuple[str, str, str, bool]] = {
    "contacts_handled": ("handled", "Contacts handled", "count", True),
    "aht_s": ("aht_s", "Average handle time", "seconds", False),
    "fcr": ("fcr", "Resolved on first contact", "share", True),
    "csat": ("csat_top2", "Satisfied customers (4-5)", "share", True),
    "qa": ("qa_mean", "QA score", "number", True),
    "adherence": ("adherence", "Schedule adherence", "share", True),
}


# --- who gets a review ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """One agent to review: id, name, the roster's supervisor value and the supervisor's id (see
    `supervisor_id`), which `reportlib email` turns into the supervisor's address."""

    agent_id: str
    name: str | None
    supervisor: str | None
    supervisor_id: str | None


SUPERVISING_ROLES = ("lead", "supervisor")  # the roster roles (contract: agents.role) a supervisor can have


def supervisor_id(supervisor: Any, roster: pd.DataFrame, as_of: Any | None = None) -> str | None:
    """The supervisor's id from the roster's `supervisor` value (the rule parameters/distribution.yaml states):

    the agent_id of the roster row whose agent_id is the value and whose role is not "agent" (a peer's id typed in
    the column must not receive another agent's review; an empty role is unknown, not an agent), else of the one
    row whose `name` equals it exactly and, when the roster has a `role` column, whose role is lead or supervisor
    (an agent who shares an off-roster supervisor's name gets nothing); either way, with `as_of` (a day), one
    employed on it: hired by then and not terminated before (a supervisor who has left, or who came later, gets no
    review of that team's month); else None (empty, unknown, or a name that two such people share).
    """
    value = roster_text(supervisor)
    if value is None:
        return None
    ids = roster["agent_id"].astype(str)
    fit = pd.Series(True, index=roster.index)
    if as_of is not None:  # employed at the month's end: hired by then, and not gone before it
        day = pd.Timestamp(as_of).normalize()
        if "hire_date" in roster.columns:
            fit &= ~(pd.to_datetime(roster["hire_date"]) > day).fillna(False)
        if "termination_date" in roster.columns:
            fit &= ~(pd.to_datetime(roster["termination_date"]) < day).fillna(False)
    role = roster["role"] if "role" in roster.columns else pd.Series(None, index=roster.index, dtype=object)
    role = role.map(roster_text).str.lower()
    if (ids == value).any():  # by id: any role but an agent's (an empty role is unknown, not an agent)
        return value if bool((fit & (role.isna() | role.isin(SUPERVISING_ROLES)))[ids == value].any()) else None
    if "role" in roster.columns:  # by name: a lead or supervisor, so a namesake agent gets nothing
        fit &= role.isin(SUPERVISING_ROLES)
    match = ids[(roster["name"].astype(str).str.strip() == value) & fit].unique()
    return str(match[0]) if len(match) == 1 else None


def active_agents(source: DataSource, month: str, params: Mapping[str, Any]) -> list[Subject]:
    """The agents active in `month` (as in the scorecard: handled a contact, were scheduled, or were
    evaluated) who are on the roster, sorted by agent_id."""
    source.require("contacts", "agents")
    ids = set(
        scorecards.active_agent_ids(
            source.table("contacts"),
            month,
            activity=source.frame("agent_activity") if source.has("agent_activity") else None,
            qa=source.frame("qa_evaluations") if source.has("qa_evaluations") else None,
            short_abandon_s=MetricSettings.from_params(params).short_abandon_s,
        )
    )
    roster = source.frame("agents").drop_duplicates("agent_id")
    roster["agent_id"] = roster["agent_id"].astype(str)
    month_end = (pd.Period(month, freq="M") + 1).start_time - pd.Timedelta(days=1)  # employed to the month's end
    out = []
    for row in roster[roster["agent_id"].isin(ids)].sort_values("agent_id").itertuples(index=False):
        sup = roster_text(getattr(row, "supervisor", None))
        out.append(Subject(str(row.agent_id), roster_text(row.name), sup, supervisor_id(sup, roster, month_end)))
    return out


# --- the rule: strengths and coaching points ----------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """One strength or coaching point: the goal key, the measure's label, why, and its score (how many
    tolerances better (strength) or worse (coaching) than the goal; infinite for a coaching flag)."""

    key: str
    label: str
    reason: str
    score: float


def _judged(key: str, card: Mapping[str, Any], coaching: Mapping[str, Any]) -> bool:
    """Whether the month has enough volume to judge the measure (the scorecard's coaching minimums)."""
    if key in ("aht_s", "fcr"):
        return float(card.get("handled") or 0) >= float(coaching["min_handled"])
    if key == "csat":
        return float(card.get("csat_responses") or 0) >= float(coaching["min_csat_responses"])
    if key == "qa":
        return float(card.get("qa_evaluations") or 0) >= 1
    if key in scorecards.VOLUME_GOALS:
        return float(card.get("handled") or 0) > 0  # no contact handled (training, leave): not rated
    return True


def volume_note(key: str, card: Mapping[str, Any]) -> str:
    """For a volume goal (contacts handled): "no contacts handled: not rated" when the agent handled none this
    month, else the scorecard's `goal_note` ("goal pro-rated to the 12 of 21 open days with data"), else ""."""
    if key not in scorecards.VOLUME_GOALS:
        return ""
    if not float(card.get("handled") or 0) > 0:
        return "no contacts handled: not rated"
    note = card.get("goal_note")
    return "" if note is None or (isinstance(note, float) and math.isnan(note)) else str(note)


def margin(key: str, value: float, goal: float, tolerance: float) -> float:
    """How far `value` is on the good side of `goal`, in tolerances (negative: worse than the goal).

    The distance is relative to the goal for aht_s and contacts_handled ((goal - value) / goal for the
    AHT ceiling, (value - goal) / goal for the floor), in points for qa and in share points for the
    shares, as in goals.yaml `coaching.tolerance`; it is divided by that tolerance.
    """
    direction = -1.0 if key == "aht_s" else 1.0
    diff = direction * (value - goal)
    if key in ("aht_s", "contacts_handled"):
        diff = diff / goal if goal else (math.inf if diff > 0 else -math.inf)
    return diff / tolerance if tolerance > 0 else (math.inf if diff > 0 else (-math.inf if diff < 0 else 0.0))


def coaching_settings(goals: Mapping[str, Any]) -> dict[str, Any]:
    """goals.yaml `coaching` completed from the scorecard's defaults."""
    given = dict(goals.get("coaching") or {})
    out: dict[str, Any] = {**scorecards.DEFAULT_COACHING, **given}
    for part in ("tolerance", "large_miss"):
        out[part] = {**scorecards.DEFAULT_COACHING[part], **(given.get(part) or {})}
    return out


def choose_points(
    card: Mapping[str, Any], goals: Mapping[str, Any], max_points: int = MAX_POINTS
) -> tuple[list[Point], list[Point]]:
    """(strengths, coaching points) from one agent's scorecard row, by this rule:

    1. A measure is judged only with a goal, a value and enough volume this month (min_handled contacts
       for AHT and FCR, min_csat_responses for CSAT, one evaluation for QA, one handled contact for
       contacts handled; goals.yaml `coaching`). A volume goal is the scorecard's, pro-rated to the open
       days employed with data (its `goal_note` is added to the reason).
    2. Its margin is how many tolerances (`coaching.tolerance`) it is better than the goal (`margin`).
    3. Strengths: measures with a margin of at least +1 tolerance (clearly better than the goal, not
       on the line), largest margin first.
    4. Coaching points: first the scorecard's coaching flags (`coaching_reasons`: misses that ran
       `consecutive_months` months, a large miss, QA critical errors), in the scorecard's order; then the
       other measures worse than the goal by more than one tolerance, largest miss first.
    5. At most `max_points` of each; ties broken by the order of goals.yaml's keys.
    """
    coaching = coaching_settings(goals)
    tol = coaching["tolerance"]
    strengths: list[Point] = []
    misses: list[Point] = []
    flags = [r.strip() for r in str(card.get("coaching_reasons") or "").split(";") if r.strip()]
    flagged = {_flag_key(r) for r in flags}
    for key in scorecards.GOAL_KEYS:
        col, label, unit, _ = MEASURES[key]
        value, goal = card.get(col), card.get(f"{key}_goal")
        if value is None or goal is None or pd.isna(value) or pd.isna(goal) or not _judged(key, card, coaching):
            continue
        m = margin(key, float(value), float(goal), float(tol.get(key, 0.0)))
        note = volume_note(key, card)
        why = f"{_fmt(value, unit)} against a goal of {_fmt(goal, unit)}" + (f" ({note})" if note else "")
        if m >= 1.0 - 1e-9:
            strengths.append(Point(key, label, why, m))
        elif m < -1.0 - 1e-9 and key not in flagged:
            misses.append(Point(key, label, why, -m))
    strengths.sort(key=lambda p: -p.score)  # stable: ties keep the goals' order
    misses.sort(key=lambda p: -p.score)
    coach = [Point(_flag_key(r), _flag_label(r), r, math.inf) for r in flags] + misses
    return strengths[:max_points], coach[:max_points]


def _flag_key(reason: str) -> str:
    for key, label in scorecards.GOAL_LABELS.items():
        if reason.startswith(label + " "):
            return key
    return "qa_critical" if "critical error" in reason else "other"


def _flag_label(reason: str) -> str:
    key = _flag_key(reason)
    return MEASURES[key][1] if key in MEASURES else ("QA critical errors" if key == "qa_critical" else "Coaching flag")


def _digits(unit: str) -> int | None:
    """Decimals a figure of the review shows in `unit`: QA_DIGITS for a score (unit "number"), else the unit's own."""
    return QA_DIGITS if unit == "number" else None


def _fmt(value: Any, unit: str) -> str:
    from reportlib.reports.narrative import format_value

    return format_value(value, unit, digits=_digits(unit))


# --- rank and team aggregates ------------------------------------------------------------------------

BANDS = ("top quartile", "second quartile", "third quartile", "bottom quartile")


def rank_band(rank: int, size: int, min_others: int = MIN_OTHERS) -> str | None:
    """The quartile of the team a rank falls in (1 = best), or None when the team has fewer than
    `min_others` other agents (a band in a small team tells too much about the others).

    The band is quartile q = floor(4 * (rank - 1) / size): with 8 agents, ranks 1-2 are the top
    quartile, 3-4 the second, 5-6 the third, 7-8 the bottom.
    """
    if size - 1 < min_others or not 1 <= rank <= size:
        return None
    return BANDS[min(3, (4 * (rank - 1)) // size)]


def team_medians(
    cards: pd.DataFrame,
    agent_id: str,
    columns: Sequence[str],
    min_others: int = MIN_OTHERS,
    judged: Mapping[str, str] | None = None,
) -> dict[str, float | None]:
    """Per column, the median over the agent's team's OTHER agents, or None when fewer than
    `min_others` of them have a value for it. `judged` maps a column to the scorecard's column saying
    whether an agent was judged on it (`<goal>_met`, null when not): only those judged count, so that
    colleagues in training or of fte 0, with no contact handled and no volume goal, do not pull the
    contacts median down."""
    own = cards[cards["agent_id"].astype(str) == str(agent_id)]
    if not len(own) or "team" not in cards:
        return {c: None for c in columns}
    team = own["team"].iloc[0]
    others = cards[(cards["team"] == team) & (cards["agent_id"].astype(str) != str(agent_id))]
    out: dict[str, float | None] = {}
    for c in columns:
        rated = others
        if judged and judged.get(c) in others:
            rated = others[others[judged[c]].notna()]
        values = pd.to_numeric(rated[c], errors="coerce").dropna() if c in rated else pd.Series(dtype=float)
        out[c] = float(values.median()) if len(values) >= min_others else None
    return out


# --- the review -------------------------------------------------------------------------------------


@dataclass
class AgentReview:
    """Everything one agent's page shows; nothing about any other agent beyond `team_median`."""

    agent_id: str
    name: str
    team: str | None
    month: str
    card: dict | None  # the agent's scorecard row, or None when not active this month
    goals: pd.DataFrame  # measure, value, goal, met, prev3, team_median per goal key
    trend: pd.DataFrame  # month and the measures, last TREND_MONTHS months
    qa: pd.DataFrame  # date, score, critical_error, comment (redacted)
    strengths: list[Point] = field(default_factory=list)
    coaching: list[Point] = field(default_factory=list)
    band: str | None = None
    team_size: int = 0
    notes: list[str] = field(default_factory=list)
    # why the month before is not a whole month for the volume goals ("" when it is: last_month_part)
    prev_part: str = ""


def last_month_part(own: pd.DataFrame, month: str, calendar: Any, data_range: tuple[Any, Any] | None = None) -> str:
    """Why the month before `month` does not count whole for the volume goals of the agent on roster row `own`
    (hired or left during it, or the data cover it in part: scorecards.goal_days), as a tile's note ("not compared
    with last month (last month's goal pro-rated to the 10 of 22 open days employed)"); "" when it counts whole or not
    at all (then there is no figure to compare). An agent employed and with data on closed days of it alone (hired
    on its last Saturday) has 0 of its open days: not compared either, as a month's totals are not (a probe)."""
    prev = pd.Period(month, freq="M") - 1
    lo, hi = prev.start_time, (prev + 1).start_time
    d = scorecards.goal_days(own, lo, hi, calendar=calendar, data_range=data_range)
    days, data_days, open_days = (float(d[c].iloc[0]) for c in ("days", "data_days", "open_days"))
    if days >= open_days:
        return ""
    if days <= 0:
        row = own.iloc[0]
        hire, term = (pd.to_datetime(row.get(c)) for c in ("hire_date", "termination_date"))
        first, last = (scorecards.local_day(t) for t in (data_range or (None, None)))
        employed = (pd.isna(hire) or hire < hi) and (pd.isna(term) or term >= lo)
        reached = (first is None or first < hi) and (last is None or last >= lo)
        if not (employed and reached):
            return ""
    return f"not compared with last month (last month's {scorecards.goal_note(days, data_days, open_days)})"


def agent_frames(source: DataSource, agent_id: str) -> tuple[Any, pd.DataFrame | None, pd.DataFrame | None]:
    """The agent's own rows: contacts (an engine expression), activity and QA frames (None when absent)."""
    contacts = source.table("contacts")
    contacts = contacts.filter(contacts["agent_id"] == str(agent_id))
    activity = qa = None
    if source.has("agent_activity"):
        a = source.frame("agent_activity")
        activity = a[a["agent_id"].astype(str) == str(agent_id)].reset_index(drop=True)
    if source.has("qa_evaluations"):
        q = source.frame("qa_evaluations")
        qa = q[q["agent_id"].astype(str) == str(agent_id)].reset_index(drop=True)
    return contacts, activity, qa


def trend(
    source: DataSource, params: Mapping[str, Any], month: str, agent_id: str, months: int = TREND_MONTHS
) -> pd.DataFrame:
    """One row per month of the last `months` months up to `month` with the agent's handled, aht_s,
    fcr, csat_top2, adherence (shares 0..1), qa_mean (0..100) and qa_evaluations; months without data
    keep a row of missing values (so the lines break there)."""
    period = pd.Period(month, freq="M")
    first = period - (months - 1)
    contacts, activity, qa = agent_frames(source, agent_id)
    figs = scorecards.monthly_agent_figures(
        contacts,
        start=first.start_time,
        end=(period + 1).start_time,
        activity=activity,
        qa=qa,
        short_abandon_s=MetricSettings.from_params(params).short_abandon_s,
    )
    figs = figs[figs["agent_id"].astype(str) == str(agent_id)]
    sums = figs.drop(columns=["agent_id"]).groupby("period").sum(min_count=1)
    vals = scorecards.values_from_sums(sums)
    vals.index = pd.to_datetime(vals.index).to_period("M")
    all_months = pd.period_range(first, period, freq="M")
    vals = vals.reindex(all_months)
    vals.insert(0, "month", [str(m) for m in all_months])
    cols = ["month", "handled", "aht_s", "fcr", "csat_top2", "adherence", "qa_mean", "qa_evaluations"]
    return vals[cols].reset_index(drop=True)


def qa_table(qa: pd.DataFrame | None, month: str, redact: Redactor) -> pd.DataFrame:
    """The agent's evaluations in `month`, oldest first: date, score (0..100), critical_error and
    comment (other people's names and ids redacted; empty when the data has no `comment` column)."""
    cols = ["date", "score", "critical_error", "comment"]
    if qa is None or not len(qa):
        return pd.DataFrame(columns=cols)
    start, end = month_bounds(month)
    q = qa.copy()
    q["evaluated_at"] = pd.to_datetime(q["evaluated_at"])
    q = q[(q["evaluated_at"] >= start) & (q["evaluated_at"] < end)].sort_values("evaluated_at")
    comments = q["comment"] if "comment" in q else pd.Series("", index=q.index)
    return pd.DataFrame(
        {
            "date": q["evaluated_at"].dt.strftime("%Y-%m-%d"),
            "score": q["score"].astype(float),
            "critical_error": q["critical_error"].map(lambda v: "yes" if v is True or v == 1 else "no")
            if "critical_error" in q
            else "no",
            "comment": [redact(c) for c in comments],
        },
        columns=cols,
    ).reset_index(drop=True)


def goals_table(card: Mapping[str, Any], medians: Mapping[str, float | None]) -> pd.DataFrame:
    """One row per goal key: measure, unit, value, goal, met (True/False/None), prev3, team_median and note
    (for contacts handled: "no contacts handled: not rated" or how the goal was pro-rated, `volume_note`)."""
    rows = []
    for key in scorecards.GOAL_KEYS:
        col, label, unit, higher = MEASURES[key]
        met = card.get(f"{key}_met")
        rows.append(
            {
                "key": key,
                "measure": label,
                "unit": unit,
                "higher_is_better": higher,
                "value": card.get(col),
                "goal": card.get(f"{key}_goal"),
                "met": None if met is None or pd.isna(met) else bool(met),
                "prev3": card.get(f"{col}_prev3"),
                "team_median": medians.get(col),
                "note": volume_note(key, card),
            }
        )
    return pd.DataFrame(rows)


def build(
    source: DataSource, params: Mapping[str, Any], month: str, agent_id: str, min_others: int = MIN_OTHERS
) -> AgentReview:
    """The review of `agent_id` for `month` (YYYY-MM). UsageError when the agent is not on the roster."""
    source.require("contacts", "agents")
    roster = source.frame("agents").drop_duplicates("agent_id")
    roster["agent_id"] = roster["agent_id"].astype(str)
    own = roster[roster["agent_id"] == str(agent_id)]
    if not len(own):
        raise UsageError(f"agent_id {agent_id!r} is not in the roster (agents table)")
    row = own.iloc[0]
    # every roster name, id and supervisor but the agent's own (the Redactor leaves out the terms that are the
    # agent's); the agent's own team is theirs too: its words ("Team Price") stay, whoever else shares them
    redact = Redactor([row["agent_id"], row["name"], roster_text(row.get("team"))], roster_terms(roster))
    name = roster_text(row["name"]) or str(agent_id)
    goals = dict(params.get("goals") or {})
    activity = source.frame("agent_activity") if source.has("agent_activity") else None
    qa_all = source.frame("qa_evaluations") if source.has("qa_evaluations") else None
    cards = scorecards.agent_scorecards(
        source.table("contacts"),
        roster,
        month,
        activity=activity,
        qa=qa_all,
        goals=goals,
        short_abandon_s=MetricSettings.from_params(params).short_abandon_s,
        data_range=queries.whole_days(source, params),  # a month the data cover in part: volume goals pro-rated to it
        calendar=business_calendar(params),
    )
    prev_part = last_month_part(own.head(1), month, business_calendar(params), queries.whole_days(source, params))
    notes: list[str] = []
    card: dict | None = None
    if len(cards):
        cards["agent_id"] = cards["agent_id"].astype(str)
        mine = cards[cards["agent_id"] == str(agent_id)]
        if len(mine):
            card = mine.iloc[0].to_dict()
    team = roster_text(row.get("team"))
    if card is None:
        notes.append(f"{name} handled no contacts, was not scheduled and was not evaluated in {month_label(month)}.")
        goals_frame = pd.DataFrame()
        strengths: list[Point] = []
        coach: list[Point] = []
        band, size = None, 0
    else:
        medians = team_medians(
            cards,
            agent_id,
            [MEASURES[k][0] for k in scorecards.GOAL_KEYS],
            min_others,
            # volume only: a colleague in training or of fte 0 is not judged on it; a rate's `_met` is null also
            # where no goal is set, which is no reason to leave the colleague out (a review)
            judged={MEASURES[k][0]: f"{k}_met" for k in scorecards.VOLUME_GOALS},
        )
        goals_frame = goals_table(card, medians)
        strengths, coach = choose_points(card, goals)
        size = int(card.get("team_size") or 0)
        rank = card.get("rank_in_team")
        band = None if rank is None or is_missing(rank) else rank_band(int(rank), size, min_others)  # not ranked
    qa_own = qa_all[qa_all["agent_id"].astype(str) == str(agent_id)] if qa_all is not None else None
    return AgentReview(
        agent_id=str(agent_id),
        name=name,
        team=redact(team) if team else None,
        month=str(month),
        card=card,
        goals=goals_frame,
        trend=trend(source, params, month, agent_id),
        qa=qa_table(qa_own, month, redact),
        strengths=strengths,
        coaching=coach,
        band=band,
        team_size=size,
        notes=notes,
        prev_part=prev_part,
    )


# --- display (the notebook's one call per section) ---------------------------------------------------


def summary_tiles(review: AgentReview) -> list[Any]:
    """The month's tiles against goals, each with last month's figure and nothing about last year (the review
    compares with last month only); a volume over part of the month (its goal pro-rated to the data's or the
    employment's days) has none: a part is not set against a whole month. A QA score shows `QA_DIGITS` decimals, and
    any figure that would read as equal to its goal while differing from it shows more (narrative.distinct_digits)."""
    from reportlib.reports import narrative

    if review.card is None:
        return []
    prev = review.trend.iloc[-2] if len(review.trend) >= 2 else None
    tiles = []
    for r in review.goals.itertuples(index=False):
        col = MEASURES[r.key][0]
        note = getattr(r, "note", "") or ""
        unrated = r.key in scorecards.VOLUME_GOALS and r.met is None  # no contact handled: no target to miss
        part = r.key in scorecards.VOLUME_GOALS and bool(note)  # pro-rated, or not rated: no whole month to compare
        prev_part = r.key in scorecards.VOLUME_GOALS and not part and bool(review.prev_part)  # last month was a part
        tiles.append(
            narrative.make_tile(
                r.measure,
                r.value,
                r.unit if r.unit != "number" else "number",
                target=None if unrated else r.goal,
                prev=None if prev is None or part or prev_part else prev.get(col),
                higher_is_better=bool(r.higher_is_better),
                prev_label="last month",
                key=r.key,
                note=note or (review.prev_part if prev_part else None),
                compare=() if prev_part else ("prev",),
                # more decimals when the value would read as equal to its goal (84.95 against 85: not "85.0")
                digits=narrative.distinct_digits(r.value, None if unrated else r.goal, _digits(r.unit), r.unit),
            )
        )
    return tiles


def show_summary(review: AgentReview) -> None:
    """Tiles of the month against goals (summary_tiles) and one sentence on the goals met."""
    from reportlib.reports import views

    views.subtitle(review.name, review.team, month_label(review.month))
    if review.card is None:
        for n in review.notes:
            views.note(n, "info")
        return
    views.tiles(summary_tiles(review))
    met = int(review.card.get("goals_met") or 0)
    total = int(review.card.get("goals_total") or 0)
    views.paragraph(f"{met} of {total} goals met in {month_label(review.month)}.")


def show_goals(review: AgentReview, min_others: int = MIN_OTHERS) -> None:
    """The table of measures: this month, goal, met, the previous three months and the team median."""
    from reportlib.reports import narrative, queries, views

    if review.card is None or not len(review.goals):
        views.paragraph("No scorecard this month.")
        return
    g = review.goals.copy()
    # this month's figure and its goal with enough decimals to read apart when they differ (distinct_digits)
    row_digits = [narrative.distinct_digits(v, t, _digits(u), u) for v, t, u in zip(g["value"], g["goal"], g["unit"])]
    for c in ("value", "goal"):
        g[c] = [narrative.format_value(v, u, digits=d) for v, u, d in zip(g[c], g["unit"], row_digits)]
    for c in ("prev3", "team_median"):
        g[c] = [_fmt(v, u) for v, u in zip(g[c], g["unit"])]
    g["result"] = g["met"].map(lambda v: "no goal or no data" if v is None else ("met" if v else "missed"))
    notes = g["note"] if "note" in g else pd.Series("", index=g.index)
    unrated = g["key"].isin(scorecards.VOLUME_GOALS) & g["met"].isna() & (notes != "")
    g.loc[unrated, "result"] = notes[unrated]  # "no contacts handled: not rated"
    g["rag"] = queries.met_status(g["met"].astype("boolean"))
    views.table(
        g[["measure", "value", "goal", "result", "prev3", "team_median", "rag"]],
        status={"result": "rag"},
        labels={
            "measure": "Measure",
            "value": "This month",
            "goal": "Goal",
            "result": "Result",
            "prev3": "Previous 3 months",
            "team_median": "Team median",
        },
    )
    views.caption(
        f"Team median: the median of the other agents of the team, shown only when at least {min_others} of "
        "them have a figure, so that it cannot be traced to one person (it may equal a colleague's figure, but "
        "does not say whose)."
    )
    for r in g[g["key"].isin(scorecards.VOLUME_GOALS) & ~g["met"].isna() & (notes != "")].itertuples():
        views.caption(
            f"{r.measure}: {notes[r.Index]} (a goal per month, for the open days the agent was employed and "
            "the data cover)."
        )


def show_trends(review: AgentReview) -> None:
    """Line charts of the last six months against the goal."""
    from reportlib.reports import charts, narrative, views

    t = review.trend
    if not len(t) or t[["handled", "aht_s", "qa_mean", "adherence"]].isna().all().all():
        views.paragraph("No figures in the last six months.")
        return
    card = review.card or {}
    # the goal line spans months: a volume goal's whole-month figure (not this month's pro-rated one)
    goal = {k: card.get(f"{k}_goal_month", card.get(f"{k}_goal")) for k in scorecards.GOAL_KEYS}
    for key in ("contacts_handled", "aht_s", "fcr", "csat", "qa", "adherence"):
        col, label, unit, _ = MEASURES[key]
        if not t[col].notna().any():
            continue
        g = goal.get(key)
        views.show(
            charts.line_chart(
                t,
                "month",
                col,
                unit=unit if unit != "number" else None,
                title=label,
                target=None if g is None or pd.isna(g) else float(g),
                target_label="Goal",
                names={col: label},
                height=300,
            )
        )
        if key in scorecards.VOLUME_GOALS and isinstance(card.get("goal_note"), str) and card["goal_note"]:
            views.caption(
                f"The goal line is a whole month's; {month_label(review.month)}'s figure covers part of it "
                f"({card['goal_note']}: {narrative.format_value(card.get(f'{key}_goal'), unit)})."
            )


def show_qa(review: AgentReview) -> None:
    """The month's evaluations with the evaluator's comments."""
    from reportlib.reports import narrative, views

    if not len(review.qa):
        views.paragraph(f"No QA evaluations in {month_label(review.month)}.")
        return
    views.table(
        review.qa,
        formats={"score": lambda v: narrative.format_value(v, "number", digits=QA_DIGITS)},
        labels={"date": "Date", "score": "Score", "critical_error": "Critical error", "comment": "Comment"},
        max_rows=100,
    )


def show_points(review: AgentReview) -> None:
    """Strengths and coaching points, each with the figure behind it."""
    from reportlib.reports import views

    e = views.html.escape
    parts = ['<div class="rl-points"><h3>Strengths</h3>']
    if review.strengths:
        parts.append("<ul>" + "".join(f"<li><b>{e(p.label)}</b>: {e(p.reason)}</li>" for p in review.strengths))
        parts.append("</ul>")
    else:
        parts.append("<p>No goal was beaten by more than its tolerance this month.</p>")
    parts.append("<h3>Coaching points</h3>")
    if review.coaching:
        parts.append("<ul>" + "".join(f"<li><b>{e(p.label)}</b>: {e(p.reason)}</li>" for p in review.coaching))
        parts.append("</ul>")
    else:
        parts.append("<p>No goal was missed by more than its tolerance and nothing was flagged for coaching.</p>")
    parts.append("</div>")
    views.show_html("".join(parts))
    views.caption(
        "Chosen by rule from the scorecard (docs/definitions.md, Agent 1:1 reviews): strengths beat the goal by "
        "at least one tolerance (goals.yaml coaching.tolerance); coaching points are the scorecard's coaching "
        "flags, then goals missed by more than one tolerance; at most three of each."
    )


def show_rank(review: AgentReview, min_others: int = MIN_OTHERS) -> None:
    """The rank in the team as a quartile band only."""
    from reportlib.reports import views

    if review.band:
        views.paragraph(
            f"{review.name} is in the {review.band} of the team this month "
            "(ranked by the share of the goals judged that were met, then goals met, QA score and handle time)."
        )
    elif review.card is not None and is_missing(review.card.get("rank_in_team")):
        views.paragraph(f"Not ranked in the team: {review.name} handled no contacts this month.")
    else:
        views.paragraph(
            f"No band is shown: the team has fewer than {min_others} other agents this month, or no scorecard."
        )


__all__ = [
    "MIN_OTHERS",
    "AgentReview",
    "Point",
    "Redactor",
    "Subject",
    "active_agents",
    "build",
    "choose_points",
    "margin",
    "rank_band",
    "supervisor_id",
    "team_medians",
]
