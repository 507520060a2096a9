"""Iceberg layer: the SQL catalog on a local SQLite file that the Tableflow stage writes.

The Iceberg Kafka Connect sink (Java) and pyiceberg share the catalog file; they see
the same tables only under the same catalog name, Java's default ``iceberg``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import pandas as pd

from dataops.config import Settings
from dataops.contract import contract_for
from dataops.errors import ConfigError, DataOpsError, NotOfferedError, ServiceUnavailableError, TableNotFoundError
from dataops.paths import file_uri

if TYPE_CHECKING:  # pyiceberg is imported where it is used (the local profile may never need it)
    from pandas.api.typing import NaTType
    from pyiceberg.catalog import Catalog
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.table import Table

logger = logging.getLogger(__name__)

CATALOG_NAME = "iceberg"
VALID_THROUGH = "kafka.connect.valid-through-ts"
FILE_COLUMNS = ["path", "format", "records", "size_bytes", "snapshot_id", "added_at", "sequence_number"]
SCHEMA_COLUMNS = ["schema_id", "current", "field_id", "name", "type", "required", "doc"]
LAG_COLUMNS = ["topic", "partition", "covered", "end_offset", "lag", "last_commit_at", "valid_through"]


def sql_catalog(layer: IcebergLayer) -> Catalog:
    """The local profile's catalog: pyiceberg's SqlCatalog on the SQLite file the Iceberg sink shares."""
    from pyiceberg.catalog.sql import SqlCatalog

    layer.warehouse.mkdir(parents=True, exist_ok=True)
    return SqlCatalog(CATALOG_NAME, uri=f"sqlite:///{layer.catalog_file}", warehouse=file_uri(layer.warehouse))


TABLEFLOW_SCOPE = "catalog"
# What to do when Tableflow's catalog refuses the key and secret (pyiceberg's and DuckDB's message alike).
CREDENTIAL_HINT = "revisa DATAOPS_TABLEFLOW_API_KEY y DATAOPS_TABLEFLOW_API_SECRET (una API key de Tableflow y su secreto)"


def tableflow_properties(s: Settings) -> dict[str, str]:
    """pyiceberg's REST catalog properties for Tableflow (the secret included: never print them).

    Tableflow's token endpoint is the catalog's own ``/v1/oauth/tokens`` (OAuth2 client credentials,
    the API key as client id, scope ``catalog``); named here, pyiceberg does not fall back on its
    deprecated default.
    """
    s.require("tableflow_endpoint", "tableflow_api_key", "tableflow_api_secret")
    uri = str(s.tableflow_endpoint).rstrip("/")
    return {
        "uri": uri,
        "credential": f"{s.tableflow_api_key.get_secret_value()}:{s.tableflow_api_secret.get_secret_value()}",  # type: ignore[union-attr]
        "oauth2-server-uri": f"{uri}/v1/oauth/tokens",
        "scope": TABLEFLOW_SCOPE,
    }


def tableflow_catalog(layer: IcebergLayer) -> Catalog:
    """The confluent profile's catalog: Tableflow's Iceberg REST catalog, authenticated with a
    Tableflow API key and secret (``DATAOPS_TABLEFLOW_*``).

    Raises:
        ConfigError: The catalog refused the key and secret (one line naming the settings).
        ServiceUnavailableError: Nothing answers at the endpoint.
    """
    import requests
    from pyiceberg.catalog.rest import RestCatalog
    from pyiceberg.exceptions import OAuthError, UnauthorizedError

    s = layer.settings
    props = tableflow_properties(s)
    try:
        return RestCatalog("tableflow", **props)
    except (OAuthError, UnauthorizedError):
        raise ConfigError(f"el catálogo de Tableflow ({props['uri']}) rechazó la clave y el secreto", CREDENTIAL_HINT) from None
    except requests.ConnectionError:
        raise ServiceUnavailableError("el catálogo de Tableflow", props["uri"], "revisa DATAOPS_TABLEFLOW_ENDPOINT") from None


class IcebergLayer:
    """The Iceberg catalog and its tables.

    Args:
        settings: The loaded settings.
        catalog_factory: Builds the catalog (:func:`sql_catalog`, the default, or
            :func:`tableflow_catalog`; :mod:`dataops.profiles` picks it by profile). The
            catalog is built once, on first use, and reused.
    """

    def __init__(self, settings: Settings, catalog_factory: Callable[[IcebergLayer], Catalog] | None = None) -> None:
        self.settings = settings
        self.root = settings.iceberg_dir or settings.paths.iceberg
        self._factory = catalog_factory or sql_catalog
        self._catalog: Catalog | None = None

    @property
    def catalog_file(self) -> Path:
        return self.root / "catalog.db"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    @property
    def local(self) -> bool:
        """True when the catalog is the local SQLite file (not a REST catalog)."""
        return self._factory is sql_catalog

    @property
    def table_name(self) -> str:
        """The exploded rows' table: ``DATAOPS_ICEBERG_TABLE``; unset, in Tableflow's catalog, the one
        Tableflow names after the topic, ``<cluster id>.<topic>``."""
        s = self.settings
        if self._factory is tableflow_catalog and s.confluent_cluster_id and "iceberg_table" not in s.model_fields_set:
            return f"{s.confluent_cluster_id}.{s.topic_exploded}"
        return s.iceberg_table

    def java_catalog_config(self) -> dict[str, str]:
        """The same catalog as seen by the Iceberg sink (``iceberg.catalog.*`` properties)."""
        return {
            "iceberg.catalog": CATALOG_NAME,
            "iceberg.catalog.catalog-impl": "org.apache.iceberg.jdbc.JdbcCatalog",
            "iceberg.catalog.uri": f"jdbc:sqlite:{self.catalog_file}",
            "iceberg.catalog.warehouse": file_uri(self.warehouse),
            "iceberg.catalog.jdbc.schema-version": "V1",
            "iceberg.catalog.io-impl": "org.apache.iceberg.hadoop.HadoopFileIO",
        }

    def catalog(self) -> Catalog:
        """The catalog (built on first use, then reused)."""
        if self._catalog is None:
            self._catalog = self._factory(self)
        return self._catalog

    def ensure_table(self, name: str | None = None) -> str:
        """Create the namespace and the exploded table when missing. Returns what was done."""
        from pyiceberg.exceptions import NamespaceAlreadyExistsError, TableAlreadyExistsError

        name = name or self.table_name
        catalog = self.catalog()
        try:
            catalog.create_namespace(name.split(".")[0])
        except NamespaceAlreadyExistsError:
            pass
        try:
            catalog.create_table(name, schema=contract_for(self.settings).iceberg_schema())
            return "created"
        except TableAlreadyExistsError:
            return "exists"

    def table(self, name: str | None = None) -> Table:
        """Load a table; a missing one is one clear line."""
        from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

        name = name or self.table_name
        if self.local and not self.catalog_file.exists():
            raise TableNotFoundError(f"la tabla {name} aún no existe (no hay catálogo en {self.catalog_file})", "ejecuta `make up`")
        try:
            return self.catalog().load_table(name)
        except (NoSuchTableError, NoSuchNamespaceError):
            raise TableNotFoundError(f"la tabla {name} aún no existe", "ejecuta `make up` (la puesta en marcha del pipeline la crea)") from None

    # ---- inspection -----------------------------------------------------------
    def tables(self) -> pd.DataFrame:
        """Every table of the catalog (in Tableflow: one per materialized topic)."""
        catalog = self.catalog()
        rows = [
            {"namespace": ".".join(ns), "table": ".".join(ident)}
            for ns in catalog.list_namespaces()
            for ident in catalog.list_tables(ns)
        ]
        return pd.DataFrame(rows, columns=["namespace", "table"])

    def snapshots(self, name: str | None = None) -> pd.DataFrame:
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

    def row_count(self, name: str | None = None) -> int:
        snap = self.table(name).current_snapshot()
        return int(snap.summary.additional_properties.get("total-records", 0)) if snap and snap.summary else 0

    def files(self, name: str | None = None) -> pd.DataFrame:
        """The data files of the current snapshot, in commit order (pyiceberg's ``inspect.entries()``).

        Returns:
            Columns ``path, format, records, size_bytes``, ``snapshot_id`` and ``added_at`` (the
            commit that added the file), ``sequence_number``.
        """
        table = self.table(name)
        if table.current_snapshot() is None:
            return pd.DataFrame(columns=FILE_COLUMNS)
        entries = table.inspect.entries()
        data_file = entries.column("data_file").combine_chunks()
        frame = pd.DataFrame(
            {
                "status": entries.column("status").to_pylist(),
                "content": data_file.field("content").to_pylist(),
                "path": data_file.field("file_path").to_pylist(),
                "format": data_file.field("file_format").to_pylist(),
                "records": data_file.field("record_count").to_pylist(),
                "size_bytes": data_file.field("file_size_in_bytes").to_pylist(),
                "snapshot_id": entries.column("snapshot_id").to_pylist(),
                "sequence_number": entries.column("sequence_number").to_pylist(),
            }
        )
        # status 2 = deleted by the current snapshot; content 0 = data (not delete) files
        frame = frame[(frame["status"] != 2) & (frame["content"] == 0)]
        committed = {s.snapshot_id: s.timestamp_ms for s in table.metadata.snapshots}
        frame["added_at"] = pd.to_datetime(frame["snapshot_id"].map(committed), unit="ms", utc=True)
        frame = frame.sort_values(["sequence_number", "path"]).reset_index(drop=True)
        return frame[FILE_COLUMNS]

    def schema_history(self, name: str | None = None) -> pd.DataFrame:
        """Every schema the table has had, one row per schema id and (top-level) field.

        Returns:
            Columns ``schema_id, current`` (the table's schema now), ``field_id, name, type,
            required, doc``.
        """
        metadata = self.table(name).metadata
        rows = [
            {
                "schema_id": schema.schema_id,
                "current": schema.schema_id == metadata.current_schema_id,
                "field_id": field.field_id,
                "name": field.name,
                "type": str(field.field_type),
                "required": field.required,
                "doc": field.doc,
            }
            for schema in sorted(metadata.schemas, key=lambda s: s.schema_id)
            for field in schema.fields
        ]
        return pd.DataFrame(rows, columns=SCHEMA_COLUMNS)

    def last_commit_age_s(self, name: str | None = None) -> float:
        """Seconds since the current snapshot was committed."""
        name = name or self.table_name
        snap = self.table(name).current_snapshot()
        if snap is None:
            raise DataOpsError(f"la tabla {name} aún no tiene ningún commit",
                               f"espera a que el sink de Iceberg ({self.settings.iceberg_connector_name}) haga commit")
        age: float = time.time() - snap.timestamp_ms / 1000
        return max(age, 0.0)

    def materialization_lag(self, name: str | None = None) -> pd.DataFrame:
        """How far the table is behind its source topic (``settings.topic_exploded``), per partition.

        The Iceberg sink commits the input offsets it has taken, with its control events, in
        one Kafka transaction to the consumer group ``connect-<connector>``; the snapshot
        summary only holds control-topic offsets. So ``covered`` is that group's committed
        offset: it may lead the table's last commit by at most one commit interval
        (``iceberg_commit_interval_s``), until the coordinator commits those files.
        ``valid_through`` (``kafka.connect.valid-through-ts`` of the newest sink commit) is the
        time up to which the table is known to be complete.

        The topic is transactional: every transaction adds a marker offset, so an idle topic
        shows ``lag`` <= 1 per partition.

        Returns:
            Columns ``topic, partition, covered, end_offset, lag, last_commit_at, valid_through``.
        """
        from dataops.kafka.layer import KafkaLayer

        if not self.local:
            raise NotOfferedError(
                "el retraso de materialización necesita el consumer group del sink, que Tableflow no expone",
                "mira el estado de Tableflow del topic en la consola de Confluent Cloud",
            )
        table = self.table(name)
        snapshots = sorted(table.metadata.snapshots, key=lambda s: s.timestamp_ms)
        current = table.current_snapshot()
        last_commit = pd.to_datetime(current.timestamp_ms, unit="ms", utc=True) if current else pd.NaT
        valid_through: pd.Timestamp | NaTType = pd.NaT
        for snap in reversed(snapshots):
            props = snap.summary.additional_properties if snap.summary else {}
            if VALID_THROUGH in props:
                valid_through = pd.to_datetime(props[VALID_THROUGH], utc=True)
                break

        topic = self.settings.topic_exploded
        group = self.settings.iceberg_sink_group
        kafka = KafkaLayer(self.settings)
        try:
            groups = kafka.consumer_groups(group)
        except ServiceUnavailableError:
            raise
        except DataOpsError:
            raise DataOpsError(f"el sink de Iceberg aún no ha confirmado ningún offset (no existe el consumer group {group})",
                               "revisa el conector con `p.connect.connectors()` (`make up` lo despliega)") from None
        mine = groups[groups["topic"] == topic]
        covered = {int(part): int(offset) for part, offset in zip(mine["partition"], mine["committed"])}
        ends = kafka.end_offsets(topic)  # read after the group: lag is never negative
        rows = [
            {
                "topic": topic,
                "partition": part,
                "covered": covered.get(part, 0),
                "end_offset": end,
                "lag": max(end - covered.get(part, 0), 0),
                "last_commit_at": last_commit,
                "valid_through": valid_through,
            }
            for part, end in sorted(ends.items())
        ]
        return pd.DataFrame(rows, columns=LAG_COLUMNS)

    def read(self, name: str | None = None, columns: tuple[str, ...] | None = None,
             row_filter: BooleanExpression | str | None = None) -> pd.DataFrame:  # fmt: skip
        """The table (or some columns) as a DataFrame, through pyiceberg."""
        kwargs: dict[str, Any] = {}
        if columns:
            kwargs["selected_fields"] = columns
        if row_filter is not None:
            kwargs["row_filter"] = row_filter
        return self.table(name).scan(**kwargs).to_pandas()


if TYPE_CHECKING:  # mypy checks the class against the protocol the Pipeline returns it as
    from dataops.iceberg.protocol import Iceberg

    _CHECKED: type[Iceberg] = IcebergLayer
