"""The `reportlib` command line: parses arguments, calls the library, prints results.

Each subcommand has one handler `_cmd_<name>(args) -> int`. Handlers only glue: open the data,
call library functions, format output. Expected failures raise ReportlibError and become a
message plus exit status 1 (2 for usage errors); no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Sequence

import pandas as pd

from .errors import ReportlibError, UsageError


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with a one-line message on usage errors."""

    def error(self, message: str) -> None:  # noqa: D401
        self.print_usage(sys.stderr)
        self.exit(2, f"reportlib: error: {message}\n")


def _month(value: str) -> str:
    """A YYYY-MM month argument."""
    try:
        pd.Period(value, freq="M")
    except Exception:
        raise argparse.ArgumentTypeError(f"expected a month as YYYY-MM, got {value!r}") from None
    if len(value) != 7 or value[4] != "-":
        raise argparse.ArgumentTypeError(f"expected a month as YYYY-MM, got {value!r}")
    return value


def _csv_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def emit(records: Any, fmt: str = "json", out=None) -> None:
    """Print a DataFrame or list of dicts as JSON (a list of objects) or CSV; missing values as null."""
    out = out or sys.stdout
    if isinstance(records, pd.DataFrame):
        frame = records
    else:
        frame = pd.DataFrame(list(records))
    if fmt == "csv":
        frame.to_csv(out, index=False, lineterminator="\n")
        return
    text = frame.to_json(orient="records", date_format="iso", double_precision=15, force_ascii=False)
    out.write(json.dumps(json.loads(text), indent=1, ensure_ascii=False) + "\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand in SPEC.md."""
    p = _Parser(prog="reportlib", description="Support-operations reports from contact-centre, workforce and HR data.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    s = sub.add_parser("sample-data", help="generate the synthetic sample operation")
    s.add_argument("--out", required=True)
    s.add_argument("--seed", type=int, default=42)
    s.add_argument("--start", type=_month, default=None, help="first month (default: 24 months ending last month)")
    s.add_argument("--months", type=int, default=24)
    s.add_argument("--agents", type=int, default=150)
    s.add_argument("--clients", type=int, default=40)

    s = sub.add_parser("validate", help="check every table of a data source against the contract")
    s.add_argument("--data", default=None)
    s.add_argument("--params", default=None)

    s = sub.add_parser("kpis", help="contact KPIs for a month")
    s.add_argument("--data", default=None)
    s.add_argument("--month", type=_month, required=True)
    s.add_argument("--by", type=_csv_list, default=[])
    s.add_argument("--sl-threshold", type=float, default=None)
    s.add_argument("--sl-definition", default=None,
                   choices=["offered", "answered", "abandons_excluded", "abandons_within_t_met"])
    s.add_argument("--format", choices=["csv", "json"], default="csv")
    s.add_argument("--params", default=None)

    s = sub.add_parser("staffing", help="agents needed for an interval (Erlang C / Erlang A)")
    s.add_argument("--calls", type=float, required=True)
    s.add_argument("--aht", type=float, required=True, help="average handle time, seconds")
    s.add_argument("--interval-min", type=float, required=True)
    s.add_argument("--target-sl", type=float, required=True, help="share 0..1 (or percent 1..100)")
    s.add_argument("--answer-s", type=float, required=True)
    s.add_argument("--model", choices=["erlang_c", "erlang_a"], default="erlang_c")
    s.add_argument("--patience-s", type=float, default=None)
    s.add_argument("--shrinkage", type=float, default=None)
    s.add_argument("--max-occupancy", type=float, default=None)
    s.add_argument("--format", choices=["json", "csv"], default="json")

    s = sub.add_parser("forecast", help="daily volume forecast per queue and channel")
    s.add_argument("--data", default=None)
    s.add_argument("--queue", default=None)
    s.add_argument("--horizon-days", type=int, default=91)
    s.add_argument("--backtest", action="store_true")
    s.add_argument("--format", choices=["json", "csv"], default="json")
    s.add_argument("--params", default=None)

    s = sub.add_parser("attrition", help="headcount and attrition for a month")
    s.add_argument("--data", default=None)
    s.add_argument("--month", type=_month, required=True)
    s.add_argument("--by", default=None)
    s.add_argument("--format", choices=["json", "csv"], default="json")
    s.add_argument("--params", default=None)

    s = sub.add_parser("run", help="render the reports for a month")
    s.add_argument("--month", required=True, help="YYYY-MM or 'previous'")
    s.add_argument("--data", default=None)
    s.add_argument("--reports", type=_csv_list, default=None)
    s.add_argument("--clients", default=None, help="all or ID[,ID]")
    s.add_argument("--params", default=None)
    s.add_argument("--out", default=None)
    s.add_argument("--workers", type=int, default=None)
    s.add_argument("--timeout", type=int, default=None, help="seconds per notebook")

    s = sub.add_parser("email", help="e-mail a month's rendered reports")
    s.add_argument("--month", required=True, help="YYYY-MM or 'previous'")
    s.add_argument("--out", default=None)
    s.add_argument("--reports", type=_csv_list, default=None)
    s.add_argument("--to", type=_csv_list, default=None)
    s.add_argument("--dry-run", default=None, metavar="DIR")
    s.add_argument("--params", default=None)

    s = sub.add_parser("import-bank", help="convert the Anonymous Bank 1999 files into the data contract")
    s.add_argument("src", nargs="+", help="call-level .txt/.csv(.gz) files and/or the 6-minute CSV")
    s.add_argument("--out", required=True)

    s = sub.add_parser("import-hr", help="convert HRDataset_v14.csv into an agents table")
    s.add_argument("src")
    s.add_argument("--out", required=True)
    return p


# --- handlers -------------------------------------------------------------------------------------


def _cmd_sample_data(args: argparse.Namespace) -> int:
    raise UsageError("sample-data is not implemented yet")


def _open(args: argparse.Namespace):
    """The parameters and the data source named by --params/--data (or the parameters' default)."""
    from .load import open_source
    from .params import data_location, load_params

    params = load_params(getattr(args, "params", None))
    return params, open_source(data_location(params, getattr(args, "data", None)), params["timezone"])


def _cmd_validate(args: argparse.Namespace) -> int:
    params, source = _open(args)
    errors, warnings = source.validate()
    for line in errors:
        print(f"error: {line}")
    for line in warnings:
        print(f"warning: {line}")
    tables = ", ".join(source.tables) or "none"
    if errors:
        print(f"{source.location}: {len(errors)} problem(s) to fix, {len(warnings)} warning(s) "
              f"(tables found: {tables})", file=sys.stderr)
        return 1
    print(f"{source.location}: valid ({tables}); {len(warnings)} warning(s)")
    return 0


def _cmd_kpis(args: argparse.Namespace) -> int:
    raise UsageError("kpis is not implemented yet")


def _cmd_staffing(args: argparse.Namespace) -> int:
    raise UsageError("staffing is not implemented yet")


def _cmd_forecast(args: argparse.Namespace) -> int:
    raise UsageError("forecast is not implemented yet")


def _cmd_attrition(args: argparse.Namespace) -> int:
    raise UsageError("attrition is not implemented yet")


def _cmd_run(args: argparse.Namespace) -> int:
    raise UsageError("run is not implemented yet")


def _cmd_email(args: argparse.Namespace) -> int:
    raise UsageError("email is not implemented yet")


def _cmd_import_bank(args: argparse.Namespace) -> int:
    raise UsageError("import-bank is not implemented yet")


def _cmd_import_hr(args: argparse.Namespace) -> int:
    raise UsageError("import-hr is not implemented yet")


# --- entry point ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 failed input or report, 2 usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__

        print(f"reportlib {__version__}")
        return 0
    if not args.command:
        parser.print_help(sys.stderr)
        return 2
    handler = globals()["_cmd_" + args.command.replace("-", "_")]
    try:
        return int(handler(args) or 0)
    except ReportlibError as exc:
        print(f"reportlib {args.command}: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("reportlib: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
