"""Labor cost, cost per contact and budget variance against hand-computed oracles (reportlib.metrics.cost)."""

from __future__ import annotations

import pandas as pd
import pytest
from test_metrics import frame, table

from reportlib.core.errors import ReportlibError
from reportlib.metrics.cost import budget_vs_actual, cost_per_contact, labor_cost, monthly_budget

AGENTS = pd.DataFrame(
    {
        "agent_id": ["a1", "a2", "L1", "a4"],
        "team": ["North", "North", "North", "South"],
        "role": ["agent", "agent", "lead", "agent"],
        "hourly_cost": [30.0, 20.0, 40.0, None],
    }
)


def activity() -> pd.DataFrame:
    rows = [
        ("2025-01-30", "a1", 28800),
        ("2025-01-31", "a1", 28800),
        ("2025-01-31", "a2", 28800),
        ("2025-01-31", "L1", 28800),
        ("2025-01-31", "a4", 14400),
        ("2025-02-03", "a1", 28800),
    ]
    df = pd.DataFrame(rows, columns=["date", "agent_id", "scheduled_s"])
    df["date"] = pd.to_datetime(df["date"])
    return df


def contacts() -> pd.DataFrame:
    def c(channel, agent, handle, when="2025-01-31 10:00", outcome="handled"):
        return dict(
            channel=channel,
            agent_id=agent,
            handle_s=handle,
            arrived_at=when,
            outcome=outcome,
            wait_s=5,
            queue="Benefits" if channel == "phone" else "Accounts",
        )

    return frame(
        [
            c("phone", "a1", 100),
            c("phone", "a1", 200),
            c("phone", "a1", 300),  # a1: 600 s phone
            c("email", "a1", 600),  # a1: 600 s email -> a1's cost splits 50/50
            c("phone", "a2", 300),  # a2: all phone
            c("phone", None, None, outcome="abandoned"),  # not handled: no cost
            c("phone", "a2", 900, when="2025-02-03 10:00"),  # February
        ]
    )


def test_labor_cost_by_hand():
    jan = labor_cost(activity(), AGENTS, grain="month", by=["team"]).set_index(["period", "team"])
    north = jan.loc[(pd.Timestamp("2025-01-01"), "North")]
    assert north["scheduled_h"] == 32 and north["labor_cost"] == pytest.approx(16 * 30 + 8 * 20 + 8 * 40)
    south = jan.loc[(pd.Timestamp("2025-01-01"), "South")]
    assert south["labor_cost"] == 0 and south["unpriced_hours"] == 4  # no hourly cost: counted, not free
    feb = labor_cost(activity(), AGENTS, grain="month").set_index("period")
    assert feb.loc[pd.Timestamp("2025-02-01"), "labor_cost"] == pytest.approx(8 * 30)


def test_cost_per_contact_allocates_by_handle_time():
    out = cost_per_contact(table(contacts()), activity(), AGENTS, "2025-01", by=["channel"]).set_index("channel")
    # direct: a1 480 split 600/600 s -> phone 240, email 240; a2 160 all phone
    assert out.loc["phone", "direct_cost"] == pytest.approx(400)
    assert out.loc["email", "direct_cost"] == pytest.approx(240)
    # overhead: the lead's 320 by handle-time share: phone 900 of 1500 s, email 600
    assert out.loc["phone", "overhead_cost"] == pytest.approx(320 * 900 / 1500)
    assert out.loc["email", "overhead_cost"] == pytest.approx(320 * 600 / 1500)
    assert out.loc["phone", "handled"] == 4 and out.loc["email", "handled"] == 1
    assert out.loc["phone", "cost_per_contact"] == pytest.approx((400 + 192) / 4)
    assert out.loc["email", "cost_per_contact"] == pytest.approx((240 + 128) / 1)
    assert out["labor_cost"].sum() == pytest.approx(480 + 160 + 320)  # the month's priced labor
    q = cost_per_contact(table(contacts()), activity(), AGENTS, "2025-01", by=["queue", "client_id"])
    assert q["labor_cost"].sum() == pytest.approx(960)


def test_budget_vs_actual():
    budget = {"labor": {"monthly": 1000, "months": {"2025-01": 900}}}
    assert monthly_budget(budget, "2025-02") == 1000
    out = budget_vs_actual(activity(), AGENTS, budget, ["2025-01", "2025-02"]).set_index("month")
    assert out.loc["2025-01", "actual"] == pytest.approx(960)
    assert out.loc["2025-01", "variance"] == pytest.approx(60)
    assert out.loc["2025-01", "variance_share"] == pytest.approx(60 / 900)
    assert bool(out.loc["2025-01", "over_budget"]) is True
    assert out.loc["2025-02", "variance"] == pytest.approx(240 - 1000)
    with pytest.raises(ReportlibError, match="budget.yaml"):
        monthly_budget({}, "2025-01")
