"""Progress of long work: one plain line per finished step without a terminal (cron, systemd)."""

from __future__ import annotations

import io
import subprocess
import sys
import time

from reportlib.core import progress


def test_plain_lines_without_a_terminal():
    out = io.StringIO()
    progress.activate(out, tty=False)
    try:
        with progress.step("parsed and checked contacts.csv", 2, 5) as st:
            time.sleep(0.05)
            st.detail = "1,234 rows"
    finally:
        progress.deactivate()
    line = out.getvalue().strip()
    assert line.startswith("reportlib: parsed and checked contacts.csv: 1,234 rows (2 of 5) in ")
    assert line.endswith(" s") and float(line.split(" in ")[1][:-2]) >= 0.05


def test_a_step_that_raises_says_nothing_of_being_done():
    """A probe: Ctrl-C during a parse printed "parsed and checked contacts.csv (4 of 7) in 18.0 s" before
    "interrupted"; a failed cache write likewise. A step that raises prints no finished line, with or without a
    terminal."""
    import pytest

    for tty in (False, True):
        out = io.StringIO()
        progress.activate(out, tty=tty)
        try:
            with pytest.raises(KeyboardInterrupt), progress.step("parsed and checked contacts.csv", 4, 7):
                raise KeyboardInterrupt
        finally:
            progress.deactivate()
        assert "parsed and checked contacts.csv (4 of 7) in" not in out.getvalue(), tty


def test_silent_unless_activated():
    out = io.StringIO()
    with progress.step("anything", 1, 1):
        pass
    progress.log_finished("anything", 1.0)
    assert out.getvalue() == "" and not progress.active()


def test_terminal_gets_a_bar_and_a_finished_line():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    progress.activate(out)
    try:
        with progress.step("rendered sla", 1, 3):
            time.sleep(1.2)  # the elapsed clock ticks while the step runs
    finally:
        progress.deactivate()
    text = out.getvalue()
    assert "rendered sla 0/3 [00:01]" in text or "rendered sla 0/3 [00:00]" in text
    assert "reportlib: rendered sla (1 of 3) in 1." in text


def test_validate_reports_each_parsed_table_in_a_log(tmp_path):
    from reportlib.planning.sample import sample_data

    sample_data(tmp_path / "s", seed=2, start="2025-01", months=1, agents=10, clients=3)
    env_cache = tmp_path / "cache"
    out = subprocess.run(
        [sys.executable, "-m", "reportlib", "validate", "--data", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "REPORTLIB_CACHE": str(env_cache)},
    )
    assert out.returncode == 0, out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.startswith("reportlib: parsed and checked ")]
    tables = sorted(p.name for p in (tmp_path / "s").iterdir() if p.suffix == ".csv")
    assert len(lines) == len(tables), out.stderr  # one line per table file of the sample
    assert any("contacts.csv" in ln and " rows (" in ln and f" of {len(tables)}) in " in ln for ln in lines)


def test_ids_in_progress_lines_cannot_add_lines_or_terminal_escapes():
    """`run` names each page by its client or agent id: a newline, an ESC or a right-to-left override
    in an id is shown escaped, so a progress line stays one line and shows what the id holds."""
    out = io.StringIO()
    progress.activate(out, tty=False)
    try:
        with progress.step("rendered client_review C\x1b[2J1\nreportlib: all good", 1, 2) as st:
            st.detail = "ok \u202e"
    finally:
        progress.deactivate()
    text = out.getvalue()
    assert text.count("\n") == 1 and "\x1b" not in text and "\u202e" not in text, text
    assert text.startswith("reportlib: rendered client_review C\\x1b[2J1\\nreportlib: all good: ok \\u202e (1 of 2)")
