"""Staffing maths: Erlang C, Erlang A (M/M/n+M), required agents, patience, deferred work and shrinkage.

Units: times in seconds, shares 0..1, load in Erlangs (calls x AHT / interval length), agents as
counts of productive (on-queue) agents, FTE as full-time equivalents.

How it is computed, and why it is exact and stable at any size
---------------------------------------------------------------
Every formula is evaluated in log space with scipy's regularized incomplete gamma functions, so
4,000 Erlangs and 5,000 agents are as safe as 2 Erlangs. With A the offered load and n agents:

* ``G(n, A) = sum_{k<n} A^k/k! / (A^n/n!) = Q(n, A) / Poisson_pmf(n; A)``, so Erlang B is
  ``1 / (1 + G)`` and Erlang C is ``1 / (1 + G (1 - A/n))`` for n > A.
* Erlang A (Poisson arrivals rate lambda, exponential handle time mean 1/mu, exponential patience
  mean 1/theta, FCFS, infinite waiting room): with ``a = n mu/theta`` and ``x = lambda/theta`` the
  queue part of the stationary distribution sums to ``S = M(a, x) = 1F1(1; a+1; x)
  = Gamma(a+1) e^x x^-a P(a, x)`` (P = scipy.special.gammainc).  An arrival waits with
  probability ``S / (G + S)`` (PASTA).  An arrival that finds j callers ahead is served after a sum
  of exponentials with rates ``theta (a + i)``, i = 0..j, so ``U = exp(-theta V) ~ Beta(a, j+1)``;
  it is served (does not abandon) with probability E[U]; mixing over j gives the closed forms
  (Mandelbaum & Zeltyn 2004; Garnett, Mandelbaum & Reiman 2002)::

      P(served within T | waits) = a/(a+1) [M(a+1, x) - M(a+1, x c) c^(a+1) e^(x (1-c))] / M(a, x)
      P(abandon | waits)         = 1 - a/(a+1) M(a+1, x) / M(a, x)        with c = exp(-theta T)
      E[V | served, waits]       = (1/theta) (1/(a+1) - d/db log M(b, x) at b = a+1)

  ``log M`` uses ``gammainc`` where it does not underflow and ``scipy.special.hyp1f1`` (a
  convergent series there) where it would.  The one derivative in the ASA is a Richardson-
  extrapolated central difference of a smooth function (tests compare it with mpmath).

Required agents: the fewest n meeting the target. Per interval, Erlang C climbs the stable upward
Erlang B recurrence from a log-space start, all intervals together; Erlang A gallops and bisects
from the Erlang C answer. When many intervals share their parameters (one AHT per queue, one
target), a table of the largest load each n carries is built once per combination and every
interval is looked up with a binary search; both routes give identical agents (tested).

No library offers Erlang A, a vectorized staffing search or these closed forms, so they are
written here on top of scipy's special functions; nothing below re-implements a special function.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special as sc

from reportlib.core.errors import UsageError
from reportlib.core.params import default_params
from reportlib.core.settings import setting_number

MODELS = ("erlang_c", "erlang_a")
_TINY = 1e-250  # below this a regularized incomplete gamma is replaced by its series form (see _log_m)

ArrayLike = Any  # float | int | numpy array | pandas Series | sequence of numbers


# --- shapes ---------------------------------------------------------------------------------------


def _broadcast(*values: ArrayLike) -> tuple[list[np.ndarray], tuple[int, ...], pd.Index | None, bool]:
    """Flat float arrays broadcast together, the common shape, a pandas index if any input had one, all-scalar flag.

    Scalars stay read-only zero-stride views (no copy), which _const recognises.
    """
    index = next((v.index for v in values if isinstance(v, pd.Series)), None)
    arrays = np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in values])
    shape = arrays[0].shape
    flat = [a.reshape(-1) if a.ndim == 1 else np.array(a, dtype=float).reshape(-1) for a in arrays]
    scalar = all(np.ndim(v) == 0 for v in values)
    return flat, shape, index, scalar


def _const(a: np.ndarray) -> bool:
    """True when a flat array holds one value repeated (a broadcast scalar, or all equal)."""
    return a.size == 0 or a.strides == (0,) or bool(np.all(a == a[0]))


def _head(a: np.ndarray) -> np.ndarray:
    """The array itself, or its first element when it is a broadcast scalar (cheap validation)."""
    return a[:1] if a.size and a.strides == (0,) else a


def _shape_out(values: np.ndarray, shape: tuple[int, ...], index: pd.Index | None, scalar: bool) -> Any:
    """Return flat results as a Python number, a Series (when an input was one) or an array of `shape`."""
    if scalar:
        return values.reshape(-1)[0].item()
    if index is not None and len(index) == values.size:
        return pd.Series(values.reshape(-1), index=index)
    return values.reshape(shape)


def _dict_out(cols: dict[str, np.ndarray], shape, index, scalar) -> dict[str, Any]:
    return {k: _shape_out(v, shape, index, scalar) for k, v in cols.items()}


# --- special-function building blocks (flat float arrays, no validation) ---------------------------


def _log_pois_pmf(n: np.ndarray, load: np.ndarray) -> np.ndarray:
    """log(load^n e^-load / n!) for real n >= 0, load > 0."""
    return sc.xlogy(n, load) - load - sc.gammaln(n + 1.0)


def _log_g(n: np.ndarray, load: np.ndarray) -> np.ndarray:
    """log G(n, A) = log(sum_{k<n} A^k/k! / (A^n/n!)) = log(1/ErlangB(n, A) - 1), for n > 0, A > 0."""
    q = sc.gammaincc(n, load)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(q) - _log_pois_pmf(n, load)
        # Q(n, A) underflows only for n far below A (A - n > ~35 sqrt(A)); there G -> n/(A-n) with
        # relative error ~A/(A-n)^2 < 1e-3, and every figure that uses G is 0 or 1 to double precision.
        bad = ~(q > _TINY)
        if bad.any():
            out[bad] = np.log(n[bad] / (load[bad] - n[bad]))
    return out


def _log_m(b: np.ndarray, y: np.ndarray, series: np.ndarray | None = None) -> np.ndarray:
    """log M(b, y) = log 1F1(1; b+1; y) = log sum_j y^j / ((b+1)(b+2)...(b+j)), for b > 0, y >= 0.

    `series` forces the branch (True: hyp1f1 series; False: via gammainc), so that finite
    differences use one formula on both sides.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if series is None:
            p = sc.gammainc(b, y)
            series = ~(p > _TINY)
            out = y - sc.xlogy(b, y) + sc.gammaln(b + 1.0) + np.log(p)
        else:
            out = np.empty_like(b)
            direct = ~series
            if direct.any():
                bd, yd = b[direct], y[direct]
                out[direct] = yd - sc.xlogy(bd, yd) + sc.gammaln(bd + 1.0) + np.log(sc.gammainc(bd, yd))
        if series.any():
            # gammainc underflows only when y is well below b, where the series converges geometrically.
            out[series] = np.log(sc.hyp1f1(1.0, b[series] + 1.0, y[series]))
    return out


def _dlog_m_db(b: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d/db log M(b, y) by a Richardson-extrapolated central difference (error O(h^4)).

    Where gammainc does not underflow, log M = y - b log y + gammaln(b+1) + log P(b, y): the large
    terms are differentiated exactly (digamma) and only the moderate log P numerically.
    """
    series = ~(sc.gammainc(b, y) > _TINY)
    h = np.minimum(0.01 * np.sqrt(b), 0.25 * b)

    def f(bb: np.ndarray) -> np.ndarray:
        out = np.empty_like(bb)
        d = ~series
        if d.any():
            out[d] = np.log(sc.gammainc(bb[d], y[d]))
        if series.any():
            out[series] = np.log(sc.hyp1f1(1.0, bb[series] + 1.0, y[series]))
        return out

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        d1 = (f(b + h) - f(b - h)) / (2.0 * h)
        d2 = (f(b + h / 2.0) - f(b - h / 2.0)) / h
        deriv = (4.0 * d2 - d1) / 3.0
        deriv = np.where(series, deriv, deriv + sc.digamma(b + 1.0) - np.log(y))
    return deriv


# --- Erlang C --------------------------------------------------------------------------------------


def offered_load(calls: ArrayLike, aht_s: ArrayLike, interval_s: ArrayLike) -> Any:
    """Offered load in Erlangs: calls x average handle time (s) / interval length (s)."""
    (c, h, t), shape, index, scalar = _broadcast(calls, aht_s, interval_s)
    return _shape_out(_load(c, h, t), shape, index, scalar)


def _load(calls: np.ndarray, aht: np.ndarray, interval: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.where(calls == 0, 0.0, calls * aht / interval)


def erlang_b(agents: ArrayLike, load: ArrayLike) -> Any:
    """Erlang B blocking probability (share 0..1) for `agents` servers and `load` Erlangs."""
    (n, a), shape, index, scalar = _broadcast(agents, load)
    out = np.where(a > 0, 1.0, 0.0)
    ok = (n > 0) & (a > 0)
    out[ok] = sc.expit(-_log_g(n[ok], a[ok]))
    return _shape_out(out, shape, index, scalar)


def erlang_c(agents: ArrayLike, load: ArrayLike) -> Any:
    """Erlang C probability that a caller waits (share 0..1); 1 when agents <= load (unstable queue)."""
    (n, a), shape, index, scalar = _broadcast(agents, load)
    return _shape_out(_erlang_c(n, a), shape, index, scalar)


def _erlang_c(n: np.ndarray, a: np.ndarray) -> np.ndarray:
    out = np.where(a > 0, 1.0, 0.0)
    ok = (a > 0) & (n > a)
    if ok.any():
        nn, aa = n[ok], a[ok]
        out[ok] = sc.expit(-(_log_g(nn, aa) + np.log1p(-aa / nn)))
    return out


def erlang_c_metrics(
    agents: ArrayLike, calls: ArrayLike, aht_s: ArrayLike, interval_s: ArrayLike, answer_s: ArrayLike
) -> dict[str, Any]:
    """Erlang C (M/M/n) figures for given agents: p_wait, service_level within answer_s, asa_s, occupancy.

    service_level = P(wait <= answer_s) (share 0..1); asa_s = mean wait of all callers (seconds;
    nobody abandons in Erlang C); occupancy = load / agents. When agents <= load the queue grows
    without bound: p_wait 1, service level 0, asa inf, occupancy 1. No calls: zeros, service level 1.
    """
    (n, c, h, t, ans), shape, index, scalar = _broadcast(agents, calls, aht_s, interval_s, answer_s)
    _check_inputs(n, c, h, t, ans)
    return _dict_out(_erlang_c_metrics(n, _load(c, h, t), h, ans), shape, index, scalar)


def _check_inputs(n, c, h, t, ans, pat=None) -> None:
    """Raise UsageError naming the first input out of range (figures for given agents)."""
    _require(np.isfinite(_head(n)) & (_head(n) >= 0), "agents must be finite numbers >= 0")
    _require(np.isfinite(_head(c)) & (_head(c) >= 0), "calls must be finite numbers >= 0")
    busy = c > 0
    hb = _head(h) if h.strides == (0,) else h[busy]
    _require(np.isfinite(hb) & (hb > 0), "aht_s must be > 0 seconds where there are calls")
    _require(np.isfinite(_head(t)) & (_head(t) > 0), "interval_s must be > 0 seconds")
    _require(np.isfinite(_head(ans)) & (_head(ans) >= 0), "answer_s must be >= 0 seconds")
    if pat is not None:
        _require(~np.isnan(_head(pat)) & (_head(pat) > 0), "patience_s must be > 0 seconds")


def _erlang_c_metrics(n, load, aht, answer) -> dict[str, np.ndarray]:
    pw = _erlang_c(n, load)
    stable = n > load
    busy = load > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        sl = np.where(stable, 1.0 - pw * np.exp(-(n - load) * answer / aht), 0.0)
        asa = np.where(stable, pw * aht / (n - load), np.inf)
        occ = np.where(stable, load / n, 1.0)
    sl = np.where(busy, sl, 1.0)
    asa = np.where(busy, asa, 0.0)
    occ = np.where(busy, occ, 0.0)
    return {"p_wait": pw, "service_level": sl, "asa_s": asa, "occupancy": occ, "abandon_rate": np.full(n.shape, np.nan)}


def _erlang_c_sl(n: np.ndarray, load: np.ndarray, aht: np.ndarray, answer: np.ndarray) -> np.ndarray:
    """Erlang C service level only (the lean path used by the searches); load > 0."""
    pw = _erlang_c(n, load)
    with np.errstate(over="ignore", under="ignore"):
        return np.where(n > load, 1.0 - pw * np.exp(-(n - load) * answer / aht), 0.0)


# --- Erlang A --------------------------------------------------------------------------------------


def erlang_a_metrics(
    agents: ArrayLike,
    calls: ArrayLike,
    aht_s: ArrayLike,
    interval_s: ArrayLike,
    answer_s: ArrayLike,
    patience_s: ArrayLike,
) -> dict[str, Any]:
    """Erlang A (M/M/n+M) figures for given agents, exponential patience with mean patience_s seconds.

    p_wait: share of arrivals that wait; abandon_rate: share of arrivals that hang up;
    service_level: share of ALL arrivals answered within answer_s (abandoners count as missed,
    docs/definitions.md#service-level-offered); asa_s: mean wait of answered callers (seconds);
    occupancy: answered load / agents. patience_s = inf gives Erlang C.
    Also sl_answered = P(answered within answer_s | answered) and wait_abandoned_s = mean time to
    abandon of abandoners (the figures of Whitt 2005, Table 1).
    """
    (n, c, h, t, ans, pat), shape, index, scalar = _broadcast(agents, calls, aht_s, interval_s, answer_s, patience_s)
    _check_inputs(n, c, h, t, ans, pat)
    return _dict_out(_erlang_a_metrics(n, _load(c, h, t), h, ans, pat), shape, index, scalar)


def _erlang_a_core(n, load, aht, answer, patience, need_asa: bool = True) -> dict[str, np.ndarray]:
    """Erlang A for n > 0, load > 0, finite patience > 0 (flat arrays)."""
    a = n * patience / aht  # n mu / theta
    x = load * patience / aht  # lambda / theta
    theta_t = answer / patience
    log_g = _log_g(n, load)
    log_m0 = _log_m(a, x)
    p_wait = sc.expit(log_m0 - log_g)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        # M(a+1, x) from M(a, x) = 1 + x/(a+1) M(a+1, x): saves one incomplete gamma per evaluation.
        log_expm1 = np.where(log_m0 > 1.0, log_m0 + np.log1p(-np.exp(-log_m0)), np.log(np.expm1(log_m0)))
        log_m1 = log_expm1 + np.log((a + 1.0) / x)
        served_w = a / (a + 1.0) * np.exp(log_m1 - log_m0)  # P(served | waits)
        cx = x * np.exp(-theta_t)
        log_m2 = _log_m(a + 1.0, cx)
        late = np.exp(log_m2 - log_m0 - (a + 1.0) * theta_t + (x - cx))
        within_w = a / (a + 1.0) * (np.exp(log_m1 - log_m0) - late)  # P(served within T | waits)
    served_w = np.clip(served_w, 0.0, 1.0)
    within_w = np.clip(within_w, 0.0, served_w)
    p_ab = p_wait * (1.0 - served_w)
    sl = (1.0 - p_wait) + p_wait * within_w
    out = {"p_wait": p_wait, "service_level": sl, "abandon_rate": p_ab, "occupancy": load * (1.0 - p_ab) / n}
    if need_asa:
        b = a + 1.0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            wait_served_w = patience * (1.0 / b - _dlog_m_db(b, x))  # E[V | served, waits], seconds
            asa = p_wait * served_w * wait_served_w / (1.0 - p_ab)
            # Every caller's time in queue averages p_ab * patience (Little: E[min(V, tau)] = P(ab)/theta).
            wait_ab = (p_ab * patience - p_wait * served_w * wait_served_w) / p_ab
        out["asa_s"] = np.maximum(asa, 0.0)
        out["sl_answered"] = sl / (1.0 - p_ab)
        out["wait_abandoned_s"] = wait_ab
    return out


def _erlang_a_metrics(n, load, aht, answer, patience) -> dict[str, np.ndarray]:
    size = n.shape
    out = {
        k: np.full(size, np.nan)
        for k in ("p_wait", "service_level", "abandon_rate", "occupancy", "asa_s", "sl_answered", "wait_abandoned_s")
    }
    idle = load <= 0
    for k, v in {
        "p_wait": 0.0,
        "service_level": 1.0,
        "abandon_rate": 0.0,
        "occupancy": 0.0,
        "asa_s": 0.0,
        "sl_answered": 1.0,
    }.items():
        out[k][idle] = v
    nobody = (~idle) & (n <= 0)  # calls but no agents: everyone abandons
    for k, v in {"p_wait": 1.0, "service_level": 0.0, "abandon_rate": 1.0, "occupancy": 0.0}.items():
        out[k][nobody] = v
    out["wait_abandoned_s"][nobody] = patience[nobody]
    never = (~idle) & (n > 0) & np.isinf(patience)  # infinite patience: Erlang C
    if never.any():
        ec = _erlang_c_metrics(n[never], load[never], aht[never], answer[never])
        for k in ("p_wait", "service_level", "asa_s", "occupancy"):
            out[k][never] = ec[k]
        out["abandon_rate"][never] = 0.0
        out["sl_answered"][never] = ec["service_level"]
    core = (~idle) & (n > 0) & np.isfinite(patience)
    if core.any():
        res = _erlang_a_core(n[core], load[core], aht[core], answer[core], patience[core])
        for k, values in res.items():
            out[k][core] = values
    return out


def erlang_a_service_level(
    agents: ArrayLike,
    calls: ArrayLike,
    aht_s: ArrayLike,
    interval_s: ArrayLike,
    answer_s: ArrayLike,
    patience_s: ArrayLike,
) -> Any:
    """Erlang A service level only (share 0..1 of ALL arrivals answered within answer_s), the lean path.

    The same figure as ``erlang_a_metrics(...)["service_level"]`` without the ASA, for models evaluated
    many times (plan-vs-actual decompositions). Agents may be fractional (average agents staffed): the
    formulas are the incomplete-gamma continuations in n. No calls: 1; calls and no agents: 0;
    patience_s = inf: Erlang C.
    """
    (n, c, h, t, ans, pat), shape, index, scalar = _broadcast(agents, calls, aht_s, interval_s, answer_s, patience_s)
    _check_inputs(n, c, h, t, ans, pat)
    load = _load(c, h, t)
    out = np.where(load > 0, 0.0, 1.0)
    never = (load > 0) & (n > 0) & np.isinf(pat)
    if never.any():
        out[never] = _erlang_c_metrics(n[never], load[never], h[never], ans[never])["service_level"]
    core = (load > 0) & (n > 0) & np.isfinite(pat)
    if core.any():
        out[core] = _erlang_a_core(n[core], load[core], h[core], ans[core], pat[core], need_asa=False)["service_level"]
    return _shape_out(out, shape, index, scalar)


def queue_metrics(
    agents: ArrayLike,
    calls: ArrayLike,
    aht_s: ArrayLike,
    interval_s: ArrayLike,
    answer_s: ArrayLike,
    model: str = "erlang_c",
    patience_s: ArrayLike | None = None,
) -> dict[str, Any]:
    """p_wait, service_level, asa_s, occupancy, abandon_rate for given agents under `model` (see the two models)."""
    model = _check_model(model, patience_s)
    if model == "erlang_c":
        return erlang_c_metrics(agents, calls, aht_s, interval_s, answer_s)
    return erlang_a_metrics(agents, calls, aht_s, interval_s, answer_s, patience_s)


# --- required agents -------------------------------------------------------------------------------


def _check_model(model: str, patience_s: ArrayLike | None) -> str:
    if model not in MODELS:
        raise UsageError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
    if model == "erlang_a" and patience_s is None:
        raise UsageError(
            "model erlang_a needs patience_s (mean caller patience, seconds); "
            "estimate it with staffing.estimate_patience"
        )
    return model


def _require(ok: np.ndarray, message: str) -> None:
    if not np.all(ok):
        raise UsageError(message)


def _sl_search_erlang_c(load: np.ndarray, aht: np.ndarray, answer: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Smallest n > load with Erlang C service level >= target, for load > 0 (flat arrays).

    Works with R = 1 / ErlangB, whose recurrence R(k) = 1 + (k / A) R(k-1), R(0) = 1, is stable
    upward (it only adds positive terms). R at the first stable staffing n0 = floor(A) + 1 comes from
    that recurrence run for all intervals at once (sorted by n0 so each step touches a contiguous
    tail, in place), or from the log-space formula for n0 > 64. Then every interval climbs from n0,
    checking its service level (Erlang C = 1 / (R - (A/k)(R - 1))), until the target is met.
    """
    k0 = np.floor(load) + 1.0
    r = np.empty_like(load)
    big = k0 > 64
    if big.any():
        r[big] = 1.0 + np.exp(_log_g(k0[big], load[big]))
    small = np.flatnonzero(~big)
    if small.size:
        ks = k0[small].astype(np.int16)
        order = np.argsort(ks, kind="stable")  # radix sort for int16
        ks = ks[order]
        inv = 1.0 / load[small][order]
        rr = np.ones(small.size)
        first = np.searchsorted(ks, np.arange(1, int(ks[-1]) + 1), side="left")  # first index with n0 >= k
        for k, f in enumerate(first, start=1):
            tail = rr[f:]
            tail *= inv[f:]
            tail *= k
            tail += 1.0
        r[small[order]] = rr
    result = np.empty_like(load)
    idx = np.arange(load.size)
    k, a_ = k0, load
    tau = answer / aht
    decay = np.exp(-tau)  # exp(-(k - A) tau) shrinks by this factor per agent added
    alive = np.ones(load.size, dtype=bool)
    with np.errstate(under="ignore", over="ignore", divide="ignore"):
        # SL >= target  <=>  C exp(-(k - A) tau) <= 1 - target  <=>  q <= R - (A/k)(R - 1),
        # with q = exp(-(k - A) tau) / (1 - target); k > A throughout.
        q = np.exp(-(k0 - load) * tau) / (1.0 - target)
        for _ in range(10_000_000):
            ok = q <= r - (a_ / k) * (r - 1.0)
            ok &= alive
            if ok.any():
                result[idx[ok]] = k[ok]
                alive &= ~ok
                left = np.count_nonzero(alive)
                if left == 0:
                    return result
                if left < 0.5 * alive.size:  # drop finished intervals in batches
                    idx, a_, k, r, q, decay = idx[alive], a_[alive], k[alive], r[alive], q[alive], decay[alive]
                    alive = np.ones(idx.size, dtype=bool)
            k = k + 1.0
            r *= k / a_
            r += 1.0
            q *= decay
    raise UsageError("required agents: the search did not converge (target service level too close to 1?)")


def _smallest_passing(
    passes: Callable[[np.ndarray, np.ndarray], np.ndarray], start: np.ndarray, floor: np.ndarray
) -> np.ndarray:
    """Smallest integer n >= floor with passes(n, idx) True, for predicates monotone in n (vectorized).

    Galloping from `start` (steps 1, 2, 4, ... up or down) until the answer is bracketed, then
    bisection; every step evaluates only the intervals still open, all together.
    """
    start = np.maximum(np.round(start), floor)
    ok = passes(start, np.arange(start.size))
    lo = np.where(ok, floor - 1.0, start)  # largest n known to fail (floor - 1 fails by definition)
    hi = np.where(ok, start, np.inf)  # smallest n known to pass
    lo_measured = ~ok
    step = np.ones_like(start)
    for _ in range(400):
        open_ = hi - lo > 1
        if not open_.any():
            return hi
        idx = np.flatnonzero(open_)
        low, h, s, m = lo[idx], hi[idx], step[idx], lo_measured[idx]
        cand = np.where(np.isinf(h), low + s, np.where(m, np.floor((low + h) / 2.0), np.maximum(h - s, low + 1.0)))
        ok = passes(cand, idx)
        hi[idx] = np.where(ok, cand, h)
        lo[idx] = np.where(ok, low, cand)
        lo_measured[idx] = m | ~ok
        step[idx] = s * 2.0
    raise UsageError("required agents: the search did not converge (target too close to 1?)")


def _load_thresholds(
    margin: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray], k: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """Largest load (Erlangs) that k agents carry with margin(k, load, rows) >= 0, to 1e-11 relative.

    Relies on every staffing figure getting worse as load grows with agents fixed (the margin falls).
    Bracket by doubling, then the Illinois variant of false position (superlinear, never leaves the
    bracket); it stops when the bracket is 1e-11 wide relative to the load, well inside the 1e-9 band
    that _solve_grouped decides directly.
    """
    lo = np.full(k.size, 1e-12) * k
    f_lo = margin(k, lo, rows)
    hi = k + 1.0
    f_hi = margin(k, hi, rows)
    for _ in range(60):  # bracket: find a failing load
        bad = f_hi >= 0
        if not bad.any():
            break
        hi = np.where(bad, hi * 2.0, hi)
        f_hi = np.where(bad, margin(k, hi, rows), f_hi)
    unbounded = f_hi >= 0  # e.g. a zero target: any load passes
    side = np.zeros(k.size)
    for _ in range(200):
        open_ = (hi - lo > 1e-11 * hi) & ~unbounded
        if not open_.any():
            break
        i = np.flatnonzero(open_)
        a, b, fa, fb = lo[i], hi[i], f_lo[i], f_hi[i]
        with np.errstate(divide="ignore", invalid="ignore"):
            c = b - fb * (b - a) / (fb - fa)
        mid = 0.5 * (a + b)
        c = np.where(np.isfinite(c) & (c > a) & (c < b), c, mid)
        fc = margin(k[i], c, rows[i])
        ok = fc >= 0
        sd = side[i]
        lo[i] = np.where(ok, c, a)
        f_lo[i] = np.where(ok, fc, np.where(sd == -1, fa / 2.0, fa))
        hi[i] = np.where(ok, b, c)
        f_hi[i] = np.where(ok, np.where(sd == 1, fb / 2.0, fb), fc)
        side[i] = np.where(ok, 1.0, -1.0)
    return np.where(unbounded, np.inf, lo)


def _group_codes(columns: Sequence[np.ndarray]) -> tuple[np.ndarray, int]:
    """Integer code per element for its combination of parameter values, and the number of combinations."""
    size = columns[0].size
    codes = np.zeros(size, dtype=np.int64)
    groups, varying = 1, 0
    for col in columns:
        if not _const(col):
            c, uniques = pd.factorize(col)
            codes = codes * len(uniques) + c
            groups *= len(uniques)
            varying += 1
            if groups > 2**40 or varying > 1:
                codes, uniques = pd.factorize(codes)
                codes = codes.astype(np.int64)
                groups = len(uniques)
    return codes, groups


def _solve_grouped(
    margin: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    load: np.ndarray,
    codes: np.ndarray,
    groups: int,
    floor: float,
) -> np.ndarray:
    """Smallest agents >= floor with margin >= 0, per element, via per-group tables of the largest load k agents carry.

    For intervals sharing their parameters (AHT, answer time, patience, target, caps: the usual plan
    holds one AHT per queue) this replaces a search per interval by one table per combination and a
    binary search (np.searchsorted) per interval. Loads within 1e-9 of a table entry are decided
    directly, so the result equals the per-interval search.
    """

    def passes(n, a, rows):
        return margin(n, a, rows) >= 0

    if groups <= 32:  # a few combinations: one pass of == per group beats sorting
        small = codes.astype(np.int8)
        members = [np.flatnonzero(small == g) for g in range(groups)]
    else:
        order = np.argsort(codes.astype(np.int16) if groups < 2**15 else codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(groups + 1))
        members = [order[bounds[g] : bounds[g + 1]] for g in range(groups)]
    rep = np.array([m[0] for m in members])  # one element per group supplies the parameters
    max_load = np.array([load[m].max() for m in members])
    k_max = _smallest_passing(
        lambda n, j: passes(n, max_load[j], rep[j]), np.ceil(max_load) + 1.0, np.full(groups, float(floor))
    )
    counts = (k_max - floor + 1).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    prob_group = np.repeat(np.arange(groups), counts)
    prob_k = (np.arange(offsets[-1]) - offsets[prob_group] + floor).astype(float)
    thresholds = _load_thresholds(margin, prob_k, rep[prob_group])
    agents = np.empty(load.size)
    near = []
    for g, sel in enumerate(members):
        table = np.maximum.accumulate(thresholds[offsets[g] : offsets[g + 1]])
        a = load[sel]
        pos = np.searchsorted(table, a, side="left")
        agents[sel] = pos + floor
        # Exactness at table entries: loads within 1e-9 (relative) of an entry are decided directly.
        close = np.searchsorted(table * (1.0 - 1e-9), a, side="left") != np.searchsorted(
            table * (1.0 + 1e-9), a, side="left"
        )
        if close.any():
            near.append(sel[close])
    if near:
        fix = np.concatenate(near)
        agents[fix] = _smallest_passing(
            lambda n, j: passes(n, load[fix[j]], fix[j]), agents[fix], np.full(fix.size, float(floor))
        )
    return agents


def required_agents(
    calls: ArrayLike,
    aht_s: ArrayLike,
    interval_s: ArrayLike,
    target_sl: ArrayLike,
    answer_s: ArrayLike,
    model: str = "erlang_c",
    patience_s: ArrayLike | None = None,
    max_occupancy: ArrayLike | None = None,
    max_abandon: ArrayLike | None = None,
    fractional: bool = False,
    method: str = "auto",
) -> Any:
    """Fewest productive agents per interval meeting the service-level target (and optional caps).

    calls per interval, aht_s and answer_s in seconds, interval_s the interval length in seconds,
    target_sl a share 0..1 (SL = answered within answer_s / offered), model 'erlang_c' or
    'erlang_a' (then patience_s, mean caller patience in seconds, is required), max_occupancy a share
    (agents >= load / max_occupancy for Erlang C; answered load / agents for Erlang A), max_abandon a
    share of calls (Erlang A only). Vectorized: every argument may be a scalar, an array or a Series
    (the result is then a Series on the same index). Zero calls give zero agents.

    Returns integer agents, or with fractional=True agents interpolated linearly between n-1 and n
    by the binding constraint's figure (service level, abandon rate or occupancy), which sums better
    across queues; ceil(fractional) equals the integer answer.
    `method`: 'auto' (default), 'interval' (search every interval) or 'table' (one table of
    maximum loads per parameter combination); all give the same agents, 'auto' picks the faster.
    """
    model = _check_model(model, patience_s)
    if max_abandon is not None and model != "erlang_a":
        raise UsageError("max_abandon needs model='erlang_a' (Erlang C has no abandonment)")
    if method not in ("auto", "interval", "table"):
        raise UsageError(f"method must be auto, interval or table, got {method!r}")
    values = [
        calls,
        aht_s,
        interval_s,
        target_sl,
        answer_s,
        np.inf if patience_s is None or model == "erlang_c" else patience_s,
        1.0 if max_occupancy is None else max_occupancy,
        1.0 if max_abandon is None else max_abandon,
    ]
    (c, h, t, g, ans, pat, occ, ab), shape, index, scalar = _broadcast(*values)
    if c.size == 0:
        return _shape_out(np.zeros(0, dtype=float if fractional else np.int64), shape, index, scalar)
    _require(np.isfinite(_head(c)) & (_head(c) >= 0), "calls must be finite numbers >= 0")
    busy = c > 0
    all_busy = bool(busy.all())
    nb = int(np.count_nonzero(busy))
    hb = np.broadcast_to(h[0], (nb,)) if h.strides == (0,) else (h if all_busy else h[busy])
    _require(np.isfinite(_head(hb)) & (_head(hb) > 0), "aht_s must be > 0 seconds where there are calls")
    _require(np.isfinite(_head(t)) & (_head(t) > 0), "interval_s must be > 0 seconds")
    _require((_head(g) >= 0) & (_head(g) < 1), "target_sl must be a share in [0, 1) (e.g. 0.8 for 80%)")
    _require(np.isfinite(_head(ans)) & (_head(ans) >= 0), "answer_s must be >= 0 seconds")
    _require(~np.isnan(_head(pat)) & (_head(pat) > 0), "patience_s must be > 0 seconds")
    _require((_head(occ) > 0) & (_head(occ) <= 1), "max_occupancy must be a share in (0, 1]")
    _require((_head(ab) > 0) & (_head(ab) <= 1), "max_abandon must be a share in (0, 1]")

    caps = (max_occupancy is not None, max_abandon is not None)
    out_dtype = float if fractional else np.int64
    if all_busy:
        n_int, n_frac = _required_busy(c * h / t, h, g, ans, pat, occ, ab, *caps, fractional, method)
        result = (n_frac if fractional else n_int).astype(out_dtype)
    else:
        result = np.zeros(c.size, dtype=out_dtype)
        if busy.any():
            nb = int(np.count_nonzero(busy))
            pick = [
                hb if x is h else (np.broadcast_to(x[0], (nb,)) if x.strides == (0,) else x[busy])
                for x in (c, h, t, g, ans, pat, occ, ab)
            ]
            cb, hb, tb = pick[:3]
            n_int, n_frac = _required_busy(cb * hb / tb, hb, *pick[3:], *caps, fractional, method)  # type: ignore[call-arg]
            result[busy] = n_frac if fractional else n_int
    return _shape_out(result, shape, index, scalar)


# The largest offered load (erlangs) staffed: above 2**52 agent counts n and n + 1 are no longer distinct
# 64-bit floats, and the Erlang formulas' margins vanish (1e18 calls an interval gave a service level of 0
# at "enough" agents). From floating-point arithmetic, not from any operation (real loads are < 1e6).
MAX_LOAD_ERLANGS = float(2**52)


def _required_busy(load, aht, target, answer, patience, max_occ, max_ab, cap_occ, cap_ab, fractional, method):
    """Integer and fractional required agents for load > 0 (flat arrays; patience inf = Erlang C)."""
    _require(
        _head(load) < MAX_LOAD_ERLANGS,
        f"the offered load (calls x aht_s / interval_s) must be under 2**52 = {MAX_LOAD_ERLANGS:.17g} erlangs; "
        f"got {float(np.max(load)):.17g}",
    )
    erlang_a = np.isfinite(patience)
    any_a = bool(erlang_a.any())

    def figure(n: np.ndarray, a: np.ndarray, rows: np.ndarray, key: str) -> np.ndarray:
        """One figure for n agents at loads `a`, with the parameters of elements `rows`."""
        ea = erlang_a[rows]
        if key == "abandon_rate":
            out = np.zeros(n.size)
        elif ea.all():
            out = np.empty(n.size)
        elif key == "service_level":
            out = _erlang_c_sl(n, a, aht[rows], answer[rows])
        else:
            out = _erlang_c_metrics(n, a, aht[rows], answer[rows])[key]
        if ea.any():
            sel = ea & (n > 0)
            if sel.any():
                r = rows[sel]
                out[sel] = _erlang_a_core(n[sel], a[sel], aht[r], answer[r], patience[r], need_asa=False)[key]
            zero = ea & (n <= 0)
            out[zero] = {"service_level": 0.0, "abandon_rate": 1.0, "occupancy": 0.0}[key]
        return out

    # Margins: >= 0 when the figure meets its goal; they fall as load rises (used by the load tables).
    def margin_sl(n, a, rows):
        m = figure(n, a, rows, "service_level") - target[rows]
        # Erlang C also needs a stable queue (n > A); the second term keeps the margin continuous.
        return np.where(erlang_a[rows], m, np.minimum(m, 1.0 - a / np.maximum(n, 1e-300) - 1e-12))

    def margin_occ(n, a, rows):
        return max_occ[rows] - figure(n, a, rows, "occupancy")

    def margin_ab(n, a, rows):
        return max_ab[rows] - figure(n, a, rows, "abandon_rate")

    def pass_sl(n, a, rows):
        return margin_sl(n, a, rows) >= 0

    def pass_occ(n, a, rows):
        return margin_occ(n, a, rows) >= 0

    def pass_ab(n, a, rows):
        return margin_ab(n, a, rows) >= 0

    size = load.size
    tau = answer / aht
    ratio = patience / aht
    keys = [tau, ratio, target] + ([max_occ] if cap_occ else []) + ([max_ab] if cap_ab else [])
    top = float(load.max())
    per_group = 70.0 * (top + 5.0 * math.sqrt(top) + 5.0)  # evaluations to tabulate one combination
    budget = (4.0 if any_a else 1.0) * size  # about what searching every interval costs
    use_table = method == "table"
    if method == "auto" and per_group < budget:
        # Count combinations on a sample first: a lower bound that spares a full factorize when hopeless.
        probe = np.unique(np.random.default_rng(0).integers(0, size, min(size, 2000)))
        _, probe_groups = _group_codes([k[probe] for k in keys])
        if probe_groups * per_group < budget:
            codes, groups = _group_codes(keys)
            use_table = groups * per_group < budget
    if use_table and method == "table":
        codes, groups = _group_codes(keys)

    allrows = np.arange(size)
    constraints: list[tuple[str, np.ndarray, np.ndarray]] = []  # (figure, integer n, goal)
    if use_table:
        n_sl = _solve_grouped(margin_sl, load, codes, groups, 1.0)
    else:
        n_sl = _sl_search_erlang_c(load, aht, answer, target)
        if any_a:
            ia = np.flatnonzero(erlang_a)
            n_sl[ia] = _smallest_passing(lambda n, j: pass_sl(n, load[ia[j]], ia[j]), n_sl[ia], np.ones(ia.size))
    constraints.append(("service_level", n_sl, target))
    if cap_occ:
        n_occ = np.maximum(np.ceil(load / max_occ - 1e-9), 1.0)  # exact for Erlang C: load / n <= cap
        if any_a:
            ia = np.flatnonzero(erlang_a)
            if use_table:
                sub_codes, sub_groups = _group_codes([codes[ia]])
                sub = _solve_grouped(lambda n, a, r: margin_occ(n, a, ia[r]), load[ia], sub_codes, sub_groups, 1.0)
            else:
                sub = _smallest_passing(lambda n, j: pass_occ(n, load[ia[j]], ia[j]), n_occ[ia], np.ones(ia.size))
            n_occ[ia] = sub
        constraints.append(("occupancy", n_occ, max_occ))
    if cap_ab:
        n_ab = np.zeros(size)
        ia = np.flatnonzero(erlang_a)
        if use_table:
            sub_codes, sub_groups = _group_codes([codes[ia]])
            n_ab[ia] = _solve_grouped(lambda n, a, r: margin_ab(n, a, ia[r]), load[ia], sub_codes, sub_groups, 1.0)
        else:
            n_ab[ia] = _smallest_passing(lambda n, j: pass_ab(n, load[ia[j]], ia[j]), n_sl[ia], np.ones(ia.size))
        constraints.append(("abandon_rate", n_ab, max_ab))

    n_int = constraints[0][1]
    for _, n_k, _ in constraints[1:]:
        n_int = np.maximum(n_int, n_k)
    if not fractional:
        return n_int, n_int
    n_frac = np.zeros(size)
    for key, n_k, goal in constraints:
        if key == "occupancy" and not any_a:
            f = load / max_occ
        else:
            hi_v = figure(n_k, load, allrows, key)
            lo_v = figure(n_k - 1.0, load, allrows, key)
            if key == "service_level":
                # Erlang C below the stable staffing serves nobody in time in the long run.
                lo_v = np.where((~erlang_a) & (n_k - 1.0 <= load), 0.0, lo_v)
            with np.errstate(divide="ignore", invalid="ignore"):
                w = (goal - lo_v) / (hi_v - lo_v)
            w = np.where(np.isfinite(w), np.clip(w, 0.0, 1.0), 1.0)
            f = n_k - 1.0 + w
            if key == "occupancy":
                f = np.where(erlang_a, f, load / max_occ)
        n_frac = np.maximum(n_frac, np.minimum(f, n_int))
    # n - 1 agents fall short (n is the fewest that do not), so the fractional answer lies above n - 1 and its
    # ceiling is n: a goal met exactly at n - 1 (a target of 0, met at the stable staffing bound n - 1 = A of
    # Erlang C, which serves nobody in time) gave A itself, whose ceiling was one agent short (a probe)
    return n_int, np.maximum(n_frac, np.nextafter(n_int - 1.0, np.inf))


def staffing_summary(
    calls: float,
    aht_s: float,
    interval_s: float,
    target_sl: float,
    answer_s: float,
    model: str = "erlang_c",
    patience_s: float | None = None,
    shrinkage: float | None = None,
    max_occupancy: float | None = None,
    max_abandon: float | None = None,
    concurrency: float = 1.0,
) -> dict[str, Any]:
    """One interval: required agents and the figures they achieve, FTE with shrinkage, and the inputs echoed.

    Keys: agents, agents_fractional, load_erlangs, service_level, asa_s, occupancy, p_wait,
    abandon_rate (None for Erlang C), fte = agents / (1 - shrinkage) and scheduled_agents = ceil(fte)
    (None without shrinkage), then the inputs. With `concurrency` c (contacts an agent handles at once, >= 1)
    the model has agents x c servers at `aht_s` per contact (`agents_for_servers`); occupancy is then the
    share of those servers busy.
    """
    if not (math.isfinite(concurrency) and concurrency >= 1):
        raise UsageError(f"concurrency must be a number >= 1 (contacts an agent handles at once), got {concurrency}")
    servers = required_agents(
        calls, aht_s, interval_s, target_sl, answer_s, model, patience_s, max_occupancy, max_abandon
    )
    servers_frac = required_agents(
        calls, aht_s, interval_s, target_sl, answer_s, model, patience_s, max_occupancy, max_abandon, fractional=True
    )
    agents = agents_for_servers(servers, concurrency)
    agents_frac = float(servers_frac) / concurrency
    m = queue_metrics(agents * concurrency, calls, aht_s, interval_s, answer_s, model, patience_s)
    fte = None if shrinkage is None else scheduled_fte(agents, shrinkage)
    out: dict[str, Any] = {
        "agents": int(agents),
        "agents_fractional": round(float(agents_frac), 6),
        "load_erlangs": float(offered_load(calls, aht_s, interval_s)),
        "service_level": float(m["service_level"]),
        "asa_s": float(m["asa_s"]),
        "occupancy": float(m["occupancy"]),
        "p_wait": float(m["p_wait"]),
        "abandon_rate": None if model == "erlang_c" else float(m["abandon_rate"]),
        "fte": None if fte is None else round(float(fte), 6),
        "scheduled_agents": None if fte is None else int(math.ceil(round(float(fte), 9))),
        "model": model,
        "calls": float(calls),
        "aht_s": float(aht_s),
        "interval_s": float(interval_s),
        "target_sl": float(target_sl),
        "answer_s": float(answer_s),
        "patience_s": None if patience_s is None else float(patience_s),
        "shrinkage": None if shrinkage is None else float(shrinkage),
        "max_occupancy": None if max_occupancy is None else float(max_occupancy),
        "max_abandon": None if max_abandon is None else float(max_abandon),
        "concurrency": float(concurrency),
    }
    return out


def staff_intervals(
    frame: pd.DataFrame,
    target_sl: ArrayLike,
    answer_s: ArrayLike,
    model: str = "erlang_c",
    patience_s: ArrayLike | None = None,
    max_occupancy: ArrayLike | None = None,
    max_abandon: ArrayLike | None = None,
    calls_col: str = "calls",
    aht_col: str = "aht_s",
    interval_min_col: str = "interval_minutes",
    fractional: bool = False,
) -> pd.DataFrame:
    """A copy of an interval plan (calls, AHT s, interval minutes per row) with agents and their figures added.

    Adds load_erlangs, agents (or fractional agents), service_level, asa_s, occupancy, p_wait,
    abandon_rate. `patience_s` etc. may be scalars or columns (Series aligned on the frame).
    """
    for col in (calls_col, aht_col, interval_min_col):
        if col not in frame.columns:
            raise UsageError(f"staff_intervals needs a column {col!r} (have: {', '.join(map(str, frame.columns))})")
    out = frame.copy()
    calls = out[calls_col].astype(float)
    aht = out[aht_col].astype(float)
    interval_s = out[interval_min_col].astype(float) * 60.0
    agents = required_agents(
        calls,
        aht,
        interval_s,
        target_sl,
        answer_s,
        model,
        patience_s,
        max_occupancy,
        max_abandon,
        fractional=fractional,
    )
    out["load_erlangs"] = offered_load(calls, aht, interval_s)
    out["agents"] = agents
    m = queue_metrics(
        np.ceil(np.asarray(agents, dtype=float)),
        calls.to_numpy(),
        aht.to_numpy(),
        interval_s.to_numpy(),
        answer_s,
        model,
        None if patience_s is None else np.asarray(patience_s, dtype=float),
    )
    for key in ("service_level", "asa_s", "occupancy", "p_wait", "abandon_rate"):
        out[key] = np.asarray(m[key], dtype=float)
    return out


# --- patience --------------------------------------------------------------------------------------


def estimate_patience(abandoned: ArrayLike, total_wait_s: ArrayLike) -> Any:
    """Mean caller patience in seconds: total time waited by ALL callers / abandons (Brown et al. 2005).

    The maximum-likelihood estimate for exponential patience from censored waits: every caller's wait
    (answered or abandoned) is exposure, each abandon an event. No abandons: inf (no patience limit
    seen; use Erlang C); no waiting and no abandons: NaN.
    """
    (ab, w), shape, index, scalar = _broadcast(abandoned, total_wait_s)
    if np.any(ab < 0) or np.any(w < 0):
        raise UsageError("abandoned counts and total wait seconds must be >= 0")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(ab > 0, w / ab, np.where(w > 0, np.inf, np.nan))
    return _shape_out(out, shape, index, scalar)


def patience_by_group(
    frame: pd.DataFrame,
    by: Sequence[str] = ("queue",),
    freq: str | None = None,
    time_col: str = "interval_start",
    abandoned_col: str = "abandoned",
    wait_col: str = "wait_s_total",
) -> pd.DataFrame:
    """Patience (seconds) by group and period from counts of abandons and total wait of all callers.

    `frame` has one row per interval (or contact aggregate) with `abandoned` and `wait_s_total` (the
    waiting time of every caller, answered and abandoned, in seconds); `by` the grouping columns; `freq`
    a pandas period frequency ('D', 'W', 'M', ...) applied to `time_col`, or None for the whole span.
    Returns the groups (and `period`), abandoned, wait_s_total and patience_s.
    """
    by = list(by)
    need = by + [abandoned_col, wait_col] + ([time_col] if freq else [])
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise UsageError(f"patience_by_group needs columns {', '.join(missing)}")
    work = frame[by + [abandoned_col, wait_col]].copy()
    keys = list(by)
    if freq:
        work["period"] = pd.to_datetime(frame[time_col]).dt.to_period(freq)
        keys.append("period")
    if not keys:
        agg = pd.DataFrame({abandoned_col: [work[abandoned_col].sum()], wait_col: [work[wait_col].sum()]})
    else:
        agg = work.groupby(keys, dropna=False, observed=True)[[abandoned_col, wait_col]].sum().reset_index()
    agg = agg.rename(columns={abandoned_col: "abandoned", wait_col: "wait_s_total"})
    agg["patience_s"] = (
        estimate_patience(agg["abandoned"].astype(float), agg["wait_s_total"].astype(float)).to_numpy()
        if len(agg)
        else np.array([], dtype=float)
    )
    return agg


# --- deferred work (email) -------------------------------------------------------------------------


def workload_fte(volume: ArrayLike, handle_s: ArrayLike, productive_hours: ArrayLike) -> Any:
    """FTE for deferred work: volume x handle time (s) / 3600 / productive hours per FTE in the period."""
    (v, hs, ph), shape, index, scalar = _broadcast(volume, handle_s, productive_hours)
    if np.any(ph <= 0):
        raise UsageError("productive_hours must be > 0")
    return _shape_out(v * hs / 3600.0 / ph, shape, index, scalar)


def deferred_agents(
    volume: ArrayLike,
    handle_s: float,
    response_h: float,
    bucket_h: float = 1.0,
    backlog: float = 0.0,
    cyclic: bool = True,
) -> float:
    """Agents (constant, in business time) needed so that every item gets its response within response_h.

    volume: items arriving in consecutive business-time buckets of bucket_h hours (business hours
    only: nights, weekends and holidays left out), spread evenly within each bucket; handle_s:
    work per item in seconds; response_h: the response target in business hours; backlog: items
    already waiting at the start, due within response_h; cyclic: the buckets are one cycle of a
    repeating pattern (e.g. a week of business hours), so work left at the end carries into the
    next cycle and capacity must at least match the average workload.

    Items are answered oldest first (which meets every deadline whenever any order can), so the target
    holds iff each window of buckets i..j gets its work done between its start and its last item's
    deadline: agents >= work(i..j) / ((j - i + 1) bucket_h + response_h). The answer is the
    largest such ratio: at least the average workload (volume x handle / hours, the plain workload
    formula), more when arrivals are peaky and the target is short. Hand-written because this
    deadline-feasibility bound is domain logic no library provides.
    """
    vol = np.asarray(volume, dtype=float).reshape(-1)
    if np.any(~np.isfinite(vol)) or np.any(vol < 0):
        raise UsageError("volume must be finite counts >= 0")
    if handle_s < 0 or response_h <= 0 or bucket_h <= 0 or backlog < 0:
        raise UsageError("handle_s >= 0, response_h > 0, bucket_h > 0 and backlog >= 0 are required")
    work = vol * handle_s / 3600.0  # hours of work per bucket
    backlog_h = backlog * handle_s / 3600.0
    m = work.size
    candidates = [backlog_h / response_h]
    if m:
        series = np.concatenate([work, work]) if cyclic else work
        cum = np.concatenate([[0.0], np.cumsum(series)])
        i = np.arange(m)[:, None]  # window start (first cycle)
        length = np.arange(1, m + 1)[None, :]  # buckets in the window
        j = i + length - 1
        valid = j < series.size
        jj = np.where(valid, j, 0)
        win = cum[jj + 1] - cum[i]
        win = win + np.where(i == 0, backlog_h, 0.0)
        ratio = np.where(valid, win / (length * bucket_h + response_h), 0.0)
        candidates.append(float(ratio.max()))
        if cyclic:
            candidates.append(float(work.sum() / (m * bucket_h)))
    return max(candidates)


# --- shrinkage and FTE hours -----------------------------------------------------------------------


def scheduled_fte(agents: ArrayLike, shrinkage: ArrayLike) -> Any:
    """Scheduled FTE (or agents) to put on the rota: productive agents / (1 - shrinkage share)."""
    (n, s), shape, index, scalar = _broadcast(agents, shrinkage)
    if np.any(~((s >= 0) & (s < 1))):
        raise UsageError("shrinkage must be a share in [0, 1) (e.g. 0.3 for 30%)")
    return _shape_out(n / (1.0 - s), shape, index, scalar)


def plan_hours(
    plan: pd.DataFrame,
    shrinkage: float = 0.0,
    interval_minutes: float | None = None,
    hours_per_fte_week: float = 40.0,
    agents_col: str = "agents",
    by: Iterable[str] = (),
) -> dict[str, pd.DataFrame]:
    """Agent-hours and FTE per day and per week (weeks start Monday) from an interval plan.

    plan: one row per interval with `interval_start` and `agents` (and `interval_minutes`, unless
    given). Returns {'day': ..., 'week': ...}, each with agent_hours (productive), scheduled_hours =
    agent_hours / (1 - shrinkage), and fte = scheduled hours / hours_per_fte_week (per week; per day
    the daily share, hours / (hours_per_fte_week / 5)).
    """
    by = list(by)
    if "interval_start" not in plan.columns or agents_col not in plan.columns:
        raise UsageError(f"plan_hours needs columns interval_start and {agents_col}")
    if interval_minutes is None and "interval_minutes" not in plan.columns:
        raise UsageError("plan_hours needs an interval_minutes column or the interval_minutes argument")
    if not 0 <= shrinkage < 1:
        raise UsageError("shrinkage must be a share in [0, 1)")
    if hours_per_fte_week <= 0:
        raise UsageError("hours_per_fte_week must be > 0")
    start = pd.to_datetime(plan["interval_start"])
    minutes = plan["interval_minutes"].astype(float) if interval_minutes is None else float(interval_minutes)
    work = pd.DataFrame({c: plan[c] for c in by})
    work["agent_hours"] = plan[agents_col].astype(float) * minutes / 60.0
    work["date"] = start.dt.normalize()
    work["week"] = (start - pd.to_timedelta(start.dt.weekday, unit="D")).dt.normalize()
    out = {}
    for key, per_fte in (("date", hours_per_fte_week / 5.0), ("week", hours_per_fte_week)):
        g = work.groupby(by + [key], dropna=False)["agent_hours"].sum().reset_index()
        g["scheduled_hours"] = g["agent_hours"] / (1.0 - shrinkage)
        g["fte"] = g["scheduled_hours"] / per_fte
        out["day" if key == "date" else "week"] = g
    return out


def service_targets(capacity: Mapping[str, Any] | None) -> dict[str, dict[str, float]]:
    """Service targets per live channel: {channel: {target_sl (share 0..1), answer_s (seconds), concurrency
    (contacts an agent handles at once, >= 1)}}.

    From capacity.yaml's `service_targets` (`capacity` is that parameter set); a channel or a key it does
    not give takes the shipped parameters/capacity.yaml value (phone 80% in 30 s, chat 80% in 60 s, one contact
    at a time), a channel the shipped file does not name takes phone's. UsageError names a value that is not a
    number.
    """
    defaults = dict((default_params().get("capacity") or {}).get("service_targets") or {})
    given = (capacity or {}).get("service_targets") or {}
    if not isinstance(given, Mapping) or not all(isinstance(v, Mapping | None) for v in given.values()):
        raise UsageError(
            f"parameter capacity.service_targets must map each channel to {{target_sl, answer_s}}, got {given!r}"
        )
    out: dict[str, dict[str, float]] = {}
    for ch in sorted(set(defaults) | set(given)):
        merged = {**dict(defaults.get(ch) or defaults.get("phone") or {}), **dict(given.get(ch) or {})}
        where = f"capacity.service_targets.{ch}."
        sl = setting_number(merged, "target_sl", where, minimum=0)
        if not sl < 1:  # 80 for 80%, or 1: no number of agents answers every caller in time
            raise UsageError(
                f"parameter {where}target_sl must be a share below 1 (80% is 0.80), got {merged['target_sl']!r}"
            )
        merged.setdefault("concurrency", 1)  # a parameters folder from before the setting: one at a time
        out[ch] = {
            "target_sl": sl,
            "answer_s": setting_number(merged, "answer_s", where, minimum=0),
            "concurrency": setting_number(merged, "concurrency", where, minimum=1),
        }
    return out


def agents_for_servers(servers: ArrayLike, concurrency: ArrayLike = 1) -> Any:
    """Agents needed when each handles `concurrency` contacts at once: the queueing model's servers (required_agents
    at the channel's handle time per contact) / concurrency, rounded up (2 chats at a time: 5 servers are 3 agents).
    The model's figures at those agents are its figures at agents x concurrency servers."""
    with np.errstate(invalid="ignore"):
        return np.ceil(np.round(np.asarray(servers, dtype=float) / np.asarray(concurrency, dtype=float), 9))
