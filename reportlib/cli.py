"""The `reportlib` command line: parses arguments, calls the library, prints results.

Each subcommand has one handler `_cmd_<name>(args) -> int`. Handlers only glue: open the data,
call library functions, format output. Expected failures raise ReportlibError and become a
message plus exit status 1 (2 for usage errors); no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from reportlib.core.errors import ReportlibError, UsageError
from reportlib.core.names import SL_DEFINITIONS
from reportlib.core.safety import printable, redact_passwords
from reportlib.core.settings import MetricSettings
from reportlib.core.words import counted


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with a one-line message on usage errors."""

    def error(self, message: str) -> NoReturn:  # noqa: D401
        self.print_usage(sys.stderr)
        self.exit(2, f"reportlib: error: {message}\n")


def _month(value: str) -> str:
    """A YYYY-MM month argument, or 'previous' (resolved in the parameters' time zone by the command; argparse type)."""
    from reportlib.core.months import month_str

    if value == "previous":
        return value
    try:
        return month_str(value)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _csv_list(value: str) -> list[str]:
    """A comma-separated option's names. One that names nothing (--to "", --reports "$UNSET") is a usage error,
    not the option left out: `email --to ""` would otherwise send to the whole distribution list."""
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected one or more values separated by commas, got {value!r}")
    return names


def _address_list(value: str) -> list[str]:
    """--to's addresses, split at the commas outside a quoted display name ('"Doe, Jane" <jane@x.test>' is one
    address, as in distribution.yaml); each is checked later as any recipient is (safety.parse_address)."""
    parts, cur, quoted, escaped = [], "", False, False
    for ch in value:  # by hand: email.utils.getaddresses rewrites what it parses, and the check wants the entry
        if ch == "," and not quoted:
            parts.append(cur)
            cur = ""
            continue
        quoted ^= ch == '"' and not escaped
        escaped = ch == "\\" and quoted and not escaped
        cur += ch
    names = [n.strip() for n in [*parts, cur]]
    names = [n for n in names if n]
    if not names:
        raise argparse.ArgumentTypeError(f"expected one or more addresses separated by commas, got {value!r}")
    return names


def _given(value: str) -> str:
    """An option that must name something (a path, a queue, a column, clients or agents): a blank value is a
    usage error, not the option left out (`email --dry-run ""` would otherwise send for real, `--out ""` read the
    default folder, `run --clients ""` render nothing and exit 0)."""
    if not value.strip():
        raise argparse.ArgumentTypeError(f"expected a value, got {value!r}")
    return value


def _port(value: str) -> int:
    """A TCP port number, 1 to 65535 (`lab --port 99999` reached JupyterLab, which printed a :99999 address)."""
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number (1 to 65535), got {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number (1 to 65535), got {value!r}")
    return port


def emit(records: Any, fmt: str = "json", out=None) -> None:
    """Print a DataFrame or list of dicts as JSON (a list of objects) or CSV; missing and infinite values as null
    (an empty CSV cell), in both formats alike (`staffing --patience-s inf` printed `inf` in CSV, null in JSON)."""
    out = out or sys.stdout
    if isinstance(records, pd.DataFrame):
        frame = records
    else:
        frame = pd.DataFrame(list(records))
    numeric = frame.select_dtypes("number").columns
    if len(numeric):
        frame = frame.assign(**{str(c): frame[c].where(~np.isinf(frame[c].astype(float))) for c in numeric})
    if fmt == "csv":
        from reportlib.core.safety import csv_text

        # text cells that a spreadsheet would run as a formula get a ' (OWASP's rule): safety.csv_text
        out.write(csv_text(frame))
        return
    text = frame.to_json(orient="records", date_format="iso", double_precision=15, force_ascii=False)
    out.write(json.dumps(json.loads(text), indent=1, ensure_ascii=False) + "\n")


# the options several commands share, said once
DATA_HELP = "data folder or database URL (duckdb:///, postgres://, spark://); default: the parameters' data"
PARAMS_HELP = "a YAML file of parameters laid over parameters/*.yaml (README, Parameters)"
MONTH_HELP = "YYYY-MM, or 'previous': the last complete month in the parameters' time zone"
FORMAT_HELP = "records as JSON or CSV (docs/definitions.md, command output records)"


def _data_option(s: argparse.ArgumentParser) -> None:
    s.add_argument("--data", type=_given, default=None, help=DATA_HELP)


def _params_option(s: argparse.ArgumentParser) -> None:
    s.add_argument("--params", type=_given, default=None, help=PARAMS_HELP)


def _command(sub: Any, name: str, what: str) -> argparse.ArgumentParser:
    """A subcommand whose `what` is both its line in `reportlib --help` and its own help's description."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=what, description=what[0].upper() + what[1:] + ".")
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand (their output records: docs/definitions.md#command-output-records)."""
    p = _Parser(prog="reportlib", description="Support-operations reports from contact-centre, workforce and HR data.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    s = _command(sub, "sample-data", "generate the synthetic sample operation")
    s.add_argument("--out", type=_given, required=True, help="the folder to write the tables to (CSV files)")
    s.add_argument("--seed", type=int, default=42, help="random seed: the same seed gives the same data")
    s.add_argument("--start", type=_month, default=None, help="first month (default: 24 months ending last month)")
    s.add_argument("--months", type=int, default=24, help="months of history (default 24)")
    s.add_argument(
        "--agents",
        type=int,
        default=150,
        help="front-line agents at a time (default 150; their leads, supervisors and the leavers come on top)",
    )
    s.add_argument("--clients", type=int, default=40, help="client accounts (default 40)")
    s.add_argument("--replace", action="store_true", help="overwrite the data files already in --out")

    s = _command(sub, "validate", "check every table of a data source against the contract")
    _data_option(s)
    _params_option(s)

    s = _command(sub, "load", "check a data folder and copy its tables into PostgreSQL, DuckDB or Spark")
    s.add_argument("--data", type=_given, required=True, help="the data folder to load")
    s.add_argument(
        "--into",
        required=True,
        metavar="URL",
        help="postgres://user@host:port/db[?schema=NAME], duckdb:///path.duckdb, "
        "spark://local[N]?database=NAME or spark://local[N]?path=DIR&format=parquet|delta",
    )
    _params_option(s)

    s = _command(sub, "kpis", "contact KPIs for a month")
    _data_option(s)
    s.add_argument("--month", type=_month, required=True, help=MONTH_HELP)
    s.add_argument(
        "--by",
        type=_csv_list,
        default=[],
        help="rows per these columns, comma-separated (channel, queue, client_id; team, site, role, supervisor)",
    )
    s.add_argument(
        "--sl-threshold",
        type=float,
        default=None,
        help="service level's answer time, seconds (default: sl_threshold_s)",
    )
    s.add_argument(
        "--sl-definition",
        default=None,
        choices=SL_DEFINITIONS,
        help="which contacts the service level counts (default: sl_definition; docs/definitions.md)",
    )
    s.add_argument("--format", choices=["csv", "json"], default="csv", help=FORMAT_HELP)
    _params_option(s)

    s = _command(sub, "staffing", "agents needed for an interval (Erlang C / Erlang A)")
    s.add_argument("--calls", type=float, required=True, help="contacts arriving in the interval")
    s.add_argument("--aht", type=float, required=True, help="average handle time, seconds")
    s.add_argument("--interval-min", type=float, required=True, help="the interval's length, minutes")
    s.add_argument("--target-sl", type=float, required=True, help="share 0..1 (or percent 1..100)")
    s.add_argument("--answer-s", type=float, required=True, help="the target's answer time, seconds")
    s.add_argument(
        "--model", choices=["erlang_c", "erlang_a"], default="erlang_c", help="queueing model (default erlang_c)"
    )
    s.add_argument("--patience-s", type=float, default=None, help="Erlang A: callers' mean patience, seconds")
    s.add_argument("--shrinkage", type=float, default=None, help="share 0..1 (or percent 1..100)")
    s.add_argument("--max-occupancy", type=float, default=None, help="share 0..1 (or percent 1..100)")
    s.add_argument("--max-abandon", type=float, default=None, help="Erlang A: highest abandon share 0..1 (or percent)")
    s.add_argument(
        "--concurrency",
        type=float,
        default=1.0,
        help="contacts one agent handles at once (chats: often 2 or 3; default 1)",
    )
    s.add_argument("--format", choices=["json", "csv"], default="json", help=FORMAT_HELP)

    s = _command(sub, "forecast", "daily volume forecast per queue and channel")
    _data_option(s)
    s.add_argument("--queue", type=_given, default=None, help="one queue only (its name as in the data)")
    s.add_argument("--horizon-days", type=int, default=None, help="days ahead (default 91; 28 for --backtest)")
    s.add_argument(
        "--backtest",
        action="store_true",
        help="the nested backtest's accuracy per series instead of the forecast (docs/forecasting.md)",
    )
    s.add_argument("--format", choices=["json", "csv"], default="json", help=FORMAT_HELP)
    _params_option(s)

    s = _command(sub, "attrition", "headcount and attrition for a month")
    _data_option(s)
    s.add_argument("--month", type=_month, required=True, help=MONTH_HELP)
    s.add_argument(
        "--by", type=_given, default=None, help="rows per tenure_band or a roster group (team, supervisor, site, role)"
    )
    s.add_argument("--format", choices=["json", "csv"], default="json", help=FORMAT_HELP)
    _params_option(s)

    s = _command(sub, "variance", "plan vs actual: service level points lost to volume, handle time, staffing")
    _data_option(s)
    s.add_argument("--month", type=_month, required=True, help=MONTH_HELP)
    s.add_argument("--by", choices=["queue", "day", "week"], default="queue", help="rows per queue, day or week")
    s.add_argument(
        "--vintages",
        type=_given,
        default=None,
        metavar="DIR",
        help="archived forecasts to plan from when the data has no interval_plan table",
    )
    s.add_argument(
        "--shape",
        choices=["day", "interval"],
        default="day",
        help="model actual volume and AHT per day on the plan's intraday shape (default), or per "
        "interval as counted (docs/plan-vs-actual.md)",
    )
    s.add_argument("--format", choices=["json", "csv"], default="json", help=FORMAT_HELP)
    _params_option(s)

    s = _command(sub, "run", "render the reports for a month")
    s.add_argument("--month", required=True, help=MONTH_HELP)
    _data_option(s)
    s.add_argument(
        "--reports", type=_csv_list, default=None, help="report names, comma-separated (default: schedule.reports)"
    )
    s.add_argument(
        "--clients", type=_given, default=None, help="client reviews: all or ID[,ID] (default: schedule.clients)"
    )
    s.add_argument(
        "--agents",
        type=_given,
        default=None,
        help=(
            "agent 1:1 reviews: all, ID[,ID] or none (default: schedule.agents; agent_review named in --reports "
            "reviews every agent active in the month unless schedule.agents lists some)"
        ),
    )
    _params_option(s)
    s.add_argument("--out", type=_given, default=None, help="the reports' folder (default: schedule.out)")
    s.add_argument("--workers", type=int, default=None, help="notebooks rendered at once (default: schedule.workers)")
    s.add_argument("--timeout", type=int, default=None, help="seconds per notebook")

    s = _command(sub, "email", "e-mail a month's rendered reports")
    s.add_argument("--month", required=True, help=MONTH_HELP)
    s.add_argument("--out", type=_given, default=None, help="the folder `run` wrote to (default: schedule.out)")
    s.add_argument(
        "--reports", type=_csv_list, default=None, help="report names, comma-separated (default: every rendered one)"
    )
    s.add_argument(
        "--to", type=_address_list, default=None, help="send every message to these addresses instead (a trial run)"
    )
    s.add_argument("--dry-run", type=_given, default=None, metavar="DIR", help="write .eml files there, send nothing")
    _params_option(s)

    s = _command(sub, "lab", "open the notebooks in JupyterLab (creates the default sample first)")
    s.add_argument(
        "--data",
        type=_given,
        default=None,
        help="data folder or database URL (duckdb:///, postgres://, spark://) for every notebook",
    )
    _params_option(s)
    s.add_argument(
        "--port", type=_port, default=None, help="the port to serve on (default: Jupyter's, 8888 or the next free one)"
    )
    s.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    s.add_argument(
        "--fresh",
        action="store_true",
        help="replace your copies in lab/ with the current notebooks (old ones kept as *.previous.ipynb)",
    )

    s = _command(sub, "import-bank", "convert the Anonymous Bank 1999 files into the data contract")
    s.add_argument("src", nargs="+", help="call-level .txt/.csv(.gz) files and/or the 6-minute CSV")
    s.add_argument("--out", type=_given, required=True, help="the folder to write the contract's tables to")

    s = _command(sub, "import-hr", "convert HRDataset_v14.csv into an agents table")
    s.add_argument("src", help="the HRDataset_v14.csv file")
    s.add_argument("--out", type=_given, required=True, help="the folder to write agents.csv to")
    return p


# --- handlers -------------------------------------------------------------------------------------


def _cmd_sample_data(args: argparse.Namespace) -> int:
    from reportlib.data.load import table_files_in
    from reportlib.planning.sample import sample_data

    held = table_files_in(Path(args.out)) if Path(args.out).is_dir() else []
    if held and not args.replace:  # a probe's second run replaced a 24-month operation with 1 month, exit 0
        raise UsageError(
            f"{args.out} already holds data ({', '.join(held[:4])}{', ...' if len(held) > 4 else ''}); "
            "write the sample into another folder, or add --replace to overwrite it"
        )
    rows, seconds = sample_data(
        args.out, seed=args.seed, start=args.start, months=args.months, agents=args.agents, clients=args.clients
    )
    counts = ", ".join(f"{name} {n:,}" for name, n in rows.items())
    print(f"reportlib sample-data: wrote {args.out}: {counts} rows in {seconds:.1f} s", file=sys.stderr)
    return 0


def _open(args: argparse.Namespace, *, checked: bool = True):
    """The parameters and the data source named by --params/--data (or the parameters' default).

    With `checked`, a database is held to the contract first (`load.require_contract`: DataError, exit 1,
    naming each problem by key as `validate` does), as `run` and the notebooks hold it.
    """
    from reportlib.core.params import data_location, load_params
    from reportlib.data.load import open_source, require_contract, source_tables

    params = load_params(getattr(args, "params", None), strict=True)
    if getattr(args, "month", None) == "previous":  # as `run` reads it: the last complete month, in the data's zone
        from reportlib.core.months import resolve_month

        args.month = resolve_month("previous", params["timezone"])
    location = data_location(params, getattr(args, "data", None))
    source = open_source(location, params["timezone"], tables=source_tables(params, location, say=True))
    if checked:
        require_contract(source)
    return params, source


def _data_warnings(command: str, source: Any, shown: int = 5) -> None:
    """On stderr, the data folder's files that were not read (Source.folder_problems: a link out of the folder...)
    and the data-quality warnings of the tables the figures were drawn from (values kept as given, which the
    figures include: a handle time of 1e300 s is a mean of 1e295 s), as every report lists them in its
    data-quality note; the first `shown` warnings, then how many more (`reportlib validate` lists them all)."""
    for line in getattr(source, "folder_problems", []) or []:  # a file not read: the figures are without it
        print(f"reportlib {command}: not read: {printable(line)}", file=sys.stderr)
    warnings = list(getattr(source, "warnings", []) or [])
    if not warnings:
        return
    print(
        f"reportlib {command}: {counted(len(warnings), 'data-quality warning')} in the data these figures come from "
        "(values kept as given):",
        file=sys.stderr,
    )
    for w in warnings[:shown]:
        print(f"  {printable(w)}", file=sys.stderr)
    if len(warnings) > shown:
        print(f"  ... and {len(warnings) - shown} more (reportlib validate lists them all)", file=sys.stderr)


def _partial_month(command: str, source: Any, params: dict, month: str) -> None:
    """On stderr, that `month` is only partly covered by the source's data, as the reports say it
    (queries.source_partial_note), if so."""
    from reportlib.reports.queries import source_partial_note

    note = source_partial_note(source, params, month)
    if note:
        print(f"reportlib {command}: {note}", file=sys.stderr)


def _roster_month(command: str, source: Any, params: dict, month: str) -> None:
    """A roster's month must have begun by the data's end (the contacts' last arrival, else today): a month after
    it gave 0% attrition, exit 0 (kpis stops on such a month). One still running is said on stderr, as the
    attrition page says it (queries.roster_month_note)."""
    from reportlib.core.months import local_now
    from reportlib.data.span import data_range
    from reportlib.reports.queries import roster_month_note

    m = pd.Period(str(month), freq="M")
    last = data_range(source)[1]
    end = last if last is not None else local_now(params["timezone"]).normalize()  # today in the data's zone
    what = f"the data end on {end:%Y-%m-%d}" if last is not None else f"today is {end:%Y-%m-%d}"
    if m.start_time > end:
        raise ReportlibError(f"{month} begins after the data ({what}): its leavers are not known yet")
    note = roster_month_note(source, params, m)
    if note:
        print(f"reportlib {command}: {note}", file=sys.stderr)


def _check_calendar(params: dict) -> None:
    """The calendar as `run` checks it before any page (the business clock's hours and holidays, the forecast's
    events, exclusions and model settings): UsageError naming the first problem."""
    from reportlib.core.months import local_now
    from reportlib.planning.forecast import check_calendars

    year = local_now(params["timezone"]).year
    check_calendars(params, range(year - 2, year + 2))


def _cmd_validate(args: argparse.Namespace) -> int:
    from reportlib.metrics.sla import source_profile_problems

    params, source = _open(args, checked=False)
    _check_calendar(params)  # the parameters too: validate passed a calendar that run refused
    errors, warnings = source.validate()
    across = ""
    if errors and "://" not in str(source.location):
        # a folder's tables are read whole before the checks across them: those wait for the problems (a probe:
        # a second run named more); a database runs them all at once
        across = (
            "; the checks across tables (employment dates, look-alike names, and the ids in a table with a "
            "problem) run once these are fixed"
        )
    errors = errors or source_profile_problems(source, params)
    for line in errors:
        print(f"error: {line}")
    for line in warnings:
        print(f"warning: {line}")
    tables = ", ".join(source.tables) or "none"
    if errors:
        print(
            f"{source.location}: {counted(len(errors), 'problem')} to fix, {counted(len(warnings), 'warning')} "
            f"(tables found: {tables}){across}",
            file=sys.stderr,
        )
        return 1
    print(f"{source.location}: valid ({tables}); {counted(len(warnings), 'warning')}")
    return 0


def _cmd_load(args: argparse.Namespace) -> int:
    """Check --data and copy it into --into; the summary on stdout, warnings and progress on stderr."""
    from reportlib.core.params import load_params
    from reportlib.data.load_into import load_into, parse_target

    parse_target(args.into)  # a malformed URL is a usage error before any work
    params = load_params(args.params, strict=True)
    result = load_into(args.data, args.into, params["timezone"])  # checked by load_params
    for note in result.notes:
        print(f"reportlib load: {note}", file=sys.stderr)
    print(result.summary())
    if result.indexes:
        print(f"indexes: {', '.join(result.indexes)}")
    return 0


def _cmd_kpis(args: argparse.Namespace) -> int:
    from reportlib.core.months import month_bounds
    from reportlib.metrics.contacts import by_agent_attribute, kpi_columns_missing_from_intervals

    params, source = _open(args)
    location = source.location
    start, end = month_bounds(args.month)
    threshold = (
        args.sl_threshold if args.sl_threshold is not None else MetricSettings.from_params(params).sl_threshold_s
    )
    definition = args.sl_definition or MetricSettings.from_params(params).sl_definition
    if len(set(args.by or [])) != len(args.by or []):
        raise UsageError(f"--by {','.join(args.by)}: name each column once")
    # as every report shows them: email rows against each client's contract (contacts), rows that group
    # channels with phone and chat's service level, speed of answer and abandon rate
    from reportlib.reports.queries import contact_kpis

    frame = contact_kpis(
        source,
        params,
        grain=None,
        by=args.by,
        start=start,
        end=end,
        sl_threshold_s=threshold,
        sl_definition=definition,
    )
    table = "contacts" if source.has("contacts") else "intervals"
    volume = frame["offered"].fillna(0).sum() + frame["short_abandoned"].fillna(0).sum()
    if frame.empty or volume == 0:
        column = "arrived_at" if table == "contacts" else "interval_start"
        t = source.table(table)
        lo, hi = t.aggregate(lo=t[column].min(), hi=t[column].max()).to_pandas().iloc[0]
        covers = f"it covers {lo:%Y-%m-%d} to {hi:%Y-%m-%d}" if pd.notna(lo) else "it is empty"
        raise ReportlibError(f"no {table} in {args.month} in {location}; {covers}")
    # said once there are figures (an error is one line)
    if "channel" not in (args.by or []):
        print(
            "reportlib kpis: in rows that group channels, answered_within_threshold, service_level, asa_s and "
            "abandon_rate are phone and chat's (an email's wait is hours by design; its own measure: --by channel)",
            file=sys.stderr,
        )
    _partial_month("kpis", source, params, args.month)
    _data_warnings("kpis", source)
    if table == "intervals":
        print(
            f"reportlib kpis: computed from the intervals table; not available from interval data: "
            f"{', '.join(kpi_columns_missing_from_intervals())}",
            file=sys.stderr,
        )
    frame, how = by_agent_attribute(frame, args.by or [])
    if how:
        print(f"reportlib kpis: {how}", file=sys.stderr)
    frame.insert(0, "month", args.month)
    emit(whole_counts(frame), args.format)
    return 0


# the kpis record's counts of contacts (docs/definitions.md#reportlib-kpis)
KPI_COUNTS = ("offered", "handled", "abandoned", "short_abandoned", "answered_within_threshold", "csat_responses")


def whole_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with each count of contacts (KPI_COUNTS) as whole numbers when every value is one: summed beside
    missing values they came out as 11523.0 in CSV, where a parser reading counts expects 11523 (a probe)."""
    out = frame.copy()
    for col in KPI_COUNTS:
        if col in out and pd.api.types.is_float_dtype(out[col]):
            values = out[col].dropna()
            if (values == values.round()).all():
                out[col] = out[col].round().astype("Int64")
    return out


def _cmd_staffing(args: argparse.Namespace) -> int:
    """Agents for one interval; JSON prints ONE object (not a list), CSV one row."""
    import math

    from reportlib.planning import staffing

    def share(value: float | None, flag: str) -> float | None:
        # A share 0..1, or a percent when above 1 (80 -> 0.8).
        if value is None:
            return None
        if not math.isfinite(value) or not 0 <= value <= 100:
            raise UsageError(f"{flag} must be a share 0..1 or a percent 1..100, got {value}")
        return value / 100.0 if value > 1 else value

    if args.model == "erlang_a" and args.patience_s is None:
        raise UsageError("--model erlang_a needs --patience-s (mean caller patience in seconds)")
    if args.interval_min is None or not args.interval_min > 0:
        raise UsageError(f"--interval-min must be > 0, got {args.interval_min}")
    if not (math.isfinite(args.concurrency) and args.concurrency >= 1):
        raise UsageError(
            f"--concurrency must be a number >= 1 (contacts one agent handles at once), got {args.concurrency}"
        )
    record = staffing.staffing_summary(
        calls=args.calls,
        aht_s=args.aht,
        interval_s=args.interval_min * 60.0,
        target_sl=float(share(args.target_sl, "--target-sl")),  # type: ignore[arg-type]  # a required flag
        answer_s=args.answer_s,
        model=args.model,
        patience_s=args.patience_s if args.model == "erlang_a" else None,
        shrinkage=share(args.shrinkage, "--shrinkage"),
        max_occupancy=share(args.max_occupancy, "--max-occupancy"),
        max_abandon=share(args.max_abandon, "--max-abandon"),
        concurrency=args.concurrency,
    )
    record["interval_min"] = args.interval_min
    if (
        args.aht > args.interval_min * 60.0
    ):  # the models' steady state within an interval needs contacts shorter than it
        print(
            f"reportlib staffing: --aht {args.aht:g} s is longer than the {args.interval_min:g}-minute interval: the "
            "queueing models assume a steady state within the interval, which contacts outlasting it never reach; "
            "take the agents as a rough guide",
            file=sys.stderr,
        )
    if args.model != "erlang_a" and args.patience_s is not None:  # not echoed as if it had been used
        print(
            f"reportlib staffing: --patience-s {args.patience_s:g} not used: Erlang C has no abandonment "
            "(--model erlang_a uses it)",
            file=sys.stderr,
        )
    if args.format == "csv":
        emit([record], "csv")
    else:
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}
        print(json.dumps(clean, indent=1))
    return 0


def _cmd_forecast(args: argparse.Namespace) -> int:
    """Daily forecast records (docs/definitions.md#forecast-records; each series by its chosen method), or with
    --backtest the nested rolling-origin backtest of that choice per series against every simple baseline."""
    from reportlib.planning import forecast as fc

    horizon = args.horizon_days
    if horizon is None:
        horizon = 28 if args.backtest else 91  # backtests run horizons 1-28 by default
    if not 1 <= horizon <= 731:
        raise UsageError(f"--horizon-days must be 1 to 731 days, got {horizon}")
    params, source = _open(args)
    calendar = fc.calendar_from_params(params.get("calendar") or {})
    config = fc.ForecastConfig.from_params(params.get("calendar") or {})
    short_abandon_s = MetricSettings.from_params(params).short_abandon_s
    # every queue's volume, --queue chosen afterwards: the data's last day, its missing export days and the
    # closed weekdays are the operation's, not the one queue's (a queue quiet for weeks is forecast from today)
    daily, cut = fc.without_cut_day(fc.volume_from_source(source, short_abandon_s), source, params)
    if cut:
        print(f"reportlib forecast: {cut}", file=sys.stderr)
    queues = sorted(map(str, daily.loc[daily["volume"] > 0, "queue"].unique()))
    if not queues or (args.queue and args.queue not in queues):
        what = f"queue {args.queue!r}" if args.queue else source.location
        raise ReportlibError(
            f"no contacts to forecast in {what} (abandons after less than {short_abandon_s:g} s are not counted); "
            f"queues with contacts: {', '.join(queues) or 'none'}"
        )
    if args.backtest:
        from reportlib.planning.forecast_select import nested_backtest

        result = nested_backtest(daily, calendar, horizon_days=horizon, months=3, config=config, queue=args.queue)
        for note in result.notes:
            print(f"reportlib forecast: {note}", file=sys.stderr)
        _data_warnings("forecast", source)
        emit(fc.backtest_records(result), args.format)
        return 0
    from reportlib.planning.forecast_select import forecast_selected

    forecast, _, notes = forecast_selected(daily, calendar, horizon, config, queue=args.queue)
    for note in notes:
        print(f"reportlib forecast: {note}", file=sys.stderr)
    _data_warnings("forecast", source)
    emit(fc.forecast_records(forecast), args.format)
    return 0


def _cmd_attrition(args: argparse.Namespace) -> int:
    from reportlib.metrics import attrition

    params, source = _open(args)
    source.require("agents")
    agents = source.frame("agents")
    by = args.by.strip() if args.by else None
    if by and by != "tenure_band" and by not in attrition.GROUP_COLUMNS:
        why = (
            f"; {by} is one of the figures the table counts"
            if by in attrition.CLI_COLUMNS
            else f"; {by} is not a group of people (it would give a row per person, pay rate, FTE, date or reason)"
            if by in attrition.AGENT_COLUMNS
            else ""
        )
        raise UsageError(
            f"--by {by}: choose tenure_band or a group of the roster ({', '.join(attrition.GROUP_COLUMNS)})" + why
        )
    _roster_month("attrition", source, params, args.month)
    table = attrition.attrition_for_month(agents, args.month, by=by, bands=attrition.tenure_bands(params))
    _data_warnings("attrition", source)
    emit(table, args.format)
    return 0


def _cmd_variance(args: argparse.Namespace) -> int:
    """Plan-vs-actual records (reportlib.variance); where the plan and staffing came from goes to stderr."""
    from reportlib.planning.variance import variance_for_source

    params, source = _open(args)
    from reportlib.core.params import vintage_folder

    vintages = args.vintages or vintage_folder(params)  # the folder the monthly runs archive forecasts to, if set
    result = variance_for_source(source, params, args.month, by=args.by, vintages=vintages, shape=args.shape)
    # where staffing is not measurable a note says why (result.notes)
    staffing = f"; staffing from {result.staffing_source}" if result.staffing_measured else ""
    print(f"reportlib variance: plan from {result.plan_source}{staffing}", file=sys.stderr)
    for note in result.notes:
        print(f"reportlib variance: {note}", file=sys.stderr)
    _partial_month("variance", source, params, args.month)
    _data_warnings("variance", source)
    emit(result.records, args.format)  # CSV through the same path as `reportlib kpis --format csv`
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from reportlib.core.params import load_params, validate_params
    from reportlib.delivery.run import run_month

    params = load_params(args.params)
    validate_params(params)
    result = run_month(
        args.month,
        params=params,
        params_file=args.params,
        data=args.data,
        reports=args.reports,
        clients=args.clients,
        agents=args.agents,
        out=args.out,
        workers=args.workers,
        timeout=args.timeout,
    )
    print(f"{len(result.ok)} of {len(result.entries)} reports for {result.month} rendered; open {result.index}")
    if result.failed:
        raise ReportlibError(result.summary())
    return 0


def _cmd_lab(args: argparse.Namespace) -> int:
    from reportlib.core.params import load_params, validate_params
    from reportlib.delivery.lab import launch

    params = load_params(args.params)
    validate_params(params)
    _check_calendar(params)  # the notebooks opened here read it too
    return launch(
        params, data=args.data, params_file=args.params, port=args.port, no_browser=args.no_browser, fresh=args.fresh
    )


def _cmd_email(args: argparse.Namespace) -> int:
    from reportlib.core.params import load_params, validate_params
    from reportlib.delivery.mail import SendingStopped, email_month

    params = load_params(args.params)
    validate_params(params)
    try:
        result = email_month(
            args.month, params=params, out=args.out, reports=args.reports, to=args.to, dry_run=args.dry_run
        )
    except SendingStopped as exc:  # what went out (and was refused) before the stop is said too
        _said_email(exc.result)
        problems = (
            ["before it, not e-mailed (or refused by the server):", *exc.result.problems] if exc.result.problems else []
        )
        raise ReportlibError("\n  ".join([str(exc), *problems])) from None
    _said_email(result)
    if not (result.sent or result.written or result.problems):
        print(
            "reportlib email: nothing to send (each report was sent before, or skipped as said above)", file=sys.stderr
        )
    if result.problems:
        raise ReportlibError("\n  ".join(["some reports were not e-mailed:"] + result.problems))
    return 0


def _said_email(result: Any) -> None:
    """The "sent" and "wrote" lines of an e-mail run (stdout), and its note on charts (stderr)."""
    for p in result.sent:
        # an agent review's subject names the agent: the line (a cron log beside the reports) keeps the id alone
        subject = "" if p.agent_id is not None else f": {p.subject}"
        print(f"sent {p.who} to {', '.join(p.delivered)}{subject}")  # the refused are named below
    for path in result.written:
        print(f"wrote {path}")
    if result.chart_note and (result.sent or result.written):
        print(f"reportlib email: charts sent as tables only: {result.chart_note}", file=sys.stderr)


def _cmd_import_bank(args: argparse.Namespace) -> int:
    from reportlib.data.import_bank import TIMEZONE, import_bank

    reports = import_bank(args.src, args.out)
    emit([r.record() for r in reports], "json")
    print(
        f"wrote the contract tables to {args.out} (row counts above; also in import-summary.json).\n"
        f"Its timestamps are {TIMEZONE} local time: use --params {args.out}/params.yaml, e.g.\n"
        f"  reportlib validate --data {args.out} --params {args.out}/params.yaml",
        file=sys.stderr,
    )
    return 0


def _cmd_import_hr(args: argparse.Namespace) -> int:
    from reportlib.data.import_hr import import_hr

    path, agents = import_hr(args.src, args.out)
    emit(
        [
            {
                "table": "agents",
                "file": str(path),
                "rows": len(agents),
                "terminated": int(agents["termination_date"].notna().sum()),
            }
        ],
        "json",
    )
    print(
        f"wrote {path}: the agents table only (attrition needs no other); e.g.\n"
        f"  reportlib attrition --data {args.out} --month YYYY-MM --by team",
        file=sys.stderr,
    )
    return 0


# --- entry point ----------------------------------------------------------------------------------


class Terminated(KeyboardInterrupt):
    """SIGTERM (systemd stopping a service or timing it out, `kill`): unwound like Ctrl-C, so a run removes its
    temporary folder and ends its workers instead of dying where it stood."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 failed input or report, 2 usage, 130 interrupted,
    143 stopped by SIGTERM)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from reportlib import __version__

        print(f"reportlib {__version__}")
        return 0
    if not args.command:
        parser.print_help(sys.stderr)
        return 2
    handler = globals()["_cmd_" + args.command.replace("-", "_")]
    from reportlib.core import progress

    progress.activate(sys.stderr)  # parsing, checking and rendering report their progress on stderr
    main_thread = threading.current_thread() is threading.main_thread()  # signal handlers live there alone
    before = signal.signal(signal.SIGTERM, _on_sigterm) if main_thread else None
    try:
        return int(handler(args) or 0)
    except ReportlibError as exc:
        # text from data (ids, names) in the message: no terminal escapes or bidi overrides
        text = "\n".join(printable(line) for line in str(exc).split("\n"))
        print(f"reportlib {args.command}: {text}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt as exc:
        stopped = isinstance(exc, Terminated)
        print("reportlib: stopped (SIGTERM)" if stopped else "reportlib: interrupted", file=sys.stderr)
        return 143 if stopped else 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - an engine or library failure no check foresaw: one line, not a traceback
        if os.environ.get("REPORTLIB_DEBUG"):
            raise
        detail = printable(redact_passwords(" ".join(str(exc).split())))[:400]
        if _sqlstate(exc) == "42501":  # insufficient_privilege: the role, not the product (a probe read it as a bug)
            print(
                f"reportlib {args.command}: the database refused a read: {detail}; the role needs SELECT on every "
                "table and column of the contract it holds (docs/databases.md)",
                file=sys.stderr,
            )
            return 1
        print(
            f"reportlib {args.command}: failed unexpectedly: {type(exc).__name__}: {detail} "
            "(REPORTLIB_DEBUG=1 shows where; please report it)",
            file=sys.stderr,
        )
        return 1
    finally:
        progress.deactivate()
        if main_thread:
            signal.signal(signal.SIGTERM, before)


def _sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error (psycopg's `sqlstate`), on it or the errors it was raised from."""
    seen: BaseException | None = exc
    for _ in range(10):  # a chain, not a cycle
        if seen is None:
            break
        state = getattr(seen, "sqlstate", None)
        if isinstance(state, str):
            return state
        seen = seen.__cause__ or seen.__context__
    return None


if __name__ == "__main__":
    sys.exit(main())
