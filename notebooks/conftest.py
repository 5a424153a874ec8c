"""nbval runs every report notebook (lax mode: no stored outputs to compare) on a small sample.

`python -m pytest` collects notebooks/*.ipynb through nbval (`--nbval-lax` in pyproject.toml).
Unless REPORTLIB_DATA names a data source already, a small deterministic sample operation is
generated once, just before the first notebook runs (so the tests in tests/ never see the
variable); the kernels nbval starts inherit it, and each notebook's `views.start_report` reads it
in place of the parameters' data source (month None = the latest complete month in the data).
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_MADE: list[str] = []


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if os.environ.get("REPORTLIB_DATA"):
        return
    from reportlib.planning.sample import sample_data

    folder = tempfile.mkdtemp(prefix="reportlib-nbval-")
    _MADE.append(folder)
    sample_data(os.path.join(folder, "sample"), seed=7, start="2025-01", months=4, agents=30, clients=6)
    os.environ["REPORTLIB_DATA"] = os.path.join(folder, "sample")


def pytest_sessionfinish(session: pytest.Session) -> None:
    for folder in _MADE:
        os.environ.pop("REPORTLIB_DATA", None)
        shutil.rmtree(folder, ignore_errors=True)
