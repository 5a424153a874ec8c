"""Equal numbers on every engine: the metric, SLA, attrition and forecast-input tests, run again with
their tables stored in DuckDB, PostgreSQL and Spark (issue 15).

The cases are the existing tests' own (tests/test_metrics.py, test_sla.py, test_attrition.py,
test_forecast.py), with their hand-computed oracles: each test's table helper is swapped for one
that stores the frame in the engine — on PostgreSQL and Spark as UTC instants read back through
WarehouseSource, which converts them to local wall time in the engine — so the same assertions
must hold there. A DST and month-edge case checks the conversion itself.
"""

from __future__ import annotations

import pandas as pd
import pytest
import test_attrition
import test_forecast
import test_metrics
import test_sla

METRIC_CASES = [
    "test_counts_and_every_metric_by_hand",
    "test_threshold_and_short_abandon_are_parameters",
    "test_open_email_is_offered_and_missed",
    "test_empty_groups_give_missing_not_errors",
    "test_grains_local_month_week_and_interval_edges",
    "test_dst_days_in_local_wall_time",
    "test_volume_weighted_not_average_of_percentages",
    "test_fcr_repeat_by_hand",
    "test_fcr_repeat_per_client_looks_within_the_client",
    "test_group_by_agent_attributes_joins_agents",
    "test_interval_kpis_missing_not_zero",
]
SLA_CASES = [
    "test_email_first_response_business_hours",
    "test_email_first_response_across_dst_uses_real_time",
    "test_email_backlog_at_period_end",
    "test_compliance_penalties_by_hand",
    "test_compliance_history_is_each_month_judged_on_its_own",
    "test_month_to_date_required_contacts_by_hand",
    "test_expected_remaining_volume_same_weekday_history",
    "test_email_figures_in_month_slices_equal_one_pass",
]
ATTRITION_CASES = [
    "test_headcount_on_dates_counts_the_termination_day_and_not_future_hires",
    "test_month_with_same_month_hire_and_leave_and_first_and_last_day_terminations",
    "test_fte_weighted_variants",
    "test_by_team_with_no_leavers_and_zero_headcount_team",
    "test_by_tenure_band",
    "test_rehire_is_two_people",
    "test_month_range_equals_single_months",
    "test_kaplan_meier_by_hand",
    "test_reasons_pareto_and_by_tenure_band",
]


@pytest.fixture()
def on_engine(engine):
    """The session's engine for one test; the sources it made are closed afterwards."""
    yield engine
    engine.close_sources()


def _engine_table(engine):
    def table(df: pd.DataFrame):
        name = "intervals" if "interval_start" in df.columns else "contacts"
        return engine.contract_table(df, name)

    return table


class _EngineIbis:
    """The ibis module, except that `ibis.duckdb.connect().create_table(name, frame)` stores into the engine
    (for the cases that make their own DuckDB connection)."""

    def __init__(self, engine):
        import ibis

        self._ibis, self._engine, self._connect = ibis, engine, ibis.duckdb.connect
        con = type("Con", (), {"create_table": lambda _self, name, frame: self._create(name, frame)})
        self.duckdb = type("DuckDB", (), {"connect": staticmethod(lambda *a, **k: con())})()

    def _create(self, name, frame):
        if self._engine.name == "duckdb":
            self._duck = getattr(self, "_duck", None) or self._connect()  # one connection: the case joins
            return self._duck.create_table(name, frame, overwrite=True)
        return self._engine.contract_table(frame, name)

    def __getattr__(self, name):
        return getattr(self._ibis, name)


@pytest.mark.parametrize("case", METRIC_CASES)
def test_metric_cases(on_engine, case, monkeypatch):
    monkeypatch.setattr(test_metrics, "table", _engine_table(on_engine))
    monkeypatch.setattr(test_metrics, "ibis", _EngineIbis(on_engine))
    getattr(test_metrics, case)()


@pytest.mark.parametrize("case", SLA_CASES)
def test_sla_cases(on_engine, case, monkeypatch):
    monkeypatch.setattr(test_sla, "table", _engine_table(on_engine))
    getattr(test_sla, case)()


@pytest.mark.parametrize("case", ATTRITION_CASES)
def test_attrition_cases(on_engine, case, monkeypatch):
    """The roster goes into the engine and comes back as `frame("agents")` (dates, booleans, FTE typed)."""
    original = test_attrition.roster()
    if on_engine.name == "duckdb":
        stored = original
    else:
        table = on_engine.contract_table(original, "agents")
        stored = on_engine.sources[-1].frame("agents")
        assert table.count().execute() == len(original)
    cols = list(original.columns)

    def same_units(f: pd.DataFrame) -> pd.DataFrame:
        f = f[cols].reset_index(drop=True).copy()
        for c in ("hire_date", "termination_date"):
            f[c] = f[c].astype("datetime64[ns]")
        return f

    pd.testing.assert_frame_equal(same_units(stored), same_units(original), check_dtype=False, check_exact=True)
    monkeypatch.setattr(test_attrition, "roster", lambda: stored[cols].copy())
    getattr(test_attrition, case)()


def test_forecast_input_cases(on_engine, monkeypatch):
    """Forecasting's daily and interval series, computed in the engine."""

    import ibis

    monkeypatch.setattr(ibis, "duckdb", _EngineIbis(on_engine).duckdb)  # the case imports ibis inside
    test_forecast.test_daily_and_interval_volume_in_the_engine()


def test_instants_land_on_the_local_day_and_month(on_engine):
    """Instants stored in UTC land on the same local day, month and interval on every engine.

    New York: a contact at 2025-02-01 03:30 UTC is 2025-01-31 22:30 local (January, not February);
    2025-03-09 06:59 UTC is 01:59 EST and 07:00 UTC is 03:00 EDT (spring forward: the 23-hour day);
    2025-11-02 05:30 and 06:30 UTC are both 01:30 local (the repeated hour); 2025-03-31 23:30 local
    is April in UTC.
    """
    from reportlib.metrics.contacts import contact_kpis

    utc = pd.to_datetime(
        [
            "2025-02-01 03:30",
            "2025-02-01 05:00",
            "2025-03-09 06:59",
            "2025-03-09 07:00",
            "2025-11-02 05:30",
            "2025-11-02 06:30",
            "2025-04-01 03:30",
        ]
    ).tz_localize("UTC")
    local = utc.tz_convert("America/New_York").tz_localize(None)
    rows = [dict(arrived_at=t.isoformat(), outcome="handled", wait_s=1, handle_s=10, agent_id="a") for t in utc]
    t = on_engine.contract_table(test_metrics.frame(rows))
    got = t.select("arrived_at").to_pandas()["arrived_at"].sort_values().tolist()
    assert [pd.Timestamp(x) for x in got] == sorted(pd.Timestamp(x) for x in local)
    m = contact_kpis(t, grain="month").set_index("period")["offered"].to_dict()
    assert m == {
        pd.Timestamp("2025-01-01"): 1,
        pd.Timestamp("2025-02-01"): 1,
        pd.Timestamp("2025-03-01"): 3,
        pd.Timestamp("2025-11-01"): 2,
    }
    d = contact_kpis(t, grain="day").set_index("period")["offered"].to_dict()
    assert d[pd.Timestamp("2025-01-31")] == 1 and d[pd.Timestamp("2025-02-01")] == 1
    assert d[pd.Timestamp("2025-03-09")] == 2 and d[pd.Timestamp("2025-11-02")] == 2
    q = contact_kpis(t, grain="15min").set_index("period")["offered"].to_dict()
    assert q[pd.Timestamp("2025-03-09 01:45")] == 1 and q[pd.Timestamp("2025-03-09 03:00")] == 1
    assert q[pd.Timestamp("2025-11-02 01:30")] == 2


def test_a_database_source_memo_is_shared_inside_a_run(pg_server, tmp_path, monkeypatch):
    """As the folder source's (tests/test_load.py::test_source_memo_is_shared_inside_a_run): with
    $REPORTLIB_SHARED_MEMO set, as `reportlib run` does for its workers and kernels, a second WarehouseSource
    of the same unchanged data reuses the first one's result; without it, each computes its own."""
    from _engines import Engine

    from reportlib.data.cache import SHARED_MEMO_ENV
    from reportlib.data.warehouse import WarehouseSource

    eng = Engine("postgres", tmp_path / "engine", pg=pg_server)
    row = dict(arrived_at="2025-03-01T10:00:00-05:00", outcome="handled", wait_s=1, handle_s=10, agent_id="a")
    eng.contract_table(test_metrics.frame([row]))
    url = eng.last_url
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o700)
    calls: list[int] = []
    try:
        monkeypatch.setenv(SHARED_MEMO_ENV, str(shared))
        eng.sources.append(WarehouseSource(url, "America/New_York"))
        assert eng.sources[-1].memo(("k",), lambda: calls.append(1) or 7) == 7
        eng.sources.append(WarehouseSource(url, "America/New_York"))
        assert eng.sources[-1].memo(("k",), lambda: calls.append(1) or 8) == 7
        monkeypatch.delenv(SHARED_MEMO_ENV)
        eng.sources.append(WarehouseSource(url, "America/New_York"))
        assert eng.sources[-1].memo(("k",), lambda: calls.append(1) or 9) == 9
        assert calls == [1, 1]
    finally:
        eng.close_sources()
