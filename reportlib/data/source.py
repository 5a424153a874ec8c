"""The seam between the data layer and everything above it: the `DataSource` protocol.

Every source implements it in full — a data folder and a DuckDB database (`load.Source`), one
client's view of either (`load.ClientSource`), and the warehouse sources to come — so metrics,
planning and reports take a `DataSource` and never probe for attributes.

A source serves the contract's tables (docs/data-contract.md) in two shapes: `table(name)`, an ibis
expression evaluated by the engine (for contact-level aggregation, where the data lives), and
`frame(name)`, a typed pandas DataFrame (for the small tables: agents, clients, activity).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd


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
