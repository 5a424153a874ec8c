"""Contact KPIs exactly as docs/definitions.md#contact-kpis defines them, aggregated inside the engine (DuckDB through ibis).

Two steps, so that every figure is volume-weighted from counts and never an average of percentages:

1. `contact_counts` / `interval_counts` run one grouped aggregation in the engine (plus, when
   caller ids are present, one narrow window query for repeat contacts) and bring back only the
   sums (numerators and denominators) per period and group: a small pandas frame.
2. `kpis_from_counts` turns those sums into the published metrics (shares 0..1, times in seconds).
   A zero denominator gives a missing value (NaN), never a division error. Counts can be re-added
   at a coarser grain with `rollup_counts` before step 2 and the result is still exact.

Definitions (docs/definitions.md#contact-kpis):

- short abandon: outcome 'abandoned' with wait_s < short_abandon_s; excluded from offered and abandoned.
- offered: contacts that entered the queue, minus short abandons. Open contacts (email not yet
  answered) ARE offered: they entered the queue.
- "within T" means wait_s <= T.
- service level by definition (`sl_definition`):
    offered                answered within T / offered
    answered               answered within T / answered
    abandons_excluded      answered within T / (answered + abandoned after T)
    abandons_within_t_met  (answered within T + abandoned within T) / offered
  An abandoned contact without a wait_s (the contract requires one) counts as abandoned after T.
- asa_s: wait_s of answered contacts / answered. aht_s: handle_s of handled / handled
  (contacts with the value missing are left out of both sums).
- abandon_rate: abandoned / offered.
- fcr: resolved_first_contact true / handled contacts with a known value.
- fcr_repeat: handled contacts with a caller_id and no further contact from the same caller about
  the same reason within `repeat_window_days` (7, inclusive) / handled contacts with a caller_id.
  "Same reason" compares the reason column with a missing reason as its own value (so with no
  reasons at all it is caller alone). Any later contact counts (any channel or outcome); two
  contacts at the very same time are repeats of each other. The look-ahead sees contacts after
  `end`, so a January 30 contact repeated on February 2 is a repeat; contacts in the last 7 days of
  the data cannot yet show a repeat (right-censored) and read as resolved.
- csat_top2: share of responses 4 or 5; csat_mean; csat_responses (any contact with a csat value).
- escalation_rate, transfer_rate: true / handled contacts with a known value.

Email rows of every report, explore and `reportlib kpis --by channel` are replaced by the contract
measure (`reportlib.reports.queries.contact_kpis` with `reportlib.metrics.sla.email_contract_counts`): first
response within each client's contract threshold in business hours; speed of answer and abandon
rate are left empty for email. This module's own `contact_kpis` (no parameters) uses wait_s (time to first response, in wall-clock seconds) against the same
threshold as the other channels; an open email is offered and not answered, so it counts as missed
under `offered`. The contractual email measure, first response within N BUSINESS hours with open
emails past N counted as missed, is `reportlib.metrics.sla.email_first_response`.

Time buckets use the naive local wall-clock time in `arrived_at` (the loader converts offsets to the
configured zone), so months, days and intervals follow local calendars across DST: on the
fall-back day the repeated hour's contacts share the wall-clock intervals 01:00-01:59, on the
spring-forward day there are no 02:xx intervals. Weeks start on Monday; `period` is the start of
the bucket.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from reportlib.core.errors import MissingTableError, UsageError
from reportlib.core.names import GRAINS, SL_DEFINITIONS
from reportlib.core.words import in_words
from reportlib.data.contract import engine_types
from reportlib.data.source import DataSource

AGENT_COLUMNS = ("team", "site", "supervisor", "role")

KPI_COLUMNS = [
    "offered",
    "handled",
    "abandoned",
    "short_abandoned",
    "answered_within_threshold",
    "service_level",
    "asa_s",
    "abandon_rate",
    "aht_s",
    "fcr",
    "fcr_repeat",
    "csat_top2",
    "csat_mean",
    "csat_responses",
    "escalation_rate",
    "transfer_rate",
]

# The sums `kpis_from_counts` needs; `contact_counts` and `interval_counts` return these columns.
COUNT_COLUMNS = [
    "contacts",
    "short_abandoned",
    "offered",
    "handled",
    "abandoned",
    "answered_within_threshold",
    "abandoned_within_threshold",
    "abandoned_after_threshold",
    "wait_answered_s",
    "wait_answered_n",
    "handle_s_sum",
    "handle_n",
    "fcr_yes",
    "fcr_known",
    "fcr_repeat_ok",
    "fcr_repeat_known",
    "csat_top2_n",
    "csat_sum",
    "csat_responses",
    "escalated_n",
    "escalation_known",
    "transferred_n",
    "transfer_known",
]

# --- helpers ---------------------------------------------------------------------------------------


def as_table(data: ir.Table | pd.DataFrame) -> ir.Table:
    """An ibis table from an ibis table or a pandas frame (memtable, executed by DuckDB)."""
    if isinstance(data, pd.DataFrame):
        return ibis.memtable(data)
    return data


def with_optional(t: ir.Table, table: str) -> ir.Table:
    """Add any absent optional column of contract table `table` as a typed all-null column, so old exports work."""
    missing = {name: ibis.null().cast(dtype) for name, dtype in engine_types(table).items() if name not in t.columns}
    return t.mutate(**missing) if missing else t


def caller_wait_total(t: ir.Table) -> ir.FloatingScalar:
    """Seconds every caller of an intervals table waited, answered and abandoned, summed over the rows
    aggregated: wait_s_total (answered contacts' wait, the ASA numerator) + abandon_wait_s_total.

    This is the exposure of the patience estimate (planning.staffing.estimate_patience). Null unless
    every row has both columns: from the answered contacts' wait alone patience would come out too short
    (abandoners' waiting left out) and Erlang A would expect more abandons than the callers make. `t`
    has the intervals contract's columns (a source's intervals table has them all, null where absent).
    """
    both = t.wait_s_total + t.abandon_wait_s_total
    return ibis.ifelse(both.count() == t.count(), both.sum(), ibis.null().cast("float64"))


def check_grain(grain: str | None) -> None:
    """Raise UsageError unless grain is one of GRAINS or None."""
    if grain is not None and grain not in GRAINS:
        raise UsageError(f"grain must be one of {', '.join(GRAINS)} or None, got {grain!r}")


def check_sl_definition(sl_definition: str) -> None:
    """Raise UsageError unless sl_definition is one of SL_DEFINITIONS."""
    if sl_definition not in SL_DEFINITIONS:
        raise UsageError(f"sl_definition must be one of {', '.join(SL_DEFINITIONS)}, got {sl_definition!r}")


def check_seconds(name: str, value: object) -> None:
    """Raise UsageError unless `value` is a finite number of seconds >= 0 (a threshold or a short-abandon
    cut-off: a negative one counts nothing as within it, NaN or infinity everything)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and float(value) >= 0
    if not ok:
        raise UsageError(f"{name} must be a number of seconds >= 0, got {value!r}")


def minute_bucket(ts: ir.TimestampValue, minutes: int) -> ir.TimestampValue:
    """The start of the local wall-clock interval of `minutes` (a divisor of a day: 15, 30, 60...) holding ts.

    Portable ibis (the day's start plus whole minutes), so it runs on DuckDB, PostgreSQL and Spark
    alike; ibis has no Spark rule for `bucket`. Intervals are counted from local midnight.
    """
    if minutes <= 0 or 1440 % minutes:
        raise UsageError(f"interval minutes must divide a day (15, 30, 60), got {minutes}")
    if minutes == 1440:
        return ts.truncate("D")
    of_day = ts.hour().cast("int64") * 60 + ts.minute().cast("int64")
    return ts.truncate("D") + ((of_day // minutes) * minutes).cast("int32").as_interval("m")


def period_expr(ts: ir.TimestampValue, grain: str) -> ir.TimestampValue:
    """The start of the local wall-clock bucket holding ts (weeks start Monday)."""
    check_grain(grain)
    if grain == "15min":
        return minute_bucket(ts, 15)
    if grain == "30min":
        return minute_bucket(ts, 30)
    return ts.truncate({"day": "D", "week": "W", "month": "M"}[grain])


def ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den as float, NaN where den is 0 or missing (no division warning)."""
    n = pd.to_numeric(num, errors="coerce").astype("float64").to_numpy()
    d = pd.to_numeric(den, errors="coerce").astype("float64").to_numpy()
    out = np.full(len(n), np.nan)
    ok = np.isfinite(d) & (d != 0)
    out[ok] = n[ok] / d[ok]
    return pd.Series(out, index=num.index)


def _resolve_by(t: ir.Table, by: Sequence[str], agents: ir.Table | pd.DataFrame | None) -> ir.Table:
    """Join the agent attributes needed for `by` (team, site, supervisor, role) on agent_id."""
    by = list(by)
    need = [c for c in by if c in AGENT_COLUMNS and c not in t.columns]
    if need:
        if agents is None:
            raise MissingTableError(f"grouping by {', '.join(need)} needs the agents table (joined on agent_id)")
        a = as_table(agents)
        absent = [c for c in need if c not in a.columns]
        if absent:
            raise UsageError(f"the agents table has no column {', '.join(absent)}")
        # one row per agent_id (the contract makes it unique); min() not distinct(on=): PostgreSQL has no FIRST()
        a = a.group_by("agent_id").aggregate(**{c: a[c].min() for c in need})
        t = t.left_join(a, "agent_id").select(*t.columns, *need)
    unknown = [c for c in by if c not in t.columns]
    if unknown:
        raise UsageError(
            f"cannot group by {', '.join(unknown)}: use columns of the table or {', '.join(AGENT_COLUMNS)}"
        )
    return t


def resolve_by(
    t: ir.Table | pd.DataFrame, by: Sequence[str], agents: ir.Table | pd.DataFrame | None = None
) -> ir.Table:
    """The contacts table with the agent attributes in `by` (team, site, supervisor, role) joined on agent_id."""
    return _resolve_by(with_optional(as_table(t), "contacts"), by, agents)


def fetch(expr: ir.Table) -> pd.DataFrame:
    """Run an aggregate in the engine and bring it back as pandas through Arrow (nulls -> NaN/None)."""
    return expr.to_pyarrow().to_pandas()


def _any_row(expr: ir.Table) -> bool:
    """Whether the table has at least one row (stops at the first)."""
    return len(expr.select(_one=ibis.literal(1)).limit(1).to_pyarrow()) > 0


def _finish(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sort by the keys, reset the index."""
    if keys and len(df):
        df = df.sort_values(keys, na_position="last", kind="stable")
    return df.reset_index(drop=True)


# --- contacts --------------------------------------------------------------------------------------


def _iter_unique(values: Sequence[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def _repeat_counts(
    t: ir.Table,
    *,
    keys: list[str],
    by: list[str],
    agents: ir.Table | pd.DataFrame | None,
    grain: str | None,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    days: float,
) -> pd.DataFrame:
    """Per group, handled contacts with a caller that were followed by a repeat contact (`_repeats`).

    A repeat: another contact from the same caller about the same reason at the same time or up to
    `days` later. One sorted window over the contacts with a caller (a narrow query of its own, so
    the main aggregation does not carry every column through the sort): lead() finds the next
    contact, lag() a contact at the very same time (ties are repeats of each other, which keeps the
    result independent of the order of tied rows). The window sees `days` past `end`. Grouped by
    client_id, the window runs within each client, so a client's figures depend on its contacts alone
    (the same as over that client's data by itself).
    """
    w = t.filter(t.caller_id.notnull())
    if start is not None:
        w = w.filter(w.arrived_at >= start)
    if end is not None:
        w = w.filter(w.arrived_at < end + pd.Timedelta(days=days))
    within = [w.client_id] if "client_id" in by and "client_id" in w.columns else []
    spec = ibis.window(group_by=[w.caller_id, w.reason.fill_null("\u2400"), *within], order_by=[w.arrived_at])
    nxt = w.arrived_at.lead().over(spec)
    prev = w.arrived_at.lag().over(spec)
    limit = ibis.interval(seconds=int(round(days * 86400)))
    payload = _iter_unique([c for c in [*by, "agent_id", "arrived_at", "outcome"] if c in t.columns])
    flagged = w.select(
        *payload,
        _repeat=(nxt <= w.arrived_at + limit).fill_null(False) | (prev == w.arrived_at).fill_null(False),
    )
    r = flagged.filter(flagged._repeat & (flagged.outcome == "handled").fill_null(False))
    if start is not None:
        r = r.filter(r.arrived_at >= start)
    if end is not None:
        r = r.filter(r.arrived_at < end)
    r = _resolve_by(r, by, agents)
    if grain is not None:
        r = r.mutate(period=period_expr(r.arrived_at, grain))
    expr = r.group_by(keys).aggregate(_repeats=r.count()) if keys else r.aggregate(_repeats=r.count())
    return fetch(expr)


def contact_counts(
    contacts: ir.Table | pd.DataFrame,
    *,
    grain: str | None = "month",
    by: Sequence[str] = (),
    agents: ir.Table | pd.DataFrame | None = None,
    start: object = None,
    end: object = None,
    sl_threshold_s: float = 30,
    short_abandon_s: float = 5,
    repeat_window_days: float = 7,
    with_repeat: bool = True,
) -> pd.DataFrame:
    """Per period and group, the sums behind every KPI (counts, seconds), computed in the engine.

    start/end (local naive timestamps, end exclusive) restrict the contacts counted by arrived_at;
    the repeat-contact look-ahead still sees contacts up to `repeat_window_days` after end.
    with_repeat=False skips the repeat-contact window when not needed (fcr_repeat is then missing).
    """
    check_grain(grain)
    check_seconds("sl_threshold_s", sl_threshold_s)
    check_seconds("short_abandon_s", short_abandon_s)
    by = list(by)
    t = with_optional(as_table(contacts), "contacts")
    start = pd.Timestamp(start) if start is not None else None
    end = pd.Timestamp(end) if end is not None else None

    keys = ["period", *by] if grain is not None else list(by)
    repeats = None
    if with_repeat and _any_row(t.filter(t.caller_id.notnull())):
        repeats = _repeat_counts(
            t, keys=keys, by=by, agents=agents, grain=grain, start=start, end=end, days=repeat_window_days
        )

    if start is not None:
        t = t.filter(t.arrived_at >= start)
    if end is not None:
        t = t.filter(t.arrived_at < end)
    t = _resolve_by(t, by, agents)
    if grain is not None:
        t = t.mutate(period=period_expr(t.arrived_at, grain))

    is_handled = (t.outcome == "handled").fill_null(False)
    is_abandon_any = (t.outcome == "abandoned").fill_null(False)
    is_short = is_abandon_any & (t.wait_s < short_abandon_s).fill_null(False)
    is_abandon = is_abandon_any & ~is_short
    within = (t.wait_s <= sl_threshold_s).fill_null(False)
    has_caller = t.caller_id.notnull()

    def n(cond: ir.BooleanValue) -> ir.IntegerScalar:
        return cond.ifelse(1, 0).sum()  # CAST(boolean AS bigint) is not portable (PostgreSQL refuses it)

    aggs = dict(
        contacts=t.count(),
        short_abandoned=n(is_short),
        handled=n(is_handled),
        abandoned=n(is_abandon),
        answered_within_threshold=n(is_handled & within),
        abandoned_within_threshold=n(is_abandon & within),
        wait_answered_s=t.wait_s.sum(where=is_handled),
        wait_answered_n=n(is_handled & t.wait_s.notnull()),
        handle_s_sum=t.handle_s.sum(where=is_handled),
        handle_n=n(is_handled & t.handle_s.notnull()),
        fcr_yes=n(is_handled & t.resolved_first_contact.fill_null(False)),
        fcr_known=n(is_handled & t.resolved_first_contact.notnull()),
        fcr_repeat_known=n(is_handled & has_caller),
        csat_top2_n=n((t.csat >= 4).fill_null(False)),
        csat_sum=t.csat.sum(),
        csat_responses=t.csat.count(),
        escalated_n=n(is_handled & t.escalated.fill_null(False)),
        escalation_known=n(is_handled & t.escalated.notnull()),
        transferred_n=n(is_handled & t.transferred.fill_null(False)),
        transfer_known=n(is_handled & t.transferred.notnull()),
    )
    expr = t.group_by(keys).aggregate(**aggs) if keys else t.aggregate(**aggs)
    df = fetch(expr)
    if df.empty and not keys:
        df = pd.DataFrame([{k: 0 for k in aggs}])
    for c in aggs:
        v = pd.to_numeric(df[c], errors="coerce").astype("float64").fillna(0.0)
        df[c] = v if c in ("wait_answered_s", "handle_s_sum", "csat_sum") else v.astype("int64")
    if repeats is None:
        df["fcr_repeat_ok"] = df["fcr_repeat_known"]  # no caller ids (or not asked): no repeats seen
        if not with_repeat:
            df["fcr_repeat_ok"] = df["fcr_repeat_known"] = 0  # not computed: missing, not 100%
    else:
        if keys:
            got = df[keys].merge(repeats, on=keys, how="left")["_repeats"]
        else:
            got = pd.Series([repeats["_repeats"].iloc[0] if len(repeats) else 0] * len(df))
        got = pd.to_numeric(got, errors="coerce").fillna(0).astype("int64").to_numpy()
        df["fcr_repeat_ok"] = df["fcr_repeat_known"].to_numpy() - got
    df["offered"] = df["contacts"] - df["short_abandoned"]
    df["abandoned_after_threshold"] = df["abandoned"] - df["abandoned_within_threshold"]
    if grain is not None and "period" in df:
        df["period"] = pd.to_datetime(df["period"])
    return _finish(df[keys + COUNT_COLUMNS], keys)


def service_level_from_counts(counts: pd.DataFrame, sl_definition: str = "offered") -> pd.Series:
    """Service level (share 0..1) from count columns under one of SL_DEFINITIONS; NaN when no denominator."""
    check_sl_definition(sl_definition)
    awt = counts["answered_within_threshold"]
    if sl_definition == "offered":
        return ratio(awt, counts["offered"])
    if sl_definition == "answered":
        return ratio(awt, counts["handled"])
    if sl_definition == "abandons_excluded":
        return ratio(awt, counts["handled"] + counts["abandoned_after_threshold"])
    return ratio(awt + counts["abandoned_within_threshold"], counts["offered"])


def kpis_from_counts(counts: pd.DataFrame, sl_definition: str = "offered") -> pd.DataFrame:
    """The KPI_COLUMNS (shares 0..1, seconds) from the sums of contact_counts/interval_counts, keys kept."""
    keys = [c for c in counts.columns if c not in COUNT_COLUMNS]
    out = counts[keys].copy()
    for c in ("offered", "handled", "abandoned", "short_abandoned", "answered_within_threshold"):
        out[c] = counts[c]
    out["service_level"] = service_level_from_counts(counts, sl_definition)
    out["asa_s"] = ratio(counts["wait_answered_s"], counts["wait_answered_n"])
    out["abandon_rate"] = ratio(counts["abandoned"], counts["offered"])
    out["aht_s"] = ratio(counts["handle_s_sum"], counts["handle_n"])
    out["fcr"] = ratio(counts["fcr_yes"], counts["fcr_known"])
    out["fcr_repeat"] = ratio(counts["fcr_repeat_ok"], counts["fcr_repeat_known"])
    out["csat_top2"] = ratio(counts["csat_top2_n"], counts["csat_responses"])
    out["csat_mean"] = ratio(counts["csat_sum"], counts["csat_responses"])
    out["csat_responses"] = counts["csat_responses"]
    out["escalation_rate"] = ratio(counts["escalated_n"], counts["escalation_known"])
    out["transfer_rate"] = ratio(counts["transferred_n"], counts["transfer_known"])
    return out[keys + KPI_COLUMNS]


def change_by_part(
    weight_before: pd.Series, value_before: pd.Series, weight_now: pd.Series, value_now: pd.Series
) -> pd.Series:
    """Each part's contribution to the change of a weighted mean from one period to the next, in the metric's unit.

    The total of a period is V = sum_i w_i v_i, with w_i the part's weight (counts, as given, made shares of the
    parts that have a value that period) and v_i its value (a share 0..1 or seconds). The symmetric shift-share
    split (Bennet's decomposition; e.g. Kitagawa 1955 for rates) gives part i

        c_i = mean(w_i) * (v_i,now - v_i,before) + (w_i,now - w_i,before) * (mean(v_i) - mean(V))

    (means over the two periods): its own move, weighted by its average share, plus its share's move, counted by
    how far its value sits from the total's (a part that gains share at a below-total value pulls the total down,
    whatever its own move). The c_i add up to V_now - V_before exactly, since the shares' moves add up to 0. A
    part with a value in one period only moves by its share at that value; its own move is 0. Index: the parts
    with a value in either period (pure arithmetic, no I/O)."""

    def shares(w: pd.Series, v: pd.Series) -> tuple[pd.Series, pd.Series]:
        v = v.dropna()
        w = w.reindex(v.index).fillna(0.0)
        return (w / w.sum() if w.sum() > 0 else w * 0.0), v

    wb, vb = shares(weight_before, value_before)
    wn, vn = shares(weight_now, value_now)
    parts = vb.index.union(vn.index)
    wb, wn = wb.reindex(parts).fillna(0.0), wn.reindex(parts).fillna(0.0)
    total = ((wb * vb).sum() + (wn * vn).sum()) / 2
    vb_, vn_ = vb.reindex(parts), vn.reindex(parts)
    v_mean = pd.concat([vb_, vn_], axis=1).mean(axis=1)  # one period's value where the other has none
    own = ((wb + wn) / 2 * (vn_ - vb_)).fillna(0.0)
    return own + (wn - wb) * (v_mean - total)


# Counts whose rate is taken over every offered contact (service_level_from_counts): a part that has offered
# contacts and no such count (an interval export's chat counted at 60 s when 30 s is asked) makes the sum
# unknown, not the other parts' alone: over all parts' offered it read as a low service level.
OFFERED_RATE_COLUMNS = ("answered_within_threshold", "abandoned_within_threshold", "abandoned_after_threshold")


def rollup_counts(counts: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Re-add count columns to a coarser grouping (exact, volume-weighted); NaN stays NaN (min_count), and an
    OFFERED_RATE_COLUMNS sum is NaN when a part with offered contacts lacks it (a partial sum is never passed
    off as a total, as in interval_counts)."""
    by = list(by)
    cols = [c for c in COUNT_COLUMNS if c in counts.columns]
    offered = counts["offered"].fillna(0) > 0 if "offered" in counts.columns else pd.Series(False, index=counts.index)
    unknown = pd.DataFrame({c: counts[c].isna() & offered for c in OFFERED_RATE_COLUMNS if c in cols})
    if not by:
        out = counts[cols].sum(min_count=1).to_frame().T.reset_index(drop=True)
        for c in unknown.columns:
            if unknown[c].any():
                out[c] = np.nan
        return out
    # observed=False: a categorical key keeps its every category, as before pandas changes the default
    out = counts.groupby(by, dropna=False, sort=True, observed=False)[cols].sum(min_count=1)
    if len(unknown.columns):
        lost = unknown.groupby([counts[k] for k in by], dropna=False, sort=True, observed=False).any()
        cond = lost.reindex(out.index, fill_value=False).to_numpy(dtype=bool)  # (categorical keys: plain booleans)
        out[list(unknown.columns)] = out[list(unknown.columns)].mask(cond)
    return out.reset_index()


def contact_kpis(
    contacts: ir.Table | pd.DataFrame,
    *,
    grain: str | None = "month",
    by: Sequence[str] = (),
    agents: ir.Table | pd.DataFrame | None = None,
    start: object = None,
    end: object = None,
    sl_threshold_s: float = 30,
    sl_definition: str = "offered",
    short_abandon_s: float = 5,
    repeat_window_days: float = 7,
    with_repeat: bool = True,
) -> pd.DataFrame:
    """Contact KPIs per period (when grain) and `by` groups: counts, shares 0..1, times in seconds.

    Aggregated in the engine; see the module docstring for every definition. `with_repeat=False` leaves
    fcr_repeat out (NaN) and its window query unrun, as contact_counts does.
    """
    check_sl_definition(sl_definition)
    counts = contact_counts(
        contacts,
        grain=grain,
        by=by,
        agents=agents,
        start=start,
        end=end,
        sl_threshold_s=sl_threshold_s,
        short_abandon_s=short_abandon_s,
        repeat_window_days=repeat_window_days,
        with_repeat=with_repeat,
    )
    return kpis_from_counts(counts, sl_definition)


NO_AGENT = "(no agent)"  # the group of contacts no agent handled, when grouping by an agent's attribute
QUEUE_MEASURES = ("abandoned", "short_abandoned", "service_level", "abandon_rate")  # the queue's, not an agent's


def by_agent_attribute(frame: pd.DataFrame, by: Sequence[str]) -> tuple[pd.DataFrame, str | None]:
    """KPIs grouped by an attribute of the handling agent (team, site, supervisor, role), as a reader can take
    them: (frame, a sentence saying how), or (frame, None) when `by` names no such attribute.

    A contact is in an agent's group only when an agent handled it: abandoned and unanswered contacts have no
    agent, so every team showed 0 abandoned, an abandon rate of 0 and a service level of answered contacts
    (79.5-83.2% where the operation's was 68.8%), and all 8,999 abandons sat in a row with an empty team (a
    probe of `kpis --by team`). In the agents' groups the queue's measures (QUEUE_MEASURES) are left empty; the
    contacts no agent handled are the row NO_AGENT, with their counts and no rates."""
    attrs = [c for c in by if c in AGENT_COLUMNS]
    if not attrs or frame.empty:
        return frame, None
    out = frame.copy()
    nobody = out[attrs].isna().all(axis=1).to_numpy()
    rates = ["service_level", "asa_s", "abandon_rate", "aht_s", "fcr", "fcr_repeat", "csat_top2", "csat_mean"]
    out.loc[~nobody, [c for c in QUEUE_MEASURES if c in out]] = np.nan
    out.loc[nobody, [c for c in rates if c in out]] = np.nan
    for col in attrs:
        out[col] = out[col].astype(object).where(~nobody, NO_AGENT)
    named = in_words(attrs)
    note = (
        f"by {named}, a row counts the contacts its agents handled: {in_words(QUEUE_MEASURES)} are the queue's, "
        f"not a {attrs[0]}'s, and are left empty there; the contacts no agent handled (abandoned or unanswered) are "
        f'the row "{NO_AGENT}"; the operation\'s own figures: kpis without --by or --by channel'
    )
    return out, note


# --- intervals -------------------------------------------------------------------------------------


def interval_counts(
    intervals: ir.Table | pd.DataFrame,
    *,
    grain: str | None = "month",
    by: Sequence[str] = (),
    start: object = None,
    end: object = None,
    sl_threshold_s: float = 30,
) -> pd.DataFrame:
    """The count columns of contact_counts from an interval export; what it cannot give is NaN.

    offered is taken as exported (whether the telephony system already removed short abandons is
    its own convention; short_abandoned is unknown, NaN). A group's handled, abandoned,
    answered_within_threshold, waits and handle times are NaN unless every interval in it has the
    value (and, for answered_within_threshold, was exported at threshold_s == sl_threshold_s), so a
    partial sum is never passed off as a total. Abandons split by T, FCR, CSAT, escalations and
    transfers are not in interval exports: NaN. An interval belongs to the period holding its start;
    a 15/30-minute grain needs intervals that divide it.
    """
    check_grain(grain)
    check_seconds("sl_threshold_s", sl_threshold_s)
    by = list(by)
    t = with_optional(as_table(intervals), "intervals")
    bad = [c for c in by if c not in ("channel", "queue", "client_id")]
    if bad:
        raise UsageError(
            f"interval data cannot be grouped by {', '.join(bad)} (only channel, queue, client_id); "
            "agent-level figures need the contacts table"
        )
    if start is not None:
        t = t.filter(t.interval_start >= pd.Timestamp(start))
    if end is not None:
        t = t.filter(t.interval_start < pd.Timestamp(end))
    keys = list(by)
    if grain is not None:
        if grain in ("15min", "30min"):
            minutes = int(grain[:2])
            sizes = t.select(m=t.interval_minutes.fill_null(0).cast("int64")).distinct().to_pandas()
            sizes = sorted(int(v) for v in sizes["m"])
            wrong = [m for m in sizes if m <= 0 or minutes % m]
            if wrong:
                raise UsageError(
                    f"{grain} periods need intervals that divide {minutes} minutes; found {wrong}-minute intervals"
                )
        t = t.mutate(period=period_expr(t.interval_start, grain))
        keys = ["period", *by]

    at_t = (t.threshold_s == float(sl_threshold_s)).fill_null(False) & t.answered_within_threshold.notnull()
    aggs = dict(
        _rows=t.count(),
        offered=t.offered.sum(),
        _offered_n=t.offered.count(),
        handled=t.handled.sum(),
        _handled_n=t.handled.count(),
        abandoned=t.abandoned.sum(),
        _abandoned_n=t.abandoned.count(),
        answered_within_threshold=t.answered_within_threshold.sum(where=at_t),
        _awt_n=at_t.ifelse(1, 0).sum(),
        wait_answered_s=t.wait_s_total.sum(),
        _wait_n=t.wait_s_total.count(),
        handle_s_sum=t.handle_s_total.sum(),
        _handle_n=t.handle_s_total.count(),
    )
    expr = t.group_by(keys).aggregate(**aggs) if keys else t.aggregate(**aggs)
    df = fetch(expr)
    rows = df["_rows"].astype("float64")

    def only_complete(col: str, n: str) -> pd.Series:
        v = df[col].astype("float64")
        return v.where(df[n].astype("float64") == rows)

    out = df[keys].copy()
    out["contacts"] = np.nan
    out["short_abandoned"] = np.nan
    out["offered"] = only_complete("offered", "_offered_n")
    out["handled"] = only_complete("handled", "_handled_n")
    out["abandoned"] = only_complete("abandoned", "_abandoned_n")
    out["answered_within_threshold"] = only_complete("answered_within_threshold", "_awt_n")
    out["abandoned_within_threshold"] = np.nan
    out["abandoned_after_threshold"] = np.nan
    out["wait_answered_s"] = only_complete("wait_answered_s", "_wait_n")
    out["wait_answered_n"] = out["handled"].where(out["wait_answered_s"].notna())
    out["handle_s_sum"] = only_complete("handle_s_sum", "_handle_n")
    out["handle_n"] = out["handled"].where(out["handle_s_sum"].notna())
    for c in COUNT_COLUMNS:
        if c not in out:
            out[c] = np.nan
    if grain is not None:
        out["period"] = pd.to_datetime(out["period"])
    return _finish(out[keys + COUNT_COLUMNS], keys)


def interval_kpis(
    intervals: ir.Table | pd.DataFrame,
    *,
    grain: str | None = "month",
    by: Sequence[str] = (),
    start: object = None,
    end: object = None,
    sl_threshold_s: float = 30,
    sl_definition: str = "offered",
    short_abandon_s: float = 5,
) -> pd.DataFrame:
    """The contact_kpis columns from an interval export; figures the export cannot give are NaN.

    short_abandon_s is accepted for a uniform call but cannot apply (intervals carry no waits per
    contact); service level under abandons_excluded / abandons_within_t_met needs abandons split at T
    and is NaN.
    """
    check_sl_definition(sl_definition)
    counts = interval_counts(intervals, grain=grain, by=by, start=start, end=end, sl_threshold_s=sl_threshold_s)
    return kpis_from_counts(counts, sl_definition)


def kpis_for_source(
    source: DataSource,
    *,
    grain: str | None = "month",
    by: Sequence[str] = (),
    start: object = None,
    end: object = None,
    sl_threshold_s: float = 30,
    sl_definition: str = "offered",
    short_abandon_s: float = 5,
) -> pd.DataFrame:
    """KPIs from a reportlib.data.load.Source: contacts when present (agents joined if needed), else intervals."""
    if source.has("contacts"):
        agents = None
        if any(c in AGENT_COLUMNS for c in by):
            source.require("agents")
            agents = source.table("agents")
        return contact_kpis(
            source.table("contacts"),
            grain=grain,
            by=by,
            agents=agents,
            start=start,
            end=end,
            sl_threshold_s=sl_threshold_s,
            sl_definition=sl_definition,
            short_abandon_s=short_abandon_s,
        )
    if source.has("intervals"):
        return interval_kpis(
            source.table("intervals"),
            grain=grain,
            by=by,
            start=start,
            end=end,
            sl_threshold_s=sl_threshold_s,
            sl_definition=sl_definition,
        )
    raise MissingTableError("KPIs need a contacts table or, failing that, an intervals table")


def kpi_columns_missing_from_intervals() -> list[str]:
    """The KPI names an interval export can never give (reports say so in their data note)."""
    return [
        "short_abandoned",
        "fcr",
        "fcr_repeat",
        "csat_top2",
        "csat_mean",
        "csat_responses",
        "escalation_rate",
        "transfer_rate",
    ]
