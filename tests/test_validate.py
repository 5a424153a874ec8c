"""`reportlib validate`: broken inputs exit 1 with a message naming the file, row and column."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pandas as pd
import pytest

from reportlib.cli import main

GOOD = {
    "agents.csv": (
        "agent_id,name,team,supervisor,site,role,hire_date,termination_date,termination_type,"
        "termination_reason,regretted,fte,hourly_cost\n"
        "A1,Ann Lee,Team 1,Sue,North,agent,2024-01-01,,,,,1,30\n"
        "A2,Bo Chan,Team 1,Sue,North,agent,2024-02-01,2024-06-30,voluntary,Better pay,true,0.5,28\n"
    ),
    "clients.csv": "client_id,client_name,tier,sla_profile,monthly_fee\nC1,Acme,gold,gold,10000\nC2,Beta,silver,silver,5000\n",
    "contacts.csv": (
        "contact_id,channel,queue,client_id,arrived_at,outcome,wait_s,handle_s,agent_id,"
        "resolved_first_contact,escalated,transferred,csat,reason,caller_id\n"
        "k1,phone,Benefits,C1,2025-01-06T09:00:00-05:00,handled,12,300,A1,true,false,false,5,Eligibility,p1\n"
        "k2,phone,Benefits,C2,2025-01-06T09:01:00-05:00,abandoned,40,,,,,,,,p2\n"
        "k3,email,Accounts,C1,2025-01-06T09:02:00-05:00,open,,,,,,,,,\n"
        "k4,chat,Debit Card,C2,2025-01-06T09:03:00-05:00,handled,5,240,A1,false,true,false,3,Card,p3\n"
    ),
    "agent_activity.csv": (
        "date,agent_id,scheduled_s,logged_in_s,handle_s,available_s,aux_break_s,aux_meeting_s,"
        "aux_training_s,aux_coaching_s,aux_other_s,absent_unplanned,in_adherence_s\n"
        "2025-01-06,A1,28800,27000,540,20000,3600,1800,0,900,160,false,26000\n"
    ),
    "qa_evaluations.csv": (
        "evaluation_id,agent_id,evaluated_at,contact_id,score,critical_error\n"
        "e1,A1,2025-01-07T10:00:00-05:00,k1,88,false\n"
    ),
}


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))


def build(folder: Path, changes: dict[str, str | bytes | None]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = dict(GOOD)
    files.update(changes)
    for name, text in files.items():
        if text is None:
            continue
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        (folder / name).write_bytes(data)
    return folder


def pa_array(values: list):
    import pyarrow as pa

    return pa.array(values)


def parquet_clients(**columns) -> bytes:
    """clients.csv of GOOD as Parquet bytes, with `columns` replaced by the given pyarrow arrays."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    lines = [ln.split(",") for ln in GOOD["clients.csv"].splitlines()]
    data = {name: pa.array([row[i] for row in lines[1:]]) for i, name in enumerate(lines[0])}
    data.update(columns)
    buf = io.BytesIO()
    pq.write_table(pa.table(data), buf)
    return buf.getvalue()


def xlsx_bytes(rows: list[list]) -> bytes:
    """A workbook of one sheet holding `rows` (the first is the header), as bytes."""
    import io

    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def replace_cell(file: str, row: int, column: str, value: str) -> dict[str, str]:
    """GOOD[file] with the cell at spreadsheet row `row` (header = 1) and `column` set to `value`."""
    lines = GOOD[file].splitlines()
    header = lines[0].split(",")
    cells = lines[row - 1].split(",")
    cells[header.index(column)] = value
    lines[row - 1] = ",".join(cells)
    return {file: "\n".join(lines) + "\n"}


def test_good_source_is_valid(tmp_path, capsys):
    assert main(["validate", "--data", str(build(tmp_path / "d", {}))]) == 0
    assert "valid" in capsys.readouterr().out


def test_contacts_outside_an_agents_employment_are_warnings_naming_the_roster_row(tmp_path, capsys):
    # A1 (row 2) handles k1 and k4 on Monday 6 January 2025, hired here on the 7th; A2 (row 3), who left on
    # 30 June 2024, handles k4 instead
    changes = replace_cell("agents.csv", 2, "hire_date", "2025-01-07")
    changes["contacts.csv"] = GOOD["contacts.csv"].replace("240,A1,", "240,A2,")
    assert main(["validate", "--data", str(build(tmp_path / "d", changes))]) == 0
    out = capsys.readouterr().out
    kept = "(kept as given: the contacts count, tenure and headcount follow the roster)"
    assert (
        "warning: agents.csv row 2, column hire_date: expected a date on or before the agent's first contact in "
        f'contacts.csv {kept}, got "2025-01-07 (first contact 2025-01-06; 1 contact before it)"'
    ) in out
    assert (
        "warning: agents.csv row 3, column termination_date: expected a date on or after the agent's last contact "
        f'in contacts.csv {kept}, got "2024-06-30 (last contact 2025-01-06; 1 contact after it)"'
    ) in out
    assert "valid" in out and "2 warnings" in out


# (name, changes, expected message pattern): each names the file, the row and the column.
BROKEN = [
    (
        "negative wait",
        replace_cell("contacts.csv", 3, "wait_s", "-12"),
        r'contacts\.csv row 3, column wait_s: expected a number >= 0, got "-12"',
    ),
    (
        "wait not a number",
        replace_cell("contacts.csv", 2, "wait_s", "twelve"),
        r'contacts\.csv row 2, column wait_s: expected a number >= 0, got "twelve"',
    ),
    (
        "unknown channel",
        replace_cell("contacts.csv", 4, "channel", "fax"),
        r'contacts\.csv row 4, column channel: expected one of phone, email, chat, got "fax"',
    ),
    (
        "unknown outcome",
        replace_cell("contacts.csv", 2, "outcome", "done"),
        r'contacts\.csv row 2, column outcome: expected one of handled, abandoned, open, got "done"',
    ),
    (
        "bad timestamp",
        replace_cell("contacts.csv", 5, "arrived_at", "06/01/2025 9am"),
        r'contacts\.csv row 5, column arrived_at: expected an ISO 8601 timestamp, got "06/01/2025 9am"',
    ),
    (
        "impossible date",
        replace_cell("contacts.csv", 2, "arrived_at", "2025-02-30T09:00:00"),
        r"contacts\.csv row 2, column arrived_at: expected an ISO 8601 timestamp",
    ),
    (
        "csat out of range",
        replace_cell("contacts.csv", 2, "csat", "6"),
        r'contacts\.csv row 2, column csat: expected a whole number from 1 to 5, got "6"',
    ),
    (
        "csat fractional",
        replace_cell("contacts.csv", 5, "csat", "4.5"),
        r'contacts\.csv row 5, column csat: expected a whole number from 1 to 5, got "4.5"',
    ),
    (
        "bad boolean",
        replace_cell("contacts.csv", 2, "escalated", "maybe"),
        r'contacts\.csv row 2, column escalated: expected true or false, got "maybe"',
    ),
    (
        "duplicate contact id",
        replace_cell("contacts.csv", 3, "contact_id", "k1"),
        r'contacts\.csv, column contact_id: expected a unique value .* in 2 rows \(first rows: 2 \("k1"\), 3 \("k1"\)\)',
    ),
    (
        "handled without handle time",
        replace_cell("contacts.csv", 2, "handle_s", ""),
        r"contacts\.csv row 2, column handle_s: expected a value when outcome is handled",
    ),
    (
        "handled without agent",
        replace_cell("contacts.csv", 5, "agent_id", ""),
        r"contacts\.csv row 5, column agent_id: expected a value when outcome is handled",
    ),
    (
        "abandoned without wait",
        replace_cell("contacts.csv", 3, "wait_s", ""),
        r"contacts\.csv row 3, column wait_s: expected a value when outcome is handled or abandoned",
    ),
    (
        "empty required value",
        replace_cell("contacts.csv", 4, "queue", ""),
        r"contacts\.csv row 4, column queue: expected a value \(it must not be empty\)",
    ),
    (
        "unknown agent",
        replace_cell("contacts.csv", 2, "agent_id", "A9"),
        r'contacts\.csv row 2, column agent_id: expected an agent_id listed in agents\.csv, got "A9"',
    ),
    (
        "unknown client",
        replace_cell("contacts.csv", 3, "client_id", "C7"),
        r'contacts\.csv row 3, column client_id: expected a client_id listed in clients\.csv, got "C7"',
    ),
    (
        "missing column",
        {"contacts.csv": GOOD["contacts.csv"].replace("arrived_at", "arrival")},
        r"contacts\.csv: missing required column: arrived_at",
    ),
    (
        "ragged row",
        {"contacts.csv": GOOD["contacts.csv"].replace("k2,phone", "k2,phone,extra,", 1)},
        r"contacts\.csv row 3: expected 15 fields separated by commas, found 17",
    ),
    (
        "fte above 1",
        replace_cell("agents.csv", 2, "fte", "1.5"),
        r'agents\.csv row 2, column fte: expected a number from 0 to 1, got "1\.5"',
    ),
    (
        "termination before hire",
        replace_cell("agents.csv", 3, "termination_date", "2023-12-31"),
        r'agents\.csv row 3, column termination_date: expected a date on or after hire_date, got "2023-12-31"',
    ),
    (
        "queue named like the all-queues rows",
        replace_cell("contacts.csv", 3, "queue", "all"),
        r"contacts\.csv row 3, column queue: expected a queue name other than 'all', the name of the rows for every "
        r"queue together \(plan vs actual, the forecast's backtest\): rename the queue, got \"all\"",
    ),
    (
        "terminated without type",
        replace_cell("agents.csv", 3, "termination_type", ""),
        r"agents\.csv row 3, column termination_type: expected voluntary or involuntary when termination_date is set",
    ),
    (
        "hire date with a time",
        replace_cell("agents.csv", 2, "hire_date", "2024-01-01T10:00"),
        r'agents\.csv row 2, column hire_date: expected a date \(YYYY-MM-DD\), got "2024-01-01T10:00"',
    ),
    (
        "unknown role",
        replace_cell("agents.csv", 2, "role", "boss"),
        r'agents\.csv row 2, column role: expected one of agent, lead, supervisor, got "boss"',
    ),
    (
        "duplicate agent id",
        replace_cell("agents.csv", 3, "agent_id", "A1"),
        r"agents\.csv, column agent_id: expected a unique value",
    ),
    (
        "activity for unknown agent",
        replace_cell("agent_activity.csv", 2, "agent_id", "Z1"),
        r'agent_activity\.csv row 2, column agent_id: expected an agent_id listed in agents\.csv, got "Z1"',
    ),
    (
        "activity over a day",
        replace_cell("agent_activity.csv", 2, "scheduled_s", "90000"),
        r'agent_activity\.csv row 2, column scheduled_s: expected a number from 0 to 86400, got "90000"',
    ),
    (
        "duplicate activity day",
        {"agent_activity.csv": GOOD["agent_activity.csv"] + GOOD["agent_activity.csv"].splitlines()[1] + "\n"},
        r"agent_activity\.csv, column date, agent_id: expected one row per date and agent_id",
    ),
    (
        "qa score over 100",
        replace_cell("qa_evaluations.csv", 2, "score", "101"),
        r'qa_evaluations\.csv row 2, column score: expected a number from 0 to 100, got "101"',
    ),
    (
        "offset of 25 hours",
        replace_cell("contacts.csv", 3, "arrived_at", "2025-01-06T09:01:00+25:00"),
        r'contacts\.csv row 3, column arrived_at: expected an ISO 8601 timestamp, got "2025-01-06T09:01:00\+25:00"',
    ),
    (
        "offset of 75 minutes",
        replace_cell("contacts.csv", 3, "arrived_at", "2025-01-06T09:01:00-0575"),
        r'contacts\.csv row 3, column arrived_at: expected an ISO 8601 timestamp, got "2025-01-06T09:01:00-0575"',
    ),
    (
        "timestamp in year 9999",
        replace_cell("contacts.csv", 3, "arrived_at", "9999-12-31T23:59:59-05:00"),
        r"contacts\.csv row 3, column arrived_at: expected an ISO 8601 timestamp from year 1700 to 2199, "
        r'got "9999-12-31T23:59:59-05:00"',
    ),
    (
        "hire date in year 1",
        replace_cell("agents.csv", 2, "hire_date", "0001-01-01"),
        r'agents\.csv row 2, column hire_date: expected a date \(YYYY-MM-DD\) from year 1700 to 2199, got "0001-01-01"',
    ),
    (
        "corrupt gzip",
        {"clients.csv": None, "clients.csv.gz": b"\x1f\x8b\x08\x00garbage"},
        r"clients\.csv\.gz: not a readable gzip file \(",
    ),
    (
        "gzip cut short",
        {"clients.csv": None, "clients.csv.gz": gzip.compress(GOOD["clients.csv"].encode() * 50)[:-12]},
        r"clients\.csv\.gz: not a readable gzip file \(EOFError: Compressed file ended",
    ),
    (
        "parquet column of lists",
        {"clients.csv": None, "clients.parquet": parquet_clients(monthly_fee=pa_array([[1, 2], [3]]))},
        r"clients\.parquet, column monthly_fee: expected text, numbers, true/false, dates or timestamps, "
        r"got a Parquet column of type list<element: int64>",
    ),
    (
        "parquet column of bytes",
        {"clients.csv": None, "clients.parquet": parquet_clients(client_name=pa_array([b"\xff\x00", b"x"]))},
        r"clients\.parquet, column client_name: expected text, numbers, true/false, dates or timestamps, "
        r"got a Parquet column of type binary",
    ),
    (
        "parquet column of records",
        {"clients.csv": None, "clients.parquet": parquet_clients(client_name=pa_array([{"a": 1}, {"a": 2}]))},
        r"clients\.parquet, column client_name: expected text, .* got a Parquet column of type struct<a: int64>",
    ),
    (
        "xlsx header naming a column twice",  # pandas renamed the second client_name.1 and went on
        {
            "clients.csv": None,
            "clients.xlsx": xlsx_bytes(
                [
                    ["client_id", "client_name", "tier", "sla_profile", "client_name"],
                    ["C1", "Acme", "gold", "gold", "Other"],
                    ["C2", "Beta", "silver", "silver", "Other"],
                ]
            ),
        },
        r"clients\.xlsx row 1: column client_name appears more than once in the header",
    ),
    ("empty file", {"clients.csv": ""}, r"clients\.csv: the file is empty"),
    (
        "header only",
        {"clients.csv": "client_id,client_name,tier,sla_profile\n"},
        r"clients\.csv: the file has a header but no data rows",
    ),
    ("binary file", {"clients.csv": b"PK\x03\x04\x00\x00binary"}, r"clients\.csv: not a text file"),
    (
        "not utf-8",
        {"clients.csv": "client_id,client_name,sla_profile\nC1,Caf\xe9,gold\nC2,B,silver\n".encode("latin-1")},
        r"clients\.csv row 2: not UTF-8 text",
    ),
    ("required table missing", {"clients.csv": None}, r"clients: required table is missing"),
    (
        "no contacts nor intervals",
        {"contacts.csv": None},
        r"contacts: required table is missing \(or an intervals table\)",
    ),
    (
        "two files for a table",
        {"clients.parquet": b"not parquet"},
        r"clients\.csv, clients\.parquet: table clients is given by 2 files",
    ),
]


@pytest.mark.parametrize("name,changes,pattern", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_variant_exits_1_naming_file_row_column(tmp_path, capsys, name, changes, pattern):
    folder = build(tmp_path / "d", changes)
    assert main(["validate", "--data", str(folder)]) == 1
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert re.search(pattern, text), text
    assert "Traceback" not in text


def test_many_problems_of_one_kind_are_grouped(tmp_path, capsys):
    rows = [f"x{i},phone,Benefits,C1,2025-01-06T09:00:00-05:00,abandoned,-{i + 1},,,,,,,," for i in range(40)]
    text = GOOD["contacts.csv"] + "\n".join(rows) + "\n"
    assert main(["validate", "--data", str(build(tmp_path / "d", {"contacts.csv": text}))]) == 1
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if "wait_s" in ln]
    assert len(lines) == 1
    assert 'in 40 rows (first rows: 6 ("-1"), 7 ("-2"), 8 ("-3"), 9 ("-4"), 10 ("-5"))' in lines[0]


def test_errors_reach_the_user_as_exit_1_from_the_console_script(tmp_path):
    import subprocess
    import sys

    folder = build(tmp_path / "d", replace_cell("contacts.csv", 3, "wait_s", "-12"))
    proc = subprocess.run(
        [sys.executable, "-m", "reportlib", "validate", "--data", str(folder)], capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert 'contacts.csv row 3, column wait_s: expected a number >= 0, got "-12"' in proc.stdout


@pytest.mark.parametrize(
    "command,changes",
    [
        (["attrition", "--month", "2024-06"], replace_cell("agents.csv", 3, "termination_date", "9999-06-30")),
        (["attrition", "--month", "2024-06"], replace_cell("agents.csv", 2, "hire_date", "0001-01-01")),
        (["kpis", "--month", "2025-01"], replace_cell("contacts.csv", 2, "arrived_at", "0001-01-06T09:00:00-05:00")),
    ],
    ids=["termination-9999", "hire-0001", "contact-0001"],
)
def test_dates_beyond_the_engines_range_stop_a_command_with_one_line(tmp_path, capsys, command, changes):
    """Years pandas cannot hold in nanoseconds (before 1677, after 2262) were typed, then crashed the
    metrics (OutOfBoundsDatetime traceback); they are a problem of the cell, exit 1."""
    folder = build(tmp_path / "d", changes)
    assert main([*command, "--data", str(folder)]) == 1
    captured = capsys.readouterr()
    assert re.search(r"row \d, column \w+: expected .* from year 1700 to 2199", captured.err), captured.err
    assert "Traceback" not in captured.out + captured.err


def test_a_key_cell_that_cannot_be_read_is_not_also_a_duplicate(tmp_path, capsys):
    """Two activity rows of A1 whose dates cannot be read (or lie outside the years data may hold) were
    also listed as duplicates of each other ("NaT / A1"): one problem, printed once."""
    row = GOOD["agent_activity.csv"].splitlines()[1]
    text = GOOD["agent_activity.csv"] + row.replace("2025-01-06", "2025-01-07") + "\n"
    text = text.replace("2025-01-06,A1", "9999-01-06,A1").replace("2025-01-07,A1", "9999-01-07,A1")
    assert main(["validate", "--data", str(build(tmp_path / "d", {"agent_activity.csv": text}))]) == 1
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("error: ")]
    assert lines == [
        "error: agent_activity.csv, column date: expected a date (YYYY-MM-DD) from year 1700 to 2199 in 2 rows "
        '(first rows: 2 ("9999-01-06"), 3 ("9999-01-07"))'
    ], lines


def test_a_contact_arriving_in_the_future_is_an_error_by_row(tmp_path, capsys):
    """One email dated 2030 among a month's contacts made the data's end 2030 (every email open at the export read
    as missed) and passed validate: now an error naming file, row and column, exit 1; the reports do not run."""
    contacts = GOOD["contacts.csv"] + "K9,email,Benefits,C1,2030-01-15T10:00:00-05:00,open,,,,,,,,,\n"
    folder = build(tmp_path / "d", {"contacts.csv": contacts})
    row = len(contacts.splitlines())
    assert main(["validate", "--data", str(folder)]) == 1
    out = capsys.readouterr().out
    assert (
        f"error: contacts.csv row {row}, column arrived_at: expected an arrival before the day after tomorrow, when the check runs "
        in out
    )
    assert '(a contact cannot arrive in the future: a date typed wrong), got "2030-01-15T10:00:00-05:00"' in out
    assert main(["kpis", "--month", "2025-01", "--data", str(folder)]) == 1
    assert "a contact cannot arrive in the future" in capsys.readouterr().err
    # an export taken now at the far end of the world's clocks (UTC+14, its local wall time a day ahead of UTC
    # for part of the day) holds no contact "in the future"
    now = pd.Timestamp.now(tz="Pacific/Kiritimati").floor("s")
    contacts = GOOD["contacts.csv"] + f"K8,email,Benefits,C1,{now.isoformat()},open,,,,,,,,,\n"
    folder = build(tmp_path / "e", {"contacts.csv": contacts})
    (tmp_path / "kiritimati.yaml").write_text("timezone: Pacific/Kiritimati\n")
    assert main(["validate", "--data", str(folder), "--params", str(tmp_path / "kiritimati.yaml")]) == 0, (
        capsys.readouterr().out
    )
    # the rule's date is the day the check runs, also in a process left running for days (a Lab kernel): the
    # compiled check is kept per day
    from reportlib.data import load

    assert "MAKE_TIMESTAMP(2026, 12, 3," in load._rules_sql("contacts", "2026-12-01")[0]
    soon = pd.Timestamp.now(tz="UTC").normalize() + pd.Timedelta(days=2)
    assert f"MAKE_TIMESTAMP({soon.year}, {soon.month}, {soon.day}," in load.rules_sql("contacts")[0]


def test_names_differing_only_in_case_are_warned_across_tables(tmp_path, capsys):
    """A probe's "Benefits" and "benefits" were two queues in every figure without a word, and a plan for
    "benefits" met no contacts (plan vs actual: -40.8% volume, the note naming one half). validate now warns,
    naming each spelling with the files it is in; kept as given, exit 0. A team likewise; one spelling is none."""
    contacts = GOOD["contacts.csv"].replace("k4,chat,Debit Card", "k4,chat,BENEFITS")
    agents = GOOD["agents.csv"].replace("A2,Bo Chan,Team 1", "A2,Bo Chan,team 1")
    plan = "interval_start,interval_minutes,channel,queue,forecast_offered,forecast_aht_s,planned_agents\n"
    plan += "2025-01-06T09:00:00,30,phone,benefits,4,300,2\n"
    folder = build(tmp_path / "d", {"contacts.csv": contacts, "agents.csv": agents, "interval_plan.csv": plan})
    assert main(["validate", "--data", str(folder)]) == 0
    warns = [ln for ln in capsys.readouterr().out.splitlines() if "one spelling per" in ln]
    assert warns == [
        "warning: contacts.csv, interval_plan.csv, column queue: one spelling per queue (kept as given: each spelling "
        'is a queue of its own in every figure, and a plan meets only the contacts spelled as it is): "BENEFITS" '
        'in contacts.csv and "Benefits" in contacts.csv and "benefits" in interval_plan.csv differ only in letter case',
        "warning: agents.csv, column team: one spelling per team (kept as given: each spelling is a team of its own in "
        'every figure): "Team 1" in agents.csv and "team 1" in agents.csv differ only in letter case',
    ], warns
    assert main(["validate", "--data", str(build(tmp_path / "e", {}))]) == 0
    assert "one spelling per" not in capsys.readouterr().out


def test_client_ids_that_look_alike_are_warned_by_code_point(tmp_path, capsys):
    """A probe's clients "Acme_1", "Acme_1\u200b" (a zero-width space) and "Caf\xe9" / "Cafe\u0301" (two Unicode
    forms) were listed alike in the month's index and validate said nothing: they are warned, each spelling by
    its code points where two print alike; kept as given, exit 0. The index shows an id's invisible characters."""
    from reportlib.delivery.run import index_html

    clients = (
        GOOD["clients.csv"]
        + "C1\u200b,Acme Two,gold,gold,1\nCaf\xe9,Cafe,gold,gold,1\nCafe\u0301,Cafe 2,gold,gold,1\n"
        + "ACME,Acme Latin,gold,gold,1\n\u0410CME,Acme Cyrillic,gold,gold,1\n"  # a Cyrillic "А" (a probe: not warned)
    )
    assert main(["validate", "--data", str(build(tmp_path / "d", {"clients.csv": clients}))]) == 0
    warns = [ln for ln in capsys.readouterr().out.splitlines() if "one spelling per client_id" in ln]
    assert warns == [
        "warning: clients.csv, column client_id: one spelling per client_id (kept as given: each spelling is a "
        'client_id of its own in every figure): "C1" in clients.csv and "C1\\u200b" in clients.csv; "Cafe\\u0301" in '
        'clients.csv and "Caf\\xe9" in clients.csv; "ACME" in clients.csv and "\\u0410CME" in clients.csv look alike '
        "(letter case, Unicode form, invisible characters or letters of another script)"
    ], warns
    page = index_html({"month": "2026-11", "reports": [
        {"report": "client_review", "client_id": c, "status": "ok", "html": "x.html"} for c in ("C1", "C1\u200b")]})  # fmt: skip
    assert "<td>C1</td>" in page and "<td>C1\\u200b</td>" in page


def test_an_interval_starting_in_the_hour_the_clocks_skip_is_warned(tmp_path, capsys):
    """A plan with rows at 02:00 and 02:30 on Sunday 9 March 2025 in New York (times without an offset): no clock
    shows them, and their counts were added to the day's (a probe's plan vs actual read -33% volume). validate
    names them (kept as given, exit 0); a time given with its offset is a real instant and passes."""
    head = "interval_start,interval_minutes,channel,queue,forecast_offered,forecast_aht_s,planned_agents\n"
    rows = [f"2025-03-09T{hm},30,phone,Night,2,300,1\n" for hm in ("01:30:00", "02:00:00", "02:30:00", "03:00:00")]
    rows.append("2025-03-09T03:30:00-04:00,30,phone,Night,2,300,1\n")
    folder = build(tmp_path / "d", {"interval_plan.csv": head + "".join(rows)})
    assert main(["validate", "--data", str(folder)]) == 0
    out = capsys.readouterr().out
    assert (
        "warning: interval_plan.csv, column interval_start: expected a local time that exists in America/New_York "
        "(kept as given: a start in the hour the clocks go forward falls in an interval no clock shows; drop the row, "
        'or give the time with its offset) in 2 rows (first rows: 3 ("2025-03-09T02:00:00"), 4 ("2025-03-09T02:30:00"))'
    ) in out, out
    # a contact's arrival too (a probe: a folder kept 02:30 in an interval the day has not, a database read 03:30)
    contacts = GOOD["contacts.csv"] + "k9,phone,Benefits,C1,2025-03-09T02:30:00,abandoned,40,,,,,,,,p9\n"
    folder = build(tmp_path / "c", {"contacts.csv": contacts})
    assert main(["validate", "--data", str(folder)]) == 0
    out = capsys.readouterr().out
    assert (
        "warning: contacts.csv row 6, column arrived_at: expected a local time that exists in America/New_York (kept "
        "as given: an arrival in the hour the clocks go forward falls in an interval no clock shows; give the time "
        'with its offset), got "2025-03-09T02:30:00"'
    ) in out, out


def test_interval_rows_that_overlap_in_time_are_refused_by_row(tmp_path, capsys):
    """A WFM export with an hourly summary row among its half-hour rows: 09:00 for 60 minutes beside 09:30 for 30
    counts 09:30-10:00 twice (a probe's 40 offered contacts read as 80), and validate passed it. Each row that
    starts before an earlier row of its channel and queue (and client) ends is an error by row; lengths that change
    without overlapping (30-minute rows, then 15-minute ones) and another client's row at the same time pass."""
    head = "interval_start,interval_minutes,channel,queue,client_id,offered,handled\n"
    rows = [
        "2025-01-06T09:00:00,60,phone,Benefits,C1,40,40\n",
        "2025-01-06T09:00:00,30,phone,Benefits,C2,20,20\n",  # another client: its own series
        "2025-01-06T09:30:00,30,phone,Benefits,C1,20,20\n",  # inside the hour above: row 4
        "2025-01-06T10:00:00,30,phone,Benefits,C1,5,5\n",
        "2025-01-06T10:30:00,15,phone,Benefits,C1,3,3\n",
        "2025-01-06T10:45:00,15,phone,Benefits,C1,3,3\n",
        "2025-01-06T10:00:00,15,email,Benefits,C1,3,3\n",  # another channel
    ]
    folder = build(tmp_path / "d", {"intervals.csv": head + "".join(rows)})
    assert main(["validate", "--data", str(folder)]) == 1
    out = capsys.readouterr().out
    assert (
        "intervals.csv row 4, column interval_start: expected a start at or after the end of the earlier rows of its "
        "channel, queue and client_id (rows that overlap in time count the same minutes twice: a 60-minute row "
        "beside its 30-minute rows counts their contacts and agents twice; lengths may differ, but not overlap), got "
        '"2025-01-06 09:30:00 for 30 min, while an earlier row runs to 2025-01-06 10:00:00"'
    ) in out, out
    assert out.count("error: ") == 1, out
    del rows[0]
    rows.insert(0, "2025-01-06T09:00:00,30,phone,Benefits,C1,20,20\n")
    assert main(["validate", "--data", str(build(tmp_path / "e", {"intervals.csv": head + "".join(rows)}))]) == 0
    assert "overlap" not in capsys.readouterr().out
    plan = "interval_start,interval_minutes,channel,queue,forecast_offered,forecast_aht_s,planned_agents\n"
    plan += "2025-01-06T09:00:00,30,phone,Benefits,4,300,2\n2025-01-06T09:15:00,15,phone,Benefits,4,300,2\n"
    assert main(["validate", "--data", str(build(tmp_path / "f", {"interval_plan.csv": plan}))]) == 1
    assert "interval_plan.csv row 3, column interval_start: expected a start at or after the end of the earlier " in (
        capsys.readouterr().out
    )


def test_rows_doubtful_across_columns_are_warnings_by_row(tmp_path, capsys):
    """contract.table_rules' rules across columns, checked in a folder (the same declarations the database
    checker runs in SQL): each a warning naming file, row and column with the cell as written; exit 0."""
    agents = GOOD["agents.csv"].replace(
        "A1,Ann Lee,Team 1,Sue,North,agent,2024-01-01,,,", "A1,Ann Lee,Team 1,Sue,North,agent,2024-01-01,,voluntary,"
    )
    activity = GOOD["agent_activity.csv"] + "2025-01-07,A1,28800,1200,3600,0,0,0,0,0,0,false,29000\n"
    activity += "2025-01-08,A1,0,3600,3000,0,0,0,0,0,0,false,0\n"  # a probe: logged in, no schedule
    intervals = (
        "interval_start,interval_minutes,channel,queue,client_id,offered,handled\n"
        "2025-01-06T09:00:00,5,phone,Benefits,C1,10,9\n"
        "2025-01-06T09:07:00,15,phone,Benefits,C1,12,12\n"
        "2025-01-06T09:30:00,30,phone,Benefits,C2,8,8\n"
    )
    folder = build(tmp_path / "d", {"agents.csv": agents, "agent_activity.csv": activity, "intervals.csv": intervals})
    assert main(["validate", "--data", str(folder)]) == 0
    lines = [ln.removeprefix("warning: ") for ln in capsys.readouterr().out.splitlines() if ln.startswith("warning: ")]
    assert sorted(lines) == sorted(
        [
            "intervals.csv row 3, column interval_start: expected a start on the grid of its interval_minutes in local "
            'time (09:00, 09:15, ... for 15; kept as given), got "2025-01-06T09:07:00"',
            "agents.csv row 2, column termination_type: expected empty while termination_date is empty (kept as "
            'given: the agent counts as employed), got "voluntary"',
            "agent_activity.csv row 3, column handle_s: expected a handle time no longer than logged_in_s (kept as "
            'given), got "3600"',
            "agent_activity.csv row 3, column in_adherence_s: expected no more than scheduled_s (kept as given: "
            'adherence over 100%), got "29000"',
            "agent_activity.csv row 4, column scheduled_s: expected above 0 on a day with time logged in (kept as "
            "given: the day counts in occupancy and utilization, and its handling and available time, against no "
            "schedule, lower the team's shrinkage; a schedule missing from the export, or overtime on a day off), "
            'got "0"',
        ]
    ), lines


def test_a_count_too_large_for_an_integer_is_checked_not_a_traceback(tmp_path, capsys):
    """The whole-count rule floors the value and casts it to an integer, which 1e300 overflows (a DuckDB
    conversion error, a traceback). A number that large is now refused before any rule (NUMBER_LIMIT), and the
    rule does not fire on it; 12.5 is named by the rule."""
    intervals = (
        "interval_start,interval_minutes,channel,queue,client_id,offered,handled\n"
        "2025-01-06T09:00:00,15,phone,Benefits,C1,1e300,9\n"
        "2025-01-06T09:15:00,15,phone,Benefits,C1,12.5,12\n"
    )
    assert main(["validate", "--data", str(build(tmp_path / "d", {"intervals.csv": intervals}))]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert [ln for ln in captured.out.splitlines() if "1e300" in ln] == [
        "error: intervals.csv row 2, column offered: expected a number >= 0, under 1e15 (a larger one overflows the "
        'figures), got "1e300"'
    ]
    near = intervals.replace("1e300", "9.9e14")  # under the limit, and whole: the rule's cast holds it
    assert main(["validate", "--data", str(build(tmp_path / "e", {"intervals.csv": near}))]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert (
        'warning: intervals.csv row 3, column offered: expected a whole count (fractional counts kept as given), got "12.5"'
        in lines
    )
    assert not any("9.9e14" in ln for ln in lines), lines


def test_an_unforeseen_failure_is_one_line_not_a_traceback(monkeypatch, capsys):
    """A failure no check foresaw (here a command made to raise, standing in for an engine's own error) is one line
    naming the command and the error, exit 1, a password in it hidden; REPORTLIB_DEBUG=1 lets it through."""
    import reportlib.cli as cli

    def broken(args):
        raise RuntimeError("server closed the connection\n  for postgres://ops:s3cret@db.example.com/x")

    monkeypatch.setattr(cli, "_cmd_kpis", broken)
    monkeypatch.delenv("REPORTLIB_DEBUG", raising=False)
    assert cli.main(["kpis", "--month", "2026-01"]) == 1
    err = capsys.readouterr().err
    (line,) = err.strip().splitlines()
    assert line.startswith("reportlib kpis: failed unexpectedly: RuntimeError: server closed the connection")
    assert "s3cret" not in err and "Traceback" not in err
    monkeypatch.setenv("REPORTLIB_DEBUG", "1")
    with pytest.raises(RuntimeError):
        cli.main(["kpis", "--month", "2026-01"])


def test_kpis_lists_the_data_quality_warnings_its_figures_include(tmp_path, capsys):
    """A handle time of 1e300 s was kept as given (validate warned): kpis printed a mean of 1.5e295 s and said
    nothing. Such a number is now refused (NUMBER_LIMIT); a long one that is kept, 90000 s, is named on kpis' stderr
    by row and column, as validate and the reports' data-quality note name it."""
    folder = build(tmp_path / "d", {"contacts.csv": GOOD["contacts.csv"].replace(",12,300,A1,", ",12,90000,A1,")})
    assert main(["kpis", "--data", str(folder), "--month", "2025-01", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("month,")  # stdout stays a table
    assert "reportlib kpis: 1 data-quality warning in the data these figures come from" in err
    assert (
        'contacts.csv row 2, column handle_s: expected a handle time under 4 hours (kept as given), got "90000"' in err
    )
    # clean data: no such line
    assert main(["kpis", "--data", str(build(tmp_path / "g", {})), "--month", "2025-01", "--format", "csv"]) == 0
    assert "data-quality warning" not in capsys.readouterr().err
    # the same data in a DuckDB file: the same warning, named by key (a probe: every page and kpis from a database
    # said none were raised; the engine's check found it and kept it to itself)
    db = tmp_path / "d.duckdb"
    assert main(["load", "--data", str(folder), "--into", f"duckdb:///{db}"]) == 0
    capsys.readouterr()
    assert main(["kpis", "--data", f"duckdb:///{db}", "--month", "2025-01", "--format", "csv"]) == 0
    err = capsys.readouterr().err
    assert "reportlib kpis: 1 data-quality warning in the data these figures come from" in err
    assert "handle_s: expected a handle time under 4 hours (kept as given)" in err
    from reportlib.data.load import open_source, require_contract

    source = open_source(f"duckdb:///{db}")
    require_contract(source)
    assert source.warnings == source.validate()[1] and len(source.warnings) == 1


def test_validate_on_a_database_says_each_table_as_it_is_checked(tmp_path, capsys):
    """A large PostgreSQL source took a minute after 'checking the data' with nothing on the screen: each table's
    check is now a progress line (DuckDB here: the same engine check)."""
    folder = build(tmp_path / "d", {})
    url = f"duckdb:///{tmp_path / 'store.duckdb'}"
    assert main(["load", "--data", str(folder), "--into", url]) == 0
    capsys.readouterr()
    assert main(["validate", "--data", url]) == 0
    err = capsys.readouterr().err
    assert "checked contacts (db table main.contacts) against the contract" in err
    assert "checked the references across tables" in err


def test_the_repeated_hour_of_the_clocks_going_back_is_named_as_such(tmp_path, capsys):
    """A round-the-clock interval export in New York: 01:00-04:00 and 01:00-05:00 on Sunday 7 November 2027 are two
    intervals, but kept as local wall time they share 01:00. validate said only "duplicate rows", naming rows that
    the file shows are not; it now says why and what to do. A real duplicate (10:00 twice) keeps the plain message."""
    head = "interval_start,interval_minutes,channel,queue,client_id,offered,handled\n"
    rows = [
        f"2027-11-07T{t},30,phone,Overnight,C1,3,3\n" for t in ("00:30:00-04:00", "01:00:00-04:00", "01:00:00-05:00")
    ]
    folder = build(tmp_path / "d", {"intervals.csv": head + "".join(rows)})
    assert main(["validate", "--data", str(folder)]) == 1
    out = capsys.readouterr().out
    assert (
        "(duplicate rows; every repeated interval_start is in the hour the clocks go back in America/New_York, whose "
        "two passes share one local wall time, as reportlib keeps times: if a pair is that hour's two passes, merge "
        "it into one row (counts summed, agents and times averaged); if it is one interval given twice, keep one) "
        'in 2 rows (first rows: 3 ("2027-11-07 01:00:00 / phone / Overnight / C1"), 4 (' in out
    )
    rows.append("2027-11-07T10:00:00-05:00,30,phone,Overnight,C1,3,3\n" * 2)
    assert main(["validate", "--data", str(build(tmp_path / "e", {"intervals.csv": head + "".join(rows)}))]) == 1
    out = capsys.readouterr().out
    assert "(duplicate rows) in 4 rows" in out and "clocks go back" not in out


@pytest.mark.parametrize("value", ["99999999999999999999999", "1e308", "-1e30"])
def test_a_whole_number_beyond_any_integer_is_named_not_a_crash(tmp_path, capsys, value):
    """A fuzz probe put csat = 1e23 and 1e308 in one contact: validate and kpis said "failed unexpectedly:
    TypeError: cannot safely cast non-equivalent float64 to int64" with a numpy warning, naming nothing."""
    folder = build(tmp_path / "d", replace_cell("contacts.csv", 2, "csat", value))
    for argv in (["validate"], ["kpis", "--month", "2025-01"]):
        assert main([*argv, "--data", str(folder)]) == 1
        captured = capsys.readouterr()
        text = captured.out + captured.err
        assert "contacts.csv row 2, column csat: expected a whole number from 1 to 5" in text, text
        assert "unexpectedly" not in text and "RuntimeWarning" not in text


def test_a_table_given_by_two_files_is_read_by_no_command(tmp_path, capsys):
    """An old agents.csv beside the current agents.xlsx: validate refused it, but attrition exited 0 with the old
    file's figures (the first name in order) and said the table was "not read". Every command that needs the
    table (kpis does: contacts refer to the roster) now stops with the same line."""
    stale = GOOD["agents.csv"].replace("2024-02-01,2024-06-30,voluntary,Better pay,true", "2024-02-01,,,,")
    folder = build(tmp_path / "d", {"agents.csv": stale})
    rows = [line.split(",") for line in GOOD["agents.csv"].splitlines()]
    (folder / "agents.xlsx").write_bytes(xlsx_bytes(rows))
    line = "agents.csv, agents.xlsx: table agents is given by 2 files; keep exactly one"
    assert main(["attrition", "--data", str(folder), "--month", "2024-06"]) == 1
    captured = capsys.readouterr()
    assert line in captured.err and captured.out == ""
    assert main(["validate", "--data", str(folder)]) == 1
    out = capsys.readouterr().out
    assert out.count(line) == 1 and "agents: required table is missing" not in out
    assert main(["kpis", "--data", str(folder), "--month", "2025-01"]) == 1  # contacts refer to the roster
    assert line in capsys.readouterr().err


def test_a_number_too_large_for_the_figures_is_refused_in_a_file(tmp_path, capsys):
    """wait_s = 1e308 in a file: refused by file, row and column (kpis printed a speed of answer of 2.9e303 s)."""
    folder = build(tmp_path / "d", replace_cell("contacts.csv", 2, "wait_s", "1e308"))
    assert main(["validate", "--data", str(folder)]) == 1
    assert (
        "error: contacts.csv row 2, column wait_s: expected a number >= 0, under 1e15 (a larger one overflows the "
        'figures), got "1e308"' in capsys.readouterr().out
    )


def test_a_source_without_contacts_names_contacts_not_only_its_alternative(tmp_path, capsys):
    """contacts.csv missing: kpis said "has no intervals table; this needs it", naming the alternative only."""
    folder = build(tmp_path / "d", {"contacts.csv": None})
    assert main(["kpis", "--data", str(folder), "--month", "2025-01"]) == 1
    assert "has no contacts table (nor an intervals table, its alternative); this needs one" in capsys.readouterr().err


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_file_is_named_as_such(tmp_path, capsys, encoding):
    """Excel's "Unicode text" is UTF-16: the message was "not a text file (it holds binary data: a NUL byte)"."""
    folder = build(tmp_path / "d", {"clients.csv": GOOD["clients.csv"].encode(encoding)})
    assert main(["validate", "--data", str(folder)]) == 1
    assert "error: clients.csv: UTF-16 text; save the file as UTF-8 (CSV UTF-8 in Excel)" in capsys.readouterr().out
    # a binary file with a NUL byte is still said to be one
    folder = build(tmp_path / "e", {"clients.csv": b"client_id,client_name\nC1,\x00\x01\x02\n"})
    assert main(["validate", "--data", str(folder)]) == 1
    assert "clients.csv row 2: not a text file (it holds binary data: a NUL byte)" in capsys.readouterr().out


def test_a_table_with_a_problem_says_its_checks_across_tables_follow(tmp_path, capsys):
    """A newcomer's probe: a negative wait_s in one row and an unknown client_id in another gave "1 problem to
    fix"; the client_id was named only once the first was fixed. The summary says that the checks across tables
    run once the problems are fixed (they need every table read whole), and the second run names it."""
    contacts = replace_cell("contacts.csv", 2, "wait_s", "-12")["contacts.csv"].replace(
        ",C2,2025-01-06T09:01", ",C9,2025-01-06T09:01"
    )
    folder = build(tmp_path / "d", {"contacts.csv": contacts})
    assert main(["validate", "--data", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "1 problem to fix" in err and "checks across tables" in err and "run once these are fixed" in err
    (folder / "contacts.csv").write_text(contacts.replace(",-12,", ",12,"))
    assert main(["validate", "--data", str(folder)]) == 1
    assert "column client_id: expected a client_id listed in clients.csv" in capsys.readouterr().out


def test_several_failed_checks_give_no_library_warning_on_stderr(tmp_path):
    """A probe: two bad cells of interval_plan.csv printed pandas' FutureWarning (from pandera's report of its
    failures, which concatenates empty frames) before the lines naming them: a library's two-line notice on stderr.
    Checked with FutureWarning as an error, in a process of its own."""
    import os
    import subprocess
    import sys

    plan = "interval_start,interval_minutes,channel,queue,forecast_offered,forecast_aht_s,planned_agents\n"
    plan += "2025-01-06T09:00:00,-15,phone,Benefits,4,300,2\n2025-01-06T09:30:00,30,phone,Benefits,4,300,1e400\n"
    folder = build(tmp_path / "d", {"interval_plan.csv": plan})
    env = {**os.environ, "REPORTLIB_CACHE": str(tmp_path / "cache")}
    cmd = [sys.executable, "-W", "error::FutureWarning", "-m", "reportlib", "validate", "--data", str(folder)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr and "FutureWarning" not in done.stderr
    assert 'interval_plan.csv row 3, column planned_agents: expected a number >= 0, got "1e400"' in done.stdout
