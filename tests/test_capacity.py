"""The capacity plan's arithmetic, checked by hand on small cases."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from reportlib.core.errors import UsageError
from reportlib.planning.capacity import (
    DAYS_PER_MONTH,
    HiringSettings,
    capacity_plan,
    flat_hazard,
    plan_summary,
    planned_classes,
    roles_of,
)

START = pd.Timestamp("2026-01-05")  # a Monday


def _roster(n: int = 10, tenure_days: int = 730, **extra) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "agent_id": [f"a{i}" for i in range(n)],
            "hire_date": START - pd.Timedelta(days=tenure_days),
            "termination_date": pd.NaT,
            "fte": 1.0,
            "hourly_cost": 20.0,
            "role": "agent",
        }
    )
    for k, v in extra.items():
        frame[k] = v
    return frame


def test_hand_case_ten_agents_two_percent_class_of_five():
    """10 agents, 2% a month, a class of 5 starting week 3, 4 weeks of training, ramp 50% then 100%."""
    settings = HiringSettings(
        training_weeks=4, ramp=(0.5,), hourly_cost=20.0, cost_per_hire=1000.0, hours_per_fte_week=40.0
    )
    plan = capacity_plan(
        _roster(),
        flat_hazard(0.02),
        [12.0] * 12,
        START,
        settings=settings,
        classes=pd.DataFrame({"start_week": [3], "hires": [5]}),
        budget_per_week=10000,
    )
    w = plan.weekly.set_index("week")
    s = 0.98 ** (7 / 30.4375)  # a week's survival: (1 - 2%) per 365.25/12-day month
    assert DAYS_PER_MONTH == pytest.approx(30.4375)
    for k in range(12):
        class_head = 5 * s ** (k - 3) if k >= 3 else 0.0
        assert w.loc[k, "headcount"] == pytest.approx(10 * s**k + class_head, rel=1e-12)
        assert w.loc[k, "in_training"] == pytest.approx(class_head if 3 <= k <= 6 else 0.0, rel=1e-12)
    # the class trains in weeks 3-6, works at 50% in week 7 and 100% from week 8
    assert w.loc[6, "productive_fte"] == pytest.approx(10 * s**6)
    assert w.loc[7, "productive_fte"] == pytest.approx(10 * s**7 + 0.5 * 5 * s**4)
    assert w.loc[8, "productive_fte"] == pytest.approx(10 * s**8 + 5 * s**5)
    assert w.loc[7, "productive_fte"] == pytest.approx(12.1340, abs=1e-4)
    assert w.loc[7, "gap_fte"] == pytest.approx(w.loc[7, "productive_fte"] - 12.0)
    assert w.loc[3, "planned_hires"] == 5 and w["planned_hires"].sum() == 5
    # cost: paid hours of everyone on the payroll, plus 1,000 per hire in the class's first week
    assert w.loc[0, "cost"] == pytest.approx(10 * 40 * 20.0)
    assert w.loc[3, "cost"] == pytest.approx((10 * s**3 + 5) * 40 * 20.0 + 5 * 1000.0)
    assert w.loc[4, "cost"] == pytest.approx((10 * s**4 + 5 * s) * 40 * 20.0)

    # recommendation: weeks 0-6 are short and the planned class covers week 7 on (12.13 FTE, then 14.5). 7 of the
    # 12 weeks are short, so the plan's median week is short: by (short(0) + short(1)) / 2, the two smallest
    # shortfalls; week 4 is the first a hire reaches (4 training weeks), counted at full productivity there:
    # ceil(median / s^4) = 3 hires starting now. Weeks 0-3 no hire reaches, week 4 they work at 50%.
    short = [12 - 10 * s**k for k in range(7)]
    median = (short[0] + short[1]) / 2
    assert plan.recommended[["start_week", "hires"]].values.tolist() == [[0, math.ceil(median / s**4)]] == [[0, 3]]
    assert (w.loc[:4, "gap_fte_with_hires"] < 0).all() and (w.loc[5:, "gap_fte_with_hires"] >= 0).all()
    (late,) = plan.notes
    assert "5 weeks short of the required FTE cannot be covered by new hires in time" in late
    # budget 10,000 a week; the plan with hires spends more
    assert w.loc[11, "cumulative_budget"] == 120000
    assert bool(w.loc[11, "over_budget"])
    over = w.loc[11, "cumulative_cost_with_hires"] - 120000
    assert plan.over_budget == pytest.approx(over) and over > 0
    summary = plan_summary(plan)
    assert summary["over_budget"] == pytest.approx(over)
    assert summary["recommended_hires"] == 3 and summary["weeks_short_with_hires"] == 5


def test_hand_case_hires_for_a_gap_that_lasts():
    """The same roster without the planned class: the gap lasts, so week 4 (the first a week-0 hire reaches, at
    50%) gets hires, sized at full productivity (its ramp-up is no reason for more hires: a probe's lasting step
    of 10 FTE drew 20): short by 12 - 10 s^4, a week-0 hire is s^4 there at full productivity, ceil(...) = 3."""
    settings = HiringSettings(
        training_weeks=4, ramp=(0.5,), hourly_cost=20.0, cost_per_hire=1000.0, hours_per_fte_week=40.0
    )
    plan = capacity_plan(_roster(), flat_hazard(0.02), [12.0] * 12, START, settings=settings)
    w, rec = plan.weekly.set_index("week"), plan.recommended
    s = 0.98 ** (7 / 30.4375)
    short4 = 12 - 10 * s**4
    assert rec["start_week"].tolist() == [0]
    assert rec["hires"].tolist() == [math.ceil(short4 / s**4)] == [3]
    assert rec["first_week_covered"].tolist() == [START + pd.Timedelta(weeks=4)]
    # week 4 is short while the hires work at 50%; from week 5 they cover it at 100%
    assert w.loc[4, "productive_fte_with_hires"] == pytest.approx(10 * s**4 + 3 * 0.5 * s**4)
    assert w.loc[4, "productive_fte_with_hires"] < 12
    assert (w.loc[5:, "gap_fte_with_hires"] >= 0).all() and (w.loc[:4, "gap_fte_with_hires"] < 0).all()
    (late,) = plan.notes
    assert late.startswith("5 weeks short of the required FTE cannot be covered by new hires in time (training takes 4")
    # one hire fewer leaves the lasting gap open at full productivity: the smallest that covers it
    assert 10 * s**5 + 2 * s**5 < 12
    assert w.loc[0, "cost_with_hires"] == pytest.approx(10 * 40 * 20.0 + 3 * (40 * 20.0 + 1000.0))
    assert plan_summary(plan)["weeks_short_with_hires"] == 5


def test_a_peak_week_gets_hires_only_for_the_part_that_lasts():
    """A probe's October plan hired 64 people for one plan-year week. 10 agents (no attrition, 2 training weeks,
    no ramp) need 10 FTE, then 16 in week 6 and 13 after it: 3 hires (the plan's median week: 7 of 13 weeks are
    short by 3 or more), not 6; week 6's other 3 FTE are named as a peak. A one-week peak on a flat need gets no
    hire at all."""
    settings = HiringSettings(training_weeks=2, ramp=())
    plan = capacity_plan(_roster(), flat_hazard(0.0), [10.0] * 6 + [16.0] + [13.0] * 6, START, settings=settings)
    assert plan.recommended[["start_week", "hires"]].values.tolist() == [[4, 3]]
    gap = plan.weekly["gap_fte_with_hires"]
    assert gap[6] == pytest.approx(-3.0) and (gap.drop(6) >= 0).all()
    (peak,) = plan.notes
    assert peak.startswith("1 week short by more than the shortfall that lasts (the plan's median week's) is covered")
    assert "weeks starting 16 Feb 2026; cover the peak" in peak
    flat = capacity_plan(_roster(), flat_hazard(0.0), [10.0] * 6 + [16.0] + [10.0] * 6, START, settings=settings)
    assert flat.recommended.empty and len(flat.notes) == 1
    # a quiet fortnight (Christmas) inside a shortage does not end it: 5 hires, as the weeks either side need
    dip = capacity_plan(
        _roster(), flat_hazard(0.0), [10.0] * 2 + [15.0] * 4 + [8.0] * 2 + [15.0] * 5, START, settings=settings
    )
    assert dip.recommended[["start_week", "hires"]].values.tolist() == [[0, 5]] and not dip.notes
    # a gap seen only in the plan's last weeks is not yet evidence that it lasts (weeks past the plan count as not
    # short): a probe's plans hired for every late peak, where the median of the rest of the plan alone was 1 week
    end = capacity_plan(_roster(), flat_hazard(0.0), [10.0] * 12 + [16.0], START, settings=settings)
    assert end.recommended.empty and "weeks starting 30 Mar 2026" in end.notes[0]
    late = capacity_plan(_roster(), flat_hazard(0.0), [10.0] * 9 + [15.0] * 4, START, settings=settings)
    assert late.recommended.empty
    # 8 training weeks: a gap of 10 FTE from week 3 (10 of 13 weeks) is hired for at the first week a hire
    # reaches, week 8 (a plan-long window from each week, its weeks past the plan not short, never hired here)
    long = HiringSettings(training_weeks=8, ramp=())
    slow = capacity_plan(_roster(), flat_hazard(0.0), [10.0] * 3 + [20.0] * 10, START, settings=long)
    assert slow.recommended[["start_week", "hires"]].values.tolist() == [[0, 10]]
    # a step that lasts more than half the plan is hired for: week 6 of 13 on, 7 weeks
    step = capacity_plan(_roster(), flat_hazard(0.0), [10.0] * 6 + [15.0] * 7, START, settings=settings)
    assert step.recommended[["start_week", "hires"]].values.tolist() == [[4, 5]] and not step.notes


def test_a_hiring_freeze_and_a_class_that_started_before_the_plan():
    """max_class_size 0 was read as no limit (153 hires in one class); a planned class that started before the
    plan's first week was dropped without a word."""
    freeze = HiringSettings(training_weeks=2, ramp=(), max_class_size=0)
    plan = capacity_plan(_roster(), flat_hazard(0.0), [12.0] * 8, START, settings=freeze)
    assert plan.recommended.empty and plan.notes == [
        "no hires are recommended: capacity.hiring.max_class_size is 0 (no hire class)"
    ]
    params = {"hire_classes": [{"start": "2025-12-29", "count": 10}, {"start": "2026-01-14", "count": 8}]}
    classes = planned_classes(params, START, 8)
    assert classes[["start_week", "hires"]].values.tolist() == [[-1, 10], [1, 8]]
    plan = capacity_plan(_roster(), flat_hazard(0.0), [10.0] * 8, START, settings=freeze, classes=classes)
    assert plan.weekly["planned_hires"].sum() == 8
    assert plan.notes[0].startswith(
        "1 planned hire class (29 Dec 2025) started before the plan's first week (05 Jan 2026)"
    )
    for bad, said in (
        ({"hiring": {"max_class_size": -1}}, "capacity.hiring.max_class_size must be >= 0"),
        ({"hiring": {"max_class_size": 2.5}}, "capacity.hiring.max_class_size must be a whole number"),
        ({"hours_per_fte_week": "37.5h"}, "capacity.hours_per_fte_week must be a number, got '37.5h'"),
        ({"hiring": {"ramp": [0.5, 50]}}, "capacity.hiring.ramp must be from 0 to 1"),
        ({"hire_classes": [{"start": "2026-02-02", "count": 2.5}]}, "count must be a whole number"),
        ({"hire_classes": [{"start": None, "count": 8}]}, "count must be a whole number >= 0 and start a date"),
        ({"hire_classes": [{"start": "", "count": 8}]}, "count must be a whole number >= 0 and start a date"),
    ):
        with pytest.raises(UsageError, match=re.escape(said)):
            HiringSettings.from_params(bad)
            planned_classes(bad, START, 8)


def test_latest_start_that_is_fully_ramped_in_time():
    """A gap from week 8 on (12 of 20 weeks) with 4 training weeks and a 2-week ramp: start in week 2 (100% by
    week 8)."""
    settings = HiringSettings(training_weeks=4, ramp=(0.5, 0.75), cost_per_hire=0.0)
    required = [5.0] * 8 + [7.0] * 12
    plan = capacity_plan(_roster(5), flat_hazard(0.0), required, START, settings=settings)
    assert plan.recommended["start_week"].tolist() == [2]
    assert plan.recommended["hires"].tolist() == [2]
    w = plan.weekly
    assert w.loc[8, "productive_fte_with_hires"] == pytest.approx(7.0)
    assert w.loc[6, "productive_fte_with_hires"] == pytest.approx(5 + 2 * 0.5)  # first week after training
    assert (w["gap_fte_with_hires"] >= -1e-12).all() and not plan.notes


def test_a_training_longer_than_the_plan_says_why_no_hire_is_recommended():
    """A probe: with 20 training weeks a 13-week plan recommended no hire every month, saying only "consider
    overtime" for the weeks short. 5 agents against 7 FTE needed: the median week is 2 FTE short; the note says so
    and how long a plan would size the classes (20 + 2 ramp weeks); a 30-week plan recommends them."""
    settings = HiringSettings(training_weeks=20, ramp=(0.5, 0.75), cost_per_hire=0.0)
    plan = capacity_plan(_roster(5), flat_hazard(0.0), [7.0] * 13, START, settings=settings)
    assert plan.recommended.empty
    assert (
        "training takes 20 weeks, as long as the plan's 13 weeks or longer: no hire who starts in it is productive "
        "within it, so it recommends none, though its median week is short by 2.0 FTE; set capacity.horizon_weeks "
        "to more than 22 weeks (training and ramp-up) to size the classes that must start now"
    ) in plan.notes
    longer = capacity_plan(_roster(5), flat_hazard(0.0), [7.0] * 30, START, settings=settings)
    assert longer.recommended["hires"].sum() == 2 and not any("as long as the plan" in n for n in longer.notes)
    enough = capacity_plan(_roster(7), flat_hazard(0.0), [7.0] * 13, START, settings=settings)
    assert not any("as long as the plan" in n for n in enough.notes)  # nobody short: nothing to say


def test_full_classes_spill_into_later_starts():
    """Classes of at most 3: a gap of 5 from week 3 (training 2, no ramp): 3 start in week 1 (the latest start
    productive in week 3); a week-2 start would still be training, so the other 2 start earlier, in week 0. A
    planned class of 2 in week 1 counts against the size (a probe: 10 planned and 16 recommended in one week)."""
    settings = HiringSettings(training_weeks=2, ramp=(), max_class_size=3)
    plan = capacity_plan(_roster(5), flat_hazard(0.0), [5.0] * 3 + [10.0] * 7, START, settings=settings)
    assert plan.recommended[["start_week", "hires"]].values.tolist() == [[0, 2], [1, 3]]
    planned = pd.DataFrame({"start_week": [1], "hires": [2]})
    plan2 = capacity_plan(
        _roster(5), flat_hazard(0.0), [5.0] * 3 + [10.0] * 7, START, settings=settings, classes=planned
    )
    assert plan2.recommended[["start_week", "hires"]].values.tolist() == [[0, 2], [1, 1]]
    assert (plan.weekly["gap_fte_with_hires"] >= -1e-12).all()


def test_tenure_specific_hazard_and_known_leavers():
    """Bands 0-90 days at 10%/month and 90+ at 2%/month: an agent at 80 days crosses into the lower band."""
    hazard = pd.DataFrame(
        {
            "tenure_band": ["0-90 days", "90+ days"],
            "min_days": [0.0, 90.0],
            "max_days": [90.0, np.inf],
            "monthly_hazard": [0.10, 0.02],
        }
    )
    roster = pd.concat(
        [
            _roster(1, tenure_days=80),
            _roster(1, tenure_days=400).assign(agent_id="b", termination_date=START + pd.Timedelta(days=9)),
            _roster(1, tenure_days=10).assign(agent_id="c", role="supervisor"),  # does not take contacts
            _roster(1, tenure_days=-7).assign(agent_id="d"),  # starts next week: counted from it, as a class
        ],
        ignore_index=True,
    )
    plan = capacity_plan(
        roster, hazard, [0.0] * 3, START, settings=HiringSettings(training_weeks=0, ramp=()), recommend=False
    )
    w = plan.weekly
    r1, r2 = -math.log(0.9) / DAYS_PER_MONTH, -math.log(0.98) / DAYS_PER_MONTH
    # week 2 starts 14 days on: 10 days at the new-hire rate, 4 at the later rate
    a_week2 = math.exp(-(10 * r1 + 4 * r2))
    b_week1 = math.exp(-7 * r2)
    # d: on from week 1 at tenure 0 (survival 1), a week at the new-hire rate by week 2
    assert w.loc[1, "headcount"] == pytest.approx(math.exp(-7 * r1) + b_week1 + 1.0)
    assert w.loc[2, "headcount"] == pytest.approx(a_week2 + math.exp(-7 * r1))  # b left on day 9, before week 2
    assert w.loc[0, "headcount"] == pytest.approx(2.0)
    assert "1 person on the roster starts during the plan, from" in plan.notes[0]


def test_a_starter_agreed_ahead_is_counted_from_their_start_week_as_a_class_is():
    """A probe: 10 starters two weeks out were left out of the plan (and hired for again). A roster row hired on a
    Wednesday 10 days after the plan starts is the same supply as a planned class of one in week 1 (its FTE and
    cost per hour those of the row): headcount, training, productive FTE and cost agree week by week."""
    settings = HiringSettings(training_weeks=2, ramp=(0.5,), hire_fte=0.5, hourly_cost=30.0, cost_per_hire=0.0)
    hazard = flat_hazard(0.03)
    starter = _roster(1, tenure_days=-10).assign(fte=0.5, hourly_cost=30.0)
    as_roster = capacity_plan(starter, hazard, [0.0] * 6, START, settings=settings, recommend=False).weekly
    cls = pd.DataFrame({"start_week": [1], "hires": [1]})
    as_class = capacity_plan(starter.iloc[:0], hazard, [0.0] * 6, START, settings=settings, classes=cls,
                             recommend=False).weekly  # fmt: skip
    for col in ("headcount", "in_training", "productive_fte", "cost"):
        assert as_roster[col].to_numpy() == pytest.approx(as_class[col].to_numpy()), col
    assert as_roster["headcount"].tolist()[:2] == [0.0, 1.0]
    later = _roster(1, tenure_days=-60)  # starts after the plan's 6 weeks: not in it
    assert capacity_plan(later, hazard, [0.0] * 6, START, settings=settings, recommend=False).weekly[
        "headcount"].eq(0).all()  # fmt: skip


def test_a_roster_whose_role_column_is_empty_takes_contacts_whole():
    """The loader adds the optional role column empty; read as "nobody has role agent", the plan had no roster."""
    empty = _roster(3).assign(role=None)
    assert len(roles_of(empty, ("agent",))) == 3
    plan = capacity_plan(empty, flat_hazard(0.0), [0.0] * 2, START, recommend=False)
    assert plan.weekly["headcount"].tolist() == [3.0, 3.0]


def test_trainees_on_the_roster_ramp_by_tenure():
    settings = HiringSettings(training_weeks=4, ramp=(0.5,))
    roster = _roster(1, tenure_days=14)  # two weeks into training
    plan = capacity_plan(roster, flat_hazard(0.0), [0.0] * 5, START, settings=settings, recommend=False)
    assert plan.weekly["productive_fte"].tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]
    assert plan.weekly["in_training"].tolist() == [1.0, 1.0, 0.0, 0.0, 0.0]


def test_required_fte_from_a_weekly_frame_and_parameters():
    required = pd.DataFrame(
        {
            "week_start": [START, START, START + pd.Timedelta(weeks=1)],
            "channel": ["phone", "email", "phone"],
            "fte": [6.0, 2.0, 9.0],
        }
    )
    plan = capacity_plan(
        _roster(8),
        flat_hazard(0.0),
        required,
        START,
        settings=HiringSettings(training_weeks=0, ramp=()),
        recommend=True,
    )
    assert plan.weekly["required_fte"].tolist() == [8.0, 9.0]
    assert plan.recommended["hires"].tolist() == [1]
    params = {
        "capacity": {
            "hours_per_fte_week": 37.5,
            "hiring": {"training_weeks": 3, "ramp": [0.6], "cost_per_hire": 10},
            "hire_classes": [{"start": "2026-01-19", "count": 4}, {"start": "2025-12-01", "count": 9}],
        }
    }
    st = HiringSettings.from_params(params)
    assert (st.training_weeks, st.ramp, st.hours_per_fte_week, st.cost_per_hire) == (3, (0.6,), 37.5, 10)
    cls = planned_classes(params, START, 13)
    # the class before the plan is kept with its negative week, for capacity_plan to name and leave out
    assert cls[["start_week", "hires"]].to_dict("records") == [
        {"start_week": 2, "hires": 4},
        {"start_week": -5, "hires": 9},
    ]


def test_project_capacity_parameters_and_bad_input():
    from reportlib.core.params import load_params

    st = HiringSettings.from_params(load_params())
    assert st.training_weeks >= 0 and all(0 <= r <= 1 for r in st.ramp)
    with pytest.raises(UsageError):
        capacity_plan(_roster(), pd.DataFrame({"monthly_hazard": [0.1]}), [1.0], START)
    with pytest.raises(UsageError):
        flat_hazard(1.0)
    with pytest.raises(UsageError):
        HiringSettings(ramp=(1.5,))
