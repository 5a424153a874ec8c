"""Tiles, RAG status, commentary sentences and the house table, checked against hand-worked values."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from reportlib.reports import narrative as n
from reportlib.reports import queries as q


@pytest.mark.parametrize(
    "value,unit,expected",
    [
        (0.763, "share", "76.3%"),
        (0.8, "share", "80.0%"),
        (412.4, "seconds", "412 s"),
        (1234.4, "count", "1,234"),
        (5.6789, "currency", "$5.68"),
        (123456.7, "currency", "$123,457"),
        (-250.0, "currency", "-$250"),
        (12.34, "fte", "12.3 FTE"),
        (-8.4, "points", "-8.4"),  # percentage points: one decimal (a float column read '-8.40')
        (-0.04, "points", "0.0"),
        (None, "share", "–"),
        (np.nan, "count", "–"),
        # a half rounds away from zero on the value as written, as a spreadsheet shows its cell (a probe: the page
        # read 13 of 16 as 81.2%, QA 88.05 as 88.0 and a fee of $174.50 as $174, the workbook 81.3%, 88.1, $175)
        (13 / 16, "share", "81.3%"),
        (0.285, "share", "28.5%"),  # 0.285 x 100 in binary is 28.499...
        (88.05, "number", "88.05"),
        (174.5, "currency", "$175"),
        (-174.5, "currency", "-$175"),
        (2.5, "count", "3"),
        (-0.0004, "currency", "$0.00"),  # never "-$0.00"
    ],
)
def test_format_value(value, unit, expected):
    assert n.format_value(value, unit) == expected


def test_a_half_rounds_as_the_workbooks_cell_shows_it():
    """Excel and LibreOffice round a shown cell half away from zero on its decimal value; Python's format rounds
    the binary value half to even (88.05 is 88.0499... in binary)."""
    assert n.format_value(88.05, "number", digits=1) == "88.1" and f"{88.05:.1f}" == "88.0"
    assert n.format_value(91.45, "number", digits=1) == "91.5"
    assert n.format_value(0.0005, "share", digits=1) == "0.1%" and n.format_value(-0.00049, "share") == "0.0%"
    assert n.fixed(1234567.125, 2) == "1,234,567.13" and n.fixed(1234567.125, 2, grouped=False) == "1234567.13"
    assert n.format_change(0.00125, "share") == "+0.1 pts" and n.format_change(42.5, "currency") == "+$42.50"


def test_format_change_in_points_for_shares():
    assert n.format_change(-0.041, "share") == "-4.1 pts"
    assert n.format_change(0.012, "share") == "+1.2 pts"
    assert n.format_change(12, "seconds") == "+12 s"
    assert n.format_change(None, "share") == "–"


@pytest.mark.parametrize(
    "value,target,hib,expected",
    [
        (0.80, 0.80, True, "green"),  # meeting the target exactly is green
        (0.79, 0.80, True, "amber"),  # within 5% of 0.80 (0.76 .. 0.80)
        (0.76, 0.80, True, "amber"),  # the band's edge
        (0.75, 0.80, True, "red"),
        (0.04, 0.05, False, "green"),  # lower is better (abandon rate)
        (0.0525, 0.05, False, "amber"),  # 5% over a 5% ceiling is 0.0525
        (0.06, 0.05, False, "red"),
        (None, 0.8, True, "none"),
        (0.8, None, True, "none"),
    ],
)
def test_rag_status(value, target, hib, expected):
    assert n.rag_status(value, target, hib) == expected


def test_rag_absolute_band():
    assert n.rag_status(0.78, 0.80, True, amber_abs=0.01) == "red"
    assert n.rag_status(0.795, 0.80, True, amber_abs=0.01) == "amber"


def test_tile_deltas_and_dict():
    t = n.make_tile("Service level", 0.763, "share", target=0.80, prev=0.804, yoy=0.75)
    assert t.delta_prev == pytest.approx(-0.041)
    assert t.delta_yoy == pytest.approx(0.013)
    assert t.status == "amber"  # 0.763 is within 0.04 of 0.80
    d = t.as_dict()
    assert set(["name", "value", "unit", "target", "status", "delta_prev", "delta_yoy"]) <= set(d)
    missing = n.make_tile("CSAT", 0.9, "share", target=0.85, prev=None, yoy=np.nan)
    assert missing.delta_prev is None and missing.delta_yoy is None and missing.status == "green"


def test_sentence_from_numbers():
    t = n.make_tile("Service level", 0.763, "share", target=0.80, prev=0.804)
    s = n.tile_sentence(t, driver="Import Files volume was 22% above forecast in the first week")
    assert s == (
        "Service level fell by 4.1 points to 76.3%, below the 80.0% target: "
        "Import Files volume was 22% above forecast in the first week."
    )
    up = n.make_tile("Abandon rate", 0.065, "share", target=0.05, prev=0.053, higher_is_better=False)
    assert n.tile_sentence(up) == "Abandon rate rose by 1.2 points to 6.5%, above the 5.0% target."
    flat = n.make_tile("AHT", 400, "seconds", prev=400)
    assert n.tile_sentence(flat) == "AHT held steady at 400 s."
    new = n.make_tile("Cost per contact", 7.5, "currency", target=8.0)
    assert n.tile_sentence(new) == "Cost per contact: $7.50, below the $8.00 target."
    assert n.tile_sentence(n.make_tile("X", None, "share")) is None
    # a count says by how much it moved, then where it landed (issue 18: not "rose 1,098 to 7,849")
    contacts = n.make_tile("Contacts", 7849, "count", prev=6751)
    assert n.tile_sentence(contacts) == "Contacts rose by 1,098 to 7,849."


def test_movement_holds_steady_when_the_shown_change_rounds_to_nothing():
    assert n.movement(0.0004, "share", "80.0%") == "held steady at 80.0%"  # 0.04 points shows as 0.0
    assert n.movement(0.0006, "share", "80.1%") == "rose by 0.1 points to 80.1%"
    assert n.movement(0.4, "seconds", "30 s") == "held steady at 30 s"  # shown in whole seconds
    assert n.movement(-2.0, "seconds", "28 s") == "fell by 2 s to 28 s"
    assert n.movement(-0.004, "currency", "$10.00") == "held steady at $10.00"
    assert n.movement(-1.31, "currency", "$11.40") == "fell by $1.31 to $11.40"


def test_commentary_puts_misses_first_and_uses_drivers():
    tiles = [
        n.make_tile("CSAT", 0.91, "share", target=0.85, prev=0.90, key="csat"),
        n.make_tile("Service level", 0.70, "share", target=0.80, prev=0.82, key="sl"),
        n.make_tile("ASA", 40, "seconds", target=30, prev=38, higher_is_better=False, key="asa"),
    ]
    lines = n.commentary(tiles, drivers={"sl": "Benefits volume was 15% above last month"})
    assert lines[0].startswith("Service level fell by 12.0 points to 70.0%")
    assert lines[0].endswith("Benefits volume was 15% above last month.")
    assert lines[1].startswith("ASA rose by 2 s to 40 s, above the 30 s target")
    assert lines[2].startswith("CSAT rose by 1.0 points")


def test_tiles_html_escapes_and_states_status_in_words():
    t = n.make_tile("<script>x</script>", 0.5, "share", target=0.8, prev=0.6)
    markup = n.tiles_html([t])
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    assert "Off target" in markup and 'data-status="red"' in markup
    assert "▼ 10.0 pts vs last month" in markup
    assert "no data for last year" in markup


def test_a_tile_not_asked_to_compare_says_nothing_about_that_period():
    """compare=("prev",): no word about last year (it said "no data for last year"); a figure asked for and
    missing still says "no data for"; the default still compares with both and says which one is missing."""
    only_prev = n.make_tile("Contacts", 330, "count", prev=289, compare=("prev",))
    markup = n.tiles_html([only_prev])
    assert "▲ 41 vs last month" in markup  # 330 - 289
    assert "last year" not in markup and "no data for" not in markup
    assert only_prev.delta_yoy is None
    # given, but not asked for: not compared either
    assert "last year" not in n.tiles_html(
        [n.make_tile("Contacts", 330, "count", prev=289, yoy=252, compare=("prev",))]
    )
    # asked for, figure missing (a month without data): says so
    missing = n.tiles_html([n.make_tile("Contacts", 330, "count", prev=np.nan, compare=("prev",))])
    assert "no data for last month" in missing and "last year" not in missing
    # both comparisons (the packs' default): 330 - 252 = 78 vs last year
    both = n.tiles_html([n.make_tile("Contacts", 330, "count", prev=289, yoy=252, yoy_label="Nov 2025")])
    assert "▲ 41 vs last month" in both and "▲ 78 vs Nov 2025" in both
    assert "no data for Nov 2025" in n.tiles_html(
        [n.make_tile("Contacts", 330, "count", prev=289, yoy_label="Nov 2025")]
    )
    # nothing this month (an agent without activity rows): "No data", and no word blaming last month, whose
    # figure is there (a probe: "no data for last month" beside the review's own October adherence)
    empty = n.tiles_html(
        [n.make_tile("Schedule adherence", np.nan, "share", target=0.92, prev=0.96, compare=("prev",))]
    )
    assert "No data" in empty and "no data for" not in empty and "vs last month" not in empty
    with pytest.raises(ValueError, match="compare"):
        n.make_tile("Contacts", 330, "count", compare=("last_week",))


def test_tile_digits_set_the_decimals_of_value_target_and_change():
    """A QA score of 82.96 against 84 after 87.37: 2 decimals by default for a number; digits=1 shows the
    value, the target and the change (82.96 - 87.37 = -4.41) with one."""
    default = n.tiles_html([n.make_tile("QA score", 82.96, "number", target=84, prev=87.37)])
    assert "82.96" in default and "84.00" in default and "▼ 4.41 vs last month" in default
    t = n.make_tile("QA score", 82.96, "number", target=84, prev=87.37, digits=1)
    markup = n.tiles_html([t])
    assert ">83.0<" in markup and "Target ≥ 84.0" in markup and "▼ 4.4 vs last month" in markup
    assert "82.96" not in markup and "4.41" not in markup
    assert n.tile_sentence(t) == "QA score fell by 4.4 to 83.0, below the 84.0 target."
    assert n.tiles_html([t.as_dict() | {"digits": 1.0}]) == markup  # a tile dict sent as data holds 1.0


def test_table_html_escapes_formats_and_truncates():
    df = pd.DataFrame(
        {
            "name<i>": ["<img src=x onerror=alert(1)>", "Bob & Co"],
            "sl": [0.8123, np.nan],
            "status": ["green", "red"],
            "handled": [1200, 30],
        }
    )
    markup = n.table_html(df, formats={"sl": "share"}, status={"sl": "status"}, max_rows=1, caption="A <b>")
    assert "<img" not in markup and "&lt;img src=x onerror=alert(1)&gt;" in markup
    assert "name&lt;i&gt;" in markup and "A &lt;b&gt;" in markup
    assert "81.2%" in markup and "1,200" in markup
    assert 'class="rl-num rl-green"' in markup
    assert ">status<" not in markup  # the status column styles, it is not shown
    assert "Showing 1 of 2 rows." in markup
    assert "Bob" not in markup  # truncated away


def test_a_money_column_reads_with_one_precision():
    # the SLA report's fee at risk: $862 over $98.10 (format_value's cents under $100); one column, one precision
    df = pd.DataFrame({"fee": [862.0, 98.1, np.nan], "small": [98.1, 5.0, 12.5]})
    markup = n.table_html(df, formats={"fee": "currency", "small": "currency"}, currency="€")
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", markup)
    assert cells == ["€862", "€98.10", "€98", "€5.00", "–", "€12.50"]  # row by row: fee, small
    assert n.format_value(98.1, "currency") == "$98.10"  # tiles and sentences keep cents under 100


def test_table_missing_values_show_a_dash():
    markup = n.table_html(pd.DataFrame({"sl": [np.nan]}), formats={"sl": "share"})
    assert ">–<" in markup


def test_commentary_html_escapes():
    markup = n.commentary_html(["A <b>bold</b> claim"])
    assert "<b>" not in markup and "&lt;b&gt;bold" in markup
    assert n.commentary_html([]) == ""


def test_compliance_by_client_counts_misses_and_penalties():
    comp = pd.DataFrame(
        [
            # client A: one term missed (SL 0.70 vs 0.80) and one met; penalty 2% of 1000
            {
                "client_id": "A",
                "client_name": "Alpha",
                "sla_profile": "gold",
                "term": "phone service level 80% in 30 s",
                "metric": "service_level",
                "goal": 0.80,
                "actual": 0.70,
                "met": False,
                "penalty_at_risk": 20.0,
            },
            {
                "client_id": "A",
                "client_name": "Alpha",
                "sla_profile": "gold",
                "term": "phone abandon rate at most 5%",
                "metric": "abandon_rate",
                "goal": 0.05,
                "actual": 0.04,
                "met": True,
                "penalty_at_risk": 0.0,
            },
            # client B: met everything
            {
                "client_id": "B",
                "client_name": "Beta",
                "sla_profile": "silver",
                "term": "t",
                "metric": "service_level",
                "goal": 0.8,
                "actual": 0.9,
                "met": True,
                "penalty_at_risk": 0.0,
            },
            # client C: no volume, nothing judged
            {
                "client_id": "C",
                "client_name": "Gamma",
                "sla_profile": "silver",
                "term": "t",
                "metric": "service_level",
                "goal": 0.8,
                "actual": np.nan,
                "met": pd.NA,
                "penalty_at_risk": 0.0,
            },
        ]
    )
    comp["met"] = comp["met"].astype("boolean")
    out = q.compliance_by_client(comp).set_index("client_id")
    assert list(out.index) == ["A", "B", "C"]  # the client with a miss first
    assert out.loc["A", "missed"] == 1 and out.loc["A", "judged"] == 2 and out.loc["A", "penalty_at_risk"] == 20.0
    assert out.loc["A", "status"] == "red" and out.loc["A", "worst_term"] == "phone service level 80% in 30 s: 70.0%"
    assert out.loc["B", "status"] == "green" and out.loc["B", "missed"] == 0
    assert out.loc["C", "status"] is None and out.loc["C", "judged"] == 0
    # a missed term without a monthly fee puts an unknown amount at risk, not zero
    comp.loc[0, "penalty_at_risk"] = np.nan
    unpriced = q.compliance_by_client(comp)
    assert np.isnan(unpriced.set_index("client_id").loc["A", "penalty_at_risk"])
    # and says so: a probe's client with two missed terms and no fee left "Fees at risk" and the pack's sentence
    # without a word
    said = "The fees at risk leave out 1 client with a missed term and no monthly_fee in the clients table: Alpha (A)."
    assert q.fees_unknown(unpriced) == said and q.fees_unknown(out) is None
    assert q.compliance_sentence(unpriced, (30, 30)) == (
        "1 of 2 clients with contacts this month met every term of their contract; $0.00 of fees is at risk from "
        "missed terms. " + said
    )


def test_clients_with_a_miss_come_first_by_fee_at_risk():
    """The pack shows 15 rows: sorted by terms missed first, a probe's largest penalty ($900, one miss) fell out of
    view behind clients with two misses and $83. Clients with a miss come first, the largest fee first; an
    unknown fee (no monthly_fee) after the known ones; clients with none after them."""

    def row(client, met, penalty, term="t"):
        return {"client_id": client, "client_name": client.lower(), "sla_profile": "p", "term": term,
                "metric": "service_level", "goal": 0.8, "actual": 0.7 if met is False else 0.9, "met": met,
                "penalty_at_risk": penalty}  # fmt: skip

    rows = [row("TWO", False, 40.0, "a"), row("TWO", False, 43.0, "b"), row("BIG", False, 900.0), row("OK", True, 0.0)]
    rows += [row("NOFEE", False, np.nan)]
    comp = pd.DataFrame(rows)
    comp["met"] = comp["met"].astype("boolean")
    order = q.compliance_by_client(comp)["client_id"].tolist()
    assert order == ["BIG", "TWO", "NOFEE", "OK"], order
    twin = comp.assign(client_name=comp["client_name"].replace({"big": "Twin LLC", "ok": "Twin LLC"}))
    names = q.compliance_by_client(twin).set_index("client_id")["client_name"]
    assert names.to_dict() == {"BIG": "Twin LLC (BIG)", "TWO": "two", "NOFEE": "nofee", "OK": "Twin LLC (OK)"}


def test_compliance_trend_per_month_by_hand():
    def row(month, client, met, penalty=0.0, actual=0.9):
        return {
            "month": month,
            "client_id": client,
            "client_name": client,
            "sla_profile": "gold",
            "term": "t",
            "metric": "service_level",
            "goal": 0.8,
            "actual": actual,
            "met": met,
            "penalty_at_risk": penalty,
        }

    hist = pd.DataFrame(
        [
            # January: A met both terms, B missed one of two (fee 30 at risk), C had no contacts
            row("2025-01", "A", True),
            row("2025-01", "A", True),
            row("2025-01", "B", False, 30.0, 0.7),
            row("2025-01", "B", True),
            row("2025-01", "C", pd.NA, 0.0, np.nan),
            # February: everybody met everything
            row("2025-02", "A", True),
            row("2025-02", "B", True),
        ]
    )
    hist["met"] = hist["met"].astype("boolean")
    t = q.compliance_trend(hist)
    assert list(t.index) == ["2025-01", "2025-02"]
    assert t.loc["2025-01", "clients_met"] == pytest.approx(1 / 2)  # A of A and B (C not judged)
    assert t.loc["2025-01", "terms_met"] == pytest.approx(3 / 4)
    assert t.loc["2025-01", "terms_missed"] == 1 and t.loc["2025-01", "penalty_at_risk"] == 30.0
    assert t.loc["2025-02", "clients_met"] == 1.0 and t.loc["2025-02", "terms_missed"] == 0
    assert q.compliance_trend(hist.iloc[0:0]).empty


def test_calendar_spans_merge_runs_and_numbered_events():
    dates = pd.date_range("2026-03-01", periods=6, freq="D")
    feats = pd.DataFrame(
        {
            "holiday_closed": [0, 1, 0, 0, 0, 0],
            "event_import_deadline_1": [0, 0, 1, 0, 0, 0],
            "event_import_deadline_2": [0, 0, 0, 1, 0, 0],
            "event_open_enrollment": [0, 0, 0, 0, 1, 1],
        }
    )
    spans = n.calendar_spans(feats, dates)
    assert (pd.Timestamp("2026-03-02"), pd.Timestamp("2026-03-03"), "Closed (holiday)") in spans
    assert (pd.Timestamp("2026-03-03"), pd.Timestamp("2026-03-05"), "Import deadline") in spans
    assert (pd.Timestamp("2026-03-05"), pd.Timestamp("2026-03-07"), "Open enrollment") in spans
    assert len(spans) == 3


def test_qa_history_by_month():
    qa = pd.DataFrame(
        {
            "evaluated_at": pd.to_datetime(["2025-01-05", "2025-01-20", "2025-02-03", "2024-12-31"]),
            "score": [80.0, 90.0, 70.0, 10.0],
            "critical_error": [False, True, False, True],
            "agent_id": ["a", "b", "a", "a"],
        }
    )
    out = q.qa_history(qa, "2025-01", "2025-02").set_index("month")
    assert out.loc["2025-01", "evaluations"] == 2 and out.loc["2025-01", "qa_mean"] == 85.0
    assert out.loc["2025-01", "critical_errors"] == 1
    assert out.loc["2025-02", "qa_mean"] == 70.0 and "2024-12" not in out.index


def test_met_status_and_roster_history():
    s = q.met_status(pd.Series([True, False, pd.NA], dtype="boolean"))
    assert list(s) == ["green", "red", None]
    derived = pd.DataFrame({"hire_date": pd.to_datetime(["1999-01-03"]), "termination_date": [pd.NaT], "fte": [np.nan]})
    assert not q.roster_has_history(derived)
    hr = derived.assign(fte=[1.0])
    assert q.roster_has_history(hr)


def _tiny_source(tmp_path, rows=None):
    """A hand-made data folder: phone and chat in Apr 2025, Mar 2025 and Apr 2024, one email (or `rows`)."""
    from reportlib.data import load

    rows = rows or [
        # contact_id, channel, queue, arrived_at, outcome, wait_s, handle_s, agent_id, csat
        ("k1", "phone", "Benefits", "2025-04-07T10:00:00", "handled", 10, 300, "a1", 5),
        ("k2", "phone", "Benefits", "2025-04-08T10:00:00", "handled", 40, 500, "a1", 3),
        ("k3", "phone", "Import Files", "2025-04-09T10:00:00", "abandoned", 20, "", "", ""),
        ("k4", "phone", "Import Files", "2025-04-09T11:00:00", "abandoned", 3, "", "", ""),  # short abandon
        ("k5", "chat", "Benefits", "2025-04-10T10:00:00", "handled", 5, 400, "a1", 4),
        ("k6", "email", "Benefits", "2025-04-10T10:00:00", "handled", 3600, 200, "a1", ""),
        ("k7", "phone", "Benefits", "2025-03-10T10:00:00", "handled", 10, 350, "a1", ""),
        ("k8", "phone", "Import Files", "2025-03-11T10:00:00", "handled", 20, 350, "a1", ""),
        ("k9", "phone", "Benefits", "2024-04-10T10:00:00", "handled", 100, 450, "a1", ""),
    ]
    contacts = pd.DataFrame(
        rows,
        columns=["contact_id", "channel", "queue", "arrived_at", "outcome", "wait_s", "handle_s", "agent_id", "csat"],
    )
    contacts.insert(3, "client_id", "C1")
    contacts.to_csv(tmp_path / "contacts.csv", index=False)
    pd.DataFrame([{"client_id": "C1", "client_name": "One", "tier": "Small", "sla_profile": "standard"}]).to_csv(
        tmp_path / "clients.csv", index=False
    )
    pd.DataFrame(
        [
            {
                "agent_id": "a1",
                "name": "Ann Example",
                "team": "T1",
                "supervisor": "",
                "site": "S",
                "role": "agent",
                "hire_date": "2020-01-01",
                "termination_date": "",
                "termination_type": "",
                "termination_reason": "",
                "regretted": "",
                "fte": 1,
                "hourly_cost": 30,
            }
        ]
    ).to_csv(tmp_path / "agents.csv", index=False)
    return load.open_source(str(tmp_path))


def test_the_pack_names_the_queue_that_moved_the_total_not_the_one_that_lost_share(tmp_path):
    """A probe: the October pack said "Accounts volume was 7% below last month and its service level fell by 0.6
    points" when its service level had fallen least of five queues: it was named by its share of the total alone. March: A
    and B 20 phone contacts each, at 90% and 80% in 30 s; April: A 10 at 90% (unchanged), B 30 at 70%. B moved
    the total (-0.075 of its -0.10, metrics.change_by_part's hand case); by share alone A (-0.225) was named."""

    def calls(queue, month, fast, slow):
        return [
            (
                f"{queue}{month}{i}",
                "phone",
                queue,
                f"2025-{month}-10T10:00:00",
                "handled",
                10 if i < fast else 100,
                300,
                "a1",
                "",
            )
            for i in range(fast + slow)
        ]

    rows = calls("A", "03", 18, 2) + calls("B", "03", 16, 4) + calls("A", "04", 9, 1) + calls("B", "04", 21, 9)
    params = {
        "sl_threshold_s": 30,
        "short_abandon_s": 5,
        "sl_definition": "offered",
        "timezone": "America/New_York",
        "reports": {"tiles": [{"key": "service_level", "name": "Service level", "unit": "share", "target": 0.8}]},
    }
    s = q.monthly_summary(_tiny_source(tmp_path, rows), params, "2025-04")
    line = next(c for c in s["commentary"] if c.startswith("Service level fell by 10.0 points to 75.0%"))
    assert line.endswith("target: in B, service level fell by 10.0 points to 70.0%."), line


def test_monthly_summary_against_hand_computed_figures(tmp_path):
    src = _tiny_source(tmp_path)
    params = {
        "sl_threshold_s": 30,
        "short_abandon_s": 5,
        "sl_definition": "offered",
        "timezone": "America/New_York",
        "reports": {
            "tiles": [
                {"key": "service_level", "name": "Service level", "unit": "share", "target": 0.8},
                {"key": "aht_s", "name": "AHT", "unit": "seconds", "target": 420, "higher_is_better": False},
                {
                    "key": "abandon_rate",
                    "name": "Abandon rate",
                    "unit": "share",
                    "target": 0.05,
                    "higher_is_better": False,
                },
                {"key": "email_sl", "name": "Email in time", "unit": "share", "target": 0.9},
                {"key": "labor_cost", "name": "Labor cost", "unit": "currency", "target": "budget"},
            ]
        },
    }
    s = q.monthly_summary(src, params, "2025-04")
    tiles = {t["key"]: t for t in s["tiles"]}
    # April, phone + chat: offered 4 (the 3 s abandon is short), answered within 30 s: k1, k5 -> 2/4
    assert tiles["service_level"]["value"] == pytest.approx(0.5)
    # March: both answered within 30 s -> 1.0; April 2024: waited 100 s -> 0.0
    assert tiles["service_level"]["delta_prev"] == pytest.approx(-0.5)
    assert tiles["service_level"]["delta_yoy"] == pytest.approx(0.5)
    assert tiles["service_level"]["status"] == "red"
    # AHT over handled contacts of every channel: (300 + 500 + 400 + 200) / 4 = 350
    assert tiles["aht_s"]["value"] == pytest.approx(350.0)
    assert tiles["aht_s"]["delta_prev"] == pytest.approx(0.0) and tiles["aht_s"]["status"] == "green"
    # abandoned 1 (k3) of 4 offered on phone and chat
    assert tiles["abandon_rate"]["value"] == pytest.approx(0.25)
    # the one email answered after one business hour (Thursday 10:00 -> 11:00) is within 8 h
    assert tiles["email_sl"]["value"] == pytest.approx(1.0)
    # no agent_activity: no labor cost tile at all rather than an empty one
    assert "labor_cost" not in tiles
    assert s["commentary"][0].startswith("Service level fell by 50.0 points to 50.0%, below the 80.0% target")
    assert "Import Files" in s["commentary"][0] or "Benefits" in s["commentary"][0]
    hist = s["history"].set_index("month")
    assert list(hist.index) == [str(p) for p in pd.period_range("2024-04", "2025-04", freq="M")]
    assert np.isnan(hist.loc["2024-05", "service_level"])


@pytest.fixture(scope="module")
def two_sources(tmp_path_factory):
    """A small generated operation, and a copy holding one client's contacts and clients row alone."""
    from reportlib.data.load import open_source
    from reportlib.planning import sample

    root = tmp_path_factory.mktemp("clients")
    full, alone = root / "full", root / "alone"
    sample.sample_data(full, seed=11, start="2025-01", months=3, agents=30, clients=6)
    client = "C002"
    alone.mkdir()
    for path in full.iterdir():
        if path.name == "contacts.csv":
            c = pd.read_csv(path, dtype=str, keep_default_na=False)
            c[c["client_id"] == client].to_csv(alone / path.name, index=False)
        elif path.name == "clients.csv":
            c = pd.read_csv(path, dtype=str, keep_default_na=False)
            c[c["client_id"] == client].to_csv(alone / path.name, index=False)
        elif path.is_file():
            (alone / path.name).write_bytes(path.read_bytes())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REPORTLIB_CACHE", str(root / "cache"))
        yield open_source(str(full)), open_source(str(alone)), client


def test_a_clients_figures_from_the_shared_all_client_pass_equal_those_from_its_data_alone(two_sources):
    from reportlib.core.params import load_params

    full, alone, client = two_sources
    params = load_params()
    view = full.for_client(client)
    first, last = "2025-01", "2025-03"
    pairs = [
        (q.channel_history(view, params, first, last), q.channel_history(alone, params, first, last)),
        (q.channel_history(view, params, first, last, by=()), q.channel_history(alone, params, first, last, by=())),
        (q.email_history(view, params, first, last, 12.0), q.email_history(alone, params, first, last, 12.0)),
        (q.compliance(view, params, last), q.compliance(alone, params, last)),
        (q.compliance_history(view, params, first, last), q.compliance_history(alone, params, first, last)),
    ]
    for got, want in pairs:
        assert len(want) > 0
        pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False)
    start, end = pd.Timestamp("2025-03-01"), pd.Timestamp("2025-04-01")
    pd.testing.assert_series_equal(q.contact_reasons(view, start, end), q.contact_reasons(alone, start, end))
    # the all-client pass is remembered on the full source: a second client's view reuses it
    calls = []
    from reportlib.metrics import sla

    real = sla.compliance_history
    try:
        sla.compliance_history = lambda *a, **k: calls.append(1) or real(*a, **k)
        other = q.compliance(full.for_client("C003"), params, last)
    finally:
        sla.compliance_history = real
    assert calls == [] and set(other["client_id"]) == {"C003"}
    # and what comes back is the caller's own copy
    other.loc[:, "actual"] = -1.0
    assert (q.compliance(full.for_client("C003"), params, last)["actual"] != -1.0).any()


def test_attrition_tiles_compare_with_last_month_and_last_year_by_hand():
    trend = pd.DataFrame(
        {
            "month": ["2025-03", "2026-02", "2026-03"],
            "headcount_end": [10, 12, 11],
            "terminations": [1, 0, 2],
            "hires": [0, 1, 1],
            "annualized_rate": [0.30, 0.25, 0.40],
            "annualized_voluntary_rate": [0.2, 0.2, 0.3],
            "annualized_regretted_rate": [0.1, 0.1, 0.1],
        }
    )
    tiles = {t.name: t for t in n.attrition_tiles(trend, "2026-03", target=0.35)}
    hc = tiles["Headcount at month end"]
    assert (hc.value, hc.delta_prev, hc.delta_yoy) == (11, -1, 1)
    assert hc.prev_label == "Feb 2026" and hc.yoy_label == "Mar 2025"
    rate = tiles["12-month attrition"]
    assert rate.delta_prev == pytest.approx(0.15) and rate.target == 0.35 and rate.status == "red"
    # without last year's row there is no year-on-year change
    assert n.attrition_tiles(trend.iloc[1:], "2026-03")[0].delta_yoy is None


def test_a_tile_without_last_months_figure_reads_as_name_and_value():
    t = n.make_tile("Contacts", 326, "count", key="contacts")
    assert n.tile_sentence(t) == "Contacts: 326."
    t = n.make_tile("Labor cost vs budget", 101_601, "currency", target=428_571, higher_is_better=False)
    assert n.tile_sentence(t) == "Labor cost vs budget: $101,601, below the $428,571 target."


def test_a_count_reads_with_its_noun_singular_only_for_one():
    from reportlib.core.words import counted

    assert counted(1, "day") == "1 day"
    assert counted(0, "hire") == "0 hires"
    assert counted(1234, "row") == "1,234 rows"
    assert counted(2.0, "QA critical error") == "2 QA critical errors"
    assert counted(3, "person", "people") == "3 people"


def test_counts_read_as_words_not_as_plural_hacks():
    """A message reads "1 warning" / "2 warnings" and "unknown report x" / "unknown reports x, y", never
    "1 warning(s)" (about 30 messages wrote that): one helper, and no string of the package spells a plural
    as "(s)" after a word (the unit "(s)" for seconds follows a space)."""
    import pathlib
    import tokenize

    from reportlib.core.words import counted, noun_for

    assert [counted(k, "warning") for k in (0, 1, 2, 1234)] == [
        "0 warnings",
        "1 warning",
        "2 warnings",
        "1,234 warnings",
    ]
    assert counted(1, "holiday or eve", "holidays or eves") == "1 holiday or eve"
    assert counted(np.int64(3), "day") == "3 days" and noun_for(1, "id") == "id" and noun_for(2, "id") == "ids"
    root = pathlib.Path(n.__file__).resolve().parents[1]
    hacks = []
    for path in sorted(root.rglob("*.py")):
        with tokenize.open(path) as fh:
            for tok in tokenize.generate_tokens(fh.readline):
                if tok.type != tokenize.STRING:
                    continue
                text = tok.string
                while re.search(r"\{[^{}]*\}", text):  # an f-string's expressions are code, not words
                    text = re.sub(r"\{[^{}]*\}", "", text)
                if re.search(r"[A-Za-z]\(s\)", text):
                    hacks.append(f"{path.relative_to(root)}:{tok.start[0]}")
    assert hacks == [], hacks
