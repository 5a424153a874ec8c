"""JupyterLab as a way in: the default sample on first use, personal notebook copies, `reportlib lab`.

The tracked notebooks in notebooks/ stay clean because Lab never opens them: `reportlib lab` copies
them into an ignored folder (``lab/`` in the project root, one copy per notebook, never overwritten
unless asked) and starts JupyterLab there. What a person runs, edits and saves lives in those copies.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from reportlib.core.errors import ReportlibError
from reportlib.core.safety import owner_only
from reportlib.core.words import counted, in_words, noun_for
from reportlib.planning.sample import ensure_default_data

LAB_FOLDER = "lab"  # personal notebook copies, ignored by git (.gitignore)


SHIPPED_RECORD = ".shipped.json"  # in lab/: the digest of each tracked notebook when its copy was made


def _digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _free_name(folder: Path, stem: str) -> Path:
    """``<stem>.previous.ipynb``, or ``<stem>.previous-2.ipynb`` ... when that is taken: no kept copy is replaced."""
    k, name = 1, f"{stem}.previous.ipynb"
    while (folder / name).exists():
        k += 1
        name = f"{stem}.previous-{k}.ipynb"
    return folder / name


def personal_copies(notebooks: str | os.PathLike, folder: str | os.PathLike, fresh: bool = False) -> list[Path]:
    """Copy each tracked notebook into `folder` unless a copy is already there (fresh=True replaces them).

    Returns the copies made. A replaced copy that differs from the notebook replacing it is kept as
    ``<name>.previous.ipynb`` (``.previous-2``, ... when that name is taken: a second --fresh lost the first one's
    edits); one that does not is simply replaced. The digest of each notebook copied is recorded in `folder`
    (SHIPPED_RECORD) for `stale_copies`.
    """
    src, dst = Path(notebooks), Path(folder)
    dst.mkdir(parents=True, exist_ok=True)
    # run and saved, a copy holds agent names, QA comments and clients' figures (as the month folder's pages do,
    # which are 0600): the folder and the copies are the owner's alone, Jupyter's checkpoints inside it too (a
    # probe found lab/ 0755 and a saved team page, 172 names, readable by every user of the machine)
    owner_only(dst)
    record = _shipped(dst)
    made = []
    for nb in sorted(src.glob("*.ipynb")):
        target = dst / nb.name
        if target.exists():
            if not fresh:
                continue
            if target.read_bytes() != nb.read_bytes():
                kept = _free_name(dst, nb.stem)
                shutil.copy2(target, kept)
                owner_only(kept)
        shutil.copyfile(nb, target)
        owner_only(target)
        record[nb.name] = _digest(nb)
        made.append(target)
    if made:
        (dst / SHIPPED_RECORD).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    return made


def _shipped(folder: Path) -> dict[str, str]:
    try:
        record = json.loads((folder / SHIPPED_RECORD).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in record.items()} if isinstance(record, dict) else {}


def stale_copies(notebooks: str | os.PathLike, folder: str | os.PathLike) -> list[str]:
    """The copies in `folder` whose tracked notebook has changed since they were made (a `git pull`): an old copy
    may call what the library no longer has. Copies made before the record was kept are not judged."""
    record = _shipped(Path(folder))
    return [
        nb.name
        for nb in sorted(Path(notebooks).glob("*.ipynb"))
        if (Path(folder) / nb.name).exists() and nb.name in record and record[nb.name] != _digest(nb)
    ]


def lab_data(params: Mapping[str, Any], data: str | None) -> str | None:
    """The `--data` location every notebook is given (REPORTLIB_DATA), checked before Lab starts: a folder or a
    DuckDB file made absolute (the kernels run in lab/, where `duckdb://db/store.duckdb` named nothing), a warehouse
    URL as given less its password (`data_location` moves it to PGPASSWORD); None without `data`, when the
    notebooks read the parameters' `data`, which is checked the same way. ReportlibError (exit 1) for a folder or
    database that does not exist or holds no table of the contract, and DataError (exit 1, a line per problem, as
    `reportlib validate` names them) for one that breaks the contract: Lab started on them, and every notebook then
    failed (a probe: a bad fee in row 4 of clients.csv). A warehouse is reached by the notebooks themselves (a
    Spark session is not started twice)."""
    from reportlib.core.errors import source_breaks_contract
    from reportlib.core.params import DEFAULT_TIMEZONE, data_location
    from reportlib.data.contract import TABLES
    from reportlib.data.load import duckdb_file, open_source, source_tables

    location = data_location(dict(params), data)
    db = duckdb_file(location)
    if db:
        location = f"duckdb://{Path(db).resolve()}"
    elif "://" in location:
        return location
    else:
        location = str(Path(location).resolve())
    source = open_source(
        location, str(params.get("timezone") or DEFAULT_TIMEZONE), source_tables(params, location, say=True)
    )
    if not source.tables:
        raise ReportlibError(
            f"{location} holds no table of the data contract (e.g. {', '.join(f'{t}.csv' for t in list(TABLES)[:3])});"
            " give the folder or database that holds them"
        )
    errors = source.validate()[0]
    if errors:
        raise source_breaks_contract(location, errors)
    return location if data else None


def lab_command(
    folder: str | os.PathLike, *, port: int | None = None, no_browser: bool = False, extra: Sequence[str] = ()
) -> list[str]:
    """The command line that starts JupyterLab on `folder` with this Python."""
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={Path(folder).resolve()}",
        # no calls home from a machine that holds clients' data: no news feed, no update check
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",  # the extension panel would search PyPI (a probe)
    ]
    if port is not None:  # that port or none: Jupyter moved to the next free one unsaid, a second Lab beside the first
        cmd += [f"--ServerApp.port={int(port)}", "--ServerApp.port_retries=0"]
    if no_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers often run as root; Lab refuses without this
        cmd.append("--allow-root")
    return cmd + list(extra)


def have_jupyterlab() -> bool:
    """True when JupyterLab can be imported by this Python."""
    import importlib.util

    return importlib.util.find_spec("jupyterlab") is not None


def launch(
    params: Mapping[str, Any],
    *,
    data: str | None = None,
    params_file: str | None = None,
    port: int | None = None,
    no_browser: bool = False,
    fresh: bool = False,
    extra: Sequence[str] = (),
    log: TextIO | None = None,
) -> int:
    """`reportlib lab`: make sure the default sample exists, copy the notebooks, run JupyterLab; its exit status.
    `data` and `params_file` reach every notebook run without its own (REPORTLIB_DATA, REPORTLIB_PARAMS)."""
    from reportlib.core.params import project_root

    log = log or sys.stderr
    if not have_jupyterlab():
        raise ReportlibError("JupyterLab is not installed in this environment; `pip install -e .` installs it")
    ensure_default_data(params, data, log=log, who="reportlib lab")  # made first: then checked like any data
    location = lab_data(params, data)
    root = project_root()
    folder = root / LAB_FOLDER
    try:
        made = personal_copies(root / "notebooks", folder, fresh=fresh)
    except OSError as exc:  # lab/ a file, lab/sla.ipynb a folder, no permission: named, not "failed unexpectedly"
        where = exc.filename or folder
        raise ReportlibError(
            f"cannot make the notebook copies in {folder} ({where}: {exc.strerror or exc}); move that "
            "file or folder aside"
        ) from None
    if made:
        print(
            f"reportlib lab: copied {counted(len(made), 'notebook')} into {folder} (your copies; git ignores them)",
            file=log,
            flush=True,
        )
    stale = stale_copies(root / "notebooks", folder)
    if stale:
        print(
            f"reportlib lab: the shipped {in_words(stale)} changed since your {noun_for(len(stale), 'copy was', 'copies were')}"
            " made; `reportlib lab --fresh` replaces your copies (an edited one is kept as <name>.previous.ipynb)",
            file=log,
            flush=True,
        )
    env = dict(os.environ)
    if location:
        env["REPORTLIB_DATA"] = location
    if params_file:  # every notebook's parameters, as `run --params` gives them (views.start_report reads it)
        env["REPORTLIB_PARAMS"] = str(Path(params_file).resolve())
    cmd = lab_command(folder, port=port, no_browser=no_browser, extra=extra)
    print(f"reportlib lab: starting JupyterLab on {folder} (Ctrl+C twice to stop)", file=log, flush=True)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0
