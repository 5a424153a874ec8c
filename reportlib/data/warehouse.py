"""Sources where the data lives: PostgreSQL and Spark, through ibis's own backends.

URL forms (docs/databases.md):

- ``postgres://USER@HOST:PORT/DB`` (or ``postgresql://``), optional ``?schema=NAME`` (default
  ``public``) and ``?sslmode=...``. The password comes from PGPASSWORD or ~/.pgpass (libpq reads
  them); a URL holding a password is accepted, but the password is never shown: `location`, every
  message and everything derived from them carry the URL with the password replaced by ``***``.
- ``spark://local[N]`` or ``spark://local``: a Spark session in this process (the active one if
  there is one); ``spark://HOST:PORT``: a standalone cluster master. Tables from the session's
  catalog, ``?database=NAME``, or from storage: ``?path=DIR&format=parquet|delta`` with one folder
  per contract table (``DIR/contacts/``, ``DIR/agents/``...).

Tables are found by the contract's names; `tables` maps a contract name to the database's own
(``{"contacts": "crm.calls_v"}``: a table or view, optionally with its schema or database).

`table(name)` is the table in the engine with exactly the contract's columns, cast to the
contract's types (absent optional columns are typed nulls). Instants stored as ``timestamptz``
(PostgreSQL) or Spark ``TIMESTAMP`` are converted in the engine to wall time in the source's time
zone, the form every metric expects (see load.py: naive local time); columns stored without a time
zone (``timestamp``, ``TIMESTAMP_NTZ``) are taken as local wall time already, as naive timestamps
in files are. Nothing is read into pandas except by `frame()`, for the small tables.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from reportlib.core.errors import DataError, ReportlibError, UsageError
from reportlib.core.safety import MISPLACED_PASSWORD, REDACTED, password_misplaced, redact_passwords
from reportlib.core.words import noun_for
from reportlib.data.contract import TABLES, Column, missing_table_text, required_tables
from reportlib.data.engine_check import compatible, missing_columns
from reportlib.data.source import ClientView, Problem, require_tables

SCHEMES = ("postgres", "postgresql", "spark")
SPARK_FORMATS = ("parquet", "delta")


def is_warehouse_url(location: str) -> bool:
    """Whether `location` names a PostgreSQL or Spark source (postgres://, postgresql://, spark://)."""
    return str(location).split("://", 1)[0].lower() in SCHEMES and "://" in str(location)


@dataclass
class WarehouseURL:
    """A parsed source URL. `password` is held for connecting only; `shown` never contains it."""

    engine: str  # "postgres" or "spark"
    shown: str
    user: str | None = None
    password: str | None = None
    host: str | None = None
    port: int | None = None
    database: str | None = None  # PostgreSQL database / Spark catalog database
    schema: str | None = None
    master: str | None = None
    path: str | None = None
    format: str = "parquet"
    options: dict[str, str] = field(default_factory=dict)


_PG_KEYS = {"schema", "sslmode", "connect_timeout", "application_name"}
_SPARK_KEYS = {"database", "path", "format"}


def parse_url(location: str) -> WarehouseURL:
    """Parse a postgres:// or spark:// URL; UsageError naming what is wrong (password redacted)."""
    shown = redact_passwords(location)
    if password_misplaced(location):
        raise UsageError(f"{shown}: {MISPLACED_PASSWORD}")
    scheme, rest = location.split("://", 1)
    scheme = scheme.lower()
    body, _, query = rest.partition("?")
    params: dict[str, str] = {}
    for key, values in parse_qs(query, keep_blank_values=True).items():
        if len(values) != 1:
            raise UsageError(f"{shown}: give {key}= once")
        params[key] = values[0]
    if scheme in ("postgres", "postgresql"):
        unknown = sorted(set(params) - _PG_KEYS)
        if unknown:
            raise UsageError(
                f"{shown}: unknown {noun_for(len(unknown), 'option')} {', '.join(unknown)} (known: {', '.join(sorted(_PG_KEYS))})"
            )
        netloc, _, db = body.partition("/")
        userinfo, at, hostport = netloc.rpartition("@")
        if not at:
            hostport, userinfo = netloc, ""
        user, colon, password = userinfo.partition(":")
        m = re.fullmatch(r"(\[[^\]]+\]|[^:]*)(?::(\d+))?", hostport)
        if not m or not db.strip("/"):
            raise UsageError(f"{shown}: expected postgres://USER@HOST:PORT/DATABASE[?schema=NAME]")
        # shown exactly as given but for the password (`location` names the source: keep the rest of it)
        shown = f"{location.split('://', 1)[0]}://{user}:{REDACTED}@{rest[len(userinfo) + 1 :]}" if colon else location
        return WarehouseURL(
            "postgres",
            shown,
            user=unquote(user) or None,
            password=unquote(password) if colon else None,
            host=m.group(1).strip("[]") or None,
            port=int(m.group(2)) if m.group(2) else 5432,
            database=unquote(db.strip("/")),
            schema=params.pop("schema", None) or None,
            options=params,
        )
    unknown = sorted(set(params) - _SPARK_KEYS)
    if unknown:
        raise UsageError(
            f"{shown}: unknown {noun_for(len(unknown), 'option')} {', '.join(unknown)} (known: {', '.join(sorted(_SPARK_KEYS))})"
        )
    master = body.strip("/")
    if re.fullmatch(r"local(\[(\d+|\*)\])?", master):
        pass
    elif re.fullmatch(r"[A-Za-z0-9.-]+:\d+", master):
        master = f"spark://{master}"
    else:
        raise UsageError(f"{shown}: expected spark://local[N], spark://local or spark://HOST:PORT")
    fmt = params.get("format", "parquet").lower()
    if fmt not in SPARK_FORMATS:
        raise UsageError(f"{shown}: format must be parquet or delta, got {fmt!r}")
    if "path" in params and "database" in params:
        raise UsageError(f"{shown}: give either database= (catalog tables) or path= (files), not both")
    return WarehouseURL(
        "spark", shown, master=master, database=params.get("database") or None, path=params.get("path"), format=fmt
    )


_IBIS_TYPES = {"str": "string", "float": "float64", "int": "int64", "bool": "boolean", "timestamp": "timestamp"}


def _spark_file_system(session: Any, path: str) -> tuple[Any, Any]:
    """(file system, Hadoop path) of `path` in Spark's own file system layer (local, HDFS, S3, ABFS...)."""
    hpath = session.sparkContext._jvm.org.apache.hadoop.fs.Path(path)
    return hpath.getFileSystem(session.sparkContext._jsc.hadoopConfiguration()), hpath


def _spark_path_exists(session: Any, path: str) -> bool:
    """Whether `path` exists, asked through Spark's own file system layer."""
    fs, hpath = _spark_file_system(session, path)
    return bool(fs.exists(hpath))


def spark_session(master: str | None) -> Any:
    """The Spark session for a master URL (None: local[*]): a local session already running in this
    process (a notebook, the tests) is reused; otherwise a new one with the UI off, UTC as the session
    time zone (instants stay instants), results handed to pandas through Arrow, and Spark's own log quiet
    (the run prints its own progress)."""
    from pyspark.sql import SparkSession

    master = master or "local[*]"
    active = SparkSession.getActiveSession()
    if active is not None and master.startswith("local") and str(active.sparkContext.master).startswith("local"):
        return active
    session = (
        SparkSession.builder.master(master)
        .appName("reportlib")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        # results come back to pandas through Arrow (columnar) instead of row by row through Python pickles
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


class WarehouseSource:
    """The contract's tables in PostgreSQL or Spark, served as typed ibis expressions in that engine.

    Fulfils reportlib.data.source.DataSource. Connecting happens at once (a clear error when the
    server cannot be reached or a login fails); tables are looked up by their contract names.
    """

    def __init__(self, location: str, tz: str, tables: dict[str, str] | None = None):
        self._url = parse_url(location)
        self.location = self._url.shown
        self.tz = tz
        self.warnings: list[str] = []
        self.parent: WarehouseSource | None = None
        self.client_id: str | None = None
        self._mapping = {str(k): str(v) for k, v in (tables or {}).items()}
        unknown = sorted(set(self._mapping) - set(TABLES))
        if unknown:
            raise UsageError(
                f"parameters tables: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not a contract table "
                f"(known: {', '.join(TABLES)})"
            )
        self._memo: dict[tuple, Any] = {}
        self._frames: dict[str, Any] = {}
        self._typed: dict[str, Any] = {}
        self._fingerprint: str | None = None
        self._spark_instants: dict[str, set[str]] = {}
        self.con = self._connect()
        self._raw: dict[str, Any] = self._find_tables()

    # --- connecting -------------------------------------------------------------------------
    def _fail(self, what: str, exc: BaseException) -> ReportlibError:
        detail = " ".join(str(exc).split())[:300]
        return ReportlibError(redact_passwords(f"{what} {self.location}: {detail}", self._url.password))

    def _connect(self):
        import ibis

        u = self._url
        if u.engine == "postgres":
            try:
                import psycopg  # noqa: F401
            except ImportError:
                raise ReportlibError(
                    "reading from PostgreSQL needs the warehouse extra: pip install 'reportlib[warehouse]'"
                ) from None
            kwargs: dict[str, Any] = {k: v for k, v in u.options.items()}
            kwargs.setdefault("connect_timeout", "10")
            try:
                return ibis.postgres.connect(
                    host=u.host, port=u.port, user=u.user, password=u.password, database=u.database, **kwargs
                )
            except Exception as exc:  # psycopg's OperationalError and friends
                raise self._fail("cannot connect to", exc) from None
        try:
            import pyspark.sql  # noqa: F401 - the warehouse extra is installed
        except ImportError:
            raise ReportlibError(
                "reading from Spark needs the warehouse extra: pip install 'reportlib[warehouse]' (and Java 17)"
            ) from None
        try:
            return ibis.pyspark.connect(spark_session(u.master))
        except Exception as exc:
            raise self._fail("cannot start Spark for", exc) from None

    def _split(self, name: str) -> tuple[str | None, str]:
        """The (schema or database, table) a contract table is read from."""
        target = self._mapping.get(name, name)
        space, dot, table = target.rpartition(".")
        if dot:
            return space, table
        return (self._url.schema if self._url.engine == "postgres" else self._url.database), table

    def _find_tables(self) -> dict[str, Any]:
        """The raw ibis table of each contract table present."""
        found: dict[str, Any] = {}
        u = self._url
        if u.engine == "spark" and u.path:
            return self._read_paths()
        listed: dict[str | None, set[str]] = {}
        for name in TABLES:
            space, table = self._split(name)
            if space not in listed:
                try:
                    listed[space] = set(self.con.list_tables(database=space) if space else self.con.list_tables())
                    if u.engine == "postgres":  # ibis lists tables and views; a materialized view serves as well
                        listed[space] |= self._pg_materialized_views(space)
                except Exception as exc:
                    raise self._fail(f"cannot list the tables of {space or 'the default schema'} in", exc) from None
                if u.engine == "postgres" and space and not listed[space] and not self._pg_schema_exists(space):
                    raise ReportlibError(f"{self.location}: the database has no schema {space!r}")
            if table in listed[space]:
                try:
                    found[name] = self.con.table(table, database=space) if space else self.con.table(table)
                except Exception as exc:
                    raise self._fail(f"cannot read table {table} in", exc) from None
        mapped_missing = [n for n in self._mapping if n not in found]
        if mapped_missing:
            raise ReportlibError(
                f"{self.location}: the parameters' tables mapping names "
                + ", ".join(f"{n} -> {self._mapping[n]}" for n in mapped_missing)
                + ", which the database does not have"
            )
        if u.engine == "spark":
            self._spark_instants = {n: self._instant_columns(t) for n, t in found.items()}
        return found

    def _pg_schema_exists(self, space: str) -> bool:
        """PostgreSQL: whether schema `space` exists (an empty listing does not tell)."""
        return bool(self._pg_rows("SELECT 1 FROM pg_namespace WHERE nspname = %s", [space]))

    def _pg_materialized_views(self, space: str | None) -> set[str]:
        """PostgreSQL: the materialized views of schema `space` (the first schema of the search path when None)."""
        where = "schemaname = %s" if space else "schemaname = current_schema()"
        rows = self._pg_rows(f"SELECT matviewname FROM pg_matviews WHERE {where}", [space] if space else None)
        return {r[0] for r in rows}

    def _read_paths(self) -> dict[str, Any]:
        """Spark: each contract table from DIR/<name> (or the mapped folder) in Parquet or Delta."""
        found: dict[str, Any] = {}
        session = self.con._session
        for name in TABLES:
            path = self._folder(name)
            if not _spark_path_exists(session, path):
                if name in self._mapping:
                    raise ReportlibError(
                        f"{self.location}: the mapped folder {self._mapping[name]} of {name} does not exist"
                    )
                continue
            try:
                frame = session.read.format(self._url.format).load(path)
            except Exception as exc:
                raise self._fail(f"cannot read {path} in", exc) from None
            view = f"reportlib_{hashlib.sha256(path.encode()).hexdigest()[:10]}_{name}"
            frame.createOrReplaceTempView(view)
            found[name] = self.con.table(view)
            self._spark_instants[name] = {
                f.name for f in frame.schema.fields if type(f.dataType).__name__ == "TimestampType"
            }
        return found

    def _folder(self, name: str) -> str:
        """Spark: the folder a contract table is read from (DIR/<name>, or the mapped folder)."""
        folder = self._mapping.get(name, name)
        return folder if "/" in folder or ":" in folder else f"{str(self._url.path).rstrip('/')}/{folder}"

    def _instant_columns(self, table: Any) -> set[str]:
        """Spark: the columns stored as TIMESTAMP (instants), not TIMESTAMP_NTZ (wall time)."""
        try:
            schema = self.con._session.table(table.get_name()).schema
        except Exception:
            op = table.op()
            schema = self.con._session.table(f"{op.namespace.database}.{op.name}").schema
        return {f.name for f in schema.fields if type(f.dataType).__name__ == "TimestampType"}

    # --- the protocol -----------------------------------------------------------------------
    @property
    def tables(self) -> list[str]:
        """Names of the contract tables this source holds."""
        return sorted(self._raw)

    def has(self, name: str) -> bool:
        """Whether the source holds table `name`."""
        return name in self._raw

    def require(self, *names: str) -> None:
        """Raise MissingTableError naming each of `names` that the source lacks."""
        require_tables(self, names, see="docs/data-contract.md, docs/databases.md")

    def file_name(self, name: str) -> str:
        """The database table (or Spark folder) a contract table comes from, for messages."""
        space, table = self._split(name)
        if self._url.engine == "spark" and self._url.path:
            return f"{name} ({self._url.format} folder {self._mapping.get(name, name)})"
        return f"{name} (table {space + '.' if space else ''}{table})"

    def table(self, name: str):
        """Table `name` in the engine: the contract's columns in its types, instants as local wall time.

        Raises MissingTableError when absent, DataError when a required column is missing or a
        column's type does not fit the contract.
        """
        if name not in self._typed:
            self.require(name)
            errors = [p.line() for p in self._structure_problems(name)]
            if errors:
                raise DataError(errors, f"{self.file_name(name)} does not meet the data contract")
            self._typed[name] = self._typed_table(name)
        return self._typed[name]

    def frame(self, name: str):
        """Table `name` as a typed pandas DataFrame, the caller's own copy (for the small tables)."""
        import pandas as pd

        if name not in self._frames:
            frame = self.table(name).to_pandas()
            for col in TABLES[name].columns:
                if col.kind in ("timestamp", "date"):
                    frame[col.name] = pd.to_datetime(frame[col.name]).astype("datetime64[us]")
                elif col.kind == "bool":
                    frame[col.name] = frame[col.name].astype("boolean")
                elif col.kind == "int":
                    frame[col.name] = frame[col.name].astype("Int64")
                elif col.kind == "float":
                    frame[col.name] = frame[col.name].astype("float64")
                else:
                    frame[col.name] = frame[col.name].astype(object).where(frame[col.name].notna(), None)
            self._frames[name] = frame
        return self._frames[name].copy()

    def memo(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """`compute()`, remembered under `key` while the source is open (a copy each time); inside a
        `reportlib run` shared with the run's other processes, as the folder source does (cache.remembered)."""
        from reportlib.data.cache import remembered

        return remembered(self._memo, key, compute, self)

    def for_client(self, client_id: str) -> ClientView:
        """This source narrowed to one client's data: contacts, intervals and clients filtered in the engine."""
        return ClientView(self, str(client_id))

    @property
    def fingerprint(self) -> str:
        """The data's state (`state()`) when first read, kept for the source's life: names the data a report, a
        run's shared results and its manifest come from."""
        return self._fingerprint if self._fingerprint is not None else self.state()

    def state(self) -> str:
        """The data's state now, read afresh from the engine: changes when the data does.

        PostgreSQL: per contract table its row count and row versions (`_pg_state`); a Spark catalog
        table: its files, read after a refresh (Spark keeps a table's file listing), row count and latest
        timestamp; a Spark folder: its files' names, sizes and modification times (the open source's views keep
        the listing they were made with). `open_source` compares it before reusing a source; the first reading
        is the source's `fingerprint`.
        """
        parts = [f"{self.location}|{self.tz}|{sorted(self._mapping.items())}"]
        if self._url.engine == "postgres":
            parts += self._pg_state()
        elif self._url.path:
            parts += self._folder_listing()
        else:
            parts += self._spark_catalog_tables()
            for name in self.tables:
                t = self.table(name)
                stamps = [c.name for c in TABLES[name].columns if c.kind in ("timestamp", "date")]
                aggs = {"n": t.count()}
                if stamps:  # as text: a year the data contract refuses (2300) is past pandas' timestamps
                    aggs["last"] = t[stamps[0]].max().cast("string")
                row = t.aggregate(**aggs).to_pandas().iloc[0]
                parts.append(f"{name}:{row.get('n')}:{row.get('last')}")
        now = hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
        if self._fingerprint is None:
            self._fingerprint = now
        return now

    def _pg_state(self) -> list[str]:
        """PostgreSQL: per contract table its relation now (oid and kind, or none), row count and the sum and
        largest of its row versions' transaction ids; for a view (or foreign table), which has no row versions,
        the insert/update/delete counters of every table under it instead, and on a replica also how far it has
        replayed the primary's log.

        Every insert and every update in place writes a row version carrying the writing transaction's id
        (xmin), another than the version it replaces, so the sum changes (ids wrap round after ~2^32
        transactions, so the largest alone could miss a write after that: the sum does not, but by a
        coincidence of ids); a delete changes the count. All from one scan per table, exact at once, on a
        replica as on the primary, a partitioned table's partitions included. The counters
        (pg_stat_user_tables) reach the server's statistics up to ~10 s after a commit and count only the
        server's own writes (not those a replica replays): hence the log position there."""
        one = "(%s, to_regclass(CASE WHEN %s = '' THEN quote_ident(%s) ELSE quote_ident(%s) || '.' || quote_ident(%s) END))"
        sql = f"""
            WITH RECURSIVE c(name, rel) AS (VALUES {", ".join([one] * len(TABLES))}),
            under(name, rel) AS (
                SELECT name, rel::oid FROM c WHERE rel IS NOT NULL
                UNION
                SELECT u.name, x.rel FROM under u CROSS JOIN LATERAL (
                    SELECT d.refobjid FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass
                        AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> u.rel
                    WHERE r.ev_class = u.rel  -- the tables a view reads
                    UNION ALL
                    SELECT i.inhrelid FROM pg_inherits i WHERE i.inhparent = u.rel  -- a table's partitions
                ) AS x(rel)
            )
            SELECT c.name, c.rel::oid, k.relkind::text, k.relkind::text IN ('r', 'p', 'm'),
                quote_ident(n.nspname) || '.' || quote_ident(k.relname),
                string_agg(concat_ws(':', s.relid, s.n_tup_ins, s.n_tup_upd, s.n_tup_del), ',' ORDER BY s.relid),
                CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()::text END
            FROM c LEFT JOIN pg_class k ON k.oid = c.rel::oid LEFT JOIN pg_namespace n ON n.oid = k.relnamespace
            LEFT JOIN under u ON u.name = c.name LEFT JOIN pg_stat_user_tables s ON s.relid = u.rel
            GROUP BY c.name, c.rel, k.relkind, n.nspname, k.relname ORDER BY c.name"""
        params: list[str] = []
        for name in TABLES:
            space, table = self._split(name)
            params += [name, space or "", table, space or "", table]
        out = []
        for name, oid, kind, versioned, qualified, counters, replayed in self._pg_rows(sql, params):
            if oid is None:
                out.append(f"{name}:absent")
            elif versioned:  # quoted by the server above (quote_ident): the relation's own name
                versions = f"SELECT count(*), sum(xmin::text::bigint), max(xmin::text::bigint) FROM {qualified}"
                out.append(f"{name}:{oid}:{kind}:" + ":".join(map(str, self._pg_rows(versions)[0])))
            else:
                count = self._pg_rows(f"SELECT count(*) FROM {qualified}")[0][0]
                out.append(f"{name}:{oid}:{kind}:{count}:{counters}:{replayed}")
        return out

    def _pg_rows(self, sql: str, params: list[str] | None = None) -> list[tuple]:
        cur = self.con.raw_sql(sql, params=params) if params else self.con.raw_sql(sql)
        try:
            return cur.fetchall()
        finally:
            cur.close()

    def _spark_catalog_tables(self) -> list[str]:
        """Spark catalog tables: whether each is there now and its files, each refreshed first (Spark keeps a
        table's file listing: without it, counts would read the table as it was)."""
        session = self.con._session
        out = []
        for name in TABLES:
            space, table = self._split(name)
            qualified = f"{space}.{table}" if space else table
            if not session.catalog.tableExists(qualified):
                out.append(f"{name}:absent")
                continue
            with contextlib.suppress(Exception):  # a temporary view has no listing to refresh
                session.catalog.refreshTable(qualified)
            # its files (new names when a table is rewritten; none for a view of data in memory)
            out.append(f"{name}:" + ",".join(sorted(session.table(qualified).inputFiles())))
        return out

    def _folder_listing(self) -> list[str]:
        """Spark folders: every contract table's files now (path, size, modification time), through Spark's own
        file system layer (local, HDFS, S3, ABFS...)."""
        out = []
        for name in TABLES:
            fs, hpath = _spark_file_system(self.con._session, self._folder(name))
            if not fs.exists(hpath):
                out.append(f"{name}:absent")
                continue
            files = fs.listFiles(hpath, True)
            listing = []
            while files.hasNext():
                st = files.next()
                listing.append(f"{st.getPath().toString()}:{st.getLen()}:{st.getModificationTime()}")
            out.append(f"{name}:" + ",".join(sorted(listing)))
        return out

    # --- typing in the engine ---------------------------------------------------------------
    def _is_instant(self, name: str, column: str, dtype: Any) -> bool:
        if self._url.engine == "spark":
            return column in self._spark_instants.get(name, set())
        return dtype.is_timestamp() and dtype.timezone is not None

    def _local(self, value: Any):
        """An instant column as wall time in the source's time zone, computed by the engine.

        The engine's own function, called through ibis (ibis has no portable time-zone conversion):
        PostgreSQL timezone(zone, timestamptz), Spark from_utc_timestamp(ts, zone).
        """
        import ibis
        import ibis.expr.datatypes as dt

        if self._url.engine == "spark":
            spark_fn = ibis.udf.scalar.builtin(
                lambda ts, zone: None, name="from_utc_timestamp", signature=((dt.timestamp, dt.string), dt.timestamp)
            )
            return spark_fn(value, self.tz)
        pg_fn = ibis.udf.scalar.builtin(
            lambda zone, ts: None, name="timezone", signature=((dt.string, dt.Timestamp(timezone="UTC")), dt.timestamp)
        )
        return pg_fn(self.tz, value)

    def _typed_table(self, name: str):

        raw = self._raw[name]
        schema = raw.schema()
        cols = []
        for col in TABLES[name].columns:
            cols.append(self._typed_column(name, raw, schema, col).name(col.name))
        return raw.select(*cols) if cols else raw

    def _typed_column(self, name: str, raw: Any, schema: Any, col: Column):
        import ibis

        if col.name not in schema:
            return ibis.null().cast("date" if col.kind == "date" else _IBIS_TYPES[col.kind])
        value = raw[col.name]
        dtype = schema[col.name]
        if col.kind == "timestamp":
            value = self._local(value) if self._is_instant(name, col.name, dtype) else value
            return value.cast("timestamp")
        if col.kind == "date":
            if dtype.is_timestamp() and self._is_instant(name, col.name, dtype):
                value = self._local(value)
            return value.cast("date")
        return value.cast(_IBIS_TYPES[col.kind])

    # --- checking -----------------------------------------------------------------------------
    def _structure_problems(self, name: str) -> list[Problem]:
        """Missing required columns and columns whose engine type does not fit the contract."""
        schema = self._raw[name].schema()
        file = self.file_name(name)
        out = []
        lacking = missing_columns(name, schema, file)  # naming the columns found, as a folder's message does
        if lacking:
            out.append(lacking)
        for col in TABLES[name].columns:
            if col.name in schema and not compatible(col.kind, schema[col.name]):
                out.append(
                    Problem(
                        file,
                        col.name,
                        f"expected {col.kind} (a {_IBIS_TYPES.get(col.kind, col.kind)} column), the database has {schema[col.name]}",
                    )
                )
        return out

    def value_problems(self) -> list[Any]:
        """Checks of the values in the engine (allowed values, ranges, required-when, uniqueness, references,
        row rules, warnings): reportlib.data.engine_check.check_tables, offending rows named by key with a
        count. Called once the structure is sound (no missing column, no wrong type).
        """
        from reportlib.data.engine_check import check_tables

        # instants as the reports read them (wall time in the source's zone): a rule on the time of day, an
        # interval start on its grid, holds in local time, and a key is shown as the reports show it
        local = {n: self._wall_time(n) for n in self._raw}
        return check_tables(local, {n: self.file_name(n) for n in self._raw}, self.location)

    def _wall_time(self, name: str):
        """The table `name` as stored, its instant columns as wall time in the source's zone (_local)."""
        raw = self._raw[name]
        instants = [c for c, d in raw.schema().items() if self._is_instant(name, c, d)]
        return raw.mutate(**{c: self._local(raw[c]) for c in instants}) if instants else raw

    def problems(self) -> list[Problem]:
        """Every contract problem found: required tables missing, then each table's structure, then values."""
        out = []
        present = set(self.tables)
        for name in required_tables(present):
            if name not in present:
                # PostgreSQL lists only the tables a role may read: a table without SELECT read as missing (a probe)
                unreadable = (
                    f" (if it is there, the role {self._url.user} cannot read it: GRANT SELECT on it)"
                    if self._url.engine == "postgres" and self._url.user
                    else ""
                )
                expected = f"a table {self._split(name)[1]}"
                out.append(Problem(name, None, missing_table_text(name, expected, self.location) + unreadable))
        for name in self.tables:
            out += self._structure_problems(name)
        if not any(p.severity == "error" for p in out):
            out += self.value_problems()
        return out

    def validate(self) -> tuple[list[str], list[str]]:
        """Check every table present and name the required ones absent: (errors, warnings)."""
        found = self.problems()
        errors = [redact_passwords(p.line(), self._url.password) for p in found if p.severity == "error"]
        warnings = [redact_passwords(p.line(), self._url.password) for p in found if p.severity != "error"]
        return errors, list(dict.fromkeys(self.warnings + warnings))

    def close(self) -> None:
        """Disconnect from PostgreSQL (a Spark session is left running for its owner)."""
        if self._url.engine == "postgres":
            try:
                self.con.disconnect()
            except Exception:
                pass
