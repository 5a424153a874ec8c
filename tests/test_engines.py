"""The engine fixtures themselves: a real PostgreSQL server (trust and password roles) and Spark."""

from __future__ import annotations

import pyarrow as pa
import pytest
from _engines import PG_PASSWORD


def test_pg_server_trust_and_password(pg_server, monkeypatch):
    import psycopg

    with psycopg.connect(pg_server.url.replace("postgres://", "postgresql://")) as c:
        assert c.execute("select current_user").fetchone()[0] == "reportlib"
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent")
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(pg_server.password_url, connect_timeout=5).close()
    monkeypatch.setenv("PGPASSWORD", PG_PASSWORD)
    with psycopg.connect(pg_server.password_url) as c:
        assert c.execute("select current_user").fetchone()[0] == "reportlib_pw"
    # the server's own default zone is not UTC, so code that forgets the time zone shows it
    assert pg_server.psql("show timezone").strip() == "America/New_York"


def test_engine_load_round_trip(engine):
    import ibis

    t = pa.table({"k": ["a", "b"], "v": [1.5, 2.5]})
    url = engine.load({"things": t}, "roundtrip")
    assert url.split(":")[0] in {"duckdb", "postgres", "spark"}
    if engine.name == "duckdb":
        con = ibis.connect(url)
        assert con.table("things").v.sum().execute() == 4.0
    elif engine.name == "postgres":
        con = ibis.connect(engine.pg.url.replace("postgres://", "postgresql://"))
        assert con.table("things", database=url.split("schema=")[1]).v.sum().execute() == 4.0
    else:
        assert engine.spark.table(url.split("database=")[1] + ".things").count() == 2
