"""`validate` against a database: the contract checked in the engine (DuckDB, PostgreSQL, Spark).

One small sample is stored on each engine twice: as generated (no problems) and with one of each kind
of problem planted; the lines must name each problem by key with its count, the same on every engine.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from _engines import store_duckdb

from reportlib.data.load import open_source
from reportlib.data.load_into import typed_arrow
from reportlib.planning.sample import sample_data

TZ = "America/New_York"
NAMES = ("contacts", "agents", "clients", "interval_plan", "qa_evaluations")


@pytest.fixture(scope="module")
def clean_tables(tmp_path_factory) -> dict[str, pa.Table]:
    """A small checked sample as typed Arrow tables (contacts and interval_plan cut to their first rows)."""
    folder = tmp_path_factory.mktemp("veng") / "sample"
    sample_data(folder, start="2026-01", months=1, agents=12, clients=3)
    source = open_source(folder, TZ)
    assert source.validate()[0] == []
    out = {name: typed_arrow(source, name, TZ) for name in NAMES}
    out["contacts"] = out["contacts"].sort_by("contact_id").slice(0, 60)
    out["interval_plan"] = out["interval_plan"].slice(0, 40)
    return out


def _set(table: pa.Table, column: str, rows: list[int], value, type_=None) -> pa.Table:
    """`table` with `column` set to `value` at row positions `rows`."""
    values = table.column(column).to_pylist()
    for r in rows:
        values[r] = value
    i = table.schema.get_field_index(column)
    return table.set_column(i, table.schema.field(column).with_type(type_ or table.schema.field(column).type),
                            pa.array(values, type=type_ or table.schema.field(column).type))  # fmt: skip


def planted(clean: dict[str, pa.Table]) -> dict[str, pa.Table]:
    """The clean tables with one of each kind of problem planted (rows chosen by position after sorting)."""
    t = dict(clean)
    c = t["contacts"]
    handled = [i for i, o in enumerate(c.column("outcome").to_pylist()) if o == "handled"]
    c = _set(c, "wait_s", [0, 1, 2], -12.0)  # range, 3 rows
    c = _set(c, "channel", [10], "fax")  # allowed values, 1 row
    c = _set(c, "handle_s", [handled[5]], None)  # required when outcome is handled
    c = _set(c, "handle_s", [handled[6]], 5 * 3600.0)  # warning: over 4 hours
    c = _set(c, "csat", [12], 7)  # whole number from 1 to 5
    c = _set(c, "client_id", [14, 15], "C999")  # not in clients
    c = _set(c, "contact_id", [21], c.column("contact_id")[20].as_py())  # duplicate id
    t["contacts"] = c
    a = t["agents"].sort_by("agent_id")
    a = _set(a, "name", [1], None)  # must not be empty
    hire = a.column("hire_date")[2].as_py()
    a = _set(a, "termination_date", [2], hire.replace(year=hire.year - 1))  # before hire
    a = _set(a, "termination_type", [2], "voluntary")
    t["agents"] = a
    extra = t["clients"].slice(0, 1)
    extra = _set(extra, "client_id", [0], "bad id!")  # warning: unsafe id
    t["clients"] = pa.concat_tables([t["clients"], extra])
    p = t["interval_plan"]
    p = _set(p, "interval_minutes", [3], 7)  # rule: 5, 6, 15, 30 or 60
    dup = p.slice(4, 1)
    p = pa.concat_tables([p, dup])  # duplicate (interval_start, channel, queue)
    t["interval_plan"] = p
    return t


def _validate(engine, tables, tag, tz=TZ):
    """Store `tables` on the engine and validate them through the source `--data URL` opens."""
    url = engine.load(tables, tag)
    source = open_source(url, tz)
    assert set(source.tables) == set(tables)
    errors, warnings = source.validate()
    return source, errors, warnings


def test_clean_sample_has_no_problems(engine, clean_tables):
    _, errors, warnings = _validate(engine, clean_tables, "clean")
    assert (errors, warnings) == ([], [])


def test_each_planted_problem_is_one_line_by_key(engine, clean_tables):
    tables = planted(clean_tables)
    source, lines, warnings = _validate(engine, tables, "planted")
    where = source.file_name

    ids = tables["contacts"].column("contact_id").to_pylist()
    handled = [i for i, o in enumerate(clean_tables["contacts"].column("outcome").to_pylist()) if o == "handled"]
    agents = tables["agents"].column("agent_id").to_pylist()
    expected = [
        f"{where('contacts')}, column wait_s: expected a number >= 0 in 3 rows (first keys: "
        f'contact_id={ids[0]} ("-12"), contact_id={ids[1]} ("-12"), contact_id={ids[2]} ("-12"))',
        f'{where("contacts")} contact_id={ids[10]}, column channel: expected one of phone, email, chat, got "fax"',
        f'{where("contacts")} contact_id={ids[12]}, column csat: expected a whole number from 1 to 5, got "7"',
        f"{where('contacts')} contact_id={ids[handled[5]]}, column handle_s: expected a value when outcome "
        f"is handled (it is empty)",
        f"{where('contacts')}, column contact_id: expected a unique value (this one appears more than once) "
        f'in 2 rows (first keys: contact_id={ids[20]} ("2 rows"))',
        f"{where('contacts')}, column client_id: expected a client_id listed in {where('clients')} in 2 rows "
        f'(first keys: contact_id={ids[14]} ("C999"), contact_id={ids[15]} ("C999"))',
        f"{where('agents')} agent_id={agents[1]}, column name: expected a value (it must not be empty)",
        f"{where('agents')} agent_id={agents[2]}, column termination_date: expected a date on or after hire_date, "
        f'got "{tables["agents"].column("termination_date")[2].as_py().isoformat()}"',
    ]
    for line in expected:
        assert line in lines, f"missing: {line}\ngot:\n" + "\n".join(lines)
    # interval_plan: the rule and the duplicate key, named by (interval_start, channel, queue)
    rule = [ln for ln in lines if "column interval_minutes: expected one of 5, 6, 15, 30, 60" in ln]
    assert len(rule) == 1 and rule[0].endswith(', got "7"') and "channel=" in rule[0] and "queue=" in rule[0]
    dup = [ln for ln in lines if "one row per interval_start and channel and queue (duplicate rows)" in ln]
    assert len(dup) == 1 and " in 2 rows (first keys: interval_start=" in dup[0]
    assert len(lines) == len(expected) + 2, "\n".join(lines)
    assert f'{where("contacts")} contact_id={ids[handled[6]]}, column handle_s: expected a handle time under 4 hours ' \
        f'(kept as given), got "18000"' in warnings  # fmt: skip
    assert any("column client_id: expected an id of letters, digits" in w and "bad id!" in w for w in warnings)


def test_wrong_type_and_missing_column(engine, clean_tables):
    tables = dict(clean_tables)
    p = tables["interval_plan"]
    i = p.schema.get_field_index("forecast_aht_s")
    tables["interval_plan"] = p.set_column(i, "forecast_aht_s", pc.cast(p.column("forecast_aht_s"), pa.string()))
    tables["qa_evaluations"] = tables["qa_evaluations"].drop_columns(["score"])
    source, lines, _ = _validate(engine, tables, "structure")
    assert len(lines) == 2, lines
    typed = [ln for ln in lines if ln.startswith(f"{source.file_name('interval_plan')}, column forecast_aht_s: ")]
    assert len(typed) == 1 and "string" in typed[0]
    assert lines[1 - lines.index(typed[0])].startswith(
        f"{source.file_name('qa_evaluations')}: missing required column: score"
    )


def test_missing_required_table_is_named(engine, clean_tables):
    tables = {n: t for n, t in clean_tables.items() if n != "contacts"}
    source, lines, _ = _validate(engine, tables, "nocontacts")
    line = (
        f"contacts: required table is missing (or an intervals table); expected a table contacts in {source.location}"
    )
    if source.location.startswith("postgres"):  # PostgreSQL lists only what the role may read
        line += f" (if it is there, the role {source.location.split('://')[1].split('@')[0]} cannot read it: GRANT "
        line += "SELECT on it)"
    assert lines == [line]


def _intervals(clean_tables, starts, minutes, offered):
    """An intervals table of phone rows of the Billing queue for the first client, one per start: starts (aware
    datetimes), interval lengths and offered counts as given, 9, 12, 9, ... handled."""
    n = len(starts)
    return pa.table(
        {
            "interval_start": pa.array(starts, pa.timestamp("us", tz="UTC")),
            "interval_minutes": pa.array(minutes, pa.int64()),
            "channel": ["phone"] * n,
            "queue": ["Billing"] * n,
            "client_id": pa.array([clean_tables["clients"].column("client_id")[0].as_py()] * n),
            "offered": offered,
            "handled": [(9.0, 12.0)[i % 3 == 1] for i in range(n)],
        }
    )


def test_interval_rules_and_count_warnings(engine, clean_tables):
    """An intervals table instead of contacts: interval_minutes rule (error), fractional counts (warning)."""
    import datetime as dt

    utc = dt.UTC
    starts = [dt.datetime(2026, 1, 5, 14, m, tzinfo=utc) for m in (0, 15, 30, 45)]
    intervals = _intervals(clean_tables, starts, [15, 7, 15, -15], [10.0, 12.5, 9.0, 3.0])
    tables = {"intervals": intervals, "agents": clean_tables["agents"], "clients": clean_tables["clients"]}
    source, lines, warnings = _validate(engine, tables, "intervals")
    assert len(lines) == 2, lines  # -15 is out of the column's range, one problem, not also "not one of"
    # keys as the reports read them: 14:15 UTC is 09:15 in New York
    rule = [ln for ln in lines if "expected one of" in ln]
    assert len(rule) == 1 and rule[0].startswith(f"{source.file_name('intervals')} interval_start=2026-01-05 09:15:00")
    assert rule[0].endswith(', column interval_minutes: expected one of 5, 6, 15, 30, 60, got "7"')
    assert any(ln.endswith('column interval_minutes: expected a whole number from 1 to 60, got "-15"') for ln in lines)
    assert len(warnings) == 1 and warnings[0].endswith(
        ', column offered: expected a whole count (fractional counts kept as given), got "12.5"'
    )


def test_row_warnings_across_columns(engine, clean_tables):
    """The rules across columns (contract.table_rules, one declaration for files and engines): handle time
    over logged-in time and adherence over schedule in agent_activity, a termination type without a date,
    an interval start off its grid. Warnings (values kept as given), named by key, on every engine."""
    import datetime as dt

    agents = clean_tables["agents"].sort_by("agent_id")
    employed = [i for i, d in enumerate(agents.column("termination_date").to_pylist()) if d is None]
    agents = _set(agents, "termination_type", [employed[0]], "voluntary")
    first = agents.column("agent_id")[employed[0]].as_py()
    day = dt.date(2026, 1, 5)
    activity = pa.table(
        {
            "date": pa.array([day] * 4, pa.date32()),
            "agent_id": agents.column("agent_id").to_pylist()[:4],
            "scheduled_s": [28800.0, 28800.0, 28800.0, 0.0],  # the last: logged in without a schedule
            "logged_in_s": [27000.0, 1200.0, 27000.0, 3600.0],
            "handle_s": [9000.0, 3600.0, 9000.0, 3000.0],
            "in_adherence_s": [26000.0, 1000.0, 30000.0, 0.0],
        }
    )
    starts = [dt.datetime(2026, 1, 5, 14, m, tzinfo=dt.UTC) for m in (0, 7, 30)]  # 09:00, 09:07, 09:30 local
    intervals = _intervals(clean_tables, starts, [5, 15, 30], [10.0, 12.0, 9.0])  # off the grid, not overlapping
    tables = {"intervals": intervals, "agents": agents, "clients": clean_tables["clients"], "agent_activity": activity}
    source, lines, warnings = _validate(engine, tables, "crosscol")
    where = source.file_name
    ids = activity.column("agent_id").to_pylist()
    assert lines == []
    expected = [
        f"{where('agents')} agent_id={first}, column termination_type: expected empty while termination_date is "
        'empty (kept as given: the agent counts as employed), got "voluntary"',
        f"{where('agent_activity')} date=2026-01-05 agent_id={ids[1]}, column handle_s: expected a handle time no "
        'longer than logged_in_s (kept as given), got "3600"',
        f"{where('agent_activity')} date=2026-01-05 agent_id={ids[2]}, column in_adherence_s: expected no more "
        'than scheduled_s (kept as given: adherence over 100%), got "30000"',
        f"{where('agent_activity')} date=2026-01-05 agent_id={ids[3]}, column scheduled_s: expected above 0 on a day "
        "with time logged in (kept as given: the day counts in occupancy and utilization, and its handling and "
        "available time, against no schedule, lower the team's shrinkage; a schedule missing from the export, or "
        'overtime on a day off), got "0"',
    ]
    for line in expected:
        assert line in warnings, f"missing: {line}\ngot:\n" + "\n".join(warnings)
    grid = [w for w in warnings if "column interval_start: expected a start on the grid" in w]
    assert len(grid) == 1 and ":07:00" in grid[0] and ":30:00" not in grid[0], warnings
    assert len(warnings) == 5, warnings


def test_the_interval_grid_is_checked_in_local_time(engine, clean_tables):
    """Hourly intervals of a desk in India (UTC+05:30) start at :30 past the hour in UTC: on their grid in
    local time, where the reports read them. Only the start at 11:15 local is named, by its local time."""
    import datetime as dt

    starts = [dt.datetime(2026, 1, 5, h, m, tzinfo=dt.UTC) for h, m in ((3, 30), (4, 30), (5, 45))]
    intervals = _intervals(clean_tables, starts, [60, 60, 60], [10.0, 12.0, 9.0])
    tables = {"intervals": intervals, "agents": clean_tables["agents"], "clients": clean_tables["clients"]}
    source, lines, warnings = _validate(engine, tables, "gridlocal", tz="Asia/Kolkata")
    assert lines == []
    grid = [w for w in warnings if "column interval_start: expected a start on the grid" in w]
    assert len(grid) == 1 and "interval_start=2026-01-05 11:15:00 " in grid[0], warnings


def test_interval_rows_that_overlap_in_time_are_refused_by_key(engine, clean_tables):
    """The folder's overlap check (test_validate) in the engine: 09:00 for 60 minutes beside 09:30 for 30 of one
    queue and client is an error naming the later row by key, as the reports read it (New York wall time)."""
    import datetime as dt

    starts = [dt.datetime(2026, 1, 5, 14, m, tzinfo=dt.UTC) for m in (0, 30)]
    starts.append(dt.datetime(2026, 1, 5, 15, 0, tzinfo=dt.UTC))
    intervals = _intervals(clean_tables, starts, [60, 30, 15], [40.0, 20.0, 9.0])
    tables = {"intervals": intervals, "agents": clean_tables["agents"], "clients": clean_tables["clients"]}
    source, lines, _ = _validate(engine, tables, "overlap")
    assert len(lines) == 1, lines
    assert lines[0].startswith(
        f"{source.file_name('intervals')} interval_start=2026-01-05 09:30:00 channel=phone queue=Billing client_id="
    ), lines
    assert ", column interval_start: expected a start at or after the end of the earlier rows" in lines[0], lines
    assert lines[0].endswith('got "2026-01-05 09:30:00 for 30 min, while an earlier row runs to 2026-01-05 10:00:00"')
    apart = _intervals(clean_tables, starts, [30, 30, 15], [40.0, 20.0, 9.0])
    assert _validate(engine, {**tables, "intervals": apart}, "apart")[1] == []
    as_double = intervals.set_column(1, "interval_minutes", intervals.column("interval_minutes").cast(pa.float64()))
    lines = _validate(engine, {**tables, "intervals": as_double}, "double")[1]  # a review: AttributeError on DOUBLE
    assert len(lines) == 1 and "09:30:00 for 30" in lines[0], lines
    no_client = intervals.drop_columns(["client_id"])  # an optional key column absent: channel and queue alone
    lines = _validate(engine, {**tables, "intervals": no_client}, "noclient")[1]
    assert len(lines) == 1 and "of its channel and queue (rows" in lines[0], lines


def test_a_rule_whose_optional_column_is_absent_is_skipped(engine, clean_tables):
    """agent_activity without its optional logged_in_s and in_adherence_s: the rules reading them are not
    run (they raised an ibis error, a traceback, when the checker knew only the agents rules' columns)."""
    import datetime as dt

    activity = pa.table(
        {
            "date": pa.array([dt.date(2026, 1, 5)], pa.date32()),
            "agent_id": clean_tables["agents"].column("agent_id").to_pylist()[:1],
            "scheduled_s": [28800.0],
            "handle_s": [30000.0],
        }
    )
    tables = {**clean_tables, "agent_activity": activity}
    _, lines, warnings = _validate(engine, tables, "optcols")
    assert (lines, warnings) == ([], [])


@pytest.mark.parametrize("command", [["kpis", "--month", "2026-01"], ["attrition", "--month", "2026-01"], ["forecast"]])
def test_commands_on_a_database_hold_it_to_the_contract_first(engine, clean_tables, command, capsys):
    """A folder's tables are checked as they are parsed, a database's only by a check: kpis, attrition and
    forecast run it first (as `run` does), so a planted problem stops them by key instead of becoming a figure."""
    from reportlib.cli import main

    url = engine.load(planted(clean_tables), "cmd")
    assert main([command[0], "--data", url, *command[1:]]) == 1
    err = capsys.readouterr().err
    assert "does not meet the contract (see `reportlib validate`)" in err
    assert "column wait_s: expected a number >= 0 in 3 rows" in err
    if command[0] == "kpis":  # the same command on the clean tables gives its figures
        assert main(["kpis", "--data", engine.load(clean_tables, "cmdok"), *command[1:]]) == 0
        assert "does not meet" not in capsys.readouterr().err


def _counted(url: str) -> list[int]:
    """Count the contract checks of the source the notebooks will be given for `url`."""
    from reportlib.core.params import DEFAULT_TIMEZONE

    source = open_source(url, DEFAULT_TIMEZONE)
    calls: list[int] = []
    check = source.validate
    source.validate = lambda: calls.append(1) or check()
    return calls


def test_a_report_notebook_on_a_database_checks_it_until_it_passes(engine, clean_tables):
    """The notebooks' first call holds a database to the contract too (JupyterLab has no `run` before it):
    problems are checked again on every call (the user may have mended them), a pass once per source (the
    check reads every table; a run's kernels share the run's own check)."""
    from reportlib.core.errors import DataError
    from reportlib.reports import views

    url = engine.load(planted(clean_tables), "nb")
    calls = _counted(url)
    for _ in range(2):
        with pytest.raises(DataError, match=r"column wait_s: expected a number >= 0 in 3 rows"):
            views.start_report("team_performance", month="2026-01", data=url)
    assert calls == [1, 1]
    url = engine.load(clean_tables, "nbok")
    calls = _counted(url)
    for _ in range(2):
        assert views.start_report("team_performance", month="2026-01", data=url).month.strftime("%Y-%m") == "2026-01"
    assert calls == [1]


def test_contacts_outside_an_agents_employment_are_warned_by_agent(engine, clean_tables):
    """An agent hired after their contacts, another terminated before theirs: one warning per column, naming
    the agent by key with the date given, the first (last) contact's local day and the contacts outside."""
    import datetime as dt

    import pandas as pd

    c = clean_tables["contacts"].to_pandas()
    c = c[c["agent_id"].notna()]
    c["day"] = pd.to_datetime(c["arrived_at"], utc=True).dt.tz_convert(TZ).dt.date
    per = c.groupby("agent_id")["day"].agg(["min", "max", "size"]).sort_index()
    late, gone = per.index[0], per.index[1]
    agents = clean_tables["agents"].sort_by("agent_id")
    ids = agents.column("agent_id").to_pylist()
    hire = per.loc[late, "max"] + dt.timedelta(days=1)  # every contact of `late` is before it
    agents = _set(agents, "hire_date", [ids.index(late)], hire)
    end = per.loc[gone, "min"] - dt.timedelta(days=1)  # every contact of `gone` is after it
    agents = _set(agents, "termination_date", [ids.index(gone)], end)
    agents = _set(agents, "termination_type", [ids.index(gone)], "voluntary")
    assert agents.column("hire_date")[ids.index(gone)].as_py() <= end
    tables = {**clean_tables, "agents": agents}
    source, lines, warnings = _validate(engine, tables, "employ")
    where = source.file_name
    kept = "(kept as given: the contacts count, tenure and headcount follow the roster)"
    n_late, n_gone = int(per.loc[late, "size"]), int(per.loc[gone, "size"])
    expected = [
        f"{where('agents')} agent_id={late}, column hire_date: expected a date on or before the agent's first "
        f'contact in {where("contacts")} {kept}, got "{hire.isoformat()} (first contact '
        f'{per.loc[late, "min"].isoformat()}; {n_late:,} contact{"s" * (n_late != 1)} before it)"',
        f"{where('agents')} agent_id={gone}, column termination_date: expected a date on or after the agent's last "
        f'contact in {where("contacts")} {kept}, got "{end.isoformat()} (last contact '
        f'{per.loc[gone, "max"].isoformat()}; {n_gone:,} contact{"s" * (n_gone != 1)} after it)"',
    ]
    assert lines == []
    assert sorted(warnings) == sorted(expected), "\n".join(warnings)


def test_a_number_too_large_for_the_figures_is_refused_and_a_long_wait_warned(engine, clean_tables):
    """A fuzz probe's wait of 1e308 s passed validate and gave a speed of answer of 2.9e303 s: a number of 1e15 or
    more is refused (the same line as for a file), a phone wait over 4 hours or an email wait over 30 days is a
    warning, on every engine."""
    c = clean_tables["contacts"]
    channel = c.column("channel").to_pylist()
    phone = [i for i, ch in enumerate(channel) if ch == "phone"]
    email = [i for i, ch in enumerate(channel) if ch == "email"]
    c = _set(c, "wait_s", [phone[0]], 1e308)
    c = _set(c, "wait_s", [phone[1]], 5 * 3600.0)
    c = _set(c, "wait_s", [email[0]], 5 * 3600.0)  # an email answered in 5 hours: no warning
    c = _set(c, "wait_s", [email[1]], 31 * 86400.0)
    tables = {**clean_tables, "contacts": c}
    source, lines, warnings = _validate(engine, tables, "huge")
    where, ids = source.file_name, c.column("contact_id").to_pylist()
    assert lines == [
        f"{where('contacts')} contact_id={ids[phone[0]]}, column wait_s: expected a number >= 0, under 1e15 (a "
        'larger one overflows the figures), got "1e+308"'
    ]
    long = [w for w in warnings if "column wait_s: expected a wait under 4 hours" in w]
    assert len(long) == 1 and "in 2 rows" in long[0], warnings
    assert f"contact_id={ids[phone[1]]}" in long[0] and f"contact_id={ids[email[1]]}" in long[0]


def test_padded_text_and_years_out_of_range_are_refused_as_in_a_folder(engine, clean_tables):
    """An engine-parity probe: a folder's cells are read trimmed, a database's as stored, so "A0152 " beside
    "A0152" passed a database as two agents (headcount 177 -> 178), a caller id with a trailing space changed
    repeat-contact FCR, and a queue of a no-break space alone was a queue; a year outside 1700..2199 (2300, or
    PostgreSQL's 'infinity') passed and then vanished from the figures or stopped a command naming nothing. Each
    is now an error naming the key, with the value's white space shown; a name (free text) is kept as stored."""
    import datetime as dt
    import warnings as pywarnings

    c = clean_tables["contacts"]
    ids = c.column("contact_id").to_pylist()
    c = _set(c, "contact_id", [21], ids[20] + " ")
    c = _set(c, "queue", [3], "\xa0")
    c = _set(c, "caller_id", [4], "p1\t")
    c = _set(c, "channel", [5], " phone")
    c = _set(c, "arrived_at", [6], dt.datetime(2300, 1, 1, 9, 0))
    c = _set(c, "reason", [7], "Card\x0b")  # a vertical tab: RE2's \s lacks it
    a = clean_tables["agents"].sort_by("agent_id")
    agents = a.column("agent_id").to_pylist()
    a = _set(a, "hire_date", [0], dt.date(1600, 1, 2))
    a = _set(a, "name", [1], a.column("name")[1].as_py() + " ")  # free text: kept
    tables = {**clean_tables, "contacts": c, "agents": a}
    with pywarnings.catch_warnings(record=True) as caught:  # Spark's fingerprint fetched year 2300 into pandas
        pywarnings.simplefilter("always")
        source, lines, _ = _validate(engine, tables, "padded")
    assert not [w for w in caught if "toPandas" in str(w.message)]
    where = source.file_name
    padded = "expected no white space before or after the text (a data folder's cells are read trimmed, a database's"
    expected = [
        f"{where('contacts')} contact_id={ids[3]}, column queue: {padded}",
        f"{where('contacts')} contact_id={ids[4]}, column caller_id: {padded}",
        f"{where('contacts')} contact_id={ids[5]}, column channel: {padded}",
        f"{where('contacts')} contact_id={ids[7]}, column reason: {padded}",
        f'{where("contacts")} contact_id={ids[5]}, column channel: expected one of phone, email, chat, got " phone"',
        f"{where('contacts')} contact_id={ids[6]}, column arrived_at: expected an ISO 8601 timestamp from year 1700 "
        "to 2199",
        f"{where('agents')} agent_id={agents[0]}, column hire_date: expected a date (YYYY-MM-DD) from year 1700 to "
        "2199",
    ]
    for line in expected:
        assert any(ln.startswith(line) for ln in lines), f"missing: {line}\ngot:\n" + "\n".join(lines)
    assert any(f"column contact_id: {padded}" in ln and ids[20] in ln for ln in lines), "\n".join(lines)
    assert any('got "\\xa0"' in ln for ln in lines) and any('got "p1\\t"' in ln for ln in lines)
    assert not any("column name" in ln for ln in lines)


def test_a_contact_arriving_in_the_future_is_refused_by_key(engine, clean_tables):
    """A probe put one email dated 2030 among November's: the data's end became 2030, every email still open at
    the export read as missed (the pack's email service level 100% -> 99.4%) and validate said nothing. An arrival
    after the day the check runs (two days' slack for time zones) is an error naming the key, on every engine as in
    a folder; one of yesterday is not."""
    import datetime as dt

    c = clean_tables["contacts"]
    ids = c.column("contact_id").to_pylist()
    today = dt.datetime.now(dt.UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    c = _set(c, "arrived_at", [6], dt.datetime(2030, 1, 15, 15, 0, tzinfo=dt.UTC))
    c = _set(c, "arrived_at", [7], today + dt.timedelta(days=3))
    c = _set(c, "arrived_at", [8], today - dt.timedelta(days=1))
    source, lines, _ = _validate(engine, {**clean_tables, "contacts": c}, "future")
    refused = [ln for ln in lines if "a contact cannot arrive in the future" in ln]
    assert len(refused) == 1 and f"contact_id={ids[6]}" in refused[0] and f"contact_id={ids[7]}" in refused[0]
    assert f"contact_id={ids[8]}" not in refused[0] and "in 2 rows" in refused[0], refused


def test_queues_differing_only_in_case_are_warned_on_every_engine(engine, clean_tables):
    """The folder's spelling warning (test_validate) in the database's engine: one distinct query per table."""
    c = clean_tables["contacts"]
    queue = c.column("queue")[3].as_py()
    c = _set(c, "queue", [3], queue.upper())
    source, lines, warnings = _validate(engine, {**clean_tables, "contacts": c}, "spelling")
    spelled = [w for w in warnings if "one spelling per queue" in w]
    assert lines == [] and len(spelled) == 1, warnings
    assert f'"{queue.upper()}" in {source.file_name("contacts")}' in spelled[0] and f'"{queue}" in ' in spelled[0]


def test_a_whole_number_stored_as_a_float_with_nan_is_named(engine, clean_tables):
    """csat stored as a float column holding NaN (and 1e23): validate failed with the engine's "DOUBLE with value
    nan can't be cast to INT64" (PostgreSQL: "bigint out of range"), naming no table, key or column."""
    c = clean_tables["contacts"]
    ids = c.column("contact_id").to_pylist()
    rated = [i for i, v in enumerate(c.column("csat").to_pylist()) if v is not None]
    c = _set(c, "csat", [rated[0]], float("nan"), pa.float64())
    c = _set(c, "csat", [rated[1]], 1e23, pa.float64())
    c = _set(c, "csat", [rated[2]], 4.5, pa.float64())
    _, lines, _ = _validate(engine, {**clean_tables, "contacts": c}, "csatnan")
    # each row named under csat by its key (how NaN groups with others differs by engine: NaN is above every
    # number in DuckDB, PostgreSQL and Spark, so the range and the limit name it too)
    csat = "\n".join(ln for ln in lines if "column csat: expected a whole number from 1 to 5" in ln)
    for i in rated[:3]:
        assert f"contact_id={ids[i]}" in csat, "\n".join(lines)
    assert '"4.5"' in csat and '"1e+23"' in csat
    assert not any("failed" in ln or "Conversion" in ln for ln in lines)


def test_infinite_instants_and_a_vertical_tab_are_named_not_a_crash(clean_tables, tmp_path):
    """A review probe: a contact arriving at 'infinity' (or '-infinity') passed the new year check's row line but
    crashed the employment check after it (OverflowError fetching the agent's first contact), and a queue ending in
    a vertical tab (which a folder trims, RE2's \\s does not match) passed a database as another queue. DuckDB, whose
    timestamps take ±infinity as PostgreSQL's do."""
    import duckdb

    url = store_duckdb(tmp_path / "inf.duckdb", clean_tables)
    con = duckdb.connect(url.removeprefix("duckdb:///"))
    ids = clean_tables["contacts"].column("contact_id").to_pylist()
    con.execute("UPDATE contacts SET arrived_at = 'infinity' WHERE contact_id = ?", [ids[1]])
    con.execute("UPDATE contacts SET arrived_at = '-infinity' WHERE contact_id = ?", [ids[2]])
    con.execute("UPDATE contacts SET queue = queue || chr(11) WHERE contact_id = ?", [ids[3]])
    con.close()
    source = open_source(url, TZ)
    errors, _ = source.validate()
    where = source.file_name("contacts")
    years = [ln for ln in errors if "column arrived_at: expected an ISO 8601 timestamp from year 1700 to 2199" in ln]
    assert len(years) == 1 and f"contact_id={ids[1]}" in years[0] and f"contact_id={ids[2]}" in years[0], errors
    assert any(ln.startswith(f"{where} contact_id={ids[3]}, column queue: expected no white space") for ln in errors)


def test_an_unknown_sla_profile_is_named_by_key_in_a_database(engine, clean_tables):
    """A database has no spreadsheet rows: the client naming a profile parameters/sla_contracts.yaml lacks is
    named by its key (a folder names its row: test_run)."""
    from reportlib.core.params import load_params
    from reportlib.metrics.sla import source_profile_problems

    cl = clean_tables["clients"].sort_by("client_id")
    cid = cl.column("client_id")[1].as_py()
    source, errors, _ = _validate(engine, {**clean_tables, "clients": _set(cl, "sla_profile", [1], "platinum")}, "sla")
    assert errors == []  # the profiles are the parameters' business, checked with them
    lines = source_profile_problems(source, load_params())
    assert lines == [
        f"{source.file_name('clients')} client_id={cid}, column sla_profile: expected a profile of "
        'parameters/sla_contracts.yaml (gold, silver, bronze, standard), got "platinum"'
    ], lines


def test_whole_number_and_decimal_columns_are_checked_like_floats(engine, clean_tables):
    """A probe: handle_s stored as integer, or monthly_fee as numeric(12,2), as a DBA would, made validate fail
    "unexpectedly" on every engine (an integer or decimal column has no NaN to look for). They are valid; a
    negative whole number is still named by key."""
    tables = dict(clean_tables)
    c = tables["contacts"]
    i = c.schema.get_field_index("handle_s")
    whole = pc.cast(pc.round(c.column("handle_s")), pa.int32())
    tables["contacts"] = c.set_column(i, pa.field("handle_s", pa.int32()), whole)
    k = tables["clients"]
    j = k.schema.get_field_index("monthly_fee")
    fee = pc.cast(pc.round(k.column("monthly_fee"), 2), pa.decimal128(12, 2))
    tables["clients"] = k.set_column(j, pa.field("monthly_fee", pa.decimal128(12, 2)), fee)
    _, errors, warnings = _validate(engine, tables, "whole")
    assert (errors, warnings) == ([], [])
    handled = [r for r, o in enumerate(tables["contacts"].column("outcome").to_pylist()) if o == "handled"]
    bad = dict(tables, contacts=_set(tables["contacts"], "handle_s", [handled[0]], -3))
    source, errors, _ = _validate(engine, bad, "whole_bad")
    ids = bad["contacts"].column("contact_id").to_pylist()
    assert errors == [
        f"{source.file_name('contacts')} contact_id={ids[handled[0]]}, column handle_s: expected a number >= 0, "
        'got "-3"'
    ]
