"""A client's review on the client's own contract measure (reportlib.reports.client_review).

Hand-built data: client C1 on the bronze profile (phone 80% in 60 s, chat 75% in 120 s), client C2 on the
standard profile (phone 75% in 60 s, no chat term) with chats, client C3 with contacts in December only. The
operation's default threshold is 30 s (parameters/defaults.yaml), so every figure below differs between the
two measures and the tiles must show the contract's.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from test_validate import GOOD, build

from reportlib.reports import client_review, queries, views

HEADER = GOOD["contacts.csv"].splitlines()[0]


def _rows() -> list[str]:
    rows = []
    n = 0

    def add(client: str, channel: str, day: str, wait: float, outcome: str = "handled") -> None:
        nonlocal n
        n += 1
        handle = "300" if outcome == "handled" else ""
        agent = "A1" if outcome == "handled" else ""
        rows.append(
            f"k{n},{channel},Benefits,{client},{day}T10:{n % 60:02d}:00-05:00,{outcome},{wait:g},{handle},{agent},"
            f"{'true' if outcome == 'handled' else ''},,,,,p{n}"
        )

    # C1, January 2025: phone waits 10 45 50 90 20 -> 4 of 5 within 60 s (80%), 2 of 5 within 30 s
    for w in (10, 45, 50, 90, 20):
        add("C1", "phone", "2025-01-07", w)
    # chat waits 100 and 130 -> 1 of 2 within 120 s (50%), none within 30 s
    for w in (100, 130):
        add("C1", "chat", "2025-01-08", w)
    # C1, December 2024: phone waits 10 and 70 -> 1 of 2 within 60 s (50%)
    for w in (10, 70):
        add("C1", "phone", "2024-12-10", w)
    # C2, January: chats 20 and 50 -> 1 of 2 within the operation's 30 s (no chat term in its contract)
    for w in (20, 50):
        add("C2", "chat", "2025-01-09", w)
    # C3: contacts in December only
    add("C3", "phone", "2024-12-11", 5)
    # C4: the data's last contact, on Friday 31 January: the month is whole
    add("C4", "phone", "2025-01-31", 5)
    return rows


CLIENTS = (
    "client_id,client_name,tier,sla_profile,monthly_fee\n"
    "C1,Acme,mid,bronze,10000\nC2,Beta,small,standard,5000\nC3,Gamma,small,standard,5000\n"
    "C4,Delta,small,standard,5000\n"
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    contacts = HEADER + "\n" + "\n".join(_rows()) + "\n"
    return build(tmp_path_factory.mktemp("cr") / "d", {"clients.csv": CLIENTS, "contacts.csv": contacts})


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))


def review_of(folder, client_id: str) -> client_review.ClientReview:
    ctx = views.start_report("client_review", month="2025-01", data=str(folder), client_id=client_id)
    client = ctx.client_source()
    terms = queries.compliance_history(client, ctx.params, ctx.month - 12, ctx.month)
    return client_review.build(client, ctx.params, ctx.month, terms)


def test_tiles_are_on_the_contract_measure_and_agree_with_the_terms_table(folder):
    review = review_of(folder, "C1")
    tiles = {t.key: t for t in client_review.summary_tiles(review)}
    phone, chat = tiles["phone"], tiles["chat"]
    assert phone.name == "Phone answered within 60 s" and phone.value == pytest.approx(0.8)
    assert phone.target == pytest.approx(0.80) and phone.delta_prev == pytest.approx(0.8 - 0.5)
    assert chat.name == "Chat answered within 120 s" and chat.value == pytest.approx(0.5)
    assert chat.target == pytest.approx(0.75) and chat.note is None
    # the terms table on the same page says the same
    terms = review.terms
    sl = terms[terms["metric"] == "service_level"].set_index("channel")["actual"]
    assert sl["phone"] == pytest.approx(phone.value) and sl["chat"] == pytest.approx(chat.value)
    # the service chart's frame: the contract's measure, both months
    svc = review.service.set_index(["channel", "month"])
    assert svc.loc[("phone", "2024-12"), "service_level"] == pytest.approx(0.5)
    assert set(svc["basis"]) == {"contract"} and svc.loc[("chat", "2025-01"), "threshold_s"] == 120
    # the old tiles read the operation's 30 s: 40% and 0%, "off target" against the 60 s and 120 s goals
    h = review.history.set_index(["channel", "month"])
    assert h.loc[("phone", "2025-01"), "service_level"] == pytest.approx(0.4)
    # C1's contacts start on 10 December: its 2 December contacts are a part of a month, not set against January's
    assert tiles["contacts"].value == 7 and tiles["contacts"].delta_prev is None
    assert tiles["contacts"].note == "not compared with Dec 2024, which has data on 15 of its 21 open days"
    # the chart draws both contract goals (phone 80%, chat 75%; it drew phone's only)
    fig = client_review.service_chart(review)
    assert "phone 60 s" in fig.layout.title.text and "chat 120 s" in fig.layout.title.text
    goals = {a.text: a.y for a in fig.layout.annotations if str(a.text).startswith("Contract")}
    assert goals == {"Contract (phone)": pytest.approx(0.80), "Contract (chat)": pytest.approx(0.75)}


def test_channels_with_the_same_contract_goal_share_one_labelled_line(folder):
    # C1's goals are phone 80% and chat 75%; with both at 80% the two labels were printed over each other
    review = review_of(folder, "C1")
    same = dataclasses.replace(review, service=review.service.assign(goal=0.8))
    fig = client_review.service_chart(same)
    labels = [a.text for a in fig.layout.annotations if str(a.text).startswith("Contract")]
    assert labels == ["Contract (chat and phone)"]
    assert [s.y0 for s in fig.layout.shapes if s.type == "line"] == [pytest.approx(0.8)]
    frame = pd.DataFrame({"channel": ["chat", "phone", "email"], "goal": [0.8, 0.8, float("nan")]})
    assert client_review.goal_lines(frame) == {0.8: ["chat", "phone"]}  # no term, no line


def test_a_channel_without_a_contract_term_is_on_the_operations_threshold_and_says_so(folder):
    review = review_of(folder, "C2")
    tiles = {t.key: t for t in client_review.summary_tiles(review)}
    chat = tiles["chat"]
    assert chat.name == "Chat answered within 30 s" and chat.value == pytest.approx(0.5)
    assert chat.target is None and chat.note == "the operation's threshold: no contract term measured"
    assert "phone" not in tiles  # no phone contacts this month


def test_a_client_without_contacts_this_month_shows_zero_and_no_judged_term(folder):
    review = review_of(folder, "C3")
    tiles = {t.key: t for t in client_review.summary_tiles(review)}
    # its one contact, on 11 December, starts its data: a part of December, not set against January's 0
    assert tiles["contacts"].value == 0 and tiles["contacts"].delta_prev is None
    assert tiles["contacts"].note == "not compared with Dec 2024, which has data on 14 of its 21 open days"
    table, sentence = client_review.terms_table(review.terms)
    assert set(table["result"]) == {"no contacts"}
    assert sentence == "No term had contacts this month, so none could be judged."


def test_terms_read_in_their_own_unit():
    terms = pd.DataFrame(
        {
            "term": ["email csat_mean >= 4.5", "phone service level", "phone asa", "chat fcr"],
            "metric": ["csat_mean", "service_level", "asa_s", "fcr"],
            "volume": [206, 400, 400, 0],
            "actual": [4.4583, 0.756, 21.5, float("nan")],
            "met": [False, False, True, None],
        }
    )
    table, sentence = client_review.terms_table(terms)
    # a mean score is a number (it read 445.8%), a share a percentage, a time seconds
    assert table["delivered"].tolist() == ["4.46", "75.6%", "22 s", "–"]
    assert table["result"].tolist() == ["missed", "missed", "met", "no contacts"]
    assert sentence.startswith("2 of 3 terms were missed this month.")
    assert [queries.metric_unit(m) for m in ("csat_mean", "csat_top2", "aht_s", "abandon_rate")] == [
        "number",
        "share",
        "seconds",
        "share",
    ]


def test_in_a_month_the_data_covers_in_part_the_contacts_are_not_compared_with_whole_months(tmp_path):
    # without C4's contact the data end on Thursday 9 January: 6 of January's 22 open days (23 weekdays, New
    # Year's Day closed, Martin Luther King Day open in parameters/calendar.yaml; covered: Thursday 2, Friday 3,
    # Monday 6 to Thursday 9)
    rows = [r for r in _rows() if ",C4," not in r]
    folder = build(tmp_path / "d", {"clients.csv": CLIENTS, "contacts.csv": HEADER + "\n" + "\n".join(rows) + "\n"})
    review = review_of(folder, "C1")
    assert review.totals.coverage == (6, 22)
    tiles = {t.key: t for t in client_review.summary_tiles(review)}
    contacts = tiles["contacts"]
    assert contacts.value == 7 and contacts.delta_prev is None and contacts.delta_yoy is None
    assert contacts.note == "6 of 22 open days with data: not compared with whole months"
    assert tiles["phone"].delta_prev == pytest.approx(0.8 - 0.5)  # a rate is still compared


def test_the_client_workbook_lists_the_contracts_thresholds(folder):
    from reportlib.reports import workbook

    ctx = views.start_report("client_review", month="2025-01", data=str(folder), client_id="C1")
    book = workbook.client_workbook(ctx.source, ctx.params, "2025-01", "C1")
    # bronze: phone 60 s, chat 120 s, email 16 business hours (it listed the operation's 30 s and 8 h)
    assert book.facts["Service-level threshold (s)"] == "phone 60 (contract); chat 120 (contract); other channels 30"
    assert book.facts["Email target (business hours)"] == 16


def test_no_agents_name_or_id_reaches_a_client_through_a_contact_reason(tmp_path):
    """A probe set reasons such as "Callback promised by Gary Rivera (A0064)": the agent's name and id reached the
    client's review (the Pareto chart's categories), its PDF and its workbook. Reasons a client reads have every
    roster name, id and supervisor replaced by "[agent]", and reasons that then read alike counted together; the
    operation's own reports keep the reasons as written."""
    from reportlib.core.safety import as_latin
    from reportlib.reports import workbook

    agents = GOOD["agents.csv"] + "A0064,Gary Rivera,Team 1,Sue,North,agent,2024-01-01,,,,,1,25\n"
    reasons = [
        "Callback promised by Gary Rivera (A0064)",
        "Callback promised by Ann Lee (A1)",
        "Billing",
        "Billing",
        "Rivera account",  # a review: a reason's first word, capitalised, that is a word of a name stays
    ]
    rows = [
        f"r{i},phone,Benefits,C1,2025-01-{10 + i}T10:00:00-05:00,handled,5,300,A1,true,false,false,5,{why},p{i}"
        for i, why in enumerate(reasons)
    ]
    contacts = HEADER + "\n" + "\n".join(rows) + "\n"
    data = build(tmp_path / "d", {"clients.csv": CLIENTS, "contacts.csv": contacts, "agents.csv": agents})
    ctx = views.start_report("client_review", month="2025-01", data=str(data), client_id="C1")
    shown = queries.contact_reasons(ctx.client_source(), "2025-01-01", "2025-02-01", without_people=True)
    assert shown.to_dict() == {"Billing": 2.0, "Callback promised by [agent] ([agent])": 2.0, "Rivera account": 1.0}
    book = workbook.client_workbook(ctx.source, ctx.params, "2025-01", "C1")
    (sheet,) = [s for s in book.sheets if s.name == "Contact reasons"]
    assert sorted(sheet.frame["reason"]) == ["Billing", "Callback promised by [agent] ([agent])", "Rivera account"]
    text = as_latin(" ".join(map(str, sheet.frame["reason"])))
    assert not any(t in text for t in ("Gary", "A0064", "Ann Lee", "A1"))
    internal = queries.contact_reasons(ctx.source, "2025-01-01", "2025-02-01")
    assert "Callback promised by Gary Rivera (A0064)" in internal.index
