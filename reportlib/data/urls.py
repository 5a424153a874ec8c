"""Database locations given as URLs (`--data URL`, `--into URL`): one parser for every command.

Forms (docs in README, "Your own data"):

- `postgres://user@host:port/db[?schema=NAME]` (also `postgresql://`): the password comes from
  `PGPASSWORD` or `~/.pgpass` (libpq reads both). A password written into the URL is accepted but
  never shown: `DatabaseURL.shown` and `str()` replace it with `***`.
- `duckdb:///path/store.duckdb` (absolute; `duckdb://store.duckdb` is relative to the working folder).
- `spark://MASTER?database=NAME` (tables of a Spark catalog) or
  `spark://MASTER?path=DIR&format=parquet|delta` (one folder per contract table under DIR).
  MASTER is `local`, `local[N]`, `local[*]`, or a cluster master `host:port` (then `spark://host:port`
  is passed to Spark as the master URL).

`parse_url` only parses (no connection); a malformed URL is a UsageError (exit status 2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, unquote

from reportlib.core.errors import UsageError

SCHEMES = ("postgres", "postgresql", "duckdb", "spark")
SPARK_FORMATS = ("parquet", "delta")
_LOCAL_MASTER = re.compile(r"^local(\[(\d+|\*)\])?$")
_PG_QUERY = {"schema", "sslmode", "connect_timeout", "application_name"}


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed database location. `kind` is "postgres", "duckdb" or "spark"; the other fields apply by kind.

    postgres: host, port, user, database, schema (None: the server's search_path), options (extra libpq
    keywords from the query string: sslmode, connect_timeout, application_name); password only if the
    URL held one (prefer PGPASSWORD or .pgpass). duckdb: path. spark: master (the Spark master URL),
    database (catalog database) or path and format (parquet or delta).
    """

    kind: str
    text: str = field(repr=False)  # as given; may hold a password: never print it, print `shown`
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    database: str | None = None
    schema: str | None = None
    options: tuple[tuple[str, str], ...] = ()
    path: str | None = None
    master: str | None = None
    format: str | None = None

    @property
    def shown(self) -> str:
        """The URL with any password replaced by `***`: safe for messages and logs."""
        return redact(self.text)

    def __str__(self) -> str:
        return self.shown

    def table_label(self, name: str) -> str:
        """Where table `name` lives, for messages: `db table public.contacts`, `parquet DIR/contacts`."""
        if self.kind == "postgres":
            return f"db table {self.schema or 'public'}.{name}"
        if self.kind == "duckdb":
            return f"db table main.{name}"
        if self.path is not None:
            return f"{self.format} {self.path.rstrip('/')}/{name}"
        return f"spark table {self.database or 'default'}.{name}"


def is_database_url(location: str) -> bool:
    """Whether `location` names a database by URL (rather than a data folder)."""
    return any(str(location).lower().startswith(s + "://") for s in SCHEMES)


def redact(text: str) -> str:
    """`text` with the password of any `scheme://user:password@` replaced by `***`."""
    return re.sub(r"(://[^/@:?#\s]*:)[^@/\s]*@", r"\1***@", str(text))


def parse_url(text: str) -> DatabaseURL:
    """The DatabaseURL of `text`; UsageError (one line, password hidden) when it is not one of the forms."""
    text = str(text).strip()
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in SCHEMES:
        raise UsageError(
            f"{redact(text)}: not a database URL; expected postgres://user@host:port/db, "
            f"duckdb:///path.duckdb or spark://local[N]?database=NAME"
        )
    if scheme in ("postgres", "postgresql"):
        return _postgres(text, rest)
    if scheme == "duckdb":
        return _duckdb(text, rest)
    return _spark(text, rest)


def _query(text: str, query: str, allowed: set[str]) -> dict[str, str]:
    values = parse_qs(query, keep_blank_values=True) if query else {}
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise UsageError(
            f"{redact(text)}: unknown URL option {unknown[0]!r}; expected {', '.join(sorted(allowed)) or 'none'}"
        )
    twice = [k for k, v in values.items() if len(v) > 1]
    if twice:
        raise UsageError(f"{redact(text)}: URL option {twice[0]!r} is given more than once")
    return {k: v[0] for k, v in values.items()}


def _postgres(text: str, rest: str) -> DatabaseURL:
    where, _, query = rest.partition("?")
    netloc, _, database = where.partition("/")
    database = unquote(database.strip("/"))
    userinfo, at, hostport = netloc.rpartition("@")
    if not at:
        userinfo, hostport = "", netloc
    user, colon, password = userinfo.partition(":")
    if hostport.startswith("["):  # [::1]:5432
        host, _, port_text = hostport[1:].partition("]")
        port_text = port_text.lstrip(":")
    else:
        host, _, port_text = hostport.partition(":")
    port = None
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise UsageError(f"{redact(text)}: the port must be a number from 1 to 65535")
        port = int(port_text)
    if not database or "/" in database:
        raise UsageError(f"{redact(text)}: name the database, e.g. postgres://user@host:5432/DBNAME")
    opts = _query(text, query, _PG_QUERY)
    schema = opts.pop("schema", None)
    if schema is not None and not schema:
        raise UsageError(f"{redact(text)}: schema= is empty")
    return DatabaseURL(
        "postgres",
        text,
        host=unquote(host) or None,
        port=port,
        user=unquote(user) or None,
        password=unquote(password) if colon else None,
        database=database,
        schema=schema,
        options=tuple(sorted(opts.items())),
    )


def _duckdb(text: str, rest: str) -> DatabaseURL:
    # the existing convention: duckdb:///abs/path (three slashes) and duckdb://relative/path
    path = rest[1:] if rest.startswith("//") else rest
    if not path:
        raise UsageError(f"{text}: name the database file, e.g. duckdb:///path/store.duckdb")
    return DatabaseURL("duckdb", text, path=path)


def _spark(text: str, rest: str) -> DatabaseURL:
    master_text, _, query = rest.partition("?")
    master_text = master_text.rstrip("/")
    if _LOCAL_MASTER.match(master_text):
        master = master_text
    elif re.fullmatch(r"[A-Za-z0-9.-]+:\d+", master_text):
        master = f"spark://{master_text}"
    else:
        raise UsageError(
            f"{redact(text)}: expected spark://local[N]?... or spark://HOST:PORT?... (a cluster master), "
            f"got {master_text!r}"
        )
    opts = _query(text, query, {"database", "path", "format"})
    if "database" in opts and "path" in opts:
        raise UsageError(f"{redact(text)}: give database= (a catalog) or path= (Parquet/Delta folders), not both")
    if "path" in opts:
        fmt = opts.get("format", "parquet")
        if fmt not in SPARK_FORMATS:
            raise UsageError(f"{redact(text)}: format must be parquet or delta, got {fmt!r}")
        if not opts["path"]:
            raise UsageError(f"{redact(text)}: path= is empty")
        return DatabaseURL("spark", text, master=master, path=opts["path"], format=fmt)
    if "format" in opts:
        raise UsageError(f"{redact(text)}: format= goes with path=")
    database = opts.get("database") or None
    if database is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", database):
        raise UsageError(f"{redact(text)}: database must be a plain name (letters, digits, _), got {database!r}")
    return DatabaseURL("spark", text, master=master, database=database)


def postgres_url(user: str, host: str, port: int, database: str, schema: str | None = None) -> str:
    """A postgres:// URL without a password (the password goes in PGPASSWORD or ~/.pgpass)."""
    tail = f"?schema={quote(schema)}" if schema else ""
    return f"postgres://{quote(user)}@{host}:{port}/{quote(database)}{tail}"


def connect(url: DatabaseURL, read_only: bool = False):
    """An ibis connection to `url` (postgres, duckdb or spark); ReportlibError (one line) when it cannot be made.

    The message names the URL without its password and says what the server answered. A Spark URL
    starts (or reuses) a Spark session with `url.master`; a local session needs Java 17.
    """
    import ibis

    from reportlib.core.errors import ReportlibError

    try:
        if url.kind == "postgres":
            extra = dict(url.options)
            return ibis.postgres.connect(
                host=url.host,
                port=url.port or 5432,
                user=url.user,
                password=url.password,
                database=url.database,
                schema=url.schema,
                **extra,
            )
        if url.kind == "duckdb":
            from pathlib import Path

            assert url.path is not None
            if read_only and not Path(url.path).exists():
                raise ReportlibError(f"the database {url.path} does not exist")
            return ibis.duckdb.connect(url.path, read_only=read_only)
        return ibis.pyspark.connect(spark_session(url))
    except ReportlibError:
        raise
    except Exception as exc:  # psycopg, duckdb and py4j raise many kinds; the message is what matters
        raise ReportlibError(f"cannot connect to {url.shown}: {one_line(exc, url)}") from None


def spark_session(url: DatabaseURL):
    """The Spark session for `url.master` (an existing one with the same master is reused)."""
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(url.master or "local[*]")
        .appName("reportlib")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        # Parquet timestamps as UTC-adjusted int64 (readable as instants by DuckDB, Arrow, Spark)
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    )
    if (url.master or "").startswith("local"):
        builder = builder.config("spark.sql.shuffle.partitions", "4")
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def one_line(exc: BaseException, url: DatabaseURL | None = None, limit: int = 300) -> str:
    """An engine's error message on one line, any password of `url` removed."""
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    if url is not None and url.password:
        text = text.replace(url.password, "***")
    text = redact(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."
