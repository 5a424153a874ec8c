"""The synthetic sample operation behind `reportlib sample-data`: a believable benefits-support centre.

An employer-support team of a healthcare-benefits administrator, generated deterministically from
a seed. The model, in the order it is built:

1. Clients: ~40 employers of heavy-tailed size (lognormal employees), a tier from size, an SLA
   profile (parameters/sla_contracts.yaml) from the tier, a monthly fee per employee.
2. Roster: teams of ~13 (one lead each) under a supervisor, at two sites. A 36-month burn-in
   before the window gives a realistic tenure mix. Each person's exit is drawn from a
   piecewise-constant tenure hazard that is highest in the first 90 days; about a quarter of exits
   are involuntary (reasons follow the person's attendance and quality), the rest voluntary.
   Vacancies are refilled by monthly hiring classes of 6-14 (none when fewer than 4 seats are
   open), sized two months ahead with a seasonal bump for November-February, so staffing dips
   between an exit and the next class coming off training. New hires fill the open shift
   positions (full- and part-time start times fitted by NNLS to the intraday need).
3. Schedules: weekday shifts plus a light Saturday rotation; vacation weeks, single PTO days,
   unplanned absences (agent trait x weekday x season, higher before a voluntary exit); 4 weeks of
   classroom training and 2 weeks of nesting for new hires; staggered breaks and lunches, huddles,
   coaching, e-learning, late log-ins and out-of-adherence time per agent-day.
4. Demand: per queue/channel pool and half-hour, Poisson arrivals from an intraday profile,
   weekday factors, the benefits calendar (open enrollment Nov-Dec, the January plan-year surge,
   FSA and tax season, summer lull), Import Files deadlines in the first business days of each
   month, US holidays (closed on the major ones, low volume on the others), growth and incident
   days. Volume is scaled so the planned staff is busy ~75% of its productive time.
5. Each working agent-day joins one skill group (phone, chat or email; agents are universal
   within a channel, escalations going to agents with a year's experience) as a planner would:
   sharing the day's capacity in proportion to need, matching shifts to the intraday need and
   adding capacity to email when its backlog grows.
6. Phone and chat queueing: each half-hour's agents on come from those schedules; every
   contact's wait is drawn from the M/M/n+M (Erlang A) model with its queue's share of those agents
   (the group's square-root safety margin per queue, `_queue_split`), the expected arrival rate, the
   agents' handle time and exponential caller patience, so abandonment rises exactly when staffing
   falls short of the load.
7. Email: one FIFO backlog worked by the email group's productive time; wait_s is the time to
   first response, and emails still in the backlog at the end of the window stay `open`.
8. Handle times come from the answering agent (trait x tenure learning curve x noise); contacts
   go to the agents on in proportion to their capacity, then move from agents whose day is full
   to the least busy agent on (as longest-idle routing would).
9. FCR, escalation, transfer and CSAT depend on the queue, the agent and the wait; unresolved and
   abandoned contacts come back from the same caller within days (repeat contacts).
10. agent_activity: per agent-day, handle_s is the sum of handle_s of the contacts the agent
    answered that local day (the date of arrived_at + wait_s; for phone and chat the arrival
    date), and handle_s + available_s + aux_* = logged_in_s. Work beyond an agent's planned
    productive time is overtime (logged_in_s above scheduled_s), as in a real January.
11. QA evaluations: ~4 per agent per month (6 in the first 90 days) on contacts the agent
    handled, scored from the agent's quality and tenure, with occasional critical errors.
12. interval_plan and interval_staffing (phone and chat, per queue and half-hour): the planners'
    forecast (what they know of demand, with a daily error of FORECAST_SD; schedules are built from
    it), last quarter's AHT, the agents the requirement asks for; the agents each queue had
    (equivalent agents: the group's safety margin per queue, as the queueing in 6 uses them) and
    those scheduled (plus the ones absent unplanned). The last month holds a Debit Card surge
    nobody forecast (SURGE_FACTORS on `surge_days`). See docs/plan-vs-actual.md.

Everything is vectorized with numpy; the same seed gives byte-identical files.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import holidays as holidays_lib
import numpy as np
import pandas as pd
from scipy import optimize, special

from reportlib.core.errors import ReportlibError, UsageError
from reportlib.core.months import FIRST_YEAR
from reportlib.core.params import DEFAULT_TIMEZONE, data_location
from reportlib.core.words import counted
from reportlib.data.contract import TABLES

TZ = DEFAULT_TIMEZONE  # the sample operation keeps its books in the default zone
SLOT_S = 1800  # interval length, seconds
SLOTS = 48  # intervals per day
QUEUES = ("Benefits", "Import Files", "Debit Card", "Accounts", "Escalations")
SITES = ("Louisville", "Tampa")
SAMPLE_TABLES = (
    "contacts",
    "agents",
    "agent_activity",
    "qa_evaluations",
    "clients",
    "interval_plan",
    "interval_staffing",
)
# The planners' daily forecast error (lognormal sd): with the day-to-day noise of demand, incidents and
# Poisson noise it gives daily errors of the size the forecast backtest reports on the sample
# (docs/forecasting.md: WAPE 6.5-13.5% by series). Chosen by that comparison, not fitted further.
FORECAST_SD = 0.07
# The generated event of the last month (the story plan vs actual must find): a card-processor outage
# sends Debit Card volume (every channel) to these multiples on the second Tuesday and the day after,
# unforecast and unscheduled.
SURGE_QUEUE = "Debit Card"
SURGE_FACTORS = (2.6, 1.7)

# Pools: (queue, channel, share of contacts, handle time of an experienced agent in s).
POOLS = (
    ("Benefits", "phone", 0.22, 780),
    ("Benefits", "chat", 0.07, 900),
    ("Benefits", "email", 0.06, 840),
    ("Import Files", "phone", 0.04, 900),
    ("Import Files", "email", 0.07, 1260),
    ("Debit Card", "phone", 0.14, 570),
    ("Debit Card", "chat", 0.05, 780),
    ("Debit Card", "email", 0.03, 720),
    ("Accounts", "phone", 0.14, 720),
    ("Accounts", "chat", 0.05, 840),
    ("Accounts", "email", 0.05, 780),
    ("Escalations", "phone", 0.04, 1260),
    ("Escalations", "email", 0.02, 1500),
)
P_QUEUE = np.array([QUEUES.index(p[0]) for p in POOLS])
P_CHANNEL = np.array([("phone", "chat", "email").index(p[1]) for p in POOLS])  # 0 phone, 1 chat, 2 email
P_SHARE = np.array([p[2] for p in POOLS], float) / sum(p[2] for p in POOLS)
P_AHT = np.array([p[3] for p in POOLS], float)
P_NOISE_SD = np.array([0.55 if c == 2 else 0.45 for c in P_CHANNEL])
# Skill groups: the agents on a channel answer every queue of it (universal agents), escalations
# going to agents with a year's experience where one is on.
GROUPS = ("phone", "chat", "email")
G_PHONE, G_CHAT, G_EMAIL = range(3)
P_GROUP = P_CHANNEL.copy()
G_PATIENCE = np.array([300.0, 420.0, np.nan])  # mean caller patience, s
# Planners staff chat a little richer than its workload (chat is sold as the quick channel) and
# email too (its backlog does not abandon, it piles up).
GROUP_BIAS = np.array([1.0, 1.5, 1.12])
ESCALATIONS = QUEUES.index("Escalations")

# Monthly volume factors per queue (Jan..Dec), placed mid-month and interpolated day by day; open
# enrollment and the January surge are windows on top (see _day_factors).
SEASON = {
    "Benefits": (1.15, 1.05, 1.00, 0.95, 0.95, 0.92, 0.88, 0.90, 0.95, 1.00, 1.02, 1.02),
    "Import Files": (1.25, 1.00, 1.00, 0.95, 0.95, 0.95, 0.90, 0.90, 0.95, 1.00, 1.15, 1.25),
    "Debit Card": (1.35, 1.15, 1.10, 1.00, 0.95, 0.95, 0.92, 0.92, 0.95, 0.95, 1.00, 1.10),
    "Accounts": (1.25, 1.15, 1.15, 1.05, 0.95, 0.92, 0.90, 0.90, 0.95, 0.95, 1.00, 1.12),
    "Escalations": (1.20, 1.10, 1.05, 0.98, 0.95, 0.92, 0.90, 0.90, 0.95, 1.00, 1.05, 1.05),
}
# Day-of-week factors (Mon..Sun): phone/chat and email.
DOW_LIVE = np.array([1.20, 1.07, 1.00, 0.97, 0.86, 0.12, 0.0])
DOW_EMAIL = np.array([1.25, 1.05, 1.00, 0.95, 0.85, 0.14, 0.10])


def _profile(values: list[float], first: int) -> np.ndarray:
    out = np.zeros(SLOTS)
    out[first : first + len(values)] = values
    return out / out.sum()


# Intraday arrival profiles over the 48 half-hours of a local day (sum 1).
PROFILE = {
    ("phone", "weekday"): _profile(
        [
            0.45,
            0.75,
            1.0,
            1.15,
            1.25,
            1.3,
            1.28,
            1.2,
            1.0,
            0.95,
            1.05,
            1.15,
            1.18,
            1.15,
            1.1,
            1.0,
            0.9,
            0.8,
            0.65,
            0.5,
            0.4,
            0.32,
            0.25,
            0.2,
        ],
        16,
    ),
    ("chat", "weekday"): _profile(
        [
            0.35,
            0.6,
            0.85,
            1.0,
            1.1,
            1.15,
            1.15,
            1.1,
            1.0,
            1.0,
            1.05,
            1.1,
            1.12,
            1.1,
            1.05,
            1.0,
            0.95,
            0.9,
            0.8,
            0.7,
            0.6,
            0.5,
            0.42,
            0.35,
        ],
        16,
    ),
    ("live", "saturday"): _profile([0.7, 0.9, 1.0, 1.0, 0.95, 0.9, 0.8, 0.7], 18),
    ("email", "any"): _profile(
        [0.06] * 12
        + [0.2, 0.35, 0.6, 0.8]
        + [1.0, 1.1, 1.15, 1.15, 1.1, 1.05, 0.95, 0.9, 1.0, 1.05, 1.05, 1.0, 0.95, 0.85, 0.7, 0.6]
        + [0.5, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.12, 0.1, 0.08, 0.07, 0.06]
        + [0.06] * 4,
        0,
    ),
}
# Opening hours for phone and chat (the profiles above): weekdays 08:00-20:00, Saturdays 09:00-13:00.

REASONS = {
    "Benefits": (
        ("Eligibility", 0.30),
        ("Plan coverage", 0.22),
        ("Enrollment change", 0.20),
        ("COBRA", 0.13),
        ("Dependent verification", 0.15),
    ),
    "Import Files": (
        ("File rejected", 0.35),
        ("Missing records", 0.25),
        ("File format", 0.20),
        ("Deadline extension", 0.10),
        ("SFTP access", 0.10),
    ),
    "Debit Card": (
        ("Card declined", 0.32),
        ("Card replacement", 0.22),
        ("Activation", 0.18),
        ("Substantiation request", 0.28),
    ),
    "Accounts": (
        ("Claim status", 0.30),
        ("Balance inquiry", 0.22),
        ("Contribution", 0.18),
        ("Reimbursement", 0.20),
        ("Tax forms", 0.10),
    ),
    "Escalations": (
        ("Claim dispute", 0.35),
        ("Complaint", 0.25),
        ("Data correction", 0.25),
        ("Executive escalation", 0.15),
    ),
}

# Tenure hazard of leaving (per month) by tenure band in days, and the involuntary share per band.
HAZARD_BREAKS = np.array([0.0, 90.0, 365.0, 730.0, 40000.0])
HAZARD_MONTHLY = np.array([0.080, 0.040, 0.025, 0.016])
INVOLUNTARY_SHARE = np.array([0.45, 0.28, 0.22, 0.18])
VOLUNTARY_REASONS = ("Better pay", "Schedule", "Career change", "Relocation", "Personal/family", "Return to school")
INVOLUNTARY_REASONS = ("Attendance", "Performance", "Conduct")
TRAINING_DAYS = 28  # classroom
NESTING_DAYS = 14  # on the phones with support, after training

FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph "
    "Jessica Thomas Sarah Carlos Karen Daniel Lisa Matthew Nancy Anthony Betty Mark Sandra Donald Ashley Steven "
    "Kimberly Andrew Emily Joshua Donna Kevin Michelle Brian Carol George Amanda Timothy Melissa Ronald Deborah "
    "Jason Stephanie Edward Rebecca Jeffrey Sharon Ryan Laura Jacob Cynthia Gary Dorothy Nicholas Amy Eric "
    "Kathleen Jonathan Angela Luis Shirley Justin Brenda Scott Emma Brandon Anna Benjamin Pamela Samuel Nicole "
    "Gregory Samantha Alexander Katherine Patrick Christine Frank Debra Raymond Rachel Jack Carolyn Dennis Janet "
    "Jerry Maria Tyler Olivia Aaron Heather Jose Helen Adam Catherine Nathan Diane Henry Julie Zachary Victoria "
    "Douglas Joyce Peter Lauren Kyle Kelly Noah Christina Ethan Ruth Jeremy Joan Walter Virginia Christian Judith "
    "Keith Evelyn Roger Hannah Terry Andrea Austin Megan Sean Cheryl Gerald Jacqueline Carl Madison Harold Teresa "
    "Dylan Abigail Arthur Sophia Lawrence Martha Jordan Sara Jesse Gloria Bryan Janice Billy Kathryn Bruce Ann "
    "Gabriel Isabella Logan Judy Alan Charlotte Juan Julia Wayne Grace Ralph Amber Roy Alice Eugene Jean Randy "
    "Denise Vincent Frances Russell Danielle Louis Marilyn Philip Natalie Bobby Beverly Johnny Diana Bradley Brittany "
    "Aisha Mohammed Priya Wei Mei Tran Nguyen Rosa Miguel Jamal Keisha Ahmed Fatima Hiroshi Yuki Omar Leila"
).split()
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis "
    "Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera "
    "Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart "
    "Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim "
    "Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo "
    "Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler "
    "Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds "
    "Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford "
    "Castro Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman "
    "Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon "
    "Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice"
).split()
CLIENT_PLACES = (
    "Riverside Summit Lakeview Granite Harbor Pinecrest Blue-Ridge Cedar-Valley Northfield Westbrook Ironwood "
    "Maple-Grove Silver-Creek Oakmont Bayshore Redstone Clearwater Highland Fairhaven Stonebridge Willow-Bend "
    "Eastgate Prairie Coastal Keystone Evergreen Meridian Horizon Liberty Crescent Sterling Copper-Hill Brookside "
    "Falcon Union Heritage Pioneer Cardinal Juniper Ridgeline Magnolia Tidewater Bluestem Canyon Lakeshore"
).split()
CLIENT_KINDS = (
    "Health System|Logistics|Manufacturing|School District|Credit Union|Hospitality Group|Foods|Energy|"
    "Engineering|Retail Group|County Government|Insurance|Construction|Dental Partners|Software|Transit Authority|"
    "University|Senior Living|Auto Group|Pharmacy|Bank|Medical Group|Freight|Utilities"
).split("|")


SAMPLE_HISTORY_YEARS = 16  # the roster's hires reach back 12 years of tenure and a 3-year burn-in


@dataclass(frozen=True)
class SampleConfig:
    """What to generate: seed, first month (YYYY-MM), number of months, front-line agents, clients."""

    start: str
    seed: int = 42
    months: int = 24
    agents: int = 150
    clients: int = 40
    tz: str = TZ
    occupancy: float = 0.75  # planned share of productive time spent handling contacts, on average

    def check(self) -> None:
        """Raise UsageError when a setting cannot make an operation."""
        try:
            first = pd.Period(self.start, freq="M")
        except Exception:
            raise UsageError(f"--start: expected a month as YYYY-MM, got {self.start!r}") from None
        # every date of the sample within what `validate` accepts: years from FIRST_YEAR (core.months; the
        # roster's history reaches up to 12 years of tenure plus a 3-year burn-in before the first month) and
        # no contact after today (a month still running, or to come, would hold some)
        last = last_month_ended(tz=self.tz)
        if first.year < FIRST_YEAR + SAMPLE_HISTORY_YEARS or first + max(self.months, 1) - 1 > last:
            raise UsageError(
                f"--start: expected a month from {FIRST_YEAR + SAMPLE_HISTORY_YEARS}-01 (people are hired up to "
                f"{SAMPLE_HISTORY_YEARS} years before it) with the last month by {last} (the last month ended: "
                f"contacts cannot arrive after today), got {self.start!r} and {counted(self.months, 'month')}"
            )
        if not 1 <= self.months <= 120:
            raise UsageError(f"--months: expected 1 to 120 months, got {self.months}")
        if not 5 <= self.agents <= 5000:
            raise UsageError(f"--agents: expected 5 to 5000 agents, got {self.agents}")
        if not 1 <= self.clients <= 2000:
            raise UsageError(f"--clients: expected 1 to 2000 clients, got {self.clients}")
        if not 0 <= self.seed < 2**63:
            raise UsageError(f"--seed: expected a non-negative integer, got {self.seed}")


@dataclass
class SampleData:
    """The generated tables (typed pandas frames, timestamps tz-aware) and diagnostics of the model."""

    tables: dict[str, pd.DataFrame]
    staffing: (
        pd.DataFrame
    )  # per phone/chat queue and half-hour: group, queue, agents on, load in Erlangs, offered, abandoned
    notes: dict = field(default_factory=dict)


def last_month_ended(today: pd.Timestamp | None = None, tz: str = TZ) -> pd.Period:
    """The month before `today`'s (default: now in `tz`), in the local time zone: the latest a sample may hold."""
    from reportlib.core.months import local_now

    return local_now(tz, today).to_period("M") - 1


def default_start(today: pd.Timestamp | None = None, months: int = 24, tz: str = TZ) -> str:
    """The first month (YYYY-MM) of `months` months ending last month, `today` in the local time zone."""
    return str(last_month_ended(today, tz) - (months - 1))


def _rng(seed: int, stream: int) -> np.random.Generator:
    """An independent random stream per model component, so one component's draws never shift another's."""
    return np.random.default_rng(np.random.SeedSequence([seed, stream]))


# --- calendar -------------------------------------------------------------------------------------


@dataclass
class _Calendar:
    days: pd.DatetimeIndex
    dow: np.ndarray
    month: np.ndarray  # 1..12
    dom: np.ndarray
    closed: np.ndarray  # major holiday: contact centre closed
    reduced: np.ndarray  # minor holiday or holiday eve: open, low volume, many agents off
    reduced_factor: np.ndarray
    day0_ls: int  # local wall-clock seconds since 1970 of the first day's midnight
    holiday_dates: set

    @property
    def n(self) -> int:
        return len(self.days)


_CLOSED_HOLIDAYS = ("New Year's Day", "Memorial Day", "Independence Day", "Labor Day", "Thanksgiving", "Christmas Day")


def _holiday_kinds(years: range) -> dict:
    """Date -> (kind, volume factor): 'closed' on the major US holidays, 'reduced' on the others and eves."""
    out = {}
    for day, name in holidays_lib.US(years=list(years), observed=True).items():
        major = any(name.startswith(h) for h in _CLOSED_HOLIDAYS)
        out[pd.Timestamp(day)] = ("closed", 0.0) if major else ("reduced", 0.45)
    for year in years:
        thanksgiving = [d for d, (k, _) in out.items() if d.year == year and d.month == 11 and k == "closed"]
        for d in thanksgiving:
            out.setdefault(d + pd.Timedelta(days=1), ("reduced", 0.5))
        out.setdefault(pd.Timestamp(year, 12, 24), ("reduced", 0.5))
        out.setdefault(pd.Timestamp(year, 12, 31), ("reduced", 0.6))
    return out


def _calendar(cfg: SampleConfig) -> _Calendar:
    first = pd.Period(cfg.start, freq="M")
    days = pd.date_range(first.start_time, (first + cfg.months - 1).end_time.normalize(), freq="D")
    kinds = _holiday_kinds(range(days[0].year - 4, days[-1].year + 2))
    closed = np.array([kinds.get(d, ("", 1))[0] == "closed" for d in days])
    reduced = np.array([kinds.get(d, ("", 1))[0] == "reduced" for d in days])
    factor = np.array([kinds.get(d, ("", 1.0))[1] for d in days])
    return _Calendar(
        days=days,
        dow=days.dayofweek.to_numpy(),
        month=days.month.to_numpy(),
        dom=days.day.to_numpy(),
        closed=closed,
        reduced=reduced,
        reduced_factor=factor,
        day0_ls=int(days[0].value // 10**9),
        holiday_dates={d for d, (k, _) in kinds.items() if k == "closed"},
    )


# --- clients --------------------------------------------------------------------------------------


def _clients(cfg: SampleConfig) -> tuple[pd.DataFrame, np.ndarray]:
    """The clients table and each client's share of contacts per queue (clients x queues)."""
    rng = _rng(cfg.seed, 1)
    n = cfg.clients
    employees = np.round(np.exp(rng.normal(7.6, 1.3, n))).clip(60, 200_000)
    tier = np.select(
        [employees >= 10_000, employees >= 2_500, employees >= 500], ["Enterprise", "Large", "Mid-Market"], "Small"
    )
    profile_by_tier = {
        "Enterprise": (("gold", "silver"), (0.8, 0.2)),
        "Large": (("silver", "gold", "bronze"), (0.5, 0.35, 0.15)),
        "Mid-Market": (("bronze", "silver", "standard"), (0.6, 0.2, 0.2)),
        "Small": (("standard", "bronze"), (0.8, 0.2)),
    }
    sla = np.array([rng.choice(profile_by_tier[t][0], p=profile_by_tier[t][1]) for t in tier])
    pepm = {"Enterprise": 1.6, "Large": 2.1, "Mid-Market": 2.6, "Small": 3.2}
    fee = np.array([max(750.0, round(e * pepm[t] * rng.uniform(0.85, 1.15), -1)) for e, t in zip(employees, tier)])
    combos = [(p, k) for p in CLIENT_PLACES for k in CLIENT_KINDS]
    order = rng.permutation(len(combos))
    names = []
    for i in range(n):
        place, kind = combos[order[i % len(combos)]]
        suffix = "" if i < len(combos) else f" {i // len(combos) + 1}"
        names.append(f"{place.replace('-', ' ')} {kind}{suffix}")
    width = max(3, len(str(n)))
    ids = [f"C{i + 1:0{width}d}" for i in range(n)]
    clients = pd.DataFrame(
        {"client_id": ids, "client_name": names, "tier": tier, "sla_profile": sla, "monthly_fee": fee}
    )
    # Contact volume grows less than proportionally with size; each client leans to some queues.
    lean = np.exp(rng.normal(0, 0.3, (n, len(QUEUES))))
    lean[:, QUEUES.index("Import Files")] *= np.where(employees < 500, 0.6, 1.0)  # small clients file less
    weight = (employees**0.85)[:, None] * lean
    share = weight / weight.sum(axis=0, keepdims=True)
    return clients, share


# --- roster ---------------------------------------------------------------------------------------


def _cum_hazard(t: np.ndarray) -> np.ndarray:
    """Cumulative hazard of leaving at tenure t days (piecewise-constant monthly hazard)."""
    daily = HAZARD_MONTHLY / 30.44
    knots = np.concatenate([[0.0], np.cumsum(daily * np.diff(HAZARD_BREAKS))])
    return np.interp(t, HAZARD_BREAKS, knots)


def _inverse_cum_hazard(h: np.ndarray) -> np.ndarray:
    daily = HAZARD_MONTHLY / 30.44
    knots = np.concatenate([[0.0], np.cumsum(daily * np.diff(HAZARD_BREAKS))])
    return np.interp(h, knots, HAZARD_BREAKS, right=np.inf)


@dataclass
class _Roster:
    """One entry per person ever employed (burn-in included); days are relative to the window start."""

    hire: np.ndarray
    term: np.ndarray  # first day no longer employed (termination_date + 1); large when still employed
    role: np.ndarray  # 'agent', 'lead', 'supervisor'
    team: np.ndarray
    experience: np.ndarray  # days of prior experience counted in learning curves (experienced hires)
    aht: np.ndarray
    qa: np.ndarray
    adherence: np.ndarray
    absence: np.ndarray
    fte: np.ndarray
    shift: np.ndarray  # start slot
    layout: np.ndarray  # shift layout (see _LAYOUTS)
    home: np.ndarray  # home queue index (0..3)
    saturday: np.ndarray  # -1 no Saturday rotation, else group 0..3
    involuntary: np.ndarray
    reason: np.ndarray
    regretted: np.ndarray
    wage: np.ndarray
    team_site: np.ndarray
    n_teams: int


# Shift layouts: (length in half-hours, paid half-hours, lunch offsets, first-break offsets,
# second-break offsets). Lunch (30 min, unpaid) and 15-minute breaks are staggered per agent-day.
_LAYOUTS = {
    0: (17, 16, (7, 8, 9), (3, 4, 5), (11, 12, 13)),  # full time: 8 h paid + 30 min lunch
    1: (12, 12, (), (2, 3, 4), (8, 9, 10)),  # 6 h
    2: (8, 8, (), (3, 4, 5), ()),  # 4 h
    3: (8, 8, (), (3, 4, 5), ()),  # Saturday 4 h
}
_LAYOUT_FTE = {0: 1.0, 1: 0.75, 2: 0.5}


def _expected_cover(layout: int) -> np.ndarray:
    """Expected productive share of each half-hour of a shift of this layout (before other aux time)."""
    length, _, lunch, b1, b2 = _LAYOUTS[layout]
    out = np.ones(length)
    for offs, loss in ((lunch, 1.0), (b1, 0.5), (b2, 0.5)):
        for o in offs:
            out[o] -= loss / len(offs)
    return out


def _shift_plan(n_agents: int, occupancy: float) -> list[tuple[int, int, float]]:
    """Shift positions (layout, start slot, share of agents), fitted by NNLS to the agents each half-hour needs.

    The need per half-hour of an ordinary weekday is the offered load plus a square-root safety
    margin (square-root staffing), so quiet early and late hours get proportionally more agents than
    their volume.
    Part-time positions (6 h, 4 h) are candidates for the morning peak and the evening.
    """
    cands = (
        [(0, s) for s in range(16, 24)]
        + [(1, s) for s in (18, 20, 24, 26, 28)]
        + [(2, s) for s in (18, 20, 28, 30, 32)]
    )
    cover = np.zeros((SLOTS, len(cands)))
    for k, (lay, start) in enumerate(cands):
        tmpl = _expected_cover(lay)
        cover[start : start + len(tmpl), k] = tmpl
    shape = 0.75 * PROFILE[("phone", "weekday")] + 0.25 * PROFILE[("chat", "weekday")]
    load = 0.8 * occupancy * 10.4 * n_agents * shape  # Erlangs per half-hour on an ordinary weekday
    need = (load + 1.5 * np.sqrt(load) + 0.5)[16:40]
    full = np.array([lay == 0 for lay, _ in cands])
    # errors weighted by 1/sqrt(need): quiet hours count more than their volume, the peak still most;
    # a small penalty on part-time positions keeps them near a fifth of the agents
    weight = need**-0.5 / np.mean(need**-0.5) / need.mean()
    system = np.vstack([cover[16:40] * weight[:, None], np.where(full, 0.0, 0.05)])
    weights, _ = optimize.nnls(system, np.concatenate([need * weight, [0.0]]))
    weights = np.where(full, np.maximum(weights, 0.02 * weights.max()), weights)  # every full-time start keeps a few
    share = weights / weights.sum()
    return [(lay, start, float(w)) for (lay, start), w in zip(cands, share) if w > 0]


SATURDAY_START = 18
TRAINING_START = 17


def _roster(cfg: SampleConfig, cal: _Calendar) -> _Roster:
    """Simulate the team from a 36-month burn-in through the window: hires, exits, replacements."""
    rng = _rng(cfg.seed, 2)
    n_front = cfg.agents
    n_teams = max(1, int(round(n_front / 13)))
    seats = np.full(n_teams, n_front // n_teams)
    seats[: n_front % n_teams] += 1
    agent_seats = np.maximum(seats - 1, 1)  # one lead per team
    n_site0 = int(np.ceil(n_teams * 0.55))
    team_site = np.where(np.arange(n_teams) < n_site0, 0, 1)
    plan = _shift_plan(n_front, cfg.occupancy)

    def pick_shift(role: str, day: int) -> tuple[int, int]:
        """The shift position (layout, start) most short of its planned share among people of this role on `day`.

        New hires fill whatever positions are open, as in a real shift bid; leads work full time.
        """
        positions = [(lay, st, w) for lay, st, w in plan if role == "agent" or lay == 0]
        hire = np.array(people["hire"], dtype=np.int64)
        term = np.array(people["term"], dtype=np.int64)
        on = (hire <= day) & (term > day) & (np.array(people["role"]) == role)
        code = (np.array(people["layout"], dtype=np.int64) * 100 + np.array(people["shift"], dtype=np.int64))[on]
        have = np.array([(code == lay * 100 + st).sum() for lay, st, _ in positions])
        want = np.array([w for _, _, w in positions])
        want = want / want.sum() * (have.sum() + 1)
        k = int(np.argmax(want - have + rng.random(len(positions)) * 1e-3))
        return positions[k][0], positions[k][1]

    home_w = np.array([P_SHARE[(P_QUEUE == q)] @ P_AHT[P_QUEUE == q] for q in range(4)])
    home_w = home_w / home_w.sum()
    first = cal.days[0]
    burn = -int((first - (first - pd.DateOffset(months=36))).days)

    # stationary tenure distribution for the starting staff: density proportional to survival
    grid = np.arange(0, 365 * 12, dtype=float)
    surv = np.exp(-_cum_hazard(grid))
    surv_cdf = np.cumsum(surv) / surv.sum()

    people: dict[str, list] = {
        k: []
        for k in (
            "hire",
            "term",
            "role",
            "team",
            "experience",
            "aht",
            "qa",
            "adherence",
            "absence",
            "fte",
            "shift",
            "layout",
            "home",
            "saturday",
            "involuntary",
            "reason",
            "regretted",
            "wage",
        )
    }

    def add(hire_day: int, role: str, team: int, tenure0: float = 0.0, experience: float = 0.0) -> None:
        qa = float(np.clip(rng.normal(87, 4.5), 65, 98))
        absence = float(np.clip(rng.gamma(2.0, 0.0175), 0.004, 0.25))
        adherence = float(np.clip(rng.normal(0.935, 0.025), 0.82, 0.985))
        risk = np.exp(rng.normal(0, 0.35)) * (absence / 0.035) ** 0.3
        if role == "lead":
            risk *= 0.6
        elif role == "supervisor":
            risk *= 0.4
        e = rng.exponential() / risk
        tenure_exit = float(_inverse_cum_hazard(_cum_hazard(np.array(tenure0)) + e))
        term = hire_day + max(3, int(np.ceil(tenure_exit))) if np.isfinite(tenure_exit) else 10**7
        band = int(np.clip(np.searchsorted(HAZARD_BREAKS, tenure_exit, side="right") - 1, 0, 3))
        p_inv = INVOLUNTARY_SHARE[band] * (0.55 + 0.45 * absence / 0.035) * np.clip(1 + 0.08 * (85 - qa), 0.5, 2.0)
        involuntary = bool(rng.random() < min(p_inv, 0.9))
        layout, shift = pick_shift(role, hire_day + int(tenure0)) if role != "supervisor" else (0, 17)
        fte = _LAYOUT_FTE[layout]
        if involuntary:
            w = np.array([0.35 * absence / 0.035, 0.35 * np.exp((86 - qa) / 4) * (2.0 if band == 0 else 1.0), 0.15])
            reason = INVOLUNTARY_REASONS[rng.choice(3, p=w / w.sum())]
            regretted = False
        else:
            schedule = 1.8 if shift >= 21 or layout > 0 else 1.0  # late and part-time shifts
            w = np.array([0.30, 0.18 * schedule, 0.17, 0.10, 0.13, 0.07 * (2 if band == 0 else 1)])
            reason = VOLUNTARY_REASONS[rng.choice(6, p=w / w.sum())]
            regretted = bool(rng.random() < (0.7 if qa >= 87 else 0.2))
        base_wage = {"agent": 19.0, "lead": 25.5, "supervisor": 32.0}[role]
        people["hire"].append(int(hire_day))
        people["term"].append(int(term))
        people["role"].append(role)
        people["team"].append(int(team))
        people["experience"].append(float(experience))
        people["aht"].append(float(np.exp(rng.normal(0, 0.13))))
        people["qa"].append(qa)
        people["adherence"].append(adherence)
        people["absence"].append(absence)
        people["fte"].append(fte)
        people["shift"].append(shift)
        people["layout"].append(layout)
        people["home"].append(int(rng.choice(4, p=home_w)))
        rotates = fte == 1.0 and role == "agent" and rng.random() < 0.6
        people["saturday"].append(int(rng.integers(0, 4)) if rotates else -1)
        people["involuntary"].append(involuntary)
        people["reason"].append(reason)
        people["regretted"].append(regretted)
        people["wage"].append(base_wage + rng.normal(0, 0.8) + (0.6 if team_site[team] == 1 else 0.0))

    def stationary_tenure() -> float:
        return float(np.searchsorted(surv_cdf, rng.random()))

    for t in range(n_teams):
        tenure = stationary_tenure() * 2 + 365
        add(burn - int(tenure), "supervisor", t, tenure0=tenure, experience=730)
        tenure = stationary_tenure() + 365
        add(burn - int(tenure), "lead", t, tenure0=tenure, experience=365)
        for _ in range(agent_seats[t]):
            tenure = stationary_tenure()
            add(burn - int(tenure), "agent", t, tenure0=tenure)

    seasonal = {11: 1.06, 12: 1.08, 1: 1.10, 2: 1.04}  # headcount target by month, relative to seats
    month = first - pd.DateOffset(months=35)
    end = cal.days[-1]
    while month <= end:
        d0 = int((month - first).days)
        class_day = d0 + (7 - month.dayofweek) % 7  # first Monday of the month
        while (first + pd.Timedelta(days=class_day)) in cal.holiday_dates:
            class_day += 1
        hire = np.array(people["hire"])
        term = np.array(people["term"])
        role = np.array(people["role"])
        team = np.array(people["team"])
        active = (hire <= class_day) & (term > class_day)
        # lead and supervisor seats left empty are filled by experienced hires on the class day
        for r, exp_days in (("lead", 365), ("supervisor", 730)):
            for t in range(n_teams):
                if not np.any(active & (role == r) & (team == t)):
                    add(class_day, r, t, experience=exp_days)
        # the agent class: sized for the target in two months, when it comes off training and
        # nesting, allowing for expected exits meanwhile
        counts = np.bincount(team[active & (role == "agent")], minlength=n_teams)
        target_month = (month + pd.DateOffset(months=2)).month
        target = agent_seats * seasonal.get(target_month, 1.0)
        size = int(round(target.sum() - counts.sum() * (1 - 0.05)))
        if size >= 4:
            size = int(np.clip(size, 6, 14))
            gap = target - counts
            for _ in range(size):
                t = int(np.argmax(gap + rng.random(n_teams) * 0.01))
                gap[t] -= 1
                add(class_day, "agent", t)
        month = month + pd.DateOffset(months=1)

    arr = {k: np.array(v) for k, v in people.items()}
    return _Roster(team_site=team_site, n_teams=n_teams, **arr)


def _agents_table(cfg: SampleConfig, cal: _Calendar, ros: _Roster) -> tuple[pd.DataFrame, np.ndarray]:
    """The agents table (people employed from 12 months before the window to its end) and their roster index."""
    rng = _rng(cfg.seed, 3)
    n_days = cal.n
    keep = (ros.term > -365) & (ros.hire < n_days)
    role_order = np.select([ros.role == "supervisor", ros.role == "lead"], [0, 1], 2)
    idx = np.flatnonzero(keep)
    idx = idx[np.lexsort((idx, role_order[idx], ros.hire[idx]))]
    n_all = len(ros.hire)
    # unique names for everyone simulated (so that ids and names never collide)
    combos = len(FIRST_NAMES) * len(LAST_NAMES)
    pick = rng.choice(combos, size=min(n_all, combos), replace=False)
    names = [f"{FIRST_NAMES[c // len(LAST_NAMES)]} {LAST_NAMES[c % len(LAST_NAMES)]}" for c in pick]
    names += [f"Agent {i}" for i in range(len(names), n_all)]
    managers = [
        f"{FIRST_NAMES[(7 * i + 3) % len(FIRST_NAMES)]} {LAST_NAMES[(11 * i + 5) % len(LAST_NAMES)]}"
        for i in range(len(SITES))
    ]
    team_names = []
    per_site = [0, 0]
    for t in range(ros.n_teams):
        s = ros.team_site[t]
        per_site[s] += 1
        team_names.append(f"{SITES[s]} {per_site[s]}")
    # supervisor of record: the team's supervisor on the person's last day in the data
    sup_idx = np.flatnonzero(ros.role == "supervisor")
    supervisor = []
    for i in idx:
        if ros.role[i] == "supervisor":
            supervisor.append(managers[ros.team_site[ros.team[i]]])
            continue
        ref = min(ros.term[i], n_days) - 1
        cand = sup_idx[(ros.team[sup_idx] == ros.team[i]) & (ros.hire[sup_idx] <= ref)]
        on = cand[ros.term[cand] > ref]
        chosen = on[0] if len(on) else cand[np.argmax(ros.term[cand])]
        supervisor.append(names[chosen])
    width = max(4, len(str(len(idx))))
    agent_ids = np.array([f"A{k + 1:0{width}d}" for k in range(len(idx))])
    terminated = ros.term[idx] <= n_days  # the last employed day is inside the window
    hire_date = cal.days[0] + pd.to_timedelta(ros.hire[idx], unit="D")
    term_date = pd.Series(cal.days[0] + pd.to_timedelta(np.where(terminated, ros.term[idx] - 1, 0), unit="D"))
    term_date[~terminated] = pd.NaT
    tenure_end = (np.minimum(ros.term[idx], n_days) - ros.hire[idx] + ros.experience[idx]) / 365.0
    cost = (ros.wage[idx] + 0.7 * np.minimum(tenure_end, 6)) * 1.32
    frame = pd.DataFrame(
        {
            "agent_id": agent_ids,
            "name": [names[i] for i in idx],
            "team": [team_names[ros.team[i]] for i in idx],
            "supervisor": supervisor,
            "site": [SITES[ros.team_site[ros.team[i]]] for i in idx],
            "role": ros.role[idx],
            "hire_date": hire_date.to_numpy(),
            "termination_date": term_date.to_numpy(),
            "termination_type": pd.Series(np.where(ros.involuntary[idx], "involuntary", "voluntary")).where(terminated),
            "termination_reason": pd.Series(ros.reason[idx]).where(terminated),
            "regretted": pd.Series(ros.regretted[idx], dtype="boolean").where(terminated),
            "fte": ros.fte[idx],
            "hourly_cost": np.round(cost, 2),
        }
    )
    frame["termination_type"] = frame["termination_type"].astype(object).where(terminated, None)
    frame["termination_reason"] = frame["termination_reason"].astype(object).where(terminated, None)
    return frame, idx


# --- schedules ------------------------------------------------------------------------------------


@dataclass
class _Days:
    """Scheduled agent-days (one row per agent per scheduled day)."""

    person: np.ndarray
    day: np.ndarray
    layout: np.ndarray
    start: np.ndarray
    training: np.ndarray
    nesting: np.ndarray
    lead: np.ndarray
    absent: np.ndarray
    scheduled_s: np.ndarray
    logged_in_s: np.ndarray
    aux: dict  # name -> seconds
    in_adherence_s: np.ndarray
    productive_s: np.ndarray
    frac: np.ndarray  # rows x 48 productive share of each half-hour
    factor: np.ndarray  # handle-time multiplier of the agent that day
    tenure: np.ndarray
    group: np.ndarray | None = None  # skill group of the agent-day (-1: not on contacts)
    absent_rows: np.ndarray | None = None  # rows absent unplanned (not in training)
    absent_frac: np.ndarray | None = None  # those rows x 48: the productive share they were scheduled for


def _schedules(cfg: SampleConfig, cal: _Calendar, ros: _Roster) -> _Days:
    rng = _rng(cfg.seed, 4)
    n_days = cal.n
    front = np.flatnonzero(ros.role != "supervisor")
    lo = np.clip(ros.hire[front], 0, n_days)
    hi = np.clip(ros.term[front], 0, n_days)
    length = np.maximum(hi - lo, 0)
    person = np.repeat(front, length)
    day = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length) + np.repeat(lo, length)
    tenure = day - ros.hire[person]
    dow, month = cal.dow[day], cal.month[day]
    is_lead = ros.role[person] == "lead"
    training = np.where(is_lead, tenure < 10, tenure < TRAINING_DAYS)
    nesting = ~is_lead & (tenure >= TRAINING_DAYS) & (tenure < TRAINING_DAYS + NESTING_DAYS)

    # planned time off: vacation weeks (month-weighted) and single days
    month_w = np.array([0.3, 0.9, 1.2, 1.0, 1.0, 1.5, 2.0, 2.0, 1.0, 0.9, 0.4, 1.6])
    pto = np.zeros(len(day), bool)
    mondays = np.flatnonzero(cal.dow == 0)
    row_start = np.concatenate([[0], np.cumsum(length)])
    for k, p in enumerate(front):
        if length[k] == 0:
            continue
        eligible = mondays[(mondays >= max(lo[k], ros.hire[p] + 90)) & (mondays + 5 <= hi[k])]
        eligible = eligible[~((cal.month[eligible] == 1) & (cal.dom[eligible] <= 21))]
        n_weeks = rng.poisson(1.8 * length[k] / 365.0)
        if n_weeks == 0 or len(eligible) == 0:
            continue
        w = month_w[cal.month[eligible] - 1]
        chosen = rng.choice(eligible, size=min(n_weeks, len(eligible)), replace=False, p=w / w.sum())
        for m in chosen:
            pto[row_start[k] + (m - lo[k]) : row_start[k] + (m - lo[k]) + 5] = True
    pto |= (rng.random(len(day)) < 0.02 * month_w[month - 1]) & (tenure >= 90)
    pto |= cal.reduced[day] & (rng.random(len(day)) < 0.45)
    pto &= ~training

    weekday = (dow < 5) & ~cal.closed[day]
    week = (day + cal.dow[0]) // 7
    saturday = (
        (dow == 5)
        & ~cal.closed[day]
        & (ros.saturday[person] >= 0)
        & (week % 4 == ros.saturday[person])
        & ~training
        & ~nesting
    )
    sched = (weekday | saturday) & ~pto
    person, day, tenure, dow, month = person[sched], day[sched], tenure[sched], dow[sched], month[sched]
    training, nesting, is_lead, saturday = training[sched], nesting[sched], is_lead[sched], saturday[sched]
    n = len(day)

    # unplanned absence: trait x weekday x season x near holidays x notice period before a voluntary exit
    dow_m = np.array([1.3, 0.95, 0.85, 0.9, 1.25, 1.0, 1.0])[dow]
    season_m = np.where(np.isin(month, (1, 2)), 1.25, 1.0)
    near_hol = np.zeros(n_days, bool)
    hol = np.flatnonzero(cal.closed)
    for off in (-1, 1):
        near_hol[np.clip(hol + off, 0, n_days - 1)] = True
    leaving = (ros.term[person] - day <= 45) & ~ros.involuntary[person]
    p_abs = ros.absence[person] * dow_m * season_m * np.where(near_hol[day], 1.4, 1.0) * np.where(leaving, 1.8, 1.0)
    absent = rng.random(n) < np.where(training, 0.5, 1.0) * p_abs

    layout = np.where(saturday, 3, np.where(training, 0, ros.layout[person]))
    start = np.where(saturday, SATURDAY_START, np.where(training, TRAINING_START, ros.shift[person]))
    paid = np.array([_LAYOUTS[k][1] for k in range(4)])[layout]
    scheduled = paid * SLOT_S
    breaks = np.array([(len(_LAYOUTS[k][3]) > 0) + (len(_LAYOUTS[k][4]) > 0) for k in range(4)])[layout] * 900

    adh = ros.adherence[person] - 0.03 * np.exp(-tenure / 120.0)
    slack = np.clip(0.95 - adh, 0, None)
    overrun = np.round(rng.exponential(60 + 2500 * slack)).clip(0, 1800)
    late = np.where(rng.random(n) < 0.05 + 2.0 * slack, np.round(rng.exponential(420, n)), 0).clip(0, 1800)
    early = np.where(rng.random(n) < 0.015, np.round(rng.uniform(900, 5400, n)), 0)
    early = np.minimum(early, scheduled // 3)
    aux_other = np.round(rng.gamma(2.0, (300 + 3000 * slack) / 2.0 * 1.0)).clip(0, 3600)
    team = ros.team[person]
    meeting = np.where((dow == team % 5) & ~saturday, 1800, 0)
    all_hands = (cal.dom[day] <= 7) & (dow == 2)
    meeting = meeting + np.where(all_hands, 3600, 0)
    p_coach = 0.08 + np.where(tenure < 120, 0.10, 0.0) + np.where(ros.qa[person] < 82, 0.06, 0.0)
    coaching = np.where(rng.random(n) < p_coach, 1800, 0)
    coaching = np.where(is_lead, 9000, coaching)  # leads: side-by-sides, call reviews, floor support
    p_learn = 0.03 * np.select([month == 10, month == 12], [4.0, 2.0], 1.0)
    learning = np.where(nesting, 3600, np.where(rng.random(n) < p_learn, 3600, 0))
    meeting, coaching, learning, aux_other = (
        np.where(saturday, 0, x) for x in (meeting, coaching, learning, aux_other)
    )

    # training days: the whole day is classroom time
    break_s = np.where(training, breaks + np.minimum(overrun, 300), breaks + overrun)
    logged = scheduled - late - early
    aux_train = np.where(training, 0, learning)
    aux_meet = np.where(training, 0, meeting)
    aux_coach = np.where(training, 0, coaching)
    aux_oth = np.where(training, 0, aux_other)
    # keep at least 35% of logged-in time for contacts: trim other, learning, coaching, meeting in turn
    room = np.where(training, 0, logged - break_s - 0.35 * scheduled)
    trimmed = []
    for x in (aux_oth, aux_train, aux_coach, aux_meet):
        y = np.minimum(x, np.maximum(room, 0))
        room = room - y
        trimmed.append(y)
    aux_oth, aux_train, aux_coach, aux_meet = trimmed
    aux_train = np.where(training, logged - break_s, aux_train)
    productive = logged - break_s - aux_train - aux_coach - aux_meet - aux_oth
    oos = np.round(rng.exponential(240 + 4000 * slack))
    adherent = scheduled - late - early - overrun - 0.5 * aux_oth - oos
    adherent = np.clip(adherent, 0.5 * scheduled, scheduled)
    # absent days: nothing logged, the whole scheduled time is unplanned shrinkage
    productive_planned = productive.copy()
    zero = lambda x: np.where(absent, 0, x)  # noqa: E731
    logged, break_s, aux_train, aux_coach, aux_meet, aux_oth, productive, adherent = map(
        zero, (logged, break_s, aux_train, aux_coach, aux_meet, aux_oth, productive, adherent)
    )

    # intraday shape: productive share per half-hour (breaks 0.5, lunch 0, aux blocks taken out)
    shape = np.zeros((n, SLOTS), np.float32)
    for lay, (length, _, lunch, b1, b2) in _LAYOUTS.items():
        rows = np.flatnonzero(layout == lay)
        shape[rows[:, None], start[rows, None] + np.arange(length)[None, :]] = 1.0
        for offs, value in ((lunch, 0.0), (b1, 0.5), (b2, 0.5)):
            if offs:
                col = start[rows] + np.array(offs)[rng.integers(0, len(offs), len(rows))]
                shape[rows, col] = value
    block = (aux_meet + aux_coach + aux_train) / SLOT_S
    key = np.where(shape == 1, rng.random(shape.shape), -1.0)
    order = np.argsort(-key, axis=1)
    for k in range(int(np.ceil(block.max())) if n else 0):
        take = np.clip(block - k, 0, 1).astype(np.float32)
        col = order[:, k]
        shape[np.arange(n), col] = np.maximum(shape[np.arange(n), col] - take * (key[np.arange(n), col] > 0), 0)
    total = shape.sum(axis=1) * SLOT_S
    scale = np.divide(productive, total, out=np.zeros(n), where=total > 0)
    frac = np.minimum(shape * scale[:, None].astype(np.float32), 1.0)
    absent_rows = np.flatnonzero(absent & ~training)
    planned_scale = np.divide(
        productive_planned[absent_rows],
        total[absent_rows],
        out=np.zeros(len(absent_rows)),
        where=total[absent_rows] > 0,
    )
    absent_frac = np.minimum(shape[absent_rows] * planned_scale[:, None].astype(np.float32), 1.0)
    frac[absent | training] = 0

    experience = tenure + ros.experience[person]
    factor = ros.aht[person] * (1 + 0.5 * np.exp(-experience / 70.0))
    return _Days(
        person=person,
        day=day,
        layout=layout,
        start=start,
        training=training,
        nesting=nesting,
        lead=is_lead,
        absent=absent,
        scheduled_s=scheduled.astype(float),
        logged_in_s=logged.astype(float),
        aux={
            "aux_break_s": break_s.astype(float),
            "aux_meeting_s": aux_meet.astype(float),
            "aux_training_s": aux_train.astype(float),
            "aux_coaching_s": aux_coach.astype(float),
            "aux_other_s": aux_oth.astype(float),
        },
        in_adherence_s=np.round(adherent).astype(float),
        productive_s=productive.astype(float),
        frac=frac,
        factor=factor,
        tenure=tenure,
        absent_rows=absent_rows,
        absent_frac=absent_frac,
    )


# --- demand ---------------------------------------------------------------------------------------


def surge_days(cal_days: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The days of the last month's generated Debit Card surge: its second Tuesday and the day after."""
    last = cal_days[cal_days.to_period("M") == cal_days[-1].to_period("M")]
    tuesdays = last[last.dayofweek == 1]
    return tuesdays[1:2].append(tuesdays[1:2] + pd.Timedelta(days=1)) if len(tuesdays) > 1 else last[:0]


def _day_factors(cfg: SampleConfig, cal: _Calendar) -> tuple[np.ndarray, np.ndarray]:
    """Expected volume of each pool on each day relative to an ordinary Wednesday (pools x days), and the
    part of it a forecaster knows (season, trend, calendar, deadlines: no day noise, incidents or surge)."""
    rng = _rng(cfg.seed, 5)
    doy = cal.days.dayofyear.to_numpy().astype(float)
    mid = np.array([15, 45, 74, 105, 135, 166, 196, 227, 258, 288, 319, 349], float)
    xs = np.concatenate([mid - 365, mid, mid + 365])
    season = {q: np.interp(doy, xs, np.tile(SEASON[q], 3)) for q in QUEUES}
    jan = (cal.month == 1) & (cal.dom >= 2)
    surge = 1 + np.where(jan, 0.35 * np.exp(-(cal.dom - 2) / 7.0), 0.0)
    late_dec = (cal.month == 12) & (cal.dom >= 22)
    # open enrollment, 1 November - 15 December (the window of parameters/calendar.yaml)
    enrollment = (cal.month == 11) | ((cal.month == 12) & (cal.dom <= 15))
    enrollment_lift = {"Benefits": 1.30, "Accounts": 1.08, "Escalations": 1.10}
    years = (cal.days - cal.days[0]).days.to_numpy() / 365.25
    trend = 1.05**years
    # business day of the month, for the Import Files deadlines
    open_day = (cal.dow < 5) & ~cal.closed
    month_key = cal.days.year.to_numpy() * 12 + cal.month
    bday = np.zeros(cal.n, int)
    count, last = 0, None
    for d in range(cal.n):
        if month_key[d] != last:
            count, last = 0, month_key[d]
        if open_day[d]:
            count += 1
        bday[d] = count
    deadline = np.select([bday <= 2, bday == 3, bday <= 5], [2.0, 1.6, 1.25], 0.85)
    out = np.zeros((len(POOLS), cal.n))
    known = np.zeros((len(POOLS), cal.n))
    surge_event = np.ones(cal.n)
    for k, d in enumerate(surge_days(cal.days)):
        surge_event[cal.days.get_loc(d)] = SURGE_FACTORS[k]
    for qi, q in enumerate(QUEUES):
        noise = np.exp(rng.normal(0, 0.06, cal.n))
        incident = np.ones(cal.n)
        if q in ("Debit Card", "Import Files", "Accounts"):
            hit = open_day & (rng.random(cal.n) < 1 / 90)
            incident[hit] = rng.uniform(1.6, 2.4, hit.sum())
        base = season[q] * surge * trend * np.where(late_dec, 0.8, 1.0)
        base = base * np.where(enrollment, enrollment_lift.get(q, 1.0), 1.0)
        if q == "Import Files":
            base = base * deadline
        if q == "Debit Card":
            base = base * (1 + np.where(jan, 0.25 * np.exp(-(cal.dom - 2) / 10.0), 0.0))
        unknown = noise * incident * (surge_event if q == SURGE_QUEUE else 1.0)
        holiday = np.where(cal.reduced, cal.reduced_factor, 1.0)
        for p in np.flatnonzero(P_QUEUE == qi):
            if P_CHANNEL[p] == 2:
                known[p] = base * DOW_EMAIL[cal.dow] * np.where(cal.closed, 0.25, holiday)
            else:
                known[p] = base * DOW_LIVE[cal.dow] * np.where(cal.closed, 0.0, holiday)
            out[p] = known[p] * unknown
    return out, known


def _intraday(cal: _Calendar) -> np.ndarray:
    """Share of each day's volume per half-hour for each pool (pools x days x 48)."""
    prof = np.zeros((len(POOLS), cal.n, SLOTS))
    sat = cal.dow == 5
    for p in range(len(POOLS)):
        if P_CHANNEL[p] == 2:
            prof[p] = PROFILE[("email", "any")]
        else:
            ch = "phone" if P_CHANNEL[p] == 0 else "chat"
            prof[p] = np.where(sat[:, None], PROFILE[("live", "saturday")], PROFILE[(ch, "weekday")])
    return prof


# --- skill groups --------------------------------------------------------------------------------


def _assign_groups(
    cfg: SampleConfig, cal: _Calendar, days: _Days, need: np.ndarray, email_work: np.ndarray
) -> np.ndarray:
    """Put each working agent-day in one skill group, as a planner matching shifts to the intraday need.

    `need` is agents needed per group, day and half-hour (phone, chat); `email_work` is email's
    daily workload in agent-half-hours, to which the planners add half the backlog they expect to
    be carrying. The day's capacity is shared in proportion to need. Leads
    and nesting agents take phone calls; the others, in random order, join the group where their
    shift covers most of the still-open need (email counting a little less, as phone and chat come
    first). Written by hand: a greedy rostering rule.
    """
    rng = _rng(cfg.seed, 6)
    group = np.full(len(days.day), -1)
    working = (days.productive_s > 0) & ~days.absent & ~days.training
    order_days = np.argsort(days.day, kind="stable")
    bounds = np.searchsorted(days.day[order_days], np.arange(cal.n + 1))
    live = [G_PHONE, G_CHAT]
    backlog = 0.0  # expected email work waiting, agent-half-hours (a fluid estimate)
    for d in range(cal.n):
        rows = order_days[bounds[d] : bounds[d + 1]]
        rows = rows[working[rows]]
        if len(rows) == 0:
            backlog += email_work[d]
            continue
        rows = rows[rng.permutation(len(rows))]
        gap = need[live, d, :].copy()
        # email: today's workload plus half of the backlog the planners expect to be carrying
        email_gap = 0.0 if cal.dow[d] == 5 else float(GROUP_BIAS[G_EMAIL] * email_work[d] + 0.35 * backlog)
        # share the day's capacity in proportion to need: short days spread the shortfall, long days the slack
        scale = days.frac[rows].sum() / max(gap.sum() + email_gap, 1e-9)
        gap *= scale
        email_gap *= scale
        fixed = days.lead[rows] | days.nesting[rows]
        for k in np.flatnonzero(fixed):
            group[rows[k]] = G_PHONE
            gap[0] -= days.frac[rows[k]]
        for k in np.flatnonzero(~fixed):
            f = days.frac[rows[k]]
            gains = np.minimum(f[None, :], np.maximum(gap, 0)).sum(axis=1)
            e_gain = 0.95 * min(f.sum(), max(email_gap, 0.0))
            best = int(np.argmax(gains))
            if e_gain > gains[best] or (gains.max() <= 0 and email_gap > 0):
                group[rows[k]] = G_EMAIL
                email_gap -= f.sum()
            elif gains.max() > 0:
                group[rows[k]] = live[best]
                gap[best] -= f
            else:  # nothing left open: join the group whose need is least covered
                best = int(np.argmax(gap.sum(axis=1)))
                group[rows[k]] = live[best]
                gap[best] -= f
        backlog = max(0.0, backlog + email_work[d] - days.frac[rows[group[rows] == G_EMAIL]].sum())
    return group


def _spread(
    e_key: np.ndarray, e_row: np.ndarray, e_weight: np.ndarray, keys: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Agent-day rows for contacts answered in cells `keys`, in proportion to the agents' weights there.

    Systematic sampling within each cell (every agent gets the floor or ceiling of its share) with
    the contacts in random order; -1 where the cell has no agent.
    """
    order = np.argsort(e_key, kind="stable")
    ek, er = e_key[order], e_row[order]
    cw = np.cumsum(e_weight[order])
    h = np.argsort((keys.astype(np.int64) << 24) | rng.integers(0, 1 << 24, len(keys)), kind="stable")
    k = keys[h]
    first = np.searchsorted(ek, k, side="left")
    last = np.searchsorted(ek, k, side="right")
    starts = np.concatenate([[0], np.flatnonzero(np.diff(k)) + 1]) if len(k) else np.array([], int)
    sizes = np.diff(np.concatenate([starts, [len(k)]]))
    rank = np.arange(len(k)) - np.repeat(starts, sizes)
    base = np.where(first > 0, cw[np.maximum(first - 1, 0)], 0.0)
    span = cw[np.maximum(last - 1, 0)] - base
    u = np.repeat(rng.random(len(starts)), sizes)
    pick = np.searchsorted(cw, base + (rank + u) / np.repeat(sizes, sizes) * span, side="right")
    pick = np.clip(pick, first, np.maximum(last - 1, first))
    out = np.full(len(keys), -1)
    has = last > first
    out[h[has]] = er[pick[has]]
    return out


def _rebalance(
    rows: np.ndarray,
    handle: np.ndarray,
    keys: np.ndarray,
    e_key: np.ndarray,
    e_row: np.ndarray,
    productive: np.ndarray,
    factor: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Move contacts off agent-days whose handle time exceeds their productive time (s).

    Each moved contact goes to the agent on in the same group and half-hour with the most spare
    time, as routing to the longest-idle agent would; its handle time scales with that agent's
    speed. Returns the new agent-day row and handle_s per contact. Written by hand: a sequential
    balancing rule with no library equivalent.
    """
    rows, handle = rows.copy(), handle.copy()
    slack = productive - np.bincount(rows, weights=handle, minlength=len(productive))
    over = np.flatnonzero(slack < 0)
    if len(over) == 0:
        return rows, handle
    by_row = np.argsort(rows, kind="stable")
    sorted_rows = rows[by_row]
    order = np.argsort(e_key, kind="stable")
    ek, er = e_key[order], e_row[order]
    over = over[np.argsort(slack[over], kind="stable")]
    row_lo = np.searchsorted(sorted_rows, over, "left")
    row_hi = np.searchsorted(sorted_rows, over, "right")
    key_lo = np.searchsorted(ek, keys, "left")
    key_hi = np.searchsorted(ek, keys, "right")
    for r, lo, hi in zip(over.tolist(), row_lo.tolist(), row_hi.tolist()):
        mine = by_row[lo:hi]
        for c in mine[np.argsort(-handle[mine], kind="stable")].tolist():
            if slack[r] >= 0:
                break
            cands = er[key_lo[c] : key_hi[c]]
            cands = cands[cands != r]
            if len(cands) == 0:
                continue
            best = cands[np.argmax(slack[cands])]
            new_h = max(30.0, round(handle[c] * factor[best] / factor[r]))
            if slack[best] < new_h:
                continue
            slack[r] += handle[c]
            slack[best] -= new_h
            rows[c], handle[c] = best, new_h
    return rows, handle


# --- queueing -------------------------------------------------------------------------------------


def erlang_a_waits(
    n: np.ndarray,
    lam: np.ndarray,
    aht: np.ndarray,
    patience: np.ndarray,
    counts: np.ndarray,
    rng: np.random.Generator,
    m_max: int = 160,
) -> tuple[np.ndarray, np.ndarray]:
    """Each contact's wait (s) and whether it abandoned, in M/M/n+M queues at steady state, per group.

    Group g has n[g] agents, arrival rate lam[g] (per s), mean handle aht[g] (s), mean patience
    patience[g] (s) and counts[g] arrivals; the result is ordered by group. Written by hand because
    Erlang formulas give averages, while the sample needs each contact's own wait: an arrival sees
    the steady-state number in system j (PASTA); if j >= n it waits behind m = j - n others, its
    virtual wait is a sum of exponentials with rates n*mu + i*theta (i = 0..m; approximated by a
    gamma of equal mean and variance), and it abandons when its own exponential patience is shorter.
    """
    mu, theta = 1.0 / aht, 1.0 / patience
    total = int(counts.sum())
    group = np.repeat(np.arange(len(n)), counts)
    u = rng.random(total)
    state = np.empty(total, np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)])
    chunk = 3000
    for c0 in range(0, len(n), chunk):
        c1 = min(len(n), c0 + chunk)
        nn = n[c0:c1, None].astype(float)
        width = int(n[c0:c1].max()) + m_max + 1
        j = np.arange(width, dtype=float)[None, :]
        log_a = np.log(lam[c0:c1] / mu[c0:c1])[:, None]
        low = j * log_a - special.gammaln(j + 1)
        k = np.maximum(j - nn, 1)
        incr = np.where(j > nn, np.log(lam[c0:c1, None]) - np.log(nn * mu[c0:c1, None] + k * theta[c0:c1, None]), 0.0)
        high = nn * log_a - special.gammaln(nn + 1) + np.cumsum(incr, axis=1)
        logw = np.where(j <= nn, low, high)  # log of unnormalized state probabilities
        logw -= logw.max(axis=1, keepdims=True)
        cdf = np.cumsum(np.exp(logw), axis=1)
        cdf /= cdf[:, -1:]
        cdf[:, -1] = 1.0
        s0, s1 = starts[c0], starts[c1]
        g = group[s0:s1] - c0
        flat = (cdf + np.arange(c1 - c0)[:, None]).ravel()
        pos = np.searchsorted(flat, u[s0:s1] + g, side="right")
        state[s0:s1] = np.clip(pos - g * width, 0, width - 1)
    ng = n[group]
    waits = np.flatnonzero(state >= ng)
    g = group[waits]
    m = state[waits] - ng[waits]
    th = theta[g]
    c = n[g] * mu[g] / th  # in units of theta: the queue ahead shrinks at rate theta * (c + i)
    staffed = c > 0
    mean = np.full(len(waits), np.inf)
    var = np.ones(len(waits))
    cs, ms, ts = c[staffed], m[staffed], th[staffed]
    mean[staffed] = (special.digamma(cs + ms + 1) - special.digamma(cs)) / ts
    var[staffed] = (special.polygamma(1, cs) - special.polygamma(1, cs + ms + 1)) / ts**2
    virtual = np.full(len(waits), np.inf)
    virtual[staffed] = rng.gamma(mean[staffed] ** 2 / var[staffed], var[staffed] / mean[staffed])
    patience_draw = rng.exponential(1.0 / th)
    gave_up = patience_draw < virtual
    wait = np.zeros(total)
    abandoned = np.zeros(total, bool)
    wait[waits] = np.where(gave_up, patience_draw, virtual)
    abandoned[waits] = gave_up
    return wait, abandoned


# --- time helpers ---------------------------------------------------------------------------------


def _localize(local_s: np.ndarray, tz: str) -> tuple[np.ndarray, np.ndarray]:
    """Wall-clock seconds -> (valid wall-clock seconds, UTC offset seconds).

    Times in the spring-forward gap move forward an hour; times in the fall-back fold take standard time.
    """
    idx = pd.DatetimeIndex(local_s.astype("datetime64[s]"))
    loc = idx.tz_localize(tz, ambiguous=np.zeros(len(idx), bool), nonexistent="shift_forward")
    utc = loc.as_unit("s").asi8
    wall = loc.tz_localize(None).as_unit("s").asi8
    return wall, wall - utc


def _arrow_ids(prefix: str, numbers: np.ndarray, width: int) -> pd.arrays.ArrowStringArray:
    """Ids like K0000001 built in Arrow (fast for millions)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width, "0")
    return pd.arrays.ArrowStringArray(pc.binary_join_element_wise(pa.scalar(prefix), digits, ""))


def _tz_series(local_s: np.ndarray, tz: str) -> pd.Series:
    """Wall-clock seconds as a tz-aware pandas Series."""
    idx = pd.DatetimeIndex(local_s.astype("datetime64[s]"))
    return pd.Series(idx.tz_localize(tz, ambiguous=np.zeros(len(idx), bool), nonexistent="shift_forward"))


# --- the whole operation --------------------------------------------------------------------------


def _planned_occupancy(cfg: SampleConfig) -> float:
    """Share of productive time planned on contacts: `cfg.occupancy` for 150 agents, less for smaller teams.

    Square-root staffing: n = a + sqrt(a) agents carry a load of a Erlangs at a steady service
    level, so occupancy a/n falls as the team (and its peak load, ~0.27 Erlangs per agent) shrinks.
    """

    def occ(agents: int) -> float:
        return 1.0 / (1.0 + 1.0 / np.sqrt(0.27 * agents))

    return float(min(0.85, cfg.occupancy * occ(cfg.agents) / occ(150)))


def generate_roster(cfg: SampleConfig) -> pd.DataFrame:
    """The agents table alone (quick: no contacts), e.g. to study attrition on a large roster."""
    cfg.check()
    cal = _calendar(cfg)
    return _agents_table(cfg, cal, _roster(cfg, cal))[0]


def generate_sample(cfg: SampleConfig) -> SampleData:
    """The sample operation: contacts, agents, agent_activity, qa_evaluations, clients (seconds, local time)."""
    cfg.check()
    t0 = time.perf_counter()
    cal = _calendar(cfg)
    n_days = cal.n
    clients, client_share = _clients(cfg)
    ros = _roster(cfg, cal)
    agents, roster_idx = _agents_table(cfg, cal, ros)
    agent_id_of = np.full(len(ros.hire), "", dtype=object)
    agent_id_of[roster_idx] = agents["agent_id"].to_numpy()
    days = _schedules(cfg, cal, ros)

    # demand: expected arrivals per pool, day and half-hour, scaled so that the planned staff is busy
    # `_planned_occupancy` of its productive time on average
    day_factor, known_factor = _day_factors(cfg, cal)
    prof = _intraday(cal)
    work_day = day_factor * (P_SHARE * P_AHT)[:, None]
    working = (days.productive_s > 0) & ~days.absent & ~days.training
    mean_factor = (
        days.productive_s[working].sum() / (days.productive_s[working] / days.factor[working]).sum()
        if working.any()
        else 1.0
    )
    v0 = _planned_occupancy(cfg) * days.productive_s[working].sum() / max(work_day.sum() * mean_factor, 1e-9)
    lam = v0 * (day_factor * P_SHARE[:, None])[:, :, None] * prof  # expected arrivals per half-hour
    # the planners' forecast: what they know of the demand, with a daily forecast error
    f_err = np.exp(_rng(cfg.seed, 9).normal(0, FORECAST_SD, day_factor.shape) - FORECAST_SD**2 / 2)
    lam_f = v0 * (known_factor * f_err * P_SHARE[:, None])[:, :, None] * prof
    # the planners' need per group and half-hour, in agents, from the forecast: load plus a square-root
    # margin for phone and chat; email's daily workload in agent-half-hours
    load = np.zeros((len(GROUPS), n_days, SLOTS))
    np.add.at(load, P_GROUP, lam_f * (P_AHT * mean_factor)[:, None, None] / SLOT_S)
    need = GROUP_BIAS[:, None, None] * load + np.where(load > 0, np.sqrt(load), 0.0)
    need[G_EMAIL] = 0.0
    days.group = _assign_groups(cfg, cal, days, need, load[G_EMAIL].sum(axis=1))
    on = days.group >= 0

    rng = _rng(cfg.seed, 7)
    counts = rng.poisson(lam).ravel()
    cell = np.repeat(np.arange(counts.size), counts)
    c_pool = cell // (n_days * SLOTS)
    c_day = (cell // SLOTS) % n_days
    c_slot = cell % SLOTS
    local = cal.day0_ls + c_day * 86400 + c_slot * SLOT_S + rng.integers(0, SLOT_S, cell.size)
    n_contacts = cell.size
    c_group = P_GROUP[c_pool]
    gkey = (c_group * n_days + c_day) * SLOTS + c_slot  # skill group, day and half-hour of arrival
    n_cells = len(GROUPS) * n_days * SLOTS

    # staffing per group, day and half-hour from the agent-days in that group
    r_idx, s_idx = np.nonzero(days.frac * on[:, None])
    e_key = (days.group[r_idx] * n_days + days.day[r_idx]) * SLOTS + s_idx
    e_sort = np.argsort(e_key, kind="stable")
    r_idx, s_idx, e_key = r_idx[e_sort], s_idx[e_sort], e_key[e_sort]
    e_frac = days.frac[r_idx, s_idx].astype(float)
    e_weight = e_frac / days.factor[r_idx]
    staffed = np.bincount(e_key, weights=e_frac, minlength=n_cells)
    capacity = np.bincount(e_key, weights=e_weight, minlength=n_cells)  # agents in base-AHT units

    wait = np.full(n_contacts, np.nan)
    outcome = np.full(n_contacts, 0, np.int8)  # 0 handled, 1 abandoned, 2 open
    answer_key = np.full(n_contacts, -1, np.int64)
    noise = np.exp(rng.normal(0, 1, n_contacts) * P_NOISE_SD[c_pool] - P_NOISE_SD[c_pool] ** 2 / 2)

    # phone, chat and the escalations line: Erlang A per queue and half-hour with the queue's share of
    # the group's agents on (its equivalent agents, _queue_split: the group's safety margin per queue)
    live_rows = np.flatnonzero(c_group != G_EMAIL)
    pkey = (c_pool * n_days + c_day) * SLOTS + c_slot  # pool, day and half-hour of arrival
    live_rows = live_rows[np.argsort(pkey[live_rows], kind="stable")]
    live_cells, cnt = np.unique(pkey[live_rows], return_counts=True)
    l_pool = live_cells // (n_days * SLOTS)
    lg = P_GROUP[l_pool]
    g_cell = lg * n_days * SLOTS + live_cells % (n_days * SLOTS)
    speed = np.divide(staffed, capacity, out=np.ones(n_cells), where=capacity > 0)
    aht_cell = P_AHT[l_pool] * speed[g_cell]
    q_load = cnt * aht_cell / SLOT_S
    g_load = np.bincount(g_cell, weights=q_load, minlength=n_cells)[g_cell]
    x = _queue_split(staffed[g_cell], g_load, q_load)
    agents_on = (np.floor(x) + (rng.random(len(x)) < x - np.floor(x))).astype(int)
    rate = lam.reshape(-1)[live_cells] / SLOT_S  # the expected arrival rate, per s
    w_live, ab_live = erlang_a_waits(agents_on, rate, aht_cell, G_PATIENCE[lg], cnt, rng)
    wait[live_rows] = w_live
    outcome[live_rows] = ab_live.astype(np.int8)
    live = c_group != G_EMAIL
    # callers who hang up in the first seconds regardless of the queue (IVR, misdials)
    short = live & (P_CHANNEL[c_pool] == 0) & (rng.random(n_contacts) < 0.012)
    outcome[short] = 1
    wait[short] = rng.uniform(0, 5, short.sum())
    handled_live = live & (outcome == 0)
    wait[handled_live] += rng.integers(0, 3, handled_live.sum())
    answer_key[handled_live] = gkey[handled_live]
    staffing = pd.DataFrame(
        {
            "group": np.array(GROUPS)[lg],
            "interval_start": cal.days[0]
            + pd.to_timedelta(((live_cells // SLOTS) % n_days) * 86400 + (live_cells % SLOTS) * SLOT_S, unit="s"),
            "queue": np.array(QUEUES)[P_QUEUE[l_pool]],
            "agents": agents_on,
            "staffed": x,
            "offered": cnt,
            "erlangs": rate * aht_cell,
            "abandoned": np.add.reduceat(ab_live.astype(int), np.concatenate([[0], np.cumsum(cnt)[:-1]]))
            if len(cnt)
            else cnt,
        }
    )

    # email: one FIFO backlog worked by the email group's capacity, half-hour by half-hour
    answer_local = np.where(handled_live, local + np.round(wait), -1).astype(np.int64)
    rows = np.flatnonzero(c_group == G_EMAIL)
    rows = rows[np.argsort(local[rows], kind="stable")]
    arrive = local[rows]
    cum = np.cumsum(P_AHT[c_pool[rows]] * noise[rows])
    base_key = G_EMAIL * n_days * SLOTS
    ptr, carry = 0, 0.0
    for cidx in np.flatnonzero(capacity[base_key : base_key + n_days * SLOTS] > 0):
        t0_ls = cal.day0_ls + (cidx // SLOTS) * 86400 + (cidx % SLOTS) * SLOT_S
        hi = int(np.searchsorted(arrive, t0_ls + SLOT_S, side="left"))
        if ptr >= hi:
            carry = 0.0
            continue
        budget = capacity[base_key + cidx] * SLOT_S + carry
        done = cum[ptr - 1] if ptr else 0.0
        k = min(int(np.searchsorted(cum, done + budget, side="right")), hi)
        if k > ptr:
            seg = rows[ptr:k]
            at = t0_ls + np.round(SLOT_S * (cum[ptr:k] - done) / budget)
            answer_local[seg] = np.maximum(at, arrive[ptr:k] + 120 + (seg % 600))
            answer_key[seg] = base_key + cidx
            carry = budget - (cum[k - 1] - done) if k < hi else 0.0
            ptr = k
        else:
            carry = budget
    outcome[rows[ptr:]] = 2
    email = c_group == G_EMAIL
    local_fixed, offset = _localize(local, cfg.tz)
    e_rows = np.flatnonzero(email & (outcome == 0))
    if len(e_rows):
        ans_fixed, ans_off = _localize(answer_local[e_rows], cfg.tz)
        wait[e_rows] = (ans_fixed - ans_off) - (local_fixed[e_rows] - offset[e_rows])
    local = local_fixed

    # who answered: contacts go to the agents on in proportion to their free capacity; escalations
    # to agents with a year's experience when one is on
    handled = np.flatnonzero(outcome == 0)
    agent_row = np.full(n_contacts, -1)
    agent_row[handled] = _spread(e_key, r_idx, e_weight, answer_key[handled], rng)
    esc = handled[P_QUEUE[c_pool[handled]] == ESCALATIONS]
    senior = (days.tenure + ros.experience[days.person])[r_idx] >= 365
    to_senior = _spread(e_key[senior], r_idx[senior], e_weight[senior], answer_key[esc], rng)
    agent_row[esc] = np.where(to_senior >= 0, to_senior, agent_row[esc])

    hr = agent_row[handled]
    h_pool = c_pool[handled]
    tenure_h = days.tenure[hr] + ros.experience[days.person[hr]]
    new = tenure_h < 120
    escalated = np.zeros(n_contacts, bool)
    transferred = np.zeros(n_contacts, bool)
    esc_q = P_QUEUE[h_pool] == QUEUES.index("Escalations")
    escalated[handled] = rng.random(len(handled)) < np.where(esc_q, 0.15, 0.04) * np.where(new, 1.5, 1.0)
    transferred[handled] = (P_CHANNEL[h_pool] != 2) & (rng.random(len(handled)) < 0.035 * np.where(new, 1.8, 1.0))
    handle = np.full(n_contacts, np.nan)
    h = P_AHT[h_pool] * days.factor[hr] * noise[handled]
    h = h * np.where(escalated[handled], 1.35, 1.0) * np.where(transferred[handled], 0.6, 1.0)
    handle[handled] = np.round(np.clip(h, np.where(P_CHANNEL[h_pool] == 2, 60, 30), 3 * 3600))
    moved_rows, moved_handle = _rebalance(
        agent_row[handled], handle[handled], answer_key[handled], e_key, r_idx, days.productive_s, days.factor
    )
    agent_row[handled], handle[handled] = moved_rows, moved_handle
    hr = agent_row[handled]

    # first-contact resolution, CSAT
    fcr_base = np.array([0.80, 0.66, 0.84, 0.78, 0.62])[P_QUEUE[h_pool]]
    qa_h = ros.qa[days.person[hr]]
    p_fcr = fcr_base + (qa_h - 87) / 60 - np.where(new, 0.06, 0.0)
    p_fcr = np.where(escalated[handled] | transferred[handled], 0.15, p_fcr)
    fcr = rng.random(len(handled)) < np.clip(p_fcr, 0.05, 0.97)
    resolved = pd.array(np.zeros(n_contacts, bool), dtype="boolean")
    resolved[:] = pd.NA
    resolved[handled] = fcr
    survey = rng.random(len(handled)) < np.select([P_CHANNEL[h_pool] == 0, P_CHANNEL[h_pool] == 1], [0.15, 0.22], 0.09)
    w_h = wait[handled]
    long_wait = np.where(P_CHANNEL[h_pool] == 2, w_h > 24 * 3600, w_h > 180)
    latent = (
        0.55
        + 0.95 * fcr
        + (qa_h - 87) * 0.04
        - 0.55 * long_wait
        - 0.6 * escalated[handled]
        - 0.3 * transferred[handled]
        + rng.normal(0, 1.0, len(handled))
    )
    score = np.digitize(latent, [-1.3, -0.6, 0.1, 0.9]) + 1
    csat = pd.array(np.zeros(n_contacts, int), dtype="Int64")
    csat[:] = pd.NA
    csat[handled[survey]] = score[survey]

    # reasons and callers; unresolved and abandoned contacts come back from the same caller
    reason_codes = np.zeros(n_contacts, int)
    reason_names: list[str] = []
    for qi, q in enumerate(QUEUES):
        names, probs = zip(*REASONS[q])
        rows = np.flatnonzero(P_QUEUE[c_pool] == qi)
        reason_codes[rows] = len(reason_names) + rng.choice(len(names), size=len(rows), p=np.array(probs) / sum(probs))
        reason_names += list(names)
    client = np.zeros(n_contacts, int)
    for p in range(len(POOLS)):
        rows = np.flatnonzero(c_pool == p)
        share = client_share[:, P_QUEUE[p]]
        client[rows] = rng.choice(len(share), size=len(rows), p=share / share.sum())
    # each client's HR and payroll contacts get in touch about three times a month, some far more
    callers = np.maximum(3, np.round(np.bincount(client, minlength=len(clients)) / cfg.months / 3)).astype(int)
    caller = np.floor(callers[client] * rng.random(n_contacts) ** 1.5).astype(int)
    back = np.zeros(n_contacts, bool)
    back[handled] = ~fcr & (rng.random(len(handled)) < 0.55)
    back |= (outcome == 1) & (wait >= 5) & (rng.random(n_contacts) < 0.5)
    delay = np.where(outcome == 1, rng.exponential(3 * 3600, n_contacts), rng.uniform(3600, 6 * 86400, n_contacts))
    group = client * len(QUEUES) + P_QUEUE[c_pool]
    by = np.lexsort((local, group))
    g_sorted, t_sorted = group[by], local[by]
    src = np.flatnonzero(back)
    target = group[src] * 10**11 + local[src] + delay[src].astype(np.int64)
    dst_pos = np.searchsorted(g_sorted * 10**11 + t_sorted, target)
    ok = dst_pos < n_contacts
    dst_pos, src = dst_pos[ok], src[ok]
    dst = by[dst_pos]
    ok = (group[dst] == group[src]) & (local[dst] - local[src] <= 7 * 86400) & (dst != src)
    src, dst = src[ok], dst[ok]
    for _ in range(3):  # follow chains in time order (a repeat may itself repeat)
        caller[dst] = caller[src]
        reason_codes[dst] = reason_codes[src]

    # the contacts table in time order; low-cardinality text as categoricals, ids as Arrow strings
    order = np.lexsort((c_pool, local))
    contact_no = np.empty(n_contacts, np.int64)
    contact_no[order] = np.arange(n_contacts)
    width = max(7, len(str(n_contacts)))
    handled_rows = outcome == 0
    agent_pos = np.full(len(ros.hire), -1)
    agent_pos[roster_idx] = np.arange(len(roster_idx))
    agent_code = np.full(n_contacts, -1)
    agent_code[handled_rows] = agent_pos[days.person[agent_row[handled_rows]]]
    caller_base = np.concatenate([[0], np.cumsum(callers)[:-1]])
    caller_names = [
        f"{cid}-U{k:0{max(3, len(str(int(callers.max()))))}d}"
        for cid, n_c in zip(clients["client_id"], callers)
        for k in range(n_c)
    ]
    flag = lambda x: pd.array(np.where(handled_rows, x, False)[order], dtype="boolean")  # noqa: E731
    escalated_col, transferred_col = flag(escalated), flag(transferred)
    escalated_col[~handled_rows[order]] = pd.NA
    transferred_col[~handled_rows[order]] = pd.NA
    cat = pd.Categorical.from_codes
    contacts = pd.DataFrame(
        {
            "contact_id": _arrow_ids("K", np.arange(1, n_contacts + 1), width),
            "channel": cat(P_CHANNEL[c_pool][order], categories=["phone", "chat", "email"]),
            "queue": cat(P_QUEUE[c_pool][order], categories=list(QUEUES)),
            "client_id": cat(client[order], categories=list(clients["client_id"])),
            "arrived_at": _tz_series(local[order], cfg.tz),
            "outcome": cat(outcome[order], categories=["handled", "abandoned", "open"]),
            "wait_s": pd.array(np.where(outcome == 2, np.nan, np.round(wait))[order], dtype="Int64"),
            "handle_s": pd.array(handle[order], dtype="Int64"),
            "agent_id": cat(agent_code[order], categories=list(agents["agent_id"])),
            "resolved_first_contact": resolved[order],
            "escalated": escalated_col,
            "transferred": transferred_col,
            "csat": csat[order],
            "reason": cat(reason_codes[order], categories=reason_names),
            "caller_id": cat((caller_base[client] + caller)[order], categories=caller_names),
        }
    )
    handle_by_row = np.bincount(agent_row[handled_rows], weights=handle[handled_rows], minlength=len(days.day))

    # agent_activity: handled seconds from the contacts; the rest of productive time is available
    productive = days.productive_s
    available = productive - handle_by_row
    overtime = np.maximum(-available, 0)
    available = np.maximum(available, 0)
    logged = days.logged_in_s + overtime
    act_rows = np.flatnonzero(np.isin(ros.role[days.person], ("agent", "lead")))
    act_rows = act_rows[np.lexsort((days.person[act_rows], days.day[act_rows]))]
    activity = pd.DataFrame(
        {
            "date": (cal.days[0] + pd.to_timedelta(days.day[act_rows], unit="D")).to_numpy(),
            "agent_id": agent_id_of[days.person[act_rows]],
            "scheduled_s": days.scheduled_s[act_rows],
            "logged_in_s": logged[act_rows],
            "handle_s": handle_by_row[act_rows],
            "available_s": available[act_rows],
            **{k: v[act_rows] for k, v in days.aux.items()},
            "absent_unplanned": pd.array(days.absent[act_rows], dtype="boolean"),
            "in_adherence_s": days.in_adherence_s[act_rows],
        }
    )
    # sort agent_activity by date then agent_id
    activity = activity.sort_values(["date", "agent_id"], kind="stable").reset_index(drop=True)

    # QA evaluations: ~4 a month per agent (6 in the first 90 days) on contacts they handled
    rng_qa = _rng(cfg.seed, 8)
    hrows = np.flatnonzero(handled_rows)
    h_agent = days.person[agent_row[hrows]]
    h_day = days.day[agent_row[hrows]]
    h_month = cal.days.year.to_numpy()[h_day] * 12 + cal.month[h_day]
    key = h_agent.astype(np.int64) * 100_000 + h_month
    qorder = np.lexsort((rng_qa.random(len(hrows)), key))
    key_s = key[qorder]
    starts_q = np.concatenate([[0], np.flatnonzero(np.diff(key_s)) + 1]) if len(key_s) else np.array([], int)
    sizes_q = np.diff(np.concatenate([starts_q, [len(key_s)]]))
    g_agent = h_agent[qorder][starts_q]
    g_tenure = days.tenure[agent_row[hrows]][qorder][starts_q] + ros.experience[g_agent]
    n_eval = np.clip(rng_qa.poisson(np.where(g_tenure < 90, 6, 4)), 1, 8)
    n_eval = np.minimum(n_eval, sizes_q)
    rank = np.arange(len(key_s)) - np.repeat(starts_q, sizes_q)
    chosen = hrows[qorder[rank < np.repeat(n_eval, sizes_q)]]
    ev_agent = days.person[agent_row[chosen]]
    ev_tenure = days.tenure[agent_row[chosen]] + ros.experience[ev_agent]
    answered = np.where(P_CHANNEL[c_pool[chosen]] == 2, answer_local[chosen], local[chosen] + np.round(wait[chosen]))
    ev_day = (answered - cal.day0_ls) // 86400 + rng_qa.integers(1, 8, len(chosen))
    ev_dow = (cal.dow[0] + ev_day) % 7
    ev_day = ev_day + np.where(ev_dow == 5, 2, np.where(ev_dow == 6, 1, 0))
    ev_local = cal.day0_ls + ev_day * 86400 + rng_qa.integers(9 * 3600, 17 * 3600, len(chosen))
    end_ls = cal.day0_ls + n_days * 86400
    ev_local = np.where(ev_local >= end_ls, answered + 3600, ev_local)
    ev_local = np.minimum(ev_local, end_ls - 60)
    ev_local = np.maximum(ev_local, answered + 60)
    raw = ros.qa[ev_agent] - 9 * np.exp(-ev_tenure / 100.0) + rng_qa.normal(0, 5.5, len(chosen))
    critical = rng_qa.random(len(chosen)) < 0.015 + 0.08 * (raw < 78) + 0.03 * (ev_tenure < 90)
    qa_score = np.round(np.clip(raw - critical * rng_qa.uniform(15, 30, len(chosen)), 0, 100), 1)
    ev_order = np.argsort(ev_local, kind="stable")
    qa = pd.DataFrame(
        {
            "evaluation_id": [f"E{k + 1:06d}" for k in range(len(chosen))],
            "agent_id": agent_id_of[ev_agent[ev_order]],
            "evaluated_at": _tz_series(ev_local[ev_order], cfg.tz),
            "contact_id": [f"K{k + 1:0{width}d}" for k in contact_no[chosen[ev_order]]],
            "score": qa_score[ev_order],
            "critical_error": pd.array(critical[ev_order], dtype="boolean"),
            # the evaluator's comment follows from the score (no random draw: the other tables are unchanged);
            # no commas or quotes: the sample's CSV writer does not quote
            "comment": np.select(
                [critical[ev_order], qa_score[ev_order] >= 90, qa_score[ev_order] >= 80],
                [
                    "Critical error: go through the verification steps with your lead.",
                    "Clear and accurate and friendly; a model call.",
                    "Good call; confirm the caller's details earlier.",
                ],
                "Several steps were missed; listen back to the call together.",
            ),
        }
    )

    plan, staffing_iv = _plan_tables(
        cfg,
        cal,
        days,
        lam_f,
        counts.reshape(lam.shape),
        staffed,
        speed,
        c_pool[handled_rows],
        ((local - cal.day0_ls) // 86400)[handled_rows],
        handle[handled_rows],
        mean_factor,
    )
    tables = {
        "contacts": contacts,
        "agents": agents,
        "agent_activity": activity,
        "qa_evaluations": qa,
        "clients": clients,
        "interval_plan": plan,
        "interval_staffing": staffing_iv,
    }
    for name, frame in tables.items():
        tables[name] = frame[TABLES[name].column_names]
    notes = {
        "seconds": time.perf_counter() - t0,
        "overtime_agent_days": int((overtime > 0).sum()),
        "overtime_s": float(overtime.sum()),
        "contacts_per_wednesday_base": float(v0),
    }
    return SampleData(tables=tables, staffing=staffing, notes=notes)


# --- the plan and the staffing per queue and interval --------------------------------------------


def _queue_split(group_agents: np.ndarray, group_load: np.ndarray, queue_load: np.ndarray) -> np.ndarray:
    """A skill group's agents as each queue's equivalent agents: n_q = R_q + beta sqrt(R_q), beta = (n - R)/sqrt(R).

    The sample's agents are universal within a channel; a queue's share of them is reported the way a
    square-root staffing rule sees it, so that each queue keeps the group's safety margin beta (its
    Erlang A service level then stays close to the group's). Loads in Erlangs; never below 0.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = np.where(group_load > 0, (group_agents - group_load) / np.sqrt(group_load), 0.0)
        share = np.where(group_load > 0, queue_load / group_load, 0.0)
    return np.maximum(np.where(group_load > 0, queue_load + beta * np.sqrt(queue_load), group_agents * share), 0.0)


def _plan_tables(
    cfg: SampleConfig,
    cal: _Calendar,
    days: _Days,
    lam_f: np.ndarray,
    counts: np.ndarray,
    staffed: np.ndarray,
    speed: np.ndarray,
    h_pool: np.ndarray,
    h_day: np.ndarray,
    h_handle: np.ndarray,
    mean_factor: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """interval_plan and interval_staffing for phone and chat, per queue and half-hour (see the module doc).

    Plan: the forecast (`lam_f`, which knows no day noise, incidents or the surge), each queue's AHT over
    the 13 weeks before the month, and the agents the WFM requirement asks for: the group's fewest
    agents whose split among its queues (`_queue_split`) gives the group's contacts 80% (phone within
    30 s, chat 60 s) under Erlang A with the channel's patience. Staffed: the
    queue's equivalent agents as the queueing used them (`_queue_split` of the group's agents on by
    the actual load). Scheduled: the same split of the group's agents on plus the agents absent
    unplanned that half-hour (shared among the groups in proportion to their agents on).
    """
    from reportlib.planning.staffing import erlang_a_service_level

    n_days = cal.n
    live = np.flatnonzero(P_CHANNEL != 2)
    # each queue's AHT as a planner sees it: handled contacts of the 13 weeks before each month
    h_sum = np.zeros((len(POOLS), n_days))
    h_cnt = np.zeros((len(POOLS), n_days))
    np.add.at(h_sum, (h_pool, h_day), h_handle)
    np.add.at(h_cnt, (h_pool, h_day), 1.0)
    cs, cc = np.cumsum(h_sum, axis=1), np.cumsum(h_cnt, axis=1)
    month_first = np.flatnonzero(cal.dom == 1) if n_days else np.array([], int)
    f_aht = np.repeat((P_AHT * mean_factor)[:, None], n_days, axis=1)
    for m0 in month_first:
        lo = max(0, m0 - 91)
        if m0 == 0:
            continue
        s_ = cs[:, m0 - 1] - (cs[:, lo - 1] if lo > 0 else 0)
        c_ = cc[:, m0 - 1] - (cc[:, lo - 1] if lo > 0 else 0)
        nxt = month_first[month_first > m0]
        m1 = nxt[0] if len(nxt) else n_days
        ok = c_ >= 30
        f_aht[ok, m0:m1] = (s_[ok] / c_[ok])[:, None]
    aht_f = f_aht[:, :, None]  # pools x days x 1
    # the group's requirement from the forecast
    ratio = speed.reshape(len(GROUPS), n_days, SLOTS)
    plan_rows, staff_rows = [], []
    absent_cell = np.zeros((n_days, SLOTS))
    if days.absent_rows is not None and days.absent_frac is not None and len(days.absent_rows):
        np.add.at(absent_cell, days.day[days.absent_rows], days.absent_frac.astype(float))
    on_all = staffed.reshape(len(GROUPS), n_days, SLOTS).sum(axis=0)
    for g in (G_PHONE, G_CHAT):
        pools = live[P_GROUP[live] == g]
        q_load_f = lam_f[pools] * aht_f[pools] / SLOT_S
        g_load_f = q_load_f.sum(axis=0)
        answer = 30.0 if g == G_PHONE else 60.0
        calls_f = lam_f[pools]
        busy = g_load_f > 1e-9
        aht_b = np.broadcast_to(aht_f[pools], calls_f.shape)[:, busy]
        # the smallest safety margin beta (bisection, 12 steps over -1..5) whose split gives the group's
        # forecast contacts 80% within the threshold, contact-weighted over its queues
        lo, hi = np.full(busy.sum(), -1.0), np.full(busy.sum(), 5.0)
        w = calls_f[:, busy]
        for _ in range(12):
            mid = (lo + hi) / 2
            n_q = _queue_split(g_load_f[busy] + mid * np.sqrt(g_load_f[busy]), g_load_f[busy], q_load_f[:, busy])
            sl = erlang_a_service_level(
                n_q.ravel(), w.ravel(), aht_b.ravel(), float(SLOT_S), answer, float(G_PATIENCE[g])
            ).reshape(w.shape)
            ok = (sl * w).sum(axis=0) >= 0.8 * w.sum(axis=0)
            hi, lo = np.where(ok, mid, hi), np.where(ok, lo, mid)
        need = np.zeros(g_load_f.shape)
        need[busy] = g_load_f[busy] + hi * np.sqrt(g_load_f[busy])
        planned = _queue_split(need[None], g_load_f[None], q_load_f)
        x = staffed.reshape(len(GROUPS), n_days, SLOTS)[g]
        q_load = counts[pools] * (P_AHT[pools, None, None] * ratio[g][None]) / SLOT_S
        g_load = q_load.sum(axis=0)
        # no contacts: the group's agents by the forecast's shares
        q_load = np.where(g_load[None] > 0, q_load, q_load_f)
        g_load = np.where(g_load > 0, g_load, g_load_f)
        sched_g = x + np.divide(absent_cell * x, on_all, out=np.zeros_like(x), where=on_all > 0)
        staffed_q = _queue_split(x[None], g_load[None], q_load)
        sched_q = _queue_split(sched_g[None], g_load[None], q_load)
        for k, p in enumerate(pools):
            d_idx, s_idx = np.nonzero((lam_f[p] > 0) | (counts[p] > 0) | (x > 0) & (g_load_f > 0))
            plan_rows.append((p, d_idx, s_idx, lam_f[p][d_idx, s_idx], f_aht[p, d_idx], planned[k][d_idx, s_idx]))
            staff_rows.append((p, d_idx, s_idx, staffed_q[k][d_idx, s_idx], sched_q[k][d_idx, s_idx]))

    def frame(rows, cols):
        pool = np.concatenate([np.full(len(r[1]), r[0]) for r in rows])
        d_idx = np.concatenate([r[1] for r in rows])
        s_idx = np.concatenate([r[2] for r in rows])
        local = cal.day0_ls + d_idx.astype(np.int64) * 86400 + s_idx.astype(np.int64) * SLOT_S
        order = np.lexsort((P_QUEUE[pool], P_CHANNEL[pool], local))
        out = pd.DataFrame(
            {
                "interval_start": _tz_series(local[order], cfg.tz),
                "interval_minutes": pd.array(np.full(len(order), SLOT_S // 60), dtype="Int64"),
                "channel": pd.Categorical.from_codes(P_CHANNEL[pool][order], categories=["phone", "chat", "email"]),
                "queue": pd.Categorical.from_codes(P_QUEUE[pool][order], categories=list(QUEUES)),
            }
        )
        for j, name in enumerate(cols):
            out[name] = np.round(np.concatenate([r[3 + j] for r in rows])[order], 3)
        return out

    plan = frame(plan_rows, ["forecast_offered", "forecast_aht_s", "planned_agents"])
    plan["forecast_aht_s"] = plan["forecast_aht_s"].round(1)
    return plan, frame(staff_rows, ["staffed_agents", "scheduled_agents"])


# --- writing --------------------------------------------------------------------------------------


def _format_timestamps(wall_s: np.ndarray, offset_s: np.ndarray):
    """ISO 8601 text 'YYYY-MM-DDTHH:MM:SS+HH:MM' for wall-clock seconds and their UTC offsets.

    Built from lookup tables of the distinct dates, times of day and offsets (a few gathers of
    bytes), because general-purpose formatting of millions of timestamps takes seconds.
    """
    import pyarrow as pa

    n = len(wall_s)
    days = wall_s // 86400
    first = int(days.min()) if n else 0
    uniq_days = np.arange(first, (int(days.max()) if n else first) + 1)
    date_text = np.datetime_as_string(uniq_days.astype("datetime64[D]"))
    date_tab = np.frombuffer("".join(t + "T" for t in date_text).encode("ascii"), np.uint8).reshape(-1, 11)
    sod = np.arange(86400)
    clock = "".join(f"{h:02d}:{m:02d}:{x:02d}" for h, m, x in zip(sod // 3600, sod // 60 % 60, sod % 60))
    time_tab = np.frombuffer(clock.encode("ascii"), np.uint8).reshape(-1, 8)
    offsets, inv = np.unique(offset_s, return_inverse=True)
    off_text = "".join(f"{'-' if o < 0 else '+'}{abs(o) // 3600:02d}:{abs(o) % 3600 // 60:02d}" for o in offsets)
    off_tab = (
        np.frombuffer(off_text.encode("ascii"), np.uint8).reshape(-1, 6) if len(offsets) else np.zeros((0, 6), np.uint8)
    )
    out = np.concatenate([date_tab[days - first], time_tab[wall_s - days * 86400], off_tab[inv.ravel()]], axis=1)
    binary = pa.FixedSizeBinaryArray.from_buffers(pa.binary(25), n, [None, pa.py_buffer(np.ascontiguousarray(out))])
    return binary.cast(pa.binary()).cast(pa.string())


def _arrow_column(series: pd.Series, kind: str):
    """One column as a pyarrow array formatted per the file conventions of the sample."""
    import pyarrow as pa

    if kind == "timestamp":
        wall = series.dt.tz_localize(None).to_numpy().astype("datetime64[s]").astype(np.int64)
        utc = series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[s]").astype(np.int64)
        return _format_timestamps(wall, wall - utc)
    if kind == "date":
        values = series.to_numpy().astype("datetime64[D]")
        mask = pd.isna(series).to_numpy()
        return pa.array(values, type=pa.date32(), mask=mask)
    if kind in ("float", "int"):
        if isinstance(series.dtype, pd.Int64Dtype):
            return pa.array(series.array)
        values = series.to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(values)
        if np.all(missing | (values == np.round(values))):  # whole numbers are written without decimals
            return pa.array(np.where(missing, 0, values).astype(np.int64), mask=missing)
        return pa.array(values, from_pandas=True)
    if kind == "bool":
        return pa.array(pd.array(series, dtype="boolean"))
    if isinstance(series.dtype, (pd.CategoricalDtype, pd.StringDtype, pd.ArrowDtype)):
        return pa.array(series).cast(pa.string())
    return pa.array(series.astype(object).where(series.notna(), None), type=pa.string())


def write_table(frame: pd.DataFrame, name: str, path: Path) -> None:
    """Write one contract table as UTF-8 CSV ('\\n' lines, ISO timestamps with offset, true/false, empty null)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    table = TABLES[name]
    arrays = [_arrow_column(frame[c.name], c.kind) for c in table.columns]
    data = pa.table(arrays, names=table.column_names)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    # its owner's alone (0600) like every file of personal data the toolkit writes: the sample's names are made up,
    # but a folder of them is laid out as an operation's own, and copied as one
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
        fh.write((",".join(table.column_names) + "\n").encode("utf-8"))
        pcsv.write_csv(data, fh, pcsv.WriteOptions(include_header=False, quoting_style="none"))
    os.replace(tmp, path)


def write_sample(data: SampleData, out: str | os.PathLike) -> dict[str, int]:
    """Write the sample's tables as CSV files into `out`; return rows per table."""
    folder = Path(out)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    rows = {}
    for name in SAMPLE_TABLES:
        write_table(data.tables[name], name, folder / f"{name}.csv")
        rows[name] = len(data.tables[name])
    return rows


def sample_data(
    out: str | os.PathLike,
    seed: int = 42,
    start: str | None = None,
    months: int = 24,
    agents: int = 150,
    clients: int = 40,
) -> tuple[dict[str, int], float]:
    """Generate the sample operation and write it to `out`: (rows per table, seconds taken)."""
    t0 = time.perf_counter()
    cfg = SampleConfig(
        start=start or default_start(months=months), seed=seed, months=months, agents=agents, clients=clients
    )
    cfg.check()
    data = generate_sample(cfg)
    try:
        rows = write_sample(data, out)
    except OSError as exc:
        raise ReportlibError(f"cannot write the sample to {out}: {exc.strerror or exc}") from None
    return rows, time.perf_counter() - t0


# --- the default sample, created on first use (`reportlib run`, `reportlib lab`, a notebook) -----------

DEFAULT_DATA = "data/sample"  # the data source parameters/defaults.yaml names unless changed


def uses_default_sample(params: Mapping[str, Any], data: str | None) -> bool:
    """True when no data source was given and the parameters name the bundled sample's folder."""
    return data is None and str(params.get("data", DEFAULT_DATA)) == DEFAULT_DATA


def ensure_sample_at(
    location: str | os.PathLike, log: TextIO | None = None, who: str = "reportlib", **sample_options: Any
) -> bool:
    """Create the sample operation at `location` when it is absent; True when it was created.

    sample_options go to sample.sample_data (months, agents, clients, start, seed; its defaults otherwise).

    Written to a temporary folder next to it and renamed into place, so a notebook and a run opened
    at the same moment never read a half-written sample (the second one to finish discards its copy).
    """
    target = Path(location)
    if target.exists():
        return False
    log = log or sys.stderr
    print(
        f"{who}: no data at {target}; creating the sample operation there "
        f"(as `reportlib sample-data --out {target}` would; a few seconds to a minute, depending on the machine) ...",
        file=log,
        flush=True,
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        rows, seconds = sample_data(tmp, **sample_options)
        try:
            tmp.rename(target)
        except OSError:
            if not target.exists():
                raise ReportlibError(f"cannot create the sample at {target}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    counts = ", ".join(f"{name} {n:,}" for name, n in rows.items())
    print(f"{who}: sample operation created in {target} ({counts} rows, {seconds:.0f} s)", file=log, flush=True)
    return True


def ensure_default_data(
    params: Mapping[str, Any], data: str | None = None, log: TextIO | None = None, who: str = "reportlib"
) -> bool:
    """Create the default sample when no data source was given and it does not exist yet (like `run`)."""
    if not uses_default_sample(params, data):
        return False
    return ensure_sample_at(data_location(dict(params), None), log=log, who=who)
