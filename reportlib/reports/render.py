"""Executed report notebook -> one self-contained HTML page.

The page shows outputs only (no code, prompts, streams, warnings, errors or stray reprs), one theme
(templates/reportlib_html/report.css), a table of contents, plotly.js inlined exactly once (the vendored
partial bundle of the trace types the reports draw when the page needs no other, else the full one), no URL
loaded from the network (the lab template's require.js, MathJax and widget CDN blocks are not used),
and the data-quality note and run facts at the end.

Figures are written by ``reportlib.reports.views`` as inert JSON blocks that the page's one script draws, so
no figure depends on another cell (the plotly ``notebook`` renderer's trap), and figures that arrive
only as plotly's mime type (the ``plotly_mimetype`` trap, which nbconvert drops) are converted.
"""

from __future__ import annotations

import copy
import datetime as _dt
import functools
import html
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat

from reportlib.core.errors import ReportlibError, UsageError
from reportlib.core.months import month_label
from reportlib.core.safety import unspoofed

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "reportlib_html"

# --- preparing the notebook ------------------------------------------------------------------------

DROP_TAGS = {"parameters", "injected-parameters", "remove", "remove-cell", "remove_cell", "hide", "hide-cell"}
KEEP_MIMES = ("text/html", "image/png", "image/jpeg", "image/svg+xml", "text/markdown")


def _plotly_html(bundle: Mapping[str, Any]) -> str:
    from reportlib.reports.views import figure_html

    return figure_html(bundle["application/vnd.plotly.v1+json"])


def _clean_output(output: Any) -> Any | None:
    """The output to keep (maybe converted) or None to drop it."""
    from reportlib.reports.views import FACTS_MIME, PLOTLY_MIME

    if output.get("output_type") not in ("display_data", "execute_result"):
        return None  # streams (prints, warnings, logs) and errors never reach the page
    data = output.get("data", {})
    if FACTS_MIME in data or "application/vnd.jupyter.widget-view+json" in data:
        return None
    html_text = data.get("text/html")
    if PLOTLY_MIME in data and (html_text is None or "rl-plot" not in html_text):
        new = copy.deepcopy(output)
        new["data"] = {"text/html": _plotly_html(data)}
        return new
    if html_text is not None and ("plotly.js v" in html_text or "require.config" in html_text):
        return None  # a stray plotly.js bundle or loader from init_notebook_mode: the page inlines its own
    if output.get("output_type") == "execute_result":
        return None  # a bare expression's repr (a DataFrame left at the end of a cell): not part of the report
    if not any(m in data for m in KEEP_MIMES):
        return None  # text/plain-only displays, JavaScript, LaTeX
    new = copy.deepcopy(output)
    new["data"] = {m: data[m] for m in KEEP_MIMES if m in data}
    new["output_type"] = "display_data"
    new.pop("execution_count", None)
    return new


def notebook_facts(nb: Any) -> dict:
    """The run facts an executed notebook recorded (ReportContext.finish: report, parameters, the data's span
    and fingerprint...), the last if several; {} when it recorded none."""
    from reportlib.reports.views import FACTS_MIME

    facts: dict = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") in ("display_data", "execute_result") and FACTS_MIME in out.get("data", {}):
                facts = dict(out["data"][FACTS_MIME])
    return facts


def prepare(nb: Any) -> tuple[Any, dict]:
    """A cleaned copy of an executed notebook and the run facts found in it (notebook_facts)."""
    facts = notebook_facts(nb)
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & DROP_TAGS or cell.cell_type == "raw":
            continue
        if cell.cell_type == "markdown":
            if cell.source.strip():
                cells.append(cell)
            continue
        if cell.cell_type != "code":
            continue
        outs = [o for o in (_clean_output(o) for o in cell.get("outputs", [])) if o is not None]
        if outs:
            cell.outputs = outs
            cell.source = ""
            cells.append(cell)
    nb.cells = _drop_empty_sections(cells)
    nb.metadata.pop("widgets", None)
    return nb, facts


def _heading_level(cell: Any) -> int | None:
    """The level of the heading a markdown cell starts with (## -> 2), or None."""
    if cell.cell_type != "markdown":
        return None
    m = re.match(r"\s*(#{1,6})\s", cell.source)
    return len(m.group(1)) if m else None


def _drop_empty_sections(cells: list) -> list:
    """Leave out sections (## and deeper) that showed nothing: a heading over no output is noise in a report."""
    keep = []
    for i, cell in enumerate(cells):
        level = _heading_level(cell)
        if level is not None and level >= 2:
            has_output = False
            for nxt in cells[i + 1 :]:
                lv = _heading_level(nxt)
                if lv is not None and lv <= level:
                    break
                if nxt.cell_type == "code":
                    has_output = True
                    break
            if not has_output:
                continue
        keep.append(cell)
    return keep


# --- the page --------------------------------------------------------------------------------------


PLOTLY_DIR = TEMPLATES / "plotly"
PARTIAL_BUNDLE = PLOTLY_DIR / "plotly-reportlib.min.js"
# The trace types the partial bundle holds (templates/plotly/bundle-entry.js; scatter is in plotly's core).
BUNDLE_TRACES = frozenset({"scatter", "bar", "box", "heatmap", "waterfall"})
_BUNDLE_VERSION = re.compile(r"\* plotly\.js v(\d+\.\d+\.\d+) \(reportlib partial bundle")
_FIGURE_BLOCK = re.compile(
    r'<script\b[^>]*\btype="application/vnd\.reportlib\.plotly\+json"[^>]*>(.*?)</script>', re.S | re.I
)


@functools.lru_cache(maxsize=2)
def plotly_js(partial: bool = False) -> str:
    """A plotly.js bundle to inline once per page: the installed plotly's full bundle (4.8 MB), or with
    `partial` the vendored bundle of `BUNDLE_TRACES` only (1.2 MB; templates/plotly/README.md)."""
    if partial:
        js = PARTIAL_BUNDLE.read_text(encoding="utf-8")
    else:
        from plotly.offline import get_plotlyjs

        js = get_plotlyjs()
    return js.replace("</script", "<\\/script")


@functools.lru_cache(maxsize=1)
def partial_bundle_usable() -> bool:
    """True when the vendored partial bundle is present and is the plotly.js version the installed plotly
    writes figures for (a plotly upgrade falls back to the full bundle until the bundle is rebuilt)."""
    from plotly.offline import get_plotlyjs_version

    try:
        head = PARTIAL_BUNDLE.read_text(encoding="utf-8")[:400]
    except OSError:
        return False
    m = _BUNDLE_VERSION.search(head)
    return m is not None and m.group(1) == get_plotlyjs_version()


def figure_trace_types(markup: str) -> set[str]:
    """The plotly trace types (``scatter`` when a trace names none) of every figure block in `markup`."""
    import json

    types: set[str] = set()
    for block in _FIGURE_BLOCK.findall(markup):
        try:
            spec = json.loads(block)
        except ValueError:
            types.add("?")  # unreadable: the page script reports it; keep the full bundle to be safe
            continue
        data = spec.get("data") if isinstance(spec, dict) else None
        for trace in data if isinstance(data, list) else []:
            types.add(str(trace.get("type") or "scatter") if isinstance(trace, dict) else "?")
    return types


def page_plotly_js(trace_types: set[str]) -> str:
    """The bundle a page with figures of `trace_types` needs: the partial bundle when it holds them all."""
    return plotly_js(partial=trace_types <= BUNDLE_TRACES and partial_bundle_usable())


def _notebook_trace_types(nb: Any) -> set[str]:
    types: set[str] = set()
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            markup = (out.get("data") or {}).get("text/html")
            if markup:
                types |= figure_trace_types(markup if isinstance(markup, str) else "".join(markup))
    return types


@functools.lru_cache(maxsize=1)
def shared_scripts() -> tuple[str, ...]:
    """The scripts `render_html` inlines, as written, in every page that has the partial bundle: its plotly.js
    (when usable) and report.js. The PDF printer (delivery/pdf.py) recognises pages that share them."""
    scripts = [_asset("report.js")]
    if partial_bundle_usable():
        scripts.insert(0, plotly_js(partial=True))
    return tuple(scripts)


@functools.lru_cache(maxsize=4)
def _asset(name: str) -> str:
    return (TEMPLATES / TEMPLATE_NAME / name).read_text(encoding="utf-8")


_HEADING = re.compile(r'<h([23])\b[^>]*?\bid="([^"]+)"[^>]*>(.*?)</h\1>', re.S | re.I)


def _toc(page: str) -> str:
    start = page.find('<main class="rl-main">')
    body = page[start:] if start >= 0 else page
    items = []
    for level, hid, inner in _HEADING.findall(body):
        text = re.sub(r"<a class=\"anchor-link\".*?</a>", "", inner, flags=re.S)
        text = html.unescape(re.sub(r"<[^>]+>", "", text)).strip()
        if not text:
            continue
        items.append(f'<li class="rl-toc-h{level}"><a href="#{hid}">{html.escape(text)}</a></li>')
    if not items:
        return ""
    return (
        '<nav class="rl-toc" aria-label="Contents"><span class="rl-toc-title">Contents</span><ol>'
        + "".join(items)
        + "</ol></nav>"
    )


def _subtitle(facts: Mapping[str, Any], nb_params: Mapping[str, Any]) -> str:
    month = (facts.get("parameters") or {}).get("month") or nb_params.get("month")
    if not month:
        return ""
    try:
        return month_label(str(month))
    except UsageError:
        return str(month)


@functools.lru_cache(maxsize=1)
def _exporter() -> Any:
    """nbconvert's HTML exporter with the report template, built once per process (its templates compile once)."""
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def render_html(executed_notebook_path: Path, title: str) -> str:
    """The executed notebook as one self-contained HTML page (a string); ReportlibError if the run failed."""
    from reportlib import __version__
    from reportlib.reports.views import facts_html

    path = Path(executed_notebook_path)
    try:
        nb = nbformat.read(str(path), as_version=4)
    except FileNotFoundError:
        raise ReportlibError(f"executed notebook {path} does not exist") from None
    except Exception as exc:  # nbformat raises several types for unreadable files
        raise ReportlibError(f"executed notebook {path} cannot be read: {exc}") from None
    pm_meta = nb.metadata.get("papermill", {}) or {}
    if pm_meta.get("exception"):
        raise ReportlibError(f"{path.name} did not run to the end (a cell raised an error); not rendering it")
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error":
                raise ReportlibError(f"{path.name} holds an error output ({out.get('ename')}); not rendering it")
    clean, facts = prepare(nb)
    nb_params = dict(pm_meta.get("parameters") or {})
    if not facts:
        facts = {
            "parameters": {k: v for k, v in nb_params.items() if v is not None},
            "version": __version__,
            "generated_at": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        }
    if pm_meta.get("duration") is not None:
        facts["duration_s"] = pm_meta["duration"]
    clean.metadata["title"] = title
    # nbconvert parses and re-writes the whole page with BeautifulSoup (alt text, tab stops): plotly.js, most of
    # the page's 1.2 MB, goes in after that, in place of a token no notebook output can hold (it is drawn at
    # random per page). 37 -> 32 ms a client review page, the same page as the result.
    token = f"/*reportlib plotly.js {secrets.token_hex(16)}*/"
    resources = {
        "rl": {
            "title": title,
            "kicker": "Support operations",
            "subtitle": _subtitle(facts, nb_params),
            "css": _asset("report.css"),
            "bootstrap_js": _asset("report.js"),
            "plotly_js": token,
            "footer_html": facts_html(facts),
            "version": __version__,
        }
    }
    page, _ = _exporter().from_notebook_node(clean, resources=resources)
    page = unspoofed(page.replace("<!--RL-TOC-->", _toc(page), 1))  # before plotly.js, which is code, not data
    return page.replace(token, page_plotly_js(_notebook_trace_types(clean)), 1)
