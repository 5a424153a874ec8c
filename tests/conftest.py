"""Shared fixtures: the real data in ../shared/data, and a small deterministic sample operation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("REPORTLIB_SHARED_DATA", ROOT.parent / "shared" / "data"))
REQUIRE_SHARED = os.environ.get("REPORTLIB_REQUIRE_SHARED") == "1"


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data; skips the test when absent (fails when REPORTLIB_REQUIRE_SHARED=1)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        msg = f"shared data not found: {path}"
        if REQUIRE_SHARED:
            pytest.fail(msg + " (REPORTLIB_REQUIRE_SHARED=1)")
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ../shared/data folder."""
    return shared_path()


# Real database engines (PostgreSQL server, Spark session, the `engine` parametrization): tests/_engines.py.
from _engines import engine, pg_server, spark_session  # noqa: E402, F401
