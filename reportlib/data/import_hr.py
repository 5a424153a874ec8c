"""Adapter: the public "Human Resources Data Set" v14 (HRDataset_v14.csv, Huebner & Patalano) -> agents table.

The file is fictional teaching data with real hire and termination dates and reasons, so it is our test bed
for attrition. `reportlib import-hr SRC --out DIR` writes DIR/agents.csv in the data contract's columns.

Reading (the copy in ../shared/data is an Excel re-save): UTF-8 with or without BOM, CRLF or LF line ends,
every cell read as text and stripped of leading/trailing spaces ('Production       ', 'M '), runs of inner
spaces in names collapsed. Dates are US month/day/year, with or without leading zeros (7/5/2011,
07/05/2011), with a 4-digit or a 2-digit year (09/27/87); a 2-digit year takes the latest century that does
not put the date after the file's snapshot (the latest 4-digit date in any of its date columns), so
09/27/87 is 1987 and 3/30/15 is 2015. ISO dates (2011-07-05) are accepted too. Salary is a yearly amount in
US dollars: digits with at most two decimals (62506, 62506.50), optionally as a US spreadsheet shows them, a
leading $ and commas between groups of three digits ($62,506, 62,506.50). Anything else (62 506, EUR 62.506,
62.506, 6,25,06, 6e4, -62506) is refused, not guessed at: 62.506 may be a European 62 thousand, and reading
it as 62.506 dollars would be silently wrong.

Mapping (one output row per input row):

| agents column      | from HRDataset_v14                                                                  |
|--------------------|-------------------------------------------------------------------------------------|
| agent_id           | EmpID (text)                                                                        |
| name               | Employee_Name ("Last, First M"), spaces collapsed                                   |
| team               | Department                                                                          |
| supervisor         | ManagerName                                                                         |
| site               | State (the file has no work site; the employee's state stands in for it)            |
| role               | Position: "supervisor" when the title has Manager, Director, CIO, CEO or President   |
|                    | (except Area Sales Manager, an individual territory role nobody reports to); "lead"  |
|                    | when it starts with Sr./Senior/Principal or names an Architect; otherwise "agent"    |
| hire_date          | DateofHire                                                                          |
| termination_date   | DateofTermination (empty while employed)                                            |
| termination_type   | EmploymentStatus: Voluntarily Terminated -> voluntary, Terminated for Cause ->       |
|                    | involuntary, Active -> empty                                                        |
| termination_reason | TermReason; "N/A-StillEmployed" -> empty                                            |
| regretted          | not in the file; derived: a voluntary leaver whose PerformanceScore was Exceeds or   |
|                    | Fully Meets is regretted (true), every other leaver false, empty while employed      |
| fte                | 1.0 (the file has no hours; everyone is counted full time)                          |
| hourly_cost        | Salary / 2080 hours x `loading` (default 1.0: the file has no benefits or overhead,  |
|                    | so by default this is the base wage, not a fully loaded cost)                        |

Checks (each problem names the file, row and column): no column name twice in the header (compared after
stripping spaces, so "EmpID" and " EmpID " are the same column; pandas would silently rename the second
"Salary.1" and use the first); required columns present; at least one data row; EmpID present and unique;
Salary an amount in dollars as above; dates parse; termination not before hire; EmploymentStatus one of the three
values; termination date present exactly when the status is a termination (and Termd agrees). Any problem
raises DataError and nothing is written (agents.csv is written to a temporary file and renamed only when
complete): the DIRTY variant of the file (blank ids, a column-shifted row) is refused with its rows named.

Rows are numbered as `reportlib validate` numbers them (reportlib/data/load.py): spreadsheet rows, the
header being row 1 and the first data row row 2. Rows are CSV records: a blank line is not counted, and a
quoted cell spanning lines stays in its one row; in a file with neither, "row N" is line N of the file.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd

from reportlib.core.errors import DataError, ReportlibError
from reportlib.core.months import FIRST_YEAR, LAST_YEAR
from reportlib.core.safety import csv_text, write_atomic
from reportlib.data.contract import TABLES

REQUIRED = (
    "Employee_Name",
    "EmpID",
    "Position",
    "State",
    "DateofHire",
    "DateofTermination",
    "TermReason",
    "EmploymentStatus",
    "Department",
    "ManagerName",
    "Salary",
    "PerformanceScore",
)
DATE_COLUMNS = ("DateofHire", "DateofTermination", "DOB", "LastPerformanceReview_Date")
AGENT_COLUMNS = tuple(TABLES["agents"].column_names)  # the contract's agents table
STATUS = {"Active": None, "Voluntarily Terminated": "voluntary", "Terminated for Cause": "involuntary"}
HOURS_PER_YEAR = 2080.0
MAX_SHOWN = 5
FIRST_DATA_ROW = 2  # the number of the first data row in messages: the header is row 1, as in `validate`

_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_SUPERVISOR = re.compile(r"\b(manager|director|cio|ceo|president)\b", re.I)
_LEAD = re.compile(r"^(sr\.?|senior|principal)\b|architect", re.I)
# dollars, at most cents: plain digits, or a US spreadsheet's $ and comma groups of three (one reading only)
_DOLLARS = r"\$?(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]{1,2})?"


def _import_error(file: str, problems: list[str]) -> DataError:
    """The DataError of a file that cannot be imported: one line per problem under a header naming the file."""
    return DataError(problems, header=f"{file} cannot be imported as an agents table")


def repeated_columns(path: Path) -> list[str]:
    """Column names that occur more than once in the header (the first non-blank record) of CSV `path`.

    Names are compared as the loader uses them, stripped of surrounding spaces; empty names are not
    counted. Read with the csv module because pandas renames a repeated "Salary" to "Salary.1" and so
    hides it. Raises UnicodeDecodeError or csv.Error for a file that is not UTF-8 CSV text.
    """
    with path.open(newline="", encoding="utf-8-sig") as fh:
        header = next((rec for rec in csv.reader(fh) if rec), [])
    seen: set[str] = set()
    twice: list[str] = []
    for name in (h.strip() for h in header):
        if name and name in seen and name not in twice:
            twice.append(name)
        seen.add(name)
    return twice


def read_hr_csv(path: str | Path) -> pd.DataFrame:
    """The raw file as text cells, BOM and surrounding spaces removed, empty cells as ''.

    A column name repeated in the header is refused (DataError naming the file, row 1 and the column), as
    is a file that is not UTF-8 CSV text.
    """
    path = Path(path)
    if not path.is_file():
        raise ReportlibError(f"{path}: no such file (expected HRDataset_v14.csv)")
    try:
        twice = repeated_columns(path)
        if twice:  # the words of `reportlib validate` (load.py) for the same fault
            raise _import_error(
                path.name, [f"{path.name} row 1: column {name} appears more than once in the header" for name in twice]
            )
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=False)
    except UnicodeDecodeError:
        raise DataError([f"{path.name}: not UTF-8 text"]) from None
    except (csv.Error, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        detail = " ".join(str(exc).split())  # pandas ends its message with a newline: keep it one line
        raise DataError([f"{path.name}: not a readable CSV file ({detail})"]) from None
    raw.columns = [c.strip() for c in raw.columns]
    return raw.apply(lambda col: col.str.strip())


def role_from_position(position: str) -> str:
    """Contract role (agent, lead, supervisor) from an HR job title, by the rule in the module docstring."""
    title = " ".join(str(position).split())
    if _SUPERVISOR.search(title) and title.lower() != "area sales manager":
        return "supervisor"
    if _LEAD.search(title):
        return "lead"
    return "agent"


def _four_digit_dates(values: pd.Series) -> list[pd.Timestamp]:
    out = []
    for v in values:
        m = _US_DATE.match(v)
        if m and len(m.group(3)) == 4:
            try:
                out.append(pd.Timestamp(int(m.group(3)), int(m.group(1)), int(m.group(2))))
            except ValueError:
                pass
        elif _ISO_DATE.match(v):
            try:
                out.append(pd.Timestamp(v))
            except ValueError:
                pass
    return out


def snapshot_date(raw: pd.DataFrame) -> pd.Timestamp | None:
    """The latest unambiguous (4-digit-year) date in any of the file's date columns, or None."""
    seen: list[pd.Timestamp] = []
    for col in DATE_COLUMNS:
        if col in raw.columns:
            seen += _four_digit_dates(raw[col])
    return max(seen) if seen else None


def parse_us_dates(
    values: pd.Series, column: str, file: str, not_after: pd.Timestamp | None, problems: list[str]
) -> pd.Series:
    """Dates from M/D/YYYY, M/D/YY or YYYY-MM-DD text ('' -> NaT); unparseable cells are added to problems.

    `values` are a file's data rows in order: the problems name them row 2, 3, ... (the header is row 1).

    A 2-digit year yy becomes 20yy unless that puts the date after `not_after`, then 19yy (with no
    not_after: 20yy for yy <= 68, else 19yy, as Python's %y does).
    """
    out: list[pd.Timestamp] = []
    bad: list[str] = []
    for i, v in enumerate(values):
        ts = pd.NaT
        if v:
            m = _US_DATE.match(v)
            try:
                if m:
                    month, day, year = int(m.group(1)), int(m.group(2)), m.group(3)
                    if len(year) == 4:
                        ts = pd.Timestamp(int(year), month, day)
                    else:
                        yy = int(year)
                        ts = pd.Timestamp(2000 + yy, month, day)
                        if (not_after is not None and ts > not_after) or (not_after is None and yy > 68):
                            ts = pd.Timestamp(1900 + yy, month, day)
                elif _ISO_DATE.match(v):
                    ts = pd.Timestamp(v)
                else:
                    raise ValueError(v)
                if not FIRST_YEAR <= ts.year <= LAST_YEAR:  # the years every other date of reportlib takes
                    raise ValueError(v)
            except ValueError:
                bad.append(
                    f"{file} row {i + FIRST_DATA_ROW}, column {column}: expected a date as M/D/YYYY from {FIRST_YEAR} to "
                    f"{LAST_YEAR}, got {v!r}"
                )
                ts = pd.NaT
        out.append(ts)
    problems += bad
    return pd.Series(pd.DatetimeIndex(out), index=values.index)


def _grouped(problems: list[str]) -> list[str]:
    """At most MAX_SHOWN problems per column, then a count of the rest."""
    by_col: dict[str, list[str]] = {}
    for p in problems:
        key = p.split("column ", 1)[-1].split(":", 1)[0] if "column " in p else p
        by_col.setdefault(key, []).append(p)
    out: list[str] = []
    for items in by_col.values():
        out += items[:MAX_SHOWN]
        if len(items) > MAX_SHOWN:
            out.append(f"... and {len(items) - MAX_SHOWN} more like this")
    return out


def hr_to_agents(raw: pd.DataFrame, file: str = "HRDataset_v14.csv", loading: float = 1.0) -> pd.DataFrame:
    """The agents table (contract columns, dates as datetime64, regretted boolean) from the raw HR cells.

    `raw` holds the file's data rows in order (row 2 of the file first); hourly_cost is dollars per hour
    (yearly Salary in dollars / 2080 hours x `loading`). Raises DataError listing every problem found.
    """
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise DataError([f"{file}: column {c} is missing (is this HRDataset_v14.csv?)" for c in missing])
    if len(raw) == 0:
        raise _import_error(file, [f"{file}: no rows (the file has a header but no data rows)"])
    problems: list[str] = []
    rows = pd.Series(np.arange(FIRST_DATA_ROW, len(raw) + FIRST_DATA_ROW), index=raw.index)

    def flag(mask: pd.Series, column: str, expected: str) -> None:
        for i in raw.index[mask]:
            problems.append(f"{file} row {rows[i]}, column {column}: expected {expected}, got {raw.at[i, column]!r}")

    flag(raw["EmpID"] == "", "EmpID", "an employee id")
    dup = (raw["EmpID"] != "") & raw["EmpID"].duplicated(keep=False)
    flag(dup, "EmpID", "a unique employee id")
    flag(raw["DateofHire"] == "", "DateofHire", "a hire date")
    flag(~raw["EmploymentStatus"].isin(list(STATUS)), "EmploymentStatus", "one of " + ", ".join(STATUS))
    ok = raw["Salary"].fillna("").str.fullmatch(_DOLLARS)
    digits = raw["Salary"].where(ok).str.replace(r"[$,]", "", regex=True)
    salary = pd.to_numeric(digits, errors="coerce")  # dollars a year; NaN where refused
    flag(
        salary.isna(),
        "Salary",
        "a yearly salary in dollars such as 62506, 62506.50 or $62,506.50 "
        "(commas only between groups of three digits, at most 2 decimals)",
    )

    not_after = snapshot_date(raw)
    hire = parse_us_dates(raw["DateofHire"], "DateofHire", file, not_after, problems)
    term = parse_us_dates(raw["DateofTermination"], "DateofTermination", file, not_after, problems)
    flag(term.notna() & hire.notna() & (term < hire), "DateofTermination", "a date on or after DateofHire")
    ttype = raw["EmploymentStatus"].map(STATUS)
    terminated_status = raw["EmploymentStatus"].isin(["Voluntarily Terminated", "Terminated for Cause"])
    flag(
        terminated_status & (raw["DateofTermination"] == ""),
        "DateofTermination",
        "a termination date for a terminated employee",
    )
    flag(
        (raw["EmploymentStatus"] == "Active") & (raw["DateofTermination"] != ""),
        "DateofTermination",
        "no termination date for an Active employee",
    )
    if "Termd" in raw.columns:
        known = raw["EmploymentStatus"].isin(list(STATUS))
        flag(
            known & (raw["Termd"] != np.where(terminated_status, "1", "0")),
            "Termd",
            "1 for a terminated and 0 for an active employee (as EmploymentStatus says)",
        )
    if problems:
        raise _import_error(file, _grouped(problems))

    reason = raw["TermReason"].where(~raw["TermReason"].isin(["", "N/A-StillEmployed"]))
    good = raw["PerformanceScore"].isin(["Exceeds", "Fully Meets"])
    regretted = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    regretted[terminated_status] = (ttype == "voluntary")[terminated_status] & good[terminated_status]
    agents = pd.DataFrame(
        {
            "agent_id": raw["EmpID"],
            "name": raw["Employee_Name"].map(lambda s: " ".join(s.split())),
            "team": raw["Department"],
            "supervisor": raw["ManagerName"].replace("", None),
            "site": raw["State"].replace("", None),
            "role": raw["Position"].map(role_from_position),
            "hire_date": hire,
            "termination_date": term,
            "termination_type": ttype.where(terminated_status),
            "termination_reason": reason.where(terminated_status),
            "regretted": regretted,
            "fte": 1.0,
            "hourly_cost": (salary / HOURS_PER_YEAR * loading).round(2),
        }
    )
    return agents[list(AGENT_COLUMNS)].reset_index(drop=True)


def load_hr(path: str | Path, loading: float = 1.0) -> pd.DataFrame:
    """Read HRDataset_v14.csv and map it to the agents table (see the module docstring)."""
    path = Path(path)
    return hr_to_agents(read_hr_csv(path), file=path.name, loading=loading)


def write_agents_csv(agents: pd.DataFrame, out_dir: str | Path) -> Path:
    """Write agents.csv (UTF-8, LF, ISO dates, true/false, empty for missing) into out_dir; return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frame = agents.copy()
    for col in ("hire_date", "termination_date"):
        frame[col] = frame[col].dt.strftime("%Y-%m-%d")
    frame["regretted"] = frame["regretted"].map({True: "true", False: "false"}).astype(object)
    target = out / "agents.csv"
    write_atomic(target, csv_text(frame, neutralise=False))  # never through a link planted in the folder
    return target


def import_hr(src: str | Path, out_dir: str | Path, loading: float = 1.0) -> tuple[Path, pd.DataFrame]:
    """Convert HRDataset_v14.csv at src into out_dir/agents.csv; return the path and the agents table."""
    agents = load_hr(src, loading=loading)
    return write_agents_csv(agents, out_dir), agents
