"""The HRDataset_v14 adapter: messy input (BOM, CRLF, trailing spaces, M/D/YYYY and 2-digit years), the
documented mapping, refusal of broken files, and the real file in ../shared/data end to end."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import shared_path

from reportlib.core.errors import DataError
from reportlib.data.import_hr import (
    hr_to_agents,
    load_hr,
    parse_us_dates,
    read_hr_csv,
    role_from_position,
    snapshot_date,
)

HEADER = (
    "Employee_Name,EmpID,Termd,Position,State,DOB,DateofHire,DateofTermination,TermReason,"
    "EmploymentStatus,Department,ManagerName,Salary,PerformanceScore,LastPerformanceReview_Date"
)
LINES = [
    '"Adams, Ann  B",1001,0,Production Technician I,MA ,09/27/87,7/5/2011,,N/A-StillEmployed,Active,Production       ,Kay Lee,62400,Fully Meets,1/17/2019',
    '"Brown, Bo   ",1002,1,Sr. DBA,CT,05/05/1975,03/30/2015,6/16/2016,more money,Voluntarily Terminated,IT/IS,Sam Roe,104000,Exceeds,2/24/2016',
    '"Cole, Cy",1003,1,Production Manager,MA,3/1/61,1/9/2006,11/10/2018,attendance,Terminated for Cause,Production       ,Kay Lee,83200,Fully Meets,',
    '"Dee, Di",1004,1,Area Sales Manager,TX,12/31/90,2/1/2012,3/4/2013,unhappy,Voluntarily Terminated,Sales,Ann Wu,52000,PIP,',
]


def write_messy(path: Path, lines: list[str] = LINES) -> Path:
    """The header and lines as the Excel re-save has them: UTF-8 BOM and CRLF line ends."""
    path.write_bytes(b"\xef\xbb\xbf" + ("\r\n".join([HEADER, *lines]) + "\r\n").encode("utf-8"))
    return path


def test_parse_us_dates_and_two_digit_years():
    problems: list[str] = []
    values = pd.Series(
        ["7/5/2011", "07/05/2011", "3/30/15", "09/27/87", "", "2011-07-05", "13/45/2011", "N/A", "1/1/2300", "1/1/1600"]
    )
    got = parse_us_dates(values, "DateofHire", "f.csv", pd.Timestamp("2019-02-28"), problems)
    assert got.iloc[:4].tolist() == [
        pd.Timestamp("2011-07-05"),
        pd.Timestamp("2011-07-05"),
        pd.Timestamp("2015-03-30"),
        pd.Timestamp("1987-09-27"),
    ]
    assert pd.isna(got.iloc[4]) and got.iloc[5] == pd.Timestamp("2011-07-05")
    # years outside those every reportlib date takes (pandas' own range ends in 2262: 1/1/2300 was a traceback)
    assert problems == [
        f"f.csv row {row}, column DateofHire: expected a date as M/D/YYYY from 1700 to 2199, got {v!r}"
        for row, v in ((8, "13/45/2011"), (9, "N/A"), (10, "1/1/2300"), (11, "1/1/1600"))  # header = row 1
    ]
    assert got.iloc[6:].isna().all()
    # a 2-digit year goes to the latest century that is not after the snapshot
    assert parse_us_dates(pd.Series(["1/1/19"]), "c", "f", pd.Timestamp("2019-02-28"), [])[0].year == 2019
    assert parse_us_dates(pd.Series(["3/1/19"]), "c", "f", pd.Timestamp("2019-02-28"), [])[0].year == 1919


def test_role_rule():
    assert role_from_position("Production Technician I") == "agent"
    assert role_from_position("Production Manager") == "supervisor"
    assert role_from_position("President & CEO") == "supervisor"
    assert role_from_position("Area Sales Manager") == "agent"
    assert role_from_position("Sr. DBA") == "lead"
    assert role_from_position("Senior BI Developer") == "lead"
    assert role_from_position("Data Architect") == "lead"


def test_mapping_of_a_messy_file(tmp_path):
    raw = read_hr_csv(write_messy(tmp_path / "hr.csv"))
    assert list(raw.columns)[0] == "Employee_Name"  # the BOM is gone
    assert snapshot_date(raw) == pd.Timestamp("2019-01-17")  # latest 4-digit date in any date column
    a = hr_to_agents(raw, "hr.csv").set_index("agent_id")
    assert list(a.reset_index().columns) == [
        "agent_id",
        "name",
        "team",
        "supervisor",
        "site",
        "role",
        "hire_date",
        "termination_date",
        "termination_type",
        "termination_reason",
        "regretted",
        "fte",
        "hourly_cost",
    ]
    assert a.loc["1001", "name"] == "Adams, Ann B" and a.loc["1002", "name"] == "Brown, Bo"
    assert a.loc["1001", "team"] == "Production" and a.loc["1001", "site"] == "MA"
    assert a.loc["1001", "supervisor"] == "Kay Lee"
    assert a["role"].to_dict() == {"1001": "agent", "1002": "lead", "1003": "supervisor", "1004": "agent"}
    assert a["hire_date"].tolist() == pd.to_datetime(["2011-07-05", "2015-03-30", "2006-01-09", "2012-02-01"]).tolist()
    assert pd.isna(a.loc["1001", "termination_date"]) and a.loc["1003", "termination_date"] == pd.Timestamp(
        "2018-11-10"
    )
    assert a["termination_type"].tolist()[1:] == ["voluntary", "involuntary", "voluntary"]
    assert pd.isna(a.loc["1001", "termination_type"]) and pd.isna(a.loc["1001", "termination_reason"])
    assert a.loc["1004", "termination_reason"] == "unhappy"
    # regretted: voluntary and rated Exceeds/Fully Meets; a PIP leaver or a dismissal is not; actives empty
    assert pd.isna(a.loc["1001", "regretted"])
    assert [bool(a.loc[i, "regretted"]) for i in ("1002", "1003", "1004")] == [True, False, False]
    assert (a["fte"] == 1.0).all()
    assert a.loc["1001", "hourly_cost"] == pytest.approx(62400 / 2080)
    loaded = hr_to_agents(raw, "hr.csv", loading=1.3).set_index("agent_id")
    assert loaded.loc["1001", "hourly_cost"] == pytest.approx(62400 / 2080 * 1.3, abs=0.005)


def test_broken_rows_are_named(tmp_path):
    broken = [
        LINES[0],
        '"Eve, E",1001,1,Production Technician I,MA,1/1/80,5/5/2012,,unhappy,Voluntarily Terminated,Production,Kay Lee,40000,Fully Meets,',
        '"Fay, F",,0,Production Technician I,MA,1/1/80,5/5/2012,4/4/2012,N/A-StillEmployed,Active,Production,Kay Lee,40000,Fully Meets,',
        '"Gil, G",1009,19,Production Technician I,MA,1/1/80,5/5/2012,,N/A-StillEmployed,Production,MA,Kay Lee,40000,Fully Meets,',
    ]
    with pytest.raises(DataError) as err:
        hr_to_agents(read_hr_csv(write_messy(tmp_path / "hr.csv", broken)), "hr.csv")
    text = str(err.value)
    # rows as `reportlib validate` numbers them: the header is row 1, broken[1] is line 3 of the file
    assert "hr.csv row 3, column EmpID: expected a unique employee id, got '1001'" in text
    assert "hr.csv row 4, column EmpID: expected an employee id, got ''" in text
    assert "hr.csv row 3, column DateofTermination: expected a termination date for a terminated employee" in text
    assert "hr.csv row 4, column DateofTermination: expected a date on or after DateofHire" in text
    assert "hr.csv row 5, column EmploymentStatus: expected one of Active, Voluntarily Terminated" in text
    with pytest.raises(DataError, match="column DateofHire is missing"):
        hr_to_agents(pd.DataFrame({"EmpID": ["1"]}), "x.csv")


def test_dirty_variant_is_refused_with_rows_named():
    path = shared_path("hr-dataset-v14", "HRDataset_v14_DIRTY_variant_oguzhanokyc01.csv")
    with pytest.raises(DataError) as err:
        load_hr(path)
    text = str(err.value)
    assert "column EmpID: expected an employee id" in text
    assert "column EmploymentStatus: expected one of" in text and "got 'Production'" in text
    # the row named is the file's line: the column-shifted record (one field short) is line 10
    with path.open(newline="", encoding="utf-8-sig") as fh:
        records = list(csv.reader(fh))
    (short,) = [line for line, rec in enumerate(records, start=1) if len(rec) != len(records[0])]
    assert short == 10
    assert f"{path.name} row {short}, column EmploymentStatus: expected one of" in text
    blank_ids = [line for line, rec in enumerate(records, start=1) if line > 1 and not rec[1].strip()]
    assert records[0][1] == "EmpID" and blank_ids[0] == 2
    assert f"{path.name} row 2, column EmpID: expected an employee id, got ''" in text


@pytest.mark.shared_data
def test_real_file_matches_its_source_notes():
    a = load_hr(shared_path("hr-dataset-v14", "HRDataset_v14.csv"))
    # SOURCE.txt: 311 rows; Termd 207/104; Voluntary 88, For cause 16; hires 2006-01-09..2018-07-09,
    # terminations 2010-08-30..2018-11-10; Departments Production 209, IT/IS 50, Sales 31, ...
    assert len(a) == 311 and a["agent_id"].is_unique
    assert a["termination_date"].notna().sum() == 104
    assert a["termination_type"].value_counts().to_dict() == {"voluntary": 88, "involuntary": 16}
    assert (a["hire_date"].min(), a["hire_date"].max()) == (pd.Timestamp("2006-01-09"), pd.Timestamp("2018-07-09"))
    assert (a["termination_date"].min(), a["termination_date"].max()) == (
        pd.Timestamp("2010-08-30"),
        pd.Timestamp("2018-11-10"),
    )
    assert a["team"].value_counts().to_dict() == {
        "Production": 209,
        "IT/IS": 50,
        "Sales": 31,
        "Software Engineering": 11,
        "Admin Offices": 9,
        "Executive Office": 1,
    }
    assert set(a["role"]) <= {"agent", "lead", "supervisor"}
    assert a.loc[a["termination_date"].isna(), "termination_reason"].isna().all()
    assert not a["name"].str.contains("  ").any() and not a["team"].str.endswith(" ").any()
    # the mixed DOB column (MM/DD/YYYY and MM/DD/YY) parses to 20th-century birthdays with the same rule
    raw = read_hr_csv(shared_path("hr-dataset-v14", "HRDataset_v14.csv"))
    problems: list[str] = []
    dob = parse_us_dates(raw["DOB"], "DOB", "HRDataset_v14.csv", snapshot_date(raw), problems)
    assert not problems and dob.notna().all() and dob.dt.year.between(1940, 2000).all()
    assert (raw["DOB"].str.len() == 8).sum() == 169  # SOURCE.txt: 169 rows with a 2-digit year


@pytest.mark.shared_data
def test_cli_import_hr_round_trips_through_the_loader(tmp_path, monkeypatch, capsys):
    from reportlib.cli import main
    from reportlib.data.load import open_source

    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    src = shared_path("hr-dataset-v14", "HRDataset_v14.csv")
    out = tmp_path / "hr"
    assert main(["import-hr", str(src), "--out", str(out)]) == 0
    (summary,) = json.loads(capsys.readouterr().out)
    assert summary["rows"] == 311 and summary["terminated"] == 104
    direct = load_hr(src)
    loaded = open_source(out).frame("agents")  # the lead's loader checks it against the contract
    assert len(loaded) == 311
    for col in ("agent_id", "name", "team", "role", "termination_type", "termination_reason"):
        assert loaded[col].fillna("").tolist() == direct[col].fillna("").tolist(), col
    assert (loaded["hire_date"].to_numpy() == direct["hire_date"].to_numpy()).all()
    assert loaded["regretted"].astype("boolean").fillna(False).tolist() == direct["regretted"].fillna(False).tolist()
    assert main(["import-hr", str(tmp_path / "missing.csv"), "--out", str(out)]) == 1
    assert "no such file" in capsys.readouterr().err


# --- refusals through the command line, from real rows of HRDataset_v14.csv ----------------------


def real_rows(n: int = 3) -> tuple[list[str], list[list[str]]]:
    """The header and the first n data rows of the real HRDataset_v14.csv, as the csv module reads them."""
    with shared_path("hr-dataset-v14", "HRDataset_v14.csv").open(newline="", encoding="utf-8-sig") as fh:
        records = list(csv.reader(fh))
    return records[0], [list(r) for r in records[1 : n + 1]]


def write_rows(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """A CSV file of header and rows (UTF-8, CRLF, as the Excel re-save)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows([header, *rows])
    return path


def run_import_hr(src: Path, out: Path, capsys) -> tuple[int, str, str]:
    """`reportlib import-hr SRC --out OUT`: (exit status, stdout, stderr)."""
    from reportlib.cli import main

    status = main(["import-hr", str(src), "--out", str(out)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_refused(status: int, out_text: str, err: str, out: Path) -> None:
    """Exit 1, a message and no traceback on stderr, nothing on stdout, no output folder or file."""
    assert status == 1
    assert out_text == ""
    assert err.startswith("reportlib import-hr: ") and "Traceback" not in err and "unexpectedly" not in err
    assert not out.exists()


@pytest.mark.shared_data
def test_cli_imports_a_few_real_rows(tmp_path, capsys):
    """The control for the refusals below: the unmodified rows import (62506 a year -> 30.05 an hour)."""
    header, rows = real_rows()
    src = write_rows(tmp_path / "hr.csv", header, rows)
    status, out_text, _ = run_import_hr(src, tmp_path / "out", capsys)
    assert status == 0 and json.loads(out_text)[0]["rows"] == 3
    written = pd.read_csv(tmp_path / "out" / "agents.csv", dtype=str)
    salary = [float(r[header.index("Salary")]) for r in rows]
    assert written["agent_id"].tolist() == [r[header.index("EmpID")] for r in rows]
    assert written["hourly_cost"].astype(float).tolist() == [round(s / 2080, 2) for s in salary]
    assert written.loc[0, "hourly_cost"] == "30.05" and salary[0] == 62506
    assert not (tmp_path / "out" / ".agents.csv.tmp").exists()


@pytest.mark.shared_data
def test_the_roster_is_never_written_through_a_planted_link_and_a_cr_in_a_name_stays_in_its_row(
    tmp_path, monkeypatch, capsys
):
    """A probe: agents.csv was written to the fixed name .agents.csv.tmp, following a link planted there (the
    roster, with pay, overwrote any file the operator can write), and a name's carriage return was written bare,
    which this tool's own reader (like Excel) takes for a line end."""
    from reportlib.data.load import open_source

    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    header, rows = real_rows()
    rows[1][header.index("Employee_Name")] = "Doe,\r=2+5 Jane"
    src = write_rows(tmp_path / "hr.csv", header, rows)
    out = tmp_path / "out"
    out.mkdir()
    victims = [tmp_path / "victim1.txt", tmp_path / "victim2.txt"]
    for v in victims:
        v.write_text("untouched\n")
    (out / ".agents.csv.tmp").symlink_to(victims[0])
    (out / "agents.csv").symlink_to(victims[1])
    status, _, err = run_import_hr(src, out, capsys)
    assert status == 0, err
    assert [v.read_text() for v in victims] == ["untouched\n"] * 2
    assert not (out / "agents.csv").is_symlink() and (out / "agents.csv").is_file()
    assert oct((out / "agents.csv").stat().st_mode & 0o777) == oct(0o600)  # HR data: the owner's alone
    loaded = open_source(out).frame("agents")
    assert len(loaded) == 3 and load_hr(src)["name"].tolist() == loaded["name"].tolist()


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("repeated", "extra"),
    [("Salary", "Salary"), ("Salary", " Salary "), ("EmpID", "EmpID"), ("EmpID", " EmpID ")],
)
def test_cli_refuses_a_column_repeated_in_the_header(tmp_path, capsys, repeated, extra):
    # before: pandas read a second "Salary" as "Salary.1" and the import used the first; " EmpID " became a
    # second EmpID once stripped ("failed unexpectedly: IndexError"); an exact second EmpID was ignored
    header, rows = real_rows()
    src = write_rows(tmp_path / "hr.csv", [*header, extra], [[*r, "1"] for r in rows])
    out = tmp_path / "out"
    status, out_text, err = run_import_hr(src, out, capsys)
    assert_refused(status, out_text, err, out)
    assert f"hr.csv row 1: column {repeated} appears more than once in the header" in err
    assert err.count("appears more than once") == 1


@pytest.mark.shared_data
def test_cli_refuses_a_header_only_file(tmp_path, capsys):
    header, _ = real_rows()
    src = write_rows(tmp_path / "hr.csv", header, [])
    out = tmp_path / "out"
    status, out_text, err = run_import_hr(src, out, capsys)
    assert_refused(status, out_text, err, out)  # it wrote an agents.csv of a header alone
    assert "hr.csv: no rows (the file has a header but no data rows)" in err


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "salary",
    ["€62.506", "62 506", "62.506", "$62.506", "6,25,06", "62,50", "$$62506", "6e4", "inf", "-62506", "62506$", ""],
)
def test_cli_refuses_a_salary_that_is_not_a_plain_number(tmp_path, capsys, salary):
    # before: 62.506 and $62.506 were read as 62.506 dollars a year (0.03 an hour), 6,25,06 and 62,50 as 62506
    # and 6250, 6e4 as 60000 and inf as an infinite hourly cost, all with exit status 0
    header, rows = real_rows()
    rows[1][header.index("Salary")] = salary  # the second data row: row 3, the header being row 1
    src = write_rows(tmp_path / "hr.csv", header, rows)
    out = tmp_path / "out"
    out.mkdir()
    (out / "agents.csv").write_text("an earlier import\n")
    status, out_text, err = run_import_hr(src, out, capsys)
    assert status == 1 and out_text == "" and "Traceback" not in err
    assert "hr.csv row 3, column Salary: expected a yearly salary in dollars such as 62506, 62506.50 or" in err
    assert f"got {salary!r}" in err
    assert err.count("column Salary") == 1  # the other rows' salaries are fine
    assert (out / "agents.csv").read_text() == "an earlier import\n"  # left as it was, no temp file
    assert sorted(p.name for p in out.iterdir()) == ["agents.csv"]


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("salary", "hourly"),
    [
        ("62506", 30.05),
        ("62506.5", 30.05),
        ("104000.00", 50.0),
        ("$62,506", 30.05),
        ("62,506.50", 30.05),
        ("$1,040,000", 500.0),
        ("$104000", 50.0),
    ],
)
def test_plain_salaries_are_dollars_a_year(tmp_path, salary, hourly):
    header, rows = real_rows()
    rows[1][header.index("Salary")] = salary
    agents = load_hr(write_rows(tmp_path / "hr.csv", header, rows))
    assert agents.loc[1, "hourly_cost"] == pytest.approx(hourly)


@pytest.mark.shared_data
def test_rows_are_numbered_as_validate_numbers_them(tmp_path, monkeypatch, capsys):
    """The same broken date in the same row: import-hr and validate name the same row, the file's line."""
    from reportlib.cli import main

    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    header, rows = real_rows(5)
    good = write_rows(tmp_path / "hr.csv", header, rows)
    assert main(["import-hr", str(good), "--out", str(tmp_path / "data")]) == 0
    capsys.readouterr()
    # break the hire date of the fourth data row in the HR file and in the agents.csv imported from it
    rows[3][header.index("DateofHire")] = "notadate"
    broken = write_rows(tmp_path / "broken.csv", header, rows)
    agents_csv = tmp_path / "data" / "agents.csv"
    with agents_csv.open(newline="", encoding="utf-8") as fh:
        agents = list(csv.reader(fh))
    agents[4][agents[0].index("hire_date")] = "notadate"
    write_rows(agents_csv, agents[0], agents[1:])
    line = 1 + next(i for i, text in enumerate(broken.read_text().splitlines()) if "notadate" in text)
    assert line == 5

    assert main(["import-hr", str(broken), "--out", str(tmp_path / "out")]) == 1
    hr_err = capsys.readouterr().err
    main(["validate", "--data", str(tmp_path / "data")])
    captured = capsys.readouterr()
    validate_text = captured.out + captured.err
    (hr_row,) = re.findall(r"broken\.csv row (\d+), column DateofHire", hr_err)
    (validate_row,) = re.findall(r"agents\.csv row (\d+), column hire_date", validate_text)
    assert int(hr_row) == int(validate_row) == line


@pytest.mark.shared_data
def test_cli_refuses_a_row_with_a_field_too_many_on_one_line(tmp_path, capsys):
    # pandas' message ends in a newline: it made the problem two lines
    header, rows = real_rows()
    rows[1].append("one too many")
    src = write_rows(tmp_path / "hr.csv", header, rows)
    out = tmp_path / "out"
    status, out_text, err = run_import_hr(src, out, capsys)
    assert_refused(status, out_text, err, out)
    problem = err.splitlines()[1]
    assert problem.startswith("  hr.csv: not a readable CSV file (") and "line 3" in problem
    assert len(err.splitlines()) == 2


@pytest.mark.shared_data
def test_the_imported_roster_is_a_source_of_its_own(tmp_path, monkeypatch, capsys):
    """A roster alone, as import-hr writes it, validates; attrition runs on it from a folder and from a DuckDB
    database (it was refused there: contacts and clients missing); `run` renders its attrition page and refuses
    the other reports in one line, naming what they need. A roster with another table is still checked whole."""
    import shutil

    from reportlib.cli import main

    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    hr = tmp_path / "hr"
    assert main(["import-hr", str(shared_path("hr-dataset-v14", "HRDataset_v14.csv")), "--out", str(hr)]) == 0
    capsys.readouterr()
    assert main(["validate", "--data", str(hr)]) == 0
    assert f"{hr}: valid (agents)" in capsys.readouterr().out
    db = f"duckdb:///{tmp_path / 'hr.duckdb'}"
    assert main(["load", "--data", str(hr), "--into", db]) == 0
    capsys.readouterr()
    rates = []
    for data in (str(hr), db):
        assert main(["attrition", "--data", data, "--month", "2016-06", "--format", "json"]) == 0
        rates.append(json.loads(capsys.readouterr().out))
    assert rates[0] == rates[1] and rates[0][0]["terminations"] == 2 and rates[0][0]["headcount_start"] == 219

    out = tmp_path / "out"
    assert main(["run", "--data", str(hr), "--month", "2016-06", "--out", str(out), "--workers", "1"]) == 1
    err = capsys.readouterr().err
    assert (
        "holds the agents table alone (an HR roster): the reports team_performance, sla, forecast, monthly_pack and "
        "client_review need contacts (or intervals) and clients; the attrition report runs on it" in err
    )
    assert "Traceback" not in err and not (out / "2016-06" / "index.html").exists()
    run = ["run", "--data", str(hr), "--month", "2016-06", "--out", str(out), "--reports", "attrition"]
    assert main([*run, "--workers", "1"]) == 0
    manifest = json.loads((out / "2016-06" / "manifest.json").read_text())
    assert [(r["report"], r["status"]) for r in manifest["reports"]] == [("attrition", "ok")]

    clients = tmp_path / "hr_and_clients"
    shutil.copytree(hr, clients)
    (clients / "clients.csv").write_text("client_id,name,tier,sla_profile\nc1,Client one,gold,standard\n")
    assert main(["validate", "--data", str(clients)]) == 1
    assert "contacts: required table is missing (or an intervals table)" in capsys.readouterr().out
