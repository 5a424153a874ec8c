"""The sample operation (`reportlib sample-data`): file format, determinism and realism by assertion.

Oracles: the data contract (reportlib.data.contract) for columns; zoneinfo for the DST offsets; the
closed-form M/M/n+M state probabilities (abandon share = theta * E[queue] / lambda) for the
per-contact wait sampler; and, for realism, figures recomputed from the written CSV files with
plain pandas (volumes by month and day, abandon rate against staffing from agent_activity, the
tenure hazard from hire and termination dates).
"""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import yaml

from reportlib.cli import main
from reportlib.data.contract import TABLES
from reportlib.planning.sample import (
    SAMPLE_TABLES,
    SampleConfig,
    _arrow_column,
    default_start,
    erlang_a_waits,
    generate_roster,
    generate_sample,
    write_table,
)

TZ = "America/New_York"
SMALL = ["--start", "2025-01", "--months", "3", "--agents", "40", "--clients", "10"]
ROOT = Path(__file__).resolve().parent.parent


def _run(out: Path, *extra: str) -> None:
    assert main(["sample-data", "--out", str(out), *SMALL, *extra]) == 0


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """The small sample written once by the command line (seed 42)."""
    out = tmp_path_factory.mktemp("sample") / "data"
    _run(out)
    return out


@pytest.fixture(scope="module")
def frames(small) -> dict[str, pd.DataFrame]:
    """The small sample's CSV files read back with plain pandas, every value as text."""
    return {name: pd.read_csv(small / f"{name}.csv", dtype=str, keep_default_na=False) for name in SAMPLE_TABLES}


def _local(text: pd.Series) -> pd.Series:
    """ISO timestamps with offsets -> local wall-clock time in New York (naive)."""
    return pd.to_datetime(text, utc=True, format="ISO8601").dt.tz_convert(TZ).dt.tz_localize(None)


def _num(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series.replace("", np.nan))


# --- files ----------------------------------------------------------------------------------------


def test_files_follow_the_contract(small, frames):
    iso = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
    day = re.compile(r"^\d{4}-\d{2}-\d{2}$")
    for name in SAMPLE_TABLES:
        raw = (small / f"{name}.csv").read_bytes()
        text = raw.decode("utf-8")
        assert "\r" not in text and text.endswith("\n") and not text.startswith("\ufeff")
        assert text.split("\n", 1)[0].split(",") == TABLES[name].column_names
        frame = frames[name]
        assert len(frame) > 0
        for col in TABLES[name].columns:
            values = frame[col.name]
            filled = values[values != ""]
            if col.kind == "timestamp":
                assert filled.str.match(iso).all(), f"{name}.{col.name}"
            elif col.kind == "date":
                assert filled.str.match(day).all(), f"{name}.{col.name}"
            elif col.kind == "bool":
                assert set(values) <= {"true", "false", ""}, f"{name}.{col.name}"
            elif col.kind in ("float", "int"):
                assert pd.to_numeric(filled).notna().all(), f"{name}.{col.name}"
            if not col.nullable:
                assert (values != "").all(), f"{name}.{col.name} has empty values"
    assert frames["contacts"]["contact_id"].is_unique
    assert set(frames["clients"]["sla_profile"]) <= set(
        yaml.safe_load((ROOT / "parameters" / "sla_contracts.yaml").read_text())["profiles"]
    )


def test_same_seed_gives_identical_files(small, tmp_path):
    _run(tmp_path / "again")
    for name in SAMPLE_TABLES:
        assert (tmp_path / "again" / f"{name}.csv").read_bytes() == (small / f"{name}.csv").read_bytes(), name


def test_another_seed_gives_another_operation(small, tmp_path):
    _run(tmp_path / "other", "--seed", "7")
    for name in ("contacts", "agents", "agent_activity"):
        assert (tmp_path / "other" / f"{name}.csv").read_bytes() != (small / f"{name}.csv").read_bytes(), name


def test_validate_accepts_the_sample(small, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    assert main(["validate", "--data", str(small)]) == 0, capsys.readouterr()


def test_a_folder_that_holds_data_is_not_overwritten_without_replace(small, tmp_path, capsys):
    """A probe's second `sample-data --out` into the shared 24-month sample replaced it with a one-month one, exit 0.
    A folder holding any contract table is refused (exit 2, the files named, nothing written); --replace writes."""
    out = tmp_path / "data"
    out.mkdir()
    (out / "Agents.CSV").write_text("agent_id\nA1\n")
    (out / "notes.txt").write_text("mine")
    assert main(["sample-data", "--out", str(out), *SMALL]) == 2
    assert capsys.readouterr().err.strip() == (
        f"reportlib sample-data: {out} already holds data (Agents.CSV); write the sample into another folder, or "
        "add --replace to overwrite it"
    )
    assert sorted(p.name for p in out.iterdir()) == ["Agents.CSV", "notes.txt"]
    (out / "Agents.CSV").unlink()
    _run(out)  # a folder with other files alone is fine
    _run(out, "--replace")
    assert (out / "contacts.csv").read_bytes() == (small / "contacts.csv").read_bytes()


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["sample-data", "--out", str(tmp_path / "x"), "--months", "0"]) == 2
    assert main(["sample-data", "--out", str(tmp_path / "x"), "--agents", "2"]) == 2
    assert "--agents" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("start,months", [("1700-01", 3), ("2199-11", 3), ("this", 1), ("last", 2)])
def test_a_sample_validate_would_refuse_is_a_usage_error(tmp_path, capsys, start, months):
    """--start 1700-01 hired people before 1700 and --start 2199-11 --months 3 wrote contacts in 2200: a sample
    `validate` refuses (dates outside years 1700..2199); so is one reaching the month still running (contacts after
    today, which `validate` refuses): the last month ended is the latest."""
    last = pd.Timestamp.now(tz="America/New_York").tz_localize(None).to_period("M") - 1
    start = {"this": str(last + 1), "last": str(last)}.get(start, start)
    out = tmp_path / "x"
    assert main(["sample-data", "--out", str(out), "--start", start, "--months", str(months)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"reportlib sample-data: --start: expected a month from 1716-01 (people are hired up to 16 years "
        f"before it) with the last month by {last} (the last month ended: contacts cannot arrive after today), "
        f"got '{start}' and {months} month{'s' if months != 1 else ''}"
    )
    assert not out.exists()


def test_default_start_is_24_months_ending_last_month_in_new_york():
    assert default_start(pd.Timestamp("2026-11-27 10:00", tz=TZ)) == "2024-11"
    assert default_start(pd.Timestamp("2026-01-15 10:00", tz=TZ)) == "2024-01"
    # 03:00 UTC on 1 December is still 30 November in New York
    assert default_start(pd.Timestamp("2026-12-01 03:00", tz="UTC").tz_convert(TZ)) == "2024-11"
    assert default_start(pd.Timestamp("2026-11-27", tz=TZ), months=3) == "2026-08"


# --- time -----------------------------------------------------------------------------------------


def _check_offsets(text: pd.Series) -> None:
    """Each 'wall-clock time + offset' names a real New York time with the offset it has there."""
    zone, utc = ZoneInfo(TZ), ZoneInfo("UTC")
    wall = pd.to_datetime(text.str[:19]).dt.floor("h")
    pairs = pd.DataFrame({"wall": wall, "offset": text.str[19:]}).drop_duplicates()
    for stamp, offset in zip(pairs["wall"], pairs["offset"]):
        naive = stamp.to_pydatetime()
        allowed = set()
        for fold in (0, 1):
            aware = naive.replace(tzinfo=zone, fold=fold)
            assert aware.astimezone(utc).astimezone(zone).replace(tzinfo=None) == naive, f"{naive} does not exist"
            hours = int(aware.utcoffset().total_seconds() // 3600)
            allowed.add(f"-{abs(hours):02d}:00")
        assert offset in allowed, (stamp, offset, allowed)


def test_timestamps_are_local_time_with_dst_correct_offsets(frames):
    _check_offsets(frames["contacts"]["arrived_at"])
    _check_offsets(frames["qa_evaluations"]["evaluated_at"])
    offsets = frames["contacts"]["arrived_at"].str[19:]
    dates = frames["contacts"]["arrived_at"].str[:10]
    assert set(offsets[dates < "2025-03-09"]) == {"-05:00"}
    assert set(offsets[dates > "2025-03-09"]) == {"-04:00"}


def test_phone_and_chat_arrive_in_opening_hours(frames):
    c = frames["contacts"]
    local = pd.to_datetime(c["arrived_at"].str[:19])
    live = c["channel"] != "email"
    dow, hour = local.dt.dayofweek, local.dt.hour + local.dt.minute / 60
    weekday = live & (dow < 5)
    saturday = live & (dow == 5)
    assert ((hour[weekday] >= 8) & (hour[weekday] < 20)).all()
    assert ((hour[saturday] >= 9) & (hour[saturday] < 13)).all()
    assert not (live & (dow == 6)).any()
    assert not (live & (local.dt.strftime("%Y-%m-%d") == "2025-01-01")).any()  # New Year's Day: closed
    assert (~live & (dow == 6)).any()  # emails still arrive on Sundays


# --- contacts -------------------------------------------------------------------------------------


def test_contacts_are_coherent(frames):
    c = frames["contacts"]
    handled, abandoned, open_ = (c["outcome"] == v for v in ("handled", "abandoned", "open"))
    assert (handled | abandoned | open_).all()
    assert ((c.loc[handled, ["wait_s", "handle_s", "agent_id"]] != "").all()).all()
    assert ((c.loc[abandoned, ["handle_s", "agent_id"]] == "").all()).all() and (c.loc[abandoned, "wait_s"] != "").all()
    assert (c.loc[open_, "channel"] == "email").all() and (c.loc[open_, "wait_s"] == "").all()
    assert (c.loc[abandoned, "channel"] != "email").all()
    # emails still open at the end arrived in the last days of the window
    arrived = _local(c["arrived_at"])
    assert open_.any() and (arrived[open_] >= arrived.max() - pd.Timedelta(days=4)).all()
    for col in ("resolved_first_contact", "escalated", "transferred"):
        assert set(c.loc[handled, col]) == {"true", "false"} and (c.loc[~handled, col] == "").all()
    assert set(c["queue"]) == {"Benefits", "Import Files", "Debit Card", "Accounts", "Escalations"}
    assert set(c["channel"]) == {"phone", "chat", "email"}


def test_waits_by_channel_csat_fcr_and_repeat_callers(frames):
    c = frames["contacts"]
    handled = c["outcome"] == "handled"
    wait = _num(c["wait_s"])
    asa = wait[handled].groupby(c.loc[handled, "channel"]).mean()
    assert asa["chat"] < asa["phone"] < asa["email"]  # chat waits less than phone; email takes hours
    assert asa["email"] > 1800
    surveyed = (c["csat"] != "") & handled
    assert 0.10 < surveyed.sum() / handled.sum() < 0.20  # ~15% of handled contacts answer the survey
    assert set(_num(c.loc[surveyed, "csat"]).astype(int)) <= {1, 2, 3, 4, 5}
    assert 0.65 < (_num(c.loc[surveyed, "csat"]) >= 4).mean() < 0.95
    fcr = c.loc[handled, "resolved_first_contact"] == "true"
    assert 0.6 < fcr.mean() < 0.9
    # repeat contacts: the same caller about the same reason again within 7 days, more often after
    # contacts that were not resolved
    frame = pd.DataFrame(
        {
            "caller": c["caller_id"],
            "reason": c["reason"],
            "at": _local(c["arrived_at"]),
            "handled": handled,
            "fcr": c["resolved_first_contact"] == "true",
        }
    ).sort_values("at")
    nxt = frame.groupby(["caller", "reason"])["at"].shift(-1)
    frame["repeat"] = (nxt - frame["at"]) <= pd.Timedelta(days=7)
    h = frame[frame["handled"]]
    assert 0.05 < h["repeat"].mean() < 0.5
    assert h.loc[~h["fcr"], "repeat"].mean() > h.loc[h["fcr"], "repeat"].mean() + 0.1


def test_client_sizes_are_heavy_tailed(frames):
    share = frames["contacts"]["client_id"].value_counts(normalize=True)
    assert share.iloc[0] > 3 * share.median()
    assert len(set(frames["clients"]["tier"])) >= 2 and len(set(frames["clients"]["sla_profile"])) >= 2


# --- agents, activity and QA ----------------------------------------------------------------------


def test_roster_has_teams_sites_roles_and_classes(frames):
    ag = frames["agents"]
    assert set(ag["role"]) == {"agent", "lead", "supervisor"}
    assert ag["site"].nunique() == 2
    end = pd.Timestamp("2025-03-31")
    hire, term = pd.to_datetime(ag["hire_date"]), pd.to_datetime(ag["termination_date"].replace("", None))
    on = (hire <= end) & (term.isna() | (term >= end))
    front = ag[on & (ag["role"] != "supervisor")]
    per_team = front.groupby("team").size()
    assert per_team.between(8, 20).all()  # ~13 agents per supervisor
    sups = ag[on & (ag["role"] == "supervisor")]
    assert sorted(sups["team"]) == sorted(per_team.index)
    assert set(front["supervisor"]) <= set(ag.loc[ag["role"] == "supervisor", "name"])
    assert (front.groupby("team")["role"].apply(lambda r: (r == "lead").sum()) == 1).all()
    fte = _num(ag["fte"])
    assert ((fte > 0) & (fte <= 1)).all() and (_num(ag["hourly_cost"]) > 0).all()
    # agents join in classes: hire dates of agents hired in the window are shared by several people
    new = ag[(ag["role"] == "agent") & (hire >= pd.Timestamp("2025-01-01"))]
    assert len(new) >= 4 and new.groupby("hire_date").size().min() >= 4
    terminated = term.notna()
    assert (term[terminated] >= hire[terminated]).all()
    assert set(ag.loc[terminated, "termination_type"]) <= {"voluntary", "involuntary"}
    assert (ag.loc[~terminated, ["termination_type", "termination_reason", "regretted"]] == "").all().all()
    assert (ag.loc[ag["termination_type"] == "involuntary", "regretted"] == "false").all()


def test_agent_activity_matches_the_contacts(frames):
    c, a = frames["contacts"], frames["agent_activity"]
    handled = c[c["outcome"] == "handled"]
    # the local day each contact was answered: arrival + wait, in New York time
    answered = (
        pd.to_datetime(handled["arrived_at"], utc=True, format="ISO8601")
        + pd.to_timedelta(_num(handled["wait_s"]), unit="s")
    ).dt.tz_convert(TZ)
    sums = _num(handled["handle_s"]).groupby([handled["agent_id"], answered.dt.strftime("%Y-%m-%d")]).sum()
    sums.index.names = ["agent_id", "date"]
    act = a.set_index(["agent_id", "date"])
    assert act.index.is_unique
    assert sums.index.isin(act.index).all()  # nobody answers on a day they have no activity row
    recorded = _num(act["handle_s"])
    assert (recorded.loc[sums.index] == sums).all()
    assert (recorded.drop(sums.index) == 0).all()
    seconds = act[[k for k in act.columns if k.endswith("_s")]].apply(_num)
    aux = seconds[[k for k in seconds.columns if k.startswith("aux_")]].sum(axis=1)
    assert (seconds["handle_s"] + seconds["available_s"] + aux == seconds["logged_in_s"]).all()
    assert (seconds >= 0).all().all()
    assert (seconds["in_adherence_s"] <= seconds["scheduled_s"]).all()
    absent = act["absent_unplanned"] == "true"
    assert 0.01 < absent.mean() < 0.1
    assert (seconds.loc[absent, ["logged_in_s", "handle_s", "in_adherence_s"]] == 0).all().all()
    assert (seconds.loc[absent, "scheduled_s"] > 0).all()
    # plausible shape: occupancy, adherence, shrinkage
    occupancy = seconds["handle_s"].sum() / (seconds["handle_s"] + seconds["available_s"]).sum()
    adherence = seconds["in_adherence_s"].sum() / seconds["scheduled_s"].sum()
    shrinkage = 1 - (seconds["handle_s"] + seconds["available_s"]).sum() / seconds["scheduled_s"].sum()
    assert 0.5 < occupancy < 0.9 and 0.85 < adherence < 0.98 and 0.1 < shrinkage < 0.35
    # agents differ in adherence
    per_agent = seconds.groupby(level="agent_id")[["in_adherence_s", "scheduled_s"]].sum()
    ratio = per_agent["in_adherence_s"] / per_agent["scheduled_s"]
    assert ratio.max() - ratio.min() > 0.04


def test_qa_evaluations(frames):
    q, c = frames["qa_evaluations"], frames["contacts"]
    score = _num(q["score"])
    assert score.between(0, 100).all() and 80 < score.mean() < 92
    assert 0 < (q["critical_error"] == "true").mean() < 0.1
    per = q.groupby([q["agent_id"], q["evaluated_at"].str[:7]]).size()
    assert 3 <= per.median() <= 6  # ~4 per agent per month
    linked = q.merge(c[["contact_id", "agent_id", "arrived_at"]], on="contact_id", suffixes=("", "_contact"))
    assert len(linked) == len(q)
    assert (linked["agent_id"] == linked["agent_id_contact"]).all()
    assert (_local(linked["evaluated_at"]) > _local(linked["arrived_at"])).all()


def test_new_agents_are_slower_and_improve(frames):
    c, ag = frames["contacts"], frames["agents"]
    phone = c[(c["outcome"] == "handled") & (c["channel"] == "phone")].copy()
    phone["rel"] = _num(phone["handle_s"]) / _num(phone["handle_s"]).groupby(phone["queue"]).transform("mean")
    hire = pd.to_datetime(ag.set_index("agent_id")["hire_date"])
    tenure = (_local(phone["arrived_at"]) - phone["agent_id"].map(hire)).dt.days
    new, seasoned = phone["rel"][tenure < 90], phone["rel"][tenure > 365]
    assert len(new) > 100
    assert new.mean() > 1.15 * seasoned.mean()
    q = frames["qa_evaluations"]
    q_tenure = (_local(q["evaluated_at"]) - q["agent_id"].map(hire)).dt.days
    assert _num(q["score"])[q_tenure < 90].mean() < _num(q["score"])[q_tenure > 365].mean()


# --- queueing -------------------------------------------------------------------------------------


def _erlang_a_exact(n: int, lam: float, aht: float, patience: float, states: int = 600) -> tuple[float, float]:
    """(share abandoning, share waiting) of M/M/n+M from its birth-death state probabilities."""
    mu, theta = 1 / aht, 1 / patience
    p = [1.0]
    for j in range(1, states):
        p.append(p[-1] * lam / (min(j, n) * mu + max(j - n, 0) * theta))
    p = np.array(p) / sum(p)
    queue = (np.maximum(np.arange(states) - n, 0) * p).sum()
    return theta * queue / lam, p[n:].sum()


@pytest.mark.parametrize(
    "n, erlangs, aht, patience",
    [(5, 2.5, 830, 300), (10, 9.5, 750, 240), (3, 3.5, 700, 240), (1, 0.3, 800, 240), (25, 24, 600, 300)],
)
def test_wait_sampler_matches_erlang_a(n, erlangs, aht, patience):
    groups, per = 4000, 10
    rng = np.random.default_rng(5)
    lam = erlangs / aht
    wait, abandoned = erlang_a_waits(
        np.full(groups, n),
        np.full(groups, lam),
        np.full(groups, float(aht)),
        np.full(groups, float(patience)),
        np.full(groups, per),
        rng,
    )
    p_abandon, p_wait = _erlang_a_exact(n, lam, aht, patience)
    sd = np.sqrt(p_abandon * (1 - p_abandon) / (groups * per))
    assert abs(abandoned.mean() - p_abandon) < 5 * sd + 0.002
    assert abs((wait > 0).mean() - p_wait) < 0.01
    assert (wait >= 0).all()


@pytest.fixture(scope="module")
def small_model():
    """The same small operation generated in process, with the model's per-interval staffing."""
    return generate_sample(SampleConfig(start="2025-01", months=3, agents=40, clients=10, seed=42))


def test_roster_alone_equals_the_full_generators_roster(small_model):
    roster = generate_roster(SampleConfig(start="2025-01", months=3, agents=40, clients=10, seed=42))
    pd.testing.assert_frame_equal(roster, small_model.tables["agents"])


def test_in_process_tables_equal_the_files(small_model, frames):
    assert len(small_model.tables["contacts"]) == len(frames["contacts"])
    ids = small_model.tables["contacts"]["contact_id"].astype(str).to_numpy()
    assert (ids == frames["contacts"]["contact_id"]).all()


def test_abandon_rate_rises_as_staffing_falls_per_interval(small_model):
    st = small_model.staffing
    st = st[st["erlangs"] > 0.5]
    bins = pd.qcut(st["agents"] / st["erlangs"], 5, labels=False)
    rate = st.groupby(bins)["abandoned"].sum() / st.groupby(bins)["offered"].sum()
    assert (np.diff(rate.to_numpy()) < 0).all(), rate  # fewer agents per Erlang of load, more abandons
    assert rate.iloc[0] > 3 * rate.iloc[-1]


def test_abandon_rate_rises_as_staffing_falls_per_day(frames):
    """From the files alone: days with less productive agent time per phone/chat contact lose more callers."""
    c, a = frames["contacts"], frames["agent_activity"]
    live = c[c["channel"] != "email"]
    live = live[~((live["outcome"] == "abandoned") & (_num(live["wait_s"]) < 5))]  # short abandons excluded
    day = live.groupby(live["arrived_at"].str[:10]).agg(
        offered=("outcome", "size"), abandon=("outcome", lambda x: (x == "abandoned").mean())
    )
    working = a[a["absent_unplanned"] == "false"]
    capacity = (_num(working["handle_s"]) + _num(working["available_s"])).groupby(working["date"]).sum()
    day = day.join(capacity.rename("capacity"))
    day = day[day["offered"] > 200]  # ordinary weekdays
    day["per_contact"] = day["capacity"] / day["offered"]
    tercile = pd.qcut(day["per_contact"], 3, labels=False)
    rate = day.groupby(tercile)["abandon"].mean()
    assert rate.iloc[0] > 2 * rate.iloc[2]


# --- seasonality and attrition --------------------------------------------------------------------


@pytest.fixture(scope="module")
def season():
    """October 2024 - January 2025 (open enrollment and the plan-year surge), in process."""
    return generate_sample(SampleConfig(start="2024-10", months=4, agents=40, clients=10, seed=3)).tables


def test_benefits_calendar_and_holidays(season):
    c = season["contacts"]
    local = c["arrived_at"].dt.tz_localize(None)
    day = local.dt.normalize()
    open_day = day.dt.dayofweek < 5
    per_day = c[open_day].groupby([day[open_day].dt.to_period("M"), day[open_day]]).size()
    monthly = per_day.groupby(level=0).median()
    assert monthly[pd.Period("2025-01")] > 1.15 * monthly[pd.Period("2024-10")]  # January above October
    benefits = c[open_day & (c["queue"] == "Benefits")]
    b = benefits.groupby([day.dt.to_period("M"), day]).size().groupby(level=0).median()
    assert b[pd.Period("2024-11")] > 1.15 * b[pd.Period("2024-10")]  # open enrollment
    # Import Files: deadlines in the first business days of the month
    imp = c[open_day & (c["queue"] == "Import Files")].groupby(day).size()
    first = imp[imp.index.day <= 3].mean()
    mid = imp[(imp.index.day >= 10) & (imp.index.day <= 25)].mean()
    assert first > 1.5 * mid
    phone = c[c["channel"] == "phone"].groupby(day).size()
    weekday = phone[phone.index.dayofweek < 5]
    assert pd.Timestamp("2024-11-28") not in phone.index  # Thanksgiving: closed
    assert phone[pd.Timestamp("2024-11-11")] < 0.7 * weekday["2024-11"].median()  # Veterans Day: quiet
    assert phone[phone.index.dayofweek == 5].max() < 0.25 * weekday.median()  # light Saturdays
    assert weekday[weekday.index.dayofweek == 0].mean() > weekday[weekday.index.dayofweek == 4].mean()
    hour = local[c["channel"] == "phone"].dt.hour.value_counts()
    assert hour[10] > 3 * hour[19]  # mid-morning peak, quiet evening


def test_written_offsets_follow_dst_across_the_fall_back(season, tmp_path):
    write_table(season["contacts"], "contacts", tmp_path / "contacts.csv")
    text = pd.read_csv(tmp_path / "contacts.csv", usecols=["arrived_at"], dtype=str)["arrived_at"]
    _check_offsets(text)
    assert set(text[text < "2024-11-03"].str[19:]) == {"-04:00"}
    assert set(text[text >= "2024-11-04"].str[19:]) == {"-05:00"}


def test_timestamp_text_matches_the_standard_library():
    """The fast formatter against datetime.isoformat, every 10 minutes through both DST nights."""
    zone = ZoneInfo(TZ)
    instants = pd.concat(
        [
            pd.Series(pd.date_range(f"{day} 04:00", periods=48, freq="10min", tz="UTC"))
            for day in ("2024-11-03", "2025-03-09")
        ],
        ignore_index=True,
    )
    local = instants.dt.tz_convert(TZ)
    ours = _arrow_column(local, "timestamp").to_pylist()
    expected = [t.to_pydatetime().astimezone(zone).isoformat() for t in instants]
    assert ours == expected
    assert {s[19:] for s in ours} == {"-04:00", "-05:00"}


def test_early_tenure_attrition_hazard_is_highest():
    ag = generate_roster(SampleConfig(start="2023-01", months=24, agents=600, seed=11))
    ag = ag[ag["role"] == "agent"]
    start, end = pd.Timestamp("2022-01-01"), pd.Timestamp("2024-12-31")  # the roster covers 12 months before
    hire, term = ag["hire_date"], ag["termination_date"]
    exposure = {"early": 0.0, "later": 0.0}
    events = {"early": 0, "later": 0}
    for h, t in zip(hire, term):
        first, last = max(h, start), min(t if pd.notna(t) else end, end)
        if last < first:
            continue
        boundary = h + pd.Timedelta(days=90)
        exposure["early"] += max(0, (min(last, boundary) - first).days)
        exposure["later"] += max(0, (last - max(first, boundary)).days)
        if pd.notna(t) and start <= t <= end:
            events["early" if t < boundary else "later"] += 1
    hazard = {k: events[k] / exposure[k] for k in events}
    assert events["early"] >= 30
    assert hazard["early"] > 2 * hazard["later"]
    left = ag[term.notna()]
    voluntary = (left["termination_type"] == "voluntary").mean()
    assert 0.65 < voluntary < 0.85  # about three quarters voluntary
    assert set(left.loc[left["termination_type"] == "involuntary", "termination_reason"]) <= {
        "Attendance",
        "Performance",
        "Conduct",
    }
    assert {"Better pay", "Schedule", "Career change"} <= set(left["termination_reason"])
    assert 0.2 < left.loc[left["termination_type"] == "voluntary", "regretted"].astype(bool).mean() < 0.8
    # annual attrition of front-line agents in a plausible contact-centre range
    year = (term >= "2024-01-01") & (term <= "2024-12-31")
    mid_year = ((hire <= "2024-07-01") & (term.isna() | (term >= "2024-07-01"))).sum()
    assert 0.2 < year.sum() / mid_year < 0.5
