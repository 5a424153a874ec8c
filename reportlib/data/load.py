"""Loaders: find each table of a data source, parse it, check it against the contract, serve it.

A data source is a folder holding one file per table (CSV with comma, semicolon or tab; UTF-8 with
or without BOM; CRLF or LF; Parquet; .xlsx) or a DuckDB database (`duckdb:///path/store.duckdb`).
Tables are parsed and checked once and cached as Parquet keyed by the file's fingerprint, so a
repeated run over unchanged files does not parse them again. Contact-level tables are served as
ibis expressions over DuckDB, so aggregation runs in the engine and only aggregates reach pandas.

Row numbers in messages are spreadsheet rows: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import io
import os
import re
import warnings
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from reportlib.core.errors import DataError, ReportlibError, UsageError, source_breaks_contract
from reportlib.core.months import FIRST_YEAR, LAST_YEAR
from reportlib.core.params import DEFAULT_TIMEZONE, tables_problem
from reportlib.core.safety import printable, redact_passwords
from reportlib.core.words import counted, noun_for
from reportlib.data.contract import (
    CONTRACT_VERSION,
    FILE_SUFFIXES,
    NUMBER_LIMIT,
    PANDAS_DTYPES,
    TABLES,
    Column,
    Table,
    empty_frame,
    engine_types,
    missing_table_text,
    pandera_schema,
    required_tables,
    rule_columns,
    table_rules,
)
from reportlib.data.source import ClientView, Problem, WholeSource, file_rows, require_tables

MAX_ROWS_SHOWN = 5
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


# --- problems -------------------------------------------------------------------------------------


def _problem(
    file: str,
    column: str | None,
    expected: str,
    index: pd.Index | np.ndarray,
    values: pd.Series | None = None,
    severity: str = "error",
) -> Problem:
    """A Problem for the rows at frame positions `index` (0-based data rows)."""
    idx = np.asarray(index)
    first = idx[:MAX_ROWS_SHOWN]
    vals: list[str | None] = [None] * len(first)
    if values is not None:
        vals = [_show(values.iloc[i]) if isinstance(values, pd.Series) else _show(values[i]) for i in first]
    return Problem(file, column, expected, [int(i) + 2 for i in first], vals, int(len(idx)), severity)


def _show(value) -> str:
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else printable(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- reading files ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableFiles:
    """What find_table_files found in a data folder: each contract table's one file, the problems of the files not
    read, and the tables given by more than one file (agents.csv and agents.xlsx: which is the current roster?),
    each with its problem, which reading that table fails with."""

    files: dict[str, Path]
    problems: list[Problem]
    ambiguous: dict[str, Problem]


def find_table_files(folder: Path) -> TableFiles:
    """Map each contract table to its file in `folder` (name.csv, .tsv, .txt, .parquet, .xlsx), with the problems
    of the files not read. A table given by two files maps to neither: it is in `ambiguous` with its problem."""
    found: dict[str, list[Path]] = {}
    problems = []
    home = folder.resolve()
    for path in sorted(folder.iterdir()):
        stem = _table_of(path.name)
        if stem is None:
            continue
        why = _unsafe_table_file(path, home)
        if why:
            problems.append(Problem(path.name, None, why))
            continue
        found.setdefault(stem, []).append(path)
    files, ambiguous = {}, {}
    for name, paths in found.items():
        if len(paths) > 1:
            ambiguous[name] = Problem(
                ", ".join(p.name for p in paths), None, f"table {name} is given by {len(paths)} files; keep exactly one"
            )
            problems.append(ambiguous[name])
            continue
        files[name] = paths[0]
    return TableFiles(files, problems, ambiguous)


def table_files_in(folder: Path) -> list[str]:
    """The names of the files in `folder` that stand for a contract table (contacts.csv, Agents.xlsx), sorted."""
    return sorted(p.name for p in folder.iterdir() if _table_of(p.name) is not None)


def _table_of(file_name: str) -> str | None:
    """The contract table a file named like one stands for ("Clients.CSV" -> "clients"), None for other names."""
    lower = file_name.lower()
    stem = next((lower[: -len(s)] for s in FILE_SUFFIXES if lower.endswith(s)), None)
    return stem if stem in TABLES else None


def _unsafe_table_file(path: Path, home: Path) -> str | None:
    """Why the table file `path` in data folder `home` must not be read, or None when it may.

    A link is followed only when its target stays inside the data folder; a folder, a pipe or a
    device named like a table is refused (a pipe would block the reader, /dev/zero would never end).
    """
    import stat

    try:
        target = path.resolve(strict=True)
        st = os.stat(target)
    except (OSError, RuntimeError):  # a dangling link or a link loop
        return "a link to nothing readable; expected a table file"
    if path.is_symlink() and not target.is_relative_to(home):
        return "a link to a file outside the data folder; copy the file into the folder instead"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file; expected a table file"
    return None


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        return ","  # a one-column file; the missing-column check will say what is wrong
    return best


def read_raw(path: Path) -> pd.DataFrame:
    """The file's cells: CSV as strings (no conversion yet), Parquet/xlsx as stored."""
    frames = [frame for frame, _restart in read_raw_chunks(path, chunk_bytes=None)]
    return frames[-1]


# Text of a CSV parsed and checked at a time (about 500,000 contacts): bounds the loader's memory
# whatever the file's size. Chosen for the memory, not tuned to a data set: any size from a few MB up
# gives the same rows, problems and messages (tests/test_load.py checks small chunks against whole).
CHUNK_BYTES = 1 << 26


def read_raw_chunks(path: Path, chunk_bytes: int | None = -1) -> Iterator[tuple[pd.DataFrame, bool]]:
    """The file's cells in chunks of consecutive rows: (frame, restart) pairs.

    A CSV is streamed `chunk_bytes` of text at a time as Arrow-backed strings (None: one chunk);
    Parquet and xlsx come whole, as stored. `restart` True means the frame is the whole file and
    replaces every chunk given before it: pyarrow refused the CSV part-way (a malformed row) and the
    slower Python parser, which names the row, read it instead. `chunk_bytes` -1: CHUNK_BYTES.
    """
    if chunk_bytes == -1:
        chunk_bytes = CHUNK_BYTES
    name = path.name
    lower = name.lower()
    if lower.endswith(".parquet"):
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises many kinds
            raise DataError(
                [f"{name}: not a readable Parquet file ({exc.__class__.__name__}: {_one_line(str(exc), 200)})"]
            ) from None
        odd = _cell_type_problems(path)
        if odd:
            raise DataError(odd)
        yield frame, False
        return
    if lower.endswith(".xlsx"):
        try:
            frame = pd.read_excel(path, dtype=object, engine="openpyxl")
        except Exception as exc:
            raise DataError(
                [f"{name}: not a readable .xlsx workbook ({exc.__class__.__name__}: {_one_line(str(exc), 200)})"]
            ) from None
        names = [str(c).strip() for c in frame.columns]
        if any(re.fullmatch(r"(.+)\.\d+", c) and c.rsplit(".", 1)[0] in names for c in names):
            twice = _xlsx_header_twice(path)  # pandas renamed a repeated name "x.1": was it repeated?
            if twice:
                raise DataError([f"{name} row 1: column {_one_line(twice, 60)} appears more than once in the header"])
        frame.columns = names
        yield frame, False
        return
    opener = open
    if lower.endswith(".gz"):
        import gzip

        opener = gzip.open  # type: ignore[assignment]
    try:
        fh = opener(path, "rb")
    except OSError as exc:  # unreadable (permissions), vanished since the folder was listed
        raise DataError([f"{name}: cannot be read ({exc.strerror or exc.__class__.__name__})"]) from None
    given = 0
    with fh:
        try:  # reads the whole file: a gzip stream that is corrupt or cut short fails here
            header_bytes, nul_line, has_text = _scan(fh)
        except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            if not lower.endswith(".gz"):  # an I/O error reading a plain file
                raise DataError([f"{name}: cannot be read ({getattr(exc, 'strerror', None) or exc})"]) from None
            raise DataError(
                [f"{name}: not a readable gzip file ({exc.__class__.__name__}: {_one_line(str(exc), 200)})"]
            ) from None
        if not has_text:
            raise DataError([f"{name}: the file is empty; expected a header row and data rows"])
        if nul_line:
            if _utf16(header_bytes):  # Excel's "Unicode text" and some exports: every other byte NUL
                raise DataError([f"{name}: UTF-16 text; save the file as UTF-8 (CSV UTF-8 in Excel)"])
            where = f" row {nul_line}" if nul_line > 1 else ""
            raise DataError([f"{name}{where}: not a text file (it holds binary data: a NUL byte); expected CSV text"])
        bom = 3 if header_bytes.startswith(b"\xef\xbb\xbf") else 0
        header_bytes = header_bytes.split(b"\r", 1)[0]  # CRLF, or CR alone (Excel for Mac's CSV)
        try:
            header = header_bytes[bom:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(
                [f"{name} row 1: not UTF-8 text (byte 0x{header_bytes[bom + exc.start]:02x}); save the file as UTF-8"]
            ) from None
        sep = _sniff_delimiter(header)
        fh.seek(0)
        # streamed; Arrow checks the UTF-8 of every cell itself. None: pyarrow refused the file
        for frame in _read_csv_fast(fh, header, sep, chunk_bytes):
            if frame is None:
                break
            frame.columns = [str(c).strip() for c in frame.columns]
            given += 1
            yield frame, False
        else:
            return
        fh.seek(0)  # read it whole here and name the offending row
        data = fh.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1  # LF, CRLF or CR alone
        raise DataError(
            [f"{name} row {line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8"]
        ) from None
    del data
    frame = _read_csv_checked(text, sep, name)
    frame.columns = [str(c).strip() for c in frame.columns]
    yield frame, given > 0


def _utf16(head: bytes) -> bool:
    """Whether a file's first bytes are UTF-16 text: a UTF-16 byte-order mark, or (without one) ASCII letters each
    next to a NUL byte, as a header row of column names is in UTF-16."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    pairs = head[: len(head) - len(head) % 2][:200]
    if len(pairs) < 8:
        return False
    even, odd = pairs[0::2], pairs[1::2]
    return (even.count(0) == len(even) and 0 not in odd) or (odd.count(0) == len(odd) and 0 not in even)


def _xlsx_header_twice(path: Path) -> str | None:
    """The first column name the header row of workbook `path` (its first sheet, as pandas reads it)
    gives twice, or None."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next((r for r in rows if any(c is not None and str(c).strip() for c in r)), ())
    finally:
        book.close()
    seen: set[str] = set()
    for cell in header:
        text = "" if cell is None else str(cell).strip()
        if text and text in seen:
            return text
        seen.add(text)
    return None


def _cell_type_problems(path: Path) -> list[str]:
    """One line per contract column of the Parquet file `path` whose type holds no single value a cell
    of the contract can be (lists, records, maps, raw bytes): they would otherwise be shown as text
    or stop the checks with a traceback. Reads the schema only."""
    import pyarrow as pa_
    import pyarrow.parquet as pq

    table = TABLES.get(path.name.lower()[: -len(".parquet")])
    wanted = set(table.column_names if table else ())
    out = []
    for f in pq.read_schema(path):
        t = f.type.value_type if pa_.types.is_dictionary(f.type) else f.type
        odd = pa_.types.is_nested(t) or pa_.types.is_binary(t) or pa_.types.is_large_binary(t)
        odd = odd or pa_.types.is_fixed_size_binary(t)
        if odd and str(f.name).strip() in wanted:
            out.append(
                f"{path.name}, column {_one_line(f.name, 60)}: expected text, numbers, true/false, dates or "
                f"timestamps, got a Parquet column of type {_one_line(str(t), 60)}"
            )
    return out


_SCAN_BLOCK = 1 << 24
_MAX_HEADER = 1 << 20


def _scan(fh) -> tuple[bytes, int, bool]:
    """One streamed pass over a binary file: (its first line up to 1 MB, the line of its first NUL byte or 0,
    whether it holds any non-space byte). Holds one 16 MB block at a time."""
    header = b""
    header_done = False
    lines = 0
    has_text = False
    while True:
        block = fh.read(_SCAN_BLOCK)
        if not block:
            return header, 0, has_text
        if not header_done:
            end = block.find(b"\n")
            header += block if end < 0 else block[:end]
            header_done = end >= 0 or len(header) >= _MAX_HEADER
            header = header[:_MAX_HEADER]
        has_text = has_text or re.search(rb"\S", block) is not None
        nul = block.find(b"\x00")
        if nul >= 0:
            return header, lines + block.count(b"\n", 0, nul) + 1, has_text
        lines += block.count(b"\n")


def _read_csv_fast(fh, header_line: str, sep: str, chunk_bytes: int | None) -> Iterator[pd.DataFrame | None]:
    """Every cell as an Arrow-backed string (vectorized C++ parsing of the open binary file `fh`, streamed
    in blocks), in frames of about `chunk_bytes` of text each (None: one frame); the last item is None
    when the CSV is malformed. `header_line` is its first line, decoded."""
    import pyarrow as pa_
    import pyarrow.csv as pacsv

    try:
        header = next(csv.reader([header_line.lstrip("\ufeff")], delimiter=sep), [])
    except csv.Error:  # the Python parser reads the file and names what is wrong
        yield None
        return
    if len(set(header)) != len(header):
        yield None
        return
    options = dict(
        read_options=pacsv.ReadOptions(block_size=min(chunk_bytes or 1 << 22, 1 << 22), use_threads=False),
        parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa_.string() for c in header},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    if chunk_bytes is None:
        try:
            table = pacsv.read_csv(fh, **options)
        except (pa_.ArrowInvalid, UnicodeDecodeError, csv.Error):
            yield None
            return
        yield table.to_pandas(types_mapper=pd.ArrowDtype, self_destruct=True)
        return
    try:
        reader = pacsv.open_csv(fh, **options)
    except (pa_.ArrowInvalid, UnicodeDecodeError, csv.Error):
        yield None
        return
    batches: list = []
    size = given = 0
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except (pa_.ArrowInvalid, UnicodeDecodeError, csv.Error):
            yield None
            return
        batches.append(batch)
        size += batch.nbytes
        if size >= chunk_bytes:
            yield pa_.Table.from_batches(batches).to_pandas(types_mapper=pd.ArrowDtype, self_destruct=True)
            batches, size, given = [], 0, given + 1
    if batches or not given:  # the rest, or a file with a header only
        table = pa_.Table.from_batches(batches, schema=reader.schema)
        yield table.to_pandas(types_mapper=pd.ArrowDtype, self_destruct=True)


def _read_csv_checked(text: str, sep: str, name: str) -> pd.DataFrame:
    """The slower Python parser, for files pyarrow refuses: it names every row with the wrong number of fields.

    Rows are counted as records, spreadsheet style (the header is row 1; blank lines are skipped).
    A last row cut short (no final newline) is named as such.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    records: list[list[str]] = []
    try:
        for record in reader:
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # a blank line
            records.append(record)
    except csv.Error as exc:
        raise DataError([f"{name} row {len(records) + 1}: cannot be read as CSV ({_one_line(str(exc))})"]) from None
    header = [h.strip() for h in records[0]]
    seen: set[str] = set()
    twice = []
    for h in header:
        if h in seen:
            twice.append(h)
        seen.add(h)
    if twice:
        raise DataError([f"{name} row 1: column {_one_line(twice[0], 60)} appears more than once in the header"])
    width = len(header)
    bad = [(i + 1, len(r)) for i, r in enumerate(records) if len(r) != width]
    if bad:
        cut = not text.endswith(("\n", "\r")) and bad[-1][0] == len(records)
        hint = " (the file ends in the middle of this row: was it cut short?)" if cut and len(bad) == 1 else ""
        what = f"{width} fields separated by {_sep_name(sep)}"
        if len(bad) == 1:
            row, n = bad[0]
            raise DataError([f"{name} row {row}: expected {what}, found {n}{hint}"])
        shown = ", ".join(f"{row} (found {n})" for row, n in bad[:MAX_ROWS_SHOWN])
        end = " (the last row is cut short: no final newline)" if cut else ""
        raise DataError([f"{name}: expected {what} in {len(bad):,} rows (first rows: {shown}){end}"])
    return pd.DataFrame(records[1:], columns=header, dtype=object)


def _one_line(text: str, limit: int = 300) -> str:
    """`text` on one line (runs of whitespace, including CR/LF, become one space), cut to `limit` characters."""
    flat = printable(" ".join(str(text).split()))
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _sep_name(sep: str) -> str:
    return {",": "commas", ";": "semicolons", "\t": "tabs", "|": "bars"}[sep]


# --- typing columns --------------------------------------------------------------------------------


def _arrow_strings(series: pd.Series):
    """The Arrow string data behind an Arrow-backed Series (no copy), or None for other dtypes."""
    import pyarrow as pa_

    if isinstance(series.dtype, pd.ArrowDtype) and pa_.types.is_string(series.dtype.pyarrow_dtype):
        return series.array._pa_array
    return None


def _blank(series: pd.Series) -> pd.Series:
    """True where a raw cell is empty."""
    arr = _arrow_strings(series)
    if arr is not None:  # one vectorized match, no stripped copy of the column
        import pyarrow.compute as pc

        blank = pc.or_(pc.equal(arr, ""), pc.utf8_is_space(arr))  # empty, or whitespace only
        return pd.Series(pc.fill_null(blank, True).to_numpy(zero_copy_only=False), index=series.index, dtype=bool)
    if isinstance(series.dtype, pd.ArrowDtype) or isinstance(series.dtype, pd.StringDtype):
        return (series.isna() | (series.fillna("").str.strip() == "")).astype(bool)
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        return series.isna() | (series.astype(str).str.strip() == "")
    return series.isna()


def _text(raw: pd.Series) -> pd.Series:
    """Cells as stripped strings ("" for empty); dates from spreadsheets in ISO form."""
    arr = _arrow_strings(raw)
    if arr is not None:
        import pyarrow.compute as pc

        trimmed = pc.utf8_trim_whitespace(pc.fill_null(arr, ""))
        if arr.null_count == 0 and pc.all(pc.equal(pc.binary_length(trimmed), pc.binary_length(arr))).as_py():
            return raw  # nothing to strip: the column as it is, not a copy
        return pd.Series(pd.arrays.ArrowExtensionArray(trimmed), index=raw.index)
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
        out = _text(raw)
        if blank.any():
            out = out.where(~blank, None)
        if not isinstance(out.dtype, pd.ArrowDtype):
            out = out.astype(object)
        # Arrow-backed text from a CSV stays so (a tenth of the memory of Python strings); the
        # Source serves frames from the engine, with Python strings, once the table is cached
        return out, np.zeros(len(raw), dtype=bool)
    if kind in ("float", "int"):
        if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
            values = raw.astype("float64")
        else:
            values = _to_float(_text(raw).where(~blank, None))
        bad = ~blank & values.isna().to_numpy()
        bad |= ~blank & ~np.isfinite(values.fillna(0).to_numpy())
        if kind == "int":
            frac = values.notna().to_numpy() & (values.fillna(0) % 1 != 0).to_numpy()
            # beyond 2**53 a double is no exact whole number (1e308 would not fit an int64 at all): unreadable
            bad |= frac | (values.abs().fillna(0) > 2.0**53).to_numpy()
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


def _to_float(text: pd.Series) -> pd.Series:
    """Numbers from stripped text cells (None for empty): NaN where a cell is not a number.

    Arrow's cast reads a clean column in one vectorized pass; a column with any unreadable cell
    goes through pandas, which marks each such cell NaN.
    """
    import pyarrow as pa_
    import pyarrow.compute as pc

    if isinstance(text.dtype, pd.ArrowDtype):
        try:
            arr = pc.cast(pa_.array(text, type=pa_.string(), from_pandas=True), pa_.float64())
            return pd.Series(arr.to_numpy(zero_copy_only=False), index=text.index, dtype="float64")
        except (pa_.ArrowInvalid, pa_.ArrowNotImplementedError):
            pass
    return pd.to_numeric(text, errors="coerce").astype("float64")


# a date, then "T", "t" (RFC 3339 allows either, as it allows "z") or a space and the time, then an offset or none
_ISO_PARTS = (
    r"^(?P<date>\d{4}-\d{2}-\d{2})(?:[Tt ](?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?"
    r"\s*(?P<offset>Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


# The forms nearly every export writes, one per column: date, a T or a space, hh:mm:ss, up to six digits of a
# second, and an offset (Z or +hh:mm) or none; or a date alone. A column whose cells all have one of them is
# parsed by Arrow's own ISO 8601 cast, which is as strict as the general split (no 30 February, no 24:00, no
# offset of +24:00) and about five times quicker (the 4x operation's 6.5 million arrival times: ~5 s of the
# parse -> ~1 s); any other column, or one the cast refuses, goes the general way, which names the cells it
# cannot read. tests/test_load.py compares the two on every cell of a grid of valid and invalid parts.
_ISO_PLAIN = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?"
_ISO_PLAIN_FORMS = (
    (_ISO_PLAIN + r"(?:Z|[+-]\d{2}:\d{2})$", "UTC"),
    (_ISO_PLAIN + "$", None),
    (r"^\d{4}-\d{2}-\d{2}$", None),
)


_ISO_CHUNK = 1 << 18


def _parse_iso(text: pd.Series, tz: str) -> tuple[pd.Series, np.ndarray]:
    """ISO 8601 strings to naive local wall time in `tz`, and where parsing failed (see _parse_iso_block).

    Long columns go in blocks of 262,144 cells, so the intermediate arrays stay small.
    """
    if len(text) <= _ISO_CHUNK:
        return _parse_iso_block(text, tz)
    parts = [_parse_iso_block(text.iloc[i : i + _ISO_CHUNK], tz) for i in range(0, len(text), _ISO_CHUNK)]
    return pd.concat([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _parse_iso_block(text: pd.Series, tz: str) -> tuple[pd.Series, np.ndarray]:
    """ISO 8601 strings to naive local wall time in `tz`, and where parsing failed (NaT there): by Arrow's
    cast when every cell has one plain form (_parse_iso_plain), else by the general split (_parse_iso_split)."""
    import pyarrow as pa_

    arr = pa_.array(text.astype(object) if text.dtype == object else text, type=pa_.string(), from_pandas=True)
    if isinstance(arr, pa_.ChunkedArray):  # a column read from a large CSV comes in blocks
        arr = arr.combine_chunks()
    plain = _parse_iso_plain(arr, tz)
    wall, bad = (plain, np.zeros(len(arr), dtype=bool)) if plain is not None else _parse_iso_split(arr, tz)
    out = pd.Series(wall, index=text.index, dtype="datetime64[us]")
    out[bad] = pd.NaT
    return out, bad


def _parse_iso_split(arr, tz: str) -> tuple[np.ndarray, np.ndarray]:
    """ISO 8601 strings (Arrow text) to naive local wall time in `tz` (datetime64[us], 0 where unread), and
    where parsing failed.

    Vectorized in Arrow: one RE2 match splits date, time and offset; the date is parsed and checked
    (no 30 February), the time of day is read as hours, minutes, seconds and fraction (checked
    against 23:59:59), the offset is applied as minutes and UTC instants are converted to local time
    (DST-correct via tzdata). pandas' own parser falls back to a slow per-row path when a column
    mixes offsets (-05:00, -04:00, Z), hence the hand-written split.
    """
    import pyarrow as pa_
    import pyarrow.compute as pc

    parts = pc.extract_regex(arr, _ISO_PARTS)  # null where the pattern does not match
    matched = pc.fill_null(pc.is_valid(parts), False)
    date = pc.if_else(matched, parts.field("date"), "1970-01-01")  # the regex guarantees the digits
    time_ = pc.if_else(matched, parts.field("time"), "")
    offset = pc.if_else(matched, parts.field("offset"), "")

    def num(strings, start: int, stop: int):
        return pc.cast(pc.utf8_slice_codeunits(strings, start, stop), pa_.int64(), safe=False)

    day = pc.strptime(date, format="%Y-%m-%d", unit="us", error_is_null=True)
    ok = pc.and_(pc.equal(pc.day(day), num(date, 8, 10)), pc.equal(pc.month(day), num(date, 5, 7)))
    has_time = pc.greater(pc.utf8_length(time_), 0)
    hh = pc.if_else(has_time, num(pc.if_else(has_time, time_, "00:00"), 0, 2), 0)
    mm = pc.if_else(has_time, num(pc.if_else(has_time, time_, "00:00"), 3, 5), 0)
    has_s = pc.greater_equal(pc.utf8_length(time_), 8)
    ss = pc.if_else(has_s, num(pc.if_else(has_s, time_, "00:00:00"), 6, 8), 0)
    has_f = pc.greater(pc.utf8_length(time_), 9)
    frac = pc.utf8_rpad(pc.utf8_slice_codeunits(pc.if_else(has_f, time_, "00:00:00.0"), 9, 15), 6, "0")
    micros = pc.cast(frac, pa_.int64(), safe=False)
    ok = pc.and_(ok, pc.and_(pc.less(hh, 24), pc.and_(pc.less(mm, 60), pc.less(ss, 60))))
    ok = pc.and_(ok, matched)
    bad = ~np.asarray(pc.fill_null(ok, False).to_numpy(zero_copy_only=False), dtype=bool)
    clock = pc.add(pc.multiply(pc.add(pc.add(pc.multiply(hh, 3600), pc.multiply(mm, 60)), ss), 1_000_000), micros)
    wall_us = pc.fill_null(pc.add(pc.cast(day, pa_.int64()), clock), 0).to_numpy(zero_copy_only=False)
    wall = np.where(bad, 0, wall_us).astype("int64").astype("datetime64[us]")
    has_offset = pc.fill_null(pc.greater(pc.utf8_length(offset), 0), False).to_numpy(zero_copy_only=False) & ~bad
    if has_offset.any():
        off = pc.utf8_upper(pc.array_filter(offset, pa_.array(has_offset)))
        digits = pc.replace_substring(off, ":", "")
        zulu = pc.equal(off, "Z")
        sign = pc.if_else(pc.starts_with(digits, "-"), -1, 1)
        oh = pc.if_else(zulu, 0, num(pc.if_else(zulu, "+00", digits), 1, 3))
        long_ = pc.greater(pc.utf8_length(digits), 3)
        om = pc.if_else(long_, num(pc.if_else(long_, digits, "+0000"), 3, 5), 0)
        shift = pc.multiply(sign, pc.add(pc.multiply(oh, 60), om)).to_numpy(zero_copy_only=False)
        # RFC 3339: an offset's hours are 00-23 and its minutes 00-59 (+25:00 would shift the instant)
        wrong = pc.or_(pc.greater(oh, 23), pc.greater(om, 59)).to_numpy(zero_copy_only=False)
        if wrong.any():
            bad[np.flatnonzero(has_offset)[wrong]] = True
            shift = np.where(wrong, 0, shift)
        wall[has_offset] = _utc_to_local(wall[has_offset] - shift.astype("timedelta64[m]"), tz)
    return wall, bad


def _parse_iso_plain(arr, tz: str) -> np.ndarray | None:
    """Naive local wall time in `tz` (datetime64[us]) when every cell of the Arrow text `arr` has one of the
    _ISO_PLAIN_FORMS and Arrow's cast reads them all; None otherwise (a blank, another form, 30 February)."""
    import pyarrow as pa_
    import pyarrow.compute as pc

    if len(arr) == 0 or arr.null_count:
        return None
    first = arr[0].as_py()  # the form of the first cell is the one every cell must have
    form = next(((p, zone) for p, zone in _ISO_PLAIN_FORMS if re.match(p, first)), None)
    if form is None or not pc.all(pc.match_substring_regex(arr, form[0])).as_py():
        return None
    try:
        stamps = pc.cast(arr, pa_.timestamp("us", tz=form[1]))
    except (pa_.ArrowInvalid, pa_.ArrowNotImplementedError):
        return None
    wall = pc.cast(stamps, pa_.int64()).to_numpy(zero_copy_only=False).astype("datetime64[us]")
    return wall if form[1] is None else _utc_to_local(wall, tz)


def _utc_to_local(utc: np.ndarray, tz: str) -> np.ndarray:
    """UTC instants (datetime64) as naive wall time in `tz`, DST-correct (tzdata), datetime64[us]."""
    return pd.DatetimeIndex(utc).tz_localize("UTC").tz_convert(tz).tz_localize(None).to_numpy().astype("datetime64[us]")


# Timestamps and dates a table may hold: years FIRST_YEAR..LAST_YEAR (core.months says why: a
# placeholder like 9999-12-31 or a typo like 0001-01-01 would crash the metrics with OutOfBoundsDatetime).
_TIME_RANGE = (np.datetime64(f"{FIRST_YEAR}-01-01", "us"), np.datetime64(f"{LAST_YEAR + 1}-01-01", "us"))
_TIME_RANGE_TEXT = f"from year {FIRST_YEAR} to {LAST_YEAR}"


def _outside_time_range(values: pd.Series) -> np.ndarray:
    """Where typed timestamps (naive, local) fall outside _TIME_RANGE; False for missing values."""
    stamps = values.to_numpy(dtype="datetime64[us]")
    return ~np.isnat(stamps) & ((stamps < _TIME_RANGE[0]) | (stamps >= _TIME_RANGE[1]))


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
    frame, staged, _failed = _check_chunk(raw, table, file, tz, whole=True)
    return frame, [p for _, p in staged]


# The order problems are listed in (a stage number per kind of check), so that a file checked in chunks
# lists its problems in the same order as one checked whole.
_STAGE_FILE, _STAGE_TYPE, _STAGE_PANDERA, _STAGE_UNIQUE, _STAGE_REQUIRED, _STAGE_TOGETHER = 0, 1, 2, 3, 4, 5
_STAGE_RULES = 6  # the row rules follow, one stage each in contract.table_rules' order


def _check_chunk(
    raw: pd.DataFrame, table: Table, file: str, tz: str, whole: bool
) -> tuple[pd.DataFrame, list[tuple[int, Problem]], pd.DataFrame]:
    """check_table on consecutive rows of a file: (typed frame, [(stage, problem)], unreadable cells).

    Rows in problems count from this chunk's first row (row 2). With `whole` False the checks that
    span rows of the whole file (uniqueness, one row per key) are left to the caller (see check_stream).
    """
    problems: list[tuple[int, Problem]] = []
    if len(raw) == 0:
        problems.append((_STAGE_FILE, Problem(file, None, "the file has a header but no data rows")))
    missing = [c.name for c in table.columns if c.required and c.name not in raw.columns]
    if missing:
        problems.append(
            (
                _STAGE_FILE,
                Problem(
                    file,
                    None,
                    f"missing required {noun_for(len(missing), 'column')}: {', '.join(missing)} "
                    f"(found: {_one_line(', '.join(map(str, raw.columns)), 200)})",
                ),
            )
        )
        return empty_frame(table), problems, pd.DataFrame(columns=table.column_names)
    typed = {}
    failed = pd.DataFrame(False, index=raw.index, columns=table.column_names)
    for col in table.columns:
        if col.name not in raw.columns:
            typed[col.name] = pd.Series([None] * len(raw), index=raw.index, dtype=PANDAS_DTYPES[col.kind])
            continue
        values, bad = coerce_column(raw[col.name], col, tz)
        if bad.any():
            problems.append(
                (_STAGE_TYPE, _problem(file, col.name, col.expectation(), np.flatnonzero(bad), raw[col.name]))
            )
        if col.kind in ("float", "int"):  # read, but so large that the figures would overflow: unreadable too
            huge = (values.abs() >= NUMBER_LIMIT).fillna(False).to_numpy(dtype=bool) & ~bad
            if huge.any():
                values = values.where(~pd.Series(huge, index=values.index))
                bad = bad | huge
                expected = col.limit_expectation()
                problems.append((_STAGE_TYPE, _problem(file, col.name, expected, np.flatnonzero(huge), raw[col.name])))
        if col.kind in ("timestamp", "date"):  # read, but outside the years data may hold: unreadable too
            far = _outside_time_range(values) & ~bad
            if far.any():
                values = values.where(~pd.Series(far, index=values.index))
                bad = bad | far
                expected = f"{col.expectation()} {_TIME_RANGE_TEXT}"
                problems.append((_STAGE_TYPE, _problem(file, col.name, expected, np.flatnonzero(far), raw[col.name])))
        typed[col.name] = values
        if bad.any():
            failed[col.name] = bad
    frame = pd.DataFrame(typed, index=raw.index, copy=False)
    if not raw.index.equals(pd.RangeIndex(len(raw))):  # a CSV's rows are numbered 0.. already: no copy
        frame = frame.reset_index(drop=True)
        failed = failed.reset_index(drop=True)

    # Values, ranges, nulls: pandera, lazily so every failure is reported. Uniqueness: hashed in
    # Arrow (_duplicates), which needs a fraction of the memory of pandas' on millions of ids.
    schema = pandera_schema(table)
    unique = [c.name for c in table.columns if c.unique]
    if unique:
        schema = schema.update_columns({name: {"unique": False} for name in unique})
    try:
        with warnings.catch_warnings():  # pandera's own report of several failures concatenates empty frames: a
            warnings.simplefilter("ignore", FutureWarning)  # pandas FutureWarning on stderr, not the user's business
            schema.validate(frame, lazy=True, inplace=True)  # checks only; inplace: no copy
    except pa.errors.SchemaErrors as exc:
        problems += [
            (_STAGE_PANDERA, p) for p in _pandera_problems(exc.failure_cases, raw.reset_index(drop=True), failed, file)
        ]
    if whole:
        for name in unique:
            problems += [(_STAGE_UNIQUE, p) for p in _unique_problems(frame[name], raw[name], failed[name], file, name)]
    problems += [(_STAGE_REQUIRED, p) for p in _required_when(frame, table, failed, file)]
    problems += [(_STAGE_REQUIRED, p) for p in _skipped_starts(frame, raw.reset_index(drop=True), table, file, tz)]
    if whole:
        unreadable = failed[list(table.unique_together)].any(axis=1).to_numpy() if table.unique_together else None
        together = _unique_together(frame, table, file, unreadable, tz)
        problems += [(_STAGE_TOGETHER, p) for p in together or _overlaps(frame, table, file)]
    problems += _rule_problems(frame, raw.reset_index(drop=True), table, file)
    return frame, problems, failed


def _unique_problems(typed: pd.Series, raw: pd.Series, failed: pd.Series, file: str, name: str) -> list[Problem]:
    """The problem of a column whose values must be unique (every occurrence of a repeated value), if any."""
    dup = _duplicates(typed.reset_index(drop=True)) & ~failed.to_numpy()
    if not dup.any():
        return []
    return [
        _problem(
            file,
            name,
            "a unique value (this one appears more than once)",
            np.flatnonzero(dup),
            raw.reset_index(drop=True),
        )
    ]


def _compact(series: pd.Series) -> pd.Series:
    """`series` in buffers of its own (Arrow text combined into one array; others copied)."""
    arr = _arrow_strings(series)
    if arr is None:
        return series.copy()
    import pyarrow as pa_
    import pyarrow.compute as pc

    # take() writes new buffers; combine_chunks/concat_arrays may hand back the CSV block's own buffers
    copied = pc.take(arr, pa_.array(np.arange(len(arr), dtype=np.int64)))
    if isinstance(copied, pa_.ChunkedArray):
        copied = copied.combine_chunks()
    return pd.Series(pd.arrays.ArrowExtensionArray(copied))


def _release_memory() -> None:
    """Give memory freed by the last chunk back to the system: objects in reference cycles (pandas and
    pandera leave some, holding a chunk's Arrow buffers until a full collection), Arrow's pool, the C
    allocator."""
    import gc

    import pyarrow as pa_

    gc.collect()
    pa_.default_memory_pool().release_unused()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the allocator keeps what it keeps
        pass


@contextlib.contextmanager
def _collector_skips_older() -> Iterator[None]:
    """While the block runs, the cyclic garbage collector skips every object that existed before it (gc.freeze:
    the libraries' modules, the source): `_release_memory`'s full collection after each chunk then walks only
    what the parse made. Walking the whole heap took ~0.08 s a collection, 2.4 s over the 29 collections of
    the 4x operation's `validate`, with the GIL held while the check thread waited. Undone at the end unless
    something had frozen objects already (a run's warm kernel): that is left as it was, with more in it."""
    import gc

    already = gc.get_freeze_count() > 0
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        if not already:
            gc.unfreeze()


def check_stream(
    chunks: Iterable[tuple[pd.DataFrame, bool]],
    table: Table,
    file: str,
    tz: str,
    sink: Callable[[Any], None],
    on_chunk: Callable[[int], None] | None = None,
) -> tuple[int, list[Problem]]:
    """Type and check a file given in chunks of consecutive rows (read_raw_chunks): (rows, problems).

    Each typed chunk goes to `sink` as an Arrow table as soon as it is checked (`sink(None)`: forget
    the chunks given so far; the next chunk is the whole file). The problems are those check_table
    lists for the whole file, in the same order and words: the row-local checks run per chunk and
    their problems are merged (counts summed, the first rows kept); uniqueness and one-row-per-key
    run at the end over the key columns alone, kept from every chunk. `on_chunk(rows so far)` is
    called after each chunk (progress).

    Pipelined: one background thread checks chunk k + 1 while this thread stores chunk k and reads the
    next one (the checks are mostly Arrow kernels that release the GIL: about 1.6x faster on 2 cores,
    docs/benchmarks.md); chunks are merged and stored in file order, one check runs at a time. Memory:
    two chunks plus the key columns.
    """
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    merged: dict[tuple, tuple[int, Problem]] = {}
    rows = 0
    unique = [c.name for c in table.columns if c.unique]
    together = list(table.unique_together)
    kept: dict[str, list] = {}

    def add(stage: int, p: Problem) -> None:
        key = (stage, p.column, p.expected, p.severity, p.count == 0)
        if key not in merged:
            merged[key] = (stage, p)
            return
        first = merged[key][1]
        room = MAX_ROWS_SHOWN - len(first.rows)
        first.rows += p.rows[:room]
        first.values += p.values[:room]
        first.count += p.count

    def merge(raw: pd.DataFrame, checked: Any) -> bool:
        """Merge one checked chunk (in file order) and store it; False: nothing more to learn from the file."""
        nonlocal rows
        frame, staged, failed = checked.result()
        for stage, p in staged:
            p.rows = [r + rows for r in p.rows]
            add(stage, p)
        if any(stage == _STAGE_FILE for stage, _ in staged):  # no rows, or columns missing: nothing more to learn
            return False
        for name in unique:  # kept as compact copies: a slice would keep the whole chunk's buffers alive
            typed, given = frame[name], raw[name].reset_index(drop=True)
            kept.setdefault(name, []).append(
                (_compact(typed), None if typed.equals(given) else _compact(given), failed[name].to_numpy(copy=True))
            )
        if together:
            length = ["interval_minutes"] if "interval_minutes" in frame else []  # the overlap check reads it
            kept.setdefault("", []).append(frame[together + length].copy())
            kept.setdefault("unreadable", []).append(failed[together].any(axis=1).to_numpy(copy=True))
        sink(_arrow(frame, table))
        rows += len(frame)
        return True

    pending: deque = deque()  # (raw chunk, future of its check), in file order: at most one waiting

    def settle() -> bool:
        """Merge the oldest pending chunk, free its memory, report progress; False: stop reading the file."""
        go_on = merge(*pending.popleft())
        _release_memory()
        if on_chunk is not None:
            on_chunk(rows)
        return go_on

    def drop_pending() -> None:
        for _, future in pending:
            future.cancel()
        pending.clear()

    with ThreadPoolExecutor(1, thread_name_prefix="reportlib-check") as checker:
        for raw, restart in chunks:
            if restart:  # the whole file follows: what was given before it is void
                drop_pending()
                merged.clear()
                kept.clear()
                rows = 0
                sink(None)
            pending.append((raw, checker.submit(_check_chunk, raw, table, file, tz, False)))
            del raw
            # with two pending, merge the older one (the newer is checked meanwhile, and the next chunk read)
            if len(pending) == 2 and not settle():
                drop_pending()
                break
        while pending and settle():
            pass
        drop_pending()  # what follows a chunk that ended the checks
    for name in unique:
        parts = kept.get(name, [])
        if not parts:
            continue
        typed = pd.concat([t for t, _, _ in parts], ignore_index=True)
        given = (
            typed
            if all(g is None for _, g, _ in parts)
            else pd.concat([t if g is None else g for t, g, _ in parts], ignore_index=True)
        )
        failed_col = pd.Series(np.concatenate([f for _, _, f in parts]))
        parts.clear()
        for p in _unique_problems(typed, given, failed_col, file, name):
            add(_STAGE_UNIQUE, p)
        del typed, given, failed_col
    if together and kept.get(""):
        keys, unreadable = pd.concat(kept[""], ignore_index=True), np.concatenate(kept["unreadable"])
        for p in _unique_together(keys, table, file, unreadable, tz) or _overlaps(keys, table, file):
            add(_STAGE_TOGETHER, p)
    return rows, [p for _, p in sorted(merged.values(), key=lambda sp: sp[0])]


def _duplicates(values: pd.Series) -> np.ndarray:
    """True at every non-empty value that occurs more than once in `values` (all its occurrences).

    Text goes by 64-bit hashes first: a hash table of every value (pc.value_counts) took 3.4 s for the 6.5
    million contact ids of the 4x operation, at the end of the parse with nothing else running; sorting their
    hashes (DuckDB's `hash`) finds the repeated ones in 0.7 s, and only the values whose hash repeats (the
    duplicates and any collisions) are then compared as text, so the answer is exact.
    """
    arr = _arrow_strings(values)
    if arr is None:
        return (values.duplicated(keep=False) & values.notna()).to_numpy()
    if len(arr) < _HASHED_FROM:
        return _repeated_text(arr)
    import duckdb
    import pyarrow as pa_

    con = duckdb.connect()
    try:
        con.execute(NO_PROGRESS_BAR)
        con.register("ids", pa_.table({"v": arr}))
        hashes = con.execute("SELECT hash(v) AS h FROM ids").fetchnumpy()["h"]
    finally:
        con.close()
    ordered = np.sort(hashes)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    out = np.zeros(len(arr), dtype=bool)
    if len(repeated):
        candidates = np.flatnonzero(np.isin(hashes, repeated))
        out[candidates] = _repeated_text(arr.take(pa_.array(candidates)))
    return out


# Below this many values a hash table of the text is quicker than hashing it first (measured on contact ids:
# 9 against 25 ms at 100,000 values, 27 against 34 ms at 200,000, 188 against 114 ms at 1,000,000).
_HASHED_FROM = 250_000


def _repeated_text(arr) -> np.ndarray:
    """True at every non-null value of the Arrow text `arr` that occurs more than once in it."""
    import pyarrow.compute as pc

    counts = pc.value_counts(arr)
    repeated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1)).drop_null()
    if len(repeated) == 0:
        return np.zeros(len(arr), dtype=bool)
    return pc.fill_null(pc.is_in(arr, value_set=repeated), False).to_numpy(zero_copy_only=False)


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
            out.append(
                _problem(
                    file, col.name, f"a value when {other} is {' or '.join(values)} (it is empty)", np.flatnonzero(need)
                )
            )
    return out


def _read_in(stamps: pd.Series, tz: str, summer: bool) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """(which naive local wall times are given, each read as an instant in `tz`): a time of the hour the clocks go
    back as its summer (`summer`) or its winter pass, one of the hour they skip as NaT."""
    idx = pd.DatetimeIndex(stamps)
    return ~idx.isna(), idx.tz_localize(tz, ambiguous=np.full(len(idx), summer), nonexistent="NaT")


def repeated_local_times(stamps: pd.Series, tz: str) -> np.ndarray:
    """Where naive local wall times in `tz` fall in the hour the clocks go back (a local time that occurs twice,
    e.g. 01:00-01:59 on the first Sunday of November in America/New_York); False for missing values."""
    ok, summer = _read_in(stamps, tz, summer=True)
    winter = _read_in(stamps, tz, summer=False)[1]
    return np.asarray(ok & ~summer.isna() & (summer != winter), dtype=bool)


def skipped_local_times(stamps: pd.Series, tz: str) -> np.ndarray:
    """Where naive local wall times in `tz` fall in the hour the clocks go forward (a local time no clock shows,
    e.g. 02:00-02:59 on the second Sunday of March in America/New_York); False for missing values. A time given
    with an offset is read as a real instant, whose local time always exists: only a time without one can."""
    ok, local = _read_in(stamps, tz, summer=False)
    return np.asarray(ok & local.isna(), dtype=bool)


def _start_column(frame: pd.DataFrame, table: Table) -> str | None:
    """The time column of `table`'s key (interval_start of the interval tables), None when its key has none."""
    return next((k for k in table.unique_together if pd.api.types.is_datetime64_any_dtype(frame[k])), None)


def _skipped_starts(frame: pd.DataFrame, raw: pd.DataFrame, table: Table, file: str, tz: str | None) -> list[Problem]:
    """A warning for the interval rows (a table keyed by a start time) whose start falls in the hour the clocks
    go forward: an interval no clock shows, whose counts and agents a probe's plan vs actual added to the day's
    (a plan of 6 contacts for 4 real ones, read as -33% volume against forecast). The same for a contact's
    arrival (a probe: a folder kept 02:30 in a 02:30 interval the day does not have, a database load read it
    as 03:30)."""
    stamp = _start_column(frame, table) or ("arrived_at" if table.name == "contacts" else None)
    if not tz or stamp is None or stamp not in frame or not len(frame):
        return []
    bad = skipped_local_times(frame[stamp], tz)
    if not bad.any():
        return []
    what = "an arrival" if stamp == "arrived_at" else "a start"
    row = "give the time with its offset" if stamp == "arrived_at" else "drop the row, or give the time with its offset"
    expected = (
        f"a local time that exists in {tz} (kept as given: {what} in the hour the clocks go forward falls in an "
        f"interval no clock shows; {row})"
    )
    return [_problem(file, stamp, expected, np.flatnonzero(bad), raw[stamp], severity="warning")]


def _unique_together(
    frame: pd.DataFrame, table: Table, file: str, unreadable: np.ndarray | None = None, tz: str | None = None
) -> list[Problem]:
    """The problem of rows repeating a key of table.unique_together, if any. Rows where a key cell could
    not be read (`unreadable`, already a problem of its own) are left out: they are not duplicates.

    Times are kept as local wall time, so the two passes of the hour the clocks go back share one interval_start;
    when every repeated key lies in that hour the problem says so and what to do (`repeated_local_times`)."""
    if not table.unique_together or len(frame) == 0:
        return []
    keys = list(table.unique_together)
    if unreadable is not None and unreadable.any():
        dup = np.zeros(len(frame), dtype=bool)
        dup[~unreadable] = frame[keys][~unreadable].duplicated(keep=False).to_numpy()
    else:
        dup = frame.duplicated(keys, keep=False).to_numpy()
    if not dup.any():
        return []
    key = frame[list(table.unique_together)].astype(str).agg(" / ".join, axis=1)
    why = "duplicate rows"
    stamp = _start_column(frame, table)
    if tz and stamp is not None and repeated_local_times(frame[stamp][dup], tz).all():
        why += (
            f"; every repeated {stamp} is in the hour the clocks go back in {tz}, whose two passes share one local "
            "wall time, as reportlib keeps times: if a pair is that hour's two passes, merge it into one row (counts "
            "summed, agents and times averaged); if it is one interval given twice, keep one"
        )
    expected = "one row per " + " and ".join(table.unique_together) + f" ({why})"
    return [_problem(file, ", ".join(table.unique_together), expected, np.flatnonzero(dup), key)]


def _overlaps(frame: pd.DataFrame, table: Table, file: str) -> list[Problem]:
    """`engine_check.overlap_problem` over a file's typed rows (its key columns and interval_minutes, in file
    order), naming rows as a spreadsheet shows them; [] for a table without interval lengths. In a DuckDB
    connection of its own, closed after it, as `rule_masks`."""
    if "interval_minutes" not in frame or "interval_start" not in table.unique_together or not len(frame):
        return []
    import ibis

    from reportlib.data.engine_check import overlap_problem

    con = ibis.duckdb.connect(threads=1)
    try:
        con.raw_sql(NO_PROGRESS_BAR)
        cols = [*table.unique_together, "interval_minutes"]
        rows = frame[cols].assign(_row=np.arange(2, len(frame) + 2))
        for col in table.unique_together:  # an optional key column left empty (client_id): text, not NULL-typed
            if col != "interval_start" and rows[col].isna().all():
                rows[col] = rows[col].astype("string")
        found = overlap_problem(con.create_table("overlap", rows, temp=True), table.name, file, row="_row")
    finally:
        con.disconnect()
    return [found] if found else []


def _rule_problems(frame: pd.DataFrame, raw: pd.DataFrame, table: Table, file: str) -> list[tuple[int, Problem]]:
    """The problems of the contract's row rules (contract.table_rules: rules across columns, ids unsafe as
    file names or e-mail addresses, doubtful values kept as given) over typed rows, each with its stage.

    The rules are ibis predicates, declared once for every source: here DuckDB evaluates them over the
    columns they read (as Arrow, no copy of the rest), the database checker (engine_check) in the engine.
    A rule over an unreadable or missing value does not fire (its problem is the value's own).
    """
    rules = table_rules(table.name)
    if not rules or not len(frame):
        return []
    masks = rule_masks(frame, table)
    out = []
    for i, (rule, bad) in enumerate(zip(rules, masks)):
        if bad.any():
            values = None
            if rule.show_value:  # text as read (trimmed); other kinds as written (a number's digits, a time)
                text = table.column(rule.column).kind == "str" or rule.column not in raw
                values = frame[rule.column] if text else raw[rule.column]
            problem = _problem(file, rule.column, rule.expected, np.flatnonzero(bad), values, severity=rule.severity)
            out.append((_STAGE_RULES + i, problem))
    return out


def rule_masks(frame: pd.DataFrame, table: Table) -> list[np.ndarray]:
    """Per rule of contract.table_rules(table.name), where the typed rows of `frame` break it: boolean
    arrays, False where the predicate is missing (a null compared).

    One query (rules_sql) over the columns the rules read, in a DuckDB connection of its own, closed
    after it: the checker thread needs no lock, and no database instance outlives the check.
    """
    import duckdb

    sql, used = rules_sql(table.name)
    con = duckdb.connect(config={"threads": 1})
    try:
        con.execute(NO_PROGRESS_BAR)
        con.register("chunk", _arrow(frame, table, used))
        result = con.execute(sql).fetchnumpy()  # {r0: array, r1: ...}: never null (COALESCE)
    finally:
        con.close()
    return [np.asarray(column, dtype=bool) for column in result.values()]


def rules_sql(name: str) -> tuple[str, frozenset[str]]:
    """The DuckDB query that evaluates contract table `name`'s row rules over a table `chunk` (one
    boolean column per rule, in order), compiled by ibis once a day, and the columns it reads. Once a day: a rule
    reads the date (no arrival in the future), and a kernel left open over a weekend refused Monday's contacts."""
    return _rules_sql(name, pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d"))


@functools.lru_cache(maxsize=64)  # a table and a day each: a kernel open for weeks keeps the recent ones
def _rules_sql(name: str, day: str) -> tuple[str, frozenset[str]]:
    import ibis

    chunk = ibis.table(engine_types(name), name="chunk")
    rules = table_rules(name, day)
    used = frozenset().union(*(rule_columns(rule, name) for rule in rules))
    expr = chunk.select(**{f"r{i}": rule.bad(chunk).fill_null(False) for i, rule in enumerate(rules)})
    return str(ibis.to_sql(expr, dialect="duckdb")), used


# --- the source -------------------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where parsed tables are cached: $REPORTLIB_CACHE or ~/.cache/reportlib."""
    base = os.environ.get("REPORTLIB_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "reportlib")
    return Path(base)


def _file_key(path: Path, tz: str) -> str:
    """The cache key of a data file: its path, size, modification and change times, inode, and `tz`.

    The change time (ctime) cannot be set by a user, so a file rewritten with the same size and a
    restored modification time still gets a new key.
    """
    st = path.stat()
    text = (
        f"{CONTRACT_VERSION}|{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}|"
        f"{st.st_dev}|{st.st_ino}|{tz}"
    )
    return hashlib.sha256(text.encode()).hexdigest()[:24]


# DuckDB's resources, from the environment (the scheduled run's unit file or cron line sets them): how
# much memory one engine may hold before it spills to disk, and where it spills. DuckDB's own defaults
# otherwise (80% of the machine's memory per process; spilling next to a database file, or into
# .tmp in the working folder for an in-memory engine).
DUCKDB_MEMORY_ENV = "REPORTLIB_DUCKDB_MEMORY_LIMIT"
DUCKDB_TEMP_ENV = "REPORTLIB_DUCKDB_TEMP_DIRECTORY"
DUCKDB_THREADS_ENV = "REPORTLIB_DUCKDB_THREADS"


# DuckDB draws a progress bar for a query over 2 s, in Jupyter as a widget that stays in the notebook as an empty
# black bar (the team page's trends in JupyterLab, the executed notebooks); reportlib says its own progress on stderr.
NO_PROGRESS_BAR = "SET enable_progress_bar = false"


def engine_settings(con) -> dict[str, str]:
    """Apply $REPORTLIB_DUCKDB_MEMORY_LIMIT (e.g. 2GB), $REPORTLIB_DUCKDB_TEMP_DIRECTORY and
    $REPORTLIB_DUCKDB_THREADS to the DuckDB connection `con` (an ibis backend); the settings applied.

    A value DuckDB refuses is a ReportlibError naming the variable."""
    import duckdb

    con.con.execute(NO_PROGRESS_BAR)
    applied = {}
    for env, setting in (
        (DUCKDB_MEMORY_ENV, "memory_limit"),
        (DUCKDB_TEMP_ENV, "temp_directory"),
        (DUCKDB_THREADS_ENV, "threads"),
    ):
        value = os.environ.get(env, "").strip()
        if not value:
            continue
        try:
            con.con.execute(f"SET {setting} = ?", [value])
        except duckdb.Error as exc:
            raise ReportlibError(
                f"{env}={value!r} is not a valid DuckDB {setting} ({_one_line(str(exc), 160)})"
            ) from None
        applied[setting] = value
    return applied


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
        self.parent: Source | None = None  # a whole source; a ClientView sets both
        self.client_id: str | None = None
        self._frames: dict[str, pd.DataFrame] = {}
        self._memo: dict[tuple, Any] = {}
        self._loaded: set[str] = set()
        self._files: dict[str, Path] = {}
        self._ambiguous: dict[str, Problem] = {}  # a table given by two files -> its problem (find_table_files)
        self._db_tables: set[str] = set()
        self._problems: list[Problem] = []
        self._failed: dict[str, DataError] = {}
        self._parquet: dict[str, Path] = {}  # the cache file each table is served from
        self._parsed: dict[str, dict] = {}  # rows and warnings of each table parsed by this process
        path = duckdb_file(location)
        if path is not None:
            if not path:  # a malformed URL, as `load --into` says too
                raise UsageError(f"{location}: name the DuckDB database file, e.g. duckdb:///path/store.duckdb")
            if Path(path).is_dir():
                raise ReportlibError(f"{location} names no DuckDB database file (duckdb:///path/store.duckdb)")
            if not Path(path).exists():
                raise ReportlibError(f"the database {path} does not exist")
            import duckdb

            try:
                self.con = ibis.duckdb.connect(path, read_only=True)
            except duckdb.Error as exc:  # a text file, a database of a newer DuckDB, unreadable
                raise ReportlibError(
                    f"the database {path} cannot be opened as a DuckDB database ({_one_line(str(exc), 200)})"
                ) from None
            self._db_tables = set(self.con.list_tables()) & set(TABLES)
            self.fingerprint = _database_fingerprint(path)
        else:
            folder = Path(location)
            if folder.exists() and not folder.is_dir():
                raise ReportlibError(
                    f"the data folder {folder} is a file; give the folder that holds the table files "
                    f"(or a duckdb:/// URL)"
                )
            if not folder.is_dir():
                raise ReportlibError(
                    f"the data folder {folder} does not exist (give --data DIR, or run "
                    f"`reportlib sample-data --out {folder}` to create a sample)"
                )
            try:
                found = find_table_files(folder)
                self._files, self._problems, self._ambiguous = found.files, found.problems, found.ambiguous
            except OSError as exc:
                raise ReportlibError(f"the data folder {folder} cannot be read ({exc.strerror or exc})") from None
            self.con = ibis.duckdb.connect()
            self.fingerprint = _folder_fingerprint(self._files, tz)
        engine_settings(self.con)

    @property
    def folder_problems(self) -> list[str]:
        """The data folder's table files that are not read, as `validate` lines: a link out of the folder, a pipe
        or a folder named like a table, two files for one table (find_table_files). Empty for a database."""
        return [p.line() for p in self._problems]

    # which tables are here
    @property
    def tables(self) -> list[str]:
        """Names of the contract tables this source holds."""
        return sorted(set(self._files) | set(self._ambiguous) | self._db_tables)

    def has(self, name: str) -> bool:
        """Whether the source holds table `name` (given by two files, it is held and cannot be read)."""
        return name in self._files or name in self._ambiguous or name in self._db_tables

    def require(self, *names: str) -> None:
        """Raise MissingTableError naming each of `names` that the source lacks."""
        require_tables(self, names)

    def file_name(self, name: str) -> str:
        """The file (or database table) a table comes from, for messages."""
        if name in self._ambiguous:
            return self._ambiguous[name].file
        return self._files[name].name if name in self._files else f"{name} (db table main.{name})"

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
        them. `key` must name everything the result depends on besides this source's data. Inside a
        `reportlib run` (cache.shared_memo_dir) the result is also shared with the run's other
        processes: whichever asks first computes it, once per run, for all of them.
        """
        from reportlib.data.cache import remembered

        return remembered(self._memo, key, compute, self)

    def for_client(self, client_id: str) -> ClientView:
        """This source narrowed to one client's data (source.ClientView)."""
        return ClientView(self, str(client_id))

    def table(self, name: str):
        """Table `name` as an ibis expression in the engine (raises DataError if it breaks the contract).

        A DuckDB database's instants (`timestamp with time zone`, as `reportlib load` writes them) come
        as wall time in the source's time zone, converted by DuckDB; naive timestamps are local already.
        """
        self._load(name)
        t = self.con.table(name)
        return _local_instants(t, self.tz) if name in self._db_tables else t

    def _typed_from_engine(self, name: str, table: Any = None) -> pd.DataFrame:
        """Table `name` (or the engine `table` given, before it counts as loaded) as typed pandas."""
        frame = (self.table(name) if table is None else table).to_pandas()
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
        if name in self._failed:
            raise self._failed[name]
        try:
            self._load_file_once(name)
        except DataError as exc:
            self._failed[name] = exc  # parsed once; validate and later callers get the same lines
            raise

    def _load_file_once(self, name: str) -> None:
        import duckdb

        from reportlib.data.cache import CacheEntry, LockUnavailable, usable_dir

        if name in self._ambiguous:  # two files for one table: not the first one's figures, silently
            raise DataError([self._ambiguous[name].line()], f"the table {name} cannot be read")
        path = self._files[name]
        key = _file_key(path, self.tz)
        cdir = usable_dir(cache_dir())
        entry = CacheEntry(cdir, name, key, path.name) if cdir is not None else None
        meta = None
        if entry is not None:
            try:
                meta = entry.read()
            except LockUnavailable as exc:  # a read-only folder, no locks: parse without the cache, said once
                from reportlib.data.cache import warn

                warn(
                    f"the cache folder {cdir} cannot be used ({exc.strerror or exc}); every table is parsed each "
                    "time (REPORTLIB_CACHE names another folder)"
                )
                entry = None
            except OSError:  # said where it arose (an entry that cannot be replaced): parse without the cache
                entry = None
        if meta is not None and entry is not None:
            try:
                self.con.read_parquet(entry.parquet, table_name=name)
                self.warnings += meta["warnings"]
                self._parquet[name] = entry.parquet
                return
            except duckdb.Error as exc:  # checksum right, yet unreadable: discard and rebuild
                entry.discard(f"{entry.parquet.name} cannot be read ({_one_line(str(exc), 120)})")
        if entry is not None:
            try:
                entry.write(lambda fh: self._parse(name, path, _ParquetSink(fh)), lambda: dict(self._parsed[name]))
                self.con.read_parquet(entry.parquet, table_name=name)
                self._parquet[name] = entry.parquet
                return  # frame() reads it back from the engine when asked
            except (OSError, duckdb.Error) as exc:
                from reportlib.data.cache import warn

                warn(f"{path.name} was not cached ({_one_line(str(exc), 120)}); it is parsed again next time")
        sink = _MemorySink()
        self._parse(name, path, sink)
        self.con.create_table(name, sink.table(TABLES[name]), temp=True)
        del sink
        # served from memory: kept as pandas too, so a reference problem can name its rows
        self._frames[name] = self._typed_from_engine(name, self.con.table(name))  # not self.table: not loaded yet

    def _parse(self, name: str, path: Path, sink: Callable[[Any], None]) -> None:
        """Parse and check the file of table `name` in chunks into `sink`; DataError naming every problem."""
        from reportlib.core import progress

        try:
            with progress.step(f"parsed and checked {path.name}", self.tables.index(name) + 1, len(self.tables)) as st:
                with _collector_skips_older():
                    rows, problems = check_stream(
                        read_raw_chunks(path), TABLES[name], path.name, self.tz, sink, lambda n: st.note(f"{n:,} rows")
                    )
                    st.detail = counted(rows, "row")
                    _release_memory()  # the parent of a run keeps nothing of the parse
            errors = [p.line() for p in problems if p.severity == "error"]
            warnings = [p.line() for p in problems if p.severity == "warning"]
            if errors:
                raise DataError(errors, f"{path.name} does not meet the data contract")
        except BaseException:
            if isinstance(sink, _ParquetSink):
                sink.abandon()
            raise
        self.warnings += warnings
        if isinstance(sink, _ParquetSink):
            sink.close(TABLES[name])
        self._parsed[name] = {"warnings": warnings, "rows": rows}

    def _check_db_table(self, name: str) -> None:
        have = set(self.con.table(name).columns)
        missing = [c.name for c in TABLES[name].columns if c.required and c.name not in have]
        if missing:
            raise DataError(
                [f"{name} (database table): missing required {noun_for(len(missing), 'column')}: {', '.join(missing)}"]
            )

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
            sql = (
                f'SELECT 1 FROM "{name}" t '
                f'WHERE t."{col.name}" IS NOT NULL AND t."{col.name}" NOT IN '
                f'(SELECT "{ref_col}" FROM "{ref_table}" WHERE "{ref_col}" IS NOT NULL) LIMIT 1'
            )
            unknown = self.con.raw_sql(sql).fetchall()
            if unknown:
                problems.append(self._reference_problem(name, col.name, ref_table, ref_col).line())
        if problems:
            self._loaded.discard(name)
            raise DataError(problems, f"{self.file_name(name)} refers to rows that do not exist")

    def _reference_problem(self, name: str, column: str, ref_table: str, ref_col: str) -> Problem:
        """A Problem naming the first rows (spreadsheet numbering) of `name` whose `column` is not in `ref_table`."""
        missing = (
            f'"{column}" IS NOT NULL AND "{column}" NOT IN '
            f'(SELECT "{ref_col}" FROM "{ref_table}" WHERE "{ref_col}" IS NOT NULL)'
        )
        expected = f"{'an' if ref_col[0] in 'aeiou' else 'a'} {ref_col} listed in {self.file_name(ref_table)}"
        file = self.file_name(name)
        if name in self._parquet:  # the cache keeps the file's row order
            path = str(self._parquet[name]).replace("'", "''")
            rel = f"(SELECT file_row_number AS i, \"{column}\" FROM read_parquet('{path}', file_row_number=true)) t"
            first = self.con.raw_sql(
                f'SELECT i, "{column}" FROM {rel} WHERE {missing} ORDER BY i LIMIT {MAX_ROWS_SHOWN}'
            ).fetchall()
            count = self.con.raw_sql(f"SELECT count(*) FROM {rel} WHERE {missing}").fetchone()[0]
            return Problem(
                file, column, expected, [int(i) + 2 for i, _ in first], [_show(v) for _, v in first], int(count)
            )
        if name in self._frames:  # parsed in this process and not cached: frame positions are file rows
            values = self._frames[name][column]
            known = self.con.raw_sql(f'SELECT DISTINCT "{ref_col}" FROM "{ref_table}"').fetchnumpy()[ref_col]
            bad = (values.notna() & ~values.isin(list(known))).to_numpy()
            return _problem(file, column, expected, np.flatnonzero(bad), values)
        # a database table has no spreadsheet rows: name the values
        rows = self.con.raw_sql(
            f'SELECT "{column}", count(*) FROM "{name}" WHERE {missing} '
            f"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {MAX_ROWS_SHOWN}"
        ).fetchall()
        shown = ", ".join(f'"{_show(v)}" ({n:,} rows)' for v, n in rows)
        return Problem(file, column, f"every {ref_col} listed in {self.file_name(ref_table)}; not listed: {shown}")

    # the whole source
    def validate(self) -> tuple[list[str], list[str]]:
        """Check every table present and name the required ones absent: (errors, warnings)."""
        if self._db_tables:  # a database: the contract checked in the engine, rows named by key
            from reportlib.data.engine_check import check_lines

            found, warned = check_lines(  # instants as the reports read them: wall time in the source's zone
                {n: _local_instants(self.con.table(n), self.tz) for n in sorted(self._db_tables)},
                {n: self.file_name(n) for n in self._db_tables},
                self.location,
            )
            return found, list(dict.fromkeys(self.warnings + warned))
        errors = self.folder_problems
        present = set(self.tables)
        refused = {n for n in TABLES if any(_table_of(p.file) == n for p in self._problems)}
        for name in required_tables(present):
            if name not in present and name not in refused:  # a refused file is named above, not as missing
                expected = f"a file {name}.csv, .parquet or .xlsx"
                errors.append(f"{name}: {missing_table_text(name, expected, self.location)}")
        for name in self.tables:
            try:
                self._load(name)
            except DataError as exc:  # a table that fails also fails the reference checks of others
                errors += [p for p in exc.problems if p not in errors]
        across = self.across_warnings() if not errors else []
        return errors, list(dict.fromkeys(self.warnings + across))

    def across_warnings(self) -> list[str]:
        """The warnings that compare tables (engine_check.across_table_lines, roster rows named by the file's row),
        computed once per source: `validate` and every page's data-quality note."""
        from reportlib.data.engine_check import across_table_lines

        def compute() -> list[str]:
            rows = file_rows(self.frame("agents")["agent_id"]) if self.has("agents") else None
            return across_table_lines(self, rows)

        return list(self.memo(("across_warnings",), compute))


def _local_instants(t, tz: str):
    """Table `t` with its instant columns (timestamp with time zone) as wall time in `tz`, computed by the
    engine (DuckDB's timezone(zone, timestamptz); ibis has no portable time-zone conversion)."""
    import ibis
    import ibis.expr.datatypes as dt

    aware = [c for c, d in t.schema().items() if d.is_timestamp() and d.timezone is not None]
    if not aware:
        return t
    local = ibis.udf.scalar.builtin(
        lambda zone, ts: None, name="timezone", signature=((dt.string, dt.Timestamp(timezone="UTC")), dt.timestamp)
    )
    return t.mutate(**{c: local(tz, t[c]) for c in aware})


def duckdb_file(location: str) -> str | None:
    """The database file a `duckdb:///path` location names ("" when it names none), or None for anything else.

    The one reading of a DuckDB location (the source, the open-source check, `load --into`): the scheme in any
    case (URL schemes are case-insensitive, RFC 3986 3.1), `duckdb:///abs/path` or `duckdb://rel/path`."""
    if location[: len("duckdb://")].lower() != "duckdb://":
        return None
    path = location[len("duckdb://") :]
    return path[1:] if path.startswith("//") else path


def _database_fingerprint(path: str) -> str:
    """The identity of a DuckDB database file's contents as a Source sees them: its path and modification time."""
    return _fingerprint_text(f"{Path(path).resolve()}|{Path(path).stat().st_mtime_ns}")


def _folder_fingerprint(files: dict[str, Path], tz: str) -> str:
    """The identity of a data folder's table files (find_table_files) read in `tz`: every file's cache key."""
    return _fingerprint_text("|".join(f"{n}:{_file_key(p, tz)}" for n, p in sorted(files.items())))


def _fingerprint_found(location: str, tz: str) -> tuple[str | None, bool]:
    """(the fingerprint of the files at `location` now, whether a file there is refused); (None, _) when it cannot
    be read or costs a query."""
    path = duckdb_file(location)
    try:
        if path is not None:
            return _database_fingerprint(path), False
        if is_database(location):
            return None, False
        found = find_table_files(Path(location))
        return _folder_fingerprint(found.files, tz), bool(found.problems)  # as Source takes it: the files it reads
    except OSError:  # gone or unreadable: opening it afresh says why
        return None, True


def fingerprint_now(location: str, tz: str) -> str | None:
    """The fingerprint a data folder's files (a DuckDB database file) at `location` have now, read without opening
    an engine (their sizes and times); None when it cannot be read (gone, unreadable) or costs a query (a
    PostgreSQL or Spark source). A Source's `fingerprint` is taken when it is opened and its tables are read later:
    compared with this after the reading, it tells whether they were read from the data it names."""
    return _fingerprint_found(location, tz)[0]


def fingerprint_read(source: Any) -> str | None:
    """The fingerprint of the data `source` has read, for the record of what a page or a workbook was built from:
    its files' as they are now, after the reading (files replaced since the source was opened read as other data,
    and `reportlib run` fails what was built from them), else, where that costs a query (a PostgreSQL or Spark
    source), the one taken when it was opened."""
    now = fingerprint_now(source.location, source.tz)
    return source.fingerprint if now is None else now


def _still_current(source: Source) -> bool:
    """Whether an open Source's files (or database file) are unchanged and none is refused (opened afresh, the
    Source names the refused file), read without opening a new engine."""
    now, refused = _fingerprint_found(source.location, source.tz)
    return not refused and now == source.fingerprint


def _fingerprint_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _arrow(frame: pd.DataFrame, table: Table, only: Collection[str] | None = None):
    """The typed columns of `frame` (contract `table`; `only` those named) as an Arrow table of the
    contract's types (dates as date32)."""
    import pyarrow as pa_

    columns = [c for c in table.columns if only is None or c.name in only]
    types = {
        "str": pa_.string(),
        "float": pa_.float64(),
        "int": pa_.int64(),
        "bool": pa_.bool_(),
        "timestamp": pa_.timestamp("us"),
        "date": pa_.date32(),
    }
    arrays = []
    for col in columns:
        values = frame[col.name]
        if col.kind == "date":
            arrays.append(pa_.array(values.dt.date.where(values.notna(), None), type=types["date"]))
        elif col.kind in ("bool", "int"):
            arrays.append(pa_.array(values.astype(object).where(values.notna(), None), type=types[col.kind]))
        else:
            arrays.append(pa_.array(values, type=types[col.kind], from_pandas=True))
    # text read from a CSV comes as chunked Arrow data: keep it chunked (no copy), the others alike
    arrays = [a if isinstance(a, pa_.ChunkedArray) else pa_.chunked_array([a]) for a in arrays]
    return pa_.table(arrays, names=[c.name for c in columns])


class _ParquetSink:
    """Typed chunks (Arrow tables) written one after another as one Parquet file to the open binary file `fh`."""

    def __init__(self, fh):
        self.fh = fh
        self.writer = None

    def __call__(self, arrow) -> None:
        import pyarrow.parquet as pq

        if arrow is None:  # start again: the file was read whole after all
            if self.writer is not None:
                self.writer.close()
                self.writer = None
            self.fh.seek(0)
            self.fh.truncate()
            return
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.fh, arrow.schema)
        self.writer.write_table(arrow)

    def abandon(self) -> None:
        """Stop writing (the file is being thrown away)."""
        import contextlib

        if self.writer is not None:
            with contextlib.suppress(Exception):
                self.writer.close()
            self.writer = None

    def close(self, table: Table) -> None:
        """Finish the file (an empty table with the contract's columns when no chunk came)."""
        if self.writer is None:
            self(_arrow(empty_frame(table), table))
        assert self.writer is not None
        self.writer.close()


class _MemorySink:
    """Typed chunks kept in memory (when there is no usable cache folder)."""

    def __init__(self):
        self.parts: list = []

    def __call__(self, arrow) -> None:
        if arrow is None:
            self.parts.clear()
        else:
            self.parts.append(arrow)

    def table(self, table: Table):
        """The chunks as one Arrow table."""
        import pyarrow as pa_

        return pa_.concat_tables(self.parts) if self.parts else _arrow(empty_frame(table), table)


# Open sources of this process, newest last. A warm kernel renders many reports from one source: the
# tables are registered with the engine once and derived results (Source.memo) are shared. A source is
# reused only while its files are unchanged (same fingerprint: sizes and modification times).
_OPEN: dict[tuple[str, str], Source] = {}
# A database source is reused inside a `reportlib run` as it is (the run reads one state of the database); elsewhere
# (a JupyterLab kernel) only while its state (WarehouseSource.state) is the one taken when it was opened.
_OPEN_WAREHOUSE: dict[tuple[str, str, str], tuple[Any, str | None]] = {}
_OPEN_MAX = 4


def _warehouse_unchanged(source: Any, opened_state: str | None) -> bool:
    """Whether a database source held open may serve again: its data in the state it was opened in. A source
    whose state was not taken (opened inside a run, or its state unreadable) is not reused outside a run: what
    it remembered may be older than any state read now."""
    if opened_state is None:
        return False
    try:
        return source.state() == opened_state
    except Exception:  # noqa: BLE001 - a connection gone or a table dropped: open afresh, which says what is wrong
        return False


def is_database(location: str) -> bool:
    """Whether `location` names a database (duckdb://, postgres://, postgresql://, spark://), not a data folder."""
    from reportlib.data.warehouse import is_warehouse_url

    return duckdb_file(str(location)) is not None or is_warehouse_url(str(location))


def require_contract(source: WholeSource) -> None:
    """DataError (exit 1) naming every contract problem of a database source, as `validate` lists them; nothing
    for a data folder, whose tables are checked as they are parsed. A database is checked only here: without
    it a negative wait or an unknown outcome in it would come out as a figure. The check reads every table,
    so a pass is remembered by the source (DataSource.memo): once per process, and once per `reportlib run`,
    whose check before the reports is shared with the notebooks' kernels. Problems are not remembered: the
    next call checks again (in JupyterLab, after the user has mended the database). A pass's warnings join the
    source's `warnings`, as a folder's do when its tables are parsed: the pages' data-quality notes list them (a
    probe: every page from a database said none were raised)."""
    if not is_database(source.location):
        return

    def check() -> list[str]:
        errors, warnings = source.validate()
        if errors:  # raised before the memo keeps anything
            raise source_breaks_contract(source.location, errors)
        return warnings

    warned = source.memo(("contract passed", "warnings"), check)
    source.warnings[:] = list(dict.fromkeys([*source.warnings, *warned]))


TABLES_NOT_HERE = (
    "the tables mapping (parameter tables) applies to postgres:// and spark:// sources; a folder or a duckdb:/// "
    "file is read by the contract's names (contacts.csv, the table contacts)"
)


def source_tables(params: Mapping[str, Any], location: str, *, say: bool = False) -> dict | None:
    """The parameters' `tables` mapping for the source at `location`: the mapping for a postgres:// or spark://
    URL, none for a folder or a DuckDB file (read by the contract's names), said once on stderr with `say` (a
    probe: a mapping given with a DuckDB file was ignored without a word; a review: refusing it stopped a
    warehouse's parameters used with --data FOLDER)."""
    from reportlib.data import warehouse

    tables = params.get("tables") or None
    if tables is None or warehouse.is_warehouse_url(str(location)):
        return tables
    if say:
        from reportlib.data.cache import warn

        warn(f"{TABLES_NOT_HERE}; {location} is read so, and the mapping is not used")
    return None


def open_source(
    data: str | os.PathLike, tz: str = DEFAULT_TIMEZONE, tables: dict | None = None, *, afresh: bool = False
) -> Any:
    """Open a data folder or `duckdb:///path` database as a Source (tables load on first use).

    A postgres://, postgresql:// or spark:// URL opens a WarehouseSource instead (reportlib.data.warehouse;
    `tables` maps contract names to the database's table names), kept open for the process: reused inside a
    `reportlib run`, elsewhere only while the database's state is the one it was opened in (a kernel's remembered
    figures never outlive a change to the database; WarehouseSource.state).
    The same location, time zone and unchanged files give the Source already open in this process, unless
    `afresh`: then a new one, with its own connection (the one open may be spoiled: a query interrupted by a
    time limit can leave a database connection busy), and the old one is closed.
    """
    from reportlib.data import warehouse
    from reportlib.data.cache import shared_memo_dir

    if warehouse.is_warehouse_url(str(data)):
        problem = tables_problem(tables)
        if problem:
            raise UsageError(problem)
        wkey = (str(data), tz, repr(sorted((tables or {}).items())))
        held = _OPEN_WAREHOUSE.get(wkey)
        in_run = shared_memo_dir() is not None
        if held is not None and not afresh and (in_run or _warehouse_unchanged(*held)):
            return held[0]
        if held is not None:
            _OPEN_WAREHOUSE.pop(wkey)
            with contextlib.suppress(Exception):  # closing a connection that may be mid-query or gone
                held[0].close()
        fresh_wh = warehouse.WarehouseSource(str(data), tz, tables)
        state = None  # outside a run, the state it is opened in, before it remembers anything: the next opening
        if not in_run:  # compares it (one aggregate query per table)
            with contextlib.suppress(Exception):  # unreadable (a table off the contract: said when it is read)
                state = fresh_wh.state()
        _OPEN_WAREHOUSE[wkey] = (fresh_wh, state)
        return fresh_wh
    if tables:  # a probe: a mapping given for a DuckDB file was ignored, and its `contacts` table read instead
        raise UsageError(f"{TABLES_NOT_HERE}: rename them there, or remove tables")
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", str(data)) and duckdb_file(str(data)) is None:
        # a probe: mysql://x@y/z was read as the folder "mysql:/x@y/z", "no such folder"
        raise UsageError(
            f"{redact_passwords(str(data))}: not a data source reportlib reads; give a data folder, "
            "duckdb:///path/store.duckdb, postgres://USER@HOST:PORT/DB or spark://... (docs/databases.md)"
        )
    key = (str(data), tz)
    known = _OPEN.pop(key, None)
    if known is not None and not afresh and not known._problems and _still_current(known):
        fresh = known  # checked by the files' keys alone: a warm kernel opens no engine per notebook (~12 ms)
    else:
        if afresh and known is not None:
            with contextlib.suppress(Exception):  # closing a connection that may be mid-query or gone
                known.con.disconnect()
        fresh = Source(str(data), tz)
    _OPEN[key] = fresh
    while len(_OPEN) > _OPEN_MAX:
        _OPEN.pop(next(iter(_OPEN)))
    return fresh
