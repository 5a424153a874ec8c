"""Agent 1:1 reviews end to end: `reportlib run --agents` renders one page per agent with that agent's data
alone (HTML, embedded chart JSON and the executed notebook), under safe file names, and `reportlib email`
sends each page to that agent's supervisor only.

The sample has hostile names and ids planted in one team: names that need escaping (`<script>`,
`O'Brien & Sons`), names that are substrings of one another (Ann, Ann Lee, Ann Leeds), ids that are paths
(`../up`, `A/B`) or another id's slug (`A_B`), and QA comments naming other agents.
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import re
from pathlib import Path

import _reports
import pandas as pd
import pytest
import yaml

from reportlib.cli import main
from reportlib.core.errors import UsageError
from reportlib.core.safety import file_stem, page_stamp

pytestmark = pytest.mark.slow

MONTH = "2025-03"
PLANTED = [  # (new id, new name)
    ("A/B", "Ann Lee"),
    ("A_B", "Ann"),
    ("ann-leeds", "Ann Leeds"),
    ("S1", "Zed <script>window.__pwned=1</script>"),
    ("../up", "O'Brien & Sons"),
]


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from reportlib.core.params import load_params
    from reportlib.data.load import open_source
    from reportlib.planning.sample import sample_data
    from reportlib.reports.agent_review import active_agents

    root = tmp_path_factory.mktemp("agents")
    folder = root / "data"
    sample_data(folder, seed=7, start="2025-01", months=3, agents=24, clients=2)
    params = load_params()
    active = {s.agent_id for s in active_agents(open_source(str(folder), tz=params["timezone"]), MONTH, params)}
    agents = _csv(folder / "agents.csv")
    pick = agents[(agents["role"] == "agent") & agents["agent_id"].isin(active)]
    team = pick["team"].value_counts().index[0]
    chosen = list(pick[pick["team"] == team]["agent_id"][: len(PLANTED)])
    assert len(chosen) == len(PLANTED), "the sample team is too small for the planted agents"
    rename = {old: new for old, (new, _) in zip(chosen, PLANTED)}
    for old, (_new, name) in zip(chosen, PLANTED):
        agents.loc[agents["agent_id"] == old, "name"] = name
    agents["agent_id"] = agents["agent_id"].replace(rename)
    agents.loc[agents["agent_id"] == "S1", "supervisor"] = ""  # no supervisor: skipped by e-mail
    # three ways to name a supervisor: listed in distribution.supervisors (A/B, A_B), another supervisor's
    # name (ann-leeds), a supervisor's agent_id (../up); the last two through supervisor_default
    bosses = agents[agents["role"] == "supervisor"]
    own_boss = agents.loc[agents["agent_id"] == "A/B", "supervisor"].iloc[0]
    other = bosses[bosses["name"] != own_boss].iloc[0]
    agents.loc[agents["agent_id"] == "ann-leeds", "supervisor"] = other["name"]
    agents.loc[agents["agent_id"] == "../up", "supervisor"] = other["agent_id"]
    agents.to_csv(folder / "agents.csv", index=False)
    for table in ("contacts", "agent_activity"):
        frame = _csv(folder / f"{table}.csv")
        frame["agent_id"] = frame["agent_id"].replace(rename)
        frame.to_csv(folder / f"{table}.csv", index=False)
    qa = _csv(folder / "qa_evaluations.csv")
    qa["agent_id"] = qa["agent_id"].replace(rename)
    everyone = list(zip(agents["agent_id"], agents["name"]))
    qa["comment"] = [
        f"Compared with {everyone[i % len(everyone)][1]} ({everyone[i % len(everyone)][0]}), "
        + ", ".join(f"{n} [{a}]" for a, n in PLANTED)
        + " & <b>well done</b>"
        for i in range(len(qa))
    ]
    # every planted agent has one evaluation this month, whose comment names all the others
    extra = pd.DataFrame(
        {
            "evaluation_id": [f"EX{i}" for i in range(len(PLANTED))],
            "agent_id": [a for a, _ in PLANTED],
            "evaluated_at": [f"{MONTH}-10T10:00:00" for _ in PLANTED],
            "contact_id": ["" for _ in PLANTED],
            "score": ["88" for _ in PLANTED],
            "critical_error": ["false" for _ in PLANTED],
            "comment": [", ".join(f"{n} ({a})" for a, n in PLANTED) for _ in PLANTED],
        }
    )
    pd.concat([qa, extra]).to_csv(folder / "qa_evaluations.csv", index=False)
    sups = agents.set_index("agent_id")["supervisor"]
    pfile = root / "params.yaml"
    pfile.write_text(
        yaml.safe_dump(
            {
                "distribution": {
                    "supervisors": {sups["A/B"]: ["boss-one@corp.test"]},
                    "supervisor_default": ["sup+{supervisor_id}@corp.test"],
                    "allowed_domains": ["corp.test"],
                    "cc": ["everyone@corp.test"],
                },
            }
        )
    )
    out = root / "out"
    code = main(
        [
            "run",
            "--month",
            MONTH,
            "--data",
            str(folder),
            "--params",
            str(pfile),
            "--out",
            str(out),
            "--reports",
            "agent_review",
            "--agents",
            ",".join(a for a, _ in PLANTED),
            "--workers",
            "2",
        ]
    )
    return {"root": root, "data": folder, "params": pfile, "out": out, "code": code, "agents": agents}


def _forms(value: str) -> set[str]:
    """How a string from data can appear: raw, HTML-escaped, JSON-escaped (also as in a <script> block)."""
    forms = {value, html.escape(value, quote=False), html.escape(value)}
    for v in list(forms):
        j = json.dumps(v)[1:-1]
        forms |= {j, j.replace("<", "\\u003c").replace(">", "\\u003e").replace("/", "\\u002f")}
        forms.add(json.dumps(j)[1:-1])  # HTML inside a notebook's JSON
    return {f for f in forms if f}


def _present(text: str, value: str) -> bool:
    for form in _forms(value):
        head = r"(?<![\w])" if re.match(r"\w", form[0]) else ""
        tail = r"(?![\w])" if re.match(r"\w", form[-1]) else ""
        if re.search(head + re.escape(form) + tail, text, flags=re.IGNORECASE):
            return True
    return False


def _pages(world) -> dict[str, dict]:
    manifest = json.loads((world["out"] / MONTH / "manifest.json").read_text())
    return {e["agent_id"]: e for e in manifest["reports"] if e["report"] == "agent_review"}


def test_run_renders_one_page_per_agent(world):
    assert world["code"] == 0
    pages = _pages(world)
    assert sorted(pages) == sorted(a for a, _ in PLANTED)
    assert all(e["status"] == "ok" for e in pages.values())


def test_each_page_holds_its_agent_alone(world):
    agents = world["agents"]
    month_dir = world["out"] / MONTH
    checked = 0
    for aid, entry in _pages(world).items():
        own_name = agents.loc[agents["agent_id"] == aid, "name"].iloc[0]
        others = agents[agents["agent_id"] != aid]
        terms = set(others["agent_id"]) | set(others["name"]) | (set(agents["supervisor"]) - {own_name, ""})
        for rel in (entry["html"], entry["notebook"]):
            text = _reports.without_plotly_js((month_dir / rel).read_text(encoding="utf-8"))
            assert _present(text, own_name), (aid, rel, "does not show its own agent")
            for own in sorted(_forms(own_name) | _forms(aid), key=len, reverse=True):
                text = text.replace(own, " ")  # the agent's own name may contain a colleague's ("Ann Lee")
            leaked = sorted(t for t in terms if t and _present(text, t))
            assert leaked == [], (aid, rel, leaked)
            checked += 1
        assert "[another agent]" in (month_dir / entry["html"]).read_text(encoding="utf-8")  # comments redacted
    assert checked == 2 * len(PLANTED)


def test_each_pdf_holds_its_agent_alone(world):
    """The printed copy of each agent review (registry `pdf`) holds that agent alone, like the page."""
    import os
    import shutil
    import subprocess

    if not shutil.which("pdftotext") or not all(e.get("pdf") for e in _pages(world).values()):
        why = "no PDF copies here (needs chromium, playwright and poppler-utils)"
        if os.environ.get("REPORTLIB_REQUIRE_BROWSER") == "1":
            pytest.fail(why)
        pytest.skip(why)
    agents = world["agents"]
    month_dir = world["out"] / MONTH
    for aid, entry in _pages(world).items():
        own_name = agents.loc[agents["agent_id"] == aid, "name"].iloc[0]
        others = agents[agents["agent_id"] != aid]
        terms = set(others["agent_id"]) | set(others["name"]) | (set(agents["supervisor"]) - {own_name, ""})
        out = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(month_dir / entry["pdf"]), "-"], capture_output=True, text=True
        )
        text = " ".join(out.stdout.split())  # a name may wrap across lines on paper
        assert out.returncode == 0 and _present(text, own_name), (aid, "the PDF does not show its own agent")
        for own in sorted(_forms(own_name) | _forms(aid), key=len, reverse=True):
            text = text.replace(own, " ")
        leaked = sorted(t for t in terms if t and _present(text, t))
        assert leaked == [], (aid, entry["pdf"], leaked)


def test_markup_from_data_is_inert(world):
    month_dir = world["out"] / MONTH
    for entry in _pages(world).values():
        page = _reports.without_plotly_js((month_dir / entry["html"]).read_text(encoding="utf-8"))
        assert "<script>window.__pwned" not in page and "<b>well done</b>" not in page
        assert page.count("<script") == page.count("</script>")


def test_file_names_come_from_the_safe_path(world):
    month_dir = world["out"] / MONTH
    pages = _pages(world)
    names = {aid: e["html"] for aid, e in pages.items()}
    assert names == {aid: f"{file_stem('agent_review', aid)}.html" for aid in names}
    assert len(set(names.values())) == len(names)  # A/B and A_B do not collide
    for aid, name in names.items():
        path = month_dir / name
        assert path.parent == month_dir and path.is_file()
        assert page_stamp(path.read_bytes()) == {
            "report": "agent_review",
            "client_id": None,
            "month": MONTH,
            "agent_id": aid,
        }
    assert not (world["root"] / "up").exists() and not list(month_dir.rglob("*up.html"))


def test_email_sends_each_page_to_its_supervisor_only(world, capsys, monkeypatch):
    for k in ("REPORTLIB_SMTP_HOST", "REPORTLIB_SMTP_FROM"):
        monkeypatch.delenv(k, raising=False)
    agents = world["agents"].set_index("agent_id")
    eml = world["root"] / "eml"
    code = main(
        ["email", "--month", MONTH, "--out", str(world["out"]), "--params", str(world["params"]), "--dry-run", str(eml)]
        + ["--reports", "agent_review"]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert "skipping agent_review for agent S1: agent S1 has no supervisor in the roster" in err
    sent = {}
    for path in sorted(eml.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        attachment = next(p for p in msg.iter_attachments() if p.get_filename().endswith(".html"))
        stamp = page_stamp(attachment.get_content())
        assert msg["Cc"] is None
        sent[stamp["agent_id"]] = [a.addr_spec for a in msg["To"].addresses]
    other = agents.loc["../up", "supervisor"]  # an agent_id, and the name given to ann-leeds's supervisor
    assert agents.loc[other, "name"] == agents.loc["ann-leeds", "supervisor"]
    assert sent == {
        "A/B": ["boss-one@corp.test"],
        "A_B": ["boss-one@corp.test"],
        "ann-leeds": [f"sup+{other}@corp.test"],
        "../up": [f"sup+{other}@corp.test"],
    }
    # sent for real (aiosmtpd): each "sent" line names the agent by id, not by the name in the subject (the lines
    # of a scheduled run are kept in a log beside the reports)
    import socket

    from aiosmtpd.controller import Controller

    class Inbox:
        subjects: list[str] = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
            msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
            self.subjects.append(str(msg["Subject"]))
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        for k, v in (("HOST", "127.0.0.1"), ("PORT", str(port)), ("TLS", "none"), ("FROM", "r@corp.test")):
            monkeypatch.setenv(f"REPORTLIB_SMTP_{k}", v)
        code = main(
            ["email", "--month", MONTH, "--out", str(world["out"]), "--params", str(world["params"])]
            + ["--reports", "agent_review"]
        )
    finally:
        ctl.stop()
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if ln.startswith("sent agent_review")]
    assert code == 0 and len(lines) == 4 and len(inbox.subjects) >= 4, out
    names = [str(n) for n in agents["name"] if isinstance(n, str) and n]
    assert any(n in s for s in inbox.subjects for n in names)  # the subject names the agent...
    assert not [ln for ln in lines if any(n in ln for n in names)], lines  # ...the line does not


def test_unknown_agent_is_a_usage_error(world, capsys):
    code = main(
        ["run", "--month", MONTH, "--data", str(world["data"]), "--out", str(world["root"] / "o2"), "--agents", "NOPE"]
    )
    assert code == 2
    assert "unknown agent id NOPE" in capsys.readouterr().err


def test_a_listed_agent_not_active_that_month_is_left_out_with_a_line_not_a_failed_run(world):
    import io

    from reportlib.core.params import load_params
    from reportlib.data.load import open_source
    from reportlib.delivery import run
    from reportlib.reports.agent_review import active_agents

    params = load_params()
    src = open_source(str(world["data"]), tz=params["timezone"])
    active = {s.agent_id for s in active_agents(src, MONTH, params)}
    idle = sorted(set(src.frame("agents")["agent_id"].astype(str)) - active)[0]  # on the roster, not active
    log = io.StringIO()
    chosen = run._agent_list(src, MONTH, params, f"A/B,{idle}", log)
    assert [s.agent_id for s in chosen] == ["A/B"]
    assert f"no review for agent {idle}: handled no contacts, was not scheduled and was not evaluated" in log.getvalue()
    with pytest.raises(UsageError, match=f"^agent {re.escape(idle)} handled no contacts, was not scheduled"):
        run._agent_list(src, MONTH, params, idle, log)  # none of those listed: nothing to review


def test_notebook_runs_by_papermill_for_one_agent(world):
    import nbformat

    from reportlib.delivery import run

    out = run.execute("agent_review", world["root"] / "nb" / "one.ipynb", {"month": MONTH, "data": str(world["data"])})
    nb = nbformat.read(str(out), as_version=4)
    kinds = {k for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) for k in o.get("data", {})}
    assert {"application/vnd.reportlib.tiles+json", "application/vnd.plotly.v1+json"} <= kinds
    text = json.dumps(nb)
    assert "Coaching points" in text and "Quality evaluations" in text and "[another agent]" in text
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []


@pytest.mark.browser
def test_pages_draw_and_markup_stays_inert_in_the_browser(world):

    from _chromium import Chromium, require_chromium

    exe = require_chromium()
    month_dir = world["out"] / MONTH
    with Chromium(exe) as b:
        for aid, entry in _pages(world).items():
            page = b.open((month_dir / entry["html"]).resolve().as_uri(), timeout=60)
            try:
                page.wait_for("document.querySelectorAll('.rl-plot:not([data-rl-drawn])').length === 0", 60)
                assert page.eval("document.querySelectorAll('.rl-plot').length") >= 3, aid
                assert page.eval("typeof window.__pwned") == "undefined", aid
                assert page.eval("document.querySelectorAll('main script:not([type])').length") == 0, aid
                bold = "Array.from(document.querySelectorAll('b')).filter(e => e.textContent.includes('well done'))"
                assert page.eval(bold + ".length") == 0, aid  # a comment's <b> is text, not markup
                assert page.console_errors() == [], aid
            finally:
                page.close()
