"""Issue 13, input and cache half: each test injects one fault and asserts the outcome.

Items: 3 (a corrupt, half-written or concurrently filled cache), 9 (parameter files that are
binary, a folder, or hold an unknown top-level key), 10 (short CSV rows, reference problems naming
rows, long ids, no line printed twice, import-bank on a foreign file), and 2's validate part (ids
outside the safe set). Beyond the listed probes: links out of the data folder, pipes named like a
table, NUL bytes, huge fields, a cache folder that is not private.
"""

from __future__ import annotations

import io
import multiprocessing as mp
import os
import re
import subprocess
import sys
from contextlib import redirect_stderr
from pathlib import Path

import pandas as pd
import pytest
from test_validate import GOOD, build

from reportlib.cli import main
from reportlib.data.cache import CacheEntry
from reportlib.data.load import Source


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv("REPORTLIB_CACHE", str(path))
    return path


def run_cli(args: list[str]) -> subprocess.CompletedProcess:
    """`python -m reportlib ARGS` as the user runs it (tracebacks would show on stderr)."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    return subprocess.run([sys.executable, "-m", "reportlib", *args], capture_output=True, text=True, env=env)


def validate(folder: Path, capsys) -> tuple[int, str, str]:
    """`reportlib validate --data FOLDER` as a fresh process would run it: (status, stdout, stderr)."""
    import reportlib.data.cache
    import reportlib.data.load

    reportlib.data.load._OPEN.clear()  # a new process holds no open source
    reportlib.data.cache._warned.clear()  # nor remembers the warnings it printed
    status = main(["validate", "--data", str(folder)])
    out = capsys.readouterr()
    # progress lines (one per parsed table, reportlib.core.progress) are not problems: leave them out
    err = "".join(ln for ln in out.err.splitlines(keepends=True) if not ln.startswith("reportlib: parsed and checked "))
    return status, out.out, err


def entries(cache: Path, table: str) -> tuple[Path, Path]:
    (parquet,) = cache.glob(f"{table}-*.parquet")
    return parquet, parquet.with_suffix(".json")


def leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir() if p.name.endswith(".tmp"))


def many_contacts(n: int) -> str:
    rows = [
        f"x{i},phone,Benefits,C{1 + i % 2},2025-01-06T09:{i % 60:02d}:00-05:00,handled,{i % 50},{100 + i % 300},A1,"
        f"true,false,false,{1 + i % 5},Eligibility,p{i % 97}"
        for i in range(n)
    ]
    return GOOD["contacts.csv"] + "\n".join(rows) + "\n"


# --- item 3: the cache ------------------------------------------------------------------------------


def test_13_03_truncated_parquet_in_cache_is_rebuilt_with_warning(tmp_path, cache, capsys):
    folder = build(tmp_path / "d", {})
    assert validate(folder, capsys)[0] == 0
    parquet, meta = entries(cache, "contacts")
    size = parquet.stat().st_size
    with open(parquet, "r+b") as fh:
        fh.truncate(size // 2)
    status, out, err = validate(folder, capsys)
    assert status == 0 and "valid" in out
    warning = [ln for ln in err.splitlines() if "warning" in ln]
    assert len(warning) == 1 and "contacts.csv" in warning[0] and "rebuilt" in warning[0], err
    assert "Traceback" not in err
    assert parquet.stat().st_size == size  # rebuilt in full
    status, out, err = validate(folder, capsys)
    assert status == 0 and err == ""  # sound again: no warning the next time


@pytest.mark.parametrize("damage", ["empty", "truncated", "not json", "wrong checksum"])
def test_13_03_empty_or_truncated_json_in_cache_is_rebuilt_with_warning(tmp_path, cache, capsys, damage):
    folder = build(tmp_path / "d", {})
    assert validate(folder, capsys)[0] == 0
    _, meta = entries(cache, "clients")
    text = meta.read_text()
    meta.write_text(
        {
            "empty": "",
            "truncated": text[: len(text) // 2],
            "not json": "\x00\x01",
            "wrong checksum": re.sub(r'"sha256": "[0-9a-f]+"', '"sha256": "00"', text),
        }[damage]
    )
    status, out, err = validate(folder, capsys)
    assert status == 0 and "valid" in out
    assert len(err.splitlines()) == 1 and "clients.csv" in err and "rebuilt" in err, err
    assert meta.read_text() == text  # rebuilt with the same content


def test_13_03_half_an_entry_and_a_linked_entry_are_discarded(tmp_path, cache, capsys):
    folder = build(tmp_path / "d", {})
    assert validate(folder, capsys)[0] == 0
    parquet, meta = entries(cache, "agents")
    meta.unlink()  # a crash between the two renames of an older version
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    p2, m2 = entries(cache, "clients")
    p2.unlink()
    p2.symlink_to(victim)  # someone links a cache file to another file
    status, out, err = validate(folder, capsys)
    assert status == 0, out + err
    assert "agents.csv" in err and "clients.csv" in err and len(err.splitlines()) == 2, err
    assert victim.read_text() == "keep me" and not p2.is_symlink()


def test_13_03_a_folder_where_a_cache_file_belongs_is_named_not_silent(tmp_path, cache, capsys):
    """A folder in place of a cache entry's Parquet file turned the cache off for that table without a word (a
    probe): the table is parsed every run (the figures are the same) and one line says why; the folder is kept."""
    folder = build(tmp_path / "d", {})
    assert validate(folder, capsys)[0] == 0
    parquet, _ = entries(cache, "clients")
    parquet.unlink()
    parquet.mkdir()
    status, out, err = validate(folder, capsys)
    assert status == 0 and "valid" in out, err
    lines = [ln for ln in err.splitlines() if "warning" in ln]
    assert lines == [
        f"reportlib: warning: the cached copy of clients.csv cannot be replaced ({parquet} cannot be removed: Is a "
        "directory); it is parsed every run until that is removed"
    ], err
    assert parquet.is_dir()


def _fail_mid_write(arrow, fh):
    fh.write(b"PAR1 half a file")
    raise OSError(28, "No space left on device")


def test_13_03_a_write_that_fails_leaves_no_half_file(tmp_path, cache, capsys, monkeypatch):
    from reportlib.data import load

    folder = build(tmp_path / "d", {})
    monkeypatch.setattr(load._ParquetSink, "__call__", lambda sink, arrow: _fail_mid_write(arrow, sink.fh))
    status, out, err = validate(folder, capsys)
    assert status == 0 and "valid" in out  # the tables are served from memory instead
    assert "No space left on device" in err and "Traceback" not in err
    assert not list(cache.glob("*.parquet")) and not list(cache.glob("*.json"))
    assert leftovers(cache) == []
    monkeypatch.undo()
    os.environ["REPORTLIB_CACHE"] = str(cache)
    assert validate(folder, capsys)[0] == 0
    assert len(list(cache.glob("*.parquet"))) == 5 and leftovers(cache) == []


def test_13_03_a_killed_writers_file_is_removed_once_the_data_changed(tmp_path, cache, capsys):
    """A probe: validate killed while caching contacts.csv left `.contacts-<key>.<random>.tmp` (the table's size);
    only a writer of the same key removed it, and a changed file has another key. A writer of the table now
    removes the table's temporary files untouched for an hour; a recent one (a live writer's) stays."""
    import time

    folder = build(tmp_path / "d", {})
    cache.mkdir(mode=0o700)
    dead = cache / ".contacts-0123456789abcdef01234567.k2j4_x9a.tmp"
    live = cache / ".contacts-89abcdef0123456789abcdef.q8w7_e6r.tmp"
    other = cache / ".agents-0123456789abcdef01234567.z1x2_c3v.tmp"
    for f in (dead, live, other):
        f.write_bytes(b"PAR1 half")
    old = time.time() - 2 * 3600
    os.utime(dead, (old, old))
    assert validate(folder, capsys)[0] == 0
    assert not dead.exists() and live.exists()
    assert other.exists()  # another table's recent file: a live writer's


def test_13_03_a_cache_folder_others_can_write_is_not_used(tmp_path, cache, capsys):
    folder = build(tmp_path / "d", {})
    cache.mkdir(mode=0o777)
    os.chmod(cache, 0o777)
    status, out, err = validate(folder, capsys)
    assert status == 0 and "not private" in err and len(err.splitlines()) == 1
    assert list(cache.iterdir()) == []
    os.chmod(cache, 0o700)
    link = tmp_path / "cache-link"
    link.symlink_to(cache)  # a link to a private folder of ours is fine
    os.environ["REPORTLIB_CACHE"] = str(link)
    status, out, err = validate(folder, capsys)
    assert status == 0 and err == "" and len(list(cache.glob("*.parquet"))) == 5


def test_13_03_a_cache_folder_that_cannot_be_locked_is_said_once(tmp_path, cache, capsys, monkeypatch):
    """A probe: with REPORTLIB_CACHE on a read-only file system the lock could not be taken and every table was
    parsed again each time without a word (a file or a full disk in its place were warned). One line now, for
    any lock that cannot be taken (a review: no locks on NFS was left silent)."""
    import errno

    from reportlib.data import cache as cache_mod

    def flock(fd, how):  # as on NFS without lock support
        raise OSError(errno.ENOLCK, "No locks available")

    folder = build(tmp_path / "d", {})
    monkeypatch.setattr(cache_mod.fcntl, "flock", flock)
    monkeypatch.setattr(cache_mod, "_warned", set())
    status, out, err = validate(folder, capsys)
    assert status == 0 and "valid" in out and "Traceback" not in err
    said = [line for line in err.splitlines() if "cannot be used" in line]
    assert said == [
        f"reportlib: warning: the cache folder {cache} cannot be used (No locks available); every table is "
        "parsed each time (REPORTLIB_CACHE names another folder)"
    ]


def _validate_in_child(folder: str, barrier) -> tuple[list[str], list[str], str]:
    barrier.wait()
    err = io.StringIO()
    with redirect_stderr(err):
        errors, warnings = Source(folder).validate()
    return errors, warnings, err.getvalue()


def test_13_03_two_processes_filling_one_cache_are_safe(tmp_path, monkeypatch):
    contacts = many_contacts(30_000)
    ctx = mp.get_context("spawn")
    folder = build(tmp_path / "d", {"contacts.csv": contacts})
    for round_ in range(3):
        cache = tmp_path / f"cache{round_}"  # empty each round: both children parse and fill it
        monkeypatch.setenv("REPORTLIB_CACHE", str(cache))
        with ctx.Manager() as manager:
            barrier = manager.Barrier(2)
            with ctx.Pool(2) as pool:
                results = pool.starmap(_validate_in_child, [(str(folder), barrier)] * 2)
        for errors, _warnings, err in results:
            assert errors == [] and err == "", (errors, err)
        for table in ("contacts", "clients", "agents"):
            parquet, _ = entries(cache, table)
            assert CacheEntry(cache, table, parquet.stem.split("-", 1)[1], table).read() is not None
        assert leftovers(cache) == []
        frame = Source(str(folder)).frame("contacts")  # served from the cache the children filled
        assert len(frame) == 30_004 and frame["contact_id"].is_unique


def _write_many(folder: str, payload: bytes, n: int, barrier) -> None:
    entry = CacheEntry(Path(folder), "contacts", "k", "contacts.csv")
    barrier.wait()
    for _ in range(n):
        entry.write(lambda fh: fh.write(payload), {"warnings": [], "rows": len(payload)})


def _read_many(folder: str, n: int, barrier) -> tuple[int, str]:
    """`n` reads, and more until one finds an entry (at most 60 s): on a loaded machine the `n` reads could all
    come before either writer's first entry (seen 0 in a fresh-clone run), which tests nothing."""
    import time

    entry = CacheEntry(Path(folder), "contacts", "k", "contacts.csv")
    barrier.wait()
    err, seen, done, deadline = io.StringIO(), 0, 0, time.monotonic() + 60
    with redirect_stderr(err):
        while done < n or (seen == 0 and time.monotonic() < deadline):
            meta = entry.read()
            done += 1
            if meta is not None:
                assert meta["rows"] in (100_000, 200_000)
                seen += 1
    return seen, err.getvalue()


def test_13_03_concurrent_writers_never_show_a_reader_a_mixed_entry(tmp_path):
    """Two writers rewrite one entry with different contents while a third process reads it: the
    per-entry lock means the reader never pairs one writer's Parquet file with the other's .json
    (which it would discard, with a warning)."""
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(3)
        with ctx.Pool(3) as pool:
            w1 = pool.apply_async(_write_many, (str(folder), b"a" * 100_000, 60, barrier))
            w2 = pool.apply_async(_write_many, (str(folder), b"b" * 200_000, 60, barrier))
            reader = pool.apply_async(_read_many, (str(folder), 300, barrier))
            w1.get(120), w2.get(120)
            seen, err = reader.get(120)
    assert err == "" and seen > 0
    assert leftovers(folder) == []


# --- item 9: parameter files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [bytes(range(256)), b"\x89PNG\r\n\x1a\n\xff\xfe\xfd", "calendar: caf\xe9\n".encode("latin-1")],
    ids=["binary", "png", "latin-1"],
)
def test_13_09_binary_params_file_is_one_line_exit_2(tmp_path, content):
    params = tmp_path / "p.yaml"
    params.write_bytes(content)
    proc = run_cli(["validate", "--data", str(build(tmp_path / "d", {})), "--params", str(params)])
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert str(params) in proc.stderr


def test_13_09_directory_as_params_is_one_line_exit_2(tmp_path):
    proc = run_cli(["validate", "--data", str(build(tmp_path / "d", {})), "--params", str(tmp_path)])
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"reportlib validate: parameter file {tmp_path} is a folder; give a YAML file"


@pytest.mark.parametrize("command", ["validate", "forecast", "kpis"])
def test_13_09_unknown_top_level_key_in_params_is_named_exit_2(tmp_path, command):
    params = tmp_path / "p.yaml"
    params.write_text("forecast_model:\n  level: 0.9\n")  # belongs under calendar:
    args = {"validate": [], "forecast": [], "kpis": ["--month", "2025-01"]}[command]
    proc = run_cli([command, "--data", str(build(tmp_path / "d", {})), "--params", str(params), *args])
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"reportlib {command}: parameter file {params}: unknown top-level key "
        f"'forecast_model' (it belongs under calendar:)"
    )
    params.write_text("calendar:\n  forecast_model:\n    level: 0.9\n")
    assert run_cli(["validate", "--data", str(build(tmp_path / "d", {})), "--params", str(params)]).returncode == 0


UNKNOWN_INSIDE = [
    (
        "calendar:\n  buisness_hours:\n    weekdays: [0, 1, 2, 3, 4, 5]\n",
        "calendar.buisness_hours (did you mean business_hours?)",
    ),
    ("capacity:\n  hiring:\n    training_wekes: 12\n", "capacity.hiring.training_wekes (did you mean training_weeks?)"),
    ("capacity:\n  service_targets:\n    chat: {target: 0.9}\n", "capacity.service_targets.chat.target (did you mean"),
    ("attrition:\n  cost_per_hir: 1\n", "attrition.cost_per_hir (did you mean cost_per_hire?)"),
    ("goals:\n  coaching:\n    tolerence: {qa: 3}\n", "goals.coaching.tolerence (did you mean tolerance?)"),
    ("budget:\n  labour: {monthly: 1}\n", "budget.labour (did you mean labor?)"),
    ("calendar:\n  holidays: {country: US, closd: [Labor Day]}\n", "calendar.holidays.closd (did you mean closed?)"),
]


@pytest.mark.parametrize("overlay, named", UNKNOWN_INSIDE)
def test_unknown_keys_inside_a_set_are_refused(tmp_path, overlay, named):
    """A misspelt key inside a parameter set was ignored (the defaults rendered, exit 0): it is a usage error naming
    it and the key meant; the forms the readers take (weekday names, holidays extra/remove, a channel, a month, a
    team) are accepted."""
    from reportlib.core.errors import UsageError
    from reportlib.core.params import load_params

    params = tmp_path / "p.yaml"
    params.write_text(overlay)
    with pytest.raises(UsageError) as err:
        load_params(params, strict=True)
    assert named in str(err.value) and str(params) in str(err.value)
    params.write_text(
        "calendar:\n  business_hours: {open: '09:00', close: '17:00', days: [mon, tue], saturday: '09:00-12:00'}\n"
        "  holidays: {country: US, extra: [2025-12-24], remove: [2025-11-11]}\n"
        "  exclude_from_history: [2025-01-06]\n  forecast_model: {min_history_days: 21}\n"
        "capacity:\n  service_targets: {email: {target_sl: 0.9, answer_s: 86400}}\n  default_aht_s: {video: 300}\n"
        "budget:\n  labor: {months: {2025-01: 500000}}\n"
        "goals:\n  teams: {Tampa 1: {qa: 80}}\n  coaching: {tolerance: {qa: 3}}\n"
    )
    load_params(params, strict=True)


@pytest.mark.parametrize("command", ["validate", "kpis", "run"])
def test_an_unknown_key_inside_a_set_stops_every_command(tmp_path, command):
    """On the command line: exit 2, one line naming the key and the one meant, nothing rendered."""
    overlay, named = UNKNOWN_INSIDE[0]
    params = tmp_path / "p.yaml"
    params.write_text(overlay)
    args = {"validate": [], "kpis": ["--month", "2025-01"], "run": ["--month", "2025-01", "--out", str(tmp_path / "o")]}
    proc = run_cli([command, "--data", str(build(tmp_path / "d", {})), "--params", str(params), *args[command]])
    assert proc.returncode == 2 and named in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", ["validate", "kpis", "attrition"])
@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../../etc/passwd"])
def test_13_09_unknown_time_zone_in_params_is_one_line_exit_2(tmp_path, command, zone):
    """An unknown zone reached the loader and stopped it with pytz's UnknownTimeZoneError traceback."""
    params = tmp_path / "p.yaml"
    params.write_text(f'timezone: "{zone}"\n')
    args = {"validate": [], "kpis": ["--month", "2025-01"], "attrition": ["--month", "2024-06"]}[command]
    proc = run_cli([command, "--data", str(build(tmp_path / "d", {})), "--params", str(params), *args])
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == (
        f"reportlib {command}: parameter timezone must be an IANA time zone such as America/New_York, got {zone!r}"
    )


@pytest.mark.parametrize("command", ["validate", "kpis", "attrition"])
def test_a_reportlib_home_without_parameters_is_named_by_every_command(tmp_path, command):
    """REPORTLIB_HOME naming a folder that does not exist made kpis say "parameter sl_definition must be one of ...,
    got None", validate "no SLA profiles", run "no notebook for sla" and attrition run as if nothing were wrong (a
    probe). Every command now names the variable, exit 2."""
    args = {"validate": [], "kpis": ["--month", "2025-01"], "attrition": ["--month", "2024-06"]}[command]
    data = build(tmp_path / "d", {})
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent), REPORTLIB_HOME=str(tmp_path / "no"))
    proc = subprocess.run([sys.executable, "-m", "reportlib", command, "--data", str(data), *args],
                          capture_output=True, text=True, env=env)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == (
        f"reportlib {command}: REPORTLIB_HOME={tmp_path / 'no'} holds no parameters/ folder: it names the folder "
        "that holds parameters/ and notebooks/ (unset it to use the installed project's)"
    )


@pytest.mark.parametrize("hours", [-1, 0])
def test_an_email_threshold_of_no_hours_is_refused(tmp_path, hours):
    """reports.email_threshold_h: -1 published a tile "Email answered within -1 business hours 0.0%" (exit 0), where
    a negative sl_threshold_s is refused: both are now one line, exit 2."""
    params = tmp_path / "p.yaml"
    params.write_text(f"reports:\n  email_threshold_h: {hours}\n")
    data = build(tmp_path / "d", {})
    proc = run_cli(["run", "--month", "2025-01", "--data", str(data), "--params", str(params), "--out", str(tmp_path)])
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        == f"reportlib run: parameter reports.email_threshold_h must be > 0 business hours, got {hours}"
    )
    assert not (tmp_path / "2025-01").exists()


# --- item 10 and 2: input faults ---------------------------------------------------------------------


def test_13_10_csv_cut_mid_row_is_a_problem_naming_its_row(tmp_path, cache, capsys):
    cut = GOOD["contacts.csv"].rstrip("\n")[:-20]  # row 5 loses its last fields and the final newline
    status, out, err = validate(build(tmp_path / "d", {"contacts.csv": cut}), capsys)
    assert status == 1
    assert re.search(
        r"contacts\.csv row 5: expected 15 fields separated by commas, found 11 "
        r"\(the file ends in the middle of this row",
        out,
    ), out
    short_inside = GOOD["contacts.csv"].replace(",Eligibility,p1\n", "\n")  # row 2 two fields short
    status, out, _ = validate(build(tmp_path / "e", {"contacts.csv": short_inside}), capsys)
    assert status == 1 and "contacts.csv row 2: expected 15 fields separated by commas, found 13" in out


def test_13_10_reference_problems_name_their_rows(tmp_path, cache, capsys):
    text = (
        GOOD["contacts.csv"]
        .replace(",C2,2025-01-06T09:03", ",C9,2025-01-06T09:03")
        .replace(",C2,2025-01-06T09:01", ",C8,2025-01-06T09:01")
    )
    folder = build(tmp_path / "d", {"contacts.csv": text})
    expected = (
        "contacts.csv, column client_id: expected a client_id listed in clients.csv in 2 rows "
        '(first rows: 3 ("C8"), 5 ("C9"))'
    )
    for _ in range(2):  # first parsed from the file, then served from the cache
        status, out, _ = validate(folder, capsys)
        assert status == 1 and f"error: {expected}" in out.splitlines(), out
    one = build(tmp_path / "e", {"agent_activity.csv": GOOD["agent_activity.csv"].replace(",A1,", ",Z1,")})
    status, out, _ = validate(one, capsys)
    assert 'agent_activity.csv row 2, column agent_id: expected an agent_id listed in agents.csv, got "Z1"' in out


def test_13_10_client_id_of_300_characters_is_flagged_by_validate(tmp_path, cache, capsys):
    long_id = "C" * 300
    folder = build(
        tmp_path / "d",
        {
            "clients.csv": GOOD["clients.csv"].replace("C2,", f"{long_id},"),
            "contacts.csv": GOOD["contacts.csv"].replace(",C2,", f",{long_id},"),
        },
    )
    status, out, err = validate(folder, capsys)
    # a warning, not an error: the run renders it under a bounded file name (test_13_01), e-mail refuses
    # to substitute it into an address (test_13_02)
    assert status == 0
    assert re.search(
        r"^warning: clients\.csv row 3, column client_id: expected an id of at most 64 characters", out, re.MULTILINE
    ), out
    assert max(map(len, out.splitlines())) < 300  # the id is shown cut, not in full


@pytest.mark.parametrize("bad_id", ["x@attacker.test,y", "A B", "A/B", "../etc", "Ünïcode", "a\tb"])
def test_13_02_validate_warns_about_ids_outside_the_safe_set(tmp_path, cache, capsys, bad_id):
    folder = build(
        tmp_path / "d",
        {
            "clients.csv": GOOD["clients.csv"].replace("C2,", f'"{bad_id}",'),
            "contacts.csv": GOOD["contacts.csv"].replace(",C2,", f',"{bad_id}",'),
            "agents.csv": GOOD["agents.csv"].replace("A2,", f'"{bad_id}",'),
        },
    )
    status, out, err = validate(folder, capsys)
    assert status == 0, out
    warnings = [ln for ln in out.splitlines() if ln.startswith("warning: ")]
    assert len(warnings) == 2, out
    assert warnings[0].startswith("warning: agents.csv row 3, column agent_id: expected an id of letters, digits")
    assert warnings[1].startswith("warning: clients.csv row 3, column client_id: expected an id of letters, digits")


def _xlsx_bytes() -> bytes:
    buf = io.BytesIO()
    pd.DataFrame({"client_id": ["C1"], "client_name": ["x"]}).to_excel(buf, index=False)
    return buf.getvalue()[:200]  # a workbook cut short


@pytest.mark.parametrize(
    "changes",
    [
        {"clients.csv": "client_id,client_name,sla_profile\nC1,Caf\xe9,gold\nC2,B,silver\n".encode("latin-1")},
        {"clients.csv": None, "clients.xlsx": _xlsx_bytes()},
        {"clients.csv": "client_id,client_name,tier,sla_profile\n"},
        {"clients.csv": None, "clients.parquet": b"PAR1 not really parquet PAR1"},
    ],
    ids=["latin-1", "xlsx", "header-only", "corrupt-parquet"],
)
def test_13_10_validate_prints_no_line_twice(tmp_path, cache, capsys, changes):
    status, out, err = validate(build(tmp_path / "d", changes), capsys)
    assert status == 1
    lines = [ln for ln in out.splitlines() if ln.startswith(("error", "warning"))]
    assert len(lines) == 1 and "clients." in lines[0], out
    assert len(lines) == len(set(lines)) and "Traceback" not in err


def test_13_10_import_bank_on_a_file_that_is_not_the_banks_exits_1(tmp_path, capsys):
    foreign = tmp_path / "contacts.csv"
    foreign.write_text(GOOD["contacts.csv"])
    assert main(["import-bank", str(foreign), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "not an Anonymous Bank file" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
    binary = tmp_path / "calls.txt"
    binary.write_bytes(os.urandom(200_000).replace(b"\n", b"x"))
    assert main(["import-bank", str(binary), "--out", str(tmp_path / "o")]) == 1


# --- beyond the listed probes: a data folder written by someone hostile ------------------------------


def test_13_10_link_out_of_the_data_folder_is_refused_without_reading_it(tmp_path, cache, capsys):
    secret = tmp_path / "secret.csv"
    secret.write_text("root:x:0:0:topsecret\n")
    folder = build(tmp_path / "d", {"clients.csv": None})
    (folder / "clients.csv").symlink_to(secret)
    status, out, err = validate(folder, capsys)
    assert status == 1 and "topsecret" not in out + err
    assert "clients.csv: a link to a file outside the data folder" in out
    assert "clients: required table is missing" not in out  # named once, as refused, not also as missing
    # a command that does not need the table says it left it unread, instead of going on in silence
    assert main(["kpis", "--data", str(folder), "--month", "2025-01", "--format", "csv"]) == 0
    err = capsys.readouterr().err
    assert "reportlib kpis: not read: clients.csv: a link to a file outside the data folder" in err
    assert "topsecret" not in err
    inside = build(tmp_path / "e", {"clients.csv": None})
    (inside / "clients-2025.txt").write_text(GOOD["clients.csv"])
    (inside / "clients.csv").symlink_to(inside / "clients-2025.txt")  # inside the folder: allowed
    assert validate(inside, capsys)[0] == 0


def test_13_10_pipe_or_folder_named_like_a_table_is_refused_without_hanging(tmp_path, cache, capsys):
    folder = build(tmp_path / "d", {"agent_activity.csv": None, "qa_evaluations.csv": None})
    os.mkfifo(folder / "agent_activity.csv")  # reading it would block forever
    (folder / "qa_evaluations.csv").mkdir()
    status, out, err = validate(folder, capsys)
    assert status == 1
    assert "agent_activity.csv: not a regular file" in out and "qa_evaluations.csv: not a regular file" in out


def test_13_10_nul_byte_deep_in_a_csv_names_its_row(tmp_path, cache, capsys):
    rows = many_contacts(2_000).splitlines()
    rows[1500] = rows[1500].replace("Eligibility", "Elig\x00ibility")
    status, out, _ = validate(build(tmp_path / "d", {"contacts.csv": "\n".join(rows) + "\n"}), capsys)
    assert status == 1 and "contacts.csv row 1501: not a text file (it holds binary data: a NUL byte)" in out


def test_13_10_huge_field_gives_one_short_line(tmp_path, cache, capsys):
    huge = "9" * 5_000_000
    status, out, err = validate(
        build(tmp_path / "d", {"contacts.csv": GOOD["contacts.csv"].replace(",12,300,", f",-{huge},300,")}), capsys
    )
    assert status == 1
    (line,) = [ln for ln in out.splitlines() if "wait_s" in ln]
    assert line.startswith("error: contacts.csv row 2, column wait_s:") and len(line) < 200
    header = ",".join(c * 100_000 for c in "xyz") + "\n1,2,3\n"  # three huge column names
    status, out, err = validate(build(tmp_path / "e", {"clients.csv": header}), capsys)
    assert status == 1 and max(map(len, (out + err).splitlines())) < 1000


def test_13_10_unreadable_table_file_is_one_line(tmp_path, cache, capsys, monkeypatch):
    import builtins

    from reportlib.data import load

    folder = build(tmp_path / "d", {})

    def refuse(path, *args, **kwargs):  # as open() does for a file of mode 000 owned by someone else
        if str(path).endswith("agents.csv"):
            raise PermissionError(13, "Permission denied", str(path))
        return builtins.open(path, *args, **kwargs)

    monkeypatch.setattr(load, "open", refuse, raising=False)
    status, out, err = validate(folder, capsys)
    assert status == 1 and "error: agents.csv: cannot be read (Permission denied)" in out.splitlines()
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "changes,shown",
    [
        (  # a quoted newline in an id: the warning must not go on with a forged line
            {
                "clients.csv": GOOD["clients.csv"].replace("C2,", '"C2\nerror: none, all good\n",'),
                "contacts.csv": GOOD["contacts.csv"].replace(",C2,", ',"C2\nerror: none, all good\n",'),
            },
            r'"C2\nerror: none, all good"',
        ),
        (  # terminal escapes (clear the screen, red) in an id
            {
                "clients.csv": GOOD["clients.csv"].replace("C2,", "C\x1b[2J\x1b[31m2,"),
                "contacts.csv": GOOD["contacts.csv"].replace(",C2,", ",C\x1b[2J\x1b[31m2,"),
            },
            r'"C\x1b[2J\x1b[31m2"',
        ),
        (  # a right-to-left override that shows "C2" as "2C" reversed text in a terminal
            {
                "clients.csv": GOOD["clients.csv"].replace("C2,", "C\u202e2,"),
                "contacts.csv": GOOD["contacts.csv"].replace(",C2,", ",C\u202e2,"),
            },
            r'"C\u202e2"',
        ),
        (  # a number cell holding a newline: an error, not two lines
            {"contacts.csv": GOOD["contacts.csv"].replace(",12,300,", ',"1\n2",300,')},
            r'got "1\n2"',
        ),
        (  # a reference to no client, with a newline
            {"contacts.csv": GOOD["contacts.csv"].replace(",C2,", ',"C9\nfake",')},
            r'("C9\nfake")',
        ),
    ],
    ids=["newline-id", "ansi-id", "rtl-override-id", "newline-number", "newline-reference"],
)
def test_13_10_values_quoted_in_messages_cannot_add_lines_or_terminal_escapes(tmp_path, cache, capsys, changes, shown):
    """A value from the data is shown with its control and format characters escaped (\\n, \\x1b,
    \\u202e): a problem stays one line, and the terminal shows what the cell holds."""
    status, out, err = validate(build(tmp_path / "d", changes), capsys)
    lines = out.splitlines()
    assert all(re.match(r"(error|warning): |/", ln) for ln in lines), out
    assert shown in out, out
    assert not any(ch in out + err for ch in "\x1b\u202e"), out


def test_13_10_ids_echoed_in_command_messages_cannot_carry_terminal_escapes(tmp_path):
    """`run --clients Z9` lists the clients table's ids in its usage error: an ESC or a right-to-left
    override in an id reached the terminal as is."""
    folder = build(
        tmp_path / "d",
        {
            "clients.csv": GOOD["clients.csv"].replace("C2,", "C\x1b[2J\u202e2,"),
            "contacts.csv": GOOD["contacts.csv"].replace(",C2,", ",C\x1b[2J\u202e2,"),
        },
    )
    proc = run_cli(["run", "--month", "2025-01", "--data", str(folder), "--clients", "Z9", "--out", str(tmp_path)])
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("reportlib run: ")]
    assert lines[-1] == "reportlib run: unknown client id Z9; the clients table has C\\x1b[2J\\u202e2, C1", lines
    assert "\x1b" not in proc.stderr and "\u202e" not in proc.stderr


@pytest.mark.parametrize("command", ["kpis", "attrition"])
def test_month_previous_is_read_as_run_reads_it_and_an_empty_month_is_one_line(tmp_path, command, capsys):
    """`--month previous` was refused by kpis and attrition ("YYYY-MM") though run and email take it: it is the last
    complete month in the parameters' time zone for them too; a month without data is one line (the kpis note on
    grouped channels came before the error)."""
    from reportlib.cli import main
    from reportlib.core.months import resolve_month

    code = main([command, "--data", str(build(tmp_path / "d", {})), "--month", "previous"])
    said = [s for s in capsys.readouterr().err.splitlines() if not s.startswith("reportlib: parsed")]  # progress
    assert code == 1 and len(said) == 1, said
    assert resolve_month("previous", "America/New_York") in said[0], said


def test_a_users_older_parameters_copy_does_not_make_a_new_key_unknown(tmp_path, monkeypatch):
    """A user's own parameters/ (REPORTLIB_HOME) copied before a setting was added lacks its key: the key is still
    known (the keys shipped with the code count too), and a misspelling of it is still refused."""
    import shutil

    from reportlib.core.errors import UsageError
    from reportlib.core.params import load_params

    home = tmp_path / "home"
    shutil.copytree(Path(__file__).resolve().parents[1] / "parameters", home / "parameters")
    (home / "notebooks").mkdir()
    cal = home / "parameters" / "calendar.yaml"
    lines = cal.read_text().splitlines()
    cal.write_text("\n".join(x for x in lines if not x.startswith("exclude_from_history")) + "\n")
    monkeypatch.setenv("REPORTLIB_HOME", str(home))
    overlay = tmp_path / "p.yaml"
    overlay.write_text("calendar:\n  exclude_from_history: [2026-11-30]\n")
    assert load_params(overlay, strict=True)["calendar"]["exclude_from_history"]
    overlay.write_text("calendar:\n  exclude_from_histry: [2026-11-30]\n")
    with pytest.raises(UsageError, match="did you mean exclude_from_history"):
        load_params(overlay, strict=True)


def test_validate_reads_the_calendar_as_run_does(tmp_path):
    """`validate --params` passed a calendar that run, lab and forecast refuse (an exclusion without a date)."""
    params = tmp_path / "p.yaml"
    params.write_text("calendar:\n  exclude_from_history: [{date: 2026-11-30}]\n")
    proc = run_cli(["validate", "--data", str(build(tmp_path / "d", {})), "--params", str(params)])
    assert proc.returncode == 2 and "exclude_from_history item 1: unknown key date" in proc.stderr, proc.stderr


def test_folders_the_toolkit_makes_and_the_samples_files_are_the_owners_alone(tmp_path):
    """A probe: the outputs folder, the vintages folder and a dry run's folder were made 0755 (their files' names
    name clients and agents), and `sample-data` wrote agents.csv (names, hourly cost) 0644 where `import-hr` writes
    0600. Whatever the umask, each is now its owner's alone."""
    import stat

    from reportlib.delivery import mail, run
    from reportlib.planning import forecast, sample

    def mode(p):
        return stat.S_IMODE(p.stat().st_mode)

    old = os.umask(0o022)
    try:
        run.check_output_dir(tmp_path / "outputs" / "reports", "2026-11")
        fc = pd.DataFrame(
            {"date": ["2026-12-01"], "channel": "phone", "queue": "Q", "forecast": 1.0, "lower": 1.0, "upper": 1.0}
        )
        forecast.archive_vintage(fc, tmp_path / "vintages", "2026-11-30")
        mail._write_eml(tmp_path / "dry", "C1", b"Subject: x\r\n\r\nbody\r\n")
        sample.sample_data(tmp_path / "sample", months=2, agents=12, clients=3, start="2025-01")
    finally:
        os.umask(old)
    for folder in ("outputs/reports", "vintages", "dry", "sample"):
        assert mode(tmp_path / folder) == 0o700, folder
    files = [f for f in (tmp_path / "sample").iterdir()]
    assert "agents.csv" in {f.name for f in files} and {mode(f) for f in files} == {0o600}
