"""JupyterLab without a browser: `reportlib lab`'s pieces, currency that MathJax must not typeset,
tile colours that need no stylesheet. The browser test is tests/test_lab_browser.py."""

from __future__ import annotations

import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd

from reportlib.delivery import lab
from reportlib.planning import sample
from reportlib.reports import narrative, views

ROOT = Path(__file__).resolve().parent.parent


class _DollarProbe(HTMLParser):
    """Counts `$` characters in text, and how many of them sit inside a MathJax-ignored element."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.dollars = self.ignored = 0

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        inherited = bool(self.stack and self.stack[-1])
        if tag not in ("br", "img", "hr", "input", "meta", "wbr"):
            self.stack.append(inherited or "tex2jax_ignore" in classes)

    def handle_endtag(self, tag):
        if self.stack and tag not in ("br", "img", "hr", "input", "meta", "wbr"):
            self.stack.pop()

    def handle_data(self, data):
        n = data.count("$")
        self.dollars += n
        if self.stack and self.stack[-1]:
            self.ignored += n


def dollars(markup: str) -> tuple[int, int]:
    """(`$` in the text, of which inside a tex2jax_ignore element)."""
    p = _DollarProbe()
    p.feed(markup)
    return p.dollars, p.ignored


def test_currency_in_every_kind_of_output_is_kept_from_mathjax():
    tile = narrative.make_tile("Labor cost", 2698622, "currency", target=2280000, prev=2500000, higher_is_better=False)
    with views.collect() as shown:
        views.paragraph("Labor cost per handled contact fell $1.56 to $10.76.")
        views.commentary(["Labor cost was $2,698,622 against a budget of $2,280,000."])
        views.tiles([tile])
        views.table(pd.DataFrame({"client": ["A $ B"], "fee": [1500.0]}), formats={"fee": "currency"})
        views.note("Penalty at risk $3,000 of $40,000.", "info")
        views.caption("From $5 to $6")
        views.heading("Cost $ per $ contact")
    assert len(shown) == 7
    for bundle in shown:
        n, ignored = dollars(bundle["text/html"])
        assert n >= 1, bundle["text/html"]
        assert ignored == n, bundle["text/html"]


def test_probe_sees_an_unprotected_dollar():
    # the oracle itself can fail: bare HTML with currency is reported as exposed
    assert dollars("<p>fell $1.56 to $10.76</p>") == (2, 0)


def test_tiles_carry_their_colours_inline():
    tiles = [
        narrative.make_tile("SL", 0.9, "share", target=0.8),
        narrative.make_tile("Abandon", 0.2, "share", target=0.05, higher_is_better=False),
    ]
    markup = narrative.tiles_html(tiles)
    green, red = markup.split('class="rl-tile ')[1:3]
    assert green.startswith('rl-green"') and red.startswith('rl-red"')
    assert "border-left:6px solid #2e7d32" in green and "background-color:#e8f3e9" in green
    assert "border-left:6px solid #c62828" in red and "background-color:#fdecea" in red
    # the status word is coloured too, and changes keep their good/bad colour
    assert 'style="font-weight:650;color:#2a722e">On target' in green


def test_table_status_cells_are_coloured_inline():
    """Lab has no report.css: a status cell carries its ink on its tile's light background (a probe measured the
    red ink at 2.9:1 on Lab's dark page), and every cell its alignment (Lab right-aligned the names)."""
    frame = pd.DataFrame({"client": ["A", "B"], "s": ["green", "red"], "n": [1, 2]})
    markup = narrative.table_html(frame, status={"client": "s"}, caption="Clients")
    green = 'class="rl-green" style="white-space:nowrap;text-align:left;color:#2a722e;background-color:#e8f3e9'
    assert green in markup and "color:#c62828;background-color:#fdecea" in markup
    assert '<th style="text-align:left">client</th><th class="rl-num" style="text-align:right">n</th>' in markup
    assert 'class="rl-num" style="white-space:nowrap;text-align:right">1<' in markup
    assert '<caption style="text-align:left;font-weight:600">Clients</caption>' in markup


def test_notes_captions_commentary_and_subtitles_carry_their_look_inline():
    """A probe: in JupyterLab a warning read as a plain paragraph, captions at full size, the commentary without its
    box (their look was report.css's alone); the missing-data lead ("Not available from this data:") was a CSS
    ::before, so Lab did not show it. Boxes now set ink and light background inline (readable in both themes), small
    print is dimmed, and the lead is in the text; a text-only front end reads decoded text."""
    for kind, bg in (("info", "#f5f7fa"), ("warning", "#fff3e0"), ("missing", "#f0f1f4")):
        markup = narrative.note_html("Bo's <b>", kind)
        assert f"background-color:{bg};color:#1d2433" in markup and "Bo&#x27;s &lt;b&gt;" in markup
        assert ("Not available from this data:</b> Bo" in markup) == (kind == "missing")
    assert 'style="font-size:.85em;opacity:.75' in narrative.caption_html("x")
    box = narrative.commentary_html(["Volume rose"])
    assert "border-left:4px solid #1f5aa6;background-color:#f5f7fa;color:#1d2433" in box
    assert narrative.subtitle_html("Ann <A>", None, "", "November 2026") == (
        f'<p class="rl-subtitle" style="{narrative.SUBTITLE_STYLE}">Ann &lt;A&gt; · November 2026</p>'
    )
    from reportlib.reports import views

    assert views.plain_text(narrative.note_html("a colleague's  figure", "missing")) == (
        "Not available from this data: a colleague's figure"
    )


def test_personal_copies_never_overwrite_without_fresh(tmp_path):
    src, dst = tmp_path / "nb", tmp_path / "lab"
    src.mkdir()
    (src / "a.ipynb").write_text("tracked")
    assert lab.personal_copies(src, dst) == [dst / "a.ipynb"]
    (dst / "a.ipynb").write_text("mine")
    assert lab.personal_copies(src, dst) == []
    assert (dst / "a.ipynb").read_text() == "mine"
    lab.personal_copies(src, dst, fresh=True)
    assert (dst / "a.ipynb").read_text() == "tracked"
    assert (dst / "a.previous.ipynb").read_text() == "mine"
    # a probe: a second --fresh replaced a.previous with the untouched copy, and the edits were nowhere
    lab.personal_copies(src, dst, fresh=True)
    assert (dst / "a.previous.ipynb").read_text() == "mine" and not (dst / "a.previous-2.ipynb").exists()
    (dst / "a.ipynb").write_text("mine again")
    lab.personal_copies(src, dst, fresh=True)
    assert (dst / "a.previous.ipynb").read_text() == "mine"
    assert (dst / "a.previous-2.ipynb").read_text() == "mine again"
    # the shipped notebook changes (a git pull): the copy is named as stale, until --fresh
    assert lab.stale_copies(src, dst) == []
    (src / "a.ipynb").write_text("tracked, version 2")
    assert lab.stale_copies(src, dst) == ["a.ipynb"]
    lab.personal_copies(src, dst, fresh=True)
    assert lab.stale_copies(src, dst) == []


def test_lab_checks_its_data_before_starting(tmp_path, monkeypatch):
    """A probe: `reportlib lab --data /nonexistent` (or an empty folder) started Lab and every notebook failed; a
    relative duckdb:// path named nothing from the kernels' folder (lab/)."""
    import duckdb
    import pytest

    from reportlib.core.errors import DataError, ReportlibError
    from reportlib.core.params import load_params

    params = load_params()
    with pytest.raises(ReportlibError, match="does not exist"):
        lab.lab_data(params, str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportlibError, match="holds no table of the data contract"):
        lab.lab_data(params, str(tmp_path / "empty"))
    (tmp_path / "db").mkdir()
    con = duckdb.connect(str(tmp_path / "db" / "store.duckdb"))  # a roster alone: a source of its own
    con.execute("CREATE TABLE agents (agent_id VARCHAR, name VARCHAR, team VARCHAR, hire_date DATE)")
    con.execute("INSERT INTO agents VALUES ('a1', 'Ann', 'T1', DATE '2025-01-06')")
    con.close()
    monkeypatch.chdir(tmp_path)
    assert lab.lab_data(params, "duckdb://db/store.duckdb") == f"duckdb://{tmp_path.resolve()}/db/store.duckdb"
    with pytest.raises(ReportlibError, match="does not exist"):
        lab.lab_data(params, "duckdb://db/nope.duckdb")
    # a folder that breaks the contract is refused as `validate` names it (a probe: Lab started on a bad fee)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "agents.csv").write_text("agent_id,name,team,hire_date\na1,Ann,T1,2025-01-06\na2,Bo,T1,someday\n")
    with pytest.raises(DataError) as err:
        lab.lab_data(params, str(bad))
    assert err.value.problems == ['agents.csv row 3, column hire_date: expected a date (YYYY-MM-DD), got "someday"']
    # without --data the parameters' data are checked the same way, and the notebooks read them themselves
    assert lab.lab_data(dict(params, data=str(tmp_path / "db" / "store.duckdb").join(["duckdb://", ""])), None) is None
    with pytest.raises(DataError):
        lab.lab_data(dict(params, data=str(bad)), None)


def test_a_library_error_shows_as_one_line_in_a_notebook(tmp_path):
    """A probe: a month typed in Lab's parameters cell showed thirty lines of traceback through the library;
    the kernel shows the one line the command line prints (ReportlibError._render_traceback_)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from reportlib.core.errors import UsageError\n"
            "def report(month):\n"
            "    raise UsageError(f'month {month} has no data')\n"
            "report('2026-12')"
        )
    ]
    NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=120).execute()
    (error,) = [o for o in nb.cells[0].outputs if o.output_type == "error"]
    assert error.traceback == ["UsageError: month 2026-12 has no data"]
    assert (error.ename, error.evalue) == ("UsageError", "month 2026-12 has no data")


def test_lab_folder_is_ignored_by_git():
    out = subprocess.run(["git", "check-ignore", "-q", "lab/explore.ipynb"], cwd=ROOT)
    assert out.returncode == 0


def test_sample_created_once_and_atomically(tmp_path):
    target = tmp_path / "data" / "sample"
    assert sample.ensure_sample_at(target, log=sys.stderr, months=2, agents=12, clients=3, start="2025-01")
    assert (target / "contacts.csv").exists() and (target / "clients.csv").exists()
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".sample-")]  # no temp left
    assert not sample.ensure_sample_at(target, log=sys.stderr)


def test_default_sample_only_when_no_data_given():
    assert sample.uses_default_sample({"data": "data/sample"}, None)
    assert not sample.uses_default_sample({"data": "data/sample"}, "/elsewhere")
    assert not sample.uses_default_sample({"data": "/srv/ops"}, None)


def test_run_refuses_a_bad_calendar_before_it_makes_the_default_sample(tmp_path):
    """`reportlib run` without --data made the default sample (seconds, a folder of personal data) and only then
    refused a calendar it could not read; the parameters are checked first now, so nothing is made."""
    import shutil

    shutil.copytree(ROOT / "parameters", tmp_path / "parameters")
    (tmp_path / "notebooks").symlink_to(ROOT / "notebooks")
    cal = tmp_path / "parameters" / "calendar.yaml"
    cal.write_text(cal.read_text().replace("exclude_from_history: []", "exclude_from_history: [not-a-date]"))
    env = {**os.environ, "REPORTLIB_HOME": str(tmp_path), "REPORTLIB_CACHE": str(tmp_path / "cache")}
    env.pop("REPORTLIB_DATA", None)
    out = subprocess.run(
        [sys.executable, "-m", "reportlib", "run", "--month", "2026-11"], capture_output=True, text=True, env=env
    )
    assert out.returncode == 2, out.stderr
    assert "exclude_from_history" in out.stderr and "not-a-date" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "data").exists() and "sample" not in out.stderr


def test_lab_command_starts_jupyterlab_on_the_copies(tmp_path):
    cmd = lab.lab_command(tmp_path, port=8899, no_browser=True)
    assert cmd[:3] == [sys.executable, "-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={tmp_path.resolve()}" in cmd and "--ServerApp.port=8899" in cmd
    assert "--LabApp.extension_manager=readonly" in cmd  # no PyPI search from the extension panel (a probe)
    assert lab.have_jupyterlab()


def test_a_port_in_use_stops_lab_instead_of_moving_it(tmp_path):
    """A probe: `reportlib lab --port N` with N taken (a Lab already running) served on N + 1, unsaid: two servers
    then edited the same copies. Jupyter now stops, naming the port."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}
        cmd = [*lab.lab_command(tmp_path, port=port, no_browser=True), "--ServerApp.ip=127.0.0.1"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode != 0 and f"{port}" in r.stderr and "already in use" in r.stderr, r.stderr[-2000:]


def test_personal_copies_are_the_owners_alone(tmp_path):
    """A probe: lab/ was 0755 and its copies 0644, so a saved team page (172 agent names) was readable by every
    user of the machine; the month folder's pages are 0600. The folder is now 0700 (Jupyter's checkpoints are
    inside it) and the copies and kept copies 0600, an existing folder's too."""
    import stat

    src, dst = tmp_path / "nb", tmp_path / "lab"
    src.mkdir()
    (src / "a.ipynb").write_text("tracked")
    dst.mkdir(mode=0o755)
    (dst / "b.ipynb").write_text("old copy")

    def mode(p):
        return stat.S_IMODE(p.stat().st_mode)

    lab.personal_copies(src, dst)
    assert mode(dst) == 0o700 and mode(dst / "a.ipynb") == 0o600
    (dst / "a.ipynb").write_text("mine")
    os.chmod(dst / "a.ipynb", 0o644)  # as Jupyter may save it
    lab.personal_copies(src, dst, fresh=True)
    assert mode(dst / "a.ipynb") == 0o600 and mode(dst / "a.previous.ipynb") == 0o600


def test_cli_lab_help():
    out = subprocess.run([sys.executable, "-m", "reportlib", "lab", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--fresh" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "reportlib", "lab", "--port", "99999"], capture_output=True, text=True)
    assert bad.returncode == 2 and "expected a port number (1 to 65535), got '99999'" in bad.stderr


def test_jupyterlab_is_a_main_dependency():
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(d.startswith("jupyterlab") for d in deps)


def test_lab_params_reach_every_notebook(tmp_path, monkeypatch):
    """`reportlib lab --params FILE` was checked and then dropped: the notebooks ran on the shipped parameters.
    Lab now hands the overlay to the notebooks (REPORTLIB_PARAMS), a notebook's own params_file winning, and a
    `reportlib run` worker drops it (run._worker_init: the run gives each notebook its own)."""
    import sys as _sys

    _sys.path.insert(0, str(ROOT / "tests"))
    from test_validate import build

    from reportlib.core.params import load_params

    folder = build(tmp_path / "d", {})
    euro = tmp_path / "euro.yaml"
    euro.write_text("reports:\n  currency: €\n")
    pound = tmp_path / "pound.yaml"
    pound.write_text("reports:\n  currency: £\n")
    seen: dict = {}
    monkeypatch.setattr(lab.subprocess, "call", lambda cmd, env: seen.update(env) or 0)
    monkeypatch.setattr(lab, "personal_copies", lambda *a, **k: [])
    assert lab.launch(load_params(str(euro)), data=str(folder), params_file=str(euro), no_browser=True) == 0
    assert seen["REPORTLIB_PARAMS"] == str(euro.resolve()) and seen["REPORTLIB_DATA"] == str(folder.resolve())
    monkeypatch.setenv("REPORTLIB_PARAMS", seen["REPORTLIB_PARAMS"])
    assert views.start_report("sla", month="2025-01", data=str(folder)).currency == "€"
    assert views.start_report("sla", month="2025-01", data=str(folder), params_file=str(pound)).currency == "£"


def test_a_broken_lab_folder_is_named(tmp_path, monkeypatch):
    """A probe: with lab/ a file (or lab/sla.ipynb a folder) `reportlib lab` said "failed unexpectedly ... please
    report it"."""
    import pytest

    import reportlib.core.params as core_params
    from reportlib.core.errors import ReportlibError
    from reportlib.core.params import load_params

    monkeypatch.setattr(core_params, "project_root", lambda: tmp_path)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "sla.ipynb").write_text("{}")
    (tmp_path / "lab").write_text("a file where the copies go")
    monkeypatch.setattr(lab, "ensure_default_data", lambda *a, **k: None)
    monkeypatch.setattr(lab, "lab_data", lambda *a, **k: None)  # the data are not what this test is about
    monkeypatch.setattr(lab.subprocess, "call", lambda *a, **k: 0)
    with pytest.raises(ReportlibError, match=r"cannot make the notebook copies in .*lab .*File exists"):
        lab.launch(load_params(), no_browser=True)


def test_a_notebook_says_its_title_first_in_lab_and_the_page_hides_it(tmp_path):
    """A probe: opened in JupyterLab, a report did not say which month it had chosen (the rendered page's header
    says it). The first output is now the page's title (registry.page_title, the one `reportlib run` uses), a
    client's name before a client review's; report.css hides it on the page, which has its header."""
    from reportlib.reports.registry import page_title

    data = tmp_path / "d"
    sample.sample_data(data, seed=3, start="2025-01", months=2, agents=20, clients=3)
    clients = pd.read_csv(data / "clients.csv", dtype=str)
    cid, name = clients.loc[0, "client_id"], clients.loc[0, "client_name"]
    for report, extra, title in (
        ("sla", {}, "SLA compliance, February 2025"),
        ("client_review", {"client_id": cid}, f"{name}: service review, February 2025"),
    ):
        with views.collect() as shown:
            views.start_report(report, month="2025-02", data=str(data), **extra)
        assert title == page_title(report, "2025-02", name if extra else None)
        assert (
            f'<div class="rl-lab-title" style="font-size:1.5em;font-weight:650;margin:0 0 6px">{title}</div>'
            in (shown[0]["text/html"])
        )
    css = (ROOT / "reportlib/reports/templates/reportlib_html/report.css").read_text()
    assert ".rl-lab-title { display: none; }" in css


def test_status_ink_keeps_wcag_contrast_on_its_tint_and_on_white():
    """Status words and cells are ink on their tile's light tint (and on the page's white): at least 4.5:1, WCAG 2's
    level AA for text, by its relative-luminance formula (a probe measured the amber at 4.3:1 on its tint)."""

    def luminance(colour: str) -> float:
        rgb = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    def contrast(a: str, b: str) -> float:
        hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
        return (hi + 0.05) / (lo + 0.05)

    assert contrast("#000000", "#ffffff") == 21.0  # the formula's own end points
    for status in ("green", "amber", "red"):
        ink, tint = narrative.STATUS_INK[status], narrative.TILE_STYLE[status][1]
        assert contrast(ink, tint) >= 4.5 and contrast(ink, "#ffffff") >= 4.5, status
