"""render_html: outputs only, nothing stray, plotly.js once, no URL to fetch, TOC and footer facts."""

from __future__ import annotations

import re

import nbformat
import pytest

from reportlib.core.errors import ReportlibError
from reportlib.delivery import run
from reportlib.reports import registry, render

CODE_MARKER = "CODE_MARKER_9f3a"

CELLS = [
    ("code", 'month = "2025-03"\ndata = None', ["parameters"]),
    ("markdown", "## Service level\nWhy it matters.", []),
    (
        "code",
        f"""# {CODE_MARKER}
import logging, sys, warnings
import pandas as pd
import plotly.io as pio
from reportlib.reports import charts, views, narrative
views.use_report_display()
print("STRAY_PRINT")
print("STRAY_STDERR", file=sys.stderr)
warnings.warn("STRAY_WARNING")
logging.getLogger("x").warning("STRAY_LOG")
df = pd.DataFrame({{"queue": ["</script><b>Q</b>", "B"], "sl": [0.8, 0.7]}})
views.show(charts.bar_chart(df, "queue", "sl", unit="share", title="SL by queue"))
df  # a bare repr: not part of the report
""",
        [],
    ),
    (
        "code",
        """fig = charts.line_chart(pd.DataFrame({"m": ["a", "b"], "v": [1, 2]}), "m", "v", title="bare figure")
fig""",
        [],
    ),
    (
        "code",
        """pio.renderers.default = "plotly_mimetype"  # the nbconvert trap: this output alone would be dropped
fig.show()
views.use_report_display()""",
        [],
    ),
    ("markdown", "## Tiles and tables", []),
    (
        "code",
        """views.tiles([narrative.make_tile("Service level", 0.763, "share", target=0.8, prev=0.804, yoy=0.75)])
views.table(df, formats={"sl": "share"})
import ipywidgets
ipywidgets.IntSlider()  # widgets need a kernel: dropped from the page
views.heading("Agents <i>and</i> teams", 3)
123""",
        [],
    ),
    ("markdown", "## Empty section\nNothing below this heading shows anything.", []),
    ("code", "x = 1  # no output: the section is left out of the page", []),
    (
        "code",
        """from IPython.display import display
display({"application/vnd.reportlib.facts+json": {"parameters": {"month": "2025-03"}, "warnings": ["5 rows <b>bad</b>"],
         "notes": [], "version": "x", "generated_at": "now", "data_first": "2025-01-01", "data_last": "2025-03-31"},
         "text/html": "<p>FACTS_FALLBACK</p>"}, raw=True)""",
        [],
    ),
]


def _notebook(cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, src, tags in cells:
        cell = nbformat.v4.new_code_cell(src) if kind == "code" else nbformat.v4.new_markdown_cell(src)
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    return nb


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    d = tmp_path_factory.mktemp("render")
    src = d / "t.ipynb"
    nbformat.write(_notebook(CELLS), str(src))
    out = run.execute(src, d / "t.out.ipynb", {"month": "2025-04"}, timeout=120)
    html = render.render_html(out, "Test report <&>")
    (d / "t.html").write_text(html, encoding="utf-8")
    return html


def test_no_code_prompts_or_stray_output(page):
    for stray in (
        CODE_MARKER,
        "STRAY_PRINT",
        "STRAY_STDERR",
        "STRAY_WARNING",
        "STRAY_LOG",
        "In&nbsp;[",
        "Out[",
        'class="dataframe"',
        "IntSlider",
        "widget-view",
        "FACTS_FALLBACK",
        "month = &quot;",
    ):
        assert stray not in page, stray
    body = page.split("<footer", 1)[0]
    assert "jp-InputArea" not in body and 'class="highlight' not in body


def _without_plotly_js(page: str) -> str:
    start = page.index("* plotly.js v")
    open_tag = page.rindex("<script", 0, start)
    return page[:open_tag] + page[page.index("</script>", start) + len("</script>") :]


def test_plotly_js_inlined_exactly_once_and_nothing_external(page):
    assert page.count("* plotly.js v") == 1
    assert "/*reportlib plotly.js" not in page  # the token it took the place of (render_html)
    page = _without_plotly_js(page)
    assert re.search(r"<script[^>]+\bsrc\s*=", page) is None
    assert re.search(r"<link\b", page) is None
    assert "@import" not in page
    assert re.search(r"""\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", page) is None
    assert "require.js" not in page and "MathJax.js" not in page


def test_every_figure_kept_including_the_mimetype_only_one(page):
    tags = re.findall(r'<script\b[^>]*type="application/vnd.reportlib.plotly\+json"[^>]*>', page)
    blocks = [re.search(r'data-target="([^"]+)"', t).group(1) for t in tags]
    assert len(blocks) == 3
    for fid in blocks:
        assert f'id="{fid}"' in page


def test_scripts_are_balanced_so_data_cannot_close_one(page):
    assert page.count("<script") == page.count("</script>")
    assert "<b>Q</b>" not in page


def test_toc_title_and_footer(page):
    assert "<title>Test report &lt;&amp;&gt;</title>" in page
    toc = page.split('<nav class="rl-toc"', 1)[1].split("</nav>", 1)[0]
    for heading in (
        "Service level",
        "Tiles and tables",
        "Agents &lt;i&gt;and&lt;/i&gt; teams",
        "Data quality",
        "Run facts",
    ):
        assert heading in toc, heading
    footer = page.split('<footer class="rl-footer">', 1)[1]
    assert "5 rows &lt;b&gt;bad&lt;/b&gt;" in footer
    assert "2025-01-01 to 2025-03-31" in footer
    assert "month = 2025-03" in footer
    assert "Run time" in footer


def test_sections_that_show_nothing_are_left_out(page):
    assert "Empty section" not in page and "Nothing below this heading" not in page


def test_tiles_and_table_survive(page):
    assert 'class="rl-tiles"' in page and "76.3%" in page
    assert 'class="rl-table' in page and "&lt;/script&gt;&lt;b&gt;Q&lt;/b&gt;" in page


def test_failed_notebook_is_not_rendered(tmp_path):
    nb = _notebook([("code", "x = 1", ["parameters"]), ("code", "raise ValueError('boom')", [])])
    src = tmp_path / "f.ipynb"
    nbformat.write(nb, str(src))
    out = tmp_path / "f.out.ipynb"
    with pytest.raises(Exception, match="boom"):
        run.execute(src, out, {}, timeout=60)
    with pytest.raises(ReportlibError, match="did not run to the end"):
        render.render_html(out, "Failed")


def test_missing_notebook_is_a_clear_error(tmp_path):
    with pytest.raises(ReportlibError, match="does not exist"):
        render.render_html(tmp_path / "nope.ipynb", "x")
    with pytest.raises(ReportlibError, match="no report notebook"):
        registry.notebook_path("nonsense")


def test_notebook_registry():
    assert registry.ALL_REPORTS == (
        "team_performance",
        "sla",
        "attrition",
        "forecast",
        "monthly_pack",
        "client_review",
        "agent_review",
    )
    assert registry.INTERACTIVE == ("explore",) and registry.CLIENT_REPORT == "client_review"
    assert registry.AGENT_REPORT == "agent_review" and "agent_review" not in registry.REPORTS
    for name in registry.TITLES:
        path = registry.notebook_path(name)
        nb = nbformat.read(str(path), as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, name
        for p in ("month", "data", "params_file", "client_id", "team"):
            assert re.search(rf"^{p}\s*=", tagged[0].source, re.M), (name, p)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{name} stored with outputs"
