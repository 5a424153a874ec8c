"""Client service reviews: one employer client's month, for the client and its account team, and nobody else's data.

What a review holds (notebooks/client_review.ipynb, one call per section):

* tiles for the month (`summary_tiles`): contacts; phone and chat answered in time **on the client's own
  contract measure** — the threshold, service-level definition and short-abandon rule of its service-level
  term for the channel (`sla.compliance_history`), with last month and last year on the same measure, so a
  tile and the contract table on the same page never disagree — or, for a channel its contract has no such
  term for, on the operation's default threshold, named in the tile's title; phone speed of answer; email
  answered within the contract's business hours; satisfaction;
* the contract terms this month (`terms_table`): each term's figure read in its own unit (a share, seconds,
  or a score for a mean-satisfaction term), met, missed or without contacts, and one sentence about them;
* 13 months of volumes, service on the contract's measure (`service_history`), email first response and
  escalations; the month's contact reasons.

Everything here is drawn from the client's view of the source (`ReportContext.client_source()`), so only
that client's contacts are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from reportlib.core.months import month_label
from reportlib.core.settings import MetricSettings
from reportlib.core.words import noun_for
from reportlib.reports import charts, narrative, queries, views

LIVE = (("phone", "Phone"), ("chat", "Chat"))


@dataclass
class ClientReview:
    """One client's month: the frames every section of the review is drawn from."""

    client_id: str
    client_name: str
    month: pd.Period
    history: pd.DataFrame  # queries.channel_history per channel, the 13 months to `month` (default thresholds)
    overall: pd.DataFrame  # the same with every channel together
    terms_history: pd.DataFrame | None  # queries.compliance_history of the client, 13 months; None: not evaluated
    service: pd.DataFrame  # service_history: month, channel, service_level, threshold_s, goal, basis
    email_threshold_h: float  # business hours within which an email counts as answered in time
    default_threshold_s: float  # the operation's service-level threshold (seconds), for channels without a term
    # which comparisons the month's contacts may make, with the month's coverage (queries.totals_basis)
    totals: narrative.TotalsBasis = field(default_factory=narrative.TotalsBasis)
    # the data end before the month does (queries.month_running): its terms are judged so far, not finally
    running: bool = False

    @property
    def terms(self) -> pd.DataFrame | None:
        """This month's contract terms (compliance rows), None when they could not be evaluated."""
        if self.terms_history is None:
            return None
        t = self.terms_history
        return t[t["month"] == str(self.month)].drop(columns="month").reset_index(drop=True)

    def contacts(self, month: pd.Period) -> float | None:
        """The client's contacts in `month` (every channel): 0 for a month inside its history without any, None
        for a month before its first contact (no data to compare with)."""
        h = self.history
        rows = h[h["month"] == str(month)]
        if len(rows):
            return float(rows["offered"].sum())
        first = str(h["month"].min()) if len(h) else None
        return 0.0 if month == self.month or (first is not None and str(month) >= first) else None


def contract_service_terms(terms_history: pd.DataFrame | None) -> pd.DataFrame:
    """The client's service-level terms for phone and chat, per month (month, channel, service_level,
    threshold_s, goal): the contract's own measure. Empty when there is none."""
    cols = ["month", "channel", "service_level", "threshold_s", "goal"]
    if terms_history is None or not len(terms_history):
        return pd.DataFrame(columns=cols)
    t = terms_history
    t = t[(t["metric"] == "service_level") & t["channel"].isin([c for c, _ in LIVE]) & t["threshold_s"].notna()]
    # one term per channel (a contract with two phone service-level terms: the first, as listed)
    t = t.drop_duplicates(["month", "channel"], keep="first")
    return t.rename(columns={"actual": "service_level"})[cols].reset_index(drop=True)


def service_history(
    history: pd.DataFrame, terms_history: pd.DataFrame | None, default_threshold_s: float
) -> pd.DataFrame:
    """Per month and live channel the client had contacts on: the share answered in time (0..1) on the client's
    contract measure where its contract has a service-level term for the channel (basis 'contract': the term's
    threshold, definition and goal), else on the operation's default threshold (basis 'default', no goal).
    Columns: month, channel, service_level, threshold_s (seconds), goal (share or NaN), basis."""
    terms = contract_service_terms(terms_history)
    with_term = set(terms["channel"])
    live = history[history["channel"].isin([c for c, _ in LIVE]) & (history["offered"] > 0)]
    rows = []
    for channel, _ in LIVE:
        if channel in with_term:
            own = terms[
                (terms["channel"] == channel) & terms["month"].isin(live.loc[live["channel"] == channel, "month"])
            ]
            rows.append(own.assign(basis="contract"))
        else:
            h = live[live["channel"] == channel]
            rows.append(
                pd.DataFrame(
                    {
                        "month": h["month"],
                        "channel": channel,
                        "service_level": h["service_level"].astype(float),
                        "threshold_s": float(default_threshold_s),
                        "goal": float("nan"),
                        "basis": "default",
                    }
                )
            )
    cols = ["month", "channel", "service_level", "threshold_s", "goal", "basis"]
    out = pd.concat([r for r in rows if len(r)], ignore_index=True) if any(len(r) for r in rows) else None
    if out is None:
        return pd.DataFrame(columns=cols)
    return out[cols].sort_values(["channel", "month"]).reset_index(drop=True)


def email_threshold(client: Any, params: Mapping[str, Any], client_id: str) -> float:
    """Business hours within which the client's emails count as answered in time: its contract's email term
    (queries.email_thresholds, as the email figures of every report read it), else parameters/reports.yaml
    email_threshold_h."""
    default = float(queries.report_settings(params)["email_threshold_h"])
    return float(queries.email_thresholds(client, params).get(str(client_id), default))


def build(client: Any, params: Mapping[str, Any], month: pd.Period, terms_history: pd.DataFrame | None) -> ClientReview:
    """The review of the client whose view of the source is `client` for `month`. `terms_history`: its contract
    terms over the 13 months to `month` (queries.compliance_history), or None when they could not be evaluated
    (the notebook says why)."""
    month = pd.Period(str(month), freq="M")
    first = month - 12
    info = client.frame("clients").iloc[0]
    client_id = str(info["client_id"])
    name = str(info["client_name"]) if pd.notna(info.get("client_name")) else client_id
    history = queries.channel_history(client, params, first, month)
    overall = queries.channel_history(client, params, first, month, by=())
    default = float(MetricSettings.from_params(params).sl_threshold_s)
    return ClientReview(
        client_id=client_id,
        client_name=name,
        month=month,
        history=history,
        overall=overall,
        terms_history=terms_history,
        service=service_history(history, terms_history, default),
        email_threshold_h=email_threshold(client, params, client_id),
        default_threshold_s=default,
        totals=queries.totals_basis(client, params, month),
        running=queries.month_running(client, params, month),
    )


def _value(frame: pd.DataFrame, month: pd.Period, col: str, **where: Any) -> Any:
    rows = frame[frame["month"] == str(month)]
    for k, v in where.items():
        rows = rows[rows[k] == v]
    return rows[col].iloc[0] if len(rows) else None


def summary_tiles(review: ClientReview) -> list[narrative.Tile]:
    """The month's tiles (see the module docstring), each with last month's and last year's figure on the same
    measure."""
    m = review.month
    labels = {"prev_label": (m - 1).strftime("%b %Y"), "yoy_label": (m - 12).strftime("%b %Y")}
    tiles = [
        narrative.make_tile(
            "Contacts",
            review.contacts(m),
            "count",
            prev=review.contacts(m - 1),
            yoy=review.contacts(m - 12),
            compare=review.totals.compare,  # a count is set against whole months only, from a whole month
            key="contacts",
            note=review.totals.note,
            **labels,
        )
    ]
    svc = review.service
    for channel, label in LIVE:
        now = svc[(svc["channel"] == channel) & (svc["month"] == str(m))]
        if not len(now):
            continue
        row = now.iloc[0]
        threshold = f"{float(row['threshold_s']):g} s"
        tiles.append(
            narrative.make_tile(
                f"{label} answered within {threshold}",
                row["service_level"],
                "share",
                target=row["goal"],
                prev=_value(svc, m - 1, "service_level", channel=channel),
                yoy=_value(svc, m - 12, "service_level", channel=channel),
                key=channel,
                note=None if row["basis"] == "contract" else "the operation's threshold: no contract term measured",
                **labels,
            )
        )
    h = review.history
    if _value(h, m, "offered", channel="phone"):
        terms = review.terms
        goal = None
        if terms is not None and len(terms):
            asa = terms[(terms["channel"] == "phone") & (terms["metric"] == "asa_s")]
            goal = asa["goal"].iloc[0] if len(asa) else None
        tiles.append(
            narrative.make_tile(
                "Phone speed of answer",
                _value(h, m, "asa_s", channel="phone"),
                "seconds",
                target=goal,
                higher_is_better=False,
                prev=_value(h, m - 1, "asa_s", channel="phone"),
                yoy=_value(h, m - 12, "asa_s", channel="phone"),
                key="asa",
                **labels,
            )
        )
    th = review.terms_history
    if th is not None and len(th):
        email = th[(th["channel"] == "email") & (th["metric"] == "service_level")].drop_duplicates("month")
        now = email[email["month"] == str(m)]
        if len(now) and now["volume"].iloc[0] > 0:
            hours = float(now["threshold_h"].iloc[0])
            tiles.append(
                narrative.make_tile(
                    f"Email answered within {hours:g} business {'hour' if hours == 1 else 'hours'}",
                    now["actual"].iloc[0],
                    "share",
                    target=now["goal"].iloc[0],
                    prev=_value(email, m - 1, "actual"),
                    yoy=_value(email, m - 12, "actual"),
                    key="email",
                    **labels,
                )
            )
    responses = h.loc[h["month"] == str(m), "csat_responses"].sum() if "csat_responses" in h else 0
    if responses:
        o = review.overall
        tiles.append(
            narrative.make_tile(
                "Satisfied customers (4-5)",
                _value(o, m, "csat_top2"),
                "share",
                prev=_value(o, m - 1, "csat_top2"),
                yoy=_value(o, m - 12, "csat_top2"),
                key="csat",
                **labels,
            )
        )
    return tiles


def terms_table(terms: pd.DataFrame, running: bool = False) -> tuple[pd.DataFrame, str]:
    """This month's terms for the page (term, volume, delivered as text in the term's unit, result, rag) and
    one sentence about them. `running`: the data end before the month does, so a term is below or at its goal
    so far, not missed or met (a review of the 18th said "2 of 4 terms were missed this month" of terms still
    recoverable)."""
    t = terms.copy()
    t["delivered"] = queries.delivered_text(t)
    t["result"] = queries.term_results(t["met"], running)
    t["rag"] = queries.met_status(t["met"])
    judged = int(t["met"].notna().sum())
    missed = int(t["met"].map(lambda v: not narrative.is_missing(v) and not bool(v)).sum())
    if not judged:
        sentence = (
            "No term has had contacts so far this month, so none can be judged yet."
            if running
            else "No term had contacts this month, so none could be judged."
        )
    elif running:
        sentence = (
            f"The month is not over: so far {missed} of {judged} terms with contacts are below their goal and "
            f"{judged - missed} at or above it. The results stand when the month ends."
        )
    elif missed:
        sentence = (
            f"{missed} of {judged} {noun_for(judged, 'term')} {noun_for(missed, 'was', 'were')} missed this month. "
            "Your account team will follow up with the actions we are taking."
        )
    else:
        sentence = f"Every term with contacts this month was met ({judged} of {judged})."
    return t[["term", "volume", "delivered", "result", "rag"]].reset_index(drop=True), sentence


# --- the sections, as the notebook shows them ------------------------------------------------------------


def show_summary(review: ClientReview, currency: str = "$") -> None:
    """The tiles and their commentary."""
    tiles = summary_tiles(review)
    views.tiles(tiles, currency=currency)
    views.commentary(narrative.commentary(tiles))


def show_terms(review: ClientReview) -> None:
    """The contract terms this month and one sentence about them (a note when they could not be evaluated)."""
    terms = review.terms
    if terms is None or not len(terms):
        views.note("Contract terms could not be evaluated for this client.", "missing")
        return
    table, sentence = terms_table(terms, review.running)
    views.table(
        table,
        status={"result": "rag"},
        formats={"volume": "count"},
        labels={"term": "Term", "volume": "Contacts", "delivered": "Delivered", "result": "Result"},
    )
    views.paragraph(sentence)


def _show(review: ClientReview, fig: Any) -> None:
    """views.show, the review's month shaded when the data cover it in part (charts.mark_partial)."""
    label = narrative.partial_label(*review.totals.coverage)
    views.show(charts.mark_partial(fig, review.month, label) if label else fig)


def service_chart(review: ClientReview) -> Any:
    """Phone and chat answered in time per month on the contract's measure (review.service), with each
    channel's contract goal as a line; None without phone calls or chats."""
    svc = review.service
    if not len(svc):
        return None
    within = ", ".join(
        f"{ch} {float(g['threshold_s'].iloc[-1]):g} s"
        + ("" if (g["basis"] == "contract").all() else " (the operation's threshold)")
        for ch, g in svc.groupby("channel", sort=False)
    )
    fig = charts.line_chart(
        svc, "month", "service_level", color="channel", unit="share", title=f"Answered in time ({within})"
    )
    now = svc[svc["month"] == str(review.month)]
    for goal, channels in goal_lines(now).items():
        charts.add_target(fig, goal, f"Contract ({' and '.join(channels)})")
    return fig


def goal_lines(now: pd.DataFrame) -> dict[float, list[str]]:
    """The contract goal lines of the service chart: each distinct goal (a share, 0..1) with the channels whose
    term has it, in the frame's order. Channels with the same goal share one line and one label ('Contract (chat
    and phone)'): two labels at one height would be printed over each other. Channels without a term (goal NaN)
    get no line."""
    lines: dict[float, list[str]] = {}
    for channel, goal in zip(now["channel"], now["goal"]):
        if pd.notna(goal):
            lines.setdefault(float(goal), []).append(str(channel))
    return lines


def show_service(review: ClientReview) -> None:
    """Phone and chat answered in time per month on the contract's measure (service_chart), and the speed of
    answer."""
    fig = service_chart(review)
    if fig is not None:
        _show(review, fig)
    live = review.history[review.history["channel"].isin([c for c, _ in LIVE])]
    if len(live):
        _show(
            review,
            charts.line_chart(live, "month", "asa_s", color="channel", unit="seconds", title="Average speed of answer"),
        )
    if fig is None and not len(live):
        views.paragraph(f"No phone calls or chats in the 13 months to {month_label(review.month)}.")


def show_email(review: ClientReview, client: Any, params: Mapping[str, Any]) -> None:
    """Emails answered within the contract's business hours, per month."""
    first = review.month - 12
    email = queries.email_history(client, params, first, review.month, review.email_threshold_h)
    if len(email) and email["received"].sum() > 0:
        _show(
            review,
            charts.line_chart(
                email.rename(columns={"service_level": "in_time"}),
                "month",
                "in_time",
                unit="share",
                title=f"Emails answered within {review.email_threshold_h:g} business hours",
            ),
        )
    else:
        views.paragraph("No emails were received in the last 13 months.")


def show_reasons(review: ClientReview, client: Any) -> None:
    """The month's contacts by reason (a Pareto chart)."""
    start, end = review.month.start_time, (review.month + 1).start_time
    reasons = queries.contact_reasons(client, start, end, without_people=True)  # no agent's name reaches a client
    if len(reasons):
        views.show(charts.pareto_chart(reasons, title="Contacts by reason", top=10, value_title="Contacts"))
    elif not review.contacts(review.month):
        views.paragraph("There were no contacts this month.")
    else:
        views.paragraph("Contact reasons were not recorded this month.")
