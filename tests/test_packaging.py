"""environment.yml stays in step with pyproject.toml."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {
    # conda-forge names ibis with a backend ibis-<backend> (anaconda.org/conda-forge/ibis-duckdb)
    "ibis-framework[duckdb]": "ibis-duckdb",
    # conda-forge's ibis package plus psycopg and pyspark (listed on their own) give the two backends
    "ibis-framework[postgres,pyspark]": "ibis-duckdb",
    "kaleido": "python-kaleido",
    # conda-forge ships psycopg's C implementation (PyPI's psycopg[binary]) as psycopg-c
    "psycopg[binary]": "psycopg-c",
}


def _split(req: str) -> tuple[str, str]:
    req = req.split("#")[0].strip()
    m = re.match(r"^([A-Za-z0-9_.,\-\[\]]+)\s*(.*)$", req)
    return m.group(1).lower(), m.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    reqs = list(project["dependencies"])
    for r in extras["test"]:  # `reportlib[x]` in the test extra stands for extra x's requirements
        m = re.match(r"^reportlib\[([a-z]+)\]", r.strip())
        reqs += extras[m.group(1)] if m else [r]
    wanted = dict(_split(r) for r in reqs)
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    have = dict(_split(d) for d in env["dependencies"] if isinstance(d, str))
    for name, spec in wanted.items():
        conda = CONDA_NAMES.get(name, name)
        assert conda in have, f"{conda} missing from environment.yml"
        assert have[conda] == spec, f"{conda}: pyproject says {spec!r}, environment.yml {have[conda]!r}"
