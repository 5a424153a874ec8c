"""Parameter sets from parameters/*.yaml, layered: defaults < --params FILE < command-line flags."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml

from .errors import UsageError

DEFAULT_TIMEZONE = "America/New_York"


def project_root() -> Path:
    """The folder holding parameters/ and notebooks/: $REPORTLIB_HOME, the source checkout, or the cwd."""
    env = os.environ.get("REPORTLIB_HOME")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve().parent.parent
    if (here / "parameters").is_dir():
        return here
    return Path.cwd()


def _read_yaml(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh) or {}
    except FileNotFoundError:
        raise UsageError(f"parameter file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"parameter file {path} is not valid YAML: {exc}") from None


def deep_merge(base: dict, overlay: dict) -> dict:
    """A new dict: overlay's keys replace base's, nested dicts merged key by key."""
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_params(overlay: str | Path | None = None, root: Path | None = None) -> dict:
    """All parameter sets: defaults.yaml at top level, every other parameters/NAME.yaml under key NAME.

    An overlay file (--params) is deep-merged on top; it may use the same layout
    (top-level keys, and NAME: {...} for the other sets).
    """
    root = root or project_root()
    pdir = root / "parameters"
    params: dict = {}
    defaults = pdir / "defaults.yaml"
    if defaults.exists():
        params = _read_yaml(defaults)
    for path in sorted(pdir.glob("*.yaml")):
        if path.name == "defaults.yaml":
            continue
        params[path.stem] = _read_yaml(path)
    if overlay is not None:
        extra = _read_yaml(Path(overlay))
        if not isinstance(extra, dict):
            raise UsageError(f"parameter file {overlay} must hold a mapping of keys to values")
        params = deep_merge(params, extra)
    params.setdefault("timezone", DEFAULT_TIMEZONE)
    return params


def data_location(params: dict, data: str | None = None, root: Path | None = None) -> str:
    """The data source to use: --data if given, else params['data'] relative to the project root."""
    if data:
        return data
    loc = params.get("data", "data/sample")
    if "://" in loc or os.path.isabs(loc):
        return loc
    return str((root or project_root()) / loc)
