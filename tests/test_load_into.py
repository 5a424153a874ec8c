"""`reportlib load --data DIR --into URL`: the sample operation copied into DuckDB, PostgreSQL and Spark/Parquet.

Real engines only (tests/_engines.py): a throwaway PostgreSQL server, a local Spark session.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _engines import PG_PASSWORD

from reportlib.cli import main
from reportlib.data.load import open_source
from reportlib.planning.sample import sample_data

TZ = "America/New_York"  # parameters/defaults.yaml
TABLES = ("agent_activity", "agents", "clients", "contacts", "interval_plan", "interval_staffing", "qa_evaluations")


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    """`reportlib sample-data --months 2 --agents 20 --clients 5`."""
    folder = tmp_path_factory.mktemp("loadinto") / "sample"
    assert main(["sample-data", "--out", str(folder), "--months", "2", "--agents", "20", "--clients", "5"]) == 0
    return folder


@pytest.fixture(scope="module")
def folder_rows(sample) -> dict[str, int]:
    source = open_source(sample, TZ)
    return {n: len(source.frame(n)) for n in source.tables}


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def _same_kpis(capsys, sample: Path, url: str) -> None:
    """`reportlib validate` passes on `url` and `reportlib kpis` gives the folder's figures from it."""
    status, out, err = _run(capsys, "validate", "--data", url)
    assert status == 0, err
    month = f"{open_source(sample, TZ).frame('contacts')['arrived_at'].min():%Y-%m}"
    args = ["kpis", "--month", month, "--by", "channel,queue", "--format", "json"]
    status, from_folder, err = _run(capsys, *args, "--data", str(sample))
    assert status == 0, err
    status, from_db, err = _run(capsys, *args, "--data", url)
    assert status == 0, err
    assert from_db == from_folder and len(from_folder) > 100


def _contacts_utc(sample: Path) -> pd.DataFrame:
    """The folder's contacts as read by the folder source, arrival as UTC instants (the oracle)."""
    frame = open_source(sample, TZ).frame("contacts")
    frame["arrived_at"] = frame["arrived_at"].dt.tz_localize(TZ, ambiguous=True).dt.tz_convert("UTC")
    return frame.sort_values("contact_id").reset_index(drop=True)


def test_load_into_duckdb(sample, folder_rows, tmp_path, capsys):
    import duckdb

    db = tmp_path / "ops.duckdb"
    status, out, err = _run(capsys, "load", "--data", str(sample), "--into", f"duckdb:///{db}")
    assert status == 0, err
    assert out.startswith(f"loaded 7 tables into duckdb:///{db} in ")
    assert "reportlib: loaded contacts into db table main.contacts: " in err  # progress, one line per table
    assert oct(db.stat().st_mode & 0o777) == oct(0o600)  # a new database file holds the roster: the owner's alone
    con = duckdb.connect(str(db), read_only=True)
    assert sorted(r[0] for r in con.execute("show tables").fetchall()) == sorted(TABLES)
    for name, n in folder_rows.items():
        assert con.execute(f'select count(*) from "{name}"').fetchone()[0] == n
    types = dict(con.execute("select column_name, data_type from information_schema.columns "
                             "where table_name = 'contacts'").fetchall())  # fmt: skip
    assert types["arrived_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["wait_s"] == "DOUBLE" and types["csat"] == "BIGINT" and types["escalated"] == "BOOLEAN"
    agent_types = dict(con.execute("select column_name, data_type from information_schema.columns "
                                   "where table_name = 'agents'").fetchall())  # fmt: skip
    assert agent_types["hire_date"] == "DATE"
    # the instants: the file's offsets (e.g. -04:00 in October, -05:00 after the DST change) as UTC
    con.execute("SET TimeZone = 'UTC'")
    got = con.execute("select contact_id, arrived_at, wait_s from contacts order by contact_id").df()
    want = _contacts_utc(sample)
    assert (got["arrived_at"].dt.tz_convert("UTC") == want["arrived_at"]).all()
    assert got["wait_s"].sum() == want["wait_s"].sum()
    first = pd.read_csv(sample / "contacts.csv", nrows=1)
    assert got["arrived_at"][0] == pd.Timestamp(first["arrived_at"][0]).tz_convert("UTC")
    con.close()
    _same_kpis(capsys, sample, f"duckdb:///{db}")


def test_bad_folder_is_refused_and_nothing_written(sample, tmp_path, capsys):
    bad = tmp_path / "bad"
    shutil.copytree(sample, bad)
    frame = pd.read_csv(bad / "contacts.csv", dtype=str, keep_default_na=False)
    frame.loc[2, "wait_s"] = "-12"
    frame.to_csv(bad / "contacts.csv", index=False)
    db = tmp_path / "never.duckdb"
    status, out, err = _run(capsys, "load", "--data", str(bad), "--into", f"duckdb:///{db}")
    assert status == 1 and out == ""
    assert 'contacts.csv row 4, column wait_s: expected a number >= 0, got "-12"' in err
    assert "nothing was loaded" in err and "Traceback" not in err
    assert not db.exists()


def test_bad_url_is_a_usage_error(sample, capsys):
    status, out, err = _run(capsys, "load", "--data", str(sample), "--into", "mysql://u:pw123@h/db")
    assert status == 2 and "not a database URL" in err and "pw123" not in err
    # as a source too (a probe: read as the folder "mysql:/u:pw123@h/db", "no such folder", password and all)
    for command in (["validate"], ["kpis", "--month", "2026-10"], ["load", "--into", "duckdb:///x.duckdb"]):
        status, out, err = _run(capsys, *command, "--data", "mysql://u:pw123@h/db")
        assert status == 2 and "/db: not a data source reportlib reads" in err and "pw123" not in err, err
    status, _, err = _run(capsys, "load", "--data", str(sample), "--into", "spark://local[2]?path=/x&format=csv")
    assert status == 2 and "format must be parquet or delta" in err


def _pg_tables(pg, schema: str) -> list[str]:
    return pg.psql(f"select tablename from pg_tables where schemaname = '{schema}' order by 1").split()


def test_load_into_postgres_types_counts_indexes(pg_server, sample, folder_rows, capsys, monkeypatch):
    url = f"{pg_server.password_url}?schema=load_ops"
    monkeypatch.setenv("PGPASSWORD", PG_PASSWORD)
    status, out, err = _run(capsys, "load", "--data", str(sample), "--into", url)
    assert status == 0, err
    assert PG_PASSWORD not in out + err
    assert _pg_tables(pg_server, "load_ops") == sorted(TABLES)
    for name, n in folder_rows.items():
        assert int(pg_server.psql(f"select count(*) from load_ops.{name}")) == n
    types = dict(
        line.split("|")
        for line in pg_server.psql(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'load_ops' and table_name = 'contacts'"
        ).split("\n")
        if line
    )
    assert types["arrived_at"] == "timestamp with time zone"
    assert types["wait_s"] == "double precision" and types["csat"] == "bigint" and types["escalated"] == "boolean"
    indexes = pg_server.psql("select indexname || ':' || indexdef from pg_indexes where schemaname = 'load_ops'")
    local = "timezone('America/New_York'::text, {})"  # time columns indexed as the local time reports filter on
    for name, cols in [
        ("contacts__arrived_at", f"({local.format('arrived_at')})"),
        ("contacts__client_id_arrived_at", f"(client_id, {local.format('arrived_at')})"),
        ("contacts__queue_arrived_at", f"(queue, {local.format('arrived_at')})"),
        ("contacts__channel_arrived_at", f"(channel, {local.format('arrived_at')})"),
        ("contacts__contact_id", "(contact_id)"),
        ("interval_plan__interval_start", f"({local.format('interval_start')})"),
    ]:
        assert any(ln.startswith(name + ":") and ln.endswith(cols) for ln in indexes.split("\n")), (name, indexes)
    assert "UNIQUE INDEX contacts__contact_id" in indexes
    # a month's filter as the reports write it (local time from the instants, in the engine) can use the index
    import ibis

    from reportlib.data.warehouse import WarehouseSource

    src = WarehouseSource(url, "America/New_York")
    try:
        t = src.table("contacts")
        month = t.filter((t.arrived_at >= ibis.timestamp("2025-02-01")) & (t.arrived_at < ibis.timestamp("2025-03-01")))
        sql = ibis.to_sql(month.count(), dialect="postgres")
    finally:
        src.close()
    plan = pg_server.psql(f"SET enable_seqscan = off; EXPLAIN {sql}")
    assert "contacts__arrived_at" in plan and "Seq Scan" not in plan, plan
    # instants: the server's own zone is New York, so compare in UTC explicitly
    first = pd.read_csv(sample / "contacts.csv", nrows=1)
    got = pg_server.psql(
        "select to_char(arrived_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') from load_ops.contacts "
        f"where contact_id = '{first['contact_id'][0]}'"
    ).strip()
    assert got == pd.Timestamp(first["arrived_at"][0]).tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S")
    want = _contacts_utc(sample)
    assert float(pg_server.psql("select sum(wait_s) from load_ops.contacts")) == want["wait_s"].sum()
    _same_kpis(capsys, sample, url)


def test_rerun_replaces_and_failed_load_leaves_old_tables(pg_server, sample, tmp_path, capsys):
    url = f"{pg_server.url}?schema=load_rerun"
    assert _run(capsys, "load", "--data", str(sample), "--into", url)[0] == 0
    contacts = int(pg_server.psql("select count(*) from load_rerun.contacts"))
    oid = pg_server.psql("select 'load_rerun.contacts'::regclass::oid").strip()

    # a smaller operation replaces every table; no staging table or index is left behind
    smaller = tmp_path / "smaller"
    sample_data(smaller, start="2026-01", months=1, agents=8, clients=3)
    status, out, err = _run(capsys, "load", "--data", str(smaller), "--into", url)
    assert status == 0, err
    n_small = len(open_source(smaller, TZ).frame("contacts"))
    assert n_small != contacts
    assert int(pg_server.psql("select count(*) from load_rerun.contacts")) == n_small
    assert pg_server.psql("select 'load_rerun.contacts'::regclass::oid").strip() != oid
    assert _pg_tables(pg_server, "load_rerun") == sorted(TABLES)
    assert "reportlib" not in pg_server.psql("select string_agg(indexname, ' ') from pg_indexes "
                                             "where schemaname = 'load_rerun' and indexname like '%reportlib%'")  # fmt: skip

    # a folder that passes the contract but that PostgreSQL refuses part way (a NUL character in a text
    # cell of the last table, from a Parquet file): the load fails, the tables of the previous load stay
    broken = tmp_path / "broken"
    shutil.copytree(sample, broken)
    qa = pd.read_csv(broken / "qa_evaluations.csv", dtype=str, keep_default_na=False)
    qa.loc[0, "contact_id"] = "K\x00bad"
    (broken / "qa_evaluations.csv").unlink()
    pq.write_table(pa.Table.from_pandas(qa.replace("", None), preserve_index=False), broken / "qa_evaluations.parquet")
    status, out, err = _run(capsys, "load", "--data", str(broken), "--into", url)
    assert status == 1 and out == ""
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"reportlib load: cannot load into {url}: ") and "0x00" in last
    assert last.endswith("the tables there are unchanged") and "Traceback" not in err
    assert int(pg_server.psql("select count(*) from load_rerun.contacts")) == n_small
    assert _pg_tables(pg_server, "load_rerun") == sorted(TABLES)


def test_postgres_connection_failures_are_one_line(pg_server, sample, capsys, monkeypatch):
    monkeypatch.setenv("PGPASSFILE", "/nonexistent")
    monkeypatch.setenv("PGPASSWORD", "wrong-" + PG_PASSWORD)
    status, out, err = _run(capsys, "load", "--data", str(sample), "--into", pg_server.password_url)
    assert status == 1 and out == ""
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"reportlib load: cannot connect to {pg_server.password_url}: ")
    assert "password authentication failed" in last
    assert PG_PASSWORD not in err and "Traceback" not in err
    # a password written into the URL is used but never shown
    monkeypatch.delenv("PGPASSWORD")
    secret_url = pg_server.password_url.replace("reportlib_pw@", f"reportlib_pw:{PG_PASSWORD}@") + "?schema=load_inurl"
    status, out, err = _run(capsys, "load", "--data", str(sample), "--into", secret_url)
    assert status == 0, err.replace(PG_PASSWORD, "<pw>")
    assert PG_PASSWORD not in out + err
    assert "reportlib_pw:***@" in out
    # nothing listens there
    from _engines import free_port

    dead = f"postgres://reportlib@127.0.0.1:{free_port()}/reportlib?connect_timeout=5"
    status, out, err = _run(capsys, "load", "--data", str(sample), "--into", dead)
    assert status == 1 and len(err.strip().splitlines()[-1]) < 400
    assert err.strip().splitlines()[-1].startswith(f"reportlib load: cannot connect to {dead}: ")
    assert "Traceback" not in err


def test_load_into_spark_parquet(spark_session, sample, folder_rows, tmp_path, capsys):
    lake = tmp_path / "lake"
    url = f"spark://local[2]?path={lake}&format=parquet"
    status, out, err = _run(capsys, "load", "--data", str(sample), "--into", url)
    assert status == 0, err
    assert sorted(p.name for p in lake.iterdir()) == sorted(TABLES)  # one folder per table, no staging left
    for name, n in folder_rows.items():
        assert spark_session.read.parquet(str(lake / name)).count() == n
    schema = {f.name: f.dataType.simpleString() for f in spark_session.read.parquet(str(lake / "contacts")).schema}
    assert schema["arrived_at"] == "timestamp" and schema["wait_s"] == "double" and schema["csat"] == "bigint"
    agents = {f.name: f.dataType.simpleString() for f in spark_session.read.parquet(str(lake / "agents")).schema}
    assert agents["hire_date"] == "date"
    # the Parquet files hold UTC instants, readable by other engines too
    arrived = pq.read_table(lake / "contacts", columns=["contact_id", "arrived_at"]).to_pandas()
    arrived = arrived.sort_values("contact_id").reset_index(drop=True)
    assert (arrived["arrived_at"].dt.tz_convert("UTC") == _contacts_utc(sample)["arrived_at"]).all()
    _same_kpis(capsys, sample, url)  # read back by the Spark source: valid, the folder's figures
    # a rerun replaces the folders
    smaller = tmp_path / "smaller"
    sample_data(smaller, start="2026-01", months=1, agents=8, clients=3)
    assert _run(capsys, "load", "--data", str(smaller), "--into", url)[0] == 0
    n_small = len(open_source(smaller, TZ).frame("contacts"))
    assert spark_session.read.parquet(str(lake / "contacts")).count() == n_small
    assert sorted(p.name for p in lake.iterdir()) == sorted(TABLES)


def test_load_into_spark_catalog(spark_session, sample, folder_rows, capsys):
    url = "spark://local[2]?database=loaded"
    status, out, err = _run(capsys, "load", "--data", str(sample), "--into", url)
    assert status == 0, err
    assert out.startswith(f"loaded 7 tables into {url} in ")
    names = sorted(t.name for t in spark_session.catalog.listTables("loaded") if not t.isTemporary)
    assert names == sorted(TABLES)  # the staging tables renamed over, none left
    for name, n in folder_rows.items():
        assert spark_session.table(f"loaded.{name}").count() == n
    assert spark_session.table("loaded.contacts").schema["arrived_at"].dataType.simpleString() == "timestamp"
    status, _, err = _run(capsys, "validate", "--data", url)
    assert status == 0, err


def test_local_wall_times_become_utc_instants_like_zoneinfo():
    """Naive local times to UTC: ordinary, the repeated autumn hour (first reading) and the spring gap
    (offset before the change), each checked against Python's zoneinfo with fold=0 (a second method)."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from reportlib.data.load_into import local_to_utc

    walls = [
        datetime(2025, 1, 15, 10, 0),  # EST
        datetime(2025, 7, 15, 10, 0),  # EDT
        datetime(2025, 11, 2, 1, 30),  # repeated hour: 05:30 UTC (EDT) first, 06:30 UTC (EST) second
        datetime(2025, 3, 9, 2, 30),  # no clock shows it: with EST's offset, 07:30 UTC
        None,
    ]
    utc, gaps = local_to_utc(pa.array(walls, pa.timestamp("us")), TZ)
    zone = ZoneInfo(TZ)
    want = [w.replace(tzinfo=zone).astimezone(UTC) if w else None for w in walls]
    assert utc.to_pylist() == want
    assert [w.strftime("%H:%M") for w in want[:4]] == ["15:00", "14:00", "05:30", "07:30"]
    assert gaps == 1


def test_a_workbook_stopped_mid_query_on_postgres_leaves_the_next_one_a_working_source(
    pg_server, sample, tmp_path, capsys
):
    """The run's time limit stops a workbook inside a PostgreSQL query (run.build_workbooks' alarm); psycopg's
    connection is then still busy ("another command is already in progress"), so the next workbook of the task
    gets the source opened afresh: it is built, or stopped by the same limit, never failed by the old connection."""
    from reportlib.delivery.run import build_workbooks

    url = f"{pg_server.url}?schema=load_wb"
    assert _run(capsys, "load", "--data", str(sample), "--into", url)[0] == 0
    month = pd.read_csv(sample / "contacts.csv", usecols=["arrived_at"])["arrived_at"].str[:7].max()
    items = [
        {"client_id": None, "client_name": None, "name": f"month_{month}.xlsx"},
        {"client_id": "C001", "client_name": None, "name": "client_C001.xlsx"},
        {"client_id": "C002", "client_name": None, "name": "client_C002.xlsx"},
    ]
    task = {"month": month, "data": url, "params_file": None, "tmp": str(tmp_path), "items": items, "timeout": 0.3}
    first, *rest = build_workbooks(task)
    limit = "building the workbook timed out after 0.3 s; raise --timeout or parameters schedule.timeout_s"
    assert first["status"] == "failed" and first["error"] == limit
    for res in rest:
        assert res["status"] == "ok" or res["error"] == limit, res["error"]
    assert sorted(p.name for p in tmp_path.glob("*.xlsx")) == sorted(r["name"] for r in rest if r["status"] == "ok")
