"""reportlib.planning.staffing against published values, mpmath high-precision references and hand calculations."""

from __future__ import annotations

import csv
import io
import json
import math
from contextlib import redirect_stdout

import mpmath as mp
import numpy as np
import pandas as pd
import pytest
from conftest import shared_path

from reportlib.cli import main
from reportlib.core.errors import UsageError
from reportlib.planning import staffing as st

# --- published values (../shared/data/erlang-reference) ----------------------------------------------


@pytest.fixture(scope="module")
def reference() -> dict[str, dict[str, str]]:
    path = shared_path("erlang-reference", "erlang_reference_values.csv")
    with open(path, newline="", encoding="utf-8") as fh:
        return {row["case_id"]: row for row in csv.DictReader(fh)}


def published(row: dict[str, str]) -> tuple[float, float]:
    """The published number and half a unit of its last published digit (its precision)."""
    text = row["published_value"].strip()
    decimals = len(text.split(".")[1]) if "." in text else 0
    return float(text), 0.5 * 10.0 ** (-decimals)


@pytest.mark.shared_data
def test_erlang_c_matches_cran_erlangc_worked_example(reference):
    # 100 calls in 30 minutes, AHT 180 s, answer within 20 s (CRAN ErlangC README = Call Centre Helper).
    m14 = st.erlang_c_metrics(14, 100, 180, 1800, 20)
    m11 = st.erlang_c_metrics(11, 100, 180, 1800, 20)
    figures = {
        "C1": m14["p_wait"],
        "C2": m14["service_level"],
        "C3": m14["asa_s"],
        "C4": m14["occupancy"],
        "C5": 1.0 - m14["p_wait"],
        "C6": m11["p_wait"],
        "C7": m11["service_level"],
    }
    for case, ours in figures.items():
        value, tol = published(reference[case])
        assert ours == pytest.approx(value, abs=tol + 1e-12), case


@pytest.mark.shared_data
def test_required_agents_and_shrinkage_match_cran_pyworkforce_turbotab(reference):
    value, _ = published(reference["C8"])
    assert st.required_agents(100, 180, 1800, 0.8, 20, max_occupancy=0.85) == value == 14
    positions, _ = published(reference["C9"])
    assert math.ceil(round(st.scheduled_fte(14, 0.3), 9)) == positions
    summary = st.staffing_summary(100, 180, 1800, 0.8, 20, shrinkage=0.3, max_occupancy=0.85)
    assert (
        summary["agents"] == 14 and summary["scheduled_agents"] == positions and summary["fte"] == pytest.approx(20.0)
    )
    productive, scheduled = (int(v) for v in reference["C10"]["published_value"].split("/"))
    s = st.staffing_summary(25, 180, 600, 0.8, 20, shrinkage=0.3)
    assert (s["agents"], s["scheduled_agents"]) == (productive, scheduled)


@pytest.mark.shared_data
def test_erlang_a_matches_whitt_2005_table_1(reference):
    # M/M/100+M, lambda = 102, mean service 1, mean patience 1 (time unit = one AHT); t = 0.1 and 0.2.
    m = st.erlang_a_metrics(100, 102, 1.0, 1.0, 0.1, 1.0)
    m2 = st.erlang_a_metrics(100, 102, 1.0, 1.0, 0.2, 1.0)
    queue = 102 * m["abandon_rate"] / 1.0  # E[Q] = lambda P(Ab) / theta (abandonment rate balance)
    figures = {
        "A1": 1.0 - m["p_wait"],
        "A2": m["abandon_rate"],
        "A3": queue,
        "A4": queue + 102 * (1.0 - m["abandon_rate"]),  # E[N] = E[Q] + busy agents
        "A5": m["sl_answered"],
        "A6": m2["sl_answered"],
        "A7": m["asa_s"],
        "A9": m["wait_abandoned_s"],
    }
    for case, ours in figures.items():
        value, tol = published(reference[case])
        # Whitt's exact column has a waiting room of 200 (blocking negligible): agree to the published digits.
        assert ours == pytest.approx(value, abs=tol + 2e-5), case


@pytest.mark.shared_data
def test_whitt_staffing_example_99_agents(reference):
    # lambda = 100: the fewest agents with P(Ab) < 5% and P(W <= 0.1 | served) >= 80%.
    value, _ = published(reference["A10"])
    n = np.arange(90, 111)
    m = st.erlang_a_metrics(n, 100, 1.0, 1.0, 0.1, 1.0)
    ok = (m["abandon_rate"] < 0.05) & (m["sl_answered"] >= 0.80)
    assert n[ok].min() == value == 99
    assert m["abandon_rate"][n == 98][0] == pytest.approx(0.0505, abs=5e-5)
    assert m["sl_answered"][n == 99][0] == pytest.approx(0.8227, abs=5e-5)
    assert st.required_agents(100, 1.0, 1.0, 0.0, 0.1, model="erlang_a", patience_s=1.0, max_abandon=0.05) == 99


# --- high-precision references (mpmath) --------------------------------------------------------------


def mp_erlang_c(n: int, load: float, aht: float, answer: float) -> dict[str, mp.mpf]:
    """Erlang C at 40 digits from the plain sum of Poisson terms (no incomplete gamma involved)."""
    with mp.workdps(40):
        a = mp.mpf(load)
        term, total = mp.mpf(1), mp.mpf(1)
        for k in range(1, n + 1):
            term = term * a / k
            total += term
        b = term / total
        c = n * b / (n - a * (1 - b))
        return {
            "p_wait": c,
            "service_level": 1 - c * mp.exp(-(n - a) * mp.mpf(answer) / aht),
            "asa_s": c * aht / (n - a),
        }


ERLANG_C_GRID = [
    (n, load)
    for load in (0.05, 0.9, 7.5, 42.0, 250.0, 1000.0, 4000.0)
    for n in sorted(
        {math.floor(load) + 1, math.ceil(load + 0.5 * math.sqrt(load)) + 1, math.ceil(load + 2 * math.sqrt(load)) + 2}
    )
] + [(5000, 4000.0)]


def test_erlang_c_agrees_with_mpmath_on_a_grid_up_to_4000_erlangs():
    aht, answer = 300.0, 20.0
    n = np.array([g[0] for g in ERLANG_C_GRID], dtype=float)
    load = np.array([g[1] for g in ERLANG_C_GRID])
    ours = st.erlang_c_metrics(n, load * 1800 / aht, aht, 1800, answer)  # calls that give this load
    for i, (agents, a) in enumerate(ERLANG_C_GRID):
        ref = mp_erlang_c(agents, a, aht, answer)
        for key, value in ref.items():
            assert ours[key][i] == pytest.approx(float(value), rel=1e-9, abs=1e-300), (agents, a, key)
    assert st.erlang_b(5000, 4000.0) < 1e-50 and st.erlang_b(4000, 4000.0) == pytest.approx(
        float(mp_erlang_b(4000, 4000)), rel=1e-9
    )


def mp_erlang_b(n: int, load: float) -> mp.mpf:
    with mp.workdps(40):
        a = mp.mpf(load)
        term, total = mp.mpf(1), mp.mpf(1)
        for k in range(1, n + 1):
            term = term * a / k
            total += term
        return term / total


def mp_log_m(b: mp.mpf, y: mp.mpf) -> mp.mpf:
    """log 1F1(1; b+1; y) from mpmath's regularized incomplete gamma."""
    p = mp.gammainc(b, 0, y, regularized=True) if y < b else 1 - mp.gammainc(b, y, mp.inf, regularized=True)
    return y - b * mp.log(y) + mp.loggamma(b + 1) + mp.log(p)


def mp_erlang_a(n: float, load: float, aht: float, answer: float, patience: float) -> dict[str, mp.mpf]:
    """Erlang A closed forms at 40 digits; the ASA's derivative by mpmath's own numerical differentiation."""
    with mp.workdps(40):
        n, load, aht, answer, patience = (mp.mpf(v) for v in (n, load, aht, answer, patience))
        a, x, tt = n * patience / aht, load * patience / aht, answer / patience
        g = mp.gammainc(n, load, mp.inf, regularized=True) / (load**n * mp.exp(-load) / mp.factorial(n))
        l0, l1 = mp_log_m(a, x), mp_log_m(a + 1, x)
        c = mp.exp(-tt)
        l2 = mp_log_m(a + 1, x * c)
        s = mp.exp(l0)
        pw = s / (g + s)
        served = a / (a + 1) * mp.exp(l1 - l0)
        within = a / (a + 1) * (mp.exp(l1 - l0) - mp.exp(l2 - l0 - (a + 1) * tt + x * (1 - c)))
        pab = pw * (1 - served)
        wait = patience * (1 / (a + 1) - mp.diff(lambda bb: mp_log_m(bb, x), a + 1))
        return {
            "p_wait": pw,
            "service_level": 1 - pw + pw * within,
            "abandon_rate": pab,
            "asa_s": pw * served * wait / (1 - pab),
        }


ERLANG_A_GRID = [  # agents, load (Erlangs), patience (s) with AHT 300 s
    (1, 0.4, 60.0),
    (3, 4.0, 30.0),
    (11, 10.0, 120.0),
    (9, 10.0, 300.0),
    (55, 48.0, 600.0),
    (40, 48.0, 90.0),
    (240, 230.0, 3000.0),
    (1020, 1000.0, 200.0),
    (4000, 4000.0, 300.0),
    (4100, 4000.0, 1800.0),
    (3000, 4000.0, 120.0),
    (5000, 4000.0, 600.0),
]


def test_erlang_a_agrees_with_mpmath_on_a_grid_up_to_4000_erlangs():
    aht, answer = 300.0, 20.0
    for n, load, patience in ERLANG_A_GRID:
        ours = st.erlang_a_metrics(n, load * 1800 / aht, aht, 1800, answer, patience)
        ref = mp_erlang_a(n, load, aht, answer, patience)
        for key, value in ref.items():
            assert np.isfinite(ours[key])
            # Relative 1e-7 (the ASA uses a finite difference), absolute 1e-10 for figures near 0.
            assert ours[key] == pytest.approx(float(value), rel=1e-7, abs=1e-10), (n, load, patience, key)


def test_erlang_a_agrees_with_an_independent_birth_death_computation():
    """Stationary distribution summed state by state, waits as hypoexponential sums (no closed forms)."""
    cases = [(5, 4.0, 0.5, 0.2), (3, 3.5, 1.0, 0.1), (8, 6.0, 0.25, 0.05)]  # agents, load, patience, T (AHT = 1)
    for n, load, patience, answer in cases:
        with mp.workdps(60):
            lam, theta = mp.mpf(load), 1 / mp.mpf(patience)
            below = sum(lam**k / mp.factorial(k) for k in range(n))
            queue = [lam**n / mp.factorial(n)]  # p(n+j) = p(n+j-1) lambda / (n mu + j theta), unnormalized
            while queue[-1] > mp.mpf(10) ** -45 * queue[0]:
                queue.append(queue[-1] * lam / (n + len(queue) * theta))
            total = below + sum(queue)
            p_wait = sum(queue) / total
            p_ab = theta * sum(j * q for j, q in enumerate(queue)) / total / lam
            within = served_wait = mp.mpf(0)
            for j, q in enumerate(queue):
                # An arrival with j callers ahead is served after phases of rates n + i theta, i = 0..j
                # (hypoexponential); it is still there at time v with probability exp(-theta v).
                rates = [n + i * theta for i in range(j + 1)]
                prod = mp.fprod(rates)
                for i, r in enumerate(rates):
                    coef = prod / r * (-1) ** i / (theta**j * mp.factorial(i) * mp.factorial(j - i))
                    within += q / total * coef * r * (1 - mp.exp(-(r + theta) * answer)) / (r + theta)
                    served_wait += q / total * coef * r / (r + theta) ** 2
            sl = (1 - p_wait) + within
            asa = served_wait / (1 - p_ab)
        ours = st.erlang_a_metrics(n, load, 1.0, 1.0, answer, patience)
        assert ours["p_wait"] == pytest.approx(float(p_wait), rel=1e-10)
        assert ours["abandon_rate"] == pytest.approx(float(p_ab), rel=1e-9)
        assert ours["service_level"] == pytest.approx(float(sl), rel=1e-9)
        assert ours["asa_s"] == pytest.approx(float(asa), rel=1e-7)


def test_erlang_a_with_very_long_patience_converges_to_erlang_c():
    calls, aht, interval, answer = 200.0, 240.0, 900.0, 20.0  # 53.3 Erlangs
    n = 60
    ec = st.erlang_c_metrics(n, calls, aht, interval, answer)
    gaps = []
    for patience in (aht * 10, aht * 1e2, aht * 1e3, aht * 1e4, aht * 1e6):
        ea = st.erlang_a_metrics(n, calls, aht, interval, answer, patience)
        gaps.append(max(abs(ea[k] - ec[k]) for k in ("p_wait", "service_level")))
        assert ea["abandon_rate"] < 1.0 / (patience / aht)  # fewer hang-ups the more patient callers are
    assert all(later < earlier for earlier, later in zip(gaps, gaps[1:]))
    ea = st.erlang_a_metrics(n, calls, aht, interval, answer, aht * 1e6)
    for key in ("p_wait", "service_level", "occupancy"):
        assert ea[key] == pytest.approx(ec[key], abs=1e-5)
    assert ea["asa_s"] == pytest.approx(ec["asa_s"], rel=1e-4)
    assert st.erlang_a_metrics(n, calls, aht, interval, answer, np.inf)["service_level"] == ec["service_level"]
    assert st.required_agents(
        calls, aht, interval, 0.8, answer, model="erlang_a", patience_s=aht * 1e6
    ) == st.required_agents(calls, aht, interval, 0.8, answer)


# --- required agents ---------------------------------------------------------------------------------


def brute_force_agents(
    calls, aht, interval, target, answer, model="erlang_c", patience=None, cap_occ=None, cap_ab=None
):
    """The fewest agents found by trying 1, 2, 3, ... one at a time."""
    if calls == 0:
        return 0
    load = calls * aht / interval
    for n in range(1, 100_000):
        m = st.queue_metrics(n, calls, aht, interval, answer, model, patience)
        if model == "erlang_c" and n <= load:
            continue
        if m["service_level"] < target:
            continue
        if cap_occ is not None and m["occupancy"] > cap_occ:
            continue
        if cap_ab is not None and m["abandon_rate"] > cap_ab:
            continue
        return n
    raise AssertionError("no staffing found")


def test_required_agents_vectorized_equals_one_at_a_time_search():
    rng = np.random.default_rng(7)
    size = 60
    calls = np.round(rng.lognormal(3.5, 1.3, size), 1) * (rng.random(size) > 0.15)
    aht = rng.choice([90.0, 240.0, 420.0], size)
    target = rng.choice([0.5, 0.8, 0.95], size)
    answer = rng.choice([0.0, 20.0, 60.0], size)
    patience = rng.choice([30.0, 120.0, 900.0], size)
    for model, pat, cap_occ, cap_ab in [
        ("erlang_c", None, None, None),
        ("erlang_c", None, 0.85, None),
        ("erlang_a", patience, None, None),
        ("erlang_a", patience, 0.9, 0.04),
    ]:
        results = [
            st.required_agents(calls, aht, 1800, target, answer, model, pat, cap_occ, cap_ab, method=m)
            for m in ("interval", "table", "auto")
        ]
        expected = [
            brute_force_agents(
                calls[i], aht[i], 1800, target[i], answer[i], model, None if pat is None else pat[i], cap_occ, cap_ab
            )
            for i in range(size)
        ]
        for res in results:
            assert res.dtype.kind == "i"
            np.testing.assert_array_equal(res, expected)


def test_required_agents_many_intervals_table_and_interval_methods_agree():
    rng = np.random.default_rng(3)
    size = 20_000
    calls = rng.gamma(2.0, 40.0, size) * (rng.random(size) > 0.3)
    aht = rng.choice([180.0, 300.0, 600.0], size)
    for kwargs in ({}, {"model": "erlang_a", "patience_s": 150.0}):
        by_interval = st.required_agents(calls, aht, 900, 0.8, 30, method="interval", **kwargs)
        by_table = st.required_agents(calls, aht, 900, 0.8, 30, method="table", **kwargs)
        np.testing.assert_array_equal(by_interval, by_table)
        m = st.queue_metrics(by_table, calls, aht, 900, 30, kwargs.get("model", "erlang_c"), kwargs.get("patience_s"))
        m1 = st.queue_metrics(
            np.maximum(by_table - 1, 0), calls, aht, 900, 30, kwargs.get("model", "erlang_c"), kwargs.get("patience_s")
        )
        busy = calls > 0
        assert np.all(m["service_level"][busy] >= 0.8)
        one_less_fails = m1["service_level"] < 0.8
        if not kwargs:  # Erlang C: one agent less may also fail by being unstable
            one_less_fails |= (by_table - 1) <= calls * aht / 900
        assert np.all(one_less_fails[busy & (by_table > 1)])


def test_required_agents_zero_calls_series_and_huge_loads():
    calls = pd.Series([0.0, 100.0, 0.0, 4000 * 1800 / 300], index=["night", "day", "sunday", "surge"])
    agents = st.required_agents(calls, 300, 1800, 0.8, 20)
    assert isinstance(agents, pd.Series) and list(agents.index) == list(calls.index)
    assert agents["night"] == 0 and agents["sunday"] == 0 and agents["day"] > 0
    assert 4000 < agents["surge"] < 4100  # 4,000 Erlangs
    a = st.required_agents(calls, 300, 1800, 0.8, 20, model="erlang_a", patience_s=120)
    assert a["night"] == 0 and a["surge"] <= agents["surge"]
    assert st.required_agents(0, 300, 1800, 0.8, 20, fractional=True) == 0.0
    # Stable at 4,000 Erlangs and 5,000 agents, and well-defined when overloaded.
    m = st.erlang_c_metrics(np.array([3999.0, 4000.0, 4001.0, 5000.0]), 4000 * 1800 / 300, 300, 1800, 20)
    assert list(m["p_wait"][:2]) == [1.0, 1.0] and 0 < m["p_wait"][2] < 1 and m["p_wait"][3] < 1e-40
    assert np.all(np.isfinite(m["service_level"]))
    ea = st.erlang_a_metrics(np.array([1000.0, 3900.0, 5000.0]), 4000 * 1800 / 300, 300, 1800, 20, 300)
    for key in ("p_wait", "service_level", "abandon_rate", "asa_s", "occupancy"):
        assert np.all(np.isfinite(ea[key])), key
    assert ea["abandon_rate"][0] == pytest.approx(0.75, abs=1e-3)  # 1,000 agents for 4,000 Erlangs: 3/4 hang up


def test_required_agents_meets_target_minimally_at_large_loads():
    for load in (500.0, 2000.0, 4000.0):
        calls = load * 1800 / 300
        for model, pat in (("erlang_c", None), ("erlang_a", 240.0)):
            n = st.required_agents(calls, 300, 1800, 0.9, 10, model, pat)
            hi = st.queue_metrics(n, calls, 300, 1800, 10, model, pat)["service_level"]
            lo = st.queue_metrics(n - 1, calls, 300, 1800, 10, model, pat)["service_level"]
            assert hi >= 0.9 > lo, (load, model)
    assert st.required_agents(3000, 300, 1800, 0.9, 10) == brute_force_agents(3000, 300, 1800, 0.9, 10)


def test_fractional_agents_interpolate_between_whole_agents():
    calls = np.linspace(0.0, 400.0, 81)
    whole = st.required_agents(calls, 300, 1800, 0.8, 20)
    frac = st.required_agents(calls, 300, 1800, 0.8, 20, fractional=True)
    assert np.all(np.ceil(frac - 1e-12) == whole)
    assert np.all(np.diff(frac) >= -1e-12)  # more calls never need fewer agents
    # Hand check at 100 calls / 30 min (A = 10): SL(13) = 0.7856..., SL(14) = 0.8884... -> 13 + (0.8 - SL13)/(SL14 - SL13).
    s13 = st.erlang_c_metrics(13, 100, 180, 1800, 20)["service_level"]
    s14 = st.erlang_c_metrics(14, 100, 180, 1800, 20)["service_level"]
    assert st.required_agents(100, 180, 1800, 0.8, 20, fractional=True) == pytest.approx(13 + (0.8 - s13) / (s14 - s13))
    fa = st.required_agents(calls, 300, 1800, 0.8, 20, model="erlang_a", patience_s=90, fractional=True)
    wa = st.required_agents(calls, 300, 1800, 0.8, 20, model="erlang_a", patience_s=90)
    assert np.all(np.ceil(fa - 1e-12) == wa)


def test_the_fractional_answer_lies_above_one_agent_short_even_at_a_target_of_zero():
    """A target of 0 is met by any stable staffing: Erlang C needs N > A = 10 (100 calls of 180 s in 30 min), so 11
    agents. The interpolation met the target exactly at N - 1 = A and gave 10.0, whose ceiling is one agent short
    (a probe); the fractional answer now lies in (N - 1, N]."""
    whole = st.required_agents(100, 180, 1800, 0.0, 20)
    frac = st.required_agents(100, 180, 1800, 0.0, 20, fractional=True)
    assert whole == 11 and 10.0 < frac <= 11.0 and math.ceil(frac) == whole


def test_required_agents_rejects_bad_input():
    with pytest.raises(UsageError, match="target_sl"):
        st.required_agents(100, 180, 1800, 1.0, 20)
    with pytest.raises(UsageError, match="calls"):
        st.required_agents([-1, 5], 180, 1800, 0.8, 20)
    with pytest.raises(UsageError, match="patience_s"):
        st.required_agents(100, 180, 1800, 0.8, 20, model="erlang_a")
    with pytest.raises(UsageError, match="max_abandon"):
        st.required_agents(100, 180, 1800, 0.8, 20, max_abandon=0.05)
    with pytest.raises(UsageError, match="aht_s"):
        st.required_agents(100, 0, 1800, 0.8, 20)
    with pytest.raises(UsageError, match="model"):
        st.required_agents(100, 180, 1800, 0.8, 20, model="erlang_x")


def test_staff_intervals_adds_agents_and_figures():
    plan = pd.DataFrame(
        {
            "interval_start": pd.date_range("2026-03-02 08:00", periods=4, freq="30min"),
            "calls": [0.0, 100.0, 150.0, 80.0],
            "aht_s": [180.0] * 4,
            "interval_minutes": [30] * 4,
        }
    )
    out = st.staff_intervals(plan, 0.8, 20)
    assert list(out["agents"]) == list(st.required_agents(plan["calls"], 180, 1800, 0.8, 20))
    assert out.loc[1, "agents"] == 14 and out.loc[0, "agents"] == 0
    assert out.loc[1, "service_level"] == pytest.approx(0.88835, abs=5e-6)
    assert (out["service_level"] >= 0.8).all()


# --- patience ----------------------------------------------------------------------------------------


def test_estimate_patience_hand_calculation_and_edge_cases():
    assert st.estimate_patience(10, 1200.0) == 120.0
    assert math.isinf(st.estimate_patience(0, 500.0))
    assert math.isnan(st.estimate_patience(0, 0.0))
    with pytest.raises(UsageError):
        st.estimate_patience(-1, 10.0)


def test_estimate_patience_recovers_the_mean_of_censored_exponential_patience():
    # Callers abandon when patience runs out before an agent answers; we observe only the waits.
    rng = np.random.default_rng(11)
    patience = rng.exponential(90.0, 50_000)
    offered = rng.exponential(60.0, 50_000)
    waited = np.minimum(patience, offered)
    abandoned = patience < offered
    estimate = st.estimate_patience(abandoned.sum(), waited.sum())
    naive = patience[abandoned].mean()  # the mean wait of abandoners alone is badly biased down
    assert estimate == pytest.approx(90.0, rel=0.03)
    assert naive < 45.0


def test_patience_by_group_by_queue_and_month():
    frame = pd.DataFrame(
        {
            "interval_start": pd.to_datetime(
                ["2026-01-05 09:00", "2026-01-20 10:00", "2026-02-03 09:00", "2026-01-05 09:00", "2026-02-10 11:00"]
            ),
            "queue": ["Benefits", "Benefits", "Benefits", "Cards", "Cards"],
            "abandoned": [3, 1, 0, 2, 5],
            "wait_s_total": [300.0, 100.0, 50.0, 400.0, 250.0],
        }
    )
    out = st.patience_by_group(frame, by=["queue"], freq="M").set_index(["queue", "period"])
    assert out.loc[("Benefits", pd.Period("2026-01", "M")), "patience_s"] == pytest.approx(100.0)
    assert math.isinf(out.loc[("Benefits", pd.Period("2026-02", "M")), "patience_s"])
    assert out.loc[("Cards", pd.Period("2026-02", "M")), "patience_s"] == pytest.approx(50.0)
    whole = st.patience_by_group(frame, by=["queue"]).set_index("queue")
    assert whole.loc["Cards", "patience_s"] == pytest.approx(650.0 / 7)
    with pytest.raises(UsageError, match="wait_s_total"):
        st.patience_by_group(frame.drop(columns="wait_s_total"))


# --- deferred work, shrinkage, FTE hours ----------------------------------------------------------


def test_workload_fte_hand_calculation():
    # 1,000 emails x 5 minutes = 83.33 hours of work; 37.5 productive hours per FTE per week.
    assert st.workload_fte(1000, 300, 37.5) == pytest.approx(1000 * 300 / 3600 / 37.5)
    assert st.workload_fte(1000, 300, 37.5) == pytest.approx(2.2222, abs=1e-4)


def test_deferred_agents_response_target_over_business_hours():
    # Flat arrivals repeating every day: the average workload is enough whatever the target.
    flat = [12] * 8  # 12 emails per business hour, 6 minutes each = 1.2 hours of work per hour
    assert st.deferred_agents(flat, 360, response_h=4) == pytest.approx(1.2)
    assert st.deferred_agents(flat, 360, response_h=1) == pytest.approx(1.2)
    assert st.deferred_agents(flat, 360, response_h=1) == pytest.approx(st.workload_fte(8 * 12, 360, 8))
    # A burst of 20 emails (2 hours of work) spread over 9-10 with a 2-hour target: the last one arrives
    # at 10:00 and is due at 12:00, so 2 h of work in 3 h -> 2/3 agent. With 8 hours it spreads to
    # the day's average, 2 h / 8 h.
    burst = [0, 20, 0, 0, 0, 0, 0, 0]
    assert st.deferred_agents(burst, 360, response_h=2) == pytest.approx(2.0 / 3.0)
    assert st.deferred_agents(burst, 360, response_h=8) == pytest.approx(0.25)
    # A one-off day (not repeating): the tail can be worked after the day ends, within the target.
    assert st.deferred_agents(flat, 360, response_h=4, cyclic=False) == pytest.approx(9.6 / 12)
    # Backlog at the start counts as work due within the target: 10 x 6 min = 1 h within 2 h.
    assert st.deferred_agents([0, 0], 360, response_h=2, backlog=10) == pytest.approx(0.5)
    # Independent check: an oldest-first fluid queue served at the computed rate meets every deadline,
    # and 2% less capacity misses one.
    for pattern, target in ((burst, 2.0), ([3, 9, 14, 6, 2, 0, 5, 11], 1.5)):
        need = st.deferred_agents(pattern, 360, response_h=target)
        assert fluid_latest_response(pattern, 360, need) <= target + 1e-6
        assert fluid_latest_response(pattern, 360, need * 0.98) > target


def fluid_latest_response(volume, handle_s, agents, cycles=3, points=400):
    """Longest response (hours) when `agents` work oldest-first at a constant rate, the pattern repeated.

    Work arriving evenly within each 1-hour bucket; the unit of work at cumulative position w arrives
    at a(w) and is finished at F(w) = max over u <= w of a(u) + (w - u) / agents (the busy period
    it belongs to started at some arrival a(u)).
    """
    work = np.tile(np.asarray(volume, float) * handle_s / 3600.0, cycles)
    w_parts, a_parts, before = [], [], 0.0
    for k, wk in enumerate(work):
        if wk > 0:
            frac = np.linspace(0.0, 1.0, points + 1)[1:]
            w_parts.append(before + wk * frac)
            a_parts.append(k + frac)
        before += wk
    w, a = np.concatenate(w_parts), np.concatenate(a_parts)
    finish = np.maximum.accumulate(a - w / agents) + w / agents
    return float(np.max(finish - a))


def test_scheduled_fte_and_plan_hours():
    assert st.scheduled_fte(14, 0.3) == pytest.approx(20.0)
    np.testing.assert_allclose(st.scheduled_fte(np.array([7.0, 0.0]), 0.3), [10.0, 0.0])
    with pytest.raises(UsageError, match="shrinkage"):
        st.scheduled_fte(10, 1.0)
    # Monday and Tuesday of one week, plus the next Monday; 30-minute intervals.
    plan = pd.DataFrame(
        {
            "interval_start": pd.to_datetime(
                ["2026-03-02 09:00", "2026-03-02 09:30", "2026-03-03 09:00", "2026-03-09 09:00"]
            ),
            "agents": [10, 6, 4, 8],
            "interval_minutes": [30, 30, 30, 30],
        }
    )
    hours = st.plan_hours(plan, shrinkage=0.2, hours_per_fte_week=40)
    day = hours["day"].set_index("date")
    assert day.loc[pd.Timestamp("2026-03-02"), "agent_hours"] == pytest.approx(8.0)  # (10 + 6) x 0.5 h
    assert day.loc[pd.Timestamp("2026-03-02"), "scheduled_hours"] == pytest.approx(10.0)  # / (1 - 0.2)
    assert day.loc[pd.Timestamp("2026-03-02"), "fte"] == pytest.approx(10.0 / 8.0)
    week = hours["week"].set_index("week")
    assert week.loc[pd.Timestamp("2026-03-02"), "agent_hours"] == pytest.approx(10.0)
    assert week.loc[pd.Timestamp("2026-03-02"), "fte"] == pytest.approx(12.5 / 40)
    assert week.loc[pd.Timestamp("2026-03-09"), "scheduled_hours"] == pytest.approx(5.0)


# --- command line ------------------------------------------------------------------------------------


def run_cli(*argv: str) -> tuple[int, str]:
    buf = io.StringIO()
    with redirect_stdout(buf):
        status = main(["staffing", *argv])
    return status, buf.getvalue()


def test_cli_staffing_json_is_one_object_with_figures_and_inputs():
    status, out = run_cli(
        "--calls",
        "100",
        "--aht",
        "180",
        "--interval-min",
        "30",
        "--target-sl",
        "80",
        "--answer-s",
        "20",
        "--shrinkage",
        "0.3",
        "--format",
        "json",
    )
    assert status == 0
    rec = json.loads(out)
    assert isinstance(rec, dict)
    assert rec["agents"] == 14 and rec["fte"] == pytest.approx(20.0) and rec["scheduled_agents"] == 20
    assert rec["service_level"] == pytest.approx(0.88835, abs=5e-6)
    assert rec["asa_s"] == pytest.approx(7.8359, abs=1e-4)
    assert rec["p_wait"] == pytest.approx(0.17413, abs=1e-5)
    assert rec["occupancy"] == pytest.approx(0.714286, abs=1e-6)
    assert rec["abandon_rate"] is None and rec["target_sl"] == 0.8 and rec["calls"] == 100
    assert rec["model"] == "erlang_c" and rec["interval_min"] == 30


def test_cli_staffing_erlang_a_csv_and_errors(capsys):
    status, out = run_cli(
        "--calls",
        "100",
        "--aht",
        "180",
        "--interval-min",
        "30",
        "--target-sl",
        "0.8",
        "--answer-s",
        "20",
        "--model",
        "erlang_a",
        "--patience-s",
        "120",
    )
    rec = json.loads(out)
    assert status == 0 and rec["fte"] is None and 0 < rec["abandon_rate"] < 0.2
    assert rec["agents"] == st.required_agents(100, 180, 1800, 0.8, 20, model="erlang_a", patience_s=120)
    assert rec["agents"] <= 14
    status, out = run_cli(
        "--calls",
        "0",
        "--aht",
        "180",
        "--interval-min",
        "15",
        "--target-sl",
        "0.8",
        "--answer-s",
        "20",
        "--format",
        "csv",
    )
    assert status == 0 and pd.read_csv(io.StringIO(out)).loc[0, "agents"] == 0
    assert (
        main(
            [
                "staffing",
                "--calls",
                "100",
                "--aht",
                "180",
                "--interval-min",
                "30",
                "--target-sl",
                "0.8",
                "--answer-s",
                "20",
                "--model",
                "erlang_a",
            ]
        )
        == 2
    )
    assert "--patience-s" in capsys.readouterr().err
    assert (
        main(
            [
                "staffing",
                "--calls",
                "100",
                "--aht",
                "180",
                "--interval-min",
                "30",
                "--target-sl",
                "100",
                "--answer-s",
                "20",
            ]
        )
        == 2
    )
    assert (
        main(
            [
                "staffing",
                "--calls",
                "-5",
                "--aht",
                "180",
                "--interval-min",
                "30",
                "--target-sl",
                "0.8",
                "--answer-s",
                "20",
            ]
        )
        == 2
    )


def test_cli_staffing_says_patience_is_unused_under_erlang_c_and_refuses_loads_floats_cannot_staff(capsys):
    base = ["--aht", "300", "--interval-min", "30", "--target-sl", "0.8", "--answer-s", "20", "--format", "csv"]
    status, out = run_cli("--calls", "100", *base, "--patience-s", "60")
    rec = pd.read_csv(io.StringIO(out)).iloc[0]
    assert status == 0 and rec["model"] == "erlang_c" and pd.isna(rec["patience_s"])  # not shown as used
    assert rec["agents"] == st.required_agents(100, 300, 1800, 0.8, 20)
    assert "--patience-s 60 not used: Erlang C has no abandonment" in capsys.readouterr().err
    # infinite patience (Erlang A as Erlang C) prints as null in both formats (CSV printed "inf", JSON null)
    inf = ["--calls", "100", *base[:-2], "--model", "erlang_a", "--patience-s", "inf"]
    status, out = run_cli(*inf, "--format", "csv")
    header, row = out.splitlines()[:2]
    assert status == 0 and row.split(",")[header.split(",").index("patience_s")] == "" and "inf" not in out
    rec = pd.read_csv(io.StringIO(out)).iloc[0]
    assert pd.isna(rec["patience_s"]) and rec["agents"] == json.loads(run_cli(*inf, "--format", "json")[1])["agents"]
    assert json.loads(run_cli(*inf, "--format", "json")[1])["patience_s"] is None
    # two chats at a time: the servers needed at one at a time, halved and rounded up; the figures are those
    # of agents x 2 servers
    one = pd.read_csv(io.StringIO(run_cli("--calls", "100", *base)[1])).iloc[0]
    status, out = run_cli("--calls", "100", *base, "--concurrency", "2")
    two = pd.read_csv(io.StringIO(out)).iloc[0]
    assert status == 0 and two["agents"] == math.ceil(one["agents"] / 2) and two["concurrency"] == 2
    m = st.erlang_c_metrics(2 * two["agents"], 100, 300, 1800, 20)
    assert two["service_level"] == pytest.approx(m["service_level"], abs=1e-9) and two["service_level"] >= 0.8
    assert two["agents_fractional"] == pytest.approx(one["agents_fractional"] / 2, abs=1e-6)
    for bad in ("0.5", "nan", "inf"):
        assert main(["staffing", "--calls", "100", *base, "--concurrency", bad]) == 2
        assert "--concurrency must be a number >= 1" in capsys.readouterr().err
    # a handle time longer than the interval is said (a probe: 5 calls of 100,000 s a half hour gave 296 silently)
    long = ["--aht", "100000", *base[2:]]
    assert run_cli("--calls", "5", *long)[0] == 0
    assert "--aht 100000 s is longer than the 30-minute interval" in capsys.readouterr().err
    assert run_cli("--calls", "5", "--aht", "1800", *base[2:])[0] == 0 and "longer" not in capsys.readouterr().err
    # 1e16 calls a half hour (a load of 1.7e15 erlangs) still staffs to the target; 1e18 gave a service level of
    # 0 at the agents it printed, 1e300 a message about "agents": both are now a usage error naming the load
    status, out = run_cli("--calls", "1e16", *base)
    rec = pd.read_csv(io.StringIO(out)).iloc[0]
    assert status == 0 and rec["service_level"] >= 0.8 and rec["agents"] > rec["load_erlangs"]
    for calls, load in (("1e18", "1.6666666666666666e+17"), ("1e300", "1.6666666666666668e+299")):
        assert main(["staffing", "--calls", calls, *base]) == 2
        err = capsys.readouterr().err
        assert "must be under 2**52 = 4503599627370496 erlangs; got " + load in err
        assert "Traceback" not in err
    # exactly 2**52 erlangs (2**52 calls of 1,800 s in 30 minutes) is refused and says so to the unit
    assert main(["staffing", "--calls", str(2**52), "--aht", "1800", *base[2:]]) == 2
    assert "must be under 2**52 = 4503599627370496 erlangs; got 4503599627370496" in capsys.readouterr().err
