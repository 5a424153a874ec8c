"""E-mail a month's rendered reports: the right report to the right people, readable in any mail client.

Each message carries
* an HTML body built only from tables and inline styles (no <script>, no <style>: Gmail, Outlook
  and most webmail strip them) and small (well under Gmail's ~100 KB clipping limit): the report's
  KPI table and commentary, and its first charts as static PNG images referenced by `cid:`;
* a plain-text alternative with the same figures;
* the full self-contained HTML report as an attachment, and/or its PDF copy (`distribution.attach`, per
  audience), each checked to have been rendered for that report, client and month before it is attached.

The KPI tiles, commentary and charts come from the executed notebook in outputs/<month>/notebooks/,
so the e-mail shows exactly what the report showed and needs no access to the data. Charts are
drawn by kaleido in one headless Chromium kept warm for the whole run (a cold start costs seconds
per image); without a browser the body says so and keeps the tables.

Recipients come from parameters/distribution.yaml (executives: the monthly pack; each client's
account team: its client review); `--to` replaces them. A report whose run failed is never sent.
Each successful send is recorded in outputs/<month>/sent-log.json, so a rerun sends only what has
not gone out yet. SMTP settings come from REPORTLIB_SMTP_* environment variables only.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import ipaddress
import json
import os
import re
import smtplib
import socket
import ssl
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from reportlib.core.errors import ReportlibError, UsageError
from reportlib.core.params import DEFAULT_TIMEZONE
from reportlib.core.safety import AddressError, parse_address, printable, unspoofed
from reportlib.core.words import counted, noun_for
from reportlib.reports.charts import STATIC_CHART_PX
from reportlib.reports.queries import report_settings
from reportlib.reports.views import COMMENTARY_MIME, FACTS_MIME, PLOTLY_MIME, TILES_MIME

SENT_LOG = "sent-log.json"
BODY_LIMIT = 100_000  # bytes: Gmail clips longer HTML bodies
PLACEHOLDER_DOMAINS = ("example.com",)  # the addresses shipped in parameters/distribution.yaml
MAX_TILES, MAX_COMMENTARY = 16, 10
CHART_WIDTH, CHART_HEIGHT = STATIC_CHART_PX  # CSS pixels in the body; the PNG is drawn at 2x for sharp screens

# Colours: status in words as well as colour (survives grey print and colour blindness).
_STATUS = {
    "green": ("On target", "#1a7f37"),
    "amber": ("Near target", "#9a6700"),
    "red": ("Off target", "#b42318"),
    "none": ("No target", "#57606a"),
}
_DELTA = {"good": "#1a7f37", "bad": "#b42318", "flat": "#57606a"}
_FONT = "font-family:Arial,Helvetica,sans-serif;"


# --- SMTP settings --------------------------------------------------------------------------------


@dataclass
class SmtpSettings:
    """Where and how to send: from REPORTLIB_SMTP_* only (the password never comes from a file)."""

    host: str
    port: int
    tls: str  # none | starttls | ssl
    user: str | None
    password: str | None = field(repr=False)
    sender: str
    timeout_s: float = 30.0  # REPORTLIB_SMTP_TIMEOUT: how long to wait for each reply of the server


# A password shorter than this is not scrubbed from server texts: matched as a word, "a" or "5" would still take
# words and reply codes apart ("535 [password].7.8") and show the password by the gaps; a server echoing so short
# a password is the lesser harm. Chosen by reasoning, not from data.
MIN_SCRUBBED = 4


def server_text(text: Any, s: SmtpSettings) -> str:
    """What a mail server said (or an error quoting it), safe to print and log: one line (`safety.printable`: a
    multi-line reply's newlines escaped) and without the password, which a server may echo back in its refusal,
    as typed or base64-encoded the way AUTH LOGIN and AUTH PLAIN send it: each as a whole word (not inside a
    longer run of letters and digits), for a password of at least MIN_SCRUBBED characters."""
    import base64

    if isinstance(text, smtplib.SMTPResponseException):  # "552 5.3.4 message too big", not "(552, b'5.3.4 ...')"
        reply = text.smtp_error
        text = f"{text.smtp_code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
    out = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    if s.password and len(s.password) >= MIN_SCRUBBED:
        plain = f"\0{s.user or ''}\0{s.password}".encode()
        forms = (s.password, base64.b64encode(s.password.encode()).decode(), base64.b64encode(plain).decode())
        for secret in sorted(forms, key=len, reverse=True):  # the longest first: one form can hold another
            # as a whole word only: "a" or "5" inside "Authentication" or "5.7.8" is not the password
            out = re.sub(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", "[password]", out)
    return printable(out)  # after the scrub: a password with a tab or an escape in it is matched as typed


def smtp_settings(env: Mapping[str, str] | None = None) -> SmtpSettings:
    """SMTP settings from the environment; UsageError naming the variable to fix."""
    env = os.environ if env is None else env
    host = (env.get("REPORTLIB_SMTP_HOST") or "").strip()
    if not host:
        raise UsageError(
            "set REPORTLIB_SMTP_HOST (and REPORTLIB_SMTP_PORT, REPORTLIB_SMTP_TLS, REPORTLIB_SMTP_USER, "
            "REPORTLIB_SMTP_PASSWORD, REPORTLIB_SMTP_FROM) to send, or use --dry-run DIR to write .eml files"
        )
    tls = (env.get("REPORTLIB_SMTP_TLS") or "starttls").strip().lower()
    if tls not in ("none", "starttls", "ssl"):
        raise UsageError(f"REPORTLIB_SMTP_TLS must be none, starttls or ssl, got {tls!r}")
    port_text = (env.get("REPORTLIB_SMTP_PORT") or "").strip()
    try:
        port = int(port_text) if port_text else {"none": 25, "starttls": 587, "ssl": 465}[tls]
        if not 0 < port < 65536:
            raise ValueError(port)
    except ValueError:
        raise UsageError(f"REPORTLIB_SMTP_PORT must be a port number (1 to 65535), got {port_text!r}") from None
    user = (env.get("REPORTLIB_SMTP_USER") or "").strip() or None
    password = env.get("REPORTLIB_SMTP_PASSWORD") or None
    if user and not password:
        raise UsageError(
            "REPORTLIB_SMTP_USER is set but REPORTLIB_SMTP_PASSWORD is not (the password is read "
            "from the environment only)"
        )
    sender = (env.get("REPORTLIB_SMTP_FROM") or "").strip() or (user if user and "@" in user else "")
    if not sender:
        raise UsageError("set REPORTLIB_SMTP_FROM to the sender's address, e.g. reports@yourcompany.com")
    check_sender(sender)
    timeout_text = (env.get("REPORTLIB_SMTP_TIMEOUT") or "").strip()
    try:
        timeout = float(timeout_text) if timeout_text else 30.0
        if not 0 < timeout <= 3600:
            raise ValueError(timeout)
    except ValueError:
        raise UsageError(
            f"REPORTLIB_SMTP_TIMEOUT must be seconds (more than 0, at most 3600), got {timeout_text!r}"
        ) from None
    return SmtpSettings(host, port, tls, user, password, sender, timeout)


def check_sender(sender: str) -> str:
    """The bare address of REPORTLIB_SMTP_FROM; UsageError naming the variable when it is not exactly one
    address with a domain (a line break in it would forge headers)."""

    try:
        return parse_address(sender)
    except AddressError as exc:
        raise UsageError(f"REPORTLIB_SMTP_FROM: {exc}") from None


def _address(sender: str) -> str:
    """The bare address of 'Name <addr>' (or of a bare address)."""
    return parseaddr(sender)[1]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- what the executed notebook showed ------------------------------------------------------------


class _TilesParser(HTMLParser):
    """Reads the tile grid and commentary that narrative.tiles_html / commentary_html wrote."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tiles: list[dict] = []
        self.commentary: list[str] = []
        self._stack: list[set[str]] = []
        self._field: str | None = None
        self._delta: str | None = None
        self._li: list[str] | None = None
        self._in_commentary = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        classes = set((a.get("class") or "").split())
        self._stack.append(classes)
        if "rl-tile" in classes:
            self.tiles.append(
                {
                    "name": "",
                    "value_text": "",
                    "target_text": "",
                    "deltas": [],
                    "status": a.get("data-status") or "none",
                }
            )
        elif self.tiles and classes & {"rl-tile-name", "rl-tile-value", "rl-tile-target", "rl-tile-note"}:
            self._field = next(iter(classes & {"rl-tile-name", "rl-tile-value", "rl-tile-target", "rl-tile-note"}))
        elif self.tiles and tag == "span" and any(c.startswith("rl-delta-") for c in classes):
            kind = next(c for c in classes if c.startswith("rl-delta-"))[len("rl-delta-") :]
            self.tiles[-1]["deltas"].append(["", kind])
            self._delta = kind
        if "rl-commentary" in classes:
            self._in_commentary += 1
        if tag == "li" and self._in_commentary:
            self._li = []

    def handle_endtag(self, tag: str) -> None:
        classes = self._stack.pop() if self._stack else set()
        if classes & {"rl-tile-name", "rl-tile-value", "rl-tile-target", "rl-tile-note"}:
            self._field = None
        if tag == "span" and self._delta:
            self._delta = None
        if "rl-commentary" in classes:
            self._in_commentary -= 1
        if tag == "li" and self._li is not None:
            self.commentary.append(" ".join("".join(self._li).split()))
            self._li = None

    def handle_data(self, data: str) -> None:
        if self._li is not None:
            self._li.append(data)
        if self._delta and self.tiles:
            self.tiles[-1]["deltas"][-1][0] += data
        elif self._field and self.tiles:
            key = {
                "rl-tile-name": "name",
                "rl-tile-value": "value_text",
                "rl-tile-target": "target_text",
                "rl-tile-note": "note",
            }[self._field]
            self.tiles[-1][key] = (self.tiles[-1].get(key) or "") + data


def _display_tile(tile: Mapping[str, Any], currency: str = "$") -> dict:
    """A tile dict (narrative.Tile.as_dict) as the strings the e-mail table shows: money in the currency the
    report showed it in (the tile's own `currency`, else `currency`)."""
    from reportlib.reports import narrative

    currency = str(tile.get("currency") or currency)
    unit = tile.get("unit") or "number"
    digits = narrative.tile_digits(tile)  # the decimals the page shows (a QA score: one)
    hib = tile.get("higher_is_better", True)
    status = tile.get("status") or "none"
    target = tile.get("target")
    target_text = (
        ("≥ " if hib else "≤ ") + narrative.format_value(target, unit, currency, digits)
        if not narrative.is_missing(target)
        else ""
    )
    deltas = []
    for key, label in (
        ("delta_prev", tile.get("prev_label") or "last month"),
        ("delta_yoy", tile.get("yoy_label") or "last year"),
    ):
        d = tile.get(key)
        if narrative.is_missing(d):
            continue
        kind = narrative.delta_class(d, bool(hib), unit, digits).removeprefix("rl-delta-")
        shown = narrative.format_change(0.0 if kind == "flat" else d, unit, currency, digits=digits)  # never "-0.0"
        deltas.append([f"{shown} vs {label}", kind])
    return {
        "name": str(tile.get("name") or ""),
        "value_text": narrative.format_value(tile.get("value"), unit, currency, digits),
        "target_text": target_text,
        "status": status if status in _STATUS else "none",
        "deltas": deltas,
        "note": tile.get("note"),
    }


@dataclass
class Highlights:
    """What the e-mail body shows of a report: KPI tiles (display strings), commentary, chart figures."""

    tiles: list[dict] = field(default_factory=list)
    commentary: list[str] = field(default_factory=list)
    figures: list[dict] = field(default_factory=list)
    partial: str | None = None  # the page's partial-month note (its run facts' "partial"), None for a whole month


def highlights(executed_notebook: str | Path, max_charts: int = 4, currency: str = "$") -> Highlights:
    """The first KPI tiles, commentary and up to `max_charts` figures of an executed report notebook."""
    import nbformat

    nb = nbformat.read(str(executed_notebook), as_version=4)
    out = Highlights()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for o in cell.get("outputs", []):
            data = o.get("data") or {}
            if TILES_MIME in data and not out.tiles:
                out.tiles = [_display_tile(t, currency) for t in data[TILES_MIME]]
            elif "rl-tiles" in str(data.get("text/html", "")) and not out.tiles:
                p = _TilesParser()
                p.feed(str(data["text/html"]))
                out.tiles = [
                    dict(
                        t,
                        name=t["name"].strip(),
                        value_text=t["value_text"].strip(),
                        target_text=_target_only(t["target_text"]),
                        deltas=[[" ".join(x.split()), k] for x, k in t["deltas"]],
                    )
                    for t in p.tiles
                ]
            if COMMENTARY_MIME in data and not out.commentary:
                out.commentary = [str(s) for s in data[COMMENTARY_MIME]]
            elif "rl-commentary" in str(data.get("text/html", "")) and not out.commentary:
                p = _TilesParser()
                p.feed(str(data["text/html"]))
                out.commentary = p.commentary
            if FACTS_MIME in data and isinstance(data[FACTS_MIME], dict) and data[FACTS_MIME].get("partial"):
                out.partial = str(data[FACTS_MIME]["partial"])
            if PLOTLY_MIME in data and len(out.figures) < max_charts:
                out.figures.append(data[PLOTLY_MIME])
    out.tiles = out.tiles[:MAX_TILES]
    out.commentary = out.commentary[:MAX_COMMENTARY]
    return out


def _target_only(text: str) -> str:
    """'On target · Target ≥ 80.0%' -> '≥ 80.0%' (the status has its own column)."""
    text = " ".join(text.split())
    m = re.search(r"Target\s+(.*)$", text)
    return m.group(1) if m else ("" if "No target" in text else text)


def figure_title(fig: Mapping[str, Any]) -> str:
    """A figure's title text (plain), or ''."""
    title = (fig.get("layout") or {}).get("title")
    if isinstance(title, dict):
        title = title.get("text")
    return re.sub(r"<[^>]+>", " ", html.unescape(str(title or ""))).strip()


# --- static charts: one warm kaleido -------------------------------------------------------------


def find_browser() -> str | None:
    """The Chromium-based browser kaleido would use (Debian's /usr/bin/chromium, $BROWSER_PATH), or None."""
    try:
        from choreographer.browsers.chromium import Chromium

        path = Chromium.find_browser(skip_local=False)
    except Exception:  # noqa: BLE001 - no choreographer, odd platform: no browser
        return None
    return path if path and os.path.isfile(path) and os.access(path, os.X_OK) else None


def quiet_browser_logs() -> None:
    """Keep kaleido's and choreographer's own log records off stderr: with no logging set up, Python prints a
    WARNING or worse there, and choreographer logs a message it could not decode, which it then ignores, with two
    chained tracebacks (a probe, about one e-mail run in 8). A chart that fails is said by ChartImages itself."""
    import logging

    for name in ("kaleido", "choreographer", "logistro"):
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())
        logger.propagate = False


class ChartImages:
    """Figures -> PNG bytes through one kaleido (headless Chromium) started once and kept warm.

    kaleido's own `start_sync_server` waits forever when Chromium fails to start, so this runs a
    `kaleido.Kaleido` in a private event-loop thread and waits on each call with a timeout.
    `available` is False (and `reason` says why) when there is no browser or it fails.
    """

    def __init__(self, enabled: bool = True, timeout: float = 60.0):
        self.timeout = timeout
        self.browser = find_browser() if enabled else None
        self.reason: str | None = None
        if not enabled:
            self.reason = "static charts are turned off"
        elif self.browser is None:
            self.reason = "no Chromium-based browser was found to draw static charts (apt-get install chromium)"
        self._loop: Any = None  # asyncio loop of the drawing thread, once started
        self._thread: threading.Thread | None = None
        self._kaleido: Any = None

    @property
    def available(self) -> bool:
        return self.reason is None

    def _start(self) -> None:
        import kaleido

        quiet_browser_logs()

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="kaleido", daemon=True)
        self._thread.start()
        self._kaleido = kaleido.Kaleido(n=1, timeout=self.timeout)
        asyncio.run_coroutine_threadsafe(self._kaleido.__aenter__(), self._loop).result(timeout=self.timeout * 2)

    def png(self, fig: Mapping[str, Any], width: int = CHART_WIDTH, height: int = CHART_HEIGHT) -> bytes | None:
        """The figure as a PNG drawn at 2x, or None (with `reason` set) when charts cannot be drawn."""
        if not self.available:
            return None
        try:
            if self._kaleido is None:
                self._start()
            fig = {"data": list(fig.get("data") or []), "layout": dict(fig.get("layout") or {})}
            fig["layout"].pop("height", None)
            fig["layout"].pop("width", None)
            opts = {"format": "png", "width": width, "height": height, "scale": 2}
            fut = asyncio.run_coroutine_threadsafe(self._kaleido.calc_fig(fig, opts=opts), self._loop)
            return fut.result(timeout=self.timeout)
        except Exception as exc:  # noqa: BLE001 - any failure: fall back to tables for the rest of the run
            self.reason = f"drawing static charts failed ({type(exc).__name__}: {exc})"[:300]
            self.close()
            return None

    def close(self) -> None:
        """Stop the browser and the loop thread."""
        if self._loop is None:
            return
        if self._kaleido is not None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._kaleido.__aexit__(None, None, None), self._loop).result(
                    timeout=30
                )
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._loop, self._thread, self._kaleido = None, None, None

    def __enter__(self) -> ChartImages:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# --- the message ----------------------------------------------------------------------------------


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def body_html(
    *,
    title: str,
    subtitle: str,
    tiles: list[dict],
    commentary: list[str],
    charts: list[tuple[str, str]],
    notes: list[str],
    attachment_name: str | None,
    pdf_name: str | None = None,
    partial: str | None = None,
) -> str:
    """The e-mail body: tables and inline styles only (no <script>, no <style>); charts as cid: images.

    `attachment_name` is the attached HTML report and `pdf_name` its attached PDF copy (either may be None);
    `partial`, the page's partial-month note, shown under the title (the figures are a part of the month's).
    """
    cell = "padding:8px 10px;border-bottom:1px solid #e5e7eb;font-size:14px;vertical-align:top;" + _FONT
    head = (
        "padding:6px 10px;border-bottom:2px solid #d0d7de;font-size:12px;color:#57606a;text-align:left;"
        "font-weight:bold;" + _FONT
    )
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_esc(title)}</title></head>",
        '<body style="margin:0;padding:0;background-color:#f3f4f6;">',
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        'style="background-color:#f3f4f6;"><tr><td align="center" style="padding:16px 8px;">',
        '<table role="presentation" width="640" cellpadding="0" cellspacing="0" border="0" '
        'style="width:100%;max-width:640px;background-color:#ffffff;border:1px solid #e5e7eb;'
        'border-collapse:collapse;">',
        f'<tr><td style="padding:20px 24px 4px;{_FONT}">'
        f'<div style="font-size:12px;color:#57606a;letter-spacing:1px;text-transform:uppercase;{_FONT}">'
        f"Support operations</div>"
        f'<h1 style="margin:4px 0 2px;font-size:22px;line-height:28px;color:#1f2328;{_FONT}">{_esc(title)}</h1>'
        + (f'<div style="font-size:14px;color:#57606a;{_FONT}">{_esc(subtitle)}</div>' if subtitle else "")
        + "</td></tr>",
    ]
    if partial:
        parts.append(
            f'<tr><td style="padding:8px 24px 4px;{_FONT}"><div style="padding:8px 10px;background-color:#fff8c5;'
            f'border-left:4px solid #9a6700;font-size:14px;line-height:20px;color:#1f2328;{_FONT}">'
            f"{_esc(partial)}</div></td></tr>"
        )
    if tiles:
        rows = []
        for t in tiles:
            label, colour = _STATUS.get(t.get("status") or "none", _STATUS["none"])
            deltas = "<br>".join(
                f'<span style="color:{_DELTA.get(kind, _DELTA["flat"])};">{_esc(text)}</span>'
                for text, kind in t.get("deltas") or []
            )
            note = f'<div style="font-size:12px;color:#57606a;">{_esc(t["note"])}</div>' if t.get("note") else ""
            rows.append(
                f'<tr><td style="{cell}">{_esc(t["name"])}{note}</td>'
                f'<td style="{cell}font-weight:bold;white-space:nowrap;">{_esc(t["value_text"])}</td>'
                f'<td style="{cell}white-space:nowrap;">{_esc(t.get("target_text") or "–")}</td>'
                f'<td style="{cell}color:{colour};font-weight:bold;white-space:nowrap;">{_esc(label)}</td>'
                f'<td style="{cell}font-size:13px;">{deltas or "–"}</td></tr>'
            )
        parts.append(
            f'<tr><td style="padding:12px 24px 4px;{_FONT}">'
            f'<h2 style="margin:0 0 8px;font-size:16px;color:#1f2328;{_FONT}">Key figures</h2>'
            '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
            'style="border-collapse:collapse;width:100%;">'
            f'<tr><th style="{head}">Measure</th><th style="{head}">This month</th><th style="{head}">Target</th>'
            f'<th style="{head}">Status</th><th style="{head}">Change</th></tr>' + "".join(rows) + "</table></td></tr>"
        )
    if commentary:
        items = "".join(f'<li style="margin:0 0 6px;">{_esc(s)}</li>' for s in commentary)
        parts.append(
            f'<tr><td style="padding:12px 24px 4px;{_FONT}">'
            f'<h2 style="margin:0 0 8px;font-size:16px;color:#1f2328;{_FONT}">What changed</h2>'
            f'<ul style="margin:0;padding:0 0 0 20px;font-size:14px;line-height:20px;color:#1f2328;{_FONT}">'
            f"{items}</ul></td></tr>"
        )
    for cid, alt in charts:
        parts.append(
            f'<tr><td style="padding:12px 24px 4px;{_FONT}">'  # the chart draws its own title
            f'<img src="cid:{_esc(cid)}" width="{CHART_WIDTH - 8}" alt="{_esc(alt or "Chart")}" '
            f'style="display:block;width:100%;max-width:{CHART_WIDTH - 8}px;height:auto;border:0;"></td></tr>'
        )
    for note in notes:
        parts.append(
            f'<tr><td style="padding:12px 24px 4px;font-size:13px;color:#57606a;{_FONT}">{_esc(note)}</td></tr>'
        )
    parts.append(
        f'<tr><td style="padding:16px 24px 20px;font-size:13px;line-height:19px;color:#57606a;{_FONT}">'
        f"{attachment_sentence(attachment_name, pdf_name, markup=True)}</td></tr>"
    )
    parts.append("</table></td></tr></table></body></html>\n")
    return "".join(parts)


def body_text(
    *,
    title: str,
    subtitle: str,
    tiles: list[dict],
    commentary: list[str],
    notes: list[str],
    attachment_name: str | None,
    pdf_name: str | None = None,
    partial: str | None = None,
) -> str:
    """The plain-text alternative with the same figures (and each tile's note, as the HTML body has them)."""
    lines = [title] + ([subtitle] if subtitle else []) + [""] + ([partial, ""] if partial else [])
    if tiles:
        lines.append("Key figures")
        for t in tiles:
            label = _STATUS.get(t.get("status") or "none", _STATUS["none"])[0]
            target = f" (target {t['target_text']})" if t.get("target_text") else ""
            deltas = "; ".join(text for text, _ in t.get("deltas") or [])
            note = f" ({t['note']})" if t.get("note") else ""
            lines.append(
                f"- {t['name']}{note}: {t['value_text']}{target}, {label.lower()}" + (f"; {deltas}" if deltas else "")
            )
        lines.append("")
    if commentary:
        lines.append("What changed")
        lines += [f"- {s}" for s in commentary]
        lines.append("")
    lines += notes
    lines.append(attachment_sentence(attachment_name, pdf_name, markup=False))
    # each item one line: a name from data holding CR or LF ("Evil\r\nBcc: ...") made a line of its own (a probe);
    # the title and subtitle carry names (shown as marks), a note or sentence may run over lines (joined; any other
    # control character in it, ESC or NUL from a queue's name, shown as a mark too)
    head = len([title] + ([subtitle] if subtitle else []))
    return (
        "\n".join(
            unspoofed(line if i < head else " ".join(line.split()), controls=True) for i, line in enumerate(lines)
        )
        + "\n"
    )


def attachment_sentence(html_name: str | None, pdf_name: str | None, *, markup: bool) -> str:
    """The body's last line: which files are attached and what each is for (names in bold with `markup`)."""

    def name(n: str) -> str:
        return f"<b>{_esc(n)}</b>" if markup else n

    if html_name and pdf_name:
        return (
            f"The full report is attached as {name(html_name)}: open it in a web browser (it works offline) "
            f"for every chart and table; {name(pdf_name)} is the same report to print or read on a phone."
        )
    if pdf_name:
        return f"The full report is attached as {name(pdf_name)} (PDF), to read, print or forward."
    if html_name:
        suffix = " for every chart and table." if markup else "."
        return f"The full report is attached as {name(html_name)}: open it in a web browser (it works offline){suffix}"
    return ""


@dataclass
class Planned:
    """One message to send: which report, to whom, and the built message."""

    report: str
    client_id: str | None
    stem: str
    to: list[str]
    cc: list[str]
    subject: str
    entry: dict
    message: EmailMessage | None = None
    notes: list[str] = field(default_factory=list)
    agent_id: str | None = None
    attach: list[str] = field(default_factory=lambda: ["html"])  # html and/or pdf (`attachments_for`)
    delivered: list[str] = field(default_factory=list)  # the recipients the server accepted, once sent
    warnings: list[str] = field(default_factory=list)  # said on stderr: the message went out in a lesser form

    @property
    def recipients(self) -> list[str]:
        return list(dict.fromkeys(self.to + self.cc))

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        """Which page the message carries: (report, client id, agent id)."""
        return (self.report, self.client_id, self.agent_id)

    @property
    def who(self) -> str:
        if self.agent_id is not None:
            return f"{self.report} for agent {show_id(self.agent_id)}"
        return self.report + (f" for client {show_id(self.client_id)}" if self.client_id else "")


def _who(entry: Mapping[str, Any]) -> str:
    if entry.get("agent_id") is not None:
        return f"{entry.get('report')} for agent {show_id(entry['agent_id'])}"
    return str(entry.get("report")) + (f" for client {show_id(entry['client_id'])}" if entry.get("client_id") else "")


def show_id(raw: Any) -> str:
    """An id as a message shows it: as is when it is a safe id, else quoted with escapes (no line breaks)."""
    from reportlib.core.safety import is_safe_id

    return str(raw) if is_safe_id(raw) else ascii(raw)


def _subject(dist: Mapping[str, Any], entry: dict, month: str) -> str:
    from reportlib.core.months import month_label
    from reportlib.core.params import subject_problem
    from reportlib.reports.registry import TITLES

    subjects = dist.get("subjects") or {}
    report = entry["report"] if subjects.get(entry["report"]) else "default"
    template = subjects.get(report) or "{title}"
    problem = subject_problem(report, template)  # checked with the parameters too; here for library callers
    if problem:
        raise UsageError(problem)
    fields = dict(
        title=entry.get("title") or TITLES.get(entry["report"], entry["report"]),
        month=month,
        month_label=month_label(month),
        report=entry["report"],
        client_id=entry.get("client_id") or "",
        client_name=entry.get("client_name") or entry.get("client_id") or "",
        agent_id=entry.get("agent_id") or "",
        agent_name=entry.get("agent_name") or entry.get("agent_id") or "",
    )
    return header_text(template.format_map(fields))


def header_text(text: str) -> str:
    """`text` (from data: a client's or agent's name or id) as a header's value that is read back as written:
    control characters as spaces, runs of white space as one, and each "=?" opening an RFC 2047 encoded word
    written "= ?". A probe's client name "Northfield =?utf-8?q?Insurance=0D=0AReply-To:_attacker@evil.test?="
    was decoded by the message's header parser into a line break and delivered as a real Reply-To header."""
    text = " ".join("".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text).split())
    return text.replace("=?", "= ?")


def _set_header(msg: EmailMessage, name: str, value: str) -> None:
    """Set header `name` to `value` (`header_text` already) and check that it reads back as `value`: no text from
    data becomes another header or a control character, whatever the header parser makes of it."""
    msg[name] = value
    if str(msg[name]) != value or any(unicodedata.category(ch)[0] == "C" for ch in str(msg[name])):
        raise ReportlibError(f"the {name} header would not read as written ({value!r}): nothing sent for it")


def _addresses(values: Iterable[str], allowed_domains: list[str] | None = None, setting: str = "") -> list[str]:
    """Each entry parsed as exactly one address with a domain (`safety.parse_address`), without repeats.

    AddressError naming the entry (and `setting`, where it came from) for the first one refused.
    """

    out: list[str] = []
    for v in values:
        try:
            addr = parse_address(v, allowed_domains, recipient=True)
        except AddressError as exc:
            raise AddressError(f"{setting}: {exc}" if setting else str(exc)) from None
        if addr.lower() not in {a.lower() for a in out}:
            out.append(addr)
    return out


def allowed_domains(dist: Mapping[str, Any]) -> list[str] | None:
    """distribution.allowed_domains: the only domains any message may go to (None: any domain)."""
    value = dist.get("allowed_domains")
    return [str(d) for d in value] if value else None


def client_domains(dist: Mapping[str, Any]) -> dict[str, set[str]]:
    """distribution.client_domains turned round: each domain (lower case) -> the client ids that list it."""
    owners: dict[str, set[str]] = {}
    for cid, domains in (dist.get("client_domains") or {}).items():
        for d in [domains] if isinstance(domains, str) else domains or []:
            owners.setdefault(str(d).strip().lower().rstrip("."), set()).add(str(cid))
    return owners


def check_client_domains(
    addresses: Iterable[str], entry: Mapping[str, Any], dist: Mapping[str, Any], setting: str
) -> None:
    """AddressError naming the address and the client when a message would reach a client it is not about: an
    address at a domain `distribution.client_domains` gives to another client (the domain itself or one under it:
    eu.client.com is client.com's), for a client's review; for any other report (the monthly pack shows every
    client, an agent review a person), an address at any client's domain. Nothing when client_domains is unset.

    allowed_domains limits where mail may go at all; this keeps one client's figures from another client's
    people: a cc or an account team pasted into the wrong client's entry passes allowed_domains, which must list
    every client's domain."""
    owners = client_domains(dist)
    if not owners:
        return
    report, cid = entry.get("report"), entry.get("client_id")
    mine = str(cid) if report == "client_review" and cid else None
    for addr in addresses:
        domain = addr.rsplit("@", 1)[-1].lower()
        parts = domain.split(".")
        owned = set().union(*(owners.get(".".join(parts[i:]), set()) for i in range(len(parts))))
        if owned and mine not in owned:
            whose = ", ".join(sorted(map(repr, owned)))
            if mine:
                what = f"the review of client {mine!r} would reach it"
            elif report:
                what = f"the {report}, which is no one client's, would reach it"
            else:
                what = "the replies to every client's messages would reach it"
            raise AddressError(
                f"{setting}: {addr!r} is at {domain}, a domain of client {whose} (distribution.client_domains): {what}"
            )


class NoSupervisor(ReportlibError):
    """An agent review has no supervisor address (`supervisor_for`): it is skipped and named."""


def supervisor_for(entry: Mapping[str, Any], dist: Mapping[str, Any]) -> tuple[list[str], str]:
    """The address entries for an agent review's supervisor, and the setting they came from.

    `distribution.supervisors[<the roster's supervisor value>]`, else each `supervisor_default` template with
    `{supervisor_id}` replaced by the supervisor's id (only a safe id: `safety.substitute_id`). NoSupervisor
    naming the agent when the roster names no supervisor, the supervisor's id is unknown (no roster row
    with that id or name, or two rows with that name) or `supervisor_default` is empty.
    """
    from reportlib.core.safety import substitute_id

    who = f"agent {show_id(entry.get('agent_id'))}"
    sup = entry.get("supervisor")
    if not isinstance(sup, str) or not sup.strip():
        raise NoSupervisor(f"{who} has no supervisor in the roster (agents.supervisor)")
    listed = (dist.get("supervisors") or {}).get(sup)
    if listed is not None:
        return ([listed] if isinstance(listed, str) else list(listed)), f"distribution.supervisors[{sup!r}]"
    templates = list(dist.get("supervisor_default") or [])
    sid = entry.get("supervisor_id")
    if not templates:
        raise NoSupervisor(f"{who}: supervisor {sup!r} is not listed under distribution.supervisors")
    if not isinstance(sid, str) or not sid:
        raise NoSupervisor(
            f"{who}: supervisor {sup!r} is not listed under distribution.supervisors and is not the agent_id "
            "or the one name of a lead or supervisor on the roster employed at the month's end, so "
            "supervisor_default cannot be used"
        )
    hint = "list the supervisor under distribution.supervisors"
    return [substitute_id(str(t), sid, "supervisor_id", hint) for t in templates], "distribution.supervisor_default"


def recipients_for(entry: dict, dist: Mapping[str, Any], to: list[str] | None) -> list[str]:
    """Who gets this report: --to if given, else executives, the client's account team, or the agent's
    supervisor (`supervisor_for`).

    Every entry is exactly one address with a domain (in distribution.allowed_domains when that is set);
    a client id goes into an `account_team_default` template (a supervisor id into `supervisor_default`)
    only when it is a safe id. AddressError naming the entry otherwise; NoSupervisor for an agent review
    without a supervisor address.
    """
    found, setting = _recipient_entries(entry, dist, to)
    out = _addresses(found, allowed_domains(dist), setting)
    check_client_domains(out, entry, dist, setting)
    return out


def _recipient_entries(entry: dict, dist: Mapping[str, Any], to: list[str] | None) -> tuple[list[str], str]:
    """recipients_for's entries before they are parsed, and the setting they came from."""
    if to is not None:  # given: those addresses alone (an empty list sends to nobody, never to the lists)
        return list(to), "--to"
    report, cid = entry["report"], entry.get("client_id")
    if report == "agent_review":
        if not entry.get("agent_id"):
            return [], "distribution.supervisors"
        return supervisor_for(entry, dist)
    if report == "client_review" and cid:
        from reportlib.core.safety import substitute_id

        team = (dist.get("account_teams") or {}).get(cid)
        setting = f"distribution.account_teams[{cid!r}]"
        if team is None:
            setting = "distribution.account_team_default"
            team = [substitute_id(str(t), str(cid)) for t in dist.get("account_team_default") or []]
        return ([team] if isinstance(team, str) else list(team)), setting
    if report in (dist.get("executive_reports") or ["monthly_pack"]):
        return list(dist.get("executives") or []), "distribution.executives"
    return [], ""


def unmailed_by_choice(entry: Mapping[str, Any], dist: Mapping[str, Any]) -> str | None:
    """Where distribution.yaml says a client's review goes to nobody, or None: its account team given as an empty
    list, or none given and `account_team_default` an empty list ("mail listed clients only"). A setting left
    blank (null) is no such choice."""
    if entry.get("report") != "client_review" or not entry.get("client_id"):
        return None
    teams = dist.get("account_teams") or {}
    cid = entry["client_id"]
    if cid in teams:
        return f"account_teams[{show_id(cid)}] is []" if teams[cid] == [] else None
    return "account_team_default is []" if dist.get("account_team_default") == [] else None


def entry_identity(entry: Mapping[str, Any]) -> tuple[str, str | None, str | None, str]:
    """(report, client id, agent id, file stem) of a manifest entry, checked: the stem is the one the run
    names this report's files with (`safety.file_stem` of the client or agent id); ReportlibError otherwise."""
    from reportlib.core.safety import file_stem

    report, cid, aid = entry.get("report"), entry.get("client_id"), entry.get("agent_id")
    if not isinstance(report, str) or not (cid is None or isinstance(cid, str)):
        raise ReportlibError("the manifest entry has no usable report name or client id")
    if not (aid is None or isinstance(aid, str)) or (aid is not None and cid is not None):
        raise ReportlibError("the manifest entry has no usable agent id")
    try:
        stem = file_stem(report, cid if aid is None else aid)
    except ValueError:
        raise ReportlibError(f"the manifest names an unusable report {report!r}") from None
    return report, cid, aid, stem


def verified_report(month_dir: Path, entry: Mapping[str, Any], month: str) -> tuple[Path, bytes, Path | None]:
    """The report page of a manifest entry, checked: (its path, its bytes, its executed notebook or None).

    ReportlibError unless the entry's `html` is the file name this report and client id are rendered to
    (`safety.file_stem`), resolves inside the month folder and is a regular file (not a link), and the page
    says it was rendered for this report, client and month (`safety.page_stamp`). The notebook (the body's
    key figures are read from it) is kept only when it is `notebooks/<stem>.ipynb` inside the folder, a
    regular file, and was run for this client or agent and month (`notebook_ran_for`).
    """
    from reportlib.core.safety import inside, page_stamp

    page = _checked_copy(month_dir, entry, month, "html", page_stamp, "rendered")
    _report, cid, aid, stem = entry_identity(entry)
    path = inside(month_dir, f"{stem}.html")
    nb = entry.get("notebook")
    nb_path = None
    if nb == f"notebooks/{stem}.ipynb":
        with contextlib.suppress(ReportlibError):
            nb_path = inside(month_dir, nb)
            if Path(month_dir, nb).is_symlink() or not nb_path.is_file():
                nb_path = None
    if nb_path is not None and not notebook_ran_for(nb_path, cid, aid, month):
        nb_path = None
    return path, page, nb_path


def notebook_ran_for(path: Path, client_id: str | None, agent_id: str | None, month: str) -> bool:
    """Whether an executed notebook's papermill parameters name this client id, agent id and month (the
    parameters `reportlib run` gave it); False for any notebook that cannot be read as one."""
    from reportlib.core.safety import read_bytes_nofollow

    try:
        meta = json.loads(read_bytes_nofollow(path)).get("metadata") or {}
        given = (meta.get("papermill") or {}).get("parameters") or {}
    except (OSError, ValueError, AttributeError):
        return False
    if not isinstance(given, dict):
        return False
    return (given.get("client_id"), given.get("agent_id"), given.get("month")) == (client_id, agent_id, month)


ATTACH_KINDS = ("html", "pdf")


def audience(report: str, dist: Mapping[str, Any]) -> str:
    """The distribution list a report goes to: `account_teams` (client reviews), `supervisors` (agent
    reviews), `executives` (the executive_reports), else the report's own name."""
    from reportlib.reports.registry import AGENT_REPORT, CLIENT_REPORT

    if report == CLIENT_REPORT:
        return "account_teams"
    if report == AGENT_REPORT:
        return "supervisors"
    if report in (dist.get("executive_reports") or ["monthly_pack"]):
        return "executives"
    return report


def attachments_for(report: str, dist: Mapping[str, Any]) -> list[str]:
    """What is attached to a report's message: `distribution.attach[<audience>]`, else `attach.default`,
    else the HTML alone; `pdf` only for reports that have a PDF copy (registry `pdf`), never nothing."""
    from reportlib.reports.registry import PDF_REPORTS

    attach = dist.get("attach") or {}
    kinds = attach.get(audience(report, dist)) or attach.get("default") or ["html"]
    kinds = [k for k in dict.fromkeys(kinds) if k in ATTACH_KINDS and (k != "pdf" or report in PDF_REPORTS)]
    return kinds or ["html"]


def verified_pdf(month_dir: Path, entry: Mapping[str, Any], month: str) -> bytes:
    """The PDF copy of a manifest entry, checked like `verified_report` checks the page: its bytes.

    ReportlibError unless the entry names `<stem>.pdf` (the file this report and client id are printed to),
    it resolves inside the month folder, is a regular file (not a link), and its stamp
    (`safety.pdf_stamp`) says it was printed for this report, client and month.
    """
    from reportlib.core.safety import pdf_stamp

    if not entry.get("pdf"):
        raise ReportlibError(
            "no PDF copy was printed for it (is Chromium installed? reports.pdf in parameters); "
            "rerun `reportlib run` or attach the HTML only (distribution.attach)"
        )
    return _checked_copy(month_dir, entry, month, "pdf", pdf_stamp, "printed")


def _checked_copy(
    month_dir: Path,
    entry: Mapping[str, Any],
    month: str,
    kind: str,
    read_stamp: Callable[[bytes], dict | None],
    verb: str,
) -> bytes:
    """The bytes of a manifest entry's `kind` file (html or pdf), checked: named `<stem>.<kind>` as the run
    names it, inside the month folder, a regular file (not a link), and stamped for this report, client or
    agent and month (`read_stamp`: safety.page_stamp or safety.pdf_stamp). ReportlibError otherwise."""
    from reportlib.core.safety import inside, read_bytes_nofollow

    report, cid, aid, stem = entry_identity(entry)
    name = entry.get(kind)
    if name != f"{stem}.{kind}":
        raise ReportlibError(f"the manifest points at {name!r}, not at {stem}.{kind} where this report is {verb}")
    inside(month_dir, name)
    try:
        data = read_bytes_nofollow(Path(month_dir) / name)
    except OSError as exc:
        raise ReportlibError(
            f"cannot read {Path(month_dir) / name} ({exc.strerror or exc}; a link or not a regular file is refused)"
        ) from None
    stamp = read_stamp(data)
    want = {"report": report, "client_id": cid, "month": month, "agent_id": aid}
    if not stamp or {k: stamp.get(k) for k in want} != want:
        got = (
            f"no record of what it was {verb} for"
            if not stamp
            else f"it was {verb} for {stamp.get('report')} client {stamp.get('client_id')!r} month {stamp.get('month')}"
        )
        raise ReportlibError(f"{name} was not {verb} for this report ({got}); rerun `reportlib run`")
    return data


def read_sent_log(month_dir: Path) -> list[dict]:
    """Every message recorded as sent for the month."""
    path = Path(month_dir) / SENT_LOG
    if not path.exists():
        return []
    from reportlib.core.safety import read_bytes_nofollow

    try:
        log = json.loads(read_bytes_nofollow(path).decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportlibError(
            f"{path} is not readable JSON ({exc}); fix or delete it (deleting it allows resending)"
        ) from None
    if not isinstance(log, dict) or not isinstance(log.get("sent", []), list):
        raise ReportlibError(f"{path} is not a reportlib sent-log; fix or delete it (deleting it allows resending)")
    return [r for r in log.get("sent", []) if isinstance(r, dict)]


def _sent_records(log: list[dict], report: str, client_id: str | None, agent_id: str | None = None) -> list[dict]:
    """The sent log's records of one message (report, client, agent) with a list of recipients."""
    return [
        rec
        for rec in log
        if rec.get("report") == report
        and rec.get("client_id") == client_id
        and rec.get("agent_id") == agent_id
        and isinstance(rec.get("recipients"), list)
    ]


def plan_messages(
    month_dir: Path, params: dict, *, reports: list[str] | None = None, to: list[str] | None = None, log=None
) -> tuple[list[Planned], list[str]]:
    """The messages to send for a month and the problems that block others (failed or missing reports)."""

    from reportlib.delivery.run import read_manifest, rendered_from_other_data
    from reportlib.reports.registry import ALL_REPORTS

    log = log or sys.stderr
    dist = params.get("distribution") or {}
    manifest_path = Path(month_dir) / "manifest.json"
    if not manifest_path.exists():
        raise ReportlibError(
            f"no rendered reports in {month_dir} (no manifest.json); run "
            f"`reportlib run --month {Path(month_dir).name}` first"
        )
    manifest = read_manifest(month_dir)
    entries = [e for e in manifest.get("reports", []) if isinstance(e, dict)]
    if reports:
        unknown = [r for r in reports if r not in ALL_REPORTS]
        if unknown:
            raise UsageError(
                f"unknown {noun_for(len(unknown), 'report')} {', '.join(unknown)}; choose from {', '.join(ALL_REPORTS)}"
            )
        wanted = list(reports)
    else:
        wanted = list(dict.fromkeys(list(dist.get("executive_reports") or ["monthly_pack"]) + ["client_review"]))
        if any(e.get("report") == "agent_review" for e in entries):  # off by default: sent when rendered
            wanted.append("agent_review")
    problems: list[str] = []
    if "client_review" in wanted and to is None:
        reviewed = {e.get("client_id") for e in entries if e.get("report") == "client_review"}
        for cid in sorted(set(dist.get("account_teams") or {}) - reviewed, key=str):
            print(  # a key matching no client ("Acme " for "Acme"): its addresses get nothing, said (a probe)
                f"reportlib email: warning: distribution.account_teams names {show_id(cid)}, which has no client "
                f"review in {Path(month_dir).name}: its addresses get nothing this month (is the id spelt as in "
                "the clients table?)",
                file=log,
            )
    sent_log = read_sent_log(month_dir)
    planned: list[Planned] = []
    for report in wanted:
        found = [e for e in entries if e.get("report") == report]
        if not found:
            problems.append(f"{report} was not rendered for {Path(month_dir).name}; run `reportlib run` for it first")
            continue
        for entry in found:
            p_who = _who(entry)
            if entry.get("status") != "ok":
                why = printable(entry.get("error") or "see index.html")  # the manifest's text: one line
                sent = [
                    rec
                    for rec in _sent_records(sent_log, report, entry.get("client_id"), entry.get("agent_id"))
                    if not rec.get("trial")
                ]
                if sent:  # delivered before its later run failed: what was sent stands (a probe: "not e-mailing")
                    print(
                        f"reportlib email: {p_who} was sent before (see {Path(month_dir) / SENT_LOG}); its run since "
                        f"failed ({why}), so nothing new is sent",
                        file=log,
                    )
                    continue
                problems.append(f"not e-mailing {p_who}: its run failed ({why})")
                continue
            try:
                rcpt = recipients_for(entry, dist, to)
                private = report == "agent_review"  # an agent's page goes to the supervisor alone: no cc
                cc = (
                    []
                    if to is not None or private
                    else _addresses(dist.get("cc") or [], allowed_domains(dist), "distribution.cc")
                )
                check_client_domains(cc, entry, dist, "distribution.cc")  # a client's cc copied on every review
            except NoSupervisor as exc:
                print(f"reportlib email: skipping {p_who}: {exc}", file=log)
                continue
            except AddressError as exc:
                if to is not None:
                    raise UsageError(str(exc)) from None
                problems.append(f"not e-mailing {p_who}: {exc}")
                continue
            if not rcpt:
                choice = unmailed_by_choice(entry, dist) if to is None else None
                if choice:
                    # distribution.yaml lists the clients to mail: the others are left out by choice, not by
                    # mistake (a probe: every run failed, one line per client never meant to get mail)
                    print(
                        f"reportlib email: skipping {p_who}: distribution.yaml gives it no account team ({choice})",
                        file=log,
                    )
                    continue
                problems.append(f"no recipients for {p_who}: add them to parameters/distribution.yaml or pass --to")
                continue
            # what was sent is done whatever has happened to the data since (a probe: a chmod of a data file made
            # every report already sent "rendered from other data", one failure line each)
            records = _sent_records(sent_log, report, entry.get("client_id"), entry.get("agent_id"))
            done = {a.lower() for rec in records for a in rec.get("recipients") or [] if isinstance(a, str)}
            # a cc gets it again only when the server refused it then (a cc added since gets next month's); a trial
            # send to --to addresses alone is no sending to the lists: their cc gets the real one (a probe: the cc
            # of every report tried out first with --to never got it)
            real = [rec for rec in records if not rec.get("trial")]
            refused = {a.lower() for rec in real for a in rec.get("refused") or [] if isinstance(a, str)}
            left_to = [a for a in rcpt if a.lower() not in done]
            left_cc = [a for a in cc if a.lower() not in done and (not real or a.lower() in refused)]
            if done and not left_to and not left_cc:
                since = {rec.get("data_fingerprint") for rec in records} - {None, entry.get("data_fingerprint")}
                again = (
                    "; it was rendered again since, from other data: delete its records in "
                    f"{SENT_LOG} to send the new one"
                    if since
                    else ""
                )
                print(
                    f"reportlib email: {p_who} already sent to {', '.join(a for a in rcpt + cc if a.lower() in done)}; "
                    "not sending again "
                    f"(see {Path(month_dir) / SENT_LOG}){again}",
                    file=log,
                )
                continue
            if rendered_from_other_data(entry, manifest):  # kept from a run before the data changed: stale
                # this one page again: a probe's rerun of `--reports agent_review` alone rendered 172 reviews
                one = (
                    f" --agents {printable(entry['agent_id'])}"
                    if entry.get("agent_id") is not None
                    else f" --clients {printable(entry['client_id'])}"
                    if entry.get("client_id") is not None
                    else ""
                )
                problems.append(
                    f"not e-mailing {p_who}: it was rendered from other data ({printable(entry['data_fingerprint'])})"
                    f" than the month's last run ({printable(manifest['data_fingerprint'])}); run it again (reportlib run --month {Path(month_dir).name} "
                    f"--reports {printable(entry.get('report'))}{one}, with that run's --data, --params and --out)"
                )
                continue
            kinds = attachments_for(report, dist)
            if "pdf" in kinds and not entry.get("pdf") and kinds != ["pdf"]:
                print(
                    f"reportlib email: warning: {p_who} has no PDF copy (none was printed: is Chromium installed? "
                    "reports.pdf in parameters); sending its HTML alone",
                    file=log,
                )
                kinds = [k for k in kinds if k != "pdf"]
            try:
                verified_report(Path(month_dir), entry, Path(month_dir).name)
                if "pdf" in kinds:
                    verified_pdf(Path(month_dir), entry, Path(month_dir).name)
            except ReportlibError as exc:
                problems.append(f"not e-mailing {p_who}: {exc}")
                continue
            if done:  # sent before to some: the rest now (a To not sent to, a cc the server refused then)
                rcpt, cc = left_to, left_cc  # a cc alone: a message without To (its To had it)
            stem = Path(str(entry["html"])).stem
            planned.append(
                Planned(
                    report,
                    entry.get("client_id"),
                    stem,
                    rcpt,
                    cc,
                    _subject(dist, entry, Path(month_dir).name),
                    entry,
                    agent_id=entry.get("agent_id"),
                    attach=kinds,
                )
            )
    clashing = case_clashes(planned, sent_log)
    for p in planned:
        if p.key in clashing:
            mine_spelt = clashing[p.key]
            others = sorted(  # the messages holding another spelling of one of its addresses (not every clash's)
                {
                    show_id(c or a)
                    for (r, c, a), spelt in clashing.items()
                    if (r, c, a) != p.key and any(s.lower() == m.lower() and s != m for s in spelt for m in mine_spelt)
                }
            )
            mine = [a for a in p.to if _spelling(a) in clashing[p.key]]
            problems.append(
                f"not e-mailing {_who(p.entry)}: {', '.join(mine)} differs only in letter case from an address of "
                f"{', '.join(others)} (a mail server delivers both to one mailbox); in parameters/distribution.yaml, "
                "spell it the same everywhere if it is one person's, or give these clients (agents) addresses that "
                "differ by more than letter case"
            )
    return [p for p in planned if p.key not in clashing], problems


def _spelling(address: str) -> str:
    """An address as its spelling is compared: the domain in lower case (domains ignore case by definition), the
    mailbox name as written."""
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def case_clashes(
    planned: Sequence[Planned], sent: Sequence[dict] = ()
) -> dict[tuple[str, str | None, str | None], set[str]]:
    """(report, client id, agent id) of each message whose recipient is spelt, in another client's or agent's
    message, with other letter case only (team+C001@ and team+c001@, from ids differing in case alone): most
    mail servers read both as one mailbox, so one client's review would reach the other's team. One address
    spelt the same in several messages (an account manager of two clients) is no clash. `sent`: the month's
    sent-log records, whose To addresses count as spelt too (a probe: C001's review sent in one run, c001's
    rendered and sent in the next reached the same mailbox). Each such message with its clashing spellings
    (`_spelling`: "Am1@Corp.test" and "Am1@corp.test" are one spelling)."""
    spellings: dict[str, dict[str, set[tuple[str, str | None, str | None]]]] = {}
    for p in planned:
        for address in p.to:
            spellings.setdefault(address.lower(), {}).setdefault(_spelling(address), set()).add(p.key)
    for rec in sent:
        key = (str(rec.get("report")), rec.get("client_id"), rec.get("agent_id"))
        # its To addresses, as a planned message's are compared (a cc shared by every message, spelt otherwise in a
        # To, is one person's mailbox: a review); a record written before "to" was kept gives all its recipients
        for address in rec.get("to", rec.get("recipients")) or []:
            if isinstance(address, str):
                spellings.setdefault(address.lower(), {}).setdefault(_spelling(address), set()).add(key)
    out: dict[tuple[str, str | None, str | None], set[str]] = {}
    for forms in spellings.values():
        keys = set().union(*forms.values())
        if len(forms) > 1 and len(keys) > 1:  # one message's own address respelt is no other's mailbox
            for spelling, holders in forms.items():
                for key in holders:
                    out.setdefault(key, set()).add(spelling)
    return out


def build_message(
    p: Planned, month_dir: Path, sender: str, params: dict, charts: ChartImages, reply_to: str | None = None
) -> EmailMessage:
    """The MIME message for one planned report: HTML body + text alternative + cid: PNGs + the report."""
    from reportlib.core.months import month_label

    month = Path(month_dir).name
    dist = params.get("distribution") or {}
    _path, report_bytes, nb_path = verified_report(Path(month_dir), p.entry, month)  # the bytes attached
    kinds = p.attach
    pdf_bytes = verified_pdf(Path(month_dir), p.entry, month) if "pdf" in kinds else None
    attachment_name = f"{p.stem}-{month}.html" if "html" in kinds else None
    pdf_name = f"{p.stem}-{month}.pdf" if pdf_bytes is not None else None
    hl = Highlights()
    notes: list[str] = []
    if nb_path is None and p.entry.get("notebook"):  # not this page's run's: no figure from another report
        p.warnings.append(
            f"{p.who}: its executed notebook is not the one run for this page; the message carries no key "
            "figures, only the attached report"
        )
    if nb_path is not None:
        try:
            hl = highlights(nb_path, int(dist.get("max_charts", 4)), str(report_settings(params)["currency"]))
        except Exception as exc:  # noqa: BLE001 - an unreadable notebook: send the report without highlights
            notes.append(f"The key figures could not be read for this e-mail ({type(exc).__name__}).")
    if not hl.tiles and not hl.commentary:
        notes.append("The key figures are in the attached report.")
    images: list[tuple[str, str, bytes]] = []
    domain = _address(sender).rsplit("@", 1)[-1] or "reportlib.local"
    for fig in hl.figures:
        png = charts.png(fig)
        if png is None:
            break
        cid = make_msgid(idstring="chart", domain=domain)[1:-1]
        images.append((cid, figure_title(fig), png))
    if hl.figures and len(images) < len(hl.figures):
        notes.append(
            f"Charts are not shown as images in this e-mail: {charts.reason}. They are in the attached report."
        )
    title = p.entry.get("title") or p.subject
    wanted = [month_label(month)] + ([str(p.entry.get("client_name") or p.client_id)] if p.client_id else [])
    if p.agent_id is not None:
        wanted.append(str(p.entry.get("agent_name") or p.agent_id))
    subtitle = " · ".join(w for w in wanted if w not in title)  # only what the title does not say already
    html_body = body_html(
        title=title,
        subtitle=subtitle,
        tiles=hl.tiles,
        commentary=hl.commentary,
        charts=[(cid, alt) for cid, alt, _ in images],
        notes=notes,
        attachment_name=attachment_name,
        pdf_name=pdf_name,
        partial=hl.partial,
    )
    if len(html_body.encode("utf-8")) > BODY_LIMIT:  # never clipped: drop charts' titles and commentary
        html_body = body_html(
            title=title,
            subtitle=subtitle,
            tiles=hl.tiles[:8],
            commentary=[],
            charts=[(cid, "") for cid, _, _ in images],
            notes=notes,
            attachment_name=attachment_name,
            pdf_name=pdf_name,
            partial=hl.partial,
        )
    text = body_text(
        title=title,
        subtitle=subtitle,
        tiles=hl.tiles,
        commentary=hl.commentary,
        notes=notes,
        attachment_name=attachment_name,
        pdf_name=pdf_name,
        partial=hl.partial,
    )
    msg = EmailMessage()
    _set_header(msg, "Subject", p.subject)
    msg["From"] = sender
    if p.to:  # none when only a cc the server refused before is sent again
        msg["To"] = ", ".join(p.to)
    if p.cc:
        msg["Cc"] = ", ".join(p.cc)
    if reply_to:
        try:
            parse_address(reply_to)
        except AddressError as exc:
            raise UsageError(f"distribution.reply_to: {exc}") from None
        msg["Reply-To"] = reply_to
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(idstring=p.stem.replace("_", "-"), domain=domain)
    tag = (
        p.report
        + (f"; client_id={show_id(p.client_id)}" if p.client_id else "")
        + (f"; agent_id={show_id(p.agent_id)}" if p.agent_id is not None else "")
        + f"; month={month}"
    )
    _set_header(msg, "X-Reportlib-Report", header_text(tag))  # ids come from data: no line break, no encoded word
    msg.set_content(unspoofed(text))  # names from data: no bidirectional control, no line separator
    msg.add_alternative(unspoofed(html_body), subtype="html")
    html_part: Any = msg.get_payload()[1]  # type: ignore[index]  # the alternative just added
    for cid, alt, png in images:
        html_part.add_related(
            png,
            maintype="image",
            subtype="png",
            cid=f"<{cid}>",
            disposition="inline",  # a filename alone makes it an attachment, listed beside the report
            filename=f"{re.sub(r'[^A-Za-z0-9]+', '-', alt).strip('-')[:40] or 'chart'}.png",
        )
    if attachment_name:
        msg.add_attachment(report_bytes, maintype="text", subtype="html", filename=attachment_name)
    if pdf_bytes is not None:
        msg.add_attachment(pdf_bytes, maintype="application", subtype="pdf", filename=pdf_name)
    p.notes = notes
    return msg


# --- sending --------------------------------------------------------------------------------------


def _append_sent(month_dir: Path, record: dict) -> None:
    path = Path(month_dir) / SENT_LOG
    log = read_sent_log(month_dir)
    log.append(record)
    from reportlib.core.safety import write_atomic

    write_atomic(path, json.dumps({"sent": log}, indent=1, ensure_ascii=False) + "\n")  # whole, or not at all


class _Utf8Auth(smtplib.SMTP):
    """smtplib's AUTH with the credentials in UTF-8. smtplib encodes the user and password as ASCII: a password
    with "ö" raised UnicodeEncodeError, naming that character and its position in the message (a probe). PLAIN is
    UTF-8 by its definition (RFC 4616), and LOGIN and CRAM-MD5 servers take UTF-8 in practice; the exchange is
    smtplib's own (SMTP.auth, 3.11), only the encoding differs."""

    def auth(self, mechanism: str, authobject: Callable[..., Any], *, initial_response_ok: bool = True) -> Any:
        import base64

        def encoded(text: str) -> str:
            return base64.b64encode(text.encode("utf-8")).decode("ascii")

        mechanism = mechanism.upper()
        initial = authobject() if initial_response_ok else None
        # smtplib's auth_login reads the count of challenges answered to tell the user's turn from the password's
        if initial is not None:
            code, resp = self.docmd("AUTH", f"{mechanism} {encoded(initial)}")
            self._auth_challenge_count = 1
        else:
            code, resp = self.docmd("AUTH", mechanism)
            self._auth_challenge_count = 0
        while code == 334:
            self._auth_challenge_count += 1
            if self._auth_challenge_count > 5:  # smtplib's _MAXCHALLENGE
                raise smtplib.SMTPException(f"Server AUTH mechanism infinite loop. Last response: {(code, resp)!r}")
            code, resp = self.docmd(encoded(authobject(base64.decodebytes(resp))))
        if code in (235, 503):
            return code, resp
        raise smtplib.SMTPAuthenticationError(code, resp)

    def auth_cram_md5(self, challenge: bytes | None = None) -> str | None:  # type: ignore[override]
        import hmac

        if challenge is None:
            return None
        return f"{self.user} " + hmac.HMAC(str(self.password).encode("utf-8"), challenge, "md5").hexdigest()


class _Utf8AuthSSL(_Utf8Auth, smtplib.SMTP_SSL):
    """`_Utf8Auth` over an implicit TLS connection."""


def _connect(s: SmtpSettings) -> smtplib.SMTP:
    """An open, authenticated SMTP connection, each reply awaited `s.timeout_s` seconds; ReportlibError saying what
    to check when it fails."""
    where = f"{s.host}:{s.port}"
    timeout = s.timeout_s
    try:
        if s.tls == "ssl":
            conn: smtplib.SMTP = _Utf8AuthSSL(s.host, s.port, timeout=timeout, context=ssl.create_default_context())
        else:
            conn = _Utf8Auth(s.host, s.port, timeout=timeout)
        conn.ehlo_or_helo_if_needed()
        if s.tls == "starttls":
            if not conn.has_extn("starttls"):
                conn.close()
                raise ReportlibError(
                    f"the mail server {where} does not offer STARTTLS; set REPORTLIB_SMTP_TLS=ssl "
                    "(usually port 465), or none to send unencrypted on a trusted network"
                )
            conn.starttls(context=ssl.create_default_context())
            conn.ehlo()
    except ReportlibError:
        raise
    except (ConnectionRefusedError, socket.gaierror, TimeoutError, OSError, smtplib.SMTPException) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else (str(exc) or type(exc).__name__)
        raise ReportlibError(
            f"could not connect to the mail server {where} ({server_text(reason, s)}); check REPORTLIB_SMTP_HOST, "
            "REPORTLIB_SMTP_PORT and REPORTLIB_SMTP_TLS, and that the server is running"
        ) from None
    if s.user:
        try:
            conn.login(s.user, s.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            conn.close()
            raise ReportlibError(
                f"the mail server {where} refused the login for {s.user} "
                f"({exc.smtp_code} {server_text(exc.smtp_error, s)}); "
                "check REPORTLIB_SMTP_USER and REPORTLIB_SMTP_PASSWORD"
            ) from None
        except smtplib.SMTPNotSupportedError:
            conn.close()
            raise ReportlibError(
                f"the mail server {where} does not accept a login on this connection; "
                "try REPORTLIB_SMTP_TLS=starttls or ssl, or unset REPORTLIB_SMTP_USER"
            ) from None
        except smtplib.SMTPException as exc:
            conn.close()
            raise ReportlibError(f"logging in to the mail server {where} failed ({server_text(exc, s)})") from None
    return conn


def _still_open(conn: smtplib.SMTP) -> bool:
    """True when the server still answers on `conn` (a NOOP before each message after the first)."""
    try:
        return conn.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        with contextlib.suppress(Exception):
            conn.close()
        return False


@dataclass
class EmailResult:
    """What an e-mail run did."""

    sent: list[Planned] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    chart_note: str | None = None


class SendingStopped(ReportlibError):
    """A send that stopped part-way (the connection lost, a server that stopped answering): `result` holds what was
    sent and what the server refused before it, which the command still prints (a probe found the "sent" lines
    and a 550 refusal of the messages before the stop never shown)."""

    def __init__(self, message: str, result: EmailResult):
        super().__init__(message)
        self.result = result


def email_month(
    month: str,
    *,
    params: dict,
    out: str | Path | None = None,
    reports: list[str] | None = None,
    to: list[str] | None = None,
    dry_run: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    charts: bool = True,
    log=None,
) -> EmailResult:
    """Send (or with `dry_run`, write as .eml files) the month's reports to their distribution lists."""
    from reportlib.core.months import resolve_month
    from reportlib.delivery.run import month_lock, output_dir

    log = log or sys.stderr
    env = os.environ if env is None else env
    # an option given but naming nothing is not the option left out (that would send to everyone, or for real)
    for given, what in ((to, "--to names no address"), (reports, "--reports names no report")):
        if given is not None and not given:
            raise UsageError(what)
    if dry_run is not None and not str(dry_run).strip():
        raise UsageError("--dry-run names no folder")
    month = resolve_month(month, params.get("timezone") or DEFAULT_TIMEZONE)
    month_dir = output_dir(params, out) / month
    settings = None if dry_run else smtp_settings(env)
    dist = params.get("distribution") or {}
    reply_to = dist.get("reply_to")
    if reply_to:
        try:  # where every message's replies go: no client's domain (replies quote one client's figures)
            check_client_domains([parse_address(reply_to, allowed_domains(dist))], {}, dist, "distribution.reply_to")
        except AddressError as exc:
            raise UsageError(
                str(exc) if str(exc).startswith("distribution.reply_to") else f"distribution.reply_to: {exc}"
            ) from None
    if settings:
        sender = settings.sender
    else:
        sender = (env.get("REPORTLIB_SMTP_FROM") or "").strip() or "reportlib@localhost"
        check_sender(sender)
    if month_dir.is_symlink() or (month_dir.exists() and not month_dir.is_dir()):
        raise ReportlibError(
            f"{month_dir} is a symbolic link or not a folder; reports are read only from a real folder"
        )
    if not (month_dir / "manifest.json").exists():
        raise ReportlibError(
            f"no rendered reports in {month_dir} (no manifest.json); run `reportlib run --month {month}` first"
        )
    with month_lock(month_dir, "`reportlib email`"):  # one sender per month: nothing goes out twice
        return _email_locked(
            month_dir,
            params,
            dist,
            settings,
            sender,
            reply_to,
            reports=reports,
            to=to,
            dry_run=dry_run,
            charts=charts,
            log=log,
        )


def _write_eml(folder: Path, stem: str, data: bytes) -> Path:
    """`folder/<stem>.eml`, or `<stem>.2.eml`... when taken: a dry run never overwrites a message."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # made here: its owner's alone, as the messages are
    from reportlib.core.safety import write_atomic

    for n in range(1, 1000):
        path = folder / (f"{stem}.eml" if n == 1 else f"{stem}.{n}.eml")
        try:
            write_atomic(path, data, exclusive=True)
            return path
        except FileExistsError:
            continue
    raise ReportlibError(f"{folder} already holds 999 copies of {stem}.eml; empty it")


def _email_locked(
    month_dir: Path,
    params: dict,
    dist: Mapping[str, Any],
    settings: SmtpSettings | None,
    sender: str,
    reply_to: str | None,
    *,
    reports,
    to,
    dry_run,
    charts: bool,
    log,
) -> EmailResult:
    planned, problems = plan_messages(month_dir, params, reports=reports, to=to, log=log)
    result = EmailResult(problems=list(problems))
    if not dry_run:
        assert settings is not None  # read from the environment for every real send
        placeholders = sorted(
            {a for p in planned for a in p.recipients if a.lower().rsplit("@", 1)[-1] in PLACEHOLDER_DOMAINS}
        )
        if placeholders:
            raise ReportlibError(
                "parameters/distribution.yaml still holds placeholder addresses ("
                + ", ".join(placeholders[:3])
                + (", ..." if len(placeholders) > 3 else "")
                + "); put the real addresses there (or pass --to); nothing was sent"
            )
        if settings.tls == "none" and settings.user and not _is_loopback(settings.host):
            print("reportlib email: warning: REPORTLIB_SMTP_TLS=none sends the password unencrypted", file=log)
    if not planned:
        return result
    conn = None if dry_run or settings is None else _connect(settings)  # fail fast, before any chart is drawn
    with ChartImages(enabled=charts) as images:
        try:
            for p in planned:
                try:
                    p.message = build_message(p, month_dir, sender, params, images, reply_to)
                except UsageError:
                    raise
                except ReportlibError as exc:  # the page changed since it was planned: not sent
                    result.problems.append(f"not e-mailing {p.who}: {exc}")
                    continue
                for warning in p.warnings:
                    print(f"reportlib email: warning: {printable(warning)}", file=log)
                if dry_run:
                    try:
                        result.written.append(_write_eml(Path(dry_run), p.stem, p.message.as_bytes()))
                    except OSError as exc:
                        raise ReportlibError(
                            f"--dry-run {dry_run}: cannot write {p.stem}.eml ({exc.strerror or exc})"
                        ) from None
                    continue
                assert settings is not None  # a real send
                if conn is None or not _still_open(conn):
                    # the server hung up between messages (an idle timeout): a new connection, before any of
                    # this message went out. A connection lost while sending is not retried (below): the
                    # server may have taken the message before it hung up, and a retry would send it twice.
                    conn = _connect(settings)
                try:
                    refused = conn.send_message(p.message, from_addr=_address(settings.sender), to_addrs=p.recipients)
                except KeyboardInterrupt:  # Ctrl-C or SIGTERM (cli.Terminated) while this message went out
                    print(
                        f"reportlib email: stopped while sending {p.who}: the server may have taken it; it is not "
                        f"recorded as sent ({counted(len(result.sent), 'message')} before it {noun_for(len(result.sent), 'is', 'are')}, in {month_dir / SENT_LOG}), "
                        "so a rerun sends it again (ask its recipients first)",
                        file=log,
                    )
                    raise
                except smtplib.SMTPRecipientsRefused as exc:
                    bad = ", ".join(f"{a} ({c} {server_text(m, settings)})" for a, (c, m) in exc.recipients.items())
                    result.problems.append(f"{p.who}: the mail server refused every recipient: {bad}")
                    continue
                except (smtplib.SMTPException, OSError) as exc:
                    if isinstance(exc, smtplib.SMTPDataError) and 400 <= exc.smtp_code < 600:
                        # this message refused (too big, its content) or put off (4xx: try later): the server reset
                        # the transaction and takes the next one; a probe's one 552 stopped every client after it,
                        # on every rerun, and one 451 the 36 clients after it
                        later = exc.smtp_code < 500
                        result.problems.append(
                            f"{p.who}: the mail server {'put off' if later else 'refused'} the message "
                            f"({server_text(exc, settings)}); not sent"
                            + (" (a rerun sends it)" if later else "")
                            + ", the others go on"
                        )
                        continue
                    lost = isinstance(exc, smtplib.SMTPServerDisconnected | TimeoutError)
                    slow = isinstance(exc, TimeoutError) or "timed out" in str(exc)
                    raise ReportlibError(
                        f"sending {p.who} failed ({server_text(exc, settings)}); "
                        + (
                            "the connection was lost while sending it, so the server may have taken it: it is not "
                            "recorded as sent, and a rerun sends it again (ask its recipients first); "
                            if lost
                            else ""
                        )
                        + (
                            f"the server did not answer within {settings.timeout_s:g} s: for a slow server raise "
                            "REPORTLIB_SMTP_TIMEOUT (seconds); "
                            if slow
                            else ""
                        )
                        + (
                            f"{counted(len(result.sent), 'message')} {noun_for(len(result.sent), 'was', 'were')} "
                            f"sent before it and {noun_for(len(result.sent), 'is', 'are')} recorded in "
                            f"{month_dir / SENT_LOG}"
                            if result.sent
                            else "no message was sent before it"
                        )
                        + "; the reports are untouched"
                    ) from None
                p.delivered = [a for a in p.recipients if a not in (refused or {})]
                for addr, (code, msg) in (refused or {}).items():
                    result.problems.append(
                        f"{p.who}: the mail server refused {addr} ({code} {server_text(msg, settings)})"
                    )
                try:
                    _append_sent(
                        month_dir,
                        {
                            "report": p.report,
                            "client_id": p.client_id,
                            **({"agent_id": p.agent_id} if p.agent_id is not None else {}),
                            "recipients": p.delivered,
                            "to": [a for a in p.delivered if a in p.to],
                            **({"trial": True} if to is not None else {}),  # --to: not the distribution lists
                            "refused": sorted(refused or {}),
                            "subject": p.subject,
                            "message_id": p.message["Message-ID"],
                            "html": p.entry.get("html"),
                            "data_fingerprint": p.entry.get("data_fingerprint"),
                            "attached": list(p.attach),
                            "sent_at": formatdate(localtime=True),
                        },
                    )
                except OSError as exc:  # sent but not recorded: stop before anything else goes out
                    raise ReportlibError(
                        f"{p.who} was sent but could not be recorded in {month_dir / SENT_LOG} "
                        f"({exc.strerror or exc}); nothing more was sent. Add it to the log by "
                        "hand before running again, or it will be sent twice"
                    ) from None
                result.sent.append(p)
        except UsageError:
            raise
        except ReportlibError as exc:  # what went out before the stop is said too (cli: SendingStopped)
            if result.sent or result.written or result.problems:
                raise SendingStopped(str(exc), result) from None
            raise
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.quit()
        result.chart_note = images.reason
    return result
