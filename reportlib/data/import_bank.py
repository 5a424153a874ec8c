"""Convert the real "Anonymous Bank" 1999 call-centre files into the data contract.

Two kinds of source file are understood (see docs/data-contract-bank.md for the full mapping):

- call-level files (january.txt, october.txt: TAB-separated; august_1999.csv.gz: comma-separated),
  17 columns from `vru+line` to `server`, one row per call that entered the VRU -> `contacts`;
- the 6-minute arrivals series (Callcenter_6min_1999.csv.gz: Date,u,interval_start,Day,Month,calls)
  -> `intervals`.

The clients table (one client, ANONBANK) is written, and an agents table is derived from the server
names of handled calls (hire_date = first day seen, not a real hire date). Timestamps are written as
naive local wall-clock time of Israel: run reports with `timezone: Asia/Jerusalem` (the import writes
`params.yaml` holding that overlay).

Reading files and writing the output folder happen in `read_call_file`, `read_six_minute_file` and
`import_bank`; every conversion in between takes a frame and returns a frame.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from reportlib.core.errors import DataError, ReportlibError, UsageError
from reportlib.core.safety import csv_text, write_atomic
from reportlib.core.words import counted, noun_for
from reportlib.data.contract import TABLES

TIMEZONE = "Asia/Jerusalem"
CLIENT_ID = "ANONBANK"
CLIENT_NAME = "Anonymous Bank"
CLIENT_TIER = "enterprise"
SLA_PROFILE = "standard"
AGENT_TEAM = "Bank"
INTERVAL_QUEUE = "All calls (VRU)"

CALL_COLUMNS: tuple[str, ...] = (
    "vru+line",
    "call_id",
    "customer_id",
    "priority",
    "type",
    "date",
    "vru_entry",
    "vru_exit",
    "vru_time",
    "q_start",
    "q_exit",
    "q_time",
    "outcome",
    "ser_start",
    "ser_exit",
    "ser_time",
    "server",
)
SIX_MINUTE_COLUMNS: tuple[str, ...] = ("Date", "u", "interval_start", "calls")

# Service type -> queue name. Codes from the Technion documentation of the data (Guedj/Mandelbaum).
QUEUE_BY_TYPE: dict[str, str] = {
    "PS": "Retail",  # Peilut Shotefet: regular activity
    "PE": "Retail English",  # Peilut English: regular activity in English
    "IN": "Internet",  # internet (web-site) support
    "NE": "Stock Trading",  # Niarot Erech: stock exchange activity
    "NW": "Prospects",  # prospective customers asking for information
    "TT": "Callback",  # customers who left a message and were called back, then put on hold
    "AA": "Other",  # rare, undocumented
}
OUTCOMES = ("AGENT", "HANG", "PHANTOM")
NO_SERVER = "NO_SERVER"
NOT_QUEUED = "0:00:00"

AGENT_COLUMNS = TABLES["agents"].column_names  # the contract's agents table
CLIENT_COLUMNS = ["client_id", "client_name", "tier", "sla_profile"]  # the clients table's columns it can fill
OUTPUT_FILES = ("contacts.csv", "intervals.csv", "agents.csv", "clients.csv", "params.yaml", "import-summary.json")

_TIME = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})$")
_PRIORITY_TYPE = re.compile(r"^\s*([0-9])\s+([A-Z]{2})\s*$")
_SHOWN = 5  # line numbers listed per problem kind; the total is always counted


@dataclass
class FileReport:
    """What happened to one source file: rows read, written, excluded by reason, repaired, notes."""

    path: str
    kind: str  # "calls" or "intervals"
    rows_read: int = 0
    rows_written: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    repaired: dict[str, list[int]] = field(default_factory=dict)  # kind -> file line numbers
    malformed: dict[str, list[int]] = field(default_factory=dict)  # excluded as malformed, lines
    notes: list[str] = field(default_factory=list)

    def exclude(self, reason: str, n: int) -> None:
        """Count n rows excluded for `reason` (kept even when 0, so reports show every reason)."""
        self.excluded[reason] = self.excluded.get(reason, 0) + int(n)

    @property
    def malformed_excluded(self) -> int:
        return sum(len(v) for v in self.malformed.values())

    @property
    def malformed_repaired(self) -> int:
        return sum(len(v) for v in self.repaired.values())

    def record(self) -> dict:
        """A flat dict for printing with `emit` and for import-summary.json."""
        return {
            "file": Path(self.path).name,
            "kind": self.kind,
            "rows_read": self.rows_read,
            "rows_written": self.rows_written,
            **{f"excluded_{k}": v for k, v in self.excluded.items()},
            "malformed_repaired": self.malformed_repaired,
            "malformed_excluded": self.malformed_excluded,
            "repairs": "; ".join(f"{k}: {_lines(v)}" for k, v in self.repaired.items()) or None,
            "malformed": "; ".join(f"{k}: {_lines(v)}" for k, v in self.malformed.items()) or None,
            "notes": " | ".join(self.notes) or None,
        }


def _lines(lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:_SHOWN])
    more = f" and {len(lines) - _SHOWN} more" if len(lines) > _SHOWN else ""
    return f"{counted(len(lines), 'row')}, file {noun_for(len(lines), 'line')} {shown}{more}"


# --- reading --------------------------------------------------------------------------------------


def _open_text(path: Path) -> io.TextIOBase:
    """Open a text file, gzip-compressed when the name ends in .gz; tolerate a UTF-8 BOM."""
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def sniff_kind(path: Path) -> tuple[str, str]:
    """('calls' | 'intervals', delimiter) from a file's header line; ReportlibError (exit 1) when neither."""
    try:
        with _open_text(path) as fh:
            header = fh.readline(65536).strip("\r\n")  # bounded: a binary file may hold no newline
    except FileNotFoundError:
        raise ReportlibError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise ReportlibError(f"{path}: cannot read it as text ({exc})") from None
    for delim in ("\t", ",", ";"):
        names = [h.strip() for h in header.split(delim)]
        if tuple(names) == CALL_COLUMNS:
            return "calls", delim
        if all(c in names for c in SIX_MINUTE_COLUMNS):
            return "intervals", delim
    raise ReportlibError(  # bad input (exit 1), not a usage error
        f"{path}: not an Anonymous Bank file. Expected a call-level header "
        f"({', '.join(CALL_COLUMNS[:4])}, ... server) or the 6-minute header "
        f"({', '.join(SIX_MINUTE_COLUMNS)}); got {header[:80]!r}"
    )


def repair_fields(fields: list[str]) -> list[str] | None:
    """Repair a 16-field call row whose priority and type are space-separated; None if not that case."""
    if len(fields) != len(CALL_COLUMNS) - 1:
        return None
    match = _PRIORITY_TYPE.match(fields[3])
    if not match:
        return None
    return fields[:3] + [match.group(1), match.group(2)] + fields[4:]


def read_call_file(path: Path, delimiter: str = "\t") -> tuple[pd.DataFrame, FileReport]:
    """Raw call rows as text (17 columns + `line`, the file line number), repairing split-field rows."""
    report = FileReport(str(path), "calls")
    rows: list[list[str | int]] = []  # the fields, then the line number
    with _open_text(path) as fh:
        reader = csv.reader(fh, delimiter=delimiter, quoting=csv.QUOTE_NONE)
        next(reader, None)  # header, checked by sniff_kind
        for fields in reader:
            line = reader.line_num
            if not fields or all(not f.strip() for f in fields):
                continue
            report.rows_read += 1
            fields = [f.strip() for f in fields]
            if len(fields) != len(CALL_COLUMNS):
                fixed = repair_fields(fields)
                if fixed is None:
                    report.malformed.setdefault(f"{len(fields)} fields instead of {len(CALL_COLUMNS)}", []).append(line)
                    continue
                report.repaired.setdefault("priority and type separated by spaces, split into two fields", []).append(
                    line
                )
                fields = fixed
            rows.append(fields + [line])
    frame = pd.DataFrame(rows, columns=[*CALL_COLUMNS, "line"])
    frame["line"] = frame["line"].astype("int64")
    return frame, report


def read_six_minute_file(path: Path, delimiter: str = ",") -> tuple[pd.DataFrame, FileReport]:
    """The 6-minute arrivals file as text columns plus `line` (file line number)."""
    report = FileReport(str(path), "intervals")
    with _open_text(path) as fh:
        frame = pd.read_csv(fh, sep=delimiter, dtype=str, keep_default_na=False)
    frame.columns = [c.strip() for c in frame.columns]
    frame["line"] = np.arange(2, len(frame) + 2, dtype="int64")
    report.rows_read = len(frame)
    return frame, report


# --- converting -----------------------------------------------------------------------------------


def _seconds_of_day(values: pd.Series) -> pd.Series:
    """H:MM:SS text -> seconds since midnight (float; NaN where unparseable)."""
    parts = values.str.extract(_TIME).astype("float64")
    secs = parts[0] * 3600 + parts[1] * 60 + parts[2]
    bad = (parts[1] >= 60) | (parts[2] >= 60) | (parts[0] >= 24)
    return secs.mask(bad)


def _parse_date(values: pd.Series) -> pd.Series:
    """YYMMDD (990101) or YYYY-MM-DD -> midnight timestamps (NaT where unparseable)."""
    short = pd.to_datetime(values.where(values.str.fullmatch(r"\d{6}")), format="%y%m%d", errors="coerce")
    iso = pd.to_datetime(values.where(values.str.fullmatch(r"\d{4}-\d{2}-\d{2}")), format="%Y-%m-%d", errors="coerce")
    return short.fillna(iso)


def repair_call_ids(raw: pd.DataFrame, report: FileReport) -> pd.DataFrame:
    """Restore a non-numeric call_id when its line's neighbours bracket it (prev + 2 == next).

    call ids run consecutively per VRU line; a spreadsheet-mangled id ("2010-08-") between 9907 and
    9909 on the same line can only be 9908. Ids that cannot be restored that way are kept verbatim.
    """
    bad = ~raw["call_id"].str.fullmatch(r"\d+")
    if not bad.any():
        return raw
    out = raw.copy()
    order = out.assign(_d=_parse_date(out["date"]), _t=_seconds_of_day(out["vru_entry"]))
    order = order.sort_values(["vru+line", "_d", "_t", "line"], kind="stable")
    for idx in out.index[bad]:
        same = order[order["vru+line"] == out.at[idx, "vru+line"]]
        pos = same.index.get_loc(idx)
        prev = same["call_id"].iloc[pos - 1] if pos > 0 else ""
        nxt = same["call_id"].iloc[pos + 1] if pos + 1 < len(same) else ""
        line = int(out.at[idx, "line"])
        if prev.isdigit() and nxt.isdigit() and int(prev) + 2 == int(nxt):
            out.at[idx, "call_id"] = str(int(prev) + 1)
            report.repaired.setdefault("non-numeric call_id restored from its line's neighbours", []).append(line)
        else:
            report.notes.append(
                f"call_id {out.at[idx, 'call_id']!r} on file line {line} kept verbatim "
                "(not numeric, neighbours do not bracket it)"
            )
    return out


def calls_to_contacts(raw: pd.DataFrame, report: FileReport) -> pd.DataFrame:
    """Contract `contacts` rows from raw call rows: the calls that reached an agent queue or an agent.

    Excluded (counted in `report.excluded`): ended_in_vru (HANG without ever queueing), phantom
    (documented as "a virtual call to be ignored"), served_without_agent (AGENT with NO_SERVER: the
    contract needs agent_id for handled contacts). Rows whose date, times, outcome or seconds cannot be
    read are excluded as malformed with their file line numbers.
    """
    raw = repair_call_ids(raw, report)
    date = _parse_date(raw["date"])
    vru_entry = _seconds_of_day(raw["vru_entry"])
    vru_exit = _seconds_of_day(raw["vru_exit"])
    q_start = _seconds_of_day(raw["q_start"])
    q_time = pd.to_numeric(raw["q_time"], errors="coerce")
    ser_time = pd.to_numeric(raw["ser_time"], errors="coerce")
    outcome = raw["outcome"]
    server = raw["server"]
    queued = raw["q_start"] != NOT_QUEUED

    problems = {
        "date is not YYMMDD or YYYY-MM-DD": date.isna(),
        "vru_entry, vru_exit or q_start is not H:MM:SS": vru_entry.isna() | vru_exit.isna() | q_start.isna(),
        "outcome is not AGENT, HANG or PHANTOM": ~outcome.isin(OUTCOMES),
        "q_time is not a number >= 0": ~(q_time >= 0),
        "ser_time is not a number >= 0": ~(ser_time >= 0) & (outcome == "AGENT"),
        "empty vru+line": raw["vru+line"] == "",
    }
    malformed = pd.Series(False, index=raw.index)
    for what, mask in problems.items():
        mask = mask & ~malformed
        if mask.any():
            report.malformed.setdefault(what, []).extend(raw.loc[mask, "line"].tolist())
        malformed |= mask

    ok = ~malformed
    phantom = ok & (outcome == "PHANTOM")
    ended_in_vru = ok & (outcome == "HANG") & ~queued
    no_agent = ok & (outcome == "AGENT") & (server == NO_SERVER)
    keep = ok & ~phantom & ~ended_in_vru & ~no_agent
    report.exclude("ended_in_vru", ended_in_vru.sum())
    report.exclude("phantom", phantom.sum())
    report.exclude("served_without_agent", no_agent.sum())

    # The time the call joined the agent queue: q_start when it queued, else leaving the VRU (served
    # at once). Times carry no date rollover: a time more than 12 h before vru_entry is after midnight,
    # i.e. on the next day (small negative gaps are clock skew between VRU and queue, not rollover).
    tod = q_start.where(queued, vru_exit)
    next_day = tod < vru_entry - 12 * 3600
    arrived = date + pd.to_timedelta(tod, unit="s") + pd.to_timedelta(next_day.astype(int), unit="D")

    handled = outcome == "AGENT"
    customer = raw["customer_id"]
    readable_caller = customer.str.fullmatch(r"[1-9]\d*")
    unreadable = keep & ~readable_caller & (customer != "0") & (customer != "")
    if unreadable.any():
        report.notes.append(
            f"{counted(unreadable.sum(), 'customer_id value')} mangled by a spreadsheet into scientific notation "
            f"(e.g. {customer[unreadable].iloc[0]!r}): caller_id left empty"
        )
    server_on_hang = keep & ~handled & (server != NO_SERVER)
    if server_on_hang.any():
        report.notes.append(
            f"{counted(server_on_hang.sum(), 'abandoned call')} {noun_for(server_on_hang.sum(), 'carries', 'carry')} "
            "a server name; "
            "agent_id left empty as for every abandoned contact"
        )
    long_service = keep & handled & (ser_time > 3600)
    if long_service.any():
        report.notes.append(
            f"{counted(long_service.sum(), 'handled call')} with ser_time over 1 hour "
            f"(max {int(ser_time[long_service].max())} s) kept as recorded"
        )

    day = _fmt_datetime(date, "D").str.replace("-", "", regex=False)
    contacts = pd.DataFrame(
        {
            "contact_id": day + "-" + raw["vru+line"] + "-" + raw["call_id"],
            "channel": "phone",
            "queue": raw["type"].map(QUEUE_BY_TYPE).fillna(raw["type"]),
            "client_id": CLIENT_ID,
            "arrived_at": arrived,
            "outcome": np.where(handled, "handled", "abandoned"),
            "wait_s": q_time.astype("Int64"),
            "handle_s": ser_time.where(handled).round().astype("Int64"),
            "agent_id": server.where(handled),
            "caller_id": customer.where(readable_caller),
        }
    )[keep]
    unknown_types = sorted(set(raw.loc[keep, "type"]) - set(QUEUE_BY_TYPE))
    if unknown_types:
        report.notes.append(
            f"unknown service {noun_for(len(unknown_types), 'type')} {', '.join(unknown_types)} kept as the queue name"
        )
    days = pd.date_range(date[ok].min(), date[ok].max(), freq="D") if ok.any() else []
    missing = sorted(set(days) - set(date[ok]))
    if missing:
        report.notes.append(
            "no calls at all on "
            + ", ".join(d.strftime("%Y-%m-%d") for d in missing)
            + " (days missing from this file)"
        )
    report.rows_written = len(contacts)
    return contacts.reset_index(drop=True)


def six_minute_to_intervals(raw: pd.DataFrame, report: FileReport) -> pd.DataFrame:
    """Contract `intervals` rows (6-minute, one queue for all calls entering the VRU) from the 6-min file.

    Raises DataError naming file lines whose slot, timestamp or count cannot be read. Fractional counts
    are kept (they are in the source) and noted. Slots that do not exist in Israel local time (the hour
    skipped when daylight saving time starts) are dropped only when they hold no calls.
    """
    name = Path(report.path).name
    start = pd.to_datetime(raw["interval_start"], format="%Y-%m-%d %H:%M", errors="coerce")
    day = pd.to_datetime(raw["Date"], format="%Y-%m-%d", errors="coerce")
    slot = pd.to_numeric(raw["u"], errors="coerce")
    calls = pd.to_numeric(raw["calls"], errors="coerce")
    expected = day + pd.to_timedelta((slot - 1) * 6, unit="min")
    problems = []
    checks = {
        "interval_start: expected YYYY-MM-DD HH:MM": start.isna(),
        "u: expected the 6-minute slot 1..240 matching interval_start": ~slot.between(1, 240) | (expected != start),
        "calls: expected a number >= 0": ~(calls >= 0),
    }
    for what, mask in checks.items():
        if mask.any():
            lines = raw.loc[mask, "line"].tolist()
            problems.append(f"{name} {_lines(lines)}, column {what}")
    if problems:
        raise DataError(problems, header=f"{name} cannot be imported")

    keep = pd.Series(True, index=raw.index)
    local = start.dt.tz_localize(TIMEZONE, nonexistent="NaT", ambiguous="NaT")
    earlier = start.dt.tz_localize(TIMEZONE, nonexistent="NaT", ambiguous=np.ones(len(start), dtype=bool))
    ambiguous = local.isna() & earlier.notna()
    gap = local.isna() & ~ambiguous
    report.exclude("nonexistent_local_time_no_calls", 0)
    if gap.any():
        if (calls[gap] == 0).all():
            keep &= ~gap
            report.exclude("nonexistent_local_time_no_calls", gap.sum())
            report.notes.append(
                f"{counted(gap.sum(), 'slot')} on {', '.join(sorted(set(start[gap].dt.strftime('%Y-%m-%d'))))} "
                f"{noun_for(gap.sum(), 'falls', 'fall')} in "
                f"the hour skipped when Israel daylight saving time began and {noun_for(gap.sum(), 'holds', 'hold')} 0 "
                "calls: dropped"
            )
        else:
            report.notes.append(
                f"{counted(gap.sum(), 'slot')} {noun_for(gap.sum(), 'falls', 'fall')} in the hour skipped by daylight "
                f"saving time yet {noun_for(gap.sum(), 'holds', 'hold')} calls: kept as recorded"
            )
    if ambiguous.any():
        report.notes.append(
            f"{counted(ambiguous.sum(), 'slot')} on {', '.join(sorted(set(start[ambiguous].dt.strftime('%Y-%m-%d'))))} "
            f"{noun_for(ambiguous.sum(), 'falls', 'fall')} in the hour repeated when daylight saving time ended: the series holds that hour once"
        )
    fractional = calls % 1 != 0
    if fractional.any():
        days = sorted(set(start[fractional].dt.strftime("%Y-%m-%d")))
        report.notes.append(
            f"{counted(fractional.sum(), 'fractional call count')} (x.5) on {', '.join(days)} "
            "kept as in the source (apparently an imputed day)"
        )
    intervals = pd.DataFrame(
        {
            "interval_start": start,
            "interval_minutes": 6,
            "channel": "phone",
            "queue": INTERVAL_QUEUE,
            "client_id": CLIENT_ID,
            "offered": calls,
        }
    )[keep]
    report.rows_written = len(intervals)
    return intervals.reset_index(drop=True)


def agents_from_contacts(contacts: pd.DataFrame) -> pd.DataFrame:
    """A minimal roster from handled contacts: one agent per server name, hire_date = first day seen."""
    handled = contacts[contacts["outcome"] == "handled"]
    first = handled.groupby("agent_id")["arrived_at"].min().dt.normalize().sort_index()
    agents = pd.DataFrame(
        {"agent_id": first.index, "name": first.index, "team": AGENT_TEAM, "role": "agent", "hire_date": first.values}
    )
    return agents.reindex(columns=AGENT_COLUMNS)


def bank_clients() -> pd.DataFrame:
    """The clients table: the bank is the only client."""
    return pd.DataFrame(
        [{"client_id": CLIENT_ID, "client_name": CLIENT_NAME, "tier": CLIENT_TIER, "sla_profile": SLA_PROFILE}],
        columns=CLIENT_COLUMNS,
    )


# --- writing --------------------------------------------------------------------------------------


def _fmt_number(values: pd.Series) -> pd.Series:
    """Numbers as text: whole numbers without '.0', fractions as they are, missing as empty."""
    num = pd.to_numeric(values, errors="coerce").astype("float64")
    whole = num.notna() & (num % 1 == 0)
    text = pd.Series("", index=num.index, dtype=object)
    text[whole] = num[whole].astype("int64").astype(str)
    frac = num.notna() & ~whole
    text[frac] = num[frac].astype(str)
    return text


def _fmt_datetime(values: pd.Series, unit: str) -> pd.Series:
    """Naive timestamps as ISO text without offset (unit 's': YYYY-MM-DDTHH:MM:SS, 'D': YYYY-MM-DD)."""
    arr = values.to_numpy(dtype="datetime64[ns]")
    text = pd.Series(np.datetime_as_string(arr, unit=unit), index=values.index, dtype=object)  # type: ignore[call-overload]
    return text.where(values.notna(), "")


def to_contract_csv(
    frame: pd.DataFrame,
    path: Path,
    timestamps: Iterable[str] = (),
    dates: Iterable[str] = (),
    numbers: Iterable[str] = (),
) -> None:
    """Write a frame as contract CSV: ISO timestamps without offset, YYYY-MM-DD dates, empty = null."""
    out = frame.copy()
    for col in timestamps:
        out[col] = _fmt_datetime(out[col], "s")
    for col in dates:
        out[col] = _fmt_datetime(out[col], "D")
    for col in numbers:
        out[col] = _fmt_number(out[col])
    write_atomic(path, csv_text(out, neutralise=False))  # never through a link planted in the folder


def _prepare_out(out: Path) -> None:
    """Create OUT, or refuse when it holds files this import would not write (never delete those)."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    foreign = sorted(p.name for p in out.iterdir() if p.name not in OUTPUT_FILES and not p.name.startswith("."))
    if foreign:
        raise UsageError(
            f"--out {out} already holds other files ({', '.join(foreign[:5])}); choose an empty or new folder"
        )
    for name in OUTPUT_FILES:  # files of an earlier import: replaced or removed, never mixed
        (out / name).unlink(missing_ok=True)


def import_bank(sources: list[str | Path], out: str | Path) -> list[FileReport]:
    """Convert the given bank files into contract tables in folder `out`; return one report per file."""
    out = Path(out)
    paths = [Path(s) for s in sources]
    seen: set[Path] = set()
    for p in paths:
        if p.resolve() in seen:
            raise UsageError(f"{p} is given twice")
        seen.add(p.resolve())
    kinds = [(p, *sniff_kind(p)) for p in paths]
    reports: list[FileReport] = []
    contact_parts: list[pd.DataFrame] = []
    interval_parts: list[pd.DataFrame] = []
    for path, kind, delim in kinds:
        if kind == "calls":
            raw, report = read_call_file(path, delim)
            contact_parts.append(calls_to_contacts(raw, report))
        else:
            raw, report = read_six_minute_file(path, delim)
            interval_parts.append(six_minute_to_intervals(raw, report))
        reports.append(report)

    _prepare_out(out)
    if contact_parts:
        contacts = pd.concat(contact_parts, ignore_index=True)
        dup = contacts["contact_id"].duplicated(keep=False)
        if dup.any():
            ids = contacts.loc[dup, "contact_id"].unique()
            raise DataError(
                [f"contact_id {i} occurs in more than one call" for i in ids[:_SHOWN]]
                + ([f"... {len(ids)} duplicated ids in all"] if len(ids) > _SHOWN else []),
                header="the call files overlap (was the same month given twice?)",
            )
        contacts = contacts.sort_values(["arrived_at", "contact_id"], kind="stable")
        to_contract_csv(contacts, out / "contacts.csv", timestamps=["arrived_at"])
        to_contract_csv(agents_from_contacts(contacts), out / "agents.csv", dates=["hire_date"])
    if interval_parts:
        intervals = pd.concat(interval_parts, ignore_index=True)
        dup = intervals.duplicated(["interval_start", "queue"], keep=False)
        if dup.any():
            raise DataError(
                [
                    f"interval {t:%Y-%m-%d %H:%M} occurs more than once"
                    for t in intervals.loc[dup, "interval_start"].unique()[:_SHOWN]
                ],
                header="the 6-minute files overlap",
            )
        intervals = intervals.sort_values("interval_start", kind="stable")
        to_contract_csv(intervals, out / "intervals.csv", timestamps=["interval_start"], numbers=["offered"])
    to_contract_csv(bank_clients(), out / "clients.csv")
    (out / "params.yaml").write_text(
        "# Parameters for the imported Anonymous Bank data: pass with --params this file.\n"
        "# Its timestamps are Israel local wall-clock time, and its calendar is Israel's: the working week runs\n"
        "# Sunday to Thursday, the public holidays are Israel's (which of them the bank closed is read from the\n"
        "# calls: none is listed as closed), and the shipped US benefits events do not apply. Without it, US\n"
        "# Thanksgiving and Christmas were forecast at 0 calls (a probe).\n"
        f"timezone: {TIMEZONE}\n"
        "calendar:\n"
        "  business_hours: {weekdays: [6, 0, 1, 2, 3]}\n"
        "  holidays: {country: IL, subdiv: null, categories: [public, optional], observed: true, eves: true, closed: []}\n"
        "  events: []\n",
        encoding="utf-8",
    )
    (out / "import-summary.json").write_text(
        json.dumps([r.record() for r in reports], indent=1) + "\n", encoding="utf-8"
    )
    return reports
