"""The report registry: every report notebook the project ships, declared once.

The order is the order `reportlib run` executes the scheduled reports and `index.html` lists them;
the title is the page title of the rendered report (``"<title>, <Month YYYY>"``). A per-client
report (``client_review``) renders once per client, a per-agent one (``agent_review``) once per active
agent and only when asked for (``--agents``, ``schedule.agents``); an interactive one (``explore``) is for
JupyterLab only and never scheduled. A report with ``pdf`` is also printed to ``<stem>.pdf`` by
``reportlib run`` (headless Chromium, paper size from ``reports.paper``). Each report is the notebook
``notebooks/<name>.ipynb``.

To add a report: write ``notebooks/<name>.ipynb`` (a ``parameters`` cell, then one library call per
section), add a line here, and add it to ``reports:`` in ``parameters/schedule.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlib.core.errors import ReportlibError
from reportlib.core.months import month_label
from reportlib.core.params import project_root


@dataclass(frozen=True)
class Report:
    """One report notebook: its name (the notebook's stem), page title, how it is scheduled, whether
    `reportlib run` prints a PDF of it beside the HTML, whether it judges clients against their SLA
    contracts (then `reportlib run` first checks every client's profile is defined), and whether it reads the
    capacity parameters (service targets, staffing, hiring: parameters/capacity.yaml) or the agents' goals
    (parameters/goals.yaml): `reportlib run` checks those sets first, only for the reports that read them."""

    name: str
    title: str
    per_client: bool = False
    per_agent: bool = False
    scheduled: bool = True
    pdf: bool = False
    contracts: bool = False
    capacity: bool = False
    goals: bool = False


REGISTRY: tuple[Report, ...] = (
    Report("team_performance", "Team performance", capacity=True, goals=True),  # plan vs actual: service targets
    Report("sla", "SLA compliance", contracts=True, capacity=True),
    Report("attrition", "Headcount and attrition"),
    Report("forecast", "Volume forecast", capacity=True),
    Report("monthly_pack", "Monthly pack", pdf=True, contracts=True, capacity=True),
    Report("client_review", "Service review", per_client=True, pdf=True, contracts=True),
    Report("agent_review", "Agent review", per_agent=True, pdf=True, goals=True),
    Report("explore", "Explore", scheduled=False),
)

CLIENT_REPORT = next(r.name for r in REGISTRY if r.per_client)
AGENT_REPORT = next(r.name for r in REGISTRY if r.per_agent)
# Scheduled reports rendered once per month, then the per-client and per-agent ones, in run order.
REPORTS: tuple[str, ...] = tuple(r.name for r in REGISTRY if r.scheduled and not (r.per_client or r.per_agent))
ALL_REPORTS: tuple[str, ...] = tuple(r.name for r in REGISTRY if r.scheduled)
INTERACTIVE: tuple[str, ...] = tuple(r.name for r in REGISTRY if not r.scheduled)
CONTRACT_REPORTS: tuple[str, ...] = tuple(r.name for r in REGISTRY if r.contracts)
CAPACITY_REPORTS: tuple[str, ...] = tuple(r.name for r in REGISTRY if r.capacity)
GOAL_REPORTS: tuple[str, ...] = tuple(r.name for r in REGISTRY if r.goals)
TITLES: dict[str, str] = {r.name: r.title for r in REGISTRY}
# Reports printed to PDF beside their HTML (`reportlib run`) and attachable as PDF (`reportlib email`).
PDF_REPORTS: frozenset[str] = frozenset(r.name for r in REGISTRY if r.pdf)


def page_title(report: str, month: Any, subject: str | None = None) -> str:
    """A rendered report's title: "<Title>, <Month YYYY>"; for one client's or one agent's report (`subject`, the
    client's or the agent's name) "<subject>: <title in lower case>, <Month YYYY>"."""
    title, label = TITLES.get(report, report), month_label(month)
    return f"{subject}: {title.lower()}, {label}" if subject else f"{title}, {label}"


def notebook_path(name: str) -> Path:
    """notebooks/<name>.ipynb under the project root; ReportlibError if there is no such report."""
    path = project_root() / "notebooks" / f"{name}.ipynb"
    if name not in TITLES or not path.exists():
        raise ReportlibError(f"no report notebook named {name!r} (known: {', '.join(TITLES)}; looked for {path})")
    return path
