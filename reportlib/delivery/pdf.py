"""Rendered report pages printed to PDF by headless Chromium.

Debian's Chromium (``/usr/bin/chromium``, or ``$REPORTLIB_CHROMIUM``) driven by playwright with
``executable_path`` (no browser download), ``--no-sandbox``, headless, with name resolution cut off so a
page can load nothing from the network. One browser is started per process and kept warm
(`PdfPrinter`) with one open tab: the first page is loaded into it, and every later page made from the same
frame (the same head, plotly.js and report.js: every page `render.py` writes) is put into that tab in place
of the previous one and drawn by the plotly.js already parsed there — a fifth of the CPU of a fresh tab,
which parses 1.2 MB of plotly.js and starts a renderer process per page (docs/benchmarks.md); a page with
another frame, or after a page that failed, is loaded afresh. Each page is laid out at the paper's printable width with the print stylesheet
(templates/reportlib_html/report.css, ``@media print``), its charts drawn by its own plotly.js, wide
tables scaled to the page width (``rlFitForPrint`` in report.js), then printed with a footer naming the
report and month and "Page N of M" on every page.

`reportlib run` prints the reports marked ``pdf`` in the registry (delivery/run.py) into its temporary
folder, stamps the PDF (`core.safety.stamp_pdf`) and publishes it with the HTML; a failed print fails
that report, so the previous good HTML and PDF stay in place.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from reportlib.core.errors import ReportlibError
from reportlib.core.safety import unspoofed
from reportlib.core.words import counted

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
# Page margins in millimetres; the bottom one holds the footer.
MARGINS_MM = {"top": 12.0, "bottom": 16.0, "left": 12.0, "right": 12.0}
PAPER_MM = {"A4": (210.0, 297.0), "Letter": (215.9, 279.4)}
CSS_PX_PER_MM = 96 / 25.4  # CSS pixels are 1/96 inch
DEFAULT_TIMEOUT_S = 120.0
# The least room, in CSS pixels, each chart's margins start with on paper (report.js, `withFloor`). plotly.js
# draws a chart, measures its tick labels and draws it all again when they need more than the margins give
# (axes' automargin): that second drawing was ~0.1 s of Chromium's ~0.45 s of CPU per client review. Measured
# on this project's charts at the A4 printable width (703 px) with Debian's fonts, not on any one data set:
# 13 months on a date axis turn their labels 30 degrees and need 67 px below and 35 px right, share and count
# tick labels ~58 px left (the template gives 56, 24, 48). A chart that needs more still grows its margins
# (drawn twice, as before); one that needs less has that much more white space on paper, not on screen.
PRINT_MARGIN_FLOOR_PX = {"l": 60, "r": 36, "b": 68}

# True once every figure block of the page has been drawn or has failed (report.js sets data-rl-drawn).
_ALL_DRAWN = """() => Array.from(document.querySelectorAll('.rl-plot')).every(el => el.getAttribute('data-rl-drawn'))"""
_FAILED = """() => Array.from(document.querySelectorAll('.rl-plot'))
  .filter(el => el.getAttribute('data-rl-drawn') === 'failed').length"""

# The frame of a page's HTML text: its head without the title and meta elements (the page's stamp, charset),
# the html element's attributes and every script that runs (plotly.js, report.js), or "" when a script that
# runs is not a direct child of the body (it might act on the page's own elements: always loaded afresh).
_FRAME_JS = """
const rlRuns = n => n.nodeName === 'SCRIPT' && (!n.type || /javascript|module/i.test(n.type));
const rlFrame = doc => {
  const scripts = Array.from(doc.querySelectorAll('script')).filter(rlRuns);
  if (scripts.some(n => n.parentNode !== doc.body)) { return ''; }
  const head = doc.head.cloneNode(true);
  head.querySelectorAll('title, meta').forEach(t => t.remove());
  return [head.innerHTML, Array.from(doc.documentElement.attributes).map(a => a.name + '=' + a.value).join(' ')]
    .concat(scripts.map(n => n.textContent)).join('\u0000');
};
"""
# After a fresh load: remember the frame of the page's text. Returns whether it can take later pages.
_REMEMBER = (
    "(html) => {"
    + _FRAME_JS
    + """
  window.__rlFrame = rlFrame(new DOMParser().parseFromString(html, 'text/html'));
  return window.__rlFrame !== '' && typeof window.rlDraw === 'function';
}"""
)
# Put a page with the same frame in place of the open one and draw its charts; false when the frame differs.
# Nothing of the previous page stays: its charts are purged, the body and its attributes and the title
# replaced, and the head's title and meta elements (scripts that run are not copied: the frame's own already ran).
_SWAP = (
    "(html) => {"
    + _FRAME_JS
    + """
  const doc = new DOMParser().parseFromString(html, 'text/html');
  if (!window.__rlFrame || rlFrame(doc) !== window.__rlFrame || typeof window.rlDraw !== 'function') { return false; }
  if (window.Plotly) {
    document.querySelectorAll('.rl-plot').forEach(el => { try { Plotly.purge(el); } catch (e) { /* gone */ } });
  }
  document.head.querySelectorAll('title, meta').forEach(n => n.remove());
  document.head.prepend(...Array.from(doc.head.querySelectorAll('title, meta')).map(n => document.adoptNode(n)));
  Array.from(document.body.attributes).forEach(a => document.body.removeAttribute(a.name));
  Array.from(doc.body.attributes).forEach(a => document.body.setAttribute(a.name, a.value));
  const nodes = Array.from(doc.body.childNodes).filter(n => !rlRuns(n));
  document.body.replaceChildren(...nodes.map(n => document.adoptNode(n)));
  window.scrollTo(0, 0);
  window.rlDraw();
  return true;
}"""
)


class PrintError(ReportlibError):
    """A page could not be printed to PDF (no browser, a chart that failed to draw, a time-out)."""


@functools.lru_cache(maxsize=1)
def _markers() -> tuple[tuple[str, str], ...]:
    from reportlib.reports.render import shared_scripts

    return tuple(
        (script, f"/*reportlib shared script {hashlib.sha256(script.encode()).hexdigest()[:16]}*/")
        for script in shared_scripts()
    )


def reduced_page(text: str) -> str:
    """The page's HTML with each script that every rendered page inlines (render.shared_scripts: plotly.js,
    report.js) replaced by a short comment naming it by its hash: what the printer sends to the open tab
    instead of 1.2 MB of plotly.js per page. Pages that differ differ here too (another bundle stays whole)."""
    for script, marker in _markers():
        text = text.replace(script, marker, 1)
    return text


def find_chromium() -> str | None:
    """Path of a Chromium binary: $REPORTLIB_CHROMIUM, then Debian's and other usual places; None if none."""
    env = os.environ.get("REPORTLIB_CHROMIUM")
    if env:
        return env if Path(env).is_file() and os.access(env, os.X_OK) else None
    for c in CHROMIUM_CANDIDATES:
        if Path(c).is_file() and os.access(c, os.X_OK):
            return c
    return shutil.which("chromium")


def printable_width_px(paper: str) -> int:
    """The width of the paper inside the left and right margins, in CSS pixels (A4: 703)."""
    width_mm = PAPER_MM[paper][0] - MARGINS_MM["left"] - MARGINS_MM["right"]
    return int(width_mm * CSS_PX_PER_MM)


def footer_template(label: str) -> str:
    """The footer Chromium prints on every page: `label` (escaped: it may hold a client's name) on the
    left, "Page N of M" on the right (Chromium fills the pageNumber and totalPages spans)."""
    return (
        '<div style="width:100%;margin:0 12mm;font-family:system-ui,Arial,sans-serif;font-size:8px;'
        'color:#5b6475;display:flex;justify-content:space-between;-webkit-print-color-adjust:exact;">'
        f'<span class="rl-footer-label">{html.escape(unspoofed(label), quote=True)}</span>'
        '<span>Page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>'
    )


class PdfPrinter:
    """One headless Chromium, started on first use and kept for every later page; use as a context manager.

    `print_pdf(html_path, label, paper)` returns the PDF's bytes; PrintError says why it could not.
    """

    def __init__(self, executable: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S):
        self.executable = executable or find_chromium()
        self.timeout_ms = float(timeout_s) * 1000
        self._pw: Any = None
        self._browser: Any = None
        self._page: Any = None  # the open tab, laid out for `_paper`
        self._paper: str | None = None
        self._errors: list[str] = []
        self._reusable = False  # the open tab holds a page whose frame can take the next one
        self._tmp: Path | None = None  # the browser's own temporary folder (its profile), removed with it
        self.fresh_loads = 0  # pages loaded into a tab afresh (the others were put into the open tab)

    @property
    def temp_folder(self) -> Path | None:
        """The browser's own temporary folder while it runs (None before its start and after close): a worker
        stopped by a signal, which skips close, removes it itself."""
        return self._tmp

    @property
    def available(self) -> bool:
        """True when a Chromium binary was found."""
        return self.executable is not None

    def start(self) -> None:
        """Start the browser (Playwright driving the Chromium binary); PrintError when there is none or it cannot
        start. A run's worker starts it while warming up, so that its first PDF does not wait for it."""
        if self.executable is None:
            raise PrintError("no Chromium to print PDFs with (apt-get install chromium, or set reports.pdf: false)")
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            raise PrintError("the playwright package is not installed (pip install playwright)") from None
        from reportlib.core.safety import owned_temp_folder

        # the driver makes the browser's profile in its TMPDIR: our own folder, removed on close and, when Ctrl-C
        # reached the whole process group first (a probe: profiles of 84 KB-1.2 MB left in /tmp), by a later start
        self._tmp = owned_temp_folder(BROWSER_TMP_PREFIX, browser_temp_base())
        before = os.environ.get("TMPDIR")
        os.environ["TMPDIR"] = str(self._tmp)
        try:
            self._pw = sync_playwright().start()
            self._browser = self._pw.chromium.launch(
                executable_path=self.executable,
                headless=True,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-extensions",
                    "--mute-audio",
                    "--host-resolver-rules=MAP * ~NOTFOUND",  # a page can reach no host
                ],
                timeout=self.timeout_ms,
            )
        except Exception as exc:  # noqa: BLE001 - any launch failure: one line saying why
            self.close()
            raise PrintError(
                f"Chromium ({self.executable}) could not be started: {_one_line(exc)} "
                "(fix it, or set reports.pdf: false to render the HTML alone)"
            ) from None
        finally:
            if before is None:
                os.environ.pop("TMPDIR", None)
            else:
                os.environ["TMPDIR"] = before

    def _tab(self, paper: str) -> Any:
        """The open tab, laid out at `paper`'s printable width with print media (a new one for a new paper)."""
        if self._browser is None:
            self.start()
        if self._page is None or self._paper != paper:
            self._close_tab()
            self._page = self._browser.new_page(
                viewport={"width": printable_width_px(paper), "height": 1000}, java_script_enabled=True
            )
            self._page.on("pageerror", lambda exc: self._errors.append(str(exc)))
            # before any script of every page loaded into the tab (report.js reads it when it draws)
            self._page.add_init_script(f"window.rlPrintMargins = {json.dumps(PRINT_MARGIN_FLOOR_PX)};")
            self._page.emulate_media(media="print")  # lay out (and draw the charts) as on paper
            self._paper = paper
            self._reusable = False
        return self._page

    def print_pdf(self, html_path: str | Path, label: str, paper: str = "A4") -> bytes:
        """The page at `html_path` printed on `paper` (A4 or Letter) with `label` and page numbers in the footer.

        PrintError when a chart fails to draw, the page raises a script error, or a step times out.
        """
        if paper not in PAPER_MM:
            raise PrintError(f"unknown paper size {paper!r} (A4 or Letter)")
        try:
            page = self._tab(paper)
            self._errors.clear()
            text = reduced_page(Path(html_path).read_text(encoding="utf-8"))
            if not (self._reusable and page.evaluate(_SWAP, text)):
                self._reusable = False
                page.goto(Path(html_path).resolve().as_uri(), wait_until="load", timeout=self.timeout_ms)
                self.fresh_loads += 1
                self._reusable = bool(page.evaluate(_REMEMBER, text))
            page.wait_for_function(_ALL_DRAWN, timeout=self.timeout_ms)
            failed = page.evaluate(_FAILED)
            if failed:
                raise PrintError(f"{counted(failed, 'chart')} of the page could not be drawn")
            if self._errors:
                raise PrintError(f"the page raised a script error: {_one_line(self._errors[0])}")
            page.evaluate("() => window.rlFitForPrint && window.rlFitForPrint()")
            return page.pdf(
                format=paper,
                print_background=True,
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=footer_template(label),
                margin={k: f"{v}mm" for k, v in MARGINS_MM.items()},
                prefer_css_page_size=False,
                outline=True,
                tagged=True,
            )
        except PrintError:
            self._close_tab()  # the next page starts from a fresh tab, not from a page that failed
            raise
        except Exception as exc:  # noqa: BLE001 - time-outs, a browser that died: this page fails
            self.close()  # the next page gets a fresh browser
            raise PrintError(f"printing the PDF failed: {_one_line(exc)}") from None

    def _close_tab(self) -> None:
        page, self._page, self._paper, self._reusable = self._page, None, None, False
        if page is not None:
            try:
                page.close()
            except Exception:  # noqa: BLE001,S110 - the browser may be gone already
                pass

    def close(self) -> None:
        """Stop the browser and playwright's driver."""
        self._close_tab()
        browser, pw, self._browser, self._pw = self._browser, self._pw, None, None
        for stop in (getattr(browser, "close", None), getattr(pw, "stop", None)):
            if stop is None:
                continue
            try:
                stop()
            except Exception:  # noqa: BLE001,S110 - closing what may already be gone
                pass
        tmp, self._tmp = self._tmp, None
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    def __enter__(self) -> PdfPrinter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


BROWSER_TMP_PREFIX = "reportlib-chromium-"
# Chromium binds a socket at <its TMPDIR>/org.chromium.Chromium.XXXXXX/SingletonSocket, and a socket's path holds at
# most 107 bytes (sun_path, less its NUL): under a long temporary folder (macOS's /var/folders/..., a service's or
# a test's own) it would not start at all ("Socket path too long"; a probe's run under a 50-character TMPDIR)
SOCKET_PATH_MAX = 107
_SOCKET_TAIL = len("/org.chromium.Chromium.XXXXXX/SingletonSocket")
_SHORT_BASES = ("/tmp", "/var/tmp", "/dev/shm")


def browser_temp_base(base: str | None = None) -> str:
    """Where the browser's own temporary folder goes: `base` (default: the temporary folder) when Chromium's socket
    path under it fits SOCKET_PATH_MAX, else the first of /tmp, /var/tmp and /dev/shm that is a writable folder
    and fits (the folder is private, 0700, wherever it is), else `base` (and the browser says why it failed)."""
    base = base or tempfile.gettempdir()

    def fits(folder: str) -> bool:
        return len(os.fsencode(folder)) + len(f"/{BROWSER_TMP_PREFIX}XXXXXXXX") + _SOCKET_TAIL <= SOCKET_PATH_MAX

    if fits(base):
        return base
    short = (b for b in _SHORT_BASES if fits(b) and os.path.isdir(b) and os.access(b, os.W_OK | os.X_OK))
    return next(short, base)


def _one_line(exc: object, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
