"""E-mail delivery against a real SMTP server (aiosmtpd on loopback): recipients, subjects, bodies, images,
attachments, the sent-log, dry runs, and clear failures."""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import socket
from pathlib import Path

import nbformat
import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from reportlib.cli import main
from reportlib.core.safety import file_stem, stamp_page
from reportlib.delivery.mail import find_browser
from reportlib.reports import narrative, views

MONTH = "2026-03"
REQUIRE_BROWSER = os.environ.get("REPORTLIB_REQUIRE_BROWSER") == "1"
USER, PASSWORD = "reports", "s3cret-pw"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture()
def smtp():
    """A real SMTP server on 127.0.0.1 that requires a login (no TLS, loopback only)."""
    inbox = _Inbox()
    port = _free_port()
    ctl = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=_authenticator, auth_required=True, auth_require_tls=False
    )
    ctl.start()
    try:
        yield inbox, port
    finally:
        ctl.stop()


def _executed_notebook(path: Path, client: str | None) -> None:
    """An executed report notebook holding what the real ones show: tiles, commentary, two figures."""
    import plotly.graph_objects as go

    tiles = [
        narrative.make_tile("Service level", 0.763, "share", target=0.8, prev=0.804, yoy=0.75),
        narrative.make_tile("Average speed of answer", 41, "seconds", target=30, prev=35, higher_is_better=False),
        narrative.make_tile("Contacts handled", 12345, "count", prev=11000),
    ]
    lines = narrative.commentary(tiles) + [f"Client <{client}> & friends had a quiet month."]
    figs = [
        go.Figure(go.Bar(x=["Benefits", "Debit Card"], y=[120, 80]), layout={"title": {"text": "Contacts by queue"}}),
        go.Figure(go.Scatter(x=[1, 2, 3], y=[0.7, 0.8, 0.76]), layout={"title": {"text": "Service level by week"}}),
    ]
    nb = nbformat.v4.new_notebook()
    cells = []
    for bundle in [
        {"text/html": narrative.tiles_html(tiles), "text/plain": "tiles"},
        {"text/html": narrative.commentary_html(lines), "text/plain": "commentary"},
    ] + [views.figure_bundle(f) for f in figs]:
        c = nbformat.v4.new_code_cell("show()")
        c.outputs = [nbformat.v4.new_output("display_data", data=bundle)]
        cells.append(c)
    nb.cells = cells
    # what papermill records of `reportlib run`'s parameters (email reads figures only from the client's own)
    nb.metadata["papermill"] = {"parameters": {"month": MONTH, "client_id": client, "team": None}}
    nbformat.write(nb, path)


def _month(out: Path) -> Path:
    """outputs/2026-03 as `reportlib run` leaves it: the pack, two client reviews (one failed), sla."""
    month_dir = out / MONTH
    (month_dir / "notebooks").mkdir(parents=True)
    entries = []
    for report, client, status in [
        ("monthly_pack", None, "ok"),
        ("sla", None, "ok"),
        ("client_review", "C1", "ok"),
        ("client_review", "C2", "failed"),
    ]:
        stem = file_stem(report, client)
        e = {
            "report": report,
            "client_id": client,
            "status": status,
            "seconds": 1.0,
            "title": f"{report} title" + (f" {client}" if client else ""),
            "html": None,
            "notebook": None,
            "parameters": {"month": MONTH, "client_id": client},
            "error": None if status == "ok" else "In [3]: ValueError: boom",
        }
        if client:
            e["client_name"] = {"C1": "Acme Benefits", "C2": "Bolt Ltd"}[client]
        if status == "ok":
            _executed_notebook(month_dir / "notebooks" / f"{stem}.ipynb", client)
            # a big report with non-ASCII text: attachments must arrive byte for byte
            page = stamp_page(
                f"<!DOCTYPE html><html><head></head><body><h1>{stem} — Zürich</h1>" + "x" * 300_000 + "</body></html>",
                report,
                client,
                MONTH,
            )
            (month_dir / f"{stem}.html").write_text(page, encoding="utf-8")
            e.update(html=f"{stem}.html", notebook=f"notebooks/{stem}.ipynb")
        entries.append(e)
    (month_dir / "manifest.json").write_text(json.dumps({"month": MONTH, "reports": entries}))
    return month_dir


@pytest.fixture()
def setup(tmp_path, monkeypatch):
    out = tmp_path / "outputs"
    month_dir = _month(out)
    params = tmp_path / "params.yaml"
    params.write_text(
        yaml.safe_dump(
            {
                "distribution": {
                    "executives": ["Chief Ops <coo@acme.test>", "cfo@acme.test"],
                    "executive_reports": ["monthly_pack"],
                    "account_teams": {"C1": ["am1@acme.test", "hr@client-one.test"]},
                    "account_team_default": [],
                    "cc": ["archive@acme.test"],
                    "max_charts": 2,
                }
            }
        )
    )
    for k in list(os.environ):
        if k.startswith("REPORTLIB_SMTP_"):
            monkeypatch.delenv(k)
    return {"out": out, "month_dir": month_dir, "params": params, "tmp": tmp_path}


def _env(monkeypatch, port: int, user: str = USER, password: str = PASSWORD) -> None:
    monkeypatch.setenv("REPORTLIB_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("REPORTLIB_SMTP_PORT", str(port))
    monkeypatch.setenv("REPORTLIB_SMTP_TLS", "none")
    monkeypatch.setenv("REPORTLIB_SMTP_USER", user)
    monkeypatch.setenv("REPORTLIB_SMTP_PASSWORD", password)
    monkeypatch.setenv("REPORTLIB_SMTP_FROM", "Support reports <reports@acme.test>")


def _email(setup, *extra: str) -> int:
    return main(["email", "--month", MONTH, "--out", str(setup["out"]), "--params", str(setup["params"]), *extra])


def _parts(msg):
    html_part = msg.get_body(preferencelist=("html",))
    text_part = msg.get_body(preferencelist=("plain",))
    attachments = list(msg.iter_attachments())
    return html_part, text_part, attachments


def _snapshot(month_dir: Path) -> dict:
    return {
        p.relative_to(month_dir).as_posix(): p.read_bytes()
        for p in month_dir.rglob("*")
        if p.is_file() and p.name not in ("sent-log.json", ".lock")
    }


def test_each_message_arrives_right_and_reads_well_without_scripts(setup, smtp, monkeypatch, capsys):
    inbox, port = smtp
    _env(monkeypatch, port)
    browser = find_browser() is not None
    if not browser and REQUIRE_BROWSER:
        pytest.fail("no Chromium for static chart images (REPORTLIB_REQUIRE_BROWSER=1)")
    before = _snapshot(setup["month_dir"])
    assert _email(setup) == 1  # client C2's review failed: never mailed, and the exit status says so
    err = capsys.readouterr().err
    assert "not e-mailing client_review for client C2: its run failed (In [3]: ValueError: boom)" in err

    assert len(inbox.messages) == 2
    by_subject = {m["Subject"]: (rcpt, m) for rcpt, m in inbox.messages}
    pack_rcpt, pack = by_subject["Support operations monthly pack, March 2026"]
    assert sorted(pack_rcpt) == ["archive@acme.test", "cfo@acme.test", "coo@acme.test"]
    assert "coo@acme.test" in pack["To"] and "archive@acme.test" in pack["Cc"]
    review_rcpt, review = by_subject["Acme Benefits: employer support service review, March 2026"]
    assert sorted(review_rcpt) == ["am1@acme.test", "archive@acme.test", "hr@client-one.test"]

    for stem, msg in (("monthly_pack", pack), (file_stem("client_review", "C1"), review)):
        html_part, text_part, attachments = _parts(msg)
        body = html_part.get_content()
        assert len(body.encode("utf-8")) < 100_000
        assert "<script" not in body.lower() and "<style" not in body.lower()
        assert 'style="' in body and "class=" not in body  # every style inline
        # the KPI table and commentary, escaped
        assert "Service level" in body and "76.3%" in body and "Off target" in body and "≥ 80.0%" in body
        assert "▼ 4.1 pts vs last month" in body and "Near target" in body  # as the report shows it
        assert "Client &lt;" in body and "&amp; friends" in body and "<C1>" not in body
        assert "Service level" in text_part.get_content() and "76.3%" in text_part.get_content()
        # every cid: image is a PNG part of the message
        cids = re.findall(r'src="cid:([^"]+)"', body)
        images = {p["Content-ID"].strip("<>"): p for p in msg.walk() if p.get_content_type() == "image/png"}
        assert set(cids) == set(images)
        if browser:
            assert len(cids) == 2  # max_charts
            for part in images.values():
                assert part.get_content()[:8] == b"\x89PNG\r\n\x1a\n"
                # shown in the body, not listed as files beside the report (mail clients list attachments)
                assert part.get_content_disposition() == "inline"
        else:  # no Chromium on this machine: tables only, and the body says so
            assert not cids and "Charts are not shown as images" in body
        # the full report attached, byte for byte
        (att,) = [a for a in attachments if a.get_content_type() == "text/html"]
        assert att.get_filename() == f"{stem}-{MONTH}.html"
        assert att.get_payload(decode=True) == (setup["month_dir"] / f"{stem}.html").read_bytes()

    assert _snapshot(setup["month_dir"]) == before  # reports untouched
    log = json.loads((setup["month_dir"] / "sent-log.json").read_text())["sent"]
    assert {(r["report"], r["client_id"]) for r in log} == {("monthly_pack", None), ("client_review", "C1")}

    # a rerun sends nothing that already went out
    assert _email(setup, "--reports", "monthly_pack,client_review") == 1
    assert len(inbox.messages) == 2
    assert "already sent" in capsys.readouterr().err
    # --to overrides the lists (and is a new recipient, so it is sent)
    assert _email(setup, "--reports", "sla", "--to", "me@acme.test") == 0
    assert len(inbox.messages) == 3 and inbox.messages[-1][0] == ["me@acme.test"]


def test_refused_connection_gives_clear_error_and_leaves_reports(setup, monkeypatch, capsys):
    _env(monkeypatch, _free_port())  # nothing listens there
    before = _snapshot(setup["month_dir"])
    assert _email(setup, "--reports", "monthly_pack") == 1
    err = capsys.readouterr().err
    assert "could not connect to the mail server 127.0.0.1:" in err and "Connection refused" in err
    assert "REPORTLIB_SMTP_HOST" in err and "Traceback" not in err
    assert _snapshot(setup["month_dir"]) == before
    assert not (setup["month_dir"] / "sent-log.json").exists()


def test_authentication_failure_gives_clear_error_and_leaves_reports(setup, smtp, monkeypatch, capsys):
    inbox, port = smtp
    _env(monkeypatch, port, password="wrong")
    before = _snapshot(setup["month_dir"])
    assert _email(setup, "--reports", "monthly_pack") == 1
    err = capsys.readouterr().err
    assert "refused the login for reports (535" in err and "REPORTLIB_SMTP_PASSWORD" in err
    assert "wrong" not in err  # the password is never printed
    assert inbox.messages == [] and _snapshot(setup["month_dir"]) == before


def test_dry_run_writes_eml_files_and_without_browser_says_charts_are_in_the_report(setup, monkeypatch, capsys):
    monkeypatch.setenv("BROWSER_PATH", str(setup["tmp"] / "no-such-browser"))
    monkeypatch.setattr("choreographer.browsers.chromium.Chromium.find_browser", classmethod(lambda cls, **kw: None))
    dry = setup["tmp"] / "dry"
    assert _email(setup, "--reports", "monthly_pack,client_review", "--dry-run", str(dry)) == 1  # C2 failed
    names = sorted(p.name for p in dry.iterdir())
    assert names == [f"{file_stem('client_review', 'C1')}.eml", "monthly_pack.eml"]
    msg = email.message_from_bytes((dry / "monthly_pack.eml").read_bytes(), policy=email.policy.default)
    html_part, _, attachments = _parts(msg)
    body = html_part.get_content()
    assert "cid:" not in body and "76.3%" in body
    assert "Charts are not shown as images in this e-mail: no Chromium-based browser" in body
    assert attachments and not (setup["month_dir"] / "sent-log.json").exists()  # a dry run sends nothing


def test_a_bidirectional_control_or_line_separator_in_a_name_is_shown_as_a_mark(setup, monkeypatch, capsys):
    """A probe's client "Normal Co\u2028Bcc: ls@evil.test" made a line "Bcc: ..." in the message's text, and
    "Bob\u202eevil" read backwards in its body: both parts show such characters as marks (safety.unspoofed)."""
    monkeypatch.setattr("choreographer.browsers.chromium.Chromium.find_browser", classmethod(lambda cls, **kw: None))
    manifest = setup["month_dir"] / "manifest.json"
    m = json.loads(manifest.read_text())
    for e in m["reports"]:
        if e["client_id"] == "C1":
            e["client_name"] = "Acme\u202eBenefits\u2028Bcc: x@evil.test\r\nBcc: y@evil.test"
    manifest.write_text(json.dumps(m))
    dry = setup["tmp"] / "dry"
    _email(setup, "--reports", "client_review", "--dry-run", str(dry))
    msg = email.message_from_bytes(
        (dry / f"{file_stem('client_review', 'C1')}.eml").read_bytes(), policy=email.policy.default
    )
    html_part, text_part, _ = _parts(msg)
    for part in (html_part.get_content(), text_part.get_content()):
        assert "Acme[U+202E]Benefits[U+2028]Bcc: x@evil.test" in part
        assert not any(ch in part for ch in "\u202e\u2028"), part[:500]
    assert msg["Bcc"] is None and "\u202e" not in str(msg["Subject"])
    # a CR or LF in the name made a line "Bcc: y@..." of the text (a probe): shown as marks in the text's line
    assert "x@evil.test[U+000D][U+000A]Bcc: y@evil.test" in text_part.get_content()
    assert not any(line.startswith("Bcc") for line in text_part.get_content().splitlines())


def test_an_encoded_word_in_a_name_never_becomes_a_header(setup, monkeypatch):
    """A probe's client named "Northfield =?utf-8?q?Insurance=0D=0AReply-To:_attacker@evil.test=0D=0AX-Injected:_yes?="
    was delivered with real Reply-To and X-Injected headers (the header parser decoded the encoded word into a line
    break), and "=?utf-8?b?...?=" put a U+202E in the subject. The name is now written "= ?": the message has no
    header but its own, its subject reads as written, the ids' header too."""
    monkeypatch.setattr("choreographer.browsers.chromium.Chromium.find_browser", classmethod(lambda cls, **kw: None))
    manifest = setup["month_dir"] / "manifest.json"
    m = json.loads(manifest.read_text())
    name = "Northfield =?utf-8?q?Insurance=0D=0AReply-To:_attacker@evil.test=0D=0AX-Injected:_yes?= =?utf-8?b?4oCu?="
    for e in m["reports"]:
        if e["client_id"] == "C1":
            e["client_name"] = name
    manifest.write_text(json.dumps(m))
    dry = setup["tmp"] / "dry-ew"
    _email(setup, "--reports", "client_review", "--dry-run", str(dry))
    raw = (dry / f"{file_stem('client_review', 'C1')}.eml").read_bytes()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Reply-To"] is None and msg["X-Injected"] is None
    assert b"\nReply-To:" not in raw and b"\nX-Injected:" not in raw
    subject = str(msg["Subject"])
    assert "Northfield = ?utf-8?q?Insurance=0D=0AReply-To:_attacker@evil.test" in subject
    assert "\u202e" not in subject and not any(ch in subject for ch in "\r\n")
    from reportlib.delivery.mail import header_text

    assert header_text("a =?utf-8?q?x?= b\r\nc") == "a = ?utf-8?q?x?= b c"


def test_the_texts_lines_hold_no_control_character():
    """A name from data in the title keeps its line (its CR/LF shown as marks); a note or sentence running over
    lines is joined; any other control character (ESC, BEL, NUL from a queue's name) is a mark (a review)."""
    from reportlib.delivery.mail import body_text

    text = body_text(
        title="Acme\r\nBcc: x@evil.test",
        subtitle="",
        tiles=[{"name": "Offered", "value_text": "10", "note": "Evil\x1b]0;pwn\x07 Co"}],
        commentary=["Calls for Beta\x00Corp rose", "drawing failed (line one\n  line two)"],
        notes=[],
        attachment_name="x.html",
    )
    assert text.splitlines()[0] == "Acme[U+000D][U+000A]Bcc: x@evil.test"
    assert "Evil[U+001B]]0;pwn[U+0007] Co" in text and "Beta[U+0000]Corp" in text
    assert "- drawing failed (line one line two)" in text
    assert not any(ord(c) < 32 and c != "\n" for c in text)


def test_placeholder_addresses_and_missing_settings_are_refused(setup, smtp, monkeypatch, tmp_path, capsys):
    inbox, port = smtp
    assert _email(setup, "--reports", "monthly_pack") == 2  # no REPORTLIB_SMTP_HOST
    assert "set REPORTLIB_SMTP_HOST" in capsys.readouterr().err
    _env(monkeypatch, port)
    shipped = main(["email", "--month", MONTH, "--out", str(setup["out"]), "--reports", "monthly_pack"])
    assert shipped == 1  # parameters/distribution.yaml ships example.com placeholders
    assert "placeholder addresses" in capsys.readouterr().err and inbox.messages == []
    assert main(["email", "--month", "2026-02", "--out", str(setup["out"])]) == 1
    assert "run `reportlib run --month 2026-02` first" in capsys.readouterr().err


def test_an_account_team_of_no_client_is_said_and_a_numeric_key_refused(setup):
    """A probe: `01: [...]` (YAML's number 1) and `"Acme ": [...]` matched no client and were ignored without a word:
    client 01's review went to the default team. A number is now refused (exit 2), a key without a review named."""
    import io

    from reportlib.core.errors import UsageError
    from reportlib.core.params import validate_params
    from reportlib.delivery.mail import plan_messages

    dist = yaml.safe_load(setup["params"].read_text())
    dist["distribution"]["account_teams"]["C1 "] = ["typo@acme.test"]
    log = io.StringIO()
    plan_messages(setup["month_dir"], dist, reports=["client_review"], log=log)
    said = log.getvalue()
    assert "distribution.account_teams names 'C1 ', which has no client review in 2026-03" in said, said
    assert "names C1," not in said  # the listed client with a review is not named
    plan_messages(setup["month_dir"], dist, reports=["client_review"], to=["x@acme.test"], log=(log := io.StringIO()))
    assert "account_teams names" not in log.getvalue()  # --to: the lists are not used
    dist["distribution"]["account_teams"] = yaml.safe_load("{01: [zero-one@zo.example]}")
    with pytest.raises(UsageError, match=r"distribution.account_teams must be a mapping of client id \(quoted"):
        validate_params(dist)


def test_what_was_sent_stays_sent_unlisted_clients_are_skipped_and_a_refused_cc_is_sent_again(setup):
    """Three probe findings on planning a month's messages:
    - a client left out of distribution.yaml on purpose (account_team_default: [], "mail listed clients only")
      made every run fail, one line per client: it is skipped, said on stderr, no problem;
    - a report already sent was refused as "rendered from other data" once the data's files changed (a chmod):
      what was sent is done (said, with a hint when the page was rendered again from other data since);
    - a cc the server refused (4xx) was never sent again, the To having had it: it is sent again, to it alone (a
      message without To: sent as a To, a review found it could clash with another client's To spelt otherwise);
      a cc added to distribution.yaml since is not sent the month's messages already sent."""
    import io

    from reportlib.delivery.mail import plan_messages

    month_dir = setup["month_dir"]
    manifest = json.loads((month_dir / "manifest.json").read_text())
    stem = file_stem("client_review", "C3")
    page = stamp_page("<!DOCTYPE html><html><head></head><body>C3</body></html>", "client_review", "C3", MONTH)
    (month_dir / f"{stem}.html").write_text(page, encoding="utf-8")
    manifest["reports"].append(
        {"report": "client_review", "client_id": "C3", "client_name": "Cleo", "status": "ok", "html": f"{stem}.html"}
    )
    manifest["reports"] = [e for e in manifest["reports"] if e["client_id"] != "C2"]  # its failure is another test's
    manifest["data_fingerprint"] = "new"
    for e in manifest["reports"]:
        e["data_fingerprint"] = "new"
    (month_dir / "manifest.json").write_text(json.dumps(manifest))
    dist = yaml.safe_load(setup["params"].read_text())
    sent = {
        "report": "client_review",
        "client_id": "C1",
        "recipients": ["am1@acme.test", "hr@client-one.test"],
        "refused": ["archive@acme.test"],
    }
    (month_dir / "sent-log.json").write_text(json.dumps({"sent": [dict(sent, data_fingerprint="older")]}))
    log = io.StringIO()
    planned, problems = plan_messages(month_dir, dist, reports=["client_review"], log=log)
    said = log.getvalue()
    assert problems == [], problems
    assert "skipping client_review for client C3: distribution.yaml gives it no account team" in said
    # C1 was sent but its cc (archive@) refused: the one message left, to it alone
    assert [(p.client_id, p.to, p.cc) for p in planned] == [("C1", [], ["archive@acme.test"])]
    from reportlib.delivery.mail import ChartImages, build_message

    with ChartImages(enabled=False) as images:
        msg = build_message(planned[0], month_dir, "reports@acme.test", dist, images)
    assert msg["To"] is None and msg["Cc"] == "archive@acme.test"
    # not refused then (a cc added since): nothing to send
    (month_dir / "sent-log.json").write_text(json.dumps({"sent": [dict(sent, refused=[])]}))
    planned, problems = plan_messages(month_dir, dist, reports=["client_review"], log=io.StringIO())
    assert planned == [] and problems == []
    # sent to all, then the data's files changed (C1's page is from other data than the last run's): not a problem
    sent["recipients"].append("archive@acme.test")
    manifest["reports"][[e["client_id"] for e in manifest["reports"]].index("C1")]["data_fingerprint"] = "old"
    (month_dir / "manifest.json").write_text(json.dumps(manifest))
    (month_dir / "sent-log.json").write_text(json.dumps({"sent": [dict(sent, data_fingerprint="older")]}))
    log = io.StringIO()
    planned, problems = plan_messages(month_dir, dist, reports=["client_review"], log=log)
    assert planned == [] and problems == []
    assert "client_review for client C1 already sent to am1@acme.test, hr@client-one.test, archive@acme.test" in (
        log.getvalue()
    )
    assert "it was rendered again since, from other data: delete its records in sent-log.json" in log.getvalue()
    # a client listed with recipients but none given (a mistake, not a choice) still stops the run
    dist["distribution"]["account_teams"]["C3"] = ["nobody@"]
    _, problems = plan_messages(month_dir, dist, reports=["client_review"], log=io.StringIO())
    assert len(problems) == 1 and problems[0].startswith("not e-mailing client_review for client C3")


def test_the_chart_browsers_own_log_records_stay_off_stderr():
    """A probe: about one e-mail run in 8 printed choreographer's "JSONError decoding message. Ignoring" with two
    chained tracebacks (a message it then ignored), through Python's last-resort handler. Its records, kaleido's and
    logistro's stay off stderr once the chart browser starts; the run's own are not touched. (In a process of its
    own: pytest's logging plugin hands every record to handlers of its own.)"""
    import subprocess
    import sys

    code = (
        "import logging\n"
        "from reportlib.delivery.mail import quiet_browser_logs\n"
        "quiet_browser_logs()\n"
        "try:\n"
        "    raise ValueError('not JSON')\n"
        "except ValueError:\n"
        "    logging.getLogger('choreographer.channels.pipe').exception('JSONError decoding message. Ignoring')\n"
        "logging.getLogger('kaleido').warning('a warning of its own')\n"
        "logging.getLogger('reportlib.something').warning('ours')\n"
    )
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stderr
    assert err == "ours\n", err
