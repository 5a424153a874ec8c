"""Exceptions that reach the user as a clear message and an exit status, never a traceback."""

from __future__ import annotations


class ReportlibError(Exception):
    """An expected failure: bad input, a failed report. The CLI prints the message and exits 1."""

    exit_status = 1

    def _render_traceback_(self) -> list[str]:
        """How IPython shows it in JupyterLab and in a kept notebook: the one line the command line prints, not a
        traceback through the library (a month typed in Lab's parameters cell showed thirty lines of code)."""
        return [f"{type(self).__name__}: {self}"]


class UsageError(ReportlibError):
    """The command line or a parameter is wrong. The CLI exits 2."""

    exit_status = 2


class DataError(ReportlibError):
    """Input data broke the contract; `problems` holds one line per problem (file, row, column)."""

    def __init__(self, problems: list[str], header: str = "the data does not meet the contract"):
        self.problems = list(problems)
        super().__init__(header + ":\n" + "\n".join(f"  {p}" for p in self.problems))


def source_breaks_contract(location: str, problems: list[str]) -> DataError:
    """The error of a data source that breaks the contract: one line per problem under a header naming it."""
    return DataError(problems, f"the data source {location} does not meet the contract (see `reportlib validate`)")


class MissingTableError(ReportlibError):
    """A command needs a table that the data source does not have."""
