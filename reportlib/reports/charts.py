"""Chart builders for every report: one shared plotly template, each builder returns a go.Figure.

Builders never display anything (no ``fig.show()``): notebooks hand figures to
``reportlib.reports.views.show``, whose output survives nbconvert (see ``reportlib.reports.render``).
Text that comes from data (queue, client, team, reason and agent names) is HTML-escaped
before it reaches plotly, because plotly interprets a small HTML subset in labels; an
escaped label is displayed literally and never becomes markup.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from reportlib.core.months import MONTH_RE
from reportlib.core.safety import unspoofed
from reportlib.core.words import counted

TEMPLATE_NAME = "reportlib"

# Colour-blind-safe categorical palette (Okabe–Ito, reordered so the first colours read well in print).
PALETTE = [
    "#1f5aa6",  # blue
    "#e08a00",  # orange
    "#2a9d8f",  # teal
    "#b5446e",  # raspberry
    "#6c757d",  # grey
    "#8cb369",  # green
    "#7b5ea7",  # purple
    "#c9a227",  # ochre
    "#3a86ff",
    "#d1495b",
]
RAG_COLOURS = {"green": "#2e7d32", "amber": "#e08a00", "red": "#c62828", "none": "#6c757d"}
INK = "#1d2433"
MUTED = "#5b6475"
GRID = "#e4e7ec"
TARGET_COLOUR = "#c62828"
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'

# Plotly config used wherever a figure is drawn: no logo, no cloud links, responsive width. Responsive also
# sizes a figure with no layout.height to 100% of its container's height: the HTML page's plot div has a set
# height; JupyterLab's output node has none, so views.figure_bundle turns it off there.
CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def _build_template() -> go.layout.Template:
    """The shared look: white ground, light grid, left-aligned titles, horizontal legend on top."""
    axis = dict(
        gridcolor=GRID,
        linecolor="#c3c8d1",
        zerolinecolor="#c3c8d1",
        ticks="outside",
        tickcolor="#c3c8d1",
        title=dict(font=dict(size=12, color=MUTED), standoff=8),
        automargin=True,
    )
    layout = go.Layout(
        font=dict(family=FONT, size=13, color=INK),
        colorway=PALETTE,
        paper_bgcolor="#ffffff",
        plot_bgcolor="#ffffff",
        title=dict(x=0.0, xanchor="left", xref="paper", font=dict(size=16, color=INK), pad=dict(b=8)),
        margin=dict(l=56, r=24, t=64, b=48),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0.0, title=dict(text="")),
        hoverlabel=dict(font=dict(family=FONT, size=12)),
        hovermode="closest",
        xaxis=axis,
        yaxis=axis,
        height=380,
        separators=".,",
    )
    data = go.layout.template.Data(
        bar=[go.Bar(marker=dict(line=dict(width=0)))],
        scatter=[go.Scatter(line=dict(width=2.2), marker=dict(size=6))],
        heatmap=[go.Heatmap(colorbar=dict(outlinewidth=0, thickness=12))],
    )
    return go.layout.Template(layout=layout, data=data)


pio.templates[TEMPLATE_NAME] = _build_template()


def use_theme() -> None:
    """Make the shared template the default for figures made in this process (plotly express too)."""
    if pio.templates.default != TEMPLATE_NAME:  # setting it again would validate the template again
        pio.templates.default = TEMPLATE_NAME


# --- small helpers ---------------------------------------------------------------------------------


def safe_text(value: Any) -> Any:
    """A label from data as plotly shows it literally: HTML-escaped, and "%{" written "%&#123;" so that a name put
    into a hover template is not read as a placeholder (a probe's team "%{x} %{y}" showed the hovered point's
    values in its place); plotly turns the entity back into "{". A bidirectional control or line separator is
    shown as a mark (`safety.unspoofed`): plotly writes its JSON in ASCII ("\\u202e"), which the page-wide pass
    does not see and the browser turns back into the character. Non-strings pass through."""
    if isinstance(value, str):
        return html.escape(unspoofed(value), quote=False).replace("%{", "%&#123;")
    return value


def column_label(column: str) -> str:
    """A column's name as a reader's label when a chart is given none: 'penalty_at_risk' -> 'Penalty at risk' (a
    hover label read "penalty_at_risk: $1,234")."""
    text = str(column).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def safe_values(values: Iterable[Any]) -> list[Any]:
    """`safe_text` over a sequence (categories, trace names, hover text)."""
    return [safe_text(v) for v in values]


def _col(df: pd.DataFrame, name: str) -> list[Any]:
    """A column as a list, strings escaped, missing values as None (gaps in lines)."""
    s = df[name]
    if pd.api.types.is_datetime64_any_dtype(s):
        return [None if pd.isna(v) else v for v in s]
    out: list[Any] = []
    for v in s.tolist():
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
            out.append(None)
        else:
            out.append(safe_text(v))
    return out


def _x(df: pd.DataFrame, name: str) -> list[Any]:
    """x values; YYYY-MM month labels become first-of-month dates so every chart shares one month axis."""
    s = df[name]
    if s.dtype == object and len(s) and s.dropna().astype(str).str.fullmatch(MONTH_RE.pattern).all():
        return [None if pd.isna(v) else pd.Timestamp(str(v) + "-01") for v in s]
    return _col(df, name)


def _is_month_axis(df: pd.DataFrame, name: str) -> bool:
    s = df[name]
    return bool(s.dtype == object and len(s) and s.dropna().astype(str).str.fullmatch(MONTH_RE.pattern).all())


def from_first_value(df: pd.DataFrame, x: str, cols: Sequence[str]) -> pd.DataFrame:
    """The rows of a time series from the first `x` at which any of `cols` has a value: a short history
    is drawn over the periods it has, not on an axis of empty months. Applies only when `x` holds
    dates or YYYY-MM months (categories keep every row); gaps after the first value stay, so a line
    still breaks over a missing month."""
    s = df[x]
    if not len(df) or not (pd.api.types.is_datetime64_any_dtype(s) or _is_month_axis(df, x)):
        return df
    present = [c for c in cols if c in df]
    if not present:
        return df
    order = df.sort_values(x)
    has = order[present].notna().any(axis=1).to_numpy()
    if not has.any():
        return df
    return order.iloc[int(has.argmax()) :]


def _month_axis(fig: go.Figure, axis: str = "x") -> None:
    fig.update_layout({f"{axis}axis": dict(tickformat="%b %Y", dtick="M1", ticklabelmode="instant")})


def _num(df: pd.DataFrame, name: str) -> list[float | None]:
    """A numeric column as floats with None for missing (so plotly draws gaps, not zeros)."""
    s = pd.to_numeric(df[name], errors="coerce").astype("float64")
    return [None if np.isnan(v) else float(v) for v in s.to_numpy()]


# (tick format, hover format) per unit. The tick format is the fallback: a value axis takes its labels'
# decimals from the step between its ticks (tick_format_stops), so a narrow range never reads '$14 $14 $13'.
_UNIT_FORMATS = {
    "share": (".0%", ".1%"),  # 0..1
    "percent": (".0%", ".1%"),
    "seconds": (",.0f", ",.0f"),
    "count": (",.0f", ",.0f"),
    "currency": (",.0f", ",.2f"),  # the symbol is a prefix (the report's currency: _prefix), not d3's '$'
    "fte": (",.0f", ",.1f"),
    "number": (",.0f", ",.2f"),
}

_UNIT_SUFFIX = {"seconds": " s", "fte": " FTE"}


def _prefix(unit: str | None, currency: str) -> str:
    """The text before a value in `unit`: the report's currency symbol (parameters reports.currency, shown
    literally) for money, nothing otherwise. d3's '$' format is not used: it prints '$' whatever the currency."""
    return str(safe_text(str(currency))) if unit == "currency" else ""


# Shares are plotted as 0..1 and read in percent: a tick step of 0.01 is one decimal place fewer than it looks.
_TICK_SCALE = {"share": 100.0, "percent": 100.0}
TICK_MAX_DECIMALS = 4  # the finest labels any axis gets (a step of 0.0001 as read); finer steps reuse it


def tick_format(unit: str | None, decimals: int) -> str:
    """The d3 tick format of `unit` with `decimals` decimals as read: percent for shares ('.1%'), plain grouped
    numbers otherwise (',.2f'; money gets its currency symbol from tickprefix, seconds and FTE their suffix from
    ticksuffix)."""
    if unit in _TICK_SCALE:
        return f".{decimals}%"
    return f",.{decimals}f"


def tick_format_stops(unit: str | None) -> list[dict[str, Any]]:
    """Plotly tickformatstops for a value axis in `unit`: labels with as many decimals as the step between ticks
    (dtick, in the plotted unit: a share's 0..1) needs, and no more, so two adjacent ticks never read alike and a
    wide axis reads '220 FTE', not '220.0 FTE'.

    Plotly's own steps are 1, 2 or 5 x 10^n, so a step of 10^-d .. 5 x 10^-d needs d decimals as read; each stop's
    bounds sit at 0.9 x 10^-d, between two possible steps, so no step falls on a bound (where floating-point error
    in 10^-d could pick either stop). A dtick set by hand (tidy_axis: 1 on small counts) is read the same way."""
    scale = _TICK_SCALE.get(unit or "", 1.0)
    stops = []
    for d in range(TICK_MAX_DECIMALS + 1):
        lower = None if d == TICK_MAX_DECIMALS else 0.9 * 10.0**-d / scale
        upper = None if d == 0 else 0.9 * 10.0 ** (1 - d) / scale
        stops.append(dict(dtickrange=[lower, upper], value=tick_format(unit, d)))
    return stops


def _hover_format(unit: str | None, currency: str = "$", axis: str = "y") -> str:
    """A hover template's value in `unit` ('€%{y:,.2f}', '%{y:,.0f} s'), the value read from `axis`."""
    fmt = _UNIT_FORMATS.get(unit or "number", _UNIT_FORMATS["number"])[1]
    return _prefix(unit, currency) + "%{" + axis + ":" + fmt + "}" + _UNIT_SUFFIX.get(unit or "", "")


def _tick_labels(unit: str | None, currency: str = "$") -> dict[str, Any]:
    """An axis's (or a colour bar's) tick labels in `unit`: the unit's tick format, with decimals from the tick
    step (tick_format_stops), its prefix (money's currency symbol) and suffix (' s', ' FTE')."""
    unit = unit or "number"
    return dict(
        tickformat=_UNIT_FORMATS.get(unit, _UNIT_FORMATS["number"])[0],
        tickformatstops=tick_format_stops(unit),
        tickprefix=_prefix(unit, currency),
        ticksuffix=_UNIT_SUFFIX.get(unit, ""),
    )


def _apply_unit(fig: go.Figure, unit: str | None, axis: str = "y", currency: str = "$") -> None:
    """Label a value axis in `unit` (_tick_labels: money in `currency`); nothing for no unit."""
    if unit is None:
        return
    fig.update_layout({f"{axis}axis": _tick_labels(unit, currency)})


def _base(
    title: str | None, height: int | None = None, x_title: str | None = None, y_title: str | None = None
) -> go.Figure:
    # plotly validates a template it is given by name on every figure (~2.4 ms, half a small chart's making) but
    # takes the default template as validated (0.2 ms): the same figure, as JSON, either way
    fig = go.Figure() if pio.templates.default == TEMPLATE_NAME else go.Figure(layout=dict(template=TEMPLATE_NAME))
    if title:
        fig.update_layout(title=dict(text=safe_text(title)))
    else:
        fig.update_layout(margin=dict(t=36))
    if height:
        fig.update_layout(height=height)
    if x_title is not None:
        fig.update_xaxes(title_text=safe_text(x_title))
    if y_title is not None:
        fig.update_yaxes(title_text=safe_text(y_title))
    return fig


def add_target(fig: go.Figure, target: float | None, label: str = "Target", axis: str = "y") -> go.Figure:
    """Draw a dashed target line (horizontal on y, vertical on x) with its label; returns the figure."""
    if target is None or (isinstance(target, float) and np.isnan(target)):
        return fig
    # The shape and label plotly's add_hline / add_vline make on a figure of one plot area (every chart here),
    # written out: those helpers look for subplots first, a third of a line chart's making.
    line = dict(type="line", line=dict(color=TARGET_COLOUR, dash="dash", width=1.5))
    text = dict(text=safe_text(label), showarrow=False, font=dict(color=TARGET_COLOUR, size=11))
    if axis == "y":
        fig.add_shape(**line, xref="x domain", x0=0, x1=1, yref="y", y0=target, y1=target)
        fig.add_annotation(**text, xref="x domain", x=0, xanchor="left", yref="y", y=target, yanchor="bottom")
    else:
        fig.add_shape(**line, xref="x", x0=target, x1=target, yref="y domain", y0=0, y1=1)
        fig.add_annotation(**text, xref="x", x=target, xanchor="left", yref="y domain", y=1, yanchor="top")
    return fig


def mark_partial(fig: go.Figure, month: Any, label: str) -> go.Figure:
    """Shade month `month` (a Period or YYYY-MM) on a chart over months and label it (`label`, e.g. "partial:
    12 of 21 open days"), so a month the data covers in part is not read beside whole ones as one of them.
    Only a chart whose x values (dates, as this module plots months) hold the month's first day is marked;
    others (a chart by client or queue) come back as they were."""
    start = pd.Period(str(month), freq="M").start_time
    if not any(
        trace.x is not None and any(isinstance(v, pd.Timestamp) and v == start for v in trace.x) for trace in fig.data
    ):
        return fig
    x0, x1 = partial_span(fig, start)
    # plotly widens an autoranged axis to hold a shape and an annotation's text: the shading stops where the
    # data's own extent does (partial_span), and a label at the first or last month reads inward from it
    first, last = _x_extent(fig)
    anchor = "right" if start == last and start != first else ("left" if start == first and start != last else "center")
    fig.add_shape(
        type="rect", xref="x", x0=x0, x1=x1, yref="y domain", y0=0, y1=1,
        fillcolor="#8a8f98", opacity=0.14, line_width=0, layer="below",
    )  # fmt: skip
    fig.add_annotation(
        text=safe_text(label), showarrow=False, xref="x", x=start, xanchor=anchor,
        yref="y domain", y=1, yanchor="bottom", font=dict(size=10, color="#5b616b"),
    )  # fmt: skip
    return fig


def _x_extent(fig: go.Figure) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The first and last date among the figure's x values (None, None without dates)."""
    dates = [v for t in fig.data if t.x is not None for v in t.x if isinstance(v, pd.Timestamp)]
    return (min(dates), max(dates)) if dates else (None, None)


def partial_span(fig: go.Figure, start: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The x span (dates) mark_partial shades for the month starting `start`: half a month either side of its first
    day (where its bar or point is centred), cut at the half of a bar that the data's axis holds anyway.

    Without bars (a line chart) the span stops at the first and last point, so the axis keeps the range the data
    give it: a shade past the last point would add an empty half month. With bars it stops at the outer edge of the
    outermost bar: the bar (x spacing times 1 - bargap wide, plotly's bar width) stays whole and shaded."""
    half = pd.Timedelta(days=14)  # half the shortest month: the shade never reaches a neighbouring month's point
    lo, hi = start - half, start + half
    first, last = _x_extent(fig)
    if first is None or last is None:
        return lo, hi
    bar_dates = sorted({v for t in fig.data if t.type == "bar" for v in (t.x or ()) if isinstance(v, pd.Timestamp)})
    reach = pd.Timedelta(0)
    if bar_dates:
        gaps = [b - a for a, b in zip(bar_dates, bar_dates[1:])]
        spacing = min(gaps) if gaps else 2 * half
        bargap = fig.layout.bargap if fig.layout.bargap is not None else 0.2  # plotly's default gap
        reach = spacing * (1 - bargap) / 2
    return max(lo, first - reach), min(hi, last + reach)


# Legend layout: the legend sits between the title and the plot; when its entries need more than one
# row, the top margin grows so the rows never cover the title. Widths are estimated for a plot area of
# LEGEND_WIDTH_PX (narrower than a report page or a JupyterLab output area, so the estimate errs on
# more room, never less).
LEGEND_WIDTH_PX = 640
LEGEND_ROW_PX = 22
LEGEND_CHAR_PX = 7.2
LEGEND_ITEM_PX = 46  # symbol and padding per entry


def legend_rows(names: Sequence[str], width_px: float = LEGEND_WIDTH_PX) -> int:
    """How many rows a horizontal legend with these entries takes at `width_px` (an estimate, >= 1)."""
    rows, used = 1, 0.0
    for n in names:
        w = LEGEND_ITEM_PX + LEGEND_CHAR_PX * len(html.unescape(str(n)))
        if used and used + w > width_px:
            rows, used = rows + 1, 0.0
        used += w
    return rows


def fit_legend(fig: go.Figure) -> go.Figure:
    """Room above the plot for every legend row: the title pinned to the top, the margin grown per extra row."""
    if fig.layout.showlegend is False:
        return fig
    names = [t.name for t in fig.data if t.name is not None and t.showlegend is not False]
    if len(names) < 2:
        return fig
    rows = legend_rows(names)
    if rows > 1:
        top = (fig.layout.margin.t if fig.layout.margin.t is not None else 64) + LEGEND_ROW_PX * (rows - 1)
        fig.update_layout(margin=dict(t=top), title=dict(yref="container", y=1.0, yanchor="top", pad=dict(t=12)))
    return fig


def _max_height(fig: go.Figure, stacked: bool) -> float | None:
    """The highest bar or point of the figure (stack totals when stacked); None without numbers."""
    totals: dict[Any, float] = {}
    top = None
    for t in fig.data:
        ys = [v for v in (t.y or ())]
        xs = list(t.x or range(len(ys)))
        for xv, yv in zip(xs, ys):
            if yv is None:
                continue
            if stacked:
                totals[xv] = totals.get(xv, 0.0) + max(float(yv), 0.0)
            else:
                top = float(yv) if top is None else max(top, float(yv))
    if stacked and totals:
        return max(totals.values())
    return top


def tidy_axis(
    fig: go.Figure, unit: str | None, stacked: bool = False, y_range: tuple[float, float] | None = None
) -> go.Figure:
    """Readable value axes on small selections: whole-number ticks for counts up to 10 (never '0 0 1 1'),
    shares and counts from zero (never a negative share); `y_range` fixes the range (e.g. 0..1)."""
    if y_range is not None:
        fig.update_yaxes(range=list(y_range), autorange=False)
    if unit == "count":
        top = _max_height(fig, stacked)
        fig.update_yaxes(rangemode="tozero")
        if top is not None and top <= 10:
            fig.update_yaxes(dtick=1, tick0=0, tickformat=",d")
    elif unit in ("share", "percent") and y_range is None:
        vals = [float(v) for t in fig.data for v in (t.y or ()) if v is not None]
        if vals and min(vals) >= 0:
            fig.update_yaxes(rangemode="tozero")
            if max(vals) == 0:
                fig.update_yaxes(range=[0, 1], autorange=False)
    return fig


def _groups(df: pd.DataFrame, color: str | None) -> list[tuple[Any, pd.DataFrame]]:
    if color is None:
        return [(None, df)]
    return [(key, part) for key, part in df.groupby(color, sort=True, dropna=False, observed=True)]


# --- builders --------------------------------------------------------------------------------------


def line_chart(
    df: pd.DataFrame,
    x: str,
    y: str | Sequence[str],
    color: str | None = None,
    *,
    title: str | None = None,
    unit: str | None = None,
    currency: str = "$",
    target: float | None = None,
    target_label: str = "Target",
    x_title: str | None = None,
    y_title: str | None = None,
    names: Mapping[str, str] | None = None,
    markers: bool = True,
    height: int | None = None,
    y_range: tuple[float, float] | None = None,
    trim_by: Sequence[str] | None = None,
) -> go.Figure:
    """Lines of y over x (one per `color` group, or one per column when y is a list).

    A missing y (None/NaN) breaks the line: pass rows for empty periods to keep lines from joining
    across them (see fill_periods). `y_range` fixes the value axis (e.g. (0, 1) for a service level).
    A time axis starts at the first period with a value in `trim_by` (default: any y column), see
    from_first_value; e.g. trim_by=["labor_cost"] starts a cost-vs-budget chart where costs begin. Money
    (unit="currency") is shown with the symbol `currency` (the report's: ReportContext.currency).
    """
    fig = _base(title, height, x_title, y_title)
    ys = [y] if isinstance(y, str) else list(y)
    df = from_first_value(df, x, list(trim_by) if trim_by is not None else ys)
    mode = "lines+markers" if markers else "lines"
    for key, part in _groups(df.sort_values(x), color):
        for col in ys:
            if key is not None:
                name = safe_text(str(key))
            else:
                name = safe_text((names or {}).get(col, column_label(col)))
            fig.add_trace(
                go.Scatter(
                    x=_x(part, x),
                    y=_num(part, col),
                    mode=mode,
                    name=name,
                    hovertemplate=f"%{{x}}<br>{name}: {_hover_format(unit, currency)}<extra></extra>",
                    connectgaps=False,
                )
            )
    _apply_unit(fig, unit, currency=currency)
    tidy_axis(fig, unit, y_range=y_range)
    add_target(fig, target, target_label)
    if _is_month_axis(df, x):
        _month_axis(fig)
    if len(fig.data) == 1:
        fig.update_layout(showlegend=False)
    return fit_legend(fig)


def fill_periods(df: pd.DataFrame, x: str, freq: str, color: str | None = None) -> pd.DataFrame:
    """Rows for every `freq` period between the first and last x (per `color` group), missing values
    where there was no data: a line chart then breaks over nights and weekends instead of joining them."""
    if not len(df):
        return df
    idx = pd.date_range(pd.Timestamp(df[x].min()), pd.Timestamp(df[x].max()), freq=freq)
    parts = []
    for key, part in _groups(df, color):
        full = part.set_index(x).reindex(idx)
        full.index.name = x
        if color is not None:
            full[color] = key
        parts.append(full.reset_index())
    return pd.concat(parts, ignore_index=True)


def bar_chart(
    df: pd.DataFrame,
    x: str,
    y: str | Sequence[str],
    color: str | None = None,
    *,
    title: str | None = None,
    unit: str | None = None,
    currency: str = "$",
    horizontal: bool = False,
    barmode: str = "group",
    target: float | None = None,
    target_label: str = "Target",
    x_title: str | None = None,
    y_title: str | None = None,
    names: Mapping[str, str] | None = None,
    colours: Sequence[str] | None = None,
    text: bool = False,
    height: int | None = None,
    sort: bool = False,
) -> go.Figure:
    """Bars of y by x (grouped or stacked by `color`, or one series per column when y is a list).

    With ``horizontal=True`` the categories run down the y axis (long labels such as reasons).
    ``colours`` gives one colour per bar (e.g. RAG status) for a single series. A time axis starts at
    the first period with a value (from_first_value). Money (unit="currency") is shown with the symbol `currency`.
    """
    fig = _base(title, height, x_title, y_title)
    ys = [y] if isinstance(y, str) else list(y)
    if not horizontal and colours is None:  # one colour per given row: keep every row
        df = from_first_value(df, x, ys)
    data = df.sort_values(ys[0], ascending=horizontal) if sort else df
    for key, part in _groups(data, color):
        for col in ys:
            name = safe_text(str(key)) if key is not None else safe_text((names or {}).get(col, column_label(col)))
            cats, vals = (_col(part, x) if horizontal else _x(part, x)), _num(part, col)
            fmt = _hover_format(unit, currency)
            kw: dict[str, Any] = dict(name=name)
            if colours is not None and color is None and len(ys) == 1:
                kw["marker"] = dict(color=list(colours))
            if text:
                kw["texttemplate"] = fmt.replace("%{y", "%{x" if horizontal else "%{y")
                kw["textposition"] = "outside"
                kw["cliponaxis"] = False
            if horizontal:
                fig.add_trace(
                    go.Bar(
                        x=vals,
                        y=cats,
                        orientation="h",
                        hovertemplate=f"%{{y}}<br>{name}: {fmt.replace('%{y', '%{x')}<extra></extra>",
                        **kw,
                    )
                )
            else:
                fig.add_trace(go.Bar(x=cats, y=vals, hovertemplate=f"%{{x}}<br>{name}: {fmt}<extra></extra>", **kw))
    fig.update_layout(barmode=barmode)
    if not horizontal:
        tidy_axis(fig, unit, stacked=barmode in ("stack", "relative"))
    if horizontal:
        _apply_unit(fig, unit, "x", currency)
        fig.update_yaxes(type="category", automargin=True)
        n = max((len(t.y) for t in fig.data if t.y is not None), default=0)
        if height is None:
            fig.update_layout(height=max(260, min(900, 80 + 26 * n)))
        add_target(fig, target, target_label, axis="x")
    else:
        _apply_unit(fig, unit, currency=currency)
        if _is_month_axis(df, x):
            _month_axis(fig)
        elif df[x].dtype == object:
            fig.update_xaxes(type="category")
        add_target(fig, target, target_label)
    if len(fig.data) == 1:
        fig.update_layout(showlegend=False)
    return fit_legend(fig)


def heatmap(
    matrix: pd.DataFrame,
    *,
    title: str | None = None,
    unit: str | None = "share",
    currency: str = "$",
    colorscale: str | list | None = None,
    zmin: float | None = None,
    zmax: float | None = None,
    zmid: float | None = None,
    x_title: str | None = None,
    y_title: str | None = None,
    reverse_scale: bool = False,
    height: int | None = None,
) -> go.Figure:
    """A heatmap of a pivoted frame (index down the y axis, columns across); missing cells stay blank.
    YYYY-MM (or monthly Period) columns are labelled like every month axis here ("Nov 2025")."""
    fig = _base(title, height, x_title, y_title)
    z = matrix.to_numpy(dtype="float64", na_value=np.nan)
    zl = [[None if np.isnan(v) else float(v) for v in row] for row in z]
    value = _hover_format(unit, currency, axis="z")
    scale = colorscale or [[0.0, "#c62828"], [0.5, "#f6d55c"], [1.0, "#2e7d32"]]
    fig.add_trace(
        go.Heatmap(
            z=zl,
            x=safe_values(_column_labels(matrix.columns)),
            y=safe_values(str(i) for i in matrix.index),
            colorscale=scale,
            zmin=zmin,
            zmax=zmax,
            zmid=zmid,
            reversescale=reverse_scale,
            hoverongaps=False,
            colorbar=_tick_labels(unit, currency),
            hovertemplate=f"%{{y}} %{{x}}: {value}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", type="category", showgrid=False)
    fig.update_xaxes(type="category", showgrid=False)
    return fig


def _column_labels(columns: pd.Index) -> list[str]:
    """Heatmap column labels: months (YYYY-MM text or monthly Periods) as "Nov 2025", as _month_axis ticks them;
    anything else as text. Kept as category labels, so the columns stay in the matrix's order."""
    texts = [str(c) for c in columns]
    if texts and all(isinstance(c, pd.Period) and c.freqstr.startswith("M") for c in columns):
        return [c.strftime("%b %Y") for c in columns]
    if texts and pd.Series(texts).str.fullmatch(MONTH_RE.pattern).all():
        return [pd.Period(t, freq="M").strftime("%b %Y") for t in texts]
    return texts


def forecast_chart(
    history: pd.DataFrame | None,
    forecast: pd.DataFrame,
    *,
    x: str = "date",
    actual: str = "actual",
    point: str = "forecast",
    lower: str = "lower",
    upper: str = "upper",
    events: Sequence[tuple[Any, Any, str]] | None = None,
    title: str | None = None,
    unit: str | None = "count",
    currency: str = "$",
    interval_label: str = "80% interval",
    height: int | None = None,
) -> go.Figure:
    """Actuals, then the forecast with its prediction band; ``events`` are (start, end, label) spans shaded."""
    fig = _base(title, height)
    closed = closed_weekdays(history, forecast, x=x, actual=actual, upper=upper)
    if closed:  # the days are left out of the axis and of the lines (a point inside a break cut the line there)
        fig.update_xaxes(rangebreaks=weekday_breaks(closed))
        forecast = forecast[~pd.to_datetime(forecast[x]).dt.weekday.isin(closed)]
        if history is not None:
            history = history[~pd.to_datetime(history[x]).dt.weekday.isin(closed)]
    f = forecast.sort_values(x)
    xs = _col(f, x)
    fig.add_trace(
        go.Scatter(
            x=xs + xs[::-1],
            y=_num(f, upper) + _num(f, lower)[::-1],
            fill="toself",
            fillcolor="rgba(31,90,166,0.15)",
            line=dict(width=0),
            hoverinfo="skip",
            name=safe_text(interval_label),
        )
    )
    if history is not None and len(history):
        h = history.sort_values(x)
        fig.add_trace(
            go.Scatter(
                x=_col(h, x),
                y=_num(h, actual),
                mode="lines",
                name="Actual",
                line=dict(color=INK, width=1.6),
                hovertemplate=f"%{{x}}<br>Actual: {_hover_format(unit, currency)}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=_num(f, point),
            mode="lines",
            name="Forecast",
            line=dict(color=PALETTE[0], width=2.2),
            hovertemplate=f"%{{x}}<br>Forecast: {_hover_format(unit, currency)}<extra></extra>",
        )
    )
    seen: set[str] = set()
    labelled = []
    for start, end, label in events or []:
        fig.add_vrect(x0=start, x1=end, fillcolor="rgba(224,138,0,0.12)", line_width=0)
        if label not in seen:  # label each kind of event once, so repeated events do not pile up text
            seen.add(label)
            labelled.append((pd.Timestamp(start), str(label)))
    all_x = [pd.Timestamp(v) for v in xs] + (
        [pd.Timestamp(v) for v in _col(history, x)] if history is not None and len(history) else []
    )
    if labelled and all_x:
        rows = event_label_rows(labelled, min(all_x), max(all_x), hidden=closed)
        for (start, label), row in zip(labelled, rows):
            fig.add_annotation(
                x=start,
                y=1,
                yref="paper",
                yanchor="top",
                xanchor="left",
                showarrow=False,
                yshift=-EVENT_LABEL_ROW_PX * row,
                text=safe_text(label),
                font=dict(size=10, color=MUTED),
                bgcolor="rgba(255,255,255,0.7)",
            )
    _apply_unit(fig, unit, currency=currency)
    return fig


def closed_weekdays(
    history: pd.DataFrame | None,
    forecast: pd.DataFrame,
    *,
    x: str = "date",
    actual: str = "actual",
    upper: str = "upper",
) -> list[int]:
    """The weekdays (0 = Monday) on which every day shown is empty: no actual contact and a forecast whose
    interval is 0 (the operation is closed that weekday: forecast_select reads it from the data). A
    weekday-only desk's chart dropped to 0 every weekend; such days are left out of the axis instead. None (an
    empty list) when every weekday would be (a queue forecast 0 throughout keeps its whole axis)."""
    parts = [forecast[[x, upper]].rename(columns={upper: "v"})]
    if history is not None and len(history):
        parts.append(history[[x, actual]].rename(columns={actual: "v"}))
    days = pd.concat(parts, ignore_index=True)
    weekday = pd.to_datetime(days[x]).dt.weekday
    empty = pd.to_numeric(days["v"], errors="coerce").fillna(0).eq(0).groupby(weekday).all()
    closed = sorted(int(d) for d, e in empty.items() if e)
    return closed if len(closed) < weekday.nunique() else []


def weekday_breaks(weekdays: Sequence[int]) -> list[dict[str, Any]]:
    """Plotly range breaks hiding `weekdays` (0 = Monday): one break per run of consecutive days, Sunday to
    Monday included (plotly counts 0 = Sunday; bounds [6, 1] hide Saturday 00:00 to Monday 00:00)."""
    days = sorted(set(weekdays))
    runs: list[list[int]] = []
    for d in days:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][-1] == 6:  # Sunday then Monday: one run over the week's end
        runs[0] = runs.pop() + runs[0]
    return [dict(pattern="day of week", bounds=[(r[0] + 1) % 7, (r[-1] + 2) % 7]) for r in runs]  # Monday 0 -> 1


EVENT_LABEL_ROW_PX = 13  # height of one row of event labels (10 px text and spacing)


# The narrowest plot area a chart is drawn in: the e-mail's static image (STATIC_CHART_PX wide) less the template's
# left and right margins (56 + 24 px). The PDF's is wider (A4: 703 px less the margins) and the page's wider still,
# so labels laid out for this width overlap in none of them (a probe: at 640 px they ran into each other in the PDF
# and the e-mail). A layout figure, not fitted to data.
STATIC_CHART_PX = (600, 360)  # the e-mail's chart images, CSS pixels (delivery.mail draws them at 2x)
NARROWEST_PLOT_PX = STATIC_CHART_PX[0] - 56 - 24


def event_label_rows(
    labels: Sequence[tuple[Any, str]],
    x_min: Any,
    x_max: Any,
    plot_px: float = NARROWEST_PLOT_PX,
    char_px: float = 6.0,
    hidden: Sequence[int] = (),
) -> list[int]:
    """Row (0 = top) for each (start, text) event label so that no two labels in a row overlap.

    A label spans from its start date for len(text) x `char_px` pixels of a `plot_px` wide plot of the dates
    x_min..x_max (10 px text: about 6 px a character); each goes to the first row whose last label ends
    before it starts (greedy interval colouring, in start order). `hidden`: weekdays (0 = Monday) the axis leaves
    out (`weekday_breaks`), which give the days shown more room each.
    """
    x0 = pd.Timestamp(x_min)
    mask = "".join("1" if d in set(hidden) else "0" for d in range(7))

    def shown_s(t: Any) -> float:  # seconds from x_min along the axis, the hidden days left out
        t = pd.Timestamp(t)
        gone = int(np.busday_count(x0.date(), t.date(), weekmask=mask)) if "1" in mask and t > x0 else 0
        return (t - x0).total_seconds() - gone * 86400.0

    span = max(shown_s(x_max), 1.0)
    per_px = span / plot_px
    order = sorted(range(len(labels)), key=lambda i: pd.Timestamp(labels[i][0]))
    row_end: list[float] = []
    rows = [0] * len(labels)
    for i in order:
        start = shown_s(labels[i][0])
        end = start + (len(str(labels[i][1])) * char_px + 8) * per_px
        for r, last in enumerate(row_end):
            if last <= start:
                row_end[r] = end
                rows[i] = r
                break
        else:
            row_end.append(end)
            rows[i] = len(row_end) - 1
    return rows


def survival_chart(
    curves: Mapping[str, pd.DataFrame],
    *,
    x: str = "days",
    y: str = "survival",
    lower: str | None = "lower",
    upper: str | None = "upper",
    title: str | None = None,
    x_title: str = "Days since hire",
    y_title: str = "Share still employed",
    marks: Sequence[float] = (90, 365),
    max_days: float | None = 1095,
    height: int | None = None,
) -> go.Figure:
    """Kaplan–Meier step curves (one per group) with optional confidence bands and day markers."""
    fig = _base(title, height, x_title, y_title)
    for i, (label, df) in enumerate(curves.items()):
        colour = PALETTE[i % len(PALETTE)]
        name = safe_text(str(label))
        d = df.sort_values(x)
        if lower and upper and lower in d and upper in d:
            xs = _num(d, x)
            r, g, b = (int(colour[k : k + 2], 16) for k in (1, 3, 5))
            fig.add_trace(
                go.Scatter(
                    x=xs + xs[::-1],
                    y=_num(d, upper) + _num(d, lower)[::-1],
                    fill="toself",
                    fillcolor=f"rgba({r},{g},{b},0.12)",
                    line=dict(width=0),
                    line_shape="hv",
                    hoverinfo="skip",
                    showlegend=False,
                    legendgroup=name,
                )
            )
        fig.add_trace(
            go.Scatter(
                x=_num(d, x),
                y=_num(d, y),
                mode="lines",
                line_shape="hv",
                name=name,
                legendgroup=name,
                line=dict(color=colour),
                hovertemplate=f"{name}<br>day %{{x:.0f}}: %{{y:.1%}}<extra></extra>",
            )
        )
    for m in marks:
        fig.add_vline(x=m, line=dict(color=GRID, dash="dot", width=1))
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02])
    if max_days:
        fig.update_xaxes(range=[0, max_days])
    return fig


PARETO_HEADROOM = 1.1  # the cumulative axis runs to 110%: its line always ends at 100%, drawn clear of the top


def pareto_chart(
    counts: pd.Series, *, title: str | None = None, top: int = 12, value_title: str = "Count", height: int | None = None
) -> go.Figure:
    """Bars of counts in descending order with the cumulative share (0..1, read in percent) on a second axis.

    Past `top` categories the rest are one grey bar, "Other (n reasons)", drawn last whatever its size (the Pareto
    convention: a group of many small categories is not one category, so it is not ranked with them; its label
    and colour say it is a group). The cumulative axis is ticked every 25% from 0 to 100% on its own: plotly would
    otherwise put its ticks level with the count axis's (tickmode 'sync', so odd shares such as 19%)."""
    s = counts.dropna().sort_values(ascending=False)
    rest = len(s) - top
    if rest > 0:
        other = f"Other ({counted(rest, 'reason')})"
        s = pd.concat([s.iloc[:top], pd.Series({other: s.iloc[top:].sum()})])
    total = float(s.sum()) or 1.0
    cum = s.cumsum() / total
    labels = safe_values(str(i) for i in s.index)
    colours = [PALETTE[0]] * len(s)
    if rest > 0:
        colours[-1] = MUTED
    fig = _base(title, height)
    fig.add_trace(
        go.Bar(
            x=labels,
            y=[float(v) for v in s.values],
            name=safe_text(value_title),
            marker=dict(color=colours),
            hovertemplate="%{x}<br>%{y:,.0f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=labels,
            y=[float(v) for v in cum.values],
            name="Cumulative share",
            yaxis="y2",
            mode="lines+markers",
            line=dict(color=PALETTE[1]),
            cliponaxis=False,
            hovertemplate="%{x}<br>cumulative %{y:.0%}<extra></extra>",
        )
    )
    fig.update_layout(
        yaxis2=dict(
            overlaying="y",
            side="right",
            range=[0, PARETO_HEADROOM],
            tickmode="linear",
            tick0=0,
            dtick=0.25,
            tickformat=".0%",
            showgrid=False,
            title=dict(text="Cumulative"),
        ),
        yaxis=dict(title=dict(text=safe_text(value_title))),
    )
    fig.update_xaxes(type="category")
    return fig


def distribution_chart(
    df: pd.DataFrame,
    value: str,
    group: str | None = None,
    *,
    title: str | None = None,
    unit: str | None = None,
    currency: str = "$",
    target: float | Mapping[Any, Sequence[float]] | None = None,
    target_label: str = "Goal",
    points: bool = True,
    height: int | None = None,
) -> go.Figure:
    """Box plots of a value per group, with every observation shown (no labels, so no names leak).

    `target`: one goal for every group (a dashed line), or per group its goals (`queries.team_goals`: a short
    mark on each group's box for each goal its members have; one line when every group has the same one)."""
    fig = _base(title, height)
    for key, part in _groups(df, group):
        name = safe_text(str(key)) if key is not None else safe_text(value)
        fig.add_trace(
            go.Box(
                y=_num(part, value),
                name=name,
                boxpoints="all" if points else "outliers",
                jitter=0.4,
                pointpos=0,
                marker=dict(size=5, opacity=0.6),
                hoverinfo="y",
            )
        )
    _apply_unit(fig, unit, currency=currency)
    if isinstance(target, Mapping):
        shared = {float(v) for values in target.values() for v in values}
        if len(shared) == 1 and len(target) == len(fig.data):
            add_target(fig, shared.pop(), target_label)
        else:
            marks = [(safe_text(str(k)), float(v)) for k, values in target.items() for v in values]
            fig.add_trace(
                go.Scatter(
                    x=[m[0] for m in marks],
                    y=[m[1] for m in marks],
                    mode="markers",
                    marker=dict(
                        symbol="line-ew-open", size=44, color=TARGET_COLOUR, line=dict(color=TARGET_COLOUR, width=2)
                    ),
                    name=safe_text(target_label),
                    hovertemplate=safe_text(target_label) + ": " + _hover_format(unit, currency) + "<extra></extra>",
                )
            )
            # the legend is off: the marks' key, where the single line's label was
            fig.add_annotation(
                text="▬ " + safe_text(target_label),
                xref="paper",
                x=0,
                xanchor="left",
                yref="paper",
                y=1,
                yanchor="bottom",
                showarrow=False,
                font=dict(color=TARGET_COLOUR, size=11),
            )
    else:
        add_target(fig, target, target_label)
    fig.update_layout(showlegend=False)
    return fig


def scenario_chart(
    x: Sequence[Any],
    scenarios: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    title: str | None = None,
    unit: str | None = None,
    currency: str = "$",
    baseline: Mapping[str, Sequence[float]] | None = None,
    control: str = "dropdown",
    control_label: str = "Scenario",
    y_title: str | None = None,
    height: int | None = None,
) -> go.Figure:
    """Precomputed what-if scenarios switched with plotly's own dropdown or slider (works with no kernel).

    ``scenarios`` maps a scenario label to {series name: y values}; every scenario must have the same
    series names. ``baseline`` series (same names or others) stay visible in every scenario.
    """
    if not scenarios:
        raise ValueError("scenario_chart needs at least one scenario")
    fig = _base(title, height, None, y_title)
    xs = list(x)
    series_names = list(next(iter(scenarios.values())).keys())
    n_base = 0
    for i, (name, ys) in enumerate((baseline or {}).items()):
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[None if v is None or np.isnan(v) else float(v) for v in ys],
                name=safe_text(name),
                mode="lines",
                line=dict(color=INK if i == 0 else MUTED, dash="dot", width=2),
                hovertemplate=f"%{{x}}<br>{safe_text(name)}: {_hover_format(unit, currency)}<extra></extra>",
            )
        )
        n_base += 1
    labels = list(scenarios.keys())
    for s_i, label in enumerate(labels):
        for k, series in enumerate(series_names):
            ys = scenarios[label][series]
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=[None if v is None or np.isnan(v) else float(v) for v in ys],
                    name=safe_text(series),
                    mode="lines",
                    visible=(s_i == 0),
                    line=dict(color=PALETTE[k % len(PALETTE)]),
                    hovertemplate=f"%{{x}}<br>{safe_text(series)}: {_hover_format(unit, currency)}<extra></extra>",
                )
            )
    per = len(series_names)
    steps = []
    for s_i, label in enumerate(labels):
        vis = [True] * n_base + [False] * (per * len(labels))
        for k in range(per):
            vis[n_base + s_i * per + k] = True
        steps.append(dict(label=safe_text(label), method="update", args=[{"visible": vis}]))
    if control == "slider":
        fig.update_layout(
            sliders=[
                dict(active=0, steps=steps, pad=dict(t=48), currentvalue=dict(prefix=safe_text(control_label) + ": "))
            ]
        )
        if height is None:
            fig.update_layout(height=460)
    else:
        fig.update_layout(
            updatemenus=[
                dict(
                    buttons=steps,
                    direction="down",
                    active=0,
                    showactive=True,
                    x=1.0,
                    xanchor="right",
                    y=1.18,
                    yanchor="top",
                )
            ],
            annotations=[
                dict(
                    text=safe_text(control_label) + ":",
                    x=1.0,
                    xref="paper",
                    y=1.18,
                    yref="paper",
                    xanchor="right",
                    yanchor="top",
                    xshift=-200,
                    showarrow=False,
                    font=dict(size=12, color=MUTED),
                )
            ],
            margin=dict(t=96),
        )
    _apply_unit(fig, unit, currency=currency)
    return fig
