"""Calendar months: the one parser, label and bounds every layer uses.

A month is written ``YYYY-MM`` (``2026-03``) everywhere: on the command line, in parameters, in
notebook parameters and in file names. ``previous`` (command line only) is the last complete month
in the configured time zone, so a run at 06:00 on the 2nd renders the month that just ended
wherever the server's clock is set.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from reportlib.core.errors import UsageError

MONTH_RE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
# The years a month, a timestamp or a date of the data may fall in. pandas computes dates in
# nanoseconds, which reach only from 1677-09-21 to 2262-04-11: a month or a date outside would stop
# the metrics with OutOfBoundsDatetime. The margin keeps a forecast horizon (at most 731 days) and
# time-zone shifts inside that range. From the engine's range, not from any data set.
FIRST_YEAR, LAST_YEAR = 1700, 2199


def parse_month(value: Any, what: str = "month") -> pd.Period:
    """A ``YYYY-MM`` string (or a Period / Timestamp) as a monthly ``pd.Period``.

    Raises UsageError naming ``what`` and the expected form for anything else (``2026-3``,
    ``2026-13``, ``March``, None) or a month outside years FIRST_YEAR..LAST_YEAR.
    """
    if isinstance(value, pd.Period):
        month = value.asfreq("M")
    elif isinstance(value, pd.Timestamp):
        month = value.to_period("M")
    elif not isinstance(value, str) or not MONTH_RE.fullmatch(value.strip()):
        raise UsageError(f"{what} must be YYYY-MM (e.g. 2026-03), got {value!r}")
    else:
        month = pd.Period(value.strip(), freq="M")
    if not FIRST_YEAR <= month.year <= LAST_YEAR:
        raise UsageError(f"{what} must be a month from {FIRST_YEAR}-01 to {LAST_YEAR}-12, got {value!r}")
    return month


def month_str(value: Any) -> str:
    """The canonical ``YYYY-MM`` text of a month given in any form :func:`parse_month` takes."""
    return str(parse_month(value))


def month_label(value: Any) -> str:
    """``'2026-03'`` -> ``'March 2026'``."""
    return parse_month(value).strftime("%B %Y")


def month_bounds(value: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Local (naive) start and exclusive end of a calendar month."""
    p = parse_month(value)
    return p.start_time, (p + 1).start_time


def local_now(tz: str, now: Any = None) -> pd.Timestamp:
    """The time now (or `now`: a naive one is read in `tz`) on the wall clock of time zone `tz`, naive: the one
    clock every "today" of the tool reads (not the machine's zone)."""
    today = pd.Timestamp(now) if now is not None else pd.Timestamp.now(tz=tz)
    today = today.tz_localize(tz) if today.tzinfo is None else today.tz_convert(tz)
    return today.tz_localize(None)


def resolve_month(value: str, tz: str, now: Any = None) -> str:
    """``YYYY-MM`` as given, or for ``previous`` the last complete month in time zone ``tz``."""
    if value == "previous":
        return str(local_now(tz, now).to_period("M") - 1)
    return month_str(value)
