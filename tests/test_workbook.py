"""The Excel workbooks of a month (`month_<YYYY-MM>.xlsx`) and of each client review.

One real `reportlib run` of a small sample month (hostile agent and client names planted) is opened with
openpyxl: every sheet is there with its number formats, frozen header and filter; no cell holds a formula
or a text starting with a formula character; the numbers equal the rendered HTML tables' numbers cell by
cell, each formatted the way the page formats it; a client's workbook holds that client alone and no
agent's name. The publishing tests check that a failed workbook never replaces a good one.
"""

from __future__ import annotations

import datetime
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from reportlib.core.safety import neutralise_cell
from reportlib.reports import narrative
from reportlib.reports import workbook as W

MONTH = "2025-04"
HOSTILE_AGENTS = ['=HYPERLINK("http://evil.test","Click me")', "+1 Plus Agent", "@SUM(A1) Agent"]
HOSTILE_CLIENT = "=cmd|' /C calc'!A0 Benefits"
HOSTILE_REASON = "-2+3 billing question"
CLIENTS = ("C001", "C002")


# --- the rendered month ----------------------------------------------------------------------------


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    """A real `reportlib run` of a small sample month with formula-looking names in the data."""
    from reportlib.core.params import load_params
    from reportlib.delivery import run
    from reportlib.planning.sample import sample_data

    root = tmp_path_factory.mktemp("workbook")
    data = root / "sample"
    sample_data(data, seed=11, start="2025-01", months=4, agents=30, clients=6)
    agents = _csv(data / "agents.csv")
    plain = agents.index[agents["role"] == "agent"][: len(HOSTILE_AGENTS)]
    agents.loc[plain, "name"] = HOSTILE_AGENTS
    agents.to_csv(data / "agents.csv", index=False)
    clients = _csv(data / "clients.csv")
    clients.loc[clients["client_id"] == "C001", "client_name"] = HOSTILE_CLIENT
    clients.to_csv(data / "clients.csv", index=False)
    contacts = _csv(data / "contacts.csv")
    contacts.loc[contacts.index[::50], "reason"] = HOSTILE_REASON
    contacts.to_csv(data / "contacts.csv", index=False)
    result = run.run_month(
        MONTH,
        params=load_params(),
        data=str(data),
        clients=",".join(CLIENTS),
        out=root / "out",
        workers=2,
        progress=False,
    )
    assert not result.failed, result.summary()
    return {"dir": result.month_dir, "data": data, "result": result, "agents": agents, "clients": clients}


class _Tables(HTMLParser):
    """Every <table> of a page: caption, header texts, row texts (entities decoded, as a reader sees them)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self._cell: list[str] | None = None
        self._in_caption = False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"caption": "", "headers": [], "rows": []})
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None:
            text = "".join(self._cell).strip()
            t = self.tables[-1]
            (t["headers"] if tag == "th" else t["rows"][-1]).append(text)
            self._cell = None

    def handle_data(self, data):
        if self._in_caption and self.tables:
            self.tables[-1]["caption"] += data
        elif self._cell is not None:
            self._cell.append(data)


def html_tables(path: Path) -> list[dict]:
    p = _Tables()
    p.feed(path.read_text(encoding="utf-8"))
    for t in p.tables:
        t["rows"] = [r for r in t["rows"] if r]
    return p.tables


def table(tables: list[dict], *, caption: str | None = None, headers: list[str] | None = None) -> dict:
    found = [
        t
        for t in tables
        if (caption is None or t["caption"].startswith(caption))
        and (headers is None or t["headers"][: len(headers)] == headers)
    ]
    assert len(found) == 1, f"expected one table {caption or headers}, found {len(found)}"
    return found[0]


def sheet_rows(book: openpyxl.Workbook, name: str) -> tuple[list[str], list[list]]:
    ws = book[name]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return [str(h) for h in rows[0]], rows[1:]


def shown(value, unit: str, currency: str = "$", digits: int | None = None) -> str:
    """A workbook value formatted the way the page formats it (the stated rounding; `digits`: a table column's
    money precision, narrative.money_column_digits)."""
    if unit == "text":
        return "–" if value is None else str(value)
    if unit == "qa":
        return narrative.format_value(value, "number", digits=1)
    if unit == "date":
        return "–" if value is None else pd.Timestamp(value).strftime("%d %b %Y")
    return narrative.format_value(value, unit, currency, digits)


def compare(page: dict, book: openpyxl.Workbook, sheet: str, columns: dict[str, tuple[str, str]], key: str) -> int:
    """Every row of the page's table equals the sheet's row in the same place, column by column.

    columns: page header -> (sheet header, unit). Text from data is compared after neutralise_cell, which
    the workbook applies. Returns the number of cells compared."""
    heads, rows = sheet_rows(book, sheet)
    n = 0
    assert page["rows"], f"the page's table for {sheet} is empty"
    assert len(rows) == len(page["rows"]), f"{sheet}: {len(rows)} rows, the page shows {len(page['rows'])}"
    # a money column of a page's table reads in one precision (whole units when any amount is 100 or more)
    digits = {
        sh: narrative.money_column_digits(r[heads.index(sh)] for r in rows)
        for sh, unit in columns.values()
        if unit == "currency"
    }
    for prow, srow in zip(page["rows"], rows):
        cells = dict(zip(page["headers"], prow))
        assert srow[heads.index(columns[key][0])] == neutralise_cell(cells[key]), (sheet, cells[key])
        for ph, (sh, unit) in columns.items():
            value = srow[heads.index(sh)]
            want = neutralise_cell(cells[ph]) if unit == "text" else cells[ph]
            got = shown(value, unit, digits=digits.get(sh))
            assert got == want, f"{sheet} {cells[key]!r} {sh}: workbook {value!r}, page {cells[ph]!r}"
            n += 1
    return n


@pytest.fixture(scope="module")
def book(month):
    return openpyxl.load_workbook(month["dir"] / f"month_{MONTH}.xlsx")


# --- the month's workbook ---------------------------------------------------------------------------


def test_month_workbook_is_published_and_listed(month):
    d = month["dir"]
    manifest = json.loads((d / "manifest.json").read_text())
    books = {(e["workbook"], e["client_id"]): e for e in manifest["workbooks"]}
    assert books[("month", None)]["status"] == "ok"
    assert books[("month", None)]["xlsx"] == f"month_{MONTH}.xlsx"
    index = (d / "index.html").read_text()
    assert f'href="month_{MONTH}.xlsx"' in index
    for cid in CLIENTS:
        entry = books[("client_review", cid)]
        html_name = next(e["html"] for e in manifest["reports"] if e["client_id"] == cid)
        assert entry["status"] == "ok" and entry["xlsx"] == Path(html_name).stem + ".xlsx"
        assert (d / entry["xlsx"]).is_file() and f'href="{entry["xlsx"]}"' in index
    assert not list(d.parent.glob(".*run-*")), "the run's temporary folder is left behind"


def test_every_sheet_has_formats_frozen_header_and_filter(book):
    want = {
        "README",
        "By channel",
        "By queue",
        "By client",
        "SLA by client",
        "SLA terms",
        "Teams",
        "Agent scorecards",
        "Attrition by month",
        "Attrition by team",
        "Attrition projection",
        "Early leavers by hire quarter",
        "Forecast by week",
        "Capacity plan",
        "Cost by channel",
    }
    assert want <= set(book.sheetnames), want - set(book.sheetnames)
    assert book.sheetnames[0] == "README"
    formats = {
        ("By channel", "Service level"): "0.0%",
        ("By channel", "Speed of answer"): '#,##0" s"',
        ("By channel", "Offered"): "#,##0",
        ("SLA by client", "Fee at risk"): '"$"#,##0.00',
        ("Teams", "Handle time"): '#,##0" s"',
        ("Teams", "Adherence"): "0.0%",
        ("Agent scorecards", "Handle time vs prior 3 months"): '+#,##0" s";-#,##0" s";0" s"',  # "+7 s", not "7 s"
        ("Attrition by team", "Attrition"): "0.0%",
        ("Capacity plan", "Week of"): "yyyy-mm-dd",
        ("Cost by channel", "Cost per contact"): '"$"#,##0.00',
    }
    for (name, header), fmt in formats.items():
        ws = book[name]
        heads = [c.value for c in ws[1]]
        col = heads.index(header) + 1
        cells = [ws.cell(row=r, column=col) for r in range(2, ws.max_row + 1)]
        assert cells, name
        assert {c.number_format for c in cells} == {fmt}, (name, header)
        assert all(c.value is None or isinstance(c.value, (int, float, datetime.datetime)) for c in cells)
    for name in book.sheetnames[1:]:
        ws = book[name]
        assert ws.freeze_panes == "A2", name
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), name
        assert all(ws.column_dimensions[c.column_letter].width >= 8 for c in ws[1]), name


def test_the_definitions_are_found_beside_the_package_and_their_absence_is_said(tmp_path, monkeypatch):
    """A probe: with REPORTLIB_HOME a folder of parameters/ and notebooks/ alone, every Definition cell of the
    README sheet was empty, unsaid. The page is read beside the package's source then; where neither has it, the
    README sheet says so."""
    import reportlib.core.params as core_params
    from reportlib.reports import workbook as W

    monkeypatch.setattr(core_params, "project_root", lambda: tmp_path)
    defs = W.load_definitions()
    assert "answered within a threshold" in defs["service-level"]
    monkeypatch.setattr(W, "DEFINITIONS_DOC", "docs/nowhere.md")
    assert W.load_definitions() == {}
    cols = [W.Column("service_level", "Service level", "share", "service-level")]
    book = W.Workbook("t", "2026-11", [W.Sheet("S", pd.DataFrame({"service_level": [0.8]}), cols, "a", "b")], {})
    W.write_workbook(book, tmp_path / "b.xlsx")
    text = [c for row in openpyxl.load_workbook(tmp_path / "b.xlsx")["README"].iter_rows(values_only=True) for c in row]
    assert "The definitions page (docs/nowhere.md) was not found with this installation: each column's Reference " \
        "names its section there." in text  # fmt: skip


def test_readme_has_month_fingerprint_parameters_and_definitions(book, month):
    rows = [r for r in book["README"].iter_rows(values_only=True)]
    facts = {r[0]: r[1] for r in rows if r[0]}
    manifest = json.loads((month["dir"] / "manifest.json").read_text())
    assert facts["Month"] == MONTH
    assert facts["Data fingerprint"] == str(manifest["data_fingerprint"])[:16]
    assert facts["Service-level threshold (s)"] == 30 and facts["Service-level definition"] == "offered"
    # each definition is read from docs/definitions.md, under the heading the column cites
    defs = W.definitions((Path(__file__).parent.parent / "docs" / "definitions.md").read_text(encoding="utf-8"))
    cited = {r[4]: r[3] for r in rows if isinstance(r[4], str) and r[4].startswith("docs/definitions.md#")}
    assert "docs/definitions.md#aht" in cited and "docs/definitions.md#service-level" in cited
    assert cited["docs/definitions.md#aht"] == defs["aht"] and defs["aht"].startswith("Average handle time, seconds")
    assert all(text for text in cited.values()), [k for k, v in cited.items() if not v]
    # a paragraph ending in ":" goes on with its list: "A term has:" and "... The counts:" were whole definitions
    assert not [k for k, v in cited.items() if v.endswith(":")], [k for k, v in cited.items() if v.endswith(":")]
    assert "answered_within_threshold = handled contacts with wait_s <= T" in cited["docs/definitions.md#service-level"]
    sheets = {r[0] for r in rows[rows.index(next(r for r in rows if r[0] == "Sheets")) :] if r[0]}
    assert set(book.sheetnames[1:]) <= sheets


def _all_cells(path: Path):
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                yield ws.title, cell


def test_no_formula_from_data_and_hostile_text_is_neutralised(month):
    files = sorted(month["dir"].glob("*.xlsx"))
    assert len(files) == 1 + len(CLIENTS)
    texts = []
    for path in files:
        for title, cell in _all_cells(path):
            assert cell.data_type != "f", (path.name, title, cell.coordinate, cell.value)
            if isinstance(cell.value, str):
                # already neutral: a text starting with = + - @ tab or CR has the leading apostrophe
                assert neutralise_cell(cell.value) == cell.value, (path.name, title, cell.coordinate, cell.value)
                assert not cell.value.startswith(("=", "+", "@")), (path.name, title, cell.coordinate, cell.value)
                texts.append(cell.value)
    # the planted names are there, as inert text with the leading apostrophe
    assert "'" + HOSTILE_AGENTS[0] in texts and "'" + HOSTILE_AGENTS[2] in texts
    assert "'" + HOSTILE_CLIENT in texts and "'" + HOSTILE_REASON in texts


def test_agent_names_only_in_the_agent_scorecards(month, book):
    names = {n for n in month["agents"]["name"] if len(n) >= 3}
    seen_in = set()
    for ws in book.worksheets:
        for row in ws.iter_rows(values_only=True):
            for v in row:
                if isinstance(v, str) and any(n in v for n in names):
                    seen_in.add(ws.title)
    assert seen_in == {"Agent scorecards"}


@pytest.mark.parametrize("cid", CLIENTS)
def test_client_workbook_holds_that_client_alone(month, cid):
    manifest = json.loads((month["dir"] / "manifest.json").read_text())
    entry = next(e for e in manifest["workbooks"] if e["client_id"] == cid)
    path = month["dir"] / entry["xlsx"]
    clients = month["clients"]
    others = [s for _, r in clients[clients["client_id"] != cid].iterrows() for s in (r["client_id"], r["client_name"])]
    agents = [n for n in month["agents"]["name"] if len(n) >= 3] + list(month["agents"]["agent_id"])
    mine = clients.loc[clients["client_id"] == cid, "client_name"].iloc[0]
    text = []
    for _, cell in _all_cells(path):
        if cell.value is not None:
            text.append(str(cell.value))
    blob = "\n".join(text)
    assert neutralise_cell(mine) in blob and cid in blob
    leaked = [s for s in others if s and s in blob]
    assert not leaked, f"{entry['xlsx']} names other clients: {leaked}"
    named = [a for a in agents if a and a in blob]
    assert not named, f"{entry['xlsx']} names agents: {named}"
    wb = openpyxl.load_workbook(path)
    assert {"README", "Contract terms", "Answered in time", "By channel, 13 months"} <= set(wb.sheetnames)
    # the review's tiles and chart are on the contract's measure: this month's phone and chat rows equal
    # the Delivered of the contract's service-level terms
    heads, rows = sheet_rows(wb, "Answered in time")
    answered = {r["Channel"]: r for r in (dict(zip(heads, row)) for row in rows) if r["Month"] == MONTH}
    theads, trows = sheet_rows(wb, "Contract terms")
    terms = [dict(zip(theads, r)) for r in trows]
    checked = 0
    for channel, row in answered.items():
        if row["Measured on"] != "contract":
            continue
        term = next(
            t for t in terms if t["Channel"] == channel and str(t["Term"]).startswith(f"{channel} service level")
        )
        assert row["Answered in time"] == pytest.approx(term["Delivered"]) and f"in {row['Within']:g} s" in term["Term"]
        checked += 1
    assert checked >= 1


# --- the same numbers as the pages ---------------------------------------------------------------------


def test_kpis_by_channel_and_queue_equal_the_pages(month, book):
    pack = html_tables(month["dir"] / "monthly_pack.html")
    kpis = {
        "Channel": ("Channel", "text"),
        "Offered": ("Offered", "count"),
        "Handled": ("Handled", "count"),
        "Service level": ("Service level", "share"),
        "Speed of answer": ("Speed of answer", "seconds"),
        "Abandon rate": ("Abandon rate", "share"),
        "Handle time": ("Handle time", "seconds"),
    }
    assert compare(table(pack, caption="By channel,"), book, "By channel", kpis, "Channel") >= 14
    sla = html_tables(month["dir"] / "sla.html")
    queue = table(sla, headers=["Queue", "Channel", "Offered", "Service level"])
    heads, rows = sheet_rows(book, "By queue")
    assert len(rows) == len(queue["rows"])
    for prow, srow in zip(queue["rows"], rows):
        cells, s = dict(zip(queue["headers"], prow)), dict(zip(heads, srow))
        assert (s["Queue"], s["Channel"]) == (cells["Queue"], cells["Channel"])
        for h, unit in (("Offered", "count"), ("Service level", "share"), ("Speed of answer", "seconds")):
            assert shown(s[h], unit) == cells[h], (s["Queue"], h)
        for h, unit in (("Abandon rate", "share"), ("Handle time", "seconds")):
            assert shown(s[h], unit) == cells[h], (s["Queue"], h)
    cost = table(pack, caption="Cost per handled contact")
    compare(
        cost,
        book,
        "Cost by channel",
        {
            "Channel": ("Channel", "text"),
            "Handled": ("Handled", "count"),
            "Labor cost": ("Labor cost", "currency"),
            "Cost per contact": ("Cost per contact", "currency"),
        },
        "Channel",
    )


def test_sla_tables_equal_the_page(month, book):
    sla = html_tables(month["dir"] / "sla.html")
    by_client = table(sla, headers=["Client", "Contract", "Terms measured", "Missed"])
    n = compare(
        by_client,
        book,
        "SLA by client",
        {
            "Client": ("Client", "text"),
            "Contract": ("Contract", "text"),
            "Terms measured": ("Terms measured", "count"),
            "Missed": ("Missed", "count"),
            "Fee at risk": ("Fee at risk", "currency"),
            "Largest miss": ("Largest miss", "text"),
        },
        "Client",
    )
    assert n >= 6 * 6
    # every missed term on the page, with its delivered figure and fee, in the terms sheet
    missed = table(sla, headers=["Client", "Term", "Contacts", "Actual", "Fee at risk"])
    heads, rows = sheet_rows(book, "SLA terms")
    ws = book["SLA terms"]
    col_actual = heads.index("Delivered")
    sheet = {}
    for i, r in enumerate(rows, start=2):
        fmt = ws.cell(row=i, column=col_actual + 1).number_format
        sheet[(r[heads.index("Client")], r[heads.index("Term")])] = (r, fmt)
    assert missed["rows"]
    fee = heads.index("Fee at risk")
    page_rows = [dict(zip(missed["headers"], prow)) for prow in missed["rows"]]
    fees = [sheet[(neutralise_cell(c["Client"]), c["Term"])][0][fee] for c in page_rows]
    fee_digits = narrative.money_column_digits(fees)  # the page's missed-terms table: one precision
    for prow in missed["rows"]:
        cells = dict(zip(missed["headers"], prow))
        r, fmt = sheet[(neutralise_cell(cells["Client"]), cells["Term"])]
        unit = "share" if fmt == "0.0%" else "seconds"
        assert r[heads.index("Result")] == "missed"
        assert shown(r[col_actual], unit) == cells["Actual"]
        assert shown(r[heads.index("Contacts")], "count") == cells["Contacts"]
        assert shown(r[fee], "currency", digits=fee_digits) == cells["Fee at risk"]


def test_team_and_agent_scorecards_equal_the_page(month, book):
    team = html_tables(month["dir"] / "team_performance.html")
    cols = {
        "Team": ("Team", "text"),
        "Handled": ("Handled", "count"),
        "Handle time": ("Handle time", "seconds"),
        "Resolved first time": ("Resolved first time", "share"),
        "Satisfied (4-5)": ("Satisfied (4-5)", "share"),
        "Occupancy": ("Occupancy", "share"),
        "Shrinkage": ("Shrinkage", "share"),
        "Adherence": ("Adherence", "share"),
        "QA score": ("QA score", "qa"),
        "Critical errors": ("Critical errors", "count"),
        "Agents": ("Agents", "count"),
        "To coach": ("To coach", "count"),
    }
    compare(table(team, caption="Teams,"), book, "Teams", cols, "Team")
    cards = table(team, headers=["Agent", "Team", "Handled", "Handle time"])
    n = compare(
        cards,
        book,
        "Agent scorecards",
        {
            "Agent": ("Agent", "text"),
            "Team": ("Team", "text"),
            "Handled": ("Handled", "count"),
            "Handle time": ("Handle time", "seconds"),
            "QA": ("QA", "qa"),
            "Resolved first time": ("Resolved first time", "share"),
            "Satisfied": ("Satisfied", "share"),
            "Adherence": ("Adherence", "share"),
        },
        "Agent",
    )
    assert n >= 8 * 20


def test_attrition_and_forecast_tables_equal_the_pages(month, book):
    att = html_tables(month["dir"] / "attrition.html")
    compare(
        table(att, caption="By team"),
        book,
        "Attrition by team",
        {
            "Team": ("Team", "text"),
            "Leavers (12 months)": ("Leavers (12 months)", "count"),
            "Attrition": ("Attrition", "share"),
            "Compared with overall": ("Compared with overall", "text"),
        },
        "Team",
    )
    early = table(att, headers=["Hire quarter", "Hires", "Left early", "Share", "Status"])
    assert len(early["rows"]) == 5  # the hire quarters of the trend's 13 months
    columns = {h: (h, u) for h, u in zip(early["headers"], ("text", "count", "count", "share", "text"))}
    compare(early, book, "Early leavers by hire quarter", columns, "Hire quarter")
    proj = table(att, headers=["Month", "On the roster at the start", "Expected leavers"])
    heads, rows = sheet_rows(book, "Attrition projection")
    assert len(rows) == len(proj["rows"])
    for prow, srow in zip(proj["rows"], rows):
        cells, s = dict(zip(proj["headers"], prow)), dict(zip(heads, srow))
        assert str(s["Month"]) == cells["Month"]
        assert shown(s["On the roster at the start"], "count") == cells["On the roster at the start"]
        assert f"{s['Expected leavers']:.1f}" == cells["Expected leavers"]
        assert shown(s["Replacement cost"], "currency") == cells["Replacement cost"]
    fc = html_tables(month["dir"] / "forecast.html")
    weekly = table(fc, caption="Forecast contacts per week")
    heads, rows = sheet_rows(book, "Forecast by week")
    assert heads == weekly["headers"] and heads[0] == "Week of"
    assert len(rows) == len(weekly["rows"]) >= 12
    for prow, srow in zip(weekly["rows"], rows):
        cells, s = dict(zip(weekly["headers"], prow)), dict(zip(heads, srow))
        assert shown(s["Week of"], "date") == cells["Week of"]
        for ch in heads[1:]:
            assert shown(s[ch], "count") == cells[ch], (cells["Week of"], ch)
    hires = table(fc, caption="Recommended hire classes")
    heads, rows = sheet_rows(book, "Hire classes")
    assert heads == ["Class starts", "Hires", "Covers the shortfall from"] == hires["headers"]
    assert [(shown(r[0], "date"), shown(r[1], "count"), shown(r[2], "date")) for r in rows] == [
        tuple(r) for r in hires["rows"]
    ]


def test_client_workbook_terms_equal_the_client_review(month):
    manifest = json.loads((month["dir"] / "manifest.json").read_text())
    for cid in CLIENTS:
        page = next(e["html"] for e in manifest["reports"] if e["client_id"] == cid)
        terms = table(html_tables(month["dir"] / page), headers=["Term", "Contacts", "Delivered", "Result"])
        path = month["dir"] / (Path(page).stem + ".xlsx")
        wb = openpyxl.load_workbook(path)
        ws = wb["Contract terms"]
        heads = [c.value for c in ws[1]]
        rows = list(ws.iter_rows(min_row=2))
        assert len(rows) == len(terms["rows"])
        for prow, srow in zip(terms["rows"], rows):
            cells = dict(zip(terms["headers"], prow))
            s = {h: c for h, c in zip(heads, srow)}
            unit = "share" if s["Delivered"].number_format == "0.0%" else "seconds"
            assert s["Term"].value == cells["Term"]
            assert shown(s["Contacts"].value, "count") == cells["Contacts"]
            assert shown(s["Delivered"].value, unit) == cells["Delivered"]
            assert s["Result"].value == cells["Result"]


# --- the writer and publishing, without notebooks ---------------------------------------------------


def test_writer_neutralises_text_and_keeps_numbers(tmp_path):
    frame = pd.DataFrame(
        {
            # "+1" and "-12.5" are numbers written as text: the neutraliser leaves them, stored as text cells
            "name": ['=HYPERLINK("http://x.test")', "+1", "@SUM(A1)", "-12.5", "\tTab", "plain"],
            "share": [0.5, None, 0.25, 1.0, 0.0, 0.125],
        }
    )
    book = W.Workbook(
        "t",
        MONTH,
        [W.Sheet("Hostile: [x]?", frame, [W.Column("name", "=Name"), W.Column("share", "Share", "share")], "a", "b")],
        {"Month": MONTH, "Client": "@evil"},
    )
    path = W.write_workbook(book, tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["README", "Hostile   x"]
    ws = wb["Hostile   x"]
    values = [c.value for c in ws["A"]]
    assert values == ["'=Name", '\'=HYPERLINK("http://x.test")', "+1", "'@SUM(A1)", "-12.5", "'\tTab", "plain"]
    assert all(c.data_type == "s" for c in ws["A"])
    assert [c.value for c in ws["B"]][1:] == [0.5, None, 0.25, 1, 0, 0.125]
    assert {c.number_format for c in ws["B"][1:]} == {"0.0%"}
    readme = {r[0]: r[1] for r in wb["README"].iter_rows(values_only=True) if r[0]}
    assert readme["Client"] == "'@evil"


def test_a_term_that_missed_its_goal_never_reads_as_equal_to_it(tmp_path):
    """A probe: 79.96% delivered against an 80% goal read "80.0%" beside "missed" in the sheet's 0.0% format;
    the pages show "79.96%" (`narrative.distinct_digits`), the workbook now does too, row by row."""
    terms = pd.DataFrame(
        {
            "client_id": ["C1", "C1", "C2"],
            "client_name": ["A", "A", "B"],
            "term": ["service level", "average speed of answer", "service level"],
            "metric": ["service_level", "asa_s", "service_level"],
            "channel": ["phone"] * 3,
            "volume": [2500, 2500, 900],
            "goal": [0.8, 30.0, 0.8],
            "actual": [0.7996, 30.4, 0.85],
            "met": [False, False, True],
            "penalty_at_risk": [900.0, 0.0, 0.0],
        }
    )
    sheet = W._terms_sheet(terms, "SLA terms", with_client=True)
    path = W.write_workbook(W.Workbook("t", MONTH, [sheet], {"Month": MONTH}), tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(path)["SLA terms"]
    head = [c.value for c in ws[1]]
    goal, actual = head.index("Goal") + 1, head.index("Delivered") + 1
    formats = [(ws.cell(r, goal).number_format, ws.cell(r, actual).number_format) for r in (2, 3, 4)]
    # 79.96% vs 80%: two decimals; 30.4 s vs 30 s: one; 85% vs 80% reads apart in the sheet's own format
    assert formats == [("0.00%", "0.00%"), ('#,##0.0" s"', '#,##0.0" s"'), ("0.0%", "0.0%")]
    assert ws.cell(2, actual).value == 0.7996  # the value itself is kept: only the display changes


def test_a_failed_workbook_never_replaces_the_good_one(tmp_path):
    from reportlib.delivery.run import _Publisher, index_html, read_manifest

    d = tmp_path / MONTH
    d.mkdir()
    pub = _Publisher(MONTH, d, "fp1", "data")
    good = tmp_path / "good.xlsx"
    good.write_bytes(b"GOOD")
    name = f"month_{MONTH}.xlsx"
    entry = pub.publish_workbook(
        {"client_id": None, "client_name": None, "name": name, "status": "ok", "xlsx": str(good)}
    )
    assert entry["status"] == "ok" and (d / name).read_bytes() == b"GOOD" and not good.exists()
    pub = _Publisher(MONTH, d, "fp2", "data")  # the next run
    half = tmp_path / "half.xlsx"
    half.write_bytes(b"HALF")
    entry = pub.publish_workbook(
        {"client_id": None, "client_name": None, "name": name, "status": "failed", "xlsx": str(half), "error": "boom"}
    )
    assert (d / name).read_bytes() == b"GOOD"
    assert entry["status"] == "failed" and entry["previous"]["xlsx"] == name
    manifest = read_manifest(d)
    assert manifest["workbooks"][0]["error"] == "boom"
    page = index_html(manifest)
    assert "boom" in page and f'href="{name}"' in page


def test_a_workbook_task_on_unreadable_data_fails_each_workbook_with_a_reason(tmp_path):
    from reportlib.delivery.run import build_workbooks

    task = {
        "month": MONTH,
        "data": str(tmp_path / "no-such-folder"),
        "params_file": None,
        "tmp": str(tmp_path),
        "items": [{"client_id": "C1", "client_name": None, "name": "client_review_C1_x.xlsx"}],
    }
    (res,) = build_workbooks(task)
    assert res["status"] == "failed" and "could not be opened" in res["error"] and res["xlsx"] is None
    assert not list(tmp_path.glob("*.xlsx"))


def test_a_workbook_without_a_sheet_of_figures_fails_with_its_readmes_reason(month, tmp_path):
    """A warehouse read without its tables mapping gave workbooks of a README sheet alone, published "ok". A
    source with none of the tables a section needs (clients.csv alone) now fails the workbook, saying so in
    one line, and leaves no file; the notes a section wrote itself are kept in the reason."""
    import shutil

    from reportlib.delivery.run import build_workbooks
    from reportlib.reports import workbook as W

    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(month["data"] / "clients.csv", data / "clients.csv")
    item = {"client_id": None, "client_name": None, "name": f"month_{MONTH}.xlsx"}
    task = {"month": MONTH, "data": str(data), "params_file": None, "tmp": str(tmp_path), "items": [item]}
    (res,) = build_workbooks(task)
    assert res["status"] == "failed" and res["xlsx"] is None and not list(tmp_path.glob("*.xlsx"))
    assert res["error"] == (
        "building the workbook failed: no sheet of figures: the data source has none of the tables its sections need"
    )
    book = W.Workbook(
        "t",
        MONTH,
        [],
        {},
        [
            "Forecast and capacity plan is not in this workbook: too short",
            *[f"{w} is not in this workbook: the data source does not have what it needs." for w in ("A", "B")],
        ],
    )
    assert W.no_sheet_reason(book) == (
        "no sheet of figures: Forecast and capacity plan is not in this workbook: too short; "
        "the data source has none of the tables its other sections need"
    )


def test_a_workbook_past_the_time_limit_fails_with_the_reason_and_leaves_nothing(month, tmp_path):
    """The run's per-report limit holds for workbooks too (they are built in the worker, not in a kernel): the
    month's workbook given 0.05 s is stopped (a DuckDB query is interrupted by the alarm) well before it would
    end, fails naming the limit, leaves no file; the alarm is disarmed and the old handler back afterwards;
    without a limit the same task builds it."""
    import signal

    from reportlib.delivery.run import build_workbooks

    item = {"client_id": None, "client_name": None, "name": f"month_{MONTH}.xlsx"}
    task = {"month": MONTH, "data": str(month["data"]), "params_file": None, "tmp": str(tmp_path), "items": [item]}
    before = signal.getsignal(signal.SIGALRM)
    (cut,) = build_workbooks(dict(task, timeout=0.05))
    assert cut["status"] == "failed" and cut["xlsx"] is None
    assert (
        cut["error"] == "building the workbook timed out after 0.05 s; raise --timeout or parameters schedule.timeout_s"
    )
    assert not list(tmp_path.glob("*.xlsx")) and not list(tmp_path.glob("*.tmp"))
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0) and signal.getsignal(signal.SIGALRM) is before
    (whole,) = build_workbooks(task)
    assert whole["status"] == "ok" and Path(whole["xlsx"]).is_file(), whole["error"]
    assert cut["seconds"] < whole["seconds"] / 2, (cut["seconds"], whole["seconds"])


def test_a_workbook_records_the_data_it_was_built_from(month, tmp_path, monkeypatch):
    """A probe replaced contacts.csv while the client workbooks were built: they were published ok under the
    fingerprint the run had checked. build_workbooks records the files' fingerprint after the reading (the run's
    publisher fails a workbook whose fingerprint is not the run's: test_run_faults); unchanged data, the same."""
    import shutil

    from reportlib.data.load import fingerprint_now
    from reportlib.delivery.run import build_workbooks
    from reportlib.reports import workbook as W

    data = tmp_path / "data"
    shutil.copytree(month["data"], data)
    client = sorted(pd.read_csv(data / "clients.csv")["client_id"])[0]
    task = {
        "month": MONTH,
        "data": str(data),
        "params_file": None,
        "tmp": str(tmp_path),
        "items": [{"client_id": client, "client_name": None, "name": "client_review_x.xlsx"}],
    }
    before = fingerprint_now(str(data), "America/New_York")
    (res,) = build_workbooks(task)
    assert res["status"] == "ok" and res["fingerprint"] == before
    write = W.write_workbook

    def write_then_change(book, path):  # the export replaced while the workbook is built
        write(book, path)
        (data / "clients.csv").write_text((data / "clients.csv").read_text() + "\n")

    monkeypatch.setattr(W, "write_workbook", write_then_change)
    (res,) = build_workbooks(task)
    assert res["fingerprint"] != before and res["fingerprint"] == fingerprint_now(str(data), "America/New_York")


def test_a_readme_note_names_nobody_and_garbles_no_word(month, monkeypatch):
    """The README's notes replaced agent names by plain text replacement: a name inside a longer word went too
    ("Annabel" for an agent "Ann"), and ids (which may be work e-mail addresses) stayed. They now follow the
    pages' rule (`redaction.note_terms`, `redaction.redact_terms`): names and lettered ids as whole words."""
    from reportlib.core.errors import ReportlibError
    from reportlib.reports import views

    src = views.start_report("sla", month=MONTH, data=str(month["data"])).source
    roster = src.frame("agents")
    agent = roster[roster["role"] == "agent"].iloc[-1]
    name, aid = str(agent["name"]), str(agent["agent_id"])
    first = name.split()[0]
    said = f"{name} ({aid}) is in no team; {first}ette and {aid}x are not agents"

    def fails(*_args):
        raise ReportlibError(said)

    monkeypatch.setattr(W, "_teams", fails)
    notes = [n for n in W.month_workbook(src, {}, MONTH).notes if "is in no team" in n]
    assert notes == [
        f"Team and agent scorecards is not in this workbook: [redacted] ([redacted]) is in no team; "
        f"{first}ette and {aid}x are not agents"
    ]


def test_the_pages_other_tables_equal_their_sheets(month, book):
    """The email backlog, the month-to-date projection, plan vs actual, tenure survival, the drivers model and the
    forecast's evidence per series: each page table has its sheet, equal cell by cell as the page formats it."""

    def hours(v):
        return narrative.fixed(v, 1) + " h"

    def points(v):
        return narrative.fixed(v, 1)

    def ratio(v):
        return narrative.format_value(v, "ratio")

    def same(page: dict, sheet: str, columns: dict[str, tuple[str, Any]]) -> int:
        heads, rows = sheet_rows(book, sheet)
        # a page shows at most 60 rows of a table ("Showing 60 of 80 rows"); its sheet holds them all
        assert page["rows"] and len(rows) == len(page["rows"]) or len(page["rows"]) == 60 < len(rows), (
            sheet,
            len(rows),
        )
        n = 0
        for prow, srow in zip(page["rows"], rows):
            cells, s = dict(zip(page["headers"], prow)), dict(zip(heads, srow))
            for ph, (sh, unit) in columns.items():
                value = s[sh]
                if callable(unit):
                    got = "–" if value is None else unit(value)
                else:
                    got = shown(value, unit)
                want = neutralise_cell(cells[ph]) if unit == "text" else cells[ph]
                assert got == want, f"{sheet} row {prow[0]!r} {sh}: workbook {value!r}, page {cells[ph]!r}"
                n += 1
        return n

    sla = html_tables(month["dir"] / "sla.html")
    [backlog] = [t for t in sla if t["headers"][:1] == ["Queue"] and t["headers"][1].startswith("Waiting ")]
    waiting = backlog["headers"][1]  # "Waiting at month end", or when the data end before it
    cols = {"Queue": ("Queue", "text"), waiting: (waiting, "count"), "Past target": ("Past target", "count")}
    same(backlog, "Email backlog", {**cols, "Oldest (business hours)": ("Oldest (business hours)", hours)})
    mtd = table(sla, headers=["Client", "Term", "So far", "Contacts still expected"])
    cols = {h: (h, "text") for h in mtd["headers"]}
    cols.update({h: (h, "count") for h in ("Contacts still expected", "Must be answered in time")})
    same(mtd, "SLA month to date", cols)
    pva = table(sla, headers=["Channel", "Queue", "Plan", "Actual", "Volume vs forecast"])
    cols = {"Channel": ("Channel", "text"), "Queue": ("Queue", "text")}
    cols.update({h: (h, "share") for h in ("Plan", "Actual", "Volume vs forecast")})
    cols.update({h: (h, points) for h in ("Volume (pts)", "Handle time (pts)", "Staffing (pts)", "Other (pts)")})
    assert same(pva, "Plan vs actual", cols) >= 5 * 9
    # the cells hold the figures, not their rounding: plan + the four effects is the actual, as in Excel
    heads, rows = sheet_rows(book, "Plan vs actual")
    for r in (dict(zip(heads, row)) for row in rows):
        effects = [r[h] for h in ("Volume (pts)", "Handle time (pts)", "Staffing (pts)", "Other (pts)")]
        assert abs(100 * r["Plan"] + sum(e or 0.0 for e in effects) - 100 * r["Actual"]) < 1e-9, r
    att = html_tables(month["dir"] / "attrition.html")
    surv = table(att, headers=["People", "Leavers", "Median tenure"])
    cols = {"People": ("People", "count"), "Leavers": ("Leavers", "count"), "Median tenure": ("Median tenure", "days")}
    cols.update({h: (h, "share") for h in ("Reach 90 days", "Reach 1 year")})
    same(surv, "Tenure survival", cols)
    drivers = [t for t in att if t["headers"][:3] == ["Factor", "Compared with", "Hazard ratio"]]
    # this small roster has too few leavers to model (the page's notes say so): then the workbook has no sheet
    assert ("Attrition drivers" in book.sheetnames) == bool(drivers)
    if drivers:
        cols = {h: (h, "text") for h in ("Factor", "Compared with", "Reading")}
        cols.update({h: (h, ratio) for h in ("Hazard ratio", "95% low", "95% high")})
        same(drivers[0], "Attrition drivers", cols)
    fc = html_tables(month["dir"] / "forecast.html")
    methods = table(fc, caption="The method chosen per series")
    same(methods, "Forecast evidence", {"Series": ("Series", "text"), "Method chosen": ("Method chosen", "text")})
    evidence = table(fc, caption="Evidence per series")
    cols = {"Series": ("Series", "text"), "History (days)": ("History (days)", "count")}
    cols.update(
        {h: (h, "share") for h in evidence["headers"] if h.startswith(("WAPE", "Same", "Mean", "Median", "80%"))}
    )
    cols.update({h: (h, "number") for h in ("Band width / volume", "Winkler score / volume")})
    assert set(cols) == set(evidence["headers"]), evidence["headers"]
    same(evidence, "Forecast evidence", cols)
