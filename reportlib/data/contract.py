"""The data contract as code: every table of docs/data-contract.md, its columns, types, allowed values and rules.

Declared once here and used by the loaders (`load`), `validate`, the sample generator and the docs
(`contract_markdown`). Row-level checks run through pandera schemas built from these declarations;
rules pandera does not express as single-column checks (required-when, references between tables)
are declared here too and applied by `load`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pandera.pandas as pa

from reportlib.core.months import LAST_YEAR
from reportlib.core.names import ALL_QUEUES
from reportlib.core.words import in_words

# The contract and its checks, as part of every cached table's key (load._file_key): a table in the cache was
# checked by the rules of its version, so a change to what a file may hold bumps it (2: timestamp offsets
# within 23:59, dates from year 1700 to 2199; tables cached before are parsed and checked again. 3: row
# warnings across columns: handle time over logged-in time, adherence over schedule, a termination type
# without a date, an interval start off its grid. 4: a queue named "all", the name of the all-queues rows. 5: an
# arrival after the day the check runs. 6: time logged in on a day without scheduled time).
CONTRACT_VERSION = "6"

# Column kinds and how they are stored once typed.
KINDS = {
    "str": "text",
    "float": "a number",
    "int": "a whole number",
    "bool": "true or false",
    "timestamp": "an ISO 8601 timestamp",
    "date": "a date (YYYY-MM-DD)",
}


# The largest magnitude a number of a table may have (both checkers refuse a larger one): 1e15 seconds are 31
# million years, 1e15 contacts more than any operation; beyond it the figures' sums and products overflow (a wait of
# 1e308 s gave a speed of answer of 2.9e303 s, a planned volume of 1e308 an infinite handle time). A bound of
# arithmetic, not fitted to any data set.
NUMBER_LIMIT = 1e15


@dataclass(frozen=True)
class Column:
    """One column: its kind, whether the file must have it, and the rules its values follow."""

    name: str
    kind: str
    required: bool = False  # the file must have this column
    nullable: bool = True  # empty values allowed (subject to required_when)
    allowed: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    required_when: tuple[str, tuple[str, ...]] | None = None  # (column, values) -> must be filled
    unique: bool = False
    references: str | None = None  # "table.column" that must hold every value
    description: str = ""
    free_text: bool = False  # shown, never grouped or matched on (a name, a comment): kept as stored

    def limit_expectation(self) -> str:
        """What a number of this column must be, said of one at or beyond NUMBER_LIMIT."""
        return f"{self.expectation()}, under {NUMBER_LIMIT:.0e} (a larger one overflows the figures)".replace("e+", "e")

    def expectation(self) -> str:
        """Plain words for what a value must be, used in error messages."""
        if self.allowed:
            return "one of " + ", ".join(self.allowed)
        what = KINDS[self.kind]
        if self.min is not None and self.max is not None:
            return f"{what} from {self.min:g} to {self.max:g}"
        if self.min is not None:
            return f"{what} >= {self.min:g}"
        if self.max is not None:
            return f"{what} <= {self.max:g}"
        return what


@dataclass(frozen=True)
class Table:
    """One table of the contract."""

    name: str
    description: str
    columns: tuple[Column, ...]
    required: bool = True  # the source must have it (see `required_tables`)
    unique_together: tuple[str, ...] = ()
    rules: tuple[str, ...] = field(default=())  # names of its row rules (contract.table_rules), errors and warnings

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


C = Column
_CHANNELS = ("phone", "email", "chat")
_HANDLED_OR_ABANDONED = ("handled", "abandoned")

TABLES: dict[str, Table] = {
    "contacts": Table(
        "contacts",
        "One row per contact (call, email or chat).",
        (
            C("contact_id", "str", True, False, unique=True, description="unique id"),
            C("channel", "str", True, False, allowed=_CHANNELS),
            C("queue", "str", True, False, description="skill or queue"),
            C(
                "client_id",
                "str",
                True,
                False,
                references="clients.client_id",
                description="the employer client the contact is about",
            ),
            C("arrived_at", "timestamp", True, False, description="entered the queue (email: received)"),
            C("outcome", "str", True, False, allowed=("handled", "abandoned", "open")),
            C(
                "wait_s",
                "float",
                True,
                min=0,
                required_when=("outcome", _HANDLED_OR_ABANDONED),
                description="seconds queued before answer (email: to first response) or before abandoning",
            ),
            C(
                "handle_s",
                "float",
                True,
                min=0,
                required_when=("outcome", ("handled",)),
                description="talk + hold + after-contact work, seconds",
            ),
            C(
                "agent_id",
                "str",
                True,
                required_when=("outcome", ("handled",)),
                references="agents.agent_id",
                description="who handled it",
            ),
            C("resolved_first_contact", "bool"),
            C("escalated", "bool"),
            C("transferred", "bool"),
            C("csat", "int", min=1, max=5, description="post-contact survey 1..5"),
            C("reason", "str"),
            C("caller_id", "str", description="who called; enables repeat-contact FCR"),
        ),
        required=False,  # required unless intervals is given: see required_tables
        rules=("arrival_not_in_future", "long_handle", "long_wait", "queue_not_reserved"),
    ),
    "intervals": Table(
        "intervals",
        "One row per queue per interval: the alternative to contacts.",
        (
            C("interval_start", "timestamp", True, False),
            C("interval_minutes", "int", True, False, allowed=None, min=1, max=60, description="5, 6, 15, 30 or 60"),
            C("channel", "str", True, False, allowed=_CHANNELS),
            C("queue", "str", True, False),
            C("client_id", "str", references="clients.client_id"),
            C("offered", "float", True, False, min=0),
            C("handled", "float", min=0),
            C("abandoned", "float", min=0),
            C("answered_within_threshold", "float", min=0),
            C("threshold_s", "float", min=0),
            C(
                "wait_s_total",
                "float",
                min=0,
                description="seconds answered contacts queued before answer, summed (ASA = wait_s_total / handled)",
            ),
            C("handle_s_total", "float", min=0),
            C(
                "abandon_wait_s_total",
                "float",
                min=0,
                description="seconds abandoning callers queued before hanging up, summed: with wait_s_total, "
                "caller patience for Erlang A",
            ),
        ),
        required=False,
        unique_together=("interval_start", "channel", "queue", "client_id"),
        rules=(
            "interval_minutes_allowed",
            "interval_on_grid",
            "whole_offered",
            "whole_handled",
            "whole_abandoned",
            "queue_not_reserved",
        ),
    ),
    "agents": Table(
        "agents",
        "The roster: one row per person ever employed. It holds one team and one supervisor per agent, with no "
        "date from which they hold: every month, past ones too, is grouped by the roster as given, so an agent moved "
        "to another team takes their past months' figures there (a past month's team figures as sent are in that "
        "month's reports and workbook; keep them, or the roster of the month, to compare). A person rehired is a "
        "second row with an agent_id of its own: each row is one spell of employment, counted as a hire and, when "
        "it ends, a leaver, and tenure is the spell's.",
        (
            C("agent_id", "str", True, False, unique=True),
            C("name", "str", True, False, free_text=True),
            C("team", "str", True, False),
            C("supervisor", "str"),
            C("site", "str"),
            C("role", "str", allowed=("agent", "lead", "supervisor")),
            C("hire_date", "date", True, False),
            C("termination_date", "date", description="empty while employed"),
            C("termination_type", "str", allowed=("voluntary", "involuntary"), description="filled when terminated"),
            C("termination_reason", "str"),
            C("regretted", "bool"),
            C("fte", "float", min=0, max=1),
            C("hourly_cost", "float", min=0, description="loaded cost per hour, currency units"),
        ),
        rules=("termination_after_hire", "termination_type_when_terminated", "termination_type_without_date"),
    ),
    "agent_activity": Table(
        "agent_activity",
        "One row per agent per day: paid time and how it was spent, in seconds.",
        (
            C("date", "date", True, False),
            C("agent_id", "str", True, False, references="agents.agent_id"),
            C("scheduled_s", "float", True, False, min=0, max=86400),
            C("logged_in_s", "float", min=0, max=86400),
            C("handle_s", "float", min=0, max=86400),
            C("available_s", "float", min=0, max=86400),
            C("aux_break_s", "float", min=0, max=86400),
            C("aux_meeting_s", "float", min=0, max=86400),
            C("aux_training_s", "float", min=0, max=86400),
            C("aux_coaching_s", "float", min=0, max=86400),
            C("aux_other_s", "float", min=0, max=86400),
            C("absent_unplanned", "bool"),
            C("in_adherence_s", "float", min=0, max=86400),
        ),
        required=False,
        unique_together=("date", "agent_id"),
        rules=("handle_within_logged_in", "adherence_within_schedule", "logged_in_with_schedule"),
    ),
    "qa_evaluations": Table(
        "qa_evaluations",
        "Quality evaluations of agents' contacts.",
        (
            C("evaluation_id", "str", True, False, unique=True),
            C("agent_id", "str", True, False, references="agents.agent_id"),
            C("evaluated_at", "timestamp", True, False),
            C("contact_id", "str"),
            C("score", "float", True, False, min=0, max=100),
            C("critical_error", "bool"),
            C(
                "comment",
                "str",
                description="the evaluator's comment, shown escaped in the agent's 1:1 review",
                free_text=True,
            ),
        ),
        required=False,
    ),
    "interval_plan": Table(
        "interval_plan",
        "Optional: the intraday plan a WFM tool exports, one row per queue per interval (for plan vs actual; "
        "without it the plan is the forecast vintage archived before the month).",
        (
            C("interval_start", "timestamp", True, False),
            C("interval_minutes", "int", True, False, min=1, max=60, description="5, 6, 15, 30 or 60"),
            C("channel", "str", True, False, allowed=_CHANNELS),
            C("queue", "str", True, False),
            C("forecast_offered", "float", True, False, min=0, description="contacts forecast to be offered"),
            C("forecast_aht_s", "float", True, min=0, description="forecast average handle time, seconds"),
            C(
                "planned_agents",
                "float",
                True,
                False,
                min=0,
                description="agents planned on the queue in the interval, net of planned shrinkage",
            ),
        ),
        required=False,
        unique_together=("interval_start", "channel", "queue"),
        rules=("interval_minutes_allowed", "interval_on_grid", "queue_not_reserved"),
    ),
    "interval_staffing": Table(
        "interval_staffing",
        "Optional: agents actually on each queue per interval (for plan vs actual; without it the staffing "
        "effect is not measurable from daily activity data).",
        (
            C("interval_start", "timestamp", True, False),
            C("interval_minutes", "int", True, False, min=1, max=60, description="5, 6, 15, 30 or 60"),
            C("channel", "str", True, False, allowed=_CHANNELS),
            C("queue", "str", True, False),
            C(
                "staffed_agents",
                "float",
                True,
                False,
                min=0,
                description="average agents logged in on the queue and not in auxiliary states",
            ),
            C(
                "scheduled_agents",
                "float",
                min=0,
                description="average agents scheduled on the queue (splits staffing into schedule and attendance)",
            ),
        ),
        required=False,
        unique_together=("interval_start", "channel", "queue"),
        rules=("interval_minutes_allowed", "interval_on_grid", "queue_not_reserved"),
    ),
    "clients": Table(
        "clients",
        "The employer clients and the SLA contract each one has.",
        (
            C("client_id", "str", True, False, unique=True),
            C("client_name", "str", True, False, free_text=True),
            C("tier", "str"),
            C("sla_profile", "str", True, False, description="key of an SLA profile in parameters"),
            C("monthly_fee", "float", min=0, description="contract fee per month, for penalties at risk"),
        ),
    ),
}

INTERVAL_MINUTES = (5, 6, 15, 30, 60)
FILE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".xlsx", ".csv.gz")


def roster_alone(present: set[str]) -> bool:
    """Whether a source holds the agents table and no other contract table: an HR roster, as `reportlib
    import-hr` writes it. It is a source of its own, for `reportlib attrition` and the attrition report, which
    need no other table; the monthly run says what it lacks (`delivery.run.check_source`)."""
    return present & set(TABLES) == {"agents"}


def required_tables(present: set[str]) -> list[str]:
    """The tables a source must have: agents and clients, and contacts unless intervals is given; the agents
    table alone for a roster (`roster_alone`)."""
    if roster_alone(present):
        return ["agents"]
    need = ["agents", "clients"]
    if "intervals" not in present:
        need.insert(0, "contacts")
    return need


def missing_table_text(name: str, expected: str, location: str | None = None) -> str:
    """The message for a required table a source lacks (`required_tables`), one wording for every source: what
    would have been read (`expected`: "a file contacts.csv, .parquet or .xlsx", "a table contacts") and where."""
    hint = " (or an intervals table)" if name == "contacts" else ""
    return f"required table is missing{hint}; expected {expected}" + (f" in {location}" if location else "")


@dataclass(frozen=True)
class Rule:
    """A rule over whole rows that single-column declarations do not express.

    `bad(t)` is a boolean column that is true where a row breaks the rule, written against an ibis
    table `t` (column attributes, comparisons, isnull/notnull/isin, floor, length, re_search), so it
    runs in any engine (`engine_check`). `expected` is the message text, `column` the column it names
    (and whose value is shown when `show_value`); warnings do not make a source unusable.
    """

    name: str
    column: str
    expected: str
    bad: Callable[[Any], Any]
    severity: str = "error"
    show_value: bool = True


def _id_rules(column: str) -> tuple[Rule, ...]:
    from reportlib.core.safety import MAX_ID_LENGTH, SAFE_ID

    return (
        Rule(
            "id_length",
            column,
            f"an id of at most {MAX_ID_LENGTH} characters (a longer id cannot be put into an e-mail "
            f"address; its report file name is shortened)",
            lambda t: t[column].length() > MAX_ID_LENGTH,
            severity="warning",
        ),
        Rule(
            "id_safe",
            column,
            "an id of letters, digits, '-', '_' and '.' only, not starting with '.' (other characters, and a "
            "leading dot, which hides a file, are unsafe in file names and e-mail addresses)",
            lambda t: (
                (t[column].length() <= MAX_ID_LENGTH)
                & (~t[column].re_search(f"^(?:{SAFE_ID.pattern})$") | t[column].startswith("."))
            ),
            severity="warning",
        ),
    )


def _fractional(column: str) -> Callable[[Any], Any]:
    """A rule predicate: `column` holds a number with a fractional part. A double of magnitude 2**53 or
    more is always whole, and is left out before the floor is cast to an integer (which it overflows:
    a conversion error in DuckDB, not a problem line)."""

    def bad(t: Any) -> Any:
        x = (t[column].abs() < 2**53).ifelse(t[column], 0.0)
        return t[column].notnull() & (x.floor().cast("float64") != x)

    return bad


def _off_grid(start: Any, minutes: Any) -> Any:
    """A rule predicate: `start` (local wall time) is not a multiple of `minutes` past midnight. Only for
    an allowed length (another one is the error of rule interval_minutes_allowed); the divisor is 1
    otherwise, so that no engine divides by 0 (SQL does not promise to skip the other side of an AND)."""
    allowed = minutes.isin(INTERVAL_MINUTES)
    past_midnight = start.hour() * 60 + start.minute()
    return allowed & ((past_midnight % allowed.ifelse(minutes, 1) != 0) | (start.second() != 0))


def table_rules(name: str, today: str | None = None) -> list[Rule]:
    """The row rules of contract table `name`: those its `Table.rules` names, in order, then the id rules.
    `today` (YYYY-MM-DD, UTC; default now) dates the rule that no contact arrives in the future.

    Declared once for every source: the folder checker (`load.check_table`) evaluates them with DuckDB over
    its typed rows, `engine_check` in the database's engine. An error stops the reports; a warning keeps
    the value as given and is counted in the data-quality note.
    """
    import ibis

    # A contact cannot arrive after the check runs: one dated 2030 made the data's end 2030, so every email still
    # open at the export read as missed, and the default month went to 2029-12. Two days of slack cover any time
    # zone between the machine's clock and the operation's local times (UTC-12..+14) without naming the zone.
    day = pd.Timestamp(today) if today else pd.Timestamp.now(tz="UTC").tz_localize(None)
    latest = (day.normalize() + pd.Timedelta(days=2)).date()
    declared = (
        Rule(
            "arrival_not_in_future",
            "arrived_at",
            "an arrival before the day after tomorrow, when the check runs (a contact cannot arrive in the future: "
            "a date typed wrong)",
            lambda t: (
                (t.arrived_at >= ibis.timestamp(f"{latest:%Y-%m-%d}"))
                & (t.arrived_at < ibis.timestamp(f"{LAST_YEAR + 1}-01-01"))
            ),  # a year past LAST_YEAR is named as such
        ),
        Rule(
            "termination_type_without_date",
            "termination_type",
            "empty while termination_date is empty (kept as given: the agent counts as employed)",
            lambda t: t.termination_date.isnull() & t.termination_type.notnull(),
            severity="warning",
        ),
        Rule(
            "handle_within_logged_in",
            "handle_s",
            "a handle time no longer than logged_in_s (kept as given)",
            lambda t: t.handle_s > t.logged_in_s,
            severity="warning",
        ),
        Rule(
            "adherence_within_schedule",
            "in_adherence_s",
            "no more than scheduled_s (kept as given: adherence over 100%)",
            lambda t: t.in_adherence_s > t.scheduled_s,
            severity="warning",
        ),
        Rule(
            "logged_in_with_schedule",
            "scheduled_s",
            "above 0 on a day with time logged in (kept as given: the day counts in occupancy and utilization, and its"
            " handling and available time, against no schedule, lower the team's shrinkage; a schedule missing from"
            " the export, or overtime on a day off)",
            lambda t: (t.scheduled_s == 0) & (t.logged_in_s > 0),
            severity="warning",
        ),
        Rule(
            "interval_on_grid",
            "interval_start",
            "a start on the grid of its interval_minutes in local time (09:00, 09:15, ... for 15; kept as given)",
            lambda t: _off_grid(t.interval_start, t.interval_minutes),
            severity="warning",
        ),
        Rule(
            "long_handle",
            "handle_s",
            "a handle time under 4 hours (kept as given)",
            lambda t: (t.handle_s > 4 * 3600) & (t.handle_s < NUMBER_LIMIT),  # a larger one is refused, not warned
            severity="warning",
        ),
        Rule(
            "long_wait",
            "wait_s",
            "a wait under 4 hours on phone and chat, under 30 days on email (kept as given)",
            lambda t: (
                (t.wait_s < NUMBER_LIMIT)  # a larger one is refused, not warned
                & (
                    ((t.channel != "email") & (t.wait_s > 4 * 3600))
                    | ((t.channel == "email") & (t.wait_s > 30 * 86400))
                )
            ),
            severity="warning",
        ),
        *(
            Rule(
                f"whole_{col}",
                col,
                "a whole count (fractional counts kept as given)",
                _fractional(col),
                severity="warning",
            )
            for col in ("offered", "handled", "abandoned")
        ),
        Rule(
            "termination_after_hire",
            "termination_date",
            "a date on or after hire_date",
            lambda t: t.termination_date < t.hire_date,
        ),
        Rule(
            "termination_type_when_terminated",
            "termination_type",
            "voluntary or involuntary when termination_date is set",
            lambda t: t.termination_date.notnull() & t.termination_type.isnull(),
            show_value=False,
        ),
        Rule(
            "queue_not_reserved",
            "queue",
            f"a queue name other than {ALL_QUEUES!r}, the name of the rows for every queue together "
            "(plan vs actual, the forecast's backtest): rename the queue",
            lambda t: t.queue == ALL_QUEUES,
        ),
        Rule(
            "interval_minutes_allowed",
            "interval_minutes",
            "one of " + ", ".join(map(str, INTERVAL_MINUTES)),
            # a length outside 1..60 is the column's range error alone: one cell, one problem
            lambda t: t.interval_minutes.between(1, 60) & ~t.interval_minutes.isin(INTERVAL_MINUTES),
        ),
    )
    named = {rule.name: rule for rule in declared}
    rules = [named[r] for r in TABLES[name].rules]
    if name in ("agents", "clients"):
        rules += _id_rules("agent_id" if name == "agents" else "client_id")
    return rules


def rule_columns(rule: Rule, name: str) -> frozenset[str]:
    """The columns of contract table `name` that `rule` reads (from its ibis predicate): a source whose
    table lacks one of them (an optional column) cannot be checked by the rule."""
    import ibis
    import ibis.expr.operations as ops

    unbound = ibis.table(engine_types(name), name=name)
    return frozenset(f.name for f in rule.bad(unbound).op().find(ops.Field))


def key_columns(name: str) -> tuple[str, ...]:
    """The columns that identify a row of contract table `name` (its primary key in a database): the
    unique columns, else `unique_together`. Database checks name offending rows by these."""
    table = TABLES[name]
    unique = tuple(c.name for c in table.columns if c.unique)
    return unique or table.unique_together


def _checks(col: Column) -> list[pa.Check]:
    checks: list[pa.Check] = []
    expected = col.expectation()
    if col.allowed:
        checks.append(pa.Check.isin(list(col.allowed), error=expected))
    if col.min is not None:
        checks.append(pa.Check.ge(col.min, error=expected))
    if col.max is not None:
        checks.append(pa.Check.le(col.max, error=expected))
    return checks


def pandera_schema(table: Table) -> pa.DataFrameSchema:
    """A pandera schema for a typed frame of `table`: values, ranges, nulls and uniqueness."""
    cols = {}
    for col in table.columns:
        cols[col.name] = pa.Column(
            nullable=col.nullable,
            checks=_checks(col),
            unique=col.unique,
            required=False,
            coerce=False,
        )
    return pa.DataFrameSchema(cols, name=table.name)


def empty_frame(table: Table) -> pd.DataFrame:
    """A zero-row frame with the typed columns of `table`."""
    return pd.DataFrame({c.name: pd.Series(dtype=PANDAS_DTYPES[c.kind]) for c in table.columns})


PANDAS_DTYPES = {
    "str": "object",
    "float": "float64",
    "int": "Int64",
    "bool": "boolean",
    "timestamp": "datetime64[us]",
    "date": "datetime64[us]",
}


# The engine (ibis) type of each column kind, for typed null columns where an optional column is absent.
ENGINE_TYPES = {
    "str": "string",
    "float": "float64",
    "int": "int64",
    "bool": "boolean",
    "timestamp": "timestamp",
    "date": "date",
}


def engine_types(table: str) -> dict[str, str]:
    """Column name -> ibis type name for every column of contract table `table`."""
    return {c.name: ENGINE_TYPES[c.kind] for c in TABLES[table].columns}


def contract_markdown() -> str:
    """The contract as Markdown tables (for docs/data-contract.md)."""
    lines = [
        "# Data contract",
        "",
        "Generated from `reportlib/data/contract.py`. Check a source with "
        "`reportlib validate --data DIR`. Adapters that map real exports into it: "
        "[Anonymous Bank call-centre files](data-contract-bank.md), "
        "[HR data set v14](data-contract-hr.md).",
        "",
        "A source holds contacts (or intervals), agents and clients; the other tables are optional. A source "
        "whose one table is agents (an HR roster, as `reportlib import-hr` writes it) is valid too: `reportlib "
        "attrition` and the attrition report run on it, and the other reports and commands say which table "
        "they lack.",
        "",
        "Files: one per table, named after it (`contacts.csv`, `.tsv`, `.txt`, `.csv.gz`, "
        "`.parquet` or `.xlsx`). Timestamps are ISO 8601; without an offset they are local "
        "time in the configured time zone; an offset is at most 23:59 (RFC 3339). Timestamps and "
        "dates lie from year 1700 to 2199 (inside the nanosecond range pandas computes in). Booleans: true/false (also yes/no, 1/0). "
        "Empty cells are missing values. A number is under 1e15 in magnitude (a larger one would overflow the "
        "figures). Times are kept as local wall time, so the two passes of the hour the "
        "clocks go back share one local time: an interval table that has a row for each (a round-the-clock "
        "export across that night) holds two rows with one key there, which `reportlib validate` names as such; "
        "merge each pair into one row (counts summed, agents and times averaged), as contacts in that hour are counted in one "
        "local interval; plan vs actual then reads such a row as twice its interval_minutes of real time "
        "(`variance.real_minutes`). An interval start or a contact's arrival without an offset in the hour the clocks "
        "go forward, which no clock shows, is warned of and kept as given (`load.skipped_local_times`); give such "
        "times with their offset (a database load reads them as the hour after). Business time between a contact's "
        'own times is real time, also across a change of the clocks (docs/definitions.md, "Business calendar").',
        "",
        "Across tables, besides the references below, `reportlib validate` warns (values kept as given) about "
        "agents whose contacts fall on a local day before their hire_date or after their termination_date: "
        "one line per column, naming the agents' roster rows (in a database, their agent_id), the first or last "
        "contact day and how many contacts lie outside (`engine_check.employment_problems`); and about names "
        "that look alike (letter case, Unicode form, invisible characters or Cyrillic and Greek letters drawn like Latin ones: a queue across the tables that have "
        "one, a team, a client_id, an agent_id), each a name of its own in every figure "
        "(`engine_check.spelling_problems`).",
        "",
    ]
    for table in TABLES.values():
        lines += [f"## {table.name}", "", table.description, ""]
        lines += ["| column | type | required | rule | meaning |", "|---|---|---|---|---|"]
        for c in table.columns:
            req = "yes" if c.required and not c.nullable else ("column" if c.required else "no")
            rule = []
            if c.allowed or c.min is not None or c.max is not None:
                rule.append(c.expectation())
            if c.required_when:
                rule.append(f"filled when {c.required_when[0]} is {' or '.join(c.required_when[1])}")
            if c.unique:
                rule.append("unique")
            if c.references:
                rule.append(f"must exist in {c.references}")
            lines.append(f"| {c.name} | {c.kind} | {req} | {'; '.join(rule)} | {c.description} |")
        if table.unique_together:
            lines += ["", f"Unique together: {', '.join(table.unique_together)}."]
        if "interval_start" in table.unique_together:
            series = in_words(k for k in table.unique_together if k != "interval_start")
            lines[-1] += (
                f" Rows with the same {series} must not overlap in time (error: a 60-minute row beside its 30-minute "
                "rows counts their contacts and agents twice); their lengths may differ "
                "(`engine_check.overlap_problem`)."
            )
        rules = table_rules(table.name)
        if rules:
            lines += ["", "Row rules (an error stops the reports; a warning keeps the value and is counted):", ""]
            lines += [f"- {r.column}: {r.expected} ({r.severity})" for r in rules]
        lines.append("")
    return "\n".join(lines)
