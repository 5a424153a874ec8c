"""The capacity plan by week: headcount projected from today's roster with tenure-specific attrition,
planned hire classes with training and ramp-up, compared with the required FTE; the gap, a hiring
recommendation and the cost against the budget.

Conventions (all by week, week 0 starting on the plan's start date):
- headcount figures are expected values at the start of each week;
- a monthly hazard h (per tenure band, e.g. reportlib.metrics.attrition.tenure_hazard) means a survival of
  (1 - h) over a month of 365.25/12 days, constant within the band: an agent survives d days in the
  band with probability (1 - h) ** (d / 30.4375);
- a hire class starting in week s is paid from week s, trains for `training_weeks` weeks at 0%
  productivity, then works at ramp[0], ramp[1], ... in the weeks after training and at 100% after
  the ramp; hires attrit from tenure 0 with the same hazard table;
- roster agents hired recently follow the same training and ramp by their tenure; those whose hire date lies
  after the plan's start (a start date agreed ahead) are counted from the week of it, as a class is;
- productive FTE = sum of expected headcount x fte x productivity; it is compared with the required
  scheduled FTE (reportlib.planning.forecast.weekly_fte, shrinkage included).

Written here: no library models hire classes, ramp-up and tenure-band attrition together.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from reportlib.core.errors import UsageError
from reportlib.core.settings import setting_number
from reportlib.core.words import counted, noun_for

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class HiringSettings:
    """Hire classes: training weeks (0% productive), ramp (productivity share per week after training),
    FTE and loaded hourly cost of a hire, one-off cost per hire, paid hours per FTE-week."""

    training_weeks: int = 4
    ramp: tuple[float, ...] = (0.5, 0.625, 0.75, 0.875)
    hire_fte: float = 1.0
    hourly_cost: float = 24.0
    cost_per_hire: float = 4500.0
    hours_per_fte_week: float = 40.0
    default_hourly_cost: float = 24.0  # for roster agents without an hourly_cost
    roles: tuple[str, ...] = ("agent",)  # roster roles that take contacts
    max_class_size: int | None = None  # None: no limit; 0: no class at all (a hiring freeze)

    def __post_init__(self) -> None:
        if self.training_weeks < 0:
            raise UsageError("training_weeks must be >= 0")
        if any(not 0 <= r <= 1 for r in self.ramp):
            raise UsageError("ramp values are productivity shares between 0 and 1")
        if self.hire_fte <= 0 or self.hours_per_fte_week <= 0:
            raise UsageError("hire_fte and hours_per_fte_week must be > 0")
        if self.max_class_size is not None and self.max_class_size < 0:
            raise UsageError("max_class_size must be >= 0 (0: no hire class; null: no limit)")

    def productivity(self, weeks_since_start: np.ndarray) -> np.ndarray:
        """Productivity share (0..1) of someone `weeks_since_start` whole weeks after their start."""
        j = np.asarray(weeks_since_start, dtype=float)
        ramp = np.asarray(self.ramp, dtype=float)
        after = j - self.training_weeks
        idx = np.clip(np.floor(after), 0, max(len(ramp) - 1, 0)).astype(int)
        in_ramp = (after >= 0) & (after < len(ramp))
        out = np.where(after < 0, 0.0, np.where(in_ramp, ramp[idx] if len(ramp) else 1.0, 1.0))
        return np.where(j < 0, 0.0, out)

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> HiringSettings:
        """From parameters['capacity'] (parameters/capacity.yaml) or a dict of the same layout."""
        p = dict(params or {})
        if "capacity" in p and isinstance(p["capacity"], Mapping):
            p = dict(p["capacity"])
        h = p.get("hiring") or {}
        if not isinstance(h, Mapping):
            raise UsageError(f"parameter capacity.hiring must be a mapping of keys to values, got {h!r}")
        kwargs: dict[str, Any] = {}
        for key, minimum in (("hire_fte", 0.0), ("hourly_cost", 0.0), ("cost_per_hire", 0.0)):
            if h.get(key) is not None:
                kwargs[key] = setting_number(h, key, "capacity.hiring.", minimum=minimum)
        for key in ("training_weeks", "max_class_size"):  # whole numbers: 16.5 people is no class size
            if h.get(key) is not None:
                value = setting_number(h, key, "capacity.hiring.", minimum=0)
                if not value.is_integer():
                    raise UsageError(f"parameter capacity.hiring.{key} must be a whole number, got {h[key]!r}")
                kwargs[key] = int(value)
        if "ramp" in h:
            ramp = h["ramp"] or []
            if not isinstance(ramp, list):
                raise UsageError(f"parameter capacity.hiring.ramp must be a list of shares 0..1, got {ramp!r}")
            kwargs["ramp"] = tuple(
                setting_number({"ramp": r}, "ramp", "capacity.hiring.", minimum=0, maximum=1) for r in ramp
            )
        if "hours_per_fte_week" in p:
            kwargs["hours_per_fte_week"] = setting_number(p, "hours_per_fte_week", "capacity.", minimum=1e-9)
        if "default_hourly_cost" in p:
            kwargs["default_hourly_cost"] = setting_number(p, "default_hourly_cost", "capacity.", minimum=0)
        if p.get("roles") is not None:  # null: the shipped roles
            roles = p["roles"]
            if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
                raise UsageError(f"parameter capacity.roles must be a list of roster roles, got {roles!r}")
            kwargs["roles"] = tuple(roles)
        return cls(**kwargs)


def planned_classes(params: Mapping[str, Any] | None, start: Any, weeks: int) -> pd.DataFrame:
    """Planned hire classes from parameters (capacity.hire_classes: start date, count) as start_week, hires and
    start (the date), classes of no hires left out. Classes after the plan's `weeks` are left out; those that
    started before its first week are kept with a negative start_week, for `capacity_plan` to name them (such
    hires count through the roster, from their hire dates: adding them here would count them twice)."""
    p = dict(params or {})
    if "capacity" in p and isinstance(p["capacity"], Mapping):
        p = dict(p["capacity"])
    rows = []
    s0 = pd.Timestamp(start).normalize()
    classes = p.get("hire_classes") or []
    if not isinstance(classes, list):
        raise UsageError(f"parameter capacity.hire_classes must be a list of {{start, count}}, got {classes!r}")
    for c in classes:
        try:
            when, count = pd.Timestamp(c["start"]), float(c["count"])
        except (KeyError, TypeError, ValueError):
            raise UsageError(f"capacity.hire_classes: each class needs start (a date) and count, got {c!r}") from None
        if pd.isna(when) or not count.is_integer() or count < 0:  # a blank start is NaT (a review: AttributeError)
            raise UsageError(f"capacity.hire_classes: count must be a whole number >= 0 and start a date, got {c!r}")
        when = when.normalize()
        week = int(math.floor((when - s0).days / 7))
        if week < weeks and count > 0:
            rows.append({"start_week": week, "hires": int(count), "start": when})
    return pd.DataFrame(rows, columns=["start_week", "hires", "start"])


def _cum_hazard(hazard: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Knots (tenure days) and the cumulative hazard at them (piecewise-constant rate per band)."""
    need = {"min_days", "max_days", "monthly_hazard"}
    if not need <= set(hazard.columns):
        raise UsageError(
            "the attrition hazard needs columns min_days, max_days, monthly_hazard "
            "(one row per tenure band; reportlib.metrics.attrition.tenure_hazard gives them)"
        )
    h = hazard.sort_values("min_days").reset_index(drop=True)
    mh = h["monthly_hazard"].to_numpy(dtype=float)
    if np.isnan(mh).any() or (mh < 0).any() or (mh >= 1).any():
        raise UsageError("monthly_hazard must be a share in [0, 1) for every tenure band")
    lo = h["min_days"].to_numpy(dtype=float)
    if lo[0] != 0 or (len(lo) > 1 and not np.allclose(lo[1:], h["max_days"].to_numpy(dtype=float)[:-1])):
        raise UsageError("tenure bands must start at 0 days and follow on without gaps")
    rate = -np.log1p(-mh) / DAYS_PER_MONTH  # per day
    upper = h["max_days"].to_numpy(dtype=float).copy()
    upper[~np.isfinite(upper)] = 1e7
    knots = np.concatenate([[0.0], upper])
    return knots, np.concatenate([[0.0], np.cumsum(rate * np.diff(knots))])


def _survival(knots: np.ndarray, H: np.ndarray, t0: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """P(still employed at tenure t0 + dt | employed at t0), days; rows t0, columns dt."""
    t0 = np.asarray(t0, dtype=float)[:, None]
    dt = np.asarray(dt, dtype=float)[None, :]
    return np.exp(-(np.interp(t0 + dt, knots, H) - np.interp(t0, knots, H)))


@dataclass
class CapacityPlan:
    """The weekly plan, the recommended hire classes and notes (e.g. weeks no hire can cover in time)."""

    weekly: pd.DataFrame
    recommended: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def over_budget(self) -> float | None:
        """How much the plan with the recommended hires costs above the budget over all its weeks (currency
        units: cumulative cost with hires less cumulative budget, last week); None within the budget or
        without one. A report states it in its own currency (forecast_view.capacity_notes)."""
        w = self.weekly
        if not len(w) or "cumulative_budget" not in w or pd.isna(w["cumulative_budget"].iloc[-1]):
            return None
        over = float(w["cumulative_cost_with_hires"].iloc[-1] - w["cumulative_budget"].iloc[-1])
        return over if over > 0 else None


def _weeks_list(week_start: pd.DatetimeIndex, weeks: Sequence[int], most: int = 6) -> str:
    """The first `most` weeks' start dates ("07 Dec 2026", as the page's tables), "..." after them."""
    return ", ".join(f"{week_start[w]:%d %b %Y}" for w in weeks[:most]) + (" ..." if len(weeks) > most else "")


def roles_of(roster: pd.DataFrame, roles: Sequence[str]) -> pd.DataFrame:
    """The roster's people in `roles` (capacity.roles: those who take contacts); the whole roster when it
    gives no role (no column, or one left empty: the loader adds the optional column empty) or no roles are named."""
    if "role" in roster.columns and roles and roster["role"].notna().any():
        return roster[roster["role"].isin(list(roles))]
    return roster


def roster_as_known(roster: pd.DataFrame, day: Any, hired_by: Any | None = None) -> pd.DataFrame:
    """The roster as known at the end of `day`, as far as a later export tells: termination dates after it
    cleared, and the people hired after `hired_by` (the plan's first week's last day) left out. A later export holds
    the dates that came to pass and the notices given since, and cannot tell them from notices already given on
    `day`; counted as known, they made a past month's plan see leavers it could not have known of (and change each
    time it was re-run). Hires in the plan's first week are kept (a start date is agreed before it); later ones
    would be the hires that came to pass, the plan's own recommendation among them."""
    r = roster.copy()
    cut = pd.Timestamp(day).normalize()
    if "termination_date" in r.columns:
        term = pd.to_datetime(r["termination_date"])
        r["termination_date"] = term.where(~(term > cut))
    if hired_by is not None and "hire_date" in r.columns:
        r = r[~(pd.to_datetime(r["hire_date"]) > pd.Timestamp(hired_by))]
    return r


def _roster_now(roster: pd.DataFrame, start: pd.Timestamp, roles: Sequence[str], until: pd.Timestamp) -> pd.DataFrame:
    """The roster's people in `roles` employed on `start` or hired after it up to `until` (a start date agreed
    ahead: a probe's 10 starters two weeks out were left out, and the plan hired for them again)."""
    r = roles_of(roster, roles).copy()
    for col in ("hire_date", "termination_date"):
        if col not in r.columns:
            r[col] = pd.NaT
        r[col] = pd.to_datetime(r[col])
    active = (r["hire_date"] <= until) & ~(r["termination_date"] < start)
    r = r[active].copy()
    r["fte"] = r["fte"].astype(float).fillna(1.0) if "fte" in r.columns else 1.0
    r["hourly_cost"] = r["hourly_cost"].astype(float) if "hourly_cost" in r.columns else np.nan
    return r


def capacity_plan(
    roster: pd.DataFrame,
    hazard: pd.DataFrame,
    required_fte: pd.DataFrame | Sequence[float],
    start: Any,
    weeks: int | None = None,
    settings: HiringSettings | None = None,
    classes: pd.DataFrame | None = None,
    budget_per_week: float | None = None,
    recommend: bool = True,
) -> CapacityPlan:
    """Weekly capacity plan (see the module notes for the conventions).

    roster: agents (hire_date, termination_date, fte, hourly_cost, role); hazard: tenure bands with
    min_days, max_days, monthly_hazard; required_fte: a frame with week_start and required_fte (or fte),
    or a sequence of required FTE per week; start: the first week's start date; classes: planned hire
    classes (start_week, hires). Returns the weekly frame (week, week_start, required_fte, headcount,
    in_training, productive_fte, gap_fte, planned_hires, recommended_hires, headcount_with_hires,
    productive_fte_with_hires, gap_fte_with_hires, cost, cost_with_hires, budget, cumulative figures)
    and the recommended classes (start_week, week_start, hires, first_week_covered).
    """
    settings = settings or HiringSettings()
    s0 = pd.Timestamp(start).normalize()
    if isinstance(required_fte, pd.DataFrame):
        col = "required_fte" if "required_fte" in required_fte.columns else "fte"
        req = required_fte.groupby(pd.to_datetime(required_fte["week_start"]).dt.normalize())[col].sum()
        weeks = weeks or len(req)
        idx = pd.date_range(s0, periods=weeks, freq="7D")
        required = req.reindex(idx).to_numpy(dtype=float)
    else:
        required = np.asarray(list(required_fte), dtype=float)
        weeks = weeks or len(required)
        required = np.concatenate([required, np.full(max(0, weeks - len(required)), np.nan)])[:weeks]
    if not weeks:
        raise UsageError("the capacity plan needs at least one week")
    week_idx = np.arange(weeks)
    week_start = s0 + pd.to_timedelta(7 * week_idx, unit="D")
    knots, H = _cum_hazard(hazard)

    # the roster: survival from each agent's tenure today, then productivity by tenure
    r = _roster_now(roster, s0, settings.roles, week_start[-1] + pd.Timedelta(days=6))
    t0 = (s0 - r["hire_date"]).dt.days.to_numpy(dtype=float)
    # a class of one hire starting in week 0, by week offset: survival, productivity
    off = np.arange(weeks)
    s_new = _survival(knots, H, np.array([0.0]), 7.0 * off)[0]
    p_new = settings.productivity(off)
    surv = _survival(knots, H, np.maximum(t0, 0.0), 7.0 * week_idx)  # agents x weeks
    later = t0 < 0  # hired after the plan's start: counted from the week of their start, as a class is
    if later.any():
        start_week = (-t0[later]) // 7
        lag = week_idx[None, :] - start_week[:, None]
        surv[later] = np.where(lag >= 0, s_new[np.clip(lag, 0, None).astype(int)], 0.0)
        t0[later] = -7.0 * start_week  # their tenure in whole weeks from that week: productivity as a class's
    term = r["termination_date"].to_numpy(dtype="datetime64[ns]")
    leaving = ~np.isnat(term)
    if leaving.any():  # a known leaving date (notice given): gone from the first week starting after it
        gone = week_start.to_numpy()[None, :] > term[:, None]
        surv = np.where(leaving[:, None] & gone, 0.0, surv)
    prod = settings.productivity((t0[:, None] + 7.0 * week_idx[None, :]) // 7)
    fte = r["fte"].to_numpy(dtype=float)
    rate = np.where(
        np.isnan(r["hourly_cost"].to_numpy(dtype=float)),
        settings.default_hourly_cost,
        r["hourly_cost"].to_numpy(dtype=float),
    )
    head = surv.sum(axis=0)
    productive = (surv * fte[:, None] * prod).sum(axis=0)
    training = (surv * (prod == 0)).sum(axis=0)
    cost = (surv * fte[:, None] * rate[:, None]).sum(axis=0) * settings.hours_per_fte_week

    def add_classes(cls: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        h, pf, tr, c, starts = (np.zeros(weeks) for _ in range(5))
        for sw, n in zip(cls["start_week"].astype(int), cls["hires"].astype(float)):
            k = week_idx[sw:]
            j = k - sw
            h[k] += n * s_new[j]
            pf[k] += n * s_new[j] * p_new[j] * settings.hire_fte
            tr[k] += n * s_new[j] * (p_new[j] == 0)
            c[k] += n * s_new[j] * settings.hire_fte * settings.hours_per_fte_week * settings.hourly_cost
            c[sw] += n * settings.cost_per_hire
            starts[sw] += n
        return h, pf, tr, c, starts

    planned = classes if classes is not None else pd.DataFrame(columns=["start_week", "hires"])
    before = planned[planned["start_week"] < 0]
    planned = planned[(planned["start_week"] >= 0) & (planned["start_week"] < weeks)]
    ph, pp, pt, pc, pstarts = add_classes(planned)
    base_prod = productive + pp
    notes: list[str] = []
    if later.any():
        first = r.loc[later, "hire_date"].min()
        notes.append(
            f"{counted(int(later.sum()), 'person', 'people')} on the roster {noun_for(int(later.sum()), 'starts', 'start')}"
            f" during the plan, from {first:%d %b %Y}: counted from the week of their start, trained and ramped up as"
            " a hire class is"
        )
    if len(before):
        when = [f"{pd.Timestamp(d):%d %b %Y}" for d in before["start"]] if "start" in before else []
        notes.append(
            f"{counted(len(before), 'planned hire class', 'planned hire classes')} "
            + (f"({', '.join(when)}) " if when else "")
            + f"started before the plan's first week ({s0:%d %b %Y}) and {noun_for(len(before), 'is', 'are')} "
            "not counted as a class: those hires count through the roster (agents table) from their hire dates"
        )

    # recommendation: week by week, the latest start that is fully ramped by the short week (or the
    # earliest possible start, week 0, when that is too late), sized to the shortfall that lasts, counting every
    # recommended hire at full productivity (their training and ramp-up weeks are a gap to cover otherwise, not
    # a reason for more hires: sized on a hire's 50% first week, a lasting step of 10 FTE drew 20 hires).
    # The shortfall that lasts: the plan's median week's shortfall (with the hires recommended so far). A
    # permanent hire is paid in every week of the plan after its start; the median is the newsvendor quantity
    # when a week short and a week with a hire idle cost alike (one more hire pays off when more than half the
    # plan's weeks need it). The part of a week's gap above it is named for overtime or temporary cover. Chosen
    # after probes: the old rule hired 64 people for one plan-year week of the sample and carried 45-95 FTE to
    # spare after it; the least shortfall over the weeks to full productivity read the two quiet weeks of
    # Christmas as the end of a shortage that resumed in January; the median of the rest of the plan fell back
    # to closing every gap in the plan's last weeks; the median over a plan-long window from each week, weeks
    # past the plan's end not short, never hired when training took 8 weeks (a 10-FTE gap over 10 of 13 weeks).
    rec: dict[int, int] = {}
    late: list[int] = []
    peaks: list[int] = []
    full_after = settings.training_weeks + len(settings.ramp)
    tol = 1e-9
    first_cover: dict[int, int] = {}
    planned_at = planned.groupby(planned["start_week"].astype(int))["hires"].sum().to_dict() if len(planned) else {}
    if recommend and settings.max_class_size == 0:
        notes.append("no hires are recommended: capacity.hiring.max_class_size is 0 (no hire class)")
    elif recommend:
        extra = np.zeros(weeks)  # the recommended hires' productive FTE (training and ramp-up included)
        extra_full = np.zeros(weeks)  # ... as if fully productive from their start: what they are hired for
        for w in week_idx:
            if np.isnan(required[w]):
                continue
            short_full = required[w] - (base_prod[w] + extra_full[w])
            need = 0.0  # the lasting shortfall at week w that no hire could be found for
            if short_full > tol:
                every = required - (base_prod + extra_full)  # each week's shortfall with the hires so far
                need = min(short_full, max(0.0, float(np.median(every[~np.isnan(required)]))))
                # candidate starts: the latest fully ramped by week w, then later (less ramped) ones,
                # then earlier ones (when a class is full)
                latest_full = max(0, int(w) - full_after)
                cands = list(range(latest_full, w + 1)) + list(range(latest_full - 1, -1, -1))
                for sw in cands:
                    if need <= tol:
                        break
                    if p_new[w - sw] <= 0:  # still training in week w: a later week's hires
                        continue
                    full = s_new[w - sw] * settings.hire_fte
                    n = int(math.ceil(need / full - 1e-9))
                    if settings.max_class_size:  # planned classes starting that week count against the size
                        n = min(n, settings.max_class_size - rec.get(sw, 0) - int(planned_at.get(sw, 0)))
                    if n <= 0:
                        continue
                    rec[sw] = rec.get(sw, 0) + n
                    first_cover.setdefault(sw, int(w))
                    j = week_idx[sw:] - sw
                    extra[sw:] += n * s_new[j] * p_new[j] * settings.hire_fte
                    extra_full[sw:] += n * s_new[j] * settings.hire_fte
                    need -= n * full
            short = required[w] - (base_prod[w] + extra[w])
            if short <= tol:
                continue
            # inside the training lead time, short only while the hires train and ramp up, or with a lasting
            # shortfall no hire reaches in time: late; short by more than the shortfall that lasts: a peak
            if w < settings.training_weeks or required[w] - (base_prod[w] + extra_full[w]) <= tol or need > tol:
                late.append(int(w))
            else:
                peaks.append(int(w))
        lasting = float(np.median((required - base_prod)[~np.isnan(required)])) if (~np.isnan(required)).any() else 0.0
        if settings.training_weeks >= weeks and lasting > tol:
            # no class that starts inside the plan is productive inside it, so none is recommended, every month
            # (a probe): say what the shortfall that lasts is, and how long a plan would size its hires
            notes.append(
                f"training takes {counted(settings.training_weeks, 'week')}, as long as the plan's "
                f"{counted(weeks, 'week')} or longer: no hire who starts in it is productive within it, so it "
                f"recommends none, though its median week is short by {lasting:,.1f} FTE; set capacity.horizon_weeks "
                f"to more than {settings.training_weeks + len(settings.ramp)} weeks (training and ramp-up) to size "
                "the classes that must start now"
            )
        if late:
            notes.append(
                f"{counted(len(late), 'week')} short of the required FTE cannot be covered by new hires in time "
                f"(training takes {counted(settings.training_weeks, 'week')}"
                + (f", then a ramp-up of {counted(len(settings.ramp), 'week')}" if settings.ramp else "")
                + (f"; classes of at most {settings.max_class_size}" if settings.max_class_size else "")
                + "): weeks starting "
                + _weeks_list(week_start, late)
                + "; consider overtime or other queues"
            )
        if peaks:
            notes.append(
                f"{counted(len(peaks), 'week')} short by more than the shortfall that lasts (the plan's median week's) "
                f"{noun_for(len(peaks), 'is', 'are')} covered by permanent hires only up to it (a hire for a peak "
                "would be idle in most of the plan's weeks): weeks starting "
                + _weeks_list(week_start, peaks)
                + "; cover the peak with overtime, temporary staff or other queues"
            )
    recommended = pd.DataFrame(
        [
            {
                "start_week": sw,
                "week_start": week_start[sw],
                "hires": n,
                "first_week_covered": week_start[first_cover[sw]],
            }
            for sw, n in sorted(rec.items())
        ],
        columns=["start_week", "week_start", "hires", "first_week_covered"],
    )
    rh, rp, rt, rc, rstarts = add_classes(recommended)
    budget = np.full(weeks, np.nan if budget_per_week is None else float(budget_per_week))
    weekly = pd.DataFrame(
        {
            "week": week_idx,
            "week_start": week_start,
            "required_fte": required,
            "headcount": head + ph,
            "in_training": training + pt,
            "productive_fte": base_prod,
            "gap_fte": base_prod - required,
            "planned_hires": pstarts,
            "recommended_hires": rstarts,
            "headcount_with_hires": head + ph + rh,
            "productive_fte_with_hires": base_prod + rp,
            "gap_fte_with_hires": base_prod + rp - required,
            "cost": cost + pc,
            "cost_with_hires": cost + pc + rc,
            "budget": budget,
        }
    )
    weekly["cumulative_cost"] = weekly["cost"].cumsum()
    weekly["cumulative_cost_with_hires"] = weekly["cost_with_hires"].cumsum()
    weekly["cumulative_budget"] = weekly["budget"].cumsum()
    weekly["over_budget"] = weekly["cumulative_cost_with_hires"] > weekly["cumulative_budget"]
    return CapacityPlan(weekly, recommended, notes)  # the cost over budget: CapacityPlan.over_budget


def plan_summary(plan: CapacityPlan) -> dict[str, Any]:
    """Headline figures: weeks short (before and after the recommended hires), hires recommended, cost vs budget."""
    w = plan.weekly
    known = w["required_fte"].notna()
    return {
        "weeks": int(len(w)),
        "weeks_short": int((w.loc[known, "gap_fte"] < -1e-9).sum()),
        "weeks_short_with_hires": int((w.loc[known, "gap_fte_with_hires"] < -1e-9).sum()),
        "largest_gap_fte": float(-w.loc[known, "gap_fte"].min()) if known.any() else float("nan"),
        "largest_gap_fte_with_hires": float(-w.loc[known, "gap_fte_with_hires"].min()) if known.any() else float("nan"),
        "recommended_hires": int(plan.recommended["hires"].sum()) if len(plan.recommended) else 0,
        "cost": float(w["cost_with_hires"].sum()),
        "budget": float(w["budget"].sum()) if w["budget"].notna().all() else None,
        "over_budget": plan.over_budget,
        "notes": list(plan.notes),
    }


def flat_hazard(monthly_hazard: float) -> pd.DataFrame:
    """A one-band hazard table (every tenure): tenure_band, min_days, max_days, monthly_hazard."""
    if not 0 <= monthly_hazard < 1:
        raise UsageError("monthly_hazard must be a share in [0, 1)")
    return pd.DataFrame(
        {"tenure_band": ["all"], "min_days": [0.0], "max_days": [np.inf], "monthly_hazard": [float(monthly_hazard)]}
    )


__all__ = [
    "HiringSettings",
    "CapacityPlan",
    "capacity_plan",
    "planned_classes",
    "plan_summary",
    "flat_hazard",
    "roles_of",
    "roster_as_known",
    "DAYS_PER_MONTH",
]
