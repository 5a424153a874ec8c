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
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence, TextIO

from .errors import ReportlibError

DEFAULT_DATA = "data/sample"  # the data source parameters/defaults.yaml names unless changed
LAB_FOLDER = "lab"  # personal notebook copies, ignored by git (.gitignore)


def uses_default_sample(params: Mapping[str, Any], data: str | None) -> bool:
    """True when no data source was given and the parameters name the bundled sample's folder."""
    return data is None and str(params.get("data", DEFAULT_DATA)) == DEFAULT_DATA


def ensure_sample_at(location: str | os.PathLike, log: TextIO | None = None, who: str = "reportlib",
                     **sample_options: Any) -> bool:
    """Create the sample operation at `location` when it is absent; True when it was created.

    sample_options go to sample.sample_data (months, agents, clients, start, seed; its defaults otherwise).

    Written to a temporary folder next to it and renamed into place, so a notebook and a run opened
    at the same moment never read a half-written sample (the second one to finish discards its copy).
    """
    target = Path(location)
    if target.exists():
        return False
    log = log or sys.stderr
    print(f"{who}: no data at {target}; creating the sample operation there "
          f"(as `reportlib sample-data --out {target}` would, about a minute) ...", file=log, flush=True)
    from .sample import sample_data

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        rows, seconds = sample_data(tmp, **sample_options)
        try:
            tmp.rename(target)
        except OSError:
            if not target.exists():
                raise ReportlibError(f"cannot create the sample at {target}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    counts = ", ".join(f"{name} {n:,}" for name, n in rows.items())
    print(f"{who}: sample operation created in {target} ({counts} rows, {seconds:.0f} s)", file=log, flush=True)
    return True


def ensure_default_data(params: Mapping[str, Any], data: str | None = None, log: TextIO | None = None,
                        who: str = "reportlib") -> bool:
    """Create the default sample when no data source was given and it does not exist yet (like `run`)."""
    from .params import data_location

    if not uses_default_sample(params, data):
        return False
    return ensure_sample_at(data_location(dict(params), None), log=log, who=who)


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


def lab_command(folder: str | os.PathLike, *, port: int | None = None, no_browser: bool = False,
                extra: Sequence[str] = ()) -> list[str]:
    """The command line that starts JupyterLab on `folder` with this Python."""
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={Path(folder).resolve()}",
           # no calls home from a machine that holds clients' data: no news feed, no update check
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
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


def launch(params: Mapping[str, Any], *, data: str | None = None, port: int | None = None,
           no_browser: bool = False, fresh: bool = False, extra: Sequence[str] = (),
           log: TextIO | None = None) -> int:
    """`reportlib lab`: make sure the default sample exists, copy the notebooks, run JupyterLab; its exit status."""
    from .params import project_root

    log = log or sys.stderr
    if not have_jupyterlab():
        raise ReportlibError("JupyterLab is not installed in this environment; `pip install -e .` installs it")
    ensure_default_data(params, data, log=log, who="reportlib lab")
    root = project_root()
    folder = root / LAB_FOLDER
    made = personal_copies(root / "notebooks", folder, fresh=fresh)
    if made:
        print(f"reportlib lab: copied {len(made)} notebook(s) into {folder} (your copies; git ignores them)",
              file=log, flush=True)
    env = dict(os.environ)
    if data:
        env["REPORTLIB_DATA"] = str(Path(data).resolve()) if "://" not in data else data
    cmd = lab_command(folder, port=port, no_browser=no_browser, extra=extra)
    print(f"reportlib lab: starting JupyterLab on {folder} (Ctrl+C twice to stop)", file=log, flush=True)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0
