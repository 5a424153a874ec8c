"""What time a source's data covers: its first and last contact (or interval), for the whole source and per client.

One declaration for every layer: the reports (the month's coverage, the default month, the run facts), the
plan-vs-actual comparison (planning.variance: the plan is compared over the time the data covers) and the
email rule (the data's end is when open emails are judged).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd

from reportlib.data.source import DataSource


def whole_source(source: Any) -> Any:
    """The whole source a client's view narrows (`source.parent`, up to the top), else `source` itself."""
    while getattr(source, "parent", None) is not None:
        source = source.parent
    return source


def data_range(source: DataSource) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """(first, last) arrival in contacts, else interval start in intervals; (None, None) if neither.

    Remembered by the source (`DataSource.memo`): every notebook of a run asks for it twice, and over a
    large contacts table each answer is a scan. On a client's view of a source, that client's contacts:
    taken from every client's range, computed once by the whole source (one grouped scan shared by the run's
    client reviews, not one scan per client).
    """
    parent, client_id = source.parent, source.client_id
    if parent is not None and client_id is not None and parent.has("contacts"):
        ranges = parent.memo(("data_range_by_client",), lambda: _ranges_by_client(parent))
        if str(client_id) not in ranges.index:
            return None, None
        first, last = ranges.loc[str(client_id)]
        return (None if pd.isna(first) else pd.Timestamp(first), None if pd.isna(last) else pd.Timestamp(last))

    def compute() -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        for name, col in (("contacts", "arrived_at"), ("intervals", "interval_start")):
            if source.has(name):
                t = source.table(name)
                res = t.aggregate(first=t[col].min(), last=t[col].max()).to_pandas()
                first, last = res["first"].iloc[0], res["last"].iloc[0]
                return (
                    None if pd.isna(first) else pd.Timestamp(first),
                    None if pd.isna(last) else pd.Timestamp(last),
                )
        return None, None

    return source.memo(("data_range",), compute)


def _ranges_by_client(source: DataSource) -> pd.DataFrame:
    """The first and last arrival (columns `first`, `last`) of each client's contacts over the whole source,
    indexed by client_id as text. A frame, not a dict of timestamps: the memo hands out a copy on every read,
    and 160 clients' timestamps took 4 ms a client review to deep-copy, a frame's columns 0.1 ms."""
    t = source.table("contacts")
    res = t.group_by("client_id").aggregate(first=t.arrived_at.min(), last=t.arrived_at.max()).to_pandas()
    res = res[res["client_id"].notna()]
    return res.set_index(res["client_id"].astype(str))[["first", "last"]]


def clients_with_data(source: DataSource, start: Any, end: Any) -> set[str] | None:
    """The client_ids (as text) with a contact (else an interval row) from `start` to before `end`, local time; None
    when the source cannot tell (no contacts or intervals, or intervals without client_id). One distinct query."""
    for name, col in (("contacts", "arrived_at"), ("intervals", "interval_start")):
        if source.has(name):
            t = source.table(name)
            if "client_id" not in t.columns:
                return None
            at = t[col]
            inside = t.filter(
                (at >= pd.Timestamp(start).to_pydatetime())
                & (at < pd.Timestamp(end).to_pydatetime())
                & t.client_id.notnull()
            )
            return {str(c) for c in inside.select("client_id").distinct().to_pandas()["client_id"]}
    return None


# Same weekdays looked back on to tell a day the export cut short from a quiet evening: the eight weeks every
# weekday mean of the project uses (sla.expected_remaining_volume, the forecast's same-weekday baselines).
CUT_WEEKS = 8
# How unlikely an empty rest of the day must be before the day is read as cut short: a one-in-a-thousand chance
# for a whole day (a conventional significance level, not fitted to any data set).
CUT_P = 0.001


def last_day_cut(source: DataSource, closed: Collection[pd.Timestamp] = ()) -> pd.Timestamp | None:
    """The data's end (its last arrival) when the export looks cut part-way through that day, else None.

    Compared with each of the `CUT_WEEKS` same weekdays before it that had contacts up to the last arrival's time of
    day (a closed day tells nothing, and is left out): on day k, a_k contacts came before that time and n_k after;
    the last day had a contacts by then. Were the rest of the last day like day k's, scaled down to how busy the day
    has been (n_k x min(1, a / a_k): a holiday or a quiet day brings less; a busy morning promises no busier
    afternoon), an empty rest would have the chance exp(-n_k min(1, a / a_k)) if arrivals are random (Poisson); days
    differ, so the chance is the mean over the days compared (a mixture: one
    quiet evening among them keeps a quiet end whole). The day is read as cut short when that chance is below
    `CUT_P`, judged on at least half the `CUT_WEEKS` days (fewer tell too little of how days differ). An export
    taken at 10:00 on a Monday (hundreds usually still to come) is cut; a Saturday whose last contact came at 23:08,
    or a closed holiday's last e-mail at 21:34, is whole. No opening hours are assumed: the source's own history
    decides. `closed`: the calendar's closed holidays (metrics.sla.closed_days): one is never read as cut (a closed
    day's trickle of e-mails is not an export cut short) nor compared with. An interval export (no contacts table) is read the same way from the contacts offered in its intervals.
    On a client's view: the whole source's (the export's end).
    """
    import ibis

    source = whole_source(source)

    def compute() -> pd.Timestamp | None:
        last = data_range(source)[1]
        if last is None:
            return None
        day = last.normalize()
        skip = {pd.Timestamp(d).normalize() for d in closed}
        if day in skip:
            return None
        since = last - day  # time of day of the last arrival (an interval export: its last interval's start)
        if source.has("contacts"):
            t = source.table("contacts")
            at, weight = t.arrived_at, ibis.literal(1)
        else:  # intervals: the contacts offered in them, by their start
            t = source.table("intervals")
            at, weight = t.interval_start, t.offered.fill_null(0)

        def count(lo: pd.Timestamp, hi: pd.Timestamp, closed: bool) -> Any:
            inside = (at >= lo.to_pydatetime()) & ((at <= hi.to_pydatetime()) if closed else (at < hi.to_pydatetime()))
            return ibis.ifelse(inside, weight, 0).sum()

        aggs = {"a": count(day, last, True)}
        days = [d for d in (day - pd.Timedelta(days=7 * k) for k in range(1, CUT_WEEKS + 1)) if d not in skip]
        if len(days) * 2 < CUT_WEEKS:
            return None
        for k, d in enumerate(days):
            aggs[f"a{k}"] = count(d, d + since, True)
            aggs[f"n{k}"] = count(d + since + pd.Timedelta(microseconds=1), d + pd.Timedelta(days=1), False)
        window = (at >= days[-1].to_pydatetime()) & (at < (day + pd.Timedelta(days=1)).to_pydatetime())
        row = t.filter(window).aggregate(**aggs).to_pandas().iloc[0].fillna(0)
        a = float(row["a"])
        chances = [
            np.exp(-float(row[f"n{k}"]) * min(1.0, a / float(row[f"a{k}"])))
            for k in range(len(days))
            if float(row[f"a{k}"]) > 0
        ]
        return last if a > 0 and len(chances) * 2 >= CUT_WEEKS and float(np.mean(chances)) < CUT_P else None

    return source.memo(("last_day_cut", tuple(sorted({pd.Timestamp(d).normalize() for d in closed}))), compute)


def whole_days_range(
    source: DataSource, closed: Collection[pd.Timestamp] = ()
) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """`data_range`, with the last day left out when the export cut it short (`last_day_cut`): the last instant
    of the day before. What a month's coverage in open days counts (the partial-month note, the default month,
    volume goals pro-rated to the days with data): a day with its morning alone is not a day with data."""
    first, last = data_range(source)
    cut = last_day_cut(source, closed)
    # on a client's view its own last day may come before the export's cut day: then it is whole
    if last is not None and cut is not None and last.normalize() == cut.normalize():
        last = last.normalize() - pd.Timedelta(microseconds=1)
    return first, last
