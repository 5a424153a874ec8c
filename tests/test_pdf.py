"""PDF copies of the monthly pack and the client reviews: printed by Debian's Chromium during `reportlib run`,
published with the HTML, listed in the manifest and index, read back with poppler (pdfinfo, pdftotext,
pdftoppm), and e-mailed as attachments to a real SMTP server (aiosmtpd on loopback).

Browser tests skip with a reason without Chromium or poppler, and fail under REPORTLIB_REQUIRE_BROWSER=1.
Page images land in tests/screenshots/pdf/ (ignored by git) for a person to look at.
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import _reports
import nbformat
import pandas as pd
import pytest
import yaml

from reportlib.cli import main
from reportlib.core.errors import ReportlibError, UsageError
from reportlib.core.months import month_label
from reportlib.core.safety import file_stem, pdf_stamp, stamp_pdf, unspoofed
from reportlib.core.settings import PrintSettings
from reportlib.delivery.mail import attachments_for, verified_pdf
from reportlib.delivery.pdf import (
    PRINT_MARGIN_FLOOR_PX,
    PdfPrinter,
    PrintError,
    find_chromium,
    footer_template,
    printable_width_px,
)
from reportlib.reports.registry import PDF_REPORTS

REQUIRE = os.environ.get("REPORTLIB_REQUIRE_BROWSER") == "1" or bool(os.environ.get("CI"))
SCREENSHOTS = Path(__file__).parent / "screenshots" / "pdf"
MONTH = _reports.SAMPLE_MONTH
CLIENTS = (_reports.MARKUP_CLIENT, _reports.PLAIN_CLIENT)


def _need_browser() -> None:
    missing = []
    if find_chromium() is None:
        missing.append("chromium (apt-get install chromium)")
    if not shutil.which("pdftotext") or not shutil.which("pdftoppm") or not shutil.which("pdfinfo"):
        missing.append("poppler-utils (apt-get install poppler-utils)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package")
    if missing:
        if REQUIRE:
            pytest.fail("missing for the PDF tests: " + ", ".join(missing))
        pytest.skip("missing for the PDF tests: " + ", ".join(missing))


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def _text(pdf: Path, page: int | None = None) -> str:
    args = ["pdftotext", "-enc", "UTF-8"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run([*args, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def _flat(text: str) -> str:
    return " ".join(text.split())


# --- without a browser: settings, registry, stamps, attachments --------------------------------------


def test_registry_marks_the_pack_and_the_client_and_agent_reviews_for_pdf():
    assert PDF_REPORTS == {"monthly_pack", "client_review", "agent_review"}


def test_paper_setting_is_a4_or_letter_and_named_when_wrong():
    assert PrintSettings.from_params({}).paper == "A4"  # the shipped default, parameters/reports.yaml
    assert PrintSettings.from_params({"reports": {"paper": "letter"}}).paper == "Letter"
    with pytest.raises(UsageError, match="reports.paper must be A4 or Letter, got 'A3'"):
        PrintSettings.from_params({"reports": {"paper": "A3"}})
    with pytest.raises(UsageError, match="reports.pdf must be true or false"):
        PrintSettings.from_params({"reports": {"pdf": "yes"}})
    assert PrintSettings.from_params({}).workbooks is True
    assert PrintSettings.from_params({"reports": {"workbooks": False}}).workbooks is False
    with pytest.raises(UsageError, match="reports.workbooks must be true or false, got 'no'"):
        PrintSettings.from_params({"reports": {"workbooks": "no"}})
    # printable widths: 210 - 24 mm and 215.9 - 24 mm at 96 px per inch
    assert printable_width_px("A4") == int(186 / 25.4 * 96) == 702
    assert printable_width_px("Letter") == int(191.9 / 25.4 * 96) == 725


def test_footer_template_escapes_the_label():
    footer = footer_template('Acme <img src=x onerror="alert(1)"> & Co: service review, April 2025')
    assert "<img" not in footer and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; Co" in footer
    assert '<span class="pageNumber"></span>' in footer and '<span class="totalPages"></span>' in footer


def test_pdf_stamp_round_trip_and_refusals():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    import io

    buf = io.BytesIO()
    writer.write(buf)
    plain = buf.getvalue()
    stamped = stamp_pdf(plain, "client_review", "C1", "2025-04")
    assert stamped.startswith(plain)  # an incremental update: the printed bytes are kept
    assert pdf_stamp(stamped) == {"report": "client_review", "client_id": "C1", "month": "2025-04"}
    assert pdf_stamp(plain) is None
    restamped = stamp_pdf(stamped, "client_review", "C2", "2025-04")  # a second update on top of the first
    assert restamped.startswith(stamped) and pdf_stamp(restamped)["client_id"] == "C2"
    assert PdfReader(io.BytesIO(restamped)).metadata["/Producer"] == PdfReader(io.BytesIO(plain)).metadata["/Producer"]
    # not in the form the appended update needs (bytes after %%EOF): pypdf's own incremental writer
    odd = plain + b"% trailing bytes a producer left\n"
    assert pdf_stamp(stamp_pdf(odd, "client_review", "C3", "2025-04"))["client_id"] == "C3"
    assert pdf_stamp(b"%PDF-1.4 not really") is None
    assert pdf_stamp(b"") is None


def test_the_browsers_temporary_files_go_with_it_and_a_dead_ones_with_the_next(tmp_path):
    """A probe: Ctrl-C to the process group while PDFs printed left Chromium's profile (84 KB-1.2 MB) and
    org.chromium.* files in /tmp. The browser's temporary files are made in a folder of the printer's own,
    removed when it closes; one whose printer is gone (killed) is removed when the next printer starts."""
    import tempfile

    _need_browser()
    dead = Path(tempfile.mkdtemp(prefix="reportlib-chromium-"))
    (dead / "owner.json").write_text(json.dumps({"pid": 2**22 + 1, "start": "1"}))  # no such process
    (dead / "playwright_chromiumdev_profile-x").mkdir()
    profiles = set(Path(tempfile.gettempdir()).glob("playwright_chromiumdev_profile-*"))
    page = tmp_path / "p.html"
    page.write_text("<html><body><h1>Hello</h1></body></html>")
    with PdfPrinter() as printer:
        assert printer.print_pdf(page, "label").startswith(b"%PDF")
        own = printer._tmp
        assert own is not None and any(p.name.startswith("playwright_chromiumdev_profile-") for p in own.iterdir())
        assert not dead.exists()
    assert not own.exists()
    assert set(Path(tempfile.gettempdir()).glob("playwright_chromiumdev_profile-*")) <= profiles


def test_pdfs_print_under_a_long_temporary_folder(tmp_path, monkeypatch):
    """A probe: under a TMPDIR of 40 characters or more (macOS's /var/folders/..., a service's or a test's own)
    Chromium would not start ("Socket path too long": its singleton socket lives in its temporary folder, and a
    socket's path holds at most 107 bytes), so every PDF of the run failed. The browser's folder now goes under
    /tmp when the socket would not fit, and is removed with the printer as before."""
    import tempfile

    from reportlib.delivery import pdf

    _need_browser()
    long_tmp = tmp_path / ("t" * 60)
    long_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(long_tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR afresh
    assert pdf.browser_temp_base() != str(long_tmp) and pdf.browser_temp_base("/tmp") == "/tmp"
    page = tmp_path / "p.html"
    page.write_text("<html><body><h1>Hello</h1></body></html>")
    with PdfPrinter() as printer:
        assert printer.print_pdf(page, "label").startswith(b"%PDF")
        own = printer.temp_folder
        assert own is not None and own.parent == Path(pdf.browser_temp_base()) and own.stat().st_mode & 0o777 == 0o700
    assert not own.exists() and not list(long_tmp.iterdir())


def test_attachments_per_audience():
    dist = {
        "executive_reports": ["monthly_pack"],
        "attach": {"executives": ["pdf"], "account_teams": ["html", "pdf"], "default": ["html", "pdf"]},
    }
    assert attachments_for("monthly_pack", dist) == ["pdf"]
    assert attachments_for("client_review", dist) == ["html", "pdf"]
    assert attachments_for("sla", dist) == ["html"]  # no PDF copy of the SLA report: its HTML
    assert attachments_for("client_review", {}) == ["html"]
    assert attachments_for("agent_review", dist) == ["html", "pdf"]  # supervisors: not listed, the default
    assert attachments_for("agent_review", {"attach": {"supervisors": ["pdf"], "default": ["html"]}}) == ["pdf"]


def test_verified_pdf_of_an_agent_review_checks_its_agent(tmp_path):
    """An agent review's PDF is named and stamped by its agent id: another agent's copy is refused."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buf = io.BytesIO()
    writer.write(buf)
    stem = file_stem("agent_review", "A1")
    entry = {"report": "agent_review", "client_id": None, "agent_id": "A1", "pdf": f"{stem}.pdf"}
    (tmp_path / f"{stem}.pdf").write_bytes(stamp_pdf(buf.getvalue(), "agent_review", None, "2025-04", agent_id="A1"))
    assert verified_pdf(tmp_path, entry, "2025-04")[:4] == b"%PDF"
    (tmp_path / f"{stem}.pdf").write_bytes(stamp_pdf(buf.getvalue(), "agent_review", None, "2025-04", agent_id="A2"))
    with pytest.raises(ReportlibError, match="not printed for this report"):
        verified_pdf(tmp_path, entry, "2025-04")


def test_verified_pdf_refuses_a_copy_printed_for_another_client(tmp_path):
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buf = io.BytesIO()
    writer.write(buf)
    other = stamp_pdf(buf.getvalue(), "client_review", "C2", "2025-04")
    stem = file_stem("client_review", "C1")
    (tmp_path / f"{stem}.pdf").write_bytes(other)  # C2's copy put where C1's belongs
    entry = {"report": "client_review", "client_id": "C1", "pdf": f"{stem}.pdf"}
    with pytest.raises(Exception, match="was not printed for this report .*client 'C2'"):
        verified_pdf(tmp_path, entry, "2025-04")
    with pytest.raises(Exception, match="not at"):
        verified_pdf(tmp_path, dict(entry, pdf="../elsewhere.pdf"), "2025-04")
    with pytest.raises(Exception, match="no PDF copy was printed"):
        verified_pdf(tmp_path, dict(entry, pdf=None), "2025-04")
    (tmp_path / f"{stem}.pdf").write_bytes(stamp_pdf(buf.getvalue(), "client_review", "C1", "2025-04"))
    assert pdf_stamp(verified_pdf(tmp_path, entry, "2025-04"))["client_id"] == "C1"


# --- the real reports, printed by `reportlib run` ------------------------------------------------------


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    """`reportlib run` of the monthly pack and two client reviews (one with markup in its name) on the
    small sample, PDFs on A4."""
    _need_browser()
    root = tmp_path_factory.mktemp("pdf")
    data = _reports.make_sample(root / "data")
    out = root / "out"
    code = main(
        [
            "run",
            "--month",
            MONTH,
            "--data",
            str(data),
            "--out",
            str(out),
            "--reports",
            "monthly_pack",
            "--clients",
            ",".join(CLIENTS),
            "--workers",
            "2",
        ]
    )
    assert code == 0
    month_dir = out / MONTH
    manifest = json.loads((month_dir / "manifest.json").read_text())
    return {"dir": month_dir, "data": data, "out": out, "manifest": manifest}


def _entries(month) -> list[dict]:
    return [e for e in month["manifest"]["reports"] if e["report"] in PDF_REPORTS]


def test_pdfs_are_published_stamped_and_listed(month):
    entries = _entries(month)
    assert len(entries) == 1 + len(CLIENTS)
    index = (month["dir"] / "index.html").read_text()
    for e in entries:
        stem = file_stem(e["report"], e["client_id"])
        assert e["status"] == "ok" and e["pdf"] == f"{stem}.pdf"
        data = (month["dir"] / e["pdf"]).read_bytes()
        assert data.startswith(b"%PDF-")
        assert pdf_stamp(data) == {"report": e["report"], "client_id": e["client_id"], "month": MONTH}
        assert f'href="{stem}.pdf"' in index
    assert not list(month["out"].glob(".*.run-*"))  # nothing half-written left behind


def _page_items(page_html: str) -> dict[str, list[str]]:
    """What the HTML page shows that the PDF must show too: chart titles, table captions, header cells and
    the first column's cells."""
    charts = []
    for block in re.findall(
        r"<script[^>]*application/vnd\.reportlib\.plotly\+json[^>]*>(.*?)</script>", page_html, re.S
    ):
        title = (json.loads(block).get("layout") or {}).get("title")
        title = title.get("text") if isinstance(title, dict) else title
        if title:
            charts.append(_flat(html.unescape(re.sub(r"<[^>]+>", " ", str(title)))))
    tables = re.findall(r'<table class="rl-table[^"]*">(.*?)</table>', page_html, re.S)
    headers, cells, captions = [], [], []
    for t in tables:
        captions += [
            _flat(html.unescape(re.sub(r"<[^>]+>", "", c)))
            for c in re.findall(r"<caption[^>]*>(.*?)</caption>", t, re.S)
        ]
        thead = re.search(r"<thead>(.*?)</thead>", t, re.S)
        if thead:
            headers += [
                _flat(html.unescape(re.sub(r"<[^>]+>", "", h)))
                for h in re.findall(r"<th[^>]*>(.*?)</th>", thead.group(1), re.S)
            ]
        body = re.search(r"<tbody>(.*?)</tbody>", t, re.S)
        if body:
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S):
                first = re.search(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
                if first:
                    cells.append(_flat(html.unescape(re.sub(r"<[^>]+>", "", first.group(1)))))
    return {"charts": charts, "tables": tables, "captions": captions, "headers": headers, "cells": cells}


def _found(item: str, squeezed: str) -> bool:
    """`item` is in the PDF's text (spaces ignored), whole or wrapped onto two lines of its table cell
    (pdftotext may print the second line of a cell after the row's other cells)."""
    flat = item.replace(" ", "")
    if flat in squeezed:
        return True
    return any(flat[:k] in squeezed and flat[k:] in squeezed for k in range(3, len(flat) - 2))


def test_each_pdf_has_the_footer_on_every_page_and_every_chart_and_table(month):
    label = month_label(MONTH)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for e in _entries(month):
        pdf = month["dir"] / e["pdf"]
        n = _pages(pdf)
        assert 2 <= n <= 20, (e["pdf"], n)
        for i in range(1, n + 1):
            page = _flat(_text(pdf, i))
            assert f"Page {i} of {n}" in page, (e["pdf"], i, page[-200:])
            assert label in page, (e["pdf"], i)
        text = _flat(_text(pdf))
        items = _page_items((month["dir"] / e["html"]).read_text())
        assert len(items["charts"]) >= 3 and len(items["tables"]) >= 1, e["pdf"]
        squeezed = text.replace(" ", "")
        for what in ("charts", "captions", "headers", "cells"):
            for item in items[what]:
                assert _found(item, squeezed), (e["pdf"], what, item)
        assert "Data quality" in text and "Run facts" in text
        # the page images, for a person to look at
        stem = SCREENSHOTS / Path(e["pdf"]).stem
        subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(stem)], check=True)
        assert len(list(SCREENSHOTS.glob(f"{stem.name}-*.png"))) == n


def test_a_client_pdf_holds_that_client_alone(month):
    """Each client's PDF names that client alone, its name printed as text: markup and all, a bidirectional
    control or line separator shown as a mark (safety.unspoofed; a probe's "Evil\u202egnp.exe Corp" read
    "exe.png" in the title and every page's footer)."""
    clients = pd.read_csv(month["data"] / "clients.csv", dtype=str, keep_default_na=False)
    names = {c: unspoofed(n) for c, n in zip(clients["client_id"], clients["client_name"])}
    for cid in CLIENTS:
        e = next(x for x in _entries(month) if x["client_id"] == cid)
        text = _flat(_text(month["dir"] / e["pdf"]))
        assert not re.search("[\u202a-\u202e\u2066-\u2069\u2028\u2029]", text), cid
        assert _flat(names[cid]) in text  # the name, markup and all, printed as text
        for other, name in names.items():
            if other != cid:
                assert _flat(name) not in text, (cid, other)
                assert f"client_id = {other}" not in text


def test_one_tab_prints_page_after_page_as_fresh_tabs_would(month, tmp_path):
    """The printer puts each page into the tab the previous one was printed in (delivery/pdf.py): each PDF
    has the text and pages a fresh browser prints for that page, and nothing of the page before it."""
    clients = pd.read_csv(month["data"] / "clients.csv", dtype=str, keep_default_na=False)
    names = dict(zip(clients["client_id"], clients["client_name"]))
    reviews = [month["dir"] / f"{file_stem('client_review', c)}.html" for c in CLIENTS]
    order = [reviews[0], reviews[1], month["dir"] / "monthly_pack.html", reviews[0]]
    with PdfPrinter() as printer:
        printed = [printer.print_pdf(page, "label", "A4") for page in order]
        assert printer.fresh_loads == 1  # one page loaded, three put into its tab
    for i, (page, data) in enumerate(zip(order, printed)):
        with PdfPrinter() as fresh:
            alone = fresh.print_pdf(page, "label", "A4")
        (tmp_path / f"{i}-tab.pdf").write_bytes(data)
        (tmp_path / f"{i}-fresh.pdf").write_bytes(alone)
        assert _pages(tmp_path / f"{i}-tab.pdf") == _pages(tmp_path / f"{i}-fresh.pdf")
        assert _text(tmp_path / f"{i}-tab.pdf") == _text(tmp_path / f"{i}-fresh.pdf"), page.name
        # the same picture, pixel for pixel on every printed page: nothing of the page before (a chart's margins,
        # a table's zoom) changes how a page put into the open tab is drawn. Plotly.react into the previous page's
        # chart elements was tried (~40% less drawing) and failed this: a pareto chart kept another margin.
        assert _images(tmp_path / f"{i}-tab.pdf") == _images(tmp_path / f"{i}-fresh.pdf"), page.name
    second = _flat(_text(tmp_path / "1-tab.pdf"))  # CLIENTS[1]'s review, printed after CLIENTS[0]'s
    assert _flat(names[CLIENTS[1]]) in second and _flat(names[CLIENTS[0]]) not in second


def _images(pdf: Path) -> list[bytes]:
    """Every page of `pdf` as raw pixels (pdftoppm, 60 dpi)."""
    out = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-r", "60", str(pdf), str(out)], check=True)
    return [f.read_bytes() for f in sorted(pdf.parent.glob(f"{out.name}-*.ppm"))]


def test_a_page_of_another_frame_or_after_a_failure_is_loaded_afresh(month, tmp_path):
    _need_browser()
    broken = _page_with_a_chart_that_fails(tmp_path / "broken.html")  # another frame: no stylesheet
    reviews = [month["dir"] / f"{file_stem('client_review', c)}.html" for c in CLIENTS]
    with PdfPrinter() as printer:
        printer.print_pdf(reviews[0], "label", "A4")
        with pytest.raises(PrintError, match="1 chart"):
            printer.print_pdf(broken, "label", "A4")
        assert printer.fresh_loads == 2
        after = printer.print_pdf(reviews[1], "label", "A4")
        assert printer.fresh_loads == 3  # the failed page's tab was closed
    with PdfPrinter() as fresh:
        alone = fresh.print_pdf(reviews[1], "label", "A4")
    (tmp_path / "after.pdf").write_bytes(after)
    (tmp_path / "alone.pdf").write_bytes(alone)
    assert _text(tmp_path / "after.pdf") == _text(tmp_path / "alone.pdf")


_MARGINS = """() => Array.from(document.querySelectorAll('.rl-plot')).map(gd => {
  const s = gd._fullLayout._size;
  return {title: (gd.layout.title && gd.layout.title.text) || '', l: s.l, r: s.r, t: s.t, b: s.b,
          category: gd._fullLayout.xaxis.type === 'category'};
})"""


def test_on_paper_each_chart_starts_from_the_margin_floor_and_still_grows(month):
    """Printed, every chart's margins are at least PRINT_MARGIN_FLOOR_PX (so the month charts are drawn once,
    not drawn, measured and drawn again), a chart whose labels need more room still gets it (the reasons'
    turned category labels), and on screen the same page keeps the template's margins."""
    from playwright.sync_api import sync_playwright

    review = month["dir"] / f"{file_stem('client_review', CLIENTS[0])}.html"
    with PdfPrinter() as printer:
        printer.print_pdf(review, "label", "A4")
        printed = printer._page.evaluate(_MARGINS)
    assert len(printed) >= 4
    for chart in printed:
        assert all(chart[k] >= v for k, v in PRINT_MARGIN_FLOOR_PX.items()), chart
    grown = [c for c in printed if c["category"]]
    assert grown and all(c["b"] > PRINT_MARGIN_FLOOR_PX["b"] for c in grown), grown  # long labels: more room
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(review.resolve().as_uri())
            page.wait_for_function(
                "() => Array.from(document.querySelectorAll('.rl-plot')).every(el => el.getAttribute('data-rl-drawn'))"
            )
            screen = page.evaluate(_MARGINS)
        finally:
            browser.close()
    assert [c["title"] for c in screen] == [c["title"] for c in printed]
    assert any(c["b"] < PRINT_MARGIN_FLOOR_PX["b"] for c in screen), screen  # the floor is for paper alone


def test_charts_and_tables_fit_the_printable_width(month):
    """Laid out as on paper (print media, printable width): no chart and no table wider than the page."""
    from playwright.sync_api import sync_playwright

    width = printable_width_px("A4")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=["--no-sandbox"])
        try:
            for e in _entries(month):
                page = browser.new_page(viewport={"width": width, "height": 1000})
                page.emulate_media(media="print")
                page.goto((month["dir"] / e["html"]).resolve().as_uri())
                page.wait_for_function(
                    "() => Array.from(document.querySelectorAll('.rl-plot')).every(el => el.getAttribute('data-rl-drawn'))"
                )
                page.evaluate("() => window.rlFitForPrint()")
                sizes = page.evaluate(
                    """() => ({
                      plots: Array.from(document.querySelectorAll('.rl-plot svg.main-svg'))
                        .map(s => s.getBoundingClientRect().right),
                      tables: Array.from(document.querySelectorAll('table.rl-table'))
                        .map(t => t.getBoundingClientRect().right),
                      modebars: Array.from(document.querySelectorAll('.modebar'))
                        .filter(m => getComputedStyle(m).display !== 'none').length,
                      body: document.body.getBoundingClientRect().right })"""
                )
                assert sizes["plots"] and max(sizes["plots"]) <= width + 1, (e["pdf"], sizes)
                assert sizes["tables"] and max(sizes["tables"]) <= width + 1, (e["pdf"], sizes)
                assert sizes["modebars"] == 0
                page.close()
        finally:
            browser.close()


def test_letter_paper_from_parameters(month, tmp_path):
    """reports.paper: Letter prints on 612 x 792 pt pages."""
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump({"reports": {"paper": "Letter"}}))
    out = tmp_path / "out"
    args = ["run", "--month", MONTH, "--data", str(month["data"]), "--out", str(out), "--params", str(params)]
    assert main([*args, "--reports", "client_review", "--clients", CLIENTS[1], "--workers", "1"]) == 0
    pdf = out / MONTH / f"{file_stem('client_review', CLIENTS[1])}.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+612(\.\d+)? x 792(\.\d+)? pts \(letter\)", info), info


# --- a failed PDF never replaces a good one ------------------------------------------------------------

PARAMS_CELL = "month = None\ndata = None\nparams_file = None\nclient_id = None\nteam = None"
BROKEN_FIGURE = (
    "from IPython.display import HTML, display\n"
    'display(HTML(\'<div class="rl-figure"><div class="rl-plot" id="rl-fig-broken" style="height:300px">'
    '</div><script type="application/vnd.reportlib.plotly+json" data-target="rl-fig-broken">'
    '{"data": [{"type": "bar", "x": [1], "y": [2]}], "layout": {}, "config": {NOT JSON</script></div>\'))'
)


def _tiny(path: Path, name: str, broken: bool = False) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(PARAMS_CELL)
    params.metadata["tags"] = ["parameters"]
    body = (
        "from pathlib import Path\nfrom IPython.display import HTML, display\n"
        "token = Path(data, 'token.txt').read_text().strip()\n"
        f"display(HTML(f'<p>REPORT {name} token={{token}}</p>'))"
    )
    nb.cells = [params, nbformat.v4.new_code_cell(body)] + (
        [nbformat.v4.new_code_cell(BROKEN_FIGURE)] if broken else []
    )
    nbformat.write(nb, path)


def test_a_pdf_that_cannot_be_printed_fails_its_report_and_keeps_the_good_html_and_pdf(tmp_path, capsys):
    _need_browser()
    from test_run import _data

    nbs = tmp_path / "nbs"
    nbs.mkdir()
    for name in ("monthly_pack", "client_review"):
        _tiny(nbs / f"{name}.ipynb", name)
    data = _data(tmp_path / "data", "first")
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"data": str(data), "schedule": {"notebooks": str(nbs), "timeout_s": 60}}))
    args = ["run", "--month", "2026-03", "--params", str(params), "--out", str(tmp_path / "out"), "--workers", "1"]
    args += ["--reports", "monthly_pack,client_review", "--clients", "C1"]
    month_dir = tmp_path / "out" / "2026-03"
    assert main(args) == 0
    good_html = (month_dir / "monthly_pack.html").read_bytes()
    good_pdf = (month_dir / "monthly_pack.pdf").read_bytes()
    assert "REPORT monthly_pack token=first" in _text(month_dir / "monthly_pack.pdf")

    (data / "token.txt").write_text("second")
    _tiny(nbs / "monthly_pack.ipynb", "monthly_pack", broken=True)  # its chart cannot be drawn
    capsys.readouterr()
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "printing the PDF failed: 1 chart of the page could not be drawn" in err
    assert (month_dir / "monthly_pack.html").read_bytes() == good_html
    assert (month_dir / "monthly_pack.pdf").read_bytes() == good_pdf
    client_pdf = month_dir / f"{file_stem('client_review', 'C1')}.pdf"
    assert "REPORT client_review token=second" in _text(client_pdf)  # the other report went on
    manifest = json.loads((month_dir / "manifest.json").read_text())
    pack = next(e for e in manifest["reports"] if e["report"] == "monthly_pack")
    assert pack["status"] == "failed" and pack["pdf"] is None and pack["previous"]["pdf"] == "monthly_pack.pdf"
    assert not [p for p in month_dir.iterdir() if p.name.endswith(".tmp")]


def _page_with_a_chart_that_fails(page: Path) -> Path:
    """A page whose one chart is a pie, a trace type the partial plotly.js does not hold."""
    from reportlib.reports.render import plotly_js

    page.write_text(
        "<!DOCTYPE html><html><body><div class='rl-plot' id='a' style='height:200px'></div>"
        "<script type='application/vnd.reportlib.plotly+json' data-target='a'>"
        '{"data":[{"type":"pie","values":[1,2]}],"layout":{}}</script>'
        f"<script>{plotly_js(partial=True)}</script><script>"
        + (Path(__file__).parents[1] / "reportlib/reports/templates/reportlib_html/report.js").read_text()
        + "</script></body></html>"
    )
    return page


def test_printer_refuses_a_page_whose_chart_fails(tmp_path):
    _need_browser()
    page = _page_with_a_chart_that_fails(tmp_path / "p.html")
    with PdfPrinter() as printer, pytest.raises(PrintError, match="1 chart"):
        printer.print_pdf(page, "x", "A4")


# --- e-mail: the PDF arrives as an attachment -----------------------------------------------------------


def test_email_attaches_the_pdf_to_a_real_smtp_server(month, monkeypatch, tmp_path):
    from aiosmtpd.controller import Controller
    from test_mail import _free_port, _Inbox

    inbox = _Inbox()
    port = _free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        for k in list(os.environ):
            if k.startswith("REPORTLIB_SMTP_"):
                monkeypatch.delenv(k)
        monkeypatch.setenv("REPORTLIB_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("REPORTLIB_SMTP_PORT", str(port))
        monkeypatch.setenv("REPORTLIB_SMTP_TLS", "none")
        monkeypatch.setenv("REPORTLIB_SMTP_FROM", "reports@acme.test")
        out = tmp_path / "out"
        shutil.copytree(month["out"], out)
        params = tmp_path / "params.yaml"
        params.write_text(
            yaml.safe_dump(
                {
                    "distribution": {
                        "executives": ["coo@acme.test"],
                        "account_teams": {c: [f"team-{c.lower()}@acme.test"] for c in CLIENTS},
                        "account_team_default": [],
                        "attach": {"executives": ["html", "pdf"], "account_teams": ["pdf"]},
                    }
                }
            )
        )
        code = main(["email", "--month", MONTH, "--out", str(out), "--params", str(params)])
        assert code == 0
    finally:
        ctl.stop()
    got = {tuple(rcpt): msg for rcpt, msg in inbox.messages}
    assert set(got) == {("coo@acme.test",)} | {(f"team-{c.lower()}@acme.test",) for c in CLIENTS}
    pack = got[("coo@acme.test",)]
    files = {a.get_filename(): a for a in pack.iter_attachments()}
    assert set(files) == {f"monthly_pack-{MONTH}.html", f"monthly_pack-{MONTH}.pdf"}
    pdf = files[f"monthly_pack-{MONTH}.pdf"]
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_content() == (out / MONTH / "monthly_pack.pdf").read_bytes()  # byte for byte
    assert f"monthly_pack-{MONTH}.pdf" in pack.get_body(preferencelist=("plain",)).get_content()
    for c in CLIENTS:
        msg = got[(f"team-{c.lower()}@acme.test",)]
        stem = file_stem("client_review", c)
        atts = list(msg.iter_attachments())
        assert [a.get_filename() for a in atts] == [f"{stem}-{MONTH}.pdf"]  # account teams: the PDF alone
        assert pdf_stamp(atts[0].get_content())["client_id"] == c
    sent = json.loads((out / MONTH / "sent-log.json").read_text())["sent"]
    assert {tuple(r["attached"]) for r in sent} == {("html", "pdf"), ("pdf",)}
    assert email.policy  # the messages parsed with the modern policy (test_mail._Inbox)
