"""What the report notebooks call to show things: figures, tables, tiles, notes, and the report context
(validated parameters, the opened data source, the run facts for the page footer).

Every display here produces output that survives nbconvert and renders offline (see render.py):
a figure is an inert JSON block plus an empty div (drawn by the page's single copy of plotly.js)
and, for JupyterLab, plotly's own mime type. Every string from data is HTML-escaped.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import html
import json
import os
import re
import uuid
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from reportlib.core.errors import MissingTableError, ReportlibError, UsageError
from reportlib.core.months import month_label, parse_month
from reportlib.core.params import DEFAULT_TIMEZONE
from reportlib.core.safety import printable, whole_word
from reportlib.core.settings import MetricSettings
from reportlib.core.words import counted, noun_for
from reportlib.data.contract import TABLES
from reportlib.data.load import fingerprint_read
from reportlib.data.source import CLIENT_TABLES, DataSource
from reportlib.data.span import data_range
from reportlib.reports import charts, narrative, queries, redaction
from reportlib.reports.queries import month_gaps

PLOTLY_MIME = "application/vnd.plotly.v1+json"
FIGURE_MIME = "application/vnd.reportlib.plotly+json"  # the script type of a figure's JSON block
FACTS_MIME = "application/vnd.reportlib.facts+json"  # the run facts output read by render.py

TABLE_LABELS = {
    "agents": "roster (agents table)",
    "contacts": "contact records (contacts table)",
    "intervals": "interval reports (intervals table)",
    "agent_activity": "agent activity (agent_activity table)",
    "qa_evaluations": "QA evaluations (qa_evaluations table)",
    "clients": "client list (clients table)",
}

# --- figures ---------------------------------------------------------------------------------------


def _json_for_script(obj: Any) -> str:
    """JSON safe inside a <script> element: <, > and / escaped so data can never close the element."""
    text = pio.to_json(obj, validate=False, remove_uids=False) if not isinstance(obj, str) else obj
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("/", "\\u002f")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def figure_html(fig: go.Figure | Mapping[str, Any], height: int | None = None) -> str:
    """A figure as an empty div and an inert JSON block; render.py's page script draws it."""
    fig_dict = fig.to_plotly_json() if isinstance(fig, go.Figure) else dict(fig)
    spec = {
        "data": fig_dict.get("data", []),
        "layout": fig_dict.get("layout", {}),
        "config": {**charts.CONFIG, **(fig_dict.get("config") or {})},
    }
    payload = _json_for_script(spec)
    fid = "rl-fig-" + uuid.uuid4().hex[:16]
    # the div's height is set in px: a responsive plot takes 100% of its container's height
    h = height or (spec["layout"].get("height") if isinstance(spec["layout"], dict) else None) or 380
    return (
        f'<div class="rl-figure"><div class="rl-plot" id="{fid}" style="height:{int(h)}px"></div>'
        f'<script type="{FIGURE_MIME}" data-target="{fid}">{payload}</script></div>'
    )


def figure_bundle(fig: go.Figure | Mapping[str, Any]) -> dict[str, Any]:
    """The display bundle: plotly's mime type for JupyterLab, our HTML for nbconvert, a text fallback."""
    fig_dict = fig.to_plotly_json() if isinstance(fig, go.Figure) else dict(fig)
    plotly_json = json.loads(pio.to_json(fig_dict, validate=False, remove_uids=False))
    # Not responsive in JupyterLab. A responsive plot without layout.height is drawn at 100% of its container's
    # height, and JupyterLab's plotly renderer draws into an output node of no set height, whose resize
    # (Plotly.Plots.resize, also on a theme switch) deletes layout.height: the next redraw makes the chart 0 px
    # high. That renderer resizes the plot with its output area itself, so the width still follows the window;
    # the HTML page keeps charts.CONFIG's responsive (figure_html: a div of set height, report.js resizes).
    plotly_json["config"] = {**charts.CONFIG, "responsive": False, **(plotly_json.get("config") or {})}
    title = ""
    try:
        title = fig_dict.get("layout", {}).get("title", {}).get("text") or ""
    except AttributeError:
        pass
    return {
        PLOTLY_MIME: plotly_json,
        "text/html": figure_html(fig_dict),
        "text/plain": f"<figure {html.unescape(str(title))!s}>",
    }


class _ReportRenderer(pio.base_renderers.MimetypeRenderer):
    """A plotly renderer whose output nbconvert keeps (plotly 6+ otherwise picks plotly_mimetype only)."""

    def to_mimebundle(self, fig_dict: dict) -> dict:  # noqa: D102
        return figure_bundle(fig_dict)


pio.renderers["reportlib"] = _ReportRenderer()


def use_report_display() -> None:
    """Route fig.show() and bare figures in a cell through the renderer nbconvert keeps, with our theme."""
    if pio.renderers.default != "reportlib":  # plotly validates what it is given (~5 ms a notebook)
        pio.renderers.default = "reportlib"
    charts.use_theme()


_SINKS: list[list[dict]] = []  # open collect() blocks: displays go here instead of to the notebook


# MathJax (JupyterLab typesets HTML outputs) leaves alone any element with one of these classes, so
# "$1.56 to $10.76" stays text instead of becoming inline math. The rendered HTML page has no MathJax.
NO_MATH_CLASS = "tex2jax_ignore mathjax_ignore"


def no_math(markup: str) -> str:
    """HTML wrapped so that JupyterLab's MathJax never reads `$...$` in it as math (currency stays text)."""
    return f'<div class="rl-out {NO_MATH_CLASS}">{markup}</div>'


def _display(bundle: Mapping[str, Any]) -> None:
    if "text/html" in bundle and PLOTLY_MIME not in bundle and FACTS_MIME not in bundle:
        bundle = {**bundle, "text/html": no_math(str(bundle["text/html"]))}
    if _SINKS:
        _SINKS[-1].append(dict(bundle))
        return
    from IPython.display import display

    display(dict(bundle), raw=True)


@contextlib.contextmanager
def collect():
    """Collect what views.* would display (a list of mime bundles) instead of displaying it."""
    sink: list[dict] = []
    _SINKS.append(sink)
    try:
        yield sink
    finally:
        _SINKS.remove(sink)


def fill_output(out: Any, fn: Any, *args: Any, **kwargs: Any) -> None:
    """Run fn and put what it shows into an ipywidgets Output by setting its outputs (no capture context).

    Setting `outputs` is a plain widget-state update, which headless runs (papermill, nbclient) handle
    reliably; `with out:` plus clear_output can leave nbclient waiting on the cell until its timeout.
    """
    with collect() as bundles:
        try:
            fn(*args, **kwargs)
        except ReportlibError as exc:
            note(str(exc), "warning")
        except Exception as exc:  # a fault of ours: said in place, never the last choice's charts under the new one
            bundles.clear()
            note(f"This view could not be drawn ({type(exc).__name__}: {exc}); please report it.", "warning")
    out.outputs = tuple({"output_type": "display_data", "data": b, "metadata": {}} for b in bundles)


def show(fig: go.Figure) -> None:
    """Display a figure in the notebook and in the rendered HTML."""
    _display(figure_bundle(fig))


def plain_text(markup: str, limit: int = 200) -> str:
    """The text of reportlib's own markup for a text-only front end: tags dropped, entities decoded ("colleague's",
    not "colleague&#x27;s"), spaces joined, cut at `limit` characters."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())[:limit]


def show_html(markup: str) -> None:
    """Display HTML built by reportlib (already escaped); never pass text from data straight in."""
    _display({"text/html": markup, "text/plain": plain_text(markup)})


def table(df: pd.DataFrame, **kwargs: Any) -> None:
    """Display a DataFrame in the house table style (see narrative.table_html for the options)."""
    show_html(narrative.table_html(df, **kwargs))


TILES_MIME = "application/vnd.reportlib.tiles+json"  # the tiles as data (read by reportlib.delivery.mail)
COMMENTARY_MIME = "application/vnd.reportlib.commentary+json"  # the sentences as data (read by reportlib.delivery.mail)


def _tile_dict(t: Any) -> dict:
    d = t.as_dict() if hasattr(t, "as_dict") else dict(t)
    clean: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, (bool, str, dict)) or v is None:
            clean[k] = v
        elif narrative.is_missing(v):
            clean[k] = None
        else:
            try:
                clean[k] = float(v)
            except (TypeError, ValueError):
                clean[k] = str(v)
    return clean


def tiles(items: Iterable[Any], currency: str = "$") -> None:
    """Display KPI tiles (HTML for the page, the tile dicts as data for the e-mail body, each with the `currency`
    its money is in)."""
    items = list(items)
    markup = narrative.tiles_html(items, currency)
    _display(
        {
            "text/html": markup,
            TILES_MIME: [{**_tile_dict(t), "currency": str(currency)} for t in items],
            "text/plain": plain_text(markup),
        }
    )


def commentary(lines: Sequence[str]) -> None:
    """Display commentary sentences as a bullet list (nothing when empty)."""
    markup = narrative.commentary_html(lines)
    if markup:
        _display(
            {
                "text/html": markup,
                COMMENTARY_MIME: [str(s) for s in lines],
                "text/plain": " ".join(str(s) for s in lines),
            }
        )


def note(text: str | None, kind: str = "info") -> None:
    """Display a short boxed note ('info', 'warning', or 'missing' for data the source lacks); nothing when
    `text` is None or empty (the queries that may have nothing to say return None)."""
    if text:
        show_html(narrative.note_html(text, kind))


def caption(text: str) -> None:
    """Display a small caption line under a chart or table."""
    show_html(narrative.caption_html(text))


def subtitle(*parts: Any) -> None:
    """Display the subtitle line under the report's title: the non-empty parts joined by " · " (escaped)."""
    show_html(narrative.subtitle_html(*parts))


def slug(text: str) -> str:
    """An HTML id from heading text."""
    s = re.sub(r"[^0-9A-Za-z]+", "-", str(text)).strip("-")
    return s or "section"


def heading(text: str, level: int = 2) -> None:
    """Display a heading whose text comes from data (escaped); it joins the table of contents."""
    level = min(max(int(level), 2), 4)
    show_html(f'<h{level} id="{html.escape(slug(text))}">{html.escape(str(text))}</h{level}>')


def paragraph(text: str) -> None:
    """Display a paragraph of generated text (escaped)."""
    show_html(f"<p>{html.escape(str(text))}</p>")


# --- the report context ----------------------------------------------------------------------------


@dataclass
class ReportContext:
    """Validated parameters, the data source and what the page footer reports about the run."""

    report: str
    month: pd.Period
    params: dict
    source: DataSource
    data: str
    params_file: str | None = None
    client_id: str | None = None
    team: str | None = None
    agent_id: str | None = None
    extra: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    redact_terms: list[str] = field(default_factory=list)
    # the partial-month note at the top of the page (queries.source_partial_note), None for a whole month; the run
    # facts carry it, so an e-mail of the page says it too
    partial_note: str | None = None
    # which comparisons the month's totals may make, with the month's coverage (queries.totals_basis); a whole
    # month on the attrition report, which is drawn from the roster
    totals: narrative.TotalsBasis = field(default_factory=narrative.TotalsBasis)

    @property
    def partial(self) -> str | None:
        """ "partial: 12 of 21 open days" when the data cover the month in part (narrative.partial_label of
        totals.coverage), None for a whole month."""
        return narrative.partial_label(*self.totals.coverage)

    def show(self, fig: go.Figure) -> None:
        """views.show, with this month shaded and labelled on a chart over months when the data cover it in part
        (charts.mark_partial): a part of a month is not read beside whole ones as one of them."""
        show(charts.mark_partial(fig, self.month, self.partial) if self.partial else fig)

    # -- dates --
    @property
    def start(self) -> pd.Timestamp:
        """First instant of the month (naive local time)."""
        return self.month.start_time

    @property
    def end(self) -> pd.Timestamp:
        """First instant after the month (naive local time)."""
        return (self.month + 1).start_time

    @property
    def month_label(self) -> str:
        """'March 2026'."""
        return month_label(self.month)

    @property
    def currency(self) -> str:
        """Currency symbol from parameters/reports.yaml (default $)."""
        return str(queries.report_settings(self.params)["currency"])

    # -- tables --
    def has(self, *tables: str) -> bool:
        """True when the source holds every named table."""
        return all(self.source.has(t) for t in tables)

    def need(self, *tables: str, what: str = "This section") -> bool:
        """True when the source has the tables; otherwise shows a plain note saying what is missing."""
        missing = [t for t in tables if not self.source.has(t)]
        if not missing:
            return True
        names = ", ".join(TABLE_LABELS.get(t, t) for t in missing)
        msg = f"{what} cannot be shown without the {names}, which this data source does not have."
        note(msg, "missing")
        self.notes.append(msg)
        return False

    def need_any(self, *tables: str, what: str = "This section") -> bool:
        """True when the source has at least one of the tables; otherwise a plain note."""
        if any(self.source.has(t) for t in tables):
            return True
        names = " or ".join(TABLE_LABELS.get(t, t) for t in tables)
        msg = f"{what} cannot be shown without the {names}, which this data source does not have."
        note(msg, "missing")
        self.notes.append(msg)
        return False

    @contextlib.contextmanager
    def section(self, what: str):
        """Run a section; an expected failure (missing parameters or data) becomes a plain note, not a crash."""
        try:
            yield
        except ReportlibError as exc:
            text = str(exc)
            # a page names no folder, host or schema (the command line's message does: its reader ran it); a bare
            # name ("data") is kept: replaced, it garbled words ("too the data source to plan")
            where = {str(self.data or ""), str(getattr(self.source, "location", "") or "")}
            for location in sorted((w for w in where if re.search(r"[/\\]|://", w)), key=len, reverse=True):
                text = re.sub(whole_word(location), "the data source", text)
            msg = f"{what} is not available: {self.redact(text)}"
            note(msg, "missing")
            self.notes.append(msg)

    def client_source(self) -> Any:
        """The data source narrowed to this report's client (data.source.ClientView: contacts, intervals, clients)."""
        if not self.client_id:
            raise UsageError("this report has no client_id")
        return self.source.for_client(self.client_id)

    def redact(self, text: str) -> str:
        """Text with agent names (and other private terms) removed, for reports that must not name people: each
        term as a whole word (not inside another: "ted" leaves "expected" whole), all in one pass (the longest
        term first at each place; a replacement is never searched again)."""
        return redaction.redact_terms(text, self.redact_terms)

    def data_range(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """First and last timestamp of contact-level (or interval) data in the source; on a client's
        review, in that client's data alone (another client's contact times are not shown on it)."""
        if self.report == "client_review" and self.client_id:
            return data_range(self.client_source())
        return data_range(self.source)

    def facts(self) -> dict:
        """The run facts and data-quality notes that render.py prints at the end of the page."""
        from reportlib import __version__

        first, last = self.data_range()
        warnings_list = [self.redact(w) for w in dict.fromkeys(self.source.warnings + data_warnings(self.source))]
        params = {
            "month": str(self.month),
            "data": Path(self.data).name if "://" not in self.data else self.data,
            "params_file": Path(self.params_file).name if self.params_file else None,
            "client_id": self.client_id,
            "team": self.team,
            "agent_id": self.agent_id,
        }
        params.update({k: v for k, v in self.extra.items() if _jsonable(v)})
        # every contract table the source holds (the plan tables too: the pack's plan-vs-actual section reads them,
        # and a newcomer's probe found them missing from its run facts)
        tables = [t for t in TABLES if self.source.has(t)]
        if self.report in ("client_review", "agent_review"):
            # a page sent to a client (an agent's supervisor, the agent): the kind of source, not its host, user,
            # schema or folder, nor the operator's parameter file (an agent review printed the database URL)
            params["data"] = source_kind(self.data)
            params["params_file"] = None
            if self.report == "client_review":  # the tables the review is drawn from, not the roster, HR activity
                tables = [t for t in tables if t in (*CLIENT_TABLES, "clients")]
            # a client's (an agent's) page must not list other clients' (agents') data problems, nor count them
            # (the count is the whole source's): that there are some, and where they are listed
            whose = "clients'" if self.report == "client_review" else "people's"
            warnings_list = (
                [
                    "The source data raised data-quality warnings, listed in the service team's own reports "
                    f"(they may concern other {whose} data)."
                ]
                if warnings_list
                else []
            )
        fingerprint = str(fingerprint_read(self.source) or "")  # the data as the page ends: changed, the run fails it
        return {
            "report": self.report,
            "parameters": {k: v for k, v in params.items() if v is not None},
            "data_first": None if first is None else str(first)[:19],
            "data_last": None if last is None else str(last)[:19],
            "fingerprint": fingerprint[:16],
            "tables": tables,
            "timezone": self.source.tz,
            "warnings": warnings_list,
            "notes": [self.redact(n) for n in self.notes],
            "partial": None if self.partial_note is None else self.redact(self.partial_note),
            "version": __version__,
            "generated_at": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        }

    def finish(self) -> None:
        """Display the run facts (render.py moves them to the page footer)."""
        f = self.facts()
        fallback = facts_html(f)
        _display({FACTS_MIME: f, "text/html": fallback, "text/plain": "run facts"})


def _jsonable(v: Any) -> bool:
    try:
        json.dumps(v)
        return True
    except (TypeError, ValueError):
        return False


def data_warnings(source: Any) -> list[str]:
    """The source's warnings that compare tables (a folder's `across_warnings`; a database's from its engine check,
    engine_check.across_table_lines), once per source; [] when they cannot be computed (the page's own sections
    say what is wrong)."""
    from reportlib.core.errors import ReportlibError
    from reportlib.data.engine_check import across_table_lines

    try:
        if hasattr(source, "across_warnings"):
            return list(source.across_warnings())
        return list(source.memo(("across_warnings",), lambda: across_table_lines(source)))
    except ReportlibError:
        return []


def source_kind(location: str) -> str:
    """What kind of data source `location` names, without naming it (no host, user, path or schema)."""
    scheme = location.split("://", 1)[0].lower() if "://" in location else ""
    kinds = {"postgres": "a PostgreSQL database", "postgresql": "a PostgreSQL database", "spark": "Spark"}
    if scheme in kinds:
        return kinds[scheme]
    return "a DuckDB database" if scheme == "duckdb" else "a data folder"


def last_complete_month(source: DataSource, params: Mapping[str, Any] | None = None) -> pd.Period:
    """The latest month with data in the source whose open days after the data's last whole day are none
    (month_gaps, by the business calendar in `params`; a last day the export cut short is not whole:
    queries.whole_days), else the month before it."""
    first, end = data_range(source)
    if end is None:
        raise UsageError(
            "the data source holds no contacts or intervals, so no month can be chosen; pass month='YYYY-MM'"
        )
    last = queries.whole_days(source, params)[1]
    m = end.to_period("M")  # the month the data reach (an export of one morning: that month, not the one before)
    if month_gaps(m, first, last, params)[1] and first is not None and first.to_period("M") < m:
        m = m - 1
    return m


def start_report(
    report: str,
    *,
    month: str | None,
    data: str | None = None,
    params_file: str | None = None,
    client_id: str | None = None,
    team: str | None = None,
    agent_id: str | None = None,
    require: Sequence[str] = (),
    quiet: bool = True,
    **extra: Any,
) -> ReportContext:
    """Validate a notebook's parameters, load parameter sets, open the data source; the notebook's first call.

    Raises UsageError naming what to fix (papermill itself does not validate parameters):
    a month not in YYYY-MM form, a month with no data, an unknown client or team, a missing table
    listed in ``require``.
    """
    from reportlib.core.params import data_location, load_params
    from reportlib.data import load

    if quiet:
        warnings.filterwarnings("ignore")
    use_report_display()
    for name, value in (
        ("data", data),
        ("params_file", params_file),
        ("client_id", client_id),
        ("team", team),
        ("agent_id", agent_id),
    ):
        if value is not None and not isinstance(value, str):
            raise UsageError(f"{name} must be a string or None, got {value!r}")
    # REPORTLIB_PARAMS: the overlay `reportlib lab --params` gives every notebook; an explicit params_file wins
    params_file = params_file or os.environ.get("REPORTLIB_PARAMS") or None
    params = load_params(params_file)
    # opened before the first `reportlib run`: create the default sample, as the run would
    from reportlib.planning.sample import ensure_default_data

    ensure_default_data(params, data or os.environ.get("REPORTLIB_DATA") or None, who="reportlib")
    # REPORTLIB_DATA lets a notebook test run (e.g. pytest --nbval-lax notebooks/) point every notebook
    # at one data source without editing them; an explicit `data` parameter wins.
    loc = data_location(params, data or os.environ.get("REPORTLIB_DATA") or None)
    source = load.open_source(loc, tz=params.get("timezone", DEFAULT_TIMEZONE), tables=load.source_tables(params, loc))
    load.require_contract(source)  # a database is checked once (a run's check before the reports is shared)
    missing = [t for t in require if not source.has(t)]
    if missing:
        raise MissingTableError(
            f"the {report} report needs {noun_for(len(missing), 'table')} {', '.join(missing)}, which the data source {loc} does not have"
        )
    if report == "client_review" and not client_id:
        if not source.has("clients") or not len(source.frame("clients")):
            raise UsageError("the client_review report needs client_id (one client's id from the clients table)")
        # opened by hand in JupyterLab without a client: review the first client (scheduled runs always pass one)
        client_id = str(source.frame("clients")["client_id"].iloc[0])
    period = parse_month(month) if month is not None else last_complete_month(source, params)
    first, last = data_range(source)
    if first is not None and (period.end_time < first or period.start_time > last):
        raise UsageError(f"month {period} has no data: the source covers {first:%Y-%m-%d} to {last:%Y-%m-%d}")
    ctx = ReportContext(
        report=report,
        month=period,
        params=params,
        source=source,
        data=loc,
        params_file=params_file,
        client_id=client_id,
        team=team,
        agent_id=agent_id,
        extra=dict(extra),
    )
    if client_id is not None:
        if not source.has("clients"):
            raise MissingTableError("client_id was given but the data source has no clients table")
        clients = source.frame("clients")
        if client_id not in set(clients["client_id"].astype(str)):
            raise UsageError(f"client_id {client_id!r} is not in the clients table")
    if team is not None:
        if not source.has("agents"):
            raise MissingTableError("team was given but the data source has no agents table (roster)")
        teams = set(source.frame("agents")["team"].dropna().astype(str))
        if team not in teams:
            raise UsageError(f"team {team!r} is not in the roster; teams are: {', '.join(sorted(teams))}")
        if report == "attrition":  # a page narrowed to a team of a few people would be about single people
            from reportlib.core.settings import AttritionSettings
            from reportlib.metrics.attrition import team_roster

            team_roster(source.frame("agents"), team, period, AttritionSettings.from_params(params).min_group_size)
    if report == "agent_review":
        if not source.has("agents") or not source.has("contacts"):
            raise MissingTableError("the agent_review report needs the contacts and agents tables")
        roster = source.frame("agents")
        if ctx.agent_id is None:  # opened by hand in JupyterLab: the first active agent (runs always pass one)
            from reportlib.metrics.scorecards import active_agent_ids

            active = active_agent_ids(
                source.table("contacts"),
                str(period),
                activity=source.frame("agent_activity") if source.has("agent_activity") else None,
                qa=source.frame("qa_evaluations") if source.has("qa_evaluations") else None,
                short_abandon_s=MetricSettings.from_params(params).short_abandon_s,
            )
            # in the team asked for, if any (a Tampa lead narrowing to Tampa 1 was shown a Louisville agent)
            mine = roster if team is None else roster[roster["team"].astype(str) == team]
            active = [a for a in active if a in set(mine["agent_id"].astype(str))]
            if not active:
                raise UsageError(
                    f"no agent {'of team ' + repr(team) + ' ' if team else ''}was active in {period}; pass agent_id"
                )
            ctx.agent_id = active[0]
        if ctx.agent_id not in set(roster["agent_id"].astype(str)):
            raise UsageError(f"agent_id {ctx.agent_id!r} is not in the roster (agents table)")
        own_team = roster.loc[roster["agent_id"].astype(str) == ctx.agent_id, "team"].astype(str)
        if team is not None and team not in set(own_team):
            raise UsageError(
                f"agent_id {ctx.agent_id!r} is not in team {team!r}; leave team out or pass one of its agents"
            )
        others = roster[roster["agent_id"].astype(str) != ctx.agent_id]
        # notes on this page never name another person: their names and ids are redacted
        terms = list(others["name"].dropna().astype(str)) + list(others["agent_id"].astype(str))
        ctx.redact_terms = sorted({t for t in terms if t.strip()})
    elif report != "team_performance" and source.has("agents"):
        # pages for executives, account managers and HR name nobody in their notes and data-quality warnings:
        # agents' names and ids (an id may be a work e-mail address) are redacted
        ctx.redact_terms = redaction.note_terms(source.frame("agents"))
    show_html(lab_title(ctx))
    # the contacts' coverage; the attrition report is drawn from the roster, which the contact export does not cut
    covered = ctx.client_source() if report == "client_review" else source
    partial = (
        queries.roster_month_note(source, params, period)  # the roster is not cut by the export: only "so far"
        if report == "attrition"
        else queries.source_partial_note(covered, params, period)
    )
    if report != "attrition":
        ctx.totals = queries.totals_basis(covered, params, period)
    if partial:
        note(partial, "warning")
        ctx.notes.append(partial)
        ctx.partial_note = partial
    return ctx


def lab_title(ctx: ReportContext) -> str:
    """The report's title ("SLA compliance, November 2026"; a client's name or the agent's before it on their
    reviews) as the notebook's first output, for JupyterLab: the rendered page has its own header, so report.css
    hides this one (.rl-lab-title) there and on paper; Lab, without that stylesheet, shows it (a probe: a notebook
    opened in Lab did not say which month it had chosen)."""
    from reportlib.reports.registry import page_title

    subject = None
    if ctx.report == "client_review" and ctx.client_id and ctx.source.has("clients"):
        clients = ctx.source.frame("clients")
        names = clients.loc[clients["client_id"].astype(str) == ctx.client_id, "client_name"].dropna()
        subject = str(names.iloc[0]) if len(names) else ctx.client_id
    elif ctx.report == "agent_review" and ctx.agent_id and ctx.source.has("agents"):
        roster = ctx.source.frame("agents")
        names = roster.loc[roster["agent_id"].astype(str) == ctx.agent_id, "name"].dropna()
        subject = str(names.iloc[0]) if len(names) else ctx.agent_id
    title = page_title(ctx.report, ctx.month, subject)
    return (
        f'<div class="rl-lab-title" style="font-size:1.5em;font-weight:650;margin:0 0 6px">{html.escape(title)}</div>'
    )


def facts_html(facts: Mapping[str, Any]) -> str:
    """The data-quality note and the run facts as escaped HTML (used in the page footer)."""
    e = html.escape
    out = ['<section class="rl-facts">', '<h2 id="data-quality">Data quality</h2>']
    warns = list(facts.get("warnings") or [])
    notes = list(facts.get("notes") or [])
    if not warns and not notes:
        out.append("<p>No data-quality warnings were raised for this report's data.</p>")
    else:
        out.append("<ul>")
        out.extend(f"<li>{e(str(w))}</li>" for w in notes)
        shown = warns[:20]
        out.extend(f"<li>{e(str(w))}</li>" for w in shown)
        if len(warns) > len(shown):
            out.append(f"<li>and {counted(len(warns) - len(shown), 'more warning')}.</li>")
        out.append("</ul>")
    out.append('<h2 id="run-facts">Run facts</h2><dl>')
    first, last = facts.get("data_first"), facts.get("data_last")
    rows: list[tuple[str, str]] = []
    if first or last:
        rows.append(
            (
                "Data range",
                f"{first or '?'} to {last or '?'}" + (f" ({facts['timezone']})" if facts.get("timezone") else ""),
            )
        )
    if facts.get("tables"):
        rows.append(("Tables", ", ".join(map(str, facts["tables"]))))
    params = facts.get("parameters") or {}
    if params:
        # an id as typed (safety.printable): "Acme_1" and "Acme_1\u200b" are two clients, not one shown twice
        rows.append(("Parameters", "; ".join(f"{k} = {printable(v)}" for k, v in params.items())))
    if facts.get("fingerprint"):
        rows.append(("Data fingerprint", str(facts["fingerprint"])))
    if facts.get("version"):
        rows.append(("reportlib version", str(facts["version"])))
    if facts.get("generated_at"):
        rows.append(("Generated at", str(facts["generated_at"])))
    if facts.get("duration_s") is not None:
        rows.append(("Run time", f"{float(facts['duration_s']):.1f} s"))
    out.extend(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in rows)
    out.append("</dl></section>")
    return "".join(out)


def show_widget(widget: Any) -> None:
    """Display an ipywidget (live in JupyterLab; the rendered HTML leaves it out, having no kernel)."""
    from IPython.display import display

    display(widget)
