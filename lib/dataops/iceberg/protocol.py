"""What a notebook may call on the Iceberg layer (``p.iceberg``): the catalog, the table's
snapshots, files, schemas and rows; creating the table is the one call that changes something
(table maintenance is :mod:`dataops.iceberg.maintenance`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import pandas as pd

from dataops.protocols import action

if TYPE_CHECKING:  # pyiceberg is imported by the layer when used, not here
    from pyiceberg.catalog import Catalog
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.table import Table

__all__ = ["Iceberg"]


class Iceberg(Protocol):
    """The Iceberg catalog and its tables (Tableflow's REST catalog in the confluent profile).

    ``name`` is ``namespace.table``; None means the exploded rows' table (``iceberg_table``).
    """

    @property
    def local(self) -> bool:
        """True when the catalog is the local SQLite file (not a REST catalog)."""
        ...

    def catalog(self) -> Catalog:
        """The pyiceberg catalog (built on first use, then reused)."""
        ...

    def table(self, name: str | None = None) -> Table:
        """The pyiceberg table; a missing one is one clear line."""
        ...

    def tables(self) -> pd.DataFrame:
        """Every table of the catalog."""
        ...

    def snapshots(self, name: str | None = None) -> pd.DataFrame:
        """One row per snapshot: id, commit time, operation, records added, total records, commit id."""
        ...

    def row_count(self, name: str | None = None) -> int:
        """Total records of the current snapshot."""
        ...

    def files(self, name: str | None = None) -> pd.DataFrame:
        """The data files of the current snapshot, in commit order."""
        ...

    def schema_history(self, name: str | None = None) -> pd.DataFrame:
        """Every schema the table has had, one row per schema id and (top-level) field."""
        ...

    def last_commit_age_s(self, name: str | None = None) -> float:
        """Seconds since the current snapshot was committed."""
        ...

    def materialization_lag(self, name: str | None = None) -> pd.DataFrame:
        """How far the table is behind its source topic, per partition (local catalog only)."""
        ...

    def read(self, name: str | None = None, columns: tuple[str, ...] | None = None,
             row_filter: BooleanExpression | str | None = None) -> pd.DataFrame:  # fmt: skip
        """The table (or some columns, or the rows matching ``row_filter``) as a DataFrame."""
        ...

    def java_catalog_config(self) -> dict[str, str]:
        """The same catalog as seen by the Iceberg sink (``iceberg.catalog.*`` properties)."""
        ...

    @action
    def ensure_table(self, name: str | None = None) -> str:
        """Create the namespace and the exploded table when missing; what was done."""
        ...
