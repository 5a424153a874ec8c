"""`reportlib load`: copy a checked data source into a database (PostgreSQL, DuckDB, Spark) by URL.

The source is read through the usual loader (`load.open_source`), so a folder is checked against the
contract first and refused with the usual one-line messages. Each table is then created with the
contract's types (timestamps as instants in UTC: `timestamptz` on PostgreSQL and DuckDB, Spark's
TIMESTAMP), written through ibis in batches of `BATCH_ROWS` rows (the whole table never sits in
memory), and indexed on the columns reports filter by (`INDEXES`, PostgreSQL; a time column as the local
time in the load's zone, the expression the reports filter on, `timezone(zone, column)`). A rerun replaces the
tables atomically: everything is loaded under staging names first and renamed over the old tables at
the end — in one transaction on PostgreSQL and DuckDB — so a load that fails leaves the old tables.

Naive timestamps are local wall times in the configured zone; they become instants the way Python's
`zoneinfo` reads them (fold=0): an ambiguous time in the autumn repeated hour is taken as the first
(daylight) one, and a time in the spring gap — which no real clock shows — with the offset before the
change (02:30 in New York on the spring-forward day is 07:30 UTC). Read back in the same zone both give
the wall time of the file, except gap times, which come back an hour later; `LoadResult.notes` counts them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from reportlib.core.errors import DataError, ReportlibError, UsageError
from reportlib.core.params import DEFAULT_TIMEZONE
from reportlib.core.safety import owner_only, redact_passwords
from reportlib.core.words import counted, noun_for
from reportlib.data.contract import TABLES, key_columns
from reportlib.data.load import duckdb_file
from reportlib.data.warehouse import WarehouseURL, is_warehouse_url, parse_url, spark_session

BATCH_ROWS = 100_000

# The columns the reports filter and group by, per table (each tuple one index, PostgreSQL). Contacts are
# cut by month (arrived_at), by client for client reviews and the SLA report, by queue and channel for
# KPIs; interval tables by interval_start. The contract's keys get a unique index (key_columns). On PostgreSQL a
# time column is indexed as local time in the load's zone, `timezone(zone, column)`: the reports convert instants
# to local time before they filter on them, so a plain index on the instant cannot serve a month (measured:
# docs/benchmarks.md, "Engines"); reports run with another `timezone` parameter fall back to scans.
INDEXES: dict[str, tuple[tuple[str, ...], ...]] = {
    "contacts": (("arrived_at",), ("client_id", "arrived_at"), ("queue", "arrived_at"), ("channel", "arrived_at")),
    "intervals": (("interval_start",), ("client_id", "interval_start"), ("queue", "interval_start")),
    "agent_activity": (("date",),),
    "qa_evaluations": (("evaluated_at",), ("agent_id",)),
    "interval_plan": (("interval_start",),),
    "interval_staffing": (("interval_start",),),
}

_STAGING = "__reportlib_new"
_MICROSECOND = timedelta(microseconds=1)


@dataclass
class LoadResult:
    """What a load did: rows per table, indexes made, seconds, and notes (warnings) to show the user."""

    target: str  # the URL, password hidden
    rows: dict[str, int] = field(default_factory=dict)
    indexes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line: tables and rows, where, how long."""
        tables = ", ".join(f"{name} {n:,}" for name, n in self.rows.items())
        return f"loaded {len(self.rows)} tables into {self.target} in {self.seconds:.1f} s: {tables} rows"


def target_schema(name: str):
    """The ibis schema a contract table is created with: timestamps as UTC instants, dates as dates."""
    import ibis
    import ibis.expr.datatypes as dt

    types = {
        "str": dt.String(),
        "float": dt.Float64(),
        "int": dt.Int64(),
        "bool": dt.Boolean(),
        "timestamp": dt.Timestamp(timezone="UTC"),
        "date": dt.Date(),
    }
    return ibis.schema({c.name: types[c.kind] for c in TABLES[name].columns})


def local_to_utc(values, tz: str):
    """Naive local wall times (an Arrow timestamp array) as UTC instants, and how many fell in a DST gap.

    Ambiguous times take the first (daylight) reading, gap times the offset before the change: both as
    Python's zoneinfo with fold=0 (see the module docstring).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.cast(pa.timestamp("us"))
    utc = pc.assume_timezone(values, timezone=tz, ambiguous="earliest", nonexistent="earliest")
    back = pc.local_timestamp(utc).cast(pa.timestamp("us"))
    gap = pc.fill_null(pc.not_equal(back, values), False)
    n_gap = pc.sum(gap).as_py() or 0
    if n_gap:  # rare (only naive times no clock showed): the zoneinfo reading, row by row
        from datetime import UTC, datetime
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(tz)
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        micros = pc.cast(utc, pa.int64()).to_pylist()  # the instants as microseconds since 1970 UTC
        for i, (wall, g) in enumerate(zip(values.to_pylist(), gap.to_pylist())):
            if g and wall is not None:
                micros[i] = (wall.replace(tzinfo=zone) - epoch) // _MICROSECOND
        utc = pa.array(micros, pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    return utc.cast(pa.timestamp("us", tz="UTC")), int(n_gap)


def _batch_to_target(batch, name: str, tz: str, gaps: dict[str, int]):
    """One Arrow record batch of the source as the target's typed Arrow table (timestamps to UTC)."""
    import pyarrow as pa

    schema = target_schema(name).to_pyarrow()
    arrays = []
    for column in schema:
        values = batch.column(column.name)
        if pa.types.is_timestamp(column.type):
            if values.type.tz is None:
                values, n = local_to_utc(values, tz)
                gaps[column.name] = gaps.get(column.name, 0) + n
            values = values.cast(column.type)
        elif pa.types.is_date(column.type) and pa.types.is_timestamp(values.type):
            values = values.cast(pa.date32())
        else:
            values = values.cast(column.type)
        arrays.append(values)
    return pa.table(arrays, schema=schema)


def parse_target(into: str) -> WarehouseURL:
    """The database URL `into` parsed (warehouse.parse_url; duckdb:///path as load.Source reads it).

    UsageError (exit status 2, password hidden) when it is not a postgres://, postgresql://, spark://
    or duckdb:// URL or is malformed.
    """
    text = str(into).strip()
    path = duckdb_file(text)
    if path is not None:
        if not path:
            raise UsageError(f"{text}: name the database file, e.g. duckdb:///path/store.duckdb")
        return WarehouseURL("duckdb", text, path=path)
    if not is_warehouse_url(text):
        raise UsageError(
            f"{redact_passwords(text)}: not a database URL; expected postgres://USER@HOST:PORT/DB[?schema=NAME], "
            f"duckdb:///path.duckdb, spark://local[N]?database=NAME or spark://local[N]?path=DIR&format=parquet"
        )
    return parse_url(text)


def table_label(url: WarehouseURL, name: str) -> str:
    """Where table `name` goes at `url`, for messages: `db table public.contacts`, `parquet DIR/contacts`."""
    if url.engine == "postgres":
        return f"db table {url.schema or 'public'}.{name}"
    if url.engine == "duckdb":
        return f"db table main.{name}"
    if url.path is not None:
        return f"{url.format} {url.path.rstrip('/')}/{name}"
    return f"spark table {url.database or 'default'}.{name}"


def one_line(exc: BaseException, url: WarehouseURL, limit: int = 300) -> str:
    """An engine's error message on one line, any password removed."""
    text = redact_passwords(" ".join(str(exc).split()) or exc.__class__.__name__, url.password)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def connect(url: WarehouseURL) -> Any:
    """An ibis connection to write to `url`; ReportlibError (one line, password hidden) when it cannot be made.

    Spark: the local session already running in this process if there is one (a notebook, the tests),
    else a new session with `url.master`.
    """
    import ibis

    try:
        if url.engine == "postgres":
            kwargs: dict[str, Any] = dict(url.options)
            kwargs.setdefault("connect_timeout", "10")
            return ibis.postgres.connect(
                host=url.host, port=url.port, user=url.user, password=url.password, database=url.database, **kwargs
            )
        if url.engine == "duckdb":
            path = str(url.path)  # parse_url names the file of a duckdb URL
            new = not os.path.exists(path)
            con = ibis.duckdb.connect(path)
            if new:  # the roster's names and HR fields: the owner's alone, as the reports (a probe found it 0644)
                owner_only(path)
            return con
        session = spark_session(url.master)
        # Parquet timestamps as UTC-adjusted int64 (instants for DuckDB and Arrow too, not Spark's INT96)
        session.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        return ibis.pyspark.connect(session)
    except Exception as exc:  # psycopg, duckdb and py4j raise many kinds; the message is what matters
        raise ReportlibError(f"cannot connect to {url.shown}: {one_line(exc, url)}") from None


def typed_arrow(source: Any, name: str, tz: str = DEFAULT_TIMEZONE):
    """Table `name` of a checked source as the Arrow table `load_into` writes (timestamps as UTC instants)."""
    import pyarrow as pa

    batches = source.table(name).select(*TABLES[name].column_names).to_pyarrow_batches(chunk_size=BATCH_ROWS)
    parts = [_batch_to_target(b, name, tz, {}) for b in batches]
    return pa.concat_tables(parts) if parts else target_schema(name).to_pyarrow().empty_table()


# --- targets ------------------------------------------------------------------------------------------


class _Target:
    """Where tables go. Subclasses: staging, batches, indexes, the final swap, cleanup after a failure."""

    def __init__(self, url: WarehouseURL, con: Any):
        self.url, self.con = url, con
        self.token = secrets.token_hex(4)

    def label(self, name: str) -> str:
        return table_label(self.url, name)

    def start(self, name: str, first) -> None:  # create the staging table from the first batch
        raise NotImplementedError

    def append(self, name: str, batch) -> None:
        raise NotImplementedError

    def count(self, name: str) -> int:  # rows in the staging table
        raise NotImplementedError

    def index(self, name: str, tz: str) -> list[str]:  # indexes for the reports' filters in zone `tz`
        return []

    def swap(self, names: list[str]) -> None:
        raise NotImplementedError

    def discard(self, names: list[str]) -> None:
        raise NotImplementedError

    def existing(self) -> set[str]:
        """Contract tables present in the target before this load."""
        raise NotImplementedError


class _SQLTarget(_Target):
    """PostgreSQL and DuckDB: staging tables in the same schema, swapped by renames in one transaction."""

    def __init__(self, url: WarehouseURL, con: Any):
        super().__init__(url, con)
        self.database = url.schema if url.engine == "postgres" else None

    def _quoted(self, name: str) -> str:
        import sqlglot as sg

        return sg.table(name, db=self.database, quoted=True).sql(self.con.dialect)

    def _ident(self, name: str) -> str:
        import sqlglot as sg

        return sg.to_identifier(name, quoted=True).sql(self.con.dialect)

    def start(self, name: str, first) -> None:
        self.con.drop_table(name + _STAGING, database=self.database, force=True)
        self.con.create_table(name + _STAGING, schema=target_schema(name), database=self.database)
        self.append(name, first)

    def append(self, name: str, batch) -> None:
        if batch.num_rows:
            self.con.insert(name + _STAGING, batch, database=self.database)

    def count(self, name: str) -> int:
        return int(self.con.table(name + _STAGING, database=self.database).count().execute())

    def existing(self) -> set[str]:
        return set(self.con.list_tables(database=self.database)) & set(TABLES)

    def _statements(self, names: list[str]) -> list[str]:
        out = []
        for name in names:
            out.append(f"DROP TABLE IF EXISTS {self._quoted(name)}")
            out.append(f"ALTER TABLE {self._quoted(name + _STAGING)} RENAME TO {self._ident(name)}")
        return out

    def swap(self, names: list[str]) -> None:
        self._transaction(self._statements(names))

    def _transaction(self, statements: list[str]) -> None:
        raise NotImplementedError

    def discard(self, names: list[str]) -> None:
        for name in names:
            try:
                self.con.drop_table(name + _STAGING, database=self.database, force=True)
            except Exception:  # best effort after a failure; the first error is the one reported
                pass


class _PostgresTarget(_SQLTarget):
    def __init__(self, url: WarehouseURL, con: Any):
        super().__init__(url, con)
        if self.database:
            con.create_database(self.database, force=True)  # CREATE SCHEMA IF NOT EXISTS

    def append(self, name: str, batch) -> None:
        # ibis inserts in-memory data row by row (executemany, ~3,000 rows/s here), which makes the default
        # sample a matter of minutes; PostgreSQL's bulk path COPY takes the same rows as CSV written by
        # Arrow (~30x faster). The table itself was created by ibis from the contract's schema.
        import io

        import pyarrow.csv as pacsv

        if not batch.num_rows:
            return
        buf = io.BytesIO()
        # every value quoted, nulls left unquoted-empty: COPY reads "" as an empty text, nothing as NULL
        pacsv.write_csv(batch, buf, pacsv.WriteOptions(include_header=False, quoting_style="all_valid"))
        cols = ", ".join(self._ident(c) for c in batch.column_names)
        with self.con.begin() as cur:
            with cur.copy(f"COPY {self._quoted(name + _STAGING)} ({cols}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(buf.getbuffer())

    def _transaction(self, statements: list[str]) -> None:
        with self.con.begin() as cur:  # psycopg: one transaction, rolled back on any error
            for stmt in statements:
                cur.execute(stmt)

    def index(self, name: str, tz: str) -> list[str]:
        # ibis has no index DDL: CREATE INDEX is written here (the only hand-written SQL of the loader;
        # identifiers and the zone quoted by sqlglot). Built on the staging table before the swap; renamed with it.
        import sqlglot as sg

        made = []
        specs: list[tuple[tuple[str, ...], bool]] = [(key_columns(name), True)] if key_columns(name) else []
        specs += [(cols, False) for cols in INDEXES.get(name, ())]
        times = {c.name for c in TABLES[name].columns if c.kind == "timestamp"}
        zone = sg.exp.Literal.string(tz).sql(self.con.dialect)
        for cols, unique in specs:
            idx = f"{name}__{'_'.join(cols)}__{self.token}"[:63]
            local = [c for c in cols if c in times and not unique]  # the key stays on the instants themselves
            collist = ", ".join(f"timezone({zone}, {self._ident(c)})" if c in local else self._ident(c) for c in cols)
            kind = "UNIQUE INDEX" if unique else "INDEX"
            with self.con.begin() as cur:
                cur.execute(f"CREATE {kind} {self._ident(idx)} ON {self._quoted(name + _STAGING)} ({collist})")
                cur.execute(f"ANALYZE {self._quoted(name + _STAGING)}")
            shown = ", ".join(f"{c} in {tz}" if c in local else c for c in cols)
            made.append(f"{name}({shown}){' unique' if unique else ''}")
        return made

    def _statements(self, names: list[str]) -> list[str]:
        out = super()._statements(names)
        # indexes keep the load's token until the swap; then they take stable names (old ones dropped above)
        with self.con.begin() as cur:
            rows = cur.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = coalesce(%s, current_schema()) "
                "AND indexname LIKE %s",
                (self.database, f"%\\_\\_{self.token}"),
            ).fetchall()
        for (idx,) in rows:
            stable = idx[: -len(self.token) - 2]
            schema = f"{self._ident(self.database)}." if self.database else ""
            out.append(f"ALTER INDEX {schema}{self._ident(idx)} RENAME TO {self._ident(stable)}")
        return out


class _DuckDBTarget(_SQLTarget):
    # No indexes: DuckDB keeps min/max zone maps per row group, which serve the reports' range filters,
    # and its ART indexes would slow the load and block the renames.
    def _transaction(self, statements: list[str]) -> None:
        raw = self.con.con
        raw.execute("BEGIN TRANSACTION")
        try:
            for stmt in statements:
                raw.execute(stmt)
            raw.execute("COMMIT")
        except Exception:
            raw.execute("ROLLBACK")
            raise


class _SparkCatalogTarget(_Target):
    """A Spark catalog database: staging tables saved as Parquet, then old tables dropped and staging renamed.

    Spark's catalog has no multi-table transaction: the renames run one after another once every table
    is written, so a failed load still leaves the old tables, but a crash in the rename step itself can
    leave some tables new and some old (rerun the load).
    """

    def __init__(self, url: WarehouseURL, con: Any):
        super().__init__(url, con)
        self.db = url.database or "default"
        con.create_database(self.db, force=True)

    def start(self, name: str, first) -> None:
        self.con.drop_table(name + _STAGING, database=self.db, force=True)
        with _spark_memtable(self.con, first) as data:
            self.con.create_table(name + _STAGING, data, database=self.db, format="parquet", overwrite=True)

    def append(self, name: str, batch) -> None:
        if batch.num_rows:
            with _spark_memtable(self.con, batch) as data:
                self.con.insert(name + _STAGING, data, database=self.db)

    def count(self, name: str) -> int:
        return int(self.con.table(name + _STAGING, database=self.db).count().execute())

    def existing(self) -> set[str]:
        return set(self.con.list_tables(database=self.db)) & set(TABLES)

    def swap(self, names: list[str]) -> None:
        for name in names:
            self.con.drop_table(name, database=self.db, force=True)
            self.con.raw_sql(f"ALTER TABLE `{self.db}`.`{name}{_STAGING}` RENAME TO `{self.db}`.`{name}`")

    def discard(self, names: list[str]) -> None:
        for name in names:
            try:
                self.con.drop_table(name + _STAGING, database=self.db, force=True)
            except Exception:
                pass


class _SparkPathTarget(_Target):
    """One folder per contract table under `path` (Parquet or Delta), written by Spark.

    Each table is written into a staging folder beside the final ones; once all are written, each old
    folder is moved aside and the new one renamed into place (a rename each), then the old ones deleted.
    The folder must be on a file system this machine sees (local, or mounted the same for the cluster).
    """

    def __init__(self, url: WarehouseURL, con: Any):
        super().__init__(url, con)
        assert url.path is not None
        self.root = Path(url.path)
        self.staging = self.root / f".reportlib-staging-{self.token}"
        self.fmt = url.format or "parquet"

    def start(self, name: str, first) -> None:
        self.staging.mkdir(parents=True, exist_ok=True)
        self._write(name, first, "overwrite")

    def append(self, name: str, batch) -> None:
        if batch.num_rows:
            self._write(name, batch, "append")

    def _write(self, name: str, batch, mode: str) -> None:
        path = str(self.staging / name)
        with _spark_memtable(self.con, batch) as expr:
            if self.fmt == "delta":
                self.con.to_delta(expr, path, mode=mode)
            else:
                self.con.to_parquet(expr, path, mode=mode)

    def count(self, name: str) -> int:
        path = str(self.staging / name)
        reader = self.con._session.read.format(self.fmt)
        return int(reader.load(path).count())

    def existing(self) -> set[str]:
        if not self.root.is_dir():
            return set()
        return {p.name for p in self.root.iterdir() if p.is_dir() and p.name in TABLES}

    def swap(self, names: list[str]) -> None:
        old = self.root / f".reportlib-old-{self.token}"
        old.mkdir(parents=True, exist_ok=True)
        for name in names:
            if (self.root / name).exists():
                os.replace(self.root / name, old / name)
            os.replace(self.staging / name, self.root / name)
        shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(self.staging, ignore_errors=True)

    def discard(self, names: list[str]) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


@contextlib.contextmanager
def _spark_memtable(con: Any, batch) -> Iterator[Any]:
    """`batch` as an ibis memtable for Spark, its temporary view dropped afterwards (ibis's Spark backend
    keeps each memtable's view for the whole session otherwise, holding the rows in the driver)."""
    import ibis

    data = ibis.memtable(batch)
    try:
        yield data
    finally:
        with contextlib.suppress(Exception):
            con._session.catalog.dropTempView(data.op().name)


def _target(url: WarehouseURL, con: Any) -> _Target:
    if url.engine == "postgres":
        return _PostgresTarget(url, con)
    if url.engine == "duckdb":
        return _DuckDBTarget(url, con)
    if url.path is not None:
        return _SparkPathTarget(url, con)
    return _SparkCatalogTarget(url, con)


# --- the load ---------------------------------------------------------------------------------------------


def load_into(data: str | os.PathLike, into: str, tz: str = DEFAULT_TIMEZONE) -> LoadResult:
    """Check data source `data` (a folder) against the contract and copy every table into database URL `into`.

    Raises DataError (the contract's one-line problems; nothing is written) when the data fails its
    checks, UsageError for a malformed URL, ReportlibError (one line, password hidden) when the database
    cannot be reached or the load fails — then the tables there are as they were. Progress goes through
    `reportlib.core.progress` (one step per table).
    """
    from reportlib.core import progress
    from reportlib.data.load import open_source

    url = parse_target(into)
    started = time.perf_counter()
    source = open_source(data, tz)
    errors, warnings = source.validate()
    if errors:
        raise DataError(errors, f"{data} does not meet the data contract; nothing was loaded into {url.shown}")
    names = [n for n in source.tables if n in TABLES]
    con = connect(url)
    target = _target(url, con)
    result = LoadResult(url.shown, notes=[f"warning: {w}" for w in warnings])
    gaps: dict[str, int] = {}
    done: list[str] = []
    try:
        before = target.existing()
        for i, name in enumerate(names, 1):
            with progress.step(f"loaded {name} into {target.label(name)}", i, len(names)) as st:
                written = _copy_table(source.table(name), name, target, tz, gaps)
                done.append(name)
                arrived = target.count(name)
                if arrived != written:
                    raise ReportlibError(f"{name}: {written:,} rows sent but {arrived:,} arrived")
                result.indexes += target.index(name, tz)
                result.rows[name] = arrived
                st.detail = f"{arrived:,} rows"
        with progress.step(f"replaced the tables in {url.shown}", len(names), len(names)):
            target.swap(names)
    except BaseException as exc:
        target.discard(done + [n for n in names if n not in done][:1])
        _close(con)
        if isinstance(exc, ReportlibError):
            raise ReportlibError(f"cannot load into {url.shown}: {exc}; the tables there are unchanged") from None
        if isinstance(exc, Exception):
            raise ReportlibError(
                f"cannot load into {url.shown}: {one_line(exc, url)}; the tables there are unchanged"
            ) from None
        raise
    _close(con)
    stale = sorted(before - set(names))
    if stale:
        result.notes.append(
            f"kept {', '.join(stale)} from an earlier load in {url.shown}: not in {data} (drop it if it is stale)"
        )
    for column, n in gaps.items():
        if n:
            result.notes.append(
                f"{counted(n, column + ' value')} {noun_for(n, 'is a local time', 'are local times')} inside a daylight-saving gap (no clock shows them); "
                f"stored with the offset before the change"
            )
    result.seconds = time.perf_counter() - started
    return result


def _copy_table(expr, name: str, target: _Target, tz: str, gaps: dict[str, int]) -> int:
    """Stream table `expr` (the source's engine) into `target` in batches; the number of rows sent."""
    rows = 0
    first = True
    reader = expr.select(*TABLES[name].column_names).to_pyarrow_batches(chunk_size=BATCH_ROWS)
    for batch in reader:
        table = _batch_to_target(batch, name, tz, gaps)
        if first:
            target.start(name, table)
            first = False
        else:
            target.append(name, table)
        rows += table.num_rows
    if first:  # an empty table: created with its columns all the same
        target.start(name, target_schema(name).to_pyarrow().empty_table())
    return rows


def _close(con: Any) -> None:
    try:
        if hasattr(con, "_session"):
            return  # a Spark session is shared by the process; stopping it is the caller's business
        con.disconnect()
    except Exception:
        pass
