"""JupyterLab in a real browser: Lab on a loopback port with a token, driven by Debian's Chromium via
playwright (executable_path, no browser download), on a temporary copy of the notebooks and a small
generated sample.

explore: Run All gives real widgets (never "Error displaying widget"); changing Month, Channel and a
what-if slider changes what is shown. monthly_pack and forecast: currency is never typeset as math
(no MathJax elements in the outputs) and the KPI tiles keep their colours. Screenshots go to
tests/screenshots/lab/ (ignored by git). Skips with a reason when Chromium, playwright or JupyterLab is
missing; fails instead when REPORTLIB_REQUIRE_BROWSER=1 (CI).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from _chromium import find_chromium

ROOT = Path(__file__).resolve().parent.parent
SHOTS = Path(__file__).resolve().parent / "screenshots" / "lab"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NOTEBOOKS = ("explore", "monthly_pack", "forecast")

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _missing(reason: str) -> None:
    if os.environ.get("REPORTLIB_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " (REPORTLIB_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 with a token, over copies of the notebooks and a small sample."""
    exe = find_chromium()
    if exe is None:
        _missing("chromium is not installed (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[test]')")
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        _missing("JupyterLab is not installed (pip install -e .)")
    from reportlib.planning.sample import sample_data

    root = tmp_path_factory.mktemp("lab")
    data = root / "sample"
    sample_data(data, seed=7, start="2025-01", months=3, agents=24, clients=5)
    work = root / "notebooks"
    work.mkdir()
    for name in NOTEBOOKS:
        shutil.copyfile(ROOT / "notebooks" / f"{name}.ipynb", work / f"{name}.ipynb")
    # start the notebook's kernel (python3) on opening, as a person does by ticking "Always start the
    # preferred kernel"; otherwise Lab may ask while Run All is already under way
    tracker = root / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text('{"autoStartDefaultKernel": true}')
    token, port = secrets.token_hex(16), _free_port()
    env = dict(
        os.environ,
        REPORTLIB_DATA=str(data),
        JUPYTER_CONFIG_DIR=str(root / "config"),
        JUPYTER_RUNTIME_DIR=str(root / "runtime"),
        PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]),
    )
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={work}",
        f"--LabApp.user_settings_dir={root / 'settings'}",
        f"--LabApp.workspaces_dir={root / 'workspaces'}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ] + (["--allow-root"] if os.geteuid() == 0 else [])
    log = open(root / "lab.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("JupyterLab did not start:\n" + (root / "lab.log").read_text()[-3000:])
            time.sleep(0.3)
        yield {"base": base, "token": token, "exe": exe, "work": work, "log": root / "lab.log"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=lab["exe"], headless=True, args=FLAGS)
        try:
            yield b
        finally:
            b.close()


def _open(browser, lab, name: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    # ?reset: a fresh workspace, so notebooks opened by an earlier test are not restored beside this one
    page.goto(f"{lab['base']}/lab/tree/{name}.ipynb?reset&token={lab['token']}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    # the kernel is up when the toolbar's status says Idle
    idle = """() => {
        const s = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
        return s && s.getAttribute('data-status') === 'idle';
    }"""
    page.wait_for_function(idle, timeout=60_000)
    # Lab may start a kernel and replace it a moment later (its kernel preference taking over); widgets
    # created before the replacement show "model not found". Wait until the notebook's session keeps
    # one kernel for two seconds, then for Idle again.
    _stable_kernel(lab, f"{name}.ipynb")
    page.wait_for_function(idle, timeout=60_000)
    return page


def _stable_kernel(lab, notebook: str, settle_s: float = 2.0, timeout_s: float = 60.0) -> None:
    import json

    headers = {"Authorization": f"token {lab['token']}"}
    deadline, seen, since = time.monotonic() + timeout_s, None, time.monotonic()
    while time.monotonic() < deadline:
        with urllib.request.urlopen(
            urllib.request.Request(f"{lab['base']}/api/sessions", headers=headers), timeout=10
        ) as r:
            ids = sorted(s["kernel"]["id"] for s in json.loads(r.read()) if s.get("path", "").endswith(notebook))
        if ids != seen:
            seen, since = ids, time.monotonic()
        elif len(ids) == 1 and time.monotonic() - since >= settle_s:
            return
        time.sleep(0.25)
    raise AssertionError(f"the kernel of {notebook} did not settle: {seen}")


def _shutdown_kernels(lab) -> None:
    """Stop every kernel the server runs (each test leaves the machine as it found it)."""
    import json

    headers = {"Authorization": f"token {lab['token']}"}
    req = urllib.request.Request(f"{lab['base']}/api/kernels", headers=headers)
    with urllib.request.urlopen(req, timeout=10) as r:
        kernels = json.loads(r.read())
    for k in kernels:
        urllib.request.urlopen(
            urllib.request.Request(f"{lab['base']}/api/kernels/{k['id']}", method="DELETE", headers=headers), timeout=30
        ).close()


def _run_all(page) -> None:
    """Run > Run All Cells, as a person would; accepts Lab's kernel choice when it asks (python3 preselected).

    A Run All sent while Lab is still connecting its kernel can be dropped, so it is repeated until a
    cell has started (a prompt shows [*] or a number).
    """
    started = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-InputArea-prompt'))
        .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))"""
    for _ in range(4):
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).first.click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).first.click(timeout=10_000)
        try:
            page.locator(".jp-Dialog .jp-mod-accept").click(timeout=5_000)
        except Exception:
            pass
        try:
            page.wait_for_function(started, timeout=20_000)
            return
        except Exception:
            continue
    raise AssertionError("Run All did not start any cell")


def _wait_done(page, timeout_ms: int) -> None:
    """Until no cell is queued or running ('[*]') and the kernel is idle again."""
    page.wait_for_timeout(500)
    page.wait_for_function(
        """() => {
        const prompts = Array.from(document.querySelectorAll('.jp-Notebook .jp-InputArea-prompt'));
        const busy = prompts.some(p => p.textContent.includes('*'));
        const s = document.querySelector('.jp-Notebook-ExecutionIndicator');
        return !busy && (!s || s.getAttribute('data-status') === 'idle');
    }""",
        timeout=timeout_ms,
    )


def _errors(page) -> list[str]:
    return page.evaluate("""() => Array.from(document.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], .jp-RenderedText[data-mime-type="application/vnd.jupyter.error"]'
    )).map(e => e.innerText.slice(0, 500))""")


def _output_text(page, selector: str) -> str:
    return page.evaluate(f"""() => Array.from(document.querySelectorAll({selector!r}))
        .map(e => e.innerText).join('\\n')""")


def _assert_no_math(page) -> int:
    """No MathJax element anywhere in the outputs; returns how many `$` the outputs show as text."""
    math = page.evaluate("""() => document.querySelectorAll(
        '.jp-OutputArea mjx-container, .jp-OutputArea .MathJax, .jp-OutputArea .katex').length""")
    assert math == 0, f"{math} math element(s) in the outputs: currency typeset as LaTeX"
    return page.evaluate("""() => Array.from(document.querySelectorAll('.jp-OutputArea .rl-out'))
        .map(e => (e.textContent.match(/\\$/g) || []).length).reduce((a, b) => a + b, 0)""")


def test_explore_widgets_follow_the_controls(lab, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = _open(browser, lab, "explore")
    _run_all(page)
    try:
        page.wait_for_selector(".widget-dropdown select", timeout=90_000)
    except Exception:
        page.screenshot(path=str(SHOTS / "explore-failed.png"), full_page=True)
        raise
    page.wait_for_function("() => document.querySelectorAll('.widget-slider').length >= 6", timeout=90_000)
    _wait_done(page, 90_000)
    page.wait_for_selector(".widget-output .rl-table", timeout=60_000)
    body = page.inner_text("body")
    assert "Error displaying widget" not in body and "Loading widget" not in body
    assert not _errors(page), _errors(page)
    labels = page.evaluate("""() => Array.from(document.querySelectorAll('.widget-dropdown label, .widget-slider label'))
        .map(l => [l.textContent, l.scrollWidth <= l.clientWidth + 1])""")
    names = [t for t, _ in labels]
    for want in ("Month", "Channel", "Queue", "Client", "Team", "By", "Calls per 30 min", "Shrinkage"):
        assert want in names, names
    assert all(fits for _, fits in labels), [t for t, fits in labels if not fits]  # no label cut
    client = page.locator(".widget-dropdown", has_text="Client").locator("select")
    assert client.evaluate("s => s.options[s.selectedIndex].text") == "(all)"
    page.screenshot(path=str(SHOTS / "explore-start.png"), full_page=False)

    contacts = ".widget-vbox .widget-output"

    def shown() -> str:
        return page.evaluate("""() => Array.from(document.querySelectorAll('.widget-output'))
            .map(e => e.innerText + '|' + e.querySelectorAll('.js-plotly-plot').length).join('#')""")

    def changes(action, what: str) -> None:
        before = shown()
        action()
        page.wait_for_function(
            "b => Array.from(document.querySelectorAll('.widget-output'))"
            ".map(e => e.innerText + '|' + e.querySelectorAll('.js-plotly-plot').length).join('#') !== b",
            arg=before,
            timeout=60_000,
        )
        page.wait_for_timeout(1500)  # let the charts draw
        assert shown() != before, what

    month = page.locator(".widget-dropdown", has_text="Month").locator("select")
    first_month = month.evaluate("s => s.options[0].value")
    changes(lambda: month.select_option(first_month), "Month")
    channel = page.locator(".widget-dropdown", has_text="Channel").locator("select")
    changes(lambda: channel.select_option("email"), "Channel")
    text = _output_text(page, contacts)
    assert "Speed of answer" in text and "asa_s" not in text
    page.screenshot(path=str(SHOTS / "explore-email.png"), full_page=False)

    readout = page.locator(".widget-slider", has_text="Calls per 30 min").locator(".widget-readout")

    def move_slider() -> None:
        readout.click()
        page.keyboard.press("Control+A")
        page.keyboard.type("400")
        page.keyboard.press("Enter")

    changes(move_slider, "what-if slider")
    page.locator(".widget-slider", has_text="Calls per 30 min").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "explore-what-if.png"), full_page=False)
    page.close()
    _shutdown_kernels(lab)


@pytest.mark.parametrize("name", ["monthly_pack", "forecast"])
def test_report_notebook_in_lab_shows_currency_as_text(lab, browser, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = _open(browser, lab, name)
    _run_all(page)
    try:  # the run facts are the last output of every report notebook; an error output ends the wait too
        page.wait_for_function(
            """() => document.body.innerText.includes('Run facts') || document.querySelector(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')""",
            timeout=150_000,
        )
    except Exception:
        page.screenshot(path=str(SHOTS / f"{name}-failed.png"), full_page=True)
        raise
    _wait_done(page, 60_000)
    page.wait_for_timeout(1500)  # MathJax typesets asynchronously after an output appears
    assert not _errors(page), _errors(page)
    page.wait_for_function("() => !document.body.innerText.includes('Loading widget')", timeout=30_000)
    assert "Error displaying widget" not in page.inner_text("body")
    dollars = _assert_no_math(page)
    assert dollars > 0, "expected currency amounts in the outputs"
    tiles = page.evaluate("""() => Array.from(document.querySelectorAll('.jp-OutputArea .rl-tile'))
        .map(t => [t.dataset.status, getComputedStyle(t).backgroundColor, getComputedStyle(t).borderLeftColor])""")
    if name == "monthly_pack":
        assert len(tiles) >= 4
        coloured = {
            "green": "rgb(232, 243, 233)",
            "amber": "rgb(255, 243, 224)",
            "red": "rgb(253, 236, 234)",
            "none": "rgb(240, 241, 244)",
        }
        for status, bg, _edge in tiles:
            assert bg == coloured[status], (status, bg)
        assert any(s != "none" for s, _, _ in tiles)
        page.locator(".rl-tiles").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
    page.close()
    _shutdown_kernels(lab)
