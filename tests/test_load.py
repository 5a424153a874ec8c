"""Loaders: file formats, delimiters, BOM, CRLF, time zones and DST, the cache, duckdb:// sources."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import ibis
import pandas as pd
import pytest

from reportlib.cli import main
from reportlib.data.load import is_database, open_source
from reportlib.data.load_into import parse_target

AGENTS = "agent_id,name,team,hire_date\nA1,Ann Lee,Team 1,2024-01-01\nA2,Bo Chan,Team 1,2024-02-01\n"
CLIENTS = "client_id,client_name,sla_profile\nC1,Acme,gold\n"
CONTACTS_HEADER = "contact_id,channel,queue,client_id,arrived_at,outcome,wait_s,handle_s,agent_id,csat,escalated"
CONTACT_ROWS = [
    "k1,phone,Benefits,C1,2025-01-31T23:59:00-05:00,handled,10,300,A1,5,false",
    "k2,phone,Benefits,C1,2025-02-01T04:59:00Z,abandoned,40,,,,",
    "k3,chat,Accounts,C1,2025-02-01T00:00:00,handled,3.5,200,A2,4,true",
]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))


def write(folder: Path, name: str, text: str, *, sep: str = ",", bom: bool = False, crlf: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if sep != ",":
        text = text.replace(",", sep)
    if crlf:
        text = text.replace("\n", "\r\n")
    data = text.encode("utf-8")
    if bom:
        data = b"\xef\xbb\xbf" + data
    path = folder / name
    path.write_bytes(data)
    return path


def make_source(folder: Path, *, sep=",", bom=False, crlf=False, rows=CONTACT_ROWS) -> Path:
    write(folder, "agents.csv", AGENTS, sep=sep, bom=bom, crlf=crlf)
    write(folder, "clients.csv", CLIENTS, sep=sep, bom=bom, crlf=crlf)
    write(folder, "contacts.csv", CONTACTS_HEADER + "\n" + "\n".join(rows) + "\n", sep=sep, bom=bom, crlf=crlf)
    return folder


EXPECTED_LOCAL = [datetime(2025, 1, 31, 23, 59), datetime(2025, 1, 31, 23, 59), datetime(2025, 2, 1, 0, 0)]


@pytest.mark.parametrize("sep", [",", ";", "\t"])
@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("crlf", [False, True])
def test_csv_variants_read_the_same(tmp_path, sep, bom, crlf):
    src = open_source(make_source(tmp_path / "d", sep=sep, bom=bom, crlf=crlf))
    frame = src.frame("contacts")
    assert list(frame["contact_id"]) == ["k1", "k2", "k3"]
    assert list(frame["arrived_at"]) == EXPECTED_LOCAL
    assert list(frame["wait_s"]) == [10.0, 40.0, 3.5]
    assert frame["escalated"].tolist()[0] is False and frame["escalated"].tolist()[2] is True
    assert pd.isna(frame["escalated"].tolist()[1])
    assert src.frame("agents")["name"].tolist() == ["Ann Lee", "Bo Chan"]


def test_csv_with_carriage_returns_alone_reads_the_same(tmp_path, capsys):
    """Lines ended by CR alone (Excel for Mac's "CSV (Macintosh)"): the header was split on CR by the
    csv module, which raised "new-line character seen in unquoted field" as a traceback."""
    folder = make_source(tmp_path / "d")
    for path in folder.iterdir():
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r"))
    src = open_source(folder)
    frame = src.frame("contacts")
    assert list(frame["contact_id"]) == ["k1", "k2", "k3"]
    assert list(frame["arrived_at"]) == EXPECTED_LOCAL
    assert src.frame("agents")["name"].tolist() == ["Ann Lee", "Bo Chan"]
    agents = folder / "agents.csv"
    agents.write_bytes(agents.read_bytes().replace(b"Bo Chan", b"Bo \xffChan"))
    assert main(["validate", "--data", str(folder)]) == 1
    assert "agents.csv row 3: not UTF-8 text (byte 0xff)" in capsys.readouterr().out


def test_parquet_and_xlsx_read_the_same(tmp_path):
    csv_src = open_source(make_source(tmp_path / "csv"))
    raw = pd.read_csv(tmp_path / "csv" / "contacts.csv", dtype=str, keep_default_na=False)
    pq = tmp_path / "pq"
    make_source(pq)
    (pq / "contacts.csv").unlink()
    raw.to_parquet(pq / "contacts.parquet")
    xl = tmp_path / "xl"
    make_source(xl)
    (xl / "contacts.csv").unlink()
    typed = raw.copy()
    typed["wait_s"] = pd.to_numeric(typed["wait_s"])
    typed.to_excel(xl / "contacts.xlsx", index=False)
    want = csv_src.frame("contacts")
    for folder in (pq, xl):
        got = open_source(folder).frame("contacts")
        pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False)


def test_mixed_offsets_in_one_column_become_local_time(tmp_path):
    rows = [
        "a,phone,Q,C1,2025-07-01T12:00:00-04:00,open,,,,,",
        "b,phone,Q,C1,2025-07-01T16:00:00Z,open,,,,,",
        "c,phone,Q,C1,2025-01-15T12:00:00-05:00,open,,,,,",
        "d,phone,Q,C1,2025-01-15T17:00:00+00:00,open,,,,,",
        "e,phone,Q,C1,2025-01-15 12:00:00,open,,,,,",
        "f,phone,Q,C1,2025-01-15T13:00:00-04:00,open,,,,,",
    ]
    frame = open_source(make_source(tmp_path / "d", rows=rows)).frame("contacts")
    got = dict(zip(frame["contact_id"], frame["arrived_at"]))
    assert got["a"] == got["b"] == datetime(2025, 7, 1, 12, 0)
    assert got["c"] == got["d"] == got["e"] == got["f"] == datetime(2025, 1, 15, 12, 0)


def test_other_time_zone_from_parameters(tmp_path):
    frame = open_source(make_source(tmp_path / "d"), tz="Asia/Jerusalem").frame("contacts")
    # 2025-02-01T04:59Z is 06:59 in Jerusalem (UTC+2); naive times stay as written.
    assert frame["arrived_at"].tolist() == [
        datetime(2025, 2, 1, 6, 59),
        datetime(2025, 2, 1, 6, 59),
        datetime(2025, 2, 1, 0, 0),
    ]


@pytest.mark.parametrize("day,hours", [("2025-03-09", 23), ("2025-11-02", 25), ("2025-03-10", 24)])
def test_dst_days_bucket_in_local_time(tmp_path, day, hours):
    """One contact every 15 real minutes through a local day: 4 per real hour of that day."""
    import zoneinfo

    tz = zoneinfo.ZoneInfo("America/New_York")
    start = datetime.fromisoformat(day).replace(tzinfo=tz).astimezone(UTC)
    end = (datetime.fromisoformat(day) + timedelta(days=1)).replace(tzinfo=tz).astimezone(UTC)
    rows, t, i = [], start, 0
    while t < end:
        rows.append(f"x{i},phone,Q,C1,{t.strftime('%Y-%m-%dT%H:%M:%SZ')},open,,,,,")
        t += timedelta(minutes=15)
        i += 1
    src = open_source(make_source(tmp_path / "d", rows=rows))
    contacts = src.table("contacts")
    by_day = contacts.group_by(day=contacts.arrived_at.date()).aggregate(n=contacts.count()).to_pandas()
    assert len(by_day) == 1 and str(by_day["day"].iloc[0])[:10] == day
    assert by_day["n"].iloc[0] == hours * 4
    by_hour = contacts.group_by(h=contacts.arrived_at.hour()).aggregate(n=contacts.count()).to_pandas()
    if hours == 23:
        assert 2 not in set(by_hour["h"])  # 02:00-02:59 does not exist that day
    if hours == 25:
        assert by_hour.set_index("h").loc[1, "n"] == 8  # 01:00-01:59 happens twice


def test_cache_is_used_for_unchanged_files(tmp_path, monkeypatch):
    folder = make_source(tmp_path / "d")
    first = open_source(folder)
    first.frame("contacts")
    calls = []
    import reportlib.data.load as load

    real = load.read_raw_chunks
    monkeypatch.setattr(load, "read_raw_chunks", lambda p, *a, **k: calls.append(p.name) or real(p, *a, **k))
    again = open_source(folder)
    assert again.frame("contacts")["contact_id"].tolist() == ["k1", "k2", "k3"]
    assert calls == []
    assert again.fingerprint == first.fingerprint
    # a changed file is parsed again and changes the fingerprint
    write(folder, "contacts.csv", CONTACTS_HEADER + "\n" + "\n".join(CONTACT_ROWS[:2]) + "\n")
    os.utime(folder / "contacts.csv", ns=(1, 1))
    changed = open_source(folder)
    assert changed.frame("contacts")["contact_id"].tolist() == ["k1", "k2"]
    assert calls == ["contacts.csv"]
    assert changed.fingerprint != first.fingerprint


def test_an_unchanged_source_is_reused_in_the_process_and_hands_out_copies(tmp_path):
    folder = make_source(tmp_path / "d")
    first = open_source(folder)
    assert open_source(folder) is first  # a warm kernel's next report: tables and memo already there
    agents = first.frame("agents")
    agents.loc[0, "name"] = "Changed"
    assert first.frame("agents").loc[0, "name"] == "Ann Lee"  # a caller's edits stay in its copy
    computed = []
    got = first.memo(("n",), lambda: computed.append(1) or pd.DataFrame({"x": [1]}))
    got.loc[0, "x"] = 99
    assert first.memo(("n",), lambda: computed.append(1) or pd.DataFrame({"x": [2]}))["x"].tolist() == [1]
    assert computed == [1]
    # another time zone is another source; a changed file opens afresh, with nothing remembered
    assert open_source(folder, "Europe/London") is not first
    write(folder, "agents.csv", AGENTS + "A3,Cy Dee,Team 1,2024-03-01\n")
    changed = open_source(folder)
    assert changed is not first and len(changed.frame("agents")) == 3
    assert changed.memo(("n",), lambda: pd.DataFrame({"x": [2]}))["x"].tolist() == [2]
    assert open_source(folder) is changed  # unchanged again: checked by the files' keys, no engine opened
    (folder / "agents.csv").unlink()  # a table file gone is a change too
    fewer = open_source(folder)
    assert fewer is not changed and not fewer.has("agents")


def test_the_parse_leaves_the_garbage_collector_as_it_found_it(tmp_path):
    import gc

    gc.unfreeze()
    assert len(open_source(make_source(tmp_path / "a")).frame("contacts")) == len(CONTACT_ROWS)
    assert gc.get_freeze_count() == 0  # the parse froze what was there, and thawed it
    gc.freeze()  # a run's warm kernel froze its imports: they stay frozen
    try:
        assert len(open_source(make_source(tmp_path / "b")).frame("contacts")) == len(CONTACT_ROWS)
        assert gc.get_freeze_count() > 0  # not thawed (the count itself drops as frozen objects die)
    finally:
        gc.unfreeze()


def test_duckdb_url_source(tmp_path):
    folder = make_source(tmp_path / "d")
    src = open_source(folder)
    db = tmp_path / "store.duckdb"
    con = ibis.duckdb.connect(str(db))
    for name in ("contacts", "agents", "clients"):
        con.create_table(name, src.table(name).to_pyarrow())
    con.disconnect()
    url = open_source(f"duckdb:///{db}")
    assert url.tables == ["agents", "clients", "contacts"]
    got = url.frame("contacts")
    assert got["arrived_at"].tolist() == EXPECTED_LOCAL
    assert main(["validate", "--data", f"duckdb:///{db}"]) == 0
    # the scheme in any case, as `load --into` takes it (one reading: load.duckdb_file)
    assert main(["validate", "--data", f"DuckDB:///{db}"]) == 0
    assert is_database(f"DUCKDB:///{db}") and parse_target(f"DUCKDB:///{db}").path == str(db)
    assert open_source(f"duckdb:///{db}") is url  # the file unchanged: the source already open
    later = db.stat().st_mtime_ns + 10**9
    os.utime(db, ns=(later, later))  # written since (the source is read-only here: a later write's stamp)
    assert open_source(f"duckdb:///{db}") is not url


def test_validate_ok_and_missing_tables(tmp_path, capsys):
    folder = make_source(tmp_path / "d")
    assert main(["validate", "--data", str(folder)]) == 0
    (folder / "agents.csv").unlink()
    assert main(["validate", "--data", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "agents: required table is missing" in out


def test_intervals_replace_contacts(tmp_path, capsys):
    folder = tmp_path / "d"
    write(folder, "agents.csv", AGENTS)
    write(folder, "clients.csv", CLIENTS)
    write(
        folder,
        "intervals.csv",
        "interval_start,interval_minutes,channel,queue,offered\n"
        "2025-01-02T08:00:00,30,phone,Benefits,12\n"
        "2025-01-02T08:30:00,30,phone,Benefits,7.5\n",
    )
    assert main(["validate", "--data", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "warning: intervals.csv row 3, column offered: expected a whole count" in out


def test_require_names_missing_tables(tmp_path):
    from reportlib.core.errors import MissingTableError

    src = open_source(make_source(tmp_path / "d"))
    with pytest.raises(MissingTableError, match="agent_activity"):
        src.require("contacts", "agent_activity")


def test_missing_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["validate", "--data", str(tmp_path / "nope")]) == 1
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("what", ["text file", "folder", "no path"])
def test_a_duckdb_url_to_something_not_a_database_is_one_line(tmp_path, capsys, what):
    """duckdb:///etc/passwd and duckdb:// (the working folder) stopped validate with duckdb's IOException. A URL
    naming no file is a usage error (exit 2, as `load --into` says of it); the others name the file (exit 1)."""
    (tmp_path / "notes.txt").write_text("agent_id,name\nA1,Ann\n")
    url = {
        "text file": f"duckdb:///{tmp_path / 'notes.txt'}",
        "folder": f"duckdb:///{tmp_path}",
        "no path": "duckdb://",
    }
    assert main(["validate", "--data", url[what]]) == (2 if what == "no path" else 1)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert line.startswith("reportlib validate: ") and "DuckDB database" in line, line


def test_a_file_given_as_the_data_folder_is_named_as_a_file(tmp_path, capsys):
    (tmp_path / "clients.csv").write_text(CLIENTS)
    assert main(["validate", "--data", str(tmp_path / "clients.csv")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        f"reportlib validate: the data folder {tmp_path / 'clients.csv'} is a file; give the folder that holds "
        f"the table files (or a duckdb:/// URL)"
    )


def _bad_contacts(n: int) -> str:
    """`n` contacts with problems of every kind spread over the file: unreadable cells, pandera values,
    required-when, a repeated id (first and last rows), a long handle time (a warning), a malformed time."""
    rows = []
    for i in range(n):
        cid = "k0" if i == n - 1 else f"k{i}"
        channel = "fax" if i % 97 == 5 else "phone"
        arrived = "2025-02-30T10:00:00" if i % 131 == 7 else f"2025-01-{1 + i % 28:02d}T{i % 24:02d}:15:00-05:00"
        wait = "-3" if i % 89 == 11 else ("x" if i % 151 == 3 else str(i % 50))
        handle = "" if i % 113 == 9 else ("20000" if i % 167 == 2 else "300")
        agent = " A1 " if i % 7 == 0 else "A2"
        csat = "9" if i % 173 == 4 else str(1 + i % 5)
        rows.append(f"{cid},{channel},Benefits,C1,{arrived},handled,{wait},{handle},{agent},{csat},false")
    return CONTACTS_HEADER + "\n" + "\n".join(rows) + "\n"


def test_a_file_checked_in_chunks_gives_the_lines_of_the_whole_file(tmp_path):
    """check_stream over many small chunks names the same rows, counts and values, in the same order, as
    check_table over the whole file, and the typed rows it streams equal the whole file's typed frame."""
    import pyarrow as pa

    from reportlib.data import load
    from reportlib.data.contract import TABLES

    path = write(tmp_path, "contacts.csv", _bad_contacts(3000))
    frame, whole = load.check_table(load.read_raw(path), TABLES["contacts"], path.name, "America/New_York")
    parts: list = []
    seen: list[int] = []
    rows, chunked = load.check_stream(
        load.read_raw_chunks(path, chunk_bytes=4096),
        TABLES["contacts"],
        path.name,
        "America/New_York",
        lambda a: parts.clear() if a is None else parts.append(a),
        seen.append,
    )
    assert len(seen) > 20  # many chunks, each reported
    assert rows == len(frame) == 3000
    lines = [p.line() for p in whole]
    assert [p.line() for p in chunked] == lines
    # oracles by hand: k0 is in the first row (2) and the last (3,001); 2025-02-30 first at i = 7 (row 9)
    assert any("column contact_id" in line and '2 ("k0"), 3001 ("k0")' in line for line in lines)
    assert any(line.startswith("contacts.csv, column arrived_at") and 'rows: 9 ("2025-02-30' in line for line in lines)
    assert sum(p.severity == "warning" for p in chunked) == 1 and len(lines) == 8
    streamed = pa.concat_tables(parts).to_pandas()
    expected = load._arrow(frame, TABLES["contacts"]).to_pandas()
    pd.testing.assert_frame_equal(streamed, expected)


def test_a_restart_voids_the_chunks_checked_before_it(tmp_path):
    """check_stream given some chunks, then the whole file marked `restart` (the fast reader gave up part-way):
    the chunks before are forgotten by the sink and by the problems, checked while the next is read or not,
    and the result is the whole file's."""
    from reportlib.data import load
    from reportlib.data.contract import TABLES

    path = write(tmp_path, "contacts.csv", _bad_contacts(900))
    given = [frame for frame, _ in load.read_raw_chunks(path, chunk_bytes=4096)]
    whole_raw = load.read_raw(path)
    assert len(given) > 3
    frame, whole = load.check_table(whole_raw, TABLES["contacts"], path.name, "America/New_York")
    calls: list = []
    rows, problems = load.check_stream(
        [(given[0], False), (given[1], False), (given[2], False), (whole_raw, True)],
        TABLES["contacts"],
        path.name,
        "America/New_York",
        lambda a: calls.append(None if a is None else a.num_rows),
    )
    assert rows == len(frame) == 900
    assert [p.line() for p in problems] == [p.line() for p in whole]
    assert None in calls and calls[-1] == 900  # forgotten, then the whole file stored once
    assert sum(n for n in calls[calls.index(None) + 1 :] if n is not None) == 900


def test_a_file_without_its_required_columns_stops_at_the_first_chunk(tmp_path):
    """A missing required column is reported once and nothing is stored, however many chunks follow."""
    from reportlib.data import load
    from reportlib.data.contract import TABLES

    text = _bad_contacts(900).replace("agent_id", "agent", 1)
    path = write(tmp_path, "contacts.csv", text)
    stored: list = []
    rows, problems = load.check_stream(
        load.read_raw_chunks(path, chunk_bytes=4096), TABLES["contacts"], path.name, "America/New_York", stored.append
    )
    assert rows == 0 and stored == []
    assert len(problems) == 1 and "missing required column: agent_id" in problems[0].line()


def test_a_malformed_row_after_the_first_chunks_is_named_by_the_row(tmp_path):
    """pyarrow refuses a row with too many fields part-way: the chunks given are replaced by the whole file
    read by the row-naming parser, so the message is the one a small file gets."""
    from reportlib.data import load

    text = _bad_contacts(2000).splitlines()
    text[1500] += ",extra"
    path = write(tmp_path, "contacts.csv", "\n".join(text) + "\n")
    chunks = load.read_raw_chunks(path, chunk_bytes=4096)
    with pytest.raises(load.DataError) as exc:
        for _frame, _restart in chunks:
            pass
    assert exc.value.problems == ["contacts.csv row 1501: expected 11 fields separated by commas, found 12"]


def _shared_in_child(folder: str, key: tuple, out) -> None:
    from reportlib.data.cache import shared_result

    out.put(shared_result(Path(folder), "fp", key, lambda: "computed in the child"))


def test_a_result_is_computed_once_per_run_and_read_by_the_other_processes(tmp_path):
    """shared_result: the first process computes and writes; another process (a forked worker) reads it
    instead of computing; another key or another data fingerprint is computed anew."""
    import multiprocessing

    from reportlib.data.cache import shared_result

    folder = tmp_path / "shared"
    folder.mkdir(mode=0o700)
    calls = []
    first = shared_result(folder, "fp", ("counts", 2025), lambda: calls.append(1) or {"n": 41})
    again = shared_result(folder, "fp", ("counts", 2025), lambda: calls.append(1) or {"n": 0})
    assert first == again == {"n": 41} and calls == [1]
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    for key, expected in ((("counts", 2025), {"n": 41}), (("counts", 2026), "computed in the child")):
        child = ctx.Process(target=_shared_in_child, args=(str(folder), key, out))
        child.start()
        assert out.get(timeout=60) == expected
        child.join(60)
    assert shared_result(folder, "other data", ("counts", 2025), lambda: "anew") == "anew"


def test_source_memo_is_shared_inside_a_run(tmp_path, monkeypatch):
    """With $REPORTLIB_SHARED_MEMO set (as `reportlib run` does for its workers), a second Source of the same
    unchanged data reuses the first one's result; without it, each computes its own."""
    from reportlib.data.cache import SHARED_MEMO_ENV
    from reportlib.data.load import Source

    folder = make_source(tmp_path / "d")
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o700)
    calls = []
    monkeypatch.setenv(SHARED_MEMO_ENV, str(shared))
    assert Source(str(folder)).memo(("k",), lambda: calls.append(1) or 7) == 7
    assert Source(str(folder)).memo(("k",), lambda: calls.append(1) or 8) == 7
    monkeypatch.delenv(SHARED_MEMO_ENV)
    assert Source(str(folder)).memo(("k",), lambda: calls.append(1) or 9) == 9
    assert calls == [1, 1]


def test_plain_iso_forms_read_by_arrow_as_the_general_split_reads_them():
    """_parse_iso_plain (Arrow's cast, for columns of one plain form) against _parse_iso_split (the general
    parser) on every cell of a grid of valid and invalid dates, times, separators and offsets: wherever the
    cast reads a cell it gives the split's wall time, and it refuses every cell the split cannot read."""
    import itertools

    import pyarrow as pa

    from reportlib.data import load

    tz = "America/New_York"
    dates = [
        f"{y}-{md}"
        for y in ("0001", "1969", "2023", "2024", "9999")
        for md in ("01-01", "02-28", "02-29", "02-30", "04-31", "12-31", "00-10", "13-01")
    ]
    times = ["00:00:00", "23:59:59", "24:00:00", "12:60:00", "12:00:60", "12:34:56.5", "12:34:56.123456", "02:30:00"]
    offsets = ["", "Z", "+00:00", "-05:00", "+05:30", "+23:59", "+24:00", "-00:60", "+14:00", "-0500"]
    cells = [f"{d}{sep}{t}{o}" for d, sep, t, o in itertools.product(dates, ("T", " "), times, offsets)] + dates
    wall, bad = load._parse_iso_split(pa.array(cells), tz)
    taken = 0
    for i, cell in enumerate(cells):
        plain = load._parse_iso_plain(pa.array([cell]), tz)
        if plain is None:  # refused: a cell the split cannot read, or an offset without its colon (not plain)
            assert bad[i] or cell.endswith("-0500"), cell
            continue
        taken += 1
        assert not bad[i], cell  # the cast read a cell the split cannot read
        assert plain[0] == wall[i], (cell, plain[0], wall[i])
    # by hand: 16 real dates (3 a year, and 2024-02-29) x 5 real times x 2 separators x 7 plain offsets taken
    # (+24:00 and -00:60 are not offsets), and the 16 dates alone; the split reads -0500 too:
    # 16 x 5 x 2 x 8 + 16 = 1,296 of the 6,440 cells
    assert taken == 1136 and int((~bad).sum()) == 1296


def test_a_column_of_mixed_forms_or_blanks_goes_the_general_way():
    import pyarrow as pa

    from reportlib.data import load

    tz = "America/New_York"
    # a lower-case "t" between date and time, which RFC 3339 allows as it allows "z" (a probe found it refused)
    lower, _ = load._parse_iso_split(pa.array(["2026-03-31t23:59:59", "2026-03-31t23:59:59z", "2026-03-31x23:59"]), tz)
    upper, _ = load._parse_iso_split(pa.array(["2026-03-31T23:59:59", "2026-03-31T23:59:59Z"]), tz)
    assert list(lower[:2]) == list(upper) and load._parse_iso_split(pa.array(["2026-03-31x23:59"]), tz)[1][0]
    assert load._parse_iso_plain(pa.array(["2025-01-15T12:00:00Z", "2025-01-15 07:00:00"]), tz) is None
    assert load._parse_iso_plain(pa.array(["2025-01-15T12:00:00Z", ""]), tz) is None
    assert load._parse_iso_plain(pa.array(["2025-01-15T12:00:00Z", None]), tz) is None
    got = load._parse_iso_plain(pa.array(["2025-01-15T12:00:00Z", "2025-07-01T12:00:00-04:00"]), tz)
    assert list(got) == [
        pd.Timestamp("2025-01-15 07:00").to_datetime64(),
        pd.Timestamp("2025-07-01 12:00").to_datetime64(),
    ]
    text = pd.Series(["2025-01-15T12:00:00Z", "2025-01-15 07:00:00", "", "2025-02-30T10:00:00"])
    out, bad = load._parse_iso_block(text, tz)
    assert list(bad) == [False, False, True, True]
    assert out.iloc[0] == out.iloc[1] == pd.Timestamp("2025-01-15 07:00") and out.iloc[2:].isna().all()


def test_repeated_ids_are_found_by_their_hashes_as_a_count_finds_them():
    """_duplicates on a long text column (the hashed way) against pandas' duplicated: the same rows, nulls never
    repeated, empty text repeated like any value."""
    import numpy as np
    import pyarrow as pa

    from reportlib.data import load

    rng = np.random.default_rng(7)
    ids = [f"K{i:07d}" for i in range(300_000)]
    for i in rng.choice(300_000, 40, replace=False):
        ids[i] = ids[(i * 7919) % 300_000]
    ids[5] = ids[6] = None
    ids[10] = ids[11] = ""
    values = pd.Series(ids, dtype=pd.ArrowDtype(pa.string()))  # as the CSV reader gives text
    assert len(values) >= load._HASHED_FROM
    got = load._duplicates(values)
    want = (values.duplicated(keep=False) & values.notna()).to_numpy()
    assert want.sum() >= 40 and got.tolist() == want.tolist()
    assert not got[5] and got[10] and got[11]
    assert not load._duplicates(pd.Series([f"K{i}" for i in range(200_000)]).astype(values.dtype)).any()


def test_duckdb_draws_no_progress_bar_into_a_notebook(tmp_path):
    """DuckDB draws a progress bar for a query over 2 s; in a notebook it is a widget that stayed in the executed
    team page as an empty black bar (JupyterLab, the month's notebooks). Every connection of a source has it off:
    a folder's and a DuckDB database's."""
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "clients.csv").write_text("client_id,client_name,sla_profile\nC1,Acme,gold\n")
    store = tmp_path / "s.duckdb"
    ibis.duckdb.connect(str(store)).create_table("clients", ibis.memtable({"client_id": ["C1"]}).to_pyarrow())
    for data in (str(folder), f"duckdb:///{store}"):
        con = open_source(data).con.con
        assert con.execute("select current_setting('enable_progress_bar')").fetchone() == (False,), data
