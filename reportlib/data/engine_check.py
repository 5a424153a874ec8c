"""`validate` for tables in a database (DuckDB, PostgreSQL, Spark): the contract checked in the engine.

Driven by the same declarations as the folder checker (`contract.TABLES`: kinds, required columns,
allowed values, ranges, required-when, uniqueness, references; `contract.table_rules`: the row rules
and warnings), expressed as ibis expressions, so they run as SQL where the data lives. A database has
no row numbers: offending rows are named by their key (`contract.key_columns`, e.g. `contact_id=C123`)
with a count. Only counts and the first `MAX_KEYS_SHOWN` keys come back, never a table: one aggregate
query per table counts every single-row check at once, then one small query per problem found fetches
its first keys (ordered by key), and uniqueness and references are one grouped or anti-joined count each.

Lines read like the folder checker's, the key in place of the row:

    contacts (db table public.contacts), column wait_s: expected a number >= 0 in 3 rows (first keys: contact_id=C1 ("-12"), ...)
    contacts (db table public.contacts) contact_id=C1, column wait_s: expected a number >= 0, got "-12"
"""

from __future__ import annotations

import datetime as _dt
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reportlib.core.months import FIRST_YEAR, LAST_YEAR
from reportlib.core.safety import as_latin, printable
from reportlib.core.words import in_words, noun_for
from reportlib.data.contract import (
    KINDS,
    NUMBER_LIMIT,
    TABLES,
    Column,
    key_columns,
    missing_table_text,
    required_tables,
    rule_columns,
    table_rules,
)
from reportlib.data.source import Problem, located

MAX_KEYS_SHOWN = 5

# White space a data folder's cells are trimmed of (pyarrow's utf8_trim_whitespace: Unicode's White_Space and the
# separators \x1c-\x1f): as a regular-expression class every engine reads alike (\s is ASCII white space in RE2,
# Java and PostgreSQL, but RE2's lacks \v). Control characters are written as regex escapes (\x0b): the SQL of
# Spark carries a raw one as an escape of its own, which Java read as other characters (it refused "voluntary");
# the others are written as themselves. A database's text is read as stored, so a value with any of them at either
# end is a different key, queue or category than the same file's.
_WHITE = "[\\s\\x0b\\x1c-\\x1f\\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
PADDED = f"^{_WHITE}|{_WHITE}$"


def compatible(kind: str, dtype: Any) -> bool:
    """Whether an engine column of ibis type `dtype` can hold contract kind `kind`."""
    if kind == "str":
        return dtype.is_string()
    if kind == "float":
        return dtype.is_numeric() and not dtype.is_boolean()
    if kind == "int":
        return dtype.is_integer() or dtype.is_floating() or dtype.is_decimal()
    if kind == "bool":
        return dtype.is_boolean()
    if kind == "timestamp":
        return dtype.is_timestamp()
    if kind == "date":
        return dtype.is_date() or dtype.is_timestamp()
    raise ValueError(kind)


def show(value: Any) -> str | None:
    """A stored value as text for a message (None for a missing one), cut to 60 characters."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return "nan"  # a value of a float column (as a folder's message says it), not a missing one
    try:
        import pandas as pd

        if value is pd.NaT or (not isinstance(value, str) and pd.isna(value)):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, float):
        text = f"{value:.15g}" if math.isfinite(value) else str(value)
    elif isinstance(value, _dt.datetime):
        text = value.isoformat(sep=" ")
    elif isinstance(value, _dt.date):
        text = value.isoformat()
    elif hasattr(value, "isoformat"):  # pandas Timestamp
        text = value.isoformat(sep=" ")
    else:
        text = str(value)
    text = printable(text)  # a tab, a newline or a no-break space written as its escape: never hidden
    return text if len(text) <= 60 else text[:57] + "..."


def _key_text(record: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    return " ".join(f"{k}={show(record[k]) if show(record[k]) is not None else '(empty)'}" for k in keys)


def _empty(t: Any, col: Column) -> Any:
    """True where a cell is missing (NULL, or blank text: the folder reads blank cells as missing)."""
    value = t[col.name]
    if col.kind == "str":
        return value.isnull() | (value.strip() == "")
    if col.kind == "float" and t.schema()[col.name].is_floating():  # an integer or decimal column has no NaN
        return value.isnull() | value.isnan()
    return value.isnull()


@dataclass
class _Check:
    column: str | None
    expected: str
    bad: Any  # boolean column expression over the table
    value: str | None  # the column whose value is shown
    severity: str = "error"


def in_years(value: Any, kind: str = "timestamp") -> Any:
    """True where a timestamp (or date) column's value lies in years FIRST_YEAR..LAST_YEAR (false for NULL and for
    PostgreSQL's or DuckDB's ±infinity, which no later query may fetch: Arrow and pandas cannot hold them)."""
    import ibis

    lit = ibis.timestamp if kind == "timestamp" else ibis.date
    return (value >= lit(f"{FIRST_YEAR}-01-01")) & (value < lit(f"{LAST_YEAR + 1}-01-01"))


_PADDED_TEXT = (
    "no white space before or after the text (a data folder's cells are read trimmed, a database's as stored: "
    "trim the column)"
)


def _row_checks(t: Any, name: str, usable: dict[str, Column]) -> list[_Check]:
    """Every single-row check of table `name` over the columns that exist with a usable type."""

    checks: list[_Check] = []
    for col in usable.values():
        value = t[col.name]
        empty = _empty(t, col)
        if not col.nullable:
            checks.append(_Check(col.name, "a value (it must not be empty)", empty, None))
        if col.kind == "str" and not col.free_text:
            padded = value.re_search(PADDED)
            checks.append(_Check(col.name, _PADDED_TEXT, value.notnull() & ~empty & padded, col.name))
        if col.kind in ("timestamp", "date"):
            # years FIRST_YEAR..LAST_YEAR, as the folder reads them; the value is not shown: PostgreSQL's
            # 'infinity' cannot be fetched
            out_of_range = value.notnull() & ~in_years(value, col.kind)
            checks.append(
                _Check(col.name, f"{KINDS[col.kind]} from year {FIRST_YEAR} to {LAST_YEAR}", out_of_range, None)
            )
        if col.kind == "float" and t.schema()[col.name].is_floating():
            checks.append(_Check(col.name, col.expectation(), value.isinf(), col.name))
        if col.kind in ("float", "int"):
            checks.append(_Check(col.name, col.limit_expectation(), value.abs() >= NUMBER_LIMIT, col.name))
        if col.kind == "int" and not t.schema()[col.name].is_integer():
            # floor() is cast to a 64-bit integer in SQL, which fails on NaN, infinity and 9.2e18 or more: those are
            # flagged as themselves (NaN here, the others by the limit) and given floor 0
            odd = (
                value.isnan() | value.isinf() | (value.abs() >= NUMBER_LIMIT)
                if t.schema()[col.name].is_floating()
                else None
            )
            safe = value if odd is None else odd.ifelse(0.0, value)
            frac = value.notnull() & (safe.floor().cast("float64") != safe.cast("float64"))
            if odd is not None:
                frac = (frac & ~odd) | (value.notnull() & value.isnan())
            checks.append(_Check(col.name, col.expectation(), frac, col.name))
        if col.allowed:
            checks.append(_Check(col.name, col.expectation(), ~empty & ~value.isin(list(col.allowed)), col.name))
        bounds = []
        if col.min is not None:
            bounds.append(value < col.min)
        if col.max is not None:
            bounds.append(value > col.max)
        if bounds:
            out = bounds[0] if len(bounds) == 1 else bounds[0] | bounds[1]
            checks.append(_Check(col.name, col.expectation(), ~empty & out, col.name))
        if col.required_when:
            other, values = col.required_when
            if other in usable:
                need = t[other].isin(list(values)) & empty
                checks.append(
                    _Check(col.name, f"a value when {other} is {' or '.join(values)} (it is empty)", need, None)
                )
    for rule in table_rules(name):
        if rule_columns(rule, name) <= set(usable):
            shown = rule.column if rule.show_value else None
            checks.append(_Check(rule.column, rule.expected, rule.bad(t), shown, rule.severity))
    return checks


def _first(t: Any, bad: Any, keys: tuple[str, ...], value: str | None) -> list[dict]:
    cols = list(dict.fromkeys([*keys, *([value] if value else [])]))
    rows = t.filter(bad).select(*cols).order_by(list(keys)).limit(MAX_KEYS_SHOWN).to_pyarrow().to_pylist()
    return rows


def missing_columns(name: str, schema: Any, where: str) -> Problem | None:
    """The problem of contract table `name` whose engine `schema` lacks required columns, naming the columns it
    has (a misspelt handle_sec or a "Wait_S" is seen at once), or None."""
    missing = [c.name for c in TABLES[name].columns if c.required and c.name not in schema]
    if not missing:
        return None
    found = ", ".join(schema.names)
    found = found if len(found) <= 200 else found[:197] + "..."
    return Problem(
        where, None, f"missing required {noun_for(len(missing), 'column')}: {', '.join(missing)} (found: {found})"
    )


def _check_one(t: Any, name: str, where: str) -> tuple[list[Problem], dict[str, Column]]:
    """The problems of one table, and its usable columns (present, of a compatible type)."""
    problems: list[Problem] = []
    table = TABLES[name]
    schema = t.schema()
    lacking = missing_columns(name, schema, where)
    if lacking:
        problems.append(lacking)
        return problems, {}
    usable: dict[str, Column] = {}
    for col in table.columns:
        if col.name not in schema:
            continue
        if not compatible(col.kind, schema[col.name]):
            problems.append(
                Problem(where, col.name, f"expected {KINDS[col.kind]}; the column's type is {schema[col.name]}")
            )
            continue
        usable[col.name] = col
    keys = tuple(k for k in key_columns(name) if k in usable)
    if not keys:
        keys = tuple(usable)[:1]
    checks = _row_checks(t, name, usable)
    if checks:
        counts = (
            t.aggregate(n=t.count(), **{f"c{i}": c.bad.ifelse(1, 0).sum() for i, c in enumerate(checks)})
            .to_pyarrow()
            .to_pylist()[0]
        )
        if not counts["n"]:
            problems.append(Problem(where, None, "the table has no rows"))
        for i, c in enumerate(checks):
            n = int(counts[f"c{i}"] or 0)
            if n:
                first = _first(t, c.bad, keys, c.value)
                problems.append(
                    Problem(
                        where,
                        c.column,
                        c.expected,
                        keys=[_key_text(r, keys) for r in first],
                        values=[show(r[c.value]) if c.value else None for r in first],
                        count=n,
                        severity=c.severity,
                    )
                )
    unique = _uniqueness(t, table, usable, keys, where)
    overlap = None if unique else overlap_problem(t.select(*usable), name, where)
    return problems + unique + ([overlap] if overlap else []), usable


def _uniqueness(t: Any, table: Any, usable: dict[str, Column], keys: tuple[str, ...], where: str) -> list[Problem]:
    out = []
    groups = [((c.name,), "a unique value (this one appears more than once)") for c in table.columns if c.unique]
    if table.unique_together and all(c in usable for c in table.unique_together):
        together = tuple(table.unique_together)
        groups.append((together, "one row per " + " and ".join(together) + " (duplicate rows)"))
    for cols, expected in groups:
        if not all(c in usable for c in cols):
            continue
        present = t
        if len(cols) == 1:
            present = t.filter(~_empty(t, usable[cols[0]]))
        dup = present.group_by(list(cols)).aggregate(rows=present.count()).filter(lambda g: g.rows > 1)
        total = dup.aggregate(n=dup.rows.sum()).to_pyarrow().to_pylist()[0]["n"]
        if not total:
            continue
        first = dup.order_by(list(cols)).limit(MAX_KEYS_SHOWN).to_pyarrow().to_pylist()
        out.append(
            Problem(
                where,
                ", ".join(cols),
                expected,
                keys=[_key_text(r, cols) for r in first],
                values=[f"{r['rows']:,} rows" for r in first],
                count=int(total),
            )
        )
    return out


def overlap_problem(t: Any, name: str, where: str, row: str | None = None) -> Problem | None:
    """The error for rows of an interval table (one keyed by interval_start, with interval_minutes) that start
    before an earlier row of the same series ends (the key's other columns: channel, queue and, in intervals, the
    client): 09:00 for 30 minutes beside 09:15 for 15 counts 09:15-09:30 twice (a probe's 40 offered contacts read
    as 80, with validate silent). Mixed lengths that do not overlap are fine (an export that moves from 30- to
    15-minute intervals). Times are local wall time, as kept: the hour the clocks go back is one merged row (the
    data contract), the hour they skip a gap. A start repeated exactly is a duplicate key, named by uniqueness,
    not here: the check runs where no key repeats. One window query in the engine (a running maximum of the ends
    before each row; 3.5 million rows of a file in 4.9 s); only the count and the first rows come back, named by
    key, or by `row` (a column of spreadsheet row numbers, for a file)."""
    table = TABLES[name]
    if not {"interval_start", "interval_minutes"} <= set(t.columns) or "interval_start" not in table.unique_together:
        return None
    import ibis

    series = [k for k in table.unique_together if k != "interval_start" and k in t.columns]  # client_id: optional
    t = t.filter(t.interval_start.notnull() & t.interval_minutes.notnull())
    earlier = ibis.window(group_by=series, order_by=[t.interval_start, t.interval_minutes], rows=(None, -1))
    end = t.interval_start + t.interval_minutes.cast("int64").as_interval("m")  # a database may store a DOUBLE
    t = t.mutate(_earlier_end=end.max().over(earlier))
    bad = t.filter(t.interval_start < t._earlier_end)
    count = int(bad.count().to_pyarrow().as_py() or 0)
    if not count:
        return None
    order = [row] if row else [*series, "interval_start"]
    first = bad.order_by(order).limit(MAX_KEYS_SHOWN).to_pyarrow().to_pylist()
    keys = [k for k in table.unique_together if k in t.columns]
    return Problem(
        where,
        "interval_start",
        f"a start at or after the end of the earlier rows of its {in_words(series)} (rows that overlap in time "
        "count the same minutes twice: a 60-minute row beside its 30-minute rows counts their contacts and agents "
        "twice; lengths may differ, but not overlap)",
        rows=[int(r[row]) for r in first] if row else [],
        keys=[] if row else [_key_text(r, tuple(keys)) for r in first],
        values=[
            f"{show(r['interval_start'])} for {r['interval_minutes']} min, while an earlier row runs to "
            f"{show(r['_earlier_end'])}"
            for r in first
        ],
        count=count,
    )


def _references(
    tables: Mapping[str, Any], usable: Mapping[str, dict[str, Column]], wheres: Mapping[str, str]
) -> list[Problem]:
    out = []
    for name, t in tables.items():
        for col in usable.get(name, {}).values():
            if not col.references:
                continue
            ref_table, ref_col = col.references.split(".")
            if ref_table not in tables or ref_col not in usable.get(ref_table, {}):
                continue
            ref = tables[ref_table]
            known = ref.filter(ref[ref_col].notnull()).select(_ref=ref[ref_col]).distinct()
            present = t.filter(~_empty(t, col))
            unknown = present.anti_join(known, present[col.name] == known._ref)
            n = unknown.count().to_pyarrow().as_py()
            if not n:
                continue
            keys = tuple(k for k in key_columns(name) if k in usable[name]) or (col.name,)
            first = _first(unknown, unknown[col.name].notnull(), keys, col.name)
            article = "an" if ref_col[0] in "aeiou" else "a"
            out.append(
                Problem(
                    wheres[name],
                    col.name,
                    f"{article} {ref_col} listed in {wheres[ref_table]}",
                    keys=[_key_text(r, keys) for r in first],
                    values=[show(r[col.name]) for r in first],
                    count=int(n),
                )
            )
    return out


def employment_problems(
    contacts: Any,
    agents: Any,
    where: Mapping[str, str] | None = None,
    rows: Mapping[str, int] | None = None,
) -> list[Problem]:
    """Warnings for agents whose contacts fall outside their employment: handled on a (local) day before their
    hire_date, or after their termination_date. One Problem per column, naming the agents (`rows`: agent_id ->
    spreadsheet row of the roster file, for a folder; else the agent's key) with the date given, the first
    (last) contact day and how many contacts lie outside. Kept as given: the contacts count in every figure,
    tenure and headcount follow the roster. `contacts`, `agents`: ibis tables with local wall-time instants.
    One grouped join in the engine; only the offending agents come back."""
    import ibis

    where = where or {}
    c = contacts.filter(contacts.agent_id.notnull() & in_years(contacts.arrived_at))  # others: refused row by row
    c = c.select(agent_id=c.agent_id, day=c.arrived_at.date())
    term = agents.termination_date if "termination_date" in agents.columns else ibis.null()
    a = agents.select(_aid=agents.agent_id, _hire=agents.hire_date.cast("date"), _term=term.cast("date"))
    j = c.join(a, c.agent_id == a._aid)
    before = (j.day < j._hire).fill_null(False)
    after = (j.day > j._term).fill_null(False)
    per = j.group_by(j.agent_id).aggregate(
        n_before=before.ifelse(1, 0).sum(),  # a sum of ones: PostgreSQL has no boolean sum
        n_after=after.ifelse(1, 0).sum(),
        first=j.day.min(),
        last=j.day.max(),
        hire_date=j._hire.max(),
        termination_date=j._term.max(),
    )
    found = per.filter((per.n_before > 0) | (per.n_after > 0)).order_by("agent_id").to_pyarrow().to_pylist()
    file, contacts_file = where.get("agents", "agents"), where.get("contacts", "contacts")
    out = []
    for column, count, side, verb, order in (
        ("hire_date", "n_before", "first", "before", "on or before"),
        ("termination_date", "n_after", "last", "after", "on or after"),
    ):
        hits = [r for r in found if r[count]]
        if not hits:
            continue
        shown = hits[:MAX_KEYS_SHOWN]
        spots = located([r["agent_id"] for r in shown], "agent_id", rows, show)
        out.append(
            Problem(
                file,
                column,
                f"a date {order} the agent's {side} contact in {contacts_file} (kept as given: the contacts count, "
                "tenure and headcount follow the roster)",
                values=[
                    f"{show(r[column])} ({side} contact {show(r[side])}; {r[count]:,} "
                    f"contact{'s' * (r[count] != 1)} {verb} it)"
                    for r in shown
                ],
                count=len(hits),
                severity="warning",
                **spots,
            )
        )
    return out


# The name columns whose spellings must agree: a queue across every table that has one, a team in the roster,
# a client's and an agent's id in their tables.
SPELLED_ALIKE = {
    "queue": ("contacts", "intervals", "interval_plan", "interval_staffing"),
    "team": ("agents",),
    "client_id": ("clients",),
    "agent_id": ("agents",),
}
SPELLED_ALIKE_TABLES = frozenset(n for names in SPELLED_ALIKE.values() for n in names)


def look_alike_key(value: str) -> str:
    """What two names that a reader cannot tell apart have in common: the text in Unicode's compatibility form
    (NFKC: "Cafe\u0301" and "Caf\xe9" alike), Cyrillic and Greek letters drawn like Latin ones as those
    (`safety.as_latin`: "АCME" with a Cyrillic "А" is "ACME"), letter case folded, format characters (zero-width
    space, soft hyphen, bidirectional marks: category Cf) removed."""
    text = as_latin(unicodedata.normalize("NFKC", value)).casefold()
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def across_table_lines(source: Any, rows: Mapping[str, int] | None = None) -> list[str]:
    """The warnings that compare tables of `source` (a DataSource whose tables pass the contract), one line each:
    contacts outside their agent's employment (`employment_problems`; `rows`: agent_id -> the roster file's row,
    for a folder) and names spelled alike across tables (`spelling_problems`). `validate` lists them, and every
    page's data-quality note (they were in `validate` alone: a page said no warning was raised)."""
    lines: list[str] = []
    if source.has("contacts") and source.has("agents"):
        names = {n: source.file_name(n) for n in ("agents", "contacts")}
        lines += [p.line() for p in employment_problems(source.table("contacts"), source.table("agents"), names, rows)]
    spelled = [n for n in sorted(SPELLED_ALIKE_TABLES) if source.has(n)]
    tables = {n: source.table(n) for n in spelled}
    lines += [p.line() for p in spelling_problems(tables, {n: source.file_name(n) for n in spelled})]
    return lines


def spelling_problems(tables: Mapping[str, Any], where: Mapping[str, str] | None = None) -> list[Problem]:
    """Warnings for names that look alike (`look_alike_key`: "Benefits", "benefits", "BENEFITS"; "Caf\xe9" and
    "Cafe\u0301"; "Acme_1" and "Acme_1\u200b"), per column of SPELLED_ALIKE over the tables of `tables` (ibis
    tables) that have it: the figures count each spelling as its own queue, team or client, and a plan for
    "benefits" meets no contacts of "Benefits" (a probe's plan vs actual read -40.8% volume against forecast with
    a note naming only the other half; another's index listed three clients as "Acme_1"). Kept as given (a real
    pair of queues could be named so); one Problem per column, each group with the tables it is spelled in, a
    spelling that prints like another shown by its code points. One distinct-values query per table and column."""
    where = where or {}
    out = []
    for column, names in SPELLED_ALIKE.items():
        seen: dict[str, dict[str, list[str]]] = {}  # look-alike key -> spelling -> tables
        for name in names:
            t = tables.get(name)
            if t is None or column not in t.columns:
                continue
            values = t.filter(t[column].notnull()).select(v=t[column]).distinct().to_pyarrow().column("v").to_pylist()
            for v in values:
                seen.setdefault(look_alike_key(str(v)), {}).setdefault(str(v), []).append(where.get(name, name))
        groups = [spellings for spellings in seen.values() if len(spellings) > 1]
        if not groups:
            continue

        def shown_as(spellings: Mapping[str, list[str]]) -> str:
            texts = {s: show(s) or "" for s in spellings}
            printed = {as_latin(unicodedata.normalize("NFC", t)) for t in texts.values()}
            twins = len(printed) < len(texts)  # print alike: by code points ("Caf\xe9", "Cafe\u0301", "\u0410CME")
            return " and ".join(
                f'"{ascii(s)[1:-1] if twins else texts[s]}" in {", ".join(files)}'
                for s, files in sorted(spellings.items())
            )

        shown = [shown_as(g) for g in groups[:MAX_KEYS_SHOWN]]
        more = f"; and {len(groups) - MAX_KEYS_SHOWN} more" if len(groups) > MAX_KEYS_SHOWN else ""
        files = sorted({f for g in groups for fs in g.values() for f in fs})
        case_only = all(len({s.casefold() for s in g}) == 1 for g in groups)
        how = (
            "differ only in letter case"
            if case_only
            else "look alike (letter case, Unicode form, invisible characters or letters of another script)"
        )
        out.append(
            Problem(
                ", ".join(files),
                column,
                f"one spelling per {column} (kept as given: each spelling is a {column} of its own in every figure"
                f"{', and a plan meets only the contacts spelled as it is' if column == 'queue' else ''}): "
                f"{'; '.join(shown)}{more} {how}",
                severity="warning",
            )
        )
    return out


def check_tables(
    tables: Mapping[str, Any],
    where: Mapping[str, str] | None = None,
    location: str | None = None,
) -> list[Problem]:
    """Check contract tables held by an engine: {contract name: ibis table} -> every problem found.

    `where` names each table in messages as the source does (`contacts (db table public.contacts)`;
    default: the contract name); `location` (the source's URL, password hidden) is named when a
    required table is absent. Errors and warnings come back as Problem (`severity`); a source is
    usable when no problem is an error. Runs entirely in the engine: counts and the first keys of
    offending rows come back, never a table.
    """
    where = where or {}
    problems: list[Problem] = []
    present = {n for n in tables if n in TABLES}
    for name in required_tables(present):
        if name not in present:
            problems.append(Problem(name, None, missing_table_text(name, f"a table {name}", location)))
    from reportlib.core import progress

    wheres = {n: where.get(n, n) for n in present}
    usable: dict[str, dict[str, Column]] = {}
    total = len(present) + 1  # each table, then the references across them
    for i, name in enumerate(sorted(present), start=1):
        # a line per table as it is checked: a large database takes minutes, which must not pass in silence
        with progress.step(f"checked {wheres[name]} against the contract", i, total):
            found, usable[name] = _check_one(tables[name], name, wheres[name])
        problems += found
    with progress.step("checked the references across tables", total, total):
        problems += _references({n: tables[n] for n in sorted(present)}, usable, wheres)
        if {"agent_id", "arrived_at"} <= set(usable.get("contacts", {})) and {"agent_id", "hire_date"} <= set(
            usable.get("agents", {})
        ):
            problems += employment_problems(tables["contacts"], tables["agents"], wheres)
        spelled = {n: tables[n] for n in present if n in SPELLED_ALIKE_TABLES}
        problems += spelling_problems(spelled, wheres)
    return problems


def check_lines(
    tables: Mapping[str, Any], where: Mapping[str, str] | None = None, location: str | None = None
) -> tuple[list[str], list[str]]:
    """`check_tables` as (error lines, warning lines), the shape `Source.validate` returns."""
    problems = check_tables(tables, where, location)
    errors = [p.line() for p in problems if p.severity == "error"]
    warnings = [p.line() for p in problems if p.severity == "warning"]
    return errors, warnings
