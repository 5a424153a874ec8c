"""Parameter sets from parameters/*.yaml, layered: defaults < --params FILE < command-line flags."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from reportlib.core.errors import UsageError
from reportlib.core.names import SL_DEFINITIONS
from reportlib.core.safety import printable

DEFAULT_TIMEZONE = "America/New_York"
# libyaml's safe loader when PyYAML was built with it (several times faster), else the pure-Python one
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DateCheckingLoader(_LOADER):  # type: ignore[misc, valid-type]
    """The safe loader, with a date-shaped value that is no date (2026-13-45, 2026-02-30) a YAML error naming its
    line: PyYAML raised a bare ValueError while reading the file (a probe: "failed unexpectedly", exit 1)."""


def _timestamp(loader: Any, node: Any) -> Any:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a date ({exc}); write dates as YYYY-MM-DD", node.start_mark
        ) from None


_DateCheckingLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)
# a parameter file is a few KB; this bound only stops /dev/zero or a wrong multi-GB file eating memory
_MAX_PARAMS_BYTES = 16 * 2**20


def project_root() -> Path:
    """The folder holding parameters/ and notebooks/: $REPORTLIB_HOME, the source checkout, or the cwd."""
    env = os.environ.get("REPORTLIB_HOME")
    if env:
        home = Path(env).resolve()
        if not (home / "parameters").is_dir():  # else each command failed its own way, none naming the cause
            raise UsageError(
                f"REPORTLIB_HOME={printable(env)} holds no parameters/ folder: it names the folder that holds "
                "parameters/ and notebooks/ (unset it to use the installed project's)"
            )
        return home
    here = Path(__file__).resolve().parents[2]
    if (here / "parameters").is_dir():
        return here
    return Path.cwd()


def _read_yaml(path: Path) -> Any:
    """The YAML document in `path`; UsageError (one line naming the file) when it cannot be read as one."""
    import stat

    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise UsageError(f"parameter file {path} is a folder; give a YAML file")
        seen = (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        if stat.S_ISREG(st.st_mode) and seen in _PARSED:
            return copy.deepcopy(_PARSED[seen])
        with open(path, "rb") as fh:  # a regular file, or a pipe such as --params <(...)
            data = fh.read(_MAX_PARAMS_BYTES + 1)
    except UsageError:
        raise
    except FileNotFoundError:
        raise UsageError(f"parameter file {path} does not exist") from None
    except OSError as exc:
        raise UsageError(f"parameter file {path} cannot be read ({exc.strerror or exc})") from None
    if len(data) > _MAX_PARAMS_BYTES:
        raise UsageError(
            f"parameter file {path} is larger than {_MAX_PARAMS_BYTES // 2**20} MB; "
            f"a parameter file is a few KB of YAML"
        )
    if b"\x00" in data:
        raise UsageError(f"parameter file {path} is not a text file (it holds binary data); give a YAML file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UsageError(
            f"parameter file {path} line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8"
        ) from None
    try:
        value = yaml.load(text, Loader=_DateCheckingLoader) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"parameter file {path} is not valid YAML: {_one_line(str(exc))}") from None
    if stat.S_ISREG(st.st_mode):
        while len(_PARSED) >= _PARSED_MAX:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[seen] = copy.deepcopy(value)
    return value


# Parameter files parsed by this process, by path and the file's identity (device, inode, size, modification
# and change times: a rewritten file is parsed again). A warm kernel reads the same files for every notebook
# (~7 ms of YAML parsing each time); a pipe (--params <(...)) is always read.
_PARSED: dict[tuple, Any] = {}
_PARSED_MAX = 64


def _one_line(text: str, limit: int = 300) -> str:
    """`text` on one line (runs of whitespace become one space), cut to `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def deep_merge(base: dict, overlay: dict) -> dict:
    """A new dict: overlay's keys replace base's, nested dicts merged key by key."""
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def tables_problem(value: object) -> str | None:
    """What is wrong with a `tables` parameter (contract table -> the database's table, docs/databases.md), or
    None: absent, or a mapping of names to non-empty names."""
    if value is None or (
        isinstance(value, dict)
        and all(isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in value.items())
    ):
        return None
    return f"parameter tables must map contract table names to table names (contacts: crm.calls), got {value!r}"


def load_params(overlay: str | Path | None = None, root: Path | None = None, strict: bool = False) -> dict:
    """All parameter sets: defaults.yaml at top level, every other parameters/NAME.yaml under key NAME.

    An overlay file (--params) is deep-merged on top; it may use the same layout
    (top-level keys, and NAME: {...} for the other sets). With `strict`, an unknown key of the overlay (top-level,
    or inside a set its shipped file spells out: `unknown_keys`) is a UsageError naming the file and the key, and the
    merged parameters then go through `validate_params` (every unknown key and wrong type, a calendar with no open
    weekday): the checking commands refuse them up front as `run` does. The time zone is checked always
    (`check_timezone`: UsageError).
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
        if strict:
            check_overlay_keys(extra, params, overlay)
        params = deep_merge(params, extra)
        if strict:  # `validate` and the other checking commands: every key and type, and the calendar, up front
            validate_params(params)
    params.setdefault("timezone", DEFAULT_TIMEZONE)
    # checked here, for every path alike (a probe: `timezone: null` was refused by kpis, fell back to New York in
    # run, and opened the data with no zone in a notebook, reading offsets as UTC: 3 contacts in March for 5)
    params["timezone"] = check_timezone(params["timezone"])
    return params


# top-level keys an overlay may set beyond those of parameters/defaults.yaml and the NAME.yaml sets
_EXTRA_TOP_KEYS = ("data", "timezone", "short_abandon_s", "sl_threshold_s", "sl_definition", "tables")


def _home_hint(key: Any, defaults: dict, known: list[str]) -> str:
    """For a top-level key nothing reads: the set it belongs under when one holds it (" (it belongs under
    reports:)"), else the closest known key (" (did you mean ...?)"), else nothing."""
    homes = [name for name, value in defaults.items() if isinstance(value, dict) and key in value]
    return f" (it belongs under {homes[0]}:)" if homes else did_you_mean(str(key), known)


def check_overlay_keys(overlay: dict, defaults: dict, file: str | Path) -> None:
    """Raise UsageError (one line naming `file` and the keys) for top-level keys of an overlay that nothing reads.

    Known top-level keys are those of `defaults` (defaults.yaml's keys and one key per
    parameters/NAME.yaml set) and the documented extras. A key that belongs inside a set (such as
    `forecast_model`, which lives under `calendar:`) is named with the set it belongs to.
    """
    known = sorted(set(map(str, defaults)) | set(_EXTRA_TOP_KEYS))
    unknown = [k for k in overlay if str(k) not in known]
    parts = []
    for key in unknown:
        parts.append(f"{_one_line(repr(key), 80)}{_home_hint(key, defaults, known)}")
    if parts:
        raise UsageError(
            f"parameter file {file}: unknown top-level key{'s' if len(parts) > 1 else ''} {', '.join(parts)}"
        )
    known_keys = key_reference(defaults)
    parts = [p for key in _KEYED_SETS for p in unknown_keys(overlay.get(key), known_keys.get(key), key)]
    if parts:  # and the keys inside the sets whose shipped files name them
        raise UsageError(f"parameter file {file}: unknown key{'s' if len(parts) > 1 else ''} {', '.join(parts)}")


def vintage_folder(params: Mapping[str, Any] | None, root: Path | None = None) -> Path | None:
    """Where forecast vintages are archived and read (parameters schedule.vintages, relative to the project
    folder), None when not set."""
    folder = ((params or {}).get("schedule") or {}).get("vintages")
    if not folder:
        return None
    path = Path(str(folder)).expanduser()
    return path if path.is_absolute() else (root or project_root()) / path


def data_location(params: dict, data: str | None = None, root: Path | None = None) -> str:
    """The data source to use: --data if given, else params['data'] relative to the project root.

    A database URL holding a password (postgres://user:PASSWORD@host/db) comes back without it, and
    the password goes to this process's PGPASSWORD (inherited by the report kernels), so the URL that
    is logged, written to manifests and passed to notebooks never carries it. A password the URL holds
    where it cannot be read (a `?password=` option, an unencoded / or ? in it) is a UsageError showing the
    URL without it; so is a password in the parameters' `data:` (credentials are never kept in a file).
    """
    from reportlib.core.safety import MISPLACED_PASSWORD, password_misplaced, redact_passwords, split_password

    loc = data or params.get("data", "data/sample")
    if "://" in loc:
        if password_misplaced(loc):
            raise UsageError(f"{redact_passwords(loc)}: {MISPLACED_PASSWORD}")
        loc, password = split_password(loc)
        if password is not None and not data:
            raise UsageError(
                f"parameters data: {loc} holds a password, and a parameter file is no place for one: "
                "remove it from the file and give it in PGPASSWORD or ~/.pgpass"
            )
        if password is not None:
            os.environ["PGPASSWORD"] = password
        return loc
    if data or os.path.isabs(loc):
        return loc
    return str((root or project_root()) / loc)


# --- validation (unknown keys, wrong types) ---------------------------------------------------------

_NUMBER = (int, float)
# Parameter sets whose keys are known here in full (other sets are free-form mappings owned by the
# modules that read them). Each key: a check returning None when fine, else what was expected.


def _is_number(v: Any) -> bool:
    return isinstance(v, _NUMBER) and not isinstance(v, bool)


def _str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _addresses_by_name(v: Any) -> bool:
    """A mapping of text keys (YAML reads an unquoted 01 as the number 1, which no id equals) to an address or a
    list of them: distribution's account teams and supervisors."""
    return (
        isinstance(v, dict)
        and all(isinstance(k, str) for k in v)
        and all(_str_list(x) or isinstance(x, str) for x in v.values())
    )


_SET_SCHEMAS: dict[str, dict[str, tuple[str, Any]]] = {
    "schedule": {
        "reports": ("a list of report names", _str_list),
        "clients": ("'all' or a list of client ids", lambda v: v == "all" or _str_list(v)),
        "agents": (
            "'none', 'all' or a list of agent ids",
            lambda v: v is None or v in ("none", "all") or _str_list(v),
        ),
        "out": ("a folder path", lambda v: isinstance(v, str)),
        "workers": (
            "a whole number >= 1, or null",
            lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 1),
        ),
        "timeout_s": ("a number of seconds > 0", lambda v: _is_number(v) and v > 0),
        "reuse_kernels": ("true or false", lambda v: isinstance(v, bool)),
        "notebooks": ("a folder path", lambda v: isinstance(v, str)),
        "vintages": ("a folder path, or null", lambda v: v is None or (isinstance(v, str) and bool(v.strip()))),
    },
    "distribution": {
        "executives": ("a list of e-mail addresses", _str_list),
        "executive_reports": ("a list of report names", _str_list),
        "account_teams": (
            'a mapping of client id (quoted when it is a number: "01") to a list of addresses',
            _addresses_by_name,
        ),
        "account_team_default": ("a list of address templates", _str_list),
        "supervisors": (
            "a mapping of supervisor (as in the roster; quoted when it is a number) to a list of addresses",
            _addresses_by_name,
        ),
        "supervisor_default": ("a list of address templates", _str_list),
        "cc": ("a list of e-mail addresses", _str_list),
        "reply_to": ("an e-mail address or null", lambda v: v is None or isinstance(v, str)),
        "subjects": (
            "a mapping of report name to subject template",
            lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
        ),  # each template's fields: subject_problem
        "max_charts": ("a whole number >= 0", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0),
        "allowed_domains": ("a list of domains, or null", lambda v: v is None or _str_list(v)),
        "client_domains": (
            "a mapping of client id (quoted when it is a number) to a list of that client's domains",
            _addresses_by_name,
        ),
        "attach": (
            "a mapping of audience (executives, account_teams, supervisors, default) to a list of html and/or pdf",
            lambda v: isinstance(v, dict) and all(_str_list(x) and x and set(x) <= {"html", "pdf"} for x in v.values()),
        ),
    },
}


# Parameter sets whose shipped file holds every key the code reads, with its default (queries.report_settings
# overlays parameters/reports.yaml): any other key is a typo, and each value is of its default's kind.
_COMPLETE_SETS = ("reports",)
# Parameter sets whose shipped files name every key the code reads, level by level (`unknown_keys`; the values are
# checked by their readers, which take several forms: holidays: IL, a list of dates or a mapping): any other key is
# a typo, which was ignored (a probe: calendar.buisness_hours and capacity.shrinkag rendered the defaults, exit 0).
_KEYED_SETS = ("calendar", "capacity", "attrition", "budget", "goals")
# Mappings whose keys the user names (a channel, a month, a team): their keys are free; their values are checked
# against the keys of the shipped entry named here, or by their reader (None: forecast_model by ForecastConfig,
# goals by metrics.scorecards.check_goals).
_NAMED_KEYS: dict[str, str | None] = {
    "capacity.service_targets": "phone",
    "capacity.default_aht_s": None,
    "budget.labor.months": None,
    "goals.defaults": None,
    "goals.roles": None,
    "goals.teams": None,
    "calendar.forecast_model": None,
}
# Keys a reader takes that the shipped file does not write out (other spellings, forms it documents in comments)
_ALSO_KNOWN: dict[str, tuple[str, ...]] = {
    "calendar.business_hours": ("start", "end", "open", "close", "weekdays", "days"),
    "calendar.holidays": ("extra", "dates", "remove", "not_holidays"),
}


def key_reference(defaults: dict) -> dict:
    """The parameters whose keys are known: `defaults` (the parameters/ folder in use, which may be a user's own copy
    under REPORTLIB_HOME) over the ones shipped with the code, so that a key a user's older copy lacks (a setting
    added since) is no unknown key."""
    shipped = Path(__file__).resolve().parents[2]
    if (shipped / "parameters").is_dir() and shipped != project_root():
        return deep_merge(load_params(root=shipped), defaults)
    return defaults


def unknown_keys(value: Any, ref: Any, path: str) -> list[str]:
    """`path.key (did you mean ...?)` for each key of the mapping `value` (a parameter set or a part of it) that its
    shipped counterpart `ref` does not have, at every level (_NAMED_KEYS, _ALSO_KNOWN: the exceptions); [] when
    either is no mapping. A business_hours key named after a weekday ("sat", "Saturday") is known."""
    if not isinstance(value, dict) or not isinstance(ref, dict):
        return []
    if path in _NAMED_KEYS:
        entry = _NAMED_KEYS[path]
        if entry is None:
            return []
        return [p for name, sub in value.items() for p in unknown_keys(sub, ref.get(entry), f"{path}.{name}")]
    allowed = set(map(str, ref)) | set(_ALSO_KNOWN.get(path, ()))
    out = []
    for key, sub in value.items():
        day = path == "calendar.business_hours" and str(key).strip().lower()[:3] in WEEKDAY_NAMES
        if str(key) not in allowed and not day:
            out.append(f"{path}.{_one_line(str(key), 80)}{did_you_mean(str(key), sorted(allowed))}")
        else:
            out += unknown_keys(sub, ref.get(key), f"{path}.{key}")
    return out


def _type_name(v: Any) -> str:
    if isinstance(v, bool):
        return "true or false"
    if _is_number(v):
        return "a number"
    if isinstance(v, str):
        return "text"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "a mapping"
    return type(v).__name__


def _same_kind(ref: Any, v: Any) -> bool:
    if ref is None or v is None:
        return True
    if isinstance(ref, bool) or isinstance(v, bool):
        return isinstance(ref, bool) and isinstance(v, bool)
    if _is_number(ref):
        return _is_number(v)
    return isinstance(v, type(ref))


def did_you_mean(key: str, known: list[str]) -> str:
    """ " (did you mean threshold_s?)" for a key close to one of `known` (difflib), else "": the tail of a message
    naming an unknown key."""
    import difflib

    close = difflib.get_close_matches(key, known, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # Monday = 0: the calendar's weekday names
_CLOSED_DAY = (None, False, "closed", "")


def weekday_index(day: Any) -> int | None:
    """Monday = 0 .. Sunday = 6 from a day number or name (mon..sun, or longer: "Monday"); None for anything else
    (metrics.sla.business_calendar refuses it, naming the value)."""
    if isinstance(day, int) and not isinstance(day, bool):
        return int(day) if 0 <= day <= 6 else None
    key = str(day).strip().lower()[:3]
    if key.isdigit():
        return int(key) if 0 <= int(key) <= 6 else None
    return WEEKDAY_NAMES.index(key) if key in WEEKDAY_NAMES else None


def calendar_problem(params: Any) -> str | None:
    """What is wrong with the parameters' opening week (calendar.business_hours), or None: a calendar with no
    open weekday (weekdays: [], or every day's hours closed) has no open day to count or to run a clock over,
    so it is refused up front, naming the parameter. Reads the shapes metrics.sla.business_calendar reads
    (days|weekdays: [0..6 or mon..sun], per-day entries such as sat: null); other faults are left to it."""
    cal = params.get("calendar") if isinstance(params, dict) else None
    bh = cal.get("business_hours") if isinstance(cal, dict) else None
    if not isinstance(bh, dict):
        return None
    days = bh.get("days", bh.get("weekdays"))
    if days is not None and not isinstance(days, list | tuple):
        return None  # not a list: business_calendar names it
    if days is not None and any(weekday_index(d) is None for d in days):
        return None  # a day that is no weekday: business_calendar names it
    open_days = set(range(5)) if days is None else {weekday_index(d) for d in days}
    for key, value in bh.items():
        name = str(key).strip().lower()
        if name[:3] in WEEKDAY_NAMES and name not in ("open", "start", "end", "close"):
            day = WEEKDAY_NAMES.index(name[:3])
            if isinstance(value, str | bool | type(None)) and value in _CLOSED_DAY:
                open_days.discard(day)
            else:
                open_days.add(day)
    if open_days:
        return None
    return "parameters calendar.business_hours: no weekday is open; list at least one (weekdays: [0, 1, 2, 3, 4])"


# The fields a subject line may hold (distribution.subjects; delivery.mail fills them in).
SUBJECT_FIELDS = ("title", "month", "month_label", "report", "client_id", "client_name", "agent_id", "agent_name")


def subject_problem(report: str, template: str) -> str | None:
    """Why distribution.subjects[report] cannot be filled in, in one line, or None: a lone brace, a field that is
    none of SUBJECT_FIELDS (a typo, {0}, {client_name[0]}), a format the text fields do not take ({month:d}). A
    probe's "(50% done}" stopped `email` as a failure to report."""
    import string

    where = f"parameter distribution.subjects.{report}"
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        return f"{where}: {exc} in {template!r} (write a brace itself as {{{{ or }}}})"
    unknown = [f for f in fields if f not in SUBJECT_FIELDS]
    if unknown:
        return f"{where}: unknown field {{{unknown[0]}}} in {template!r}; the fields are " + ", ".join(
            "{" + f + "}" for f in SUBJECT_FIELDS
        )
    try:
        template.format_map(dict.fromkeys(SUBJECT_FIELDS, "text"))
    except (ValueError, TypeError) as exc:
        return f"{where}: {exc} in {template!r}"
    return None


def validate_params(params: dict) -> None:
    """Raise UsageError naming every unknown key and every value of the wrong type in `params`.

    Top-level keys must be those of parameters/defaults.yaml or a parameters/NAME.yaml set, each
    value of the same kind as its default; the `schedule` and `distribution` sets are checked key by key, and
    the `reports` set's keys against its shipped file (each value of its default's kind), the keys of the sets in
    _KEYED_SETS against theirs at every level (`unknown_keys`), and a calendar with no open weekday
    (calendar_problem). One problem is one line; several are listed under a header.
    """
    if not isinstance(params, dict):
        raise UsageError("the parameters must be a mapping of keys to values")
    reference = key_reference(load_params())
    problems: list[str] = []
    known = sorted(set(reference) | set(_EXTRA_TOP_KEYS))
    for key, value in params.items():
        if key not in known:
            problems.append(f"unknown parameter {key!r}{_home_hint(key, reference, known)}")
            continue
        if key == "tables":  # contract table -> the database's table (docs/databases.md)
            problem = tables_problem(value)
            if problem:
                problems.append(problem)
            continue
        ref = reference.get(key)
        if not _same_kind(ref, value):
            problems.append(f"parameter {key} must be {_type_name(ref)}, got {value!r}")
            continue
        schema = _SET_SCHEMAS.get(key)
        if schema and isinstance(value, dict):
            for sub, subvalue in value.items():
                if sub not in schema:
                    problems.append(f"unknown parameter {key}.{sub}{did_you_mean(str(sub), list(schema))}")
                elif not schema[sub][1](subvalue):
                    problems.append(f"parameter {key}.{sub} must be {schema[sub][0]}, got {subvalue!r}")
        elif key in _COMPLETE_SETS and isinstance(value, dict) and isinstance(ref, dict):
            for sub, subvalue in value.items():
                if sub not in ref:
                    problems.append(f"unknown parameter {key}.{sub}{did_you_mean(str(sub), list(ref))}")
                elif not _same_kind(ref[sub], subvalue):
                    problems.append(f"parameter {key}.{sub} must be {_type_name(ref[sub])}, got {subvalue!r}")
        elif key in _KEYED_SETS:
            problems += [f"unknown parameter {p}" for p in unknown_keys(value, ref, key)]
    dist = params.get("distribution")
    subjects = dist.get("subjects") if isinstance(dist, dict) else None
    if isinstance(subjects, dict):
        problems += filter(None, (subject_problem(str(r), t) for r, t in subjects.items() if isinstance(t, str)))
    for key in ("short_abandon_s", "sl_threshold_s"):
        v = params.get(key)
        if v is not None and _is_number(v) and v < 0:
            problems.append(f"parameter {key} must be >= 0 seconds, got {v!r}")
    reports = params.get("reports")
    hours = reports.get("email_threshold_h") if isinstance(reports, dict) else None
    if hours is not None and _is_number(hours) and not hours > 0:  # a tile read "answered within -1 business hours"
        problems.append(f"parameter reports.email_threshold_h must be > 0 business hours, got {hours!r}")
    if isinstance(params.get("sl_definition"), str) and params["sl_definition"] not in SL_DEFINITIONS:
        problems.append(
            f"parameter sl_definition must be one of {', '.join(SL_DEFINITIONS)}, got {params['sl_definition']!r}"
        )
    tz = params.get("timezone")
    if isinstance(tz, str):
        try:
            check_timezone(tz)
        except UsageError as exc:
            problems.append(str(exc))
    closed_week = calendar_problem(params)
    if closed_week:
        problems.append(closed_week)
    if len(problems) == 1:  # one problem: one line naming it
        raise UsageError(problems[0])
    if problems:
        raise UsageError(
            "the parameters are not valid (check --params FILE and parameters/*.yaml):\n"
            + "\n".join(f"  {p}" for p in problems)
        )


def check_timezone(tz: Any) -> str:
    """`tz` when it names an IANA time zone known to tzdata (America/New_York); otherwise a UsageError
    naming the parameter (an unknown zone would stop the loader with a traceback)."""
    from zoneinfo import ZoneInfo

    if isinstance(tz, str) and tz:
        try:
            ZoneInfo(tz)
            return tz
        except Exception:  # noqa: BLE001 - ZoneInfoNotFoundError, ValueError for odd strings ("../x")
            pass
    raise UsageError(f"parameter timezone must be an IANA time zone such as {DEFAULT_TIMEZONE}, got {tz!r}")


def default_params() -> dict:
    """The shipped defaults (parameters/*.yaml, no overlay); the caller's own copy.

    For readers given a partial parameter dict (a test, a user's script): they complete it from here,
    so every default is declared once, in the YAML files. Read through `load_params`, which keeps each file parsed
    while it is unchanged (~1 ms a call): a file edited in a running kernel is read again (a review found the
    first reading kept for the process).
    """
    return load_params()
