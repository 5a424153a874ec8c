"""The explore notebook's figures and controls: contacts for one selection, and the staffing what-if.

`selection_kpis` and `what_if_table` return data (tested without a browser); `show_selection` and
`show_what_if` display them; `contacts_explorer` and `what_if_explorer` build the ipywidgets the
notebook shows. Every figure comes from reportlib.reports.queries.contact_kpis (email rows on the contract
measure, as in every report) and reportlib.staffing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from reportlib.core.settings import MetricSettings
from reportlib.planning import staffing
from reportlib.reports import charts, queries, views

ALL = "(all)"  # the "no filter" choice of every selector

# Human column names for every table explore shows.
LABELS = {
    "channel": "Channel",
    "offered": "Offered",
    "handled": "Handled",
    "service_level": "Service level",
    "asa_s": "Speed of answer",
    "abandon_rate": "Abandon rate",
    "aht_s": "Handle time",
    "model": "Model",
    "agents": "Agents",
    "occupancy": "Occupancy",
    "fte": "FTE with shrinkage",
}
FORMATS: dict[str, Any] = {
    "offered": "count",
    "handled": "count",
    "service_level": "share",
    "asa_s": "seconds",
    "abandon_rate": "share",
    "aht_s": "seconds",
    "agents": "count",
    "occupancy": "share",
    "fte": "fte",
}
GRAINS = [("Day", "day"), ("Week", "week"), ("30 minutes", "30min")]
_FREQ = {"30min": "30min", "15min": "15min", "day": "D", "week": "W-MON"}

TEAM_NOTE = (
    "Team {team}: contacts handled by its agents. Abandoned contacts never reach an agent, so they "
    "cannot belong to a team: abandon rate is not shown and service level counts answered contacts "
    "only. Choose Team (all) for queue measures."
)


@dataclass
class Selection:
    """What explore shows for one choice of the selectors."""

    by_period: pd.DataFrame  # KPIs per period and channel (rows for empty periods, values missing)
    total: pd.DataFrame  # KPIs per channel for the whole month
    notes: list[str] = field(default_factory=list)


def selection_kpis(
    source: Any,
    params: Mapping[str, Any],
    *,
    period: str,
    channel: str = ALL,
    queue: str = ALL,
    client: str = ALL,
    team: str = ALL,
    grain: str = "day",
) -> Selection | None:
    """KPIs for a month (YYYY-MM) narrowed by channel, queue, client and team (ALL: no filter).

    With a team, only contacts its agents handled count (abandoned contacts have none): abandon rate
    is emptied and service level is over answered contacts, and the notes say so, as they say a month the data
    cover in part (queries.partial_month_note). None when the source has neither contacts nor intervals.
    """
    has_contacts = source.has("contacts")
    if not has_contacts and not source.has("intervals"):
        return None
    t = source.table("contacts") if has_contacts else source.table("intervals")
    if channel not in (ALL, None):
        t = t.filter(t.channel == channel)
    if queue not in (ALL, None):
        t = t.filter(t.queue == queue)
    if client not in (ALL, None, "") and "client_id" in t.columns:
        t = t.filter(t.client_id == client)
    notes: list[str] = []
    sl_def = None
    by_team = team not in (ALL, None) and has_contacts and source.has("agents")
    if by_team:
        a = source.table("agents")
        t = t.filter(t.agent_id.isin(a.filter(a.team == team).agent_id))
        sl_def = "answered"
        notes.append(TEAM_NOTE.format(team=team))
    p = pd.Period(period, freq="M")
    partial = queries.partial_month_note(p, *queries.source_span(source, params), params)
    if partial:  # a month the data cover in part read as a whole one (a probe: half November's totals)
        notes.append(partial)
    kw = dict(start=p.start_time, end=(p + 1).start_time, sl_definition=sl_def, by=["channel"])
    if has_contacts:
        k = queries.contact_kpis(source, params, grain=grain, contacts=t, **kw)
        total = queries.contact_kpis(source, params, grain=None, contacts=t, **kw)
    else:
        from reportlib.metrics import contacts as metrics

        ms = MetricSettings.from_params(params)
        th = dict(sl_threshold_s=ms.sl_threshold_s, sl_definition=ms.sl_definition)
        k = metrics.interval_kpis(t, grain=grain, by=["channel"], start=kw["start"], end=kw["end"], **th)  # type: ignore[arg-type]
        total = metrics.interval_kpis(t, grain=None, by=["channel"], start=kw["start"], end=kw["end"], **th)  # type: ignore[arg-type]
        k, total = queries.without_email_waits(k), queries.without_email_waits(total)
    if by_team:
        for frame in (k, total):
            frame["abandon_rate"] = float("nan")
    if len(k) and grain in _FREQ:
        k = charts.fill_periods(k, "period", _FREQ[grain], color="channel")
    return Selection(by_period=k, total=total, notes=notes)


def show_selection(source: Any, params: Mapping[str, Any], **choice: Any) -> None:
    """Display the charts and the month table for one selection (selection_kpis's arguments)."""
    sel = selection_kpis(source, params, **choice)
    if sel is None:
        views.note("This data source has neither contacts nor intervals.", "missing")
        return
    for n in sel.notes:
        views.note(n, "info")
    if not len(sel.total) or not sel.total["offered"].fillna(0).sum():
        views.paragraph("No contacts for this selection.")
        return
    k = sel.by_period
    views.show(
        charts.bar_chart(k, "period", "offered", color="channel", barmode="stack", unit="count", title="Offered")
    )
    views.show(
        charts.line_chart(
            k,
            "period",
            "service_level",
            color="channel",
            unit="share",
            y_range=(0, 1.05),
            title="Service level (email: first response within contract business hours)"
            if "email" in set(k["channel"])
            else "Service level",  # a phone selection kept the email title (a probe)
        )
    )
    cols = ["channel", "offered", "handled", "service_level", "asa_s", "abandon_rate", "aht_s"]
    views.table(
        sel.total[cols],
        formats=FORMATS,
        labels=LABELS,
        caption="Email: service level is first response within each client's contract business hours; "
        "speed of answer and abandon rate are phone and chat measures.",
    )


def what_if_table(
    calls: float = 120,
    aht_s: float = 360,
    target_sl: float = 0.8,
    answer_s: float = 30,
    patience_s: float = 180,
    shrinkage: float = 0.3,
    interval_s: float = 1800,
    concurrency: float = 1,
) -> pd.DataFrame:
    """Agents needed for one interval by Erlang C and Erlang A: agents, service level (0..1), speed of
    answer (s), occupancy (0..1) and FTE with shrinkage (share 0..1); `concurrency`: contacts an agent handles at
    once (chats), docs/definitions.md#required-agents."""
    rows = []
    for model in ("erlang_c", "erlang_a"):
        pat = patience_s if model == "erlang_a" else None
        s = staffing.staffing_summary(
            calls,
            aht_s,
            interval_s,
            target_sl,
            answer_s,
            model=model,
            patience_s=pat,
            shrinkage=shrinkage,
            concurrency=concurrency,
        )
        rows.append(
            {
                "model": "Erlang C" if model == "erlang_c" else "Erlang A",
                "agents": s["agents"],
                "service_level": s.get("service_level"),
                "asa_s": s.get("asa_s"),
                "occupancy": s.get("occupancy"),
                "fte": s.get("fte"),
            }
        )
    return pd.DataFrame(rows)


def show_what_if(**kw: Any) -> None:
    """Display what_if_table as a table with human headers."""
    views.table(what_if_table(**kw), formats=FORMATS, labels=LABELS)


def _style() -> dict:
    return {"description_width": "initial"}


def _layout(width: str = "auto") -> Any:
    import ipywidgets as widgets

    return widgets.Layout(width=width, min_width="260px", margin="2px 12px 2px 0")


def distinct(source: Any, col: str) -> list[str]:
    """Sorted distinct values of a contacts (or intervals) column, as text."""
    name = "contacts" if source.has("contacts") else ("intervals" if source.has("intervals") else None)
    if name is None:
        return []
    t = source.table(name)
    if col not in t.columns:
        return []
    return sorted(v for v in t.select(col).distinct().to_pandas()[col].dropna().astype(str))


def selector_options(ctx: Any) -> dict[str, Any]:
    """Options and starting values of the selectors: months of the data, channels, queues, clients
    (starting at (all)), teams and grains."""
    src = ctx.source
    first_ts, last_ts = ctx.data_range()
    months = (
        [str(m) for m in pd.period_range(first_ts.to_period("M"), last_ts.to_period("M"), freq="M")]
        if first_ts is not None
        else [str(ctx.month)]
    )
    clients = src.frame("clients") if src.has("clients") else pd.DataFrame(columns=["client_id", "client_name"])
    client_options = [(ALL, ALL)] + [
        (f"{r.client_name} ({r.client_id})", str(r.client_id)) for r in clients.itertuples()
    ]
    teams = sorted(src.frame("agents")["team"].dropna().astype(str).unique()) if src.has("agents") else []
    return {
        "period": (months, str(ctx.month) if str(ctx.month) in months else months[-1]),
        "channel": ([ALL] + distinct(src, "channel"), ALL),
        "queue": ([ALL] + distinct(src, "queue"), ALL),
        "client": (client_options, ctx.client_id if ctx.client_id else ALL),
        "team": ([ALL] + teams, ctx.team if ctx.team in teams else ALL),
        "grain": (GRAINS, "day"),
    }


def contacts_explorer(ctx: Any) -> Any:
    """The selectors and the output they drive (an ipywidgets VBox), filled once for the starting choice."""
    import ipywidgets as widgets

    opts = selector_options(ctx)
    names = {
        "period": "Month",
        "channel": "Channel",
        "queue": "Queue",
        "client": "Client",
        "team": "Team",
        "grain": "By",
    }
    selectors = {
        k: widgets.Dropdown(options=o, value=v, description=names[k], style=_style(), layout=_layout())
        for k, (o, v) in opts.items()
    }
    out = widgets.Output()

    def refresh(change: Any = None) -> None:
        views.fill_output(out, show_selection, ctx.source, ctx.params, **{k: w.value for k, w in selectors.items()})

    for w in selectors.values():
        w.observe(refresh, names="value")
    refresh()
    box = widgets.VBox(
        [
            widgets.HBox(list(selectors.values())[:3], layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox(list(selectors.values())[3:], layout=widgets.Layout(flex_flow="row wrap")),
            out,
        ]
    )
    box.selectors, box.output = selectors, out  # for tests and for people driving it from code
    return box


WHAT_IF_SLIDERS = {  # name: (kind, value, min, max, step, label)
    "calls": ("int", 120, 0, 1000, 10, "Calls per 30 min"),
    "aht_s": ("int", 360, 60, 1200, 10, "Handle time (s)"),
    "target_sl": ("float", 0.8, 0.5, 0.99, 0.01, "Service level target"),
    "answer_s": ("int", 30, 5, 120, 5, "Answered within (s)"),
    "patience_s": ("int", 180, 10, 900, 10, "Patience (s)"),
    "shrinkage": ("float", 0.3, 0.0, 0.6, 0.01, "Shrinkage"),
    "concurrency": ("int", 1, 1, 4, 1, "Contacts at once"),
}
SHARE_SLIDERS = ("target_sl", "shrinkage")  # shares 0..1 shown in percent (ipywidgets' d3 readout format)


def what_if_explorer() -> Any:
    """The staffing what-if sliders and their table (an ipywidgets VBox); labels never cut."""
    import ipywidgets as widgets

    sliders = {}
    for name, (kind, value, lo, hi, step, label) in WHAT_IF_SLIDERS.items():
        cls = widgets.IntSlider if kind == "int" else widgets.FloatSlider
        sliders[name] = cls(
            value=value,
            min=lo,
            max=hi,
            step=step,
            description=label,
            style=_style(),
            layout=_layout("360px"),
            continuous_update=False,
            **({"readout_format": ".0%"} if name in SHARE_SLIDERS else {}),  # 80%, as the table beside it reads
        )
    out = widgets.Output()

    def refresh(change: Any = None) -> None:
        views.fill_output(out, show_what_if, **{k: w.value for k, w in sliders.items()})

    for w in sliders.values():
        w.observe(refresh, names="value")
    refresh()
    box = widgets.VBox(
        [
            widgets.HBox(list(sliders.values())[:3], layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox(list(sliders.values())[3:], layout=widgets.Layout(flex_flow="row wrap")),
            out,
        ]
    )
    box.sliders, box.output = sliders, out
    return box
