"""The Excel workbooks of a month: the tables the reports show, as sheets with real number formats.

`month_workbook(source, params, month)` gathers every table the month's reports show (KPIs by channel,
queue and client, email response and backlog, SLA terms and penalties, the month-to-date projection, plan vs
actual, team and agent scorecards, attrition with tenure survival and drivers, forecast by week with its evidence
per series, capacity plan, cost) and `client_workbook(source, params, month, client_id)` one client's tables alone;
both return a `Workbook` (sheets as DataFrames with each column's label and unit, plus the facts for
the README sheet). `write_workbook(book, path)` writes it with openpyxl: a README sheet first (month,
data fingerprint, parameters, what each sheet is, and each column's definition read from
docs/definitions.md), then one sheet per table with a frozen header row, an autofilter, column widths
and number formats (shares as 0.0%, seconds, currency, counts).

Every figure comes from the same library calls the notebooks make (reports.queries, metrics, planning,
reports.forecast_view), with the same arguments, so a sheet's numbers equal the page's table
(tests/test_workbook.py compares them cell by cell with a rendered month). Every text cell passes
through `core.safety.neutralise_cell` (no formula from data); numbers stay numbers. Agent names appear
only in the agent scorecard sheet (as on the team performance page), never in a client's workbook.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from reportlib.core.errors import ReportlibError
from reportlib.core.months import month_label
from reportlib.core.safety import neutralise_cell
from reportlib.core.settings import MetricSettings
from reportlib.data.source import DataSource
from reportlib.reports import narrative, queries, redaction

# Units a column can have (the same names as narrative.format_value) and their Excel number formats.
# "currency" takes the report currency symbol; "text" and "date" are not numbers.
NUMBER_FORMATS = {
    "count": "#,##0",
    "share": "0.0%",
    "seconds": '#,##0" s"',
    "seconds_change": '+#,##0" s";-#,##0" s";0" s"',  # a change keeps its sign, as the page's "+7 s"
    "number": "#,##0.00",
    "number1": "0.0",
    "fte": "#,##0.0",
    "days": "#,##0",
    "ratio": "0.00",
    "date": "yyyy-mm-dd",
}
DEFINITIONS_DOC = "docs/definitions.md"
MAX_WIDTH = 60  # characters: wider text wraps in the cell rather than widening the column

# The reports whose tables the month's workbook holds: `reportlib run` writes it when it renders all of them.
REPORTS_COVERED = ("team_performance", "sla", "attrition", "forecast", "monthly_pack")


@dataclass
class Column:
    """One column of a sheet: the frame's column, the header shown, its unit, and its definition's anchor."""

    key: str
    label: str
    unit: str = "text"  # text | count | share | seconds | seconds_change | currency | number | number1 | fte | days | ratio | date
    anchor: str | None = None  # heading of docs/definitions.md defining it (without '#')


@dataclass
class Sheet:
    """A table of the workbook: its sheet name (at most 31 characters), what it is, where the pages show it."""

    name: str
    frame: pd.DataFrame
    columns: list[Column]
    about: str
    shown_in: str
    # per-row units for a column whose rows mix units (an SLA term's goal: a share or seconds)
    row_units: dict[str, list[str]] = field(default_factory=dict)
    # per-row decimals for columns compared with each other (None: the unit's own), so that a figure that misses
    # its goal never reads as equal to it (79.96% against 80%: "79.96%", not "80.0%"): narrative.compared_digits
    row_digits: dict[str, list[int | None]] = field(default_factory=dict)


@dataclass
class Workbook:
    """Sheets plus what the README sheet says about them."""

    title: str
    month: str
    sheets: list[Sheet]
    facts: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    currency: str = "$"


# --- definitions ---------------------------------------------------------------------------------


def heading_anchor(text: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def definitions(markdown: str) -> dict[str, str]:
    """Anchor -> the first paragraph under that heading of docs/definitions.md (Markdown marks removed), with the
    paragraphs or list after it while a paragraph ends in ":" ("A term has:" was a column's whole definition)."""
    out: dict[str, str] = {}
    anchor: str | None = None
    para: list[str] = []
    in_code = False

    def flush() -> None:
        if anchor and anchor not in out and para:
            text = " ".join(para)
            text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links -> their text
            out[anchor] = text.replace("`", "").replace("**", "").strip()

    for line in markdown.splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        m = re.match(r"#{1,6}\s+(.*)", line)
        if m:
            flush()
            anchor, para = heading_anchor(m.group(1)), []
            continue
        if not line.strip():
            if para and not para[-1].endswith(":"):  # a paragraph ending in ":" goes on (its list or formula)
                flush()
                anchor = None if anchor in out else anchor
                para = []
            continue
        if anchor and anchor not in out:
            para.append(line.strip())
    flush()
    return out


def load_definitions() -> dict[str, str]:
    """The definitions of docs/definitions.md in the project, else beside the installed package's source (a
    REPORTLIB_HOME holding parameters/ and notebooks/ alone left every definition cell empty, unsaid: a probe);
    empty when neither has the page (write_workbook then says so)."""
    from reportlib.core.params import project_root

    for root in dict.fromkeys((project_root(), Path(__file__).resolve().parents[2])):
        try:
            return definitions((root / DEFINITIONS_DOC).read_text(encoding="utf-8"))
        except OSError:
            continue
    return {}


# --- the columns every sheet shares --------------------------------------------------------------

KPI_COLS = [
    Column("offered", "Offered", "count", "offered"),
    Column("handled", "Handled", "count", "handled"),
    Column("service_level", "Service level", "share", "service-level"),
    Column("asa_s", "Speed of answer", "seconds", "asa"),
    Column("abandon_rate", "Abandon rate", "share", "abandon-rate"),
    Column("aht_s", "Handle time", "seconds", "aht"),
]


def _frame(df: pd.DataFrame, cols: Sequence[Column]) -> pd.DataFrame:
    return df[[c.key for c in cols]].reset_index(drop=True)


_NOT_IN_SOURCE = "the data source does not have what it needs."


def no_sheet_reason(book: Workbook) -> str:
    """Why `book` has no sheet of figures, in one line: its README's notes, the sections the source cannot
    give said once."""
    said = [n for n in book.notes if not n.endswith(_NOT_IN_SOURCE)]
    if len(said) < len(book.notes):
        said.append(f"the data source has none of the tables its {'other ' if said else ''}sections need")
    return "no sheet of figures: " + "; ".join(said or ["no section gave one"])


class _Builder:
    """Collects sheets; a section whose data or parameters are missing becomes a README note."""

    def __init__(self, source: DataSource):
        self.sheets: list[Sheet] = []
        self.notes: list[str] = []
        # a README names nobody: roster names and ids are left out of its notes, as on the pages (views)
        self.redact_terms = redaction.note_terms(source.frame("agents")) if source.has("agents") else []

    def redact(self, text: str) -> str:
        return redaction.redact_terms(text, self.redact_terms)

    def section(self, what: str, fn: Callable[[], Sequence[Sheet] | Sheet | None]) -> None:
        try:
            got = fn()
        except ReportlibError as exc:
            self.notes.append(self.redact(f"{what} is not in this workbook: {exc}"))
            return
        if got is None:
            self.notes.append(f"{what} is not in this workbook: {_NOT_IN_SOURCE}")
            return
        self.sheets.extend([got] if isinstance(got, Sheet) else got)


def _facts(source: DataSource, params: Mapping[str, Any], month: pd.Period, extra: Mapping[str, Any]) -> dict:
    from reportlib import __version__

    ms = MetricSettings.from_params(params)
    rep = queries.report_settings(params)
    return {
        "Month": str(month),
        "Data fingerprint": str(getattr(source, "fingerprint", "") or "")[:16],
        "Time zone": str(getattr(source, "tz", None) or params.get("timezone") or ""),
        "Service-level threshold (s)": ms.sl_threshold_s,
        "Service-level definition": ms.sl_definition,
        "Short abandon limit (s)": ms.short_abandon_s,
        "Email target (business hours)": float(rep["email_threshold_h"]),
        "Currency": str(rep["currency"]),
        **dict(extra),
        "reportlib version": __version__,
        "Generated at": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def _contract_facts(client: Any, P: dict, m: pd.Period, facts: Mapping[str, Any]) -> dict:
    """A client workbook's thresholds as its sheets use them: the contract's per channel (the operation's where
    it has no term), and its email business hours; {} when the contract cannot be read."""
    from reportlib.reports.client_review import email_threshold

    if not client.has("contacts"):
        return {}
    try:
        terms = queries.compliance(client, P, m)
    except ReportlibError:
        return {}
    sl = terms[(terms["metric"] == "service_level") & terms["threshold_s"].notna()].drop_duplicates("channel")
    if not len(sl):
        return {}
    own = "; ".join(f"{ch} {float(t):g} (contract)" for ch, t in zip(sl["channel"], sl["threshold_s"]))
    return {
        "Service-level threshold (s)": f"{own}; other channels {facts['Service-level threshold (s)']:g}",
        "Email target (business hours)": email_threshold(client, P, facts["Client id"]),
    }


# --- the month's workbook ------------------------------------------------------------------------


def month_workbook(
    source: DataSource, params: Mapping[str, Any], month: Any, *, data_label: str | None = None
) -> Workbook:
    """Every table the month's reports show, as sheets (see the module docstring); sections the source
    cannot give are left out with a README note. Shares 0..1, seconds, currency in the roster's units."""
    m = pd.Period(str(month), freq="M")
    P = dict(params)
    b = _Builder(source)
    b.notes.extend(filter(None, [queries.source_partial_note(source, P, m)]))  # said first, as on the pages
    has_live = source.has("contacts") or source.has("intervals")
    b.section("KPIs by channel", lambda: _by_channel(source, P, m) if has_live else None)
    b.section("KPIs by queue", lambda: _by_queue(source, P, m) if has_live else None)
    ready_sla = source.has("contacts") and source.has("clients")
    b.section("KPIs by client", lambda: _by_client(source, P, m) if ready_sla else None)
    b.section("Email by queue", lambda: _email_by_queue(source, P, m) if source.has("contacts") else None)
    b.section("SLA compliance", lambda: _sla(source, P, m) if ready_sla else None)
    b.section("Plan vs actual", lambda: _plan_vs_actual(source, P, m) if has_live else None)
    ready_team = source.has("contacts") and source.has("agents")
    b.section("Team and agent scorecards", lambda: _teams(source, P, m) if ready_team else None)
    b.section("Attrition", lambda: _attrition(source, P, m) if source.has("agents") else None)
    b.section("Forecast and capacity plan", lambda: _forecast(source, P, m) if has_live else None)
    ready_cost = source.has("contacts") and source.has("agent_activity") and source.has("agents")
    b.section("Cost per contact", lambda: _cost(source, P, m) if ready_cost else None)
    facts = _facts(source, P, m, {"Data": data_label} if data_label else {})
    return Workbook(
        f"Reports workbook, {month_label(m)}",
        str(m),
        b.sheets,
        facts,
        b.notes,
        str(queries.report_settings(P)["currency"]),
    )


def _by_channel(source: DataSource, P: dict, m: pd.Period) -> Sheet:
    h = queries.channel_history(source, P, m - 12, m)  # the monthly pack's call
    now = h[h["month"] == str(m)]
    cols = [Column("channel", "Channel"), *KPI_COLS]
    return Sheet(
        "By channel",
        _frame(now, cols),
        cols,
        "Contacts and service per channel this month; email rows carry first response within each client's "
        "contract threshold in business hours, and no speed of answer or abandon rate.",
        "monthly pack: Service, 'By channel'",
    )


def _by_queue(source: DataSource, P: dict, m: pd.Period) -> Sheet:
    h = queries.channel_history(source, P, m - 12, m, by=("queue", "channel"))  # the SLA report's call
    now = h[(h["month"] == str(m)) & (h["channel"] != "email")]
    cols = [Column("queue", "Queue"), Column("channel", "Channel"), *[c for c in KPI_COLS if c.key != "handled"]]
    return Sheet(
        "By queue",
        _frame(now, cols),
        cols,
        "Service level, speed of answer and abandons per queue on phone and chat this month.",
        "SLA compliance: Queues",
    )


def _by_client(source: DataSource, P: dict, m: pd.Period) -> Sheet:
    h = queries.channel_history(source, P, m - 12, m, by=("client_id", "channel"))  # the SLA report's trend
    now = h[h["month"] == str(m)].copy()
    names = source.frame("clients").drop_duplicates("client_id").set_index("client_id")["client_name"]
    now.insert(1, "client_name", now["client_id"].map(names))
    cols = [Column("client_id", "Client id"), Column("client_name", "Client"), Column("channel", "Channel"), *KPI_COLS]
    return Sheet(
        "By client",
        _frame(now.sort_values(["client_id", "channel"], kind="stable"), cols),
        cols,
        "Contacts and service per client and channel this month (the SLA report's trend shows phone "
        "service level per client).",
        "SLA compliance: Trend over 13 months (phone service level by client)",
    )


def _email_by_queue(source: DataSource, P: dict, m: pd.Period) -> list[Sheet] | None:
    rep = queries.report_settings(P)
    email = queries.email_by_queue(source, P, m)  # the SLA report's table
    if not len(email) or not email["received"].sum() > 0:
        return None
    cols = [
        Column("queue", "Queue"),
        Column("received", "Received", "count", "email-first-response"),
        Column("responded_within", "Answered in time", "count", "email-first-response"),
        Column("missed", "Missed", "count", "email-first-response"),
        Column("service_level", "In time", "share", "email-first-response"),
        Column("mean_response_business_h", "Mean first response (business hours)", "number1", "business-calendar"),
    ]
    sheets = [
        Sheet(
            "Email by queue",
            _frame(email, cols),
            cols,
            f"Emails answered within {rep['email_threshold_h']} business hours, per queue.",
            "SLA compliance: Email response and backlog",
        )
    ]
    backlog, when = queries.email_backlog_by_queue(source, P, m)  # the SLA report's table
    if len(backlog) and backlog["backlog"].sum() > 0:
        bcols = [
            Column("queue", "Queue"),
            Column("backlog", f"Waiting {when}", "count", "email-backlog"),
            Column("past_threshold", "Past target", "count", "email-backlog"),
            Column("oldest_age_business_h", "Oldest (business hours)", "number1", "email-backlog"),
        ]
        sheets.append(
            Sheet(
                "Email backlog",
                _frame(backlog, bcols),
                bcols,
                f"Emails still waiting for a first response {when}, per queue; past target: waiting longer than "
                f"{rep['email_threshold_h']} business hours.",
                "SLA compliance: Email response and backlog",
            )
        )
    return sheets


def _sla(source: DataSource, P: dict, m: pd.Period) -> list[Sheet]:
    compliance = queries.compliance(source, P, m)  # shared by the SLA report, the pack and client reviews
    by_client = queries.compliance_by_client(compliance)
    ccols = [
        Column("client_id", "Client id"),
        Column("client_name", "Client"),
        Column("sla_profile", "Contract"),
        Column("judged", "Terms measured", "count", "sla-compliance"),
        Column("missed", "Missed", "count", "sla-compliance"),
        Column("penalty_at_risk", "Fee at risk", "currency", "penalties"),
        Column("worst_term", "Largest miss"),
        Column("status", "Status"),
    ]
    return [
        Sheet(
            "SLA by client",
            _frame(by_client, ccols),
            ccols,
            "One line per client: contract terms measured and missed this month and the fee at risk.",
            "SLA compliance: Compliance by client; monthly pack: Clients and contracts",
        ),
        _terms_sheet(compliance, "SLA terms", with_client=True, running=queries.month_running(source, P, m)),
        *_month_to_date(source, P, m),
    ]


def _month_to_date(source: DataSource, P: dict, m: pd.Period) -> list[Sheet]:
    mtd, as_of, looking_back = queries.month_to_date(source, P, m)  # the SLA report's projection
    risky = queries.month_to_date_risks(mtd)
    if not len(risky):
        return []
    cols = [
        Column("client_name", "Client"),
        Column("term", "Term", "text", "sla-contract-terms"),
        Column("so_far", "So far", "text", "month-to-date-projection"),
        Column("expected_remaining", "Contacts still expected", "count", "month-to-date-projection"),
        Column("required_within_threshold", "Must be answered in time", "count", "month-to-date-projection"),
        Column("rest_mean", "The rest must average", "text", "month-to-date-projection"),
        Column("status", "Status", "text", "month-to-date-projection"),
    ]
    cols = [c for c in cols if c.key in risky.columns]
    return [
        Sheet(
            "SLA month to date",
            _frame(risky, cols),
            cols,
            f"{queries.month_to_date_sentence(mtd['status'], as_of, looking_back)} The terms at risk or lost, and "
            "what the rest of the month needs to meet them.",
            "SLA compliance: Month-to-date projection",
        )
    ]


def _plan_vs_actual(source: DataSource, P: dict, m: pd.Period) -> Sheet:
    from reportlib.reports import plan_vs_actual

    result = plan_vs_actual.month_variance(source, P, str(m))  # the SLA report's call (shared in a kernel)
    cols = [
        Column("channel", "Channel"),
        Column("queue", "Queue"),
        Column("planned_sl", "Plan", "share", "plan-vs-actual"),
        Column("actual_sl", "Actual", "share", "plan-vs-actual"),
        Column("volume_change", "Volume vs forecast", "share", "plan-vs-actual"),
        Column("volume", "Volume (pts)", "number1", "plan-vs-actual"),
        Column("aht", "Handle time (pts)", "number1", "plan-vs-actual"),
        Column("staffing", "Staffing (pts)", "number1", "plan-vs-actual"),
        Column("other", "Other (pts)", "number1", "plan-vs-actual"),
    ]
    return Sheet(
        "Plan vs actual",
        _frame(plan_vs_actual.sla_table(result), cols),
        cols,
        "Service level planned and delivered per channel and queue, and the points won or lost to volume, handle "
        f"time, staffing and the rest (docs/plan-vs-actual.md). {plan_vs_actual.describe_sources(result)}",
        "SLA compliance: Plan vs actual",
    )


def _terms_sheet(compliance: pd.DataFrame, name: str, with_client: bool, running: bool = False) -> Sheet:
    terms = compliance.copy()
    terms["result"] = queries.term_results(terms["met"], running)  # "so far" in a month still running
    unit = [queries.metric_unit(x) for x in terms["metric"]]
    cols = [
        *([Column("client_id", "Client id"), Column("client_name", "Client")] if with_client else []),
        Column("term", "Term", "text", "sla-contract-terms"),
        Column("channel", "Channel"),
        Column("volume", "Contacts", "count", "sla-compliance"),
        Column("goal", "Goal", "share", "sla-contract-terms"),
        Column("actual", "Delivered", "share", "sla-compliance"),
        Column("result", "Result", "text", "sla-compliance"),
        Column("penalty_at_risk", "Fee at risk", "currency", "penalties"),
    ]
    return Sheet(
        name,
        _frame(terms, cols),
        cols,
        "Every contract term this month: what was promised, what was delivered, and the fee at risk when missed. "
        "Goal and Delivered are shares, or seconds for speed-of-answer and handle-time terms, or a score for a "
        "mean satisfaction term.",
        "SLA compliance: Breaches and penalty at risk" if with_client else "client review: Contract terms this month",
        row_units={"goal": unit, "actual": unit},
        row_digits=dict.fromkeys(("goal", "actual"), narrative.compared_digits(terms["actual"], terms["goal"], unit)),
    )


def _teams(source: DataSource, P: dict, m: pd.Period) -> list[Sheet] | None:
    cards = queries.month_scorecards(source, P, m)  # notebooks/team_performance.ipynb's calls (shared in a run)
    if not len(cards):
        return None
    teams = queries.team_table(source, P, m)
    tcols = [
        Column("team", "Team"),
        Column("handled", "Handled", "count", "handled"),
        Column("aht_s", "Handle time", "seconds", "aht"),
        Column("fcr", "Resolved first time", "share", "fcr"),
        Column("csat_top2", "Satisfied (4-5)", "share", "csat"),
        Column("occupancy", "Occupancy", "share", "occupancy"),
        Column("shrinkage", "Shrinkage", "share", "shrinkage"),
        Column("adherence", "Adherence", "share", "adherence"),
        Column("qa_mean", "QA score", "number1", "agent-scorecards"),
        Column("critical_errors", "Critical errors", "count", "agent-scorecards"),
        Column("agents", "Agents", "count"),
        Column("coaching", "To coach", "count", "coaching-flags"),
    ]
    tcols = [c for c in tcols if c.key in teams.columns]
    show = cards.copy()
    show["coaching_reasons"] = show["coaching_reasons"].map(
        lambda v: "; ".join(map(str, v)) if isinstance(v, (list, tuple, np.ndarray)) else v
    )
    acols = [
        Column("agent_id", "Agent id"),
        Column("name", "Agent"),
        Column("team", "Team"),
        Column("handled", "Handled", "count", "handled"),
        Column("aht_s", "Handle time", "seconds", "aht"),
        Column("aht_s_change", "Handle time vs prior 3 months", "seconds_change", "scorecard-trend"),
        Column("qa_mean", "QA", "number1", "agent-scorecards"),
        Column("fcr", "Resolved first time", "share", "fcr"),
        Column("csat_top2", "Satisfied", "share", "csat"),
        Column("adherence", "Adherence", "share", "adherence"),
        Column("goals_met", "Goals met", "count", "goals"),
        Column("goals_total", "Goals measured", "count", "goals"),
        Column("rank_in_team", "Rank in team", "count", "rank-in-team"),
        Column("team_size", "Team size", "count", "rank-in-team"),
        Column("coaching", "To coach", "text", "coaching-flags"),
        Column("coaching_reasons", "Why", "text", "coaching-flags"),
    ]
    acols = [c for c in acols if c.key in show.columns]
    return [
        Sheet(
            "Teams",
            _frame(teams, tcols),
            tcols,
            "Each team's month: contacts handled, handle time, resolution, satisfaction, quality and time use.",
            "team performance: Teams",
        ),
        Sheet(
            "Agent scorecards",
            _frame(show, acols),
            acols,
            "Every agent's month against the goals in parameters, rank within the team, coaching flags.",
            "team performance: Agent scorecards and Coaching list",
            row_digits=queries.scorecard_digits(show),
        ),
    ]


def _attrition(source: DataSource, P: dict, m: pd.Period) -> list[Sheet] | None:
    agents = source.frame("agents")
    if not queries.roster_has_history(agents):
        return None
    R = queries.month_attrition(source, P, m)  # notebooks/attrition.ipynb's call (shared with it in a run)
    trend_cols = [
        Column("month", "Month"),
        Column("headcount_start", "Headcount at start", "count", "headcount"),
        Column("headcount_end", "Headcount at end", "count", "headcount"),
        Column("hires", "Hires", "count", "headcount"),
        Column("terminations", "Leavers", "count", "monthly-attrition"),
        Column("voluntary", "Voluntary", "count", "voluntary-involuntary-and-regretted"),
        Column("involuntary", "Involuntary", "count", "voluntary-involuntary-and-regretted"),
        Column("monthly_rate", "Monthly attrition", "share", "monthly-attrition"),
        Column("annualized_rate", "Attrition, trailing 12 months", "share", "annualized-attrition"),
        Column("annualized_voluntary_rate", "Voluntary, trailing 12 months", "share", "annualized-attrition"),
        Column("annualized_regretted_rate", "Regretted, trailing 12 months", "share", "annualized-attrition"),
    ]
    trend = R["trend"].assign(month=R["trend"]["month"].astype(str))
    sheets = [
        Sheet(
            "Attrition by month",
            _frame(trend, [c for c in trend_cols if c.key in trend.columns]),
            [c for c in trend_cols if c.key in trend.columns],
            "Headcount, leavers and attrition per month.",
            "headcount and attrition: Summary and Trend",
        )
    ]
    for col, g in R["groups"].items():
        gcols = [
            Column(col, str(col).title()),
            Column("avg_headcount_13", "Average headcount", "number1", "group-comparison"),
            Column("terminations_12m", "Leavers (12 months)", "count", "group-comparison"),
            Column("annualized_rate", "Attrition", "share", "annualized-attrition"),
            Column("ci_lower", "95% range, low", "share", "group-comparison"),
            Column("ci_upper", "95% range, high", "share", "group-comparison"),
            Column("assessment", "Compared with overall", "text", "group-comparison"),
        ]
        sheets.append(
            Sheet(
                f"Attrition by {col}"[:31],
                _frame(g, gcols),
                gcols,
                f"Attrition over the last 12 months by {col}, with the counts behind it.",
                "headcount and attrition: By team and site",
            )
        )
    ecols = [
        Column("cohort", "Hire quarter"),
        Column("hires", "Hires", "count", "early-tenure-attrition"),
        Column("early_leavers", "Left early", "count", "early-tenure-attrition"),
        Column("rate", "Share", "share", "early-tenure-attrition"),
        Column("status", "Status", "text", "early-tenure-attrition"),
    ]
    sheets.append(
        Sheet(
            "Early leavers by hire quarter",
            _frame(queries.early_leavers(R), ecols),
            ecols,
            "New hires who left within their first days (early_tenure_days, 90 by default), per hire quarter.",
            "headcount and attrition: New hires leaving early",
        )
    )
    sheets.extend(_survival_and_drivers(R))
    proj = R["projection"].assign(month=R["projection"]["month"].astype(str))
    pcols = [
        Column("month", "Month"),
        Column("roster_start", "On the roster at the start", "count", "attrition-projection"),
        Column("expected_leavers", "Expected leavers", "number1", "attrition-projection"),
        Column("cumulative_expected_leavers", "Cumulative", "number1", "attrition-projection"),
        Column("expected_cost", "Replacement cost", "currency", "attrition-cost"),
    ]
    pcols = [c for c in pcols if c.key in proj.columns]
    sheets.append(
        Sheet(
            "Attrition projection",
            _frame(proj, pcols),
            pcols,
            "Expected leavers over the next months and what replacing them costs.",
            "headcount and attrition: Projection",
        )
    )
    return sheets


def _survival_and_drivers(R: Mapping[str, Any]) -> list[Sheet]:
    """The attrition page's tenure survival summary and drivers model (none when the model could not be fitted
    or had too little to model: the page's notes say why)."""
    summary = R["survival_overall"].summary
    scols = [
        Column("agents", "People", "count", "tenure-survival"),
        Column("leavers", "Leavers", "count", "tenure-survival"),
        Column("median_tenure_days", "Median tenure", "days", "tenure-survival"),
        Column("p_reach_90d", "Reach 90 days", "share", "tenure-survival"),
        Column("p_reach_365d", "Reach 1 year", "share", "tenure-survival"),
    ]
    scols = [c for c in scols if c.key in summary.columns]
    sheets = [
        Sheet(
            "Tenure survival",
            _frame(summary, scols),
            scols,
            "Everyone on the roster since its start: how long people stay (Kaplan-Meier), median tenure in days and "
            "the chance of reaching 90 days and a year.",
            "headcount and attrition: Tenure survival",
        )
    ]
    model = R["drivers"]
    if not isinstance(model, Exception) and len(model.table):
        dcols = [
            Column("factor", "Factor", "text", "attrition-drivers"),
            Column("comparison", "Compared with", "text", "attrition-drivers"),
            Column("hazard_ratio", "Hazard ratio", "ratio", "attrition-drivers"),
            Column("ci_lower", "95% low", "ratio", "attrition-drivers"),
            Column("ci_upper", "95% high", "ratio", "attrition-drivers"),
            Column("reading", "Reading", "text", "attrition-drivers"),
        ]
        sheets.append(
            Sheet(
                "Attrition drivers",
                _frame(model.table, dcols),
                dcols,
                f"What goes with leaving (a Cox model; hazard ratio under 1: less likely to leave). {model.caveat}",
                "headcount and attrition: Drivers",
            )
        )
    return sheets


def _forecast(source: DataSource, P: dict, m: pd.Period) -> list[Sheet]:
    from reportlib.reports import forecast_view as FV

    report = queries.month_forecast(source, P, m)  # notebooks/forecast.ipynb's call (shared with it in a run)
    weekly = FV.weekly_forecast(report)
    channels = [c for c in weekly.columns if c != "week"]
    wcols = [Column("week", "Week of", "date"), *[Column(c, str(c), "count", "forecast-volume") for c in channels]]
    sheets = [
        Sheet(
            "Forecast by week",
            _frame(weekly, wcols),
            wcols,
            "Forecast contacts per full week and channel over the next 13 weeks.",
            "volume forecast: Next 13 weeks",
        )
    ]
    if report["evidence"] is not None:
        ev = FV.evidence_rows(report)
        ecols = [
            Column("series", "Series"),
            Column("method", "Method chosen", "text", "forecast-accuracy"),
            Column("history_days", "History (days)", "count", "forecast-accuracy"),
            Column("wape", "WAPE", "share", "forecast-accuracy"),
            *[Column(f"wape_{b}", FV.BASELINE_LABELS[b], "share", "forecast-accuracy") for b in FV.BASELINES],
            Column("coverage", "80% band held", "share", "forecast-accuracy"),
            Column("width", "Band width / volume", "number", "forecast-accuracy"),
            Column("winkler", "Winkler score / volume", "number", "forecast-accuracy"),
        ]
        sheets.append(
            Sheet(
                "Forecast evidence",
                _frame(ev, ecols),
                ecols,
                "Per series, the method its own history chose and how it did over the last 3 months, 1 to 28 days "
                "ahead, each forecast made from the data before it, against each simple rule (docs/forecasting.md).",
                "volume forecast: Forecast accuracy",
            )
        )
    cap = report.get("capacity")
    if cap is not None:
        model = FV.MODEL_LABELS[report["staffing_model"]]
        ccols = [
            Column("week_start", "Week of", "date"),
            Column("required_fte", f"FTE needed ({model})", "fte", "capacity-plan"),
            Column("headcount", "Headcount, no recommended hires", "number1", "capacity-plan"),
            Column("in_training", "In training, no recommended hires", "number1", "capacity-plan"),
            Column("productive_fte", "Productive FTE, no recommended hires", "fte", "capacity-plan"),
            Column("gap_fte", "Gap, no recommended hires (FTE)", "fte", "capacity-plan"),
            Column("recommended_hires", "Recommended hires", "count", "capacity-plan"),
            Column("headcount_with_hires", "Headcount with hires", "number1", "capacity-plan"),
            Column("productive_fte_with_hires", "Productive FTE with hires", "fte", "capacity-plan"),
            Column("gap_fte_with_hires", "Gap with hires (FTE)", "fte", "capacity-plan"),
            Column("cost_with_hires", "Cost with hires", "currency", "capacity-plan"),
            Column("budget", "Budget", "currency", "capacity-plan"),
        ]
        ccols = [c for c in ccols if c.key in cap.weekly.columns]
        sheets.append(
            Sheet(
                "Capacity plan",
                _frame(cap.weekly, ccols),
                ccols,
                "Today's roster projected week by week against the FTE needed, with and without the recommended hires.",
                "volume forecast: Capacity plan and hiring",
            )
        )
        if len(cap.recommended):
            hcols = [
                Column("week_start", "Class starts", "date"),
                Column("hires", "Hires", "count", "capacity-plan"),
                Column("first_week_covered", "Covers the shortfall from", "date", "capacity-plan"),
            ]
            sheets.append(
                Sheet(
                    "Hire classes",
                    _frame(cap.recommended, hcols),
                    hcols,
                    "Recommended hire classes.",
                    "volume forecast: Capacity plan and hiring",
                )
            )
    return sheets


def _cost(source: DataSource, P: dict, m: pd.Period) -> Sheet:
    per = queries.month_cost_per_contact(source, P, m)
    cols = [
        Column("channel", "Channel"),
        Column("handled", "Handled", "count", "handled"),
        Column("labor_cost", "Labor cost", "currency", "labor-cost"),
        Column("cost_per_contact", "Cost per contact", "currency", "cost-per-contact"),
    ]
    return Sheet(
        "Cost by channel",
        _frame(per, cols),
        cols,
        f"Labor cost per handled contact by channel, {queries.cost_window_label(source, P, m)}.",
        "monthly pack: Cost",
    )


# --- one client's workbook -----------------------------------------------------------------------


def client_workbook(source: DataSource, params: Mapping[str, Any], month: Any, client_id: str) -> Workbook:
    """One client's tables alone (the client review's figures): contract terms this month, contacts and
    service per channel over 13 months, email first response per month, contact reasons this month.

    Built from the client's view of the source (`source.for_client`), so no other client's rows and no
    agent's name can reach it; the README lists this client's id and no other.
    """
    m = pd.Period(str(month), freq="M")
    P = dict(params)
    client = source.for_client(str(client_id))
    b = _Builder(source)
    b.notes.extend(filter(None, [queries.source_partial_note(client, P, m)]))  # said first, as on the review
    info = client.frame("clients").iloc[0] if client.has("clients") and len(client.frame("clients")) else None
    client_name = str(info["client_name"]) if info is not None and pd.notna(info.get("client_name")) else str(client_id)

    def terms() -> Sheet | None:
        if not client.has("contacts"):
            return None
        c = queries.compliance(client, P, m)
        running = queries.month_running(client, P, m)
        return _terms_sheet(c, "Contract terms", with_client=False, running=running) if len(c) else None

    def history() -> Sheet | None:
        h = queries.channel_history(client, P, m - 12, m)  # the client review's call
        if not len(h):
            return None
        cols = [
            Column("month", "Month"),
            Column("channel", "Channel"),
            *KPI_COLS,
            Column("csat_top2", "Satisfied (4-5)", "share", "csat"),
            Column("escalation_rate", "Escalated", "share", "escalation-rate"),
        ]
        return Sheet(
            "By channel, 13 months",
            _frame(h, cols),
            cols,
            "Contacts and service per month and channel; service level within the operation's threshold (the "
            "contract's own: sheet Answered in time), email rows first response within the contract's business hours.",
            "client review: Volumes, Service level, Escalations",
        )

    def service() -> Sheet | None:
        from reportlib.reports.client_review import service_history

        if not client.has("contacts"):
            return None
        h = queries.channel_history(client, P, m - 12, m)
        svc = service_history(
            h, queries.compliance_history(client, P, m - 12, m), MetricSettings.from_params(P).sl_threshold_s
        )
        if not len(svc):
            return None
        cols = [
            Column("month", "Month"),
            Column("channel", "Channel"),
            Column("threshold_s", "Within", "seconds", "service-level"),
            Column("service_level", "Answered in time", "share", "service-level"),
            Column("goal", "Contract goal", "share", "sla-contract-terms"),
            Column("basis", "Measured on"),
        ]
        return Sheet(
            "Answered in time",
            _frame(svc, cols),
            cols,
            "Phone calls and chats answered within the client's contract time per month, on its service-level "
            "term's own measure (Measured on 'contract'), or within the operation's threshold where the contract "
            "has no such term ('default'): the review's tiles and Service level chart.",
            "client review: Summary, Service level",
            row_digits=dict.fromkeys(
                ("service_level", "goal"), narrative.compared_digits(svc["service_level"], svc["goal"], "share")
            ),
        )

    def email() -> Sheet | None:
        from reportlib.reports.client_review import email_threshold

        if not client.has("contacts"):
            return None
        threshold_h = email_threshold(client, P, str(client_id))  # the review's
        e = queries.email_history(client, P, m - 12, m, threshold_h)
        if not len(e) or not e["received"].sum() > 0:
            return None
        cols = [
            Column("month", "Month"),
            Column("received", "Received", "count", "email-first-response"),
            Column("responded_within", "Answered in time", "count", "email-first-response"),
            Column("service_level", "In time", "share", "email-first-response"),
            Column("mean_response_business_h", "Mean first response (business hours)", "number1", "business-calendar"),
        ]
        return Sheet(
            "Email response",
            _frame(e, cols),
            cols,
            f"Emails answered within {threshold_h:g} business hours, per month.",
            "client review: Email response",
        )

    def reasons() -> Sheet | None:
        r = queries.contact_reasons(client, m.start_time, (m + 1).start_time, without_people=True)
        if not len(r):
            return None
        frame = r.rename("contacts").rename_axis("reason").reset_index()
        cols = [Column("reason", "Reason"), Column("contacts", "Contacts", "count")]
        return Sheet(
            "Contact reasons",
            _frame(frame, cols),
            cols,
            "Contacts per reason this month.",
            "client review: Top contact reasons",
        )

    b.section("Contract terms", terms)
    b.section("Answered in time", service)
    b.section("Contacts by channel", history)
    b.section("Email response", email)
    b.section("Contact reasons", reasons)
    facts = _facts(client, P, m, {"Client id": str(client_id), "Client": client_name})
    facts.update(_contract_facts(client, P, m, facts))
    return Workbook(
        f"{client_name}: service review workbook, {month_label(m)}",
        str(m),
        b.sheets,
        facts,
        b.notes,
        str(queries.report_settings(P)["currency"]),
    )


# --- writing ---------------------------------------------------------------------------------------


def number_format(unit: str, currency: str = "$", digits: int | None = None) -> str | None:
    """The Excel number format of a unit (None for text); with `digits`, that many decimals (share: of the
    percentage)."""
    if unit == "currency":
        sym = str(currency).replace('"', "")
        return f'"{sym}"#,##0.00'
    if digits is None or unit not in ("share", "seconds", "number", "number1", "fte", "ratio"):
        return NUMBER_FORMATS.get(unit)
    decimals = "." + "0" * digits if digits > 0 else ""
    if unit == "share":
        return f"0{decimals}%"
    return f'#,##0{decimals}" s"' if unit == "seconds" else f"#,##0{decimals}"


def cell_value(value: Any, unit: str = "text") -> Any:
    """A value as the workbook stores it: numbers as numbers (missing as an empty cell), dates as dates,
    every text through `neutralise_cell` (so no text from data becomes a formula)."""
    if value is None or (not isinstance(value, str) and _is_missing(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "yes" if bool(value) else "no"
    if unit == "date" or isinstance(value, (pd.Timestamp, _dt.datetime, _dt.date)):
        ts = pd.Timestamp(value)
        return ts.tz_localize(None).to_pydatetime() if ts.tzinfo else ts.to_pydatetime()
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        v = float(value)
        return int(v) if unit == "count" and v.is_integer() and abs(v) < 2**53 else v
    # characters a workbook cannot hold (controls other than tab and line breaks) are dropped first, so
    # the neutraliser sees the text as Excel will; very long texts are cut to a cell's 32,767 characters
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))[:32767]
    return neutralise_cell(text)


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _text_width(value: Any, unit: str) -> int:
    if value is None:
        return 0
    if isinstance(value, float) and unit == "share":
        return 7
    if isinstance(value, (int, float)):
        return len(f"{value:,.2f}") + (2 if unit == "seconds" else 0)
    if isinstance(value, _dt.datetime):
        return 10
    return len(str(value))


def safe_sheet_name(name: str, taken: set[str]) -> str:
    """A sheet name Excel accepts (at most 31 characters, none of []:*?/\\), unique among `taken`."""
    base = re.sub(r"[\[\]:*?/\\]", " ", str(name)).strip("' ")[:31] or "Sheet"
    out, i = base, 2
    while out.lower() in taken:
        suffix = f" {i}"
        out, i = base[: 31 - len(suffix)] + suffix, i + 1
    taken.add(out.lower())
    return out


def write_workbook(book: Workbook, path: str | Path) -> Path:
    """Write `book` as an .xlsx file at `path` (README sheet first, then one sheet per table)."""
    from openpyxl import Workbook as XLWorkbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = XLWorkbook()
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="E8EEF4")
    defs = load_definitions()
    taken: set[str] = {"readme"}
    readme = wb.active
    readme.title = "README"
    sheet_names = [safe_sheet_name(s.name, taken) for s in book.sheets]

    def put(ws: Any, row: int, col: int, value: Any, unit: str = "text", digits: int | None = None) -> Any:
        cell = ws.cell(row=row, column=col, value=cell_value(value, unit))
        if isinstance(cell.value, str):
            cell.data_type = "s"  # never a formula, whatever the text
        fmt = number_format(unit, book.currency, digits)
        if fmt and not isinstance(cell.value, str):  # empty cells too: a figure typed in reads the same
            cell.number_format = fmt
        return cell

    # README
    r = 1
    put(readme, r, 1, book.title).font = Font(bold=True, size=14)
    r += 2
    for k, v in book.facts.items():
        put(readme, r, 1, k).font = bold
        put(readme, r, 2, v if isinstance(v, (int, float, str)) or v is None else str(v))
        r += 1
    r += 1
    put(readme, r, 1, "Sheets").font = Font(bold=True, size=12)
    r += 1
    for c, h in enumerate(("Sheet", "What it shows", "Shown in the report"), start=1):
        put(readme, r, c, h).font = bold
    r += 1
    for name, s in zip(sheet_names, book.sheets):
        put(readme, r, 1, name)
        put(readme, r, 2, s.about)
        put(readme, r, 3, s.shown_in)
        r += 1
    if book.notes:
        r += 1
        put(readme, r, 1, "Notes").font = Font(bold=True, size=12)
        r += 1
        for n in book.notes:
            put(readme, r, 1, n)
            r += 1
    r += 1
    put(readme, r, 1, "Definitions").font = Font(bold=True, size=12)
    r += 1
    put(
        readme,
        r,
        1,
        "Figures are pooled over the whole group and month (a ratio of sums, never an average of ratios). "
        "Shares are stored as fractions and shown as percentages; times in seconds unless the header says "
        "hours; money in the currency above. An empty cell is a figure with no denominator (not zero).",
    )
    r += 1
    if not defs:
        put(readme, r, 1, f"The definitions page ({DEFINITIONS_DOC}) was not found with this installation: each "
            "column's Reference names its section there.")  # fmt: skip
        r += 1
    for c, h in enumerate(("Column", "Unit", "Sheets", "Definition", "Reference"), start=1):
        put(readme, r, c, h).font = bold
    r += 1
    seen: dict[tuple[str, str | None], list[str]] = {}
    units: dict[tuple[str, str | None], str] = {}
    for name, s in zip(sheet_names, book.sheets):
        for col in s.columns:
            if col.anchor:
                key = (col.label, col.anchor)
                seen.setdefault(key, []).append(name)
                units[key] = col.unit if col.key not in s.row_units else "per row: share, seconds or number"
    for (label, anchor), where in seen.items():
        put(readme, r, 1, label)
        unit_name = {"number1": "number", "seconds_change": "seconds"}.get(
            units[(label, anchor)], units[(label, anchor)]
        )
        put(readme, r, 2, unit_name)
        put(readme, r, 3, ", ".join(dict.fromkeys(where)))
        put(readme, r, 4, defs.get(str(anchor), ""))
        put(readme, r, 5, f"{DEFINITIONS_DOC}#{anchor}")
        r += 1
    for letter, width in zip("ABCDE", (32, 60, 40, 90, 45)):
        readme.column_dimensions[letter].width = width
    for row in readme.iter_rows():
        for cell in row:
            if cell.column in (2, 4):
                cell.alignment = Alignment(wrap_text=True, vertical="top")

    # one sheet per table
    for name, s in zip(sheet_names, book.sheets):
        ws = wb.create_sheet(name)
        widths = [len(c.label) for c in s.columns]
        for j, col in enumerate(s.columns, start=1):
            cell = put(ws, 1, j, col.label)
            cell.font, cell.fill = bold, head_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for i, row in enumerate(s.frame.itertuples(index=False), start=2):
            for j, (col, value) in enumerate(zip(s.columns, row), start=1):
                unit = s.row_units[col.key][i - 2] if col.key in s.row_units else col.unit
                digits = s.row_digits[col.key][i - 2] if col.key in s.row_digits else None
                cell = put(ws, i, j, value, unit, digits)
                widths[j - 1] = max(widths[j - 1], _text_width(cell.value, unit))
        for j, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(j)].width = min(MAX_WIDTH, max(8, w + 2))
        ws.freeze_panes = "A2"
        if s.columns:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(s.columns))}{max(1, len(s.frame) + 1)}"
    path = Path(path)
    wb.save(path)
    return path
