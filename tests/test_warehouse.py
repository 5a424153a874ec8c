"""WarehouseSource on a real PostgreSQL server: URLs, credentials, redaction, contract checks, mapping,
client views; and the URL forms of Spark (parsing only; Spark itself runs in test_engine_parity)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import yaml
from _engines import PG_PASSWORD, contract_tables

from reportlib.core.errors import DataError, MissingTableError, ReportlibError, UsageError
from reportlib.core.params import data_location
from reportlib.core.safety import redact_passwords, split_password
from reportlib.data.source import DataSource
from reportlib.data.warehouse import WarehouseSource, is_warehouse_url, parse_url

ROOT = Path(__file__).resolve().parent.parent
TZ = "America/New_York"


def _contacts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "contact_id": ["k1", "k2", "k3", "k4"],
            "channel": ["phone", "phone", "chat", "phone"],
            "queue": ["Q", "Q", "Q", "R"],
            "client_id": ["C1", "C1", "C2", "C2"],
            "arrived_at": pd.to_datetime(
                ["2025-01-31 23:30", "2025-02-01 00:30", "2025-02-01 09:00", "2025-02-02 10:00"]
            ),
            "outcome": ["handled", "abandoned", "handled", "handled"],
            "wait_s": [10.0, 40.0, 5.0, 1.0],
            "handle_s": [100.0, None, 200.0, 300.0],
            "agent_id": ["a1", None, "a2", "a1"],
            "csat": pd.array([5, None, 3, None], dtype="Int64"),
        }
    )


def _agents() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "agent_id": ["a1", "a2"],
            "name": ["Ann", "Bo"],
            "team": ["T", "T"],
            "role": ["agent", "agent"],
            "hire_date": pd.to_datetime(["2024-01-01", "2024-06-01"]),
            "fte": [1.0, 0.5],
        }
    )


def _clients() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "client_id": ["C1", "C2"],
            "client_name": ["Acme", "Beta"],
            "tier": ["a", "b"],
            "sla_profile": ["gold", "silver"],
            "monthly_fee": [1000.0, 500.0],
        }
    )


@pytest.fixture(scope="module")
def pg(pg_server):
    """The server with schema `ops` (contacts, agents, clients as UTC instants) and `crm.calls_v`."""
    import ibis

    con = ibis.connect(pg_server.url.replace("postgres://", "postgresql://", 1))
    frames = {"contacts": _contacts(), "agents": _agents(), "clients": _clients()}
    con.create_database("ops")
    for name, t in contract_tables(frames, TZ, instants=True).items():
        con.create_table(name, t, database="ops")
    con.create_database("crm")
    con.raw_sql("CREATE VIEW crm.calls_v AS SELECT * FROM ops.contacts")
    con.raw_sql("CREATE MATERIALIZED VIEW crm.calls_mv AS SELECT * FROM ops.contacts")
    con.create_database("bad")
    bad = contract_tables({"contacts": _contacts()}, TZ, instants=True)["contacts"]
    bad = bad.set_column(bad.schema.get_field_index("wait_s"), "wait_s", pa.array(["10", "40", "5", "1"]))
    con.create_table("contacts", bad.drop_columns(["queue"]), database="bad")
    con.disconnect()
    pg_server.psql(
        "GRANT USAGE ON SCHEMA ops TO reportlib_pw; GRANT SELECT ON ALL TABLES IN SCHEMA ops TO reportlib_pw"
    )
    return pg_server


def test_url_forms_and_redaction():
    u = parse_url("postgresql://bob:p%40ss@db.example.com:6543/ops?schema=support&sslmode=require")
    assert (u.engine, u.user, u.password, u.host, u.port, u.database, u.schema) == (
        "postgres",
        "bob",
        "p@ss",
        "db.example.com",
        6543,
        "ops",
        "support",
    )
    assert u.options == {"sslmode": "require"} and "p%40ss" not in u.shown and "***" in u.shown
    assert parse_url("postgres://bob@h/db").port == 5432
    assert parse_url("spark://local[4]?database=lake").master == "local[4]"
    assert parse_url("spark://local").master == "local"
    s = parse_url("spark://master.example.com:7077?path=s3a://b/x&format=delta")
    assert (s.master, s.path, s.format) == ("spark://master.example.com:7077", "s3a://b/x", "delta")
    for bad in ("postgres://h", "postgres://bob@h/db?shema=x", "spark://local?format=csv", "spark://what now"):
        with pytest.raises(UsageError):
            parse_url(bad)
    with pytest.raises(UsageError, match=r"\*\*\*") as e:
        parse_url("postgres://bob:hunter2@h/db?nope=1")
    assert "hunter2" not in str(e.value)
    assert is_warehouse_url("postgres://x@h/d") and not is_warehouse_url("duckdb:///x") and not is_warehouse_url("data")
    assert redact_passwords("failed: postgresql://u:hunter2@h/db (hunter2)", "hunter2").count("hunter2") == 0
    assert split_password("postgres://u:a%2Fb@h/db") == ("postgres://u@h/db", "a/b")


@pytest.mark.parametrize(
    "url",
    [
        "postgres://bob@h/db?password=hunter2",  # libpq's own query-string form
        "postgres://bob@h/db?sslmode=require&sslpassword=hunter2",
        "postgres://bob:hun/ter2@h/db",  # a password written without percent-encoding its / ? #
        "postgres://bob:hun?ter2@h/db",
        "postgres://bob:hun#ter2@h/db",
        "postgresql://bob:a@b/hunter2@h:5432/db?schema=x",
        "postgres://bob:hun@ter2?x@h:5432/db",  # an @ and then a ? in the password (a probe: "ter2?x" was shown)
        "postgres://bob:P@hun/ter2#?%x@h:5432/db",
    ],
)
def test_a_password_in_any_form_of_url_is_never_shown(url, monkeypatch):
    """A URL the parser refuses still names itself in the message: its password, in whatever form it was
    written, is never part of that message, of `redact_passwords` or of the CLI's output."""
    monkeypatch.setenv("PGPASSWORD", "restored-after-the-test")  # data_location sets it
    pieces = ["hunter2"] if "hunter2" in url else ["hun", "ter2"]
    shown = redact_passwords(f"cannot use {url}: refused")
    assert not any(p in shown for p in pieces) and "***" in shown and shown.endswith(": refused"), shown
    try:
        got = parse_url(url).shown
    except UsageError as exc:
        got = str(exc)
    assert not any(p in got for p in pieces), got
    try:
        got = data_location({}, url)
    except UsageError as exc:
        got = str(exc)
    assert not any(p in got for p in pieces), got
    r = subprocess.run(
        [sys.executable, "-m", "reportlib", "validate", "--data", url],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT), "PGCONNECT_TIMEOUT": "2"},
        timeout=120,
    )
    assert r.returncode in (1, 2) and not any(p in r.stdout + r.stderr for p in pieces), r.stderr
    assert "Traceback" not in r.stderr
    # a URL without a password loses nothing but a password
    assert redact_passwords("postgres://bob@h:5432/db?schema=x") == "postgres://bob@h:5432/db?schema=x"
    assert redact_passwords("spark://local[2]?path=/lake/a@b") == "spark://local[2]?path=/lake/a@b"
    for fine in (
        "postgres://bob@h:5432/db?application_name=a@b",
        "spark://m.example.com:7077?path=abfss://c@acct.dfs.core.windows.net/lake&format=delta",
        "duckdb:///srv/me@corp/store.duckdb",
    ):
        assert data_location({}, fine) == fine and redact_passwords(fine) == fine
    # a password typed with a # (parse_url reads it to the authority's last @) is taken out, not shown
    assert data_location({}, "postgres://bob:a#b@h/db") == "postgres://bob@h/db"
    assert __import__("os").environ["PGPASSWORD"] == "a#b"


def test_a_password_in_the_parameters_data_is_refused(monkeypatch):
    """Credentials come from the environment, never from a file: `data:` in a parameter file holding a
    password is a usage error that does not show it (on the command line it is moved to PGPASSWORD)."""
    monkeypatch.setenv("PGPASSWORD", "kept")
    with pytest.raises(UsageError, match="PGPASSWORD") as e:
        data_location({"data": "postgres://bob:hunter2@h:5432/db?schema=x"})
    assert "hunter2" not in str(e.value) and "postgres://bob@h:5432/db?schema=x" in str(e.value)
    assert __import__("os").environ["PGPASSWORD"] == "kept"
    assert data_location({"data": "postgres://bob@h:5432/db"}) == "postgres://bob@h:5432/db"


def test_password_from_pgpassword_and_never_printed(pg, monkeypatch, capsys):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent")
    url = f"{pg.password_url}?schema=ops"
    with pytest.raises(ReportlibError, match="password") as e:
        WarehouseSource(url, TZ)
    assert "cannot connect" in str(e.value)
    monkeypatch.setenv("PGPASSWORD", PG_PASSWORD)
    src = WarehouseSource(url, TZ)
    assert src.table("contacts").count().execute() == 4
    src.close()
    # a password in the URL: accepted, the location and every message carry *** instead
    monkeypatch.delenv("PGPASSWORD")
    with_pw = url.replace("reportlib_pw@", f"reportlib_pw:{PG_PASSWORD}@")
    src = WarehouseSource(with_pw, TZ)
    assert PG_PASSWORD not in src.location and "***" in src.location
    with pytest.raises(MissingTableError) as e:
        src.require("intervals")
    assert PG_PASSWORD not in str(e.value)
    src.close()
    wrong = with_pw.replace(PG_PASSWORD, "not-" + PG_PASSWORD)
    with pytest.raises(ReportlibError) as e:
        WarehouseSource(wrong, TZ)
    assert PG_PASSWORD not in str(e.value)
    # data_location moves a URL's password to PGPASSWORD for the run and its kernels
    loc = data_location({}, with_pw)
    assert PG_PASSWORD not in loc and __import__("os").environ["PGPASSWORD"] == PG_PASSWORD
    # the CLI: validate and kpis print nothing of it, on success or failure
    env = {k: v for k, v in __import__("os").environ.items() if k != "PGPASSWORD"}
    env["PYTHONPATH"] = str(ROOT)
    for args in (["validate"], ["kpis", "--month", "2025-02"], ["kpis", "--month", "1999-01"]):
        r = subprocess.run(
            [sys.executable, "-m", "reportlib", *args, "--data", with_pw],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert PG_PASSWORD not in r.stdout + r.stderr, args
        assert "Traceback" not in r.stderr, r.stderr[-2000:]
    monkeypatch.delenv("PGPASSWORD", raising=False)


def test_a_role_that_may_not_read_is_told_so(pg):
    """A probe: a role without SELECT on agents was told "agents: required table is missing" (PostgreSQL lists only
    what a role may read), and one without SELECT on a column of contacts "failed unexpectedly ... please report
    it". The first names the grant it may lack; the second is the database's refusal in one line, exit 1."""
    pg.psql(
        "CREATE SCHEMA priv; CREATE TABLE priv.contacts AS SELECT * FROM ops.contacts; "
        "CREATE TABLE priv.agents AS SELECT * FROM ops.agents; CREATE TABLE priv.clients AS SELECT * FROM ops.clients;"
        " GRANT USAGE ON SCHEMA priv TO reportlib_pw; GRANT SELECT ON priv.contacts, priv.clients TO reportlib_pw"
    )
    env = {**__import__("os").environ, "PGPASSWORD": PG_PASSWORD, "PYTHONPATH": str(ROOT)}

    def validate() -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "reportlib", "validate", "--data", f"{pg.password_url}?schema=priv"]
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)

    r = validate()
    assert r.returncode == 1 and "error: agents: required table is missing; expected a table agents in " in r.stdout
    assert "(if it is there, the role reportlib_pw cannot read it: GRANT SELECT on it)" in r.stdout
    cols = pg.psql(
        "SELECT string_agg(quote_ident(column_name), ',') FROM information_schema.columns "
        "WHERE table_schema = 'priv' AND table_name = 'contacts' AND column_name <> 'queue'"
    ).strip()
    pg.psql(f"GRANT SELECT ON priv.agents TO reportlib_pw; REVOKE SELECT ON priv.contacts FROM reportlib_pw; "
            f"GRANT SELECT ({cols}) ON priv.contacts TO reportlib_pw")  # fmt: skip
    r = validate()
    assert r.returncode == 1 and "unexpectedly" not in r.stderr and "Traceback" not in r.stderr, r.stderr
    last = r.stderr.strip().splitlines()[-1]  # after the progress lines
    assert last.startswith("reportlib validate: the database refused a read: ") and "permission denied" in last
    assert r.stderr.rstrip().endswith("the role needs SELECT on every table and column of the contract it holds "
                                      "(docs/databases.md)")  # fmt: skip


def test_tables_typed_and_instants_in_local_time(pg):
    src = WarehouseSource(f"{pg.url}?schema=ops", TZ)
    assert isinstance(src, DataSource)
    assert src.tables == ["agents", "clients", "contacts"] and src.has("contacts") and not src.has("intervals")
    t = src.table("contacts")
    assert list(t.columns)[:5] == ["contact_id", "channel", "queue", "client_id", "arrived_at"]
    assert str(t.schema()["arrived_at"]) == "timestamp" and str(t.schema()["csat"]) == "int64"
    got = t.order_by("contact_id").arrived_at.to_pandas().tolist()
    assert [pd.Timestamp(x) for x in got] == list(_contacts()["arrived_at"])  # local wall time again
    # an absent optional column is a typed null column
    assert t.reason.isnull().all().execute()
    agents = src.frame("agents")
    assert str(agents["hire_date"].dtype) == "datetime64[us]" and agents["fte"].tolist() == [1.0, 0.5]
    assert src.validate() == ([], [])
    fp = src.fingerprint
    assert len(fp) == 16 and fp == WarehouseSource(f"{pg.url}?schema=ops", TZ).fingerprint
    src.close()


def test_client_view_narrows_in_the_engine(pg):
    src = WarehouseSource(f"{pg.url}?schema=ops", TZ)
    view = src.for_client("C2")
    assert view.parent is src and view.client_id == "C2"
    assert set(view.table("contacts").client_id.to_pandas()) == {"C2"}
    assert view.table("contacts").count().execute() == 2
    assert view.frame("clients")["client_id"].tolist() == ["C2"]
    with pytest.raises(ReportlibError):
        view.for_client("C1")
    src.close()


def test_mapping_and_contract_problems(pg):
    src = WarehouseSource(f"{pg.url}?schema=ops", TZ, tables={"contacts": "crm.calls_v"})
    assert src.file_name("contacts") == "contacts (table crm.calls_v)"
    assert src.table("contacts").count().execute() == 4
    src.close()
    src = WarehouseSource(f"{pg.url}?schema=ops", TZ, tables={"contacts": "crm.calls_mv"})  # a materialized view
    assert src.table("contacts").count().execute() == 4
    src.close()
    for where in ({"schema": "nope"}, {"tables": {"contacts": "nope.calls"}}):
        with pytest.raises(ReportlibError, match="the database has no schema 'nope'"):
            WarehouseSource(f"{pg.url}?schema={where.get('schema', 'ops')}", TZ, tables=where.get("tables"))
    with pytest.raises(ReportlibError, match="intervals -> ops.nothing"):
        WarehouseSource(f"{pg.url}?schema=ops", TZ, tables={"intervals": "ops.nothing"})
    with pytest.raises(UsageError, match="contactz"):
        WarehouseSource(f"{pg.url}?schema=ops", TZ, tables={"contactz": "x"})
    bad = WarehouseSource(f"{pg.url}?schema=bad", TZ)
    errors, _ = bad.validate()
    assert any("agents: required table is missing" in e for e in errors), errors
    # with the columns found, as a folder's message names them (a probe: a misspelt handle_sec was not shown)
    assert any("missing required column: queue (found: contact_id, " in e for e in errors), errors
    assert any("column wait_s" in e and "float" in e and "string" in e for e in errors), errors
    with pytest.raises(DataError, match="queue"):
        bad.table("contacts")
    bad.close()
    r = subprocess.run(
        [sys.executable, "-m", "reportlib", "validate", "--data", f"{pg.url}?schema=bad"],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    assert r.returncode == 1 and "Traceback" not in r.stderr and "wait_s" in r.stdout + r.stderr


def test_unreachable_server_is_one_line(tmp_path):
    from _engines import free_port

    r = subprocess.run(
        [sys.executable, "-m", "reportlib", "validate", "--data", f"postgres://x:pw123@127.0.0.1:{free_port()}/db"],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    assert r.returncode == 1, r.stderr
    assert "cannot connect" in r.stderr and "Traceback" not in r.stderr and "pw123" not in r.stderr


@pytest.mark.parametrize("tables", ["contacts", ["contacts"], {"contacts": None}, {"contacts": 5}, {"contacts": " "}])
def test_a_malformed_tables_mapping_is_a_usage_error_before_connecting(tables, tmp_path, capsys):
    """`tables` as a string, a list, or with an empty or non-text name: one line naming the parameter, exit 2 (no
    server is asked: the port is closed)."""
    from reportlib.cli import main
    from reportlib.data.load import open_source

    with pytest.raises(UsageError, match="parameter tables must map contract table names"):
        open_source("postgres://nobody@127.0.0.1:1/db", "UTC", tables)
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump({"data": "postgres://nobody@127.0.0.1:1/db", "tables": tables}))
    assert main(["validate", "--params", str(params)]) == 2
    err = capsys.readouterr().err
    assert "parameter tables must map" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_tables_mapping_is_for_a_warehouse_and_said_unused_elsewhere(tmp_path, capsys):
    """A probe: `tables: {contacts: calls}` with a duckdb:/// source exited 0 and read the file's `contacts` table
    without a word; a review: refused, it stopped a warehouse's parameters used with --data FOLDER. The mapping is
    for PostgreSQL and Spark: given to open_source for a folder or a DuckDB file it is refused; from parameters it
    is said unused, once, and the source is read by the contract's names."""
    from reportlib.cli import main
    from reportlib.data.cache import _warned
    from reportlib.data.load import open_source, source_tables

    for data in (str(tmp_path), f"duckdb:///{tmp_path / 'store.duckdb'}"):
        with pytest.raises(UsageError, match="applies to postgres:// and spark:// sources"):
            open_source(data, "UTC", {"contacts": "calls"})
        _warned.clear()
        params = tmp_path / "p.yaml"
        params.write_text(yaml.safe_dump({"data": data, "tables": {"contacts": "calls"}}))
        assert main(["validate", "--params", str(params)]) == 1  # on to the data: none there
        err = capsys.readouterr().err
        assert (
            f"applies to postgres:// and spark:// sources; a folder or a duckdb:/// file is read by the contract's names (contacts.csv, the table contacts); {data} is read so"
            in err
        )
        assert "Traceback" not in err
    mapping = {"contacts": "crm.calls"}
    assert source_tables({"tables": mapping}, "postgres://u@h/db") == mapping
    assert source_tables({"tables": mapping}, str(tmp_path)) is None and source_tables({}, "spark://x") is None


def test_the_workbooks_read_the_mapped_tables(pg, tmp_path):
    """A review: the run's workbooks opened the source without the parameters' `tables` mapping, so a warehouse
    whose tables have other names gave workbooks of the contract's names (or none). In schema `crm` only the
    mapped view holds contacts: the month's and a client's workbook are built from it."""
    from reportlib.delivery.run import build_workbooks

    params = tmp_path / "p.yaml"
    params.write_text(
        yaml.safe_dump({"tables": {"contacts": "crm.calls_v", "agents": "ops.agents", "clients": "ops.clients"}})
    )
    task = {
        "tmp": str(tmp_path),
        "params_file": str(params),
        "data": f"{pg.url}?schema=crm",
        "month": "2025-02",
        "items": [
            {"client_id": None, "client_name": None, "name": "month_2025-02.xlsx"},
            {"client_id": "C2", "client_name": "Beta", "name": "client_review_C2.xlsx"},
        ],
    }
    results = build_workbooks(task)
    assert [r["status"] for r in results] == ["ok", "ok"], [r["error"] for r in results]
    assert all(Path(r["xlsx"]).is_file() for r in results)
    # from the mapped view (the contract's names alone gave two workbooks without a sheet)
    assert "By channel" in results[0]["sheets"] and "Answered in time" in results[1]["sheets"]
