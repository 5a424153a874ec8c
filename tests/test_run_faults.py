"""`reportlib run` when something goes wrong half-way (a probe's findings): a report whose files cannot all be put
in place leaves the previous page, notebook and PDF together; a report drawn from data that changed during the
run is not published under the run's fingerprint; `email` does not send a report rendered from other data than
the month's last run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_security_delivery import project  # noqa: F401 - the tiny project of the runner's fault tests

from reportlib.delivery.run import Job, _Publisher, read_manifest, swap_in

MONTH = "2026-03"


def _files(tmp_path: Path, **named: str) -> dict[str, Path]:
    out = {}
    for name, text in named.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        out[name] = p
    return out


def test_swap_in_puts_every_file_in_place_or_none(tmp_path):
    f = _files(tmp_path, **{"new/a": "A2", "new/b": "B2", "old/a": "A1", "old/b": "B1"})
    swap_in([(f["new/a"], f["old/a"]), (f["new/b"], f["old/b"])])
    assert (f["old/a"].read_text(), f["old/b"].read_text()) == ("A2", "B2")
    assert not f["new/a"].exists() and sorted(p.name for p in (tmp_path / "old").iterdir()) == ["a", "b"]

    # the second place cannot take a file (a folder stands there): the first is put back, the new files stay
    g = _files(tmp_path / "g", **{"new/nb": "NB2", "new/page": "P2", "old/nb": "NB1"})
    (tmp_path / "g" / "old" / "page").mkdir()
    (tmp_path / "g" / "old" / "page" / "x").write_text("in the way")
    with pytest.raises(OSError):
        swap_in([(g["new/nb"], g["old/nb"]), (g["new/page"], tmp_path / "g" / "old" / "page")])
    assert g["old/nb"].read_text() == "NB1" and g["new/nb"].read_text() == "NB2" and g["new/page"].exists()
    assert sorted(p.name for p in (tmp_path / "g" / "old").iterdir()) == ["nb", "page"]  # no copy left aside


def test_swap_in_interrupted_part_way_puts_back_what_moved(tmp_path, monkeypatch):
    """Ctrl-C or SIGTERM between two moves left the new notebook beside the old page and a copy aside."""
    import os

    from reportlib.delivery import run

    real = os.replace
    # the signal arrives as the page moves (before the rename) or just after it returned (a probe: the page's
    # file was then left new beside the old notebook and PDF)
    for after in (False, True):
        where = tmp_path / str(after)
        f = _files(where, **{"new/nb": "NB2", "new/page": "P2", "old/nb": "NB1", "old/page": "P1"})

        def replace(a, b, after=after, page=f["old/page"]):
            if Path(b) == page and Path(a).parent.name == "new":  # the new page's move (not the old one put back)
                if after:
                    real(a, b)
                raise KeyboardInterrupt
            real(a, b)

        monkeypatch.setattr(run.os, "replace", replace)
        with pytest.raises(KeyboardInterrupt):
            swap_in([(f["new/nb"], f["old/nb"]), (f["new/page"], f["old/page"])])
        monkeypatch.setattr(run.os, "replace", real)
        assert (f["old/nb"].read_text(), f["old/page"].read_text()) == ("NB1", "P1"), after
        assert (f["new/nb"].read_text(), f["new/page"].read_text()) == ("NB2", "P2")
        assert sorted(p.name for p in (where / "old").iterdir()) == ["nb", "page"]
    # just after the commit's rename: the old files are taken from the committed folder, and it goes too
    where = tmp_path / "commit"
    f = _files(where, **{"new/nb": "NB2", "new/page": "P2", "old/nb": "NB1", "old/page": "P1"})

    def at_commit(a, b):
        real(a, b)
        if Path(b).name.endswith(".done"):
            raise KeyboardInterrupt

    monkeypatch.setattr(run.os, "replace", at_commit)
    with pytest.raises(KeyboardInterrupt):
        swap_in([(f["new/nb"], f["old/nb"]), (f["new/page"], f["old/page"])])
    monkeypatch.setattr(run.os, "replace", real)
    assert (f["old/nb"].read_text(), f["old/page"].read_text()) == ("NB1", "P1")
    assert sorted(p.name for p in (where / "old").iterdir()) == ["nb", "page"]


def test_swap_in_never_follows_a_link_standing_in_a_files_place(tmp_path):
    """A probe planted links as a report's files in the month folder: one to /dev/zero filled the disk while the
    old file was copied aside, one to a file outside outputs/ was copied in when the swap failed. A link is
    copied as a link: replaced by the new file when the swap succeeds, put back as a link when it fails."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    f = _files(tmp_path, **{"new/nb": "NB2", "new/page": "P2"})
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "nb").symlink_to(secret)
    (tmp_path / "old" / "page").symlink_to("/dev/zero")
    swap_in([(f["new/nb"], tmp_path / "old" / "nb"), (f["new/page"], tmp_path / "old" / "page")])
    assert [(tmp_path / "old" / n).read_text() for n in ("nb", "page")] == ["NB2", "P2"]
    assert not any(p.is_symlink() for p in (tmp_path / "old").iterdir()) and secret.read_text() == "TOPSECRET"
    # the swap fails at its second file (a folder stands there): the link is back, nothing of the secret copied
    g = _files(tmp_path / "g", **{"new/nb": "NB2", "new/page": "P2"})
    (tmp_path / "g" / "old" / "page").mkdir(parents=True)
    (tmp_path / "g" / "old" / "page" / "x").write_text("in the way")
    (tmp_path / "g" / "old" / "nb").symlink_to(secret)
    with pytest.raises(OSError):
        swap_in([(g["new/nb"], tmp_path / "g" / "old" / "nb"), (g["new/page"], tmp_path / "g" / "old" / "page")])
    assert (tmp_path / "g" / "old" / "nb").is_symlink() and g["new/nb"].read_text() == "NB2"
    assert sorted(p.name for p in (tmp_path / "g" / "old").iterdir()) == ["nb", "page"]


def _job() -> Job:
    return Job("sla", None, "sla", "SLA", {"month": MONTH})


def _result(tmp_path: Path, tag: str, fingerprint: str | None = None) -> dict:
    f = _files(tmp_path / tag, **{"sla.ipynb": f"NB {tag}", "sla.html": f"PAGE {tag}", "sla.pdf": f"PDF {tag}"})
    return {
        "key": ("sla", None),
        "status": "ok",
        "notebook": str(f["sla.ipynb"]),
        "html": str(f["sla.html"]),
        "pdf": str(f["sla.pdf"]),
        "seconds": 1.0,
        "fingerprint": fingerprint,
    }


def _published(month_dir: Path) -> tuple[str, str, str]:
    return tuple((month_dir / p).read_text() for p in ("notebooks/sla.ipynb", "sla.html", "sla.pdf"))  # type: ignore[return-value]


def test_a_report_that_cannot_be_put_in_place_keeps_the_good_page_its_notebook_and_pdf(tmp_path):
    """The page could not be replaced (here a folder in its place stands for an immutable file): the good
    notebook stayed beside it (it was replaced by the failed run's), the failed run's notebook is kept aside."""
    d = tmp_path / "out" / MONTH
    d.mkdir(parents=True)
    _Publisher(MONTH, d, "fp1", "data").publish(_job(), _result(tmp_path, "good"))
    assert _published(d) == ("NB good", "PAGE good", "PDF good")
    page = d / "sla.html"
    page.unlink()
    page.mkdir()  # the page's place cannot take a file
    (page / "keep").write_text("x")
    entry = _Publisher(MONTH, d, "fp1", "data").publish(_job(), _result(tmp_path, "next"))
    assert entry["status"] == "failed" and "could not publish" in entry["error"]
    assert (d / "notebooks/sla.ipynb").read_text() == "NB good" and (d / "sla.pdf").read_text() == "PDF good"
    assert (d / "notebooks/sla.failed.ipynb").read_text() == "NB next"
    assert not [p.name for p in d.rglob(".*prev")]


def test_a_report_drawn_from_changed_data_is_not_published_under_the_runs_fingerprint(tmp_path):
    d = tmp_path / "out" / MONTH
    d.mkdir(parents=True)
    _Publisher(MONTH, d, "aaaa000011112222", "data").publish(_job(), _result(tmp_path, "good", "aaaa000011112222"))
    entry = _Publisher(MONTH, d, "aaaa000011112222", "data").publish(
        _job(), _result(tmp_path, "mixed", "bbbb000011112222")
    )
    assert entry["status"] == "failed"
    assert entry["error"] == (
        "the data changed during the run: this report read data bbbb000011112222, the run checked "
        "aaaa000011112222; run again once the data are in place"
    )
    assert _published(d) == ("NB good", "PAGE good", "PDF good")  # the previous version stays
    assert entry["previous"]["html"] == "sla.html"
    assert read_manifest(d)["reports"][0]["status"] == "failed"


def test_a_workbook_built_from_changed_data_is_not_published_under_the_runs_fingerprint(tmp_path):
    """A probe replaced contacts.csv while a run built the client workbooks: the reports failed ("the data changed"),
    the workbooks were published ok under the fingerprint the run had checked, one holding 0 contacts. A workbook
    records the data it read (build_workbooks: the files' fingerprint after the reading), checked as a page is."""
    d = tmp_path / "out" / MONTH
    d.mkdir(parents=True)
    run_fp = "aaaa000011112222"

    def book(text: str, read: str) -> dict:
        path = tmp_path / f"{text}.xlsx"
        path.write_text(text)
        name = "client_review_C1.xlsx"
        return {
            "client_id": "C1",
            "status": "ok",
            "xlsx": str(path),
            "name": name,
            "sheets": ["x"],
            "fingerprint": read,
        }

    assert _Publisher(MONTH, d, run_fp, "data").publish_workbook(book("good", run_fp))["status"] == "ok"
    entry = _Publisher(MONTH, d, run_fp, "data").publish_workbook(book("mixed", "bbbb000011112222"))
    assert entry["status"] == "failed" and entry["error"] == (
        "the data changed during the run: this workbook read data bbbb000011112222, the run checked "
        "aaaa000011112222; run again once the data are in place"
    )
    assert (d / "client_review_C1.xlsx").read_text() == "good" and entry["previous"]["xlsx"] == "client_review_C1.xlsx"


def test_the_hidden_leftovers_of_a_killed_run_are_removed_by_the_next(tmp_path):
    """A run killed (SIGKILL, out of memory) while swap_in moved a report's files in left the old files it had set
    aside (`.swap-<pid>/`) beside the new page and notebook, and one killed in write_atomic a
    `.manifest.json.<random>.tmp`. The next run of the month (under its lock) puts the old files back, so the
    report's files are the previous run's together, as the manifest says (a probe: the copies were removed, and
    the "previous good version" was the killed run's notebook; a review: removed one by one, a kill between two
    left a mixed set); a committed swap's folder is only removed; visible files and other hidden ones stay."""
    from reportlib.delivery.run import remove_stale_run_folders

    d = tmp_path / "out" / MONTH
    (d / "notebooks").mkdir(parents=True)
    (d / "sla.html").write_text("PAGE new")  # moved in by the killed run
    (d / "notebooks" / "sla.ipynb").write_text("NB new")
    (d / "sla.pdf").write_text("PDF old")  # not reached by the killed run
    swap = d / ".swap-99999"
    (swap / "notebooks").mkdir(parents=True)
    (swap / "sla.html").write_text("PAGE old")
    (swap / "notebooks" / "sla.ipynb").write_text("NB old")
    (swap / "sla.pdf").write_text("PDF old")  # copied, not yet replaced
    (swap / "team.html.part").write_text("PA")  # a copy in the making: never put back
    (d / "team.html").write_text("TEAM new")  # a committed swap: its new files stay
    (d / ".swap-88888.done").mkdir()
    (d / ".swap-88888.done" / "team.html").write_text("TEAM old")
    (d / ".manifest.json.k2j4_x9a.tmp").write_text("{")
    (d / "pack.html").write_text("PACK new")  # the version before kept one copy aside per file
    (d / ".pack.html.77777.prev").write_text("PACK old")
    (d / ".pack.pdf.77777.part").write_text("PA")
    kept = [d / ".lock", d / "notes.prev", d / ".sla.html.prev", d / ".swap-x"]
    for f in kept:
        f.write_text("x")
    left = [swap, d / ".swap-88888.done", d / ".manifest.json.k2j4_x9a.tmp", d / ".pack.html.77777.prev"]
    left.append(d / ".pack.pdf.77777.part")
    assert sorted(remove_stale_run_folders(tmp_path / "out", MONTH)) == sorted(left)
    assert not any(f.exists() for f in left) and all(f.exists() for f in kept)
    got = [(d / n).read_text() for n in ("sla.html", "notebooks/sla.ipynb", "sla.pdf", "team.html", "pack.html")]
    assert got == ["PAGE old", "NB old", "PDF old", "TEAM new", "PACK old"] and not (d / "team.html.part").exists()
    # a swap of this process whose folder could not be removed does not stop its next swap (a review)
    f = _files(tmp_path / "again", **{"new/a": "A2", "old/a": "A1"})
    (tmp_path / "again" / "old" / f".swap-{__import__('os').getpid()}.done" / "x").mkdir(parents=True)
    swap_in([(f["new/a"], f["old/a"])])
    assert f["old/a"].read_text() == "A2" and [p.name for p in (tmp_path / "again" / "old").iterdir()] == ["a"]


def test_a_page_records_the_data_as_they_are_when_it_ends(tmp_path):
    """The fingerprint of a Source is taken when it is opened, its tables read later: a file replaced in between
    was read under the fingerprint of the files before it. The page's run facts record the files' fingerprint as
    they are when it ends, so `run` fails a page whose data changed while it read them."""
    from reportlib.data.load import fingerprint_now
    from reportlib.planning.sample import sample_data
    from reportlib.reports import views

    folder = tmp_path / "d"
    sample_data(folder, seed=3, start="2025-01", months=1, agents=10, clients=2)
    ctx = views.start_report("sla", month="2025-01", data=str(folder))
    opened = ctx.source.fingerprint
    assert ctx.facts()["fingerprint"] == opened[:16] == fingerprint_now(str(folder), ctx.source.tz)[:16]
    clients = folder / "clients.csv"
    clients.write_text(clients.read_text().replace(",", ", ", 1))  # rewritten after the source was opened
    now = ctx.facts()["fingerprint"]
    assert now != opened[:16] and now == fingerprint_now(str(folder), ctx.source.tz)[:16]
    assert (
        fingerprint_now("postgres://u@h/db", "UTC") is None and fingerprint_now(str(tmp_path / "gone"), "UTC") is None
    )


def test_email_does_not_send_a_report_rendered_from_other_data_than_the_months_last_run(tmp_path, capsys):
    from test_security_delivery import _dist, _email, _fake_month

    out = tmp_path / "out"
    month_dir = _fake_month(out, ["C1"])
    manifest = json.loads((month_dir / "manifest.json").read_text())
    manifest["data_fingerprint"] = "new0000011112222"  # the last run (say, an interrupted one) read new data
    manifest["reports"][0]["data_fingerprint"] = "old0000011112222"  # the pack kept from the run before
    manifest["reports"][1]["data_fingerprint"] = "new0000011112222"
    (month_dir / "manifest.json").write_text(json.dumps(manifest))
    params = _dist(tmp_path, account_teams={"C1": ["am@corp.test"]})
    assert _email(out, params, "--dry-run", str(tmp_path / "eml")) == 1
    err = capsys.readouterr().err
    assert "not e-mailing monthly_pack: it was rendered from other data (old0000011112222) than the month's " in err
    from reportlib.delivery.run import index_html

    page = index_html(manifest)  # the month's index says which page is stale, not only the newest fingerprint
    assert page.count("Rendered from other data") == 1 and "fingerprint old0000011112222" in page
    sent = [p.name for p in (tmp_path / "eml").glob("*.eml")]
    assert len(sent) == 1 and sent[0].startswith("client_review_C1")  # the review of the last run's data
    assert "run it again (reportlib run --month 2026-03 --reports monthly_pack, with that run's" in err
    # a client's review kept from the run before: the hint renders that one page again, not every client's (a probe
    # followed it for an agent's review and rendered 172)
    manifest["reports"][0]["data_fingerprint"] = "new0000011112222"
    manifest["reports"][1]["data_fingerprint"] = "old0000011112222"
    (month_dir / "manifest.json").write_text(json.dumps(manifest))
    assert _email(out, params, "--dry-run", str(tmp_path / "eml2")) == 1
    assert "(reportlib run --month 2026-03 --reports client_review --clients C1, with that run's" in (
        capsys.readouterr().err
    )


def test_sigterm_stops_a_run_as_ctrl_c_does(project):  # noqa: F811 - the fixture imported above
    """systemd stops a service with SIGTERM: the run said nothing, left its temporary folder and Python's
    leaked-semaphore warning, and exited 143 unexplained; now it unwinds as on Ctrl-C and says so."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from test_security_delivery import ROOT, _notebook

    from reportlib.delivery.pdf import BROWSER_TMP_PREFIX, browser_temp_base, find_chromium

    proj = project
    # with a browser, the pack first, printed to PDF: the worker's browser, and its profile folder, are running when
    # the signal comes (a probe: two reportlib-chromium-* folders were left behind); then a review that hangs
    pdf = find_chromium() is not None
    hangs = "client_review" if pdf else "sla"
    _notebook(proj["nbs"] / f"{hangs}.ipynb", hangs, extra="import time\ntime.sleep(120)")
    cmd = [sys.executable, "-m", "reportlib", "run", "--month", MONTH, "--params", str(proj["params"])]
    cmd += ["--out", str(proj["out"]), "--workers", "1"]
    cmd += ["--reports", "monthly_pack", "--clients", "C1"] if pdf else ["--reports", "sla"]
    tmp = proj["root"] / "tmp"  # the run's own temporary folder, to see what it leaves there
    tmp.mkdir()
    browsers = Path(browser_temp_base(str(tmp)))  # the browser's folder: under /tmp when tmp is too long for it
    before = set(browsers.glob(f"{BROWSER_TMP_PREFIX}*"))
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(tmp))
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not list(proj["out"].glob(f".{MONTH}.run-*")):
            time.sleep(0.3)
        assert list(proj["out"].glob(f".{MONTH}.run-*")), "the run never started"
        while pdf and time.time() < deadline and not (proj["out"] / MONTH / "monthly_pack.pdf").exists():
            time.sleep(0.3)  # the pack printed: the browser runs
        time.sleep(2)  # the notebook is running
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143 and "reportlib: stopped (SIGTERM)" in err, err[-2000:]
    assert "Traceback" not in err and "leaked" not in err
    assert not list(proj["out"].glob(f".{MONTH}.run-*"))  # its temporary folder is gone
    # nor a kernel's connection file, a warm-up notebook, a browser's profile or a month folder of its own (the
    # pack, when printed, is the one page published)
    assert not list(tmp.iterdir()) and set(browsers.glob(f"{BROWSER_TMP_PREFIX}*")) <= before
    if pdf:
        assert (proj["out"] / MONTH / "monthly_pack.pdf").exists()
        assert not list((proj["out"] / MONTH).glob("client_review*.html"))
    else:
        assert not (proj["out"] / MONTH).exists()


def test_a_run_claims_its_month_before_it_checks_the_data(project, capsys):  # noqa: F811 - the fixture above
    """The run took the month's lock only after its data check (tens of seconds on a large operation): an
    `email` started meanwhile sent the old reports first. Now the month is claimed first: with the lock held
    elsewhere the run stops on the lock, before reading any data; a run stopped by bad data leaves no empty
    month folder behind."""
    from test_security_delivery import _run

    from reportlib.delivery.run import month_lock

    out = project["out"]
    (project["data"] / "contacts.csv").write_text("not,a,contacts,table\n")  # the check would refuse it
    month_dir = out / MONTH
    month_dir.mkdir(parents=True)
    with month_lock(month_dir, "`reportlib email`"):
        assert _run(project) == 1
    err = capsys.readouterr().err
    assert "another `reportlib run` or `reportlib email` is using" in err and "checking the data" not in err

    shutil.rmtree(month_dir)
    assert _run(project) == 1
    err = capsys.readouterr().err
    assert "checking the data" in err and "contacts.csv" in err
    assert not month_dir.exists() and not list(out.glob(f".{MONTH}.run-*"))  # nothing left of the failed run


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--month", MONTH, "--clients", ""],  # rendered nothing and said "0 of 0 reports ... rendered", exit 0
        ["run", "--month", MONTH, "--agents", " "],
        ["forecast", "--queue", ""],
        ["attrition", "--month", MONTH, "--by", ""],
    ],
)
def test_an_option_given_blank_is_a_usage_error(argv, capsys):
    from reportlib.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and "expected a value, got" in capsys.readouterr().err


@pytest.mark.parametrize(
    "calendar, words",
    [
        ("  exclude_from_history: [30/11/2026]\n", "exclude_from_history item 1: '30/11/2026' is not a date"),
        ('  events: [{name: x, kind: window, start: "13-45", end: "12-01"}]\n', "event 'x': 13-45 is not a day"),
        ("  holidays: {country: XX}\n", "does not know country 'XX'"),
        ("  exclude_from_histroy: [2026-11-30]\n", "did you mean exclude_from_history?"),
    ],
)
@pytest.mark.parametrize("command", ["run", "lab"])
def test_a_bad_calendar_stops_run_and_lab_before_any_page(command, calendar, words, tmp_path, capsys):
    """A calendar the forecast or the business clock cannot read is a usage error up front (exit 2, one line), not
    a forecast page published "ok" with the error as its note (as a bad event or exclusion was)."""
    from reportlib.cli import main

    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("calendar:\n" + calendar)
    out = tmp_path / "out"
    argv = {
        "run": ["run", "--month", MONTH, "--reports", "forecast", "--out", str(out), "--data", str(tmp_path / "none")],
        "lab": ["lab", "--no-browser"],
    }[command]
    code = main([*argv, "--params", str(overlay)])
    err = capsys.readouterr().err
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()]  # no page, no notebook
