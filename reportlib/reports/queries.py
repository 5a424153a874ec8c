"""Report figures over a data source: the monthly summary's history and tiles, KPIs by channel with email's
own measure, SLA compliance, intraday service level and contact reasons.

Each function takes a `DataSource` and parameters and returns a frame (or the summary dict); results every
report of a batch needs are computed once for all clients and remembered on the source
(`DataSource.memo`), and a client's view keeps its own rows. Formatting lives in `reports.narrative`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from reportlib.core.errors import MissingTableError, ReportlibError, UsageError
from reportlib.core.months import month_bounds, month_label
from reportlib.core.params import deep_merge, default_params, vintage_folder
from reportlib.core.settings import MetricSettings
from reportlib.core.words import counted, in_words
from reportlib.data.cache import shared_memo_dir
from reportlib.data.source import DataSource
from reportlib.data.span import data_range, last_day_cut, whole_days_range, whole_source
from reportlib.reports.narrative import (
    Tile,
    TotalsBasis,
    commentary,
    compared_digits,
    days_with_data,
    distinct_digits,
    format_value,
    is_missing,
    make_tile,
    movement,
    relative_change,
    share_phrase,
)

# --- the monthly summary (tiles + commentary), shared by the monthly pack and the e-mail body -------

# tile key -> key of the same figure in goals.yaml (for `target: goal`)
GOAL_KEYS = {"aht_s": "aht_s", "csat_top2": "csat", "fcr": "fcr", "adherence": "adherence"}
# the pack's tiles that sum the month (contacts, money): in a month the data covers in part they are not compared
# with whole months (monthly_summary), and a monthly budget is pro-rated to the open days with data
MONTH_TOTALS = ("offered", "handled", "labor_cost", "budget")

HISTORY_COLUMNS = [
    "month",
    "offered",
    "handled",
    "service_level",
    "abandon_rate",
    "asa_s",
    "aht_s",
    "fcr",
    "csat_top2",
    "escalation_rate",
    "email_received",
    "email_sl",
    "labor_cost",
    "budget",
    "cost_per_contact",
    "occupancy",
    "shrinkage",
    "adherence",
    "headcount_end",
    "monthly_attrition",
    "annualized_attrition",
]


def report_settings(params: Mapping[str, Any]) -> dict[str, Any]:
    """The `reports` parameter set (parameters/reports.yaml), each tile completed from `tile_defaults`.

    Every default lives in the shipped parameters/reports.yaml (`default_params`), which `params["reports"]`
    overlays (a list such as `tiles` replaces the default list); a tile given only a key
    and a target takes its name, unit and direction from `tile_defaults[key]`. UsageError names a tile
    whose key has no defaults and no unit. A tile's name may hold `{email_threshold_h}` and `{queue_channels}`,
    replaced by those settings ("Email answered within 4 business hours", "Service level (phone)"), so that a
    changed setting is not shown under the old one's name.
    """
    rep = deep_merge(default_params()["reports"], dict((params or {}).get("reports") or {}))
    defaults = rep.get("tile_defaults") or {}
    tiles = []
    for t in rep.get("tiles") or []:
        tile = {"key": t.get("key"), **(defaults.get(t.get("key")) or {}), **t}
        if "unit" not in tile or "name" not in tile:
            raise UsageError(
                f"parameter reports.tiles: tile {t.get('key')!r} has no name or unit and no "
                f"tile_defaults entry (keys: {', '.join(defaults)})"
            )
        tiles.append(tile)
    given = rep.get("queue_channels") or []
    channels = [given] if isinstance(given, str) else [str(c) for c in given]
    try:
        hours = f"{float(rep['email_threshold_h']):g}"
    except (TypeError, ValueError):  # not a number: the parameter check names it; the name keeps it as written
        hours = str(rep.get("email_threshold_h"))
    fills = {
        "{email_threshold_h}": hours,
        "{queue_channels}": in_words(channels),
    }
    for tile in tiles:  # replaced, not str.format: a name of the user's own may hold other braces
        for mark, text in fills.items():
            tile["name"] = str(tile["name"]).replace(mark, text)
    rep["tiles"] = tiles
    return rep


def service_level_basis(params: Mapping[str, Any], source: DataSource | None = None, month: Any = None) -> str:
    """One sentence saying what a channel table's service level counts: phone and chat answered within the
    operation's `sl_threshold_s`, email answered within each client's contract hours (the report default
    where a client has none), so a figure is not read against another threshold shown nearby (a contract's,
    or the capacity plan's in plan vs actual). From an interval export (a `source` without contacts) each
    channel's is the export's answered_within_threshold over offered where it was counted at `sl_threshold_s`;
    the channels it counted at another threshold in `month` (every month when None) are named (they have none,
    nor has a total that includes them: metrics.contacts.interval_counts, rollup_counts)."""
    th = MetricSettings.from_params(params).sl_threshold_s
    if source is not None and not source.has("contacts") and source.has("intervals"):
        from reportlib.metrics.contacts import with_optional

        t = with_optional(source.table("intervals"), "intervals")
        if month is not None:
            start, end = month_bounds(month)
            t = t.filter((t.interval_start >= start.to_pydatetime()) & (t.interval_start < end.to_pydatetime()))
        counted = t.select("channel", "threshold_s").distinct().to_pandas()
        other = {
            str(ch): sorted(float(v) for v in g["threshold_s"].dropna())
            for ch, g in counted.groupby("channel", sort=True)
            if g["threshold_s"].isna().any() or set(g["threshold_s"].astype(float)) != {float(th)}
        }
        text = f"Service level: answered within {th:g} s, from the interval export's counts at that threshold"
        if not other:
            return text + "."
        each = [f"{ch} (counted at {' and '.join(map(_seconds, ts)) or 'no threshold'})" for ch, ts in other.items()]
        return text + f"; none for {in_words(each, 'or')}, nor for a total that includes them."
    hours = float(report_settings(params)["email_threshold_h"])
    return (
        f"Service level: phone and chat answered within {th:g} s; email within each client's contract "
        f"business hours ({hours:g} where a contract sets none)."
    )


def _seconds(value: float) -> str:
    """A threshold as read: '30 s', '8 h' (whole hours), '90 min' (whole minutes over 2)."""
    if value >= 3600 and value % 3600 == 0:
        return f"{value / 3600:g} h"
    if value > 120 and value % 60 == 0:
        return f"{value / 60:g} min"
    return f"{value:g} s"


def own_threshold_caption(params: Mapping[str, Any], channel: str) -> str:
    """What a chart or table of every client's (or queue's) service level on `channel` is counted at: the
    operation's own threshold (sl_threshold_s; email: reports.email_threshold_h business hours), not each client's
    contract threshold, which the compliance table judges. A probe read a bronze client's 62.3% (30 s) on the SLA
    page's heatmap against its 66.7% (its contract's 60 s) in the table above it."""
    if channel == "email":
        hours = float(report_settings(params)["email_threshold_h"])
        own = f"Emails answered within {hours:g} business hours (reports.email_threshold_h)"
    else:
        own = f"Answered within {MetricSettings.from_params(params).sl_threshold_s:g} s (sl_threshold_s)"
    return f"{own}, the operation's own target for every client; each client's contract terms are judged above."


def roster_has_history(agents: pd.DataFrame | None) -> bool:
    """True when a roster carries HR history (hire dates plus terminations or FTE/cost), not just ids seen in calls."""
    if agents is None or not len(agents):
        return False
    hires = agents["hire_date"].notna().any() if "hire_date" in agents else False
    term = agents["termination_date"].notna().any() if "termination_date" in agents else False
    fte = agents["fte"].notna().any() if "fte" in agents else False
    return bool(hires and (term or fte))


def roster_history_note(agents: pd.DataFrame | None) -> str:
    """Why a roster without HR history (`roster_has_history`) shows no headcount or attrition, in one sentence
    (it said "derived from call records" of an HR roster with no leaver yet and no fte column: a probe)."""
    if agents is None or "hire_date" not in agents or not agents["hire_date"].notna().any():
        return "The roster in this data source has no hire dates, so headcount and attrition cannot be measured."
    return (
        "The roster in this data source has hire dates but no termination date and no FTE in any row (as a roster "
        "derived from call records has), so headcount and attrition are not shown; a roster with no leaver yet "
        "shows them once its fte column is filled in (1 for full time)."
    )


def params_key(params: Mapping[str, Any] | None) -> str:
    """A short stable digest of a parameter set, for remembering results computed under it."""
    import hashlib
    import json

    text = json.dumps(params or {}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def month_forecast(source: DataSource, params: Mapping[str, Any], month: Any) -> dict[str, Any]:
    """The forecast report's figures for `month` (planning.forecast_report on the history up to the month's
    end, as the forecast report shows it: no interval-level backtest, the accuracy check's origins every
    other week, the smoothing parameters kept between runs in report_cache_dir — same results). With
    parameters schedule.vintages set, a `reportlib run` archives the forecast there as a vintage
    (core.params.vintage_folder); a notebook run outside a run does not.

    Computed once per `reportlib run` and shared by the forecast report and the month's workbook
    (DataSource.memo); the caller gets its own copy.
    """
    from reportlib.planning import forecast_report as FR

    m = pd.Period(str(month), freq="M")

    def compute() -> dict[str, Any]:
        return FR.forecast_report(
            source,
            params,
            end=(m + 1).start_time,
            intraday_backtest=False,
            backtest_step_days=14,
            ets_cache_dir=FR.report_cache_dir(),
            # archived for plan vs actual (schedule.vintages) by `reportlib run` alone: a forecast explored in
            # JupyterLab (other data, another month) must not become a month's plan
            vintage_dir=vintage_folder(params) if shared_memo_dir() is not None else None,
        )

    return source.memo(("month_forecast", str(m), params_key(params)), compute)


SHOWN_COHORTS = 6  # hire quarters on the attrition page's survival chart, the latest (a display choice: legible)


def survival_curves(report: Mapping[str, Any], by: str) -> dict[str, pd.DataFrame]:
    """The attrition page's survival curves by `by` ('hire_cohort' or 'site'), from month_attrition's report: one
    frame per group (days, survival and its 95% band lower/upper, shares 0..1), in the groups' order; of the hire
    quarters the latest SHOWN_COHORTS."""
    fit = report[f"survival_{by}"].curves
    renamed = fit.rename(columns={"tenure_days": "days", "ci_lower": "lower", "ci_upper": "upper"})
    curves = {str(k): d for k, d in renamed.groupby(by)}
    return dict(list(curves.items())[-SHOWN_COHORTS:]) if by == "hire_cohort" else curves


def early_leavers(report: Mapping[str, Any]) -> pd.DataFrame:
    """The attrition page's new hires who left early, per hire quarter, from month_attrition's report: cohort,
    hires, early_leavers (left within early_tenure_days of hire), rate (their share 0..1; empty for a quarter
    without hires, or withheld: fewer than min_group_size hires) and `status`: "final" when every hire of the
    quarter has had those days by the month's end, "can still rise" when not, "no hires"."""
    early = report["early_tenure"]
    hired, complete = early["hires"].to_numpy() > 0, early["complete"].to_numpy(dtype=bool)
    status = np.where(~hired, "no hires", np.where(complete, "final", "can still rise"))
    return early[["cohort", "hires", "early_leavers", "rate"]].assign(status=status)


def month_attrition(
    source: DataSource, params: Mapping[str, Any], month: Any, team: str | None = None
) -> dict[str, Any]:
    """The attrition report's figures for `month` (metrics.attrition.attrition_report over the roster, with
    activity factors when the source has agent_activity, over report_settings' trend_months; `team` narrows
    it to one team).

    Computed once per `reportlib run` and shared by the attrition report and the month's workbook
    (DataSource.memo); the caller gets its own copy.
    """
    from reportlib.metrics import attrition

    m = pd.Period(str(month), freq="M")

    def compute() -> dict[str, Any]:
        factors, since = None, None
        if source.has("agent_activity"):
            activity = source.frame("agent_activity")
            factors, since = attrition.activity_factors(activity, (m + 1).start_time), activity["date"].min()
        return attrition.attrition_report(
            source.frame("agents"),
            m,
            dict(params),
            factors=factors,
            team=team,
            trend_months=report_settings(params)["trend_months"],
            factors_from=None if pd.isna(since) else since,
        )

    return source.memo(("month_attrition", str(m), team, params_key(params)), compute)


def with_ids_where_twins(names: pd.Series, ids: pd.Series) -> pd.Series:
    """`names`, each that two or more rows share followed by its id ("Vincent Tran (A0117)"): a table naming two
    people or clients alike must tell them apart."""
    twins = names.notna() & names.duplicated(keep=False)
    out = names.astype(object).copy()
    out[twins] = [f"{n} ({i})" for n, i in zip(names[twins], ids[twins])]
    return out


def month_scorecards(source: DataSource, params: Mapping[str, Any], month: Any) -> pd.DataFrame:
    """Every agent's scorecard for `month` (metrics.scorecards.agent_scorecards over the source's contacts,
    roster, agent activity and QA when it has them, against parameters' goals): the team report's table.

    Computed once per `reportlib run` and shared by the team report and the month's workbook
    (DataSource.memo); the caller gets its own copy. Two agents of one name are named with their ids
    (`with_ids_where_twins`: the page showed two identical rows).
    """
    from reportlib.metrics import scorecards
    from reportlib.metrics.sla import business_calendar

    m = pd.Period(str(month), freq="M")

    def compute() -> pd.DataFrame:
        cards = scorecards.agent_scorecards(
            source.table("contacts"),
            source.frame("agents"),
            str(m),
            activity=source.frame("agent_activity") if source.has("agent_activity") else None,
            qa=source.frame("qa_evaluations") if source.has("qa_evaluations") else None,
            goals=params.get("goals") or {},
            short_abandon_s=MetricSettings.from_params(params).short_abandon_s,
            data_range=whole_days(source, params),  # a month the data cover in part: volume goals pro-rated to it
            calendar=business_calendar(params),
        )
        if len(cards) and "name" in cards.columns:
            cards["name"] = with_ids_where_twins(cards["name"], cards["agent_id"])
        return cards

    return source.memo(("month_scorecards", str(m), params_key(params)), compute)


def team_table(source: DataSource, params: Mapping[str, Any], month: Any) -> pd.DataFrame:
    """One row per team for `month`: handled, handle time (s), first-contact resolution and satisfied share
    (0..1) from the contacts; occupancy, shrinkage and adherence (0..1) from agent activity and the QA mean
    and critical errors from QA evaluations when the source has them; agents and agents to coach from the
    scorecards (month_scorecards). The team report's "Teams" table, shared with the month's workbook. A team
    that handled no contact but had scheduled time is a row too, its contact figures 0 or empty (a probe: it
    disappeared, adherence and shrinkage with it).
    """
    from reportlib.metrics import workforce

    m = pd.Period(str(month), freq="M")
    start, end = m.start_time, (m + 1).start_time
    ms = MetricSettings.from_params(params)

    def compute() -> pd.DataFrame:
        agents = source.frame("agents")
        teams = _team_contact_kpis(source, ms, None, start, end)
        teams = teams[teams["team"].notna() & (teams["handled"] > 0)][["team", "handled", "aht_s", "fcr", "csat_top2"]]
        if source.has("agent_activity"):
            wf = workforce.workforce_kpis(
                source.frame("agent_activity"), agents, grain=None, by=["team"], start=start, end=end
            )
            wf = wf[wf["team"].notna() & (wf["scheduled_s"] > 0)]
            teams = teams.merge(wf[["team", "occupancy", "shrinkage", "adherence"]], on="team", how="outer")
            teams["handled"] = teams["handled"].fillna(0)
        if source.has("qa_evaluations"):
            qa = source.frame("qa_evaluations").merge(agents[["agent_id", "team"]], on="agent_id", how="left")
            q = qa_history(qa, m, m, by=["team"])
            teams = teams.merge(q[["team", "qa_mean", "critical_errors"]], on="team", how="left")
        cards = month_scorecards(source, params, m)
        per_team = cards.groupby("team").agg(agents=("agent_id", "size"), coaching=("coaching", "sum")).reset_index()
        return teams.merge(per_team, on="team", how="left")

    return source.memo(("team_table", str(m), params_key(params)), compute)


def _team_contact_kpis(source: DataSource, ms: MetricSettings, grain: str | None, start: Any, end: Any) -> pd.DataFrame:
    """Contact KPIs per team (the roster's team of the handling agent) from `start` to `end`, per `grain`."""
    from reportlib.metrics import contacts as metrics

    return metrics.contact_kpis(
        source.table("contacts"),
        grain=grain,
        by=["team"],
        agents=source.table("agents"),
        start=start,
        end=end,
        sl_threshold_s=ms.sl_threshold_s,
        short_abandon_s=ms.short_abandon_s,
    )


def team_trends(
    source: DataSource, params: Mapping[str, Any], first: Any, month: Any, team: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The team report's trends from month `first` to `month`, one row per team and month ('month' as YYYY-MM):
    (contact KPIs of the teams that handled contacts: handled, aht_s in seconds, fcr and csat_top2 as shares 0..1;
    workforce KPIs from agent activity, None without it: occupancy, adherence, planned and unplanned shrinkage as
    shares 0..1). With `team`, that team's rows alone."""
    from reportlib.metrics import workforce

    lo, hi = pd.Period(str(first), freq="M").start_time, (pd.Period(str(month), freq="M") + 1).start_time
    ms = MetricSettings.from_params(params)
    trend = _team_contact_kpis(source, ms, "month", lo, hi)

    def by_month(f: pd.DataFrame) -> pd.DataFrame:
        f = f.assign(month=pd.to_datetime(f["period"]).dt.to_period("M").astype(str))
        return (f[f["team"] == team] if team is not None else f).reset_index(drop=True)

    people = by_month(trend[trend["team"].notna() & (trend["handled"] > 0)])
    if not source.has("agent_activity"):
        return people, None
    activity = source.frame("agent_activity")
    return people, by_month(
        workforce.workforce_kpis(activity, source.frame("agents"), grain="month", by=["team"], start=lo, end=hi)
    )


def _one_client(source: DataSource, compute_all: Callable[[Any], pd.DataFrame]) -> pd.DataFrame | None:
    """For a client's view (data.source.ClientView) of a source with contacts: compute_all(parent) (every client,
    grouped by client_id, remembered on the parent) narrowed to this client's rows; None otherwise.

    A per-client batch thus aggregates once for all clients. The rows equal those computed over the
    client's data alone (tests/test_narrative.py): every aggregate here groups by client_id and reads
    nothing across clients (repeat contacts are looked for within the client).
    """
    parent, client_id = source.parent, source.client_id
    if parent is None or client_id is None or not parent.has("contacts"):
        return None
    every = compute_all(parent)
    mine = every[every["client_id"].astype(str) == str(client_id)]
    return mine.drop(columns="client_id").reset_index(drop=True)


def _channel_counts(
    source: DataSource,
    params: Mapping[str, Any],
    start: pd.Timestamp,
    end: pd.Timestamp,
    by: Sequence[str] = ("channel",),
) -> pd.DataFrame | None:
    """Monthly count sums by `by` from contacts (or intervals when there are none); None without either.

    Remembered on the source: the monthly pack asks for the same queue counts once per headline figure.
    """
    from reportlib.metrics import contacts as metrics

    th = MetricSettings.from_params(params).sl_threshold_s
    sa = MetricSettings.from_params(params).short_abandon_s

    def compute() -> pd.DataFrame | None:
        if source.has("contacts"):
            return metrics.contact_counts(
                source.table("contacts"),
                grain="month",
                by=list(by),
                start=start,
                end=end,
                sl_threshold_s=th,
                short_abandon_s=sa,
                with_repeat=False,
            )
        if source.has("intervals"):
            return metrics.interval_counts(
                source.table("intervals"), grain="month", by=list(by), start=start, end=end, sl_threshold_s=th
            )
        return None

    return source.memo(("channel_counts", pd.Timestamp(start), pd.Timestamp(end), tuple(by), th, sa), compute)


def data_end(source: Any) -> pd.Timestamp | None:
    """The data's end: the latest contact arrival in the whole source (for a client's view, its parent's, not
    the client's last email), the best witness of when the data was taken, at which emails still open are
    judged (sla.email_judged_at). None without contacts. The whole source's data_range, remembered there."""
    root = whole_source(source)
    if not root.has("contacts"):
        return None
    return data_range(root)[1]


def email_by_queue(source: Any, params: Mapping[str, Any], month: Any) -> pd.DataFrame:
    """First response to the emails received in `month`, per queue (metrics.sla.email_first_response: received,
    responded_within, missed, service_level 0..1, mean_response_business_h in business hours), judged at the
    whole source's end; the SLA report's table and the month workbook's sheet."""
    from reportlib.metrics import sla

    m = pd.Period(str(month), freq="M")
    return sla.email_first_response(
        source.table("contacts"),
        start=m.start_time,
        end=(m + 1).start_time,
        threshold_h=float(report_settings(params)["email_threshold_h"]),
        calendar=sla.business_calendar(params),
        by=["queue"],
        tz=source.tz,
        data_end=data_end(source),
    )


def email_backlog_by_queue(source: Any, params: Mapping[str, Any], month: Any) -> tuple[pd.DataFrame, str]:
    """Emails still waiting for a first response at the end of `month` (`email_waiting_at`: the month end, or the
    data's end before it), per queue (metrics.sla.email_backlog: backlog, past_threshold counts,
    oldest_age_business_h in business hours), and the words for when ("at month end"); the SLA report's table
    and the month workbook's sheet."""
    from reportlib.metrics import sla

    at, when = email_waiting_at(source, params, month)
    backlog = sla.email_backlog(
        source.table("contacts"),
        at=at,
        calendar=sla.business_calendar(params),
        by=["queue"],
        threshold_h=float(report_settings(params)["email_threshold_h"]),
        tz=source.tz,
    )
    return backlog, when


def email_waiting_at(source: Any, params: Mapping[str, Any], month: Any) -> tuple[pd.Timestamp, str]:
    """(instant, words) at which the SLA report counts a month's emails still waiting for a first response,
    sla.email_judged_at(month end, data_end(source)) on the business calendar: the month end ('at month
    end'), or the data's end when the data stops before the month does, with business time left ('when the
    data ends (2025-03-18)'): then one microsecond after the data's last arrival, so that the email which
    arrived at that very instant counts as waiting (sla.email_backlog counts emails received before `at`), as
    compliance counts it received and pending."""
    from reportlib.metrics import sla

    month_end = (pd.Period(str(month), freq="M") + 1).start_time
    at = pd.Timestamp(sla.email_judged_at(month_end, data_end(source), calendar=sla.business_calendar(params)))
    if at >= month_end:
        return at, "at month end"
    return at + pd.Timedelta(microseconds=1), f"when the data ends ({at:%Y-%m-%d})"


def email_history(
    source: DataSource,
    params: Mapping[str, Any],
    first_month: Any,
    last_month: Any,
    threshold_h: float,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """Email first response within `threshold_h` business hours per month (sla.email_first_response, one pass).

    Emails still open are judged at the data's end (data_end: the whole source's latest arrival, for a client's
    view too; sla.email_judged_at with close=False), so in a month the data covers only in part an email open
    for less than the threshold when the data ends is pending. Columns: month (YYYY-MM), [by], received,
    responded_within, missed, pending, service_level (0..1), mean_response_business_h.
    """
    from reportlib.metrics import sla

    first = pd.Period(str(first_month), freq="M")
    last = pd.Period(str(last_month), freq="M")
    by = tuple(by)
    if "client_id" not in by:
        mine = _one_client(source, lambda p: email_history(p, params, first, last, threshold_h, ("client_id", *by)))
        if mine is not None:
            return mine

    def times() -> pd.DataFrame:  # the business-hours step, the same for every threshold
        t = source.table("contacts")
        t = t.mutate(_month=t.arrived_at.truncate("M"))
        return sla.email_business_times(
            t,
            start=first.start_time,
            end=(last + 1).start_time,
            calendar=sla.business_calendar(params),
            by=["_month", *by],
            tz=source.tz,
            data_end=data_end(source),
        )

    def compute() -> pd.DataFrame:
        timed = source.memo(("email_times", str(first), str(last), by, params_key(params)), times)
        e = sla.email_first_response_from_times(timed, threshold_h, ["_month", *by])
        e.insert(0, "month", pd.to_datetime(e.pop("_month")).dt.to_period("M").astype(str))
        return e

    return source.memo(("email_history", str(first), str(last), float(threshold_h), by, params_key(params)), compute)


def cut_day(source: Any, params: Mapping[str, Any] | None) -> pd.Timestamp | None:
    """span.last_day_cut of `source`, the calendar's closed holidays (metrics.sla.closed_days) never read as cut."""
    from reportlib.metrics.sla import source_closed_days

    return last_day_cut(source, source_closed_days(params, source))


def whole_days(source: Any, params: Mapping[str, Any] | None) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """span.whole_days_range of `source` under the calendar of `params` (cut_day)."""
    from reportlib.metrics.sla import source_closed_days

    return whole_days_range(source, source_closed_days(params, source))


def cost_window(
    source: DataSource, params: Mapping[str, Any] | None, start: Any, end: Any
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The part of [start, end) that labor cost is taken over: the local days the contacts (or intervals) cover, to
    the last whole day (span.whole_days_range: a day the export cut short is left out, its activity rows being the
    whole day's). An activity export running past the contacts' end would set a whole month's cost against 18 days'
    contacts."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    lo, hi = whole_days(source, params)
    a_start = max(start, lo.normalize()) if lo is not None else start
    a_end = min(end, hi.normalize() + pd.Timedelta(days=1)) if hi is not None else end
    return a_start, a_end


def month_cost_per_contact(source: DataSource, params: Mapping[str, Any] | None, month: Any) -> pd.DataFrame:
    """metrics.cost.cost_per_contact by channel for `month`, over its cost_window (the pack's table and the
    workbook's sheet: the tile's window)."""
    from reportlib.metrics import cost

    m = pd.Period(str(month), freq="M")
    start, end = cost_window(source, params, m.start_time, (m + 1).start_time)
    return cost.cost_per_contact(
        source.table("contacts"),
        source.frame("agent_activity"),
        source.frame("agents"),
        str(m),
        by=["channel"],
        start=start,
        end=end,
    )


def cost_window_label(source: DataSource, params: Mapping[str, Any] | None, month: Any) -> str:
    """The month's name, or the days its cost is taken over when the data cover it in part (cost_window): "1-17
    November 2026 (the days with data)", so a handled count below the month's reads right."""
    m = pd.Period(str(month), freq="M")
    start, end = cost_window(source, params, m.start_time, (m + 1).start_time)
    if start == m.start_time and end == (m + 1).start_time:
        return month_label(m)
    last = end - pd.Timedelta(days=1)
    return f"{start.day}–{last.day} {month_label(m)} (the days with data)" if end > start else month_label(m)


def kpi_history(source: DataSource, params: Mapping[str, Any], first_month: Any, last_month: Any) -> pd.DataFrame:
    """One row per month (YYYY-MM) from first to last with every headline KPI (shares 0..1, seconds, currency).

    Missing where the source cannot give a figure (no agent_activity: no cost or workforce; intervals
    only: no CSAT/FCR; no HR roster: no attrition). Labor cost and the workforce shares are over the days the
    contacts (or intervals) cover (cost_window: a last day the export cut short is left out, and the cost per
    contact is then over the contacts handled before it), and a month's budget is pro-rated to its open days with
    data (coverage), so a month the data covers in part is held to its part; missing when the data cover none of
    its open days (they fall on closed days only): no budget is fair then.
    """
    from reportlib.metrics import contacts as metrics

    first = pd.Period(str(first_month), freq="M")
    last = pd.Period(str(last_month), freq="M")
    months = pd.period_range(first, last, freq="M")
    start, end = first.start_time, (last + 1).start_time
    rep = report_settings(params)
    sl_def = MetricSettings.from_params(params).sl_definition
    out = pd.DataFrame({"month": [str(m) for m in months]})
    out = out.reindex(columns=HISTORY_COLUMNS)
    out["month"] = [str(m) for m in months]
    out = out.set_index("month")

    counts = _channel_counts(source, params, start, end)
    if counts is not None and len(counts):
        counts = counts.assign(month=pd.to_datetime(counts["period"]).dt.to_period("M").astype(str))
        queue_ch = counts[counts["channel"].isin(rep["queue_channels"])]
        rt = metrics.rollup_counts(queue_ch, ["month"]).set_index("month")
        if len(rt):
            k = metrics.kpis_from_counts(rt.reset_index(), sl_def).set_index("month")
            for c in ("service_level", "abandon_rate", "asa_s"):
                out.loc[k.index.intersection(out.index), c] = k[c]
        ra = metrics.rollup_counts(counts, ["month"])
        ka = metrics.kpis_from_counts(ra, sl_def).set_index("month")
        for c in ("offered", "handled", "aht_s", "fcr", "csat_top2", "escalation_rate"):
            out.loc[ka.index.intersection(out.index), c] = ka[c]

    if source.has("contacts"):
        e = email_history(source, params, first, last, float(rep["email_threshold_h"]))
        for _, row in e.iterrows():
            if row["month"] in out.index and row["received"] > 0:
                out.loc[row["month"], "email_received"] = row["received"]
                out.loc[row["month"], "email_sl"] = row["service_level"]

    agents = source.frame("agents") if source.has("agents") else None
    if source.has("agent_activity") and agents is not None:
        from reportlib.metrics import cost, workforce

        act = source.frame("agent_activity")
        # cost and workforce over the days the contacts (or intervals) cover, as every other figure: an activity
        # export running past the contacts' end would set a whole month's cost against 18 days' contacts; a last
        # day the export cut short is left out (its activity rows are the whole day's: span.whole_days_range)
        a_start, a_end = cost_window(source, params, start, end)
        lc = cost.labor_cost(act, agents, grain="month", start=a_start, end=a_end)
        if len(lc):
            lc = lc.assign(month=pd.to_datetime(lc["period"]).dt.to_period("M").astype(str)).set_index("month")
            out.loc[lc.index.intersection(out.index), "labor_cost"] = lc["labor_cost"]
        budget = (params or {}).get("budget")
        if budget:
            for m in out.index:
                try:
                    whole = cost.monthly_budget(budget, m)
                except Exception:  # no budget line for that month: left missing
                    continue
                days, open_days = coverage(source, params, m)  # a month the data covers in part: pro-rated
                if days < open_days:  # none of its open days covered (data on a Saturday only): no fair budget
                    out.loc[m, "budget"] = whole * days / open_days if days > 0 else np.nan
                else:
                    out.loc[m, "budget"] = whole
        wf = workforce.workforce_kpis(act, grain="month", by=[], start=a_start, end=a_end)
        if len(wf):
            wf = wf.assign(month=pd.to_datetime(wf["period"]).dt.to_period("M").astype(str)).set_index("month")
            for c in ("occupancy", "shrinkage", "adherence"):
                out.loc[wf.index.intersection(out.index), c] = wf[c]
        handled = pd.to_numeric(out["handled"], errors="coerce").copy()  # to_numeric may hand back the column
        cut_at = cut_day(source, params)
        if cut_at is not None and start <= cut_at < end:  # labor to the cut day, over the contacts handled before it
            before = _channel_counts(source, params, cut_at.to_period("M").start_time, cut_at.normalize())
            if before is not None:
                handled[str(cut_at.to_period("M"))] = float(before["handled"].sum())
        lab = pd.to_numeric(out["labor_cost"], errors="coerce")
        out["cost_per_contact"] = (lab / handled.where(handled > 0)).astype("float64")

    if roster_has_history(agents):
        from reportlib.metrics import attrition

        att = attrition.monthly_attrition(agents, first, last)
        att = att.set_index(att["month"].astype(str))
        out.loc[att.index.intersection(out.index), "headcount_end"] = att["headcount_end"]
        out.loc[att.index.intersection(out.index), "monthly_attrition"] = att["monthly_rate"]
        out.loc[att.index.intersection(out.index), "annualized_attrition"] = att["annualized_rate"]

    out = out.reset_index()
    for c in HISTORY_COLUMNS[1:]:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    return out[HISTORY_COLUMNS]


def _queue_driver(
    source: DataSource,
    params: Mapping[str, Any],
    month: pd.Period,
    metric: str,
    channels: Sequence[str],
    with_volume: bool = True,
) -> str | None:
    """The queue that moved `metric` most from last month, in words (its volume change, unless not
    `with_volume`: a month the data covers in part, and its own move)."""
    from reportlib.metrics import contacts as metrics

    prev = month - 1
    counts = _channel_counts(source, params, prev.start_time, (month + 1).start_time, by=("channel", "queue"))
    if counts is None or not len(counts):
        return None
    counts = counts[counts["channel"].isin(channels)]
    counts = counts.assign(month=pd.to_datetime(counts["period"]).dt.to_period("M").astype(str))
    sl_def = MetricSettings.from_params(params).sl_definition
    q = metrics.kpis_from_counts(metrics.rollup_counts(counts, ["month", "queue"]), sl_def)
    now = q[q["month"] == str(month)].set_index("queue")
    before = q[q["month"] == str(prev)].set_index("queue")
    weight_col = "handled" if metric in ("aht_s", "fcr", "csat_top2") else "offered"
    if not len(now) or not len(before):
        return None
    # the queue whose own move and share's move changed the total most (a queue that lost share at a value near
    # the total's moved it little, however its share fell: naming it by its share of the total alone, the pack
    # named the queue whose service level fell least)
    contrib = metrics.change_by_part(before[weight_col], before[metric], now[weight_col], now[metric])
    contrib = contrib[contrib.index.isin(now.index)]
    if not len(contrib):
        return None
    queue = contrib.abs().idxmax()
    v_now = now[metric]
    v_before = before[metric].reindex(now.index)
    vol_now, vol_before = float(now.loc[queue, "offered"]), float(before["offered"].get(queue, np.nan))
    unit = "seconds" if metric.endswith("_s") else "share"
    label = {
        "service_level": "service level",
        "abandon_rate": "abandon rate",
        "asa_s": "speed of answer",
        "aht_s": "handle time",
        "fcr": "first-contact resolution",
        "csat_top2": "satisfaction",
    }[metric]
    rc = relative_change(vol_now, vol_before) if with_volume else None
    d = (
        None
        if is_missing(v_before.get(queue)) or is_missing(v_now.get(queue))
        else float(v_now[queue] - v_before[queue])
    )
    move = None if d is None else f"{label} {movement(d, unit, format_value(v_now[queue], unit))}"
    if rc is not None and move:
        return f"{queue} volume was {share_phrase(rc)} last month and its {move}"
    if move:
        return f"in {queue}, {move}"
    if rc is not None:
        return f"{queue} volume was {share_phrase(rc)} last month"
    return None


def monthly_summary(source: DataSource, params: Mapping[str, Any], month: Any) -> dict[str, Any]:
    """The monthly pack's first screen as data: KPI tiles (dicts) and plain-language commentary.

    Returns {"month", "month_label", "tiles": [ {name, value, unit, target, status, delta_prev,
    delta_yoy, higher_is_better, key, ...} ], "commentary": [str], "history": DataFrame (13 months)}.
    Every string is plain text: escape it before putting it in HTML.
    """
    m = pd.Period(str(month), freq="M")
    rep = report_settings(params)
    currency = str(rep["currency"])
    hist = kpi_history(source, params, m - 12, m).set_index("month")
    cur, prev, yoy = str(m), str(m - 1), str(m - 12)
    basis = totals_basis(source, params, m)  # totals are set only against whole months, from a whole month
    days, open_days, partial = basis.days, basis.open_days, basis.partial
    tiles: list[Tile] = []
    for cfg in rep["tiles"]:
        key = cfg["key"]
        if key not in hist.columns:
            continue
        val = hist.loc[cur, key]
        target = cfg.get("target")
        note = None
        if target == "goal":  # the team goal in parameters/goals.yaml (defaults)
            target = ((params or {}).get("goals") or {}).get("defaults", {}).get(GOAL_KEYS.get(key, key))
        if target == "budget":
            target = hist.loc[cur, "budget"]  # pro-rated by kpi_history in a month the data covers in part
            if partial and days <= 0:  # data on closed days only: no open day to pro-rate a budget to
                target = None
                note = f"{days_with_data(days, open_days)}: no budget to compare with"
            elif is_missing(target):
                note = "No budget set for this month"
            elif partial:
                note = f"budget pro-rated to the {days} of {open_days} open days with data"
        compare = basis.compare if key in MONTH_TOTALS else ("prev", "yoy")
        if key in MONTH_TOTALS and note is None:
            note = basis.note
        tile = make_tile(
            cfg.get("name", key),
            val,
            cfg.get("unit", "number"),
            target=target,
            prev=hist.loc[prev, key],
            yoy=hist.loc[yoy, key],
            compare=compare,
            higher_is_better=bool(cfg.get("higher_is_better", True)),
            amber=float(cfg.get("amber", 0.05)),
            amber_abs=cfg.get("amber_abs"),
            prev_label=(m - 1).strftime("%b %Y"),
            yoy_label=(m - 12).strftime("%b %Y"),
            key=key,
            note=note,
        )
        if tile.value is None:
            continue  # the source cannot give this figure: no empty tile on the first screen
        tiles.append(tile)

    if not any(t.key == "service_level" for t in tiles) and not is_missing(hist.loc[cur, "offered"]):
        # a source without waits (an interval export of arrivals only), or whose live channels were not all counted
        # at the threshold (service_level_basis names them under By channel): show the volume at least, and say why
        asked = any(cfg["key"] == "service_level" for cfg in rep["tiles"])
        why = (
            f"no service level: not every live channel was counted at {MetricSettings.from_params(params).sl_threshold_s:g} s"
            if asked and not source.has("contacts")
            else None
        )
        tiles.insert(
            0,
            make_tile(
                "Contacts offered",
                hist.loc[cur, "offered"],
                "count",
                prev=hist.loc[prev, "offered"],
                yoy=hist.loc[yoy, "offered"],
                compare=basis.compare,
                note="; ".join(n for n in (why, basis.note) if n) or None,
                prev_label=(m - 1).strftime("%b %Y"),
                yoy_label=(m - 12).strftime("%b %Y"),
                key="offered",
            ),
        )
    drivers: dict[str, str] = {}
    for t in tiles:
        if t.key in ("service_level", "abandon_rate", "asa_s", "aht_s", "csat_top2") and not is_missing(t.delta_prev):
            chans = (
                rep["queue_channels"]
                if t.key in ("service_level", "abandon_rate", "asa_s")
                else ["phone", "chat", "email"]
            )
            d = _queue_driver(source, params, m, t.key, chans, with_volume="prev" in basis.compare)
            if d:
                drivers[t.key] = d
    labor = next((t for t in tiles if t.key == "labor_cost"), None)
    if labor is not None and labor.value is not None and not is_missing(labor.target) and labor.target:
        gap = relative_change(labor.value, labor.target)
        if gap is not None:
            drivers["labor_cost"] = (
                f"{format_value(abs(labor.value - labor.target), 'currency', currency)} "
                f"({abs(gap) * 100:.1f}%) {'over' if gap > 0 else 'under'} budget"
            )
    cpc = next((t for t in tiles if t.key == "cost_per_contact"), None)
    if cpc is not None and not is_missing(cpc.delta_prev) and "prev" in basis.compare:  # it compares two totals
        lc = relative_change(hist.loc[cur, "labor_cost"], hist.loc[prev, "labor_cost"])
        hc = relative_change(hist.loc[cur, "handled"], hist.loc[prev, "handled"])
        if lc is not None and hc is not None:
            drivers["cost_per_contact"] = (
                f"labor cost {'rose' if lc > 0 else 'fell'} by {abs(lc) * 100:.1f}% while "
                f"handled contacts {'rose' if hc > 0 else 'fell'} by {abs(hc) * 100:.1f}%"
            )
    lines = commentary(tiles, drivers, currency=currency, limit=5)
    return {
        "month": cur,
        "month_label": month_label(m),
        "tiles": [t.as_dict() for t in tiles],
        "commentary": lines,
        "history": hist.reset_index(),
    }


def tile_config(params: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The tile settings (name, unit, target, direction) for a KPI key; {} when not configured."""
    return next((dict(t) for t in report_settings(params)["tiles"] if t.get("key") == key), {})


def month_gaps(
    period: pd.Period, first: pd.Timestamp | None, last: pd.Timestamp | None, params: Mapping[str, Any] | None
) -> tuple[int, int]:
    """Open days of month `period` before the data's first day and after its last day, (0, 0) for a whole month.

    Open days are the business calendar's (parameters/calendar.yaml business_hours weekdays, closed holidays
    left out: metrics.sla.business_calendar), so a weekday-only export ending on the Friday before a month's
    last weekend covers the whole month. An operation open on days its calendar does not list (phones on
    Saturday, business hours Monday-Friday) has those days left out of the count: say so in the calendar.
    """
    from reportlib.metrics.sla import business_calendar

    if first is None or last is None:
        return 0, 0
    cal = business_calendar(params)
    start, end = period.start_time, (period + 1).start_time
    before = cal.open_days(start, min(first.normalize(), end)) if first > start else 0
    after = cal.open_days(max(last.normalize() + pd.Timedelta(days=1), start), end) if last < end else 0
    return before, after


def month_running(source: Any, params: Mapping[str, Any] | None, month: Any) -> bool:
    """Whether the data of `source` end before `month` does: open days of it after the data's last whole day
    (month_gaps over source_span; a last day the export cut short counts). Its results are so far, not final."""
    return month_gaps(pd.Period(str(month), freq="M"), *source_span(source, params), params)[1] > 0


def term_results(met: pd.Series, running: bool = False) -> pd.Series:
    """A contract term's result in words from its `met` flag: 'met', 'missed', 'no contacts'; in a month still
    running (month_running) 'on goal so far' and 'below goal so far' (a term of the 18th is not missed yet). The
    client review's page and the workbooks' terms sheets."""
    done = {True: "met", False: "missed"} if not running else {True: "on goal so far", False: "below goal so far"}
    return met.map(lambda v: "no contacts" if is_missing(v) else done[bool(v)]).astype(object)


def roster_month_note(source: Any, params: Mapping[str, Any] | None, month: Any) -> str | None:
    """What the attrition figures of a month still running say (month_running; None otherwise): the roster of an
    export taken then cannot know the month's later leavers. Without contacts or intervals to date the export (a
    roster alone, as `import-hr` writes), a month that begins after the roster's last hire or leaver is said: its
    figures assume nobody joined or left since (a probe: a roster exported in February 2019 gave June 2025 0%
    attrition, with nothing said)."""
    last = data_range(whole_source(source))[1]
    if last is None and source.has("agents"):
        agents = source.frame("agents")
        dates = [agents[c].max() for c in ("hire_date", "termination_date") if c in agents]
        event = max((pd.Timestamp(d) for d in dates if not pd.isna(d)), default=None)
        m = pd.Period(str(month), freq="M")
        if event is not None and m.start_time > event:
            return (
                f"No contacts date the roster's export, and its last hire or leaver is on {event:%Y-%m-%d}: "
                f"{month_label(m)}'s figures assume nobody joined or left since."
            )
    if last is None or not month_running(source, params, month):
        return None
    return (
        f"{month_label(pd.Period(str(month), freq='M'))} runs past the data (they end on {last:%Y-%m-%d}): its "
        "figures are so far, and a roster exported then does not know the month's later leavers."
    )


def month_to_date_as_of(source: Any, params: Mapping[str, Any] | None, month: Any) -> tuple[pd.Timestamp, bool]:
    """When the month-to-date projection of `month` stands, and whether that is a look back: (as_of, looking_back).

    While the month runs (open days of it after the data's last whole day: month_gaps over source_span, so an
    export cut short at 10:00 on the month's last day still runs), the data's end (its last arrival, at most the
    month's end). For a month the data cover whole, the position on the 15th (start + 14 days): what the
    projection said mid-month. (Before, the data ending within a day of the month's end counted as whole: an
    export taken at 10:00 on the 30th jumped back to the 15th, on the day the position mattered most.)"""
    m = pd.Period(str(month), freq="M")
    start, end = m.start_time, (m + 1).start_time
    last = data_range(whole_source(source))[1]
    if last is None or not month_running(source, params, m) or last >= end:
        return start + pd.Timedelta(days=14), True
    return max(min(last, end), start), False


def month_to_date(source: Any, params: Mapping[str, Any], month: Any) -> tuple[pd.DataFrame, pd.Timestamp, bool]:
    """The SLA month-to-date projection of `month` (metrics.sla.month_to_date, one row per client contract term:
    status on track / at risk / lost, what the rest of the month needs) as it stood at `month_to_date_as_of`, with
    that instant and whether it is a look back: (projection, as_of, looking_back). The SLA report's section and
    the month workbook's sheet."""
    from reportlib.metrics import sla

    m = pd.Period(str(month), freq="M")
    as_of, looking_back = month_to_date_as_of(source, params, m)
    mtd = sla.month_to_date(
        source.table("contacts"),
        source.frame("clients"),
        sla.profiles_from_params(params),
        str(m),
        as_of,
        calendar=sla.business_calendar(params),
        tz=source.tz,
    )
    return mtd, as_of, looking_back


def month_to_date_risks(mtd: pd.DataFrame) -> pd.DataFrame:
    """The projection's table (sla.month_to_date's terms at risk or lost): client_name, term, so_far (the month so
    far in the term's unit, `delivered_text`: "40 s" for a speed-of-answer term, not a share), expected_remaining,
    required_within_threshold (service level), rest_mean (a mean term: what the rest of the month must average,
    "at most 22 s"; left out when no row has one), status and rag (amber at risk, red lost)."""
    risky = mtd[mtd["status"].isin(["at risk", "lost"])]
    rest: list[str | None] = []
    for metric, goal_is, need, status in zip(
        risky["metric"], risky["direction"], risky["required_remaining_mean"], risky["status"]
    ):
        if is_missing(need) or status == "lost":
            rest.append(None)
        else:
            rest.append(f"{'at most' if goal_is == 'max' else 'at least'} {format_value(need, metric_unit(metric))}")
    table = pd.DataFrame(
        {
            "client_name": risky["client_name"].to_numpy(),
            "term": risky["term"].to_numpy(),
            "so_far": delivered_text(risky),
            "expected_remaining": risky["expected_remaining"].to_numpy(),
            "required_within_threshold": risky["required_within_threshold"].to_numpy(),
            "rest_mean": rest,
            "status": risky["status"].to_numpy(),
            "rag": risky["status"].map({"at risk": "amber", "lost": "red"}).to_numpy(),
        }
    )
    return table if any(r is not None for r in rest) else table.drop(columns="rest_mean")


def month_to_date_sentence(status: pd.Series, as_of: pd.Timestamp, looking_back: bool) -> str:
    """The projection's one line: how many terms stand in each status (sla.month_to_date's), and when."""
    counts = status.value_counts()
    when = f"As of {as_of:%d %B %Y %H:%M}"
    if looking_back:
        when = f"Looking back to mid-month (the month is over), as of {as_of:%d %B %Y}"
    return f"{when}: " + ", ".join(f"{counted(n, 'term')} {s}" for s, n in counts.items()) + "."


def partial_month_note(
    period: pd.Period,
    first: pd.Timestamp | None,
    last: pd.Timestamp | None,
    params: Mapping[str, Any] | None,
    whose: str = "the data",
    cut: pd.Timestamp | None = None,
) -> str | None:
    """A sentence saying month `period` is only partly covered by data running from `first` to `last` (None when
    every open day of it is covered: month_gaps): its totals are not comparable with a whole month's. `whose`
    names what starts at `first` ("the data", "this client's contacts"); `last` is the end of the data's last whole
    day; `cut`, the data's end when the export stops part-way through a day after it (span.last_day_cut)."""
    before, after = month_gaps(period, first, last, params)
    if not before and not after:
        return None

    def days(n: int, side: str) -> str:
        return f"{n} of the month's open days {'is' if n == 1 else 'are'} {side} it"

    parts = []
    if before:
        parts.append(f"{whose} start on {first:%Y-%m-%d} ({days(before, 'before')})")
    if after and cut is not None and cut < (period + 1).start_time:
        parts.append(
            f"the data end part-way through {cut:%Y-%m-%d}, at {cut:%H:%M} (that day and the rest of the month: "
            f"{counted(after, 'open day')})"
        )
    elif after:
        parts.append(f"the data end on {last:%Y-%m-%d} ({days(after, 'after')})")
    days_with = "the days with data" if cut is None or not after else "the days with data and that day's part"
    return (
        f"{month_label(period)} is a partial month: {' and '.join(parts)}. Counts and totals cover only {days_with} "
        "and are not comparable with a whole month's; rates and averages are over those days."
    )


def source_span(source: Any, params: Mapping[str, Any] | None) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """Where the data of `source` start and end for its month's coverage: its first contact (on a client's view,
    that client's: a client that started in the month) and the end of the whole source's last whole day
    (whole_days: a day the export cut short is not covered; a client's last contact is not the export's
    end)."""
    return data_range(source)[0], whole_days(whole_source(source), params)[1]


def source_partial_note(source: Any, params: Mapping[str, Any] | None, month: Any) -> str | None:
    """partial_month_note for `source` and `month` over source_span: what every report and workbook of the month
    says at the top."""
    client = getattr(source, "client_id", None) is not None and getattr(source, "parent", None) is not None
    first, last = source_span(source, params)
    whose = "this client's contacts" if client else "the data"
    return partial_month_note(
        pd.Period(str(month), freq="M"), first, last, params, whose=whose, cut=cut_day(source, params)
    )


def coverage(source: Any, params: Mapping[str, Any] | None, month: Any) -> tuple[int, int]:
    """(open days of `month` the data covers, the month's open days), by the business calendar (month_gaps over
    source_span)."""
    from reportlib.metrics.sla import business_calendar

    m = pd.Period(str(month), freq="M")
    before, after = month_gaps(m, *source_span(source, params), params)
    total = business_calendar(params).open_days(m.start_time, (m + 1).start_time)
    return max(total - before - after, 0), total


def totals_basis(source: Any, params: Mapping[str, Any] | None, month: Any) -> TotalsBasis:
    """narrative.TotalsBasis of `month` on `source`: its coverage and that of the month before and the same month a
    year before, so a total is not set against a month the data cover in part (the first month of an export that
    starts mid-month, a client's first month)."""
    m = pd.Period(str(month), freq="M")
    days, open_days = coverage(source, params, m)
    first, last = source_span(source, params)
    compared = {"prev": m - 1, "yoy": m - 12}
    return TotalsBasis(
        days,
        open_days,
        prev=coverage(source, params, compared["prev"]),
        yoy=coverage(source, params, compared["yoy"]),
        prev_label=compared["prev"].strftime("%b %Y"),
        yoy_label=compared["yoy"].strftime("%b %Y"),
        unreached=tuple(
            w
            for w, p in compared.items()
            if first is None or last is None or first >= (p + 1).start_time or last <= p.start_time
        ),
    )


# a scorecard's figures set beside their goals: (column, goal column, unit, decimals the page shows by default)
SCORECARD_COMPARED = (
    ("aht_s", "aht_s_goal", "seconds", None),
    ("qa_mean", "qa_goal", "number", 1),
    ("fcr", "fcr_goal", "share", None),
    ("csat_top2", "csat_goal", "share", None),
    ("adherence", "adherence_goal", "share", None),
)


def scorecard_digits(cards: pd.DataFrame) -> dict[str, list[int | None]]:
    """Per scorecard column compared with a goal, each row's decimals (narrative.compared_digits): an adherence of
    91.95% against 92% reads "91.95%", where "92.0%" in red read as a wrong verdict (a probe); the page and the
    workbook's sheet alike."""
    return {
        col: compared_digits(cards[col], cards[goal], unit, digits)
        for col, goal, unit, digits in SCORECARD_COMPARED
        if col in cards.columns and goal in cards.columns
    }


def scorecard_display(cards: pd.DataFrame) -> pd.DataFrame:
    """The team page's agent table from `month_scorecards`: each figure compared with a goal as text with the
    decimals that keep it apart from its goal (`scorecard_digits`), its met/missed colour (`<column>_rag`), goals
    met ("4 of 5") and rank in team ("2 of 9")."""
    from reportlib.metrics.scorecards import GOAL_COLUMNS

    show = cards.copy()
    row_digits = scorecard_digits(cards)
    for col, _, unit, default in SCORECARD_COMPARED:
        if col in row_digits:
            show[col] = [
                format_value(v, unit, digits=default if d is None else d) for v, d in zip(cards[col], row_digits[col])
            ]
    for key, col in GOAL_COLUMNS.items():
        if f"{key}_met" in show:
            show[f"{col}_rag"] = met_status(show[f"{key}_met"])
    show["goals"] = [f"{m} of {t}" for m, t in zip(show["goals_met"], show["goals_total"])]
    show["rank"] = [
        "not ranked" if is_missing(r) else f"{r} of {n}" for r, n in zip(show["rank_in_team"], show["team_size"])
    ]
    return show


def team_goals(cards: pd.DataFrame, key: str, by: str = "team") -> dict[str, list[float]]:
    """Per group of the scorecard (`by`: a team), the distinct goals its agents have for goal `key` (`<key>_goal`,
    in the measure's unit; defaults < role < team, parameters/goals.yaml), sorted; a group without one is left
    out. The team page's distributions draw each team's own goals: the default line alone was read as every
    team's goal where goals.yaml sets a team's or a role's apart."""
    col = f"{key}_goal"
    if col not in cards or by not in cards:
        return {}
    out: dict[str, list[float]] = {}
    for group, part in cards.groupby(by, sort=True, dropna=True):
        values = sorted({float(v) for v in part[col].dropna()})
        if values:
            out[str(group)] = values
    return out


def trend_goal(cards: pd.DataFrame, key: str, goals: Mapping[str, Any]) -> dict[str, Any]:
    """The goal line for a chart of `key` over teams, as the chart's `target` and `target_label`: the goal every
    agent on the scorecard shares ("Goal"), else the default one said to be the default ("Default goal; some
    teams' or roles' differ"), or none when there is no default."""
    shared = {v for values in team_goals(cards, key).values() for v in values}
    if len(shared) == 1:
        return {"target": shared.pop(), "target_label": "Goal"}
    default = (goals.get("defaults") or {}).get(key)
    if default is None:
        return {"target": None, "target_label": "Goal"}
    label = "Default goal; some teams' or roles' differ" if shared else "Goal"
    return {"target": float(default), "target_label": label}


def met_status(met: pd.Series) -> pd.Series:
    """True/False/NA 'met' flags as 'green'/'red'/None for table colouring."""
    return met.map(lambda v: None if is_missing(v) else ("green" if bool(v) else "red")).astype(object)


def missed_terms(compliance: pd.DataFrame) -> pd.DataFrame:
    """The contract terms of `compliance` (queries.compliance) that were judged and missed: `met` False; a term
    not judged (met empty: too few contacts, no data) is not a miss."""
    met = compliance["met"]
    missed = met.map(lambda v: not is_missing(v) and not bool(v)).astype(bool)  # object True/False/None: no downcast
    return compliance[missed].copy()


def delivered_text(terms: pd.DataFrame) -> list[str]:
    """Each contract term's delivered figure (`actual`) as text in its unit (`metric_unit`), with the decimals
    that keep it apart from its `goal` (narrative.distinct_digits): 1,999 of 2,500 within 30 s against 80% reads
    "79.96%", where "80.0%" beside "missed" read as a wrong verdict (a probe)."""
    out = []
    goals = terms["goal"] if "goal" in terms else [None] * len(terms)
    for value, goal, metric in zip(terms["actual"], goals, terms["metric"]):
        unit = metric_unit(metric)
        out.append(format_value(value, unit, digits=distinct_digits(value, goal, None, unit)))
    return out


def metric_unit(metric: str) -> str:
    """How a contract term's goal and figure read (a narrative.format_value unit): a share metric (sla.METRICS)
    as a percentage, a time in seconds, another mean (csat_mean, a score 1..5) as a number."""
    from reportlib.metrics.sla import METRICS

    if METRICS.get(str(metric), ("share", ""))[0] == "share":
        return "share"
    return "seconds" if str(metric).endswith("_s") else "number"


def email_thresholds(source: Any, params: Mapping[str, Any]) -> dict[str, float]:
    """client_id -> its contract's email first-response threshold in business hours (sla.email_thresholds);
    empty when the source has no clients table or the parameters no SLA profiles."""
    from reportlib.metrics import sla

    if not source.has("clients"):
        return {}
    try:
        profiles = sla.profiles_from_params(params)
    except ReportlibError:
        return {}
    return sla.email_thresholds(source.frame("clients"), profiles)


def email_contract(
    contacts: Any, source: Any, params: Mapping[str, Any], *, keys: Sequence[str], start: Any, end: Any
) -> pd.DataFrame:
    """sla.email_contract_counts over `contacts` (a table with the `keys` columns) with each client's
    contract threshold from the source's clients table and parameters (report default otherwise); open
    emails judged as compliance judges them (at the month end, or at the whole source's data_end when
    the data stops before it)."""
    from reportlib.metrics import sla

    return sla.email_contract_counts(
        contacts,
        keys=keys,
        thresholds_h=email_thresholds(source, params),
        default_threshold_h=float(report_settings(params)["email_threshold_h"]),
        start=start,
        end=end,
        calendar=sla.business_calendar(params),
        tz=getattr(source, "tz", None) or params.get("timezone"),
        data_end=data_end(source),
    )


def contact_kpis(
    source: Any,
    params: Mapping[str, Any],
    *,
    grain: str | None = "month",
    by: Sequence[str] = (),
    start: Any = None,
    end: Any = None,
    contacts: Any = None,
    sl_threshold_s: float | None = None,
    sl_definition: str | None = None,
) -> pd.DataFrame:
    """Contact KPIs (metrics.KPI_COLUMNS) as every view shows them: metrics.contact_kpis, and when `by`
    includes channel, email rows carrying first response within each client's contract threshold in
    business hours (the SLA report's figure) with speed of answer and abandon rate empty; when it does not,
    rows that group channels with their service level, speed of answer and abandon rate from phone and chat
    alone (_real_time_service).

    `contacts` narrows the source's contacts table (a filtered ibis table); the source gives the
    agents (for team/site groups), the clients and the time zone. Falls back to interval KPIs when the
    source has no contacts. Shares 0..1, times in seconds.
    """
    from reportlib.metrics import contacts as metrics
    from reportlib.metrics import sla

    ms = MetricSettings.from_params(params)
    th = float(sl_threshold_s) if sl_threshold_s is not None else ms.sl_threshold_s
    sl_def = str(sl_definition or ms.sl_definition)
    by = list(by)
    if contacts is None and not source.has("contacts"):
        if not source.has("intervals"):  # name the table most sources have, and its alternative
            raise MissingTableError(
                f"the data source {source.location} has no contacts table (nor an intervals table, its "
                "alternative); this needs one of them (see docs/data-contract.md)"
            )
        t = source.table("intervals")

        def kpis(table: Any) -> pd.DataFrame:
            return metrics.interval_kpis(
                table, grain=grain, by=by, start=start, end=end, sl_threshold_s=th, sl_definition=sl_def
            )

        k = kpis(t)
        if "channel" not in by:
            return _real_time_service(k, kpis(t.filter(t.channel != "email")), grain, by)
        return without_email_waits(k)
    t = contacts if contacts is not None else source.table("contacts")
    agents = source.table("agents") if any(c in metrics.AGENT_COLUMNS for c in by) and source.has("agents") else None

    def counted(table: Any, with_repeat: bool = True) -> pd.DataFrame:
        return metrics.contact_kpis(
            table,
            grain=grain,
            by=by,
            agents=agents,
            start=start,
            end=end,
            sl_threshold_s=th,
            sl_definition=sl_def,
            short_abandon_s=ms.short_abandon_s,
            with_repeat=with_repeat,
        )

    k = counted(t)
    if "channel" not in by:
        # the real-time pass needs no repeat contacts (its own window query over every contact with a caller)
        return _real_time_service(k, counted(t.filter(t.channel != "email"), with_repeat=False), grain, by)
    if not (k["channel"] == "email").any():
        return k
    e = metrics.resolve_by(t, by, agents)
    if grain is not None:
        e = e.mutate(period=metrics.period_expr(e.arrived_at, grain))
    keys = (["period"] if grain is not None else []) + by
    email = email_contract(e, source, params, keys=keys, start=start, end=end)
    return sla.apply_email_terms(k, email, keys)


# the real-time measures of a contact: judged against seconds of waiting, which email has not (docs/definitions.md)
REAL_TIME_COLUMNS = ("answered_within_threshold", "service_level", "asa_s", "abandon_rate")


def without_email_waits(k: pd.DataFrame) -> pd.DataFrame:
    """Email rows of interval KPIs by channel with speed of answer and abandon rate empty, as contact rows
    have them (phone and chat measures; an interval export's email wait is hours); its own service level kept."""
    k.loc[k["channel"] == "email", ["asa_s", "abandon_rate"]] = float("nan")
    return k


def _real_time_service(k: pd.DataFrame, rt: pd.DataFrame, grain: str | None, by: list[str]) -> pd.DataFrame:
    """Rows that group channels together (no channel in `by`) with their real-time measures (REAL_TIME_COLUMNS)
    from `rt`, the same KPIs over the phone and chat contacts (or intervals) alone: an email waits hours by
    design, so against a threshold in seconds it would count as missed and pull the service level under every
    channel's own, and its wait would make the speed of answer hours. Volumes, handle time, resolution and
    satisfaction stay every channel's. Empty where a row has no real-time contact."""
    keys = (["period"] if grain is not None else []) + by
    cols = list(REAL_TIME_COLUMNS)
    if not keys:  # one row for the whole selection
        out = k.copy()
        for c in cols:
            out[c] = rt[c].iloc[0] if len(rt) else float("nan")
        return out
    merged = k.drop(columns=cols).merge(rt[keys + cols], on=keys, how="left")
    return merged[list(k.columns)]


def channel_history(
    source: Any, params: Mapping[str, Any], first_month: Any, last_month: Any, by: Sequence[str] = ("channel",)
) -> pd.DataFrame:
    """Monthly KPIs (metrics.KPI_COLUMNS) per `by` group (channel by default), month as YYYY-MM.

    Email rows carry first response within each client's contract threshold (see contact_kpis); from an
    interval export, which has no first responses, their speed of answer and abandon rate are empty
    (without_email_waits), as `reportlib kpis --by channel` has them.
    """
    from reportlib.metrics import contacts as metrics
    from reportlib.metrics import sla

    first = pd.Period(str(first_month), freq="M")
    last = pd.Period(str(last_month), freq="M")
    by = tuple(by)
    if "client_id" not in by:
        mine = _one_client(source, lambda p: channel_history(p, params, first, last, ("client_id", *by)))
        if mine is not None:
            return mine

    def compute() -> pd.DataFrame:
        counts = _channel_counts(source, params, first.start_time, (last + 1).start_time, by=by)
        if counts is None or not len(counts):
            return pd.DataFrame(columns=["month", *by, *metrics.KPI_COLUMNS])
        k = metrics.kpis_from_counts(counts, MetricSettings.from_params(params).sl_definition)
        if "channel" in by and source.has("contacts") and (k["channel"] == "email").any():
            t = source.table("contacts")
            t = t.mutate(period=t.arrived_at.truncate("M"))
            email = email_contract(
                t, source, params, keys=["period", *by], start=first.start_time, end=(last + 1).start_time
            )
            k = sla.apply_email_terms(k, email, ["period", *by])
        elif "channel" in by and not source.has("contacts"):  # an interval export's email wait is hours
            k = without_email_waits(k)
        k.insert(0, "month", pd.to_datetime(k.pop("period")).dt.to_period("M").astype(str))
        return k

    return source.memo(("channel_history", str(first), str(last), by, params_key(params)), compute)


def compliance_history(
    source: DataSource, params: Mapping[str, Any], first_month: Any, last_month: Any
) -> pd.DataFrame:
    """Every client's SLA terms for each month first..last (sla.compliance_history; month as YYYY-MM).

    For a client's view of a source, that client's rows. Needs contacts and clients; raises
    UsageError when the contracts in parameters/sla_contracts.yaml are missing or wrong.
    """
    from reportlib.metrics import sla

    first, last = pd.Period(str(first_month), freq="M"), pd.Period(str(last_month), freq="M")
    profiles = sla.profiles_from_params(params)  # raises before any data is read when contracts are missing
    parent, client_id = source.parent, source.client_id
    if parent is not None and client_id is not None:
        try:
            every = compliance_history(parent, params, first, last)
        except UsageError:
            pass  # another client's contract is wrong: judge this client on its own (its own error, if any)
        else:
            return every[every["client_id"].astype(str) == str(client_id)].reset_index(drop=True)
    return source.memo(
        ("compliance_history", str(first), str(last), params_key(params)),
        lambda: sla.compliance_history(
            source.table("contacts"),
            source.frame("clients"),
            profiles,
            str(first),
            str(last),
            calendar=sla.business_calendar(params),
            tz=source.tz,
            data_end=data_end(source),
        ),
    )


def compliance_by_client(compliance: pd.DataFrame) -> pd.DataFrame:
    """Per client from sla.evaluate_compliance rows: terms judged, missed, penalty at risk, worst miss, status;
    the clients with a missed term first, by fee at risk (largest first), then terms missed. Two clients of one
    name are named with their ids ("Twin LLC (X05)"): a probe's two rows "Twin Name LLC", $900 and $0, could not
    be told apart.

    status: 'red' when a term was missed, 'green' when every judged term was met, None when nothing
    could be judged (no volume; its penalty_at_risk is then missing, not 0). worst_term is the missed term with the largest shortfall relative to
    its goal, in words ('phone service level 80% in 30 s: 71.2%').
    """
    cols = [
        "client_id",
        "client_name",
        "sla_profile",
        "terms",
        "judged",
        "missed",
        "penalty_at_risk",
        "worst_term",
        "status",
    ]
    if compliance is None or not len(compliance):
        return pd.DataFrame(columns=cols)
    # grouped aggregates, not a loop over clients (the loop took ~0.4 s per month for 160 clients, and
    # compliance_trend asks for 13 months)
    keys = ["client_id", "client_name", "sla_profile"]
    c = compliance.reset_index(drop=True)
    met = c["met"]
    judged = met.notna().to_numpy()
    missed = judged & (met == False).fillna(False).to_numpy(dtype=bool)  # noqa: E712 - NA-aware compare
    c = c.assign(
        _judged=judged.astype(int),
        _missed=missed.astype(int),
        # missing when a term was missed but the client has no monthly_fee: unknown, not zero
        _penalty=pd.to_numeric(c["penalty_at_risk"], errors="coerce").where(missed),
    )
    per = c.groupby(keys, dropna=False, sort=True).agg(
        terms=("met", "size"), judged=("_judged", "sum"), missed=("_missed", "sum")
    )
    per["penalty_at_risk"] = c.groupby(keys, dropna=False, sort=True)["_penalty"].sum(min_count=1)
    # nothing missed: no fee at risk; nothing judged (no volume on its terms' channels): missing, not $0
    per.loc[(per["missed"] == 0) & (per["judged"] > 0), "penalty_at_risk"] = 0.0
    # the worst miss: the largest shortfall relative to the goal (the first such term on a tie)
    m = c[missed]
    gap = (m["actual"] - m["goal"]).abs() / m["goal"].abs().replace(0, np.nan)
    worst = m.assign(_gap=gap.fillna(0)).sort_values("_gap", ascending=False, kind="stable").drop_duplicates(keys)
    worst = worst.assign(worst_term=[f"{t}: {d}" for t, d in zip(worst["term"], delivered_text(worst))])
    out = per.reset_index().merge(worst[[*keys, "worst_term"]], on=keys, how="left")
    out["worst_term"] = out["worst_term"].astype(object).where(out["worst_term"].notna(), None)
    status = pd.Series(np.where(out["missed"] > 0, "red", "green"), index=out.index, dtype=object)
    out["status"] = status.where(out["judged"] > 0, None)
    out = out[cols].astype({"terms": int, "judged": int, "missed": int, "penalty_at_risk": float})
    out["client_name"] = with_ids_where_twins(out["client_name"], out["client_id"])
    # clients with a miss first, the largest fee at risk first among them (a pack showing 15 rows left out the
    # largest penalty when sorted by terms missed first: a probe), then terms missed, then the name
    out = out.assign(_any=out["missed"] > 0)
    return (
        out.sort_values(
            ["_any", "penalty_at_risk", "missed", "client_name"],
            ascending=[False, False, False, True],
            kind="stable",
            na_position="last",
        )
        .drop(columns="_any")
        .reset_index(drop=True)
    )


def compliance(source: DataSource, params: Mapping[str, Any], month: Any) -> pd.DataFrame:
    """Every client's SLA terms for one month (sla.evaluate_compliance's rows), taken from the 13-month
    compliance_history ending that month, which the SLA report, the monthly pack and the client reviews share."""
    m = pd.Period(str(month), freq="M")
    history = compliance_history(source, params, m - 12, m)
    return history[history["month"] == str(m)].drop(columns="month").reset_index(drop=True)


def compliance_trend(history: pd.DataFrame) -> pd.DataFrame:
    """Per month of compliance_history rows: clients_met (share of clients with a judged term that met
    every term, 0..1), terms_met (share of judged terms met), terms_missed (count), penalty_at_risk
    (currency; missing when no missed term had a fee). Each is missing in a month where no term could be judged.
    Indexed by month (YYYY-MM)."""
    cols = ["clients_met", "terms_met", "terms_missed", "penalty_at_risk"]
    rows = []
    for month, c in history.groupby("month", sort=True) if history is not None and len(history) else []:
        summary = compliance_by_client(c)
        judged = c[c["met"].notna()]
        clients = summary[summary["status"].notna()]
        rows.append(
            {
                "month": month,
                "clients_met": (clients["status"] == "green").mean() if len(clients) else None,
                "terms_met": judged["met"].astype(bool).mean() if len(judged) else None,
                # nothing judged (no volume on any term's channel, or no terms): missing, not "0 missed, $0"
                "terms_missed": float((~judged["met"].astype(bool)).sum()) if len(judged) else None,
                "penalty_at_risk": summary["penalty_at_risk"].sum(min_count=1) if len(judged) else None,
            }
        )
    return pd.DataFrame(rows, columns=["month", *cols]).set_index("month")


def compliance_tiles(trend: pd.DataFrame, month: Any, basis: TotalsBasis) -> list[Tile]:
    """The SLA report's tiles from compliance_trend rows: clients meeting every term and terms met (shares 0..1),
    fees at risk (currency) and terms missed (count), each beside last month and last year.

    `basis` is the month's totals_basis. In a month the data cover in part the terms are judged on the days so
    far: the fees and the missed terms are named "so far" and not set against whole months (a term can still be
    met or missed before the month ends), nor against a month the data cover in part; the shares are compared,
    as the monthly pack compares its rates."""
    m = pd.Period(str(month), freq="M")
    partial = basis.partial

    def at(p: pd.Period, col: str) -> Any:
        return trend.loc[str(p), col] if str(p) in trend.index else None

    def tile(name: str, col: str, unit: str, total: bool = False, **kw: Any) -> Tile:
        return make_tile(
            f"{name} so far" if partial and total else name,
            at(m, col),
            unit,
            prev=at(m - 1, col),
            yoy=at(m - 12, col),
            compare=basis.compare if total else ("prev", "yoy"),
            prev_label=(m - 1).strftime("%b %Y"),
            yoy_label=(m - 12).strftime("%b %Y"),
            key=col,
            note=basis.note if total else None,
            **kw,
        )

    return [
        tile("Clients meeting every term", "clients_met", "share", target=1.0, amber=0.1),
        tile("Contract terms met", "terms_met", "share", target=1.0, amber=0.05),
        tile("Fees at risk from missed terms", "penalty_at_risk", "currency", True, target=0.0, higher_is_better=False),
        tile("Terms missed", "terms_missed", "count", True, target=0, higher_is_better=False),
    ]


def fees_unknown(by_client: pd.DataFrame) -> str | None:
    """The sentence saying which clients' missed terms put a fee at risk that cannot be priced (no monthly_fee in the
    clients table), or None: a probe's client with two missed terms and no fee dropped out of "Fees at risk" and
    the pack's sentence without a word. From compliance_by_client rows (penalty_at_risk missing where a term was
    missed: unknown, not zero)."""
    rows = by_client[(by_client["missed"] > 0) & by_client["penalty_at_risk"].isna()]
    if not len(rows):
        return None
    names = [
        f"{n} ({i})" if isinstance(n, str) and n else str(i) for n, i in zip(rows["client_name"], rows["client_id"])
    ]
    shown = in_words([*names[:5], f"{len(names) - 5} more"] if len(names) > 5 else names)
    return (
        f"The fees at risk leave out {counted(len(rows), 'client')} with a missed term and no monthly_fee in the "
        f"clients table: {shown}."
    )


def compliance_sentence(by_client: pd.DataFrame, coverage: tuple[int, int], currency: str = "$") -> str:
    """One plain sentence on a month's compliance_by_client rows: how many clients with a judged term met every
    term and the fees at risk ("5 of 6 clients with contacts this month met every term of their contract;
    $1,200 of fees is at risk from missed terms."). In a month the data cover in part (`coverage` as in
    compliance_tiles) it says "so far" and on how many open days. When no client had a term that could be
    judged (no contacts on the channels the contracts cover, or contracts without terms) it says so."""
    days, open_days = coverage
    judged = by_client[by_client["status"].notna()]
    met_all = int((judged["status"] == "green").sum())
    at_risk = by_client["penalty_at_risk"].sum(min_count=1)
    when = f"so far this month ({days_with_data(days, open_days)})" if days < open_days else "this month"
    if not len(judged):
        return f"No client had a contract term that could be judged {when}."
    text = f"{met_all} of {len(judged)} clients with contacts {when} met every term of their contract"
    unknown = fees_unknown(by_client)
    if is_missing(at_risk):
        return text + "." + (f" {unknown}" if unknown else "")
    text += f"; {format_value(at_risk, 'currency', currency)} of fees is at risk from missed terms."
    return text + (f" {unknown}" if unknown else "")


def qa_history(qa: pd.DataFrame | None, first_month: Any, last_month: Any, by: Sequence[str] = ()) -> pd.DataFrame:
    """QA per month (and group): evaluations, mean score (0..100) and critical errors."""
    by = list(by)
    cols = ["month", *by, "evaluations", "qa_mean", "critical_errors"]
    if qa is None or not len(qa):
        return pd.DataFrame(columns=cols)
    q = qa.copy()
    q["month"] = pd.to_datetime(q["evaluated_at"]).dt.to_period("M")
    first, last = pd.Period(str(first_month), freq="M"), pd.Period(str(last_month), freq="M")
    q = q[(q["month"] >= first) & (q["month"] <= last)]
    q["critical"] = q["critical_error"].astype("boolean").fillna(False).astype(int)
    out = (
        q.groupby(["month", *by], dropna=False)
        .agg(evaluations=("score", "size"), qa_mean=("score", "mean"), critical_errors=("critical", "sum"))
        .reset_index()
    )
    out["month"] = out["month"].astype(str)
    return out[cols]


WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def intraday_service_level(
    source: DataSource,
    params: Mapping[str, Any],
    start: Any,
    end: Any,
    channels: Sequence[str] = ("phone",),
    minutes: int = 30,
    min_offered: float = 1,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Service level (0..1) and offered by weekday x time of day over [start, end), pooled from counts.

    Returns (service_level, offered) frames indexed Mon..Sun with 'HH:MM' columns; cells with fewer than
    `min_offered` contacts are missing. Works from contacts or 30-minute-compatible intervals.
    """
    from reportlib.metrics import contacts as metrics

    grain = f"{minutes}min"
    th = MetricSettings.from_params(params).sl_threshold_s
    if source.has("contacts"):
        counts = metrics.contact_counts(
            source.table("contacts"),
            grain=grain,
            by=["channel"],
            start=start,
            end=end,
            sl_threshold_s=th,
            short_abandon_s=MetricSettings.from_params(params).short_abandon_s,
            with_repeat=False,
        )
    elif source.has("intervals"):
        counts = metrics.interval_counts(
            source.table("intervals"), grain=grain, by=["channel"], start=start, end=end, sl_threshold_s=th
        )
    else:
        return pd.DataFrame(), pd.DataFrame()
    counts = counts[counts["channel"].isin(list(channels))]
    if not len(counts):
        return pd.DataFrame(), pd.DataFrame()
    p = pd.to_datetime(counts["period"])
    counts = counts.assign(weekday=p.dt.weekday, time=p.dt.strftime("%H:%M"))
    roll = metrics.rollup_counts(counts, ["weekday", "time"])
    roll["service_level"] = metrics.service_level_from_counts(roll, MetricSettings.from_params(params).sl_definition)
    roll.loc[~(roll["offered"] >= min_offered), "service_level"] = np.nan
    sl = roll.pivot(index="weekday", columns="time", values="service_level").sort_index()
    offered = roll.pivot(index="weekday", columns="time", values="offered").sort_index()
    sl.index = [WEEKDAYS[i] for i in sl.index]
    offered.index = [WEEKDAYS[i] for i in offered.index]
    keep = offered.columns[(offered.fillna(0) >= min_offered).any(axis=0)]
    return sl[keep], offered[keep]


def _reason_counts(source: DataSource, start: pd.Timestamp, end: pd.Timestamp, by: tuple[str, ...]) -> pd.DataFrame:
    """Contacts per `by` group and reason arriving in [start, end), from the engine (remembered on the source)."""

    def compute() -> pd.DataFrame:
        t = source.table("contacts")
        t = t.filter((t.arrived_at >= start) & (t.arrived_at < end))
        return t.group_by([*by, "reason"]).aggregate(contacts=t.count()).to_pandas()

    return source.memo(("reason_counts", start, end, by), compute)


AGENT_MARK = "[agent]"  # an agent's name or id in a reason a client reads


def contact_reasons(source: DataSource, start: Any, end: Any, *, without_people: bool = False) -> pd.Series:
    """Contacts per reason arriving in [start, end), most frequent first (missing reasons as '(not given)').

    `without_people` (a client's review and workbook): every roster name and id in a reason (free text from the
    export, "Callback promised by Gary Rivera (A0064)") replaced by "[agent]" (`redaction.Redactor`: full names,
    ids and the initial forms; not a lone word of a name, which a reason in sentence case starts with: "Grace
    period extension"), reasons that then read alike counted together: a probe found agents' names in a client's
    chart and workbook."""
    if not source.has("contacts"):
        return pd.Series(dtype="float64")
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    df = _one_client(source, lambda p: _reason_counts(p, start, end, ("client_id",)))
    if df is None:
        df = _reason_counts(source, start, end, ())
    if not len(df) or df["reason"].isna().all():
        return pd.Series(dtype="float64")
    df["reason"] = df["reason"].fillna("(not given)")
    if without_people and source.has("agents"):
        from reportlib.reports.redaction import Redactor, roster_terms

        redact = Redactor((), roster_terms(source.frame("agents")), mark=AGENT_MARK, lone_words=False)
        df["reason"] = df["reason"].map(redact)
        df = df.groupby("reason", as_index=False)["contacts"].sum()
    df = df.sort_values(["contacts", "reason"], ascending=[False, True], kind="stable")
    return df.set_index("reason")["contacts"].astype("float64")
