"""Daily contact-volume forecasts per queue and channel, the intraday split, backtests and vintages.

The model (why: docs/forecasting.md) is an equal-weight ensemble of two forecasts of each day:

1. a log-linear harmonic regression, fitted by weighted least squares on log(1 + volume): weekday
   dummies, a linear trend, Fourier terms for the position in the month (pay days, month-start
   deadlines) and in the year (once more than a year of history exists), public holidays, holiday
   eves and the configured events (open enrollment, plan-year start, month-start import deadlines,
   client go-lives; parameters/calendar.yaml). Older days weigh less (half-life in parameters).
2. a holiday-aware seasonal moving average: the mean of the last 4 same weekdays, skipping holidays
   and eves, carried to the target day by the regression's calendar, trend and event terms.

On a holiday, eve or closed day only the regression is used. 80% prediction intervals come from the
errors the ensemble made in the weeks before the origin (a rolling backtest inside the history).

Inputs are small pandas frames: daily (date, channel, queue, volume); the engine (ibis over DuckDB)
does the contact-level aggregation in `daily_volume` / `interval_volume`.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reportlib.core.errors import ReportlibError, UsageError
from reportlib.core.names import ALL_QUEUES, LIVE_CHANNELS
from reportlib.core.safety import write_atomic
from reportlib.core.words import noun_for
from reportlib.metrics.contacts import minute_bucket
from reportlib.metrics.sla import business_calendar, check_calendar, closes, country_holidays

SERIES = ["channel", "queue"]
FORECAST_COLUMNS = ["date", "channel", "queue", "forecast", "lower", "upper"]


# --- calendar: holidays and events -----------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    """Public holidays (country, subdivision, categories), closed days, eves and configured events.

    `closed`: the holiday names (prefixes, any case) on which the centre is closed; None: every holiday.
    `extra_holidays`: further closed dates; `not_holidays`: dates that are no holiday. From parameters, all but the
    eves and events are read by the business clock's own reading (`calendar_from_params`)."""

    country: str | None = "US"
    subdiv: str | None = None
    categories: tuple[str, ...] = ("public",)
    observed: bool = True
    closed: tuple[str, ...] | None = ()
    eves: bool = True  # the day before a public holiday gets its own effect
    events: tuple[Mapping[str, Any], ...] = ()
    business_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    extra_holidays: tuple[dt.date, ...] = ()
    not_holidays: tuple[dt.date, ...] = ()
    # days left out of a series' history (calendar exclude_from_history; `exclusions` reads them): mappings of
    # dates (Timestamps), days (from each) and queues / channels (None: all)
    excluded: tuple[Mapping[str, Any], ...] = ()

    def holidays(self, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        """Holidays between start and end inclusive: date, name, category, closed (bool)."""
        years = tuple(range(pd.Timestamp(start).year, pd.Timestamp(end).year + 1))
        rows: list[tuple[pd.Timestamp, str, str]] = []
        for cat in self.categories if self.country else ():
            found = country_holidays(self.country, self.subdiv, years, (cat,), self.observed)
            rows.extend((pd.Timestamp(day), str(name), cat) for day, name in found)
        first = self.categories[0] if self.categories else "public"
        rows.extend((pd.Timestamp(day), EXTRA_HOLIDAY, first) for day in self.extra_holidays)
        frame = pd.DataFrame(rows, columns=["date", "name", "category"]).astype({"date": "datetime64[ns]"})
        frame = frame[(frame["date"] >= pd.Timestamp(start)) & (frame["date"] <= pd.Timestamp(end))]
        frame = frame[~frame["date"].isin(pd.to_datetime(list(self.not_holidays)))]
        # closed when any of the date's names closes the centre (a date added under `extra`, or a holiday of two
        # categories, is closed as the business clock has it: a review found such dates forecast as open), then
        # a date in several categories keeps the first listed (public before optional)
        frame["closed"] = [n == EXTRA_HOLIDAY or closes(n, self.closed) for n in frame["name"]]
        frame["closed"] = frame.groupby("date")["closed"].transform("any").astype(bool)
        frame["rank"] = frame["category"].map({c: i for i, c in enumerate(self.categories)})
        frame = frame.sort_values(["date", "rank"]).drop_duplicates("date").drop(columns="rank").reset_index(drop=True)
        return frame


EXTRA_HOLIDAY = "Closed (calendar holidays.extra)"  # the name of a date added under holidays: extra


def calendar_from_params(params: Mapping[str, Any] | None) -> Calendar:
    """A Calendar from the `calendar` parameter set (parameters/calendar.yaml) or an equivalent dict.

    The open weekdays and the holidays (country, subdivision, categories, observance, which ones close, dates added
    or removed) are read by the business clock's reading (`metrics.sla.business_calendar`), so the forecast and the
    SLA figures agree on which days are open: a review found dates under holidays.extra, weekday names, `days:`
    and a calendar without `closed:` (every holiday closed) read one way by the SLA figures and another by the
    forecast. The eves and the events are the forecast's own."""
    params = dict(params or {})
    if "calendar" in params and isinstance(params["calendar"], Mapping):
        params = dict(params["calendar"])
    hol = params.get("holidays", {})
    if isinstance(hol, Mapping):
        cats, shut = hol.get("categories"), hol.get("closed")
        for key, value in (
            ("categories", [cats] if isinstance(cats, str) else cats or []),
            ("closed", [shut] if isinstance(shut, str) else shut or []),  # one name alone, as the clock reads it
        ):
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise UsageError(f"calendar: holidays.{key} must be a list of names, got {_short(value)}")
    events = params.get("events") or []
    if not isinstance(events, list):
        raise UsageError("calendar: events must be a list of mappings (see parameters/calendar.yaml)")
    for ev in events:
        _check_event(ev)
    bc = business_calendar({"calendar": params})
    return Calendar(
        country=bc.country,
        subdiv=bc.subdiv,
        categories=bc.categories or ("public",),
        observed=bc.observed,
        closed=bc.closed,
        eves=bool(hol.get("eves", True)) if isinstance(hol, Mapping) else True,
        events=tuple(dict(e) for e in events),
        business_weekdays=bc.open_weekdays,
        extra_holidays=bc.extra_holidays,
        not_holidays=bc.not_holidays,
        excluded=exclusions(params.get(EXCLUDE_KEY)),
    )


def check_calendars(params: Mapping[str, Any] | None, years: Sequence[int]) -> None:
    """Raise UsageError ("parameter calendar: ...") when params['calendar'] cannot be read, before a run renders: the
    business clock's hours and holidays for `years` (metrics.sla.check_calendar), then what the forecast alone reads
    (its events, exclusions and forecast_model; the forecast's pages read them in their notebooks and showed the
    error as a note on a page "ok")."""
    check_calendar(params, years)
    cal = (params or {}).get("calendar") or {}
    try:
        calendar = calendar_from_params(cal)
        calendar_features(pd.date_range("2026-01-01", periods=1), calendar)  # the events' dates and holidays
        ForecastConfig.from_params(cal)
    except UsageError as exc:
        text = str(exc)
        raise UsageError(text if text.startswith("parameter ") else f"parameter {text}") from None


EXCLUDE_KEY = "exclude_from_history"  # the calendar setting of days the forecast leaves out of the history
_EXCLUDE_FIELDS = ("dates", "days", "queues", "channels", "why")


def exclusions(value: Any) -> tuple[dict[str, Any], ...]:
    """The calendar's `exclude_from_history`: days a series' history leaves out, as it leaves out days missing from
    the export (an outage's flood of callbacks, a duplicated export: a day that will not come again and would pull
    the same-weekday averages for a month). Each item a date (YYYY-MM-DD), or a mapping of `dates` (one or a list),
    `days` (how many from each, 1 by default), `queues` / `channels` (as for events; all by default) and `why` (the
    user's note, not read). UsageError naming the item otherwise."""
    items = [] if value is None else list(value) if isinstance(value, list | tuple) else [value]
    out = []
    for i, item in enumerate(items, 1):
        where = f"calendar: {EXCLUDE_KEY} item {i}"
        spec = dict(item) if isinstance(item, Mapping) else {"dates": item}
        unknown = sorted(str(k) for k in spec if k not in _EXCLUDE_FIELDS)
        if unknown:
            raise UsageError(
                f"{where}: unknown {noun_for(len(unknown), 'key')} {', '.join(unknown)}; known: "
                f"{', '.join(_EXCLUDE_FIELDS)}"
            )
        raw = spec.get("dates")
        raw = [] if raw is None else list(raw) if isinstance(raw, list | tuple) else [raw]
        if not raw:
            raise UsageError(f"{where}: no dates; write a date (YYYY-MM-DD) or dates: [YYYY-MM-DD, ...]")
        days = []
        for d in raw:
            if isinstance(d, dt.date) or (isinstance(d, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", d.strip())):
                try:
                    days.append(pd.Timestamp(str(d).strip()).normalize())
                    continue
                except ValueError:
                    pass
            raise UsageError(f"{where}: {_short(d)} is not a date; write dates as YYYY-MM-DD")
        n = spec.get("days", 1)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise UsageError(f"{where}: days must be a whole number of days, 1 or more, got {_short(n)}")
        entry: dict[str, Any] = {"dates": tuple(days), "days": n}
        for key in ("queues", "channels"):
            names = spec.get(key)
            names = [names] if isinstance(names, str) else names
            if names is not None and (
                not isinstance(names, list | tuple) or not all(isinstance(v, str) for v in names)
            ):
                quote = " (a name of digits in quotes: '401')" if isinstance(names, list | tuple) else ""
                raise UsageError(f"{where}: {key} must be a list of names{quote}, got {_short(spec.get(key))}")
            _refuse_empty(where, key, names)
            entry[key] = tuple(names) if names is not None else None
        out.append(entry)
    return tuple(out)


def excluded_days(
    calendar: Calendar, dates: pd.DatetimeIndex, channel: str | None = None, queue: str | None = None
) -> np.ndarray:
    """True on each of `dates` (normalised days) that the calendar's exclude_from_history leaves out of the
    history of the series `channel`/`queue`."""
    out = np.zeros(len(dates), bool)
    for ex in calendar.excluded:
        if _applies(ex, channel, queue):
            for d0 in ex["dates"]:
                out |= np.asarray((dates >= d0) & (dates < d0 + pd.Timedelta(days=ex["days"])))
    return out


def _short(value: Any) -> str:
    """repr(value) cut to 80 characters, for a message; reprlib's, so a YAML alias bomb is not expanded."""
    import reprlib

    text = reprlib.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_EVENT_KINDS = ("window", "dates", "business_days_of_month", "after_holiday")


def _refuse_empty(where: str, key: str, names: Any) -> None:
    """UsageError when `queues` or `channels` is an empty list: it would read as every queue (the key left out),
    the opposite of what a list with nothing in it says."""
    if isinstance(names, list | tuple) and not names:
        one = key.removesuffix("s")
        raise UsageError(f"{where}: {key}: [] names no {one}; leave {key} out for every {one}, or list the {key}")


def _check_event(ev: Any) -> None:
    if not isinstance(ev, Mapping) or "name" not in ev or ev.get("kind") not in _EVENT_KINDS:
        raise UsageError(f"calendar: each event needs a name and a kind among {', '.join(_EVENT_KINDS)}; got {ev!r}")
    if not re.fullmatch(r"[A-Za-z0-9_]+", str(ev["name"])):
        raise UsageError(f"calendar: event name {ev['name']!r} must be letters, digits and underscores")
    for key in ("queues", "channels"):
        _refuse_empty(f"calendar: event {ev['name']!r}", key, ev.get(key))
    kind = ev["kind"]
    need = {
        "window": ("start", "end"),
        "dates": ("dates",),
        "business_days_of_month": ("days",),
        "after_holiday": ("holiday",),
    }[kind]
    missing = [k for k in need if k not in ev]
    if missing:
        raise UsageError(f"calendar: event {ev['name']!r} ({kind}) needs {', '.join(missing)}")


def _applies(ev: Mapping[str, Any], channel: str | None, queue: str | None) -> bool:
    for key, value in (("queues", queue), ("channels", channel)):
        allowed = ev.get(key)
        if allowed and value is not None and value not in allowed:
            return False
    return True


def _month_day(text: str, what: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{1,2})-(\d{1,2})", str(text).strip())
    if not m:
        raise UsageError(f"calendar: {what} must be MM-DD, got {text!r}")
    return int(m.group(1)), int(m.group(2))


def _event_columns(
    ev: Mapping[str, Any], dates: pd.DatetimeIndex, business: np.ndarray, hol: pd.DataFrame
) -> dict[str, np.ndarray]:
    """0/1 columns of one event over `dates` (one column per split chunk or business day)."""
    name = f"event_{ev['name']}"
    n = len(dates)
    kind = ev["kind"]
    if kind == "window":
        (m1, d1), (m2, d2) = _month_day(ev["start"], "start"), _month_day(ev["end"], "end")
        for m, d in ((m1, d1), (m2, d2)):
            if not (1 <= m <= 12 and 1 <= d <= 31) or (m, d) == (2, 29):
                raise UsageError(f"calendar: event {ev['name']!r}: {m:02d}-{d:02d} is not a day of every year")
        key = dates.month * 100 + dates.day
        s, e = m1 * 100 + d1, m2 * 100 + d2
        inside = (key >= s) & (key <= e) if s <= e else (key >= s) | (key <= e)
        inside = np.asarray(inside)
        split = int(ev.get("split_days") or 0)
        if not split:
            return {name: inside.astype(float)}
        # day index within the window, counted from the window's start in that (or the previous) year
        year = dates.year - np.where((s > e) & (key <= e), 1, 0)
        first = pd.to_datetime(pd.DataFrame({"year": year, "month": m1, "day": d1}), errors="coerce")
        offset = np.asarray((dates - pd.DatetimeIndex(first)).days)
        chunk = np.where(inside, offset // split, -1)
        return (
            {f"{name}_{k + 1}": (chunk == k).astype(float) for k in range(int(chunk.max()) + 1)} if inside.any() else {}
        )
    if kind == "dates":
        days = int(ev.get("days") or 1)
        out = np.zeros(n)
        for text in ev["dates"] or []:
            try:
                d0 = pd.Timestamp(text).normalize()
            except (TypeError, ValueError):
                raise UsageError(f"calendar: event {ev['name']!r} has a date {text!r}; expected YYYY-MM-DD") from None
            out[np.asarray((dates >= d0) & (dates < d0 + pd.Timedelta(days=days)))] = 1.0
        return {name: out}
    if kind == "business_days_of_month":
        ym = dates.year * 12 + dates.month
        bday = pd.Series(business.astype(int)).groupby(np.asarray(ym)).cumsum().to_numpy()
        bday = np.where(business, bday, 0)
        wanted = [int(d) for d in ev["days"]]
        if ev.get("separate", True):
            return {f"{name}_{d}": (bday == d).astype(float) for d in wanted}
        return {name: np.isin(bday, wanted).astype(float)}
    # after_holiday: a day at an offset from each holiday whose name starts with `holiday`
    target = str(ev["holiday"]).lower()
    offset_days = int(ev.get("offset_days", 1))
    hd = hol.loc[hol["name"].str.lower().str.startswith(target), "date"] + pd.Timedelta(days=offset_days)
    return {name: np.asarray(dates.isin(hd)).astype(float)}


def calendar_features(
    dates: Iterable[Any], calendar: Calendar, channel: str | None = None, queue: str | None = None
) -> pd.DataFrame:
    """0/1 calendar columns per date: holiday_closed, holiday, holiday_<category>, holiday_eve, event_*.

    `holiday` is a public (first-category) holiday the centre is open on; `holiday_closed` one named in
    `closed`; other categories (e.g. Israel's 'optional') get a column each; `holiday_eve` marks the day
    before a public holiday that is not itself one. Events listing `queues`/`channels` apply only there.
    """
    index = pd.DatetimeIndex(pd.to_datetime(list(dates) if not isinstance(dates, pd.DatetimeIndex) else dates))
    index = index.normalize()
    if len(index) == 0:
        return pd.DataFrame(index=index)
    key = (
        repr(calendar),
        index[0],
        index[-1],
        len(index),
        bool(index.is_monotonic_increasing),
        tuple(ev["name"] for ev in calendar.events if _applies(ev, channel, queue)),
    )
    if key in _FEATURE_CACHE and _FEATURE_CACHE[key].index.equals(index):
        return _FEATURE_CACHE[key].copy()
    out = _calendar_features(index, calendar, channel, queue)
    if len(_FEATURE_CACHE) > 64:
        _FEATURE_CACHE.clear()
    _FEATURE_CACHE[key] = out
    return out.copy()


_FEATURE_CACHE: dict[tuple, pd.DataFrame] = {}


def _calendar_features(
    dates: pd.DatetimeIndex, calendar: Calendar, channel: str | None, queue: str | None
) -> pd.DataFrame:
    hol = calendar.holidays(dates.min() - pd.Timedelta(days=400), dates.max() + pd.Timedelta(days=400))
    out: dict[str, np.ndarray] = {}
    first_cat = calendar.categories[0] if calendar.categories else "public"
    by_date = hol.set_index("date")
    cat = by_date["category"].reindex(dates)
    closed = by_date["closed"].reindex(dates).astype("boolean").fillna(False).to_numpy(dtype=bool)
    is_first = (cat == first_cat).to_numpy()
    out["holiday_closed"] = closed.astype(float)
    out["holiday"] = (is_first & ~closed).astype(float)
    for c in calendar.categories[1:]:
        out[f"holiday_{c}"] = ((cat == c).to_numpy() & ~closed).astype(float)
    any_hol = cat.notna().to_numpy()
    if calendar.eves:
        public = set(hol.loc[hol["category"] == first_cat, "date"])
        eve = np.asarray((dates + pd.Timedelta(days=1)).isin(list(public))) & ~any_hol
        out["holiday_eve"] = eve.astype(float)
    business = np.isin(dates.dayofweek, calendar.business_weekdays) & ~(
        np.asarray(dates.isin(list(hol.loc[hol["category"] == first_cat, "date"])))
    )
    if hol["closed"].any():
        out["holiday_after_closed"] = _after_closed(dates, hol, calendar.business_weekdays).astype(float)
    for ev in calendar.events:
        if _applies(ev, channel, queue):
            out.update(_event_columns(ev, dates, business, hol))
    return pd.DataFrame(out, index=dates)


HOLIDAY_PREFIX = "holiday"


def _after_closed(dates: pd.DatetimeIndex, hol: pd.DataFrame, business_weekdays: Sequence[int]) -> np.ndarray:
    """True on the catch-up day of each closed holiday: the first business weekday after it that is no holiday."""
    closed = pd.DatetimeIndex(hol.loc[hol["closed"], "date"])
    any_hol = set(pd.DatetimeIndex(hol["date"]))
    catch_up = set()
    for day in closed:
        nxt = day + pd.Timedelta(days=1)
        for _ in range(7):
            if nxt.dayofweek in business_weekdays and nxt not in any_hol:
                catch_up.add(nxt)
                break
            nxt += pd.Timedelta(days=1)
    return np.asarray(dates.isin(list(catch_up)))


# --- aggregation in the engine ---------------------------------------------------------------------


def table_kind(source: Any) -> tuple[Any, str]:
    if source.has("contacts"):
        return source.table("contacts"), "contacts"
    if source.has("intervals"):
        return source.table("intervals"), "intervals"
    source.require("contacts")  # raises MissingTableError naming it
    raise ReportlibError("no contacts or intervals table")  # pragma: no cover


def _volume_expr(table: Any, kind: str, short_abandon_s: float, queue: str | None):
    if kind == "contacts":
        t = table
        if queue is not None:
            t = t.filter(t.queue == queue)
        short = (t.outcome == "abandoned") & (t.wait_s < short_abandon_s)
        # short abandons are not offered, but their rows are kept: a day of them alone is a day of the export
        # with no volume, not a day missing from it (and the data's last day is its last row)
        return t, t.arrived_at, short.fill_null(False).ifelse(0, 1)  # (no bool -> int cast in PostgreSQL)
    if kind == "intervals":
        t = table
        if queue is not None:
            t = t.filter(t.queue == queue)
        return t, t.interval_start, t.offered
    raise UsageError(f"kind must be 'contacts' or 'intervals', got {kind!r}")


def _complete(frame: pd.DataFrame, key: str, freq: str) -> pd.DataFrame:
    """Zero-fill each channel/queue from its first period to the overall last one."""
    if frame.empty:
        return frame
    last = frame[key].max()
    parts = []
    for (ch, q), g in frame.groupby(SERIES, sort=True):
        idx = pd.date_range(g[key].min(), last, freq=freq)
        s = g.set_index(key)["volume"].reindex(idx, fill_value=0.0)
        parts.append(pd.DataFrame({key: idx, "channel": ch, "queue": q, "volume": s.to_numpy(dtype=float)}))
    return pd.concat(parts, ignore_index=True)


def daily_volume(
    table: Any, kind: str = "contacts", short_abandon_s: float = 5.0, queue: str | None = None
) -> pd.DataFrame:
    """Contacts offered per local day, channel and queue (date, channel, queue, volume), counted in the engine.

    `table` is an ibis table: contacts (one row per contact; short abandons, abandoned with wait_s below
    short_abandon_s seconds, are not offered) or intervals (sum of `offered`). Days without contacts
    between a series' first day and the last day of the data count as zero.
    """
    t, ts, offered = _volume_expr(table, kind, short_abandon_s, queue)
    frame = (
        t.group_by(date=ts.truncate("D"), channel=t.channel, queue=t.queue).aggregate(volume=offered.sum()).to_pandas()
    )
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]").dt.normalize()
    frame["volume"] = frame["volume"].astype(float).fillna(0.0)
    frame = frame.groupby(["date"] + SERIES, as_index=False)["volume"].sum()
    return _complete(frame, "date", "D")[["date"] + SERIES + ["volume"]]


def interval_volume(
    table: Any, kind: str = "contacts", minutes: int = 30, short_abandon_s: float = 5.0, queue: str | None = None
) -> pd.DataFrame:
    """Contacts offered per local interval of `minutes` (interval_start, channel, queue, volume), in the engine.

    From an intervals table, its intervals must divide `minutes` (6-minute data gives 30-minute counts,
    not 15-minute ones).
    """
    if minutes <= 0 or 1440 % minutes:
        raise UsageError(f"interval minutes must divide a day (15, 30, 60), got {minutes}")
    t, ts, offered = _volume_expr(table, kind, short_abandon_s, queue)
    if kind == "intervals":
        sizes = [int(v) for v in t.interval_minutes.value_counts().to_pandas().iloc[:, 0].dropna()]
        bad = sorted({s for s in sizes if s <= 0 or minutes % s})
        if bad:
            raise ReportlibError(
                f"intervals of {', '.join(map(str, bad))} minutes cannot be summed into "
                f"{minutes}-minute intervals; choose a multiple of them"
            )
    frame = (
        t.group_by(interval_start=minute_bucket(ts, minutes), channel=t.channel, queue=t.queue)
        .aggregate(volume=offered.sum())
        .to_pandas()
    )
    frame["interval_start"] = pd.to_datetime(frame["interval_start"]).astype("datetime64[ns]")
    frame["volume"] = frame["volume"].astype(float).fillna(0.0)
    if kind == "contacts":  # intervals of short abandons alone: none offered (daily_volume keeps their days)
        frame = frame[frame["volume"] > 0]
    return frame.sort_values(SERIES + ["interval_start"]).reset_index(drop=True)[
        ["interval_start"] + SERIES + ["volume"]
    ]


def volume_from_source(
    source: Any, short_abandon_s: float = 5.0, queue: str | None = None, interval_minutes: int | None = None
) -> pd.DataFrame:
    """Daily (or, with interval_minutes, interval) volume from a Source's contacts, else its intervals table."""
    table, kind = table_kind(source)
    if interval_minutes:
        return interval_volume(table, kind, interval_minutes, short_abandon_s, queue)
    return daily_volume(table, kind, short_abandon_s, queue)


def without_cut_day(
    daily: pd.DataFrame, source: Any, params: Mapping[str, Any] | None
) -> tuple[pd.DataFrame, str | None]:
    """`daily` (daily_volume's) without the data's last day when the export cut it short (data.span.last_day_cut; the
    calendar of `params`' closed holidays never read as cut: metrics.sla.closed_days),
    and the note that says so (None when it did not): a day's morning read as its whole volume pulled every forecast
    of a Wednesday's 15:00 export 3-4% low, without a word."""
    from reportlib.data.span import last_day_cut
    from reportlib.metrics.sla import source_closed_days

    cut = last_day_cut(source, source_closed_days(params, source))
    if cut is None or daily.empty:
        return daily, None
    day = cut.normalize()
    kept = daily[pd.to_datetime(daily["date"]) < day].reset_index(drop=True)
    return kept, (
        f"the data end part-way through {day:%Y-%m-%d}, at {cut:%H:%M}: that day is left out of the history "
        "(its contacts so far are not a whole day's)"
    )


def contact_stats(
    source: Any,
    short_abandon_s: float = 5.0,
    queue: str | None = None,
    since: Any | None = None,
    until: Any | None = None,
) -> pd.DataFrame:
    """Per channel and queue: handled, aht_s (s), abandoned, wait_s_total (s, every caller's wait: answered
    and abandoned), patience_s (s), from the engine.

    Patience is the exponential estimate (total wait of all callers / abandons, reportlib.planning.staffing);
    from an intervals table it needs abandon_wait_s_total as well as wait_s_total (metrics.contacts.
    caller_wait_total), else it is NaN (not measured: staffing then assumes nobody abandons, Erlang C).
    `since` limits to contacts from that date on (recent handle times), `until` to those before it (a past
    month's plan reads the weeks before its end, not the months since).
    """
    from reportlib.metrics.contacts import caller_wait_total
    from reportlib.planning.staffing import estimate_patience

    table, kind = table_kind(source)
    t = table
    if queue is not None:
        t = t.filter(t.queue == queue)
    if kind == "contacts":
        if since is not None:
            t = t.filter(t.arrived_at >= pd.Timestamp(since).to_pydatetime())
        if until is not None:
            t = t.filter(t.arrived_at < pd.Timestamp(until).to_pydatetime())
        short = ((t.outcome == "abandoned") & (t.wait_s < short_abandon_s)).fill_null(False)
        t = t.filter(~short)
        handled = t.outcome == "handled"
        agg = (
            t.group_by(["channel", "queue"])
            .aggregate(
                handled=handled.sum(),
                handle_s_total=handled.ifelse(t.handle_s, 0).sum(),
                abandoned=(t.outcome == "abandoned").sum(),
                wait_s_total=t.wait_s.fill_null(0).sum(),
            )
            .to_pandas()
        )
    else:
        if since is not None:
            t = t.filter(t.interval_start >= pd.Timestamp(since).to_pydatetime())
        if until is not None:
            t = t.filter(t.interval_start < pd.Timestamp(until).to_pydatetime())
        agg = (
            t.group_by(["channel", "queue"])
            .aggregate(
                handled=t.handled.sum(),
                handle_s_total=t.handle_s_total.sum(),
                abandoned=t.abandoned.sum(),
                wait_s_total=caller_wait_total(t),
            )
            .to_pandas()
        )
    agg = agg.astype({"handled": float, "handle_s_total": float, "abandoned": float, "wait_s_total": float})
    with np.errstate(divide="ignore", invalid="ignore"):
        agg["aht_s"] = np.where(agg["handled"] > 0, agg["handle_s_total"] / agg["handled"], np.nan)
    ok = agg[["abandoned", "wait_s_total"]].notna().all(axis=1)
    agg["patience_s"] = np.nan
    if ok.any():
        agg.loc[ok, "patience_s"] = np.asarray(
            estimate_patience(agg.loc[ok, "abandoned"].to_numpy(), agg.loc[ok, "wait_s_total"].to_numpy()), dtype=float
        )
    return (
        agg[["channel", "queue", "handled", "aht_s", "abandoned", "wait_s_total", "patience_s"]]
        .sort_values(SERIES)
        .reset_index(drop=True)
    )


# --- the model -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastConfig:
    """Model settings (parameters/calendar.yaml `forecast_model`); days are calendar days."""

    level: float = 0.80  # prediction interval coverage
    half_life_days: float = 365.0  # weight of a day in the regression halves every this many days back
    max_history_days: int = 1096
    min_history_days: int = 28
    trend_min_days: int = 180
    month_fourier: int = 3  # harmonics of the position in the month
    month_min_days: int = 120
    annual_fourier: int = 4  # harmonics of the position in the year
    annual_min_days: int = 400
    weight_regression: float = 0.5  # ensemble weight of the regression (the moving average gets the rest)
    sma_weeks: int = 4
    calibration_weeks: int = 12  # weekly in-sample origins whose errors set the intervals
    calibration_horizon: int = 28
    min_errors_per_weekday: int = 20
    adjust_average: bool = True  # carry the moving average by the regression's calendar terms
    interval_by_weekday: bool = False  # quantiles per weekday (else pooled over all days)

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> ForecastConfig:
        """Config from parameters['calendar']['forecast_model'] (or a dict of the same keys)."""
        params = dict(params or {})
        if "calendar" in params and isinstance(params["calendar"], Mapping):
            params = dict(params["calendar"].get("forecast_model") or {})
        elif "forecast_model" in params:
            params = dict(params["forecast_model"] or {})
        names = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise UsageError(
                f"forecast_model: unknown {noun_for(len(unknown), 'setting')} {', '.join(unknown)}; known: {', '.join(names)}"
            )
        cfg = cls(**params)
        if not 0 < cfg.level < 1:
            raise UsageError("forecast_model.level must be a share between 0 and 1 (e.g. 0.8)")
        if not 0 <= cfg.weight_regression <= 1:
            raise UsageError("forecast_model.weight_regression must be between 0 and 1")
        return cfg


def _fourier(phase: np.ndarray, harmonics: int) -> np.ndarray:
    """Columns sin(2 pi k phase), cos(2 pi k phase) for k = 1..harmonics (phase in cycles)."""
    if not harmonics:
        return np.zeros((len(phase), 0))
    return np.column_stack([f(2 * np.pi * k * phase) for k in range(1, harmonics + 1) for f in (np.sin, np.cos)])


def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least squares coefficients by the normal equations, with a negligible ridge so that
    collinear or never-active columns get a (near) zero coefficient instead of a singular system.

    The Gram matrix is built with einsum rather than BLAS: these are hundreds of small fits, and a
    multi-threaded BLAS on a busy machine makes each of them 100x slower than a single-threaded loop.
    """
    Xw = X * np.sqrt(w)[:, None]
    G = np.einsum("ij,ik->jk", Xw, Xw)
    b = np.einsum("ij,i->j", Xw, np.sqrt(w) * y)
    ridge = 1e-8 * max(1.0, float(np.trace(G)) / max(1, G.shape[0]))
    return np.linalg.solve(G + ridge * np.eye(G.shape[0]), b)


TERM_GROUPS = ("trend", "month", "annual", "events")  # the regression's optional term groups


def _term_group(name: str) -> str:
    """The optional term group of a regression column: trend, month, annual, events, or 'calendar' (holidays)."""
    if name == "trend_per_year":
        return "trend"
    for prefix, group in (("month_", "month"), ("annual_", "annual"), ("event_", "events")):
        if name.startswith(prefix):
            return group
    return "calendar"


class SeriesModel:
    """One channel/queue series: the design matrix over history and future, and fits at any origin.

    `y` holds the daily history (index 0 = first day); forecasts are made at an origin (the index of
    the last day used) for `horizon` days. Fits are cached by origin, so backtests reuse them.
    """

    def __init__(
        self,
        dates: pd.DatetimeIndex,
        y: np.ndarray,
        calendar: Calendar,
        horizon: int,
        config: ForecastConfig,
        channel: str | None = None,
        queue: str | None = None,
        missing: np.ndarray | None = None,
    ):
        self.config = config
        self.n = len(y)
        self.y = np.asarray(y, dtype=float)
        # days missing from the export (not zero contacts): weight 0 in the fit, skipped by the average
        self.missing = (
            np.zeros(self.n, bool) if missing is None else np.asarray(missing, bool)[: self.n] | np.isnan(self.y)
        )
        self.y = np.where(self.missing, 0.0, self.y)
        self.horizon = int(horizon)
        # room for the horizon and for the calibration forecasts made before the origin
        all_dates = pd.date_range(dates[0], periods=self.n + max(self.horizon, config.calibration_horizon), freq="D")
        self.dates = all_dates
        cal = calendar_features(all_dates, calendar, channel, queue)
        self.cal = cal.to_numpy(dtype=float)
        self.cal_names = list(cal.columns)
        hol_cols = [i for i, c in enumerate(self.cal_names) if c.startswith(HOLIDAY_PREFIX)]
        self.special = self.cal[:, hol_cols].any(axis=1) if hol_cols else np.zeros(len(all_dates), bool)
        self.weekday = all_dates.dayofweek.to_numpy()
        self.wk = np.eye(7)[self.weekday]
        t_frac = np.asarray((all_dates.day - 1) / all_dates.days_in_month, dtype=float)
        self.month = _fourier(t_frac, config.month_fourier)
        self.annual = _fourier(np.asarray((all_dates.dayofyear - 1) / 365.25, dtype=float), config.annual_fourier)
        self.ly = np.log1p(np.clip(self.y, 0, None))
        self._cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def _design(self, lo: int, hi: int, origin: int, hist_len: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Rows lo..hi-1 of the design: weekday block, calendar block (trend, Fourier terms, holidays,
        events) and the calendar block's column names."""
        c = self.config
        parts, names = [], []
        if c.trend_min_days and hist_len >= c.trend_min_days:
            parts.append(((np.arange(lo, hi) - origin) / 365.25)[:, None])
            names.append("trend_per_year")
        if hist_len >= c.month_min_days and self.month.shape[1]:
            parts.append(self.month[lo:hi])
            names += [f"month_{f}{k}" for k in range(1, c.month_fourier + 1) for f in ("sin", "cos")]
        if hist_len >= c.annual_min_days and self.annual.shape[1]:
            parts.append(self.annual[lo:hi])
            names += [f"annual_{f}{k}" for k in range(1, c.annual_fourier + 1) for f in ("sin", "cos")]
        parts.append(self.cal[lo:hi])
        names += self.cal_names
        return self.wk[lo:hi], np.hstack(parts), names

    def _fit(self, origin: int, horizon: int) -> dict[str, Any]:
        """The regression fitted on the history up to `origin`, with its design over the horizon."""
        c = self.config
        start = max(0, origin + 1 - c.max_history_days)
        hist_len = origin + 1 - start
        if hist_len < c.min_history_days:
            raise ReportlibError(f"{hist_len} days of history; a forecast needs at least {c.min_history_days}")
        wk, cal, names = self._design(start, origin + 1 + horizon, origin, hist_len)
        # calendar columns never seen in the training window carry no information: drop them
        seen = np.abs(cal[:hist_len]).sum(axis=0) > 0
        cal = cal[:, seen]
        names = ["weekday_" + d for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")] + [
            n for n, keep in zip(names, seen) if keep
        ]
        X = np.hstack([wk, cal])
        w = 0.5 ** ((origin - np.arange(start, origin + 1)) / c.half_life_days) * ~self.missing[start : origin + 1]
        beta = _wls(X[:hist_len], self.ly[start : origin + 1], w)
        return {"start": start, "ntr": hist_len, "X": X, "cal": cal, "beta": beta, "names": names}

    def coefficients(self, origin: int) -> pd.Series:
        """The regression's coefficients on log(1 + volume) at `origin`, by term (weekday_*, trend_per_year,
        month_*/annual_* Fourier terms, holiday*, event_*); exp(coefficient) is a volume ratio."""
        fit = self._fit(origin, 0)
        return pd.Series(fit["beta"], index=fit["names"])

    def predict(self, origin: int, horizon: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ensemble, regression, seasonal average) for days origin+1..origin+horizon (volumes >= 0)."""
        horizon = self.horizon if horizon is None else horizon
        key = (origin, horizon)
        if key in self._cache:
            return self._cache[key]
        fit = self._fit(origin, horizon)
        out = self._from_beta(origin, horizon, fit["start"], fit["ntr"], fit["X"], fit["cal"], fit["beta"])
        self._cache[key] = out
        return out

    def predict_variants(
        self, origin: int, horizon: int, variants: Mapping[str, Sequence[str]], recent_residuals: int = 0
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """(ensemble, regression) per variant for days origin+1..origin+horizon; a variant names the optional
        term groups it leaves out (TERM_GROUPS: trend, month, annual, events); only the variant that leaves
        nothing out has an ensemble (for the others both entries are the regression). With recent_residuals
        = k, '<variant>:residuals' holds (log residuals of the last k days, their day indices). One weighted Gram matrix serves
        every variant (the fits differ by the columns kept), so a variant costs a small solve."""
        c = self.config
        start = max(0, origin + 1 - c.max_history_days)
        hist_len = origin + 1 - start
        if hist_len < c.min_history_days:
            raise ReportlibError(f"{hist_len} days of history; a forecast needs at least {c.min_history_days}")
        wk, cal, names = self._design(start, origin + 1 + horizon, origin, hist_len)
        seen = np.abs(cal[:hist_len]).sum(axis=0) > 0
        cal, names = cal[:, seen], [n for n, keep in zip(names, seen) if keep]
        X = np.hstack([wk, cal])
        w = 0.5 ** ((origin - np.arange(start, origin + 1)) / c.half_life_days) * ~self.missing[start : origin + 1]
        sw = np.sqrt(w)
        Xw = X[:hist_len] * sw[:, None]
        G = np.einsum("ij,ik->jk", Xw, Xw)
        b = np.einsum("ij,i->j", Xw, sw * self.ly[start : origin + 1])
        group = np.array(["weekday"] * 7 + [_term_group(n) for n in names])
        out = {}
        for name, drop in variants.items():
            keep = ~np.isin(group, list(drop))
            Gk = G[np.ix_(keep, keep)]
            ridge = 1e-8 * max(1.0, float(np.trace(Gk)) / max(1, Gk.shape[0]))
            beta = np.zeros(X.shape[1])
            beta[keep] = np.linalg.solve(Gk + ridge * np.eye(Gk.shape[0]), b[keep])
            if drop:  # only the full regression is ensembled with the seasonal average
                reg = np.clip(np.expm1(np.einsum("ij,j->i", X[hist_len:], beta)), 0, None)
                out[name] = (reg, reg)
            else:
                ens, reg, _ = self._from_beta(origin, horizon, start, hist_len, X, cal, beta)
                out[name] = (ens, reg)
            if recent_residuals:
                k = min(recent_residuals, hist_len)
                fitted = np.einsum("ij,j->i", X[hist_len - k : hist_len], beta)
                out[name + ":residuals"] = (
                    self.ly[origin + 1 - k : origin + 1] - fitted,
                    np.arange(origin + 1 - k, origin + 1),
                )
        return out

    def _from_beta(
        self, origin: int, horizon: int, start: int, ntr: int, X: np.ndarray, cal: np.ndarray, beta: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ensemble, regression, seasonal average) over the horizon from fitted coefficients."""
        c = self.config
        end = origin + 1 + horizon
        fitted_log = np.einsum("ij,j->i", X[ntr:], beta)
        reg = np.clip(np.expm1(fitted_log), 0, None)
        # seasonal moving average: last `sma_weeks` same weekdays that are no holiday or eve, carried to the
        # target by the regression's non-weekday terms (trend, month/annual position, events)
        cal_part = np.einsum("ij,j->i", cal, beta[7:]) if c.adjust_average else np.zeros(len(cal))
        hist_idx = np.arange(start, origin + 1)
        ok = ~self.special[start : origin + 1] & ~self.missing[start : origin + 1]
        base = np.full(7, np.nan)
        for d in range(7):
            cand = hist_idx[(self.weekday[start : origin + 1] == d) & ok][-c.sma_weeks :]
            if len(cand):
                base[d] = np.mean((self.y[cand] + 1.0) * np.exp(-cal_part[cand - start]))
        fut = np.arange(origin + 1, end)
        sma = np.clip(base[self.weekday[fut]] * np.exp(cal_part[ntr:]) - 1.0, 0, None)
        use_sma = ~np.isnan(sma) & ~self.special[fut]
        ens = np.where(use_sma, c.weight_regression * reg + (1 - c.weight_regression) * np.nan_to_num(sma), reg)
        sma = np.where(np.isnan(sma), reg, sma)
        return ens, reg, sma

    def interval_quantiles(self, origin: int) -> np.ndarray:
        """Per weekday (7 x 2): lower and upper quantiles of log((actual+1)/(forecast+1)) before `origin`.

        Errors come from weekly origins in the `calibration_weeks` weeks before `origin`, each scored on the
        days up to `origin` (horizons 1..calibration_horizon); a weekday with fewer than
        `min_errors_per_weekday` errors uses all weekdays pooled.
        """
        c = self.config
        alpha = (1 - c.level) / 2
        errs: dict[int, list[Any]] = {d: [] for d in range(7)}
        pooled = []
        H = c.calibration_horizon
        for j in range(1, c.calibration_weeks + 1):
            o = origin - 7 * j
            if o + 1 - max(0, o + 1 - c.max_history_days) < c.min_history_days:
                break
            ens = self.predict(o, H)[0]
            m = min(H, origin - o)
            a = self.y[o + 1 : o + 1 + m]
            e = np.log1p(a) - np.log1p(ens[:m])
            wd = self.weekday[o + 1 : o + 1 + m]
            live = (a > 0) | (ens[:m] >= 0.5)  # days closed and forecast closed say nothing about the spread
            e, wd = e[live], wd[live]
            for d in range(7):
                errs[d].extend(e[wd == d])
            pooled.extend(e)
        q = np.zeros((7, 2))
        if len(pooled) < 10:
            # too little history to calibrate: a wide, symmetric interval (+-50%) rather than none
            q[:, 0], q[:, 1] = math.log(0.5), math.log(1.5)
            return q
        pq = np.quantile(pooled, [alpha, 1 - alpha])
        for d in range(7):
            by_day = c.interval_by_weekday and len(errs[d]) >= c.min_errors_per_weekday
            q[d] = np.quantile(errs[d], [alpha, 1 - alpha]) if by_day else pq
        q[:, 0] = np.minimum(q[:, 0], 0.0)
        q[:, 1] = np.maximum(q[:, 1], 0.0)
        return q

    def bounds(self, origin: int, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(forecast, lower, upper) arrays for the days after `origin`."""
        ens = self.predict(origin, horizon)[0]
        q = self.interval_quantiles(origin)
        wd = self.weekday[origin + 1 : origin + 1 + horizon]
        lower = np.clip((ens + 1) * np.exp(q[wd, 0]) - 1, 0, None)
        upper = (ens + 1) * np.exp(q[wd, 1]) - 1
        return ens, np.minimum(lower, ens), np.maximum(upper, ens)

    def forecast(self, origin: int, horizon: int | None = None) -> pd.DataFrame:
        """date, forecast, lower, upper for the days after `origin` (volumes, contacts per day)."""
        horizon = self.horizon if horizon is None else horizon
        ens, lower, upper = self.bounds(origin, horizon)
        return pd.DataFrame(
            {"date": self.dates[origin + 1 : origin + 1 + horizon], "forecast": ens, "lower": lower, "upper": upper}
        )


def _series(daily: pd.DataFrame, queue: str | None = None) -> list[tuple[str, str, pd.Series]]:
    """(channel, queue, daily volume Series on a complete daily index) per series, sorted."""
    need = {"date", "channel", "queue", "volume"}
    missing = need - set(daily.columns)
    if missing:
        raise UsageError(
            f"daily volume needs columns date, channel, queue, volume (missing {', '.join(sorted(missing))})"
        )
    d = daily if queue is None else daily[daily["queue"] == queue]
    if d.empty:
        raise ReportlibError("no contact volume to forecast" + (f" for queue {queue!r}" if queue else ""))
    out = []
    for (ch, q), g in d.groupby(SERIES, sort=True):
        s = g.groupby(pd.to_datetime(g["date"]).dt.normalize())["volume"].sum().astype(float)
        s = s.reindex(pd.date_range(s.index.min(), s.index.max(), freq="D"), fill_value=0.0)
        out.append((ch, q, s))
    return out


def daily_series(daily: pd.DataFrame, queue: str | None = None) -> list[tuple[str, str, pd.Series]]:
    """(channel, queue, daily volume Series on a complete daily index, zero-filled) per series, sorted."""
    return _series(daily, queue)


# --- baselines and backtests -----------------------------------------------------------------------


def _baselines(y: np.ndarray, special: np.ndarray, origin: int, horizon: int, weeks: int = 4) -> dict[str, np.ndarray]:
    """Seasonal naive (same weekday last week), mean of the last `weeks` same weekdays, and that mean
    skipping holidays and eves, for days origin+1..origin+horizon."""
    h = np.arange(1, horizon + 1)
    last = origin + h - 7 * (-(-h // 7))  # the latest same weekday on or before the origin
    sn = np.full(horizon, np.nan)
    sm = np.full(horizon, np.nan)
    hm = np.full(horizon, np.nan)
    for day in np.unique(last[last >= 0]):
        at = last == day
        idx = np.arange(day, -1, -7)
        clean = idx[~special[idx]][:weeks]
        sn[at] = y[day]
        sm[at] = y[idx[:weeks]].mean()
        hm[at] = y[clean].mean() if len(clean) else y[idx[:weeks]].mean()
    return {"seasonal_naive": sn, "seasonal_mean": sm, "holiday_mean": hm}


def backtest_origins(last_date: Any, horizon_days: int = 28, months: int = 3, step_days: int = 1) -> pd.DatetimeIndex:
    """Origins (last day of history) from `months` months before the last day, every `step_days`, such that
    the whole horizon is in the data: for 1999-12-31 and 28 days, 1999-09-30 .. 1999-12-03."""
    last = pd.Timestamp(last_date).normalize()
    first = last - pd.DateOffset(months=months)
    final = last - pd.Timedelta(days=horizon_days)
    if final < first:
        return pd.DatetimeIndex([])
    return pd.date_range(first, final, freq=f"{step_days}D")


@dataclass
class Backtest:
    """Backtest results: every (series, origin, horizon) error, summaries by horizon and overall."""

    errors: pd.DataFrame
    by_horizon: pd.DataFrame
    summary: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _wape(actual: pd.Series, fc: pd.Series) -> float:
    den = float(np.nansum(actual))
    return float(np.nansum(np.abs(actual - fc)) / den) if den > 0 else float("nan")


def _nanmean(values: Any) -> float:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else float("nan")


def _score(g: pd.DataFrame) -> dict[str, float]:
    open_days = g["actual"] > 0
    return {
        "wape": _wape(g["actual"], g["forecast"]),
        "wape_seasonal_naive": _wape(g["actual"], g["seasonal_naive"]),
        "wape_seasonal_mean": _wape(g["actual"], g["seasonal_mean"]),
        "wape_holiday_mean": _wape(g["actual"], g["holiday_mean"]),
        "mase": _nanmean(np.abs(g["actual"] - g["forecast"]) / g["scale"]),
        "mase_seasonal_naive": _nanmean(np.abs(g["actual"] - g["seasonal_naive"]) / g["scale"]),
        "coverage": float(((g["actual"] >= g["lower"]) & (g["actual"] <= g["upper"]))[open_days].mean())
        if open_days.any()
        else float("nan"),
        "days": int(len(g)),
    }


def backtest(
    daily: pd.DataFrame,
    calendar: Calendar,
    horizon_days: int = 28,
    months: int = 3,
    config: ForecastConfig | None = None,
    step_days: int = 1,
    queue: str | None = None,
    origins: Sequence[Any] | None = None,
) -> Backtest:
    """Rolling-origin backtest of the daily forecast against seasonal naive and 4-same-weekday means.

    Origins: every `step_days` from `months` months before each series' last day up to the last origin
    whose `horizon_days` horizon is in the data (or `origins`). WAPE = sum|actual - forecast| / sum actual
    over all origins and horizons; MASE divides each absolute error by the mean absolute one-week
    seasonal difference of the history up to that origin. Coverage counts days with contacts.
    """
    config = config or ForecastConfig()
    rows = []
    notes = []
    for ch, q, s in _series(daily, queue):
        o_dates = (
            pd.DatetimeIndex(origins)
            if origins is not None
            else backtest_origins(s.index[-1], horizon_days, months, step_days)
        )
        o_dates = o_dates[(o_dates >= s.index[0]) & (o_dates <= s.index[-1] - pd.Timedelta(days=horizon_days))]
        model = SeriesModel(s.index, s.to_numpy(), calendar, horizon_days, config, ch, q)
        y = model.y
        diffs = np.abs(y[7:] - y[:-7])
        cum = np.concatenate([[0.0], np.cumsum(diffs)])
        used = 0
        parts: dict[str, list] = {
            k: []
            for k in (
                "origin",
                "horizon",
                "date",
                "actual",
                "forecast",
                "lower",
                "upper",
                "regression",
                "seasonal_average",
                "seasonal_naive",
                "seasonal_mean",
                "holiday_mean",
                "scale",
            )
        }
        H = horizon_days
        for od in o_dates:
            o = int((od - s.index[0]).days)
            if o + 1 < max(config.min_history_days, 8 + 7 * 4):
                continue
            ens, lower, upper = model.bounds(o, H)
            _, reg, sma = model.predict(o, H)
            base = _baselines(y, model.special, o, H, config.sma_weeks)
            scale = cum[o - 6] / (o - 6) if o - 6 > 0 else np.nan  # mean |y_t - y_t-7| for t <= o
            used += 1
            for key, value in (
                ("origin", np.repeat(np.datetime64(od, "ns"), H)),
                ("horizon", np.arange(1, H + 1)),
                ("date", model.dates[o + 1 : o + 1 + H].to_numpy()),
                ("actual", y[o + 1 : o + 1 + H]),
                ("forecast", ens),
                ("lower", lower),
                ("upper", upper),
                ("regression", reg),
                ("seasonal_average", sma),
                ("scale", np.full(H, scale if scale > 0 else np.nan)),
                *base.items(),
            ):
                parts[key].append(value)
        if used:
            frame = pd.DataFrame({k: np.concatenate(v) for k, v in parts.items()})
            frame.insert(0, "queue", q)
            frame.insert(0, "channel", ch)
            rows.append(frame)
        else:
            notes.append(f"{ch}/{q}: too short for a {months}-month backtest at {horizon_days} days")
    if not rows:
        raise ReportlibError(
            f"no series has enough history for a backtest over {months} months at a {horizon_days}-day horizon"
        )
    errors = pd.concat(rows, ignore_index=True)
    by_h = pd.DataFrame([{"horizon": h, **_score(g)} for h, g in errors.groupby("horizon")])
    summary = []
    for (ch, q), g in errors.groupby(SERIES, sort=True):
        summary.append(
            {
                "channel": ch,
                "queue": q,
                "model": "ensemble",
                **_score(g),
                "origins": int(g["origin"].nunique()),
                "horizon_days": horizon_days,
            }
        )
    if len(summary) > 1:
        summary.append(
            {
                "channel": ALL_QUEUES,
                "queue": ALL_QUEUES,
                "model": "ensemble",
                **_score(errors),
                "origins": int(errors["origin"].nunique()),
                "horizon_days": horizon_days,
            }
        )
    return Backtest(errors, by_h, pd.DataFrame(summary), notes)


BACKTEST_COLUMNS = ["model", "wape", "wape_seasonal_naive", "wape_seasonal_mean", "mase", "origins", "horizon_days"]
# Columns a nested selection backtest (forecast_select.nested_backtest) adds to the summary.
SELECTION_COLUMNS = [
    "method",
    "methods",
    "history_days",
    "missing_days",
    "wape_seasonal_median",
    "wape_holiday_median",
    "best_baseline",
    "wape_best_baseline",
    "width",
    "winkler",
    "note",
]


def backtest_records(bt: Backtest) -> pd.DataFrame:
    """The CLI's backtest summary: channel, queue, model, wape, wape_seasonal_naive, wape_seasonal_mean, mase,
    origins, horizon_days, then wape_holiday_mean and coverage (80% interval, days with contacts); from a
    nested selection backtest also wape_seasonal_median, wape_holiday_median, best_baseline,
    wape_best_baseline, width, winkler (relative to volume), method (chosen at the last origin), methods
    (how often each was chosen), history_days, missing_days and note."""
    cols = ["channel", "queue"] + BACKTEST_COLUMNS + ["wape_holiday_mean", "coverage", "days"]
    cols += [c for c in SELECTION_COLUMNS if c in bt.summary.columns]
    return bt.summary[cols].copy()


# --- intraday split --------------------------------------------------------------------------------


def intraday_profile(
    intervals: pd.DataFrame,
    calendar: Calendar | None = None,
    weeks: int = 8,
    end: Any | None = None,
    interval_minutes: int = 30,
) -> pd.DataFrame:
    """Share of a day's volume per interval, by channel, queue and weekday: channel, queue, weekday, minute, share.

    From the last `weeks` weeks of `intervals` (interval_start, channel, queue, volume) up to `end`,
    holidays, eves and the days the calendar leaves out of a series' history (exclude_from_history) left out
    (unless they are all its days there: a profile from them, rather than a flat one that staffs the night).
    `minute` is the interval's start in minutes after local midnight.
    Shares of each (channel, queue, weekday) sum to 1; a weekday without volume gets the series' all-days
    profile. Source intervals must be `interval_minutes` long (use interval_volume).
    """
    if intervals.empty:
        raise ReportlibError("no interval volume to build an intraday profile from")
    iv = intervals.copy()
    iv["interval_start"] = pd.to_datetime(iv["interval_start"])
    day = iv["interval_start"].dt.normalize()
    last = pd.Timestamp(end).normalize() if end is not None else day.max()
    keep = (day <= last) & (day > last - pd.Timedelta(weeks=weeks))
    iv, day = iv[keep], day[keep]
    if calendar is not None and len(iv):
        cal = calendar_features(pd.date_range(day.min(), day.max(), freq="D"), calendar)
        special = cal[[c for c in cal.columns if c.startswith(HOLIDAY_PREFIX)]].any(axis=1)
        iv, day = iv[~day.map(special).to_numpy(dtype=bool)], day[~day.map(special).to_numpy(dtype=bool)]
    minute = (iv["interval_start"] - day).dt.total_seconds() // 60
    iv = iv.assign(
        weekday=day.dt.dayofweek.to_numpy(), minute=(minute // interval_minutes * interval_minutes).astype(int)
    )
    slots = np.arange(0, 1440, interval_minutes)
    rows = []
    for (ch, q), g in iv.groupby(SERIES, sort=True):
        if calendar is not None and calendar.excluded:  # days the calendar leaves out of this series' history
            kept = g[~excluded_days(calendar, pd.DatetimeIndex(g["interval_start"].dt.normalize()), ch, q)]
            g = kept if kept["volume"].sum() > 0 else g  # all of them: their shape, rather than none (flat)
        allday = g.groupby("minute")["volume"].sum().reindex(slots, fill_value=0.0)
        for wd in range(7):
            v = g.loc[g["weekday"] == wd].groupby("minute")["volume"].sum().reindex(slots, fill_value=0.0)
            src = v if v.sum() > 0 else allday
            share = src / src.sum() if src.sum() > 0 else pd.Series(1.0 / len(slots), index=slots)
            rows.append(
                pd.DataFrame({"channel": ch, "queue": q, "weekday": wd, "minute": slots, "share": share.to_numpy()})
            )
    return pd.concat(rows, ignore_index=True)


def split_intraday(
    daily_forecast: pd.DataFrame,
    profile: pd.DataFrame,
    interval_minutes: int = 30,
    columns: Sequence[str] = ("forecast",),
) -> pd.DataFrame:
    """Daily forecast spread over intervals by the weekday profile: interval_start, date, channel, queue,
    interval_minutes, and each of `columns`. Each day's intervals sum to its daily figure (float rounding).

    A series without a profile is spread evenly over the day.
    """
    slots = np.arange(0, 1440, interval_minutes)
    p = profile.copy()
    if set(p["minute"].unique()) - set(slots):
        raise UsageError(f"the profile is not in {interval_minutes}-minute intervals")
    p = (
        p.pivot_table(index=SERIES + ["weekday"], columns="minute", values="share", aggfunc="sum")
        .reindex(columns=slots, fill_value=0.0)
        .fillna(0.0)
    )
    f = daily_forecast.copy()
    f["date"] = pd.to_datetime(f["date"]).dt.normalize()
    f["weekday"] = f["date"].dt.dayofweek
    key = pd.MultiIndex.from_frame(f[SERIES + ["weekday"]])
    shares = p.reindex(key).to_numpy(dtype=float)
    missing = np.isnan(shares).any(axis=1) | (np.nan_to_num(shares).sum(axis=1) <= 0)
    shares[missing] = 1.0 / len(slots)
    shares = shares / shares.sum(axis=1, keepdims=True)
    n = len(slots)
    out = pd.DataFrame(
        {
            "interval_start": (
                f["date"].to_numpy()[:, None] + pd.to_timedelta(slots, unit="m").to_numpy()[None, :]
            ).ravel(),
            "date": np.repeat(f["date"].to_numpy(), n),
            "channel": np.repeat(f["channel"].to_numpy(), n),
            "queue": np.repeat(f["queue"].to_numpy(), n),
            "interval_minutes": interval_minutes,
        }
    )
    for col in columns:
        out[col] = (f[col].to_numpy(dtype=float)[:, None] * shares).ravel()
    return out


def poisson_floor(rate: Any) -> float:
    """The WAPE that a perfect forecast of Poisson arrival rates would still have: sum E|X - l| / sum l.

    E|X - l| for X ~ Poisson(l) is 2 l P(X = floor(l)) (the Poisson mean absolute deviation).
    """
    from scipy.special import gammaln  # scipy.stats would do, but takes seconds to import

    lam = np.asarray(rate, dtype=float)
    lam = lam[np.isfinite(lam) & (lam > 0)]
    if lam.sum() <= 0:
        return float("nan")
    k = np.floor(lam)
    mad = 2 * lam * np.exp(k * np.log(lam) - lam - gammaln(k + 1))  # 2 l P(X = floor(l))
    return float(mad.sum() / lam.sum())


def backtest_intraday(
    intervals: pd.DataFrame,
    calendar: Calendar,
    origins: Sequence[Any] | None = None,
    days: int = 7,
    interval_minutes: int = 30,
    profile_weeks: int = 8,
    months: int = 3,
    config: ForecastConfig | None = None,
    missing: Iterable[Any] = (),
) -> dict[str, Any]:
    """Interval-level backtest for the next `days` days: the daily forecast split by the weekday profile.

    `intervals` holds interval_start, channel, queue, volume at `interval_minutes`. Origins default to
    weekly ones over the last `months` months. The profile at each origin comes from the
    `profile_weeks` weeks up to it (holidays and eves left out), as in intraday_profile. The days `missing`
    from the export (forecast_select.export_gaps) and those the calendar leaves out of a series' history
    (exclude_from_history) are neither learnt from nor scored, as in the daily backtest: an interval is scored
    only when its day and the same day a week earlier (the seasonal naive's) are both in the history. Returns
    {'summary': one row per series (and 'all') with wape, wape_seasonal_naive (same interval one week
    earlier), poisson_floor (the WAPE a perfect rate forecast would still have, with the forecast as
    the rate), intervals, origins; 'errors': per interval}.
    """
    config = config or ForecastConfig()
    iv = intervals.copy()
    iv["interval_start"] = pd.to_datetime(iv["interval_start"])
    iv["date"] = iv["interval_start"].dt.normalize()
    slot = ((iv["interval_start"] - iv["date"]).dt.total_seconds() // 60 // interval_minutes).astype(int)
    iv["slot"] = slot
    n_slots = 1440 // interval_minutes
    daily = iv.groupby(["date"] + SERIES, as_index=False)["volume"].sum()
    if origins is None:
        origins = backtest_origins(daily["date"].max(), days, months, 7)
    gaps = pd.DatetimeIndex(pd.to_datetime(list(missing))).normalize()
    rows = []
    for ch, q, s in _series(daily):
        absent = np.asarray(s.index.isin(gaps)) | excluded_days(calendar, s.index, ch, q)
        model = SeriesModel(s.index, s.to_numpy(), calendar, days, config, ch, q, absent)
        g = iv[(iv["channel"] == ch) & (iv["queue"] == q)]
        day_idx = ((g["date"] - s.index[0]).dt.days).to_numpy()
        M = np.zeros((len(s), n_slots))
        np.add.at(M, (day_idx, g["slot"].to_numpy()), g["volume"].to_numpy(dtype=float))
        special = model.special[: len(s)]
        wd = model.weekday[: len(s)]
        for od in pd.DatetimeIndex(origins):
            o = int((od - s.index[0]).days)
            if o < config.min_history_days or o + days >= len(s):
                continue
            ens = model.predict(o, days)[0]
            lo = max(0, o + 1 - 7 * profile_weeks)
            use = np.arange(lo, o + 1)
            use = use[~special[use] & ~absent[use]]
            allday = M[use].sum(axis=0)
            fut = np.arange(o + 1, o + 1 + days)
            shares = np.empty((days, n_slots))
            for i, t in enumerate(fut):
                v = M[use[wd[use] == wd[t]]].sum(axis=0)
                src = v if v.sum() > 0 else allday
                shares[i] = src / src.sum() if src.sum() > 0 else 1.0 / n_slots
            scored = ~absent[fut] & ~absent[fut - 7]
            fc_iv = (ens[:, None] * shares)[scored]
            fut = fut[scored]
            rows.append(
                pd.DataFrame(
                    {
                        "origin": od,
                        "channel": ch,
                        "queue": q,
                        "interval_start": (
                            model.dates[fut].to_numpy()[:, None]
                            + (np.arange(n_slots) * interval_minutes * 60 * 10**9).astype("timedelta64[ns]")
                        ).ravel(),
                        "forecast": fc_iv.ravel(),
                        "actual": M[fut].ravel(),
                        "seasonal_naive": M[fut - 7].ravel(),
                    }
                )
            )
    if not rows:
        raise ReportlibError("not enough interval history for an interval-level backtest")
    err = pd.concat(rows, ignore_index=True)

    def score(g: pd.DataFrame) -> dict[str, Any]:
        return {
            "wape": _wape(g["actual"], g["forecast"]),
            "wape_seasonal_naive": _wape(g["actual"], g["seasonal_naive"]),
            "poisson_floor": poisson_floor(g["forecast"]),
            "intervals": int(len(g)),
            "origins": int(g["origin"].nunique()),
        }

    summary = [{"channel": ch, "queue": q, **score(g)} for (ch, q), g in err.groupby(SERIES, sort=True)]
    if len(summary) > 1:
        summary.append({"channel": ALL_QUEUES, "queue": ALL_QUEUES, **score(err)})
    return {"summary": pd.DataFrame(summary), "errors": err, "interval_minutes": interval_minutes}


# --- vintages --------------------------------------------------------------------------------------


def archive_vintage(
    forecast: pd.DataFrame, folder: str | os.PathLike, origin: Any, created_at: Any | None = None
) -> Path:
    """Write a forecast (date, channel, queue, forecast, lower, upper) as a Parquet 'vintage' under `folder`.

    `origin` is the last day of actuals the forecast used. The file is forecast_<origin>_<created>.parquet
    and holds the columns plus origin and created_at; written atomically (temporary file, then rename).
    """
    missing = [c for c in FORECAST_COLUMNS if c not in forecast.columns]
    if missing:
        raise UsageError(f"a forecast vintage needs columns {', '.join(missing)}")
    folder = Path(folder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # made here: its owner's alone, as its files are
    o = pd.Timestamp(origin).normalize()
    created = pd.Timestamp(created_at) if created_at is not None else pd.Timestamp.now().floor("s")
    frame = forecast[FORECAST_COLUMNS].copy()
    frame["date"] = pd.to_datetime(frame["date"]).dt.normalize()
    frame["origin"] = o
    frame["created_at"] = created
    path = folder / f"forecast_{o:%Y-%m-%d}_{created:%Y%m%dT%H%M%S}.parquet"
    buffer = io.BytesIO()  # a month's forecast: a few hundred KB at most
    frame.to_parquet(buffer, index=False)
    write_atomic(path, buffer.getvalue())
    return path


def load_vintages(folder: str | os.PathLike, skipped: list[str] | None = None) -> pd.DataFrame:
    """All archived vintages under `folder`, one frame (empty with the columns when there are none). A file that
    cannot be read as a vintage (empty, cut short, another table) is left out, not a failure of every report that
    reads the folder; `skipped`, when given, gets one line per file left out."""
    import pyarrow as pa

    files = sorted(Path(folder).glob("forecast_*.parquet")) if Path(folder).is_dir() else []
    cols = FORECAST_COLUMNS + ["origin", "created_at"]
    frames = []
    for f in files:
        try:
            frames.append(pd.read_parquet(f, columns=cols))
        except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
            if skipped is not None:
                skipped.append(f"{f.name} is not a readable forecast vintage ({' '.join(str(exc).split())[:120]})")
    if not frames:
        return pd.DataFrame({c: [] for c in cols})
    return pd.concat(frames, ignore_index=True)[cols]


def vintages_in_force(vintages: pd.DataFrame) -> pd.DataFrame:
    """One row per origin, date, channel and queue of `vintages` (as load_vintages gives them): the forecast as it
    stood on that date, the vintage made last before the day began; when none was made before it (a month's
    report run late, or the whole history run afterwards), the first made.

    A later re-run of the same origin, corrected or failed part way, is what was known from then on: it replaces
    the plan of the days after it was made and no day before (the plan a day was staffed by stays the plan of
    that day, and a run of last quarter made today changes no past month). To plan from a re-run in place of the
    first, remove the first's file (forecast_<origin>_<created>.parquet). Times are the machine's clock
    (created_at) against the local day."""
    key = ["origin", "date", "channel", "queue"]
    if vintages.empty:
        return vintages
    v = vintages.copy()
    v["created_at"] = pd.to_datetime(v["created_at"])
    v["date"] = pd.to_datetime(v["date"]).dt.normalize()
    v = v.sort_values("created_at", kind="stable")
    known = v["created_at"] < v["date"]  # made before the day began
    any_known = known.groupby([v[k] for k in key]).transform("any")
    last_known = v[known].drop_duplicates(key, keep="last")
    first_made = v[~any_known].drop_duplicates(key, keep="first")
    return pd.concat([last_known, first_made]).sort_values(key, kind="stable").reset_index(drop=True)


def compare_vintages(
    vintages: pd.DataFrame | str | os.PathLike, actual: pd.DataFrame, by: Sequence[str] = ()
) -> pd.DataFrame:
    """Past forecasts against actuals by lead time (days from origin to date): lead_days, [by], vintages,
    days, actual, forecast, wape, bias (sum(forecast - actual) / sum actual), coverage (share of days in
    the interval). Only days with an actual are scored; of an origin's re-runs, the one in force on each day
    counts (vintages_in_force)."""
    v = load_vintages(vintages) if not isinstance(vintages, pd.DataFrame) else vintages.copy()
    cols = ["lead_days", *by, "vintages", "days", "actual", "forecast", "wape", "bias", "coverage"]
    if v.empty:
        return pd.DataFrame({c: [] for c in cols})
    v = vintages_in_force(v)
    a = actual.rename(columns={"volume": "actual"})[["date", "channel", "queue", "actual"]].copy()
    a["date"] = pd.to_datetime(a["date"]).dt.normalize()
    m = v.merge(a, on=["date", "channel", "queue"], how="inner")
    m["lead_days"] = (pd.to_datetime(m["date"]) - pd.to_datetime(m["origin"])).dt.days
    rows = []
    for key, g in m.groupby(["lead_days", *by], sort=True):
        key = key if isinstance(key, tuple) else (key,)
        act = g["actual"].sum()
        rows.append(
            {
                **dict(zip(["lead_days", *by], key)),
                "vintages": int(g["origin"].nunique()),
                "days": int(len(g)),
                "actual": float(act),
                "forecast": float(g["forecast"].sum()),
                "wape": _wape(g["actual"], g["forecast"]),
                "bias": float((g["forecast"] - g["actual"]).sum() / act) if act > 0 else float("nan"),
                "coverage": float(((g["actual"] >= g["lower"]) & (g["actual"] <= g["upper"])).mean()),
            }
        )
    return pd.DataFrame(rows, columns=cols)


# --- staffing from the forecast --------------------------------------------------------------------


def _lookup(
    stats: pd.DataFrame | float | Mapping[Any, float] | None,
    frame: pd.DataFrame,
    col: str,
    default: float | None = None,
) -> np.ndarray:
    """Per-row value of `col` from a per-(channel, queue) frame, a {channel: value} mapping or a scalar."""
    if stats is None:
        return np.full(len(frame), np.nan if default is None else default, dtype=float)
    if isinstance(stats, pd.DataFrame):
        key = pd.MultiIndex.from_frame(frame[SERIES])
        vals = stats.set_index(SERIES)[col].reindex(key).to_numpy(dtype=float)
    elif isinstance(stats, Mapping):
        vals = frame["channel"].map(lambda c: stats.get(c, np.nan)).to_numpy(dtype=float)
    else:
        vals = np.full(len(frame), float(stats))
    if default is not None:
        vals = np.where(np.isnan(vals), default, vals)
    return vals


def staffing_plan(
    interval_forecast: pd.DataFrame,
    stats: pd.DataFrame | float,
    targets: Mapping[str, Mapping[str, float]],
    model: str = "erlang_c",
    interval_minutes: int | None = None,
    value: str = "forecast",
) -> pd.DataFrame:
    """Required productive agents per interval for phone and chat (Erlang C or Erlang A with each queue's
    patience): the interval forecast plus aht_s, patience_s, target_sl, answer_s, concurrency, agents.

    `stats` gives aht_s (and patience_s for Erlang A) per channel/queue (contact_stats) or one AHT in s;
    `targets` maps a channel to {target_sl (share), answer_s (s), concurrency (contacts an agent handles at once;
    1 when not given)}: the model's servers / concurrency, rounded up (staffing.agents_for_servers). Email rows
    are left out (workload).
    """
    from reportlib.planning.staffing import agents_for_servers, required_agents

    f = interval_forecast[interval_forecast["channel"].isin(LIVE_CHANNELS)].copy()
    minutes = interval_minutes or f["interval_minutes"]
    f["aht_s"] = _lookup(stats, f, "aht_s")
    bad = f.loc[np.isnan(f["aht_s"]) & (f[value] > 0), SERIES].drop_duplicates()
    if len(bad):
        raise ReportlibError(
            "no average handle time for "
            + ", ".join(f"{c}/{q}" for c, q in bad.itertuples(index=False))
            + "; give aht_s for it (capacity.yaml default_aht_s)"
        )
    f["aht_s"] = f["aht_s"].fillna(1.0)
    f["target_sl"] = f["channel"].map(lambda c: float(targets.get(c, {}).get("target_sl", np.nan)))
    f["answer_s"] = f["channel"].map(lambda c: float(targets.get(c, {}).get("answer_s", np.nan)))
    if f[["target_sl", "answer_s"]].isna().any().any():
        raise UsageError(
            "service targets need target_sl and answer_s for phone and chat (capacity.yaml service_targets)"
        )
    interval_s = np.asarray(minutes, dtype=float) * 60.0
    patience = None
    if model == "erlang_a":
        f["patience_s"] = _lookup(stats, f, "patience_s") if isinstance(stats, pd.DataFrame) else np.nan
        # no abandons seen (inf) or no estimate (NaN): callers wait indefinitely, which is Erlang C
        f["patience_s"] = f["patience_s"].where(np.isfinite(f["patience_s"]) & (f["patience_s"] > 0), 1e12)
        patience = f["patience_s"].to_numpy()
    f["concurrency"] = f["channel"].map(lambda c: float(targets.get(c, {}).get("concurrency", 1.0)))
    servers = required_agents(
        f[value].to_numpy(dtype=float),
        f["aht_s"].to_numpy(),
        interval_s,
        f["target_sl"].to_numpy(),
        f["answer_s"].to_numpy(),
        model=model,
        patience_s=patience,
    )
    f["agents"] = np.asarray(agents_for_servers(servers, f["concurrency"].to_numpy()), dtype=float)
    f["model"] = model
    return f.reset_index(drop=True)


def weekly_fte(
    plan: pd.DataFrame,
    daily_forecast: pd.DataFrame | None,
    stats: pd.DataFrame | float,
    shrinkage: float,
    hours_per_fte_week: float = 40.0,
    value: str = "forecast",
) -> pd.DataFrame:
    """Required scheduled FTE by week (Monday) and channel/queue: week_start, channel, queue, method,
    volume, agent_hours (productive hours), fte = agent_hours / (1 - shrinkage) / hours_per_fte_week.

    Phone/chat from the interval plan's agents (staffing_plan); email (deferred work) by workload from
    the daily forecast: volume x aht_s / 3600 productive hours.
    """
    if not 0 <= shrinkage < 1:
        raise UsageError("shrinkage must be a share in [0, 1)")
    if hours_per_fte_week <= 0:
        raise UsageError("hours_per_fte_week must be > 0")
    parts = []
    if plan is not None and len(plan):
        p = plan.copy()
        start = pd.to_datetime(p["interval_start"])
        p["week_start"] = start.dt.normalize() - pd.to_timedelta(start.dt.dayofweek, unit="D")
        p["agent_hours"] = p["agents"] * p["interval_minutes"].astype(float) / 60.0
        g = p.groupby(["week_start"] + SERIES, as_index=False).agg(
            volume=(value, "sum"), agent_hours=("agent_hours", "sum")
        )
        g["method"] = "erlang_a" if (p["model"] == "erlang_a").any() else "erlang_c"
        parts.append(g)
    if daily_forecast is not None:
        e = daily_forecast[~daily_forecast["channel"].isin(LIVE_CHANNELS)].copy()
        if len(e):
            e["aht_s"] = _lookup(stats, e, "aht_s")
            if (np.isnan(e["aht_s"]) & (e[value] > 0)).any():
                raise ReportlibError("no handle time for some email queues; give aht_s for them")
            d = pd.to_datetime(e["date"]).dt.normalize()
            e["week_start"] = d - pd.to_timedelta(d.dt.dayofweek, unit="D")
            e["agent_hours"] = e[value] * e["aht_s"].fillna(0.0) / 3600.0
            g = e.groupby(["week_start"] + SERIES, as_index=False).agg(
                volume=(value, "sum"), agent_hours=("agent_hours", "sum")
            )
            g["method"] = "workload"
            parts.append(g)
    if not parts:
        return pd.DataFrame(columns=["week_start", "channel", "queue", "method", "volume", "agent_hours", "fte"])
    out = pd.concat(parts, ignore_index=True)
    out["fte"] = out["agent_hours"] / (1 - shrinkage) / hours_per_fte_week
    return (
        out[["week_start", "channel", "queue", "method", "volume", "agent_hours", "fte"]]
        .sort_values(["week_start"] + SERIES)
        .reset_index(drop=True)
    )


# --- the whole forecast for a report ---------------------------------------------------------------


def forecast_records(forecast: pd.DataFrame, decimals: int = 2) -> pd.DataFrame:
    """The forecast records of docs/definitions.md#forecast-records: date (YYYY-MM-DD), channel, queue, forecast, lower, upper."""
    out = forecast[FORECAST_COLUMNS].copy()
    out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    for col in ("forecast", "lower", "upper"):
        out[col] = out[col].astype(float).round(decimals)
    return out.reset_index(drop=True)
