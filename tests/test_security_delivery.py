"""Issue 13, delivery and output half: each test injects one fault an attacker with write access to the data
folder and to outputs/ (or an unlucky operator) would cause, and asserts that nothing leaks, is lost or is
left half-written. Mail goes to a real SMTP server (aiosmtpd on loopback); runs execute real notebooks."""

from __future__ import annotations

import contextlib
import csv
import email
import email.policy
import errno
import html as _html
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from aiosmtpd.controller import Controller
from test_run import (
    PARAMS_CELL,  # the tiny parameterized notebooks of the runner's tests
)

from reportlib.cli import main
from reportlib.core import safety
from reportlib.core.errors import ReportlibError, UsageError
from reportlib.core.safety import file_stem, neutralise_cell, neutralise_frame, stamp_page
from reportlib.delivery.run import (
    WorkerPool,
    _count_clients,
    _Publisher,
    index_html,
    month_folder,
    month_lock,
    pool_size,
    remove_stale_run_folders,
)

MONTH = "2026-03"
ROOT = Path(__file__).resolve().parents[1]
LONG_ID = "L" * 150 + "/" + "é" * 149  # 300 characters: once a "File name too long" failure
ODD_IDS = ["A/B", "A_B", "../up", "Ａcme", "acme", LONG_ID]  # slash, its slug, dot-dot, a lookalike, case


# --- helpers --------------------------------------------------------------------------------------


def _notebook(path: Path, name: str, extra: str | None = None) -> None:
    """A tiny report notebook that shows the report, month and client it was given."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(PARAMS_CELL)
    params.metadata["tags"] = ["parameters"]
    body = (
        "from IPython.display import HTML, display\nimport html\n"
        f"display(HTML('<p>REPORT {name} month=' + str(month) + ' client=' + html.escape(repr(client_id)) + '</p>'))"
    )
    nb.cells = [params, nbformat.v4.new_code_cell(body)] + ([nbformat.v4.new_code_cell(extra)] if extra else [])
    nbformat.write(nb, path)


def _data(folder: Path, ids: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "clients.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["client_id", "client_name", "tier", "sla_profile"])
        w.writerow(["C1", "Acme", "gold", "standard"])
        for i, cid in enumerate(ids):
            w.writerow([cid, f"Client {i}", "silver", "standard"])
    (folder / "agents.csv").write_text("agent_id,name,team,hire_date\nA1,Ann,North,2024-01-02\n")
    (folder / "contacts.csv").write_text(
        "contact_id,channel,queue,client_id,arrived_at,outcome,wait_s,handle_s,agent_id\n"
        "K1,phone,Benefits,C1,2026-02-10T10:00:00,handled,12,300,A1\n"
        "K2,phone,Benefits,C1,2026-03-03T10:00:00,handled,12,300,A1\n"
    )
    return folder


@pytest.fixture()
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTLIB_CACHE", str(tmp_path / "cache"))
    for k in list(os.environ):
        if k.startswith("REPORTLIB_SMTP_"):
            monkeypatch.delenv(k)
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    for name in ("team_performance", "sla", "monthly_pack", "client_review"):
        _notebook(nbs / f"{name}.ipynb", name)
    data = _data(tmp_path / "data", ODD_IDS)
    pfile = tmp_path / "params.yaml"
    pfile.write_text(
        yaml.safe_dump(
            {
                "data": str(data),
                "schedule": {"notebooks": str(nbs), "reports": ["sla", "client_review"], "timeout_s": 60},
            }
        )
    )
    return {"root": tmp_path, "nbs": nbs, "data": data, "params": pfile, "out": tmp_path / "out"}


def _run(project, *extra: str, out: Path | None = None) -> int:
    return main(
        [
            "run",
            "--month",
            MONTH,
            "--params",
            str(project["params"]),
            "--out",
            str(out or project["out"]),
            "--workers",
            "2",
            *extra,
        ]
    )


def _leftovers(folder: Path) -> list[str]:
    """Temporary or empty files a write left behind (the lock file is meant to stay, empty)."""
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if (p.is_file() and p.name != ".lock" and (".tmp" in p.name or p.stat().st_size == 0)) or ".run-" in p.name
    )


class _Inbox:
    def __init__(self, delay: float = 0.0) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        await asyncio.sleep(self.delay)
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"


@contextlib.contextmanager
def _smtp(monkeypatch, delay: float = 0.0):
    """A real SMTP server on 127.0.0.1 (no login, no TLS) and the environment pointing at it."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = _Inbox(delay)
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    monkeypatch.setenv("REPORTLIB_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("REPORTLIB_SMTP_PORT", str(port))
    monkeypatch.setenv("REPORTLIB_SMTP_TLS", "none")
    monkeypatch.setenv("REPORTLIB_SMTP_FROM", "Support reports <reports@corp.test>")
    try:
        yield inbox
    finally:
        ctl.stop()


def _fake_month(out: Path, clients: list[str], pack: bool = True) -> Path:
    """outputs/2026-03 as `reportlib run` leaves it (stamped pages, manifest), without running notebooks."""
    month_dir = out / MONTH
    (month_dir / "notebooks").mkdir(parents=True, exist_ok=True)
    entries = []
    for report, cid in ([("monthly_pack", None)] if pack else []) + [("client_review", c) for c in clients]:
        stem = file_stem(report, cid)
        page = stamp_page(
            f"<!DOCTYPE html><html><head></head><body>PAGE {report} {cid!r}</body></html>", report, cid, MONTH
        )
        (month_dir / f"{stem}.html").write_text(page, encoding="utf-8")
        entries.append(
            {
                "report": report,
                "client_id": cid,
                "status": "ok",
                "title": f"{report} {cid}",
                "html": f"{stem}.html",
                "notebook": None,
                "client_name": cid,
            }
        )
    (month_dir / "manifest.json").write_text(json.dumps({"month": MONTH, "reports": entries}))
    return month_dir


def _dist(tmp_path: Path, **dist) -> Path:
    p = tmp_path / "dist.yaml"
    p.write_text(
        yaml.safe_dump(
            {
                "distribution": dict(
                    {"executives": ["coo@corp.test"], "account_teams": {}, "account_team_default": []}, **dist
                )
            }
        )
    )
    return p


def _email(out: Path, params: Path, *extra: str) -> int:
    return main(["email", "--month", MONTH, "--out", str(out), "--params", str(params), *extra])


def _eml_texts(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(errors="replace") for p in sorted(folder.glob("*.eml"))}


# --- 1 --------------------------------------------------------------------------------------------


def test_13_01_client_ids_that_collide_get_distinct_files_and_email_refuses_mismatch(project, tmp_path, capsys):
    """`A/B` and `A_B` (rendered in separate runs), `..`, a full-width lookalike, case and a 300-character id
    each get their own bounded file, stamped with its id; `email` refuses a page rendered for someone else,
    and a second dry run never overwrites the first one's .eml files."""
    stems = {cid: file_stem("client_review", cid) for cid in ODD_IDS}
    assert len(set(stems.values())) == len(ODD_IDS)  # distinct, case-insensitively too
    assert len({s.lower() for s in stems.values()}) == len(ODD_IDS)
    assert all(len(s.encode()) <= 100 and "/" not in s and ".." not in s and s.isascii() for s in stems.values())
    assert file_stem("client_review", "A/B") == file_stem("client_review", "A/B")  # stable across runs
    # an id crafted to equal another id's slug + hash still differs: the hash is always appended
    assert file_stem("client_review", stems["A/B"][len("client_review_") :]) != stems["A/B"]

    # two runs, as in the issue: A/B (with the long and the odd ids) first, then A_B alone
    assert _run(project, "--reports", "client_review", "--clients", ",".join(c for c in ODD_IDS if c != "A_B")) == 0
    assert _run(project, "--reports", "client_review", "--clients", "A_B") == 0
    capsys.readouterr()
    month_dir = project["out"] / MONTH
    manifest = json.loads((month_dir / "manifest.json").read_text())
    by_id = {e["client_id"]: e for e in manifest["reports"]}
    assert set(by_id) == set(ODD_IDS) and all(e["status"] == "ok" for e in by_id.values())
    for cid in ODD_IDS:
        page = (month_dir / by_id[cid]["html"]).read_text()
        assert by_id[cid]["html"] == f"{stems[cid]}.html"
        assert safety.page_stamp(page) == {"report": "client_review", "client_id": cid, "month": MONTH}
        assert f"client={cid!r}<" in _html.unescape(page)  # each file holds its own client's review
    assert not (project["out"] / "up").exists() and not list(project["out"].parent.glob("*.html"))

    params = _dist(tmp_path, account_teams={c: [f"team{i}@corp.test"] for i, c in enumerate(ODD_IDS)})
    first = tmp_path / "eml"
    assert _email(project["out"], params, "--dry-run", str(first), "--reports", "client_review") == 0
    one = _eml_texts(first)
    assert len(one) == len(ODD_IDS)
    # a second dry run into the same folder adds files, never overwrites
    assert _email(project["out"], params, "--dry-run", str(first), "--reports", "client_review") == 0
    two = _eml_texts(first)
    assert len(two) == 2 * len(ODD_IDS) and all(two[k] == v for k, v in one.items())

    # the old collision, by hand: A/B's file now holds A_B's review -> A/B's team gets nothing
    (month_dir / f"{stems['A/B']}.html").write_bytes((month_dir / f"{stems['A_B']}.html").read_bytes())
    capsys.readouterr()
    third = tmp_path / "eml3"
    assert _email(project["out"], params, "--dry-run", str(third), "--reports", "client_review") == 1
    err = capsys.readouterr().err
    assert "not e-mailing client_review for client 'A/B'" in err and "rendered for client_review client 'A_B'" in err
    assert "Traceback" not in err
    sent = _eml_texts(third)
    assert len(sent) == len(ODD_IDS) - 1
    assert not any("team0@corp.test" in t for t in sent.values())  # A/B's team (index 0)
    # a manifest entry re-pointed at another client's file is refused too
    manifest["reports"] = [
        dict(e, html=by_id["A_B"]["html"]) if e["client_id"] == "acme" else e for e in manifest["reports"]
    ]
    (month_dir / "manifest.json").write_text(json.dumps(manifest))
    assert _email(project["out"], params, "--dry-run", str(tmp_path / "eml4"), "--reports", "client_review") == 1
    assert "not e-mailing client_review for client acme: the manifest points at" in capsys.readouterr().err


def test_13_01_ids_equal_but_for_case_never_share_a_mailbox(project, tmp_path, capsys):
    """C1 and c1 are two clients, but team+C1@ and team+c1@ are one mailbox on most mail servers: neither
    review is sent (both named), the third client's is; one address spelt alike for two clients is no clash."""
    data = _data(tmp_path / "cased", ["c1", "B2"])
    p = yaml.safe_load(project["params"].read_text())
    project["params"].write_text(yaml.safe_dump(dict(p, data=str(data))))
    assert _run(project, "--reports", "client_review", "--clients", "C1,c1,B2") == 0
    capsys.readouterr()
    params = _dist(tmp_path, account_team_default=["team+{client_id}@corp.test"])
    assert _email(project["out"], params, "--dry-run", str(tmp_path / "eml"), "--reports", "client_review") == 1
    err = capsys.readouterr().err
    assert "not e-mailing client_review for client C1" in err and "not e-mailing client_review for client c1" in err
    assert "not e-mailing client_review for client C1: team+C1@corp.test differs only in letter case" in err
    assert "spell it the same everywhere if it is one person's" in err and "Traceback" not in err
    sent = _eml_texts(tmp_path / "eml")
    assert len(sent) == 1 and "team+B2@corp.test" in next(iter(sent.values()))
    # one account manager for two clients, spelt alike: both sent
    shared = _dist(tmp_path, account_teams={"C1": ["pat@corp.test"], "c1": ["pat@corp.test"], "B2": ["b@corp.test"]})
    assert _email(project["out"], shared, "--dry-run", str(tmp_path / "eml2"), "--reports", "client_review") == 0
    assert len(_eml_texts(tmp_path / "eml2")) == 3
    # two clashes: each refusal names the client whose spelling it clashes with, not every clashing client (a
    # probe: "an address of 01, 1, acme" for Acme, whose clash was with acme alone)
    two = _dist(
        tmp_path, account_teams={"C1": ["x@corp.test", "pat@corp.test"], "c1": ["X@corp.test"], "B2": ["Pat@corp.test"]}
    )
    assert _email(project["out"], two, "--dry-run", str(tmp_path / "eml5"), "--reports", "client_review") == 1
    err = capsys.readouterr().err
    assert "client c1: X@corp.test differs only in letter case from an address of C1 (" in err
    assert "client B2: Pat@corp.test differs only in letter case from an address of C1 (" in err
    assert "client C1: x@corp.test, pat@corp.test differs only in letter case from an address of B2, c1 (" in err
    # C1's review sent in an earlier run (its sent-log record), c1's now: still one mailbox, still refused (a
    # probe: the check compared the messages of one run only)
    month_dir = project["out"] / MONTH
    record = {"report": "client_review", "client_id": "C1", "recipients": ["team+C1@corp.test"]}
    (month_dir / "sent-log.json").write_text(json.dumps({"sent": [record]}))
    capsys.readouterr()
    params = _dist(tmp_path, account_team_default=["team+{client_id}@corp.test"])
    assert _email(project["out"], params, "--dry-run", str(tmp_path / "eml3"), "--reports", "client_review") == 1
    err = capsys.readouterr().err
    assert "client_review for client C1 already sent" in err and "not e-mailing client_review for client c1" in err
    sent = _eml_texts(tmp_path / "eml3")
    assert len(sent) == 1 and "team+B2@corp.test" in next(iter(sent.values()))
    # a cc of every review, spelt otherwise as the pack's To, is one person's mailbox, sent in one run or two (a
    # review: the sent log's cc counted as a To blocked the pack in a later run)
    from reportlib.delivery.mail import Planned, case_clashes

    def planned(report, client, to, cc=()):
        return Planned(report, client, "x", list(to), list(cc), "s", {})

    review = planned("client_review", "C1", ["team+C1@corp.test"], ["director@corp.test"])
    pack = planned("monthly_pack", None, ["Director@corp.test"])
    assert case_clashes([pack, review]) == {}
    record = {"report": "client_review", "client_id": "C1", "recipients": ["team+C1@corp.test", "director@corp.test"]}
    assert case_clashes([pack], [dict(record, to=["team+C1@corp.test"])]) == {}
    # a probe: a shared account manager spelt "am1@corp.test" and "am1@Corp.test" (a domain ignores case) is no
    # clash; spelt "Am1@" it is, and only that address is named, not the client's other recipients
    one = planned("client_review", "C1", ["am1@corp.test", "jane@c001.test"])
    assert case_clashes([one, planned("client_review", "C4", ["am1@Corp.TEST"])]) == {}
    assert case_clashes([one, planned("client_review", "C4", ["Am1@corp.test"])]) == {
        ("client_review", "C1", None): {"am1@corp.test"},
        ("client_review", "C4", None): {"Am1@corp.test"},
    }


def test_13_01_email_body_figures_come_only_from_the_notebook_run_for_that_client(tmp_path, capsys):
    """The key figures in a message's body are read from the executed notebook; like the page, that notebook
    must be the one run for this report, client and month: one client's notebook copied over another's
    (or one from another month) puts nothing of it in the other client's message."""
    from reportlib.reports.views import COMMENTARY_MIME

    out = tmp_path / "out"
    month_dir = _fake_month(out, ["C1", "C2"], pack=False)
    manifest = json.loads((month_dir / "manifest.json").read_text())

    def executed(cid: str, month: str = MONTH) -> nbformat.NotebookNode:
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("views.commentary(...)")
        cell.outputs = [
            nbformat.v4.new_output("display_data", data={COMMENTARY_MIME: [f"SECRET-{cid} 1,234 contacts"]})
        ]
        nb.cells = [cell]
        nb.metadata["papermill"] = {"parameters": {"month": month, "client_id": cid, "team": None}}
        return nb

    for e in manifest["reports"]:
        e["notebook"] = f"notebooks/{file_stem('client_review', e['client_id'])}.ipynb"
        nbformat.write(executed(e["client_id"]), str(month_dir / e["notebook"]))
    (month_dir / "manifest.json").write_text(json.dumps(manifest))
    params = _dist(tmp_path, account_teams={"C1": ["c1@corp.test"], "C2": ["c2@corp.test"]})

    def bodies(folder: Path) -> dict[str, str]:
        got = {}
        for raw in _eml_texts(folder).values():
            msg = email.message_from_string(raw, policy=email.policy.default)
            text = msg.get_body(preferencelist=("plain",)).get_content()
            got[str(msg["To"])] = text
        return got

    assert _email(out, params, "--dry-run", str(tmp_path / "eml1"), "--reports", "client_review") == 0
    before = bodies(tmp_path / "eml1")
    assert "SECRET-C1" in before["c1@corp.test"] and "SECRET-C2" in before["c2@corp.test"]  # read from notebooks

    c1 = month_dir / manifest["reports"][0]["notebook"]
    c1.write_text(nbformat.writes(executed("C2")))  # C2's notebook in C1's place
    capsys.readouterr()
    assert _email(out, params, "--dry-run", str(tmp_path / "eml2"), "--reports", "client_review") == 0
    after = bodies(tmp_path / "eml2")
    assert "SECRET-C2" not in after["c1@corp.test"] and "SECRET-C2" in after["c2@corp.test"]
    assert "The key figures are in the attached report." in after["c1@corp.test"]
    nbformat.write(executed("C1", month="2026-02"), str(c1))  # C1's, but of another month
    assert _email(out, params, "--dry-run", str(tmp_path / "eml3"), "--reports", "client_review") == 0
    assert "SECRET-C1" not in bodies(tmp_path / "eml3")["c1@corp.test"]


# --- 2 --------------------------------------------------------------------------------------------


def test_13_02_recipients_are_exactly_one_address_with_a_domain_and_ids_cannot_choose_them(
    tmp_path, monkeypatch, capsys
):
    """A client id `x@attacker.test,y`, one with a space and one with CR/LF never reach an address; entries
    with commas, CR/LF or no domain are refused by name; allowed_domains refuses other domains; the good
    messages still arrive at exactly their recipients."""
    evil = ["x@attacker.test,y", "has space", "crlf\r\nBcc: z@attacker.test", "ok-1"]
    out = tmp_path / "out"
    _fake_month(out, evil + ["C2", "C3"])
    params = _dist(
        tmp_path,
        account_team_default=["account-team+{client_id}@corp.test"],
        account_teams={"C2": ["am@corp.test, thief@attacker.test"], "C3": ["outsider@other.test"]},
        executives=["coo@corp.test", "nodomain"],
        allowed_domains=["corp.test"],
    )
    with _smtp(monkeypatch) as inbox:
        assert _email(out, params) == 1
        err = capsys.readouterr().err
    got = {m["X-Reportlib-Report"]: rcpt for rcpt, m in inbox.messages}
    assert got == {f"client_review; client_id=ok-1; month={MONTH}": ["account-team+ok-1@corp.test"]}
    assert all("attacker" not in a for rcpt, _ in inbox.messages for a in rcpt)
    assert "client id 'x@attacker.test,y' cannot be put into the address" in err
    assert "client id 'has space' cannot be put into the address" in err
    assert "'crlf\\r\\nBcc: z@attacker.test'" in err
    assert "distribution.account_teams['C2']: 'am@corp.test, thief@attacker.test' must be exactly one address" in err
    assert (
        "distribution.account_teams['C3']: 'outsider@other.test': the domain other.test is not in "
        "distribution.allowed_domains" in err
    )
    assert "distribution.executives: 'nodomain' has no domain" in err
    assert "Traceback" not in err

    # --to is held to the same rule, as a usage error
    with _smtp(monkeypatch) as inbox:
        assert _email(out, params, "--to", "a@corp.test;b@corp.test") == 2
        assert "--to: 'a@corp.test;b@corp.test'" in capsys.readouterr().err
        assert inbox.messages == []
    for bad in ("a@corp.test\nBcc: b@x.test", "no-domain@", "two@a.test, three@corp.test", "<>", "a@@corp.test"):
        with pytest.raises(safety.AddressError):
            safety.parse_address(bad)
    assert safety.parse_address('"Doe, Jane" <jane@corp.test>', ["CORP.test"]) == "jane@corp.test"
    # --to takes such an address too (it split at the comma inside the quotes: "'\"Doe' has no domain")
    with _smtp(monkeypatch) as inbox:
        assert (
            _email(out, params, "--reports", "monthly_pack", "--to", '"Doe, Jane" <jane@corp.test>, b@corp.test') == 0
        )
        assert [sorted(rcpt) for rcpt, _ in inbox.messages] == [["b@corp.test", "jane@corp.test"]]
    # a domain's trailing dot is named as such; a mailbox name that routes mail on (% or !) is refused
    with pytest.raises(safety.AddressError, match="has a domain ending in a dot"):
        safety.parse_address("jane@corp.test.")
    for routed in ("jane%evil.test@corp.test", "evil.test!jane@corp.test"):
        with pytest.raises(safety.AddressError, match="routes mail on through its mailbox name"):
            safety.parse_address(routed, ["corp.test"])
    # a probe: the message of a mailbox name outside ASCII ended "))"; a domain outside ASCII says its ASCII form
    with pytest.raises(safety.AddressError, match=r"\(local-part contains non-ASCII characters\)$"):
        safety.parse_address("jörg@corp.test")
    with pytest.raises(safety.AddressError, match="write it in its ASCII form, xn--bcher-kva.test$"):
        safety.parse_address("a@bücher.test")
    assert safety.parse_address("a@xn--bcher-kva.test") == "a@xn--bcher-kva.test"
    with pytest.raises(safety.AddressError, match="has an unusable domain 'straße.de'$"):  # IDNA 2003 would say strasse
        safety.parse_address("ops@straße.de")


def test_13_02_a_clients_review_never_reaches_another_clients_domain(tmp_path, monkeypatch, capsys):
    """With distribution.client_domains, an account team pasted under the wrong client, a cc at a client's
    domain (copied on every review) and a --to at another client's domain are refused by name; the client's own
    domain (and one under it) and the company's own addresses are sent to, over a real SMTP server."""
    out = tmp_path / "out"
    _fake_month(out, ["C1", "C2", "C3"])
    domains = {"C1": ["alpha.test"], "C2": ["beta.test"], "C3": ["gamma.test"]}
    params = _dist(
        tmp_path,
        account_teams={
            "C1": ["am@corp.test", "hr@eu.alpha.test"],  # the client's own, one level down
            "C2": ["am@corp.test", "hr@alpha.test"],  # C1's person pasted under C2
            "C3": ["am@corp.test", "hr@GAMMA.test"],
        },
        client_domains=domains,
    )
    with _smtp(monkeypatch) as inbox:
        assert _email(out, params) == 1
        err = capsys.readouterr().err
    got = {m["X-Reportlib-Report"].split(";")[1].strip(): sorted(rcpt) for rcpt, m in inbox.messages}
    assert got == {
        "client_id=C1": ["am@corp.test", "hr@eu.alpha.test"],
        "client_id=C3": ["am@corp.test", "hr@GAMMA.test"],
        "month=2026-03": ["coo@corp.test"],  # the pack carries no client id
    }, got
    assert (
        "distribution.account_teams['C2']: 'hr@alpha.test' is at alpha.test, a domain of client 'C1' "
        "(distribution.client_domains): the review of client 'C2' would reach it" in err
    )
    # a cc at a client's domain would copy every client's review and the pack to it: nothing goes out
    cc = _dist(tmp_path, account_teams={"C1": ["am@corp.test"]}, cc=["boss@beta.test"], client_domains=domains)
    with _smtp(monkeypatch) as inbox:
        assert _email(out, cc) == 1
        err = capsys.readouterr().err
        assert inbox.messages == []
    assert "distribution.cc: 'boss@beta.test' is at beta.test, a domain of client 'C2'" in err
    assert "the monthly_pack, which is no one client's, would reach it" in err
    # --to is held to the same rule, as a usage error; the pack to a client's domain too
    with _smtp(monkeypatch) as inbox:
        assert _email(out, params, "--reports", "client_review", "--to", "hr@gamma.test") == 2
        assert "the review of client 'C1' would reach it" in capsys.readouterr().err
        assert inbox.messages == []
    # where replies go is no client's domain either
    reply = _dist(tmp_path, reply_to="desk@alpha.test", client_domains=domains)
    assert _email(out, reply) == 2
    assert "distribution.reply_to: 'desk@alpha.test' is at alpha.test" in capsys.readouterr().err
    # without client_domains nothing changes: the pasted address is sent to (allowed_domains cannot tell)
    plain = _dist(tmp_path, account_teams={"C2": ["hr@alpha.test"]})
    _fake_month(tmp_path / "out2", ["C1", "C2"])
    with _smtp(monkeypatch) as inbox:
        assert _email(tmp_path / "out2", plain, "--reports", "client_review") == 0
        assert [rcpt for rcpt, _ in inbox.messages] == [["hr@alpha.test"]]


def test_a_subject_line_that_cannot_be_filled_in_is_a_usage_error_naming_it(tmp_path, monkeypatch, capsys):
    """A lone brace in distribution.subjects stopped `email` as "failed unexpectedly ... please report it", and
    `validate` passed it (a probe). Each such template is a usage error naming the setting and the fields, before
    anything is sent; a brace written {{ }} and every field are fine."""
    from reportlib.core.params import validate_params

    out = tmp_path / "out"
    _fake_month(out, ["C1"])
    for template, said in (
        ("Review for {client_name} (50% done}", "Single '}' encountered"),
        ("Pack {", "Single '{' encountered"),
        ("Pack {0}", "unknown field {0}"),
        ("{client_name[0]} review", "unknown field {client_name[0]}"),
        ("{client} review", "unknown field {client} in '{client} review'; the fields are {title}, {month}"),
        ("{month:d}", "Unknown format code 'd'"),
    ):
        params = _dist(tmp_path, subjects={"client_review": template}, account_teams={"C1": ["am@corp.test"]})
        with _smtp(monkeypatch) as inbox:
            assert _email(out, params) == 2
            err = capsys.readouterr().err
            assert inbox.messages == []
        assert "parameter distribution.subjects.client_review: " in err and said in err, err
        assert "unexpectedly" not in err and "Traceback" not in err
        with pytest.raises(UsageError, match="distribution.subjects.client_review"):
            validate_params({"distribution": {"subjects": {"client_review": template}}})
    fine = "{{draft}} {title}: {client_name} ({client_id}), {month_label} {month} {report} {agent_id} {agent_name}"
    validate_params({"distribution": {"subjects": {"client_review": fine}}})
    params = _dist(tmp_path, subjects={"client_review": fine}, account_teams={"C1": ["am@corp.test"]})
    with _smtp(monkeypatch) as inbox:
        assert _email(out, params, "--reports", "client_review") == 0
        [(_, msg)] = inbox.messages
    assert str(msg["Subject"]).startswith("{draft} client_review C1: C1 (C1), March 2026 2026-03 client_review")


# --- 4 --------------------------------------------------------------------------------------------


def test_13_04_symlinked_lock_and_temp_files_never_touch_their_target(tmp_path, capsys):
    """A link planted as outputs/<month>/.lock, as manifest.json, or as the month folder itself never
    truncates or writes the file it points at."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out = tmp_path / "out"
    month_dir = _fake_month(out, ["C1"])
    (month_dir / ".lock").symlink_to(victim)
    params = _dist(tmp_path, account_teams={"C1": ["am@corp.test"]})
    assert _email(out, params, "--dry-run", str(tmp_path / "eml")) == 1
    err = capsys.readouterr().err
    assert f"cannot open the lock file {month_dir / '.lock'}" in err and "symbolic link" in err
    with pytest.raises(ReportlibError, match="symbolic link"), month_lock(month_dir):
        pass
    assert victim.read_text() == "precious\n"
    (month_dir / ".lock").unlink()
    # the run's lock is an fcntl lock: a second holder is refused while the first holds it
    with (
        month_lock(month_dir),
        pytest.raises(ReportlibError, match="another `reportlib run` or `reportlib email`"),
        month_lock(month_dir),
    ):
        pass
    # manifest.json (and every atomic write) replaces a planted link, never writes through it
    (month_dir / "manifest.json").unlink()
    (month_dir / "manifest.json").symlink_to(victim)
    pub = _Publisher.__new__(_Publisher)
    pub.month, pub.dir, pub.fingerprint, pub.data, pub.entries = MONTH, month_dir, "f", "d", {}
    pub.write()
    assert victim.read_text() == "precious\n" and not (month_dir / "manifest.json").is_symlink()
    # a month folder (or notebooks/) that is a link is refused before anything is written
    other = tmp_path / "elsewhere"
    other.mkdir()
    (out / "2026-04").symlink_to(other)
    with pytest.raises(ReportlibError, match="is a symbolic link"):
        month_folder(out, "2026-04")
    assert _email(out, params, "--month", "2026-04") in (1, 2)
    assert list(other.iterdir()) == []
    # the no-follow open refuses a link and a non-regular file
    (month_dir / "x").symlink_to(victim)
    with pytest.raises(OSError):
        safety.open_nofollow(month_dir / "x", os.O_RDWR | os.O_CREAT)
    with pytest.raises(OSError):
        safety.open_nofollow(month_dir)  # a folder is not a regular file
    assert victim.read_text() == "precious\n"
    # a FIFO planted as sent-log.json or manifest.json fails at once instead of hanging the command
    capsys.readouterr()
    os.mkfifo(month_dir / "sent-log.json")
    assert _email(out, params, "--dry-run", str(tmp_path / "eml")) == 1
    assert "sent-log.json is not readable" in capsys.readouterr().err
    (month_dir / "sent-log.json").unlink()
    (month_dir / "manifest.json").unlink()
    os.mkfifo(month_dir / "manifest.json")
    assert _email(out, params, "--dry-run", str(tmp_path / "eml")) == 1
    assert "manifest.json cannot be read" in capsys.readouterr().err


# --- 5 --------------------------------------------------------------------------------------------


def test_13_05_two_email_runs_at_once_send_each_message_once(tmp_path, monkeypatch):
    """Two `reportlib email` processes started together against one (slow) SMTP server: every message is
    delivered once, the sent-log records each once, and the process that lost the lock says so."""
    out = tmp_path / "out"
    _fake_month(out, ["C1", "C2", "C3"])
    params = _dist(tmp_path, account_teams={c: [f"am-{c.lower()}@corp.test"] for c in ("C1", "C2", "C3")})
    with _smtp(monkeypatch, delay=0.5) as inbox:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        cmd = [sys.executable, "-m", "reportlib", "email", "--month", MONTH, "--out", str(out), "--params", str(params)]
        procs = [
            subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
        ]
        results = [p.communicate(timeout=240) + (p.returncode,) for p in procs]
    assert len(inbox.messages) == 4, [r[1] for r in results]  # the pack and three reviews, once each
    keys = [m["X-Reportlib-Report"] for _, m in inbox.messages]
    assert len(set(keys)) == 4
    codes = sorted(r[2] for r in results)
    losers = [r for r in results if r[2] != 0]
    assert codes[0] == 0
    for _out, err, code in losers:  # lost the lock: one line, exit 1, nothing sent by it
        assert code == 1 and "another `reportlib run` or `reportlib email` is using" in err and "Traceback" not in err
    log = json.loads((out / MONTH / "sent-log.json").read_text())["sent"]
    assert sorted((r["report"], r["client_id"]) for r in log) == sorted(
        [("monthly_pack", None)] + [("client_review", c) for c in ("C1", "C2", "C3")]
    )
    # and a rerun afterwards sends nothing again
    with _smtp(monkeypatch) as inbox:
        assert _email(out, params) == 0
        assert inbox.messages == []


# --- 6 --------------------------------------------------------------------------------------------


def test_13_06_manifest_paths_outside_the_month_folder_are_refused(tmp_path, capsys):
    """Manifest entries pointing at ../../secret.txt, an absolute path, a NUL, or a link leading out are
    refused by name; the secret is in no message."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-PAYROLL")
    out = tmp_path / "a" / "out"
    month_dir = _fake_month(out, ["C1", "C2", "C3", "C4", "C5"])
    manifest = json.loads((month_dir / "manifest.json").read_text())
    stem5 = file_stem("client_review", "C5")
    # C5's page is a link to a stamped page outside the folder
    outside = tmp_path / "outside.html"
    outside.write_text(
        stamp_page("<html><head></head><body>TOP-SECRET-PAYROLL</body></html>", "client_review", "C5", MONTH)
    )
    (month_dir / f"{stem5}.html").unlink()
    (month_dir / f"{stem5}.html").symlink_to(outside)
    bad = {
        "C1": "../../../secret.txt",
        "C2": str(secret),
        "C3": "x\x00.html",
        "C4": f"notebooks/../../../{secret.name}",
    }
    for e in manifest["reports"]:
        if e["client_id"] in bad:
            e["html"] = bad[e["client_id"]]
        if e["client_id"] == "C1":
            e["notebook"] = "../../../secret.txt"
    (month_dir / "manifest.json").write_text(json.dumps(manifest))
    params = _dist(tmp_path, account_teams={f"C{i}": [f"am{i}@corp.test"] for i in range(1, 6)})
    eml = tmp_path / "eml"
    assert _email(out, params, "--dry-run", str(eml)) == 1
    err = capsys.readouterr().err
    for cid in ("C1", "C2", "C3", "C4", "C5"):
        assert f"not e-mailing client_review for client {cid}:" in err
    assert "Traceback" not in err
    sent = _eml_texts(eml)
    assert list(sent) == ["monthly_pack.eml"]
    assert all("TOP-SECRET" not in t for t in sent.values())
    # the index never links where an edited manifest points (javascript:, .., absolute paths)
    page = index_html(
        {
            "month": MONTH,
            "reports": [
                {"report": "sla", "client_id": None, "status": "ok", "html": "javascript:alert(1)"},
                {
                    "report": "client_review",
                    "client_id": "C1",
                    "status": "failed",
                    "notebook": "/etc/passwd",
                    "previous": {"html": "../../secret.txt"},
                },
                {"report": "monthly_pack", "client_id": None, "status": "ok", "html": "monthly_pack.html"},
            ],
        }
    )
    assert 'href="monthly_pack.html"' in page and page.count("href=") == 1
    # a manifest of the wrong shape is one line, not a traceback
    (month_dir / "manifest.json").write_text(json.dumps({"reports": "x"}))
    assert _email(out, params, "--dry-run", str(eml)) == 1
    err = capsys.readouterr().err
    assert "is not a reportlib manifest" in err and len(err.strip().splitlines()) == 1
    (month_dir / "manifest.json").write_text(
        json.dumps({"reports": [7, {"report": ["x"]}, {"report": "sla", "client_id": {}}]})
    )
    assert _email(out, params, "--dry-run", str(eml)) == 1
    assert "Traceback" not in capsys.readouterr().err
    with pytest.raises(ReportlibError):
        safety.inside(month_dir, "/etc/passwd")
    with pytest.raises(ReportlibError):
        safety.inside(month_dir, "..")
    assert safety.inside(month_dir, "monthly_pack.html") == (month_dir / "monthly_pack.html").resolve()


# --- 7 --------------------------------------------------------------------------------------------


def test_13_07_workers_never_exceed_jobs_and_huge_requests_are_capped(project, monkeypatch, capsys):
    """--workers 1000 for two notebooks starts two worker processes; a request above twice the cores is
    capped with a note."""
    cores = len(os.sched_getaffinity(0))
    log = io.StringIO()
    assert pool_size(1000, 4, log) == min(4, 2 * cores)
    assert pool_size(1000, 10**6, log) == 2 * cores
    assert (
        f"--workers 1000 is more than twice the {cores} core{'s' if cores > 1 else ''}; using {2 * cores}"
        in log.getvalue()
    )
    assert pool_size(None, 1) == 1 and pool_size(3, 2) == min(2, 2 * cores)
    # with --clients all the pool is sized before the data check, on a cheap count of the clients table
    assert _count_clients(str(project["data"])) == len(ODD_IDS) + 1

    started: list[int] = []
    real_close = WorkerPool.close

    def spy(self, cancel=False):
        started.append(len(getattr(self.executor, "_processes", None) or {}))
        return real_close(self, cancel)

    monkeypatch.setattr(WorkerPool, "close", spy)
    assert (
        main(
            [
                "run",
                "--month",
                MONTH,
                "--params",
                str(project["params"]),
                "--out",
                str(project["out"]),
                "--workers",
                "1000",
                "--reports",
                "sla,monthly_pack",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert started and max(started) <= 2
    assert "Traceback" not in err and "--workers 1000 is more than twice the" in err


# --- 8 --------------------------------------------------------------------------------------------


def _children() -> dict[int, int]:
    """{pid: parent pid} of every live (non-zombie) process."""
    out = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                fields = (p / "stat").read_text().rsplit(")", 1)[1].split()
                if fields[0] != "Z":
                    out[int(p.name)] = int(fields[1])
    return out


def _descendants(pid: int) -> set[int]:
    tree = _children()
    found, todo = set(), [pid]
    while todo:
        cur = todo.pop()
        for child, parent in tree.items():
            if parent == cur and child not in found:
                found.add(child)
                todo.append(child)
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to see the process tree")
def test_13_08_workers_and_kernels_end_when_the_parent_is_killed_and_stale_run_folder_is_removed(project, monkeypatch):
    """kill -9 of the main process only (as the OOM killer does) while notebooks run: its forkserver, workers
    and kernels end within seconds; the next run removes the dead run's temporary folder, and keeps one whose
    owner is alive."""
    _notebook(project["nbs"] / "sla.ipynb", "sla", extra="import time\ntime.sleep(120)")
    # a temporary folder of the test's own: any other run on the machine removes a dead run's shared-results
    # folder from the common one (as it should), and did so before this test looked (a shared machine)
    # (short: the multiprocessing forkserver's socket lives in it, and a socket's path is at most 107 bytes; left in
    # place, as multiprocessing removes its own folder in it when this process ends)
    private_tmp = Path(tempfile.mkdtemp(prefix="rl-13-08-"))
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(private_tmp))
    cmd = [
        sys.executable,
        "-m",
        "reportlib",
        "run",
        "--month",
        MONTH,
        "--params",
        str(project["params"]),
        "--out",
        str(project["out"]),
        "--workers",
        "2",
        "--reports",
        "sla,monthly_pack",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 120
        kernels: set[int] = set()
        while time.time() < deadline:
            below = _descendants(proc.pid)
            kernels = {p for p in below if b"ipykernel" in _cmdline(p)}
            if (
                kernels
                and list(project["out"].glob(f".{MONTH}.run-*"))
                and (project["out"] / MONTH / "monthly_pack.html").exists()
            ):
                break
            time.sleep(0.5)
        assert kernels, "the run never started its kernels"
        below = _descendants(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.time() + 30
        while time.time() < deadline and set(_children()) & below:
            time.sleep(0.5)
        assert not set(_children()) & below, f"orphans left: {sorted(set(_children()) & below)}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    stale = list(project["out"].glob(f".{MONTH}.run-*"))
    assert stale, "the killed run left no temporary folder to clean (nothing to test)"
    # and its folder of shared derived results in the temporary folder (clients' figures; a probe: left for good)
    shared = [
        f
        for f in Path(tempfile.gettempdir()).glob("reportlib-run-shared-*")
        if (f / "owner.json").is_file() and f'"pid": {proc.pid},' in (f / "owner.json").read_text()
    ]
    assert shared, "the killed run left no shared-results folder (nothing to test)"
    live = project["out"] / f".{MONTH}.run-live"
    live.mkdir()
    (live / "owner.json").write_text(json.dumps({"pid": os.getpid(), "start": _start(os.getpid())}))
    _notebook(project["nbs"] / "sla.ipynb", "sla")
    assert _run(project, "--reports", "sla") == 0  # the next run of the month cleans up after the dead one
    assert not any(p.exists() for p in stale) and live.exists()
    assert not any(p.exists() for p in shared)
    assert remove_stale_run_folders(project["out"], MONTH) == [] and live.exists()


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _start(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]


# --- 9 --------------------------------------------------------------------------------------------


def _can_mount() -> bool:
    return os.geteuid() == 0 and sys.platform.startswith("linux")


@contextlib.contextmanager
def _tmpfs(path: Path, *options: str):
    path.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(path)], capture_output=True, check=False
    )
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({res.stderr.decode().strip()})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_month_folder_on_another_file_system_is_named_before_any_rendering(project, tmp_path, capsys):
    """A month folder that is a mount of its own (outputs/2026-11 on another disk) failed every publish, a rename
    across file systems, only after every report had been rendered (a probe). The run now says so first: one line
    naming both folders, exit 1, nothing rendered, the mount left as it was."""
    out = tmp_path / "out"
    with _tmpfs(out / MONTH, "size=4m") as month_dir:
        (month_dir / "keep.txt").write_text("mine")
        assert _run(project, "--reports", "sla", out=out) == 1
        err = capsys.readouterr().err
        lines = err.strip().splitlines()[-1:]
        assert lines == [
            f"reportlib run: the month folder {month_dir} is on another file system than {out}, where the run "
            "prepares the files it renames into it; mount the outputs folder itself there, or give --out a folder "
            "on one file system"
        ], err
        assert "rendered" not in err and "Traceback" not in err
        assert sorted(p.name for p in month_dir.iterdir() if p.name not in ("notebooks", ".lock")) == ["keep.txt"]
        assert not [p for p in out.iterdir() if p.name.startswith(f".{MONTH}.run-")]


def test_13_09_output_faults_give_one_line_and_leave_nothing_half_written(project, tmp_path, monkeypatch, capsys):
    """--out through a file, a read-only outputs folder, a full disk (real tmpfs, and ENOSPC while publishing),
    CR/LF in reply_to or REPORTLIB_SMTP_FROM: one line naming the file or setting, exit 2 for usage and 1 for
    a failure, no traceback, no temporary or empty file left, every failure recorded."""
    # --out /dev/null/x: usage
    assert _run(project, out=Path("/dev/null/x")) == 2
    err = capsys.readouterr().err
    assert (
        err.strip().startswith("reportlib run: --out /dev/null/x: not a folder") and len(err.strip().splitlines()) == 1
    )

    # read-only outputs folder: failure, nothing started
    ro = tmp_path / "ro"
    if _can_mount():
        ctx = _tmpfs(ro, "ro", "size=1m")
    else:
        ro.mkdir()
        ro.chmod(0o555)
        ctx = contextlib.nullcontext(ro)
    with ctx:
        assert _run(project, out=ro) == 1
        err = capsys.readouterr().err
        assert "reportlib run: " in err and str(ro) in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1

    # ENOSPC while publishing (manifest and index writes fail in the main process): every report is still
    # reported as failed, nothing half-written
    real_fsync = os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(safety.os, "fsync", full)
    out2 = tmp_path / "out2"
    assert _run(project, "--reports", "sla,monthly_pack", out=out2) == 1
    err = capsys.readouterr().err
    monkeypatch.setattr(safety.os, "fsync", real_fsync)
    assert "2 of 2 reports failed" in err and err.count("No space left on device") >= 2 and "Traceback" not in err
    assert "manifest.json and index.html may not list every failure" in err
    assert _leftovers(out2) == [] and not (out2 / MONTH / "manifest.json").exists()

    # a real full disk: a tmpfs too small for the notebooks
    if _can_mount():
        with _tmpfs(tmp_path / "full", "size=48k") as full_out:
            # fill what the notebooks would need, leaving room for the folder checks only
            with open(full_out / "ballast", "wb") as fh, contextlib.suppress(OSError):
                fh.write(b"x" * (44 * 1024))
            code = _run(project, "--reports", "sla,monthly_pack", out=full_out)
            err = capsys.readouterr().err
            assert code == 1 and "Traceback" not in err and "AttributeError" not in err, err
            assert "No space left on device" in err
            assert _leftovers(full_out) == []
    # WorkerPool.close after the pool broke or shut down: no AttributeError
    pool = WorkerPool(1, notebooks_dir=project["nbs"], warm=False)
    pool.close()
    pool.close(cancel=True)

    # write_atomic: the old file stays whole and no temporary file is left when the disk fills
    target = tmp_path / "w" / "manifest.json"
    target.parent.mkdir()
    target.write_text("old")
    monkeypatch.setattr(safety.os, "fsync", full)
    with pytest.raises(OSError):
        safety.write_atomic(target, "new" * 1000)
    monkeypatch.setattr(safety.os, "fsync", real_fsync)
    assert target.read_text() == "old" and sorted(p.name for p in target.parent.iterdir()) == ["manifest.json"]

    # CR/LF in reply_to or REPORTLIB_SMTP_FROM: usage, naming the setting, nothing sent
    out = tmp_path / "mailout"
    _fake_month(out, ["C1"])
    with _smtp(monkeypatch) as inbox:
        params = _dist(tmp_path, account_teams={"C1": ["am@corp.test"]}, reply_to="x@corp.test\r\nBcc: z@attacker.test")
        assert _email(out, params) == 2
        err = capsys.readouterr().err
        assert err.startswith("reportlib email: distribution.reply_to: ") and "line break" in err
        params = _dist(tmp_path, account_teams={"C1": ["am@corp.test"]})
        monkeypatch.setenv("REPORTLIB_SMTP_FROM", "reports@corp.test\nBcc: z@attacker.test")
        assert _email(out, params) == 2
        assert capsys.readouterr().err.startswith("reportlib email: REPORTLIB_SMTP_FROM: ")
        assert _email(out, params, "--dry-run", str(tmp_path / "eml")) == 2
        assert inbox.messages == [] and not (tmp_path / "eml").exists()
    assert not (out / MONTH / "sent-log.json").exists()


# --- 11 -------------------------------------------------------------------------------------------


def test_13_11_csv_and_xlsx_cells_never_run_as_formulas(tmp_path, capsys):
    """`reportlib kpis --format csv` with queue and client names that are formulas: every such cell starts
    with ' in the output; numbers (negative ones too) are untouched; the same function makes XLSX safe."""
    cases = {
        '=HYPERLINK("http://x.test","y")': '\'=HYPERLINK("http://x.test","y")',
        "+cmd|' /C calc'!A0": "'+cmd|' /C calc'!A0",
        "@SUM(1+1)": "'@SUM(1+1)",
        "-2+3": "'-2+3",
        "\tTAB": "'\tTAB",
        "\rCR": "'\rCR",
        "Benefits": "Benefits",
        "-12.5": "-12.5",
        "+3e2": "+3e2",
        "": "",
        # bidirectional controls and line separators are shown as marks (safety.unspoofed): a probe's
        # "Debit\u202eCard" read backwards in the month's workbook; Arabic and its marks stay as they are
        "Debit\u202eCard\u2066x\u2069": "Debit[U+202E]Card[U+2066]x[U+2069]",
        "=1+2 Debit\u202eCard": "'=1+2 Debit[U+202E]Card",
        "Co\u2028Bcc: x\x85y": "Co[U+2028]Bcc: x[U+0085]y",
        "\u0645\u0631\u0643\u0632 \u200fA": "\u0645\u0631\u0643\u0632 \u200fA",
        # full-width and small forms (a probe): Excel with an East Asian input method reads "＝1+1" as a formula
        "＝1+1": "'＝1+1",
        "＋1": "'＋1",
        "－1": "'－1",
        "＠SUM(1)": "'＠SUM(1)",
        "﹦1+1": "'﹦1+1",
    }
    for given, expected in cases.items():
        assert neutralise_cell(given) == expected, given
    assert neutralise_cell(-12) == -12 and neutralise_cell(None) is None

    data = tmp_path / "data"
    data.mkdir()
    queues = ['=HYPERLINK("http://x.test","y")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3", "Benefits"]
    with open(data / "contacts.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["contact_id", "channel", "queue", "client_id", "arrived_at", "outcome", "wait_s", "handle_s", "agent_id"]
        )
        for i, q in enumerate(queues):
            w.writerow([f"K{i}", "phone", q, "C1", f"2026-03-0{i + 1}T10:00:00", "handled", 12, 300, "A1"])
    (data / "clients.csv").write_text("client_id,client_name,tier,sla_profile\nC1,Acme,gold,standard\n")
    (data / "agents.csv").write_text("agent_id,name,team,hire_date\nA1,Ann,North,2024-01-02\n")
    assert main(["kpis", "--data", str(data), "--month", MONTH, "--by", "queue", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    got = {r["queue"] for r in rows}
    assert got == {'\'=HYPERLINK("http://x.test","y")', "'+cmd|' /C calc'!A0", "'@SUM(1+1)", "'-2+3", "Benefits"}
    assert all(
        not v.startswith(safety.FORMULA_START) or neutralise_cell(v) == v  # i.e. a number as text
        for r in rows
        for v in r.values()
        if v
    )

    # A separator inside a text: a bare CR ended the row ("Billing\r=2+5" became a row starting "=2+5", read as
    # a line end by Excel, LibreOffice and csv with universal newlines); where Excel splits on ";" (its list
    # separator in much of Europe) or a tab, "Deadline;=1+1" gave a formula cell. Every text is quoted and a
    # formula character after a separator gets a '.
    split = ["Billing\r=2+5", "Deadline;=1+1;", "Exec\t=3+3", 'Say "=4+4"', "Late,\n@SUM(1)", "Wide;＝5+5"]
    with open(data / "contacts.csv", "a", newline="") as fh:
        w = csv.writer(fh)
        for i, q in enumerate(split):
            w.writerow([f"S{i}", "phone", q, "C1", f"2026-03-1{i}T10:00:00", "handled", 12, 300, "A1"])
    assert main(["kpis", "--data", str(data), "--month", MONTH, "--by", "queue", "--format", "csv"]) == 0
    text = capsys.readouterr().out
    for delimiter in (",", ";", "\t"):
        rows = list(csv.reader(io.StringIO(text, newline=None), delimiter=delimiter))
        cells = [v for r in rows for v in r if v]
        assert all(neutralise_cell(v) == v for v in cells), (delimiter, [v for v in cells if neutralise_cell(v) != v])
    rows = list(csv.DictReader(io.StringIO(text, newline=None)))
    assert len(rows) == len(queues) + len(split)  # one row per queue: no text ended a row
    assert {r["queue"] for r in rows} >= {
        "Billing\n'=2+5",
        "Deadline;'=1+1;",
        "Exec\t'=3+3",
        "Late,\n'@SUM(1)",
        "Wide;'＝5+5",
    }

    frame = pd.DataFrame({"name": queues, "value": [-1.5, 2, 3, 4, 5]})
    path = tmp_path / "x.xlsx"
    neutralise_frame(frame).to_excel(path, index=False)
    import openpyxl

    ws = openpyxl.load_workbook(path).active
    cells = [(c.value, c.data_type) for c in ws["A"][1:]]
    assert all(t == "s" for _, t in cells) and cells[0][0].startswith("'=")
    assert ws["B2"].value == -1.5 and ws["B2"].data_type == "n"
