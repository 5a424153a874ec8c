"""Privacy and injection: agent names only in team_performance, one client per client review, markup inert.

The sample behind these pages has HTML and `</script>` planted in agent names, a client name,
contact reasons and a termination reason (tests/_reports.py).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import _reports
import pandas as pd
import pytest
from _chromium import Chromium, require_chromium

from reportlib.core.safety import unspoofed

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results():
    return _reports.rendered()


def _text(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return _reports.without_plotly_js(fh.read())


def _forms(value: str) -> set[str]:
    """The ways a string from data can appear in a page: raw, HTML-escaped, or inside escaped JSON; its
    bidirectional controls and line separators shown as marks (safety.unspoofed)."""
    value = unspoofed(value)
    esc = html.escape(value, quote=False)
    forms = {value, esc, html.escape(value)}
    for v in (value, esc):
        j = json.dumps(v)[1:-1]
        forms.add(j.replace("<", "\\u003c").replace(">", "\\u003e").replace("/", "\\u002f"))
    return {f for f in forms if f}


def _present(page: str, value: str) -> bool:
    for form in _forms(value):
        if re.search(r"(?<![\w])" + re.escape(form) + r"(?![\w])", page):
            return True
    return False


def _agent_names(source: Path) -> list[str]:
    agents = pd.read_csv(source / "agents.csv", dtype=str, keep_default_na=False)
    names = set(agents["name"]) | set(agents["supervisor"])
    return sorted(n for n in names if len(n.strip()) >= 3)


def _ok(results, key):
    r = results.get(key)
    if r is None or r["status"] != "ok":
        pytest.skip(f"{key} was not rendered (see test_notebooks)")
    return r


def test_agent_names_only_in_team_performance(results):
    checked = 0
    for source in ("sample", "bank"):
        folder = _reports._STATE.get(source)
        if folder is None:
            continue
        names = _agent_names(Path(folder))
        for key, r in results.items():
            if r["source"] != source or r["status"] != "ok":
                continue
            page = _text(r["html"])
            found = [n for n in names if _present(page, n)]
            if key.endswith("team_performance"):
                if source == "sample":
                    assert found, "team_performance shows agent names: the check must find them"
            else:
                assert found == [], f"{key} names agents: {found[:5]}"
                checked += 1
    assert checked >= 6


def test_client_review_shows_only_its_client(results):
    for key, r in results.items():
        if "client_review" not in key or r["status"] != "ok":
            continue
        folder = _reports._STATE[r["source"]]
        clients = pd.read_csv(Path(folder) / "clients.csv", dtype=str, keep_default_na=False)
        page = _text(r["html"])
        others = clients[clients["client_id"] != r["client_id"]]
        leaked = [v for v in list(others["client_id"]) + list(others["client_name"]) if _present(page, v)]
        assert leaked == [], f"{key} shows other clients: {leaked}"
        own = clients[clients["client_id"] == r["client_id"]]["client_name"].iloc[0]
        assert _present(page, own), f"{key} does not name its own client"
        # a bidirectional control or a line separator from data is shown as a mark, never as itself: a client
        # named "...\u202egnp.exe" read "exe.png" and reversed the page's words after it (a probe)
        assert not re.search("[\u202a-\u202e\u2066-\u2069\u2028\u2029\u0085]", page), key
        if r["client_id"] == _reports.MARKUP_CLIENT:
            assert "Benefits[U+202E]gnp.exe[U+2028]Bcc: x" in page, key


def test_client_review_run_facts_come_from_its_client_alone(tmp_path):
    """The run facts of a client's page (its data range) are that client's: the arrival time of another
    client's first or last contact is not printed on it."""
    from reportlib.planning.sample import sample_data
    from reportlib.reports import views

    folder = tmp_path / "exports-internal-7f3a"
    sample_data(folder, seed=5, start="2025-01", months=1, agents=12, clients=3)
    contacts = pd.read_csv(folder / "contacts.csv", dtype=str, keep_default_na=False)
    mine, other = sorted(contacts["client_id"].unique())[:2]
    # the other client's contacts are the operation's first and last, at times nobody else has
    first_other = contacts.index[contacts["client_id"] == other][0]
    last_other = contacts.index[contacts["client_id"] == other][-1]
    contacts.loc[first_other, "arrived_at"] = "2025-01-01T00:00:07-05:00"
    contacts.loc[last_other, "arrived_at"] = "2025-01-31T23:59:53-05:00"
    contacts.to_csv(folder / "contacts.csv", index=False)
    own = pd.to_datetime(contacts.loc[contacts["client_id"] == mine, "arrived_at"], utc=True)
    own = own.dt.tz_convert("America/New_York").dt.tz_localize(None)

    ctx = views.start_report("client_review", month="2025-01", data=str(folder), client_id=mine)
    facts = ctx.facts()
    footer = views.facts_html(facts)
    for leaked in ("2025-01-01 00:00:07", "2025-01-31 23:59:53"):
        assert leaked not in footer and leaked not in json.dumps(facts), leaked
    assert (facts["data_first"], facts["data_last"]) == (str(own.min())[:19], str(own.max())[:19])
    # the operation's own reports keep the whole source's range
    whole = views.start_report("sla", month="2025-01", data=str(folder)).facts()
    assert (whole["data_first"], whole["data_last"]) == ("2025-01-01 00:00:07", "2025-01-31 23:59:53")
    # a page sent to the client names the kind of source, not its folder, and only the tables it is drawn from
    assert facts["parameters"]["data"] == "a data folder" and folder.name not in footer
    assert set(facts["tables"]) <= {"contacts", "intervals", "clients"} and "agents" in whole["tables"]
    assert "agent_activity" not in footer and "qa_evaluations" not in footer
    # nor the operator's parameter file; an agent's review neither (it printed "data = duckdb:///srv/...")
    overlay = tmp_path / "params-internal-9c2e.yaml"
    overlay.write_text("{}\n")
    agent = contacts.loc[contacts["agent_id"] != "", "agent_id"].iloc[0]
    for report, who in (("client_review", {"client_id": mine}), ("agent_review", {"agent_id": agent})):
        page = views.start_report(report, month="2025-01", data=str(folder), params_file=str(overlay), **who).facts()
        shown = json.dumps(page) + views.facts_html(page)
        assert page["parameters"]["data"] == "a data folder" and "params_file" not in page["parameters"], report
        assert folder.name not in shown and overlay.name not in shown, report
    assert (
        views.start_report("sla", month="2025-01", data=str(folder), params_file=str(overlay)).facts()["parameters"][
            "params_file"
        ]
        == overlay.name
    )


def test_source_kind_names_no_host_user_or_path():
    from reportlib.reports.views import source_kind

    assert source_kind("postgres://svc:pw@db.internal:5432/wfm?schema=ops") == "a PostgreSQL database"
    assert source_kind("postgresql://db.internal/wfm") == "a PostgreSQL database"
    assert source_kind("spark://master.internal:7077?database=ops") == "Spark"
    assert source_kind("duckdb:///srv/acme/store.duckdb") == "a DuckDB database"
    assert source_kind("/srv/exports/acme-2026") == "a data folder"


def test_markup_is_escaped_in_the_html(results):
    r = _ok(results, "sample_team_performance")
    page = _text(r["html"])
    for name in _reports.EVIL_NAMES:
        assert name not in page  # never raw
    assert html.escape(_reports.EVIL_NAMES[0], quote=False) in page or html.escape(_reports.EVIL_NAMES[0]) in page
    for key, r in results.items():
        if r["status"] != "ok":
            continue
        page = _text(r["html"])
        assert page.count("<script") == page.count("</script>"), key
        body = page.split('<main class="rl-main">', 1)[-1]
        for bad in ("<img src=x", "<script>window.__pwned", "<b onmouseover"):
            assert bad not in body, (key, bad)


@pytest.mark.browser
def test_markup_stays_inert_in_the_browser(results):
    exe = require_chromium()
    keys = [k for k, r in results.items() if r["source"] == "sample" and r["status"] == "ok"]
    assert keys
    with Chromium(exe) as b:
        for key in keys:
            page = b.open(Path(results[key]["html"]).resolve().as_uri(), timeout=60)
            try:
                page.wait_for("document.querySelectorAll('.rl-plot:not([data-rl-drawn])').length === 0", 60)
                # hover every trace so that hover labels (plotly's pseudo-HTML) are produced too
                page.eval("""document.querySelectorAll('.rl-plot').forEach(el => {
                    try { (el.data || []).forEach((t, i) => Plotly.Fx.hover(el, [{curveNumber: i, pointNumber: 0}])); }
                    catch (e) {} })""")
                assert page.eval("typeof window.__pwned") == "undefined", key
                assert (
                    page.eval(
                        "document.querySelectorAll('img[src=\"x\"], b[onmouseover], main script:not([type])').length"
                    )
                    == 0
                ), key
                assert page.console_errors() == [], key
                if key.endswith("team_performance"):
                    text = page.eval("document.body.innerText")
                    assert "<img src=x onerror=" in text  # shown as text, not dropped
            finally:
                page.close()


def test_an_agent_review_opened_for_a_team_shows_an_agent_of_that_team(tmp_path):
    """A probe: agent_review in Lab with team = "Tampa 1" showed an agent of Louisville 3, and accepted an agent of
    another team beside it without a word."""
    from reportlib.core.errors import UsageError
    from reportlib.planning.sample import sample_data
    from reportlib.reports import views

    folder = tmp_path / "d"
    sample_data(folder, seed=5, start="2025-01", months=1, agents=40, clients=3)
    roster = pd.read_csv(folder / "agents.csv", dtype=str, keep_default_na=False)
    first = views.start_report("agent_review", month="2025-01", data=str(folder)).agent_id
    other_team = sorted(set(roster["team"]) - set(roster.loc[roster["agent_id"] == first, "team"]))[0]
    ctx = views.start_report("agent_review", month="2025-01", data=str(folder), team=other_team)
    assert roster.loc[roster["agent_id"] == ctx.agent_id, "team"].tolist() == [other_team]
    with pytest.raises(UsageError, match=f"agent_id '{first}' is not in team '{other_team}'"):
        views.start_report("agent_review", month="2025-01", data=str(folder), team=other_team, agent_id=first)
