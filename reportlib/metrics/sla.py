"""Client SLA contracts: compliance for a month, month-to-date projection, email business-hours SL.

Contracts live in parameters/sla_contracts.yaml:

    profiles:
      gold:
        description: ...
        terms:
          - {channel: phone, metric: service_level, threshold_s: 30, target: 0.8,
             sl_definition: offered, short_abandon_s: 5, period: month, penalty_share: 0.05}
          - {channel: phone, metric: abandon_rate, max: 0.05, period: month, penalty_share: 0.02}
          - {channel: email, metric: service_level, threshold_h: 8, target: 0.9, period: month,
             penalty_share: 0.03}

A term's metric is one of METRICS: share metrics with a floor (`target`: service_level, fcr,
fcr_repeat, csat_top2) or a ceiling (`max`: abandon_rate, escalation_rate, transfer_rate) and mean
metrics with a ceiling (asa_s, aht_s) or floor (csat_mean). An email service-level term with
`threshold_h` is first response within N BUSINESS hours (`email_first_response`); with `threshold_s`
it is wall-clock wait like the other channels. The measurement period is the calendar month
(local time). A missed term puts `penalty_share` x the client's monthly_fee at risk. A term with
no volume in the month is neither met nor missed (met is missing) and puts nothing at risk.

Business hours: `BusinessCalendar` (opening hours per weekday, holidays from the `holidays`
package plus extra dates) and a vectorized business-time clock in numpy.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from reportlib.core.errors import ReportlibError, UsageError
from reportlib.core.months import month_bounds
from reportlib.core.params import DEFAULT_TIMEZONE, WEEKDAY_NAMES, did_you_mean, weekday_index
from reportlib.core.safety import printable
from reportlib.data.source import DataSource, Problem, file_rows, located
from reportlib.metrics.contacts import (
    as_table,
    check_sl_definition,
    contact_counts,
    ratio,
    service_level_from_counts,
    with_optional,
)

# metric -> (kind, direction): kind 'share' (numerator/denominator counts) or 'mean'.
METRICS: dict[str, tuple[str, str]] = {
    "service_level": ("share", "min"),
    "fcr": ("share", "min"),
    "fcr_repeat": ("share", "min"),
    "csat_top2": ("share", "min"),
    "abandon_rate": ("share", "max"),
    "escalation_rate": ("share", "max"),
    "transfer_rate": ("share", "max"),
    "asa_s": ("mean", "max"),
    "aht_s": ("mean", "max"),
    "csat_mean": ("mean", "min"),
}
# how a term's label names its metric (Term.label): "phone speed of answer at most 30 s", not "phone asa_s <= 30"
METRIC_NAMES = {
    "fcr": "first-contact resolution",
    "fcr_repeat": "resolved without a repeat contact",
    "csat_top2": "satisfied (top-2 score)",
    "asa_s": "speed of answer",
    "aht_s": "handle time",
    "csat_mean": "mean satisfaction score",
}
_ALIASES = {
    "asa": "asa_s",
    "aht": "aht_s",
    "sl": "service_level",
    "csat": "csat_top2",
    "first_response": "service_level",
    "email_first_response": "service_level",
}
# numerator, denominator count columns of contact_counts for the share metrics
_SHARE_COUNTS = {
    "fcr": ("fcr_yes", "fcr_known"),
    "fcr_repeat": ("fcr_repeat_ok", "fcr_repeat_known"),
    "csat_top2": ("csat_top2_n", "csat_responses"),
    "abandon_rate": ("abandoned", "offered"),
    "escalation_rate": ("escalated_n", "escalation_known"),
    "transfer_rate": ("transferred_n", "transfer_known"),
}
_MEAN_COUNTS = {
    "asa_s": ("wait_answered_s", "wait_answered_n"),
    "aht_s": ("handle_s_sum", "handle_n"),
    "csat_mean": ("csat_sum", "csat_responses"),
}
_EPOCH = np.datetime64("2000-01-03", "D")  # a Monday; any fixed day works (differences cancel)


# --- business calendar -----------------------------------------------------------------------------


def _clock(value: Any) -> int:
    """Seconds after midnight from 'HH:MM', 'HH:MM:SS', a datetime.time or a number of hours."""
    if isinstance(value, dt.time):
        return value.hour * 3600 + value.minute * 60 + value.second
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(round(float(value) * 3600))
    text = str(value).strip()
    parts = text.split(":")
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        raise UsageError(f"calendar.business_hours: expected a time as HH:MM, got {value!r}") from None
    if not 1 <= len(nums) <= 3 or not 0 <= nums[0] <= 24:
        raise UsageError(f"calendar.business_hours: expected a time as HH:MM, got {value!r}")
    nums += [0] * (3 - len(nums))
    return nums[0] * 3600 + nums[1] * 60 + nums[2]


def _hhmm(seconds: int) -> str:
    """Seconds after midnight as HH:MM (HH:MM:SS when not a whole minute): how business hours are written."""
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


def _weekday(name: Any) -> int:
    """Monday = 0 .. Sunday = 6 from a number or a weekday name (core.params.weekday_index); UsageError else."""
    index = weekday_index(int(name) if isinstance(name, np.integer) else name)
    if index is not None:
        return index
    if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
        raise UsageError(f"calendar.business_hours: weekday numbers go from 0 (Monday) to 6 (Sunday), got {name!r}")
    raise UsageError(f"calendar.business_hours: expected a weekday name (mon..sun) or number 0..6, got {name!r}")


@lru_cache(maxsize=64)
def country_holidays(
    country: str, subdiv: str | None, years: tuple[int, ...], categories: tuple[str, ...] | None, observed: bool
) -> tuple[tuple[dt.date, str], ...]:
    """(date, name) of each public holiday of `country` (its `subdiv`) in `years`, from the holidays package
    (`categories`: None for the package's default), sorted; remembered (the package builds each year afresh,
    ~60 ms a call). UsageError for an unknown country, subdivision or category."""
    import holidays as hol

    kwargs: dict[str, Any] = {"subdiv": subdiv, "years": list(years), "observed": observed}
    if categories:
        kwargs["categories"] = categories
    try:
        cal = hol.country_holidays(country, **kwargs)
    except NotImplementedError as exc:
        if subdiv is not None and country.upper() in hol.list_supported_countries():  # the country is known
            raise UsageError(f"calendar: the holidays package has no subdivision {subdiv!r} of {country!r}") from None
        raise UsageError(f"calendar: the holidays package does not know country {country!r} ({exc})") from None
    except Exception as exc:  # unknown subdivision or category
        raise UsageError(f"calendar: holidays for {country!r} could not be built: {exc}") from None
    return tuple(sorted(cal.items()))


def closes(name: Any, closed: Sequence[str] | None) -> bool:
    """Whether the holiday named `name` closes the centre: every holiday when `closed` is None, else one whose name
    (any of a day's names, which the holidays package joins with ";") starts with one of `closed`, in any case. The
    one rule for the business clock and the forecast (planning.forecast.Calendar)."""
    if closed is None:
        return True
    names = [n.strip().casefold() for n in str(name).split(";")]
    return any(n.startswith(str(p).strip().casefold()) for n in names for p in closed)


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours per weekday (seconds after local midnight) and holidays (closed all day)."""

    hours: tuple[tuple[int, int] | None, ...] = ((8 * 3600, 18 * 3600),) * 5 + (None, None)
    country: str | None = "US"
    subdiv: str | None = None
    extra_holidays: tuple[dt.date, ...] = ()
    not_holidays: tuple[dt.date, ...] = ()
    closed: tuple[str, ...] | None = None  # holiday name prefixes that close the centre (None: all)
    categories: tuple[str, ...] | None = None
    observed: bool = True

    def __post_init__(self) -> None:
        if len(self.hours) != 7:
            raise UsageError("calendar.business_hours: need one entry per weekday Monday..Sunday")
        for day, h in zip(WEEKDAY_NAMES, self.hours):
            if h is not None and not 0 <= h[0] < h[1] <= 86400:
                span = f"calendar.business_hours: {day} opens at {_hhmm(h[0])} and closes at {_hhmm(h[1])}"
                if max(h) > 86400:
                    raise UsageError(f"{span}; a day's hours end at 24:00 at most")
                cross = " (hours that cross midnight are not supported: one span a day, 00:00-24:00 at most)"
                raise UsageError(f"{span}; the opening must come before the closing{cross if h[1] < h[0] else ''}")

    @property
    def open_weekdays(self) -> tuple[int, ...]:
        """The weekdays with opening hours, Monday = 0."""
        return tuple(i for i, h in enumerate(self.hours) if h is not None)

    def holidays_for(self, years: Sequence[int]) -> np.ndarray:
        """The closed dates (datetime64[D]) falling in the given years."""
        days: set[dt.date] = set()
        if self.country:
            for day, name in country_holidays(
                self.country, self.subdiv, tuple(sorted(set(years))), self.categories, self.observed
            ):
                if closes(name, self.closed):
                    days.add(day)
        days.update(d for d in self.extra_holidays if d.year in set(years))
        days.difference_update(self.not_holidays)
        return np.array(sorted(days), dtype="datetime64[D]")

    def clocks(self, *arrays: Any, tz: str | None = None, second_pass: Sequence[Any] = ()) -> list[np.ndarray]:
        """Business seconds from a fixed epoch to each local naive timestamp (NaN for NaT), per array.

        Differences between values of the returned arrays are elapsed business time (one holiday
        set covers all the arrays, so compare only clocks from one call). Hand-written because no
        library computes business-hour durations with holidays over arrays: numpy.busday_count
        counts whole business days (weekmask + holidays, vectorized), so the clock is
        sum over weekdays k of busday_count(epoch, day, weekmask=only k) x open seconds of k,
        plus the open seconds already elapsed on the timestamp's own day.

        With `tz` (the local times' zone) the seconds are real ones on the days the clocks change (`_dst_days`):
        hours of 00:00-24:00 hold 23 real hours on the spring day and 25 on the autumn one, and an email answered
        an hour after arriving across the change took one hour, not two (a probe: it was judged on the wall
        clock). A repeated wall time (the autumn hour) is read as its first pass, as `add_seconds_local` does, unless
        `second_pass` (one boolean array or None per array) says it is the second: a reply computed as arrival plus
        its wait knows which pass it fell in (`second_pass_of`; a probe found such replies an hour short).
        """
        values = [np.asarray(pd.to_datetime(np.asarray(a).ravel()).to_numpy(dtype="datetime64[ns]")) for a in arrays]
        days = [v[~np.isnat(v)].astype("datetime64[D]") for v in values]
        present = [d for d in days if len(d)]
        if not present:
            return [np.full(v.shape, np.nan) for v in values]
        lo = min(int(str(d.min())[:4]) for d in present)
        hi = max(int(str(d.max())[:4]) for d in present)
        hol = self.holidays_for(list(range(lo, hi + 1)))
        clocks = [self._clock(v, hol) for v in values]
        if tz:
            dst = self._dst_days(lo, hi, hol, tz)
            if len(dst["day"]):
                passes = list(second_pass) + [None] * (len(values) - len(second_pass))
                clocks = [self._dst_corrected(c, v, dst, tz, f) for c, v, f in zip(clocks, values, passes)]
        return clocks

    def _dst_days(self, lo: int, hi: int, hol: np.ndarray, tz: str) -> dict[str, np.ndarray]:
        """The open days of years lo..hi on which the clocks change in `tz` (their UTC offset at midnight differs
        from the next midnight's): day, opening (datetime64, local naive), the real seconds of its open hours
        and what they add to the wall clock's (negative in spring)."""
        days = np.arange(np.datetime64(f"{lo}-01-01"), np.datetime64(f"{hi + 1}-01-02"), dtype="datetime64[D]")
        offset = _utc_offset_s(days.astype("datetime64[ns]"), tz)
        change = days[:-1][offset[:-1] != offset[1:]]
        rows: dict[str, list] = {"day": [], "open": [], "length": [], "extra": []}
        for day in change[np.is_busday(change, weekmask=self._weekmask(), holidays=hol)]:
            h = self.hours[(int(day.astype("int64")) - 4) % 7]
            if h is None:
                continue
            start = day.astype("datetime64[ns]")
            walls = np.array([start + np.timedelta64(h[0], "s"), start + np.timedelta64(h[1], "s")])
            real = float(np.diff(_utc_naive(walls, tz)).astype("int64")[0]) / 1e9
            rows["day"].append(day)
            rows["open"].append(walls[0])
            rows["length"].append(real)
            rows["extra"].append(real - float(h[1] - h[0]))
        return {
            "day": np.array(rows["day"], dtype="datetime64[D]"),
            "open": np.array(rows["open"], dtype="datetime64[ns]"),
            "length": np.array(rows["length"], dtype="float64"),
            "extra": np.array(rows["extra"], dtype="float64"),
        }

    @staticmethod
    def _dst_corrected(
        clock: np.ndarray, t: np.ndarray, dst: dict[str, np.ndarray], tz: str, second: Any = None
    ) -> np.ndarray:
        """`clock` (wall-clock business seconds of the local times `t`) in real seconds: the open days before each
        time on which the clocks changed add what they add, and a time on such a day counts the real seconds
        since its opening (`second`: where a repeated wall time is its second pass)."""
        out = clock.copy()
        ok = ~np.isnat(t)
        day = t[ok].astype("datetime64[D]")
        before = np.searchsorted(dst["day"], day, side="left")
        out[ok] += np.concatenate([[0.0], np.cumsum(dst["extra"])])[before]
        on = np.zeros(len(day), dtype=bool)
        hit = before < len(dst["day"])
        on[hit] = dst["day"][before[hit]] == day[hit]
        if on.any():
            i = before[on]
            tv = t[ok][on]
            wall = np.clip((tv - dst["open"][i]).astype("int64") / 1e9, 0, None)
            late = None if second is None else np.asarray(second, dtype=bool).ravel()[ok][on]
            real = np.clip(
                (_utc_naive(tv, tz, late) - _utc_naive(dst["open"][i], tz)).astype("int64") / 1e9, 0, dst["length"][i]
            )
            span = dst["length"][i] - dst["extra"][i]  # the wall-clock hours the clock counted on that day
            idx = np.flatnonzero(ok)[on]
            out[idx] += real - np.minimum(wall, span)
        return out

    def _clock(self, t: np.ndarray, hol: np.ndarray) -> np.ndarray:
        out = np.full(t.shape, np.nan)
        ok = ~np.isnat(t)
        if not ok.any():
            return out
        tv = t[ok]
        day = tv.astype("datetime64[D]")
        tod = (tv - day.astype("datetime64[ns]")).astype("int64") / 1e9
        total = np.zeros(len(tv))
        weekday = (day.astype("int64") - 4) % 7  # 1970-01-01 was a Thursday (3); Monday = 0
        is_open_day = np.is_busday(day, weekmask=self._weekmask(), holidays=hol)
        for k, h in enumerate(self.hours):
            if h is None:
                continue
            mask = "".join("1" if i == k else "0" for i in range(7))
            total += np.busday_count(_EPOCH, day, weekmask=mask, holidays=hol) * float(h[1] - h[0])
            today = is_open_day & (weekday == k)
            total[today] += np.clip(tod[today] - h[0], 0, h[1] - h[0])
        out[ok] = total
        return out

    def elapsed_s(self, start: Any, end: Any, tz: str | None = None) -> np.ndarray:
        """Business seconds between local naive timestamps start and end (arrays; NaN for NaT); real seconds on the
        days the clocks change with `tz` (`clocks`)."""
        a, b = self.clocks(start, end, tz=tz)
        return (b - a).reshape(np.shape(np.asarray(start)) if np.ndim(start) else (-1,))

    def open_days(self, start: Any, end: Any) -> int:
        """Open (business) days from date `start` up to, not including, date `end` (0 when end <= start):
        weekdays with business hours that are no closed holiday (numpy.busday_count)."""
        a, b = np.datetime64(pd.Timestamp(start).date(), "D"), np.datetime64(pd.Timestamp(end).date(), "D")
        if b <= a or "1" not in self._weekmask():
            return 0
        years = list(range(pd.Timestamp(start).year, pd.Timestamp(end).year + 1))
        return int(np.busday_count(a, b, weekmask=self._weekmask(), holidays=self.holidays_for(years)))

    def _weekmask(self) -> str:
        return "".join("1" if h is not None else "0" for h in self.hours)


def _utc_naive(local: np.ndarray, tz: str, second: np.ndarray | None = None) -> np.ndarray:
    """Local naive times (datetime64[ns]) of zone `tz` as UTC naive ones: the one reading of a wall time here (a
    repeated wall time as its first pass, its second where `second`; one the clocks skip moved forward)."""
    t = pd.DatetimeIndex(np.asarray(local, dtype="datetime64[ns]"))
    first = np.ones(len(t), dtype=bool) if second is None else ~np.asarray(second, dtype=bool)
    aware = t.tz_localize(tz, ambiguous=first, nonexistent="shift_forward")
    return aware.tz_convert("UTC").tz_localize(None).to_numpy(dtype="datetime64[ns]")


def second_pass_of(local: np.ndarray, seconds: np.ndarray, tz: str | None) -> np.ndarray | None:
    """Where `add_seconds_local(local, seconds, tz)` falls in the second pass of the repeated autumn hour (its wall
    time read as the first pass would be an hour early); None without a zone."""
    if not tz:
        return None
    wall = add_seconds_local(local, seconds, tz)
    start = _utc_naive(np.asarray(local, dtype="datetime64[ns]").ravel(), tz)
    secs = np.asarray(seconds, dtype="float64").ravel()
    ok = np.isfinite(secs) & ~np.isnat(start) & ~np.isnat(wall)
    real = start + np.where(ok, np.round(secs * 1e9), 0).astype("int64").astype("timedelta64[ns]")
    return ok & (_utc_naive(np.where(ok, wall, start), tz) != real)


def _utc_offset_s(local: np.ndarray, tz: str) -> np.ndarray:
    """The UTC offset (seconds) of zone `tz` at each local naive time."""
    return (np.asarray(local, dtype="datetime64[ns]") - _utc_naive(local, tz)).astype("int64") // 10**9


def closed_days(params: Mapping[str, Any] | None, around: Any) -> frozenset[pd.Timestamp]:
    """The calendar's closed holidays (and extra closed dates) in the year of `around` and the years either side:
    the days data.span.last_day_cut never reads as cut (a closed day's trickle of e-mails is not an export cut
    short) nor compares with. An open holiday or an eve is judged like any day (a quieter one is scaled down by
    the rule itself): exempted, an export taken at 10:00 on 31 December read as the whole month."""
    year = pd.Timestamp(around).year
    return frozenset(pd.Timestamp(d) for d in business_calendar(params).holidays_for([year - 1, year, year + 1]))


def source_closed_days(params: Mapping[str, Any] | None, source: Any) -> frozenset[pd.Timestamp]:
    """closed_days around the data's end of `source` (the whole source's last arrival; none without data): what
    data.span.last_day_cut is given, by the reports and the forecast alike."""
    from reportlib.data.span import data_range, whole_source

    last = data_range(whole_source(source))[1]
    return frozenset() if last is None else closed_days(params, last)


def check_calendar(params: Mapping[str, Any] | None, years: Sequence[int]) -> None:
    """Raise UsageError ("parameter calendar...") when params['calendar'] gives no calendar for `years` (hours
    that do not parse or cross midnight, an unknown country or date): named once before a run renders, where
    every report read it in its own notebook and failed with it."""
    try:
        business_calendar(params).holidays_for(list(years))
    except UsageError as exc:
        raise UsageError(f"parameter {exc}") from None


def business_calendar(params: Mapping[str, Any] | None = None) -> BusinessCalendar:
    """The BusinessCalendar from params['calendar'] (business_hours, holidays); 08-18 Mon-Fri US by default.

    Accepted shapes: business_hours: {open|start: "08:00", close|end: "18:00", days|weekdays: [0..6
    or mon..sun]} and/or per-day entries {mon: "08:00-18:00", sat: null}; holidays: {country: US,
    subdiv, categories, observed, closed: [name prefixes of the holidays that close the centre; the
    others stay open], extra|dates: [YYYY-MM-DD], remove|not_holidays: [..]}, or a country code, or
    a list of dates, or false/none for no public holidays.
    """
    cal = dict((params or {}).get("calendar") or {})
    bh = cal.get("business_hours")
    hours: list[tuple[int, int] | None] = [(8 * 3600, 18 * 3600)] * 5 + [None, None]
    if isinstance(bh, Mapping):
        opening = bh.get("open", bh.get("start", "08:00"))
        closing = bh.get("close", bh.get("end", "18:00"))
        days = bh.get("days", bh.get("weekdays"))
        if days is not None and not isinstance(days, (list, tuple)):
            raise UsageError(
                f"calendar.business_hours: days must be a list of weekdays (mon..sun or 0..6), got {days!r}"
            )
        if days is not None:
            on = {_weekday(d) for d in days}
            hours = [(_clock(opening), _clock(closing)) if i in on else None for i in range(7)]
        elif "open" in bh or "start" in bh or "close" in bh or "end" in bh:
            hours = [(_clock(opening), _clock(closing))] * 5 + [None, None]
        for key, value in bh.items():
            if str(key).lower()[:3] in WEEKDAY_NAMES and str(key).lower() not in ("open", "start", "end", "close"):
                i = _weekday(key)
                if value in (None, False, "closed", ""):
                    hours[i] = None
                elif isinstance(value, (list, tuple)) and len(value) == 2:
                    hours[i] = (_clock(value[0]), _clock(value[1]))
                else:
                    a, _, b = str(value).partition("-")
                    hours[i] = (_clock(a), _clock(b))
    elif bh is not None:
        raise UsageError("calendar.business_hours must be a mapping (open, close, days)")

    hol = cal.get("holidays", {"country": "US"})
    country: str | None = "US"
    subdiv: str | None = None
    extra: list[Any] = []
    remove: list[Any] = []
    closed: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None
    observed = True
    if hol in (None, False) or hol == "none":
        country = None
    elif isinstance(hol, str):
        country = hol
    elif isinstance(hol, (list, tuple)):
        country, extra = None, list(hol)
    elif isinstance(hol, Mapping):
        country = hol.get("country", "US") or None
        subdiv = hol.get("subdiv")
        extra = _items(hol.get("extra", hol.get("dates")), "extra")
        remove = _items(hol.get("remove", hol.get("not_holidays")), "remove")
        if hol.get("closed") is not None:
            closed = tuple(str(n) for n in _items(hol["closed"], "closed"))
        if hol.get("categories"):
            categories = tuple(str(c) for c in _items(hol["categories"], "categories"))
        observed = _flag(hol.get("observed", True), "observed")
    else:
        raise UsageError("calendar.holidays must be a country code, a list of dates or a mapping")

    def dates(values: list) -> tuple[dt.date, ...]:
        try:
            return tuple(pd.Timestamp(str(v)).date() for v in values)
        except Exception:
            raise UsageError(f"calendar.holidays: expected dates as YYYY-MM-DD, got {values!r}") from None

    return BusinessCalendar(tuple(hours), country, subdiv, dates(extra), dates(remove), closed, categories, observed)


def _items(value: Any, key: str) -> list[Any]:
    """A holidays list setting: a list, or one item written alone ("closed: Christmas" is ["Christmas"]: a probe
    found it read as its letters, which closed every holiday starting with C, h, r...); none for null."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, (str, int, float, dt.date)) and not isinstance(value, bool):
        return [value]
    raise UsageError(f"calendar.holidays.{key} must be a list, got {value!r}")


def _flag(value: Any, key: str) -> bool:
    """A yes/no holidays setting: true/false, or yes/no/true/false written as text ("no" was read as true)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise UsageError(f"calendar.holidays.{key} must be true or false, got {value!r}")


def add_seconds_local(local: Any, seconds: Any, tz: str | None) -> np.ndarray:
    """Local naive wall time `seconds` of real time after each local naive time (DST-exact when tz).

    Ambiguous wall times (the repeated hour when clocks fall back) are read as the first occurrence.
    """
    t = pd.to_datetime(pd.Series(np.asarray(local).ravel()))
    secs = np.asarray(seconds, dtype="float64").ravel()
    ns = np.where(np.isfinite(secs), np.round(secs * 1e9), 0).astype("int64").view("timedelta64[ns]")
    s = pd.Series(np.where(np.isfinite(secs), ns, np.timedelta64("NaT", "ns")))
    if tz is None:
        return (t + s).to_numpy(dtype="datetime64[ns]")
    real = _utc_naive(t.to_numpy(dtype="datetime64[ns]"), tz) + s.to_numpy(dtype="timedelta64[ns]")
    return pd.DatetimeIndex(real).tz_localize("UTC").tz_convert(tz).tz_localize(None).to_numpy(dtype="datetime64[ns]")


def _real_seconds(local: pd.Series, at: pd.Timestamp, tz: str | None) -> np.ndarray:
    """Real seconds from each local naive time to the local naive time `at` (DST-exact when tz)."""
    if tz is None:
        return (at - local).dt.total_seconds().to_numpy()
    a = _utc_naive(local.to_numpy(dtype="datetime64[ns]"), tz)
    b = _utc_naive(np.array([at.to_datetime64()], dtype="datetime64[ns]"), tz)[0]
    return (b - a) / np.timedelta64(1, "s")


# --- email first response --------------------------------------------------------------------------


# Emails pulled into pandas at a time by the first-response figures: the business clock runs over the email
# rows in numpy, so a long window (the SLA report's 13 months) is fetched in slices of whole months holding
# at most this many emails each, and only per-group sums are kept between slices. About 150 bytes a row in
# pandas plus ~20 float arrays of the clock: ~0.3 GB at the bound. An order of magnitude, not tuned: a
# smaller slice costs one more engine query; a single month with more emails is a slice of its own.
EMAIL_SLICE_ROWS = 1_000_000


def _emails(t: ir.Table, start: pd.Timestamp | None, end: pd.Timestamp | None) -> ir.Table:
    e = t.filter(t.channel == "email")
    if start is not None:
        e = e.filter(e.arrived_at >= start)
    if end is not None:
        e = e.filter(e.arrived_at < end)
    return e


def _email_rows(t: ir.Table, start: pd.Timestamp | None, end: pd.Timestamp | None, cols: list[str]) -> pd.DataFrame:
    return _emails(t, start, end).select(*cols, "arrived_at", "outcome", "wait_s").to_pandas()


def email_slices(
    contacts: ir.Table | pd.DataFrame,
    start: Any = None,
    end: Any = None,
    max_rows: int | None = None,
) -> list[tuple[pd.Timestamp | None, pd.Timestamp | None]]:
    """[start, end) (local naive times; None: unbounded) cut at month starts into consecutive ranges of whole
    months, each holding at most `max_rows` emails (default EMAIL_SLICE_ROWS; a month with more is a range of
    its own).

    One engine aggregate (emails per month); a window with at most `max_rows` emails is one range, so the
    first-response figures fetch it in one query as before. The ranges cover [start, end) exactly."""
    max_rows = EMAIL_SLICE_ROWS if max_rows is None else int(max_rows)
    start = pd.Timestamp(start) if start is not None else None
    end = pd.Timestamp(end) if end is not None else None
    e = _emails(with_optional(as_table(contacts), "contacts"), start, end)
    per_month = e.group_by(month=e.arrived_at.truncate("M")).aggregate(n=e.count()).to_pandas()
    if per_month.empty or int(per_month["n"].sum()) <= max_rows:
        return [(start, end)]
    per_month = per_month.assign(month=pd.to_datetime(per_month["month"]).astype("datetime64[ns]")).sort_values("month")
    cuts: list[pd.Timestamp] = []
    held = 0
    for month, n in zip(per_month["month"], per_month["n"].astype(int)):
        if held and held + n > max_rows:
            cuts.append(pd.Timestamp(month))
            held = 0
        held += n
    bounds: list[pd.Timestamp | None] = [start, *cuts, end]
    return list(zip(bounds[:-1], bounds[1:]))


def email_first_response(
    contacts: ir.Table | pd.DataFrame,
    *,
    start: Any,
    end: Any,
    threshold_h: float,
    calendar: BusinessCalendar | None = None,
    by: Sequence[str] = ("client_id",),
    as_of: Any = None,
    tz: str | None = DEFAULT_TIMEZONE,
    data_end: Any = None,
) -> pd.DataFrame:
    """Email first response within `threshold_h` business hours over emails received in [start, end).

    received: emails that arrived in the period. responded_within: answered (outcome handled) with
    business time from arrival to first response <= threshold. missed: every other received email
    that can be judged: answered late, abandoned/withdrawn, or still open with more than the
    threshold of business time elapsed at `as_of`. pending: still open and not yet past the threshold
    at `as_of`; pending emails are left out of the denominator. `as_of` is when the data was taken;
    by default the data's end (email_judged_at with close=False): `data_end`, else the latest arrival in
    `contacts` (pass the whole source's when `contacts` is narrowed). So an email still open days after
    the month end counts as missed, not pending, and in a month the data covers only in part an email
    open for less than the threshold when the data ends is pending (not judged at a month end the data
    does not reach).
    service_level = responded_within / (received - pending). Response times are real elapsed time
    (wait_s) placed on the local calendar with `tz` (DST-exact), then measured in business hours.
    Only email rows of the period come back from the engine (the business clock runs in numpy), a slice
    of whole months at a time (email_slices); only per-group sums are kept between slices.
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    t = with_optional(as_table(contacts), "contacts")
    as_of = _email_as_of(t, end, as_of, data_end)
    parts = [
        _email_totals(
            _judge_emails(timed, threshold_h, timed["response_bh_s"].to_numpy(), timed["open_bh_s"].to_numpy()),
            list(by),
        )
        for s0, s1 in email_slices(t, start, end)
        for timed in [
            email_business_times(
                t,
                start=start if s0 is None else s0,
                end=end if s1 is None else s1,
                calendar=calendar,
                by=by,
                as_of=as_of,
                tz=tz,
            )
        ]
    ]
    return _email_finish(_combine_email_totals(parts, list(by)), list(by), threshold_h)


def latest_arrival(contacts: ir.Table | pd.DataFrame) -> pd.Timestamp | None:
    """The latest arrival (local naive) of any channel in `contacts`, None when it has no rows: the data's end,
    its best witness of when the data was taken (email_judged_at). One engine aggregate."""
    t = with_optional(as_table(contacts), "contacts")
    latest = t.arrived_at.max().to_pyarrow().as_py()
    return pd.Timestamp(latest) if latest is not None else None


def email_judged_at(
    period_end: Any, data_end: Any, *, close: bool = True, calendar: BusinessCalendar | None = None
) -> Any:
    """When an email still open is judged, pending or past its threshold: when the data was taken.

    The one rule of every email figure (email_first_response, compliance, email_contract_counts, the
    month-to-date projection, the SLA report's backlog): an open email is judged at the data's end
    (`data_end`: the latest arrival in the whole source, latest_arrival) when that falls before
    `period_end`, so a period the data covers only in part is judged where its data stops, never at a
    period end the data does not reach (an email that arrived minutes before the export is pending, not
    missed). For a period the data runs past: `period_end` when `close` (a contract month closes at its
    end: SLA compliance, the backlog at month end), else the data's end (email_first_response: an email
    still open days after the month end counts as missed). Without a data end: `period_end`.

    With `calendar` (and `close`), a data end with no business time left before `period_end` (an export
    ending on the month's last evening) reaches it: judged at `period_end`, as a whole month. The business
    ages are the same either way; the data was evidently taken later than its last arrival (responses
    recorded after it), and the period is not said to end early.

    `period_end`: a Timestamp, or a datetime64 array (one per email; the result is then an array).
    """
    if data_end is None or pd.isna(data_end):
        return period_end
    data_end = pd.Timestamp(data_end)
    at = np.datetime64(data_end.to_datetime64(), "ns")
    many = isinstance(period_end, np.ndarray)
    ends = period_end.astype("datetime64[ns]") if many else np.array([pd.Timestamp(period_end).to_datetime64()])
    if not close:
        judged = np.full(ends.shape, at)
    else:
        judged = np.minimum(ends, at)
        if calendar is not None and len(ends):
            uniq, back = np.unique(ends, return_inverse=True)  # a few month ends for many emails
            left = calendar.elapsed_s(np.full(len(uniq), at), uniq)[back]
            judged = np.where(left > 0, judged, ends)
    return judged if many else pd.Timestamp(judged[0])


def _email_as_of(t: ir.Table, end: pd.Timestamp, as_of: Any, data_end: Any = None) -> pd.Timestamp:
    """`as_of`, by default email_judged_at(end, data end, close=False) with the data's end `data_end`, else
    the latest arrival in `t` (email_first_response's rule)."""
    if as_of is None:
        as_of = email_judged_at(end, data_end if data_end is not None else latest_arrival(t), close=False)
    return pd.Timestamp(as_of)


def email_business_times(
    contacts: ir.Table | pd.DataFrame,
    *,
    start: Any,
    end: Any,
    calendar: BusinessCalendar | None = None,
    by: Sequence[str] = ("client_id",),
    as_of: Any = None,
    tz: str | None = DEFAULT_TIMEZONE,
    data_end: Any = None,
) -> pd.DataFrame:
    """The step of email_first_response that does not depend on the threshold: the email rows received in
    [start, end) (columns `by`, arrived_at, outcome, wait_s) with response_bh_s and open_bh_s, the business
    seconds from arrival to first response and to `as_of` (same `as_of` and `data_end` rule as
    email_first_response).

    Compute it once and judge it against several thresholds with email_first_response_from_times.
    """
    calendar = calendar or BusinessCalendar()
    by = list(by)
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    t = with_optional(as_table(contacts), "contacts")
    as_of = _email_as_of(t, end, as_of, data_end)
    rows = _email_rows(t, start, end, by)
    response_bh, open_bh = _email_business_times(rows, calendar, tz, np.full(len(rows), as_of.to_datetime64()))
    return rows.assign(response_bh_s=response_bh, open_bh_s=open_bh)


def email_first_response_from_times(timed: pd.DataFrame, threshold_h: float, by: Sequence[str]) -> pd.DataFrame:
    """email_first_response's figures from email_business_times rows, judged against `threshold_h` business hours."""
    rows = timed.drop(columns=["response_bh_s", "open_bh_s"])
    judged = _judge_emails(rows, threshold_h, timed["response_bh_s"].to_numpy(), timed["open_bh_s"].to_numpy())
    return _email_summary(judged, list(by), threshold_h)


def _email_business_times(
    rows: pd.DataFrame, calendar: BusinessCalendar, tz: str | None, as_of: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Business seconds from each email's arrival to its first response, and to its own `as_of`
    (local naive datetime64 per row): what every first-response threshold is judged on."""
    arrived = rows["arrived_at"].to_numpy(dtype="datetime64[ns]")
    waits = rows["wait_s"].to_numpy(dtype="float64")
    response_at = add_seconds_local(arrived, waits, tz)
    late = second_pass_of(arrived, waits, tz)
    clock_arrived, clock_response, clock_now = calendar.clocks(
        arrived, response_at, as_of, tz=tz, second_pass=[None, late, None]
    )
    return clock_response - clock_arrived, clock_now - clock_arrived


def _judge_emails(rows: pd.DataFrame, threshold_h: float, response_bh: np.ndarray, open_bh: np.ndarray) -> pd.DataFrame:
    """Email rows with 0/1 columns received, responded, responded_within, open_past_threshold, pending
    and response_business_s, from the business times of _email_business_times."""
    limit = threshold_h * 3600.0
    handled = (rows["outcome"] == "handled").to_numpy()
    is_open = (rows["outcome"] == "open").to_numpy()
    within = handled & (response_bh <= limit + 1e-6)
    pending = is_open & ~(open_bh > limit + 1e-6)
    return rows.assign(
        received=1,
        responded=handled.astype(int),
        responded_within=within.astype(int),
        open_past_threshold=(is_open & ~pending).astype(int),
        pending=pending.astype(int),
        response_business_s=np.where(handled, response_bh, np.nan),
    )


_EMAIL_COUNTS = ["received", "responded", "responded_within", "open_past_threshold", "pending"]


def _email_totals(rows: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Judged email rows (_judge_emails) summed per `by` group: the 0/1 columns, the mean response in business
    seconds (mean_response_business_h, still in seconds) and its sum and count (to combine slices)."""
    if by:
        return (
            rows.groupby(by, dropna=False, sort=True)
            .agg(
                **{c: (c, "sum") for c in _EMAIL_COUNTS},
                mean_response_business_h=("response_business_s", "mean"),
                _response_sum=("response_business_s", "sum"),
                _response_n=("response_business_s", "count"),
            )
            .reset_index()
        )
    r = rows["response_business_s"]
    return pd.DataFrame(
        [
            {
                **{c: int(rows[c].sum()) for c in _EMAIL_COUNTS},
                "mean_response_business_h": r.mean(),
                "_response_sum": float(r.sum()),
                "_response_n": int(r.count()),
            }
        ]
    )


def _combine_email_totals(parts: list[pd.DataFrame], by: list[str]) -> pd.DataFrame:
    """_email_totals of consecutive slices of the emails as one: counts summed; the mean response of a group
    found in one slice is that slice's (so figures equal one pass over all rows), else sum / count."""
    if len(parts) == 1:
        return parts[0]
    every = pd.concat(parts, ignore_index=True).assign(_parts=1)
    sums = {c: (c, "sum") for c in [*_EMAIL_COUNTS, "_response_sum", "_response_n", "_parts"]}
    if by:
        out = every.groupby(by, dropna=False, sort=True).agg(**sums, _mean=("mean_response_business_h", "first"))
        out = out.reset_index()
    else:
        out = pd.DataFrame([{**{k: every[c].sum() for k, (c, _) in sums.items()}, "_mean": np.nan}])
    spread = out["_response_sum"] / out["_response_n"].where(out["_response_n"] > 0)
    out["mean_response_business_h"] = np.where(out["_parts"] == 1, out["_mean"], spread)
    return out.drop(columns=["_mean", "_parts"])


def _email_summary(rows: pd.DataFrame, by: list[str], threshold_h: float) -> pd.DataFrame:
    """Judged email rows (_judge_emails) summed per `by` group, with service_level (0..1) and mean hours."""
    return _email_finish(_email_totals(rows, by), by, threshold_h)


def _email_finish(totals: pd.DataFrame, by: list[str], threshold_h: float) -> pd.DataFrame:
    """_email_totals (of one pass or combined slices) with measured, missed, service_level (0..1) and mean hours."""
    out = totals.copy()
    out["mean_response_business_h"] = out["mean_response_business_h"] / 3600.0
    out["measured"] = out["received"] - out["pending"]
    out["missed"] = out["measured"] - out["responded_within"]
    out["service_level"] = ratio(out["responded_within"], out["measured"])
    out["threshold_h"] = float(threshold_h)
    return out[
        by
        + [
            "received",
            "responded",
            "responded_within",
            "missed",
            "open_past_threshold",
            "pending",
            "measured",
            "service_level",
            "mean_response_business_h",
            "threshold_h",
        ]
    ]


def email_thresholds(clients: pd.DataFrame | None, terms_by_profile: Mapping[str, Any] | None) -> dict[str, float]:
    """client_id -> its contract's email first-response threshold (business hours), for clients whose
    SLA profile has an email service-level term with threshold_h; other clients are absent."""
    if clients is None or not len(clients) or not terms_by_profile or "sla_profile" not in clients:
        return {}
    parsed = _parsed(terms_by_profile)
    per_profile = {}
    for name, terms in parsed.items():
        hours = [
            t.threshold_h
            for t in terms
            if t.channel == "email" and t.metric == "service_level" and t.threshold_h is not None
        ]
        if hours:
            per_profile[str(name)] = float(hours[0])
    out = {}
    for cid, prof in zip(clients["client_id"].astype(str), clients["sla_profile"]):
        if pd.notna(prof) and str(prof) in per_profile:
            out[cid] = per_profile[str(prof)]
    return out


def email_contract_counts(
    contacts: ir.Table | pd.DataFrame,
    *,
    keys: Sequence[str],
    thresholds_h: Mapping[str, float],
    default_threshold_h: float,
    start: Any = None,
    end: Any = None,
    calendar: BusinessCalendar | None = None,
    tz: str | None = DEFAULT_TIMEZONE,
    data_end: Any = None,
) -> pd.DataFrame:
    """Email first response per `keys` group, each email judged against its client's contract threshold.

    `keys` are columns of `contacts` (add `period` and agent columns before calling). An email's
    threshold is thresholds_h[client_id] (see email_thresholds), else default_threshold_h business
    hours. Open emails are judged as the SLA report's compliance_history judges them,
    email_judged_at(end of the month they arrived in, `data_end`): at the month end, or at the data's
    end when the data stops before it; so the figures equal the contract terms' numerators and
    denominators. `data_end` is the whole source's latest arrival (`contacts` may be narrowed, so it is
    not read from them); None: unknown, each month's open emails are judged at its end.
    Columns: keys, received, responded_within, pending, measured, service_level (share 0..1),
    mean_response_business_h.
    """
    calendar = calendar or BusinessCalendar()
    keys = list(keys)
    t = with_optional(as_table(contacts), "contacts")
    cols = list(dict.fromkeys(["client_id", *keys]))
    parts = []
    for s0, s1 in email_slices(t, start, end):  # a slice of whole months at a time in pandas
        rows = _email_rows(t, s0, s1, cols)
        if not len(rows):
            continue
        rows = rows.loc[:, ~rows.columns.duplicated()]
        hours = rows["client_id"].astype(str).map(dict(thresholds_h)).astype("float64")
        hours = hours.fillna(float(default_threshold_h)).to_numpy()
        month_end = rows["arrived_at"].dt.to_period("M").dt.start_time + pd.offsets.MonthBegin(1)
        judged_at = email_judged_at(month_end.to_numpy(dtype="datetime64[ns]"), data_end, calendar=calendar)
        times = _email_business_times(rows, calendar, tz, judged_at)
        parts.append(_email_totals(_judge_emails(rows, hours, *times), keys))
        del rows, times
    if not parts:
        return pd.DataFrame(
            columns=[
                *keys,
                "received",
                "responded_within",
                "pending",
                "measured",
                "service_level",
                "mean_response_business_h",
            ]
        )
    out = _email_finish(_combine_email_totals(parts, keys), keys, float("nan"))
    return out[
        [*keys, "received", "responded_within", "pending", "measured", "service_level", "mean_response_business_h"]
    ]


# KPI columns that have no meaning for email under its contract measure (left empty on email rows)
PHONE_ONLY_COLUMNS = ("asa_s", "abandon_rate")


def apply_email_terms(kpis: pd.DataFrame, email: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """KPI rows (metrics.KPI_COLUMNS, one per `keys` group, `channel` among the keys) with the email rows'
    service level and answered-in-time count replaced by the contract measure of email_contract_counts,
    and speed of answer and abandon rate emptied for email (they are phone and chat measures)."""
    out = kpis.copy()
    if "channel" not in out or not len(out):
        return out
    is_email = (out["channel"] == "email").to_numpy()
    if not is_email.any():
        return out
    keys = list(keys)
    for col in ("service_level", "answered_within_threshold", *PHONE_ONLY_COLUMNS):
        if col in out:
            out[col] = out[col].astype("float64")
    e = email.copy()
    for k in keys:
        if k == "period":
            e[k] = pd.to_datetime(e[k])
    merged = out.loc[is_email, keys].merge(e, on=keys, how="left")
    out.loc[is_email, "service_level"] = merged["service_level"].to_numpy(dtype="float64")
    out.loc[is_email, "answered_within_threshold"] = pd.to_numeric(merged["responded_within"]).to_numpy(dtype="float64")
    for col in PHONE_ONLY_COLUMNS:
        if col in out:
            out.loc[is_email, col] = np.nan
    return out


def email_backlog(
    contacts: ir.Table | pd.DataFrame,
    *,
    at: Any,
    calendar: BusinessCalendar | None = None,
    by: Sequence[str] = ("client_id",),
    threshold_h: float | None = None,
    tz: str | None = DEFAULT_TIMEZONE,
) -> pd.DataFrame:
    """Emails received before `at` (local) and not yet answered at `at`: count and oldest age.

    An email is in the backlog when it is open, or answered after `at`. Ages are from arrival to
    `at`: oldest_age_h in real hours, oldest_age_business_h in business hours;
    past_threshold counts items older than threshold_h business hours (when given).
    """
    calendar = calendar or BusinessCalendar()
    by = list(by)
    at = pd.Timestamp(at)
    t = with_optional(as_table(contacts), "contacts")
    e = t.filter((t.channel == "email") & (t.arrived_at < at))
    # Engine pre-filter, generous by 2 h for DST; the exact test below uses real elapsed time.
    margin = at - pd.Timedelta(hours=2)
    e = e.filter(
        (e.outcome == "open")
        | (
            (e.outcome == "handled")
            & (e.arrived_at.epoch_seconds() + e.wait_s.fill_null(float("inf")) >= margin.timestamp())
        )
    )
    rows = e.select(*by, "arrived_at", "outcome", "wait_s").to_pandas()
    arrived = rows["arrived_at"].to_numpy(dtype="datetime64[ns]")
    response_at = add_seconds_local(arrived, rows["wait_s"].to_numpy(dtype="float64"), tz)
    waiting = (rows["outcome"] == "open").to_numpy() | (response_at > at.to_datetime64())
    rows = rows[waiting].copy()
    rows["age_h"] = _real_seconds(rows["arrived_at"], at, tz) / 3600.0
    rows["age_business_h"] = (
        calendar.elapsed_s(rows["arrived_at"].to_numpy(), np.full(len(rows), at.to_datetime64()), tz=tz) / 3600.0
    )
    if threshold_h is not None:
        rows["past"] = (rows["age_business_h"] > threshold_h + 1e-9).astype(int)
    else:
        rows["past"] = np.nan
    agg = dict(
        backlog=("age_h", "size"),
        oldest_arrived_at=("arrived_at", "min"),
        oldest_age_h=("age_h", "max"),
        oldest_age_business_h=("age_business_h", "max"),
        past_threshold=("past", "sum"),
    )
    if by:
        out = rows.groupby(by, dropna=False, sort=True).agg(**agg).reset_index()
    else:
        out = pd.DataFrame(
            [
                {
                    "backlog": len(rows),
                    "oldest_arrived_at": rows["arrived_at"].min() if len(rows) else pd.NaT,
                    "oldest_age_h": rows["age_h"].max() if len(rows) else np.nan,
                    "oldest_age_business_h": rows["age_business_h"].max() if len(rows) else np.nan,
                    "past_threshold": rows["past"].sum() if len(rows) else 0,
                }
            ]
        )
    if threshold_h is None:
        out["past_threshold"] = np.nan
    out["at"] = at
    return out


# --- contracts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One measurable promise of an SLA profile."""

    profile: str
    channel: str
    metric: str
    goal: float
    direction: str  # 'min' (target) or 'max'
    threshold_s: float | None = None
    threshold_h: float | None = None
    sl_definition: str = "offered"
    short_abandon_s: float = 5
    period: str = "month"
    penalty_share: float = 0.0

    @property
    def label(self) -> str:
        """A short readable name, e.g. 'phone service level 80% in 30 s'."""
        share = f"{round(self.goal * 100, 6):g}%"  # as the contract says: 5.5%, not "6%" (a probe)
        if self.metric == "service_level":
            within = f"{self.threshold_h:g} business h" if self.threshold_h is not None else f"{self.threshold_s:g} s"
            return f"{self.channel} service level {share} in {within}"
        word = "at least" if self.direction == "min" else "at most"
        name = METRIC_NAMES.get(self.metric, self.metric.replace("_", " "))
        if METRICS[self.metric][0] == "share":
            return f"{self.channel} {name} {word} {share}"
        unit = " s" if self.metric.endswith("_s") else ""  # a time in seconds; csat_mean is a score
        return f"{self.channel} {name} {word} {self.goal:g}{unit}"


# What a profile and a term of sla_contracts.yaml may hold: any other key is a usage error (a probe's typo
# "treshold_s: 60" was ignored and the term judged at 30 s; "penalty_cap: 50" was ignored and $900 put at risk).
PROFILE_KEYS = ("description", "terms")
TERM_KEYS = (
    "channel", "metric", "target", "max", "min", "threshold_s", "threshold_h", "sl_definition", "short_abandon_s",
    "period", "penalty_share",
)  # fmt: skip


def _term_number(raw: Mapping[str, Any], key: str, where: str, default: Any = None) -> float | None:
    """The number a term gives for `key` (`default` when absent or empty); UsageError naming it when it is not a
    finite number >= 0 (a word, a negative share)."""
    value = raw.get(key, default)
    if value is None or value == "":
        return None if default is None else float(default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if isinstance(value, bool) or not math.isfinite(number) or number < 0:
        raise UsageError(f"{where}: {key} must be a number >= 0, got {value!r}")
    return number


def _share(value: float, key: str, where: str) -> float:
    """A share 0..1 as the contracts write it: above 1 it is a percentage (85 -> 0.85), as goals have always been
    read; UsageError above 100 (a share no contract can mean)."""
    share = value / 100.0 if value > 1 else value
    if share > 1:
        raise UsageError(f"{where}: {key} must be a share 0..1 or a percentage up to 100, got {value:g}")
    return share


def parse_profiles(profiles: Mapping[str, Any], defaults: Mapping[str, Any] | None = None) -> dict[str, list[Term]]:
    """Terms per profile name from the `profiles` mapping of sla_contracts.yaml; UsageError names bad entries:
    an unknown key (PROFILE_KEYS, TERM_KEYS), a number that is not one, a share above 100%. Goals of share
    metrics and penalty_share are shares 0..1 or percentages (5 = 5%: `_share`)."""
    defaults = defaults or {}
    out: dict[str, list[Term]] = {}
    if not isinstance(profiles, Mapping):
        raise UsageError("sla_contracts.profiles must be a mapping of profile names to {description, terms}")
    for name, body in profiles.items():
        terms = (body or {}).get("terms") if isinstance(body, Mapping) else None
        if not isinstance(terms, list):
            raise UsageError(f"SLA profile {name!r}: expected a list under 'terms'")
        for key in body:
            if key not in PROFILE_KEYS:
                raise UsageError(
                    f"SLA profile {name!r}: unknown key {key!r}{did_you_mean(str(key), list(PROFILE_KEYS))}"
                )
        parsed = []
        for i, raw in enumerate(terms, 1):
            where = f"SLA profile {name!r}, term {i}"
            if not isinstance(raw, Mapping):
                raise UsageError(f"{where}: expected a mapping")
            for key in raw:
                if key not in TERM_KEYS:
                    raise UsageError(f"{where}: unknown key {key!r}{did_you_mean(str(key), list(TERM_KEYS))}")
            metric = str(raw.get("metric", "service_level"))
            metric = _ALIASES.get(metric, metric)
            if metric not in METRICS:
                raise UsageError(f"{where}: unknown metric {metric!r}; use one of {', '.join(METRICS)}")
            channel = str(raw.get("channel", "")).strip()
            if channel not in ("phone", "email", "chat"):
                raise UsageError(f"{where}: channel must be phone, email or chat, got {channel!r}")
            if "target" in raw and "max" in raw:
                raise UsageError(f"{where}: give either target or max, not both")
            given = next((k for k in ("target", "max", "min") if k in raw), None)
            if given is None:
                raise UsageError(f"{where}: needs a target (floor) or a max (ceiling)")
            direction = "max" if given == "max" else "min"
            goal = _term_number(raw, given, where)
            if goal is None:
                raise UsageError(f"{where}: {given} must be a number >= 0, got {raw[given]!r}")
            if METRICS[metric][0] == "share":
                goal = _share(goal, given, where)  # written as a share or a percentage
            th_s = _term_number(raw, "threshold_s", where)
            th_h = _term_number(raw, "threshold_h", where)
            if metric == "service_level" and th_s is None and th_h is None:
                th_s = defaults.get("sl_threshold_s", 30)
            period = str(raw.get("period", "month"))
            if period != "month":
                raise UsageError(f"{where}: only a monthly measurement period is supported, got {period!r}")
            sl_def = str(raw.get("sl_definition", defaults.get("sl_definition", "offered")))
            check_sl_definition(sl_def)
            parsed.append(
                Term(
                    profile=str(name),
                    channel=channel,
                    metric=metric,
                    goal=goal,
                    direction=direction,
                    threshold_s=float(th_s) if th_s is not None else None,
                    threshold_h=th_h,
                    sl_definition=sl_def,
                    short_abandon_s=_term_number(raw, "short_abandon_s", where, defaults.get("short_abandon_s", 5))
                    or 0.0,
                    period=period,
                    penalty_share=_share(_term_number(raw, "penalty_share", where, 0.0) or 0.0, "penalty_share", where),
                )
            )
        out[str(name)] = parsed
    return out


def profiles_from_params(params: Mapping[str, Any]) -> dict[str, list[Term]]:
    """Parsed SLA profiles from load_params() output (key sla_contracts.profiles)."""
    contracts = params.get("sla_contracts") or {}
    profiles = contracts.get("profiles") if isinstance(contracts, Mapping) else None
    if not profiles:
        raise UsageError("no SLA profiles: parameters/sla_contracts.yaml needs a 'profiles' mapping")
    return parse_profiles(profiles, params)


def unknown_profiles(clients: pd.DataFrame, profile_names: Sequence[str]) -> pd.DataFrame:
    """The clients whose `sla_profile` names no profile in `profile_names` (client_id, sla_profile), in
    the table's order; a client with no profile (empty or missing) has no contract and is not listed."""
    if "sla_profile" not in clients:
        return pd.DataFrame(columns=["client_id", "sla_profile"])
    named = clients[clients["sla_profile"].notna() & (clients["sla_profile"].astype(str) != "")]
    wrong = named[~named["sla_profile"].astype(str).isin({str(n) for n in profile_names})]
    return pd.DataFrame(
        {
            "client_id": wrong["client_id"].astype(str).to_numpy(),
            "sla_profile": wrong["sla_profile"].astype(str).to_numpy(),
        }
    )


def profile_problem(
    clients: pd.DataFrame,
    params: Mapping[str, Any],
    file_name: str = "clients",
    rows: Mapping[str, int] | None = None,
) -> Problem | None:
    """The problem of the clients whose `sla_profile` is not a profile of parameters/sla_contracts.yaml
    (the file or table, the column, the first few clients by spreadsheet row — `rows`: client_id -> row, for a
    file — else by key, the profiles there are), or None.

    `reportlib validate` prints it as an error and `reportlib run` refuses to start on it: the SLA report
    would fail and such a client's review would be drawn without its contract's terms. Raises UsageError
    when the contracts themselves are missing or malformed (profiles_from_params)."""
    if "sla_profile" not in clients or not len(clients):
        return None
    names = list(profiles_from_params(params))
    wrong = unknown_profiles(clients, names)
    if not len(wrong):
        return None
    spots = located(list(wrong["client_id"][:5]), "client_id", rows)
    return Problem(
        file_name,
        "sla_profile",
        f"a profile of parameters/sla_contracts.yaml ({', '.join(printable(n) for n in names)})",
        values=[printable(p) for p in wrong["sla_profile"][:5]],
        count=len(wrong),
        **spots,
    )


def source_profile_problems(source: DataSource, params: Mapping[str, Any]) -> list[str]:
    """The lines of profile_problem for a source's clients table ([] when it has none): what `reportlib
    validate` and `reportlib run` both check once the contract holds."""
    from reportlib.data.load import is_database

    if not source.has("clients"):
        return []
    clients = source.frame("clients")
    # a folder's file keeps its order: its spreadsheet rows (header row 1); a database's rows have none
    rows = file_rows(clients["client_id"]) if not is_database(source.location) else None
    wrong = profile_problem(clients, params, source.file_name("clients"), rows)
    return [wrong.line()] if wrong else []


def _term_key(term: Term) -> tuple:
    if term.channel == "email" and term.threshold_h is not None and term.metric == "service_level":
        return ("email_bh", term.threshold_h)
    return ("counts", term.channel, term.threshold_s if term.threshold_s is not None else 30.0, term.short_abandon_s)


def _term_columns(term: Term, g: pd.DataFrame) -> dict[str, pd.Series]:
    """volume, numerator, denominator, value and pending of a term from counts rows (or email
    first-response rows), one per row of `g`; a client without contacts has NaN counts and gets 0s."""

    def col(name: str) -> pd.Series:
        return pd.to_numeric(g[name], errors="coerce").astype("float64").fillna(0.0)

    if term.channel == "email" and term.threshold_h is not None and term.metric == "service_level":
        num, den = col("responded_within"), col("measured")
        return {
            "volume": col("received"),
            "numerator": num,
            "denominator": den,
            "value": ratio(num, den),
            "pending": col("pending"),
        }
    zero = pd.Series(0.0, index=g.index)
    if term.metric == "service_level":
        counts = pd.DataFrame(
            {
                c: col(c)
                for c in (
                    "answered_within_threshold",
                    "abandoned_within_threshold",
                    "offered",
                    "handled",
                    "abandoned_after_threshold",
                )
            }
        )
        num = counts["answered_within_threshold"]
        if term.sl_definition == "abandons_within_t_met":
            num = num + counts["abandoned_within_threshold"]
        den = {
            "offered": counts["offered"],
            "answered": counts["handled"],
            "abandons_excluded": counts["handled"] + counts["abandoned_after_threshold"],
            "abandons_within_t_met": counts["offered"],
        }[term.sl_definition]
        value = service_level_from_counts(counts, term.sl_definition)
        return {"volume": counts["offered"], "numerator": num, "denominator": den, "value": value, "pending": zero}
    a, b = (_SHARE_COUNTS if METRICS[term.metric][0] == "share" else _MEAN_COUNTS)[term.metric]
    num, den = col(a), col(b)
    return {"volume": col("offered"), "numerator": num, "denominator": den, "value": ratio(num, den), "pending": zero}


def _met(value: float, term: Term) -> Any:
    if value is None or not np.isfinite(value):
        return pd.NA
    eps = 1e-12
    return bool(value >= term.goal - eps) if term.direction == "min" else bool(value <= term.goal + eps)


def _met_series(value: pd.Series, term: Term) -> pd.Series:
    """_met over a column: True/False against the goal (1e-12 tolerance), missing where value is not finite."""
    v = value.to_numpy(dtype="float64")
    eps = 1e-12
    ok = v >= term.goal - eps if term.direction == "min" else v <= term.goal + eps
    return pd.Series(pd.arrays.BooleanArray(ok, ~np.isfinite(v)), index=value.index)


def _evaluate(
    contacts: ir.Table | pd.DataFrame,
    clients: pd.DataFrame,
    terms_by_profile: Mapping[str, list[Term]],
    start: pd.Timestamp,
    end: pd.Timestamp,
    calendar: BusinessCalendar | None,
    judged_at: pd.Timestamp | None,
    tz: str | None,
    monthly: bool = False,
    data_end: Any = None,
) -> pd.DataFrame:
    """One row per (period,) client and term over [start, end): counts from one engine query per
    distinct (channel, threshold, short abandon) and one pass over the emails (a slice of whole months at a
    time, email_slices), then vectorized.

    monthly: one period per calendar month in the range; otherwise the whole range is one period starting
    at `start` and ending at `end`. Emails still open are judged at `judged_at` when given, else by
    email_judged_at(their period's end, `data_end`): at the period end, or at the data's end when the data
    stops before it (`data_end` None: the latest arrival in `contacts`).
    """
    calendar = calendar or BusinessCalendar()
    t = with_optional(as_table(contacts), "contacts")
    clients = clients.copy()
    if "sla_profile" not in clients:
        raise ReportlibError("the clients table has no sla_profile column")
    clients = clients[clients["sla_profile"].notna() & (clients["sla_profile"].astype(str) != "")]
    unknown = sorted(set(unknown_profiles(clients, list(terms_by_profile))["sla_profile"]))
    if unknown:
        raise UsageError(f"clients name SLA profiles missing from parameters/sla_contracts.yaml: {', '.join(unknown)}")
    profiles = list(dict.fromkeys(clients["sla_profile"].astype(str)))
    used = [term for p in profiles for term in terms_by_profile[p]]
    if not len(clients) or not used:
        return _no_evaluation()  # no rows, but every column: the reports say there is nothing to judge
    if monthly:
        periods = pd.period_range(start, end - pd.Timedelta(microseconds=1), freq="M").start_time
    else:
        periods = pd.DatetimeIndex([start])
    with_repeat = any(term.metric == "fcr_repeat" for term in used)
    results: dict[tuple, pd.DataFrame] = {}
    keys = list(dict.fromkeys(_term_key(term) for term in used))
    email_keys = [key for key in keys if key[0] == "email_bh"]
    totals: dict[tuple, list[pd.DataFrame]] = {key: [] for key in email_keys}
    if email_keys and judged_at is None and data_end is None:
        data_end = latest_arrival(t)
    # one business clock for every threshold, a slice of whole months of emails at a time (email_slices)
    for s0, s1 in email_slices(t, start, end) if email_keys else []:
        emails = _email_rows(t, s0, s1, ["client_id"])
        period = (
            emails["arrived_at"].dt.to_period("M").dt.start_time if monthly else pd.Series(start, index=emails.index)
        ).astype("datetime64[ns]")
        if judged_at is not None:
            at = np.full(len(emails), judged_at.to_datetime64())
        else:  # each period's open emails at its end, or at the data's end when the data stops before it
            period_end = (
                (period + pd.offsets.MonthBegin(1)).to_numpy(dtype="datetime64[ns]")
                if monthly
                else np.full(len(emails), end.to_datetime64())
            )
            at = email_judged_at(period_end, data_end, calendar=calendar)
        times = _email_business_times(emails, calendar, tz, at)
        emails = emails.assign(period=period)
        for key in email_keys:
            totals[key].append(_email_totals(_judge_emails(emails, key[1], *times), ["period", "client_id"]))
        del emails, times
    for key in keys:
        if key[0] == "email_bh":
            both = ["period", "client_id"]
            results[key] = _email_finish(_combine_email_totals(totals[key], both), both, key[1])
        else:
            _, channel, th, sa = key
            res = contact_counts(
                t.filter(t.channel == channel),
                grain="month" if monthly else None,
                by=["client_id"],
                start=start,
                end=end,
                sl_threshold_s=th,
                short_abandon_s=sa,
                with_repeat=with_repeat,
            )
            if not monthly:
                res.insert(0, "period", start)
            results[key] = res
    for res in results.values():
        res["period"] = pd.to_datetime(res["period"]).astype("datetime64[ns]")
        res["client_id"] = res["client_id"].astype(str)
    base = pd.DataFrame(
        {
            "client_id": clients["client_id"].astype(str).to_numpy(),
            "client_name": clients["client_name"].to_numpy() if "client_name" in clients else None,
            "sla_profile": clients["sla_profile"].astype(str).to_numpy(),
            "monthly_fee": pd.to_numeric(clients["monthly_fee"], errors="coerce").to_numpy(dtype="float64")
            if "monthly_fee" in clients
            else np.nan,
            "_client": np.arange(len(clients)),
        }
    )
    grid = base.merge(pd.DataFrame({"period": periods.astype("datetime64[ns]")}), how="cross")
    parts: list[pd.DataFrame] = []
    term_rows: list[dict[str, Any]] = []
    for profile in profiles:
        mine = grid[grid["sla_profile"] == profile]
        for i, term in enumerate(terms_by_profile[profile]):
            g = mine.merge(results[_term_key(term)], on=["period", "client_id"], how="left")
            v = _term_columns(term, g)
            parts.append(
                g[["period", "client_id", "client_name", "sla_profile", "monthly_fee", "_client"]].assign(
                    volume=v["volume"],
                    numerator=v["numerator"],
                    denominator=v["denominator"],
                    pending=v["pending"],
                    actual=v["value"],
                    met=_met_series(v["value"], term),
                    _order=i,
                    _tid=len(term_rows),
                )
            )
            term_rows.append(
                {
                    "_tid": len(term_rows),
                    "term": term.label,
                    "channel": term.channel,
                    "metric": term.metric,
                    "threshold_s": term.threshold_s,
                    "threshold_h": term.threshold_h,
                    "sl_definition": term.sl_definition if term.metric == "service_level" else None,
                    "goal": term.goal,
                    "direction": term.direction,
                    "penalty_share": term.penalty_share,
                    "_term": term,
                }
            )
    out = pd.concat(parts, ignore_index=True).merge(pd.DataFrame(term_rows), on="_tid", how="left")
    out = out.sort_values(["period", "_client", "_order"], kind="stable").reset_index(drop=True)
    out["met"] = out["met"].astype("boolean")
    missed = (out["met"] == False).fillna(False).to_numpy(dtype=bool)  # noqa: E712 - NA-aware
    # a term with no fee share puts nothing at risk, fee or no fee; with one, a client without a fee: unknown (NaN)
    priced = out["penalty_share"].to_numpy(dtype=float) > 0
    out["penalty_at_risk"] = np.where(missed & priced, out["penalty_share"] * out["monthly_fee"], 0.0)
    return out[list(EVALUATION_COLUMNS)]


# The columns of _evaluate's rows (period: the start of the month or range judged; _term: the parsed Term)
EVALUATION_COLUMNS = (
    "period",
    "client_id",
    "client_name",
    "sla_profile",
    "term",
    "channel",
    "metric",
    "threshold_s",
    "threshold_h",
    "sl_definition",
    "goal",
    "direction",
    "volume",
    "numerator",
    "denominator",
    "pending",
    "actual",
    "met",
    "monthly_fee",
    "penalty_share",
    "penalty_at_risk",
    "_term",
)


def _no_evaluation() -> pd.DataFrame:
    """_evaluate's rows when there is nothing to judge (no client with a contract, or contracts without terms):
    no rows, every column (period as datetime64[ns], met boolean, money and counts as float64)."""
    out = pd.DataFrame({c: pd.Series(dtype=object) for c in EVALUATION_COLUMNS})
    out["period"] = out["period"].astype("datetime64[ns]")
    out["met"] = out["met"].astype("boolean")
    numbers = ("threshold_s", "threshold_h", "goal", "volume", "numerator", "denominator", "pending", "actual")
    for c in (*numbers, "monthly_fee", "penalty_share", "penalty_at_risk"):
        out[c] = out[c].astype("float64")
    return out


def evaluate_compliance(
    contacts: ir.Table | pd.DataFrame,
    clients: pd.DataFrame,
    profiles: Mapping[str, Any],
    month: str,
    *,
    calendar: BusinessCalendar | None = None,
    as_of: Any = None,
    tz: str | None = DEFAULT_TIMEZONE,
    data_end: Any = None,
) -> pd.DataFrame:
    """Every client's SLA terms for a YYYY-MM month: actual, met, penalty at risk (currency).

    `profiles` is the `profiles` mapping of sla_contracts.yaml (or already parsed Terms). Open
    emails are judged at `as_of` when given, else by email_judged_at(month end, data's end): at the
    month end, or at the data's end when the data stops before it (`data_end`: the whole source's
    latest arrival; None: the latest arrival in `contacts`). One row per client and term.
    """
    start, end = month_bounds(month)
    out = _evaluate(
        contacts,
        clients,
        _parsed(profiles),
        start,
        end,
        calendar,
        pd.Timestamp(as_of) if as_of is not None else None,
        tz,
        data_end=data_end,
    )
    return out.drop(columns=["_term", "period"], errors="ignore")


def compliance_history(
    contacts: ir.Table | pd.DataFrame,
    clients: pd.DataFrame,
    profiles: Mapping[str, Any],
    first_month: str,
    last_month: str,
    *,
    calendar: BusinessCalendar | None = None,
    tz: str | None = DEFAULT_TIMEZONE,
    data_end: Any = None,
) -> pd.DataFrame:
    """evaluate_compliance for every month from first_month to last_month (YYYY-MM) in one pass.

    The same rows as evaluate_compliance month by month (each month's open emails judged by
    email_judged_at: at its end, or at the data's end in the month the data stops in; `data_end` as
    there), with a leading `month` column (YYYY-MM); one engine query per kind of term for the whole range.
    """
    first, last = pd.Period(str(first_month), freq="M"), pd.Period(str(last_month), freq="M")
    if last < first:
        raise UsageError(f"compliance_history: {first} is after {last}")
    out = _evaluate(
        contacts,
        clients,
        _parsed(profiles),
        first.start_time,
        (last + 1).start_time,
        calendar,
        None,
        tz,
        monthly=True,
        data_end=data_end,
    )
    period = out.pop("period")
    out.insert(0, "month", period.dt.to_period("M").astype(str) if len(out) else pd.Series(dtype=object))
    return out.drop(columns="_term")


def _parsed(profiles: Mapping[str, Any]) -> dict[str, list[Term]]:
    if profiles and all(isinstance(v, list) and all(isinstance(x, Term) for x in v) for v in profiles.values()):
        return dict(profiles)
    return parse_profiles(profiles)


def expected_remaining_volume(
    contacts: ir.Table | pd.DataFrame,
    as_of: Any,
    *,
    by: Sequence[str] = ("client_id", "channel"),
    weeks: int = 8,
    short_abandon_s: float = 5,
    end: Any = None,
) -> pd.DataFrame:
    """Expected offered contacts from `as_of` to month end (or `end`): same-weekday mean of past weeks.

    For each remaining day the mean offered count of the same weekday over the `weeks` weeks before
    as_of's day (days without contacts count as zero) is added up; a partly elapsed as_of day
    contributes its remaining share of 24 h. Holidays are not treated specially. A group (a client's channel)
    whose first contact ever falls inside those weeks is averaged over its days since then: the days before it
    existed are not zeros (a client live since the 9th was expected to bring 154 phone contacts in the rest of
    the month, not the ~1,100 it brought).
    """
    by = list(by)
    as_of = pd.Timestamp(as_of)
    day0 = as_of.normalize()
    end = pd.Timestamp(end) if end is not None else (pd.Period(as_of, freq="M") + 1).start_time
    hist_start = day0 - pd.Timedelta(days=7 * weeks)
    daily = contact_counts(
        contacts, grain="day", by=by, start=hist_start, end=day0, short_abandon_s=short_abandon_s, with_repeat=False
    )[["period", *by, "offered"]]
    daily["weekday"] = daily["period"].dt.weekday
    per_wd = daily.groupby([*by, "weekday"], dropna=False)["offered"].sum()
    if by and len(per_wd):
        t = as_table(contacts)
        t = t.filter(t.arrived_at < day0.to_pydatetime())
        born = t.group_by(by).aggregate(first=t.arrived_at.min()).to_pandas()
        born["first"] = pd.to_datetime(born["first"]).dt.normalize().clip(lower=hist_start)
        first = born.set_index(by)["first"]
        keys = per_wd.index.droplevel("weekday")
        starts = pd.DatetimeIndex(first.reindex(keys).fillna(hist_start).to_numpy())
        # the days of each weekday from the group's start (or the window's) to day0
        days = np.asarray((day0 - starts).days, dtype=float)
        wd = per_wd.index.get_level_values("weekday").to_numpy()
        lead = (wd - starts.weekday.to_numpy()) % 7  # days from the start to its first such weekday
        seen = np.where(days > lead, np.floor((days - lead - 1) / 7) + 1, 0.0)
        per_wd = per_wd / np.where(seen > 0, seen, np.inf)
    else:
        per_wd = per_wd / float(weeks)
    remaining = pd.date_range(day0, end - pd.Timedelta(days=1), freq="D")
    weight = pd.Series(1.0, index=remaining)
    if len(remaining) and as_of > day0:
        weight.iloc[0] = 1.0 - (as_of - day0) / pd.Timedelta(days=1)
    wd_weight = weight.groupby(weight.index.weekday).sum()
    per_wd = per_wd.reset_index()
    per_wd["expected"] = per_wd["offered"] * per_wd["weekday"].map(wd_weight).fillna(0.0)
    if by:
        out = per_wd.groupby(by, dropna=False)["expected"].sum().reset_index()
    else:
        out = pd.DataFrame({"expected": [per_wd["expected"].sum()]})
    return out.rename(columns={"expected": "expected_remaining"})


def month_to_date(
    contacts: ir.Table | pd.DataFrame,
    clients: pd.DataFrame,
    profiles: Mapping[str, Any],
    month: str,
    as_of: Any,
    *,
    expected_remaining: float | pd.DataFrame | None = None,
    calendar: BusinessCalendar | None = None,
    tz: str | None = DEFAULT_TIMEZONE,
    weeks: int = 8,
    data_end: Any = None,
) -> pd.DataFrame:
    """Month-to-date SLA status at `as_of` with a month-end projection and what recovery needs.

    Contacts in [month start, as_of) are measured; emails still open are judged by
    email_judged_at(as_of, data's end): at `as_of`, or at the data's end when the data stops before it
    (`data_end`: the whole source's latest arrival; None: the latest arrival in `contacts`).
    expected_remaining: the contacts still to come this month, per client and channel (a frame with
    client_id, channel, expected_remaining), one number for every client and channel, or None to
    estimate it with expected_remaining_volume.
    For share terms the remaining contacts are assumed to enter the denominator (for email, so do
    pending ones), and

        required_successes = ceil(goal x (denominator + remaining) - numerator)               (floors), or
        ceil(remaining - (goal x (denominator + remaining) - numerator))                     (ceilings; the
        'successes' are contacts that do not count against the ceiling, e.g. not abandoned),

    clipped at 0 (the expected remaining count is an estimate, not a whole number: a term is 'lost' when the
    quantity in the ceiling exceeds it, exactly when its best case misses the goal); for service level it is the number of remaining contacts that must be answered
    within the threshold (`required_within_threshold`). projected assumes the rest of the month
    performs as the month so far (so it equals actual); status: 'secured' (met even if every
    remaining contact fails), 'on track' (met if the rest performs as so far), 'at risk' (missing
    now, still recoverable), 'lost' (cannot be met even if every remaining contact succeeds),
    'not started' (nothing measured yet, contacts still expected: nothing is missing, so nothing at risk),
    'no volume'. For mean terms (ASA, AHT) required_remaining_mean is the mean the rest must reach (a ceiling that
    needs a mean below 0 is 'lost').
    """
    terms = _parsed(profiles)
    start, end = month_bounds(month)
    as_of = pd.Timestamp(as_of)
    if not start <= as_of <= end:
        raise UsageError(f"as_of {as_of} is not inside {month}")
    res = _evaluate(contacts, clients, terms, start, as_of, calendar, None, tz, data_end=data_end)
    res = res.drop(columns="period", errors="ignore")
    if res.empty:
        return res.drop(columns="_term", errors="ignore")
    if expected_remaining is None:
        exp = expected_remaining_volume(contacts, as_of, by=["client_id", "channel"], weeks=weeks, end=end)
        res = res.merge(exp, on=["client_id", "channel"], how="left")
        res["expected_remaining"] = res["expected_remaining"].fillna(0.0)
    elif isinstance(expected_remaining, pd.DataFrame):
        res = res.merge(
            expected_remaining[["client_id", "channel", "expected_remaining"]], on=["client_id", "channel"], how="left"
        )
        res["expected_remaining"] = res["expected_remaining"].fillna(0.0)
    else:
        res["expected_remaining"] = float(expected_remaining)

    req, req_mean, status, best_case, worst_case = [], [], [], [], []
    for _, r in res.iterrows():
        term: Term = r["_term"]
        remaining = float(r["expected_remaining"]) + float(r.get("pending", 0.0) or 0.0)
        num, den = float(r["numerator"]), float(r["denominator"])
        kind = METRICS[term.metric][0]
        total = den + remaining
        best = worst = np.nan
        need: float = np.nan
        lost = False
        if kind == "share":
            # The successes the rest must bring, as a quantity (the expected remaining count is an estimate,
            # 210.25): goal x total - numerator for floors; for ceilings the remaining minus the failures still
            # allowed. Over `remaining` the term is lost, exactly when its best case misses the goal; the count
            # shown is its ceiling (with whole remaining contacts this is the integer rule of the docstring:
            # the old integer rule called a term with 210.25 expected and 211 to keep "lost" whose best case,
            # 7.76% abandoned, met its 8%).
            if term.direction == "min":
                short = term.goal * total - num
                if total:
                    best, worst = (num + remaining) / total, num / total
            else:
                short = remaining - (term.goal * total - num)
                if total:
                    best, worst = num / total, (num + remaining) / total
            lost = short > remaining + 1e-9
            # a floor lost still says how many it needed (42 of 40); a ceiling lost has no count to name
            need = math.inf if lost and term.direction == "max" else max(0, math.ceil(short - 1e-9))
            req_mean.append(np.nan)
        else:
            req_mean.append((term.goal * total - num) / remaining if remaining > 0 else np.nan)
        req.append(need)
        best_case.append(best)
        worst_case.append(worst)
        actual = r["actual"]
        if total == 0:
            status.append("no volume")
        elif kind == "share" and lost:
            status.append("lost")
        elif kind == "share" and need == 0:
            status.append("secured")
        elif den == 0:  # nothing measured yet (the month's first hours, a client paused): nothing is missing
            status.append("not started")
        elif actual == actual and _met(actual, term) is True:
            status.append("on track")
        elif kind == "mean" and (remaining == 0 or (term.direction == "max" and req_mean[-1] < 0)):
            status.append("lost")  # no contact left, or a ceiling the rest would have to average below 0 s
        else:
            status.append("at risk")
    res["required_successes"] = [float(x) if x != math.inf else np.nan for x in req]
    res["required_within_threshold"] = np.where(res["metric"] == "service_level", res["required_successes"], np.nan)
    res["required_share_of_remaining"] = ratio(  # a count rounded up can pass 210.25 expected: all of them
        res["required_successes"], res["expected_remaining"] + res["pending"].fillna(0.0)
    ).clip(upper=1.0)
    res["required_remaining_mean"] = req_mean
    res["best_case"] = best_case
    res["worst_case"] = worst_case
    res["projected"] = res["actual"]
    res["will_meet"] = res["met"]
    res["status"] = status
    res["as_of"] = as_of
    return res.drop(columns="_term")
