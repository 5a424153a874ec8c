"""Real database engines for the tests: a throwaway PostgreSQL server and a local Spark session.

Session-scoped fixtures (registered in conftest.py):

- `pg_server`: a PostgreSQL cluster made by `initdb` in a temporary folder, started on a free
  loopback port with its unix socket in that folder, removed at the end of the session. As root the
  server binaries refuse to run, so they run as the `postgres` user (runuser) in a folder it owns.
  Two roles: `reportlib` (trusted from loopback: `pg_server.url` has no password) and `reportlib_pw`
  (scram-sha-256: connect with `pg_server.password_url` plus PGPASSWORD=`pg_server.password`).
  The server's default time zone is deliberately not UTC (America/New_York): code must not depend
  on it.
- `spark_session`: one `local[2]` Spark session for the whole test session (UI off, two shuffle
  partitions, session time zone UTC, its warehouse and metastore in a temporary folder).
- `engine`: parametrized over duckdb / postgres / spark; an `Engine` that stores tables
  (`engine.load({name: arrow_table}, tag)`) and returns the `--data` URL that reads them back.

Each skips with a clear reason when its component is missing (no PostgreSQL binaries, no Java, no
pyspark) and FAILS instead when env REPORTLIB_REQUIRE_DB=1 (CI, set in .ci/run).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REQUIRE_DB = os.environ.get("REPORTLIB_REQUIRE_DB") == "1"
ENGINES = ("duckdb", "postgres", "spark")
PG_PASSWORD = "s3cret-Pa55word"  # the password role's; tests check it never shows up in output


def store_duckdb(path: Path, tables: dict[str, Any]) -> str:
    """Arrow `tables` stored as tables of a DuckDB file at `path` (created); the --data URL that reads them."""
    import duckdb

    con = duckdb.connect(str(path))
    try:
        for name, t in tables.items():
            con.register("_src", t)
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _src')
            con.unregister("_src")
    finally:
        con.close()
    return f"duckdb:///{path}"


def missing(reason: str) -> None:
    """Skip the test for a missing component; fail instead when REPORTLIB_REQUIRE_DB=1."""
    if REQUIRE_DB:
        pytest.fail(reason + " (REPORTLIB_REQUIRE_DB=1)")
    pytest.skip(reason)


# ---------------------------------------------------------------- PostgreSQL


def find_runuser() -> str | None:
    """util-linux's runuser: on PATH, or in the sbin folders a non-login root shell may not have on PATH."""
    found = shutil.which("runuser")
    if found:
        return found
    return next((p for p in ("/usr/sbin/runuser", "/sbin/runuser") if os.access(p, os.X_OK)), None)


def find_pg_bin() -> Path | None:
    """Folder holding initdb/pg_ctl: $REPORTLIB_PG_BIN, Debian's newest /usr/lib/postgresql/N/bin, or PATH."""
    env = os.environ.get("REPORTLIB_PG_BIN")
    if env and (Path(env) / "initdb").exists():
        return Path(env)
    found = sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin") if (Path(p) / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    """A running throwaway PostgreSQL cluster."""

    bin: Path
    root: Path
    port: int = 0
    user: str = "reportlib"
    password_user: str = "reportlib_pw"
    password: str = PG_PASSWORD
    database: str = "reportlib"
    host: str = "127.0.0.1"
    _as_postgres: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        """A URL without password (the `reportlib` role is trusted from loopback)."""
        return f"postgres://{self.user}@{self.host}:{self.port}/{self.database}"

    @property
    def password_url(self) -> str:
        """A URL for the password role, without the password (give it in PGPASSWORD)."""
        return f"postgresql://{self.password_user}@{self.host}:{self.port}/{self.database}"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    def _run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in args]
        if self._as_postgres:
            cmd = [find_runuser() or "runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=timeout, cwd=self.root)

    def start(self) -> None:
        """initdb, configure, start on a free port (three tries), create the roles and database."""
        self._as_postgres = os.geteuid() == 0
        data, log = self.root / "data", self.root / "server.log"
        self.socket_dir.mkdir()
        if self._as_postgres:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.socket_dir, "postgres")
        self._run(self.bin / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale")
        hba = (
            "local all all trust\n"
            f"host all {self.password_user} 127.0.0.1/32 scram-sha-256\n"
            "host all all 127.0.0.1/32 trust\n"
        )
        (data / "pg_hba.conf").write_text(hba)
        with (data / "postgresql.conf").open("a") as f:
            f.write(
                "\nlisten_addresses = '127.0.0.1'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "shared_buffers = 64MB\nmax_connections = 40\ntimezone = 'America/New_York'\n"
                f"unix_socket_directories = '{self.socket_dir}'\npassword_encryption = 'scram-sha-256'\n"
            )
        last = ""
        for _ in range(3):
            self.port = free_port()
            r = self._run(
                self.bin / "pg_ctl",
                "-D",
                data,
                "-l",
                log,
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {self.port}",
                "start",
                check=False,
            )
            if r.returncode == 0:
                break
            last = r.stderr + (log.read_text() if log.exists() else "")
        else:
            raise RuntimeError(f"PostgreSQL did not start: {last[-2000:]}")
        psql = [
            self.bin / "psql",
            "-h",
            self.socket_dir,
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
        ]
        for sql in (
            f"CREATE ROLE {self.user} LOGIN SUPERUSER",
            f"CREATE ROLE {self.password_user} LOGIN PASSWORD '{self.password}'",
            f"CREATE DATABASE {self.database} OWNER {self.user}",
            f"GRANT ALL ON DATABASE {self.database} TO {self.password_user}",
        ):
            self._run(*psql, "-d", "postgres", "-c", sql)

    def psql(self, sql: str, database: str | None = None) -> str:
        """Run SQL as the superuser over the unix socket; its output."""
        r = self._run(
            self.bin / "psql", "-h", self.socket_dir, "-p", str(self.port), "-U", "postgres",
            "-d", database or self.database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql,
        )  # fmt: skip
        return r.stdout

    def stop(self) -> None:
        """Stop the server at once and remove the cluster."""
        if (self.root / "data" / "postmaster.pid").exists():
            self._run(self.bin / "pg_ctl", "-D", self.root / "data", "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def start_pg_server() -> PgServer:
    """A started PgServer, or skip/fail with the reason it cannot start."""
    pg_bin = find_pg_bin()
    if pg_bin is None:
        missing("PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql")
    assert pg_bin is not None
    if os.geteuid() == 0 and (find_runuser() is None or _no_user("postgres")):
        missing("running as root and no `postgres` user/runuser to start PostgreSQL as")
    try:
        import ibis.backends.postgres  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError as e:
        missing(f"ibis PostgreSQL backend not installed ({e}): pip install 'reportlib[warehouse]'")
    server = PgServer(bin=pg_bin, root=Path(tempfile.mkdtemp(prefix="rl-pg-")))
    try:
        server.start()
    except (RuntimeError, subprocess.SubprocessError, OSError) as e:
        detail = getattr(e, "stderr", "") or str(e)
        server.stop()
        missing(f"PostgreSQL server could not start: {str(detail).strip()[-500:]}")
    return server


def _no_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return True
    return False


# ---------------------------------------------------------------- Spark


def start_spark() -> Any:
    """A local[2] SparkSession (UI off, 2 shuffle partitions, UTC), or skip/fail with the reason."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:
        missing(f"pyspark not installed ({e}): pip install 'reportlib[warehouse]'")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        missing("no Java runtime for Spark: apt-get install openjdk-17-jre-headless")
    tmp = tempfile.mkdtemp(prefix="rl-spark-")
    try:
        spark = (
            SparkSession.builder.master("local[2]")
            .appName("reportlib-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.default.parallelism", "2")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.memory", "1g")
            .config("spark.sql.warehouse.dir", str(Path(tmp) / "warehouse"))
            .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={tmp}")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate()
        )
    except Exception as e:  # Java gateway errors come as plain Exception/RuntimeError
        shutil.rmtree(tmp, ignore_errors=True)
        missing(f"Spark local session could not start: {str(e).strip()[-500:]}")
    spark._reportlib_tmp = tmp  # type: ignore[attr-defined]
    return spark


def stop_spark(spark: Any) -> None:
    """Stop the session and remove its warehouse folder."""
    tmp = getattr(spark, "_reportlib_tmp", None)
    try:
        spark.stop()
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- engines


@dataclass
class Engine:
    """One engine the tests run on: `name`, and `load()` to store tables and get their --data URL."""

    name: str
    workdir: Path
    pg: PgServer | None = None
    spark: Any = None
    _n: int = 0
    sources: list = field(default_factory=list)
    _admin: Any = None
    last_url: str = ""  # PostgreSQL: the --data URL of the schema contract_table made last

    def contract_table(self, frame: Any, name: str = "contacts", tz: str = "America/New_York") -> Any:
        """One contract table (typed frame, naive local time) stored in the engine, served by its source.

        DuckDB: an in-memory table, as the existing tests make; PostgreSQL: a table in a new schema;
        Spark: a temporary view (no files). The PostgreSQL and Spark tables hold UTC instants and come
        back through WarehouseSource, so the engine converts them to local time as in production.
        """
        import ibis
        import pandas as pd

        from reportlib.data.warehouse import WarehouseSource

        if self.name == "duckdb":
            frame = frame.copy()
            for col in frame.columns:  # instants -> local wall time, as the folder loader stores them
                if isinstance(frame[col].dtype, pd.DatetimeTZDtype):
                    frame[col] = frame[col].dt.tz_convert(tz).dt.tz_localize(None)
            return ibis.duckdb.connect().create_table(name, frame)
        arrow = contract_tables({name: frame}, tz, instants=True)[name]
        self._n += 1
        if self.name == "postgres":
            assert self.pg is not None
            ns = f"ct_{self._n}_{uuid.uuid4().hex[:8]}"  # unique on the session's server, whichever Engine made it
            con = self._pg_admin()
            con.create_database(ns)
            con.create_table(name, arrow, database=ns)
            self.last_url = f"{self.pg.url}?schema={ns}"
            src = WarehouseSource(self.last_url, tz)
        else:
            view = f"rl_ct_{self._n}_{name}"
            self.spark.createDataFrame(arrow).createOrReplaceTempView(view)
            src = WarehouseSource("spark://local[2]", tz, tables={name: view})
        self.sources.append(src)
        return src.table(name)

    def _pg_admin(self) -> Any:
        import ibis

        if self._admin is None:
            assert self.pg is not None
            self._admin = ibis.connect(self.pg.url.replace("postgres://", "postgresql://", 1))
        return self._admin

    def close_sources(self) -> None:
        """Disconnect the sources made by contract_table (PostgreSQL has a connection limit)."""
        for src in self.sources:
            src.close()
        self.sources.clear()

    def load_contract(self, frames: dict[str, Any], tz: str, tag: str = "t") -> str:
        """Store typed contract frames (naive local time) the engine's way; the --data URL reading them.

        DuckDB keeps naive local time (as the folder loader's cache does); PostgreSQL and Spark get
        UTC instants (timestamptz / TIMESTAMP), which the source converts back in the engine.
        """
        return self.load(contract_tables(frames, tz, instants=self.name != "duckdb"), tag)

    def load(self, tables: dict[str, Any], tag: str = "t") -> str:
        """Store `tables` ({contract name: pyarrow Table or pandas DataFrame}) in a fresh namespace.

        DuckDB: a new database file; PostgreSQL: a new schema; Spark: a new catalog database.
        Returns the `--data` URL that reads them back. Instants should be UTC-aware (timestamptz).
        """
        import pyarrow as pa

        self._n += 1
        ns = f"{tag}_{self._n}".lower().replace("-", "_")
        arrow = {
            k: (v if isinstance(v, pa.Table) else pa.Table.from_pandas(v, preserve_index=False))
            for k, v in tables.items()
        }
        if self.name == "duckdb":
            return store_duckdb(self.workdir / f"{ns}.duckdb", arrow)
        if self.name == "postgres":
            assert self.pg is not None
            con = self._pg_admin()
            con.create_database(ns)
            for name, t in arrow.items():
                con.create_table(name, t, database=ns)
            return f"{self.pg.url}?schema={ns}"
        if self.name == "spark":
            assert self.spark is not None
            self.spark.sql(f"CREATE DATABASE IF NOT EXISTS {ns}")
            for name, t in arrow.items():
                df = self.spark.createDataFrame(t)  # Spark 4 takes an Arrow table as is
                df.write.mode("overwrite").saveAsTable(f"{ns}.{name}")
            return f"spark://local[2]?database={ns}"
        raise ValueError(self.name)


def contract_tables(frames: dict[str, Any], tz: str, instants: bool) -> dict[str, Any]:
    """Typed contract frames (as `Source.frame` gives them: naive local wall time) as Arrow tables.

    With `instants`, timestamp columns become UTC instants (timestamptz), the way a database should
    store them (the repeated hour when clocks fall back is read as its first occurrence, as the
    metrics do); dates stay dates. Without, they stay naive local time (what the DuckDB cache holds).
    """
    import pandas as pd
    import pyarrow as pa

    from reportlib.data.contract import TABLES

    types = {"str": pa.string(), "float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(), "date": pa.date32()}
    out = {}
    for name, frame in frames.items():
        arrays, names = [], []
        for col in TABLES[name].columns:
            # an absent column is all null (as the tests' frames leave unspecified columns)
            v = frame[col.name] if col.name in frame else pd.Series([None] * len(frame), dtype=object)
            if col.kind == "timestamp":
                v = pd.to_datetime(v)
                if v.dt.tz is not None:  # instants already: exact, no ambiguity
                    v = v.dt.tz_convert("UTC") if instants else v.dt.tz_convert(tz).dt.tz_localize(None)
                elif instants:
                    v = v.dt.tz_localize(tz, ambiguous=True, nonexistent="shift_forward").dt.tz_convert("UTC")
                arr = pa.array(v, type=pa.timestamp("us", tz="UTC" if instants else None), from_pandas=True)
            elif col.kind == "date":
                arr = pa.array(pd.to_datetime(v).dt.date.where(v.notna(), None), type=types["date"])
            else:
                arr = pa.array(v.astype(object).where(v.notna(), None), type=types[col.kind])
            arrays.append(arr)
            names.append(col.name)
        out[name] = pa.table(arrays, names=names)
    return out


def folder_frames(folder: str | Path, tz: str) -> dict[str, Any]:
    """Every contract table of a data folder, typed by the folder loader."""
    from reportlib.data.load import open_source

    src = open_source(str(folder), tz)
    return {name: src.frame(name) for name in src.tables}


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A throwaway PostgreSQL server for the whole test session (removed at the end)."""
    server = start_pg_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """One local Spark session for the whole test session."""
    spark = start_spark()
    try:
        yield spark
    finally:
        stop_spark(spark)


@pytest.fixture(scope="session", params=ENGINES)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """Each engine in turn (duckdb, postgres, spark); servers start only when a test asks for them."""
    name = request.param
    workdir = tmp_path_factory.mktemp(f"engine-{name}")
    if name == "postgres":
        return Engine(name, workdir, pg=request.getfixturevalue("pg_server"))
    if name == "spark":
        return Engine(name, workdir, spark=request.getfixturevalue("spark_session"))
    return Engine(name, workdir)
