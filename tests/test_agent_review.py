"""Agent 1:1 reviews, the fast parts: the coaching rule, rank bands, team medians, redaction, the
supervisor rule, which runs render agent reviews, and who receives them (hand-calculated cases)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from reportlib.core.safety import AddressError
from reportlib.delivery.mail import NoSupervisor, recipients_for
from reportlib.delivery.run import plan_jobs, select_agent_reviews, select_reports
from reportlib.reports import agent_review as ar

GOALS = {
    "coaching": {
        "tolerance": {"aht_s": 0.05, "contacts_handled": 0.10, "qa": 2, "fcr": 0.02, "adherence": 0.02, "csat": 0.02},
        "min_handled": 20,
        "min_csat_responses": 10,
    }
}


def _card(**over):
    card = {
        "handled": 400.0,
        "contacts_handled_goal": 380.0,
        "aht_s": 810.0,
        "aht_s_goal": 900.0,
        "qa_mean": 90.0,
        "qa_goal": 84.0,
        "qa_evaluations": 3.0,
        "fcr": 0.60,
        "fcr_goal": 0.70,
        "adherence": 0.85,
        "adherence_goal": 0.92,
        "csat_top2": 0.95,
        "csat_goal": 0.80,
        "csat_responses": 5.0,
        "coaching_reasons": "Adherence 7.0 points below goal (85% vs 92%) for 3 months",
    }
    card.update(over)
    return card


# --- the rule -----------------------------------------------------------------------------------------


def test_margin_in_tolerances_by_hand():
    assert ar.margin("aht_s", 855, 900, 0.05) == pytest.approx(1.0)  # (900-855)/900 = 5% = one tolerance
    assert ar.margin("aht_s", 990, 900, 0.05) == pytest.approx(-2.0)  # 10% over the ceiling
    assert ar.margin("qa", 88, 84, 2) == pytest.approx(2.0)  # 4 points / 2
    assert ar.margin("fcr", 0.66, 0.70, 0.02) == pytest.approx(-2.0)  # 4 share points / 2
    assert ar.margin("contacts_handled", 418, 380, 0.10) == pytest.approx(1.0)  # +10% / 10%


def test_strengths_and_coaching_points_by_hand():
    strengths, coaching = ar.choose_points(_card(), GOALS)
    # margins: QA (90-84)/2 = 3.0; AHT (900-810)/900/0.05 = 2.0; handled (400-380)/380/0.10 = 0.53 (on goal,
    # neither); FCR (0.60-0.70)/0.02 = -5.0; adherence -3.5 but flagged by the scorecard; CSAT has 5 < 10
    # responses: not judged although 95% against 80%.
    assert [(p.key, round(p.score, 6)) for p in strengths] == [("qa", 3.0), ("aht_s", 2.0)]
    assert [p.key for p in coaching] == ["adherence", "fcr"]  # the flag first, then the largest other miss
    assert coaching[0].reason.startswith("Adherence 7.0 points below goal") and math.isinf(coaching[0].score)
    assert coaching[1].score == pytest.approx(5.0) and "60.0% against a goal of 70.0%" in coaching[1].reason
    assert "csat" not in {p.key for p in strengths + coaching}


def test_rule_boundaries_and_limits():
    # exactly one tolerance better is a strength; 0.99 of one is not
    s, _ = ar.choose_points(_card(aht_s=855.0, qa_mean=85.98, coaching_reasons=""), GOALS)
    assert [p.key for p in s] == ["aht_s"]
    # enough responses: CSAT (0.95-0.80)/0.02 = 7.5 is the largest strength
    s, c = ar.choose_points(_card(csat_responses=10.0, coaching_reasons=""), GOALS)
    assert [p.key for p in s] == ["csat", "qa", "aht_s"]
    assert [p.key for p in c] == ["fcr", "adherence"]  # 5.0 before 3.5 when nothing is flagged
    # at most max_points; a QA critical-error flag leads
    _, c = ar.choose_points(_card(coaching_reasons="2 QA critical errors this month"), GOALS, max_points=2)
    assert [p.key for p in c] == ["qa_critical", "fcr"]
    # too few contacts: AHT and FCR are not judged
    s, c = ar.choose_points(_card(handled=19.0, contacts_handled_goal=19.0, coaching_reasons=""), GOALS)
    assert "aht_s" not in {p.key for p in s} and "fcr" not in {p.key for p in c}


def test_rank_band_quartiles_by_hand():
    assert [ar.rank_band(r, 8) for r in range(1, 9)] == [
        "top quartile",
        "top quartile",
        "second quartile",
        "second quartile",
        "third quartile",
        "third quartile",
        "bottom quartile",
        "bottom quartile",
    ]
    # 6 agents: floor(4*(r-1)/6) = 0,0,1,2,2,3
    assert [ar.rank_band(r, 6) for r in range(1, 7)] == [
        "top quartile",
        "top quartile",
        "second quartile",
        "third quartile",
        "third quartile",
        "bottom quartile",
    ]
    assert ar.rank_band(1, 5) is None  # 4 others < MIN_OTHERS = 5
    assert ar.rank_band(0, 8) is None and ar.rank_band(9, 8) is None


def test_team_median_needs_enough_others():
    cards = pd.DataFrame(
        {
            "agent_id": ["me", "a", "b", "c", "d", "e", "x"],
            "team": ["T", "T", "T", "T", "T", "T", "U"],
            "aht_s": [100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 9999.0],
            "qa_mean": [90.0, 80.0, 70.0, None, 60.0, 50.0, 1.0],
        }
    )
    got = ar.team_medians(cards, "me", ["aht_s", "qa_mean"])
    assert got["aht_s"] == 400.0  # median of 200..600 (other team and own value left out)
    assert got["qa_mean"] is None  # 4 others with a value < 5
    assert ar.team_medians(cards, "me", ["qa_mean"], min_others=4)["qa_mean"] == 65.0


def test_team_median_counts_only_colleagues_judged_on_the_measure():
    """Colleagues in training (no contact handled) or of fte 0 are not judged on volume (their `_met` is null):
    their zeros pulled the team's contacts median down (6 colleagues 400..900 and two new hires at 0 read 525
    instead of 650). A measure without a judged column counts every colleague with a value, as before."""
    cards = pd.DataFrame(
        {
            "agent_id": ["me", "a", "b", "c", "d", "e", "f", "new1", "new2"],
            "team": ["T"] * 9,
            "handled": [500.0, 400.0, 500.0, 600.0, 700.0, 800.0, 900.0, 0.0, 0.0],
            "contacts_handled_met": [True, False, True, True, True, True, True, None, None],
            "qa_mean": [90.0, 80.0, 70.0, 60.0, 50.0, 40.0, 30.0, 20.0, 10.0],
        }
    )
    cards["contacts_handled_met"] = cards["contacts_handled_met"].astype("boolean")
    judged = {"handled": "contacts_handled_met", "qa_mean": "qa_met"}  # no qa_met column: every colleague
    got = ar.team_medians(cards, "me", ["handled", "qa_mean"], judged=judged)
    assert got == {"handled": 650.0, "qa_mean": 45.0}
    assert ar.team_medians(cards, "me", ["handled"])["handled"] == 550.0  # without `judged`: the zeros counted
    assert ar.team_medians(cards.drop(index=[1, 2]), "me", ["handled"], judged=judged)["handled"] is None  # 4 judged


# --- text from data -------------------------------------------------------------------------------------


def test_redactor_keeps_own_name_and_removes_others():
    r = ar.Redactor(
        ["Ann Lee", "A12"],
        ["Ann", "Ann Leeds", "O'Brien & Sons", "<script>alert(1)</script>", "A1", "A123", "Al"],
    )
    text = "Ann Lee (A12) helped Ann Leeds and ann; O'Brien & Sons; x<script>alert(1)</script>; A1, A123. Also"
    out = r(text)
    assert out == (
        "Ann Lee (A12) helped [another agent] and [another agent]; [another agent]; "
        "x[another agent]; [another agent], [another agent]. Also"
    )
    assert ar.Redactor([], [])("plain") == "plain" and r(None) == ""


def test_redactor_finds_names_written_as_people_write_them():
    """A probe's QA comments named colleagues with two spaces or a no-break space between the words, by first or
    last name alone, in an e-mail address or with an initial: all reached the agent's review. A lower-case word
    that is also a name word is kept; the agent's own name is kept however it is spaced."""
    r = ar.Redactor(["Judith Harris", "A0004"], ["Patrick Ross", "A0010", "Diane Young", "Gary Adams", "Will Hunt"])
    cases = {
        "patrick  ross was great": "[another agent] was great",
        "Patrick\u00a0Ross": "[another agent]",
        "ask Patrick; Ross's call": "ask [another agent]; [another agent]'s call",
        "mail diane.young@corp.example": "mail [another agent]@corp.example",
        "Gary A. and ADAMS": "[another agent]. and [another agent]",
        # a second probe: run together, with an initial, an initial in an address
        "cc d.young@corp.example, dyoung@corp.example": "cc [another agent]@corp.example, [another agent]@corp.example",
        "PatrickRoss helped; P. Ross too": "[another agent] helped; [another agent] too",
        "Harris, J. and jharris@corp.example": "Harris, J. and jharris@corp.example",  # the agent's own
        "escalated to ross": "escalated to ross",  # a lone lower-case word stays (names that are words)
        "P ROSS and Patrick R. too": "[another agent] and [another agent]. too",
        "we will call and hunt for a fix": "we will call and hunt for a fix",
        "Judith  Harris did well; judith too; a0010": "Judith  Harris did well; judith too; [another agent]",
    }
    assert {text: r(text) for text in cases} == cases
    # a review probe: a curly apostrophe, an accent dropped, a hyphenated first name in another case all let a
    # colleague's name through; the agent's own team's words stay ("Team Price", though a colleague is Sam Price)
    r = ar.Redactor(
        ["Ann Lee", "A0001", "Team Price"],
        ["Sean O'Brien", "Chloé Dubois", "D'Angelo Russell", "Mary-Kate Olsen", "Sam Price"],
    )
    cases = {
        "Sean O’Brien took the call; S. O’BRIEN": "[another agent] took the call; [another agent]",
        "D’Angelo helped Chloe Dubois": "[another agent] helped [another agent]",
        "Mary-kate said": "[another agent] said",
        "Team Price and Sam Price": "Team Price and [another agent]",
    }
    assert {text: r(text) for text in cases} == cases


def test_redactor_reads_names_in_any_script_form_and_ids_as_written():
    """A probe: letters outside U+00C0-U+024F ("Trần Quốc Bảo", "Nguyễn", "Ṣọlá Adébáyọ̀"), a name written with
    combining accents, Cyrillic look-alike letters ("Rоb Stоne") and full-width ids reached an agent's review;
    another agent's id differing from the agent's own in case or separators only ("AG1" beside "ag1") was kept
    as the agent's own. Each is redacted; the agent's own name and id as written are kept."""
    import unicodedata

    r = ar.Redactor(
        ["ag1", "Roy Olson", "A.B"],
        ["AG1", "A_B", "A0003", "Trần Quốc Bảo", "Nguyễn Ánh", "Ṣọlá Adébáyọ̀", "Rob Stone", "Иван Петров"],
    )
    cases = {
        "Trần Quốc Bảo was on the call; ask Quốc": "[another agent] was on the call; ask [another agent]",
        "Ask Nguyễn about it": "Ask [another agent] about it",
        "Ṣọlá Adébáyọ̀ helped": "[another agent] helped",
        unicodedata.normalize("NFD", "Nguyễn Ánh said"): "[another agent] said",
        "Rоb Stоne and RОB": "[another agent] and [another agent]",  # Cyrillic о
        "ИВАН ПЕТРОВ и Петров": "[another agent] и [another agent]",
        "(ag1) AG1 A_B A.B a.b": "(ag1) [another agent] [another agent] A.B [another agent]",
        "Ａ0003 helped": "[another agent] helped",  # a full-width id
        "Roy Olson, roy olson and RОY": "Roy Olson, roy olson and RОY",  # the agent's own, any case or look-alike
        "quoc and resume, naive cafe": "quoc and resume, naive cafe",  # lower-case words stay
        "Rob™ helped; №Rob; RobⓇ": "[another agent]™ helped; №[another agent]; [another agent]Ⓡ",
    }
    assert {text: r(text) for text in cases} == cases
    # a review of the first version: Korean syllables read as their first consonant matched ordinary words, a
    # Thai vowel sign lost the word's end, a name of combining marks alone matched everywhere, and a comment with
    # nothing redacted came back recomposed (a compatibility ideograph replaced)
    r = ar.Redactor(["A1", "김민준"], ["A2", "박지훈", "A3", "이지은", "A4", "คำ", "A5", "́"])
    cases = {
        "부진한 부분은 이제요 확인, 오전에 처리": "부진한 부분은 이제요 확인, 오전에 처리",
        "박지훈 님과 이지은 님": "[another agent] 님과 [another agent] 님",
        "คำถามของลูกค้า; คำ": "คำถามของลูกค้า; [another agent]",
        "Good call \u212b \ufa19 e\u0301": "Good call \u212b \ufa19 e\u0301",
    }
    assert {text: r(text) for text in cases} == cases
    # a second review: full-width punctuation between a name's parts or in an id, a title-case letter ("ǅ") and a
    # roster value of punctuation alone ("-", which blanked every hyphen)
    r = ar.Redactor(["A1", "Ann Lee"], ["AG-017", "Donald Patterson", "Sean O'Brien", "ǅemal Hodžić", "-", "..."])
    cases = {
        "id ag－017; ｄｏｎａｌｄ．ｐａｔｔｅｒｓｏｎ": "id [another agent]; [another agent]",
        "Talked to Ｏ＇Ｂｒｉｅｎ today": "Talked to [another agent] today",
        "ǅemal helped": "[another agent] helped",
        "follow-up on e-mail...": "follow-up on e-mail...",
    }
    assert {text: r(text) for text in cases} == cases


def test_initials_never_blank_ordinary_words():
    """A review: a colleague's initial and surname in any case blanked "along" (Amy Long), "award" (Alice Ward),
    "shall" (Sarah Hall), "chat" (Cathy Hat), and "a long wait"; only a name's capitals or an address match."""
    r = ar.Redactor(["Ann Lee"], ["Amy Long", "Alice Ward", "Sarah Hall", "Cathy Hat", "Tom Rust"])
    text = "Moved to chat along the way; a long wait, we shall award trust."
    assert r(text) == text
    assert r("A. Long and S HALL; mail along@corp.example or t.rust@x.example") == (
        "[another agent] and [another agent]; mail [another agent]@corp.example or [another agent]@x.example"
    )


def test_redactor_finds_ids_typed_with_separators_names_surname_first_handles_and_hidden_characters():
    """A probe's comments reached the supervisor's page with colleagues named as people type them: an id with a
    separator between its letters and digits ("A-0108", "a_0064", a no-break space), a name surname first
    ("richardson.rebecca@", "Richardson, Rebecca"), a first name and an initial before an "@" ("garyr@"), a handle
    ("@grivera") and an initial run into a surname ("JMeyer"), and a name with a zero-width space or a soft hyphen
    inside ("Gar\u200by Riv\u200bera" reads "Gary Rivera"). Each is redacted; the agent's own forms kept;
    lower-case run-together forms without an "@" stay (they are how "along" reads for Amy Long)."""
    r = ar.Redactor(["A0006", "Ann Lee"], ["A0108", "A0064", "Rebecca Richardson", "Gary Rivera", "Joan Meyer"])
    cases = {
        "A-0108, A 0108, a_0064, A.0108 and A\u00a00108": ", ".join(["[another agent]"] * 4) + " and [another agent]",
        "A0108x and A01080 are other codes": "A0108x and A01080 are other codes",
        "richardson.rebecca@corp.example; Richardson, Rebecca": "[another agent]@corp.example; [another agent]",
        "cc garyr@x, gary_r@x and rebeccar@corp.example": "cc [another agent]@x, [another agent]@x and "
        "[another agent]@corp.example",
        "ask @grivera or @g.rivera; JMeyer agreed": "ask [another agent] or [another agent]; [another agent] agreed",
        "Ask Gar\u200by Riv\u200bera; Ri\u00advera; Joan\u2060Meyer": "Ask [another agent]; [another agent]; "
        "[another agent]",
        "G\u200b. Rivera said": "[another agent] said",
        "A-0006, Lee, Ann and ann.l@x are mine": "A-0006, Lee, Ann and ann.l@x are mine",
        "grivera and jmeyer stay": "grivera and jmeyer stay",
        "Gary Rıvera and Gɑry": "[another agent] and [another agent]",  # a dotless ı, a script ɑ
    }
    assert {text: r(text) for text in cases} == cases
    # a colleague whose name is the agent's reversed: that order is theirs, and is redacted
    assert ar.Redactor(["Ann Lee"], ["Lee Ann"])("Lee, Ann; Ann Lee") == "[another agent]; Ann Lee"
    # a review: a short id's letter and digits apart are ordinary text ("a 5 minute hold" for A5), and so is a word
    # in capitals that an initial and a surname spell ("ALONG" for Amy Long): kept
    r = ar.Redactor(["A1"], ["A2", "A5", "B12", "Amy Long", "Sarah Hall", "Gary Ross"])
    plain = "The caller gave a 2; put on a 5 minute hold; Tier B 12 queue. PLEASE READ ALONG, WE SHALL, GROSS PAY"
    assert r(plain) == plain
    assert r("A5, a-5 and B-12") == "[another agent], [another agent] and [another agent]"


def test_supervisor_id_rule():
    roster = pd.DataFrame({"agent_id": ["S1", "A1", "A2", "A3"], "name": ["Pat Boss", "Dup", "Dup", "Zed"]})
    assert ar.supervisor_id("S1", roster) == "S1"  # an agent_id
    assert ar.supervisor_id("Pat Boss", roster) == "S1"  # the one row with that name
    assert ar.supervisor_id("Dup", roster) is None  # two people share the name
    assert ar.supervisor_id("Nobody", roster) is None and ar.supervisor_id(None, roster) is None
    # with roles in the roster, a name names a lead or supervisor only: an agent who shares the name of an
    # off-roster supervisor does not get the reviews of that supervisor's team
    roles = roster.assign(role=["supervisor", "agent", "lead", "agent"])
    assert ar.supervisor_id("Pat Boss", roles) == "S1"
    assert ar.supervisor_id("Dup", roles) == "A2"  # the one of the two namesakes who leads
    assert ar.supervisor_id("Zed", roles) is None  # an agent, not a supervisor
    # an agent_id names a lead or supervisor too: a peer's id typed in the column sent them the review
    assert ar.supervisor_id("A3", roles) is None and ar.supervisor_id("S1", roles) == "S1"
    # a supervisor who left before the month's end gets no review of the team they left (by id or by name)
    left = roles.assign(termination_date=pd.to_datetime(["2026-06-30", None, "2026-11-30", None]))
    assert (
        ar.supervisor_id("S1", left, "2026-11-30") is None and ar.supervisor_id("Pat Boss", left, "2026-11-30") is None
    )
    assert ar.supervisor_id("A2", left, "2026-11-30") == "A2"  # leaves on the month's last day: still employed
    assert ar.supervisor_id("S1", left, "2026-06-30") == "S1"  # June's reviews still go to them
    # one hired after the month gets none of it; an empty role named by id is unknown, not an agent
    later = roles.assign(hire_date=pd.to_datetime(["2026-10-05", "2020-01-01", "2020-01-01", "2020-01-01"]))
    assert ar.supervisor_id("S1", later, "2026-09-30") is None and ar.supervisor_id("S1", later, "2026-10-31") == "S1"
    assert ar.supervisor_id("A3", roles.assign(role=["supervisor", "agent", "lead", None])) == "A3"


# --- which runs render agent reviews -----------------------------------------------------------------------


def _sel(reports, agents, sched_agents=None, sched_reports=None):
    params = {"schedule": {"reports": sched_reports or ["sla", "client_review"], "agents": sched_agents}}
    chosen, _ = select_reports(reports, None, params)
    return select_agent_reviews(chosen, agents, params, narrowed=bool(reports))


def test_agent_reviews_are_off_by_default_and_turned_on_by_a_parameter():
    assert _sel(None, None, "none") == (["sla", "client_review"], None)
    assert _sel(None, None, None)[1] is None
    assert _sel(None, None, "all") == (["sla", "client_review", "agent_review"], "all")
    assert _sel(None, None, ["A1"])[1] == ["A1"]
    assert _sel(None, "A1,A2", "none") == (["sla", "client_review", "agent_review"], "A1,A2")
    assert _sel(None, "none", "all") == (["sla", "client_review"], None)
    assert _sel(["sla"], None, "all") == (["sla"], None)  # --reports narrows the run
    assert _sel(["agent_review"], None, "none") == (["agent_review"], "all")
    # no reports list in the schedule: every report except agent reviews
    chosen, _ = select_reports(None, None, {"schedule": {}})
    assert "agent_review" not in chosen and "client_review" in chosen


def test_plan_jobs_names_agent_reviews_through_the_safe_path():
    subjects = [ar.Subject("../up", "O'Brien & Sons", "Pat", "S1"), ar.Subject("A/B", None, None, None)]
    subjects.append(ar.Subject("A_B", "x", None, None))
    jobs = plan_jobs("2026-03", ["agent_review"], None, data="d", params_file=None, agents=subjects)
    stems = [j.stem for j in jobs]
    assert len(set(stems)) == 3 and all("/" not in s and ".." not in s for s in stems)
    assert stems[0].startswith("agent_review_up_") and jobs[0].parameters["agent_id"] == "../up"
    assert jobs[0].key == ("agent_review", "../up") and jobs[0].client_id is None
    assert jobs[0].title == "O'Brien & Sons: agent review, March 2026"


# --- who receives a review -------------------------------------------------------------------------------


def _entry(**over):
    e = {"report": "agent_review", "client_id": None, "agent_id": "A7", "supervisor": "Pat Boss", "supervisor_id": "S1"}
    e.update(over)
    return e


def test_each_review_goes_to_its_supervisor_only():
    dist = {
        "supervisors": {"Pat Boss": ["pat@corp.test"]},
        "supervisor_default": ["lead+{supervisor_id}@corp.test"],
        "account_team_default": ["team+{client_id}@corp.test"],
        "executives": ["ceo@corp.test"],
        "cc": ["everyone@corp.test"],
        "allowed_domains": ["corp.test"],
    }
    assert recipients_for(_entry(), dist, None) == ["pat@corp.test"]
    assert recipients_for(_entry(supervisor="Kim Lead", supervisor_id="S2"), dist, None) == ["lead+S2@corp.test"]
    with pytest.raises(NoSupervisor, match="agent A7 has no supervisor"):
        recipients_for(_entry(supervisor=None), dist, None)
    with pytest.raises(NoSupervisor, match="is not the agent_id or the one name of a lead or supervisor"):
        recipients_for(_entry(supervisor="Dup", supervisor_id=None), dist, None)
    with pytest.raises(NoSupervisor, match="not listed"):
        recipients_for(_entry(supervisor="Kim Lead"), dict(dist, supervisor_default=[]), None)
    with pytest.raises(AddressError, match="supervisor id '../x' cannot be put into the address"):
        recipients_for(_entry(supervisor="Kim Lead", supervisor_id="../x"), dist, None)
    with pytest.raises(AddressError, match="not in distribution.allowed_domains"):
        recipients_for(_entry(), dict(dist, supervisors={"Pat Boss": ["pat@evil.test"]}), None)


# --- volume goals: no contact handled, a month the data cover in part ----------------------------------------


def test_no_contact_handled_is_not_a_coaching_point():
    # a new hire in training: scheduled, evaluated, no contact handled; (0 - 380) / 380 / 0.10 = -10 tolerances
    card = _card(handled=0.0, aht_s=float("nan"), fcr=float("nan"), coaching_reasons="", contacts_handled_met=None)
    _, coaching = ar.choose_points(card, GOALS)
    assert "contacts_handled" not in {p.key for p in coaching}
    row = ar.goals_table(card, {}).set_index("key").loc["contacts_handled"]
    assert row["met"] is None and row["note"] == "no contacts handled: not rated"


def test_a_pro_rated_goal_is_said_in_the_point():
    card = _card(handled=99.0, contacts_handled_goal=380 * 12 / 21, coaching_reasons="")
    card["goal_note"] = "goal pro-rated to the 12 of 21 open days with data"
    _, coaching = ar.choose_points(card, GOALS)
    # (99 - 217.1) / 217.1 / 0.10 = -5.4 tolerances
    point = next(p for p in coaching if p.key == "contacts_handled")
    assert point.score == pytest.approx((217.142857 - 99) / 217.142857 / 0.10, rel=1e-6)
    assert point.reason == "99 against a goal of 217 (goal pro-rated to the 12 of 21 open days with data)"


def _partial_march(tmp_path):
    """A1 handles 220 contacts on the open days 3-18 March 2025 (the data end on Tuesday 18th); A3, hired
    Monday 3 March, is in training: scheduled every open day, no contact handled."""
    from test_validate import GOOD, build

    days = list(pd.bdate_range("2025-03-03", "2025-03-18"))  # 12 open days (no closed holiday)
    lines = [GOOD["contacts.csv"].splitlines()[0]]
    for i in range(220):
        day = days[i % len(days)]
        lines.append(
            f"k{i},phone,Benefits,C1,{day:%Y-%m-%d}T10:{i % 60:02d}:00-05:00,handled,12,300,A1,true,false,false,5,"
            f"Eligibility,p{i}"
        )
    agents = GOOD["agents.csv"] + "A3,Cy Dale,Team 1,Sue,North,agent,2025-03-03,,,,,1,25\n"
    activity = GOOD["agent_activity.csv"].splitlines()[0] + "\n"
    activity += "".join(f"{d:%Y-%m-%d},{a},28800,27000,0,0,0,0,0,0,0,false,27000\n" for d in days for a in ("A1", "A3"))
    return build(
        tmp_path / "d", {"contacts.csv": "\n".join(lines) + "\n", "agents.csv": agents, "agent_activity.csv": activity}
    )


def test_review_of_a_partial_month_pro_rates_the_goal_and_does_not_rate_a_trainee(tmp_path, monkeypatch):
    from reportlib.core.params import load_params
    from reportlib.data.load import open_source

    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    params = load_params(None)
    source = open_source(str(_partial_march(tmp_path)), tz=params["timezone"])
    review = ar.build(source, params, "2025-03", "A1")
    # 380 a month (goals.yaml) x 12 of March's 21 open days with data = 217.14; 220 handled meets it (against the
    # whole month's 380 it was "Contacts handled 42% below goal this month", a coaching point)
    assert review.card is not None
    assert review.card["contacts_handled_goal"] == pytest.approx(380 * 12 / 21)
    assert bool(review.card["contacts_handled_met"]) is True
    assert "Contacts handled" not in review.card["coaching_reasons"]
    assert "contacts_handled" not in {p.key for p in review.coaching}
    row = review.goals.set_index("key").loc["contacts_handled"]
    assert row["note"] == "goal pro-rated to the 12 of 21 open days with data"
    # 12 days' contacts are not set against February's whole month ("▼ 152 vs last month"); rates still are
    tiles = {t.key: t for t in ar.summary_tiles(review)}
    assert tiles["contacts_handled"].delta_prev is None and tiles["contacts_handled"].value == 220
    trainee = ar.build(source, params, "2025-03", "A3")
    assert trainee.card is not None and trainee.card["handled"] == 0
    assert "contacts_handled" not in {p.key for p in trainee.coaching}  # was "Contacts handled 100% below goal"
    row = trainee.goals.set_index("key").loc["contacts_handled"]
    assert row["met"] is None and row["note"] == "no contacts handled: not rated"


def test_a_reviews_team_median_leaves_out_colleagues_in_training(tmp_path, monkeypatch):
    """March 2025 (data to the 18th) of a team of eight: A1 (220 contacts), five colleagues handling 100-300 and
    two new hires in training (scheduled, no contact). A1's review sets the contacts against the median of the
    five judged on volume, 200, not of the seven with the trainees' zeros (150)."""
    from reportlib.core.params import load_params
    from reportlib.data.load import open_source

    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    folder = _partial_march(tmp_path)
    days = list(pd.bdate_range("2025-03-03", "2025-03-18"))
    counts = {"A4": 100, "A5": 150, "A6": 200, "A7": 250, "A8": 300}
    with open(folder / "contacts.csv", "a") as f:
        for agent, n in counts.items():
            for i in range(n):
                f.write(
                    f"{agent}k{i},phone,Benefits,C1,{days[i % len(days)]:%Y-%m-%d}T11:{i % 60:02d}:00-05:00,handled,"
                    f"12,300,{agent},true,false,false,5,Eligibility,{agent}p{i}\n"
                )
    with open(folder / "agents.csv", "a") as f:
        for agent in [*counts, "A9"]:
            hired = "2025-03-03" if agent == "A9" else "2024-01-01"
            f.write(f"{agent},Person {agent},Team 1,Sue,North,agent,{hired},,,,,1,25\n")
    with open(folder / "agent_activity.csv", "a") as f:
        f.write("".join(f"{d:%Y-%m-%d},A9,28800,27000,0,0,0,0,0,0,0,false,27000\n" for d in days))
    params = load_params(None)
    review = ar.build(open_source(str(folder), tz=params["timezone"]), params, "2025-03", "A1")
    row = review.goals.set_index("key").loc["contacts_handled"]
    assert row["value"] == 220 and row["team_median"] == 200.0
    # a measure without a goal for anyone keeps its team median (a review: the judged filter emptied it)
    params["goals"]["defaults"]["aht_s"] = None
    review = ar.build(open_source(str(folder), tz=params["timezone"]), params, "2025-03", "A1")
    assert review.goals.set_index("key").loc["aht_s", "team_median"] == 300.0


# --- the page's summary -------------------------------------------------------------------------------


def _review(**card_over):
    """A review of November 2026 from `_card`, October's figures in the trend (handled 289, QA 87.37)."""
    card = _card(**card_over)
    trend = pd.DataFrame(
        {
            "month": ["2026-10", "2026-11"],
            "handled": [289.0, card["handled"]],
            "aht_s": [830.0, card["aht_s"]],
            "fcr": [0.62, card["fcr"]],
            "csat_top2": [0.90, card["csat_top2"]],
            "adherence": [0.80, card["adherence"]],
            "qa_mean": [87.37, card["qa_mean"]],
            "qa_evaluations": [3.0, 3.0],
        }
    )
    return ar.AgentReview("A1", "Ann Lee", "North", "2026-11", card, ar.goals_table(card, {}), trend, pd.DataFrame())


def test_a_volume_is_not_compared_with_a_last_month_the_agent_or_the_data_cover_in_part():
    """An agent hired on Monday 19 October 2026 handled 10 of October's 22 open days (weekdays; no closed holiday
    in October): November's contacts handled was set against those 10 days ("▲ 150 vs last month"). Rates are
    still compared; a whole last month, or none at all, gives no note."""
    from reportlib.core.params import load_params
    from reportlib.metrics.sla import business_calendar

    cal = business_calendar(load_params(None))

    def part(hired: str, data: tuple | None = None) -> str:
        return ar.last_month_part(pd.DataFrame({"agent_id": ["A9"], "hire_date": [hired]}), "2026-11", cal, data)

    assert (
        part("2026-10-19")
        == "not compared with last month (last month's goal pro-rated to the 10 of 22 open days employed)"
    )
    assert part("2026-09-19") == "" and part("2026-11-02") == ""  # whole, and not employed (no figure)
    # hired on Saturday 31 October, a closed day: employed on none of October's open days, not a whole month
    assert part("2026-10-31") == (
        "not compared with last month (last month's goal pro-rated to the 0 of 22 open days employed)"
    )
    assert part("2026-10-31", (pd.Timestamp("2026-11-02"), None)) == ""  # the data start after it: no figure
    data = (pd.Timestamp("2026-10-05"), None)  # the data start on Monday 5 October: 20 of 22 open days
    assert part("2026-09-19", data) == (
        "not compared with last month (last month's goal pro-rated to the 20 of 22 open days with data)"
    )
    review = _review(handled=330.0)
    review.prev_part = part("2026-10-19")
    tiles = {t.key: t for t in ar.summary_tiles(review)}
    assert tiles["contacts_handled"].delta_prev is None and tiles["contacts_handled"].note == review.prev_part
    assert tiles["aht_s"].delta_prev is not None  # a rate is compared


def test_summary_tiles_compare_with_last_month_only_and_show_qa_as_the_goals_table():
    """The review passes no year-ago figure: its tiles said "no data for last year" on every tile. The QA tile
    read "82.96" (target "84.00") where the goals table reads "83.0" (target "84.0")."""
    from reportlib.reports import narrative

    review = _review(handled=330.0, qa_mean=82.96)
    tiles = {t.key: t for t in ar.summary_tiles(review)}
    markup = narrative.tiles_html(tiles.values())
    assert "last year" not in markup and "no data for" not in markup
    assert tiles["contacts_handled"].delta_prev == 41  # 330 - 289
    assert "▲ 41 vs last month" in markup
    qa = narrative.tiles_html([tiles["qa"]])
    assert ">83.0<" in qa and "Target ≥ 84.0" in qa and "▼ 4.4 vs last month" in qa  # 82.96 - 87.37 = -4.41
    assert "82.96" not in qa
    goals = review.goals.set_index("key")
    shown = narrative.format_value(goals.loc["qa", "value"], "number", digits=ar.QA_DIGITS)
    assert shown == "83.0" and f">{shown}<" in qa


def test_summary_names_the_month_in_words(monkeypatch):
    """The subtitle and the goals sentence said "2026-11"."""
    from reportlib.reports import views

    shown: list[str] = []
    monkeypatch.setattr(views, "show_html", shown.append)
    monkeypatch.setattr(views, "paragraph", shown.append)
    monkeypatch.setattr(views, "tiles", lambda items, currency="$": None)
    ar.show_summary(_review(goals_met=5, goals_total=6))
    text = "\n".join(shown)
    assert "Ann Lee · North · November 2026</p>" in text
    assert "5 of 6 goals met in November 2026." in text
    assert "2026-11" not in text


def test_the_mailed_qa_tile_reads_as_the_page():
    """The e-mail body drew the QA tile with two decimals (82.96) while the page showed 83.0."""
    from reportlib.delivery.mail import _display_tile

    qa = next(t for t in ar.summary_tiles(_review(handled=330.0, qa_mean=82.96)) if t.key == "qa")
    shown = _display_tile(qa.as_dict())
    assert shown["value_text"] == "83.0" and shown["target_text"] == "≥ 84.0"
    assert shown["deltas"][0][0] == "-4.4 vs last month"  # 82.96 - 87.37
