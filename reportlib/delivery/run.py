"""The monthly batch: execute the report notebooks with papermill in parallel and publish the HTML.

`run_month` renders every report (and one client review per client) for a month:

* each notebook is parameterized by papermill (`month`, `data`, `params_file`, `client_id`, `team`)
  and executed in a pool of worker processes, one warm Jupyter kernel per worker (reset between
  notebooks, so imports are paid once per worker rather than once per notebook). Kernels talk over
  IPC sockets in a private folder, so parallel kernels can never collide on TCP ports;
* a per-notebook wall-clock timeout interrupts (then kills) a notebook that runs too long;
* results land in a temporary folder and are moved into `outputs/<month>/` one report at a time with
  `os.replace`, so a report that fails never replaces the last good one; its executed notebook is
  kept as `notebooks/<name>.failed.ipynb` for debugging;
* `manifest.json` and `index.html` describe every report of the month and are rewritten atomically
  after each report;
* reports marked `pdf` in the registry are also printed to `<stem>.pdf` by the worker's warm headless
  Chromium (delivery/pdf.py, paper from parameters `reports.paper`), from the page just rendered, and
  published with it: a report whose PDF cannot be printed fails as a whole, so the previous good HTML
  and PDF stay in place together.

The papermill engine is papermill's own nbclient engine, given a kernel that outlives one notebook;
everything else (parameter injection, error markers, output notebook) is papermill's.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import html
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reportlib.core.errors import ReportlibError, UsageError
from reportlib.core.months import month_bounds, month_label, resolve_month
from reportlib.core.params import DEFAULT_TIMEZONE
from reportlib.core.safety import owned_temp_folder, owner_gone, owner_only, printable, unspoofed, write_owner
from reportlib.core.words import counted, in_words, noun_for
from reportlib.data.source import DataSource
from reportlib.reports.registry import (
    AGENT_REPORT,
    ALL_REPORTS,
    CAPACITY_REPORTS,
    CLIENT_REPORT,
    CONTRACT_REPORTS,
    GOAL_REPORTS,
    PDF_REPORTS,
    TITLES,
    page_title,
)

# jsonschema (imported by nbformat in this process, the workers and the kernels) checks the "iri" string
# format with rfc3987_syntax when it is installed, which builds a grammar on import: ~1.5 s of CPU per process.
# No schema the batch validates (nbformat's) uses that format, so the batch's processes do without it.
NO_IMPORT = ("rfc3987_syntax",)
for _name in NO_IMPORT:
    sys.modules.setdefault(_name, None)  # type: ignore[arg-type]

DEFAULT_RENDERER = "reportlib.reports.render:render_html"
DEFAULT_TIMEOUT_S = 900.0
MANIFEST = "manifest.json"
INDEX = "index.html"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# --- jobs -----------------------------------------------------------------------------------------


@dataclass
class Job:
    """One notebook execution: which report, for which client, with which papermill parameters."""

    report: str
    client_id: str | None
    stem: str  # file name without suffix, unique within the month
    title: str
    parameters: dict
    client_name: str | None = None
    estimate_s: float = 0.0  # expected seconds (from the last run), to start long ones first
    agent_id: str | None = None  # an agent review's agent (then client_id is None)
    agent_name: str | None = None
    supervisor: str | None = None  # the roster's supervisor value, and the supervisor's id (e-mail uses them)
    supervisor_id: str | None = None

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.report, self.client_id if self.agent_id is None else self.agent_id)

    @property
    def who(self) -> str:
        """'sla', 'client_review for client C1', 'agent_review for agent A7' (for messages)."""
        if self.agent_id is not None:
            return f"{self.report} for agent {self.agent_id}"
        return self.report + (f" for client {self.client_id}" if self.client_id else "")


def entry_key(entry: Mapping[str, Any]) -> tuple[Any, Any]:
    """A manifest entry's key: (report, client id), or (report, agent id) for an agent review."""
    if entry.get("agent_id") is not None:
        return (entry.get("report"), entry.get("agent_id"))
    return (entry.get("report"), entry.get("client_id"))


def entry_who(entry: Mapping[str, Any]) -> str:
    """'sla', 'client_review for client C1' or 'agent_review for agent A7', from a manifest entry."""
    if entry.get("agent_id") is not None:
        return f"{entry.get('report')} for agent {entry['agent_id']}"
    return str(entry.get("report")) + (f" for client {entry['client_id']}" if entry.get("client_id") else "")


def plan_jobs(
    month: str,
    reports: Iterable[str],
    clients: Iterable[tuple[str, str | None]] | None,
    *,
    data: str,
    params_file: str | None,
    agents: Iterable[Any] | None = None,
) -> list[Job]:
    """The notebook executions for `reports` (client reviews once per (client_id, client_name), agent
    reviews once per agent of `agents`: objects with agent_id, name, supervisor and supervisor_id, such as
    `reports.agent_review.Subject`).

    A client or agent review's file stem comes from `safety.file_stem`: a readable slug plus a hash of the
    raw id, so it is the same for an id in every run and differs between any two ids.
    """
    from reportlib.core.safety import file_stem

    base = {"month": month, "data": data, "params_file": params_file, "client_id": None, "team": None}
    jobs: list[Job] = []
    for report in reports:
        if report in (CLIENT_REPORT, AGENT_REPORT):
            continue
        jobs.append(Job(report, None, report, page_title(report, month), dict(base)))
    if CLIENT_REPORT in reports:
        seen: set[str] = set()
        for cid, name in clients or []:
            if str(cid) in seen:
                continue
            seen.add(str(cid))
            title = page_title(CLIENT_REPORT, month, name or cid)
            jobs.append(
                Job(
                    CLIENT_REPORT,
                    str(cid),
                    file_stem(CLIENT_REPORT, str(cid)),
                    title,
                    dict(base, client_id=str(cid)),
                    client_name=name,
                )
            )
    if AGENT_REPORT in reports:
        seen_agents: set[str] = set()
        for subject in agents or []:
            aid = str(subject.agent_id)
            if aid in seen_agents:
                continue
            seen_agents.add(aid)
            name = subject.name
            jobs.append(
                Job(
                    AGENT_REPORT,
                    None,
                    file_stem(AGENT_REPORT, aid),
                    page_title(AGENT_REPORT, month, name or aid),
                    dict(base, agent_id=aid),
                    agent_id=aid,
                    agent_name=name,
                    supervisor=subject.supervisor,
                    supervisor_id=subject.supervisor_id,
                )
            )
    return jobs


# --- worker side: one warm kernel per process ------------------------------------------------------

_WORKER: dict[str, Any] = {
    "km": None,
    "kc": None,
    "sockdir": None,
    "warm": None,
    "used": 0,
    "cwd": None,
    "printer": None,
}
# The reset collects the previous notebook's garbage (IPython's reset ends in a full gc.collect()); what
# survives it (modules a notebook imported lazily, the kernel's memo of shared results) is then frozen like
# the warm-up's imports, so the next reset's collection walks only the objects that notebook made: it walked
# the whole heap, ~0.1 s of a client review's ~0.4 s in its kernel. A frozen object still goes when its last
# reference does; only a cycle among frozen objects outlives the worker's batch.
_RESET_CODE = (
    "get_ipython().reset(new_session=True, aggressive=False)\n"
    "import gc as _rl_gc; _rl_gc.freeze(); del _rl_gc\n"
    "import os as _rl_os; _rl_os.chdir({cwd!r}); del _rl_os"
)


def _warm_engine():
    """papermill's nbclient engine, executing on a kernel manager it is given and does not own."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger

    class _Client(PapermillNotebookClient):
        reset_code: str | None = None

        def papermill_execute_cells(self):
            if self.reset_code:  # a reused kernel: clear the previous notebook's namespace first
                reply = self.wait_for_reply(self.kc.execute(self.reset_code, silent=True, store_history=False))
                if not reply or reply["content"].get("status") != "ok":
                    raise RuntimeError("could not reset the reused kernel")
            return super().papermill_execute_cells()

    class _Engine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            start_timeout=60,
            execution_timeout=None,
            km=None,
            reset_code=None,
            debug_path=None,
            **kwargs,
        ):
            client = _Client(
                nb_man,
                km=km,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logger,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
            )
            client.reset_code = reset_code
            # the client (zmq channels) of this worker's kernel outlives a notebook too: a new one costs a
            # kernel_info round trip and jupyter_client's 0.2 s wait for a quiet IOPub channel. Messages left
            # from an earlier notebook are skipped: nbclient only reads replies to its own requests.
            client.kc = _WORKER["kc"] if _WORKER["kc"] is not None and km is _WORKER["km"] else None
            try:
                return client.execute()
            except BaseException:
                # papermill saves a notebook whose cell raised; keep what ran when the kernel died or hung too
                if debug_path:
                    from papermill.iorw import write_ipynb

                    with contextlib.suppress(Exception):
                        write_ipynb(nb_man.nb, debug_path)
                raise
            finally:
                if km is _WORKER["km"] and km is not None and km.has_kernel:
                    _WORKER["kc"] = client.kc  # kept for the next notebook on this kernel
                elif client.kc is not None:
                    client.kc.stop_channels()

    papermill_engines.register("reportlib-warm", _Engine)
    return "reportlib-warm"


# --- one notebook in a fresh kernel (tests, scripts); run_month runs many on warm kernels ------------


def ipc_kernel_manager_class():
    """A kernel manager that talks over Unix sockets in a private folder (parallel kernels never collide on ports)."""
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any):
            kwargs.setdefault("transport", "ipc")
            super().__init__(**kwargs)
            if self.transport == "ipc":
                folder = Path(tempfile.gettempdir()) / f"rl-ipc-{os.getuid()}"
                folder.mkdir(mode=0o700, exist_ok=True)
                self.ip = str(folder / uuid.uuid4().hex[:12])

    return IPCKernelManager


def execute(
    notebook: str | Path,
    output_path: str | Path,
    parameters: Mapping[str, Any] | None = None,
    timeout: int | None = 600,
    kernel_name: str = "python3",
    cwd: str | Path | None = None,
) -> Path:
    """Run a report notebook with papermill (IPC kernel, no progress bar) and write the executed copy.

    ``notebook`` is a report name or a path. Raises papermill's PapermillExecutionError when a cell fails
    (the executed notebook is still written, for debugging).
    """
    import papermill as pm

    from reportlib.reports.registry import notebook_path

    src = (
        notebook_path(notebook)
        if isinstance(notebook, str) and not str(notebook).endswith(".ipynb")
        else Path(notebook)
    )
    out = Path(output_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(
        str(src),
        str(out),
        parameters=dict(parameters or {}),
        kernel_name=kernel_name,
        progress_bar=False,
        log_output=False,
        request_save_on_cell_execute=False,
        execution_timeout=timeout,
        cwd=str(cwd or src.parent),
        kernel_manager_class=ipc_kernel_manager_class(),
    )
    return out


def _new_kernel_manager(kernel_name: str):
    """An (unstarted) kernel manager on IPC sockets in this worker's private folder (no TCP ports)."""
    from jupyter_client.manager import AsyncKernelManager

    if _WORKER["sockdir"] is None:
        _WORKER["sockdir"] = tempfile.mkdtemp(prefix="rl-k-")
        from multiprocessing import util

        util.Finalize(None, _worker_exit, exitpriority=10)
    ip = os.path.join(_WORKER["sockdir"], f"k{os.getpid()}-{time.monotonic_ns() % 10**9}")
    # its connection file in the same folder (not a tmpXXXX.json in /tmp), so a worker killed by SIGTERM leaves none
    return AsyncKernelManager(kernel_name=kernel_name, transport="ipc", ip=ip, connection_file=ip + ".json")


def _shutdown_kernel() -> None:
    km, kc, _WORKER["km"], _WORKER["kc"], _WORKER["used"] = _WORKER["km"], _WORKER["kc"], None, None, 0
    if kc is not None:
        with contextlib.suppress(Exception):
            kc.stop_channels()
    if km is None:
        return
    from jupyter_core.utils import run_sync

    with contextlib.suppress(Exception):
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)  # also removes its connection file and sockets


def _printer():
    """This worker's PDF printer (one headless Chromium, started on first use and kept warm)."""
    from reportlib.delivery.pdf import PdfPrinter

    if _WORKER["printer"] is None:
        _WORKER["printer"] = PdfPrinter()
        if _WORKER["sockdir"] is None:  # no kernel made the exit hook yet: close the browser with the worker
            from multiprocessing import util

            util.Finalize(None, _close_printer, exitpriority=11)
    return _WORKER["printer"]


def _close_printer() -> None:
    printer, _WORKER["printer"] = _WORKER["printer"], None
    if printer is not None:
        printer.close()


def _worker_exit() -> None:
    _close_printer()
    _shutdown_kernel()
    if _WORKER["sockdir"]:
        shutil.rmtree(_WORKER["sockdir"], ignore_errors=True)


def _worker_init(main_pid: int | None = None, shared: str | None = None) -> None:
    """In each worker: Ctrl-C is the main process's business; SIGTERM kills this worker's kernel, then the
    worker; and the worker ends (with its kernel) when the main process or its own parent dies. `shared`:
    the run's folder of shared results (see shared_results), passed on to the worker's kernels (a
    forkserver started by an earlier run would otherwise hand down that run's environment)."""
    from reportlib.data.cache import SHARED_MEMO_ENV

    if shared:
        os.environ[SHARED_MEMO_ENV] = shared
    else:
        os.environ.pop(SHARED_MEMO_ENV, None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_terminate)
    die_with_parent(signal.SIGTERM)
    # the run gives each notebook its parameters; an overlay left in the environment by `reportlib lab` must not
    # reach the kernels (views.start_report reads it when a notebook has no params_file)
    os.environ.pop("REPORTLIB_PARAMS", None)
    if main_pid:
        watch_process(main_pid, lambda: _on_terminate(signal.SIGTERM, None))


PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Ask Linux to send `sig` to this process when its parent exits (prctl PR_SET_PDEATHSIG); False
    where that is not available. Exits at once when the parent is already gone (re-parented to init)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        parent = os.getppid()
        if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if parent == 1:
        os.kill(os.getpid(), sig)
    return True


def watch_process(pid: int, on_exit: Callable[[], None]) -> threading.Thread:
    """A daemon thread that calls `on_exit` when process `pid` ends (a pidfd where the kernel has them, else
    a check every second); at once when it is already gone."""

    def wait() -> None:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            on_exit()
            return
        except (AttributeError, OSError):
            while True:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                except OSError:
                    pass
                time.sleep(1.0)
            on_exit()
            return
        import select

        select.select([fd], [], [])
        on_exit()

    t = threading.Thread(target=wait, name=f"watch-{pid}", daemon=True)
    t.start()
    return t


def _on_terminate(signum, frame) -> None:
    pid = _kernel_pid(_WORKER["km"]) if _WORKER["km"] is not None else None
    if pid:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    printer = _WORKER["printer"]
    browser_tmp = printer.temp_folder if printer is not None else None  # its profile: close() would remove it
    for folder in (_WORKER["sockdir"], _WORKER["warm"], browser_tmp):  # os._exit skips every `finally`
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
    os._exit(128 + signum)


def _kernel_pid(km) -> int | None:
    proc = getattr(getattr(km, "provisioner", None), "process", None)
    return getattr(proc, "pid", None)


def notebook_imports(paths: Iterable[Path]) -> str:
    """The top-level import statements of the notebooks' code cells, each guarded, as one code block.

    A warm kernel runs these before its first notebook, so the imports every report pays are paid once
    per worker, while the main process still checks the data.
    """
    import ast

    import nbformat

    seen: dict[str, None] = {}
    for path in paths:
        try:
            nb = nbformat.read(str(path), as_version=4)
        except Exception:  # noqa: BLE001 - a notebook that cannot be read fails later, with a message
            continue
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:  # IPython magics
                continue
            for node in tree.body:
                if isinstance(node, (ast.Import, ast.ImportFrom)) and not (
                    isinstance(node, ast.ImportFrom) and node.module == "__future__"
                ):
                    seen[ast.unparse(node)] = None
    return "\n".join(f"try:\n    {stmt}\nexcept Exception:\n    pass" for stmt in seen)


def warm_kernel(payload: dict) -> float:
    """Start this worker's kernel ahead of its first notebook; seconds taken.

    Runs in a worker process while the main process is still checking the data: executes a one-cell
    notebook holding the reports' imports through the same papermill engine and renders it, so the imports
    in the kernel and the first-use costs of papermill, nbclient and the HTML templates are paid now.
    """
    import nbformat
    import papermill

    start = time.perf_counter()
    if _WORKER["km"] is None:
        _WORKER["km"] = _new_kernel_manager(payload.get("kernel_name") or "python3")
        _WORKER["cwd"] = payload["cwd"]
    km = _WORKER["km"]
    if km.has_kernel:
        return 0.0
    folder = _WORKER["warm"] = Path(tempfile.mkdtemp(prefix="rl-warm-"))
    try:
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        # after the imports, gc.freeze() moves everything imported out of the collector's reach, so the
        # collections that every later notebook triggers (and the namespace reset) skip the libraries' objects
        nb.cells = [
            nbformat.v4.new_code_cell(
                "import sys as _rl_sys\n"
                + "".join(f"_rl_sys.modules.setdefault({n!r}, None)\n" for n in NO_IMPORT)
                + (payload.get("preload") or "pass")
                + "\nimport gc as _rl_gc\n"
                "_rl_gc.collect()\n_rl_gc.freeze()\ndel _rl_gc"
            )
        ]
        nbformat.write(nb, folder / "warm.ipynb")
        with contextlib.chdir(payload["cwd"]):
            papermill.execute_notebook(
                str(folder / "warm.ipynb"),
                str(folder / "out.ipynb"),
                engine_name=_warm_engine(),
                progress_bar=False,
                km=km,
                execution_timeout=600,
                start_timeout=120,
            )
        _load_renderer(payload["renderer"])(str(folder / "out.ipynb"), "warm-up")
        if payload.get("pdf_paper"):  # the batch prints PDFs: start this worker's browser now too
            with contextlib.suppress(Exception):  # a browser that cannot start fails the PDFs, with the reason
                _printer().start()
        gc.collect()
        gc.freeze()  # the same in this worker, which holds papermill, nbclient and nbconvert
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        _WORKER["warm"] = None
    _WORKER["used"] = 1  # the first notebook starts with a namespace reset, like every later one
    return time.perf_counter() - start


def _load_renderer(spec: str) -> Callable[[str, str], str]:
    """'module:function' -> the function; the default falls back to `basic_html` when absent."""
    import importlib

    module, _, name = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        if spec != DEFAULT_RENDERER:
            raise
        return basic_html


def basic_html(executed_notebook_path: str, title: str) -> str:
    """Stand-alone HTML of an executed notebook, code hidden (nbconvert's lab template)."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(executed_notebook_path, as_version=4)
    exporter = HTMLExporter(
        template_name="lab", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


def _error_summary(exc: BaseException, timed_out: float | None) -> str:
    """One line saying why a notebook failed."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if timed_out:
        where = f" (In [{exc.exec_count}] was running)" if isinstance(exc, PapermillExecutionError) else ""
        return f"timed out after {timed_out:g} s{where}; raise --timeout or parameters schedule.timeout_s"
    if isinstance(exc, PapermillExecutionError):
        value = _ANSI.sub("", str(exc.evalue or "")).strip()
        return f"In [{exc.exec_count}]: {exc.ename}: {value}"[:600]
    if isinstance(exc, CellTimeoutError):
        return "a cell timed out; raise --timeout or parameters schedule.timeout_s"
    if isinstance(exc, DeadKernelError):
        return "the kernel died while running the notebook (out of memory, or a crash)"
    return f"{type(exc).__name__}: {_ANSI.sub('', str(exc))}"[:600]


def stamp_of(job: dict) -> tuple[str, str | None, str, str | None]:
    """(report, client id, month, agent id) a job's page and PDF are stamped with (safety.stamp_record):
    an agent review carries its agent's id and no client id."""
    agent = job.get("agent_id")
    return job["key"][0], None if agent is not None else job["key"][1], str(job["parameters"].get("month")), agent


def _data_read(notebook: Path) -> str | None:
    """The fingerprint of the data an executed notebook read (its run facts), None when it recorded none."""
    import nbformat

    from reportlib.reports.render import notebook_facts

    try:
        fingerprint = notebook_facts(nbformat.read(str(notebook), as_version=4)).get("fingerprint")
    except Exception:  # noqa: BLE001 - unreadable: the page says what it can; the check is skipped
        return None
    return str(fingerprint) if fingerprint else None


def execute_job(job: dict) -> dict:
    """Execute one notebook and render its HTML into job['tmp']; return status, seconds, error, paths.

    Runs in a worker process. The kernel is kept (and reset) for the next job unless this one timed out,
    the kernel died or the engine broke.
    """
    import papermill

    from reportlib.core.safety import stamp_page

    start = time.perf_counter()
    tmp = Path(job["tmp"])
    out_nb, out_html = tmp / "notebooks" / f"{job['stem']}.ipynb", tmp / f"{job['stem']}.html"
    out_nb.parent.mkdir(parents=True, exist_ok=True)
    result = {"key": job["key"], "status": "failed", "error": None, "notebook": None, "html": None, "pdf": None}
    engine = _warm_engine()
    timeout = float(job["timeout"])
    timed_out: list[float] = []
    if _WORKER["km"] is None:
        _WORKER["km"] = _new_kernel_manager(job.get("kernel_name") or "python3")
        _WORKER["cwd"] = job["cwd"]
    km = _WORKER["km"]
    reset = _RESET_CODE.format(cwd=_WORKER["cwd"]) if _WORKER["used"] else None

    def interrupt() -> None:  # the notebook ran out of time: interrupt the cell, then kill the kernel
        timed_out.append(timeout)
        pid = _kernel_pid(km)
        if pid:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGINT)

    def kill() -> None:
        pid = _kernel_pid(km)
        if pid:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    watchdogs = [threading.Timer(timeout, interrupt), threading.Timer(timeout + 15, kill)]
    try:
        for w in watchdogs:
            w.daemon = True
            w.start()
        with contextlib.chdir(job["cwd"]):
            papermill.execute_notebook(
                job["notebook"],
                str(out_nb),
                parameters=job["parameters"],
                engine_name=engine,
                kernel_name=job.get("kernel_name"),
                progress_bar=False,
                km=km,
                reset_code=reset,
                execution_timeout=timeout + 30,
                start_timeout=120,
                request_save_on_cell_execute=False,  # one write at the end, not two per cell
                debug_path=str(out_nb),
            )
        _WORKER["used"] += 1
        for w in watchdogs:
            w.cancel()
        try:
            renderer = _load_renderer(job["renderer"])
            page = renderer(str(out_nb), job["title"])
            # the page says which report, client and month it was rendered for: `email` checks it
            page = stamp_page(page, *stamp_of(job))
            out_html.write_text(page, encoding="utf-8")
            result["fingerprint"] = _data_read(out_nb)
        except Exception as exc:  # noqa: BLE001 - any rendering failure fails this report only
            result["error"] = f"rendering the HTML failed: {type(exc).__name__}: {exc}"[:600]
        else:
            pdf_error = _print_pdf(job, out_html, tmp / f"{job['stem']}.pdf") if job.get("pdf_paper") else None
            if pdf_error:
                result["error"] = pdf_error
            else:
                result.update(status="ok", html=str(out_html))
                if job.get("pdf_paper"):
                    result["pdf"] = str(tmp / f"{job['stem']}.pdf")
    except Exception as exc:  # noqa: BLE001 - a failed notebook fails this report only
        from papermill.exceptions import PapermillExecutionError

        result["error"] = _error_summary(exc, timed_out[0] if timed_out else None)
        if timed_out or not isinstance(exc, PapermillExecutionError):
            _shutdown_kernel()  # timed out, died or broke: the next notebook gets a fresh kernel
        else:
            _WORKER["used"] += 1  # a cell raised: the kernel is fine and is reset before the next notebook
    finally:
        for w in watchdogs:
            w.cancel()
        if not job.get("reuse_kernel", True):
            _shutdown_kernel()
    if out_nb.exists() and out_nb.stat().st_size > 0:  # an empty file (a full disk) is not worth keeping
        result["notebook"] = str(out_nb)
    result["seconds"] = round(time.perf_counter() - start, 3)
    return result


def _print_pdf(job: dict, page: Path, out_pdf: Path) -> str | None:
    """Print the rendered page to `out_pdf` (stamped with report, client and month); None, or why it failed."""
    from reportlib.core.safety import stamp_pdf
    from reportlib.delivery.pdf import PrintError

    try:
        data = _printer().print_pdf(page, job["title"], job["pdf_paper"])
        data = stamp_pdf(data, *stamp_of(job))
        out_pdf.write_bytes(data)
    except PrintError as exc:
        return f"printing the PDF failed: {exc}"[:600]
    except Exception as exc:  # noqa: BLE001 - stamping or writing (a full disk): this report fails
        return f"printing the PDF failed: {type(exc).__name__}: {exc}"[:600]
    return None


def plan_workbooks(jobs: Iterable[Job], month: str, *, data: str, params_file: str | None) -> list[dict]:
    """The workbook task of a run (a list of at most one): the month's workbook (`month_<YYYY-MM>.xlsx`)
    when the run renders every report whose tables it holds (`workbook.REPORTS_COVERED`), then a one-client
    workbook (`<client review stem>.xlsx`) for every client review of the run. One task, so one worker
    opens the source once and the client workbooks reuse the aggregates the month's workbook computed for
    every client (contract terms, KPIs by client and channel)."""
    from reportlib.reports.workbook import REPORTS_COVERED

    jobs = list(jobs)
    have = {j.report for j in jobs}
    base = {"month": month, "data": data, "params_file": params_file}
    items = []
    if all(r in have for r in REPORTS_COVERED):
        items.append({"client_id": None, "client_name": None, "name": f"month_{month}.xlsx"})
    items += [
        {"client_id": j.client_id, "client_name": j.client_name, "name": f"{j.stem}.xlsx"}
        for j in jobs
        if j.report == CLIENT_REPORT and j.client_id is not None
    ]
    return [dict(base, items=items)] if items else []


class WorkbookTimeout(Exception):
    """A workbook ran past the run's per-report time limit (raised by the worker's alarm, `_time_limit`)."""


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[list[bool]]:
    """Raise WorkbookTimeout in this thread once `seconds` have passed (and every second after, should the code
    it interrupts swallow it), until the block ends; yields a list that holds True once the limit was hit.

    For a worker's main thread (SIGALRM): the workbooks are built in the worker process itself, not in a kernel
    that can be interrupted from outside, and a query running in DuckDB stops on the signal ("Query
    interrupted"), PostgreSQL's wait and Python code alike. No limit when `seconds` is None or 0, or off the
    main thread.
    """
    hit: list[bool] = []
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield hit
        return
    armed = [True]

    def alarm(signum: int, frame: Any) -> None:
        if armed[0]:  # after the block has ended, a late signal is ignored
            hit.append(True)
            raise WorkbookTimeout(f"timed out after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, float(seconds), 1.0)
    try:
        yield hit
    finally:
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def build_workbooks(task: dict) -> list[dict]:
    """Build and write the workbooks of one task into task['tmp'] (in a worker process, outside the kernel).

    One result per workbook: key (workbook, client_id), status, seconds, error, xlsx (the written file), sheets.
    A workbook that fails fails alone; the data source is opened once for the task, so a client's figures
    come from the aggregates computed once for all clients. Each workbook is held to task['timeout'] seconds
    (the run's per-report limit; none when absent): one that runs past it fails with that reason, and the
    next one is built.
    """
    from reportlib.core.params import load_params
    from reportlib.data.load import fingerprint_read, open_source, source_tables
    from reportlib.reports import workbook as W

    tmp = Path(task["tmp"])
    results: list[dict] = []
    try:
        params = load_params(task.get("params_file"))
        # the mapping the reports read (a review: a warehouse's workbooks read the contract's names instead)
        tables = source_tables(params, task["data"])
        src = open_source(task["data"], params.get("timezone", DEFAULT_TIMEZONE), tables)
    except Exception as exc:  # noqa: BLE001 - every workbook of the task fails with the reason
        why = f"the data could not be opened for the workbook: {type(exc).__name__}: {exc}"[:600]
        return [dict(item, status="failed", error=why, xlsx=None, seconds=None, sheets=[]) for item in task["items"]]
    data = task["data"]
    label = data if "://" in data else Path(data).name
    limit = float(task.get("timeout") or 0)  # 0: no limit
    for item in task["items"]:
        start = time.perf_counter()
        res = dict(item, status="failed", error=None, xlsx=None, sheets=[])
        path = tmp / item["name"]
        hit: list[bool] = []
        try:  # the outer try also catches a time-out raised as the limit's block ends
            with _time_limit(limit) as hit:
                if item["client_id"] is None:
                    book = W.month_workbook(src, params, task["month"], data_label=label)
                else:
                    book = W.client_workbook(src, params, task["month"], item["client_id"])
                if not book.sheets:  # a README alone is no workbook: the run says why, as for any failed report
                    raise ReportlibError(W.no_sheet_reason(book))
                W.write_workbook(book, path)
            # the source's fingerprint is taken when it is opened, its tables read as the workbook needs them
            res.update(
                status="ok", xlsx=str(path), sheets=[s.name for s in book.sheets], fingerprint=fingerprint_read(src)
            )
        except Exception as exc:  # noqa: BLE001 - a failed workbook fails alone
            if hit or isinstance(exc, WorkbookTimeout):
                res["error"] = (
                    f"building the workbook timed out after {limit:g} s; "
                    "raise --timeout or parameters schedule.timeout_s"
                )
                # an interrupted query can leave the engine's connection busy (PostgreSQL: "another command is
                # already in progress"): the next workbook gets the source opened afresh
                with contextlib.suppress(Exception):
                    src = open_source(task["data"], params.get("timezone", DEFAULT_TIMEZONE), tables, afresh=True)
            elif isinstance(exc, ReportlibError):
                res["error"] = f"building the workbook failed: {_ANSI.sub('', str(exc))}"[:600]
            else:
                res["error"] = f"building the workbook failed: {type(exc).__name__}: {_ANSI.sub('', str(exc))}"[:600]
        if res["status"] != "ok":
            with contextlib.suppress(OSError):
                path.unlink()  # a workbook cut short is not left half-written in the run's folder
        res["seconds"] = round(time.perf_counter() - start, 3)
        results.append(res)
    return results


# --- publishing -----------------------------------------------------------------------------------


def _write_atomic(path: Path, text: str) -> None:
    from reportlib.core.safety import write_atomic

    write_atomic(path, text)  # a fresh O_EXCL temporary file, fsync, rename; removed on any failure


def read_manifest(month_dir: Path) -> dict:
    """The month's manifest.json, or an empty one."""
    path = Path(month_dir) / MANIFEST
    if not path.exists():
        return {"reports": []}
    from reportlib.core.safety import read_bytes_nofollow

    try:
        manifest = json.loads(read_bytes_nofollow(path).decode("utf-8"))
    except OSError as exc:
        raise ReportlibError(
            f"{path} cannot be read ({exc.strerror or exc}; a link or anything but a regular "
            "file is refused); delete it and run the month again"
        ) from None
    except ValueError as exc:
        raise ReportlibError(f"{path} is not readable JSON ({exc}); delete it and run the month again") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("reports", []), list):
        raise ReportlibError(f"{path} is not a reportlib manifest; delete it and run the month again")
    # entries are data from a file anyone with write access to outputs/ may edit: keep well-formed ones
    manifest["reports"] = [
        e
        for e in manifest.get("reports", [])
        if isinstance(e, dict)
        and isinstance(e.get("report"), str)
        and isinstance(e.get("client_id"), (str, type(None)))
        and isinstance(e.get("agent_id"), (str, type(None)))
    ]
    workbooks = manifest.get("workbooks", [])
    manifest["workbooks"] = [
        e
        for e in (workbooks if isinstance(workbooks, list) else [])
        if isinstance(e, dict)
        and e.get("workbook") in ("month", CLIENT_REPORT)
        and isinstance(e.get("client_id"), (str, type(None)))
    ]
    return manifest


_HREF = re.compile(r"(notebooks/)?[A-Za-z0-9_-][A-Za-z0-9._-]*")


def _link(target: Any, text: str) -> str:
    """An <a> to a file of the month folder, or the text alone when `target` is anything else (a
    `javascript:` URL, `..`, an absolute path: the manifest can be edited)."""
    esc = html.escape
    if isinstance(target, str) and _HREF.fullmatch(target) and ".." not in target:
        return f'<a href="{esc(target)}">{esc(text)}</a>'
    return esc(text)


def _sort_key(entry: dict) -> tuple:
    report = entry.get("report")
    order = ALL_REPORTS.index(report) if report in ALL_REPORTS else len(ALL_REPORTS)
    return (order, report or "", entry.get("client_id") or "", entry.get("agent_id") or "")


@dataclass
class RunResult:
    """What a run did: this run's manifest entries, and where the month's reports are."""

    month: str
    month_dir: Path
    entries: list[dict] = field(default_factory=list)
    workbooks: list[dict] = field(default_factory=list)  # this run's workbook entries (manifest "workbooks")
    write_failed: str | None = None  # why manifest.json / index.html could not be updated, if so

    @property
    def failed(self) -> list[dict]:
        return [e for e in self.entries + self.workbooks if e["status"] != "ok"]

    @property
    def ok(self) -> list[dict]:
        return [e for e in self.entries if e["status"] == "ok"]

    @property
    def index(self) -> Path:
        return self.month_dir / INDEX

    def summary(self) -> str:
        """One line per failure, naming the report, why, and where its executed notebook is."""
        lines = []
        for e in self.failed:
            who = entry_who(e)
            where = f" (executed notebook: {self.month_dir / e['notebook']})" if e.get("notebook") else ""
            kept = " The previous good version is still in place." if e.get("previous") else ""
            lines.append(f"  {who}: {e['error']}{where}.{kept}")
        n_reports = sum(e["status"] != "ok" for e in self.entries)
        n_books = sum(e["status"] != "ok" for e in self.workbooks)
        head = f"{n_reports} of {len(self.entries)} reports failed for {self.month}:"
        if n_books:
            head = (
                f"{n_reports} of {len(self.entries)} reports and {n_books} of {len(self.workbooks)} workbooks "
                f"failed for {self.month}:"
            )
        if self.write_failed:
            lines.append(f"  {self.write_failed}; manifest.json and index.html may not list every failure above")
        return "\n".join([head] + lines)


def move_in(new: str | Path, place: Path) -> None:
    """Rename a finished file into its place in the month folder, owner-only first: pages, notebooks and workbooks
    hold agent names, QA comments and clients' figures, as manifest.json and index.html do."""
    owner_only(new)
    os.replace(new, place)


def swap_in(moves: Sequence[tuple[Path, Path]]) -> None:
    """Move each (new file, its place) into place, all of them or none: an OSError part-way (a full disk, a file
    made immutable, a folder gone read-only), or an interruption (Ctrl-C, SIGTERM, also just after a move), puts
    back every file already replaced and leaves the new files where they were, then is raised.

    Each old file is first copied (whole, then renamed) into one hidden folder beside the places,
    `.swap-<pid>/` (a copy, not a rename: a place is never empty, and a file that cannot be copied stops the swap
    before anything moved). Once every file has moved, that folder is renamed to `.swap-<pid>.done`: the swap's
    one commit point, then removed. A run killed before it (SIGKILL, out of memory) leaves `.swap-<pid>/`, whose
    files the next run puts back (`remove_stale_run_folders`): the killed run recorded none of the report's new
    files in the manifest (a file with no old one, a first PDF, stays new: the manifest does not name it). (The
    first version kept one `.prev` copy per file and removed them one by one: a
    kill between two left a mixed set, a review.) A link standing in a file's place is copied as a link, never
    followed (a probe's link to /dev/zero filled the disk; one to a file outside outputs/ was copied in).
    Written by hand: os.replace is atomic for one file only, and no library offers a multi-file transaction on a
    plain folder."""
    if not moves:
        return
    root = Path(os.path.commonpath([str(Path(place).parent) for _, place in moves]))
    aside_dir, committed = root / f"{SWAP_PREFIX}{os.getpid()}", root / f"{SWAP_PREFIX}{os.getpid()}.done"
    for stale in (aside_dir, committed):  # this process's own, left by a swap whose removal failed (a review)
        shutil.rmtree(stale, ignore_errors=True)
    done: list[tuple[Path, Path, Path | None]] = []  # (new file's old path, place, its old copy's path under root)
    try:
        for new, place in moves:
            rel = Path(place).relative_to(root) if os.path.lexists(place) else None
            if rel is not None:
                aside = aside_dir / rel
                aside.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                part = aside.with_name(aside.name + ".part")
                shutil.copy2(place, part, follow_symlinks=False)
                os.replace(part, aside)  # whole or absent: no half copy is ever put back
            try:
                move_in(new, place)
            except BaseException:  # a fault, or Ctrl-C / SIGTERM part-way
                if not os.path.lexists(new):  # it moved: the interruption surfaced after os.replace returned
                    done.append((new, place, rel))
                raise
            done.append((new, place, rel))
        if aside_dir.exists():
            os.replace(aside_dir, committed)  # the commit: every file moved
    except BaseException:  # put back what moved, also when interrupted (KeyboardInterrupt, cli.Terminated)
        copies = aside_dir if aside_dir.exists() else committed  # interrupted just after the commit's rename
        for new, place, rel in reversed(done):
            with contextlib.suppress(OSError):
                os.replace(place, new)  # the new file back where it came from
                if rel is not None:
                    os.replace(copies / rel, place)  # the old file back in its place
        for folder in (aside_dir, committed):
            shutil.rmtree(folder, ignore_errors=True)
        raise
    shutil.rmtree(committed, ignore_errors=True)


SWAP_PREFIX = ".swap-"  # swap_in's folder of the old files a swap replaces (`.swap-<pid>`, `.swap-<pid>.done`)


class _Publisher:
    """Moves finished reports into the month folder and keeps manifest.json and index.html current."""

    def __init__(self, month: str, month_dir: Path, fingerprint: str | None, data: str):
        self.month, self.dir, self.fingerprint, self.data = month, month_dir, fingerprint, data
        (month_dir / "notebooks").mkdir(parents=True, exist_ok=True)
        self.manifest = read_manifest(month_dir)
        self.write_failed: str | None = None
        self.entries = {entry_key(e): e for e in self.manifest.get("reports", [])}
        self.workbooks = {(e.get("workbook"), e.get("client_id")): e for e in self.manifest.get("workbooks", [])}

    def publish(self, job: Job, result: dict) -> dict:
        """Move one job's outputs into place (only when it succeeded) and record it.

        A failure to move or record (a full disk, a read-only folder) fails this report only: the previous
        version stays, the entry says why, and the batch goes on. `write_failed` holds a manifest that could
        not be written, so the run can say so.
        """
        # the notebook read the data after they changed: its page is not this run's data, and a month's reports
        # must not mix two states of the data under one fingerprint
        result = self._same_data(result, "report")
        try:
            return self._publish(job, result)
        except OSError as exc:
            where = f"{Path(exc.filename).name}: " if getattr(exc, "filename", None) else ""
            reason = f"could not publish into {self.dir} ({where}{exc.strerror or exc})"
            failed = dict(result, status="failed", error=reason, html=None, notebook=None)
            entry = self._entry(job, failed)
            if result.get("notebook") and Path(result["notebook"]).is_file():  # kept, as a failed run's is
                with contextlib.suppress(OSError):
                    move_in(result["notebook"], self.dir / "notebooks" / f"{job.stem}.failed.ipynb")
                    entry["notebook"] = f"notebooks/{job.stem}.failed.ipynb"
            self.entries[job.key] = entry
            try:
                self.write()
            except OSError:  # the failure above cannot be recorded either: the run says so
                self.write_failed = reason
            return entry

    def publish_workbook(self, result: dict) -> dict:
        """Move one workbook into place (only when it was built whole) and record it under "workbooks".

        A workbook that failed, or could not be moved, leaves the previous good file and names it under
        `previous`; the batch goes on.
        """
        import pandas as pd

        result = self._same_data(result, "workbook")  # built from data changed since the run checked them: failed
        cid = result.get("client_id")
        kind = "month" if cid is None else CLIENT_REPORT
        label = month_label(self.month)
        who = result.get("client_name") or cid
        entry = {
            "report": "workbook",
            "workbook": kind,
            "client_id": cid,
            "title": f"Workbook, {label}" if cid is None else f"{who}: workbook, {label}",
            "status": result["status"],
            "seconds": result.get("seconds"),
            "xlsx": None,
            "sheets": result.get("sheets") or [],
            "data_fingerprint": self.fingerprint,
            "error": result.get("error"),
            "finished_at": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
        }
        if result.get("client_name") is not None:
            entry["client_name"] = result["client_name"]
        key = (kind, cid)
        if result["status"] == "ok":
            try:
                move_in(result["xlsx"], self.dir / result["name"])  # the atomic switch to the new workbook
                entry["xlsx"] = result["name"]
            except OSError as exc:
                entry.update(status="failed", error=f"could not publish into {self.dir} ({exc.strerror or exc})")
        if entry["status"] != "ok":
            old = self.workbooks.get(key)
            previous = old if old and old.get("status") == "ok" else (old or {}).get("previous")
            name = previous.get("xlsx") if isinstance(previous, dict) else None
            if isinstance(name, str) and _HREF.fullmatch(name) and (self.dir / name).is_file():
                entry["previous"] = {k: v for k, v in previous.items() if k != "previous"}  # type: ignore[union-attr]
        self.workbooks[key] = entry
        try:
            self.write()
        except OSError as exc:
            self.write_failed = f"could not publish into {self.dir} ({exc.strerror or exc})"
        return entry

    def _same_data(self, result: dict, what: str) -> dict:
        """`result` failed when the fingerprint of the data it read (result['fingerprint']) is not the run's."""
        read = result.get("fingerprint")
        if result.get("status") == "ok" and read and self.fingerprint and read[:16] != self.fingerprint[:16]:
            return dict(
                result,
                status="failed",
                error=f"the data changed during the run: this {what} read data {read[:16]}, the run checked "
                f"{self.fingerprint[:16]}; run again once the data are in place",
            )
        return result

    def _entry(self, job: Job, result: dict) -> dict:
        import pandas as pd

        entry = {
            "report": job.report,
            "client_id": job.client_id,
            "title": job.title,
            "status": result["status"],
            "seconds": result.get("seconds"),
            "html": None,
            "pdf": None,
            "notebook": None,
            "parameters": job.parameters,
            "data_fingerprint": self.fingerprint,
            "error": result.get("error"),
            "finished_at": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
        }
        if job.client_name is not None:
            entry["client_name"] = job.client_name
        if job.agent_id is not None:
            entry.update(
                agent_id=job.agent_id,
                agent_name=job.agent_name,
                supervisor=job.supervisor,
                supervisor_id=job.supervisor_id,
            )
        if result["status"] != "ok":
            old = self.entries.get(job.key)
            previous = old if old and old.get("status") == "ok" else (old or {}).get("previous")
            html_name = previous.get("html") if isinstance(previous, dict) else None
            if (
                isinstance(previous, dict)
                and isinstance(html_name, str)
                and _HREF.fullmatch(html_name)
                and (self.dir / html_name).is_file()
            ):
                entry["previous"] = {k: v for k, v in previous.items() if k != "previous"}
        return entry

    def _publish(self, job: Job, result: dict) -> dict:
        nb_dir = self.dir / "notebooks"
        entry = self._entry(job, result)
        if result["status"] == "ok":
            moves = [(Path(result["notebook"]), nb_dir / f"{job.stem}.ipynb")]
            if result.get("pdf"):
                moves.append((Path(result["pdf"]), self.dir / f"{job.stem}.pdf"))
            moves.append((Path(result["html"]), self.dir / f"{job.stem}.html"))  # the page last: the switch
            swap_in(moves)  # all of them or none: a page never sits beside another run's notebook or PDF
            if not result.get("pdf"):  # no PDF this time (PDFs off, no browser): an older one would not match
                with contextlib.suppress(FileNotFoundError):
                    (self.dir / f"{job.stem}.pdf").unlink()
            with contextlib.suppress(FileNotFoundError):
                (nb_dir / f"{job.stem}.failed.ipynb").unlink()
            entry.update(html=f"{job.stem}.html", notebook=f"notebooks/{job.stem}.ipynb")
            if result.get("pdf"):
                entry["pdf"] = f"{job.stem}.pdf"
        elif result.get("notebook"):
            move_in(result["notebook"], nb_dir / f"{job.stem}.failed.ipynb")
            entry["notebook"] = f"notebooks/{job.stem}.failed.ipynb"
        self.entries[job.key] = entry
        self.write()
        return entry

    def write(self) -> None:
        import pandas as pd

        reports = sorted(self.entries.values(), key=_sort_key)
        self.manifest = {
            "month": self.month,
            "updated_at": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
            "data": self.data,
            "data_fingerprint": self.fingerprint,
            "reports": reports,
            "workbooks": sorted(
                getattr(self, "workbooks", {}).values(),  # a publisher made without __init__ has none
                key=lambda e: (e.get("workbook") != "month", e.get("client_id") or ""),
            ),
        }
        _write_atomic(self.dir / MANIFEST, json.dumps(self.manifest, indent=1, ensure_ascii=False) + "\n")
        _write_atomic(self.dir / INDEX, index_html(self.manifest))


def _as_html(previous: Any) -> Any:
    """A workbook's previous entry shaped like a report's (its file under `html`) for the index rows."""
    return dict(previous, html=previous.get("xlsx")) if isinstance(previous, dict) else previous


def rendered_from_other_data(entry: Mapping[str, Any], manifest: Mapping[str, Any]) -> bool:
    """Whether a manifest entry was rendered from other data than the month's last run read (a report kept from a
    run before the data changed): both fingerprints known and different. The index marks it; `email` refuses it."""
    read, last = entry.get("data_fingerprint"), manifest.get("data_fingerprint")
    return bool(read and last and read != last)


def index_html(manifest: dict) -> str:
    """The month's index page: every report with its status, a link, and why it failed."""
    esc = html.escape
    month = manifest.get("month", "")
    try:
        label = month_label(month)
    except Exception:  # noqa: BLE001
        label = month
    reports = manifest.get("reports", [])
    n_failed = sum(e.get("status") != "ok" for e in reports)

    def row(e: dict) -> str:
        name = (
            e.get("client_name") or e.get("client_id")
            if e.get("client_id")
            else (e.get("agent_name") or e.get("agent_id"))
            if e.get("agent_id")
            else TITLES.get(e["report"], e["report"])
        )
        ok = e.get("status") == "ok"
        status = '<span class="ok">ok</span>' if ok else '<span class="failed">failed</span>'
        if ok:
            link = _link(e.get("html"), str(name))
            if e.get("pdf"):
                link += " · " + _link(e.get("pdf"), "PDF")
            note = ""
            if rendered_from_other_data(e, manifest):  # kept from a run before the data changed: not e-mailed
                note = (
                    f'<div class="err">Rendered from other data (fingerprint {esc(str(e["data_fingerprint"]))}) '
                    "than the last run; not e-mailed until it is run again.</div>"
                )
        else:
            link = esc(str(name))
            prev = e.get("previous") if isinstance(e.get("previous"), dict) else None
            note = f'<div class="err">{esc(str(e.get("error") or ""))}</div>'
            if prev:
                pdf = f" · {_link(prev.get('pdf'), 'PDF')}" if prev.get("pdf") else ""
                note += (
                    f"<div>Previous version: {_link(prev.get('html'), str(prev.get('html')))}{pdf} "
                    f"({esc(str(prev.get('finished_at', '')))})</div>"
                )
            if e.get("notebook"):
                note += f"<div>Executed notebook: {_link(e['notebook'], str(e['notebook']))}</div>"
        secs = e.get("seconds")
        secs = f"{secs:.1f} s" if isinstance(secs, (int, float)) else ""
        client = esc(printable(e.get("client_id") or e.get("agent_id") or ""))  # "Acme_1\u200b" apart from "Acme_1"
        return f"<tr><td>{link}{note}</td><td>{client}</td><td>{status}</td><td class=num>{secs}</td></tr>"

    main = [e for e in reports if e.get("report") not in (CLIENT_REPORT, AGENT_REPORT)]
    clients = [e for e in reports if e.get("report") == CLIENT_REPORT]
    agents = [e for e in reports if e.get("report") == AGENT_REPORT]
    head = "<tr><th>Report</th><th>Client</th><th>Status</th><th>Time</th></tr>"
    parts = [
        f"<h1>Reports for {esc(label)}</h1>",
        f"<p>{len(reports)} reports, {n_failed} failed. Updated {esc(str(manifest.get('updated_at', '')))}; "
        f"data fingerprint {esc(str(manifest.get('data_fingerprint') or ''))}.</p>",
    ]
    if main:
        parts.append("<h2>Reports</h2><table>" + head + "".join(row(e) for e in main) + "</table>")
    if clients:
        parts.append("<h2>Client reviews</h2><table>" + head + "".join(row(e) for e in clients) + "</table>")
    if agents:
        agent_head = head.replace("<th>Client</th>", "<th>Agent</th>")
        parts.append("<h2>Agent reviews</h2><table>" + agent_head + "".join(row(e) for e in agents) + "</table>")
    books = [e for e in manifest.get("workbooks", []) if isinstance(e, dict)]
    if books:
        parts.append(
            "<h2>Workbooks (Excel)</h2><table>"
            + head.replace("Report", "Workbook")
            + "".join(
                row(
                    dict(
                        e, report=e.get("title") or "workbook", html=e.get("xlsx"), previous=_as_html(e.get("previous"))
                    )
                )
                for e in books
            )
            + "</table>"
        )
    style = (
        "body{font-family:system-ui,Segoe UI,Arial,sans-serif;margin:2em;color:#222;max-width:60em}"
        "table{border-collapse:collapse;width:100%}th,td{padding:.3em .6em;border-bottom:1px solid #ddd;"
        "text-align:left;vertical-align:top;overflow-wrap:anywhere}.num{text-align:right}.ok{color:#1a7f37;font-weight:600}"
        ".failed{color:#b42318;font-weight:600}.err{color:#b42318;font-size:.9em}"
    )
    return unspoofed(  # names and errors from data: no bidirectional control reorders the page
        f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>Reports {esc(month)}</title>"
        f"<style>{style}</style></head><body>{''.join(parts)}</body></html>\n"
    )


# --- the batch ------------------------------------------------------------------------------------


def month_folder(out: Path, month: str) -> Path:
    """out/<month>, created if needed; ReportlibError when it (or its notebooks/ folder) is a symbolic link
    or not a folder, so nothing is ever written through a link planted in outputs/."""
    month_dir = Path(out) / month
    for p in (month_dir, month_dir / "notebooks"):
        if p.is_symlink():
            raise ReportlibError(
                f"{p} is a symbolic link; reportlib writes reports only into a real folder (remove the link)"
            )
        try:
            # a new month's folder is the owner's alone, as its files are: its file names name the clients (a
            # probe found it 0755, listable by every user of the machine)
            p.mkdir(mode=0o700, exist_ok=True)
        except FileExistsError:
            raise ReportlibError(f"{p} exists and is not a folder; move it away") from None
        except OSError as exc:
            raise ReportlibError(f"cannot create {p} ({exc.strerror or exc})") from None
    return month_dir


@contextlib.contextmanager
def month_lock(month_dir: Path, what: str = "`reportlib run`"):
    """Hold outputs/<month>/.lock exclusively (fcntl.flock) for a run or an e-mail run of that month.

    The lock file is opened without following a link (O_NOFOLLOW) and never truncated, so a link planted
    as `.lock` fails the command instead of touching its target. ReportlibError when another process holds
    the lock or it cannot be taken.
    """
    import fcntl

    from reportlib.core.safety import open_nofollow

    path = Path(month_dir) / ".lock"
    try:
        fd = open_nofollow(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        why = (
            "it is a symbolic link or not a regular file"
            if exc.errno in (errno.ELOOP, errno.EINVAL)
            else (exc.strerror or str(exc))
        )
        raise ReportlibError(f"cannot open the lock file {path} ({why}); remove it and try again") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ReportlibError(
                f"another `reportlib run` or `reportlib email` is using {month_dir}; "
                f"wait for it to finish ({what} not started)"
            ) from None
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def claim_month(out: Path, month: str, what: str = "`reportlib run`"):
    """Create out/<month> if needed (`month_folder`) and hold its lock (`month_lock`) for the block.

    A run claims its month before it checks the data, so a `reportlib email` started a moment later is refused
    (it says another run holds the month) instead of sending the old reports first. A folder this call created and the block
    left with nothing in it but the lock file and an empty notebooks/ (a run stopped by bad data or a
    signal before it published anything) is removed again on the way out, so no empty month is left."""
    month_dir = Path(out) / month
    created = not month_dir.exists()
    month_folder(out, month)
    with month_lock(month_dir, what):
        try:
            yield month_dir
        finally:
            if created:
                with contextlib.suppress(OSError):
                    (month_dir / "notebooks").rmdir()  # only when empty
                    if [p.name for p in month_dir.iterdir()] == [".lock"]:
                        (month_dir / ".lock").unlink()
                        month_dir.rmdir()


# write_atomic's temporary file (mkstemp's ".manifest.json.k2j4_x9a.tmp") and, from swap_in's version before
# `.swap-<pid>/`, a copy in the making (".sla.pdf.4242.part", removed) or whole (".sla.html.4242.prev", put back)
_LEFTOVER = re.compile(r"\..+\.(\d+\.part|[A-Za-z0-9_]{8}\.tmp)")
_SET_ASIDE = re.compile(r"\.(.+)\.\d+\.prev")
_SWAP = re.compile(re.escape(SWAP_PREFIX) + r"\d+(\.done)?")


def remove_stale_run_folders(out: Path, month: str, log=None) -> list[Path]:
    """Remove `.<month>.run-*` temporary folders left by a run that died (its owner process is gone).

    Called with the month's lock held. A folder whose owner (pid and start time recorded in owner.json)
    still runs is kept; one without a readable owner file is removed only when older than a day.

    Also the hidden leftovers of a process killed (SIGKILL, out of memory) inside the month folder while it held
    the lock: the old files of a swap it had not committed (`.swap-<pid>/`, swap_in) are put back in their places,
    since the killed run recorded none of the report's new files in the manifest (a probe: removed, the next run's
    "previous good version" was the killed run's notebook); a committed swap's folder (`.swap-<pid>.done`) and a
    file half-written by safety.write_atomic (`.<file>.<random>.tmp`) are removed. No other process writes there
    while this one holds the lock.
    """
    removed = []
    month_dir = Path(out) / month
    with contextlib.suppress(OSError):  # no month folder yet
        for swap in sorted(month_dir.iterdir()):
            if not _SWAP.fullmatch(swap.name) or swap.is_symlink() or not swap.is_dir():
                continue
            if not swap.name.endswith(".done"):
                for old in sorted(p for p in swap.rglob("*") if p.is_symlink() or p.is_file()):
                    if old.name.endswith(".part"):
                        continue
                    with contextlib.suppress(OSError):
                        os.replace(old, month_dir / old.relative_to(swap))
                        if log is not None:
                            print(
                                f"reportlib run: put back {month_dir / old.relative_to(swap)} as it was before a run "
                                "that died while publishing it",
                                file=log,
                            )
            shutil.rmtree(swap, ignore_errors=True)
            removed.append(swap)
    for folder in (month_dir, month_dir / "notebooks"):
        with contextlib.suppress(OSError):  # no month folder yet
            for left in folder.iterdir():
                aside = _SET_ASIDE.fullmatch(left.name)  # the version before kept one copy per file (a review)
                if aside and (left.is_symlink() or left.is_file()):
                    with contextlib.suppress(OSError):
                        os.replace(left, folder / aside.group(1))
                        removed.append(left)
                        if log is not None:
                            print(f"reportlib run: put back {folder / aside.group(1)} from {left.name}", file=log)
                    continue
                if _LEFTOVER.fullmatch(left.name) and (left.is_symlink() or left.is_file()):
                    with contextlib.suppress(OSError):
                        left.unlink()
                        removed.append(left)
                        if log is not None:
                            print(f"reportlib run: removed {left}, left by a run that died", file=log)
    for folder in Path(out).glob(f".{month}.run-*"):
        if folder.is_symlink() or not folder.is_dir():
            continue
        if owner_gone(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
            if log is not None:
                print(f"reportlib run: removed {folder}, left by a run that died", file=log)
    return removed


def default_workers() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return os.cpu_count() or 1


def pool_size(requested: int | None, jobs: int, log=None) -> int:
    """Worker processes for `jobs` notebooks: the request (default: the cores), never more than the jobs,
    and at most twice the cores (a larger request is capped, with a note on `log`)."""
    cores = default_workers()
    want = int(requested or cores)
    if want > 2 * cores:
        if log is not None:
            print(
                f"reportlib run: --workers {want} is more than twice the {counted(cores, 'core')}; using {2 * cores}",
                file=log,
                flush=True,
            )
        want = 2 * cores
    return max(1, min(want, jobs))


_PRELOAD_MODULES = ["__main__", "reportlib.delivery.run", "papermill", "nbclient", "jupyter_client", "nbconvert"]


def _mp_context():
    """Workers come from a forkserver that has imported papermill once (never a fork of this process,
    which holds threads and sockets); later batches in the same process start their workers at once."""
    import multiprocessing

    try:
        ctx = multiprocessing.get_context("forkserver")
    except ValueError:  # platforms without fork
        return multiprocessing.get_context("spawn")
    ctx.set_forkserver_preload(_PRELOAD_MODULES)
    return ctx


class WorkerPool:
    """Worker processes, each with one warm kernel; started early so kernels boot while the data is checked."""

    def __init__(
        self,
        workers: int,
        *,
        notebooks_dir: Path,
        renderer: str = DEFAULT_RENDERER,
        warm: bool = True,
        reports: Iterable[str] | None = None,
        pdf_paper: str | None = None,
    ):
        from reportlib.data.cache import SHARED_MEMO_ENV

        self.workers = max(1, int(workers))
        ctx = _mp_context()
        self.executor = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=ctx,
            initializer=_worker_init,
            initargs=(os.getpid(), os.environ.get(SHARED_MEMO_ENV)),
        )
        names = list(reports) if reports is not None else [p.stem for p in Path(notebooks_dir).glob("*.ipynb")]
        preload = notebook_imports(Path(notebooks_dir) / f"{n}.ipynb" for n in names) if warm else ""
        pdf = pdf_paper if set(names) & PDF_REPORTS else None
        payload = {"cwd": str(notebooks_dir), "renderer": renderer, "preload": preload, "pdf_paper": pdf}
        self.warmups = [self.executor.submit(warm_kernel, payload) for _ in range(self.workers if warm else 0)]

    def close(self, cancel: bool = False) -> None:
        """Stop the workers and their kernels: after their current job, or at once when `cancel`."""
        executor = getattr(self, "executor", None)
        if executor is None:
            return
        if cancel:  # _processes is None once the executor has shut down or broken
            for proc in list((getattr(executor, "_processes", None) or {}).values()):
                with contextlib.suppress(Exception):
                    proc.terminate()  # _on_terminate kills the worker's kernel first
        executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, exc_type, *rest) -> None:
        self.close(cancel=exc_type is not None)


def run_jobs(
    jobs: list[Job],
    *,
    month: str,
    out: Path,
    notebooks_dir: Path,
    workers: int | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    fingerprint: str | None = None,
    data: str = "",
    renderer: str = DEFAULT_RENDERER,
    reuse_kernels: bool = True,
    progress: bool = True,
    log=None,
    pool: WorkerPool | None = None,
    pdf_paper: str | None = None,
    workbooks: bool = True,
    claimed: bool = False,
) -> RunResult:
    """Execute `jobs` in parallel and publish each into out/<month>/ as it finishes; with `pdf_paper`
    (A4 or Letter), the reports marked `pdf` in the registry are printed to PDF too.

    With `workbooks`, the same workers also build the Excel workbooks (`plan_workbooks`), published the
    same way: written whole into the run's temporary folder, then moved into place. With `claimed`, the
    caller already holds the month (`claim_month`); otherwise it is claimed here."""
    log = log or sys.stderr
    out = Path(out).resolve()
    month_dir = out / month
    missing = sorted({j.report for j in jobs if not (notebooks_dir / f"{j.report}.ipynb").exists()})
    if missing:
        raise ReportlibError(
            "no notebook for " + ", ".join(missing) + f" in {notebooks_dir} "
            f"(expected {', '.join(m + '.ipynb' for m in missing)})"
        )
    if timeout is None or timeout <= 0:
        raise UsageError(f"--timeout must be a positive number of seconds, got {timeout}")
    result = RunResult(month, month_dir)
    if not jobs:
        return result
    with contextlib.nullcontext() if claimed else claim_month(out, month):
        remove_stale_run_folders(out, month, log)
        publisher = _Publisher(month, month_dir, fingerprint, data)
        previous = {entry_key(e): e.get("seconds") for e in publisher.entries.values()}
        for j in jobs:
            last = previous.get(j.key)
            j.estimate_s = (
                float(last)
                if isinstance(last, (int, float)) and 0 < last < 1e6
                else (30.0 if j.report not in (CLIENT_REPORT, AGENT_REPORT) else 5.0)
            )
        ordered = sorted(jobs, key=lambda j: -j.estimate_s)  # longest first: the batch ends sooner
        first = jobs[0].parameters
        tasks = (
            plan_workbooks(jobs, month, data=str(first.get("data") or data), params_file=first.get("params_file"))
            if workbooks
            else []
        )
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{month}.run-", dir=out))
            write_owner(tmp)  # who may clean it up (remove_stale_run_folders)
        except OSError as exc:
            with contextlib.suppress(UnboundLocalError):
                shutil.rmtree(tmp, ignore_errors=True)
            raise ReportlibError(f"cannot write in the outputs folder {out} ({exc.strerror or exc})") from None
        if os.stat(tmp).st_dev != os.stat(month_dir).st_dev:  # a rename cannot cross: every publish would fail
            shutil.rmtree(tmp, ignore_errors=True)  # after all the rendering (a probe), so say so before any
            raise ReportlibError(
                f"the month folder {month_dir} is on another file system than {out}, where the run prepares the "
                "files it renames into it; mount the outputs folder itself there, or give --out a folder on one "
                "file system"
            )
        payload = {
            "tmp": str(tmp),
            "timeout": float(timeout),
            "renderer": renderer,
            "reuse_kernel": reuse_kernels,
            "cwd": str(notebooks_dir),
            "pdf_paper": pdf_paper,
        }
        own = pool is None
        workers_pool = (
            pool
            if pool is not None
            else WorkerPool(
                pool_size(workers, len(jobs), log),
                notebooks_dir=notebooks_dir,
                renderer=renderer,
                warm=reuse_kernels,
                reports={j.report for j in jobs},
                pdf_paper=pdf_paper,
            )
        )
        try:
            tasks = [dict(t, tmp=str(tmp), timeout=float(timeout)) for t in tasks]
            _execute_all(ordered, payload, notebooks_dir, workers_pool, publisher, result, progress, log, tasks)
        finally:
            if own:
                workers_pool.close()
            shutil.rmtree(tmp, ignore_errors=True)
    result.entries.sort(key=_sort_key)
    result.write_failed = publisher.write_failed
    return result


def _execute_all(
    ordered: list[Job],
    payload: dict,
    notebooks_dir: Path,
    pool: WorkerPool,
    publisher: _Publisher,
    result: RunResult,
    progress: bool,
    log,
    workbook_tasks: list[dict] | None = None,
) -> None:
    from tqdm import tqdm

    by_key = {j.key: j for j in ordered}
    bar = tqdm(
        total=len(ordered),
        desc=f"reports {publisher.month}",
        unit="report",
        file=log,
        disable=True if (not progress or len(ordered) <= 3) else None,
        dynamic_ncols=True,
    )
    try:
        futures: dict[Any, Any] = {}
        books = list(workbook_tasks or [])
        for t in books:  # the workbooks (the month's first) take longest: started first
            futures[pool.executor.submit(build_workbooks, t)] = t
        for j in ordered:
            job = dict(
                payload,
                key=list(j.key),
                stem=j.stem,
                title=j.title,
                parameters=j.parameters,
                agent_id=j.agent_id,
                notebook=str(notebooks_dir / f"{j.report}.ipynb"),
                pdf_paper=payload.get("pdf_paper") if j.report in PDF_REPORTS else None,
            )
            futures[pool.executor.submit(execute_job, job)] = j
        built: list[tuple[Any, dict]] = []  # workbook tasks done: published once their pages are (below)
        pages: dict[tuple, dict] = {}  # this run's page entries by job key
        for fut in as_completed(futures):
            if isinstance(futures[fut], dict):
                built.append((fut, futures[fut]))
                continue
            j = futures[fut]
            try:
                res = fut.result()
            except BrokenProcessPool:
                res = {
                    "key": list(j.key),
                    "status": "failed",
                    "seconds": None,
                    "notebook": None,
                    "html": None,
                    "error": "the worker process running it died (out of memory?)",
                }
            except Exception as exc:  # noqa: BLE001
                res = {
                    "key": list(j.key),
                    "status": "failed",
                    "seconds": None,
                    "notebook": None,
                    "html": None,
                    "error": f"{type(exc).__name__}: {exc}",
                }
            entry = publisher.publish(by_key[tuple(res["key"])], res)
            pages[j.key] = entry
            result.entries.append(entry)
            if entry["status"] != "ok":
                who = j.report + (f" {j.key[1]}" if j.key[1] else "")
                bar.write(f"reportlib run: {who} failed: {entry['error']}", file=log)
            bar.update(1)
            if bar.disable:  # no terminal bar (cron, systemd, a log): one plain line per finished report
                from reportlib.core import progress as steps

                steps.log_finished(
                    f"rendered {j.report}" + (f" {j.key[1]}" if j.key[1] else ""),
                    float(res.get("seconds") or 0.0),
                    len(result.entries),
                    len(ordered),
                    entry["status"],
                )
        for fut, task in built:
            _publish_workbooks(fut, task, publisher, result, bar, log, pages)
    except BaseException:
        pool.close(cancel=True)
        raise
    finally:
        bar.close()


def _publish_workbooks(
    fut: Any, task: dict, publisher: _Publisher, result: RunResult, bar: Any, log: Any, pages: Mapping[tuple, dict]
) -> None:
    """Publish what one workbook task built (each workbook failed when its worker died or raised), once this run's
    pages are published (`pages`: their entries by job key). A workbook whose page failed here is not published
    either (`held_back`): the folder keeps the previous page, and the previous workbook stays beside it."""
    try:
        results = fut.result()
    except Exception as exc:  # noqa: BLE001 - BrokenProcessPool and anything else: these workbooks failed
        why = (
            "the worker process building it died (out of memory?)"
            if isinstance(exc, BrokenProcessPool)
            else f"{type(exc).__name__}: {exc}"[:600]
        )
        results = [dict(item, status="failed", error=why, xlsx=None, seconds=None) for item in task["items"]]
    for res in results:
        entry = publisher.publish_workbook(held_back(res, pages))
        result.workbooks.append(entry)
        if entry["status"] != "ok":
            who = "workbook" + (f" for client {entry['client_id']}" if entry.get("client_id") else "")
            bar.write(f"reportlib run: {who} failed: {entry['error']}", file=log)


def held_back(res: dict, pages: Mapping[tuple, dict]) -> dict:
    """A built workbook's result, failed when a page it goes with failed in the same run: a client's workbook goes
    with the client's review, the month's with every report whose tables it holds (`workbook.REPORTS_COVERED`).
    The page that failed keeps its previous version in the folder; publishing the workbook would put figures from
    other data beside it (a probe: a client's review timed out and its workbook was replaced)."""
    from reportlib.core.safety import printable
    from reportlib.reports.workbook import REPORTS_COVERED

    if res.get("status") != "ok":
        return res
    cid = res.get("client_id")
    keys = [(CLIENT_REPORT, cid)] if cid is not None else [(r, None) for r in REPORTS_COVERED]
    failed = [k for k in keys if k in pages and pages[k].get("status") != "ok"]
    if not failed:
        return res
    names = ", ".join(report + (f" for client {printable(c)}" if c is not None else "") for report, c in failed)
    return dict(
        res,
        status="failed",
        error=f"not published: its page failed in this run ({names}); the previous workbook stays beside the "
        "previous page",
    )


# --- checks on the data before anything runs ------------------------------------------------------


def check_source(
    data: str,
    tz: str,
    month: str,
    tables: dict | None = None,
    params: dict | None = None,
    reports: Sequence[str] = (),
):
    """Open and validate the data source; fail clearly when the month has no contacts (or intervals), or,
    given the parameters, when a client names an SLA profile they do not define (sla.profile_problem). A roster
    alone (contract.roster_alone) serves the attrition report: other `reports` are refused, naming the tables.

    Loading every table here also fills the loader's Parquet cache once, before parallel notebooks
    would each parse the same files. Returns the Source.
    """
    import pandas as pd

    from reportlib.core.errors import MissingTableError, source_breaks_contract
    from reportlib.data.contract import roster_alone
    from reportlib.data.load import is_database, open_source, require_contract

    src = open_source(data, tz, tables=tables)
    require_contract(src)  # a database, checked in the engine; remembered for the run's notebooks
    errors = [] if is_database(src.location) else src.validate()[0]
    if not errors and params is not None:
        from reportlib.metrics.sla import source_profile_problems

        errors = source_profile_problems(src, params)
    if errors:
        raise source_breaks_contract(data, errors)
    if roster_alone(set(src.tables)):
        others = [r for r in reports if r != "attrition"]
        if others:
            raise MissingTableError(
                f"the data source {data} holds the agents table alone (an HR roster): "
                f"{noun_for(len(others), 'the report')} {in_words(others)} {noun_for(len(others), 'needs', 'need')} "
                "contacts (or intervals) and clients; "
                "the attrition report runs on it (--reports attrition)"
            )
        return src  # the attrition page says whether the roster reaches the month (queries.roster_month_note)
    start = pd.Period(month, freq="M").start_time
    end = (pd.Period(month, freq="M") + 1).start_time
    name, col = ("contacts", "arrived_at") if src.has("contacts") else ("intervals", "interval_start")
    t = src.table(name)
    inside = ((t[col] >= start) & (t[col] < end)).ifelse(1, 0)
    stats = t.aggregate(n=inside.sum(), first=t[col].min(), last=t[col].max()).to_pandas().iloc[0]
    if not stats["n"] or pd.isna(stats["n"]):
        have = (
            "it has none at all"
            if pd.isna(stats["first"])
            else f"it covers {pd.Timestamp(stats['first']):%Y-%m} to {pd.Timestamp(stats['last']):%Y-%m}"
        )
        raise ReportlibError(
            f"the data source {data} has no {name} in {month}; {have}. Choose a month with data (--month YYYY-MM)."
        )
    return src


def _schedule(params: dict) -> dict:
    sched = params.get("schedule")
    return sched if isinstance(sched, dict) else {}


def select_reports(reports: list[str] | None, clients: str | list[str] | None, params: dict) -> tuple[list[str], Any]:
    """Which reports and client reviews to run: flags, else parameters `schedule`, else everything."""
    sched = _schedule(params)
    chosen = list(reports) if reports else list(sched.get("reports") or [r for r in ALL_REPORTS if r != AGENT_REPORT])
    unknown = [r for r in chosen if r not in ALL_REPORTS]
    if unknown:
        raise UsageError(
            f"unknown {noun_for(len(unknown), 'report')} {', '.join(unknown)}; choose from {', '.join(ALL_REPORTS)}"
        )
    if clients is not None and CLIENT_REPORT not in chosen:
        chosen.append(CLIENT_REPORT)  # --clients asks for client reviews
    if CLIENT_REPORT in chosen and clients is None:
        clients = sched.get("clients", "all")
    return [r for r in ALL_REPORTS if r in chosen], clients


def _off(value: Any) -> bool:
    return value is None or value == "none" or value == ["none"] or value == []


def select_agent_reviews(
    chosen: list[str], agents: str | list[str] | None, params: dict, narrowed: bool
) -> tuple[list[str], Any]:
    """Whether agent reviews run, and for whom: (reports, agent selection or None).

    Off by default (parameters `schedule.agents: none`). `--agents all|ID[,ID]` turns them on for the run
    (`--agents none` off); `schedule.agents: all` or a list of ids turns them on in the monthly schedule
    (unless `--reports` names other reports only); naming `agent_review` in `--reports` or
    `schedule.reports` renders every active agent's review unless `schedule.agents` lists some.
    """
    sched_agents = _schedule(params).get("agents")
    chosen = [r for r in chosen if r != AGENT_REPORT] if agents is not None and _off(agents) else list(chosen)
    if agents is not None:
        if _off(agents):
            return chosen, None
        selection: Any = agents
    elif AGENT_REPORT in chosen:
        selection = "all" if _off(sched_agents) else sched_agents
    elif not narrowed and not _off(sched_agents):
        selection = sched_agents
    else:
        return chosen, None
    if AGENT_REPORT not in chosen:
        chosen.append(AGENT_REPORT)
    return [r for r in ALL_REPORTS if r in chosen], selection


def _agent_list(src: DataSource, month: str, params: dict, agents: Any, log: Any = None) -> list[Any]:
    """The agents to review: every active agent in `month` ('all'), or the ids given, each checked against
    the roster (UsageError naming unknown ids) and the month: a listed agent not active in it (on leave, gone)
    is left out with a line on `log`, so one absence does not stop a scheduled month's run; UsageError when
    none of the listed agents was active."""
    from reportlib.reports.agent_review import active_agents

    active = {s.agent_id: s for s in active_agents(src, month, params)}
    if agents in ("all", ["all"]):
        return list(active.values())
    ids = [c.strip() for c in agents.split(",")] if isinstance(agents, str) else [str(c) for c in agents]
    ids = [c for c in ids if c]
    roster = set(src.frame("agents")["agent_id"].astype(str))
    unknown = [c for c in ids if c not in roster]
    if unknown:
        sample = ", ".join(sorted(active)[:8])
        raise UsageError(
            f"unknown agent {noun_for(len(unknown), 'id')} {', '.join(printable(c) for c in unknown)}; the agents table (roster) has {sample}"
            f"{', ...' if len(roster) > 8 else ''}"
        )
    idle = [c for c in ids if c not in active]
    were = noun_for(len(idle), "was", "were")
    why = f"handled no contacts, {were} not scheduled and {were} not evaluated in {month}"
    if idle and len(idle) == len(ids):
        raise UsageError(
            f"{noun_for(len(idle), 'agent')} {', '.join(printable(c) for c in idle)} {why}; choose agents active that month (or --agents all)"
        )
    if idle:
        shown = ", ".join(printable(c) for c in idle)  # ids as typed: no terminal escapes
        print(f"reportlib run: no review for {noun_for(len(idle), 'agent')} {shown}: {why}", file=log or sys.stderr)
    return [active[c] for c in ids if c in active]


def _client_list(src: DataSource, clients: Any) -> list[tuple[str, str | None]]:
    frame = src.frame("clients")
    known: dict[str, str | None] = {
        str(c): (None if n is None or n != n else str(n)) for c, n in zip(frame["client_id"], frame["client_name"])
    }
    if clients in (None, "all") or clients == ["all"]:
        return sorted(known.items())
    ids = [c.strip() for c in clients.split(",")] if isinstance(clients, str) else [str(c) for c in clients]
    ids = [c for c in ids if c]
    unknown = [c for c in ids if c not in known]
    if unknown:
        sample = ", ".join(sorted(known)[:8])
        raise UsageError(
            f"unknown client {noun_for(len(unknown), 'id')} {', '.join(printable(c) for c in unknown)}; the clients table has {sample}"
            f"{', ...' if len(known) > 8 else ''}"
        )
    return [(c, known[c]) for c in ids]


def _clients_with_data(
    src: DataSource, month: str, clients: list[tuple[str, str | None]], log: Any = None
) -> list[tuple[str, str | None]]:
    """The clients of `clients` with contacts (or interval rows) in `month`: a client that left before it, starts
    after it or paused through it gets no review ("Contacts held steady at 0" went to a client gone two months),
    and the run says so on `log`, as it does for agents without activity. Clients named on the command line are
    kept (the caller does not ask then); all are kept when the source cannot tell (intervals without client_id)."""
    from reportlib.data.span import clients_with_data

    active = clients_with_data(src, *month_bounds(month))
    if active is None:
        return clients
    kept = [(cid, name) for cid, name in clients if cid in active]
    idle = [cid for cid, _ in clients if cid not in active]
    if idle:
        shown = ", ".join(printable(c) for c in idle[:10]) + (f" and {len(idle) - 10} more" if len(idle) > 10 else "")
        print(
            f"reportlib run: no review for {noun_for(len(idle), 'client')} {shown}: no contacts in {month} (name them with --clients to "
            "review them anyway)",
            file=log or sys.stderr,
        )
    return kept


def output_dir(params: dict, out: str | Path | None = None) -> Path:
    """The outputs folder: --out (relative to the cwd), else parameters schedule.out (relative to the project)."""
    from reportlib.core.params import project_root

    if out:
        return Path(out).resolve()
    folder = Path(_schedule(params).get("out") or "outputs")
    return folder if folder.is_absolute() else project_root() / folder


def _count_clients(location: str, tz: str = "") -> int:
    """At least the number of rows of a folder's clients table, counted cheaply (text lines of a CSV, the row
    count in a Parquet footer) to size the pool before the data is checked; a large number when it cannot
    be counted that way (xlsx, DuckDB, unreadable: the data check says why, later)."""
    big = 10**6
    folder = Path(location)
    if "://" in location or not folder.is_dir():
        return big
    try:
        for path in folder.iterdir():
            lower = path.name.lower()
            if not path.is_file() or not lower.startswith("clients."):
                continue
            if lower.endswith((".csv", ".tsv", ".txt")):
                with open(path, "rb") as fh:  # a quoted line break only raises the count: still an upper bound
                    return max(1, sum(1 for line in fh if line.strip()) - 1)
            if lower.endswith(".parquet"):
                import pyarrow.parquet as pq

                return max(1, pq.ParquetFile(path).metadata.num_rows)
    except Exception:  # noqa: BLE001 - the data check reports any problem with one clear line
        return big
    return big


def check_output_dir(out_dir: Path, month: str, setting: str = "--out") -> None:
    """Create the outputs folder and check that it (and the month's folder, when there is one) can be
    written, before any work. The month's folder itself is made by `claim_month`.

    UsageError (exit 2) when `out_dir` cannot be a folder (e.g. --out /dev/null/x: a path through a file);
    ReportlibError (exit 1) when it exists but cannot be written (read-only, full disk).
    """
    try:
        out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # made here: its owner's alone, as its months are
    except (NotADirectoryError, FileExistsError):
        raise UsageError(f"{setting} {out_dir}: not a folder (a part of the path is a file)") from None
    except OSError as exc:
        raise ReportlibError(f"{setting} {out_dir}: cannot create the outputs folder ({exc.strerror or exc})") from None
    if not out_dir.is_dir():
        raise UsageError(f"{setting} {out_dir}: not a folder")
    month_dir = out_dir / month
    for folder in (out_dir, month_dir) if month_dir.exists() or month_dir.is_symlink() else (out_dir,):
        if folder is month_dir:
            month_folder(out_dir, month)  # refuses a link or a file standing as the month's folder
        try:
            fd, probe = tempfile.mkstemp(prefix=".write-check.", dir=folder)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise ReportlibError(
                f"cannot write in the outputs folder {folder} ({exc.strerror or exc}); "
                f"fix its permissions or choose another {setting}"
            ) from None


def pdf_setting(params: dict, reports: Iterable[str], log=None) -> str | None:
    """The paper size to print PDFs on (parameters `reports.pdf`, `reports.paper`), or None for no PDFs: when
    they are turned off, none of `reports` is marked `pdf`, or no Chromium can print them (said on `log`).
    UsageError for a wrong setting."""
    from reportlib.core.settings import PrintSettings
    from reportlib.delivery.pdf import find_chromium

    settings = PrintSettings.from_params(params)
    if not settings.pdf or not set(reports) & PDF_REPORTS:
        return None
    missing = None
    if find_chromium() is None:
        missing = "no Chromium was found (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "the playwright package is not installed (pip install playwright)"
    if missing:
        if log is not None:
            print(
                f"reportlib run: warning: {missing}; the HTML reports are rendered without their PDF copies "
                "(set reports.pdf: false in parameters to silence this)",
                file=log,
                flush=True,
            )
        return None
    return settings.paper


SHARED_PREFIX = "reportlib-run-shared-"


@contextlib.contextmanager
def shared_results():
    """A private folder for the run's workers and kernels to share derived results in (data.cache.shared_result),
    named to them by an environment variable they inherit, removed when the run ends."""
    from reportlib.data.cache import SHARED_MEMO_ENV

    before = os.environ.get(SHARED_MEMO_ENV)
    # a run killed (SIGKILL, out of memory) left its folder of clients' derived results in the temporary folder
    # for good (a probe: 20 MB for the sample, ~GBs at scale): owned, and swept by the next run
    folder = str(owned_temp_folder(SHARED_PREFIX))
    os.environ[SHARED_MEMO_ENV] = folder
    try:
        yield Path(folder)
    finally:
        if before is None:
            os.environ.pop(SHARED_MEMO_ENV, None)
        else:
            os.environ[SHARED_MEMO_ENV] = before
        shutil.rmtree(folder, ignore_errors=True)


def run_month(
    month: str,
    *,
    params: dict,
    params_file: str | None = None,
    data: str | None = None,
    reports: list[str] | None = None,
    clients: str | list[str] | None = None,
    out: str | Path | None = None,
    workers: int | None = None,
    timeout: float | None = None,
    notebooks_dir: str | Path | None = None,
    renderer: str = DEFAULT_RENDERER,
    progress: bool = True,
    log=None,
    agents: str | list[str] | None = None,
    workbooks: bool | None = None,
) -> RunResult:
    """Render the month's reports: parameters < --params < flags, data checked first, then the batch.

    With `workbooks` (by default parameter `reports.workbooks`, true) the batch also writes the month's Excel
    workbook and one per client review (`plan_workbooks`)."""
    from reportlib.core.params import data_location, project_root
    from reportlib.planning.sample import ensure_default_data

    log = log or sys.stderr
    root = project_root()
    sched = _schedule(params)
    tz = params.get("timezone") or DEFAULT_TIMEZONE
    month = resolve_month(month, tz)
    location = data_location(params, data, root)
    location = location if "://" in location else str(Path(location).resolve())
    chosen, client_sel = select_reports(reports, clients, params)
    chosen, agent_sel = select_agent_reviews(chosen, agents, params, narrowed=bool(reports))
    nb_dir = Path(notebooks_dir or sched.get("notebooks") or "notebooks")
    nb_dir = (nb_dir if nb_dir.is_absolute() else root / nb_dir).resolve()
    out_dir = output_dir(params, out)
    check_output_dir(out_dir, month, "--out" if out else "parameters schedule.out")
    if workers is None:
        workers = sched.get("workers")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be 1 or more, got {workers}")
    timeout = float(timeout if timeout is not None else sched.get("timeout_s") or DEFAULT_TIMEOUT_S)
    if timeout <= 0:
        raise UsageError(f"--timeout must be a positive number of seconds, got {timeout:g}")
    missing = [r for r in chosen if not (nb_dir / f"{r}.ipynb").exists()]
    if missing:
        raise ReportlibError(
            "no notebook for " + ", ".join(missing) + f" in {nb_dir} "
            f"(expected {', '.join(m + '.ipynb' for m in missing)})"
        )
    reuse = bool(sched.get("reuse_kernels", True))
    pdf_paper = pdf_setting(params, chosen, log)
    from reportlib.metrics.scorecards import check_goals
    from reportlib.planning.forecast import check_calendars
    from reportlib.planning.forecast_report import check_capacity_params

    # named before anything renders, for the reports that read them: a wrong capacity target blanked a page of an
    # "ok" run; goals of 92 for 92% put every agent on the coaching list; hours over midnight failed every report
    year = month_bounds(month)[0].year
    check_calendars(params, range(year - 1, year + 2))
    if any(r in CAPACITY_REPORTS for r in chosen):
        check_capacity_params(params)
    if any(r in GOAL_REPORTS for r in chosen):
        check_goals(params.get("goals"))
    # the default sample is made once the command and its parameters are known to be good (it takes seconds)
    ensure_default_data(params, data, log=log, who="reportlib run")
    if workbooks is None:
        from reportlib.core.settings import PrintSettings

        workbooks = PrintSettings.from_params(params).workbooks
    expected = (
        len([r for r in chosen if r not in (CLIENT_REPORT, AGENT_REPORT)])
        + (10**6 if agent_sel else 0)
        + (
            0
            if CLIENT_REPORT not in chosen
            else _count_clients(location, tz)
            if client_sel in (None, "all", ["all"])
            else len(client_sel.split(","))
            if isinstance(client_sel, str)
            else len(client_sel)
        )
    )
    # the month is claimed first (an e-mail run of it is refused until this one ends); kernels boot in the workers while
    # the data is checked here; they share derived results (Source.memo)
    with (
        claim_month(out_dir, month),
        shared_results(),
        WorkerPool(
            pool_size(workers, max(1, expected), log),
            notebooks_dir=nb_dir,
            renderer=renderer,
            warm=reuse,
            reports=chosen,
            pdf_paper=pdf_paper,
        ) as pool,
    ):
        print(f"reportlib run: checking the data in {location} for {month} ...", file=log, flush=True)
        contracts = params if any(r in CONTRACT_REPORTS for r in chosen) else None
        from reportlib.data.load import source_tables

        tables = source_tables(params, location, say=True)
        src = check_source(location, tz, month, tables=tables, params=contracts, reports=chosen)
        if any(r in CAPACITY_REPORTS for r in chosen) and src.has("agents"):
            from reportlib.planning.forecast_report import check_capacity_roles

            check_capacity_roles(params, src.frame("agents"))  # against the roster: before any page is replaced
        from reportlib.reports.queries import source_partial_note

        partial = source_partial_note(src, params, month)  # the pages' banner, said before they replace any
        if partial:
            print(f"reportlib run: {partial}", file=log, flush=True)
        client_list = _client_list(src, client_sel) if CLIENT_REPORT in chosen else []
        if client_sel in (None, "all", ["all"]):
            client_list = _clients_with_data(src, month, client_list, log)
        agent_list = _agent_list(src, month, params, agent_sel, log) if AGENT_REPORT in chosen else []
        pfile = str(Path(params_file).resolve()) if params_file else None
        jobs = plan_jobs(month, chosen, client_list, data=location, params_file=pfile, agents=agent_list)
        return run_jobs(
            jobs,
            month=month,
            out=out_dir,
            notebooks_dir=nb_dir,
            timeout=timeout,
            fingerprint=src.fingerprint,
            data=location,
            renderer=renderer,
            reuse_kernels=reuse,
            progress=progress,
            log=log,
            pool=pool,
            pdf_paper=pdf_paper,
            workbooks=workbooks,
            claimed=True,
        )
