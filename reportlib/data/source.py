"""The seam between the data layer and everything above it: the `DataSource` protocol.

Every source implements it in full — a data folder and a DuckDB database (`load.Source`), PostgreSQL
and Spark (`warehouse.WarehouseSource`), and one client's view of any of them (`ClientView`, here:
one declaration of what a client's report may see) — so metrics, planning and reports take a
`DataSource` and never probe for attributes.

A source serves the contract's tables (docs/data-contract.md) in two shapes: `table(name)`, an ibis
expression evaluated by the engine (for contact-level aggregation, where the data lives), and
`frame(name)`, a typed pandas DataFrame (for the small tables: agents, clients, activity).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from reportlib.core.errors import MissingTableError, ReportlibError
from reportlib.core.safety import printable

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd


@dataclass
class Problem:
    """One kind of problem in one column of a file or database table, and where it occurs: the file's rows
    (numbered as a spreadsheet shows them, the header being row 1) or, in a database, which has no row
    numbers, the rows' keys ("contact_id=K1"); `count` rows in all, the first few shown with their values."""

    file: str  # the file's name, or the table as "contacts (db table public.contacts)"
    column: str | None
    expected: str
    rows: list[int] = field(default_factory=list)
    values: list[str | None] = field(default_factory=list)
    count: int = 0
    severity: str = "error"  # or "warning"
    keys: list[str] = field(default_factory=list)  # in a database, instead of rows

    def line(self) -> str:
        """One line for the user: file (or table), rows or keys, column, what was expected, what was found."""
        col = f", column {self.column}" if self.column else ""
        if self.count == 0:
            return f"{self.file}{col}: {self.expected}"
        spots = self.keys or [str(r) for r in self.rows]
        if self.count == 1 and spots:
            spot = spots[0] if self.keys else f"row {spots[0]}"
            got = f', got "{self.values[0]}"' if self.values and self.values[0] is not None else ""
            return f"{self.file} {spot}{col}: expected {self.expected}{got}"
        shown = ", ".join(f'{k} ("{v}")' if v is not None else k for k, v in zip(spots, self.values))
        first = "keys" if self.keys else "rows"
        return f"{self.file}{col}: expected {self.expected} in {self.count:,} rows (first {first}: {shown})"


def file_rows(ids: Iterable[Any]) -> dict[str, int]:
    """Each id of a file's rows, in the file's order, -> its spreadsheet row (the header is row 1)."""
    return {str(v): i + 2 for i, v in enumerate(ids)}


def located(
    ids: Sequence[Any], column: str, rows: Mapping[str, int] | None, show: Callable[[Any], Any] = printable
) -> dict[str, Any]:
    """Where a Problem's rows are, as its keyword arguments: their spreadsheet rows when `rows` (`file_rows`, for a
    file) holds every one of `ids`, else their keys ("client_id=C2"; a database has no row numbers)."""
    if rows is not None and all(i in rows for i in ids):
        return {"rows": [rows[i] for i in ids]}
    return {"keys": [f"{column}={show(i)}" for i in ids]}


@runtime_checkable
class DataSource(Protocol):
    """The contract's tables from one place, checked on first use.

    Attributes: `location` (what the user gave: a folder or a URL), `tz` (IANA time zone that
    naive timestamps are read in), `fingerprint` (changes whenever the data does), `warnings`
    (data-quality notes collected while loading), and for a client's view `parent` (the whole
    source) and `client_id` — both None on a whole source.
    """

    @property
    def location(self) -> str: ...

    @property
    def tz(self) -> str: ...

    @property
    def fingerprint(self) -> str: ...

    @property
    def warnings(self) -> list[str]: ...

    @property
    def parent(self) -> DataSource | None: ...

    @property
    def client_id(self) -> str | None: ...

    @property
    def tables(self) -> list[str]:
        """Names of the contract tables this source holds."""
        ...

    def has(self, name: str) -> bool:
        """Whether the source holds table `name`."""
        ...

    def require(self, *names: str) -> None:
        """Raise MissingTableError naming each of `names` that the source lacks."""
        ...

    def file_name(self, name: str) -> str:
        """Where table `name` comes from (a file name or a database table), for messages."""
        ...

    def table(self, name: str) -> ir.Table:
        """Table `name` as an ibis expression in the engine (DataError if it breaks the contract)."""
        ...

    def frame(self, name: str) -> pd.DataFrame:
        """Table `name` as a typed pandas DataFrame, the caller's own copy."""
        ...

    def memo(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """`compute()`, remembered under `key` while the source is open (a copy each time)."""
        ...

    def for_client(self, client_id: str) -> DataSource:
        """This source narrowed to one client's data."""
        ...


class WholeSource(DataSource, Protocol):
    """A whole source (a folder, a database), which can check itself against the contract."""

    def validate(self) -> tuple[list[str], list[str]]:
        """Every table checked: (errors, warnings), one line each."""
        ...


def require_tables(source: DataSource, names: tuple[str, ...], see: str = "docs/data-contract.md") -> None:
    """Raise MissingTableError naming each of `names` that `source` lacks, in one message (`see`: where the
    tables are described)."""
    missing = [n for n in names if not source.has(n)]
    if missing:
        raise MissingTableError(
            f"the data source {source.location} has no {', '.join(missing)} table"
            f"{'s' if len(missing) > 1 else ''}; this needs it (see {see})"
        )


# the contract tables a client's view narrows to that client's rows (by client_id); the others pass through
CLIENT_TABLES = ("contacts", "intervals")


class ClientView:
    """One client's data only: contacts and intervals filtered by client_id in the engine, the clients
    table to that client's row; other tables pass through (the roster and activity are needed for nothing
    client-specific and are never shown in a client review).

    Works over any DataSource (a folder, a DuckDB file, PostgreSQL, Spark). Every reportlib function
    that takes a source works on it. `parent` and `client_id` let the report helpers compute a figure
    once for every client on the parent (`DataSource.memo`) and keep this client's rows, which equal the
    figures computed over the client's data alone.
    """

    def __init__(self, source: DataSource, client_id: str):
        self.parent: DataSource = source
        self.client_id: str = client_id
        self.location = source.location
        self.tz = source.tz
        self.warnings: list[str] = []
        self.fingerprint = source.fingerprint
        self._memo: dict[tuple, Any] = {}

    @property
    def tables(self) -> list[str]:
        """Names of the contract tables the whole source holds."""
        return self.parent.tables

    def has(self, name: str) -> bool:
        """Whether the source holds table `name`."""
        return self.parent.has(name)

    def require(self, *names: str) -> None:
        """Raise MissingTableError naming each of `names` that the source lacks."""
        self.parent.require(*names)

    def file_name(self, name: str) -> str:
        """The file (or database table) a table comes from, for messages."""
        return self.parent.file_name(name)

    def memo(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """`compute()` remembered for this client's view only (its results differ from the parent's)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return copy.deepcopy(self._memo[key])

    def for_client(self, client_id: str) -> ClientView:
        """A view of another client is refused: a client's view never reaches another client's rows."""
        if str(client_id) != self.client_id:
            raise ReportlibError(f"a view of client {self.client_id!r} cannot be narrowed to {client_id!r}")
        return self

    def table(self, name: str) -> ir.Table:
        """Table `name` in the engine, this client's rows only for contacts and intervals."""
        t = self.parent.table(name)
        if name in CLIENT_TABLES:
            t = t.filter(t.client_id == self.client_id)
        return t

    def frame(self, name: str) -> pd.DataFrame:
        """Table `name` as pandas; the clients table holds this client's row only."""
        f = self.parent.frame(name)
        if name == "clients":
            f = f[f["client_id"].astype(str) == self.client_id].reset_index(drop=True)
        return f
