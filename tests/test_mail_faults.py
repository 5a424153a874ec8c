"""`reportlib email` when the operator's shell or the mail server misbehaves (a probe's findings, each reproduced
here on a real SMTP server, aiosmtpd on loopback): an option that names nothing is a usage error, not the option
left out; a password a server echoes back never reaches the terminal or a log; a connection lost while a message
is sent is not retried (the server may have taken it), one the server closed between messages is; what a
manifest holds and a server says is printed on one line; the "sent" line names the recipients that got it."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email
import email.policy
import json
import socket
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from test_security_delivery import MONTH, _dist, _email, _fake_month, _smtp

from reportlib.delivery.mail import SmtpSettings, server_text

PASSWORD = "S3cr3t-pw"


class _Server:
    """An inbox whose server can hang up: `mode` "idle" closes the connection after every accepted message (an
    idle timeout between messages), "drop" keeps the second message and closes before its reply arrives;
    recipients with "refuse" in them are refused."""

    def __init__(self, mode: str = "") -> None:
        self.mode = mode
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802 - aiosmtpd hook
        if "refuse" in address:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        if self.mode.startswith("reject:") and self.mode[7:] in str(msg["X-Reportlib-Report"]):
            self.messages.pop()  # refused for good, as a size limit refuses a message: the next one is taken
            return "552 5.3.4 message too big"
        if self.mode.startswith("later:") and self.mode[6:].removesuffix("!once") in str(msg["X-Reportlib-Report"]):
            self.messages.pop()  # put off (greylisting, a full queue): try again later
            self.mode = "" if self.mode.endswith("!once") else self.mode
            return "451 4.3.0 temporary failure"
        if self.mode == "drop" and len(self.messages) == 2:
            server.transport.close()  # taken, but the 250 never reaches the client
            return "421 closing"
        if self.mode == "idle":
            asyncio.get_running_loop().call_soon(server.transport.close)  # after the 250 is written: between messages
        if self.mode == "slow":
            await asyncio.sleep(2.5)  # keeps the message, answers late
        return "250 OK"


@contextlib.contextmanager
def _server(monkeypatch, mode: str = "", **kw):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = _Server(mode)
    ctl = Controller(handler, hostname="127.0.0.1", port=port, **kw)
    ctl.start()
    for k, v in {"HOST": "127.0.0.1", "PORT": str(port), "TLS": "none", "FROM": "reports@corp.test"}.items():
        monkeypatch.setenv(f"REPORTLIB_SMTP_{k}", v)
    try:
        yield handler
    finally:
        ctl.stop()


def _three_clients(tmp_path: Path, pack: bool = True) -> tuple[Path, Path, Path]:
    """A rendered month of clients C1, C2, C3 (and the pack), each client with its own account team: the outputs
    folder, the month's folder and the parameters."""
    out = tmp_path / "out"
    month_dir = _fake_month(out, ["C1", "C2", "C3"], pack=pack)
    return out, month_dir, _dist(tmp_path, account_teams={c: [f"am-{c.lower()}@corp.test"] for c in ("C1", "C2", "C3")})


def _sent_log(month_dir: Path) -> list[dict]:
    path = month_dir / "sent-log.json"
    return json.loads(path.read_text())["sent"] if path.exists() else []


def test_an_option_naming_nothing_is_a_usage_error_and_nothing_is_sent(tmp_path, monkeypatch, capsys):
    """`--to "$UNSET"` sent the month to every distribution list, `--dry-run "$UNSET"` sent for real and
    `--reports ""` picked every report: each is now exit 2 with nothing sent or written."""
    out = tmp_path / "out"
    _fake_month(out, ["C1"])
    params = _dist(tmp_path, account_teams={"C1": ["am@corp.test"]})
    with _smtp(monkeypatch) as inbox:
        for extra in (["--to", ""], ["--to", " , "], ["--dry-run", ""], ["--reports", ""], ["--out", " "]):
            with pytest.raises(SystemExit) as exit_:  # argparse's usage error
                _email(out, params, *extra)
            assert exit_.value.code == 2, extra
            err = capsys.readouterr().err
            assert "expected" in err and "Traceback" not in err, extra
        assert inbox.messages == []
    assert not (out / MONTH / "sent-log.json").exists()
    # the same guard in the library, for a caller that passes an empty list
    from reportlib.core.errors import UsageError
    from reportlib.core.params import load_params
    from reportlib.delivery.mail import email_month

    P = load_params(str(params))
    for kw in ({"to": []}, {"reports": []}, {"dry_run": " "}):
        with contextlib.suppress(UsageError):
            email_month(MONTH, params=P, out=out, **kw)
            raise AssertionError(f"{kw} was not refused")


def test_a_password_the_server_echoes_is_never_printed(tmp_path, monkeypatch, capsys):
    def echo(server, session, envelope, mechanism, auth_data):
        pw = auth_data.password.decode() if isinstance(auth_data, LoginPassword) else "?"
        b64 = base64.b64encode(pw.encode()).decode()
        return AuthResult(success=False, handled=False, message=f"535 5.7.8 bad password {pw} ({b64})")

    out = tmp_path / "out"
    _fake_month(out, [])
    params = _dist(tmp_path)
    with _server(monkeypatch, authenticator=echo, auth_required=True, auth_require_tls=False) as inbox:
        monkeypatch.setenv("REPORTLIB_SMTP_USER", "reports")
        monkeypatch.setenv("REPORTLIB_SMTP_PASSWORD", PASSWORD)
        assert _email(out, params) == 1
        err = capsys.readouterr().err
    assert "refused the login for reports (535" in err and "bad password [password] ([password])" in err
    assert PASSWORD not in err and base64.b64encode(PASSWORD.encode()).decode() not in err
    assert inbox.messages == []
    # the AUTH PLAIN form (user and password, base64) is taken out too, and a multi-line reply (smtplib joins
    # its lines with a newline) stays on one line
    s = SmtpSettings("h", 25, "none", "u", PASSWORD, "f@corp.test")
    plain = base64.b64encode(f"\0u\0{PASSWORD}".encode()).decode()
    assert server_text(f"535 {plain}".encode(), s) == "535 [password]"
    assert server_text(f"bad\n{PASSWORD}", s) == "bad\\n[password]"


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_a_password_outside_ascii_logs_in(tmp_path, monkeypatch, capsys, mechanism):
    """A probe's REPORTLIB_SMTP_PASSWORD "Pa55-wörd-Geheim" could not log in: smtplib encodes AUTH as ASCII, and
    the UnicodeEncodeError named the password's "ö" and its position. The credentials go in UTF-8 (RFC 4616):
    the server reads the password as set, by AUTH PLAIN and by AUTH LOGIN, and the message is sent."""
    secret = "Pa55-wörd-Geheim"
    seen: list[bytes] = []

    def check(server, session, envelope, mech, auth_data):
        seen.append(auth_data.password)
        return AuthResult(success=auth_data.password == secret.encode("utf-8"), handled=False)

    out = tmp_path / "out"
    _fake_month(out, [])
    params = _dist(tmp_path)
    other = {"PLAIN": ["LOGIN"], "LOGIN": ["PLAIN"]}[mechanism]
    with _server(
        monkeypatch, authenticator=check, auth_required=True, auth_require_tls=False, auth_exclude_mechanism=other
    ) as inbox:
        monkeypatch.setenv("REPORTLIB_SMTP_USER", "reports")
        monkeypatch.setenv("REPORTLIB_SMTP_PASSWORD", secret)
        assert _email(out, params, "--reports", "monthly_pack") == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert seen == [secret.encode("utf-8")] and len(inbox.messages) == 1
    assert "ö" not in err and "Unicode" not in err


def test_a_connection_lost_while_sending_is_not_retried(tmp_path, monkeypatch, capsys):
    """The server kept the second message and hung up before saying so: it went out once (it was sent twice,
    by an automatic retry), is not recorded as sent, and the error says a rerun sends it again."""
    out, month_dir, params = _three_clients(tmp_path, pack=False)
    with _server(monkeypatch, "drop") as inbox:
        assert _email(out, params) == 1
        err = capsys.readouterr().err
    assert len(inbox.messages) == 2  # the first, and the second once; the third never started
    assert [r["client_id"] for r in _sent_log(month_dir)] == ["C1"]
    assert "the connection was lost while sending it, so the server may have taken it" in err
    assert "1 message was sent before it" in err and "Traceback" not in err


def test_what_went_out_before_a_lost_connection_is_still_said(tmp_path, monkeypatch, capsys):
    """A probe's server refused one recipient (550) and hung up during the third message: stdout had no "sent" line
    for the messages that went and the refusal was never printed. Both are said before the error."""
    out = tmp_path / "out"
    _fake_month(out, ["C1", "C2", "C3"], pack=False)
    teams = {"C1": ["am-c1@corp.test", "refuse-c1@corp.test"], "C2": ["am-c2@corp.test"], "C3": ["am-c3@corp.test"]}
    params = _dist(tmp_path, account_teams=teams)
    with _server(monkeypatch, "drop") as inbox:
        assert _email(out, params) == 1
    said = capsys.readouterr()
    assert len(inbox.messages) == 2
    assert said.out.startswith("sent client_review for client C1 to am-c1@corp.test")
    assert "the connection was lost while sending it" in said.err
    assert "before it, not e-mailed (or refused by the server):" in said.err and "refuse-c1@corp.test (550" in said.err


def test_a_slow_server_is_waited_for_as_long_as_the_setting_says(tmp_path, monkeypatch, capsys):
    """A probe's server answered each message after 35 s: the 30 s limit, fixed in the code, lost the connection
    while sending, and every rerun sent the first client's review again and got no further. The limit is
    REPORTLIB_SMTP_TIMEOUT, named in the error; raised, the same server gets every message once."""
    out = tmp_path / "out"
    month_dir = _fake_month(out, ["C1"], pack=False)
    params = _dist(tmp_path, account_teams={"C1": ["am-c1@corp.test"]})
    with _server(monkeypatch, "slow") as inbox:
        monkeypatch.setenv("REPORTLIB_SMTP_TIMEOUT", "1")
        assert _email(out, params, "--reports", "client_review") == 1
        err = capsys.readouterr().err
        assert "the server did not answer within 1 s: for a slow server raise REPORTLIB_SMTP_TIMEOUT" in err
        monkeypatch.setenv("REPORTLIB_SMTP_TIMEOUT", "10")
        (month_dir / "sent-log.json").unlink(missing_ok=True)
        assert _email(out, params, "--reports", "client_review") == 0, capsys.readouterr().err
    assert len(_sent_log(month_dir)) == 1
    assert len(inbox.messages) == 2  # the server kept the first try too: the error said a rerun may send it twice
    monkeypatch.setenv("REPORTLIB_SMTP_TIMEOUT", "soon")
    assert _email(out, params) == 2
    assert "REPORTLIB_SMTP_TIMEOUT must be seconds" in capsys.readouterr().err


def test_a_server_that_hangs_up_between_messages_gets_each_once(tmp_path, monkeypatch, capsys):
    out, month_dir, params = _three_clients(tmp_path)
    with _server(monkeypatch, "idle") as inbox:
        assert _email(out, params) == 0, capsys.readouterr().err
    got = sorted(m["X-Reportlib-Report"] for _, m in inbox.messages)
    assert len(got) == 4 and len(set(got)) == 4  # the pack and three reviews, each once
    assert len(_sent_log(month_dir)) == 4


def test_the_sent_line_names_only_accepted_recipients_and_a_manifest_error_stays_one_line(
    tmp_path, monkeypatch, capsys
):
    out = tmp_path / "out"
    month_dir = _fake_month(out, ["C1", "C2"], pack=False)
    manifest = json.loads((month_dir / "manifest.json").read_text())
    manifest["reports"][1].update(status="failed", error="disk\n  (all other reports sent; nothing to fix)")
    (month_dir / "manifest.json").write_text(json.dumps(manifest))
    params = _dist(tmp_path, account_teams={"C1": ["refuse-me@corp.test", "ok@corp.test"], "C2": ["b@corp.test"]})
    with _server(monkeypatch) as inbox:
        assert _email(out, params) == 1
        captured = capsys.readouterr()
    assert [rcpt for rcpt, _ in inbox.messages] == [["ok@corp.test"]]
    sent = [line for line in captured.out.splitlines() if line.startswith("sent ")]
    assert len(sent) == 1 and " to ok@corp.test:" in sent[0] and "refuse-me" not in sent[0]
    assert "the mail server refused refuse-me@corp.test (550" in captured.err
    # the failed entry's error is quoted with its newline escaped: it cannot forge a line of its own
    assert "its run failed (disk\\n  (all other reports sent; nothing to fix))" in captured.err
    assert not any(line.startswith("  (all other") for line in captured.err.splitlines())


def test_a_message_without_its_key_figures_is_said_on_stderr(tmp_path, capsys):
    """The page's executed notebook is missing (or ran for another client): the message goes with the report
    attached and no figures, as before, and now says so instead of going quietly."""
    out = tmp_path / "out"
    month_dir = _fake_month(out, ["C1"], pack=False)
    manifest = json.loads((month_dir / "manifest.json").read_text())
    stem = Path(manifest["reports"][0]["html"]).stem
    manifest["reports"][0]["notebook"] = f"notebooks/{stem}.ipynb"  # named, not there
    (month_dir / "manifest.json").write_text(json.dumps(manifest))
    params = _dist(tmp_path, account_teams={"C1": ["am@corp.test"]})
    assert _email(out, params, "--dry-run", str(tmp_path / "eml"), "--reports", "client_review") == 0
    err = capsys.readouterr().err
    assert "warning: client_review for client C1: its executed notebook is not the one run for this page" in err
    assert len(list((tmp_path / "eml").glob("*.eml"))) == 1


def test_short_passwords_are_not_scrubbed_out_of_words_and_odd_ones_are(tmp_path):
    """A one-character password took every "a" out of "Authentication" and the 5s out of "535 5.7.8" (showing the
    password by the gaps); one with a tab was not found once the text was made printable."""
    one = SmtpSettings("h", 25, "none", "u", "a", "f@corp.test")
    assert server_text("535 5.7.8 Authentication failed", one) == "535 5.7.8 Authentication failed"
    five = SmtpSettings("h", 25, "none", "u", "5555", "f@corp.test")
    assert server_text("535 5.7.8 bad 5555", five) == "535 5.7.8 bad [password]"
    tab = SmtpSettings("h", 25, "none", "u", "tab\there", "f@corp.test")
    assert server_text("bad password tab\there.", tab) == "bad password [password]."
    inside = SmtpSettings("h", 25, "none", "u", "secret", "f@corp.test")
    assert server_text("secretary: secret", inside) == "secretary: [password]"  # a word, not a part of one


def test_email_stopped_mid_send_names_the_message_that_may_have_gone(tmp_path, monkeypatch):
    """SIGTERM while a message goes out: the run stopped with "stopped (SIGTERM)" alone, the message (which the
    server took) unrecorded and unnamed, and a rerun sent it twice without warning. Now it is named."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from test_security_delivery import ROOT

    out = tmp_path / "out"
    month_dir = _fake_month(out, ["C1", "C2"], pack=False)
    params = _dist(tmp_path, account_teams={"C1": ["a@corp.test"], "C2": ["b@corp.test"]})
    with _smtp(monkeypatch, delay=3.0) as inbox:
        cmd = [sys.executable, "-m", "reportlib", "email", "--month", MONTH, "--out", str(out), "--params", str(params)]
        proc = subprocess.Popen(
            cmd, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            deadline = time.time() + 60
            while time.time() < deadline and not _sent_log(month_dir):
                time.sleep(0.1)
            assert _sent_log(month_dir), "the first message was never sent"
            time.sleep(1.0)  # the second message is going out (the server takes 3 s to answer)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        time.sleep(3.5)  # the server finishes taking the second message
        got = len(inbox.messages)
    assert proc.returncode == 143 and "reportlib: stopped (SIGTERM)" in err and "Traceback" not in err
    assert "stopped while sending client_review for client C2: the server may have taken it" in err
    assert len(_sent_log(month_dir)) == 1 and got == 2  # taken by the server, not recorded, and said so


@pytest.mark.parametrize("port", ["99999", "0", "-25", "smtp"])
def test_an_smtp_port_that_is_no_port_is_named_before_any_connection(port):
    """REPORTLIB_SMTP_PORT=99999 was taken and failed later as "connection refused" (a probe): a port outside
    1..65535 is a usage error naming the variable."""
    from reportlib.core.errors import UsageError
    from reportlib.delivery.mail import smtp_settings

    env = {"REPORTLIB_SMTP_HOST": "127.0.0.1", "REPORTLIB_SMTP_TLS": "none", "REPORTLIB_SMTP_PORT": port,
           "REPORTLIB_SMTP_FROM": "reports@example.com"}  # fmt: skip
    with pytest.raises(UsageError, match=r"REPORTLIB_SMTP_PORT must be a port number \(1 to 65535\), got"):
        smtp_settings(env)
    assert smtp_settings(dict(env, REPORTLIB_SMTP_PORT="2525")).port == 2525


def test_a_message_the_server_refuses_for_good_is_named_and_the_others_go(tmp_path, monkeypatch, capsys):
    """One client's review refused with 552 (too big for the server's limit) stopped the batch: the clients after it
    were never tried, on every rerun (a probe). It is now named, with the server's reply as a reply (not a Python
    tuple), and the others are sent; a rerun tries it again and nothing else."""
    out, month_dir, params = _three_clients(tmp_path, pack=False)
    with _server(monkeypatch, "reject:C1") as inbox:
        assert _email(out, params) == 1
        err = capsys.readouterr().err
        assert sorted(rcpt[0] for rcpt, _ in inbox.messages) == ["am-c2@corp.test", "am-c3@corp.test"]
        assert "client_review for client C1: the mail server refused the message (552 5.3.4 message too big)" in err
        assert "b'" not in err
        assert len(_sent_log(month_dir)) == 2
        assert _email(out, params) == 1
        assert len(inbox.messages) == 2 and "refused the message (552" in capsys.readouterr().err


def test_a_message_the_server_puts_off_is_named_and_the_others_go_and_a_rerun_sends_it(tmp_path, monkeypatch, capsys):
    """A 451 to one client's message stopped every client after it (a probe: 36 clients untried). It is named as put
    off, the others are sent, and the rerun sends it alone."""
    out, month_dir, params = _three_clients(tmp_path, pack=False)
    with _server(monkeypatch, "later:C1!once") as inbox:
        assert _email(out, params) == 1
        err = capsys.readouterr().err
        assert sorted(rcpt[0] for rcpt, _ in inbox.messages) == ["am-c2@corp.test", "am-c3@corp.test"]
        said = "client_review for client C1: the mail server put off the message (451 4.3.0 temporary failure); not "
        assert said + "sent (a rerun sends it), the others go on" in err
        assert _email(out, params) == 1  # this month has no pack: said every time
        assert "put off" not in capsys.readouterr().err
        assert sorted(rcpt[0] for rcpt, _ in inbox.messages) == [
            "am-c1@corp.test",
            "am-c2@corp.test",
            "am-c3@corp.test",
        ]
        assert len(_sent_log(month_dir)) == 3


def test_a_trial_send_with_to_leaves_the_cc_its_real_message(tmp_path, monkeypatch, capsys):
    """`--to me@` first (a trial), then the real send: the cc never got a message, nothing said (a probe). The trial
    is recorded as one; the real send goes to the lists and the cc, and a third run sends nothing."""
    out = tmp_path / "out"
    month_dir = _fake_month(out, [])
    params = _dist(tmp_path, cc=["archive@corp.test"])
    with _server(monkeypatch) as inbox:
        pack = ("--reports", "monthly_pack")
        assert _email(out, params, *pack, "--to", "me@corp.test") == 0
        assert _email(out, params, *pack) == 0
        assert _email(out, params, *pack) == 0
        assert "nothing to send (each report was sent before, or skipped as said above)" in capsys.readouterr().err
    assert [sorted(rcpt) for rcpt, _ in inbox.messages] == [["me@corp.test"], ["archive@corp.test", "coo@corp.test"]]
    assert [rec.get("trial", False) for rec in _sent_log(month_dir)] == [True, False]


def test_a_report_sent_before_whose_later_run_failed_is_not_called_unsent(tmp_path, monkeypatch, capsys):
    """Sent, then re-rendered and failed (the last good page kept): `email` said "not e-mailing monthly_pack: its run
    failed" and exit 1 on every later run, though the executives had it (a probe). It now says it was sent before;
    a failed report never sent is still a problem."""
    out = tmp_path / "out"
    month_dir = _fake_month(out, ["C1"])
    params = _dist(tmp_path)  # C1 has no account team: only the pack goes
    with _server(monkeypatch) as inbox:
        assert _email(out, params) == 0
        manifest = json.loads((month_dir / "manifest.json").read_text())
        for e in manifest["reports"]:
            e.update(status="failed", error="timed out after 2 s")
        (month_dir / "manifest.json").write_text(json.dumps(manifest))
        capsys.readouterr()
        assert _email(out, params) == 1
        err = capsys.readouterr().err
    assert len(inbox.messages) == 1
    assert "monthly_pack was sent before" in err and "its run since failed (timed out after 2 s)" in err
    assert "not e-mailing monthly_pack" not in err
    assert "not e-mailing client_review for client C1: its run failed (timed out after 2 s)" in err


def test_a_recipient_domain_without_a_dot_is_refused_unless_allowed(tmp_path, monkeypatch, capsys):
    """`--to a@corp.test,b@x` sent every message to b@x too (a probe): a dotless domain is a typo more often than a
    local one. Refused, naming it; listed under allowed_domains, it is taken."""
    out = tmp_path / "out"
    _fake_month(out, [])
    with _server(monkeypatch) as inbox:
        assert _email(out, _dist(tmp_path), "--reports", "monthly_pack", "--to", "a@corp.test,b@x") == 2
        assert "'b@x' has a domain without a dot (x): a typo?" in capsys.readouterr().err
        assert inbox.messages == []
        allowed = _dist(tmp_path, allowed_domains=["corp.test", "x"])
        assert _email(out, allowed, "--reports", "monthly_pack", "--to", "a@corp.test,b@x") == 0
    assert [sorted(rcpt) for rcpt, _ in inbox.messages] == [["a@corp.test", "b@x"]]
