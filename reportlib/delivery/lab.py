"""JupyterLab as a way in: the default sample on first use, personal notebook copies, `reportlib lab`.

The tracked notebooks in notebooks/ stay clean because Lab never opens them: `reportlib lab` copies
them into an ignored folder (``lab/`` in the project root, one copy per notebook, never overwritten
unless asked) and starts JupyterLab there. What a person runs, edits and saves lives in those copies.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from reportlib.core.errors import ReportlibError
from reportlib.core.words import counted
from reportlib.planning.sample import ensure_default_data

LAB_FOLDER = "lab"  # personal notebook copies, ignored by git (.gitignore)


def personal_copies(notebooks: str | os.PathLike, folder: str | os.PathLike, fresh: bool = False) -> list[Path]:
    """Copy each tracked notebook into `folder` unless a copy is already there (fresh=True replaces them).

    Returns the copies made. A replaced copy is kept once as ``<name>.previous.ipynb``.
    """
    src, dst = Path(notebooks), Path(folder)
    dst.mkdir(parents=True, exist_ok=True)
    made = []
    for nb in sorted(src.glob("*.ipynb")):
        target = dst / nb.name
        if target.exists():
            if not fresh:
                continue
            shutil.copy2(target, dst / f"{nb.stem}.previous.ipynb")
        shutil.copyfile(nb, target)
        made.append(target)
    return made


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
    ]
    if port is not None:
        cmd.append(f"--ServerApp.port={int(port)}")
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
    ensure_default_data(params, data, log=log, who="reportlib lab")
    root = project_root()
    folder = root / LAB_FOLDER
    made = personal_copies(root / "notebooks", folder, fresh=fresh)
    if made:
        print(
            f"reportlib lab: copied {counted(len(made), 'notebook')} into {folder} (your copies; git ignores them)",
            file=log,
            flush=True,
        )
    env = dict(os.environ)
    if data:
        env["REPORTLIB_DATA"] = str(Path(data).resolve()) if "://" not in data else data
    if params_file:  # every notebook's parameters, as `run --params` gives them (views.start_report reads it)
        env["REPORTLIB_PARAMS"] = str(Path(params_file).resolve())
    cmd = lab_command(folder, port=port, no_browser=no_browser, extra=extra)
    print(f"reportlib lab: starting JupyterLab on {folder} (Ctrl+C twice to stop)", file=log, flush=True)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0
