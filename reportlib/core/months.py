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


def parse_month(value: Any, what: str = "month") -> pd.Period:
    """A ``YYYY-MM`` string (or a Period / Timestamp) as a monthly ``pd.Period``.

    Raises UsageError naming ``what`` and the expected form for anything else (``2026-3``,
    ``2026-13``, ``March``, None).
    """
    if isinstance(value, pd.Period):
        return value.asfreq("M")
    if isinstance(value, pd.Timestamp):
        return value.to_period("M")
    if not isinstance(value, str) or not MONTH_RE.fullmatch(value.strip()):
        raise UsageError(f"{what} must be a month as YYYY-MM (e.g. 2026-03), got {value!r}")
    return pd.Period(value.strip(), freq="M")


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


def resolve_month(value: str, tz: str, now: Any = None) -> str:
    """``YYYY-MM`` as given, or for ``previous`` the last complete month in time zone ``tz``."""
    if value == "previous":
        today = pd.Timestamp(now) if now is not None else pd.Timestamp.now(tz=tz)
        today = today.tz_localize(tz) if today.tzinfo is None else today.tz_convert(tz)
        return str(today.tz_localize(None).to_period("M") - 1)
    return month_str(value)
