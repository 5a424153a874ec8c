"""Words and tiles from numbers: KPI tiles with red/amber/green vs target, change vs last month and
the same month last year, plain-language commentary, and the one table style every report uses.

Everything here returns data (dicts, strings) or HTML built with every piece of text from data
escaped. Units: ``share`` is 0..1 shown as a percentage (changes in points), ``seconds``,
``count``, ``currency``, ``fte``, ``number``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd

from reportlib.core.months import parse_month

# --- numbers to text -------------------------------------------------------------------------------

UNITS = ("share", "seconds", "count", "currency", "fte", "number", "days", "ratio")


def is_missing(value: Any) -> bool:
    """True for None, NaN, NA and NaT."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def format_value(value: Any, unit: str = "number", currency: str = "$", digits: int | None = None) -> str:
    """A value as people read it: 0.763 share -> '76.3%', 412 seconds -> '412 s', 1234 count -> '1,234',
    -8.4 points (percentage points) -> '-8.4'; money with cents under 100 ('$98.10', '$862')."""
    if is_missing(value):
        return "–"
    v = float(value)
    if unit == "share":
        return f"{fixed(v, 1 if digits is None else digits, grouped=False, scale=100)}%"
    if unit == "seconds":
        return f"{fixed(v, 0 if digits is None else digits)} s"
    if unit == "count":
        return fixed(v, 0 if digits is None else digits)
    if unit == "currency":
        d = (2 if abs(v) < 100 else 0) if digits is None else digits
        text = fixed(abs(v), d)
        return f"{'-' if v < 0 and text.strip('0.,') else ''}{currency}{text}"  # never "-$0.00"
    if unit == "fte":
        return f"{fixed(v, 1 if digits is None else digits)} FTE"
    if unit == "days":
        return f"{fixed(v, 0 if digits is None else digits)} days"
    if unit == "ratio":
        return f"{fixed(v, 2 if digits is None else digits)}×"
    if unit == "points":  # percentage points, already x 100 (plan_vs_actual's effects): one decimal, as 'pts' reads
        return fixed(v, 1 if digits is None else digits)
    return fixed(v, 2 if digits is None else digits) if abs(v) < 100 else fixed(v, 0)


def fixed(value: float, digits: int, grouped: bool = True, scale: int = 1) -> str:
    """`value` × `scale` with `digits` decimals (and commas between thousands, `grouped`), rounded half away from
    zero on the value's shortest decimal form, as a spreadsheet shows the same cell: Python's own format rounds the
    binary value half to even, and a page read 13 of 16 satisfied (81.25%) as 81.2% where the workbook's cell shows
    81.3%, QA 88.05 as 88.0 against 88.1, a fee at risk of $174.50 as $174 (a probe). Scaled in decimal (a share
    0.285 is 28.5%, where 0.285 × 100 in binary is 28.499...). Never "-0.0"."""
    if not math.isfinite(value):
        return f"{value * scale:,.{digits}f}" if grouped else f"{value * scale:.{digits}f}"
    q = (Decimal(repr(value)) * scale).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    if q == 0:
        q = abs(q)
    return f"{q:,.{digits}f}" if grouped else f"{q:.{digits}f}"


def range_texts(lower: Iterable[Any], upper: Iterable[Any], unit: str = "share", currency: str = "$") -> list[str]:
    """Each interval's bounds in `unit` as a table shows them: "12.0% – 18.0%"; "–" when a bound is missing."""
    return [
        "–"
        if is_missing(lo) or is_missing(hi)
        else f"{format_value(lo, unit, currency)} – {format_value(hi, unit, currency)}"
        for lo, hi in zip(lower, upper)
    ]


def format_change(
    delta: Any, unit: str = "number", currency: str = "$", signed: bool = True, digits: int | None = None
) -> str:
    """A change in a value: shares in percentage points ('+4.1 pts'), others in their unit (``digits``
    decimals as in ``format_value``; shares and money keep theirs)."""
    if is_missing(delta):
        return "–"
    d = float(delta)
    sign = "+" if d > 0 and signed else ("-" if d < 0 else "")
    a = abs(d)
    if unit == "share":
        return f"{sign}{fixed(a, 1, grouped=False, scale=100)} pts"
    if unit == "currency":  # money keeps its own decimals, whatever `digits`
        return sign + format_value(a, unit, currency)
    return sign + format_value(a, unit, currency, digits)


def relative_change(new: Any, old: Any) -> float | None:
    """(new - old) / |old| as a share, None when either is missing or old is 0."""
    if is_missing(new) or is_missing(old) or float(old) == 0:
        return None
    return (float(new) - float(old)) / abs(float(old))


# --- red / amber / green ---------------------------------------------------------------------------

STATUS_TEXT = {"green": "On target", "amber": "Near target", "red": "Off target", "none": "No target"}


def rag_status(
    value: Any, target: Any, higher_is_better: bool = True, amber: float = 0.05, amber_abs: float | None = None
) -> str:
    """'green' when the target is met, 'amber' within a tolerance of it, else 'red'; 'none' without data.

    The tolerance is ``amber_abs`` in the value's unit if given, else ``amber`` × |target|.
    Meeting the target exactly is green.
    """
    if is_missing(value) or is_missing(target):
        return "none"
    v, t = float(value), float(target)
    tol = float(amber_abs) if amber_abs is not None else abs(t) * float(amber)
    gap = (v - t) if higher_is_better else (t - v)  # >= 0 means the target is met
    if gap >= -1e-12:
        return "green"
    if gap >= -tol - 1e-12:
        return "amber"
    return "red"


@dataclass
class Tile:
    """One KPI tile: value vs target with its change vs last month and vs the same month last year."""

    name: str
    value: float | None
    unit: str
    target: float | None = None
    status: str = "none"
    delta_prev: float | None = None
    delta_yoy: float | None = None
    higher_is_better: bool = True
    prev_label: str = "last month"
    yoy_label: str = "last year"
    key: str = ""
    note: str | None = None
    extra: dict = field(default_factory=dict)
    digits: int | None = None  # decimals of the value, target and changes as shown (None: the unit's default)

    def as_dict(self) -> dict:
        """Plain dict (the interface used by the e-mail body): name, value, unit, target, status, deltas."""
        d = asdict(self)
        for k in ("value", "target", "delta_prev", "delta_yoy"):
            d[k] = None if is_missing(d[k]) else float(d[k])
        return d


def make_tile(
    name: str,
    value: Any,
    unit: str,
    *,
    target: Any = None,
    prev: Any = None,
    yoy: Any = None,
    higher_is_better: bool = True,
    amber: float = 0.05,
    amber_abs: float | None = None,
    prev_label: str = "last month",
    yoy_label: str = "last year",
    key: str = "",
    note: str | None = None,
    compare: Sequence[str] = ("prev", "yoy"),
    digits: int | None = None,
) -> Tile:
    """A tile from this month's value, its target and the values last month and a year ago.

    ``compare`` names the comparisons the tile states: "prev" (with ``prev``, labelled ``prev_label``) and
    "yoy" (with ``yoy``, ``yoy_label``). One not named is not made and the tile says nothing about it; one
    named whose figure is missing says "no data for <label>" (unless both figures are None: then the tile is
    not compared at all, as a month the data cover in part). ``digits``: decimals shown (``format_value``; by
    default the unit's, or more where the value would read as its target without being it: `distinct_digits`).
    """
    unknown = set(compare) - {"prev", "yoy"}
    if unknown:
        raise ValueError(f"compare takes 'prev' and 'yoy', not {sorted(unknown)}")
    if "prev" not in compare:
        prev = None
    if "yoy" not in compare:
        yoy = None
    val = None if is_missing(value) else float(value)
    tgt = None if is_missing(target) else float(target)
    if digits is None:  # 79.96% against an 80% target reads "80.0%, below the 80.0% target" with one decimal
        digits = distinct_digits(val, tgt, None, unit)
    dp = None if val is None or is_missing(prev) else val - float(prev)
    dy = None if val is None or is_missing(yoy) else val - float(yoy)
    return Tile(
        name=name,
        value=val,
        unit=unit,
        target=tgt,
        status=rag_status(val, tgt, higher_is_better, amber, amber_abs),
        delta_prev=dp,
        delta_yoy=dy,
        higher_is_better=higher_is_better,
        prev_label=prev_label,
        yoy_label=yoy_label,
        key=key or name,
        note=note,
        extra={"compare": not (prev is None and yoy is None), "compared": [c for c in ("prev", "yoy") if c in compare]},
        digits=digits,
    )


def _tile_get(tile: Tile | Mapping[str, Any], key: str, default: Any = None) -> Any:
    if isinstance(tile, Mapping):
        return tile.get(key, default)
    return getattr(tile, key, default)


def distinct_digits(value: Any, target: Any, digits: int | None, unit: str = "number") -> int | None:
    """The decimals to show `value` and its `target` with (both in `unit`), so that a value that differs from its
    target never reads as equal to it, and the target reads as it is: `digits` (None: the unit's default) when the
    two already read apart or are equal (or one is missing) and the target needs no more (`own_digits`: a goal of
    62.45% needs 2), else the fewest more decimals that tell them apart (84.95 against 85 with 1
    decimal: 2, "84.95" and "85.00"; 3,458 of 4,692 against 73.7%: "73.6999%"), at most MORE_DIGITS more. Only the
    display changes; judge on the true value."""
    if is_missing(value) or is_missing(target):
        return digits
    if digits is None:  # format_value's own decimals for this value: the fewest that write it as it does
        shown = format_value(value, unit)
        base = next((k for k in range(6) if format_value(value, unit, digits=k) == shown), 0)
    else:
        base = int(digits)
    own = own_digits(target, unit, base)  # a goal of 62.45% reads so, not as 62.5%, a goal nobody set
    if float(value) == float(target) or format_value(value, unit, digits=own) != format_value(target, unit, digits=own):
        return digits if own == base else own
    for more in range(own + 1, base + MORE_DIGITS + 1):
        if format_value(value, unit, digits=more) != format_value(target, unit, digits=more):
            return more
    return base + MORE_DIGITS


def own_digits(value: Any, unit: str, base: int) -> int:
    """The fewest decimals, from `base` up to MORE_DIGITS more, that write `value` in `unit` as it is (a share as a
    percentage: 0.6245 needs 2, "62.45%"); `base` when none does."""
    x = float(value) * (100 if unit == "share" else 1)
    for k in range(base, base + MORE_DIGITS + 1):
        if abs(round(x, k) - x) <= 1e-9 * max(1.0, abs(x)):
            return k
    return base


# the most decimals distinct_digits adds: two were too few (a probe: 3,458 of 4,692 is 73.69991%, "73.700%" beside
# a 73.7% goal and "missed"); with six, a share and its goal read apart unless they differ by under 1e-8
MORE_DIGITS = 6


def compared_digits(
    values: Sequence[Any], targets: Sequence[Any], units: Sequence[str] | str, digits: int | None = None
) -> list[int | None]:
    """Per row, the decimals to show a value and its target with so that they never read as equal when they
    differ (`distinct_digits`, from `digits`: None, the unit's own); `digits` where they already read apart."""
    units = [units] * len(values) if isinstance(units, str) else list(units)
    return [distinct_digits(v, t, digits, u) for v, t, u in zip(values, targets, units)]


def tile_digits(tile: Tile | Mapping[str, Any]) -> int | None:
    """A tile's decimals as shown: its `digits` as an int (a tile dict sent as data may hold 1.0), or None."""
    d = _tile_get(tile, "digits")
    return None if is_missing(d) else int(d)


def unchanged(delta: Any, unit: str, digits: int | None = None) -> bool:
    """Whether a change rounds to nothing as shown (format_change with `digits`: under 0.05 points for a share,
    half a cent, half a second...) or is missing: the one rule for "held steady" (movement), the tile's ● and its
    grey delta, here and in the e-mail, so an arrow never says "▼ 0.0 pts" beside "held steady"."""
    if is_missing(delta):
        return True
    shown = format_change(abs(float(delta)), unit, signed=False, digits=digits)
    return shown == format_change(0.0, unit, signed=False, digits=digits)


def delta_class(delta: Any, higher_is_better: bool, unit: str, digits: int | None = None) -> str:
    """The CSS class of a tile's change: rl-delta-flat when `unchanged`, else good or bad for the figure."""
    if unchanged(delta, unit, digits):
        return "rl-delta-flat"
    good = (float(delta) > 0) == bool(higher_is_better)
    return "rl-delta-good" if good else "rl-delta-bad"


def _arrow(delta: Any, unit: str, digits: int | None = None) -> str:
    if unchanged(delta, unit, digits):
        return "●"
    return "▲" if float(delta) > 0 else "▼"


# Tile colours as inline styles (the same values as report.css), so a tile keeps its colour where the
# page's stylesheet is absent: JupyterLab output areas and its sanitizer keep inline colour styles.
TILE_STYLE = {
    "green": ("#2e7d32", "#e8f3e9"),
    "amber": ("#e08a00", "#fff3e0"),
    "red": ("#c62828", "#fdecea"),
    "none": ("#5b6475", "#f0f1f4"),
}
# status words and cells: ink that keeps 4.5:1 (WCAG AA) on its tile's tint as on white (a probe measured the amber
# at 4.3:1 and the green at 4.5:1 on the tints that status cells now carry for JupyterLab's dark theme)
STATUS_INK = {"green": "#2a722e", "amber": "#955800", "red": "#c62828", "none": "#1d2433"}
DELTA_INK = {"rl-delta-good": "#2a722e", "rl-delta-bad": "#c62828", "rl-delta-flat": "#5b6475"}


def tile_style(status: str) -> str:
    """The inline style of one tile: its status colour (left border and background) and box."""
    edge, bg = TILE_STYLE.get(status, TILE_STYLE["none"])
    return (
        f"display:inline-block;vertical-align:top;min-width:190px;margin:0 8px 8px 0;padding:10px 12px;"
        f"border:1px solid #e4e7ec;border-left:6px solid {edge};border-radius:8px;background-color:{bg};"
        f"color:#1d2433"
    )


def tiles_html(tiles: Iterable[Tile | Mapping[str, Any]], currency: str = "$") -> str:
    """The KPI tile grid as HTML (status shown in words as well as colour, so it survives grey print).

    Colours are inline styles as well as classes, so they survive in JupyterLab (no report.css there).
    """
    parts = ['<div class="rl-tiles">']
    for t in tiles:
        unit = _tile_get(t, "unit", "number")
        status = _tile_get(t, "status", "none") or "none"
        if status not in STATUS_TEXT:
            status = "none"
        hib = _tile_get(t, "higher_is_better", True)
        name = html.escape(str(_tile_get(t, "name", "")))
        digits = tile_digits(t)
        value = html.escape(format_value(_tile_get(t, "value"), unit, currency, digits))
        status_text = "No data" if is_missing(_tile_get(t, "value")) else STATUS_TEXT[status]
        target = _tile_get(t, "target")
        tgt_txt = (
            ("Target " + ("≥ " if hib else "≤ ") + format_value(target, unit, currency, digits))
            if not is_missing(target)
            else ""
        )
        deltas = []
        extra = _tile_get(t, "extra") or {}
        compared = extra.get("compared", ("prev", "yoy"))  # a comparison not asked for says nothing
        for key, label in (
            []
            if extra.get("compare") is False
            else [
                (f"delta_{c}", _tile_get(t, f"{c}_label", default))
                for c, default in (("prev", "last month"), ("yoy", "last year"))
                if c in compared
            ]
        ):
            d = _tile_get(t, key)
            cls = delta_class(d, hib, unit, digits)
            if is_missing(_tile_get(t, "value")):  # nothing this month: "No data" says it (it read "no data for
                break  # last month" while last month's figure was there: a probe)
            if is_missing(d):
                txt = f"no data for {label}"
            else:
                txt = f"{_arrow(d, unit, digits)} {format_change(abs(float(d)), unit, currency, signed=False, digits=digits)} vs {label}"
            deltas.append(f'<span class="{cls}" style="display:block;color:{DELTA_INK[cls]}">{html.escape(txt)}</span>')
        note = _tile_get(t, "note")
        note_html = f'<div class="rl-tile-note rl-caption">{html.escape(str(note))}</div>' if note else ""
        parts.append(
            f'<div class="rl-tile rl-{status}" data-status="{status}" style="{tile_style(status)}">'
            f'<div class="rl-tile-name" style="font-size:.85em;color:#5b6475;font-weight:600">{name}</div>'
            f'<div class="rl-tile-value" style="font-size:1.75em;font-weight:700;line-height:1.2">{value}</div>'
            + (
                f'<div class="rl-tile-target" style="font-size:.82em"><span class="rl-tile-status" '
                f'style="font-weight:650;color:{STATUS_INK[status]}">{html.escape(status_text)}</span>'
                + (f" · {html.escape(tgt_txt)}" if tgt_txt else "")
                + "</div>"
                if tgt_txt or status != "none"
                else ""
            )
            + f'<div class="rl-tile-deltas" style="font-size:.8em;margin-top:4px">{"".join(deltas)}</div>{note_html}</div>'
        )
    parts.append("</div>")
    return "".join(parts)


# --- commentary ------------------------------------------------------------------------------------


def movement(delta: float, unit: str, now_text: str, currency: str = "$", digits: int | None = None) -> str:
    """How a figure moved to its current value, in words: 'rose by 1,098 to 7,849', 'fell by 4.1 points
    to 76.3%', 'held steady at 30 s'. `delta` is now - before in the figure's unit (shares 0..1 move in
    percentage points); a move that rounds to nothing as shown (under 0.05 points, half a second, half a
    cent...) holds steady. ``digits``: decimals of the move as shown (``format_change``)."""
    if unchanged(delta, unit, digits):
        return f"held steady at {now_text}"
    amount = format_change(abs(float(delta)), unit, currency, signed=False, digits=digits)
    if unit == "share":
        amount = amount.replace(" pts", " points")
    return f"{'rose' if delta > 0 else 'fell'} by {amount} to {now_text}"


def partial_label(days: int, open_days: int) -> str | None:
    """The short label of a month the data cover in part, for its charts ("partial: 12 of 21 open days"; "partial:
    none of 22 open days" when the data fall only on closed days); None for a whole month."""
    if days >= open_days:
        return None
    return f"partial: {days} of {open_days} open days" if days > 0 else f"partial: none of {open_days} open days"


def days_with_data(days: int, open_days: int) -> str:
    """How many of a month's open days (counts of days) the data cover, as a phrase: "12 of 21 open days with
    data", or "the data cover none of the month's 22 open days" when they fall only on closed days (a Saturday)."""
    if days <= 0 < open_days:
        return f"the data cover none of the month's {open_days} open days"
    return f"{days} of {open_days} open days with data"


def uncompared_note(days: int, open_days: int) -> str | None:
    """The note of a tile that sums a month (contacts, money, missed terms) when the data cover the month in part:
    such a total is not set against whole months ("12 of 21 open days with data: not compared with whole
    months"; days_with_data's wording when they cover none); None for a whole month."""
    return f"{days_with_data(days, open_days)}: not compared with whole months" if days < open_days else None


@dataclass(frozen=True)
class TotalsBasis:
    """Which comparisons a month's totals (sums over the month: contacts, money, missed terms) may make.

    A total is set against last month's (`prev`) or last year's (`yoy`) only when both months are whole months of
    data: every open day covered. Each coverage is (open days with data, the month's open days), as
    `queries.coverage` gives it; (0, 0) reads as a whole month (no calendar to count: the roster's reports). A
    comparison month the data do not reach at all (`unreached`) is kept (its figure is missing: the tile says "no
    data for" it); one with data on its closed days alone (an export starting on a month's last Saturday) covers 0
    of its open days, in part (a probe: "Contacts rose by 9" against two Saturday contacts). Rates and averages are
    compared whatever the coverage."""

    days: int = 0
    open_days: int = 0
    prev: tuple[int, int] = (0, 0)
    yoy: tuple[int, int] = (0, 0)
    prev_label: str = "last month"
    yoy_label: str = "last year"
    unreached: tuple[str, ...] = ()  # "prev", "yoy": the comparison months with no data on any day

    @property
    def coverage(self) -> tuple[int, int]:
        """(open days of the month with data, the month's open days): queries.coverage; (0, 0), read as a whole
        month, on the roster's reports."""
        return self.days, self.open_days

    @property
    def partial(self) -> bool:
        """The month itself is covered in part."""
        return self.days < self.open_days

    def _part(self, which: str) -> bool:
        days, open_days = self.prev if which == "prev" else self.yoy
        return days < open_days and which not in self.unreached

    @property
    def compare(self) -> tuple[str, ...]:
        """The comparisons a total makes (make_tile's `compare`): none in a partial month, else those with a
        month that is whole (or has no data at all)."""
        if self.partial:
            return ()
        return tuple(w for w in ("prev", "yoy") if not self._part(w))

    @property
    def note(self) -> str | None:
        """Why a total is not compared ("12 of 21 open days with data: not compared with whole months"; "not
        compared with Oct 2027, which has data on 10 of its 21 open days"), None when it is compared with both."""
        if self.partial:
            return uncompared_note(self.days, self.open_days)
        parts = [
            f"{label}, which has data on {cov[0]} of its {cov[1]} open days"
            for which, label, cov in (("prev", self.prev_label, self.prev), ("yoy", self.yoy_label, self.yoy))
            if self._part(which)
        ]
        return "not compared with " + "; nor with ".join(parts) if parts else None


def tile_sentence(tile: Tile | Mapping[str, Any], currency: str = "$", driver: str | None = None) -> str | None:
    """One plain sentence for a tile, e.g. 'Service level fell by 4.1 points to 76.3%, below the 80.0% target.'

    ``driver`` (already plain text) is appended after a colon. Returns None when the tile has no value.
    """
    value = _tile_get(tile, "value")
    if is_missing(value):
        return None
    unit = _tile_get(tile, "unit", "number")
    name = str(_tile_get(tile, "name", ""))
    dp = _tile_get(tile, "delta_prev")
    digits = tile_digits(tile)
    vtxt = format_value(value, unit, currency, digits)
    if is_missing(dp):
        head = f"{name}: {vtxt}"  # "Contacts: 326" (a name may be plural: "Contacts was 326" read wrong)
    else:
        head = f"{name} {movement(float(dp), unit, vtxt, currency, digits)}"
    target = _tile_get(tile, "target")
    if not is_missing(target):
        t_txt = format_value(target, unit, currency, digits)
        v, t = float(value), float(target)
        if abs(v - t) < 1e-12:
            head += f", exactly on the {t_txt} target"
        else:
            head += f", {'above' if v > t else 'below'} the {t_txt} target"
    sentence = head
    if driver:
        sentence += ": " + driver.rstrip(".")
    return sentence + "."


def rank_tiles(tiles: Sequence[Tile | Mapping[str, Any]]) -> list[Tile | Mapping[str, Any]]:
    """Tiles ordered for commentary: off-target first (red, amber), then by the size of the monthly move."""
    order = {"red": 0, "amber": 1, "green": 2, "none": 3}

    def size(t: Any) -> float:
        d, v = _tile_get(t, "delta_prev"), _tile_get(t, "value")
        if is_missing(d):
            return 0.0
        if _tile_get(t, "unit") == "share":
            return abs(float(d)) * 10  # a point of share weighs like a 10% relative move
        return abs(float(d)) / abs(float(v)) if not is_missing(v) and float(v) else 0.0

    return sorted(tiles, key=lambda t: (order.get(_tile_get(t, "status", "none"), 3), -size(t)))


def commentary(
    tiles: Sequence[Tile | Mapping[str, Any]],
    drivers: Mapping[str, str] | None = None,
    currency: str = "$",
    limit: int = 6,
) -> list[str]:
    """Plain-language sentences for the tiles that matter most (off target, or moved the most)."""
    lines = []
    for t in rank_tiles(tiles)[:limit]:
        key = _tile_get(t, "key") or _tile_get(t, "name")
        s = tile_sentence(t, currency, (drivers or {}).get(key))
        if s:
            lines.append(s)
    return lines


def commentary_html(lines: Iterable[str]) -> str:
    """Commentary sentences as an escaped bullet list."""
    items = "".join(f"<li>{html.escape(str(s))}</li>" for s in lines)
    if not items:
        return ""
    return f'<div class="rl-commentary" style="{COMMENTARY_STYLE}"><ul style="margin:0;padding-left:18px">{items}</ul></div>'


def share_phrase(share: float) -> str:
    """0.22 -> '22% above', -0.05 -> '5% below' (for volume vs forecast or vs last month)."""
    return f"{abs(share) * 100:.0f}% {'above' if share >= 0 else 'below'}"


# --- tables ----------------------------------------------------------------------------------------

Formatter = str | Callable[[Any], str]


def _fmt_cell(value: Any, fmt: Formatter | None, currency: str, digits: int | None = None) -> tuple[str, bool]:
    """(text, numeric?) for one cell; `digits` overrides the unit's decimals (see format_value)."""
    if callable(fmt):
        return str(fmt(value)), True
    if is_missing(value):
        return "–", fmt is not None
    if fmt is not None:
        return format_value(value, fmt, currency, digits), True
    if isinstance(value, (bool, np.bool_)):
        return ("yes" if value else "no"), False
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}", True
    if isinstance(value, (float, np.floating)):
        return (f"{float(value):,.2f}" if abs(float(value)) < 100 else f"{float(value):,.0f}"), True
    if isinstance(value, pd.Timestamp):
        return (value.strftime("%Y-%m-%d") if value == value.normalize() else value.strftime("%Y-%m-%d %H:%M")), False
    if isinstance(value, pd.Period):
        return str(value), False
    return str(value), False


NOWRAP_CHARS = 24  # cells up to this many characters (names, figures) never wrap inside a table


def money_column_digits(values: Iterable[Any]) -> int | None:
    """Decimals for every amount of one table column of money: 0 (whole currency units) when any amount is 100 or
    more, else None (format_value's rule: cents under 100, so all of them get cents). One column then reads with
    one precision ('$862', '$98'), never '$862' over '$98.10'; tiles and sentences keep format_value's rule."""
    amounts = [abs(float(v)) for v in values if not is_missing(v)]
    return 0 if any(a >= 100 for a in amounts) else None


def table_html(
    df: pd.DataFrame,
    *,
    formats: Mapping[str, Formatter] | None = None,
    labels: Mapping[str, str] | None = None,
    status: Mapping[str, str] | None = None,
    caption: str | None = None,
    max_rows: int | None = 60,
    index: bool = False,
    currency: str = "$",
    css_class: str = "",
) -> str:
    """A DataFrame as the house table: every header and cell escaped, numbers right-aligned.

    ``formats`` maps a column to a unit (see ``format_value``) or a callable; ``status`` maps a column
    to another column holding 'green'/'amber'/'red' to colour that cell; ``max_rows`` truncates with a
    note of how many rows were left out.
    """
    frame = df.reset_index() if index else df
    formats = dict(formats or {})
    labels = dict(labels or {})
    status = dict(status or {})
    hidden = set(status.values())
    cols = [c for c in frame.columns if c not in hidden]
    total = len(frame)
    shown = frame if max_rows is None or total <= max_rows else frame.iloc[:max_rows]
    out = [f'<div class="rl-table-wrap"><table class="rl-table {html.escape(css_class)}">']
    if caption:
        out.append(f'<caption style="text-align:left;font-weight:600">{html.escape(caption)}</caption>')
    numeric_cols = {
        c
        for c in cols
        if c in formats
        or pd.api.types.is_numeric_dtype(frame[c].dtype)
        and not pd.api.types.is_bool_dtype(frame[c].dtype)
    }
    out.append("<thead><tr>")
    for c in cols:
        cls = ' class="rl-num" style="text-align:right"' if c in numeric_cols else ' style="text-align:left"'
        out.append(f"<th{cls}>{html.escape(str(labels.get(c, c)))}</th>")
    out.append("</tr></thead><tbody>")
    digits = {c: money_column_digits(shown[c]) for c in cols if formats.get(c) == "currency"}
    for _, row in shown.iterrows():
        out.append("<tr>")
        for c in cols:
            text, numeric = _fmt_cell(row[c], formats.get(c), currency, digits.get(c))
            classes = []
            if numeric or c in numeric_cols:
                classes.append("rl-num")
            if c in status:
                st = row[status[c]]
                if isinstance(st, str) and st in ("green", "amber", "red"):
                    classes.append(f"rl-{st}")
            cls = f' class="{" ".join(classes)}"' if classes else ""
            st = next((k[3:] for k in classes if k in ("rl-green", "rl-amber", "rl-red")), None)
            style = "white-space:nowrap;" if len(text) <= NOWRAP_CHARS else ""  # "Louisville / 1" on one line
            # inline too, for JupyterLab (no report.css there; its tables right-align every cell): the alignment,
            # and a status's ink on its tile's light background, readable in Lab's dark theme as well (a probe
            # measured the red ink at 2.9:1 on the dark page)
            style += "text-align:right;" if "rl-num" in classes else "text-align:left;"
            if st:
                style += f"color:{STATUS_INK[st]};background-color:{TILE_STYLE[st][1]};font-weight:600"
            if style:
                cls += f' style="{style.rstrip(";")}"'
            out.append(f"<td{cls}>{html.escape(text)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    if len(shown) < total:
        out.append(f'<div class="rl-more" style="{CAPTION_STYLE}">Showing {len(shown):,} of {total:,} rows.</div>')
    out.append("</div>")
    return "".join(out)


# The page's boxes and small print as inline styles too (report.css's values), as for the tiles: JupyterLab has no
# report.css, and a warning read there as a plain paragraph (a probe). Boxes set their ink with their light
# background, so they read alike in Lab's light and dark themes; small print is dimmed, not coloured.
NOTE_STYLE = {"info": ("#e4e7ec", "#f5f7fa"), "warning": ("#f3c98b", "#fff3e0"), "missing": ("#c3c8d1", "#f0f1f4")}
CAPTION_STYLE = "font-size:.85em;opacity:.75;margin:4px 0 10px"
SUBTITLE_STYLE = "opacity:.75"
COMMENTARY_STYLE = (
    "border-left:4px solid #1f5aa6;background-color:#f5f7fa;color:#1d2433;padding:10px 16px;margin:8px 0 18px;"
    "border-radius:0 8px 8px 0"
)
MISSING_LEAD = "Not available from this data:"


def note_html(text: str, kind: str = "info") -> str:
    """A boxed note ('info', 'warning' or 'missing', the last led by "Not available from this data:"), text
    escaped, its box in inline styles too."""
    kind = kind if kind in NOTE_STYLE else "info"
    edge, bg = NOTE_STYLE[kind]
    style = (
        f"border:1px solid {edge};border-radius:8px;padding:8px 12px;margin:10px 0;background-color:{bg};"
        "color:#1d2433;font-size:.93em;max-width:95ch"
    )
    lead = f'<b style="font-weight:600">{MISSING_LEAD}</b> ' if kind == "missing" else ""
    return f'<div class="rl-note rl-{kind}" style="{style}">{lead}{html.escape(str(text))}</div>'


def caption_html(text: str) -> str:
    """A small caption line under a chart or table, text escaped."""
    return f'<div class="rl-caption" style="{CAPTION_STYLE}">{html.escape(str(text))}</div>'


def subtitle_html(*parts: Any) -> str:
    """The subtitle line under a report's title ("Name · Team · November 2026"): the non-empty parts, escaped,
    joined by " · "."""
    text = " · ".join(html.escape(str(p)) for p in parts if p is not None and str(p) != "")
    return f'<p class="rl-subtitle" style="{SUBTITLE_STYLE}">{text}</p>'


def _event_label(column: str) -> str:
    import re

    name = re.sub(r"^(event_|holiday_)", "", column)
    name = re.sub(r"_\d+$", "", name)
    if column == "holiday_closed":
        return "Closed (holiday)"
    if column == "holiday":
        return "Holiday"
    if column == "holiday_eve":
        return "Holiday eve"
    if column == "holiday_after_closed":
        return "Catch-up day"
    return name.replace("_", " ").capitalize()


def calendar_spans(
    features: pd.DataFrame, dates: Sequence[Any] | None = None
) -> list[tuple[pd.Timestamp, pd.Timestamp, str]]:
    """Contiguous runs of calendar flags (forecast.calendar_features' 0/1 columns) as (start, end, label) spans.

    Columns that differ only by a numeric suffix (import_deadline_1..5) merge into one label; `end` is
    the day after the run's last day (so a one-day event is a one-day wide band).
    """
    if features is None or not len(features):
        return []
    f = features.copy()
    if dates is not None:
        idx = pd.DatetimeIndex(pd.to_datetime(list(dates)))
    elif "date" in f.columns:
        idx = pd.DatetimeIndex(pd.to_datetime(f.pop("date")))
    else:
        idx = pd.DatetimeIndex(pd.to_datetime(f.index))
    f = f.reset_index(drop=True)
    flags: dict[str, np.ndarray] = {}
    for c in f.columns:
        if not (c.startswith("event_") or c.startswith("holiday")):
            continue
        label = _event_label(c)
        v = pd.to_numeric(f[c], errors="coerce").fillna(0).to_numpy() > 0
        flags[label] = flags.get(label, np.zeros(len(f), dtype=bool)) | v
    spans = []
    for label, v in flags.items():
        i = 0
        while i < len(v):
            if v[i]:
                j = i
                while j + 1 < len(v) and v[j + 1] and idx[j + 1] - idx[j] == pd.Timedelta(days=1):
                    j += 1
                spans.append((idx[i], idx[j] + pd.Timedelta(days=1), label))
                i = j + 1
            else:
                i += 1
    return sorted(spans, key=lambda s: (s[0], s[2]))


def attrition_tiles(trend: pd.DataFrame, month: Any, target: float | None = None) -> list[Tile]:
    """The attrition report's headline tiles for `month` from `trend` (metrics.attrition.monthly_attrition rows).

    Headcount at month end, leavers and hires in the month (counts), and 12-month attrition overall,
    voluntary and regretted (shares 0..1, `target` for the overall one), each against last month and the
    same month a year before when `trend` holds them.
    """
    m = parse_month(month)
    rows = trend.assign(month=trend["month"].astype(str)).set_index("month")
    cur = rows.loc[str(m)]

    def at(key: str, when: pd.Period) -> Any:
        return rows.at[str(when), key] if str(when) in rows.index else None

    labels = dict(prev_label=(m - 1).strftime("%b %Y"), yoy_label=(m - 12).strftime("%b %Y"))

    def tile(name: str, key: str, unit: str, **kw: Any) -> Tile:
        return make_tile(name, cur[key], unit, prev=at(key, m - 1), yoy=at(key, m - 12), **labels, **kw)

    return [
        tile("Headcount at month end", "headcount_end", "count"),
        tile("Leavers this month", "terminations", "count", higher_is_better=False),
        tile("Hires this month", "hires", "count"),
        tile("12-month attrition", "annualized_rate", "share", target=target, higher_is_better=False),
        tile("12-month voluntary attrition", "annualized_voluntary_rate", "share", higher_is_better=False),
        tile("12-month regretted attrition", "annualized_regretted_rate", "share", higher_is_better=False),
    ]
