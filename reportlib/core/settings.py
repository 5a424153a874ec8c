"""Typed, validated settings read from the parameter tree, so readers never guess its shape.

`load_params` gives the merged parameter tree (parameters/*.yaml < --params < flags); the settings
objects here are read from it once, with every default taken from the shipped YAML files
(`default_params`), and checked: a wrong value is a UsageError naming the parameter. Modules take the
object they need (`MetricSettings`, `AttritionSettings`) instead of digging in a dict.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reportlib.core.errors import UsageError
from reportlib.core.names import SL_DEFINITIONS
from reportlib.core.params import DEFAULT_TIMEZONE, check_timezone, deep_merge, default_params


def setting_number(
    tree: Mapping[str, Any], key: str, where: str, *, minimum: float | None = None, maximum: float | None = None
) -> float:
    """`tree[key]` as a finite number within [minimum, maximum]; else a UsageError naming the parameter
    `{where}{key}` (where: its set, e.g. "capacity.") and what it must be."""
    value = tree.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UsageError(f"parameter {where}{key} must be a number, got {value!r}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = (
            f"from {minimum:g} to {maximum:g}"
            if minimum is not None and maximum is not None
            else (f">= {minimum:g}" if minimum is not None else f"<= {maximum:g}")
        )
        raise UsageError(f"parameter {where}{key} must be {bounds}, got {value!r}")
    return float(value)


def _completed(params: Mapping[str, Any] | None, section: str | None = None) -> dict[str, Any]:
    """`params` (or its `section`) laid over the shipped defaults of the same keys."""
    base = default_params()
    if section is None:
        return deep_merge(base, dict(params or {}))
    given = (params or {}).get(section)
    if given is not None and not isinstance(given, Mapping):
        raise UsageError(f"parameter {section} must be a mapping of keys to values, got {given!r}")
    return deep_merge(base.get(section) or {}, dict(given or {}))


def parse_tenure_bands(raw: Any) -> tuple[tuple[str, float | None], ...]:
    """Tenure bands [(label, max_days or None)] from `attrition.tenure_bands`: upper bounds (days) increase
    from band to band and only the last band is open (max_days null). UsageError naming the band otherwise."""
    if not isinstance(raw, list) or not raw:
        raise UsageError(f"parameter attrition.tenure_bands must list at least one band, got {raw!r}")
    bands: list[tuple[str, float | None]] = []
    last = -math.inf
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping) or "label" not in item:
            raise UsageError(f"attrition.tenure_bands[{i}] needs a label and max_days (null for the last band)")
        upper = item.get("max_days")
        if upper is None and i != len(raw) - 1:
            raise UsageError("attrition.tenure_bands: only the last band may have max_days null")
        if upper is not None:
            if isinstance(upper, bool) or not isinstance(upper, (int, float)):
                raise UsageError(f"attrition.tenure_bands[{i}]: max_days must be a number of days, got {upper!r}")
            upper = float(upper)
            if upper <= last:
                raise UsageError("attrition.tenure_bands: max_days must increase from band to band")
            last = upper
        bands.append((str(item["label"]), upper))
    if bands[-1][1] is not None:
        raise UsageError("attrition.tenure_bands: the last band must have max_days null (open-ended)")
    return tuple(bands)


@dataclass(frozen=True)
class MetricSettings:
    """How contact KPIs are measured (parameters/defaults.yaml; docs/definitions.md).

    sl_threshold_s: answered within this many seconds counts toward service level (seconds);
    sl_definition: one of core.names.SL_DEFINITIONS; short_abandon_s: abandons within this many seconds
    are not offered (seconds); timezone: IANA zone that naive timestamps are read in.
    """

    sl_threshold_s: float
    sl_definition: str
    short_abandon_s: float
    timezone: str

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> MetricSettings:
        tree = _completed(params)
        definition = tree.get("sl_definition")
        if definition not in SL_DEFINITIONS:
            raise UsageError(f"parameter sl_definition must be one of {', '.join(SL_DEFINITIONS)}, got {definition!r}")
        tz = check_timezone(tree.get("timezone") or DEFAULT_TIMEZONE)
        return cls(
            sl_threshold_s=setting_number(tree, "sl_threshold_s", "", minimum=0),
            sl_definition=str(definition),
            short_abandon_s=setting_number(tree, "short_abandon_s", "", minimum=0),
            timezone=tz,
        )


@dataclass(frozen=True)
class AttritionSettings:
    """The attrition analysis (parameters/attrition.yaml; docs/definitions.md, "Attrition").

    tenure_bands: (label, upper bound in days or None for the last band); confidence_level: of the
    intervals (share 0..1); min_group_headcount: smaller groups are marked, not ranked (people);
    min_group_size: no figure about fewer people is shown (people; `metrics.attrition.withhold_small`);
    early_tenure_days: early leavers left within this many days; hazard_window_months: months of
    history behind the tenure hazard; projection_months: months projected; cost_per_hire (currency),
    training_weeks and training_hours_per_week: the replacement cost of a leaver; cox_penalizer and
    cox_min_level_size: the drivers model's ridge penalty and smallest category kept (people).
    """

    tenure_bands: tuple[tuple[str, float | None], ...]
    confidence_level: float
    min_group_headcount: float
    min_group_size: int
    early_tenure_days: int
    hazard_window_months: int
    projection_months: int
    cost_per_hire: float
    training_weeks: float
    training_hours_per_week: float
    cox_penalizer: float
    cox_min_level_size: int

    @property
    def alpha(self) -> float:
        """1 - confidence_level: the error rate of the intervals (share 0..1)."""
        return 1 - self.confidence_level

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> AttritionSettings:
        """From the whole parameter tree (its `attrition` set over the shipped defaults)."""
        a = _completed(params, "attrition")
        w = "attrition."
        return cls(
            tenure_bands=parse_tenure_bands(a.get("tenure_bands")),
            confidence_level=setting_number(a, "confidence_level", w, minimum=0.5, maximum=0.999),
            min_group_headcount=setting_number(a, "min_group_headcount", w, minimum=0),
            min_group_size=int(setting_number(a, "min_group_size", w, minimum=1)),
            early_tenure_days=int(setting_number(a, "early_tenure_days", w, minimum=1)),
            hazard_window_months=int(setting_number(a, "hazard_window_months", w, minimum=1)),
            projection_months=int(setting_number(a, "projection_months", w, minimum=1)),
            cost_per_hire=setting_number(a, "cost_per_hire", w, minimum=0),
            training_weeks=setting_number(a, "training_weeks", w, minimum=0),
            training_hours_per_week=setting_number(a, "training_hours_per_week", w, minimum=0),
            cox_penalizer=setting_number(a, "cox_penalizer", w, minimum=0),
            cox_min_level_size=int(setting_number(a, "cox_min_level_size", w, minimum=1)),
        )


PAPER_SIZES = ("A4", "Letter")


@dataclass(frozen=True)
class PrintSettings:
    """The copies `reportlib run` writes beside the HTML (parameters/reports.yaml: `pdf`, `paper`, `workbooks`).

    pdf: print a PDF beside the HTML of each report marked `pdf` in the registry; paper: A4 or Letter
    (case-insensitive in the file, normalised here); workbooks: write the month's Excel workbook and one per
    client review.
    """

    pdf: bool
    paper: str
    workbooks: bool = True

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> PrintSettings:
        """From the whole parameter tree (its `reports` set over the shipped defaults)."""
        r = _completed(params, "reports")
        pdf = r.get("pdf", True)
        if not isinstance(pdf, bool):
            raise UsageError(f"parameter reports.pdf must be true or false, got {pdf!r}")
        paper = r.get("paper", "A4")
        match = [p for p in PAPER_SIZES if isinstance(paper, str) and p.lower() == paper.strip().lower()]
        if not match:
            raise UsageError(f"parameter reports.paper must be {' or '.join(PAPER_SIZES)}, got {paper!r}")
        workbooks = r.get("workbooks", True)
        if not isinstance(workbooks, bool):
            raise UsageError(f"parameter reports.workbooks must be true or false, got {workbooks!r}")
        return cls(pdf=pdf, paper=match[0], workbooks=workbooks)
