"""The forecast report's display helpers (reportlib.reports.forecast_view), checked against hand-worked figures:
the capacity plan's notes as sentences with the report's currency, and the methods chosen in a table of their own."""

from __future__ import annotations

import pandas as pd

from reportlib.planning.capacity import CapacityPlan
from reportlib.planning.forecast_select import BASELINES
from reportlib.reports import forecast_view as FV


def _plan() -> CapacityPlan:
    """Two weeks at a budget of 1,000 a week (2,000 in all) costing 2,500 and 228,573 with hires: 229,073 over."""
    weekly = pd.DataFrame({"cost_with_hires": [2_500.0, 228_573.0], "budget": [1_000.0, 1_000.0]})
    weekly["cumulative_cost_with_hires"] = weekly["cost_with_hires"].cumsum()
    weekly["cumulative_budget"] = weekly["budget"].cumsum()
    notes = [
        "1 week short of the required FTE cannot be covered by new hires (training takes 4 weeks): weeks "
        "starting 2026-12-07; consider overtime or other queues",
    ]
    return CapacityPlan(weekly, pd.DataFrame(), notes)


def test_capacity_notes_are_sentences_with_the_currency():
    assert _plan().over_budget == 229_073.0
    short, over = FV.capacity_notes(_plan(), "€")
    assert over == "The plan with the recommended hires costs €229,073 more than the budget over 2 weeks."
    assert short.startswith("1 week short") and short.endswith("consider overtime or other queues.")
    assert FV.capacity_notes(_plan())[1].startswith("The plan with the recommended hires costs $229,073 more")
    within = _plan()
    within.weekly["cumulative_budget"] = within.weekly["cumulative_cost_with_hires"]  # exactly on budget
    assert within.over_budget is None and len(FV.capacity_notes(within)) == 1


def _report() -> dict:
    methods = ["mean:regression+regression_no_events+regression_plain", "seasonal_naive"]
    ev = pd.DataFrame(
        {
            "queue": ["Accounts", "Benefits"],
            "channel": ["chat", "phone"],
            "method": methods,
            "history_days": [701, 702],
            "wape": [0.114, 0.095],
            **{f"wape_{b}": [0.2, 0.3] for b in BASELINES},
            "coverage": [0.798, 0.714],
            "width": [0.40, 0.27],
            "winkler": [0.55, 0.38],
        }
    )
    backtest = pd.DataFrame(
        {
            "channel": ["All queues"],
            "wape": [0.1],
            "wape_best_baseline": [0.14],
            "best_baseline": ["holiday_median"],
            "coverage": [0.78],
        }
    )
    return {"evidence": ev, "backtest": backtest, "backtest_by_horizon": pd.DataFrame()}


def test_methods_are_a_table_of_their_own_and_keep_their_full_names(monkeypatch):
    """The evidence table had the 100-character method names as one of twelve columns (rows 10+ lines tall):
    the names are now a two-column table and the evidence table holds figures only."""
    tables: list[tuple[pd.DataFrame, dict]] = []
    monkeypatch.setattr(FV.views, "table", lambda df, **kw: tables.append((df, kw)))
    monkeypatch.setattr(FV.views, "show", lambda fig: None)
    monkeypatch.setattr(FV.views, "paragraph", lambda text: None)
    monkeypatch.setattr(FV.charts, "line_chart", lambda *a, **k: None)
    FV.show_accuracy(_report())
    (methods, mkw), (evidence, ekw) = tables
    assert list(methods.columns) == ["series", "method"] and mkw["labels"]["method"] == "Method chosen"
    assert methods["series"].tolist() == ["Accounts chat", "Benefits phone"]
    assert methods["method"].tolist() == [
        "average of regression, all terms; regression without events; regression: weekdays and holidays only",
        "same weekday last week",
    ]
    assert "method" not in evidence.columns and evidence["series"].tolist() == ["Accounts chat", "Benefits phone"]
