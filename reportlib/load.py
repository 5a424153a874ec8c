"""Loaders: find each table of a data source, parse it, check it against the contract, serve it.

A data source is a folder holding one file per table (CSV with comma, semicolon or tab; UTF-8 with
or without BOM; CRLF or LF; Parquet; .xlsx) or a DuckDB database (`duckdb:///path/store.duckdb`).
Tables are parsed and checked once and cached as Parquet keyed by the file's fingerprint, so a
repeated run over unchanged files does not parse them again. Contact-level tables are served as
ibis expressions over DuckDB, so aggregation runs in the engine and only aggregates reach pandas.

Row numbers in messages are spreadsheet rows: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pandera.pandas as pa

from .contract import (
    CONTRACT_VERSION,
    FILE_SUFFIXES,
    INTERVAL_MINUTES,
    PANDAS_DTYPES,
    TABLES,
    Column,
    Table,
    empty_frame,
    pandera_schema,
    required_tables,
)
from .errors import DataError, MissingTableError, ReportlibError
from .params import DEFAULT_TIMEZONE

MAX_ROWS_SHOWN = 5
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


# --- problems -------------------------------------------------------------------------------------


@dataclass
class Problem:
    """One kind of problem in one column of one file, with the rows where it occurs."""

    file: str
    column: str | None
    expected: str
    rows: list[int] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    count: int = 0
    severity: str = "error"  # or "warning"

    def line(self) -> str:
        """One line for the user: file, row(s), column, what was expected, what was found."""
        col = f", column {self.column}" if self.column else ""
        if self.count == 0:
            return f"{self.file}{col}: {self.expected}"
        if self.count == 1:
            got = f', got "{self.values[0]}"' if self.values and self.values[0] is not None else ""
            return f"{self.file} row {self.rows[0]}{col}: expected {self.expected}{got}"
        shown = ", ".join(
            f'{r} ("{v}")' if v is not None else str(r) for r, v in zip(self.rows, self.values)
        )
        return (f"{self.file}{col}: expected {self.expected} in {self.count:,} rows "
                f"(first rows: {shown})")


def _problem(file: str, column: str | None, expected: str, index: pd.Index | np.ndarray,
             values: pd.Series | None = None, severity: str = "error") -> Problem:
    """A Problem for the rows at frame positions `index` (0-based data rows)."""
    idx = np.asarray(index)
    first = idx[:MAX_ROWS_SHOWN]
    vals = [None] * len(first)
    if values is not None:
        vals = [_show(values.iloc[i]) if isinstance(values, pd.Series) else _show(values[i]) for i in first]
    return Problem(file, column, expected, [int(i) + 2 for i in first], vals, int(len(idx)), severity)


def _show(value) -> str:
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- reading files ----------------------------------------------------------------------------------


def find_table_files(folder: Path) -> tuple[dict[str, Path], list[Problem]]:
    """Map each contract table to its file in `folder` (name.csv, .tsv, .txt, .parquet, .xlsx)."""
    found: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        lower = path.name.lower()
        for suffix in FILE_SUFFIXES:
            if lower.endswith(suffix):
                stem = lower[: -len(suffix)]
                if stem in TABLES:
                    found.setdefault(stem, []).append(path)
    problems = []
    files = {}
    for name, paths in found.items():
        if len(paths) > 1:
            problems.append(Problem(", ".join(p.name for p in paths), None,
                                    f"table {name} is given by {len(paths)} files; keep exactly one"))
        files[name] = paths[0]
    return files, problems


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    if counts[best] == 0:
        return ","  # a one-column file; the missing-column check will say what is wrong
    return best


def read_raw(path: Path) -> pd.DataFrame:
    """The file's cells: CSV as strings (no conversion yet), Parquet/xlsx as stored."""
    name = path.name
    lower = name.lower()
    if lower.endswith(".parquet"):
        try:
            return pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises many kinds
            raise DataError([f"{name}: not a readable Parquet file ({exc.__class__.__name__}: {exc})"]) from None
    if lower.endswith(".xlsx"):
        try:
            frame = pd.read_excel(path, dtype=object, engine="openpyxl")
        except Exception as exc:
            raise DataError([f"{name}: not a readable .xlsx workbook ({exc.__class__.__name__}: {exc})"]) from None
        frame.columns = [str(c).strip() for c in frame.columns]
        return frame
    opener = open
    if lower.endswith(".gz"):
        import gzip

        opener = gzip.open  # type: ignore[assignment]
    with opener(path, "rb") as fh:
        data = fh.read()
    if not data.strip():
        raise DataError([f"{name}: the file is empty; expected a header row and data rows"])
    if b"\x00" in data[:65536]:
        raise DataError([f"{name}: not a text file (it holds binary data); expected CSV text"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError([f"{name} row {line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8"]) from None
    header = text.split("\n", 1)[0]
    sep = _sniff_delimiter(header)
    frame = _read_csv_fast(data, sep)
    if frame is None:  # pyarrow refused the file: pandas names the offending row
        frame = _read_csv_checked(text, sep, name)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _read_csv_fast(data: bytes, sep: str) -> pd.DataFrame | None:
    """Every cell as an Arrow-backed string (vectorized C++ parsing), or None if the CSV is malformed."""
    import pyarrow as pa_
    import pyarrow.csv as pacsv

    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    header = next(csv.reader([data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")], delimiter=sep))
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={c: pa_.string() for c in header},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa_.ArrowInvalid, UnicodeDecodeError, csv.Error):
        return None
    if len(set(header)) != len(header):
        return None
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def _read_csv_checked(text: str, sep: str, name: str) -> pd.DataFrame:
    """The slower pandas parser, for files pyarrow refuses: it reports the malformed row."""
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            na_filter=False, quoting=csv.QUOTE_MINIMAL, skipinitialspace=False)
    except pd.errors.ParserError as exc:
        msg = str(exc)
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg)
        if m:
            raise DataError([f"{name} row {m.group(2)}: expected {m.group(1)} fields separated by "
                             f"{_sep_name(sep)}, found {m.group(3)}"]) from None
        raise DataError([f"{name}: cannot be read as CSV ({msg.strip()})"]) from None
    return frame


def _sep_name(sep: str) -> str:
    return {",": "commas", ";": "semicolons", "\t": "tabs", "|": "bars"}[sep]


# --- typing columns --------------------------------------------------------------------------------


def _blank(series: pd.Series) -> pd.Series:
    """True where a raw cell is empty."""
    if isinstance(series.dtype, pd.ArrowDtype) or isinstance(series.dtype, pd.StringDtype):
        return (series.isna() | (series.fillna("").str.strip() == "")).astype(bool)
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        return series.isna() | (series.astype(str).str.strip() == "")
    return series.isna()


def _text(raw: pd.Series) -> pd.Series:
    """Cells as stripped strings ("" for empty); dates from spreadsheets in ISO form."""
    if isinstance(raw.dtype, pd.ArrowDtype) or isinstance(raw.dtype, pd.StringDtype):
        return raw.fillna("").str.strip()
    if raw.dtype == object and not raw.map(type).eq(str).all():
        raw = raw.map(lambda v: "" if v is None or v != v else (v.isoformat() if hasattr(v, "isoformat") else str(v)))
    return raw.astype(str).str.strip()


def coerce_column(raw: pd.Series, col: Column, tz: str) -> tuple[pd.Series, np.ndarray]:
    """Typed values of one column and the positions of cells that could not be read as its kind."""
    blank = _blank(raw).to_numpy()
    kind = col.kind
    if kind == "str":
        out = _text(raw).where(~blank, None)
        return out.astype(object), np.zeros(len(raw), dtype=bool)
    if kind in ("float", "int"):
        if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
            values = raw.astype("float64")
        else:
            values = pd.to_numeric(_text(raw).where(~blank, None), errors="coerce").astype("float64")
        bad = ~blank & values.isna().to_numpy()
        bad |= ~blank & ~np.isfinite(values.fillna(0).to_numpy())
        if kind == "int":
            frac = values.notna().to_numpy() & (values.fillna(0) % 1 != 0).to_numpy()
            bad |= frac
            values = values.where(~pd.Series(bad, index=values.index))
            return values.round().astype("Int64"), bad
        return values.where(~pd.Series(bad, index=values.index)), bad
    if kind == "bool":
        if pd.api.types.is_bool_dtype(raw):
            return raw.astype("boolean"), np.zeros(len(raw), dtype=bool)
        text = _text(raw).str.lower()
        out = pd.Series(pd.NA, index=raw.index, dtype="boolean")
        out[text.isin(_TRUE).to_numpy()] = True
        out[text.isin(_FALSE).to_numpy()] = False
        bad = ~blank & out.isna().to_numpy()
        return out, bad
    if kind in ("timestamp", "date"):
        return _coerce_time(raw, blank, tz, kind)
    raise ValueError(kind)


_ISO_PARTS = (r"^(?P<date>\d{4}-\d{2}-\d{2})(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?"
              r"\s*(?P<offset>Z|z|[+-]\d{2}(?::?\d{2})?)?$")


def _parse_iso(text: pd.Series, tz: str) -> tuple[pd.Series, np.ndarray]:
    """ISO 8601 strings to naive local wall time in `tz`, and where parsing failed.

    Hand-written split because pandas falls back to a slow per-row parser when one column mixes
    offsets (-05:00, -04:00, Z): the wall-clock part parses in one vectorized call, the offset is
    applied as minutes, then UTC instants are converted to local time (DST-correct via tzdata).
    """
    parts = text.str.extract(_ISO_PARTS).astype(object)
    parts = parts.where(parts.notna() & (parts != ""), None)  # Arrow gives "" for unmatched groups
    date = parts["date"].astype(object)
    time_ = parts["time"].astype(object).where(parts["time"].notna(), "00:00")
    wall = pd.to_datetime(date.where(date.notna(), None) + "T" + time_.astype(str),
                          format="ISO8601", errors="coerce")
    wall = pd.Series(wall, index=text.index).astype("datetime64[us]")
    offset = parts["offset"].astype(object)
    has_offset = offset.notna().to_numpy()
    if has_offset.any():
        off = offset[has_offset].astype(str)
        zulu = off.str.upper().eq("Z")
        digits = off.str.replace(":", "", regex=False)
        sign = np.where(digits.str[0] == "-", -1, 1)
        hours = pd.to_numeric(digits.str[1:3].where(~zulu, "0"))
        minutes = pd.to_numeric(digits.str[3:5].where(~zulu & (digits.str.len() > 3), "0"))
        shift = pd.to_timedelta(sign * (hours * 60 + minutes), unit="min")
        utc = (wall[has_offset] - shift.to_numpy()).dt.tz_localize("UTC")
        wall.loc[has_offset] = utc.dt.tz_convert(tz).dt.tz_localize(None).astype("datetime64[us]")
    bad = wall.isna().to_numpy()
    return wall, bad


def _coerce_time(raw: pd.Series, blank: np.ndarray, tz: str, kind: str) -> tuple[pd.Series, np.ndarray]:
    """Timestamps to naive local wall time in `tz` (offsets converted; naive taken as local)."""
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")
    if pd.api.types.is_datetime64_any_dtype(raw):
        values = raw
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_convert(tz).dt.tz_localize(None)
        out = values.astype("datetime64[us]")
        bad = np.zeros(len(raw), dtype=bool)
    else:
        out, bad = _parse_iso(_text(raw), tz)
        bad &= ~blank
    if kind == "date":
        notmid = out.notna().to_numpy() & (out != out.dt.normalize()).fillna(False).to_numpy()
        bad |= notmid
        out = out.where(~pd.Series(bad, index=out.index))
    return out, bad


# --- checking a table ------------------------------------------------------------------------------


def check_table(raw: pd.DataFrame, table: Table, file: str, tz: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Type every column of `raw` per the contract and list every problem found (file, row, column)."""
    problems: list[Problem] = []
    if len(raw) == 0:
        problems.append(Problem(file, None, "the file has a header but no data rows"))
    missing = [c.name for c in table.columns if c.required and c.name not in raw.columns]
    if missing:
        problems.append(Problem(file, None, f"missing required column(s): {', '.join(missing)} "
                                            f"(found: {', '.join(map(str, raw.columns))})"))
        return empty_frame(table), problems
    typed = {}
    failed = pd.DataFrame(False, index=raw.index, columns=table.column_names)
    for col in table.columns:
        if col.name not in raw.columns:
            typed[col.name] = pd.Series([None] * len(raw), index=raw.index, dtype=PANDAS_DTYPES[col.kind])
            continue
        values, bad = coerce_column(raw[col.name], col, tz)
        typed[col.name] = values
        if bad.any():
            failed[col.name] = bad
            problems.append(_problem(file, col.name, col.expectation(), np.flatnonzero(bad), raw[col.name]))
    frame = pd.DataFrame(typed, index=raw.index)
    frame = frame.reset_index(drop=True)
    failed = failed.reset_index(drop=True)

    # Values, ranges, nulls, uniqueness: pandera, lazily so every failure is reported.
    try:
        pandera_schema(table).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        problems += _pandera_problems(exc.failure_cases, raw.reset_index(drop=True), failed, file)

    problems += _required_when(frame, table, failed, file)
    problems += _unique_together(frame, table, file)
    problems += _table_rules(frame, table, file)
    problems += _warnings(frame, raw.reset_index(drop=True), table, file)
    return frame, problems


def _pandera_problems(cases: pd.DataFrame, raw: pd.DataFrame, failed: pd.DataFrame, file: str) -> list[Problem]:
    """Problems from pandera's failure cases, showing each cell as it was written in the file."""
    out = []
    cases = cases[cases["index"].notna()]
    for (column, check), grp in cases.groupby(["column", "check"], sort=False):
        idx = grp["index"].astype(int).to_numpy()
        idx = idx[~failed[column].to_numpy()[idx]]  # already reported as unreadable
        if len(idx) == 0:
            continue
        idx = np.unique(idx)
        if check == "not_nullable":
            expected = "a value (it must not be empty)"
        elif check == "field_uniqueness":
            expected = "a unique value (this one appears more than once)"
        else:
            expected = check
        out.append(_problem(file, column, expected, idx, raw[column]))
    return out


def _required_when(frame: pd.DataFrame, table: Table, failed: pd.DataFrame, file: str) -> list[Problem]:
    out = []
    for col in table.columns:
        if not col.required_when:
            continue
        other, values = col.required_when
        need = frame[other].isin(values).to_numpy() & frame[col.name].isna().to_numpy()
        need &= ~failed[col.name].to_numpy()
        if need.any():
            out.append(_problem(file, col.name, f"a value when {other} is {' or '.join(values)} (it is empty)",
                                np.flatnonzero(need)))
    return out


def _unique_together(frame: pd.DataFrame, table: Table, file: str) -> list[Problem]:
    if not table.unique_together or len(frame) == 0:
        return []
    dup = frame.duplicated(list(table.unique_together), keep=False).to_numpy()
    if not dup.any():
        return []
    key = frame[list(table.unique_together)].astype(str).agg(" / ".join, axis=1)
    return [_problem(file, ", ".join(table.unique_together),
                     "one row per " + " and ".join(table.unique_together) + " (duplicate rows)",
                     np.flatnonzero(dup), key)]


def _table_rules(frame: pd.DataFrame, table: Table, file: str) -> list[Problem]:
    out = []
    if "termination_after_hire" in table.rules:
        bad = (frame["termination_date"] < frame["hire_date"]).fillna(False).to_numpy()
        if bad.any():
            out.append(_problem(file, "termination_date", "a date on or after hire_date",
                                np.flatnonzero(bad), frame["termination_date"].dt.strftime("%Y-%m-%d")))
    if "termination_type_when_terminated" in table.rules:
        bad = (frame["termination_date"].notna() & frame["termination_type"].isna()).to_numpy()
        if bad.any():
            out.append(_problem(file, "termination_type", "voluntary or involuntary when termination_date is set",
                                np.flatnonzero(bad)))
    if "interval_minutes_allowed" in table.rules:
        bad = (~frame["interval_minutes"].isin(INTERVAL_MINUTES) & frame["interval_minutes"].notna()).to_numpy()
        if bad.any():
            out.append(_problem(file, "interval_minutes", "one of " + ", ".join(map(str, INTERVAL_MINUTES)),
                                np.flatnonzero(bad), frame["interval_minutes"]))
    return out


def _warnings(frame: pd.DataFrame, raw: pd.DataFrame, table: Table, file: str) -> list[Problem]:
    """Doubtful values that do not stop a report; counted and shown in the data-quality note."""
    out = []
    if table.name == "contacts" and len(frame):
        long_handle = (frame["handle_s"] > 4 * 3600).fillna(False).to_numpy()
        if long_handle.any():
            out.append(_problem(file, "handle_s", "a handle time under 4 hours (kept as given)",
                                np.flatnonzero(long_handle), raw["handle_s"], severity="warning"))
    if table.name == "intervals" and len(frame):
        for name in ("offered", "handled", "abandoned"):
            frac = (frame[name].notna() & (frame[name] % 1 != 0)).to_numpy()
            if frac.any():
                out.append(_problem(file, name, "a whole count (fractional counts kept as given)",
                                    np.flatnonzero(frac), raw[name], severity="warning"))
    return out


# --- the source -------------------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where parsed tables are cached: $REPORTLIB_CACHE or ~/.cache/reportlib."""
    base = os.environ.get("REPORTLIB_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "reportlib")
    return Path(base)


def _file_key(path: Path, tz: str) -> str:
    st = path.stat()
    text = f"{CONTRACT_VERSION}|{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{tz}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class Source:
    """A data source: the contract's tables, parsed, checked and served to the engine.

    Tables load on first use. `table(name)` is an ibis expression over DuckDB (for contact-level
    aggregation); `frame(name)` is a pandas DataFrame (for the small tables).
    """

    def __init__(self, location: str, tz: str = DEFAULT_TIMEZONE):
        import ibis

        self.location = location
        self.tz = tz
        self.warnings: list[str] = []
        self._frames: dict[str, pd.DataFrame] = {}
        self._memo: dict[tuple, Any] = {}
        self._loaded: set[str] = set()
        self._files: dict[str, Path] = {}
        self._db_tables: set[str] = set()
        self._problems: list[Problem] = []
        if location.startswith("duckdb://"):
            path = location[len("duckdb://"):]
            path = path[1:] if path.startswith("//") else path
            if not Path(path).exists():
                raise ReportlibError(f"the database {path} does not exist")
            self.con = ibis.duckdb.connect(path, read_only=True)
            self._db_tables = set(self.con.list_tables()) & set(TABLES)
            self.fingerprint = _fingerprint_text(f"{Path(path).resolve()}|{Path(path).stat().st_mtime_ns}")
        else:
            folder = Path(location)
            if not folder.is_dir():
                raise ReportlibError(f"the data folder {folder} does not exist (give --data DIR, or run "
                                     f"`reportlib sample-data --out {folder}` to create a sample)")
            self._files, self._problems = find_table_files(folder)
            self.con = ibis.duckdb.connect()
            self.fingerprint = _fingerprint_text(
                "|".join(f"{n}:{_file_key(p, tz)}" for n, p in sorted(self._files.items())))

    # which tables are here
    @property
    def tables(self) -> list[str]:
        """Names of the contract tables this source holds."""
        return sorted(set(self._files) | self._db_tables)

    def has(self, name: str) -> bool:
        """Whether the source holds table `name`."""
        return name in self._files or name in self._db_tables

    def require(self, *names: str) -> None:
        """Raise MissingTableError naming each of `names` that the source lacks."""
        missing = [n for n in names if not self.has(n)]
        if missing:
            raise MissingTableError(
                f"the data source {self.location} has no {', '.join(missing)} table"
                f"{'s' if len(missing) > 1 else ''}; this needs it (see docs/data-contract.md)")

    def file_name(self, name: str) -> str:
        """The file (or database table) a table comes from, for messages."""
        return self._files[name].name if name in self._files else f"{name} (database table)"

    # loading
    def frame(self, name: str) -> pd.DataFrame:
        """Table `name` as a typed pandas DataFrame, the caller's own copy (DataError if it breaks the contract)."""
        self._load(name)
        if name not in self._frames:
            self._frames[name] = self._typed_from_engine(name)
        return self._frames[name].copy()

    def memo(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """`compute()`, remembered under `key` for as long as this source is open (a copy of it each time).

        For derived results that several reports need, such as every client's monthly counts: the
        first report computes them once for all clients, later reports (a warm kernel runs many) reuse
        them. `key` must name everything the result depends on besides this source's data.
        """
        if key not in self._memo:
            self._memo[key] = compute()
        return copy.deepcopy(self._memo[key])

    def for_client(self, client_id: str) -> "ClientSource":
        """This source narrowed to one client's data (see ClientSource)."""
        return ClientSource(self, str(client_id))

    def table(self, name: str):
        """Table `name` as an ibis expression in the engine (raises DataError if it breaks the contract)."""
        self._load(name)
        return self.con.table(name)

    def _typed_from_engine(self, name: str) -> pd.DataFrame:
        frame = self.con.table(name).to_pandas()
        for col in TABLES[name].columns:
            if col.kind in ("timestamp", "date") and col.name in frame:
                frame[col.name] = pd.to_datetime(frame[col.name]).astype("datetime64[us]")
            elif col.kind == "bool" and col.name in frame:
                frame[col.name] = frame[col.name].astype("boolean")
            elif col.kind == "int" and col.name in frame:
                frame[col.name] = frame[col.name].astype("Int64")
        return frame

    def _load(self, name: str) -> None:
        if name in self._loaded:
            return
        self.require(name)
        if name in self._db_tables:
            self._check_db_table(name)
        else:
            self._load_file(name)
        self._loaded.add(name)
        self._check_references(name)

    def _load_file(self, name: str) -> None:
        path = self._files[name]
        key = _file_key(path, self.tz)
        cdir = cache_dir()
        parquet, meta = cdir / f"{name}-{key}.parquet", cdir / f"{name}-{key}.json"
        if parquet.exists() and meta.exists():
            self.warnings += json.loads(meta.read_text())["warnings"]
            self.con.read_parquet(parquet, table_name=name)
            return
        from . import progress

        with progress.step(f"parsed and checked {path.name}", self.tables.index(name) + 1, len(self.tables)) as st:
            frame, problems = check_table(read_raw(path), TABLES[name], path.name, self.tz)
            st.detail = f"{len(frame):,} rows"
        errors = [p.line() for p in problems if p.severity == "error"]
        warnings = [p.line() for p in problems if p.severity == "warning"]
        if errors:
            raise DataError(errors, f"{path.name} does not meet the data contract")
        self.warnings += warnings
        self._frames[name] = frame
        try:
            cdir.mkdir(parents=True, exist_ok=True)
            tmp = parquet.with_suffix(f".tmp{os.getpid()}")
            _to_parquet(frame, TABLES[name], tmp)
            os.replace(tmp, parquet)
            meta.write_text(json.dumps({"warnings": warnings, "rows": len(frame)}))
            self.con.read_parquet(parquet, table_name=name)
        except OSError:
            self.con.create_table(name, _arrow(frame, TABLES[name]), temp=True)

    def _check_db_table(self, name: str) -> None:
        have = set(self.con.table(name).columns)
        missing = [c.name for c in TABLES[name].columns if c.required and c.name not in have]
        if missing:
            raise DataError([f"{name} (database table): missing required column(s): {', '.join(missing)}"])

    def _check_references(self, name: str) -> None:
        """Every agent_id/client_id that `name` uses must exist in agents/clients when they are present."""
        problems = []
        for col in TABLES[name].columns:
            if not col.references:
                continue
            ref_table, ref_col = col.references.split(".")
            if not self.has(ref_table):
                continue
            self._load(ref_table)
            sql = (f'SELECT t."{col.name}" AS v, count(*) AS n FROM "{name}" t '
                   f'WHERE t."{col.name}" IS NOT NULL AND t."{col.name}" NOT IN '
                   f'(SELECT "{ref_col}" FROM "{ref_table}" WHERE "{ref_col}" IS NOT NULL) '
                   f'GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 6')
            unknown = self.con.raw_sql(sql).fetchall()
            if unknown:
                total_sql = (f'SELECT count(DISTINCT t."{col.name}"), count(*) FROM "{name}" t '
                             f'WHERE t."{col.name}" IS NOT NULL AND t."{col.name}" NOT IN '
                             f'(SELECT "{ref_col}" FROM "{ref_table}" WHERE "{ref_col}" IS NOT NULL)')
                distinct, rows = self.con.raw_sql(total_sql).fetchone()
                shown = ", ".join(f'"{v}"' for v, _ in unknown[:5])
                problems.append(f"{self.file_name(name)}, column {col.name}: {distinct:,} value(s) in {rows:,} rows "
                                f"do not exist in {self.file_name(ref_table)} ({shown})")
        if problems:
            self._loaded.discard(name)
            raise DataError(problems, f"{self.file_name(name)} refers to rows that do not exist")

    # the whole source
    def validate(self) -> tuple[list[str], list[str]]:
        """Check every table present and name the required ones absent: (errors, warnings)."""
        errors = [p.line() for p in self._problems]
        present = set(self.tables)
        for name in required_tables(present):
            if name not in present:
                hint = " (or an intervals table)" if name == "contacts" else ""
                errors.append(f"{name}: required table is missing{hint}; expected a file "
                              f"{name}.csv, .parquet or .xlsx in {self.location}")
        for name in self.tables:
            try:
                self._load(name)
            except DataError as exc:
                errors += exc.problems
        return errors, list(self.warnings)


def _fingerprint_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _arrow(frame: pd.DataFrame, table: Table):
    import pyarrow as pa_

    types = {"str": pa_.string(), "float": pa_.float64(), "int": pa_.int64(), "bool": pa_.bool_(),
             "timestamp": pa_.timestamp("us"), "date": pa_.date32()}
    arrays = []
    for col in table.columns:
        values = frame[col.name]
        if col.kind == "date":
            arrays.append(pa_.array(values.dt.date.where(values.notna(), None), type=types["date"]))
        elif col.kind in ("bool", "int"):
            arrays.append(pa_.array(values.astype(object).where(values.notna(), None), type=types[col.kind]))
        else:
            arrays.append(pa_.array(values, type=types[col.kind], from_pandas=True))
    return pa_.table(arrays, names=table.column_names)


def _to_parquet(frame: pd.DataFrame, table: Table, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(_arrow(frame, table), path)


class ClientSource:
    """One client's data only: contacts, intervals and clients filtered by client_id; other tables pass through.

    The roster and activity are needed for nothing client-specific and are never shown in a client
    review. Every reportlib function that takes a source works on it. `parent` and `client_id` let
    the report helpers (narrative) compute a figure once for every client on the parent (`Source.memo`)
    and keep this client's rows, which equal the figures computed over the client's data alone.
    """

    def __init__(self, source: Source, client_id: str):
        self.parent = source
        self.client_id = client_id
        self.tz = source.tz
        self.warnings: list[str] = []
        self.fingerprint = source.fingerprint
        self.con = source.con

    def has(self, name: str) -> bool:
        """Whether the source holds table `name`."""
        return self.parent.has(name)

    def require(self, *names: str) -> None:
        """Raise MissingTableError naming each of `names` that the source lacks."""
        self.parent.require(*names)

    def table(self, name: str):
        """Table `name` in the engine, this client's rows only for contacts and intervals."""
        t = self.parent.table(name)
        if name in ("contacts", "intervals"):
            t = t.filter(t.client_id == self.client_id)
        return t

    def frame(self, name: str) -> pd.DataFrame:
        """Table `name` as pandas; the clients table holds this client's row only."""
        f = self.parent.frame(name)
        if name == "clients":
            f = f[f["client_id"].astype(str) == self.client_id].reset_index(drop=True)
        return f


# Open sources of this process, newest last. A warm kernel renders many reports from one source: the
# tables are registered with the engine once and derived results (Source.memo) are shared. A source is
# reused only while its files are unchanged (same fingerprint: sizes and modification times).
_OPEN: dict[tuple[str, str], Source] = {}
_OPEN_MAX = 4


def open_source(data: str | os.PathLike, tz: str = DEFAULT_TIMEZONE) -> Source:
    """Open a data folder or `duckdb:///path` database as a Source (tables load on first use).

    The same location, time zone and unchanged files give the Source already open in this process.
    """
    key = (str(data), tz)
    fresh = Source(str(data), tz)
    known = _OPEN.pop(key, None)
    if known is not None and known.fingerprint == fresh.fingerprint and not known._problems:
        fresh.con.disconnect()
        fresh = known
    _OPEN[key] = fresh
    while len(_OPEN) > _OPEN_MAX:
        _OPEN.pop(next(iter(_OPEN)))
    return fresh
