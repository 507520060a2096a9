"""Iceberg layer: the SQL catalog on a local SQLite file that the Tableflow stage writes.

The Iceberg Kafka Connect sink (Java) and pyiceberg share the catalog file; they see
the same tables only under the same catalog name, Java's default ``iceberg``.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pandas as pd

from dataops.config import Settings
from dataops.errors import DataOpsError

logger = logging.getLogger(__name__)

CATALOG_NAME = "iceberg"
NAMESPACE = "crypto"
TABLE = f"{NAMESPACE}.crypto_prices_exploded"


def exploded_schema():
    """Schema of the exploded rows (one per coin per poll), as the Flink job writes them."""
    from pyiceberg.schema import Schema
    from pyiceberg.types import DoubleType, LongType, NestedField, StringType, TimestamptzType

    return Schema(
        NestedField(1, "coin_id", StringType(), required=False),
        NestedField(2, "usd", DoubleType(), required=False),
        NestedField(3, "usd_market_cap", DoubleType(), required=False),
        NestedField(4, "usd_24h_vol", DoubleType(), required=False),
        NestedField(5, "usd_24h_change", DoubleType(), required=False),
        NestedField(6, "last_updated_at", LongType(), required=False),
        NestedField(7, "event_time", TimestamptzType(), required=False),
        NestedField(8, "processed_at", TimestamptzType(), required=False),
    )


class IcebergLayer:
    """The local Iceberg catalog and its tables.

    Args:
        settings: The loaded settings.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = Path(settings.state_dir) / "data" / "iceberg"

    @property
    def catalog_file(self) -> Path:
        return self.root / "catalog.db"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    def java_catalog_config(self) -> dict[str, str]:
        """The same catalog as seen by the Iceberg sink (``iceberg.catalog.*`` properties)."""
        return {
            "iceberg.catalog": CATALOG_NAME,
            "iceberg.catalog.catalog-impl": "org.apache.iceberg.jdbc.JdbcCatalog",
            "iceberg.catalog.uri": f"jdbc:sqlite:{self.catalog_file}",
            "iceberg.catalog.warehouse": self.warehouse.as_uri(),
            "iceberg.catalog.jdbc.schema-version": "V1",
            "iceberg.catalog.io-impl": "org.apache.iceberg.hadoop.HadoopFileIO",
        }

    def catalog(self):
        """pyiceberg's SqlCatalog on the shared SQLite file."""
        from pyiceberg.catalog.sql import SqlCatalog

        self.warehouse.mkdir(parents=True, exist_ok=True)
        return SqlCatalog(CATALOG_NAME, uri=f"sqlite:///{self.catalog_file}", warehouse=self.warehouse.as_uri())

    def ensure_table(self, name: str = TABLE) -> str:
        """Create the namespace and the exploded table when missing. Returns what was done."""
        from pyiceberg.exceptions import NamespaceAlreadyExistsError, TableAlreadyExistsError

        catalog = self.catalog()
        try:
            catalog.create_namespace(name.split(".")[0])
        except NamespaceAlreadyExistsError:
            pass
        try:
            catalog.create_table(name, schema=exploded_schema())
            return "created"
        except TableAlreadyExistsError:
            return "exists"

    def table(self, name: str = TABLE):
        """Load a table; a missing one is one clear line."""
        from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

        if not self.catalog_file.exists():
            raise DataOpsError(f"table {name} does not exist yet (no catalog at {self.catalog_file})", "run `make up`")
        try:
            return self.catalog().load_table(name)
        except (NoSuchTableError, NoSuchNamespaceError):
            raise DataOpsError(f"table {name} does not exist yet", "run `make up` (pipeline setup creates it)") from None

    # ---- inspection -----------------------------------------------------------
    def snapshots(self, name: str = TABLE) -> pd.DataFrame:
        """One row per snapshot: id, commit time, operation, records added, total records, commit id."""
        rows = []
        for snap in self.table(name).metadata.snapshots:
            summary = snap.summary.additional_properties if snap.summary else {}
            rows.append(
                {
                    "snapshot_id": snap.snapshot_id,
                    "committed_at": pd.to_datetime(snap.timestamp_ms, unit="ms", utc=True),
                    "operation": snap.summary.operation.value if snap.summary else None,
                    "added_records": int(summary.get("added-records", 0)),
                    "total_records": int(summary.get("total-records", 0)),
                    "commit_id": summary.get("kafka.connect.commit-id"),
                }
            )
        return pd.DataFrame(rows, columns=["snapshot_id", "committed_at", "operation", "added_records", "total_records", "commit_id"])

    def row_count(self, name: str = TABLE) -> int:
        snap = self.table(name).current_snapshot()
        return int(snap.summary.additional_properties.get("total-records", 0)) if snap and snap.summary else 0

    def read(self, name: str = TABLE, columns: tuple[str, ...] | None = None, row_filter: Any = None) -> pd.DataFrame:
        """The table (or some columns) as a DataFrame, through pyiceberg."""
        kwargs: dict[str, Any] = {}
        if columns:
            kwargs["selected_fields"] = columns
        if row_filter is not None:
            kwargs["row_filter"] = row_filter
        return self.table(name).scan(**kwargs).to_pandas()

    def wait_rows(self, count: int, timeout: float = 120.0, name: str = TABLE) -> int:
        """Wait until the table holds at least ``count`` rows; returns the count reached."""
        deadline = time.monotonic() + timeout
        n = 0
        while time.monotonic() < deadline:
            n = self.row_count(name)
            if n >= count:
                return n
            time.sleep(0.5)
        return n


def summary_offsets(summary: dict[str, str]) -> dict[str, Any]:
    """The Kafka offsets recorded in a snapshot summary by the Iceberg sink."""
    return {k: json.loads(v) for k, v in summary.items() if k.startswith("kafka.connect.offsets.")}
