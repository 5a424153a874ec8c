"""A database source held open in a process (a JupyterLab kernel) serves again only while the database is as it
was: reused, with what it remembered, while nothing changed; opened afresh when rows are added, a value is
updated in place (same count, same latest time), a table appears; inside a `reportlib run` reused as it is.
On a real PostgreSQL server and Spark local (catalog tables, and Parquet folders written from outside Spark)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from _engines import contract_tables

from reportlib.data.cache import SHARED_MEMO_ENV
from reportlib.data.load import open_source

TZ = "America/New_York"
KINDS = ("postgres", "postgres partitioned", "postgres view", "spark catalog", "spark folder")


def _contacts(wait_k2: float = 40.0, extra: bool = False) -> pd.DataFrame:
    rows = {
        "contact_id": ["k1", "k2", "k3"],
        "channel": ["phone", "phone", "chat"],
        "queue": ["Q", "Q", "Q"],
        "client_id": ["C1", "C1", "C2"],
        "arrived_at": pd.to_datetime(["2025-02-01 08:30", "2025-02-01 09:30", "2025-02-02 10:00"]),
        "outcome": ["handled", "abandoned", "handled"],
        "wait_s": [10.0, wait_k2, 5.0],
        "handle_s": [100.0, None, 200.0],
    }
    frame = pd.DataFrame(rows)
    if extra:  # one more contact, earlier than the latest: the count changes, the latest time does not
        more = frame.iloc[[0]].assign(contact_id="k0", arrived_at=pd.Timestamp("2025-01-31 12:00"), wait_s=1.0)
        frame = pd.concat([frame, more], ignore_index=True)
    return frame


class _Store:
    """One kind of database holding a contacts table, and a way to change it from outside the source."""

    def __init__(self, kind: str, request: pytest.FixtureRequest, tmp: Path):
        self.kind = kind
        self.tmp = tmp
        self.tables: dict[str, str] = {}
        if kind.startswith("postgres"):
            self.pg = request.getfixturevalue("pg_server")
            self.schema = f"reuse_{os.getpid()}_{time.monotonic_ns() % 10**9}"
            self.pg.psql(f"CREATE SCHEMA {self.schema}")
            self.url = f"{self.pg.url}?schema={self.schema}"
            if kind == "postgres view":  # contacts read through a view of a view, as a company's mapping may
                self.tables = {"contacts": f"{self.schema}_v.contacts_v"}
        else:
            self.spark = request.getfixturevalue("spark_session")
            if kind == "spark catalog":
                self.db = f"reuse_{time.monotonic_ns() % 10**9}"
                self.spark.sql(f"CREATE DATABASE {self.db}")
                self.url = f"spark://local[2]?database={self.db}"
            else:
                (tmp / "contacts").mkdir()
                self.url = f"spark://local[2]?path={tmp}&format=parquet"

    def write(self, frame: pd.DataFrame, table: str = "contacts") -> None:
        """Replace the table's content (PostgreSQL: emptied and filled again, from another connection)."""
        arrow = contract_tables({table: frame}, TZ, instants=True)[table]
        if self.kind.startswith("postgres"):
            import ibis

            con = ibis.connect(self.pg.url.replace("postgres://", "postgresql://", 1))
            try:
                if table in con.list_tables(database=self.schema):
                    self.pg.psql(f"TRUNCATE {self.schema}.{table}")
                    con.insert(table, arrow, database=self.schema)
                elif self.kind == "postgres partitioned" and table == "contacts":  # one partition per day or so
                    con.create_table("staged", arrow, database=self.schema)
                    t = f"{self.schema}.{table}"
                    self.pg.psql(
                        f"CREATE TABLE {t} (LIKE {self.schema}.staged) PARTITION BY RANGE (arrived_at); "
                        f"CREATE TABLE {t}_a PARTITION OF {t} FOR VALUES FROM (MINVALUE) TO ('2025-02-01 12:00+00'); "
                        f"CREATE TABLE {t}_b PARTITION OF {t} FOR VALUES FROM ('2025-02-01 12:00+00') TO (MAXVALUE); "
                        f"INSERT INTO {t} SELECT * FROM {self.schema}.staged; DROP TABLE {self.schema}.staged"
                    )
                else:
                    con.create_table(table, arrow, database=self.schema)
                    if table in self.tables:
                        v = f"{self.schema}_v"
                        self.pg.psql(
                            f"CREATE SCHEMA {v}; CREATE VIEW {v}.inner_v AS SELECT * FROM {self.schema}.{table}; "
                            f"CREATE VIEW {v}.contacts_v AS SELECT * FROM {v}.inner_v"
                        )
            finally:
                con.disconnect()
        elif self.kind == "spark catalog":
            self.spark.createDataFrame(arrow).write.mode("overwrite").saveAsTable(f"{self.db}.{table}")
        else:  # files written by another program, as an export job would
            folder = self.tmp / table
            folder.mkdir(exist_ok=True)
            for old in folder.glob("*.parquet"):
                old.unlink()
            pq.write_table(arrow, folder / f"part-{time.monotonic_ns()}.parquet")

    def open(self):
        """open_source on the store, as a notebook calls it."""
        return open_source(self.url, TZ, self.tables or None)

    def update_wait(self, contact_id: str, wait: float) -> None:
        """One value changed in place: same rows, same latest time. PostgreSQL: by a session that stays open and
        idle after two commits within a second (its statistics counters then reach the server ~10 s later)."""
        if self.kind.startswith("postgres"):
            import psycopg

            self._writer = psycopg.connect(self.pg.url.replace("postgres://", "postgresql://", 1), autocommit=True)
            self._writer.execute(f"CREATE TABLE IF NOT EXISTS {self.schema}.other (x int)")
            self._writer.execute(f"INSERT INTO {self.schema}.other VALUES (1)")
            self._writer.execute(f"UPDATE {self.schema}.contacts SET wait_s = {wait} WHERE contact_id = '{contact_id}'")
        else:
            self.write(_contacts(wait_k2=wait))

    @property
    def immediate(self) -> bool:
        """Whether a change is seen at the next opening (a mapped view's are seen through its tables'
        statistics counters, which reach the server up to ~10 s after a commit)."""
        return self.kind != "postgres view"


def _waits(src) -> float:
    """A remembered figure: the contacts' total wait, seconds."""
    return src.memo(("total wait",), lambda: float(src.table("contacts").wait_s.sum().execute()))


def _reopened(store: _Store, held, seconds: float = 20.0):
    """open_source until it gives another source than `held`: at once, or within `seconds` where the change is
    seen through statistics counters (a mapped view)."""
    end = time.monotonic() + (seconds if not store.immediate else 0.0)
    while True:
        src = store.open()
        if src is not held:
            return src
        if time.monotonic() > end:
            pytest.fail(f"the source was still reused {seconds:g} s after the database changed")
        time.sleep(0.2)


@pytest.mark.parametrize("kind", KINDS)
def test_a_kernel_never_serves_figures_older_than_the_database(kind, request, tmp_path, monkeypatch):
    monkeypatch.delenv(SHARED_MEMO_ENV, raising=False)
    store = _Store(kind, request, tmp_path)
    store.write(_contacts())
    second = store.open()
    assert _waits(second) == 55.0
    assert store.open() is second  # nothing changed: the same source and what it remembered

    store.update_wait("k2", 400.0)  # in place: the count and the latest time stay
    third = _reopened(store, second)
    assert _waits(third) == 415.0
    assert store.open() is third

    store.write(_contacts(wait_k2=400.0, extra=True))  # a row added
    fourth = _reopened(store, third)
    assert _waits(fourth) == 416.0
    assert not fourth.has("agents")

    store.write(pd.DataFrame({"agent_id": ["a1"], "name": ["Ann"], "team": ["T"]}), "agents")  # a table appears
    fifth = _reopened(store, fourth)
    assert fifth.has("agents") and _waits(fifth) == 416.0


@pytest.mark.parametrize("kind", KINDS[:2])
def test_inside_a_run_the_source_is_reused_as_it_is(kind, request, tmp_path, monkeypatch):
    """A run reads one state of the database: its processes reuse the source without asking again."""
    store = _Store(kind, request, tmp_path)
    store.write(_contacts())
    shared = tmp_path / "memo"
    shared.mkdir(mode=0o700)
    monkeypatch.setenv(SHARED_MEMO_ENV, str(shared))
    first = store.open()
    assert _waits(first) == 55.0
    store.write(_contacts(extra=True))
    assert store.open() is first
    assert _waits(first) == 55.0
    monkeypatch.delenv(SHARED_MEMO_ENV)  # outside the run again: the change is seen
    assert _waits(_reopened(store, first)) == 56.0


@pytest.mark.parametrize("kind", ("postgres", "spark folder"))
def test_a_source_opened_afresh_replaces_the_old_and_leaves_spark_running(kind, request, tmp_path, monkeypatch):
    """After a workbook's time limit the run opens its source afresh (run.build_workbooks): the old connection
    is closed, a Spark session is left running for the rest of the worker (closing ibis's Spark backend would
    stop it), and the new source answers."""
    monkeypatch.delenv(SHARED_MEMO_ENV, raising=False)
    store = _Store(kind, request, tmp_path)
    store.write(_contacts())
    old = store.open()
    assert _waits(old) == 55.0
    new = open_source(store.url, TZ, afresh=True)
    assert new is not old and _waits(new) == 55.0
    if kind == "postgres":
        with pytest.raises(Exception, match="(?i)closed"):
            old.con.raw_sql("SELECT 1")
    else:
        from pyspark.sql import SparkSession

        assert SparkSession.getActiveSession() is store.spark
        assert store.spark.range(3).count() == 3
