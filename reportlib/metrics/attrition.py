"""Attrition analytics on the agents table: headcount, attrition rates, tenure survival, reasons,
drivers, projection and cost.

Definitions (docs/definitions.md#attrition, applied exactly):

- Headcount at a date D = agents with hire_date <= D and not (termination_date < D). An agent whose
  termination_date is D is still counted on D (termination_date is the last day on the roster).
- Monthly attrition for month M = terminations with termination_date in M / mean(headcount on the first
  day of M, headcount on the LAST day of M). (Month end = the last calendar day of the month.)
- Annualized attrition for month M = terminations in the 12 months ending with M / mean of the 13
  headcounts on the first day of each month from M-11 through M+1 (for 2026-03: 2025-04-01 ... 2026-04-01).
- Voluntary, involuntary and regretted rates use the same denominators with only those terminations in
  the numerator (a termination without a type counts in `terminations` only).
- Early-tenure attrition for a hire cohort = leavers within 90 days of hire
  (termination_date - hire_date <= 90 days) / hires in the cohort.
- FTE-weighted variants (`fte_*`) sum each agent's fte (0..1) instead of counting heads.
- Any rate whose denominator is zero is missing (NaN), never an error.

Tenure bands (parameters/attrition.yaml, `tenure_bands`): tenure in days = date - hire_date; a band
covers (previous max_days, max_days], the first starting at 0: 0-90 days, 3-6 months (91-182 days),
6-12 months (183-365), 1-2 years (366-730), 2+ years. Grouping by `tenure_band` takes each agent's band
on each date (headcount), at termination (leavers) and at hire (hires, always the first band).

Rates are shares 0..1 (0.05 = 5%); tenure is in days; costs are in the roster's currency units.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from reportlib.core.errors import DataError, ReportlibError, UsageError
from reportlib.core.months import parse_month
from reportlib.core.settings import AttritionSettings, parse_tenure_bands
from reportlib.core.words import counted, in_words
from reportlib.data.contract import TABLES

DAYS_PER_MONTH = 365.25 / 12
NO_GROUP = "(none)"
NO_REASON = "(not given)"


DEFAULT_TENURE_BANDS: tuple[tuple[str, float | None], ...] = (
    ("0-90 days", 90),
    ("3-6 months", 182),
    ("6-12 months", 365),
    ("1-2 years", 730),
    ("2+ years", None),
)

AGENT_COLUMNS = tuple(TABLES["agents"].column_names)  # the roster as the contract declares it
# The roster columns attrition may be grouped by: groups of people. A column that names a person (agent_id, name),
# their pay (hourly_cost), dates or the reason they left would turn the table into one row per person or per pay
# rate, with their leaving flags: HR data no group table should give away.
GROUP_COLUMNS = ("team", "supervisor", "site", "role")

KINDS = ("terminations", "voluntary", "involuntary", "regretted")

CAUSALITY_CAVEAT = (
    "These hazard ratios describe association, not cause. An agent group with a higher ratio left more "
    "often than the reference group with the other factors held equal, but the model cannot tell whether "
    "the factor drove people out or merely travels with what did (a harder queue, a particular hiring "
    "class, a manager). Factors we do not measure are not in the model, and small groups give wide "
    "intervals: treat an interval that spans 1.0 as no evidence either way."
)


# --- parameters and tenure bands ------------------------------------------------------------------


def tenure_bands(params: dict | None = None) -> tuple[tuple[str, float | None], ...]:
    """Tenure bands [(label, max_days or None)] from the attrition parameters (or the defaults).

    `params` is the whole parameter tree or its `attrition` set; the bands are checked by
    `core.settings.parse_tenure_bands` (increasing upper bounds, the last one open).
    """
    if params and "attrition" in params and isinstance(params["attrition"], dict):
        params = params["attrition"]
    raw = (params or {}).get("tenure_bands")
    return parse_tenure_bands(raw) if raw else DEFAULT_TENURE_BANDS


def _edges(bands: Sequence[tuple[str, float | None]]) -> np.ndarray:
    return np.array([b[1] for b in bands[:-1]], dtype=float)


def band_of(tenure_days: Any, bands: Sequence[tuple[str, float | None]] = DEFAULT_TENURE_BANDS) -> np.ndarray:
    """The tenure-band label for each tenure in days (band i covers (max_days[i-1], max_days[i]])."""
    days = np.asarray(tenure_days, dtype=float)
    idx = np.searchsorted(_edges(bands), days, side="left")
    labels = np.array([b[0] for b in bands], dtype=object)
    return labels[idx]


# --- input preparation ----------------------------------------------------------------------------


def _to_dates(values: pd.Series) -> pd.Series:
    """Dates normalized to midnight as datetime64[ns]; what cannot be read becomes NaT (reported by the caller)."""
    return pd.to_datetime(values, errors="coerce").astype("datetime64[ns]").dt.normalize()


def _date(value: Any, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except Exception:
        raise UsageError(f"{what}: expected a date (YYYY-MM-DD), got {value!r}") from None
    if ts is pd.NaT:
        raise UsageError(f"{what}: expected a date (YYYY-MM-DD), got {value!r}")
    return ts.normalize()


def prepare_agents(agents: pd.DataFrame) -> pd.DataFrame:
    """A checked copy of the agents table: dates normalized, types lower-case, regretted as bool, fte float."""
    if "agent_id" not in agents.columns or "hire_date" not in agents.columns:
        missing = [c for c in ("agent_id", "hire_date") if c not in agents.columns]
        raise DataError([f"agents: column {c} is missing" for c in missing])
    a = agents.copy()
    for col in AGENT_COLUMNS:
        if col not in a.columns:
            a[col] = pd.NA
    a = a.reset_index(drop=True)
    problems: list[str] = []
    a["agent_id"] = a["agent_id"].astype("string")
    a["hire_date"] = _to_dates(a["hire_date"])
    a["termination_date"] = _to_dates(a["termination_date"])
    bad = a.index[a["hire_date"].isna()]
    if len(bad):
        problems.append(
            f"agents: hire_date missing or not a date for agent_id {', '.join(map(str, a.loc[bad[:5], 'agent_id']))}"
            + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        )
    early = a.index[a["termination_date"] < a["hire_date"]]
    if len(early):
        problems.append(
            "agents: termination_date before hire_date for agent_id "
            + ", ".join(map(str, a.loc[early[:5], "agent_id"]))
            + (f" and {len(early) - 5} more" if len(early) > 5 else "")
        )
    if problems:
        raise DataError(problems)
    ttype = a["termination_type"].astype("string").str.strip().str.lower()
    a["termination_type"] = ttype.where(a["termination_date"].notna())
    a["regretted"] = a["regretted"].astype("boolean").fillna(False).astype(bool) & a["termination_date"].notna()
    a["fte"] = pd.to_numeric(a["fte"], errors="coerce").astype(float)
    a["hourly_cost"] = pd.to_numeric(a["hourly_cost"], errors="coerce").astype(float)
    return a


WHOLE_ROSTER = "all"  # the group of every figure taken over the whole roster (no `by`)


def _group_values(a: pd.DataFrame, by: str | None) -> np.ndarray:
    if by is None:
        return np.full(len(a), WHOLE_ROSTER, dtype=object)
    if by not in a.columns:
        raise UsageError(
            f"cannot group attrition by {by!r}: use tenure_band or a column of the agents table "
            f"({', '.join(c for c in AGENT_COLUMNS if c not in ('agent_id', 'name'))})"
        )
    values = a[by].astype("string").str.strip()
    return values.fillna(NO_GROUP).replace("", NO_GROUP).to_numpy(dtype=object)


def _safe_div(num: Any, den: Any) -> Any:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _days(delta: Any) -> np.ndarray:
    return (np.asarray(delta, dtype="timedelta64[ns]") / np.timedelta64(1, "D")).astype(float)


# --- headcount and events -------------------------------------------------------------------------


def _stock(
    a: pd.DataFrame, dates: Sequence[pd.Timestamp], by: str | None, bands: Sequence[tuple[str, float | None]]
) -> pd.DataFrame:
    """Long frame (group, date, headcount, fte) of members on each date; only non-empty cells."""
    d = np.array(pd.DatetimeIndex(dates).values, dtype="datetime64[ns]")[None, :]
    hire = a["hire_date"].to_numpy(dtype="datetime64[ns]")[:, None]
    term = a["termination_date"].to_numpy(dtype="datetime64[ns]")[:, None]
    member = (hire <= d) & ~(term < d)  # NaT compares False: the employed are never "terminated before"
    i, j = np.nonzero(member)
    if by == "tenure_band":
        groups = band_of(_days(d[0, j] - hire[i, 0]), bands)
    else:
        groups = _group_values(a, by)[i]
    long = pd.DataFrame({"group": groups, "date": pd.DatetimeIndex(d[0, j]), "fte": a["fte"].to_numpy()[i]})
    return long.groupby(["group", "date"], sort=False).agg(headcount=("fte", "size"), fte=("fte", "sum")).reset_index()


def headcount(
    agents: pd.DataFrame,
    dates: Iterable[Any],
    by: str | None = None,
    bands: Sequence[tuple[str, float | None]] | None = None,
) -> pd.DataFrame:
    """Headcount and FTE on each date (hired on or before it, not terminated before it), per group."""
    a = prepare_agents(agents)
    bands = bands or DEFAULT_TENURE_BANDS
    idx = pd.DatetimeIndex([_date(x, "date") for x in dates])
    stock = _stock(a, idx, by, bands)
    groups = _groups_in_order(stock["group"], a, by, bands)
    full = pd.MultiIndex.from_product([groups, idx], names=["group", "date"])
    out = stock.set_index(["group", "date"]).reindex(full).fillna({"headcount": 0, "fte": 0.0}).reset_index()
    out["headcount"] = out["headcount"].astype(int)
    return _name_group(out, by)


def _groups_in_order(
    values: Iterable[Any], a: pd.DataFrame, by: str | None, bands: Sequence[tuple[str, float | None]]
) -> list:
    present = set(values)
    if by == "tenure_band":
        return [b[0] for b in bands if b[0] in present]
    return sorted(present, key=str)


def _name_group(frame: pd.DataFrame, by: str | None) -> pd.DataFrame:
    if by is None:
        return frame.drop(columns="group")
    return frame.rename(columns={"group": by})


def _events(a: pd.DataFrame, by: str | None, bands: Sequence[tuple[str, float | None]]) -> pd.DataFrame:
    """Monthly hires and terminations per group: columns group, month, hires, fte_hires, <kind>, fte_<kind>."""
    groups = _group_values(a, by) if by != "tenure_band" else None
    hires = pd.DataFrame(
        {
            "group": groups if groups is not None else bands[0][0],
            "month": a["hire_date"].dt.to_period("M"),
            "hires": 1,
            "fte_hires": a["fte"],
        }
    )
    left = a["termination_date"].notna().to_numpy()
    t = a.loc[left]
    if by == "tenure_band":
        tgroups = band_of(_days(t["termination_date"].to_numpy() - t["hire_date"].to_numpy()), bands)
    else:
        assert groups is not None  # grouped by a roster column
        tgroups = groups[left]
    fte = t["fte"].to_numpy()
    flags = {
        "terminations": np.ones(len(t), dtype=bool),
        "voluntary": (t["termination_type"] == "voluntary").fillna(False).to_numpy(dtype=bool),
        "involuntary": (t["termination_type"] == "involuntary").fillna(False).to_numpy(dtype=bool),
        "regretted": t["regretted"].to_numpy(dtype=bool),
    }
    terms = pd.DataFrame({"group": tgroups, "month": t["termination_date"].dt.to_period("M").to_numpy()})
    for kind, flag in flags.items():
        terms[kind] = flag.astype(int)
        terms["fte_" + kind] = np.where(flag, fte, 0.0)
    columns = list(dict.fromkeys([*hires.columns, *terms.columns]))
    ev = pd.concat([f for f in (hires, terms) if len(f)] or [hires], ignore_index=True).reindex(columns=columns)
    value_cols = ["hires", "fte_hires"] + [c for k in KINDS for c in (k, "fte_" + k)]
    for c in value_cols:
        ev[c] = ev[c].fillna(0)
    return ev.groupby(["group", "month"], sort=False)[value_cols].sum().reset_index()


def monthly_attrition(
    agents: pd.DataFrame,
    first_month: Any,
    last_month: Any | None = None,
    by: str | None = None,
    bands: Sequence[tuple[str, float | None]] | None = None,
) -> pd.DataFrame:
    """Per month (and group): headcounts, hires, terminations by kind, monthly and annualized rates (shares 0..1).

    Columns: month (YYYY-MM), [by], headcount_start (first day), headcount_end (last day of the month),
    avg_headcount, hires, terminations, voluntary, involuntary, regretted, monthly_rate, voluntary_rate,
    involuntary_rate, regretted_rate, terminations_12m, avg_headcount_13, annualized_rate,
    annualized_voluntary_rate, annualized_involuntary_rate, annualized_regretted_rate, and the same
    FTE-weighted with the prefix fte_ (fte_start, fte_end, fte_terminations, fte_monthly_rate,
    fte_annualized_rate, ...). A group appears when it has headcount or events in the 13-month window.
    """
    a = prepare_agents(agents)
    bands = bands or DEFAULT_TENURE_BANDS
    first = parse_month(first_month, "first month")
    last = parse_month(last_month, "last month") if last_month is not None else first
    if last < first:
        raise UsageError(f"last month {last} is before first month {first}")
    months = pd.period_range(first - 11, last, freq="M")
    starts = pd.DatetimeIndex([m.start_time for m in pd.period_range(first - 11, last + 1, freq="M")])
    target = pd.period_range(first, last, freq="M")
    ends = pd.DatetimeIndex([m.end_time.normalize() for m in target])

    s_stock = _stock(a, starts, by, bands)
    e_stock = _stock(a, ends, by, bands)
    ev = _events(a, by, bands)
    ev = ev[(ev["month"] >= months[0]) & (ev["month"] <= months[-1])]
    groups = _groups_in_order(list(s_stock["group"]) + list(e_stock["group"]) + list(ev["group"]), a, by, bands)

    def grid(stock: pd.DataFrame, dates: pd.DatetimeIndex, col: str) -> np.ndarray:
        m = stock.pivot_table(index="group", columns="date", values=col, aggfunc="sum")
        return m.reindex(index=groups, columns=dates).fillna(0).to_numpy(dtype=float)

    S, S_fte = grid(s_stock, starts, "headcount"), grid(s_stock, starts, "fte")
    E, E_fte = grid(e_stock, ends, "headcount"), grid(e_stock, ends, "fte")
    ev_cols = [c for c in ev.columns if c not in ("group", "month")]
    evg = {
        c: ev.pivot_table(index="group", columns="month", values=c, aggfunc="sum")
        .reindex(index=groups, columns=months)
        .fillna(0)
        .to_numpy(dtype=float)
        for c in ev_cols
    }

    rows = []
    for gi, g in enumerate(groups):
        for k, m in enumerate(target):
            mi = k + 11  # position of m in `months` and of its first day in `starts`
            row: dict[str, Any] = {"month": str(m), "group": g}
            row["headcount_start"] = int(S[gi, mi])
            row["headcount_end"] = int(E[gi, k])
            avg = (S[gi, mi] + E[gi, k]) / 2
            row["avg_headcount"] = avg
            row["hires"] = int(evg["hires"][gi, mi])
            avg13 = S[gi, mi - 11 : mi + 2].mean()
            fte_avg = (S_fte[gi, mi] + E_fte[gi, k]) / 2
            fte_avg13 = S_fte[gi, mi - 11 : mi + 2].mean()
            for kind in KINDS:
                row[kind] = int(evg[kind][gi, mi])
            for kind in KINDS:
                name = "monthly_rate" if kind == "terminations" else f"{kind}_rate"
                row[name] = float(_safe_div(evg[kind][gi, mi], avg))
            row["terminations_12m"] = int(evg["terminations"][gi, mi - 11 : mi + 1].sum())
            row["avg_headcount_13"] = avg13
            for kind in KINDS:
                name = "annualized_rate" if kind == "terminations" else f"annualized_{kind}_rate"
                row[name] = float(_safe_div(evg[kind][gi, mi - 11 : mi + 1].sum(), avg13))
            row["fte_start"] = S_fte[gi, mi]
            row["fte_end"] = E_fte[gi, k]
            row["fte_hires"] = evg["fte_hires"][gi, mi]
            for kind in KINDS:
                row[f"fte_{kind}"] = evg[f"fte_{kind}"][gi, mi]
            for kind in KINDS:
                name = "fte_monthly_rate" if kind == "terminations" else f"fte_{kind}_rate"
                row[name] = float(_safe_div(evg[f"fte_{kind}"][gi, mi], fte_avg))
            row["fte_avg_13"] = fte_avg13
            for kind in KINDS:
                name = "fte_annualized_rate" if kind == "terminations" else f"fte_annualized_{kind}_rate"
                row[name] = float(_safe_div(evg[f"fte_{kind}"][gi, mi - 11 : mi + 1].sum(), fte_avg13))
            rows.append(row)
    cols = [
        "month",
        "group",
        "headcount_start",
        "headcount_end",
        "avg_headcount",
        "hires",
        *KINDS,
        "monthly_rate",
        "voluntary_rate",
        "involuntary_rate",
        "regretted_rate",
        "terminations_12m",
        "avg_headcount_13",
        "annualized_rate",
        "annualized_voluntary_rate",
        "annualized_involuntary_rate",
        "annualized_regretted_rate",
        "fte_start",
        "fte_end",
        "fte_hires",
        *[f"fte_{k}" for k in KINDS],
        "fte_monthly_rate",
        "fte_voluntary_rate",
        "fte_involuntary_rate",
        "fte_regretted_rate",
        "fte_avg_13",
        "fte_annualized_rate",
        "fte_annualized_voluntary_rate",
        "fte_annualized_involuntary_rate",
        "fte_annualized_regretted_rate",
    ]
    out = pd.DataFrame(rows, columns=cols)
    if by is None and out.empty:
        # No group anywhere in the window: still one row, all zero counts and missing rates.
        out = _empty_months(target, cols)
    return _name_group(out, by)


def _empty_months(target: pd.PeriodIndex, cols: list[str]) -> pd.DataFrame:
    """One all-zero row per month with missing rates (a roster with nobody in the window)."""
    rows = []
    for m in target:
        row: dict[str, Any] = {c: (np.nan if ("rate" in c) else 0) for c in cols}
        row["month"], row["group"] = str(m), WHOLE_ROSTER
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


CLI_COLUMNS = (
    "headcount_start",
    "headcount_end",
    "hires",
    "terminations",
    "voluntary",
    "involuntary",
    "regretted",
    "monthly_rate",
    "annualized_rate",
)


def attrition_for_month(
    agents: pd.DataFrame, month: Any, by: str | None = None, bands: Sequence[tuple[str, float | None]] | None = None
) -> pd.DataFrame:
    """One row per group for one month: the `reportlib attrition` record (group column first), rates 0..1."""
    table = monthly_attrition(agents, month, month, by=by, bands=bands)
    return table[([by] if by else []) + list(CLI_COLUMNS)].reset_index(drop=True)


# --- early tenure ---------------------------------------------------------------------------------


def early_tenure_attrition(
    agents: pd.DataFrame,
    as_of: Any,
    freq: str = "Q",
    by: str | None = None,
    days: int = 90,
    periods: int | None = None,
) -> pd.DataFrame:
    """Per hire cohort (period of hire_date): hires, leavers within `days` of hire, their share 0..1.

    Counts hires on or before `as_of` and terminations on or before it. `complete` is True when every hire in
    the cohort has had `days` days to leave by `as_of` (an incomplete cohort's rate can still rise). `periods`:
    the last that many cohorts to `as_of`'s, each listed (0 hires and no rate where nobody was hired), in place
    of every cohort with a hire.
    """
    a = prepare_agents(agents)
    as_of = _date(as_of, "as_of")
    if by == "tenure_band":
        raise UsageError("early-tenure attrition is by hire cohort; group it by team, site, supervisor or role")
    a = a[a["hire_date"] <= as_of].copy()
    a["group"] = _group_values(a, by)
    a["cohort"] = a["hire_date"].dt.to_period(freq)
    tenure_at_exit = _days(a["termination_date"].to_numpy() - a["hire_date"].to_numpy())
    a["early"] = (a["termination_date"] <= as_of).to_numpy() & (tenure_at_exit <= days)
    out = a.groupby(["cohort", "group"], sort=True).agg(hires=("agent_id", "size"), early_leavers=("early", "sum"))
    if periods is not None:
        recent = pd.period_range(end=as_of.to_period(freq), periods=periods, freq=freq)
        groups = list(dict.fromkeys(out.index.get_level_values("group"))) or ([WHOLE_ROSTER] if by is None else [])
        full = pd.MultiIndex.from_product([recent, groups], names=["cohort", "group"])
        out = out.reindex(full, fill_value=0)
    out = out.reset_index()
    out["early_leavers"] = out["early_leavers"].astype(int)
    out["rate"] = _safe_div(out["early_leavers"], out["hires"])
    cohort_end = pd.DatetimeIndex([p.end_time.normalize() for p in out["cohort"]])
    out["complete"] = (cohort_end + pd.Timedelta(days=days)) <= as_of
    out["cohort"] = out["cohort"].astype(str)
    return _name_group(out, by)


# --- tenure survival (Kaplan-Meier) ---------------------------------------------------------------


def roster_observed_from(agents: pd.DataFrame) -> pd.Timestamp | None:
    """The first day the roster can show a leaver: its earliest termination_date (None when nobody left).

    An HR export often holds today's staff and the leavers of recent years alone (the sample's: people hired
    since 2002, leavers since December 2023). Nobody who left before its first leaver is in it, so the people
    hired earlier are known to have stayed only because they did: counted from their hire, those survivors made a
    probe's median tenure 3,119 days, where lifelines with their entry at this day gives 613 (632 from the first day of that month). Tenure before this
    day is therefore not observed (left truncation, `tenure_durations`). Where the roster does go back to the
    start, observing from its first leaver loses a little precision and no accuracy."""
    first = prepare_agents(agents)["termination_date"].min()
    return None if pd.isna(first) else pd.Timestamp(first)


def _observed_from(agents: pd.DataFrame, observed_from: Any | None) -> Any | None:
    """The survival models' default: `observed_from` as given, else the roster's first leaver."""
    return observed_from if observed_from is not None else roster_observed_from(agents)


def tenure_durations(agents: pd.DataFrame, as_of: Any | None = None, observed_from: Any | None = None) -> pd.DataFrame:
    """Per agent hired by `as_of`: tenure_days (to termination, or to as_of when still employed), left (bool) and
    entry_days, the tenure at which the agent comes under observation (days).

    Terminations after `as_of` are censored at `as_of`. as_of defaults to the latest hire or termination date.
    With `observed_from` (a day, e.g. `roster_observed_from`), the time before it is not observed: an agent hired
    earlier enters at the tenure reached the day before (left truncation; lifelines' `entry`: at risk after it, so
    that day's leavers count), one who left before it is left out; entry_days is 0 otherwise. Adds hire_cohort
    (quarter of hire, e.g. 2024Q1).
    """
    a = prepare_agents(agents)
    as_of = _date(as_of, "as_of") if as_of is not None else max(a["hire_date"].max(), a["termination_date"].max())
    start = np.datetime64(_date(observed_from, "observed_from"), "ns") if observed_from is not None else None
    # a boolean mask either way: `~False` is -1 (deprecated from Python 3.12, an error from 3.16; a probe)
    gone_before = (a["termination_date"] < start).fillna(False) if start is not None else pd.Series(False, a.index)
    a = a[(a["hire_date"] <= as_of) & ~gone_before].copy()
    hire = a["hire_date"].to_numpy(dtype="datetime64[ns]")
    # the tenure reached the day before: observed from the start of that day, whose leavers are counted
    a["entry_days"] = np.clip(_days(start - hire) - 1, 0, None) if start is not None else 0.0
    left = (a["termination_date"] <= as_of).fillna(False).to_numpy(dtype=bool)
    end = np.where(left, a["termination_date"].to_numpy(dtype="datetime64[ns]"), np.datetime64(as_of, "ns"))
    a["tenure_days"] = _days(end - hire)
    a["entry_days"] = np.minimum(a["entry_days"].to_numpy(dtype=float), a["tenure_days"].to_numpy(dtype=float))
    a["left"] = left
    a["hire_cohort"] = a["hire_date"].dt.to_period("Q").astype(str)
    return a


@dataclass
class Survival:
    """Kaplan-Meier results: `curves` (group, tenure_days, survival, ci_lower, ci_upper, at_risk) and
    `summary` (one row per group: agents, leavers, median tenure with CI in days, P(reach 90 days),
    P(reach 1 year) with CIs)."""

    curves: pd.DataFrame
    summary: pd.DataFrame


def _risk_set_gap(entry: np.ndarray, tenure: np.ndarray) -> float | None:
    """The first tenure (days) at which nobody is under observation while people still enter at longer tenures, or
    None. With left truncation a group can run out: its hires since the roster's first leaver have all left or
    been censored by day 150, and the people hired before enter at 3,000 days. Nothing is known of leaving
    between the two: lifelines' Kaplan-Meier refused such a group when the gap came early in it (StatError: a
    probe's small sample stopped the attrition report for most months) and, past a gap where the curve had
    reached 0, kept it at 0 for people who had stayed ten years. So the curve is estimated up to the gap: those
    entering later are left out and the rest censored there. Counted as lifelines counts its risk set: an entry
    joins at its tenure, a leaver or a censored person leaves at theirs."""
    if not len(entry):
        return None
    times = np.union1d(entry, tenure)
    net = np.searchsorted(np.sort(entry), times, side="right") - np.searchsorted(np.sort(tenure), times, side="right")
    empty = times[(net <= 0) & (times < entry.max())]
    return float(empty[0]) if len(empty) else None


def _km_value_at(kmf: Any, t: float) -> tuple[float, float, float]:
    """S(t) and its CI from a fitted KaplanMeierFitter; NaN when t is beyond the longest observed tenure, or before
    the curve starts (a group observed only from a later tenure, left-truncated: a hire cohort that entered the
    observation at 4,000 days read 0% at 90 days, the last value of its curve; lifelines' predict gives NaN)."""
    timeline = kmf.survival_function_.index.to_numpy(dtype=float)
    if len(timeline) == 0 or t > timeline.max():
        return (np.nan, np.nan, np.nan)
    pos = np.searchsorted(timeline, t, side="right") - 1
    if pos < 0:
        return (np.nan, np.nan, np.nan)
    s = float(kmf.survival_function_.iloc[pos, 0])
    ci = kmf.confidence_interval_survival_function_.iloc[pos]
    return (s, float(ci.iloc[0]), float(ci.iloc[1]))


def tenure_survival(
    agents: pd.DataFrame,
    as_of: Any | None = None,
    by: str | None = None,
    alpha: float = 0.05,
    milestones: Sequence[int] = (90, 365),
    observed_from: Any | None = None,
) -> Survival:
    """Kaplan-Meier tenure survival (lifelines), current staff censored, by hire_cohort / team / site / any column.

    Median tenure in days with its (1 - alpha) CI (NaN when the curve never falls to 0.5, i.e. not reached);
    p_reach_90d / p_reach_365d = probability of still being employed after that many days (NaN past the
    longest observed tenure). `observed_from`: the first day the roster can show a leaver (default
    `roster_observed_from`): tenure before it is not observed, so those hired earlier enter at the tenure they
    had then (left truncation, `tenure_durations`).
    """
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    d = tenure_durations(agents, as_of, _observed_from(agents, observed_from))
    d["group"] = d["hire_cohort"].to_numpy(dtype=object) if by == "hire_cohort" else _group_values(d, by)
    curves, rows = [], []
    for g, part in d.groupby("group", sort=True):
        gap = _risk_set_gap(part["entry_days"].to_numpy(dtype=float), part["tenure_days"].to_numpy(dtype=float))
        if gap is not None:  # nobody observed past it from shorter tenures: the curve stops there
            part = part[part["entry_days"] < gap]
            part = part.assign(
                left=part["left"] & (part["tenure_days"] <= gap), tenure_days=part["tenure_days"].clip(upper=gap)
            )
        if part.empty:  # nobody observed from the start of their tenure in this group
            continue
        kmf = KaplanMeierFitter(alpha=alpha)
        kmf.fit(part["tenure_days"], event_observed=part["left"], entry=part["entry_days"], label="survival")
        sf = kmf.survival_function_
        ci = kmf.confidence_interval_survival_function_
        curves.append(
            pd.DataFrame(
                {
                    "group": g,
                    "tenure_days": sf.index.to_numpy(dtype=float),
                    "survival": sf.iloc[:, 0].to_numpy(),
                    "ci_lower": ci.iloc[:, 0].to_numpy(),
                    "ci_upper": ci.iloc[:, 1].to_numpy(),
                    "at_risk": kmf.event_table["at_risk"].reindex(sf.index).to_numpy(),
                }
            )
        )
        med = float(kmf.median_survival_time_)
        med_ci = median_survival_times(kmf.confidence_interval_)
        lo, hi = float(med_ci.iloc[0, 0]), float(med_ci.iloc[0, 1])
        row: dict[str, Any] = {
            "group": g,
            "agents": len(part),
            "leavers": int(part["left"].sum()),
            "median_tenure_days": med if np.isfinite(med) else np.nan,
            "median_ci_lower": lo if np.isfinite(lo) else np.nan,
            "median_ci_upper": hi if np.isfinite(hi) else np.nan,
        }
        for t in milestones:
            s, sl, su = _km_value_at(kmf, float(t))
            row[f"p_reach_{t}d"], row[f"p_reach_{t}d_lower"], row[f"p_reach_{t}d_upper"] = s, sl, su
        rows.append(row)
    curve_cols = ["group", "tenure_days", "survival", "ci_lower", "ci_upper", "at_risk"]
    curves_df = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=curve_cols)
    summary = pd.DataFrame(rows, columns=["group", "agents", "leavers"]) if not rows else pd.DataFrame(rows)
    return Survival(curves=_name_group(curves_df, by), summary=_name_group(summary, by))


# --- reasons --------------------------------------------------------------------------------------


def _leavers(agents: pd.DataFrame, start: Any | None, end: Any | None) -> pd.DataFrame:
    a = prepare_agents(agents)
    t = a[a["termination_date"].notna()].copy()
    if start is not None:
        t = t[t["termination_date"] >= _date(start, "start")]
    if end is not None:
        t = t[t["termination_date"] <= _date(end, "end")]
    reason = t["termination_reason"].astype("string").str.strip()
    t["reason"] = reason.fillna(NO_REASON).replace("", NO_REASON).to_numpy(dtype=object)
    return t


def reasons_pareto(
    agents: pd.DataFrame, start: Any | None = None, end: Any | None = None, by_type: bool = False
) -> pd.DataFrame:
    """Termination reasons for terminations dated start..end (inclusive), most frequent first.

    Columns: reason, [termination_type], terminations, share (0..1 of all terminations), cumulative_share.
    Missing reasons are shown as "(not given)".
    """
    t = _leavers(agents, start, end)
    keys = ["reason"] + (["termination_type"] if by_type else [])
    if by_type:
        t["termination_type"] = t["termination_type"].fillna(NO_GROUP)
    out = t.groupby(keys, sort=False).size().rename("terminations").reset_index()
    out = out.sort_values(["terminations", "reason"], ascending=[False, True], kind="stable").reset_index(drop=True)
    total = out["terminations"].sum()
    out["share"] = _safe_div(out["terminations"], total)
    out["cumulative_share"] = out["share"].cumsum()
    return out


def reasons_by_tenure_band(
    agents: pd.DataFrame,
    start: Any | None = None,
    end: Any | None = None,
    bands: Sequence[tuple[str, float | None]] | None = None,
) -> pd.DataFrame:
    """Terminations per tenure band at termination x reason, with share 0..1 of the band's terminations."""
    bands = bands or DEFAULT_TENURE_BANDS
    t = _leavers(agents, start, end)
    t["tenure_band"] = band_of(_days(t["termination_date"].to_numpy() - t["hire_date"].to_numpy()), bands)
    out = t.groupby(["tenure_band", "reason"], sort=False).size().rename("terminations").reset_index()
    order = {b[0]: i for i, b in enumerate(bands)}
    out["_o"] = out["tenure_band"].map(order)
    out = out.sort_values(["_o", "terminations", "reason"], ascending=[True, False, True]).drop(columns="_o")
    out["share_of_band"] = out["terminations"] / out.groupby("tenure_band")["terminations"].transform("sum")
    return out.reset_index(drop=True)


# --- comparing groups (supervisors) ---------------------------------------------------------------


def compare_groups(
    agents: pd.DataFrame,
    month: Any,
    by: str = "supervisor",
    min_headcount: float = 10,
    alpha: float = 0.05,
    bands: Sequence[tuple[str, float | None]] | None = None,
) -> pd.DataFrame:
    """Annualized attrition per group with counts, a (1 - alpha) exact Poisson CI and a small-group flag.

    Columns: [by], avg_headcount_13, terminations_12m, annualized_rate, ci_lower, ci_upper, overall_rate,
    small_group (mean headcount below `min_headcount`), assessment: "too small to compare", "above overall",
    "below overall" (CI excludes the overall rate) or "in line". The CI treats leavers as Poisson counts over
    avg_headcount_13 person-years (statsmodels confint_poisson, exact-c); NaN when nobody was employed.
    """
    from statsmodels.stats.rates import confint_poisson

    table = monthly_attrition(agents, month, month, by=by, bands=bands)
    overall = monthly_attrition(agents, month, month, by=None, bands=bands)["annualized_rate"].iloc[0]
    out = table[[by, "avg_headcount_13", "terminations_12m", "annualized_rate"]].copy()
    count = out["terminations_12m"].to_numpy(dtype=float)
    exposure = out["avg_headcount_13"].to_numpy(dtype=float)
    lo, hi = np.full(len(out), np.nan), np.full(len(out), np.nan)
    ok = exposure > 0
    if ok.any():
        l_, h_ = confint_poisson(count[ok], exposure[ok], method="exact-c", alpha=alpha)
        lo[ok], hi[ok] = l_, h_
    out["ci_lower"], out["ci_upper"] = lo, hi
    out["overall_rate"] = overall
    out["small_group"] = out["avg_headcount_13"] < min_headcount
    out["assessment"] = np.select(
        [out["small_group"], out["ci_lower"] > overall, out["ci_upper"] < overall],
        ["too small to compare", "above overall", "below overall"],
        default="in line",
    )
    return out.reset_index(drop=True)


# --- drivers (Cox proportional hazards) -----------------------------------------------------------


@dataclass
class DriverModel:
    """A fitted Cox model of leaving: `table` (factor, comparison, hazard_ratio, ci_lower, ci_upper, p_value,
    reading), the plain-language `caveat`, counts, concordance and `notes` on what was dropped or adjusted."""

    table: pd.DataFrame
    caveat: str
    agents: int
    leavers: int
    concordance: float = float("nan")
    penalizer: float = float("nan")
    notes: list[str] = field(default_factory=list)


def _reading(hr: float, lo: float, hi: float, comparison: str) -> str:
    if not np.isfinite(hr):
        return ""
    pct = abs(hr - 1) * 100
    direction = "higher" if hr > 1 else "lower"
    text = f"{pct:.0f}% {direction} hazard of leaving {comparison}"
    if np.isfinite(lo) and np.isfinite(hi) and lo <= 1 <= hi:
        text += " (interval includes no difference)"
    return text


def attrition_drivers(
    agents: pd.DataFrame,
    as_of: Any | None = None,
    factors: pd.DataFrame | None = None,
    categorical: Sequence[str] = ("team", "site"),
    numeric: Sequence[str] = ("fte",),
    penalizer: float = 0.01,
    alpha: float = 0.05,
    min_level_size: int = 5,
    observed_from: Any | None = None,
) -> DriverModel:
    """Cox proportional-hazards model (lifelines) of leaving on the tenure time scale.

    Tenure is the model's time axis (the baseline hazard), so every ratio is net of tenure. Covariates:
    `categorical` columns of agents (each level against the largest; levels with fewer than min_level_size
    agents pooled as "other"), `numeric` columns (fte = schedule share), and every numeric column of
    `factors` (a per-agent frame with agent_id, e.g. occupancy, adherence, qa_score, aht_vs_goal), joined on
    agent_id. Numeric covariates are standardized: hazard ratio per one standard deviation. Agents without a
    factor value are left out (counted in notes). Constant columns are dropped, and so is a column the others
    determine (`_aliased`: each team in one site makes the site a sum of its teams; its ratio and interval would
    come from the penalizer, not the data); the ridge `penalizer` keeps small data stable (raised automatically if
    the fit does not converge). `observed_from` (default `roster_observed_from`; the report passes the later of it
    and the first day of the activity behind `factors`): tenure before it is not observed, so an agent hired
    earlier enters the model then (lifelines' entry_col) and one who left before it is not in it.
    """
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError

    d = tenure_durations(agents, as_of, _observed_from(agents, observed_from))
    notes: list[str] = []
    empty = pd.DataFrame(columns=["factor", "comparison", "hazard_ratio", "ci_lower", "ci_upper", "p_value", "reading"])
    if factors is not None:
        if "agent_id" not in factors.columns:
            raise UsageError("driver factors need an agent_id column")
        f = factors.copy()
        f["agent_id"] = f["agent_id"].astype("string")
        yes_no = [c for c in f.columns if c != "agent_id" and pd.api.types.is_bool_dtype(f[c])]
        f[yes_no] = f[yes_no].astype("float64")  # a yes/no factor (overtime): 1 and 0, not dropped in silence
        num_f = [c for c in f.columns if c != "agent_id" and pd.api.types.is_numeric_dtype(f[c])]
        other = [c for c in f.columns if c != "agent_id" and c not in num_f]
        if other:
            notes.append(f"{in_words(other)} left out: only numbers and yes/no factors are modelled")
        if f["agent_id"].duplicated().any():
            raise UsageError("driver factors must have one row per agent_id")
        d = d.merge(f[["agent_id", *num_f]], on="agent_id", how="left")
    else:
        num_f, yes_no = [], []
    num_cols = [c for c in [*numeric, *num_f] if c in d.columns]
    before = len(d)
    if num_cols:
        missing = [c for c in num_cols if d[c].isna().any()]
        d = d.dropna(subset=num_cols)
        if len(d) < before:
            notes.append(
                f"{before - len(d)} of {counted(before, 'agent')} left out for want of {in_words(missing, 'or')}"
            )
    X = pd.DataFrame(index=d.index)
    labels: dict[str, tuple[str, str]] = {}
    for col in categorical:
        if col not in d.columns:
            continue
        v = pd.Series(_group_values(d, col), index=d.index)
        counts = v.value_counts()
        small = counts[counts < min_level_size].index
        if len(small):
            v = v.where(~v.isin(small), "other")
            pooled = int(counts[small].sum())
            if pooled < min_level_size:
                keep = (v != "other").to_numpy()
                d, X, v = d[keep], X[keep], v[keep]
                notes.append(
                    f"{col}: {counted(len(small), 'level')} with fewer than {min_level_size} agents left out "
                    f"({counted(pooled, 'agent')}: too few to model even pooled)"
                )
            else:
                notes.append(
                    f"{col}: {counted(len(small), 'level')} with fewer than {min_level_size} agents "
                    f"pooled as 'other' ({counted(pooled, 'agent')})"
                )
        counts = v.value_counts()
        if len(counts) < 2:
            notes.append(f"{col}: only one level, left out")
            continue
        ref = counts.index[0]
        for level in sorted(counts.index[1:], key=str):
            name = f"{col}={level}"
            X[name] = (v == level).astype(float)
            labels[name] = (col, f"in {col} {level} vs {ref}")
    for col in num_cols:
        x = d[col].astype(float)
        sd = x.std(ddof=1)
        if not np.isfinite(sd) or sd == 0:
            notes.append(f"{col}: constant, left out")
            continue
        if col in yes_no:  # the ratio of yes against no, not per standard deviation of a 0/1 column
            X[col] = x
            labels[col] = (col, f"with {col} vs without")
            continue
        X[col] = (x - x.mean()) / sd
        spread = f"{sd:,.0f}" if sd >= 1000 else f"{sd:.3g}"  # 4,710 rather than 4.71e+03
        labels[col] = (col, f"per standard deviation of {col} ({spread})")
    aliased = _aliased(X)
    for col in dict.fromkeys(labels[name][0] for name in aliased):
        gone = [labels[name][1].removeprefix(f"in {col} ") for name in aliased if labels[name][0] == col]
        whole = all(labels[name][0] != col for name in X.columns if name not in aliased)
        notes.append(
            f"{col if whole else col + ' ' + in_words(gone)} left out: the other factors determine it (as when every "
            "team lies in one site), so its own effect cannot be told apart from theirs"
        )
    X = X.drop(columns=aliased)
    labels = {name: v for name, v in labels.items() if name not in aliased}
    n, events = len(d), int(d["left"].sum())
    if n < 10 or events < 3 or X.shape[1] == 0:
        notes.append(f"too little to model: {n} agents, {events} leavers, {X.shape[1]} usable factors")
        return DriverModel(empty, CAUSALITY_CAVEAT, n, events, notes=notes)
    X["duration"] = d["tenure_days"].clip(lower=0.5)  # a same-day leaver: half a day (Cox needs > 0)
    X["event"] = d["left"].astype(int)
    X["entry"] = np.minimum(d["entry_days"].to_numpy(dtype=float), X["duration"].to_numpy() - 0.25)
    cph = None
    pen = penalizer
    for _ in range(3):
        try:
            cph = CoxPHFitter(penalizer=pen, alpha=alpha).fit(
                X, duration_col="duration", event_col="event", entry_col="entry"
            )
            break
        except (ConvergenceError, np.linalg.LinAlgError, ValueError):
            pen = max(pen * 10, 0.1)
    if cph is None:
        notes.append("the model did not converge even with a strong penalizer")
        return DriverModel(empty, CAUSALITY_CAVEAT, n, events, notes=notes)
    if pen != penalizer:
        notes.append(f"penalizer raised to {pen:g} for the fit to converge")
    s = cph.summary
    rows = []
    for name in s.index:
        col, comparison = labels[name]
        hr = float(s.loc[name, "exp(coef)"])
        lo = float(s.loc[name, f"exp(coef) lower {100 * (1 - alpha):g}%"])
        hi = float(s.loc[name, f"exp(coef) upper {100 * (1 - alpha):g}%"])
        rows.append(
            {
                "factor": col,
                "comparison": comparison,
                "hazard_ratio": hr,
                "ci_lower": lo,
                "ci_upper": hi,
                "p_value": float(s.loc[name, "p"]),
                "reading": _reading(hr, lo, hi, comparison),
            }
        )
    return DriverModel(
        pd.DataFrame(rows, columns=empty.columns),
        CAUSALITY_CAVEAT,
        n,
        events,
        concordance=float(cph.concordance_index_),
        penalizer=pen,
        notes=notes,
    )


def _aliased(X: pd.DataFrame) -> list[str]:
    """The columns of a Cox design matrix that the columns before them and a constant (the baseline hazard
    absorbs one) already determine, in order: a site's indicator when each of its teams is a column, an
    indicator equal to another. Such a column's coefficient is not identified: the data leave its split with the
    others to the ridge penalty (a probe's site ratio 0.84x [0.18, 3.91] at penalizer 0.01 and [0.01, 95.5] at
    0.001; modelled alone 0.79x [0.54, 1.16]). Found by the rank of the growing matrix (numpy), one column at a
    time, so the earlier factor (team before site) keeps its columns."""
    kept = [np.ones(len(X))]
    out = []
    for name in X.columns:
        trial = np.column_stack([*kept, X[name].to_numpy(dtype=float)])
        if np.linalg.matrix_rank(trial) < trial.shape[1]:
            out.append(name)
        else:
            kept.append(trial[:, -1])
    return out


# --- hazard by tenure, projection, backtest, cost -------------------------------------------------


def tenure_hazard(
    agents: pd.DataFrame, start: Any, end: Any, bands: Sequence[tuple[str, float | None]] | None = None
) -> pd.DataFrame:
    """Monthly probability of leaving per tenure band, estimated from the window [start, end) (end exclusive).

    Piecewise-constant hazard (the exponential MLE within each band): rate = leavers / days at risk, both
    counted inside the window and the band (agents hired before `start` enter at their tenure then);
    monthly_hazard = 1 - exp(-rate x 30.44 days). Written here rather than with lifelines'
    PiecewiseExponentialFitter because the estimate is closed-form and must also work for a band with no
    leavers (the tests check it against that fitter). A band with no time at risk falls back to the overall
    rate (source = "overall").

    Columns: tenure_band, min_days, max_days, exposure_months (agent-months at risk), leavers,
    monthly_hazard (0..1), source.
    """
    a = prepare_agents(agents)
    bands = bands or DEFAULT_TENURE_BANDS
    s, e = _date(start, "start"), _date(end, "end")
    if e <= s:
        raise UsageError(f"hazard window end {e.date()} must be after its start {s.date()}")
    hire = a["hire_date"].to_numpy(dtype="datetime64[ns]")
    term = a["termination_date"].to_numpy(dtype="datetime64[ns]")
    s64, e64 = np.datetime64(s, "ns"), np.datetime64(e, "ns")
    left_in = ~np.isnat(term) & (term >= s64) & (term < e64)
    stop = np.where(left_in, term, e64)
    stop = np.where(~np.isnat(term) & (term < s64), s64, stop)  # gone before the window: no exposure
    enter = np.maximum(hire, s64)
    in_window = (hire < e64) & (stop >= enter)
    lo_t = _days(enter - hire)[in_window]
    hi_t = _days(stop - hire)[in_window]
    event_t = _days(term - hire)[left_in & in_window]
    lower = np.array([0.0] + [b[1] for b in bands[:-1]], dtype=float)
    upper = np.array([b[1] if b[1] is not None else np.inf for b in bands], dtype=float)
    exposure = np.clip(
        np.minimum(hi_t[:, None], upper[None, :]) - np.maximum(lo_t[:, None], lower[None, :]), 0, None
    ).sum(axis=0)
    leavers = pd.Series(band_of(event_t, bands)).value_counts().reindex([b[0] for b in bands]).fillna(0).to_numpy()
    overall = leavers.sum() / exposure.sum() if exposure.sum() > 0 else np.nan
    rate = _safe_div(leavers, exposure)
    source = np.where(exposure > 0, "band", "overall")
    rate = np.where(exposure > 0, rate, overall)
    return pd.DataFrame(
        {
            "tenure_band": [b[0] for b in bands],
            "min_days": lower,
            "max_days": upper,
            "exposure_months": exposure / DAYS_PER_MONTH,
            "leavers": leavers.astype(int),
            "monthly_hazard": 1 - np.exp(-rate * DAYS_PER_MONTH),
            "source": source,
        }
    )


def _cum_hazard(hazard: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Knots (tenure days) and cumulative hazard at them, for np.interp (linear within each band)."""
    h = hazard.reset_index(drop=True)
    if h["monthly_hazard"].isna().any() or (h["monthly_hazard"] >= 1).any() or (h["monthly_hazard"] < 0).any():
        raise UsageError("tenure hazard must be a share 0..1 (below 1) for every band")
    rate = -np.log1p(-h["monthly_hazard"].to_numpy(dtype=float)) / DAYS_PER_MONTH  # per day
    upper = h["max_days"].to_numpy(dtype=float).copy()
    upper[~np.isfinite(upper)] = 1e7  # open-ended last band: far beyond any tenure
    knots = np.concatenate([[0.0], upper])
    widths = np.diff(knots)
    return knots, np.concatenate([[0.0], np.cumsum(rate * widths)])


def project_leavers(
    agents: pd.DataFrame,
    hazard: pd.DataFrame,
    start: Any,
    months: int = 6,
    by: str | None = None,
    cost_per_hire: float | None = None,
    training_weeks: float | None = None,
    hours_per_week: float = 40.0,
    known_leavers: bool = False,
) -> pd.DataFrame:
    """Expected leavers per calendar month from `start` (a month's first day) among agents on the roster at start.

    Each agent's chance of leaving in a month follows the tenure-band hazard (`tenure_hazard`) as their tenure
    grows; expected leavers = sum of those chances. With `known_leavers`, a termination_date on or after `start`
    in the roster is taken as notice given: that agent leaves in its month for certain (up to then by the hazard,
    the rest of their chance in that month, nothing after). The report does not use it: a roster read after the
    month holds the dates that came to pass since it, and only for those who left, not the stay of the others (a
    review's projection read 29.7 leavers where 13 left and the hazard alone said 18.0); a caller who knows which
    dates are notices can. Later hires are not in the projection (the capacity plan
    adds them). With cost_per_hire and training_weeks, expected_cost = sum over agents of the chance of
    leaving x (cost_per_hire + training_weeks x hours_per_week x the agent's hourly_cost).

    Columns: month (YYYY-MM), [by], roster_start, expected_leavers, cumulative_expected_leavers,
    expected_headcount_end, [expected_cost].
    """
    a = prepare_agents(agents)
    first = _date(start, "start")
    if months < 1:
        raise UsageError("months must be at least 1")
    if by == "tenure_band":
        raise UsageError("the projection follows each agent through the tenure bands; group it by a roster column")
    roster = a[(a["hire_date"] <= first) & ~(a["termination_date"] < first)].copy()
    roster["group"] = _group_values(roster, by)
    knots, H = _cum_hazard(hazard)
    t0 = _days(np.datetime64(first, "ns") - roster["hire_date"].to_numpy(dtype="datetime64[ns]"))
    bounds = pd.DatetimeIndex([first + pd.DateOffset(months=k) for k in range(months + 1)])
    offsets = _days(bounds.to_numpy(dtype="datetime64[ns]") - np.datetime64(first, "ns"))
    H0 = np.interp(t0, knots, H)
    surv = np.exp(-(np.interp(t0[:, None] + offsets[None, :], knots, H) - H0[:, None]))  # agents x (months+1)
    if known_leavers:  # employed on a month's first day only up to the last day they work
        last_day = roster["termination_date"].to_numpy(dtype="datetime64[ns]")
        gone = ~np.isnat(last_day)[:, None] & (last_day[:, None] < bounds.to_numpy(dtype="datetime64[ns]")[None, :])
        surv = np.where(gone, 0.0, surv)
    p_month = surv[:, :-1] - surv[:, 1:]
    with_cost = cost_per_hire is not None and training_weeks is not None
    if with_cost:
        assert cost_per_hire is not None and training_weeks is not None
        unit = cost_per_hire + training_weeks * hours_per_week * roster["hourly_cost"].to_numpy(dtype=float)
    rows = []
    groups = list(roster.groupby("group", sort=True).indices.items())
    if by is None and not groups:  # nobody on the roster that day: nobody to lose, not a table without columns
        groups = [(None, np.array([], dtype=int))]
    for g, idx in groups:
        cum = 0.0
        for k in range(months):
            exp_k = float(p_month[idx, k].sum())
            cum += exp_k
            row = {
                "month": str(bounds[k].to_period("M")),
                "group": g,
                "roster_start": len(idx),
                "expected_leavers": exp_k,
                "cumulative_expected_leavers": cum,
                "expected_headcount_end": float(surv[idx, k + 1].sum()),
            }
            if with_cost:
                row["expected_cost"] = float(np.nansum(p_month[idx, k] * unit[idx]))
            rows.append(row)
    columns = ["month", "group", "roster_start", "expected_leavers", "cumulative_expected_leavers"]
    columns += ["expected_headcount_end"] + (["expected_cost"] if with_cost else [])
    return _name_group(pd.DataFrame(rows, columns=columns), by)


def backtest_projection(
    agents: pd.DataFrame,
    cutoff: Any,
    months: int = 6,
    window_months: int = 24,
    bands: Sequence[tuple[str, float | None]] | None = None,
) -> pd.DataFrame:
    """Fit the tenure hazard on the `window_months` before `cutoff` (a month's first day), project `months`
    months from it, and set the projection beside what happened.

    Columns: month, roster_start, expected_leavers, actual_leavers (terminations among the agents on the roster
    at cutoff, the projected population), actual_leavers_all (all terminations in the month, later hires
    included), cumulative_expected_leavers, cumulative_actual_leavers.
    """
    a = prepare_agents(agents)
    cut = _date(cutoff, "cutoff")
    hz = tenure_hazard(a, cut - pd.DateOffset(months=window_months), cut, bands=bands)
    proj = project_leavers(a, hz, cut, months=months)
    roster = a[(a["hire_date"] <= cut) & ~(a["termination_date"] < cut)]
    tmonth = roster["termination_date"].dt.to_period("M").astype(str)
    all_month = a["termination_date"].dt.to_period("M").astype(str)
    proj["actual_leavers"] = [int((tmonth == m).sum()) for m in proj["month"]]
    proj["actual_leavers_all"] = [int((all_month == m).sum()) for m in proj["month"]]
    proj["cumulative_actual_leavers"] = proj["actual_leavers"].cumsum()
    return proj[
        [
            "month",
            "roster_start",
            "expected_leavers",
            "actual_leavers",
            "actual_leavers_all",
            "cumulative_expected_leavers",
            "cumulative_actual_leavers",
        ]
    ]


def attrition_cost(
    agents: pd.DataFrame,
    start: Any,
    end: Any,
    cost_per_hire: float,
    training_weeks: float,
    hours_per_week: float = 40.0,
    by: str | None = None,
    bands: Sequence[tuple[str, float | None]] | None = None,
) -> pd.DataFrame:
    """Replacement cost of terminations dated start..end (inclusive), in currency units.

    Per leaver: cost_per_hire + training_weeks x hours_per_week x the leaver's loaded hourly_cost (the
    replacement's training time is priced at the leaver's rate). Leavers without an hourly_cost are priced at
    the median of the roster and counted in `hourly_cost_imputed`.
    Columns: [by], leavers, hiring_cost, training_cost, total_cost, hourly_cost_imputed.
    """
    a = prepare_agents(agents)
    t = _leavers(a, start, end)
    median = float(a["hourly_cost"].median()) if a["hourly_cost"].notna().any() else np.nan
    imputed = t["hourly_cost"].isna()
    rate = t["hourly_cost"].fillna(median)
    t["group"] = (
        _group_values(t, by)
        if by != "tenure_band"
        else band_of(_days(t["termination_date"].to_numpy() - t["hire_date"].to_numpy()), bands or DEFAULT_TENURE_BANDS)
    )
    t["hiring_cost"] = float(cost_per_hire)
    t["training_cost"] = training_weeks * hours_per_week * rate
    t["imputed"] = imputed.astype(int)
    out = (
        t.groupby("group", sort=True)
        .agg(
            leavers=("agent_id", "size"),
            hiring_cost=("hiring_cost", "sum"),
            training_cost=("training_cost", "sum"),
            hourly_cost_imputed=("imputed", "sum"),
        )
        .reset_index()
    )
    if by is None and out.empty:
        out = pd.DataFrame(
            {
                "group": [WHOLE_ROSTER],
                "leavers": [0],
                "hiring_cost": [0.0],
                "training_cost": [0.0],
                "hourly_cost_imputed": [0],
            }
        )
    out["total_cost"] = out["hiring_cost"] + out["training_cost"]
    out = out[["group", "leavers", "hiring_cost", "training_cost", "total_cost", "hourly_cost_imputed"]]
    return _name_group(out, by)


# --- everything a month's attrition report shows --------------------------------------------------


def activity_factors(activity: pd.DataFrame, end: Any) -> pd.DataFrame:
    """Per-agent occupancy and adherence (shares 0..1) over all activity before `end`: driver factors.

    For `attrition_drivers(factors=...)`: columns agent_id, occupancy, adherence
    (reportlib.metrics.workforce.workforce_kpis over the whole history, one row per agent).
    """
    from reportlib.metrics.workforce import workforce_kpis

    wf = workforce_kpis(activity, grain=None, by=["agent_id"], end=end)
    return wf[["agent_id", "occupancy", "adherence"]]


def few_reasons(k: int) -> str:
    """The label under which reasons given by fewer than `k` leavers are counted together (`withhold_small`)."""
    return f"other reasons (each fewer than {k} leavers)"


def withhold_small(report: dict[str, Any], k: int, sites: Mapping[str, str] | None = None) -> dict[str, str]:
    """Withhold, in place, the figures of `attrition_report` that are about fewer than `k` people, and say what
    was withheld: {"groups" | "survival" | "early_tenure" | "reasons": a sentence}, for what was. HR data are personal data: a
    one-person team's "1 leaver, 144%" says that person left, a one-person site's survival curve gives their tenure to the day, and a reason given by one
    leaver ("maternity leave - did not return") is theirs (a probe of the HR data set v14). So: in `groups` the
    leavers, rate and range of a group averaging fewer than `k` people are blanked (assessment "fewer than k
    people: not shown"), and so are those of the smallest other group wherever one blanked group would stand
    alone beside a total (`_secondary`: a review worked a 3-person team's 1 leaver out of its site's 12 and its
    site's other teams' 11); `sites` maps each team to the one site it lies in. The survival curves and summary
    rows (`survival_<hire_cohort|team|site>`) of a group of fewer than `k` people, or blanked above, are dropped; the
    early leavers and rate of a hire quarter of fewer than `k` hires (`early_tenure`) are blanked (one hire who left
    within 90 days is a person); in `reasons` and `reasons_by_tenure` (per band) the reasons given by fewer
    than `k` leavers are counted together under `few_reasons(k)`. The whole roster's figures are kept. `k` = 5 by
    default (parameters/attrition.yaml: the smallest minimum group size Microsoft Viva Insights allows for its
    group figures; chosen before looking at any data); 1 withholds nothing."""
    notes: dict[str, str] = {}
    if k <= 1:
        return notes
    hidden: dict[str, set] = {}
    said: list[str] = []
    for col, g in report.get("groups", {}).items():
        size = g["avg_headcount_13"].to_numpy(dtype=float)
        small = size < k
        nested = np.array([(sites or {}).get(v, "") if col == "team" else "" for v in g[col]], dtype=object)
        wider = _secondary(small, size, nested)
        hidden[col] = set(g.loc[wider, col])
        if wider.any():
            g.loc[wider, ["terminations_12m", "annualized_rate", "ci_lower", "ci_upper"]] = np.nan
            # a small group's average headcount too: 0.2 for a one-person site says its person left (a probe)
            g.loc[small, "avg_headcount_13"] = np.nan
            g.loc[small, "assessment"] = f"fewer than {k} people: not shown"
            g.loc[wider & ~small, "assessment"] = "not shown: it would give away a smaller group's"
            more = int((wider & ~small).sum())
            said.append(
                f"{counted(small.sum(), col)} of fewer than {k} people on average"
                + (f" (and {more} more, which would give theirs away beside the totals)" if more else "")
            )
    if said:
        notes["groups"] = f"Leavers and attrition are not shown for {'; nor for '.join(said)}."
    dropped: list[str] = []
    for by in ("hire_cohort", "team", "site"):
        sv = report.get(f"survival_{by}")
        if sv is None or not len(sv.summary):
            continue
        small_groups = set(sv.summary.loc[sv.summary["agents"] < k, by]) | (hidden.get(by, set()) & set(sv.summary[by]))
        if small_groups:
            report[f"survival_{by}"] = Survival(
                curves=sv.curves[~sv.curves[by].isin(small_groups)].reset_index(drop=True),
                summary=sv.summary[~sv.summary[by].isin(small_groups)].reset_index(drop=True),
            )
            dropped.append(counted(len(small_groups), "hire quarter" if by == "hire_cohort" else by))
    if dropped:
        why = f"of fewer than {k} people" + (" or whose leavers are not shown above" if any(hidden.values()) else "")
        notes["survival"] = f"No survival curve is drawn for {in_words(dropped)} {why}."
    early = report.get("early_tenure")
    if early is not None and len(early):
        few = ((early["hires"] > 0) & (early["hires"] < k)).to_numpy()
        if few.any():
            report["early_tenure"] = early = early.astype({"early_leavers": "float"})
            early.loc[few, ["early_leavers", "rate"]] = np.nan
            notes["early_tenure"] = (
                f"Early leavers are not shown for {counted(few.sum(), 'hire quarter')} of fewer than {k} hires."
            )
    pooled = 0
    for key, within in (("reasons", None), ("reasons_by_tenure", "tenure_band")):
        table = report.get(key)
        if table is None or not len(table):
            continue
        report[key], n = _pool_rare(table, k, within)
        pooled = max(pooled, n)
    if pooled:
        notes["reasons"] = f'Reasons given by fewer than {k} leavers are counted together as "{few_reasons(k)}".'
    return notes


def _secondary(small: np.ndarray, size: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """`small` (the groups withheld) widened until no block (`blocks`: the site a team lies in) and not the whole
    table holds exactly one withheld group beside shown ones: there, the smallest other group is withheld too, so
    that the total (the site's, the roster's) less the groups shown gives no one group's figure. Secondary
    suppression, as statistical offices practise it for tables with totals, by the smallest group (the least
    shown is lost)."""
    out = small.copy()
    changed = True
    while changed:
        changed = False
        for block in [blocks == b for b in dict.fromkeys(blocks) if b != ""] + [np.ones(len(out), dtype=bool)]:
            if out[block].sum() == 1 and block.sum() > 1:
                others = np.flatnonzero(block & ~out)
                out[others[np.argmin(size[others])]] = True
                changed = True
    return out


def _pool_rare(table: pd.DataFrame, k: int, within: str | None) -> tuple[pd.DataFrame, int]:
    """A reasons table (`reasons_pareto` or `reasons_by_tenure_band`) with the reasons of fewer than `k` leavers
    (per `within` group) counted as one row `few_reasons(k)`, last in its group; shares recomputed. Also how many
    rows were pooled."""
    rare = (table["terminations"] < k).to_numpy()
    if not rare.any():
        return table, 0
    if within:
        other = table[rare].groupby(within, sort=False)["terminations"].sum().reset_index()
    else:
        other = pd.DataFrame({"terminations": [int(table.loc[rare, "terminations"].sum())]})
    other["reason"] = few_reasons(k)
    out = pd.concat([table[~rare], other], ignore_index=True)
    if within:  # each band's rows together, in the table's band order, the pooled row last in its band
        order = {b: i for i, b in enumerate(dict.fromkeys(table[within]))}
        out = out.assign(_o=out[within].map(order), _p=(out["reason"] == few_reasons(k)).astype(int))
        out = out.sort_values(["_o", "_p"], kind="stable").drop(columns=["_o", "_p"]).reset_index(drop=True)
        out["share_of_band"] = out["terminations"] / out.groupby(within)["terminations"].transform("sum")
    else:
        out["share"] = _safe_div(out["terminations"], out["terminations"].sum())
        out["cumulative_share"] = out["share"].cumsum()
    return out[table.columns], int(rare.sum())


def team_roster(agents: pd.DataFrame, team: str, month: Any, k: int) -> pd.DataFrame:
    """The roster rows of `team`, for a report narrowed to it: UsageError when nobody is in it, or when it
    averaged fewer than `k` people over the 13 months to `month` (compare_groups' avg_headcount_13, the measure
    `withhold_small` hides a group's figures by). Narrowed, every figure of the page is the team's: a 2-person
    team's page said its leaver was a regretted loss and gave their tenure to the day (a probe)."""
    a = prepare_agents(agents)
    if "team" not in a or not (a["team"] == team).any():
        raise UsageError(f"no agent on the roster is in team {team!r}")
    if k > 1:
        sizes = compare_groups(a, month, by="team").set_index("team")["avg_headcount_13"]
        size = float(sizes.get(team, 0.0))
        if not size >= k:
            raise UsageError(
                f"team {team!r} averaged fewer than {k} people over the 13 months to {parse_month(month)}: its "
                f"attrition figures would be about single people (min_group_size {k}, parameters/attrition.yaml); "
                "the whole roster's report shows the teams it can"
            )
    return a[a["team"] == team]


def attrition_report(
    agents: pd.DataFrame,
    month: Any,
    params: dict | None = None,
    factors: pd.DataFrame | None = None,
    trend_months: int = 24,
    team: str | None = None,
    factors_from: Any | None = None,
) -> dict[str, Any]:
    """All attrition figures for the report on `month`, from the agents table and parameters/attrition.yaml.

    Keys: trend (monthly_attrition over the last `trend_months` months), by_<team|site|role|tenure_band>
    (the month), supervisors (compare_groups), groups ({"team"|"site": compare_groups over the 12 months,
    for each column the roster fills}), early_tenure (early_tenure_attrition of the hire quarters of the
    `trend_months`, each listed), survival_<overall|hire_cohort|
    team|site> (Survival), reasons and reasons_by_tenure (the 12 months ending with `month`), drivers
    (DriverModel, or the ReportlibError saying why the model could not be fitted; `factors` is the
    optional per-agent frame, e.g. `activity_factors`), hazard
    (tenure_hazard over the window before the month's end), projection (next months from the first day
    after `month`, with expected_cost), cost_12m (attrition_cost of the 12 months' leavers), as_of (the
    month's last day), withheld (`withhold_small`'s sentences on the figures about fewer than min_group_size
    people it left out, by section). Settings: `core.settings.AttritionSettings` from `params` (the whole parameter
    tree; the shipped parameters/attrition.yaml fills what it lacks). `team` narrows the roster first.
    `factors_from`: the first day of the data behind `factors`: the drivers model observes tenure from the later
    of it and `roster_observed_from` (an agent who left before the factors were measured has none).
    """
    cfg = AttritionSettings.from_params(params)
    bands = cfg.tenure_bands
    m = parse_month(month)
    as_of = m.end_time.normalize()
    after = (m + 1).start_time
    alpha = cfg.alpha
    cost_per_hire, weeks, hours = cfg.cost_per_hire, cfg.training_weeks, cfg.training_hours_per_week
    whole = prepare_agents(agents)
    hired = whole["hire_date"].dropna()
    if not (hired <= as_of).any():
        first = f" (the first hire_date is {hired.min():%Y-%m-%d})" if len(hired) else ""
        raise ReportlibError(f"nobody on the roster was hired by {as_of:%Y-%m-%d}{first}: no attrition in {m}")
    observed_from = roster_observed_from(whole)  # the roster's, whichever team is shown (not its first leaver)
    a = whole if team is None else team_roster(whole, team, m, cfg.min_group_size)
    out: dict[str, Any] = {"as_of": as_of, "month": str(m)}
    out["trend"] = monthly_attrition(a, m - (trend_months - 1), m, bands=bands)
    for by in ("team", "site", "role", "tenure_band"):
        out[f"by_{by}"] = monthly_attrition(a, m, m, by=by, bands=bands)
    min_headcount = cfg.min_group_headcount
    out["supervisors"] = compare_groups(a, m, by="supervisor", min_headcount=min_headcount, alpha=alpha, bands=bands)
    out["groups"] = {
        col: compare_groups(a, m, by=col, min_headcount=min_headcount, alpha=alpha, bands=bands)
        for col in ("team", "site")
        if col in a and a[col].notna().any()
    }
    out["early_tenure"] = early_tenure_attrition(  # the hire quarters of the trend's months
        a, as_of, freq="Q", days=cfg.early_tenure_days, periods=max(1, -(-trend_months // 3))
    )
    out["survival_overall"] = tenure_survival(a, as_of, alpha=alpha, observed_from=observed_from)
    for by in ("hire_cohort", "team", "site"):
        out[f"survival_{by}"] = tenure_survival(a, as_of, by=by, alpha=alpha, observed_from=observed_from)
    year_start = (m - 11).start_time
    out["reasons"] = reasons_pareto(a, year_start, as_of)
    out["reasons_by_tenure"] = reasons_by_tenure_band(a, year_start, as_of, bands=bands)
    starts = [d for d in (observed_from, factors_from) if d is not None]
    try:
        out["drivers"] = attrition_drivers(
            a,
            as_of,
            factors=factors,
            penalizer=cfg.cox_penalizer,
            alpha=alpha,
            min_level_size=cfg.cox_min_level_size,
            observed_from=max(pd.Timestamp(d) for d in starts) if starts else None,
        )
    except ReportlibError as exc:  # too little data for the model: the report says why and goes on
        out["drivers"] = exc
    window = cfg.hazard_window_months
    out["hazard"] = tenure_hazard(a, after - pd.DateOffset(months=window), after, bands=bands)
    out["projection"] = project_leavers(  # by the hazard alone: dates after the month are hindsight (known_leavers)
        a,
        out["hazard"],
        after,
        months=cfg.projection_months,
        cost_per_hire=cost_per_hire,
        training_weeks=weeks,
        hours_per_week=hours,
    )
    out["cost_12m"] = attrition_cost(a, year_start, as_of, cost_per_hire, weeks, hours_per_week=hours)
    sites = None  # each team's one site, where it lies in one: the blocks of `_secondary`
    if {"team", "site"} <= set(a.columns):
        per_team = a.dropna(subset=["team"]).groupby("team")["site"]
        sites = {t: str(v.iloc[0]) if v.nunique() == 1 else "" for t, v in per_team}
    out["withheld"] = withhold_small(out, cfg.min_group_size, sites)
    return out
