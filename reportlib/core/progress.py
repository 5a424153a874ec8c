"""Progress of long work (parsing, checking, rendering) for the command line.

Silent unless the command line turns it on (`activate`), so notebooks and library calls print
nothing. On a terminal each step shows a tqdm bar: done of total, what is running, elapsed time.
Without a terminal (cron, systemd, a log file) each finished step prints one plain line:

    reportlib: parsed and checked contacts.csv: 39,263 rows (1 of 5) in 4.2 s
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, TextIO

from reportlib.core.safety import printable

_STATE: dict[str, Any] = {"stream": None, "tty": False, "prefix": "reportlib"}


def activate(stream: TextIO | None = None, prefix: str = "reportlib", tty: bool | None = None) -> None:
    """Report progress to `stream` (default stderr); bars when it is a terminal, plain lines otherwise."""
    stream = stream or sys.stderr
    _STATE.update(
        stream=stream,
        prefix=prefix,
        tty=bool(stream.isatty()) if tty is None and hasattr(stream, "isatty") else bool(tty),
    )


def deactivate() -> None:
    """Stop reporting progress."""
    _STATE["stream"] = None


def active() -> bool:
    """True when progress is being reported."""
    return _STATE["stream"] is not None


def finished_line(
    what: str, seconds: float, done: int | None = None, total: int | None = None, detail: str = ""
) -> str:
    """The plain line for one finished step: 'reportlib: WHAT: DETAIL (DONE of TOTAL) in S s'."""
    count = f" ({done} of {total})" if done is not None and total else ""
    what, detail = printable(what), printable(detail)  # ids in `what`: one line, no terminal escapes
    return f"{_STATE['prefix']}: {what}{': ' + detail if detail else ''}{count} in {seconds:.1f} s"


def log_finished(
    what: str, seconds: float, done: int | None = None, total: int | None = None, detail: str = ""
) -> None:
    """Print finished_line when progress is on and the stream is not a terminal (a terminal has bars)."""
    stream = _STATE["stream"]
    if stream is not None and not _STATE["tty"]:
        print(finished_line(what, seconds, done, total, detail), file=stream, flush=True)


class Step:
    """One running step: `detail` may be set before it ends (e.g. the row count)."""

    def __init__(self, what: str, done: int | None, total: int | None):
        self.what, self.done, self.total, self.detail = printable(what), done, total, ""
        self.started = time.perf_counter()
        self.bar: Any = None
        self._last_note = self.started

    def note(self, detail: str) -> None:
        """How far the step has got (e.g. rows parsed so far): shown on the bar, or a plain line every 10 s."""
        stream = _STATE["stream"]
        if stream is None:
            return
        detail = printable(detail)
        if self.bar is not None:
            self.bar.set_description_str(f"{_STATE['prefix']}: {self.what}: {detail}")
            return
        now = time.perf_counter()
        if now - self._last_note >= 10.0:
            self._last_note = now
            print(
                f"{_STATE['prefix']}: {self.what}: {detail} so far ({now - self.started:.0f} s)",
                file=stream,
                flush=True,
            )


@contextlib.contextmanager
def step(what: str, done: int | None = None, total: int | None = None) -> Iterator[Step]:
    """A step of long work: a live bar with elapsed time on a terminal, one line when it finishes otherwise.

    `done`/`total` place it in a sequence (the bar shows done of total). Nothing at all when inactive.
    """
    s = Step(what, done, total)
    stream = _STATE["stream"]
    bar = None
    if stream is not None and _STATE["tty"]:
        from tqdm import tqdm

        bar = tqdm(
            total=total or 1,
            initial=(done - 1) if done and total else 0,
            desc=f"{_STATE['prefix']}: {s.what}",
            file=stream,
            leave=False,
            dynamic_ncols=True,
            bar_format="{desc} {n_fmt}/{total_fmt} [{elapsed}]",
        )
    s.bar = bar
    stop = threading.Event()
    if bar is not None:  # keep the elapsed time ticking while one long step runs

        def tick() -> None:
            while not stop.wait(1.0):
                bar.refresh()

        threading.Thread(target=tick, daemon=True).start()
    finished = False
    try:
        yield s
        finished = True
    finally:
        stop.set()
        if bar is not None:
            bar.update(1)
            bar.close()
        # a step that raised (a fault, Ctrl-C) says nothing: "parsed and checked contacts.csv" printed before the
        # interruption or the fault's own message read as done (a probe)
        if finished and bar is not None:
            print(
                finished_line(s.what, time.perf_counter() - s.started, s.done, s.total, s.detail),
                file=stream,
                flush=True,
            )
        elif finished:
            log_finished(s.what, time.perf_counter() - s.started, s.done, s.total, s.detail)
