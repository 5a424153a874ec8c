"""reportlib.planning.simulate: the simulation confirms Erlang A within its confidence intervals, and vice versa."""

from __future__ import annotations

import numpy as np
import pytest

from reportlib.core.errors import UsageError
from reportlib.planning import simulate as sim
from reportlib.planning import staffing as st

FIGURES = ("service_level", "abandon_rate", "asa_s", "p_wait", "occupancy")


def inside(result, key, value) -> bool:
    return result.loc[key, "ci_low"] <= value <= result.loc[key, "ci_high"]


def test_erlang_a_inside_the_simulation_confidence_intervals_and_erlang_c_outside():
    # 10 agents, 9 Erlangs, mean patience = AHT = 1 time unit, answer within 0.1 (e.g. AHT 300 s, T 30 s).
    res = sim.simulate_queue(
        9.0, 1.0, 1.0, 10, 0.1, 1.0, replications=200, callers=4000, warmup=500, seed=3, confidence=0.99
    )
    exact = st.erlang_a_metrics(10, 9.0, 1.0, 1.0, 0.1, 1.0)
    for key in FIGURES:
        assert inside(res, key, exact[key]), (key, exact[key], res.loc[key].to_dict())
    # The intervals are narrow enough to tell the models apart: Erlang C (no hang-ups) is far outside.
    half = (res["ci_high"] - res["ci_low"]) / 2
    assert half["service_level"] < 0.01 and half["abandon_rate"] < 0.004 and half["asa_s"] < 0.004
    erlang_c = st.erlang_c_metrics(10, 9.0, 1.0, 1.0, 0.1)
    assert not inside(res, "service_level", erlang_c["service_level"])
    assert not inside(res, "p_wait", erlang_c["p_wait"])


def test_whitt_m_m_100_plus_m_case_inside_the_simulation_intervals():
    res = sim.simulate_queue(
        102.0, 1.0, 1.0, 100, 0.1, 1.0, replications=200, callers=3000, warmup=500, seed=1, confidence=0.99
    )
    exact = st.erlang_a_metrics(100, 102.0, 1.0, 1.0, 0.1, 1.0)
    for key in ("service_level", "abandon_rate", "asa_s", "occupancy"):
        assert inside(res, key, exact[key]), key
    assert res.loc["abandon_rate", "ci_high"] - res.loc["abandon_rate", "ci_low"] < 0.01


def test_numpy_engine_equals_simpy_event_simulation_on_the_same_random_numbers():
    pytest.importorskip("simpy")
    kwargs = dict(replications=3, callers=1500, warmup=100, seed=5)
    for args in ((9.0, 1.0, 1.0, 10, 0.1, 1.0), (30.0, 300.0, 900.0, 12, 20.0, None)):
        fast = sim.simulate_queue(*args, **kwargs)
        slow = sim.simulate_queue(*args, engine="simpy", **kwargs)
        np.testing.assert_allclose(fast.to_numpy(), slow.to_numpy(), rtol=1e-9, atol=1e-12)


def test_no_abandonment_matches_erlang_c():
    # 40 calls / 15 min, AHT 300 s: 13.3 Erlangs on 15 agents, answer within 20 s, nobody hangs up.
    res = sim.simulate_queue(
        40.0, 300.0, 900.0, 15, 20.0, None, replications=100, callers=3000, warmup=500, seed=2, confidence=0.99
    )
    exact = st.erlang_c_metrics(15, 40.0, 300.0, 900.0, 20.0)
    assert res.loc["abandon_rate", "estimate"] == 0.0
    for key in ("service_level", "p_wait", "asa_s", "occupancy"):
        assert inside(res, key, exact[key]), key


def test_measured_patience_and_handle_times_resampled():
    # Observed patience and handle times drawn from exponentials: M/G/n+G with these samples is Erlang A.
    rng = np.random.default_rng(8)
    observed_patience = rng.exponential(1.0, 200_000)
    observed_handle = rng.exponential(1.0, 200_000)
    res = sim.simulate_queue(
        9.0,
        1.0,
        1.0,
        10,
        0.1,
        handle=observed_handle,
        patience=observed_patience,
        replications=150,
        callers=3000,
        warmup=500,
        seed=4,
        confidence=0.99,
    )
    exact = st.erlang_a_metrics(10, 9.0, 1.0, 1.0, 0.1, 1.0)
    for key in ("service_level", "abandon_rate", "p_wait"):
        assert inside(res, key, exact[key]), key


def test_lognormal_handle_times_keep_littles_law_and_change_the_waits():
    # M/G/n+G: lognormal handle times (mean 1, CV 0.5). Answered load / agents = occupancy (Little's law),
    # whatever the distribution; less variable handle times than exponential give fewer hang-ups.
    kwargs = dict(replications=100, callers=3000, warmup=500, seed=6, confidence=0.99)
    logn = sim.simulate_queue(9.0, 1.0, 1.0, 10, 0.1, 1.0, handle="lognormal", handle_cv=0.5, **kwargs)
    expo = sim.simulate_queue(9.0, 1.0, 1.0, 10, 0.1, 1.0, **kwargs)
    implied = 9.0 * (1 - logn.loc["abandon_rate", "estimate"]) / 10
    assert logn.loc["occupancy", "estimate"] == pytest.approx(implied, abs=0.005)
    assert logn.loc["abandon_rate", "ci_high"] < expo.loc["abandon_rate", "ci_low"]
    assert logn.loc["asa_s", "estimate"] < expo.loc["asa_s", "estimate"]
    draws = sim.lognormal_sampler(300.0, 0.5)(np.random.default_rng(0), (400_000,))
    assert draws.mean() == pytest.approx(300.0, rel=0.01) and draws.std() / draws.mean() == pytest.approx(0.5, rel=0.02)


def test_simulation_rejects_bad_input():
    with pytest.raises(UsageError):
        sim.simulate_queue(0.0, 300.0, 900.0, 10, 20.0)
    with pytest.raises(UsageError):
        sim.simulate_queue(10.0, 300.0, 900.0, 2.5, 20.0)
    with pytest.raises(UsageError):
        sim.simulate_queue(10.0, 300.0, 900.0, 10, 20.0, handle="gamma")
    with pytest.raises(UsageError):
        sim.simulate_queue(10.0, 300.0, 900.0, 10, 20.0, engine="salabim")
    with pytest.raises(UsageError):
        sim.simulate_queue(10.0, 300.0, 900.0, 10, 20.0, replications=1)


def test_model_comparison_puts_erlang_c_erlang_a_and_simulation_side_by_side():
    # 60 calls / 15 min, AHT 240 s (16 Erlangs), 17 agents, 90 s mean patience, answer within 20 s.
    out = sim.model_comparison(
        60.0,
        240.0,
        900.0,
        17,
        20.0,
        90.0,
        handle="exponential",
        replications=60,
        callers=2000,
        warmup=300,
        seed=9,
        confidence=0.99,
    )
    assert list(out.index) == list(FIGURES)
    assert out.loc["abandon_rate", "erlang_c"] == 0.0 and out.loc["abandon_rate", "erlang_a"] > 0.02
    # With exponential handle times the simulation is Erlang A's model: Erlang A inside, Erlang C outside.
    for key in ("service_level", "abandon_rate", "p_wait"):
        assert out.loc[key, "ci_low"] <= out.loc[key, "erlang_a"] <= out.loc[key, "ci_high"], key
    assert (
        not out.loc["service_level", "ci_low"]
        <= out.loc["service_level", "erlang_c"]
        <= out.loc["service_level", "ci_high"]
    )
